"""The verdict rule of a claim: paired t test, Holm's adjustment, and the band of practical equivalence.

A claim says that a metric is lower (``"<"``) or higher (``">"``) in arm ``a`` than in arm ``b``,
and names its band: the smallest difference that matters, in the metric's units. The functions
here take numbers (paired differences, p-values, an interval); :mod:`sim.analysis.compare`
pairs the runs and applies them to the claims of an experiment. The rule in words is
:func:`rule_text`, which the command line and the report print. :func:`wilson_interval`
bounds a share of seeds (the validation patterns' intervals).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from scipy import stats

VERDICTS: tuple[str, ...] = (
    "supported", "contradicted", "equivalent", "inconclusive", "no variation", "insufficient data",
)  # fmt: skip
OPS: tuple[str, ...] = ("<", ">")


def paired_t(diffs: Sequence[float] | np.ndarray) -> tuple[float, float]:
    """Return ``(t, p)`` of the two-sided one-sample t test of "mean = 0" on paired differences.

    ``t = mean / (sd / sqrt(n))`` with ``sd`` of ``ddof=1``, and ``p = 2 P(T > |t|)`` for
    Student's T with ``n - 1`` degrees of freedom. NaN values are left out; ``(nan, nan)`` below
    two values or without spread.
    """
    x = np.asarray(diffs, dtype=float)
    x = x[np.isfinite(x)]
    if x.size < 2:
        return (float("nan"), float("nan"))
    sd = float(np.std(x, ddof=1))
    if not sd > 0:
        return (float("nan"), float("nan"))
    t = float(x.mean() / (sd / np.sqrt(x.size)))
    return (t, float(2.0 * stats.t.sf(abs(t), x.size - 1)))


def t_interval(diffs: Sequence[float] | np.ndarray, level: float = 0.95) -> tuple[float, float]:
    """Return the t interval of the mean: ``mean -/+ t(1 - (1 - level) / 2, n - 1) * sd / sqrt(n)``.

    It excludes 0 exactly when :func:`paired_t` gives ``p < 1 - level``. NaN values are left
    out; ``(nan, nan)`` below two values.

    Raises:
        ValueError: If ``level`` is not in (0, 1).

    """
    if not 0.0 < level < 1.0:
        raise ValueError(f"level must be strictly between 0 and 1, got {level}")
    x = np.asarray(diffs, dtype=float)
    x = x[np.isfinite(x)]
    if x.size < 2:
        return (float("nan"), float("nan"))
    half = float(stats.t.ppf(1.0 - (1.0 - level) / 2.0, x.size - 1) * np.std(x, ddof=1) / np.sqrt(x.size))
    mean = float(x.mean())
    return (mean - half, mean + half)


def holm(p_values: Sequence[float] | np.ndarray, alpha: float = 0.05) -> tuple[np.ndarray, np.ndarray]:
    """Holm's step-down procedure (Holm 1979): adjusted p-values, and the level each test was held to.

    Sort the ``m`` p-values, smallest first. Step ``r`` (1, 2, ...) tests the r-th smallest at
    ``alpha / (m - r + 1)``; Holm declares differences while the tests pass and stops at the
    first that does not (it and every larger p-value are not declared). The adjusted p-value of
    step ``r`` is ``min(1, max over steps j <= r of (m - j + 1) p_(j))``; a hypothesis is
    declared exactly when its adjusted p-value is below ``alpha`` (strictly: a p-value equal to
    its threshold is not declared, as an interval that touches 0 does not exclude it).

    The level of each hypothesis is ``alpha / (m - r + 1)`` at its own step ``r`` if declared,
    else that of the step where Holm stopped. A t interval at ``1 - level`` then excludes 0
    exactly when Holm declares the difference: for a declared hypothesis ``p < level``, for the
    others ``p >= p(stop) >= level``. Ties keep the order given.

    Args:
        p_values: One p-value per hypothesis (the claims of one experiment).
        alpha: The familywise error rate, strictly between 0 and 1.

    Returns:
        ``(adjusted, levels)``, both in the order given.

    Raises:
        ValueError: If ``alpha`` is not in (0, 1) or a p-value is not in [0, 1].

    """
    if not 0.0 < alpha < 1.0:
        raise ValueError(f"alpha must be strictly between 0 and 1, got {alpha}")
    p = np.asarray(p_values, dtype=float).reshape(-1)
    if not np.all((p >= 0.0) & (p <= 1.0)):  # also rejects NaN
        raise ValueError(f"p-values must lie in [0, 1], got {p.tolist()}")
    m = p.size
    order = np.argsort(p, kind="stable")
    steps = np.arange(1, m + 1)
    adjusted_sorted = np.minimum(1.0, np.maximum.accumulate((m - steps + 1) * p[order]))
    declared = adjusted_sorted < alpha  # a prefix, since the adjusted values never decrease
    stop = int(steps[~declared][0]) if not declared.all() else m + 1
    held_at = np.where(declared, steps, stop)
    adjusted = np.empty(m)
    levels = np.empty(m)
    adjusted[order] = adjusted_sorted
    levels[order] = alpha / (m - held_at + 1)
    return adjusted, levels


def verdict(op: str, band: float, mean_diff: float, ci_low: float, ci_high: float) -> str:
    """Return the verdict of a claim from the mean of ``a - b``, its interval and the band.

    The claim's direction is "``a - b`` below 0" for ``"<"`` and "above 0" for ``">"``; the band
    ``[-band, +band]`` holds the differences too small to matter. With the interval
    ``[ci_low, ci_high]`` (at the claim's Holm-adjusted level) and the mean difference:

    - ``"supported"``: the interval excludes 0 on the claimed side **and** the mean difference
      lies beyond the band on that side (for ``"<"``: ``ci_high < 0`` and ``mean_diff < -band``);
    - ``"contradicted"``: the same on the other side (for ``"<"``: ``ci_low > 0`` and
      ``mean_diff > band``);
    - ``"equivalent"``: the whole interval lies inside the band (``-band <= ci_low`` and
      ``ci_high <= band``): whatever the difference is, it is too small to matter;
    - ``"inconclusive"``: anything else (the interval reaches 0, or it excludes 0 but the mean
      difference lies inside the band while the interval reaches beyond it).

    The four are exclusive. ``"no variation"`` and ``"insufficient data"`` are decided before
    any interval (see :func:`evaluate_claims`).
    """
    if op not in OPS:
        raise ValueError(f"op must be one of {list(OPS)}, got {op!r}")
    sign = 1.0 if op == ">" else -1.0
    low, high = sorted((sign * ci_low, sign * ci_high))  # oriented: above 0 is the claimed side
    effect = sign * mean_diff
    if low > 0 and effect > band:
        return "supported"
    if high < 0 and effect < -band:
        return "contradicted"
    if -band <= low and high <= band:
        return "equivalent"
    return "inconclusive"


def rule_text(tested: int, alpha: float = 0.05) -> str:
    """Return the verdicts and Holm's adjustment in words, for the command line and the report."""
    claims = "claim" if tested == 1 else "claims"
    return (
        "supported = the interval excludes 0 and the mean difference lies beyond the band, on the "
        "claimed side; contradicted = the same on the other side; equivalent = the whole interval lies "
        "inside the band; inconclusive = anything else; no variation = every pair differs by the same "
        f"amount, so nothing is tested. Holm's adjustment across the {tested} tested {claims} keeps the "
        f"chance of any false supported or contradicted at {alpha:.0%}."
    )


def share_text(claim: Mapping[str, Any]) -> str:
    """Return a claim's share of posterior draws with the claimed sign as ``67% of 3`` (empty if unknown).

    ``claim`` is a row of the claims table (``share_claimed_sign`` and ``n_draws``).
    """
    share, n_draws = claim.get("share_claimed_sign"), claim.get("n_draws")
    if share is None or n_draws is None or not np.isfinite(float(share)):
        return ""
    return f"{float(share):.0%} of {int(n_draws)}"


def wilson_interval(successes: int, n: int, z: float = 1.959963984540054) -> tuple[float, float]:
    """Return the Wilson score interval of a share (95% by default); NaNs when ``n`` is 0.

    Unlike share +- z x standard error it stays inside [0, 1] and does not shrink to a
    point at a share of 0 or 1 (Wilson 1927; Brown, Cai & DasGupta 2001).
    """
    if n <= 0:
        return float("nan"), float("nan")
    p = successes / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    low = 0.0 if successes <= 0 else max(0.0, float(centre - half))  # (exact at the ends)
    high = 1.0 if successes >= n else min(1.0, float(centre + half))
    return low, high
