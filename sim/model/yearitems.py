"""The items of every year of a run, joined into arrays: what the recorder's tables are built from."""

from __future__ import annotations

import numpy as np

from sim.model.items import Agenda
from sim.rules import Decision


class YearItems:
    """The items of every year, one after the other, with each year's share of the rows."""

    def __init__(self, agendas: list[Agenda | None], decisions: list[Decision | None]) -> None:
        self.n_items = np.array([0 if a is None else len(a) for a in agendas], dtype=np.int64)
        self.starts = np.cumsum(self.n_items) - self.n_items
        pairs = [(a, d) for a, d in zip(agendas, decisions, strict=True) if a is not None and d is not None]
        kept = [(a, d) for a, d in pairs if len(a)]
        if not kept:  # no item at all: empty columns of the right shapes
            kept = pairs[:1]
        self.agendas: list[Agenda] = [a for a, _ in kept]
        self.decisions: list[Decision] = [d for _, d in kept]
        self._join(self.agendas, self.decisions)

    def _join(self, agendas: list[Agenda], decisions: list[Decision]) -> None:
        self.area = np.concatenate([a.area for a in agendas])
        self.initiator = np.concatenate([a.initiator for a in agendas])
        self.beneficiary = np.concatenate([a.beneficiary for a in agendas])
        self.status_quo = np.concatenate([a.status_quo for a in agendas])
        self.proposal = np.concatenate([a.proposal for a in agendas])
        self.positions = np.concatenate([a.positions for a in agendas])
        self.saliences = np.concatenate([a.saliences for a in agendas])
        self.ids = [i for a in agendas for i in a.ids]
        self.titles = [title for a in agendas for title in a.titles]
        self.origins = [origin for a in agendas for origin in a.origins]
        self.outcome = np.concatenate([d.outcome for d in decisions])
        self.adopted = np.concatenate([d.adopted for d in decisions])
        self.objectors = np.concatenate([d.objectors for d in decisions])
        self.opt_outs = np.concatenate([d.opt_outs for d in decisions])
        self.rounds = np.concatenate([d.rounds for d in decisions])
        self.costs = np.concatenate([_costs(a) for a in agendas])
        self._join_texts(decisions)
        self.beneficiary_state = np.concatenate(
            [a.beneficiary_state if a.beneficiary_state is not None else np.full(len(a), -1) for a in agendas]
        )

    def _join_texts(self, decisions: list[Decision]) -> None:
        """Join the texts tabled and who objected to or stood aside from each; derive the dissent."""
        widths = {d.texts.shape[1] if d.texts is not None else 0 for d in decisions}
        if (
            len(widths) == 1 and 0 not in widths
        ):  # every rule tabled texts in the same rounds: join as they are
            self.texts = np.concatenate([d.texts for d in decisions])  # type: ignore[misc]
            self.text_objecting = np.concatenate([d.text_objecting for d in decisions])  # type: ignore[misc]
            asides = [d.text_aside for d in decisions]
            if all(a is None for a in asides):
                self.text_aside = np.zeros_like(self.text_objecting)
            else:
                self.text_aside = np.concatenate(
                    [
                        a if a is not None else np.zeros_like(d.text_objecting)
                        for a, d in zip(asides, decisions, strict=True)
                    ]
                )
        else:
            width = max([1, *widths])
            self.texts = np.concatenate([_texts(d, width) for d in decisions])
            self.text_objecting = np.concatenate([_text_flags(d, True, width) for d in decisions])
            self.text_aside = np.concatenate([_text_flags(d, False, width) for d in decisions])
        # Dissent: objected to any text tabled, or stood aside from the last (Decision.dissent, joined).
        tabled = np.arange(self.texts.shape[1])[None, :] < self.rounds[:, None]
        self.dissent = (self.text_objecting & tabled[:, :, None]).any(axis=1) | self.opt_outs

    def interleave(self, other: YearItems) -> YearItems:
        """Return this year's items followed by ``other``'s, year by year (the decision log's order)."""
        agendas: list[Agenda | None] = []
        decisions: list[Decision | None] = []
        mine = iter(zip(self.agendas, self.decisions, strict=True))
        theirs = iter(zip(other.agendas, other.decisions, strict=True))
        merged_counts = []
        for own, more in zip(self.n_items.tolist(), other.n_items.tolist(), strict=True):
            merged_counts.append(own + more)
            for count, source in ((own, mine), (more, theirs)):
                if count:
                    agenda, decision = next(source)
                    agendas.append(agenda)
                    decisions.append(decision)
        merged = YearItems(agendas, decisions)
        merged.n_items = np.array(merged_counts, dtype=np.int64)
        merged.starts = np.cumsum(merged.n_items) - merged.n_items
        return merged

    def per_year_sum(self, values: np.ndarray) -> np.ndarray:
        """Sum whole numbers (or flags) per year, along the first axis: differences of running totals."""
        totals = np.zeros((len(values) + 1, *values.shape[1:]), dtype=np.int64)
        np.cumsum(values, axis=0, out=totals[1:])
        return totals[self.starts + self.n_items] - totals[self.starts]

    def per_year_counts(self, codes: np.ndarray, n_codes: int) -> np.ndarray:
        """Count each code per year (years x codes)."""
        year = np.repeat(np.arange(len(self.n_items)), self.n_items)
        return np.bincount(year * n_codes + codes, minlength=len(self.n_items) * n_codes).reshape(-1, n_codes)


def _costs(agenda: Agenda) -> np.ndarray:
    """Return an agenda's participation costs by part (zeros when it has none, e.g. accession steps)."""
    if agenda.costs is not None:
        return agenda.costs
    return np.zeros((len(agenda), agenda.positions.shape[1], 3))


def _texts(decision: Decision, width: int) -> np.ndarray:
    """Return the texts tabled (items x width; NaN where none); a rule without rounds tabled its outcome."""
    texts = np.full((len(decision.outcome), width), np.nan)
    if decision.texts is None:
        texts[:, 0] = decision.prediction
    else:
        texts[:, : decision.texts.shape[1]] = decision.texts
    return texts


def _text_flags(decision: Decision, objecting: bool, width: int) -> np.ndarray:
    """Return who objected to (or stood aside from) each text: items x width x actors."""
    flags = decision.text_objecting if objecting else decision.text_aside
    n_items, n_actors = decision.objectors.shape
    out = np.zeros((n_items, width, n_actors), dtype=bool)
    if flags is not None:
        out[:, : flags.shape[1]] = flags
    elif objecting and decision.texts is None:
        out[:, 0] = decision.objectors  # a rule without rounds: who objected to its outcome
    return out


def share(count: np.ndarray, total: np.ndarray) -> np.ndarray:
    """Return count / total, with NaN where the total is 0."""
    return np.divide(count, total, out=np.full(len(total), np.nan), where=total > 0)


# Joined names by the bit pattern of a row's flags, per list of codes: most rows of a run
# (and of the runs of a batch) repeat a few patterns, so each is joined once per process.
_JOINED: dict[tuple[str, ...], dict[int, str]] = {}


def join_flagged(mask: np.ndarray, codes: list[str]) -> list[str]:
    """Return, per row of ``mask`` (rows x len(codes)), the flagged codes joined by ";" in order."""
    n_rows, n_codes = mask.shape
    if n_rows == 0:
        return []
    if n_codes > 62:  # too many for one integer's bits: row by row
        return [";".join(c for c, flag in zip(codes, row, strict=True) if flag) for row in mask.tolist()]
    bits = (mask @ (1 << np.arange(n_codes, dtype=np.int64))).tolist()
    known = _JOINED.setdefault(tuple(codes), {})
    if len(known) > 100_000:  # (bounded: a long-lived process sees many patterns)
        known.clear()
    out = []
    for pattern in bits:
        name = known.get(pattern)
        if name is None:
            name = known[pattern] = ";".join(c for k, c in enumerate(codes) if pattern >> k & 1)
        out.append(name)
    return out


def join_groups(rows: np.ndarray, names: list[str], n_rows: int) -> list[str]:
    """Return, per row 0..n_rows-1, the ``names`` whose ``rows`` entry is that row, joined by ";".

    ``rows`` must be sorted (as ``nonzero`` returns them); rows without names get "".
    """
    out = [""] * n_rows
    if not len(rows):
        return out
    cuts = (np.flatnonzero(np.diff(rows)) + 1).tolist()
    starts, ends = [0, *cuts], [*cuts, len(names)]
    first = rows.take(starts).tolist()
    for row, start, end in zip(first, starts, ends, strict=True):
        out[row] = ";".join(names[start:end])
    return out
