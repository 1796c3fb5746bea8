"""What the dashboard shows, as text and HTML built from a model's tables (no Solara here).

:func:`summit_table` is the decision log of one year as an HTML table, dissent included
(who dissented, stood aside or blocked, and the interest behind each objection);
:func:`settings_lines` says what the model runs with: scenario, seed, rule, tolerance, the
chosen state's weights against the file's, the rivalry set, and any input ignored.
"""

from __future__ import annotations

from html import escape
from typing import TYPE_CHECKING

from sim.dashboard.model import base_scenario
from sim.scenario import INTERESTS, interest_weights

if TYPE_CHECKING:
    import pandas as pd

    from sim.dashboard.model import DashboardModel

#: the summit table's columns: heading -> the decision log's columns shown in it
SUMMIT_COLUMNS: dict[str, tuple[str, ...]] = {
    "item": ("title",),
    "by": ("initiator",),
    "ambition": ("status_quo", "proposed", "adopted"),
    "outcome": ("outcome", "rounds"),
    "dissenters": ("dissenters",),
    "stood aside": ("stood_aside",),
    "blocked by": ("blocked_by",),
    "reasons": ("reasons",),
}
#: what the headings mean (their tooltips)
SUMMIT_NOTES: dict[str, str] = {
    "by": "the state that tabled the item (chair: an enlargement step)",
    "ambition": "0-100: the status quo > the text proposed > the text adopted (- if none)",
    "outcome": "the outcome class, and the rounds of redrafting it took",
    "dissenters": "members that objected to the final text",
    "stood aside": "members that did not join the adopted text (opt-outs)",
    "blocked by": "members whose objection kept the item from passing",
    "reasons": "each dissenter's or abstainer's interest that drove its loss",
}


def _cell(row: pd.Series, columns: tuple[str, ...]) -> str:
    """One cell's HTML: lists of states one per line, ambitions as ``36.9 > 75.0 > 56.8``."""
    first = columns[0]
    if first == "status_quo":
        return " &gt; ".join("-" if row[c] != row[c] else f"{row[c]:.1f}" for c in columns)  # NaN: none
    if first == "outcome":
        rounds = int(row["rounds"])
        return f"{escape(str(row['outcome']))}<br>{rounds} round{'' if rounds == 1 else 's'}"
    text = str(row[first])
    separator = "<br>" if first == "reasons" else " "
    return separator.join(escape(part.replace(":", ": ")) for part in text.split(";"))


def summit_table(decisions: pd.DataFrame, year: int) -> str:
    """Return the items decided in ``year`` as an HTML table (one row per item, its area as a tooltip)."""
    rows = decisions[decisions["year"] == year]
    head = "".join(
        f'<th title="{escape(SUMMIT_NOTES.get(label, ""), quote=True)}">{escape(label)}</th>'
        for label in SUMMIT_COLUMNS
    )
    body = []
    for _, row in rows.iterrows():
        cells = "".join(
            f'<td class="sco-{columns[0]}">{_cell(row, columns)}</td>' for columns in SUMMIT_COLUMNS.values()
        )
        area = escape(f"area: {row['area']}", quote=True)
        body.append(f'<tr class="sco-{escape(str(row["outcome"]))}" title="{area}">{cells}</tr>')
    if not body:
        body.append(f'<tr><td colspan="{len(SUMMIT_COLUMNS)}">no item was tabled in {year}</td></tr>')
    return (
        f'<table class="sco-summit-table" data-year="{year}"><thead><tr>{head}</tr></thead>'
        f"<tbody>{''.join(body)}</tbody></table>"
    )


def settings_lines(model: DashboardModel) -> tuple[list[str], list[str]]:
    """Return what the model runs with (one line each) and the page's inputs it ignored, and why."""
    s = model.dashboard
    scenario = model.sco_scenario
    lines = [
        f"{scenario.name} ({scenario.start_year}-{scenario.end_year}), seed {s.seed}",
        f"decision rule {scenario.rules.decision_rule}, tolerance {scenario.rules.tolerance:.3f}",
    ]
    if s.weights_of in model.index:
        i = model.index[s.weights_of]
        weights = ", ".join(f"{k} {w:.2f}" for k, w in zip(INTERESTS, model.weights[i].tolist(), strict=True))
        lines.append(f"weights of {s.weights_of}: {weights}")
        if "weights" in s.overrides.get("states", {}).get(s.weights_of, {}):
            written = interest_weights(base_scenario(s.scenario_file).states[s.weights_of])
            before = ", ".join(f"{w:.2f}" for w in written)
            lines.append(f"(in the file: {before}; shifted, then rescaled to sum 1)")
    for code, changes in s.overrides.get("states", {}).items():
        for other in changes.get("rivalries", {}):
            if code < other and other in model.index:
                level = model.rivalry[model.index[code], model.index[other]]
                lines.append(f"rivalry {code}-{other} in force now: {level:.2f}")
    lines.append(f"next summit: {model.year}" if model.running else "the run is over: Reset starts it again")
    return lines, list(s.notes)


def settings_html(model: DashboardModel) -> str:
    """Return :func:`settings_lines` as HTML: a list, the ignored inputs in a second one."""
    lines, ignored = settings_lines(model)
    items = "".join(f"<li>{escape(line)}</li>" for line in lines)
    notes = "".join(f"<li>ignored: {escape(note)}</li>" for note in ignored)
    extra = f'<ul class="sco-ignored">{notes}</ul>' if notes else ""
    return f'<ul class="sco-in-force">{items}</ul>{extra}'
