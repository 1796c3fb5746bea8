"""Balancing between the poles (step 6) and the balancing index.

Each state compares the poles' weight inside the organisation, weighted by the
threat it perceives from each (balance of threat: Walt 1987). Where a pole's
threat-weighted weight exceeds the average over the poles, the state moves away
from it at a rate set by its balancing weight, or towards it where its regime
stake outweighs balancing (bandwagoning). Security ties pull towards the tied
pole without reversing that response. Alignment also reverts towards the
state's baseline, the multi-vector habit of Central Asian diplomacy (thesis
ch. IV.1, pp. 59-69, Fig. 4 p. 53); with yearly pole-ties data the baseline
moves with arms imports, trade and UN votes (:mod:`sim.model.series`).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from sim.model.state import ModelState

# ufunc reductions without the Python wrappers of ndarray.sum/.any (typed Any: numpy's stubs
# for ufunc.reduce differ between versions)
_sum: Any = np.add.reduce


def pole_weights(model: ModelState) -> np.ndarray:
    """Return each pole's weight in the organisation (0 for a pole that is not a member).

    The weight is the capability share of the members weighted by their alignment
    with the pole, plus the influence the pole has gained from adopted items.
    """
    return np.array(_weights(model), dtype=float)


def _weights(model: ModelState) -> list[float]:
    """:func:`pole_weights` as a list: a handful of poles, in plain floats (cheaper than array calls)."""
    cap = model.capability * model.member_weight
    total = float(_sum(cap))
    weights = (cap @ model.alignment).tolist()  # the coalition, before the division by the total
    gains = model.influence_gain.tolist()
    members = model.members
    for pole, state in enumerate(model.pole_list):
        if not members[state]:
            weights[pole] = 0.0
        elif total > 0:
            weights[pole] = weights[pole] / total + gains[pole]
        else:
            weights[pole] = 0.0 + gains[pole]
    return weights


def pole_shares(model: ModelState) -> np.ndarray:
    """Return the poles' weights as shares summing to 1 (zeros if no pole is present)."""
    weights = _weights(model)
    if len(weights) < 8:  # numpy sums fewer than 8 numbers from left to right: so do we
        total = 0.0
        for k, weight in enumerate(weights):
            total = weight if k == 0 else total + weight
    else:
        total = float(_sum(np.array(weights, dtype=float)))
    if total > 0:
        for k, weight in enumerate(weights):
            weights[k] = weight / total
    return np.array(weights, dtype=float)


def update_alignment(model: ModelState) -> None:
    """Step 6: move every non-pole state's alignment with the poles.

    A state compares the poles' threat-weighted weight inside the organisation. It
    moves away from a pole that presses more than the average, at a rate set by its
    balancing weight, and towards it only where its regime stake (the regime weight
    scaled by autocracy) outweighs its balancing weight: bandwagoning (Walt 1987).
    Security ties to a pole (CSTO) pull steadily towards that pole, but do not turn
    the response to a threat from it around: a CSTO member threatened by Russia
    still leans towards China (thesis ch. IV.1: China's presence 'can offset or
    neutralize Russia's presence'). Alignment reverts towards its baseline (the
    data's reading of the year, or the scenario's values), the multi-vector habit.
    With ``[mechanisms] balancing = false`` only the reversion acts.
    """
    p = model.params
    drift = p.alignment_reversion * (model.baseline_alignment - model.alignment)
    if model.sco_scenario.mechanisms.balancing:
        shares = pole_shares(model)
        pressure = model.threat * shares
        relative = pressure - _sum(pressure, axis=1, keepdims=True) / pressure.shape[1]  # minus the mean
        w = model.weights
        response = w[:, 3:4] * model.regime_stake[:, None] - w[:, 2:3]  # < 0: balancing, > 0: bandwagoning
        drift += p.balancing_rate * (relative * response + p.tie_pull * w[:, 0:1] * model.ties)
    drift[model.pole_index] = 0.0  # the poles do not move
    model.alignment = np.minimum(np.maximum(model.alignment + drift, 0.0), 1.0)  # (clip, without its wrapper)


def balancing_index(model: ModelState, weights: np.ndarray | None = None) -> np.ndarray:
    """Return each state's balancing index in [0, 1].

    The geometric mean of two parts: how evenly the state is aligned with the
    first two poles (1 = equidistant, 0 = tied to one only), and how evenly those
    two poles weigh inside the organisation (0 when one of them is absent). A state
    has room to manoeuvre only when both hold (thesis ch. IV.1: the presence of
    both Russia and China lets Kazakhstan balance).
    """
    if weights is None:
        weights = pole_weights(model)
    return balancing_index_of(model.alignment, weights)


def balancing_index_of(alignment: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Return the balancing index from alignments (..., states, poles) and pole weights (..., poles).

    The same figure as :func:`balancing_index`, for one year or for many stacked.
    """
    if alignment.shape[-1] < 2:
        return np.full(alignment.shape[:-1], np.nan)
    a, b = alignment[..., 0], alignment[..., 1]
    total = a + b
    even_alignment = np.divide(2.0 * np.minimum(a, b), total, out=np.zeros(total.shape), where=total > 0)
    first, second = weights[..., 0], weights[..., 1]
    pair = first + second
    even_weight = np.divide(2.0 * np.minimum(first, second), pair, out=np.zeros(pair.shape), where=pair > 0)
    return np.sqrt(even_alignment * even_weight[..., None])
