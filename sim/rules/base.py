"""What every decision rule shares: its inputs, its decision, its declaration and the loss function.

Every rule has the same call signature: ``rule(inputs, settings) -> Decision``.
Inputs are batched over items (rows) and actors (columns), so a whole summit's
agenda is decided with a handful of array operations. A rule sees only
positions, saliences, capabilities, the status quo and the proposal; it knows
nothing about the SCO model, so it runs as well on a plain actor table
(:mod:`sim.bargain`).

Utility is spatial and linear (the convention of the DEU studies, Thomson et al.
2006): an actor with ideal position ``p`` and salience ``s`` loses
``s * (|x - p| - |q - p|) / 100`` when the status quo ``q`` is replaced by ``x``.
An actor *objects* to ``x`` when that loss exceeds its tolerance.

An item may also carry a *participation cost* per actor (``BargainInput.participation``):
what taking part costs the actor whatever the text's level (a sovereignty cost, a
rival's gain). Redrafting towards the status quo does not reduce it; standing aside
(``sco_practice``, on project items) removes it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

try:  # numpy 2
    from numpy._core.multiarray import count_nonzero as _c_count_nonzero
except ImportError:  # numpy 1.26
    from numpy.core.multiarray import count_nonzero as _c_count_nonzero  # type: ignore[no-redef]

# The number of true (non-zero) elements of an array, counted in C: without the Python
# wrapper of np.count_nonzero, and a few times cheaper than np.any or a ufunc reduction on
# the tiny arrays of one year (its truth value is the array's any()).
count_true: Any = _c_count_nonzero

OUTCOMES: tuple[str, ...] = ("adopted", "adopted_opt_out", "diluted", "blocked", "deferred")
ADOPTED, OPT_OUT, DILUTED, BLOCKED, DEFERRED = range(5)


@dataclass(frozen=True)
class RuleSettings:
    """Procedure parameters shared by the rules (scenario ``[rules]`` table)."""

    max_rounds: int = 6
    dilution_step: float = 0.25
    diluted_below: float = 0.5
    min_increment: float = 2.0
    deferral_margin: float = 1.5
    opt_out_allowed: bool = False
    opt_out_ceiling: float = 2.0
    opt_out_min_share: float = 0.5
    majority_threshold: float = 2.0 / 3.0
    majority_weighted: bool = False
    compromise_capability_exponent: float = 1.0
    compromise_salience_exponent: float = 1.0
    expected_utility_rounds: int = 10


@dataclass(frozen=True)
class BargainInput:
    """One or more items to decide, as arrays over items (rows) and actors (columns).

    Attributes:
        positions: (items, actors) ideal ambition on 0-100.
        saliences: (items, actors) in [0, 1].
        capabilities: (actors,) non-negative.
        status_quo: (items,) ambition of the status quo.
        proposal: (items,) ambition tabled.
        tolerance: (items, actors) or (actors,): loss an actor accepts without objecting.
        voters: (items, actors) or (actors,) bool: who takes part in the decision (members).
        dilutable: (items,) bool: may the text be watered down in rounds?
        participation: (items, actors) cost of taking part in any text, >= 0 (None: none).
        project: (items,) bool: project items, from which members may stand aside under
            ``sco_practice`` (None: every item is a common item).

    """

    positions: np.ndarray
    saliences: np.ndarray
    capabilities: np.ndarray
    status_quo: np.ndarray
    proposal: np.ndarray
    tolerance: np.ndarray
    voters: np.ndarray | None = None
    dilutable: np.ndarray | None = None
    participation: np.ndarray | None = None
    project: np.ndarray | None = None

    @property
    def shape(self) -> tuple[int, int]:
        """Return (items, actors)."""
        return self.positions.shape  # type: ignore[return-value]

    def voter_mask(self) -> np.ndarray:
        """Return the voters mask, (items, actors) or (1, actors); all actors when none was given."""
        if self.voters is None:
            return np.ones((1, self.shape[1]), dtype=bool)
        voters = np.asarray(self.voters, dtype=bool)
        return voters if voters.ndim == 2 else voters[None, :]

    def dilutable_mask(self) -> np.ndarray:
        """Return which items may be diluted (all when not given)."""
        if self.dilutable is None:
            return np.ones(self.shape[0], dtype=bool)
        return np.asarray(self.dilutable, dtype=bool)


@dataclass
class Decision:
    """What a rule decided for each item.

    Attributes:
        outcome: (items,) codes into ``OUTCOMES``.
        adopted: (items,) adopted ambition, NaN when nothing was adopted.
        prediction: (items,) the rule's point forecast of the outcome
            (the adopted ambition, or the status quo when nothing passes).
        objectors: (items, actors) bool: objected at the final text.
        opt_outs: (items, actors) bool: stood aside and are named as not joining.
        rounds: (items,) bargaining rounds used (1 = the proposal as tabled).
        texts: (items, rounds) the texts tabled round by round (None for rules without rounds).
        text_objecting: (items, rounds, actors) bool: who objected to each text.
        text_aside: (items, rounds, actors) bool: who would stand aside from each text (or None).
        loss: (items, rounds, actors) each actor's loss at each text, participation cost included.

    """

    outcome: np.ndarray
    adopted: np.ndarray
    prediction: np.ndarray
    objectors: np.ndarray
    opt_outs: np.ndarray
    rounds: np.ndarray
    texts: np.ndarray | None = None
    text_objecting: np.ndarray | None = None
    text_aside: np.ndarray | None = None
    loss: np.ndarray | None = None

    def dissent(self) -> np.ndarray:
        """Return (items, actors) bool: who objected to any text tabled, or stood aside from the last."""
        if self.text_objecting is None:
            return self.objectors | self.opt_outs
        tabled = np.arange(self.text_objecting.shape[1])[None, :] < self.rounds[:, None]
        return (self.text_objecting & tabled[:, :, None]).any(axis=1) | self.opt_outs

    def outcome_names(self) -> list[str]:
        """Return the outcome classes as strings."""
        return [OUTCOMES[int(code)] for code in self.outcome]


RuleFunction = Callable[[BargainInput, RuleSettings], Decision]


@dataclass(frozen=True)
class Rule:
    """A registered decision rule: a name, its source, and one function."""

    name: str
    source: str
    function: RuleFunction = field(repr=False)

    @property
    def doc(self) -> str:
        """Return the first paragraph of the rule's docstring."""
        return (self.function.__doc__ or "").strip().split("\n\n")[0]

    def __call__(self, inputs: BargainInput, settings: RuleSettings | None = None) -> Decision:
        """Decide the items in ``inputs``."""
        return self.function(inputs, settings or RuleSettings())


def rule(name: str, source: str) -> Callable[[RuleFunction], Rule]:
    """Declare a function as the decision rule ``name``; ``source`` is the citation shown to users.

    The declared rule is not yet known by name: :mod:`sim.rules.registry` lists the rules
    that ``get_rule`` finds, and :func:`sim.rules.registry.register` adds one of your own.
    """

    def wrap(function: RuleFunction) -> Rule:
        return Rule(name=name, source=source, function=function)

    return wrap


# Shared machinery -------------------------------------------------------------


def losses(positions: np.ndarray, saliences: np.ndarray, status_quo: np.ndarray, x: np.ndarray) -> np.ndarray:
    """Return each actor's salience-weighted loss from moving ``status_quo`` to ``x``.

    Args:
        positions: (items, actors).
        saliences: (items, actors).
        status_quo: (items,).
        x: (items,) or (items, rounds) candidate ambitions.

    Returns:
        (items, actors) or (items, rounds, actors), in units of salience x 100 points.

    """
    if x.ndim == 1:
        return saliences * (np.abs(x[:, None] - positions) - np.abs(status_quo[:, None] - positions)) / 100.0
    sq_distance = np.abs(status_quo[:, None] - positions)[:, None, :]
    loss = np.abs(x[:, :, None] - positions[:, None, :])
    # saliences * (distance - sq_distance) / 100, computed in place
    loss -= sq_distance
    loss *= saliences[:, None, :]
    loss /= 100.0
    return loss


def tolerance_of(inputs: BargainInput) -> np.ndarray:
    """Return tolerance as (items, actors) or (1, actors), broadcastable over items."""
    tolerance = np.asarray(inputs.tolerance, dtype=float)
    return tolerance if tolerance.ndim == 2 else tolerance[None, :]
