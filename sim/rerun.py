"""``sco-sim rerun``: reproduce one stored run from its run id and check it."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from sim.api import RunResult, write_run
from sim.errors import InputError
from sim.experiment import run_id as content_id
from sim.model import SCOModel
from sim.results import ID_COLUMNS, load_results
from sim.scenario import Scenario


def rerun(run: str, folder: str | Path, out: str | Path | None = None) -> int:
    """Rerun ``run`` from ``folder``; print whether its tables equal the stored ones."""
    results = load_results(folder)
    summaries = results.summaries
    match = summaries[summaries["run_id"] == run] if len(summaries) else summaries
    if not len(match):
        raise InputError(str(folder), f"no run with id '{run}' is stored here", key="RUN_ID")
    row = match.iloc[0]
    path = Path(folder) / "scenarios" / f"{row['arm']}-{int(row['point'])}.json"
    try:
        scenario = Scenario.model_validate(json.loads(path.read_text()))
    except (OSError, ValueError) as exc:
        raise InputError(str(path), f"cannot read the stored scenario ({exc})") from None
    seed = int(row["seed"])
    if content_id(scenario, seed, str(row["arm"]), int(row["point"])) != run:
        print(f"note: the code version differs from the one that stored {run}; results may differ")
    model = SCOModel(scenario, rng=seed)
    model.run()
    tables = model.tables()
    same = True
    for name in ("model", "states", "decisions"):
        stored = results.tables[name]
        stored = stored[stored["run_id"] == run].drop(columns=ID_COLUMNS).reset_index(drop=True)
        fresh = tables[name].reset_index(drop=True)
        try:
            pd.testing.assert_frame_equal(fresh, stored, check_dtype=False, check_exact=True)
        except AssertionError:
            same = False
            print(f"  {name}: DIFFERS from the stored table")
    print(
        f"run {run}: arm {row['arm']}, point {int(row['point'])}, "
        f"replication {int(row['replication'])}, seed {seed}"
    )
    print(f"  identical to the stored tables: {'yes' if same else 'no'}")
    if out:
        result = RunResult(scenario=scenario, seed=seed, until=model.end_year, tables=tables)
        files = write_run(result, out)
        print(f"  wrote {len(files)} files to {out}/")
    return 0 if same else 1
