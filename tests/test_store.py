"""The result store (sim.experiments.store): loading, duplicate parts, the manifest, resume.

The runner tests (test_runner.py) drive the store through whole batches; these pin what the
store itself promises in its docstring: tables sorted by run index whatever order the parts
came in, a run stored twice keeps its last copy, half-written parts are ignored, the
manifest records the design, and --resume runs only what is missing.
"""

from __future__ import annotations

import json
import shutil

import pandas as pd
import pytest

from sim.errors import StoreError
from sim.experiments.batch import ExecutorChoice, execute_chunk, run_batch
from sim.experiments.design import load_experiment
from sim.experiments.store import ID_COLUMNS, ResultStore, load_results
from sim.scenario import Scenario

from .conftest import DATA, STORED_TABLES, assert_same_tables, remove_part, rewrite_part, stored_tables

MINI = DATA / "mini_experiment.toml"
TABLES = STORED_TABLES


def batch(folder, chunk_size=None):
    design = load_experiment(MINI)
    report = run_batch(design, ResultStore(folder, design), ExecutorChoice("sequential"),
                       chunk_size=chunk_size, progress=False)  # fmt: skip
    return design, report


def part_numbers(folder, table):
    return sorted(int(p.stem.split("-")[1]) for p in (folder / table).glob("part-*.parquet"))


@pytest.fixture(scope="module")
def clean(tmp_path_factory):
    """A whole mini batch in parts of two runs, and its tables as loaded."""
    folder = tmp_path_factory.mktemp("store") / "clean"
    design, report = batch(folder, chunk_size=2)
    assert report.done == 8 and report.failed == 0
    return folder, design, stored_tables(folder)


# Loading -----------------------------------------------------------------------------------


def test_load_results_gives_every_table_sorted_by_run_index(clean):
    folder, design, _ = clean
    res = load_results(folder)
    assert res.arms == ["consensus", "qmv"]
    assert [c.id for c in res.claims] == ["rule"]
    summaries = res.summaries
    assert list(summaries["run_index"]) == list(range(8))
    assert list(summaries["run_id"]) == [spec.run_id for spec in design.runs]
    assert list(summaries["seed"]) == [spec.seed for spec in design.runs]
    assert set(summaries["status"]) == {"ok"}
    assert {"consensus_rate", "blocked", "kaz_alignment_rus"} <= set(summaries.columns)
    for table, keys in (("model", ["run_index", "year"]), ("states", ["run_index", "year", "state"])):
        frame = res.tables[table]
        assert list(frame.columns[: len(ID_COLUMNS)]) == ID_COLUMNS
        assert "_part" not in frame.columns
        assert frame.equals(frame.sort_values(keys, kind="stable").reset_index(drop=True)), table
    years = res.model.groupby("run_index")["year"].apply(list)
    assert all(y == list(range(2000, 2006)) for y in years)
    assert res.states.groupby("run_index").size().eq(6 * 3).all()  # 6 years x 3 states


def test_parts_stored_in_any_order_load_identically(clean, tmp_path):
    """Chunks finishing out of order (a process pool) give the same tables once loaded."""
    _folder, _, expected = clean
    design = load_experiment(MINI)
    store = ResultStore(tmp_path / "r", design)
    for chunk in reversed([design.runs[i : i + 3] for i in range(0, 8, 3)]):
        store.add(execute_chunk(chunk, design.experiment))
    store.close("complete")
    first = pd.read_parquet(tmp_path / "r" / "summaries" / "part-000001.parquet")
    assert list(first["run_index"]) == [6, 7]  # really stored out of order
    assert_same_tables(expected, stored_tables(tmp_path / "r"))


def test_load_results_on_a_folder_that_is_not_results(tmp_path):
    with pytest.raises(StoreError, match="not a results folder") as info:
        load_results(tmp_path)
    assert "\n" not in info.value.one_line() and str(tmp_path) in info.value.one_line()
    (tmp_path / "manifest.json").write_text("{ not json")
    with pytest.raises(StoreError, match=r"unreadable manifest\.json"):
        load_results(tmp_path)


# Duplicate and half-written parts --------------------------------------------------------------


def tamper(path, column):
    frame = pd.read_parquet(path)
    frame[column] = -999
    rewrite_part(path, frame)


def test_a_run_stored_twice_keeps_its_last_copy(clean, tmp_path):
    """A crash between parts, then --resume: part 1's runs are stored again in a later part."""
    source, _, expected = clean
    folder = tmp_path / "r"
    shutil.copytree(source, folder)
    last = max(part_numbers(folder, "summaries"))
    for table in TABLES:
        shutil.copy(folder / table / "part-000001.parquet", folder / table / f"part-{last + 1:06d}.parquet")
    # the earlier copy is made visibly different: only the later copy may be loaded
    tamper(folder / "summaries" / "part-000001.parquet", "blocked")
    tamper(folder / "model" / "part-000001.parquet", "consensus_rate")
    tamper(folder / "states" / "part-000001.parquet", "alignment_RUS")
    loaded = stored_tables(folder)
    assert loaded["summaries"]["run_id"].is_unique
    assert_same_tables(expected, loaded)


def test_rows_of_a_half_written_part_are_ignored(clean, tmp_path):
    """Table parts written without their summaries part (a crash mid-flush) do not count."""
    source, _, expected = clean
    folder = tmp_path / "r"
    shutil.copytree(source, folder)
    orphan = f"part-{max(part_numbers(folder, 'summaries')) + 1:06d}.parquet"
    for table in ("model", "states", "decisions"):
        shutil.copy(folder / table / "part-000002.parquet", folder / table / orphan)
        tamper(folder / table / orphan, "year")
    assert_same_tables(expected, stored_tables(folder))


def test_a_failure_later_run_successfully_is_not_reported_as_failed(clean, tmp_path):
    source, design, _expected = clean
    folder = tmp_path / "r"
    shutil.copytree(source, folder)
    spec = design.runs[3]
    failure = {**{k: getattr(spec, k) for k in ID_COLUMNS}, "error": "RuntimeError: boom", "traceback": ""}
    pd.DataFrame([failure]).to_parquet(folder / "failures" / "part-000001.parquet", index=False)
    loaded = load_results(folder).summaries
    assert len(loaded) == 8 and set(loaded["status"]) == {"ok"}
    # and a failure with no later success is reported, once, with its error
    other = {**failure, "run_id": "not-stored", "run_index": 99}
    pd.DataFrame([other]).to_parquet(folder / "failures" / "part-000099.parquet", index=False)
    loaded = load_results(folder).summaries
    failed = loaded[loaded["status"] == "failed"]
    assert list(failed["run_id"]) == ["not-stored"] and failed["error"].iloc[0] == "RuntimeError: boom"


# The manifest ---------------------------------------------------------------------------------


def test_manifest_records_the_design_versions_and_end(clean):
    folder, design, _ = clean
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["experiment"] == json.loads(json.dumps(design.describe(), default=str))
    assert manifest["experiment"]["hash"] == design.file_hash
    assert manifest["seeds"] == design.seeds
    assert manifest["n_runs"] == 8 and manifest["n_done"] == 8 and manifest["n_failed"] == 0
    assert manifest["failures"] == [] and manifest["status"] == "complete"
    assert manifest["started"] <= manifest["finished"]
    assert manifest["versions"]["git_revision"]
    assert "resumed" not in manifest
    for arm in ("consensus", "qmv"):
        stored = Scenario.model_validate(json.loads((folder / "scenarios" / f"{arm}-0.json").read_text()))
        spec = next(s for s in design.runs if s.arm == arm)
        assert stored.to_dict() == spec.scenario.to_dict()
    qmv = Scenario.model_validate(json.loads((folder / "scenarios" / "qmv-0.json").read_text()))
    assert qmv.rules.decision_rule == "qualified_majority"


def test_an_open_batch_is_running_in_the_manifest(tmp_path):
    design = load_experiment(MINI)
    ResultStore(tmp_path / "r", design)
    manifest = json.loads((tmp_path / "r" / "manifest.json").read_text())
    assert manifest["status"] == "running" and manifest["finished"] is None
    with pytest.raises(StoreError, match="no stored batch to resume"):
        ResultStore(tmp_path / "new", design, resume=True)


# Resume ---------------------------------------------------------------------------------------


def test_resume_runs_only_the_missing_runs(clean, tmp_path):
    source, design, expected = clean
    folder = tmp_path / "r"
    shutil.copytree(source, folder)
    # lose parts 2 and 4 (runs 2, 3, 6, 7) as if the batch had stopped before they were stored
    lost = set()
    for number in (2, 4):
        name = f"part-{number:06d}.parquet"
        lost |= set(pd.read_parquet(folder / "summaries" / name)["run_id"])
        for table in TABLES:
            remove_part(folder / table / name)
    assert lost == {design.runs[i].run_id for i in (2, 3, 6, 7)}
    before = {t: part_numbers(folder, t) for t in TABLES}

    store = ResultStore(folder, design, resume=True)
    assert {s.run_id for s in store.missing(design.runs)} == lost
    report = run_batch(design, store, ExecutorChoice("sequential"), progress=False)
    assert (report.total, report.skipped, report.done, report.failed) == (8, 4, 4, 0)
    new_parts = [p for p in part_numbers(folder, "summaries") if p not in before["summaries"]]
    rerun_ids = set()
    for number in new_parts:
        rerun_ids |= set(pd.read_parquet(folder / "summaries" / f"part-{number:06d}.parquet")["run_id"])
    assert rerun_ids == lost  # only the missing runs were run again
    assert_same_tables(expected, stored_tables(folder))
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["status"] == "complete" and manifest["n_done"] == 8
    assert len(manifest["resumed"]) == 1 and "sco_sim" in manifest["resumed"][0]["versions"]


def test_resume_of_a_complete_batch_runs_nothing(clean, tmp_path):
    source, design, expected = clean
    folder = tmp_path / "r"
    shutil.copytree(source, folder)
    parts = {t: part_numbers(folder, t) for t in TABLES}
    report = run_batch(design, ResultStore(folder, design, resume=True), ExecutorChoice("sequential"),
                       progress=False)  # fmt: skip
    assert (report.skipped, report.done) == (8, 0)
    assert {t: part_numbers(folder, t) for t in TABLES} == parts
    assert_same_tables(expected, stored_tables(folder))
