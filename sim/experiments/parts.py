"""The part files of a results folder: written once, recorded, checked when read, set aside when damaged.

A chunk of finished runs is stored as one part per table, all with one number
(``model/part-000007.parquet``, ..., ``summaries/part-000007.parquet``). A part is
written to a temporary file and linked under its name, which never replaces an existing
file, and is then recorded in ``parts.jsonl`` (one JSON line per part: its key
``TABLE/part-NNNNNN.parquet``, rows, bytes and SHA-256). Reading checks each part against
its record and that every recorded part is there; a part without a record (a folder from
before parts were recorded, or a crash between writing and recording) must be readable
Parquet. ``--resume`` moves every part of a chunk with a damaged or missing part under
``damaged/STAMP/`` and records that with a ``{"dropped": KEY}`` line, so the chunk's runs
are run again.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from sim.errors import StoreError
from sim.files import append_line, create_new, read_json_lines

PARTS = "parts.jsonl"  # the record of every part written: rows, bytes, SHA-256
DAMAGED = "damaged"  # where --resume sets damaged chunks aside
PARQUET_ERRORS = (OSError, ValueError, pa.ArrowException)


def part_name(number: int) -> str:
    """``part-NNNNNN.parquet``."""
    return f"part-{number:06d}.parquet"


def part_number(path: Path) -> int:
    """The number of a part file."""
    return int(path.stem.split("-")[1])


def part_files(folder: Path, table: str) -> list[Path]:
    """A table's part files, in part order."""
    return sorted((folder / table).glob("part-*.parquet"))


@dataclass(frozen=True)
class PartProblem:
    """A part that is damaged (unreadable, or not the bytes recorded) or missing (recorded, not there)."""

    folder: Path
    table: str
    number: int
    reason: str  # "is missing", "is damaged (...)"

    @property
    def key(self) -> str:
        """``TABLE/part-NNNNNN.parquet``."""
        return f"{self.table}/{part_name(self.number)}"

    @property
    def path(self) -> Path:
        """The part's path."""
        return self.folder / self.table / part_name(self.number)


def part_records(folder: str | Path) -> dict[str, dict[str, Any]]:
    """The record of every part written and not set aside, by ``TABLE/part-NNNNNN.parquet``.

    Empty for a folder written before parts were recorded (its parts are checked only for
    being readable Parquet).
    """
    path = Path(folder) / PARTS
    if not path.exists():
        return {}
    records: dict[str, dict[str, Any]] = {}
    for number, entry in enumerate(read_json_lines(path, StoreError, "one record per stored part"), 1):
        if isinstance(entry, dict) and isinstance(entry.get("dropped"), str):
            records.pop(entry["dropped"], None)
        elif (
            isinstance(entry, dict)
            and isinstance(entry.get("part"), str)
            and isinstance(entry.get("bytes"), int)
            and isinstance(entry.get("sha256"), str)
        ):
            records[entry["part"]] = entry
        else:
            raise StoreError(
                str(path),
                f"line {number} is not a part record; delete the file to check parts only for being readable",
            )
    return records


def write_part(folder: Path, table: str, name: str, frame: pd.DataFrame) -> None:
    """Write one part (FileExistsError rather than replace a file) and record its rows, bytes and SHA-256."""
    buffer = io.BytesIO()
    frame.to_parquet(buffer, index=False)
    data = buffer.getvalue()
    create_new(folder / table / name, data)
    record = {"part": f"{table}/{name}", "rows": len(frame), "bytes": len(data),
              "sha256": hashlib.sha256(data).hexdigest()}  # fmt: skip
    append_line(folder / PARTS, json.dumps(record))


def _damage(data: bytes, record: dict[str, Any] | None) -> str | None:
    """Why the bytes of a part do not match its record, if they do not."""
    if record is None:
        return None
    if len(data) != record["bytes"]:
        return f"is damaged ({len(data)} bytes, {record['bytes']} were written)"
    if hashlib.sha256(data).hexdigest() != record["sha256"]:
        return "is damaged (its SHA-256 differs from the one recorded when it was written)"
    return None


def _unreadable(exc: BaseException) -> str:
    text = " ".join(str(exc).split())[:120]
    return f"is damaged (not readable as Parquet: {type(exc).__name__}: {text})"


def _missing(folder: Path, records: dict[str, dict[str, Any]], tables: set[str]) -> list[PartProblem]:
    """The recorded parts of ``tables`` that are not there."""
    out = []
    for key in records:
        table, _, name = key.partition("/")
        if table in tables and name.startswith("part-") and not (folder / key).exists():
            out.append(PartProblem(folder, table, part_number(Path(name)), "is missing"))
    return out


def check_parts(folder: str | Path, tables: tuple[str, ...]) -> list[PartProblem]:
    """Check every part of ``tables`` against its record; return the damaged and missing ones.

    A recorded part must have the size and SHA-256 recorded when it was written; a part
    without a record must be readable Parquet; every recorded part must exist.
    """
    folder = Path(folder)
    records = part_records(folder)
    problems: list[PartProblem] = []
    for table in tables:
        for path in part_files(folder, table):
            try:
                data = path.read_bytes()
            except OSError as exc:
                problems.append(PartProblem(folder, table, part_number(path), f"cannot be read ({exc})"))
                continue
            record = records.get(f"{table}/{path.name}")
            reason = _damage(data, record)
            if reason is None and record is None:
                try:
                    pq.read_metadata(io.BytesIO(data))
                except PARQUET_ERRORS as exc:
                    reason = _unreadable(exc)
            if reason:
                problems.append(PartProblem(folder, table, part_number(path), reason))
    problems += _missing(folder, records, set(tables))
    return sorted(problems, key=lambda p: (p.number, p.table))


def read_parts(
    folder: Path, table: str, records: dict[str, dict[str, Any]], problems: list[PartProblem]
) -> pd.DataFrame:
    """Read one table's parts (``_part`` holds the part number), each checked against its record.

    What is damaged or missing is added to ``problems`` (and left out of the table).
    """
    frames = []
    for part in part_files(folder, table):
        number = part_number(part)
        try:
            data = part.read_bytes()
        except OSError as exc:
            problems.append(PartProblem(folder, table, number, f"cannot be read ({exc})"))
            continue
        reason = _damage(data, records.get(f"{table}/{part.name}"))
        if reason is None:
            try:
                frame = pd.read_parquet(io.BytesIO(data))
            except PARQUET_ERRORS as exc:
                reason = _unreadable(exc)
        if reason:
            problems.append(PartProblem(folder, table, number, reason))
            continue
        frame["_part"] = number
        frames.append(frame)
    problems += _missing(folder, {k: v for k, v in records.items() if k.startswith(f"{table}/")}, {table})
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


def problems_error(problems: list[PartProblem], resume: str) -> StoreError:
    """One line naming the first damaged or missing part, how many more there are, and the fix."""
    first = min(problems, key=lambda p: (p.number, p.table))
    others = f"; {len(problems) - 1} other part(s) are damaged or missing too" if len(problems) > 1 else ""
    return StoreError(
        str(first.path),
        f"{first.reason}{others}; `{resume}` sets the damaged chunks aside and runs their runs again",
    )


def set_aside(folder: Path, problems: list[PartProblem], tables: tuple[str, ...]) -> str:
    """Move every part of the chunks with a damaged or missing part under ``damaged/STAMP/``; say so.

    Returns:
        One line saying what was found and done.

    """
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    target = folder / DAMAGED / stamp
    n = 1
    while target.exists():
        n += 1
        target = folder / DAMAGED / f"{stamp}-{n}"
    recorded = part_records(folder)
    moved: list[str] = []
    numbers = sorted({p.number for p in problems})
    for number in numbers:
        for table in sorted({*tables, *(p.table for p in problems)}):
            key = f"{table}/{part_name(number)}"
            if (folder / key).exists():
                (target / table).mkdir(parents=True, exist_ok=True)
                os.replace(folder / key, target / key)
                moved.append(key)
            if key in recorded or key in moved:
                append_line(folder / PARTS, json.dumps({"dropped": key, "to": str(target / key)}))
    first = problems[0]
    others = f" (and {len(problems) - 1} more damaged or missing)" if len(problems) > 1 else ""
    where = f"moved {len(moved)} part file(s) to {target}/" if moved else "no part of it is left"
    return f"{first.key} {first.reason}{others}: {where}; the runs of {len(numbers)} chunk(s) are run again"
