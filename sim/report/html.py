"""The HTML pieces of the report: escaping, numbers, tables, definition lists, verdict badges, the CSS.

Every value from a file or a table goes through :func:`e` (escaped) before it reaches the page;
cells that are numbers are :class:`Num` (right-aligned).
"""

from __future__ import annotations

import html
import json
import math
from collections.abc import Mapping, Sequence
from numbers import Integral, Real
from typing import Any

import pandas as pd

DASH = "\u2013"
MIDDOT = " \u00b7 "
VERDICT_CLASSES = {
    "supported": "v-supported",
    "contradicted": "v-contradicted",
    "equivalent": "v-equivalent",
    "inconclusive": "v-inconclusive",
    "no variation": "v-novariation",
    "insufficient data": "v-insufficient",
}

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
.note { background: #f8f9fa; border-left: 3px solid #ced4da; padding: 0.4rem 0.8rem; }
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
figure img { width: 100%; max-width: 60rem; height: auto; display: block; border: 1px solid #f1f3f5; }
figcaption { font-size: 0.9rem; color: #495057; margin-top: 0.35rem; }
dl.meta { display: grid; grid-template-columns: max-content 1fr; gap: 0.2rem 1rem; margin: 0.5rem 0; }
dl.meta dt { font-weight: 600; }
dl.meta dd { margin: 0; }
""".strip()


class Num(str):
    """A table cell (already escaped HTML) that is right-aligned as a number."""

    __slots__ = ()


def e(text: str) -> str:
    """Escape text for the page (quotes too, so it is safe inside attributes)."""
    return html.escape(text, quote=True)


def missing(value: Any) -> bool:
    """Return True for None and NaN-like values."""
    if value is None:
        return True
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def text(value: Any) -> str:
    """Return plain text for a value of any type (lists joined, mappings as sorted JSON)."""
    if missing(value):
        return DASH
    if isinstance(value, str):
        return value
    if isinstance(value, Mapping):
        return json.dumps(value, sort_keys=True, ensure_ascii=False, default=str)
    if isinstance(value, (list, tuple)):
        return ", ".join(text(v) for v in value)
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, Integral):
        return str(int(value))
    if isinstance(value, Real):
        return num(value)
    return str(value)


def as_float(value: Any) -> float | str:
    """Return the value as a float, or the text to show instead (a dash, or the value itself)."""
    if missing(value):
        return DASH
    try:
        return float(value)
    except (TypeError, ValueError):
        return str(value)


def num(value: Any) -> str:
    """Format a number for a table: three decimals, scientific for tiny values, dash if missing."""
    x = as_float(value)
    if isinstance(x, str):
        return x
    if math.isinf(x):
        return "\u221e" if x > 0 else "\u2212\u221e"
    if x != 0 and abs(x) < 0.001:
        return f"{x:.2e}"
    if round(x, 3) == 0:
        x = 0.0  # no "-0.000"
    return f"{x:,.3f}"


def integer(value: Any) -> str:
    """Format a count: a whole number as such, anything else as :func:`num`."""
    x = as_float(value)
    if isinstance(x, str):
        return x
    return str(int(x)) if x.is_integer() else num(x)


def given(value: Any) -> bool:
    """Return True for a value that is present and not empty text."""
    return not missing(value) and text(value) != ""


def verdict_badge(verdict: Any) -> str:
    """Return a verdict as a coloured badge."""
    label = text(verdict)
    css = VERDICT_CLASSES.get(label.strip().lower(), "v-other")
    return f'<span class="verdict {css}">{e(label)}</span>'


def records(frame: pd.DataFrame | None) -> list[dict[str, Any]]:
    """Return a table's rows as dicts (none for a missing or empty table)."""
    if frame is None or len(frame) == 0:
        return []
    return frame.to_dict(orient="records")


def table(headers: Sequence[str], rows: Sequence[Sequence[str]], empty: str = "None.") -> str:
    """Return an HTML table; cells are already-escaped HTML, ``Num`` cells align right."""
    if not rows:
        return f"<p>{e(empty)}</p>"
    head = "".join(f'<th scope="col">{e(h)}</th>' for h in headers)
    lines = ["<table>", f"<thead><tr>{head}</tr></thead>", "<tbody>"]
    for row in rows:
        cells = "".join(f'<td class="num">{c}</td>' if isinstance(c, Num) else f"<td>{c}</td>" for c in row)
        lines.append(f"<tr>{cells}</tr>")
    lines += ["</tbody>", "</table>"]
    return "\n".join(lines)


def meta_list(items: Sequence[tuple[str, str]]) -> str:
    """Return a definition list; labels are plain text, values already-escaped HTML."""
    entries = "\n".join(f"<dt>{e(label)}</dt><dd>{value}</dd>" for label, value in items)
    return f'<dl class="meta">\n{entries}\n</dl>'
