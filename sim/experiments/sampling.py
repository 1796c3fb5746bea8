"""The one sampler: points in parameter ranges for sweeps, sensitivity samples and calibration.

- **Which parameters are free, and which are whole numbers**, is read from the scenario's
  pydantic models (:class:`sim.scenario.Parameters`, :class:`~sim.scenario.Rules`, and for
  sweeps also :class:`~sim.scenario.Membership`, :class:`~sim.scenario.State`,
  :class:`~sim.scenario.Area`): a field annotated ``int`` is a whole number. Nothing here
  lists parameter names.
- **Drawing** (:func:`draw`): a Latin hypercube or a scrambled Sobol' sequence from
  :mod:`scipy.stats.qmc`, or SALib's Morris trajectories or Saltelli/Sobol' design. Rows
  come back in parameter units, unrounded; the same seed gives the same rows.
- **Rounding** (:func:`whole`, used by :func:`to_points`): a whole-number parameter takes
  the nearest integer, ties to even (Python's ``round``), as a Python ``int``. Every
  sampler used this rule before they shared it, so no drawn point changed.
"""

from __future__ import annotations

import types
import typing
from dataclasses import dataclass
from typing import Annotated, Any

import numpy as np
from pydantic import BaseModel, TypeAdapter, ValidationError

from sim.scenario import Area, Membership, Parameters, Rules, State, describe_error

# Tables whose numeric keys can be free parameters (sensitivity, calibration) ...
FREE_SECTIONS: dict[str, type[BaseModel]] = {"parameters": Parameters, "rules": Rules}
# ... and every table a sweep's dotted key may name (``states.KAZ.capability_growth``).
SWEEP_SECTIONS: dict[str, type[BaseModel]] = {
    **FREE_SECTIONS,
    "membership": Membership,
    "states": State,
    "areas": Area,
}
QMC_METHODS = ("latin_hypercube", "sobol")
SALIB_METHODS = ("morris", "saltelli")


def numeric_fields(sections: dict[str, type[BaseModel]] | None = None) -> dict[str, tuple[str, bool]]:
    """Map each numeric field of ``sections`` (default: [parameters], [rules]) to (section, is integer)."""
    fields: dict[str, tuple[str, bool]] = {}
    for section, model in (sections or FREE_SECTIONS).items():
        for name, info in model.model_fields.items():
            if info.annotation in (int, float):
                fields.setdefault(name, (section, info.annotation is int))
    return fields


def free_field(name: str) -> tuple[str, Any] | None:
    """Return (section, annotation) of a bare [parameters] or [rules] key, or None if it is neither."""
    for section, model in FREE_SECTIONS.items():
        if name in model.model_fields:
            return section, model.model_fields[name].annotation
    return None


def is_integer_key(dotted: str) -> bool:
    """Whether a dotted scenario key (``parameters.agenda_size``) names a whole-number field."""
    parts = dotted.split(".")
    model = SWEEP_SECTIONS.get(parts[0])
    info = model.model_fields.get(parts[-1]) if model is not None and len(parts) > 1 else None
    return info is not None and info.annotation is int


def key_type(dotted: str) -> Any | None:
    """Return the type, with its range, of the scenario value a dotted sweep key sets (None if unknown).

    ``rules.tolerance``, ``states.KAZ.capability_growth`` and ``states.KAZ.alignment.RUS`` name a
    number; a key that names a table, or no key of the scenario, gives None (loading the scenario
    then says what is wrong).
    """
    parts = dotted.split(".")
    annotation: Any = SWEEP_SECTIONS.get(parts[0])
    for part in parts[2:] if parts[0] in ("states", "areas") else parts[1:]:
        annotation = _step(annotation, part)
    if annotation is None or (isinstance(annotation, type) and issubclass(annotation, BaseModel)):
        return None
    return annotation


def is_number_key(dotted: str) -> bool:
    """Whether a dotted scenario key names a number (``rules.tolerance``, ``states.KAZ.capability_growth``).

    A key that may hold a number or a table (a state's ``capability``) counts; a string, a
    boolean, a table, or no key of the scenario does not.
    """
    annotation = key_type(dotted)
    return annotation is not None and _numeric(annotation)


def _numeric(annotation: Any) -> bool:
    origin = typing.get_origin(annotation)
    if origin is Annotated:
        return _numeric(typing.get_args(annotation)[0])
    if origin in (typing.Union, types.UnionType):
        return any(_numeric(arg) for arg in typing.get_args(annotation))
    return annotation in (int, float)


def _step(annotation: Any, part: str) -> Any | None:
    """Step from a type into its field or table value named ``part``."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        info = annotation.model_fields.get(part)
        return None if info is None else info.rebuild_annotation()
    origin = typing.get_origin(annotation)
    if origin is Annotated:
        return _step(typing.get_args(annotation)[0], part)
    if origin is dict:
        return typing.get_args(annotation)[1]
    if origin in (typing.Union, types.UnionType):  # a number or a table (capability): the table
        for arg in typing.get_args(annotation):
            inner = _step(arg, part)
            if inner is not None:
                return inner
    return None


def value_problem(dotted: str, value: float) -> str | None:
    """Say why ``value`` cannot be given to the scenario key ``dotted`` (its range), or None."""
    annotation = key_type(dotted)
    if annotation is None:
        return None
    try:
        TypeAdapter(annotation).validate_python(value)
    except ValidationError as exc:
        return describe_error(exc.errors()[0])
    return None


def whole(value: float) -> int:
    """Round a whole-number parameter (the one rule): the nearest integer, ties to even."""
    return round(float(value))


@dataclass(frozen=True)
class Dimension:
    """One axis of a sample: a key, its range and whether it takes whole numbers."""

    key: str
    low: float
    high: float
    integer: bool = False


def draw(
    method: str,
    dimensions: list[Dimension],
    seed: int,
    samples: int = 8,
    trajectories: int = 10,
    levels: int = 4,
) -> np.ndarray:
    """Return the sample's rows in parameter units, unrounded (one column per dimension).

    ``latin_hypercube`` and ``sobol``: ``samples`` rows from :mod:`scipy.stats.qmc`
    (Sobol' scrambled). ``morris``: SALib's ``trajectories x (dimensions + 1)`` rows on
    ``levels`` levels. ``saltelli``: SALib's Sobol' design, ``samples x (dimensions + 2)``
    rows (first and total order).
    """
    if method in SALIB_METHODS:
        return _draw_salib(method, dimensions, seed, samples, trajectories, levels)
    if method not in QMC_METHODS:
        raise ValueError(f"unknown sampling method '{method}'")
    from scipy.stats import qmc

    rng = np.random.default_rng(seed)
    d = len(dimensions)
    sampler: Any = (
        qmc.LatinHypercube(d=d, seed=rng)
        if method == "latin_hypercube"
        else qmc.Sobol(d=d, scramble=True, seed=rng)
    )
    unit = sampler.random(samples)
    lows = np.array([dim.low for dim in dimensions])
    highs = np.array([dim.high for dim in dimensions])
    return qmc.scale(unit, lows, highs)


def salib_problem(dimensions: list[Dimension]) -> dict[str, Any]:
    """Return SALib's problem definition: names and bounds."""
    return {
        "num_vars": len(dimensions),
        "names": [dim.key for dim in dimensions],
        "bounds": [[dim.low, dim.high] for dim in dimensions],
    }


def _draw_salib(
    method: str, dimensions: list[Dimension], seed: int, samples: int, trajectories: int, levels: int
) -> np.ndarray:
    problem = salib_problem(dimensions)
    if method == "morris":
        from SALib.sample import morris

        return np.asarray(morris.sample(problem, trajectories, num_levels=levels, seed=seed), dtype=float)
    from SALib.sample import sobol

    return np.asarray(sobol.sample(problem, samples, calc_second_order=False, seed=seed), dtype=float)


def to_points(
    rows: np.ndarray, dimensions: list[Dimension], decimals: int | None = None
) -> list[dict[str, int | float]]:
    """Turn sample rows into points ``{key: value}``: whole numbers by :func:`whole`.

    ``decimals`` rounds the other values (calibration keeps six, since its choice is
    written into a scenario file); by default they are kept as drawn.
    """
    points = []
    for row in rows:
        point: dict[str, int | float] = {}
        for dim, value in zip(dimensions, row, strict=True):
            if dim.integer:
                point[dim.key] = whole(value)
            else:
                point[dim.key] = float(value) if decimals is None else round(float(value), decimals)
        points.append(point)
    return points
