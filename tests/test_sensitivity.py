"""Sensitivity analysis: the [sensitivity] table, SALib sampling and indices, the fragility rule, the command."""

from __future__ import annotations

import json

import matplotlib
import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose

from sim.analysis.sensitivity import classify, indices, point_effects, point_signs
from sim.charts.sensitivity import effects_data, indices_data, plot_effects, plot_indices
from sim.cli import main
from sim.errors import ExperimentError
from sim.experiments.claims import ParsedEffect, parse_effects
from sim.experiments.design import load_experiment, load_sensitivity
from sim.experiments.sensitivity import FreeParameter, draw_sample, free_parameters, sample_points

from .conftest import DATA, ROOT

matplotlib.use("Agg")

MINI = DATA / "mini_sensitivity.toml"
SHIPPED = ROOT / "experiments" / "sensitivity_h1_h3.toml"
TINY = (DATA / "tiny.toml").as_posix()

HEAD = f"""
schema_version = 1
name = "s"
base_seed = 3
replications = 2
[arms.a]
scenario = "{TINY}"
[arms.b]
scenario = "{TINY}"
overrides = {{ rules = {{ decision_rule = "qualified_majority" }} }}
[metrics.blocked]
column = "blocked"
aggregate = "sum"
"""


def experiment(tmp_path, sensitivity: str, head: str = HEAD):
    path = tmp_path / "exp.toml"
    path.write_text(head + "\n[sensitivity]\n" + sensitivity)
    return path


GOOD = 'parameters = { tolerance = [0.02, 0.1] }\neffects = { e = "blocked[b] - blocked[a]" }\n'


def error_of(tmp_path, sensitivity: str, head: str = HEAD) -> str:
    with pytest.raises(ExperimentError) as info:
        load_experiment(experiment(tmp_path, sensitivity, head))
    return info.value.one_line()


# --- the [sensitivity] table ---------------------------------------------------------------------


def test_a_good_table_loads_and_bare_and_dotted_names_resolve(tmp_path):
    path = experiment(tmp_path, 'parameters = { tolerance = [0.02, 0.1], "parameters.agenda_size" = [2, 5] }\n'
                                'effects = { e = "blocked[b] - blocked[a]" }\n')  # fmt: skip
    design = load_sensitivity(path)
    assert [p.key for p in design.parameters] == ["rules.tolerance", "parameters.agenda_size"]
    assert [p.integer for p in design.parameters] == [False, True]
    assert design.effects[0] == ParsedEffect("e", "blocked[b] - blocked[a]", "blocked", "b", "a")
    # Morris: 10 trajectories x (2 + 1) points; every point on both arms, with the file's 2 replications
    assert len(design.points) == 30 and len(design.runs) == 30 * 2 * 2
    assert all(p["parameters.agenda_size"] in (2.0, 3.0, 4.0, 5.0) for p in design.points)
    run = design.runs[7]
    assert run.scenario.rules.tolerance == pytest.approx(design.points[run.point]["rules.tolerance"])


@pytest.mark.parametrize(
    ("table", "expected"),
    [
        ('parameters = { tolerence = [0.02, 0.1] }\neffects = { e = "blocked[b] - blocked[a]" }\n',
         "key 'sensitivity.parameters.tolerence': unknown parameter 'tolerence'; did you mean 'tolerance'?"),
        ('parameters = { decision_rule = [0, 1] }\neffects = { e = "blocked[b] - blocked[a]" }\n',
         "unknown parameter 'decision_rule'"),
        ('parameters = { "parameters.tolerance" = [0, 1] }\neffects = { e = "blocked[b] - blocked[a]" }\n',
         "unknown parameter 'parameters.tolerance'"),
        ('parameters = { tolerance = [0.1, 0.05] }\neffects = { e = "blocked[b] - blocked[a]" }\n',
         "key 'sensitivity.parameters.tolerance': expected [low, high] with low < high, got [0.1, 0.05]"),
        ('parameters = { dilution_step = [0.1, 1.0] }\neffects = { e = "blocked[b] - blocked[a]" }\n',
         "key 'sensitivity.parameters.dilution_step': the high end 1 is not allowed"),
        ('parameters = { trust_gain = [-0.1, 0.1] }\neffects = { e = "blocked[b] - blocked[a]" }\n',
         "the low end -0.1 is not allowed"),
        ('parameters = { agenda_size = [3, 3.5] }\neffects = { e = "blocked[b] - blocked[a]" }\n',
         "'agenda_size' is a whole number: give a range at least 1 wide"),
        ('parameters = { tolerance = [0.1] }\neffects = { e = "blocked[b] - blocked[a]" }\n',
         "key 'sensitivity.parameters.tolerance"),
        ('parameters = {}\neffects = { e = "blocked[b] - blocked[a]" }\n',
         "key 'sensitivity.parameters': expected at least one parameter"),
        ('parameters = { tolerance = [0.02, 0.1] }\neffects = { e = "blocked[b] < blocked[a]" }\n',
         "key 'sensitivity.effects.e': expected 'metric[arm_a] - metric[arm_b]'"),
        ('parameters = { tolerance = [0.02, 0.1] }\neffects = { e = "rate[b] - rate[a]" }\n',
         "unknown metric 'rate' (metrics: blocked)"),
        ('parameters = { tolerance = [0.02, 0.1] }\neffects = { e = "blocked[c] - blocked[a]" }\n',
         "unknown arm 'c' (arms: a, b)"),
        ('parameters = { tolerance = [0.02, 0.1] }\neffects = { e = "blocked[a] - blocked[a]" }\n',
         "an effect compares two different arms"),
        ('parameters = { tolerance = [0.02, 0.1] }\neffects = { e = { difference = "blocked[b] - blocked[a]", expected = "down" } }\n',
         "key 'sensitivity.effects.e"),
        ('method = "sobol"\nsamples = 48\n' + GOOD, "key 'sensitivity.samples': Sobol' samples must be a power of 2"),
        ('method = "sobol"\ntrajectories = 4\n' + GOOD, "key 'sensitivity.trajectories': 'trajectories' is for method"),
        ("samples = 64\n" + GOOD, "key 'sensitivity.samples': 'samples' is for method = \"sobol\""),
        ("levels = 5\n" + GOOD, "key 'sensitivity.levels': Morris needs an even number of levels"),
        ('method = "fast"\n' + GOOD, "key 'sensitivity.method'"),
        ("replications = 0\n" + GOOD, "key 'sensitivity.replications'"),
        ("colour = 1\n" + GOOD, "key 'sensitivity.colour': unknown key"),
    ],
)  # fmt: skip
def test_bad_tables_give_one_line_errors_naming_file_and_key(tmp_path, table, expected):
    message = error_of(tmp_path, table)
    assert message.startswith(str(tmp_path / "exp.toml") + ": ")
    assert expected in message
    assert "\n" not in message


def test_a_parameter_also_set_by_an_arm_or_a_sweep_is_refused(tmp_path):
    head = HEAD.replace(
        'decision_rule = "qualified_majority"', 'decision_rule = "qualified_majority", tolerance = 0.05'
    )
    assert "'rules.tolerance' is also set in the overrides of arm 'b'" in error_of(tmp_path, GOOD, head)
    sweep = HEAD + '[sweep]\nmethod = "grid"\n[sweep.parameters."rules.tolerance"]\nvalues = [0.05]\n'
    assert "either a [sweep] or a [sensitivity] table" in error_of(tmp_path, GOOD, sweep)


def test_an_experiment_without_the_table_cannot_run_a_sensitivity(tmp_path):
    path = tmp_path / "plain.toml"
    path.write_text(HEAD)
    with pytest.raises(ExperimentError, match=r"key 'sensitivity': has no \[sensitivity\] table"):
        load_sensitivity(path)
    load_experiment(path)  # still a valid batch


def test_sensitivity_replications_default_to_the_files(tmp_path):
    design = load_sensitivity(experiment(tmp_path, "trajectories = 2\n" + GOOD))
    assert design.experiment.replications == 2 and len(design.runs) == 2 * 2 * 2 * 2
    design = load_sensitivity(experiment(tmp_path, "trajectories = 2\nreplications = 3\n" + GOOD))
    assert len(design.runs) == 2 * 2 * 2 * 3
    seeds = {(r.arm, r.point, r.replication): r.seed for r in design.runs}
    assert seeds[("a", 0, 1)] == seeds[("b", 3, 1)]  # common random numbers across arms and points


# --- sampling and indices -------------------------------------------------------------------------

X1 = FreeParameter("x1", "parameters.x1", 0.0, 1.0, False)
X2 = FreeParameter("x2", "parameters.x2", -5.0, 5.0, False)


def test_morris_ranks_a_linear_model_exactly():
    sample = draw_sample("morris", [X1, X2], seed=1, trajectories=8)
    assert sample.shape == (8 * 3, 2)
    y = 10 * sample[:, 0] + 0 * sample[:, 1]
    table = indices("morris", [X1, X2], sample, y)
    # an elementary effect is the change per unit of the range scaled to 0-1: 10 for x1
    assert_allclose(table["mu_star"], [10.0, 0.0], atol=1e-12)
    assert_allclose(table["mu"], [10.0, 0.0], atol=1e-12)
    assert_allclose(table["sigma"], [0.0, 0.0], atol=1e-12)
    assert list(table["parameter"]) == ["x1", "x2"]


def test_morris_measures_effects_per_range_not_per_unit():
    sample = draw_sample("morris", [X1, X2], seed=2, trajectories=6)
    y = sample[:, 1]  # slope 1 per unit of x2, whose range is 10 wide
    table = indices("morris", [X1, X2], sample, y)
    assert_allclose(table["mu_star"], [0.0, 10.0], atol=1e-12)


def test_sobol_ranks_a_linear_model():
    sample = draw_sample("sobol", [X1, X2], seed=1, samples=256)
    assert sample.shape == (256 * 4, 2)
    y = 10 * sample[:, 0] + 0.5 * sample[:, 1] / 5  # variances 100/12 and 0.25/3: x1 dominates
    table = indices("sobol", [X1, X2], sample, y)
    assert table.loc[0, "ST"] == pytest.approx(0.99, abs=0.03)
    assert table.loc[1, "ST"] == pytest.approx(0.01, abs=0.02)
    assert table.loc[0, "S1"] > 0.9 > 0.1 > table.loc[1, "S1"]


def test_a_constant_output_has_zero_indices_without_warnings():
    sample = draw_sample("sobol", [X1, X2], seed=1, samples=16)
    table = indices("sobol", [X1, X2], sample, np.ones(len(sample)))
    assert (table[["ST", "S1"]].to_numpy() == 0).all()
    with pytest.raises(ValueError, match="missing values"):
        indices("morris", [X1, X2], np.zeros((3, 2)), np.array([1.0, np.nan, 2.0]))


def test_same_seed_same_sample_and_indices():
    a = draw_sample("morris", [X1, X2], seed=7, trajectories=5)
    b = draw_sample("morris", [X1, X2], seed=7, trajectories=5)
    c = draw_sample("morris", [X1, X2], seed=8, trajectories=5)
    assert (a == b).all() and not (a == c).all()
    y = np.sin(3 * a[:, 0]) + a[:, 1] ** 2
    pd.testing.assert_frame_equal(indices("morris", [X1, X2], a, y), indices("morris", [X1, X2], b, y))
    assert (
        draw_sample("sobol", [X1, X2], 3, samples=8) == draw_sample("sobol", [X1, X2], 3, samples=8)
    ).all()


def test_whole_number_parameters_are_rounded_in_the_points():
    n = FreeParameter("agenda_size", "parameters.agenda_size", 2.0, 5.0, True)
    points = sample_points(np.array([[0.3, 2.4], [0.7, 4.6]]), [X1, n])
    assert points == [{"parameters.x1": 0.3, "parameters.agenda_size": 2.0},
                      {"parameters.x1": 0.7, "parameters.agenda_size": 5.0}]  # fmt: skip


def test_loading_twice_gives_the_same_runs(tmp_path):
    path = experiment(tmp_path, "trajectories = 3\n" + GOOD)
    first, second = load_sensitivity(path), load_sensitivity(path)
    assert [r.run_id for r in first.runs] == [r.run_id for r in second.runs]
    assert (first.sample == second.sample).all()
    assert first.describe()["sensitivity"]["sample"] == first.sample.tolist()


# --- effects per point and the fragility rule -----------------------------------------------------


def summaries(diffs: dict[int, list[float]]) -> pd.DataFrame:
    """Runs of arms a and b whose paired differences a - b are the given values, point by point."""
    rows = []
    for point, values in diffs.items():
        for replication, d in enumerate(values):
            rows.append({"arm": "b", "point": point, "replication": replication, "status": "ok", "m": 1.0})
            rows.append(
                {"arm": "a", "point": point, "replication": replication, "status": "ok", "m": 1.0 + d}
            )
    return pd.DataFrame(rows)


EFFECT = ParsedEffect("e", "m[a] - m[b]", "m", "a", "b", "negative")


def test_point_effects_are_mean_paired_differences_with_standard_errors():
    table = point_effects(summaries({0: [-1.0, -3.0], 1: [0.5, -0.5], 2: [2.0]}), EFFECT, n_points=4)
    assert list(table["point"]) == [0, 1, 2, 3]
    assert list(table["n"]) == [2, 2, 1, 0]
    assert_allclose(table["effect"], [-2.0, 0.0, 2.0, np.nan])
    assert_allclose(table["se"], [1.0, 0.5, np.nan, np.nan])  # sd / sqrt(n), ddof = 1
    assert_allclose(table["margin"], [12.7062, 6.3531, np.nan, np.nan], rtol=1e-4)  # t(0.975, 1) * se
    # -2 + 12.7 is not below 0: unclear; one replication: the sign decides
    assert list(table["sign"]) == ["unclear", "unclear", "positive", "missing"]
    many = point_effects(summaries({0: [-1.0, -1.2, -0.8, -1.1, -0.9]}), EFFECT, n_points=1)
    assert many.loc[0, "margin"] == pytest.approx(
        2.7764 * np.std([-1.0, -1.2, -0.8, -1.1, -0.9], ddof=1) / 5**0.5, rel=1e-4
    )
    assert many.loc[0, "sign"] == "negative"


def test_point_signs_need_the_interval_on_one_side_of_zero():
    signs = point_signs(np.array([-1.0, -1.0, 1.0, 0.0, 0.3]), np.array([0.8, 1.2, 0.2, np.nan, np.nan]))
    assert signs == ["negative", "unclear", "positive", "unclear", "positive"]


def points(effects, margin):
    table = pd.DataFrame({"point": range(len(effects)), "effect": effects, "margin": margin})
    table["sign"] = point_signs(table["effect"].to_numpy(float), table["margin"].to_numpy(float))
    return table


def test_both_clear_signs_make_a_finding_fragile():
    s = classify(points([-0.5, -0.4, 0.3, -0.01], [0.1, 0.1, 0.1, 0.1]), expected="negative")
    assert s["verdict"] == "fragile" and s["direction"] == "both" and s["as_expected"] is None
    assert (s["n_clear_negative"], s["n_clear_positive"], s["n_unclear"]) == (2, 1, 1)
    assert s["share_negative"] == 0.75 and s["share_positive"] == 0.25
    assert (s["min"], s["max"]) == (-0.5, 0.3)


def test_one_clear_sign_everywhere_is_robust_and_checked_against_the_expectation():
    s = classify(points([-0.5, -0.4, -0.3], [0.1, 0.1, 0.1]), expected="negative")
    assert s["verdict"] == "robust" and s["direction"] == "negative" and s["as_expected"] is True
    s = classify(points([0.5, 0.4], [0.1, 0.1]), expected="negative")
    assert s["verdict"] == "robust" and s["as_expected"] is False


def test_noise_at_some_points_without_a_flip_is_uncertain():
    s = classify(points([-0.5, -0.05, 0.05], [0.1, 0.1, 0.1]))
    assert s["verdict"] == "uncertain" and s["direction"] == "negative" and s["n_unclear"] == 2
    assert classify(points([0.0, 0.0], [0.0, 0.0]))["direction"] == "none"


def test_without_replicated_points_the_raw_sign_decides_and_says_so():
    s = classify(points([-0.5, 0.1], [np.nan, np.nan]))
    assert s["verdict"] == "fragile" and "not estimated" in s["noise"]
    assert classify(points([np.nan], [np.nan]))["verdict"] == "insufficient data"


# --- charts -----------------------------------------------------------------------------------------


def sensitivity_table():
    return pd.DataFrame(
        {
            "effect": ["h3", "h3", "h1", "h1"],
            "parameter": ["p", "q", "p", "q"],
            "mu_star": [0.1, 0.3, 2.0, 1.0],
            "mu_star_conf": [0.01, 0.02, 0.5, 0.4],
            "sigma": [0.2, 0.1, 1.0, 0.5],
            "mu": [0.1, -0.3, 2.0, 1.0],
            "rank": [2, 1, 1, 2],
            "verdict": ["robust", "robust", "fragile", "fragile"],
        }
    )


def test_indices_data_orders_effects_as_given_and_parameters_by_rank():
    data = indices_data(sensitivity_table())
    assert list(zip(data["effect"], data["parameter"], strict=True)) == [
        ("h3", "q"),
        ("h3", "p"),
        ("h1", "p"),
        ("h1", "q"),
    ]
    assert list(data["bar"]) == [0.3, 0.1, 2.0, 1.0] and list(data["second"]) == [0.1, 0.2, 1.0, 0.5]
    assert data["second_conf"].isna().all() and data.attrs["method"] == "morris"
    sobol = pd.DataFrame({"effect": ["e"], "parameter": ["p"], "ST": [0.8], "ST_conf": [0.1], "S1": [0.6],
                          "S1_conf": [0.05], "rank": [1], "verdict": ["uncertain"]})  # fmt: skip
    data = indices_data(sobol)
    assert (data.attrs["method"], data.loc[0, "bar"], data.loc[0, "second_conf"]) == ("sobol", 0.8, 0.05)


def test_effects_data_sorts_points_and_spans_two_standard_errors():
    table = pd.DataFrame(
        {
            "name": ["e", "e", "e", "f"],
            "point": [0, 1, 2, 0],
            "effect": [0.5, -0.2, np.nan, 1.0],
            "margin": [0.2, np.nan, np.nan, 0.5],
            "sign": ["positive", "negative", "missing", "positive"],
        }
    )
    data = effects_data(table)
    assert list(data["point"]) == [1, 0, 0] and list(data["order"]) == [0, 1, 0]
    assert_allclose(data["low"], [-0.2, 0.3, 0.5])
    assert_allclose(data["high"], [-0.2, 0.7, 1.5])


def test_charts_render():
    figure = plot_indices(indices_data(sensitivity_table()), {"h1": "H1: consensus"})
    assert len(figure.axes) == 2 and figure.axes[1].get_title(loc="left") == "H1: consensus  [fragile]"
    points_table = pd.DataFrame({"name": ["e", "e"], "point": [0, 1], "effect": [0.1, -0.1], "margin": [0.02, 0.4],
                                 "sign": ["positive", "unclear"]})  # fmt: skip
    figure = plot_effects(effects_data(points_table))
    assert len(figure.axes) == 1


# --- end to end ---------------------------------------------------------------------------------------


def sco_sim(capsys, *args):
    """Run the command line in this process (fast); return the exit status, stdout and stderr."""
    status = main([str(a) for a in args])
    captured = capsys.readouterr()
    return status, captured.out, captured.err


@pytest.mark.slow
def test_sensitivity_command_runs_analyses_and_redoes_the_analysis(tmp_path, capsys):
    out = tmp_path / "mini"
    status, stdout, stderr = sco_sim(
        capsys, "sensitivity", MINI, "--out", out, "--sequential", "--no-progress"
    )
    assert status == 0, stderr
    assert (
        "morris sample of 2 parameters (2 trajectories x 3 = 6 points) x 2 arms x 2 seeds = 24 runs" in stdout
    )
    assert "done: 24 runs" in stdout
    assert "blocked: blocked[qmv] - blocked[consensus]  (qualified majority blocks less)" in stdout
    assert "mu*" in stdout and "tolerance" in stdout
    table = pd.read_csv(out / "sensitivity.csv")
    assert set(table["effect"]) == {"blocked", "balance"}
    assert list(table.columns[:5]) == ["effect", "parameter", "key", "low", "high"]
    assert {"mu_star", "mu_star_conf", "sigma", "mu", "rank", "verdict"} <= set(table.columns)
    report = json.loads((out / "sensitivity.json").read_text())
    assert report["method"] == "morris" and report["n_points"] == 6 and report["n_runs_ok"] == 24
    for effect in report["effects"]:
        assert effect["verdict"] in ("robust", "fragile", "uncertain")
        assert effect["verdict_line"].split(":")[0] == effect["verdict"].upper()
        assert effect["verdict_line"] in stdout
    points_table = pd.read_csv(out / "sensitivity_points.csv")
    assert len(points_table) == 2 * 6 and {"tolerance", "parameters.agenda_size"} <= set(points_table.columns)
    for name in ("sensitivity", "sensitivity_effects"):
        assert (out / "charts" / f"{name}.png").stat().st_size > 5000
        assert (out / "charts" / f"{name}.svg").exists()
    first = (out / "sensitivity.csv").read_bytes()
    first_png = (out / "charts" / "sensitivity.png").read_bytes()

    status, again, stderr = sco_sim(capsys, "sensitivity", "--analyze-only", out)
    assert status == 0, stderr
    assert (out / "sensitivity.csv").read_bytes() == first
    assert (out / "charts" / "sensitivity.png").read_bytes() == first_png
    assert stdout.split("morris sensitivity:")[1] == again.split("morris sensitivity:")[1]

    status, resumed, stderr = sco_sim(capsys, "sensitivity", MINI, "--out", out, "--resume", "--sequential",
                                      "--no-progress")  # fmt: skip
    assert status == 0, stderr
    assert "nothing to run: all 24 runs are already stored" in resumed


def test_sensitivity_command_errors_are_one_line(tmp_path, capsys):
    bad = experiment(
        tmp_path, 'parameters = { tolerence = [0.02, 0.1] }\neffects = { e = "blocked[b] - blocked[a]" }\n'
    )
    status, stdout, stderr = sco_sim(capsys, "sensitivity", bad, "--out", tmp_path / "out")
    assert status == 2 and stderr.count("\n") == 1 and not stdout
    assert "did you mean 'tolerance'" in stderr and not (tmp_path / "out").exists()


@pytest.mark.slow
def test_a_folder_that_is_not_a_sensitivity_sample_is_refused(tmp_path, capsys):
    status, _, stderr = sco_sim(capsys, "sensitivity", "--analyze-only", tmp_path)
    assert status == 2 and "not a results folder" in stderr
    out = tmp_path / "batch"
    status, _, stderr = sco_sim(capsys, "batch", MINI, "--out", out, "--sequential", "--no-progress")
    assert status == 0, stderr
    status, _, stderr = sco_sim(capsys, "sensitivity", "--analyze-only", out)
    assert status == 2 and "holds a batch, not a sensitivity sample" in stderr
    # nor can a sensitivity sample be run or resumed into it
    for extra in ([], ["--resume"]):
        status, _, stderr = sco_sim(capsys, "sensitivity", MINI, "--out", out, "--sequential", *extra)
        assert status == 2 and "holds a batch run by `sco-sim batch`, not a sensitivity sample" in stderr
    # and a batch cannot be resumed into a sensitivity folder
    sens = tmp_path / "sens"
    assert sco_sim(capsys, "sensitivity", MINI, "--out", sens, "--sequential", "--no-progress")[0] == 0
    status, _, stderr = sco_sim(capsys, "batch", MINI, "--out", sens, "--resume", "--sequential")
    assert status == 2 and "has changed since this batch started" in stderr


def test_the_shipped_experiment_validates_with_its_documented_budget():
    design = load_experiment(
        SHIPPED
    )  # checks [sensitivity] too; the 260 scenarios are resolved by the command
    settings = design.experiment.sensitivity
    parameters = free_parameters(design.experiment, str(SHIPPED))
    assert [p.name for p in parameters][:3] == ["tolerance", "dilution_step", "trust_gain"]
    sample = draw_sample(
        "morris", parameters, design.experiment.base_seed, settings.trajectories, settings.levels
    )
    assert len(parameters) == 12 and len(sample) == 10 * 13
    assert settings.replications == 5 and design.arms == ["sco6", "sco8", "sco8_lean_chn"]  # 1950 runs
    effects = parse_effects(design.experiment, str(SHIPPED))
    assert {e.name: e.expected for e in effects} == {
        "H1_consensus": "negative", "H1_diluted": "positive", "H3_balancing": "negative", "H3_lean_chn": "negative"
    }  # fmt: skip
    agenda = {p["parameters.agenda_size"] for p in sample_points(sample, parameters)}
    assert agenda == {2.0, 3.0, 5.0, 6.0}  # four levels on [2, 6] (2, 3.33, 4.67, 6) rounded


def test_a_missing_point_drops_only_its_morris_trajectory():
    from sim.analysis.sensitivity import complete_rows

    y = np.arange(9, dtype=float)  # 3 trajectories of 2 parameters (3 rows each)
    assert complete_rows("morris", y, 2).all()
    y[4] = np.nan
    assert complete_rows("morris", y, 2).tolist() == [True] * 3 + [False] * 3 + [True] * 3
    y[0] = np.nan  # one complete trajectory left: too few for indices
    assert not complete_rows("morris", y, 2).any()
    assert not complete_rows("sobol", np.array([1.0, np.nan, 2.0]), 1).any()
