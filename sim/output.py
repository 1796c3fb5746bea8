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
from sim.files import atomic_write, jsonable
from sim.model.run import TABLES, TEXTS, RunResult


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
