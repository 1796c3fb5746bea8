"""Fuzzing every file a user writes: scenarios and experiments, generated and mutated (issue 12, Build).

Hypothesis writes scenario, experiment and sensitivity files: valid ones drawn from the
schema's ranges, the test fixtures of ``tests/data`` and the shipped ``scenarios/`` and
``experiments/``, and those same documents mutated:

- numbers: nan, +-inf, 1e308, the largest integers, negative, zero, and text, true/false,
  dates, arrays or tables where a number belongs;
- keys: unknown, deleted, renamed, with control characters, ``[``, ``.``, ``$`` or newlines;
- nesting: arrays, inline tables and dotted keys far deeper than any file needs;
- paths: ``extends`` and an arm's ``scenario`` at missing files, folders, ``/dev/null``,
  ``/dev/zero``, a named pipe, a loop of symbolic links, a non-UTF-8 file, the file itself,
  a chain of 20 files, files outside the folder (``../..``, absolute), a NUL character;
- names used for folders (``name`` of a scenario or an experiment): ``../..``, absolute, ``$x$``;
- data: a ``[data]`` table put into a scenario, whatever its states and poles;
- the text itself: cut short, a stray character, a byte-order mark, a line dropped.

Whatever is written, the command line must either accept it and do it right, or refuse it
in one line:

- scenarios: ``sco-sim check`` exits 0, a short run (``sim.run(..., until=start+2)``) has no
  infinity anywhere and NaN only where docs/model.md (section 7.19) says a value is empty
  (rates in a year without items, the balancing index with fewer than two poles, ...), and
  ``sco-sim run`` writes its files into ``results/<name>`` under the working folder;
- experiments: ``sco-sim batch`` exits 0 with every run finished (a run that fails on an
  accepted file is a bug), the stored tables pass the same NaN check, and ``sco-sim compare``
  exits 0 or refuses in one line; sensitivity files the same with ``sco-sim sensitivity``;
- or: exit status 2, exactly one line on standard error (``error: ...``), no traceback.

Every example runs in a fresh temporary tree (the working folder four levels down, so that
``../../../..`` stays inside it) under a time limit (a hang fails the example), and the tree
is compared before and after: nothing may be written outside ``results/``.

The normal suite runs a few examples per property (:data:`FAST`, derandomized: CI sees the
same ones each time); the ``slow`` lane runs :data:`SLOW` per property
(``pytest -m slow tests/test_fuzz.py``). ``SCO_FUZZ_EXAMPLES=N`` sets the number of examples of
every property and ``SCO_FUZZ_RANDOM=1`` draws new examples on each run (docs/experiments.md,
section 13, "What sco-sim guarantees with bad input"). Each bug the properties found has a
regression test of its own at the end of this file.
"""

from __future__ import annotations

import contextlib
import copy
import datetime as dt
import io
import json
import math
import os
import re
import shutil
import signal
import tempfile
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import annotated_types
import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, Phase, event, given, note, settings
from hypothesis import strategies as st
from hypothesis.control import currently_in_test_context

from sim.cli import main
from sim.errors import InputError
from sim.rules import RULES
from sim.scenario.schema import Membership, Parameters, Rules

from .conftest import DATA, ROOT, SHIPPED

pytestmark = pytest.mark.skipif(not hasattr(signal, "setitimer"), reason="the time limit needs SIGALRM")

# Lanes ---------------------------------------------------------------------------------------

#: examples per property in the normal suite, and in the slow lane
FAST, SLOW = 25, 300
_EXAMPLES = int(os.environ.get("SCO_FUZZ_EXAMPLES", "0"))
_RANDOM = bool(os.environ.get("SCO_FUZZ_RANDOM"))
#: the most seconds one example may take (a hang fails it)
TIME_LIMIT = 60.0


def lane(examples: int) -> settings:
    """Settings of one property: ``examples`` examples, derandomized, no example database."""
    return settings(
        max_examples=_EXAMPLES or examples,
        deadline=None,
        derandomize=not _RANDOM,
        database=None,
        print_blob=True,
        # no "explain" phase: it re-runs a failing example hundreds of times (minutes here)
        phases=[Phase.explicit, Phase.reuse, Phase.generate, Phase.shrink],
        suppress_health_check=[
            HealthCheck.too_slow,
            HealthCheck.data_too_large,
            HealthCheck.large_base_example,
            HealthCheck.filter_too_much,
        ],
    )


# A small TOML writer (tomllib reads only) ----------------------------------------------------


@dataclass(frozen=True)
class Deep:
    """A value nested ``depth`` levels deep in arrays or inline tables (written without recursion)."""

    depth: int
    kind: str  # "array" or "table"
    leaf: Any = 1


_BARE = re.compile(r"[A-Za-z0-9_-]+")
_ESCAPES = {'"': '\\"', "\\": "\\\\", "\b": "\\b", "\t": "\\t", "\n": "\\n", "\f": "\\f", "\r": "\\r"}


def toml_string(text: str) -> str:
    """Return ``text`` as a TOML basic string (control characters escaped)."""
    out = []
    for char in text:
        if char in _ESCAPES:
            out.append(_ESCAPES[char])
        elif ord(char) < 0x20 or ord(char) == 0x7F:
            out.append(f"\\u{ord(char):04X}")
        else:
            out.append(char)
    return '"' + "".join(out) + '"'


def toml_key(key: Any) -> str:
    key = str(key)
    return key if _BARE.fullmatch(key) else toml_string(key)


def toml_value(value: Any) -> str:
    """Return ``value`` as an inline TOML value."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        return repr(value)
    if isinstance(value, str):
        return toml_string(value)
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, Deep):
        inner = toml_value(value.leaf)
        if value.kind == "array":
            return "[" * value.depth + inner + "]" * value.depth
        return "{ a = " * value.depth + inner + " }" * value.depth
    if isinstance(value, list | tuple):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    if isinstance(value, dict):
        if not value:
            return "{}"
        return "{ " + ", ".join(f"{toml_key(k)} = {toml_value(v)}" for k, v in value.items()) + " }"
    raise TypeError(f"cannot write {value!r} as TOML")


def toml_document(doc: dict[str, Any]) -> str:
    """Return a document as TOML: one ``key = value`` line per top-level key, every table inline."""
    return "".join(f"{toml_key(k)} = {toml_value(v)}\n" for k, v in doc.items())


# The documents ---------------------------------------------------------------------------------


def _read(path: Path) -> dict[str, Any]:
    return tomllib.loads(path.read_text(encoding="utf-8"))


#: (name, document): the test fixture and the shipped scenarios (sco6/sco8/sco10 extend others)
SCENARIO_FILES = [("tiny", _read(DATA / "tiny.toml"))] + [(p.stem, _read(p)) for p in SHIPPED]
#: the test experiments (on tiny.toml) and the shipped experiments (on ../scenarios/*.toml)
EXPERIMENT_FILES = [("mini_experiment", _read(DATA / "mini_experiment.toml"))] + [
    (p.stem, _read(p))
    for p in sorted((ROOT / "experiments").glob("*.toml"))
    if "sensitivity" not in _read(p) and p.stem != "calibrate_history"
]
SENSITIVITY_FILES = [("mini_sensitivity", _read(DATA / "mini_sensitivity.toml"))] + [
    (p.stem, _read(p)) for p in sorted((ROOT / "experiments").glob("*.toml")) if "sensitivity" in _read(p)
]

CODES = ["RUS", "CHN", "KAZ", "KGZ", "TJK", "UZB", "IND", "PAK", "IRN", "BLR"]
AREA_NAMES = ["security", "trade", "energy", "finance", "a.b", "$x$", "x y", "ünï", "depth"]
STATUS_NAMES = ["member", "member", "member", "observer", "partner", "applicant", "outsider"]


def _bounds(info: Any) -> tuple[float, float, bool, bool]:
    """The range (low, high, low open, high open) of a schema field from its metadata."""
    low, high, low_open, high_open = -1e9, 1e9, False, False
    for item in info.metadata:
        if isinstance(item, annotated_types.Ge):
            low = float(item.ge)
        elif isinstance(item, annotated_types.Gt):
            low, low_open = float(item.gt), True
        elif isinstance(item, annotated_types.Le):
            high = float(item.le)
        elif isinstance(item, annotated_types.Lt):
            high, high_open = float(item.lt), True
    return low, high, low_open, high_open


def in_range(model: Any, name: str) -> st.SearchStrategy[Any]:
    """Values a schema field accepts, its ends included (they are where models break)."""
    info = model.model_fields[name]
    if info.annotation is bool:
        return st.booleans()
    low, high, low_open, high_open = _bounds(info)
    if info.annotation is int:
        return st.integers(int(low), int(high))
    ends = [v for v, open_ in ((low, low_open), (high, high_open)) if not open_]
    inner = st.floats(low, high, exclude_min=low_open, exclude_max=high_open, allow_nan=False)
    return st.one_of(st.sampled_from(ends), inner) if ends else inner


def _numeric(model: Any) -> list[str]:
    return [n for n, f in model.model_fields.items() if f.annotation in (int, float, bool)]


@st.composite
def shares(draw: Any, keys: tuple[str, ...] = ("security", "economy", "balancing", "regime")) -> dict:
    """Non-negative numbers over ``keys`` that sum to 1 (some may be 0)."""
    raw = draw(st.lists(st.integers(0, 10), min_size=len(keys), max_size=len(keys)))
    raw[draw(st.integers(0, len(keys) - 1))] += 1
    total = sum(raw)
    return {k: v / total for k, v in zip(keys, raw, strict=True)}


unit = st.one_of(st.sampled_from([0.0, 1.0]), st.floats(0.0, 1.0))


@st.composite
def scenario_documents(draw: Any) -> dict[str, Any]:
    """A valid scenario of 1-5 states and 1-4 areas, every number drawn from its documented range."""
    codes = draw(st.lists(st.sampled_from(CODES), min_size=1, max_size=5, unique=True))
    poles = draw(st.lists(st.sampled_from(codes), min_size=1, max_size=min(3, len(codes)), unique=True))
    start = draw(st.integers(1990, 2030))
    end = start + draw(st.integers(0, 6))
    areas = draw(st.lists(st.sampled_from(AREA_NAMES), min_size=1, max_size=4, unique=True))
    doc: dict[str, Any] = {
        "name": draw(st.sampled_from(["generated", "gen eräted", "$x$", "a.b"])),
        "start_year": start,
        "end_year": end,
        "poles": poles,
        "focal_state": draw(st.sampled_from(codes)),
        "states": {},
        "areas": {},
    }
    for code in codes:
        state: dict[str, Any] = {
            "name": code.title(),
            "status": {str(start): draw(st.sampled_from(STATUS_NAMES))},
            "capability": draw(st.one_of(st.sampled_from([0.0, 1.0, 1e6]), st.floats(0.0, 1.0))),
            "capability_growth": draw(st.sampled_from([-0.5, 0.0, 0.05, 1.0])),
            "weights": draw(shares()),
            "alignment": {p: draw(unit) for p in poles if p != code},
            "polyarchy": draw(unit),
        }
        if draw(st.booleans()):
            state["threat"] = {p: draw(unit) for p in poles if p != code}
        others = [c for c in codes if c != code]
        if others and draw(st.booleans()):
            state["rivalries"] = {draw(st.sampled_from(others)): draw(unit)}
        if draw(st.booleans()):
            state["security_ties"] = {p: draw(unit) for p in poles}
        state["wants_membership"] = draw(st.booleans())
        doc["states"][code] = state
    # A rivalry holds at the larger declared value; a smaller one beside it is refused as having
    # no effect (sim/scenario/inputs.py), so a pair declared on both sides is made equal.
    for code, state in doc["states"].items():
        for other, level in list(state.get("rivalries", {}).items()):
            back = doc["states"][other].get("rivalries", {})
            if code in back:
                back[code] = state["rivalries"][other] = max(level, back[code])
    for index, key in enumerate(areas):
        area: dict[str, Any] = {
            "label": key.upper(),
            "relevance": draw(shares()),
            "base_salience": draw(unit),
            "parents": draw(st.lists(st.sampled_from(areas[:index]), unique=True)) if index else [],
            "initial_depth": draw(st.sampled_from([0.0, 50.0, 100.0])),
            "agenda": draw(st.booleans()),
            "kind": draw(st.sampled_from(["common", "project"])),
        }
        if draw(st.booleans()):
            area["favours"] = draw(st.sampled_from(poles))
        doc["areas"][key] = area
    doc["rules"] = {"decision_rule": draw(st.sampled_from(list(RULES)))}
    if doc["rules"]["decision_rule"] == "consensus_opt_out":
        doc["rules"]["opt_out_allowed"] = True
    for name in draw(st.lists(st.sampled_from(_numeric(Rules)), max_size=6, unique=True)):
        doc["rules"][name] = draw(in_range(Rules, name))
    doc["parameters"] = {
        name: draw(in_range(Parameters, name))
        for name in draw(st.lists(st.sampled_from(_numeric(Parameters)), max_size=10, unique=True))
    }
    doc["membership"] = {
        "mode": draw(st.sampled_from(["scheduled", "endogenous"])),
        **{n: draw(in_range(Membership, n)) for n in ("moratorium", "lag_application", "apply_probability")},
    }
    if len(codes) > 1 and draw(st.booleans()):
        doc["membership"]["packages"] = [draw(st.lists(st.sampled_from(codes), min_size=1, unique=True))]
    doc["mechanisms"] = {
        n: draw(st.booleans())
        for n in ("spillover", "balancing", "participation_cost", "stand_aside", "event_process", "trust")
    }
    doc["events"] = draw(st.lists(events(codes, poles, areas, start, end), max_size=3))
    if draw(st.booleans()):
        doc["event_process"] = {
            "from_year": draw(st.integers(start, end)),
            "salience": {draw(st.sampled_from(areas)): {"rate": draw(unit), "size": draw(unit)}},
            "threat": {"rate": draw(unit), "size": draw(unit)},
            "rivalry": {"rate": draw(unit), "size": draw(unit)},
        }
    if len(codes) > 1 and draw(st.booleans()):
        pair = draw(st.lists(st.sampled_from(codes), min_size=2, max_size=2, unique=True))
        doc["claims"] = [
            {"states": pair, "salience": draw(st.floats(0, 12)), "start_year": start, "source": "x"}
        ]
    return doc


@st.composite
def events(draw: Any, codes: list[str], poles: list[str], areas: list[str], start: int, end: int) -> dict:
    """One event of a generated scenario (every key optional but the year and the label)."""
    event: dict[str, Any] = {"year": draw(st.integers(start, end)), "label": "event"}
    if draw(st.booleans()):
        event["salience"] = {draw(st.sampled_from(areas)): draw(st.floats(-10, 10))}
    if draw(st.booleans()):
        event["threat"] = {
            draw(st.sampled_from(codes)): {draw(st.sampled_from(poles)): draw(st.floats(-1, 1))}
        }
    if draw(st.booleans()):
        event["capability"] = {
            draw(st.sampled_from(codes)): draw(st.sampled_from([-1.0, -0.5, 0.0, 2.0, 100.0]))
        }
    if draw(st.booleans()):
        event["status"] = {draw(st.sampled_from(codes)): draw(st.sampled_from(STATUS_NAMES))}
    if draw(st.booleans()):
        event["table"] = [
            {
                "area": draw(st.sampled_from(areas)),
                "initiator": draw(st.sampled_from(codes)),
                "title": "item",
                "ambition": draw(st.sampled_from([0.0, 30.0, 100.0])),
                "sovereignty": draw(st.booleans()),
                "positions": {draw(st.sampled_from(codes)): draw(st.sampled_from([0.0, 100.0]))},
                "saliences": {draw(st.sampled_from(codes)): draw(unit)},
            }
        ]
    return event


def scenario_columns(doc: dict[str, Any]) -> dict[str, list[str]]:
    """The table columns a generated or fixture scenario's runs have (for metrics)."""
    from sim.model.recorder import table_columns

    return table_columns(doc.get("poles", ["RUS", "CHN"]), list(doc.get("areas", {})))


@st.composite
def experiment_documents(draw: Any, scenario: str, scenario_doc: dict[str, Any]) -> dict[str, Any]:
    """A valid experiment on one scenario file: arms with overrides, metrics, claims, maybe a sweep."""
    arms = draw(st.lists(st.sampled_from(["a", "b", "qmv", "x.y", "a b", "-", "ARM_2"]), min_size=1,
                         max_size=3, unique=True))  # fmt: skip
    doc: dict[str, Any] = {
        "schema_version": 1,
        "name": draw(st.sampled_from(["generated", "../../../../up", "/abs/olute", "$x$", "", "a\nb"])),
        "base_seed": draw(st.sampled_from([0, 1, 2**63 - 1])),
        "replications": draw(st.integers(1, 3)),
        "arms": {},
        "metrics": {},
        "charts": draw(st.lists(st.sampled_from(["envelopes", "differences", "objections"]), unique=True)),
        "texts": draw(st.booleans()),
    }
    for arm in arms:
        overrides: dict[str, Any] = {}
        for name in draw(st.lists(st.sampled_from(_numeric(Parameters)), max_size=2, unique=True)):
            overrides.setdefault("parameters", {})[name] = draw(in_range(Parameters, name))
        if draw(st.booleans()):
            overrides["rules"] = {"decision_rule": draw(st.sampled_from(["consensus", "qualified_majority"]))}
        doc["arms"][arm] = {"scenario": scenario, "overrides": overrides}
    columns = scenario_columns(scenario_doc)
    codes = sorted(scenario_doc["states"])
    start, end = scenario_doc["start_year"], scenario_doc["end_year"]
    for index in range(draw(st.integers(1, 3))):
        table = draw(st.sampled_from(["model", "states"]))
        numeric = [c for c in columns[table] if c not in ("year", "state", "status", "moratorium")]
        metric: dict[str, Any] = {
            "table": table,
            "column": draw(st.sampled_from(numeric)),
            "aggregate": draw(st.sampled_from(["mean", "sum", "last", "first", "max", "min", "first_above"])),
        }
        if table == "states":
            metric["state"] = draw(st.sampled_from(codes))
        if metric["aggregate"] == "first_above":
            metric["threshold"] = draw(st.sampled_from([-1e9, 0.0, 0.5, 1e9]))
        if draw(st.booleans()):
            low = draw(st.integers(start, end))
            metric["years"] = [low, draw(st.integers(low, end))]
        doc["metrics"][f"m{index}"] = metric
    if len(arms) > 1 and draw(st.booleans()):
        metric = draw(st.sampled_from(sorted(doc["metrics"])))
        doc["claims"] = [
            {
                "id": "c",
                "statement": f"{metric}[{arms[0]}] {draw(st.sampled_from(['<', '>']))} {metric}[{arms[1]}]",
                "band": draw(st.sampled_from([1e-9, 0.5, 1e6])),
                "band_reason": "fuzz",
            }
        ]
    if draw(st.booleans()):
        method = draw(st.sampled_from(["grid", "latin_hypercube", "sobol"]))
        names = draw(st.lists(st.sampled_from(["rules.tolerance", "parameters.agenda_size",
                                               "parameters.trust_gain"]), min_size=1, max_size=2, unique=True))  # fmt: skip
        section = {"rules": Rules, "parameters": Parameters}
        parameters = {}
        for name in names:
            model, field = section[name.split(".")[0]], name.split(".")[1]
            low, high, *_ = _bounds(model.model_fields[field])
            if method == "grid":
                parameters[name] = {"values": draw(st.lists(in_range(model, field), min_size=1, max_size=2))}
            else:
                parameters[name] = {"range": [low, high]}
        doc["sweep"] = {"method": method, "samples": draw(st.integers(1, 3)), "parameters": parameters}
    return doc


# Mutations -------------------------------------------------------------------------------------

HOSTILE_NUMBERS = [
    math.nan, math.inf, -math.inf, 1e308, -1e308, 5e-324, -0.0, 0, 0.0, -1, -1.0, 1, 2, 0.5, 1e16,
    2**31, 2**63 - 1, -(2**63), 2**64, 10**30, 1e9, 1e-9,
]  # fmt: skip
WRONG_TYPES = [
    "0.5", "", "nan", "1e308", "RUS", True, False, [], [0.5], [[1]], ["a"], {}, {"x": 1},
    dt.date(2000, 1, 1), dt.time(12, 0), dt.datetime(2000, 1, 1, 0, 0),
]  # fmt: skip
HOSTILE_KEYS = [
    "", " ", "\n", "a\nb", "\x1b[31mred", "\x00", "\t", "[", "]", "a.b", ".", "..", "$x$", "$\\frac{$",
    "../../x", "/abs", "\u202e", "\ufeff", "extends", "source", "lineage", "prehistory", "name", "KAZ",
    "kaz", "K.Z", "states", "events", "x" * 300, "é", "0", "-1", "2000",
]  # fmt: skip
#: what a path key (``extends``, an arm's ``scenario``) is set to; made by :class:`Box`
HOSTILE_PATHS = [
    "missing.toml", "folder", ".", "..", "/", "", "/dev/null", "/dev/zero", "fifo", "loop", "empty.toml",
    "binary.toml", "s.toml", "e.toml", "chain0.toml", "tiny.toml", "sco8_2017.toml", "../scenarios/sco6_2017.toml",
    "../../../../../outside/x.toml", "{outside}/x.toml", "{outside}", "tiny.toml/x", "a\nb.toml", "\x00",
    "../../../../../../../../../../etc/passwd", "x" * 300 + ".toml",
]  # fmt: skip
#: what a ``name`` (a folder under results/) is set to
HOSTILE_NAMES = [
    "../../../../x", "../..", "..", ".", "/abs", "{outside}/y", "a/b", "a\\b", "", " ", "\n", "$\\frac{$",
    "\x1b[2J", "con", "results", "x" * 300, ".hidden", "-rf", "a\x00b",
]  # fmt: skip

numbers = st.one_of(
    st.sampled_from(HOSTILE_NUMBERS),
    st.floats(),
    st.integers(min_value=-(2**70), max_value=2**70),
)
scalars = st.one_of(numbers, st.sampled_from(WRONG_TYPES), st.text(max_size=20))
hostile_values = st.one_of(
    scalars,
    st.lists(scalars, max_size=3),
    st.dictionaries(st.sampled_from(HOSTILE_KEYS), scalars, max_size=3),
)
hostile_keys = st.one_of(st.sampled_from(HOSTILE_KEYS), st.text(max_size=12))
deep = st.builds(Deep, st.sampled_from([2, 8, 31, 32, 33, 100, 3000]), st.sampled_from(["array", "table"]))

Path_ = tuple[Any, ...]

#: a scenario's [data] table: some of the sources, some with a data year
data_tables = st.dictionaries(
    st.sampled_from(["capability", "alignment", "polyarchy", "security_ties", "pole_ties", "claims"]),
    st.just(None),
).map(
    lambda keys: {
        key: {"capability": "cinc", "alignment": "unga", "polyarchy": "vdem", "security_ties": "csto",
              "pole_ties": "arms_trade", "claims": "icow"}[key]
        for key in keys
    }
)  # fmt: skip


def nudged(value: Any) -> st.SearchStrategy[Any]:
    """Numbers near ``value`` (or small ones): mostly still valid, so that accepted files are fuzzed too."""
    if type(value) is int:
        return st.sampled_from([value - 1, value + 1, 0, 1, 2 * value])
    if type(value) is float:
        return st.sampled_from([0.0, 1.0, value / 2, value * 0.999, value * 1.001, value * 2, -value])
    return st.sampled_from([0, 0.0, 0.5, 1])


def nodes(doc: Any, at: Path_ = ()) -> Iterator[Path_]:
    """Every place in a document (the root excluded): keys of tables and positions of arrays."""
    if isinstance(doc, dict):
        for key, value in doc.items():
            yield (*at, key)
            yield from nodes(value, (*at, key))
    elif isinstance(doc, list):
        for index, value in enumerate(doc):
            yield (*at, index)
            yield from nodes(value, (*at, index))


def parent_of(doc: Any, at: Path_) -> Any:
    for part in at[:-1]:
        doc = doc[part]
    return doc


def _rename(container: Any, key: Any, new: Any) -> None:
    if isinstance(container, dict) and new not in container:
        container[new] = container.pop(key)


@st.composite
def mutation(draw: Any, doc: dict[str, Any], kind: str) -> str:
    """Change ``doc`` in place in one way; return what was done (for the failure report)."""
    places = list(nodes(doc))
    path_keys = [p for p in places if p and p[-1] in ("extends", "scenario")]
    op = draw(st.sampled_from(["number", "number", "nudge", "nudge", "nudge", "value", "delete", "delete", "rename",
                               "add", "nest", "path", "name", "retype", "copy", "data"]))  # fmt: skip
    if op == "data":  # values from the shipped data tables, for whatever states and poles
        if kind == "scenario":
            doc["data"] = value = draw(data_tables)
            return f"data = {value!r}"
        op = "value"
    if op == "path":
        keys = path_keys or [("extends",)] if kind == "scenario" else path_keys
        if not keys:
            op = "value"
        else:
            at = draw(st.sampled_from(keys))
            parent_of(doc, at)[at[-1]] = value = draw(st.sampled_from(HOSTILE_PATHS))
            return f"path {at} = {value!r}"
    if op == "name":
        doc["name"] = value = draw(st.sampled_from(HOSTILE_NAMES))
        return f"name = {value!r}"
    if not places:
        doc[draw(hostile_keys)] = draw(hostile_values)
        return "add to an empty document"
    if op in ("number", "nudge"):
        numeric = [p for p in places if type(parent_of(doc, p)[p[-1]]) in (int, float)]
        at = draw(st.sampled_from(numeric or places))
    else:
        at = draw(st.sampled_from(places))
    container, key = parent_of(doc, at), at[-1]
    value = container[key]
    if op in ("number", "nudge"):
        container[key] = new = draw(numbers if op == "number" else nudged(value))
        return f"{at}: {value!r} -> {new!r}"
    if op == "value":
        container[key] = new = draw(hostile_values)
        return f"{at} = {new!r}"
    if op == "delete":
        del container[key]
        return f"delete {at}"
    if op == "rename":
        new = draw(hostile_keys)
        _rename(container, key, new)
        return f"rename {at} -> {new!r}"
    if op == "nest":
        container[key] = new = draw(deep)
        return f"{at} = {new}"
    if op == "copy":  # a subtree put where another belongs
        source = draw(st.sampled_from(places))
        container[key] = copy.deepcopy(parent_of(doc, source)[source[-1]])
        return f"copy {source} -> {at}"
    return f"{op} {at}: " + draw(reshaped(op, container, key))


@st.composite
def reshaped(draw: Any, op: str, container: Any, key: Any) -> str:
    """Add to a table or an array (or make a value an array), or turn a table, array or value into another."""
    value = container[key]
    if op == "add":
        if isinstance(value, dict):
            value[draw(hostile_keys)] = new = draw(hostile_values)
        elif isinstance(value, list):
            value.append(new := copy.deepcopy(draw(st.sampled_from(value))) if value else draw(scalars))
        else:
            container[key] = new = [value, value]
        return repr(new)
    if isinstance(value, dict):
        container[key] = new = list(value.values())
    elif isinstance(value, list):
        container[key] = new = {str(i): v for i, v in enumerate(value)}
    else:
        container[key] = new = {"value": value}
    return f"now a {type(new).__name__}"


#: lines appended to a file, or text spliced into it
RAW_LINES = [
    "a" + ".a" * 2000 + " = 1",
    "x = " + "[" * 3000 + "]" * 3000,
    "y = " + "{ a = " * 600 + "1" + " }" * 600,
    "[" + "t." * 200 + "t]",
    "[[events]]",
    "[states.KAZ]",
    'name = "again"',
    "= 1",
    "\x1b[31m = 1",
    '"\\u0000" = 1',
    "z = 1979-05-27T07:32:00Z",
    "w = 0x7fffffffffffffff",
    "v = 1_000_000_000_000_000_000_000",
]


@st.composite
def text_mutation(draw: Any, text: str) -> bytes:
    """The written text, perhaps damaged: cut short, spliced, a line dropped or added, a BOM, not UTF-8."""
    op = draw(st.sampled_from(["none"] * 18 + ["cut", "splice", "drop", "append", "bom", "bytes"]))
    data = text.encode("utf-8")
    if op == "none":
        return data
    if op == "bom":
        return b"\xef\xbb\xbf" + data
    if op == "bytes":
        where = draw(st.integers(0, len(data)))
        return (
            data[:where] + draw(st.sampled_from([b"\xff", b"\xc3", b"\x00", b"\r", b"\x1b"])) + data[where:]
        )
    lines = text.splitlines(keepends=True)
    if op == "cut":
        return data[: draw(st.integers(0, max(0, len(data) - 1)))]
    if op == "drop" and lines:
        index = draw(st.integers(0, len(lines) - 1))
        return "".join(lines[:index] + lines[index + 1 :]).encode("utf-8")
    if op == "append":
        return (text + draw(st.sampled_from(RAW_LINES)) + "\n").encode("utf-8")
    where = draw(st.integers(0, len(text)))
    piece = draw(
        st.one_of(st.sampled_from(["[", "]", "{", "}", '"', "=", "\n", ".", "$", "\\"]), st.text(max_size=5))
    )
    return (text[:where] + piece + text[where:]).encode("utf-8")


@st.composite
def mutated(draw: Any, bases: st.SearchStrategy[tuple[str, dict[str, Any]]], kind: str) -> tuple[str, bytes]:
    """A base document with one to three mutations, written as TOML (perhaps then damaged as text)."""
    name, doc = draw(bases)
    doc = copy.deepcopy(doc)
    done = [name]
    for _ in range(draw(st.sampled_from([1, 1, 1, 2, 3]))):
        done.append(draw(mutation(doc, kind)))
    data = draw(text_mutation(toml_document(doc)))
    return "; ".join(done), data


# The sandbox and the oracle --------------------------------------------------------------------


class Hang(Exception):
    """An example ran over :data:`TIME_LIMIT`."""


@contextlib.contextmanager
def time_limit(seconds: float = TIME_LIMIT) -> Iterator[None]:
    def alarm(*_: Any) -> None:
        raise Hang(f"no answer after {seconds:.0f} s")

    previous = signal.signal(signal.SIGALRM, alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


class Box:
    """A fresh temporary tree: ``root/a/b/c/d/work`` (the current folder) with the files paths point at.

    ``work`` holds tiny.toml, the shipped scenarios, a folder, a named pipe, a loop of links, an
    empty and a non-UTF-8 file and a chain of 20 ``extends``; ``root/a/b/c/d/scenarios`` the
    shipped scenarios (for the shipped experiments' ``../scenarios/``); ``root/outside`` a valid
    scenario (``{outside}`` in a path or a name stands for it).
    """

    def __init__(self, root: Path) -> None:
        self.root = root
        self.outside = root / "outside"
        self.work = root / "a" / "b" / "c" / "d" / "work"
        self.work.mkdir(parents=True)
        self.outside.mkdir()
        scenarios = self.work.parent / "scenarios"
        scenarios.mkdir()
        tiny = (DATA / "tiny.toml").read_text()
        (self.outside / "x.toml").write_text(tiny)
        (self.work / "tiny.toml").write_text(tiny)
        for path in SHIPPED:
            shutil.copy(path, self.work / path.name)
            shutil.copy(path, scenarios / path.name)
        (self.work / "folder").mkdir()
        os.mkfifo(self.work / "fifo")
        os.symlink("loop", self.work / "loop")
        (self.work / "empty.toml").write_bytes(b"")
        (self.work / "binary.toml").write_bytes(b"\xff\xfe\x00\x01name = 1\n")
        for i in range(20):
            (self.work / f"chain{i}.toml").write_text(f'extends = "chain{i + 1}.toml"\n' if i < 19 else tiny)

    def fill(self, data: bytes) -> bytes:
        """Put the real folder outside in place of ``{outside}`` (in paths and names)."""
        return data.replace(b"{outside}", json.dumps(str(self.outside))[1:-1].encode())

    def snapshot(self) -> dict[str, tuple[int, int]]:
        """Every entry of the tree: files with their size and time, folders (whose times change) bare."""
        found = {}
        for folder, dirs, files in os.walk(self.root):
            for name in dirs:
                found[os.path.relpath(os.path.join(folder, name), self.root)] = (-1, -1)
            for name in files:
                path = os.path.join(folder, name)
                info = os.lstat(path)
                found[os.path.relpath(path, self.root)] = (info.st_size, info.st_mtime_ns)
        return found


@contextlib.contextmanager
def sandbox() -> Iterator[Box]:
    with tempfile.TemporaryDirectory(prefix="sco-fuzz-") as tmp:
        box = Box(Path(tmp))
        with contextlib.chdir(box.work), time_limit():
            yield box


@contextlib.contextmanager
def writes_only_results(box: Box) -> Iterator[None]:
    """Fail if anything but ``results/`` under the working folder was created or changed."""
    before = box.snapshot()
    yield
    after = box.snapshot()
    allowed = os.path.relpath(box.work / "results", box.root)
    changed = sorted(
        p for p in set(before) | set(after)
        if before.get(p) != after.get(p) and p != allowed and not p.startswith(allowed + os.sep)
    )  # fmt: skip
    assert not changed, f"written outside results/: {changed}"


def cli(*argv: Any) -> tuple[int, str, str]:
    """Run the command line in this process; return (exit status, standard output, standard error)."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            status = main([str(a) for a in argv])
        except SystemExit as exc:
            status = exc.code if isinstance(exc.code, int) else 2
    return status, out.getvalue(), err.getvalue()


def refused_in_one_line(status: int, err: str, what: str) -> bool:
    """Return True for a refusal (exit 2, one line); False for success; fail on anything else."""
    assert "Traceback" not in err, f"{what}: a traceback\n{err}"
    assert status in (0, 2), f"{what}: exit status {status}\n{err}"
    if status == 0:
        return False
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1, f"{what}: {len(lines)} lines on standard error\n{err}"
    assert lines[0].startswith(("error: ", "sco-sim")), f"{what}: {lines[0]}"
    if currently_in_test_context():  # a property: the line goes into the report of a failing example
        note(f"{what}: {lines[0]}")
    return True


# NaN where the docs say a value may be empty (docs/model.md, section 7.19)


def _empty_allowed(table: str, column: str, frame: pd.DataFrame, poles: int) -> np.ndarray | None:
    """Rows where ``column`` may be NaN, or None where it never may."""
    if column == "balancing_index":
        return np.full(len(frame), poles < 2)
    if table == "model":
        items = frame["items"].to_numpy() == 0
        if column in ("consensus_rate", "adoption_rate", "diluted_share", "mean_rounds"):
            return items
        if column == "mean_adopted_ambition":
            return (frame["adopted"] + frame["adopted_opt_out"] + frame["diluted"]).to_numpy() == 0
        if column in ("cohesion", "mean_trust"):
            # fewer than two members at the summit (members at the start of the year or at its end)
            members = frame["members"].to_numpy()
            fewer = np.minimum(members, np.concatenate([[members[0]], members[:-1]])) < 2
            return fewer | items if column == "cohesion" else fewer
    if table == "decisions" and column == "adopted":
        return frame["outcome"].isin(["blocked", "deferred"]).to_numpy()
    return None


def assert_no_stray_nan(tables: dict[str, pd.DataFrame], poles: int, where: str = "") -> None:
    """No infinity anywhere; NaN only in the columns and rows where the docs say a value is empty."""
    for name, frame in tables.items():
        for column in frame.columns:
            if not (
                pd.api.types.is_numeric_dtype(frame[column]) and not pd.api.types.is_bool_dtype(frame[column])
            ):
                continue
            values = frame[column].to_numpy(dtype=float)
            assert not np.isinf(values).any(), f"{where}{name}.{column} holds infinity"
            empty = np.isnan(values)
            if not empty.any():
                continue
            allowed = _empty_allowed(name, column, frame, poles)
            stray = empty if allowed is None else empty & ~allowed
            assert not stray.any(), (
                f"{where}{name}.{column} is NaN in rows {np.flatnonzero(stray)[:5].tolist()}:\n"
                f"{frame[stray].head(3).to_string()}"
            )


def check_scenario(box: Box, data: bytes, seed: int, write: bool = True) -> str:
    """Write a scenario, check it, run it and (if ``write``) write a run; return "valid" or "refused"."""
    import sim

    path = box.work / "s.toml"
    path.write_bytes(box.fill(data))
    with writes_only_results(box):
        status, _, err = cli("check", path.name)
        if refused_in_one_line(status, err, "sco-sim check"):
            with pytest.raises(InputError):
                sim.load_scenario(path.name)
            return "refused"
        scenario = sim.load_scenario(path.name)
        until = min(scenario.start_year + 2, scenario.end_year)
        result = sim.run(scenario, seed=seed, until=until, texts=True)
        assert_no_stray_nan(result.tables, len(scenario.poles))
        summary = result.summary()
        assert (summary["items"] == 0) == math.isnan(summary["consensus_rate"]), summary
        if write:
            status, _, err = cli("run", path.name, "--seed", seed, "--until", until, "--no-chart")
            assert status == 0, f"sco-sim check accepts the scenario, sco-sim run refuses it: {err}"
            assert (box.work / "results").is_dir()
    return "valid"


#: what the normal suite runs of an accepted experiment: arm x point scenario-years x states
FAST_BUDGET, SLOW_BUDGET = 200, 2500


def design_cost(design: Any) -> int:
    """Scenario-years x states of one replication of every arm x point (what a batch costs)."""
    cells = design.runs.cells
    return sum((c.scenario.end_year - c.scenario.start_year + 1) * len(c.scenario.states) for c in cells)


def check_experiment(box: Box, data: bytes, budget: int, sensitivity: bool = False) -> str:
    """Write an experiment; run its batch (or sensitivity) if small, then compare; return the outcome."""
    from sim.experiments.design import load_experiment, load_sensitivity
    from sim.experiments.store import load_results

    path = box.work / "e.toml"
    path.write_bytes(box.fill(data))
    try:
        design = (load_sensitivity if sensitivity else load_experiment)(path.name)
    except InputError:
        design = None
    if design is not None:
        cells = design.runs.cells
        replications = len(design.runs) // len(cells) if sensitivity else 2
        if design_cost(design) * replications > budget:
            return "valid, too large to run here"
        if sensitivity and budget < SLOW_BUDGET:
            return "valid, run in the slow lane"
    with writes_only_results(box):
        command = ["sensitivity", path.name] if sensitivity else ["batch", path.name, "--replications", 2]
        status, _, err = cli(*command, "--sequential", "--no-progress")
        if refused_in_one_line(status, err, f"sco-sim {command[0]}"):
            assert design is None, f"the file loads, but sco-sim {command[0]} refuses it: {err}"
            return "refused"
        assert design is not None, f"the file is refused when loaded, but sco-sim {command[0]} accepts it"
        folders = [p for p in (box.work / "results").iterdir() if (p / "manifest.json").is_file()]
        assert len(folders) == 1, folders
        results = load_results(folders[0])
        summaries = results.tables["summaries"]
        failed = summaries[summaries["status"] != "ok"]
        assert failed.empty, f"runs failed on an accepted experiment:\n{failed.to_string()}"
        poles = min(len(c.scenario.poles) for c in design.runs.cells)
        for arm in design.arms:
            # a table no run has a row of is stored without columns (no decisions in any run)
            tables = {
                t: results.tables[t] for t in ("model", "states", "decisions") if len(results.tables[t])
            }
            tables = {
                t: f[f["arm"] == arm].drop(columns=["seed", "run_index"], errors="ignore")
                for t, f in tables.items()
            }
            for run, _ in tables["model"].groupby("run_id"):
                one = {t: f[f["run_id"] == run] for t, f in tables.items()}
                assert_no_stray_nan(one, poles, where=f"arm {arm}, run {run}: ")
        if not sensitivity:
            status, _, err = cli("compare", folders[0])
            refused_in_one_line(status, err, "sco-sim compare")
    return "valid"


# The properties ---------------------------------------------------------------------------------

scenario_bases = st.one_of(
    st.sampled_from(SCENARIO_FILES),
    st.builds(lambda d: ("generated", d), scenario_documents()),
)
# The small test experiments half the time: they are run, the shipped ones only loaded in the normal suite.
experiment_bases = st.one_of(st.just(EXPERIMENT_FILES[0]), st.sampled_from(EXPERIMENT_FILES))
sensitivity_bases = st.one_of(st.just(SENSITIVITY_FILES[0]), st.sampled_from(SENSITIVITY_FILES))
seeds = st.sampled_from([0, 1, 7, 2**63 - 1])
#: whether an accepted scenario is also run by `sco-sim run` (it writes files: a third of the time)
writes = st.sampled_from([True, False, False])


@lane(FAST)
@given(doc=st.data())
def test_toml_writer_round_trip(doc):
    """The writer writes what tomllib reads back (so a mutation reaches the loader as meant)."""
    keys = st.one_of(st.sampled_from(HOSTILE_KEYS), st.text(max_size=8))
    leaves = st.one_of(st.floats(allow_nan=False), st.integers(-(2**63), 2**63 - 1), st.booleans(), st.text(),
                       st.sampled_from(WRONG_TYPES[-3:]))  # fmt: skip
    values = st.recursive(
        leaves, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(keys, inner, max_size=3)
    )
    document = doc.draw(st.dictionaries(keys, values, max_size=5))
    assert tomllib.loads(toml_document(document)) == document


def _scenario_property(name: str, data: bytes, seed: int, write: bool) -> None:
    note(name)
    with sandbox() as box:
        event(check_scenario(box, data, seed, write or "name =" in name))


@lane(FAST - 10)  # a run each
@given(doc=scenario_documents(), seed=seeds, write=writes)
def test_generated_scenarios_run_without_nan(doc, seed, write):
    """A scenario with every number anywhere in its range is accepted and runs without NaN."""
    with sandbox() as box:
        assert check_scenario(box, toml_document(doc).encode(), seed, write) == "valid"


@lane(FAST)
@given(case=mutated(scenario_bases, "scenario"), seed=seeds, write=writes)
def test_mutated_scenarios_run_or_are_refused_in_one_line(case, seed, write):
    """A damaged scenario is refused in one line (exit 2) or accepted and runs without NaN."""
    _scenario_property(*case, seed, write)


@pytest.mark.slow
@lane(SLOW)
@given(doc=scenario_documents(), seed=seeds, write=writes)
def test_generated_scenarios_long(doc, seed, write):
    with sandbox() as box:
        assert check_scenario(box, toml_document(doc).encode(), seed, write) == "valid"


@pytest.mark.slow
@lane(SLOW)
@given(case=mutated(scenario_bases, "scenario"), seed=seeds, write=writes)
def test_mutated_scenarios_long(case, seed, write):
    _scenario_property(*case, seed, write)


@st.composite
def generated_experiments(draw: Any) -> tuple[str, bytes, str | None]:
    """An experiment on tiny.toml, or on a generated scenario written beside it as g.toml."""
    if draw(st.booleans()):
        scenario_doc = draw(scenario_documents())
        experiment = toml_document(draw(experiment_documents("g.toml", scenario_doc)))
        return "generated", experiment.encode(), toml_document(scenario_doc)
    tiny = SCENARIO_FILES[0][1]
    return "on tiny", toml_document(draw(experiment_documents("tiny.toml", tiny))).encode(), None


def _experiment_property(case: tuple[str, bytes, str | None], budget: int, sensitivity: bool = False) -> None:
    name, data, scenario = case
    note(name)
    with sandbox() as box:
        if scenario is not None:
            (box.work / "g.toml").write_text(scenario)
        event(check_experiment(box, data, budget, sensitivity))


@lane(FAST - 15)  # a batch and a compare each
@given(case=generated_experiments())
def test_generated_experiments_run(case):
    """An experiment drawn from the schema runs: every run finished, no stray NaN, compare answers."""
    _experiment_property(case, FAST_BUDGET)


@lane(FAST)
@given(case=mutated(experiment_bases, "experiment"))
def test_mutated_experiments_run_or_are_refused_in_one_line(case):
    """A damaged experiment file is refused in one line (exit 2) or runs (small designs are run here)."""
    _experiment_property((*case, None), FAST_BUDGET)


@lane(FAST)
@given(case=mutated(st.just(SENSITIVITY_FILES[0]), "experiment"))  # the shipped one takes seconds to load
def test_mutated_sensitivity_files_are_refused_in_one_line(case):
    """A damaged sensitivity file is refused in one line, or loads (the slow lane runs the small ones)."""
    _experiment_property((*case, None), FAST_BUDGET, sensitivity=True)


@pytest.mark.slow
@lane(SLOW // 3)  # about a second each: a batch and a compare
@given(case=generated_experiments())
def test_generated_experiments_long(case):
    _experiment_property(case, SLOW_BUDGET)


@pytest.mark.slow
@lane(SLOW)
@given(case=mutated(experiment_bases, "experiment"))
def test_mutated_experiments_long(case):
    _experiment_property((*case, None), SLOW_BUDGET)


@pytest.mark.slow
@lane(SLOW // 5)  # up to 10 s each: loading a large sample, or running a small one with its charts
@given(case=mutated(sensitivity_bases, "experiment"))
def test_mutated_sensitivity_files_long(case):
    _experiment_property((*case, None), SLOW_BUDGET, sensitivity=True)


# Found by fuzzing: one regression test each -----------------------------------------------------

MINI = (DATA / "mini_experiment.toml").read_text()
MINI_SENSITIVITY = (DATA / "mini_sensitivity.toml").read_text()


def one_line(status: int, err: str, *fragments: str) -> str:
    assert status == 2, err
    assert refused_in_one_line(status, err, "the command")
    line = err.strip()
    for fragment in fragments:
        assert fragment in line, (fragment, line)
    return line


@pytest.mark.parametrize("where", ["extends", "arm"])
def test_a_path_with_a_nul_character_is_one_line(where):
    """``extends`` or an arm's ``scenario`` holding a NUL (``"\\u0000"`` in TOML) was a ValueError traceback."""
    with sandbox() as box:
        if where == "extends":
            (box.work / "s.toml").write_text('extends = "ti\\u0000ny.toml"\nname = "x"\n')
            line = one_line(*cli("check", "s.toml")[::2], "key 'extends'", "NUL character")
        else:
            (box.work / "e.toml").write_text(
                MINI.replace('scenario = "tiny.toml"', 'scenario = "ti\\u0000ny.toml"', 1)
            )
            line = one_line(
                *cli("batch", "e.toml", "--sequential", "--no-progress")[::2], "arms.consensus", "NUL"
            )
        assert "\x00" not in line and "\\x00" in line


@pytest.mark.parametrize("sweep", [False, True])
def test_a_date_in_an_arms_overrides_is_one_line(sweep):
    """A TOML date in an arm's overrides was a TypeError traceback (the overrides were copied through JSON)."""
    text = MINI.replace(
        'overrides = { rules = { decision_rule = "qualified_majority" } }',
        "overrides = { rules = { decision_rule = 2017-01-01 } }",
    )
    if sweep:
        text += '\n[sweep]\nparameters = { "rules.tolerance" = { values = [0.05, 0.1] } }\n'
    with sandbox() as box:
        (box.work / "e.toml").write_text(text)
        status, _, err = cli("batch", "e.toml", "--sequential", "--no-progress")
        one_line(status, err, "arms.qmv", "rules.decision_rule", "got the date 2017-01-01")


def test_claims_and_effects_name_any_arm_an_experiment_accepts():
    """Arms named with '.', '-' or a space are accepted, but claims and effects could not name them."""
    from sim.experiments.design import load_experiment, load_sensitivity

    names = {"consensus": "con.sensus", "qmv": "q m-v"}
    text, sensitivity = MINI, MINI_SENSITIVITY
    for old, new in names.items():
        text = text.replace(f"[arms.{old}]", f'[arms."{new}"]').replace(f"[{old}]", f"[{new}]")
        sensitivity = sensitivity.replace(f"[arms.{old}]", f'[arms."{new}"]').replace(f"[{old}]", f"[{new}]")
    with sandbox() as box:
        (box.work / "e.toml").write_text(text)
        (box.work / "s.toml").write_text(sensitivity)
        design = load_experiment("e.toml")
        assert (design.claims[0].arm_a, design.claims[0].arm_b) == ("q m-v", "con.sensus")
        effects = load_sensitivity("s.toml").effects
        assert (effects[0].arm_a, effects[0].arm_b) == ("q m-v", "con.sensus")


def test_messages_say_what_is_wrong_in_plain_words():
    """'a experiment file' and pydantic's "Unable to parse input string" for a year of 1e300."""
    with sandbox() as box:
        (box.work / "e.toml").write_text(MINI + "[sweep]\nparameters = " + "[" * 40 + "]" * 40 + "\n")
        one_line(*cli("batch", "e.toml")[::2], "an experiment file needs only a few")
        (box.work / "e.toml").write_text(MINI.replace("years = [2001, 2005]", "years = [2001, 1e300]"))
        one_line(*cli("batch", "e.toml")[::2], "metrics.consensus_rate.years[1]", "expected a whole number",
                 "far too large")  # fmt: skip


@pytest.mark.parametrize("target", ["loop", "ti\\u0000ny.toml"])
def test_a_calibration_files_scenario_at_a_loop_of_links_or_a_nul_is_one_line(target):
    """The calibration file's scenario path went through Path.resolve(): a RuntimeError or ValueError traceback."""
    text = (ROOT / "experiments" / "calibrate_history.toml").read_text()
    with sandbox() as box:
        (box.work / "c.toml").write_text(text.replace('"../scenarios/history_1996.toml"', f'"{target}"'))
        status, _, err = cli("calibrate", "c.toml", "--out", "out")
        one_line(status, err, "c.toml", "a loop of symbolic links" if target == "loop" else "NUL character")


def test_pole_ties_with_a_pole_the_tables_lack_is_refused_when_loaded():
    """[data] pole_ties with a third pole passed `sco-sim check` and failed when the model was built.

    The arms and trade tables split by RUS and CHN only (docs/scenarios.md, section 2.8): `check`
    said OK, `run` failed, and a batch recorded every run as failed with exit status 0.
    """
    with sandbox() as box:
        (box.work / "s.toml").write_text('extends = "sco8_2017.toml"\npoles = ["RUS", "CHN", "KAZ"]\n')
        status, _, err = cli("check", "s.toml")
        one_line(status, err, "history_1996.toml", "data.pole_ties", "'KAZ' is a pole", "among RUS and CHN")
        (box.work / "e.toml").write_text(MINI.replace('scenario = "tiny.toml"', 'scenario = "s.toml"', 1))
        status, _, err = cli("batch", "e.toml", "--sequential", "--no-progress")
        one_line(status, err, "arms.consensus", "data.pole_ties")
        assert not (box.work / "results").exists()


@pytest.mark.parametrize("value", ["nan", "1", "[1]", '"tolerance"'])
def test_a_sensitivity_arm_whose_overrides_section_is_not_a_table_is_one_line(value):
    """`overrides = { rules = nan }` beside a sample of `tolerance` was a TypeError traceback.

    (And `rules = "tolerance"` was taken for a table that sets tolerance.)
    """
    text = MINI_SENSITIVITY.replace(
        'overrides = { rules = { decision_rule = "qualified_majority" } }',
        f"overrides = {{ rules = {value} }}",
    )
    with sandbox() as box:
        (box.work / "s.toml").write_text(text)
        status, _, err = cli("sensitivity", "s.toml", "--sequential", "--no-progress")
        one_line(status, err, "arms.qmv", "key 'rules': expected a table")
