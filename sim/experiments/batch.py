"""Execute run specifications on an executor and stream the results into a store.

The executors (sequential, a local process pool, Dask) and the loop over them are
:mod:`sim.experiments.executors`. Work is sent in chunks of runs; every run's seed was
derived in the parent, so a run gives the same rows whichever executor ran it.

A run that raises is recorded with its error and the batch goes on. Results
are written to the store as chunks finish, so Ctrl-C or a crash keeps every
finished run, and ``--resume`` runs only what is missing.
"""

from __future__ import annotations

import time
import traceback
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from sim.errors import WorkerLost
from sim.experiments.design import Design, Experiment, RunSpec, compute_metrics
from sim.experiments.executors import (
    ExecutorChoice,
    Pool,
    check_scheduler,
    completed,
    dask_available,
    interrupts_stop_workers,
    open_pool,
)
from sim.experiments.progress import progress_bar
from sim.experiments.store import DRAW, ResultStore, run_tables
from sim.model import SCOModel


def simulate(run_spec: RunSpec, texts: bool = False) -> dict[str, dict[str, np.ndarray]]:
    """Run one specification and return its three tables (four with ``texts``) as numpy columns."""
    model = SCOModel(run_spec.scenario, rng=run_spec.seed)
    model.run()
    columns = model.recorder.columns(texts=texts)
    model.release()
    return columns


def execute_chunk(run_specs: list[RunSpec], experiment: Experiment) -> dict[str, Any]:
    """Run a chunk of specifications (in a worker); never raises for a failing run.

    Returns:
        ``model``, ``states``, ``decisions`` (and ``texts`` if the experiment keeps them):
        concatenated tables with id columns;
        ``summaries``: one dict per finished run (ids, metrics, seconds);
        ``failures``: one dict per failed run (ids and the error).

    """
    tables: dict[str, list[dict[str, np.ndarray]]] = {name: [] for name in run_tables(experiment.texts)}
    owners: list[dict[str, Any]] = []
    summaries: list[dict[str, Any]] = []
    failures: list[dict[str, Any]] = []
    for run_spec in run_specs:
        ids = {
            "run_index": run_spec.run_index,
            "run_id": run_spec.run_id,
            "arm": run_spec.arm,
            "point": run_spec.point,
            **({DRAW: run_spec.draw} if run_spec.draw is not None else {}),  # a posterior batch's draw
            "replication": run_spec.replication,
            "seed": run_spec.seed,
        }
        started = time.perf_counter()
        try:
            # texts passed only when kept, so simulate(run_spec) stays the call of a default batch
            result = simulate(run_spec, texts=True) if experiment.texts else simulate(run_spec)
            metrics = compute_metrics(experiment, result)
        except Exception as exc:  # a failing run is recorded, the batch goes on
            last = traceback.format_exception_only(type(exc), exc)[-1].strip()
            failures.append({**ids, "error": last, "traceback": traceback.format_exc(limit=6)})
            continue
        seconds = time.perf_counter() - started
        for name, frame in result.items():
            tables[name].append(frame)
        owners.append(ids)
        summaries.append({**ids, "status": "ok", "error": "", "seconds": seconds, **metrics})
    return {
        **{name: _with_ids(frames, owners) for name, frames in tables.items()},
        "summaries": summaries,
        "failures": failures,
    }


def _with_ids(runs: list[dict[str, np.ndarray]], owners: list[dict[str, Any]]) -> pd.DataFrame:
    """Join runs' columns into one DataFrame with the run's id columns in front."""
    if not runs:
        return pd.DataFrame()
    lengths = np.array([len(next(iter(run.values()))) for run in runs])
    columns: dict[str, np.ndarray] = {
        key: np.repeat(
            np.array([o[key] for o in owners], dtype=object if key in ("run_id", "arm") else None), lengths
        )
        for key in owners[0]  # the id columns of the design (ID_COLUMNS, and ``draw`` with [posterior])
    }
    for key in runs[0]:
        columns[key] = np.concatenate([run[key] for run in runs])
    return pd.DataFrame(columns)


def chunks(runs: list[RunSpec], size: int) -> list[list[RunSpec]]:
    """Split runs into chunks of ``size`` (the last may be shorter)."""
    return [runs[i : i + size] for i in range(0, len(runs), size)]


@dataclass
class BatchReport:
    """What a batch did."""

    total: int
    skipped: int
    done: int
    failed: int
    seconds: float
    status: str


def run_batch(
    design: Design,
    store: ResultStore,
    choice: ExecutorChoice | None = None,
    chunk_size: int | None = None,
    progress: bool = True,
) -> BatchReport:
    """Run every missing run of ``design`` and store the results as chunks finish.

    Only a few chunks are in flight at a time (two per worker), and each result is
    stored and dropped as it arrives, so memory stays flat however many runs there
    are. On Ctrl-C (or SIGTERM) the finished runs are stored, the manifest says
    ``interrupted``, the workers stop, and ``KeyboardInterrupt`` is raised again; the same
    if a worker process dies, with :class:`~sim.errors.WorkerLost`.
    """
    choice = choice or ExecutorChoice()
    todo = store.missing(design.runs)
    skipped = len(design.runs) - len(todo)
    if not todo:
        store.close("complete")
        return BatchReport(len(design.runs), skipped, 0, 0, 0.0, "complete")
    started = time.perf_counter()
    bar = progress_bar(len(todo), "run", enabled=progress)
    status = "complete"
    pool: Pool | None = None
    try:
        with interrupts_stop_workers():
            pool = open_pool(choice)
            # Chunks: big enough to keep inter-process traffic small, small enough that the
            # store (written after every chunk) and the progress bar stay current.
            size = chunk_size or max(1, min(100, len(todo) // (max(pool.workers, 2) * 8) or 1))
            shared = pool.share(design.experiment)
            tasks = ((chunk, shared) for chunk in chunks(todo, size))
            for _, output in completed(pool, execute_chunk, tasks):
                store.add(output)
                bar.update(len(output["summaries"]) + len(output["failures"]))
                if store.n_failed_now:
                    bar.set_postfix(failed=store.n_failed_now)
    except (KeyboardInterrupt, WorkerLost):
        status = "interrupted"  # every finished run is stored: --resume completes the batch
        raise
    except BaseException:
        status = "crashed"
        raise
    finally:
        bar.close()
        if pool is not None:
            pool.close(cancel=status != "complete")
        store.close(status)
    seconds = time.perf_counter() - started
    return BatchReport(len(design.runs), skipped, store.n_done_now, store.n_failed_now, seconds, status)


__all__ = [
    "BatchReport",
    "ExecutorChoice",
    "check_scheduler",
    "chunks",
    "dask_available",
    "execute_chunk",
    "run_batch",
    "simulate",
]
