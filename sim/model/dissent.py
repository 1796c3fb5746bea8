"""Who disagreed, with which text, and why: the dissent columns and the ``texts`` table.

A member's loss at a text splits into parts. The policy loss (salience x the
distance the text moves away from the member's ideal, against the status quo)
divides over its four interests as the area touches them: the interest weights
(regime scaled by autocracy) times the area's relevance, the same shares by which
realised gains are divided. The participation cost (:mod:`sim.model.participation`)
adds its three parts: sovereignty, rivalry and relative gains. The *reason* a
member dissented is the largest part of its loss at the first text it objected to.
"""

from __future__ import annotations

import functools
from typing import Any

import numpy as np

from sim.model.participation import PARTS
from sim.model.state import ModelState
from sim.model.yearitems import YearItems, join_groups
from sim.rules import BLOCKED, DEFERRED
from sim.scenario import INTERESTS

LOSS_PARTS: tuple[str, ...] = (*INTERESTS, *PARTS)
TEXT_COLUMNS = (
    "year", "item", "round", "text", "state", "position", "salience",
    *(f"loss_{part}" for part in LOSS_PARTS), "loss", "tolerance", "objected", "stood_aside", "blocked",
)  # fmt: skip


def loss_parts(model: ModelState, log: YearItems | _Rows, texts: np.ndarray) -> np.ndarray:
    """Return each state's loss at ``texts`` (one per item) split into ``LOSS_PARTS`` (items x states x 7)."""
    moved = np.isfinite(texts)
    at = np.where(moved, texts, log.status_quo)
    policy = log.saliences * (
        np.abs(at[:, None] - log.positions) - np.abs(log.status_quo[:, None] - log.positions)
    )
    policy /= 100.0
    areas = np.maximum(log.area, 0)
    shares = model.utility_share.take(areas, axis=0) * (log.area >= 0)[:, None, None]
    parts = np.concatenate([policy[:, :, None] * shares, log.costs * moved[:, None, None]], axis=2)
    return parts


def blockers(log: YearItems) -> np.ndarray:
    """Return (items x states) who blocked: objectors at the last text of an item blocked or deferred."""
    refused = np.isin(log.outcome, (BLOCKED, DEFERRED))
    return log.objectors & refused[:, None]


def first_objected(log: YearItems) -> np.ndarray:
    """Return (items x states) the round index of the first text each state objected to (0 if none)."""
    tabled = np.arange(log.text_objecting.shape[1])[None, :, None] < log.rounds[:, None, None]
    objected = log.text_objecting & tabled
    return objected.argmax(axis=1)


def reasons(model: ModelState, log: YearItems) -> list[str]:
    """Return, per item, ``STATE:part`` for each dissenter: the largest part of its loss when it objected."""
    n_items = len(log.outcome)
    if not log.dissent.any():
        return [""] * n_items
    rows, states = log.dissent.nonzero()
    rounds = first_objected(log)[rows, states]
    texts = log.texts[rows, rounds]
    moved = np.isfinite(texts)
    before = log.status_quo[rows]
    at = np.where(moved, texts, before)
    ideal = log.positions[rows, states]
    policy = log.saliences[rows, states] * (np.abs(at - ideal) - np.abs(before - ideal)) / 100.0
    areas = log.area[rows]
    shares = model.utility_share[np.maximum(areas, 0), states] * (areas >= 0)[:, None]
    parts = np.concatenate([policy[:, None] * shares, log.costs[rows, states] * moved[:, None]], axis=1)
    labels = _labels(tuple(model.codes))
    names = labels[states * len(LOSS_PARTS) + parts.argmax(axis=1)].tolist()
    return join_groups(rows, names, n_items)


@functools.lru_cache(maxsize=16)
def _labels(codes: tuple[str, ...]) -> np.ndarray:
    """Return ``STATE:part`` for every state and loss part, state-major (states * parts)."""
    return np.array([f"{code}:{part}" for code in codes for part in LOSS_PARTS], dtype=object)


class _Rows:
    """The rows ``rows`` of a :class:`YearItems`, as far as :func:`loss_parts` reads them."""

    def __init__(self, log: YearItems, rows: np.ndarray) -> None:
        self.status_quo = log.status_quo[rows]
        self.saliences = log.saliences[rows]
        self.positions = log.positions[rows]
        self.area = log.area[rows]
        self.costs = log.costs[rows]


def texts_table(
    model: ModelState, log: YearItems, years: np.ndarray, voters: np.ndarray, tolerance: np.ndarray
) -> dict[str, Any]:
    """Return the ``texts`` table: one row per item x text tabled x member who decided it.

    ``voters`` and ``tolerance`` are per year (years x states); ``years`` the year of
    each year row. Rows come in the decision log's order, then round, then state.
    """
    year_of_item = np.repeat(np.arange(len(years)), log.n_items)
    n_rounds = log.text_objecting.shape[1]
    tabled = (
        np.arange(n_rounds)[None, :] < np.maximum(log.rounds, 1)[:, None]
    )  # a refused-at-once item: 1 row
    tabled &= np.isfinite(log.texts) | (np.arange(n_rounds)[None, :] == 0)
    member = voters[year_of_item]  # items x states
    k, r, i = np.nonzero(tabled[:, :, None] & member[:, None, :])
    texts = log.texts[k, r]
    parts = loss_parts(model, _Rows(log, k), texts)[np.arange(len(k)), i]
    last = r == np.maximum(log.rounds[k], 1) - 1
    blocked = blockers(log)[k, i] & last
    columns: dict[str, Any] = {
        "year": years[year_of_item[k]],
        "item": np.asarray(log.ids, dtype=np.int64)[k],
        "round": (r + 1).astype(np.int64),
        "text": texts,
        "state": np.asarray(model.codes, dtype=object)[i],
        "position": log.positions[k, i],
        "salience": log.saliences[k, i],
    }
    for p, part in enumerate(LOSS_PARTS):
        columns[f"loss_{part}"] = parts[:, p]
    columns["loss"] = parts.sum(axis=1)
    columns["tolerance"] = tolerance[year_of_item[k], i]
    columns["objected"] = log.text_objecting[k, r, i]
    columns["stood_aside"] = log.text_aside[k, r, i]
    columns["blocked"] = blocked
    return columns
