"""Comparison statistics: paired differences, intervals, Holm's adjustment, d_z and verdicts on known numbers."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose
from scipy import stats

from sim import commands
from sim.analysis import compare, verdicts


@dataclass(frozen=True)
class Claim:
    id: str
    hypothesis: str
    metric: str
    arm_a: str
    op: str
    arm_b: str
    label: str = ""
    band: float = 0.02
    band_reason: str = "one item in fifty"


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


def test_bootstrap_default_seed_is_the_one_compare_uses():
    values = np.random.default_rng(9).normal(size=40)
    assert compare.BOOTSTRAP_SEED == commands.BOOTSTRAP_SEED and compare.N_BOOT == commands.N_BOOT
    assert compare.bootstrap_ci(values) == compare.bootstrap_ci(values, n_boot=commands.N_BOOT,
                                                               seed=commands.BOOTSTRAP_SEED)  # fmt: skip
    table = summaries_from({"a": values.tolist()})
    row = compare.metric_table(table, ["consensus_rate"], ["a"]).iloc[0]
    assert (row["ci_low"], row["ci_high"]) == compare.bootstrap_ci(values)


@pytest.mark.parametrize("kwargs", [{"level": 1.0}, {"level": 0.0}, {"n_boot": 0}])
def test_bootstrap_rejects_bad_settings(kwargs):
    with pytest.raises(ValueError):
        compare.bootstrap_ci([1.0, 2.0, 3.0], **kwargs)


# --- evaluate_claim ---------------------------------------------------------------------------


def exact(mean: float, sd: float, n: int = 50) -> list[float]:
    """n differences with exactly this mean and standard deviation (ddof=1): mean -/+ a fixed step."""
    z = np.tile([1.0, -1.0], n // 2)
    return (mean + sd * z / np.sqrt(n / (n - 1))).tolist()


def claims_on(diffs: dict[str, list[float]], band: float = 0.02) -> tuple[pd.DataFrame, list[Claim]]:
    """One metric per claim: arm a holds the differences, arm b zeros; each claim says a > b."""
    n = len(next(iter(diffs.values())))
    table = summaries_from({"a": [0.0] * n, "b": [0.0] * n})
    claims = []
    for name, values in diffs.items():
        table[name] = 0.0
        table.loc[table["arm"] == "a", name] = values
        claims.append(Claim(name, "H", name, "a", ">", "b", band=band))
    return table, claims


def hand_t(mean: float, sd: float, n: int, level: float) -> tuple[float, float, float]:
    """p of the two-sided t test and the t interval at ``level``, from the formulas."""
    se = sd / np.sqrt(n)
    p = 2 * stats.t.sf(abs(mean) / se, n - 1)
    half = stats.t.ppf(1 - (1 - level) / 2, n - 1) * se
    return p, mean - half, mean + half


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
    assert (result["band"], result["band_reason"]) == (0.02, "one item in fifty")
    assert result["ci_level"] == 0.95 and result["p_holm"] == result["p_value"]  # one claim: no adjustment
    assert set(result) == set(compare.CLAIM_COLUMNS)


def test_known_difference_contradicts_the_opposite_claim():
    table = shifted()
    claim = {
        "id": "c2",
        "hypothesis": "H1",
        "metric": "consensus_rate",
        "arm_a": "a",
        "op": ">",
        "arm_b": "b",
        "band": 0.02,
    }
    result = compare.evaluate_claim(table, claim)
    assert result["verdict"] == "contradicted"
    assert result["ci_low"] < -0.1 < result["ci_high"]
    assert result["label"] == "" and result["band_reason"] == ""
    # swapping the arms flips the sign and the verdict
    swapped = compare.evaluate_claim(table, {**claim, "arm_a": "b", "arm_b": "a"})
    assert swapped["verdict"] == "supported"
    assert_allclose(swapped["mean_diff"], -result["mean_diff"])
    assert_allclose([swapped["ci_low"], swapped["ci_high"]], [-result["ci_high"], -result["ci_low"]])


# Known paired differences (50 pairs, exact mean and sd) for each verdict, with a band of 0.02 and
# the claim "a > b". The interval is mean -/+ t(0.975, 49) * sd / sqrt(50) = mean -/+ 0.2842 sd.
VERDICT_CASES = {
    # name: (mean, sd, verdict) -- the interval in the comment
    "supported": (0.05, 0.02, "supported"),  # [+0.0443, +0.0557]: excludes 0, mean beyond the band
    "supported_into_band": (0.03, 0.04, "supported"),  # [+0.0186, +0.0414]: mean beyond, low end inside
    "contradicted": (-0.05, 0.02, "contradicted"),  # [-0.0557, -0.0443]
    "equivalent_null": (0.0, 0.02, "equivalent"),  # [-0.0057, +0.0057]: inside the band
    "equivalent_not_negligible": (0.005, 0.01, "equivalent"),  # [+0.0022, +0.0078]: excludes 0, inside
    "inconclusive_wide": (0.0, 0.2, "inconclusive"),  # [-0.057, +0.057]: contains 0, reaches out
    "inconclusive_small_effect": (0.015, 0.03, "inconclusive"),  # [+0.0065, +0.0235]: mean inside band
    "inconclusive_big_but_wide": (0.05, 0.2, "inconclusive"),  # [-0.007, +0.107]: contains 0
}


@pytest.mark.parametrize("case", sorted(VERDICT_CASES))
def test_known_paired_differences_give_each_verdict(case):
    mean, sd, expected = VERDICT_CASES[case]
    table, claims = claims_on({"m": exact(mean, sd)})
    result = compare.evaluate_claim(table, claims[0])
    p, low, high = hand_t(mean, sd, 50, 0.95)
    assert_allclose([result["mean_diff"], result["sd_diff"]], [mean, sd], atol=1e-12)
    assert_allclose(
        [result["p_value"], result["ci_low"], result["ci_high"]], [p, low, high], rtol=1e-9, atol=1e-12
    )
    assert result["verdict"] == expected
    if case == "supported_into_band":
        assert "reaches into the band" in result["note"]
    if case == "inconclusive_small_effect":
        assert "excludes 0, but the mean difference lies inside the band" in result["note"]


def test_the_verdict_rule_on_intervals():
    # claim "<": the claimed side is below 0; band 0.1
    assert verdicts.verdict("<", 0.1, -0.5, -0.6, -0.4) == "supported"
    assert verdicts.verdict("<", 0.1, -0.15, -0.3, -0.001) == "supported"
    assert verdicts.verdict("<", 0.1, -0.05, -0.3, -0.001) == "inconclusive"  # mean inside the band
    assert verdicts.verdict("<", 0.1, 0.5, 0.4, 0.6) == "contradicted"
    assert verdicts.verdict("<", 0.1, 0.05, -0.1, 0.1) == "equivalent"  # the band's ends count as inside
    assert verdicts.verdict("<", 0.1, -0.1, -0.2, -0.05) == "inconclusive"  # mean on the band's edge
    assert verdicts.verdict(">", 0.1, 0.5, 0.4, 0.6) == "supported"
    assert verdicts.verdict(">", 0.1, -0.5, -0.6, -0.4) == "contradicted"
    assert verdicts.verdict(">", 0.1, 0.0, -0.5, 0.5) == "inconclusive"
    with pytest.raises(ValueError, match="op must be one of"):
        verdicts.verdict("!=", 0.1, 0.0, -0.5, 0.5)


@pytest.mark.parametrize("difference", [0.0, 0.5, -0.5, 0.01])
def test_equal_differences_are_no_variation_and_say_why(difference):
    table = summaries_from(
        {"a": [1.0, 2.0, 3.0], "b": [1.0 - difference, 2.0 - difference, 3.0 - difference]}
    )
    result = compare.evaluate_claim(table, Claim("c", "H", "consensus_rate", "a", ">", "b", band=0.02))
    assert result["verdict"] == "no variation"
    assert np.isnan(result["effect_size"]) and np.isnan(result["p_value"]) and np.isnan(result["p_holm"])
    assert "all paired differences are equal" in result["note"] and "d_z is undefined" in result["note"]
    assert_allclose([result["ci_low"], result["ci_high"], result["mean_diff"]], difference, atol=1e-12)
    side = {
        0.0: "inside the band",
        0.01: "inside the band",
        0.5: "on the claimed side",
        -0.5: "against the claim",
    }
    assert side[difference] in result["note"]


def test_no_variation_claims_stay_out_of_the_holm_family():
    table, claims = claims_on({"flat": [0.0] * 50, "real": exact(0.05, 0.02)})
    frame = compare.evaluate_claims(table, claims)
    assert frame["verdict"].tolist() == ["no variation", "supported"]
    assert frame.loc[1, "p_holm"] == frame.loc[1, "p_value"] and frame.loc[1, "ci_level"] == 0.95


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
    assert np.isnan(result["ci_low"]) and np.isnan(result["effect_size"]) and np.isnan(result["p_value"])
    assert_allclose(result["mean_diff"], 1.0)


def test_claim_with_a_bad_op_missing_field_or_bad_band_is_rejected():
    table = summaries_from({"a": [1.0, 2.0], "b": [0.0, 0.0]})
    with pytest.raises(ValueError, match="op must be one of"):
        compare.evaluate_claim(table, Claim("c", "H", "consensus_rate", "a", "!=", "b"))
    with pytest.raises(ValueError, match="'metric'"):
        compare.evaluate_claim(table, {"id": "c", "arm_a": "a", "op": "<", "arm_b": "b", "band": 1.0})
    claim = {"id": "c", "metric": "consensus_rate", "arm_a": "a", "op": "<", "arm_b": "b"}
    with pytest.raises(ValueError, match="'band'"):
        compare.evaluate_claim(table, claim)
    for band in (-0.1, 0.0, float("nan"), float("inf"), "wide", True):
        with pytest.raises(ValueError, match="band must be"):
            compare.evaluate_claim(table, {**claim, "band": band})


def test_effect_size_is_d_z_on_a_hand_computed_example():
    # diffs a - b = 1, 2, 3, 6: mean 3, sd sqrt(((-2)^2 + 1 + 0 + 9) / 3) = sqrt(14 / 3)
    table = summaries_from({"a": [1.0, 2.0, 3.0, 6.0], "b": [0.0, 0.0, 0.0, 0.0]})
    result = compare.evaluate_claim(table, Claim("c", "H", "consensus_rate", "a", ">", "b"))
    assert_allclose(result["mean_diff"], 3.0)
    assert_allclose(result["effect_size"], 3.0 / np.sqrt(14 / 3))
    assert_allclose([result["mean_a"], result["mean_b"]], [3.0, 0.0])
    # t = 3 / (sqrt(14 / 3) / 2) = 2.777 on 3 degrees of freedom; two-sided p = 0.0692
    assert_allclose(result["p_value"], 2 * stats.t.sf(3.0 / (np.sqrt(14 / 3) / 2), 3))
    assert_allclose(result["p_value"], 0.0692, atol=5e-4)


# --- Holm -------------------------------------------------------------------------------------


def test_holm_matches_a_hand_computation_for_three_p_values():
    # sorted: 0.01 (1st), 0.03 (3rd), 0.04 (2nd); m = 3
    # adjusted: 3 x 0.01 = 0.03; max(0.03, 2 x 0.03) = 0.06; max(0.06, 1 x 0.04) = 0.06
    # step 1: 0.01 < 0.05 / 3 declared; step 2: 0.03 >= 0.05 / 2, Holm stops there
    adjusted, levels = verdicts.holm([0.01, 0.04, 0.03], alpha=0.05)
    assert_allclose(adjusted, [0.03, 0.06, 0.06])
    assert_allclose(levels, [0.05 / 3, 0.05 / 2, 0.05 / 2])
    # all declared: each at its own step's level
    adjusted, levels = verdicts.holm([0.001, 0.02, 0.004], alpha=0.05)
    assert_allclose(adjusted, [0.003, 0.02, 0.008])
    assert_allclose(levels, [0.05 / 3, 0.05, 0.05 / 2])
    # none declared: all at the first step's level; adjusted p-values are capped at 1
    adjusted, levels = verdicts.holm([0.5, 0.9, 0.2], alpha=0.05)
    assert_allclose(adjusted, [1.0, 1.0, 0.6])
    assert_allclose(levels, [0.05 / 3] * 3)
    empty = verdicts.holm([], alpha=0.05)
    assert empty[0].size == 0 and empty[1].size == 0
    for bad in ([0.5, np.nan], [1.5], [-0.1]):
        with pytest.raises(ValueError, match="p-values"):
            verdicts.holm(bad)


def test_holm_across_three_claims_matches_the_hand_computation():
    # t = 4.0, 2.3 and 2.1 on 49 degrees of freedom (50 pairs, sd 0.5): p = 0.0002, 0.026, 0.041.
    # Each alone would be supported (95% interval excludes 0, mean beyond the band of 0.02);
    # Holm declares only the first: p2 = 0.026 is above 0.05 / 2, so Holm stops at step 2.
    n, sd = 50, 0.5
    means = {name: t * sd / np.sqrt(n) for name, t in (("strong", 4.0), ("second", 2.3), ("third", 2.1))}
    table, claims = claims_on({name: exact(mean, sd, n) for name, mean in means.items()})
    frame = compare.evaluate_claims(table, claims)
    p = [2 * stats.t.sf(t, n - 1) for t in (4.0, 2.3, 2.1)]
    assert_allclose(frame["p_value"], p, rtol=1e-9)
    assert p[0] < 0.05 / 3 and 0.05 / 2 < p[1] < 0.05 and 0.05 / 2 < p[2] < 0.05
    hand_adjusted = [3 * p[0], max(3 * p[0], 2 * p[1]), max(3 * p[0], 2 * p[1], p[2])]
    assert_allclose(frame["p_holm"], hand_adjusted, rtol=1e-9)
    assert_allclose(frame["ci_level"], [1 - 0.05 / 3, 1 - 0.05 / 2, 1 - 0.05 / 2])
    for row, mean in zip(frame.itertuples(), means.values(), strict=True):
        _, low, high = hand_t(mean, sd, n, row.ci_level)
        assert_allclose([row.ci_low, row.ci_high], [low, high], rtol=1e-9)
    assert frame["verdict"].tolist() == ["supported", "inconclusive", "inconclusive"]
    assert frame.loc[1, "ci_low"] < 0 < frame.loc[1, "ci_high"]
    alone = [compare.evaluate_claim(table, claim)["verdict"] for claim in claims]
    assert alone == ["supported", "supported", "supported"]


def test_evaluate_claims_gives_one_row_per_claim_in_order():
    table = shifted(n=60)
    claims = [
        Claim("c1", "H1", "consensus_rate", "a", "<", "b"),
        Claim("c2", "H2", "consensus_rate", "a", ">", "b"),
    ]
    frame = compare.evaluate_claims(table, claims)
    assert frame["id"].tolist() == ["c1", "c2"]
    assert frame["verdict"].tolist() == ["supported", "contradicted"]
    assert frame.columns.tolist() == list(compare.CLAIM_COLUMNS)
    assert set(frame["verdict"]) <= set(compare.VERDICTS)
    empty = compare.evaluate_claims(table, [])
    assert empty.empty and empty.columns.tolist() == list(compare.CLAIM_COLUMNS)
    with pytest.raises(ValueError, match="level"):
        compare.evaluate_claims(table, claims, level=1.0)


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


def test_the_rule_in_words_names_every_verdict_and_the_adjustment():
    text = verdicts.rule_text(6)
    for name in verdicts.VERDICTS[:-1]:  # insufficient data is said in the claim's note
        assert f"{name} = " in text
    assert "across the 6 tested claims" in text and "at 5%" in text
    assert "across the 1 tested claim keeps" in verdicts.rule_text(1)
    assert compare.VERDICTS == verdicts.VERDICTS
