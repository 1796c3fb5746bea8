"""The size of a design, counted before anything is drawn or expanded, and refused in one line if too big.

A design is arms x points x replications runs, and every arm x point is a resolved
scenario kept in memory and written to the results folder. The counts come from the
file alone (a grid's product of lists, a sample's size), so a design of 10^12 runs is
refused at once instead of filling the memory first. The limits are in :mod:`sim.limits`
and documented in docs/experiments.md.
"""

from __future__ import annotations

import math

from sim.errors import ExperimentError
from sim.experiments.schema import Sensitivity, Sweep
from sim.limits import MAX_RUNS, MAX_SCENARIOS, RUN_BYTES, SCENARIO_BYTES


def sweep_size(sweep: Sweep | None) -> int:
    """Return the number of points of a sweep (1 without one): the grid's product, or the samples."""
    if sweep is None or not sweep.parameters:
        return 1
    if sweep.method == "grid":
        return math.prod(len(p.values or []) for p in sweep.parameters.values())
    return sweep.samples


def sensitivity_size(settings: Sensitivity, n_parameters: int) -> int:
    """Return the rows of a sensitivity sample: Morris r x (k + 1), Saltelli/Sobol' N x (k + 2)."""
    if settings.method == "morris":
        return settings.trajectories * (n_parameters + 1)
    return settings.samples * (n_parameters + 2)


def memory(arms: int, points: int, replications: int) -> int:
    """Return the rough memory (bytes) a design takes before its first run."""
    return arms * points * SCENARIO_BYTES + arms * points * replications * RUN_BYTES


def in_words(n_bytes: float) -> str:
    """Return a number of bytes as ``12 MB``, ``3.4 GB`` or ``5.6 TB``."""
    for unit, size in (("TB", 1e12), ("GB", 1e9), ("MB", 1e6)):
        if n_bytes >= size:
            return f"{n_bytes / size:.2g} {unit}" if n_bytes < 10 * size else f"{n_bytes / size:,.0f} {unit}"
    return f"{max(n_bytes, 0) / 1e3:.0f} kB"


def check_size(
    where: str,
    arms: int,
    points: int,
    replications: int,
    points_key: str,
    runs_key: str,
    what: str = "point(s)",
) -> None:
    """Raise ExperimentError, in one line, if the design exceeds MAX_RUNS runs or MAX_SCENARIOS scenarios.

    ``points_key`` is named when there are too many arm x point scenarios (the sweep or the
    sample is too large), ``runs_key`` when the runs are too many (too many replications).
    ``what`` names the points in the message (``point x draw(s)`` for a posterior design).
    """
    runs = arms * points * replications
    cells = f"arm x {what.removesuffix('(s)')}"
    if runs <= MAX_RUNS and arms * points <= MAX_SCENARIOS:
        return
    key = points_key if arms * points > MAX_SCENARIOS else runs_key
    raise ExperimentError(
        where,
        f"{arms} arm(s) x {points:,} {what} x {replications:,} seed(s) = {runs:,} runs, needing about "
        f"{in_words(memory(arms, points, replications))} of memory before the first run; a design may "
        f"have at most {MAX_RUNS:,} runs and {MAX_SCENARIOS:,} {cells} scenarios (docs/experiments.md)",
        key=key,
    )
