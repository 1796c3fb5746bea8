"""Experiment files: validation, seeds, run identity, sweeps and metrics."""

from __future__ import annotations

import numpy as np
import pytest

import sim
from sim.cli import main
from sim.experiments.design import ExperimentError, compute_metrics, derive_seeds, load_experiment, run_id

from .conftest import DATA, ROOT

MINI = DATA / "mini_experiment.toml"


def test_mini_experiment_expands_arms_times_seeds():
    design = load_experiment(MINI)
    assert design.arms == ["consensus", "qmv"]
    assert len(design.runs) == 2 * 4
    assert [r.run_index for r in design.runs] == list(range(8))
    assert design.runs[4].scenario.rules.decision_rule == "qualified_majority"
    assert design.claims[0].metric == "blocked" and design.claims[0].op == "<"


def test_seeds_are_distinct_and_shared_across_arms():
    design = load_experiment(MINI)
    by_arm = {arm: [r.seed for r in design.runs if r.arm == arm] for arm in design.arms}
    assert by_arm["consensus"] == by_arm["qmv"]  # common random numbers
    assert len(set(by_arm["consensus"])) == 4
    seeds = derive_seeds(7, 10_000)
    assert len(set(seeds)) == 10_000
    assert derive_seeds(7, 3) == seeds[:3]  # more replications keep the first seeds
    assert derive_seeds(8, 3) != seeds[:3]
    assert all(0 <= s < 2**63 for s in seeds)


def test_run_ids_are_content_hashes():
    design = load_experiment(MINI)
    ids = [r.run_id for r in design.runs]
    assert len(set(ids)) == len(ids)
    again = load_experiment(MINI)
    assert ids == [r.run_id for r in again.runs]
    spec = design.runs[0]
    assert run_id(spec.scenario, spec.seed, spec.arm, spec.point) == spec.run_id
    assert run_id(spec.scenario, spec.seed + 1, spec.arm, spec.point) != spec.run_id
    # two arms that resolve to the same scenario stay separate runs
    assert run_id(spec.scenario, spec.seed, "control", 0) != spec.run_id


def test_metrics_from_a_run():
    design = load_experiment(MINI)
    spec = design.runs[0]
    result = sim.run(spec.scenario, seed=spec.seed)
    values = compute_metrics(design.experiment, result.tables)
    model = result.model
    window = model[(model["year"] >= 2001) & (model["year"] <= 2005)]["consensus_rate"].dropna()
    assert values["consensus_rate"] == pytest.approx(window.mean())
    assert values["blocked"] == model["blocked"].sum()
    states = result.states
    assert values["kaz_alignment_rus"] == states[states["state"] == "KAZ"]["alignment_RUS"].iloc[-1]


def test_first_above_gives_the_first_year_over_the_threshold_or_the_year_after_the_window():
    from sim.experiments.design import Experiment

    nan = float("nan")
    table = {"year": [2000, 2001, 2002, 2003, 2004], "x": [0.0, nan, 0.0, 5.0, 2.0]}

    def value(threshold, years=None):
        metric = {"column": "x", "aggregate": "first_above", "threshold": threshold, "years": years}
        experiment = Experiment(
            name="t", base_seed=1, replications=1, arms={"a": {"scenario": "s.toml"}}, metrics={"m": metric}
        )
        return compute_metrics(experiment, {"model": table})["m"]

    assert value(0.0) == 2003.0  # strictly above; an empty year (NaN) never counts
    assert value(1.0) == 2003.0 and value(3.0) == 2003.0
    assert value(-1.0) == 2000.0
    assert value(0.0, years=(2004, 2004)) == 2004.0
    assert value(6.0, years=(2000, 2003)) == 2004.0  # never: censored at the end of the window + 1
    assert value(6.0) == 2005.0  # no window: the run's last year + 1
    assert value(0.0, years=(2000, 2002)) == 2003.0


def _with_sweep(tmp_path, text):
    path = tmp_path / "sweep.toml"
    path.write_text(MINI.read_text().replace("[arms.consensus]", text + "\n[arms.consensus]"))
    (tmp_path / "tiny.toml").write_text((DATA / "tiny.toml").read_text())
    return load_experiment(path)


def test_grid_sweep(tmp_path):
    design = _with_sweep(
        tmp_path,
        '[sweep]\nmethod = "grid"\n[sweep.parameters."parameters.balancing_rate"]\nvalues = [0.2, 0.8]\n'
        '[sweep.parameters."rules.tolerance"]\nvalues = [0.03, 0.06, 0.09]\n',
    )
    assert len(design.points) == 6
    assert len(design.runs) == 2 * 6 * 4
    run = next(r for r in design.runs if r.point == 5)
    assert run.scenario.parameters.balancing_rate == 0.8 and run.scenario.rules.tolerance == 0.09
    # seeds are shared across sweep points too
    assert {r.seed for r in design.runs if r.point == 0} == {r.seed for r in design.runs if r.point == 5}


@pytest.mark.parametrize("method", ["latin_hypercube", "sobol"])
def test_sampled_sweeps_are_deterministic_and_in_range(tmp_path, method):
    text = (
        f'[sweep]\nmethod = "{method}"\nsamples = 8\n'
        '[sweep.parameters."parameters.balancing_rate"]\nrange = [0.1, 1.0]\n'
        '[sweep.parameters."parameters.agenda_size"]\nrange = [2, 6]\ninteger = true\n'
    )
    a = _with_sweep(tmp_path, text)
    b = _with_sweep(tmp_path, text)
    assert a.points == b.points and len(a.points) == 8
    rates = np.array([p["parameters.balancing_rate"] for p in a.points])
    assert ((rates >= 0.1) & (rates <= 1.0)).all()
    sizes = {r.scenario.parameters.agenda_size for r in a.runs}
    assert sizes <= {2, 3, 4, 5, 6}
    if method == "latin_hypercube":  # one sample in each of the 8 strata
        strata = np.floor((rates - 0.1) / 0.9 * 8).astype(int)
        assert sorted(strata) == list(range(8))


BAD = {
    "unknown_key": (lambda t: t.replace("replications = 4", "replications = 4\ncolour = 1"), "key 'colour': unknown key"),
    "missing_key": (lambda t: t.replace("base_seed = 7\n", ""), "key 'base_seed': missing required key"),
    "bad_number": (lambda t: t.replace("replications = 4", 'replications = "many"'), "key 'replications'"),
    "bad_claim": (lambda t: t.replace("blocked[qmv] < blocked[consensus]", "blocked of qmv is lower"), "claims[0].statement"),
    "unknown_arm": (lambda t: t.replace("blocked[qmv] <", "blocked[sco9] <"), "unknown arm 'sco9'"),
    "unknown_metric": (lambda t: t.replace("blocked[qmv] < blocked[consensus]", "x[qmv] < x[consensus]"), "unknown metric 'x'"),
    "missing_scenario": (lambda t: t.replace('scenario = "tiny.toml"\n\n[arms.qmv]', 'scenario = "none.toml"\n\n[arms.qmv]'), "arm 'consensus'"),
    "bad_override": (lambda t: t.replace('decision_rule = "qualified_majority"', 'decision_rule = "vote"'), "unknown decision rule 'vote'"),
    "window_outside": (lambda t: t.replace("years = [2001, 2005]", "years = [2001, 2040]"), "metrics.consensus_rate.years"),
    "syntax": (lambda t: t.replace('name = "mini"', 'name = "mini'), "TOML syntax error"),
    "unknown_chart": (lambda t: t.replace('"dissent"]', '"pie"]'), "unknown chart 'pie'"),
    "unknown_column": (lambda t: t.replace('column = "consensus_rate"', 'column = "consensus"'), "metrics.consensus_rate.column"),
    "no_threshold": (lambda t: t.replace('aggregate = "sum"', 'aggregate = "first_above"'), "metrics.blocked.threshold"),
    "stray_threshold": (lambda t: t.replace('aggregate = "sum"', 'aggregate = "sum"\nthreshold = 1.0'), "only with aggregate = 'first_above'"),
}  # fmt: skip


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_experiment_gives_one_line(case, tmp_path, capsys):
    edit, fragment = BAD[case]
    (tmp_path / "tiny.toml").write_text((DATA / "tiny.toml").read_text())
    path = tmp_path / f"{case}.toml"
    path.write_text(edit(MINI.read_text()))
    with pytest.raises(ExperimentError):
        load_experiment(path)
    status = main(["batch", str(path), "--out", str(tmp_path / "out"), "--no-progress"])
    err = capsys.readouterr().err
    assert status == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in err
    assert f"{case}.toml" in lines[0] and fragment in lines[0]
    assert not (tmp_path / "out").exists()


def test_shipped_experiments_validate():
    # calibrate_*.toml are calibration files (sim.calibration), tested in test_validation.py
    paths = [p for p in sorted((ROOT / "experiments").glob("*.toml")) if not p.name.startswith("calibrate_")]
    assert len(paths) >= 6
    for path in paths:
        design = load_experiment(path)
        e = design.experiment
        if path.name == "enlargement.toml":  # the demo: 200 runs per arm over 50 posterior draws
            assert e.posterior is not None and e.posterior.draws * e.replications >= 200
        assert design.claims
