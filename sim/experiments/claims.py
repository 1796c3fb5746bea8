"""The one parser of comparisons between arms.

Claims (``metric[a] < metric[b]``, each with its band of practical equivalence) and effects
(``metric[a] - metric[b]``) are split into their parts and checked against the experiment's
metrics and arms.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from sim.errors import ExperimentError
from sim.experiments.schema import Experiment, Sensitivity

# An arm's name is any safe name (letters, digits, '_', '-', '.' and spaces inside): ARM below.
ARM = r"\[\s*([\w.\- ]+?)\s*\]"
CLAIM = re.compile(rf"^\s*(\w+)\s*{ARM}\s*(<|>)\s*(\w+)\s*{ARM}\s*$")


@dataclass(frozen=True)
class ParsedClaim:
    """A claim split into its parts, with its band (the smallest difference that matters) and why."""

    id: str
    hypothesis: str
    label: str
    statement: str
    metric: str
    arm_a: str
    op: str
    arm_b: str
    band: float
    band_reason: str


def parse_claims(experiment: Experiment, where: str = "") -> list[ParsedClaim]:
    """Split each claim statement into metric, arms and direction, checking the names."""

    def fail(key: str, message: str) -> None:
        raise ExperimentError(where, message, key=key)

    claims: list[ParsedClaim] = []
    for i, claim in enumerate(experiment.claims):
        match = CLAIM.match(claim.statement)
        if not match:
            fail(
                f"claims[{i}].statement",
                f"expected 'metric[arm] < metric[arm]' or 'metric[arm] > metric[arm]', "
                f"got {claim.statement!r}",
            )
        metric_a, arm_a, op, metric_b, arm_b = match.groups()  # type: ignore[union-attr]
        if metric_a != metric_b:
            fail(f"claims[{i}].statement", f"compare one metric across arms, got {metric_a} and {metric_b}")
        if metric_a not in experiment.metrics:
            fail(
                f"claims[{i}].statement",
                f"unknown metric '{metric_a}' (metrics: {', '.join(experiment.metrics)})",
            )
        for arm in (arm_a, arm_b):
            if arm not in experiment.arms:
                fail(f"claims[{i}].statement", f"unknown arm '{arm}' (arms: {', '.join(experiment.arms)})")
        if arm_a == arm_b:
            fail(f"claims[{i}].statement", "a claim compares two different arms")
        claims.append(
            ParsedClaim(
                id=claim.id,
                hypothesis=claim.hypothesis,
                label=claim.label,
                statement=claim.statement,
                metric=metric_a,
                arm_a=arm_a,
                op=op,
                arm_b=arm_b,
                band=claim.band,
                band_reason=claim.band_reason,
            )
        )
    if len({c.id for c in claims}) != len(claims):
        fail("claims", "claim ids must be unique")
    return claims


EFFECT = re.compile(rf"^\s*(\w+)\s*{ARM}\s*-\s*(\w+)\s*{ARM}\s*$")


@dataclass(frozen=True)
class ParsedEffect:
    """An effect split into its parts: ``metric[arm_a] - metric[arm_b]``."""

    name: str
    difference: str
    metric: str
    arm_a: str
    arm_b: str
    expected: str | None = None
    label: str = ""


def parse_effects(experiment: Experiment, where: str = "") -> list[ParsedEffect]:
    """Split each effect into metric and arms, checking the names.

    Raises:
        ExperimentError: one line naming the file, the key and what was expected.

    """
    settings = sensitivity_settings(experiment, where)
    effects: list[ParsedEffect] = []
    for name, value in settings.effects.items():
        key = f"sensitivity.effects.{name}"
        effect_entry = value
        match = EFFECT.match(effect_entry.difference)
        if not match:
            raise ExperimentError(
                where, f"expected 'metric[arm_a] - metric[arm_b]', got {effect_entry.difference!r}", key=key
            )
        metric_a, arm_a, metric_b, arm_b = match.groups()
        if metric_a != metric_b:
            raise ExperimentError(
                where, f"an effect compares one metric across arms, got {metric_a} and {metric_b}", key=key
            )
        if metric_a not in experiment.metrics:
            raise ExperimentError(
                where, f"unknown metric '{metric_a}' (metrics: {', '.join(experiment.metrics)})", key=key
            )
        for arm in (arm_a, arm_b):
            if arm not in experiment.arms:
                raise ExperimentError(
                    where, f"unknown arm '{arm}' (arms: {', '.join(experiment.arms)})", key=key
                )
        if arm_a == arm_b:
            raise ExperimentError(where, "an effect compares two different arms", key=key)
        difference = f"{metric_a}[{arm_a}] - {metric_a}[{arm_b}]"
        effects.append(
            ParsedEffect(name, difference, metric_a, arm_a, arm_b, effect_entry.expected, effect_entry.label)
        )
    if not effects:
        raise ExperimentError(where, "expected at least one effect", key="sensitivity.effects")
    return effects


def sensitivity_settings(experiment: Experiment, where: str) -> Sensitivity:
    """Return the experiment's ``[sensitivity]`` table, or raise a one-line error if it has none."""
    if experiment.sensitivity is None:
        raise ExperimentError(
            where,
            "has no [sensitivity] table; add one with parameters and effects (docs/experiments.md, "
            "section 11), or run it with `sco-sim batch`",
            key="sensitivity",
        )
    return experiment.sensitivity
