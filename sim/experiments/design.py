"""Experiment files: TOML on disk -> validated design -> a list of run specifications.

An experiment names arms (a scenario file plus overrides), replications and a
base seed, optional parameter sweeps (a full grid, or a Latin hypercube or
Sobol sample through :mod:`scipy.stats.qmc`), metrics with year windows, the
directional claims to test, and the charts to draw. Like a scenario, an
experiment file is data: nothing in it is executed.

Seeds are derived in the parent with :class:`numpy.random.SeedSequence`: one
child per replication, shared by every arm and sweep point (common random
numbers), so comparisons between arms are paired.

With a ``[posterior]`` table (:mod:`sim.experiments.posterior`) every arm and sweep point
also runs at each of ``draws`` posterior draws: the draw's values are overrides under the
arm's own (an arm or a sweep that sets a key keeps its value there), and each draw has its
own ``replications`` seeds (:func:`derive_draw_seeds`), shared by every arm and point, so
runs are paired by (point, draw, replication). A ``[perturb_weights]`` table
(:mod:`sim.experiments.weights`) makes draws the same way, each a perturbation of every state's
interest weights; with both tables, draw ``k`` takes the ``k``-th posterior draw and the ``k``-th
perturbation (:class:`Draws`).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, overload

import numpy as np

from sim.errors import ExperimentError
from sim.experiments.claims import (
    ParsedClaim,
    ParsedEffect,
    parse_claims,
    parse_effects,
    sensitivity_settings,
)
from sim.experiments.marginals import read_marginals
from sim.experiments.posterior import PosteriorDraws, check_posterior, drawn_scenario
from sim.experiments.schema import CHARTS, Experiment
from sim.experiments.seeds import derive_draw_seeds, derive_seeds
from sim.experiments.sensitivity import (
    FreeParameter,
    check_sensitivity,
    draw_sample,
    free_parameters,
    sample_points,
)
from sim.experiments.sweep import load_arm, nested, shared, sweep_points
from sim.experiments.weights import WeightDraws, check_perturb_weights, perturbed_scenario
from sim.files import is_safe_name, real_path
from sim.model.recorder import table_columns
from sim.scenario import Scenario, dotted, read_validated
from sim.version import __version__


@dataclass(frozen=True)
class RunSpec:
    """Everything one run needs; small and picklable, sent to workers."""

    run_index: int
    run_id: str
    arm: str
    point: int
    replication: int
    seed: int
    scenario: Scenario = field(repr=False)
    point_values: tuple[tuple[str, float], ...] = ()
    draw: int | None = None  # a posterior draw's number in its file, else 0..N-1; None without draws


@dataclass(frozen=True)
class Cell:
    """One arm at one sweep point (and posterior draw): its resolved scenario, shared by its replications."""

    arm: str
    point: int
    scenario: Scenario = field(repr=False)
    digest: str
    point_values: tuple[tuple[str, float], ...] = ()
    draw: int | None = None  # the posterior draw's number in its file (weights alone: its position)
    draw_index: int = 0  # its position among the experiment's draws: its seeds and weight perturbation


class Runs(Sequence[RunSpec]):
    """The runs of a design, made when asked for: cells (arm x point [x draw], in that order) x seeds.

    Only the cells and the seeds are held, so a design of many runs takes little memory
    until a run is used; ``runs[i]`` is always the same run (index, id, seed, scenario).
    ``draw_seeds`` (posterior designs) holds each draw's seeds, which replace ``seeds`` for
    the cells of that draw.
    """

    def __init__(
        self, cells: list[Cell], seeds: list[int], draw_seeds: list[list[int]] | None = None
    ) -> None:
        self.cells = cells
        self.seeds = seeds
        self.draw_seeds = draw_seeds
        self.replications = len(draw_seeds[0]) if draw_seeds else len(seeds)

    def __len__(self) -> int:
        return len(self.cells) * self.replications

    @overload
    def __getitem__(self, index: int) -> RunSpec: ...
    @overload
    def __getitem__(self, index: slice) -> list[RunSpec]: ...
    def __getitem__(self, index: int | slice) -> RunSpec | list[RunSpec]:
        if isinstance(index, slice):
            return [self._make(i) for i in range(*index.indices(len(self)))]
        if index < 0:
            index += len(self)
        if not 0 <= index < len(self):
            raise IndexError(f"run {index} of {len(self)}")
        return self._make(index)

    def __iter__(self) -> Iterator[RunSpec]:
        return (self._make(i) for i in range(len(self)))

    def _make(self, index: int) -> RunSpec:
        cell, r = self.cells[index // self.replications], index % self.replications
        seed = (self.draw_seeds[cell.draw_index] if self.draw_seeds else self.seeds)[r]
        return RunSpec(
            run_index=index,
            run_id=run_id(cell.scenario, seed, cell.arm, cell.point, cell.digest, cell.draw),
            arm=cell.arm,
            point=cell.point,
            replication=r,
            seed=seed,
            scenario=cell.scenario,
            point_values=cell.point_values,
            draw=cell.draw,
        )


@dataclass
class Design:
    """An experiment resolved into run specifications."""

    experiment: Experiment
    path: Path
    file_hash: str
    claims: list[ParsedClaim]
    points: list[dict[str, float]]
    seeds: list[Any]  # one per replication; with draws ([posterior], [perturb_weights]), a list per draw
    runs: Sequence[RunSpec]
    posterior: PosteriorDraws | None = None
    weights: WeightDraws | None = None  # [perturb_weights]

    @property
    def arms(self) -> list[str]:
        """Arm names in file order."""
        return list(self.experiment.arms)

    def describe(self) -> dict[str, Any]:
        """Plain description for the manifest and the report (with the posterior file, if any)."""
        e = self.experiment
        posterior = {"posterior": self.posterior.describe()} if self.posterior is not None else {}
        if self.weights is not None:
            posterior["perturb_weights"] = self.weights.describe()
        return {
            "name": e.name,
            "description": e.description,
            "file": str(self.path),
            "hash": self.file_hash,
            "arms": [
                {"name": k, "scenario": a.scenario, "overrides": a.overrides} for k, a in e.arms.items()
            ],
            "replications": e.replications,
            "base_seed": e.base_seed,
            "points": self.points,
            "metrics": [{"name": k, **m.model_dump(mode="json")} for k, m in e.metrics.items()],
            "claims": [
                {"id": c.id, "hypothesis": c.hypothesis, "statement": c.statement, "label": c.label}
                for c in self.claims
            ],
            "charts": list(e.charts),
            "texts": e.texts,
            **posterior,
            "n_runs": len(self.runs),
        }


def scenario_digest(scenario: Scenario) -> str:
    """SHA-256 of the resolved scenario, keys in file order.

    Not sorted: the order of issue areas is part of the scenario (it sets the order
    of random draws).
    """
    return hashlib.sha256(json.dumps(scenario.to_dict(), sort_keys=False, default=str).encode()).hexdigest()


def run_id(
    scenario: Scenario,
    seed: int,
    arm: str = "",
    point: int = 0,
    digest: str | None = None,
    draw: int | None = None,
) -> str:
    """Content hash of a run: the resolved scenario, the seed, the code version, arm, point (and draw).

    The arm and sweep point are part of the identity, so two arms that resolve to
    the same scenario (a control arm, or repeated sample points) stay separate
    runs; so is the posterior draw of a run of a ``[posterior]`` design (an equal-weight
    sample repeats draws). Without a draw the id is what it was before posteriors existed.
    ``digest`` is :func:`scenario_digest` of the scenario, if already known.
    """
    parts: list[Any] = [digest or scenario_digest(scenario), seed, __version__, arm, point]
    if draw is not None:
        parts.append(draw)
    content = json.dumps(parts, separators=(",", ":"))
    return hashlib.sha256(content.encode()).hexdigest()[:16]


def load_experiment(path: str | Path) -> Design:
    """Load and validate an experiment file and resolve it into run specifications.

    Raises:
        ExperimentError: one line naming the file, the key and what was expected.

    """
    path = Path(path)
    experiment, raw = read_validated(path, Experiment, "experiment", ExperimentError)
    file_hash = hashlib.sha256(raw).hexdigest()
    return resolve(experiment, path, file_hash)


def resolve(experiment: Experiment, path: Path, file_hash: str = "") -> Design:
    """Check references and expand arms x sweep points x replications into runs."""
    where = str(path)

    def fail(key: str, message: str) -> None:
        raise ExperimentError(where, message, key=key)

    if not experiment.arms:
        fail("arms", "expected at least one arm")
    for name in experiment.arms:
        if not is_safe_name(name):
            fail(dotted(("arms", name)), "an arm's name is part of file names in the results folder: use "
                 "letters, digits, '_', '-', '.' and spaces (not '.' or a space first or last)")  # fmt: skip
    if not experiment.metrics:
        fail("metrics", "expected at least one metric")
    for name in experiment.charts:
        if name not in CHARTS:
            fail("charts", f"unknown chart '{name}'; expected some of: {', '.join(CHARTS)}")
    for key, metric in experiment.metrics.items():
        if metric.years and metric.years[0] > metric.years[1]:
            fail(f"metrics.{key}.years", f"window {list(metric.years)} ends before it starts")
        if metric.table == "states" and not metric.state:
            fail(f"metrics.{key}.state", "a metric on the states table needs a state (ISO3 code)")
        if metric.aggregate == "first_above" and metric.threshold is None:
            fail(f"metrics.{key}.threshold", "aggregate 'first_above' needs a threshold (a number)")
        if metric.aggregate != "first_above" and metric.threshold is not None:
            fail(f"metrics.{key}.threshold", "a threshold is used only with aggregate = 'first_above'")
    claims = parse_claims(experiment, where)
    if experiment.sensitivity is not None:
        check_sensitivity(experiment, where)
    points = sweep_points(experiment, where)
    posterior = check_posterior(experiment, path, points) if experiment.posterior is not None else None
    weights = None
    if experiment.perturb_weights is not None:
        weights = check_perturb_weights(experiment, where, len(points))
    return _expand(experiment, path, file_hash, claims, points, posterior, weights)


def _expand(
    experiment: Experiment,
    path: Path,
    file_hash: str,
    claims: list[ParsedClaim],
    points: list[dict[str, float]],
    posterior: PosteriorDraws | None = None,
    weights: WeightDraws | None = None,
) -> Design:
    where = str(path)
    seeds: list[Any] = derive_seeds(experiment.base_seed, experiment.replications)
    draws = Draws(posterior, weights)
    draw_seeds = None
    if draws.ids:
        draw_seeds = derive_draw_seeds(experiment.base_seed, len(draws.ids), experiment.replications)
    cells: list[Cell] = []
    for arm_name, arm in experiment.arms.items():
        scenario_path = real_path(path.parent / arm.scenario)
        first: Scenario | None = None
        for p, values in enumerate(points):
            overrides = nested(values, arm.overrides, where, arm_name)
            scenario = load_arm(scenario_path, overrides, where, arm_name)
            # each scenario keeps its own focal state; the experiment's is for charts
            _check_metrics(experiment, scenario, arm_name, where)
            # the points of an arm differ in a few values: they share every other part (memory)
            if first is None:
                first = scenario
            else:
                scenario = shared(scenario, first)
            point_values = tuple(sorted(values.items()))
            if not draws.ids:
                cells.append(Cell(arm_name, p, scenario, scenario_digest(scenario), point_values))
                continue
            for k, draw in enumerate(draws.ids):
                drawn = draws.scenario(k, scenario, scenario_path, overrides, where, arm_name)
                cells.append(Cell(arm_name, p, drawn, scenario_digest(drawn), point_values, draw, k))
    runs = Runs(cells, seeds, draw_seeds)
    return Design(experiment, path, file_hash, claims, points, draw_seeds or seeds, runs, posterior, weights)


@dataclass(frozen=True)
class Draws:
    """The draws of a design: posterior draws, weight perturbations, or both (draw k takes both k-th)."""

    posterior: PosteriorDraws | None
    weights: WeightDraws | None

    @property
    def ids(self) -> list[int]:
        """The draws' ids in the tables: the posterior's draw numbers, else 0 to N - 1 (none: empty)."""
        if self.posterior is not None:
            return list(self.posterior.draws)
        return list(range(self.weights.draws)) if self.weights is not None else []

    def scenario(
        self, k: int, scenario: Scenario, path: Path, overrides: dict[str, Any], where: str, arm: str
    ) -> Scenario:
        """Return an arm's scenario at the ``k``-th draw: the posterior's values, then perturbed weights."""
        if self.posterior is not None:
            scenario = drawn_scenario(scenario, path, overrides, self.posterior.values[k], where, arm)
        if self.weights is not None:
            scenario = perturbed_scenario(scenario, self.weights, k, where)
        return scenario


def _check_metrics(experiment: Experiment, scenario: Scenario, arm_name: str, where: str) -> None:
    """Check that every metric's column, state and window exist in an arm's scenario."""

    def fail(key: str, message: str) -> None:
        raise ExperimentError(where, message, key=key)

    known = table_columns(list(scenario.poles), list(scenario.areas))
    for key, metric in experiment.metrics.items():
        if metric.column not in known[metric.table]:
            fail(
                f"metrics.{key}.column",
                f"the {metric.table} table has no column '{metric.column}'; "
                f"columns: {', '.join(known[metric.table])}",
            )
        if metric.table == "states" and metric.state not in scenario.states:
            fail(f"metrics.{key}.state", f"state '{metric.state}' is not in arm '{arm_name}'")
        if metric.years and not (
            scenario.start_year <= metric.years[0] and metric.years[1] <= scenario.end_year
        ):
            fail(
                f"metrics.{key}.years",
                f"window {list(metric.years)} is outside arm '{arm_name}' "
                f"({scenario.start_year}-{scenario.end_year})",
            )


def compute_metrics(experiment: Experiment, tables: dict[str, Any]) -> dict[str, float]:
    """Compute every metric of the experiment from one run's tables (DataFrames or columns).

    ``first_above`` gives the first year of the window whose value exceeds the metric's
    ``threshold`` (strictly; empty years never do). If no year does, the value is censored
    at the year after the window (the window's end + 1, or the run's last year + 1 without
    a window): "not before then", so runs that never cross still take part in the paired
    comparisons, on the late side.
    """
    values: dict[str, float] = {}
    for name, metric in experiment.metrics.items():
        frame = tables[metric.table]
        if metric.column not in frame:
            raise KeyError(f"metric '{name}': no column '{metric.column}' in the {metric.table} table")
        column = np.asarray(frame[metric.column], dtype=float)
        keep = np.ones(len(column), dtype=bool)
        if metric.table == "states":
            keep &= np.asarray(frame["state"]) == metric.state
        if metric.years:
            year = np.asarray(frame["year"])
            keep &= (year >= metric.years[0]) & (year <= metric.years[1])
        series = column[keep]
        present = series[~np.isnan(series)]  # years with no items have no rate: skipped
        if metric.aggregate == "first_above":
            years = np.asarray(frame["year"])[keep]
            above = years[series > metric.threshold]  # NaN > x is False
            if len(above):
                values[name] = float(above[0])
            else:
                end = metric.years[1] if metric.years else (years.max() if len(years) else np.nan)
                values[name] = float(end) + 1.0
        elif metric.aggregate in ("first", "last"):
            values[name] = float(series[0 if metric.aggregate == "first" else -1]) if len(series) else np.nan
        elif not len(present):
            values[name] = 0.0 if metric.aggregate == "sum" else np.nan
        else:
            values[name] = float(getattr(np, metric.aggregate)(present))
    return values


@dataclass
class SensitivityDesign(Design):
    """An experiment resolved into the runs of its sensitivity sample."""

    parameters: list[FreeParameter] = field(default_factory=list)
    effects: list[ParsedEffect] = field(default_factory=list)
    sample: np.ndarray = field(default_factory=lambda: np.empty((0, 0)))
    sensitivity: dict[str, Any] = field(default_factory=dict)

    def describe(self) -> dict[str, Any]:
        """Return the plain description, with the sensitivity settings and the unrounded sample."""
        return {**super().describe(), "sensitivity": self.sensitivity}


def load_sensitivity(path: str | Path) -> SensitivityDesign:
    """Load an experiment file and resolve its ``[sensitivity]`` sample into runs.

    Every sample point is applied to every arm, with ``[sensitivity] replications`` seeds
    (default: the file's ``replications``), shared by all arms and points. With ``posterior``,
    its columns are drawn from their marginals (:mod:`sim.experiments.marginals`).

    Raises:
        ExperimentError: the file is invalid or has no ``[sensitivity]`` table.

    """
    design = load_experiment(path)
    experiment = design.experiment
    where = str(design.path)
    settings = sensitivity_settings(experiment, where)
    parameters = free_parameters(experiment, where)
    effects = parse_effects(experiment, where)
    seed = settings.seed if settings.seed is not None else experiment.base_seed
    marginals = read_marginals(settings.posterior, design.path) if settings.posterior is not None else None
    sample = draw_sample(settings.method, parameters, seed, settings.trajectories, settings.levels,
                         settings.samples, marginals)  # fmt: skip
    replications = settings.replications or experiment.replications
    experiment = experiment.model_copy(update={"replications": replications})
    base = _expand(experiment, design.path, design.file_hash + "-sensitivity", design.claims,
                   sample_points(sample, parameters))  # fmt: skip
    sensitivity = {
        "method": settings.method,
        "seed": seed,
        "replications": replications,
        **(
            {"trajectories": settings.trajectories, "levels": settings.levels}
            if settings.method == "morris"
            else {"samples": settings.samples}
        ),
        "parameters": [_parameter_record(p) for p in parameters],
        "effects": [
            {
                "name": e.name,
                "difference": e.difference,
                "metric": e.metric,
                "arm_a": e.arm_a,
                "arm_b": e.arm_b,
                "expected": e.expected,
                "label": e.label,
            }
            for e in effects
        ],
        **({"posterior": marginals.describe()} if marginals is not None else {}),
        "sample": sample.tolist(),
    }
    return SensitivityDesign(
        **vars(base), parameters=parameters, effects=effects, sample=sample, sensitivity=sensitivity
    )


def _parameter_record(p: FreeParameter) -> dict[str, Any]:
    """A free parameter as the manifest keeps it (``distribution`` only when it is not uniform)."""
    record: dict[str, Any] = {"name": p.name, "key": p.key, "low": p.low, "high": p.high}
    record["integer"] = p.integer
    if p.distribution != "uniform":
        record["distribution"] = p.distribution
    return record
