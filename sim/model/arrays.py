"""What a model derives from its scenario before the first year, shared by every seed of it.

:class:`ScenarioArrays` is built once per scenario (and last year) and cached, so that a
batch does not redo this work for each run; the model takes its read-only arrays as they
are (``SHARED_STATE_ARRAYS``, ``SHARED_AREA_ARRAYS``) and copies those a run changes.
"""

from __future__ import annotations

import copy
from typing import Any, Protocol

import numpy as np

from sim.model import agenda, series
from sim.scenario import STATUSES, Event, Scenario, interest_weights

MEMBER = STATUSES.index("member")
APPLICANT = STATUSES.index("applicant")


class LastingState(Protocol):
    """What an event's lasting effects change: a model, or the arrays a model starts from."""

    index: dict[str, int]
    poles: list[str]
    threat: np.ndarray
    rivalry: np.ndarray
    moratorium: bool


class ScenarioArrays:
    """What a model derives from its scenario before the first year: the same for every seed.

    Built once per scenario (and last year) and shared by every model of it, so that
    a batch does not redo this work for each run. Its arrays are read-only; a model
    copies those that a run changes (see ``SCOModel._build_states``).

    Args:
        scenario: A validated scenario.
        end_year: The last year simulated.

    """

    def __init__(self, scenario: Scenario, end_year: int) -> None:
        self.scenario = scenario  # keeps the object (whose id is the cache key) alive
        self.start_year = scenario.start_year
        self.end_year = end_year
        self._build_states(scenario)
        self._build_areas(scenario)
        # Inherited events before the start year set the initial conditions.
        for event in scenario.prehistory:
            apply_lasting_effects(self, event)
        self._schedule(scenario)
        for value in vars(self).values():
            if isinstance(value, np.ndarray):
                value.setflags(write=False)

    def _build_states(self, sc: Scenario) -> None:
        self.codes: list[str] = sc.state_codes
        self.index = {code: i for i, code in enumerate(self.codes)}
        self.poles: list[str] = list(sc.poles)
        self.pole_index = np.array([self.index[p] for p in self.poles])
        self.pole_list: list[int] = self.pole_index.tolist()
        self.focal = self.index[sc.focal_state]
        n, n_poles = len(self.codes), len(self.poles)
        states = [sc.states[c] for c in self.codes]
        self.names = [s.name for s in states]
        self.weights = np.array([interest_weights(s) for s in states], dtype=float)
        self.polyarchy = np.array([s.polyarchy for s in states], dtype=float)
        self.regime_stake = 1.0 - self.polyarchy
        # Regime preservation weighs more for autocracies: its weight is scaled by 1 - polyarchy.
        self.scaled_weights = self.weights.copy()
        self.scaled_weights[:, 3] *= self.regime_stake
        self.alignment = np.zeros((n, n_poles))
        self.threat = np.zeros((n, n_poles))
        self.ties = np.zeros((n, n_poles))
        for i, s in enumerate(states):
            for p, pole in enumerate(self.poles):
                self.alignment[i, p] = 1.0 if self.codes[i] == pole else s.alignment[pole]
                self.threat[i, p] = s.threat.get(pole, 0.0)
                self.ties[i, p] = s.security_ties.get(pole, 0.0)
        self.is_pole = np.zeros(n, dtype=bool)
        self.is_pole[self.pole_index] = True
        self.pole_of = np.full(n, -1, dtype=int)  # which pole a state is (-1: none)
        self.pole_of[self.pole_index] = np.arange(n_poles)
        self.pole_of_list = self.pole_of.tolist()
        self.rivalry = np.zeros((n, n))
        for i, s in enumerate(states):
            for other, value in s.rivalries.items():
                j = self.index[other]
                self.rivalry[i, j] = max(self.rivalry[i, j], value)
                self.rivalry[j, i] = max(self.rivalry[j, i], value)
        self.seeks_membership = np.array([s.wants_membership for s in states], dtype=bool)
        self.capability_series = self._capability_series(sc, states)
        years = np.arange(self.start_year, self.end_year + 1)
        self.claim_series = series.claim_series(sc, self.codes, years)
        self.baseline_series = series.baseline_series(sc, self.codes, self.poles, years, self.alignment)
        if self.baseline_series is not None:
            self.alignment = self.baseline_series[0].copy()
        self.timelines = [sc.status_timeline(c) for c in self.codes]
        year = sc.start_year
        self.status = np.array([STATUSES.index(status_at(t, year)) for t in self.timelines], dtype=np.int8)
        self.trust = self._initial_trust(sc)

    def _initial_trust(self, sc: Scenario) -> np.ndarray:
        """Trust among the states in the first year (needs the timelines and first statuses)."""
        n, year = len(self.codes), sc.start_year
        trust = np.full((n, n), sc.parameters.trust_initial)
        # States admitted in the start year through the procedure (not founders, who were
        # outsiders the year before) start with newcomer trust, as later entrants do.
        for i, timeline in enumerate(self.timelines):
            before = status_at(timeline, year - 1)
            if self.status[i] == MEMBER and before not in ("member", "outsider"):
                trust[i, :] = sc.parameters.trust_newcomer
                trust[:, i] = sc.parameters.trust_newcomer
        np.fill_diagonal(trust, 1.0)
        return trust

    def _capability_series(self, sc: Scenario, states: list[Any]) -> np.ndarray:
        """Capabilities for every simulated year (rows) and state (columns)."""
        years = np.arange(self.start_year, self.end_year + 1)
        series = np.zeros((len(years), len(states)))
        for i, s in enumerate(states):
            growth = 1.0 + s.capability_growth
            if isinstance(s.capability, dict):
                points = sorted(s.capability.items())
                xs = np.array([p[0] for p in points], dtype=float)
                ys = np.array([p[1] for p in points], dtype=float)
                values = np.interp(years, xs, ys)
                after = years > xs[-1]
                values[after] = ys[-1] * growth ** (years[after] - xs[-1])
            else:
                values = s.capability * growth ** (years - self.start_year)
            series[:, i] = values
        # Capability shocks in events scale the series from their year on.
        for event in [*sc.prehistory, *sc.events]:
            for code, change in event.capability.items():
                j = self.index[code]
                series[years >= event.year, j] *= max(0.0, 1.0 + change)
        return series

    def _build_areas(self, sc: Scenario) -> None:
        self.areas: list[str] = sc.area_codes
        self.area_index = {a: k for k, a in enumerate(self.areas)}
        areas = [sc.areas[a] for a in self.areas]
        self.relevance = np.array([a.relevance.as_tuple() for a in areas], dtype=float)
        self.base_salience = np.array([a.base_salience for a in areas], dtype=float)
        self.on_agenda = np.array([a.agenda for a in areas], dtype=bool)
        self.parents = np.zeros((len(areas), len(areas)), dtype=bool)
        for k, a in enumerate(areas):
            for parent in a.parents:
                self.parents[k, self.area_index[parent]] = True
        self.favours = np.array([self.poles.index(a.favours) if a.favours else -1 for a in areas], dtype=int)
        self.favour_list = self.favours.tolist()
        self.project = np.array([a.kind == "project" for a in areas], dtype=bool)
        self.has_favour = self.favours >= 0  # (for the ideal depths: areas without a pole count 0)
        self.favours_or_first = np.maximum(self.favours, 0)
        n_parents = self.parents.sum(axis=1)
        self.has_parents = n_parents > 0
        self.areas_without_parents = (~self.has_parents).nonzero()[0].tolist()
        self.areas_off_agenda = (~self.on_agenda).nonzero()[0].tolist()
        self.parent_weights = self.parents / np.maximum(n_parents, 1)[:, None]
        self.stakes = agenda.stakes(self)  # interest weights are fixed, so stakes are too
        self.stakes_by_area = np.ascontiguousarray(self.stakes.T)  # one row per area, for the agenda
        self._set_desire(sc)
        # How a gain in each area divides over a state's four interests (areas x states x 4).
        share = self.scaled_weights[None, :, :] * self.relevance[:, None, :]
        total = share.sum(axis=2, keepdims=True)
        self.utility_share = np.divide(share, total, out=np.zeros_like(share), where=total > 0)
        self.depth = np.array([a.initial_depth for a in areas], dtype=float)
        self.area_titles = [f"{a.label}: new measures" for a in areas]
        self.moratorium = sc.membership.moratorium

    def _set_desire(self, sc: Scenario) -> None:
        """The part of an ideal position that only the stakes set (fixed per scenario), computed once."""
        p = sc.parameters
        self.base_desire = p.position_base + p.position_scale * self.stakes  # states x areas
        self.base_desire_by_area = np.ascontiguousarray(self.base_desire.T)

    def variant(self, scenario: Scenario) -> ScenarioArrays:
        """Return the arrays of ``scenario``, a copy of this one's with other parameters, sharing the rest.

        ``scenario`` may differ from this one's only in [parameters], [rules], [mechanisms] and
        the membership mode (what :func:`variant_arrays` checks); only what those change is
        computed again (the ideal positions' base and the first year's trust), so a
        calibration that runs thousands of parameter sets does not rebuild the rest each time.
        """
        derived = copy.copy(self)
        derived.scenario = scenario
        old, new = self.scenario.parameters, scenario.parameters
        if (old.position_base, old.position_scale) != (new.position_base, new.position_scale):
            derived._set_desire(scenario)
            derived.base_desire.setflags(write=False)
            derived.base_desire_by_area.setflags(write=False)
        if (old.trust_initial, old.trust_newcomer) != (new.trust_initial, new.trust_newcomer):
            derived.trust = derived._initial_trust(scenario)
            derived.trust.setflags(write=False)
        return derived

    def _schedule(self, sc: Scenario) -> None:
        """Index the events, and the status changes of the timelines, by year."""
        self.events_by_year: dict[int, list[Event]] = {}
        for event in sc.events:
            self.events_by_year.setdefault(event.year, []).append(event)
        self.status_changes: dict[int, list[tuple[int, int]]] = {}
        for i, timeline in enumerate(self.timelines):  # in state order
            for year, status in timeline.items():
                self.status_changes.setdefault(year, []).append((i, STATUSES.index(status)))


# The arrays of the last few scenarios run: a batch runs each scenario (one per arm and
# sweep point) many times. Keyed by the scenario object's id; the entry keeps it alive.
_ARRAYS: dict[tuple[int, int], ScenarioArrays] = {}


_ARRAYS_KEPT = 8


def scenario_arrays(scenario: Scenario, end_year: int) -> ScenarioArrays:
    """Return the :class:`ScenarioArrays` of ``scenario`` up to ``end_year``, built once."""
    key = (id(scenario), end_year)
    arrays = _ARRAYS.get(key)
    if arrays is None or arrays.scenario is not scenario:
        arrays = ScenarioArrays(scenario, end_year)
        if len(_ARRAYS) >= _ARRAYS_KEPT:
            del _ARRAYS[next(iter(_ARRAYS))]  # the oldest entry
        _ARRAYS[key] = arrays
    return arrays


# What a parameter variant of a scenario may change (ScenarioArrays.variant): the rest must be the
# very same objects (as ``model_copy(update=...)`` leaves them), or equal.
VARIANT_FIELDS = frozenset({"parameters", "rules", "mechanisms", "membership", "source", "lineage"})


def variant_arrays(base: ScenarioArrays, scenario: Scenario) -> ScenarioArrays:
    """Build ``scenario``'s arrays from ``base``'s when it differs only in parameters, and cache them.

    For a calibration's thousands of parameter sets of one scenario: ``scenario`` is
    ``base.scenario`` with other [parameters], [rules], [mechanisms] or membership mode (built
    with ``model_copy(update=...)``); the caller keeps ``base`` (``scenario_arrays(...)``),
    which the cache may drop. Anything else differing raises ValueError. A model
    then built from ``scenario`` finds its arrays in the cache, as if they had been built
    from scratch (the tables are the same; tests/test_summaries.py).
    """
    original = base.scenario
    for name in type(scenario).model_fields:
        if name in VARIANT_FIELDS:
            continue
        mine, theirs = getattr(scenario, name), getattr(original, name)
        if mine is not theirs and mine != theirs:
            raise ValueError(f"not a parameter variant: {name!r} differs from the base scenario's")
    if scenario.membership.moratorium != original.membership.moratorium:
        raise ValueError("not a parameter variant: membership.moratorium differs from the base scenario's")
    arrays = base.variant(scenario)
    if len(_ARRAYS) >= _ARRAYS_KEPT:
        del _ARRAYS[next(iter(_ARRAYS))]
    _ARRAYS[(id(scenario), base.end_year)] = arrays
    return arrays


# What a model takes from its ScenarioArrays as they are, shared and read-only (the arrays
# a run changes are copied in SCOModel._build_states and _build_areas).
SHARED_STATE_ARRAYS = (
    "codes", "index", "poles", "pole_index", "pole_list", "focal", "is_pole", "pole_of", "pole_of_list",
    "ties", "seeks_membership", "capability_series", "claim_series", "baseline_series", "timelines",
    "events_by_year", "status_changes",
)  # fmt: skip


SHARED_AREA_ARRAYS = (
    "areas", "area_index", "relevance", "base_salience", "on_agenda", "parents", "favours", "favour_list",
    "has_parents", "areas_without_parents", "areas_off_agenda", "parent_weights", "stakes",
    "stakes_by_area", "utility_share", "area_titles", "project", "has_favour", "favours_or_first",
    "base_desire", "base_desire_by_area",
)  # fmt: skip


def apply_lasting_effects(target: LastingState, event: Event) -> None:
    """Apply an event's lasting changes (threat, rivalry, moratorium) to a model or to initial arrays."""
    for code, changes in event.threat.items():
        for pole, delta in changes.items():
            i, p = target.index[code], target.poles.index(pole)
            target.threat[i, p] = float(np.clip(target.threat[i, p] + delta, 0.0, 1.0))
    for code, others in event.rivalry.items():
        for other, value in others.items():
            i, j = target.index[code], target.index[other]
            target.rivalry[i, j] = target.rivalry[j, i] = value
    if event.moratorium is not None:
        target.moratorium = event.moratorium


def status_at(timeline: dict[int, str], year: int) -> str:
    """Return the status a timeline gives in ``year`` (``outsider`` before its first entry)."""
    current = "outsider"
    for when, status in timeline.items():  # timelines are sorted by year
        if when > year:
            break
        current = status
    return current
