"""Decision rules: consensus and its alternatives, on batched arrays of items and actors.

A rule sees positions, saliences, capabilities, the status quo and the proposal, and
knows nothing of the SCO model, so it runs as well on a plain actor table
(:func:`bargain`) or on real decision data (:func:`read_decision_data`). This layer
imports nothing from ``sim`` but :mod:`sim.errors`.

- :mod:`sim.rules.base`: inputs, decisions, outcome codes, ``@rule``, the loss function.
- :mod:`sim.rules.consensus`: consensus, opt-out, qualified majority, compromise.
- :mod:`sim.rules.expected_utility`: the expected utility model (Scholz et al. 2011).
- :mod:`sim.rules.registry`: the rules known by name; add yours with :func:`register`.
- :mod:`sim.rules.bargain` and :mod:`sim.rules.decisiondata`: actor tables and DEU-style data.
"""

from __future__ import annotations

from typing import Any

from sim.rules.base import (
    ADOPTED,
    BLOCKED,
    DEFERRED,
    DILUTED,
    OPT_OUT,
    OUTCOMES,
    BargainInput,
    Decision,
    Rule,
    RuleSettings,
    losses,
    rule,
)
from sim.rules.registry import RULES, describe_rules, get_rule, register

# Table readers need pandas: loaded on first use, so that the model's hot path does not pay for it.
_LAZY = {
    "bargain": "sim.rules.bargain",
    "BargainResult": "sim.rules.bargain",
    "check_actor_table": "sim.rules.bargain",
    "read_actor_table": "sim.rules.bargain",
    "DecisionData": "sim.rules.decisiondata",
    "read_decision_data": "sim.rules.decisiondata",
}

__all__ = [
    "ADOPTED",
    "BLOCKED",
    "DEFERRED",
    "DILUTED",
    "OPT_OUT",
    "OUTCOMES",
    "RULES",
    "BargainInput",
    "BargainResult",
    "Decision",
    "DecisionData",
    "Rule",
    "RuleSettings",
    "bargain",
    "check_actor_table",
    "describe_rules",
    "get_rule",
    "losses",
    "read_actor_table",
    "read_decision_data",
    "register",
    "rule",
]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'sim.rules' has no attribute '{name}'")
