"""Charts: the data function is checked on numbers, the render function draws."""

from __future__ import annotations

import pandas as pd
import pytest

from sim.charts import run as plots
from sim.charts import style


def model_table():
    return pd.DataFrame(
        {
            "year": [2000, 2001, 2002],
            "adopted": [2, 1, 0],
            "adopted_opt_out": [0, 1, 0],
            "diluted": [1, 0, 2],
            "blocked": [0, 1, 1],
            "deferred": [0, 0, 1],
            "balancing_index": [0.5, 0.6, 0.55],
            "members": [6, 6, 8],
        }
    )


def test_run_outcomes_data_counts_per_year():
    data = plots.run_outcomes_data(model_table())
    assert data.index.tolist() == [2000, 2001, 2002]
    assert data.loc[2001].to_dict() == {
        "adopted": 1, "adopted_opt_out": 1, "diluted": 0, "blocked": 1, "deferred": 0, "balancing_index": 0.6,
    }  # fmt: skip
    assert data[["adopted", "adopted_opt_out", "diluted", "blocked", "deferred"]].sum(axis=1).tolist() == [
        3,
        3,
        4,
    ]


def test_run_outcomes_data_rejects_tables_without_the_columns():
    with pytest.raises(ValueError, match="balancing_index"):
        plots.run_outcomes_data(model_table().drop(columns="balancing_index"))


def test_plot_run_outcomes_renders(tmp_path):
    figure = plots.plot_run_outcomes(plots.run_outcomes_data(model_table()), title="t", focal="KAZ")
    path = tmp_path / "c.png"
    style.save(figure, path, "png")
    style.close(figure)
    assert path.stat().st_size > 5000
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    # five outcome series and the index line are drawn
    figure = plots.plot_run_outcomes(plots.run_outcomes_data(model_table()))
    bars = [c for c in figure.axes[0].containers]
    assert len(bars) == 5
    assert len(figure.axes[1].lines) == 1
    style.close(figure)


def test_every_chart_colour_comes_from_the_style_module():
    """One colour table: no chart module but sim.charts.style writes a colour as a hex literal."""
    import re
    from pathlib import Path

    charts = Path(style.__file__).parent
    for path in charts.glob("*.py"):
        if path.name != "style.py":
            assert not re.search(r"#[0-9a-fA-F]{6}\b", path.read_text()), path.name


def test_save_writes_png_and_svg_and_refuses_other_formats(tmp_path):
    figure = plots.plot_run_outcomes(plots.run_outcomes_data(model_table()))
    written = style.save_all(figure, tmp_path, "c", ["png", "svg"])
    assert [p.name for p in written] == ["c.png", "c.svg"]
    assert written[0].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and b"<svg" in written[1].read_bytes()
    with pytest.raises(ValueError, match="unsupported chart format 'pdf'"):
        style.check_formats(["png", "pdf"])
    with pytest.raises(ValueError, match=r"model table lacks columns \['year'\]"):
        style.require(pd.DataFrame({"x": [1]}), ["year"], "model")
