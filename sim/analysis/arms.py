"""Compare arms from Python: what ``sco-sim compare`` computes, for runs made in a notebook or a batch.

:func:`compare_arms` takes runs in one of three forms and returns an :class:`ArmComparison`
with the same two tables ``sco-sim compare`` prints and writes (``claims.csv`` and
``metrics.csv``), computed by the same functions with the same settings: claims by the paired
t test with Holm's adjustment and the band rule (:func:`sim.analysis.compare.evaluate_claims`),
metrics with a percentile bootstrap seeded with :data:`~sim.analysis.compare.BOOTSTRAP_SEED`, the
seed of the command line, so a notebook gives the same intervals as the report::

    import sim

    base = sim.load_scenario("scenarios/sco8_2017.toml")
    rule = sim.load_scenario("scenarios/sco8_2017.toml",
                             overrides={"rules": {"decision_rule": "qualified_majority"}})
    runs = {"consensus": [sim.run(base, seed=s) for s in range(10)],
            "qmv": [sim.run(rule, seed=s) for s in range(10)]}
    result = sim.compare_arms(runs, claims=[
        {"id": "H5", "statement": "consensus_rate[qmv] < consensus_rate[consensus]", "band": 0.02}])
    result.claims        # one row per claim: mean difference, Holm-adjusted interval, verdict
    result.metrics       # each metric by arm: mean with its 95% bootstrap interval

The runs of two arms are compared in pairs: runs made with the same seed (common random
numbers), or in a batch the runs with the same sweep point and replication.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

import pandas as pd
from pydantic import ValidationError

from sim.analysis.compare import BOOTSTRAP_SEED, N_BOOT, evaluate_claims, metric_table, paired_differences
from sim.experiments.claims import CLAIM
from sim.experiments.design import compute_metrics
from sim.experiments.schema import Metric
from sim.experiments.store import Results
from sim.model.run import RunResult
from sim.scenario.messages import first_error

#: the metrics of runs given as RunResults when none are named: those of experiments/enlargement.toml,
#: over every year of the run
DEFAULT_METRICS: dict[str, dict[str, str]] = {
    "consensus_rate": {"column": "consensus_rate", "aggregate": "mean"},
    "diluted_share": {"column": "diluted_share", "aggregate": "mean"},
    "mean_rounds": {"column": "mean_rounds", "aggregate": "mean"},
    "objections": {"column": "objections", "aggregate": "sum"},
    "functional_output": {"column": "functional_output", "aggregate": "sum"},
    "balancing_index": {"column": "balancing_index", "aggregate": "mean"},
}

MetricSpec = str | Mapping[str, Any] | Callable[[RunResult], float]


@dataclass
class ArmComparison:
    """The comparison of arms: one row per run, the claims' verdicts and every metric by arm."""

    summaries: pd.DataFrame
    claims: pd.DataFrame
    metrics: pd.DataFrame
    arms: list[str] = field(default_factory=list)

    def pairs(self, metric: str, arm_a: str, arm_b: str) -> pd.DataFrame:
        """Return the paired runs of two arms and their differences ``a - b`` for one metric."""
        return paired_differences(self.summaries, metric, arm_a, arm_b)


def compare_arms(
    runs: Results | Mapping[str, Iterable[RunResult]] | pd.DataFrame,
    claims: Iterable[Any] | None = None,
    metrics: Mapping[str, MetricSpec] | Sequence[str] | None = None,
    level: float = 0.95,
) -> ArmComparison:
    """Compare arms as ``sco-sim compare`` does: claims (paired t, Holm, bands) and metrics by arm.

    Args:
        runs: Either a batch loaded with :func:`sim.load_results` (its metrics and claims are
            used unless others are given, and the result equals what ``sco-sim compare`` writes);
            or a mapping of arm name to runs of :func:`sim.run` (runs of two arms with the same
            seed form a pair); or a summaries table with one row per run (columns ``arm``,
            ``point``, ``replication``, optionally ``status``, and one column per metric).
        claims: Claims to test together (Holm's adjustment runs across them), each a mapping
            with ``statement`` (``"metric[arm_a] < metric[arm_b]"`` or ``>``) and ``band`` (the
            smallest difference that matters, in the metric's units), and optionally ``id``,
            ``label``, ``hypothesis`` and ``band_reason``; or claims as a batch's ``claims`` list.
        metrics: For runs of :func:`sim.run`: metric name to a column of the model table
            (its mean over the years), to a metric table as in an experiment file (``column``,
            ``table``, ``aggregate``, ``years``, ``state``, ``threshold``), or to a function of a
            run that returns a number; default :data:`DEFAULT_METRICS`. For a batch or a
            summaries table: the metric columns to describe (default: the batch's metrics, or
            every numeric column of the table that is not an id).
        level: The familywise confidence of the claims, and the level of the metrics' intervals.

    Returns:
        An :class:`ArmComparison`: ``summaries`` (one row per run), ``claims`` (as in
        ``claims.csv``), ``metrics`` (as in ``metrics.csv``) and ``arms``.

    Raises:
        ValueError: a claim or a metric that cannot be read, an arm with two runs of one seed,
            or a name the runs do not hold.

    """
    if isinstance(runs, Results):
        summaries, arms = runs.summaries, runs.arms
        names = list(metrics) if metrics is not None else list(runs.experiment.metrics)
        parsed = list(runs.claims) if claims is None else [_claim(c) for c in claims]
    elif isinstance(runs, pd.DataFrame):
        summaries = runs
        arms = list(dict.fromkeys(summaries["arm"].astype(str))) if "arm" in summaries else []
        names = list(metrics) if metrics is not None else _numeric_columns(summaries)
        parsed = [_claim(c) for c in claims or ()]
    elif isinstance(runs, Mapping):
        specs = _metric_specs(DEFAULT_METRICS if metrics is None else metrics)
        summaries, arms = run_summaries(runs, specs), [str(arm) for arm in runs]
        names = list(specs)
        parsed = [_claim(c) for c in claims or ()]
    else:
        raise TypeError(f"runs must be a loaded batch, a mapping of arm to runs or a table, got {type(runs)}")
    claim_table = evaluate_claims(summaries, parsed, level=level)
    table = metric_table(summaries, names, arms, level=level, n_boot=N_BOOT, seed=BOOTSTRAP_SEED)
    return ArmComparison(summaries, claim_table, table, arms)


def run_summaries(
    runs: Mapping[str, Iterable[RunResult]], metrics: Mapping[str, Metric | Callable[[RunResult], float]]
) -> pd.DataFrame:
    """One row per run: ``arm``, ``point`` (0), ``replication`` (the seed), ``seed``, ``status``, the metrics.

    Runs are paired across arms by seed, so the seed is the replication: two runs of one arm
    with the same seed are an error.
    """
    table = {name: spec for name, spec in metrics.items() if isinstance(spec, Metric)}
    experiment = SimpleNamespace(metrics=table)  # what compute_metrics reads of an experiment
    rows = []
    for arm, results in runs.items():
        seen: set[int] = set()
        for result in results:
            if not isinstance(result, RunResult):
                raise TypeError(f"arm {arm!r}: expected the results of sim.run, got {type(result).__name__}")
            if result.seed in seen:
                raise ValueError(f"arm {arm!r} has two runs with seed {result.seed}; runs are paired by seed")
            seen.add(result.seed)
            values = compute_metrics(experiment, result.tables)  # type: ignore[arg-type]
            for name, spec in metrics.items():
                if not isinstance(spec, Metric):
                    values[name] = float(spec(result))
            row = {
                "arm": str(arm),
                "point": 0,
                "replication": result.seed,
                "seed": result.seed,
                "status": "ok",
            }
            rows.append({**row, **{name: values[name] for name in metrics}})
    return pd.DataFrame(rows, columns=["arm", "point", "replication", "seed", "status", *metrics])


def _metric_specs(metrics: Mapping[str, MetricSpec] | Sequence[str]) -> dict[str, Any]:
    """Read metric specifications: a column name, an experiment file's metric table, or a function."""
    if not isinstance(metrics, Mapping):
        metrics = {name: name for name in metrics}
    specs: dict[str, Any] = {}
    for name, spec in metrics.items():
        if callable(spec):
            specs[name] = spec
            continue
        data = {"column": spec} if isinstance(spec, str) else dict(spec)
        try:
            specs[name] = Metric.model_validate(data)
        except ValidationError as exc:
            message, key = first_error(exc, data)
            raise ValueError(f"metric {name!r}: {f'key {key!r}: ' if key else ''}{message}") from None
    return specs


def _claim(claim: Any) -> Any:
    """Split a claim written as ``{"statement": "m[a] < m[b]", "band": ...}`` into its parts."""
    if not isinstance(claim, Mapping) or "statement" not in claim or "metric" in claim:
        return claim  # already split (a batch's claims, or a mapping with metric, arm_a, op, arm_b)
    match = CLAIM.match(str(claim["statement"]))
    if not match:
        raise ValueError(f"claim {claim['statement']!r}: expected 'metric[arm] < metric[arm]' or '>'")
    metric_a, arm_a, op, metric_b, arm_b = match.groups()
    if metric_a != metric_b:
        raise ValueError(f"claim {claim['statement']!r}: compare one metric across arms")
    return {"id": claim.get("id", claim["statement"]), **claim, "metric": metric_a, "arm_a": arm_a,
            "op": op, "arm_b": arm_b}  # fmt: skip


def _numeric_columns(summaries: pd.DataFrame) -> list[str]:
    ids = {"run_index", "point", "replication", "seed", "seconds"}
    return [c for c in summaries.columns if c not in ids and pd.api.types.is_float_dtype(summaries[c].dtype)]
