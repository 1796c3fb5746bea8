"""Charts of a sensitivity analysis, drawn from its tables (``sensitivity.csv``, ``sensitivity_points.csv``).

As in :mod:`sim.charts.batch`, each chart has a ``*_data()`` function that returns a tidy
DataFrame of numbers and a ``plot_*()`` function that draws it:

- ``sensitivity``: one panel per effect, a horizontal bar per parameter, most influential
  at the top: Morris ``mu_star`` with its 95% interval and ``sigma`` as a marker, or
  Sobol' ``ST`` with ``S1`` inside it, each with its interval;
- ``sensitivity_effects``: one panel per effect, the effect at every sample point in
  increasing order with its 95% interval over replications, coloured by its sign, and a line at 0:
  the picture of a robust or a fragile finding.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from sim.charts import style
from sim.charts.style import ROBUSTNESS_COLOURS, SIGN_COLOURS, SIGN_LABELS, require

MEASURES: dict[str, tuple[str, str, str, str]] = {
    # method: (bar, its interval, second measure, its interval or "")
    "morris": ("mu_star", "mu_star_conf", "sigma", ""),
    "sobol": ("ST", "ST_conf", "S1", "S1_conf"),
}


def indices_data(table: pd.DataFrame) -> pd.DataFrame:
    """Return the bars of the indices chart from a ``sensitivity.csv`` table.

    Args:
        table: One row per effect and parameter (``effect``, ``parameter``, ``rank``,
            ``verdict`` and either Morris ``mu_star``, ``mu_star_conf``, ``sigma`` or Sobol'
            ``ST``, ``ST_conf``, ``S1``, ``S1_conf``).

    Returns:
        Columns ``effect``, ``verdict``, ``parameter``, ``rank``, ``bar`` (mu_star or ST),
        ``bar_conf``, ``second`` (sigma or S1) and ``second_conf`` (NaN for sigma), sorted
        by effect (in the table's order), then rank; and the method in ``attrs["method"]``.

    """
    method = "morris" if "mu_star" in table else "sobol"
    bar, bar_conf, second, second_conf = MEASURES[method]
    require(table, ("effect", "parameter", "rank", "verdict", bar, bar_conf, second), "sensitivity")
    order = {name: k for k, name in enumerate(dict.fromkeys(table["effect"]))}
    data = pd.DataFrame(
        {
            "effect": table["effect"].astype(str),
            "verdict": table["verdict"].astype(str),
            "parameter": table["parameter"].astype(str),
            "rank": table["rank"].astype(int),
            "bar": table[bar].astype(float),
            "bar_conf": table[bar_conf].astype(float),
            "second": table[second].astype(float),
            "second_conf": table[second_conf].astype(float) if second_conf else np.nan,
        }
    )
    data = data.assign(_order=data["effect"].map(order)).sort_values(["_order", "rank"], kind="stable")
    data = data.drop(columns="_order").reset_index(drop=True)
    data.attrs["method"] = method
    return data


@style.literal_text
def plot_indices(data: pd.DataFrame, titles: dict[str, str] | None = None) -> Figure:
    """Draw one panel per effect: a bar per parameter, most influential at the top."""
    method = data.attrs.get("method", "morris")
    bar_name, _, second_name, _ = MEASURES[method]
    effects = list(dict.fromkeys(data["effect"]))
    n_params = max(1, data.groupby("effect").size().max() if len(data) else 1)
    figure = Figure(figsize=(9, 0.6 + len(effects) * (0.9 + 0.32 * n_params)), dpi=100)
    axes = figure.subplots(len(effects) or 1, 1, squeeze=False)[:, 0]
    for ax, effect in zip(axes, effects, strict=False):
        rows = data[data["effect"] == effect]
        y = np.arange(len(rows))
        verdict = rows["verdict"].iloc[0]
        ax.barh(y, rows["bar"].to_numpy(float), xerr=_conf(rows["bar_conf"]), color=style.BAR, height=0.6,
                error_kw={"ecolor": style.INK, "capsize": 3, "lw": 1}, label=_label(bar_name))  # fmt: skip
        if method == "sobol":
            ax.barh(y, rows["second"].to_numpy(float), xerr=_conf(rows["second_conf"]), color=style.BAR_INNER,
                    height=0.3, error_kw={"ecolor": style.TEXT, "capsize": 2, "lw": 1},
                    label=_label(second_name))  # fmt: skip
        else:
            ax.plot(
                rows["second"].to_numpy(float),
                y,
                "D",
                color=style.MARKER,
                markersize=5,
                label=_label(second_name),
            )
        ax.set_yticks(y, rows["parameter"].tolist(), fontsize=8)
        ax.invert_yaxis()
        ax.axvline(0.0, color="black", lw=0.8)
        ax.tick_params(axis="x", labelsize=8)
        title = (titles or {}).get(effect, effect)
        ax.set_title(
            f"{title}  [{verdict}]", fontsize=9, loc="left", color=ROBUSTNESS_COLOURS.get(verdict, style.TEXT)
        )
        ax.legend(loc="lower right", fontsize=7, framealpha=0.9)
        for side in ("right", "top"):
            ax.spines[side].set_visible(False)
    axes[-1].set_xlabel(
        "change of the effect across a parameter's range (mean |elementary effect|)"
        if method == "morris"
        else "share of the effect's variance"
    )
    name = "Morris screening" if method == "morris" else "Sobol' indices"
    figure.suptitle(f"Sensitivity of the effects to the free parameters ({name}, 95% intervals)", fontsize=10)
    _tight(figure)
    return figure


def effects_data(points: pd.DataFrame) -> pd.DataFrame:
    """Return the effect at every sample point, in increasing order, from ``sensitivity_points.csv``.

    Args:
        points: One row per effect and point (``name``, ``point``, ``effect``, ``margin``, ``sign``).

    Returns:
        Columns ``name``, ``order`` (0 for the smallest effect of each name), ``point``,
        ``effect``, ``low`` and ``high`` (``effect -/+ margin``; the effect itself where the
        margin is unknown) and ``sign``; points without a value are left out.

    """
    require(points, ("name", "point", "effect", "margin", "sign"), "sensitivity_points")
    rows = points[np.isfinite(points["effect"].to_numpy(float))]
    names = {name: k for k, name in enumerate(dict.fromkeys(points["name"]))}
    rows = rows.assign(_name=rows["name"].map(names)).sort_values(["_name", "effect", "point"], kind="stable")
    margin = rows["margin"].astype(float).fillna(0.0).to_numpy()
    value = rows["effect"].astype(float).to_numpy()
    data = pd.DataFrame(
        {
            "name": rows["name"].astype(str).to_numpy(),
            "order": rows.groupby("_name").cumcount().to_numpy(),
            "point": rows["point"].astype(int).to_numpy(),
            "effect": value,
            "low": value - margin,
            "high": value + margin,
            "sign": rows["sign"].astype(str).to_numpy(),
        }
    )
    return data


@style.literal_text
def plot_effects(data: pd.DataFrame, titles: dict[str, str] | None = None) -> Figure:
    """Draw one panel per effect: the effect at each sample point, sorted, with its noise band."""
    names = list(dict.fromkeys(data["name"]))
    figure = Figure(figsize=(9, 0.6 + 2.3 * max(1, len(names))), dpi=100)
    axes = figure.subplots(max(1, len(names)), 1, squeeze=False)[:, 0]
    for ax, name in zip(axes, names, strict=False):
        rows = data[data["name"] == name]
        ax.axhline(0.0, color="black", lw=0.8)
        for sign, colour in SIGN_COLOURS.items():
            part = rows[rows["sign"] == sign]
            if part.empty:
                continue
            x = part["order"].to_numpy()
            ax.vlines(
                x, part["low"].to_numpy(float), part["high"].to_numpy(float), color=colour, lw=1, alpha=0.6
            )
            ax.plot(x, part["effect"].to_numpy(float), "o", color=colour, markersize=3,
                    label=SIGN_LABELS[sign] + f" ({len(part)})")  # fmt: skip
        ax.set_title((titles or {}).get(name, name), fontsize=9, loc="left")
        ax.set_ylabel("effect (a - b)", fontsize=8)
        ax.tick_params(labelsize=8)
        ax.legend(loc="upper left", fontsize=7, framealpha=0.9)
        for side in ("right", "top"):
            ax.spines[side].set_visible(False)
    axes[-1].set_xlabel("sample points, sorted by the effect (bars: 95% t interval over replications)")
    figure.suptitle("The effect at every point of the sensitivity sample", fontsize=10)
    _tight(figure)
    return figure


def _tight(figure: Figure) -> None:
    """Lay the panels out below the suptitle (0.3 inch kept for it, whatever the figure's height)."""
    figure.tight_layout(rect=(0, 0, 1, 1 - 0.3 / figure.get_figheight()))


def _conf(values: pd.Series) -> Any:
    conf = values.to_numpy(float)
    return np.where(np.isfinite(conf), conf, 0.0)


def _label(measure: str) -> str:
    return {"mu_star": "mu* (95% interval)", "sigma": "sigma", "ST": "ST, total", "S1": "S1, first order"}[
        measure
    ]


def write_sensitivity_charts(
    analysis: Any, out_dir: str | Path, formats: Sequence[str] = ("png", "svg")
) -> list[Path]:
    """Draw both charts of a :class:`sim.sensitivity.SensitivityAnalysis` into ``out_dir``."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    titles = {r.effect.name: f"{r.effect.name}: {r.effect.difference}" for r in analysis.effects}
    charts = []
    table = analysis.table()
    if not table.empty:
        charts.append(("sensitivity", plot_indices(indices_data(table), titles)))
    charts.append(("sensitivity_effects", plot_effects(effects_data(analysis.points_table()), titles)))
    return [path for name, figure in charts for path in style.save_all(figure, out, name, formats)]
