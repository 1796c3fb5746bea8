"""Calibration of a scenario's free parameters against patterns P1-P5.

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
from typing import Annotated, Any

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from scipy.stats import qmc

from sim.analysis.validation import CRITERIA, PASS_SHARE, PATTERNS, run_tasks
from sim.errors import CalibrationError, InputError
from sim.experiments.design import derive_seeds
from sim.files import read_toml_file
from sim.scenario import Parameters, Rules, first_error, load_scenario
from sim.version import __version__


class CalibrationFile(BaseModel):
    """The keys of a calibration file (see experiments/calibrate_history.toml)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    scenario: str
    samples: Annotated[int, Field(ge=2)] = 400
    seeds: Annotated[int, Field(ge=1)] = 8
    accept: Annotated[float, Field(gt=0.0, le=1.0)] = 0.05
    refine_top: Annotated[int, Field(ge=1)] = 10
    refine_seeds: Annotated[int, Field(ge=1)] = 40
    base_seed: Annotated[int, Field(ge=0)] = 1996
    ranges: dict[str, tuple[float, float]]


@dataclass(frozen=True)
class Calibration:
    """A validated calibration file."""

    path: Path
    spec: CalibrationFile
    scenario: Path
    sections: dict[str, str]  # parameter -> "parameters" or "rules"
    integers: frozenset[str]
    digest: str

    def with_budget(self, **changes: int | float) -> Calibration:
        """Return a copy with a different budget (samples, seeds, ...), e.g. for a quick trial."""
        spec = self.spec.model_copy(update={k: v for k, v in changes.items() if v is not None})
        return Calibration(self.path, spec, self.scenario, self.sections, self.integers, _digest(spec))


def _digest(spec: CalibrationFile) -> str:
    # The criteria are part of the identity: a journal judged on other patterns is not resumed.
    content = json.dumps([spec.model_dump(mode="json"), CRITERIA, __version__], sort_keys=True)
    return hashlib.sha256(content.encode()).hexdigest()[:16]


def load_calibration(path: str | Path) -> Calibration:
    """Load and check a calibration file; errors are one line naming file and key."""
    path = Path(path)
    where = str(path)
    data, _ = read_toml_file(path, kind="calibration", error=CalibrationError)
    try:
        spec = CalibrationFile.model_validate(data)
    except ValidationError as exc:
        message, key = first_error(exc)
        raise CalibrationError(where, message, key=key) from None
    if not spec.ranges:
        raise CalibrationError(where, "expected at least one parameter range", key="ranges")
    sections, integers = {}, set()
    for name, (low, high) in spec.ranges.items():
        if name in Parameters.model_fields:
            sections[name], field = "parameters", Parameters.model_fields[name]
        elif name in Rules.model_fields:
            sections[name], field = "rules", Rules.model_fields[name]
        else:
            raise CalibrationError(
                where,
                "not a [parameters] or [rules] key of a scenario (see docs/scenarios.md)",
                key=f"ranges.{name}",
            )
        if field.annotation is bool or field.annotation is str:
            raise CalibrationError(where, "only numeric parameters can be calibrated", key=f"ranges.{name}")
        if not low < high:
            raise CalibrationError(
                where,
                f"range [{low}, {high}] is empty; give [low, high] with low < high",
                key=f"ranges.{name}",
            )
        if field.annotation is int:
            integers.add(name)
    scenario = (path.parent / spec.scenario).resolve()
    try:
        for point in (_corner(spec, integers, 0), _corner(spec, integers, 1)):
            load_scenario(scenario, overrides=overrides_for(point, sections))
    except InputError as exc:
        raise CalibrationError(
            where, f"the range ends do not give a valid scenario: {exc}", key="ranges"
        ) from None
    return Calibration(path, spec, scenario, sections, frozenset(integers), _digest(spec))


def _corner(spec: CalibrationFile, integers: set[str], end: int) -> dict[str, float]:
    return {k: (int(v[end]) if k in integers else float(v[end])) for k, v in spec.ranges.items()}


def overrides_for(point: dict[str, float], sections: dict[str, str]) -> dict[str, dict[str, float]]:
    """Turn a flat parameter point into scenario overrides by section."""
    out: dict[str, dict[str, float]] = {}
    for name, value in point.items():
        out.setdefault(sections[name], {})[name] = value
    return out


def sample_points(calibration: Calibration) -> list[dict[str, float]]:
    """Return the Latin hypercube points, scaled to the ranges; integers rounded."""
    spec = calibration.spec
    names = list(spec.ranges)
    unit = qmc.LatinHypercube(d=len(names), seed=np.random.default_rng(spec.base_seed)).random(spec.samples)
    low = np.array([spec.ranges[n][0] for n in names])
    high = np.array([spec.ranges[n][1] for n in names])
    points = []
    for row in low + unit * (high - low):
        point = {}
        for name, value in zip(names, row, strict=True):
            point[name] = int(round(value)) if name in calibration.integers else round(float(value), 6)
        points.append(point)
    return points


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
            for line in path.read_text().splitlines():
                entry = json.loads(line)
                if entry.get("digest") == digest:
                    self.done[entry["key"]] = entry
        elif path.exists():
            path.unlink()
        self.digest = digest

    def add(self, key: str, entry: dict[str, Any]) -> None:
        entry = {"digest": self.digest, "key": key, **entry}
        self.done[key] = entry
        with self.path.open("a") as handle:
            handle.write(json.dumps(entry) + "\n")
            handle.flush()


def _stage(
    calibration: Calibration,
    journal: _Journal,
    stage: str,
    points: list[tuple[int, dict[str, float]]],
    seeds: list[int],
    workers: int,
    progress: Callable[[int], None] | None,
) -> pd.DataFrame:
    todo = [(k, p) for k, p in points if f"{stage}:{k}" not in journal.done]
    if progress:
        progress(len(seeds) * (len(points) - len(todo)))
    tasks = [(str(calibration.scenario), overrides_for(p, calibration.sections), seeds) for _, p in todo]

    def keep(j: int, rows: list[dict[str, Any]]) -> None:
        k, point = todo[j]
        journal.add(f"{stage}:{k}", {"point": k, "params": point, **summarise_point(rows)})

    run_tasks(tasks, workers=workers, progress=progress, on_result=keep)
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
        for name, (low, high) in self.calibration.spec.ranges.items():
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
    progress: Callable[[int], None] | None = None,
) -> CalibrationResult:
    """Run the three-stage search; results go to ``out_dir`` as they finish."""
    spec = calibration.spec
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    journal = _Journal(out / "journal.jsonl", calibration.digest, resume)
    points = sample_points(calibration)
    search_seeds = derive_seeds(spec.base_seed, spec.seeds)
    search = _stage(calibration, journal, "search", list(enumerate(points)), search_seeds, workers, progress)
    search.to_csv(out / "search.csv", index=False)

    n_accept = max(1, int(round(spec.accept * len(search))))
    ranked = search.sort_values(["distance", "point"], kind="stable")
    accepted = ranked.head(n_accept)
    top = ranked.head(min(spec.refine_top, len(ranked)))
    # Fresh seeds: the children after the search seeds in the same stream, never reused.
    fresh = derive_seeds(spec.base_seed, spec.seeds + spec.refine_seeds)[spec.seeds :]
    refined = _stage(
        calibration,
        journal,
        "refine",
        [(int(k), points[int(k)]) for k in top["point"]],
        fresh,
        workers,
        progress,
    )
    refined = refined.sort_values(
        ["passing", "distance", "point"], ascending=[False, True, True], kind="stable"
    )
    refined.to_csv(out / "refine.csv", index=False)
    best = int(refined.iloc[0]["point"])
    chosen = points[best]
    result = CalibrationResult(calibration, search, accepted, refined, chosen)
    result.posterior().to_csv(out / "posterior.csv", index=False)
    (out / "chosen.json").write_text(json.dumps({"point": best, "values": chosen}, indent=2) + "\n")
    return result


def total_runs(calibration: Calibration) -> int:
    """Seed-judgements the search makes (each is two model runs)."""
    spec = calibration.spec
    return spec.samples * spec.seeds + min(spec.refine_top, spec.samples) * spec.refine_seeds


def format_result(result: CalibrationResult) -> str:
    """Return the summary printed by ``sco-sim calibrate``."""
    spec = result.calibration.spec
    best = result.refined.iloc[0]
    lines = [
        f"Calibration of {result.calibration.scenario.name}: {spec.samples} Latin hypercube points x "
        f"{spec.seeds} seeds; {len(result.accepted)} accepted (ABC, nearest {spec.accept:.0%}); "
        f"best {len(result.refined)} re-judged on {spec.refine_seeds} fresh seeds",
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

    Each ``name = value`` line of the right table gets the new value; a missing key
    is added at the end of its table. ``note`` becomes a comment above the table.
    """
    path = calibration.scenario
    lines = path.read_text().splitlines()
    section = None
    seen: set[str] = set()
    for i, line in enumerate(lines):
        header = re.match(r"^\[([A-Za-z_.]+)\]\s*(#.*)?$", line)
        if header:
            section = header.group(1)
            continue
        match = re.match(r"^([A-Za-z_]+)(\s*=\s*)([^#]*?)(\s*#.*)?$", line)
        if (
            match
            and section in ("parameters", "rules")
            and calibration.sections.get(match.group(1)) == section
        ):
            name = match.group(1)
            comment = match.group(4) or ""
            lines[i] = f"{name}{match.group(2)}{_toml_value(chosen[name])}{comment}"
            seen.add(name)
    for name in chosen:
        if name not in seen:
            header_at = lines.index(f"[{calibration.sections[name]}]")
            end = header_at + 1
            while end < len(lines) and lines[end].strip() and not lines[end].startswith("["):
                end += 1
            lines.insert(end, f"{name} = {_toml_value(chosen[name])}")
    for table in ("parameters", "rules"):
        at = lines.index(f"[{table}]")
        marker = f"# {note}"
        if lines[at - 1] != marker:
            lines.insert(at, marker)
    path.write_text("\n".join(lines) + "\n")
    return path


def _toml_value(value: float) -> str:
    return str(int(value)) if isinstance(value, int) else repr(float(value))
