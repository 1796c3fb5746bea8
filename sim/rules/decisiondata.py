"""Decision data: issues with each actor's position and salience, and what was decided.

Two layouts are read into one :class:`DecisionData`:

- **DEU** (Thomson et al. 2006; Arregui and Perarnaud 2021, DEU III): one row per
  issue; a position column ``p<actor>`` and a salience column ``s<actor>`` per
  actor (positions 0-100, saliences 0-100, blank where the actor took no
  position), ``rp`` the reference point (status quo), ``out`` the outcome and
  ``counvte`` the voting rule (``QMV`` or ``Unan``). A row before the issues with
  nothing but numbers in the position columns holds each actor's capability (the
  GDP row of the public DEU III file); without it every capability is 1.
- **Actor table** (:mod:`sim.bargain`): one row per actor and issue with ``Actor,
  Capability, Position, Salience`` and optionally ``Issue``, plus per-issue
  columns ``Outcome``, ``StatusQuo`` (or ``rp``) and ``VotingRule``.

Conventions, chosen to reproduce the published reference figures on DEU III
(see ``docs/bargaining.md``): an actor without a position on an issue takes no
part in it; an actor with a position but a blank salience has salience 0.
Saliences are returned on 0-1.

    >>> from sim.rules.decisiondata import read_decision_data
    >>> data = read_decision_data("deu3.csv")
    >>> data.positions.shape, data.scored.sum()
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sim.errors import TableError
from sim.files import read_text
from sim.rules.bargain import (
    MAX_CAPABILITY,
    ActorRows,
    actor_matrices,
    check_header,
    parse_actor_rows,
    split_rows,
)

UNANIMITY, QUALIFIED_MAJORITY, OTHER = "unanimity", "qualified_majority", "other"
#: Extra per-issue columns of the actor-table layout (lower case) and their DEU names.
TABLE_ISSUE_COLUMNS = {
    "outcome": "out",
    "statusquo": "rp",
    "status_quo": "rp",
    "rp": "rp",
    "votingrule": "rule",
}


@dataclass
class DecisionData:
    """Issues x actors arrays of decision data, with one row of facts per issue.

    Attributes:
        source: The file it was read from.
        actors: Actor names (DEU codes such as ``com``, ``ep``, ``de``), the columns.
        issues: One row per issue: ``issue`` (id), ``line`` (line in the file, or the
            first line of the issue), ``rule`` (``unanimity``, ``qualified_majority``
            or ``other``), ``status_quo`` and ``outcome`` (NaN where not coded) and
            ``proposer_position`` (the Commission's position in DEU, else NaN).
        positions: (issues, actors) on 0-100, NaN where the actor has no position.
        saliences: (issues, actors) on 0-1, 0 where absent.
        capabilities: (issues, actors), non-negative.
        notes: How the file was read (scales, defaults taken).

    """

    source: str
    actors: list[str]
    issues: pd.DataFrame
    positions: np.ndarray
    saliences: np.ndarray
    capabilities: np.ndarray
    notes: list[str] = field(default_factory=list)

    @property
    def present(self) -> np.ndarray:
        """Return (issues, actors) bool: who has a position on each issue."""
        return np.isfinite(self.positions)

    @property
    def scored(self) -> np.ndarray:
        """Return (issues,) bool: issues with a coded outcome and at least one position."""
        return self.issues["outcome"].notna().to_numpy() & self.present.any(axis=1)

    def subset(self, rows: np.ndarray) -> DecisionData:
        """Return the issues selected by ``rows`` (a boolean mask or indices)."""
        index = np.arange(len(self.issues))[rows]
        return DecisionData(
            source=self.source,
            actors=list(self.actors),
            issues=self.issues.iloc[index].reset_index(drop=True),
            positions=self.positions[index],
            saliences=self.saliences[index],
            capabilities=self.capabilities[index],
            notes=list(self.notes),
        )


def read_decision_data(path: str | Path, require_outcome: bool = True) -> DecisionData:
    """Read decision data in the DEU layout or the actor-table layout (detected from the header).

    Args:
        path: A CSV or tab-separated file.
        require_outcome: Fail when the file has no outcome column (the benchmark needs one).

    Raises:
        TableError: One line naming the file, the line and the column of the first problem.

    """
    path = Path(path)
    where = str(path)
    text = read_text(path, TableError, "a decision-data file (CSV or tab-separated)")
    rows = split_rows(text, where)
    columns = [c.strip() for c in rows[0]]
    check_header(columns, where)  # an actor listed twice would be counted twice
    lowered = {c.lower() for c in columns}
    if {"actor", "position"} <= lowered:
        return _from_actor_table(parse_actor_rows(rows, where, count="line"), where, require_outcome)
    return _read_deu(rows, columns, where, require_outcome)


# DEU layout -------------------------------------------------------------------


def _number(text: str, where: str, line: int, column: str) -> float:
    """Parse one cell: blank -> NaN, else a finite number (or a TableError naming the cell)."""
    text = text.strip()
    if not text:
        return np.nan
    try:
        value = float(text)
    except ValueError:
        raise TableError(where, f"line {line}, column '{column}': expected a number, got {text!r}") from None
    if not np.isfinite(value):
        raise TableError(where, f"line {line}, column '{column}': expected a finite number, got {text!r}")
    return value


def _actor_columns(columns: list[str], where: str) -> list[str]:
    """Return the actor codes: ``X`` for every pair of columns ``pX`` (position) and ``sX`` (salience).

    A column inside the block of salience (or position) columns without its
    partner is reported as the partner's missing column.
    """
    names = set(columns)
    codes = [c[1:] for c in columns if c.startswith("p") and len(c) > 1 and "s" + c[1:] in names]
    if not codes:
        raise TableError(
            where,
            "line 1: no actor columns: expected a position column 'p<actor>' and a salience column "
            "'s<actor>' per actor (the DEU layout), or the columns Actor, Capability, Position, Salience",
        )
    for prefix, partner in (("s", "p"), ("p", "s")):
        paired = [i for i, c in enumerate(columns) if c.startswith(prefix) and c[1:] in codes]
        for i in range(paired[0], paired[-1] + 1):
            name = columns[i]
            if name.startswith(prefix) and name[1:] not in codes:
                kind = "salience" if prefix == "s" else "position"
                raise TableError(
                    where,
                    f"line 1: missing column '{partner}{name[1:]}' for actor '{name[1:]}', "
                    f"whose {kind} column '{name}' is present",
                )
    return codes


def _rule_of(text: str) -> str:
    text = text.strip().lower()
    if text.startswith("qmv") or text.startswith("qualified"):
        return QUALIFIED_MAJORITY
    if text.startswith("unan"):
        return UNANIMITY
    return OTHER


def _read_deu(rows: list[list[str]], columns: list[str], where: str, require_outcome: bool) -> DecisionData:
    codes = _actor_columns(columns, where)
    index = {c: i for i, c in enumerate(columns)}
    notes: list[str] = []
    if "out" not in index:
        if require_outcome:
            raise TableError(where, "line 1: missing column 'out' (the outcome of each issue, 0-100)")
        notes.append("no outcome column 'out': nothing to score")
    for optional, meaning in (("rp", "reference point (status quo)"), ("counvte", "voting rule")):
        if optional not in index:
            notes.append(f"no column '{optional}': {meaning} not known")
    position_at = [index["p" + c] for c in codes]
    salience_at = [index["s" + c] for c in codes]
    body = [(n, row) for n, row in enumerate(rows[1:], start=2) if any(x.strip() for x in row)]
    capabilities, body = _deu_capabilities(body, columns, position_at, salience_at, where, notes)
    if not body:
        raise TableError(where, "has no issue rows")
    n_issues, n_actors = len(body), len(codes)
    positions = np.full((n_issues, n_actors), np.nan)
    saliences = np.zeros((n_issues, n_actors))
    facts = []
    for r, (line, row) in enumerate(body):
        positions[r], saliences[r] = _deu_actor_cells(row, line, columns, position_at, salience_at, where)
        facts.append(_deu_issue(row, line, index, where))
        facts[-1]["proposer_position"] = positions[r, codes.index("com")] if "com" in codes else np.nan
    notes.append("saliences read on 0-100 and divided by 100; a blank salience beside a position counts as 0")
    return DecisionData(
        source=where,
        actors=codes,
        issues=pd.DataFrame(facts),
        positions=positions,
        saliences=saliences,
        capabilities=np.tile(capabilities, (n_issues, 1)),
        notes=notes,
    )


def _cell(row: list[str], i: int) -> str:
    return row[i] if i < len(row) else ""


def _deu_capabilities(
    body: list[tuple[int, list[str]]],
    columns: list[str],
    position_at: list[int],
    salience_at: list[int],
    where: str,
    notes: list[str],
) -> tuple[np.ndarray, list[tuple[int, list[str]]]]:
    """Read the capability row (actor cells only, before the issues) if there is one; else all 1."""
    capabilities = np.ones(len(position_at))
    if not body:
        return capabilities, body
    actor_cells = set(position_at) | set(salience_at)
    line, first = body[0]
    others_blank = not any(_cell(first, i).strip() for i in range(len(columns)) if i not in actor_cells)
    if not (others_blank and any(_cell(first, i).strip() for i in position_at)):
        notes.append("no capability row: every actor's capability is 1")
        return capabilities, body
    for k, i in enumerate(position_at):
        value = _number(_cell(first, i), where, line, columns[i])
        if np.isnan(value):
            raise TableError(where, f"line {line}, column '{columns[i]}': capability row has no value")
        if not 0 <= value <= MAX_CAPABILITY:
            bound = ">= 0" if value < 0 else f"<= {MAX_CAPABILITY:g}"
            raise TableError(
                where, f"line {line}, column '{columns[i]}': expected a capability {bound}, got {value:g}"
            )
        capabilities[k] = value
    notes.append(f"capabilities from the row at line {line} (before the issues)")
    return capabilities, body[1:]


def _deu_actor_cells(
    row: list[str], line: int, columns: list[str], position_at: list[int], salience_at: list[int], where: str
) -> tuple[np.ndarray, np.ndarray]:
    """Read one issue row's positions and saliences (0-1; 0 where either is blank)."""
    positions = np.full(len(position_at), np.nan)
    saliences = np.zeros(len(position_at))
    for k, (pi, si) in enumerate(zip(position_at, salience_at, strict=True)):
        position = _number(_cell(row, pi), where, line, columns[pi])
        salience = _number(_cell(row, si), where, line, columns[si])
        if not np.isnan(position) and not 0 <= position <= 100:
            raise TableError(
                where, f"line {line}, column '{columns[pi]}': expected a position in 0-100, got {position:g}"
            )
        if not np.isnan(salience) and not 0 <= salience <= 100:
            what = "salience >= 0" if salience < 0 else "salience in 0-100"
            raise TableError(
                where, f"line {line}, column '{columns[si]}': expected a {what}, got {salience:g}"
            )
        positions[k] = position
        saliences[k] = 0.0 if np.isnan(salience) or np.isnan(position) else salience / 100.0
    return positions, saliences


def _deu_issue(row: list[str], line: int, index: dict[str, int], where: str) -> dict[str, Any]:
    """Read one issue row's id, rule, status quo and outcome."""
    values = {}
    for name in ("rp", "out"):
        value = _number(_cell(row, index[name]), where, line, name) if name in index else np.nan
        if not np.isnan(value) and not 0 <= value <= 100:
            raise TableError(where, f"line {line}, column '{name}': expected a value in 0-100, got {value:g}")
        values[name] = value
    issue_id = _cell(row, index["isnr"]).strip() if "isnr" in index else ""
    return {
        "issue": issue_id or f"line {line}",
        "line": line,
        "rule": _rule_of(_cell(row, index["counvte"])) if "counvte" in index else OTHER,
        "status_quo": values["rp"],
        "outcome": values["out"],
    }


# Actor-table layout -------------------------------------------------------------


def _from_actor_table(rows: ActorRows, where: str, require_outcome: bool) -> DecisionData:
    """Turn a checked actor table (the one reader, :func:`sim.rules.bargain.parse_actor_rows`) into issues."""
    lower = {c.lower(): c for c in rows.raw.columns}
    extra: dict[str, str] = {}
    for name, role in TABLE_ISSUE_COLUMNS.items():
        if name in lower and role not in extra:
            extra[role] = lower[name]
    notes: list[str] = []
    if "out" not in extra:
        if require_outcome:
            raise TableError(where, "line 1: missing column 'Outcome' (the outcome of each issue, 0-100)")
        notes.append("no Outcome column: nothing to score")
    m = actor_matrices(rows.table)
    facts = _issue_facts(rows, m.issues, extra, where)
    frame = pd.DataFrame(
        [
            {
                "issue": f["issue"],
                "line": f["line"],
                "rule": f.get("rule", OTHER),
                "status_quo": f.get("status_quo", np.nan),
                "outcome": f.get("outcome", np.nan),
                "proposer_position": np.nan,
            }
            for f in facts.values()
        ]
    )
    frame[["status_quo", "outcome"]] = frame[["status_quo", "outcome"]].astype(float)
    return DecisionData(
        source=where,
        actors=m.actors,
        issues=frame,
        positions=m.positions,
        saliences=m.saliences,
        capabilities=m.capabilities,
        notes=notes + m.notes,
    )


def _issue_facts(
    rows: ActorRows, issues: list[str], extra: dict[str, str], where: str
) -> dict[str, dict[str, object]]:
    """Read each issue's first line, outcome, status quo and rule; rows of one issue must agree."""
    facts: dict[str, dict[str, object]] = {k: {"issue": k, "line": None} for k in issues}
    keys = {"out": "outcome", "rp": "status_quo", "rule": "rule"}
    for r, issue in enumerate(rows.table["Issue"]):
        fact, line = facts[issue], rows.lines[r]
        fact["line"] = fact["line"] or line
        for role, column in extra.items():
            text = str(rows.raw[column].iloc[r]).strip()
            if not text:
                continue
            value: object = _rule_of(text) if role == "rule" else _number(text, where, line, column)
            if role != "rule" and not 0 <= float(value) <= 100:  # type: ignore[arg-type]
                raise TableError(
                    where, f"line {line}, column '{column}': expected a value in 0-100, got {text}"
                )
            if fact.get(keys[role]) is not None and fact[keys[role]] != value:
                raise TableError(
                    where,
                    f"line {line}, column '{column}': {text} differs from an earlier row of issue {issue!r}",
                )
            fact[keys[role]] = value
    return facts
