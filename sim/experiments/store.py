"""The result store: a folder per experiment, tidy Parquet tables written as runs finish.

Layout of a results folder::

    manifest.json            experiment, its hash, seeds, versions, git revision, times, failures
    experiment.toml          a copy of the experiment file as it was run
    scenarios/ARM-POINT.json the resolved scenario of every arm and sweep point (for rerun)
    model/part-000001.parquet     yearly model figures of many runs
    states/part-000001.parquet    yearly state figures
    decisions/part-000001.parquet decision logs
    texts/part-000001.parquet     texts tabled, member by member (only with ``texts = true``)
    summaries/part-000001.parquet one row per finished run: ids, status, metrics
    failures/part-000001.parquet  one row per failed run: ids and the error

Parts are written atomically (temporary file, then rename) and summaries last,
so an interrupted batch leaves only whole parts; a run counts as done once its
summary row is stored. Loading sorts every table by run index, so the tables
are identical row for row whichever executor produced them.
"""

from __future__ import annotations

import errno
import json
import platform
import shutil
import subprocess
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd

from sim.errors import StoreError
from sim.files import (
    atomic_write,
    inside,
    read_file,
    read_json,
    read_toml_file,
    write_bytes,
    write_json,
    write_text,
)
from sim.model.run import TablesView
from sim.version import __version__

TABLES = ("model", "states", "decisions", "summaries", "failures")
TEXTS = "texts"  # stored only when the experiment asks for it (``texts = true``)
ID_COLUMNS = ["run_index", "run_id", "arm", "point", "replication", "seed"]
MANIFEST = "manifest.json"


def run_tables(texts: bool = False) -> tuple[str, ...]:
    """The tables stored for every finished run: ``model``, ``states``, ``decisions`` (and ``texts``)."""
    return ("model", "states", "decisions", *((TEXTS,) if texts else ()))


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _git_revision() -> str:
    try:
        root = Path(__file__).resolve().parents[2]
        out = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True, timeout=5
        )
        if out.returncode == 0:
            dirty = subprocess.run(
                ["git", "status", "--porcelain", "--untracked-files=no"],
                cwd=root,
                capture_output=True,
                text=True,
                timeout=5,
            )
            return out.stdout.strip() + ("-dirty" if dirty.stdout.strip() else "")
    except (OSError, subprocess.SubprocessError):
        pass
    return "unknown"


def versions() -> dict[str, str]:
    """Versions of Python, Mesa, numpy, pandas and sco-sim, and the git revision."""
    import mesa
    import numpy

    return {
        "python": platform.python_version(),
        "mesa": mesa.__version__,
        "numpy": numpy.__version__,
        "pandas": pd.__version__,
        "sco_sim": __version__,
        "git_revision": _git_revision(),
    }


class ResultStore:
    """Write a batch's results into a folder, part by part.

    Args:
        folder: The results folder.
        design: The experiment design (see :func:`sim.experiment.load_experiment`).
        resume: Continue a batch stored in ``folder`` (runs only what is missing).
        flush_every: Finished runs kept in memory before a part is written (1: write every
            chunk as it arrives, so a crash loses no finished run).

    """

    def __init__(self, folder: str | Path, design: Any, resume: bool = False, flush_every: int = 1) -> None:
        self.folder = Path(folder)
        self.design = design
        self.texts = bool(getattr(design.experiment, "texts", False))
        self.flush_every = flush_every
        self.buffer: list[dict[str, Any]] = []
        self.n_failed_now = 0
        self.n_done_now = 0
        self._open(resume)

    # Opening --------------------------------------------------------------------
    def _open(self, resume: bool) -> None:
        fresh = not (self.folder / MANIFEST).exists()
        if not fresh:
            self.manifest = self._resumed(_read_manifest(self.folder, "use another --out folder"), resume)
        else:
            self.manifest = self._fresh(resume)
        # the outermost folder this batch creates (None: --out exists, and is empty as _fresh checked)
        created = next((f for f in reversed((self.folder, *self.folder.parents)) if not f.exists()), None)
        try:
            self._write_layout()
        except BaseException as exc:
            if fresh:  # no half-made folder is left to block the next attempt
                self._remove_layout(created)
            if isinstance(exc, OSError):
                raise self._os_error(exc, fresh) from None
            raise
        self.done = self._stored_ids()
        unknown = self.done - {run.run_id for run in self.design.runs}
        if unknown:
            raise StoreError(
                str(self.folder),
                f"holds {len(unknown)} run(s) whose ids this version of sco-sim does not produce for this "
                "experiment (the code or the design changed how runs are identified); --resume would mix "
                "them with new runs, so run the experiment into another --out folder",
            )

    def _resumed(self, manifest: dict[str, Any], resume: bool) -> dict[str, Any]:
        """Check that a stored manifest may be resumed with this design; note the resumption."""
        where, design = str(self.folder), self.design
        stored_name = manifest.get("experiment", {}).get("name")
        if stored_name != design.experiment.name:
            raise StoreError(
                where,
                f"holds results of experiment '{stored_name}', "
                f"not '{design.experiment.name}'; choose another --out folder",
            )
        if not resume:
            raise StoreError(
                where,
                "already holds results of this experiment; add --resume to complete them, "
                "or choose another --out folder",
            )
        if manifest.get("experiment", {}).get("hash") != design.file_hash:
            raise StoreError(
                where,
                "the experiment (its file, or --replications) has changed since this batch started, "
                "so --resume would mix two designs; resume with the same file and options, "
                "or run the new design into another --out folder",
            )
        if bool(manifest.get("experiment", {}).get("texts", False)) != self.texts:
            # the hash covers the file; this also catches a design whose texts was changed in Python
            raise StoreError(
                where,
                f"this batch was started with texts = {str(not self.texts).lower()}, so --resume with "
                f"texts = {str(self.texts).lower()} would store the texts table for only some runs; "
                "resume with the same setting, or run into another --out folder",
            )
        manifest["resumed"] = [*manifest.get("resumed", []), {"at": _now(), "versions": versions()}]
        return manifest

    def _fresh(self, resume: bool) -> dict[str, Any]:
        """Return the manifest of a new batch, after checking the folder may hold it."""
        where, design = str(self.folder), self.design
        if self.folder.exists() and any(self.folder.iterdir()):
            raise StoreError(
                where, "exists and is not a results folder (no manifest.json); choose another --out"
            )
        if resume:
            raise StoreError(where, "has no stored batch to resume; run without --resume")
        return {
            "experiment": design.describe(),
            "seeds": design.seeds,
            "versions": versions(),
            "started": _now(),
            "finished": None,
            "status": "running",
            "n_runs": len(design.runs),
            "tables": list(run_tables(self.texts)),
        }

    def _write_layout(self) -> None:
        """Create the table folders; write the experiment copy, every resolved scenario, the manifest."""
        self.folder.mkdir(parents=True, exist_ok=True)
        for table in (*TABLES, *((TEXTS,) if self.texts else ())):
            (self.folder / table).mkdir(exist_ok=True)
        (self.folder / "scenarios").mkdir(exist_ok=True)
        if not (self.folder / "experiment.toml").exists():
            copy = read_file(self.design.path, StoreError, "the experiment file")
            write_bytes(self.folder / "experiment.toml", copy)
        written: set[tuple[str, int]] = set()
        for run_spec in self.design.runs:
            if (run_spec.arm, run_spec.point) in written:
                continue
            written.add((run_spec.arm, run_spec.point))
            target = inside(self.folder / "scenarios", f"{run_spec.arm}-{run_spec.point}.json", StoreError)
            if not target.exists():
                write_text(target, json.dumps(run_spec.scenario.to_dict(), indent=1, sort_keys=False))
        self._write_manifest()

    def _remove_layout(self, created: Path | None) -> None:
        """Remove what a fresh batch wrote before it failed (and the folders it made)."""
        if created is not None:
            shutil.rmtree(created, ignore_errors=True)
            return
        for child in self.folder.iterdir() if self.folder.is_dir() else ():  # the folder was empty
            if child.is_dir() and not child.is_symlink():
                shutil.rmtree(child, ignore_errors=True)
            else:
                child.unlink(missing_ok=True)

    def _os_error(self, exc: OSError, fresh: bool = False) -> StoreError:
        reason = {
            errno.ENOSPC: "the disk is full",
            errno.EROFS: "the folder is on a read-only file system",
            errno.EACCES: "permission denied",
            errno.EPERM: "permission denied",
        }.get(exc.errno or 0, exc.strerror or str(exc))
        if fresh:
            return StoreError(str(self.folder), f"cannot write results ({reason}); nothing was kept; "
                              "free space or choose another --out")  # fmt: skip
        return StoreError(
            str(self.folder),
            f"cannot write results ({reason}); finished runs already stored are kept; "
            "free space or choose another --out, then use --resume",
        )

    def _stored_ids(self) -> set[str]:
        parts = sorted((self.folder / "summaries").glob("part-*.parquet"))
        if not parts:
            return set()
        ids = pd.concat([pd.read_parquet(p, columns=["run_id"]) for p in parts])
        return set(ids["run_id"])

    # Writing ----------------------------------------------------------------------
    def missing(self, runs: list[Any]) -> list[Any]:
        """Return the runs whose results are not stored yet."""
        return [run for run in runs if run.run_id not in self.done]

    def add(self, output: dict[str, Any]) -> None:
        """Add one chunk's output (tables and summaries); write a part when enough have come."""
        self.buffer.append(output)
        if sum(len(o["summaries"]) + len(o["failures"]) for o in self.buffer) >= self.flush_every:
            self.flush()

    def flush(self) -> None:
        """Write buffered runs as one new part per table (summaries last)."""
        if not self.buffer:
            return
        number = 1 + max(
            (int(p.stem.split("-")[1]) for p in (self.folder / "summaries").glob("part-*.parquet")),
            default=0,
        )
        number = max(number, 1 + max(
            (int(p.stem.split("-")[1]) for p in (self.folder / "failures").glob("part-*.parquet")), default=0
        ))  # fmt: skip
        name = f"part-{number:06d}.parquet"
        try:
            for table in (*run_tables(self.texts), "failures", "summaries"):
                frames = [o[table] for o in self.buffer if len(o.get(table, ()))]
                if table in ("summaries", "failures"):
                    rows = [row for o in self.buffer for row in o[table]]
                    if not rows:
                        continue
                    frame = pd.DataFrame(rows)
                else:
                    if not frames:
                        continue
                    frame = pd.concat(frames, ignore_index=True)
                atomic_write(self.folder / table / name, lambda tmp, f=frame: f.to_parquet(tmp, index=False))
        except OSError as exc:
            raise self._os_error(exc) from None
        for output in self.buffer:
            self.done.update(row["run_id"] for row in output["summaries"])
            self.n_done_now += len(output["summaries"])
            self.n_failed_now += len(output["failures"])
        self.buffer = []

    def close(self, status: str) -> None:
        """Flush and record the batch's end in the manifest."""
        self.flush()
        failures = load_table(self.folder, "failures")
        if len(failures):  # a run that failed and later succeeded (--resume) is no failure
            failures = failures[~failures["run_id"].isin(self.done)]
        self.manifest["status"] = status
        self.manifest["finished"] = _now()
        self.manifest["n_done"] = len(self.done)
        self.manifest["n_failed"] = int(failures["run_id"].nunique()) if len(failures) else 0
        self.manifest["failures"] = (
            failures.drop_duplicates("run_id", keep="last")[["run_id", "arm", "replication", "seed", "error"]]
            .head(50)
            .to_dict("records")
            if len(failures)
            else []
        )
        try:
            self._write_manifest()
        except OSError as exc:
            raise self._os_error(exc) from None

    def _write_manifest(self) -> None:
        write_json(self.folder / MANIFEST, self.manifest, indent=2)


# Loading -------------------------------------------------------------------------


def _read_manifest(folder: Path, advice: str = "") -> dict[str, Any]:
    """Read a results folder's manifest, or raise StoreError in one line."""
    try:
        manifest = read_json(folder / MANIFEST, StoreError, "the manifest of a results folder")
    except StoreError as exc:
        raise StoreError(str(folder), f"has an unreadable manifest.json ({exc.message})"
                         + (f"; {advice}" if advice else "")) from None  # fmt: skip
    if not isinstance(manifest, dict):
        raise StoreError(str(folder), "has a manifest.json that is not a JSON object")
    return manifest


def load_table(folder: str | Path, table: str) -> pd.DataFrame:
    """Read one table of a results folder (all parts, in part order; ``_part`` holds the part number)."""
    parts = sorted((Path(folder) / table).glob("part-*.parquet"))
    if not parts:
        return pd.DataFrame()
    frames = []
    for part in parts:
        frame = pd.read_parquet(part)
        frame["_part"] = int(part.stem.split("-")[1])
        frames.append(frame)
    data = pd.concat(frames, ignore_index=True)
    return data


@dataclass
class Results(TablesView):
    """A results folder loaded back: DataFrames, the manifest and the experiment."""

    folder: Path
    manifest: dict[str, Any]
    experiment: Any
    claims: list[Any]
    tables: dict[str, pd.DataFrame] = field(repr=False)

    @property
    def texts(self) -> pd.DataFrame:
        """Every text tabled, member by member, of every finished run (only if the batch kept them)."""
        if TEXTS not in self.tables:
            raise KeyError(
                f"{self.folder} holds no texts table: the batch ran without texts = true in its "
                "experiment file (`sco-sim rerun RUN_ID --results ... --out DIR` writes one run's texts)"
            )
        return self.tables[TEXTS]

    @property
    def summaries(self) -> pd.DataFrame:
        """One row per run (finished or failed): ids, status, error and metrics."""
        return self.tables["summaries"]

    @property
    def arms(self) -> list[str]:
        """Arm names in the experiment's order."""
        return list(self.experiment.arms)


def load_results(folder: str | Path) -> Results:
    """Load a results folder; every table is sorted by run index (executor-independent)."""
    from sim.experiments.design import Experiment, parse_claims

    folder = Path(folder)
    where = str(folder)
    if not (folder / MANIFEST).is_file():
        raise StoreError(where, "is not a results folder (no manifest.json); run `sco-sim batch` first")
    manifest = _read_manifest(folder)
    copy, _ = read_toml_file(
        folder / "experiment.toml", kind="experiment (the copy kept in a results folder)", error=StoreError
    )
    try:
        experiment = Experiment.model_validate(copy)
    except ValueError as exc:
        raise StoreError(where, f"has an unreadable experiment.toml ({exc})") from None
    claims = parse_claims(experiment, str(folder / "experiment.toml"))
    summaries = load_table(folder, "summaries")
    failures = load_table(folder, "failures")
    ok_ids: set[str] = set()
    if len(summaries):
        # A run stored twice (a crash between parts, then --resume) keeps its last copy.
        summaries = summaries.sort_values("_part").drop_duplicates("run_id", keep="last")
        ok_ids = set(summaries["run_id"])
    if len(failures):
        failures = failures.sort_values("_part").drop_duplicates("run_id", keep="last")
        failures = failures[~failures["run_id"].isin(ok_ids)]
        failures = failures.assign(status="failed")
    combined = pd.concat([s for s in (summaries, failures) if len(s)], ignore_index=True) if (
        len(summaries) or len(failures)
    ) else pd.DataFrame(columns=[*ID_COLUMNS, "status"])  # fmt: skip
    tables: dict[str, pd.DataFrame] = {"summaries": _tidy(combined, None)}
    # texts: only in folders of batches that kept them (their texts/ folder); absent otherwise
    for table in run_tables((folder / TEXTS).is_dir()):
        frame = load_table(folder, table)
        if len(frame):
            last_part = summaries.set_index("run_id")["_part"] if len(summaries) else pd.Series(dtype=int)
            frame = frame[frame["run_id"].isin(ok_ids)]
            # keep rows from the part that holds the run's summary (drops half-written duplicates)
            frame = frame[frame["_part"].to_numpy() == frame["run_id"].map(last_part).to_numpy()]
        tables[table] = _tidy(frame, table)
    return Results(folder, manifest, experiment, claims, tables)


def _tidy(frame: pd.DataFrame, table: str | None) -> pd.DataFrame:
    if not len(frame):
        return frame
    frame = frame.drop(columns=["_part"], errors="ignore")
    order = ["run_index"]
    if table in ("model", "states", "decisions"):
        order.append("year")
    if table == "states":
        order.append("state")
    if table == "decisions":
        order.append("item")
    return frame.sort_values(order, kind="stable").reset_index(drop=True)
