"""P1-P7 on the posterior predictive: ``sco-sim validate --posterior posterior.csv --draws N``.

The k-th draw of an ABC-SMC posterior sample (``posterior.csv``: a column ``draw`` and
one column per parameter named by its dotted scenario key) runs on the k-th fresh
validation seed, so the pattern shares carry the fitted parameters' uncertainty as well
as the model's own noise. The judging is :func:`sim.analysis.validation.judge`'s; a
draw's scenario is a parameter variant of the loaded file
(:func:`sim.analysis.simulator.variant_scenarios`), checked against the schema first.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from sim.analysis.simulator import variant_scenarios
from sim.analysis.validation import VALIDATION_BASE_SEED, Validation, judge
from sim.experiments.design import derive_seeds
from sim.experiments.executors import ExecutorChoice, run_tasks
from sim.experiments.progress import Progress, counting
from sim.model.run import run
from sim.scenario import Scenario, load_scenario


def read_posterior(
    path: str | Path, scenario: Scenario, draws: int
) -> list[tuple[int, dict[str, dict[str, Any]]]]:
    """Read the first ``draws`` rows of a posterior sample (posterior.csv) as scenario overrides.

    The file has a ``draw`` column and one column per parameter named by its dotted key
    (``rules.tolerance``, ``parameters.agenda_size``): the format ``sco-sim calibrate``
    writes. Every row is checked against the scenario's schema; errors are one line
    naming the file and the column.
    """
    from pydantic import ValidationError

    from sim.errors import CalibrationError

    where = str(path)
    try:
        frame = pd.read_csv(path)
    except FileNotFoundError:
        raise CalibrationError(where, "file not found (a posterior.csv of `sco-sim calibrate`)") from None
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise CalibrationError(where, f"not a CSV table ({exc})") from None
    if "draw" not in frame or len(frame.columns) < 2:
        raise CalibrationError(where, "expected a column 'draw' and one column per parameter (section.key)")
    sections: dict[str, tuple[str, str]] = {}
    for column in frame.columns:
        if column == "draw":
            continue
        section, _, key = column.partition(".")
        if section not in ("parameters", "rules") or key not in type(getattr(scenario, section)).model_fields:
            raise CalibrationError(where, "not a [parameters] or [rules] key of the scenario", key=column)
        sections[column] = (section, key)
    if len(frame) < draws:
        raise CalibrationError(where, f"has {len(frame)} draws; --draws asks for {draws}")
    out = []
    for row in frame.head(draws).to_dict("records"):
        overrides: dict[str, dict[str, Any]] = {}
        for column, (section, key) in sections.items():
            overrides.setdefault(section, {})[key] = row[column]
        for section, values in overrides.items():
            model = getattr(scenario, section)
            try:
                checked = type(model).model_validate({**model.model_dump(), **values})
            except ValidationError as exc:
                problem = exc.errors()[0]
                column = f"{section}.{problem['loc'][0]}" if problem["loc"] else section
                raise CalibrationError(where, f"draw {row['draw']}: {problem['msg']}", key=column) from None
            overrides[section] = {key: getattr(checked, key) for key in values}
        out.append((int(row["draw"]), overrides))
    return out


def judge_draws(path: str, tasks: Sequence[tuple[int, dict[str, Any], int]]) -> list[dict[str, Any]]:
    """Judge each (draw, overrides, seed): both runs of the scenario at that posterior draw."""
    rows = []
    for number, overrides, seed in tasks:
        history, endogenous = variant_scenarios(path, overrides)
        facts = judge(history, run(history, seed=seed).tables, run(endogenous, seed=seed).tables)
        rows.append({"draw": number, "seed": seed, **facts})
    return rows


def validate_posterior(
    scenario: str | Path,
    posterior: str | Path,
    draws: int = 100,
    base_seed: int = VALIDATION_BASE_SEED,
    workers: int = 1,
    progress: Progress = None,
    executor: ExecutorChoice | None = None,
) -> Validation:
    """Judge P1-P7 on the posterior predictive: ``draws`` draws of ``posterior``, one fresh seed each.

    Seed k (from ``base_seed``, as :func:`validate` derives them) runs at draw k, so the
    shares carry parameter uncertainty as well as the model's own noise.
    """
    path = str(Path(scenario))
    loaded = load_scenario(path)
    points = read_posterior(posterior, loaded, draws)
    seed_list = derive_seeds(base_seed, draws)
    executor = executor or ExecutorChoice.for_workers(workers)
    n_workers = max(workers, executor.workers or executor.dask_local or 1)
    chunk = max(1, -(-draws // max(1, 4 * n_workers)))
    items = [(number, overrides, seed) for (number, overrides), seed in zip(points, seed_list, strict=True)]
    tasks = [(path, items[i : i + chunk]) for i in range(0, draws, chunk)]
    with counting(progress, draws, "draw") as count:
        parts = run_tasks(judge_draws, tasks, executor, on_result=lambda _k, rows: count(len(rows)))
    rows = [row for part in parts for row in part]
    return Validation(path, seed_list, pd.DataFrame(rows), base_seed, posterior=str(posterior))
