"""The SCO model: one step is one year, ending in the Council of Heads of State.

The step reads like the process overview of docs/model.md (ODD section 3):

1. scheduled events take effect;
2. capabilities update from their series;
3. the agenda is formed (readiness = base salience x spillover + shocks);
4. every item is bargained and decided under the scenario's decision rule;
5. consequences: depth, trust and the influence of the poles;
6. balancing: states move their alignment with the poles;
7. membership: applications and accession steps (scheduled or decided);
8. the year's figures are recorded.

All randomness comes from ``self.rng``, the generator Mesa seeds from ``rng=``.
"""

from __future__ import annotations

from typing import Any

import mesa
import numpy as np

from sim.model import agenda, balancing, membership
from sim.model import events as events_module
from sim.model.agents import StateAgent
from sim.model.arrays import (
    APPLICANT,
    MEMBER,
    SHARED_AREA_ARRAYS,
    SHARED_STATE_ARRAYS,
    ScenarioArrays,
    apply_lasting_effects,
    scenario_arrays,
)
from sim.model.items import Agenda, Item
from sim.model.recorder import Recorder
from sim.rules import BLOCKED, DEFERRED, BargainInput, Decision, RuleSettings, get_rule
from sim.rules.base import count_true
from sim.scenario import Event, Scenario

# a ufunc reduction without the Python wrapper of ndarray.sum (typed Any: numpy's stubs
# for ufunc.reduce differ between versions)
_sum: Any = np.add.reduce


class SCOModel(mesa.Model):
    """Agent-based model of consensus and balancing in the SCO.

    Args:
        scenario: A validated scenario (see :func:`sim.scenario.load_scenario`).
        rng: Seed (int) or ``numpy.random.Generator`` for all randomness.
        until: Last year to simulate (defaults to the scenario's ``end_year``).

    """

    # Taken as they are from the scenario's ScenarioArrays (SHARED_STATE_ARRAYS and
    # SHARED_AREA_ARRAYS, set in _build_states and _build_areas): declared here for the
    # type checker and for the ModelState protocol (sim.model.state) the parts read.
    codes: list[str]
    index: dict[str, int]
    poles: list[str]
    pole_index: np.ndarray
    pole_list: list[int]
    focal: int
    is_pole: np.ndarray
    pole_of: np.ndarray
    pole_of_list: list[int]
    ties: np.ndarray
    seeks_membership: np.ndarray
    capability_series: np.ndarray
    claim_series: np.ndarray | None
    baseline_series: np.ndarray | None
    project: np.ndarray
    timelines: list[dict[int, str]]
    events_by_year: dict[int, list[Event]]
    status_changes: dict[int, list[tuple[int, int]]]
    areas: list[str]
    area_index: dict[str, int]
    relevance: np.ndarray
    base_salience: np.ndarray
    on_agenda: np.ndarray
    parents: np.ndarray
    favours: np.ndarray
    favour_list: list[int]
    favours_or_first: np.ndarray
    has_favour: np.ndarray
    base_desire: np.ndarray
    base_desire_by_area: np.ndarray
    has_parents: np.ndarray
    areas_without_parents: list[int]
    areas_off_agenda: list[int]
    parent_weights: np.ndarray
    stakes: np.ndarray
    stakes_by_area: np.ndarray
    utility_share: np.ndarray
    area_titles: list[str]
    rng: np.random.Generator  # set by mesa.Model from the seed

    def __init__(
        self, scenario: Scenario, rng: int | np.random.Generator | None = None, until: int | None = None
    ):
        if rng is None:
            raise ValueError("SCOModel needs a seed: pass rng=<int> so the run can be reproduced")
        if isinstance(rng, (bool, float)) or (isinstance(rng, int) and rng < 0):
            raise ValueError(f"seed must be a non-negative integer, got {rng!r}")
        super().__init__(rng=rng)
        # Not `self.scenario`: Mesa 3.5 reserves that name for its own Scenario objects.
        self.sco_scenario = scenario
        self.seed = rng if isinstance(rng, int) else None
        self.start_year = scenario.start_year
        self.end_year = scenario.end_year if until is None else int(until)
        if not scenario.start_year <= self.end_year <= scenario.end_year:
            raise ValueError(
                f"until={until} is outside the scenario's years {scenario.start_year}-{scenario.end_year}"
            )
        self.year = scenario.start_year
        self.params = scenario.parameters
        self.rules = scenario.rules
        rule_name = scenario.rules.decision_rule
        self.rule = get_rule(rule_name)
        opt_out = scenario.rules.opt_out_allowed
        self.rule_settings = RuleSettings(
            max_rounds=self.rules.max_rounds,
            dilution_step=self.rules.dilution_step,
            diluted_below=self.rules.diluted_below,
            min_increment=self.rules.min_increment,
            deferral_margin=self.rules.deferral_margin,
            opt_out_allowed=bool(opt_out) if opt_out is not None else rule_name == "consensus_opt_out",
            opt_out_ceiling=self.rules.opt_out_ceiling,
            opt_out_min_share=self.rules.opt_out_min_share,
            majority_threshold=self.rules.majority_threshold,
            majority_weighted=self.rules.majority_weighted,
        )
        fixed = scenario_arrays(scenario, self.end_year)
        self._build_states(fixed)
        self._build_areas(fixed)
        self.recorder = Recorder(self)

    # Construction ------------------------------------------------------------
    def _build_states(self, fixed: ScenarioArrays) -> None:
        # Shared with the other models of the scenario (read-only): what no run changes.
        for name in SHARED_STATE_ARRAYS:
            setattr(self, name, getattr(fixed, name))
        # The model's own copies: what a run changes (and what tests and users may set).
        self.weights = fixed.weights.copy()
        self.polyarchy = fixed.polyarchy.copy()
        self.regime_stake = fixed.regime_stake.copy()
        self.scaled_weights = fixed.scaled_weights.copy()
        self.alignment = fixed.alignment.copy()
        self.baseline_alignment = fixed.alignment.copy()
        self.threat = fixed.threat.copy()
        self.rivalry = fixed.rivalry.copy()
        self.capability = fixed.capability_series[0].copy()
        n = len(self.codes)
        self.claims = fixed.claim_series[0] if fixed.claim_series is not None else np.zeros((n, n))
        self.status = fixed.status.copy()
        self.status_since = np.full(len(self.codes), self.year, dtype=int)
        self.update_members()
        self.trust = fixed.trust.copy()
        self.summit_tolerance = np.zeros(len(self.codes))
        self.influence_gain = np.zeros(len(self.poles))
        self.states_by_code = {
            code: StateAgent(self, code, i, name)
            for i, (code, name) in enumerate(zip(self.codes, fixed.names, strict=True))
        }

    def _build_areas(self, fixed: ScenarioArrays) -> None:
        for name in SHARED_AREA_ARRAYS:
            setattr(self, name, getattr(fixed, name))
        self.depth = fixed.depth.copy()
        self.shock = np.zeros(len(self.areas))
        self.benefit = np.zeros(len(self.areas))  # recent depth gained per area, decaying (spillover)
        self.moratorium = fixed.moratorium
        self.no_items = Agenda.empty(len(self.codes))  # the (read-only) agenda of a year without items
        # (1 - trust_gain) ** k and (1 - trust_loss) ** k for the counts k a year can give
        # (at most one item per area; objections per state at most the items), looked up
        # rather than raised to a power for every pair of states each year.
        counts = np.arange(len(self.areas) + 1, dtype=float)
        self.trust_kept = (1.0 - self.params.trust_gain) ** counts
        self.trust_lost = (1.0 - self.params.trust_loss) ** counts
        self.carried: list[Item] = []  # deferred (or overflowing event) items, tabled next year
        self.blocked_pool: list[Item] = []  # blocked items their initiators may table again
        self.item_counter = 0

    # The yearly cycle ----------------------------------------------------------
    @property
    def members(self) -> np.ndarray:
        """Boolean mask of current members (a fresh array whenever a status changes)."""
        return self.member_mask

    def update_members(self) -> None:
        """Derive the member mask, and the arrays that depend only on it, from the statuses."""
        # New arrays, not in-place changes: callers may hold last year's mask (the voters).
        self.member_mask = self.status == MEMBER
        self.member_weight = self.member_mask.astype(float)  # 1.0 for members: the mask for products
        # How many members there are besides each state (at least 1), for mean trust in the others.
        self.other_members = np.maximum(np.count_nonzero(self.member_mask) - self.member_weight, 1.0)

    def step(self) -> None:
        """Simulate one year."""
        year = self.year
        events = self.events_by_year.get(year, [])
        self.apply_events(year, events)
        self.update_capabilities(year)
        items = agenda.form_agenda(self, year, events)
        decision = self.decide(items)
        voters = self.members  # who sat at this summit (accessions below count from next year)
        self.apply_consequences(items, decision)
        balancing.update_alignment(self)
        enlargement_items, enlargement_decision = membership.step(self, year)
        self.recorder.collect(year, items, decision, enlargement_items, enlargement_decision, voters)
        self.year += 1
        if self.year > self.end_year:
            self.running = False

    def run(self) -> SCOModel:
        """Run to the last year and return the model (for chaining)."""
        while self.running:
            self.step()
        return self

    def apply_events(self, year: int, events: list[Event]) -> None:
        """Step 1: status changes, shocks to salience, threat, rivalry and the moratorium."""
        self.shock *= 1.0 - self.params.shock_decay
        endogenous = self.sco_scenario.membership.mode == "endogenous"
        for i, new in self.status_changes.get(year, ()):
            if endogenous and self.status[i] >= APPLICANT:
                # Endogenous mode: once a state applies (or is a member) its further
                # steps are decided by the members, so the written timeline no longer
                # applies to it, and it is never moved back down.
                continue
            membership.set_status(self, i, new, year)
        for event in events:
            for area, value in event.salience.items():
                self.shock[self.area_index[area]] += value
            apply_lasting_effects(self, event)
        events_module.apply(self, year)  # random events (forecast years of a scenario with a process)

    def update_capabilities(self, year: int) -> None:
        """Step 2: capabilities, claims and the baseline alignment from their yearly series."""
        t = year - self.start_year
        self.capability = self.capability_series[t]
        if self.claim_series is not None:
            self.claims = self.claim_series[t]
        if self.baseline_series is not None and t > 0:
            # The data move the baseline; a state keeps its drift away from it.
            new = self.baseline_series[t]
            self.alignment = np.minimum(
                np.maximum(self.alignment + (new - self.baseline_alignment), 0.0), 1.0
            )
            self.baseline_alignment = new

    def tolerance(self) -> np.ndarray:
        """Loss each state accepts without objecting: rises with trust and the norm."""
        member = self.member_weight
        trust_in_members = _sum(self.trust * member, axis=1) - member  # a member's trust in itself is 1
        mean_trust = trust_in_members / self.other_members
        factor = 1.0 + self.params.trust_tolerance * (mean_trust - 0.5)
        return np.maximum(0.0, self.rules.tolerance * self.rules.norm_strength * factor)

    def decide(self, items: Agenda) -> Decision:
        """Step 4: bargain and decide every item under the scenario's rule."""
        mechanisms = self.sco_scenario.mechanisms
        costs = items.costs
        participation = _sum(costs, axis=2) if costs is not None and mechanisms.participation_cost else None
        self.summit_tolerance = self.tolerance()  # (kept for the decision record)
        inputs = BargainInput(
            positions=items.positions,
            saliences=items.saliences,
            capabilities=self.capability,
            status_quo=items.status_quo,
            proposal=items.proposal,
            tolerance=self.summit_tolerance,
            voters=self.members,
            participation=participation if participation is not None and count_true(participation) else None,
            project=items.project if mechanisms.stand_aside else None,
        )
        return self.rule(inputs, self.rule_settings)

    def apply_consequences(self, items: Agenda, decision: Decision) -> None:
        """Step 5: depth grows where texts pass; trust and pole influence respond."""
        p = self.params
        self.influence_gain *= 1.0 - p.influence_decay
        self.benefit *= 1.0 - p.benefit_decay
        if len(items) == 0:
            return
        adopted = np.isfinite(decision.adopted)
        joined = self.members & ~(decision.opt_outs | decision.objectors)
        cap = self.capability * self.member_weight
        joined_share = (_sum(joined * cap, axis=1) / max(_sum(cap), 1e-12)).tolist()
        # Per adopted item (a handful a year), in plain floats: depth and the pole credited.
        # One item per area and year, so the areas of adopted items are distinct.
        texts = decision.adopted.tolist()
        before = items.status_quo.tolist()
        areas = items.area.tolist()
        beneficiaries = items.beneficiary.tolist()
        initiators = items.initiator.tolist()
        gained = [0.0] * len(self.poles)  # summed over the items first, then added
        benefits: dict[int, float] = {}
        for k in adopted.nonzero()[0].tolist():
            depth = float(self.depth[areas[k]])
            gain = p.implementation_rate * joined_share[k] * (texts[k] - depth)
            deeper = min(depth + (gain if gain > 0.0 else 0.0), 100.0)
            self.depth[areas[k]] = deeper
            benefits[areas[k]] = (deeper - depth) / 100.0
            # Influence: the pole the item favours (or the pole that tabled it) gains.
            pole = beneficiaries[k]
            if pole < 0 and initiators[k] >= 0:
                pole = self.pole_of_list[initiators[k]]
            if pole >= 0:
                gained[pole] += p.influence_gain * ((texts[k] - before[k]) / 100.0)
        self.influence_gain += gained
        for area, benefit in benefits.items():
            self.benefit[area] += benefit
        # Trust: agreeing together builds it; objecting erodes others' trust in you.
        if self.sco_scenario.mechanisms.trust:
            self._update_trust(joined, adopted, decision)
        self._carry(items, decision)

    def _update_trust(self, joined: np.ndarray, adopted: np.ndarray, decision: Decision) -> None:
        agreed = (joined & adopted[:, None]).astype(float)
        together = (agreed.T @ agreed).astype(np.intp)  # items adopted together, per pair
        self.trust = 1.0 - (1.0 - self.trust) * self.trust_kept.take(together)
        if count_true(decision.objectors):
            objections: np.ndarray = _sum(decision.objectors, axis=0)
            self.trust = self.trust * self.trust_lost.take(objections)[None, :]
        self.trust.flat[:: len(self.codes) + 1] = 1.0  # the diagonal: a state trusts itself

    def _carry(self, items: Agenda, decision: Decision) -> None:
        """Deferred items return next year; blocked ones may be tabled again later."""
        for item, outcome in zip(items.policy_items, decision.outcome.tolist(), strict=True):
            if outcome == DEFERRED and item.deferrals < self.params.max_deferrals:
                self.carried.append(item.carried("deferred", item.deferrals + 1))
            elif outcome in (BLOCKED, DEFERRED):
                self.blocked_pool = [s for s in self.blocked_pool if s.area != item.area]
                self.blocked_pool.append(item)

    def release(self) -> None:
        """Let the model be garbage-collected once its tables are taken.

        Mesa 3.3 keeps every model alive through the class attribute ``Agent._ids``
        (mesa/mesa#3179, fixed in later Mesa), so a batch of thousands of runs in one
        worker would grow without bound. This drops that reference and the agents.
        """
        ids = getattr(mesa.Agent, "_ids", None)
        if isinstance(ids, dict):
            ids.pop(self, None)
        self.remove_all_agents()

    def balancing_indices(self) -> np.ndarray:
        """Balancing index of every state this year (see :mod:`sim.balancing`)."""
        return balancing.balancing_index(self)

    # Output ---------------------------------------------------------------------
    def tables(self, texts: bool = False) -> dict[str, Any]:
        """Return the tables as pandas DataFrames: model, states, decisions (and texts if asked)."""
        return self.recorder.tables(texts=texts)
