"""The ``sco-sim`` command line: thin; it parses arguments and calls the library.

Errors in what the user gave (files, options) are printed as one line on
standard error with exit status 2, never as a traceback.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from sim.errors import InputError
from sim.version import __version__

EXIT_INPUT = 2


class _Parser(argparse.ArgumentParser):
    """ArgumentParser whose errors are one line, exit status 2."""

    def error(self, message: str) -> None:  # type: ignore[override]
        """Print a one-line usage error and exit with status 2."""
        self.exit(EXIT_INPUT, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def build_parser() -> argparse.ArgumentParser:
    """Build the argument parser with its subcommands."""
    parser = _Parser(
        prog="sco-sim",
        description="Agent-based simulation of consensus and regional balancing in the "
        "Shanghai Cooperation Organization.",
    )
    parser.add_argument("--version", action="version", version=f"sco-sim {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    run = sub.add_parser(
        "run",
        help="run one scenario with one seed; write tables, a chart and a summary",
        description="Run a scenario once and write model.csv/.parquet, states.csv/.parquet, "
        "decisions.csv/.parquet, summary.json and outcomes.png into the output folder.",
    )
    run.add_argument("scenario", metavar="SCENARIO", help="scenario file (TOML)")
    run.add_argument("--seed", type=_seed, default=0, help="random seed, a non-negative integer (default 0)")
    run.add_argument(
        "--out", metavar="DIR", default=None, help="output folder (default results/<scenario name>)"
    )
    run.add_argument("--until", metavar="YEAR", type=int, default=None, help="stop after this year")
    run.add_argument("--no-chart", action="store_true", help="skip the PNG chart")
    run.set_defaults(handler=_run)

    check = sub.add_parser(
        "check",
        help="validate a scenario file and print what it resolves to",
        description="Validate a scenario (after extends) and print the resolved settings.",
    )
    check.add_argument("scenario", metavar="SCENARIO", help="scenario file (TOML)")
    check.add_argument("--json", action="store_true", help="print the resolved scenario as JSON")
    check.set_defaults(handler=_check)

    bargain = sub.add_parser(
        "bargain",
        help="apply a decision rule to a plain actor table (CSV)",
        description="Decide the issue(s) in an actor table (Actor, Capability, Position, "
        "Salience[, Issue]) under one decision rule, outside the SCO model.",
    )
    bargain.add_argument("table", metavar="TABLE.csv", help="actor table (CSV or tab-separated)")
    bargain.add_argument("--rule", default="compromise", help="decision rule (see `sco-sim rules`)")
    bargain.add_argument("--status-quo", type=float, default=0.0, help="status quo on 0-100 (default 0)")
    bargain.add_argument(
        "--proposal", type=float, default=None, help="text tabled, 0-100 (default: weighted mean)"
    )
    bargain.add_argument(
        "--tolerance", type=float, default=0.05, help="loss accepted without objecting (default 0.05)"
    )
    bargain.add_argument("--max-rounds", type=int, default=6, help="dilution rounds (default 6)")
    bargain.add_argument("--threshold", type=float, default=2 / 3,
                         help="qualified-majority threshold (default 2/3)")  # fmt: skip
    bargain.set_defaults(handler=_bargain)

    bench_rules = sub.add_parser(
        "bargain-bench",
        help="score every decision rule on real decisions (DEU III and the like): mean absolute error",
        description="Run every registered rule on every issue of a decision-data file that has an outcome "
        "(DEU layout or an actor table with an Outcome column), print the mean absolute error overall and "
        "by voting rule beside naive baselines, fit the rules' parameters by cross-validation over issues "
        "(out-of-fold error, per fold), and write the per-issue predictions to a CSV. "
        "See docs/bargaining.md.",
    )
    bench_rules.add_argument(
        "data", metavar="DATA", help="decision data: DEU layout or actor table (CSV/TSV)"
    )
    bench_rules.add_argument(
        "--out",
        metavar="CSV",
        default=None,
        help="per-issue predictions (default results/bargain-bench/DATA.csv)",
    )
    bench_rules.add_argument("--folds", type=_folds, default=5, help="cross-validation folds (default 5)")
    bench_rules.add_argument("--seed", type=_seed, default=0, help="seed of the fold split (default 0)")
    bench_rules.set_defaults(handler=_bargain_bench)

    batch = sub.add_parser(
        "batch",
        help="run an experiment: every arm, sweep point and seed, stored as they finish",
        description="Run an experiment file's batch into a results folder (Parquet tables and a "
        "manifest). Finished runs are kept if the batch is interrupted; --resume runs only what is missing.",
    )
    batch.add_argument("experiment", metavar="EXPERIMENT", help="experiment file (TOML)")
    _executor_options(batch)
    batch.add_argument("--replications", type=_positive, default=None,
                       help="override the file's replications (e.g. a quick check)")  # fmt: skip
    batch.set_defaults(handler=_batch)

    sens = sub.add_parser(
        "sensitivity",
        help="global sensitivity (Morris or Sobol') of an experiment's effects to the free parameters",
        description="Run the [sensitivity] sample of an experiment file (every sample point on every arm, "
        "with common seeds) into a results folder, then print the sensitivity indices of each effect and "
        "whether its sign is robust or fragile inside the plausible ranges; writes sensitivity.csv, "
        "sensitivity_points.csv, sensitivity.json and charts/sensitivity*.png/.svg. With --analyze-only, "
        "redo the analysis of a results folder it wrote.",
    )
    sens.add_argument(
        "experiment",
        metavar="EXPERIMENT",
        help="experiment file (TOML) with a [sensitivity] table; with --analyze-only, a results folder",
    )
    sens.add_argument(
        "--analyze-only",
        action="store_true",
        help="run nothing: analyse the results folder given instead of EXPERIMENT",
    )
    _executor_options(sens)
    sens.set_defaults(handler=_sensitivity)

    for name, text, handler in (
        ("compare", "paired differences, bootstrap intervals and verdicts for every claim", _compare),
        ("plot", "draw the experiment's charts (PNG and SVG) into RESULTS/charts", _plot),
        ("report", "write a self-contained HTML report into RESULTS/report.html", _report),
    ):
        cmd = sub.add_parser(name, help=text, description=text[0].upper() + text[1:] + ".")
        cmd.add_argument("results", metavar="RESULTS", help="results folder written by `sco-sim batch`")
        cmd.set_defaults(handler=handler)

    rerun = sub.add_parser(
        "rerun",
        help="reproduce one stored run exactly, from its run id",
        description="Rerun one run of a results folder from its stored scenario and seed, check that "
        "its tables equal the stored ones, and write them.",
    )
    rerun.add_argument("run_id", metavar="RUN_ID", help="run id (see summaries in the results folder)")
    rerun.add_argument("--results", metavar="DIR", required=True, help="results folder holding the run")
    rerun.add_argument("--out", metavar="DIR", default=None, help="where to write its tables")
    rerun.set_defaults(handler=_rerun)

    bench = sub.add_parser(
        "bench",
        help="measure runs per second on this machine (1 and 2 workers, vs mesa.batch_run)",
        description="Run the reference batch (SCO-8, 2017-2035) and print the median time of one run "
        "(as a batch runs it, and with the DataFrames of sim.run), runs per second with 1 and 2 "
        "workers (each measured twice, in the order 1 2 2 1), mesa.batch_run on the same model and "
        "seeds where available, and peak memory.",
    )
    bench.add_argument(
        "--runs", type=_positive, default=400, help="runs in the reference batch (default 400)"
    )
    bench.add_argument(
        "--workers", type=_positive, nargs="+", default=[1, 2], help="worker counts (default 1 2)"
    )
    bench.add_argument("--memory-runs", type=_positive, default=None,
                       help="also run this many runs into a store and report peak memory")  # fmt: skip
    bench.add_argument(
        "--memory-only", action="store_true", help="with --memory-runs: skip the speed figures"
    )
    bench.set_defaults(handler=_bench)

    validate = sub.add_parser(
        "validate",
        help="check the historical scenario against the record 1996-2017 (patterns P1-P6)",
        description="Run a scenario over many fresh seeds and print, for each pattern P1-P6 of "
        "docs/validation.md, the criterion, the share of seeds that reproduce it and pass or fail; "
        "write the per-seed facts and a chart of simulated against real dates.",
    )
    validate.add_argument("scenario", metavar="SCENARIO", nargs="?", default="scenarios/history_1996.toml",
                          help="scenario file (default scenarios/history_1996.toml)")  # fmt: skip
    validate.add_argument("--seeds", type=_positive, default=100, help="seeds (default 100)")
    validate.add_argument("--base-seed", type=_seed, default=2017, help="base seed (default 2017)")
    validate.add_argument("--workers", type=_positive, default=2, help="worker processes (default 2)")
    validate.add_argument("--out", metavar="DIR", default="results/validation",
                          help="folder for the tables and chart (default results/validation)")  # fmt: skip
    validate.add_argument("--no-progress", action="store_true", help="no progress bar")
    validate.set_defaults(handler=_validate)

    calibrate = sub.add_parser(
        "calibrate",
        help="fit the free parameters to patterns P1-P6 on 1996-2017 (Latin hypercube + ABC)",
        description="Search the plausible ranges of a calibration file (Latin hypercube, rejection ABC, "
        "then the best points re-judged on fresh seeds) and print the chosen values. Every judged point "
        "is kept in --out as it finishes; --resume continues an interrupted search.",
    )
    calibrate.add_argument("calibration", metavar="CALIBRATION", nargs="?",
                           default="experiments/calibrate_history.toml",
                           help="calibration file (default experiments/calibrate_history.toml)")  # fmt: skip
    calibrate.add_argument("--out", metavar="DIR", default="results/calibration",
                           help="results folder (default results/calibration)")  # fmt: skip
    calibrate.add_argument("--workers", type=_positive, default=2, help="worker processes (default 2)")
    calibrate.add_argument("--resume", action="store_true", help="keep the points already judged in --out")
    calibrate.add_argument("--apply", action="store_true",
                           help="write the chosen values into the scenario file")  # fmt: skip
    budget = (
        ("--samples", "Latin hypercube points"),
        ("--seeds", "seeds per point"),
        ("--refine-top", "points re-judged"),
        ("--refine-seeds", "fresh seeds"),
    )
    for option, what in budget:
        calibrate.add_argument(option, type=_positive, default=None, help=f"override the file's {what}")
    calibrate.add_argument("--no-progress", action="store_true", help="no progress bar")
    calibrate.set_defaults(handler=_calibrate)

    rules = sub.add_parser("rules", help="list the decision rules and their sources",
                           description="List every registered decision rule with its source.")  # fmt: skip
    rules.set_defaults(handler=_rules)
    return parser


def _executor_options(cmd: argparse.ArgumentParser) -> None:
    """Add the options shared by `batch` and `sensitivity`: results folder, executor, progress."""
    cmd.add_argument("--out", metavar="DIR", default=None, help="results folder (default results/<name>)")
    cmd.add_argument("--workers", type=_positive, default=2, help="local worker processes (default 2)")
    cmd.add_argument("--resume", action="store_true", help="complete an interrupted batch in --out")
    cmd.add_argument("--sequential", action="store_true", help="run in this process (no workers)")
    cmd.add_argument("--scheduler", metavar="ADDRESS", default=None, help="Dask scheduler to use")
    cmd.add_argument("--dask-local", metavar="N", type=_positive, default=None,
                     help="start a local Dask cluster with N workers")  # fmt: skip
    cmd.add_argument("--no-progress", action="store_true", help="no progress bar")


def _integer_at_least(minimum: int, what: str) -> Any:
    """Return an argparse type that accepts integers >= ``minimum``."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a {what} integer, got {text!r}") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"expected a {what} integer, got {value}")
        return value

    return parse


_positive = _integer_at_least(1, "positive")


_seed = _integer_at_least(0, "non-negative")


def _folds(text: str) -> int:
    """Parse --folds: an integer of 2 or more."""
    value = _positive(text)
    if value < 2:
        raise argparse.ArgumentTypeError(f"expected 2 folds or more, got {value}")
    return value


def _batch(args: argparse.Namespace) -> int:
    from sim.experiments.batch import run_batch
    from sim.experiments.design import load_experiment, resolve
    from sim.experiments.store import ResultStore

    design = load_experiment(args.experiment)
    if args.replications:
        experiment = design.experiment.model_copy(update={"replications": args.replications})
        design = resolve(experiment, design.path, design.file_hash + f"-r{args.replications}")
    out = Path(args.out) if args.out else Path("results") / design.experiment.name
    choice, where = _executor(args)
    store = ResultStore(out, design, resume=args.resume)
    todo = len(store.missing(design.runs))
    print(
        f"{design.experiment.name}: {len(design.arms)} arms x {len(design.points)} point(s) x "
        f"{design.experiment.replications} seeds = {len(design.runs)} runs; "
        f"{todo} to run on {where} -> {out}/"
    )
    try:
        report = run_batch(design, store, choice, progress=not args.no_progress)
    except KeyboardInterrupt:
        again = f" --replications {args.replications}" if args.replications else ""
        resume = f"sco-sim batch {args.experiment} --out {out}{again} --resume"
        print(f"interrupted: {len(store.done)} finished runs are stored in {out}/; continue with: {resume}",
              file=sys.stderr)  # fmt: skip
        return 130
    _print_batch_report(report, out)
    return 0


def _executor(args: argparse.Namespace) -> tuple[Any, str]:
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
        from sim.experiments.batch import check_scheduler, dask_available

        option = "--scheduler" if args.scheduler else "--dask-local"
        if not dask_available():
            raise InputError(
                "", "Dask is not installed; install it with: pip install 'sco-sim[dask]'", key=option
            )
        if args.scheduler:
            try:
                check_scheduler(args.scheduler)
            except (ConnectionError, RuntimeError) as exc:
                raise InputError("", str(exc), key="--scheduler") from None
    return choice, where


def _print_batch_report(report: Any, out: Path) -> None:
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


def _sensitivity(args: argparse.Namespace) -> int:
    from sim.analysis.sensitivity import analyse_results
    from sim.commands import write_sensitivity
    from sim.experiments.batch import run_batch
    from sim.experiments.design import load_sensitivity
    from sim.experiments.store import ResultStore, load_results

    if args.analyze_only:
        out = Path(args.experiment)
    else:
        design = load_sensitivity(args.experiment)
        out = Path(args.out) if args.out else Path("results") / design.experiment.name
        _refuse_batch_folder(out)
        choice, where = _executor(args)
        store = ResultStore(out, design, resume=args.resume)
        todo = len(store.missing(design.runs))
        spec = design.spec
        size = (
            f"{spec['trajectories']} trajectories x {len(design.parameters) + 1}"
            if spec["method"] == "morris"
            else f"{spec['samples']} samples x {len(design.parameters) + 2}"
        )
        print(
            f"{design.experiment.name}: {spec['method']} sample of {len(design.parameters)} parameters "
            f"({size} = {len(design.points)} points) x {len(design.arms)} arms x "
            f"{design.experiment.replications} seeds = {len(design.runs)} runs; "
            f"{todo} to run on {where} -> {out}/"
        )
        try:
            report = run_batch(design, store, choice, progress=not args.no_progress)
        except KeyboardInterrupt:
            resume = f"sco-sim sensitivity {args.experiment} --out {out} --resume"
            stored = f"{len(store.done)} finished runs are stored in {out}/"
            print(f"interrupted: {stored}; continue with: {resume}", file=sys.stderr)
            return 130
        _print_batch_report(report, out)
    results = load_results(out)
    analysis = analyse_results(results)
    _print_sensitivity(analysis)
    files = write_sensitivity(out, analysis)
    print(f"\nwrote {', '.join(str(f) for f in files if f.suffix != '.svg')} (and the charts as SVG)")
    return 0


def _refuse_batch_folder(out: Path) -> None:
    """Stop before a sensitivity sample is run into a folder that holds a plain batch (the default --out)."""
    try:
        manifest = json.loads((out / "manifest.json").read_text())
    except (OSError, ValueError):
        return  # no batch there (or an unreadable one, which the store reports)
    if "sensitivity" not in manifest.get("experiment", {}):
        raise InputError(
            str(out), "holds a batch run by `sco-sim batch`, not a sensitivity sample; choose another --out"
        )


def _print_sensitivity(analysis: Any) -> None:
    """Print, for each effect, its sign over the sample, the verdict and the table of indices."""
    import math

    morris = analysis.method == "morris"
    columns = ["mu_star", "mu_star_conf", "sigma", "mu"] if morris else ["ST", "ST_conf", "S1", "S1_conf"]
    headers = ["mu*", "+/-", "sigma", "mu"] if morris else ["ST", "+/-", "S1", "+/-"]
    points = len(analysis.spec["sample"])
    print(
        f"\n{analysis.method} sensitivity: {points} points, {analysis.n_ok} runs finished, "
        f"{analysis.n_failed} failed"
    )
    for result in analysis.effects:
        s = result.summary
        e = result.effect
        print(f"\n{e.name}: {e.difference}" + (f"  ({e.label})" if e.label else ""))
        if s["n_points"] > s["n_missing"]:
            print(
                f"  effect over {s['n_points'] - s['n_missing']} points: mean {s['mean']:+.4f}, "
                f"min {s['min']:+.4f}, max {s['max']:+.4f}; below 0 at {s['share_negative']:.0%}, "
                f"above 0 at {s['share_positive']:.0%} of points"
            )
        if s["n_missing"] and s.get("dropped_trajectories") and not result.indices.empty:
            print(f"  {s['n_missing']} point(s) have no complete pair of runs (no items in the window): "
                  f"indices from the other trajectories ({s['dropped_trajectories']} dropped)")  # fmt: skip
        elif s["n_missing"]:
            print(f"  {s['n_missing']} point(s) have no complete pair of runs: no indices")
        print(f"  {result.verdict_line()}")
        if result.indices.empty:
            continue
        table = result.indices.set_index("parameter").loc[result.ranking]
        width = max(len(name) for name in table.index)
        print(f"    {'parameter':<{width}}  {'range':<18}" + "".join(f"{h:>10}" for h in headers))
        for name, row in table.iterrows():
            span = f"[{row['low']:g}, {row['high']:g}]"
            cells = "".join(
                f"{row[c]:>+10.4f}"
                if c == "mu"
                else f"{row[c]:>10.4f}"
                if not math.isnan(row[c])
                else f"{'':>10}"
                for c in columns
            )
            print(f"    {name:<{width}}  {span:<18}{cells}")


def _load_results(folder: str) -> object:
    from sim.experiments.store import load_results

    return load_results(folder)


def _compare(args: argparse.Namespace) -> int:
    import pandas as pd

    from sim.commands import analyse, write_analysis

    results = _load_results(args.results)
    analysis = analyse(results)  # type: ignore[arg-type]
    print(f"{results.experiment.name}: {analysis.n_ok} runs finished, {analysis.n_failed} failed")  # type: ignore[attr-defined]
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
    files = write_analysis(results, analysis)  # type: ignore[arg-type]
    print(f"\nwrote {', '.join(str(f) for f in files)}")
    return 0


def _plot(args: argparse.Namespace) -> int:
    from sim.commands import make_charts

    paths = make_charts(_load_results(args.results))  # type: ignore[arg-type]
    print(f"wrote {len(paths)} chart files to {Path(args.results) / 'charts'}/")
    return 0


def _report(args: argparse.Namespace) -> int:
    from sim.commands import make_report

    path = make_report(_load_results(args.results))  # type: ignore[arg-type]
    print(f"wrote {path} (self-contained; open it in any browser)")
    return 0


def _rerun(args: argparse.Namespace) -> int:
    from sim.experiments.rerun import rerun
    from sim.output import write_run

    report = rerun(args.run_id, args.results)
    print("\n".join(report.lines()))
    if args.out:
        files = write_run(report.result, args.out)
        print(f"  wrote {len(files)} files to {args.out}/")
    return 0 if report.identical else 1


def _bench(args: argparse.Namespace) -> int:
    from sim.experiments.bench import bench_main

    return bench_main(args)


def _run(args: argparse.Namespace) -> int:
    from sim.model.run import run
    from sim.output import write_run
    from sim.scenario import load_scenario

    scenario = load_scenario(args.scenario)
    if args.until is not None and not scenario.start_year <= args.until <= scenario.end_year:
        raise InputError(
            args.scenario,
            f"{args.until} is outside the scenario's years {scenario.start_year}-{scenario.end_year}",
            key="--until",
        )
    out = Path(args.out) if args.out else Path("results") / scenario.name
    started = time.perf_counter()
    result = run(scenario, seed=args.seed, until=args.until)
    elapsed = time.perf_counter() - started
    try:
        files = write_run(result, out, chart=not args.no_chart)
    except OSError as exc:
        raise InputError(str(out), f"cannot write results here ({exc.strerror or exc})") from None
    s = result.summary()
    print(f"{s['scenario']} ({s['years']}, rule {s['rule']}, seed {s['seed']}): {elapsed * 1000:.0f} ms")
    rate = "n/a" if s["items"] == 0 else f"{s['consensus_rate']:.1%}"
    print(f"  items decided     {s['items']}  (consensus rate {rate})")
    print(
        f"  outcomes          adopted {s['adopted']}, with opt-outs {s['adopted_opt_out']}, "
        f"diluted {s['diluted']}, blocked {s['blocked']}, deferred {s['deferred']}"
    )
    print(f"  members at end    {len(s['members_at_end'])}: {', '.join(s['members_at_end'])}")
    print(
        f"  balancing index   {s['focal_state']} {s['balancing_index_start']:.3f} -> "
        f"{s['balancing_index_end']:.3f}"
    )
    print(f"  wrote {len(files)} files to {out}/")
    return 0


def _check(args: argparse.Namespace) -> int:
    from sim.scenario import INTERESTS, interest_weights, load_scenario

    sc = load_scenario(args.scenario)
    if args.json:
        print(json.dumps(sc.to_dict(), indent=2, sort_keys=False))
        return 0
    print(f"{args.scenario}: OK")
    print(f"  name         {sc.name}: {sc.description}")
    print(f"  resolved     {' <- '.join(reversed(sc.lineage))}")
    poles = ", ".join(sc.poles)
    print(f"  years        {sc.start_year}-{sc.end_year}; focal state {sc.focal_state}; poles {poles}")
    r = sc.rules
    print(
        f"  rule         {r.decision_rule} (tolerance {r.tolerance}, norm {r.norm_strength}, "
        f"{r.max_rounds} rounds, dilution step {r.dilution_step})"
    )
    m = sc.membership
    print(f"  membership   {m.mode}; moratorium {m.moratorium}; packages {m.packages or 'none'}")
    if sc.data is not None:
        used = [
            f"{key} {spec.source}" + ("" if key == "capability" else f" {spec.year}")
            for key, spec in sc.data
            if spec is not None
        ]
        print(f"  data         {'; '.join(used)} (values written in the scenario win)")
    print(f"  states       {len(sc.states)}")
    header = "    ISO  status@start   capability  " + "  ".join(f"{i[:4]:>5}" for i in INTERESTS)
    print(header)
    for code in sc.state_codes:
        s = sc.states[code]
        cap = s.capability if not isinstance(s.capability, dict) else _at(s.capability, sc.start_year)
        weights = "  ".join(f"{w:5.2f}" for w in interest_weights(s))
        print(f"    {code}  {sc.status_in(code, sc.start_year):<13}  {cap:10.5f}  {weights}")
    print(f"  areas        {', '.join(sc.areas)}")
    print(
        f"  events       {len(sc.events)} in the run"
        + (f", {len(sc.prehistory)} before it applied as initial conditions" if sc.prehistory else "")
    )
    for e in sc.events:
        print(f"    {e.year}  {e.label}")
    print("  parameters   " + ", ".join(f"{k}={v}" for k, v in sc.parameters.model_dump().items()))
    return 0


def _at(series: dict[int, float], year: int) -> float:
    import numpy as np

    points = sorted(series.items())
    return float(np.interp(year, [p[0] for p in points], [p[1] for p in points]))


def _bargain(args: argparse.Namespace) -> int:
    import pandas as pd

    from sim.rules import RULES, RuleSettings
    from sim.rules.bargain import bargain, read_actor_table

    if args.rule not in RULES:
        raise InputError(
            "", f"unknown decision rule '{args.rule}'; expected one of: {', '.join(RULES)}", key="--rule"
        )
    table = read_actor_table(args.table)
    settings = RuleSettings(max_rounds=args.max_rounds, majority_threshold=args.threshold)
    result = bargain(
        table,
        rule=args.rule,
        status_quo=args.status_quo,
        proposal=args.proposal,
        tolerance=args.tolerance,
        settings=settings,
    )
    print(
        f"rule {args.rule} on {args.table} ({len(result.actors)} actor rows, {len(result.outcomes)} issue(s))"
    )
    for note in result.notes:
        print(f"  note: {note}")
    with pd.option_context("display.width", 160, "display.max_columns", 20):
        print(result.outcomes.round(2).to_string(index=False))
    return 0


def _progress_bar(total: int, unit: str, disable: bool) -> Any:
    from tqdm import tqdm

    return tqdm(total=total, unit=unit, disable=disable, dynamic_ncols=True)


def _validate(args: argparse.Namespace) -> int:
    from sim.analysis.validation import format_table, validate, write_validation

    with _progress_bar(args.seeds, "seed", args.no_progress) as bar:
        result = validate(args.scenario, seeds=args.seeds, base_seed=args.base_seed, workers=args.workers,
                          progress=bar.update)  # fmt: skip
    print(format_table(result))
    written = write_validation(result, args.out)
    print(f"per-seed facts, pattern table and date chart: {', '.join(str(p) for p in written)}")
    return 0


def _calibrate(args: argparse.Namespace) -> int:
    from sim.analysis.calibration import (
        apply_to_scenario,
        calibrate,
        format_result,
        load_calibration,
        total_runs,
    )

    cal = load_calibration(args.calibration).with_budget(
        samples=args.samples, seeds=args.seeds, refine_top=args.refine_top, refine_seeds=args.refine_seeds
    )
    n = total_runs(cal)
    print(f"calibrating {cal.scenario.name}: {n} seed-judgements (2 runs each) on {args.workers} workers "
          f"-> {args.out}/")  # fmt: skip
    start = time.perf_counter()
    try:
        with _progress_bar(n, "seed", args.no_progress) as bar:
            result = calibrate(cal, args.out, workers=args.workers, resume=args.resume, progress=bar.update)
    except KeyboardInterrupt:
        print(f"interrupted: judged points are kept in {args.out}/journal.jsonl; continue with: "
              f"sco-sim calibrate {args.calibration} --out {args.out} --resume", file=sys.stderr)  # fmt: skip
        return 130
    print(format_result(result))
    tables = "search.csv, refine.csv, posterior.csv, chosen.json"
    print(f"({time.perf_counter() - start:.0f} s; tables in {args.out}/: {tables})")
    if args.apply:
        note = f"Calibrated by `sco-sim calibrate {args.calibration}` (report: docs/calibration.md)."
        path = apply_to_scenario(cal, result.chosen, note)
        print(f"wrote the chosen values into {path}")
    return 0


def _bargain_bench(args: argparse.Namespace) -> int:
    from sim.analysis.bargainbench import benchmark, format_table, write_predictions
    from sim.rules.decisiondata import read_decision_data

    data = read_decision_data(args.data)
    if not data.scored.any():
        raise InputError(args.data, "no issue has both an outcome and a position; nothing to score")
    started = time.perf_counter()
    result = benchmark(data, folds=args.folds, seed=args.seed)
    elapsed = time.perf_counter() - started
    print(format_table(result))
    out = Path(args.out) if args.out else Path("results") / "bargain-bench" / f"{Path(args.data).stem}.csv"
    try:
        write_predictions(result, out)
    except OSError as exc:
        raise InputError(str(out), f"cannot write the predictions here ({exc.strerror or exc})") from None
    print(f"\nwrote per-issue predictions to {out} ({elapsed:.1f} s)")
    return 0


def _rules(args: argparse.Namespace) -> int:
    from sim.rules import describe_rules

    for name, summary, source in describe_rules():
        print(f"{name}\n  {summary}\n  source: {source}\n")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "handler", None):
        parser.print_help()
        return EXIT_INPUT
    try:
        return int(args.handler(args))
    except InputError as exc:
        print(f"error: {exc.one_line()}", file=sys.stderr)
        return EXIT_INPUT
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # Output piped into `head` and the like: stop quietly.
        sys.stderr.close()
        return 0


if __name__ == "__main__":
    sys.exit(main())
