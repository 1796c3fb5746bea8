"""Scenarios: TOML files -> validated, frozen :class:`Scenario` objects.

- :mod:`sim.scenario.schema`: the pydantic models of a scenario and its constants.
- :mod:`sim.scenario.load`: ``extends`` chains, overrides and ``[data]`` resolution.
- :mod:`sim.scenario.checks`: cross-checks between states, areas, poles, rules and events.
- :mod:`sim.scenario.messages`: where a problem is and how to say it in one line.
- :mod:`sim.scenario.datasets`: the shipped data tables (``sim/data``) and their loaders.

This layer imports :mod:`sim.rules` (to know the rule names) and :mod:`sim.errors`.
"""

from sim.files import read_toml_file
from sim.scenario.load import load_scenario
from sim.scenario.messages import describe_error, dotted, first_error, read_validated
from sim.scenario.schema import (
    ATOMIC_KEYS,
    INTERESTS,
    STATUSES,
    Area,
    Event,
    Membership,
    Parameters,
    Rules,
    Scenario,
    State,
    Weights,
    interest_weights,
)

__all__ = [
    "ATOMIC_KEYS",
    "INTERESTS",
    "STATUSES",
    "Area",
    "Event",
    "Membership",
    "Parameters",
    "Rules",
    "Scenario",
    "State",
    "Weights",
    "describe_error",
    "dotted",
    "first_error",
    "interest_weights",
    "load_scenario",
    "read_toml_file",
    "read_validated",
]
