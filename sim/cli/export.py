"""``sco-sim export``: a results folder's (or a run's) tables as CSV, Stata or R files (:mod:`sim.export`)."""

from __future__ import annotations

import argparse

from sim.cli.options import Command

FORMATS = ("csv", "stata", "r")  # sim.export.FORMATS, repeated so that --help imports no pandas


def export_arguments(cmd: argparse.ArgumentParser) -> None:
    """Arguments of ``sco-sim export``."""
    cmd.add_argument(
        "results", metavar="RESULTS",
        help="a results folder (sco-sim batch) or a run folder (sco-sim run --out DIR)",
    )  # fmt: skip
    cmd.add_argument(
        "--format", required=True, choices=FORMATS,
        help="csv: CSV files; stata: .dta files (Stata 14 or newer); r: CSV files and load.R",
    )  # fmt: skip
    cmd.add_argument(
        "--out", metavar="DIR", default=None,
        help="folder to write into (default RESULTS/export-FORMAT); only files inside it are written",
    )  # fmt: skip
    cmd.add_argument("--force", action="store_true",
                     help="write into a non-empty --out, replacing an earlier export's files")  # fmt: skip


def export_command(args: argparse.Namespace) -> int:
    """Write the tables and say where, with every note (columns renamed or written as text)."""
    from sim.export import export

    result = export(args.results, args.format, out=args.out, force=args.force)
    print(f"exported {result.source} as {args.format} into {result.folder}/:")
    width = max(len(path.name) for path, _ in result.files)
    special = {
        "load.R": 'reads the CSV files into R: source("load.R"); tables <- load_sco_sim()',
        "columns.csv": "every table's columns with their types",
    }
    for path, rows in result.files:
        what = special.get(path.name, f"{rows} row{'' if rows == 1 else 's'}")
        print(f"  {path.name:<{width}}  {what}")
    print("seeds and run ids are written as text (a 63-bit seed does not fit a double); see docs/export.md")
    for note in result.notes:
        print(f"note: {note}")
    return 0


EXPORT = Command(
    "export",
    "write a results folder's tables for Stata, R or any CSV reader (seeds and run ids as text)",
    "Write the tables of a results folder of `sco-sim batch` (summaries, model, states, decisions, "
    "and texts if kept) or of a run folder of `sco-sim run` (model, states, decisions, texts, "
    "summary) as CSV files, Stata .dta files (format 118) or CSV files with an R script that reads "
    "them (load.R), and columns.csv with every column's type. Seeds and run ids are written as "
    "text: 63-bit seeds lose digits in Stata's and R's numbers. A column name Stata cannot take is "
    "written under a valid name (its label keeps the original), and said so. Only files inside "
    "--out are written; a folder that is not empty is refused unless --force.",
    export_arguments,
    export_command,
)
