"""Commands on the historical record 1996-2017: ``validate`` and ``calibrate``."""

from __future__ import annotations

import argparse
import sys
import time
from typing import Any

from sim.cli.options import Command, integer_in, positive, scheduler, seed, workers
from sim.limits import MAX_DRAWS, MAX_REPLICATIONS, MAX_RUNS, MAX_SAMPLES


def validate_arguments(cmd: argparse.ArgumentParser) -> None:
    """Arguments of ``sco-sim validate``."""
    cmd.add_argument("scenario", metavar="SCENARIO", nargs="?", default="scenarios/history_1996.toml",
                     help="scenario file (default scenarios/history_1996.toml)")  # fmt: skip
    cmd.add_argument("--seeds", type=positive, default=100, help="seeds (default 100)")
    cmd.add_argument("--base-seed", type=seed, default=2017, help="base seed (default 2017)")
    cmd.add_argument("--workers", type=workers, default=2, help="worker processes (default 2)")
    cmd.add_argument("--out", metavar="DIR", default="results/validation",
                     help="folder for the tables and chart (default results/validation)")  # fmt: skip
    cmd.add_argument("--posterior", metavar="CSV", default=None,
                     help="posterior.csv of an ABC-SMC calibration: judge the posterior predictive, "
                          "one fresh seed for each of the first --draws draws")  # fmt: skip
    cmd.add_argument("--draws", type=integer_in(1, MAX_DRAWS, "positive"), default=100,
                     help="posterior draws with --posterior (default 100; replaces --seeds)")  # fmt: skip
    cmd.add_argument("--no-progress", action="store_true", help="no progress bar")


def validate_command(args: argparse.Namespace) -> int:
    """Run the scenario over many seeds, print the pattern table and write the facts and chart."""
    from sim.analysis.posterior_validation import validate_posterior
    from sim.analysis.validation import format_table, validate
    from sim.commands import write_validation

    if args.posterior:
        result = validate_posterior(args.scenario, args.posterior, draws=args.draws, base_seed=args.base_seed,
                                    workers=args.workers, progress=not args.no_progress)  # fmt: skip
    else:
        result = validate(args.scenario, seeds=args.seeds, base_seed=args.base_seed, workers=args.workers,
                          progress=not args.no_progress)  # fmt: skip
    print(format_table(result))
    written = write_validation(result, args.out)
    print(f"per-seed facts, pattern table and date chart: {', '.join(str(p) for p in written)}")
    return 0


# the options and their ranges are those of the calibration file's keys (sim.analysis.calibration)
CALIBRATION_BUDGET = (
    ("--samples", "Latin hypercube points", integer_in(2, MAX_SAMPLES, "positive")),
    ("--seeds", "seeds per point", integer_in(1, MAX_REPLICATIONS, "positive")),
    ("--refine-top", "points re-judged", integer_in(1, MAX_SAMPLES, "positive")),
    ("--refine-seeds", "fresh seeds", integer_in(1, MAX_REPLICATIONS, "positive")),
)
ABC_BUDGET = (
    (
        "--population-size",
        "[abc] population_size (with --recovery: [recovery]'s)",
        integer_in(10, MAX_SAMPLES, "at least 10"),
    ),
    (
        "--max-simulations",
        "[abc] max_simulations (with --recovery: [recovery]'s)",
        integer_in(1, MAX_RUNS, "positive"),
    ),
    ("--truths", "[recovery] truths", integer_in(1, 1000, "positive")),
)


def calibrate_arguments(cmd: argparse.ArgumentParser) -> None:
    """Arguments of ``sco-sim calibrate``."""
    cmd.add_argument("calibration", metavar="CALIBRATION", nargs="?",
                     default="experiments/calibrate_history.toml",
                     help="calibration file (default experiments/calibrate_history.toml)")  # fmt: skip
    cmd.add_argument("--out", metavar="DIR", default="results/calibration",
                     help="results folder (default results/calibration)")  # fmt: skip
    cmd.add_argument("--workers", type=workers, default=2, help="worker processes (default 2)")
    cmd.add_argument("--resume", action="store_true", help="keep the points already judged in --out")
    cmd.add_argument("--apply", action="store_true",
                     help="write the chosen values (ABC-SMC: posterior median) to the scenario")  # fmt: skip
    cmd.add_argument("--recovery", action="store_true",
                     help="ABC-SMC: the parameter-recovery study of [recovery] on every range")  # fmt: skip
    cmd.add_argument("--scheduler", metavar="ADDRESS", type=scheduler, default=None,
                     help="ABC-SMC: sample on the workers of this Dask scheduler")  # fmt: skip
    for option, what, kind in CALIBRATION_BUDGET:
        cmd.add_argument(option, type=kind, default=None, help=f"method lhs: override the file's {what}")
    for option, what, kind in ABC_BUDGET:
        cmd.add_argument(option, type=kind, default=None, help=f"method abc-smc: override {what}")
    cmd.add_argument("--no-progress", action="store_true", help="no progress bar")


def calibrate_command(args: argparse.Namespace) -> int:
    """Search the plausible ranges, print the chosen values and optionally write them into the scenario."""
    from sim.analysis.calibration import (
        apply_to_scenario,
        calibrate,
        format_result,
        load_calibration,
        total_runs,
    )

    cal = load_calibration(args.calibration)
    if cal.file.method == "abc-smc":
        return _calibrate_abc(cal, args)
    if args.recovery or args.scheduler:
        print(
            f'error: {args.calibration}: --recovery and --scheduler need method = "abc-smc"', file=sys.stderr
        )
        return 2
    cal = cal.with_budget(
        samples=args.samples, seeds=args.seeds, refine_top=args.refine_top, refine_seeds=args.refine_seeds
    )
    n = total_runs(cal)
    print(f"calibrating {cal.scenario.name}: {n} seed-judgements (2 runs each) on {args.workers} workers "
          f"-> {args.out}/")  # fmt: skip
    start = time.perf_counter()
    try:
        result = calibrate(
            cal, args.out, workers=args.workers, resume=args.resume, progress=not args.no_progress
        )
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


def _calibrate_abc(cal: Any, args: argparse.Namespace) -> int:
    """``sco-sim calibrate`` for a file with ``method = "abc-smc"``: the recovery study or the fit."""
    from sim.analysis.abc_smc import calibrate_abc, format_abc
    from sim.analysis.calibration import apply_to_scenario

    budget = {"population_size": args.population_size, "max_simulations": args.max_simulations}
    if args.recovery:
        return _recovery(cal.with_recovery(truths=args.truths, **budget), args)
    cal = cal.with_abc(**budget)
    abc = cal.file.abc
    print(f"calibrating {cal.scenario.name} by ABC-SMC: {len(cal.fitted)} parameters, population "
          f"{abc.population_size}, up to {abc.max_simulations} simulations (2 runs each) on "
          f"{args.scheduler or f'{args.workers} worker(s)'} -> {args.out}/")  # fmt: skip
    try:
        result = calibrate_abc(
            cal, args.out, workers=args.workers, resume=args.resume, scheduler=args.scheduler
        )
    except KeyboardInterrupt:
        print(f"interrupted: finished generations are kept in {args.out}/abc.db; continue with: "
              f"sco-sim calibrate {args.calibration} --out {args.out} --resume", file=sys.stderr)  # fmt: skip
        return 130
    print(format_abc(result))
    print(f"(tables in {args.out}/: posterior.csv, posterior_summary.csv, posterior_correlations.csv, "
          f"generations.csv, predictive.csv, timing.json, chosen.json; pyabc database abc.db)")  # fmt: skip
    if args.apply:
        note = f"Calibrated by `sco-sim calibrate {args.calibration}` (report: docs/calibration.md)."
        path = apply_to_scenario(cal, result.chosen, note)
        print(f"wrote the posterior median into {path}")
    return 0


def _recovery(cal: Any, args: argparse.Namespace) -> int:
    """``sco-sim calibrate FILE --recovery``: can the record's summaries identify each parameter?"""
    from sim.analysis.abc_smc import AbcBudget
    from sim.analysis.recovery import RecoveryPlan, format_recovery, run_recovery

    settings = cal.file.recovery
    budget = AbcBudget(settings.population_size, settings.max_simulations, settings.max_generations,
                       settings.alpha, 0.0, cal.file.base_seed)  # fmt: skip
    plan = RecoveryPlan(str(cal.scenario), cal.space(list(cal.file.ranges)), settings.truths, budget,
                        settings.level, settings.min_contraction, settings.min_correlation)  # fmt: skip
    print(f"parameter recovery for {cal.scenario.name}: {plan.truths} truths x about "
          f"{settings.max_simulations} simulations on {args.workers} worker(s) -> {args.out}/")  # fmt: skip
    started = time.perf_counter()
    try:
        _, table = run_recovery(plan, args.out, workers=args.workers, resume=args.resume,
                                on_truth=None if args.no_progress else _truth_done)  # fmt: skip
    except KeyboardInterrupt:
        print(f"interrupted: finished truths are kept in {args.out}/recovery_journal.jsonl; continue "
              f"with --resume", file=sys.stderr)  # fmt: skip
        return 130
    print(format_recovery(table, plan))
    print(
        f"({time.perf_counter() - started:.0f} s; tables in {args.out}/: recovery.csv, recovery_truths.csv)"
    )
    return 0


def _truth_done(k: int) -> None:
    print(f"  truth {k} refitted", file=sys.stderr, flush=True)


VALIDATE = Command(
    "validate",
    "check the historical scenario against the record 1996-2017 (patterns P1-P7)",
    "Run a scenario over many fresh seeds and print, for each pattern P1-P7 of "
    "docs/validation.md, the criterion, the share of seeds that reproduce it and pass or fail; "
    "write the per-seed facts and a chart of simulated against real dates.",
    validate_arguments,
    validate_command,
)
CALIBRATE = Command(
    "calibrate",
    "fit the free parameters to the record 1996-2017 (ABC-SMC on summaries, or Latin hypercube + ABC)",
    'Fit the parameters of a calibration file. method = "abc-smc": ABC-SMC (pyabc) on continuous '
    "summaries of 1996-2017, resumable from its database (--resume), --recovery for the parameter-"
    'recovery study; method = "lhs": Latin hypercube, rejection ABC on pattern shares and the best '
    "points re-judged on fresh seeds. docs/calibration.md describes both.",
    calibrate_arguments,
    calibrate_command,
)
