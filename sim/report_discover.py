"""The report's "Scenario discovery" section, from what ``sco-sim discover`` wrote into a results folder.

Kept apart from :mod:`sim.report` (which it does not import): the section is built here, as
already-escaped HTML, and handed to :func:`sim.report.render_report` as one more section.
A results folder without ``discover/discover.json`` has no such section.
"""

from __future__ import annotations

import base64
import html
import json
from pathlib import Path
from typing import Any

__all__ = ["FOLDER", "discover_section"]

FOLDER = "discover"  # RESULTS/discover/: where `sco-sim discover` writes by default
CHART = "discover_tradeoff"
INTRO = (
    "Scenario discovery looks for the ranges of the swept inputs under which an outcome of "
    "interest occurs. Each box gives a range per input. Coverage is the share of the runs with "
    "the outcome that fall in the box; density is the share of the runs in the box that have "
    "the outcome. PRIM (patient rule induction) peels the input space a little at a time; the box "
    "reported has the highest coverage among the boxes of its peeling trajectory that reach the "
    "density asked for. CART (a classification tree) reports each leaf whose density reaches it. "
    "Both come from the EMA Workbench. The boxes describe the model's runs over the "
    "swept ranges, not the SCO."
)


def discover_section(folder: str | Path) -> tuple[str, str, str] | None:
    """Return ``(anchor, heading, html)`` for the report, or None if the folder has no discover result."""
    out = Path(folder) / FOLDER
    try:
        result = json.loads((out / "discover.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(result, dict) or "boxes" not in result:
        return None
    return "discover", "Scenario discovery", _render(result, out)


def _render(result: dict[str, Any], out: Path) -> str:
    n_runs = int(result.get("n_runs") or 0)
    k = int(result.get("n_outcome") or 0)
    share = f" ({k / n_runs:.1%})" if n_runs else ""
    arm = f" of arm <code>{_e(result['arm'])}</code>" if result.get("arm") else ""
    undefined = int(result.get("n_undefined") or 0)
    settings = result.get("settings") or {}
    versions = result.get("versions") or {}
    parts = [
        f"<p>{_e(INTRO)}</p>",
        f"<p>Outcome: <code>{_e(str(result.get('outcome', '')))}</code>. It holds in {k} of {n_runs} "
        f"runs{arm}{share}"
        + (f"; {undefined} run(s) are left out, the outcome being undefined for them" if undefined else "")
        + f". Inputs: {', '.join(f'<code>{_e(str(i))}</code>' for i in result.get('inputs', []))}. "
        f"Density asked for: {_e(str(settings.get('density', '')))}; smallest box: "
        f"{_e(str(settings.get('mass_min', '')))} of the runs. EMA Workbench "
        f"{_e(str(versions.get('ema_workbench', '?')))}.</p>",
    ]
    parts.append(_boxes_table(result["boxes"]))
    parts.append(
        '<p class="small">The full table, every input of every box with the quasi-p values of PRIM\'s '
        f"limits, is <code>{FOLDER}/boxes.csv</code>; the peeling trajectory is "
        f"<code>{FOLDER}/peeling.csv</code>; "
        f"each run's inputs and outcome are in <code>{FOLDER}/runs.csv</code>.</p>"
    )
    chart = next((p for p in (out / f"{CHART}.svg", out / f"{CHART}.png") if p.is_file()), None)
    if chart is not None:
        mime = "image/svg+xml" if chart.suffix == ".svg" else "image/png"
        data = base64.b64encode(chart.read_bytes()).decode("ascii")
        caption = (
            "Trade-off between coverage and density along PRIM's peeling trajectory: each point is a "
            "box, coloured by the number of inputs it restricts; the ringed point is the box reported; "
            "crosses are CART's leaves."
        )
        parts.append(
            '<figure id="chart-discover" class="chart">\n'
            f'<img src="data:{mime};base64,{data}" alt="{_e("Chart: " + caption)}">\n'
            f"<figcaption>{_e(caption)} "
            f'<span class="small">(<code>{_e(chart.name)}</code>)</span></figcaption>\n</figure>'
        )
    return "\n".join(parts)


def _boxes_table(boxes: list[dict[str, Any]]) -> str:
    """One row per box: method and number, coverage, density, mass, runs, and its ranges in words."""
    rows = []
    for box in boxes:
        note = "" if box.get("meets_density", True) else " (below the density asked for: the densest box)"
        rows.append(
            "<tr>"
            f"<td>{_e(str(box.get('method')))} {int(box.get('box', 0))}</td>"
            f'<td class="num">{_f(box.get("coverage"))}</td>'
            f'<td class="num">{_f(box.get("density"))}</td>'
            f'<td class="num">{_f(box.get("mass"))}</td>'
            f'<td class="num">{int(box.get("n_outcome", 0))} of {int(box.get("n_runs", 0))}</td>'
            f"<td><code>{_e(str(box.get('ranges') or ''))}</code>{_e(note)}</td>"
            "</tr>"
        )
    if not rows:
        return "<p>No box.</p>"
    headers = ("box", "coverage", "density", "mass", "runs with the outcome", "ranges")
    head = "".join(f'<th scope="col">{h}</th>' for h in headers)
    return f"<table>\n<thead><tr>{head}</tr></thead>\n<tbody>\n" + "\n".join(rows) + "\n</tbody>\n</table>"


def _e(text: str) -> str:
    return html.escape(text, quote=True)


def _f(value: Any) -> str:
    try:
        return f"{float(value):.3f}"
    except (TypeError, ValueError):
        return "\u2013"
