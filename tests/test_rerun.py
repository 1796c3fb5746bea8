"""`sco-sim rerun` (sim.experiments.rerun): a stored run reproduced from its id, and checked."""

from __future__ import annotations

import shutil

import pandas as pd
import pytest

from sim.cli import main
from sim.errors import InputError
from sim.experiments.batch import ExecutorChoice, run_batch
from sim.experiments.design import load_experiment
from sim.experiments.rerun import rerun
from sim.experiments.store import ResultStore, load_results

from .conftest import DATA, rewrite_part

MINI = DATA / "mini_experiment.toml"


@pytest.fixture(scope="module")
def stored(tmp_path_factory):
    """A mini batch stored in parts of three runs."""
    folder = tmp_path_factory.mktemp("rerun") / "results"
    design = load_experiment(MINI)
    run_batch(design, ResultStore(folder, design), ExecutorChoice("sequential"), chunk_size=3, progress=False)
    return folder


@pytest.fixture
def copy(stored, tmp_path):
    folder = tmp_path / "results"
    shutil.copytree(stored, folder)
    return folder


def summary_row(folder, index):
    summaries = load_results(folder).summaries
    return summaries[summaries["run_index"] == index].iloc[0]


def test_rerun_of_a_stored_run_is_identical(stored):
    row = summary_row(stored, 5)  # a qmv run, in the second part
    report = rerun(row["run_id"], stored)
    assert report.identical and report.differing == []
    assert (report.arm, report.point, report.replication, report.seed) == (
        row["arm"], int(row["point"]), int(row["replication"]), int(row["seed"]),
    )  # fmt: skip
    assert report.arm == "qmv" and report.result.scenario.rules.decision_rule == "qualified_majority"
    assert not report.code_changed
    stored_model = load_results(stored).model
    stored_model = stored_model[stored_model["run_id"] == row["run_id"]]
    assert list(report.result.tables["model"]["year"]) == list(stored_model["year"])
    lines = report.lines()
    assert lines[-1] == "  identical to the stored tables: yes"
    assert f"run {row['run_id']}: arm qmv" in lines[-2] and f"seed {row['seed']}" in lines[-2]
    assert not any("DIFFERS" in line or "note:" in line for line in lines)


def tamper(folder, table, run_id, column):
    """Change one value of one run's rows in the part that stores them."""
    for part in sorted((folder / table).glob("part-*.parquet")):
        frame = pd.read_parquet(part)
        rows = frame.index[frame["run_id"] == run_id]
        if len(rows):
            frame.loc[rows[-1], column] = frame.loc[rows[-1], column] + 0.125
            rewrite_part(part, frame)
            return
    raise AssertionError(f"run {run_id} not found in {table}")


def test_a_tampered_stored_table_is_reported_as_differing(copy):
    run_id = summary_row(copy, 2)["run_id"]
    tamper(copy, "states", run_id, "alignment_RUS")
    report = rerun(run_id, copy)
    assert not report.identical and report.differing == ["states"]
    assert "  states: DIFFERS from the stored table" in report.lines()
    assert report.lines()[-1] == "  identical to the stored tables: no"
    # the other runs are untouched
    assert rerun(summary_row(copy, 3)["run_id"], copy).identical


def test_every_tampered_table_is_named(copy):
    run_id = summary_row(copy, 0)["run_id"]
    tamper(copy, "model", run_id, "consensus_rate")
    tamper(copy, "states", run_id, "alignment_CHN")
    assert rerun(run_id, copy).differing == ["model", "states"]


def test_rerun_command_exit_status_says_whether_identical(copy, capsys):
    run_id = summary_row(copy, 1)["run_id"]
    assert main(["rerun", run_id, "--results", str(copy)]) == 0
    assert "identical to the stored tables: yes" in capsys.readouterr().out
    tamper(copy, "model", run_id, "consensus_rate")
    assert main(["rerun", run_id, "--results", str(copy)]) == 1
    assert "model: DIFFERS" in capsys.readouterr().out


def test_unknown_run_id_is_a_one_line_error(stored, capsys):
    with pytest.raises(InputError, match="no run with id 'nope' is stored here"):
        rerun("nope", stored)
    status = main(["rerun", "nope", "--results", str(stored)])
    captured = capsys.readouterr()
    assert status == 2 and captured.out == ""
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in captured.err
    assert lines[0].startswith("error: ") and str(stored) in lines[0] and "'nope'" in lines[0]


def test_a_missing_stored_scenario_is_a_one_line_error(copy, capsys):
    run_id = summary_row(copy, 0)["run_id"]
    (copy / "scenarios" / "consensus-0.json").unlink()
    status = main(["rerun", run_id, "--results", str(copy)])
    err = capsys.readouterr().err
    assert status == 2 and len(err.strip().splitlines()) == 1
    assert "consensus-0.json" in err and "cannot read the stored scenario" in err
