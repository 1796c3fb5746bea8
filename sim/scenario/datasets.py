"""The data tables shipped with sco-sim, and the loaders that read them.

The tables in ``sim/data/`` are small, tidy extracts of public data sets: one
CSV per source, with the columns ``iso3,year,<value>`` and one row per state and
year that has data. ``scripts/build_data_tables.py`` rebuilds them from the
project's source extracts, and ``sim/data/SOURCES.md`` names each source, its
version and the years it covers. The installed tool reads only these tables.

Every loader takes the ISO3 code and the year it needs, and an optional
``data_dir`` (a folder of tables in the same format, used by tests and for
rebuilt tables). A table that is missing or malformed, or that lacks the state
or the year, raises :class:`sim.errors.DataError` in one line naming the file,
the state and the year. Nothing falls back to a default value.

The arms, trade and territorial-claims tables have their own loaders, in
:mod:`sim.scenario.ties`.
"""

from __future__ import annotations

import csv
import functools
import io
import math
from collections.abc import Iterable
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from sim.errors import DataError
from sim.files import read_text

# alignment(i, pole) = max(0, 1 - |ideal_i - ideal_pole| / ALIGNMENT_SCALE). 3 ideal-point units is
# about the distance between the United States and the SCO members in the 1990s, so 0 means
# "as far apart as the US".
ALIGNMENT_SCALE = 3.0
# CSTO membership is a security tie to this pole.
CSTO_POLE = "RUS"


@dataclass(frozen=True)
class Source:
    """One shipped table: its file in ``sim/data/`` and the column that holds the value."""

    file: str
    column: str
    what: str


SOURCES: dict[str, Source] = {
    "cinc": Source("cinc.csv", "cinc", "COW National Material Capabilities 7.0, CINC"),
    "unga": Source("unga_ideal.csv", "idealpointall", "UN General Assembly ideal points (Bailey et al.)"),
    "vdem": Source("polyarchy.csv", "v2x_polyarchy", "V-Dem v16 electoral democracy index (polyarchy)"),
    "milex": Source("milex.csv", "milex_constant_2022_usd_m", "SIPRI military expenditure"),
    "gdp": Source("gdp.csv", "gdp_current_usd", "World Bank WDI GDP"),
    "csto": Source("csto.csv", "member", "CSTO membership"),
}
# Capability sources: yearly COW CINC, or a state's share of the scenario states' total.
CAPABILITY_SOURCES = {"cinc": "cinc", "milex_share": "milex", "gdp_share": "gdp"}


def shipped_dir() -> Path:
    """Return the folder of the tables installed with the package (``sim/data``)."""
    return Path(str(resources.files("sim") / "data"))


@dataclass(frozen=True)
class Table:
    """One data table, read and checked: a value per (state, year)."""

    path: str
    column: str
    values: dict[tuple[str, int], float]
    years: dict[str, tuple[int, ...]]

    @property
    def first_year(self) -> int:
        """The first year of any state in the table."""
        return min(ys[0] for ys in self.years.values())

    @property
    def last_year(self) -> int:
        """The last year of any state in the table."""
        return max(ys[-1] for ys in self.years.values())

    def value(self, iso3: str, year: int) -> float:
        """Return the value for ``iso3`` in ``year``, or raise a one-line :class:`DataError`."""
        try:
            return self.values[(iso3, year)]
        except KeyError:
            raise DataError(self.path, self.missing(iso3, year), state=iso3, year=year) from None

    def missing(self, iso3: str, year: int) -> str:
        """Describe why the table has no value for ``iso3`` in ``year``."""
        if iso3 not in self.years:
            states = ", ".join(sorted(self.years))
            return f"no {self.column} for {iso3} in {year}: {iso3} is not in this table (states: {states})"
        return f"no {self.column} for {iso3} in {year} (this table has {iso3} in {spans(self.years[iso3])})"


def spans(years: Iterable[int]) -> str:
    """Write years as ranges: ``1991-1998, 2000, 2002-2022``."""
    out: list[str] = []
    run: list[int] = []
    for year in sorted(years):
        if run and year != run[-1] + 1:
            out.append(_span(run))
            run = []
        run.append(year)
    if run:
        out.append(_span(run))
    return ", ".join(out)


def _span(run: list[int]) -> str:
    return str(run[0]) if len(run) == 1 else f"{run[0]}-{run[-1]}"


def table(source: str, data_dir: str | Path | None = None) -> Table:
    """Read the table of ``source`` (a key of :data:`SOURCES`) from ``data_dir`` or the shipped folder.

    Raises:
        DataError: the file is missing, unreadable or malformed (one line naming the file).

    """
    table_source = SOURCES[source]
    # The file's size and time are part of the key, so a rewritten file is read again.
    path, mtime, size = locate(table_source.file, data_dir)
    return _read_table(path, table_source.column, mtime, size)


def locate(file: str, data_dir: str | Path | None = None) -> tuple[str, int, int]:
    """Return a data table's path, modification time and size, or raise a one-line :class:`DataError`.

    The time and size make a cache key under which a rewritten table is read again.
    """
    path = (Path(data_dir) if data_dir is not None else shipped_dir()) / file
    try:
        stat = path.stat()
    except FileNotFoundError:
        raise DataError(
            str(path), "data table not found; rebuild it with scripts/build_data_tables.py"
        ) from None
    except OSError as exc:
        raise DataError(str(path), f"cannot be read ({exc.strerror or exc})") from None
    return str(path), stat.st_mtime_ns, stat.st_size


@functools.lru_cache(maxsize=64)
def _read_table(path: str, column: str, _mtime: int, _size: int) -> Table:
    rows = csv_rows(path)
    expected = f"iso3,year,{column}"
    if not rows:
        raise DataError(path, f"is empty; expected a header {expected} and rows")
    header = [name.strip() for name in rows[0]]
    for name in ("iso3", "year", column):
        if name not in header:
            raise DataError(
                path, f"missing column '{name}' (columns: {', '.join(header)}); expected {expected}"
            )
    at = (header.index("iso3"), header.index("year"), header.index(column))
    values: dict[tuple[str, int], float] = {}
    for line, row in enumerate(rows[1:], start=2):
        if not any(cell.strip() for cell in row):
            continue
        if len(row) != len(header):
            raise DataError(
                path, f"{len(row)} cells, expected {len(header)} ({expected})", key=f"line {line}"
            )
        iso3, year, value = data_row(path, column, line, [row[i].strip() for i in at])
        if (iso3, year) in values:
            raise DataError(path, f"a second row for {iso3} in {year}", key=f"line {line}")
        values[(iso3, year)] = value
    if not values:
        raise DataError(path, f"has no data rows; expected {expected}")
    years: dict[str, list[int]] = {}
    for iso3, year in values:
        years.setdefault(iso3, []).append(year)
    return Table(path, column, values, {iso3: tuple(sorted(ys)) for iso3, ys in years.items()})


def csv_rows(path: str) -> list[list[str]]:
    """Read a data table's rows (:func:`sim.files.read_text`), or raise a one-line :class:`DataError`."""
    text = read_text(Path(path), DataError, "a CSV data table")
    try:
        return list(csv.reader(io.StringIO(text, newline="")))
    except csv.Error as exc:
        raise DataError(path, f"is not valid CSV ({exc})") from None


def data_row(path: str, column: str, line: int, cells: list[str]) -> tuple[str, int, float]:
    """Check one row's ISO3 code, year and value; return them."""
    iso3, year_text, text = cells
    if len(iso3) != 3 or not iso3.isalpha() or not iso3.isupper():
        raise DataError(path, f"expected an ISO3 code in column 'iso3', got {iso3!r}", key=f"line {line}")
    try:
        year = int(year_text)
    except ValueError:
        raise DataError(
            path, f"expected a whole-number year for {iso3}, got {year_text!r}", key=f"line {line}"
        ) from None
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not math.isfinite(value):
        raise DataError(
            path,
            f"expected a number in column '{column}' for {iso3} in {year}, got {text!r}",
            key=f"line {line}",
        )
    return iso3, year, value


def _table_for(source: str, iso3: str, year: int, data_dir: str | Path | None) -> Table:
    """Read a table; a problem with the file also names the state and year that needed it."""
    try:
        return table(source, data_dir)
    except DataError as exc:
        message = f"{exc.message} (needed for {iso3} in {year})"
        raise DataError(exc.path, message, key=exc.key, state=iso3, year=year) from None


def value(source: str, iso3: str, year: int, data_dir: str | Path | None = None) -> float:
    """Return the raw value of ``source`` for ``iso3`` in ``year`` (see :data:`SOURCES`)."""
    return _table_for(source, iso3, year, data_dir).value(iso3, year)


def capability(
    iso3: str,
    years: Iterable[int],
    source: str = "cinc",
    states: Iterable[str] | None = None,
    data_dir: str | Path | None = None,
) -> dict[int, float]:
    """Return a state's capability for each of ``years``.

    Args:
        iso3: The state.
        years: The years wanted. A year after the table's last year (2022 for CINC) gets the
            last year's value; a year before the state's first year is an error.
        source: ``cinc`` (COW CINC, the share of world material capability), ``milex_share``
            or ``gdp_share`` (the share of ``states``' total military spending or GDP).
        states: The states whose total the shares divide by (required for the shares).
        data_dir: A folder of tables to read instead of the shipped ones.

    """
    raw = _capability_source(source)
    years = list(years)
    if not years:
        return {}
    last = _table_for(raw, iso3, years[0], data_dir).last_year
    if source == "cinc":
        return {year: value(raw, iso3, min(year, last), data_dir) for year in years}
    if states is None:
        raise ValueError(f"capability source {source!r} needs the states whose total it divides by")
    group = list(states)
    return {year: share(raw, iso3, group, min(year, last), data_dir) for year in years}


def capability_series(
    iso3: str,
    first: int,
    last: int,
    source: str = "cinc",
    states: Iterable[str] | None = None,
    data_dir: str | Path | None = None,
) -> dict[int, float]:
    """Return a state's capability for a run from ``first`` to ``last``, as {year: value}.

    Only years up to the table's last year are given; the model holds the last value after
    them (or grows it at the scenario's ``capability_growth``). A run that starts after the
    data gets the last data year alone.
    """
    end = _table_for(_capability_source(source), iso3, first, data_dir).last_year
    years = list(range(first, min(last, end) + 1)) or [end]
    return capability(iso3, years, source, states, data_dir)


def _capability_source(source: str) -> str:
    """Return the table a capability source reads (``milex_share`` reads ``milex``)."""
    try:
        return CAPABILITY_SOURCES[source]
    except KeyError:
        raise ValueError(
            f"unknown capability source {source!r}; expected one of {sorted(CAPABILITY_SOURCES)}"
        ) from None


def share(
    source: str, iso3: str, states: Iterable[str], year: int, data_dir: str | Path | None = None
) -> float:
    """Return ``iso3``'s share of the total of ``states`` in ``year`` (``source``: ``milex`` or ``gdp``)."""
    group = list(dict.fromkeys([iso3, *states]))
    total = math.fsum(value(source, code, year, data_dir) for code in group)
    if total <= 0:
        path = str((Path(data_dir) if data_dir is not None else shipped_dir()) / SOURCES[source].file)
        message = f"the total over {', '.join(group)} in {year} is 0; no share for {iso3}"
        raise DataError(path, message, state=iso3, year=year)
    return value(source, iso3, year, data_dir) / total


def ideal_point(iso3: str, year: int, data_dir: str | Path | None = None) -> float:
    """Return a state's UN General Assembly ideal point (``idealpointall``) in ``year``."""
    return value("unga", iso3, year, data_dir)


def alignment(iso3: str, pole: str, year: int, data_dir: str | Path | None = None) -> float:
    """Return the alignment of ``iso3`` with ``pole`` in ``year`` from UNGA ideal points.

    ``max(0, 1 - |ideal_iso3 - ideal_pole| / 3)``: 1 for identical voting, 0 for states
    as far apart as the United States and the SCO members in the 1990s, or further.
    """
    distance = abs(ideal_point(iso3, year, data_dir) - ideal_point(pole, year, data_dir))
    return max(0.0, 1.0 - distance / ALIGNMENT_SCALE)


def polyarchy(iso3: str, year: int, data_dir: str | Path | None = None) -> float:
    """Return a state's V-Dem polyarchy (0-1) in ``year``."""
    return value("vdem", iso3, year, data_dir)


def milex(iso3: str, year: int, data_dir: str | Path | None = None) -> float:
    """Return a state's military expenditure (SIPRI, million constant 2022 US$) in ``year``."""
    return value("milex", iso3, year, data_dir)


def gdp(iso3: str, year: int, data_dir: str | Path | None = None) -> float:
    """Return a state's GDP (World Bank WDI, current US$) in ``year``."""
    return value("gdp", iso3, year, data_dir)


def security_tie(iso3: str, pole: str, year: int, data_dir: str | Path | None = None) -> float:
    """Return a state's security tie to ``pole`` in ``year``: 1.0 for a CSTO member, else 0.0.

    Membership is as at the end of the year. CSTO membership is a tie to Russia only.
    """
    if pole != CSTO_POLE:
        raise ValueError(f"CSTO membership is a security tie to {CSTO_POLE}, not to {pole}")
    member = value("csto", iso3, year, data_dir)
    if member not in (0.0, 1.0):
        path = _table_for("csto", iso3, year, data_dir).path
        raise DataError(
            path, f"expected member = 0 or 1 for {iso3} in {year}, got {member:g}", state=iso3, year=year
        )
    return member
