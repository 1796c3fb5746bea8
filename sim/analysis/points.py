"""Sweeps point by point: the metrics and the claims at each point, with the swept values in columns.

The verdicts and the metrics table of ``sco-sim compare`` pool every point of a sweep (pairs
are formed within a point, then pooled). These tables give each point on its own, with one
column per swept parameter named by its dotted key (e.g. ``parameters.balancing_rate``):

- :func:`metric_table_by_point`: the metrics table (mean, 95% bootstrap interval, ...) of each
  point, with the same bootstrap seed as the pooled table;
- :func:`claims_by_point`: every claim at every point, Holm-adjusted across all of them
  (:func:`sim.analysis.compare.evaluate_claims_by_point`).

The values of point ``p`` are ``points[p]``, the list the manifest keeps under
``experiment.points``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import pandas as pd

from sim.analysis.compare import BOOTSTRAP_SEED, N_BOOT, evaluate_claims_by_point, metric_table


def parameters(points: Sequence[Mapping[str, Any]]) -> list[str]:
    """Return the swept parameters (dotted keys), in the order they first appear."""
    return list(dict.fromkeys(key for point in points for key in point))


def is_sweep(points: Sequence[Mapping[str, Any]] | None) -> bool:
    """Return True if the runs were repeated at more than one point with swept values."""
    return bool(points) and len(points) > 1 and bool(parameters(points))  # type: ignore[arg-type]


def point_values(points: Sequence[Mapping[str, Any]]) -> pd.DataFrame:
    """Return one row per point: ``point`` and one column per swept parameter."""
    names = parameters(points)
    return pd.DataFrame(
        [{"point": k, **{n: point.get(n) for n in names}} for k, point in enumerate(points)],
        columns=["point", *names],
    )


def _with_values(table: pd.DataFrame, points: Sequence[Mapping[str, Any]]) -> pd.DataFrame:
    """Put the point's parameter values after the ``point`` column."""
    values = point_values(points)
    merged = table.merge(values, on="point", how="left", sort=False)
    names = [c for c in values.columns if c != "point"]
    rest = [c for c in table.columns if c != "point"]
    return merged[["point", *names, *rest]]


def metric_table_by_point(
    summaries: pd.DataFrame,
    metrics: Sequence[str],
    arms: Sequence[str],
    points: Sequence[Mapping[str, Any]],
    level: float = 0.95,
    n_boot: int = N_BOOT,
    seed: int = BOOTSTRAP_SEED,
) -> pd.DataFrame:
    """Describe each metric in each arm at each sweep point (see ``compare.metric_table``).

    Returns:
        One row per point, metric and arm: ``point``, one column per swept parameter, then
        the columns of ``compare.METRIC_COLUMNS``.

    """
    parts = []
    for point in sorted(pd.unique(summaries["point"])):
        runs = summaries[summaries["point"] == point]
        arms_here = [arm for arm in arms if arm in set(runs["arm"])]
        table = metric_table(runs, metrics, arms_here, level=level, n_boot=n_boot, seed=seed)
        parts.append(table.assign(point=int(point)))
    table = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=["point"])
    return _with_values(table[["point", *[c for c in table.columns if c != "point"]]], points)


def claims_by_point(
    summaries: pd.DataFrame, claims: Iterable[Any], points: Sequence[Mapping[str, Any]], level: float = 0.95
) -> pd.DataFrame:
    """Test every claim at every sweep point, Holm-adjusted across all of them.

    Returns:
        One row per point and claim: ``point``, one column per swept parameter, then the columns
        of ``compare.CLAIM_COLUMNS``.

    """
    return _with_values(evaluate_claims_by_point(summaries, claims, level), points)
