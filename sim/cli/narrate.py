"""``sco-sim narrate``: a run's summits in plain sentences (``sim.analysis.narrate``)."""

from __future__ import annotations

import argparse

from sim.cli.options import Command, year


def narrate_arguments(cmd: argparse.ArgumentParser) -> None:
    """Arguments of ``sco-sim narrate``."""
    cmd.add_argument("folder", metavar="RESULTS_OR_RUN",
                     help="a run folder (sco-sim run --out DIR) or a batch's results folder")  # fmt: skip
    cmd.add_argument("--run", metavar="ID", default=None, help="run id, for a results folder of a batch")
    cmd.add_argument("--year", metavar="Y", type=year, default=None, help="tell only this year's summit")


def narrate_command(args: argparse.Namespace) -> int:
    """Print the narrative of one run: every year, or the one ``--year``."""
    from sim.analysis.narrate import narrate_folder

    print(narrate_folder(args.folder, run=args.run, year=args.year), end="")
    return 0


NARRATE = Command(
    "narrate",
    "tell a run's summits in sentences: who tabled, objected (and why), stood aside, blocked",
    "Tell each summit of one run in plain sentences, from its decision record: who tabled what "
    "against the status quo, who objected to which texts and why (the largest part of its loss, "
    "against its tolerance), how the text was redrafted, who stood aside or blocked, what was "
    "decided, and accession steps. RESULTS_OR_RUN is a folder written by `sco-sim run --out DIR`, "
    "or a results folder of `sco-sim batch` with --run ID (a batch that kept no texts table has "
    "the run rerun from its stored scenario and seed).",
    narrate_arguments,
    narrate_command,
)
