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

import numpy as np
import pandas as pd

from sim.errors import TableError
from sim.files import read_text
from sim.rules.base import OUTCOMES, BargainInput, RuleSettings
from sim.rules.registry import get_rule

REQUIRED = ("Actor", "Capability", "Position", "Salience")


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
        bad = values.isna()
        if bad.any():
            row = int(np.flatnonzero(bad.to_numpy())[0])
            raise TableError(
                where,
                f"row {row + 2}, column '{column}': expected a number, got {table[column].iloc[row]!r}",
            )
        table[column] = values.astype(float)
    checks = (
        ("Capability", table["Capability"] < 0, "expected a capability >= 0"),
        ("Salience", table["Salience"] < 0, "expected a salience >= 0"),
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
    table = check_actor_table(table)
    notes: list[str] = []
    saliences_scale = 100.0 if table["Salience"].max() > 1.0 else 1.0
    if saliences_scale != 1.0:
        notes.append("saliences above 1 found: read on a 0-100 scale and divided by 100")
    issues = list(dict.fromkeys(table["Issue"]))
    actors = list(dict.fromkeys(table["Actor"]))
    n_i, n_a = len(issues), len(actors)
    positions = np.zeros((n_i, n_a))
    saliences = np.zeros((n_i, n_a))
    capability_by_actor = np.zeros(n_a)
    present = np.zeros((n_i, n_a), dtype=bool)
    issue_row = {k: i for i, k in enumerate(issues)}
    actor_col = {a: j for j, a in enumerate(actors)}
    for issue, actor, cap, pos, sal in table[
        ["Issue", "Actor", "Capability", "Position", "Salience"]
    ].itertuples(index=False):
        i, j = issue_row[issue], actor_col[actor]
        positions[i, j], saliences[i, j] = pos, sal / saliences_scale
        capability_by_actor[j] = cap
        present[i, j] = True

    def per_issue(value: float | dict[str, float] | None, name: str) -> np.ndarray | None:
        if value is None:
            return None
        if isinstance(value, dict):
            missing = [k for k in issues if k not in value]
            if missing:
                raise TableError("<arguments>", f"no {name} given for issue(s) {missing}")
            return np.array([float(value[k]) for k in issues])
        return np.full(n_i, float(value))

    sq = per_issue(status_quo, "status quo")
    assert sq is not None  # status_quo always has a value
    weights = saliences * capability_by_actor[None, :] * present
    total = weights.sum(axis=1)
    weighted_mean = np.divide((weights * positions).sum(axis=1), total, out=sq.copy(), where=total > 0)
    tabled = per_issue(proposal, "proposal")
    if tabled is None:
        tabled = weighted_mean
        notes.append("proposal: the capability x salience weighted mean of positions")
    inputs = BargainInput(
        positions=positions,
        saliences=saliences,
        capabilities=capability_by_actor,
        status_quo=sq,
        proposal=tabled,
        tolerance=np.full(n_a, float(tolerance)),
        voters=present,
    )
    decision = chosen(inputs, settings or RuleSettings())
    outcomes = pd.DataFrame(
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
    rows = []
    for i, issue in enumerate(issues):
        for j, actor in enumerate(actors):
            if present[i, j]:
                rows.append(
                    {
                        "issue": issue,
                        "actor": actor,
                        "position": positions[i, j],
                        "salience": saliences[i, j],
                        "capability": capability_by_actor[j],
                        "objects": bool(decision.objectors[i, j]),
                        "opts_out": bool(decision.opt_outs[i, j]),
                    }
                )
    return BargainResult(rule=rule, outcomes=outcomes, actors=pd.DataFrame(rows), notes=notes)
