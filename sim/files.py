"""The one place that reads and writes files: text, TOML, atomic writes, JSON-safe values.

Reading raises the caller's :class:`~sim.errors.InputError` subclass in one line; writing
goes through a temporary file in the same folder and a rename, so a crash never leaves a
half-written file.
"""

from __future__ import annotations

import json
import math
import os
import tempfile
import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sim.errors import InputError, ScenarioError


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


def read_toml_file(
    path: Path, kind: str = "scenario", error: type[InputError] = ScenarioError, referrer: str | None = None
) -> tuple[dict[str, Any], bytes]:
    """Read a TOML data file; return its tables and raw bytes, or raise ``error`` in one line.

    Args:
        path: The file.
        kind: What the file should be ("scenario", "experiment"), for the messages.
        error: The exception class to raise.
        referrer: The file whose ``extends`` named this one, if any.

    """
    where = str(path)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        if referrer:
            raise error(
                referrer, f"extends points at '{path}', which does not exist", key="extends"
            ) from None
        raise error(where, "file not found (check the path)") from None
    except IsADirectoryError:
        raise error(where, f"is a folder, expected a .toml {kind} file") from None
    except PermissionError:
        raise error(where, "cannot be read (permission denied)") from None
    except OSError as exc:
        raise error(where, f"cannot be read ({exc.strerror or exc})") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise error(where, f"is not UTF-8 text; expected a TOML {kind} file") from None
    try:
        return tomllib.loads(text), raw
    except tomllib.TOMLDecodeError as exc:
        raise error(where, f"TOML syntax error: {exc}") from None


def atomic_write(path: Path, write: Callable[[str], Any]) -> None:
    """Call ``write(tmp)`` on a temporary file beside ``path``, then rename it into place."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    try:
        write(tmp)
        os.chmod(tmp, 0o644)  # mkstemp creates 0600; results are meant to be shared
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def create_new(path: Path, data: bytes) -> None:
    """Write ``data`` to a new file ``path``, atomically; FileExistsError if it exists (never replaced).

    The bytes go to a temporary file that is then hard-linked to ``path`` (which fails if
    ``path`` exists); where hard links are not supported, ``path`` is created exclusively
    and written in place.
    """
    path = Path(path)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.chmod(tmp, 0o644)  # mkstemp creates 0600; results are meant to be shared
        try:
            os.link(tmp, path)
            return
        except FileExistsError:
            raise
        except OSError:  # no hard links here (some FUSE and Windows file systems)
            pass
        with path.open("xb") as handle:
            handle.write(data)
    finally:
        Path(tmp).unlink(missing_ok=True)


def write_text(path: Path, text: str) -> None:
    """Write UTF-8 ``text`` to ``path`` atomically."""
    atomic_write(Path(path), lambda tmp: Path(tmp).write_text(text, encoding="utf-8"))


def write_bytes(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically."""
    atomic_write(Path(path), lambda tmp: Path(tmp).write_bytes(data))


def read_json(path: Path, error: type[InputError], expected: str) -> Any:
    """Read a JSON file, or raise ``error`` in one line saying what was ``expected``."""
    text = read_text(Path(path), error, expected)
    try:
        return json.loads(text)
    except ValueError as exc:
        raise error(str(path), f"is not valid JSON ({exc}); expected {expected}") from None


def write_json(path: Path, value: Any, indent: int | None = 2) -> None:
    """Write ``value`` as JSON (with a final newline) to ``path`` atomically."""
    write_text(Path(path), json.dumps(value, indent=indent, default=str) + "\n")


def append_line(path: Path, line: str) -> None:
    """Append one line to a journal file and flush it (a crash loses at most that line)."""
    with Path(path).open("a", encoding="utf-8") as handle:
        handle.write(line.rstrip("\n") + "\n")
        handle.flush()


def read_json_lines(path: Path, error: type[InputError], expected: str) -> list[Any]:
    """Read a journal of one JSON value per line; a torn last line (a crash while writing) is dropped."""
    lines = read_text(Path(path), error, expected).splitlines()
    values = []
    for number, line in enumerate(lines, start=1):
        try:
            values.append(json.loads(line))
        except ValueError:
            if number == len(lines):
                break
            raise error(str(path), f"line {number} is not JSON; expected {expected}") from None
    return values


def jsonable(value: Any) -> Any:
    """Return ``value`` with numpy scalars as Python numbers and non-finite floats as ``None``."""
    if isinstance(value, dict):
        return {k: jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    if hasattr(value, "item") and callable(value.item) and getattr(value, "ndim", None) == 0:
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value
