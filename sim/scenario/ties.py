"""Ties of states to the poles, and territorial claims: the arms, trade and claims tables.

Three tables shipped in ``sim/data/`` beside those of :mod:`sim.scenario.datasets`, rebuilt by
``scripts/build_data_tables.py`` and described in ``sim/data/SOURCES.md``:

- ``arms.csv``: SIPRI trend-indicator values (TIV) each state received from Russia, from China
  and from all suppliers, per year (1992-2021).
- ``trade.csv``: each state's merchandise trade with Russia, China and the United States
  (IMF DOTS, 1992-2020).
- ``claims.csv``: ICOW territorial claims between the states, with the settlement years to 2017.

Like the other loaders, each takes an optional ``data_dir`` (a folder of tables in the same
format) and raises :class:`sim.errors.DataError` in one line naming the file, and the state and
year asked for, when a table is missing or malformed. A state that imported nothing or has no
trade figure is not an error: the share loaders return None.
"""

from __future__ import annotations

import functools
import itertools
import math
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from sim.errors import DataError
from sim.scenario.datasets import csv_rows, data_row, locate

# Arms deliveries are split by these suppliers; trade is given with these partners.
ARMS_POLES = ("RUS", "CHN")
TRADE_PARTNERS = ("RUS", "CHN", "USA")
# ICOW's salience index runs from 0 to this.
MAX_SALIENCE = 12.0


@dataclass(frozen=True)
class TieSource:
    """A shipped table of ties (arms, trade, claims): its file in ``sim/data/`` and its columns."""

    file: str
    columns: tuple[str, ...]
    what: str


TIE_TABLES: dict[str, TieSource] = {
    "arms": TieSource(
        "arms.csv",
        (*tuple(f"tiv_{p.lower()}" for p in ARMS_POLES), "tiv_total"),
        "SIPRI arms transfers (TIV received from RUS, from CHN, from all suppliers)",
    ),
    "trade": TieSource(
        "trade.csv",
        tuple(f"trade_{p.lower()}" for p in TRADE_PARTNERS),
        "IMF DOTS merchandise trade with RUS, CHN and USA",
    ),
    "claims": TieSource(
        "claims.csv",
        ("iso3_a", "iso3_b", "claim", "start_year", "end_year", "salience", "source", "note"),
        "ICOW territorial claims, with settlement years to 2017",
    ),
}


@dataclass(frozen=True)
class TieTable:
    """A table of arms or trade ties, read and checked: the cells of ``columns`` per (state, year).

    A cell is ``None`` where the table leaves it empty (no figure, or one that does not apply).
    """

    path: str
    columns: tuple[str, ...]
    values: dict[tuple[str, int], tuple[float | None, ...]]

    @property
    def last_year(self) -> int:
        """The last year of any state in the table."""
        return max(year for _, year in self.values)


@dataclass(frozen=True)
class Claim:
    """One directed ICOW claim-dyad: ``challenger`` claims territory held by ``target``."""

    challenger: str
    target: str
    start: int
    end: int | None
    salience: float


def tie_table(key: str, data_dir: str | Path | None = None) -> TieTable:
    """Read the arms (``arms``) or trade (``trade``) table from ``data_dir`` or the shipped folder."""
    source = TIE_TABLES[key]
    # Trade cells may be empty (no figure, or a state's trade with itself); arms cells may not.
    return _read_ties(*locate(source.file, data_dir), source.columns, key == "trade")


def _ties_for(key: str, iso3: str | None, year: int, data_dir: str | Path | None) -> TieTable:
    """Read a ties table; a problem with the file also names the state and year that needed it."""
    try:
        return tie_table(key, data_dir)
    except DataError as exc:
        needed = f"{iso3} in {year}" if iso3 else str(year)
        raise DataError(
            exc.path, f"{exc.message} (needed for {needed})", key=exc.key, state=iso3, year=year
        ) from None


def _header(path: str, rows: list[list[str]], wanted: tuple[str, ...]) -> list[str]:
    expected = ",".join(wanted)
    if not rows:
        raise DataError(path, f"is empty; expected a header {expected} and rows")
    header = [name.strip() for name in rows[0]]
    for name in wanted:
        if name not in header:
            raise DataError(
                path, f"missing column '{name}' (columns: {', '.join(header)}); expected {expected}"
            )
    return header


def _cells(path: str, header: list[str], rows: list[list[str]]) -> Iterator[tuple[int, dict[str, str]]]:
    """Yield (line, {column: stripped cell}) for each non-blank data row, checking its length."""
    for line, row in enumerate(rows[1:], start=2):
        if not any(cell.strip() for cell in row):
            continue
        if len(row) != len(header):
            raise DataError(path, f"{len(row)} cells, expected {len(header)}", key=f"line {line}")
        yield line, {name: cell.strip() for name, cell in zip(header, row, strict=True)}


@functools.lru_cache(maxsize=16)
def _read_ties(path: str, _mtime: int, _size: int, columns: tuple[str, ...], empty_ok: bool) -> TieTable:
    rows = csv_rows(path)
    header = _header(path, rows, ("iso3", "year", *columns))
    values: dict[tuple[str, int], tuple[float | None, ...]] = {}
    for line, cell in _cells(path, header, rows):
        iso3, year, _ = data_row(path, columns[0], line, [cell["iso3"], cell["year"], "0"])
        numbers: list[float | None] = []
        for column in columns:
            text = cell[column]
            number = _number(text)
            if number is None and not (empty_ok and text == ""):
                raise DataError(
                    path,
                    f"expected a number in column '{column}' for {iso3} in {year}, got {text!r}",
                    key=f"line {line}",
                )
            if number is not None and number < 0:
                raise DataError(path, f"negative {column} for {iso3} in {year}: {text}", key=f"line {line}")
            numbers.append(number)
        if (iso3, year) in values:
            raise DataError(path, f"a second row for {iso3} in {year}", key=f"line {line}")
        total = numbers[-1]
        parts = math.fsum(n for n in numbers[:-1] if n is not None)
        if "tiv_total" in columns and total is not None and parts > total * (1 + 1e-9):
            raise DataError(
                path,
                f"tiv_total for {iso3} in {year} is less than the TIV from the poles",
                key=f"line {line}",
            )
        values[(iso3, year)] = tuple(numbers)
    if not values:
        raise DataError(path, f"has no data rows; expected iso3,year,{','.join(columns)}")
    return TieTable(path, columns, values)


def _number(text: str) -> float | None:
    try:
        value = float(text)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def _pole_columns(data: TieTable, poles: Iterable[str], known: tuple[str, ...], iso3: str, year: int) -> dict:
    """Return {pole: column index}; a pole the table does not split by is a :class:`DataError`."""
    out = {}
    for pole in poles:
        if pole not in known:
            message = (
                f"no column for pole {pole!r} (needed for {iso3} in {year}); poles here: {', '.join(known)}"
            )
            raise DataError(data.path, message, state=iso3, year=year)
        out[pole] = known.index(pole)
    return out


def arms_shares(
    iso3: str, year: int, poles: Iterable[str], window: int = 5, data_dir: str | Path | None = None
) -> dict[str, float] | None:
    """Return the share of a state's arms imports received from each pole over a window of years.

    Sums SIPRI TIV over the years ``year - window + 1`` to ``year`` (the years of the window the
    table has) and divides what came from each pole by what came from all suppliers.

    Args:
        iso3: The receiving state.
        year: The last year of the window.
        poles: Suppliers among RUS and CHN (the table splits deliveries by these only).
        window: The number of years summed (at least 1).
        data_dir: A folder of tables to read instead of the shipped ones.

    Returns:
        {pole: share} (0-1), or None when the state received nothing recorded in the window
        (or the table has no row for it there): many states import nothing in a year.

    Raises:
        DataError: the table is missing or malformed, or a pole is not RUS or CHN.

    """
    if window < 1:
        raise ValueError(f"window must be at least 1 year, got {window}")
    data = _ties_for("arms", iso3, year, data_dir)
    columns = _pole_columns(data, poles, ARMS_POLES, iso3, year)
    return _arms_shares(data, iso3, year, columns, window)


def _arms_shares(data: TieTable, iso3: str, year: int, columns: dict, window: int) -> dict[str, float] | None:
    rows = [data.values[(iso3, y)] for y in range(year - window + 1, year + 1) if (iso3, y) in data.values]
    total = math.fsum(row[-1] for row in rows)  # type: ignore[misc]
    if total <= 0:
        return None
    return {pole: math.fsum(row[i] for row in rows) / total for pole, i in columns.items()}  # type: ignore[misc]


def trade_shares(
    iso3: str, year: int, poles: Iterable[str], data_dir: str | Path | None = None
) -> dict[str, float] | None:
    """Return a state's trade with each pole as a share of its trade with RUS, CHN and USA.

    Trade is exports plus imports of merchandise (IMF DOTS, million US$). The divisor is the
    state's trade with all three of RUS, CHN and USA in ``year`` (for USA itself, with RUS and CHN).

    Args:
        iso3: The state.
        year: The year.
        poles: Partners among RUS, CHN and USA.
        data_dir: A folder of tables to read instead of the shipped ones.

    Returns:
        {pole: share} (0-1), or None when the table has no row for the state in ``year``, when
        one of the figures the divisor needs is missing, or when the state is itself one of
        ``poles`` (its share with itself is not defined).

    Raises:
        DataError: the table is missing or malformed, or a pole is not RUS, CHN or USA.

    """
    poles = list(poles)
    data = _ties_for("trade", iso3, year, data_dir)
    _pole_columns(data, poles, TRADE_PARTNERS, iso3, year)
    if iso3 in poles:
        return None
    return _trade_shares(data, iso3, year, poles)


def _trade_shares(data: TieTable, iso3: str, year: int, poles: list[str]) -> dict[str, float] | None:
    """Shares with ``poles`` other than ``iso3``, over the trade with the partners other than ``iso3``."""
    row = data.values.get((iso3, year))
    if row is None:
        return None
    cells = {p: row[i] for i, p in enumerate(TRADE_PARTNERS) if p != iso3}
    if any(v is None for v in cells.values()):
        return None
    total = math.fsum(cells.values())  # type: ignore[arg-type]
    if total <= 0:
        return None
    return {pole: cells[pole] / total for pole in poles if pole != iso3}  # type: ignore[operator]


def yearly_ties(
    codes: Iterable[str],
    poles: Iterable[str],
    years: Iterable[int],
    data_dir: str | Path | None = None,
    window: int = 5,
) -> np.ndarray:
    """Return each state's tie to each pole per year from arms and trade data.

    For state ``i``, pole ``p`` and year ``t`` the tie is the mean of the parts that exist among
    (a) :func:`arms_shares` of ``i`` from ``p`` over the ``window`` years to ``t`` and (b)
    :func:`trade_shares` of ``i`` with ``p`` in ``t``; NaN when neither exists, and NaN for
    every year after the last year both tables cover (2020: trade ends then, arms in 2021), so
    that a series does not switch from two parts to one at the end. Each state-pole series is
    then filled over ``years``: a NaN takes the last earlier value (so years after the data end
    hold the value of the last year with data), and NaNs before the first value take the first
    value. A state with no part in any of ``years`` stays NaN throughout: the caller decides
    what that means.

    A pole's own row has a tie of 1.0 to itself; its tie to another pole is built as for any
    state, with its trade share taken over its trade with the other two of RUS, CHN and USA (so
    China's tie to Russia is the mean of China's arms share from Russia and its trade with Russia
    over its trade with Russia and the United States).

    Args:
        codes: The states (ISO3).
        poles: The poles, among RUS and CHN (the arms table splits by these only).
        years: The years, in increasing order.
        data_dir: A folder of tables to read instead of the shipped ones.
        window: The number of years the arms share sums over.

    Returns:
        An array of shape (len(years), len(codes), len(poles)).

    Raises:
        DataError: a table is missing or malformed, or a pole is not RUS or CHN.

    """
    codes, poles, years = list(codes), list(poles), list(years)
    if any(b <= a for a, b in itertools.pairwise(years)):
        raise ValueError(f"years must be in increasing order, got {years}")
    out = np.full((len(years), len(codes), len(poles)), np.nan)
    if not years:
        return out
    arms = _ties_for("arms", None, years[0], data_dir)
    trade = _ties_for("trade", None, years[0], data_dir)
    _pole_columns(arms, poles, ARMS_POLES, codes[0] if codes else "", years[0])
    _pole_columns(trade, poles, TRADE_PARTNERS, codes[0] if codes else "", years[0])
    for j, code in enumerate(codes):
        out[:, j, :] = _state_ties(arms, trade, code, poles, years, window)
    return out


def _state_ties(
    arms: TieTable, trade: TieTable, code: str, poles: list[str], years: list[int], window: int
) -> np.ndarray:
    """One state's filled ties, shape (len(years), len(poles)); see :func:`yearly_ties`."""
    out = np.full((len(years), len(poles)), np.nan)
    columns = {pole: ARMS_POLES.index(pole) for pole in poles}
    # After the last year both tables cover (2020: trade ends then, arms in 2021) the parts are
    # not used, so that the series does not switch from two parts to one; the fill holds the value.
    end = min(arms.last_year, trade.last_year)
    for t, year in enumerate(years):
        if year > end:
            continue
        parts = [_arms_shares(arms, code, year, columns, window), _trade_shares(trade, code, year, poles)]
        for k, pole in enumerate(poles):
            found = [part[pole] for part in parts if part is not None and pole in part]
            if found:
                out[t, k] = math.fsum(found) / len(found)
    for k, pole in enumerate(poles):
        out[:, k] = 1.0 if code == pole else _fill(out[:, k])
    return out


def _fill(series: np.ndarray) -> np.ndarray:
    """Carry the last value forward over NaNs, then the first value backward."""
    filled = series.copy()
    last = math.nan
    for t, value in enumerate(filled):
        if math.isnan(value):
            filled[t] = last
        else:
            last = value
    known = ~np.isnan(filled)
    if known.any():
        filled[: int(np.argmax(known))] = filled[int(np.argmax(known))]
    return filled


def claims(data_dir: str | Path | None = None) -> tuple[Claim, ...]:
    """Read the territorial claims table (``claims.csv``) from ``data_dir`` or the shipped folder."""
    return _read_claims(*locate(TIE_TABLES["claims"].file, data_dir))


@functools.lru_cache(maxsize=8)
def _read_claims(path: str, _mtime: int, _size: int) -> tuple[Claim, ...]:
    rows = csv_rows(path)
    header = _header(path, rows, ("iso3_a", "iso3_b", "start_year", "end_year", "salience"))
    out = []
    for line, cell in _cells(path, header, rows):
        pair = []
        for column in ("iso3_a", "iso3_b"):
            code = cell[column]
            if len(code) != 3 or not code.isalpha() or not code.isupper():
                raise DataError(
                    path, f"expected an ISO3 code in column '{column}', got {code!r}", key=f"line {line}"
                )
            pair.append(code)
        what = f"the claim of {pair[0]} against {pair[1]}"
        years: list[int | None] = []
        for column in ("start_year", "end_year"):
            text = cell[column]
            if column == "end_year" and text == "":
                years.append(None)
                continue
            try:
                years.append(int(text))
            except ValueError:
                raise DataError(
                    path, f"expected a whole-number {column} for {what}, got {text!r}", key=f"line {line}"
                ) from None
        start, end = years
        if end is not None and end < start:  # type: ignore[operator]
            raise DataError(path, f"end_year {end} before start_year {start} for {what}", key=f"line {line}")
        salience = _number(cell["salience"])
        if salience is None or not 0 <= salience <= MAX_SALIENCE:
            raise DataError(
                path,
                f"expected a salience from 0 to {MAX_SALIENCE:g} for {what}, got {cell['salience']!r}",
                key=f"line {line}",
            )
        out.append(Claim(pair[0], pair[1], start, end, salience))  # type: ignore[arg-type]
    if not out:
        raise DataError(path, "has no data rows; expected one row per claim-dyad")
    return tuple(out)


def active_claims(year: int, data_dir: str | Path | None = None) -> dict[tuple[str, str], float]:
    """Return the territorial claims active in ``year``, by pair of states.

    A claim is active when ``start_year <= year`` and its ``end_year`` is empty or not before
    ``year``. ICOW's data end in 2001; a claim it leaves open stays active after 2001 unless
    ``claims.csv`` gives the year it was settled (settlements are written in up to 2017 only).

    Returns:
        {(a, b): salience}, keyed by the two states in alphabetical order, whichever claims
        against the other; the value is the highest ICOW salience of the pair's active claims
        divided by 12 (0-1).

    """
    try:
        table = claims(data_dir)
    except DataError as exc:
        raise DataError(exc.path, f"{exc.message} (needed for {year})", key=exc.key, year=year) from None
    out: dict[tuple[str, str], float] = {}
    for claim in table:
        if claim.start <= year and (claim.end is None or year <= claim.end):
            a, b = sorted((claim.challenger, claim.target))
            out[(a, b)] = max(out.get((a, b), 0.0), claim.salience / MAX_SALIENCE)
    return out
