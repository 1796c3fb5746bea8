"""sco-sim: consensus and regional balancing in the Shanghai Cooperation Organization.

The few lines a notebook needs::

    import sim
    scenario = sim.load_scenario("scenarios/history_1996.toml")
    result = sim.run(scenario, seed=7)
    result.model, result.states, result.decisions   # pandas DataFrames
    sim.compare_arms({"a": [...], "b": [...]}, claims=[...])   # as `sco-sim compare` does

``import sim`` is cheap: the names below are imported on first use (PEP 562), so Mesa,
pandas and matplotlib load only when something needs them. The layers, from the bottom:
:mod:`sim.errors` and :mod:`sim.files`, :mod:`sim.rules`, :mod:`sim.scenario`,
:mod:`sim.model`, :mod:`sim.experiments`, :mod:`sim.analysis` and :mod:`sim.charts`,
:mod:`sim.report` and :mod:`sim.output`, :mod:`sim.cli` (docs/architecture.md).
"""

from __future__ import annotations

import importlib
from typing import Any

from sim import moved as _moved
from sim.version import __version__

_moved.install()

#: public name -> the module it lives in
_EXPORTS = {
    "RULES": "sim.rules",
    "get_rule": "sim.rules",
    "bargain": "sim.rules.bargain",
    "read_actor_table": "sim.rules.bargain",
    "DataError": "sim.errors",
    "InputError": "sim.errors",
    "ScenarioError": "sim.errors",
    "TableError": "sim.errors",
    "Scenario": "sim.scenario",
    "load_scenario": "sim.scenario",
    "SCOModel": "sim.model",
    "RunResult": "sim.model",
    "run": "sim.model",
    "summarise": "sim.model",
    "load_results": "sim.experiments.store",
    "compare_arms": "sim.analysis.arms",
    "ArmComparison": "sim.analysis.arms",
    "write_run": "sim.output",
}

__all__ = [
    "RULES",
    "ArmComparison",
    "DataError",
    "InputError",
    "RunResult",
    "SCOModel",
    "Scenario",
    "ScenarioError",
    "TableError",
    "__version__",
    "bargain",
    "compare_arms",
    "get_rule",
    "load_results",
    "load_scenario",
    "read_actor_table",
    "run",
    "summarise",
    "write_run",
]


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        value = getattr(importlib.import_module(_EXPORTS[name]), name)
        globals()[name] = value  # later look-ups skip this function
        return value
    raise AttributeError(f"module 'sim' has no attribute '{name}'")


def __dir__() -> list[str]:
    return sorted([*globals(), *_EXPORTS])
