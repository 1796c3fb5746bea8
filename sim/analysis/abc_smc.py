"""ABC-SMC calibration with pyabc: summaries of 1996-2017 as the target, resumable from its database.

The method (docs/calibration.md):

- **Prior**: uniform over each fitted parameter's range in the calibration file (a
  whole-number parameter is drawn on a continuous scale and rounded).
- **Summaries**: the discrepancies of :mod:`sim.analysis.summaries`; one simulation is
  one seed of a parameter point (the scenario and its endogenous variant), drawn
  afresh for every simulation, so the posterior carries the model's own noise.
- **Distance**: pyabc's ``AdaptivePNormDistance`` (p = 1), each summary scaled anew
  every generation by its mean absolute deviation over all simulations of the last
  generation, accepted and rejected (Prangle 2017), so each summary weighs about the
  same on average whatever its unit; a summary that did not vary gets weight 0.
- **Threshold**: the ``alpha`` quantile of the last population's distances.
- **Sampler**: pyabc's multicore evaluation-parallel sampler on ``workers`` processes,
  its Dask sampler on a scheduler's workers, or (one worker) its single-core sampler.
- **Kernel**: a multivariate normal around each particle with twice the population's
  weighted covariance (Beaumont et al. 2009; :mod:`sim.analysis.pyabc_parts` says why
  not pyabc's default), proposals kept inside the prior box.
- **Budget**: generations of ``population_size`` accepted particles until
  ``max_simulations`` simulations (the prior sample that calibrates the first distance
  included), or ``max_generations``.

**Resuming.** The run lives in ``abc.db`` (pyabc's ``History``, SQLite). ``resume=True``
loads it and goes on from the last finished generation. The distance's scale weights
are not in pyabc's database; they are kept in ``abc.weights.json`` and read back,
so the resumed run uses the same distance as an uninterrupted one. With one worker
every generation starts from a generator seeded by (base seed, generation), so an
interrupted and resumed run gives the same posterior as an uninterrupted one
(tests/test_abc.py). With several workers pyabc's processes draw their own seeds and
finish in whatever order the machine allows: the result is a valid sample of the same
posterior, not the same numbers.

Outputs in the results folder: ``posterior.csv`` (an equal-weight sample: ``draw`` then
one column per fitted parameter named by its dotted scenario key), ``posterior_summary.csv``
(prior range, posterior mean, median, sd, 5% and 95% quantiles, contraction),
``posterior_correlations.csv``, ``generations.csv`` (epsilon, simulations, acceptance
rate, wall time per generation), ``timing.json`` (harness against model time) and
``chosen.json`` (the weighted posterior median that ``--apply`` writes).
"""

from __future__ import annotations

import json
import logging
import resource
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sim.analysis import summaries
from sim.analysis.posterior import (
    equal_weight_sample,
    posterior_correlations,
    posterior_median,
    posterior_table,
    predictive_checks,
)
from sim.analysis.simulator import COUNTERS, Simulator, Space, shared_counters
from sim.errors import CalibrationError
from sim.experiments.design import derive_seeds
from sim.files import write_text

DATABASE = "abc.db"
WEIGHTS = ".weights.json"  # beside the database: abc.db -> abc.weights.json
# pyabc's default (no bound): summaries on scales 1e3 apart (years, alignment) need unbounded weights
MAX_WEIGHT_RATIO = None


def require_pyabc() -> Any:
    """Import pyabc, or raise a one-line error that says how to install it."""
    try:
        import pyabc
    except ImportError:
        raise CalibrationError(
            "", "ABC-SMC needs pyabc, which is not installed: pip install 'sco-sim[calibrate]'"
        ) from None
    logging.getLogger("ABC").setLevel(logging.WARNING)
    for name in ("ABC.Sampler", "ABC.Distance", "ABC.History", "ABC.Epsilon", "ABC.Population"):
        logging.getLogger(name).setLevel(logging.ERROR)
    return pyabc


@dataclass(frozen=True)
class AbcBudget:
    """How much one ABC-SMC run may simulate, and its threshold schedule.

    ``hard``: ``max_simulations`` is a ceiling (a generation that would pass it is
    abandoned and the run ends with the generation before; the first generation always
    finishes, so that there is a posterior; the recovery study's refits); otherwise it is
    a floor (the generation that reaches it finishes; the fit).
    """

    population_size: int = 1000
    max_simulations: int = 100_000
    max_generations: int = 40
    alpha: float = 0.5
    min_acceptance_rate: float = 0.0
    base_seed: int = 1996
    hard: bool = False


def _prior_and_transition(space: Space) -> tuple[Any, Any]:
    """Uniform priors on each parameter's range (the sampled scale, see Space.bounds) and the kernel."""
    from sim.analysis.pyabc_parts import BoxPrior, BoxTransition

    bounds = {name: space.bounds(name) for name in space.names}
    return BoxPrior(bounds), BoxTransition(bounds)


def _seeded_abcsmc(pyabc: Any) -> type:
    """Pyabc's ABCSMC with numpy's global generator seeded at the start of each generation."""

    class SeededABCSMC(pyabc.ABCSMC):  # type: ignore[misc, name-defined]
        base_seed = 0

        def initialize_components_before_run(self, *args: Any, **kwargs: Any) -> int:
            np.random.seed(derive_seeds(self.base_seed, 1)[0] % 2**32)
            return super().initialize_components_before_run(*args, **kwargs)

        ceiling: float | None = None  # a hard budget: no generation may take the total past it

        def run_generation(self, t: int) -> dict:
            np.random.seed(generation_seed(self.base_seed, t))
            if self.ceiling is not None and t > 0:  # pyabc abandons a generation past pop / min rate
                left = max(self.ceiling - self.history.total_nr_simulations, 1.0)
                self.min_acceptance_rate = min(self.population_size(t) / left, 1.0)
            return super().run_generation(t)

    return SeededABCSMC


def generation_seed(base_seed: int, t: int) -> int:
    """The seed of numpy's global generator at the start of generation ``t``."""
    return int(np.random.SeedSequence([base_seed, t]).generate_state(1)[0])


def _distance(pyabc: Any, log_file: Path, initial: dict[str, float] | None) -> Any:
    from pyabc.distance.scale import mean_absolute_deviation

    return pyabc.AdaptivePNormDistance(
        p=1,
        scale_function=mean_absolute_deviation,
        max_scale_weight_ratio=MAX_WEIGHT_RATIO,
        scale_log_file=str(log_file),
        initial_scale_weights=initial,
    )


def _sampler(pyabc: Any, workers: int, scheduler: str | None) -> tuple[Any, Any, int]:
    """Return the sampler, the Dask client to close afterwards (or None) and the number of workers."""
    if scheduler:
        from distributed import Client

        try:
            client = Client(scheduler, timeout="5s")
        except (OSError, TimeoutError) as exc:
            raise ConnectionError(f"cannot reach the Dask scheduler at {scheduler} ({exc})") from None
        # 20 simulations per Dask task: one task per simulation would cost more than the model.
        sampler = pyabc.sampler.DaskDistributedSampler(dask_client=client, batch_size=20)
        return sampler, client, max(1, sum(client.nthreads().values()))
    if workers <= 1:
        return pyabc.sampler.SingleCoreSampler(check_max_eval=True), None, 1
    return pyabc.sampler.MulticoreEvalParallelSampler(n_procs=workers, check_max_eval=True), None, workers


def _logged_weights(path: Path, t: int) -> dict[str, float] | None:
    """The distance's scale weights for generation ``t`` as logged by the interrupted run, if any."""
    if not path.exists():
        return None
    logged = json.loads(path.read_text())
    weights = logged.get(str(t))
    return {str(k): float(v) for k, v in weights.items()} if weights else None


def _cpu_seconds() -> float:
    """CPU seconds of this process and of its finished children (pyabc's workers), user and system."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


@dataclass
class AbcRun:
    """A finished (or stopped) ABC-SMC run: its history and what it cost."""

    space: Space
    history: Any  # pyabc.History
    wall_seconds: float
    cpu_seconds: float  # this process and its workers
    counts: dict[str, float]  # the simulator's counters (COUNTERS) over this call's simulations
    workers: int
    resumed_from: int  # generations already in the database when this call started

    @property
    def simulations(self) -> int:
        """Simulations in this call (not those of a run resumed from)."""
        calls = self.counts.get("calls", 0.0)
        return 0 if np.isnan(calls) else int(calls)

    @property
    def total_simulations(self) -> int:
        """Simulations in the database, all calls together (the calibration sample included)."""
        return int(self.history.total_nr_simulations)

    def population(self, t: int | None = None) -> tuple[pd.DataFrame, np.ndarray]:
        """The last (or ``t``-th) population: parameters on the sampled scale and normalised weights."""
        frame, weights = self.history.get_distribution(m=0, t=t)
        return frame[self.space.names], np.asarray(weights, dtype=float) / np.sum(weights)

    def timing(self) -> dict[str, float]:
        """The harness against the model, per simulation, measured in this call.

        ``cpu_ratio``: CPU seconds of this process and its workers (everything: pyabc, the
        summaries, the database, the model) over the CPU seconds the models took, so other
        work on a shared machine does not enter. ``wall_ratio``: wall time x workers over
        the models' wall time (idle workers at the end of a generation count against it).
        """
        n = max(self.simulations, 1)
        c = self.counts
        return {
            "simulations": self.simulations,
            "workers": self.workers,
            "wall_seconds": self.wall_seconds,
            "cpu_seconds": self.cpu_seconds,
            "model_ms": 1000 * c["model_seconds"] / n,
            "model_cpu_ms": 1000 * c["model_cpu"] / n,
            "simulator_ms": 1000 * c["call_seconds"] / n,
            "simulator_cpu_ms": 1000 * c["call_cpu"] / n,
            "wall_ms_x_workers": 1000 * self.wall_seconds * self.workers / n,
            "cpu_ms": 1000 * self.cpu_seconds / n,
            "cpu_ratio": self.cpu_seconds / c["model_cpu"] if c["model_cpu"] > 0 else float("nan"),
            "wall_ratio": self.wall_seconds * self.workers / c["model_seconds"]
            if c["model_seconds"] > 0
            else float("nan"),
        }


def _generations_done(pyabc: Any, database: Path, weights_log: Path, resume: bool) -> int:
    """Generations already in ``database`` to resume from (0: start afresh, removing any old run)."""
    if resume and database.exists():
        history = pyabc.History(f"sqlite:///{database}")
        if history.n_populations > 0:
            return int(history.max_t) + 1
    for path in (database, weights_log):
        path.unlink(missing_ok=True)
    return 0


def _counts(simulator: Simulator, before: dict[str, float], shared: Any, how: str, simulated: int) -> dict:
    """The simulator's counters over this call: here (one worker), shared (forked workers) or Dask."""
    if how == "dask":  # the workers' time stays with them; only the count is known
        return {**dict.fromkeys(COUNTERS, float("nan")), "calls": float(simulated)}
    if how == "here":  # the single-core sampler simulates in this process
        return {k: simulator.counts[k] - before[k] for k in COUNTERS}
    return dict(zip(COUNTERS, shared[:], strict=True))


def run_abc(
    simulator: Simulator,
    observed: Mapping[str, float],
    budget: AbcBudget,
    database: Path,
    workers: int = 1,
    resume: bool = False,
    scheduler: str | None = None,
    stop_after: int | None = None,
) -> AbcRun:
    """Run (or resume) ABC-SMC on ``simulator`` against ``observed``; the run lives in ``database``.

    ``stop_after`` stops after that many generations in this call (for tests of resuming).
    """
    pyabc = require_pyabc()
    database = Path(database)
    database.parent.mkdir(parents=True, exist_ok=True)
    weights_log = database.with_suffix(WEIGHTS)
    done = _generations_done(pyabc, database, weights_log, resume)
    shared = shared_counters() if scheduler is None else None
    simulator.shared = shared
    prior, transition = _prior_and_transition(simulator.space)
    sampler, client, n_workers = _sampler(pyabc, workers, scheduler)
    abc = _seeded_abcsmc(pyabc)(
        simulator,
        prior,
        _distance(pyabc, weights_log, _logged_weights(weights_log, done) if done else None),
        population_size=budget.population_size,
        transitions=transition,
        eps=pyabc.QuantileEpsilon(alpha=budget.alpha),
        sampler=sampler,
    )
    abc.base_seed = budget.base_seed
    abc.ceiling = float(budget.max_simulations) if budget.hard else None
    if done:
        abc.load(f"sqlite:///{database}", 1)
    else:
        abc.new(f"sqlite:///{database}", dict(observed))
    before, cpu_before = dict(simulator.counts), _cpu_seconds()
    generations = budget.max_generations - done
    if stop_after is not None:
        generations = min(generations, stop_after)
    simulated_before = int(abc.history.total_nr_simulations)
    started = time.perf_counter()
    try:
        if generations > 0 and simulated_before < budget.max_simulations:
            abc.run(
                max_nr_populations=generations,
                max_total_nr_simulations=budget.max_simulations,
                min_acceptance_rate=budget.min_acceptance_rate,
            )
    finally:
        simulator.shared = None
        if client is not None:
            client.close()
    wall, cpu = time.perf_counter() - started, _cpu_seconds() - cpu_before
    how = "dask" if scheduler else ("here" if workers <= 1 else "forked")
    simulated = int(abc.history.total_nr_simulations) - simulated_before
    counts = _counts(simulator, before, shared, how, simulated)
    return AbcRun(simulator.space, abc.history, wall, cpu, counts, n_workers, done)


def generations_table(history: Any) -> pd.DataFrame:
    """Epsilon, simulations, acceptance rate and wall time of every generation in the database."""
    populations = history.get_all_populations()
    populations = populations[populations["t"] >= 0].copy()
    sizes = history.get_nr_particles_per_population()
    populations["particles"] = [int(sizes.get(t, 0)) for t in populations["t"]]
    populations["acceptance_rate"] = populations["particles"] / populations["samples"]
    keep = ["t", "epsilon", "samples", "particles", "acceptance_rate"]
    frame = populations[keep].rename(columns={"t": "generation", "samples": "simulations"})
    return frame.reset_index(drop=True)


def write_outputs(run: AbcRun, out: Path, draws: int, seed: int) -> dict[str, Any]:
    """Write posterior.csv and the tables beside it; return the chosen point and the figures."""
    population, weights = run.population()
    space = run.space
    sample = equal_weight_sample(population, weights, space, draws, seed)
    write_text(out / "posterior.csv", sample.to_csv(index=False, lineterminator="\n"))
    table = posterior_table(population, weights, space)
    write_text(out / "posterior_summary.csv", table.to_csv(index=False, lineterminator="\n"))
    write_text(
        out / "posterior_correlations.csv", posterior_correlations(population, weights, space).to_csv()
    )
    write_text(
        out / "generations.csv", generations_table(run.history).to_csv(index=False, lineterminator="\n")
    )
    chosen = posterior_median(population, weights, space)
    write_text(
        out / "chosen.json",
        json.dumps({"rule": "weighted posterior median", "values": chosen}, indent=2) + "\n",
    )
    timing = {**run.timing(), "total_simulations": run.total_simulations, "resumed_from": run.resumed_from}
    finite = {k: (None if isinstance(v, float) and np.isnan(v) else v) for k, v in timing.items()}
    write_text(out / "timing.json", json.dumps(finite, indent=2) + "\n")
    return {"chosen": chosen, "table": table, "sample": sample, "timing": timing}


def observed_summaries() -> dict[str, float]:
    """The record's value of every summary (``summaries.OBSERVED``)."""
    return dict(summaries.OBSERVED)


ProgressFn = Callable[[str], None] | None


# The calibration command's ABC-SMC path ------------------------------------------------------


@dataclass
class AbcResult:
    """What ``sco-sim calibrate`` with ``method = "abc-smc"`` found and wrote."""

    calibration: Any  # sim.analysis.calibration.Calibration
    run: AbcRun
    chosen: dict[str, float | int]
    table: pd.DataFrame  # posterior_summary.csv
    sample: pd.DataFrame  # posterior.csv
    timing: dict[str, Any]
    predictive: pd.DataFrame | None  # predictive.csv


def budget_of(calibration: Any) -> AbcBudget:
    """The ABC budget of a calibration file's ``[abc]`` table."""
    abc = calibration.file.abc
    return AbcBudget(
        population_size=abc.population_size,
        max_simulations=abc.max_simulations,
        max_generations=abc.max_generations,
        alpha=abc.alpha,
        min_acceptance_rate=abc.min_acceptance_rate,
        base_seed=calibration.file.base_seed,
    )


def calibrate_abc(
    calibration: Any,
    out_dir: str | Path,
    workers: int = 2,
    resume: bool = False,
    scheduler: str | None = None,
) -> AbcResult:
    """Fit the ``fit`` parameters by ABC-SMC; write the posterior and the checks to ``out_dir``."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    space = calibration.space()
    simulator = Simulator(str(calibration.scenario), space)
    run = run_abc(
        simulator,
        observed_summaries(),
        budget_of(calibration),
        out / DATABASE,
        workers=workers,
        resume=resume,
        scheduler=scheduler,
    )
    seed = calibration.file.base_seed
    written = write_outputs(run, out, calibration.file.abc.draws, seed)
    predictive = None
    n = calibration.file.abc.predictive_draws
    if n:
        predictive = predictive_checks(
            str(calibration.scenario), space, written["sample"], n, seed, workers=workers
        )
        write_text(out / "predictive.csv", predictive.to_csv(index=False, lineterminator="\n"))
    return AbcResult(
        calibration,
        run,
        written["chosen"],
        written["table"],
        written["sample"],
        written["timing"],
        predictive,
    )


def format_abc(result: AbcResult) -> str:
    """The summary printed by ``sco-sim calibrate`` for an ABC-SMC calibration."""
    cal, run, t = result.calibration, result.run, result.timing
    abc = cal.file.abc
    lines = [
        f"ABC-SMC calibration of {cal.scenario.name}: {len(cal.fitted)} parameters fitted, "
        f"population {abc.population_size}, {run.total_simulations} simulations in "
        f"{int(run.history.max_t) + 1} generations (budget {abc.max_simulations})",
        f"{'parameter':<34} {'prior':>14} {'posterior median [5%, 95%]':>32} {'contraction':>11}",
    ]
    for row in result.table.itertuples():
        prior = f"[{row.low:g}, {row.high:g}]"
        post = f"{row.median:.4g} [{row.q05:.4g}, {row.q95:.4g}]"
        lines.append(f"{row.parameter:<34} {prior:>14} {post:>32} {row.contraction:>11.2f}")
    if cal.assumed:
        lines.append(f"not fitted (kept at the scenario's values): {', '.join(cal.assumed)}")
    lines.append(
        f"wall time {t['wall_seconds']:.0f} s on {t['workers']} worker(s); per simulation: model "
        f"{t['model_cpu_ms']:.1f} ms CPU, everything {t['cpu_ms']:.1f} ms CPU "
        f"(ratio {t['cpu_ratio']:.2f}); wall x workers {t['wall_ms_x_workers']:.1f} ms against model "
        f"wall {t['model_ms']:.1f} ms (ratio {t['wall_ratio']:.2f})"
    )
    if result.predictive is not None:
        worst = result.predictive.sort_values("p_value").head(3)
        misses = ", ".join(f"{r.summary} (p {r.p_value:.2f})" for r in worst.itertuples())
        lines.append(f"posterior predictive: lowest p-values {misses} (all in predictive.csv)")
    return "\n".join(lines)
