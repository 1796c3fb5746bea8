"""The one executor loop: tasks on a ``concurrent.futures`` executor, a bounded number in flight.

Three executors share the ``concurrent.futures.Executor`` interface (``submit`` returns a
:class:`concurrent.futures.Future`):

- ``sequential``: each task runs at once in this process;
- ``process``: a local process pool with the ``spawn`` start method (the same on Linux,
  macOS, Windows and in notebooks); workers leave Ctrl-C to the parent;
- ``dask``: Dask distributed through ``distributed.Client.get_executor()``, on an existing
  scheduler or a ``LocalCluster`` started here.

:func:`open_pool` opens one of them; :func:`completed` submits tasks with at most
``pool.in_flight`` running and yields each result as it finishes; :func:`run_tasks` is
the same loop that returns the results in task order. Batches (:mod:`sim.experiments.batch`),
validation and calibration all run through it, so every seed was derived in the parent
and a task gives the same numbers on whichever executor ran it.
"""

from __future__ import annotations

import concurrent.futures as cf
import itertools
import multiprocessing
import signal
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from sim.errors import WorkerLost


@dataclass
class ExecutorChoice:
    """Which executor to use and how."""

    kind: str = "process"  # sequential | process | dask
    workers: int | None = None
    scheduler: str | None = None
    dask_local: int | None = None

    @classmethod
    def for_workers(cls, workers: int) -> ExecutorChoice:
        """Sequential for one worker, else a local process pool of ``workers``."""
        return cls("sequential") if workers <= 1 else cls("process", workers=workers)


class SequentialExecutor(cf.Executor):
    """Runs each task at once in this process; futures come back already done."""

    def submit(self, fn: Any, /, *args: Any, **kwargs: Any) -> cf.Future:  # type: ignore[override]
        """Run ``fn`` now and return a finished future."""
        future: cf.Future = cf.Future()
        try:
            future.set_result(fn(*args, **kwargs))
        except BaseException as exc:
            future.set_exception(exc)
        return future


class Pool:
    """An open executor with its number of workers; :meth:`share` and :meth:`close` hide the kind."""

    def __init__(self, executor: cf.Executor, workers: int, client: Any = None, cluster: Any = None) -> None:
        self.executor = executor
        self.workers = workers
        self.client = client
        self.cluster = cluster

    @property
    def in_flight(self) -> int:
        """Tasks submitted at a time: one in this process, else two per worker."""
        return 1 if isinstance(self.executor, SequentialExecutor) else 2 * self.workers

    def share(self, value: Any) -> Any:
        """Return ``value`` ready to pass to every task (sent once to each Dask worker)."""
        if self.client is None:
            return value
        return self.client.scatter(value, broadcast=True)

    def _workers(self) -> list[Any]:
        """The worker processes of a local process pool (none for other executors, or once shut down)."""
        return list((getattr(self.executor, "_processes", None) or {}).values())  # by pid

    def lost_worker(self) -> bool:
        """Whether a worker process of a local pool has died while the pool is open."""
        return any(process.exitcode is not None for process in self._workers())

    def close(self, cancel: bool = False) -> None:
        """Stop the workers; ``cancel`` drops tasks not yet started."""
        if self.client is None:
            if cancel and self.lost_worker():
                self.unstick()
            self.executor.shutdown(wait=True, cancel_futures=cancel)
            return
        self.executor.shutdown(wait=not cancel)
        self.client.close()
        if self.cluster is not None:
            self.cluster.close()

    def unstick(self) -> None:
        """Free a process pool whose worker died half-way through sending a result.

        The pool's manager thread then waits, forever, for the rest of a message that will
        not come (``kill -9`` during a large result; seen about once in six on Python 3.11), and
        neither the pool nor the interpreter can shut down. With every worker stopped and this
        process's own end of the result pipe closed, that read ends (end of file), the pool
        marks itself broken and shuts down as after any other death.
        """
        for process in self._workers():
            process.kill()
        results = getattr(self.executor, "_result_queue", None)
        if results is not None:
            results._writer.close()


def open_pool(choice: ExecutorChoice) -> Pool:
    """Open the executor ``choice`` names."""
    if choice.kind == "sequential":
        return Pool(SequentialExecutor(), 1)
    if choice.kind == "dask":
        return _open_dask(choice.scheduler, choice.dask_local)
    context = multiprocessing.get_context("spawn")
    workers = choice.workers or 2
    executor = cf.ProcessPoolExecutor(max_workers=workers, mp_context=context, initializer=_ignore_interrupts)
    return Pool(executor, workers)


def _open_dask(scheduler: str | None, local_workers: int | None) -> Pool:
    try:
        from distributed import Client, LocalCluster
    except ImportError:
        raise RuntimeError("Dask is not installed: pip install 'sco-sim[dask]'") from None
    cluster = None
    if scheduler:
        try:
            client = Client(scheduler, timeout="5s")
        except (OSError, TimeoutError, ValueError) as exc:  # ValueError: an address Dask cannot parse
            raise ConnectionError(f"cannot reach the Dask scheduler at {scheduler} ({exc})") from None
    else:
        cluster = LocalCluster(
            n_workers=local_workers or 2, threads_per_worker=1, processes=True, dashboard_address=None
        )
        client = Client(cluster)
    workers = max(1, sum(client.nthreads().values()))
    return Pool(client.get_executor(pure=False), workers, client, cluster)


def _ignore_interrupts() -> None:
    """Workers leave Ctrl-C to the parent, which keeps what has finished and stops them."""
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
    _open_dask(address, None).close()


# How often a wait for results checks that the local workers are alive. A pool notices a
# worker's death by itself, except when the worker died in the middle of sending a result.
_WATCH_SECONDS = 1.0
_BREAK_SECONDS = 30.0  # the time a freed pool gets to break before it is given up


def completed(
    pool: Pool, fn: Callable[..., Any], tasks: Iterable[tuple[Any, ...]], in_flight: int | None = None
) -> Iterator[tuple[int, Any]]:
    """Run ``fn(*task)`` for every task; yield ``(task number, result)`` as each finishes.

    At most ``in_flight`` (default ``pool.in_flight``) tasks are submitted at a time, and
    a result is yielded (and dropped by the caller) before the next task is sent, so
    memory stays flat however many tasks there are. A task that raises raises here;
    tasks not yet started are cancelled. A worker process that dies (``kill -9``, the
    out-of-memory killer) breaks a local pool: that raises :class:`~sim.errors.WorkerLost`.
    """
    pending = enumerate(tasks)
    running: dict[cf.Future, int] = {}

    def submit(count: int) -> None:
        for k, task in itertools.islice(pending, count):
            running[pool.executor.submit(fn, *task)] = k

    try:
        submit(in_flight or pool.in_flight)
        while running:
            done, _ = cf.wait(running, timeout=_WATCH_SECONDS, return_when=cf.FIRST_COMPLETED)
            if not done and pool.lost_worker():  # a death the pool itself may not notice
                pool.unstick()  # the pool then breaks, and its futures with it
                done, _ = cf.wait(running, timeout=_BREAK_SECONDS, return_when=cf.FIRST_COMPLETED)
                if not done:
                    raise cf.BrokenExecutor
            for future in done:
                k = running.pop(future)
                yield k, future.result()
                submit(1)
    except cf.BrokenExecutor:
        raise WorkerLost(
            "a worker process died (killed, or out of memory?), which stopped the pool"
        ) from None
    finally:
        for future in running:
            future.cancel()


def run_tasks(
    fn: Callable[..., Any],
    tasks: Iterable[tuple[Any, ...]],
    choice: ExecutorChoice | None = None,
    on_result: Callable[[int, Any], None] | None = None,
) -> list[Any]:
    """Run ``fn(*task)`` for every task on the executor ``choice``; results in task order.

    ``on_result(k, result)`` is called as each task finishes (in any order), so a caller
    can keep finished work, or advance a progress bar, before the whole list is done.
    """
    tasks = list(tasks)
    results: list[Any] = [None] * len(tasks)
    if not tasks:
        return results
    with interrupts_stop_workers():
        pool = open_pool(choice or ExecutorChoice("sequential"))
        finished = False
        try:
            for k, result in completed(pool, fn, tasks):
                results[k] = result
                if on_result is not None:
                    on_result(k, result)
            finished = True
        finally:
            pool.close(cancel=not finished)
    return results


@contextmanager
def interrupts_stop_workers() -> Iterator[None]:
    """Treat SIGTERM like Ctrl-C inside the block, so workers are stopped and results kept."""

    def handler(_signum: int, _frame: Any) -> None:
        raise KeyboardInterrupt

    try:
        previous = signal.signal(signal.SIGTERM, handler)
        installed = True
    except ValueError:  # not in the main thread (e.g. some notebook kernels): leave it alone
        previous, installed = None, False
    try:
        yield
    finally:
        if installed:
            try:
                signal.signal(signal.SIGTERM, previous if previous is not None else signal.SIG_DFL)
            except (ValueError, TypeError):
                pass
