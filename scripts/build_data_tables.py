"""Rebuild the data tables shipped in sim/data/ (and their SOURCES.md) from the source extracts.

Usage:
    python scripts/build_data_tables.py [EXTRACTS_DIR] [--out DIR] [--check]

EXTRACTS_DIR holds the extracts described in ../shared/data/README.md (default:
../shared/data/sco next to this repository); DIR is where the tables go (default: sim/data).
With --check nothing is written: the tables are built in memory and compared with those in
DIR, and the exit status is 1 if any differs.

The output is deterministic: rows sorted by state and year, numbers written as Python's
shortest round-trip repr of the source value, so the same extracts always give the same bytes.
A row without a value in the source (an empty cell, SIPRI's "..." or "xxx") is left out:
in the tables, a missing row means "no data", and the loaders say so rather than guess.
"""

from __future__ import annotations

import argparse
import csv
import io
import sys
from collections.abc import Iterable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sim.scenario.datasets import SOURCES, spans  # noqa: E402

EXTRACTS = {
    "cinc": "nmc_v7_abridged_sco_1990_2022.csv",
    "unga": "unga_idealpoints_BSV_July2025_sco.csv",
    "vdem": "democracy_isard_cw_democracy_sco_1990_2025.csv",
    "milex": "sipri_milex_2023release_sco_1990_2023.csv",
    "gdp": "wdi_gdp_current_usd_sco_1990_2023.csv",
    "csto": "csto_membership.csv",
}
NO_DATA = {"", "...", "xxx"}
SIPRI_SERIES = "Constant (2022) US$"

# What SOURCES.md says about each table, after the figures computed from the table itself.
NOTES = {
    "cinc": (
        "Correlates of War National Material Capabilities 7.0 (Singer, Bremer & Stuckey 1972; "
        "Singer 1987), via the R package peacesciencer; free with citation",
        "`cinc`, the state's share of world material capability (0-1), as in the source; years "
        'where the source has no value (-9) are left out. Scenario use: `capability = "cinc"`, '
        "yearly, held at the last year's value after it",
    ),
    "unga": (
        "Bailey, Strezhnev & Voeten (2017), UN General Assembly voting ideal points, July 2025 "
        "release, Harvard Dataverse",
        "`idealpointall` as in the source (years written `1996.0` there are whole years here); "
        "2024, where the source leaves `idealpointall` empty, is left out. Scenario use: "
        '`alignment = { source = "unga", year = Y }`, alignment = max(0, 1 - |ideal_i - '
        "ideal_pole| / 3)",
    ),
    "vdem": (
        "V-Dem v16 (CC BY-SA 4.0), via the R package isard",
        '`v2x_polyarchy` (0-1) as in the source. Scenario use: `polyarchy = { source = "vdem", year = Y }`',
    ),
    "milex": (
        "SIPRI Military Expenditure Database (attribution required), from the long-format extract "
        f"`{EXTRACTS['milex']}`",
        f"the series `{SIPRI_SERIES}`, in million US$ at constant 2022 prices; `...` (no data) "
        "and `xxx` (state did not exist) are left out. Scenario use: `capability = "
        "\"milex_share\"`, the state's share of the scenario states' total",
    ),
    "gdp": (
        "World Bank World Development Indicators, NY.GDP.MKTP.CD (CC BY 4.0)",
        "GDP in current US$, turned from one column per year into one row per year; empty cells "
        'are left out. Scenario use: `capability = "gdp_share"`, the state\'s share of the '
        "scenario states' total",
    ),
    "csto": (
        "CSTO membership changes compiled from news agency archives (one URL per row of the extract)",
        "`member` = 1 if the state is party to the Collective Security Treaty at the end of the "
        "year, else 0, for every state of the extracts, from the first to the last dated change. "
        "`verified` = 0 where the status rests on a row the extract marks as not verified "
        "(Belarus, Azerbaijan and Georgia joining in 1993; Armenia's 2024 freeze, taken as "
        'leaving). Scenario use: `security_ties = { source = "csto", year = Y }`, a tie of '
        "1.0 to Russia for members",
    ),
}


class BuildError(Exception):
    """An extract is missing or does not have the expected shape (one line: file, line, problem)."""


def read_rows(path: Path, columns: Iterable[str]) -> list[tuple[int, dict[str, str]]]:
    """Read a CSV extract; return (line number, row) pairs, after checking its columns."""
    try:
        with open(path, encoding="utf-8", newline="") as handle:
            reader = csv.DictReader(handle)
            rows = [(reader.line_num, row) for row in reader]
            header = reader.fieldnames or []
    except FileNotFoundError:
        raise BuildError(f"{path}: extract not found") from None
    missing = [c for c in columns if c not in header]
    if missing:
        raise BuildError(f"{path}: missing column(s) {', '.join(missing)} (columns: {', '.join(header)})")
    return rows


def number(text: str, path: Path, line: int, what: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise BuildError(f"{path}: line {line}: expected a number for {what}, got {text!r}") from None


def year_of(text: str, path: Path, line: int) -> int:
    year = number(text, path, line, "year")
    if year != int(year):
        raise BuildError(f"{path}: line {line}: expected a whole year, got {text!r}")
    return int(year)


def long_table(path: Path, state: str, year: str, column: str, keep=lambda _row: True) -> dict:
    """Rows of a long-format extract as {(iso3, year): value}, skipping rows without a value."""
    out: dict[tuple[str, int], float] = {}
    for line, row in read_rows(path, (state, year, column)):
        if not keep(row) or row[column].strip() in NO_DATA:
            continue
        iso3 = row[state].strip()
        if not iso3:
            raise BuildError(f"{path}: line {line}: a value without a state code")
        key = (iso3, year_of(row[year], path, line))
        if key in out:
            raise BuildError(f"{path}: line {line}: a second row for {key[0]} in {key[1]}")
        out[key] = number(row[column], path, line, f"{iso3} {column}")
    return out


def wide_table(path: Path) -> dict:
    """World Bank wide format (one column per year) as {(iso3, year): value}."""
    rows = read_rows(path, ("Country Code",))
    out: dict[tuple[str, int], float] = {}
    for line, row in rows:
        iso3 = row["Country Code"].strip()
        for column, text in row.items():
            if column and column.isdigit() and text is not None and text.strip() not in NO_DATA:
                if (iso3, int(column)) in out:
                    raise BuildError(f"{path}: line {line}: a second row for {iso3}")
                out[(iso3, int(column))] = number(text, path, line, f"{iso3} {column}")
    return out


def csto_table(path: Path, states: Iterable[str]) -> dict:
    """CSTO membership at the end of each year, from the dated changes of the extract.

    Returns {(iso3, year): (member, verified)}. A row names one or more states (`;`-separated)
    and an event: signed / acceded / restored (joins), left / suspended / freeze (leaves), or
    "Members after ..." (the full list at that date, checked against the changes before it).
    """
    changes = []
    for line, row in read_rows(path, ("iso3", "event", "date")):
        event = row["event"].strip()
        text = event.lower()
        if text.startswith("members after"):
            action = "roster"
        elif any(word in text for word in ("signed", "acceded", "restored")):
            action = "join"
        elif any(word in text for word in ("left", "suspen", "freeze")):
            action = "leave"
        else:
            raise BuildError(f"{path}: line {line}: cannot tell whether {event!r} is a joining or a leaving")
        date = row["date"].strip()
        year = year_of(date[:4], path, line)
        codes = [c.strip() for c in row["iso3"].split(";") if c.strip()]
        changes.append((date, line, year, action, codes, "not verified" not in text))
    changes.sort(key=lambda c: (c[0], c[1]))
    universe = sorted(set(states) | {code for c in changes for code in c[4]})
    status = {code: (0, 1) for code in universe}
    first, last = changes[0][2], changes[-1][2]
    out: dict[tuple[str, int], tuple[int, int]] = {}
    pending = list(changes)
    for year in range(first, last + 1):
        while pending and pending[0][2] == year:
            _, line, _, action, codes, verified = pending.pop(0)
            if action == "roster":
                members = {code for code, (member, _) in status.items() if member}
                if members != set(codes):
                    raise BuildError(
                        f"{path}: line {line}: the list {sorted(codes)} does not match the members "
                        f"after the changes before it, {sorted(members)}"
                    )
                for code in codes:
                    status[code] = (1, 1)
            else:
                for code in codes:
                    status[code] = (1 if action == "join" else 0, int(verified))
        for code in universe:
            out[(code, year)] = status[code]
    return out


def fmt(value: float) -> str:
    """Write a number in its shortest round-trip form."""
    return repr(float(value))


def render(column: str, rows: dict, extra: str | None = None) -> str:
    """Write a table as CSV text (rows sorted by state and year, \\n line ends)."""
    out = io.StringIO()
    out.write(f"iso3,year,{column}" + (f",{extra}" if extra else "") + "\n")
    for (iso3, year), value in sorted(rows.items()):
        cells = [str(v) for v in value] if isinstance(value, tuple) else [fmt(value)]
        out.write(f"{iso3},{year}," + ",".join(cells) + "\n")
    return out.getvalue()


def build_tables(extracts: Path) -> dict[str, str]:
    """Build every table from the extracts in ``extracts``; return {file name: CSV text}."""
    extracts = Path(extracts)
    path = {key: extracts / name for key, name in EXTRACTS.items()}
    tables = {
        "cinc": long_table(path["cinc"], "iso3", "year", "cinc"),
        "unga": long_table(path["unga"], "iso3c", "year", "idealpointall"),
        "vdem": long_table(path["vdem"], "iso3", "year", "v2x_polyarchy"),
        "milex": long_table(
            path["milex"], "iso3", "year", "value", keep=lambda row: row["series"] == SIPRI_SERIES
        ),
        "gdp": wide_table(path["gdp"]),
    }
    states = {iso3 for iso3, _ in tables["cinc"]}
    tables["csto"] = csto_table(path["csto"], states)
    texts = {}
    for key, rows in tables.items():
        spec = SOURCES[key]
        texts[spec.file] = render(spec.column, rows, extra="verified" if key == "csto" else None)
    texts["SOURCES.md"] = sources_md(tables)
    return texts


def sources_md(tables: dict[str, dict]) -> str:
    lines = [
        "# Data tables shipped with sco-sim",
        "",
        "Small tables derived from public data sets, read by `sim/scenario/datasets.py` when a scenario",
        "has a `[data]` table (docs/scenarios.md). Each has the columns `iso3,year,<value>`, one",
        "row per state and year with data, sorted by state and year. Cite the original source",
        "wherever a figure is used.",
        "",
        "Rebuilt, byte for byte, from the extracts described in `../shared/data/README.md` by",
        "",
        "    python scripts/build_data_tables.py ../shared/data/sco --out sim/data",
        "",
        "Do not edit these files by hand: a test checks that the rebuild reproduces them.",
        "",
        "| file | value | states | years | rows | built from |",
        "|------|-------|--------|-------|------|------------|",
    ]
    for key, rows in tables.items():
        spec = SOURCES[key]
        states = sorted({iso3 for iso3, _ in rows})
        years = spans({year for _, year in rows})
        lines.append(
            f"| `{spec.file}` | `{spec.column}` | {len(states)} | {years} | {len(rows)} | `{EXTRACTS[key]}` |"
        )
    lines += [
        "",
        "States: " + ", ".join(sorted({iso3 for rows in tables.values() for iso3, _ in rows})) + ".",
    ]
    for key, (origin, how) in NOTES.items():
        spec = SOURCES[key]
        lines += ["", f"## `{spec.file}`", "", f"Source: {origin}.", "", f"Value: {how}."]
        gaps = _gaps(tables[key])
        if gaps:
            lines += ["", "Years missing inside a state's range: " + "; ".join(gaps) + "."]
    return "\n".join(lines) + "\n"


def _gaps(rows: dict) -> list[str]:
    by_state: dict[str, list[int]] = {}
    for iso3, year in rows:
        by_state.setdefault(iso3, []).append(year)
    out = []
    for iso3, years in sorted(by_state.items()):
        missing = sorted(set(range(min(years), max(years) + 1)) - set(years))
        if missing:
            out.append(f"{iso3} {spans(missing)}")
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("extracts", nargs="?", default=str(ROOT.parent / "shared" / "data" / "sco"))
    parser.add_argument("--out", default=str(ROOT / "sim" / "data"))
    parser.add_argument("--check", action="store_true", help="compare with --out instead of writing")
    args = parser.parse_args(argv)
    try:
        texts = build_tables(Path(args.extracts))
    except BuildError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    out = Path(args.out)
    if args.check:
        differ = [name for name, text in texts.items() if _read(out / name) != text]
        for name in differ:
            print(f"differs: {out / name}")
        return 1 if differ else 0
    out.mkdir(parents=True, exist_ok=True)
    for name, text in texts.items():
        (out / name).write_bytes(text.encode("utf-8"))
        print(f"wrote {out / name}")
    return 0


def _read(path: Path) -> str | None:
    try:
        return path.read_bytes().decode("utf-8")
    except FileNotFoundError:
        return None


if __name__ == "__main__":
    sys.exit(main())
