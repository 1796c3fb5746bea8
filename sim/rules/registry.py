"""The decision rules known by name: the shipped ones, listed here, and any you register.

To add a rule, write ``@rule(name, source)`` over a function ``(inputs, settings) ->
Decision`` (see :mod:`sim.rules.base`), then list it in ``_SHIPPED`` below, or call
:func:`register` from your own code.
"""

from __future__ import annotations

import warnings
from typing import Any

from sim.rules import consensus, expected_utility
from sim.rules.base import Rule, RuleFunction

_SHIPPED: tuple[Rule, ...] = (
    consensus.consensus,
    consensus.consensus_opt_out,
    consensus.sco_practice,
    consensus.veto_players,
    consensus.qualified_majority,
    consensus.compromise,
    expected_utility.expected_utility,
    expected_utility.expected_utility_bdm,
)

RULES: dict[str, Rule] = {}


def register(new: Rule | str, source: str | None = None) -> Any:
    """Make ``new`` known to :func:`get_rule` and to scenario files by its name.

    The 0.1 form, ``@register("name", source="...")`` over a plain function, still works
    for one release, with a DeprecationWarning: write ``@rule(...)`` and call
    ``register(my_rule)`` instead.
    """
    if isinstance(new, str):
        warnings.warn(
            "@register(name, source) is deprecated; declare the rule with @sim.rules.rule(name, source) "
            "and call sim.rules.register(rule)",
            DeprecationWarning,
            stacklevel=2,
        )
        name = new

        def wrap(function: RuleFunction) -> RuleFunction:
            register(Rule(name=name, source=source or "", function=function))
            return function

        return wrap
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
