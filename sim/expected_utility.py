"""Bueno de Mesquita's expected utility model, as specified by Scholz, Calbert and Smith (2011).

Each round every actor weighs a challenge against every other actor: the
probability of success comes from the capability-times-salience weighted
"votes" of all actors between the two positions, utilities from the distance
between them bent by each actor's risk attitude, and the salience of the
challenged actor is the chance that it resists. From its own expected
utilities an actor sees each pair as a confrontation it would lose (it moves
to the other's position), a compromise (it moves part of the way), or nothing.
All actors move at once; rounds repeat until no position changes or the round
limit is reached, and the forecast is the weighted median position.

The implementation is batched over issues (rows) and actors (columns) and
follows the public replication jmckib/bdm-scholz-expected-utility-model, whose
author reports that it matches the published rounds of Scholz et al.; on
Bueno de Mesquita's European Community example it reproduces that code's
positions after rounds 1-10 (``tests/test_expected_utility.py``). Where the
published specification and the replication differ, the replication is
followed; the choices are listed in ``docs/bargaining.md`` with equation
references. Two registered rules use it:

- ``expected_utility``: the specification as coded by Scholz et al. (the
  reference trajectory);
- ``expected_utility_bdm``: the same model with three quirks of that code
  undone (see :data:`BDM_VARIANT`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sim.rules import (
    ADOPTED,
    BLOCKED,
    DEFERRED,
    DILUTED,
    BargainInput,
    Decision,
    RuleSettings,
    losses,
    register,
)

#: Probability that the status quo persists when nobody challenges (Scholz et al.'s Q).
STATUS_QUO_PERSISTS = 1.0
#: Largest (issues x actors^3) block held in memory at once, in array elements.
_BLOCK_ELEMENTS = 4_000_000


@dataclass(frozen=True)
class Variant:
    """Which reading of the specification to follow where the code and the text differ.

    Attributes:
        all_pairs_denominator: divide the votes for ``i`` over ``j`` by the sum of all
            absolute votes over all pairs of actors (Scholz et al.'s code) instead of by
            the votes cast between ``i`` and ``j`` only (eq. 1 of the paper, so that
            ``P(i, j) + P(j, i) = 1``).
        least_move_compromise: among several compromise offers take the one that moves
            the actor least (the text) instead of the one with the lowest weighted
            position (the code).
        capitulation: let an actor that expects a loss smaller than the other's gain
            move to the other's position (the text); in the code the test is never true.

    """

    all_pairs_denominator: bool = True
    least_move_compromise: bool = False
    capitulation: bool = False


SCHOLZ_CODE = Variant()
BDM_VARIANT = Variant(all_pairs_denominator=True, least_move_compromise=True, capitulation=True)


@dataclass
class Trajectory:
    """Positions and forecasts of a run of the model.

    Attributes:
        positions: (rounds + 1, issues, actors) positions after each round (round 0 = start);
            NaN for actors absent from an issue.
        median: (rounds + 1, issues) weighted median position after each round.
        mean: (rounds + 1, issues) capability x salience weighted mean after each round.
        rounds: (issues,) rounds until no position changed (or the limit).
        risk: (rounds, issues, actors) risk exponents used in each round.

    """

    positions: np.ndarray
    median: np.ndarray
    mean: np.ndarray
    rounds: np.ndarray
    risk: np.ndarray

    @property
    def forecast(self) -> np.ndarray:
        """Return the forecast of each issue: the weighted median after the last round."""
        return self.median[-1]


def weighted_median(positions: np.ndarray, weights: np.ndarray, present: np.ndarray) -> np.ndarray:
    """Return, per issue, the position that no other position beats in a weighted pairwise vote.

    With linear utilities this is the lowest position at which the cumulated
    weight (capability x salience) reaches half the total, Scholz et al.'s
    "median voter position". Ties go to the lower position; when all weights are
    zero the unweighted lower median is returned.

    Args:
        positions: (issues, actors).
        weights: (issues, actors), non-negative.
        present: (issues, actors) bool: actors that take part.

    """
    weights = np.where(present, weights, 0.0)
    unweighted = weights.sum(axis=1) <= 0
    weights = np.where(unweighted[:, None] & present, 1.0, weights)
    order = np.argsort(np.where(present, positions, np.inf), axis=1, kind="stable")
    sorted_x = np.take_along_axis(positions, order, axis=1)
    cumulated = np.cumsum(np.take_along_axis(weights, order, axis=1), axis=1)
    half = cumulated[:, -1:] / 2.0
    first = np.argmax(cumulated >= half * (1.0 - 1e-12), axis=1)
    result = sorted_x[np.arange(len(positions)), first]
    return np.where(present.any(axis=1), result, np.nan)


def _weighted_mean(positions: np.ndarray, weights: np.ndarray, present: np.ndarray) -> np.ndarray:
    weights = np.where(present, weights, 0.0)
    total = weights.sum(axis=1)
    with np.errstate(all="ignore"):
        return np.where(total > 0, (weights * np.where(present, positions, 0.0)).sum(axis=1) / total, np.nan)


def _probabilities(
    distance: np.ndarray, risk: np.ndarray, weight: np.ndarray, present: np.ndarray, all_pairs: bool
) -> np.ndarray:
    """Return P[i, j], the probability that a challenge of ``i`` against ``j`` succeeds.

    The vote of actor ``k`` for ``i`` over ``j`` is ``w_k ((d_kj)^r_k - (d_ki)^r_k)``
    (eq. 1 of Scholz et al.), ``d`` the distance over the range of positions and
    ``w = capability x salience``. ``P`` is the sum of the positive votes for ``i``
    over ``j``, divided by the sum of all absolute votes over all ordered pairs
    (``all_pairs``, the code) or over ``i`` and ``j`` only.

    Args:
        distance: (issues, actors, actors) normalised distances between positions.
        risk: (issues, actors) risk exponent of each voter.
        weight: (issues, actors) capability x salience, zero for absent actors.
        present: (issues, actors) bool.
        all_pairs: see above.

    """
    bent = distance ** risk[:, :, None]  # bent[k, a] = d(k, a) ** r_k
    # votes[k, i, j] = w_k (bent[k, j] - bent[k, i]): one (issues, actors^3) block
    votes = weight[:, :, None, None] * (bent[:, :, None, :] - bent[:, :, :, None])
    favour = np.maximum(votes, 0.0).sum(axis=1)
    if all_pairs:
        pair = present[:, :, None] & present[:, None, :]
        total = (np.abs(votes) * pair[:, None, :, :]).sum(axis=(1, 2, 3))[:, None, None]
    else:
        total = np.abs(votes).sum(axis=1)
    with np.errstate(all="ignore"):
        return np.where(total > 0, favour / total, 0.0)


def _challenge_utilities(
    distance: np.ndarray, own_risk: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Return U(success), U(failure) and U(status quo) of a challenge, as seen by the row actor.

    ``U_s = 2 - 4 (0.5 - 0.5 d)^r``, ``U_f = 2 - 4 (0.5 + 0.5 d)^r``,
    ``U_sq = 2 - 4 (0.5)^r`` (Scholz et al., eqs. 3-5), ``r`` the risk exponent of
    the actor whose view is taken (the row), ``d`` the normalised distance.
    """
    r = own_risk[:, :, None]
    success = 2.0 - 4.0 * np.clip(0.5 - 0.5 * distance, 0.0, None) ** r
    failure = 2.0 - 4.0 * (0.5 + 0.5 * distance) ** r
    status_quo = 2.0 - 4.0 * 0.5**r
    return success, failure, status_quo


def _expected_utilities(
    probability: np.ndarray,
    distance: np.ndarray,
    own_risk: np.ndarray,
    salience: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Return EU_i(i challenges j) and EU_i(j challenges i), both seen from ``i`` (eq. 2).

    ``EU = s_target (P U_s + (1 - P) U_f) + (1 - s_target) U_s - Q U_sq``: the
    target resists with probability equal to its salience, and the challenger
    loses the status quo it had.
    """
    success, failure, status_quo = _challenge_utilities(distance, own_risk)
    transposed = np.swapaxes(probability, 1, 2)
    s_j = salience[:, None, :]
    s_i = salience[:, :, None]
    base = STATUS_QUO_PERSISTS * status_quo
    eu_ij = s_j * (probability * success + (1 - probability) * failure) + (1 - s_j) * success - base
    eu_ji = s_i * (transposed * success + (1 - transposed) * failure) + (1 - s_i) * success - base
    return eu_ij, eu_ji


def _risk_exponents(
    distance: np.ndarray, weight: np.ndarray, salience: np.ndarray, present: np.ndarray, all_pairs: bool
) -> np.ndarray:
    """Return each actor's risk exponent from its danger level relative to the others (eqs. 6-7).

    Danger is the sum of the others' expected utilities of challenging the actor,
    from the actor's view, with every risk exponent at 1. It is rescaled to a risk
    acceptance ``R`` in [-1, 1] against the most and least endangered actors of the
    issue; the exponent is ``r = (1 - R/3) / (1 + R/3)``.
    """
    neutral = np.ones_like(weight)
    probability = _probabilities(distance, neutral, weight, present, all_pairs)
    _, eu_ji = _expected_utilities(probability, distance, neutral, salience)
    others = present[:, :, None] & present[:, None, :]
    others &= ~np.eye(present.shape[1], dtype=bool)[None, :, :]
    danger = np.where(others, eu_ji, 0.0).sum(axis=2)
    high = np.where(present, danger, -np.inf).max(axis=1, keepdims=True)
    low = np.where(present, danger, np.inf).min(axis=1, keepdims=True)
    spread = high - low
    with np.errstate(all="ignore"):
        acceptance = np.where(spread > 0, (2 * danger - high - low) / spread, 0.0)
    return np.where(present, (1 - acceptance / 3) / (1 + acceptance / 3), 1.0)


def _round(
    x: np.ndarray,
    scale: np.ndarray,
    weight: np.ndarray,
    salience: np.ndarray,
    present: np.ndarray,
    variant: Variant,
) -> tuple[np.ndarray, np.ndarray]:
    """Play one round on a block of issues; return the new positions and the risk exponents."""
    distance = np.abs(x[:, :, None] - x[:, None, :]) / scale[:, None, None]
    risk = _risk_exponents(distance, weight, salience, present, variant.all_pairs_denominator)
    probability = _probabilities(distance, risk, weight, present, variant.all_pairs_denominator)
    probability = np.where(x[:, :, None] == x[:, None, :], 0.0, probability)
    eu_ij, eu_ji = _expected_utilities(probability, distance, risk, salience)

    pair = present[:, :, None] & present[:, None, :] & (x[:, :, None] != x[:, None, :])
    x_i, x_j = x[:, :, None], x[:, None, :]
    confront = pair & (eu_ji > eu_ij) & (eu_ij > 0)
    expects_loss = pair & (eu_ji > 0) & (eu_ij < 0)
    compromise = expects_loss & (eu_ji > np.abs(eu_ij))
    capitulate = expects_loss & (eu_ji < np.abs(eu_ij)) if variant.capitulation else np.zeros_like(pair)
    with np.errstate(all="ignore"):
        compromise_to = x_i + (x_j - x_i) * np.abs(eu_ij / eu_ji)
        if variant.least_move_compromise:
            compromise_key = np.abs(compromise_to - x_i)
        else:
            # Scholz et al.'s code ranks compromises by this weighted position, lowest first.
            compromise_key = (np.abs(eu_ij) * x_i + np.abs(eu_ji) * x_j) / (np.abs(eu_ij) + np.abs(eu_ji))
    move = np.abs(x_j - x_i)
    rows = np.arange(x.shape[0])[:, None]
    cols = np.arange(x.shape[1])[None, :]

    def best(offers: np.ndarray, key: np.ndarray, target: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        choice = np.argmin(np.where(offers, key, np.inf), axis=2)  # first of equals, as min() does
        target = np.broadcast_to(target, offers.shape)
        return offers.any(axis=2), target[rows, cols, choice]

    has_confront, to_confront = best(confront, move, x_j)
    has_compromise, to_compromise = best(compromise, compromise_key, compromise_to)
    has_capitulate, to_capitulate = best(capitulate, move, x_j)
    new = np.where(has_capitulate, to_capitulate, x)
    new = np.where(has_compromise, to_compromise, new)
    new = np.where(has_confront, to_confront, new)
    return np.where(present, new, x), risk


def simulate(
    positions: np.ndarray,
    saliences: np.ndarray,
    capabilities: np.ndarray,
    present: np.ndarray | None = None,
    rounds: int = 10,
    variant: Variant = SCHOLZ_CODE,
) -> Trajectory:
    """Run the expected utility model on a batch of issues.

    Args:
        positions: (issues, actors) positions on any scale; NaN where absent.
        saliences: (issues, actors) in [0, 1].
        capabilities: (actors,) or (issues, actors), non-negative.
        present: (issues, actors) bool: actors that take part (default: non-NaN positions).
        rounds: the most rounds to play; an issue stops once no position changes.
        variant: how to read the ambiguous parts of the specification.

    Returns:
        The :class:`Trajectory` (positions after every round, medians, means, rounds used).

    """
    positions = np.atleast_2d(np.asarray(positions, dtype=float))
    n_issues, n_actors = positions.shape
    if present is None:
        present = np.isfinite(positions)
    present = np.broadcast_to(np.asarray(present, dtype=bool), positions.shape)
    saliences = np.where(present, np.nan_to_num(np.atleast_2d(np.asarray(saliences, dtype=float))), 0.0)
    capabilities = np.broadcast_to(np.asarray(capabilities, dtype=float), positions.shape)
    weight = np.where(present, capabilities * saliences, 0.0)
    x = np.where(present, positions, 0.0)
    # Distances are measured over the range of the starting positions (held fixed, as in the code).
    high = np.where(present, x, -np.inf).max(axis=1, initial=-np.inf)
    low = np.where(present, x, np.inf).min(axis=1, initial=np.inf)
    scale = np.where(np.isfinite(high - low) & (high > low), high - low, 1.0)

    path = np.full((rounds + 1, n_issues, n_actors), np.nan)
    risk_path = np.ones((rounds, n_issues, n_actors))
    used = np.zeros(n_issues, dtype=np.int16)
    path[0] = np.where(present, x, np.nan)
    block = max(1, _BLOCK_ELEMENTS // max(n_actors**3, 1))
    active = present.sum(axis=1) >= 2
    for step in range(1, rounds + 1):
        new = x.copy()
        todo = np.flatnonzero(active)
        for start in range(0, len(todo), block):
            chunk = todo[start : start + block]
            new[chunk], risk_path[step - 1, chunk] = _round(
                x[chunk], scale[chunk], weight[chunk], saliences[chunk], present[chunk], variant
            )
        moved = (new != x).any(axis=1)
        used[moved] = step
        active &= moved
        x = new
        path[step] = np.where(present, x, np.nan)
        if not active.any():
            path[step + 1 :] = path[step]
            risk_path[step:] = risk_path[step - 1]
            break
    median = np.stack([weighted_median(np.nan_to_num(p), weight, present) for p in path])
    mean = np.stack([_weighted_mean(np.nan_to_num(p), weight, present) for p in path])
    return Trajectory(positions=path, median=median, mean=mean, rounds=used, risk=risk_path)


def _decide(inputs: BargainInput, settings: RuleSettings, variant: Variant) -> Decision:
    """Turn the model's forecast into a decision of the SCO model's kind.

    The forecast (weighted median after bargaining) is what the members settle
    on. It counts as adopted when it moves the status quo towards the proposal by
    at least ``min_increment``, capped at the proposal (nothing beyond the text
    tabled is adopted); adopted with less than ``diluted_below`` of the proposed
    step it is ``diluted``. Otherwise the status quo stands: ``deferred`` when every
    member objecting to the proposal objects only mildly (within
    ``deferral_margin`` times its tolerance), else ``blocked``. Objectors are the
    voters whose loss at the adopted text (at the proposal, when nothing passes)
    exceeds their tolerance.
    """
    voters = np.broadcast_to(inputs.voter_mask(), inputs.shape)
    trajectory = simulate(
        inputs.positions,
        inputs.saliences,
        inputs.capabilities,
        present=voters,
        rounds=settings.expected_utility_rounds,
        variant=variant,
    )
    forecast = np.where(np.isfinite(trajectory.forecast), trajectory.forecast, inputs.status_quo)
    direction = np.sign(inputs.proposal - inputs.status_quo)
    step = direction * (forecast - inputs.status_quo)
    proposed_gap = np.abs(inputs.proposal - inputs.status_quo)
    moved = (step >= settings.min_increment) & (proposed_gap > 0)
    kept = np.minimum(step, proposed_gap)
    adopted = np.where(moved, inputs.status_quo + direction * kept, np.nan)
    with np.errstate(all="ignore"):
        share = np.where(proposed_gap > 0, kept / proposed_gap, 1.0)
    tolerance = np.asarray(inputs.tolerance, dtype=float)
    tolerance = tolerance if tolerance.ndim == 2 else tolerance[None, :]
    judged = np.where(moved, adopted, inputs.proposal)
    loss = losses(inputs.positions, inputs.saliences, inputs.status_quo, judged)
    objectors = voters & (loss > tolerance)
    mild = np.where(objectors, loss <= settings.deferral_margin * tolerance, True).all(axis=1)
    outcome = np.full(len(forecast), BLOCKED, dtype=np.int8)
    outcome[~moved & mild & objectors.any(axis=1)] = DEFERRED
    outcome[moved] = ADOPTED
    outcome[moved & (share < settings.diluted_below)] = DILUTED
    return Decision(
        outcome=outcome,
        adopted=adopted,
        prediction=forecast,
        objectors=objectors,
        opt_outs=np.zeros_like(objectors),
        rounds=np.maximum(trajectory.rounds, 1).astype(np.int16),
    )


@register(
    "expected_utility",
    source="Bueno de Mesquita's expected utility model as specified and coded by Scholz, Calbert & Smith "
    "(2011), J. Theoretical Politics 23(4); rounds as in the replication "
    "jmckib/bdm-scholz-expected-utility-model",
)
def expected_utility(inputs: BargainInput, settings: RuleSettings) -> Decision:
    """Members challenge, compromise or give way in rounds; the weighted median of the result is adopted.

    Each round every member weighs a challenge to every other from capability,
    salience and its risk attitude, and moves to the position of a confrontation
    it would lose or to a compromise; rounds repeat (``expected_utility_rounds``)
    until positions settle. The forecast, capped at the proposal, is adopted if it
    moves the status quo by ``min_increment``; otherwise the item is blocked (or
    deferred when every objection to the proposal is mild).
    """
    return _decide(inputs, settings, SCHOLZ_CODE)


@register(
    "expected_utility_bdm",
    source="Bueno de Mesquita (1994, 2011) / Scholz et al. (2011) as written: compromise that moves "
    "least and capitulation restored (the code never capitulates); otherwise as expected_utility",
)
def expected_utility_bdm(inputs: BargainInput, settings: RuleSettings) -> Decision:
    """Decide as ``expected_utility`` but choose offers as the text says: least move, capitulation allowed.

    Among compromise offers an actor takes the one that moves it least, and an
    actor whose expected loss from challenging the other exceeds the other's
    expected gain from challenging it capitulates (moves to the other's
    position); Scholz et al.'s code never reaches that branch.
    """
    return _decide(inputs, settings, BDM_VARIANT)
