"""Cross-checks a schema cannot express.

Every state, area, pole, rule and event a scenario names must exist and fit.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any

from sim.errors import ScenarioError
from sim.limits import MAX_CAPABILITY_REACHED, MAX_RUN_YEARS
from sim.rules import RULES
from sim.scenario.messages import dotted, origin
from sim.scenario.schema import WEIGHT_TOLERANCE, Area, Event, Scenario, State, TabledItem


def local_event_loc(origins: dict[tuple[str, ...], str], loc: tuple[Any, ...]) -> tuple[Any, ...]:
    """Translate ``events[i]`` in the merged list to the index inside its own file."""
    if len(loc) >= 2 and loc[0] == "events" and isinstance(loc[1], int):
        local = origins.get(("events#", str(loc[1])))
        if local is not None:
            return ("events", int(local), *loc[2:])
    return loc


Problem = tuple[tuple[Any, ...], str]  # (location of the key, what is wrong)


def check_references(scenario: Scenario, origins: dict[tuple[str, ...], str], top: str) -> None:
    """Raise :class:`ScenarioError` at the first name that points nowhere (state, area, pole, rule)."""
    for loc, message in problems(scenario):
        where = origin(origins, loc, top)
        raise ScenarioError(where, message, key=dotted(local_event_loc(origins, loc)))


def problems(scenario: Scenario) -> Iterator[Problem]:
    """Yield every problem of ``scenario``, in the order a reader meets them in the file."""
    yield from _top_level(scenario)
    for code, state in scenario.states.items():
        yield from _state(scenario, code, state)
    for key, area in scenario.areas.items():
        yield from _area(scenario, key, area)
    yield from _parent_cycles(scenario)
    for index, package in enumerate(scenario.membership.packages):
        for code in package:
            yield from _need_state(scenario, code, ("membership", "packages", index))
    for index, event in enumerate(scenario.events):
        yield from _event(scenario, ("events", index), event)
    for index, claim in enumerate(scenario.claims):
        for code in claim.states:
            yield from _need_state(scenario, code, ("claims", index, "states"))
        if claim.states[0] == claim.states[1]:
            yield ("claims", index, "states"), "a claim needs two different states"
    if scenario.event_process is not None:
        for key in scenario.event_process.salience:
            yield from _need_area(scenario, key, ("event_process", "salience", key))


def _need_state(
    scenario: Scenario, code: str, loc: tuple[Any, ...], what: str = "state"
) -> Iterator[Problem]:
    if code not in scenario.states:
        declared = ", ".join(sorted(scenario.states))
        yield loc, f"{what} '{code}' is not declared under [states] (declared: {declared})"


def _need_pole(scenario: Scenario, name: str, loc: tuple[Any, ...]) -> Iterator[Problem]:
    if name not in scenario.poles:
        yield loc, f"'{name}' is not a pole; poles are {scenario.poles}"


def _need_area(scenario: Scenario, name: str, loc: tuple[Any, ...]) -> Iterator[Problem]:
    if name not in scenario.areas:
        yield loc, f"unknown issue area '{name}' (areas: {', '.join(scenario.areas)})"


def _top_level(scenario: Scenario) -> Iterator[Problem]:
    rules = scenario.rules
    span = span_problem(scenario.start_year, scenario.end_year)
    if span:
        yield ("end_year",), span
    if rules.decision_rule not in RULES:
        yield (
            ("rules", "decision_rule"),
            f"unknown decision rule '{rules.decision_rule}'; expected one of: {', '.join(RULES)}",
        )
    if rules.decision_rule == "consensus_opt_out" and rules.opt_out_allowed is False:
        yield (
            ("rules", "opt_out_allowed"),
            "the consensus_opt_out rule needs opt-outs; remove this key or set it true",
        )
    if not scenario.poles:
        yield ("poles",), 'expected at least one pole (e.g. ["RUS", "CHN"])'
    for index, pole in enumerate(scenario.poles):
        yield from _need_state(scenario, pole, ("poles",), "pole")
        if pole in scenario.poles[:index]:
            yield ("poles",), f"pole '{pole}' is listed twice; list each pole once"
    yield from _need_state(scenario, scenario.focal_state, ("focal_state",))
    if not scenario.states:
        yield ("states",), "expected at least one state"
    if not scenario.areas:
        yield ("areas",), "expected at least one issue area"


def span_problem(start_year: int, end_year: int) -> str | None:
    """Say what is wrong with a run's years (ends before it starts, or too long), or None."""
    if end_year < start_year:
        return f"{end_year} is before start_year {start_year}"
    if end_year - start_year > MAX_RUN_YEARS:
        return (
            f"{end_year} is {end_year - start_year} years after start_year {start_year}; "
            f"expected at most {MAX_RUN_YEARS}"
        )
    return None


def capability_reached(scenario: Scenario, code: str, state: State) -> float:
    """Return the largest capability ``state`` can reach in the run (log10; -inf if always 0).

    The written value (or the table's largest) grown at ``capability_growth`` from the last
    year written to the end of the run, times every event's rise in it.
    """
    cap = state.capability
    written = cap if isinstance(cap, dict) else {scenario.start_year: cap}
    top = max(written.values())
    if top <= 0:
        return -math.inf
    grown = max(0, scenario.end_year - max(written))  # a table grows from its last year on
    log = math.log10(top) + max(0.0, grown * math.log10(1.0 + state.capability_growth))
    for event in [*scenario.prehistory, *scenario.events]:
        log += math.log10(max(1.0, 1.0 + event.capability.get(code, 0.0)))
    return log


def _state(scenario: Scenario, code: str, state: State) -> Iterator[Problem]:
    loc = ("states", code)
    if len(code) != 3 or not code.isalpha() or not code.isupper():
        yield loc, "expected an ISO3 code of three capital letters as the state key"
    total = state.weights.total()
    if not state.normalize_weights and abs(total - 1.0) > WEIGHT_TOLERANCE:
        yield (
            (*loc, "weights"),
            f"interest weights sum to {total:.4f}, expected 1 "
            "(fix the values, or set normalize_weights = true to rescale them)",
        )
    if total <= 0:
        yield (*loc, "weights"), "interest weights are all zero; expected some positive weight"
    for pole in scenario.poles:
        if pole != code and pole not in state.alignment:
            yield (*loc, "alignment"), f"missing alignment with pole '{pole}' (a number in [0, 1])"
    for key, table in (
        ("alignment", state.alignment),
        ("threat", state.threat),
        ("security_ties", state.security_ties),
    ):
        for pole in table:
            yield from _need_pole(scenario, pole, (*loc, key, pole))
    for other in state.rivalries:
        yield from _need_state(scenario, other, (*loc, "rivalries", other))
        if other == code:
            yield (*loc, "rivalries", other), "a state cannot be its own rival"
    if isinstance(state.capability, dict) and not state.capability:
        yield (*loc, "capability"), "expected a number or a table of year = value"
    elif (reached := capability_reached(scenario, code, state)) > math.log10(MAX_CAPABILITY_REACHED):
        key = "capability_growth" if state.capability_growth > 0 else "capability"
        yield (
            (*loc, key),
            f"the capability would grow to about 1e{reached:.0f} by {scenario.end_year} (the value written, "
            f"capability_growth and the events' changes); expected at most {MAX_CAPABILITY_REACHED:g}",
        )


def _area(scenario: Scenario, key: str, area: Area) -> Iterator[Problem]:
    loc = ("areas", key)
    total = area.relevance.total()
    if abs(total - 1.0) > WEIGHT_TOLERANCE:
        yield (*loc, "relevance"), f"relevance sums to {total:.4f}, expected 1"
    for parent in area.parents:
        if parent not in scenario.areas:
            yield (*loc, "parents"), f"unknown parent area '{parent}' (areas: {', '.join(scenario.areas)})"
        if parent == key:
            yield (*loc, "parents"), "an area cannot spill over from itself"
    if area.favours is not None:
        yield from _need_pole(scenario, area.favours, (*loc, "favours"))


def _parent_cycles(scenario: Scenario) -> Iterator[Problem]:
    """Yield the first cycle of ``parents`` (``a`` grows from ``b``, which grows from ``a``), if any.

    An area listing itself is reported by :func:`_area`; unknown parents are skipped here.
    """
    done: set[str] = set()
    for start in scenario.areas:
        path: list[str] = []
        stack = [(start, iter(scenario.areas[start].parents))]
        on_path = {start}
        path.append(start)
        while stack:
            area, parents = stack[-1]
            parent = next(parents, None)
            if parent is None:
                stack.pop()
                on_path.discard(path.pop())
                done.add(area)
                continue
            if parent == area or parent not in scenario.areas or parent in done:
                continue
            if parent in on_path:
                cycle = " -> ".join([*path[path.index(parent) :], parent])
                yield (
                    ("areas", area, "parents"),
                    f"parents form a circle: {cycle} (each area grows from the next); "
                    "an area cannot grow from itself",
                )
                return
            on_path.add(parent)
            path.append(parent)
            stack.append((parent, iter(scenario.areas[parent].parents)))


def _event(scenario: Scenario, loc: tuple[Any, ...], event: Event) -> Iterator[Problem]:
    for code in event.threat:
        yield from _need_state(scenario, code, (*loc, "threat", code))
        for pole in event.threat[code]:
            yield from _need_pole(scenario, pole, (*loc, "threat", code, pole))
    for code, others in event.rivalry.items():
        yield from _need_state(scenario, code, (*loc, "rivalry", code))
        for other in others:
            yield from _need_state(scenario, other, (*loc, "rivalry", code, other))
    for key in ("capability", "status"):
        for code in getattr(event, key):
            yield from _need_state(scenario, code, (*loc, key, code))
    for area in event.salience:
        yield from _need_area(scenario, area, (*loc, "salience", area))
    for index, item in enumerate(event.table):
        yield from _tabled_item(scenario, (*loc, "table", index), item)


def _tabled_item(scenario: Scenario, loc: tuple[Any, ...], item: TabledItem) -> Iterator[Problem]:
    yield from _need_area(scenario, item.area, (*loc, "area"))
    yield from _need_state(scenario, item.initiator, (*loc, "initiator"))
    if item.beneficiary is not None:
        yield from _need_state(scenario, item.beneficiary, (*loc, "beneficiary"), "beneficiary")
    for key in ("positions", "saliences"):
        for code in getattr(item, key):
            yield from _need_state(scenario, code, (*loc, key, code))
