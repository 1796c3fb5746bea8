"""The ablation chart: each claim's mean paired difference with its interval, configuration by configuration.

One panel per claim (claims compare metrics in different units, so each panel has its own
scale, always showing 0 and the claim's band, shaded); one row per configuration, from
``shipped`` at the top to ``veto_players`` at the bottom; the dot and the interval (at the
claim's Holm-adjusted level within that configuration) are coloured by the verdict. A
configuration where the differences do not vary is written in words, as in the claims chart.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from sim.charts import layout, style
from sim.charts.style import VERDICT_COLOURS, require
from sim.charts.sweep import INITIALS

NAME = "ablation"
ROW = 0.2  # inches per configuration row of a panel
TITLE_WIDTH = {1: 95, 2: 40}  # characters of a panel's title, by number of columns (beside the row names)
NEEDS = ("claim", "statement", "configuration", "mean_diff", "ci_low", "ci_high", "band", "verdict")
#: the letter written at the right end of each row, so the verdict does not rest on colour alone
LETTER = INITIALS


def _panel(ax: Axes, rows: pd.DataFrame, names: bool) -> None:
    """Draw one claim: a row per configuration, the band, the line at 0, each interval and mean."""
    n = len(rows)
    band = float(rows["band"].iloc[0])
    if np.isfinite(band):
        ax.axvspan(-band, band, color=style.BAND_FILL, lw=0)
    ax.axvline(0.0, color="black", lw=0.8)
    drawn = [0.0, -band, band]
    for k, row in enumerate(rows.itertuples(index=False)):
        y = n - 1 - k
        colour = VERDICT_COLOURS.get(row.verdict, style.TEXT)
        ax.text(1.01, y, LETTER.get(row.verdict, "?"), transform=ax.get_yaxis_transform(), color=colour,
                va="center", ha="left", fontsize=7)  # fmt: skip
        if row.verdict == "insufficient data":
            continue
        if row.verdict != "no variation" and np.isfinite(row.ci_low) and np.isfinite(row.ci_high):
            ax.plot([row.ci_low, row.ci_high], [y, y], color=colour, lw=2.2, solid_capstyle="butt")
            drawn += [row.ci_low, row.ci_high]
        marker = "D" if row.verdict == "no variation" else "o"
        ax.plot([row.mean_diff], [y], marker, color=colour, markersize=4, markeredgecolor="white",
                markeredgewidth=0.5)  # fmt: skip
        drawn.append(row.mean_diff)
    ax.set_yticks(range(n), list(rows["configuration"])[::-1] if names else [""] * n)
    ax.set_ylim(-0.7, n - 0.3)
    ax.set_xlim(*layout.fitted_limits(drawn, pad=0.08))
    for side in ("left", "right", "top"):
        ax.spines[side].set_visible(False)
    ax.tick_params(axis="y", length=0)


@style.paper
def plot_ablation(table: pd.DataFrame, title: str = "") -> Figure:
    """Draw every claim's mean difference (a - b) with its interval in each configuration of an ablation.

    One panel per claim, in two columns beyond three claims (the configurations are named on
    the first column's panels, in the same order on every panel).

    Args:
        table: ``ablation.csv`` (:func:`sim.analysis.ablation.ablation_table`).
        title: The figure's title (default: what the chart shows).

    """
    require(table, NEEDS, "ablation")
    claims = list(dict.fromkeys(table["claim"]))
    configs = list(dict.fromkeys(table["configuration"]))
    n = max(1, len(claims))
    ncols = 1 if n <= 3 else 2
    nrows = -(-n // ncols)
    height = 1.1 + nrows * (0.5 + ROW * len(configs))
    figure = Figure(figsize=(style.PAGE_WIDTH, height), dpi=100, layout="constrained")
    axes = list(figure.subplots(nrows, ncols, squeeze=False).ravel())
    for ax in axes[n:]:
        ax.set_visible(False)
    for k, (ax, claim) in enumerate(zip(axes, claims, strict=False)):
        rows = table[table["claim"] == claim].set_index("configuration").reindex(configs).reset_index()
        rows["verdict"] = rows["verdict"].fillna("insufficient data")
        statement = str(table.loc[table["claim"] == claim, "statement"].iloc[0])
        head = textwrap.fill(f"{claim}: {statement}", TITLE_WIDTH[ncols])
        ax.set_title(head, loc="left", color=style.TEXT)
        _panel(ax, rows, names=k % ncols == 0)
    figure.suptitle(
        title or "What each claim rests on: mean paired difference (a \u2212 b) by configuration",
        x=0.01,
        ha="left",
    )
    key = ", ".join(f"{letter} {verdict}" for verdict, letter in LETTER.items())
    layout.note(
        figure,
        "each claim on its own scale \u00b7 interval at the claim's Holm-adjusted level within its "
        f"configuration \u00b7 shaded: the claim's band \u00b7 colour and letter: the verdict ({key})",
    )
    return figure


def write_ablation_chart(
    table: pd.DataFrame, out: Path, formats: tuple[str, ...] = ("png", "svg")
) -> list[Path]:
    """Draw the ablation chart into ``out`` as ``ablation.png`` and ``ablation.svg``; return the paths."""
    if not len(table):
        return []
    return style.save_all(plot_ablation(table), Path(out), NAME, formats)


__all__ = ["plot_ablation", "write_ablation_chart"]
