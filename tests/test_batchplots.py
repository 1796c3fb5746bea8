"""Batch charts: each data function is checked on hand-made numbers, each plot function draws."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose

from sim.charts import batch as batchplots

PNG = b"\x89PNG\r\n\x1a\n"
OUTCOMES = ["adopted", "adopted_opt_out", "diluted", "blocked", "deferred"]


def ids(arm: str, replication: int, run_index: int) -> dict:
    return {
        "run_index": run_index,
        "run_id": f"{arm}-{replication}",
        "arm": arm,
        "point": 0,
        "replication": replication,
        "seed": 100 + replication,
    }


def model_table() -> pd.DataFrame:
    """Two arms, five runs each, two years; in 2000 run r of arm "x" has consensus rate r / 4."""
    rows = []
    for a, arm in enumerate(("x", "y")):
        for r in range(5):
            for year in (2000, 2001):
                rows.append(
                    {
                        **ids(arm, r, 5 * a + r),
                        "year": year,
                        "items": 4 if year == 2000 or r else 0,
                        "diluted": r % 3 if year == 2000 or r else 0,
                        "consensus_rate": (r / 4 if arm == "x" else 0.5) if year == 2000 or r else np.nan,
                        "mean_rounds": float(r + year - 2000 + 10 * a),
                        "balancing_index": 0.5 + 0.1 * r - 0.2 * a,
                        "depth_border_security": 60.0 + r,
                        "depth_trade": 10.0 * r + (year - 2000),
                    }
                )
    return pd.DataFrame(rows)


def decisions_table() -> pd.DataFrame:
    outcomes = {
        ("x", 0): ["adopted", "adopted", "diluted"],
        ("x", 1): ["adopted", "blocked", "blocked"],
        ("y", 0): ["deferred", "diluted"],
    }
    rows = [
        {**ids(arm, r, r + 5 * (arm == "y")), "year": 2000, "area": "trade", "outcome": o, "origin": "agenda",
         "initiator": "RUS", "dissenters": "KAZ" if o == "blocked" else "", "stood_aside": ""}
        for (arm, r), series in outcomes.items()
        for o in series
    ]  # fmt: skip
    # accession items are not policy items
    rows.append(
        {**ids("x", 0, 0), "year": 2000, "area": "enlargement", "outcome": "adopted", "origin": "membership",
         "initiator": "chair", "dissenters": "", "stood_aside": ""}
    )  # fmt: skip
    return pd.DataFrame(rows)


def states_table() -> pd.DataFrame:
    """Arm x: three runs, KAZ objects 1+2, 0+0, 3+0 times; IND is an observer in arm y."""
    rows = []
    objections = {
        ("x", "KAZ"): [(1, 2), (0, 0), (3, 0)],
        ("x", "RUS"): [(0, 1), (1, 1), (0, 0)],
        ("x", "IND"): [(2, 2), (2, 2), (2, 2)],
        ("y", "KAZ"): [(4, 0), (0, 0)],
        ("y", "RUS"): [(0, 0), (0, 0)],
        ("y", "IND"): [(0, 0), (0, 0)],
    }
    for (arm, state), runs in objections.items():
        for r, per_year in enumerate(runs):
            for year, count in zip((2000, 2001), per_year, strict=True):
                status = "observer" if (arm, state) == ("y", "IND") else "member"
                rows.append(
                    {**ids(arm, r, r + 3 * (arm == "y")), "year": year, "state": state, "status": status,
                     "objections": count}
                )  # fmt: skip
    return pd.DataFrame(rows)


def claims_table() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "id": ["c1", "c2", "c3"],
            "hypothesis": ["H1", "H1", "H2"],
            "label": ["enlargement lowers consensus", "", "one pair"],
            "statement": [
                "consensus_rate[x] < consensus_rate[y]",
                "diluted_share[x] > diluted_share[y]",
                "s3",
            ],
            "mean_diff": [-0.2, 0.01, 0.5],
            "ci_low": [-0.3, -0.05, np.nan],
            "ci_high": [-0.1, 0.07, np.nan],
            "band": [0.02, 0.02, 1.0],
            "verdict": ["supported", "inconclusive", "insufficient data"],
        }
    )


def assert_png(path) -> None:
    assert path.exists()
    assert path.read_bytes()[:8] == PNG


# --- data functions on numbers ----------------------------------------------------------------


def test_envelope_quantiles_of_five_runs():
    data = batchplots.envelope_data(model_table(), "consensus_rate", ["y", "x"])
    assert data.columns.tolist() == ["arm", "year", "n", "mean", "q05", "q25", "median", "q75", "q95"]
    assert_allclose(data["mean"], [0.5, 0.5, 0.5, 0.625])  # the line: the mean of the runs
    assert data[["arm", "year"]].values.tolist() == [["y", 2000], ["y", 2001], ["x", 2000], ["x", 2001]]
    x2000 = data.iloc[2]
    # values 0, .25, .5, .75, 1: linear interpolation between order statistics
    assert_allclose(
        x2000[["q05", "q25", "median", "q75", "q95"]].to_numpy(float), [0.05, 0.25, 0.5, 0.75, 0.95]
    )
    assert x2000["n"] == 5
    # in 2001 run 0 decided nothing: its missing rate is left out, not counted as 0
    x2001 = data.iloc[3]
    assert x2001["n"] == 4
    assert_allclose(x2001["median"], 0.625)
    assert_allclose(data.iloc[0][["q05", "q95"]].to_numpy(float), [0.5, 0.5])


def test_envelope_skips_arms_without_rows_and_rejects_unknown_columns():
    data = batchplots.envelope_data(model_table(), "mean_rounds", ["x", "failed_arm"])
    assert set(data["arm"]) == {"x"}
    assert_allclose(data["median"], [2.0, 3.0])
    with pytest.raises(ValueError, match="functional_output"):
        batchplots.envelope_data(model_table(), "functional_output", ["x"])


def test_diluted_share_is_diluted_over_items():
    model = batchplots.with_diluted_share(model_table())
    x = model[model["arm"] == "x"]
    assert_allclose(x["diluted_share"], [0.0, np.nan, 0.25, 0.25, 0.5, 0.5, 0.0, 0.0, 0.25, 0.25])


def test_balancing_is_the_envelope_of_the_balancing_index():
    data = batchplots.balancing_data(model_table(), ["x", "y"])
    assert_allclose(data["median"], [0.7, 0.7, 0.5, 0.5])
    assert_allclose(data["q05"], [0.52, 0.52, 0.32, 0.32])


def test_outcome_composition_counts_policy_items_with_all_classes():
    data = batchplots.outcome_composition_data(decisions_table(), ["x", "y"])
    assert data.columns.tolist() == ["arm", "outcome", "count", "share"]
    assert data["outcome"].tolist() == OUTCOMES * 2
    assert data["count"].tolist() == [3, 0, 1, 2, 0, 0, 0, 1, 0, 1]
    assert_allclose(data["share"], [0.5, 0, 1 / 6, 1 / 3, 0, 0, 0, 0.5, 0, 0.5])
    assert_allclose(data.groupby("arm")["share"].sum(), [1.0, 1.0])


def test_outcome_composition_of_an_arm_with_only_accession_items_is_zero():
    decisions = decisions_table()
    decisions = decisions[decisions["origin"] == "membership"]
    data = batchplots.outcome_composition_data(decisions, ["x"])
    assert data["count"].tolist() == [0] * 5
    assert data["share"].tolist() == [0.0] * 5


def test_differences_data_takes_the_interval_and_verdict_of_each_claim():
    data = batchplots.differences_data(claims_table())
    assert data.columns.tolist() == ["claim", "label", "mean_diff", "ci_low", "ci_high", "band", "verdict"]
    assert data["claim"].tolist() == ["c1", "c2", "c3"]
    assert data["band"].tolist() == [0.02, 0.02, 1.0]
    # a claims table without bands (written before claims had them) draws no band
    assert data.drop(columns="band").equals(
        batchplots.differences_data(claims_table().drop(columns="band")).drop(columns="band")
    )
    assert batchplots.differences_data(claims_table().drop(columns="band"))["band"].isna().all()
    # the label, else the statement
    assert data["label"].tolist() == [
        "enlargement lowers consensus",
        "diluted_share[x] > diluted_share[y]",
        "one pair",
    ]
    assert_allclose(data["ci_high"], [-0.1, 0.07, np.nan])


def test_depth_medians_per_area_in_column_order():
    data = batchplots.depth_data(model_table(), ["x"])
    assert data.columns.tolist() == ["arm", "year", "area", "median_depth"]
    assert data["area"].tolist() == ["border_security", "border_security", "trade", "trade"]
    assert data["year"].tolist() == [2000, 2001, 2000, 2001]
    assert_allclose(data["median_depth"], [62.0, 62.0, 20.0, 21.0])
    with pytest.raises(ValueError, match="depth_"):
        batchplots.depth_data(model_table().drop(columns=["depth_trade", "depth_border_security"]), ["x"])


def test_objections_are_summed_over_years_and_averaged_over_runs():
    data = batchplots.objections_data(states_table(), ["x", "y"])
    assert data.columns.tolist() == ["state", "arm", "objections", "n_runs"]
    cells = {(s, a): o for s, a, o in data[["state", "arm", "objections"]].itertuples(index=False)}
    assert_allclose(cells[("KAZ", "x")], (3 + 0 + 3) / 3)
    assert_allclose(cells[("RUS", "x")], (1 + 2 + 0) / 3)
    assert_allclose(cells[("KAZ", "y")], 2.0)
    assert_allclose(cells[("IND", "x")], 4.0)
    assert ("IND", "y") not in cells  # an observer in arm y
    assert data[["state", "arm"]].values.tolist() == [
        ["IND", "x"], ["KAZ", "x"], ["KAZ", "y"], ["RUS", "x"], ["RUS", "y"],
    ]  # fmt: skip
    assert data.set_index(["state", "arm"])["n_runs"].to_dict()[("KAZ", "y")] == 2
    everyone = batchplots.objections_data(states_table(), ["x", "y"], members_only=False)
    assert len(everyone) == 6


def test_objections_count_a_run_without_the_state_as_zero():
    states = states_table()
    states = states[~((states["arm"] == "x") & (states["state"] == "KAZ") & (states["replication"] == 0))]
    cells = batchplots.objections_data(states, ["x"]).set_index("state")["objections"]
    assert_allclose(cells["KAZ"], (0 + 3) / 3)


# --- plot functions draw ----------------------------------------------------------------------


def test_plot_envelopes_gives_each_arm_a_panel_where_bands_overlap():
    data = batchplots.envelope_data(model_table(), "consensus_rate", ["x", "y"])
    assert batchplots.bands_overlap(data)  # x spans 0.05-0.95, y sits at 0.5
    figure = batchplots.plot_envelopes(data, title="Consensus", ylabel="rate", labels={"x": "Arm X"})
    assert [ax.get_title(loc="left") for ax in figure.axes] == [
        "Arm X",
        "y",
    ]  # labels from the file, else the key
    assert figure.get_suptitle() == "Consensus"
    for ax in figure.axes:
        assert len(ax.collections) == 2  # its own two bands, no other arm's band over them
        assert len(ax.lines) == 2  # its mean, and the other arm's mean in grey
    own, other = (line.get_color() for line in figure.axes[0].lines[::-1])
    assert other == batchplots.style.REFERENCE and own != other
    batchplots.style.close(figure)


def test_plot_envelopes_shares_a_panel_and_names_lines_where_bands_do_not_overlap():
    model = model_table()
    model.loc[model["arm"] == "y", "consensus_rate"] += 5.0  # far apart
    data = batchplots.envelope_data(model, "consensus_rate", ["x", "y"])
    assert not batchplots.bands_overlap(data)
    figure = batchplots.plot_envelopes(data, labels={"x": "Arm X", "y": "Arm Y"})
    (ax,) = figure.axes
    assert len(ax.collections) == 4
    assert sorted(t.get_text() for t in ax.texts) == ["Arm X", "Arm Y"]  # direct labels, no legend
    assert ax.get_legend() is None
    batchplots.style.close(figure)


def test_plots_show_what_the_data_say():
    figure = batchplots.plot_outcome_composition(
        batchplots.outcome_composition_data(decisions_table(), ["x", "y"])
    )
    assert len(figure.axes) == 5  # one panel per outcome class, each one colour
    assert all(len(ax.containers) == 1 for ax in figure.axes)
    assert [t.get_text() for t in figure.axes[0].texts] == ["50.0%", "0.0%"]  # every bar's value written
    batchplots.plt.close(figure)
    data = batchplots.differences_data(claims_table())
    figure = batchplots.plot_differences(data)
    assert len(figure.axes) == len(data)  # one row, with its own scale, per claim
    ax = figure.axes[0]
    assert ax.get_title(loc="left") == "c1: enlargement lowers consensus  [supported]"
    assert any(line.get_xdata()[0] == 0 == line.get_xdata()[-1] for line in ax.lines)  # the line at 0
    low, high = ax.get_xlim()
    assert low < 0 < high or low <= 0 <= high  # zero is always in view
    assert low <= -0.02 and 0.02 <= high  # and so is the band, shaded
    (band,) = ax.patches
    corners = ax.transData.inverted().transform(band.get_transform().transform(band.get_path().vertices))
    assert_allclose([corners[:, 0].min(), corners[:, 0].max()], [-0.02, 0.02])
    verdicts = [a.get_title(loc="left").rsplit("[", 1)[1].rstrip("]") for a in figure.axes]
    assert verdicts == list(data["verdict"])
    batchplots.plt.close(figure)
    figure = batchplots.plot_depth(batchplots.depth_data(model_table(), ["x", "y"]))
    assert [ax.get_title(loc="left") for ax in figure.axes] == [
        "border security",
        "trade",
    ]  # a panel per area
    assert [len(ax.lines) for ax in figure.axes] == [2, 2]  # a line per arm
    assert [t.get_text() for t in figure.legends[0].get_texts()] == ["x", "y"]
    batchplots.plt.close(figure)
    figure = batchplots.plot_balancing(batchplots.balancing_data(model_table(), ["x"]), focal="KAZ")
    assert figure.get_suptitle().startswith("KAZ")
    batchplots.plt.close(figure)
    figure = batchplots.plot_objections(batchplots.objections_data(states_table(), ["x", "y"]))
    texts = [t.get_text() for t in figure.axes[0].texts]
    assert texts == ["4.0", "-", "2.0", "2.0", "1.0", "0.0"]  # IND, KAZ, RUS rows by x, y columns
    batchplots.plt.close(figure)


# --- writing ----------------------------------------------------------------------------------


def tables() -> dict[str, pd.DataFrame]:
    return {"model": model_table(), "states": states_table(), "decisions": decisions_table()}


@pytest.mark.slow
def test_write_charts_draws_every_chart(tmp_path):
    # PNG only here to keep the suite fast; SVG is written by the next tests
    paths = batchplots.write_charts(
        tables(), claims_table(), ["x", "y"], tmp_path / "charts", formats=("png",)
    )
    names = [p.name for p in paths]
    assert names == [f"{name}.png" for name in batchplots.CHART_NAMES]  # dissent charts too
    assert names[:3] == [
        "envelopes_consensus_rate.png",
        "envelopes_diluted_share.png",
        "envelopes_mean_rounds.png",
    ]
    for path in paths:
        assert path.parent == tmp_path / "charts"
        assert_png(path)
    assert batchplots.plt.get_fignums() == []  # figures are closed


def test_write_charts_skips_charts_without_input(tmp_path):
    context = batchplots.ChartContext()
    charts = batchplots.chart_list({"decisions": decisions_table()}, claims_table().iloc[0:0], ["x", "y"], "KAZ",
                                   context)  # fmt: skip
    assert [name for name, _ in charts] == ["outcome_composition", "dissent_by_initiator", "dissent_by_area"]
    assert batchplots.write_charts({}, None, ["x"], tmp_path) == []
    with pytest.raises(ValueError, match="pdf"):
        batchplots.write_charts(tables(), None, ["x"], tmp_path, formats=("pdf",))


@pytest.mark.parametrize("fmt", ["svg", pytest.param("png", marks=pytest.mark.slow)])
def test_chart_files_are_byte_identical_when_written_twice(tmp_path, fmt):
    sources = {"decisions": decisions_table()}
    only = ["outcome_composition"]
    first = batchplots.write_charts(sources, None, ["x", "y"], tmp_path / "a", formats=(fmt,), only=only)
    second = batchplots.write_charts(sources, None, ["x", "y"], tmp_path / "b", formats=(fmt,), only=only)
    assert [p.name for p in first] == [f"outcome_composition.{fmt}"]
    assert first[0].read_bytes() == second[0].read_bytes()
    if fmt == "svg":
        svg = first[0].read_bytes()
        assert svg.startswith(b"<?xml") and b"<svg" in svg
        assert b"<dc:date>" not in svg


def test_write_charts_skips_tables_without_rows_for_the_arms(tmp_path):
    assert batchplots.write_charts({"states": states_table()}, None, ["z"], tmp_path) == []
