"""The sections of the report: how to read it, the experiment, the verdicts, the metrics, a sweep by point.

Each function returns the HTML of one section's body from plain inputs (mappings and
DataFrames); every value is escaped (:mod:`sim.report.html`). Arms and metrics are named by
the labels the experiment file gives them, beside their keys.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd

from sim.analysis.verdicts import rule_text, share_text
from sim.report.html import (
    DASH,
    MIDDOT,
    Num,
    as_float,
    e,
    given,
    integer,
    meta_list,
    missing,
    num,
    records,
    table,
    text,
    verdict_badge,
)

CLAIM_HEADERS = (
    "claim",
    "statement",
    "mean difference [interval] (level)",
    "band",
    "effect size (d_z)",
    "n",
    "verdict",
)
DRAWS = (
    "Paired by posterior draw and seed: the runs were made at draws of a posterior sample (Experiment "
    "section), each draw with seeds of its own; the mean difference is the mean over draws of each draw's "
    "mean difference, and its t interval, at each claim's Holm-adjusted level across the {tested} tested "
    "claims, is taken over those per-draw means, so it carries the uncertainty of the parameters as well "
    "as the noise of the seeds. The last column is the share of draws whose mean difference has the "
    "claimed sign. A verdict describes the model\u2019s runs over the posterior, not the SCO."
)
WEIGHT_DRAWS = (
    " Each draw also perturbs every state's interest weights (Experiment section): the same weights for a "
    "state in every arm of a draw, so the interval carries the uncertainty of the hand-set weights too."
)
WEIGHTS_ONLY = (
    "Paired by draw and seed: every arm ran at perturbations of every state's interest weights (Experiment "
    "section), each draw with seeds of its own and a state's weights the same in every arm of a draw; the "
    "mean difference is the mean over draws of each draw's mean difference, and its t interval, at each "
    "claim's Holm-adjusted level across the {tested} tested claims, is taken over those per-draw means, so "
    "it carries the uncertainty of the hand-set weights as well as the noise of the seeds. The last column "
    "is the share of draws whose mean difference has the claimed sign. A verdict describes the model\u2019s "
    "runs over the perturbed weights, not the SCO."
)
READING: tuple[tuple[str, str], ...] = (
    (
        "paired runs",
        "Every arm runs the same seeds (common random numbers), so the run of arm a and the run of "
        "arm b with the same seed (and sweep point) form a pair and differ only by the arm. A claim is "
        "judged on "
        "the differences a \u2212 b of its pairs.",
    ),
    (
        "mean difference and interval",
        "The mean of the paired differences, with its t interval. The interval's "
        "level is the claim's Holm-adjusted level (e.g. 98.8%), not 95%: with several claims, each is held "
        "to a "
        "stricter level so that the chance of any false supported or contradicted verdict in the file stays "
        "at 5%.",
    ),
    (
        "band",
        "The smallest difference that matters, in the metric's units, stated with its reason in the "
        "experiment file before the runs. Differences inside \u00b1band are too small to matter, however "
        "sure.",
    ),
    (
        "effect size (d_z)",
        "Cohen's d_z: the mean difference divided by the standard deviation of the "
        "differences, i.e. how large the difference is against its seed-to-seed spread. It does not decide "
        "the "
        "verdict (the band does) and is undefined when the differences do not vary.",
    ),
    (
        "no variation",
        "Every pair differs by the same amount (often 0: the two arms give identical runs), so "
        "nothing varies between seeds and nothing is tested; the value is reported as it is, with no "
        "interval.",
    ),
    (
        "metrics table",
        "The mean of each metric over the arm's finished runs, with a 95% percentile bootstrap "
        "interval of the mean (2000 resamples, the same seed as sco-sim compare).",
    ),
)
CALIBRATION = (
    "The shipped scenarios inherit their free parameters from scenarios/history_1996.toml, where 22 of them "
    "(among them the tolerance, the dilution step, trust, spillover, the agenda size, the balancing and "
    "alignment rates and the participation costs) were fitted to the record of 1996\u20132017 only: the "
    "patterns P1\u2013P7 of docs/validation.md (the spillover order of issue areas, security adopted and the "
    "Development Bank blocked, slow enlargement, no endorsement of Russia's recognition of Abkhazia and "
    "South "
    "Ossetia, Kazakhstan multi-vector, a text at every summit, who holds out on finance), by approximate "
    "Bayesian computation with a refinement on fresh seeds (docs/calibration.md). Nothing after 2017 enters "
    "the fit, and seven coarse patterns constrain the parameters only loosely. Interest weights, threats, "
    "rivalries, capabilities, territorial claims and the data baseline of alignment are inputs from the "
    "thesis "
    "and the data, not fitted. The verdicts therefore describe the model's mechanisms at one defensible "
    "point, "
    "not the SCO; docs/findings.md reports which effects hold over the plausible parameter ranges."
)


def _overridden(experiment: Mapping[str, Any]) -> list[str]:
    """Return, per arm that overrides fitted settings, ``arm (key, key)``; and the swept keys."""
    notes = []
    for arm in experiment.get("arms") or []:
        overrides = arm.get("overrides") or {}
        keys = [f"{top}.{key}" for top in ("parameters", "rules") for key in (overrides.get(top) or {})]
        if keys:
            notes.append(f"{text(arm.get('name'))} ({', '.join(keys)})")
    return notes


def reading_section(tested: int, experiment: Mapping[str, Any], parameters: Sequence[str] = ()) -> str:
    """Return how to read the verdicts (the rule, the band, the effect size) and the calibration note."""
    rule = rule_text(tested)
    items = [*READING[:3], ("verdicts", rule[:1].upper() + rule[1:]), *READING[3:]]
    parts = [meta_list([(label, e(body)) for label, body in items])]
    calibration = CALIBRATION
    overridden = _overridden(experiment)
    if overridden:
        calibration += (
            " Arms that override fitted settings run away from the fitted point in those keys: "
            + "; ".join(overridden)
            + "."
        )
    if parameters:
        calibration += f" The sweep moves {', '.join(parameters)} away from the fitted value."
    if isinstance(experiment.get("posterior"), Mapping):
        calibration += (
            " This batch does not run at one point: every arm runs at draws of the posterior sample named "
            "in the Experiment section, in the keys that sample holds."
        )
    parts.append("<h3>What the parameters were fitted to</h3>")
    parts.append(f'<p class="note">{e(calibration)}</p>')
    return "\n".join(parts)


def arm_labels(experiment: Mapping[str, Any]) -> dict[str, str]:
    """Return each arm's label from the experiment (its key where it has none)."""
    return {
        text(arm.get("name")): text(arm.get("label")) if given(arm.get("label")) else text(arm.get("name"))
        for arm in experiment.get("arms") or []
    }


def _labelled(key: Any, label: Any) -> str:
    """Return a key in code type with its label beside it, if the file gives one."""
    cell = f"<code>{e(text(key))}</code>"
    if given(label) and text(label) != text(key):
        cell += f'<br><span class="small">{e(text(label))}</span>'
    return cell


def experiment_section(experiment: Mapping[str, Any]) -> str:
    """Return the description, the settings, the arms and the metric definitions."""
    parts = []
    description = experiment.get("description")
    if description:
        paragraphs = [p.strip() for p in str(description).split("\n\n") if p.strip()]
        parts.extend(f"<p>{e(p)}</p>" for p in paragraphs)
    settings = [
        ("name", e(text(experiment.get("name")))),
        ("file", f"<code>{e(text(experiment.get('file')))}</code>"),
        ("replications per arm", e(text(experiment.get("replications")))),
        ("base seed", e(text(experiment.get("base_seed")))),
    ]
    posterior = experiment.get("posterior")
    if isinstance(posterior, Mapping):  # a batch over posterior draws: which file (its SHA-256), how many
        drawn = f"{len(posterior.get('draws') or [])} of {text(posterior.get('rows'))} draws"
        sha = f"<code>{e(text(posterior.get('sha256')))}</code>"
        source = f"<code>{e(text(posterior.get('file')))}</code> (SHA-256 {sha})"
        settings.append(("posterior", f"{e(drawn)} of {source}, each with seeds of its own"))
    weights = experiment.get("perturb_weights")
    if isinstance(weights, Mapping):  # a batch over perturbations of the interest weights
        spread, seed = text(weights.get("spread")), text(weights.get("seed"))
        settings.append(("interest weights", e(
            f"perturbed at each of {text(weights.get('draws'))} draws: every state's four weights x factors "
            f"uniform in [1 - {spread}, 1 + {spread}], rescaled to their sum (seed {seed})"
        )))  # fmt: skip
    parts.append(meta_list(settings))
    arms = list(experiment.get("arms") or [])
    parts.append("<h3>Arms</h3>")
    rows = [
        [
            e(text(arm.get("name"))),
            e(text(arm.get("label"))) if given(arm.get("label")) else DASH,
            f"<code>{e(text(arm.get('scenario')))}</code>",
            _overrides(arm.get("overrides")),
        ]
        for arm in arms
    ]
    parts.append(table(["arm", "label", "scenario", "overrides"], rows, empty="No arms."))
    definitions = list(experiment.get("metrics") or [])
    if definitions:
        parts.append("<h3>Metric definitions</h3>")
        rows = [
            [e(text(m.get("name"))), e(text(m.get("label"))) if given(m.get("label")) else DASH]
            + [e(text(m.get(key))) for key in ("table", "column")]
            + [e(_aggregate_text(m)), e(text(m.get("years")))]
            for m in definitions
        ]
        parts.append(table(["metric", "label", "table", "column", "aggregate", "years"], rows))
    return "\n".join(parts)


def _aggregate_text(metric: Mapping[str, Any]) -> str:
    """Return the aggregate, with its threshold for ``first_above`` (e.g. ``first_above 0.0``)."""
    out = text(metric.get("aggregate"))
    if metric.get("threshold") is not None:
        out += f" {text(metric['threshold'])}"
    if metric.get("state"):
        out += f" (state {text(metric['state'])})"
    return out


def _overrides(overrides: Any) -> str:
    if missing(overrides) or overrides == {} or overrides == []:
        return '<span class="small">none</span>'
    return f"<code>{e(text(overrides))}</code>"


def difference_text(row: Mapping[str, Any]) -> str:
    """Return the mean difference with its interval and level, or what stands instead of an interval."""
    mean = num(row.get("mean_diff"))
    if text(row.get("verdict")) == "no variation":
        return f"{mean} in every pair"
    if missing(row.get("ci_low")) or missing(row.get("ci_high")):
        return mean
    out = f"{mean} [{num(row.get('ci_low'))}, {num(row.get('ci_high'))}]"
    level = as_float(row.get("ci_level"))
    return out + (f" ({level:.1%})" if isinstance(level, float) else "")


def _effect_text(row: Mapping[str, Any]) -> str:
    if text(row.get("verdict")) == "no variation":
        return "undefined (no variation)"
    return num(row.get("effect_size"))


def _claim_row(row: Mapping[str, Any], labels: Mapping[str, str], draws: bool = False) -> list[str]:
    claim = f"<strong>{e(text(row.get('id')))}</strong>"
    details = [e(text(x)) for x in (row.get("hypothesis"), row.get("label")) if given(x)]
    if details:
        claim += f'<br><span class="small">{MIDDOT.join(details)}</span>'
    a, b = text(row.get("arm_a")), text(row.get("arm_b"))
    comparison = f"{labels.get(a, a)} {text(row.get('op'))} {labels.get(b, b)}"
    statement = (
        f"{e(text(row.get('statement')))}<br>"
        f'<span class="small"><code>{e(text(row.get("metric")))}</code>: {e(comparison)}'
        f" (means {e(num(row.get('mean_a')))} vs {e(num(row.get('mean_b')))})</span>"
    )
    band = f"\u00b1{num(row.get('band'))}"
    if given(row.get("band_reason")):
        band += f'<br><span class="small">{e(text(row.get("band_reason")))}</span>'
    verdict = verdict_badge(row.get("verdict"))
    if given(row.get("note")):
        verdict += f'<br><span class="small">{e(text(row.get("note")))}</span>'
    return [
        claim,
        statement,
        Num(e(difference_text(row))),
        band,
        Num(e(_effect_text(row))),
        Num(e(integer(row.get("n_pairs")))),
        verdict,
        *([Num(e(share_text(row)))] if draws else []),
    ]


def verdicts_section(
    claims: pd.DataFrame, labels: Mapping[str, str], pooled: int = 1, weights: str = ""
) -> str:
    """Return the count of verdicts, a pointer to the rule, and one row per claim.

    ``weights`` says what the draws of a batch over draws were: ``""`` (posterior draws alone),
    ``"only"`` (interest-weight perturbations) or ``"also"`` (both).
    """
    rows = records(claims)
    draws = any(given(row.get("share_claimed_sign")) for row in rows)  # a batch over posterior draws
    parts = []
    if rows:
        counts: dict[str, int] = {}
        for row in rows:
            counts[text(row.get("verdict"))] = counts.get(text(row.get("verdict")), 0) + 1
        known = (
            "supported",
            "contradicted",
            "equivalent",
            "inconclusive",
            "no variation",
            "insufficient data",
        )
        order = [*known, *sorted(v for v in counts if v not in known)]
        summary = ", ".join(f"{counts[v]} {e(v)}" for v in order if v in counts)
        parts.append(f"<p>{len(rows)} claim{'s' if len(rows) != 1 else ''}: {summary}.</p>")
        tested = sum(not missing(row.get("p_holm")) for row in rows)
        intro = (
            f"Paired by seed; intervals at each claim's Holm-adjusted level across the {tested} tested "
            "claims; the rule, the band and the effect size are explained under How to read this report. "
            "A verdict describes the model\u2019s runs at the calibrated parameters, not the SCO."
        )
        if draws:
            intro = WEIGHTS_ONLY.format(tested=tested) if weights == "only" else DRAWS.format(tested=tested)
            intro += WEIGHT_DRAWS if weights == "also" else ""
        if pooled > 1:
            intro += f" These verdicts pool the pairs of all {pooled} sweep points (each: Sweep section)."
        parts.append(f'<p class="small">{e(intro)}</p>')
    table_rows = [_claim_row(row, labels, draws) for row in rows]
    headers = (*CLAIM_HEADERS, "draws with the claimed sign") if draws else CLAIM_HEADERS
    parts.append(table(headers, table_rows, empty="No claims."))
    return "\n".join(parts)


def _metric_cells(
    row: Mapping[str, Any], labels: Mapping[str, str], metric_labels: Mapping[str, str]
) -> list[str]:
    arm = text(row.get("arm"))
    return [
        _labelled(row.get("metric"), metric_labels.get(text(row.get("metric")))),
        f"{e(arm)}"
        + (f'<br><span class="small">{e(labels[arm])}</span>' if labels.get(arm, arm) != arm else ""),
        Num(e(integer(row.get("n")))),
        Num(e(integer(row.get("n_failed")))),
        Num(e(num(row.get("mean")))),
        Num(e(f"[{num(row.get('ci_low'))}, {num(row.get('ci_high'))}]")),
        Num(e(num(row.get("median")))),
        Num(e(num(row.get("sd")))),
    ]


METRIC_HEADERS = ("metric", "arm", "n", "failed", "mean", "95% interval", "median", "sd")


def metrics_section(
    metrics: pd.DataFrame, labels: Mapping[str, str], metric_labels: Mapping[str, str]
) -> str:
    """Return the table of every metric by arm, with the labels of the experiment file."""
    rows = [_metric_cells(row, labels, metric_labels) for row in records(metrics)]
    return table(METRIC_HEADERS, rows, empty="No metrics.")


def sweep_section(
    sweep: Mapping[str, Any], labels: Mapping[str, str], metric_labels: Mapping[str, str]
) -> str:
    """Return the per-point tables of a sweep: every claim and every metric at each point."""
    parameters = [str(p) for p in sweep.get("parameters") or []]
    claims, metrics = records(sweep.get("claims")), records(sweep.get("metrics"))
    n_points = len({row.get("point") for row in metrics} | {row.get("point") for row in claims})
    tested = sum(not missing(row.get("p_holm")) for row in claims)
    intro = (
        f"The runs were repeated at {n_points} points of a sweep over {', '.join(parameters)}. The verdicts "
        "and the metrics by arm above pool all points (pairs are formed within a point); here each point "
        f"stands on its own. Each claim at each point is tested on its own, with Holm's adjustment across "
        f"all {tested} claim \u00d7 point tests, so these intervals are wider than the pooled ones."
    )
    parts = [f"<p>{e(intro)}</p>", "<h3>Claims at each point</h3>"]
    rows = [
        [
            Num(e(integer(r.get("point")))),
            *[Num(e(num(r.get(p)))) for p in parameters],
            f"<strong>{e(text(r.get('id')))}</strong>",
            Num(e(difference_text(r))),
            Num(e(_effect_text(r))),
            Num(e(integer(r.get("n_pairs")))),
            verdict_badge(r.get("verdict")),
        ]
        for r in claims
    ]
    headers = ["point", *parameters, "claim", "mean difference [interval] (level)", "d_z", "n", "verdict"]
    parts.append(table(headers, rows, empty="No claims."))
    parts.append("<h3>Metrics at each point</h3>")
    rows = [
        [
            Num(e(integer(r.get("point")))),
            *[Num(e(num(r.get(p)))) for p in parameters],
            *_metric_cells(r, labels, metric_labels),
        ]
        for r in metrics
    ]
    parts.append(table(["point", *parameters, *METRIC_HEADERS], rows, empty="No metrics."))
    return "\n".join(parts)
