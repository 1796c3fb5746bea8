"""A single-file HTML report of one experiment: how to read it, design, verdicts, metrics, charts, provenance.

The page has no external resources at all: no scripts, no web fonts, no links out. Charts are
embedded as ``data:`` URIs (SVG preferred over PNG when a chart exists in both formats), so the
one ``.html`` file can be mailed, archived or opened offline. The same inputs always give the
same bytes: the only times on the page are those recorded in the manifest.

The sections are in :mod:`sim.report.sections`, the HTML pieces in :mod:`sim.report.html`.
"""

from __future__ import annotations

import base64
import os
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from sim.files import atomic_write
from sim.report import sections
from sim.report.html import CSS, Num, e, meta_list, missing, records, table, text

__all__ = ["render_report", "write_report"]

CHART_TYPES = {".svg": "image/svg+xml", ".png": "image/png"}
PROVENANCE_KEYS = (
    ("experiment_hash", "experiment hash"),
    ("started", "started"),
    ("finished", "finished"),
    ("python", "Python"),
    ("mesa", "Mesa"),
    ("sco_sim", "sco-sim"),
    ("git_revision", "git revision"),
    ("n_runs", "runs"),
    ("n_failed", "failed runs"),
)


def write_report(
    path: str | os.PathLike[str],
    experiment: Mapping[str, Any],
    claims: pd.DataFrame,
    metrics: pd.DataFrame,
    charts: Sequence[str | os.PathLike[str]],
    manifest: Mapping[str, Any],
    captions: Mapping[str, tuple[str, str]] | None = None,
    sweep: Mapping[str, Any] | None = None,
    extra_sections: Sequence[tuple[str, str, str]] = (),
) -> Path:
    """Write a self-contained HTML report of one experiment.

    The file is written atomically: the page goes to a temporary file in the target's folder,
    which then replaces the target, so a reader never sees half a report.

    Args:
        path: Where to write the ``.html`` file; missing parent folders are created.
        experiment: The experiment definition: ``name``, ``description``, ``file``, ``arms``
            (each with ``name``, ``label``, ``scenario``, ``overrides``), ``replications``,
            ``base_seed``, ``metrics`` (each with ``name``, ``label``, ``table``, ``column``,
            ``aggregate``, ``years``) and ``claims`` (each with ``id``, ``hypothesis``,
            ``statement``, ``label``).
        claims: One row per claim with ``id``, ``hypothesis``, ``label``, ``statement``,
            ``metric``, ``arm_a``, ``arm_b``, ``op``, ``band``, ``band_reason``, ``n_pairs``,
            ``mean_a``, ``mean_b``, ``mean_diff``, ``ci_level``, ``ci_low``, ``ci_high``,
            ``p_holm``, ``effect_size``, ``verdict`` and ``note`` (``sim.analysis.compare``).
        metrics: One row per metric and arm with ``metric``, ``arm``, ``n``, ``n_failed``,
            ``mean``, ``ci_low``, ``ci_high``, ``median`` and ``sd``.
        charts: PNG and/or SVG files. Charts sharing a file stem are one chart; its SVG is
            embedded when there is one, else its PNG. Charts keep the order of first appearance.
        manifest: Provenance of the runs, such as ``experiment_hash``, ``started``,
            ``finished``, ``python``, ``mesa``, ``sco_sim``, ``git_revision``, ``n_runs``,
            ``n_failed`` and ``failures`` (each with ``run_id``, ``arm``, ``replication``,
            ``error``). Further keys are shown too.
        captions: Per chart file stem, its ``(title, caption)`` (``sim.charts.captions``); a chart
            without one is titled from its file name.
        sweep: With a sweep: ``parameters`` (the dotted keys), ``claims`` and ``metrics`` (the
            per-point tables of ``sim.analysis.points``), shown in a Sweep section.
        extra_sections: More sections after the charts, as ``(anchor, heading, HTML)``
            (the scenario-discovery section of :mod:`sim.report_discover`).

    Returns:
        The path of the written report.

    Raises:
        ValueError: If a chart is neither PNG nor SVG.
        FileNotFoundError: If a chart file does not exist.

    """
    target = Path(path)
    page = render_report(experiment, claims, metrics, charts, manifest, captions, sweep, extra_sections)
    target.parent.mkdir(parents=True, exist_ok=True)
    data = page.encode("utf-8")
    atomic_write(target, lambda tmp: Path(tmp).write_bytes(data))
    return target


def render_report(
    experiment: Mapping[str, Any],
    claims: pd.DataFrame,
    metrics: pd.DataFrame,
    charts: Sequence[str | os.PathLike[str]],
    manifest: Mapping[str, Any],
    captions: Mapping[str, tuple[str, str]] | None = None,
    sweep: Mapping[str, Any] | None = None,
    extra_sections: Sequence[tuple[str, str, str]] = (),
) -> str:
    """Return the report page (a complete HTML5 document) as a string; arguments as :func:`write_report`."""
    name = str(experiment.get("name") or "experiment")
    title = f"{name}: sco-sim experiment report"
    chart_items = select_charts(charts)
    failures = list(manifest.get("failures") or [])
    labels = sections.arm_labels(experiment)
    metric_labels = {
        text(m.get("name")): text(m.get("label")) for m in experiment.get("metrics") or [] if m.get("label")
    }
    parameters = list((sweep or {}).get("parameters") or [])
    tested = sum(not missing(row.get("p_holm")) for row in records(claims))
    pooled = len({row.get("point") for row in records((sweep or {}).get("metrics"))}) if sweep else 1
    parts = [
        ("reading", "How to read this report", sections.reading_section(tested, experiment, parameters)),
        ("experiment", "Experiment", sections.experiment_section(experiment)),
        ("verdicts", "Verdicts", sections.verdicts_section(claims, labels, pooled, _weights(experiment))),
        ("metrics", "Metrics by arm", sections.metrics_section(metrics, labels, metric_labels)),
    ]
    if sweep:
        parts.append(("sweep", "Sweep, point by point", sections.sweep_section(sweep, labels, metric_labels)))
    parts.append(("charts", "Charts", _charts_section(chart_items, captions or {})))
    parts.extend(extra_sections)  # (anchor, heading, HTML), e.g. scenario discovery
    if failures:
        parts.append(("failures", "Failures", _failures_section(failures)))
    parts.append(("provenance", "Provenance", _provenance_section(manifest)))

    nav = " ".join(f'<a href="#{anchor}">{e(heading)}</a>' for anchor, heading, _ in parts)
    body = "\n".join(
        f'<section id="{anchor}">\n<h2>{e(heading)}</h2>\n{content}\n</section>'
        for anchor, heading, content in parts
    )
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{e(title)}</title>\n<style>\n{CSS}\n</style>\n</head>\n<body>\n"
        f"<header>\n<h1>{e(title)}</h1>\n<nav>{nav}</nav>\n</header>\n"
        f"<main>\n{body}\n</main>\n</body>\n</html>\n"
    )


def _charts_section(charts: list[tuple[str, Path]], captions: Mapping[str, tuple[str, str]]) -> str:
    if not charts:
        return "<p>No charts.</p>"
    figures = []
    for number, (stem, chart) in enumerate(charts, start=1):
        heading, caption = captions.get(stem) or (_title_from(stem), "")
        data = base64.b64encode(chart.read_bytes()).decode("ascii")
        mime = CHART_TYPES[chart.suffix.lower()]
        sentence = f" {e(caption)}" if caption else ""
        figures.append(
            f'<figure id="chart-{number}" class="chart">\n'
            f'<img src="data:{mime};base64,{data}" alt="{e("Chart: " + heading)}">\n'
            f"<figcaption>Figure {number}. <strong>{e(heading)}.</strong>{sentence} "
            f'<span class="small">(<code>{e(chart.name)}</code>)</span></figcaption>\n'
            "</figure>"
        )
    return "\n".join(figures)


def _failures_section(failures: Iterable[Mapping[str, Any]]) -> str:
    rows = [
        [
            f"<code>{e(text(f.get('run_id')))}</code>",
            e(text(f.get("arm"))),
            Num(e(text(f.get("replication")))),
            f"<code>{e(text(f.get('error')))}</code>",
        ]
        for f in failures
    ]
    return table(["run", "arm", "replication", "error"], rows)


def _provenance_section(manifest: Mapping[str, Any]) -> str:
    items = []
    known = {key for key, _ in PROVENANCE_KEYS} | {"failures"}
    for key, label in PROVENANCE_KEYS:
        if key in manifest:
            items.append((label, f"<code>{e(text(manifest[key]))}</code>"))
    for key in sorted((k for k in manifest if k not in known), key=str):
        items.append((str(key).replace("_", " "), f"<code>{e(text(manifest[key]))}</code>"))
    if not items:
        return "<p>No manifest.</p>"
    return meta_list(items)


def _title_from(stem: str) -> str:
    """Return a readable title from a file stem (for charts the caller gave no caption)."""
    words = stem.replace("_", " ").replace("-", " ").split()
    out = " ".join(words) or stem
    return out[:1].upper() + out[1:]


def select_charts(charts: Sequence[str | os.PathLike[str]]) -> list[tuple[str, Path]]:
    """Return one file per chart stem, SVG preferred, in order of first appearance."""
    chosen: dict[str, Path] = {}
    for chart in charts:
        file = Path(chart)
        suffix = file.suffix.lower()
        if suffix not in CHART_TYPES:
            raise ValueError(f"chart {file} is neither .png nor .svg")
        if not file.is_file():
            raise FileNotFoundError(f"chart {file} does not exist")
        current = chosen.get(file.stem)
        if current is None or (suffix == ".svg" and current.suffix.lower() != ".svg"):
            chosen[file.stem] = file
    return list(chosen.items())


def _weights(experiment: Mapping[str, Any]) -> str:
    """What a batch's interest-weight perturbations are: "" (none), "only", or "also" (with a posterior)."""
    if not isinstance(experiment.get("perturb_weights"), Mapping):
        return ""
    return "also" if isinstance(experiment.get("posterior"), Mapping) else "only"
