"""One simulation of the record for calibration: a parameter point and a seed in, summaries out.

A simulation is one seed of one parameter point: the scenario as given and its
endogenous-membership variant (for the accession summaries), each run once, their
recorder arrays read into the summaries of :mod:`sim.analysis.summaries`. The cost
that is not the model's own is kept small (docs/calibration.md, "The harness"):

- the scenario file is read once per process; a point's scenario is a
  ``model_copy`` of it with other [parameters] and [rules], whose arrays are derived
  from the loaded scenario's (:func:`sim.model.arrays.variant_arrays`), not rebuilt;
- no DataFrame is built: the summaries read the recorder's numpy arrays;
- the simulator times itself: model time (building and running the two models) and
  the whole call, so a caller can set the harness against the model.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from sim.analysis import summaries
from sim.experiments.sampling import whole
from sim.model import SCOModel
from sim.model.arrays import scenario_arrays, variant_arrays
from sim.scenario import Scenario, load_scenario


@dataclass(frozen=True)
class Space:
    """The fitted parameters: names, their scenario section, ranges and which are whole numbers."""

    ranges: dict[str, tuple[float, float]]
    sections: dict[str, str]  # name -> "parameters" or "rules"
    integers: frozenset[str] = frozenset()

    @property
    def names(self) -> list[str]:
        """The parameter names, in the file's order."""
        return list(self.ranges)

    def dotted(self, name: str) -> str:
        """The dotted scenario key of a parameter (``rules.tolerance``): posterior.csv's column names."""
        return f"{self.sections[name]}.{name}"

    def bounds(self, name: str) -> tuple[float, float]:
        """The prior's support on the sampled scale: whole numbers get half a unit each side.

        A whole-number parameter is drawn on a continuous scale and rounded to the nearest
        integer, so each integer of the range gets the same prior mass.
        """
        low, high = self.ranges[name]
        return (low - 0.5, high + 0.5) if name in self.integers else (float(low), float(high))

    def point(self, values: Mapping[str, float]) -> dict[str, float | int]:
        """Return a point in scenario units: whole numbers rounded, clipped into their ranges."""
        out: dict[str, float | int] = {}
        for name in self.ranges:
            value = float(values[name])
            if name in self.integers:
                low, high = self.ranges[name]
                out[name] = int(min(max(whole(value), low), high))
            else:
                out[name] = value
        return out

    def overrides(self, point: Mapping[str, float]) -> dict[str, dict[str, float]]:
        """Scenario overrides by section (``{"rules": {"tolerance": 0.1}}``)."""
        out: dict[str, dict[str, float]] = {}
        for name, value in self.point(point).items():
            out.setdefault(self.sections[name], {})[name] = value
        return out


_LOADED: dict[str, tuple[Scenario, Any, Scenario, tuple[str, ...]]] = {}


def _loaded(path: str) -> tuple[Scenario, Any, Scenario, tuple[str, ...]]:
    """The scenario, its arrays, its endogenous variant and its 2008 item titles, once per process."""
    entry = _LOADED.get(path)
    if entry is None:
        base = load_scenario(path)
        arrays = scenario_arrays(base, base.end_year)
        endogenous = base.model_copy(
            update={"membership": base.membership.model_copy(update={"mode": "endogenous"})}
        )
        entry = _LOADED[path] = (base, arrays, endogenous, summaries.georgia_titles(base))
    return entry


COUNTERS = ("calls", "model_seconds", "model_cpu", "call_seconds", "call_cpu")


def variant_scenarios(path: str, overrides: Mapping[str, Mapping[str, float]]) -> tuple[Scenario, Scenario]:
    """The scenario of ``path`` with other [parameters] / [rules] values, and its endogenous variant.

    ``overrides`` is ``{"parameters": {...}, "rules": {...}}`` (values as the scenario takes
    them: whole numbers as ``int``). The file is read once per process; each variant is a
    ``model_copy`` whose arrays are derived from the loaded scenario's, and is not validated
    again: callers pass values inside ranges whose ends were checked (a calibration file's).
    """
    base, arrays, endogenous, _ = _loaded(path)
    update = {
        section: getattr(base, section).model_copy(update=dict(values))
        for section, values in overrides.items()
    }
    history = base.model_copy(update=update)
    variant_arrays(arrays, history)
    other = endogenous.model_copy(update=update)
    variant_arrays(arrays, other)
    return history, other


@dataclass
class Simulator:
    """Simulate the summaries of a parameter point and seed (picklable: loads the scenario lazily).

    Args:
        scenario: Path of the scenario file.
        space: The fitted parameters.
        endogenous: Also run the endogenous-membership variant (for ``accession.*``).

    ``counts`` adds up this process's simulations: their number, the wall and CPU seconds
    spent building and running the two models (``model_*``) and in the whole call
    (``call_*``); ``shared`` (optional, a ``multiprocessing.Array`` created before forking
    workers, see :func:`shared_counters`) adds them up across processes.
    """

    scenario: str
    space: Space
    endogenous: bool = True
    shared: Any = field(default=None, repr=False)
    counts: dict[str, float] = field(default_factory=lambda: dict.fromkeys(COUNTERS, 0.0))

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state["shared"] = None  # shared counters work through fork, not through pickling
        return state

    def variant(self, point: Mapping[str, float]) -> tuple[Scenario, Scenario | None]:
        """Return the scenario at ``point`` and its endogenous variant (arrays derived, not rebuilt)."""
        history, other = variant_scenarios(self.scenario, self.space.overrides(point))
        return history, other if self.endogenous else None

    def simulate(self, point: Mapping[str, float], seed: int) -> dict[str, float]:
        """Return the summaries of one seed at ``point`` (both runs, no tables)."""
        wall, cpu = time.perf_counter(), time.process_time()
        history, other = self.variant(point)
        georgia = _loaded(self.scenario)[3]
        model_wall, model_cpu = time.perf_counter(), time.process_time()
        model = SCOModel(history, rng=int(seed)).run()
        spent = [time.perf_counter() - model_wall, time.process_time() - model_cpu]
        run = summaries.from_model(model)
        model.release()
        endogenous = None
        if other is not None:
            model_wall, model_cpu = time.perf_counter(), time.process_time()
            variant = SCOModel(other, rng=int(seed)).run()
            spent[0] += time.perf_counter() - model_wall
            spent[1] += time.process_time() - model_cpu
            endogenous = summaries.from_model(variant)
            variant.release()
        result = summaries.summarise(run, endogenous, georgia)
        self._count(spent[0], spent[1], time.perf_counter() - wall, time.process_time() - cpu)
        return result

    def __call__(self, parameters: Mapping[str, float]) -> dict[str, float]:
        """Pyabc's model call: a seed from numpy's global generator (pyabc seeds it per worker)."""
        return self.simulate(parameters, int(np.random.randint(0, 2**31 - 1)))

    def _count(self, model_wall: float, model_cpu: float, call_wall: float, call_cpu: float) -> None:
        values = (1.0, model_wall, model_cpu, call_wall, call_cpu)
        for key, value in zip(COUNTERS, values, strict=True):
            self.counts[key] += value
        if self.shared is not None:
            with self.shared.get_lock():
                for k, value in enumerate(values):
                    self.shared[k] += value

    def batch(self, points: Sequence[Mapping[str, float]], seeds: Sequence[int]) -> list[list[float]]:
        """Simulate many points (one seed each) in one task: rows of summaries (``summaries.NAMES``)."""
        return [
            summaries.as_vector(self.simulate(point, seed)).tolist()
            for point, seed in zip(points, seeds, strict=True)
        ]


def shared_counters() -> Any:
    """Counters (``COUNTERS``) that workers forked after this call add to."""
    import multiprocessing

    return multiprocessing.get_context("fork").Array("d", len(COUNTERS))


def simulate_batch(
    scenario: str, space: Space, points: list[dict[str, float]], seeds: list[int]
) -> tuple[list[list[float]], dict[str, float]]:
    """Worker task: simulate ``points`` (one seed each); also return the task's counters."""
    simulator = Simulator(str(Path(scenario)), space)
    rows = simulator.batch(points, seeds)
    return rows, simulator.counts
