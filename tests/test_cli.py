"""The command line: subprocesses as a user would run it, and error cases in this process (faster)."""

from __future__ import annotations

import filecmp
import subprocess
import sys

import pandas as pd
import pytest

from sim.cli import main

from .conftest import SCENARIOS

COMMANDS = ["run", "check", "bargain", "bargain-bench", "rules"]


def sco_sim(*args, cwd=None):
    return subprocess.run(
        [sys.executable, "-m", "sim", *map(str, args)], capture_output=True, text=True, cwd=cwd
    )


@pytest.mark.parametrize("command", [None, *COMMANDS])
def test_help_on_every_command(command):
    proc = sco_sim(*([command] if command else []), "--help")
    assert proc.returncode == 0
    assert "usage: sco-sim" in proc.stdout
    if command is None:
        for name in COMMANDS:
            assert name in proc.stdout


@pytest.mark.slow
def test_run_twice_in_separate_processes_gives_identical_files(tmp_path):
    """Determinism: same scenario and seed -> byte-identical outputs, every file."""
    a, b = tmp_path / "a", tmp_path / "b"
    for out in (a, b):
        proc = sco_sim("run", SCENARIOS / "history_1996.toml", "--seed", 7, "--out", out)
        assert proc.returncode == 0, proc.stderr
    names = sorted(p.name for p in a.iterdir())
    assert names == sorted(p.name for p in b.iterdir())
    expected = {f"{t}.{ext}" for t in ("model", "states", "decisions", "texts") for ext in ("csv", "parquet")}
    assert expected | {"summary.json", "outcomes.png"} == set(names)
    _match, mismatch, errors = filecmp.cmpfiles(a, b, names, shallow=False)
    assert mismatch == [] and errors == []


@pytest.mark.slow
def test_run_prints_a_summary_and_tables_read_back(tmp_path):
    out = tmp_path / "r"
    proc = sco_sim("run", SCENARIOS / "sco8_2017.toml", "--seed", 3, "--out", out)
    assert proc.returncode == 0, proc.stderr
    for phrase in (
        "consensus rate",
        "adopted",
        "diluted",
        "blocked",
        "members at end    8",
        "balancing index   KAZ",
    ):
        assert phrase in proc.stdout
    csv = pd.read_csv(out / "decisions.csv", keep_default_na=False, na_values=[""])
    parquet = pd.read_parquet(out / "decisions.parquet")
    assert len(csv) == len(parquet) > 0
    assert list(csv.columns) == list(parquet.columns)
    model = pd.read_parquet(out / "model.parquet")
    assert model["year"].tolist() == list(range(2017, 2036))


@pytest.mark.slow
def test_run_default_out_folder_is_results_slash_name(tmp_path):
    proc = sco_sim("run", SCENARIOS / "sco6_2017.toml", "--until", 2019, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "results" / "sco6_2017" / "model.csv").exists()
    assert pd.read_csv(tmp_path / "results" / "sco6_2017" / "model.csv")["year"].max() == 2019


def test_run_into_an_unwritable_place_is_a_clean_error(tmp_path, capsys):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    status = main(["run", str(SCENARIOS / "sco6_2017.toml"), "--out", str(blocker / "sub")])
    err = capsys.readouterr().err
    assert status == 2
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1
    assert "cannot write results" in err and str(blocker / "sub") in err


def test_check_prints_the_resolution():
    proc = sco_sim("check", SCENARIOS / "sco6_2017.toml")
    assert proc.returncode == 0, proc.stderr
    assert "sco6_2017.toml <- " in proc.stdout and "history_1996.toml" in proc.stdout
    assert "applied as initial conditions" in proc.stdout
    assert "IND  memorandum" in proc.stdout


def test_check_json_is_the_resolved_scenario():
    import json

    proc = sco_sim("check", SCENARIOS / "sco10_2024.toml", "--json")
    data = json.loads(proc.stdout)
    assert data["name"] == "sco10_2024"
    assert [e["id"] for e in data["events"]] == ["ind_pak_accession", "iran_accession", "belarus_accession"]


def test_rules_lists_every_rule_with_its_source():
    proc = sco_sim("rules")
    assert proc.returncode == 0
    for name in ("consensus", "consensus_opt_out", "qualified_majority", "compromise"):
        assert f"\n{name}\n" in f"\n{proc.stdout}"
    assert proc.stdout.count("source:") >= 4


def test_unknown_command_is_exit_2(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["fly"])
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert "invalid choice: 'fly'" in err and "Traceback" not in err
