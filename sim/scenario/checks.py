"""Cross-checks a schema cannot express.

Every state, area, pole, rule and event a scenario names must exist and fit.
"""

from __future__ import annotations

from typing import Any

from sim.errors import ScenarioError
from sim.rules import RULES
from sim.scenario.messages import dotted, origin
from sim.scenario.schema import WEIGHT_TOLERANCE, Scenario


def local_event_loc(origins: dict[tuple[str, ...], str], loc: tuple[Any, ...]) -> tuple[Any, ...]:
    """Translate ``events[i]`` in the merged list to the index inside its own file."""
    if len(loc) >= 2 and loc[0] == "events" and isinstance(loc[1], int):
        local = origins.get(("events#", str(loc[1])))
        if local is not None:
            return ("events", int(local), *loc[2:])
    return loc


def check_references(scenario: Scenario, origins: dict[tuple[str, ...], str], top: str) -> None:
    """Raise :class:`ScenarioError` at the first name that points nowhere (state, area, pole, rule)."""
    states = scenario.states
    areas = scenario.areas

    def fail(loc: tuple[Any, ...], message: str) -> None:
        where = origin(origins, loc, top)
        raise ScenarioError(where, message, key=dotted(local_event_loc(origins, loc)))

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
