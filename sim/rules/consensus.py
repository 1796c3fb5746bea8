"""The consensus family of rules (consensus, opt-out, qualified majority) and the compromise baseline.

A text is tabled, members object when their loss exceeds their tolerance, and the
initiator dilutes the text towards the status quo in rounds (:func:`settle`).
"""

from __future__ import annotations

import functools
from dataclasses import replace
from typing import Any

import numpy as np

from sim.rules.base import (
    ADOPTED,
    BLOCKED,
    DEFERRED,
    DILUTED,
    OPT_OUT,
    BargainInput,
    Decision,
    RuleSettings,
    count_true,
    losses,
    rule,
    tolerance_of,
)

_sum: Any = np.add.reduce  # ufunc reductions: without the Python wrappers of ndarray.sum and .any
_any: Any = np.logical_or.reduce
_all: Any = np.logical_and.reduce


@functools.lru_cache(maxsize=64)
def _kept_share(max_rounds: int, dilution_step: float) -> np.ndarray:
    """Share of the proposed step kept in each round: 1, (1 - step), (1 - step)^2, ..."""
    keep = (1.0 - dilution_step) ** np.arange(max_rounds + 1)
    keep.setflags(write=False)
    return keep


def _candidates(inputs: BargainInput, settings: RuleSettings) -> np.ndarray:
    """Texts on the table in each round: the proposal, then diluted towards the status quo."""
    keep = _kept_share(settings.max_rounds, settings.dilution_step)
    gap = (inputs.proposal - inputs.status_quo)[:, None]
    candidates = inputs.status_quo[:, None] + gap * keep
    if inputs.dilutable is not None:
        # Items that may not be diluted (an accession) are voted on as tabled only.
        frozen = ~np.asarray(inputs.dilutable, dtype=bool)
        candidates[frozen, 1:] = np.nan
    return candidates


def _settle(
    inputs: BargainInput,
    settings: RuleSettings,
    candidates: np.ndarray,
    passes: np.ndarray,
    objecting: np.ndarray,
    standing_aside: np.ndarray | None,
    loss: np.ndarray,
    tolerance: np.ndarray,
) -> Decision:
    """Pick, for each item, the first round whose text passes; classify the result.

    ``standing_aside`` is None when the rule has no opt-outs. The rounds of each item
    are scanned in plain loops: an agenda holds a handful of items and rounds, for
    which a loop costs less than a dozen more array operations.
    """
    n_items, n_actors = inputs.shape
    chosen, any_ok, n_valid = _chosen_rounds(inputs, settings, candidates, passes)
    # Rows of the (items * rounds, actors) arrays at each item's chosen round.
    n_rounds = candidates.shape[1]
    picked = [k * n_rounds + c for k, c in enumerate(chosen)]
    objectors = objecting.reshape(-1, n_actors).take(picked, axis=0)
    if 0 in n_valid:  # nothing worth tabling, nobody to object
        for k, count in enumerate(n_valid):
            if count == 0:
                objectors[k] = False
    opt_outs, opting_out = _opt_outs(standing_aside, picked, any_ok, n_items, n_actors)
    # A refusal in which every objection is mild is postponed, not vetoed.
    objected = mild = [False] * n_items
    if not all(any_ok):
        final_loss = loss.reshape(-1, n_actors).take(picked, axis=0)
        objected = _any(objectors, 1).tolist()
        mild = _all(~objectors | (final_loss <= settings.deferral_margin * tolerance), 1).tolist()
    texts = candidates.reshape(-1).take(picked).tolist()
    outcome, adopted, prediction = _classify(inputs, settings, texts, any_ok, opting_out, mild, objected)
    rounds = [chosen[k] + 1 if n_valid[k] > 0 else 0 for k in range(n_items)]
    return Decision(
        outcome=np.array(outcome, dtype=np.int8),
        adopted=np.array(adopted, dtype=float),
        prediction=np.array(prediction, dtype=float),
        objectors=objectors,
        opt_outs=opt_outs,
        rounds=np.array(rounds, dtype=np.int16),
        texts=candidates,
        text_objecting=objecting,
        text_aside=standing_aside,
        loss=loss,
    )


def _chosen_rounds(
    inputs: BargainInput, settings: RuleSettings, candidates: np.ndarray, passes: np.ndarray
) -> tuple[list[int], list[bool], list[int]]:
    """Return each item's chosen round, whether any text passed, and how many were worth tabling."""
    # A text is worth tabling if it moves the status quo by min_increment (NaN, a round
    # not allowed, compares false).
    valid = np.abs(candidates - inputs.status_quo[:, None]) >= settings.min_increment
    ok = (passes & valid).tolist()
    n_valid = [row.count(True) for row in valid.tolist()]
    any_ok = [True in row for row in ok]
    # The first text that passes; where nothing passes, the last text worth tabling is
    # the one refused.
    chosen = [
        row.index(True) if found else max(count - 1, 0)
        for row, found, count in zip(ok, any_ok, n_valid, strict=True)
    ]
    return chosen, any_ok, n_valid


def _opt_outs(
    standing_aside: np.ndarray | None, picked: list[int], any_ok: list[bool], n_items: int, n_actors: int
) -> tuple[np.ndarray, list[bool]]:
    """Return who stands aside from each item's chosen text, and whether anyone does."""
    if standing_aside is None:
        return np.zeros((n_items, n_actors), dtype=bool), [False] * n_items
    opt_outs = standing_aside.reshape(-1, n_actors).take(picked, axis=0)
    for k, found in enumerate(any_ok):
        if not found:
            opt_outs[k] = False
    flags: list[bool] = _any(opt_outs, 1).tolist()  # (1-D: a list)
    return opt_outs, flags


def _classify(
    inputs: BargainInput,
    settings: RuleSettings,
    texts: list[float],
    any_ok: list[bool],
    opting_out: list[bool],
    mild: list[bool],
    objected: list[bool],
) -> tuple[list[int], list[float], list[float]]:
    """Return each item's outcome, adopted text (NaN if none) and predicted position."""
    before = inputs.status_quo.tolist()
    proposals = inputs.proposal.tolist()
    n_items = len(texts)
    adopted = [np.nan] * n_items
    prediction = list(before)  # the status quo stands unless a text passes
    outcome = [BLOCKED] * n_items
    for k in range(n_items):
        if any_ok[k]:
            text = texts[k]
            adopted[k] = prediction[k] = text
            gap = abs(proposals[k] - before[k])
            share = abs(text - before[k]) / gap if gap > 0 else 1.0  # share of the proposed step kept
            if share < settings.diluted_below:
                outcome[k] = DILUTED
            elif opting_out[k]:
                outcome[k] = OPT_OUT
            else:
                outcome[k] = ADOPTED
        elif mild[k] and objected[k]:
            outcome[k] = DEFERRED
    return outcome, adopted, prediction


def _text_losses(inputs: BargainInput, candidates: np.ndarray) -> np.ndarray:
    """Return every actor's loss at every text (items, rounds, actors), participation cost included."""
    return _policy_and_total(inputs, candidates)[1]


def _policy_and_total(inputs: BargainInput, candidates: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Return the policy loss and the total loss (policy plus participation cost) at every text."""
    # Rounds that are not allowed (NaN) are scored at the status quo: no loss, no objection.
    filled = candidates if inputs.dilutable is None else _fill_frozen(candidates, inputs.status_quo)
    policy = losses(inputs.positions, inputs.saliences, inputs.status_quo, filled)
    if inputs.participation is None:
        return policy, policy
    # The cost of taking part comes with any text that changes the status quo (a round
    # that is not allowed changes nothing); redrafting does not reduce it.
    if inputs.dilutable is None and not count_true(inputs.proposal == inputs.status_quo):
        return policy, policy + inputs.participation[:, None, :]  # every text changes it
    changes = filled != inputs.status_quo[:, None]
    return policy, policy + changes[:, :, None] * inputs.participation[:, None, :]


def _consensus_core(inputs: BargainInput, settings: RuleSettings, allow_opt_out: bool) -> Decision:
    candidates = _candidates(inputs, settings)
    loss = _text_losses(inputs, candidates)
    tolerance = tolerance_of(inputs)
    voters = inputs.voter_mask()[:, None, :]
    objecting = voters & (loss > tolerance[:, None, :])
    standing_aside: np.ndarray | None = None
    if allow_opt_out:
        standing_aside = objecting & (loss <= settings.opt_out_ceiling * tolerance[:, None, :])
        hard = objecting & ~standing_aside
        joining = (voters & ~standing_aside).sum(axis=2)
        n_voters = voters.sum(axis=2)
        enough = joining >= np.ceil(settings.opt_out_min_share * n_voters)
        passes = ~hard.any(axis=2) & enough
        objecting = np.where(passes[:, :, None], hard, objecting)
        standing_aside = np.where(passes[:, :, None], standing_aside, False)
    else:
        passes = ~objecting.any(axis=2)
    # With nobody entitled to decide, nothing is adopted.
    if len(voters) == 1:  # the same voters for every item
        if not voters.any():
            passes[...] = False
    else:
        passes &= voters.any(axis=2)
    return _settle(inputs, settings, candidates, passes, objecting, standing_aside, loss, tolerance)


def _fill_frozen(candidates: np.ndarray, status_quo: np.ndarray) -> np.ndarray:
    """Return the candidates with rounds that are not allowed (NaN) set to the status quo."""
    return np.where(np.isfinite(candidates), candidates, status_quo[:, None])


# The rules -------------------------------------------------------------------


@rule(
    "consensus",
    source="SCO Charter (2002) art. 16 (decisions without voting, by consensus); "
    "dilution in rounds after the 'declarative' outcomes described in Janibekov (2018) ch. IV.1",
)
def consensus(inputs: BargainInput, settings: RuleSettings) -> Decision:
    """Adopted only if no member objects; the initiator dilutes the text in rounds.

    A member objects when its loss against the status quo exceeds its tolerance.
    Each round moves the text a fixed share (``dilution_step``) towards the status
    quo, up to ``max_rounds``; the first text nobody objects to is adopted. If none
    is found the item is blocked (or deferred when every objection is mild).
    With ``settings.opt_out_allowed`` it behaves as ``consensus_opt_out``.
    """
    return _consensus_core(inputs, settings, allow_opt_out=settings.opt_out_allowed)


@rule(
    "veto_players",
    source="Tsebelis (2002), Veto Players: How Political Institutions Work, ch. 1 (every member a veto "
    "player); the baseline without redrafting against which consensus with dilution is compared",
)
def veto_players(inputs: BargainInput, settings: RuleSettings) -> Decision:
    """Each member accepts or vetoes the proposal once: no redrafting, no opt-outs, no deferral.

    The proposal is adopted as tabled when no member's loss exceeds its tolerance
    (and it moves the status quo by ``min_increment``); otherwise it is blocked.
    """
    once = replace(settings, max_rounds=0, opt_out_allowed=False, deferral_margin=1.0)
    return _consensus_core(inputs, once, allow_opt_out=False)


@rule(
    "consensus_opt_out",
    source="flexible consensus as in the SCO Belt and Road paragraphs (2018 Qingdao declaration, "
    "India not joining); cf. 'variable geometry' in EU studies",
)
def consensus_opt_out(inputs: BargainInput, settings: RuleSettings) -> Decision:
    """Consensus in which a member with a modest loss may stand aside instead of blocking.

    A member whose loss is above its tolerance but within ``opt_out_ceiling`` times
    it is named as not joining and the text passes without it, provided at least
    ``opt_out_min_share`` of the members join. Larger losses still block.
    """
    return _consensus_core(inputs, settings, allow_opt_out=True)


@rule(
    "sco_practice",
    source="SCO Charter (2002) art. 16: decisions by agreement without voting, and a member may "
    "stay out of a cooperation project that does not interest it without blocking the others "
    "(Janibekov 2018 ch. III.1-III.3 on the Charter's procedure)",
)
def sco_practice(inputs: BargainInput, settings: RuleSettings) -> Decision:
    """Consensus as the SCO practises it: stand aside from projects, block common decisions.

    Each item is a *project* (joint programmes, corridors: ``inputs.project``) or a
    *common* item (institutions with a common budget, joint statements, accession).
    A member objects to a text when its loss (policy loss plus participation cost)
    exceeds its tolerance. On a project item, a member whose policy loss alone is
    within tolerance stands aside instead: it pays no participation cost but keeps
    what it loses from the others going ahead, and the text passes without it if at
    least ``opt_out_min_share`` of the members join. On a common item nobody may
    stand aside. The initiator redrafts towards the status quo in rounds as under
    ``consensus``; a member still objecting at the last text blocks the item.
    """
    candidates = _candidates(inputs, settings)
    policy, loss = _policy_and_total(inputs, candidates)
    tolerance = tolerance_of(inputs)[:, None, :]
    voters = inputs.voter_mask()[:, None, :]
    objecting = voters & (loss > tolerance)
    standing_aside = None
    if inputs.project is not None and inputs.participation is not None and count_true(inputs.project):
        project = np.asarray(inputs.project, dtype=bool)[:, None, None]
        standing_aside = objecting & project & (policy <= tolerance)
    passes: np.ndarray
    if standing_aside is None or not count_true(standing_aside):  # nobody would stand aside: plain consensus
        passes = ~_any(objecting, 2)
        standing_aside = None
    else:
        # Those standing aside are objectors (a subset): objecting ^ standing_aside is
        # objecting & ~standing_aside, the hard objections.
        hard = objecting ^ standing_aside
        # Members who join: the voters less those standing aside (who are all voters).
        n_voters = _sum(voters, 2)
        joining = n_voters - _sum(standing_aside, 2)
        enough = joining >= np.ceil(settings.opt_out_min_share * n_voters)
        passes = ~_any(hard, 2) & enough
        # Where a text passes, those standing aside do not object; elsewhere everyone objecting does.
        standing_aside &= passes[:, :, None]
        objecting = objecting ^ standing_aside
    if len(voters) == 1:
        if not count_true(voters):
            passes[...] = False
    else:
        passes &= _any(voters, 2)
    return _settle(inputs, settings, candidates, passes, objecting, standing_aside, loss, tolerance[:, 0, :])


@rule(
    "qualified_majority",
    source="qualified majority voting as in the EU Council (TEU art. 16(4)); threshold and "
    "capability weighting set in the scenario",
)
def qualified_majority(inputs: BargainInput, settings: RuleSettings) -> Decision:
    """Adopted when a qualified share of members does not object; others are outvoted.

    Support is the share of voters whose loss is within tolerance (by count, or by
    capability when ``majority_weighted``). The text is diluted in rounds until
    support reaches ``majority_threshold``. Outvoted members are recorded as
    objectors; they do not block.
    """
    candidates = _candidates(inputs, settings)
    loss = _text_losses(inputs, candidates)
    tolerance = tolerance_of(inputs)
    voters = inputs.voter_mask()[:, None, :]
    objecting = voters & (loss > tolerance[:, None, :])
    weight = inputs.capabilities if settings.majority_weighted else np.ones(inputs.shape[1])
    voter_weight = (voters * weight).sum(axis=2)
    support = ((voters & ~objecting) * weight).sum(axis=2)
    with np.errstate(all="ignore"):
        share = np.where(voter_weight > 0, support / voter_weight, 0.0)
    passes = share >= settings.majority_threshold - 1e-12
    return _settle(inputs, settings, candidates, passes, objecting, None, loss, tolerance)


@rule(
    "compromise",
    source="compromise model: capability x salience weighted mean of positions "
    "(van den Bos 1991; Achen 2006; Thomson et al. 2006, The European Union Decides)",
)
def compromise(inputs: BargainInput, settings: RuleSettings) -> Decision:
    """Take the capability-times-salience weighted mean of the voters' positions as the outcome.

    No round of dilution and no veto: the weighted mean is the outcome. Members
    whose loss at that outcome exceeds their tolerance are recorded as objectors.
    If the outcome does not move the status quo towards the proposal by at least
    ``min_increment`` the status quo stands (outcome ``blocked``); ``prediction``
    still holds the weighted mean, the rule's forecast. The weights are
    ``capability ** a * salience ** b`` with ``a`` and ``b`` from
    ``compromise_capability_exponent`` and ``compromise_salience_exponent``
    (1 and 1, the classic model; ``sco-sim bargain-bench`` fits them by
    cross-validation).
    """
    voters = inputs.voter_mask()
    a, b = settings.compromise_capability_exponent, settings.compromise_salience_exponent
    capability = inputs.capabilities if a == 1.0 else inputs.capabilities**a
    salience = inputs.saliences if b == 1.0 else inputs.saliences**b
    weight = voters * salience * capability[None, :]
    total = weight.sum(axis=1)
    with np.errstate(all="ignore"):
        mean = np.where(total > 0, (weight * inputs.positions).sum(axis=1) / total, inputs.status_quo)
    tolerance = tolerance_of(inputs)
    loss = losses(inputs.positions, inputs.saliences, inputs.status_quo, mean)
    objectors = voters & (loss > tolerance)
    n_items = inputs.shape[0]
    # The outcome counts as adopted only if it moves the status quo towards the proposal
    # by at least min_increment; otherwise the status quo stands (the point forecast is
    # still reported in ``prediction``).
    direction = np.sign(inputs.proposal - inputs.status_quo)
    moved = direction * (mean - inputs.status_quo) >= settings.min_increment
    proposed_gap = np.abs(inputs.proposal - inputs.status_quo)
    with np.errstate(all="ignore"):
        share = np.where(proposed_gap > 0, np.abs(mean - inputs.status_quo) / proposed_gap, 1.0)
    outcome = np.full(n_items, BLOCKED, dtype=np.int8)
    outcome[moved] = ADOPTED
    outcome[moved & (share < settings.diluted_below)] = DILUTED
    adopted = np.where(moved, mean, np.nan)
    return Decision(
        outcome=outcome,
        adopted=adopted,
        prediction=mean,
        objectors=objectors,
        opt_outs=np.zeros_like(objectors),
        rounds=np.ones(n_items, dtype=np.int16),
    )
