"""The run ``sco-sim narrate`` tells: a run folder of ``sco-sim run``, or one run of a batch.

:func:`load_run` reads the tables of one run, from either kind of folder:

- a run folder written by ``sco-sim run --out DIR`` (``model``, ``states``, ``decisions``
  and, unless ``--no-texts`` was given, ``texts``, as Parquet or CSV, and ``summary.json``);
- a results folder of ``sco-sim batch`` (``manifest.json``), of which ``run`` picks one run
  by its id. Where the batch did not keep the ``texts`` table, the run is rerun from its
  stored scenario and seed (:func:`sim.experiments.rerun.rerun`), and its texts are used
  only if the rerun reproduces the stored tables.

:func:`narrate_folder` then tells the summits with :func:`sim.model.narrative.narrate`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from sim.errors import NarrateError
from sim.experiments.rerun import rerun
from sim.experiments.store import MANIFEST, TEXTS, id_columns, load_results
from sim.model.narrative import narrate

RUN_TABLES = ("model", "states", "decisions")
SHOWN_IDS = 5  # run ids listed when --run is missing or unknown


@dataclass
class RunRecord:
    """One run's tables, a line naming the run, and notes on where the tables came from."""

    tables: dict[str, pd.DataFrame] = field(repr=False)
    title: str
    notes: list[str] = field(default_factory=list)

    def narrate(self, year: int | None = None, where: str = "") -> str:
        """Tell the run's summits (every year, or only ``year``)."""
        return narrate(self.tables, year, where=where)


def narrate_folder(folder: str | Path, run: str | None = None, year: int | None = None) -> str:
    """Return the narrative of one run of ``folder``: its title, notes, then the summits."""
    record = load_run(folder, run)
    body = record.narrate(year, where=str(folder))
    return "\n".join([record.title, *(f"note: {note}" for note in record.notes), "", body])


def load_run(folder: str | Path, run: str | None = None) -> RunRecord:
    """Read one run's tables from a run folder or (``run`` = its id) a batch's results folder.

    Raises:
        NarrateError: the folder is neither, the run id is missing or unknown, or the run failed.

    """
    path = Path(folder)
    if not path.is_dir():
        what = "is a file, not a folder" if path.exists() else "does not exist"
        raise NarrateError(str(folder), f"{what}; expected a run folder of `sco-sim run --out DIR` "
                           "or a results folder of `sco-sim batch`")  # fmt: skip
    if (path / MANIFEST).is_file():
        return _batch_run(path, run)
    if any((path / f"decisions.{ext}").is_file() for ext in ("parquet", "csv")):
        if run is not None:
            raise NarrateError(str(folder), "is the folder of a single run; --run picks a run of a "
                               "batch's results folder", key="--run")  # fmt: skip
        return _single_run(path)
    raise NarrateError(str(folder), "is neither a run folder (no decisions.parquet or decisions.csv) nor "
                       "a results folder (no manifest.json); give the --out folder of `sco-sim run` "
                       "or of `sco-sim batch`")  # fmt: skip


def _single_run(path: Path) -> RunRecord:
    """The tables of a run folder (Parquet where present, else CSV) and its summary's title."""
    tables: dict[str, pd.DataFrame] = {}
    for name in (*RUN_TABLES, TEXTS):
        frame = _read_table(path, name)
        if frame is not None:
            tables[name] = frame
        elif name == "decisions":
            raise NarrateError(str(path), f"has no readable {name} table")
    title = f"Run in {path}"
    try:
        summary = json.loads((path / "summary.json").read_text(encoding="utf-8"))
        title = f"Run of {summary['scenario']}, seed {summary['seed']}, {summary['years']} ({path})"
    except (OSError, ValueError, KeyError, TypeError):
        pass
    notes = [] if TEXTS in tables else [
        "this run folder has no texts table (sco-sim run --no-texts): the losses, tolerances and "
        "redrafts are not told"
    ]  # fmt: skip
    return RunRecord(tables, title, notes)


def _read_table(path: Path, name: str) -> pd.DataFrame | None:
    """Read ``name`` from a run folder: Parquet, else CSV (empty cells of text columns as "")."""
    try:
        if (path / f"{name}.parquet").is_file():
            return pd.read_parquet(path / f"{name}.parquet")
        if (path / f"{name}.csv").is_file():
            frame = pd.read_csv(path / f"{name}.csv")
            text = frame.select_dtypes(exclude="number").columns
            frame[text] = frame[text].fillna("")
            return frame
    except (OSError, ValueError) as exc:
        raise NarrateError(str(path), f"has an unreadable {name} table ({exc})") from None
    return None


def _batch_run(path: Path, run: str | None) -> RunRecord:
    """One run of a batch's results folder; its texts rebuilt by a rerun if the batch kept none."""
    results = load_results(path)
    summaries = results.summaries
    ids = list(summaries["run_id"]) if len(summaries) else []
    if run is None:
        if len(ids) != 1:
            raise NarrateError(str(path), f"holds {len(ids)} runs; choose one with --run ID"
                               f"{_examples(summaries)}", key="--run")  # fmt: skip
        run = str(ids[0])
    match = summaries[summaries["run_id"] == run] if len(summaries) else summaries
    if not len(match):
        raise NarrateError(str(path), f"no run with id '{run}' is stored here{_examples(summaries)}",
                           key="--run")  # fmt: skip
    row = match.iloc[0]
    if row.get("status", "ok") != "ok":
        raise NarrateError(str(path), f"run '{run}' failed ({row.get('error', 'no error stored')}); "
                           "there is nothing to tell", key="--run")  # fmt: skip
    draw = f"posterior draw {int(row['draw'])}, " if pd.notna(row.get("draw")) else ""
    title = (f"Run {run} of {path}: arm {row['arm']}, point {int(row['point'])}, {draw}"
             f"replication {int(row['replication'])}, seed {int(row['seed'])}")  # fmt: skip
    stored = [TEXTS, *RUN_TABLES] if TEXTS in results.tables else list(RUN_TABLES)
    tables = {name: _one_run(results.tables[name], run) for name in stored}
    if TEXTS in tables:
        return RunRecord(tables, title)
    report = rerun(run, path)
    if report.identical:
        tables[TEXTS] = report.result.tables[TEXTS]
        return RunRecord(tables, title, ["the batch kept no texts table: rebuilt by rerunning the run, "
                                         "which reproduced the stored tables"])  # fmt: skip
    return RunRecord(tables, title, [
        f"the batch kept no texts table, and rerunning the run did not reproduce the stored "
        f"{', '.join(report.differing)} (the code changed since?): the losses, tolerances and "
        "redrafts are not told"
    ])  # fmt: skip


def _one_run(frame: pd.DataFrame, run: str) -> pd.DataFrame:
    """The rows of one run, without the id columns."""
    rows = frame[frame["run_id"] == run]
    return rows.drop(columns=[c for c in id_columns(draws=True) if c in rows.columns]).reset_index(drop=True)


def _examples(summaries: pd.DataFrame) -> str:
    """``(for example 1a2b... (arm sco8, seed 3), ...)``: a few stored run ids."""
    if not len(summaries):
        return ""
    shown = [f"{r['run_id']} (arm {r['arm']}, seed {int(r['seed'])})" for _, r in
             summaries.head(SHOWN_IDS).iterrows()]  # fmt: skip
    more = f" and {len(summaries) - SHOWN_IDS} more" if len(summaries) > SHOWN_IDS else ""
    return f" (for example {', '.join(shown)}{more})"
