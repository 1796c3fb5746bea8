"""Charts of a batch of runs, drawn from stored tables, never from live models.

Each chart has a ``*_data()`` function that returns a tidy DataFrame of numbers (tested
on numbers) and a ``plot_*()`` function that draws that DataFrame and returns a
matplotlib Figure (render-tested with the Agg backend). :func:`write_charts` draws them
all and writes files whose bytes depend only on the data.

The tables are the batch versions of a run's tables: ``model``, ``states`` and
``decisions`` with the id columns ``run_index``, ``run_id``, ``arm``, ``point``,
``replication`` and ``seed`` in front.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from functools import partial
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from sim.charts import style
from sim.charts.style import OUTCOME_COLOURS, OUTCOME_LABELS, VERDICT_COLOURS, require
from sim.rules import OUTCOMES

QUANTILES: dict[str, float] = {"q05": 0.05, "q25": 0.25, "median": 0.5, "q75": 0.75, "q95": 0.95}
ENVELOPE_COLUMNS: dict[str, tuple[str, str]] = {
    "consensus_rate": ("Consensus rate per summit", "share of items adopted with no objector"),
    "diluted_share": ("Diluted items per summit", "share of items diluted into a declaration"),
    "mean_rounds": ("Bargaining rounds per item", "mean rounds per item"),
}
CHART_NAMES: tuple[str, ...] = (
    *(f"envelopes_{c}" for c in ENVELOPE_COLUMNS),
    "outcome_composition", "differences", "balancing_index", "depth_by_area", "objections",
)  # fmt: skip


def _run_key(table: pd.DataFrame) -> str:
    """Return the column that identifies a run (``run_index``, else ``run_id``)."""
    for key in ("run_index", "run_id"):
        if key in table:
            return key
    raise ValueError("table lacks a run id column (run_index or run_id)")


def _in_arms(table: pd.DataFrame, arms: Sequence[str]) -> pd.DataFrame:
    """Keep the rows of the given arms; an arm without rows (all runs failed) is left out."""
    return table[table["arm"].isin(list(arms))]


def _arm_order(data: pd.DataFrame, arms: Sequence[str], by: Sequence[str]) -> pd.DataFrame:
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
    share = np.divide(model["diluted"].to_numpy(dtype=float), items, out=np.full(len(model), np.nan),
                      where=items > 0)  # fmt: skip
    return model.assign(diluted_share=share)


# --- 1. envelopes -------------------------------------------------------------------------------


def envelope_data(model: pd.DataFrame, column: str, arms: Sequence[str]) -> pd.DataFrame:
    """Return, per arm and year, quantiles of a model column across runs.

    Args:
        model: The yearly model table of a batch (``arm``, ``year``, a run id, ``column``).
        column: The column to summarise, e.g. ``"consensus_rate"``.
        arms: Arms to include, in the order of the rows.

    Returns:
        Columns ``arm``, ``year``, ``n`` (runs with a value), ``q05``, ``q25``, ``median``,
        ``q75`` and ``q95`` (linear interpolation between order statistics; runs without a
        value that year, e.g. no items, are left out).

    """
    require(model, ("arm", "year", column), "model")
    columns = ["arm", "year", "n", *QUANTILES]
    rows = _in_arms(model, arms)
    if rows.empty:
        return pd.DataFrame(columns=columns)
    grouped = rows.groupby(["arm", "year"])[column]
    data = grouped.quantile(list(QUANTILES.values())).unstack()
    data.columns = list(QUANTILES)
    data.insert(0, "n", grouped.count())
    return _arm_order(data.reset_index(), arms, ["year"])[columns]


@style.literal_text
def plot_envelopes(data: pd.DataFrame, title: str = "", ylabel: str = "") -> Figure:
    """Draw one envelope per arm: median line, 50% band (q25-q75) and 90% band (q05-q95)."""
    figure, ax = plt.subplots(figsize=(9, 4.8), dpi=100)
    colours = style.arm_colours(data["arm"])
    for arm, colour in colours.items():
        rows = data[data["arm"] == arm]
        years = rows["year"].to_numpy()
        ax.fill_between(years, rows["q05"].to_numpy(float), rows["q95"].to_numpy(float), color=colour,
                        alpha=0.12, lw=0)  # fmt: skip
        ax.fill_between(years, rows["q25"].to_numpy(float), rows["q75"].to_numpy(float), color=colour,
                        alpha=0.3, lw=0)  # fmt: skip
        ax.plot(years, rows["median"].to_numpy(float), color=colour, lw=2, label=f"{arm} (median)")
    ax.plot([], [], color=style.BAND, alpha=0.45, lw=8, label="50% of runs")
    ax.plot([], [], color=style.BAND, alpha=0.15, lw=8, label="90% of runs")
    ax.set_xlabel("year")
    ax.set_ylabel(ylabel)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.legend(loc="best", fontsize=8, framealpha=0.9)
    if title:
        ax.set_title(title, fontsize=10)
    figure.tight_layout()
    return figure


# --- 2. outcome composition ---------------------------------------------------------------------


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
    rows = _in_arms(decisions, arms)
    if "origin" in rows:
        rows = rows[rows["origin"] != "membership"]
    present = [a for a in arms if a in set(decisions["arm"])]
    counts = rows.groupby(["arm", "outcome"]).size()
    index = pd.MultiIndex.from_product([present, list(OUTCOMES)], names=["arm", "outcome"])
    data = counts.reindex(index, fill_value=0).rename("count").astype(int).reset_index()
    totals = data.groupby("arm")["count"].transform("sum").to_numpy(dtype=float)
    data["share"] = np.divide(data["count"].to_numpy(dtype=float), totals, out=np.zeros(len(data)),
                              where=totals > 0)  # fmt: skip
    return data


@style.literal_text
def plot_outcome_composition(data: pd.DataFrame) -> Figure:
    """Draw one stacked horizontal bar per arm: the shares of the outcome classes."""
    arms = list(dict.fromkeys(data["arm"]))
    figure, ax = plt.subplots(figsize=(9, 1.2 + 0.6 * max(1, len(arms))), dpi=100)
    y = np.arange(len(arms))
    left = np.zeros(len(arms))
    for outcome in OUTCOMES:
        share = data[data["outcome"] == outcome].set_index("arm")["share"].reindex(arms).fillna(0.0)
        values = share.to_numpy(dtype=float)
        ax.barh(y, values, left=left, color=OUTCOME_COLOURS[outcome], label=OUTCOME_LABELS[outcome],
                height=0.6)  # fmt: skip
        for k, value in enumerate(values):
            if value >= 0.06:
                ax.text(left[k] + value / 2, y[k], f"{value:.0%}", ha="center", va="center", fontsize=8,
                        color="white")  # fmt: skip
        left += values
    ax.set_yticks(y, arms)
    ax.invert_yaxis()
    ax.set_xlim(0, 1)
    ax.set_xlabel("share of policy items (all runs)")
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.35 if len(arms) < 3 else -0.2), ncols=5,
              fontsize=8, frameon=False)  # fmt: skip
    ax.set_title("Outcome of policy items", fontsize=10)
    figure.tight_layout()
    return figure


# --- 3. claimed differences ---------------------------------------------------------------------


def differences_data(claims_table: pd.DataFrame) -> pd.DataFrame:
    """Return the interval of each claim's mean difference, from ``compare.evaluate_claims``.

    Args:
        claims_table: One row per claim (``id``, ``mean_diff``, ``ci_low``, ``ci_high``,
            ``verdict``; ``label``, ``statement`` and ``band`` if present).

    Returns:
        Columns ``claim`` (the id), ``label`` (the claim's label, else its statement),
        ``mean_diff``, ``ci_low``, ``ci_high`` (the interval at the claim's Holm-adjusted level),
        ``band`` (NaN if the table has none) and ``verdict``, in the order of the claims.

    """
    require(claims_table, ("id", "mean_diff", "ci_low", "ci_high", "verdict"), "claims")
    label = pd.Series("", index=claims_table.index, dtype=object)
    for column in ("statement", "label"):  # the label wins where it is given
        if column in claims_table:
            text = claims_table[column].fillna("").astype(str)
            label = text.where(text != "", label)
    band = claims_table["band"].astype(float) if "band" in claims_table else np.nan
    return pd.DataFrame(
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


@style.literal_text
def plot_differences(data: pd.DataFrame) -> Figure:
    """Draw each claim's mean difference (a - b) with its interval and band, coloured by verdict.

    Claims compare metrics in different units (rates, counts, rounds), so each claim
    gets its own row with its own horizontal scale, always showing zero and the band of
    practical equivalence (shaded). A claim with no variation is a dot with no interval.
    """
    n = max(1, len(data))
    figure, axes = plt.subplots(n, 1, figsize=(9, 0.9 + 0.85 * n), dpi=100, squeeze=False)
    for ax, row in zip(axes[:, 0], data.itertuples(index=False), strict=False):
        colour = VERDICT_COLOURS.get(row.verdict, style.TEXT)
        band = float(getattr(row, "band", np.nan))
        if np.isfinite(band):
            ax.axvspan(-band, band, color=style.BAND_FILL, lw=0)
        ax.axvline(0.0, color="black", lw=1)
        finite = np.isfinite(row.ci_low) and np.isfinite(row.ci_high) and row.verdict != "no variation"
        if finite:
            ax.plot([row.ci_low, row.ci_high], [0, 0], color=colour, lw=4, solid_capstyle="butt")
        ax.plot([row.mean_diff], [0], "o", color=colour, markersize=8)
        values = [0.0, row.mean_diff] + ([row.ci_low, row.ci_high] if finite else [])
        values += [-band, band] if np.isfinite(band) else []
        values = [v for v in values if np.isfinite(v)]
        low, high = min(values), max(values)
        pad = 0.15 * (high - low) if high > low else 1.0
        ax.set_xlim(low - pad, high + pad)
        ax.set_yticks([])
        title = f"{row.claim}: {row.label}" if row.label else row.claim
        ax.set_title(f"{title}  [{row.verdict}]", fontsize=8.5, loc="left", color=colour)
        ax.tick_params(axis="x", labelsize=8)
        for side in ("left", "right", "top"):
            ax.spines[side].set_visible(False)
    figure.suptitle(
        "Claims: paired mean difference (arm a - arm b) with its Holm-adjusted interval; shaded: the band",
        fontsize=10,
    )
    figure.tight_layout()
    return figure


# --- 4. balancing -------------------------------------------------------------------------------


def balancing_data(model: pd.DataFrame, arms: Sequence[str]) -> pd.DataFrame:
    """Return the envelope of the focal state's ``balancing_index`` (see :func:`envelope_data`)."""
    return envelope_data(model, "balancing_index", arms)


@style.literal_text
def plot_balancing(data: pd.DataFrame, focal: str = "KAZ") -> Figure:
    """Draw the envelopes of the focal state's balancing index on a 0-1 axis."""
    figure = plot_envelopes(data, title=f"{focal} balancing index between Russia and China".strip(),
                            ylabel="balancing index, 0-1")  # fmt: skip
    figure.axes[0].set_ylim(0, 1)
    return figure


# --- 5. depth by area ---------------------------------------------------------------------------


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
    rows = _in_arms(model, arms)
    medians = rows.groupby(["arm", "year"])[depth_columns].median()
    medians.columns = areas
    data = medians.reset_index().melt(id_vars=["arm", "year"], var_name="area", value_name="median_depth")
    rank = {area: k for k, area in enumerate(areas)}
    data = data.assign(_area=data["area"].map(rank))
    return _arm_order(data, arms, ["_area", "year"]).drop(columns="_area")


@style.literal_text
def plot_depth(data: pd.DataFrame) -> Figure:
    """Draw one panel per arm with one line per issue area (median depth across runs)."""
    arms = list(dict.fromkeys(data["arm"]))
    areas = list(dict.fromkeys(data["area"]))
    colours = style.area_colours()
    figure, axes = plt.subplots(1, max(1, len(arms)), figsize=(4.5 * max(1, len(arms)) + 2.2, 4.6), dpi=100,
                                sharey=True, squeeze=False)  # fmt: skip
    for ax, arm in zip(axes[0], arms, strict=False):
        rows = data[data["arm"] == arm]
        for k, area in enumerate(areas):
            line = rows[rows["area"] == area]
            ax.plot(line["year"].to_numpy(), line["median_depth"].to_numpy(float), lw=1.8,
                    color=colours[k % 20], label=area.replace("_", " "))  # fmt: skip
        ax.set_title(arm, fontsize=10)
        ax.set_xlabel("year")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    axes[0][0].set_ylabel("depth of cooperation, median of runs (0-100)")
    axes[0][-1].legend(loc="upper left", bbox_to_anchor=(1.02, 1), fontsize=8, frameon=False,
                       title="area (spillover order)", title_fontsize=8)  # fmt: skip
    figure.tight_layout()
    return figure


# --- 6. objections ------------------------------------------------------------------------------


def objections_data(states: pd.DataFrame, arms: Sequence[str], members_only: bool = True) -> pd.DataFrame:
    """Return each state's objections per run in each arm: summed over years, averaged over runs.

    Args:
        states: The yearly state table of a batch (``arm``, a run id, ``state``,
            ``objections``; ``status`` for ``members_only``).
        arms: Arms to include, in the order of the columns of the chart.
        members_only: Keep a state in an arm only if it is a member in some year of some run
            of that arm (observers and partners do not take part in decisions).

    Returns:
        Columns ``state``, ``arm``, ``objections`` (mean over the arm's runs of the sum
        over years; a run in which the state does not appear counts 0) and ``n_runs``,
        sorted by state, then arm in the given order.

    """
    require(states, ("arm", "state", "objections", *(("status",) if members_only else ())), "states")
    run = _run_key(states)
    parts = []
    for rank, arm in enumerate(arms):
        rows = states[states["arm"] == arm]
        if rows.empty:
            continue
        # runs x states, 0 where a state is absent from a run
        totals = rows.pivot_table(
            index=run, columns="state", values="objections", aggfunc="sum", fill_value=0
        )
        part = pd.DataFrame(
            {
                "state": totals.columns.astype(str),
                "arm": arm,
                "objections": totals.mean(axis=0).to_numpy(dtype=float),
                "n_runs": len(totals),
                "_rank": rank,
            }
        )
        if members_only:
            part = part[part["state"].isin(set(rows.loc[rows["status"] == "member", "state"]))]
        parts.append(part)
    if not parts:
        return pd.DataFrame(columns=["state", "arm", "objections", "n_runs"])
    data = pd.concat(parts, ignore_index=True).sort_values(["state", "_rank"], kind="stable")
    return data[["state", "arm", "objections", "n_runs"]].reset_index(drop=True)


@style.literal_text
def plot_objections(data: pd.DataFrame) -> Figure:
    """Draw a heatmap of objections per run, states by arms, with the values written in."""
    grid = data.pivot(index="state", columns="arm", values="objections")
    grid = grid[list(dict.fromkeys(data["arm"]))]
    values = grid.to_numpy(dtype=float)
    figure, ax = plt.subplots(figsize=(2.2 + 1.3 * max(1, grid.shape[1]), 1.2 + 0.42 * max(1, grid.shape[0])),
                              dpi=100)  # fmt: skip
    finite = values[np.isfinite(values)]
    top = float(finite.max()) if finite.size and finite.max() > 0 else 1.0
    image = ax.imshow(np.ma.masked_invalid(values), cmap=style.HEATMAP, vmin=0, vmax=top, aspect="auto")
    for (i, j), value in np.ndenumerate(values):
        text = "-" if not np.isfinite(value) else f"{value:.1f}"
        colour = "white" if np.isfinite(value) and value > 0.6 * top else "black"
        ax.text(j, i, text, ha="center", va="center", fontsize=8, color=colour)
    ax.set_xticks(np.arange(grid.shape[1]), grid.columns.tolist())
    ax.set_yticks(np.arange(grid.shape[0]), grid.index.tolist())
    ax.set_title("Objections per run (sum over years, mean over runs)", fontsize=10)
    figure.colorbar(image, ax=ax, label="objections per run")
    figure.tight_layout()
    return figure


# --- writing ------------------------------------------------------------------------------------


def write_charts(
    tables: Mapping[str, pd.DataFrame],
    claims_table: pd.DataFrame | None,
    arms: Sequence[str],
    out_dir: str | Path,
    formats: Sequence[str] = ("png", "svg"),
    focal: str = "KAZ",
    only: Sequence[str] | None = None,
) -> list[Path]:
    """Draw every batch chart and write each as ``<name>.<format>`` into ``out_dir``.

    A chart whose input table is missing or empty (for example no claims), or has no rows
    for the arms, is skipped.
    The charts, in order: ``envelopes_consensus_rate``, ``envelopes_diluted_share``,
    ``envelopes_mean_rounds`` (from ``tables["model"]``), ``outcome_composition``
    (``tables["decisions"]``), ``differences`` (``claims_table``), ``balancing_index`` and
    ``depth_by_area`` (``tables["model"]``) and ``objections`` (``tables["states"]``).

    Args:
        tables: The batch tables by name: ``"model"``, ``"states"``, ``"decisions"``.
        claims_table: The result of ``compare.evaluate_claims``, or None.
        arms: Arms to draw, in order.
        out_dir: Directory to write into (created if needed).
        formats: File formats, each ``"png"`` or ``"svg"``.
        focal: The focal state named on the balancing chart.
        only: Chart families to draw (``envelopes``, ``outcome_composition``, ``differences``,
            ``balancing_index``, ``depth_by_area``, ``objections``); all when None.

    Returns:
        The paths written, chart by chart in the order above, format by format.

    Raises:
        ValueError: If a format is not supported or a table lacks a column a chart needs.

    """
    style.check_formats(formats)
    # Data are computed before anything is drawn, so a bad table fails before any file is written.
    charts = _chart_list(tables, claims_table, arms, focal)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths: list[Path] = []
    for name, data, draw in charts:
        family = "envelopes" if name.startswith("envelopes_") else name
        if data.empty or (only is not None and family not in only):  # empty: no rows for these arms
            continue
        paths.extend(style.save_all(draw(data), out, name, formats))
    return paths


def _chart_list(
    tables: Mapping[str, pd.DataFrame], claims_table: pd.DataFrame | None, arms: Sequence[str], focal: str
) -> list[tuple[str, pd.DataFrame, Callable[[pd.DataFrame], Figure]]]:
    """Return the name, data and drawing function of every chart the tables allow, in order."""
    model, decisions, states = (tables.get(name) for name in ("model", "decisions", "states"))
    charts: list[tuple[str, pd.DataFrame, Callable[[pd.DataFrame], Figure]]] = []
    if model is not None and not model.empty:
        model = with_diluted_share(model)
        for column, (title, ylabel) in ENVELOPE_COLUMNS.items():
            draw = partial(plot_envelopes, title=title, ylabel=ylabel)
            charts.append((f"envelopes_{column}", envelope_data(model, column, arms), draw))
    if decisions is not None and not decisions.empty:
        charts.append(
            ("outcome_composition", outcome_composition_data(decisions, arms), plot_outcome_composition)
        )
    if claims_table is not None and not claims_table.empty:
        charts.append(("differences", differences_data(claims_table), plot_differences))
    if model is not None and not model.empty:
        charts.append(("balancing_index", balancing_data(model, arms), partial(plot_balancing, focal=focal)))
        charts.append(("depth_by_area", depth_data(model, arms), plot_depth))
    if states is not None and not states.empty:
        charts.append(("objections", objections_data(states, arms), plot_objections))
    return charts
