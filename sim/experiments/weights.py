"""Perturbed interest weights: a documented perturbation of every state's hand-set weights.

The interest weights of the states (security, economy, balancing, regime; ``states.X.weights``)
are set by hand from the source thesis, to two decimals. An experiment with a
``[perturb_weights]`` table runs every arm at ``draws`` perturbations of them, so that its
comparisons carry that uncertainty too (docs/experiments.md, section 12):

- **The perturbation.** At draw ``d`` each state's four weights are multiplied by four
  independent factors drawn uniformly in ``[1 - spread, 1 + spread]`` and rescaled so that they
  keep their original sum (1, or the file's own total with ``normalize_weights``). A weight stays
  non-negative, a weight of 0 stays 0, and before the rescaling no weight moves by more than
  ``spread`` of its value.
- **Paired across arms.** The factors of a state depend only on ``(seed, d, state code)``: they
  come from ``numpy.random.default_rng`` seeded with the SHA-256 of those three
  (:func:`factors`). So a state has the same weights in every arm of a draw, whatever the
  other members of the arm, and the runs of a draw are paired across arms by seed.
- **Applied last.** The perturbation multiplies the weights the arm's scenario resolves to (after
  its overrides, the sweep point and the posterior draw). With a ``[posterior]`` table, draw
  ``d`` (the ``d``-th chosen posterior row) also takes perturbation ``d``.
- **Recorded.** The perturbed weights are part of the resolved scenario of each arm, point and
  draw, which the results folder stores (``scenarios/ARM-POINT-drawD.json``) and ``sco-sim rerun``
  reads.
"""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from pydantic import ValidationError

from sim.errors import ExperimentError
from sim.experiments.schema import Experiment
from sim.experiments.size import check_size
from sim.scenario import INTERESTS, Scenario, Weights, describe_error

DISTRIBUTION = "factors uniform in [1 - spread, 1 + spread], then rescaled to each state's original sum"


@dataclass(frozen=True)
class WeightDraws:
    """The perturbations an experiment runs: how many, how wide, from which seed."""

    draws: int
    spread: float
    seed: int
    with_posterior: bool = False  # draw d is also posterior draw d

    def describe(self) -> dict[str, Any]:
        """Plain description for the manifest."""
        return {
            "draws": self.draws,
            "spread": self.spread,
            "seed": self.seed,
            "distribution": DISTRIBUTION,
            "with_posterior": self.with_posterior,
        }


def check_perturb_weights(experiment: Experiment, where: str, points: int) -> WeightDraws:
    """Check an experiment's ``[perturb_weights]`` table against the rest of its design.

    Raises:
        ExperimentError: with ``[sensitivity]``; no ``draws`` without a posterior, or other draws
            than the posterior's; a design too large.

    """
    settings = experiment.perturb_weights
    if settings is None:
        raise ValueError("the experiment has no [perturb_weights] table")
    if experiment.sensitivity is not None:
        raise ExperimentError(
            where,
            "an experiment has either a [perturb_weights] or a [sensitivity] table, not both (a sensitivity "
            "analysis runs its own sample); run the perturbation as a batch of another file",
            key="perturb_weights",
        )
    seed = settings.seed if settings.seed is not None else experiment.base_seed
    posterior = experiment.posterior
    if posterior is not None:
        if settings.draws is not None and settings.draws != posterior.draws:
            raise ExperimentError(
                where,
                f"asks for {settings.draws} draws, but [posterior] has {posterior.draws}: draw d takes "
                "posterior draw d and weight perturbation d, so leave draws out here or make them equal",
                key="perturb_weights.draws",
            )
        return WeightDraws(posterior.draws, settings.spread, seed, with_posterior=True)
    if settings.draws is None:
        raise ExperimentError(
            where, "how many perturbations to run: give draws = N (e.g. 50)", key="perturb_weights.draws"
        )
    check_size(where, len(experiment.arms), points * settings.draws, experiment.replications,
               "perturb_weights.draws", "replications", what="point x draw(s)")  # fmt: skip
    return WeightDraws(settings.draws, settings.spread, seed)


def factors(seed: int, draw: int, code: str, spread: float) -> np.ndarray:
    """Return the four factors (security, economy, balancing, regime) of state ``code`` at ``draw``.

    Drawn uniformly in ``[1 - spread, 1 + spread]`` by ``numpy.random.default_rng`` seeded with the
    SHA-256 of ``["perturb_weights", seed, draw, code]``: they depend on nothing else, so a state
    gets the same factors in every arm. With ``spread`` 0 every factor is exactly 1.
    """
    content = json.dumps(["perturb_weights", int(seed), int(draw), str(code)], separators=(",", ":"))
    entropy = int.from_bytes(hashlib.sha256(content.encode()).digest(), "big")
    rng = np.random.default_rng(entropy)
    return rng.uniform(1.0 - spread, 1.0 + spread, size=4)


def perturbed(weights: Weights, multipliers: np.ndarray) -> Weights:
    """Return ``weights`` multiplied by ``multipliers`` and rescaled to their original sum.

    Raises:
        ValueError: the rescaled weights are not valid weights (one above 100, with a file's own
            large total under ``normalize_weights``).

    """
    values = weights.as_tuple()
    scaled = [value * float(m) for value, m in zip(values, multipliers, strict=True)]
    total, new_total = math.fsum(values), math.fsum(scaled)
    ratio = total / new_total if new_total > 0 else 1.0  # all zero: the scenario check refuses it
    return Weights.model_validate({key: value * ratio for key, value in zip(INTERESTS, scaled, strict=True)})


def perturbed_scenario(scenario: Scenario, settings: WeightDraws, index: int, where: str) -> Scenario:
    """Return ``scenario`` with every state's weights perturbed as at draw ``index`` (spread 0: unchanged).

    Raises:
        ExperimentError: a perturbed weight leaves its range (with ``normalize_weights`` totals).

    """
    if settings.spread == 0:
        return scenario
    states = {}
    for code, state in scenario.states.items():
        try:
            weights = perturbed(state.weights, factors(settings.seed, index, code, settings.spread))
        except ValidationError as exc:
            raise ExperimentError(
                where,
                f"at draw {index} the weights of state {code} leave their range "
                f"({describe_error(exc.errors()[0])}); choose a smaller spread",
                key="perturb_weights.spread",
            ) from None
        states[code] = state.model_copy(update={"weights": weights})
    return scenario.model_copy(update={"states": states})
