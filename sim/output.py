"""The files of one run: its tables as CSV and Parquet, a JSON summary and the outcome chart.

This is what ``sco-sim run`` writes; from Python, ``sim.write_run(result, folder)``.
"""

from __future__ import annotations

import json
from functools import partial
from pathlib import Path

import pandas as pd

from sim.charts import run as run_chart
from sim.charts import style
from sim.errors import InputError
from sim.experiments.lock import LOCK
from sim.experiments.manifest import MANIFEST
from sim.files import atomic_write, jsonable
from sim.model.run import TABLES, TEXTS, RunResult

#: every file :func:`write_run` may write
RUN_FILES = frozenset(
    {f"{name}.{ext}" for name in (*TABLES, TEXTS) for ext in ("csv", "parquet")}
    | {"summary.json", "outcomes.png"}
)


def prepare_run_folder(out_dir: str | Path, force: bool = False, clear: bool = True) -> None:
    """Check that a run may be written into ``out_dir``; with ``force``, clear an earlier run's files.

    A folder that does not exist or is empty is fine. A non-empty one is refused unless
    ``force`` (then, if ``clear``, the files an earlier run wrote are removed, so none of them
    is left beside the new run's; other files stay). A batch's results folder is always refused.

    Raises:
        InputError: one line naming the folder and what to do.

    """
    out = Path(out_dir)
    where = str(out)
    if out.exists() and not out.is_dir():
        raise InputError(where, "is a file, not a folder; choose another --out")
    if not out.is_dir():
        return
    names = sorted(p.name for p in out.iterdir())
    if not names:
        return
    if MANIFEST in names or LOCK in names:
        raise InputError(
            where,
            "is a batch's results folder; a single run is never written into one (not even with --force), "
            "so choose another --out",
        )
    if not force:
        shown = ", ".join("".join(c if c.isprintable() else "?" for c in name) for name in names[:3])
        shown += f" and {len(names) - 3} more" if len(names) > 3 else ""
        raise InputError(
            where,
            f"is not empty ({shown}); add --force to replace an earlier run's files, or choose another --out",
        )
    for name in names if clear else ():
        if name in RUN_FILES and (out / name).is_file():
            (out / name).unlink()


def write_run(result: RunResult, out_dir: str | Path, chart: bool = True) -> list[Path]:
    """Write ``model``, ``states``, ``decisions`` (and ``texts`` if the run has it) as CSV and Parquet.

    Also writes a JSON summary and, unless ``chart=False``, the outcome chart.
    Files are written atomically, so an interrupted write never leaves a truncated table.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    for name in [*TABLES, *([TEXTS] if TEXTS in result.tables else [])]:
        frame = result.tables[name]
        csv_path = out / f"{name}.csv"
        atomic_write(csv_path, partial(_write_csv, frame))
        parquet_path = out / f"{name}.parquet"
        atomic_write(parquet_path, partial(_write_parquet, frame))
        written += [csv_path, parquet_path]
    summary_path = out / "summary.json"
    summary = jsonable(result.summary())
    atomic_write(summary_path, lambda tmp: Path(tmp).write_text(json.dumps(summary, indent=2) + "\n"))
    written.append(summary_path)
    if chart:
        chart_path = out / "outcomes.png"
        figure = run_chart.plot_run_outcomes(
            run_chart.run_outcomes_data(result.model),
            title=_chart_title(result),
            focal=result.scenario.focal_state,
        )
        try:
            atomic_write(chart_path, lambda tmp: style.save(figure, tmp, "png"))
        finally:
            style.close(figure)
        written.append(chart_path)
    return written


def _chart_title(result: RunResult) -> str:
    return (
        f"{result.scenario.name}, seed {result.seed}: outcomes per summit and "
        f"{result.scenario.focal_state}'s balancing index"
    )


def _write_csv(frame: pd.DataFrame, path: str) -> None:
    frame.to_csv(path, index=False, lineterminator="\n")


def _write_parquet(frame: pd.DataFrame, path: str) -> None:
    frame.to_parquet(path, index=False)
