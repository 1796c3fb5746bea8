"""Data collection (step 8): three tidy tables, built from plain lists.

* ``model``: one row per year (counts of outcome classes, consensus rate,
  depth per area, trust, pole weights, the focal state's balancing index);
* ``states``: one row per state and year (status, alignment, objections,
  opt-outs, utility realised per interest, balancing index);
* ``decisions``: one row per item decided (area, initiator, proposed and
  adopted ambition, outcome class, objectors, members opting out, rounds).

Rows are appended as Python scalars and turned into DataFrames once, at the
end, which keeps a run's collection cost small and its memory bounded by the
run's own length.
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
    """Collects the model's yearly figures into three tables, column by column."""

    def __init__(self, model: SCOModel) -> None:
        self.model = model
        self.model_rows: list[dict[str, Any]] = []
        self.model_arrays: list[tuple[np.ndarray, np.ndarray]] = []
        self.state_arrays: list[tuple[np.ndarray, ...]] = []
        self.zeros = np.zeros(len(model.codes), dtype=np.int64)
        self.decision_columns: dict[str, list[Any]] = {name: [] for name in DECISION_COLUMNS}
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
        members = voters
        n_members = np.count_nonzero(members)
        weights = balancing.pole_weights(m)
        bi = balancing.balancing_index(m, weights)
        members_now = np.count_nonzero(m.status == MEMBER)  # after this year's accessions
        row: dict[str, Any] = {"year": year, "members": members_now, "items": n_items}
        if n_items:
            outcomes = decision.outcome.tolist()
            counts = [outcomes.count(code) for code in range(len(OUTCOMES))]
            adopted = np.isfinite(decision.adopted)
            objected = decision.objectors.any(axis=1)
            agreed = adopted & ~objected
            increments = np.where(adopted, decision.adopted - items.status_quo, 0.0)
            if n_members > 1:
                positions = items.positions[:, members]
                deviation = positions - positions.sum(axis=1, keepdims=True) / n_members
                spread = float(np.sqrt((deviation * deviation).sum(axis=1) / n_members).sum() / n_items)
            else:
                spread = np.nan
            n_adopted = np.count_nonzero(adopted)
            row.update(
                adopted=counts[ADOPTED],
                adopted_opt_out=counts[OPT_OUT],
                diluted=counts[DILUTED],
                blocked=counts[BLOCKED],
                deferred=counts[DEFERRED],
                consensus_rate=np.count_nonzero(agreed) / n_items,
                adoption_rate=n_adopted / n_items,
                diluted_share=counts[DILUTED] / n_items,
                mean_adopted_ambition=float(decision.adopted[adopted].sum() / n_adopted)
                if n_adopted
                else np.nan,
                functional_output=float(increments.sum() / 100.0),
                mean_rounds=sum(decision.rounds.tolist()) / n_items,
                objections=np.count_nonzero(decision.objectors),
                cohesion=1.0 - spread / 50.0,
            )
        else:
            row.update(
                adopted=0, adopted_opt_out=0, diluted=0, blocked=0, deferred=0,
                consensus_rate=np.nan, adoption_rate=np.nan, diluted_share=np.nan,
                mean_adopted_ambition=np.nan,
                functional_output=0.0, mean_rounds=np.nan, objections=0, cohesion=np.nan,
            )  # fmt: skip
        if n_members > 1:
            trust_sum = float(m.trust[members][:, members].sum())
            row["mean_trust"] = (trust_sum - n_members) / (n_members * (n_members - 1))
        else:
            row["mean_trust"] = np.nan
        row["moratorium"] = bool(m.moratorium)
        row["balancing_index"] = float(bi[m.focal])
        self.model_rows.append(row)
        self.model_arrays.append((weights, m.depth.copy()))

        objections = decision.objectors.sum(axis=0) if n_items else self.zeros
        opt_outs = decision.opt_outs.sum(axis=0) if n_items else self.zeros
        if enlargement_decision is not None and len(enlargement):
            objections = objections + enlargement_decision.objectors.sum(axis=0)
        # Whole arrays per year; split into columns once, in tables().
        self.state_arrays.append(
            (
                m.status.copy(),
                m.capability,  # a row of the precomputed series, never written to
                objections,
                opt_outs,
                bi,
                m.alignment.copy(),
                m.threat.copy(),
                m.realised_utility,  # a fresh array every year
            )
        )

        self._log(year, items, decision, n_members)
        if enlargement_decision is not None:
            self._log(year, enlargement, enlargement_decision, n_members)

    def _names(self, mask: np.ndarray) -> list[str]:
        """Join the ISO3 codes flagged in each row ("" for none)."""
        flagged: list[list[str]] = [[] for _ in range(len(mask))]
        rows, columns = mask.nonzero()  # row by row, columns in state order
        for k, i in zip(rows.tolist(), columns.tolist(), strict=True):
            flagged[k].append(self.code_list[i])
        return [";".join(codes) for codes in flagged]

    def _log(self, year: int, items: Agenda, decision: Decision, n_members: int) -> None:
        n = len(items)
        if n == 0:
            return
        m = self.model
        c = self.decision_columns
        areas = m.areas
        c["year"].extend([year] * n)
        c["item"].extend(items.ids)
        c["area"].extend([areas[a] if a >= 0 else "enlargement" for a in items.area.tolist()])
        c["title"].extend(items.titles)
        c["origin"].extend(items.origins)
        c["initiator"].extend([m.codes[i] if i >= 0 else "chair" for i in items.initiator.tolist()])
        c["beneficiary"].extend([m.poles[b] if b >= 0 else "" for b in items.beneficiary.tolist()])
        c["status_quo"].extend(items.status_quo.tolist())
        c["proposed"].extend(items.proposal.tolist())
        c["adopted"].extend(decision.adopted.tolist())
        c["outcome"].extend([OUTCOMES[o] for o in decision.outcome.tolist()])
        c["objectors"].extend(self._names(decision.objectors))
        c["opt_outs"].extend(self._names(decision.opt_outs))
        c["rounds"].extend(decision.rounds.tolist())
        c["members"].extend([n_members] * n)

    def columns(self) -> dict[str, dict[str, np.ndarray]]:
        """Return the three tables as columns of numpy arrays (cheap to join across runs)."""
        m = self.model
        rows = self.model_rows
        model: dict[str, np.ndarray] = {key: np.array([row[key] for row in rows]) for key in rows[0]}
        weights = np.array([w for w, _ in self.model_arrays])
        depth = np.array([d for _, d in self.model_arrays])
        for p, pole in enumerate(m.poles):
            model[f"influence_{pole}"] = weights[:, p]
        for k, area in enumerate(m.areas):
            model[f"depth_{area}"] = depth[:, k]

        years = model["year"]
        n_states = len(m.codes)
        status, capability, objections, opt_outs, bi, alignment, threat, utility = (
            np.concatenate(part) for part in zip(*self.state_arrays, strict=True)
        )
        states: dict[str, np.ndarray] = {
            "year": np.repeat(years, n_states),
            "state": np.tile(self.codes.astype(object), len(years)),
            "status": self.status_names[status],
            "capability": capability,
            "objections": objections,
            "opt_outs": opt_outs,
            "balancing_index": bi,
        }
        for p, pole in enumerate(m.poles):
            states[f"alignment_{pole}"] = alignment[:, p]
            states[f"threat_{pole}"] = threat[:, p]
        for k, interest in enumerate(INTERESTS):
            states[f"utility_{interest}"] = utility[:, k]
        decisions = {
            key: np.asarray(values, dtype=DECISION_DTYPES.get(key, object))
            for key, values in self.decision_columns.items()
        }
        return {"model": model, "states": states, "decisions": decisions}

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
