"""Charts a paper can use: print resolution, editable SVG text, every metric charted, labels, fitted axes,
few colours, arms in file order, "no variation" in words, and sweeps point by point."""

from __future__ import annotations

import struct
import xml.etree.ElementTree as ET

import matplotlib.colors as mcolors
import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose

from sim.analysis import pairs, points
from sim.charts import batch as batchplots
from sim.charts import style

from .test_batchplots import claims_table, decisions_table, model_table, states_table

SVG = "{http://www.w3.org/2000/svg}"


def png_dpi(data: bytes) -> tuple[float, float]:
    """Read the resolution of a PNG from its pHYs chunk (pixels per metre), in dots per inch."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos = 8
    while pos < len(data):
        length = int.from_bytes(data[pos : pos + 4], "big")
        kind = data[pos + 4 : pos + 8]
        if kind == b"pHYs":
            x, y, unit = struct.unpack(">IIB", data[pos + 8 : pos + 17])
            assert unit == 1  # metres
            return x * 0.0254, y * 0.0254
        pos += 12 + length
    raise AssertionError("no pHYs chunk")


def svg_texts(path) -> list[str]:
    root = ET.parse(path).getroot()
    return ["".join(t.itertext()) for t in root.iter(f"{SVG}text")]


def summaries(n_points: int = 1, shift: float = 1.0) -> pd.DataFrame:
    """Two arms, three seeds per point; metric m is 10 * point + seed in x, plus ``shift`` in y."""
    rows = []
    for point in range(n_points):
        for r in range(3):
            for arm in ("x", "y"):
                value = (
                    10.0 * point + r + (shift * (point + 1) if arm == "y" else 0.0) + (0.1 * r * (arm == "y"))
                )
                rows.append({"arm": arm, "point": point, "replication": r, "status": "ok", "m": value,
                             "mean_trust": value / 100})  # fmt: skip
    return pd.DataFrame(rows)


def colours_in(ax) -> set[str]:
    """The distinct colours of an axes' lines and filled areas, leaving out greys, black and white."""
    found = set()
    for artist in [*ax.lines, *ax.collections]:
        colour = artist.get_color() if hasattr(artist, "get_xdata") else artist.get_facecolor()
        rgb = np.atleast_2d(mcolors.to_rgba_array(colour))[:, :3]
        for r, g, b in rgb:
            if max(r, g, b) - min(r, g, b) > 0.08:  # not a grey
                found.add(mcolors.to_hex((r, g, b)))
    return found


def test_png_is_300_dpi_and_svg_keeps_its_text_as_text(tmp_path):
    data = batchplots.objections_data(states_table(), ["x", "y"])
    paths = style.save_all(
        batchplots.plot_objections(data, labels={"x": "Arm X"}), tmp_path, "o", ["png", "svg"]
    )
    assert_allclose(png_dpi(paths[0].read_bytes()), (300, 300), atol=0.5)
    try:
        from PIL import Image
    except ImportError:  # pragma: no cover - PIL comes with matplotlib
        pass
    else:
        with Image.open(paths[0]) as image:
            assert_allclose(image.info["dpi"], (300, 300), atol=0.5)
    svg = paths[1].read_text()
    texts = svg_texts(paths[1])
    assert "Arm X" in texts and "KAZ" in texts and "2.0" in texts  # labels and values, editable
    assert "DejaVuSans-" not in svg  # no glyphs drawn as paths


def test_a_metric_the_user_defines_gets_an_envelope_and_a_paired_difference_chart(tmp_path):
    model = model_table().assign(mean_trust=lambda t: t["replication"] / 10 + (t["arm"] == "y") * 0.05)
    metrics = {"trust": {"column": "mean_trust", "table": "model", "label": "Mutual trust among members"}}
    paired = {"trust": pairs.metric_differences(summaries(), "mean_trust", ["x", "y"])}
    context = batchplots.ChartContext(metrics=metrics, labels={"x": "Arm X", "y": "Arm Y"}, paired=paired)
    names = [n for n, _ in batchplots.chart_list({"model": model}, None, ["x", "y"], "KAZ", context)]
    assert names[:1] == ["envelopes_trust"] and "paired_trust" in names
    paths = batchplots.write_charts({"model": model}, None, ["x", "y"], tmp_path, formats=("svg",),
                                    only=["envelopes", "differences"], context=context)  # fmt: skip
    assert [p.name for p in paths] == ["envelopes_trust.svg", "paired_trust.svg"]
    envelope, paired_chart = (svg_texts(p) for p in paths)
    assert "Mutual trust among members" in envelope  # the label from the file, not the key
    assert "Arm X" in envelope and "Arm Y" in envelope
    assert any(t.startswith("Arm Y") and "Arm X" in t for t in paired_chart)  # "Arm Y - Arm X"


def test_paired_differences_of_a_metric_cover_its_claims_then_every_arm_against_the_first():
    frame = summaries()
    claims = pd.DataFrame([{"id": "c", "metric": "m", "arm_a": "x", "arm_b": "y", "mean_diff": -1.1, "ci_level": 0.99,
                            "ci_low": -1.3, "ci_high": -0.9, "band": 0.5, "verdict": "supported"}])  # fmt: skip
    diffs, summary = pairs.metric_differences(frame, "m", ["x", "y"], claims)
    assert summary[["arm_a", "arm_b", "claim", "verdict"]].values.tolist() == [["x", "y", "c", "supported"]]
    assert_allclose(diffs["diff"], [-1.0, -1.1, -1.2])
    diffs, summary = pairs.metric_differences(frame, "m", ["x", "y"])
    row = summary.iloc[0]
    assert (row["arm_a"], row["arm_b"], row["claim"], row["verdict"]) == ("y", "x", "", "")
    assert_allclose(row["mean_diff"], 1.1)
    assert row["ci_low"] < 1.1 < row["ci_high"] and row["ci_level"] == 0.95


def test_arms_keep_the_order_of_the_file_in_the_objections_and_dissent_charts():
    # IND (first in code order) is a member only in arm x: the old chart put x first whatever the file said
    data = batchplots.objections_data(states_table(), ["y", "x"])
    figure = batchplots.plot_objections(data)
    assert [t.get_text() for t in figure.axes[0].get_xticklabels()] == ["y", "x"]
    style.close(figure)
    dissent = batchplots.dissent_data(decisions_table(), ["y", "x"])
    figure = batchplots.plot_dissent(dissent, labels={"x": "Arm X"})
    titles = [ax.get_title(loc="left") for ax in figure.axes if ax.get_title(loc="left")]
    assert titles[:2] == ["y: objected", "Arm X: objected"]
    style.close(figure)


def test_dissent_is_the_share_of_runs_with_an_objection_or_a_stand_aside_by_initiator_and_area():
    decisions = pd.DataFrame(
        [
            {"run_index": 0, "arm": "x", "initiator": "RUS", "area": "trade", "dissenters": "KAZ;CHN", "stood_aside": "CHN"},
            {"run_index": 0, "arm": "x", "initiator": "RUS", "area": "trade", "dissenters": "KAZ", "stood_aside": ""},
            {"run_index": 1, "arm": "x", "initiator": "CHN", "area": "energy", "dissenters": "", "stood_aside": ""},
            {"run_index": 2, "arm": "x", "initiator": "chair", "area": "enlargement", "dissenters": "KAZ", "stood_aside": ""},
        ]
    )  # fmt: skip
    data = batchplots.dissent_data(decisions, ["x"], by="initiator", members={"x": {"KAZ", "CHN"}})
    share = data.set_index(["kind", "state", "target"])["share"]
    assert_allclose(share[("objected", "KAZ", "RUS")], 1 / 3)  # one run of three, counted once
    assert_allclose(share[("objected", "KAZ", "chair")], 1 / 3)
    assert_allclose(share[("stood aside", "CHN", "RUS")], 1 / 3)
    assert share[("objected", "CHN", "RUS")] == 0  # it stood aside, so it is not also "objected"
    assert list(dict.fromkeys(data["target"])) == ["CHN", "RUS", "chair"]
    by_area = batchplots.dissent_data(decisions, ["x"], by="area", order=["trade", "energy", "enlargement"])
    assert list(dict.fromkeys(by_area["target"])) == ["trade", "energy", "enlargement"]


def test_axes_fit_the_data_and_the_chart_states_the_scale():
    figure = batchplots.plot_balancing(batchplots.balancing_data(model_table(), ["x", "y"]), focal="KAZ")
    low, high = figure.axes[0].get_ylim()
    assert 0.25 < low < 0.32 and 0.88 < high < 0.95  # the bands span 0.32-0.88, not the whole 0-1 scale
    assert "axis 0.29\u20130.91 of the 0\u20131 scale" in figure.get_supxlabel()
    style.close(figure)


def test_no_variation_is_written_in_words_not_drawn_on_an_axis():
    claims = claims_table()
    claims.loc[1, ["verdict", "mean_diff", "ci_low", "ci_high"]] = ["no variation", 0.0, 0.0, 0.0]
    figure = batchplots.plot_differences(batchplots.differences_data(claims))
    flat = figure.axes[1]
    assert len(flat.lines) == len(flat.patches) == flat.get_xticks().size == 0
    assert "no variation: every pair differs by +0" in flat.texts[0].get_text()
    style.close(figure)
    frame = summaries().assign(m=lambda t: t["replication"] + 0.0)  # y - x = 0 in every pair
    diffs, summary = pairs.metric_differences(frame, "m", ["x", "y"])
    assert summary["verdict"].tolist() == ["no variation"]
    figure = batchplots.plot_paired(diffs, summary, labels={"y": "Arm Y"})
    (ax,) = figure.axes
    assert len(ax.lines) == len(ax.collections) == 0
    assert "no variation" in ax.texts[0].get_text()
    style.close(figure)


def test_no_panel_holds_more_than_four_colours():
    rows = []
    for k, arm in enumerate("abcdef"):
        for r in range(3):
            for year in (2000, 2001):
                rows.append({"arm": arm, "replication": r, "run_index": 3 * k + r, "year": year,
                             "consensus_rate": 10.0 * k + 0.1 * r, "depth_trade": 5.0 * k + r})  # fmt: skip
    model = pd.DataFrame(rows)
    arms = list("abcdef")
    envelopes = batchplots.plot_envelopes(batchplots.envelope_data(model, "consensus_rate", arms))
    depth = batchplots.plot_depth(batchplots.depth_data(model, arms))
    for figure in (envelopes, depth):
        counts = [len(colours_in(ax)) for ax in figure.axes]
        assert max(counts) <= style.MAX_COLOURS, counts
        assert sum(counts) >= 6  # every arm is drawn somewhere
        style.close(figure)


def test_a_sweep_gets_tables_by_point_with_the_swept_values_and_charts_against_them():
    frame = summaries(n_points=2)
    values = [{"rules.tolerance": 0.02}, {"rules.tolerance": 0.06}]
    assert points.is_sweep(values) and not points.is_sweep([{}])
    table = points.metric_table_by_point(frame, ["m"], ["x", "y"], values, n_boot=200)
    assert table.columns.tolist()[:3] == ["point", "rules.tolerance", "metric"]
    assert table[["point", "rules.tolerance", "arm"]].values.tolist() == [
        [0, 0.02, "x"], [0, 0.02, "y"], [1, 0.06, "x"], [1, 0.06, "y"],
    ]  # fmt: skip
    assert_allclose(table["mean"], [1.0, 2.1, 11.0, 13.1])
    claim = {"id": "c", "metric": "m", "arm_a": "y", "arm_b": "x", "op": ">", "band": 0.5, "band_reason": "r"}
    claims = points.claims_by_point(frame, [claim], values)
    assert claims[["point", "rules.tolerance", "id"]].values.tolist() == [[0, 0.02, "c"], [1, 0.06, "c"]]
    assert_allclose(claims["mean_diff"], [1.1, 2.1])
    # Holm across the two claim x point tests: the smaller p-value doubled
    assert_allclose(claims["p_holm"].min(), 2 * claims["p_value"].min())
    context = batchplots.ChartContext(metrics={"m": {"column": "m", "label": "the metric"}},
                                      parameters=["rules.tolerance"], metrics_by_point=table, claims_by_point=claims)  # fmt: skip
    charts = dict(batchplots.chart_list({}, None, ["x", "y"], "KAZ", context))
    assert list(charts) == ["sweep_m", "sweep_claims"]
    figure = charts["sweep_m"]()
    ax = figure.axes[0]
    assert ax.get_xlabel() == "rules.tolerance"
    xs = sorted({round(float(x), 3) for line in ax.lines for x in line.get_xdata()})
    assert xs[0] < 0.03 and xs[-1] > 0.05  # the points sit at their swept values
    style.close(figure)
    style.close(charts["sweep_claims"]())


@pytest.mark.slow
def test_the_report_names_arms_metrics_and_charts_by_their_labels(tmp_path, capsys):
    """A tiny sweep end to end: compare prints the points, plot draws the sweep charts, the report explains."""
    from sim.cli import main

    from .conftest import DATA

    text = (DATA / "mini_experiment.toml").read_text().replace("replications = 4", "replications = 2")
    text = text.replace(
        'scenario = "tiny.toml"\n', 'scenario = "tiny.toml"\nlabel = "Consensus, as in the Charter"\n', 1
    )
    text += '\n[sweep]\nmethod = "grid"\n[sweep.parameters."rules.tolerance"]\nvalues = [0.02, 0.12]\n'
    (tmp_path / "tiny.toml").write_text((DATA / "tiny.toml").read_text())
    (tmp_path / "e.toml").write_text(text)
    out = tmp_path / "out"
    assert main(["batch", str(tmp_path / "e.toml"), "--sequential", "--no-progress", "--out", str(out)]) == 0
    assert main(["compare", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "sweep: 2 points over rules.tolerance" in printed
    assert "point 0 (rules.tolerance=0.02)" in printed and "point 1 (rules.tolerance=0.12)" in printed
    assert "arm consensus: Consensus, as in the Charter" in printed
    by_point = pd.read_csv(out / "metrics_by_point.csv")
    assert set(by_point["rules.tolerance"]) == {0.02, 0.12}
    assert main(["report", str(out)]) == 0
    names = {p.stem for p in (out / "charts").glob("*.svg")}
    assert {"sweep_blocked", "sweep_claims", "envelopes_kaz_alignment_rus", "paired_blocked"} <= names
    html = (out / "report.html").read_text()
    assert "Sweep, point by point" in html and "rules.tolerance" in html
    assert "Consensus, as in the Charter" in html
    assert "Blocked across the sweep." in html  # a caption, not a file name


def test_no_variation_reads_as_such_on_the_command_line():
    from sim.analysis import compare
    from sim.cli.experiment import claim_lines

    frame = summaries().assign(m=lambda t: t["replication"] + 0.0)
    claim = {
        "id": "flat",
        "metric": "m",
        "arm_a": "y",
        "arm_b": "x",
        "op": ">",
        "band": 0.5,
        "band_reason": "r",
    }
    lines = claim_lines(compare.evaluate_claims(frame, [claim]))
    row = next(line for line in lines if line.strip().startswith("flat"))
    assert "diff +0.0000 in every pair" in row and "d_z undefined" in row and row.endswith("NO VARIATION")
    assert "nan" not in row
