"""The decision rules known by name: the shipped ones, listed here, and any you register.

To add a rule, write ``@rule(name, source)`` over a function ``(inputs, settings) ->
Decision`` (see :mod:`sim.rules.base`), then list it in ``_SHIPPED`` below, or call
:func:`register` from your own code.
"""

from __future__ import annotations

from sim.rules import consensus, expected_utility
from sim.rules.base import Rule

_SHIPPED: tuple[Rule, ...] = (
    consensus.consensus,
    consensus.consensus_opt_out,
    consensus.qualified_majority,
    consensus.compromise,
    expected_utility.expected_utility,
    expected_utility.expected_utility_bdm,
)

RULES: dict[str, Rule] = {}


def register(new: Rule) -> Rule:
    """Make ``new`` known to :func:`get_rule` and to scenario files by its name."""
    if new.name in RULES:
        raise ValueError(f"rule '{new.name}' registered twice")
    RULES[new.name] = new
    return new


for _shipped in _SHIPPED:
    register(_shipped)


def get_rule(name: str) -> Rule:
    """Return the rule registered as ``name`` (KeyError lists the known names)."""
    try:
        return RULES[name]
    except KeyError:
        raise KeyError(f"unknown decision rule '{name}'; known: {', '.join(RULES)}") from None


def describe_rules() -> list[tuple[str, str, str]]:
    """Return (name, summary, source) for every registered rule."""
    return [(r.name, r.doc, r.source) for r in RULES.values()]
