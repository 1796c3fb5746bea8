"""The Python API as the README shows it."""

from __future__ import annotations

import pandas as pd
import pytest

import sim

from .conftest import SCENARIOS


def test_readme_api_lines(tmp_path):
    scenario = sim.load_scenario(SCENARIOS / "history_1996.toml")
    result = sim.run(scenario, seed=7)
    assert isinstance(result.model, pd.DataFrame)
    assert isinstance(result.states, pd.DataFrame)
    assert isinstance(result.decisions, pd.DataFrame)
    summary = result.summary()
    assert summary["members_at_end"] == ["CHN", "IND", "KAZ", "KGZ", "PAK", "RUS", "TJK", "UZB"]
    assert 0 <= summary["consensus_rate"] <= 1
    assert (
        summary["adopted"]
        + summary["adopted_opt_out"]
        + summary["diluted"]
        + summary["blocked"]
        + summary["deferred"]
        == summary["items"]
    )
    files = sim.write_run(result, tmp_path / "out")
    assert {p.name for p in files} >= {"model.csv", "decisions.parquet", "outcomes.png", "summary.json"}


def test_run_result_write_still_works_with_a_deprecation_warning(tmp_path):
    result = sim.run(SCENARIOS / "sco8_2017.toml", seed=1, until=2019)
    with pytest.warns(DeprecationWarning, match="sim.write_run"):
        files = result.write(tmp_path / "old", chart=False)
    assert (tmp_path / "old" / "states.parquet") in files
    assert not (tmp_path / "old" / "outcomes.png").exists()


def test_run_accepts_a_path_and_until():
    result = sim.run(SCENARIOS / "sco8_2017.toml", seed=1, until=2020)
    assert result.model["year"].tolist() == [2017, 2018, 2019, 2020]


def test_summary_consensus_rate_matches_the_log():
    result = sim.run(SCENARIOS / "history_1996.toml", seed=2)
    log = result.decisions
    log = log[log["area"] != "enlargement"]
    agreed = (log["adopted"].notna() & (log["objectors"] == "")).mean()
    assert result.summary()["consensus_rate"] == agreed
