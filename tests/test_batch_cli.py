"""The main job end to end through the command line, with few seeds."""

from __future__ import annotations

import subprocess
import sys

import pandas as pd
import pytest

from sim.analysis import compare
from sim.cli import main

from .conftest import ROOT

ENLARGEMENT = ROOT / "experiments" / "enlargement.toml"


def sco_sim(*args):
    return subprocess.run([sys.executable, "-m", "sim", *map(str, args)], capture_output=True, text=True)


@pytest.mark.slow
def test_enlargement_experiment_runs_compares_plots_and_reports(tmp_path):
    out = tmp_path / "enlargement"
    proc = sco_sim(
        "batch", ENLARGEMENT, "--replications", 2, "--draws", 3, "--out", out, "--workers", 2, "--no-progress"
    )
    assert proc.returncode == 0, proc.stderr
    assert "3 arms x 1 point(s) x 3 posterior draws x 2 seeds = 18 runs" in proc.stdout
    assert "done: 18 runs" in proc.stdout and "0 failed" in proc.stdout

    proc = sco_sim("compare", out)
    assert proc.returncode == 0, proc.stderr
    claims = pd.read_csv(out / "claims.csv")
    assert list(claims["id"]) == [
        "H1_consensus_sco8", "H1_diluted_sco8", "H1_output_sco8", "H1_consensus_sco10",
        "H2_objections_sco8", "H2_rounds_sco8", "H2_objections_sco10",
    ]  # fmt: skip
    assert set(claims["verdict"]) <= set(compare.VERDICTS)
    assert (claims["band"] > 0).all() and claims["band_reason"].str.len().gt(0).all()
    assert (claims["n_pairs"] == 6).all() and (claims["n_draws"] == 3).all()
    for verdict in claims["verdict"]:
        assert verdict.upper() in proc.stdout
    metrics = pd.read_csv(out / "metrics.csv")
    assert set(metrics["arm"]) == {"sco6", "sco8", "sco10"}

    proc = sco_sim("plot", out)
    assert proc.returncode == 0, proc.stderr
    names = {p.name for p in (out / "charts").iterdir()}
    for chart in ("envelopes_consensus_rate", "outcome_composition", "differences", "balancing_index",
                  "depth_by_area", "objections"):  # fmt: skip
        assert f"{chart}.png" in names and f"{chart}.svg" in names

    proc = sco_sim("report", out)
    assert proc.returncode == 0, proc.stderr
    html = (out / "report.html").read_text()
    assert "H1_consensus_sco8" in html and "http://" not in html and "https://" not in html

    run_id = pd.read_parquet(out / "summaries")["run_id"].iloc[7]
    proc = sco_sim("rerun", run_id, "--results", out, "--out", tmp_path / "again")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "identical to the stored tables: yes" in proc.stdout


def test_results_commands_on_a_folder_that_is_not_results(tmp_path, capsys):
    # In this process (a subprocess per command cost seconds): the one-line error is the point.
    for argv in (
        ["compare", tmp_path],
        ["plot", tmp_path],
        ["report", tmp_path],
        ["rerun", "abc", "--results", tmp_path],
    ):
        status = main([str(a) for a in argv])
        err = capsys.readouterr().err
        assert status == 2, argv
        assert "not a results folder" in err and "Traceback" not in err
        assert len(err.strip().splitlines()) == 1 and str(tmp_path) in err
