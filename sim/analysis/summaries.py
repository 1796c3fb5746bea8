"""Continuous summaries of a simulated 1996-2017 against the record: the target of calibration.

Every summary is a *discrepancy*: how far one seed's run is from what the record says,
in units a reader can check (years, shares, counts), so the record's own value of each
is written next to it in ``OBSERVED`` (mostly 0). They replace the pass/fail shares of
patterns P1-P7 as what the fit compares; P1-P7 stay the validation, judged on fresh
seeds (:mod:`sim.analysis.validation`). Their sources and reasons: docs/calibration.md.

Groups (one seed = the scenario as given plus its endogenous-membership variant):

- ``first.*``: years the first substantive adoption in an area falls outside the record's
  window (docs/validation.md, P1); humanitarian: years before the economy or after 2017.
- ``texts.*``: texts at the summits by area: summits without any text; the record's
  dated texts (border security 1996-97, three evils 2001-02, economy 2001 and 2003) that
  the run does not match with a substantive text in that area and year; substantive
  finance texts per summit (the record has none: no Development Bank by 2017).
- ``dissent.*``: the share of items each member dissented from by area: Russia's share
  of the finance items (the record: 1), the largest other member's (the record names
  nobody else: 0); China's and the Central Asian members' dissent from the 2008 item
  (the record: 1) and whether that item passed (0).
- ``accession.*``: with members deciding, India's and Pakistan's accession year minus
  2017 (not by 2017: +1) and how many others join (0).
- ``kaz.*``: Kazakhstan's alignment with each pole minus the data's yearly reading of
  it (UN votes, arms imports, trade: the scenario's baseline), averaged over three
  periods (0).

Only the record to 2017 enters: items and years after 2017 are never read.

Two ways in, one computation: :func:`from_model` reads a finished :class:`SCOModel`'s
recorder arrays (the calibration's fast path: no DataFrames), :func:`from_tables` the
tables of :func:`sim.run` (validation, tests); :func:`summarise` turns the arrays of the
two runs of one seed into the summaries.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from sim.rules import ADOPTED, DILUTED, OPT_OUT, OUTCOMES
from sim.scenario import STATUSES, Scenario

RECORD_END = 2017  # the record used for fitting ends here; later years are never summarised
MEMBER = STATUSES.index("member")
SUBSTANTIVE = (ADOPTED, OPT_OUT)
TEXT = (ADOPTED, OPT_OUT, DILUTED)

# The record's windows of first substantive adoption (docs/validation.md, P1), and the groups.
WINDOWS = {"border_security": (1996, 1998), "three_evils": (1997, 2003), "economy": (2000, 2004)}
ECONOMY = ("trade", "energy", "transport", "finance")
SECURITY = ("border_security", "three_evils", "afghanistan")
# Texts the record dates, by area (timeline; thesis Table 1 for the economy, as in P1).
RECORD_TEXTS = {"border_security": (1996, 1997), "three_evils": (2001, 2002), "economy": (2001, 2003)}
GEORGIA_EVENT = "georgia_2008"
CENTRAL_ASIA = ("KAZ", "KGZ", "TJK", "UZB")
NEWCOMERS = ("IND", "PAK")
FOCAL, POLES = "KAZ", ("RUS", "CHN")
PERIODS = ((1996, 2003), (2004, 2010), (2011, 2017))

OBSERVED: dict[str, float] = {
    "first.border_security": 0.0,
    "first.three_evils": 0.0,
    "first.economy": 0.0,
    "first.humanitarian": 0.0,
    "texts.silent_summits": 0.0,
    "texts.border_security_missed": 0.0,
    "texts.three_evils_missed": 0.0,
    "texts.economy_missed": 0.0,
    "texts.finance_substantive": 0.0,
    "dissent.RUS_finance": 1.0,
    "dissent.others_finance": 0.0,
    "dissent.CHN_2008": 1.0,
    "dissent.central_asia_2008": 1.0,
    "dissent.2008_adopted": 0.0,
    "accession.IND": 0.0,
    "accession.PAK": 0.0,
    "accession.others": 0.0,
    **{f"kaz.{pole}.{lo}-{hi}": 0.0 for pole in POLES for lo, hi in PERIODS},
}
NAMES: tuple[str, ...] = tuple(OBSERVED)


@dataclass
class RunArrays:
    """What the summaries read from one run, as plain arrays (years up to the run's end).

    ``item_*`` and ``dissent`` are the summit items in the order decided (accession steps
    left out); ``status`` is years x states; ``alignment`` and ``baseline`` are the focal
    state's, years x poles, in the order of ``poles``.
    """

    start_year: int
    codes: list[str]
    areas: list[str]
    poles: list[str]
    item_year: np.ndarray
    item_area: np.ndarray  # index into ``areas``
    outcome: np.ndarray  # codes into OUTCOMES
    dissent: np.ndarray  # items x states, bool
    titles: list[str]
    status: np.ndarray  # years x states, codes into STATUSES
    alignment: np.ndarray  # years x poles (the focal state)
    baseline: np.ndarray  # years x poles (the focal state's data reading)

    @property
    def years(self) -> np.ndarray:
        """The years of the run."""
        return np.arange(self.start_year, self.start_year + len(self.status))


def from_model(model: Any) -> RunArrays:
    """Read a finished :class:`~sim.model.SCOModel`'s recorder (no tables built)."""
    from sim.model.yearitems import YearItems

    rec = model.recorder
    n = rec.n_years
    summits = [pair for pair in rec.summits if len(pair[0])]
    counts = np.array([len(items) for items, _ in rec.summits], dtype=np.int64)
    years = np.repeat(np.arange(model.start_year, model.start_year + n), counts)
    focal = model.focal
    if summits:
        log = YearItems([a for a, _ in summits], [d for _, d in summits])
        area, outcome, dissent, titles = log.area, log.outcome, log.dissent, log.titles
    else:
        n_states = len(model.codes)
        area, outcome = np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
        dissent, titles = np.zeros((0, n_states), dtype=bool), []
    return RunArrays(
        start_year=model.start_year,
        codes=list(model.codes),
        areas=list(model.areas),
        poles=list(model.poles),
        item_year=years,
        item_area=area,
        outcome=outcome,
        dissent=dissent,
        titles=list(titles),
        status=rec.status[:n],
        alignment=rec.alignment[:n, focal, :],
        baseline=rec.baseline[:n, focal, :],
    )


def from_tables(tables: dict[str, Any], scenario: Scenario) -> RunArrays:
    """Read the tables of one run (:func:`sim.run`'s ``.tables``) into :class:`RunArrays`."""
    decisions, states = tables["decisions"], tables["states"]
    codes, areas, poles = list(scenario.state_codes), list(scenario.area_codes), list(scenario.poles)
    policy = decisions[decisions["origin"] != "membership"]
    index = {code: i for i, code in enumerate(codes)}
    dissent = np.zeros((len(policy), len(codes)), dtype=bool)
    for row, cell in enumerate(policy["dissenters"].tolist()):
        for code in filter(None, str(cell).split(";")):
            dissent[row, index[code]] = True
    years = sorted(set(states["year"].astype(int)))
    by_state = states.set_index(["year", "state"])
    status = np.array(
        [[STATUSES.index(by_state.loc[(y, c), "status"]) for c in codes] for y in years], dtype=np.int8
    )
    focal = states[states["state"] == scenario.focal_state].sort_values("year")
    return RunArrays(
        start_year=scenario.start_year,
        codes=codes,
        areas=areas,
        poles=poles,
        item_year=policy["year"].to_numpy(dtype=np.int64),
        item_area=np.array([areas.index(a) for a in policy["area"]], dtype=np.int64),
        outcome=np.array([OUTCOMES.index(o) for o in policy["outcome"]], dtype=np.int64),
        dissent=dissent,
        titles=[str(t) for t in policy["title"]],
        status=status,
        alignment=focal[[f"alignment_{p}" for p in poles]].to_numpy(dtype=float),
        baseline=focal[[f"baseline_{p}" for p in poles]].to_numpy(dtype=float),
    )


def georgia_titles(scenario: Scenario) -> tuple[str, ...]:
    """Return the titles of the 2008 recognition item(s) the scenario tables (empty if none)."""
    for event in scenario.events:
        if event.id == GEORGIA_EVENT:
            return tuple(item.title for item in event.table if item.title)
    return ()


def _outside(year: float, window: tuple[int, int]) -> float:
    lo, hi = window
    return float(max(lo - year, 0.0, year - hi))


def _first_years(run: RunArrays, substantive: np.ndarray) -> dict[str, float]:
    """First substantive adoption year per area and for the economy; the year after the record if none."""
    never = float(RECORD_END + 1)
    first = {}
    for k, area in enumerate(run.areas):
        years = run.item_year[substantive & (run.item_area == k)]
        first[area] = float(years.min()) if len(years) else never
    first["economy"] = min([first.get(a, never) for a in ECONOMY])
    return first


def summarise(history: RunArrays, endogenous: RunArrays | None, georgia: tuple[str, ...]) -> dict[str, float]:
    """Return the summaries (``NAMES``, in that order) of one seed: its scheduled and endogenous runs.

    ``georgia`` are the titles of the 2008 recognition item (:func:`georgia_titles`).
    Items and years after ``RECORD_END`` are left out. Without an endogenous run the
    accession summaries are NaN.
    """
    run = history
    keep = run.item_year <= RECORD_END
    outcome, area = run.outcome[keep], run.item_area[keep]
    item_year, dissent = run.item_year[keep], run.dissent[keep]
    titles = [t for t, k in zip(run.titles, keep.tolist(), strict=True) if k]
    view = RunArrays(run.start_year, run.codes, run.areas, run.poles, item_year, area, outcome, dissent,
                     titles, run.status, run.alignment, run.baseline)  # fmt: skip
    substantive = np.isin(outcome, SUBSTANTIVE)
    first = _first_years(view, substantive)
    out: dict[str, float] = {}
    for name, window in WINDOWS.items():
        out[f"first.{name}"] = _outside(first[name], window)
    hum = first.get("humanitarian", float(RECORD_END + 1))
    out["first.humanitarian"] = max(first["economy"] - hum, 0.0) + max(hum - RECORD_END, 0.0)
    out.update(_texts(view, substantive))
    out.update(_dissent(view, substantive, georgia))
    out.update(_accession(history, endogenous))
    out.update(_alignment(history))
    return {name: float(out[name]) for name in NAMES}


def _group(run: RunArrays, names: tuple[str, ...]) -> np.ndarray:
    """Mask of the items whose area is one of ``names``."""
    codes = [k for k, a in enumerate(run.areas) if a in names]
    return np.isin(run.item_area, codes)


def _texts(run: RunArrays, substantive: np.ndarray) -> dict[str, float]:
    years = [y for y in run.years.tolist() if y <= RECORD_END]
    with_text = set(run.item_year[np.isin(run.outcome, TEXT)].tolist())
    out = {"texts.silent_summits": float(sum(y not in with_text for y in years))}
    for name, dated in RECORD_TEXTS.items():
        group = ECONOMY if name == "economy" else (name,)
        adopted = set(run.item_year[substantive & _group(run, group)].tolist())
        out[f"texts.{name}_missed"] = float(sum(y not in adopted for y in dated)) / len(dated)
    finance = _group(run, ("finance",))
    out["texts.finance_substantive"] = float(np.count_nonzero(substantive & finance)) / max(len(years), 1)
    return out


def _dissent(run: RunArrays, substantive: np.ndarray, georgia: tuple[str, ...]) -> dict[str, float]:
    index = {code: i for i, code in enumerate(run.codes)}
    finance = _group(run, ("finance",))
    shares = run.dissent[finance].mean(axis=0) if finance.any() else np.zeros(len(run.codes))
    russia, china = POLES
    others = [i for c, i in index.items() if c != russia]
    gitem = np.array([t in georgia for t in run.titles], dtype=bool) if georgia else np.zeros(0, bool)
    out = {
        "dissent.RUS_finance": float(shares[index[russia]]),
        "dissent.others_finance": float(shares[others].max()) if others else 0.0,
    }
    if gitem.any():
        rows = run.dissent[gitem]
        central = [index[c] for c in CENTRAL_ASIA if c in index]
        out["dissent.CHN_2008"] = float(rows[:, index[china]].mean())
        out["dissent.central_asia_2008"] = float(rows[:, central].mean()) if central else np.nan
        out["dissent.2008_adopted"] = float(bool((substantive & gitem).any()))
    else:
        out.update({"dissent.CHN_2008": np.nan, "dissent.central_asia_2008": np.nan})
        out["dissent.2008_adopted"] = np.nan
    return out


def _member_since(run: RunArrays, i: int) -> float:
    """First year state ``i`` is a member in ``run`` (up to RECORD_END); the year after if never."""
    years = run.years
    rows = np.flatnonzero((run.status[:, i] == MEMBER) & (years <= RECORD_END))
    return float(years[rows[0]]) if len(rows) else float(RECORD_END + 1)


def _accession(history: RunArrays, endogenous: RunArrays | None) -> dict[str, float]:
    if endogenous is None:
        return {f"accession.{c}": np.nan for c in (*NEWCOMERS, "others")}
    index = {code: i for i, code in enumerate(endogenous.codes)}
    out = {
        f"accession.{c}": _member_since(endogenous, index[c]) - RECORD_END for c in NEWCOMERS if c in index
    }
    before = history.years < RECORD_END
    recorded = set(np.flatnonzero((history.status[before] == MEMBER).any(axis=0)).tolist())
    last = np.flatnonzero(endogenous.years <= RECORD_END)[-1]
    members = set(np.flatnonzero(endogenous.status[last] == MEMBER).tolist())
    newcomers = {index[c] for c in NEWCOMERS if c in index}
    out["accession.others"] = float(len(members - recorded - newcomers))
    return out


def _alignment(run: RunArrays) -> dict[str, float]:
    years = run.years
    gap = run.alignment - run.baseline
    out = {}
    for p, pole in enumerate(run.poles):
        if pole not in POLES:
            continue
        for lo, hi in PERIODS:
            rows = (years >= lo) & (years <= min(hi, RECORD_END))
            out[f"kaz.{pole}.{lo}-{hi}"] = float(gap[rows, p].mean()) if rows.any() else np.nan
    return out


def as_vector(summaries: dict[str, float]) -> np.ndarray:
    """Return the summaries in the order of ``NAMES``."""
    return np.array([summaries[name] for name in NAMES], dtype=float)
