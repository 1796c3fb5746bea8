"""Posterior draws as an experiment's parameters: the ``[posterior]`` table's file, read, checked and chosen.

An experiment with a ``[posterior]`` table runs every arm at ``draws`` rows of a posterior
sample, each with ``replications`` seeds, so that its comparisons carry the uncertainty about
the parameters as well as the noise of the seeds (:mod:`sim.analysis.compare`).

**The file** is the ``posterior.csv`` that ``sco-sim calibrate`` writes: a header ``draw`` then
one column per fitted parameter, named by its dotted scenario key (``rules.tolerance``,
``parameters.claim_cost``), and one row per equal-weight draw. Every row is checked, not only
the chosen ones, and a problem is one line naming the file, the column and the line:

- the ``draw`` column holds distinct whole numbers, 0 or more;
- every other column is a numeric key of the scenario (:func:`~sim.experiments.sampling.is_number_key`:
  ``[parameters]``, ``[rules]``, ``[membership]``, a state's or an area's number);
- every value is a finite number, a whole number for a whole-number key
  (:func:`~sim.experiments.sampling.is_integer_key`), and inside the key's documented range
  (:func:`~sim.experiments.sampling.value_problem`; every range of the scenario schema is finite).

**The choice of draws.** ``select = "sample"`` (the default) takes ``draws`` rows by a seeded
sample without replacement: the first ``draws`` entries of a permutation of the rows by
``numpy.random.default_rng(seed)`` (``seed`` defaults to the experiment's ``base_seed``), in
that order; the same file and seed give the same draws, and a larger ``draws`` keeps the
earlier ones. ``select = "first"`` takes the first ``draws`` rows of the file (``sco-sim
calibrate`` shuffles its sample, so these are a fair sample too). Too few rows is an error.

**Applying a draw** (:func:`drawn_scenario`): the draw's values are overrides under the arm's
own, so a key that an arm's overrides (or a sweep point) set keeps that value in that arm
(``kept_by_arms`` in the manifest lists them); a key both swept and drawn is refused.
"""

from __future__ import annotations

import csv
import difflib
import hashlib
import io
import math
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from sim.errors import ExperimentError
from sim.experiments.sampling import (
    FREE_SECTIONS,
    is_integer_key,
    is_number_key,
    numeric_fields,
    value_problem,
)
from sim.experiments.schema import Experiment, Posterior
from sim.experiments.size import check_size
from sim.experiments.sweep import is_set, load_arm, nested, shared
from sim.files import decode, read_file, real_path
from sim.scenario import Scenario

DRAW = "draw"  # the column of the file, and the id column of every run of a posterior batch
EXPECTED = "a posterior sample (CSV: a column 'draw', then one column per parameter, e.g. rules.tolerance)"
SECTIONS = ("parameters.", "rules.", "membership.", "states.", "areas.")

Number = int | float


@dataclass(frozen=True)
class PosteriorDraws:
    """The draws an experiment runs: chosen from a checked posterior file, with the file's hash."""

    file: str  # as written in the experiment file
    path: Path  # the file read (absolute)
    sha256: str  # of the file's bytes
    rows: int  # draws in the file
    columns: tuple[str, ...]  # the parameters, dotted scenario keys, in the file's order
    select: str
    seed: int | None  # the seed of the sample (None for select = "first")
    draws: tuple[int, ...]  # the chosen draws (the file's draw numbers), in run order
    values: tuple[dict[str, Number], ...]  # the chosen draws' values, one dict per draw
    kept_by_arms: dict[str, list[str]] = field(default_factory=dict)  # keys an arm sets itself, by arm

    def describe(self) -> dict[str, Any]:
        """Plain description for the manifest: which file (with its SHA-256) and which draws."""
        return {
            "file": self.file,
            "path": str(self.path),
            "sha256": self.sha256,
            "rows": self.rows,
            "columns": list(self.columns),
            "select": self.select,
            "seed": self.seed,
            "draws": list(self.draws),
            "kept_by_arms": self.kept_by_arms,
        }


def check_posterior(experiment: Experiment, path: Path, points: list[dict[str, float]]) -> PosteriorDraws:
    """Check an experiment's ``[posterior]`` table against the rest of its design, then read its file.

    Raises:
        ExperimentError: with ``[sensitivity]``; a design too large; a bad file; a key both swept
            and drawn.

    """
    where, settings = str(path), experiment.posterior
    if settings is None:
        raise ValueError("the experiment has no [posterior] table")
    if experiment.sensitivity is not None:
        raise ExperimentError(
            where,
            "an experiment has either a [posterior] or a [sensitivity] table, not both (a sensitivity "
            "analysis samples its own parameters: to draw them from a posterior's marginals, give "
            'posterior = "FILE" inside [sensitivity], with method = "sobol")',
            key="posterior",
        )
    check_size(where, len(experiment.arms), len(points) * settings.draws, experiment.replications,
               "posterior.draws", "replications", what="point x draw(s)")  # fmt: skip
    posterior = read_posterior(settings, path, experiment.base_seed)
    swept = sorted(set(experiment.sweep.parameters if experiment.sweep else ()) & set(posterior.columns))
    if swept:
        raise ExperimentError(
            where,
            f"'{swept[0]}' is both swept and drawn from the posterior ({settings.file}); "
            "remove it from the sweep, or from the posterior file",
            key=f"sweep.parameters.{swept[0]}",
        )
    kept = {
        name: [key for key in posterior.columns if is_set(arm.overrides, key)]
        for name, arm in experiment.arms.items()
    }
    return replace(posterior, kept_by_arms={name: keys for name, keys in kept.items() if keys})


def drawn_scenario(
    scenario: Scenario,
    scenario_path: Path,
    overrides: dict[str, Any],
    values: dict[str, Number],
    where: str,
    arm_name: str,
) -> Scenario:
    """Return an arm's scenario at one posterior draw: the draw's values under the arm's overrides.

    ``scenario`` is the arm's scenario loaded with ``overrides`` (its own and the sweep point's);
    a key they set keeps that value. Values of ``[parameters]`` and ``[rules]`` keys are set on
    ``scenario`` and their table validated again (no check of the whole scenario depends on
    them, so this equals loading with them as overrides, and is fast); a draw with other keys
    (a state's or an area's number) loads the scenario again.
    """
    free = {key: value for key, value in values.items() if not is_set(overrides, key)}
    if not free:
        return scenario
    if all(key.split(".", 1)[0] in FREE_SECTIONS for key in free):
        update: dict[str, Any] = {}
        for section in FREE_SECTIONS:
            given = {k.split(".", 1)[1]: v for k, v in free.items() if k.split(".", 1)[0] == section}
            if given:
                table = getattr(scenario, section)
                update[section] = type(table).model_validate({**table.model_dump(), **given})
        return scenario.model_copy(update=update)
    return shared(
        load_arm(scenario_path, nested(free, overrides, where, arm_name), where, arm_name), scenario
    )


def read_posterior(settings: Posterior, experiment_path: Path, base_seed: int) -> PosteriorDraws:
    """Read and check the ``[posterior]`` file of an experiment, and choose its draws.

    Raises:
        ExperimentError: one line naming the file (the experiment's, or the posterior's), the
            key or column, and what was expected.

    """
    where = str(experiment_path)
    path = real_path(experiment_path.parent / settings.file)
    raw = read_file(path, ExperimentError, EXPECTED, referrer=where, key="posterior.file")
    columns, draws, values = parse_posterior(raw, str(path))
    if len(draws) < settings.draws:
        raise ExperimentError(
            where,
            f"asks for {settings.draws} draws, but {path} holds {len(draws)}; ask for at most "
            f"{len(draws)}, or calibrate a larger sample",
            key="posterior.draws",
        )
    seed = None
    if settings.select == "first":
        order = list(range(settings.draws))
    else:
        seed = settings.seed if settings.seed is not None else base_seed
        order = [int(i) for i in np.random.default_rng(seed).permutation(len(draws))[: settings.draws]]
    return PosteriorDraws(
        file=settings.file,
        path=path,
        sha256=hashlib.sha256(raw).hexdigest(),
        rows=len(draws),
        columns=tuple(columns),
        select=settings.select,
        seed=seed,
        draws=tuple(draws[i] for i in order),
        values=tuple(values[i] for i in order),
    )


def parse_posterior(raw: bytes, where: str) -> tuple[list[str], list[int], list[dict[str, Number]]]:
    """Parse and check a posterior file: its parameter columns, the draw numbers and each row's values.

    Raises:
        ExperimentError: one line naming the file, the column and the line.

    """
    text = decode(raw, where, ExperimentError, EXPECTED)
    try:
        lines = [(n, row) for n, row in enumerate(csv.reader(io.StringIO(text)), 1) if row]
    except csv.Error as exc:
        raise ExperimentError(where, f"is not a readable CSV table ({exc}); expected {EXPECTED}") from None
    if not lines:
        raise ExperimentError(where, f"is empty; expected {EXPECTED}")
    header = [name.strip() for name in lines[0][1]]
    columns = _check_header(header, where)
    if len(lines) < 2:
        raise ExperimentError(where, "has a header but no draws; expected one row per draw")
    draws: list[int] = []
    seen: dict[int, int] = {}
    values: list[dict[str, Number]] = []
    for number, row in lines[1:]:
        if len(row) != len(header):
            raise ExperimentError(where, f"line {number}: expected {len(header)} values, got {len(row)}")
        cells = dict(zip(header, row, strict=True))
        draw = _number(cells[DRAW], where, DRAW, number)
        if not draw.is_integer() or draw < 0:
            message = f"line {number}: expected a whole number 0 or more, got {draw:g}"
            raise ExperimentError(where, message, key=DRAW)
        if int(draw) in seen:
            message = (
                f"line {number}: draw {int(draw)} is also on line {seen[int(draw)]}; list each draw once"
            )
            raise ExperimentError(where, message, key=DRAW)
        seen[int(draw)] = number
        draws.append(int(draw))
        values.append({column: _value(cells[column], where, column, number) for column in columns})
    return columns, draws, values


def _check_header(header: list[str], where: str) -> list[str]:
    """Return the parameter columns of a posterior file's header, or raise in one line."""
    for index, name in enumerate(header):
        if name in header[:index]:
            raise ExperimentError(where, "this column appears twice; each parameter is one column", key=name)
    if DRAW not in header:
        raise ExperimentError(where, f"has no column 'draw'; expected {EXPECTED}")
    columns = [name for name in header if name != DRAW]
    if not columns:
        raise ExperimentError(where, "has no parameter column; expected one per parameter after 'draw'")
    fields = numeric_fields()
    known = [f"{section}.{name}" for name, (section, _) in fields.items()]
    for name in columns:
        if not name.startswith(SECTIONS) or not is_number_key(name):
            bare = name.rsplit(".", 1)[-1]  # a key of [parameters] or [rules] under the other table, or bare
            close = (
                [f"{fields[bare][0]}.{bare}"]
                if bare in fields
                else difflib.get_close_matches(name, known, n=1)
            )
            hint = f"did you mean '{close[0]}'? " if close else ""
            raise ExperimentError(
                where,
                f"unknown column: {hint}expected a numeric scenario key, dotted, such as 'rules.tolerance' "
                "or 'parameters.claim_cost' (docs/scenarios.md)",
                key=name,
            )
    return columns


def _number(cell: str, where: str, column: str, line: int) -> float:
    """Read one cell as a finite number, or raise in one line."""
    try:
        value = float(cell.strip())
    except ValueError:
        shown = f"{cell.strip()!r}" if cell.strip() else "an empty cell"
        raise ExperimentError(where, f"line {line}: expected a number, got {shown}", key=column) from None
    if not math.isfinite(value):
        raise ExperimentError(where, f"line {line}: expected a finite number, got {cell.strip()}", key=column)
    return value


def _value(cell: str, where: str, column: str, line: int) -> Number:
    """Read one parameter's value: finite, whole for a whole-number key, inside the key's range."""
    value: Number = _number(cell, where, column, line)
    if is_integer_key(column):
        if not float(value).is_integer():
            raise ExperimentError(
                where, f"line {line}: this key takes whole numbers, got {value:g}", key=column
            )
        value = int(value)
    problem = value_problem(column, value)
    if problem:
        raise ExperimentError(
            where, f"line {line}: the value {value:g} is not allowed: {problem}", key=column
        )
    return value
