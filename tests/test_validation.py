"""Pattern checks P1-P5 (docs/validation.md), `sco-sim validate` and `sco-sim calibrate`."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sim.analysis import calibration, validation, verdicts
from sim.analysis.calibration import CalibrationError, load_calibration
from sim.cli import main
from sim.scenario import load_scenario

ROOT = Path(__file__).resolve().parents[1]
HISTORY = ROOT / "scenarios" / "history_1996.toml"
GEORGIA = "Endorse recognition of Abkhazia and South Ossetia"


def decision(
    year: int,
    area: str,
    outcome: str,
    title: str = "item",
    objectors: str = "",
    dissenters: str | None = None,
) -> dict:
    dissent = objectors if dissenters is None else dissenters
    return {"year": year, "area": area, "outcome": outcome, "title": title, "objectors": objectors,
            "dissenters": dissent}  # fmt: skip


def record_like_decisions() -> pd.DataFrame:
    """A decision log that follows the record: every pattern's decision part holds."""
    declarations = [
        decision(year, "external", "diluted", title="joint declaration") for year in range(1996, 2018)
    ]
    return pd.DataFrame(
        [
            *declarations,
            decision(1996, "border_security", "adopted"),
            decision(1999, "three_evils", "diluted"),
            decision(2001, "three_evils", "adopted"),
            decision(2003, "trade", "adopted"),
            decision(2007, "humanitarian", "adopted"),
            decision(2008, "external", "deferred", title=GEORGIA, objectors="CHN"),
            decision(2010, "finance", "diluted", dissenters="RUS;KAZ"),
            decision(2012, "finance", "blocked", objectors="RUS", dissenters="KAZ;RUS"),
            decision(2013, "afghanistan", "blocked", objectors="UZB"),
        ]
    )


def lean_after_shocks(year: int) -> float:
    """Kazakhstan's lean towards China net of the baseline: a step up in 2008 and in 2014 (P5(c))."""
    return 0.02 * (year >= 2008) + 0.02 * (year >= 2014)


def states_table(
    kaz_rus: list[float], kaz_chn: list[float], ind_member_from: int | None, lean=lean_after_shocks
) -> pd.DataFrame:
    rows = []
    for k, year in enumerate(range(1996, 2018)):
        rows.append({"year": year, "state": "KAZ", "status": "member", "alignment_RUS": kaz_rus[k],
                     "alignment_CHN": kaz_chn[k], "baseline_RUS": kaz_rus[k],
                     "baseline_CHN": kaz_chn[k] - lean(year)})  # fmt: skip
        for code in ("IND", "PAK"):
            joined = ind_member_from is not None and year >= ind_member_from
            status = "member" if joined else ("observer" if year >= 2005 else "outsider")
            rows.append({"year": year, "state": code, "status": status, "alignment_RUS": 0.5,
                         "alignment_CHN": 0.5})  # fmt: skip
    return pd.DataFrame(rows)


STEADY = [0.9] * 22, [0.4] * 22


def test_a_record_like_run_reproduces_every_pattern():
    scenario = load_scenario(HISTORY)
    states = states_table(*STEADY, ind_member_from=2017)
    facts = validation.judge(scenario, {"decisions": record_like_decisions(), "states": states},
                             {"states": states})  # fmt: skip
    assert [facts[p] for p in validation.PATTERNS] == [True] * 7
    assert facts["first_economy"] == 2003 and facts["first_humanitarian"] == 2007
    assert facts["security_adopted_share"] == pytest.approx(2 / 4)
    assert facts["finance_objectors"] == "RUS"


@pytest.mark.parametrize(
    ("change", "broken"),
    [
        (decision(2005, "trade", "adopted_opt_out"), None),  # a later economic adoption changes nothing
        (decision(2000, "humanitarian", "adopted"), "P1"),  # humanitarian before the economy
        (decision(2016, "finance", "adopted"), "P2"),  # the bank established
        (decision(2011, "external", "adopted", title=GEORGIA), "P4"),  # Georgia endorsed when retabled
        (decision(2013, "finance", "blocked", objectors="RUS;KAZ"), None),  # KAZ still only level with RUS
        (decision(2014, "finance", "diluted", dissenters="KAZ;UZB"), "P7"),  # KAZ now dissents most
    ],
)
def test_each_decision_pattern_fails_on_its_own_counter_example(change, broken):
    scenario = load_scenario(HISTORY)
    states = states_table(*STEADY, ind_member_from=2017)
    decisions = pd.concat([record_like_decisions(), pd.DataFrame([change])], ignore_index=True)
    facts = validation.judge(scenario, {"decisions": decisions, "states": states}, {"states": states})
    failing = [p for p in validation.PATTERNS if not facts[p]]
    assert failing == ([broken] if broken else [])


def test_p6_needs_a_text_at_every_summit():
    scenario = load_scenario(HISTORY)
    states = states_table(*STEADY, ind_member_from=2017)
    decisions = record_like_decisions()
    silent = decisions[~((decisions["year"] == 2011) & (decisions["title"] == "joint declaration"))]
    facts = validation.judge(scenario, {"decisions": silent, "states": states}, {"states": states})
    assert facts["P6"] is False and facts["years_without_text"] == 1
    blocked_only = silent.copy()
    blocked_only.loc[len(blocked_only)] = decision(2011, "trade", "blocked", objectors="RUS")
    assert (
        validation.judge(scenario, {"decisions": blocked_only, "states": states}, {"states": states})["P6"]
        is False
    )


def test_p1_needs_the_economy_inside_its_window():
    scenario = load_scenario(HISTORY)
    late = record_like_decisions().replace({"year": {2003: 2009, 2007: 2012}})
    states = states_table(*STEADY, ind_member_from=2017)
    facts = validation.judge(scenario, {"decisions": late, "states": states}, {"states": states})
    assert facts["P1"] is False and facts["first_economy"] == 2009


def test_a_diluted_economic_text_is_reported_but_does_not_pass_p1():
    scenario = load_scenario(HISTORY)
    # The first economic text is diluted (2001); the first substantive one comes in 2009.
    decisions = record_like_decisions().replace({"year": {2003: 2009, 2007: 2012}})
    decisions = pd.concat([decisions, pd.DataFrame([decision(2001, "trade", "diluted")])], ignore_index=True)
    states = states_table(*STEADY, ind_member_from=2017)
    facts = validation.judge(scenario, {"decisions": decisions, "states": states}, {"states": states})
    assert facts["P1"] is False and facts["first_economy"] == 2009 and facts["first_economy_text"] == 2001
    runs = pd.DataFrame([{**facts, "seed": 0}, {**facts, "seed": 1, "first_economy_text": 2010}])
    result = validation.Validation(scenario=str(HISTORY), seeds=[0, 1], runs=runs)
    line = [row for row in validation.format_table(result).splitlines() if "any form" in row]
    assert line == [
        "reported, not judged: an economic text in any form (diluted included) first adopted in "
        "2000-2004 in 50% of seeds; substantively (P1) in 0%"
    ]


def test_economy_texts_script_breaks_down_the_window(monkeypatch, capsys):
    import runpy

    monkeypatch.setattr("sys.argv", ["economy_texts.py", str(HISTORY), "--seeds", "2"])
    runpy.run_path(str(ROOT / "scripts" / "economy_texts.py"), run_name="__main__")
    out = capsys.readouterr().out
    count = int(out.splitlines()[0].rsplit(":", 1)[1])
    assert count > 0 and "share tabled by each initiator" in out and "diluted texts:" in out


def test_p3_needs_members_to_admit_india_and_pakistan_in_2017_only():
    scenario = load_scenario(HISTORY)
    history = {"decisions": record_like_decisions(), "states": states_table(*STEADY, ind_member_from=2017)}
    for joined, expected in ((2017, True), (2016, False), (None, False)):
        endogenous = {"states": states_table(*STEADY, ind_member_from=joined)}
        assert validation.judge(scenario, history, endogenous)["P3"] is expected
    assert validation.judge(scenario, history, None)["P3"] is None  # not judged without the variant


def with_state(states: pd.DataFrame, code: str, member_from: int | None) -> pd.DataFrame:
    """``states`` plus one more state, a member from ``member_from`` (never if None)."""
    rows = [
        {"year": year, "state": code, "alignment_RUS": 0.5, "alignment_CHN": 0.5,
         "status": "member" if member_from is not None and year >= member_from else "outsider"}
        for year in range(1996, 2018)
    ]  # fmt: skip
    return pd.concat([states, pd.DataFrame(rows)], ignore_index=True)


def test_p3_counts_a_founding_member_of_2001_as_the_record_not_as_an_accession():
    scenario = load_scenario(HISTORY)
    recorded = with_state(states_table(*STEADY, ind_member_from=2017), "UZB", 2001)
    history = {"decisions": record_like_decisions(), "states": recorded}
    endogenous = with_state(states_table(*STEADY, ind_member_from=2017), "UZB", 2001)
    assert validation.judge(scenario, history, {"states": endogenous})["P3"] is True
    # A state that the record never admitted, admitted by the members, fails P3.
    also_iran = with_state(endogenous, "IRN", 2012)
    assert validation.judge(scenario, history, {"states": also_iran})["P3"] is False


def test_p5_fails_when_kazakhstan_drifts_to_one_pole():
    scenario = load_scenario(HISTORY)
    drifting = [0.4 - 0.01 * k for k in range(22)]  # China alignment falls to 0.19
    states = states_table([0.9] * 22, drifting, ind_member_from=2017)
    facts = validation.judge(scenario, {"decisions": record_like_decisions(), "states": states},
                             {"states": states})  # fmt: skip
    assert facts["P5"] is False
    assert facts["kaz_min_alignment"] == pytest.approx(0.19)


def test_p5_needs_the_shocks_to_turn_kazakhstan_towards_china():
    scenario = load_scenario(HISTORY)
    for lean, expected in (
        (lean_after_shocks, True),
        (lambda year: 0.0, False),  # no balancing: alignment is what the data give
        (lambda year: -lean_after_shocks(year), False),  # the wrong sign: towards Russia
        (lambda year: 0.02 * (year >= 2008), False),  # 2014 changes nothing
    ):
        states = states_table(*STEADY, ind_member_from=2017, lean=lean)
        facts = validation.judge(scenario, {"decisions": record_like_decisions(), "states": states}, None)
        assert facts["P5"] is expected, lean


def test_p7_needs_china_to_dissent_in_2008():
    scenario = load_scenario(HISTORY)
    decisions = record_like_decisions()
    georgia = decisions["title"] == GEORGIA
    decisions.loc[georgia, ["objectors", "dissenters"]] = ["UZB", "UZB"]
    states = states_table(*STEADY, ind_member_from=2017)
    facts = validation.judge(scenario, {"decisions": decisions, "states": states}, None)
    assert facts["P7"] is False and facts["P4"] is True


@pytest.mark.slow
def test_p5_fails_in_the_model_with_balancing_switched_off():
    seeds = [1, 2, 3]
    on = validation.judge_seeds(str(HISTORY), {}, seeds)
    off = validation.judge_seeds(str(HISTORY), {"mechanisms": {"balancing": False}}, seeds)
    assert all(row["kaz_lean_turn_2008"] > 0 and row["kaz_lean_turn_2014"] > 0 for row in on)
    assert all(row["P5"] is False for row in off)
    assert all(row["kaz_lean_turn_2008"] == 0 and row["kaz_lean_turn_2014"] == 0 for row in off)


def test_pattern_table_passes_at_half_the_seeds():
    runs = pd.DataFrame({"P1": [True, False], "P2": [True, True], "P3": [False, False],
                         "P4": [None, True], "P5": [False, False], "P6": [True, True],
                         "P7": [False, True]})  # fmt: skip
    table = validation.pattern_table(runs).set_index("pattern")
    assert table["share"].tolist() == [0.5, 1.0, 0.0, 1.0, 0.0, 1.0, 0.5]
    assert table["passes"].tolist() == [True, True, False, True, False, True, True]
    assert table.loc["P4", "seeds"] == 1  # a pattern not judged in a seed is not counted


@pytest.mark.parametrize("successes,n", [(48, 100), (0, 100), (100, 100), (1, 2), (57, 100), (3, 7)])
def test_pattern_intervals_are_wilson_score_intervals(successes, n):
    from scipy.stats import binomtest

    low, high = verdicts.wilson_interval(successes, n)
    expected = binomtest(successes, n).proportion_ci(confidence_level=0.95, method="wilson")
    assert low == pytest.approx(expected.low, abs=1e-12) and high == pytest.approx(expected.high, abs=1e-12)
    assert low <= successes / n <= high


def test_pattern_table_reports_the_interval_beside_the_share():
    runs = pd.DataFrame({p: [True] * 48 + [False] * 52 for p in validation.PATTERNS})
    row = validation.pattern_table(runs).set_index("pattern").loc["P1"]
    assert row["share"] == 0.48 and not row["passes"]  # the pass rule is on the share alone
    assert round(row["low"], 2) == 0.38 and round(row["high"], 2) == 0.58
    empty = validation.pattern_table(pd.DataFrame({"P1": [None, None]})).set_index("pattern").loc["P1"]
    assert empty["seeds"] == 0 and np.isnan(empty["low"]) and np.isnan(empty["high"])


def test_validate_command_prints_the_pattern_table(tmp_path, capsys):
    out = tmp_path / "v"
    assert main(["validate", str(HISTORY), "--seeds", "2", "--workers", "1", "--out", str(out),
                 "--no-progress"]) == 0  # fmt: skip
    text = capsys.readouterr().out
    lines = text.splitlines()
    rows = [line for line in lines if line.split()[:1] and line.split()[0] in validation.PATTERNS]
    assert len(rows) == 7
    for row in rows:
        share, result, band = row.split()[1:4]
        low, high = (float(x) for x in band.split("-"))
        assert 0.0 <= low <= float(share) <= high <= 1.0 and result in ("pass", "FAIL")
    assert any("of 5 patterns (P1-P5) pass" in line and "P6" in line and "P7" in line for line in lines)
    seeds = pd.read_csv(out / "validation_seeds.csv")
    assert len(seeds) == 2 and set(validation.PATTERNS) <= set(seeds.columns)
    assert (out / "validation_dates.png").stat().st_size > 0


@pytest.mark.slow
def test_validation_is_the_same_on_one_or_two_workers():
    one = validation.validate(HISTORY, seeds=2, workers=1).runs
    two = validation.validate(HISTORY, seeds=2, workers=2).runs
    pd.testing.assert_frame_equal(one, two)


def test_date_chart_data_counts_never_and_keeps_record_dates():
    runs = pd.DataFrame(
        {"first_border_security": [1996, 1997], "first_three_evils": [1999, validation.NEVER]}
    )
    data = validation.date_chart_data(runs).set_index("milestone")
    assert data.loc["border_security", "simulated"] == [1996, 1997]
    assert data.loc["three_evils", "never_share"] == 0.5
    assert data.loc["border_security", "real"] == 1996


# --- calibration -----------------------------------------------------------------------------


def calibration_file(tmp_path: Path, body: str, scenario: Path = HISTORY) -> Path:
    path = tmp_path / "cal.toml"
    path.write_text(f'scenario = "{scenario}"\n{body}')
    return path


TINY = "samples = 3\nseeds = 1\nrefine_top = 1\nrefine_seeds = 1\nbase_seed = 5\n"
RANGES = "[ranges]\ntolerance = [0.03, 0.12]\nagenda_size = [2, 5]\n"


def test_shipped_calibration_file_loads():
    cal = load_calibration(ROOT / "experiments" / "calibrate_history.toml")
    assert cal.scenario == HISTORY
    assert cal.sections["tolerance"] == "rules" and cal.sections["agenda_size"] == "parameters"
    assert "agenda_size" in cal.integers


@pytest.mark.parametrize(
    ("body", "key", "words"),
    [
        ("[ranges]\ntolerence = [0.1, 0.2]\n", "ranges.tolerence", "not a [parameters] or [rules] key"),
        ("[ranges]\ntolerance = [0.2, 0.1]\n", "ranges.tolerance", "is empty"),
        ("[ranges]\ndecision_rule = [0, 1]\n", "ranges.decision_rule", "only numeric"),
        ("samples = 1\n[ranges]\ntolerance = [0.1, 0.2]\n", "samples", ">= 2"),
        ("[ranges]\n", "ranges", "at least one"),
        ("[ranges]\ntrust_gain = [0.5, 1.5]\n", "ranges", "valid scenario"),
    ],
)
def test_bad_calibration_files_get_one_line(tmp_path, body, key, words):
    path = calibration_file(tmp_path, body)
    with pytest.raises(CalibrationError) as info:
        load_calibration(path)
    line = info.value.one_line()
    assert str(path) in line and key in line and words in line and "\n" not in line


@pytest.mark.slow
def test_calibration_runs_end_to_end_and_is_deterministic(tmp_path):
    cal = load_calibration(calibration_file(tmp_path, TINY + RANGES))
    points = calibration.sample_points(cal)
    assert all(2 <= p["agenda_size"] <= 5 and isinstance(p["agenda_size"], int) for p in points)
    assert all(0.03 <= p["tolerance"] <= 0.12 for p in points)
    first = calibration.calibrate(cal, tmp_path / "a", workers=1)
    second = calibration.calibrate(cal, tmp_path / "b", workers=1)
    pd.testing.assert_frame_equal(first.search, second.search)
    assert first.chosen == second.chosen and first.chosen in points
    assert (tmp_path / "a" / "search.csv").read_bytes() == (tmp_path / "b" / "search.csv").read_bytes()
    assert len(first.search) == 3 and first.search["distance"].between(0, 1).all()
    text = calibration.format_result(first)
    assert "tolerance" in text and "patterns pass" in text


def test_calibration_resume_keeps_judged_points(tmp_path, monkeypatch):
    cal = load_calibration(calibration_file(tmp_path, TINY + RANGES))
    calibration.calibrate(cal, tmp_path / "r", workers=1)
    journal = (tmp_path / "r" / "journal.jsonl").read_text()
    calls = []
    monkeypatch.setattr(calibration, "judge_tasks", lambda tasks, *a, **kw: calls.append(tasks) or [])
    again = calibration.calibrate(cal, tmp_path / "r", workers=1, resume=True)
    assert all(not tasks for tasks in calls)  # nothing judged twice
    assert (tmp_path / "r" / "journal.jsonl").read_text() == journal
    assert len(again.search) == 3


def test_apply_writes_values_and_keeps_comments(tmp_path):
    scenario = tmp_path / "history.toml"
    shutil.copy(HISTORY, scenario)
    cal = load_calibration(calibration_file(tmp_path, TINY + RANGES, scenario=scenario))
    calibration.apply_to_scenario(cal, {"tolerance": 0.0875, "agenda_size": 3}, "Calibrated (test).")
    text = scenario.read_text()
    loaded = load_scenario(scenario)
    assert loaded.rules.tolerance == 0.0875 and loaded.parameters.agenda_size == 3
    assert "# Calibrated (test).\n[parameters]" in text and "# Calibrated (test).\n[rules]" in text
    rule_line = next(line for line in HISTORY.read_text().splitlines() if line.startswith("decision_rule"))
    assert "# SCO Charter (2002) art. 16" in rule_line and rule_line in text  # kept with its comment
    calibration.apply_to_scenario(cal, {"tolerance": 0.05, "agenda_size": 4}, "Calibrated (test).")
    assert scenario.read_text().count("# Calibrated (test).") == 2  # the note is not repeated


def test_apply_keeps_every_comment_and_the_comment_of_a_changed_key(tmp_path):
    scenario = tmp_path / "history.toml"
    shutil.copy(HISTORY, scenario)
    before = [line for line in HISTORY.read_text().splitlines() if line.lstrip().startswith("#")]
    cal = load_calibration(calibration_file(tmp_path, TINY + RANGES, scenario=scenario))
    calibration.apply_to_scenario(cal, {"tolerance": 0.0875, "agenda_size": 3}, "Calibrated (test).")
    text = scenario.read_text()
    assert all(line in text for line in before)
    tolerance = next(line for line in HISTORY.read_text().splitlines() if line.startswith("tolerance"))
    if "#" in tolerance:  # a changed value keeps its own comment
        comment = tolerance[tolerance.index("#") :]
        assert next(line for line in text.splitlines() if line.startswith("tolerance")).endswith(comment)


def test_apply_to_a_scenario_without_rules_adds_the_table(tmp_path):
    scenario = tmp_path / "tiny.toml"
    source = (ROOT / "tests" / "data" / "tiny.toml").read_text()
    assert "[rules]" not in source
    scenario.write_text(source)
    cal = load_calibration(calibration_file(tmp_path, TINY + RANGES, scenario=scenario))
    calibration.apply_to_scenario(cal, {"tolerance": 0.0875, "agenda_size": 3}, "Calibrated (test).")
    text = scenario.read_text()
    loaded = load_scenario(scenario)
    assert loaded.rules.tolerance == 0.0875 and loaded.parameters.agenda_size == 3
    assert "# Calibrated (test).\n[rules]" in text
    assert text.startswith("# A three-state scenario for fast tests")  # comments kept


def test_validation_gives_the_same_numbers_on_every_executor():
    from sim.experiments.executors import ExecutorChoice

    sequential = validation.validate(HISTORY, seeds=3, workers=1)
    pooled = validation.validate(HISTORY, seeds=3, executor=ExecutorChoice("process", workers=2))
    pd.testing.assert_frame_equal(sequential.runs, pooled.runs)
    pytest.importorskip("distributed")
    dask = validation.validate(HISTORY, seeds=3, executor=ExecutorChoice("dask", dask_local=2))
    pd.testing.assert_frame_equal(sequential.runs, dask.runs)
