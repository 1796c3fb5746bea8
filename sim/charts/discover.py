"""The trade-off chart of scenario discovery: coverage against density along PRIM's peeling trajectory.

Drawn from the tables ``sco-sim discover`` writes (``peeling.csv`` and ``boxes.csv``), so the
chart can be redrawn without the EMA Workbench. One panel per PRIM box: every step of the
trajectory is a point, coloured by the number of inputs the box restricts; the chosen box is
ringed and labelled; a dashed line marks the density asked for. The first panel also shows the
CART leaves that reach the density asked for. PNG at 300 dpi, SVG with its text as text.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import matplotlib
import numpy as np
import pandas as pd
from matplotlib.colors import BoundaryNorm
from matplotlib.figure import Figure

from sim.charts import style
from sim.charts.style import BAND, BAND_FILL, INK, MARKER, TEXT, require

__all__ = ["DPI", "NAME", "plot_tradeoff", "write_tradeoff_chart"]

NAME = "discover_tradeoff"
DPI = 300
# colours from the one table (sim.charts.style)
CHOSEN = MARKER  # the box reported
CART = INK  # CART's leaves
GUIDE = BAND  # the trajectory's line and the guide lines
COVERAGE = "coverage: share of the runs with the outcome that fall in the box"
DENSITY = "density: share of the runs in the box that have the outcome"


@style.literal_text
def plot_tradeoff(
    trajectory: pd.DataFrame,
    cart: pd.DataFrame | None = None,
    outcome: str = "",
    density: float | None = None,
    base_rate: float | None = None,
) -> Figure:
    """Draw coverage (x) against density (y) for every step of every PRIM box's peeling trajectory.

    Args:
        trajectory: ``peeling.csv``: ``box``, ``step``, ``coverage``, ``density``, ``n_restricted``,
            ``chosen``.
        cart: One row per CART box (``box``, ``coverage``, ``density``), shown on the first panel.
        outcome: The outcome expression, shown under the title as written.
        density: The density asked for (a dashed line).
        base_rate: The share of all runs with the outcome (a dotted line: the box of every run).

    """
    require(trajectory, ("box", "step", "coverage", "density", "n_restricted", "chosen"), "peeling")
    boxes = list(dict.fromkeys(trajectory["box"])) or [1]
    figure = Figure(figsize=(6.8, 0.9 + 4.2 * len(boxes)), dpi=DPI, layout="constrained")
    axes = figure.subplots(len(boxes), 1, squeeze=False)[:, 0]
    top = int(max(trajectory["n_restricted"].max() if len(trajectory) else 1, 1))
    cmap = matplotlib.colormaps["viridis"].resampled(top + 1)
    norm = BoundaryNorm(np.arange(-0.5, top + 1.5), cmap.N)
    scatter = None
    for ax, number in zip(axes, boxes, strict=True):
        scatter = _trajectory_panel(ax, trajectory[trajectory["box"] == number], number, cmap, norm)
        if density is not None:
            ax.axhline(density, color=GUIDE, linestyle="--", linewidth=0.8, zorder=0)
            _guide_label(ax, f"density asked for: {density:g}", density)
        if number == boxes[0]:
            if base_rate is not None:
                ax.axhline(base_rate, color=GUIDE, linestyle=":", linewidth=0.8, zorder=0)
                _guide_label(ax, f"all runs: {base_rate:.2f}", base_rate)
            if cart is not None and len(cart):
                _cart_leaves(ax, cart)
    if scatter is not None:
        bar = figure.colorbar(
            scatter, ax=list(axes), ticks=range(top + 1), fraction=0.04, pad=0.02, aspect=40
        )
        bar.set_label("inputs restricted", fontsize=8.5)
        bar.ax.tick_params(labelsize=8)
    figure.suptitle(f"Outcome: {outcome}" if outcome else "Scenario discovery", fontsize=9.5, color=TEXT,
                    x=0.02, ha="left")  # fmt: skip
    return figure


def _trajectory_panel(ax: Any, rows: pd.DataFrame, number: int, cmap: Any, norm: Any) -> Any:
    """One PRIM box's trajectory: points coloured by inputs restricted, the chosen box ringed and labelled."""
    rows = rows.sort_values("step")
    ax.plot(rows["coverage"], rows["density"], color=GUIDE, linewidth=0.8, zorder=1)
    scatter = ax.scatter(rows["coverage"], rows["density"], c=rows["n_restricted"], cmap=cmap, norm=norm,
                         s=22, edgecolors="none", zorder=2)  # fmt: skip
    for row in rows[rows["chosen"].astype(bool)].itertuples():
        ax.scatter([row.coverage], [row.density], s=140, facecolors="none", edgecolors=CHOSEN,
                   linewidths=1.6, zorder=3)  # fmt: skip
        ax.annotate(f"PRIM box {number}: coverage {row.coverage:.2f}, density {row.density:.2f}",
                    (row.coverage, row.density), xytext=(-8, -16), textcoords="offset points", ha="right",
                    fontsize=8.5, color=CHOSEN)  # fmt: skip
    ax.set_xlim(-0.02, 1.04)
    ax.set_ylim(-0.02, 1.04)
    ax.set_xlabel(COVERAGE, fontsize=8.5)
    ax.set_ylabel(DENSITY, fontsize=8.5)
    ax.set_title(f"PRIM box {number}: peeling trajectory", fontsize=10, color=INK, loc="left")
    ax.grid(color=BAND_FILL, linewidth=0.6)
    ax.tick_params(labelsize=8)
    return scatter


def _cart_leaves(ax: Any, cart: pd.DataFrame) -> None:
    """CART's leaves that reach the density asked for: crosses, each labelled."""
    ax.scatter(cart["coverage"], cart["density"], marker="x", s=36, color=CART, linewidths=1.2, zorder=4,
               label="CART leaf")  # fmt: skip
    for row in cart.itertuples():
        ax.annotate(f"CART {row.box}", (row.coverage, row.density), xytext=(5, 4), textcoords="offset points",
                    fontsize=7.5, color=CART)  # fmt: skip
    ax.legend(loc="lower left", fontsize=7.5, frameon=False)


def _guide_label(ax: Any, text: str, y: float) -> None:
    """Label a horizontal guide line at its left end, just above it."""
    where = ("axes fraction", "data")
    ax.annotate(
        text, (0.01, y), xytext=(0, 3), textcoords="offset points", xycoords=where, fontsize=7.5, color=TEXT
    )


def write_tradeoff_chart(
    trajectory: pd.DataFrame,
    out_dir: str | Path,
    cart: pd.DataFrame | None = None,
    outcome: str = "",
    density: float | None = None,
    base_rate: float | None = None,
    formats: Sequence[str] = ("png", "svg"),
) -> list[Path]:
    """Draw :func:`plot_tradeoff`; save ``discover_tradeoff.png`` (300 dpi) and ``.svg`` (text as text)."""
    style.check_formats(formats)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    figure = plot_tradeoff(trajectory, cart, outcome, density, base_rate)
    with matplotlib.rc_context({"svg.fonttype": "none"}):
        return style.save_all(figure, out, NAME, formats)
