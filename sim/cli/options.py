"""What the commands share: the parser, the option types, the executor options and a command's entry."""

from __future__ import annotations

import argparse
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from sim.limits import MAX_REPLICATIONS, MAX_SAMPLES, MAX_WORKERS, SEED_MAX, YEAR_MAX, YEAR_MIN

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


# Every numeric option is checked here, when the command line is parsed: a value outside its
# documented range (docs/experiments.md, "Limits") is one line and exit status 2.


def integer_in(minimum: int, maximum: int, what: str) -> Callable[[str], int]:
    """Return an argparse type that accepts integers from ``minimum`` to ``maximum``."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a {what} integer, got {text!r}") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"expected a {what} integer, got {value}")
        if value > maximum:
            raise argparse.ArgumentTypeError(f"expected a {what} integer of at most {maximum}, got {value}")
        return value

    return parse


def number_in(low: float, high: float, low_open: bool = False) -> Callable[[str], float]:
    """Return an argparse type that accepts finite numbers from ``low`` (or above it) to ``high``."""
    lower = f"more than {low:g}" if low_open else f"at least {low:g}"

    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            value = math.nan
        if not math.isfinite(value) or value < low or value > high or (low_open and value == low):
            raise argparse.ArgumentTypeError(f"expected a number {lower} and at most {high:g}, got {text!r}")
        return value

    return parse


positive = integer_in(1, MAX_REPLICATIONS, "positive")  # replications, seeds
seed = integer_in(0, SEED_MAX, "non-negative")
workers = integer_in(1, MAX_WORKERS, "positive")
samples = integer_in(1, MAX_SAMPLES, "positive")
year = integer_in(YEAR_MIN, YEAR_MAX, "year")


def folds(text: str) -> int:
    """Parse --folds: an integer from 2 to 1000."""
    value = integer_in(1, 1000, "positive")(text)
    if value < 2:
        raise argparse.ArgumentTypeError(f"expected 2 folds or more, got {value}")
    return value


DASK_SCHEMES = ("tcp", "tls", "ws", "wss", "ucx")


def scheduler(text: str) -> str:
    """Parse --scheduler: a Dask scheduler address, ``[tcp://]host:port`` (or tls://, ws://, wss://, ucx://)."""
    scheme, sep, rest = text.partition("://")
    if not sep:
        scheme, rest = "tcp", text
    try:
        parts = urlsplit(f"{scheme}://{rest}")
        host, port, extra = parts.hostname, parts.port, parts.path or parts.query or parts.fragment
    except ValueError:
        host, port, extra = None, None, ""
    if scheme not in DASK_SCHEMES or not host or not port or extra:
        raise argparse.ArgumentTypeError(
            f"expected a Dask scheduler address such as tcp://10.0.0.5:8786 or localhost:8786, got {text!r}"
        )
    return text


def executor_options(cmd: argparse.ArgumentParser) -> None:
    """Add the options shared by `batch` and `sensitivity`: results folder, executor, progress."""
    cmd.add_argument("--out", metavar="DIR", default=None, help="results folder (default results/<name>)")
    cmd.add_argument("--workers", type=workers, default=2, help="local worker processes (default 2)")
    cmd.add_argument("--resume", action="store_true", help="complete an interrupted batch in --out")
    cmd.add_argument("--sequential", action="store_true", help="run in this process (no workers)")
    cmd.add_argument("--scheduler", metavar="ADDRESS", type=scheduler, default=None,
                     help="Dask scheduler to use (host:port)")  # fmt: skip
    cmd.add_argument("--dask-local", metavar="N", type=workers, default=None,
                     help="start a local Dask cluster with N workers")  # fmt: skip
    cmd.add_argument("--no-progress", action="store_true", help="no progress bar")
