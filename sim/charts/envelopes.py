"""Envelopes: how a yearly figure spreads over the runs of each arm, year by year.

:func:`envelope_data` gives, per arm and year, the mean over runs and the quantiles that
bound the middle 50% and 90% of runs; :func:`plot_envelopes` draws them. Every metric an
experiment defines gets one (the yearly column the metric reads, :func:`metric_series`), and
so does the focal state's balancing index (:func:`plot_balancing`).

Where the 90% bands of two arms would overlap, each arm gets its own panel (its mean, its
bands, and the other arms' means as thin grey lines for reference), so no band is drawn over
another; otherwise the arms share a panel, at most four to a panel, each named at its line's
end. The vertical axis fits the data, and the chart says which part of the scale it shows.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from sim.charts import layout, style
from sim.charts.style import require

QUANTILES: dict[str, float] = {"q05": 0.05, "q25": 0.25, "median": 0.5, "q75": 0.75, "q95": 0.95}
COLUMNS: tuple[str, ...] = ("arm", "year", "n", "mean", *QUANTILES)


def _in_arms(table: pd.DataFrame, arms: Sequence[str]) -> pd.DataFrame:
    """Keep the rows of the given arms; an arm without rows (all runs failed) is left out."""
    return table[table["arm"].isin(list(arms))]


def arm_order(data: pd.DataFrame, arms: Sequence[str], by: Sequence[str]) -> pd.DataFrame:
    """Sort rows by the given arm order, then by ``by``."""
    rank = {arm: k for k, arm in enumerate(arms)}
    data = data.assign(_rank=data["arm"].map(rank)).sort_values(["_rank", *by], kind="stable")
    return data.drop(columns="_rank").reset_index(drop=True)


def with_diluted_share(model: pd.DataFrame) -> pd.DataFrame:
    """Return the model table with ``diluted_share`` = ``diluted / items`` (NaN with no items).

    Args:
        model: The yearly model table of a batch, with ``diluted`` and ``items``.

    Returns:
        The same table with a ``diluted_share`` column (kept if already there).

    """
    if "diluted_share" in model:
        return model
    require(model, ("diluted", "items"), "model")
    items = model["items"].to_numpy(dtype=float)
    share = np.divide(
        model["diluted"].to_numpy(dtype=float), items, out=np.full(len(model), np.nan), where=items > 0
    )
    return model.assign(diluted_share=share)


def metric_series(tables: Mapping[str, pd.DataFrame], metric: Any) -> pd.DataFrame | None:
    """Return the yearly rows a metric reads: its table, its state's rows for a state metric.

    Args:
        tables: The batch tables by name (``model``, ``states``).
        metric: An experiment metric (``column``, ``table``, ``state``; an object or a mapping).

    Returns:
        The rows (with ``arm``, ``year`` and the metric's column), or None if the table is
        absent or empty.

    """
    get = metric.get if isinstance(metric, Mapping) else lambda key: getattr(metric, key, None)
    table = tables.get(str(get("table") or "model"))
    if table is None or table.empty:
        return None
    if get("table") == "states" and get("state"):
        table = table[table["state"] == get("state")]
    if get("column") == "diluted_share":
        table = with_diluted_share(table)
    return table


def envelope_data(model: pd.DataFrame, column: str, arms: Sequence[str]) -> pd.DataFrame:
    """Return, per arm and year, the mean and quantiles of a yearly column across runs.

    Args:
        model: A yearly table of a batch (``arm``, ``year``, a run id, ``column``).
        column: The column to summarise, e.g. ``"consensus_rate"``.
        arms: Arms to include, in the order of the rows.

    Returns:
        Columns ``arm``, ``year``, ``n`` (runs with a value), ``mean``, ``q05``, ``q25``,
        ``median``, ``q75`` and ``q95`` (linear interpolation between order statistics; runs
        without a value that year, e.g. no items, are left out).

    """
    require(model, ("arm", "year", column), "model")
    rows = _in_arms(model, arms)
    if rows.empty:
        return pd.DataFrame(columns=list(COLUMNS))
    grouped = rows.groupby(["arm", "year"])[column]
    data = grouped.quantile(list(QUANTILES.values())).unstack()
    data.columns = list(QUANTILES)
    data.insert(0, "mean", grouped.mean())
    data.insert(0, "n", grouped.count())
    return arm_order(data.reset_index(), arms, ["year"])[list(COLUMNS)]


def bands_overlap(data: pd.DataFrame) -> bool:
    """Return True if the 90% bands of two arms overlap in some year (drawn together, they would blur)."""
    arms = list(dict.fromkeys(data["arm"]))
    for k, first in enumerate(arms):
        a = data[data["arm"] == first].set_index("year")
        for second in arms[k + 1 :]:
            b = data[data["arm"] == second].set_index("year")
            years = a.index.intersection(b.index)
            low = np.maximum(a.loc[years, "q05"].to_numpy(float), b.loc[years, "q05"].to_numpy(float))
            high = np.minimum(a.loc[years, "q95"].to_numpy(float), b.loc[years, "q95"].to_numpy(float))
            if np.any(low <= high):
                return True
    return False


def _draw_arm(ax: Any, rows: pd.DataFrame, colour: str) -> None:
    years = rows["year"].to_numpy()
    ax.fill_between(
        years, rows["q05"].to_numpy(float), rows["q95"].to_numpy(float), color=colour, alpha=0.16, lw=0
    )
    ax.fill_between(
        years, rows["q25"].to_numpy(float), rows["q75"].to_numpy(float), color=colour, alpha=0.36, lw=0
    )
    ax.plot(years, rows["mean"].to_numpy(float), color=colour, lw=1.6)


@style.paper
def plot_envelopes(
    data: pd.DataFrame,
    title: str = "",
    ylabel: str = "",
    labels: Mapping[str, str] | None = None,
    scale: tuple[float, float] | None = None,
) -> Figure:
    """Draw envelopes: per arm the mean of runs (line), the middle 50% (dark band) and 90% (light band).

    One panel per arm where the arms' 90% bands overlap (the other arms' means in grey behind),
    else the arms together, at most four to a panel, each named at its line's end. The
    vertical axis fits the bands, within ``scale`` (the column's natural scale, if it has one),
    and a note under the chart says which part of the scale it shows.
    """
    colours = style.panel_colours(data["arm"])
    arms = list(colours)
    alone = len(arms) > 1 and bands_overlap(data)
    groups = [[arm] for arm in arms] if alone else layout.arm_groups(arms)
    figure, axes = layout.panels(len(groups))
    values = data[["q05", "q95", "mean"]].to_numpy(dtype=float).ravel()
    low, high = layout.clip_to_scale(layout.fitted_limits(values), scale)
    for ax, group in zip(axes, groups, strict=True):
        if alone:
            for other in arms:
                if other not in group:
                    rows = data[data["arm"] == other]
                    ax.plot(rows["year"], rows["mean"].to_numpy(float), color=style.REFERENCE, lw=0.9)
        ends = []
        for arm in group:
            rows = data[data["arm"] == arm]
            _draw_arm(ax, rows, colours[arm])
            if len(rows) and not alone:
                last = rows.iloc[-1]
                ends.append(
                    (float(last["year"]), float(last["mean"]), layout.arm_label(arm, labels), colours[arm])
                )
        ax.set_ylim(low, high)
        ax.xaxis.set_major_locator(MaxNLocator(integer=True, nbins=5))
        if alone:
            heading = layout.fit_title(layout.arm_label(group[0], labels), layout.columns(len(groups), 3))
            ax.set_title(heading, color=colours[group[0]])
        layout.label_ends(ax, ends)
    layout.first_column_label(axes, ylabel)
    note = layout.scale_note(low, high, scale)
    reading = "line: mean of runs; bands: middle 50% and 90% of runs"
    if alone:
        reading += "; grey: the other arms' means"
    layout.note(figure, "year \u00b7 " + reading + (f" \u00b7 {note}" if note else ""))
    if title:
        figure.suptitle(title, x=0.01, ha="left")
    return figure


def balancing_data(model: pd.DataFrame, arms: Sequence[str]) -> pd.DataFrame:
    """Return the envelope of the focal state's ``balancing_index`` (see :func:`envelope_data`)."""
    return envelope_data(model, "balancing_index", arms)


@style.paper
def plot_balancing(data: pd.DataFrame, focal: str = "KAZ", labels: Mapping[str, str] | None = None) -> Figure:
    """Draw the envelopes of the focal state's balancing index, on an axis fitted to the runs."""
    title = f"{focal} balancing index between Russia and China".strip()
    return plot_envelopes(data, title=title, ylabel="balancing index", labels=labels, scale=(0.0, 1.0))
