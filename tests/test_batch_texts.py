"""The experiment option ``texts = true``: batches keep every run's texts table on request.

A batch stores ``model``, ``states`` and ``decisions``; with ``texts = true`` it also stores
``texts`` (one row per item x text x member), with the same id columns, and nothing about
texts otherwise. Resume, loading and ``rerun`` work with and without it.
"""

from __future__ import annotations

import json
import shutil

import pandas as pd
import pytest

import sim
from sim.cli import main
from sim.errors import StoreError
from sim.experiments.batch import ExecutorChoice, run_batch
from sim.experiments.design import load_experiment
from sim.experiments.rerun import rerun
from sim.experiments.store import ID_COLUMNS, ResultStore, load_results

from .conftest import DATA, remove_part, rewrite_part

MINI = DATA / "mini_experiment.toml"


def with_texts(folder, texts="true", replications=2):
    """A copy of the mini experiment (two arms, ``replications`` seeds) with ``texts = ...``."""
    text = MINI.read_text().replace("replications = 4", f"replications = {replications}\ntexts = {texts}")
    text = text.replace('scenario = "tiny.toml"', f'scenario = "{(DATA / "tiny.toml").as_posix()}"')
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "texts_experiment.toml"
    path.write_text(text)
    return path


def batch(path, out, chunk_size=1):
    design = load_experiment(path)
    report = run_batch(design, ResultStore(out, design), ExecutorChoice("sequential"),
                       chunk_size=chunk_size, progress=False)  # fmt: skip
    return design, report


def part_names(folder, table):
    return sorted(p.name for p in (folder / table).glob("part-*.parquet"))


@pytest.fixture(scope="module")
def kept(tmp_path_factory):
    """A mini batch with texts = true (4 runs), one run per part."""
    root = tmp_path_factory.mktemp("texts")
    path = with_texts(root)
    design, report = batch(path, root / "results")
    assert report.done == 4 and report.failed == 0
    return root / "results", design, path


@pytest.fixture(scope="module")
def plain(tmp_path_factory):
    """The same mini batch without the option (the default)."""
    root = tmp_path_factory.mktemp("plain")
    path = with_texts(root, texts="false")
    design, report = batch(path, root / "results", chunk_size=2)
    assert report.done == 4
    return root / "results", design, path


def test_texts_are_stored_with_id_columns_and_equal_those_of_sim_run(kept):
    folder, design, _ = kept
    assert design.experiment.texts is True
    assert part_names(folder, "texts") == part_names(
        folder, "summaries"
    )  # one part per chunk, like the others
    res = load_results(folder)
    texts = res.texts
    assert texts is res.tables["texts"]
    assert list(texts.columns[: len(ID_COLUMNS)]) == ID_COLUMNS
    assert sorted(set(texts["run_index"])) == [0, 1, 2, 3]
    for spec in design.runs:
        rows = texts[texts["run_id"] == spec.run_id]
        ids = rows[ID_COLUMNS].drop_duplicates()
        assert len(ids) == 1
        assert ids.iloc[0].to_dict() == {k: getattr(spec, k) for k in ID_COLUMNS}
        expected = sim.run(spec.scenario, seed=spec.seed, texts=True).texts
        assert len(expected) > 0
        pd.testing.assert_frame_equal(
            rows.drop(columns=ID_COLUMNS).reset_index(drop=True), expected, check_exact=True
        )
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["experiment"]["texts"] is True
    assert manifest["tables"] == ["model", "states", "decisions", "texts"]


def test_by_default_a_batch_stores_nothing_about_texts(plain):
    folder, design, _ = plain
    assert design.experiment.texts is False
    assert not (folder / "texts").exists()
    res = load_results(folder)
    assert "texts" not in res.tables
    with pytest.raises(KeyError, match="no texts table"):
        _ = res.texts
    assert len(res.model) and len(res.decisions)
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["experiment"]["texts"] is False
    assert manifest["tables"] == ["model", "states", "decisions"]


def test_a_store_written_before_the_option_loads_and_resumes_as_before(plain, tmp_path):
    """An older manifest has no ``texts`` or ``tables``: it loads and resumes unchanged."""
    source, design, _ = plain
    folder = tmp_path / "old"
    shutil.copytree(source, folder)
    manifest = json.loads((folder / "manifest.json").read_text())
    del manifest["experiment"]["texts"], manifest["tables"]
    (folder / "manifest.json").write_text(json.dumps(manifest))
    before = load_results(source).tables
    assert set(load_results(folder).tables) == {"summaries", "model", "states", "decisions"}
    for name in ("summaries", "model", "states", "decisions"):
        pd.testing.assert_frame_equal(load_results(folder).tables[name], before[name])
    report = run_batch(design, ResultStore(folder, design, resume=True), ExecutorChoice("sequential"),
                       progress=False)  # fmt: skip
    assert (report.skipped, report.done) == (4, 0)
    assert not (folder / "texts").exists()


def test_resume_with_texts_runs_only_the_missing_runs_and_stores_their_texts(kept, tmp_path):
    source, design, _ = kept
    folder = tmp_path / "r"
    shutil.copytree(source, folder)
    expected = load_results(source).texts
    lost = "part-000002.parquet"
    lost_id = pd.read_parquet(folder / "summaries" / lost)["run_id"].iloc[0]
    for table in ("model", "states", "decisions", "texts", "summaries"):
        remove_part(folder / table / lost)
    assert lost_id not in set(load_results(folder).texts["run_id"])

    store = ResultStore(folder, design, resume=True)
    assert [s.run_id for s in store.missing(design.runs)] == [lost_id]
    report = run_batch(design, store, ExecutorChoice("sequential"), progress=False)
    assert (report.skipped, report.done, report.failed) == (3, 1, 0)
    pd.testing.assert_frame_equal(load_results(folder).texts, expected)


def test_resume_refuses_a_changed_texts_setting(kept, tmp_path):
    source, _, path = kept
    folder = tmp_path / "r"
    shutil.copytree(source, folder)
    # the edited file: its hash changes, as for any edit
    edited = path.parent / "edited" / path.name
    edited.parent.mkdir(exist_ok=True)
    edited.write_text(path.read_text().replace("texts = true", "texts = false"))
    with pytest.raises(StoreError, match="has changed since this batch started"):
        ResultStore(folder, load_experiment(edited), resume=True)
    # a design changed in Python, keeping the file's hash, is refused too
    changed = load_experiment(path)
    changed.experiment = changed.experiment.model_copy(update={"texts": False})
    with pytest.raises(StoreError, match="started with texts = true"):
        ResultStore(folder, changed, resume=True)
    assert json.loads((folder / "manifest.json").read_text()) == json.loads(
        (source / "manifest.json").read_text()
    )


def test_rerun_returns_texts_of_a_run_whose_batch_did_not_keep_them(plain, tmp_path, capsys):
    folder, design, _ = plain
    spec = design.runs[3]
    report = rerun(spec.run_id, folder)
    assert report.identical and report.differing == []
    expected = sim.run(spec.scenario, seed=spec.seed, texts=True).texts
    pd.testing.assert_frame_equal(report.result.texts, expected)
    out = tmp_path / "again"
    assert main(["rerun", spec.run_id, "--results", str(folder), "--out", str(out)]) == 0
    assert "wrote 10 files" in capsys.readouterr().out
    pd.testing.assert_frame_equal(pd.read_parquet(out / "texts.parquet"), expected)
    assert (out / "texts.csv").is_file()


def test_rerun_checks_stored_texts_where_the_batch_kept_them(kept, tmp_path):
    source, design, _ = kept
    folder = tmp_path / "r"
    shutil.copytree(source, folder)
    spec = design.runs[1]
    report = rerun(spec.run_id, folder)
    assert report.identical
    stored = load_results(folder).texts
    pd.testing.assert_frame_equal(
        report.result.texts,
        stored[stored["run_id"] == spec.run_id].drop(columns=ID_COLUMNS).reset_index(drop=True),
    )
    part = folder / "texts" / "part-000002.parquet"
    frame = pd.read_parquet(part)
    frame.loc[frame.index[-1], "loss"] += 0.125
    rewrite_part(part, frame)
    assert rerun(spec.run_id, folder).differing == ["texts"]


def test_compare_and_report_work_on_a_store_with_texts(kept, tmp_path, capsys):
    source, _, _ = kept
    folder = tmp_path / "r"
    shutil.copytree(source, folder)
    assert main(["compare", str(folder)]) == 0
    assert main(["report", str(folder)]) == 0
    assert "4 runs finished, 0 failed" in capsys.readouterr().out
    assert (folder / "report.html").is_file()
