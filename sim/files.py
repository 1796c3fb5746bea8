"""The one place that reads and writes files: safe reading, TOML, atomic writes, safe names, JSON values.

Reading goes through :func:`read_file`: only a regular file of at most :data:`MAX_FILE_BYTES`
is read (a device such as ``/dev/zero``, a pipe, a socket, a folder or a symbolic-link loop is
one line naming the file), and a parsed TOML or JSON file may nest at most :data:`MAX_DEPTH`
levels of tables and arrays. Every problem raises the caller's :class:`~sim.errors.InputError`
subclass in one line. Writing goes through a temporary file in the same folder and a rename,
so a crash never leaves a half-written file; a name taken from a file (a scenario's or an
experiment's ``name``) becomes a file name only through :func:`safe_name`, and :func:`inside`
checks that the path stays inside the chosen folder.
"""

from __future__ import annotations

import errno
import json
import math
import os
import re
import stat
import tempfile
import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sim.errors import InputError, ScenarioError

#: The largest file sco-sim reads (scenario, experiment, table, manifest, journal): 64 MiB.
MAX_FILE_BYTES = 64 * 2**20

#: The deepest nesting of tables and arrays in a TOML or JSON file (scenarios need about 6).
MAX_DEPTH = 32

_CHUNK = 2**20


def read_file(
    path: str | os.PathLike[str],
    error: type[InputError],
    expected: str,
    referrer: str | None = None,
    key: str | None = None,
) -> bytes:
    """Return the bytes of a regular file of at most :data:`MAX_FILE_BYTES`, or raise ``error`` in one line.

    The file is opened without blocking (a named pipe never hangs) and checked to be a regular
    file before anything is read (``/dev/zero`` is refused, not read until memory runs out).

    Args:
        path: The file.
        error: The exception class to raise.
        expected: What the file should be ("a TOML scenario file"), for the messages.
        referrer: The file that named this one, if any: a missing file is reported there.
        key: The key of ``referrer`` that named this file (e.g. ``extends``).

    """
    where = str(path)
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)
    try:
        fd = os.open(path, flags)
    except (FileNotFoundError, ValueError) as exc:  # ValueError: a NUL character, which no file name holds
        missing = isinstance(exc, FileNotFoundError)
        which = "does not exist" if missing else "holds a NUL character"
        if referrer:
            raise error(referrer, f"{key} points at '{where}', which {which}", key=key) from None
        message = "file not found (check the path)" if missing else f"is not a file name (it {which})"
        raise error(where, message) from None
    except IsADirectoryError:
        raise error(where, f"is a folder, expected {expected}") from None
    except PermissionError:
        raise error(where, "cannot be read (permission denied)") from None
    except OSError as exc:
        reason = "a loop of symbolic links" if exc.errno == errno.ELOOP else exc.strerror or exc
        raise error(where, f"cannot be read ({reason})") from None
    try:
        info = os.fstat(fd)
        if stat.S_ISDIR(info.st_mode):
            raise error(where, f"is a folder, expected {expected}")
        if not stat.S_ISREG(info.st_mode):
            raise error(where, f"is not a regular file (a device, a pipe or a socket); expected {expected}")
        if info.st_size > MAX_FILE_BYTES:
            raise error(where, _too_large(info.st_size, expected))
        chunks: list[bytes] = []
        size = 0
        while chunk := os.read(fd, _CHUNK):
            size += len(chunk)
            if size > MAX_FILE_BYTES:  # a file that grows while it is read
                raise error(where, _too_large(size, expected))
            chunks.append(chunk)
        return b"".join(chunks)
    except OSError as exc:
        raise error(where, f"cannot be read ({exc.strerror or exc})") from None
    finally:
        os.close(fd)


def _too_large(size: int, expected: str) -> str:
    return (
        f"is larger than the {MAX_FILE_BYTES // 2**20} MiB sco-sim reads "
        f"({size / 2**20:.0f} MiB or more); expected {expected}"
    )


def decode(raw: bytes, where: str, error: type[InputError], expected: str) -> str:
    """Decode UTF-8 bytes (a leading byte-order mark is dropped), or raise ``error`` in one line."""
    try:
        return raw.decode("utf-8").removeprefix("\ufeff")
    except UnicodeDecodeError:
        raise error(where, f"is not UTF-8 text; expected {expected}") from None


def read_text(path: Path, error: type[InputError], expected: str) -> str:
    """Read a UTF-8 text file (:func:`read_file`); raise ``error`` in one line naming the ``expected``."""
    return decode(read_file(path, error, expected), str(path), error, expected)


def real_path(path: str | os.PathLike[str]) -> Path:
    """Return ``path`` absolute with symbolic links resolved; never raises on a loop of links.

    (``Path.resolve`` raises RuntimeError on a loop in Python 3.11; reading the file then
    reports the loop in one line. A path with a NUL character is made absolute as it is:
    reading it reports it in one line too.)
    """
    try:
        return Path(os.path.realpath(path))
    except ValueError:  # "embedded null byte"
        return Path(os.path.abspath(path))


def check_depth(
    value: Any, where: str, error: type[InputError], limit: int = MAX_DEPTH, what: str = "file"
) -> None:
    """Raise ``error`` in one line if tables and arrays in ``value`` nest more than ``limit`` deep.

    Walks without recursion, so any depth is measured safely; the key named is the top-level
    key of the deepest branch.
    """
    stack: list[tuple[Any, int, str | None]] = [(value, 1, None)]
    while stack:
        node, depth, top = stack.pop()
        children: list[tuple[Any, str | None]]
        if isinstance(node, dict):
            children = [(v, str(k) if top is None else top) for k, v in node.items()]
        elif isinstance(node, list | tuple):
            children = [(v, top) for v in node]
        else:
            continue
        if depth > limit:
            raise error(where, _too_deep(limit, what), key=top)
        stack.extend((child, depth + 1, key) for child, key in children)


def _too_deep(limit: int, what: str) -> str:
    article = "an" if what[:1] in "aeiou" else "a"  # an experiment file, a scenario file
    return f"tables and arrays nest more than {limit} levels deep; {article} {what} needs only a few"


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
    expected = f"a TOML {kind} file"
    raw = read_file(path, error, expected, referrer=referrer, key="extends" if referrer else None)
    text = decode(raw, where, error, expected)
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise error(where, f"TOML syntax error: {exc}") from None
    except RecursionError:  # tomllib parses nested arrays and inline tables recursively
        raise error(where, _too_deep(MAX_DEPTH, f"{kind} file")) from None
    check_depth(data, where, error, what=f"{kind} file")
    return data, raw


def safe_name(name: str, fallback: str = "unnamed") -> str:
    r"""Return ``name`` as one safe file or folder name (a name that is already safe is kept as it is).

    Every run of characters other than letters, digits, ``_``, ``-``, ``.`` and spaces becomes
    ``_`` (so ``/``, ``\``, ``:`` and control characters never reach a path), leading and trailing
    dots and spaces are dropped (no ``..``, no hidden names), and the name is cut to 100
    characters; an empty result is ``fallback``.
    """
    slug = re.sub(r"[^\w.\- ]+", "_", name)[:100].strip(" .")
    return slug or fallback


def is_safe_name(name: str) -> bool:
    """Return whether ``name`` is its own :func:`safe_name` (usable as a file name as written)."""
    return bool(name) and safe_name(name) == name


def inside(folder: str | os.PathLike[str], name: str, error: type[InputError] = InputError) -> Path:
    """Return ``folder / name``, or raise ``error`` in one line if it would lie outside ``folder``.

    Symbolic links are followed on both sides, so neither ``..`` in ``name`` nor a link inside
    the folder can take a write elsewhere.
    """
    target = Path(folder) / name
    base = os.path.realpath(folder)
    if os.path.commonpath([base, os.path.realpath(target)]) != base:
        raise error(str(target), f"would be written outside the folder {folder}; choose another name")
    return target


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
        value = json.loads(text)
    except ValueError as exc:
        raise error(str(path), f"is not valid JSON ({exc}); expected {expected}") from None
    except RecursionError:
        raise error(str(path), _too_deep(MAX_DEPTH, "JSON file")) from None
    check_depth(value, str(path), error, what="JSON file")
    return value


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
        except RecursionError:
            raise error(str(path), f"line {number}: {_too_deep(MAX_DEPTH, 'journal')}") from None
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
