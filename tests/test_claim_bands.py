"""Every claim names its band of practical equivalence, with a reason; a bad band is one line, exit 2."""

from __future__ import annotations

import re

import pandas as pd
import pytest

from sim.cli import main
from sim.experiments.design import ExperimentError, load_experiment

from .conftest import DATA, ROOT

MINI = DATA / "mini_experiment.toml"
BAND = "band = 1.0\n"
REASON = 'band_reason = "a count per run: one blocked item, the unit of the count"\n'

BAD_BANDS = {
    "band_missing": (lambda t: t.replace(BAND, ""), "key 'claims[0].band': missing required key"),
    "band_negative": (lambda t: t.replace(BAND, "band = -0.5\n"), "key 'claims[0].band': expected a number > 0.0, got -0.5"),
    "band_zero": (lambda t: t.replace(BAND, "band = 0\n"), "key 'claims[0].band': expected a number > 0.0, got 0"),
    "band_nan": (lambda t: t.replace(BAND, "band = nan\n"), "key 'claims[0].band': expected a finite number, got nan"),
    "band_inf": (lambda t: t.replace(BAND, "band = inf\n"), "key 'claims[0].band': expected a finite number, got inf"),
    "band_huge": (lambda t: t.replace(BAND, "band = 1e308\n"), "key 'claims[0].band': expected a number <= 1000000.0, got 1e+308"),
    "band_text": (lambda t: t.replace(BAND, 'band = "0.1"\n'), "key 'claims[0].band': expected a number, got '0.1'"),
    "band_bool": (lambda t: t.replace(BAND, "band = true\n"), "key 'claims[0].band': expected a number, got True"),
    "reason_missing": (lambda t: t.replace(REASON, ""), "key 'claims[0].band_reason': missing required key"),
    "reason_empty": (lambda t: t.replace(REASON, 'band_reason = "  "\n'), "key 'claims[0].band_reason'"),
}  # fmt: skip


def test_the_mini_experiment_states_its_band():
    text = MINI.read_text()
    assert BAND in text and REASON in text
    claim = load_experiment(MINI).claims[0]
    assert claim.band == 1.0 and claim.band_reason.startswith("a count per run")


@pytest.mark.parametrize("case", sorted(BAD_BANDS))
def test_a_bad_band_is_one_line_and_exit_2(case, tmp_path, capsys):
    edit, fragment = BAD_BANDS[case]
    (tmp_path / "tiny.toml").write_text((DATA / "tiny.toml").read_text())
    path = tmp_path / f"{case}.toml"
    text = edit(MINI.read_text())
    assert text != MINI.read_text()
    path.write_text(text)
    with pytest.raises(ExperimentError):
        load_experiment(path)
    status = main(["batch", str(path), "--out", str(tmp_path / "out"), "--no-progress"])
    err = capsys.readouterr().err
    assert status == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in err, err
    assert f"{case}.toml" in lines[0] and fragment in lines[0], lines[0]
    assert not (tmp_path / "out").exists()


def experiment_files():
    # calibrate_*.toml are calibration files, not experiments
    return [p for p in sorted((ROOT / "experiments").glob("*.toml")) if not p.name.startswith("calibrate_")]


def test_every_shipped_claim_has_a_band_with_a_reason():
    n = 0
    for path in experiment_files():
        for claim in load_experiment(path).claims:
            assert 0 < claim.band < 100, (path.name, claim.id)
            assert len(claim.band_reason) > 20, (path.name, claim.id)
            n += 1
    assert n >= 50


def test_shipped_files_say_they_are_calibrated():
    for path in [*experiment_files(), MINI]:
        text = path.read_text()
        assert not re.search(r"not\s+calibrated\s+yet", text), path.name
    for path in experiment_files():
        if path.name.startswith("h") or path.name == "enlargement.toml":
            assert "calibrated to the 1996-2017 record, docs/calibration.md" in path.read_text(), path.name


CONTROL = """
[arms.control]
scenario = "tiny.toml"
"""
FLAT_CLAIM = """
[[claims]]
id = "flat"
statement = "consensus_rate[control] > consensus_rate[consensus]"
band = 0.02
band_reason = "one item in fifty"
"""


def test_no_variation_is_its_own_verdict_in_compare_csv_and_report(tmp_path, capsys):
    # an arm identical to another: under common random numbers every paired difference is 0
    (tmp_path / "tiny.toml").write_text((DATA / "tiny.toml").read_text())
    text = MINI.read_text().replace("[arms.qmv]", CONTROL.strip() + "\n\n[arms.qmv]") + FLAT_CLAIM
    text = re.sub(r"(?m)^charts = .*$", 'charts = ["differences"]', text)
    path = tmp_path / "flat.toml"
    path.write_text(text)
    out = tmp_path / "out"
    assert main(["batch", str(path), "--out", str(out), "--sequential", "--no-progress"]) == 0
    capsys.readouterr()
    assert main(["compare", str(out)]) == 0
    stdout = capsys.readouterr().out
    line = next(line for line in stdout.splitlines() if line.strip().startswith("flat "))
    assert line.rstrip().endswith("NO VARIATION") and "in every pair" in line and "band 0.02" in line
    assert "nan" not in line.lower() and "INCONCLUSIVE" not in line
    assert "all paired differences are equal (+0 in each of 4 pairs, inside the band)" in stdout
    assert "Holm's adjustment across the" in stdout
    claims = pd.read_csv(out / "claims.csv")
    flat = claims.set_index("id").loc["flat"]
    assert flat["verdict"] == "no variation" and flat["band"] == 0.02
    assert flat["band_reason"] == "one item in fifty"
    assert main(["report", str(out)]) == 0
    html = (out / "report.html").read_text()
    assert '<span class="verdict v-novariation">no variation</span>' in html
    row = html[html.index("<strong>flat</strong>") :].split("</tr>")[0]
    assert "nan" not in row.lower() and "in every pair" in row and "\u00b10.020" in row
    assert "one item in fifty" in row and "How to read this report" in html


def test_a_results_folder_from_before_bands_is_one_line_naming_the_key(tmp_path, capsys):
    (tmp_path / "tiny.toml").write_text((DATA / "tiny.toml").read_text())
    path = tmp_path / "mini.toml"
    path.write_text(re.sub(r"(?m)^charts = .*$", 'charts = ["differences"]', MINI.read_text()))
    out = tmp_path / "out"
    assert main(["batch", str(path), "--out", str(out), "--sequential", "--no-progress"]) == 0
    copy = out / "experiment.toml"
    copy.write_text(copy.read_text().replace(BAND, "").replace(REASON, ""))
    capsys.readouterr()
    assert main(["compare", str(out)]) == 2
    err = capsys.readouterr().err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in err, err
    assert "experiment.toml: key 'claims[0].band': missing required key; add band and band_reason" in lines[0]
