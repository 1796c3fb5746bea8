"""What the commands share: the parser, the option types, the executor options and a command's entry."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

EXIT_INPUT = 2


class Parser(argparse.ArgumentParser):
    """ArgumentParser whose errors are one line, exit status 2."""

    def error(self, message: str) -> None:  # type: ignore[override]
        """Print a one-line usage error and exit with status 2."""
        self.exit(EXIT_INPUT, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


@dataclass(frozen=True)
class Command:
    """One subcommand: its name, its texts for --help, its arguments and the function that runs it."""

    name: str
    help: str
    description: str
    arguments: Callable[[argparse.ArgumentParser], None]
    handler: Callable[[argparse.Namespace], int]

    def add_to(self, sub: Any) -> None:
        """Add this command to the subparsers ``sub`` of the main parser."""
        cmd = sub.add_parser(self.name, help=self.help, description=self.description)
        self.arguments(cmd)
        cmd.set_defaults(handler=self.handler)


def integer_at_least(minimum: int, what: str) -> Callable[[str], int]:
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


positive = integer_at_least(1, "positive")
seed = integer_at_least(0, "non-negative")


def folds(text: str) -> int:
    """Parse --folds: an integer of 2 or more."""
    value = positive(text)
    if value < 2:
        raise argparse.ArgumentTypeError(f"expected 2 folds or more, got {value}")
    return value


def executor_options(cmd: argparse.ArgumentParser) -> None:
    """Add the options shared by `batch` and `sensitivity`: results folder, executor, progress."""
    cmd.add_argument("--out", metavar="DIR", default=None, help="results folder (default results/<name>)")
    cmd.add_argument("--workers", type=positive, default=2, help="local worker processes (default 2)")
    cmd.add_argument("--resume", action="store_true", help="complete an interrupted batch in --out")
    cmd.add_argument("--sequential", action="store_true", help="run in this process (no workers)")
    cmd.add_argument("--scheduler", metavar="ADDRESS", default=None, help="Dask scheduler to use")
    cmd.add_argument("--dask-local", metavar="N", type=positive, default=None,
                     help="start a local Dask cluster with N workers")  # fmt: skip
    cmd.add_argument("--no-progress", action="store_true", help="no progress bar")
