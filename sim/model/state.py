"""What the model's parts read and change of the model: the :class:`ModelState` protocol.

The agenda, balancing, membership, the state agents and the recorder work on the
model's arrays. They take a :class:`ModelState`, a structural type that
:class:`sim.model.model.SCOModel` satisfies, rather than the model class itself: so
the parts never import the model, which assembles them (the import-linter contract
"The model's parts do not import the model"), and a test may hand them any object
with these attributes.

Arrays over states have one row per state in the scenario's canonical order; arrays
over areas one entry per issue area; arrays over poles one entry per pole.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol

import numpy as np

from sim.model.items import Agenda, Item
from sim.rules import Rule, RuleSettings
from sim.scenario import Parameters, Rules, Scenario


class Applicant(Protocol):
    """A state agent as membership sees it: its row, and its own decision to apply."""

    index: int

    def wants_to_apply(self) -> bool:
        """Decide whether to apply for membership this year."""
        ...


class ModelState(Protocol):
    """The attributes and methods of the model that its parts use."""

    # The scenario and its settings.
    sco_scenario: Scenario
    params: Parameters
    rules: Rules
    rule: Rule
    rule_settings: RuleSettings
    rng: np.random.Generator
    start_year: int
    end_year: int
    # States (rows) and poles (columns).
    codes: list[str]
    index: dict[str, int]
    poles: list[str]
    pole_index: np.ndarray
    pole_list: list[int]
    pole_of_list: list[int]
    focal: int
    weights: np.ndarray
    scaled_weights: np.ndarray
    regime_stake: np.ndarray
    seeks_membership: np.ndarray
    capability: np.ndarray
    status: np.ndarray
    status_since: np.ndarray
    member_weight: np.ndarray
    alignment: np.ndarray
    baseline_alignment: np.ndarray
    threat: np.ndarray
    ties: np.ndarray
    rivalry: np.ndarray
    claims: np.ndarray
    trust: np.ndarray
    summit_tolerance: np.ndarray
    influence_gain: np.ndarray
    moratorium: bool
    # Issue areas.
    areas: list[str]
    area_index: dict[str, int]
    area_titles: list[str]
    relevance: np.ndarray
    base_salience: np.ndarray
    depth: np.ndarray
    shock: np.ndarray
    benefit: np.ndarray
    project: np.ndarray
    parent_weights: np.ndarray
    areas_without_parents: list[int]
    areas_off_agenda: list[int]
    favour_list: list[int]
    favours_or_first: np.ndarray
    has_favour: np.ndarray
    stakes: np.ndarray
    base_desire: np.ndarray
    base_desire_by_area: np.ndarray
    stakes_by_area: np.ndarray
    utility_share: np.ndarray
    # Items between years.
    no_items: Agenda
    carried: list[Item]
    blocked_pool: list[Item]
    item_counter: int

    @property
    def members(self) -> np.ndarray:
        """Boolean mask of current members."""
        ...

    @property
    def agents(self) -> Iterable[Applicant]:
        """The state agents."""
        ...

    def update_members(self) -> None:
        """Derive the member mask and what depends on it from the statuses."""
        ...

    def tolerance(self) -> np.ndarray:
        """Loss each state accepts without objecting."""
        ...

    def balancing_indices(self) -> np.ndarray:
        """Balancing index of every state this year."""
        ...
