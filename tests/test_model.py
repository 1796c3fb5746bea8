"""The yearly cycle: shipped scenarios run, history shows the spillover order, invariances."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import sim
from sim.model import SCOModel
from sim.rules import OUTCOMES
from sim.scenario import load_scenario

from .conftest import SCENARIOS, SHIPPED

SECURITY = {"border_security", "three_evils", "afghanistan"}
ECONOMY = {"trade", "energy", "transport", "finance"}


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.name)
def test_every_shipped_scenario_runs_to_its_end_year(path):
    sc = load_scenario(path)
    result = sim.run(sc, seed=1)
    years = result.model["year"].tolist()
    assert years == list(range(sc.start_year, sc.end_year + 1))
    assert set(result.states["year"]) == set(years)
    assert len(result.states) == len(years) * len(sc.states)
    assert set(result.decisions["outcome"]) <= set(OUTCOMES)
    assert result.model["balancing_index"].between(0, 1).all()


def test_history_security_first_then_economy():
    """The issue's acceptance check: security adopted in the late 1990s, economy after."""
    sc = load_scenario(SCENARIOS / "history_1996.toml")
    firsts_security, firsts_economy = [], []
    for seed in range(10):
        log = sim.run(sc, seed=seed).decisions
        adopted = log[log["adopted"].notna()]
        security = adopted[adopted["area"].isin(SECURITY)]
        economy = log[log["area"].isin(ECONOMY)]
        assert (security["year"] <= 1999).any(), f"seed {seed}: no security item adopted in the 1990s"
        firsts_security.append(security["year"].min())
        firsts_economy.append(economy["year"].min())
    # Economic items appear only after the first security adoptions, in every seed.
    assert all(e > s for s, e in zip(firsts_security, firsts_economy, strict=True))


def test_history_membership_follows_the_record():
    result = sim.run(SCENARIOS / "history_1996.toml", seed=3)
    members = result.model.set_index("year")["members"]
    assert members[1996] == 5 and members[2001] == 6 and members[2016] == 6 and members[2017] == 8


def test_same_seed_same_tables_different_seed_different_tables(tiny_path):
    a = sim.run(tiny_path, seed=5)
    b = sim.run(tiny_path, seed=5)
    c = sim.run(tiny_path, seed=6)
    for name in ("model", "states", "decisions"):
        pd.testing.assert_frame_equal(a.tables[name], b.tables[name])
    assert not a.decisions.equals(c.decisions)


def test_state_order_in_the_file_does_not_matter(write, tiny_text):
    # Move Kazakhstan's table to the top of the [states] section.
    start = tiny_text.index("[states.KAZ]")
    end = tiny_text.index("[areas.security]")
    kaz = tiny_text[start:end]
    reordered = tiny_text[:start] + tiny_text[end:]
    first = reordered.index("[states.RUS]")
    reordered = reordered[:first] + kaz + reordered[first:]
    assert reordered != tiny_text
    a = sim.run(load_scenario(write(tiny_text, "a.toml")), seed=11)
    b = sim.run(load_scenario(write(reordered, "b.toml")), seed=11)
    for name in ("model", "states", "decisions"):
        pd.testing.assert_frame_equal(a.tables[name], b.tables[name])


def test_model_needs_a_seed(tiny_path):
    with pytest.raises(ValueError, match="seed"):
        SCOModel(load_scenario(tiny_path))
    with pytest.raises(ValueError, match="non-negative"):
        SCOModel(load_scenario(tiny_path), rng=-3)


def test_until_stops_early(tiny_path):
    result = sim.run(tiny_path, seed=0, until=2002)
    assert result.model["year"].tolist() == [2000, 2001, 2002]


def test_mesa_agents_are_the_states(tiny_path):
    model = SCOModel(load_scenario(tiny_path), rng=0)
    assert sorted(a.iso3 for a in model.agents) == ["CHN", "KAZ", "RUS"]
    kaz = model.states_by_code["KAZ"]
    assert kaz.is_member and kaz.status == "member"
    assert kaz.weights == {"security": 0.3, "economy": 0.25, "balancing": 0.3, "regime": 0.15}
    assert kaz.alignment == {"RUS": 0.8, "CHN": 0.5}
    assert 0 <= kaz.balancing_index <= 1


def test_decision_log_columns_and_consistency():
    result = sim.run(SCENARIOS / "sco8_2017.toml", seed=2)
    log = result.decisions
    expected = [
        "year",
        "item",
        "area",
        "title",
        "initiator",
        "proposed",
        "adopted",
        "outcome",
        "objectors",
        "opt_outs",
        "rounds",
    ]
    assert set(expected) <= set(log.columns)
    blocked = log[log["outcome"] == "blocked"]
    assert (blocked["objectors"] != "").all() and blocked["adopted"].isna().all()
    adopted = log[log["adopted"].notna()]
    assert (adopted["adopted"] <= adopted["proposed"] + 1e-9).all()
    assert (adopted["adopted"] >= adopted["status_quo"] - 1e-9).all()
    # yearly counts in the model table agree with the log
    per_year = log.groupby("year")["outcome"].value_counts().unstack(fill_value=0)
    model = result.model.set_index("year")
    for outcome in per_year.columns:
        assert (model.loc[per_year.index, outcome] == per_year[outcome]).all()


def test_depth_never_falls_and_stays_in_range():
    result = sim.run(SCENARIOS / "history_1996.toml", seed=4)
    depth = result.model.filter(like="depth_")
    assert (depth.diff().dropna() >= -1e-12).all().all()
    assert ((depth >= 0) & (depth <= 100)).all().all()


def test_qualified_majority_adopts_over_named_objectors():
    path = SCENARIOS / "history_1996.toml"
    qmv_scenario = load_scenario(path, overrides={"rules": {"decision_rule": "qualified_majority"}})
    qmv = pd.concat([sim.run(qmv_scenario, seed=s).decisions for s in range(5)])
    consensus = pd.concat([sim.run(load_scenario(path), seed=s).decisions for s in range(5)])
    assert not (consensus["adopted"].notna() & (consensus["objectors"] != "")).any()
    outvoted = qmv[qmv["adopted"].notna() & (qmv["objectors"] != "")]
    assert len(outvoted) > 0  # adopted over somebody's objection, and the objector is named


def test_opt_out_rule_runs_in_the_model():
    sc = load_scenario(
        SCENARIOS / "sco8_2017.toml", overrides={"rules": {"decision_rule": "consensus_opt_out"}}
    )
    logs = pd.concat([sim.run(sc, seed=s).decisions for s in range(10)])
    assert (logs["outcome"] == "adopted_opt_out").any()
    opted = logs[logs["outcome"] == "adopted_opt_out"]
    assert (opted["opt_outs"] != "").all()


def test_events_shift_threat(tiny_path, write, tiny_text):
    text = tiny_text + '[[events]]\nyear = 2003\nlabel = "crisis"\nthreat = { KAZ = { RUS = 0.4 } }\n'
    states = sim.run(load_scenario(write(text)), seed=0).states
    kaz = states[states["state"] == "KAZ"].set_index("year")
    assert kaz.loc[2002, "threat_RUS"] == 0.0
    assert kaz.loc[2003, "threat_RUS"] == pytest.approx(0.4)


def test_capability_series_interpolates_and_grows(write, tiny_text):
    text = tiny_text.replace(
        "capability = 0.003\n", "capability = { 2000 = 0.002, 2004 = 0.004 }\ncapability_growth = 0.1\n"
    )
    text = text.replace("end_year = 2005", "end_year = 2006")
    states = sim.run(load_scenario(write(text)), seed=0).states
    kaz = states[states["state"] == "KAZ"].set_index("year")["capability"]
    np.testing.assert_allclose(
        kaz.loc[[2000, 2002, 2004, 2005, 2006]], [0.002, 0.003, 0.004, 0.0044, 0.00484]
    )


def test_min_readiness_zero_runs():
    sc = load_scenario(SCENARIOS / "history_1996.toml", overrides={"parameters": {"min_readiness": 0.0}})
    assert len(sim.run(sc, seed=0).decisions) > 0


def test_second_event_item_in_one_area_waits_a_year(write, tiny_text):
    text = tiny_text.replace(
        "salience = { trade = 0.3 }",
        'table = [{ area = "security", initiator = "CHN", title = "first", ambition = 90.0 },'
        ' { area = "security", initiator = "RUS", title = "second", ambition = 95.0 }]',
    )
    log = sim.run(load_scenario(write(text)), seed=0).decisions
    assert log.loc[log["title"] == "first", "year"].tolist() == [2002]
    assert log.loc[log["title"] == "second", "year"].tolist() == [2003]


def test_members_admitted_in_the_start_year_start_with_newcomer_trust():
    model = SCOModel(load_scenario(SCENARIOS / "sco8_2017.toml"), rng=0)
    ind, kaz, rus = model.index["IND"], model.index["KAZ"], model.index["RUS"]
    assert model.trust[ind, rus] == model.params.trust_newcomer
    assert model.trust[kaz, rus] == model.params.trust_initial


def test_compromise_rule_never_lowers_depth():
    sc = load_scenario(SCENARIOS / "history_1996.toml", overrides={"rules": {"decision_rule": "compromise"}})
    result = sim.run(sc, seed=3)
    adopted = result.decisions[result.decisions["adopted"].notna()]
    assert (adopted["adopted"] >= adopted["status_quo"]).all()


def test_declared_table_columns_match_the_output():
    from sim.model.recorder import table_columns

    model = SCOModel(load_scenario(SCENARIOS / "sco8_2017.toml"), rng=0)
    model.run()
    tables = model.tables()
    declared = table_columns(model.poles, model.areas)
    for name in ("model", "states", "decisions"):
        assert list(tables[name].columns) == declared[name], name


def test_a_released_model_is_garbage_collected(tiny_path):
    """Batches run thousands of models per worker: none may stay alive (mesa/mesa#3179)."""
    import gc
    import weakref

    model = SCOModel(load_scenario(tiny_path), rng=0)
    model.run()
    tables = model.tables()
    model.release()
    ref = weakref.ref(model)
    del model
    gc.collect()
    assert ref() is None
    assert len(tables["model"]) == 6  # the tables survive the model


def test_the_model_has_everything_its_parts_read(tiny_path):
    # mypy cannot check this (mesa is untyped, so SCOModel derives from Any): check it here.
    import inspect

    from sim.model.state import ModelState

    model = SCOModel(load_scenario(tiny_path), rng=0)
    declared = set(ModelState.__annotations__)
    methods = {name for name, _ in inspect.getmembers(ModelState) if not name.startswith("_")}
    assert {"members", "agents", "tolerance", "update_members", "balancing_indices"} <= methods
    missing = sorted(name for name in declared | methods if not hasattr(model, name))
    assert missing == []
    for name in ("depth", "trust", "alignment", "status", "capability", "stakes_by_area", "pole_index"):
        assert isinstance(getattr(model, name), np.ndarray), name
    for name in ("codes", "poles", "areas", "area_titles", "carried", "blocked_pool"):
        assert isinstance(getattr(model, name), list), name
    assert isinstance(model.focal, int) and isinstance(model.item_counter, int)


def test_the_models_parts_import_no_model_class():
    # The parts take the ModelState protocol; none of them names SCOModel (import-linter checks imports).
    import sim.model as package

    folder = Path(package.__file__).parent
    for part in ("agenda", "agents", "balancing", "items", "membership", "recorder", "state"):
        text = (folder / f"{part}.py").read_text()
        assert "from sim.model.model import" not in text, part
        assert "import sim.model.model" not in text, part
