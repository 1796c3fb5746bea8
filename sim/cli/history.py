"""Commands on the historical record 1996-2017: ``validate`` and ``calibrate``."""

from __future__ import annotations

import argparse
import sys
import time

from sim.cli.options import Command, integer_in, positive, seed, workers
from sim.limits import MAX_REPLICATIONS, MAX_SAMPLES


def validate_arguments(cmd: argparse.ArgumentParser) -> None:
    """Arguments of ``sco-sim validate``."""
    cmd.add_argument("scenario", metavar="SCENARIO", nargs="?", default="scenarios/history_1996.toml",
                     help="scenario file (default scenarios/history_1996.toml)")  # fmt: skip
    cmd.add_argument("--seeds", type=positive, default=100, help="seeds (default 100)")
    cmd.add_argument("--base-seed", type=seed, default=2017, help="base seed (default 2017)")
    cmd.add_argument("--workers", type=workers, default=2, help="worker processes (default 2)")
    cmd.add_argument("--out", metavar="DIR", default="results/validation",
                     help="folder for the tables and chart (default results/validation)")  # fmt: skip
    cmd.add_argument("--no-progress", action="store_true", help="no progress bar")


def validate_command(args: argparse.Namespace) -> int:
    """Run the scenario over many seeds, print the pattern table and write the facts and chart."""
    from sim.analysis.validation import format_table, validate
    from sim.commands import write_validation

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
                     help="write the chosen values into the scenario file")  # fmt: skip
    for option, what, kind in CALIBRATION_BUDGET:
        cmd.add_argument(option, type=kind, default=None, help=f"override the file's {what}")
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

    cal = load_calibration(args.calibration).with_budget(
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
    "fit the free parameters to patterns P1-P7 on 1996-2017 (Latin hypercube + ABC)",
    "Search the plausible ranges of a calibration file (Latin hypercube, rejection ABC, "
    "then the best points re-judged on fresh seeds) and print the chosen values. Every judged point "
    "is kept in --out as it finishes; --resume continues an interrupted search.",
    calibrate_arguments,
    calibrate_command,
)
