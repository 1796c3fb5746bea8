"""Paired differences between arms: the claims of an experiment, and every metric's seed-by-seed differences.

- :func:`plot_differences` (chart ``differences``): one row per claim, each on its own scale
  (claims compare metrics in different units), with the mean paired difference, its interval
  at the claim's Holm-adjusted level, a line at 0 and the claim's band shaded, coloured by verdict.
- :func:`plot_paired` (charts ``paired_<metric>``): for one metric, one row per comparison of
  two arms (the claims on that metric, then every arm against the first), with one grey dot
  per seed (the run of arm a minus the run of arm b with the same seed), the mean and its
  interval, on one scale shared by the rows.

A comparison whose paired differences are all equal is written as such ("no variation: every
pair differs by ..."), not drawn as a dot on an axis that would mean nothing.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from sim.charts import layout, style
from sim.charts.style import VERDICT_COLOURS, require

ROW_HEIGHT = 0.62  # inches per row of a dot plot
SILENT = {"no variation", "insufficient data"}


def differences_data(claims_table: pd.DataFrame) -> pd.DataFrame:
    """Return the interval of each claim's mean difference, from ``compare.evaluate_claims``.

    Args:
        claims_table: One row per claim (``id``, ``mean_diff``, ``ci_low``, ``ci_high``,
            ``verdict``; ``label``, ``statement``, ``band`` and ``ci_level`` if present).

    Returns:
        Columns ``claim`` (the id), ``label`` (the claim's label, else its statement),
        ``mean_diff``, ``ci_low``, ``ci_high`` (the interval at the claim's Holm-adjusted level),
        ``band`` (NaN if the table has none) and ``verdict``, in the order of the claims; the
        levels, if known, in ``attrs["levels"]``.

    """
    require(claims_table, ("id", "mean_diff", "ci_low", "ci_high", "verdict"), "claims")
    label = pd.Series("", index=claims_table.index, dtype=object)
    for column in ("statement", "label"):  # the label wins where it is given
        if column in claims_table:
            text = claims_table[column].fillna("").astype(str)
            label = text.where(text != "", label)
    band = claims_table["band"].astype(float) if "band" in claims_table else np.nan
    data = pd.DataFrame(
        {
            "claim": claims_table["id"].astype(str),
            "label": label.astype(str),
            "mean_diff": claims_table["mean_diff"].astype(float),
            "ci_low": claims_table["ci_low"].astype(float),
            "ci_high": claims_table["ci_high"].astype(float),
            "band": band,
            "verdict": claims_table["verdict"].astype(str),
        },
        index=claims_table.index,
    ).reset_index(drop=True)
    if "ci_level" in claims_table:
        data.attrs["levels"] = claims_table["ci_level"].astype(float).tolist()
    return data


def silent_text(verdict: str, mean_diff: float) -> str:
    """Return what stands in the place of a dot and an interval for a comparison that has none."""
    if verdict == "no variation":
        return f"no variation: every pair differs by {mean_diff:+.4g}, so nothing is tested"
    return "fewer than two complete pairs: nothing to draw"


def _row(ax: Axes, mean: float, low: float, high: float, band: float, colour: str) -> list[float]:
    """Draw a band, the line at 0, an interval and its mean on one row; return the values drawn."""
    if np.isfinite(band):
        ax.axvspan(-band, band, color=style.BAND_FILL, lw=0)
    ax.axvline(0.0, color="black", lw=0.8)
    if np.isfinite(low) and np.isfinite(high):
        ax.plot([low, high], [0, 0], color=colour, lw=3.5, solid_capstyle="butt")
    ax.plot([mean], [0], "o", color=colour, markersize=6, markeredgecolor="white", markeredgewidth=0.8)
    return [0.0, mean, low, high, -band, band]


@style.paper
def plot_differences(data: pd.DataFrame) -> Figure:
    """Draw each claim's mean difference (a - b) with its interval and band, coloured by verdict.

    Claims compare metrics in different units (rates, counts, rounds), so each claim gets its
    own row with its own horizontal scale, always showing zero and the band of practical
    equivalence (shaded). A claim with no variation, or without two pairs, is written in words.
    """
    n = max(1, len(data))
    figure = Figure(figsize=(style.PAGE_WIDTH, 0.75 + ROW_HEIGHT * 1.25 * n), dpi=100, layout="constrained")
    axes = figure.subplots(n, 1, squeeze=False)[:, 0]
    for ax, row in zip(axes, data.itertuples(index=False), strict=False):
        colour = VERDICT_COLOURS.get(row.verdict, style.TEXT)
        band = float(getattr(row, "band", np.nan))
        title = f"{row.claim}: {row.label}" if row.label else row.claim
        ax.set_title(f"{title}  [{row.verdict}]", loc="left", color=colour)
        layout.hide_frame(ax)
        if row.verdict in SILENT:
            ax.text(
                0.5,
                0.5,
                silent_text(row.verdict, row.mean_diff),
                transform=ax.transAxes,
                ha="center",
                va="center",
                color=colour,
            )
            ax.set_xticks([])
            ax.spines["bottom"].set_visible(False)
            continue
        drawn = _row(ax, row.mean_diff, row.ci_low, row.ci_high, band, colour)
        ax.set_xlim(*layout.fitted_limits(drawn, pad=0.12))
    figure.suptitle(
        "Claims: mean paired difference (a \u2212 b) with its Holm-adjusted interval", x=0.01, ha="left"
    )
    layout.note(
        figure,
        "each claim on its own scale \u00b7 shaded: the claim's band (differences too small to matter)",
    )
    return figure


def _pair_title(row: pd.Series, labels: Mapping[str, str] | None) -> str:
    a, b = layout.arm_label(str(row["arm_a"]), labels), layout.arm_label(str(row["arm_b"]), labels)
    return f"{a}  {layout.MINUS}  {b}"


def _pair_note(row: pd.Series) -> str:
    """Say what the interval is: the claim's (with its level and verdict) or a plain 95% t interval."""
    n = int(row["n"]) if np.isfinite(row["n"]) else 0
    if row["verdict"] in SILENT:
        return f"n={n}"
    if row["claim"]:
        level = float(row["ci_level"])
        return f"claim {row['claim']}: {row['verdict']} ({level:.1%} interval, n={n})"
    return f"95% t interval, n={n}"


SUMMARY_COLUMNS = (
    "comparison", "arm_a", "arm_b", "claim", "n", "mean_diff", "ci_level", "ci_low", "ci_high", "band",
    "verdict",
)  # fmt: skip


def _silent_row(ax: Axes, verdict: str, mean_diff: float, colour: str) -> None:
    """Write what stands for the dots of a comparison without variation (or pairs), and hide its axis."""
    ax.text(0.5, 0.0, silent_text(verdict, mean_diff), transform=ax.get_yaxis_transform(), ha="center",
            va="center", color=colour)  # fmt: skip
    ax.tick_params(axis="x", labelbottom=False, length=0)
    ax.spines["bottom"].set_visible(False)


@style.paper
def plot_paired(
    diffs: pd.DataFrame,
    summary: pd.DataFrame,
    title: str = "",
    xlabel: str = "",
    labels: Mapping[str, str] | None = None,
) -> Figure:
    """Draw one metric's paired differences: one row per comparison, one grey dot per seed.

    Args:
        diffs: One row per pair (``comparison``, ``diff``), from ``sim.analysis.pairs``.
        summary: One row per comparison (``SUMMARY_COLUMNS``: ``comparison``, ``arm_a``, ``arm_b``,
            ``claim``, ``n``, ``mean_diff``, ``ci_level``, ``ci_low``, ``ci_high``, ``band``, ``verdict``).
        title: The chart's title (the metric's label).
        xlabel: The axis label (the metric's units).
        labels: Arm labels from the experiment file.

    """
    require(summary, SUMMARY_COLUMNS, "paired summary")
    n = max(1, len(summary))
    figure = Figure(figsize=(style.PAGE_WIDTH, 0.95 + ROW_HEIGHT * 1.3 * n), dpi=100, layout="constrained")
    axes = figure.subplots(n, 1, sharex=True, squeeze=False)[:, 0]
    rng = np.random.default_rng(0)  # vertical jitter only; fixed so the chart is reproducible
    drawn: list[float] = []
    for ax, (_, row) in zip(axes, summary.iterrows(), strict=False):
        colour = VERDICT_COLOURS.get(str(row["verdict"]), style.INK) if row["claim"] else style.INK
        ax.set_title(_pair_title(row, labels), loc="left")
        ax.set_title(_pair_note(row), loc="right", color=colour, fontsize=7.5)
        layout.hide_frame(ax)
        ax.set_ylim(-1, 1)
        if row["verdict"] in SILENT:
            _silent_row(ax, str(row["verdict"]), float(row["mean_diff"]), colour)
            continue
        values = diffs.loc[diffs["comparison"] == row["comparison"], "diff"].to_numpy(dtype=float)
        jitter = rng.uniform(-0.75, -0.2, values.size)
        ax.scatter(values, jitter, s=5, color=style.DOTS, alpha=0.55, lw=0, zorder=3)
        drawn += [*values, *_row(ax, row["mean_diff"], row["ci_low"], row["ci_high"], row["band"], colour)]
    axes[0].set_xlim(*layout.fitted_limits(drawn, pad=0.05))
    axes[-1].set_xlabel(xlabel)
    if title:
        figure.suptitle(title, x=0.01, ha="left")
    return figure
