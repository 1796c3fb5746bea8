"""Execute run specifications on an executor and stream the results into a store.

One interface (``concurrent.futures``: ``submit`` returns a future) covers three
executors: sequential (in this process), a local process pool (``spawn`` start
method, which behaves the same in notebooks, on Windows and on Linux), and
Dask distributed (an existing scheduler, or a ``LocalCluster`` started here).
Work is sent in chunks of runs; every run's seed was derived in the parent, so
a run gives the same rows whichever executor ran it.

A run that raises is recorded with its error and the batch goes on. Results
are written to the store as chunks finish, so Ctrl-C or a crash keeps every
finished run, and ``--resume`` runs only what is missing.
"""

from __future__ import annotations

import concurrent.futures as cf
import itertools
import multiprocessing
import signal
import sys
import time
import traceback
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from sim.experiments.design import Design, Experiment, RunSpec, compute_metrics
from sim.experiments.store import ID_COLUMNS, ResultStore
from sim.model import SCOModel


def simulate(spec: RunSpec) -> dict[str, dict[str, np.ndarray]]:
    """Run one specification and return its three tables as numpy columns."""
    model = SCOModel(spec.scenario, rng=spec.seed)
    model.run()
    columns = model.recorder.columns()
    model.release()
    return columns


def execute_chunk(specs: list[RunSpec], experiment: Experiment) -> dict[str, Any]:
    """Run a chunk of specifications (in a worker); never raises for a failing run.

    Returns:
        ``model``, ``states``, ``decisions``: concatenated tables with id columns;
        ``summaries``: one dict per finished run (ids, metrics, seconds);
        ``failures``: one dict per failed run (ids and the error).

    """
    tables: dict[str, list[dict[str, np.ndarray]]] = {"model": [], "states": [], "decisions": []}
    owners: list[dict[str, Any]] = []
    summaries: list[dict[str, Any]] = []
    failures: list[dict[str, Any]] = []
    for spec in specs:
        ids = {
            "run_index": spec.run_index,
            "run_id": spec.run_id,
            "arm": spec.arm,
            "point": spec.point,
            "replication": spec.replication,
            "seed": spec.seed,
        }
        started = time.perf_counter()
        try:
            result = simulate(spec)
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
        for key in ID_COLUMNS
    }
    for key in runs[0]:
        columns[key] = np.concatenate([run[key] for run in runs])
    return pd.DataFrame(columns)


# Executors ---------------------------------------------------------------------


class SequentialExecutor(cf.Executor):
    """Runs each task at once in this process; futures come back already done."""

    def submit(self, fn: Any, /, *args: Any, **kwargs: Any) -> cf.Future:  # type: ignore[override]
        """Run ``fn`` now and return a finished future."""
        future: cf.Future = cf.Future()
        try:
            future.set_result(fn(*args, **kwargs))
        except BaseException as exc:  # noqa: BLE001 - handed to the caller through the future
            future.set_exception(exc)
        return future


@dataclass
class ExecutorChoice:
    """Which executor to use and how."""

    kind: str = "process"  # sequential | process | dask
    workers: int | None = None
    scheduler: str | None = None
    dask_local: int | None = None


class DaskExecutor:
    """Dask distributed behind the same submit/as_completed interface."""

    def __init__(self, scheduler: str | None, local_workers: int | None) -> None:
        try:
            from distributed import Client, LocalCluster
        except ImportError:
            raise RuntimeError("Dask is not installed: pip install 'sco-sim[dask]'") from None
        self.cluster = None
        if scheduler:
            try:
                self.client = Client(scheduler, timeout="5s")
            except (OSError, TimeoutError) as exc:
                raise ConnectionError(f"cannot reach the Dask scheduler at {scheduler} ({exc})") from None
        else:
            self.cluster = LocalCluster(
                n_workers=local_workers or 2, threads_per_worker=1, processes=True, dashboard_address=None
            )
            self.client = Client(self.cluster)

    def submit(self, fn: Any, *args: Any) -> Any:
        """Submit a task to the cluster."""
        return self.client.submit(fn, *args, pure=False)

    def as_completed(self, futures: list[Any]) -> Iterator[Any]:
        """Yield futures as they finish."""
        from distributed import as_completed

        return iter(as_completed(futures))

    def shutdown(self, cancel: bool = False) -> None:
        """Close the client (and the local cluster, if started here)."""
        self.client.close()
        if self.cluster is not None:
            self.cluster.close()


def make_executor(choice: ExecutorChoice) -> Any:
    """Return an executor for ``choice``."""
    if choice.kind == "sequential":
        return SequentialExecutor()
    if choice.kind == "dask":
        return DaskExecutor(choice.scheduler, choice.dask_local)
    context = multiprocessing.get_context("spawn")
    return cf.ProcessPoolExecutor(
        max_workers=choice.workers or 2, mp_context=context, initializer=_ignore_interrupts
    )


def _ignore_interrupts() -> None:
    """Workers leave Ctrl-C to the parent, which stores what has finished and stops them."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def dask_available() -> bool:
    """Whether Dask distributed can be imported here."""
    try:
        import distributed  # noqa: F401
    except ImportError:
        return False
    return True


def check_scheduler(address: str) -> None:
    """Raise ConnectionError unless a Dask scheduler answers at ``address``."""
    DaskExecutor(address, None).shutdown()


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
    ``interrupted``, the workers stop, and ``KeyboardInterrupt`` is raised again.
    """
    choice = choice or ExecutorChoice()
    todo = store.missing(design.runs)
    skipped = len(design.runs) - len(todo)
    if not todo:
        store.close("complete")
        return BatchReport(len(design.runs), skipped, 0, 0, 0.0, "complete")
    workers = 1 if choice.kind == "sequential" else (choice.workers or choice.dask_local or 2)
    if choice.kind == "dask" and choice.scheduler:
        workers = 0  # set from the cluster's size once connected
    # Chunks: big enough to keep inter-process traffic small, small enough that the store
    # (written after every chunk) and the progress bar stay current.
    size = chunk_size or max(1, min(100, len(todo) // (max(workers, 2) * 8) or 1))
    pending_chunks = iter(chunks(todo, size))
    started = time.perf_counter()
    bar = _progress(len(todo), progress)
    status = "complete"
    executor: Any = None
    previous_term = _terminate_as_interrupt()
    try:
        executor = make_executor(choice)
        if isinstance(executor, DaskExecutor) and not workers:
            workers = max(1, sum(executor.client.nthreads().values()))
        for output in _results(executor, pending_chunks, design.experiment, in_flight=2 * workers):
            store.add(output)
            if bar is not None:
                bar.update(len(output["summaries"]) + len(output["failures"]))
                if store.n_failed_now:
                    bar.set_postfix(failed=store.n_failed_now)
    except KeyboardInterrupt:
        status = "interrupted"
        raise
    except BaseException:
        status = "crashed"
        raise
    finally:
        _restore_terminate(previous_term)
        if bar is not None:
            bar.close()
        if executor is not None:
            _shutdown(executor, cancel=status != "complete")
        store.close(status)
    seconds = time.perf_counter() - started
    return BatchReport(len(design.runs), skipped, store.n_done_now, store.n_failed_now, seconds, status)


def _results(
    executor: Any, pending: Iterator[list[RunSpec]], experiment: Experiment, in_flight: int
) -> Iterator[Any]:
    """Yield chunk outputs as they finish, keeping at most ``in_flight`` chunks submitted."""
    if isinstance(executor, SequentialExecutor):
        for chunk in pending:  # one chunk at a time: stored before the next starts
            yield execute_chunk(chunk, experiment)
        return
    if isinstance(executor, DaskExecutor):
        from distributed import as_completed

        shared = executor.client.scatter(experiment, broadcast=True)
        first = [
            executor.submit(execute_chunk, chunk, shared) for chunk in itertools.islice(pending, in_flight)
        ]
        queue = as_completed(first)
        for future in queue:
            result = future.result()
            future.release()
            yield result
            for chunk in itertools.islice(pending, 1):
                queue.add(executor.submit(execute_chunk, chunk, shared))
        return
    running = {
        executor.submit(execute_chunk, chunk, experiment) for chunk in itertools.islice(pending, in_flight)
    }
    while running:
        done, running = cf.wait(running, return_when=cf.FIRST_COMPLETED)
        for future in done:
            yield future.result()  # stored and dropped before the next chunk is sent
            for chunk in itertools.islice(pending, 1):
                running.add(executor.submit(execute_chunk, chunk, experiment))


def _restore_terminate(previous: Any) -> None:
    try:
        signal.signal(signal.SIGTERM, previous if previous is not None else signal.SIG_DFL)
    except (ValueError, TypeError):
        pass


def _terminate_as_interrupt() -> Any:
    """Treat SIGTERM like Ctrl-C while a batch runs, so workers are stopped and results kept."""

    def handler(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt

    try:
        return signal.signal(signal.SIGTERM, handler)
    except ValueError:  # not in the main thread (e.g. some notebook kernels): leave it alone
        return signal.getsignal(signal.SIGTERM)


def _shutdown(executor: Any, cancel: bool) -> None:
    if isinstance(executor, DaskExecutor):
        executor.shutdown(cancel)
    else:
        executor.shutdown(wait=True, cancel_futures=cancel)


def _progress(total: int, enabled: bool) -> Any:
    if not enabled:
        return None
    from tqdm import tqdm

    return tqdm(total=total, unit="run", desc="runs", file=sys.stderr, dynamic_ncols=True, smoothing=0.1)
