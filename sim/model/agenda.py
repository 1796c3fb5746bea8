"""Agenda formation (step 3) and the members' positions and saliences on each item.

Readiness of an issue area is its base salience, gated by spillover from the
depth already reached in its parent areas (neo-functionalism: Haas 1958;
thesis ch. II.1, Fig. 1, p. 18), damped as the area saturates, plus the shocks
of recent events. Items come from four sources, in this order of precedence,
at most one per area and year: items an event tables; items deferred last year;
blocked items that their initiator tables again; new items drawn from the ready
areas in proportion to readiness.

A member's ideal ambition on an item grows with its stake in the area (its
interest weights times the area's relevance, with regime stakes scaled by
autocracy), with its attitude to the pole the item favours (alignment minus
threat), and falls when its rival tables the item.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from sim.model.model import SCOModel
    from sim.scenario import Event


@dataclass
class Agenda:
    """Items on the agenda in one year, as arrays over items (rows) and states (columns)."""

    area: np.ndarray
    initiator: np.ndarray
    beneficiary: np.ndarray
    status_quo: np.ndarray
    proposal: np.ndarray
    positions: np.ndarray
    saliences: np.ndarray
    titles: list[str] = field(default_factory=list)
    origins: list[str] = field(default_factory=list)
    ids: list[int] = field(default_factory=list)
    specs: list[dict[str, Any]] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.area)

    @classmethod
    def empty(cls, n_states: int) -> Agenda:
        """Return an agenda with no items."""
        return cls(
            area=np.zeros(0, dtype=int),
            initiator=np.zeros(0, dtype=int),
            beneficiary=np.zeros(0, dtype=int),
            status_quo=np.zeros(0),
            proposal=np.zeros(0),
            positions=np.zeros((0, n_states)),
            saliences=np.zeros((0, n_states)),
        )


def _clip(values: np.ndarray, low: float, high: float) -> np.ndarray:
    """np.clip without its per-call overhead (this runs every year for every item)."""
    return np.minimum(np.maximum(values, low), high)


def readiness(model: SCOModel) -> np.ndarray:
    """Return each area's readiness for new items this year."""
    parent_depth = model.parent_weights @ model.depth  # mean depth of the parents
    progress = _clip(parent_depth / model.params.spillover_depth, 0.0, 1.0)
    gate = progress**model.params.spillover_shape
    for area in model.areas_without_parents:
        gate[area] = 1.0
    ready = np.maximum(model.base_salience * gate * (1.0 - model.depth / 100.0) + model.shock, 0.0)
    for area in model.areas_off_agenda:
        ready[area] = 0.0
    return ready


def stakes(model: SCOModel) -> np.ndarray:
    """Return each state's stake in each area (states x areas), in [0, 1].

    The stake is the state's interest weights (regime weight scaled by autocracy,
    1 - polyarchy) times the area's relevance over the four interests.
    """
    return model.scaled_weights @ model.relevance.T


def pole_attitude(model: SCOModel) -> np.ndarray:
    """Return each state's attitude to gains of each pole (states x poles), about [-1, 1].

    Alignment counts from a neutral 0.5; threat counts in proportion to the state's
    balancing weight (balance of threat: a state that cares about balancing resists
    gains of a pole it fears). A pole welcomes its own gains (attitude 1).
    """
    p = model.params
    attitude = (model.alignment - 0.5) - p.threat_weight * model.weights[:, 2:3] * model.threat
    for pole, state in enumerate(model.pole_index.tolist()):
        attitude[state, pole] = 1.0
    return attitude


def form_agenda(model: SCOModel, year: int, events: list[Event]) -> Agenda:
    """Step 3: assemble this year's items and compute positions and saliences."""
    p = model.params
    rng = model.rng
    members = model.members
    if not np.count_nonzero(members):
        return Agenda.empty(len(model.codes))
    specs: list[dict[str, Any]] = []
    taken: set[int] = set()

    def add(spec: dict[str, Any]) -> bool:
        if spec["area"] in taken:
            return False
        taken.add(spec["area"])
        specs.append(spec)
        return True

    overflow: list[dict[str, Any]] = []
    for event in events:
        for item in event.table:
            spec = {
                "area": model.area_index[item.area],
                "initiator": model.index[item.initiator],
                "title": item.title,
                "ambition": item.ambition,
                "beneficiary": model.poles.index(item.beneficiary) if item.beneficiary else None,
                "positions": {model.index[k]: v for k, v in item.positions.items()},
                "saliences": {model.index[k]: v for k, v in item.saliences.items()},
                "origin": "event",
            }
            if not add(spec):
                # A second item in one area waits for next year, still an event item.
                overflow.append({**spec, "carried_as": "event"})
    carried, model.carried = model.carried, []
    for spec in carried:
        if not add({**spec, "origin": spec.get("carried_as", "deferred")}):
            model.carried.append(spec)
    model.carried.extend(overflow)
    if model.blocked_pool:
        draws = rng.random(len(model.blocked_pool))
        kept = []
        for spec, draw in zip(model.blocked_pool, draws, strict=True):
            if draw < p.retable_probability and add({**spec, "origin": "retabled"}):
                continue
            kept.append(spec)
        model.blocked_pool = kept
    free = p.agenda_size - len(specs)
    ready = readiness(model)
    for area in taken:
        ready[area] = 0.0
    ready_enough = ready >= p.min_readiness
    if p.min_readiness <= 0:  # (a positive threshold already excludes areas with no readiness)
        ready_enough &= ready > 0
    eligible = ready_enough.nonzero()[0]
    if free > 0 and len(eligible) > 0:
        k = min(free, len(eligible))
        # Weighted sampling without replacement (Efraimidis & Spirakis 2006): keep the k
        # largest u ** (1 / w); equivalent to drawing areas one by one in proportion to readiness.
        # (compared as log(u) / w, which keeps tiny weights from rounding to 0).
        keys = np.log(rng.random(len(eligible))) / ready.take(eligible)
        drawn = eligible.take((-keys).argsort(kind="stable")[:k])
        for area in sorted(drawn.tolist()):
            add(
                {
                    "area": area,
                    "initiator": None,
                    "title": model.area_titles[area],
                    "ambition": None,
                    "beneficiary": None,
                    "positions": {},
                    "saliences": {},
                    "origin": "agenda",
                }
            )
    if not specs:
        return Agenda.empty(len(model.codes))
    return _positions(model, specs, members)


def _positions(model: SCOModel, specs: list[dict[str, Any]], members: np.ndarray) -> Agenda:
    # Per-item values are kept in lists and per item x state values in arrays: an agenda
    # holds a handful of items, for which list work costs less than array calls.
    p = model.params
    rng = model.rng
    n_items, n_states = len(specs), len(model.codes)
    areas = [s["area"] for s in specs]
    beneficiaries = [
        s["beneficiary"] if s["beneficiary"] is not None else model.favour_list[a]
        for s, a in zip(specs, areas, strict=True)
    ]
    area = np.array(areas, dtype=int)
    stake = model.stakes_by_area.take(area, axis=0)  # items x states
    # Attitude to the pole an item favours (none: 0).
    attitude = pole_attitude(model).T.take(beneficiaries, axis=0)
    for k, pole in enumerate(beneficiaries):
        if pole < 0:
            attitude[k] = 0.0
    noise = rng.standard_normal((2, n_items, n_states))  # the same draws as normal(0, 1)
    desire = p.position_base + p.position_scale * stake + p.pole_weight * attitude
    positions = 100.0 * _clip(desire + p.position_noise * noise[0], 0.0, 1.0)
    readiness_terms = 0.5 * (model.base_salience + model.shock).take(area)
    saliences = _clip(
        readiness_terms[:, None] + stake + p.pole_salience * np.abs(attitude) + p.salience_noise * noise[1],
        0.05,
        1.0,
    )
    status_quo = model.depth.take(area)

    # Initiators for new items: a member that wants more, drawn in proportion to how much.
    draws = rng.random(n_items)
    eagerness = saliences * np.maximum(positions - status_quo[:, None], 0.0) * model.member_weight
    cumulative = eagerness.cumsum(axis=1)
    thresholds = (draws * cumulative[:, -1]).tolist()
    initiators: list[int] = []
    for k, (spec, row) in enumerate(zip(specs, cumulative.tolist(), strict=True)):
        if spec["initiator"] is not None:
            initiators.append(spec["initiator"])
        elif row[-1] > 0:
            # The first state whose cumulative eagerness exceeds the draw (rows never decrease).
            initiators.append(min(bisect.bisect_right(row, thresholds[k]), n_states - 1))
        else:
            initiators.append(-1)
    # A member is warier of what its rival tables (no initiator: no rival).
    rivalry = model.rivalry.T.take(initiators, axis=0)
    for k, initiator in enumerate(initiators):
        if initiator < 0:
            rivalry[k] = 0.0
    if rivalry.any():  # (without a rival at the table the positions stand as they are)
        positions = _clip(positions - 100.0 * p.rivalry_weight * rivalry, 0.0, 100.0)
    for k, spec in enumerate(specs):
        if spec["positions"] or spec["saliences"]:
            for i, value in spec["positions"].items():
                positions[k, i] = value
            for i, value in spec["saliences"].items():
                saliences[k, i] = value
    # An item is tabled only if its initiator is a member and it asks for a real step.
    before = status_quo.tolist()
    rows: list[int] = []
    proposals: list[float] = []
    ids: list[int] = []
    for k, spec in enumerate(specs):
        i = initiators[k]
        if spec["ambition"] is not None:
            proposal = float(spec["ambition"])
        else:
            proposal = float(positions[k, i]) if i >= 0 else 0.0
        if i >= 0 and members[i] and proposal >= before[k] + model.rules.min_increment:
            rows.append(k)
            proposals.append(proposal)
            model.item_counter += 1
            ids.append(model.item_counter)
            spec.update(initiator=i, ambition=proposal)
    return Agenda(
        area=np.array([areas[k] for k in rows], dtype=int),
        initiator=np.array([initiators[k] for k in rows], dtype=int),
        beneficiary=np.array([beneficiaries[k] for k in rows], dtype=int),
        status_quo=np.array([before[k] for k in rows], dtype=float),
        proposal=np.array(proposals, dtype=float),
        positions=positions if len(rows) == n_items else positions.take(rows, axis=0),
        saliences=saliences if len(rows) == n_items else saliences.take(rows, axis=0),
        titles=[specs[k]["title"] for k in rows],
        origins=[specs[k]["origin"] for k in rows],
        ids=ids,
        specs=[specs[k] for k in rows],
    )
