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

if TYPE_CHECKING:
    import pandas as pd

    from sim.agenda import Agenda
    from sim.model import SCOModel
    from sim.rules import Decision


class Recorder:
    """Collects the model's yearly figures into three tables."""

    def __init__(self, model: SCOModel) -> None:
        self.model = model
        self.model_rows: list[dict[str, Any]] = []
        self.state_rows: dict[str, list[Any]] = {}
        self.decision_rows: list[dict[str, Any]] = []

    def collect(
        self,
        year: int,
        items: Agenda,
        decision: Decision,
        enlargement: Agenda,
        enlargement_decision: Decision | None,
    ) -> None:
        """Record the year's figures after the summit."""
        m = self.model
        outcome = decision.outcome if len(items) else np.zeros(0, dtype=np.int8)
        counts = np.bincount(outcome, minlength=len(OUTCOMES)) if len(items) else np.zeros(len(OUTCOMES), int)
        n_items = int(len(items))
        members = m.members
        adopted = np.isfinite(decision.adopted) if n_items else np.zeros(0, bool)
        no_objection = ~decision.objectors.any(axis=1) if n_items else np.zeros(0, bool)
        member_positions = items.positions[:, members] if n_items else np.zeros((0, 0))
        spread = member_positions.std(axis=1).mean() if n_items and members.sum() > 1 else np.nan
        n_members = int(members.sum())
        trust = m.trust[np.ix_(members, members)]
        mean_trust = (trust.sum() - n_members) / (n_members * (n_members - 1)) if n_members > 1 else np.nan
        weights = balancing.pole_weights(m)
        bi = m.balancing_indices()
        row: dict[str, Any] = {
            "year": year,
            "members": n_members,
            "items": n_items,
            "adopted": int(counts[ADOPTED]),
            "adopted_opt_out": int(counts[OPT_OUT]),
            "diluted": int(counts[DILUTED]),
            "blocked": int(counts[BLOCKED]),
            "deferred": int(counts[DEFERRED]),
            "consensus_rate": float((adopted & no_objection).mean()) if n_items else np.nan,
            "adoption_rate": float(adopted.mean()) if n_items else np.nan,
            "mean_adopted_ambition": float(decision.adopted[adopted].mean()) if adopted.any() else np.nan,
            "functional_output": float(
                (np.where(adopted, np.nan_to_num(decision.adopted) - items.status_quo, 0.0) / 100.0).sum()
            )
            if n_items
            else 0.0,
            "mean_rounds": float(decision.rounds.mean()) if n_items else np.nan,
            "objections": int(decision.objectors.sum()) if n_items else 0,
            "mean_trust": float(mean_trust),
            "cohesion": float(1.0 - spread / 50.0) if np.isfinite(spread) else np.nan,
            "moratorium": bool(m.moratorium),
            "balancing_index": float(bi[m.focal]),
        }
        for p, pole in enumerate(m.poles):
            row[f"influence_{pole}"] = float(weights[p])
        for k, area in enumerate(m.areas):
            row[f"depth_{area}"] = float(m.depth[k])
        self.model_rows.append(row)

        objections = decision.objectors.sum(axis=0) if n_items else np.zeros(len(m.codes), int)
        opt_outs = decision.opt_outs.sum(axis=0) if n_items else np.zeros(len(m.codes), int)
        if enlargement_decision is not None and len(enlargement):
            objections = objections + enlargement_decision.objectors.sum(axis=0)
        columns: dict[str, list[Any]] = {
            "year": [year] * len(m.codes),
            "state": list(m.codes),
            "status": [STATUSES[int(s)] for s in m.status],
            "capability": m.capability.tolist(),
            "objections": objections.tolist(),
            "opt_outs": opt_outs.tolist(),
            "balancing_index": bi.tolist(),
        }
        for p, pole in enumerate(m.poles):
            columns[f"alignment_{pole}"] = m.alignment[:, p].tolist()
            columns[f"threat_{pole}"] = m.threat[:, p].tolist()
        for k, interest in enumerate(INTERESTS):
            columns[f"utility_{interest}"] = m.realised_utility[:, k].tolist()
        for key, values in columns.items():
            self.state_rows.setdefault(key, []).extend(values)

        self._log(year, items, decision, members)
        if enlargement_decision is not None:
            self._log(year, enlargement, enlargement_decision, members)

    def _log(self, year: int, items: Agenda, decision: Decision, members: np.ndarray) -> None:
        m = self.model
        codes = np.array(m.codes)
        for k in range(len(items)):
            area = int(items.area[k])
            initiator = int(items.initiator[k])
            beneficiary = int(items.beneficiary[k])
            adopted = float(decision.adopted[k])
            self.decision_rows.append(
                {
                    "year": year,
                    "item": int(items.ids[k]),
                    "area": m.areas[area] if area >= 0 else "enlargement",
                    "title": items.titles[k],
                    "origin": items.origins[k],
                    "initiator": m.codes[initiator] if initiator >= 0 else "chair",
                    "beneficiary": m.poles[beneficiary] if beneficiary >= 0 else "",
                    "status_quo": float(items.status_quo[k]),
                    "proposed": float(items.proposal[k]),
                    "adopted": adopted,
                    "outcome": OUTCOMES[int(decision.outcome[k])],
                    "objectors": ";".join(codes[decision.objectors[k]]),
                    "opt_outs": ";".join(codes[decision.opt_outs[k]]),
                    "rounds": int(decision.rounds[k]),
                    "members": int(members.sum()),
                }
            )

    def tables(self) -> dict[str, pd.DataFrame]:
        """Return the tables as DataFrames keyed ``model``, ``states``, ``decisions``."""
        import pandas as pd

        decision_columns = [
            "year", "item", "area", "title", "origin", "initiator", "beneficiary", "status_quo",
            "proposed", "adopted", "outcome", "objectors", "opt_outs", "rounds", "members",
        ]  # fmt: skip
        return {
            "model": pd.DataFrame(self.model_rows),
            "states": pd.DataFrame(self.state_rows),
            "decisions": pd.DataFrame(self.decision_rows, columns=decision_columns),
        }
