"""The dashboard's charts: small figures of the years simulated so far, redrawn after each step.

Like the other charts, each has a ``*_data()`` function returning numbers and a ``plot_*()``
function drawing them. They draw on a bare :class:`~matplotlib.figure.Figure` (no pyplot
state, nothing to close), as the page server draws from several threads. Line charts fit
their value axis to the data and say so: a change of 0.01 in an index stays visible.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import pandas as pd
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from sim.charts.style import ARM_COLOURS, BAND, INDEX_LINE, TEXT, require

SIZE = (5.2, 3.0)  # inches; drawn at 100 dpi, about half the page's width
MIN_SPAN = 0.02  # the least height of a fitted axis, so noise is not blown up


def depth_data(model_table: pd.DataFrame, areas: Sequence[str], start: Mapping[str, float]) -> pd.DataFrame:
    """Return each area's depth (0-100) at the start of the run and after the latest year.

    Args:
        model_table: The model table of the years so far (``depth_<area>`` columns).
        areas: The issue areas, in the scenario's order.
        start: Each area's depth before the first year (the scenario's ``initial_depth``).

    Returns:
        A DataFrame indexed by area with columns ``start`` and ``now``.

    """
    columns = [f"depth_{area}" for area in areas]
    require(model_table, columns, "model")
    now = model_table[columns].iloc[-1].to_numpy()
    return pd.DataFrame(
        {"start": [float(start.get(area, 0.0)) for area in areas], "now": now}, index=list(areas)
    )


def plot_depth(data: pd.DataFrame, year: int) -> Figure:
    """Draw depth by area: a bar for the latest year, a tick where the run started."""
    figure = Figure(figsize=(SIZE[0], max(SIZE[1], 0.26 * len(data) + 0.9)), dpi=100)
    ax = figure.add_subplot()
    rows = range(len(data))
    ax.barh(rows, data["now"], color=INDEX_LINE, height=0.6, label=f"after {year}")
    ax.scatter(data["start"], rows, marker="|", s=220, color=TEXT, linewidths=2, label="at the start")
    ax.set_yticks(list(rows), [str(area).replace("_", " ") for area in data.index], fontsize=8)
    ax.invert_yaxis()
    ax.set_xlim(0, 100)
    ax.set_xlabel("depth of cooperation, 0-100", fontsize=8)
    ax.tick_params(axis="x", labelsize=8)
    ax.legend(loc="lower right", fontsize=7, framealpha=0.9)
    ax.set_title(f"Depth by area, {year}", fontsize=10)
    figure.tight_layout()
    return figure


def alignment_data(states_table: pd.DataFrame, code: str, poles: Sequence[str]) -> pd.DataFrame:
    """Return one state's alignment with each pole (0-1), indexed by year."""
    columns = [f"alignment_{pole}" for pole in poles]
    require(states_table, ["year", "state", *columns], "states")
    rows = states_table[states_table["state"] == code]
    data = rows.set_index("year")[columns]
    data.columns = list(poles)
    return data


def plot_alignment(data: pd.DataFrame, name: str) -> Figure:
    """Draw a state's alignment with each pole over the years (axis fitted to the data)."""
    figure = Figure(figsize=SIZE, dpi=100)
    ax = figure.add_subplot()
    for k, pole in enumerate(data.columns):
        colour = ARM_COLOURS[k % len(ARM_COLOURS)]
        ax.plot(data.index, data[pole], color=colour, marker="o", ms=3, lw=1.8)
        ax.annotate(
            f"{pole} {data[pole].iloc[-1]:.3f}",
            (data.index[-1], data[pole].iloc[-1]),
            xytext=(4, 0),
            textcoords="offset points",
            color=colour,
            fontsize=8,
            va="center",
        )
    _fit(ax, data.to_numpy().ravel())
    _years(ax, data.index)
    ax.set_ylabel("alignment, 0-1 (axis fitted)", fontsize=8)
    ax.set_title(f"Alignment of {name} with the poles", fontsize=10)
    figure.tight_layout()
    return figure


def balancing_data(model_table: pd.DataFrame) -> pd.Series:
    """Return the focal state's balancing index (0-1), indexed by year."""
    require(model_table, ["year", "balancing_index"], "model")
    return model_table.set_index("year")["balancing_index"]


def plot_balancing(data: pd.Series, name: str) -> Figure:
    """Draw the focal state's balancing index over the years (axis fitted to the data)."""
    figure = Figure(figsize=SIZE, dpi=100)
    ax = figure.add_subplot()
    ax.plot(data.index, data.to_numpy(), color=INDEX_LINE, marker="o", ms=3, lw=2)
    ax.annotate(
        f"{data.iloc[-1]:.3f}",
        (data.index[-1], data.iloc[-1]),
        xytext=(4, 0),
        textcoords="offset points",
        color=INDEX_LINE,
        fontsize=8,
        va="center",
    )
    _fit(ax, data.to_numpy())
    _years(ax, data.index)
    ax.set_ylabel("balancing index, 0-1 (axis fitted)", fontsize=8)
    ax.set_title(f"Balancing index of {name}", fontsize=10)
    figure.tight_layout()
    return figure


def _fit(ax, values) -> None:
    """Fit the value axis to ``values`` (at least MIN_SPAN high, inside 0-1)."""
    low, high = float(values.min()), float(values.max())
    pad = max((high - low) * 0.15, (MIN_SPAN - (high - low)) / 2, 0.0)
    ax.set_ylim(max(low - pad, 0.0), min(high + pad, 1.0))
    ax.grid(axis="y", color=BAND, alpha=0.25, lw=0.6)
    ax.tick_params(labelsize=8)


def _years(ax, years) -> None:
    """Whole years on the x axis, with room on the right for the direct labels."""
    first, last = int(min(years)), int(max(years))
    ax.set_xlim(first - 0.5, last + max(1.5, (last - first) * 0.25))
    ax.xaxis.set_major_locator(MaxNLocator(integer=True, nbins=6))
