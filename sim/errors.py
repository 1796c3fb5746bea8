"""Errors a user can fix: each renders as one line naming the file, the key and the fix."""

from __future__ import annotations

from pathlib import Path


class TablesView:
    """The three tables of one run or of many, as attributes (``.model``, ``.states``, ``.decisions``)."""

    tables: dict

    @property
    def model(self):  # noqa: ANN201 - pandas is not imported here, to keep this module light
        """Yearly model figures: one row per year (and run)."""
        return self.tables["model"]

    @property
    def states(self):  # noqa: ANN201
        """Yearly state figures: one row per state and year (and run)."""
        return self.tables["states"]

    @property
    def decisions(self):  # noqa: ANN201
        """Decision log: one row per item decided (and run)."""
        return self.tables["decisions"]


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
        """Return the error as one line: ``FILE: key 'K': MESSAGE``."""
        where = f"{self.path}: " if self.path else ""
        at = f"key '{self.key}': " if self.key else ""
        return f"{where}{at}{self.message}"


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


def read_text(path: Path, error: type[InputError], expected: str) -> str:
    """Read a UTF-8 text file, or raise ``error`` in one line saying what was ``expected``."""
    where = str(path)
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise error(where, "file not found (check the path)") from None
    except IsADirectoryError:
        raise error(where, f"is a folder, expected {expected}") from None
    except UnicodeDecodeError:
        raise error(where, f"is not UTF-8 text; expected {expected}") from None
    except OSError as exc:
        raise error(where, f"cannot be read ({exc.strerror or exc})") from None
