"""Decision rules on a plain actor table, outside the SCO model.

The table has one row per actor (and issue): ``Actor, Capability, Position,
Salience``, optionally ``Issue`` to hold several issues, the layout used by
KTAB and by Bueno de Mesquita's data sets. Positions are on 0-100; saliences
on 0-1 (a table whose saliences exceed 1 is read on a 0-100 scale and
rescaled, and the result says so).

    >>> from sim.rules.bargain import bargain, read_actor_table
    >>> table = read_actor_table("actors.csv")
    >>> bargain(table, rule="compromise", status_quo=0.0).outcomes
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sim.errors import TableError
from sim.files import read_text
from sim.rules.base import OUTCOMES, BargainInput, RuleSettings
from sim.rules.registry import get_rule

REQUIRED = ("Actor", "Capability", "Position", "Salience")
# Capabilities are weights (votes, GDP in millions, CINC shares): finite and at most this,
# so that sums of capability x salience x position stay far from overflow.
MAX_CAPABILITY = 1e12


def check_header(columns: list[str], where: str) -> None:
    """Raise TableError if a column name appears twice (ignoring case and spaces; blank names aside).

    A second ``Position`` column, or a DEU actor's ``pde``/``sde`` pair listed twice, would
    otherwise be read twice (or fail deep inside pandas).
    """
    seen: set[str] = set()
    for column in columns:
        name = column.strip().lower()
        if name in seen:
            raise TableError(where, f"line 1, column '{column.strip()}': the column appears twice")
        if name:
            seen.add(name)


def split_rows(text: str, where: str) -> list[list[str]]:
    """Split a CSV or tab-separated text into rows of cells (the separator is read from the header).

    Raises:
        TableError: the text has no header line.

    """
    header = text.split("\n", 1)[0]
    if not header.strip():
        raise TableError(where, "is empty; expected a header line")
    sep = "\t" if header.count("\t") > header.count(",") else ","
    return list(csv.reader(io.StringIO(text), delimiter=sep))


@dataclass
class ActorRows:
    """An actor table as read from a file: the checked table, its raw cells and the file line of each row."""

    table: pd.DataFrame
    raw: pd.DataFrame
    lines: list[int]


def parse_actor_rows(rows: list[list[str]], where: str, count: str = "row") -> ActorRows:
    """Read split rows (header first) into a checked actor table: the one actor-table reader.

    Blank lines are skipped. Problems name ``row N`` (the N-th row counting the header
    as row 1, blank lines left out) or, with ``count="line"``, the line of the file.

    Raises:
        TableError: naming the file, the row (or line) and the column of the first problem.

    """
    columns = [c.strip() for c in rows[0]]
    kept = [(n, row) for n, row in enumerate(rows[1:], start=2) if any(x.strip() for x in row)]
    lines = [n for n, _ in kept]
    width = len(columns)
    raw = pd.DataFrame([(row + [""] * width)[:width] for _, row in kept], columns=columns, dtype=str)
    try:
        table = check_actor_table(raw.replace({"": np.nan}), where)
    except TableError as exc:
        if count != "line":
            raise
        # check_actor_table counts data rows from 2; report the line in the file instead.
        message = re.sub(r"^row (\d+)", lambda m: f"line {lines[int(m.group(1)) - 2]}", exc.message)
        raise TableError(where, message) from None
    return ActorRows(table, raw, lines)


def read_actor_table(path: str | Path) -> pd.DataFrame:
    """Read and check an actor table (CSV or tab-separated).

    Raises:
        TableError: naming the file, the row and the column of the first problem.

    """
    where = str(path)
    text = read_text(Path(path), TableError, "a CSV actor table")
    return parse_actor_rows(split_rows(text, where), where).table


def check_actor_table(table: pd.DataFrame, where: str = "<table>") -> pd.DataFrame:
    """Check columns and values of an actor table; return a clean copy."""
    check_header([str(c) for c in table.columns], where)
    columns = {c.strip().lower(): c for c in table.columns}
    rename = {}
    for name in (*REQUIRED, "Issue"):
        if name.lower() in columns:
            rename[columns[name.lower()]] = name
        elif name != "Issue":
            raise TableError(
                where,
                f"missing column '{name}'; expected columns {', '.join(REQUIRED)} (and optionally Issue)",
            )
    table = table.rename(columns=rename)[[c for c in (*REQUIRED, "Issue") if c in rename.values()]].copy()
    if table.empty:
        raise TableError(where, "has no actor rows")
    for column in ("Capability", "Position", "Salience"):
        values = pd.to_numeric(table[column], errors="coerce")
        for bad, what in (
            (values.isna().to_numpy(), "a number"),
            (~np.isfinite(np.asarray(values, dtype=float)), "a finite number"),
        ):
            if bad.any():
                row = int(np.flatnonzero(bad)[0])
                raise TableError(
                    where,
                    f"row {row + 2}, column '{column}': expected {what}, got {table[column].iloc[row]!r}",
                )
        table[column] = values.astype(float)
    checks = (
        ("Capability", table["Capability"] < 0, "expected a capability >= 0"),
        ("Capability", table["Capability"] > MAX_CAPABILITY, f"expected a capability <= {MAX_CAPABILITY:g}"),
        ("Salience", table["Salience"] < 0, "expected a salience >= 0"),
        ("Salience", table["Salience"] > 100, "expected a salience in 0-1 or 0-100"),
        ("Position", (table["Position"] < 0) | (table["Position"] > 100), "expected a position in 0-100"),
    )
    for column, bad, message in checks:
        if bad.any():
            row = int(np.flatnonzero(bad.to_numpy())[0])
            raise TableError(
                where, f"row {row + 2}, column '{column}': {message}, got {table[column].iloc[row]}"
            )
    if "Issue" not in table:
        table["Issue"] = "1"
    table["Actor"] = table["Actor"].astype(str)
    duplicated = table.duplicated(["Issue", "Actor"])
    if duplicated.any():
        row = int(np.flatnonzero(duplicated.to_numpy())[0])
        raise TableError(
            where,
            f"row {row + 2}, column 'Actor': actor {table['Actor'].iloc[row]!r} appears twice in one issue",
        )
    return table.reset_index(drop=True)


@dataclass
class ActorMatrices:
    """A checked actor table as issue x actor arrays (issues and actors in order of first appearance)."""

    issues: list[str]
    actors: list[str]
    positions: np.ndarray  # NaN where an actor takes no part in an issue
    saliences: np.ndarray  # on 0-1 (rescaled from 0-100 if any exceeds 1); 0 where absent
    capabilities: np.ndarray  # per issue and actor; 0 where absent
    capability_of: np.ndarray  # per actor: its capability on its last row
    present: np.ndarray  # bool: the actor has a row for the issue
    notes: list[str]


def actor_matrices(table: pd.DataFrame) -> ActorMatrices:
    """Arrange a checked actor table (:func:`check_actor_table`) as issue x actor arrays."""
    notes: list[str] = []
    scale = 100.0 if table["Salience"].max() > 1.0 else 1.0
    if scale != 1.0:
        notes.append("saliences above 1 found: read on a 0-100 scale and divided by 100")
    issues = list(dict.fromkeys(table["Issue"]))
    actors = list(dict.fromkeys(table["Actor"]))
    shape = (len(issues), len(actors))
    positions, saliences, capabilities = np.full(shape, np.nan), np.zeros(shape), np.zeros(shape)
    capability_of, present = np.zeros(len(actors)), np.zeros(shape, dtype=bool)
    issue_row = {k: i for i, k in enumerate(issues)}
    actor_col = {a: j for j, a in enumerate(actors)}
    for issue, actor, cap, pos, sal in table[
        ["Issue", "Actor", "Capability", "Position", "Salience"]
    ].itertuples(index=False):
        i, j = issue_row[issue], actor_col[actor]
        positions[i, j], saliences[i, j], capabilities[i, j] = pos, sal / scale, cap
        capability_of[j] = cap
        present[i, j] = True
    return ActorMatrices(issues, actors, positions, saliences, capabilities, capability_of, present, notes)


@dataclass
class BargainResult:
    """Outcome per issue, and each actor's objection or opt-out."""

    rule: str
    outcomes: pd.DataFrame
    actors: pd.DataFrame
    notes: list[str] = field(default_factory=list)


def bargain(
    table: pd.DataFrame,
    rule: str = "compromise",
    status_quo: float | dict[str, float] = 0.0,
    proposal: float | dict[str, float] | None = None,
    tolerance: float = 0.05,
    settings: RuleSettings | None = None,
) -> BargainResult:
    """Decide each issue of an actor table under a registered rule.

    Args:
        table: An actor table (see :func:`read_actor_table`).
        rule: A rule name from :data:`sim.rules.RULES`.
        status_quo: The status quo (0-100), one for all issues or per issue.
        proposal: The text tabled; by default the capability x salience weighted
            mean of positions (the chair tables the compromise).
        tolerance: Salience-weighted loss an actor accepts without objecting.
        settings: Procedure parameters (rounds, dilution step, thresholds).

    Returns:
        A :class:`BargainResult` with one row per issue and one per actor and issue.

    """
    chosen = get_rule(rule)
    m = actor_matrices(check_actor_table(table))
    issues, actors, present, notes = m.issues, m.actors, m.present, list(m.notes)
    positions = np.where(present, m.positions, 0.0)
    sq = _per_issue(status_quo, issues, "status quo")
    assert sq is not None  # status_quo always has a value
    weights = m.saliences * m.capability_of[None, :] * present
    total = weights.sum(axis=1)
    weighted_mean = np.divide((weights * positions).sum(axis=1), total, out=sq.copy(), where=total > 0)
    tabled = _per_issue(proposal, issues, "proposal")
    if tabled is None:
        tabled = weighted_mean
        notes.append("proposal: the capability x salience weighted mean of positions")
    inputs = BargainInput(
        positions=positions,
        saliences=m.saliences,
        capabilities=m.capability_of,
        status_quo=sq,
        proposal=tabled,
        tolerance=np.full(len(actors), float(tolerance)),
        voters=present,
    )
    decision = chosen(inputs, settings or RuleSettings())
    outcomes = _outcomes(issues, actors, sq, tabled, decision)
    return BargainResult(rule, outcomes, _actor_rows(m, decision), notes)


def _per_issue(value: float | dict[str, float] | None, issues: list[str], name: str) -> np.ndarray | None:
    """One value per issue from a single value or a mapping by issue (None stays None)."""
    if value is None:
        return None
    if isinstance(value, dict):
        missing = [k for k in issues if k not in value]
        if missing:
            raise TableError("<arguments>", f"no {name} given for issue(s) {missing}")
        return np.array([float(value[k]) for k in issues])
    return np.full(len(issues), float(value))


def _outcomes(
    issues: list[str], actors: list[str], sq: np.ndarray, tabled: np.ndarray, decision: Any
) -> pd.DataFrame:
    """One row per issue: status quo, proposal, outcome, prediction, objectors and opt-outs."""
    n_i = len(issues)
    return pd.DataFrame(
        {
            "issue": issues,
            "status_quo": sq,
            "proposal": tabled,
            "outcome": [OUTCOMES[int(c)] for c in decision.outcome],
            "adopted": decision.adopted,
            "prediction": decision.prediction,
            "rounds": decision.rounds,
            "objectors": [";".join(np.array(actors)[decision.objectors[i]]) for i in range(n_i)],
            "opt_outs": [";".join(np.array(actors)[decision.opt_outs[i]]) for i in range(n_i)],
        }
    )


def _actor_rows(m: ActorMatrices, decision: Any) -> pd.DataFrame:
    """One row per actor and issue the actor takes part in: its inputs, objection and opt-out."""
    rows = []
    for i, issue in enumerate(m.issues):
        for j, actor in enumerate(m.actors):
            if m.present[i, j]:
                rows.append(
                    {
                        "issue": issue,
                        "actor": actor,
                        "position": m.positions[i, j],
                        "salience": m.saliences[i, j],
                        "capability": m.capability_of[j],
                        "objects": bool(decision.objectors[i, j]),
                        "opts_out": bool(decision.opt_outs[i, j]),
                    }
                )
    return pd.DataFrame(rows)
