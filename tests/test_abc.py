"""ABC-SMC calibration (sim.analysis.abc_smc, recovery) on tiny budgets.

Most tests use a toy simulator (instant, two parameters) so that pyabc's machinery is
what is tested: resuming from the database gives the same posterior as an uninterrupted
run, posterior.csv has the agreed format, the recovery study's bookkeeping. One slow
test runs the real model end to end through ``sco-sim calibrate``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

pytest.importorskip("pyabc")

from sim.analysis import abc_smc, posterior, recovery
from sim.analysis.calibration import CalibrationError, load_calibration
from sim.analysis.posterior_validation import read_posterior, validate_posterior
from sim.analysis.simulator import COUNTERS, Space
from sim.cli import main
from sim.scenario import load_scenario

from .conftest import ROOT, SCENARIOS

HISTORY = SCENARIOS / "history_1996.toml"
SPACE = Space({"tolerance": (0.0, 1.0), "agenda_size": (1, 3)}, {"tolerance": "rules", "agenda_size": "parameters"},
              frozenset({"agenda_size"}))  # fmt: skip
OBSERVED = {"x": 0.3, "y": 2.0}


@dataclass
class Toy:
    """A stand-in for the simulator: x ~ tolerance + noise, y = agenda_size (rounded) + noise."""

    space: Space = SPACE
    shared: object = None
    counts: dict = field(default_factory=lambda: dict.fromkeys(COUNTERS, 0.0))

    def __call__(self, parameters):
        point = self.space.point(parameters)
        self.counts["calls"] += 1
        self.counts["model_cpu"] += 1e-3
        self.counts["model_seconds"] += 1e-3
        return {
            "x": point["tolerance"] + 0.05 * np.random.normal(),
            "y": point["agenda_size"] + 0.1 * np.random.normal(),
        }


BUDGET = abc_smc.AbcBudget(population_size=25, max_simulations=10_000, max_generations=3, base_seed=3)


@pytest.mark.slow  # about 4 s: pyabc's database work, generation by generation
def test_an_interrupted_and_resumed_run_gives_the_uninterrupted_posterior(tmp_path):
    whole = abc_smc.run_abc(Toy(), OBSERVED, BUDGET, tmp_path / "a" / "abc.db")
    first = abc_smc.run_abc(Toy(), OBSERVED, BUDGET, tmp_path / "b" / "abc.db", stop_after=1)
    assert int(first.history.max_t) == 0 and first.resumed_from == 0
    resumed = abc_smc.run_abc(Toy(), OBSERVED, BUDGET, tmp_path / "b" / "abc.db", resume=True)
    assert resumed.resumed_from == 1 and int(resumed.history.max_t) == 2 == int(whole.history.max_t)
    a, b = whole.population(), resumed.population()
    pd.testing.assert_frame_equal(a[0].reset_index(drop=True), b[0].reset_index(drop=True))
    np.testing.assert_allclose(a[1], b[1])
    generations = abc_smc.generations_table(whole.history)
    pd.testing.assert_frame_equal(generations, abc_smc.generations_table(resumed.history))
    assert list(generations["generation"]) == [0, 1, 2]
    assert resumed.total_simulations == whole.total_simulations
    # the posterior found the observed point
    table = posterior.posterior_table(*a, SPACE).set_index("parameter")
    assert abs(table.loc["rules.tolerance", "median"] - 0.3) < 0.2
    assert table.loc["parameters.agenda_size", "median"] == 2


def test_without_resume_the_database_starts_afresh(tmp_path):
    abc_smc.run_abc(Toy(), OBSERVED, BUDGET, tmp_path / "abc.db", stop_after=1)
    again = abc_smc.run_abc(Toy(), OBSERVED, BUDGET, tmp_path / "abc.db", stop_after=1)
    assert again.resumed_from == 0 and int(again.history.max_t) == 0
    assert (tmp_path / "abc.weights.json").exists()


def test_posterior_csv_has_draw_then_dotted_keys_and_equal_weights(tmp_path):
    population = pd.DataFrame({"tolerance": [0.1, 0.2, 0.3, 0.4], "agenda_size": [1.2, 2.6, 2.4, 3.4]})
    weights = np.array([0.1, 0.2, 0.3, 0.4])
    sample = posterior.equal_weight_sample(population, weights, SPACE, draws=1000, seed=1)
    assert list(sample.columns) == ["draw", "rules.tolerance", "parameters.agenda_size"]
    assert list(sample["draw"]) == list(range(1000))
    assert sample["parameters.agenda_size"].dtype.kind == "i" and set(sample["parameters.agenda_size"]) <= {
        1,
        2,
        3,
    }
    shares = sample["rules.tolerance"].value_counts(normalize=True).sort_index()
    np.testing.assert_allclose(shares.to_numpy(), weights, atol=0.002)  # systematic resampling
    path = tmp_path / "posterior.csv"
    sample.to_csv(path, index=False)
    scenario = load_scenario(HISTORY)
    rows = read_posterior(path, scenario, draws=3)
    assert [number for number, _ in rows] == [0, 1, 2]
    assert set(rows[0][1]) == {"rules", "parameters"} and isinstance(
        rows[0][1]["parameters"]["agenda_size"], int
    )


def test_posterior_median_and_quantiles_are_weighted():
    population = pd.DataFrame({"tolerance": [0.9, 0.1, 0.2], "agenda_size": [3.2, 1.0, 2.4]})
    chosen = posterior.posterior_median(population, np.array([0.3, 0.3, 0.4]), SPACE)
    assert chosen == {"tolerance": pytest.approx(0.2), "agenda_size": 2}
    values = np.arange(100.0)
    assert abs(posterior.weighted_quantile(values, np.ones(100), 0.5) - 49.5) < 1e-9


@pytest.mark.parametrize(
    ("body", "key", "words"),
    [
        ("draw,rules.tolerence\n0,0.1\n", "rules.tolerence", "not a [parameters] or [rules] key"),
        ("rules.tolerance\n0.1\n", "", "a column 'draw'"),
        ("draw,rules.tolerance\n0,-1\n", "rules.tolerance", "draw 0"),
        ("draw,rules.tolerance\n0,0.1\n", "", "has 1 draws"),
    ],
)
def test_a_bad_posterior_file_is_one_line(tmp_path, body, key, words):
    path = tmp_path / "posterior.csv"
    path.write_text(body)
    draws = 2 if "has 1" in words else 1
    with pytest.raises(CalibrationError) as info:
        read_posterior(path, load_scenario(HISTORY), draws)
    line = info.value.one_line()
    assert str(path) in line and key in line and words in line


def test_validate_over_posterior_draws(tmp_path):
    path = tmp_path / "posterior.csv"
    path.write_text("draw,rules.tolerance,parameters.agenda_size\n0,0.1,4\n1,0.05,3\n")
    result = validate_posterior(HISTORY, path, draws=2, workers=1)
    assert list(result.runs["draw"]) == [0, 1] and len(result.seeds) == 2
    assert set(result.table["pattern"]) == {"P1", "P2", "P3", "P4", "P5", "P6", "P7"}


def test_recovery_table_contraction_coverage_and_verdict():
    rows = pd.DataFrame(
        {
            "parameter": ["a"] * 3 + ["b"] * 3,
            "true": [0.1, 0.5, 0.9, 0.1, 0.5, 0.9],
            "mean": [0.15, 0.45, 0.85, 0.5, 0.5, 0.5],
            "contraction": [0.6, 0.7, 0.8, 0.0, 0.1, -0.1],
            "covered": [True, True, False, True, True, True],
            "error": [0.05, 0.05, 0.05, 0.4, 0.0, 0.4],
        }
    )
    table = recovery.recovery_table(rows, min_contraction=0.2, min_correlation=0.5).set_index("parameter")
    assert table.loc["a", "contraction"] == pytest.approx(0.7) and table.loc[
        "a", "coverage"
    ] == pytest.approx(2 / 3)
    assert table.loc["a", "identified"] and not table.loc["b", "identified"]
    assert np.isnan(table.loc["b", "correlation"])  # posterior means that never move


def test_calibration_files_of_either_method(tmp_path):
    shipped = load_calibration(ROOT / "experiments" / "calibrate_history.toml")
    assert shipped.file.method == "abc-smc" and shipped.file.abc.max_simulations >= 100_000
    assert set(shipped.fitted) | set(shipped.assumed) == set(shipped.file.ranges)
    assert load_calibration(ROOT / "experiments" / "calibrate_history_lhs.toml").file.method == "lhs"
    bad = {
        'method = "abc-smc"\nsamples = 4\n': ("samples", 'method "lhs"'),
        'method = "abc-smc"\nfit = ["trust_gain"]\n': ("fit", "no range"),
        "[abc]\npopulation_size = 50\n": ("abc", 'method = "abc-smc"'),
        'method = "abc-smc"\n[abc]\npopulation = 50\n': ("abc.population", "unknown key"),
    }
    for body, (key, words) in bad.items():
        path = tmp_path / "cal.toml"
        path.write_text(f'scenario = "{HISTORY}"\n{body}\n[ranges]\ntolerance = [0.03, 0.12]\n')
        with pytest.raises(CalibrationError) as info:
            load_calibration(path)
        assert key in info.value.one_line() and words in info.value.one_line(), body


def tiny_file(folder: Path, extra: str = "") -> Path:
    path = folder / "cal.toml"
    path.write_text(
        f'scenario = "{HISTORY}"\nmethod = "abc-smc"\nfit = ["tolerance", "agenda_size"]\n{extra}'
        "[abc]\npopulation_size = 12\nmax_simulations = 30\ndraws = 20\npredictive_draws = 3\n"
        "[recovery]\ntruths = 2\npopulation_size = 10\nmax_simulations = 20\n"
        "[ranges]\ntolerance = [0.03, 0.12]\nagenda_size = [2, 5]\nbalancing_rate = [0.1, 1.5]\n"
    )
    return path


@pytest.mark.slow
def test_calibrate_command_runs_abc_smc_end_to_end_and_applies_the_median(tmp_path, capsys):
    import shutil

    scenario = tmp_path / "history.toml"
    shutil.copy(HISTORY, scenario)
    path = tiny_file(tmp_path).rename(tmp_path / "c.toml")
    path.write_text(path.read_text().replace(str(HISTORY), str(scenario)))
    out = tmp_path / "out"
    status = main(["calibrate", str(path), "--out", str(out), "--workers", "1", "--apply", "--no-progress"])
    captured = capsys.readouterr()
    assert status == 0, captured.err
    assert "ABC-SMC calibration of history.toml: 2 parameters fitted" in captured.out
    assert "not fitted (kept at the scenario's values): balancing_rate" in captured.out
    sample = pd.read_csv(out / "posterior.csv")
    assert list(sample.columns) == ["draw", "rules.tolerance", "parameters.agenda_size"] and len(sample) == 20
    chosen = json.loads((out / "chosen.json").read_text())
    assert chosen["rule"] == "weighted posterior median"
    applied = load_scenario(scenario)
    assert applied.rules.tolerance == pytest.approx(chosen["values"]["tolerance"])
    assert applied.parameters.agenda_size == chosen["values"]["agenda_size"]
    timing = json.loads((out / "timing.json").read_text())
    assert timing["simulations"] >= 30 and timing["cpu_ratio"] > 1.0
    predictive = pd.read_csv(out / "predictive.csv")
    assert len(predictive) == len(posterior.summaries.NAMES) and predictive["p_value"].between(0, 1).all()


@pytest.mark.slow
def test_recovery_study_on_a_tiny_budget_and_its_resume(tmp_path, monkeypatch):
    cal = load_calibration(tiny_file(tmp_path))
    settings = cal.file.recovery
    budget = abc_smc.AbcBudget(settings.population_size, settings.max_simulations, 3, 0.5, 0.0, 7)
    plan = recovery.RecoveryPlan(str(cal.scenario), cal.space(list(cal.file.ranges)), 2, budget)
    truths = plan.truth_points()
    assert len(truths) == 2 and all(1.5 <= t["agenda_size"] <= 5.5 for t in truths)
    rows, table = recovery.run_recovery(plan, tmp_path / "r", workers=1)
    assert len(rows) == 2 * 3 and set(table["parameter"]) == {
        "rules.tolerance",
        "parameters.agenda_size",
        "parameters.balancing_rate",
    }
    assert (rows["lower"] <= rows["upper"]).all() and rows["contraction"].le(1).all()
    assert "identified" in recovery.format_recovery(table, plan)
    monkeypatch.setattr(recovery, "recover_one", lambda *a: pytest.fail("a finished truth was refitted"))
    again, _ = recovery.run_recovery(plan, tmp_path / "r", workers=1, resume=True)
    pd.testing.assert_frame_equal(rows, again)


def test_box_kernel_is_pyabcs_kernel_with_twice_the_covariance_and_stays_finite():
    from pyabc.transition import MultivariateNormalTransition

    from sim.analysis.pyabc_parts import BoxPrior, BoxTransition

    rng = np.random.default_rng(0)
    bounds = {"a": (0.0, 0.2), "b": (0.0, 100.0)}
    frame = pd.DataFrame({"a": rng.uniform(0.05, 0.15, 50), "b": rng.uniform(20, 80, 50)})
    w = rng.uniform(0.5, 1.5, 50)
    # pyabc's kernel with the bandwidth ours uses: twice the weighted covariance
    ours, theirs = BoxTransition(bounds), MultivariateNormalTransition(bandwidth_selector=lambda n, d: 2**0.5)
    ours.fit(frame, w)
    theirs.fit(frame, w)
    np.random.seed(1)
    proposals = ours.rvs(size=200)
    assert (
        (proposals["a"] >= 0) & (proposals["a"] <= 0.2) & (proposals["b"] >= 0) & (proposals["b"] <= 100)
    ).all()
    np.testing.assert_allclose(ours.pdf(proposals), theirs.pdf(proposals), rtol=1e-8)
    prior = BoxPrior(bounds)
    assert prior.pdf({"a": 0.1, "b": 50}) == pytest.approx(1 / 20) and prior.pdf({"a": 0.3, "b": 50}) == 0
    # nearly collinear, scales 1e4 apart: scipy's singular kernel gave density 0 (infinite weights)
    b = rng.uniform(20, 80, 50)
    tight = pd.DataFrame({"a": 0.001 * b / 80 + 1e-9 * rng.normal(size=50), "b": b})
    ours.fit(tight, w)
    assert all(ours.pdf(ours.rvs_single()) > 0 for _ in range(50))


@pytest.mark.slow  # about 3 s
def test_a_hard_budget_is_a_ceiling_and_a_soft_one_a_floor(tmp_path):
    hard = abc_smc.AbcBudget(
        population_size=20, max_simulations=150, max_generations=10, base_seed=2, hard=True
    )
    run = abc_smc.run_abc(Toy(), OBSERVED, hard, tmp_path / "h" / "abc.db")
    assert run.total_simulations <= 150 and run.simulations >= run.total_simulations
    soft = abc_smc.AbcBudget(population_size=20, max_simulations=150, max_generations=10, base_seed=2)
    assert abc_smc.run_abc(Toy(), OBSERVED, soft, tmp_path / "s" / "abc.db").total_simulations >= 150
