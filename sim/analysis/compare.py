"""Compare the arms of a batch: paired differences, bootstrap intervals, effect sizes, verdicts.

The analysis only takes tables: ``summaries`` has one row per run (``run_index``,
``run_id``, ``arm``, ``point``, ``replication``, ``seed``, ``status``, ``error`` and one
float column per metric).

Method:

- **Paired design with common random numbers.** The runs of two arms that share a sweep
  ``point`` and a ``replication`` start from the same seed, so they are compared as pairs and
  the statistic is the mean of the within-pair differences ``a - b``. Pairing is always by
  ``(point, replication)``, never by row order. Runs whose ``status`` is not ``"ok"`` (failed
  runs) and runs whose metric is missing are left out, and so is their partner; failures are
  counted and reported.
- **Percentile bootstrap** of the mean (Efron, B. & Tibshirani, R. J. 1993, *An Introduction
  to the Bootstrap*, Chapman & Hall, ch. 13): resample the values with replacement
  ``n_boot`` times and take the ``(1 - level) / 2`` and ``(1 + level) / 2`` quantiles of the
  resampled means. The resampling draws from ``numpy.random.default_rng(seed)``, so the same
  seed gives the same interval.
- **Effect size** for paired data, Cohen's d_z = mean of the differences / standard
  deviation of the differences (``ddof=1``) (Lakens, D. 2013, "Calculating and reporting
  effect sizes to facilitate cumulative science", *Frontiers in Psychology* 4:863, eq. 7).

A claim reads "``metric`` in ``arm_a`` ``op`` ``metric`` in ``arm_b``"; see
:func:`evaluate_claim` for the rule that turns an interval into a verdict.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

VERDICTS: tuple[str, ...] = ("supported", "contradicted", "inconclusive", "insufficient data")
OPS: tuple[str, ...] = ("<", ">")

CLAIM_COLUMNS: tuple[str, ...] = (
    "id", "hypothesis", "label", "statement", "metric", "arm_a", "arm_b", "op", "n_pairs", "n_failed",
    "mean_a", "mean_b", "mean_diff", "ci_low", "ci_high", "effect_size", "verdict", "note",
)  # fmt: skip
METRIC_COLUMNS: tuple[str, ...] = (
    "metric", "arm", "n", "n_failed", "n_missing", "mean", "ci_low", "ci_high", "median", "sd",
)  # fmt: skip
PAIR_KEYS: tuple[str, str] = ("point", "replication")


def _ok_mask(summaries: pd.DataFrame) -> pd.Series:
    """Return True for runs that finished (a table without ``status`` counts every run as ok)."""
    if "status" not in summaries:
        return pd.Series(True, index=summaries.index)
    return summaries["status"].astype(str) == "ok"


def _require(summaries: pd.DataFrame, columns: Iterable[str]) -> None:
    missing = [c for c in columns if c not in summaries]
    if missing:
        raise ValueError(f"summaries table lacks columns {missing}; it has {list(summaries.columns)}")


def _require_arms(summaries: pd.DataFrame, arms: Iterable[str]) -> None:
    known = set(summaries["arm"].astype(str))
    unknown = [a for a in arms if a not in known]
    if unknown:
        raise ValueError(f"unknown arm(s) {unknown}; the summaries hold {sorted(known)}")


def _arm_runs(summaries: pd.DataFrame, metric: str, arm: str) -> pd.DataFrame:
    """Return the usable runs of one arm (finished, metric present), indexed by pair key."""
    runs = summaries[(summaries["arm"] == arm) & _ok_mask(summaries)]
    runs = runs[np.isfinite(runs[metric].to_numpy(dtype=float))]
    duplicated = runs.duplicated(list(PAIR_KEYS))
    if duplicated.any():
        keys = runs.loc[duplicated, list(PAIR_KEYS)].to_records(index=False).tolist()
        raise ValueError(f"arm {arm!r} has more than one run for (point, replication) {keys[:5]}")
    return runs.set_index(list(PAIR_KEYS))[metric].astype(float)


def paired_differences(summaries: pd.DataFrame, metric: str, arm_a: str, arm_b: str) -> pd.DataFrame:
    """Pair the runs of two arms by ``(point, replication)`` and return their differences.

    Runs with the same sweep point and replication share a seed (common random numbers),
    so each pair differs only by the arm. A pair is dropped when either run failed, is
    absent, or has no value for the metric.

    Args:
        summaries: One row per run (columns ``arm``, ``point``, ``replication``, ``status``
            and the metric).
        metric: The metric column to compare.
        arm_a: The first arm (``a`` in ``diff = a - b``).
        arm_b: The second arm.

    Returns:
        A DataFrame with columns ``point``, ``replication``, ``a``, ``b`` and ``diff``
        (``a - b``), one row per complete pair, sorted by point and replication.

    Raises:
        ValueError: If a column or an arm is missing, or an arm has two runs with the
            same ``(point, replication)``.

    """
    _require(summaries, ("arm", *PAIR_KEYS, metric))
    _require_arms(summaries, (arm_a, arm_b))
    a = _arm_runs(summaries, metric, arm_a).rename("a")
    b = _arm_runs(summaries, metric, arm_b).rename("b")
    pairs = pd.concat([a, b], axis=1, join="inner").sort_index().reset_index()
    pairs["diff"] = pairs["a"] - pairs["b"]
    return pairs[["point", "replication", "a", "b", "diff"]].reset_index(drop=True)


def bootstrap_ci(
    values: Sequence[float] | np.ndarray | pd.Series,
    level: float = 0.95,
    n_boot: int = 2000,
    seed: int = 0,
) -> tuple[float, float]:
    """Return the percentile bootstrap interval of the mean (Efron & Tibshirani 1993).

    Args:
        values: The sample; missing (NaN) values are left out.
        level: Coverage of the interval, strictly between 0 and 1.
        n_boot: Number of bootstrap resamples.
        seed: Seed of the resampling generator; the same seed gives the same interval.

    Returns:
        ``(low, high)``; ``(nan, nan)`` when fewer than two values are left, since one
        value says nothing about the spread of the mean.

    Raises:
        ValueError: If ``level`` is not in (0, 1) or ``n_boot`` is below 1.

    """
    if not 0.0 < level < 1.0:
        raise ValueError(f"level must be strictly between 0 and 1, got {level}")
    if n_boot < 1:
        raise ValueError(f"n_boot must be at least 1, got {n_boot}")
    sample = np.asarray(values, dtype=float)
    sample = sample[np.isfinite(sample)]
    n = sample.size
    if n < 2:
        return (float("nan"), float("nan"))
    rng = np.random.default_rng(seed)
    means = np.empty(n_boot)
    # Chunks keep the index matrix small for large samples; the draws are the same as in one go.
    chunk = max(1, 2_000_000 // n)
    for start in range(0, n_boot, chunk):
        stop = min(n_boot, start + chunk)
        means[start:stop] = sample[rng.integers(0, n, size=(stop - start, n))].mean(axis=1)
    tail = (1.0 - level) / 2.0
    low, high = np.quantile(means, [tail, 1.0 - tail])
    return (float(low), float(high))


def _claim_field(claim: Any, name: str, default: str | None = None) -> Any:
    """Read a field from a mapping or an object (a claim may be either); required without a default."""
    value = claim.get(name) if isinstance(claim, Mapping) else getattr(claim, name, None)
    if value is None:
        if default is None:
            raise ValueError(f"claim {claim!r} has no {name!r}")
        return default
    return value


def _verdict(op: str, ci_low: float, ci_high: float) -> str:
    """Return the verdict of a claim from ``[ci_low, ci_high]``, the interval of the mean ``a - b``.

    - ``"supported"``: the whole interval lies on the claimed side of 0 (for ``"<"``:
      ``ci_high < 0``; for ``">"``: ``ci_low > 0``);
    - ``"contradicted"``: the whole interval lies on the other side of 0 (for ``"<"``:
      ``ci_low > 0``; for ``">"``: ``ci_high < 0``);
    - ``"inconclusive"``: the interval contains 0 (or touches it).

    With fewer than two complete pairs the verdict is ``"insufficient data"`` (not decided here).
    """
    claimed_side, other_side = (ci_high < 0, ci_low > 0) if op == "<" else (ci_low > 0, ci_high < 0)
    if claimed_side:
        return "supported"
    if other_side:
        return "contradicted"
    return "inconclusive"


def evaluate_claim(
    summaries: pd.DataFrame,
    claim: Any,
    level: float = 0.95,
    n_boot: int = 2000,
    seed: int = 0,
) -> dict[str, Any]:
    """Test one claim "``metric`` in ``arm_a`` ``op`` ``metric`` in ``arm_b``" on paired runs.

    The runs are paired by ``(point, replication)`` (see :func:`paired_differences`) and
    the differences ``a - b`` are summarised by their mean, a percentile bootstrap interval
    and Cohen's d_z.

    Verdict: ``"insufficient data"`` with fewer than two complete pairs, else as :func:`_verdict`
    says (``"supported"``, ``"contradicted"`` or ``"inconclusive"``).

    Args:
        summaries: One row per run.
        claim: A mapping or object with fields ``id``, ``metric``, ``arm_a``, ``op``
            (``"<"`` or ``">"``), ``arm_b`` and optionally ``hypothesis`` and ``label``.
        level: Coverage of the bootstrap interval.
        n_boot: Number of bootstrap resamples.
        seed: Seed of the bootstrap; each claim uses it afresh, so a claim's result does
            not depend on the other claims evaluated with it.

    Returns:
        A dict with keys ``id``, ``hypothesis``, ``label``, ``statement``, ``metric``,
        ``arm_a``, ``arm_b``, ``op``, ``n_pairs``, ``n_failed`` (failed runs in the two
        arms), ``mean_a``, ``mean_b`` (over the paired runs), ``mean_diff`` (``a - b``),
        ``ci_low``, ``ci_high``, ``effect_size`` (d_z; NaN when the differences have no
        spread), ``verdict`` and ``note`` (why a figure is missing, else ``""``).

    Raises:
        ValueError: If the claim lacks a field, has an unknown ``op``, or names an arm or a
            metric that the summaries do not hold.

    """
    keys = ("id", "metric", "arm_a", "arm_b", "op")
    claim_id, metric, arm_a, arm_b, op = (str(_claim_field(claim, k)) for k in keys)
    if op not in OPS:
        raise ValueError(f"claim {claim_id!r}: op must be one of {list(OPS)}, got {op!r}")
    pairs = paired_differences(summaries, metric, arm_a, arm_b)
    in_arms = summaries["arm"].isin([arm_a, arm_b])
    n_failed = int((in_arms & ~_ok_mask(summaries)).sum())
    notes = [f"{n_failed} failed run(s) excluded"] if n_failed else []
    stats = _judge_pairs(pairs, op, level, n_boot, seed, notes)
    return {
        "id": claim_id,
        "hypothesis": str(_claim_field(claim, "hypothesis", "")),
        "label": str(_claim_field(claim, "label", "")),
        "statement": f"{metric}[{arm_a}] {op} {metric}[{arm_b}]",
        "metric": metric,
        "arm_a": arm_a,
        "arm_b": arm_b,
        "op": op,
        "n_pairs": stats.pop("n_pairs"),
        "n_failed": n_failed,
        **stats,
        "note": "; ".join(notes),
    }


def _judge_pairs(
    pairs: pd.DataFrame, op: str, level: float, n_boot: int, seed: int, notes: list[str]
) -> dict[str, Any]:
    """Return the pairs' count and means, the bootstrap interval, d_z and the verdict; add notes."""
    diffs = pairs["diff"].to_numpy(dtype=float)
    n_pairs, nan = int(diffs.size), float("nan")
    ci_low = ci_high = effect_size = nan
    if n_pairs < 2:
        notes.append(f"{n_pairs} complete pair(s); at least 2 are needed")
        verdict = "insufficient data"
    else:
        ci_low, ci_high = bootstrap_ci(diffs, level=level, n_boot=n_boot, seed=seed)
        sd = float(np.std(diffs, ddof=1))
        if sd > 0:
            effect_size = float(diffs.mean() / sd)
        else:
            notes.append("all paired differences are equal, so d_z is undefined")
        verdict = _verdict(op, ci_low, ci_high)
    return {
        "n_pairs": n_pairs,
        "mean_a": float(pairs["a"].mean()) if n_pairs else nan,
        "mean_b": float(pairs["b"].mean()) if n_pairs else nan,
        "mean_diff": float(diffs.mean()) if n_pairs else nan,
        "ci_low": ci_low,
        "ci_high": ci_high,
        "effect_size": effect_size,
        "verdict": verdict,
    }


def evaluate_claims(
    summaries: pd.DataFrame,
    claims: Iterable[Any],
    level: float = 0.95,
    n_boot: int = 2000,
    seed: int = 0,
) -> pd.DataFrame:
    """Evaluate every claim with :func:`evaluate_claim`.

    Args:
        summaries: One row per run.
        claims: Mappings or objects, each with the fields of a claim.
        level: Coverage of the bootstrap intervals.
        n_boot: Number of bootstrap resamples.
        seed: Seed of the bootstrap, used afresh for each claim.

    Returns:
        One row per claim, in the order given, with the columns in ``CLAIM_COLUMNS``.

    """
    rows = [evaluate_claim(summaries, c, level=level, n_boot=n_boot, seed=seed) for c in claims]
    return pd.DataFrame(rows, columns=list(CLAIM_COLUMNS))


def metric_table(
    summaries: pd.DataFrame,
    metrics: Sequence[str],
    arms: Sequence[str],
    level: float = 0.95,
    n_boot: int = 2000,
    seed: int = 0,
) -> pd.DataFrame:
    """Describe each metric in each arm over its finished runs.

    Args:
        summaries: One row per run.
        metrics: Metric columns to describe.
        arms: Arms, in the order the rows should follow.
        level: Coverage of the bootstrap interval of the mean.
        n_boot: Number of bootstrap resamples.
        seed: Seed of the bootstrap, used afresh for each cell.

    Returns:
        One row per metric and arm with columns ``metric``, ``arm``, ``n`` (runs used),
        ``n_failed`` (failed runs, left out), ``n_missing`` (finished runs without a value,
        left out), ``mean``, ``ci_low``, ``ci_high``, ``median`` and ``sd`` (``ddof=1``;
        NaN below two runs).

    Raises:
        ValueError: If a metric column or an arm is missing.

    """
    _require(summaries, ("arm", *metrics))
    _require_arms(summaries, arms)
    ok = _ok_mask(summaries)
    rows = []
    for metric in metrics:
        for arm in arms:
            in_arm = summaries["arm"] == arm
            finished = summaries.loc[in_arm & ok, metric].to_numpy(dtype=float)
            values = finished[np.isfinite(finished)]
            n = int(values.size)
            ci_low, ci_high = bootstrap_ci(values, level=level, n_boot=n_boot, seed=seed)
            rows.append(
                {
                    "metric": metric,
                    "arm": arm,
                    "n": n,
                    "n_failed": int((in_arm & ~ok).sum()),
                    "n_missing": int(finished.size - n),
                    "mean": float(values.mean()) if n else float("nan"),
                    "ci_low": ci_low,
                    "ci_high": ci_high,
                    "median": float(np.median(values)) if n else float("nan"),
                    "sd": float(np.std(values, ddof=1)) if n > 1 else float("nan"),
                }
            )
    return pd.DataFrame(rows, columns=list(METRIC_COLUMNS))
