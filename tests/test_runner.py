"""Runner and store: identical tables on every executor, failures, interruption and resume."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from sim.experiments import batch as runner
from sim.experiments import parts as parts_module
from sim.experiments.batch import ExecutorChoice, run_batch
from sim.experiments.design import load_experiment
from sim.experiments.executors import Pool, completed
from sim.experiments.store import ResultStore, StoreError, load_results

from .conftest import DATA, STORED_TABLES, assert_same_tables, stored_tables

MINI = DATA / "mini_experiment.toml"
TABLES = STORED_TABLES


def run_into(folder, choice, **kwargs):
    design = load_experiment(MINI)
    return run_batch(design, ResultStore(folder, design, **kwargs), choice, progress=False)


@pytest.fixture(scope="module")
def sequential(tmp_path_factory):
    folder = tmp_path_factory.mktemp("seq") / "results"
    report = run_into(folder, ExecutorChoice("sequential"))
    assert report.done == 8 and report.failed == 0
    return stored_tables(folder)


def test_store_layout_and_manifest(tmp_path):
    folder = tmp_path / "r"
    run_into(folder, ExecutorChoice("sequential"))
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["status"] == "complete" and manifest["n_done"] == 8 and manifest["n_failed"] == 0
    assert manifest["experiment"]["name"] == "mini" and len(manifest["seeds"]) == 4
    assert {"python", "mesa", "sco_sim", "git_revision"} <= set(manifest["versions"])
    assert manifest["started"] and manifest["finished"]
    assert (folder / "experiment.toml").read_text() == MINI.read_text()
    assert sorted(p.name for p in (folder / "scenarios").iterdir()) == ["consensus-0.json", "qmv-0.json"]
    res = load_results(folder)
    assert len(res.summaries) == 8 and set(res.summaries["status"]) == {"ok"}
    assert res.model.groupby("run_id").size().eq(6).all()  # 2000-2005


@pytest.mark.slow
def test_process_pool_gives_identical_tables(sequential, tmp_path):
    run_into(tmp_path / "p", ExecutorChoice("process", workers=2), flush_every=1)
    assert_same_tables(sequential, stored_tables(tmp_path / "p"))


@pytest.mark.slow
def test_dask_local_cluster_gives_identical_tables(sequential, tmp_path):
    pytest.importorskip("distributed")
    run_into(tmp_path / "d", ExecutorChoice("dask", dask_local=2))
    assert_same_tables(sequential, stored_tables(tmp_path / "d"))


def test_a_failing_run_is_recorded_and_the_others_finish(tmp_path, monkeypatch):
    real = runner.simulate
    design = load_experiment(MINI)
    bad_seed = design.seeds[2]

    def flaky(spec):
        if spec.seed == bad_seed and spec.arm == "qmv":
            raise RuntimeError("simulated failure")
        return real(spec)

    monkeypatch.setattr(runner, "simulate", flaky)
    report = run_batch(
        design, ResultStore(tmp_path / "f", design), ExecutorChoice("sequential"), progress=False
    )
    assert report.done == 7 and report.failed == 1
    res = load_results(tmp_path / "f")
    failed = res.summaries[res.summaries["status"] == "failed"]
    assert len(failed) == 1 and "RuntimeError: simulated failure" in failed["error"].iloc[0]
    manifest = json.loads((tmp_path / "f" / "manifest.json").read_text())
    assert manifest["n_failed"] == 1 and manifest["failures"][0]["error"].endswith("simulated failure")
    # --resume runs only the missing (failed) run
    monkeypatch.setattr(runner, "simulate", real)
    again = run_batch(
        design, ResultStore(tmp_path / "f", design, resume=True), ExecutorChoice("sequential"), progress=False
    )
    assert again.done == 1 and again.skipped == 7
    assert (load_results(tmp_path / "f").summaries["status"] == "ok").all()


@pytest.mark.slow
def test_interrupted_batch_resumed_equals_uninterrupted(sequential, tmp_path):
    """Ctrl-C a real `sco-sim batch`, then --resume: the final store equals an uninterrupted one."""
    experiment = tmp_path / "slow.toml"
    # The historical scenario (tens of ms a run, not the tiny one's fraction of a ms) and 16
    # chunks: the batch is seconds from its end when the first chunk is stored and the
    # signal is sent, however fast the machine.
    history = Path(__file__).resolve().parents[1] / "scenarios" / "history_1996.toml"
    text = MINI.read_text().replace("replications = 4", "replications = 150")
    experiment.write_text(text.replace('scenario = "tiny.toml"', f'scenario = "{history}"'))
    (tmp_path / "tiny.toml").write_text((DATA / "tiny.toml").read_text())
    out = tmp_path / "r"
    cmd = [
        sys.executable,
        "-m",
        "sim",
        "batch",
        str(experiment),
        "--out",
        str(out),
        "--sequential",
        "--no-progress",
    ]
    # Start the batch with Ctrl-C at its default: a test run earlier in this process may have
    # left SIGINT ignored (Dask, worker initialisers), and an ignored signal is inherited.
    proc = subprocess.Popen(
        cmd,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    deadline = time.time() + 60
    while time.time() < deadline and not list((out / "summaries").glob("part-*.parquet")):
        time.sleep(0.05)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert "interrupted" in err and "--resume" in err
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["status"] == "interrupted"
    partial = load_results(out).summaries
    assert 0 < len(partial) < 300
    resumed = subprocess.run([*cmd, "--resume"], capture_output=True, text=True)
    assert resumed.returncode == 0, resumed.stderr
    assert f"{len(partial)} already stored" in resumed.stdout
    whole = tmp_path / "whole"
    subprocess.run(
        [*cmd[:5], "--out", str(whole), "--sequential", "--no-progress"], check=True, capture_output=True
    )
    assert_same_tables(stored_tables(whole), stored_tables(out))


def test_store_refuses_another_experiment_and_a_changed_file(tmp_path):
    folder = tmp_path / "r"
    run_into(folder, ExecutorChoice("sequential"))
    before = sorted(str(p) for p in folder.rglob("*"))
    design = load_experiment(MINI)
    with pytest.raises(StoreError, match="already holds results of this experiment; add --resume"):
        ResultStore(folder, design)
    other = tmp_path / "other.toml"
    other.write_text(MINI.read_text().replace('name = "mini"', 'name = "other"'))
    (tmp_path / "tiny.toml").write_text((DATA / "tiny.toml").read_text())
    with pytest.raises(StoreError, match="holds results of experiment 'mini', not 'other'"):
        ResultStore(folder, load_experiment(other), resume=True)
    changed = tmp_path / "changed.toml"
    changed.write_text(MINI.read_text().replace("replications = 4", "replications = 5"))
    with pytest.raises(StoreError, match="has changed since this batch started"):
        ResultStore(folder, load_experiment(changed), resume=True)
    not_results = tmp_path / "random"
    not_results.mkdir()
    (not_results / "notes.txt").write_text("mine")
    with pytest.raises(StoreError, match="not a results folder"):
        ResultStore(not_results, design)
    assert sorted(str(p) for p in folder.rglob("*")) == before  # nothing touched


@pytest.mark.parametrize("error, words", [(28, "the disk is full"), (30, "read-only file system")])
def test_full_or_read_only_folder_keeps_what_is_stored(tmp_path, monkeypatch, error, words):
    folder = tmp_path / "r"
    design = load_experiment(MINI)
    store = ResultStore(folder, design)
    real_write = parts_module.create_new
    calls = {"n": 0}

    def failing(path, data):
        if "summaries" in str(path) or "model" in str(path):
            calls["n"] += 1
            if calls["n"] > 2:  # the first chunk's parts are written, then the disk "fills up"
                raise OSError(error, os.strerror(error))
        return real_write(path, data)

    monkeypatch.setattr(parts_module, "create_new", failing)
    with pytest.raises(StoreError, match=words):
        run_batch(design, store, ExecutorChoice("sequential"), chunk_size=2, progress=False)
    monkeypatch.setattr(parts_module, "create_new", real_write)
    kept = load_results(folder).summaries
    assert len(kept) == 2  # the chunk stored before the failure is intact
    report = run_batch(
        design, ResultStore(folder, design, resume=True), ExecutorChoice("sequential"), progress=False
    )
    assert report.skipped == 2 and report.done == 6


@pytest.mark.slow
def test_unreachable_scheduler_is_a_clean_error(tmp_path):
    pytest.importorskip("distributed")
    out = tmp_path / "r"
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "sim",
            "batch",
            str(MINI),
            "--out",
            str(out),
            "--scheduler",
            "tcp://127.0.0.1:9",
        ],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 2
    assert "cannot reach the Dask scheduler at tcp://127.0.0.1:9" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert not out.exists()


def test_memory_stays_flat_with_parts(tmp_path):
    # Each chunk is written out as it finishes: nothing accumulates in the store's buffer.
    design = load_experiment(MINI)
    store = ResultStore(tmp_path / "r", design)
    run_batch(design, store, ExecutorChoice("sequential"), chunk_size=1, progress=False)
    assert store.buffer == []
    assert len(list((tmp_path / "r" / "model").glob("part-*.parquet"))) == 8
    assert Path(tmp_path / "r" / "manifest.json").exists()


def test_only_a_few_chunks_are_in_flight():
    """Memory stays flat: results are consumed as they come, not all held at once."""
    import concurrent.futures as cf
    import threading

    design = load_experiment(MINI)
    outstanding, peak, lock = [0], [0], threading.Lock()

    class Counting(cf.ThreadPoolExecutor):
        def submit(self, fn, *args, **kwargs):
            with lock:
                outstanding[0] += 1
                peak[0] = max(peak[0], outstanding[0])
            return super().submit(fn, *args, **kwargs)

    with Counting(max_workers=2) as pool:
        chunks = [[spec] for spec in design.runs]
        tasks = ((chunk, design.experiment) for chunk in chunks)
        for _, output in completed(Pool(pool, 2), runner.execute_chunk, tasks, in_flight=3):
            with lock:
                outstanding[0] -= 1
            assert len(output["summaries"]) == 1
    assert peak[0] <= 3


def test_resume_refuses_runs_from_another_code_version(tmp_path, monkeypatch):
    from sim.experiments import design as experiment

    folder = tmp_path / "r"
    run_into(folder, ExecutorChoice("sequential"))
    monkeypatch.setattr(experiment, "__version__", "99.0.0")  # run ids include the code version
    design = load_experiment(MINI)
    with pytest.raises(StoreError, match="ids this version of sco-sim does not produce"):
        ResultStore(folder, design, resume=True)
