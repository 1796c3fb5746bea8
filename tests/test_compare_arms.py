"""sim.compare_arms: the comparison of `sco-sim compare`, from Python, on a batch or on runs made by hand."""

from __future__ import annotations

import pandas as pd
import pytest

import sim
from sim.cli import main
from sim.commands import analyse
from sim.experiments.design import load_experiment

from .conftest import DATA


@pytest.fixture(scope="module")
def batch(tmp_path_factory):
    """The mini experiment with 3 seeds per arm (6 runs), and its file."""
    folder = tmp_path_factory.mktemp("compare-arms")
    text = (DATA / "mini_experiment.toml").read_text().replace("replications = 4", "replications = 3")
    text = text.replace('scenario = "tiny.toml"', f'scenario = "{(DATA / "tiny.toml").as_posix()}"')
    (folder / "mini.toml").write_text(text)
    out = folder / "results"
    assert main(["batch", str(folder / "mini.toml"), "--out", str(out), "--sequential", "--no-progress"]) == 0
    return out, folder / "mini.toml"


def test_on_a_loaded_batch_it_gives_what_sco_sim_compare_writes(batch):
    results = sim.load_results(batch[0])
    comparison = sim.compare_arms(results)
    analysis = analyse(results)
    pd.testing.assert_frame_equal(comparison.claims, analysis.claims)
    pd.testing.assert_frame_equal(comparison.metrics, analysis.metrics)  # the CLI's bootstrap seed
    assert comparison.arms == ["consensus", "qmv"]
    pairs = comparison.pairs("blocked", "qmv", "consensus")
    assert len(pairs) == 3 and list(pairs.columns) == ["point", "replication", "a", "b", "diff"]


def test_on_runs_made_by_hand_it_pairs_them_by_seed_and_agrees_with_the_batch(batch):
    folder, experiment_file = batch
    design = load_experiment(experiment_file)
    runs: dict[str, list] = {"consensus": [], "qmv": []}
    for spec in reversed(design.runs):  # any order: pairs are made by seed
        runs[spec.arm].append(sim.run(spec.scenario, seed=spec.seed))
    metrics = {name: metric.model_dump() for name, metric in design.experiment.metrics.items()}
    claims = [{"id": "rule", "statement": "blocked[qmv] < blocked[consensus]", "band": 1.0,
               "hypothesis": "H5", "band_reason": "a count per run: one blocked item, the unit of the count"}]  # fmt: skip
    by_hand = sim.compare_arms(runs, claims=claims, metrics=metrics)
    stored = analyse(sim.load_results(folder))
    columns = ["metric", "arm", "n", "mean", "median", "sd"]
    pd.testing.assert_frame_equal(by_hand.metrics[columns], stored.metrics[columns], rtol=1e-12)
    pd.testing.assert_frame_equal(
        by_hand.claims.drop(columns=["label"]), stored.claims.drop(columns=["label"])
    )
    assert sorted(by_hand.summaries["seed"]) == sorted(design.seeds * 2)


def test_metrics_of_runs_by_column_table_or_function_and_the_default_set():
    scenario = sim.load_scenario(DATA / "tiny.toml")
    runs = {
        "a": [sim.run(scenario, seed=s) for s in (1, 2)],
        "b": [sim.run(scenario, seed=s) for s in (2, 1)],
    }
    comparison = sim.compare_arms(
        runs,
        metrics={
            "rate": "consensus_rate",
            "blocked": {"column": "blocked", "aggregate": "sum"},
            "end": lambda run: run.model["balancing_index"].iloc[-1],
        },
    )
    first = runs["a"][0]
    row = comparison.summaries.iloc[0]
    assert row["arm"] == "a" and row["seed"] == 1 and row["rate"] == first.model["consensus_rate"].mean()
    assert row["end"] == first.model["balancing_index"].iloc[-1]
    assert (comparison.pairs("rate", "a", "b")["diff"] == 0).all()  # same scenario, same seeds
    assert list(sim.compare_arms(runs).metrics["metric"].unique()) == list(sim.analysis.arms.DEFAULT_METRICS)


def test_mistakes_are_named():
    scenario = sim.load_scenario(DATA / "tiny.toml")
    run = sim.run(scenario, seed=1)
    with pytest.raises(ValueError, match="arm 'a' has two runs with seed 1; runs are paired by seed"):
        sim.compare_arms({"a": [run, run], "b": [run]})
    with pytest.raises(ValueError, match=r"claim 'rate\[a\] = rate\[b\]': expected 'metric\[arm\] < metric"):
        sim.compare_arms({"a": [run], "b": [run]}, claims=[{"statement": "rate[a] = rate[b]", "band": 1}])
    with pytest.raises(
        ValueError, match=r"^metric 'x': key 'aggregate': expected one of 'mean', .*got 'median'$"
    ):
        sim.compare_arms({"a": [run]}, metrics={"x": {"column": "blocked", "aggregate": "median"}})
    with pytest.raises(ValueError, match="has no 'band'"):
        sim.compare_arms({"a": [run], "b": [run]}, claims=[{"statement": "blocked[a] < blocked[b]"}])
