"""Commands on experiments and their results folders: ``batch``, ``compare``, ``plot``, ``report``, ``rerun``.

``sensitivity`` is in :mod:`sim.cli.sensitivity`; this module holds the executor options both share.
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import textwrap
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sim.cli.options import Command, executor_options, integer_in, positive, workers
from sim.errors import ExperimentError, InputError, StoreError, WorkerLost
from sim.files import inside, safe_name
from sim.limits import MAX_DRAWS

if TYPE_CHECKING:
    import pandas as pd


def batch_arguments(cmd: argparse.ArgumentParser) -> None:
    """Arguments of ``sco-sim batch``."""
    cmd.add_argument("experiment", metavar="EXPERIMENT", help="experiment file (TOML)")
    executor_options(cmd)
    cmd.add_argument("--replications", type=positive, default=None,
                     help="override the file's replications (e.g. a quick check)")  # fmt: skip
    cmd.add_argument("--draws", type=integer_in(1, MAX_DRAWS, "positive"), default=None,
                     help="override the draws of the [posterior] and [perturb_weights] tables "
                          "(e.g. a quick check)")  # fmt: skip


def batch_command(args: argparse.Namespace) -> int:
    """Run an experiment's batch into its results folder, resuming if asked."""
    from sim.experiments.design import load_experiment
    from sim.experiments.store import ResultStore

    design = load_experiment(args.experiment)
    design = with_budget(design, args.replications, args.draws)
    out = Path(args.out) if args.out else default_folder(design.experiment.name)
    choice, where = executor(args)
    store = ResultStore(out, design, resume=args.resume)
    todo = len(store.missing(design.runs))
    posterior, weights = design.posterior, design.weights
    draws = f"{len(posterior.draws)} posterior draws x " if posterior is not None else ""
    if weights is not None:
        draws = (f"{weights.draws} draws (posterior draw and weight perturbation each) x " if posterior
                 else f"{weights.draws} weight perturbations x ")  # fmt: skip
    print(
        f"{design.experiment.name}: {len(design.arms)} arms x {len(design.points)} point(s) x {draws}"
        f"{design.experiment.replications} seeds = {len(design.runs)} runs; "
        f"{todo} to run on {where} -> {out}/"
    )
    if posterior is not None:
        shown = (
            os.path.relpath(posterior.path) if posterior.path.is_relative_to(Path.cwd()) else posterior.path
        )
        print(f"  posterior: {shown} (SHA-256 {posterior.sha256[:12]}...), {len(posterior.draws)} "
              f"of its {posterior.rows} draws ({posterior.select}), each with its own seeds")  # fmt: skip
        for arm, keys in posterior.kept_by_arms.items():
            print(f"  note: arm '{arm}' sets {', '.join(keys)} itself; the draws' values do not apply there")
    if weights is not None:
        spread = f"{weights.spread:g}"
        print(
            f"  interest weights: every state's four weights x factors uniform in [1 - {spread}, "
            f"1 + {spread}] (seed {weights.seed}), rescaled to their sum; the same in every arm"
        )
    again = f" --replications {args.replications}" if args.replications else ""
    again += f" --draws {args.draws}" if args.draws else ""
    resume = f"sco-sim batch {args.experiment} --out {out}{again} --resume"
    return run_and_report(design, store, choice, out, not args.no_progress, resume)


def with_budget(design: Any, replications: int | None, draws: int | None) -> Any:
    """Return the design with the file's replications and draws (posterior, weights) overridden (options)."""
    from sim.experiments.design import resolve

    if not replications and not draws:
        return design
    experiment, tag = design.experiment, ""
    if replications:
        experiment, tag = experiment.model_copy(update={"replications": replications}), f"-r{replications}"
    if draws:
        posterior, weights = experiment.posterior, experiment.perturb_weights
        if posterior is None and weights is None:
            raise ExperimentError(
                str(design.path),
                "--draws needs a [posterior] or [perturb_weights] table (docs/experiments.md, section 12)",
                key="posterior",
            )
        update: dict[str, Any] = {}
        if posterior is not None:
            update["posterior"] = posterior.model_copy(update={"draws": draws})
        if weights is not None and weights.draws is not None:  # with a posterior it may be left out
            update["perturb_weights"] = weights.model_copy(update={"draws": draws})
        experiment, tag = experiment.model_copy(update=update), tag + f"-d{draws}"
    return resolve(experiment, design.path, design.file_hash + tag)


def default_folder(name: str) -> Path:
    """Return the default results folder of an experiment: ``results/<name>``, as a safe folder name."""
    return inside("results", safe_name(name))


def run_and_report(design: Any, store: Any, choice: Any, out: Path, progress: bool, resume: str) -> int:
    """Run what the store lacks and print what the batch did; 130, and how to resume, if interrupted."""
    from sim.experiments.batch import run_batch

    for note in store.notes:
        print(f"repaired: {note}")
    try:
        report = run_batch(design, store, choice, progress=progress)
    except KeyboardInterrupt:
        print(f"interrupted: {len(store.done)} finished runs are stored in {out}/; continue with: {resume}",
              file=sys.stderr)  # fmt: skip
        return 130
    except WorkerLost as exc:
        print(f"error: {exc}; the batch was interrupted: {len(store.done)} finished runs are stored in "
              f"{out}/; --resume finishes it (fewer --workers if memory ran out): {resume}",
              file=sys.stderr)  # fmt: skip
        return 1
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


@contextmanager
def writing_into(folder: str | Path, what: str) -> Iterator[None]:
    """Turn a failure to write ``what`` into ``folder`` (read-only, full, ...) into one line, exit 2."""
    from sim.experiments.store import os_reason

    try:
        yield
    except OSError as exc:
        raise StoreError(
            str(folder),
            f"cannot write {what} here ({os_reason(exc)}); copy the results folder somewhere writable "
            "and run the command there",
        ) from None


def results_argument(cmd: argparse.ArgumentParser) -> None:
    """Add the one argument of ``compare``, ``plot`` and ``report``: a results folder."""
    cmd.add_argument("results", metavar="RESULTS", help="results folder written by `sco-sim batch`")


def compare_command(args: argparse.Namespace) -> int:
    """Evaluate every claim and print the verdicts and the metrics by arm (and, with a sweep, by point)."""
    import pandas as pd

    from sim.commands import analyse, arm_labels, load, write_analysis

    results = load(args.results)
    analysis = analyse(results)
    print(f"{results.experiment.name}: {analysis.n_ok} runs finished, {analysis.n_failed} failed")
    for line in label_lines(arm_labels(results), results.experiment.metrics):
        print(line)
    points = analysis.metrics_by_point["point"].nunique() if analysis.metrics_by_point is not None else 1
    if analysis.parameters:
        print(
            f"sweep: {points} points over {', '.join(analysis.parameters)}; the claims and metrics by arm "
            "pool all points, the tables by point follow them"
        )
    with pd.option_context("display.width", 200, "display.max_columns", 30, "display.max_colwidth", 60):
        if len(analysis.claims):
            print("\n" + "\n".join(claim_lines(analysis.claims, draws_of(results.manifest))))
        over = f" over {draws_of(results.manifest).split(' (')[0]}" if "draw" in results.summaries else ""
        print(f"\nmetrics by arm (mean with 95% bootstrap interval{over}):")
        print(analysis.metrics.round(4).to_string(index=False))
        if analysis.claims_by_point is not None and analysis.metrics_by_point is not None:
            print("\n" + "\n".join(point_lines(analysis.claims_by_point, analysis.parameters)))
            print("\nmetrics at each sweep point (mean with 95% bootstrap interval):")
            shown = ["point", *analysis.parameters, "metric", "arm", "n", "mean", "ci_low", "ci_high"]
            print(analysis.metrics_by_point[shown].round(4).to_string(index=False))
    with writing_into(results.folder, "claims.csv and metrics.csv (the analysis above is complete)"):
        files = write_analysis(results, analysis)
    print(f"\nwrote {', '.join(str(f) for f in files)}")
    return 0


def label_lines(arms: dict[str, str], metrics: Any) -> list[str]:
    """Return the labels the experiment file gives its arms and metrics, one line each."""
    lines = [f"arm {name}: {label}" for name, label in arms.items() if label and label != name]
    lines += [f"metric {name}: {metric.label}" for name, metric in metrics.items() if metric.label]
    return lines


def _figures(row: Any) -> str:
    """Return a claim's mean difference with its interval and level, or "in every pair" with no variation."""
    figures = f"diff {row.mean_diff:+.4f}"
    if row.verdict == "no variation":
        figures += " in every pair"
    elif row.verdict != "insufficient data":
        figures += f" [{row.ci_low:+.4f}, {row.ci_high:+.4f}] at {row.ci_level:.1%}"
    return figures


def _size(row: Any) -> str:
    """Return d_z, or what stands for it where the differences do not vary."""
    if row.verdict == "no variation":
        return "d_z undefined"
    return "" if math.isnan(row.effect_size) else f"d_z {row.effect_size:+.2f}"


def draws_of(manifest: Any) -> str:
    """Name what a batch's draws are: posterior draws, interest-weight perturbations, or both."""
    experiment = manifest.get("experiment", {}) if isinstance(manifest, dict) else {}
    weights = isinstance(experiment, dict) and "perturb_weights" in experiment
    if weights and "posterior" in experiment:
        return "draws (each a posterior draw with its perturbation of the interest weights)"
    return "interest-weight perturbations" if weights else "posterior draws"


def claim_lines(claims: pd.DataFrame, over: str = "posterior draws") -> list[str]:
    """Return the printed claims: one line per claim (and its note), then what the verdicts mean.

    ``over`` names the draws of a batch run over draws (:func:`draws_of`).
    """
    from sim.analysis.verdicts import rule_text, share_text

    tested = int(claims["p_holm"].notna().sum())
    draws = "n_draws" in claims and claims["n_draws"].notna().any()
    if draws:
        uncertainty = {
            "posterior draws": "parameter uncertainty",
            "interest-weight perturbations": "uncertainty in the interest weights",
        }.get(over, "parameter and interest-weight uncertainty")
        header = (
            f"claims over {over} (paired by draw and seed; mean over draws of the per-draw mean "
            "difference a - b, with its t interval on the per-draw means at the claim's Holm-adjusted level: "
            f"{uncertainty} and seed noise together; draws: the share of draws whose mean difference "
            "has the claimed sign; band: the smallest difference that matters):"
        )
    else:
        header = (
            "claims (paired by seed; mean difference a - b with its t interval at the claim's Holm-adjusted "
            "level; band: the smallest difference that matters):"
        )
    lines = textwrap.wrap(header, width=100, subsequent_indent="  ") if draws else [header]
    for row in claims.itertuples(index=False):
        shown = share_text(row._asdict()) if draws else ""
        count = f"draws {shown}  n={row.n_pairs}" if shown else f"n={row.n_pairs}"
        lines.append(
            f"  {row.id:<22} {row.statement:<48} {_figures(row):<44} band {row.band:<6g} {_size(row):<13} "
            f"{count}  {str(row.verdict).upper()}"
        )
        if row.note:
            lines.append(f"  {'':<22} note: {row.note}")
    rule = f"verdicts: {rule_text(tested)} See docs/experiments.md, section 6."
    return lines + textwrap.wrap(rule, width=100, subsequent_indent="  ")


def point_lines(claims: pd.DataFrame, parameters: list[str]) -> list[str]:
    """Return the printed claims at each sweep point, with the point's values (Holm across all of them)."""
    tested = int(claims["p_holm"].notna().sum())
    lines = [f"claims at each sweep point (Holm-adjusted across the {tested} tested claim x point pairs):"]
    for _, row in claims.iterrows():
        values = ", ".join(f"{name}={row[name]:g}" for name in parameters)
        point = f"point {row['point']} ({values})"
        lines.append(
            f"  {point:<36} {row['id']:<22} {_figures(row):<44} {_size(row):<13} n={row['n_pairs']}  "
            f"{str(row['verdict']).upper()}"
        )
    return lines


def plot_command(args: argparse.Namespace) -> int:
    """Draw the experiment's charts into RESULTS/charts."""
    from sim.commands import load, make_charts

    results = load(args.results)
    with writing_into(results.folder, "the charts"):
        paths = make_charts(results)
    print(f"wrote {len(paths)} chart files to {Path(args.results) / 'charts'}/")
    return 0


def report_command(args: argparse.Namespace) -> int:
    """Write the HTML report into RESULTS/report.html."""
    from sim.commands import load, make_report

    results = load(args.results)
    with writing_into(results.folder, "the report and its charts"):
        path = make_report(results)
    print(f"wrote {path} (self-contained; open it in any browser)")
    return 0


def rerun_arguments(cmd: argparse.ArgumentParser) -> None:
    """Arguments of ``sco-sim rerun``."""
    cmd.add_argument("run_id", metavar="RUN_ID", help="run id (see summaries in the results folder)")
    cmd.add_argument("--results", metavar="DIR", required=True, help="results folder holding the run")
    cmd.add_argument("--out", metavar="DIR", default=None, help="where to write its tables (texts included)")
    cmd.add_argument("--force", action="store_true",
                     help="write into a non-empty --out, replacing an earlier run's files")  # fmt: skip


def rerun_command(args: argparse.Namespace) -> int:
    """Rerun one stored run, compare its tables and write them; exit 1 if they differ."""
    from sim.experiments.rerun import rerun
    from sim.output import prepare_run_folder, write_run

    if args.out:
        prepare_run_folder(args.out, force=args.force, clear=False)
    report = rerun(args.run_id, args.results)
    print("\n".join(report.lines()))
    if args.out:
        try:
            prepare_run_folder(args.out, force=args.force)
            files = write_run(report.result, args.out)
        except OSError as exc:
            raise InputError(args.out, f"cannot write the run's files here ({exc.strerror or exc})") from None
        print(f"  wrote {len(files)} files to {args.out}/")
    return 0 if report.identical else 1


BENCH_RUNS = 100_000  # the reference batch's runs are made in memory at once


def bench_arguments(cmd: argparse.ArgumentParser) -> None:
    """Arguments of ``sco-sim bench``."""
    runs = integer_in(1, BENCH_RUNS, "positive")
    cmd.add_argument("--runs", type=runs, default=2000, help="runs in the reference batch (default 2000)")
    cmd.add_argument("--workers", type=workers, nargs="+", default=[1, 2], help="worker counts (default 1 2)")
    cmd.add_argument("--memory-runs", type=runs, default=None,
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
    "compare",
    "paired differences, Holm-adjusted intervals, bands and verdicts for every claim",
    compare_command,
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
