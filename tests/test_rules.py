"""Decision rules: scripted cases (inputs in, objectors and outcome out) and properties."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sim.rules import (
    ADOPTED,
    BLOCKED,
    DEFERRED,
    DILUTED,
    OPT_OUT,
    OUTCOMES,
    RULES,
    BargainInput,
    RuleSettings,
    get_rule,
    losses,
)


def item(positions, saliences=None, capabilities=None, sq=0.0, proposal=80.0, tolerance=0.05, **kw):
    positions = np.atleast_2d(np.asarray(positions, dtype=float))
    n = positions.shape[1]
    saliences = (
        np.full_like(positions, 1.0) if saliences is None else np.atleast_2d(np.asarray(saliences, float))
    )
    capabilities = np.ones(n) if capabilities is None else np.asarray(capabilities, float)
    return BargainInput(
        positions=positions,
        saliences=saliences,
        capabilities=capabilities,
        status_quo=np.atleast_1d(np.asarray(sq, float)),
        proposal=np.atleast_1d(np.asarray(proposal, float)),
        tolerance=np.full(n, tolerance),
        **kw,
    )


def test_registry_lists_the_four_rules_with_sources():
    assert {"consensus", "consensus_opt_out", "qualified_majority", "compromise"} <= set(RULES)
    for rule in RULES.values():
        assert rule.source, rule.name
        assert rule.doc, rule.name
    with pytest.raises(KeyError, match="known: consensus"):
        get_rule("majority")


def test_loss_is_salience_weighted_distance_change():
    loss = losses(np.array([[30.0, 90.0]]), np.array([[0.5, 1.0]]), np.array([10.0]), np.array([50.0]))
    # actor 1: |50-30| - |10-30| = 0 ; actor 2: |50-90| - |10-90| = -40 -> gains
    np.testing.assert_allclose(loss, [[0.0, -0.4]])


# --- consensus --------------------------------------------------------------


def test_consensus_adopts_when_everybody_wants_it():
    d = get_rule("consensus")(item([80, 90, 85], proposal=80))
    assert d.outcome_names() == ["adopted"]
    assert d.adopted[0] == 80
    assert d.rounds[0] == 1
    assert not d.objectors.any()


def test_consensus_dilutes_until_the_reluctant_member_accepts():
    # Member 3 wants 20: the proposal 80 costs it (|80-20| - |0-20|)/100 = 0.4 > 0.05.
    s = RuleSettings(max_rounds=10, dilution_step=0.25)
    d = get_rule("consensus")(item([80, 80, 20], proposal=80), s)
    # texts: 80, 60, 45, 33.75: loss at 45 = (25-20)/100 = 0.05 -> accepted (not above tolerance)
    assert d.adopted[0] == pytest.approx(45.0)
    assert d.rounds[0] == 3
    assert d.outcome_names() == ["adopted"]  # 45/80 >= diluted_below 0.5
    assert not d.objectors.any()


def test_consensus_diluted_class_when_little_is_left():
    s = RuleSettings(max_rounds=10, dilution_step=0.25, diluted_below=0.5)
    d = get_rule("consensus")(item([80, 80, 10], proposal=80), s)
    assert d.outcome[0] == DILUTED
    assert d.adopted[0] < 40


def test_consensus_unanimity_veto_blocks_and_names_the_objector():
    # Member 2 wants nothing at all and cares a lot: no text >= min_increment satisfies it.
    d = get_rule("consensus")(item([90, 0, 90], proposal=90))
    assert d.outcome[0] == BLOCKED
    assert np.isnan(d.adopted[0])
    assert d.objectors[0].tolist() == [False, True, False]
    assert d.prediction[0] == 0.0


def test_consensus_mild_objection_defers_instead_of_blocking():
    # At the last text the objector loses a little more than tolerance, within the margin.
    s = RuleSettings(max_rounds=0, deferral_margin=2.0)
    d = get_rule("consensus")(item([50, 44], proposal=50, sq=40, tolerance=0.02), s)
    # loss of member 2: (|50-44| - |40-44|)/100 = 0.02 -> not above 0.02: adopted
    assert d.outcome[0] == ADOPTED
    d = get_rule("consensus")(item([50, 43], proposal=50, sq=40, tolerance=0.02), s)
    # loss (7-3)/100 = 0.04 > 0.02 but <= 2 * 0.02 -> deferred
    assert d.outcome[0] == DEFERRED


def test_consensus_non_voters_cannot_block():
    voters = np.array([[True, True, False]])
    d = get_rule("consensus")(item([80, 80, 0], proposal=80, voters=voters))
    assert d.outcome[0] == ADOPTED
    assert not d.objectors.any()


def test_undilutable_item_is_voted_as_tabled():
    # member 2 (ideal 30) loses (70 - 30)/100 from 100; a diluted text would suit it
    assert get_rule("consensus")(item([100, 30], proposal=100)).outcome[0] != BLOCKED
    d = get_rule("consensus")(item([100, 30], proposal=100, dilutable=np.array([False])))
    assert d.outcome[0] == BLOCKED
    assert d.rounds[0] == 1


# --- opt-outs -----------------------------------------------------------------


def test_opt_out_lets_a_modestly_unhappy_member_stand_aside():
    s = RuleSettings(opt_out_ceiling=3.0, max_rounds=0)
    inputs = item([70, 70, 20], saliences=[[1, 1, 0.2]], proposal=70, tolerance=0.05)
    # loss of member 3: 0.2 * (50 - 20)/100 = 0.06 -> above 0.05, within 3 x 0.05
    plain = get_rule("consensus")(inputs, s)
    assert plain.outcome[0] in (BLOCKED, DEFERRED)
    assert np.isnan(plain.adopted[0])
    d = get_rule("consensus_opt_out")(inputs, s)
    assert d.outcome[0] == OPT_OUT
    assert d.opt_outs[0].tolist() == [False, False, True]
    assert not d.objectors.any()


def test_opt_out_does_not_stop_a_hard_objection():
    s = RuleSettings(opt_out_ceiling=1.5, max_rounds=0)
    d = get_rule("consensus_opt_out")(item([70, 70, 0], proposal=70), s)
    assert d.outcome[0] == BLOCKED
    assert d.objectors[0].tolist() == [False, False, True]
    assert not d.opt_outs.any()


def test_opt_out_needs_a_minimum_share_joining():
    inputs = item([70, 70, 0, 0], saliences=[[1, 1, 0.1, 0.1]], proposal=70)
    s = RuleSettings(opt_out_ceiling=100.0, opt_out_min_share=0.75, max_rounds=0, deferral_margin=1.0)
    d = get_rule("consensus_opt_out")(inputs, s)
    assert d.outcome[0] == BLOCKED  # only half would join
    assert d.objectors[0].tolist() == [False, False, True, True]
    s = RuleSettings(opt_out_ceiling=100.0, opt_out_min_share=0.5, max_rounds=0, deferral_margin=1.0)
    d = get_rule("consensus_opt_out")(inputs, s)
    assert d.outcome[0] == OPT_OUT
    assert d.opt_outs[0].tolist() == [False, False, True, True]


# --- qualified majority ---------------------------------------------------------


def test_qualified_majority_outvotes_a_minority():
    s = RuleSettings(majority_threshold=0.6, max_rounds=0)
    d = get_rule("qualified_majority")(item([80, 80, 80, 0], proposal=80), s)
    assert d.outcome[0] == ADOPTED
    assert d.adopted[0] == 80
    assert d.objectors[0].tolist() == [False, False, False, True]


def test_qualified_majority_weighted_by_capability():
    s = RuleSettings(majority_threshold=0.6, majority_weighted=True, max_rounds=0)
    # three small supporters, one big objector holding 70% of capability
    d = get_rule("qualified_majority")(item([80, 80, 80, 0], capabilities=[1, 1, 1, 7], proposal=80), s)
    assert d.outcome[0] == BLOCKED
    s = RuleSettings(majority_threshold=0.6, majority_weighted=False, max_rounds=0)
    d = get_rule("qualified_majority")(item([80, 80, 80, 0], capabilities=[1, 1, 1, 7], proposal=80), s)
    assert d.outcome[0] == ADOPTED


# --- compromise -------------------------------------------------------------------


def test_compromise_identical_positions_give_that_position():
    d = get_rule("compromise")(item([42, 42, 42], proposal=42))
    assert d.prediction[0] == pytest.approx(42)


def test_compromise_one_dominant_actor_pulls_the_outcome_to_itself():
    d = get_rule("compromise")(item([10, 90], capabilities=[1000, 1], proposal=50))
    assert d.prediction[0] == pytest.approx((10 * 1000 + 90) / 1001)


def test_compromise_below_min_increment_leaves_status_quo():
    d = get_rule("compromise")(item([41, 40], sq=40, proposal=60))
    assert d.outcome[0] == BLOCKED
    assert np.isnan(d.adopted[0])


# --- properties ---------------------------------------------------------------------

actors = st.integers(min_value=2, max_value=7)


@st.composite
def decisions(draw):
    n = draw(actors)
    items = draw(st.integers(min_value=1, max_value=4))
    floats = st.floats(min_value=0, max_value=100, allow_nan=False)
    positions = np.array(
        draw(st.lists(st.lists(floats, min_size=n, max_size=n), min_size=items, max_size=items))
    )
    sal = st.floats(min_value=0.05, max_value=1)
    saliences = np.array(
        draw(st.lists(st.lists(sal, min_size=n, max_size=n), min_size=items, max_size=items))
    )
    caps = np.array(draw(st.lists(st.floats(min_value=0.01, max_value=10), min_size=n, max_size=n)))
    sq = np.array(draw(st.lists(st.floats(min_value=0, max_value=60), min_size=items, max_size=items)))
    proposal = np.minimum(
        100,
        sq + np.array(draw(st.lists(st.floats(min_value=0, max_value=60), min_size=items, max_size=items))),
    )
    tol = np.array(draw(st.lists(st.floats(min_value=0, max_value=0.3), min_size=n, max_size=n)))
    voters = np.array(draw(st.lists(st.booleans(), min_size=n, max_size=n)))
    return BargainInput(
        positions, saliences, caps, sq, proposal, tol, voters=np.broadcast_to(voters, positions.shape)
    )


@settings(max_examples=200, deadline=None)
@given(decisions())
def test_consensus_never_adopts_while_a_member_objects(inputs):
    d = get_rule("consensus")(inputs)
    for k in range(inputs.shape[0]):
        if np.isfinite(d.adopted[k]):
            loss = losses(
                inputs.positions[k : k + 1],
                inputs.saliences[k : k + 1],
                inputs.status_quo[k : k + 1],
                d.adopted[k : k + 1],
            )[0]
            voting = inputs.voter_mask()[k]
            assert not (voting & (loss > inputs.tolerance)).any()
            assert not d.objectors[k].any()
        else:
            assert d.outcome[k] in (BLOCKED, DEFERRED)


@pytest.mark.slow
@settings(max_examples=150, deadline=None)
@given(decisions(), st.randoms(use_true_random=False))
def test_outcomes_do_not_depend_on_the_order_of_actors(inputs, random):
    n = inputs.shape[1]
    order = list(range(n))
    random.shuffle(order)
    order = np.array(order)
    shuffled = BargainInput(
        inputs.positions[:, order],
        inputs.saliences[:, order],
        inputs.capabilities[order],
        inputs.status_quo,
        inputs.proposal,
        np.asarray(inputs.tolerance)[order],
        voters=inputs.voter_mask()[:, order],
    )
    for name, rule in RULES.items():
        a, b = rule(inputs), rule(shuffled)
        np.testing.assert_array_equal(a.outcome, b.outcome, err_msg=name)
        np.testing.assert_allclose(a.prediction, b.prediction, rtol=1e-9, atol=1e-9, err_msg=name)
        np.testing.assert_array_equal(a.objectors[:, order], b.objectors, err_msg=name)
        np.testing.assert_array_equal(a.opt_outs[:, order], b.opt_outs, err_msg=name)
        np.testing.assert_array_equal(a.rounds, b.rounds, err_msg=name)


@pytest.mark.slow
@settings(max_examples=200, deadline=None)
@given(decisions())
def test_compromise_equals_capability_times_salience_weighted_mean(inputs):
    d = get_rule("compromise")(inputs)
    voters = inputs.voter_mask()
    for k in range(inputs.shape[0]):
        w = inputs.saliences[k] * inputs.capabilities * voters[k]
        if w.sum() > 0:
            expected = float((w * inputs.positions[k]).sum() / w.sum())
            assert d.prediction[k] == pytest.approx(expected, rel=1e-9, abs=1e-9)


@settings(max_examples=100, deadline=None)
@given(decisions())
def test_every_outcome_is_a_known_class_and_adopted_lies_between_sq_and_proposal(inputs):
    for name in ("consensus", "consensus_opt_out", "qualified_majority"):
        d = get_rule(name)(inputs)
        assert set(d.outcome_names()) <= set(OUTCOMES)
        adopted = np.isfinite(d.adopted)
        lo = np.minimum(inputs.status_quo, inputs.proposal)
        hi = np.maximum(inputs.status_quo, inputs.proposal)
        assert np.all(d.adopted[adopted] >= lo[adopted] - 1e-9)
        assert np.all(d.adopted[adopted] <= hi[adopted] + 1e-9)


@settings(max_examples=150, deadline=None)
@given(decisions())
def test_qualified_majority_passes_whatever_consensus_passes(inputs):
    consensus = get_rule("consensus")(inputs)
    qmv = get_rule("qualified_majority")(inputs)
    passed = np.isfinite(consensus.adopted)
    assert np.isfinite(qmv.adopted[passed]).all()
    assert (qmv.rounds[passed] <= consensus.rounds[passed]).all()


def test_a_rule_of_ones_own_is_registered_and_found_by_name():
    from sim.rules import Decision, register, rule
    from sim.rules.registry import RULES as registry

    @rule("test_everyone_agrees", source="a test")
    def everyone_agrees(inputs, settings):
        n = len(inputs.proposal)
        return Decision(
            outcome=np.zeros(n, dtype=np.int8),
            adopted=inputs.proposal.copy(),
            prediction=inputs.proposal.copy(),
            objectors=np.zeros(inputs.shape, dtype=bool),
            opt_outs=np.zeros(inputs.shape, dtype=bool),
            rounds=np.ones(n, dtype=np.int16),
        )

    try:
        register(everyone_agrees)
        assert get_rule("test_everyone_agrees").source == "a test"
        decision = get_rule("test_everyone_agrees")(item([[0.0, 100.0]]))
        assert decision.adopted.tolist() == [80.0]
        with pytest.raises(ValueError, match="registered twice"):
            register(everyone_agrees)
    finally:
        registry.pop("test_everyone_agrees", None)


def test_the_old_register_decorator_still_works_with_a_deprecation_warning():
    from sim.rules import register
    from sim.rules.registry import RULES as registry

    try:
        with pytest.warns(DeprecationWarning, match="@sim.rules.rule"):

            @register("test_old_style", source="0.1")
            def old_style(inputs, settings):
                return get_rule("consensus")(inputs, settings)

        assert get_rule("test_old_style").source == "0.1"
        assert callable(old_style)
    finally:
        registry.pop("test_old_style", None)


@settings(max_examples=60, deadline=None)
@given(
    positions=st.lists(st.floats(0, 100), min_size=2, max_size=6),
    tolerance=st.floats(0.0, 0.5),
    proposal=st.floats(0, 100),
)
def test_veto_players_adopts_exactly_when_every_loss_is_within_tolerance(positions, tolerance, proposal):
    inputs = item([positions], sq=0.0, proposal=proposal, tolerance=tolerance)
    decision = get_rule("veto_players")(inputs, RuleSettings())
    within = bool(
        (losses(inputs.positions, inputs.saliences, inputs.status_quo, inputs.proposal) <= tolerance).all()
    )
    worth_tabling = abs(proposal - 0.0) >= RuleSettings().min_increment
    adopted = decision.outcome[0] == ADOPTED
    assert adopted == (within and worth_tabling)
    assert decision.outcome[0] in (ADOPTED, BLOCKED)  # never diluted, opted out of or deferred
    if adopted:
        assert decision.adopted[0] == proposal  # as tabled
    assert decision.rounds[0] <= 1


def test_veto_players_blocks_where_consensus_dilutes():
    # One member wants less (30): consensus redrafts 80 down to 60, within its tolerance;
    # veto players see only the proposal, which it vetoes.
    inputs = item([[30.0, 100.0, 100.0]], sq=0.0, proposal=80.0, tolerance=0.05)
    redrafted = get_rule("consensus")(inputs, RuleSettings())
    assert redrafted.outcome[0] == ADOPTED and redrafted.adopted[0] == pytest.approx(60.0)
    vetoed = get_rule("veto_players")(inputs, RuleSettings())
    assert vetoed.outcome[0] == BLOCKED and vetoed.objectors[0].tolist() == [True, False, False]
