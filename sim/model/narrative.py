"""Summits told in plain sentences, from the decision record of one run.

:func:`narrate` reads a run's tables (``decisions``; ``texts``, ``model`` and ``states``
where present) and tells each year's summit: who tabled what, at which level against the
status quo; who objected to which texts and why (the largest part of its loss, the
``reasons`` column, and from the ``texts`` table that loss against the member's tolerance);
how the text was redrafted; who stood aside or blocked; what was decided; and the
accession steps and changes of status. Without a ``texts`` table the sentences keep to
what the decision log says (who dissented and why, who stood aside and blocked, how many
texts), without losses, tolerances or the levels of the redrafts.

``RunResult.narrate(year)`` and ``sco-sim narrate`` (:mod:`sim.analysis.narrate`) call it.
Nothing here is computed anew: every figure is read from the tables.
"""

from __future__ import annotations

import math
import textwrap
from collections.abc import Mapping
from typing import Any

import pandas as pd

from sim.errors import NarrateError
from sim.scenario import INTERESTS

WIDTH = 100  # characters per line of the narrative
OUTCOME_WORDS = {
    "adopted": "adopted",
    "adopted_opt_out": "adopted with stand-asides",
    "diluted": "diluted",
    "blocked": "blocked",
    "deferred": "deferred",
}
ORIGIN_WORDS = {
    "event": ", put on the agenda by an event of the year,",
    "deferred": ", back after being deferred,",
    "retabled": ", tabled again after being blocked,",
}
TAKEN = ("adopted", "adopted_opt_out")  # the outcomes by which an accession step is taken


def narrate(tables: Mapping[str, pd.DataFrame], year: int | None = None, where: str = "") -> str:
    """Tell the summits of one run in sentences: every year, or only ``year``.

    Args:
        tables: The run's tables: ``decisions`` at least; ``texts`` adds losses,
            tolerances and the redrafts; ``model`` gives the years without items;
            ``states`` the changes of status.
        year: The one year to tell (default: every year of the run).
        where: What the tables came from, named by the error for an unknown year.

    Raises:
        NarrateError: ``year`` is not a year of the run.

    """
    decisions = tables["decisions"]
    years = run_years(tables)
    if year is not None and year not in years:
        span = f"{years[0]}-{years[-1]}" if years else "no year"
        raise NarrateError(where, f"the run has no year {year}; it covers {span}", key="--year")
    texts = tables.get("texts")
    by_item = {} if texts is None else {int(k): rows for k, rows in texts.groupby("item", sort=False)}
    changes = status_changes(tables.get("states"))
    told = []
    for y in [year] if year is not None else years:
        rows = decisions[decisions["year"] == y]
        lines = [*_wrap(_header(y, rows, texts)), ""]
        for row in rows.to_dict("records"):
            lines += _item(row, by_item.get(int(row["item"])) if texts is not None else None)
        if changes.get(y):
            lines += _wrap(f"Changes of status during the year: {', '.join(changes[y])}.")
        told.append("\n".join(lines).rstrip())
    return "\n\n".join(told) + "\n"


def run_years(tables: Mapping[str, pd.DataFrame]) -> list[int]:
    """Return the years of the run: the model table's (one row a year), else the decision log's."""
    for name in ("model", "states", "decisions"):
        frame = tables.get(name)
        if frame is not None and len(frame):
            return sorted({int(y) for y in frame["year"]})
    return []


def status_changes(states: pd.DataFrame | None) -> dict[int, list[str]]:
    """Return, per year, ``"IND memorandum -> member"`` for each state whose status changed that year."""
    if states is None or not len(states):
        return {}
    wide = states.pivot(index="year", columns="state", values="status").sort_index()
    changes: dict[int, list[str]] = {}
    for before, (year, now) in zip(wide.index[:-1], wide.iloc[1:].iterrows(), strict=True):
        for code, status in now.items():
            old = wide.at[before, code]
            if status != old:
                changes.setdefault(int(year), []).append(f"{code} {old} -> {status}")
    return changes


# The year ------------------------------------------------------------------------------------


def _header(year: int, rows: pd.DataFrame, texts: pd.DataFrame | None) -> str:
    """``2018 summit: 8 members (CHN, ...) decided 2 items: 2 diluted.`` (or that nothing was tabled)."""
    if not len(rows):
        return f"{year}: no item was tabled."
    policy = rows[rows["origin"] != "membership"]
    steps = len(rows) - len(policy)
    counts = policy["outcome"].value_counts()
    outcomes = ", ".join(
        f"{int(counts[name])} {word}" for name, word in OUTCOME_WORDS.items() if counts.get(name, 0)
    )
    decided = [_count(len(policy), "item") + (f" ({outcomes})" if outcomes else "")] if len(policy) else []
    decided += [_count(steps, "accession step")] if steps else []
    members = int(rows["members"].iloc[0])
    present = ""
    if texts is not None:
        sat = sorted(set(texts.loc[texts["year"] == year, "state"]))
        present = f" ({', '.join(sat)})" if len(sat) == members else ""
    return f"{year} summit: {_count(members, 'member')}{present} decided {' and '.join(decided)}."


def _times(n: int) -> str:
    return {1: "once", 2: "twice"}.get(n, f"{n} times")


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"


def _wrap(sentence: str, bullet: str = "", indent: int = 0) -> list[str]:
    """Wrap one sentence to :data:`WIDTH`, the first line starting with ``bullet``."""
    first = " " * indent + bullet
    return textwrap.wrap(
        sentence, WIDTH, initial_indent=first, subsequent_indent=" " * len(first), break_on_hyphens=False
    )


# One item ------------------------------------------------------------------------------------


def _item(row: dict[str, Any], texts: pd.DataFrame | None) -> list[str]:
    """The lines telling one item: tabled, each dissent, the redrafts, the decision."""
    levels = _levels(texts)
    lines = _wrap(_tabled(row), "- ")
    reasons = _reasons(row["reasons"])
    for code in _codes(row["dissenters"]):
        lines += _wrap(_dissent(code, reasons.get(code, ""), row, texts, levels), "- ", 2)
    redrafted = _redrafted(row, levels)
    if redrafted:
        lines += _wrap(redrafted, "- ", 2)
    lines += _wrap(_decided(row), "- ", 2)
    return lines


def _tabled(row: dict[str, Any]) -> str:
    """Who tabled what, at which level against the status quo."""
    if row["origin"] == "membership":
        return f'Accession step (item {row["item"]}): the chair tabled "{row["title"]}".'
    origin = ORIGIN_WORDS.get(str(row["origin"]), "")
    area = str(row["area"]).replace("_", " ")
    return (
        f'{row["initiator"]} tabled "{row["title"]}" (item {row["item"]}, {area}){origin} '
        f"at {_level(row['proposed'])} against a status quo of {_level(row['status_quo'])}."
    )


def _dissent(
    code: str, reason: str, row: dict[str, Any], texts: pd.DataFrame | None, levels: dict[int, float]
) -> str:
    """One dissenter: which texts it objected to, why, and how its dissent ended."""
    why = _reason_words(reason)
    if texts is None:
        return _dissent_from_log(code, why, row)
    mine = texts[texts["state"] == code].set_index("round")
    objected = [int(r) for r in mine.index[mine["objected"].to_numpy(dtype=bool)]]
    aside = [int(r) for r in mine.index[mine["stood_aside"].to_numpy(dtype=bool)]]
    if objected:
        said = f"{code} objected to {_texts(objected, levels)}"
        at = objected[0]
    else:
        said = f"{code} stood aside from {_texts(aside, levels)}" if aside else f"{code} dissented"
        at = min(levels) if levels else 1
    if at in mine.index and reason:
        said += ": " + _loss(mine.loc[at], at, reason)
    else:
        said += f"{f', {why}' if why else ''}"
    return said + _ending(code, row, objected, aside, levels) + "."


def _dissent_from_log(code: str, why: str, row: dict[str, Any]) -> str:
    """A dissent as the decision log alone tells it (no texts table)."""
    said = f"{code} dissented{f', {why}' if why else ''}"
    if code in _codes(row["blocked_by"]):
        return said + "; it still objected to the last text and so blocked the item."
    if code in _codes(row["stood_aside"]):
        return said + "; it stood aside from the adopted text."
    if code in _codes(row["objectors"]):
        return said + "; it still objected to the adopted text, which passed over its objection."
    return said + "; it accepted a later text."


def _loss(at: pd.Series, round_: int, reason: str) -> str:
    """``its loss at text 1, 0.249, was above its tolerance of 0.090; the largest part, ... came ...``."""
    loss, tolerance = float(at["loss"]), float(at["tolerance"])
    side = "above" if loss > tolerance else "within"
    part = float(at[f"loss_{reason}"]) if f"loss_{reason}" in at.index else math.nan
    return (
        f"its loss at text {round_}, {loss:.3f}, was {side} its tolerance of {tolerance:.3f}; "
        f"the largest part, {part:.3f}, {_reason_words(reason, verb=True)}"
    )


def _ending(
    code: str, row: dict[str, Any], objected: list[int], aside: list[int], levels: dict[int, float]
) -> str:
    """How a dissent ended: blocked, outvoted, stood aside, or a later text accepted."""
    last = max(levels) if levels else int(row["rounds"])
    if code in _codes(row["blocked_by"]):
        verb = "blocked" if row["outcome"] == "blocked" else "held up"
        return f". It still objected to the last text and so {verb} the item"
    if objected and objected[-1] == last and _passed(row):
        return ". It still objected to the adopted text, which passed over its objection"
    if aside and objected:
        return f". It then stood aside from {_texts(aside, levels)}, which passed without it"
    if objected and objected[-1] < last:
        return f". It accepted text {objected[-1] + 1} ({_level(levels.get(objected[-1] + 1))})"
    return ""


def _redrafted(row: dict[str, Any], levels: dict[int, float]) -> str:
    """How the text was redrafted: the level of every text tabled (or, without texts, how many)."""
    rounds = int(row["rounds"])
    if rounds == 0:
        return "No text was worth tabling."
    if rounds == 1:
        return ""
    if not levels:
        return f"It was redrafted {_times(rounds - 1)}; text {rounds} was the last."
    shown = " -> ".join(_level(levels[r]) for r in sorted(levels))
    return f"It was redrafted {_times(len(levels) - 1)}: {shown}."


def _decided(row: dict[str, Any]) -> str:
    """What was decided: the outcome, the adopted level, and who stood aside or blocked."""
    outcome, rounds = str(row["outcome"]), int(row["rounds"])
    aside, blockers = _codes(row["stood_aside"]), _codes(row["blocked_by"])
    if row["origin"] == "membership":
        words = f"{OUTCOME_WORDS.get(outcome, outcome)}{_by(blockers)}"
        if outcome in TAKEN:
            group = _and(str(row["title"]).split(":", 1)[0].split("+"))
            return f"The step was taken ({words}): {group} moved one rung up."
        return f"The step was not taken ({words}); it is due again next year."
    if not _passed(row):
        if outcome == "deferred":
            return (
                f"Deferred{_by(blockers, ', held up by')}: every objection to the last text was mild; "
                f"the status quo of {_level(row['status_quo'])} stands and the item may return."
            )
        kept = _level(row["status_quo"])
        return f"Blocked{_by(blockers)}: no text passed, and the status quo of {kept} stands."
    adopted, proposed = float(row["adopted"]), float(row["proposed"])
    text = f"at text {rounds}, " if rounds > 1 else "as tabled, " if adopted == proposed else ""
    said = f"Adopted {text}at {_level(adopted)}"
    if outcome == "diluted":
        share = _share(adopted, float(row["status_quo"]), proposed)
        said = f"Adopted only in diluted form {text}at {_level(adopted)} ({share} of the step proposed)"
    if aside:
        said += f", with {_and(aside)} standing aside"
    outvoted = [c for c in _codes(row["objectors"]) if c not in aside]
    if outvoted:
        said += f", over the objection of {_and(outvoted)}"
    return said + "."


# Small readers and writers -----------------------------------------------------------------


def _levels(texts: pd.DataFrame | None) -> dict[int, float]:
    """The level (0-100) of each text tabled for an item, by text number."""
    if texts is None or not len(texts):
        return {}
    first = texts.drop_duplicates("round")
    return {int(r): float(t) for r, t in zip(first["round"], first["text"], strict=True)}


def _passed(row: dict[str, Any]) -> bool:
    return row["outcome"] not in ("blocked", "deferred") and not _missing(row["adopted"])


def _missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def _codes(cell: Any) -> list[str]:
    """The ISO3 codes of a ``;``-joined cell (empty, NaN or None: none)."""
    return [] if _missing(cell) else [code for code in str(cell).split(";") if code]


def _reasons(cell: Any) -> dict[str, str]:
    """``{"IND": "sovereignty", ...}`` from a ``reasons`` cell (``IND:sovereignty;KAZ:economy``)."""
    return dict(part.split(":", 1) for part in _codes(cell) if ":" in part)


def _reason_words(reason: str, verb: bool = False) -> str:
    """``was the security share of its policy loss`` or ``was the sovereignty cost of taking part``."""
    if not reason:
        return ""
    words = reason.replace("_", " ")
    if reason in INTERESTS:
        return f"was the {words} share of its policy loss" if verb else f"driven by its {words} interest"
    return f"was the {words} cost of taking part" if verb else f"driven by the {words} cost of taking part"


def _texts(rounds: list[int], levels: dict[int, float]) -> str:
    """``text 2 (87.3)`` or ``texts 1-4 (100.0 to 71.5)``."""
    if len(rounds) == 1:
        return f"text {rounds[0]} ({_level(levels.get(rounds[0]))})"
    spans: list[list[int]] = []
    for r in rounds:
        if spans and r == spans[-1][-1] + 1:
            spans[-1].append(r)
        else:
            spans.append([r])
    named = ", ".join(f"{s[0]}-{s[-1]}" if len(s) > 1 else f"{s[0]}" for s in spans)
    return f"texts {named} ({_level(levels.get(rounds[0]))} to {_level(levels.get(rounds[-1]))})"


def _level(value: Any) -> str:
    return "no text" if _missing(value) else f"{float(value):.1f}"


def _share(adopted: float, status_quo: float, proposed: float) -> str:
    step = proposed - status_quo
    return "all" if step == 0 else f"{(adopted - status_quo) / step:.0%}"


def _and(codes: list[str]) -> str:
    return codes[0] if len(codes) == 1 else f"{', '.join(codes[:-1])} and {codes[-1]}"


def _by(codes: list[str], words: str = " by") -> str:
    return f"{words} {_and(codes)}" if codes else ""
