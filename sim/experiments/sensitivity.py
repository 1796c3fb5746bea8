"""The design of a global sensitivity analysis: free parameters, effects, and SALib's sample as runs.

The pipeline is SALib's: problem -> sample -> evaluate -> analyse. An experiment
file with a ``[sensitivity]`` table names the free parameters with their plausible
ranges and the effects to analyse, each a paired difference between two arms of a
metric (``consensus_rate[sco8] - consensus_rate[sco6]``). This module checks that
table and draws the sample (Morris trajectories or a Saltelli/Sobol' design,
deterministically from the seed, through :mod:`sim.experiments.sampling`); each
point x arm x replication is then one run of the ordinary batch machinery, so
workers, Dask, interruption and ``--resume`` work as for ``sco-sim batch``. Seeds are
common random numbers: replication ``r`` has the same seed in every arm and point.
The analysis of the finished runs is :mod:`sim.analysis.sensitivity`.

With ``posterior = "FILE"`` (Sobol' only), every column of that posterior sample is one more
parameter, drawn from its marginal through :mod:`sim.experiments.marginals` (independently:
Sobol' indices assume independent inputs), beside the parameters given uniform ranges.
"""

from __future__ import annotations

import difflib
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from pydantic import ValidationError

from sim.errors import ExperimentError
from sim.experiments.claims import parse_effects, sensitivity_settings
from sim.experiments.marginals import Marginals, quantiles, read_marginals
from sim.experiments.sampling import (
    FREE_SECTIONS,
    Dimension,
    draw,
    is_integer_key,
    numeric_fields,
    salib_problem,
    to_points,
    whole,
)
from sim.experiments.schema import Experiment
from sim.experiments.size import check_size, sensitivity_size
from sim.experiments.sweep import is_set
from sim.scenario import describe_error

SECTIONS = FREE_SECTIONS  # the tables whose numeric keys can be free: [parameters], [rules]


@dataclass(frozen=True)
class FreeParameter:
    """A scenario parameter varied over its plausible range, or drawn from a posterior marginal."""

    name: str  # as written in the experiment file (a posterior column: its bare key if unambiguous)
    key: str  # dotted scenario key, e.g. "rules.tolerance"
    low: float  # a uniform range's ends; a posterior column's smallest and largest value
    high: float
    integer: bool
    distribution: str = "uniform"  # or "posterior": the column's marginal (sim.experiments.marginals)


def free_parameters(experiment: Experiment, where: str = "") -> list[FreeParameter]:
    """Resolve the ``[sensitivity.parameters]`` names and check their ranges; add the posterior's columns.

    A name is a numeric key of a scenario's ``[parameters]`` or ``[rules]`` table, bare
    (``tolerance``) or dotted (``rules.tolerance``); both ends of its range must be values
    the scenario accepts. With ``posterior = "FILE"``, every column of that posterior sample
    follows, drawn from its marginal (a column may not also be given a range).

    Raises:
        ExperimentError: one line naming the file, the key and what was expected.

    """
    settings = sensitivity_settings(experiment, where)
    out = [_ranged(experiment, where, name, low, high) for name, (low, high) in settings.parameters.items()]
    seen: set[str] = set()
    for parameter in out:
        if parameter.key in seen:
            raise ExperimentError(where, f"'{parameter.key}' is given twice",
                                  key=f"sensitivity.parameters.{parameter.name}")  # fmt: skip
        seen.add(parameter.key)
    if settings.posterior is not None:
        out += _posterior_parameters(experiment, where, out)
    if not out:
        raise ExperimentError(
            where, "expected at least one parameter = [low, high], or a posterior = \"FILE\" whose columns "
            "are the parameters", key="sensitivity.parameters",
        )  # fmt: skip
    return out


def _ranged(experiment: Experiment, where: str, name: str, low: float, high: float) -> FreeParameter:
    """Check one parameter given with a uniform range: its name, its ends, and that no arm sets it."""
    key = f"sensitivity.parameters.{name}"
    numeric = numeric_fields()
    bare = name.split(".", 1)[1] if name.split(".", 1)[0] in SECTIONS and "." in name else name
    if bare not in numeric or ("." in name and numeric[bare][0] != name.split(".", 1)[0]):
        close = difflib.get_close_matches(bare, list(numeric), n=1)
        hint = f"did you mean '{close[0]}'? " if close else ""
        raise ExperimentError(
            where,
            f"unknown parameter '{name}'; {hint}expected a numeric key of a scenario's [parameters] or "
            "[rules] table (docs/scenarios.md, sections 2.2-2.3), e.g. tolerance or trust_gain",
            key=key,
        )
    section, integer = numeric[bare]
    dotted = f"{section}.{bare}"
    if not (math.isfinite(low) and math.isfinite(high)) or low >= high:
        raise ExperimentError(where, f"expected [low, high] with low < high, got {[low, high]}", key=key)
    if integer and (high - low) < 1:
        raise ExperimentError(where, f"'{bare}' is a whole number: give a range at least 1 wide", key=key)
    for end, value in (("low", low), ("high", high)):
        try:
            SECTIONS[section].model_validate({bare: whole(value) if integer else value})
        except ValidationError as exc:
            raise ExperimentError(
                where, f"the {end} end {value:g} is not allowed: {describe_error(exc.errors()[0])}", key=key
            ) from None
    _not_in_overrides(experiment, where, dotted, key)
    return FreeParameter(name, dotted, float(low), float(high), integer)


def _not_in_overrides(experiment: Experiment, where: str, dotted: str, key: str) -> None:
    """Refuse a free parameter that an arm's overrides also set (the sample would replace it there)."""
    for arm_name, arm in experiment.arms.items():
        if is_set(arm.overrides, dotted):  # not a table (rules = nan): loading the arm says so
            raise ExperimentError(
                where,
                f"'{dotted}' is also set in the overrides of arm '{arm_name}', and the sample would "
                "replace it there; remove one of the two",
                key=key,
            )


def _posterior_parameters(
    experiment: Experiment, where: str, ranged: list[FreeParameter]
) -> list[FreeParameter]:
    """Return a parameter for every column of the ``posterior`` file, drawn from its marginal."""
    settings = sensitivity_settings(experiment, where)
    if settings.method != "sobol":
        raise ExperimentError(
            where,
            'a posterior sample is used with method = "sobol" only (Morris steps along a grid of '
            'levels of each range); set method = "sobol", or give ranges instead',
            key="sensitivity.posterior",
        )
    marginals = read_marginals(str(settings.posterior), Path(where))
    by_key = {p.key: p for p in ranged}
    names = {p.name for p in ranged}
    out = []
    for column in marginals.columns:
        if column in by_key:
            raise ExperimentError(
                where,
                f"'{column}' is a column of the posterior sample {settings.posterior}, which gives its "
                "distribution; remove its range here (or use a posterior file without that column)",
                key=f"sensitivity.parameters.{by_key[column].name}",
            )
        bare = column.rsplit(".", 1)[-1]
        section = column.split(".", 1)[0]
        name = bare if section in SECTIONS and column.count(".") == 1 and bare not in names else column
        names.add(name)
        _not_in_overrides(experiment, where, column, "sensitivity.posterior")
        values = marginals.values[column]
        integer = is_integer_key(column)
        low, high = float(values.min()), float(values.max())
        out.append(FreeParameter(name, column, low, high, integer, "posterior"))
    return out


def check_sensitivity(experiment: Experiment, where: str = "") -> None:
    """Check the ``[sensitivity]`` table (called by :func:`sim.experiment.resolve`).

    Raises:
        ExperimentError: one line naming the file, the key and what was expected.

    """
    settings = sensitivity_settings(experiment, where)
    if experiment.sweep is not None:
        raise ExperimentError(
            where,
            "an experiment has either a [sweep] or a [sensitivity] table, not both (the sensitivity "
            "sample is its sweep)",
            key="sensitivity",
        )
    given = settings.model_fields_set
    if settings.method == "morris":
        if "samples" in given:
            raise ExperimentError(
                where,
                "'samples' is for method = \"sobol\"; Morris uses trajectories",
                key="sensitivity.samples",
            )
        if settings.levels % 2:
            raise ExperimentError(
                where, f"Morris needs an even number of levels (e.g. 4), got {settings.levels}",
                key="sensitivity.levels",
            )  # fmt: skip
    else:
        for name in ("trajectories", "levels"):
            if name in given:
                raise ExperimentError(
                    where,
                    f"'{name}' is for method = \"morris\"; Sobol uses samples",
                    key=f"sensitivity.{name}",
                )
        n = settings.samples
        if n & (n - 1):
            raise ExperimentError(
                where,
                f"Sobol' samples must be a power of 2 (e.g. 64, 128), got {n}",
                key="sensitivity.samples",
            )
    parameters = free_parameters(experiment, where)
    parse_effects(experiment, where)
    replications = settings.replications or experiment.replications
    check_size(
        where, len(experiment.arms), sensitivity_size(settings, len(parameters)), replications,
        "sensitivity.trajectories" if settings.method == "morris" else "sensitivity.samples",
        "sensitivity.replications" if settings.replications else "replications",
    )  # fmt: skip


def dimensions(parameters: list[FreeParameter]) -> list[Dimension]:
    """Return the sampler's dimensions of the free parameters (keyed by dotted scenario key).

    A parameter drawn from a posterior marginal is sampled on [0, 1], then mapped through the
    column's quantile function (:func:`draw_sample`).
    """
    unit = [p.distribution == "posterior" for p in parameters]
    return [
        Dimension(p.key, 0.0, 1.0) if drawn else Dimension(p.key, p.low, p.high, p.integer)
        for p, drawn in zip(parameters, unit, strict=True)
    ]


def problem(parameters: list[FreeParameter]) -> dict[str, Any]:
    """Return SALib's problem definition: names and bounds."""
    return salib_problem(dimensions(parameters))


def draw_sample(
    method: str, parameters: list[FreeParameter], seed: int, trajectories: int = 10, levels: int = 4,
    samples: int = 64, marginals: Marginals | None = None,
) -> np.ndarray:  # fmt: skip
    """Return SALib's sample (one row per point, one column per parameter, unrounded).

    Morris: ``trajectories x (parameters + 1)`` rows on a grid of ``levels`` levels.
    Sobol': ``samples x (parameters + 2)`` rows (first and total order, no second order).
    A parameter drawn from a posterior (``marginals``) is sampled on [0, 1] and its column
    mapped through the empirical quantile function of its values (:func:`quantiles`), each
    parameter independently. The same seed gives the same sample.
    """
    sampler = "morris" if method == "morris" else "saltelli"
    axes = dimensions(parameters)
    rows = draw(sampler, axes, seed, samples=samples, trajectories=trajectories, levels=levels)
    for j, parameter in enumerate(parameters):
        if parameter.distribution == "posterior":
            if marginals is None:
                raise ValueError(f"'{parameter.key}' is drawn from a posterior: give its marginals")
            rows[:, j] = quantiles(marginals.values[parameter.key], rows[:, j])
    return rows


def sample_points(sample: np.ndarray, parameters: list[FreeParameter]) -> list[dict[str, float]]:
    """Turn sample rows into override points; whole-number parameters by the one rule (:func:`whole`)."""
    return to_points(sample, [Dimension(p.key, p.low, p.high, p.integer) for p in parameters])
