"""The result store: a folder per experiment, tidy Parquet tables written as runs finish.

Layout of a results folder::

    manifest.json            experiment, its hash, seeds, versions, git revision, times, failures
    experiment.toml          a copy of the experiment file as it was run
    scenarios/ARM-POINT.json the resolved scenario of every arm and sweep point (for rerun);
                             ARM-POINT-drawD.json at each posterior draw D of a [posterior] batch
    model/part-000001.parquet     yearly model figures of many runs
    states/part-000001.parquet    yearly state figures
    decisions/part-000001.parquet decision logs
    texts/part-000001.parquet     texts tabled, member by member (only with ``texts = true``)
    summaries/part-000001.parquet one row per finished run: ids, status, metrics
    failures/part-000001.parquet  one row per failed run: ids and the error
    parts.jsonl              one line per part written: rows, bytes, SHA-256 (:mod:`.parts`)
    .lock                    locked by the process writing into the folder (:mod:`.lock`)
    damaged/STAMP/...        chunks that ``--resume`` found damaged or incomplete, set aside

Parts are written atomically (temporary file, then a link that never replaces an existing
file) and summaries last, so an interrupted batch leaves only whole parts; a run counts as
done once its summary row is stored. Loading checks every part against the record made
when it was written and names a damaged or missing part in one line; ``--resume`` sets
such a part aside with the rest of its chunk and runs the chunk's runs again. One process
at a time writes into a results folder: :class:`ResultStore` holds the folder's lock from
opening to :meth:`ResultStore.close`. Loading sorts every table by run index, so the tables
are identical row for row whichever executor produced them.
"""

from __future__ import annotations

import errno
import json
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
from pydantic import ValidationError

from sim.errors import StoreError
from sim.experiments import parts
from sim.experiments.lock import LOCK, FolderBusy, FolderLock
from sim.experiments.manifest import (
    MANIFEST,
    check_resumable,
    now,
    read_manifest,
    resume_command,
    scenario_file,
    scenarios_hash,
    versions,
)
from sim.experiments.parts import PartProblem, part_files, part_number, part_records, read_parts
from sim.files import (
    inside,
    read_file,
    read_toml_file,
    write_bytes,
    write_json,
    write_text,
)
from sim.model.run import TablesView
from sim.scenario.messages import first_error

__all__ = [
    "DRAW",
    "ID_COLUMNS",
    "MANIFEST",
    "TABLES",
    "TEXTS",
    "PartProblem",
    "ResultStore",
    "Results",
    "check_parts",
    "id_columns",
    "load_results",
    "load_table",
    "os_reason",
    "run_tables",
    "versions",
]

TABLES = ("model", "states", "decisions", "summaries", "failures")
TEXTS = "texts"  # stored only when the experiment asks for it (``texts = true``)
ID_COLUMNS = ["run_index", "run_id", "arm", "point", "replication", "seed"]
DRAW = "draw"  # one more id column in the tables of a batch run over posterior draws ([posterior])


def id_columns(draws: bool = False) -> list[str]:
    """The id columns in front of every stored row: with ``draw`` after ``point`` in a posterior batch."""
    return [*ID_COLUMNS[:4], DRAW, *ID_COLUMNS[4:]] if draws else list(ID_COLUMNS)


def run_tables(texts: bool = False) -> tuple[str, ...]:
    """The tables stored for every finished run: ``model``, ``states``, ``decisions`` (and ``texts``)."""
    return ("model", "states", "decisions", *((TEXTS,) if texts else ()))


def os_reason(exc: OSError) -> str:
    """Say in a few words why a file could not be written."""
    return {
        errno.ENOSPC: "the disk is full",
        errno.EROFS: "the folder is on a read-only file system",
        errno.EACCES: "permission denied",
        errno.EPERM: "permission denied",
        errno.ENOTDIR: "a part of the path is a file, not a folder",
    }.get(exc.errno or 0, exc.strerror or str(exc))


def check_parts(folder: str | Path) -> list[PartProblem]:
    """Every damaged or missing part of a results folder (see :mod:`sim.experiments.parts`)."""
    return parts.check_parts(folder, (*TABLES, TEXTS))


class ResultStore:
    """Write a batch's results into a folder, part by part, holding the folder's lock.

    Opening takes the folder's lock (:mod:`sim.experiments.lock`): another store opened on
    the same folder, in this process or another, raises :class:`~sim.errors.StoreError`
    until :meth:`close` releases the lock (as does the end of the process, however it
    ends). With ``resume``, every chunk with a damaged or missing part is set aside under
    ``damaged/`` (:attr:`notes` says so) and its runs count as not done.

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
        self.notes: list[str] = []  # what opening repaired, one line each
        self.lock = FolderLock(self.folder)
        self.scenarios_hash = scenarios_hash(design)
        self._open(resume)

    @property
    def tables(self) -> tuple[str, ...]:
        """Every table this store writes parts of, in the order a chunk's parts are written."""
        return (*run_tables(self.texts), "failures", "summaries")

    # Opening --------------------------------------------------------------------
    def _open(self, resume: bool) -> None:
        fresh = self._check(resume) is None  # the refusals come first, before anything is created
        # the outermost folder this batch creates (None: --out exists, and is empty as _check saw)
        created = next((f for f in reversed((self.folder, *self.folder.parents)) if not f.exists()), None)
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            self.lock.acquire()
        except FolderBusy as busy:
            raise StoreError(
                str(self.folder),
                f"is in use by {busy.holder}; two processes writing into one results folder would lose "
                "or repeat runs, so wait for it to finish (then --resume if needed) or choose another --out",
            ) from None
        except OSError as exc:
            raise self._os_error(exc, fresh=True) from None
        try:
            self._open_locked(resume)
        except BaseException:
            if fresh:  # nothing of the user's is in what a fresh batch made: leave no half-made folder
                self.lock.release(remove=True)
                self._remove_layout(created)
            self.lock.release()
            raise

    def _check(self, resume: bool) -> dict[str, Any] | None:
        """Raise StoreError unless the folder may hold this batch; return its manifest, if it has one."""
        where = str(self.folder)
        if self.folder.exists() and not self.folder.is_dir():
            raise StoreError(where, "is a file, not a folder; choose another --out")
        if (self.folder / MANIFEST).exists():
            manifest = read_manifest(self.folder, "use another --out folder")
            check_resumable(self.folder, manifest, self.design, resume, self.scenarios_hash)
            return manifest
        if self.folder.is_dir() and any(p.name != LOCK for p in self.folder.iterdir()):
            raise StoreError(
                where, "exists and is not a results folder (no manifest.json); choose another --out"
            )
        if resume:
            raise StoreError(where, "has no stored batch to resume; run without --resume")
        return None

    def _open_locked(self, resume: bool) -> None:
        """Under the lock: check again, read what is stored, set damaged chunks aside, write the layout."""
        stored = self._check(resume)
        problems = check_parts(self.folder) if stored is not None else []
        if stored is None:
            self.manifest = self._fresh()
        else:
            self.manifest = stored
            self.manifest["scenarios_hash"] = self.scenarios_hash
            self.manifest["resumed"] = [*stored.get("resumed", []), {"at": now(), "versions": versions()}]
        self.done = self._stored_ids(skip={p.number for p in problems})
        unknown = self.done - {run.run_id for run in self.design.runs}
        if unknown:
            raise StoreError(
                str(self.folder),
                f"holds {len(unknown)} run(s) whose ids this version of sco-sim does not produce for this "
                "experiment (the code or the design changed how runs are identified); --resume would mix "
                "them with new runs, so run the experiment into another --out folder",
            )
        try:
            if problems:
                note = parts.set_aside(self.folder, problems, self.tables)
                self.notes.append(note)
                self.manifest["repairs"] = [*self.manifest.get("repairs", []), {"at": now(), "note": note}]
            self._write_layout()
        except OSError as exc:
            raise self._os_error(exc, fresh=stored is None) from None
        self._next = 1 + max(
            (part_number(p) for t in self.tables for p in part_files(self.folder, t)), default=0
        )

    def _fresh(self) -> dict[str, Any]:
        """Return the manifest of a new batch."""
        design = self.design
        return {
            "experiment": design.describe(),
            "scenarios_hash": self.scenarios_hash,
            "seeds": design.seeds,
            "versions": versions(),
            "started": now(),
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
        written: set[tuple[str, int, int | None]] = set()
        for run_spec in self.design.runs:
            cell = (run_spec.arm, run_spec.point, run_spec.draw)
            if cell in written:
                continue
            written.add(cell)
            target = inside(self.folder / "scenarios", scenario_file(*cell), StoreError)
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
        full = exc.errno == errno.ENOSPC
        if fresh or not hasattr(self, "manifest"):  # nothing stored yet
            where = "free space or choose another --out" if full else "choose another --out"
            fix = f"nothing was kept; {where}"
        else:
            fix = (
                f"finished runs already stored are kept; {'free space' if full else 'fix that'} "
                "and use --resume (or choose another --out)"
            )
        return StoreError(str(self.folder), f"cannot write results ({os_reason(exc)}); {fix}")

    def _stored_ids(self, skip: set[int]) -> set[str]:
        stored = [p for p in part_files(self.folder, "summaries") if part_number(p) not in skip]
        if not stored:
            return set()
        ids = pd.concat([pd.read_parquet(p, columns=["run_id"]) for p in stored])
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
        """Write buffered runs as one new part per table (summaries last); never replace a part."""
        if not self.buffer:
            return
        name = parts.part_name(self._next)
        try:
            for table in self.tables:
                if table in ("summaries", "failures"):
                    rows = [row for o in self.buffer for row in o[table]]
                    if not rows:
                        continue
                    frame = pd.DataFrame(rows)
                else:
                    frames = [o[table] for o in self.buffer if len(o.get(table, ()))]
                    if not frames:
                        continue
                    frame = pd.concat(frames, ignore_index=True)
                parts.write_part(self.folder, table, name, frame)
        except FileExistsError:
            raise StoreError(
                str(self.folder),
                f"a part {name} appeared while this batch was writing it: another process writes into "
                "this results folder without its lock (an older sco-sim?); stop it, then --resume",
            ) from None
        except OSError as exc:
            raise self._os_error(exc) from None
        finally:
            self._next += 1  # a number once tried is never used again
        for output in self.buffer:
            self.done.update(row["run_id"] for row in output["summaries"])
            self.n_done_now += len(output["summaries"])
            self.n_failed_now += len(output["failures"])
        self.buffer = []

    def close(self, status: str) -> None:
        """Flush, record the batch's end in the manifest and release the folder's lock."""
        try:
            self.flush()
            failures = load_table(self.folder, "failures")
            if len(failures):  # a run that failed and later succeeded (--resume) is no failure
                failures = failures[~failures["run_id"].isin(self.done)]
            self.manifest["status"] = status
            self.manifest["finished"] = now()
            self.manifest["n_done"] = len(self.done)
            self.manifest["n_failed"] = int(failures["run_id"].nunique()) if len(failures) else 0
            columns = ["run_id", "arm", *([DRAW] if DRAW in failures else []), "replication", "seed", "error"]
            self.manifest["failures"] = (
                failures.drop_duplicates("run_id", keep="last")[columns].head(50).to_dict("records")
                if len(failures)
                else []
            )
            try:
                self._write_manifest()
            except OSError as exc:
                raise self._os_error(exc) from None
        finally:
            self.lock.release()

    def _write_manifest(self) -> None:
        write_json(self.folder / MANIFEST, self.manifest, indent=2)


# Loading -------------------------------------------------------------------------


def load_table(folder: str | Path, table: str) -> pd.DataFrame:
    """Read one table of a results folder (all parts, in part order; ``_part`` holds the part number).

    Raises:
        StoreError: naming a part that is damaged or missing (see :func:`check_parts`).

    """
    folder = Path(folder)
    problems: list[PartProblem] = []
    data = read_parts(folder, table, part_records(folder), problems)
    if problems:
        raise parts.problems_error(problems, resume_command(folder, None))
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
    """Load a results folder; every table is sorted by run index (executor-independent).

    Raises:
        StoreError: the folder is not a results folder, or a part is damaged or missing
            (named in one line, with the ``--resume`` command that repairs it).

    """
    from sim.experiments.design import Experiment, parse_claims

    folder = Path(folder)
    _check_results_folder(folder)
    manifest = read_manifest(folder)
    copy, _ = read_toml_file(
        folder / "experiment.toml", kind="experiment (the copy kept in a results folder)", error=StoreError
    )
    try:
        experiment = Experiment.model_validate(copy)
    except ValidationError as exc:
        message, key = first_error(exc)
        if (key or "").endswith((".band", ".band_reason")):  # a folder from before claims had bands
            message += (
                "; add band and band_reason to each claim of this copy (docs/experiments.md, section 2)"
            )
        raise StoreError(str(folder / "experiment.toml"), message, key=key) from None
    claims = parse_claims(experiment, str(folder / "experiment.toml"))
    # Every part is checked as it is read; what is damaged or missing is named (after all
    # parts were read, with how many more there are), never silently left out.
    records = part_records(folder)
    problems: list[PartProblem] = []
    summaries = read_parts(folder, "summaries", records, problems)
    failures = read_parts(folder, "failures", records, problems)
    # texts: only in folders of batches that kept them (their texts/ folder); absent otherwise
    runs = {t: read_parts(folder, t, records, problems) for t in run_tables((folder / TEXTS).is_dir())}
    if problems:
        raise parts.problems_error(problems, resume_command(folder, manifest))
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
    for table, frame in runs.items():
        if len(frame):
            last_part = summaries.set_index("run_id")["_part"] if len(summaries) else pd.Series(dtype=int)
            frame = frame[frame["run_id"].isin(ok_ids)]
            # keep rows from the part that holds the run's summary (drops half-written duplicates)
            frame = frame[frame["_part"].to_numpy() == frame["run_id"].map(last_part).to_numpy()]
        tables[table] = _tidy(frame, table)
    return Results(folder, manifest, experiment, claims, tables)


def _check_results_folder(folder: Path) -> None:
    """Raise StoreError in one line unless ``folder`` is a folder holding a manifest (a file says so)."""
    where = str(folder)
    if folder.exists() and not folder.is_dir():
        raise StoreError(where, "expected a results folder (written by `sco-sim batch`), got a file")
    if not folder.exists():
        raise StoreError(where, "does not exist; expected a results folder (written by `sco-sim batch`)")
    if not (folder / MANIFEST).is_file():
        raise StoreError(where, "is not a results folder (no manifest.json); run `sco-sim batch` first")


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
