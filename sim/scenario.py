"""Scenario files: TOML on disk -> validated, frozen :class:`Scenario` objects.

A scenario file is data, never code: it is parsed with :mod:`tomllib` and
checked field by field with pydantic. Nothing in it is evaluated.

A scenario may ``extends = "other.toml"`` (a path relative to the file). The
parent is resolved first, then the child's tables are merged into it key by key;
a few values are replaced whole rather than merged (see ``ATOMIC_KEYS``), and the
child's ``events`` are appended to the parent's. ``drop_events`` removes
inherited events by ``id``.

A ``[data]`` table names the shipped data tables (:mod:`sim.datasets`) that fill
the state attributes the resolved scenario leaves out: capability, alignment,
polyarchy and security ties. Values written in the scenario always win.
"""

from __future__ import annotations

import math
import tomllib
import types
from collections.abc import Iterable
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from sim import datasets
from sim.errors import DataError, InputError, ScenarioError

SCHEMA_VERSION = 1
INTERESTS: tuple[str, ...] = ("security", "economy", "balancing", "regime")
STATUSES: tuple[str, ...] = (
    "outsider",
    "partner",
    "observer",
    "applicant",
    "candidate",
    "memorandum",
    "member",
)
Status = Literal["outsider", "partner", "observer", "applicant", "candidate", "memorandum", "member"]

# Values replaced whole when a child scenario sets them (merging them key by key
# would silently mix two weight vectors or two status timelines).
ATOMIC_KEYS = frozenset({"weights", "relevance", "status", "capability", "parents", "poles", "packages"})
WEIGHT_TOLERANCE = 1e-3
# Fields of Scenario that record the resolution; a file may not set them.
RESERVED_KEYS = frozenset({"source", "lineage", "prehistory"})

Unit = Annotated[float, Field(ge=0.0, le=1.0)]
NonNeg = Annotated[float, Field(ge=0.0)]
Ambition = Annotated[float, Field(ge=0.0, le=100.0)]


class _Frozen(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=False)


class Weights(_Frozen):
    """Four non-negative interest weights that sum to 1 (thesis ch. IV.1)."""

    security: NonNeg
    economy: NonNeg
    balancing: NonNeg
    regime: NonNeg

    def as_tuple(self) -> tuple[float, float, float, float]:
        """Return the weights in the order of ``INTERESTS``."""
        return (self.security, self.economy, self.balancing, self.regime)

    def total(self) -> float:
        """Return the sum of the four weights."""
        return math.fsum(self.as_tuple())


class State(_Frozen):
    """One state agent's attributes as written in the scenario."""

    name: str
    status: dict[int, Status] = Field(default_factory=dict)
    capability: NonNeg | dict[int, NonNeg]
    capability_growth: Annotated[float, Field(ge=-0.5, le=1.0)] = 0.0
    weights: Weights
    normalize_weights: bool = False
    alignment: dict[str, Unit] = Field(default_factory=dict)
    threat: dict[str, Unit] = Field(default_factory=dict)
    polyarchy: Unit
    rivalries: dict[str, Unit] = Field(default_factory=dict)
    security_ties: dict[str, Unit] = Field(default_factory=dict)
    wants_membership: bool = False
    rationale: str = ""


class Area(_Frozen):
    """An issue area: how much it touches each interest and what it grows from."""

    label: str
    relevance: Weights
    parents: list[str] = Field(default_factory=list)
    base_salience: Unit
    favours: str | None = None
    initial_depth: Ambition = 0.0
    agenda: bool = True


class Rules(_Frozen):
    """The organisation's rule set (SCO Charter art. 16 by default: consensus)."""

    decision_rule: str = "consensus"
    norm_strength: Annotated[float, Field(gt=0.0)] = 1.0
    tolerance: NonNeg = 0.05
    max_rounds: Annotated[int, Field(ge=0, le=50)] = 6
    dilution_step: Annotated[float, Field(gt=0.0, lt=1.0)] = 0.25
    diluted_below: Annotated[float, Field(gt=0.0, lt=1.0)] = 0.5
    min_increment: NonNeg = 2.0
    deferral_margin: Annotated[float, Field(ge=1.0)] = 1.5
    opt_out_allowed: bool | None = None
    opt_out_ceiling: Annotated[float, Field(ge=1.0)] = 2.0
    opt_out_min_share: Unit = 0.5
    majority_threshold: Annotated[float, Field(gt=0.5, le=1.0)] = 2.0 / 3.0
    majority_weighted: bool = False


class Membership(_Frozen):
    """The accession procedure: who decides, with which minimum lags."""

    mode: Literal["scheduled", "endogenous"] = "scheduled"
    moratorium: bool = False
    lag_application: Annotated[int, Field(ge=0)] = 1
    lag_procedure: Annotated[int, Field(ge=0)] = 1
    lag_memorandum: Annotated[int, Field(ge=0)] = 1
    packages: list[list[str]] = Field(default_factory=list)
    apply_probability: Unit = 0.0


class Parameters(_Frozen):
    """Free model parameters (ranges and meaning: docs/scenarios.md)."""

    agenda_size: Annotated[int, Field(ge=0)] = 5
    min_readiness: NonNeg = 0.1
    spillover_depth: Annotated[float, Field(gt=0.0)] = 50.0
    spillover_shape: Annotated[float, Field(gt=0.0)] = 2.0
    position_base: float = 0.15
    position_scale: NonNeg = 1.2
    pole_weight: NonNeg = 0.5
    threat_weight: NonNeg = 3.0
    pole_salience: NonNeg = 0.5
    max_deferrals: Annotated[int, Field(ge=0)] = 2
    rivalry_weight: NonNeg = 0.3
    position_noise: NonNeg = 0.05
    salience_noise: NonNeg = 0.05
    implementation_rate: Unit = 0.6
    trust_initial: Unit = 0.5
    trust_newcomer: Unit = 0.3
    trust_gain: Unit = 0.03
    trust_loss: Unit = 0.08
    trust_tolerance: NonNeg = 1.0
    influence_gain: NonNeg = 0.05
    influence_decay: Unit = 0.15
    balancing_rate: NonNeg = 0.5
    alignment_reversion: Unit = 0.1
    shock_decay: Unit = 0.5
    retable_probability: Unit = 0.5
    enlargement_scale: NonNeg = 4.0
    voice_dilution: NonNeg = 0.5


class TabledItem(_Frozen):
    """An item an event puts on the agenda (e.g. China's 2010 Development Bank)."""

    area: str
    initiator: str
    title: str
    ambition: Ambition
    beneficiary: str | None = None
    positions: dict[str, Ambition] = Field(default_factory=dict)
    saliences: dict[str, Unit] = Field(default_factory=dict)


class Event(_Frozen):
    """Something that happens in a given year (MODEL.md section 3, step 1)."""

    id: str | None = None
    year: int
    label: str
    salience: dict[str, float] = Field(default_factory=dict)
    threat: dict[str, dict[str, float]] = Field(default_factory=dict)
    rivalry: dict[str, dict[str, Unit]] = Field(default_factory=dict)
    capability: dict[str, float] = Field(default_factory=dict)
    status: dict[str, Status] = Field(default_factory=dict)
    moratorium: bool | None = None
    table: list[TabledItem] = Field(default_factory=list)


class CapabilityData(_Frozen):
    """Capability from data: yearly over the run, held at the last data year's value after it."""

    source: Literal["cinc", "milex_share", "gdp_share"]


class _YearData(_Frozen):
    source: str
    year: int | None = None  # the data year; the scenario's start year if left out (filled in on loading)


class AlignmentData(_YearData):
    """Alignment with each pole from UN General Assembly ideal points in one year."""

    source: Literal["unga"]


class PolyarchyData(_YearData):
    """Regime type from V-Dem polyarchy in one year."""

    source: Literal["vdem"]


class TiesData(_YearData):
    """A security tie of 1.0 to Russia for CSTO members in one year (0.0 for the others)."""

    source: Literal["csto"]


class DataSources(_Frozen):
    """The ``[data]`` table: which data fills each state attribute the scenario does not write."""

    capability: CapabilityData | None = None
    alignment: AlignmentData | None = None
    polyarchy: PolyarchyData | None = None
    security_ties: TiesData | None = None

    @model_validator(mode="before")
    @classmethod
    def _source_names(cls, data: Any) -> Any:
        """``alignment = "unga"`` is short for ``alignment = { source = "unga" }``."""
        if isinstance(data, dict):
            return {k: {"source": v} if isinstance(v, str) else v for k, v in data.items()}
        return data


class _Years(BaseModel):
    """The keys the data filling needs before the whole scenario can be validated."""

    model_config = ConfigDict(extra="ignore")
    start_year: int
    end_year: int
    poles: list[str] = Field(default_factory=lambda: ["RUS", "CHN"])


class Scenario(_Frozen):
    """A fully resolved scenario (after ``extends``), ready to build a model from."""

    schema_version: Literal[1] = 1
    name: str
    description: str = ""
    start_year: int
    end_year: int
    focal_state: str = "KAZ"
    poles: list[str] = Field(default_factory=lambda: ["RUS", "CHN"])
    parameters: Parameters = Field(default_factory=Parameters)
    rules: Rules = Field(default_factory=Rules)
    membership: Membership = Field(default_factory=Membership)
    states: dict[str, State]
    areas: dict[str, Area]
    events: list[Event] = Field(default_factory=list)
    data: DataSources | None = None
    # Resolution record, filled by load_scenario (not written by users).
    source: str = ""
    lineage: list[str] = Field(default_factory=list)
    prehistory: list[Event] = Field(default_factory=list)

    # Convenience views -------------------------------------------------------
    @property
    def state_codes(self) -> list[str]:
        """ISO3 codes in canonical (sorted) order, independent of file order."""
        return sorted(self.states)

    @property
    def area_codes(self) -> list[str]:
        """Issue-area keys in file order (the order of the depth columns)."""
        return list(self.areas)

    def status_timeline(self, iso3: str) -> dict[int, str]:
        """Return the state's status changes (file timeline plus status events)."""
        timeline = dict(self.states[iso3].status)
        for event in [*self.prehistory, *self.events]:
            if iso3 in event.status:
                timeline[event.year] = event.status[iso3]
        return dict(sorted(timeline.items()))

    def status_in(self, iso3: str, year: int) -> str:
        """Return the state's scheduled status in ``year`` (``outsider`` before any entry)."""
        current = "outsider"
        for when, status in self.status_timeline(iso3).items():
            if when <= year:
                current = status
        return current

    def to_dict(self) -> dict[str, Any]:
        """Return the resolved scenario as plain data (for ``sco-sim check --json``)."""
        # Without [data] the dump is what it was before [data] existed (run hashes stay put).
        hidden = {"source", "lineage"} | ({"data"} if self.data is None else set())
        return self.model_dump(mode="json", exclude=hidden)


# Loading ---------------------------------------------------------------------


def load_scenario(path: str | Path, overrides: dict[str, Any] | None = None) -> Scenario:
    """Load, resolve (``extends``) and validate a scenario file.

    Args:
        path: The TOML file.
        overrides: Optional nested dict merged on top (as a last ``extends`` layer),
            e.g. ``{"rules": {"decision_rule": "qualified_majority"}}``.

    Returns:
        The frozen, validated scenario.

    Raises:
        ScenarioError: with one line naming the file, the key and what was expected.

    """
    path = Path(path)
    origins: dict[tuple[str, ...], str] = {}
    own_events: dict[int, str] = {}
    merged, lineage = _resolve(path, origins, own_events, chain=())
    if overrides:
        _merge(merged, overrides, origins, "<overrides>", ())
    top = str(path)
    for reserved in RESERVED_KEYS & set(merged):
        raise ScenarioError(
            _origin(origins, (reserved,), top),
            "unknown key; this name is reserved for what sco-sim records while resolving a scenario",
            key=reserved,
        )
    _fill_from_data(merged, origins, top)
    scenario = _validate(merged, origins, top)
    _check_references(scenario, origins, top)
    scenario = _split_events(scenario, own_events, origins, top)
    return scenario.model_copy(update={"source": top, "lineage": lineage})


def read_toml_file(
    path: Path, kind: str = "scenario", error: type[InputError] = ScenarioError, referrer: str | None = None
) -> tuple[dict[str, Any], bytes]:
    """Read a TOML data file; return its tables and raw bytes, or raise ``error`` in one line.

    Args:
        path: The file.
        kind: What the file should be ("scenario", "experiment"), for the messages.
        error: The exception class to raise.
        referrer: The file whose ``extends`` named this one, if any.

    """
    where = str(path)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        if referrer:
            raise error(
                referrer, f"extends points at '{path}', which does not exist", key="extends"
            ) from None
        raise error(where, "file not found (check the path)") from None
    except IsADirectoryError:
        raise error(where, f"is a folder, expected a .toml {kind} file") from None
    except PermissionError:
        raise error(where, "cannot be read (permission denied)") from None
    except OSError as exc:
        raise error(where, f"cannot be read ({exc.strerror or exc})") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise error(where, f"is not UTF-8 text; expected a TOML {kind} file") from None
    try:
        return tomllib.loads(text), raw
    except tomllib.TOMLDecodeError as exc:
        raise error(where, f"TOML syntax error: {exc}") from None


def _resolve(
    path: Path,
    origins: dict[tuple[str, ...], str],
    own_events: dict[int, str],
    chain: tuple[Path, ...],
    referrer: str | None = None,
) -> tuple[dict[str, Any], list[str]]:
    real = path.resolve()
    if real in chain:
        cycle = " -> ".join(str(p.name) for p in (*chain, real))
        raise ScenarioError(
            referrer or str(path),
            f"extends cycle: {cycle}; a scenario cannot extend itself",
            key="extends",
        )
    data, _ = read_toml_file(path, referrer=referrer)
    parent_ref = data.pop("extends", None)
    drop = data.pop("drop_events", [])
    if not isinstance(drop, list) or not all(isinstance(d, str) for d in drop):
        raise ScenarioError(str(path), "expected a list of event ids", key="drop_events")
    if parent_ref is None:
        base: dict[str, Any] = {}
        lineage: list[str] = []
    else:
        if not isinstance(parent_ref, str):
            raise ScenarioError(str(path), "expected a file name (string)", key="extends")
        parent_path = path.parent / parent_ref
        base, lineage = _resolve(parent_path, origins, own_events, (*chain, real), str(path))
        known = {e.get("id") for e in base.get("events", []) if isinstance(e, dict)}
        for event_id in drop:
            if event_id not in known:
                raise ScenarioError(
                    str(path),
                    f"no inherited event has id '{event_id}' (ids: {sorted(k for k in known if k)})",
                    key="drop_events",
                )
        kept = [
            i
            for i, e in enumerate(base.get("events", []))
            if not (isinstance(e, dict) and e.get("id") in drop)
        ]
        base["events"] = [base["events"][i] for i in kept]
        _renumber_events(origins, kept)
    if drop and parent_ref is None:
        raise ScenarioError(str(path), "drop_events needs an extends", key="drop_events")
    n_before = len(base.get("events", []))
    _merge(base, data, origins, str(path), ())
    # Events this file declares itself: their years must lie inside the run.
    own_events.clear()
    for index in range(n_before, len(base.get("events", []))):
        own_events[index] = str(path)
    return base, [*lineage, str(path)]


def _renumber_events(origins: dict[tuple[str, ...], str], kept: list[int]) -> None:
    """After events were dropped, move their origin records to the new positions."""
    moved: dict[tuple[str, ...], str] = {}
    for new, old in enumerate(kept):
        for key, value in list(origins.items()):
            if key[0] in ("events", "events#") and len(key) >= 2 and key[1] == str(old):
                moved[(key[0], str(new), *key[2:])] = value
    for key in [k for k in origins if k[0] in ("events", "events#")]:
        del origins[key]
    origins.update(moved)


def _merge(
    base: dict[str, Any],
    child: dict[str, Any],
    origins: dict[tuple[str, ...], str],
    where: str,
    prefix: tuple[str, ...],
) -> None:
    for key, value in child.items():
        loc = (*prefix, str(key))
        if key == "events" and not prefix:
            if not isinstance(value, list):
                origins[loc] = where
                base[key] = value
                continue
            events = base.setdefault("events", [])
            for local, item in enumerate(value):
                origins[("events", str(len(events)))] = where
                origins[("events#", str(len(events)))] = str(local)
                events.append(item)
            continue
        if isinstance(value, dict) and isinstance(base.get(key), dict) and key not in ATOMIC_KEYS:
            _merge(base[key], value, origins, where, loc)
        else:
            base[key] = value
            _mark(value, origins, where, loc)


def _mark(value: Any, origins: dict[tuple[str, ...], str], where: str, loc: tuple[str, ...]) -> None:
    origins[loc] = where
    if isinstance(value, dict):
        for key, sub in value.items():
            _mark(sub, origins, where, (*loc, str(key)))


def _origin(origins: dict[tuple[str, ...], str], loc: Iterable[Any], default: str) -> str:
    loc = tuple(str(part) for part in loc)
    for cut in range(len(loc), 0, -1):
        if loc[:cut] in origins:
            return origins[loc[:cut]]
    return default


def _dotted(loc: Iterable[Any]) -> str:
    parts: list[str] = []
    for part in loc:
        if isinstance(part, int):
            parts.append(f"[{part}]")
        else:
            parts.append(("." if parts else "") + str(part))
    return "".join(parts)


def _allowed_keys(loc: tuple[Any, ...]) -> list[str]:
    """Walk the schema along ``loc`` to list the keys allowed at that place."""
    model: Any = Scenario
    for part in loc:
        if isinstance(model, type) and issubclass(model, BaseModel):
            field = model.model_fields.get(str(part))
            if field is None:
                return []
            model = field.annotation
        else:
            # dict[str, X] / list[X]: step into the value type
            args = getattr(model, "__args__", ())
            model = args[-1] if args else None
        if isinstance(model, types.UnionType) and type(None) in model.__args__:
            # an optional table, such as `data`: step into the table
            model = next(a for a in model.__args__ if a is not type(None))
        while getattr(model, "__origin__", None) is not None and not (
            isinstance(model, type) and issubclass(model, BaseModel)
        ):
            origin = model.__origin__
            if origin in (dict, list):
                break
            args = [a for a in getattr(model, "__args__", ()) if a is not type(None)]
            model = args[0] if args else None
    if isinstance(model, type) and issubclass(model, BaseModel):
        return sorted(name for name in model.model_fields if name not in RESERVED_KEYS)
    return []


def first_error(exc: ValidationError) -> tuple[str, str | None]:
    """Return the one error of a pydantic failure worth showing, as (message, dotted key).

    Deeper and non-"missing" errors come first: they name the precise key at fault.
    """
    errors = sorted(exc.errors(include_url=False), key=lambda e: (e["type"] == "missing", -len(e["loc"])))
    first = errors[0]
    message = "unknown key" if first["type"] == "extra_forbidden" else _describe(first)
    return message, _dotted(first["loc"]) or None


def _describe(error: dict[str, Any]) -> str:
    kind = error["type"]
    ctx = error.get("ctx", {}) or {}
    got = error.get("input")
    shown = repr(got) if not isinstance(got, dict) else "a table"
    if kind == "missing":
        return "missing required key"
    if kind == "extra_forbidden":
        allowed = _allowed_keys(tuple(error["loc"][:-1]))
        hint = f"; allowed keys here: {', '.join(allowed)}" if allowed else ""
        return f"unknown key{hint}"
    if kind in {"float_parsing", "float_type", "int_parsing", "int_type", "int_from_float"}:
        want = "a whole number" if kind.startswith("int") else "a number"
        return f"expected {want}, got {shown}"
    if kind == "greater_than_equal":
        return f"expected a number >= {ctx.get('ge')}, got {shown}"
    if kind == "greater_than":
        return f"expected a number > {ctx.get('gt')}, got {shown}"
    if kind == "less_than_equal":
        return f"expected a number <= {ctx.get('le')}, got {shown}"
    if kind == "less_than":
        return f"expected a number < {ctx.get('lt')}, got {shown}"
    if kind == "literal_error":
        return f"expected one of {ctx.get('expected')}, got {shown}"
    if kind in {"dict_type", "model_type"}:
        return f"expected a table, got {shown}"
    if kind == "list_type":
        return f"expected a list, got {shown}"
    if kind in {"string_type"}:
        return f"expected a string, got {shown}"
    if kind == "bool_type" or kind == "bool_parsing":
        return f"expected true or false, got {shown}"
    return f"{error['msg']} (got {shown})"


def _validate(
    data: Any,
    origins: dict[tuple[str, ...], str],
    top: str,
    model: type[BaseModel] = Scenario,
    prefix: tuple[str, ...] = (),
) -> Any:
    """Validate ``data`` as ``model`` (found at ``prefix`` in the scenario), or raise one line."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        errors = [{**e, "loc": (*prefix, *e["loc"])} for e in exc.errors(include_url=False)]
        # Report the most specific error first: unknown keys and bad values before
        # the knock-on "missing" errors that the same typo can cause.
        errors.sort(key=lambda e: (e["type"] == "missing", -len(e["loc"])))
        first = errors[0]
        loc = tuple(p for p in first["loc"] if not (isinstance(p, str) and "[" in p))
        # pydantic adds union branch names ('float', 'dict[int,...]') into loc; drop them
        loc = tuple(p for p in loc if not (isinstance(p, str) and p in {"float", "constrained-float"}))
        loc = tuple(p for p in loc if not (isinstance(p, str) and p.startswith("dict[")))
        where = _origin(origins, loc, top)
        more = f" (and {len(errors) - 1} more problem(s))" if len(errors) > 1 else ""
        key = _dotted(_local_event_loc(origins, loc)) or None
        raise ScenarioError(where, _describe(first) + more, key=key) from None


def _fill_from_data(merged: dict[str, Any], origins: dict[tuple[str, ...], str], top: str) -> None:
    """Fill the state attributes the scenario leaves out from the tables its ``[data]`` names.

    Only what is missing is looked up, so a value written in the scenario (or in a file it
    extends) always wins over data. A state the data cannot cover in a year it is needed
    for is an error naming the data file, the state and the year, never a default.
    """
    if merged.get("data") is None:
        return
    sources: DataSources = _validate(merged["data"], origins, top, model=DataSources, prefix=("data",))
    frame: _Years = _validate(merged, origins, top, model=_Years)
    if frame.end_year < frame.start_year:
        where = _origin(origins, ("end_year",), top)
        raise ScenarioError(
            where, f"{frame.end_year} is before start_year {frame.start_year}", key="end_year"
        )
    # Record the year each source was read for, so the resolved scenario says it.
    merged["data"] = {
        key: spec.model_dump()
        if key == "capability"
        else {**spec.model_dump(), "year": frame.start_year if spec.year is None else spec.year}
        for key, spec in sources
        if spec is not None
    }
    if not isinstance(merged.get("states"), dict):
        return  # validation reports it
    # Copies, so that filling never writes into the caller's overrides.
    states = merged["states"] = dict(merged["states"])
    codes = sorted(states)
    # Capability shares divide by the total of the states that take capability from data.
    group = [c for c in codes if isinstance(states[c], dict) and "capability" not in states[c]]
    for key in ("capability", "alignment", "polyarchy", "security_ties"):
        spec = getattr(sources, key)
        if spec is None:
            continue
        where = _origin(origins, ("data", key), top)
        year = merged["data"][key].get("year")
        if key == "security_ties" and datasets.CSTO_POLE not in frame.poles:
            raise ScenarioError(
                where,
                f"CSTO membership is a security tie to {datasets.CSTO_POLE}, which is not a pole "
                f"(poles: {', '.join(frame.poles)}); write security_ties in the states instead",
                key="data.security_ties",
            )
        for code in codes:
            if not isinstance(states[code], dict):
                continue
            state = states[code] = dict(states[code])
            try:
                filled = _data_values(key, spec.source, year, code, state, group, frame)
            except DataError as exc:
                # A capability share can lack another state's value: writing that state's capability
                # takes it out of the total. A missing pole's ideal point is fixed in this state's table.
                who = exc.state if key == "capability" and exc.state else code
                fix = f"write states.{who}.{key} in the scenario, or change [data]"
                raise ScenarioError(where, f"{exc.one_line()}; {fix}", key=f"data.{key}") from None
            for loc, value in filled.items():
                _mark(value, origins, where, ("states", code, *loc))


def _data_values(
    key: str, source: str, year: int, code: str, state: dict[str, Any], group: list[str], frame: _Years
) -> dict[tuple[str, ...], Any]:
    """Write the data values of one attribute that ``state`` lacks into it; return what was written."""
    filled: dict[tuple[str, ...], Any] = {}
    if key == "capability" and "capability" not in state:
        series = datasets.capability_series(code, frame.start_year, frame.end_year, source, group)
        filled[("capability",)] = state["capability"] = series
    elif key == "polyarchy" and "polyarchy" not in state:
        filled[("polyarchy",)] = state["polyarchy"] = datasets.polyarchy(code, year)
    elif key in ("alignment", "security_ties") and isinstance(state.get(key, {}), dict):
        # Tables by pole: data fills only the poles the scenario does not give.
        table = state[key] = dict(state.get(key, {}))
        poles = [datasets.CSTO_POLE] if key == "security_ties" else frame.poles
        for pole in poles:
            if pole != code and pole not in table:
                lookup = datasets.alignment if key == "alignment" else datasets.security_tie
                filled[(key, pole)] = table[pole] = lookup(code, pole, year)
    return filled


def _split_events(
    scenario: Scenario, own_events: dict[int, str], origins: dict[tuple[str, ...], str], top: str
) -> Scenario:
    """Check event years; inherited events before the start become initial conditions."""
    inside: list[Event] = []
    prehistory: list[Event] = []
    for index, event in enumerate(scenario.events):
        in_run = scenario.start_year <= event.year <= scenario.end_year
        if index in own_events and not in_run:
            raise ScenarioError(
                own_events[index],
                f"event year {event.year} is outside the run "
                f"{scenario.start_year}-{scenario.end_year}; move the event or the run's years",
                key=_dotted(_local_event_loc(origins, ("events", index, "year"))),
            )
        if in_run:
            inside.append(event)
        elif event.year < scenario.start_year:
            prehistory.append(event)
    inside.sort(key=lambda e: e.year)
    prehistory.sort(key=lambda e: e.year)
    return scenario.model_copy(update={"events": inside, "prehistory": prehistory})


def _local_event_loc(origins: dict[tuple[str, ...], str], loc: tuple[Any, ...]) -> tuple[Any, ...]:
    """Translate ``events[i]`` in the merged list to the index inside its own file."""
    if len(loc) >= 2 and loc[0] == "events" and isinstance(loc[1], int):
        local = origins.get(("events#", str(loc[1])))
        if local is not None:
            return ("events", int(local), *loc[2:])
    return loc


def _check_references(scenario: Scenario, origins: dict[tuple[str, ...], str], top: str) -> None:
    from sim.rules import RULES  # local import: rules does not depend on scenarios

    states = scenario.states
    areas = scenario.areas

    def fail(loc: tuple[Any, ...], message: str) -> None:
        where = _origin(origins, loc, top)
        raise ScenarioError(where, message, key=_dotted(_local_event_loc(origins, loc)))

    def need_state(code: str, loc: tuple[Any, ...], what: str = "state") -> None:
        if code not in states:
            fail(
                loc, f"{what} '{code}' is not declared under [states] (declared: {', '.join(sorted(states))})"
            )

    if scenario.end_year < scenario.start_year:
        fail(("end_year",), f"{scenario.end_year} is before start_year {scenario.start_year}")
    if scenario.rules.decision_rule not in RULES:
        fail(
            ("rules", "decision_rule"),
            f"unknown decision rule '{scenario.rules.decision_rule}'; expected one of: {', '.join(RULES)}",
        )
    if scenario.rules.decision_rule == "consensus_opt_out" and scenario.rules.opt_out_allowed is False:
        fail(
            ("rules", "opt_out_allowed"),
            "the consensus_opt_out rule needs opt-outs; remove this key or set it true",
        )
    if not scenario.poles:
        fail(("poles",), 'expected at least one pole (e.g. ["RUS", "CHN"])')
    for pole in scenario.poles:
        need_state(pole, ("poles",), "pole")
    need_state(scenario.focal_state, ("focal_state",))
    if not states:
        fail(("states",), "expected at least one state")
    if not areas:
        fail(("areas",), "expected at least one issue area")

    for code, state in states.items():
        if len(code) != 3 or not code.isalpha() or not code.isupper():
            fail(("states", code), "expected an ISO3 code of three capital letters as the state key")
        total = state.weights.total()
        if not state.normalize_weights and abs(total - 1.0) > WEIGHT_TOLERANCE:
            fail(
                ("states", code, "weights"),
                f"interest weights sum to {total:.4f}, expected 1 "
                "(fix the values, or set normalize_weights = true to rescale them)",
            )
        if total <= 0:
            fail(("states", code, "weights"), "interest weights are all zero; expected some positive weight")
        for pole in scenario.poles:
            if pole != code and pole not in state.alignment:
                fail(
                    ("states", code, "alignment"),
                    f"missing alignment with pole '{pole}' (a number in [0, 1])",
                )
        for key, table in (
            ("alignment", state.alignment),
            ("threat", state.threat),
            ("security_ties", state.security_ties),
        ):
            for pole in table:
                if pole not in scenario.poles:
                    fail(("states", code, key, pole), f"'{pole}' is not a pole; poles are {scenario.poles}")
        for other in state.rivalries:
            need_state(other, ("states", code, "rivalries", other))
            if other == code:
                fail(("states", code, "rivalries", other), "a state cannot be its own rival")
        if isinstance(state.capability, dict) and not state.capability:
            fail(("states", code, "capability"), "expected a number or a table of year = value")

    for key, area in areas.items():
        total = area.relevance.total()
        if abs(total - 1.0) > WEIGHT_TOLERANCE:
            fail(("areas", key, "relevance"), f"relevance sums to {total:.4f}, expected 1")
        for parent in area.parents:
            if parent not in areas:
                fail(("areas", key, "parents"), f"unknown parent area '{parent}' (areas: {', '.join(areas)})")
            if parent == key:
                fail(("areas", key, "parents"), "an area cannot spill over from itself")
        if area.favours is not None and area.favours not in scenario.poles:
            fail(("areas", key, "favours"), f"'{area.favours}' is not a pole; poles are {scenario.poles}")

    for package_index, package in enumerate(scenario.membership.packages):
        for code in package:
            need_state(code, ("membership", "packages", package_index))

    for index, event in enumerate(scenario.events):
        loc = ("events", index)
        for code in event.threat:
            need_state(code, (*loc, "threat", code))
            for pole in event.threat[code]:
                if pole not in scenario.poles:
                    fail((*loc, "threat", code, pole), f"'{pole}' is not a pole; poles are {scenario.poles}")
        for code, others in event.rivalry.items():
            need_state(code, (*loc, "rivalry", code))
            for other in others:
                need_state(other, (*loc, "rivalry", code, other))
        for code in event.capability:
            need_state(code, (*loc, "capability", code))
        for code in event.status:
            need_state(code, (*loc, "status", code))
        for area in event.salience:
            if area not in areas:
                fail((*loc, "salience", area), f"unknown issue area '{area}' (areas: {', '.join(areas)})")
        for item_index, item in enumerate(event.table):
            item_loc = (*loc, "table", item_index)
            if item.area not in areas:
                fail((*item_loc, "area"), f"unknown issue area '{item.area}' (areas: {', '.join(areas)})")
            need_state(item.initiator, (*item_loc, "initiator"))
            if item.beneficiary is not None and item.beneficiary not in scenario.poles:
                fail(
                    (*item_loc, "beneficiary"),
                    f"'{item.beneficiary}' is not a pole; poles are {scenario.poles}",
                )
            for code in item.positions:
                need_state(code, (*item_loc, "positions", code))
            for code in item.saliences:
                need_state(code, (*item_loc, "saliences", code))


def interest_weights(state: State) -> tuple[float, float, float, float]:
    """Return a state's interest weights, rescaled to sum 1 only if the file asks for it."""
    values = state.weights.as_tuple()
    if state.normalize_weights:
        total = math.fsum(values)
        return tuple(v / total for v in values)  # type: ignore[return-value]
    return values
