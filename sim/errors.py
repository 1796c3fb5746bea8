"""Errors a user can fix: each renders as one line naming the file, the key and the fix.

Every error type of the package is here; the command line turns any :class:`InputError`
into one line on standard error and exit status 2.
"""

from __future__ import annotations


def printable(text: object, keep: str = "") -> str:
    r"""Return ``text`` with every control, format or separator character written as its escape.

    A newline becomes ``\n``, an escape character ``\x1b``, a right-to-left override ``\u202e``:
    what a file or an option says can neither break a one-line message over several lines nor
    send sequences to the terminal. Characters in ``keep`` (e.g. ``"\n"``) are left as they are.
    """
    text = str(text)
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() or c in keep else repr(c)[1:-1] for c in text)


class InputError(Exception):
    """A problem with a file the user gave us (scenario, table, experiment).

    Rendered by the command line as a single line, exit status 2, no traceback.

    Args:
        path: The file the problem is in.
        message: What was found and what was expected.
        key: The dotted key (or ``line N``) the problem is at, if known.

    """

    def __init__(self, path: str, message: str, key: str | None = None) -> None:
        self.path = str(path)
        self.key = key
        self.message = message
        super().__init__(self.one_line())

    def one_line(self) -> str:
        """Return the error as one line: ``FILE: key 'K': MESSAGE``.

        Control characters from the file or the user (a newline in a key, a terminal escape in a
        name) are shown as escapes (:func:`printable`), so the message stays on one line.
        """
        where = f"{self.path}: " if self.path else ""
        at = f"key '{self.key}': " if self.key else ""
        return printable(f"{where}{at}{self.message}")


class ScenarioError(InputError):
    """A scenario file is unreadable, malformed or inconsistent."""


class TableError(InputError):
    """An actor table (for stand-alone bargaining) is malformed."""


class DataError(InputError):
    """A data table (shipped in ``sim/data/`` or given by the user) is missing, malformed or lacks a value.

    The message names the table file, and the state and year that were asked for; ``state``
    and ``year`` hold them too.
    """

    def __init__(
        self,
        path: str,
        message: str,
        key: str | None = None,
        state: str | None = None,
        year: int | None = None,
    ) -> None:
        self.state = state
        self.year = year
        super().__init__(path, message, key=key)


class ExperimentError(InputError):
    """An experiment file is unreadable, malformed or inconsistent."""


class StoreError(InputError):
    """The results folder cannot be used (another experiment, changed file, unwritable)."""


class WorkerLost(RuntimeError):
    """A worker process of a local pool died (``kill -9``, the out-of-memory killer) mid-batch.

    Not an input error: the command line prints it in one line, exit status 1; a batch
    adds how to finish it with ``--resume``.
    """


class CalibrationError(InputError):
    """A calibration file is unreadable, malformed or inconsistent."""


class NarrateError(InputError):
    """A run cannot be narrated: an unknown run id or year, or a folder that holds no run."""


class ExportError(InputError):
    """A results folder or run folder cannot be exported (not one, a bad --out, an unwritable folder)."""


class DiscoverError(InputError):
    """``sco-sim discover`` cannot be done: no swept inputs, several arms, too few runs, no contrast."""


class OutcomeError(DiscoverError):
    """An outcome expression (``--outcome``) that cannot be read, or that names what the results lack.

    The line quotes the expression (``--outcome 'EXPR': ...``) and, for a reading error, the
    character where reading stopped.
    """

    def __init__(self, expression: str, message: str, at: int | None = None) -> None:
        where = f" (at character {at + 1})" if at is not None else ""
        shown = expression if len(expression) <= 120 else expression[:117] + "..."
        self.expression = expression
        super().__init__(f"--outcome '{shown}'", f"{message}{where}; see docs/discover.md")
