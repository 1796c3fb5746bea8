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
"""

from __future__ import annotations

import difflib
import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from pydantic import ValidationError

from sim.errors import ExperimentError
from sim.experiments.claims import parse_effects, sensitivity_settings
from sim.experiments.sampling import (
    FREE_SECTIONS,
    Dimension,
    draw,
    numeric_fields,
    salib_problem,
    to_points,
    whole,
)
from sim.experiments.schema import Experiment
from sim.experiments.size import check_size, sensitivity_size
from sim.scenario import describe_error

SECTIONS = FREE_SECTIONS  # the tables whose numeric keys can be free: [parameters], [rules]


@dataclass(frozen=True)
class FreeParameter:
    """A scenario parameter varied over its plausible range."""

    name: str  # as written in the experiment file
    key: str  # dotted scenario key, e.g. "rules.tolerance"
    low: float
    high: float
    integer: bool


def free_parameters(experiment: Experiment, where: str = "") -> list[FreeParameter]:
    """Resolve the ``[sensitivity.parameters]`` names and check their ranges.

    A name is a numeric key of a scenario's ``[parameters]`` or ``[rules]`` table, bare
    (``tolerance``) or dotted (``rules.tolerance``); both ends of its range must be values
    the scenario accepts.

    Raises:
        ExperimentError: one line naming the file, the key and what was expected.

    """
    settings = sensitivity_settings(experiment, where)
    numeric = numeric_fields()
    out: list[FreeParameter] = []
    seen: set[str] = set()
    for name, (low, high) in settings.parameters.items():
        key = f"sensitivity.parameters.{name}"
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
        if dotted in seen:
            raise ExperimentError(where, f"'{dotted}' is given twice", key=key)
        seen.add(dotted)
        if not (math.isfinite(low) and math.isfinite(high)) or low >= high:
            raise ExperimentError(where, f"expected [low, high] with low < high, got {[low, high]}", key=key)
        if integer and (high - low) < 1:
            raise ExperimentError(where, f"'{bare}' is a whole number: give a range at least 1 wide", key=key)
        for end, value in (("low", low), ("high", high)):
            try:
                SECTIONS[section].model_validate({bare: whole(value) if integer else value})
            except ValidationError as exc:
                raise ExperimentError(
                    where,
                    f"the {end} end {value:g} is not allowed: {describe_error(exc.errors()[0])}",
                    key=key,
                ) from None
        for arm_name, arm in experiment.arms.items():
            table = arm.overrides.get(section)  # not a table (rules = nan): loading the arm says so
            if isinstance(table, dict) and bare in table:
                raise ExperimentError(
                    where,
                    f"'{dotted}' is also set in the overrides of arm '{arm_name}', and the sample would "
                    "replace it there; remove one of the two",
                    key=key,
                )
        out.append(FreeParameter(name, dotted, float(low), float(high), integer))
    if not out:
        raise ExperimentError(
            where, "expected at least one parameter = [low, high]", key="sensitivity.parameters"
        )
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
    """Return the sampler's dimensions of the free parameters (keyed by dotted scenario key)."""
    return [Dimension(p.key, p.low, p.high, p.integer) for p in parameters]


def problem(parameters: list[FreeParameter]) -> dict[str, Any]:
    """Return SALib's problem definition: names and bounds."""
    return salib_problem(dimensions(parameters))


def draw_sample(
    method: str, parameters: list[FreeParameter], seed: int, trajectories: int = 10, levels: int = 4,
    samples: int = 64,
) -> np.ndarray:  # fmt: skip
    """Return SALib's sample (one row per point, one column per parameter, unrounded).

    Morris: ``trajectories x (parameters + 1)`` rows on a grid of ``levels`` levels.
    Sobol': ``samples x (parameters + 2)`` rows (first and total order, no second order).
    The same seed gives the same sample.
    """
    sampler = "morris" if method == "morris" else "saltelli"
    axes = dimensions(parameters)
    return draw(sampler, axes, seed, samples=samples, trajectories=trajectories, levels=levels)


def sample_points(sample: np.ndarray, parameters: list[FreeParameter]) -> list[dict[str, float]]:
    """Turn sample rows into override points; whole-number parameters by the one rule (:func:`whole`)."""
    return to_points(sample, dimensions(parameters))
