"""``sco-sim export``: the tables of a results folder (or of one run) for Stata, R or any CSV reader.

:func:`export` reads the tables of

- a results folder of ``sco-sim batch`` (``summaries``, with the failed runs; ``model``,
  ``states``, ``decisions`` and, if the batch kept it, ``texts``), or
- a run folder of ``sco-sim run --out DIR`` (``model``, ``states``, ``decisions``, ``texts`` if
  written, and ``summary``: ``summary.json`` as one row),

and writes them into one folder, in one of three formats:

- ``csv``: one UTF-8 CSV file per table;
- ``stata``: one Stata 14+ ``.dta`` file (format 118, UTF-8) per table, written by pandas;
- ``r``: the CSV files and ``load.R``, which reads them with the column types fixed.

Every format also writes ``columns.csv``: each table's columns with their type (``text``,
``integer``, ``number``, ``true/false``) and, for Stata, the variable name.

**Seeds and run ids are text.** Seeds are 63-bit integers: a Stata or R number (a double)
holds integers exactly only up to 2**53, so a seed written as a number would come back
rounded, and two runs could show the same seed. ``seed`` and ``run_id`` are therefore written
as text in every format, and so is any other integer column with a value beyond 2**53 (a note
says so). **Stata names**: a column name that is not a valid Stata name (letters, digits and
``_``, not starting with a digit, at most 32 characters, not a reserved word) is written under
a valid one, with the original name as the variable's label, and a note says so. Text longer
than Stata's 2045 bytes is stored as ``strL``; infinite numbers, which Stata cannot hold, are
written as missing (with a note).

Files are written only inside the chosen folder (:func:`sim.files.inside`), each atomically;
a folder that is not empty is refused unless ``force``, and never the source folder or any
results or run folder.
"""

from __future__ import annotations

import json
import re
import warnings
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sim.errors import ExportError
from sim.experiments.lock import LOCK
from sim.experiments.manifest import MANIFEST
from sim.files import atomic_write, inside, read_json
from sim.version import __version__

FORMATS: tuple[str, ...] = ("csv", "stata", "r")
#: the tables in the order they are written (those a folder lacks are skipped)
TABLES: tuple[str, ...] = ("summaries", "summary", "model", "states", "decisions", "texts")
#: columns always written as text: 63-bit seeds and the run ids
TEXT_IDS: tuple[str, ...] = ("seed", "run_id")
#: the largest integer a double (Stata's and R's numbers) holds exactly
EXACT_INTEGER = 2**53
STATA_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,31}$")
STATA_RESERVED = frozenset(
    "_all _b byte _coef _cons double float if in int long _n _N _pi _pred _rc _skip strL using with".split()
)
STATA_STR_MAX = 2045  # bytes of a fixed-width Stata string; longer text is stored as strL
STATA_LABEL_MAX = 80
EXPORT_FILES = frozenset(
    {f"{table}.{ext}" for table in TABLES for ext in ("csv", "dta")} | {"columns.csv", "load.R"}
)


@dataclass
class Export:
    """What :func:`export` wrote: the folder, the files (with their rows) and notes for the user."""

    source: Path
    folder: Path
    format: str
    files: list[tuple[Path, int]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


@dataclass
class _Source:
    tables: dict[str, pd.DataFrame]
    kind: str  # "results folder" or "run folder"
    stamp: datetime


def export(source: str | Path, fmt: str, out: str | Path | None = None, force: bool = False) -> Export:
    """Write the tables of a results folder or a run folder as CSV, Stata or R files.

    Args:
        source: A results folder of ``sco-sim batch`` or a run folder of ``sco-sim run``.
        fmt: ``"csv"``, ``"stata"`` or ``"r"``.
        out: The folder to write into (default ``SOURCE/export-FORMAT``); created if missing.
        force: Write into a non-empty ``out``, replacing an earlier export's files.

    Returns:
        The folder, the files written with their row counts, and notes (renamed columns,
        columns written as text).

    Raises:
        ExportError: one line: the source is neither kind of folder, ``out`` is not empty
            (without ``force``) or is a results or run folder, or a file cannot be written.

    """
    if fmt not in FORMATS:
        raise ExportError(
            "", f"unknown format '{fmt}'; expected one of: {', '.join(FORMATS)}", key="--format"
        )
    source = Path(source)
    data = read_source(source)
    folder = Path(out) if out is not None else source / f"export-{fmt}"
    prepare_folder(folder, source, force)
    result = Export(source, folder, fmt)
    types: dict[str, dict[str, str]] = {}
    names: dict[str, dict[str, str]] = {}
    try:
        folder.mkdir(parents=True, exist_ok=True)
        for table, frame in data.tables.items():
            frame = text_ids(frame, table, result.notes)
            types[table] = column_types(frame)
            if fmt == "stata":
                path = inside(folder, f"{table}.dta", ExportError)
                names[table] = write_stata(frame, path, table, data, result.notes)
            else:
                path = inside(folder, f"{table}.csv", ExportError)
                atomic_write(path, partial(_write_csv, frame))
            result.files.append((path, len(frame)))
        result.files.append((_write_columns(folder, types, names), sum(len(t) for t in types.values())))
        if fmt == "r":
            path = inside(folder, "load.R", ExportError)
            atomic_write(path, lambda tmp: Path(tmp).write_text(r_script(types, source), encoding="utf-8"))
            result.files.append((path, 0))
    except OSError as exc:
        raise ExportError(str(folder), f"cannot write the export here ({exc.strerror or exc}); "
                          "choose another --out") from None  # fmt: skip
    return result


# Reading ---------------------------------------------------------------------------------


def read_source(source: Path) -> _Source:
    """Read the tables of a results folder or a run folder (in :data:`TABLES` order)."""
    from sim.analysis.narrate import load_run
    from sim.experiments.store import load_results

    where = str(source)
    if not source.is_dir():
        what = "is a file, not a folder" if source.exists() else "does not exist"
        raise ExportError(where, f"{what}; expected a results folder of `sco-sim batch` or a run folder "
                          "of `sco-sim run --out DIR`")  # fmt: skip
    if (source / MANIFEST).is_file():
        results = load_results(source)
        tables = dict(results.tables)
        stamp = _when(results.manifest.get("finished") or results.manifest.get("started"))
        return _Source({t: tables[t] for t in TABLES if t in tables}, "results folder", stamp)
    if not any((source / f"decisions.{ext}").is_file() for ext in ("parquet", "csv")):
        raise ExportError(where, "is neither a results folder (no manifest.json) nor a run folder (no "
                          "decisions.parquet or decisions.csv); give the --out folder of `sco-sim batch` "
                          "or of `sco-sim run`")  # fmt: skip
    tables = dict(load_run(source).tables)
    summary_path = source / "summary.json"
    if summary_path.is_file():
        tables["summary"] = summary_table(read_json(summary_path, ExportError, "the summary of a run"))
        stamp = datetime.fromtimestamp(summary_path.stat().st_mtime, UTC)
    else:
        stamp = datetime.now(UTC)
    return _Source({t: tables[t] for t in TABLES if t in tables}, "run folder", stamp)


def _when(text: Any) -> datetime:
    try:
        return datetime.fromisoformat(str(text))
    except ValueError:
        return datetime.now(UTC)


def summary_table(summary: Any) -> pd.DataFrame:
    """Return a run's ``summary.json`` as one row: counts by state as ``IND:20;KAZ:17``, lists joined."""
    if not isinstance(summary, dict):
        raise ExportError("summary.json", "is not a JSON object; expected the summary `sco-sim run` writes")
    row: dict[str, Any] = {}
    for key, value in summary.items():
        if isinstance(value, dict):
            row[key] = ";".join(f"{k}:{v}" for k, v in value.items())
        elif isinstance(value, list):
            row[key] = ";".join(str(v) for v in value)
        else:
            row[key] = np.nan if value is None else value
    return pd.DataFrame([row])


# Columns ---------------------------------------------------------------------------------


def text_ids(frame: pd.DataFrame, table: str, notes: list[str]) -> pd.DataFrame:
    """Return ``frame`` with seeds, run ids and integers beyond 2**53 as text, and text columns as str."""
    frame = frame.copy()
    for column in frame.columns:
        values = frame[column]
        if isinstance(values.dtype, pd.CategoricalDtype):
            values = frame[column] = values.astype(str)
        if column in TEXT_IDS:
            frame[column] = _as_text(values)
        elif pd.api.types.is_integer_dtype(values.dtype) and not pd.api.types.is_bool_dtype(values.dtype):
            if len(values) and int(np.abs(values.to_numpy(dtype=float)).max()) > EXACT_INTEGER:
                frame[column] = _as_text(values)
                notes.append(f"{table}: column '{column}' holds integers beyond 2**53, written as text")
        elif not (pd.api.types.is_numeric_dtype(values.dtype) or pd.api.types.is_bool_dtype(values.dtype)):
            frame[column] = _as_text(values)
    return frame


def _as_text(values: pd.Series) -> pd.Series:
    """Return the values as Python strings (a missing value as ""), in an object column."""
    return pd.Series(
        ["" if v is None or (isinstance(v, float) and np.isnan(v)) or v is pd.NA else str(v) for v in values],
        index=values.index,
        dtype=object,
    )


def column_types(frame: pd.DataFrame) -> dict[str, str]:
    """Return each column's type in words: ``text``, ``integer``, ``number`` or ``true/false``."""
    types = {}
    for column in frame.columns:
        dtype = frame[column].dtype
        if pd.api.types.is_bool_dtype(dtype):
            types[str(column)] = "true/false"
        elif pd.api.types.is_integer_dtype(dtype):
            types[str(column)] = "integer"
        elif pd.api.types.is_numeric_dtype(dtype):
            types[str(column)] = "number"
        else:
            types[str(column)] = "text"
    return types


def stata_names(columns: list[str], table: str, notes: list[str]) -> dict[str, str]:
    """Map every column to a valid, distinct Stata variable name; note each one that changes."""
    names: dict[str, str] = {}
    taken: set[str] = set()
    for column in columns:
        name = re.sub(r"[^A-Za-z0-9_]", "_", column) or "_"
        if name[0].isdigit() or name in STATA_RESERVED or re.fullmatch(r"str[0-9]+", name):
            name = "_" + name
        name = name[:32]
        number = 1
        while name.lower() in taken:  # Stata names are case-sensitive, but a reader's eye is not
            number += 1
            name = f"{name[: 32 - len(str(number)) - 1]}_{number}"
        taken.add(name.lower())
        names[column] = name
        if name != column:
            notes.append(
                f"{table}: column '{column}' is written as Stata variable '{name}' (Stata names have at "
                "most 32 letters, digits or _); its label keeps the name"
            )
    return names


# Writing ---------------------------------------------------------------------------------


def prepare_folder(folder: Path, source: Path, force: bool) -> None:
    """Refuse ``folder`` unless it is new, empty, or (with ``force``) an earlier export; clear that export."""
    where = str(folder)
    if folder.exists() and not folder.is_dir():
        raise ExportError(where, "is a file, not a folder; choose another --out")
    if not folder.is_dir():
        return
    if folder.resolve() == source.resolve():
        raise ExportError(where, "is the folder being exported; choose another --out")
    names = sorted(p.name for p in folder.iterdir())
    if {MANIFEST, LOCK, "summary.json"} & set(names):
        raise ExportError(where, "is a results or run folder; an export is never written into one (not even "
                          "with --force), so choose another --out")  # fmt: skip
    if names and not force:
        shown = ", ".join("".join(c if c.isprintable() else "?" for c in n) for n in names[:3])
        shown += f" and {len(names) - 3} more" if len(names) > 3 else ""
        raise ExportError(where, f"is not empty ({shown}); add --force to replace an earlier export's files, "
                          "or choose another --out")  # fmt: skip
    for name in names:
        if name in EXPORT_FILES and (folder / name).is_file() and not (folder / name).is_symlink():
            (folder / name).unlink()


def _write_csv(frame: pd.DataFrame, tmp: str) -> None:
    frame.to_csv(tmp, index=False, lineterminator="\n", encoding="utf-8")


def write_stata(
    frame: pd.DataFrame, path: Path, table: str, data: _Source, notes: list[str]
) -> dict[str, str]:
    """Write one table as a Stata 118 ``.dta`` file; return the Stata name of each column."""
    names = stata_names([str(c) for c in frame.columns], table, notes)
    frame = frame.rename(columns=names)
    for column in frame.columns:
        if pd.api.types.is_float_dtype(frame[column].dtype) and np.isinf(frame[column].to_numpy()).any():
            frame[column] = frame[column].replace([np.inf, -np.inf], np.nan)
            notes.append(
                f"{table}: column '{column}' holds infinite values, written as missing (Stata has none)"
            )
    strl = [c for c in frame.columns if frame[c].dtype == object and _longest(frame[c]) > STATA_STR_MAX]
    labels = {new: old[:STATA_LABEL_MAX] for old, new in names.items() if new != old}
    label = f"sco-sim {__version__}: {table} of a {data.kind}"[:STATA_LABEL_MAX]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # pandas warns about what has been dealt with above
        atomic_write(
            path,
            lambda tmp: frame.to_stata(
                tmp, write_index=False, version=118, convert_strl=strl, variable_labels=labels,
                data_label=label, time_stamp=data.stamp.replace(tzinfo=None),
            ),
        )  # fmt: skip
    return names


def _longest(values: pd.Series) -> int:
    """Return the length in UTF-8 bytes of the longest text of a column of str (0 if empty)."""
    return max((len(v.encode("utf-8")) for v in values), default=0)


def _write_columns(folder: Path, types: dict[str, dict[str, str]], names: dict[str, dict[str, str]]) -> Path:
    rows = [
        {
            "table": table,
            "column": column,
            "type": kind,
            **({"stata_name": names[table][column]} if names else {}),
        }
        for table, columns in types.items()
        for column, kind in columns.items()
    ]
    path = inside(folder, "columns.csv", ExportError)
    atomic_write(path, partial(_write_csv, pd.DataFrame(rows)))
    return path


R_CLASSES = {"text": "character", "true/false": "logical"}


def r_script(types: dict[str, dict[str, str]], source: Path) -> str:
    """Return ``load.R``: a function that reads every exported CSV file with its text columns as text."""
    tables = []
    for table, columns in types.items():
        classes = ", ".join(
            f"{json.dumps(c)} = {json.dumps(R_CLASSES[k])}" for c, k in columns.items() if k in R_CLASSES
        )
        tables.append(f"    {table} = read({json.dumps(table)}, c({classes}))")
    body = ",\n".join(tables)
    where = json.dumps(str(source))[1:-1]  # a newline in the path cannot end the comment
    return f"""# The tables of {where}, exported by `sco-sim export --format r` (sco-sim {__version__}).
#
#   source("load.R")             # from this folder, or give its path
#   tables <- load_sco_sim()     # a list of data frames: {", ".join(types)}
#   str(tables${next(iter(types), "model")})
#
# Seeds and run ids are read as text ("character"): a seed is a 63-bit integer, and R's numbers
# (doubles) hold integers exactly only up to 2^53, so a seed read as a number would be rounded.
# Text columns are read as text and true/false columns as logical; numbers are left to R.

.sco_sim_folder <- tryCatch(dirname(sys.frame(1)$ofile), error = function(e) ".")

load_sco_sim <- function(folder = .sco_sim_folder) {{
  read <- function(name, classes) {{
    utils::read.csv(file.path(folder, paste0(name, ".csv")), colClasses = classes,
                    na.strings = character(0), check.names = FALSE, fileEncoding = "UTF-8")
  }}
  list(
{body}
  )
}}
"""
