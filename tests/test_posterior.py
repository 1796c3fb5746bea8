"""Experiments over posterior draws: the [posterior] table, its checks, pairing by draw and seed, compare."""

from __future__ import annotations

import hashlib
import json
import shutil

import numpy as np
import pandas as pd
import pytest

from sim.analysis import compare
from sim.analysis.draws import claimed_sign_share
from sim.analysis.verdicts import holm, paired_t, t_interval
from sim.cli import main
from sim.errors import ExperimentError
from sim.experiments.design import derive_draw_seeds, load_experiment, run_id, scenario_digest
from sim.experiments.store import load_results
from sim.scenario import load_scenario
from sim.version import __version__

from .conftest import DATA, assert_same_tables, stored_tables

EXPERIMENT = DATA / "mini_posterior.toml"
POSTERIOR = DATA / "posterior.csv"


def cli(capsys, *argv):
    status = main([str(a) for a in argv])
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def copy_experiment(tmp_path, csv: str | None = None, table: str | None = None):
    """Copy the mini posterior experiment (and tiny.toml) into tmp_path, with another posterior file or table."""
    shutil.copy(DATA / "tiny.toml", tmp_path / "tiny.toml")
    text = EXPERIMENT.read_text()
    if table is not None:
        text = text.replace('[posterior]\nfile = "posterior.csv"\ndraws = 3\n', table)
    (tmp_path / "exp.toml").write_text(text)
    (tmp_path / "posterior.csv").write_text(POSTERIOR.read_text() if csv is None else csv)
    return tmp_path / "exp.toml"


# --- the design ----------------------------------------------------------------------------------


def test_every_arm_gets_the_same_draws_and_each_draw_its_own_seeds():
    design = load_experiment(EXPERIMENT)
    runs = list(design.runs)
    assert len(runs) == 2 * 3 * 2
    assert sorted(design.posterior.draws) == [5, 7, 9]  # the file's draw numbers, all 3 rows
    by_arm = {arm: [(r.draw, r.replication, r.seed) for r in runs if r.arm == arm] for arm in design.arms}
    assert by_arm["consensus"] == by_arm["qmv"]  # common random numbers, per draw and seed
    seeds = [r.seed for r in runs if r.arm == "consensus"]
    assert len(set(seeds)) == len(seeds)  # each draw has seeds of its own
    assert len({r.run_id for r in runs}) == len(runs)
    rows = pd.read_csv(POSTERIOR).set_index("draw")
    for r in runs:
        assert r.scenario.rules.tolerance == rows.loc[r.draw, "rules.tolerance"]
        assert r.scenario.parameters.agenda_size == rows.loc[r.draw, "parameters.agenda_size"]
        assert isinstance(r.scenario.parameters.agenda_size, int)
    assert {r.scenario.rules.decision_rule for r in runs if r.arm == "qmv"} == {"qualified_majority"}
    # the same file gives the same design, ids and seeds
    again = load_experiment(EXPERIMENT)
    assert [(r.run_id, r.seed) for r in again.runs] == [(r.run_id, r.seed) for r in runs]


def test_a_drawn_scenario_equals_the_scenario_loaded_with_the_draw_as_overrides(tmp_path):
    # [parameters]/[rules] values are set on the loaded scenario (fast); a state's number reloads it
    csv = "draw,rules.tolerance,parameters.agenda_size,states.KAZ.capability_growth\n0,0.07,4,0.02\n1,0.09,2,0.0\n"
    for text, draws in ((POSTERIOR.read_text(), 3), (csv, 2)):
        table = f'[posterior]\nfile = "posterior.csv"\ndraws = {draws}\n'
        design = load_experiment(copy_experiment(tmp_path, csv=text, table=table))
        rows = pd.read_csv(tmp_path / "posterior.csv").set_index("draw")
        for r in design.runs:
            overrides: dict = {"rules": {"decision_rule": "qualified_majority"}} if r.arm == "qmv" else {}
            for key, value in rows.loc[r.draw].items():
                node = overrides
                *path, last = key.split(".")
                for part in path:
                    node = node.setdefault(part, {})
                node[last] = int(value) if key.endswith("agenda_size") else float(value)
            loaded = load_scenario(tmp_path / "tiny.toml", overrides=overrides)
            assert r.scenario == loaded
            assert scenario_digest(r.scenario) == scenario_digest(loaded)


def test_an_arm_that_sets_a_drawn_key_keeps_its_own_value(tmp_path):
    table = '[posterior]\nfile = "posterior.csv"\ndraws = 3\n'
    path = copy_experiment(tmp_path, table=table)
    path.write_text(path.read_text().replace('decision_rule = "qualified_majority"', 'decision_rule = '
                                             '"qualified_majority", tolerance = 0.2'))  # fmt: skip
    design = load_experiment(path)
    assert {r.scenario.rules.tolerance for r in design.runs if r.arm == "qmv"} == {0.2}
    assert {r.scenario.rules.tolerance for r in design.runs if r.arm == "consensus"} == {0.03, 0.08, 0.15}
    assert design.describe()["posterior"]["kept_by_arms"] == {"qmv": ["rules.tolerance"]}


def test_choosing_draws_sample_keeps_a_prefix_and_first_takes_the_first_rows(tmp_path):
    csv = "draw,rules.tolerance\n" + "".join(f"{k},{0.01 * (k + 1):.2f}\n" for k in range(10))
    chosen = {}
    for select, draws in (("sample", 3), ("sample", 6), ("first", 4)):
        table = f'[posterior]\nfile = "posterior.csv"\ndraws = {draws}\nselect = "{select}"\nseed = 3\n'
        chosen[select, draws] = load_experiment(
            copy_experiment(tmp_path, csv=csv, table=table)
        ).posterior.draws
    assert chosen["sample", 6][:3] == chosen["sample", 3]  # a larger sample keeps the earlier draws
    assert len(set(chosen["sample", 6])) == 6  # without replacement
    assert list(chosen["sample", 3]) == np.random.default_rng(3).permutation(10)[:3].tolist()
    assert chosen["first", 4] == (0, 1, 2, 3)


def test_draw_seeds_are_distinct_and_keep_their_prefix():
    seeds = derive_draw_seeds(11, 3, 2)
    assert len({s for row in seeds for s in row}) == 6
    more = derive_draw_seeds(11, 5, 4)
    assert [row[:2] for row in more[:3]] == seeds


def test_run_ids_without_draws_are_unchanged():
    # the id of a run outside a posterior design is the hash it always was
    design = load_experiment(DATA / "mini_experiment.toml")
    r = design.runs[5]
    assert r.draw is None
    digest = scenario_digest(r.scenario)
    content = json.dumps([digest, r.seed, __version__, r.arm, r.point], separators=(",", ":"))
    assert r.run_id == hashlib.sha256(content.encode()).hexdigest()[:16]
    assert run_id(r.scenario, r.seed, r.arm, r.point, draw=0) != r.run_id
    assert "posterior" not in design.describe()


# --- refusals, one line each -----------------------------------------------------------------------

BAD = {
    # name: (posterior.csv text, or None to leave it out; fragments of the one line)
    "missing": (None, ["exp.toml", "posterior.file", "does not exist"]),
    "nan": ("draw,rules.tolerance\n0,0.1\n1,nan\n2,0.2\n", ["posterior.csv", "rules.tolerance", "line 3", "finite"]),
    "empty_cell": ("draw,rules.tolerance\n0,0.1\n1,\n2,0.2\n", ["rules.tolerance", "line 3", "empty cell"]),
    "unknown_column": ("draw,parameters.tolerance\n0,0.1\n1,0.1\n2,0.2\n",
                       ["parameters.tolerance", "unknown column", "did you mean 'rules.tolerance'"]),
    "not_a_number_key": ("draw,rules.decision_rule\n0,1\n1,1\n2,1\n", ["rules.decision_rule", "unknown column"]),
    "out_of_range": ("draw,rules.tolerance\n0,0.1\n1,-0.5\n2,0.2\n",
                     ["rules.tolerance", "line 3", "-0.5 is not allowed"]),
    "too_few_rows": ("draw,rules.tolerance\n0,0.1\n1,0.2\n", ["exp.toml", "posterior.draws", "asks for 3 draws",
                                                               "holds 2"]),
    "no_draw_column": ("rules.tolerance\n0.1\n0.2\n0.3\n", ["posterior.csv", "no column 'draw'"]),
    "repeated_draw": ("draw,rules.tolerance\n0,0.1\n0,0.2\n2,0.2\n", ["'draw'", "line 3", "also on line 2"]),
    "fractional_integer": ("draw,parameters.agenda_size\n0,2\n1,2.5\n2,3\n",
                           ["parameters.agenda_size", "whole numbers", "2.5"]),
    "ragged_row": ("draw,rules.tolerance\n0,0.1\n1,0.2,7\n2,0.2\n", ["line 3", "expected 2 values, got 3"]),
    "no_parameters": ("draw\n0\n1\n2\n", ["no parameter column"]),
    "repeated_column": ("draw,rules.tolerance,rules.tolerance\n0,0.1,0.1\n", ["rules.tolerance", "twice"]),
}  # fmt: skip


@pytest.mark.parametrize("case", sorted(BAD))
def test_a_bad_posterior_file_is_one_line_and_exit_2(case, tmp_path, capsys):
    text, fragments = BAD[case]
    path = copy_experiment(tmp_path, csv=text or "")
    if text is None:
        (tmp_path / "posterior.csv").unlink()
    status, _, err = cli(capsys, "batch", path, "--out", tmp_path / "out", "--sequential", "--no-progress")
    assert status == 2
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1 and "Traceback" not in err, err
    for fragment in fragments:
        assert fragment in lines[0], (fragment, lines[0])
    assert not (tmp_path / "out").exists()


def test_a_posterior_key_also_swept_or_a_sensitivity_table_is_refused(tmp_path):
    path = copy_experiment(tmp_path)
    text = path.read_text()
    path.write_text(text.replace("[arms.consensus]", '[sweep]\nparameters."rules.tolerance" = { values = [0.1] }\n\n'
                                 "[arms.consensus]"))  # fmt: skip
    with pytest.raises(ExperimentError, match="both swept and drawn"):
        load_experiment(path)
    path.write_text(text + '\n[sensitivity]\nparameters = { tolerance = [0.01, 0.2] }\n'
                    'effects = { e = "mean_rounds[qmv] - mean_rounds[consensus]" }\n')  # fmt: skip
    with pytest.raises(ExperimentError, match=r"\[posterior\] or a \[sensitivity\]"):
        load_experiment(path)


# --- a batch end to end ----------------------------------------------------------------------------


@pytest.mark.slow
def test_a_posterior_batch_pairs_by_draw_and_seed_and_reproduces(tmp_path, capsys):
    path = copy_experiment(tmp_path)
    out, again = tmp_path / "out", tmp_path / "again"
    status, stdout, _ = cli(capsys, "batch", path, "--out", out, "--sequential", "--no-progress")
    assert status == 0
    assert "2 arms x 1 point(s) x 3 posterior draws x 2 seeds = 12 runs" in stdout
    manifest = json.loads((out / "manifest.json").read_text())
    posterior = manifest["experiment"]["posterior"]
    assert posterior["sha256"] == hashlib.sha256((tmp_path / "posterior.csv").read_bytes()).hexdigest()
    assert posterior["file"] == "posterior.csv" and sorted(posterior["draws"]) == [5, 7, 9]
    assert len(manifest["seeds"]) == 3 and all(len(row) == 2 for row in manifest["seeds"])
    assert len(list((out / "scenarios").glob("*-draw*.json"))) == 6

    results = load_results(out)
    summaries = results.summaries
    assert list(summaries.columns[:7]) == [
        "run_index",
        "run_id",
        "arm",
        "point",
        "draw",
        "replication",
        "seed",
    ]
    assert "draw" in results.tables["model"] and results.tables["model"]["draw"].notna().all()
    pairs = compare.paired_differences(summaries, "mean_rounds", "qmv", "consensus")
    assert len(pairs) == 6 and list(pairs.columns[:3]) == ["point", "draw", "replication"]
    seeds = summaries.pivot_table(
        index=["draw", "replication"], columns="arm", values="seed", aggfunc="first"
    )
    assert (seeds["qmv"] == seeds["consensus"]).all()

    status, stdout, _ = cli(capsys, "compare", out)
    assert status == 0 and "claims over posterior draws" in stdout and "draws " in stdout
    claims = pd.read_csv(out / "claims.csv")
    assert (claims["n_draws"] == 3).all()
    for row in claims.itertuples():
        means = compare.paired_differences(summaries, row.metric, row.arm_a, row.arm_b)
        draw_means = means.groupby("draw")["diff"].mean()
        claimed = draw_means < 0 if row.op == "<" else draw_means > 0
        assert row.share_claimed_sign == pytest.approx(claimed.mean())
        assert row.mean_diff == pytest.approx(draw_means.mean())

    # resuming runs nothing and keeps the tables; a second batch gives the same tables and claims
    before = stored_tables(out)
    status, stdout, _ = cli(capsys, "batch", path, "--out", out, "--sequential", "--no-progress", "--resume")
    assert status == 0 and "nothing to run" in stdout
    assert_same_tables(before, stored_tables(out))
    assert cli(capsys, "batch", path, "--out", again, "--sequential", "--no-progress")[0] == 0
    assert_same_tables(before, stored_tables(again))
    assert cli(capsys, "compare", again)[0] == 0
    assert (again / "claims.csv").read_text() == (out / "claims.csv").read_text()
    assert (again / "metrics.csv").read_text() == (out / "metrics.csv").read_text()

    # the report names the posterior file and shows the share of draws; the charts are drawn
    assert cli(capsys, "report", out)[0] == 0
    html = (out / "report.html").read_text()
    assert posterior["sha256"] in html and "draws with the claimed sign" in html
    assert "Paired by posterior draw and seed" in html

    # a stored run reproduces from its scenario at its draw
    run = summaries["run_id"].iloc[7]
    status, stdout, _ = cli(capsys, "rerun", run, "--results", out)
    assert status == 0 and "posterior draw" in stdout and "identical to the stored tables: yes" in stdout

    # --resume refuses a changed posterior file, in one line
    (tmp_path / "posterior.csv").write_text(POSTERIOR.read_text().replace("0.08", "0.09"))
    status, _, err = cli(capsys, "batch", path, "--out", out, "--sequential", "--no-progress", "--resume")
    assert status == 2 and len(err.strip().splitlines()) == 1
    assert "posterior file posterior.csv has changed since this batch started" in err


# --- the statistics over draws ------------------------------------------------------------------------


def synthetic(draw_effects, seeds=3, noise=0.2, seed=1):
    """Summaries of two arms over draws: ``b`` has a per-seed value, ``a`` adds the draw's effect and noise."""
    rng = np.random.default_rng(seed)
    rows = []
    for draw, effect in enumerate(draw_effects):
        for r in range(seeds):
            base = rng.normal(10, 1)
            for arm, value in (("a", base + effect + rng.normal(0, noise)), ("b", base)):
                rows.append(
                    {"arm": arm, "point": 0, "draw": 10 + draw, "replication": r, "status": "ok", "m": value}
                )
    return pd.DataFrame(rows)


def test_share_of_draws_with_the_claimed_sign_on_synthetic_data():
    summaries = synthetic([-1.0, -0.5, -2.0, 0.8], noise=0.01)
    claims = [
        {"id": "lower", "metric": "m", "arm_a": "a", "op": "<", "arm_b": "b", "band": 0.1},
        {"id": "higher", "metric": "m", "arm_a": "a", "op": ">", "arm_b": "b", "band": 0.1},
    ]
    table = compare.evaluate_claims(summaries, claims).set_index("id")
    assert table.loc["lower", "share_claimed_sign"] == 0.75
    assert table.loc["higher", "share_claimed_sign"] == 0.25
    assert (table["n_draws"] == 4).all() and (table["n_pairs"] == 12).all()
    assert claimed_sign_share([-1.0, 0.0, 2.0, np.nan], "<") == pytest.approx(1 / 3)
    assert claimed_sign_share([-1.0, 0.0, 2.0], ">") == pytest.approx(1 / 3)
    assert np.isnan(claimed_sign_share([], "<"))


def test_the_interval_over_draws_is_the_t_interval_of_the_per_draw_means_with_holm():
    summaries = synthetic([-1.0, -1.4, -0.7, -1.1, -0.2], seeds=4)
    summaries = summaries.drop(index=3)  # a missing run: its draw has one pair fewer, and still weighs one
    claims = [
        {"id": "x", "metric": "m", "arm_a": "a", "op": "<", "arm_b": "b", "band": 0.1},
        {"id": "y", "metric": "m", "arm_a": "b", "op": ">", "arm_b": "a", "band": 5.0},
    ]
    table = compare.evaluate_claims(summaries, claims).set_index("id")
    pairs = compare.paired_differences(summaries, "m", "a", "b")
    means = pairs.groupby("draw")["diff"].mean().to_numpy()
    assert len(pairs) == 19
    adjusted, levels = holm([paired_t(means)[1], paired_t(-means)[1]])
    row = table.loc["x"]
    assert row["mean_diff"] == pytest.approx(means.mean())
    assert row["p_value"] == pytest.approx(paired_t(means)[1])
    assert row["p_holm"] == pytest.approx(adjusted[0]) and row["ci_level"] == pytest.approx(1 - levels[0])
    assert (row["ci_low"], row["ci_high"]) == pytest.approx(t_interval(means, 1 - levels[0]))
    assert row["mean_a"] - row["mean_b"] == pytest.approx(row["mean_diff"])
    assert row["verdict"] == "supported" and row["share_claimed_sign"] == 1.0
    assert table.loc["y", "verdict"] == "equivalent"  # its whole interval lies inside its wide band
    # without a draw column nothing changes: pairs by (point, replication), empty draw columns
    plain = compare.evaluate_claims(summaries[summaries["draw"] == 10].drop(columns="draw"), claims[:1])
    assert plain["n_draws"].isna().all() and plain["share_claimed_sign"].isna().all()
    assert plain["n_pairs"].iloc[0] == 3


def test_one_draw_is_insufficient_for_an_interval_over_draws():
    summaries = synthetic([-1.0], seeds=5)
    row = compare.evaluate_claim(summaries, {"id": "x", "metric": "m", "arm_a": "a", "op": "<", "arm_b": "b",
                                             "band": 0.1})  # fmt: skip
    assert row["verdict"] == "insufficient data" and "1 posterior draw(s)" in row["note"]
    assert row["share_claimed_sign"] == 1.0


def test_the_metrics_table_over_draws_resamples_per_draw_means():
    summaries = synthetic([-1.0, -1.4, -0.7], seeds=4)
    table = compare.metric_table(summaries, ["m"], ["a", "b"]).set_index("arm")
    a = summaries[summaries["arm"] == "a"].groupby("draw")["m"].mean()
    assert table.loc["a", "mean"] == pytest.approx(a.mean())
    assert (table.loc["a", "ci_low"], table.loc["a", "ci_high"]) == pytest.approx(compare.bootstrap_ci(a))
    assert table.loc["a", "n"] == 12
