"""Dissent the SCO way: participation costs, standing aside, blocking, and the decision record."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import sim
from sim.model import SCOModel
from sim.rules import BLOCKED, DEFERRED, DILUTED, OPT_OUT, BargainInput, RuleSettings, get_rule
from sim.scenario import load_scenario

from .conftest import SCENARIOS

# Four members; KGZ has a territorial claim against KAZ (written with a source, as a
# scenario must). One item, tabled by RUS, benefits KAZ; every written position wants
# the proposal, so only the claim can stand in the way.
CLAIM_SCENARIO = """
name = "claim"
start_year = 2000
end_year = 2000
poles = ["RUS", "CHN"]
focal_state = "KAZ"
[rules]
decision_rule = "sco_practice"
tolerance = 0.05
[parameters]
claim_cost = 1.0
agenda_size = 0
[states.RUS]
name = "Russia"
status = {{ 2000 = "member" }}
capability = 0.05
weights = {{ security = 0.4, economy = 0.2, balancing = 0.3, regime = 0.1 }}
alignment = {{ CHN = 0.5 }}
polyarchy = 0.3
[states.CHN]
name = "China"
status = {{ 2000 = "member" }}
capability = 0.15
weights = {{ security = 0.4, economy = 0.4, balancing = 0.1, regime = 0.1 }}
alignment = {{ RUS = 0.5 }}
polyarchy = 0.1
[states.KAZ]
name = "Kazakhstan"
status = {{ 2000 = "member" }}
capability = 0.003
weights = {{ security = 0.3, economy = 0.25, balancing = 0.3, regime = 0.15 }}
alignment = {{ RUS = 0.8, CHN = 0.5 }}
polyarchy = 0.3
[states.KGZ]
name = "Kyrgyzstan"
status = {{ 2000 = "member" }}
capability = 0.001
weights = {{ security = 0.4, economy = 0.3, balancing = 0.1, regime = 0.2 }}
alignment = {{ RUS = 0.8, CHN = 0.4 }}
polyarchy = 0.3
[areas.corridor]
label = "A corridor"
relevance = {{ security = 0.1, economy = 0.8, balancing = 0.1, regime = 0.0 }}
base_salience = 0.5
kind = "{kind}"
{claims}
[[events]]
year = 2000
label = "the item"
table = [{{ area = "corridor", initiator = "RUS", title = "Corridor to Kazakhstan", ambition = 70.0, beneficiary = "KAZ", positions = {{ RUS = 80.0, CHN = 80.0, KAZ = {kaz}, KGZ = 80.0 }}, saliences = {{ RUS = 0.5, CHN = 0.5, KAZ = 0.5, KGZ = 0.5 }} }}]
"""
CLAIM = """
[[claims]]
states = ["KGZ", "KAZ"]
salience = 12
start_year = 1991
source = "test fixture"
"""


def decide(write, kind="project", claim=True, kaz=80.0, rule="sco_practice", texts=False):
    text = CLAIM_SCENARIO.format(kind=kind, claims=CLAIM if claim else "", kaz=kaz)
    text = text.replace('decision_rule = "sco_practice"', f'decision_rule = "{rule}"')
    result = sim.run(load_scenario(write(text)), seed=0, texts=texts)
    log = result.decisions
    return log[log["origin"] == "event"].iloc[0], result


def test_a_member_with_a_claim_stands_aside_from_a_project_while_the_others_adopt_it(write):
    row, result = decide(write, kind="project")
    assert row["outcome"] == "adopted_opt_out"
    assert row["stood_aside"] == "KGZ" and row["dissenters"] == "KGZ" and row["blocked_by"] == ""
    assert row["reasons"] == "KGZ:sovereignty"
    assert row["rounds"] == 1  # standing aside needs no redrafting
    assert result.model["stand_asides"].sum() == 1 and result.model["blocks"].sum() == 0


def test_the_same_member_blocks_a_common_item(write):
    row, result = decide(write, kind="common")
    assert row["outcome"] == "blocked"
    assert row["blocked_by"] == "KGZ" and row["stood_aside"] == ""
    assert result.model["blocks"].sum() == 1
    kgz = result.states[result.states["state"] == "KGZ"]
    assert kgz["blocks"].sum() == 1 and kgz["dissents"].sum() == 1


def test_without_the_claim_the_item_passes_by_redrafting_as_before(write):
    row, _ = decide(write, kind="common", claim=False, kaz=10.0)
    # KAZ's policy loss at 70 is 0.5 * (60 - 10) / 100 = 0.25 > 0.05: the text is redrafted
    # (x 0.75 a round) until |x - 10| <= 20: 70, 52.5, 39.4, 29.5 -> the fourth text passes.
    assert row["outcome"] == "diluted" and row["rounds"] == 4
    assert row["adopted"] == pytest.approx(70 * 0.75**3)
    assert row["dissenters"] == "KAZ" and row["blocked_by"] == "" and row["objectors"] == ""
    # ... and exactly as the plain consensus rule would decide it.
    plain, _ = decide(write, kind="common", claim=False, kaz=10.0, rule="consensus")
    assert (
        plain[["outcome", "adopted", "rounds", "dissenters"]].tolist()
        == row[["outcome", "adopted", "rounds", "dissenters"]].tolist()
    )


def test_the_texts_table_records_every_text_member_by_member(write):
    row, result = decide(write, kind="common", kaz=10.0, texts=True)
    texts = result.texts
    item = texts[texts["item"] == row["item"]]
    assert sorted(item["state"].unique()) == ["CHN", "KAZ", "KGZ", "RUS"]
    assert item["round"].max() == row["rounds"]  # every text tabled, not more
    parts = [c for c in texts.columns if c.startswith("loss_")]
    assert np.allclose(item[parts].sum(axis=1), item["loss"])
    kgz = item[item["state"] == "KGZ"]
    assert np.allclose(kgz["loss_sovereignty"], 0.5)  # claim_cost 1 x salience 0.5, at every text
    assert (kgz["objected"]).all() and (kgz["loss"] > kgz["tolerance"]).all()
    assert kgz["blocked"].tolist()[-1] and not kgz["blocked"].tolist()[0]
    objected = set(item.loc[item["objected"], "state"])
    assert objected == set(row["dissenters"].split(";"))


settings_for_rules = RuleSettings(max_rounds=8, dilution_step=0.3)


@settings(max_examples=60, deadline=None)
@given(
    cost=st.floats(0.0, 1.0),
    tolerance=st.floats(0.01, 0.5),
    proposal=st.floats(10.0, 100.0),
)
def test_dilution_cannot_bring_a_participation_cost_below_tolerance(cost, tolerance, proposal):
    # Member 0 wants the proposal; member 1 prefers the status quo, so its policy loss
    # shrinks as the text is diluted towards it, but its participation cost stays.
    inputs = BargainInput(
        positions=np.array([[100.0, 0.0]]),
        saliences=np.array([[0.5, 0.5]]),
        capabilities=np.ones(2),
        status_quo=np.array([0.0]),
        proposal=np.array([proposal]),
        tolerance=np.array([tolerance, tolerance]),
        participation=np.array([[0.0, cost]]),
    )
    for name in ("consensus", "sco_practice", "veto_players"):
        decision = get_rule(name)(inputs, settings_for_rules)
        losses = decision.loss[0, : max(decision.rounds[0], 1), 1]
        assert (losses >= cost - 1e-12).all(), name  # no text costs member 1 less than taking part
        if cost > tolerance:
            assert decision.outcome[0] in (BLOCKED, DEFERRED), name  # never adopted, however diluted
            assert decision.objectors[0, 1] and decision.dissent()[0, 1], name
    project = BargainInput(**{**inputs.__dict__, "project": np.array([True])})
    decision = get_rule("sco_practice")(project, settings_for_rules)
    if cost > tolerance and np.isfinite(decision.adopted[0]):
        assert decision.opt_outs[0, 1]  # a project goes ahead only without member 1
        assert decision.outcome[0] in (OPT_OUT, DILUTED)


def _shocked(tiny_text, write, weights, shock):
    kaz = '[states.KAZ]\nname = "Kazakhstan"\nstatus = { 2000 = "member" }\ncapability = 0.003\n'
    text = tiny_text.replace(
        kaz + "weights = { security = 0.3, economy = 0.25, balancing = 0.3, regime = 0.15 }",
        kaz + f"weights = {weights}\nthreat = {{ RUS = 0.2, CHN = 0.2 }}",
    )
    assert text != tiny_text
    if shock:
        text += '\n[[events]]\nyear = 2003\nlabel = "threat"\nthreat = { KAZ = { RUS = 0.4 } }\n'
    model = SCOModel(load_scenario(write(text)), rng=0, until=2003)
    model.run()
    kaz_i = model.index["KAZ"]
    return model.alignment[kaz_i, model.poles.index("CHN")] - model.alignment[kaz_i, model.poles.index("RUS")]


def test_a_threat_shock_moves_a_balancer_to_the_other_pole_and_a_bandwagoner_to_the_threat(tiny_text, write):
    balancer = "{ security = 0.3, economy = 0.3, balancing = 0.4, regime = 0.0 }"
    bandwagoner = "{ security = 0.3, economy = 0.2, balancing = 0.0, regime = 0.5 }"
    # lean = a_CHN - a_RUS at the end of the shock year, with and without the shock
    assert _shocked(tiny_text, write, balancer, True) > _shocked(tiny_text, write, balancer, False)
    assert _shocked(tiny_text, write, bandwagoner, True) < _shocked(tiny_text, write, bandwagoner, False)


def test_a_security_tie_does_not_turn_the_response_to_a_threat_from_the_same_pole(tiny_text, write):
    tied = tiny_text.replace(
        "alignment = { RUS = 0.8, CHN = 0.5 }",
        "alignment = { RUS = 0.8, CHN = 0.5 }\nsecurity_ties = { RUS = 1.0 }",
    )
    balancer = "{ security = 0.3, economy = 0.3, balancing = 0.4, regime = 0.0 }"
    assert _shocked(tied, write, balancer, True) > _shocked(tied, write, balancer, False)


def test_with_the_event_process_off_a_forecast_is_as_without_the_process():
    scenario = load_scenario(SCENARIOS / "sco8_2017.toml")
    assert scenario.event_process is not None
    without = scenario.model_copy(update={"event_process": None})
    off = load_scenario(SCENARIOS / "sco8_2017.toml", overrides={"mechanisms": {"event_process": False}})
    a, b = sim.run(without, seed=5), sim.run(off, seed=5)
    for name in ("model", "states", "decisions"):
        assert a.tables[name].equals(b.tables[name]), name
    on = sim.run(scenario, seed=5)
    assert not on.tables["states"].equals(a.tables["states"])  # the process does something


@pytest.mark.parametrize("switch", ["spillover", "balancing", "participation_cost", "stand_aside", "trust"])
def test_every_mechanism_can_be_switched_off(switch):
    base = load_scenario(SCENARIOS / "sco8_2017.toml")
    off = load_scenario(SCENARIOS / "sco8_2017.toml", overrides={"mechanisms": {switch: False}})
    a, b = sim.run(base, seed=2), sim.run(off, seed=2)
    assert not (
        a.tables["decisions"].equals(b.tables["decisions"]) and a.tables["states"].equals(b.tables["states"])
    )


def test_without_participation_costs_nobody_stands_aside_or_pays_one():
    off = load_scenario(SCENARIOS / "sco8_2017.toml", overrides={"mechanisms": {"participation_cost": False}})
    result = sim.run(off, seed=2, texts=True)
    parts = ["loss_sovereignty", "loss_rivalry", "loss_relative_gains"]
    assert (result.texts[parts] == 0).all().all()
    assert result.model["stand_asides"].sum() == 0


def test_the_event_rates_in_the_forecast_scenario_are_the_estimate_from_the_record():
    import importlib.util

    spec = importlib.util.spec_from_file_location(
        "estimate", SCENARIOS.parent / "scripts" / "estimate_event_rates.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert module.main(["--check", str(SCENARIOS / "sco8_2017.toml")]) == 0
    table = module.estimate()
    assert table["threat"]["rate"] == pytest.approx(3 / 22, abs=1e-4)  # 2008, 2013, 2014


def test_a_written_alignment_wins_over_the_yearly_data_baseline():
    written = {"states": {"IND": {"alignment": {"RUS": 0.5}}}}
    scenario = load_scenario(SCENARIOS / "sco8_2017.toml", overrides=written)
    assert scenario.data.pole_ties.keep == ["IND:RUS"]
    model = SCOModel(scenario, rng=0)
    ind, rus, chn = model.index["IND"], model.poles.index("RUS"), model.poles.index("CHN")
    assert (model.baseline_series[:, ind, rus] == 0.5).all()
    assert len(set(model.baseline_series[:, ind, chn].round(6))) > 1  # the other pole still follows the data


def test_baseline_alignment_follows_the_data_every_year_and_drift_is_kept_around_it():
    model = SCOModel(load_scenario(SCENARIOS / "history_1996.toml"), rng=0)
    kaz, chn = model.index["KAZ"], model.poles.index("CHN")
    series = model.baseline_series[:, kaz, chn]
    assert series[-1] > series[0] + 0.2  # Kazakhstan's ties with China grow (trade) from 1996 to 2017
    model.run()
    states = model.tables()["states"]
    kaz_rows = states[states["state"] == "KAZ"]
    assert np.allclose(kaz_rows["baseline_CHN"].to_numpy(), series)


def _with_parameters(text: str, line: str) -> str:
    """Insert a [parameters] table with ``line`` before the first state of the tiny scenario."""
    at = text.index("[states.")
    return text[:at] + f"[parameters]\n{line}\n" + text[at:]


BAD_KEYS = {
    "area_kind": (
        lambda t: t.replace('favours = "CHN"', 'favours = "CHN"\nkind = "foo"'),
        "areas.trade.kind",
    ),
    "claim_state": (
        lambda t: (
            t + '\n[[claims]]\nstates = ["KAZ", "XXX"]\nsalience = 5\nstart_year = 1990\nsource = "x"\n'
        ),
        "claims[0].states",
    ),
    "claim_without_source": (
        lambda t: t + '\n[[claims]]\nstates = ["KAZ", "RUS"]\nsalience = 5\nstart_year = 1990\n',
        "claims[0].source",
    ),
    "event_process_area": (
        lambda t: (
            t
            + "\n[event_process]\nfrom_year = 2003\n[event_process.salience]\nnope = { rate = 0.1, size = 0.2 }\n"
        ),
        "event_process.salience.nope",
    ),
    "event_process_rate": (
        lambda t: t + "\n[event_process]\nfrom_year = 2003\nthreat = { rate = 2.0, size = 0.1 }\n",
        "event_process.threat.rate",
    ),
    "mechanism_name": (lambda t: t + "\n[mechanisms]\nbalance = false\n", "mechanisms.balance"),
    "gains_cost_infinite": (lambda t: _with_parameters(t, "gains_cost = inf"), "parameters.gains_cost"),
    "claim_cost_nan": (lambda t: _with_parameters(t, "claim_cost = nan"), "parameters.claim_cost"),
    "demand_weight_huge": (
        lambda t: _with_parameters(t, "demand_weight = 1e308"),
        "parameters.demand_weight",
    ),
    "tie_pull_infinite": (lambda t: _with_parameters(t, "tie_pull = inf"), "parameters.tie_pull"),
}


@pytest.mark.parametrize("case", sorted(BAD_KEYS))
def test_bad_dissent_keys_get_one_line_naming_the_key(case, tiny_text, write, capsys):
    from sim.cli import main

    edit, key = BAD_KEYS[case]
    path = write(edit(tiny_text), name=f"{case}.toml")
    assert main(["check", str(path)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and f"key '{key}'" in err and f"{case}.toml" in err
