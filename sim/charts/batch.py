"""Charts of a batch of runs, drawn from stored tables, never from live models.

Each chart has a ``*_data()`` function that returns a tidy DataFrame of numbers (tested
on numbers) and a ``plot_*()`` function that draws that DataFrame and returns a
matplotlib Figure (render-tested with the Agg backend). :func:`write_charts` draws them
all and writes files whose bytes depend only on the data: PNG at 300 dpi and SVG with real
text (:mod:`sim.charts.style`).

The tables are the batch versions of a run's tables: ``model``, ``states`` and
``decisions`` with the id columns ``run_index``, ``run_id``, ``arm``, ``point``,
``replication`` and ``seed`` in front. The chart families (the experiment's ``charts`` key):

- ``envelopes``: ``envelopes_<metric>`` for every metric the experiment defines
  (:mod:`sim.charts.envelopes`);
- ``outcome_composition`` and ``depth_by_area`` (:mod:`sim.charts.composition`);
- ``differences``: ``differences`` (the claims) and ``paired_<metric>`` for every metric
  (:mod:`sim.charts.differences`);
- ``balancing_index`` (:mod:`sim.charts.envelopes`);
- ``objections`` and ``dissent``: ``dissent_by_initiator``, ``dissent_by_area``
  (:mod:`sim.charts.dissent`);
- ``sweep``: ``sweep_<metric>`` and ``sweep_claims``, when the runs were repeated at
  several sweep points (:mod:`sim.charts.sweep`).

Titles and captions are in :mod:`sim.charts.captions`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import matplotlib.pyplot as plt
import pandas as pd
from matplotlib.figure import Figure

from sim.charts import captions, layout, style
from sim.charts.captions import ENVELOPE_COLUMNS
from sim.charts.composition import depth_data, outcome_composition_data, plot_depth, plot_outcome_composition
from sim.charts.differences import differences_data, plot_differences, plot_paired
from sim.charts.dissent import dissent_data, members_by_arm, objections_data, plot_dissent, plot_objections
from sim.charts.envelopes import (
    QUANTILES,
    balancing_data,
    bands_overlap,
    envelope_data,
    metric_series,
    plot_balancing,
    plot_envelopes,
    with_diluted_share,
)
from sim.charts.sweep import plot_sweep_claims, plot_sweep_metric

__all__ = [
    "CHART_NAMES",
    "ENVELOPE_COLUMNS",
    "QUANTILES",
    "ChartContext",
    "balancing_data",
    "bands_overlap",
    "depth_data",
    "differences_data",
    "dissent_data",
    "envelope_data",
    "objections_data",
    "outcome_composition_data",
    "plot_balancing",
    "plot_depth",
    "plot_differences",
    "plot_dissent",
    "plot_envelopes",
    "plot_objections",
    "plot_outcome_composition",
    "plot_paired",
    "plt",
    "with_diluted_share",
    "write_charts",
]

#: the charts drawn from the tables alone (no experiment metrics, no sweep), in order
CHART_NAMES: tuple[str, ...] = (
    *(f"envelopes_{c}" for c in ENVELOPE_COLUMNS),
    "outcome_composition",
    "differences",
    "balancing_index",
    "depth_by_area",
    "objections",
    "dissent_by_initiator",
    "dissent_by_area",
)
Draw = Callable[[], Figure]


@dataclass(frozen=True)
class ChartContext:
    """What the experiment says about its charts, beyond the tables.

    Attributes:
        metrics: The experiment's metrics by name (objects or mappings with ``column``,
            ``table``, ``state``, ``aggregate``, ``years``, ``label``); each gets an envelope,
            a paired-difference and (with a sweep) a sweep chart. None: the three envelopes
            of ``ENVELOPE_COLUMNS``.
        labels: The arms' labels from the experiment file.
        paired: Per metric, ``(diffs, summary)`` of ``sim.analysis.pairs.metric_differences``.
        parameters: The swept parameters (dotted keys); empty without a sweep.
        metrics_by_point: ``sim.analysis.points.metric_table_by_point`` (with a sweep).
        claims_by_point: ``sim.analysis.points.claims_by_point`` (with a sweep).

    """

    metrics: Mapping[str, Any] | None = None
    labels: Mapping[str, str] = field(default_factory=dict)
    paired: Mapping[str, tuple[pd.DataFrame, pd.DataFrame]] = field(default_factory=dict)
    parameters: Sequence[str] = ()
    metrics_by_point: pd.DataFrame | None = None
    claims_by_point: pd.DataFrame | None = None


def family(name: str) -> str:
    """Return the family (the name in an experiment's ``charts`` key) that a chart belongs to."""
    for prefix, group in (
        ("envelopes_", "envelopes"),
        ("paired_", "differences"),
        ("sweep_", "sweep"),
        ("dissent_", "dissent"),
    ):
        if name.startswith(prefix):
            return group
    return name


def write_charts(
    tables: Mapping[str, pd.DataFrame],
    claims_table: pd.DataFrame | None,
    arms: Sequence[str],
    out_dir: str | Path,
    formats: Sequence[str] = ("png", "svg"),
    focal: str = "KAZ",
    only: Sequence[str] | None = None,
    context: ChartContext | None = None,
) -> list[Path]:
    """Draw every batch chart and write each as ``<name>.<format>`` into ``out_dir``.

    A chart whose input table is missing or empty (for example no claims), or has no rows
    for the arms, is skipped. The charts, in order: the envelopes (one per metric of
    ``context``, else ``CHART_NAMES``' three), ``outcome_composition``, ``differences`` and the
    ``paired_<metric>`` charts, ``balancing_index``, ``depth_by_area``, ``objections``, the two
    ``dissent_by_*`` charts, and with a sweep the ``sweep_<metric>`` charts and ``sweep_claims``.

    Args:
        tables: The batch tables by name: ``"model"``, ``"states"``, ``"decisions"``.
        claims_table: The result of ``compare.evaluate_claims``, or None.
        arms: Arms to draw, in order (the experiment file's).
        out_dir: Directory to write into (created if needed).
        formats: File formats, each ``"png"`` or ``"svg"``.
        focal: The focal state named on the balancing chart.
        only: Chart families to draw (``envelopes``, ``outcome_composition``, ``differences``,
            ``balancing_index``, ``depth_by_area``, ``objections``, ``dissent``, ``sweep``);
            all when None.
        context: What the experiment adds: metrics, labels, paired differences, sweep tables.

    Returns:
        The paths written, chart by chart in the order above, format by format.

    Raises:
        ValueError: If a format is not supported or a table lacks a column a chart needs.

    """
    style.check_formats(formats)
    # Data are computed before anything is drawn, so a bad table fails before any file is written.
    charts = chart_list(tables, claims_table, arms, focal, context or ChartContext(), only)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths: list[Path] = []
    for name, draw in charts:
        paths.extend(style.save_all(draw(), out, name, formats))
    return paths


def chart_list(
    tables: Mapping[str, pd.DataFrame],
    claims_table: pd.DataFrame | None,
    arms: Sequence[str],
    focal: str,
    context: ChartContext,
    only: Sequence[str] | None = None,
) -> list[tuple[str, Draw]]:
    """Return the name and drawing call of every chart the tables allow and ``only`` asks for, in order."""
    model, decisions, states = (tables.get(name) for name in ("model", "decisions", "states"))
    has = {name: frame is not None and not frame.empty for name, frame in tables.items()}
    labels = dict(context.labels)
    charts: list[tuple[str, pd.DataFrame, Draw | Callable[[pd.DataFrame], Figure]]] = []
    if has.get("model") or has.get("states"):
        charts += _envelopes(tables, arms, context)
    if decisions is not None and has.get("decisions"):
        data = outcome_composition_data(decisions, arms)
        charts.append(("outcome_composition", data, partial(plot_outcome_composition, labels=labels)))
    if claims_table is not None and not claims_table.empty:
        charts.append(("differences", differences_data(claims_table), plot_differences))
    charts += _paired(context)
    if model is not None and has.get("model"):
        charts.append(
            (
                "balancing_index",
                balancing_data(model, arms),
                partial(plot_balancing, focal=focal, labels=labels),
            )
        )
        charts.append(("depth_by_area", depth_data(model, arms), partial(plot_depth, labels=labels)))
    if states is not None and has.get("states"):
        charts.append(("objections", objections_data(states, arms), partial(plot_objections, labels=labels)))
    if decisions is not None and has.get("decisions") and "dissenters" in decisions:
        members = members_by_arm(states)
        areas = [
            c.removeprefix("depth_")
            for c in (model.columns if model is not None else ())
            if c.startswith("depth_")
        ]
        for by, order in (("initiator", None), ("area", areas)):
            data = dissent_data(decisions, arms, by=by, order=order, members=members)
            charts.append((f"dissent_by_{by}", data, partial(plot_dissent, by=by, labels=labels)))
    charts += _sweep(context)
    wanted = [(n, d, draw) for n, d, draw in charts if only is None or family(n) in only]
    # empty data: no rows for these arms
    return [(n, draw if d is None else partial(draw, d)) for n, d, draw in wanted if d is None or not d.empty]


def _envelopes(tables: Mapping[str, pd.DataFrame], arms: Sequence[str], context: ChartContext) -> list[Any]:
    """Return one envelope chart per metric (or per column of ``ENVELOPE_COLUMNS`` without metrics)."""
    charts: list[Any] = []
    if context.metrics is None:
        model = tables.get("model")
        if model is None or model.empty:
            return charts
        model = with_diluted_share(model)
        for column, (title, ylabel) in ENVELOPE_COLUMNS.items():
            draw = partial(
                plot_envelopes,
                title=title,
                ylabel=ylabel,
                labels=context.labels,
                scale=layout.scale_of(column),
            )
            charts.append((f"envelopes_{column}", envelope_data(model, column, arms), draw))
        return charts
    stems = captions.stems(context.metrics)
    for name, metric in context.metrics.items():
        rows = metric_series(tables, metric)
        column = str(metric.get("column") if isinstance(metric, Mapping) else metric.column)
        if rows is None or column not in rows:
            continue
        title, _ = captions.describe_metric("envelopes", name, metric)
        draw = partial(
            plot_envelopes,
            title=title,
            ylabel=f"{column} (yearly)",
            labels=context.labels,
            scale=layout.scale_of(column),
        )
        charts.append((f"envelopes_{stems[name]}", envelope_data(rows, column, arms), draw))
    return charts


def _paired(context: ChartContext) -> list[Any]:
    """Return one paired-difference chart per metric that has paired differences."""
    charts: list[Any] = []
    stems = captions.stems(context.metrics or {})
    for name, (diffs, summary) in context.paired.items():
        if summary.empty:
            continue
        metric = (context.metrics or {}).get(name)
        title, _ = captions.describe_metric("paired", name, metric)
        draw = partial(
            plot_paired,
            diffs,
            summary,
            title=title,
            labels=context.labels,
            xlabel=f"difference in {name}, arm a \u2212 arm b (same seed)",
        )
        charts.append((f"paired_{stems.get(name, name)}", None, draw))
    return charts


def _sweep(context: ChartContext) -> list[Any]:
    """Return the sweep charts: one per metric of the per-point table, and one of the claims."""
    charts: list[Any] = []
    table, parameters = context.metrics_by_point, list(context.parameters)
    if table is None or table.empty or not parameters:
        return charts
    stems = captions.stems(context.metrics or {name: None for name in dict.fromkeys(table["metric"])})
    for name in dict.fromkeys(table["metric"]):
        metric = (context.metrics or {}).get(name)
        title, _ = captions.describe_metric("sweep", name, metric, parameters)
        column = str(metric.get("column") if isinstance(metric, Mapping) else getattr(metric, "column", name))
        draw = partial(
            plot_sweep_metric,
            parameters=parameters,
            title=title,
            ylabel=name,
            labels=context.labels,
            scale=layout.scale_of(column),
        )
        charts.append((f"sweep_{stems.get(name, name)}", table[table["metric"] == name], draw))
    claims = context.claims_by_point
    if claims is not None and not claims.empty:
        charts.append(("sweep_claims", claims, partial(plot_sweep_claims, parameters=parameters)))
    return charts
