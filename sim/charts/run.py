"""Charts drawn from stored tables, never from live models.

Each chart has a ``*_data()`` function that returns numbers (tested) and a
``plot_*()`` function that draws them (render-tested with the Agg backend).
"""

from __future__ import annotations

from typing import Any

import matplotlib.pyplot as plt
import pandas as pd
from matplotlib.ticker import MaxNLocator

from sim.charts.layout import clip_to_scale, fitted_limits, scale_note
from sim.charts.style import INDEX_LINE, OUTCOME_COLOURS, OUTCOME_LABELS, literal_text, require
from sim.rules import OUTCOMES


def run_outcomes_data(model_table: pd.DataFrame) -> pd.DataFrame:
    """Return, per year, the count of each outcome class and the balancing index.

    Args:
        model_table: The yearly model table of one run.

    Returns:
        A DataFrame indexed by year with one column per outcome class and
        ``balancing_index``.

    """
    require(model_table, ("year", *OUTCOMES, "balancing_index"), "model")
    data = model_table.set_index("year")[[*OUTCOMES, "balancing_index"]].copy()
    data[list(OUTCOMES)] = data[list(OUTCOMES)].astype(int)
    return data


@literal_text
def plot_run_outcomes(data: pd.DataFrame, title: str = "", focal: str = "") -> Any:
    """Draw outcome classes per year (stacked bars) with the balancing index (line)."""
    figure, ax = plt.subplots(figsize=(10, 4.8), dpi=100)
    years = data.index.to_numpy()
    bottom = None
    for outcome in OUTCOMES:
        values = data[outcome].to_numpy()
        ax.bar(
            years,
            values,
            bottom=bottom,
            color=OUTCOME_COLOURS[outcome],
            label=OUTCOME_LABELS[outcome],
            width=0.8,
        )
        bottom = values if bottom is None else bottom + values
    ax.set_xlabel("year (Council of Heads of State)")
    ax.set_ylabel("items decided")
    ax.set_xlim(years.min() - 0.6, years.max() + 0.6)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    right = ax.twinx()
    right.plot(years, data["balancing_index"].to_numpy(), color=INDEX_LINE, marker="o", lw=2,
               label=f"{focal} balancing index (right axis)".strip())  # fmt: skip
    # the index's own range, in the upper part of the chart above the bars, within its 0-1 scale
    low, high = fitted_limits(data["balancing_index"].to_numpy(dtype=float), pad=0.0)
    span = max(high - low, 0.02)
    low, high = clip_to_scale((low - 2.2 * span, high + 0.6 * span), (0.0, 1.0))
    right.set_ylim(low, high)
    note = scale_note(low, high, (0.0, 1.0))
    right.set_ylabel(f"balancing index ({note})" if note else "balancing index, 0-1", color=INDEX_LINE)
    handles, labels = ax.get_legend_handles_labels()
    h2, l2 = right.get_legend_handles_labels()
    ax.legend(handles + h2, labels + l2, loc="upper left", fontsize=8, ncols=2, framealpha=0.9)
    top = max(1, int(bottom.max()) if bottom is not None and len(bottom) else 1)
    ax.set_ylim(0, top * 1.6)
    if title:
        ax.set_title(title, fontsize=10)
    figure.tight_layout()
    return figure
