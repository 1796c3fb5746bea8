"""The ``sco-sim`` command line: thin; it parses arguments, calls the library and prints.

Each command is one :class:`~sim.cli.options.Command` (its texts, its arguments, its handler)
in :data:`COMMANDS`. Handlers import the library only when they run, so ``sco-sim --help``
loads neither Mesa nor pandas nor matplotlib. Errors in what the user gave (files, options)
are printed as one line on standard error with exit status 2, never as a traceback. What a
command prints passes through :func:`~sim.errors.printable`: a name or a description from a
file cannot send control sequences to the terminal.
"""

from __future__ import annotations

import argparse
import io
import sys
from collections.abc import Sequence
from contextlib import redirect_stdout
from typing import TextIO

from sim.cli import ablate, dashboard, discover, experiment, export, history, narrate, sensitivity, single
from sim.cli.options import EXIT_INPUT, Command, Parser
from sim.errors import InputError, WorkerLost, printable
from sim.version import __version__

__all__ = ["COMMANDS", "EXIT_INPUT", "build_parser", "main"]

#: the subcommands, in the order ``sco-sim --help`` lists them
COMMANDS: tuple[Command, ...] = (
    single.RUN,
    single.CHECK,
    single.BARGAIN,
    single.BARGAIN_BENCH,
    experiment.BATCH,
    sensitivity.SENSITIVITY,
    ablate.ABLATE,
    discover.DISCOVER,
    experiment.COMPARE,
    experiment.PLOT,
    experiment.REPORT,
    export.EXPORT,
    experiment.RERUN,
    narrate.NARRATE,
    dashboard.DASHBOARD,
    experiment.BENCH,
    history.VALIDATE,
    history.CALIBRATE,
    single.RULES,
)


def build_parser() -> argparse.ArgumentParser:
    """Build the argument parser with its subcommands."""
    parser = Parser(
        prog="sco-sim",
        description="Agent-based simulation of consensus and regional balancing in the "
        "Shanghai Cooperation Organization.",
    )
    parser.add_argument("--version", action="version", version=f"sco-sim {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=Parser)
    for command in COMMANDS:
        command.add_to(sub)
    return parser


class _Printable(io.TextIOBase):
    """Standard output with control characters written as escapes (newlines and tabs pass as they are)."""

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:  # type: ignore[override]
        self._stream.write(printable(text, keep="\n\t"))
        return len(text)

    def flush(self) -> None:
        self._stream.flush()


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "handler", None):
        parser.print_help()
        return EXIT_INPUT
    try:
        with redirect_stdout(_Printable(sys.stdout)):
            return int(args.handler(args))
    except InputError as exc:
        print(f"error: {exc.one_line()}", file=sys.stderr)
        return EXIT_INPUT
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except WorkerLost as exc:  # outside a batch (validate, calibrate): one line, no traceback
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except BrokenPipeError:
        # Output piped into `head` and the like: stop quietly.
        sys.stderr.close()
        return 0
