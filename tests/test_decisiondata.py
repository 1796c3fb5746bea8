"""Reading decision data: the DEU layout and the actor-table layout, and bad files."""

from __future__ import annotations

import numpy as np
import pytest

from sim.errors import TableError
from sim.rules.decisiondata import OTHER, QUALIFIED_MAJORITY, UNANIMITY, read_decision_data

from .conftest import DATA

SLICE = DATA / "bargaining" / "deu3_slice.csv"


def test_deu_slice_reads_positions_saliences_capabilities_and_facts():
    data = read_decision_data(SLICE)
    assert len(data.actors) == 30 and data.actors[:3] == ["com", "ep", "at"]
    assert data.positions.shape == (20, 30)
    assert data.capabilities[0, 0] == pytest.approx(4.1) and data.capabilities[0, 2] == pytest.approx(0.48)
    np.testing.assert_allclose(data.capabilities, np.tile(data.capabilities[0], (20, 1)))
    first = data.issues.iloc[0]
    assert (first["issue"], first["line"], first["rule"]) == ("d00032i1", 3, QUALIFIED_MAJORITY)
    assert (first["status_quo"], first["outcome"], first["proposer_position"]) == (0.0, 100.0, 100.0)
    assert (data.issues["rule"] == UNANIMITY).sum() == 7
    # blank positions are absent; saliences are on 0-1 and 0 where the actor has no position
    assert data.present[0].sum() == 17
    assert data.saliences[0, 0] == pytest.approx(0.5) and data.saliences[0, 1] == pytest.approx(0.5)
    assert (data.saliences[~data.present] == 0).all()
    # the issue without an outcome (line 15) is read but not scored
    assert data.issues.loc[12, "line"] == 15 and np.isnan(data.issues.loc[12, "outcome"])
    assert data.scored.sum() == 19


def test_a_blank_salience_beside_a_position_counts_as_zero(tmp_path):
    lines = SLICE.read_text().splitlines()
    header = lines[0].split("\t")
    row = lines[2].split("\t")
    row[header.index('"scom"')] = ""
    path = tmp_path / "d.csv"
    path.write_text("\n".join([lines[0], lines[1], "\t".join(row)]) + "\n")
    data = read_decision_data(path)
    assert data.present[0, 0] and data.saliences[0, 0] == 0.0


def test_actor_table_layout_with_outcomes(tmp_path):
    path = tmp_path / "actors.csv"
    path.write_text(
        "Issue,Actor,Capability,Position,Salience,Outcome,StatusQuo,VotingRule\n"
        "a,X,2,10,80,30,0,Unan\n"
        "a,Y,1,70,40,,,\n"
        "b,X,2,100,50,90,,QMV\n"
        "b,Z,3,50,100,90,,QMV\n"
    )
    data = read_decision_data(path)
    assert data.actors == ["X", "Y", "Z"]
    assert data.issues["rule"].tolist() == [UNANIMITY, QUALIFIED_MAJORITY]
    assert data.issues["outcome"].tolist() == [30.0, 90.0]
    assert data.issues["status_quo"].iloc[0] == 0.0 and np.isnan(data.issues["status_quo"].iloc[1])
    assert data.issues["line"].tolist() == [2, 4]
    assert np.isnan(data.positions[0, 2]) and data.positions[1, 2] == 50
    assert data.saliences[1, 2] == pytest.approx(1.0)  # 0-100 saliences rescaled
    assert data.capabilities[1, 2] == 3


def test_the_example_table_reads_without_outcomes():
    data = read_decision_data(DATA / "bargaining" / "bdm_example_actors.csv", require_outcome=False)
    assert data.positions.shape == (1, 10) and not data.scored.any()
    assert data.issues["rule"].tolist() == [OTHER]


def deu_variant(tmp_path, edit):
    """Write the slice with one edit applied to its rows (lists of cells) and return the path."""
    rows = [line.split("\t") for line in SLICE.read_text().splitlines()]
    edit(rows)
    path = tmp_path / "bad.csv"
    path.write_text("\n".join("\t".join(r) for r in rows) + "\n")
    return path


def set_cell(line, column, value):
    def edit(rows):
        rows[line - 1][rows[0].index(f'"{column}"')] = value

    return edit


def drop_column(column):
    def edit(rows):
        at = rows[0].index(f'"{column}"')
        for r in rows:
            del r[at]

    return edit


@pytest.mark.parametrize(
    "edit, fragment",
    [
        (drop_column("psk"), "line 1: missing column 'psk' for actor 'sk'"),
        (drop_column("sfr"), "line 1: missing column 'sfr' for actor 'fr'"),
        (drop_column("out"), "line 1: missing column 'out'"),
        (set_cell(5, "pde", "120"), "line 5, column 'pde': expected a position in 0-100, got 120"),
        (set_cell(4, "pcom", "-3"), "line 4, column 'pcom': expected a position in 0-100, got -3"),
        (set_cell(6, "sit", "-10"), "line 6, column 'sit': expected a salience >= 0, got -10"),
        (set_cell(2, "pat", "-0.5"), "line 2, column 'pat': expected a capability >= 0, got -0.5"),
        (set_cell(3, "out", "150"), "line 3, column 'out': expected a value in 0-100, got 150"),
        (set_cell(7, "pep", "high"), "line 7, column 'pep': expected a number, got 'high'"),
    ],
    ids=["no-position-column", "no-salience-column", "no-outcome-column", "position-above-100",
         "position-below-0", "negative-salience", "negative-capability", "outcome-out-of-range",
         "not-a-number"],
)  # fmt: skip
def test_bad_deu_files_name_the_file_line_and_column(tmp_path, edit, fragment):
    with pytest.raises(TableError) as caught:
        read_decision_data(deu_variant(tmp_path, edit))
    message = str(caught.value)
    assert message.startswith(str(tmp_path / "bad.csv")) and fragment in message
    assert "\n" not in message


@pytest.mark.parametrize(
    "text, fragment",
    [
        ("Actor,Capability,Position,Salience\nA,1,50,0.5\n", "line 1: missing column 'Outcome'"),
        ("Actor,Capability,Position,Salience,Outcome\nA,1,50,0.5,10\nB,1,101,0.5,10\n",
         "line 3, column 'Position': expected a position in 0-100"),
        ("Actor,Capability,Position,Salience,Outcome\nA,1,50,-0.5,10\n", "line 2, column 'Salience'"),
        ("Actor,Capability,Position,Salience,Outcome\n\nA,-1,50,0.5,10\n", "line 3, column 'Capability'"),
        ("Actor,Capability,Position,Salience,Outcome\nA,1,50,0.5,120\n",
         "line 2, column 'Outcome': expected a value in 0-100"),
        ("Actor,Capability,Position,Salience,Outcome\nA,1,50,0.5,10\nB,1,50,0.5,20\n",
         "line 3, column 'Outcome': 20 differs from an earlier row of issue '1'"),
    ],
)  # fmt: skip
def test_bad_actor_tables_name_the_file_line_and_column(tmp_path, text, fragment):
    path = tmp_path / "bad.csv"
    path.write_text(text)
    with pytest.raises(TableError) as caught:
        read_decision_data(path)
    assert "bad.csv" in str(caught.value) and fragment in str(caught.value)


def test_unreadable_and_empty_files(tmp_path):
    with pytest.raises(TableError, match="file not found"):
        read_decision_data(tmp_path / "none.csv")
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    with pytest.raises(TableError, match="empty"):
        read_decision_data(empty)
    no_actors = tmp_path / "plain.csv"
    no_actors.write_text("a,b,out\n1,2,3\n")
    with pytest.raises(TableError, match="no actor columns"):
        read_decision_data(no_actors)
