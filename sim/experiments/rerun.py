"""``sco-sim rerun``: reproduce one stored run from its run id and check it.

The rerun always builds the ``texts`` table too (it runs the model, so it can, whether or
not the batch kept texts); it is checked against the stored one only where the batch kept it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from sim.errors import InputError
from sim.experiments.design import run_id as content_id
from sim.experiments.manifest import scenario_file
from sim.experiments.store import DRAW, TEXTS, id_columns, load_results, run_tables
from sim.files import inside, read_json
from sim.model import SCOModel
from sim.model.run import RunResult
from sim.scenario import Scenario


@dataclass
class RerunReport:
    """What rerunning a stored run found: where it came from and which tables differ."""

    run_id: str
    arm: str
    point: int
    replication: int
    seed: int
    code_changed: bool
    differing: list[str]
    result: RunResult = field(repr=False)
    draw: int | None = None  # the draw of a run of a [posterior] or [perturb_weights] batch
    draw_kind: str = "posterior draw"  # "draw" when the draws perturb the interest weights

    @property
    def identical(self) -> bool:
        """Whether every fresh table equals the stored one (three, or four where texts were kept)."""
        return not self.differing

    def lines(self) -> list[str]:
        """Return the report as lines of text, as ``sco-sim rerun`` prints it."""
        out = []
        if self.code_changed:
            out.append(
                f"note: the code version differs from the one that stored {self.run_id}; results may differ"
            )
        out += [f"  {name}: DIFFERS from the stored table" for name in self.differing]
        at = f"{self.draw_kind} {self.draw}, " if self.draw is not None else ""
        out.append(
            f"run {self.run_id}: arm {self.arm}, point {self.point}, "
            f"{at}replication {self.replication}, seed {self.seed}"
        )
        out.append(f"  identical to the stored tables: {'yes' if self.identical else 'no'}")
        return out


def rerun(run: str, folder: str | Path) -> RerunReport:
    """Rerun ``run`` from the results ``folder`` and compare its tables with the stored ones."""
    results = load_results(folder)
    summaries = results.summaries
    match = summaries[summaries["run_id"] == run] if len(summaries) else summaries
    if not len(match):
        raise InputError(str(folder), f"no run with id '{run}' is stored here", key="RUN_ID")
    row = match.iloc[0]
    draw = int(row[DRAW]) if DRAW in row.index and pd.notna(row[DRAW]) else None  # a posterior batch
    path = inside(Path(folder) / "scenarios", scenario_file(str(row["arm"]), int(row["point"]), draw))
    try:
        scenario = Scenario.model_validate(read_json(path, InputError, "a stored scenario (JSON)"))
    except InputError as exc:
        raise InputError(str(path), f"cannot read the stored scenario ({exc.message})") from None
    except ValueError as exc:
        raise InputError(str(path), f"cannot read the stored scenario ({exc})") from None
    seed = int(row["seed"])
    model = SCOModel(scenario, rng=seed)
    model.run()
    tables = model.tables(texts=True)
    differing = []
    for name in run_tables(TEXTS in results.tables):
        stored = results.tables[name]
        stored = stored[stored["run_id"] == run].drop(columns=id_columns(draw is not None))
        stored = stored.reset_index(drop=True)
        fresh = tables[name].reset_index(drop=True)
        try:
            pd.testing.assert_frame_equal(fresh, stored, check_dtype=False, check_exact=True)
        except AssertionError:
            differing.append(name)
    return RerunReport(
        run_id=run,
        arm=str(row["arm"]),
        point=int(row["point"]),
        replication=int(row["replication"]),
        seed=seed,
        code_changed=content_id(scenario, seed, str(row["arm"]), int(row["point"]), draw=draw) != run,
        draw=draw,
        draw_kind="draw" if "perturb_weights" in results.manifest.get("experiment", {}) else "posterior draw",
        differing=differing,
        result=RunResult(scenario=scenario, seed=seed, until=model.end_year, tables=tables),
    )
