"""A single-file HTML report of one experiment: design, verdicts, metrics, charts, provenance.

The page has no external resources at all: no scripts, no web fonts, no links out. Charts are
embedded as ``data:`` URIs (SVG preferred over PNG when a chart exists in both formats), so the
one ``.html`` file can be mailed, archived or opened offline. The same inputs always give the
same bytes: the only times on the page are those recorded in the manifest.
"""

from __future__ import annotations

import base64
import html
import json
import math
import os
from collections.abc import Iterable, Mapping, Sequence
from numbers import Integral, Real
from pathlib import Path
from typing import Any

import pandas as pd

from sim.analysis.verdicts import rule_text
from sim.files import atomic_write

__all__ = ["write_report"]

DASH = "\u2013"
MIDDOT = " \u00b7 "
CHART_TYPES = {".svg": "image/svg+xml", ".png": "image/png"}
VERDICT_CLASSES = {
    "supported": "v-supported",
    "contradicted": "v-contradicted",
    "equivalent": "v-equivalent",
    "inconclusive": "v-inconclusive",
    "no variation": "v-novariation",
    "insufficient data": "v-insufficient",
}
VERDICT_INTRO = (
    "How to read the verdicts. Each claim compares one metric between two arms on runs paired by seed: "
    "the mean of the paired differences a \u2212 b, with its t interval at the claim\u2019s Holm-adjusted "
    "level; the band is the smallest difference that matters, stated with its reason in the experiment "
    "file; the effect size is Cohen\u2019s d_z (mean difference / standard deviation of the differences). "
)
VERDICT_END = " A verdict describes the model\u2019s runs at the calibrated parameters, not the SCO."
CLAIM_HEADERS = (
    "claim", "statement", "mean difference [interval] (level)", "band", "effect size (d_z)", "n", "verdict",
)  # fmt: skip
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

CSS = """
:root { color-scheme: light; }
body { font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: #212529;
  background: #fff; max-width: 72rem; margin: 0 auto; padding: 1rem 1.5rem 3rem; }
h1 { font-size: 1.6rem; margin: 0.5rem 0 0.25rem; }
h2 { font-size: 1.25rem; margin-top: 2rem; border-bottom: 1px solid #dee2e6; padding-bottom: 0.2rem; }
h3 { font-size: 1.05rem; margin-top: 1.25rem; }
nav { font-size: 0.9rem; color: #495057; }
nav a { margin-right: 0.9rem; color: #1c7ed6; }
table { border-collapse: collapse; margin: 0.5rem 0 1rem; font-size: 0.9rem; }
th, td { border: 1px solid #dee2e6; padding: 0.3rem 0.55rem; text-align: left; vertical-align: top; }
th { background: #f1f3f5; }
td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
code { font: 0.85em ui-monospace, "SFMono-Regular", Menlo, Consolas, monospace; background: #f8f9fa;
  padding: 0 0.2em; overflow-wrap: anywhere; }
.small { font-size: 0.82rem; color: #495057; }
.verdict { display: inline-block; padding: 0.05rem 0.5rem; border-radius: 0.7rem; font-weight: 600;
  white-space: nowrap; border: 1px solid transparent; }
.v-supported { background: #d3f9d8; color: #1b5e20; border-color: #8ce99a; }
.v-contradicted { background: #ffe3e3; color: #a61e1e; border-color: #ffa8a8; }
.v-equivalent { background: #e7f5ff; color: #1c4f7a; border-color: #74c0fc; }
.v-inconclusive { background: #fff3bf; color: #7a5200; border-color: #ffd43b; }
.v-novariation { background: #f3f0ff; color: #4b2f8f; border-color: #b197fc; }
.v-insufficient { background: #e9ecef; color: #343a40; border-color: #ced4da; }
.v-other { background: #f8f9fa; color: #343a40; border-color: #ced4da; }
figure { margin: 1rem 0 2rem; }
figure img { max-width: 100%; height: auto; display: block; border: 1px solid #f1f3f5; }
figcaption { font-size: 0.9rem; color: #495057; margin-top: 0.35rem; }
dl.meta { display: grid; grid-template-columns: max-content 1fr; gap: 0.2rem 1rem; margin: 0.5rem 0; }
dl.meta dt { font-weight: 600; }
dl.meta dd { margin: 0; }
""".strip()


def write_report(
    path: str | os.PathLike[str],
    experiment: Mapping[str, Any],
    claims: pd.DataFrame,
    metrics: pd.DataFrame,
    charts: Sequence[str | os.PathLike[str]],
    manifest: Mapping[str, Any],
) -> Path:
    """Write a self-contained HTML report of one experiment.

    The file is written atomically: the page goes to a temporary file in the target's folder,
    which then replaces the target, so a reader never sees half a report.

    Args:
        path: Where to write the ``.html`` file; missing parent folders are created.
        experiment: The experiment definition: ``name``, ``description``, ``file``, ``arms``
            (each with ``name``, ``scenario``, ``overrides``), ``replications``, ``base_seed``,
            ``metrics`` (each with ``name``, ``table``, ``column``, ``aggregate``, ``years``) and
            ``claims`` (each with ``id``, ``hypothesis``, ``statement``, ``label``).
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

    Returns:
        The path of the written report.

    Raises:
        ValueError: If a chart is neither PNG nor SVG.
        FileNotFoundError: If a chart file does not exist.

    """
    target = Path(path)
    page = render_report(experiment, claims, metrics, charts, manifest)
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
    extra_sections: Sequence[tuple[str, str, str]] = (),
) -> str:
    """Return the report page (a complete HTML5 document) as a string; arguments as :func:`write_report`."""
    name = str(experiment.get("name") or "experiment")
    title = f"{name}: sco-sim experiment report"
    chart_items = _select_charts(charts)
    failures = list(manifest.get("failures") or [])
    sections = [
        ("experiment", "Experiment", _experiment_section(experiment)),
        ("verdicts", "Verdicts", _verdicts_section(claims)),
        ("metrics", "Metrics by arm", _metrics_section(metrics)),
        ("charts", "Charts", _charts_section(chart_items)),
        *extra_sections,
    ]
    if failures:
        sections.append(("failures", "Failures", _failures_section(failures)))
    sections.append(("provenance", "Provenance", _provenance_section(manifest)))

    nav = " ".join(f'<a href="#{anchor}">{_e(heading)}</a>' for anchor, heading, _ in sections)
    body = "\n".join(
        f'<section id="{anchor}">\n<h2>{_e(heading)}</h2>\n{content}\n</section>'
        for anchor, heading, content in sections
    )
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{_e(title)}</title>\n<style>\n{CSS}\n</style>\n</head>\n<body>\n"
        f"<header>\n<h1>{_e(title)}</h1>\n<nav>{nav}</nav>\n</header>\n"
        f"<main>\n{body}\n</main>\n</body>\n</html>\n"
    )


# --- sections ---------------------------------------------------------------------------------


def _experiment_section(experiment: Mapping[str, Any]) -> str:
    parts = []
    description = experiment.get("description")
    if description:
        paragraphs = [p.strip() for p in str(description).split("\n\n") if p.strip()]
        parts.extend(f"<p>{_e(p)}</p>" for p in paragraphs)
    parts.append(
        _meta_list(
            [
                ("name", _e(_text(experiment.get("name")))),
                ("file", f"<code>{_e(_text(experiment.get('file')))}</code>"),
                ("replications per arm", _e(_text(experiment.get("replications")))),
                ("base seed", _e(_text(experiment.get("base_seed")))),
            ]
        )
    )
    arms = list(experiment.get("arms") or [])
    parts.append("<h3>Arms</h3>")
    parts.append(
        _table(
            ["arm", "scenario", "overrides"],
            [
                [
                    _e(_text(arm.get("name"))),
                    f"<code>{_e(_text(arm.get('scenario')))}</code>",
                    _overrides(arm.get("overrides")),
                ]
                for arm in arms
            ],
            empty="No arms.",
        )
    )
    definitions = list(experiment.get("metrics") or [])
    if definitions:
        parts.append("<h3>Metric definitions</h3>")
        parts.append(
            _table(
                ["metric", "table", "column", "aggregate", "years"],
                [
                    [_e(_text(m.get(key))) for key in ("name", "table", "column")]
                    + [_e(_aggregate_text(m)), _e(_text(m.get("years")))]
                    for m in definitions
                ],
            )
        )
    return "\n".join(parts)


def _aggregate_text(metric: dict[str, Any]) -> str:
    """Return the aggregate, with its threshold for ``first_above`` (e.g. ``first_above 0.0``)."""
    text = _text(metric.get("aggregate"))
    if metric.get("threshold") is not None:
        text += f" {_text(metric['threshold'])}"
    return text


def _verdicts_section(claims: pd.DataFrame) -> str:
    rows = _records(claims)
    parts = []
    if rows:
        counts: dict[str, int] = {}
        for row in rows:
            verdict = _text(row.get("verdict"))
            counts[verdict] = counts.get(verdict, 0) + 1
        order = [*VERDICT_CLASSES, *sorted(v for v in counts if v not in VERDICT_CLASSES)]
        summary = ", ".join(f"{counts[v]} {_e(v)}" for v in order if v in counts)
        parts.append(f"<p>{len(rows)} claim{'s' if len(rows) != 1 else ''}: {summary}.</p>")
        tested = sum(not _missing(row.get("p_holm")) for row in rows)
        rule = rule_text(tested)
        parts.append(f'<p class="small">{_e(VERDICT_INTRO + rule[:1].upper() + rule[1:] + VERDICT_END)}</p>')
    table_rows = []
    for row in rows:
        claim = f"<strong>{_e(_text(row.get('id')))}</strong>"
        hypothesis, label = row.get("hypothesis"), row.get("label")
        details = [_e(_text(x)) for x in (hypothesis, label) if not _missing(x)]
        if details:
            claim += f'<br><span class="small">{MIDDOT.join(details)}</span>'
        comparison = " ".join(_text(row.get(key)) for key in ("arm_a", "op", "arm_b"))
        statement = (
            f"{_e(_text(row.get('statement')))}<br>"
            f'<span class="small"><code>{_e(_text(row.get("metric")))}</code>: {_e(comparison)}'
            f" (means {_e(_num(row.get('mean_a')))} vs {_e(_num(row.get('mean_b')))})</span>"
        )
        band = f"\u00b1{_num(row.get('band'))}"
        if not _missing(row.get("band_reason")) and _text(row.get("band_reason")):
            band += f'<br><span class="small">{_e(_text(row.get("band_reason")))}</span>'
        verdict = _verdict_badge(row.get("verdict"))
        if not _missing(row.get("note")) and _text(row.get("note")):
            verdict += f'<br><span class="small">{_e(_text(row.get("note")))}</span>'
        table_rows.append(
            [
                claim,
                statement,
                _Num(_e(_difference_text(row))),
                band,
                _Num(_e(_num(row.get("effect_size")))),
                _Num(_e(_int(row.get("n_pairs")))),
                verdict,
            ]
        )
    parts.append(
        _table(
            CLAIM_HEADERS,
            table_rows,
            empty="No claims.",
        )
    )
    return "\n".join(parts)


def _difference_text(row: Mapping[str, Any]) -> str:
    """Return the mean difference with its interval and level, or what stands instead of an interval."""
    mean = _num(row.get("mean_diff"))
    if _text(row.get("verdict")) == "no variation":
        return f"{mean} in every pair"
    if _missing(row.get("ci_low")) or _missing(row.get("ci_high")):
        return mean
    text = f"{mean} [{_num(row.get('ci_low'))}, {_num(row.get('ci_high'))}]"
    level = _as_float(row.get("ci_level"))
    return text + (f" ({level:.1%})" if isinstance(level, float) else "")


def _metrics_section(metrics: pd.DataFrame) -> str:
    rows = [
        [
            f"<code>{_e(_text(row.get('metric')))}</code>",
            _e(_text(row.get("arm"))),
            _Num(_e(_int(row.get("n")))),
            _Num(_e(_int(row.get("n_failed")))),
            _Num(_e(_num(row.get("mean")))),
            _Num(_e(f"[{_num(row.get('ci_low'))}, {_num(row.get('ci_high'))}]")),
            _Num(_e(_num(row.get("median")))),
            _Num(_e(_num(row.get("sd")))),
        ]
        for row in _records(metrics)
    ]
    return _table(
        ["metric", "arm", "n", "failed", "mean", "95% interval", "median", "sd"],
        rows,
        empty="No metrics.",
    )


def _charts_section(charts: list[tuple[str, Path]]) -> str:
    if not charts:
        return "<p>No charts.</p>"
    figures = []
    for number, (stem, chart) in enumerate(charts, start=1):
        caption = _caption(stem)
        data = base64.b64encode(chart.read_bytes()).decode("ascii")
        mime = CHART_TYPES[chart.suffix.lower()]
        figures.append(
            f'<figure id="chart-{number}" class="chart">\n'
            f'<img src="data:{mime};base64,{data}" alt="{_e("Chart: " + caption)}">\n'
            f"<figcaption>Figure {number}. {_e(caption)} "
            f'<span class="small">(<code>{_e(chart.name)}</code>)</span></figcaption>\n'
            "</figure>"
        )
    return "\n".join(figures)


def _failures_section(failures: Iterable[Mapping[str, Any]]) -> str:
    rows = [
        [
            f"<code>{_e(_text(f.get('run_id')))}</code>",
            _e(_text(f.get("arm"))),
            _Num(_e(_text(f.get("replication")))),
            f"<code>{_e(_text(f.get('error')))}</code>",
        ]
        for f in failures
    ]
    return _table(["run", "arm", "replication", "error"], rows)


def _provenance_section(manifest: Mapping[str, Any]) -> str:
    items = []
    known = {key for key, _ in PROVENANCE_KEYS} | {"failures"}
    for key, label in PROVENANCE_KEYS:
        if key in manifest:
            items.append((label, f"<code>{_e(_text(manifest[key]))}</code>"))
    for key in sorted((k for k in manifest if k not in known), key=str):
        items.append((str(key).replace("_", " "), f"<code>{_e(_text(manifest[key]))}</code>"))
    if not items:
        return "<p>No manifest.</p>"
    return _meta_list(items)


# --- helpers ----------------------------------------------------------------------------------


class _Num(str):
    """A table cell (already escaped HTML) that is right-aligned as a number."""

    __slots__ = ()


def _e(text: str) -> str:
    return html.escape(text, quote=True)


def _missing(value: Any) -> bool:
    if value is None:
        return True
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def _text(value: Any) -> str:
    """Return plain text for a value of any type (lists joined, mappings as sorted JSON)."""
    if _missing(value):
        return DASH
    if isinstance(value, str):
        return value
    if isinstance(value, Mapping):
        return json.dumps(value, sort_keys=True, ensure_ascii=False, default=str)
    if isinstance(value, (list, tuple)):
        return ", ".join(_text(v) for v in value)
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, Integral):
        return str(int(value))
    if isinstance(value, Real):
        return _num(value)
    return str(value)


def _as_float(value: Any) -> float | str:
    """Return the value as a float, or the text to show instead (a dash, or the value itself)."""
    if _missing(value):
        return DASH
    try:
        return float(value)
    except (TypeError, ValueError):
        return str(value)


def _num(value: Any) -> str:
    """Format a number for a table: three decimals, scientific for tiny values, dash if missing."""
    x = _as_float(value)
    if isinstance(x, str):
        return x
    if math.isinf(x):
        return "\u221e" if x > 0 else "\u2212\u221e"
    if x != 0 and abs(x) < 0.001:
        return f"{x:.2e}"
    if round(x, 3) == 0:
        x = 0.0  # no "-0.000"
    return f"{x:,.3f}"


def _int(value: Any) -> str:
    x = _as_float(value)
    if isinstance(x, str):
        return x
    return str(int(x)) if x.is_integer() else _num(x)


def _caption(stem: str) -> str:
    words = stem.replace("_", " ").replace("-", " ").split()
    text = " ".join(words) or stem
    return text[:1].upper() + text[1:]


def _overrides(overrides: Any) -> str:
    if _missing(overrides) or overrides == {} or overrides == []:
        return '<span class="small">none</span>'
    return f"<code>{_e(_text(overrides))}</code>"


def _verdict_badge(verdict: Any) -> str:
    text = _text(verdict)
    css = VERDICT_CLASSES.get(text.strip().lower(), "v-other")
    return f'<span class="verdict {css}">{_e(text)}</span>'


def _records(frame: pd.DataFrame | None) -> list[dict[str, Any]]:
    if frame is None or len(frame) == 0:
        return []
    return frame.to_dict(orient="records")


def _table(headers: Sequence[str], rows: Sequence[Sequence[str]], empty: str = "None.") -> str:
    """Return an HTML table; cells are already-escaped HTML, ``_Num`` cells align right."""
    if not rows:
        return f"<p>{_e(empty)}</p>"
    head = "".join(f'<th scope="col">{_e(h)}</th>' for h in headers)
    lines = ["<table>", f"<thead><tr>{head}</tr></thead>", "<tbody>"]
    for row in rows:
        cells = "".join(f'<td class="num">{c}</td>' if isinstance(c, _Num) else f"<td>{c}</td>" for c in row)
        lines.append(f"<tr>{cells}</tr>")
    lines += ["</tbody>", "</table>"]
    return "\n".join(lines)


def _meta_list(items: Sequence[tuple[str, str]]) -> str:
    """Return a definition list; labels are plain text, values already-escaped HTML."""
    entries = "\n".join(f"<dt>{_e(label)}</dt><dd>{value}</dd>" for label, value in items)
    return f'<dl class="meta">\n{entries}\n</dl>'


def _select_charts(charts: Sequence[str | os.PathLike[str]]) -> list[tuple[str, Path]]:
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
