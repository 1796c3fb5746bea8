"""The posterior of an ABC-SMC fit: weighted summaries, an equal-weight sample, predictive checks.

Everything here takes the last population (parameters on the sampled scale and
normalised weights) and a :class:`~sim.analysis.simulator.Space`; nothing needs pyabc.
``posterior.csv`` (:func:`equal_weight_sample`) is the format experiments draw their
parameters from: a column ``draw``, then one column per fitted parameter named by its
dotted scenario key (``rules.tolerance``, ``parameters.agenda_size``).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from sim.analysis import summaries
from sim.analysis.simulator import Space
from sim.experiments.design import derive_seeds

__all__ = [
    "equal_weight_sample",
    "posterior_correlations",
    "posterior_median",
    "posterior_table",
    "predictive_checks",
    "weighted_quantile",
]


def weighted_quantile(values: np.ndarray, weights: np.ndarray, q: float | np.ndarray) -> np.ndarray:
    """Quantiles of a weighted sample (the inverse of its step distribution function, midpoints)."""
    order = np.argsort(values, kind="stable")
    v, w = values[order], weights[order]
    cum = np.cumsum(w) - 0.5 * w
    cum /= np.sum(w)
    return np.interp(q, cum, v)


def equal_weight_sample(
    population: pd.DataFrame, weights: np.ndarray, space: Space, draws: int, seed: int
) -> pd.DataFrame:
    """Resample the weighted population into ``draws`` equal-weight rows (systematic resampling).

    Columns: ``draw`` (0, 1, ...) then one per parameter named by its dotted key
    (``rules.tolerance``), in scenario units (whole numbers rounded).
    """
    rng = np.random.default_rng(seed)
    positions = (rng.random() + np.arange(draws)) / draws
    cum = np.cumsum(weights / np.sum(weights))
    cum[-1] = 1.0
    rows = np.searchsorted(cum, positions, side="right")
    rows = rng.permutation(rows)  # so the first n draws are a fair sample too
    picked = population.iloc[rows].reset_index(drop=True)
    out: dict[str, Any] = {"draw": np.arange(draws)}
    for name in space.names:
        values = picked[name].to_numpy(dtype=float)
        if name in space.integers:
            out[space.dotted(name)] = [
                space.point({**dict.fromkeys(space.names, 0.0), name: v})[name] for v in values
            ]
        else:
            out[space.dotted(name)] = values
    return pd.DataFrame(out)


def posterior_median(population: pd.DataFrame, weights: np.ndarray, space: Space) -> dict[str, float | int]:
    """The weighted marginal median of each parameter (what ``--apply`` writes), in scenario units.

    Rounded to six significant digits: far finer than the posterior's spread, and a
    scenario file a reader can take in.
    """
    medians = {
        name: float(f"{weighted_quantile(population[name].to_numpy(float), weights, 0.5):.6g}")
        for name in space.names
    }
    return space.point(medians)


def posterior_table(population: pd.DataFrame, weights: np.ndarray, space: Space) -> pd.DataFrame:
    """One row per parameter: prior range, posterior mean, sd, median, 5% and 95% quantiles, contraction.

    Contraction is 1 - posterior variance / prior variance (uniform prior): 0 when the
    record says nothing about the parameter, near 1 when it pins it down. Whole-number
    parameters are summarised in scenario units (rounded), against their discrete prior.
    """
    rows = []
    for name in space.names:
        values = population[name].to_numpy(dtype=float)
        low, high = space.ranges[name]
        prior_var = (high - low) ** 2 / 12.0
        if name in space.integers:  # in scenario units: rounded, against the discrete uniform prior
            values = np.clip(np.round(values), low, high)
            prior_var = ((high - low + 1) ** 2 - 1) / 12.0
        mean = float(np.sum(weights * values))
        var = float(np.sum(weights * (values - mean) ** 2))
        q05, q50, q95 = weighted_quantile(values, weights, np.array([0.05, 0.5, 0.95]))
        rows.append(
            {
                "parameter": space.dotted(name),
                "low": space.ranges[name][0],
                "high": space.ranges[name][1],
                "mean": mean,
                "sd": var**0.5,
                "q05": float(q05),
                "median": float(q50),
                "q95": float(q95),
                "contraction": 1.0 - var / prior_var,
            }
        )
    return pd.DataFrame(rows)


def posterior_correlations(population: pd.DataFrame, weights: np.ndarray, space: Space) -> pd.DataFrame:
    """Weighted correlation matrix of the parameters in the last population (dotted keys)."""
    values = population[space.names].to_numpy(dtype=float)
    mean = weights @ values
    centred = values - mean
    cov = (centred * weights[:, None]).T @ centred
    sd = np.sqrt(np.diag(cov))
    corr = cov / np.outer(sd, sd)
    keys = [space.dotted(n) for n in space.names]
    return pd.DataFrame(corr, index=keys, columns=keys)


def _simulate_points(
    scenario: str, space: Space, points: list[dict[str, float]], seeds: list[int], workers: int
) -> np.ndarray:
    """Summaries of many points (one seed each), in batches of 25 per worker task."""
    from sim.analysis.simulator import simulate_batch
    from sim.experiments.executors import ExecutorChoice, run_tasks

    size = 25
    tasks = [
        (scenario, space, points[i : i + size], seeds[i : i + size]) for i in range(0, len(points), size)
    ]
    parts = run_tasks(simulate_batch, tasks, ExecutorChoice.for_workers(workers))
    return np.array([row for rows, _ in parts for row in rows], dtype=float)


def predictive_checks(
    scenario: str, space: Space, sample: pd.DataFrame, draws: int, seed: int, workers: int = 1
) -> pd.DataFrame:
    """Prior and posterior predictive distribution of every summary against the record.

    ``draws`` rows of the equal-weight posterior ``sample`` (the first ones) and as many
    points of a Latin hypercube over the priors are each simulated on one fresh seed
    (children of ``seed`` + 2, which the fit never used). Per summary: the record's value,
    the prior and posterior predictive mean and 5-95% range, and the posterior predictive
    p-value 2 min(P(sim <= record), P(sim >= record)) (1 = the record is typical of the fitted
    model; near 0 = the fitted model cannot reproduce it).
    """
    from sim.experiments.sampling import Dimension, draw

    columns = {space.dotted(n): n for n in space.names}
    posterior_points = [
        {columns[c]: float(v) for c, v in row.items() if c in columns}
        for row in sample.head(draws).to_dict("records")
    ]
    dims = [Dimension(n, *space.bounds(n)) for n in space.names]
    prior_rows = draw("latin_hypercube", dims, seed + 2, samples=len(posterior_points))
    prior_points = [dict(zip(space.names, map(float, row), strict=True)) for row in prior_rows]
    seeds = derive_seeds(seed + 2, 2 * len(posterior_points))
    n = len(posterior_points)
    both = _simulate_points(scenario, space, posterior_points + prior_points, seeds, workers)
    post, prior = both[:n], both[n:]
    rows = []
    for j, name in enumerate(summaries.NAMES):
        record = summaries.OBSERVED[name]
        values = post[:, j][~np.isnan(post[:, j])]
        before = prior[:, j][~np.isnan(prior[:, j])]
        low, high = (
            (np.mean(values <= record), np.mean(values >= record)) if len(values) else (np.nan, np.nan)
        )
        rows.append(
            {
                "summary": name,
                "record": record,
                "prior_mean": float(np.mean(before)) if len(before) else np.nan,
                "prior_q05": float(np.quantile(before, 0.05)) if len(before) else np.nan,
                "prior_q95": float(np.quantile(before, 0.95)) if len(before) else np.nan,
                "posterior_mean": float(np.mean(values)) if len(values) else np.nan,
                "posterior_q05": float(np.quantile(values, 0.05)) if len(values) else np.nan,
                "posterior_q95": float(np.quantile(values, 0.95)) if len(values) else np.nan,
                "at_record": float(np.mean(np.isclose(values, record))) if len(values) else np.nan,
                "p_value": float(min(1.0, 2 * min(low, high))),
            }
        )
    return pd.DataFrame(rows)
