"""The benchmark command runs end to end on a tiny batch (figures are not asserted: not a timed test)."""

from __future__ import annotations

import pytest

from sim.experiments import bench


@pytest.mark.slow
def test_bench_measures_and_prints_every_figure():
    result = bench.bench(runs=6, workers=(1,))
    assert result.runs == 6 and result.median_run_ms > 0
    assert set(result.throughput) == {1} and result.throughput[1] > 0
    assert set(result.startup) == {1} and result.startup[1] > 0  # start-up is measured apart
    text = bench.format_result(result)
    assert (
        "median time of one run" in text and "process pool, after start-up" in text and "peak memory" in text
    )
    assert "start-up, 1 worker(s)" in text and "1 worker(s)" in text
    if result.mesa_batch_run is not None:  # Mesa versions that still ship batch_run
        assert "mesa.batch_run" in text and result.mesa_batch_run > 0


def test_the_mesa_version_of_the_model_collects_every_year():
    model = bench._BatchRunModel(rng=3)
    model.run_model()
    frame = model.datacollector.get_model_vars_dataframe()
    assert len(frame) == 19  # 2017-2035, one row per year
    agents = model.datacollector.get_agent_vars_dataframe()
    assert len(agents) == 19 * len(model.codes)
