"""Sweeps: a metric, and each claim's paired difference, against the swept parameter, point by point.

The per-point tables come from ``sim.analysis.points`` (one row per sweep point, with the
parameter values in columns named by their dotted keys):

- :func:`plot_sweep_metric` (charts ``sweep_<metric>``): one panel per swept parameter (and
  group of at most four arms), the metric's mean over the point's runs with its 95% interval
  against the parameter's value, one colour per arm, each named at its right end; with one
  swept parameter the points are joined by lines.
- :func:`plot_sweep_claims` (chart ``sweep_claims``): one row per claim, one panel per
  parameter: the mean paired difference at each point with its interval (Holm-adjusted across
  every claim at every point), the line at 0 and the claim's band, the verdict's initial
  above each point (S supported, C contradicted, E equivalent, I inconclusive, N no variation).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from sim.charts import layout, style
from sim.charts.style import require

INITIALS: dict[str, str] = {
    "supported": "S",
    "contradicted": "C",
    "equivalent": "E",
    "inconclusive": "I",
    "no variation": "N",
    "insufficient data": "-",
}


def _dodge(n: int, span: float) -> list[float]:
    """Return small horizontal offsets that keep the error bars of ``n`` arms apart."""
    step = 0.012 * (span or 1.0)
    return [(k - (n - 1) / 2) * step for k in range(n)]


def _points(ax: Axes, rows: pd.DataFrame, x: np.ndarray, mean: str, colour: str, joined: bool) -> np.ndarray:
    """Draw a mean and its interval (``ci_low``, ``ci_high``) at each x, joined for a single parameter."""
    y = rows[mean].to_numpy(dtype=float)
    error = np.abs(np.vstack([y - rows["ci_low"].to_numpy(float), rows["ci_high"].to_numpy(float) - y]))
    ax.errorbar(x, y, yerr=np.nan_to_num(error), fmt="o", ms=3.5, color=colour, elinewidth=1, capsize=0,
                ls="-" if joined else "none", lw=1)  # fmt: skip
    return y


@style.paper
def plot_sweep_metric(
    data: pd.DataFrame,
    parameters: Sequence[str],
    title: str = "",
    ylabel: str = "",
    labels: Mapping[str, str] | None = None,
    scale: tuple[float, float] | None = None,
) -> Figure:
    """Draw one metric against each swept parameter: mean and 95% interval per arm and point.

    Args:
        data: Rows of one metric from the per-point metrics table (``arm``, ``mean``,
            ``ci_low``, ``ci_high`` and one column per parameter).
        parameters: The swept parameters (dotted keys), one panel each.
        title: The chart's title (the metric's label).
        ylabel: The vertical axis label.
        labels: Arm labels from the experiment file.
        scale: The metric's natural scale, stated if the fitted axis shows only part of it.

    """
    require(data, ("arm", "mean", "ci_low", "ci_high", *parameters), "per-point metrics")
    colours = style.panel_colours(data["arm"])
    cells = [(group, parameter) for group in layout.arm_groups(list(colours)) for parameter in parameters]
    figure, axes = layout.panels(len(cells), ncols_max=max(1, min(3, len(parameters))), height=2.2)
    values = data[["mean", "ci_low", "ci_high"]].to_numpy(dtype=float).ravel()
    low, high = layout.clip_to_scale(layout.fitted_limits(values), scale)
    for ax, (group, parameter) in zip(axes, cells, strict=True):
        x_all = data[parameter].to_numpy(dtype=float)
        offsets = _dodge(len(group), float(np.ptp(x_all)) if x_all.size else 1.0)
        ends = []
        for arm, offset in zip(group, offsets, strict=True):
            rows = data[data["arm"] == arm].sort_values(parameter, kind="stable")
            x = rows[parameter].to_numpy(dtype=float) + offset
            y = _points(ax, rows, x, "mean", colours[arm], joined=len(parameters) == 1)
            if len(rows):
                ends.append((float(x[-1]), float(y[-1]), layout.arm_label(arm, labels), colours[arm]))
        ax.set_ylim(low, high)
        ax.set_xlabel(parameter)
        layout.label_ends(ax, ends)
    layout.first_column_label(axes, ylabel)
    note = layout.scale_note(low, high, scale)
    reading = "dots: mean over the point's runs; bars: 95% bootstrap interval"
    layout.note(figure, reading + (f" \u00b7 {note}" if note else ""))
    if title:
        figure.suptitle(title, x=0.01, ha="left")
    return figure


def _claim_panel(
    ax: Axes, rows: pd.DataFrame, parameter: str, limits: tuple[float, float], joined: bool
) -> None:
    """Draw one claim against one parameter: band, zero line, means, intervals, verdict initials."""
    band = float(rows["band"].iloc[0])
    ordered = rows.sort_values(parameter, kind="stable")
    x = ordered[parameter].to_numpy(dtype=float)
    ax.axhspan(-band, band, color=style.BAND_FILL, lw=0)
    ax.axhline(0.0, color="black", lw=0.8)
    _points(ax, ordered, x, "mean_diff", style.INK, joined)
    for xv, top, verdict in zip(x, ordered["ci_high"].to_numpy(float), ordered["verdict"], strict=True):
        y = top if np.isfinite(top) else limits[1]
        ax.annotate(INITIALS.get(str(verdict), "?"), (xv, y), xytext=(0, 2), textcoords="offset points",
                    ha="center", va="bottom", fontsize=6.5, color=style.INK)  # fmt: skip
    ax.set_ylim(*limits)


@style.paper
def plot_sweep_claims(data: pd.DataFrame, parameters: Sequence[str]) -> Figure:
    """Draw each claim's mean paired difference against each swept parameter, with band and verdicts.

    Args:
        data: The per-point claims table (``id``, ``label``, ``mean_diff``, ``ci_low``,
            ``ci_high``, ``band``, ``verdict`` and one column per parameter).
        parameters: The swept parameters (dotted keys), one column of panels each.

    """
    require(
        data, ("id", "mean_diff", "ci_low", "ci_high", "band", "verdict", *parameters), "per-point claims"
    )
    claims = list(dict.fromkeys(data["id"]))
    height = 0.8 + 1.7 * max(1, len(claims))
    figure = Figure(figsize=(style.PAGE_WIDTH, height), dpi=100, layout="constrained")
    axes = figure.subplots(max(1, len(claims)), max(1, len(parameters)), squeeze=False, sharex="col")
    for i, claim in enumerate(claims):
        rows = data[data["id"] == claim]
        band = float(rows["band"].iloc[0])
        label = str(rows["label"].iloc[0]) if "label" in rows and str(rows["label"].iloc[0]) else ""
        values = rows[["mean_diff", "ci_low", "ci_high"]].to_numpy(dtype=float).ravel()
        limits = layout.fitted_limits(values, include=(0.0, -band, band), pad=0.15)
        for j, parameter in enumerate(parameters):
            _claim_panel(axes[i][j], rows, parameter, limits, joined=len(parameters) == 1)
            if i == len(claims) - 1:
                axes[i][j].set_xlabel(parameter)
        axes[i][0].set_title(f"{claim}: {label}" if label else claim, loc="left", fontsize=7.5)
        axes[i][0].set_ylabel("a \u2212 b")
    figure.suptitle("Claims at each point of the sweep", x=0.01, ha="left")
    layout.note(
        figure,
        "dots: mean paired difference at the point; bars: its interval, Holm-adjusted across every "
        "claim at every point; shaded: the band \u00b7 S supported, C contradicted, E equivalent, "
        "I inconclusive, N no variation",
    )
    return figure
