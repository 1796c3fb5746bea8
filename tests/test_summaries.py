"""The calibration's summaries (sim.analysis.summaries) and the simulator's fast path.

A hand-made run checks each summary against a value worked out by hand; a real run
checks that the recorder's arrays and the tables give the same summaries, and that a
parameter variant built from the loaded scenario runs exactly like the scenario loaded
with the same overrides.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from sim.analysis import summaries as S
from sim.analysis.simulator import Simulator, Space, variant_scenarios
from sim.model import SCOModel, run
from sim.model.arrays import scenario_arrays, variant_arrays
from sim.rules import ADOPTED, BLOCKED, DILUTED, OPT_OUT
from sim.scenario import STATUSES, load_scenario

from .conftest import SCENARIOS

HISTORY = SCENARIOS / "history_1996.toml"
MEMBER, OBSERVER = STATUSES.index("member"), STATUSES.index("observer")
CODES = ["CHN", "IND", "KAZ", "KGZ", "PAK", "RUS", "TJK", "UZB", "MNG"]
AREAS = ["border_security", "three_evils", "trade", "finance", "humanitarian", "external"]
GEORGIA = "Endorse recognition"


def hand_made() -> tuple[S.RunArrays, S.RunArrays]:
    """1996-2018 (one year after the record), nine states, a few items with known outcomes."""
    years = np.arange(1996, 2019)
    # (year, area, outcome, dissenters, title)
    items = [
        (1997, "border_security", ADOPTED, [], "a"),  # first border text 1997: in 1996-98
        (2000, "border_security", DILUTED, [], "b"),
        (2005, "three_evils", OPT_OUT, ["KAZ"], "c"),  # first three evils 2005: 2 years late
        (2002, "three_evils", DILUTED, [], "d"),  # diluted: not a first adoption
        (2003, "trade", ADOPTED, [], "e"),  # economy 2003: in 2000-04, one of its dated years
        (2008, "external", BLOCKED, ["CHN", "KAZ", "RUS"], GEORGIA),  # China and one of 4 Central Asians
        (2010, "finance", BLOCKED, ["RUS", "KAZ"], "bank"),
        (2012, "finance", DILUTED, ["RUS"], "bank"),
        (2015, "finance", ADOPTED, [], "bank"),  # a substantive finance text
        (2016, "finance", BLOCKED, ["RUS"], "bank"),
        (2001, "humanitarian", ADOPTED, [], "h"),  # humanitarian before the economy: 2 years
        (2018, "finance", ADOPTED, ["KGZ"], "late"),  # after 2017: never read
    ]
    index = {c: i for i, c in enumerate(CODES)}
    dissent = np.zeros((len(items), len(CODES)), dtype=bool)
    for row, item in enumerate(items):
        for code in item[3]:
            dissent[row, index[code]] = True
    status = np.full((len(years), len(CODES)), MEMBER, dtype=np.int8)
    for code in ("IND", "PAK", "MNG"):
        status[:, index[code]] = OBSERVER
    status[years < 2001, index["UZB"]] = OBSERVER  # a founding member of 2001: not an accession
    alignment = np.zeros((len(years), 2))
    alignment[:, 0] = 0.5 + 0.1 * (years >= 2004)  # RUS: 0.1 above the data from 2004
    alignment[:, 1] = 0.3
    baseline = np.full((len(years), 2), [0.5, 0.3])
    baseline[years >= 2011, 1] = 0.4  # CHN: 0.1 below the data from 2011
    history = S.RunArrays(
        start_year=1996,
        codes=CODES,
        areas=AREAS,
        poles=["RUS", "CHN"],
        item_year=np.array([i[0] for i in items]),
        item_area=np.array([AREAS.index(i[1]) for i in items]),
        outcome=np.array([i[2] for i in items]),
        dissent=dissent,
        titles=[i[4] for i in items],
        status=status,
        alignment=alignment,
        baseline=baseline,
    )
    endogenous_status = status.copy()
    endogenous_status[years >= 2016, index["IND"]] = MEMBER  # a year early
    endogenous_status[years >= 2017, index["MNG"]] = MEMBER  # somebody else joins
    endogenous = S.RunArrays(**{**history.__dict__, "status": endogenous_status})
    return history, endogenous


def test_summaries_of_a_hand_made_run():
    history, endogenous = hand_made()
    got = S.summarise(history, endogenous, (GEORGIA,))
    assert list(got) == list(S.NAMES)
    expected = {
        "first.border_security": 0.0,
        "first.three_evils": 2.0,  # 2005 against 1997-2003
        "first.economy": 0.0,
        "first.humanitarian": 2.0,  # 2001, the economy 2003
        "texts.silent_summits": 22.0 - 8,  # texts in 1997 2000 2001 2002 2003 2005 2012 2015
        "texts.border_security_missed": 0.5,  # 1996 missed, 1997 matched
        "texts.three_evils_missed": 1.0,  # 2001 and 2002 missed (2002 only diluted)
        "texts.economy_missed": 0.5,  # 2001 missed, 2003 matched
        "texts.finance_substantive": 1 / 22,  # 2015, over 22 summits (2018 not read)
        "dissent.RUS_finance": 3 / 4,
        "dissent.others_finance": 1 / 4,  # KAZ on one of four (KGZ's 2018 dissent not read)
        "dissent.CHN_2008": 1.0,
        "dissent.central_asia_2008": 1 / 4,
        "dissent.2008_adopted": 0.0,
        "accession.IND": -1.0,
        "accession.PAK": 1.0,  # not a member by 2017
        "accession.others": 1.0,  # MNG; UZB (a member before 2017 on the record's path) does not count
        "kaz.RUS.1996-2003": 0.0,
        "kaz.RUS.2004-2010": pytest.approx(0.1),
        "kaz.RUS.2011-2017": pytest.approx(0.1),
        "kaz.CHN.1996-2003": 0.0,
        "kaz.CHN.2004-2010": 0.0,
        "kaz.CHN.2011-2017": pytest.approx(-0.1),
    }
    assert got == expected


def test_a_run_without_the_endogenous_variant_or_the_2008_item_gives_nan_there():
    history, _ = hand_made()
    got = S.summarise(history, None, ())
    assert all(np.isnan(got[k]) for k in ("accession.IND", "accession.PAK", "accession.others"))
    assert np.isnan(got["dissent.CHN_2008"]) and np.isnan(got["dissent.2008_adopted"])
    assert S.as_vector(got).shape == (len(S.NAMES),)


def test_the_record_scores_zero_discrepancy_where_it_says_so():
    assert S.OBSERVED["dissent.RUS_finance"] == 1.0 and S.OBSERVED["dissent.CHN_2008"] == 1.0
    assert sum(v != 0 for v in S.OBSERVED.values()) == 3
    assert S.RECORD_END == 2017


@pytest.mark.slow  # about 2 s: four runs and their tables
def test_recorder_arrays_and_tables_give_the_same_summaries():
    scenario = load_scenario(HISTORY)
    endogenous = load_scenario(HISTORY, overrides={"membership": {"mode": "endogenous"}})
    georgia = S.georgia_titles(scenario)
    assert georgia == ("Endorse recognition of Abkhazia and South Ossetia",)
    model, other = SCOModel(scenario, rng=3).run(), SCOModel(endogenous, rng=3).run()
    fast = S.summarise(S.from_model(model), S.from_model(other), georgia)
    tables = S.summarise(
        S.from_tables(model.tables(), scenario), S.from_tables(other.tables(), endogenous), georgia
    )
    assert fast == tables
    assert 0.0 < fast["dissent.CHN_2008"] <= 1.0 and fast["accession.IND"] in (-1.0, 0.0, 1.0)


def test_a_parameter_variant_runs_like_the_scenario_loaded_with_its_overrides():
    overrides = {
        "parameters": {"position_scale": 1.7, "agenda_size": 3, "trust_initial": 0.6},
        "rules": {"tolerance": 0.05},
    }
    history, endogenous = variant_scenarios(str(HISTORY), overrides)
    loaded = load_scenario(HISTORY, overrides=overrides)
    for name in ("model", "states", "decisions"):
        pd.testing.assert_frame_equal(run(history, seed=4).tables[name], run(loaded, seed=4).tables[name])
    assert endogenous.membership.mode == "endogenous" and endogenous.parameters.agenda_size == 3


def test_only_parameter_variants_share_arrays():
    base = load_scenario(HISTORY)
    arrays = scenario_arrays(base, base.end_year)
    other = base.model_copy(update={"focal_state": "UZB"})
    with pytest.raises(ValueError, match="focal_state"):
        variant_arrays(arrays, other)
    same = variant_arrays(
        arrays, base.model_copy(update={"rules": base.rules.model_copy(update={"tolerance": 0.1})})
    )
    assert same.stakes is arrays.stakes and same.base_desire is arrays.base_desire


def test_the_simulator_counts_its_time_and_rounds_whole_numbers():
    space = Space({"agenda_size": (2, 6), "tolerance": (0.02, 0.15)}, {"agenda_size": "parameters", "tolerance": "rules"},
                  frozenset({"agenda_size"}))  # fmt: skip
    assert space.bounds("agenda_size") == (1.5, 6.5) and space.point(
        {"agenda_size": 6.49, "tolerance": 0.1}
    ) == {
        "agenda_size": 6,
        "tolerance": 0.1,
    }
    assert space.dotted("tolerance") == "rules.tolerance"
    simulator = Simulator(str(HISTORY), space)
    first = simulator.simulate({"agenda_size": 3.2, "tolerance": 0.1}, 7)
    again = simulator.simulate({"agenda_size": 2.8, "tolerance": 0.1}, 7)  # rounds to the same point
    assert first == again and simulator.counts["calls"] == 2
    assert 0 < simulator.counts["model_cpu"] <= simulator.counts["call_cpu"] + 1e-3
