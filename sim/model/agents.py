"""The state agent.

A :class:`StateAgent` is a Mesa agent for one country. Its changing attributes
(status, capability, alignment, threat, trust) live in the model's arrays, one
row per state in canonical ISO3 order, so that the yearly cycle can work on all
states at once with numpy; the agent is the named view onto its row and owns the
decisions that are its own (whether to apply for membership).
"""

from __future__ import annotations

import mesa

from sim.model import membership
from sim.model.state import ModelState
from sim.scenario import INTERESTS, STATUSES


class StateAgent(mesa.Agent):
    """One state in the scenario (member, observer, partner, applicant or outsider).

    Args:
        model: The model the state belongs to.
        iso3: ISO3 code (e.g. ``"KAZ"``).
        index: The state's row in the model's arrays.
        name: Display name.

    """

    model: ModelState

    def __init__(self, model: ModelState, iso3: str, index: int, name: str) -> None:
        super().__init__(model)
        self.iso3 = iso3
        self.index = index
        self.name = name

    def __repr__(self) -> str:
        return f"StateAgent({self.iso3}, {self.status})"

    # Views onto the model's arrays -------------------------------------------
    @property
    def status(self) -> str:
        """Current status (member, observer, ...)."""
        return STATUSES[int(self.model.status[self.index])]

    @property
    def is_member(self) -> bool:
        """Whether the state takes part in decisions this year."""
        return self.status == "member"

    @property
    def capability(self) -> float:
        """Current capability (share of world material power, COW CINC)."""
        return float(self.model.capability[self.index])

    @property
    def weights(self) -> dict[str, float]:
        """Interest weights over security, economy, balancing and regime."""
        return dict(zip(INTERESTS, self.model.weights[self.index].tolist(), strict=True))

    @property
    def alignment(self) -> dict[str, float]:
        """Alignment with each pole, in [0, 1]."""
        return dict(zip(self.model.poles, self.model.alignment[self.index].tolist(), strict=True))

    @property
    def threat(self) -> dict[str, float]:
        """Threat perceived from each pole, in [0, 1]."""
        return dict(zip(self.model.poles, self.model.threat[self.index].tolist(), strict=True))

    @property
    def balancing_index(self) -> float:
        """Room to balance between the first two poles (see :mod:`sim.balancing`)."""
        return float(self.model.balancing_indices()[self.index])

    # Decisions of the state's own ------------------------------------------
    def wants_to_apply(self) -> bool:
        """Decide whether to apply for membership this year (endogenous mode).

        Only observers and dialogue partners whose scenario entry says they seek
        membership apply, each year with ``membership.apply_probability`` (the draw
        comes from the model's seeded generator), and only when they expect a gain:
        when the members would, on average, value their admission positively
        (:func:`sim.model.membership.expected_welcome`).
        """
        if self.status not in ("observer", "partner") or not self.model.seeks_membership[self.index]:
            return False
        chance = self.model.sco_scenario.membership.apply_probability
        if not self.model.rng.random() < chance:
            return False
        return membership.expected_welcome(self.model, self.index) > 0.0
