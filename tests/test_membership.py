"""Endogenous membership: applications, the accession ladder, lags, packages, moratorium."""

from __future__ import annotations

import itertools

import pytest

import sim
from sim.model import SCOModel, membership
from sim.scenario import load_scenario

from .conftest import SCENARIOS

ENDOGENOUS = {"membership": {"mode": "endogenous"}}


def statuses(result, code):
    states = result.states
    return states[states["state"] == code].set_index("year")["status"]


def test_endogenous_history_decides_the_steps_with_lags_and_package():
    sc = load_scenario(SCENARIOS / "history_1996.toml", overrides=ENDOGENOUS)
    seen_steps = 0
    for seed in range(8):
        result = sim.run(sc, seed=seed)
        ind, pak = statuses(result, "IND"), statuses(result, "PAK")
        # India and Pakistan are a package: they always stand at the same step.
        assert (ind.loc[2014:] == pak.loc[2014:]).all()
        # Applications are scheduled (2014); nothing beyond them is before 2015.
        assert ind.loc[2014] in ("applicant",)
        ladder = ["applicant", "candidate", "memorandum", "member"]
        steps = [ladder.index(s) for s in ind.loc[2014:]]
        assert steps == sorted(steps)  # never moves backwards
        assert all(b - a <= 1 for a, b in itertools.pairwise(steps))  # one step a year at most (lags 1)
        log = result.decisions[result.decisions["area"] == "enlargement"]
        assert (log["title"].str.startswith("IND+PAK")).all()
        seen_steps += len(log)
    assert seen_steps > 0


def test_moratorium_stops_enlargement_items():
    # The 2010 event lifting the moratorium is replayed as an initial condition,
    # so a new moratorium comes as an event in the run.
    freeze = {"year": 2017, "label": "members suspend expansion", "moratorium": True}
    sc = load_scenario(
        SCENARIOS / "sco6_2017.toml",
        overrides={"membership": {"mode": "endogenous", "lag_memorandum": 0}, "events": [freeze]},
    )
    result = sim.run(sc, seed=0)
    assert result.model["moratorium"].all()
    assert (result.decisions["area"] != "enlargement").all()
    assert (statuses(result, "IND") == "memorandum").all()


def test_lags_are_respected():
    sc = load_scenario(
        SCENARIOS / "sco6_2017.toml",
        overrides={"membership": {"mode": "endogenous", "lag_memorandum": 5}},
    )
    for seed in range(3):
        ind = statuses(sim.run(sc, seed=seed), "IND")
        # memorandum signed in 2016 (prehistory): no accession before 2021
        assert (ind.loc[:2020] == "memorandum").all()


def test_members_decide_accession_under_their_rule():
    base = {"membership": {"mode": "endogenous", "lag_memorandum": 0}}
    sc = load_scenario(SCENARIOS / "sco6_2017.toml", overrides=base)
    result = sim.run(sc, seed=1)
    log = result.decisions[result.decisions["area"] == "enlargement"]
    assert len(log) >= 1
    first = log.iloc[0]
    assert first["proposed"] == 100.0 and first["status_quo"] == 0.0
    assert first["outcome"] in ("adopted", "blocked", "deferred")
    ind = statuses(result, "IND")
    if first["outcome"] == "adopted":
        assert ind.loc[first["year"]] == "member"
    else:
        assert ind.loc[first["year"]] == "memorandum"


def test_endogenous_applications_come_from_observers_that_want_membership():
    sc = load_scenario(
        SCENARIOS / "sco6_2017.toml",
        overrides={"membership": {"mode": "endogenous", "apply_probability": 1.0}},
    )
    result = sim.run(sc, seed=0, until=2018)
    model = SCOModel(sc, rng=0)
    mng = statuses(result, "MNG")
    assert (mng == "observer").all()  # Mongolia never sought it
    for code in ("IRN", "BLR"):  # observers that seek membership: they apply if they expect a welcome
        welcome = membership.expected_welcome(model, model.index[code])
        status = statuses(result, code).loc[2017]
        assert (status in ("applicant", "candidate")) == (welcome > 0), (code, welcome, status)


def test_an_observer_applies_only_when_the_members_would_welcome_it():
    sc = load_scenario(
        SCENARIOS / "sco6_2017.toml",
        overrides={"membership": {"mode": "endogenous", "apply_probability": 1.0}},
    )
    model = SCOModel(sc, rng=0)
    iran = model.index["IRN"]
    model.rivalry[:, iran] = 0.0
    model.alignment[iran] = model.alignment[model.index["KAZ"]]  # leans as the members do
    agent = model.states_by_code["IRN"]
    welcome = membership.expected_welcome(model, iran)
    assert agent.wants_to_apply() == (welcome > 0)
    model.params = model.params.model_copy(update={"voice_dilution": 100.0})  # every seat costs a lot
    assert membership.expected_welcome(model, iran) < 0
    assert agent.wants_to_apply() is False


def test_new_members_start_with_newcomer_trust():
    model = SCOModel(load_scenario(SCENARIOS / "history_1996.toml"), rng=0, until=2017)
    model.run()
    i, r = model.index["IND"], model.index["RUS"]
    assert model.trust[i, r] == pytest.approx(model.params.trust_newcomer, abs=0.05)
    k = model.index["KAZ"]
    assert model.trust[k, r] > model.trust[i, r]


@pytest.mark.parametrize("rule", ["consensus", "compromise", "qualified_majority"])
def test_endogenous_mode_never_moves_a_state_back_down(rule):
    overrides = {"membership": {"mode": "endogenous", "lag_application": 0}, "rules": {"decision_rule": rule}}
    sc = load_scenario(SCENARIOS / "history_1996.toml", overrides=overrides)
    ladder = ["observer", "applicant", "candidate", "memorandum", "member"]
    for seed in range(4):
        result = sim.run(sc, seed=seed)
        for code in ("IND", "PAK"):
            steps = [ladder.index(s) for s in statuses(result, code).loc[2005:]]
            assert steps == sorted(steps), (rule, seed, code)
        # Founding members join as written even in endogenous mode.
        assert statuses(result, "UZB").loc[2001] == "member"


def test_a_scheduled_lower_status_does_not_undo_an_application():
    # Belarus (a partner from 2009 that seeks membership) applies as soon as the 2007-2010
    # moratorium is lifted (no cost of a seat: the members welcome it); the record's 2015
    # 'observer' entry must not send it back down.
    overrides = {
        "membership": {"mode": "endogenous", "apply_probability": 1.0, "lag_application": 50},
        "parameters": {"voice_dilution": 0.0},
    }
    result = sim.run(load_scenario(SCENARIOS / "history_1996.toml", overrides=overrides), seed=0)
    blr = statuses(result, "BLR")
    assert blr.loc[2009] == "partner"
    assert (blr.loc[2010:] == "applicant").all()


def test_postponed_event_item_keeps_its_origin(write, tiny_text):
    text = tiny_text.replace(
        "salience = { trade = 0.3 }",
        'table = [{ area = "security", initiator = "CHN", title = "first", ambition = 90.0 },'
        ' { area = "security", initiator = "RUS", title = "second", ambition = 95.0 }]',
    )
    log = sim.run(load_scenario(write(text)), seed=0).decisions
    assert log.loc[log["title"] == "second", "origin"].tolist() == ["event"]
