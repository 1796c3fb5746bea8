"""Scenario discovery (``sco-sim discover``): the outcome language, PRIM and CART on a planted box, the CLI.

The outcome expressions are read by a small parser, never executed: the tests check what they
mean on hand-made tables and that a bad one is one line, exit status 2. PRIM and CART come from
the EMA Workbench (2.5 on Python 3.11, 3.0 on 3.12); importing it takes several seconds, so the
tests that run them are marked slow. A synthetic sweep has the outcome true exactly when
x1 is in [0.2, 0.5] and x2 > 0.7: both methods must find those limits. The command line runs
end to end on a tiny Latin hypercube stored by ``sco-sim batch``.
"""

from __future__ import annotations

import json
import math
import re
import struct
import sys
import zlib

import numpy as np
import pandas as pd
import pytest

from sim.analysis.outcome import (
    Aggregate,
    Comparison,
    Logical,
    Metric,
    Negative,
    outcome_values,
    parse_outcome,
)
from sim.cli import main
from sim.errors import DiscoverError, InputError, OutcomeError

from .conftest import DATA

# --- the outcome language ------------------------------------------------------------------------


def test_expressions_read_into_their_meaning():
    tree = parse_outcome("mean(consensus_rate, 2018-2035) < 0.8")
    assert tree == Comparison(("<",), (Aggregate("mean", "consensus_rate", None, (2018, 2035)), _n(0.8)))
    tree = parse_outcome("last(balancing_index, KAZ) - first(balancing_index, KAZ) < -0.1")
    assert tree.terms[0].left == Aggregate("last", "balancing_index", "KAZ", None)
    assert tree.terms[1] == Negative(_n(0.1))
    tree = parse_outcome("0.1 < blocked <= 2 and not (x > 1 or y == 2)")
    assert isinstance(tree, Logical) and tree.op == "and"
    assert tree.left == Comparison(("<", "<="), (_n(0.1), Metric("blocked"), _n(2.0)))
    assert parse_outcome("first(depth_trade, 2030) >= 1e1").terms[0].years == (2030, 2030)
    # * and / bind tighter than + and -; and binds tighter than or
    tree = parse_outcome("a + b * c > 1 or d > 1 and e > 1")
    assert tree.op == "or" and tree.right.op == "and"
    assert tree.left.terms[0].right.op == "*"


def _n(value):
    from sim.analysis.outcome import Number

    return Number(value)


@pytest.mark.parametrize(
    ("expression", "says"),
    [
        ("", "the outcome is empty"),
        ("mean(consensus_rate)", "a number, not a condition"),
        ("consensus_rate = 0.8", "write == to compare"),
        ("mean(consensus_rate) >", "expected a number, a metric"),
        ("median(x, 2030-2020) > 1", "end before they start"),
        ("open(x) > 1", "unknown function 'open'"),
        ("__import__(os) > 1", "unknown function '__import__'"),
        ("x.y > 1", "unexpected character '.'"),
        ("x > 1 and 2", "'and' joins conditions, not numbers"),
        ("(x > 1) + 1 > 2", "'+' works on numbers, not on a condition"),
        ("mean(1) > 0", "needs a column"),
        ("mean(x, KAZ, RUS) > 0", "expected a state code"),
        ("mean(x > 0", "',' or ')' to close mean("),
        ("x > 1 y", "expected 'and', 'or' or the end"),
        ("(" * 60 + "x > 1" + ")" * 60, "nested more than"),
        ("x > " + "1 + " * 400 + "1", "longer than 1000 characters"),
        ("x > 1\n; import os", "--outcome 'x > 1\\n; import os': unexpected character ';' (at character 7)"),
    ],
)
def test_a_bad_expression_is_one_outcome_error(expression, says):
    with pytest.raises(OutcomeError) as caught:
        parse_outcome(expression)
    line = caught.value.one_line()
    assert says in line, line
    assert "\n" not in line and line.startswith("--outcome '") and line.endswith("; see docs/discover.md")
    assert isinstance(caught.value, DiscoverError) and isinstance(caught.value, InputError)


def tables():
    """Three runs of a toy model table (2000-2003), a states table for KAZ and RUS, and summaries."""
    runs = ["a", "b", "c"]
    model = pd.DataFrame(
        {
            "run_id": np.repeat(runs, 4),
            "year": np.tile([2000, 2001, 2002, 2003], 3),
            "consensus_rate": [1.0, 0.5, np.nan, 0.5, 1.0, 1.0, 1.0, 1.0, np.nan, np.nan, np.nan, np.nan],
            "blocked": [0, 1, 0, 1, 0, 0, 0, 0, 2, 2, 2, 2],
        }
    )
    states = pd.DataFrame(
        {
            "run_id": np.repeat(runs, 8),
            "year": np.tile(np.repeat([2000, 2001, 2002, 2003], 2), 3),
            "state": ["KAZ", "RUS"] * 12,
            "status": "member",
            "balancing_index": [0.9, 0, 0.85, 0, 0.8, 0, 0.75, 0] + [0.9, 0, 0.9, 0, 0.9, 0, 0.9, 0] * 2,
        }
    )
    summaries = pd.DataFrame({"run_id": runs, "status": "ok", "blocked": [2.0, 0.0, 8.0]})
    return {"model": model, "states": states, "summaries": summaries}


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("mean(consensus_rate) < 0.8", [True, False, None]),  # empty years skipped; all empty: undefined
        ("mean(consensus_rate, 2000-2001) < 0.8", [True, False, None]),
        ("mean(consensus_rate, 2000) < 1", [False, False, None]),
        ("last(consensus_rate) <= 0.5", [True, False, None]),
        ("first(consensus_rate, 2002) >= 0", [None, True, None]),  # first/last take an empty year as it is
        ("sum(blocked) >= 2", [True, False, True]),
        ("max(blocked) - min(blocked) == 1", [True, False, False]),
        ("median(blocked) > 0", [True, False, True]),
        ("blocked > 1", [True, False, True]),  # a metric of the experiment, from the summaries
        ("blocked / sum(blocked) == 1", [True, None, True]),  # 0 / 0 is undefined
        ("last(balancing_index, KAZ) - first(balancing_index, KAZ) < -0.1", [True, False, False]),
        ("mean(balancing_index, RUS) == 0 and not blocked > 5", [True, True, False]),
        ("blocked > 5 or mean(consensus_rate) < 0.8", [True, False, None]),  # an undefined side: undefined
        ("0 < sum(blocked) < 5", [True, False, False]),
    ],
)
def test_outcomes_evaluate_run_by_run(expression, expected):
    values = outcome_values(expression, tables(), metrics=["blocked"])
    assert list(values.index) == ["a", "b", "c"]
    assert [None if pd.isna(v) else bool(v) for v in values] == expected


@pytest.mark.parametrize(
    ("expression", "says"),
    [
        ("consensus > 1", "unknown metric 'consensus' (the experiment's metrics are blocked)"),
        (
            "mean(nothing) > 1",
            "the model table has no numeric column 'nothing'; columns: consensus_rate, blocked",
        ),
        ("last(balancing_index, CHN) > 1", "no state 'CHN' in the states table (KAZ, RUS)"),
        ("last(status, KAZ) > 1", "no numeric column 'status'"),
        ("mean(consensus_rate, 1999) > 1", "the year 1999 is outside the runs (2000-2003)"),
        (
            "mean(consensus_rate, 1990-1995) > 1",
            "the years 1990-1995 are outside the runs (2000-2003) in mean(consensus_rate)",
        ),
    ],
)
def test_names_the_results_lack_are_outcome_errors(expression, says):
    with pytest.raises(OutcomeError, match=re.escape(says)):
        outcome_values(expression, tables(), metrics=["blocked"])


def test_a_state_column_without_a_state_says_to_name_one():
    with pytest.raises(
        OutcomeError,
        match=re.escape("a column of the states table: name the state, e.g. last(balancing_index, KAZ)"),
    ):
        outcome_values("last(balancing_index) > 0", tables(), metrics=[])


# --- PRIM and CART on a planted box ----------------------------------------------------------------


def planted(n=400, seed=2):
    rng = np.random.default_rng(seed)
    x = pd.DataFrame({"x1": rng.uniform(0, 1, n), "x2": rng.uniform(0, 1, n), "x3": rng.uniform(0, 1, n)})
    y = ((x["x1"] >= 0.2) & (x["x1"] <= 0.5) & (x["x2"] > 0.7)).to_numpy()
    return x, y


def limits(box):
    return {row.input: (row.low, row.high) for row in box.restricted.itertuples()}


@pytest.mark.slow
def test_prim_and_cart_find_the_planted_box():
    from sim.analysis.discover import Settings, discover_frame

    x, y = planted()
    found = discover_frame(x, y, Settings(), outcome="planted")
    assert found.n_runs == 400 and found.n_interest == int(y.sum()) and found.inputs == ["x1", "x2", "x3"]
    assert found.versions["ema_workbench"].split(".")[0] == ("2" if sys.version_info < (3, 12) else "3")
    for box in (found.prim[0], found.cart[0]):
        bounds = limits(box)
        assert set(bounds) == {"x1", "x2"}, (box.method, bounds)  # x3 plays no part
        assert bounds["x1"][0] == pytest.approx(0.2, abs=0.05) and bounds["x1"][1] == pytest.approx(
            0.5, abs=0.05
        )
        assert bounds["x2"][0] == pytest.approx(0.7, abs=0.05)
        assert box.coverage >= 0.8 and box.density >= 0.8, box
        inside = (x["x1"].between(*bounds["x1"]) & x["x2"].between(*bounds["x2"])).to_numpy()
        assert box.n == inside.sum() and box.k == (inside & y).sum()
        assert box.coverage == pytest.approx(box.k / y.sum()) and box.density == pytest.approx(box.k / box.n)
        assert box.mass == pytest.approx(box.n / len(y))
    prim = found.prim[0]
    assert prim.meets_density and prim.density >= 0.8
    # pinned: the adapter gives these same boxes on the Workbench 2.5 (Python 3.11) and 3.0 (3.12)
    assert (prim.step, prim.n, prim.k, found.cart[0].n) == (47, 28, 28, 28)
    assert [v for pair in limits(prim).values() for v in pair] == pytest.approx(
        [0.19900511497488926, 0.4998645790940562, 0.6971375676374265, 0.997560731531635], abs=1e-12
    )
    assert [v for pair in limits(found.cart[0]).values() for v in pair] == pytest.approx(
        [0.19851604849100113, 0.4998645782470703, 0.700491189956665, 0.997560731531635], abs=1e-9
    )
    # the chosen step is the one of highest coverage at density 0.8 or more
    steps = found.trajectory[found.trajectory["box"] == 1]
    dense = steps[steps["density"] >= 0.8]
    assert (
        steps["chosen"].sum() == 1
        and steps.loc[steps["chosen"], "coverage"].item() == dense["coverage"].max()
    )
    assert steps["step"].tolist() == list(range(len(steps))) and steps["coverage"].iloc[0] == 1.0
    # PRIM's quasi-p values: small for the limits it drew, empty for the open side of x2
    p = prim.restricted.set_index("input")
    assert p.loc["x1", "p_low"] < 0.01 and p.loc["x2", "p_low"] < 0.01 and math.isnan(p.loc["x2", "p_high"])
    # the table and the printed lines carry coverage and density
    table = found.table()
    assert set(table["method"]) == {"PRIM", "CART"} and len(table) == 3 * len(found.boxes)
    text = "\n".join(found.lines())
    assert f"PRIM box 1: coverage {prim.coverage:.3f}, density {prim.density:.3f}" in text
    assert re.search(r"x1 +0\.\d+ \.\. 0\.\d+", text) and "x3" not in text.split("boxes")[1]
    assert json.loads(json.dumps(found.to_json()))["boxes"][0]["ranges"].startswith("x1 in [0.")
    # the same data give the same boxes (CART's tie-breaks are seeded, numpy's global state is left as it was)
    state = np.random.get_state()[1].copy()
    again = discover_frame(x, y, Settings(), outcome="planted")
    assert np.array_equal(np.random.get_state()[1], state)
    pd.testing.assert_frame_equal(again.table(), table)


@pytest.mark.slow
def test_a_density_out_of_reach_reports_the_densest_box_and_a_second_box_only_if_dense():
    from sim.analysis.discover import Settings, discover_frame

    x, y = planted(n=200, seed=5)
    rng = np.random.default_rng(0)
    noisy = y ^ (rng.uniform(size=len(y)) < 0.15)  # 15% of the outcomes flipped: no box is pure
    found = discover_frame(x, noisy, Settings(density=1.0, boxes=3))
    assert len(found.prim) == 1  # later boxes must reach the density; none does
    box = found.prim[0]
    assert not box.meets_density
    steps = found.trajectory[found.trajectory["box"] == 1]
    assert box.density == steps["density"].max()
    assert "no box on the trajectory reaches density 1" in "\n".join(found.lines())


def test_too_few_runs_or_no_contrast_is_a_discover_error():
    from sim.analysis.discover import discover_frame

    x, y = planted(n=40)
    with pytest.raises(DiscoverError, match="holds in 0 of 40 runs"):
        discover_frame(x, np.zeros(40, dtype=bool), outcome="x")
    with pytest.raises(DiscoverError, match="holds in 40 of 40 runs"):
        discover_frame(x, np.ones(40, dtype=bool), outcome="x")
    with pytest.raises(DiscoverError, match="only 5 run"):
        discover_frame(x.head(5), y[:5])
    with pytest.raises(DiscoverError, match="no input varies"):
        discover_frame(pd.DataFrame({"a": [1.0] * 20}), [True, False] * 10)


def test_without_the_workbench_discover_says_how_to_install_it(monkeypatch):
    from sim.analysis.discover import discover_frame

    monkeypatch.setitem(sys.modules, "ema_workbench", None)  # as if it were not installed
    x, y = planted(n=40)
    with pytest.raises(
        DiscoverError,
        match=re.escape("needs the EMA Workbench (ema_workbench): pip install 'sco-sim[discover]'"),
    ):
        discover_frame(x, y)


# --- the command line on a stored sweep -------------------------------------------------------------

SWEEP = """
schema_version = 1
name = "mini_sweep"
description = "tiny scenario: a Latin hypercube over the tolerance and the agenda size"
base_seed = 3
replications = 2
{arms}
[sweep]
method = "latin_hypercube"
samples = 12
seed = 4
[sweep.parameters."rules.tolerance"]
range = [0.0, 0.2]
[sweep.parameters."parameters.agenda_size"]
range = [1, 6]

[metrics.consensus_rate]
column = "consensus_rate"

[metrics.blocked]
column = "blocked"
aggregate = "sum"
"""
ONE_ARM = '[arms.consensus]\nscenario = "{tiny}"\n'
TWO_ARMS = (
    ONE_ARM
    + '[arms.qmv]\nscenario = "{tiny}"\noverrides = {{ rules = {{ decision_rule = "qualified_majority" }} }}\n'
)


def batch(folder, arms=ONE_ARM, sweep=True):
    text = SWEEP.format(arms=arms.format(tiny=DATA / "tiny.toml"))
    if not sweep:
        text = text.split("[sweep]")[0] + "[metrics" + text.split("[metrics", 1)[1]
    folder.mkdir()
    (folder / "sweep.toml").write_text(text)
    out = folder / "out"
    assert (
        main(["batch", str(folder / "sweep.toml"), "--out", str(out), "--sequential", "--no-progress"]) == 0
    )
    return out


@pytest.fixture(scope="module")
def sweep(tmp_path_factory):
    """A stored Latin hypercube of 12 points x 2 seeds on the tiny scenario (2000-2005): 24 runs."""
    return batch(tmp_path_factory.mktemp("discover") / "one")


def run_cli(capsys, *args):
    code = main(["discover", *map(str, args)])
    out, err = capsys.readouterr()
    return code, out, err


def test_cli_reads_the_outcome_before_the_folder(tmp_path, capsys):
    code, out, err = run_cli(capsys, tmp_path / "nowhere", "--outcome", "mean(consensus_rate) =< 0.8")
    assert code == 2 and out == ""
    assert err == (
        "error: --outcome 'mean(consensus_rate) =< 0.8': unexpected character '=' (write == to compare) "
        "(at character 22); see docs/discover.md\n"
    )


@pytest.mark.slow
@pytest.mark.parametrize(
    ("outcome", "says"),
    [
        ("mean(consensus) < 0.8", "the model table has no numeric column 'consensus'"),
        (
            "objections > 1",
            "unknown metric 'objections' (the experiment's metrics are consensus_rate, blocked)",
        ),
        ("mean(consensus_rate, 2030-2035) < 0.8", "outside the runs (2000-2005)"),
        ("sum(blocked) > 1000", "holds in 0 of 24 runs"),
    ],
)
def test_cli_a_bad_outcome_is_one_line_exit_2(sweep, capsys, outcome, says):
    code, out, err = run_cli(capsys, sweep, "--outcome", outcome)
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and err.startswith(f"error: --outcome '{outcome}': ") and says in err, err
    assert not (sweep / "discover").exists()


@pytest.mark.slow
def test_cli_needs_a_sweep_and_one_arm(tmp_path, capsys):
    folder = batch(tmp_path / "two", arms=TWO_ARMS)
    code, _, err = run_cli(capsys, folder, "--outcome", "blocked > 0")
    assert code == 2 and "holds runs of 2 arms (consensus, qmv)" in err and "--arm" in err
    code, _, err = run_cli(capsys, folder, "--outcome", "blocked > 0", "--arm", "nope")
    assert code == 2 and "no arm 'nope' in this experiment; arms: consensus, qmv" in err
    flat = batch(tmp_path / "flat", sweep=False)
    code, _, err = run_cli(capsys, flat, "--outcome", "blocked > 0")
    assert code == 2 and "has no swept inputs" in err and err.count("\n") == 1
    code, _, err = run_cli(capsys, tmp_path, "--outcome", "blocked > 0")
    assert code == 2 and "is not a results folder" in err


@pytest.mark.parametrize(
    ("option", "value", "says"),
    [
        ("--density", "0", "expected a density above 0 and up to 1"),
        ("--mass-min", "0.5", "below 0.5"),
        ("--boxes", "0", "positive"),
    ],
)
def test_cli_settings_out_of_range_are_usage_errors(option, value, says, capsys):
    with pytest.raises(SystemExit) as exc:
        main(["discover", "somewhere", "--outcome", "x > 1", option, value])
    assert exc.value.code == 2 and says in capsys.readouterr().err


@pytest.mark.slow
def test_cli_end_to_end_tables_chart_and_report(sweep, capsys):
    outcome = "mean(consensus_rate) < 0.8"
    code, out, err = run_cli(capsys, sweep, "--outcome", outcome)
    assert code == 0, err
    assert out.startswith(f"outcome: {outcome}\n  holds in ")
    assert "inputs: rules.tolerance, parameters.agenda_size" in out
    assert re.search(r"PRIM box 1: coverage \d\.\d{3}, density \d\.\d{3}", out)
    folder = sweep / "discover"
    files = {p.name for p in folder.iterdir()}
    assert files == {
        "discover.json",
        "boxes.csv",
        "peeling.csv",
        "runs.csv",
        "discover_tradeoff.png",
        "discover_tradeoff.svg",
    }
    result = json.loads((folder / "discover.json").read_text())
    assert result["outcome"] == outcome and result["arm"] == "consensus" and result["n_runs"] == 24
    # the outcome is what the summaries say, run by run; seeds are written as text
    runs = pd.read_csv(folder / "runs.csv", dtype={"seed": str})
    from sim.experiments.store import load_results

    res = load_results(sweep)
    rates = res.model.groupby("run_id")["consensus_rate"].mean()
    assert (runs["outcome"] == (runs["run_id"].map(rates) < 0.8)).all()
    assert result["n_outcome"] == int(runs["outcome"].sum())
    points = res.manifest["experiment"]["points"]
    assert runs["rules.tolerance"].tolist() == [points[p]["rules.tolerance"] for p in runs["point"]]
    assert set(runs["seed"]) == {str(s) for s in res.summaries["seed"]}
    boxes = pd.read_csv(folder / "boxes.csv")
    assert {"method", "box", "coverage", "density", "input", "low", "high", "restricted"} <= set(
        boxes.columns
    )
    first = boxes[(boxes["method"] == "PRIM") & (boxes["box"] == 1)]
    assert first["coverage"].nunique() == 1 and first["coverage"].iloc[0] == result["boxes"][0]["coverage"]
    # the chart: PNG at 300 dpi, SVG with its text as text, the outcome written as given
    assert png_dpi(folder / "discover_tradeoff.png") == pytest.approx(300, abs=0.5)
    svg = (folder / "discover_tradeoff.svg").read_text()
    assert "<text" in svg and "coverage: share of the runs with the outcome" in svg
    assert "Outcome: mean(consensus_rate) &lt; 0.8" in svg
    # the report shows the discover section, with the chart
    assert main(["report", str(sweep)]) == 0
    page = (sweep / "report.html").read_text()
    assert '<section id="discover">' in page and "Scenario discovery" in page
    assert "mean(consensus_rate) &lt; 0.8" in page and 'id="chart-discover"' in page
    assert page.index('id="discover"') < page.index('id="provenance"')


def png_dpi(path):
    """The resolution in a PNG's pHYs chunk, in dots per inch."""
    data = path.read_bytes()
    at = data.index(b"pHYs")
    x, _, unit = struct.unpack(">IIB", data[at + 4 : at + 13])
    assert unit == 1 and zlib.crc32(data[at : at + 13]) == struct.unpack(">I", data[at + 13 : at + 17])[0]
    return x * 0.0254
