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

# ufunc reductions without the Python wrappers of ndarray.sum/.any (typed Any: numpy's stubs
# for ufunc.reduce differ between versions)
_sum: Any = np.add.reduce
_any: Any = np.logical_or.reduce


PARTS: tuple[str, ...] = ("sovereignty", "rivalry", "relative_gains")


def pole_strength(model: ModelState) -> np.ndarray:
    """Return how much stronger than an even split each pole is: n x capability share - 1, >= 0."""
    cap = model.capability.take(model.pole_index)
    total = _sum(cap)
    if total <= 0 or len(cap) < 2:
        return np.zeros(len(cap))
    return np.maximum(len(cap) * cap / total - 1.0, 0.0)


def costs(
    model: ModelState,
    initiators: list[int],
    beneficiary_states: list[int],
    beneficiary_poles: list[int],
    sovereignty: list[bool],
    project: np.ndarray,
    saliences: np.ndarray,
) -> np.ndarray:
    """Return each state's participation cost of each item, by part (items x states x 3)."""
    p = model.params
    n_items, n_states = saliences.shape
    parts = np.zeros((n_items, n_states, len(PARTS)))
    if not model.sco_scenario.mechanisms.participation_cost or n_items == 0:
        return parts
    # Claims and rivalries are symmetric (states x states): row j is every state's tie to j.
    # A handful of items a year: their beneficiaries are looked up one by one.
    claims, rivalry = model.claims, model.rivalry
    any_claim = _any(claims, axis=None)
    threat_gain = (model.weights[:, 2:3] * model.threat * pole_strength(model)).T  # poles x states
    project_list = project.tolist()
    for k in range(n_items):
        state, starter, pole = beneficiary_states[k], initiators[k], beneficiary_poles[k]
        row = parts[k]
        if state >= 0:
            if any_claim:
                row[:, 0] = claims[state]
            row[:, 1] = rivalry[state]
        if any_claim and project_list[k] and starter >= 0:
            np.maximum(row[:, 0], claims[starter], out=row[:, 0])
        if pole >= 0:
            row[:, 2] = threat_gain[pole]
    parts *= np.array([p.claim_cost, p.rivalry_cost, p.gains_cost])
    if any(sovereignty):
        stake = p.claim_cost * (model.scaled_weights[:, 0] + model.scaled_weights[:, 3])
        for k, touches in enumerate(sovereignty):
            if touches:
                parts[k, :, 0] += stake
    for k, starter in enumerate(initiators):
        if starter >= 0:
            parts[k, starter] = 0.0  # the initiator bears none of it
    parts *= saliences[:, :, None]
    return parts
