"""Agenda formation (step 3) and the members' positions and saliences on each item.

Readiness of an issue area is its base salience, gated by spillover from the
depth already reached in its parent areas (neo-functionalism: Haas 1958;
thesis ch. II.1, Fig. 1, p. 18), times the members' demand for more (how far
the most eager member's ideal depth exceeds the depth reached), plus the shocks
of recent events; realised benefits of an area raise the ambitions in the
areas it spills into. No slot goes to an area nobody wants to deepen. Items
come from four sources, in this order of precedence, at most one per area and
year: items an event tables; items deferred last year; blocked items that their
initiator tables again; new items drawn from the ready areas in proportion to
readiness.

A member's ideal ambition on an item grows with its stake in the area (its
interest weights times the area's relevance, with regime stakes scaled by
autocracy), with its attitude to the pole the item favours (alignment minus
threat), and falls when its rival tables the item.
"""

from __future__ import annotations

import bisect
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

from sim.model import participation
from sim.model.items import Agenda, Item
from sim.model.state import ModelState
from sim.rules.base import count_true

# ufunc reductions without the Python wrappers of ndarray.max (typed Any: numpy's stubs
# for ufunc.reduce differ between versions)
_max: Any = np.maximum.reduce


if TYPE_CHECKING:
    from sim.scenario import Event

__all__ = ["Agenda", "Item", "demand", "form_agenda", "ideal_depth", "pole_attitude", "readiness", "stakes"]


class InterestsAndAreas(Protocol):
    """What :func:`stakes` reads: the model, or the arrays built from its scenario."""

    scaled_weights: np.ndarray
    relevance: np.ndarray


def _clip(values: np.ndarray, low: float, high: float) -> np.ndarray:
    """np.clip without its per-call overhead (this runs every year for every item)."""
    return np.minimum(np.maximum(values, low), high)


def readiness(model: ModelState, wanted: np.ndarray | None = None) -> np.ndarray:
    """Return each area's readiness for new items this year.

    Readiness is the area's base salience, gated by spillover from its parents'
    depth, times the demand for more (how far the most eager member's ideal depth
    exceeds the depth reached, :func:`demand`), plus the shocks of recent events.
    ``wanted`` is this year's :func:`demand` if the caller has it already.
    """
    wanted_list = _wanted(model) if wanted is None else wanted.tolist()
    return np.array(_ready(model, wanted_list), dtype=float)


def _ready(model: ModelState, wanted: list[float]) -> list[float]:
    """:func:`readiness` as a list (a handful of areas: plain floats cost less than array calls)."""
    p = model.params
    if model.sco_scenario.mechanisms.spillover:
        parent_depth = model.parent_weights @ model.depth  # mean depth of the parents
        progress = _clip(parent_depth / p.spillover_depth, 0.0, 1.0)
        gate: list[float] = (progress**p.spillover_shape).tolist()
        for area in model.areas_without_parents:
            gate[area] = 1.0
    else:
        gate = [1.0] * len(model.areas)
    weight = p.demand_weight
    ready = []
    for base, open_, want, shock in zip(
        model.base_salience.tolist(), gate, wanted, model.shock.tolist(), strict=True
    ):
        pull = weight * want
        value = base * open_ * (pull if pull < 1.0 else 1.0) + shock  # base x gate x min(pull, 1) + shock
        ready.append(value if value > 0.0 else 0.0)
    for area in model.areas_off_agenda:
        ready[area] = 0.0
    return ready


def _desire(model: ModelState, attitude: np.ndarray | None, boost: np.ndarray | None) -> np.ndarray:
    """Return each state's desire for each area before clipping (states x areas, about 0-1)."""
    p = model.params
    if attitude is None:
        attitude = pole_attitude(model)
    toward = attitude.take(model.favours_or_first, axis=1)  # states x areas
    toward *= model.has_favour
    desire = model.base_desire + p.pole_weight * toward  # base_desire: position_base + position_scale x stake
    if p.spillover_ambition > 0:
        desire += p.spillover_ambition * (spillover_boost(model) if boost is None else boost)
    return desire


def ideal_depth(
    model: ModelState, attitude: np.ndarray | None = None, boost: np.ndarray | None = None
) -> np.ndarray:
    """Return each state's ideal depth of each area without noise (states x areas, 0-100).

    The same formula as the positions drawn on an item (:func:`_draw_positions`), for
    an item favouring the area's default pole, before noise and rivalry. ``attitude`` and
    ``boost`` are this year's :func:`pole_attitude` and :func:`spillover_boost` if the
    caller has them already.
    """
    return 100.0 * _clip(_desire(model, attitude, boost), 0.0, 1.0)


def demand(
    model: ModelState, attitude: np.ndarray | None = None, boost: np.ndarray | None = None
) -> np.ndarray:
    """Return how far the most eager member wants each area to go beyond its depth (0-1)."""
    return np.array(_wanted(model, attitude, boost), dtype=float)


def _wanted(
    model: ModelState, attitude: np.ndarray | None = None, boost: np.ndarray | None = None
) -> list[float]:
    """:func:`demand` as a list.

    The most eager member's ideal depth is taken as 100 x clip(its desire): clipping and
    scaling never reorder values, so the largest ideal depth is that of the largest desire.
    """
    members = model.members
    if not count_true(members):
        return [0.0] * len(model.areas)
    rows = members.nonzero()[0]
    top = _max(_desire(model, attitude, boost).take(rows, axis=0), 0).tolist()
    wanted = []
    for desire, depth in zip(top, model.depth.tolist(), strict=True):
        gap = 100.0 * ((desire if desire < 1.0 else 1.0) if desire > 0.0 else 0.0) - depth
        wanted.append((gap if gap > 0.0 else 0.0) / 100.0)
    return wanted


def spillover_boost(model: ModelState) -> np.ndarray:
    """Return the rise in ambition each area gets from the realised benefits of its parents.

    Haas's 'experience of benefits' (thesis ch. II.1): depth gained in an area in recent
    years (``model.benefit``, decaying) raises the members' ambitions in the areas it
    spills into. Zero with the spillover mechanism off.
    """
    if not model.sco_scenario.mechanisms.spillover:
        return np.zeros(len(model.areas))
    return model.parent_weights @ model.benefit


def stakes(model: InterestsAndAreas) -> np.ndarray:
    """Return each state's stake in each area (states x areas), in [0, 1].

    The stake is the state's interest weights (regime weight scaled by autocracy,
    1 - polyarchy) times the area's relevance over the four interests.
    """
    return model.scaled_weights @ model.relevance.T


def pole_attitude(model: ModelState) -> np.ndarray:
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


def form_agenda(model: ModelState, year: int, events: list[Event]) -> Agenda:  # noqa: ARG001 - year: for callers and tests
    """Step 3: assemble this year's items and compute positions and saliences."""
    members = model.members
    if not count_true(members):
        return Agenda.empty(len(model.codes))
    drafts: list[Item] = []
    taken: set[int] = set()  # the areas of ``drafts``: one item per area and year
    # Alignment, threat and benefits do not change while the agenda forms: computed once.
    attitude = pole_attitude(model)
    boost = spillover_boost(model)
    _table_known_items(model, events, drafts, taken)
    _draw_new_items(model, drafts, taken, attitude, boost)
    if not drafts:
        return Agenda.empty(len(model.codes))
    return _positions(model, drafts, members, attitude, boost)


def _add(drafts: list[Item], taken: set[int], item: Item) -> bool:
    """Put ``item`` on the agenda unless its area already has one; return whether it was added."""
    if item.area in taken:
        return False
    taken.add(item.area)
    drafts.append(item)
    return True


def _table_known_items(model: ModelState, events: list[Event], drafts: list[Item], taken: set[int]) -> None:
    """Add the items events table, then those deferred last year, then blocked ones tabled again."""
    overflow: list[Item] = []
    for event in events:
        for tabled in event.table:
            state = model.index[tabled.beneficiary] if tabled.beneficiary else None
            pole = None if state is None else model.pole_of_list[state]  # -1: a state that is no pole
            item = Item(
                model.area_index[tabled.area],
                model.index[tabled.initiator],
                tabled.title,
                tabled.ambition,
                pole,
                {model.index[k]: v for k, v in tabled.positions.items()},
                {model.index[k]: v for k, v in tabled.saliences.items()},
                "event",
                beneficiary_state=state,
                sovereignty=tabled.sovereignty,
            )
            if not _add(drafts, taken, item):
                # A second item in one area waits for next year, still an event item.
                overflow.append(item.carried("event"))
    carried, model.carried = model.carried, []
    for item in carried:
        if not _add(drafts, taken, item.tabled_as(item.carried_as or "deferred")):
            model.carried.append(item)
    model.carried.extend(overflow)
    if model.blocked_pool:
        draws = model.rng.random(len(model.blocked_pool))
        retable = model.params.retable_probability
        kept = []
        for item, draw in zip(model.blocked_pool, draws, strict=True):
            if draw < retable and _add(drafts, taken, item.tabled_as("retabled")):
                continue
            kept.append(item)
        model.blocked_pool = kept


def _draw_new_items(
    model: ModelState, drafts: list[Item], taken: set[int], attitude: np.ndarray, boost: np.ndarray
) -> None:
    """Fill the free places with new items from the ready areas, drawn in proportion to readiness."""
    p = model.params
    free = p.agenda_size - len(drafts)
    wanted = _wanted(model, attitude, boost)
    ready = _ready(model, wanted)
    # A slot is not spent on a saturated area (somebody must want a real step more), nor on an
    # area that has an item already; a positive threshold already excludes areas with no readiness.
    saturated = model.rules.min_increment / 100.0
    lowest = p.min_readiness
    eligible = [
        area
        for area, (value, want) in enumerate(zip(ready, wanted, strict=True))
        if not (area in taken or want < saturated) and value >= lowest and (lowest > 0 or value > 0)
    ]
    if free > 0 and eligible:
        k = min(free, len(eligible))
        # Weighted sampling without replacement (Efraimidis & Spirakis 2006): keep the k
        # largest u ** (1 / w); equivalent to drawing areas one by one in proportion to readiness.
        # (compared as log(u) / w, which keeps tiny weights from rounding to 0; the first
        # of equal keys wins, as in a stable sort).
        logs = np.log(model.rng.random(len(eligible))).tolist()
        minus_keys = [-(u / ready[area]) for u, area in zip(logs, eligible, strict=True)]
        order = sorted(range(len(eligible)), key=minus_keys.__getitem__)
        for area in sorted(eligible[j] for j in order[:k]):
            _add(drafts, taken, Item(area, None, model.area_titles[area], None, None, {}, {}, "agenda"))


def _positions(
    model: ModelState, drafts: list[Item], members: np.ndarray, attitude: np.ndarray, boost: np.ndarray
) -> Agenda:
    # Per-item values are kept in lists and per item x state values in arrays: an agenda
    # holds a handful of items, for which list work costs less than array calls.
    areas = [s.area for s in drafts]
    beneficiaries = [
        s.beneficiary if s.beneficiary is not None else model.favour_list[a]
        for s, a in zip(drafts, areas, strict=True)
    ]
    area = np.array(areas, dtype=int)
    positions, saliences = _draw_positions(model, area, beneficiaries, attitude, boost)
    status_quo = model.depth.take(area)
    initiators = _draw_initiators(model, drafts, positions, saliences, status_quo)
    # A member is warier of what its rival tables (no initiator: no rival).
    rivalry = model.rivalry.T.take(initiators, axis=0)
    for k, initiator in enumerate(initiators):
        if initiator < 0:
            rivalry[k] = 0.0
    if count_true(rivalry):  # (without a rival at the table the positions stand as they are)
        positions = _clip(positions - 100.0 * model.params.rivalry_weight * rivalry, 0.0, 100.0)
    for k, draft in enumerate(drafts):
        if draft.positions or draft.saliences:
            for i, value in draft.positions.items():
                positions[k, i] = value
            for i, value in draft.saliences.items():
                saliences[k, i] = value
    return _tabled(model, drafts, members, areas, beneficiaries, initiators, status_quo, positions, saliences)


def _draw_positions(
    model: ModelState, area: np.ndarray, beneficiaries: list[int], attitudes: np.ndarray, boost: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Draw every state's position and salience on each item (items x states)."""
    p = model.params
    stake = model.stakes_by_area.take(area, axis=0)  # items x states
    base = model.base_desire_by_area.take(area, axis=0)  # position_base + position_scale x stake
    # Attitude to the pole an item favours (none: 0).
    attitude = attitudes.T.take(beneficiaries, axis=0)
    for k, pole in enumerate(beneficiaries):
        if pole < 0:
            attitude[k] = 0.0
    noise = model.rng.standard_normal((2, len(area), len(model.codes)))  # the same draws as normal(0, 1)
    desire = base + p.pole_weight * attitude
    if p.spillover_ambition > 0:
        desire = desire + p.spillover_ambition * boost.take(area)[:, None]
    positions = 100.0 * _clip(desire + p.position_noise * noise[0], 0.0, 1.0)
    readiness_terms = 0.5 * (model.base_salience + model.shock).take(area)
    saliences = _clip(
        readiness_terms[:, None] + stake + p.pole_salience * np.abs(attitude) + p.salience_noise * noise[1],
        0.05,
        1.0,
    )
    return positions, saliences


def _draw_initiators(
    model: ModelState,
    drafts: list[Item],
    positions: np.ndarray,
    saliences: np.ndarray,
    status_quo: np.ndarray,
) -> list[int]:
    """Return each item's initiator: a member that wants more, drawn in proportion to how much (-1: none)."""
    n_states = len(model.codes)
    draws = model.rng.random(len(drafts))
    eagerness = saliences * np.maximum(positions - status_quo[:, None], 0.0) * model.member_weight
    cumulative = eagerness.cumsum(axis=1)
    thresholds = (draws * cumulative[:, -1]).tolist()
    initiators: list[int] = []
    for k, (draft, row) in enumerate(zip(drafts, cumulative.tolist(), strict=True)):
        if draft.initiator is not None:
            initiators.append(draft.initiator)
        elif row[-1] > 0:
            # The first state whose cumulative eagerness exceeds the draw (rows never decrease).
            initiators.append(min(bisect.bisect_right(row, thresholds[k]), n_states - 1))
        else:
            initiators.append(-1)
    return initiators


def _tabled(
    model: ModelState,
    drafts: list[Item],
    members: np.ndarray,
    areas: list[int],
    beneficiaries: list[int],
    initiators: list[int],
    status_quo: np.ndarray,
    positions: np.ndarray,
    saliences: np.ndarray,
) -> Agenda:
    """Keep the items whose initiator is a member and that ask for a real step: the year's agenda."""
    before = status_quo.tolist()
    min_increment = model.rules.min_increment
    rows: list[int] = []
    proposals: list[float] = []
    ids: list[int] = []
    for k, draft in enumerate(drafts):
        i = initiators[k]
        if draft.ambition is not None:
            proposal = float(draft.ambition)
        else:
            proposal = float(positions[k, i]) if i >= 0 else 0.0
        if i >= 0 and members[i] and proposal >= before[k] + min_increment:
            rows.append(k)
            proposals.append(proposal)
            model.item_counter += 1
            ids.append(model.item_counter)
            draft.initiator = i
            draft.ambition = proposal
    every = len(rows) == len(drafts)
    kept = [drafts[k] for k in rows]
    kept_areas = [areas[k] for k in rows]
    kept_saliences = saliences if every else saliences.take(rows, axis=0)
    kept_initiators = [initiators[k] for k in rows]
    kept_poles = [beneficiaries[k] for k in rows]
    states = [
        d.beneficiary_state if d.beneficiary_state is not None else (model.pole_list[b] if b >= 0 else -1)
        for d, b in zip(kept, kept_poles, strict=True)
    ]
    project = model.project.take(np.array(kept_areas, dtype=int)) if kept else np.zeros(0, dtype=bool)
    costs = participation.costs(
        model, kept_initiators, states, kept_poles, [d.sovereignty for d in kept], project, kept_saliences
    )
    return Agenda(
        area=np.array([areas[k] for k in rows], dtype=int),
        initiator=np.array([initiators[k] for k in rows], dtype=int),
        beneficiary=np.array([beneficiaries[k] for k in rows], dtype=int),
        status_quo=np.array([before[k] for k in rows], dtype=float),
        proposal=np.array(proposals, dtype=float),
        positions=positions if every else positions.take(rows, axis=0),
        saliences=kept_saliences,
        titles=[d.title for d in kept],
        origins=[d.origin for d in kept],
        ids=ids,
        policy_items=kept,
        costs=costs,
        project=project,
        beneficiary_state=np.array(states, dtype=int),
    )
