"""The title and the one-sentence caption of every batch chart, from the experiment's own words.

A chart's file name says which chart it is; its caption says what it shows, in the labels the
experiment file gives its arms and metrics. :func:`chart_names` lists the charts an
experiment's metrics give (``envelopes_<metric>``, ``paired_<metric>``, ``sweep_<metric>``)
and :func:`describe` returns ``(title, caption)`` for each name; the charts use the title,
the report prints both under the figure.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sim.charts import layout
from sim.files import safe_name

#: the envelopes drawn when no experiment metrics are given (tables alone): column -> (title, y label)
ENVELOPE_COLUMNS: dict[str, tuple[str, str]] = {
    "consensus_rate": ("Consensus rate per summit", "share of items adopted with no objector"),
    "diluted_share": ("Diluted items per summit", "share of items diluted into a declaration"),
    "mean_rounds": ("Bargaining rounds per item", "mean rounds per item"),
}
FIXED: dict[str, tuple[str, str]] = {
    "outcome_composition": (
        "Outcome of policy items",
        "What became of each arm's policy items over all runs and years: the share adopted by all, adopted "
        "while some members stood aside, diluted into a declaration, blocked and deferred, one panel per "
        "outcome, each on its own scale from 0 (accession steps are not policy items).",
    ),
    "differences": (
        "Claims and their verdicts",
        "Each claim's mean paired difference (arm a \u2212 arm b, runs paired by seed) with its interval at "
        "the "
        "claim's Holm-adjusted level, the line at 0 and the claim's band of differences too small to matter "
        "(shaded), each claim on its own scale and coloured by its verdict; a claim whose differences do not "
        "vary is written in words instead.",
    ),
    "depth_by_area": (
        "Depth of cooperation by issue area",
        "The median depth of cooperation (0\u2013100) reached in each issue area, year by year, one line per "
        "arm, "
        "areas in the order the scenario lists them (spillover order).",
    ),
    "objections": (
        "Objections at the final text, by member",
        "How often each member objected to the final text of an item, summed over the years and averaged "
        "over "
        "the arm's runs, for the states that were members in the arm.",
    ),
    "dissent_by_initiator": (
        "Who dissented from whose items",
        "For each arm, the share of runs in which a member (row) objected to (top) or stood aside from "
        "(bottom) at least one item tabled by the state in the column (chair: accession steps); objected "
        "means it objected to a text tabled for the item and did not stand aside from the final text.",
    ),
    "dissent_by_area": (
        "Who dissented in which issue area",
        "For each arm, the share of runs in which a member (row) objected to (top) or stood aside from "
        "(bottom) at least one item in the issue area of the column (enlargement: accession steps).",
    ),
    "sweep_claims": (
        "Claims at each point of the sweep",
        "Each claim's mean paired difference at each sweep point, against the swept value, with its interval "
        "Holm-adjusted across every claim at every point, the line at 0, the band (shaded) and the verdict's "
        "initial (S supported, C contradicted, E equivalent, I inconclusive, N no variation).",
    ),
}


def _get(metric: Any, key: str) -> Any:
    return metric.get(key) if isinstance(metric, Mapping) else getattr(metric, key, None)


def stems(metrics: Mapping[str, Any]) -> dict[str, str]:
    """Return a file stem per metric name: the name if it is a safe file name, else made safe (and unique)."""
    out: dict[str, str] = {}
    for name in metrics:
        stem, k = safe_name(name), 1
        while stem in out.values():
            k += 1
            stem = f"{safe_name(name)}_{k}"
        out[name] = stem
    return out


def chart_names(metrics: Mapping[str, Any]) -> dict[str, tuple[str, str]]:
    """Return ``{chart name: (kind, metric)}`` for the per-metric charts (kind: envelopes, paired, sweep)."""
    return {
        f"{kind}_{stem}": (kind, name)
        for kind in ("envelopes", "paired", "sweep")
        for name, stem in stems(metrics).items()
    }


def _window(metric: Any) -> str:
    years = _get(metric, "years")
    return f" over {years[0]}\u2013{years[1]}" if years else " over all years"


def _column(metric: Any) -> str:
    column = f"yearly {_get(metric, 'column')}"
    if _get(metric, "table") == "states" and _get(metric, "state"):
        column = f"{_get(metric, 'state')}'s {column}"
    return column


def describe_metric(kind: str, name: str, metric: Any, parameters: Sequence[str] = ()) -> tuple[str, str]:
    """Return the title and caption of a per-metric chart (``envelopes``, ``paired`` or ``sweep``)."""
    label = layout.metric_label(name, metric)
    title = label[:1].upper() + label[1:]
    aggregate = _get(metric, "aggregate") or "mean"
    if kind == "envelopes":
        return title, (
            f"How the {_column(metric)} spreads over the runs of each arm (the metric {name} is its "
            f"{aggregate}"
            f"{_window(metric)}): the line is the mean of the runs, the dark band the middle 50% of runs, "
            "the "
            "light band the middle 90%; where the bands of two arms would overlap, each arm has its own "
            "panel, "
            "with the other arms' means in grey."
        )
    if kind == "paired":
        return f"{title}: paired differences", (
            f"The metric {name} seed by seed: each grey dot is one seed's run in arm a minus the run with "
            "the "
            "same seed in arm b; the coloured dot and bar are the mean difference and its interval (the "
            "claim's "
            "Holm-adjusted interval and verdict where a claim compares the two arms, else a 95% t interval, "
            "which tests nothing), with the claim's band shaded."
        )
    swept = ", ".join(parameters) or "the swept parameter"
    return f"{title} across the sweep", (
        f"The metric {name} at each point of the sweep over {swept}: the mean over the point's runs and its "
        "95% bootstrap interval, per arm, against the swept value."
    )


def describe(
    name: str,
    metrics: Mapping[str, Any] | None = None,
    focal: str = "KAZ",
    parameters: Sequence[str] = (),
) -> tuple[str, str]:
    """Return ``(title, caption)`` of a batch chart by its name (a file stem); a plain title if unknown."""
    if name in FIXED:
        return FIXED[name]
    if name == "balancing_index":
        return f"{focal} balancing index between Russia and China", (
            f"The focal state's ({focal}) balancing index, year by year, as envelopes (line: mean of runs; "
            "bands: "
            "middle 50% and 90% of runs): 1 when it is equally aligned with Russia and China and the two "
            "weigh "
            "equally in the organisation, 0 when it is tied to one; the axis shows the range the runs reach."
        )
    per_metric = chart_names(metrics or {})
    if name in per_metric:
        kind, metric = per_metric[name]
        return describe_metric(kind, metric, (metrics or {})[metric], parameters)
    column = name.removeprefix("envelopes_")
    if column in ENVELOPE_COLUMNS:
        title = ENVELOPE_COLUMNS[column][0]
        return title, (
            f"The yearly {column} over the runs of each arm: the line is the mean of the runs, the bands the "
            "middle 50% and 90% of runs."
        )
    text = name.replace("_", " ")
    return text[:1].upper() + text[1:], ""
