"""One sampler, one rounding rule, one executor loop (sim.experiments.sampling, sim.experiments.executors)."""

from __future__ import annotations

import numpy as np
import pytest

from sim.experiments.executors import ExecutorChoice, run_tasks
from sim.experiments.sampling import Dimension, draw, is_integer_key, numeric_fields, to_points, whole


def test_whole_numbers_round_to_nearest_ties_to_even():
    assert [whole(v) for v in (2.4, 2.5, 2.6, 3.5, -0.5)] == [2, 2, 3, 4, 0]
    assert all(isinstance(whole(v), int) for v in (1.0, 2.7))


def test_integer_keys_come_from_the_scenario_models():
    assert is_integer_key("parameters.agenda_size") and is_integer_key("rules.max_rounds")
    assert is_integer_key("membership.lag_procedure")
    assert not is_integer_key("rules.tolerance") and not is_integer_key("states.KAZ.capability_growth")
    assert not is_integer_key("parameters.no_such_key") and not is_integer_key("agenda_size")
    fields = numeric_fields()
    assert fields["agenda_size"] == ("parameters", True) and fields["tolerance"] == ("rules", False)


@pytest.mark.parametrize("method", ["latin_hypercube", "sobol", "morris", "saltelli"])
def test_every_method_is_deterministic_in_range_and_rounds_whole_numbers(method):
    dims = [Dimension("rules.tolerance", 0.02, 0.12), Dimension("parameters.agenda_size", 2, 6, integer=True)]
    rows = draw(method, dims, seed=7, samples=8, trajectories=4, levels=4)
    assert np.array_equal(rows, draw(method, dims, seed=7, samples=8, trajectories=4, levels=4))
    points = to_points(rows, dims)
    assert all(0.02 <= p["rules.tolerance"] <= 0.12 for p in points)
    assert all(
        isinstance(p["parameters.agenda_size"], int) and 2 <= p["parameters.agenda_size"] <= 6 for p in points
    )
    assert [p["parameters.agenda_size"] for p in points] == [whole(v) for v in rows[:, 1]]


def test_decimals_round_only_the_other_values():
    dims = [Dimension("a", 0.0, 1.0), Dimension("n", 0, 9, integer=True)]
    (point,) = to_points(np.array([[0.123456789, 4.5]]), dims, decimals=3)
    assert point == {"a": 0.123, "n": 4}


def _square(x: int) -> int:
    return x * x


@pytest.mark.parametrize("choice", [ExecutorChoice("sequential"), ExecutorChoice("process", workers=2)])
def test_run_tasks_returns_results_in_task_order(choice):
    seen = []
    results = run_tasks(_square, [(k,) for k in range(7)], choice, on_result=lambda k, r: seen.append(k))
    assert results == [k * k for k in range(7)] and sorted(seen) == list(range(7))
