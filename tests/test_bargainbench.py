"""The decision-rule benchmark: known answers per rule, the error table, cross-validation, the command."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sim.analysis.bargainbench import (
    SELECTED,
    _inputs,
    _predict,
    benchmark,
    cross_validate,
    fold_of,
    format_table,
    write_predictions,
)
from sim.cli import main
from sim.rules import RULES, RuleSettings
from sim.rules.bargain import bargain
from sim.rules.decisiondata import read_decision_data

from .conftest import DATA

SLICE = DATA / "bargaining" / "deu3_slice.csv"
DEU = Path(__file__).resolve().parents[2] / "shared" / "data" / "bargaining" / "deu3.csv"


def table(positions, capabilities=None, saliences=None):
    n = len(positions)
    return pd.DataFrame(
        {
            "Actor": [f"A{i}" for i in range(n)],
            "Capability": capabilities or [1.0] * n,
            "Position": positions,
            "Salience": saliences or [1.0] * n,
        }
    )


# Known answers, every rule ------------------------------------------------------


@pytest.mark.parametrize("rule", list(RULES))
def test_identical_positions_give_that_position(rule):
    result = bargain(table([60.0] * 4, saliences=[0.2, 0.9, 0.5, 1.0]), rule=rule, status_quo=0.0)
    assert result.outcomes.loc[0, "prediction"] == pytest.approx(60.0)
    assert result.outcomes.loc[0, "outcome"] == "adopted"


@pytest.mark.parametrize("rule", ["compromise", "expected_utility", "expected_utility_bdm"])
def test_one_dominant_actor_carries_the_outcome(rule):
    heavy = table(
        [90.0, 10.0, 20.0, 30.0], capabilities=[100.0, 1.0, 1.0, 1.0], saliences=[1.0, 0.5, 0.5, 0.5]
    )
    prediction = bargain(heavy, rule=rule, status_quo=0.0).outcomes.loc[0, "prediction"]
    assert prediction == pytest.approx(90.0, abs=1.5)


def test_one_member_vetoes_under_unanimity_but_is_outvoted_under_qualified_majority():
    actors = table([80.0, 80.0, 80.0, 0.0])
    settings = RuleSettings(max_rounds=0, deferral_margin=1.0)
    outcomes = {
        rule: bargain(actors, rule=rule, status_quo=0.0, proposal=80.0, settings=settings).outcomes.iloc[0]
        for rule in ("consensus", "consensus_opt_out", "qualified_majority")
    }
    for rule in ("consensus", "consensus_opt_out"):
        assert outcomes[rule]["outcome"] == "blocked", rule
        assert outcomes[rule]["prediction"] == 0.0 and outcomes[rule]["objectors"] == "A3"
    assert outcomes["qualified_majority"]["outcome"] == "adopted"
    assert outcomes["qualified_majority"]["prediction"] == 80.0


# The benchmark on a slice of DEU III ------------------------------------------------


@pytest.fixture(scope="module")
def sliced():
    return benchmark(read_decision_data(SLICE), folds=3, seed=0)


def test_baselines_and_compromise_match_hand_computation(sliced):
    data = read_decision_data(SLICE)
    data = data.subset(data.scored)
    p = sliced.predictions
    outcome = data.issues["outcome"].to_numpy()
    assert len(p) == 19 and p["outcome"].tolist() == outcome.tolist()
    weight = np.where(data.present, data.saliences * data.capabilities, 0.0)
    compromise = (weight * np.nan_to_num(data.positions)).sum(axis=1) / weight.sum(axis=1)
    np.testing.assert_allclose(p["compromise"], compromise)
    np.testing.assert_allclose(p["baseline_mean"], np.nanmean(data.positions, axis=1))
    errors = sliced.errors
    assert errors.loc["compromise", "all"] == pytest.approx(np.abs(compromise - outcome).mean())
    assert errors.loc["baseline_50", "all"] == pytest.approx(np.abs(50 - outcome).mean())
    unanimity = (data.issues["rule"] == "unanimity").to_numpy()
    assert errors.loc["baseline_50", "unanimity"] == pytest.approx(np.abs(50 - outcome[unanimity]).mean())
    # the status-quo baseline is scored only where a reference point is coded
    assert errors.loc["baseline_status_quo", "n"] == data.issues["status_quo"].notna().sum() == 13


def test_every_rule_and_baseline_is_scored(sliced):
    assert set(RULES) <= set(sliced.errors.index)
    assert {
        "baseline_50",
        "baseline_status_quo",
        "baseline_mean",
        "baseline_weighted_median",
        f"{SELECTED}_cv",
    } <= set(sliced.errors.index)
    assert sliced.errors.drop(index="baseline_status_quo")["n"].eq(19).all()
    assert sliced.best is not None and sliced.best.key != SELECTED


def test_cross_validation_never_scores_an_issue_with_a_parameter_fitted_on_it():
    outcome = np.array([0.0, 0.0, 10.0, 10.0])
    candidates = np.array([[0.0, 0.0, 0.0, 0.0], [10.0, 10.0, 10.0, 10.0]])
    assignment = np.array([0, 0, 1, 1])
    prediction, folds = cross_validate(candidates, ["zero", "ten"], outcome, assignment)
    # fold 1 is fitted on issues 3-4 (best: ten) and predicts 0, 0 with it; and vice versa
    np.testing.assert_allclose(prediction, [10.0, 10.0, 0.0, 0.0])
    assert folds["chosen"].tolist() == ["ten", "zero"]
    assert folds["test_mae"].tolist() == [10.0, 10.0] and folds["train_mae"].tolist() == [0.0, 0.0]


def test_folds_are_balanced_and_seeded():
    a, b, c = fold_of(23, 5, 0), fold_of(23, 5, 0), fold_of(23, 5, 1)
    assert np.array_equal(a, b) and not np.array_equal(a, c)
    assert sorted(np.bincount(a).tolist()) == [4, 4, 5, 5, 5]


def test_table_and_predictions_file(sliced, tmp_path):
    text = format_table(sliced)
    for fragment in ("constant 50", "compromise", "expected_utility", "best out of fold", "fold 3"):
        assert fragment in text
    path = write_predictions(sliced, tmp_path / "out" / "p.csv")
    written = pd.read_csv(path)
    assert len(written) == 19 and {"issue", "line", "fold", "outcome", "compromise"} <= set(written.columns)


def test_command_line(tmp_path):
    out = tmp_path / "predictions.csv"
    proc = subprocess.run(
        [sys.executable, "-m", "sim", "bargain-bench", str(SLICE), "--out", str(out), "--folds", "3"],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0, proc.stderr
    assert "compromise" in proc.stdout and "held out" in proc.stdout and out.exists()


def test_command_line_bad_input_is_one_line(tmp_path, capsys):
    bad = tmp_path / "bad.csv"
    bad.write_text("Actor,Capability,Position,Salience\nA,1,50,0.5\n")
    status = main(["bargain-bench", str(bad)])  # in this process: the message is the point
    err = capsys.readouterr().err
    assert status == 2
    assert "bad.csv: line 1: missing column 'Outcome'" in err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err


# The published reference figures on the whole of DEU III ---------------------------------


@pytest.mark.skipif(not DEU.exists(), reason="shared DEU III data not present")
def test_reference_figures_on_deu_iii():
    data = read_decision_data(DEU)
    result = benchmark(data, rules=["compromise"], tunable=())
    errors = result.errors
    assert errors.loc["compromise", "n"] == 353
    assert abs(errors.loc["compromise", "all"] - 23.2) < 0.1
    assert abs(errors.loc["baseline_mean", "all"] - 23.7) < 0.1
    assert abs(errors.loc["baseline_weighted_median", "all"] - 27.6) < 0.1
    assert abs(errors.loc["baseline_50", "all"] - 28.0) < 0.1
    assert (
        abs(errors.loc["baseline_status_quo", "all"] - 51.1) < 0.1
        and errors.loc["baseline_status_quo", "n"] == 253
    )
    scored = data.subset(data.scored)
    salience_only = _predict(
        "compromise", _inputs(scored, 0.0), scored.capabilities, {"compromise_capability_exponent": 0.0}
    )
    assert abs(np.abs(salience_only - scored.issues["outcome"]).mean() - 23.7) < 0.1
