"""Decision rules on a plain actor table, through Python and the command line."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sim.cli import main
from sim.errors import TableError
from sim.rules import RuleSettings
from sim.rules.bargain import bargain, check_actor_table, read_actor_table

TABLE = """Actor,Capability,Position,Salience
A,3,80,1.0
B,1,20,0.5
C,1,60,0.8
"""

BDM = Path(__file__).resolve().parents[2] / "shared/data/bargaining/bdm_example_actors.csv"


@pytest.fixture
def table_path(tmp_path):
    path = tmp_path / "actors.csv"
    path.write_text(TABLE)
    return path


def test_compromise_on_a_table(table_path):
    result = bargain(read_actor_table(table_path), rule="compromise")
    expected = (3 * 1.0 * 80 + 1 * 0.5 * 20 + 1 * 0.8 * 60) / (3 * 1.0 + 0.5 + 0.8)
    assert result.outcomes.loc[0, "prediction"] == pytest.approx(expected)
    assert len(result.actors) == 3


def test_consensus_on_a_table_names_the_objector(table_path):
    result = bargain(read_actor_table(table_path), rule="consensus", status_quo=50, proposal=80, tolerance=0.1,
                     settings=RuleSettings(max_rounds=0, deferral_margin=1.0))  # fmt: skip
    row = result.outcomes.iloc[0]
    assert row["outcome"] == "blocked"
    assert row["objectors"] == "B"
    assert result.actors.set_index("actor").loc["B", "objects"]


def test_several_issues_and_per_issue_status_quo():
    table = pd.DataFrame(
        {"Issue": ["x", "x", "y", "y"], "Actor": ["A", "B", "A", "B"], "Capability": [1, 1, 1, 1],
         "Position": [10, 30, 70, 90], "Salience": [1, 1, 1, 1]}
    )  # fmt: skip
    result = bargain(table, rule="compromise", status_quo={"x": 0, "y": 0})
    np.testing.assert_allclose(result.outcomes["prediction"], [20, 80])
    with pytest.raises(TableError, match="no status quo given"):
        bargain(table, status_quo={"x": 0})


def test_saliences_on_a_0_100_scale_are_rescaled_and_said(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("Actor,Capability,Position,Salience\nA,1,10,80\nB,1,30,40\n")
    result = bargain(read_actor_table(path))
    assert any("0-100" in note for note in result.notes)
    assert result.outcomes.loc[0, "prediction"] == pytest.approx((0.8 * 10 + 0.4 * 30) / 1.2)


@pytest.mark.skipif(not BDM.exists(), reason="shared data not present")
def test_the_bdm_example_table_reads_and_decides():
    table = read_actor_table(BDM)
    assert len(table) == 10
    result = bargain(table, rule="compromise")
    w = table["Capability"] * table["Salience"]
    assert result.outcomes.loc[0, "prediction"] == pytest.approx(
        float((w * table["Position"]).sum() / w.sum())
    )


@pytest.mark.parametrize(
    "text, fragment",
    [
        ("Actor,Capability,Salience\nA,1,1\n", "missing column 'Position'"),
        (
            "Actor,Capability,Position,Salience\nA,1,120,1\n",
            "row 2, column 'Position': expected a position in 0-100",
        ),
        ("Actor,Capability,Position,Salience\nA,1,50,1\nB,1,50,-1\n", "row 3, column 'Salience'"),
        ("Actor,Capability,Position,Salience\nA,-2,50,1\n", "row 2, column 'Capability'"),
        ("Actor,Capability,Position,Salience\nA,1,abc,1\n", "row 2, column 'Position': expected a number"),
        ("Actor,Capability,Position,Salience\n", "no actor rows"),
        ("Actor,Capability,Position,Salience\nA,1,5,1\nA,1,6,1\n", "appears twice"),
    ],
)
def test_bad_tables_name_file_row_and_column(tmp_path, text, fragment):
    path = tmp_path / "bad.csv"
    path.write_text(text)
    with pytest.raises(TableError) as exc:
        read_actor_table(path)
    assert "bad.csv" in str(exc.value)
    assert fragment in str(exc.value)


@pytest.mark.slow
def test_cli_bargain(table_path):
    proc = subprocess.run([sys.executable, "-m", "sim", "bargain", str(table_path), "--rule", "compromise"],
                          capture_output=True, text=True)  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert "rule compromise" in proc.stdout and "prediction" in proc.stdout


def test_cli_bargain_bad_input(tmp_path, table_path, capsys):
    # In this process: the message and the exit status are the point, not the process boundary.
    bad = tmp_path / "bad.csv"
    bad.write_text("Actor,Capability,Position,Salience\nA,1,150,1\n")
    for args, fragment in (
        ([str(bad)], "bad.csv: row 2, column 'Position'"),
        ([str(table_path), "--rule", "veto"], "unknown decision rule 'veto'"),
        ([str(tmp_path / "none.csv")], "file not found"),
    ):
        status = main(["bargain", *args])
        err = capsys.readouterr().err
        assert status == 2
        assert fragment in err and "Traceback" not in err
        assert len(err.strip().splitlines()) == 1


def test_check_actor_table_accepts_lowercase_headers():
    table = pd.DataFrame({"actor": ["A"], "capability": [1], "position": [5], "salience": [1]})
    assert list(check_actor_table(table).columns[:4]) == ["Actor", "Capability", "Position", "Salience"]
