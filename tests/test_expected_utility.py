"""The expected utility model: the reference trajectory, scripted cases and its place in the SCO model."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import sim
from sim.rules import ADOPTED, BLOCKED, DILUTED, RULES, BargainInput, RuleSettings, get_rule
from sim.rules.expected_utility import BDM_VARIANT, SCHOLZ_CODE, simulate, weighted_median
from sim.scenario import load_scenario

from .conftest import DATA

EXAMPLE = DATA / "bargaining" / "bdm_example_actors.csv"
REFERENCE = DATA / "bargaining" / "bdm_example_scholz_rounds.csv"


def example():
    actors = pd.read_csv(EXAMPLE)
    return actors, simulate(
        actors["Position"].to_numpy()[None, :],
        actors["Salience"].to_numpy()[None, :],
        actors["Capability"].to_numpy(),
        rounds=10,
    )


def test_european_community_example_follows_the_reference_rounds_1_to_10():
    actors, trajectory = example()
    reference = pd.read_csv(REFERENCE)
    names = list(actors["Actor"])
    assert list(reference.columns[1:11]) == names
    positions = trajectory.positions[:, 0, :]
    np.testing.assert_allclose(positions, reference[names].to_numpy(), atol=1e-4, rtol=0)
    np.testing.assert_allclose(trajectory.median[:, 0], reference["median"], atol=1e-4, rtol=0)
    np.testing.assert_allclose(trajectory.mean[:, 0], reference["mean"], atol=1e-4, rtol=0)
    # the known oscillation: Belgium swings back from round 4 on, so the model never settles
    assert positions[4, names.index("Belgium")] < positions[3, names.index("Belgium")]
    assert trajectory.rounds[0] == 10


def test_risk_exponents_lie_in_their_range_and_do_not_depend_on_actor_order():
    actors, trajectory = example()
    assert np.all((trajectory.risk >= 0.5 - 1e-12) & (trajectory.risk <= 2.0 + 1e-12))
    order = np.random.default_rng(3).permutation(len(actors))
    shuffled = simulate(
        actors["Position"].to_numpy()[None, order],
        actors["Salience"].to_numpy()[None, order],
        actors["Capability"].to_numpy()[order],
        rounds=10,
    )
    np.testing.assert_allclose(shuffled.positions[:, :, np.argsort(order)], trajectory.positions, atol=1e-9)


def test_the_text_variant_differs_and_runs():
    actors = pd.read_csv(EXAMPLE)
    args = (actors["Position"].to_numpy()[None, :], actors["Salience"].to_numpy()[None, :])
    code = simulate(*args, actors["Capability"].to_numpy(), rounds=10, variant=SCHOLZ_CODE)
    text = simulate(*args, actors["Capability"].to_numpy(), rounds=10, variant=BDM_VARIANT)
    assert np.isfinite(text.positions).all()
    assert not np.allclose(code.positions, text.positions)


def test_identical_positions_settle_at_once():
    trajectory = simulate(np.full((2, 4), 30.0), np.full((2, 4), 0.5), np.ones(4), rounds=10)
    assert trajectory.rounds.tolist() == [0, 0]
    np.testing.assert_allclose(trajectory.forecast, 30.0)


def test_absent_actors_take_no_part():
    positions = np.array([[10.0, 90.0, 50.0], [10.0, 90.0, 50.0]])
    present = np.array([[True, True, True], [True, True, False]])
    full = simulate(positions, np.full((2, 3), 0.8), np.array([1.0, 1.0, 5.0]), present=present, rounds=3)
    alone = simulate(positions[:, :2], np.full((2, 2), 0.8), np.array([1.0, 1.0]), rounds=3)
    assert np.isnan(full.positions[:, 1, 2]).all()
    np.testing.assert_allclose(full.positions[:, 1, :2], alone.positions[:, 1, :])


def test_weighted_median_is_the_pairwise_vote_winner():
    positions = np.array([[0.0, 40.0, 100.0], [0.0, 40.0, 100.0], [5.0, 5.0, 5.0]])
    weights = np.array([[3.0, 1.0, 1.0], [1.0, 1.0, 3.0], [0.0, 0.0, 0.0]])
    present = np.ones_like(positions, dtype=bool)
    np.testing.assert_allclose(weighted_median(positions, weights, present), [0.0, 100.0, 5.0])


def item(positions, saliences=None, capabilities=None, sq=0.0, proposal=80.0, tolerance=0.05):
    positions = np.atleast_2d(np.asarray(positions, dtype=float))
    n = positions.shape[1]
    return BargainInput(
        positions=positions,
        saliences=np.full_like(positions, 1.0) if saliences is None else np.atleast_2d(saliences),
        capabilities=np.ones(n) if capabilities is None else np.asarray(capabilities, float),
        status_quo=np.atleast_1d(np.asarray(sq, float)),
        proposal=np.atleast_1d(np.asarray(proposal, float)),
        tolerance=np.full(n, tolerance),
    )


@pytest.mark.parametrize("name", ["expected_utility", "expected_utility_bdm"])
def test_decision_classes_follow_the_forecast(name):
    rule = get_rule(name)
    agreed = rule(item([80, 80, 80]))
    assert agreed.outcome.tolist() == [ADOPTED] and agreed.adopted[0] == pytest.approx(80.0)
    # the forecast beyond the proposal is capped at the proposal
    beyond = rule(item([95, 95, 95], proposal=80))
    assert beyond.adopted[0] == pytest.approx(80.0) and beyond.prediction[0] == pytest.approx(95.0)
    little = rule(item([30, 30, 30], proposal=80))
    assert little.outcome.tolist() == [DILUTED] and little.adopted[0] == pytest.approx(30.0)
    nothing = rule(item([0, 0, 0], proposal=80))
    assert nothing.outcome.tolist() == [BLOCKED] and np.isnan(nothing.adopted[0])
    assert nothing.objectors.all()  # each loses 0.8 at the proposal, above its tolerance


def test_rounds_setting_is_used():
    inputs = item([10, 40, 90, 60], saliences=[[0.9, 0.5, 0.7, 0.3]], capabilities=[1, 2, 3, 1])
    one = get_rule("expected_utility")(inputs, RuleSettings(expected_utility_rounds=1))
    assert one.rounds[0] == 1


def test_the_rules_are_registered_with_sources():
    for name in ("expected_utility", "expected_utility_bdm"):
        assert "Scholz" in RULES[name].source and RULES[name].doc


def test_a_scenario_file_with_the_expected_utility_rule_runs(tiny_text, write):
    path = write(tiny_text + '[rules]\ndecision_rule = "expected_utility"\n')
    result = sim.run(load_scenario(path), seed=2)
    assert result.summary()["rule"] == "expected_utility"
    assert result.summary()["items"] > 0
    assert set(result.decisions["outcome"]) <= {"adopted", "diluted", "blocked", "deferred"}
    again = sim.run(load_scenario(path), seed=2)
    pd.testing.assert_frame_equal(result.decisions, again.decisions)
