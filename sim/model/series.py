"""Yearly inputs read from data before a run: territorial claims and the ties to the poles.

Both are the same for every seed of a scenario, so :class:`sim.model.model.ScenarioArrays`
builds them once.

* **Claims** (states x states, 0-1 per year): the active territorial claims between
  two states, ICOW salience / 12, from ``[data] claims = "icow"`` (the shipped
  ``claims.csv``, with settlement years from written sources) and the scenario's own
  ``[[claims]]``. Symmetric: a dispute weighs on both sides.
* **Baseline alignment** (years x states x poles): with ``[data] pole_ties =
  "arms_trade"``, each state's alignment with each pole in each year is the mean of
  what the data say that year: UN General Assembly ideal points (as in ``[data]
  alignment``), the share of its arms imports from the pole and the share of its
  trade (with Russia, China and the US) that is with the pole. Arms and trade still
  tell Russia and China apart after 2010, when the UN votes no longer do. Gaps are
  filled by holding the nearest year's value; a state without any data keeps the
  alignment its scenario gives. Alignment drifts around this baseline
  (:mod:`sim.model.balancing`).
"""

from __future__ import annotations

import numpy as np

from sim.errors import DataError
from sim.scenario import Scenario, datasets, ties


def claim_series(scenario: Scenario, codes: list[str], years: np.ndarray) -> np.ndarray | None:
    """Return the claims in force each year (years x states x states), or None without claims."""
    from_data = scenario.data is not None and scenario.data.claims is not None
    if not from_data and not scenario.claims:
        return None
    index = {code: i for i, code in enumerate(codes)}
    n = len(codes)
    series = np.zeros((len(years), n, n))
    for t, year in enumerate(years.tolist()):
        pairs = dict(ties.active_claims(year)) if from_data else {}
        for claim in scenario.claims:
            if claim.start_year <= year and (claim.end_year is None or year <= claim.end_year):
                a, b = sorted(claim.states)
                pairs[(a, b)] = max(pairs.get((a, b), 0.0), claim.salience / 12.0)
        for (a, b), value in pairs.items():
            if a in index and b in index:
                i, j = index[a], index[b]
                series[t, i, j] = series[t, j, i] = max(series[t, i, j], value)
    return series


def baseline_series(
    scenario: Scenario, codes: list[str], poles: list[str], years: np.ndarray, written: np.ndarray
) -> np.ndarray | None:
    """Return the yearly baseline alignment (years x states x poles), or None without pole ties data.

    ``written`` is the alignment the scenario gives (states x poles): it stays where a
    state has no data at all, and where the scenario writes the value itself
    (``[data] pole_ties.keep``, filled in on loading).
    """
    if scenario.data is None or scenario.data.pole_ties is None:
        return None
    year_list = years.tolist()
    links = ties.yearly_ties(codes, poles, year_list)
    votes = np.full(links.shape, np.nan)
    for i, code in enumerate(codes):
        for p, pole in enumerate(poles):
            for t, year in enumerate(year_list):
                try:
                    votes[t, i, p] = 1.0 if code == pole else datasets.alignment(code, pole, year)
                except DataError:
                    pass
    votes = _hold(votes)
    with np.errstate(all="ignore"):
        both = np.stack([votes, links])
        counted = np.isfinite(both).sum(axis=0)
        mean = np.where(counted > 0, np.nansum(both, axis=0) / np.maximum(counted, 1), np.nan)
    series = np.where(np.isfinite(mean), mean, written[None, :, :])
    for p, pole in enumerate(poles):
        if pole in codes:
            series[:, codes.index(pole), p] = 1.0
    for written_pair in scenario.data.pole_ties.keep:  # written in the scenario: kept as written
        code, pole = written_pair.split(":")
        if code in codes and pole in poles:
            i, p = codes.index(code), poles.index(pole)
            series[:, i, p] = written[i, p]
    return np.clip(series, 0.0, 1.0)


def _hold(values: np.ndarray) -> np.ndarray:
    """Fill gaps along the first axis with the last value before them, or else the first after."""
    out = values.copy()
    for t in range(1, len(out)):
        gap = ~np.isfinite(out[t])
        out[t][gap] = out[t - 1][gap]
    for t in range(len(out) - 2, -1, -1):
        gap = ~np.isfinite(out[t])
        out[t][gap] = out[t + 1][gap]
    return out
