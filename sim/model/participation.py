"""The cost of taking part in an item, which redrafting does not remove (step 4).

A member's loss at a text has two parts. The *policy loss* grows with the distance
between the text and the member's ideal position, and redrafting towards the status
quo reduces it. The *participation cost* comes with any text at all, whatever its
level, and only standing aside (on a project item, ``sco_practice``) removes it. It
has three parts, each scaled by the member's salience of the item:

* **sovereignty**: the member has an active territorial claim against the item's
  beneficiary state (or, on a project item, against its initiator, whose project
  crosses or borders the disputed land): ``claim_cost x claim salience (0-1)``;
  and a text that touches territorial integrity (``sovereignty = true``, e.g.
  endorsing a secession) costs every member ``claim_cost`` times its stake in
  territorial integrity, its security weight plus its regime weight scaled by
  autocracy (thesis ch. IV.1: separatism is one of the 'three evils');
* **rivalry**: ``rivalry_cost x rivalry`` towards the item's beneficiary state;
* **relative gains**: a member that balances resists gains of a pole it fears
  when that pole is the stronger one: ``gains_cost x balancing weight x threat
  from the pole x (n_poles x the pole's capability share among the poles - 1)``,
  positive only for the stronger pole (Walt 1987; Grieco 1988 on relative gains;
  thesis ch. IV.1: China's presence 'can offset or neutralize Russia's presence').

The initiator bears none of these. Claims come from ICOW (``[data] claims``) and
from a scenario's ``[[claims]]`` with their written sources.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from sim.model.state import ModelState
from sim.rules.base import count_true

# ufunc reductions without the Python wrappers of ndarray.sum/.any (typed Any: numpy's stubs
# for ufunc.reduce differ between versions)
_sum: Any = np.add.reduce
_any: Any = np.logical_or.reduce


PARTS: tuple[str, ...] = ("sovereignty", "rivalry", "relative_gains")


def pole_strength(model: ModelState) -> np.ndarray:
    """Return how much stronger than an even split each pole is: n x capability share - 1, >= 0."""
    return np.array(_strength(model), dtype=float)


def _strength(model: ModelState) -> list[float]:
    """:func:`pole_strength` as a list (a handful of poles: plain floats cost less than array calls)."""
    cap: list[float] = model.capability.take(model.pole_index).tolist()
    n = len(cap)
    if n >= 8:  # (numpy's pairwise summation)
        total = float(_sum(np.array(cap, dtype=float)))
    else:  # numpy sums fewer than 8 numbers from left to right: so do we
        total = 0.0
        for k, value in enumerate(cap):
            total = value if k == 0 else total + value
    if total <= 0 or n < 2:
        return [0.0] * n
    strength = []
    for value in cap:
        above = n * value / total - 1.0
        strength.append(above if above > 0.0 else 0.0)
    return strength


def costs(
    model: ModelState,
    initiators: list[int],
    beneficiary_states: list[int],
    beneficiary_poles: list[int],
    sovereignty: list[bool],
    project: np.ndarray,
    saliences: np.ndarray,
) -> np.ndarray:
    """Return each state's participation cost of each item, by part (items x states x 3).

    The parts are computed one after the other for all the items (parts x items x states,
    returned as a transposed view: the values of items x states x 3).
    """
    p = model.params
    n_items, n_states = saliences.shape
    if not model.sco_scenario.mechanisms.participation_cost or n_items == 0:
        return np.zeros((n_items, n_states, len(PARTS)))
    layers = np.zeros((len(PARTS), n_items, n_states))
    # Claims and rivalries are symmetric (states x states): row j is every state's tie to j.
    claims = model.claims
    if count_true(claims):
        claim = _rows(claims, beneficiary_states)
        # On a project item, a claim against the initiator counts as well (the larger of the two).
        in_project = project.tolist()
        starters = [i if in_project[k] else -1 for k, i in enumerate(initiators)]
        if max(starters) >= 0:
            np.maximum(claim, _rows(claims, starters), out=claim)
        np.multiply(claim, p.claim_cost, out=layers[0])
    np.multiply(_rows(model.rivalry, beneficiary_states), p.rivalry_cost, out=layers[1])
    threat_gain = (model.weights[:, 2:3] * model.threat * _strength(model)).T  # poles x states
    np.multiply(_rows(threat_gain, beneficiary_poles), p.gains_cost, out=layers[2])
    if any(sovereignty):
        stake = p.claim_cost * (model.scaled_weights[:, 0] + model.scaled_weights[:, 3])
        for k, touches in enumerate(sovereignty):
            if touches:
                layers[0, k] += stake
    weight = saliences
    if max(initiators) >= 0:
        weight = saliences.copy()
        for k, starter in enumerate(initiators):
            if starter >= 0:
                weight[k, starter] = 0.0  # the initiator bears none of it (every part is >= 0)
    layers *= weight
    return layers.transpose(1, 2, 0)


def _rows(table: np.ndarray, index: list[int]) -> np.ndarray:
    """Return the rows of ``table`` at ``index``, zeros where the index is -1 (no such state or pole)."""
    rows = table.take(index, axis=0)
    if min(index) < 0:
        for k, j in enumerate(index):
            if j < 0:
                rows[k] = 0.0
    return rows
