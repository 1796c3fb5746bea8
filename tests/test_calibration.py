"""Calibration (sim.analysis.calibration, `sco-sim calibrate`) on a tiny budget.

test_validation.py covers the shipped file, the range checks and resume; these cover the
command end to end, reproducibility (and that another seed really gives another search),
the budget arithmetic, the files written, and malformed calibration files.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pandas as pd
import pytest

from sim.analysis import validation
from sim.analysis.calibration import (
    CalibrationError,
    apply_to_scenario,
    calibrate,
    format_result,
    load_calibration,
    total_runs,
)
from sim.cli import main
from sim.scenario import load_scenario

from .conftest import SCENARIOS

HISTORY = SCENARIOS / "history_1996.toml"
BUDGET = "samples = 3\nseeds = 1\naccept = 0.34\nrefine_top = 2\nrefine_seeds = 1\n"
RANGES = "[ranges]\ntolerance = [0.03, 0.12]\nagenda_size = [2, 5]\n"
OUTPUTS = ("search.csv", "refine.csv", "posterior.csv", "chosen.json")


def calibration_file(folder: Path, body: str, scenario: Path = HISTORY, name: str = "cal.toml") -> Path:
    path = folder / name
    path.write_text(f'scenario = "{scenario}"\n{body}')
    return path


def test_total_runs_counts_search_and_refine_judgements(tmp_path):
    cal = load_calibration(calibration_file(tmp_path, BUDGET + RANGES))
    assert total_runs(cal) == 3 * 1 + 2 * 1
    bigger = cal.with_budget(samples=4, seeds=3, refine_top=9, refine_seeds=5)
    assert total_runs(bigger) == 4 * 3 + 4 * 5  # refine_top is capped at the number of samples
    assert bigger.digest != cal.digest and cal.with_budget(samples=None).digest == cal.digest


def test_calibrate_command_runs_end_to_end(tmp_path, capsys):
    path = calibration_file(tmp_path, BUDGET + RANGES)
    out = tmp_path / "out"
    status = main(["calibrate", str(path), "--out", str(out), "--workers", "1", "--no-progress"])
    captured = capsys.readouterr()
    assert status == 0, captured.err
    assert "calibrating history_1996.toml: 5 seed-judgements (2 runs each) on 1 workers" in captured.out
    assert "patterns pass" in captured.out
    for name in OUTPUTS:
        assert (out / name).exists(), name
    search = pd.read_csv(out / "search.csv")
    assert list(search["point"]) == [0, 1, 2]
    assert (
        search["distance"].between(0, 1).all()
        and search["passing"].between(0, len(validation.PATTERNS)).all()
    )
    refine = pd.read_csv(out / "refine.csv")
    assert len(refine) == 2 and set(refine["point"]) <= set(search["point"])
    chosen = json.loads((out / "chosen.json").read_text())
    assert chosen["point"] == int(refine.iloc[0]["point"])  # the best of the refined round
    row = search[search["point"] == chosen["point"]].iloc[0]
    assert chosen["values"] == {"tolerance": row["tolerance"], "agenda_size": int(row["agenda_size"])}
    posterior = pd.read_csv(out / "posterior.csv")
    assert list(posterior["parameter"]) == ["tolerance", "agenda_size"]
    assert list(posterior["section"]) == ["rules", "parameters"]
    assert (posterior["low"] <= posterior["accepted_min"]).all()
    assert (posterior["accepted_min"] <= posterior["accepted_median"]).all()
    assert (posterior["accepted_median"] <= posterior["accepted_max"]).all()
    assert (posterior["accepted_max"] <= posterior["high"]).all()
    # a calibration does not touch the scenario unless --apply is given
    assert "wrote the chosen values" not in captured.out


@pytest.mark.slow
def test_same_seed_same_calibration_other_seed_other_search(tmp_path):
    cal = load_calibration(calibration_file(tmp_path, BUDGET + RANGES))
    progress: list[int] = []
    first = calibrate(cal, tmp_path / "a", workers=1, progress=progress.append)
    assert sum(progress) == total_runs(cal)
    second = calibrate(cal, tmp_path / "b", workers=1)
    for name in OUTPUTS:
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes(), name
    assert first.chosen == second.chosen
    assert format_result(first) == format_result(second)
    assert len(first.accepted) == 1  # round(0.34 * 3)

    other = load_calibration(
        calibration_file(tmp_path, BUDGET + "base_seed = 11\n" + RANGES, name="other.toml")
    )
    third = calibrate(other, tmp_path / "c", workers=1)
    assert list(third.search["tolerance"]) != list(first.search["tolerance"])


def test_apply_adds_a_key_the_scenario_does_not_set(tmp_path):
    scenario = tmp_path / "history.toml"
    shutil.copy(HISTORY, scenario)
    assert "voice_dilution" not in scenario.read_text().split("[parameters]")[1].split("[")[0]
    cal = load_calibration(
        calibration_file(tmp_path, BUDGET + "[ranges]\nvoice_dilution = [0.1, 1.0]\n", scenario=scenario)
    )
    apply_to_scenario(cal, {"voice_dilution": 0.625}, "Calibrated (test).")
    assert load_scenario(scenario).parameters.voice_dilution == 0.625
    text = scenario.read_text()
    assert text.count("voice_dilution = 0.625") == 1
    assert "# Calibrated (test).\n[parameters]" in text


BAD = {
    "unknown_top_level_key": (BUDGET + "sample = 3\n" + RANGES, "key 'sample'", "unknown key"),
    "range_not_a_pair": (BUDGET + "[ranges]\ntolerance = [0.1]\n", "key 'ranges.tolerance[1]'", "missing"),
    "range_not_numbers": (BUDGET + '[ranges]\ntolerance = ["low", "high"]\n', "ranges.tolerance", "a number"),
    "accept_above_one": ("accept = 1.5\n" + RANGES, "key 'accept'", "<= 1.0, got 1.5"),
    "toml_syntax": (BUDGET + "[ranges\n", "line 7", "TOML syntax error"),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_calibration_files_raise_calibration_error(tmp_path, case):
    body, key, words = BAD[case]
    path = calibration_file(tmp_path, body)
    with pytest.raises(CalibrationError) as info:
        load_calibration(path)
    line = info.value.one_line()
    assert "\n" not in line and line.startswith(str(path))
    assert key in line and words in line, line


def test_missing_files_raise_calibration_error(tmp_path):
    with pytest.raises(CalibrationError, match="file not found"):
        load_calibration(tmp_path / "none.toml")
    no_scenario_key = tmp_path / "no_scenario.toml"
    no_scenario_key.write_text(BUDGET + RANGES)
    with pytest.raises(CalibrationError) as info:
        load_calibration(no_scenario_key)
    assert info.value.key == "scenario"
    missing_scenario = calibration_file(tmp_path, BUDGET + RANGES, scenario=tmp_path / "gone.toml")
    with pytest.raises(CalibrationError, match=r"gone\.toml"):
        load_calibration(missing_scenario)


def test_calibrate_command_with_a_bad_file_is_one_line_exit_2(tmp_path, capsys):
    path = calibration_file(tmp_path, BUDGET + "[ranges]\ntolerence = [0.03, 0.12]\n")
    out = tmp_path / "out"
    status = main(["calibrate", str(path), "--out", str(out), "--no-progress"])
    captured = capsys.readouterr()
    assert status == 2 and captured.out == ""
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in captured.err
    assert "cal.toml" in lines[0] and "ranges.tolerence" in lines[0]
    assert not out.exists()
