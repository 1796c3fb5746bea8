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
import math
import sys
from collections.abc import Iterable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sim.scenario.datasets import SOURCES, spans  # noqa: E402
from sim.scenario.ties import ARMS_POLES, TIE_TABLES, TRADE_PARTNERS  # noqa: E402

EXTRACTS = {
    "cinc": "nmc_v7_abridged_sco_1990_2022.csv",
    "unga": "unga_idealpoints_BSV_July2025_sco.csv",
    "vdem": "democracy_isard_cw_democracy_sco_1990_2025.csv",
    "milex": "sipri_milex_2023release_sco_1990_2023.csv",
    "gdp": "wdi_gdp_current_usd_sco_1990_2023.csv",
    "csto": "csto_membership.csv",
    "arms": "sipri_arms_transfers_tiv.csv",
    "trade": "dyadic_trade.csv",
    "claims": "territorial_claims.csv",
}
# The hand-written settlement years of the ICOW claims still open in 2001 (read with the extracts).
SETTLEMENTS = ROOT / "scripts" / "claim_settlements.csv"
# The 19 states of the arms, trade and claims extracts (../shared/data/sco/README.md). Arms rows
# whose recipient is one of them are the extract's part 1; the others are Russian and Chinese
# exports to the rest of the world (part 2), not used here.
STATES_19 = frozenset("RUS CHN KAZ KGZ TJK UZB IND PAK IRN BLR MNG AFG TUR LKA AZE ARM KHM NPL USA".split())
ARMS_YEARS = (1992, 2021)
TRADE_YEARS = (1992, 2020)
# The model is fitted to the record up to this year: no settlement after it is written in.
SETTLEMENT_HORIZON = 2017
ICOW_CITATION = (
    "ICOW Territorial Claims provisional data v1.01, claim-year file ICOWprovyr101.csv "
    "(Frederick, Hensel & Macaulay 2017)"
)
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


def arms_table(path: Path) -> dict:
    """SIPRI TIV received by each of the 19 states: {(iso3, year): (from RUS, from CHN, total)}.

    Part 1 of the extract only (recipient one of the 19 states). The total adds every supplier
    row of the recipient and year, ``OTH`` and ``USA`` included; a supplier without a row
    delivered nothing that SIPRI recorded (0). Years outside 1992-2021 are an error.
    """
    by_key: dict[tuple[str, int], dict[str, float]] = {}
    for line, row in read_rows(path, ("supplier_iso3", "recipient_iso3", "year", "tiv_musd")):
        recipient, supplier = row["recipient_iso3"].strip(), row["supplier_iso3"].strip()
        if recipient not in STATES_19:
            continue
        year = year_of(row["year"], path, line)
        if not ARMS_YEARS[0] <= year <= ARMS_YEARS[1]:
            raise BuildError(f"{path}: line {line}: year {year} outside {ARMS_YEARS[0]}-{ARMS_YEARS[1]}")
        suppliers = by_key.setdefault((recipient, year), {})
        if supplier in suppliers:
            raise BuildError(f"{path}: line {line}: a second row for {supplier} to {recipient} in {year}")
        suppliers[supplier] = number(row["tiv_musd"], path, line, f"{supplier} to {recipient} tiv_musd")
    out = {}
    for key, suppliers in by_key.items():
        total = math.fsum(suppliers.values())
        out[key] = (*tuple(fmt(suppliers.get(pole, 0.0)) for pole in ARMS_POLES), fmt(total))
    return out


def trade_table(path: Path) -> dict:
    """Each state's trade with RUS, CHN and USA: {(iso3, year): (with RUS, with CHN, with USA)}.

    A pair's trade is a's exports to b plus b's exports to a (FOB, million US$, rounded to 6
    decimals, the most the extract has); a missing export figure is replaced by the importer's
    mirror CIF figure. A cell is empty where a figure is
    still missing or does not apply (a state's trade with itself). Rows without any value are
    left out.
    """
    columns = ("iso3_a", "iso3_b", "year", "flow_a_to_b_musd", "flow_b_to_a_musd")
    mirrors = ("b_imports_from_a_cif_musd", "a_imports_from_b_cif_musd")
    totals: dict[tuple[str, int], dict[str, float]] = {}
    for line, row in read_rows(path, columns + mirrors):
        a, b = row["iso3_a"].strip(), row["iso3_b"].strip()
        if b not in TRADE_PARTNERS or a == b:
            raise BuildError(
                f"{path}: line {line}: iso3_b must be one of {', '.join(TRADE_PARTNERS)}, not {a}-{b}"
            )
        year = year_of(row["year"], path, line)
        if not TRADE_YEARS[0] <= year <= TRADE_YEARS[1]:
            raise BuildError(f"{path}: line {line}: year {year} outside {TRADE_YEARS[0]}-{TRADE_YEARS[1]}")
        flows = []
        for flow, mirror in zip(columns[3:], mirrors, strict=True):
            text = row[flow].strip() or row[mirror].strip()
            flows.append(number(text, path, line, f"{a}-{b} {flow}") if text else None)
        if None in flows:
            continue
        # The extract has at most 6 decimals: rounding drops the float noise of the sum.
        total = round(math.fsum(flows), 6)  # type: ignore[arg-type]
        for state, partner in ((a, b), (b, a)):
            cells = totals.setdefault((state, year), {})
            if partner in cells:
                raise BuildError(f"{path}: line {line}: a second row for {a}-{b} in {year}")
            cells[partner] = total
    return {
        key: tuple(fmt(cells[p]) if p in cells else "" for p in TRADE_PARTNERS)
        for key, cells in totals.items()
    }


def claims_table(path: Path, settlements: Path) -> list[tuple[str, ...]]:
    """ICOW claim-dyads with the settlement years of ``settlements``; rows of claims.csv.

    Every claim-dyad ICOW leaves open in 2001 must have a row in ``settlements``: an end year
    with its source, or no end year and a note saying why (settled only after 2017, or no
    settlement). The end year is the year the settling agreement was signed, as ICOW dates the
    endings it codes (China's claims against Kazakhstan, 1998, and Kyrgyzstan, 1999), and is
    written only for an agreement in force by 2017; an end year after 2017 is refused.
    """
    columns = ("iso3_a", "iso3_b", "claim", "start_year", "end_year", "salience")
    claims = {}
    for line, row in read_rows(path, columns):
        dyad = _claim_dyad(row["claim"], path, line)
        if dyad in claims:
            raise BuildError(f"{path}: line {line}: a second row for claim-dyad {dyad}")
        end = row["end_year"].strip()
        claims[dyad] = {
            "iso3_a": row["iso3_a"].strip(),
            "iso3_b": row["iso3_b"].strip(),
            "start": year_of(row["start_year"], path, line),
            "end": year_of(end, path, line) if end else None,
            "salience": number(row["salience"], path, line, f"claim-dyad {dyad} salience"),
            "line": line,
        }
    settled = {}
    for line, row in read_rows(settlements, ("claim_dyad", "iso3_a", "iso3_b", "end_year", "source", "note")):
        dyad = row["claim_dyad"].strip()
        claim = claims.get(dyad)
        if claim is None:  # a smaller extract (the tests'): every open claim still needs its row
            continue
        if claim["end"] is not None:
            raise BuildError(f"{settlements}: line {line}: claim-dyad {dyad} already ended in {path.name}")
        if (row["iso3_a"].strip(), row["iso3_b"].strip()) != (claim["iso3_a"], claim["iso3_b"]):
            raise BuildError(
                f"{settlements}: line {line}: claim-dyad {dyad} is "
                f"{claim['iso3_a']} against {claim['iso3_b']}"
            )
        end = row["end_year"].strip()
        year = year_of(end, settlements, line) if end else None
        if year is not None and not claim["start"] <= year <= SETTLEMENT_HORIZON:
            raise BuildError(
                f"{settlements}: line {line}: end year {year} for claim-dyad {dyad} is not in "
                f"{claim['start']}-{SETTLEMENT_HORIZON} "
                f"(no settlement after {SETTLEMENT_HORIZON} is written in)"
            )
        if year is not None and not row["source"].strip():
            raise BuildError(
                f"{settlements}: line {line}: end year {year} for claim-dyad {dyad} without a source"
            )
        if dyad in settled:
            raise BuildError(f"{settlements}: line {line}: a second row for claim-dyad {dyad}")
        settled[dyad] = (year, row["source"].strip(), row["note"].strip())
    rows = []
    for dyad, claim in sorted(
        claims.items(), key=lambda item: (item[1]["iso3_a"], item[1]["iso3_b"], item[0])
    ):
        end, source = claim["end"], ICOW_CITATION
        note = "" if end is None else f"ended in {end}, within ICOW's coverage"
        if end is None:
            if dyad not in settled:
                raise BuildError(
                    f"{settlements}: no row for claim-dyad {dyad} ({claim['iso3_a']} against "
                    f"{claim['iso3_b']}), open in 2001 in {path.name}"
                )
            end, settlement, note = settled[dyad]
            if end is not None:
                source = f"{ICOW_CITATION}; settlement: {settlement}"
        salience = claim["salience"]
        rows.append(
            (
                claim["iso3_a"],
                claim["iso3_b"],
                dyad,
                str(claim["start"]),
                "" if end is None else str(end),
                str(int(salience)) if salience == int(salience) else fmt(salience),
                source,
                note,
            )
        )
    return rows


def _claim_dyad(text: str, path: Path, line: int) -> str:
    """The ICOW claim-dyad number in a ``claim`` cell ("ICOW claim 800 (claim-dyad 80006); ...")."""
    marker = "claim-dyad "
    at = text.find(marker)
    digits = text[at + len(marker) :].split(")")[0].strip() if at >= 0 else ""
    if not digits.isdigit():
        raise BuildError(f"{path}: line {line}: no claim-dyad number in {text!r}")
    return digits


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


def build_tables(extracts: Path, settlements: Path = SETTLEMENTS) -> dict[str, str]:
    """Build every table from the extracts in ``extracts``; return {file name: CSV text}.

    ``settlements`` is the hand-written file of settlement years for the ICOW claims still
    open in 2001 (``scripts/claim_settlements.csv``).
    """
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
    ties = {"arms": arms_table(path["arms"]), "trade": trade_table(path["trade"])}
    for key, rows in ties.items():
        texts[TIE_TABLES[key].file] = render(",".join(TIE_TABLES[key].columns), rows)
    claims = claims_table(path["claims"], Path(settlements))
    texts[TIE_TABLES["claims"].file] = render_rows(TIE_TABLES["claims"].columns, claims)
    texts["SOURCES.md"] = sources_md(tables, ties, claims)
    return texts


def render_rows(columns: Iterable[str], rows: list[tuple[str, ...]]) -> str:
    """Write rows as CSV text (quoted where a cell holds a comma, \\n line ends)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(columns)
    writer.writerows(rows)
    return out.getvalue()


def sources_md(tables: dict[str, dict], ties: dict[str, dict], claims: list[tuple[str, ...]]) -> str:
    lines = [
        "# Data tables shipped with sco-sim",
        "",
        "Small tables derived from public data sets, read by `sim/scenario/datasets.py` when a scenario",
        "has a `[data]` table (docs/scenarios.md), and by `sim/scenario/ties.py` (arms, trade and",
        "claims). Each has the columns `iso3,year,<value>`, one",
        "row per state and year with data, sorted by state and year (`arms.csv` and `trade.csv`",
        "have three value columns; `claims.csv` has one row per territorial claim). Cite the",
        "original source wherever a figure is used.",
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
    for key, rows in ties.items():
        spec = TIE_TABLES[key]
        states = {iso3 for iso3, _ in rows}
        years = spans({year for _, year in rows})
        values = ", ".join(f"`{c}`" for c in spec.columns)
        lines.append(
            f"| `{spec.file}` | {values} | {len(states)} | {years} | {len(rows)} | `{EXTRACTS[key]}` |"
        )
    pairs = {tuple(sorted(row[:2])) for row in claims}
    first = min(int(row[3]) for row in claims)
    lines.append(
        f"| `{TIE_TABLES['claims'].file}` | `salience`, `end_year` | {len({c for p in pairs for c in p})} "
        f"| from {first} | {len(claims)} | `{EXTRACTS['claims']}`, `scripts/{SETTLEMENTS.name}` |"
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
    lines += _ties_md(ties, claims)
    return "\n".join(lines) + "\n"


def _ties_md(ties: dict[str, dict], claims: list[tuple[str, ...]]) -> list[str]:
    arms, trade = ties["arms"], ties["trade"]
    empty = sorted(
        {
            (iso3, i)
            for (iso3, _), cells in trade.items()
            for i, c in enumerate(cells)
            if not c and iso3 != TRADE_PARTNERS[i]  # a state's trade with itself does not apply
        }
    )
    missing = {}
    for iso3, i in empty:
        years = [y for (s, y), cells in trade.items() if s == iso3 and not cells[i]]
        missing.setdefault(TIE_TABLES["trade"].columns[i], []).append(f"{iso3} {spans(years)}")
    settled = [row for row in claims if row[4] and "settlement:" in row[6]]
    still_open = [row for row in claims if not row[4]]
    lines = [
        "",
        f"## `{TIE_TABLES['arms'].file}`",
        "",
        f"Source: SIPRI Arms Transfers Database, TIV export tables of July 2022 (attribution required: "
        f'"Source: SIPRI Arms Transfers Database, July 2022"), from the extract `{EXTRACTS["arms"]}`, '
        "copied from the 360info repository (CC BY 4.0; credit 360info and SIPRI).",
        "",
        "Value: trend-indicator values (TIV, millions; a volume of military capability, not a price) "
        "of major conventional weapons delivered to the state in the year: `tiv_rus` from Russia, "
        "`tiv_chn` from China, `tiv_total` from every supplier (the extract's own rows for the 19 "
        "states plus `OTH`, its sum of all other suppliers). Only the extract's first part is used "
        "(the recipient is one of the 19 states); a row exists where the state received anything "
        f"recorded that year, and a supplier without a row counts as 0. {len({s for s, _ in arms})} "
        f"states, {len(arms)} state-years. Scenario use: `arms_shares` (share from each pole over a "
        "window of years) and `yearly_ties`.",
        "",
        "Caveats: this is the 2022 vintage, which ends in 2021; SIPRI revises past values with each "
        "release, so later releases must not be spliced on. SIPRI's 0 (under 0.5 TIV) and no "
        "delivery both read as 0.0. Deliveries to non-state groups in these states (the Northern "
        "Alliance in Afghanistan, 1999-2001, from Russia) are not counted.",
        "",
        f"## `{TIE_TABLES['trade'].file}`",
        "",
        "Source: IMF Direction of Trade Statistics (DOTS), annual, exported from the IMF data portal "
        f"in early 2022; extract `{EXTRACTS['trade']}` (reuse with attribution under the IMF's terms).",
        "",
        "Value: merchandise trade in million current US$ of the state with Russia (`trade_rus`), "
        "China (`trade_chn`) and the United States (`trade_usa`): the state's exports to the partner "
        "plus the partner's exports to the state, both FOB as each exporter reports them. Where an "
        "export figure is missing, the importer's mirror figure (imports, CIF) stands in; where one "
        "is still missing the cell is empty. A cell is also empty where it does not apply (Russia's "
        "`trade_rus`, China's `trade_chn`, the United States' `trade_usa`); a state-year with no "
        "figure at all has no row. The pairs among the three (RUS-CHN, RUS-USA, CHN-USA) fill both "
        "sides: the RUS-CHN pair is China's `trade_rus` and Russia's `trade_chn`. Scenario use: "
        "`trade_shares` (trade with a pole over trade with all three) and `yearly_ties`.",
        "",
        "Caveats: this vintage ends in 2020. Some flows are IMF estimates built from the partner's "
        "records (flagged in the extract, often for Iran, Uzbekistan and Afghanistan); reporter and "
        "partner figures differ (CIF against FOB, re-exports through Hong Kong, which is not counted "
        "as China).",
    ]
    if missing:
        lines += [
            "",
            "Empty cells besides those that do not apply: "
            + "; ".join(f"`{c}` {', '.join(v)}" for c, v in missing.items() if v)
            + ".",
        ]
    lines += [
        "",
        f"## `{TIE_TABLES['claims'].file}`",
        "",
        "Source: Issue Correlates of War (ICOW) Territorial Claims, provisional data v1.01 "
        "(Frederick, Hensel & Macaulay 2017, Journal of Peace Research 54(1): 99-108), claim-year "
        f"file, from the extract `{EXTRACTS['claims']}`; settlement years after 2001 from the "
        f"hand-written `scripts/{SETTLEMENTS.name}`, each with its own source.",
        "",
        "Value: one row per directed claim-dyad (challenger `iso3_a` claims territory held by "
        "`iso3_b`), as in ICOW; `claim` is ICOW's claim-dyad number (the claim number followed by "
        "two digits); `salience` is ICOW's 0-12 index; `end_year` is the last year the claim is "
        "active, empty when it is open through the data (2017 for the settlements reviewed). "
        'ICOW 1.01 ends in 2001, so its empty end year means only "still active in 2001". '
        f"Every such claim-dyad has a row in `scripts/{SETTLEMENTS.name}`: an end year where an "
        "agreement settling it had entered into force by 2017, or an empty one with a note saying "
        "why (settled only after 2017, which the model must not be told, or no settlement). The end "
        "year is the year the settling agreement was signed, the way ICOW dates the endings it codes "
        "(China's claims against Kazakhstan end in 1998 and against Kyrgyzstan in 1999, the years "
        "of those agreements); the file also gives the date each entered into force or was "
        "ratified. The build refuses an end year after 2017. `source` cites ICOW and, where an end "
        "year was added, the agreement and the references for it; `note` says how the claim ended "
        "or why it is left open. Scenario use: `active_claims` (the pairs with a claim active in a "
        "year, with the highest salience / 12).",
        "",
        "Settlement years added: "
        + "; ".join(f"{r[0]} against {r[1]} (claim-dyad {r[2]}) {r[4]}" for r in settled)
        + ". Still open: "
        + "; ".join(f"{r[0]} against {r[1]} ({r[2]})" for r in still_open)
        + ".",
        "",
        "Caveats: ICOW's claim-year file has no territory names. The Ferghana valley enclaves in "
        "Kyrgyzstan (Uzbekistan's Sokh and Shakhimardan, Tajikistan's Vorukh) lie on the "
        "Kyrgyz-Uzbek and Kyrgyz-Tajik borders, whose claims ICOW has (UZB against KGZ from 1998, "
        "TJK against KGZ from 2000): they are not added again. ICOW 1.01 has no claim between "
        "Tajikistan and Uzbekistan, and none is added: no coding of an official claim and its "
        "salience was found.",
    ]
    return lines


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
