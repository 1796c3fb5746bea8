"""Scenario discovery: the ranges of swept inputs under which an outcome of interest occurs.

Over the runs of a sweep (a grid, a Latin hypercube, a Sobol' sample, or a ``[sensitivity]``
sample) stored in a results folder, each run has its inputs (the parameter values of its point)
and an outcome that holds or not (:mod:`sim.analysis.outcome`). Two rule-induction methods of the
EMA Workbench (``ema_workbench.analysis.prim`` and ``.cart``) describe the runs where it holds as
boxes, a lower and an upper limit per input:

- **PRIM** (Friedman and Fisher 1999, as adapted to scenario discovery by Bryant and Lempert
  2010) peels the input space a few percent at a time, keeping the runs where the outcome is most
  frequent; each step is a box on the *peeling trajectory*. Of those boxes, the one chosen has the
  highest coverage among those whose density reaches ``density`` (default 0.8); if none does, the
  densest. With ``boxes`` > 1, PRIM looks for another box among the runs the earlier boxes leave out.
- **CART** (a classification tree, scikit-learn's, through the Workbench) splits the inputs in two
  again and again; each leaf whose density reaches ``density`` is a box.

For a box, **coverage** is the share of all runs with the outcome that fall in the box, and
**density** the share of the runs in the box that have the outcome; **mass** is the share of all runs
in the box. PRIM also gives a quasi-p value for each limit: how likely a limit that separates the
outcome this well is under chance alone (a binomial test, Bryant and Lempert 2010).

The EMA Workbench is an optional dependency (``pip install 'sco-sim[discover]'``): 2.5 on
Python 3.11, 3.0 on Python 3.12 and later. Only what both versions share is used; they differ in
one argument (2.5's ``Prim`` needs ``threshold``), handled in :mod:`sim.analysis.workbench`.
"""

from __future__ import annotations

import json
import math
import warnings
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sim.analysis.outcome import evaluate
from sim.analysis.workbench import INSTALL, Box, Settings, cart_boxes, load_workbench, prim_boxes, short
from sim.errors import DiscoverError
from sim.files import write_text
from sim.version import __version__

__all__ = [
    "INSTALL",
    "MIN_RUNS",
    "Box",
    "Discovery",
    "Settings",
    "discover",
    "discover_frame",
    "run_inputs",
    "write_discovery",
]

MIN_RUNS = 10  # runs with a defined outcome that the methods need, at the least


@dataclass
class Discovery:
    """The result of scenario discovery on one results folder (or one table of inputs)."""

    outcome: str
    inputs: list[str]
    n_runs: int
    n_interest: int
    prim: list[Box]
    cart: list[Box]
    trajectory: pd.DataFrame = field(repr=False)
    settings: Settings = field(default_factory=Settings)
    runs: pd.DataFrame = field(default_factory=pd.DataFrame, repr=False)
    arm: str | None = None
    n_undefined: int = 0
    constant: list[str] = field(default_factory=list)  # swept inputs that did not vary: left out
    versions: dict[str, str] = field(default_factory=dict)

    @property
    def boxes(self) -> list[Box]:
        """The PRIM boxes, then the CART boxes."""
        return [*self.prim, *self.cart]

    def table(self) -> pd.DataFrame:
        """One row per box and input: the ``boxes.csv`` table (``restricted`` marks the limits drawn)."""
        rows = []
        for box in self.boxes:
            for limit in box.limits.to_dict("records"):
                rows.append(
                    {
                        "method": box.method,
                        "box": box.number,
                        "coverage": box.coverage,
                        "density": box.density,
                        "mass": box.mass,
                        "n_runs": box.n,
                        "n_outcome": box.k,
                        "meets_density": box.meets_density,
                        **limit,
                    }
                )
        columns = ["method", "box", "coverage", "density", "mass", "n_runs", "n_outcome", "meets_density",
                   "input", "low", "high", "min", "max", "restricted", "p_low", "p_high"]  # fmt: skip
        return pd.DataFrame(rows, columns=columns)

    def lines(self) -> list[str]:
        """What ``sco-sim discover`` prints: the counts, then each box with its restricted ranges."""
        share = self.n_interest / self.n_runs if self.n_runs else math.nan
        arm = f" of arm {self.arm}" if self.arm else ""
        out = [
            f"outcome: {self.outcome}",
            f"  holds in {self.n_interest} of {self.n_runs} runs{arm} ({share:.1%})"
            + (
                f"; {self.n_undefined} run(s) left out, the outcome being undefined for them"
                if self.n_undefined
                else ""
            ),
            f"inputs: {', '.join(self.inputs)}"
            + (f" (not varied, left out: {', '.join(self.constant)})" if self.constant else ""),
            *(
                [
                    f"note: the density asked for ({short(self.settings.density)}) is hardly above the share "
                    "of all runs with the outcome, so a box says little; ask for more with --density"
                ]
                if self.settings.density < share + 0.1
                else []
            ),
            "",
            "boxes (coverage: share of the runs with the outcome that are in the box; density: share of "
            "the runs in the box that have the outcome):",
        ]
        for box in self.boxes:
            note = (
                ""
                if box.meets_density
                else f"  (no box on the trajectory reaches density {short(self.settings.density)}: "
                "the densest)"
            )
            out.append(
                f"  {box.method} box {box.number}: coverage {box.coverage:.3f}, density {box.density:.3f}, "
                f"mass {box.mass:.3f} ({box.k} of {box.n} runs in the box have the outcome){note}"
            )
            rows = box.restricted
            if not len(rows):
                out.append("    no input restricted")
            width = max((len(r) for r in rows["input"]), default=0)
            for row in rows.itertuples():
                p = ""
                if box.method == "PRIM":
                    p = f"   quasi-p {_p(row.p_low)} / {_p(row.p_high)}"
                out.append(
                    f"    {row.input:<{width}}  {short(row.low):>10} .. {short(row.high):<10} "
                    f"(runs span {short(row.min)} .. {short(row.max)}){p}"
                )
        if not self.cart:
            out.append(f"  CART: no leaf reaches density {short(self.settings.density)}")
        return out

    def to_json(self) -> dict[str, Any]:
        """Everything but the per-run table, as plain JSON (``discover.json``)."""
        return {
            "outcome": self.outcome,
            "arm": self.arm,
            "inputs": self.inputs,
            "constant_inputs": self.constant,
            "n_runs": self.n_runs,
            "n_outcome": self.n_interest,
            "n_undefined": self.n_undefined,
            "settings": asdict(self.settings),
            "versions": self.versions,
            "boxes": [
                {
                    "method": b.method,
                    "box": b.number,
                    "coverage": b.coverage,
                    "density": b.density,
                    "mass": b.mass,
                    "n_runs": b.n,
                    "n_outcome": b.k,
                    "step": b.step,
                    "meets_density": b.meets_density,
                    "ranges": b.describe(),
                    "limits": _plain(b.restricted.to_dict("records")),
                }
                for b in self.boxes
            ],
        }


# --- inputs ------------------------------------------------------------------------------------


def run_inputs(results: Any, arm: str | None = None) -> tuple[pd.DataFrame, str | None]:
    """The swept inputs of every finished run: one row per run (index ``run_id``), one column per input.

    The values are those of the run's sweep point, as the manifest records them
    (``experiment.points``). With several arms in the folder, ``arm`` chooses one.

    Raises:
        DiscoverError: the folder has no swept inputs, or several arms and no ``arm``.

    """
    where = str(results.folder)
    summaries = results.summaries
    ok = summaries[summaries["status"] == "ok"]
    arms = list(dict.fromkeys(ok["arm"]))
    if arm is not None:
        if arm not in results.arms:
            raise DiscoverError(where, f"no arm '{arm}' in this experiment; arms: {', '.join(results.arms)}")
        ok = ok[ok["arm"] == arm]
    elif len(arms) > 1:
        raise DiscoverError(
            where,
            f"holds runs of {len(arms)} arms ({', '.join(arms)}); the inputs are the swept parameters, so "
            "discover looks at one arm at a time: choose it with --arm",
        )
    else:
        arm = arms[0] if arms else None
    points = list(results.manifest.get("experiment", {}).get("points") or [])
    if not any(points):
        raise DiscoverError(
            where,
            "has no swept inputs (its experiment has no [sweep] and no [sensitivity] sample): discover "
            "looks for the ranges of swept parameters under which the outcome occurs",
        )
    names = list(dict.fromkeys(key for point in points for key in point))
    rows = []
    for p in ok["point"].astype(int):
        if not 0 <= p < len(points):
            raise DiscoverError(where, f"a run's point {p} is not in the manifest's {len(points)} points")
        rows.append([points[p].get(name, np.nan) for name in names])
    inputs = pd.DataFrame(rows, columns=names, index=pd.Index(ok["run_id"], name="run_id"), dtype=float)
    return inputs, arm


def discover_frame(
    x: pd.DataFrame,
    y: Sequence[bool] | np.ndarray | pd.Series,
    settings: Settings | None = None,
    outcome: str = "",
) -> Discovery:
    """Find the boxes of inputs ``x`` (one row per run, numeric columns) where ``y`` is true.

    The entry point without a results folder: ``x`` and ``y`` can come from anywhere.

    Raises:
        DiscoverError: too few runs, or an outcome that holds in every run or in none.

    """
    settings = settings or Settings()
    settings.check()
    x = x.astype(float).reset_index(drop=True)
    flags = np.asarray(y, dtype=bool)
    if len(flags) != len(x):
        raise ValueError(f"{len(flags)} outcomes for {len(x)} runs")
    where = f"--outcome '{outcome}'" if outcome else "discover"
    if len(x) < MIN_RUNS:
        raise DiscoverError(
            where, f"only {len(x)} run(s) with a defined outcome; discover needs {MIN_RUNS} or more"
        )
    k = int(flags.sum())
    if k in (0, len(flags)):
        raise DiscoverError(
            where,
            f"the outcome holds in {k} of {len(flags)} runs, so there is nothing to tell apart: choose a "
            "threshold that some runs meet and others do not",
        )
    varying = [c for c in x.columns if x[c].nunique(dropna=False) > 1]
    constant = [c for c in x.columns if c not in varying]
    if not varying:
        raise DiscoverError(where, f"no input varies over these runs ({', '.join(x.columns)})")
    if x[varying].isna().any().any():
        raise DiscoverError(where, "some runs lack a value for an input (points with different parameters)")
    prim, cart, version = load_workbench()
    data = x[varying]
    target = flags.astype(int)
    with warnings.catch_warnings():  # the Workbench's own deprecations (of pandas, numpy) are not the user's
        warnings.filterwarnings("ignore", module="ema_workbench")
        prim_found, trajectory = prim_boxes(prim, data, target.copy(), settings)
        cart_found = cart_boxes(cart, data, target.copy(), settings)
    return Discovery(
        outcome=outcome,
        inputs=varying,
        n_runs=len(flags),
        n_interest=k,
        prim=prim_found,
        cart=cart_found,
        trajectory=trajectory,
        settings=settings,
        constant=constant,
        versions={"sco_sim": __version__, "ema_workbench": version},
    )


def discover(
    results: Any, outcome: str, arm: str | None = None, settings: Settings | None = None
) -> Discovery:
    """Find the boxes of swept inputs under which ``outcome`` holds, over a loaded results folder.

    Args:
        results: A loaded results folder (:func:`sim.experiments.store.load_results`).
        outcome: The outcome expression (:mod:`sim.analysis.outcome`).
        arm: The arm to look at (needed when the folder holds several).
        settings: How the boxes are found.

    Raises:
        DiscoverError: see :func:`run_inputs` and :func:`discover_frame`; an
            :class:`~sim.errors.OutcomeError` for an expression that cannot be read.

    """
    (settings or Settings()).check()
    values = evaluate(outcome, results)  # a bad expression fails before any other check
    inputs, arm = run_inputs(results, arm)
    values = values.reindex(inputs.index)
    defined = values.notna().to_numpy()
    found = discover_frame(inputs[defined], values[defined].astype(bool).to_numpy(), settings, outcome)
    summaries = results.summaries.set_index("run_id")
    runs = summaries.loc[inputs.index, ["run_index", "point", "replication", "seed"]].reset_index()
    runs.insert(1, "arm", arm)
    runs["seed"] = runs["seed"].astype(str)  # 63-bit seeds stay exact in any spreadsheet
    runs = pd.concat([runs, inputs.reset_index(drop=True)], axis=1)
    runs["outcome"] = values.reset_index(drop=True).astype("boolean")
    found.runs = runs
    found.arm = arm
    found.n_undefined = int((~defined).sum())
    return found


def write_discovery(discovery: Discovery, out: str | Path) -> list[Path]:
    """Write ``discover.json``, ``boxes.csv``, ``peeling.csv`` and ``runs.csv`` into ``out``."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    tables = {"boxes": discovery.table(), "peeling": discovery.trajectory, "runs": discovery.runs}
    for name, frame in tables.items():
        path = out / f"{name}.csv"
        write_text(path, frame.to_csv(index=False, lineterminator="\n"))
        written.append(path)
    path = out / "discover.json"
    write_text(path, json.dumps(discovery.to_json(), indent=2) + "\n")
    return [path, *written]


# --- formatting --------------------------------------------------------------------------------


def _p(value: float) -> str:
    return "-" if value is None or (isinstance(value, float) and math.isnan(value)) else f"{value:.1e}"


def _plain(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Records with NaN as None and numpy scalars as Python numbers (for JSON)."""
    out = []
    for record in records:
        clean = {}
        for key, value in record.items():
            if isinstance(value, (np.generic,)):
                value = value.item()
            if isinstance(value, float) and math.isnan(value):
                value = None
            clean[key] = value
        out.append(clean)
    return out
