"""The EMA Workbench's PRIM and CART behind one small interface, the same on its 2.5 and 3.0 lines.

:mod:`sim.analysis.discover` asks for boxes; this module makes the Workbench's objects, reads
their peeling trajectories, box limits, statistics and quasi-p values, and returns them as
:class:`Box` objects. The Workbench is imported only when a box is sought (it takes seconds).
Version 2.5 (Python 3.11) and 3.0 (Python 3.12 and later) differ, for what is used here, in one
argument of ``Prim`` (see :func:`make_prim`) and in the name of the quasi-p values (``qp`` in 2.5,
``p_values`` in 3.0).
"""

from __future__ import annotations

import inspect
import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from sim.errors import DiscoverError

__all__ = [
    "CART_SEED",
    "INSTALL",
    "Box",
    "Settings",
    "box_limits",
    "cart_boxes",
    "choose",
    "load_workbench",
    "make_prim",
    "prim_boxes",
    "short",
]

INSTALL = "pip install 'sco-sim[discover]'"
CART_SEED = 0  # scikit-learn breaks ties between equally good splits at random: fixed, so runs agree


@dataclass(frozen=True)
class Settings:
    """How the boxes are found.

    Attributes:
        density: The density a PRIM box should reach; the box of highest coverage that does is chosen.
        mass_min: The smallest share of the runs a box (a PRIM box, a CART leaf) may hold.
        peel_alpha: The share of runs PRIM peels off at each step.
        paste_alpha: The share of runs PRIM pastes back at each step.
        boxes: How many PRIM boxes to look for, one after another.

    """

    density: float = 0.8
    mass_min: float = 0.05
    peel_alpha: float = 0.05
    paste_alpha: float = 0.05
    boxes: int = 1

    def check(self) -> None:
        """Raise DiscoverError on a setting out of its range."""
        for name in ("density", "mass_min", "peel_alpha", "paste_alpha"):
            value = getattr(self, name)
            if not (0.0 < value <= 1.0) or (name != "density" and value >= 0.5):
                top = "up to 1" if name == "density" else "below 0.5"
                raise DiscoverError(
                    f"--{name.replace('_', '-')}", f"expected a number above 0 and {top}, got {value}"
                )
        if self.boxes < 1:
            raise DiscoverError("--boxes", f"expected 1 or more, got {self.boxes}")


@dataclass
class Box:
    """One box: its statistics and its limits on every input.

    ``limits`` has one row per input: ``input``, ``low``, ``high`` (the box), ``min``, ``max``
    (the inputs' range over the runs), ``restricted`` (the box is narrower than the range), and
    for PRIM ``p_low``, ``p_high`` (quasi-p values of the limits; empty for a limit not drawn).
    """

    method: str  # "PRIM" or "CART"
    number: int  # 1, 2, ... within its method
    coverage: float
    density: float
    mass: float
    n: int  # runs in the box
    k: int  # runs in the box with the outcome
    limits: pd.DataFrame = field(repr=False)
    step: int | None = None  # PRIM: the chosen box's index on the peeling trajectory
    meets_density: bool = True

    @property
    def restricted(self) -> pd.DataFrame:
        """The rows of ``limits`` for the inputs the box restricts."""
        return self.limits[self.limits["restricted"]]

    def describe(self) -> str:
        """The box's ranges in words: ``x in [0.2, 0.5], y >= 0.7`` (every input, if none is restricted)."""
        rows = self.restricted
        if not len(rows):
            return "every run (no input restricted)"
        parts = []
        for row in rows.itertuples():
            low_cut, high_cut = row.low > row.min, row.high < row.max
            if low_cut and high_cut:
                parts.append(f"{row.input} in [{short(row.low)}, {short(row.high)}]")
            elif low_cut:
                parts.append(f"{row.input} >= {short(row.low)}")
            else:
                parts.append(f"{row.input} <= {short(row.high)}")
        return ", ".join(parts)


def load_workbench() -> tuple[Any, Any, str]:
    """Import the EMA Workbench's PRIM and CART (quietly: it warns about optional packages it lacks)."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            import ema_workbench
            from ema_workbench.analysis import cart, prim
    except ImportError as exc:
        raise DiscoverError(
            "sco-sim discover", f"needs the EMA Workbench ({exc.name or exc}): {INSTALL}"
        ) from None
    return prim, cart, str(ema_workbench.__version__)


def make_prim(prim: Any, x: pd.DataFrame, y: np.ndarray, settings: Settings) -> Any:
    """Make a Prim object the same way on the Workbench 2.5 and 3.0.

    2.5 needs ``threshold``: a run is of interest when ``y >= threshold``, and a box whose mean
    falls below it is replaced by the whole space. With y 0 or 1 and a threshold just above 0,
    the runs of interest are those with y = 1 and no box is replaced, as in 3.0 (which has no
    threshold and counts ``y.sum()``).
    """
    extra = {"threshold": 1e-12} if "threshold" in inspect.signature(prim.Prim).parameters else {}
    return prim.Prim(
        x,
        y,
        peel_alpha=settings.peel_alpha,
        paste_alpha=settings.paste_alpha,
        mass_min=settings.mass_min,
        **extra,
    )


def choose(trajectory: pd.DataFrame, density: float) -> tuple[int, bool]:
    """The step of the trajectory to report: the highest coverage at ``density`` or more, else the densest."""
    t = trajectory.reset_index(drop=True)
    meets = t[t["density"] >= density - 1e-12]
    pool = meets if len(meets) else t[t["density"] == t["density"].max()]
    # highest coverage; among equal coverage the denser, then the later (smaller) box
    order = pool.assign(_step=pool.index).sort_values(
        ["coverage", "density", "_step"], ascending=[False, False, False], kind="stable"
    )
    return int(order["_step"].iloc[0]), bool(len(meets))


def box_limits(lims: pd.DataFrame, x: pd.DataFrame, p_values: dict[str, Any] | None) -> pd.DataFrame:
    """A box's limits on every input of ``x`` (``Box.limits``); ``p_values``: PRIM's, by input."""
    rows = []
    for name in x.columns:
        low, high = float(lims.loc[0, name]), float(lims.loc[1, name])
        low_all, high_all = float(x[name].min()), float(x[name].max())
        p = (p_values or {}).get(name, [-1, -1])
        p_low, p_high = (float(v) if v is not None and float(v) >= 0 else np.nan for v in p)
        rows.append(
            {
                "input": name,
                "low": low,
                "high": high,
                "min": low_all,
                "max": high_all,
                "restricted": bool(low > low_all or high < high_all),
                "p_low": p_low,
                "p_high": p_high,
            }
        )
    return pd.DataFrame(rows)


def prim_boxes(
    prim: Any, x: pd.DataFrame, y: np.ndarray, settings: Settings
) -> tuple[list[Box], pd.DataFrame]:
    """PRIM's boxes (up to ``settings.boxes``) and their peeling trajectories (the ``peeling.csv`` table).

    Each box is the step of its trajectory that :func:`choose` picks; a box after the first is kept
    only if it reaches the density asked for. The search stops when no run with the outcome is left.
    """
    algorithm = make_prim(prim, x, y, settings)
    boxes: list[Box] = []
    steps = []
    for number in range(1, settings.boxes + 1):
        found = algorithm.find_box()
        if found is None:
            break
        trajectory = found.peeling_trajectory.reset_index(drop=True)
        step, meets = choose(trajectory, settings.density)
        if number > 1 and not meets:
            break  # a later box is kept only if it reaches the density
        found.select(step)  # the next box is sought among the runs outside this one
        p_values = getattr(found, "p_values", None)
        if p_values is None:
            p_values = getattr(found, "qp", None)  # Workbench 2.5
        row = trajectory.loc[step]
        boxes.append(
            Box(
                "PRIM",
                number,
                float(row["coverage"]),
                float(row["density"]),
                float(row["mass"]),
                int(row["n"]),
                int(row["k"]),
                box_limits(found.box_lims[step], x, p_values[step] if p_values else None),
                step=step,
                meets_density=meets,
            )
        )
        steps.append(
            pd.DataFrame(
                {
                    "box": number,
                    "step": range(len(trajectory)),
                    "coverage": trajectory["coverage"].astype(float),
                    "density": trajectory["density"].astype(float),
                    "mass": trajectory["mass"].astype(float),
                    "n_restricted": trajectory["res_dim"].astype(int),
                    "n_runs": trajectory["n"].astype(int),
                    "n_outcome": trajectory["k"].astype(int),
                    "chosen": [i == step for i in range(len(trajectory))],
                }
            )
        )
        if int(y.sum()) - sum(b.k for b in boxes) <= 0:
            break
    columns = ["box", "step", "coverage", "density", "mass", "n_restricted", "n_runs", "n_outcome", "chosen"]
    return boxes, pd.concat(steps, ignore_index=True) if steps else pd.DataFrame(columns=columns)


def cart_boxes(cart: Any, x: pd.DataFrame, y: np.ndarray, settings: Settings) -> list[Box]:
    """CART's leaves whose density reaches ``settings.density``, as boxes, the largest coverage first.

    The tree's other leaves (a few runs each, where the outcome holds in some) are left out.
    """
    n = len(y)
    mass_min = max(settings.mass_min, 1.000001 / n)  # scikit-learn needs a leaf of one run at least
    tree = cart.CART(x, y, mass_min=mass_min)
    state = np.random.get_state()  # the tree draws its tie-breaks from numpy's global generator
    try:
        np.random.seed(CART_SEED)
        tree.build_tree()
    finally:
        np.random.set_state(state)
    leaves = []
    for lims, stats in zip(tree.boxes, tree.stats, strict=True):
        density = float(stats["density"])
        if density < settings.density - 1e-12:
            continue
        mass = float(stats["mass"])
        in_box = round(mass * n)
        leaves.append((float(stats["coverage"]), density, mass, in_box, round(density * in_box), lims))
    leaves.sort(key=lambda leaf: (-leaf[0], -leaf[1]))
    return [
        Box("CART", number, coverage, density, mass, in_box, k, box_limits(lims, x, None))
        for number, (coverage, density, mass, in_box, k, lims) in enumerate(leaves, start=1)
    ]


def short(value: float) -> str:
    """A limit as a short number: 4 significant digits."""
    return f"{value:.4g}"
