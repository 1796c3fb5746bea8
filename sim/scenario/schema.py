"""The scenario format: pydantic models of states, areas, rules, membership, parameters and events.

Every model is frozen and forbids unknown keys; :mod:`sim.scenario.load` reads a file
into them and :mod:`sim.scenario.checks` checks what a schema cannot express.
"""

from __future__ import annotations

import math
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from sim.limits import MAX_AREAS, MAX_CAPABILITY, MAX_STATES, YEAR_MAX, YEAR_MIN

SCHEMA_VERSION = 1


INTERESTS: tuple[str, ...] = ("security", "economy", "balancing", "regime")


STATUSES: tuple[str, ...] = (
    "outsider",
    "partner",
    "observer",
    "applicant",
    "candidate",
    "memorandum",
    "member",
)


Status = Literal["outsider", "partner", "observer", "applicant", "candidate", "memorandum", "member"]


# Values replaced whole when a child scenario sets them (merging them key by key
# would silently mix two weight vectors or two status timelines).
ATOMIC_KEYS = frozenset({"weights", "relevance", "status", "capability", "parents", "poles", "packages"})


WEIGHT_TOLERANCE = 1e-3


# Fields of Scenario that record the resolution; a file may not set them.
RESERVED_KEYS = frozenset({"source", "lineage", "prehistory"})


# Every number of a scenario has a finite range (docs/scenarios.md gives each), and nan and
# inf are refused everywhere (allow_inf_nan below): a mistyped 1e308 or nan is one line
# naming the key, never a table of NaN. tests/test_hostile_numbers.py walks the schema.
Unit = Annotated[float, Field(ge=0.0, le=1.0)]


Ambition = Annotated[float, Field(ge=0.0, le=100.0)]


# A multiplier or rate with no natural top: 100 is far above any meaningful value.
Scale = Annotated[float, Field(ge=0.0, le=100.0)]


Year = Annotated[int, Field(ge=YEAR_MIN, le=YEAR_MAX)]


# A weight: they sum to 1, or to anything up to 400 with normalize_weights (percentages, ranks).
Weight = Annotated[float, Field(ge=0.0, le=100.0)]


Capability = Annotated[float, Field(ge=0.0, le=MAX_CAPABILITY)]


Lag = Annotated[int, Field(ge=0, le=100)]


class _Frozen(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=False, allow_inf_nan=False)


class Weights(_Frozen):
    """Four non-negative interest weights that sum to 1 (thesis ch. IV.1)."""

    security: Weight
    economy: Weight
    balancing: Weight
    regime: Weight

    def as_tuple(self) -> tuple[float, float, float, float]:
        """Return the weights in the order of ``INTERESTS``."""
        return (self.security, self.economy, self.balancing, self.regime)

    def total(self) -> float:
        """Return the sum of the four weights."""
        return math.fsum(self.as_tuple())


class State(_Frozen):
    """One state agent's attributes as written in the scenario."""

    name: str
    status: dict[Year, Status] = Field(default_factory=dict)
    capability: Capability | dict[Year, Capability]
    capability_growth: Annotated[float, Field(ge=-0.5, le=1.0)] = 0.0
    weights: Weights
    normalize_weights: bool = False
    alignment: dict[str, Unit] = Field(default_factory=dict)
    threat: dict[str, Unit] = Field(default_factory=dict)
    polyarchy: Unit
    rivalries: dict[str, Unit] = Field(default_factory=dict)
    security_ties: dict[str, Unit] = Field(default_factory=dict)
    wants_membership: bool = False
    rationale: str = ""


class Area(_Frozen):
    """An issue area: how much it touches each interest and what it grows from."""

    label: str
    relevance: Weights
    parents: list[str] = Field(default_factory=list)
    base_salience: Unit
    favours: str | None = None
    initial_depth: Ambition = 0.0
    agenda: bool = True
    # "project": members may stand aside (joint programmes, corridors); "common": no standing
    # aside (institutions with a common budget, joint statements, accession). Charter art. 16.
    kind: Literal["common", "project"] = "common"


class Rules(_Frozen):
    """The organisation's rule set (SCO Charter art. 16 by default: consensus)."""

    decision_rule: str = "consensus"
    norm_strength: Annotated[float, Field(gt=0.0, le=100.0)] = 1.0
    tolerance: Scale = 0.05
    max_rounds: Annotated[int, Field(ge=0, le=50)] = 6
    dilution_step: Annotated[float, Field(gt=0.0, lt=1.0)] = 0.25
    diluted_below: Annotated[float, Field(gt=0.0, lt=1.0)] = 0.5
    min_increment: Ambition = 2.0
    deferral_margin: Annotated[float, Field(ge=1.0, le=100.0)] = 1.5
    opt_out_allowed: bool | None = None
    opt_out_ceiling: Annotated[float, Field(ge=1.0, le=100.0)] = 2.0
    opt_out_min_share: Unit = 0.5
    majority_threshold: Annotated[float, Field(gt=0.5, le=1.0)] = 2.0 / 3.0
    majority_weighted: bool = False


class Membership(_Frozen):
    """The accession procedure: who decides, with which minimum lags."""

    mode: Literal["scheduled", "endogenous"] = "scheduled"
    moratorium: bool = False
    lag_application: Lag = 1
    lag_procedure: Lag = 1
    lag_memorandum: Lag = 1
    packages: list[list[str]] = Field(default_factory=list)
    apply_probability: Unit = 0.0


class Parameters(_Frozen):
    """Free model parameters (ranges and meaning: docs/scenarios.md)."""

    agenda_size: Annotated[int, Field(ge=0, le=100)] = 5
    min_readiness: Unit = 0.1
    spillover_depth: Annotated[float, Field(gt=0.0, le=1000.0)] = 50.0
    spillover_shape: Annotated[float, Field(gt=0.0, le=100.0)] = 2.0
    position_base: Annotated[float, Field(ge=-10.0, le=10.0)] = 0.15
    position_scale: Scale = 1.2
    pole_weight: Scale = 0.5
    threat_weight: Scale = 3.0
    pole_salience: Scale = 0.5
    max_deferrals: Annotated[int, Field(ge=0, le=100)] = 2
    rivalry_weight: Scale = 0.3
    position_noise: Unit = 0.05
    salience_noise: Unit = 0.05
    implementation_rate: Unit = 0.6
    trust_initial: Unit = 0.5
    trust_newcomer: Unit = 0.3
    trust_gain: Unit = 0.03
    trust_loss: Unit = 0.08
    trust_tolerance: Scale = 1.0
    influence_gain: Scale = 0.05
    influence_decay: Unit = 0.15
    balancing_rate: Scale = 0.5
    alignment_reversion: Unit = 0.1
    shock_decay: Unit = 0.5
    retable_probability: Unit = 0.5
    enlargement_scale: Scale = 4.0
    voice_dilution: Scale = 0.5
    # Finite ranges, so that a mistyped inf or 1e308 is one line here, not NaN tables later.
    claim_cost: Annotated[float, Field(ge=0.0, le=10.0)] = 0.5
    rivalry_cost: Annotated[float, Field(ge=0.0, le=10.0)] = 0.3
    gains_cost: Annotated[float, Field(ge=0.0, le=10.0)] = 1.0
    tie_pull: Annotated[float, Field(ge=0.0, le=1.0)] = 0.05
    spillover_ambition: Annotated[float, Field(ge=0.0, le=1.0)] = 0.2
    benefit_decay: Unit = 0.3
    demand_weight: Annotated[float, Field(ge=0.0, le=100.0)] = 1.0


class Mechanisms(_Frozen):
    """Switches: each mechanism can be turned off to see what it contributes (all on by default)."""

    spillover: bool = True
    balancing: bool = True
    participation_cost: bool = True
    stand_aside: bool = True
    event_process: bool = True
    trust: bool = True


class Shock(_Frozen):
    """A kind of random event: how often it happens per year and how large it is."""

    rate: Annotated[float, Field(ge=0.0, le=1.0)]
    size: Annotated[float, Field(ge=0.0, le=1.0)]


class EventProcess(_Frozen):
    """Random events in years without a written record (forecasts): rates and sizes by kind.

    ``salience`` maps an area to its salience shocks; ``threat`` is a rise in the threat a
    non-pole member feels from one pole; ``rivalry`` a flare-up of an existing rivalry.
    The shipped rates are estimated from the 1996-2017 events of history_1996.toml by
    ``scripts/estimate_event_rates.py`` (docs/model.md).
    """

    from_year: Year
    salience: dict[str, Shock] = Field(default_factory=dict)
    threat: Shock = Shock(rate=0.0, size=0.0)
    rivalry: Shock = Shock(rate=0.0, size=0.0)
    source: str = ""


class Claim(_Frozen):
    """A territorial claim the data lack, with its written source."""

    states: Annotated[list[str], Field(min_length=2, max_length=2)]
    salience: Annotated[float, Field(ge=0.0, le=12.0)]
    start_year: Year
    end_year: Year | None = None
    source: Annotated[str, Field(min_length=1)]


class TabledItem(_Frozen):
    """An item an event puts on the agenda (e.g. China's 2010 Development Bank)."""

    area: str
    initiator: str
    title: str
    ambition: Ambition
    beneficiary: str | None = None  # a pole, or any state the item benefits
    sovereignty: bool = False  # the text touches territorial integrity (e.g. recognising secession)
    positions: dict[str, Ambition] = Field(default_factory=dict)
    saliences: dict[str, Unit] = Field(default_factory=dict)


class Event(_Frozen):
    """Something that happens in a given year (MODEL.md section 3, step 1)."""

    id: str | None = None
    year: Year
    label: str
    salience: dict[str, Annotated[float, Field(ge=-10.0, le=10.0)]] = Field(default_factory=dict)
    threat: dict[str, dict[str, Annotated[float, Field(ge=-1.0, le=1.0)]]] = Field(default_factory=dict)
    rivalry: dict[str, dict[str, Unit]] = Field(default_factory=dict)
    # a relative change: -1 takes the capability to 0, 100 multiplies it by 101
    capability: dict[str, Annotated[float, Field(ge=-1.0, le=100.0)]] = Field(default_factory=dict)
    status: dict[str, Status] = Field(default_factory=dict)
    moratorium: bool | None = None
    table: list[TabledItem] = Field(default_factory=list)


class CapabilityData(_Frozen):
    """Capability from data: yearly over the run, held at the last data year's value after it."""

    source: Literal["cinc", "milex_share", "gdp_share"]


class _YearData(_Frozen):
    source: str
    year: Year | None = None  # the data year; the scenario's start year if left out (filled in on loading)


class AlignmentData(_YearData):
    """Alignment with each pole from UN General Assembly ideal points in one year."""

    source: Literal["unga"]


class PolyarchyData(_YearData):
    """Regime type from V-Dem polyarchy in one year."""

    source: Literal["vdem"]


class TiesData(_YearData):
    """A security tie of 1.0 to Russia for CSTO members in one year (0.0 for the others)."""

    source: Literal["csto"]


class PoleTiesData(_Frozen):
    """Yearly ties to the poles: arms imports and trade with each pole, beside UN votes.

    ``keep`` lists the alignments the scenario writes (``"IND:RUS"``): they stay as written
    every year, as a written value wins over data. It is filled in on loading.
    """

    source: Literal["arms_trade"]
    keep: list[str] = Field(default_factory=list)


class ClaimsData(_Frozen):
    """Territorial claims from the ICOW data (with settlement years from written sources)."""

    source: Literal["icow"]


class DataSources(_Frozen):
    """The ``[data]`` table: which data fills each state attribute the scenario does not write."""

    capability: CapabilityData | None = None
    alignment: AlignmentData | None = None
    polyarchy: PolyarchyData | None = None
    security_ties: TiesData | None = None
    pole_ties: PoleTiesData | None = None
    claims: ClaimsData | None = None

    @model_validator(mode="before")
    @classmethod
    def _source_names(cls, data: Any) -> Any:
        """``alignment = "unga"`` is short for ``alignment = { source = "unga" }``."""
        if isinstance(data, dict):
            return {k: {"source": v} if isinstance(v, str) else v for k, v in data.items()}
        return data


class Years(BaseModel):
    """The keys the data filling needs before the whole scenario can be validated."""

    model_config = ConfigDict(extra="ignore")
    start_year: Year
    end_year: Year
    poles: list[str] = Field(default_factory=lambda: ["RUS", "CHN"])


class Scenario(_Frozen):
    """A fully resolved scenario (after ``extends``), ready to build a model from."""

    schema_version: Literal[1] = 1
    name: str
    description: str = ""
    start_year: Year
    end_year: Year
    focal_state: str = "KAZ"
    poles: list[str] = Field(default_factory=lambda: ["RUS", "CHN"])
    parameters: Parameters = Field(default_factory=Parameters)
    rules: Rules = Field(default_factory=Rules)
    membership: Membership = Field(default_factory=Membership)
    states: Annotated[dict[str, State], Field(max_length=MAX_STATES)]
    areas: Annotated[dict[str, Area], Field(max_length=MAX_AREAS)]
    events: list[Event] = Field(default_factory=list)
    data: DataSources | None = None
    mechanisms: Mechanisms = Field(default_factory=Mechanisms)
    event_process: EventProcess | None = None
    claims: list[Claim] = Field(default_factory=list)
    # Resolution record, filled by load_scenario (not written by users).
    source: str = ""
    lineage: list[str] = Field(default_factory=list)
    prehistory: list[Event] = Field(default_factory=list)

    # Convenience views -------------------------------------------------------
    @property
    def state_codes(self) -> list[str]:
        """ISO3 codes in canonical (sorted) order, independent of file order."""
        return sorted(self.states)

    @property
    def area_codes(self) -> list[str]:
        """Issue-area keys in file order (the order of the depth columns)."""
        return list(self.areas)

    def status_timeline(self, iso3: str) -> dict[int, str]:
        """Return the state's status changes (file timeline plus status events)."""
        timeline = dict(self.states[iso3].status)
        for event in [*self.prehistory, *self.events]:
            if iso3 in event.status:
                timeline[event.year] = event.status[iso3]
        return dict(sorted(timeline.items()))

    def status_in(self, iso3: str, year: int) -> str:
        """Return the state's scheduled status in ``year`` (``outsider`` before any entry)."""
        current = "outsider"
        for when, status in self.status_timeline(iso3).items():
            if when <= year:
                current = status
        return current

    def to_dict(self) -> dict[str, Any]:
        """Return the resolved scenario as plain data (for ``sco-sim check --json``)."""
        # Without [data] the dump is what it was before [data] existed (run hashes stay put).
        hidden = {"source", "lineage"} | ({"data"} if self.data is None else set())
        return self.model_dump(mode="json", exclude=hidden)


def interest_weights(state: State) -> tuple[float, float, float, float]:
    """Return a state's interest weights, rescaled to sum 1 only if the file asks for it."""
    values = state.weights.as_tuple()
    if state.normalize_weights:
        total = math.fsum(values)
        return tuple(v / total for v in values)  # type: ignore[return-value]
    return values
