"""Calibration of a scenario's free parameters against patterns P1-P7 (docs/validation.md).

The search (documented in docs/calibration.md):

1. A Latin hypercube of ``samples`` points over the plausible ranges of the
   calibration file; every point is judged (:mod:`sim.validation`) on the same
   ``seeds`` seeds, so points differ by their parameters only.
2. The distance of a point to the record is the mean over the five patterns of
   the share of seeds that miss the pattern (0 = every seed reproduces every
   pattern). Rejection ABC keeps the ``accept`` share of points nearest the
   record; their ranges are the approximate posterior reported.
3. The ``refine_top`` nearest points are judged again on ``refine_seeds`` fresh
   seeds (the first stage's best is partly luck), and the chosen point is the
   one with most patterns passing, then the smallest distance, in that round.

Only the record to 2017 enters (the scenario ends in 2017). Every stage's
results are kept in the output folder as they finish, and ``--resume`` skips
what is already there.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field

from sim.analysis.validation import CRITERIA, PASS_SHARE, PATTERNS, judge_tasks
from sim.errors import CalibrationError, InputError
from sim.experiments.design import derive_seeds
from sim.experiments.executors import ExecutorChoice
from sim.experiments.progress import Progress, counting
from sim.experiments.sampling import Dimension, draw, free_field, to_points, whole
from sim.experiments.schema import Value
from sim.files import append_line, read_json_lines, read_text, real_path, write_text
from sim.limits import MAX_DRAWS, MAX_REPLICATIONS, MAX_RUNS, MAX_SAMPLES, SEED_MAX
from sim.scenario import load_scenario, read_validated
from sim.version import __version__

MAX_GENERATIONS = 1000  # ABC-SMC generations
MAX_TRUTHS = 1000  # parameter sets of a recovery study

LHS_KEYS = ("samples", "seeds", "accept", "refine_top", "refine_seeds")


class AbcSettings(BaseModel):
    """The ``[abc]`` table of an ABC-SMC calibration file (docs/calibration.md)."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    population_size: Annotated[int, Field(ge=10, le=MAX_SAMPLES)] = 1000
    max_simulations: Annotated[int, Field(ge=1, le=MAX_RUNS)] = 100_000
    max_generations: Annotated[int, Field(ge=1, le=MAX_GENERATIONS)] = 40
    alpha: Annotated[float, Field(gt=0.0, lt=1.0)] = 0.5
    min_acceptance_rate: Annotated[float, Field(ge=0.0, lt=1.0)] = 0.0
    draws: Annotated[int, Field(ge=1, le=MAX_DRAWS)] = 1000  # rows of posterior.csv
    predictive_draws: Annotated[int, Field(ge=0, le=MAX_DRAWS)] = (
        200  # posterior (and prior) predictive checks
    )


class RecoverySettings(BaseModel):
    """The ``[recovery]`` table: the parameter-recovery study (``sco-sim calibrate --recovery``)."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    truths: Annotated[int, Field(ge=1, le=MAX_TRUTHS)] = 10
    population_size: Annotated[int, Field(ge=10, le=MAX_SAMPLES)] = 200
    max_simulations: Annotated[int, Field(ge=1, le=MAX_RUNS)] = 3000
    max_generations: Annotated[int, Field(ge=1, le=MAX_GENERATIONS)] = 40
    alpha: Annotated[float, Field(gt=0.0, lt=1.0)] = 0.5
    level: Annotated[float, Field(gt=0.0, lt=1.0)] = 0.9
    min_contraction: Annotated[float, Field(ge=0.0, le=1.0)] = 0.2
    min_correlation: Annotated[float, Field(ge=-1.0, le=1.0)] = 0.5


class CalibrationFile(BaseModel):
    """The keys of a calibration file (see experiments/calibrate_history.toml).

    ``method = "lhs"`` (the default, the search of before) uses ``samples``, ``seeds``,
    ``accept`` and ``refine_*``; ``method = "abc-smc"`` uses ``[abc]``, ``[recovery]`` and
    ``fit`` (the parameters fitted; the other ranges are priors of the recovery study only).
    """

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    scenario: str
    method: Literal["lhs", "abc-smc"] = "lhs"
    samples: Annotated[int, Field(ge=2, le=MAX_SAMPLES)] = 400
    seeds: Annotated[int, Field(ge=1, le=MAX_REPLICATIONS)] = 8
    accept: Annotated[float, Field(gt=0.0, le=1.0)] = 0.05
    refine_top: Annotated[int, Field(ge=1, le=MAX_SAMPLES)] = 10
    refine_seeds: Annotated[int, Field(ge=1, le=MAX_REPLICATIONS)] = 40
    base_seed: Annotated[int, Field(ge=0, le=SEED_MAX)] = 1996
    fit: list[str] | None = None
    abc: AbcSettings = AbcSettings()
    recovery: RecoverySettings = RecoverySettings()
    ranges: dict[str, tuple[Value, Value]]


@dataclass(frozen=True)
class Calibration:
    """A validated calibration file."""

    path: Path
    file: CalibrationFile
    scenario: Path
    sections: dict[str, str]  # parameter -> "parameters" or "rules"
    integers: frozenset[str]
    digest: str

    def with_budget(self, **changes: int | float) -> Calibration:
        """Return a copy with a different budget (samples, seeds, ...), e.g. for a quick trial."""
        file = self.file.model_copy(update={k: v for k, v in changes.items() if v is not None})
        _check_budget(file, str(self.path))
        return Calibration(self.path, file, self.scenario, self.sections, self.integers, _digest(file))

    def with_abc(self, **changes: int | float | None) -> Calibration:
        """Return a copy with other ``[abc]`` settings (population_size, max_simulations, ...)."""
        abc = self.file.abc.model_copy(update={k: v for k, v in changes.items() if v is not None})
        return self.with_budget(abc=abc)  # type: ignore[arg-type]

    def with_recovery(self, **changes: int | float | None) -> Calibration:
        """Return a copy with other ``[recovery]`` settings (truths, population_size, ...)."""
        recovery = self.file.recovery.model_copy(update={k: v for k, v in changes.items() if v is not None})
        return self.with_budget(recovery=recovery)  # type: ignore[arg-type]

    @property
    def fitted(self) -> list[str]:
        """The parameters fitted: ``fit`` if given, else every range."""
        return list(self.file.fit) if self.file.fit is not None else list(self.file.ranges)

    @property
    def assumed(self) -> list[str]:
        """Parameters with a range (a prior of the recovery study) that are not fitted."""
        return [name for name in self.file.ranges if name not in self.fitted]

    def space(self, names: list[str] | None = None) -> Any:
        """The :class:`~sim.analysis.simulator.Space` of ``names`` (default: the fitted parameters)."""
        from sim.analysis.simulator import Space

        names = self.fitted if names is None else names
        return Space(
            {n: self.file.ranges[n] for n in names},
            {n: self.sections[n] for n in names},
            frozenset(n for n in names if n in self.integers),
        )


def _digest(file: CalibrationFile) -> str:
    # The criteria are part of the identity: a journal judged on other patterns is not resumed.
    content = json.dumps([file.model_dump(mode="json"), CRITERIA, __version__], sort_keys=True)
    return hashlib.sha256(content.encode()).hexdigest()[:16]


def load_calibration(path: str | Path) -> Calibration:
    """Load and check a calibration file; errors are one line naming file and key."""
    path = Path(path)
    where = str(path)
    file, _ = read_validated(path, CalibrationFile, "calibration", CalibrationError)
    if not file.ranges:
        raise CalibrationError(where, "expected at least one parameter range", key="ranges")
    _check_budget(file, where)
    sections, integers = {}, set()
    for name, (low, high) in file.ranges.items():
        found = free_field(name)
        if found is None:
            raise CalibrationError(
                where,
                "not a [parameters] or [rules] key of a scenario (see docs/scenarios.md)",
                key=f"ranges.{name}",
            )
        sections[name], annotation = found
        if annotation not in (int, float):
            raise CalibrationError(where, "only numeric parameters can be calibrated", key=f"ranges.{name}")
        if not low < high:
            raise CalibrationError(
                where,
                f"range [{low}, {high}] is empty; give [low, high] with low < high",
                key=f"ranges.{name}",
            )
        if annotation is int:
            integers.add(name)
    _check_method(file, where)
    scenario = real_path(path.parent / file.scenario)  # not resolve(): a loop of links is one line
    try:
        for point in (_corner(file, integers, 0), _corner(file, integers, 1)):
            load_scenario(scenario, overrides=overrides_for(point, sections))
    except InputError as exc:
        raise CalibrationError(
            where, f"the range ends do not give a valid scenario: {exc}", key="ranges"
        ) from None
    return Calibration(path, file, scenario, sections, frozenset(integers), _digest(file))


def _check_budget(file: CalibrationFile, where: str) -> None:
    """Refuse a search of more than MAX_RUNS seed-judgements (docs/calibration.md), in one line."""
    n = judgements(file)
    if n > MAX_RUNS:
        raise CalibrationError(
            where,
            f"samples x seeds + refine_top x refine_seeds = {n:,} seed-judgements (2 runs each); "
            f"expected at most {MAX_RUNS:,}: lower samples or seeds",
            key="samples",
        )


def _check_method(file: CalibrationFile, where: str) -> None:
    """Keys of the other method are an error, not silently ignored; ``fit`` names ranges."""
    given = file.model_fields_set
    if file.method == "abc-smc":
        for key in LHS_KEYS:
            if key in given:
                raise CalibrationError(
                    where, 'a key of method "lhs"; this file has method = "abc-smc"', key=key
                )
        for name in file.fit or []:
            if name not in file.ranges:
                raise CalibrationError(where, f"'{name}' has no range in [ranges]", key="fit")
        if file.fit is not None and not file.fit:
            raise CalibrationError(where, "expected at least one parameter to fit", key="fit")
        return
    for key in ("fit", "abc", "recovery"):
        if key in given:
            raise CalibrationError(
                where, 'a key of method "abc-smc"; set method = "abc-smc" to use it', key=key
            )


def _corner(file: CalibrationFile, integers: set[str], end: int) -> dict[str, float]:
    return {k: (whole(v[end]) if k in integers else float(v[end])) for k, v in file.ranges.items()}


def overrides_for(point: dict[str, float], sections: dict[str, str]) -> dict[str, dict[str, float]]:
    """Turn a flat parameter point into scenario overrides by section."""
    out: dict[str, dict[str, float]] = {}
    for name, value in point.items():
        out.setdefault(sections[name], {})[name] = value
    return out


def sample_points(calibration: Calibration) -> list[dict[str, float]]:
    """Return the Latin hypercube points, scaled to the ranges; integers rounded, others to 6 decimals."""
    file = calibration.file
    dimensions = [
        Dimension(name, low, high, name in calibration.integers) for name, (low, high) in file.ranges.items()
    ]
    rows = draw("latin_hypercube", dimensions, file.base_seed, samples=file.samples)
    return to_points(rows, dimensions, decimals=6)


def distance(shares: dict[str, float]) -> float:
    """Mean over patterns of the share of seeds missing it (0 = the record every time)."""
    return float(np.mean([1.0 - shares[p] for p in PATTERNS]))


def summarise_point(rows: list[dict[str, Any]]) -> dict[str, float]:
    """Pattern shares, patterns passing and distance of one point from its seeds' judgements."""
    frame = pd.DataFrame(rows)
    shares = {p: float(frame[p].dropna().astype(bool).mean()) for p in PATTERNS}
    return {
        **{f"share_{p}": shares[p] for p in PATTERNS},
        "passing": int(sum(shares[p] >= PASS_SHARE for p in PATTERNS)),
        "distance": distance(shares),
    }


class _Journal:
    """Finished points, appended one JSON line each, so an interrupted search loses nothing."""

    def __init__(self, path: Path, digest: str, resume: bool) -> None:
        self.path = path
        self.done: dict[str, dict[str, Any]] = {}
        if path.exists() and resume:
            for entry in read_json_lines(path, CalibrationError, "a calibration journal"):
                if entry.get("digest") == digest:
                    self.done[entry["key"]] = entry
        elif path.exists():
            path.unlink()
        self.digest = digest

    def add(self, key: str, entry: dict[str, Any]) -> None:
        entry = {"digest": self.digest, "key": key, **entry}
        self.done[key] = entry
        append_line(self.path, json.dumps(entry))


def _stage(
    calibration: Calibration,
    journal: _Journal,
    stage: str,
    points: list[tuple[int, dict[str, float]]],
    seeds: list[int],
    executor: ExecutorChoice,
    count: Callable[[int], Any],
) -> pd.DataFrame:
    todo = [(k, p) for k, p in points if f"{stage}:{k}" not in journal.done]
    count(len(seeds) * (len(points) - len(todo)))
    tasks = [(str(calibration.scenario), overrides_for(p, calibration.sections), seeds) for _, p in todo]

    def keep(j: int, rows: list[dict[str, Any]]) -> None:
        k, point = todo[j]
        journal.add(f"{stage}:{k}", {"point": k, "params": point, **summarise_point(rows)})

    judge_tasks(tasks, executor, count, on_result=keep)
    rows = []
    for k, point in points:
        entry = journal.done[f"{stage}:{k}"]
        rows.append(
            {
                "point": k,
                **point,
                **{c: entry[c] for c in entry if c.startswith("share_")},
                "passing": entry["passing"],
                "distance": entry["distance"],
            }
        )
    return pd.DataFrame(rows)


@dataclass
class CalibrationResult:
    """What a calibration found: every point judged, the ABC sample, the refined round, the choice."""

    calibration: Calibration
    search: pd.DataFrame  # every point of the hypercube and its pattern shares
    accepted: pd.DataFrame  # the rejection-ABC sample
    refined: pd.DataFrame  # the best points judged on fresh seeds
    chosen: dict[str, float]

    def posterior(self) -> pd.DataFrame:
        """Range of each parameter: prior range, accepted min / median / max, chosen value."""
        rows = []
        for name, (low, high) in self.calibration.file.ranges.items():
            values = self.accepted[name]
            rows.append(
                {
                    "parameter": name,
                    "section": self.calibration.sections[name],
                    "low": low,
                    "high": high,
                    "accepted_min": values.min(),
                    "accepted_median": values.median(),
                    "accepted_max": values.max(),
                    "chosen": self.chosen[name],
                }
            )
        return pd.DataFrame(rows)


def calibrate(
    calibration: Calibration,
    out_dir: str | Path,
    workers: int = 1,
    resume: bool = False,
    progress: Progress = None,
    executor: ExecutorChoice | None = None,
) -> CalibrationResult:
    """Run the three-stage search; results go to ``out_dir`` as they finish.

    ``executor`` (default: this process for one worker, else a pool of ``workers``
    processes) runs the judgements through the batches' loop; ``progress`` is ``True``
    for a bar, or a callable given each finished number of seeds.
    """
    file = calibration.file
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    journal = _Journal(out / "journal.jsonl", calibration.digest, resume)
    points = sample_points(calibration)
    executor = executor or ExecutorChoice.for_workers(workers)
    with counting(progress, total_runs(calibration), "seed") as count:
        first = derive_seeds(file.base_seed, file.seeds)
        search = _stage(calibration, journal, "search", list(enumerate(points)), first, executor, count)
        write_text(out / "search.csv", search.to_csv(index=False))
        ranked = search.sort_values(["distance", "point"], kind="stable")
        accepted = ranked.head(max(1, round(file.accept * len(search))))
        top = [(int(k), points[int(k)]) for k in ranked.head(min(file.refine_top, len(ranked)))["point"]]
        # Fresh seeds: the children after the search seeds in the same stream, never reused.
        fresh = derive_seeds(file.base_seed, file.seeds + file.refine_seeds)[file.seeds :]
        refined = _stage(calibration, journal, "refine", top, fresh, executor, count)
    refined = refined.sort_values(
        ["passing", "distance", "point"], ascending=[False, True, True], kind="stable"
    )
    write_text(out / "refine.csv", refined.to_csv(index=False))
    best = int(refined.iloc[0]["point"])
    chosen = points[best]
    result = CalibrationResult(calibration, search, accepted, refined, chosen)
    write_text(out / "posterior.csv", result.posterior().to_csv(index=False))
    write_text(out / "chosen.json", json.dumps({"point": best, "values": chosen}, indent=2) + "\n")
    return result


def total_runs(calibration: Calibration) -> int:
    """Seed-judgements the search makes (each is two model runs)."""
    return judgements(calibration.file)


def judgements(file: CalibrationFile) -> int:
    """Seed-judgements a calibration file asks for: the search, then the best points re-judged."""
    return file.samples * file.seeds + min(file.refine_top, file.samples) * file.refine_seeds


def format_result(result: CalibrationResult) -> str:
    """Return the summary printed by ``sco-sim calibrate``."""
    file = result.calibration.file
    best = result.refined.iloc[0]
    lines = [
        f"Calibration of {result.calibration.scenario.name}: {file.samples} Latin hypercube points x "
        f"{file.seeds} seeds; {len(result.accepted)} accepted (ABC, nearest {file.accept:.0%}); "
        f"best {len(result.refined)} re-judged on {file.refine_seeds} fresh seeds",
        "",
        f"{'parameter':<22} {'range':>16} {'accepted (min-median-max)':>30} {'chosen':>9}",
    ]
    for row in result.posterior().itertuples():
        rng = f"[{row.low:g}, {row.high:g}]"
        acc = f"{row.accepted_min:.3g} - {row.accepted_median:.3g} - {row.accepted_max:.3g}"
        lines.append(f"{row.parameter:<22} {rng:>16} {acc:>30} {row.chosen:>9.4g}")
    shares = "  ".join(f"{p} {best[f'share_{p}']:.2f}" for p in PATTERNS)
    lines += [
        "",
        f"chosen point {int(best['point'])} on fresh seeds: {shares}; "
        f"{int(best['passing'])} of {len(PATTERNS)} patterns pass; distance {best['distance']:.3f}",
    ]
    return "\n".join(lines)


def apply_to_scenario(calibration: Calibration, chosen: dict[str, float], note: str) -> Path:
    """Write the chosen values into the scenario file in place, keeping its comments.

    The file is edited with ``tomlkit``: each chosen key of ``[parameters]`` or ``[rules]``
    gets its new value (its comment kept); a missing key is added at the end of its table,
    and a missing table at the end of the file. ``note`` becomes a comment above each
    table written to (once, however often the values are applied).
    """
    import tomlkit

    path = calibration.scenario
    document = tomlkit.parse(read_text(path, CalibrationError, "a TOML scenario file"))
    for name, value in chosen.items():
        section = calibration.sections[name]
        if section not in document:
            document.add(section, tomlkit.table())
        document[section][name] = int(value) if name in calibration.integers else float(value)
    lines = tomlkit.dumps(document).splitlines()
    marker = f"# {note}"
    for section in dict.fromkeys(calibration.sections[name] for name in chosen):
        at = next(i for i, line in enumerate(lines) if re.match(rf"^\[{section}\]\s*(#.*)?$", line))
        if at == 0 or lines[at - 1] != marker:
            lines.insert(at, marker)
    write_text(path, "\n".join(lines) + "\n")
    return path
