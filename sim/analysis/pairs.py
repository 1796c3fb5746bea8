"""Every metric's paired differences between arms, seed by seed, for the paired-difference charts.

A claim compares one metric between two chosen arms; a reader also wants to see how the other
metrics differ. :func:`metric_differences` pairs the runs of two arms by ``(point,
replication)`` (the same seeds: :func:`sim.analysis.compare.paired_differences`) for:

1. each claim on the metric (its arms, and its interval, level and verdict from the claims
   table, so the chart shows exactly what the verdict was read from);
2. every other arm against the first arm of the file (the reference), unless a claim already
   compares the two; these get a plain 95% t interval and no verdict (they test nothing).

Differences that are all equal are marked ``"no variation"`` (the interval is that one value).
Over posterior draws the interval of a comparison that is not a claim is taken over the
per-draw mean differences, as a claim's is (:mod:`sim.analysis.draws`).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from sim.analysis.compare import EQUAL_TOLERANCE, paired_differences
from sim.analysis.draws import claim_values
from sim.analysis.verdicts import t_interval

SUMMARY_COLUMNS: tuple[str, ...] = (
    "comparison",
    "arm_a",
    "arm_b",
    "claim",
    "n",
    "mean_diff",
    "ci_level",
    "ci_low",
    "ci_high",
    "band",
    "verdict",
)
DIFF_COLUMNS: tuple[str, ...] = ("comparison", "point", "replication", "diff")


def comparisons(arms: Sequence[str], metric: str, claims_table: pd.DataFrame | None = None) -> list[dict]:
    """Return the comparisons drawn for a metric: its claims first, then each arm against the first arm.

    Returns:
        Dicts with ``arm_a``, ``arm_b`` and ``claim`` (the claim's row in ``claims_table``
        as a dict, or None).

    """
    out: list[dict] = []
    seen: set[frozenset[str]] = set()
    if claims_table is not None and len(claims_table) and "metric" in claims_table:
        for _, row in claims_table[claims_table["metric"] == metric].iterrows():
            out.append({"arm_a": str(row["arm_a"]), "arm_b": str(row["arm_b"]), "claim": row.to_dict()})
            seen.add(frozenset((str(row["arm_a"]), str(row["arm_b"]))))
    for arm in arms[1:]:
        if frozenset((arm, arms[0])) not in seen:
            out.append({"arm_a": arm, "arm_b": arms[0], "claim": None})
    return out


def _describe(diffs: np.ndarray, level: float) -> dict:
    """Return the mean, interval and, where nothing can be tested, the reason, of unclaimed differences."""
    n, nan = int(diffs.size), float("nan")
    mean = float(diffs.mean()) if n else nan
    if n < 2:
        return {
            "mean_diff": mean,
            "ci_level": nan,
            "ci_low": nan,
            "ci_high": nan,
            "verdict": "insufficient data",
        }
    if float(np.ptp(diffs)) <= EQUAL_TOLERANCE * max(1.0, float(np.max(np.abs(diffs)))):
        return {
            "mean_diff": mean,
            "ci_level": nan,
            "ci_low": mean,
            "ci_high": mean,
            "verdict": "no variation",
        }
    low, high = t_interval(diffs, level)
    return {"mean_diff": mean, "ci_level": level, "ci_low": low, "ci_high": high, "verdict": ""}


def metric_differences(
    summaries: pd.DataFrame,
    metric: str,
    arms: Sequence[str],
    claims_table: pd.DataFrame | None = None,
    level: float = 0.95,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Pair the runs of the arms compared on one metric and describe each comparison.

    Args:
        summaries: One row per run (``arm``, ``point``, ``replication``, ``status``, the metric).
        metric: The metric column.
        arms: The arms, in the experiment's order (the first is the reference); arms without
            runs in ``summaries`` are left out.
        claims_table: The claims table of ``sim.analysis.compare.evaluate_claims``, or None.
        level: The level of the t interval of comparisons that are not claims.

    Returns:
        ``(diffs, summary)``: ``diffs`` has one row per complete pair (``comparison``,
        ``point``, ``replication``, ``diff`` = a - b); ``summary`` one row per comparison with
        the columns of ``SUMMARY_COLUMNS`` (``claim`` is the claim id or ``""``, ``band`` NaN
        and ``verdict`` ``""`` for a comparison that is not a claim).

    """
    present = [arm for arm in arms if arm in set(summaries["arm"].astype(str))]
    diff_parts, rows = [], []
    for k, comparison in enumerate(comparisons(present, metric, claims_table)):
        pairs = paired_differences(summaries, metric, comparison["arm_a"], comparison["arm_b"])
        diffs = pairs["diff"].to_numpy(dtype=float)
        diff_parts.append(pairs[["point", "replication", "diff"]].assign(comparison=k))
        claim = comparison["claim"]
        row = {
            "comparison": k,
            "arm_a": comparison["arm_a"],
            "arm_b": comparison["arm_b"],
            "n": int(diffs.size),
        }
        if claim is not None:
            keys = ("mean_diff", "ci_level", "ci_low", "ci_high", "band", "verdict")
            row.update({"claim": str(claim["id"]), **{key: claim.get(key) for key in keys}})
        else:
            # over posterior draws, the per-draw means (their spread carries the draws' and the seeds')
            row.update({"claim": "", "band": float("nan"), **_describe(claim_values(pairs)[0], level)})
        rows.append(row)
    diffs = (
        pd.concat(diff_parts, ignore_index=True) if diff_parts else pd.DataFrame(columns=list(DIFF_COLUMNS))
    )
    return diffs[list(DIFF_COLUMNS)], pd.DataFrame(rows, columns=list(SUMMARY_COLUMNS))
