"""Data collection (step 8): three tidy tables, built once, at the end of a run.

* ``model``: one row per year (counts of outcome classes, consensus rate,
  depth per area, trust, pole weights, the focal state's balancing index);
* ``states``: one row per state and year (status, alignment, objections,
  opt-outs, utility realised per interest, balancing index);
* ``decisions``: one row per item decided (area, initiator, proposed and
  adopted ambition, outcome class, objectors, members opting out, rounds).

A year keeps copies of the state that changes (status, alignment, threat,
depth, trust, pole weights), who sat at the summit, and its agendas and
decisions, which nothing changes afterwards. Every column (cohesion, mean trust
and realised utility included) is computed from these at the end, for all years
at once, and turned into DataFrames only when asked: a run's collection cost
stays small and its memory bounded by the run's own length.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from sim.model import balancing, dissent
from sim.model.items import Agenda
from sim.model.state import ModelState
from sim.model.yearitems import YearItems, join_flagged, share
from sim.rules import ADOPTED, BLOCKED, DEFERRED, DILUTED, OPT_OUT, OUTCOMES, Decision
from sim.scenario import INTERESTS, STATUSES

MEMBER = STATUSES.index("member")


if TYPE_CHECKING:
    import pandas as pd


class Recorder:
    """Collects the model's yearly figures and turns them into three tables."""

    def __init__(self, model: ModelState) -> None:
        self.model = model
        n_years = model.end_year - model.start_year + 1
        n_states, n_poles = len(model.codes), len(model.poles)
        self.n_years = 0  # years recorded so far
        self.summits: list[tuple[Agenda, Decision]] = []
        self.enlargements: list[tuple[Agenda, Decision] | None] = []
        self.moratorium: list[bool] = []
        # The state that changes, one row per year.
        self.influence = np.zeros((n_years, n_poles))  # pole influence gained from adopted items
        self.depth = np.zeros((n_years, len(model.areas)))
        self.status = np.zeros((n_years, n_states), dtype=model.status.dtype)
        self.capability = np.zeros((n_years, n_states))
        self.alignment = np.zeros((n_years, n_states, n_poles))
        self.baseline = np.zeros((n_years, n_states, n_poles))  # what the data alone give that year
        self.threat = np.zeros((n_years, n_states, n_poles))
        self.trust = np.zeros((n_years, n_states, n_states))
        self.voters = np.zeros((n_years, n_states), dtype=bool)  # who decided the year's items
        self.tolerance = np.zeros((n_years, n_states))  # each state's tolerance at the summit
        self.codes = np.array(model.codes)
        self.code_list = list(model.codes)
        self.status_names = np.array(STATUSES, dtype=object)

    def collect(
        self,
        year: int,  # noqa: ARG002 - the model passes it; the years come from the model's own record
        items: Agenda,
        decision: Decision,
        enlargement: Agenda,
        enlargement_decision: Decision | None,
        voters: np.ndarray,
    ) -> None:
        """Record the year's figures after the summit.

        ``voters`` are the members who decided this year's items; ``members`` in the
        model table counts the members at the end of the year (after accessions).
        """
        m = self.model
        self.summits.append((items, decision))
        self.enlargements.append(
            None if enlargement_decision is None else (enlargement, enlargement_decision)
        )
        self.moratorium.append(bool(m.moratorium))
        t = self.n_years
        self.voters[t] = voters
        self.tolerance[t] = m.summit_tolerance
        self.influence[t] = m.influence_gain
        self.depth[t] = m.depth
        self.status[t] = m.status
        self.capability[t] = m.capability
        self.alignment[t] = m.alignment
        self.baseline[t] = m.baseline_alignment
        self.threat[t] = m.threat
        self.trust[t] = m.trust
        self.n_years += 1

    def columns(self, texts: bool = False) -> dict[str, dict[str, np.ndarray]]:
        """Return the tables as columns of numpy arrays (cheap to join across runs).

        ``texts=True`` adds the ``texts`` table (one row per item x text x member).
        """
        m = self.model
        n = self.n_years
        years = np.arange(m.start_year, m.start_year + n)
        summits = YearItems([items for items, _ in self.summits], [d for _, d in self.summits])
        weights = self._pole_weights(n)
        balancing_index = balancing.balancing_index_of(self.alignment[:n], weights)  # years x states
        voters = self.voters[:n]
        n_voters = np.count_nonzero(voters, axis=1)
        cohesion, utility = self._cohesion_and_utility(summits, voters, n_voters)
        model = self._model_table(years, summits)
        model["cohesion"] = cohesion
        model["mean_trust"] = self._mean_trust(voters, n_voters)
        model["moratorium"] = np.array(self.moratorium, dtype=bool)
        model["balancing_index"] = balancing_index[:, m.focal]
        for p, pole in enumerate(m.poles):
            model[f"influence_{pole}"] = weights[:, p]
        for k, area in enumerate(m.areas):
            model[f"depth_{area}"] = self.depth[:n, k]
        enlargements = self._enlargements()
        log = summits if enlargements is None else summits.interleave(enlargements)
        blocked = dissent.blockers(log)
        states_counts: dict[str, np.ndarray] = {}
        self._dissent_counts(model, states_counts, log, blocked)
        states = self._states_table(years, summits, enlargements, balancing_index, utility)
        states.update(states_counts)
        tables = {"model": model, "states": states, "decisions": self._decisions(years, log, blocked)}
        if texts:
            tables["texts"] = dissent.texts_table(m, log, years, voters, self.tolerance[:n])
        return tables

    def _dissent_counts(
        self, model: dict[str, np.ndarray], states: dict[str, np.ndarray], log: YearItems, blocked: np.ndarray
    ) -> None:
        """Add the dissent, stand-aside and block counts per year (model) and per state and year (states)."""
        for name, flags in (("dissents", log.dissent), ("stand_asides", log.opt_outs), ("blocks", blocked)):
            per_state = log.per_year_sum(flags)  # years x states
            model[name] = per_state.sum(axis=1)
            states[name] = per_state.reshape(-1)

    def _model_table(self, years: np.ndarray, summits: YearItems) -> dict[str, np.ndarray]:
        """Return the model table's columns up to ``objections`` (the counts and rates of the summits)."""
        n = len(years)
        n_items = summits.n_items
        adopted = np.isfinite(summits.adopted)
        counts = summits.per_year_counts(summits.outcome, len(OUTCOMES))
        n_adopted = summits.per_year_sum(adopted)
        # Sums of floats are taken year by year, over the same arrays a year alone would
        # give: the order of a float sum changes its last digits.
        adopted_texts = summits.adopted[adopted]
        increments = np.where(adopted, summits.adopted - summits.status_quo, 0.0)
        mean_adopted = [
            float(adopted_texts[end - count : end].sum() / count) if count else np.nan
            for end, count in zip(np.cumsum(n_adopted).tolist(), n_adopted.tolist(), strict=True)
        ]
        output = [
            float(increments[start : start + count].sum() / 100.0) if count else 0.0
            for start, count in zip(summits.starts.tolist(), n_items.tolist(), strict=True)
        ]
        return {
            "year": years,
            "members": np.count_nonzero(self.status[:n] == MEMBER, axis=1),
            "items": n_items,
            "adopted": counts[:, ADOPTED],
            "adopted_opt_out": counts[:, OPT_OUT],
            "diluted": counts[:, DILUTED],
            "blocked": counts[:, BLOCKED],
            "deferred": counts[:, DEFERRED],
            "consensus_rate": share(summits.per_year_sum(adopted & ~summits.objectors.any(axis=1)), n_items),
            "adoption_rate": share(n_adopted, n_items),
            "diluted_share": share(counts[:, DILUTED], n_items),
            "mean_adopted_ambition": np.array(mean_adopted, dtype=float),
            "functional_output": np.array(output, dtype=float),
            "mean_rounds": share(summits.per_year_sum(summits.rounds), n_items),
            "objections": summits.per_year_sum(summits.objectors.sum(axis=1)),
        }

    def _mean_trust(self, voters: np.ndarray, n_voters: np.ndarray) -> np.ndarray:
        """Mean trust among the members who sat at the summit (each one's trust in itself left out)."""
        n = len(voters)
        weight = voters.astype(float)
        trust_sum = (self.trust[:n] * weight[:, :, None] * weight[:, None, :]).sum(axis=(1, 2))
        pairs = n_voters * (n_voters - 1)
        return np.divide(trust_sum - n_voters, pairs, out=np.full(n, np.nan), where=pairs > 0)

    def _enlargements(self) -> YearItems | None:
        """Return the enlargement items of every year, or None if there were none."""
        if not any(pair is not None and len(pair[0]) for pair in self.enlargements):
            return None
        return YearItems(
            [pair[0] if pair is not None else None for pair in self.enlargements],
            [pair[1] if pair is not None else None for pair in self.enlargements],
        )

    def _states_table(
        self,
        years: np.ndarray,
        summits: YearItems,
        enlargements: YearItems | None,
        balancing_index: np.ndarray,
        utility: np.ndarray,
    ) -> dict[str, np.ndarray]:
        """Return the states table's columns: one row per state and year."""
        m = self.model
        n, n_states = len(years), len(m.codes)
        objections = summits.per_year_sum(summits.objectors)
        if enlargements is not None:
            objections = objections + enlargements.per_year_sum(enlargements.objectors)
        alignment = self.alignment[:n].reshape(n * n_states, -1)
        baseline = self.baseline[:n].reshape(n * n_states, -1)
        threat = self.threat[:n].reshape(n * n_states, -1)
        utility = utility.reshape(n * n_states, -1)
        states: dict[str, np.ndarray] = {
            "year": np.repeat(years, n_states),
            "state": np.tile(self.codes.astype(object), n),
            "status": self.status_names[self.status[:n].reshape(-1)],
            "capability": self.capability[:n].reshape(-1),
            "objections": objections.reshape(-1),
            "opt_outs": summits.per_year_sum(summits.opt_outs).reshape(-1),
            "balancing_index": balancing_index.reshape(-1),
        }
        for p, pole in enumerate(m.poles):
            states[f"alignment_{pole}"] = alignment[:, p]
            states[f"threat_{pole}"] = threat[:, p]
        for k, interest in enumerate(INTERESTS):
            states[f"utility_{interest}"] = utility[:, k]
        for p, pole in enumerate(m.poles):
            states[f"baseline_{pole}"] = baseline[:, p]
        return states

    def _pole_weights(self, n: int) -> np.ndarray:
        """Return each pole's weight at the end of each year (see :func:`sim.balancing.pole_weights`)."""
        m = self.model
        member = self.status[:n] == MEMBER
        cap = self.capability[:n] * member
        total = cap.sum(axis=1)
        coalition = np.einsum("ys,ysp->yp", cap, self.alignment[:n])
        np.divide(coalition, total[:, None], out=coalition, where=total[:, None] > 0)
        weights = coalition + self.influence[:n]
        weights[~member[:, m.pole_index]] = 0.0  # a pole that is not a member has no weight
        return weights

    def _cohesion_and_utility(
        self, summits: YearItems, voters: np.ndarray, n_voters: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """Return each year's cohesion, and the utility each state realised per interest.

        Cohesion is 1 minus the mean, over the year's items, of the spread (standard
        deviation) of the voters' positions, in units of 50 points; NaN without items
        or with fewer than two voters. Realised utility is each member's gain from the
        adopted texts, divided over its interests by the areas' relevance (0 for the
        states that did not sit at the summit).
        """
        m = self.model
        n_years, n_states = voters.shape
        cohesion = np.full(n_years, np.nan)
        utility = np.zeros((n_years, n_states, len(INTERESTS)))
        n_items = summits.n_items
        if not n_items.any():
            return cohesion, utility
        year = np.repeat(np.arange(n_years), n_items)
        weight = voters.astype(float)[year]  # items x states: 1.0 for a voter
        positions, count = summits.positions, np.maximum(n_voters, 1)[year]
        mean = (positions * weight).sum(axis=1) / count
        deviation = (positions - mean[:, None]) * weight
        spread = np.sqrt((deviation * deviation).sum(axis=1) / count)
        spread_sum = np.bincount(year, weights=spread, minlength=n_years)
        counted = (n_items > 0) & (n_voters > 1)
        cohesion[counted] = 1.0 - spread_sum[counted] / n_items[counted] / 50.0
        adopted = np.isfinite(summits.adopted)
        text = np.where(adopted, summits.adopted, summits.status_quo)
        before = np.abs(summits.status_quo[:, None] - positions)
        after = np.abs(text[:, None] - positions)
        gain = summits.saliences * (before - after) / 100.0 * weight
        per_item = gain[:, :, None] * m.utility_share.take(summits.area, axis=0)
        with_items = n_items > 0
        utility[with_items] = np.add.reduceat(per_item, summits.starts[with_items], axis=0)
        return cohesion, utility

    def _decisions(self, years: np.ndarray, log: YearItems, blocked: np.ndarray) -> dict[str, np.ndarray]:
        """One row per item, in the order decided: each year's summit, then its enlargement steps."""
        m = self.model
        members = np.repeat(np.count_nonzero(self.voters[: len(years)], axis=1), log.n_items)
        opt_outs = self._names(log.opt_outs)
        columns: dict[str, Any] = {
            "year": np.repeat(years, log.n_items),
            "item": log.ids,
            "area": [m.areas[a] if a >= 0 else "enlargement" for a in log.area.tolist()],
            "title": log.titles,
            "origin": log.origins,
            "initiator": [m.codes[i] if i >= 0 else "chair" for i in log.initiator.tolist()],
            "beneficiary": [m.codes[b] if b >= 0 else "" for b in log.beneficiary_state.tolist()],
            "status_quo": log.status_quo,
            "proposed": log.proposal,
            "adopted": log.adopted,
            "outcome": [OUTCOMES[o] for o in log.outcome.tolist()],
            "objectors": self._names(log.objectors),
            "opt_outs": opt_outs,
            "dissenters": self._names(log.dissent),
            "stood_aside": opt_outs,
            "blocked_by": self._names(blocked),
            "reasons": dissent.reasons(m, log),
            "rounds": log.rounds,
            "members": members,
        }
        return {
            key: np.asarray(values, dtype=DECISION_DTYPES.get(key, object)) for key, values in columns.items()
        }

    def _names(self, mask: np.ndarray) -> list[str]:
        """Join the ISO3 codes flagged in each row ("" for none), in state order."""
        return join_flagged(mask, self.code_list)

    def tables(self, texts: bool = False) -> dict[str, pd.DataFrame]:
        """Return the tables as DataFrames keyed ``model``, ``states``, ``decisions`` (and ``texts``)."""
        import pandas as pd

        # Object columns go in as lists: pandas builds its string columns from a list faster
        # than from an object array (same dtypes, same values; tests/test_golden.py).
        return {
            name: pd.DataFrame({k: v.tolist() if v.dtype == object else v for k, v in columns.items()})
            for name, columns in self.columns(texts=texts).items()
        }


MODEL_COLUMNS = (
    "year", "members", "items", "adopted", "adopted_opt_out", "diluted", "blocked", "deferred",
    "consensus_rate", "adoption_rate", "diluted_share", "mean_adopted_ambition", "functional_output",
    "mean_rounds", "objections", "cohesion", "mean_trust", "moratorium", "balancing_index",
)  # fmt: skip


STATE_COLUMNS = ("year", "state", "status", "capability", "objections", "opt_outs", "balancing_index")
# Dissent counts, at the end of the model table (after depth) and of the states table.
STATE_COUNT_COLUMNS = ("dissents", "stand_asides", "blocks")


def table_columns(poles: list[str], areas: list[str]) -> dict[str, list[str]]:
    """Return the columns of the three tables for a scenario's poles and areas."""
    return {
        "model": [
            *MODEL_COLUMNS,
            *(f"influence_{p}" for p in poles),
            *(f"depth_{a}" for a in areas),
            *STATE_COUNT_COLUMNS,
        ],
        "states": [
            *STATE_COLUMNS,
            *(f"{kind}_{p}" for p in poles for kind in ("alignment", "threat")),
            *(f"utility_{i}" for i in INTERESTS),
            *(f"baseline_{p}" for p in poles),
            *STATE_COUNT_COLUMNS,
        ],
        "decisions": list(DECISION_COLUMNS),
    }


DECISION_COLUMNS = (
    "year", "item", "area", "title", "origin", "initiator", "beneficiary", "status_quo",
    "proposed", "adopted", "outcome", "objectors", "opt_outs", "dissenters", "stood_aside", "blocked_by",
    "reasons", "rounds", "members",
)  # fmt: skip


DECISION_DTYPES: dict[str, Any] = {
    "year": np.int64, "item": np.int64, "status_quo": np.float64, "proposed": np.float64,
    "adopted": np.float64, "rounds": np.int64, "members": np.int64,
}  # fmt: skip
