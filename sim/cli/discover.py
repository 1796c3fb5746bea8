"""``sco-sim discover``: the ranges of swept inputs under which an outcome occurs (PRIM and CART)."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path

from sim.cli.experiment import writing_into
from sim.cli.options import Command, positive


def share(what: str, top: float = 1.0, top_included: bool = True) -> Callable[[str], float]:
    """Return an argparse type for a share above 0 and up to ``top``."""

    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected {what}, got {text!r}") from None
        if not (0.0 < value < top or (top_included and value == top)):
            bound = f"up to {top:g}" if top_included else f"below {top:g}"
            raise argparse.ArgumentTypeError(f"expected {what} above 0 and {bound}, got {text}")
        return value

    return parse


def discover_arguments(cmd: argparse.ArgumentParser) -> None:
    """Arguments of ``sco-sim discover``."""
    cmd.add_argument("results", metavar="RESULTS", help="results folder of a sweep (`sco-sim batch`) or a "
                     "sensitivity sample (`sco-sim sensitivity`)")  # fmt: skip
    cmd.add_argument("--outcome", metavar="EXPR", required=True,
                     help="the outcome of interest, a condition on each run, e.g. "
                     "'mean(consensus_rate) < 0.8' (docs/discover.md)")  # fmt: skip
    cmd.add_argument(
        "--arm", metavar="NAME", default=None, help="the arm to look at (needed with several arms)"
    )
    cmd.add_argument("--density", metavar="D", type=share("a density"), default=0.8,
                     help="the density a PRIM box should reach (default 0.8)")  # fmt: skip
    cmd.add_argument("--mass-min", metavar="M", type=share("a share of runs", 0.5, False), default=0.05,
                     help="the smallest share of runs a box may hold (default 0.05)")  # fmt: skip
    cmd.add_argument(
        "--boxes",
        metavar="N",
        type=positive,
        default=1,
        help="PRIM boxes to look for, one after another (default 1)",
    )
    cmd.add_argument("--out", metavar="DIR", default=None, help="where to write (default RESULTS/discover)")
    cmd.add_argument("--no-charts", action="store_true", help="write the tables only, no trade-off chart")


def discover_command(args: argparse.Namespace) -> int:
    """Evaluate the outcome on every run, find the boxes, print them and write the tables and the chart."""
    from sim.analysis.outcome import parse_outcome

    parse_outcome(args.outcome)  # a mistyped outcome is told before the folder is read

    from sim.analysis.discover import Settings, discover
    from sim.commands import load, write_discover
    from sim.report_discover import FOLDER

    results = load(args.results)
    settings = Settings(density=args.density, mass_min=args.mass_min, boxes=args.boxes)
    found = discover(results, args.outcome, arm=args.arm, settings=settings)
    print("\n".join(found.lines()))
    out = Path(args.out) if args.out else results.folder / FOLDER
    with writing_into(out, "the discover tables and chart (the boxes above are complete)"):
        files = write_discover(found, out, charts=not args.no_charts)
    print(f"\nwrote {len(files)} files to {out}/ ({', '.join(f.name for f in files)})")
    return 0


DISCOVER = Command(
    "discover",
    "find the ranges of swept inputs under which an outcome occurs (PRIM and CART)",
    "Scenario discovery over a sweep or a sample stored in RESULTS: each finished run is marked by "
    "whether the outcome EXPR holds (a condition such as 'mean(consensus_rate, 2018-2035) < 0.8' or "
    "'last(balancing_index, KAZ) - first(balancing_index, KAZ) < -0.1'; docs/discover.md), and the EMA "
    "Workbench's PRIM and CART describe the runs where it holds as boxes of input ranges, with their "
    "coverage (share of the runs with the outcome that are in the box) and density (share of the runs "
    "in the box that have it). Prints the boxes; writes boxes.csv, peeling.csv, runs.csv, "
    "discover.json and the trade-off chart into RESULTS/discover/ (or --out), which `sco-sim report` "
    "then shows. Needs the EMA Workbench: pip install 'sco-sim[discover]'.",
    discover_arguments,
    discover_command,
)
