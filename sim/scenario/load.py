"""Reading a scenario: TOML on disk, ``extends`` chains, overrides and ``[data]`` -> a :class:`Scenario`.

A scenario file is data, never code: it is parsed with :mod:`tomllib` and
checked field by field with pydantic. Nothing in it is evaluated.

A scenario may ``extends = "other.toml"`` (a path relative to the file). The
parent is resolved first, then the child's tables are merged into it key by key;
a few values are replaced whole rather than merged (see ``ATOMIC_KEYS``), and the
child's ``events`` are appended to the parent's. ``drop_events`` removes
inherited events by ``id``.

A ``[data]`` table names the shipped data tables (:mod:`sim.scenario.datasets`) that fill
the state attributes the resolved scenario leaves out: capability, alignment,
polyarchy and security ties. Values written in the scenario always win.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from sim.errors import DataError, ScenarioError
from sim.files import check_depth, read_toml_file, real_path
from sim.scenario import datasets, ties
from sim.scenario.checks import check_references, local_event_loc, span_problem
from sim.scenario.inputs import OVERRIDES, partial_table, rivalry_problems
from sim.scenario.messages import describe_error, dotted, mark, origin, text_values, user_loc
from sim.scenario.schema import ATOMIC_KEYS, RESERVED_KEYS, DataSources, Event, Scenario, Years

#: The most files an ``extends`` chain may hold (the file itself and the files it extends).
MAX_EXTENDS = 16


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
        check_depth(overrides, OVERRIDES, ScenarioError, what="set of overrides")
        _merge(merged, overrides, origins, OVERRIDES, ())
    top = str(path)
    for reserved in RESERVED_KEYS & set(merged):
        raise ScenarioError(
            origin(origins, (reserved,), top),
            "unknown key; this name is reserved for what sco-sim records while resolving a scenario",
            key=reserved,
        )
    _fill_from_data(merged, origins, top)
    scenario = _validate(merged, origins, top)
    check_references(scenario, origins, top)
    for where, key, message in rivalry_problems(scenario, origins, top, lineage):
        raise ScenarioError(where, message, key=key)
    scenario = _split_events(scenario, own_events, origins)
    return scenario.model_copy(update={"source": top, "lineage": lineage})


def _resolve(
    path: Path,
    origins: dict[tuple[str, ...], str],
    own_events: dict[int, str],
    chain: tuple[Path, ...],
    referrer: str | None = None,
) -> tuple[dict[str, Any], list[str]]:
    real = real_path(path)
    if real in chain:
        cycle = " -> ".join(str(p.name) for p in (*chain, real))
        raise ScenarioError(
            referrer or str(path),
            f"extends cycle: {cycle}; a scenario cannot extend itself",
            key="extends",
        )
    if len(chain) >= MAX_EXTENDS:
        raise ScenarioError(
            referrer or str(path),
            f"the extends chain holds more than {MAX_EXTENDS} files ({chain[0].name} -> {chain[1].name} -> "
            f"... -> {real.name}); merge some of them",
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
            continue
        if key in ATOMIC_KEYS:
            problem = partial_table(key, value, base.get(key), loc, where, origin(origins, loc, where))
            if problem:
                raise ScenarioError(where, problem, key=dotted(loc))
        # A value replaced whole: what the replaced value's keys were marked with goes too, so a
        # problem inside the new value is reported against the layer that wrote it.
        if isinstance(base.get(key), dict | list):
            for stale in [k for k in origins if len(k) > len(loc) and k[: len(loc)] == loc]:
                del origins[stale]
        base[key] = value
        mark(value, origins, where, loc)


def _validate(
    data: Any,
    origins: dict[tuple[str, ...], str],
    top: str,
    model: type[BaseModel] = Scenario,
    prefix: tuple[str, ...] = (),
) -> Any:
    """Validate ``data`` as ``model`` (found at ``prefix`` in the scenario), or raise one line."""
    try:
        validated = model.model_validate(data)
    except ValidationError as exc:
        errors: list[Any] = list(exc.errors(include_url=False))
        # Report the most specific error first: unknown keys and bad values before
        # the knock-on "missing" errors that the same typo can cause.
        errors.sort(key=lambda e: (e["type"] == "missing", -len(e["loc"])))
        # pydantic adds union branch names ('float', 'dict[int,...]') into loc; drop them
        errors = [{**e, "loc": (*prefix, *user_loc(e["loc"], data))} for e in errors]
        first = errors[0]
        loc = first["loc"]
        where = origin(origins, loc, top)
        more = f" (and {len(errors) - 1} more problem(s))" if len(errors) > 1 else ""
        key = dotted(local_event_loc(origins, loc)) or None
        raise ScenarioError(where, describe_error(first) + more, key=key) from None
    for loc, message in text_values(data, validated, prefix):
        raise ScenarioError(origin(origins, loc, top), message, key=dotted(local_event_loc(origins, loc)))
    return validated


def _fill_from_data(merged: dict[str, Any], origins: dict[tuple[str, ...], str], top: str) -> None:
    """Fill the state attributes the scenario leaves out from the tables its ``[data]`` names.

    Only what is missing is looked up, so a value written in the scenario (or in a file it
    extends) always wins over data. A state the data cannot cover in a year it is needed
    for is an error naming the data file, the state and the year, never a default.
    """
    if merged.get("data") is None:
        return
    sources: DataSources = _validate(merged["data"], origins, top, model=DataSources, prefix=("data",))
    frame: Years = _validate(merged, origins, top, model=Years)
    span = span_problem(frame.start_year, frame.end_year)
    if span:
        raise ScenarioError(origin(origins, ("end_year",), top), span, key="end_year")
    merged["data"] = _resolved_sources(sources, frame)
    if not isinstance(merged.get("states"), dict):
        return  # validation reports it
    # Copies, so that filling never writes into the caller's overrides.
    states = merged["states"] = dict(merged["states"])
    codes = sorted(states)
    # Capability shares divide by the total of the states that take capability from data.
    group = [c for c in codes if isinstance(states[c], dict) and "capability" not in states[c]]
    if sources.pole_ties is not None:
        _check_pole_ties(frame.poles, origin(origins, ("data", "pole_ties"), top))
        # Alignments the scenario writes stay as written in every year (a written value wins).
        merged["data"]["pole_ties"]["keep"] = _written_alignments(states, frame.poles)
    for key in ("capability", "alignment", "polyarchy", "security_ties"):
        entry = getattr(sources, key)
        if entry is None:
            continue
        where = origin(origins, ("data", key), top)
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
                filled = _data_values(key, entry.source, year, code, state, group, frame)
            except DataError as exc:
                # A capability share can lack another state's value: writing that state's capability
                # takes it out of the total. A missing pole's ideal point is fixed in this state's table.
                who = exc.state if key == "capability" and exc.state else code
                fix = f"write states.{who}.{key} in the scenario, or change [data]"
                raise ScenarioError(where, f"{exc.one_line()}; {fix}", key=f"data.{key}") from None
            for loc, value in filled.items():
                mark(value, origins, where, ("states", code, *loc))


def _check_pole_ties(poles: list[str], where: str) -> None:
    """Refuse ``pole_ties`` with a pole the arms and trade tables do not split by (they know RUS and CHN).

    Found when the scenario is loaded, so that ``sco-sim check`` and a batch's loading refuse
    it, rather than the model when it is built (a failed run in every run of a batch).
    """
    known = " and ".join(ties.ARMS_POLES)
    for pole in poles:
        if pole not in ties.ARMS_POLES:
            raise ScenarioError(
                where,
                f"arms and trade ties split by {known} only, and '{pole}' is a pole (poles: "
                f"{', '.join(poles)}); keep the poles among {known}, or leave pole_ties out of [data]",
                key="data.pole_ties",
            )


def _resolved_sources(sources: DataSources, frame: Years) -> dict[str, Any]:
    """Return the ``[data]`` table with the year each source was read for (the resolved scenario says it)."""
    return {
        key: entry.model_dump()
        if key in ("capability", "pole_ties", "claims")
        else {**entry.model_dump(), "year": frame.start_year if entry.year is None else entry.year}
        for key, entry in sources
        if entry is not None
    }


def _written_alignments(states: dict[str, Any], poles: list[str]) -> list[str]:
    """Return ``STATE:POLE`` for every alignment the scenario writes itself (before data fill it)."""
    return [
        f"{code}:{pole}"
        for code in sorted(states)
        if isinstance(states[code], dict) and isinstance(states[code].get("alignment"), dict)
        for pole in poles
        if pole != code and pole in states[code]["alignment"]
    ]


def _data_values(
    key: str, source: str, year: int, code: str, state: dict[str, Any], group: list[str], frame: Years
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
    scenario: Scenario, own_events: dict[int, str], origins: dict[tuple[str, ...], str]
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
                key=dotted(local_event_loc(origins, ("events", index, "year"))),
            )
        if in_run:
            inside.append(event)
        elif event.year < scenario.start_year:
            prehistory.append(event)
    inside.sort(key=lambda e: e.year)
    prehistory.sort(key=lambda e: e.year)
    return scenario.model_copy(update={"events": inside, "prehistory": prehistory})
