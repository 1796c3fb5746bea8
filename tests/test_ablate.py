"""``sco-sim ablate``: configurations that change the runs, common seeds, the table, readings, resume, bad input.

The fixture experiment (``tests/data/mini_ablation.toml``) runs the tiny scenario under
``sco_practice`` with Kazakhstan wary of China's gains (a participation cost on the trade
items China is favoured by) or calm: standing aside happens only in the wary arm, and only
while participation costs and standing aside are switched on.
"""

from __future__ import annotations

import contextlib
import io
import json
from pathlib import Path

import pandas as pd
import pytest

from sim.analysis.ablation import RULES_ALONE, ablation_table, reading
from sim.cli import main
from sim.experiments.ablation import (
    MECHANISMS,
    NAMES,
    ablation_design,
    choose,
)
from sim.experiments.design import load_experiment
from sim.experiments.manifest import resume_command

from .conftest import DATA

EXPERIMENT = DATA / "mini_ablation.toml"
CLAIMS = ["stand_aside", "consensus"]


def run_cli(*argv) -> tuple[int, str]:
    """Run the command line in this process; return its status and what it printed."""
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        status = main([str(a) for a in argv])
    return status, out.getvalue()


@pytest.fixture(scope="module")
def ablation(tmp_path_factory) -> tuple[Path, str]:
    """Every configuration of the fixture experiment, run once for the module (9 x 12 tiny runs)."""
    out = tmp_path_factory.mktemp("ablation") / "mini"
    status, printed = run_cli("ablate", EXPERIMENT, "--out", out, "--sequential", "--no-progress")
    assert status == 0, printed
    return out, printed


def summaries(folder: Path) -> pd.DataFrame:
    return pd.read_parquet(folder / "summaries").sort_values("run_index").reset_index(drop=True)


def test_every_configuration_is_a_batch_with_the_same_seeds(ablation):
    out, printed = ablation
    shipped = summaries(out / "shipped")
    assert len(shipped) == 12 and "9 configuration(s) x 12 runs = 108 runs" in printed
    for name in NAMES:
        runs = summaries(out / name)
        # common random numbers: replication r has the same seed in every configuration and arm
        assert runs[["arm", "replication", "seed"]].equals(shipped[["arm", "replication", "seed"]]), name
        manifest = json.loads((out / name / "manifest.json").read_text())
        assert (
            manifest["status"] == "complete" and manifest["experiment"]["ablation"]["configuration"] == name
        )
        if name != "shipped":  # a switched scenario is another scenario: other run ids
            assert set(runs["run_id"]).isdisjoint(shipped["run_id"]), name


def test_a_switch_reaches_the_scenarios_and_changes_the_runs(ablation):
    out, _ = ablation
    for arm in ("calm", "wary"):
        off = json.loads((out / "no_participation_cost" / "scenarios" / f"{arm}-0.json").read_text())
        assert off["mechanisms"]["participation_cost"] is False and off["mechanisms"]["trust"] is True
        every = json.loads((out / "no_mechanisms" / "scenarios" / f"{arm}-0.json").read_text())
        assert all(every["mechanisms"][m] is False for m in MECHANISMS)
        veto = json.loads((out / "veto_players" / "scenarios" / f"{arm}-0.json").read_text())
        assert veto["rules"]["decision_rule"] == "veto_players" and all(veto["mechanisms"].values())
    shipped, off = summaries(out / "shipped"), summaries(out / "no_participation_cost")
    wary = shipped["arm"] == "wary"
    # the wary arm stands aside as shipped; without participation costs nobody has a reason to
    assert shipped.loc[wary, "stand_asides"].sum() > 0
    assert off["stand_asides"].sum() == 0
    assert summaries(out / "no_stand_aside")["stand_asides"].sum() == 0


def test_the_shipped_configuration_is_a_plain_batch_and_compare(ablation, tmp_path):
    out, _ = ablation
    plain = tmp_path / "plain"
    assert run_cli("batch", EXPERIMENT, "--out", plain, "--sequential", "--no-progress")[0] == 0
    assert run_cli("compare", plain)[0] == 0
    assert set(summaries(plain)["run_id"]) == set(summaries(out / "shipped")["run_id"])
    pd.testing.assert_frame_equal(
        pd.read_csv(plain / "claims.csv"), pd.read_csv(out / "shipped" / "claims.csv")
    )
    table = pd.read_csv(out / "ablation.csv")
    shipped = table[table["configuration"] == "shipped"].set_index("claim")
    claims = pd.read_csv(plain / "claims.csv").set_index("id")
    assert shipped["mean_diff"].to_dict() == claims["mean_diff"].to_dict()
    assert shipped["verdict"].to_dict() == claims["verdict"].to_dict()


def test_ablation_csv_has_a_row_per_claim_and_configuration_with_readings(ablation):
    out, printed = ablation
    table = pd.read_csv(out / "ablation.csv", keep_default_na=False, na_values=[""])
    assert len(table) == len(CLAIMS) * len(NAMES)
    assert list(table["claim"]) == [c for c in CLAIMS for _ in NAMES]
    assert list(table["configuration"]) == list(NAMES) * len(CLAIMS)
    for column in ("mean_diff", "ci_low", "ci_high", "ci_level", "band", "d_z", "verdict", "n"):
        assert column in table, column
    assert "n_draws" not in table  # no posterior draws here
    assert (table["n"] == 6).all()
    rows = table.set_index(["claim", "configuration"])
    # standing aside rests on participation costs and on standing aside itself: without either,
    # no run stands aside, and the claim compares nothing
    assert rows.loc[("stand_aside", "shipped"), "verdict"] == "supported"
    assert rows.loc[("stand_aside", "no_participation_cost"), "verdict"] == "no variation"
    assert rows.loc[("stand_aside", "shipped"), "rests_on"] == "participation_cost;stand_aside"
    # the consensus-rate difference survives every switch: a property of the rule and the arms
    assert rows.loc[("consensus", "no_mechanisms"), "verdict"] == "supported"
    assert RULES_ALONE in rows.loc[("consensus", "shipped"), "reading"]
    assert "rests on participation_cost (no variation without it), stand_aside" in printed.replace(
        "\n    ", " "
    )
    assert "  stand_aside " in printed and "-part.cost" in printed
    assert (out / "ablation.png").is_file() and (out / "ablation.svg").is_file()
    for name in NAMES:  # compare was run in each configuration's folder
        assert (out / name / "claims.csv").is_file() and (out / name / "metrics.csv").is_file()


def test_a_damaged_configuration_names_the_ablate_command_that_repairs_it(ablation):
    out, _ = ablation
    manifest = json.loads((out / "no_trust" / "manifest.json").read_text())
    command = resume_command(out / "no_trust", manifest)
    assert command == f"sco-sim ablate {EXPERIMENT} --out {out} --only no_trust --resume"


def test_resume_after_an_interruption_runs_only_what_is_missing(tmp_path, monkeypatch):
    import sim.experiments.batch as batch

    real = batch.run_batch
    calls: list[str] = []

    def interrupted_in_the_second(design, store, choice=None, chunk_size=None, progress=True):
        calls.append(design.configuration)
        if len(calls) == 2:  # store one chunk of the second configuration, then Ctrl-C
            add = store.add

            def add_then_stop(output):
                add(output)
                raise KeyboardInterrupt

            store.add = add_then_stop
            return real(design, store, choice, chunk_size=3, progress=progress)
        return real(design, store, choice, chunk_size=chunk_size, progress=progress)

    monkeypatch.setattr(batch, "run_batch", interrupted_in_the_second)
    out = tmp_path / "abl"
    argv = [
        "ablate",
        EXPERIMENT,
        "--out",
        out,
        "--sequential",
        "--no-progress",
        "--only",
        "shipped",
        "no_trust",
    ]
    assert run_cli(*argv)[0] == 130
    first = {
        p.name: set(pd.read_parquet(p)["run_id"]) for p in (out / "no_trust" / "summaries").glob("*.parquet")
    }
    kept = set().union(*first.values())
    assert len(kept) == 3
    shipped_parts = sorted(p.name for p in (out / "shipped" / "summaries").glob("*.parquet"))
    assert not (out / "ablation.csv").exists()  # nothing is compared before every configuration finished

    status, printed = run_cli(*argv, "--resume")
    assert status == 0, printed
    assert calls == ["shipped", "no_trust", "shipped", "no_trust"]
    assert "nothing to run: all 12 runs are already stored" in printed
    assert sorted(p.name for p in (out / "shipped" / "summaries").glob("*.parquet")) == shipped_parts
    again = [
        set(pd.read_parquet(p)["run_id"])
        for p in (out / "no_trust" / "summaries").glob("*.parquet")
        if p.name not in first
    ]
    rerun = set().union(*again)
    assert len(rerun) == 9 and rerun.isdisjoint(kept)  # only the missing runs ran
    assert set(pd.read_csv(out / "ablation.csv")["configuration"]) == {"shipped", "no_trust"}


def one_line_error(capsys, *argv) -> str:
    status = main([str(a) for a in argv])
    err = capsys.readouterr().err
    assert status == 2, err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
    return err


def test_bad_input_is_one_line_with_exit_2_and_writes_nothing(tmp_path, capsys):
    out = tmp_path / "out"
    err = one_line_error(capsys, "ablate", tmp_path / "nope.toml", "--out", out)
    assert "nope.toml" in err and "not found" in err
    err = one_line_error(capsys, "ablate", EXPERIMENT, "--out", out, "--only", "shipped", "no_such")
    assert "key '--only': unknown configuration 'no_such'" in err and "no_trust" in err
    assert not out.exists()
    (out / "notes").mkdir(parents=True)
    err = one_line_error(capsys, "ablate", EXPERIMENT, "--out", out, "--sequential")
    assert "is not an ablation folder" in err
    assert [p.name for p in out.iterdir()] == ["notes"]


def test_an_ablation_folder_is_used_again_only_with_resume_and_the_same_design(ablation, capsys):
    out, _ = ablation
    before = sorted(p.name for p in out.iterdir())
    err = one_line_error(capsys, "ablate", EXPERIMENT, "--out", out, "--sequential")
    assert "add --resume" in err
    err = one_line_error(capsys, "ablate", EXPERIMENT, "--out", out, "--resume", "--replications", "2")
    assert "another design" in err
    assert sorted(p.name for p in out.iterdir()) == before


def test_veto_players_leaves_the_arms_that_set_their_own_rule():
    design = load_experiment(DATA / "mini_experiment.toml")  # arms: consensus (scenario's rule), qmv
    veto = ablation_design(design, "veto_players")
    assert veto.kept_rule == ["qmv"]
    rules = {run.arm: run.scenario.rules.decision_rule for run in veto.runs}
    assert rules == {"consensus": "veto_players", "qmv": "qualified_majority"}
    off = ablation_design(design, "no_trust", replications=2)
    assert all(not run.scenario.mechanisms.trust for run in off.runs)
    assert off.file_hash == design.file_hash + "-ablate-no_trust-r2" and off.seeds == design.seeds[:2]
    shipped = ablation_design(design, "shipped")
    assert shipped.file_hash == design.file_hash
    assert [r.run_id for r in shipped.runs] == [r.run_id for r in design.runs]
    assert [c.name for c in choose(["veto_players", "shipped"])] == ["shipped", "veto_players"]


def test_posterior_draws_are_the_same_in_every_configuration():
    design = load_experiment(DATA / "mini_posterior.toml")
    assert design.posterior is not None
    for name in ("no_trust", "no_mechanisms", "veto_players"):
        derived = ablation_design(design, name)
        assert derived.posterior is not None and derived.posterior.draws == design.posterior.draws
        assert derived.seeds == design.seeds
        assert [(r.draw, r.seed) for r in derived.runs] == [(r.draw, r.seed) for r in design.runs]


def test_the_table_keeps_the_share_of_draws_when_there_are_draws():
    claims = pd.DataFrame(
        {
            "id": ["a"], "hypothesis": ["H1"], "statement": ["m[x] < m[y]"], "mean_diff": [-1.0],
            "ci_low": [-2.0], "ci_high": [-0.5], "ci_level": [0.95], "band": [0.1], "effect_size": [-1.0],
            "verdict": ["supported"], "n_pairs": [40], "n_draws": [20], "share_claimed_sign": [0.9],
        }
    )  # fmt: skip
    table = ablation_table({"shipped": claims, "no_trust": claims.assign(verdict="inconclusive")})
    assert list(table["configuration"]) == ["shipped", "no_trust"]
    assert list(table["n_draws"]) == [20, 20] and list(table["share_claimed_sign"]) == [0.9, 0.9]
    assert list(table["rests_on"]) == ["trust", "trust"]


def test_the_reading_of_a_claim():
    everything = dict.fromkeys(NAMES, "supported")
    rests, text = reading({**everything, "no_trust": "inconclusive", "veto_players": "contradicted"})
    assert rests == ["trust"]
    assert (
        "rests on trust (inconclusive without it)" in text
        and "contradicted under the veto-player rule" in text
    )
    # resting on a mechanism and holding with every one off: said so, not called a property of the rules
    assert (
        "yet it holds with every mechanism off: the rules and arms alone" in text and RULES_ALONE not in text
    )
    rests, text = reading(everything)
    assert rests == [] and RULES_ALONE in text and "also supported under the veto-player rule" in text
    rests, text = reading({**everything, "no_trust": "equivalent"}, {"shipped": -0.1, "no_mechanisms": -0.04})
    assert rests == ["trust"] and RULES_ALONE not in text
    assert "yet it holds with every mechanism off (mean difference -0.04 against -0.1 as shipped)" in text
    rests, text = reading({**everything, "no_mechanisms": "equivalent"})
    assert rests == [] and "supported with each mechanism switched off in turn" in text
    assert "equivalent with every mechanism off" in text and RULES_ALONE not in text
    rests, text = reading({**dict.fromkeys(NAMES, "inconclusive"), "no_spillover": "supported"})
    assert rests == [] and text.startswith(
        "inconclusive as shipped: not supported, so it rests on no mechanism"
    )
    assert text.endswith("; supported under no_spillover")
    rests, text = reading(
        {**dict.fromkeys(NAMES, "contradicted"), "no_trust": "equivalent", "veto_players": "supported"}
    )
    assert rests == [] and text.startswith("contradicted as shipped (the difference runs the other way)")
    assert "the reversal rests on trust (equivalent without it)" in text
    assert "the reversal holds with every mechanism off" in text and text.endswith(
        "supported under the veto-player rule"
    )
    _, text = reading(dict.fromkeys(NAMES, "contradicted"))
    assert "the reversal survives each mechanism switched off in turn" in text
    assert reading({"no_trust": "supported"}) == ([], "the shipped configuration was not run: no reading")


def test_an_experiment_without_claims_runs_and_says_there_is_nothing_to_compare(tmp_path):
    for name in ("tiny.toml", "tiny_practice.toml"):
        (tmp_path / name).write_text((DATA / name).read_text())
    text = EXPERIMENT.read_text()
    (tmp_path / "e.toml").write_text(text[: text.index("[[claims]]")])
    out = tmp_path / "out"
    argv = (
        "ablate",
        tmp_path / "e.toml",
        "--out",
        out,
        "--sequential",
        "--no-progress",
        "--only",
        "no_trust",
    )
    status, printed = run_cli(*argv)
    assert status == 0, printed
    assert "the experiment has no claims: nothing to compare across configurations" in printed
    assert len(summaries(out / "no_trust")) == 12 and not (out / "shipped").exists()
    assert pd.read_csv(out / "ablation.csv").empty and not (out / "ablation.png").exists()


def test_an_ablation_over_posterior_draws_keeps_the_draws_and_their_share(tmp_path):
    out = tmp_path / "post"
    argv = ("ablate", DATA / "mini_posterior.toml", "--out", out, "--sequential", "--no-progress")
    status, printed = run_cli(*argv, "--only", "shipped", "no_trust")
    assert status == 0, printed
    assert "posterior: 3 draws of posterior.csv" in printed
    shipped, off = summaries(out / "shipped"), summaries(out / "no_trust")
    assert shipped[["arm", "draw", "replication", "seed"]].equals(off[["arm", "draw", "replication", "seed"]])
    table = pd.read_csv(out / "ablation.csv")
    assert (
        len(table) == 4 and (table["n_draws"] == 3).all() and table["share_claimed_sign"].between(0, 1).all()
    )


def test_draws_shrinks_the_posterior_in_every_configuration_and_is_part_of_the_design(tmp_path, capsys):
    out = tmp_path / "two"
    argv = ("ablate", DATA / "mini_posterior.toml", "--out", out, "--sequential", "--no-progress")
    status, printed = run_cli(*argv, "--only", "shipped", "no_trust", "--draws", "2")
    assert status == 0, printed
    assert "posterior: 2 draws of posterior.csv" in printed
    for config in ("shipped", "no_trust"):
        assert sorted(summaries(out / config)["draw"].unique()) == sorted(
            summaries(out / "shipped")["draw"].unique()
        )
        assert summaries(out / config)["draw"].nunique() == 2
    assert (pd.read_csv(out / "ablation.csv")["n_draws"] == 2).all()
    # another number of draws is another design: resuming the folder with it is refused
    capsys.readouterr()
    status, _ = run_cli(*argv, "--only", "shipped", "--draws", "3", "--resume")
    err = capsys.readouterr().err
    assert status == 2 and "another design" in err and "--draws" in err and len(err.strip().splitlines()) == 1
