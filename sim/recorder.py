"""Data collection (step 8): three tidy tables, built once, at the end of a run.

* ``model``: one row per year (counts of outcome classes, consensus rate,
  depth per area, trust, pole weights, the focal state's balancing index);
* ``states``: one row per state and year (status, alignment, objections,
  opt-outs, utility realised per interest, balancing index);
* ``decisions``: one row per item decided (area, initiator, proposed and
  adopted ambition, outcome class, objectors, members opting out, rounds).

A year keeps copies of the state that changes (status, alignment, threat,
depth, pole weights), the figures that need the year's trust and members
(mean trust, cohesion), and its agendas and decisions, which nothing changes
afterwards. The columns are computed from these at the end, for all years at
once, and turned into DataFrames only when asked: a run's collection cost stays
small and its memory bounded by the run's own length.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from sim import balancing
from sim.rules import ADOPTED, BLOCKED, DEFERRED, DILUTED, OPT_OUT, OUTCOMES
from sim.scenario import INTERESTS, STATUSES

MEMBER = STATUSES.index("member")

if TYPE_CHECKING:
    import pandas as pd

    from sim.agenda import Agenda
    from sim.model import SCOModel
    from sim.rules import Decision


class Recorder:
    """Collects the model's yearly figures and turns them into three tables."""

    def __init__(self, model: SCOModel) -> None:
        self.model = model
        self.years: list[int] = []
        self.voters: list[int] = []  # how many members decided the year's items
        self.summits: list[tuple[Agenda, Decision]] = []
        self.enlargements: list[tuple[Agenda, Decision] | None] = []
        self.cohesion: list[float] = []
        self.mean_trust: list[float] = []
        self.moratorium: list[bool] = []
        self.weights: list[np.ndarray] = []
        self.depth: list[np.ndarray] = []
        self.status: list[np.ndarray] = []
        self.capability: list[np.ndarray] = []
        self.alignment: list[np.ndarray] = []
        self.threat: list[np.ndarray] = []
        self.utility: list[np.ndarray] = []
        self.codes = np.array(model.codes)
        self.code_list = list(model.codes)
        self.status_names = np.array(STATUSES, dtype=object)

    def collect(
        self,
        year: int,
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
        n_items = len(items)
        n_members = np.count_nonzero(voters)
        if n_items and n_members > 1:
            positions = items.positions[:, voters]
            deviation = positions - positions.sum(axis=1, keepdims=True) / n_members
            spread = float(np.sqrt((deviation * deviation).sum(axis=1) / n_members).sum() / n_items)
            self.cohesion.append(1.0 - spread / 50.0)
        else:
            self.cohesion.append(np.nan)
        if n_members > 1:
            trust_sum = float(m.trust[voters][:, voters].sum())
            self.mean_trust.append((trust_sum - n_members) / (n_members * (n_members - 1)))
        else:
            self.mean_trust.append(np.nan)
        self.years.append(year)
        self.voters.append(n_members)
        self.summits.append((items, decision))
        self.enlargements.append(
            None if enlargement_decision is None else (enlargement, enlargement_decision)
        )
        self.moratorium.append(bool(m.moratorium))
        self.weights.append(balancing.pole_weights(m))
        self.depth.append(m.depth.copy())
        self.status.append(m.status.copy())
        self.capability.append(m.capability)  # a row of the precomputed series, never written to
        self.alignment.append(m.alignment.copy())
        self.threat.append(m.threat.copy())
        self.utility.append(m.realised_utility)  # a fresh array every year

    def columns(self) -> dict[str, dict[str, np.ndarray]]:
        """Return the three tables as columns of numpy arrays (cheap to join across runs)."""
        return {
            "model": self._model_columns(),
            "states": self._state_columns(),
            "decisions": self._decisions(),
        }

    def _balancing_index(self) -> np.ndarray:
        """Balancing index of every state in every year (years x states)."""
        return balancing.balancing_index_of(np.array(self.alignment), np.array(self.weights))

    def _model_columns(self) -> dict[str, np.ndarray]:
        m = self.model
        summits = _YearItems([items for items, _ in self.summits], [d for _, d in self.summits])
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
        weights = np.array(self.weights)
        depth = np.array(self.depth)
        columns: dict[str, np.ndarray] = {
            "year": np.array(self.years),
            "members": np.count_nonzero(np.array(self.status) == MEMBER, axis=1),
            "items": n_items,
            "adopted": counts[:, ADOPTED],
            "adopted_opt_out": counts[:, OPT_OUT],
            "diluted": counts[:, DILUTED],
            "blocked": counts[:, BLOCKED],
            "deferred": counts[:, DEFERRED],
            "consensus_rate": _share(summits.per_year_sum(adopted & ~summits.objectors.any(axis=1)), n_items),
            "adoption_rate": _share(n_adopted, n_items),
            "diluted_share": _share(counts[:, DILUTED], n_items),
            "mean_adopted_ambition": np.array(mean_adopted, dtype=float),
            "functional_output": np.array(output, dtype=float),
            "mean_rounds": _share(summits.per_year_sum(summits.rounds), n_items),
            "objections": summits.per_year_sum(summits.objectors.sum(axis=1)),
            "cohesion": np.array(self.cohesion, dtype=float),
            "mean_trust": np.array(self.mean_trust, dtype=float),
            "moratorium": np.array(self.moratorium, dtype=bool),
            "balancing_index": self._balancing_index()[:, m.focal],
        }
        for p, pole in enumerate(m.poles):
            columns[f"influence_{pole}"] = weights[:, p]
        for k, area in enumerate(m.areas):
            columns[f"depth_{area}"] = depth[:, k]
        return columns

    def _state_columns(self) -> dict[str, np.ndarray]:
        m = self.model
        n_years, n_states = len(self.years), len(m.codes)
        summits = _YearItems([items for items, _ in self.summits], [d for _, d in self.summits])
        objections = summits.per_year_sum(summits.objectors)
        if any(pair is not None and len(pair[0]) for pair in self.enlargements):
            enlargements = _YearItems(
                [pair[0] if pair is not None else None for pair in self.enlargements],
                [pair[1] if pair is not None else None for pair in self.enlargements],
            )
            objections = objections + enlargements.per_year_sum(enlargements.objectors)
        alignment = np.concatenate(self.alignment)
        threat = np.concatenate(self.threat)
        utility = np.concatenate(self.utility)
        columns: dict[str, np.ndarray] = {
            "year": np.repeat(np.array(self.years), n_states),
            "state": np.tile(self.codes.astype(object), n_years),
            "status": self.status_names[np.concatenate(self.status)],
            "capability": np.concatenate(self.capability),
            "objections": objections.reshape(-1),
            "opt_outs": summits.per_year_sum(summits.opt_outs).reshape(-1),
            "balancing_index": self._balancing_index().reshape(-1),
        }
        for p, pole in enumerate(m.poles):
            columns[f"alignment_{pole}"] = alignment[:, p]
            columns[f"threat_{pole}"] = threat[:, p]
        for k, interest in enumerate(INTERESTS):
            columns[f"utility_{interest}"] = utility[:, k]
        return columns

    def _decisions(self) -> dict[str, np.ndarray]:
        """One row per item, in the order decided: each year's summit, then its enlargement steps."""
        m = self.model
        logged: list[tuple[int, int, Agenda, Decision]] = []
        for year, n_members, (items, decision), enlargement in zip(
            self.years, self.voters, self.summits, self.enlargements, strict=True
        ):
            if len(items):
                logged.append((year, n_members, items, decision))
            if enlargement is not None and len(enlargement[0]):
                logged.append((year, n_members, *enlargement))
        if not logged:
            return {key: np.asarray([], dtype=DECISION_DTYPES.get(key, object)) for key in DECISION_COLUMNS}
        lengths = [len(items) for _, _, items, _ in logged]
        areas = np.concatenate([items.area for _, _, items, _ in logged]).tolist()
        initiators = np.concatenate([items.initiator for _, _, items, _ in logged]).tolist()
        beneficiaries = np.concatenate([items.beneficiary for _, _, items, _ in logged]).tolist()
        outcomes = np.concatenate([decision.outcome for _, _, _, decision in logged]).tolist()
        columns: dict[str, Any] = {
            "year": np.repeat([year for year, _, _, _ in logged], lengths),
            "item": [i for _, _, items, _ in logged for i in items.ids],
            "area": [m.areas[a] if a >= 0 else "enlargement" for a in areas],
            "title": [title for _, _, items, _ in logged for title in items.titles],
            "origin": [origin for _, _, items, _ in logged for origin in items.origins],
            "initiator": [m.codes[i] if i >= 0 else "chair" for i in initiators],
            "beneficiary": [m.poles[b] if b >= 0 else "" for b in beneficiaries],
            "status_quo": np.concatenate([items.status_quo for _, _, items, _ in logged]),
            "proposed": np.concatenate([items.proposal for _, _, items, _ in logged]),
            "adopted": np.concatenate([decision.adopted for _, _, _, decision in logged]),
            "outcome": [OUTCOMES[o] for o in outcomes],
            "objectors": self._names(np.concatenate([decision.objectors for _, _, _, decision in logged])),
            "opt_outs": self._names(np.concatenate([decision.opt_outs for _, _, _, decision in logged])),
            "rounds": np.concatenate([decision.rounds for _, _, _, decision in logged]),
            "members": np.repeat([n_members for _, n_members, _, _ in logged], lengths),
        }
        return {
            key: np.asarray(values, dtype=DECISION_DTYPES.get(key, object)) for key, values in columns.items()
        }

    def _names(self, mask: np.ndarray) -> list[str]:
        """Join the ISO3 codes flagged in each row ("" for none)."""
        flagged: list[list[str]] = [[] for _ in range(len(mask))]
        rows, columns = mask.nonzero()  # row by row, columns in state order
        for k, i in zip(rows.tolist(), columns.tolist(), strict=True):
            flagged[k].append(self.code_list[i])
        return [";".join(codes) for codes in flagged]

    def tables(self) -> dict[str, pd.DataFrame]:
        """Return the tables as DataFrames keyed ``model``, ``states``, ``decisions``."""
        import pandas as pd

        return {name: pd.DataFrame(columns) for name, columns in self.columns().items()}


MODEL_COLUMNS = (
    "year", "members", "items", "adopted", "adopted_opt_out", "diluted", "blocked", "deferred",
    "consensus_rate", "adoption_rate", "diluted_share", "mean_adopted_ambition", "functional_output",
    "mean_rounds", "objections", "cohesion", "mean_trust", "moratorium", "balancing_index",
)  # fmt: skip
STATE_COLUMNS = ("year", "state", "status", "capability", "objections", "opt_outs", "balancing_index")


def table_columns(poles: list[str], areas: list[str]) -> dict[str, list[str]]:
    """Return the columns of the three tables for a scenario's poles and areas."""
    return {
        "model": [*MODEL_COLUMNS, *(f"influence_{p}" for p in poles), *(f"depth_{a}" for a in areas)],
        "states": [
            *STATE_COLUMNS,
            *(f"{kind}_{p}" for p in poles for kind in ("alignment", "threat")),
            *(f"utility_{i}" for i in INTERESTS),
        ],
        "decisions": list(DECISION_COLUMNS),
    }


DECISION_COLUMNS = (
    "year", "item", "area", "title", "origin", "initiator", "beneficiary", "status_quo",
    "proposed", "adopted", "outcome", "objectors", "opt_outs", "rounds", "members",
)  # fmt: skip
DECISION_DTYPES: dict[str, Any] = {
    "year": np.int64, "item": np.int64, "status_quo": np.float64, "proposed": np.float64,
    "adopted": np.float64, "rounds": np.int64, "members": np.int64,
}  # fmt: skip


class _YearItems:
    """The items of every year, one after the other, with each year's share of the rows."""

    def __init__(self, agendas: list[Agenda | None], decisions: list[Decision | None]) -> None:
        kept = [(a, d) for a, d in zip(agendas, decisions, strict=True) if a is not None and d is not None]
        self.n_items = np.array([len(a) if a is not None else 0 for a in agendas], dtype=np.int64)
        self.starts = np.cumsum(self.n_items) - self.n_items
        self.outcome = np.concatenate([d.outcome for _, d in kept])
        self.adopted = np.concatenate([d.adopted for _, d in kept])
        self.status_quo = np.concatenate([a.status_quo for a, _ in kept])
        self.objectors = np.concatenate([d.objectors for _, d in kept])
        self.opt_outs = np.concatenate([d.opt_outs for _, d in kept])
        self.rounds = np.concatenate([d.rounds for _, d in kept])

    def per_year_sum(self, values: np.ndarray) -> np.ndarray:
        """Sum whole numbers (or flags) per year, along the first axis: differences of running totals."""
        totals = np.zeros((len(values) + 1, *values.shape[1:]), dtype=np.int64)
        np.cumsum(values, axis=0, out=totals[1:])
        return totals[self.starts + self.n_items] - totals[self.starts]

    def per_year_counts(self, codes: np.ndarray, n_codes: int) -> np.ndarray:
        """Count each code per year (years x codes)."""
        year = np.repeat(np.arange(len(self.n_items)), self.n_items)
        return np.bincount(year * n_codes + codes, minlength=len(self.n_items) * n_codes).reshape(-1, n_codes)


def _share(count: np.ndarray, total: np.ndarray) -> np.ndarray:
    """Return count / total, with NaN where the total is 0."""
    return np.divide(count, total, out=np.full(len(total), np.nan), where=total > 0)
