"""Layout rules of the batch charts: panels, axes that fit the data, direct labels, labels from files.

- **Axes fit the data.** :func:`fitted_limits` spans what is drawn (with a little room), and
  :func:`scale_note` says so on the chart ("axis 0.84-0.91 of the 0-1 scale"), so a reader
  never mistakes a zoomed axis for the whole scale. Known scales are in ``SCALES``.
- **At most four colours per panel.** :func:`arm_groups` splits the arms into groups of at most
  ``style.MAX_COLOURS``; charts whose bands would overlap draw one panel per arm instead.
- **Direct labels.** :func:`label_ends` writes each line's name at its right end, moved apart
  so that no two overlap, instead of a legend the eye has to match by colour.
- **Labels from the experiment file.** :func:`arm_label` and :func:`metric_label` return the
  ``label`` an experiment gives an arm or a metric, else a readable form of its key.
"""

from __future__ import annotations

import textwrap
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure, SubFigure
from matplotlib.lines import Line2D

from sim.charts import style

#: the natural scale of model columns (by name, or by prefix ending in "_"), stated beside fitted axes
SCALES: dict[str, tuple[float, float]] = {
    "consensus_rate": (0.0, 1.0),
    "adoption_rate": (0.0, 1.0),
    "diluted_share": (0.0, 1.0),
    "balancing_index": (0.0, 1.0),
    "cohesion": (0.0, 1.0),
    "mean_trust": (0.0, 1.0),
    "alignment_": (0.0, 1.0),
    "influence_": (0.0, 1.0),
    "baseline_": (0.0, 1.0),
    "threat_": (0.0, 1.0),
    "depth_": (0.0, 100.0),
}
DASH = "\u2013"
MINUS = "\u2212"


def scale_of(column: str) -> tuple[float, float] | None:
    """Return the natural scale of a model or state column, or None if it has none (counts, sums)."""
    if column in SCALES:
        return SCALES[column]
    for prefix, scale in SCALES.items():
        if prefix.endswith("_") and column.startswith(prefix):
            return scale
    return None


def number(value: float, digits: int = 3) -> str:
    """Format a value for a note: at most ``digits`` significant digits, no trailing zeros."""
    if not np.isfinite(value):
        return "n/a"
    text = f"{value:.{digits}g}" if abs(value) < 1000 else f"{value:,.0f}"
    return text.replace("-", MINUS)


def fitted_limits(
    values: Iterable[float], include: Iterable[float] = (), pad: float = 0.06
) -> tuple[float, float]:
    """Return axis limits that span the finite values (and ``include``), with ``pad`` of the span each side.

    A single value (no span) gets a window of 5% of its size (at least 0.01) around it; no
    finite value at all gives ``(0, 1)``.
    """
    data = np.asarray([*values, *include], dtype=float)
    data = data[np.isfinite(data)]
    if not data.size:
        return (0.0, 1.0)
    low, high = float(data.min()), float(data.max())
    if high - low <= 1e-12 * max(1.0, abs(high)):
        half = max(0.05 * abs(high), 0.01)
        return (low - half, high + half)
    room = pad * (high - low)
    return (low - room, high + room)


def scale_note(low: float, high: float, scale: tuple[float, float] | None) -> str:
    """Say how a fitted axis relates to the whole scale, e.g. ``"axis 0.84-0.91 of the 0-1 scale"``."""
    if scale is not None and (low > scale[0] or high < scale[1]):
        shown = f"{number(low, 2)}{DASH}{number(high, 2)}"
        return f"axis {shown} of the {number(scale[0])}{DASH}{number(scale[1])} scale"
    if scale is None and low > 0:
        return f"axis from {number(low, 2)}, not 0"
    return ""


def clip_to_scale(limits: tuple[float, float], scale: tuple[float, float] | None) -> tuple[float, float]:
    """Keep fitted limits inside the natural scale (a share never shows below 0 or above 1)."""
    if scale is None:
        return limits
    return (max(limits[0], scale[0]), min(limits[1], scale[1]))


def arm_groups(arms: Sequence[str], size: int = style.MAX_COLOURS) -> list[list[str]]:
    """Split arms, in order, into groups of at most ``size`` (one panel each)."""
    return [list(arms[k : k + size]) for k in range(0, len(arms), size)] or [[]]


def arm_label(arm: str, labels: Mapping[str, str] | None) -> str:
    """Return the arm's label from the experiment file, else its key."""
    return (labels or {}).get(arm) or arm


def metric_label(name: str, metric: Any = None) -> str:
    """Return a metric's label from the experiment file, else its key with spaces for underscores."""
    label = getattr(metric, "label", None) if not isinstance(metric, Mapping) else metric.get("label")
    return str(label) if label else name.replace("_", " ")


def panels(n: int, ncols_max: int = 3, height: float = 2.1, sharey: bool = True) -> tuple[Figure, list[Axes]]:
    """Return a page-wide figure with ``n`` panels in rows of at most ``ncols_max`` (spare ones hidden)."""
    ncols = columns(n, ncols_max)
    figure = Figure(
        figsize=(style.PAGE_WIDTH, 0.9 + height * -(-max(1, n) // ncols)), dpi=100, layout="constrained"
    )
    return figure, panel_grid(figure, n, ncols_max, sharey)


def columns(n: int, ncols_max: int) -> int:
    """Return the number of columns for ``n`` panels: one row if they fit, else rows of ``ncols_max``."""
    n = max(1, n)
    return n if n <= ncols_max else (2 if n == 4 else ncols_max)


def panel_grid(parent: Figure | SubFigure, n: int, ncols_max: int = 3, sharey: bool = True) -> list[Axes]:
    """Add ``n`` panels to a figure or subfigure in rows of at most ``ncols_max``; spare ones hidden."""
    n = max(1, n)
    ncols = columns(n, ncols_max)
    grid = parent.subplots(-(-n // ncols), ncols, sharex=True, sharey=sharey, squeeze=False)
    axes = list(grid.ravel())
    for ax in axes[n:]:
        ax.set_visible(False)
    for k in range(max(0, n - ncols), n):  # no visible panel below: show the year labels here
        axes[k].tick_params(axis="x", labelbottom=True)
    return axes[:n]


def fit_title(text: str, ncols: int) -> str:
    """Wrap a panel title to the width of one of ``ncols`` panels across the page."""
    return textwrap.fill(text, max(16, int(style.PAGE_WIDTH * 72 / max(1, ncols) / 4.6)))


def label_ends(ax: Axes, ends: Sequence[tuple[float, float, str, str]], gap: float = 0.075) -> None:
    """Write each line's name at its right end ``(x, y, text, colour)``, moved apart to not overlap.

    Labels are spread vertically so that neighbours are at least ``gap`` of the axis height
    apart, keeping their order; they sit just right of the data, outside the axes if needed.
    """
    if not ends:
        return
    low, high = ax.get_ylim()
    span = (high - low) or 1.0
    order = sorted(range(len(ends)), key=lambda k: ends[k][1])
    placed = [ends[k][1] for k in order]
    for k in range(1, len(placed)):
        placed[k] = max(placed[k], placed[k - 1] + gap * span)
    overflow = placed[-1] - (high - 0.02 * span)
    if overflow > 0:  # pushed above the top: shift the stack down, then keep the gaps from the bottom
        placed = [y - overflow for y in placed]
        for k in range(1, len(placed)):
            placed[k] = max(placed[k], placed[k - 1] + gap * span)
    for k, y in zip(order, placed, strict=True):
        x, _, text, colour = ends[k]
        ax.annotate(
            text,
            (x, y),
            xytext=(4, 0),
            textcoords="offset points",
            va="center",
            ha="left",
            fontsize=7.5,
            color=colour,
            annotation_clip=False,
        )


def hide_frame(ax: Axes, keep_bottom: bool = True) -> None:
    """Remove the y axis and the frame of a row chart (a dot plot needs only its x axis)."""
    ax.set_yticks([])
    for side in ("left", "right", "top"):
        ax.spines[side].set_visible(False)
    ax.spines["bottom"].set_visible(keep_bottom)


def first_column_label(axes: Sequence[Axes], text: str) -> None:
    """Write the y label on the panels of the first column only (the panels share the axis)."""
    for ax in axes:
        spec = ax.get_subplotspec()
        if spec is None or spec.is_first_col():
            ax.set_ylabel(text)


def colour_key(figure: Figure | SubFigure, entries: Sequence[tuple[str, str]]) -> None:
    """Write the names, each in its line's colour, above the panels (for charts of many small panels)."""
    if not entries:
        return
    handles = [Line2D([], [], color=colour, lw=2) for _, colour in entries]
    key = figure.legend(
        handles,
        [name for name, _ in entries],
        loc="outside upper left",
        ncols=min(len(entries), 2 if max(len(name) for name, _ in entries) > 24 else 4),
        frameon=False,
        handlelength=1.4,
        fontsize=7.5,
    )
    for text, (_, colour) in zip(key.get_texts(), entries, strict=True):
        text.set_color(colour)


def note(figure: Figure, text: str, width: int = 125) -> None:
    """Write a reading note under the panels (what the marks mean, the axis's scale), wrapped to the page."""
    figure.supxlabel(textwrap.fill(text, width), fontsize=7.5)
