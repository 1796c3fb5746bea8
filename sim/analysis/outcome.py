"""Outcome expressions: a condition on one run, written on the command line and never executed as code.

``sco-sim discover RESULTS --outcome EXPR`` marks each stored run by whether ``EXPR`` holds. A
tokenizer and a recursive descent over a fixed grammar read it; nothing reaches :func:`eval`,
attribute access or imports. Precedence, loosest first: ``or``, ``and``, ``not``, comparisons
(``< <= > >= == !=``; ``a < b < c`` means both hold), ``+ -``, ``* /``, unary ``-``. An atom is a
number, a metric of the experiment (one value per run, from the summaries), a call
``FUNCTION(COLUMN[, STATE][, YEARS])`` or an expression in parentheses. ``FUNCTION`` is one of
:data:`FUNCTIONS` over the yearly values of a column of the model table, or of the states table
for ``STATE`` (``KAZ``); ``YEARS`` is ``2018-2035`` or ``2030`` (default: every year). ``mean``,
``median``, ``min``, ``max`` and ``sum`` skip empty years (a rate in a year without items; the
``sum`` of none is 0); ``first`` and ``last`` take their year as it is. The whole is a condition.
A run whose condition cannot be decided (an empty value in a comparison, 0 / 0) is *undefined*:
it is left out of the analysis and counted. ``docs/discover.md`` gives the grammar and examples.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from sim.errors import OutcomeError

__all__ = ["FUNCTIONS", "OutcomeError", "evaluate", "outcome_values", "parse_outcome"]

#: aggregate functions over a run's years, and what each does with empty years
FUNCTIONS = ("mean", "median", "min", "max", "sum", "first", "last")
COMPARISONS = ("<=", ">=", "==", "!=", "<", ">")
KEYWORDS = ("and", "or", "not")
MAX_LENGTH = 1000  # characters of an expression
MAX_DEPTH = 40  # nesting of parentheses and operators


# --- the tree ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Number:
    """A literal number."""

    value: float


@dataclass(frozen=True)
class Metric:
    """A metric of the experiment: one value per run in the summaries table."""

    name: str


@dataclass(frozen=True)
class Aggregate:
    """A function over one column's yearly values (model table, or one state's rows)."""

    function: str
    column: str
    state: str | None = None
    years: tuple[int, int] | None = None

    @property
    def table(self) -> str:
        """``states`` for a state's column, ``model`` otherwise."""
        return "states" if self.state else "model"


@dataclass(frozen=True)
class Arithmetic:
    """``left OP right`` with OP one of + - * /."""

    op: str
    left: Any
    right: Any


@dataclass(frozen=True)
class Negative:
    """``-operand``."""

    operand: Any


@dataclass(frozen=True)
class Comparison:
    """``terms[0] ops[0] terms[1] ops[1] terms[2] ...``: every comparison holds."""

    ops: tuple[str, ...]
    terms: tuple[Any, ...]


@dataclass(frozen=True)
class Logical:
    """``left and right`` or ``left or right``."""

    op: str
    left: Any
    right: Any


@dataclass(frozen=True)
class Not:
    """``not operand``."""

    operand: Any


CONDITIONS = (Comparison, Logical, Not)


# --- reading -----------------------------------------------------------------------------------

_TOKEN = re.compile(
    r"\s*(?:(?P<number>(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)"
    r"|(?P<name>[A-Za-z_][A-Za-z0-9_]*)"
    r"|(?P<op><=|>=|==|!=|[-+*/<>(),])"
    r"|(?P<bad>\S))"
)


@dataclass(frozen=True)
class _Token:
    kind: str  # number, name, op, end
    text: str
    at: int


def _tokens(expression: str) -> list[_Token]:
    tokens = []
    for match in _TOKEN.finditer(expression):
        kind = match.lastgroup
        if kind is None:  # trailing spaces
            continue
        text = match.group(kind)
        at = match.start(kind)
        if kind == "bad":
            hint = " (write == to compare)" if text == "=" else ""
            raise OutcomeError(expression, f"unexpected character '{text}'{hint}", at)
        tokens.append(_Token(kind, text, at))
    tokens.append(_Token("end", "", len(expression)))
    return tokens


class _Parser:
    def __init__(self, expression: str) -> None:
        self.expression = expression
        self.tokens = _tokens(expression)
        self.i = 0
        self.depth = 0

    # helpers
    @property
    def token(self) -> _Token:
        return self.tokens[self.i]

    def fail(self, message: str, token: _Token | None = None) -> OutcomeError:
        token = token or self.token
        return OutcomeError(self.expression, message, token.at)

    def found(self, token: _Token | None = None) -> str:
        token = token or self.token
        return "the end" if token.kind == "end" else f"'{token.text}'"

    def take(self, text: str) -> bool:
        if self.token.text == text and self.token.kind in ("op", "name"):
            self.i += 1
            return True
        return False

    def expect(self, text: str, what: str) -> None:
        if not self.take(text):
            raise self.fail(f"expected {what}, found {self.found()}")

    def enter(self) -> None:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise self.fail(f"nested more than {MAX_DEPTH} deep")

    # grammar
    def parse(self) -> Any:
        if not self.expression.strip():
            raise OutcomeError(self.expression, "the outcome is empty; write a condition such as "
                               "'mean(consensus_rate) < 0.8'")  # fmt: skip
        node = self.condition()
        if self.token.kind != "end":
            raise self.fail(f"expected 'and', 'or' or the end, found {self.found()}")
        if not isinstance(node, CONDITIONS):
            raise OutcomeError(self.expression, "the outcome is a number, not a condition: compare it, "
                               "e.g. '... > 0.5'")  # fmt: skip
        return node

    def condition(self) -> Any:
        return self._joined("or", self.either)

    def either(self) -> Any:
        return self._joined("and", self.negation)

    def _joined(self, word: str, operand: Any) -> Any:
        node = operand()
        while self.token.text == word and self.token.kind == "name":
            at = self.token
            self.i += 1
            node = Logical(word, self._condition_operand(node, at), self._condition_operand(operand(), at))
        return node

    def _condition_operand(self, node: Any, at: _Token) -> Any:
        if not isinstance(node, CONDITIONS):
            raise self.fail(f"'{at.text}' joins conditions, not numbers (compare first, e.g. 'x > 1')", at)
        return node

    def negation(self) -> Any:
        if self.token.text == "not" and self.token.kind == "name":
            at = self.token
            self.i += 1
            self.enter()
            node = Not(self._condition_operand(self.negation(), at))
            self.depth -= 1
            return node
        return self.comparison()

    def comparison(self) -> Any:
        left = self.sum()
        if self.token.text not in COMPARISONS:
            return left
        ops, terms = [], [left]
        while self.token.text in COMPARISONS:
            op = self.token
            self.i += 1
            right = self.sum()
            for term, side in ((terms[-1], "left"), (right, "right")):
                if isinstance(term, CONDITIONS):
                    raise self.fail(f"the {side} side of '{op.text}' is a condition, not a number", op)
            ops.append(op.text)
            terms.append(right)
        return Comparison(tuple(ops), tuple(terms))

    def sum(self) -> Any:
        node = self.product()
        while self.token.text in ("+", "-") and self.token.kind == "op":
            op = self.token
            self.i += 1
            node = Arithmetic(op.text, self._number(node, op), self._number(self.product(), op))
        return node

    def product(self) -> Any:
        node = self.unary()
        while self.token.text in ("*", "/") and self.token.kind == "op":
            op = self.token
            self.i += 1
            node = Arithmetic(op.text, self._number(node, op), self._number(self.unary(), op))
        return node

    def _number(self, node: Any, op: _Token) -> Any:
        if isinstance(node, CONDITIONS):
            raise self.fail(f"'{op.text}' works on numbers, not on a condition", op)
        return node

    def unary(self) -> Any:
        if self.token.text == "-" and self.token.kind == "op":
            op = self.token
            self.i += 1
            self.enter()
            node = Negative(self._number(self.unary(), op))
            self.depth -= 1
            return node
        return self.atom()

    def atom(self) -> Any:
        token = self.token
        if token.kind == "number":
            self.i += 1
            return Number(float(token.text))
        if token.kind == "op" and token.text == "(":
            self.i += 1
            self.enter()
            node = self.condition()
            self.depth -= 1
            self.expect(")", "')'")
            return node
        if token.kind == "name" and token.text not in KEYWORDS:
            self.i += 1
            if self.token.text == "(" and self.token.kind == "op":
                return self.call(token)
            return Metric(token.text)
        raise self.fail(
            f"expected a number, a metric, a function such as mean(...) or '(', found {self.found()}"
        )

    def call(self, name: _Token) -> Aggregate:
        if name.text not in FUNCTIONS:
            raise self.fail(f"unknown function '{name.text}'; functions: {', '.join(FUNCTIONS)}", name)
        self.i += 1  # (
        column = self.token
        if column.kind != "name":
            raise self.fail(f"{name.text}(...) needs a column of the model or states table first, "
                            f"found {self.found()}")  # fmt: skip
        self.i += 1
        state: str | None = None
        years: tuple[int, int] | None = None
        while self.take(","):
            token = self.token
            if token.kind == "name" and state is None and years is None:
                state = token.text
                self.i += 1
            elif token.kind == "number" and years is None:
                years = self.years()
            else:
                raise self.fail(f"expected a state code (e.g. KAZ) then years (e.g. 2018-2035) after "
                                f"the column, found {self.found()}")  # fmt: skip
        self.expect(")", f"',' or ')' to close {name.text}(")
        return Aggregate(name.text, column.text, state, years)

    def years(self) -> tuple[int, int]:
        first = self._year()
        last = first
        if self.take("-"):
            last = self._year()
        if last < first:
            raise self.fail(f"the years {first}-{last} end before they start")
        return first, last

    def _year(self) -> int:
        token = self.token
        if token.kind != "number" or not re.fullmatch(r"\d{1,4}", token.text):
            raise self.fail(f"expected a year such as 2018, found {self.found()}")
        self.i += 1
        return int(token.text)


def parse_outcome(expression: str) -> Any:
    """Read an outcome expression into its tree (no names are checked yet).

    Raises:
        OutcomeError: one line saying what was expected, where.

    """
    if len(expression) > MAX_LENGTH:
        raise OutcomeError(expression, f"the outcome is longer than {MAX_LENGTH} characters")
    return _Parser(expression).parse()


# --- evaluating --------------------------------------------------------------------------------


def _walk(node: Any) -> list[Any]:
    """Every node of the tree, depth first."""
    found = [node]
    for child in ("left", "right", "operand"):
        if hasattr(node, child):
            found += _walk(getattr(node, child))
    for term in getattr(node, "terms", ()):
        found += _walk(term)
    return found


def _check_names(expression: str, tree: Any, tables: dict[str, pd.DataFrame], metrics: list[str]) -> None:
    """Raise OutcomeError on a metric, column, state or window the results do not have."""
    for node in _walk(tree):
        if isinstance(node, Metric):
            if node.name not in metrics:
                known = f"the experiment's metrics are {', '.join(metrics)}" if metrics else "no metric"
                raise OutcomeError(
                    expression,
                    f"unknown metric '{node.name}' ({known}); a column of the model table needs a "
                    f"function, e.g. mean({node.name})",
                )
        elif isinstance(node, Aggregate):
            frame = tables.get(node.table)
            if frame is None or not len(frame):
                raise OutcomeError(expression, f"the results hold no {node.table} table")
            skip = {"run_index", "run_id", "arm", "point", "replication", "seed", "year", "state", "status"}
            columns = [c for c in frame.columns if c not in skip and pd.api.types.is_numeric_dtype(frame[c])]
            if node.column not in columns:
                states = tables.get("states")
                if node.state is None and states is not None and node.column in states.columns:
                    raise OutcomeError(
                        expression,
                        f"'{node.column}' is a column of the states table: name the state, "
                        f"e.g. {node.function}({node.column}, KAZ)",
                    )
                raise OutcomeError(
                    expression,
                    f"the {node.table} table has no numeric column '{node.column}'; "
                    f"columns: {', '.join(columns)}",
                )
            if node.state is not None and node.state not in set(frame["state"]):
                states = ", ".join(sorted(map(str, set(frame["state"]))))
                raise OutcomeError(expression, f"no state '{node.state}' in the states table ({states})")
            if node.years is not None:
                low, high = int(frame["year"].min()), int(frame["year"].max())
                if node.years[1] < low or node.years[0] > high:
                    first, last = node.years
                    years = f"the years {first}-{last} are" if first != last else f"the year {first} is"
                    raise OutcomeError(
                        expression,
                        f"{years} outside the runs ({low}-{high}) in {node.function}({node.column})",
                    )


def _aggregate(node: Aggregate, tables: dict[str, pd.DataFrame], runs: pd.Index) -> pd.Series:
    frame = tables[node.table]
    keep = np.ones(len(frame), dtype=bool)
    if node.state is not None:
        keep &= (frame["state"] == node.state).to_numpy()
    if node.years is not None:
        year = frame["year"].to_numpy()
        keep &= (year >= node.years[0]) & (year <= node.years[1])
    rows = frame.loc[keep, ["run_id", "year", node.column]]
    values = rows[node.column].astype(float)
    groups = values.groupby(rows["run_id"].to_numpy(), sort=False)
    if node.function in ("first", "last"):
        ordered = rows.assign(_value=values).sort_values(["run_id", "year"], kind="stable")
        picked = ordered.groupby("run_id", sort=False).nth(0 if node.function == "first" else -1)
        result = picked.set_index("run_id")["_value"]
    elif node.function == "sum":
        result = groups.sum(min_count=0)
    else:  # mean, median, min, max skip empty years; all empty -> NaN
        result = getattr(groups, node.function)()
    return result.reindex(runs).astype(float)


def _value(node: Any, tables: dict[str, pd.DataFrame], runs: pd.Index) -> pd.Series:
    """A number per run (NaN: undefined), or for a condition 1.0 / 0.0 / NaN."""
    if isinstance(node, Number):
        return pd.Series(node.value, index=runs, dtype=float)
    if isinstance(node, Metric):
        summaries = tables["summaries"].set_index("run_id")
        return pd.to_numeric(summaries[node.name], errors="coerce").reindex(runs).astype(float)
    if isinstance(node, Aggregate):
        return _aggregate(node, tables, runs)
    if isinstance(node, Negative):
        return -_value(node.operand, tables, runs)
    if isinstance(node, Arithmetic):
        left, right = _value(node.left, tables, runs), _value(node.right, tables, runs)
        with np.errstate(divide="ignore", invalid="ignore"):
            result = {"+": np.add, "-": np.subtract, "*": np.multiply, "/": np.divide}[node.op](
                left.to_numpy(), right.to_numpy()
            )
        return pd.Series(result, index=runs, dtype=float)
    if isinstance(node, Comparison):
        values = [_value(term, tables, runs).to_numpy() for term in node.terms]
        holds = np.ones(len(runs), dtype=bool)
        known = np.ones(len(runs), dtype=bool)
        compare = {"<": np.less, "<=": np.less_equal, ">": np.greater, ">=": np.greater_equal,
                   "==": np.equal, "!=": np.not_equal}  # fmt: skip
        for op, left, right in zip(node.ops, values, values[1:], strict=False):
            holds &= compare[op](left, right)
            known &= ~(np.isnan(left) | np.isnan(right))
        return pd.Series(np.where(known, holds.astype(float), np.nan), index=runs)
    if isinstance(node, Logical):
        left = _value(node.left, tables, runs).to_numpy()
        right = _value(node.right, tables, runs).to_numpy()
        known = ~(np.isnan(left) | np.isnan(right))
        both = (left == 1) & (right == 1) if node.op == "and" else (left == 1) | (right == 1)
        return pd.Series(np.where(known, both.astype(float), np.nan), index=runs)
    if isinstance(node, Not):
        operand = _value(node.operand, tables, runs).to_numpy()
        return pd.Series(np.where(np.isnan(operand), np.nan, 1.0 - operand), index=runs)
    raise TypeError(f"not an outcome node: {node!r}")  # pragma: no cover - the parser makes no other


def outcome_values(
    expression: str, tables: dict[str, pd.DataFrame], metrics: list[str] | None = None
) -> pd.Series:
    """Evaluate an outcome for every run of ``tables["summaries"]``.

    Args:
        expression: The outcome, e.g. ``"mean(consensus_rate, 2018-2035) < 0.8"``.
        tables: ``summaries`` (one row per run, ``run_id`` and the metrics), and ``model`` and
            ``states`` when the expression uses functions of their columns.
        metrics: The names a bare word may take (the experiment's metrics).

    Returns:
        One value per run, indexed by ``run_id`` in the summaries' order: ``True``, ``False``
        or ``pd.NA`` (undefined), as a nullable boolean Series.

    Raises:
        OutcomeError: the expression cannot be read, or names what the results do not have.

    """
    tree = parse_outcome(expression)
    _check_names(expression, tree, tables, list(metrics or []))
    runs = pd.Index(tables["summaries"]["run_id"], name="run_id")
    values = _value(tree, tables, runs)
    return values.map({1.0: True, 0.0: False}).astype("boolean")


def evaluate(expression: str, results: Any) -> pd.Series:
    """Evaluate an outcome for every finished run of a loaded results folder (see :func:`outcome_values`)."""
    summaries = results.summaries
    ok = summaries[summaries["status"] == "ok"] if "status" in summaries else summaries
    tables = {"summaries": ok, **{t: results.tables[t] for t in ("model", "states") if t in results.tables}}
    return outcome_values(expression, tables, list(results.experiment.metrics))
