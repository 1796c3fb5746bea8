"""``sco-sim bench``: throughput of the reference batch, measured on this machine.

The reference batch is the SCO-8 scenario (2017-2035, yearly data collected),
one run per seed from ``SeedSequence(0)``. Reported: the median time of one run
on one core (as a batch runs it, and as ``sim.run`` returns it with DataFrames),
runs per second with 1 and 2 worker processes on a batch long enough to amortise
start-up (2,000 runs by default; each count measured twice, in the order 1 2 2 1),
the start-up of each pool (spawning the workers, importing, a first run) reported
apart, peak memory of the parent and of the workers, and, where the installed
Mesa still has it, ``mesa.batch_run`` on the same model and seeds for comparison.
"""

from __future__ import annotations

import resource
import statistics
import sys
import tempfile
import time
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sim.experiments.batch import execute_chunk, simulate
from sim.experiments.design import Experiment, RunSpec, derive_seeds, run_id, scenario_digest
from sim.experiments.executors import ExecutorChoice, completed, open_pool
from sim.experiments.schema import Metric
from sim.model import SCOModel
from sim.scenario import Scenario, load_scenario

REFERENCE = Path(__file__).resolve().parents[2] / "scenarios" / "sco8_2017.toml"
_SCENARIO: Scenario | None = None


def reference_scenario(path: Path = REFERENCE) -> Scenario:
    """Load (once per process) the reference scenario."""
    global _SCENARIO
    if _SCENARIO is None:
        _SCENARIO = load_scenario(path)
    return _SCENARIO


def _experiment() -> Experiment:
    return Experiment(
        name="bench",
        base_seed=0,
        replications=1,
        arms={"sco8": {"scenario": str(REFERENCE)}},
        metrics={"consensus_rate": Metric(column="consensus_rate")},
    )


def _specs(scenario: Scenario, seeds: list[int]) -> list[RunSpec]:
    digest = scenario_digest(scenario)
    return [
        RunSpec(i, run_id(scenario, s, "sco8", 0, digest), "sco8", 0, i, s, scenario)
        for i, s in enumerate(seeds)
    ]


@dataclass
class BenchResult:
    """Figures measured by :func:`bench`."""

    runs: int
    median_run_ms: float  # as a batch runs it: model, yearly collection, numpy columns
    median_api_run_ms: float  # as sim.run returns it: the same plus pandas DataFrames
    throughput: dict[int, float]  # mean of the passes (start-up excluded)
    passes: dict[int, list[float]]  # runs per second in each pass, in the order measured
    startup: dict[int, float]  # mean seconds to open the pool and warm every worker
    mesa_batch_run: float | None
    mesa_note: str
    peak_parent_mb: float
    peak_worker_mb: float


def _peak_mb(who: int) -> float:
    return resource.getrusage(who).ru_maxrss / 1024.0  # Linux reports KiB


def median_run_ms(scenario: Scenario, seeds: list[int]) -> tuple[float, float]:
    """Median wall time of one run on one core, two ways, alternated seed by seed.

    Returns:
        As a batch runs it (:func:`sim.runner.simulate`: the model, its yearly data
        collection and the tables as numpy columns), and as :func:`sim.run` returns it
        (the same, plus the three tables as pandas DataFrames). Alternating the two
        lets both see the same machine: on a shared machine its speed drifts.

    """
    batch_times, api_times = [], []
    for seed in seeds:
        started = time.perf_counter()
        simulate(RunSpec(0, "", "sco8", 0, 0, seed, scenario))
        batch_times.append(time.perf_counter() - started)
        started = time.perf_counter()
        model = SCOModel(scenario, rng=seed).run()
        model.tables()
        model.release()
        api_times.append(time.perf_counter() - started)
    return 1000.0 * statistics.median(batch_times), 1000.0 * statistics.median(api_times)


def throughput(scenario: Scenario, seeds: list[int], workers: int, chunk: int = 25) -> tuple[float, float]:
    """Return runs per second through the batches' executor loop on a local process pool, and its start-up.

    Start-up (seconds) is opening the pool and having every worker import the package and
    run one run; the rate is measured after it, on the whole batch, so a long batch
    (``sco-sim bench`` runs 2,000) shows the scaling a long experiment gets.
    """
    experiment = _experiment()
    run_specs = _specs(scenario, seeds)
    opened = time.perf_counter()
    pool = open_pool(ExecutorChoice("process", workers=workers))
    try:
        # Warm-up: start every worker and import the package before timing.
        list(pool.executor.map(execute_chunk, [run_specs[:1]] * workers, [experiment] * workers))
        started = time.perf_counter()
        tasks = [(run_specs[i : i + chunk], experiment) for i in range(0, len(run_specs), chunk)]
        done = sum(len(result["summaries"]) for _, result in completed(pool, execute_chunk, tasks))
        elapsed = time.perf_counter() - started
    finally:
        pool.close()
    return done / elapsed, started - opened


class _LastYear:
    """Stand-in recorder for the Mesa version: keeps only the last summit for the reporters."""

    def __init__(self) -> None:
        self.items: Any = None
        self.decision: Any = None

    def collect(self, year: int, items: Any, decision: Any, *rest: Any) -> None:  # noqa: ARG002 - the recorder's signature
        self.items, self.decision = items, decision


def _depth_reporter(k: int) -> Any:
    return lambda m: float(m.depth[k])


class _BatchRunModel(SCOModel):
    """The same model collected the Mesa way, for ``mesa.batch_run``.

    The simulation is unchanged; only data collection differs: Mesa's DataCollector
    gathers the yearly model figures (model reporters) and the yearly state figures
    (agent reporters) every step, as a Mesa user would write it.
    """

    def __init__(self, rng: int | None = None) -> None:
        import mesa

        super().__init__(reference_scenario(), rng=rng)
        self.recorder = _LastYear()  # type: ignore[assignment]

        def outcome(code: int) -> Any:
            return lambda m: int((m.recorder.decision.outcome == code).sum()) if m.recorder.items else 0

        self.datacollector = mesa.DataCollector(
            model_reporters={
                "year": lambda m: m.year - 1,
                "members": lambda m: int(m.members.sum()),
                "items": lambda m: len(m.recorder.items) if m.recorder.items is not None else 0,
                "adopted": outcome(0),
                "adopted_opt_out": outcome(1),
                "diluted": outcome(2),
                "blocked": outcome(3),
                "deferred": outcome(4),
                "mean_trust": lambda m: float(m.trust[m.members][:, m.members].mean()),
                "balancing_index": lambda m: float(m.balancing_indices()[m.focal]),
                **{f"depth_{a}": _depth_reporter(k) for k, a in enumerate(self.areas)},
            },
            agent_reporters={
                "status": "status",
                "capability": "capability",
                "alignment": "alignment",
                "threat": "threat",
                "balancing_index": "balancing_index",
            },
        )

    def step(self) -> None:
        super().step()
        self.datacollector.collect(self)


def mesa_batch_run(seeds: list[int]) -> tuple[float | None, str]:
    """Return runs per second of ``mesa.batch_run`` (one process) on the same model and seeds."""
    try:
        from mesa import batch_run
    except ImportError:
        return None, "mesa.batch_run is not in the installed Mesa"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # batch_run is deprecated in current Mesa; we only measure it
        import inspect

        # Mesa 3.5 takes seeds as batch_run(rng=[...]); Mesa 3.3 as a swept model parameter.
        if "rng" in inspect.signature(batch_run).parameters:
            seeding: dict[str, Any] = {"parameters": {}, "rng": seeds}
        else:
            seeding = {"parameters": {"rng": seeds}}
        started = time.perf_counter()
        results = batch_run(
            _BatchRunModel,
            number_processes=1,
            data_collection_period=1,
            max_steps=10_000,
            display_progress=False,
            **seeding,
        )
        elapsed = time.perf_counter() - started
    runs = len({row["RunId"] for row in results})
    if runs != len(seeds):
        return None, f"mesa.batch_run ran {runs} runs for {len(seeds)} seeds; not comparable"
    return runs / elapsed, "mesa.batch_run, 1 process, DataCollector every year"


def bench(runs: int = 2000, workers: tuple[int, ...] = (1, 2)) -> BenchResult:
    """Measure the reference batch; see the module docstring."""
    scenario = reference_scenario()
    seeds = derive_seeds(0, runs)
    median_ms, median_api_ms = median_run_ms(scenario, seeds[: min(runs, 200)])
    # Each worker count twice, in the order 1 2 2 1: a drift in the machine's speed during
    # the measurement then weighs on both counts alike, not on the ratio.
    passes: dict[int, list[float]] = {n: [] for n in workers}
    startups: dict[int, list[float]] = {n: [] for n in workers}
    for n in [*workers, *reversed(workers)]:
        rate, startup = throughput(scenario, seeds, n)
        passes[n].append(rate)
        startups[n].append(startup)
    rates = {n: statistics.fmean(values) for n, values in passes.items()}
    mesa_rate, note = mesa_batch_run(seeds[: min(runs, 200)])
    return BenchResult(
        runs=runs,
        median_run_ms=median_ms,
        median_api_run_ms=median_api_ms,
        throughput=rates,
        passes=passes,
        startup={n: statistics.fmean(values) for n, values in startups.items()},
        mesa_batch_run=mesa_rate,
        mesa_note=note,
        peak_parent_mb=_peak_mb(resource.RUSAGE_SELF),
        peak_worker_mb=_peak_mb(resource.RUSAGE_CHILDREN),
    )


@dataclass
class MemoryResult:
    """Peak memory of a batch run into a store, measured by :func:`measure_memory`."""

    runs: int
    workers: int
    minutes: float
    peak_mb: float

    def line(self) -> str:
        """Render the figure as the line ``sco-sim bench --memory-runs`` prints."""
        return (
            f"batch of {self.runs} runs into a store ({self.workers} workers, {self.minutes:.1f} min): "
            f"peak memory {self.peak_mb:.0f} MB (largest of the parent and each worker)"
        )


def measure_memory(runs: int, workers: int = 2) -> MemoryResult:
    """Time :func:`memory_batch`; run it first in a fresh process, so the peak is the batch's own."""
    started = time.perf_counter()
    peak = memory_batch(runs, workers)
    return MemoryResult(runs, workers, (time.perf_counter() - started) / 60, peak)


def memory_batch(runs: int, workers: int = 2) -> float:
    """Run ``runs`` runs through the full batch machinery into a temporary store; peak MB."""
    from sim.experiments.batch import ExecutorChoice, run_batch
    from sim.experiments.design import Design
    from sim.experiments.store import ResultStore

    scenario = reference_scenario()
    seeds = derive_seeds(0, runs)
    experiment = _experiment()
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "bench.toml"
        path.write_text('name = "bench"\n')
        design = Design(experiment, path, "bench", [], [{}], seeds, _specs(scenario, seeds))
        store = ResultStore(Path(folder) / "results", design)
        run_batch(design, store, ExecutorChoice("process", workers=workers), progress=sys.stderr.isatty())
    return max(_peak_mb(resource.RUSAGE_SELF), _peak_mb(resource.RUSAGE_CHILDREN))


def format_result(result: BenchResult) -> str:
    """Render the figures as the table ``sco-sim bench`` prints."""
    lines = [
        f"reference batch: {REFERENCE.name} (2017-2035, yearly data collected), {result.runs} runs",
        "  median time of one run (one core):",
        f"    as a batch runs it (model, yearly data, columns)  {result.median_run_ms:8.1f} ms",
        f"    as sim.run returns it (plus pandas DataFrames)    {result.median_api_run_ms:8.1f} ms",
    ]
    lines.append(f"  process pool, after start-up, on the {result.runs} runs:")
    for n, rate in result.throughput.items():
        each = " and ".join(f"{value:.1f}" for value in result.passes.get(n, []))
        lines.append(f"    {n} worker(s)                          {rate:8.1f} runs/s (passes: {each})")
    if len(result.throughput) >= 2:
        ones = result.throughput.get(1)
        twos = result.throughput.get(2)
        if ones and twos:
            lines.append(f"  speed-up 2 workers / 1 worker          {twos / ones:8.2f} x")
    for n, seconds in result.startup.items():
        whole = result.runs / (result.runs / result.throughput[n] + seconds)
        lines.append(
            f"  start-up, {n} worker(s) (spawn, import, first run) {seconds:6.2f} s; "
            f"with it {whole:.1f} runs/s on this batch"
        )
    if result.mesa_batch_run is not None:
        lines.append(f"  {result.mesa_note}:")
        lines.append(f"  {'':<38} {result.mesa_batch_run:8.1f} runs/s")
        if 1 in result.throughput:
            lines.append(
                f"  sco-sim 1 worker / mesa.batch_run      "
                f"{result.throughput[1] / result.mesa_batch_run:8.2f} x"
            )
    else:
        lines.append(f"  {result.mesa_note}")
    lines.append(
        f"  peak memory: parent {result.peak_parent_mb:.0f} MB, largest worker {result.peak_worker_mb:.0f} MB"
    )
    return "\n".join(lines)
