"""[perturb_weights]: draws of every state's interest weights, paired across arms, through the draws machinery."""

from __future__ import annotations

import json
import math
import shutil

import numpy as np
import pandas as pd
import pytest

from sim.cli import main
from sim.experiments.design import load_experiment
from sim.experiments.weights import factors, perturbed
from sim.model import SCOModel
from sim.scenario import Weights, load_scenario

from .conftest import DATA

EXPERIMENT = """schema_version = 1
name = "weights"
base_seed = 11
replications = 2
{top}
[arms.three]
scenario = "tiny.toml"

[arms.four]
scenario = "four.toml"
overrides = {{ rules = {{ decision_rule = "qualified_majority" }} }}

[metrics.consensus_rate]
column = "consensus_rate"

[[claims]]
id = "rate"
statement = "consensus_rate[four] < consensus_rate[three]"
band = 0.01
band_reason = "one point of the share of items adopted by consensus"
"""

# tiny.toml with a fourth state, so that the two arms have different member sets
FOUR = """extends = "tiny.toml"
name = "four"
[states.UZB]
name = "Uzbekistan"
status = { 2000 = "member" }
capability = 0.004
weights = { security = 35, economy = 15, balancing = 25, regime = 0 }
normalize_weights = true
alignment = { RUS = 0.6, CHN = 0.5 }
polyarchy = 0.1
"""

TABLE = "[perturb_weights]\ndraws = 3\nspread = 0.25\n"


def write_experiment(tmp_path, top: str = TABLE, posterior: bool = False):
    shutil.copy(DATA / "tiny.toml", tmp_path / "tiny.toml")
    (tmp_path / "four.toml").write_text(FOUR)
    if posterior:
        shutil.copy(DATA / "posterior.csv", tmp_path / "posterior.csv")
    path = tmp_path / "exp.toml"
    path.write_text(EXPERIMENT.format(top=top))
    return path


def cli(capsys, *argv):
    status = main([str(a) for a in argv])
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def weights_of(scenario) -> dict[str, tuple[float, ...]]:
    return {code: state.weights.as_tuple() for code, state in scenario.states.items()}


# --- the perturbation ----------------------------------------------------------------------------


def test_a_state_gets_the_same_weights_in_every_arm_of_a_draw_and_other_weights_at_other_draws(tmp_path):
    design = load_experiment(write_experiment(tmp_path))
    cells = {(c.arm, c.draw): weights_of(c.scenario) for c in design.runs.cells}
    for draw in range(3):
        three, four = cells[("three", draw)], cells[("four", draw)]
        assert set(four) - set(three) == {"UZB"}
        for code in three:  # the fourth state changes nothing for the other three
            assert three[code] == four[code], (draw, code)
    original = weights_of(load_scenario(tmp_path / "tiny.toml"))
    for code in original:
        seen = {cells[("three", draw)][code] for draw in range(3)}
        assert len(seen) == 3 and original[code] not in seen  # every draw perturbs, each differently
    # the runs of a draw are paired across arms by seed; each draw has seeds of its own
    runs = list(design.runs)
    by_arm = {arm: [(r.draw, r.replication, r.seed) for r in runs if r.arm == arm] for arm in design.arms}
    assert by_arm["three"] == by_arm["four"]
    assert len({seed for _, _, seed in by_arm["three"]}) == 6


def test_factors_depend_only_on_seed_draw_and_state():
    a = factors(7, 3, "KAZ", 0.25)
    assert np.array_equal(a, factors(7, 3, "KAZ", 0.25))
    assert not np.array_equal(a, factors(7, 4, "KAZ", 0.25))
    assert not np.array_equal(a, factors(8, 3, "KAZ", 0.25))
    assert not np.array_equal(a, factors(7, 3, "KGZ", 0.25))
    assert np.all((a >= 0.75) & (a <= 1.25))
    assert np.array_equal(factors(7, 3, "KAZ", 0.0), np.ones(4))


@pytest.mark.parametrize("spread", [0.0, 0.1, 0.25, 0.6, 0.999])
def test_perturbed_weights_keep_their_sum_stay_non_negative_and_zero_stays_zero(spread):
    cases = [
        Weights(security=0.3, economy=0.25, balancing=0.3, regime=0.15),
        Weights(security=0.55, economy=0.3, balancing=0.05, regime=0.1),
        Weights(security=35, economy=15, balancing=25, regime=0),  # normalize_weights: its own total
    ]
    moved = 0.0
    for weights in cases:
        for draw in range(40):
            new = perturbed(weights, factors(1, draw, "XYZ", spread))
            assert math.isclose(new.total(), weights.total(), rel_tol=1e-12)
            assert min(new.as_tuple()) >= 0
            assert (new.regime == 0) == (weights.regime == 0)
            # before rescaling no weight moves by more than the spread: after it, ratios stay in bounds
            ratio = np.array(new.as_tuple()) / np.maximum(weights.as_tuple(), 1e-300)
            kept = np.array(weights.as_tuple()) > 0
            assert ratio[kept].max() / ratio[kept].min() <= (1 + spread) / (1 - spread) + 1e-9
            moved = max(moved, float(np.abs(np.subtract(new.as_tuple(), weights.as_tuple())).max()))
    assert (moved == 0.0) == (spread == 0.0)


def test_spread_zero_reproduces_the_unperturbed_runs_exactly(tmp_path):
    zero = load_experiment(write_experiment(tmp_path, "[perturb_weights]\ndraws = 2\nspread = 0\n"))
    for cell in zero.runs.cells:
        name = "tiny.toml" if cell.arm == "three" else "four.toml"
        overrides = {"rules": {"decision_rule": "qualified_majority"}} if cell.arm == "four" else None
        assert cell.scenario == load_scenario(tmp_path / name, overrides=overrides)
    run = zero.runs[3]
    model = SCOModel(run.scenario, rng=run.seed)
    model.run()
    plain = SCOModel(load_scenario(tmp_path / "tiny.toml"), rng=run.seed)
    plain.run()
    pd.testing.assert_frame_equal(model.tables()["model"], plain.tables()["model"], check_exact=True)
    # beside a posterior, spread 0 gives the posterior design's very runs (ids, seeds, scenarios)
    table = '[posterior]\nfile = "posterior.csv"\ndraws = 3\n'
    alone = load_experiment(write_experiment(tmp_path, table, posterior=True))
    both = load_experiment(write_experiment(tmp_path, table + "[perturb_weights]\nspread = 0\n", True))
    assert [(r.run_id, r.seed) for r in both.runs] == [(r.run_id, r.seed) for r in alone.runs]


def test_with_a_posterior_draw_k_takes_the_kth_posterior_row_and_the_kth_perturbation(tmp_path):
    table = '[posterior]\nfile = "posterior.csv"\ndraws = 3\n[perturb_weights]\nspread = 0.3\nseed = 4\n'
    design = load_experiment(write_experiment(tmp_path, table, posterior=True))
    assert design.weights.draws == 3 and design.weights.with_posterior
    rows = pd.read_csv(tmp_path / "posterior.csv").set_index("draw")
    original = load_scenario(tmp_path / "tiny.toml")
    for cell in design.runs.cells:
        assert cell.scenario.rules.tolerance == rows.loc[cell.draw, "rules.tolerance"]
        assert cell.draw == design.posterior.draws[cell.draw_index]
        for code, state in original.states.items():
            expected = perturbed(state.weights, factors(4, cell.draw_index, code, 0.3))
            assert cell.scenario.states[code].weights == expected


# --- a batch, compare and rerun ------------------------------------------------------------------


def test_a_batch_over_perturbations_compares_per_draw_and_reruns_from_the_stored_scenario(tmp_path, capsys):
    path = write_experiment(tmp_path)
    out = tmp_path / "out"
    status, stdout, _ = cli(capsys, "batch", path, "--sequential", "--no-progress", "--out", out)
    assert status == 0 and "3 weight perturbations x 2 seeds = 12 runs" in stdout
    status, stdout, _ = cli(capsys, "compare", out)
    assert status == 0 and "claims over interest-weight perturbations" in stdout
    claims = pd.read_csv(out / "claims.csv")
    assert claims.loc[0, "n_draws"] == 3 and 0 <= claims.loc[0, "share_claimed_sign"] <= 1
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["experiment"]["perturb_weights"]["spread"] == 0.25
    stored = json.loads((out / "scenarios" / "four-0-draw1.json").read_text())
    assert stored["states"]["KAZ"]["weights"] != {"security": 0.3, "economy": 0.25, "balancing": 0.3,
                                                  "regime": 0.15}  # fmt: skip
    summaries = pd.read_parquet(out / "summaries")
    run = summaries[(summaries["arm"] == "four") & (summaries["draw"] == 1)]["run_id"].iloc[0]
    status, stdout, _ = cli(capsys, "rerun", run, "--results", out)
    assert status == 0 and "draw 1" in stdout and "identical to the stored tables: yes" in stdout


# --- bad tables ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("top", "posterior", "fragments"),
    [
        ("[perturb_weights]\ndraws = 3\nspread = 1.0\n", False, ["perturb_weights.spread", "< 1"]),
        ("[perturb_weights]\ndraws = 3\nspread = nan\n", False, ["perturb_weights.spread", "finite"]),
        ("[perturb_weights]\ndraws = 3\nspread = -0.1\n", False, ["perturb_weights.spread", ">= 0"]),
        ("[perturb_weights]\ndraws = 0\nspread = 0.2\n", False, ["perturb_weights.draws", ">= 1"]),
        ("[perturb_weights]\nspread = 0.2\n", False, ["perturb_weights.draws", "give draws = N"]),
        ("[perturb_weights]\ndraws = 3\nspread = 0.2\nsigma = 1\n", False, ["perturb_weights.sigma", "unknown"]),
        ('[posterior]\nfile = "posterior.csv"\ndraws = 3\n[perturb_weights]\ndraws = 2\nspread = 0.2\n', True,
         ["perturb_weights.draws", "[posterior] has 3"]),
    ],
)  # fmt: skip
def test_a_bad_table_is_one_line_and_exit_2(tmp_path, capsys, top, posterior, fragments):
    path = write_experiment(tmp_path, top, posterior)
    status, _, err = cli(capsys, "batch", path, "--sequential", "--no-progress", "--out", tmp_path / "o")
    lines = [line for line in err.splitlines() if line.strip()]
    assert status == 2 and len(lines) == 1 and "Traceback" not in err, err
    for fragment in fragments:
        assert fragment in lines[0], (fragment, lines[0])
    assert not (tmp_path / "o").exists()


def test_perturbed_weights_beside_a_sensitivity_table_are_refused(tmp_path, capsys):
    top = TABLE + '[sensitivity]\nparameters = { tolerance = [0.01, 0.1] }\neffects = { e = "consensus_rate[four] - consensus_rate[three]" }\n'  # fmt: skip
    status, _, err = cli(
        capsys, "batch", write_experiment(tmp_path, top), "--sequential", "--out", tmp_path / "o"
    )
    assert (
        status == 2
        and "key 'perturb_weights'" in err
        and "[sensitivity]" in err
        and len(err.splitlines()) == 1
    )


def test_variance_components_recover_the_between_and_within_draw_variances():
    from sim.analysis.draws import variance_components

    rng = np.random.default_rng(3)
    draws, seeds = 400, 4
    effects = rng.normal(0.0, 0.5, draws)  # between-draw sd 0.5: variance 0.25
    diff = np.repeat(effects, seeds) + rng.normal(0.0, 1.0, draws * seeds)  # within: variance 1
    pairs = pd.DataFrame({"draw": np.repeat(np.arange(draws), seeds), "diff": diff})
    v = variance_components(pairs)
    assert v["between"] == pytest.approx(0.25, abs=0.06) and v["within"] == pytest.approx(1.0, abs=0.06)
    assert v["share_pair"] == pytest.approx(0.2, abs=0.05) and v["seeds"] == 4
    assert v["share_draw_mean"] == pytest.approx(0.25 / (0.25 + 1.0 / 4), abs=0.07)
    # no between-draw variance: the estimate is (near) 0, never negative
    pairs["diff"] = rng.normal(0.0, 1.0, draws * seeds)
    assert 0.0 <= variance_components(pairs)["share_pair"] < 0.03
    assert np.isnan(variance_components(pairs[pairs["draw"] == 0])["between"])


def test_batch_draws_option_overrides_the_perturbation_draws(tmp_path, capsys):
    path = write_experiment(tmp_path)
    out = tmp_path / "out"
    status, stdout, _ = cli(
        capsys, "batch", path, "--draws", 2, "--sequential", "--no-progress", "--out", out
    )
    assert status == 0 and "2 weight perturbations x 2 seeds = 8 runs" in stdout
