"""Parameter recovery: which parameters can the record's summaries identify at all?

The study (docs/calibration.md, "Identifiability"):

1. Draw ``truths`` parameter sets from the priors (a Latin hypercube over the ranges,
   seeded from the calibration file's base seed).
2. For each, simulate the record's summaries once (one seed: the record is one
   realisation too) and treat them as the observed record.
3. Refit with ABC-SMC on a smaller budget than the real calibration (one process
   per truth, pyabc's single-core sampler, so each refit is reproducible).
4. Per parameter and truth: the posterior's contraction (1 - posterior variance /
   prior variance) and whether its central ``level`` interval covers the truth.
   Over the truths: the mean contraction, the coverage (the share of truths covered),
   the correlation between truth and posterior mean, and the verdict: a parameter
   is *identified* when its mean contraction reaches ``min_contraction`` and the
   correlation ``min_correlation`` (both fixed in the calibration file before the study
   was run): a posterior that narrows but not around the truth does not count.

Each truth's result is appended to ``recovery_journal.jsonl`` as it finishes; an
interrupted study continues with ``resume=True``.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sim.analysis.abc_smc import AbcBudget, run_abc
from sim.analysis.posterior import posterior_table, weighted_quantile
from sim.analysis.simulator import Simulator, Space
from sim.errors import CalibrationError
from sim.experiments.design import derive_seeds
from sim.experiments.executors import ExecutorChoice, run_tasks
from sim.experiments.sampling import Dimension, draw
from sim.files import append_line, read_json_lines, write_text


@dataclass(frozen=True)
class RecoveryPlan:
    """What the study does: truths, the refits' budget, the interval and the verdict's threshold."""

    scenario: str
    space: Space
    truths: int
    budget: AbcBudget
    level: float = 0.9
    min_contraction: float = 0.2
    min_correlation: float = 0.5

    def truth_points(self) -> list[dict[str, float]]:
        """The true parameter sets: a Latin hypercube over the sampled scale (see Space.bounds)."""
        dims = [Dimension(n, *self.space.bounds(n)) for n in self.space.names]
        rows = draw("latin_hypercube", dims, self.budget.base_seed, samples=self.truths)
        return [dict(zip(self.space.names, (float(v) for v in row), strict=True)) for row in rows]

    def seeds(self) -> list[int]:
        """The seed of each truth's 'record' (children of the base seed after the refits' own)."""
        return derive_seeds(self.budget.base_seed + 1, self.truths)


def recover_one(plan: RecoveryPlan, k: int, folder: str) -> list[dict[str, Any]]:
    """Worker task: simulate truth ``k``'s record, refit it, and return one row per parameter."""
    truth = plan.truth_points()[k]
    simulator = Simulator(plan.scenario, plan.space)
    observed = simulator.simulate(truth, plan.seeds()[k])
    budget = AbcBudget(
        **{**plan.budget.__dict__, "base_seed": plan.budget.base_seed + 1000 + k, "hard": True}
    )
    run = run_abc(simulator, observed, budget, Path(folder) / f"truth_{k:03d}.db", workers=1)
    population, weights = run.population()
    table = posterior_table(population, weights, plan.space).set_index("parameter")
    tail = (1.0 - plan.level) / 2.0
    rows = []
    for name in plan.space.names:
        values = population[name].to_numpy(dtype=float)
        lo, hi = weighted_quantile(values, weights, np.array([tail, 1.0 - tail]))
        low, high = plan.space.bounds(name)
        row = table.loc[plan.space.dotted(name)]
        rows.append(
            {
                "truth": k,
                "parameter": plan.space.dotted(name),
                "true": truth[name],
                "mean": float(row["mean"]),
                "median": float(row["median"]),
                "sd": float(row["sd"]),
                "lower": float(lo),
                "upper": float(hi),
                "contraction": float(row["contraction"]),
                "covered": bool(lo <= truth[name] <= hi),
                "error": abs(float(row["mean"]) - truth[name]) / (high - low),
                "simulations": run.total_simulations,
                "generations": int(run.history.max_t) + 1,
                "seconds": run.wall_seconds,
            }
        )
    return rows


def recovery_table(rows: pd.DataFrame, min_contraction: float, min_correlation: float = -1.0) -> pd.DataFrame:
    """One row per parameter: mean contraction, coverage, error, truth-mean correlation, verdict."""
    out = []
    for parameter, group in rows.groupby("parameter", sort=False):
        if len(group) > 2 and group["true"].std() > 0 and group["mean"].std() > 0:
            corr = float(np.corrcoef(group["true"], group["mean"])[0, 1])
        else:
            corr = float("nan")
        contraction = float(group["contraction"].mean())
        out.append(
            {
                "parameter": parameter,
                "truths": len(group),
                "contraction": contraction,
                "contraction_min": float(group["contraction"].min()),
                "contraction_max": float(group["contraction"].max()),
                "coverage": float(group["covered"].mean()),
                "error": float(group["error"].mean()),
                "correlation": corr,
                "identified": bool(contraction >= min_contraction and corr >= min_correlation),
            }
        )
    return pd.DataFrame(out)


def run_recovery(
    plan: RecoveryPlan,
    out_dir: str | Path,
    workers: int = 1,
    resume: bool = False,
    executor: ExecutorChoice | None = None,
    on_truth: Callable[[int], Any] | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Run the study (truths in parallel, one process each); return per-truth rows and the table."""
    out = Path(out_dir)
    folder = out / "recovery"
    folder.mkdir(parents=True, exist_ok=True)
    journal = out / "recovery_journal.jsonl"
    key = _plan_key(plan)
    done: dict[int, list[dict[str, Any]]] = {}
    if resume and journal.exists():
        for entry in read_json_lines(journal, CalibrationError, "a recovery journal"):
            if entry.get("plan") == key:
                done[int(entry["truth"])] = entry["rows"]
    elif journal.exists():
        journal.unlink()
    todo = [k for k in range(plan.truths) if k not in done]

    def keep(j: int, rows: list[dict[str, Any]]) -> None:
        k = todo[j]
        done[k] = rows
        append_line(journal, json.dumps({"plan": key, "truth": k, "rows": rows}))
        if on_truth is not None:
            on_truth(k)

    executor = executor or ExecutorChoice.for_workers(min(workers, max(len(todo), 1)))
    run_tasks(recover_one, [(plan, k, str(folder)) for k in todo], executor, on_result=keep)
    rows = pd.DataFrame([row for k in range(plan.truths) for row in done[k]])
    table = recovery_table(rows, plan.min_contraction, plan.min_correlation)
    write_text(out / "recovery_truths.csv", rows.to_csv(index=False, lineterminator="\n"))
    write_text(out / "recovery.csv", table.to_csv(index=False, lineterminator="\n"))
    return rows, table


def _plan_key(plan: RecoveryPlan) -> str:
    import hashlib

    content = json.dumps(
        [plan.scenario, plan.space.ranges, sorted(plan.space.integers), plan.truths, plan.budget.__dict__,
         plan.level],
        sort_keys=True,
        default=str,
    )  # fmt: skip
    return hashlib.sha256(content.encode()).hexdigest()[:16]


def format_recovery(table: pd.DataFrame, plan: RecoveryPlan) -> str:
    """The table printed by ``sco-sim calibrate --recovery``."""
    lines = [
        f"Parameter recovery: {plan.truths} truths from the priors, each refitted by ABC-SMC "
        f"(population {plan.budget.population_size}, about {plan.budget.max_simulations} simulations); "
        f"{plan.level:.0%} intervals; identified when mean contraction >= {plan.min_contraction} and "
        f"the correlation of truth and posterior mean >= {plan.min_correlation}",
        "",
        f"{'parameter':<34} {'contraction':>11} {'(min-max)':>13} {'coverage':>9} {'error':>6} "
        f"{'corr':>6}  verdict",
    ]
    for row in table.itertuples():
        span = f"{row.contraction_min:.2f}-{row.contraction_max:.2f}"
        verdict = "identified" if row.identified else "not identified"
        lines.append(
            f"{row.parameter:<34} {row.contraction:>11.2f} {span:>13} {row.coverage:>9.2f} "
            f"{row.error:>6.2f} {row.correlation:>6.2f}  {verdict}"
        )
    return "\n".join(lines)
