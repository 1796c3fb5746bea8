"""What the summits produced: the outcome classes of policy items, and depth of cooperation by area.

- :func:`plot_outcome_composition` (chart ``outcome_composition``): one small panel per
  outcome class (one colour each), a bar per arm with its share written at its end, so every
  class is read on its own axis.
- :func:`plot_depth` (chart ``depth_by_area``): one small panel per issue area, one line per
  arm (at most four to a panel), each named at its end, on the 0-100 depth scale.
"""

from __future__ import annotations

import textwrap
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator, PercentFormatter

from sim.charts import layout, style
from sim.charts.envelopes import arm_order
from sim.charts.style import OUTCOME_COLOURS, OUTCOME_LABELS, require
from sim.rules import OUTCOMES


def outcome_composition_data(decisions: pd.DataFrame, arms: Sequence[str]) -> pd.DataFrame:
    """Return the count and share of each outcome class of policy items, per arm, over all runs.

    Accession items (``origin == "membership"``) are not policy items and are left out.

    Args:
        decisions: The decision log of a batch (``arm``, ``outcome``, ``origin``).
        arms: Arms to include, in the order of the rows.

    Returns:
        Columns ``arm``, ``outcome``, ``count`` and ``share`` (of the arm's policy items;
        0 when the arm has none), with all five outcome classes for every arm in the
        order adopted, adopted_opt_out, diluted, blocked, deferred.

    """
    require(decisions, ("arm", "outcome"), "decisions")
    rows = decisions[decisions["arm"].isin(list(arms))]
    if "origin" in rows:
        rows = rows[rows["origin"] != "membership"]
    present = [a for a in arms if a in set(decisions["arm"])]
    counts = rows.groupby(["arm", "outcome"]).size()
    index = pd.MultiIndex.from_product([present, list(OUTCOMES)], names=["arm", "outcome"])
    data = counts.reindex(index, fill_value=0).rename("count").astype(int).reset_index()
    totals = data.groupby("arm")["count"].transform("sum").to_numpy(dtype=float)
    data["share"] = np.divide(
        data["count"].to_numpy(dtype=float), totals, out=np.zeros(len(data)), where=totals > 0
    )
    return data


@style.paper
def plot_outcome_composition(data: pd.DataFrame, labels: Mapping[str, str] | None = None) -> Figure:
    """Draw one panel per outcome class: a horizontal bar per arm with its share of policy items.

    Bars start at 0 (a share is read from its length); each panel's axis ends a little past
    its longest bar, so a rare class is not squeezed against a common one, and every bar has
    its value written at its end.
    """
    arms = list(dict.fromkeys(data["arm"]))
    names = [layout.arm_label(arm, labels) for arm in arms]
    figure = Figure(
        figsize=(style.PAGE_WIDTH, 1.0 + 0.3 * max(2, len(arms)) + 0.4), dpi=100, layout="constrained"
    )
    axes = figure.subplots(1, len(OUTCOMES), sharey=True, squeeze=False)[0]
    y = np.arange(len(arms))
    for ax, outcome in zip(axes, OUTCOMES, strict=True):
        share = data[data["outcome"] == outcome].set_index("arm")["share"].reindex(arms).fillna(0.0)
        values = share.to_numpy(dtype=float)
        ax.barh(y, values, color=OUTCOME_COLOURS[outcome], height=0.62)
        top = max(float(values.max()) if values.size else 0.0, 0.01) * 1.45
        for k, value in enumerate(values):
            ax.text(value + 0.02 * top, y[k], f"{value:.1%}", va="center", fontsize=6.5)
        ax.set_xlim(0, top)
        ax.xaxis.set_major_locator(MaxNLocator(nbins=2))
        ax.xaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
        ax.set_title(textwrap.fill(OUTCOME_LABELS[outcome], 16), color=OUTCOME_COLOURS[outcome], fontsize=7.5)
    axes[0].set_yticks(y, names)
    axes[0].invert_yaxis()
    layout.note(
        figure, "share of the arm's policy items, all runs and years (each panel on its own scale, from 0)"
    )
    figure.suptitle("Outcome of policy items", x=0.01, ha="left")
    return figure


def depth_data(model: pd.DataFrame, arms: Sequence[str]) -> pd.DataFrame:
    """Return, per arm, year and issue area, the median depth across runs.

    Args:
        model: The yearly model table of a batch, with one ``depth_<area>`` column per area.
        arms: Arms to include, in the order of the rows.

    Returns:
        Columns ``arm``, ``year``, ``area`` and ``median_depth``; areas follow the order of
        the ``depth_*`` columns (the scenario's file order, parents before children).

    """
    require(model, ("arm", "year"), "model")
    depth_columns = [c for c in model.columns if c.startswith("depth_")]
    if not depth_columns:
        raise ValueError("model table has no depth_<area> columns")
    areas = [c.removeprefix("depth_") for c in depth_columns]
    rows = model[model["arm"].isin(list(arms))]
    medians = rows.groupby(["arm", "year"])[depth_columns].median()
    medians.columns = areas
    data = medians.reset_index().melt(id_vars=["arm", "year"], var_name="area", value_name="median_depth")
    rank = {area: k for k, area in enumerate(areas)}
    data = data.assign(_area=data["area"].map(rank))
    return arm_order(data, arms, ["_area", "year"]).drop(columns="_area")


@style.paper
def plot_depth(data: pd.DataFrame, labels: Mapping[str, str] | None = None) -> Figure:
    """Draw one panel per issue area: median depth by year, a line per arm, at most four arms to a panel.

    With more than four arms, each group of four gets its own block of panels with its own key.
    """
    colours = style.panel_colours(data["arm"])
    groups = layout.arm_groups(list(colours))
    areas = list(dict.fromkeys(data["area"]))
    rows = -(-max(1, len(areas)) // layout.columns(len(areas), 4))
    height = 0.5 + len(groups) * (0.45 + 1.45 * rows)
    figure = Figure(figsize=(style.PAGE_WIDTH, height), dpi=100, layout="constrained")
    blocks = figure.subfigures(len(groups), 1, squeeze=False)[:, 0] if len(groups) > 1 else [figure]
    for block, group in zip(blocks, groups, strict=True):
        axes = layout.panel_grid(block, len(areas), ncols_max=4)
        for ax, area in zip(axes, areas, strict=True):
            lines = data[data["area"] == area]
            for arm in group:
                line = lines[lines["arm"] == arm]
                ax.plot(
                    line["year"].to_numpy(), line["median_depth"].to_numpy(float), lw=1.4, color=colours[arm]
                )
            ax.set_ylim(0, 100)
            ax.set_title(area.replace("_", " "), fontsize=7.5)
            ax.xaxis.set_major_locator(MaxNLocator(integer=True, nbins=3))
        layout.first_column_label(axes, "depth (0\u2013100)")
        layout.colour_key(block, [(layout.arm_label(arm, labels), colours[arm]) for arm in group])
    layout.note(
        figure, "year \u00b7 median depth of cooperation across runs, by issue area (spillover order)"
    )
    return figure
