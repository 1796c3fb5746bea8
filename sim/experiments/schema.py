"""The experiment file format: pydantic models of arms, sweeps, metrics, claims and the sensitivity table.

An experiment file is data, never code; :func:`sim.experiments.design.load_experiment` reads it.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, StringConstraints

from sim.limits import (
    MAX_DRAWS,
    MAX_LEVELS,
    MAX_REPLICATIONS,
    MAX_SAMPLES,
    MAX_TRAJECTORIES,
    SEED_MAX,
    VALUE_BOUND,
    YEAR_MAX,
    YEAR_MIN,
)

CHARTS = (
    "envelopes",
    "outcome_composition",
    "differences",
    "balancing_index",
    "depth_by_area",
    "objections",
    "dissent",
)


# Every number has a finite range (docs/experiments.md), and nan and inf are refused.
Seed = Annotated[int, Field(ge=0, le=SEED_MAX)]
Replications = Annotated[int, Field(ge=1, le=MAX_REPLICATIONS)]
Year = Annotated[int, Field(ge=YEAR_MIN, le=YEAR_MAX)]
# A value for a scenario key (then checked against that key's own range) or a threshold.
Value = Annotated[float, Field(ge=-VALUE_BOUND, le=VALUE_BOUND)]


class _Frozen(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


class Arm(_Frozen):
    """One arm: a scenario file (relative to the experiment file) and overrides."""

    scenario: str
    overrides: dict[str, Any] = Field(default_factory=dict)
    label: str = ""


class SweepParameter(_Frozen):
    """A scenario key to vary: listed values (grid) or a range (samples)."""

    values: list[Value] | None = None
    range: tuple[Value, Value] | None = None
    integer: bool = False


class Sweep(_Frozen):
    """Parameter sweep: a full grid of values, or a Latin hypercube / Sobol sample of ranges."""

    method: Literal["grid", "latin_hypercube", "sobol"] = "grid"
    samples: Annotated[int, Field(ge=1, le=MAX_SAMPLES)] = 8
    seed: Seed | None = None
    parameters: dict[str, SweepParameter]


class Effect(_Frozen):
    """An effect to analyse: a paired difference ``metric[arm_a] - metric[arm_b]``, with its expected sign."""

    difference: str
    expected: Literal["negative", "positive"] | None = None
    label: str = ""


class Sensitivity(_Frozen):
    """Global sensitivity analysis of effects to free parameters (``sco-sim sensitivity``)."""

    method: Literal["morris", "sobol"] = "morris"
    trajectories: Annotated[int, Field(ge=2, le=MAX_TRAJECTORIES)] = 10
    levels: Annotated[int, Field(ge=2, le=MAX_LEVELS)] = 4
    samples: Annotated[int, Field(ge=2, le=MAX_SAMPLES)] = 64
    seed: Seed | None = None
    replications: Replications | None = None
    # a posterior sample (CSV, relative to the experiment file): each of its columns is a parameter
    # drawn from its marginal (method = "sobol" only; sim.experiments.marginals)
    posterior: Annotated[str, StringConstraints(min_length=1)] | None = None
    # parameters with uniform ranges; may be empty when a posterior gives the parameters
    parameters: dict[str, tuple[Value, Value]] = Field(default_factory=dict)
    # an effect is written as its difference alone, or as a table with an expected sign and a label
    effects: dict[
        str, Annotated[Effect, BeforeValidator(lambda v: {"difference": v} if isinstance(v, str) else v)]
    ]


class Posterior(_Frozen):
    """Draw every arm's parameters from a posterior sample: ``draws`` rows of a CSV, x ``replications`` seeds.

    The file (relative to the experiment file) has a ``draw`` column and one column per fitted
    parameter, named by its dotted scenario key (``rules.tolerance``): the ``posterior.csv`` of
    ``sco-sim calibrate``. ``select = "sample"`` takes ``draws`` rows by a seeded sample without
    replacement (``seed``, default ``base_seed``); ``"first"`` takes the first ``draws`` rows.
    """

    file: Annotated[str, StringConstraints(min_length=1)]
    draws: Annotated[int, Field(ge=1, le=MAX_DRAWS)]
    select: Literal["sample", "first"] = "sample"
    seed: Seed | None = None


class PerturbWeights(_Frozen):
    """Run every arm at ``draws`` perturbations of every state's interest weights (sim.experiments.weights).

    Draw ``d`` multiplies each state's four weights by factors drawn uniformly in
    ``[1 - spread, 1 + spread]`` from ``(seed, d, state code)`` alone, and rescales them to their
    original sum. With a ``[posterior]`` table, draw ``d`` is also posterior draw ``d`` (``draws``
    may then be left out, and if given must equal ``posterior.draws``).
    """

    draws: Annotated[int, Field(ge=1, le=MAX_DRAWS)] | None = None
    spread: Annotated[float, Field(ge=0.0, lt=1.0)]
    seed: Seed | None = None


class Metric(_Frozen):
    """A figure computed per run from one table over a window of years."""

    column: str
    table: Literal["model", "states"] = "model"
    aggregate: Literal["mean", "sum", "last", "first", "max", "min", "first_above"] = "mean"
    years: tuple[Year, Year] | None = None
    threshold: Value | None = None
    state: str | None = None
    label: str = ""


#: the largest band a claim may state: a finite bound, so that a mistyped 1e308 is one line here
BAND_MAX = 1e6


class Claim(_Frozen):
    """A directional claim, e.g. ``consensus_rate[sco8] < consensus_rate[sco6]``, with its band.

    ``band`` is the smallest difference that matters, in the metric's units: the half-width of
    the band of practical equivalence around 0 (``sim.analysis.compare`` reads verdicts from it).
    It must be a finite number above 0, stated with a reason (``band_reason``).
    """

    id: str
    statement: str
    band: Annotated[float, Field(strict=True, gt=0.0, le=BAND_MAX, allow_inf_nan=False)]
    band_reason: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]
    hypothesis: str = ""
    label: str = ""


class Experiment(_Frozen):
    """A validated experiment file."""

    schema_version: Literal[1] = 1
    name: str
    description: str = ""
    base_seed: Seed
    replications: Replications
    arms: dict[str, Arm]
    sweep: Sweep | None = None
    sensitivity: Sensitivity | None = None
    posterior: Posterior | None = None
    perturb_weights: PerturbWeights | None = None
    metrics: dict[str, Metric]
    claims: list[Claim] = Field(default_factory=list)
    charts: list[str] = Field(default_factory=lambda: list(CHARTS))
    focal_state: str = "KAZ"
    # also store every run's texts table (one row per item x text x member); large, so off by default
    texts: bool = False
