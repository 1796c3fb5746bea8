"""Inputs that would not do what they say: partial weight tables and rivalries that are not in force.

Two rules of the scenario format can make a value written in a file (or given as an
override) silently ineffective, so :func:`sim.scenario.load.load_scenario` refuses such a
value in one line naming the layer that wrote it (the file, or ``<overrides>``):

- **Weights are replaced whole.** ``weights`` (and an area's ``relevance``) is one vector:
  a layer that sets it replaces the inherited one rather than merging key by key
  (``ATOMIC_KEYS``). A layer that gives only some of the four interests would otherwise be
  reported as a missing key of the parent file; :func:`partial_table` says what happened
  and how to vary one weight.
- **A rivalry holds for both states, at the larger declared value** (and an inherited event
  before the start year sets it outright). :func:`rivalry_problems` finds a declared value
  that is not in force because of a value or an event written earlier in the chain, and
  :func:`rivalries_in_force` gives the values the model starts from (``sco-sim check``
  prints them).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from sim.scenario.messages import dotted, origin
from sim.scenario.schema import INTERESTS, Scenario

#: tables replaced whole whose keys are the four interests (a state's weights, an area's relevance)
WHOLE_VECTORS = {"weights": "interest weights", "relevance": "relevance"}

OVERRIDES = "<overrides>"

Pair = tuple[str, str]


def partial_table(
    key: str, value: Any, inherited: Any, loc: tuple[str, ...], where: str, parent: str
) -> str | None:
    """Return why a layer's partial ``weights`` / ``relevance`` table is refused, or None if it is whole.

    Only a table that replaces an inherited one and names some, but not all, of the four
    interests (and nothing else: a misspelt key is left to validation, which names it) is
    refused. ``parent`` is the file the inherited table came from.
    """
    if key not in WHOLE_VECTORS or not isinstance(value, dict) or not isinstance(inherited, dict):
        return None
    given = [k for k in value if k in INTERESTS]
    if len(given) != len(value) or len(given) == len(INTERESTS):
        return None
    missing = [k for k in INTERESTS if k not in value]
    what = WHOLE_VECTORS[key]
    message = (
        f"gives {', '.join(given)} only, but {what} are replaced whole, never merged with those of "
        f"{parent}: give all four ({', '.join(INTERESTS)}; missing: {', '.join(missing)})"
    )
    if where == OVERRIDES and key == "weights":
        sweep = dotted((*loc, given[0]))
        message += (
            f". To vary one weight, write the state's four weights in the overrides (an arm's "
            f'overrides in an experiment file) and sweep "{sweep}", with normalize_weights = true '
            "to have the four rescaled to sum 1 (docs/scenarios.md, section 4)"
        )
    return message


def rivalries_in_force(scenario: Scenario, events: Sequence[Any] | None = None) -> dict[Pair, float]:
    """Return the rivalry of every pair at the start of the run: ``{("CHN", "IND"): 0.5, ...}``.

    A declared rivalry holds for both states at the larger of the two declared values; an
    inherited event before the start year (``scenario.prehistory``) then sets the pair's value
    outright, as the model does before its first year. Pairs are in sorted order; pairs at 0
    are left out.

    Args:
        scenario: A loaded scenario.
        events: The events before the start year (default: ``scenario.prehistory``).

    """
    pairs: dict[Pair, float] = {}
    for code, state in scenario.states.items():
        for other, value in state.rivalries.items():
            pair = _pair(code, other)
            pairs[pair] = max(pairs.get(pair, 0.0), float(value))
    for event in scenario.prehistory if events is None else events:
        for code, others in event.rivalry.items():
            for other, value in others.items():
                pairs[_pair(code, other)] = float(value)
    return {pair: value for pair, value in sorted(pairs.items()) if value > 0}


def rivalry_problems(
    scenario: Scenario, origins: dict[tuple[str, ...], str], top: str, layers: Sequence[str]
) -> Iterator[tuple[str, str, str]]:
    """Yield ``(file, dotted key, message)`` for every declared rivalry that is not in force.

    A value is reported only against the layer that made it ineffective or a later one: a value
    a file declares is not reported because a later layer (a child file, the overrides) raised
    the other side. ``layers`` lists the files of the ``extends`` chain, parent first; the
    overrides come after them. ``scenario.events`` must still hold the events before the start
    year (they are split off after this check).

    A 0 on one side beside a value on the other side written in the same layer is how one side is
    set on its own (for example to sweep it), so it is not reported.
    """
    rank = {layer: index for index, layer in enumerate([*layers, OVERRIDES])}
    before = {}  # pair -> (the last event before the start that sets it, where it was written)
    for index, event in enumerate(scenario.events):
        if event.year < scenario.start_year:
            for code, others in event.rivalry.items():
                for other, value in others.items():
                    before[_pair(code, other)] = (event, value, origin(origins, ("events", index), top))
    for code, state in scenario.states.items():
        for other, value in state.rivalries.items():
            loc = ("states", code, "rivalries", other)
            where = origin(origins, loc, top)
            message = _not_in_force(scenario, code, other, value, where, origins, top, before, rank)
            if message:
                yield where, dotted(loc), message


def _not_in_force(
    scenario: Scenario,
    code: str,
    other: str,
    value: float,
    where: str,
    origins: dict[tuple[str, ...], str],
    top: str,
    before: dict[Pair, tuple[Any, float, str]],
    rank: dict[str, int],
) -> str | None:
    """Say why the declared rivalry ``code`` -> ``other`` has no effect, or return None if it has one."""
    mine = rank.get(where, len(rank))
    if _pair(code, other) in before:
        event, set_to, event_file = before[_pair(code, other)]
        if mine > rank.get(event_file, -1):
            return (
                f"{value:g} has no effect: the event '{event.label}' ({event.year}), inherited from "
                f"{event_file} and before the start year {scenario.start_year}, sets the rivalry "
                f"between {code} and {other} to {set_to:g}; change that event in its file, or drop it "
                "with drop_events and declare the rivalry here"
            )
        return None
    reverse = scenario.states[other].rivalries.get(code) if other in scenario.states else None
    if reverse is None or value >= reverse:
        return None
    reverse_loc = ("states", other, "rivalries", code)
    reverse_file = origin(origins, reverse_loc, top)
    if mine < rank.get(reverse_file, len(rank)) or (value == 0 and reverse_file == where):
        return None
    fix = (
        "to 0 as well to end the rivalry"
        if value == 0
        else "as well (to the same value, or to 0 beside this one to let this one count)"
    )
    other_key = dotted(reverse_loc)
    return (
        f"{value:g} has no effect: a rivalry holds for both states at the larger of the two declared "
        f"values, and {other_key} is {reverse:g} (in {reverse_file}); set {other_key} {fix}"
    )


def _pair(a: str, b: str) -> Pair:
    return (a, b) if a <= b else (b, a)
