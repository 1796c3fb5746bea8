"""One seeded run: :func:`run` builds the model from a scenario, runs it and returns its tables.

>>> import sim
>>> scenario = sim.load_scenario("scenarios/history_1996.toml")
>>> result = sim.run(scenario, seed=7)
>>> result.decisions.head()        # pandas DataFrames: .model, .states, .decisions
>>> result.summary()
>>> sim.write_run(result, "results/history")  # CSV + Parquet + chart, as `sco-sim run` does
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from sim.model.model import SCOModel
from sim.model.narrative import narrate as narrate_tables
from sim.scenario import Scenario, load_scenario

TABLES = ("model", "states", "decisions")
TEXTS = "texts"  # the fourth table, on request: one row per item x text x member


class TablesView:
    """The three tables of one run or of many, as attributes (``.model``, ``.states``, ``.decisions``)."""

    tables: dict

    @property
    def model(self):
        """Yearly model figures: one row per year (and run)."""
        return self.tables["model"]

    @property
    def states(self):
        """Yearly state figures: one row per state and year (and run)."""
        return self.tables["states"]

    @property
    def decisions(self):
        """Decision log: one row per item decided (and run)."""
        return self.tables["decisions"]

    @property
    def texts(self):
        """Every text tabled, member by member (only when asked for: ``run(..., texts=True)``)."""
        if TEXTS not in self.tables:
            raise KeyError("no texts table: run with texts=True (sco-sim run writes it by default)")
        return self.tables[TEXTS]


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

    def narrate(self, year: int | None = None) -> str:
        """Tell the run's summits in plain sentences: every year, or only ``year``.

        Who tabled what, who objected to which texts and why (against its tolerance), how
        the text was redrafted, who stood aside or blocked, what was decided, and accession
        steps (:mod:`sim.model.narrative`). A run made without ``texts=True`` is run again
        with it, from the same scenario and seed, for the losses and the redrafts.
        """
        tables = self.tables
        if TEXTS not in tables:
            tables = run(self.scenario, seed=self.seed, until=self.until, texts=True).tables
        return narrate_tables(tables, year, where=f"{self.scenario.name}, seed {self.seed}")

    def write(self, out_dir: str | Path, chart: bool = True) -> list[Path]:
        """Write the tables, a summary and the run chart to ``out_dir`` (deprecated).

        Use ``sim.write_run(result, out_dir)``: writing files and drawing charts sit above
        the model, which no longer reaches up for them. This method goes in sco-sim 0.3.
        """
        warnings.warn(
            "RunResult.write is deprecated; use sim.write_run(result, out_dir)",
            DeprecationWarning,
            stacklevel=2,
        )
        from sim.output import write_run  # deprecated path: the one upward import, kept for one release

        return write_run(self, out_dir, chart=chart)


def run(
    scenario: Scenario | str | Path, seed: int = 0, until: int | None = None, texts: bool = False
) -> RunResult:
    """Build the model from a scenario, run it with ``seed`` and return its tables.

    Args:
        scenario: A loaded scenario or the path of a scenario file.
        seed: Non-negative integer seed; the same scenario and seed give the same tables.
        until: Last year to simulate (default: the scenario's end year).
        texts: Also build the ``texts`` table (every text tabled, member by member, with
            each member's loss split by interest and whether it objected, stood aside or blocked).

    """
    if not isinstance(scenario, Scenario):
        scenario = load_scenario(scenario)
    model = SCOModel(scenario, rng=seed, until=until)
    model.run()
    tables = model.tables(texts=texts)
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
    dissenters = _counted(decisions["dissenters"])
    stood_aside = _counted(decisions["stood_aside"])
    blockers = _counted(decisions["blocked_by"])
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
        "dissenters": dissenters,
        "stood_aside": stood_aside,
        "blocked_by": blockers,
        "members_at_end": sorted(last.loc[last["status"] == "member", "state"].tolist()),
        "focal_state": result.scenario.focal_state,
        "balancing_index_start": float(model["balancing_index"].iloc[0]),
        "balancing_index_end": float(model["balancing_index"].iloc[-1]),
    }


def _counted(cells: pd.Series) -> dict[str, int]:
    """Count how many items name each state in a column of ``;``-joined codes (most first)."""
    counts: dict[str, int] = {}
    for cell in cells:
        for code in filter(None, str(cell).split(";")):
            counts[code] = counts.get(code, 0) + 1
    return dict(sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))
