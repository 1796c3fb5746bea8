"""Agenda formation: readiness and spillover, stakes, attitudes, one item per area."""

from __future__ import annotations

import numpy as np
import pytest

from sim.model import SCOModel, agenda
from sim.rules import DEFERRED
from sim.scenario import load_scenario

from .conftest import SCENARIOS


@pytest.fixture
def model(tiny_path):
    return SCOModel(load_scenario(tiny_path), rng=0)


def _wanted(model, area):
    return min(1.0, model.params.demand_weight * agenda.demand(model)[area])


def test_area_with_parents_waits_for_their_depth(model):
    security, trade = model.area_index["security"], model.area_index["trade"]
    model.depth[:] = 0.0
    ready = agenda.readiness(model)
    assert _wanted(model, security) > 0
    assert ready[security] == pytest.approx(0.8 * _wanted(model, security))  # base salience, no parents
    assert ready[trade] == 0.0  # its parent has no depth yet
    model.depth[security] = model.params.spillover_depth / 2
    half = agenda.readiness(model)[trade]
    expected = 0.5 * 0.5**model.params.spillover_shape * _wanted(model, trade)  # base 0.5, gate (1/2)^shape
    assert half == pytest.approx(expected)
    model.depth[security] = 100.0
    assert agenda.readiness(model)[trade] == pytest.approx(0.5 * _wanted(model, trade))


def test_readiness_follows_demand_and_rises_with_shocks(model):
    security = model.area_index["security"]
    ideal = agenda.ideal_depth(model)[model.members, security].max()
    model.depth[security] = ideal - 10.0
    assert agenda.demand(model)[security] == pytest.approx(0.10)
    low = agenda.readiness(model)[security]
    assert low == pytest.approx(0.8 * min(1.0, model.params.demand_weight * 0.10))
    model.depth[security] = ideal + 5.0  # deeper than anybody wants: no demand
    assert agenda.demand(model)[security] == 0.0
    assert agenda.readiness(model)[security] == 0.0
    model.shock[security] = 0.3
    assert agenda.readiness(model)[security] == pytest.approx(0.3)


def test_spillover_switch_opens_every_area_and_drops_the_ambition_boost(tiny_path):
    sc = load_scenario(tiny_path, overrides={"mechanisms": {"spillover": False}})
    model = SCOModel(sc, rng=0)
    trade = model.area_index["trade"]
    model.depth[:] = 0.0
    model.benefit[:] = 1.0
    assert agenda.spillover_boost(model).tolist() == [0.0] * len(model.areas)
    assert agenda.readiness(model)[trade] == pytest.approx(0.5 * _wanted(model, trade))


def test_realised_benefits_raise_ambitions_in_the_areas_they_spill_into(model):
    trade = model.area_index["trade"]
    before = agenda.ideal_depth(model)[:, trade].copy()
    model.benefit[model.area_index["security"]] = 0.2
    after = agenda.ideal_depth(model)[:, trade]
    assert agenda.spillover_boost(model)[trade] == pytest.approx(0.2)  # trade's only parent is security
    grew = after > before
    assert grew.any() and (after >= before).all()


def test_stakes_scale_regime_weight_by_autocracy(model):
    kaz = model.index["KAZ"]
    security = model.area_index["security"]
    # relevance security 0.8, balancing 0.1, regime 0.1; KAZ weights 0.3/0.25/0.3/0.15, polyarchy 0.3
    expected = 0.8 * 0.3 + 0.1 * 0.3 + 0.1 * 0.15 * (1 - 0.3)
    assert model.stakes[kaz, security] == pytest.approx(expected)


def test_pole_attitude(model):
    attitude = agenda.pole_attitude(model)
    rus, chn = model.poles.index("RUS"), model.poles.index("CHN")
    assert attitude[model.index["RUS"], rus] == 1.0
    assert attitude[model.index["CHN"], chn] == 1.0
    kaz = model.index["KAZ"]
    assert attitude[kaz, rus] == pytest.approx(0.8 - 0.5)  # no threat in the tiny scenario
    model.threat[kaz, chn] = 0.5
    lowered = agenda.pole_attitude(model)[kaz, chn]
    assert lowered == pytest.approx((0.5 - 0.5) - model.params.threat_weight * 0.3 * 0.5)


def test_one_item_per_area_and_only_ready_areas():
    model = SCOModel(load_scenario(SCENARIOS / "history_1996.toml"), rng=3)
    for _ in range(10):
        year = model.year
        events = [e for e in model.sco_scenario.events if e.year == year]
        model.apply_events(year, events)
        items = agenda.form_agenda(model, year, events)
        assert len(set(items.area.tolist())) == len(items)
        assert len(items) <= max(model.params.agenda_size, len(events))
        assert (items.proposal >= items.status_quo + model.rules.min_increment).all()
        assert model.members[items.initiator].all()
        assert ((items.positions >= 0) & (items.positions <= 100)).all()
        assert ((items.saliences > 0) & (items.saliences <= 1)).all()
        model.apply_consequences(items, model.decide(items))
        model.year += 1


def test_first_year_items_are_border_security_only():
    # In 1996 nothing else has a foundation yet: spillover gates every other area
    # except joint external positions, whose base salience is below the threshold.
    model = SCOModel(load_scenario(SCENARIOS / "history_1996.toml"), rng=0)
    events = [e for e in model.sco_scenario.events if e.year == 1996]
    model.apply_events(1996, events)
    items = agenda.form_agenda(model, 1996, events)
    assert [model.areas[a] for a in items.area] == ["border_security"]
    assert items.origins == ["event"]
    assert items.proposal.tolist() == [60.0]


def test_explicit_positions_on_a_tabled_item_override_the_formula(tiny_text, write):
    text = tiny_text + (
        '\n[[events]]\nyear = 2001\nlabel = "tabled"\ntable = [{ area = "security", initiator = "RUS", '
        'title = "Written stances", ambition = 80.0, positions = { CHN = 5.0 }, saliences = { CHN = 0.9 } }]\n'
    )
    model = SCOModel(load_scenario(write(text)), rng=0)
    model.step()
    events = [e for e in model.sco_scenario.events if e.year == 2001]
    model.apply_events(2001, events)
    items = agenda.form_agenda(model, 2001, events)
    tabled = items.titles.index("Written stances")
    chn = model.index["CHN"]
    assert items.positions[tabled, chn] == 5.0
    assert items.saliences[tabled, chn] == 0.9
    assert np.isclose(items.proposal[tabled], 80.0)


def test_the_2008_item_writes_no_position_only_that_it_touches_territorial_integrity():
    scenario = load_scenario(SCENARIOS / "history_1996.toml")
    (item,) = [t for e in scenario.events if e.id == "georgia_2008" for t in e.table]
    assert item.positions == {} and item.saliences == {} and item.sovereignty


def test_items_are_copied_when_tabled_again_or_carried():
    item = agenda.Item(2, None, "t", None, None, {}, {}, "agenda")
    again = item.tabled_as("retabled")
    carried = item.carried("deferred", 1)
    assert (again.origin, again.area, again.deferrals) == ("retabled", 2, 0)
    assert (carried.carried_as, carried.deferrals, carried.origin) == ("deferred", 1, "agenda")
    again.initiator = 0
    assert item.initiator is None and item.origin == "agenda" and item.carried_as is None
    with pytest.raises(AttributeError):
        item.colour = "red"  # slots: a misspelt field fails loudly


def _first_year(rng=0):
    model = SCOModel(load_scenario(SCENARIOS / "history_1996.toml"), rng=rng)
    events = [e for e in model.sco_scenario.events if e.year == 1996]
    model.apply_events(1996, events)
    items = agenda.form_agenda(model, 1996, events)
    decision = model.decide(items)
    decision.outcome[:] = DEFERRED
    decision.adopted[:] = np.nan
    return model, items, decision


def test_a_deferred_item_returns_next_year_as_deferred():
    model, items, decision = _first_year()
    assert (
        len(items) == 1 and items.policy_items[0].initiator is not None
    )  # the initiator is fixed once tabled
    model.apply_consequences(items, decision)
    assert [(i.deferrals, i.carried_as) for i in model.carried] == [(1, "deferred")]
    assert model.carried[0] is not items.policy_items[0] and items.policy_items[0].deferrals == 0
    assert model.blocked_pool == []
    later = agenda.form_agenda(model, 1997, [])
    assert later.origins[0] == "deferred" and later.titles[0] == items.titles[0]
    assert later.initiator[0] == items.initiator[0] and later.proposal[0] == items.proposal[0]
    assert model.carried == []


def test_an_item_deferred_too_often_goes_to_the_blocked_pool():
    model, items, decision = _first_year()
    items.policy_items[0].deferrals = model.params.max_deferrals
    model.apply_consequences(items, decision)
    assert model.carried == []
    assert [i.area for i in model.blocked_pool] == [int(items.area[0])]
