"""Who dissented from what: the dissent charts (decision log) and the objections heatmap (state table).

- :func:`dissent_data` and :func:`plot_dissent` (charts ``dissent_by_initiator`` and
  ``dissent_by_area``): for each arm, the share of its runs in which a member *objected to*
  an item (objected to a text tabled for it and did not stand aside from the final text: the
  log's ``dissenters`` who are not in ``stood_aside``) or *stood aside from* it (``stood_aside``),
  at least once, by the item's initiator (whose items) or its issue area. Accession items
  count too (initiator ``chair``, area ``enlargement``).
- :func:`objections_data` and :func:`plot_objections` (chart ``objections``): objections at
  the final texts per state and arm, from the state table.

Arms keep the order of the experiment file, never the order in which a table lists them.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.image import AxesImage

from sim.charts import layout, style
from sim.charts.style import require

KINDS: tuple[str, ...] = ("objected", "stood aside")
TARGETS: dict[str, str] = {"initiator": "whose items (initiator)", "area": "issue area of the item"}
CHAIR = "chair"


def _run_key(table: pd.DataFrame) -> str:
    """Return the column that identifies a run (``run_index``, else ``run_id``)."""
    for key in ("run_index", "run_id"):
        if key in table:
            return key
    raise ValueError("table lacks a run id column (run_index or run_id)")


def _codes(column: pd.Series) -> pd.Series:
    """Split ``"A;B"`` cells into lists of codes (empty cells give empty lists)."""
    return column.fillna("").astype(str).map(lambda text: [c for c in text.split(";") if c])


def _events(decisions: pd.DataFrame, by: str) -> pd.DataFrame:
    """Return one row per (run, arm, state, kind, target) in which a state objected or stood aside."""
    run = _run_key(decisions)
    dissenters, aside = _codes(decisions["dissenters"]), _codes(decisions["stood_aside"])
    objected = [[c for c in d if c not in set(s)] for d, s in zip(dissenters, aside, strict=True)]
    parts = []
    for kind, codes in (("objected", objected), ("stood aside", list(aside))):
        frame = pd.DataFrame(
            {
                "run": decisions[run].to_numpy(),
                "arm": decisions["arm"].to_numpy(),
                "target": decisions[by].fillna("").astype(str).to_numpy(),
                "state": codes,
            }
        )
        frame = frame.explode("state").dropna(subset=["state"])
        parts.append(frame.assign(kind=kind))
    return pd.concat(parts, ignore_index=True).drop_duplicates()


def dissent_data(
    decisions: pd.DataFrame,
    arms: Sequence[str],
    by: str = "initiator",
    order: Sequence[str] | None = None,
    members: Mapping[str, Collection[str]] | None = None,
) -> pd.DataFrame:
    """Return, per arm, kind, state and initiator (or area), the share of runs with that dissent.

    Args:
        decisions: The decision log of a batch (``arm``, a run id, ``dissenters``,
            ``stood_aside`` and the ``by`` column).
        arms: Arms to include, in order.
        by: ``"initiator"`` (whose items) or ``"area"``.
        order: The order of the targets (e.g. the scenario's areas); others follow in order of
            code, ``chair`` last.
        members: Per arm, the states that were members in some run; other states get NaN
            (they did not sit at the table), not 0. All states count when None.

    Returns:
        Columns ``arm``, ``kind`` (``objected``, ``stood aside``), ``state``, ``target``,
        ``runs`` (runs with at least one such dissent), ``n_runs`` (the arm's runs in the log)
        and ``share`` (``runs / n_runs``), every combination of the states and targets that
        occur, arms in the given order.

    """
    if by not in TARGETS:
        raise ValueError(f"dissent is drawn by one of {list(TARGETS)}, got {by!r}")
    require(decisions, ("arm", "dissenters", "stood_aside", by), "decisions")
    columns = ["arm", "kind", "state", "target", "runs", "n_runs", "share"]
    rows = decisions[decisions["arm"].isin(list(arms))]
    present = [arm for arm in arms if arm in set(rows["arm"])]
    if rows.empty:
        return pd.DataFrame(columns=columns)
    events = _events(rows, by)
    n_runs = rows.groupby("arm")[_run_key(rows)].nunique()
    states = sorted(set(events["state"]))
    seen = set(rows[by].fillna("").astype(str)) - {""}
    first = [t for t in (order or ()) if t in seen]
    targets = first + sorted(seen - set(first), key=lambda t: (t == CHAIR, t))
    counts = events.groupby(["arm", "kind", "state", "target"]).size()
    index = pd.MultiIndex.from_product(
        [present, list(KINDS), states, targets], names=["arm", "kind", "state", "target"]
    )
    data = counts.reindex(index, fill_value=0).rename("runs").reset_index()
    data["n_runs"] = data["arm"].map(n_runs).astype(int)
    data["share"] = data["runs"] / data["n_runs"]
    if members is not None:
        outside = [
            state not in members.get(arm, ()) for arm, state in zip(data["arm"], data["state"], strict=True)
        ]
        data.loc[outside, "share"] = np.nan
    return data[columns]


def members_by_arm(states: pd.DataFrame | None) -> dict[str, set[str]] | None:
    """Return, per arm, the states that were members in some year of some run (None without a state table)."""
    if states is None or states.empty or "status" not in states:
        return None
    rows = states[states["status"] == "member"]
    return {str(arm): set(group["state"]) for arm, group in rows.groupby("arm")}


def _grid(data: pd.DataFrame, arm: str, kind: str) -> pd.DataFrame:
    rows = data[(data["arm"] == arm) & (data["kind"] == kind)]
    states = list(dict.fromkeys(data["state"]))
    targets = list(dict.fromkeys(data["target"]))
    return rows.pivot(index="state", columns="target", values="share").reindex(index=states, columns=targets)


def _heatmap(ax: Axes, values: np.ndarray, cmap: str, top: float) -> AxesImage:
    """Draw one panel's shares, written in as whole percentages where they are at least 0.5%."""
    ax.set_facecolor(style.NO_DATA)
    image = ax.imshow(np.ma.masked_invalid(values), cmap=cmap, vmin=0, vmax=top, aspect="auto")
    for (i, j), value in np.ndenumerate(values):
        if np.isfinite(value) and value >= 0.005:
            colour = "white" if value > 0.6 * top else "black"
            ax.text(j, i, f"{value:.0%}".rstrip("%"), ha="center", va="center", fontsize=5, color=colour)
    ax.tick_params(length=0)
    for side in ax.spines.values():
        side.set_visible(False)
    return image


@style.paper
def plot_dissent(
    data: pd.DataFrame, by: str = "initiator", labels: Mapping[str, str] | None = None
) -> Figure:
    """Draw heatmaps per arm and kind: states by initiators (or areas), the share of runs.

    Each cell holds the share of the arm's runs in which the state objected to (upper rows) or
    stood aside from (lower rows) at least one item of that initiator or area, written in as a
    percentage where it is at least 1%. Arms run across, at most four to a row; one colour
    scale per kind, from 0 to the largest share.
    """
    arms = list(dict.fromkeys(data["arm"]))
    states = list(dict.fromkeys(data["state"]))
    targets = [t.replace("_", " ") for t in dict.fromkeys(data["target"])]
    groups = layout.arm_groups(arms)
    ncols = max(1, len(groups[0]))
    height = 0.9 + len(KINDS) * len(groups) * (0.55 + 0.17 * max(1, len(states)))
    figure = Figure(figsize=(style.PAGE_WIDTH, height), dpi=100, layout="constrained")
    grid = figure.subplots(len(KINDS) * len(groups), ncols, squeeze=False, sharey=True)
    for k, kind in enumerate(KINDS):
        shares = data.loc[data["kind"] == kind, "share"].to_numpy(dtype=float)
        top = float(np.nanmax(shares)) if np.isfinite(shares).any() and np.nanmax(shares) > 0 else 1.0
        rows = grid[k * len(groups) : (k + 1) * len(groups)]
        image = None
        for row, group in zip(rows, groups, strict=True):
            for ax in row[len(group) :]:
                ax.set_visible(False)
            for ax, arm in zip(row, group, strict=False):
                image = _heatmap(
                    ax, _grid(data, arm, kind).to_numpy(dtype=float), style.DISSENT_MAPS[kind], top
                )
                ax.set_xticks(np.arange(len(targets)), targets, rotation=90, fontsize=6)
                ax.set_yticks(np.arange(len(states)), states, fontsize=6)
                ax.set_title(
                    layout.fit_title(f"{layout.arm_label(arm, labels)}: {kind}", ncols), fontsize=7.5
                )
        if image is not None:
            bar = figure.colorbar(image, ax=list(rows.ravel()), shrink=0.9, pad=0.01)
            bar.set_label(f"share of runs, {kind}\n(scale 0\u2013{top:.0%})", fontsize=7)
            bar.ax.tick_params(labelsize=6)
    layout.note(
        figure,
        f"{TARGETS[by]} \u00b7 rows: the member who dissented \u00b7 cells: % of the arm's runs "
        "(blank: under 1%; grey: not a member in that arm)",
    )
    return figure


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
        sorted by state, then arm in the given order (kept in ``attrs["arms"]``).

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
    data = data[["state", "arm", "objections", "n_runs"]].reset_index(drop=True)
    data.attrs["arms"] = [arm for arm in arms if arm in set(data["arm"])]
    return data


@style.paper
def plot_objections(data: pd.DataFrame, labels: Mapping[str, str] | None = None) -> Figure:
    """Draw a heatmap of objections per run, states by arms (in the file's order), values written in.

    The colour scale runs from 0 to the largest value; if no state objected in any run, the
    chart says so instead of drawing a scale.
    """
    arms = data.attrs.get("arms") or list(dict.fromkeys(data["arm"]))
    grid = data.pivot(index="state", columns="arm", values="objections").reindex(columns=arms)
    values = grid.to_numpy(dtype=float)
    width = min(style.PAGE_WIDTH, 2.4 + 1.2 * max(1, grid.shape[1]))
    figure = Figure(figsize=(width, 1.3 + 0.24 * max(1, grid.shape[0])), dpi=100, layout="constrained")
    ax = figure.subplots()
    finite = values[np.isfinite(values)]
    top = float(finite.max()) if finite.size and finite.max() > 0 else 0.0
    ax.set_facecolor(style.NO_DATA)
    image = ax.imshow(
        np.ma.masked_invalid(values), cmap=style.HEATMAP, vmin=0, vmax=top or 1.0, aspect="auto"
    )
    for (i, j), value in np.ndenumerate(values):
        text = "-" if not np.isfinite(value) else f"{value:.1f}"
        colour = "white" if np.isfinite(value) and top and value > 0.6 * top else "black"
        ax.text(j, i, text, ha="center", va="center", fontsize=7, color=colour)
    ax.set_xticks(np.arange(grid.shape[1]), [layout.arm_label(a, labels) for a in grid.columns], fontsize=7)
    ax.set_yticks(np.arange(grid.shape[0]), grid.index.tolist(), fontsize=7)
    ax.tick_params(length=0)
    if top:
        figure.colorbar(image, ax=ax, label=f"objections per run (scale 0\u2013{top:.3g})", shrink=0.9)
        ax.set_title("Objections at the final text per run (sum over years, mean over runs)")
    else:
        ax.set_title("No member objected at a final text in any run (all values 0)")
    return figure
