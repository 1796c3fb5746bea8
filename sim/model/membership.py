"""Membership (step 7): applications and the accession procedure.

The record (thesis Table 1, p. 35; SCO timeline 1996-2017): observers since
2005, a moratorium on expansion 2007-2010, applications in 2014, the procedure
launched in 2015, memoranda of obligations in 2016, accession in 2017. The
procedure is modelled as a ladder of statuses,
``applicant -> candidate -> memorandum -> member``, each step an enlargement
item decided by the members under the scenario's rule, with minimum lags in
years between steps. States tied in a package (India with Pakistan) move
together, and the members value the package as a whole.

In ``scheduled`` mode the status timeline of the scenario is followed as
written and no enlargement item is decided.
"""

from __future__ import annotations

import numpy as np

from sim.model.agenda import pole_attitude
from sim.model.items import Agenda
from sim.model.state import ModelState
from sim.rules import ADOPTED, OPT_OUT, BargainInput, Decision
from sim.scenario import STATUSES

LADDER = ("applicant", "candidate", "memorandum", "member")
STEP_TITLES = {
    "candidate": "launch of the accession procedure",
    "memorandum": "memorandum of obligations",
    "member": "accession",
}


def set_status(model: ModelState, i: int, status: int, year: int) -> None:
    """Give state ``i`` a new status; a new member starts with newcomer trust."""
    if model.status[i] == status:
        return
    becomes_member = STATUSES[status] == "member" and STATUSES[int(model.status[i])] != "member"
    model.status[i] = status
    model.status_since[i] = year
    model.update_members()
    if becomes_member:
        model.trust[i, :] = model.params.trust_newcomer
        model.trust[:, i] = model.params.trust_newcomer
        model.trust[i, i] = 1.0


def _lag(model: ModelState, status: str) -> int:
    m = model.sco_scenario.membership
    return {"applicant": m.lag_application, "candidate": m.lag_procedure, "memorandum": m.lag_memorandum}[
        status
    ]


def ready_groups(model: ModelState, year: int) -> list[list[int]]:
    """Return the states (grouped by package) whose next accession step is due."""
    due: list[int] = []
    for i in range(len(model.codes)):
        status = STATUSES[int(model.status[i])]
        if status in LADDER[:-1] and year - model.status_since[i] >= _lag(model, status):
            due.append(i)
    groups: list[list[int]] = []
    seen: set[int] = set()
    for package in model.sco_scenario.membership.packages:
        idx = [model.index[c] for c in package]
        stages = {int(model.status[i]) for i in idx}
        if all(i in due for i in idx) and len(stages) == 1:
            groups.append(sorted(idx))
        seen.update(idx)  # a package member never advances alone
    groups.extend([i] for i in due if i not in seen)
    return groups


def valuation(model: ModelState, group: list[int]) -> np.ndarray:
    """Each state's value of admitting ``group`` (positive = in favour): the sponsors' logic.

    A member values an applicant's capability through its security and economic
    weights. Through its balancing weight and its attitude to each pole (alignment
    minus threat; a pole welcomes its own gains) it values two things: how the
    admission shifts the weight of each pole among the members (:func:`pole_shift`),
    and the applicant's own ties to the poles (its lean: arms, trade and UN votes
    with ``[data] pole_ties``). So Russia sponsors a state tied to it and China one
    tied to China, and a package of both can be a trade between the two sponsors. A
    member loses from the dilution of its own voice and from admitting a rival.
    """
    p = model.params
    members = model.members
    w = model.weights
    attitude = pole_attitude(model)
    member_cap = (model.capability * members).sum()
    value = np.zeros(len(model.codes))
    n_members = int(members.sum())
    for j in group:
        contribution = model.capability[j] / (model.capability[j] + member_cap)
        lean = model.alignment[j] - model.alignment[j].mean()
        value += (w[:, 0] + w[:, 1]) * contribution
        value += w[:, 2] * (attitude @ lean)
        value -= p.voice_dilution / (n_members + len(group))
        value -= p.rivalry_weight * model.rivalry[:, j]
    value += w[:, 2] * (attitude @ pole_shift(model, group)) * len(model.poles)
    return value


def pole_shift(model: ModelState, group: list[int]) -> np.ndarray:
    """Return how admitting ``group`` changes each pole's share of the weight among members."""
    before = _shares(model, model.members)
    after_members = model.members.copy()
    after_members[group] = True
    return _shares(model, after_members) - before


def _shares(model: ModelState, members: np.ndarray) -> np.ndarray:
    cap = model.capability * members
    total = cap.sum()
    weights = (cap @ model.alignment) / total if total > 0 else np.zeros(len(model.poles))
    for pole, state in enumerate(model.pole_list):
        if not members[state]:
            weights[pole] = 0.0
    pair = weights.sum()
    return weights / pair if pair > 0 else weights


def expected_welcome(model: ModelState, i: int) -> float:
    """Return the members' mean value of admitting state ``i`` alone (what an applicant expects)."""
    members = model.members
    if not members.any():
        return 0.0
    return float(valuation(model, [i])[members].mean())


def step(model: ModelState, year: int) -> tuple[Agenda, Decision | None]:
    """Step 7: applications, then one enlargement item per due group (endogenous mode)."""
    n = len(model.codes)
    if model.sco_scenario.membership.mode != "endogenous" or model.moratorium:
        return model.no_items, None
    for agent in sorted(model.agents, key=lambda a: a.index):
        if agent.wants_to_apply():
            set_status(model, agent.index, STATUSES.index("applicant"), year)
    groups = ready_groups(model, year)
    if not groups or not model.members.any():
        return Agenda.empty(n), None
    salience_area = model.area_index.get("enlargement")
    base = model.base_salience[salience_area] if salience_area is not None else 0.5
    positions = np.zeros((len(groups), n))
    saliences = np.full((len(groups), n), base)
    titles = []
    for k, group in enumerate(groups):
        value = valuation(model, group)
        positions[k] = 100.0 * np.clip(0.5 + model.params.enlargement_scale * value, 0.0, 1.0)
        next_status = LADDER[LADDER.index(STATUSES[int(model.status[group[0]])]) + 1]
        names = "+".join(model.codes[i] for i in group)
        titles.append(f"{names}: {STEP_TITLES[next_status]}")
    n_items = len(groups)
    # The chair tables the step; the status quo is "not yet", the proposal "yes, now".
    items = Agenda(
        area=np.full(n_items, salience_area if salience_area is not None else -1, dtype=int),
        initiator=np.full(n_items, -1, dtype=int),
        beneficiary=np.full(n_items, -1, dtype=int),
        status_quo=np.zeros(n_items),
        proposal=np.full(n_items, 100.0),
        positions=positions,
        saliences=saliences,
        titles=titles,
        origins=["membership"] * n_items,
        ids=list(range(model.item_counter + 1, model.item_counter + 1 + n_items)),
        groups=groups,
    )
    model.item_counter += n_items
    inputs = BargainInput(
        positions=positions,
        saliences=saliences,
        capabilities=model.capability,
        status_quo=items.status_quo,
        proposal=items.proposal,
        tolerance=model.tolerance(),
        voters=model.members,
        dilutable=np.zeros(n_items, dtype=bool),  # an accession cannot be watered down
    )
    decision = model.rule(inputs, model.rule_settings)
    for k, group in enumerate(groups):
        # A watered-down accession is no accession: only a text adopted as tabled counts.
        if decision.outcome[k] in (ADOPTED, OPT_OUT):
            for i in group:
                current = STATUSES[int(model.status[i])]
                set_status(model, i, STATUSES.index(LADDER[LADDER.index(current) + 1]), year)
    return items, decision
