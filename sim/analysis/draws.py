"""The statistics of a batch run over posterior draws: per-draw means, and the share with the claimed sign.

An experiment with a ``[posterior]`` table runs every arm at ``N`` draws of a posterior sample,
each draw with ``M`` seeds of its own (shared by the arms); its summaries have a ``draw`` column.
:mod:`sim.analysis.compare` pairs such runs by ``(point, draw, replication)`` and tests each
claim on the values this module gives.

**The interval carries parameter uncertainty.** Each draw has seeds of its own, shared by
the arms, so the runs form clusters: the pairs of one draw. The claim's statistic is the
mean over draws of the per-draw mean differences (every draw weighs the same: the sample is
equal-weight), and its test and interval are the t test and t interval on the ``N`` per-draw
means, ``N - 1`` degrees of freedom. Each per-draw mean varies with its draw (parameter
uncertainty) and with its seeds (simulation noise), and the per-draw means are independent
(the draws are a sample of the posterior, and their seeds are distinct), so their spread
estimates the variance of both sources together: the two-stage (cluster) rule of a nested
design (Cochran, W. G. 1977, *Sampling Techniques*, 3rd ed., Wiley, ch. 10: the variance of
a two-stage mean is estimated from the spread of the first-stage units' means alone). It
needs no variance components and keeps the exact t test and interval that Holm uses; its
cost is ``N - 1`` degrees of freedom, however many seeds each draw has. Beside it,
``share_claimed_sign`` is the share of the draws whose per-draw mean difference has the
claimed sign (strictly below 0 for ``<``, above 0 for ``>``): how much of the posterior
agrees with the claim, whatever the interval says; ``n_draws`` counts the draws with a
complete pair.

The metrics table resamples in the same way: the values its percentile bootstrap resamples
are the per-draw means of the arm (a cluster bootstrap), and its mean is their mean.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from sim.analysis.verdicts import OPS

#: the column of a batch run over posterior draws; with it, runs pair by (point, draw, replication)
DRAW = "draw"


def per_draw(pairs: pd.DataFrame) -> pd.DataFrame:
    """Return the mean of ``a``, ``b`` and ``diff`` over the pairs of each posterior draw (one row a draw).

    The pairs of all sweep points and seeds of a draw are pooled: a draw is one unit of the
    posterior, and the statistics of a claim over draws are taken over these means.
    """
    return pairs.groupby(DRAW, sort=True)[["a", "b", "diff"]].mean()


def claimed_sign_share(draw_means: Sequence[float] | np.ndarray | pd.Series, op: str) -> float:
    """Return the share of posterior draws whose mean difference ``a - b`` has the claimed sign.

    The claimed sign is strictly below 0 for ``"<"`` and strictly above 0 for ``">"`` (a draw whose
    mean difference is 0 does not count); NaN values are left out; NaN without a value.
    """
    if op not in OPS:
        raise ValueError(f"op must be one of {list(OPS)}, got {op!r}")
    x = np.asarray(draw_means, dtype=float)
    x = x[np.isfinite(x)]
    if not x.size:
        return float("nan")
    return float(np.mean(x < 0) if op == "<" else np.mean(x > 0))


def claim_values(pairs: pd.DataFrame) -> tuple[np.ndarray, pd.Series, int | None]:
    """Return the values a claim is tested on, the means of ``a`` and ``b``, and the draws (or None).

    The values are the pairs' differences, or over posterior draws each draw's mean difference.
    """
    if DRAW not in pairs:
        means = pairs[["a", "b"]].mean() if len(pairs) else pd.Series({"a": np.nan, "b": np.nan})
        return pairs["diff"].to_numpy(dtype=float), means, None
    draws = per_draw(pairs)
    means = draws[["a", "b"]].mean() if len(draws) else pd.Series({"a": np.nan, "b": np.nan})
    return draws["diff"].to_numpy(dtype=float), means, len(draws)


def resampled(runs: pd.DataFrame, metric: str, values: np.ndarray) -> np.ndarray:
    """The values a metric's bootstrap resamples: its runs', or over posterior draws each draw's mean."""
    if DRAW not in runs:
        return values
    present = runs[np.isfinite(runs[metric].to_numpy(dtype=float))]
    return present.groupby(DRAW)[metric].mean().to_numpy(dtype=float)


def variance_components(pairs: pd.DataFrame) -> dict[str, float]:
    """Split the variance of the paired differences into a between-draw and a within-draw part.

    The one-way random-effects model ``d = mu + b_draw + e``: ``between`` (the variance of
    ``b``: what the draws' parameters or weights move) and ``within`` (the variance of ``e``: the
    seeds' noise in one pair) by the method of moments (the ANOVA estimator; Searle, Casella and
    McCulloch 1992, *Variance Components*, ch. 3), ``between`` set to 0 when negative. Each draw
    has seeds of its own, so the parts are separable. ``share_pair`` is the between-draw share of
    a single pair's variance, ``share_draw_mean`` that of a per-draw mean over the draw's ``seeds``
    (the mean number of pairs per draw). NaN with fewer than two draws or no repeated seeds.
    """
    nan = float("nan")
    groups = pairs.groupby(DRAW)["diff"]
    n = groups.count().to_numpy(dtype=float)
    k, total = len(n), float(n.sum())
    if k < 2 or total <= k:
        return {"between": nan, "within": nan, "share_pair": nan, "share_draw_mean": nan, "seeds": nan}
    means, grand = groups.mean().to_numpy(dtype=float), float(pairs["diff"].mean())
    within = float(((pairs["diff"] - groups.transform("mean")) ** 2).sum()) / (total - k)
    between_ms = float((n * (means - grand) ** 2).sum()) / (k - 1)
    n0 = (total - float((n**2).sum()) / total) / (k - 1)
    between = max(0.0, (between_ms - within) / n0)
    seeds = total / k
    pair = between + within
    return {
        "between": between,
        "within": within,
        "share_pair": between / pair if pair > 0 else nan,
        "share_draw_mean": between / (between + within / seeds) if pair > 0 else nan,
        "seeds": seeds,
    }
