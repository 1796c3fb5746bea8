"""Commands on experiments and their results folders: ``batch``, ``compare``, ``plot``, ``report``, ``rerun``.

``sensitivity`` is in :mod:`sim.cli.sensitivity`; this module holds the executor options both share.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from sim.cli.options import Command, executor_options, positive
from sim.errors import InputError


def batch_arguments(cmd: argparse.ArgumentParser) -> None:
    """Arguments of ``sco-sim batch``."""
    cmd.add_argument("experiment", metavar="EXPERIMENT", help="experiment file (TOML)")
    executor_options(cmd)
    cmd.add_argument("--replications", type=positive, default=None,
                     help="override the file's replications (e.g. a quick check)")  # fmt: skip


def batch_command(args: argparse.Namespace) -> int:
    """Run an experiment's batch into its results folder, resuming if asked."""
    from sim.experiments.design import load_experiment, resolve
    from sim.experiments.store import ResultStore

    design = load_experiment(args.experiment)
    if args.replications:
        experiment = design.experiment.model_copy(update={"replications": args.replications})
        design = resolve(experiment, design.path, design.file_hash + f"-r{args.replications}")
    out = Path(args.out) if args.out else Path("results") / design.experiment.name
    choice, where = executor(args)
    store = ResultStore(out, design, resume=args.resume)
    todo = len(store.missing(design.runs))
    print(
        f"{design.experiment.name}: {len(design.arms)} arms x {len(design.points)} point(s) x "
        f"{design.experiment.replications} seeds = {len(design.runs)} runs; "
        f"{todo} to run on {where} -> {out}/"
    )
    again = f" --replications {args.replications}" if args.replications else ""
    resume = f"sco-sim batch {args.experiment} --out {out}{again} --resume"
    return run_and_report(design, store, choice, out, not args.no_progress, resume)


def run_and_report(design: Any, store: Any, choice: Any, out: Path, progress: bool, resume: str) -> int:
    """Run what the store lacks and print what the batch did; 130, and how to resume, if interrupted."""
    from sim.experiments.batch import run_batch

    try:
        report = run_batch(design, store, choice, progress=progress)
    except KeyboardInterrupt:
        print(f"interrupted: {len(store.done)} finished runs are stored in {out}/; continue with: {resume}",
              file=sys.stderr)  # fmt: skip
        return 130
    print_batch_report(report, out)
    return 0


def executor(args: argparse.Namespace) -> tuple[Any, str]:
    """Return the executor chosen by the options, and where it runs (checked before anything is written)."""
    from sim.experiments.batch import ExecutorChoice

    if args.scheduler or args.dask_local:
        choice = ExecutorChoice("dask", scheduler=args.scheduler, dask_local=args.dask_local)
        where = (
            f"Dask at {args.scheduler}" if args.scheduler else f"a local Dask cluster of {args.dask_local}"
        )
    elif args.sequential:
        choice, where = ExecutorChoice("sequential"), "this process"
    else:
        choice, where = ExecutorChoice("process", workers=args.workers), f"{args.workers} worker processes"
    if args.scheduler or args.dask_local:
        _check_dask(args.scheduler, "--scheduler" if args.scheduler else "--dask-local")
    return choice, where


def _check_dask(scheduler: str | None, option: str) -> None:
    """Raise InputError if Dask is missing or the scheduler cannot be reached."""
    from sim.experiments.batch import check_scheduler, dask_available

    if not dask_available():
        raise InputError(
            "", "Dask is not installed; install it with: pip install 'sco-sim[dask]'", key=option
        )
    if scheduler:
        try:
            check_scheduler(scheduler)
        except (ConnectionError, RuntimeError) as exc:
            raise InputError("", str(exc), key="--scheduler") from None


def print_batch_report(report: Any, out: Path) -> None:
    """Print what a batch did: runs done, rate, failures."""
    if report.done == 0 and report.failed == 0:
        print(f"nothing to run: all {report.skipped} runs are already stored")
    else:
        rate = report.done / report.seconds if report.seconds else float("nan")
        print(
            f"done: {report.done} runs in {report.seconds:.1f} s ({rate:.1f} runs/s), "
            f"{report.failed} failed, {report.skipped} already stored"
        )
    if report.failed:
        print(f"  failed runs are listed in {out}/manifest.json and {out}/failures/")


def results_argument(cmd: argparse.ArgumentParser) -> None:
    """Add the one argument of ``compare``, ``plot`` and ``report``: a results folder."""
    cmd.add_argument("results", metavar="RESULTS", help="results folder written by `sco-sim batch`")


def compare_command(args: argparse.Namespace) -> int:
    """Evaluate every claim and print the verdicts and the metrics by arm."""
    import pandas as pd

    from sim.commands import analyse, load, write_analysis

    results = load(args.results)
    analysis = analyse(results)
    print(f"{results.experiment.name}: {analysis.n_ok} runs finished, {analysis.n_failed} failed")
    with pd.option_context("display.width", 200, "display.max_columns", 30, "display.max_colwidth", 60):
        if len(analysis.claims):
            print("\nclaims (paired by seed; mean difference a - b with a 95% bootstrap interval):")
            for row in analysis.claims.itertuples(index=False):
                print(
                    f"  {row.id:<22} {row.statement:<48} diff {row.mean_diff:+.4f} "
                    f"[{row.ci_low:+.4f}, {row.ci_high:+.4f}]  d_z {row.effect_size:+.2f}  "
                    f"n={row.n_pairs}  {row.verdict.upper()}"
                )
        print("\nmetrics by arm (mean with 95% bootstrap interval):")
        print(analysis.metrics.round(4).to_string(index=False))
    files = write_analysis(results, analysis)
    print(f"\nwrote {', '.join(str(f) for f in files)}")
    return 0


def plot_command(args: argparse.Namespace) -> int:
    """Draw the experiment's charts into RESULTS/charts."""
    from sim.commands import load, make_charts

    paths = make_charts(load(args.results))
    print(f"wrote {len(paths)} chart files to {Path(args.results) / 'charts'}/")
    return 0


def report_command(args: argparse.Namespace) -> int:
    """Write the HTML report into RESULTS/report.html."""
    from sim.commands import load, make_report

    path = make_report(load(args.results))
    print(f"wrote {path} (self-contained; open it in any browser)")
    return 0


def rerun_arguments(cmd: argparse.ArgumentParser) -> None:
    """Arguments of ``sco-sim rerun``."""
    cmd.add_argument("run_id", metavar="RUN_ID", help="run id (see summaries in the results folder)")
    cmd.add_argument("--results", metavar="DIR", required=True, help="results folder holding the run")
    cmd.add_argument("--out", metavar="DIR", default=None, help="where to write its tables (texts included)")


def rerun_command(args: argparse.Namespace) -> int:
    """Rerun one stored run, compare its tables and write them; exit 1 if they differ."""
    from sim.experiments.rerun import rerun
    from sim.output import write_run

    report = rerun(args.run_id, args.results)
    print("\n".join(report.lines()))
    if args.out:
        files = write_run(report.result, args.out)
        print(f"  wrote {len(files)} files to {args.out}/")
    return 0 if report.identical else 1


def bench_arguments(cmd: argparse.ArgumentParser) -> None:
    """Arguments of ``sco-sim bench``."""
    cmd.add_argument("--runs", type=positive, default=2000, help="runs in the reference batch (default 2000)")
    cmd.add_argument(
        "--workers", type=positive, nargs="+", default=[1, 2], help="worker counts (default 1 2)"
    )
    cmd.add_argument("--memory-runs", type=positive, default=None,
                     help="also run this many runs into a store and report peak memory")  # fmt: skip
    cmd.add_argument("--memory-only", action="store_true", help="with --memory-runs: skip the speed figures")


def bench_command(args: argparse.Namespace) -> int:
    """Measure peak memory (first, in a fresh process) and then the speed of the reference batch."""
    from sim.experiments.bench import bench, format_result, measure_memory

    if args.memory_runs:
        print(measure_memory(args.memory_runs).line())
        if args.memory_only:
            return 0
    print(format_result(bench(runs=args.runs, workers=tuple(args.workers))))
    return 0


def _results_command(name: str, text: str, handler: Any) -> Command:
    """Return a command whose one argument is a results folder; its description is its help as a sentence."""
    return Command(name, text, text[0].upper() + text[1:] + ".", results_argument, handler)


BATCH = Command(
    "batch",
    "run an experiment: every arm, sweep point and seed, stored as they finish",
    "Run an experiment file's batch into a results folder (Parquet tables and a "
    "manifest). Finished runs are kept if the batch is interrupted; --resume runs only what is missing.",
    batch_arguments,
    batch_command,
)
COMPARE = _results_command(
    "compare", "paired differences, bootstrap intervals and verdicts for every claim", compare_command
)
PLOT = _results_command(
    "plot", "draw the experiment's charts (PNG and SVG) into RESULTS/charts", plot_command
)
REPORT = _results_command(
    "report", "write a self-contained HTML report into RESULTS/report.html", report_command
)
RERUN = Command(
    "rerun",
    "reproduce one stored run exactly, from its run id",
    "Rerun one run of a results folder from its stored scenario and seed, check that "
    "its tables equal the stored ones, and write them.",
    rerun_arguments,
    rerun_command,
)
BENCH = Command(
    "bench",
    "measure runs per second on this machine (1 and 2 workers, vs mesa.batch_run)",
    "Run the reference batch (SCO-8, 2017-2035) and print the median time of one run "
    "(as a batch runs it, and with the DataFrames of sim.run), runs per second with 1 and 2 "
    "workers (each measured twice, in the order 1 2 2 1), mesa.batch_run on the same model and "
    "seeds where available, and peak memory.",
    bench_arguments,
    bench_command,
)
