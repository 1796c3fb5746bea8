"""Inputs that do what they say: partial weight tables are refused, rivalries that are not in force too."""

from __future__ import annotations

import numpy as np
import pytest

from sim.cli import main
from sim.errors import ExperimentError, ScenarioError
from sim.scenario import interest_weights, load_scenario
from sim.scenario.inputs import rivalries_in_force

from .conftest import DATA, SCENARIOS

SCO8 = SCENARIOS / "sco8_2017.toml"
HISTORY = str(SCENARIOS / "history_1996.toml")
TINY_RIVALS = """
[states.KAZ]
rivalries = { RUS = 0.4 }
[states.RUS]
rivalries = { KAZ = 0.4 }
"""


def child(write, tiny_path, text, name="child.toml"):
    return write(f'extends = "{tiny_path.as_posix()}"\n{text}', name)


# Weights are replaced whole ---------------------------------------------------------------


def test_a_partial_weights_override_is_refused_naming_the_override_and_how_to_sweep_one_weight():
    with pytest.raises(ScenarioError) as info:
        load_scenario(SCO8, overrides={"states": {"KAZ": {"weights": {"security": 0.5}}}})
    line = info.value.one_line()
    assert line.startswith("<overrides>: key 'states.KAZ.weights': gives security only")
    assert f"interest weights are replaced whole, never merged with those of {HISTORY}" in line
    assert "missing: economy, balancing, regime" in line
    assert 'sweep "states.KAZ.weights.security"' in line and "normalize_weights = true" in line
    assert "\n" not in line


def test_a_whole_weights_override_is_checked_against_the_override(tiny_path):
    weights = {"security": 0.5, "economy": 0.2, "balancing": 0.2, "regime": 0.2}
    with pytest.raises(ScenarioError, match=r"^<overrides>: key 'states.KAZ.weights': interest weights sum"):
        load_scenario(tiny_path, overrides={"states": {"KAZ": {"weights": weights}}})
    weights["security"] = 0.4
    sc = load_scenario(tiny_path, overrides={"states": {"KAZ": {"weights": weights}}})
    assert interest_weights(sc.states["KAZ"]) == (0.4, 0.2, 0.2, 0.2)


def test_a_misspelt_weight_is_named_as_an_unknown_key_in_the_override(tiny_path):
    with pytest.raises(ScenarioError, match=r"^<overrides>: key 'states.KAZ.weights.securty': unknown key"):
        load_scenario(tiny_path, overrides={"states": {"KAZ": {"weights": {"securty": 0.5}}}})


def test_a_child_file_with_partial_weights_or_relevance_is_refused_without_the_sweep_hint(write, tiny_path):
    path = child(write, tiny_path, "[states.KAZ]\nweights = { security = 0.4, economy = 0.6 }\n")
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    line = info.value.one_line()
    assert line.startswith(f"{path}: key 'states.KAZ.weights': gives security, economy only")
    assert f"never merged with those of {tiny_path}" in line and "sweep" not in line
    path = child(write, tiny_path, "[areas.trade]\nrelevance = { economy = 1.0 }\n", "areas.toml")
    with pytest.raises(ScenarioError, match=r"'areas.trade.relevance': gives economy only, but relevance"):
        load_scenario(path)


def test_one_weight_is_swept_over_the_four_weights_of_an_arm(tmp_path):
    text = f"""
schema_version = 1
name = "one_weight"
base_seed = 1
replications = 1
[arms.base]
scenario = "{(DATA / "tiny.toml").as_posix()}"
[arms.base.overrides.states.KAZ]
weights = {{ security = 0.3, economy = 0.25, balancing = 0.3, regime = 0.15 }}
normalize_weights = true
[sweep.parameters."states.KAZ.weights.security"]
values = [0.1, 0.45]
[metrics.consensus_rate]
column = "consensus_rate"
"""
    from sim.experiments.design import load_experiment

    (tmp_path / "e.toml").write_text(text)
    runs = load_experiment(tmp_path / "e.toml").runs
    shares = [interest_weights(run.scenario.states["KAZ"]) for run in runs]
    assert shares[0] == pytest.approx((0.1 / 0.8, 0.25 / 0.8, 0.3 / 0.8, 0.15 / 0.8))
    assert shares[1] == pytest.approx((0.45 / 1.15, 0.25 / 1.15, 0.3 / 1.15, 0.15 / 1.15))
    # without the four weights in the arm, the sweep is refused with the same advice
    (tmp_path / "f.toml").write_text(text.replace("weights = {", "# weights = {"))
    with pytest.raises(
        ExperimentError, match=r"arm 'base': <overrides>: key 'states\.KAZ\.weights': gives security"
    ):
        load_experiment(tmp_path / "f.toml")


# Rivalries --------------------------------------------------------------------------------


def test_a_rivalry_override_below_the_other_side_is_refused_in_one_line():
    with pytest.raises(ScenarioError) as info:
        load_scenario(SCO8, overrides={"states": {"IND": {"rivalries": {"CHN": 0.1}}}})
    assert info.value.one_line() == (
        "<overrides>: key 'states.IND.rivalries.CHN': 0.1 has no effect: a rivalry holds for both states at "
        f"the larger of the two declared values, and states.CHN.rivalries.IND is 0.5 (in {HISTORY}); set "
        "states.CHN.rivalries.IND as well (to the same value, or to 0 beside this one to let this one count)"
    )
    with pytest.raises(ScenarioError, match=r"0 has no effect: .* set states.CHN.rivalries.IND to 0 as well"):
        load_scenario(SCO8, overrides={"states": {"IND": {"rivalries": {"CHN": 0}}}})


@pytest.mark.parametrize(
    ("overrides", "pair"),
    [
        ({"IND": {"rivalries": {"CHN": 0.1}}, "CHN": {"rivalries": {"IND": 0.1}}}, 0.1),  # both sides
        ({"IND": {"rivalries": {"CHN": 0.1}}, "CHN": {"rivalries": {"IND": 0.0}}}, 0.1),  # one side, 0 beside
        ({"CHN": {"rivalries": {"IND": 0.9}}}, 0.9),  # raising one side is in force
        ({"IND": {"rivalries": {"CHN": 0.0}}, "CHN": {"rivalries": {"IND": 0.0}}}, None),  # ended
    ],
)
def test_rivalry_overrides_that_take_effect_are_in_force(overrides, pair):
    sc = load_scenario(SCO8, overrides={"states": overrides})
    assert rivalries_in_force(sc).get(("CHN", "IND")) == pair


def test_a_file_declaring_a_rivalry_below_the_other_side_is_refused(write, tiny_path):
    path = child(
        write, tiny_path, "[states.KAZ]\nrivalries = { RUS = 0.2 }\n[states.RUS]\nrivalries = { KAZ = 0.6 }\n"
    )
    with pytest.raises(ScenarioError, match=r"child.toml: key 'states.KAZ.rivalries.RUS': 0.2 has no effect"):
        load_scenario(path)


def test_a_value_raised_on_the_other_side_by_a_later_layer_does_not_blame_the_earlier_file(write, tiny_path):
    parent = child(write, tiny_path, TINY_RIVALS, "parent.toml")
    sc = load_scenario(parent, overrides={"states": {"RUS": {"rivalries": {"KAZ": 0.7}}}})
    assert rivalries_in_force(sc) == {("KAZ", "RUS"): 0.7}


def test_a_rivalry_set_by_an_inherited_event_before_the_start_is_reported_against_a_later_layer(
    write, tiny_path
):
    parent = child(
        write,
        tiny_path,
        TINY_RIVALS
        + """
[[events]]
year = 2001
label = "quarrel"
rivalry = { KAZ = { RUS = 0.9 } }
""",
        "parent.toml",
    )
    assert rivalries_in_force(load_scenario(parent)) == {("KAZ", "RUS"): 0.4}  # the event is in the run
    later = write('extends = "parent.toml"\nstart_year = 2003\n', "later.toml")
    sc = load_scenario(later)
    assert rivalries_in_force(sc) == {("KAZ", "RUS"): 0.9}  # before the start: an initial condition
    with pytest.raises(
        ScenarioError,
        match=r"^<overrides>: key 'states.KAZ.rivalries.RUS': 0.2 has no effect: "
        r"the event 'quarrel' \(2001\), inherited from .*parent.toml",
    ):
        load_scenario(later, overrides={"states": {"KAZ": {"rivalries": {"RUS": 0.2}}}})


@pytest.mark.parametrize("path", sorted(SCENARIOS.glob("*.toml")), ids=lambda p: p.stem)
def test_the_rivalries_in_force_are_those_the_model_starts_from(path):
    from sim.model.arrays import ScenarioArrays

    sc = load_scenario(path)
    fixed = ScenarioArrays(sc, sc.end_year)
    expected = {
        (fixed.codes[i], fixed.codes[j]): float(fixed.rivalry[i, j])
        for i, j in zip(*np.nonzero(np.triu(fixed.rivalry, 1)), strict=True)
    }
    assert rivalries_in_force(sc) == expected


def test_check_shows_the_rivalries_in_force(capsys):
    assert main(["check", str(SCO8)]) == 0
    out = capsys.readouterr().out
    assert (
        "  rivalries    in force in 2017 (each pair at the larger value its two states declare): "
        "CHN-IND 0.5, IND-PAK 0.8, KAZ-UZB 0.2, KGZ-UZB 0.3, TJK-UZB 0.4\n"
    ) in out


# Results commands given a file --------------------------------------------------------------


@pytest.mark.parametrize("command", ["compare", "plot", "report"])
def test_a_results_command_given_a_file_says_it_expects_a_results_folder(command, capsys):
    path = str(DATA / "mini_experiment.toml")
    assert main([command, path]) == 2
    err = capsys.readouterr().err
    assert err == f"error: {path}: expected a results folder (written by `sco-sim batch`), got a file\n"
    assert main([command, path + ".missing"]) == 2
    assert "does not exist; expected a results folder" in capsys.readouterr().err
