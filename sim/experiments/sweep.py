"""A sweep's points: checked key by key, counted before they are drawn, merged into an arm's overrides.

- :func:`sweep_points` checks each swept key (a dotted scenario key), each listed value
  and each end of a range against the range of the scenario key it sets, counts the
  design (:mod:`sim.experiments.size`) and only then lists the grid or draws the sample.
- :func:`nested` merges a point into an arm's overrides.
- :func:`shared` lets the scenarios of an arm's points share the parts they have in common.
- :func:`load_arm` loads an arm's scenario with its overrides; :func:`is_set` says whether
  overrides set a dotted key.
"""

from __future__ import annotations

import copy
import itertools
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from sim.errors import ExperimentError, InputError
from sim.experiments.sampling import Dimension, draw, is_integer_key, to_points, value_problem, whole
from sim.experiments.schema import Experiment, SweepParameter
from sim.experiments.size import check_size, sweep_size
from sim.scenario import Scenario, load_scenario

SWEEPABLE = ("parameters.", "rules.", "membership.", "states.", "areas.")


def sweep_points(experiment: Experiment, where: str = "") -> list[dict[str, float]]:
    """Return the sweep's points (one empty point when there is no sweep).

    Raises:
        ExperimentError: one line naming the swept key, or the key that makes the design too large.

    """
    sweep = experiment.sweep
    arms, replications = len(experiment.arms), experiment.replications
    if sweep is None or not sweep.parameters:
        check_size(where, arms, 1, replications, "arms", "replications")
        return [{}]
    integers = {
        name: parameter.integer or is_integer_key(name) for name, parameter in sweep.parameters.items()
    }
    for name, parameter in sweep.parameters.items():
        _check_parameter(sweep.method, name, parameter, integers[name], where)
    points_key = "sweep.samples" if sweep.method != "grid" else "sweep.parameters"
    check_size(where, arms, sweep_size(sweep), replications, points_key, "replications")
    names = list(sweep.parameters)
    if sweep.method == "grid":  # listed values are taken as written (a whole number as an int)
        grid = itertools.product(*(sweep.parameters[n].values or [] for n in names))
        return [{n: _listed(v, integers[n]) for n, v in zip(names, c, strict=True)} for c in grid]
    dimensions = [
        Dimension(n, *sweep.parameters[n].range, integer=integers[n])  # type: ignore[misc]
        for n in names
    ]
    seed = sweep.seed if sweep.seed is not None else experiment.base_seed
    return to_points(draw(sweep.method, dimensions, seed, samples=sweep.samples), dimensions)


def _check_parameter(method: str, name: str, parameter: SweepParameter, integer: bool, where: str) -> None:
    """Check one swept key: its name, its values or range, and each value against the key's range."""
    key = f"sweep.parameters.{name}"
    if method == "grid" and not parameter.values:
        raise ExperimentError(where, "a grid sweep needs values = [...]", key=key)
    if method != "grid" and not parameter.range:
        raise ExperimentError(where, "a sampled sweep needs range = [low, high]", key=key)
    if parameter.range and parameter.range[0] >= parameter.range[1]:
        raise ExperimentError(where, "range must be [low, high] with low < high", key=key)
    if not name.startswith(SWEEPABLE):
        raise ExperimentError(
            where, "expected a dotted scenario key such as 'parameters.balancing_rate'", key=key
        )
    given = parameter.values if method == "grid" else parameter.range
    for value in given or ():
        as_set = _listed(value, integer) if method == "grid" else (whole(value) if integer else value)
        problem = value_problem(name, as_set)
        if problem:
            raise ExperimentError(where, f"the value {value:g} is not allowed here: {problem}", key=key)


def _listed(value: float, integer: bool) -> int | float:
    """Return a listed grid value as written: a whole number of an integer key as an int, else a float."""
    return whole(value) if integer and float(value).is_integer() else float(value)


def nested(values: dict[str, float], base: dict[str, Any], where: str = "", arm: str = "") -> dict[str, Any]:
    """Merge dotted sweep keys into an arm's overrides (as nested tables).

    Raises:
        ExperimentError: the overrides hold a value where a swept key needs a table.

    """
    # a copy, so that the arm's own overrides are never changed (any TOML value: dates too)
    merged = copy.deepcopy(base)
    for dotted_key, value in values.items():
        node = merged
        parts = dotted_key.split(".")
        for depth, part in enumerate(parts[:-1]):
            node = node.setdefault(part, {})
            if not isinstance(node, dict):
                at = ".".join(parts[: depth + 1])
                raise ExperimentError(
                    where,
                    f"expected a table at '{at}' (the sweep sets '{dotted_key}' inside it), got {node!r}",
                    key=f"arms.{arm}.overrides.{at}",
                )
        node[parts[-1]] = value
    return merged


def shared(new: Any, old: Any) -> Any:
    """Return ``new`` with every part equal to the same part of ``old`` replaced by ``old``'s object.

    Scenarios are frozen, so equal parts can be one object; the result equals ``new``.
    """
    if new is old or type(new) is not type(old):
        return new
    if isinstance(new, BaseModel):
        if new == old:
            return old
        update = {}
        for name in type(new).model_fields:
            part = getattr(new, name)
            common = shared(part, getattr(old, name))
            if common is not part:
                update[name] = common
        return new.model_copy(update=update) if update else new
    if isinstance(new, dict):
        return old if new == old else {k: shared(v, old[k]) if k in old else v for k, v in new.items()}
    if isinstance(new, list):
        if new == old:
            return old
        return [shared(a, b) for a, b in zip(new, old, strict=True)] if len(new) == len(old) else new
    return new


def load_arm(scenario_path: Path, overrides: dict[str, Any], where: str, arm_name: str) -> Scenario:
    """Load an arm's scenario with its overrides; an error is one line naming the arm.

    Raises:
        ExperimentError: the scenario, with these overrides, cannot be loaded.

    """
    try:
        return load_scenario(scenario_path, overrides=overrides or None)
    except InputError as exc:
        raise ExperimentError(where, f"arm '{arm_name}': {exc.one_line()}", key=f"arms.{arm_name}") from None


def is_set(overrides: dict[str, Any], dotted_key: str) -> bool:
    """Whether nested overrides hold a value at a dotted key (``rules.tolerance``)."""
    node: Any = overrides
    for part in dotted_key.split("."):
        if not isinstance(node, dict) or part not in node:
            return False
        node = node[part]
    return True
