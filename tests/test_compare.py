"""Comparison statistics: paired differences, bootstrap intervals, d_z and verdicts on known numbers."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose

from sim.analysis import compare


@dataclass(frozen=True)
class Claim:
    id: str
    hypothesis: str
    metric: str
    arm_a: str
    op: str
    arm_b: str
    label: str = ""


def summaries_from(
    values: dict[str, list[float]], metric: str = "consensus_rate", points: int = 1
) -> pd.DataFrame:
    """One row per run; the k-th value of every arm is replication k // points at point k % points."""
    rows = []
    for arm, series in values.items():
        for k, value in enumerate(series):
            point, replication = k % points, k // points
            rows.append(
                {
                    "run_index": len(rows),
                    "run_id": f"{arm}-{point}-{replication}",
                    "arm": arm,
                    "point": point,
                    "replication": replication,
                    "seed": 1000 + k,
                    "status": "ok",
                    "error": "",
                    metric: value,
                }
            )
    return pd.DataFrame(rows)


def shifted(n: int = 200, shift: float = 0.1, noise: float = 0.02, seed: int = 3) -> pd.DataFrame:
    """Arm b = arm a + shift + small noise, on n paired runs."""
    rng = np.random.default_rng(seed)
    a = rng.uniform(0.3, 0.7, n)
    b = a + shift + rng.normal(0.0, noise, n)
    return summaries_from({"a": a.tolist(), "b": b.tolist()})


# --- paired_differences -----------------------------------------------------------------------


def test_pairs_by_point_and_replication_not_by_row_order():
    table = summaries_from({"x": [1.0, 2.0, 3.0, 4.0], "y": [0.5, 1.0, 1.5, 2.5]}, points=2)
    expected = compare.paired_differences(table, "consensus_rate", "x", "y")
    shuffled = table.sample(frac=1.0, random_state=11).reset_index(drop=True)
    assert shuffled["arm"].tolist() != table["arm"].tolist()
    pairs = compare.paired_differences(shuffled, "consensus_rate", "x", "y")
    pd.testing.assert_frame_equal(pairs, expected)
    assert pairs.columns.tolist() == ["point", "replication", "a", "b", "diff"]
    # (point, replication): (0, 0) -> 1 vs 0.5, (1, 0) -> 2 vs 1, (0, 1) -> 3 vs 1.5, (1, 1) -> 4 vs 2.5
    assert pairs[["point", "replication"]].values.tolist() == [[0, 0], [0, 1], [1, 0], [1, 1]]
    assert_allclose(pairs["diff"], [0.5, 1.5, 1.0, 1.5])


def test_failed_and_missing_runs_drop_their_pair():
    table = summaries_from({"x": [1.0, 2.0, 3.0, 4.0], "y": [0.0, 0.0, 0.0, 0.0]})
    failed = (table["arm"] == "x") & (table["replication"] == 1)
    table.loc[failed, ["status", "error", "consensus_rate"]] = ["failed", "boom", np.nan]
    table.loc[(table["arm"] == "y") & (table["replication"] == 3), "consensus_rate"] = np.nan
    pairs = compare.paired_differences(table, "consensus_rate", "x", "y")
    assert pairs["replication"].tolist() == [0, 2]
    # a run marked failed is excluded even if it still carries a number
    table.loc[failed, "consensus_rate"] = 99.0
    assert compare.paired_differences(table, "consensus_rate", "x", "y")["replication"].tolist() == [0, 2]


def test_paired_differences_rejects_unknown_arm_metric_and_duplicate_runs():
    table = summaries_from({"x": [1.0, 2.0], "y": [0.0, 0.0]})
    with pytest.raises(ValueError, match="unknown arm"):
        compare.paired_differences(table, "consensus_rate", "x", "z")
    with pytest.raises(ValueError, match="mean_rounds"):
        compare.paired_differences(table, "mean_rounds", "x", "y")
    with pytest.raises(ValueError, match="more than one run"):
        compare.paired_differences(pd.concat([table, table.iloc[[0]]]), "consensus_rate", "x", "y")


# --- bootstrap_ci -----------------------------------------------------------------------------


def test_bootstrap_is_deterministic_for_a_seed_and_varies_with_it():
    values = np.random.default_rng(5).normal(size=50)
    first = compare.bootstrap_ci(values, seed=7)
    assert compare.bootstrap_ci(values, seed=7) == first
    assert compare.bootstrap_ci(values, seed=8) != first
    low, high = first
    assert low < values.mean() < high


def test_bootstrap_interval_matches_the_normal_approximation():
    values = np.random.default_rng(2).normal(10.0, 2.0, size=400)
    low, high = compare.bootstrap_ci(values, level=0.9, n_boot=4000, seed=1)
    half = 1.6449 * values.std(ddof=1) / np.sqrt(values.size)
    assert_allclose([low, high], [values.mean() - half, values.mean() + half], atol=0.03)


def test_bootstrap_small_and_degenerate_samples():
    assert all(np.isnan(compare.bootstrap_ci([])))
    assert all(np.isnan(compare.bootstrap_ci([1.0])))
    assert all(np.isnan(compare.bootstrap_ci([1.0, np.nan])))
    assert compare.bootstrap_ci([2.0, 2.0, 2.0]) == (2.0, 2.0)
    low, high = compare.bootstrap_ci([0.0, 1.0], n_boot=500)
    assert 0.0 <= low <= high <= 1.0


@pytest.mark.parametrize("kwargs", [{"level": 1.0}, {"level": 0.0}, {"n_boot": 0}])
def test_bootstrap_rejects_bad_settings(kwargs):
    with pytest.raises(ValueError):
        compare.bootstrap_ci([1.0, 2.0, 3.0], **kwargs)


# --- evaluate_claim ---------------------------------------------------------------------------


def test_known_difference_is_supported_on_the_claimed_side():
    table = shifted()
    result = compare.evaluate_claim(table, Claim("c1", "H1", "consensus_rate", "a", "<", "b", "b is higher"))
    assert result["verdict"] == "supported"
    assert result["n_pairs"] == 200
    assert result["statement"] == "consensus_rate[a] < consensus_rate[b]"
    assert result["ci_low"] < -0.1 < result["ci_high"] < 0
    assert_allclose(result["mean_diff"], -0.1, atol=0.005)
    assert_allclose(result["mean_diff"], result["mean_a"] - result["mean_b"])
    assert result["effect_size"] < -3  # shift 0.1 against noise sd 0.02: d_z near -5
    assert (result["id"], result["hypothesis"], result["label"]) == ("c1", "H1", "b is higher")


def test_known_difference_contradicts_the_opposite_claim():
    table = shifted()
    claim = {
        "id": "c2",
        "hypothesis": "H1",
        "metric": "consensus_rate",
        "arm_a": "a",
        "op": ">",
        "arm_b": "b",
    }
    result = compare.evaluate_claim(table, claim)
    assert result["verdict"] == "contradicted"
    assert result["ci_low"] < -0.1 < result["ci_high"]
    assert result["label"] == ""
    # swapping the arms flips the sign and the verdict
    swapped = compare.evaluate_claim(table, {**claim, "arm_a": "b", "arm_b": "a"})
    assert swapped["verdict"] == "supported"
    assert_allclose(swapped["mean_diff"], -result["mean_diff"])
    assert_allclose(
        [swapped["ci_low"], swapped["ci_high"]], [-result["ci_high"], -result["ci_low"]], atol=1e-12
    )


def test_null_difference_is_inconclusive():
    table = shifted(shift=0.0, noise=0.05)
    for op in ("<", ">"):
        result = compare.evaluate_claim(table, Claim("c", "H0", "consensus_rate", "a", op, "b"))
        assert result["verdict"] == "inconclusive"
        assert result["ci_low"] < 0 < result["ci_high"]


def test_effect_size_is_d_z_on_a_hand_computed_example():
    # diffs a - b = 1, 2, 3, 6: mean 3, sd sqrt(((-2)^2 + 1 + 0 + 9) / 3) = sqrt(14 / 3)
    table = summaries_from({"a": [1.0, 2.0, 3.0, 6.0], "b": [0.0, 0.0, 0.0, 0.0]})
    result = compare.evaluate_claim(table, Claim("c", "H", "consensus_rate", "a", ">", "b"))
    assert_allclose(result["mean_diff"], 3.0)
    assert_allclose(result["effect_size"], 3.0 / np.sqrt(14 / 3))
    assert_allclose([result["mean_a"], result["mean_b"]], [3.0, 0.0])


def test_equal_differences_give_no_d_z_and_say_why():
    table = summaries_from({"a": [1.0, 2.0, 3.0], "b": [0.5, 1.5, 2.5]})
    result = compare.evaluate_claim(table, Claim("c", "H", "consensus_rate", "a", ">", "b"))
    assert np.isnan(result["effect_size"])
    assert "d_z is undefined" in result["note"]
    assert (result["ci_low"], result["ci_high"]) == (0.5, 0.5)
    assert result["verdict"] == "supported"


def test_failed_runs_are_excluded_and_counted():
    table = shifted(n=40)
    failed = table.index[(table["replication"] < 3) & (table["arm"] == "b")]
    table.loc[failed, ["status", "error", "consensus_rate"]] = ["failed", "ValueError: boom", np.nan]
    result = compare.evaluate_claim(table, Claim("c", "H", "consensus_rate", "a", "<", "b"))
    assert result["n_pairs"] == 37
    assert result["n_failed"] == 3
    assert "3 failed run(s) excluded" in result["note"]
    assert result["verdict"] == "supported"


def test_fewer_than_two_pairs_is_insufficient_data():
    table = summaries_from({"a": [1.0, 2.0], "b": [0.0, np.nan]})
    result = compare.evaluate_claim(table, Claim("c", "H", "consensus_rate", "a", ">", "b"))
    assert result["verdict"] == "insufficient data"
    assert result["n_pairs"] == 1
    assert np.isnan(result["ci_low"]) and np.isnan(result["effect_size"])
    assert_allclose(result["mean_diff"], 1.0)


def test_claim_with_a_bad_op_or_missing_field_is_rejected():
    table = summaries_from({"a": [1.0, 2.0], "b": [0.0, 0.0]})
    with pytest.raises(ValueError, match="op must be one of"):
        compare.evaluate_claim(table, Claim("c", "H", "consensus_rate", "a", "!=", "b"))
    with pytest.raises(ValueError, match="'metric'"):
        compare.evaluate_claim(table, {"id": "c", "arm_a": "a", "op": "<", "arm_b": "b"})


def test_evaluate_claims_gives_one_row_per_claim_in_order():
    table = shifted(n=60)
    claims = [
        Claim("c1", "H1", "consensus_rate", "a", "<", "b"),
        Claim("c2", "H2", "consensus_rate", "a", ">", "b"),
    ]
    frame = compare.evaluate_claims(table, claims, n_boot=500, seed=4)
    assert frame["id"].tolist() == ["c1", "c2"]
    assert frame["verdict"].tolist() == ["supported", "contradicted"]
    assert frame.columns.tolist() == list(compare.CLAIM_COLUMNS)
    # a claim's result does not depend on the claims evaluated with it
    alone = compare.evaluate_claim(table, claims[1], n_boot=500, seed=4)
    assert frame.iloc[1]["ci_low"] == alone["ci_low"]
    empty = compare.evaluate_claims(table, [])
    assert empty.empty and empty.columns.tolist() == list(compare.CLAIM_COLUMNS)


# --- metric_table -----------------------------------------------------------------------------


def test_metric_table_on_known_numbers():
    table = summaries_from({"a": [1.0, 2.0, 3.0, 4.0, 100.0], "b": [5.0, 5.0, 5.0, 5.0, 5.0]})
    table.loc[4, ["status", "consensus_rate"]] = ["failed", np.nan]  # a's fifth run
    table["mean_rounds"] = [2.0, np.nan, 4.0, 6.0, np.nan, 1.0, 1.0, 1.0, 1.0, 1.0]
    frame = compare.metric_table(table, ["consensus_rate", "mean_rounds"], ["b", "a"], n_boot=500)
    assert frame.columns.tolist() == list(compare.METRIC_COLUMNS)
    assert frame[["metric", "arm"]].values.tolist() == [
        ["consensus_rate", "b"], ["consensus_rate", "a"], ["mean_rounds", "b"], ["mean_rounds", "a"],
    ]  # fmt: skip
    row = frame.iloc[1]
    assert (row["n"], row["n_failed"], row["n_missing"]) == (4, 1, 0)
    assert_allclose([row["mean"], row["median"], row["sd"]], [2.5, 2.5, np.std([1, 2, 3, 4], ddof=1)])
    assert 1.0 <= row["ci_low"] < 2.5 < row["ci_high"] <= 4.0
    row = frame.iloc[0]
    assert (row["mean"], row["ci_low"], row["ci_high"], row["sd"]) == (5.0, 5.0, 5.0, 0.0)
    row = frame.iloc[3]  # mean_rounds in a: one failed run, one finished run without a value
    assert (row["n"], row["n_failed"], row["n_missing"]) == (3, 1, 1)
    assert_allclose(row["mean"], 4.0)


def test_metric_table_with_one_run_has_no_spread():
    table = summaries_from({"a": [1.0]})
    row = compare.metric_table(table, ["consensus_rate"], ["a"]).iloc[0]
    assert row["n"] == 1 and row["mean"] == 1.0
    assert np.isnan(row["sd"]) and np.isnan(row["ci_low"])
