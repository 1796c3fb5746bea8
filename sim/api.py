"""The Python API: the command line's operations for notebooks and scripts.

>>> import sim
>>> scenario = sim.load_scenario("scenarios/history_1996.toml")
>>> result = sim.run(scenario, seed=7)
>>> result.decisions.head()        # pandas DataFrames: .model, .states, .decisions
>>> result.summary()
>>> result.write("results/history")  # CSV + Parquet + chart, as `sco-sim run` does
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sim.errors import TablesView
from sim.model import SCOModel
from sim.scenario import Scenario, load_scenario

TABLES = ("model", "states", "decisions")


@dataclass
class RunResult(TablesView):
    """The outcome of one seeded run: the three tables and what produced them."""

    scenario: Scenario
    seed: int
    until: int
    tables: dict[str, pd.DataFrame] = field(repr=False)

    def summary(self) -> dict[str, Any]:
        """Return headline figures of the run (see :func:`summarise`)."""
        return summarise(self)

    def write(self, out_dir: str | Path, chart: bool = True) -> list[Path]:
        """Write the tables (CSV and Parquet), a summary and the run chart to ``out_dir``."""
        return write_run(self, out_dir, chart=chart)


def run(scenario: Scenario | str | Path, seed: int = 0, until: int | None = None) -> RunResult:
    """Build the model from a scenario, run it with ``seed`` and return its tables.

    Args:
        scenario: A loaded scenario or the path of a scenario file.
        seed: Non-negative integer seed; the same scenario and seed give the same tables.
        until: Last year to simulate (default: the scenario's end year).

    """
    if not isinstance(scenario, Scenario):
        scenario = load_scenario(scenario)
    model = SCOModel(scenario, rng=seed, until=until)
    model.run()
    tables = model.tables()
    model.release()
    return RunResult(scenario=scenario, seed=seed, until=model.end_year, tables=tables)


def summarise(result: RunResult) -> dict[str, Any]:
    """Headline figures: consensus rate, outcome counts, members at the end, balancing index."""
    decisions = result.decisions
    policy = decisions[decisions["origin"] != "membership"]
    counts = policy["outcome"].value_counts()
    model = result.model
    last = result.states[result.states["year"] == result.states["year"].max()]
    n = len(policy)
    agreed = int((policy["adopted"].notna() & (policy["objectors"] == "")).sum())
    return {
        "scenario": result.scenario.name,
        "seed": result.seed,
        "years": f"{result.scenario.start_year}-{result.until}",
        "rule": result.scenario.rules.decision_rule,
        "items": n,
        "consensus_rate": agreed / n if n else float("nan"),
        "adopted": int(counts.get("adopted", 0)),
        "adopted_opt_out": int(counts.get("adopted_opt_out", 0)),
        "diluted": int(counts.get("diluted", 0)),
        "blocked": int(counts.get("blocked", 0)),
        "deferred": int(counts.get("deferred", 0)),
        "members_at_end": sorted(last.loc[last["status"] == "member", "state"].tolist()),
        "focal_state": result.scenario.focal_state,
        "balancing_index_start": float(model["balancing_index"].iloc[0]),
        "balancing_index_end": float(model["balancing_index"].iloc[-1]),
    }


def _atomic_write(path: Path, writer: Any) -> None:
    """Write through a temporary file in the same folder, then rename: no half files."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    try:
        writer(tmp)
        os.chmod(tmp, 0o644)  # mkstemp creates 0600; results are meant to be shared
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_run(result: RunResult, out_dir: str | Path, chart: bool = True) -> list[Path]:
    """Write ``model``, ``states`` and ``decisions`` as CSV and Parquet, plus chart and summary.

    Files are written atomically, so an interrupted write never leaves a truncated table.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    for name in TABLES:
        frame = result.tables[name]
        csv_path = out / f"{name}.csv"
        _atomic_write(csv_path, lambda tmp, f=frame: f.to_csv(tmp, index=False, lineterminator="\n"))
        parquet_path = out / f"{name}.parquet"
        _atomic_write(parquet_path, lambda tmp, f=frame: f.to_parquet(tmp, index=False))
        written += [csv_path, parquet_path]
    summary_path = out / "summary.json"
    summary = _jsonable(result.summary())
    _atomic_write(summary_path, lambda tmp: Path(tmp).write_text(json.dumps(summary, indent=2) + "\n"))
    written.append(summary_path)
    if chart:
        from sim import plots

        chart_path = out / "outcomes.png"
        figure = plots.plot_run_outcomes(
            plots.run_outcomes_data(result.model),
            title=_chart_title(result),
            focal=result.scenario.focal_state,
        )
        _atomic_write(chart_path, lambda tmp: plots.save_png(figure, tmp))
        plots.close(figure)
        written.append(chart_path)
    return written


def _chart_title(result: RunResult) -> str:
    return (
        f"{result.scenario.name}, seed {result.seed}: outcomes per summit and "
        f"{result.scenario.focal_state}'s balancing index"
    )


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_jsonable(v) for v in value]
    if isinstance(value, float) and not np.isfinite(value):
        return None
    if isinstance(value, np.generic):
        return value.item()
    return value
