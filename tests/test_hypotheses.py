"""The five hypothesis experiments (H1-H5): each loads, its claims parse, and it runs end to end.

Each file is run with three seeds instead of its 100 (``--replications 3``, in this process),
then compared: every claim must get a verdict from three pairs. The verdicts themselves are not
checked; with three seeds they mean nothing.
"""

from __future__ import annotations

import pandas as pd
import pytest

from sim.cli import main
from sim.experiments.design import load_experiment

from .conftest import ROOT

HYPOTHESES = {
    "H1": "h1_functionality.toml",
    "H2": "h2_complication.toml",
    "H3": "h3_balancing.toml",
    "H4": "h4_spillover.toml",
    "H5": "h5_rules.toml",
}
VERDICTS = {"supported", "contradicted", "equivalent", "inconclusive", "no variation"}


@pytest.mark.parametrize("hypothesis", sorted(HYPOTHESES))
def test_hypothesis_file_loads_and_its_claims_parse(hypothesis):
    design = load_experiment(ROOT / "experiments" / HYPOTHESES[hypothesis])
    experiment = design.experiment
    # 50 draws of the shipped posterior x 4 seeds: intervals carry parameter uncertainty (issue 13)
    assert experiment.replications == 4
    assert experiment.posterior is not None and experiment.posterior.draws == 50
    assert (ROOT / "experiments" / experiment.posterior.file).is_file()
    assert design.claims and all(c.hypothesis == hypothesis for c in design.claims)
    assert all(c.label for c in design.claims)
    assert all(m.years for m in experiment.metrics.values())
    for claim in design.claims:
        assert claim.metric in experiment.metrics and {claim.arm_a, claim.arm_b} <= set(design.arms)


def test_hypothesis_files_have_distinct_base_seeds():
    seeds = [load_experiment(ROOT / "experiments" / f).experiment.base_seed for f in HYPOTHESES.values()]
    enlargement = load_experiment(ROOT / "experiments" / "enlargement.toml").experiment.base_seed
    assert len(set([*seeds, enlargement])) == len(seeds) + 1


def test_arm_overrides_reach_the_scenario():
    def arms(name):
        return {r.arm: r.scenario for r in load_experiment(ROOT / "experiments" / name).runs}

    h2 = arms("h2_complication.toml")
    assert h2["sco8"].states["IND"].rivalries == {"PAK": 0.8, "CHN": 0.5}
    none = h2["sco8_no_rivalry"]
    assert none.states["IND"].rivalries == {"PAK": 0.0, "CHN": 0.0}
    assert none.states["PAK"].rivalries == {"IND": 0.0} and none.states["CHN"].rivalries == {"IND": 0.0}
    h3 = arms("h3_balancing.toml")
    assert h3["sco6_no_rus"].status_timeline("RUS")[2018] == "outsider"
    lean = h3["sco8_lean_chn"].states["PAK"].alignment
    assert lean["RUS"] == 0.5 and lean["CHN"] == pytest.approx(0.98, abs=0.005)  # CHN from UNGA 2017 data
    h4 = arms("h4_spillover.toml")
    assert h4["spillover"].areas["trade"].parents == ["three_evils"]
    assert all(not area.parents for area in h4["no_spillover"].areas.values())
    h5 = arms("h5_rules.toml")
    assert h5["sco8_qmv"].rules.decision_rule == "qualified_majority"
    assert h5["sco10_opt_out"].rules.decision_rule == "consensus_opt_out"


@pytest.mark.slow
@pytest.mark.parametrize("hypothesis", sorted(HYPOTHESES))
def test_hypothesis_experiment_runs_and_every_claim_gets_a_verdict(hypothesis, tmp_path, capsys):
    path = ROOT / "experiments" / HYPOTHESES[hypothesis]
    design = load_experiment(path)
    out = tmp_path / hypothesis
    status = main(
        [
            "batch",
            str(path),
            "--replications",
            "2",
            "--draws",
            "2",
            "--sequential",
            "--out",
            str(out),
            "--no-progress",
        ]
    )
    assert status == 0, capsys.readouterr().err
    assert f"done: {4 * len(design.arms)} runs" in capsys.readouterr().out
    assert main(["compare", str(out)]) == 0
    claims = pd.read_csv(out / "claims.csv")
    assert list(claims["id"]) == [c.id for c in design.claims]
    assert set(claims["verdict"]) <= VERDICTS
    assert (claims["n_pairs"] == 4).all() and (claims["n_draws"] == 2).all()
    metrics = pd.read_csv(out / "metrics.csv")
    assert set(metrics["arm"]) == set(design.arms)
