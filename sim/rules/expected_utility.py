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
followed; the choices are listed in ``docs/bargaining.md``. Two registered rules use it:

- ``expected_utility``: the specification as coded by Scholz et al. (the
  reference trajectory);
- ``expected_utility_bdm``: the same model with two quirks of that code
  undone, the choice among compromises and capitulation (see :data:`BDM_VARIANT`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sim.rules.base import (
    ADOPTED,
    BLOCKED,
    DEFERRED,
    DILUTED,
    BargainInput,
    Decision,
    RuleSettings,
    losses,
    rule,
    tolerance_of,
)

#: Probability that the status quo persists when nobody challenges (Scholz et al.'s Q, fixed at 1
#: as in their runs; the formulas in _Block.step assume it).
STATUS_QUO_PERSISTS = 1.0
#: Key of a pair that makes no offer (finite, so that differences of keys stay defined).
_NO_OFFER = 1e300
#: Differences below which two expected utilities (or offer keys) count as equal (see _greater).
_TIE_ABSOLUTE, _TIE_RELATIVE = 1e-14, 1e-9
#: Largest (issues x actors^3) block held in memory at once, in array elements.
_BLOCK_ELEMENTS = 4_000_000


@dataclass(frozen=True)
class Variant:
    """Which reading of the specification to follow where the code and the text differ.

    Attributes:
        all_pairs_denominator: divide the votes for ``i`` over ``j`` by the sum of all
            absolute votes over all pairs of actors (Scholz et al.'s code) instead of by
            the votes cast between ``i`` and ``j`` only (so that ``P(i, j) + P(j, i) = 1``,
            Bueno de Mesquita's intent according to the replication's notes).
        least_move_compromise: among several compromise offers take the one that moves
            the actor least (the text) instead of the one with the lowest weighted
            position (the code).
        capitulation: let an actor whose expected loss from challenging the other exceeds
            the other's expected gain from challenging it move to the other's position
            (the text); in the code the test is never true.

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

    Without ``record`` (:func:`simulate`) only the last round is kept.

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
    if positions.shape[1] == 0:
        return np.full(len(positions), np.nan)
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


def _greater(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Return ``a > b`` where the difference is more than rounding could make (see :class:`_Block`)."""
    return a - b > _TIE_ABSOLUTE + _TIE_RELATIVE * (np.abs(a) + np.abs(b))


class _Block:
    """The actors and fixed quantities of a block of issues, and one round of bargaining on it.

    Arrays are (issues, actors) or (issues, actors, actors) with ``[i, j]`` read as
    "actor i, facing actor j". What does not change between rounds is computed
    once here: in the SCO model the arrays are small, and the number of array
    operations per round, not their size, sets the time.

    Comparisons of expected utilities count differences within rounding as ties
    (``_TIE_ABSOLUTE``, ``_TIE_RELATIVE``): symmetric configurations (two actors
    with the same capability and salience at the same distance, or positions a
    rounding error apart) give utilities that are equal, or zero, in exact
    arithmetic, and which side of a strict comparison they fell on would depend
    on the order of summation and of the actors. Expected utilities are
    differences of terms of order 1, so 1e-14 is above their rounding error.
    """

    def __init__(
        self,
        scale: np.ndarray,
        weight: np.ndarray,
        salience: np.ndarray,
        present: np.ndarray,
        variant: Variant,
    ) -> None:
        n_issues, n_actors = weight.shape
        self.variant = variant
        self.inverse_scale = 1.0 / scale[:, None, None]
        self.present = present
        self.everyone = bool(present.all())
        self.weight_row = weight[:, None, :]
        self.s_i, self.s_j = salience[:, :, None], salience[:, None, :]
        # With every exponent at 1, EU_i(j challenges i) = d (2 - 4 s_i + 4 s_i P[j, i]).
        self.neutral_base, self.neutral_slope = 2.0 - 4.0 * self.s_i, 4.0 * self.s_i
        self.both = present[:, :, None] & present[:, None, :]
        self.others = (self.both & ~np.eye(n_actors, dtype=bool)[None, :, :]).astype(float)
        # Pairs (a, b) counted in the all-pairs denominator; None when every actor takes part.
        self.pair_mask = None if self.everyone else self.both.reshape(n_issues, 1, n_actors * n_actors)

    def probabilities(self, bent: np.ndarray) -> np.ndarray:
        """Return P[i, j], the probability that a challenge of ``i`` against ``j`` succeeds.

        ``bent[k, a] = d(k, a) ** r_k``. Actor k's vote for ``i`` over ``j`` is
        ``w_k (bent[k, j] - bent[k, i])``, ``w = capability x salience``. ``P`` is the
        sum of the positive votes for ``i`` over ``j`` divided by the sum of all
        absolute votes over all ordered pairs of actors (the code) or over ``i`` and
        ``j`` only (``Variant.all_pairs_denominator``).
        """
        n_issues, n_actors = self.present.shape
        difference = (bent[:, :, None, :] - bent[:, :, :, None]).reshape(n_issues, n_actors, n_actors**2)
        total = self.weight_row @ np.abs(difference)  # (issues, 1, pairs)
        if self.variant.all_pairs_denominator:
            if self.pair_mask is not None:
                total = total * self.pair_mask
            total = total.sum(axis=2, keepdims=True)
        np.maximum(difference, 0.0, out=difference)
        favour = self.weight_row @ difference
        share = favour / np.where(total > 0, total, np.inf)
        return share.reshape(n_issues, n_actors, n_actors)

    def risk(self, distance: np.ndarray) -> np.ndarray:
        """Return each actor's risk exponent from its danger level relative to the others.

        Danger is the sum of the others' expected utilities of challenging the actor,
        from the actor's view, with every risk exponent at 1 (then ``U_s = 2d``,
        ``U_f = -2d``, ``U_sq = 0``). It is rescaled to a risk acceptance ``R`` in
        [-1, 1] against the most and least endangered actors of the issue; the
        exponent is ``r = (1 - R/3) / (1 + R/3) = (3 - R) / (3 + R)``.
        """
        challenged = np.swapaxes(self.probabilities(distance), 1, 2)  # P[j, i] at [i, j]
        eu_ji = distance * (self.neutral_base + self.neutral_slope * challenged)
        danger = (eu_ji * self.others).sum(axis=2)
        if self.everyone:
            high, low = danger.max(axis=1, keepdims=True), danger.min(axis=1, keepdims=True)
        else:
            high = np.where(self.present, danger, -np.inf).max(axis=1, keepdims=True)
            low = np.where(self.present, danger, np.inf).min(axis=1, keepdims=True)
        spread = high - low
        acceptance = (2.0 * danger - high - low) / np.where(spread > 0, spread, np.inf)
        risk = (3.0 - acceptance) / (3.0 + acceptance)
        return risk if self.everyone else np.where(self.present, risk, 1.0)

    def step(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Play one round; return the new positions and the risk exponents used."""
        x_i, x_j = x[:, :, None], x[:, None, :]
        gap = x_j - x_i
        distance = np.abs(gap) * self.inverse_scale
        risk = self.risk(distance)
        r = risk[:, :, None]
        probability = self.probabilities(distance**r)
        # U_s, U_f and U_sq from i's view with i's exponent, and the expected utility rearranged:
        # s (P U_s + (1 - P) U_f) + (1 - s) U_s - U_sq = U_s - U_sq - s (1 - P) (U_s - U_f).
        half = 0.5 * distance
        near, far = np.maximum(0.5 - half, 0.0) ** r, (0.5 + half) ** r
        gain = 4.0 * (0.5**r - near)  # U_s - U_sq with Q = 1
        stake = 4.0 * (far - near)
        eu_ij = gain - self.s_j * (1.0 - probability) * stake  # i challenges j
        eu_ji = gain - self.s_i * (1.0 - np.swapaxes(probability, 1, 2)) * stake  # j challenges i

        loss = np.abs(eu_ij)
        tie = _TIE_ABSOLUTE + _TIE_RELATIVE * (loss + np.abs(eu_ji))
        # Actors at the same position have EU_ij = EU_ji = 0 exactly (zero distance), so the
        # sign tests below leave them out; only absent actors need a mask.
        confront = (eu_ji - eu_ij > tie) & (eu_ij > _TIE_ABSOLUTE)
        expects_loss = (eu_ji > _TIE_ABSOLUTE) & (eu_ij < -_TIE_ABSOLUTE)
        if not self.everyone:
            confront &= self.both
            expects_loss &= self.both
        compromise = expects_loss & (eu_ji - loss > tie)
        concession = loss / np.where(compromise, eu_ji, np.inf)
        # An actor takes its best confrontation if it has one, else its best compromise,
        # else (where the variant allows it) its best capitulation.
        move = np.abs(gap)
        key = np.where(confront, move, _NO_OFFER)
        target = np.broadcast_to(x_j, gap.shape)
        if self.variant.least_move_compromise:
            compromise_key = move * concession
        else:
            # Scholz et al.'s code ranks compromises by this weighted position, lowest first.
            compromise_key = (loss * x_i + eu_ji * x_j) / np.where(compromise, loss + eu_ji, 1.0)
        has_confront = confront.any(axis=2, keepdims=True)
        offers = np.where(has_confront, confront, compromise)
        key = np.where(has_confront, key, np.where(compromise, compromise_key, _NO_OFFER))
        target = np.where(has_confront, target, x_i + gap * concession)
        if self.variant.capitulation:
            capitulate = expects_loss & (loss - eu_ji > tie)
            fallback = ~offers.any(axis=2, keepdims=True)
            offers = np.where(fallback, capitulate, offers)
            key = np.where(fallback, np.where(capitulate, move, _NO_OFFER), key)
            target = np.where(fallback, x_j, target)
        lowest = key.min(axis=2, keepdims=True)
        # Of offers whose keys tie, the one to the lowest position: the reference code takes the
        # first in its list of actors instead, which would make the outcome depend on their order.
        tied = offers & ~_greater(key, lowest)
        new = np.where(offers.any(axis=2), np.where(tied, target, np.inf).min(axis=2), x)
        return new, risk


def simulate(
    positions: np.ndarray,
    saliences: np.ndarray,
    capabilities: np.ndarray,
    present: np.ndarray | None = None,
    rounds: int = 10,
    variant: Variant = SCHOLZ_CODE,
    record: bool = True,
) -> Trajectory:
    """Run the expected utility model on a batch of issues.

    Args:
        positions: (issues, actors) positions on any scale; NaN where absent.
        saliences: (issues, actors) in [0, 1].
        capabilities: (actors,) or (issues, actors), non-negative.
        present: (issues, actors) bool: actors that take part (default: non-NaN positions).
        rounds: the most rounds to play; an issue stops once no position changes.
        variant: how to read the ambiguous parts of the specification.
        record: keep every round; with ``False`` only the end is kept (``positions``,
            ``median`` and ``risk`` then have one row, and ``mean`` is not computed).

    Returns:
        The :class:`Trajectory` (positions after every round, medians, means, rounds used).

    """
    positions = np.atleast_2d(np.asarray(positions, dtype=float))
    n_issues, n_actors = positions.shape
    if present is None:
        present = np.isfinite(positions)
    present = np.broadcast_to(np.asarray(present, dtype=bool), positions.shape)
    saliences = np.atleast_2d(np.asarray(saliences, dtype=float))
    capabilities = np.broadcast_to(np.asarray(capabilities, dtype=float), positions.shape)
    # Work on the actors present in some issue only (in the SCO model: the members).
    taking_part = np.flatnonzero(present.any(axis=0))
    on = present[:, taking_part]
    salience = np.where(on, np.nan_to_num(saliences[:, taking_part]), 0.0)
    weight = np.where(on, capabilities[:, taking_part] * salience, 0.0)
    x = np.where(on, positions[:, taking_part], 0.0)
    # Distances are measured over the range of the starting positions (held fixed, as in the code).
    high = np.where(on, x, -np.inf).max(axis=1, initial=-np.inf)
    low = np.where(on, x, np.inf).min(axis=1, initial=np.inf)
    scale = np.where(np.isfinite(high - low) & (high > low), high - low, 1.0)

    snapshots, risks, used = _play(x, _Weights(scale, weight, salience, on), rounds, variant, record)
    kept = len(snapshots)
    path = np.full((kept, n_issues, n_actors), np.nan)
    path[:, :, taking_part] = np.where(on[None], snapshots, np.nan)
    risk_path = np.ones((len(risks), n_issues, n_actors))
    risk_path[:, :, taking_part] = risks
    median = np.stack([weighted_median(s, weight, on) for s in snapshots])
    mean = np.stack([_weighted_mean(s, weight, on) for s in snapshots]) if record else median * np.nan
    return Trajectory(positions=path, median=median, mean=mean, rounds=used, risk=risk_path)


@dataclass(frozen=True)
class _Weights:
    """What the rounds need of each issue: the distance scale, and each actor's weight, salience, presence."""

    scale: np.ndarray
    weight: np.ndarray
    salience: np.ndarray
    on: np.ndarray


def _play(
    x: np.ndarray, w: _Weights, rounds: int, variant: Variant, record: bool
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Play up to ``rounds`` rounds on blocks of issues; return positions, risks and rounds used."""
    n_issues, width = x.shape
    block_size = max(1, _BLOCK_ELEMENTS // max(width, 1) ** 3)
    kept = rounds + 1 if record else 1
    snapshots = np.repeat(x[None], kept, axis=0)
    risks = np.ones((rounds if record else min(rounds, 1), n_issues, width))
    used = np.zeros(n_issues, dtype=np.int16)
    for start in range(0, n_issues, block_size):
        rows = slice(start, start + block_size)
        block = _Block(w.scale[rows], w.weight[rows], w.salience[rows], w.on[rows], variant)
        xb = x[rows]
        moving = w.on[rows].sum(axis=1) >= 2
        for step in range(1, rounds + 1):
            if not moving.any():
                break
            new, risk = block.step(xb)
            if not moving.all():
                new = np.where(moving[:, None], new, xb)
            # Positions fix the next round completely: an issue that did not move has settled.
            moving &= (new != xb).any(axis=1)
            used[rows][moving] = step
            xb = new
            # Later rounds hold the last positions until they are played (or for good, once settled).
            snapshots[step if record else 0 :, rows] = xb
            risks[step - 1 if record else 0 :, rows] = risk
    return snapshots, risks, used


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
        record=False,
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
    tolerance = tolerance_of(inputs)
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


@rule(
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


@rule(
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
