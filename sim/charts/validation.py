"""The validation chart: each seed's date of a milestone against the date in the record."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from sim.charts import style


@style.literal_text
def plot_dates(data: pd.DataFrame, seeds: int) -> Figure:
    """Draw ``sim.analysis.validation.date_chart_data``: each seed's year as a dot, the record's as a bar."""
    style.require(data, ["milestone", "real", "simulated", "never_share"], "date chart data")
    fig = Figure(figsize=(8, 0.55 * len(data) + 1.6), dpi=120)
    ax = fig.subplots()
    rng = np.random.default_rng(0)  # jitter only; fixed so the chart is reproducible
    for k, row in enumerate(data.itertuples()):
        y = len(data) - 1 - k
        sim_years = np.asarray(row.simulated)
        if len(sim_years):
            ax.scatter(
                sim_years + rng.uniform(-0.25, 0.25, len(sim_years)),
                np.full(len(sim_years), y) + rng.uniform(-0.18, 0.18, len(sim_years)),
                s=8,
                alpha=0.35,
                color=style.SIMULATED_DATE,
            )
        if not np.isnan(row.real):
            ax.plot([row.real, row.real], [y - 0.35, y + 0.35], color=style.RECORD_DATE, linewidth=3)
        ax.text(2018.6, y, f"never: {row.never_share:.0%}", va="center", fontsize=8)
    ax.set_yticks(range(len(data)))
    ax.set_yticklabels(list(reversed(data["milestone"].tolist())))
    ax.set_xlim(1995, 2021)
    ax.set_xlabel("year (blue: first substantive adoption or accession in each seed; red: the record)")
    ax.set_title(f"Simulated against real dates, {seeds} seeds")
    ax.grid(axis="x", alpha=0.3)
    fig.tight_layout()
    return fig


def write_date_chart(data: pd.DataFrame, seeds: int, out_dir: Path) -> list[Path]:
    """Write the date chart as ``validation_dates.png`` and ``.svg`` into ``out_dir``."""
    return style.save_all(plot_dates(data, seeds), out_dir, "validation_dates", ["png", "svg"])
