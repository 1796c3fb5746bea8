"""Compare the arms of a batch: paired differences, intervals, effect sizes and verdicts.

The analysis only takes tables: ``summaries`` has one row per run (``run_index``,
``run_id``, ``arm``, ``point``, ``replication``, ``seed``, ``status``, ``error`` and one
float column per metric).

Method:

- **Paired design with common random numbers.** The runs of two arms that share a sweep
  ``point`` and a ``replication`` start from the same seed, so they are compared as pairs and
  the statistic is the mean of the within-pair differences ``a - b``. Pairing is always by
  ``(point, replication)``, never by row order. Runs whose ``status`` is not ``"ok"`` (failed
  runs) and runs whose metric is missing are left out, and so is their partner; failures are
  counted and reported.
- **Claims: paired t, Holm across the claims of an experiment.** Each claim's differences
  get a two-sided one-sample t test of "mean difference = 0" (Student 1908; the paired t
  test). The p-values of the claims evaluated together (the claims of one experiment) are
  adjusted with Holm's step-down procedure (Holm, S. 1979, "A simple sequentially
  rejective multiple test procedure", *Scandinavian Journal of Statistics* 6:65-70), and
  each claim's t interval is drawn at the level at which Holm tested it
  (:func:`sim.analysis.verdicts.holm`),
  so that an interval excludes 0 exactly when Holm declares a difference. The t interval,
  not a percentile bootstrap, because Holm needs p-values and interval ends far in the tails
  (1 - 0.05/13 = 99.6% for 13 claims): 2000 bootstrap means put about four draws beyond such
  a quantile, so its end would be resampling noise, while the t interval and p-value are
  exact functions of the data, at any level, and agree with each other by construction.
- **Posterior draws: the interval carries parameter uncertainty.** A batch run over
  posterior draws (its summaries have a ``draw`` column) pairs by ``(point, draw,
  replication)`` and tests each claim on the per-draw mean differences: see
  :mod:`sim.analysis.draws` for the method, and ``share_claimed_sign``.
- **Verdicts with a band of practical equivalence.** Every claim names the smallest
  difference that matters (``band``, in the metric's units); :func:`sim.analysis.verdicts.verdict`
  gives the rule.
- **Percentile bootstrap** of a mean, for the metrics table (Efron, B. & Tibshirani, R. J.
  1993, *An Introduction to the Bootstrap*, Chapman & Hall, ch. 13): resample the values with
  replacement ``n_boot`` times and take the ``(1 - level) / 2`` and ``(1 + level) / 2``
  quantiles of the resampled means. Over posterior draws the values resampled are the
  per-draw means of the arm (a cluster bootstrap), and the mean is their mean. The resampling draws from
  ``numpy.random.default_rng(seed)``; the default seed is the one ``sco-sim compare`` uses,
  so the same values give the same interval in a notebook as in ``metrics.csv``.
- **Effect size** for paired data, Cohen's d_z = mean of the differences / standard
  deviation of the differences (``ddof=1``) (Lakens, D. 2013, "Calculating and reporting
  effect sizes to facilitate cumulative science", *Frontiers in Psychology* 4:863, eq. 7).

A claim reads "``metric`` in ``arm_a`` ``op`` ``metric`` in ``arm_b``"; see
:func:`evaluate_claims` for what is computed and :func:`verdict` for the verdicts.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from sim.analysis.draws import DRAW, claim_values, claimed_sign_share, resampled
from sim.analysis.verdicts import OPS, holm, paired_t, t_interval, verdict
from sim.analysis.verdicts import VERDICTS as VERDICTS  # re-exported: the verdicts a claim can get

#: the seed and size of the bootstrap of the metrics table, shared by ``sco-sim compare`` and notebooks
BOOTSTRAP_SEED = 20180609
N_BOOT = 2000
#: differences whose spread is below this share of their size count as all equal (float rounding)
EQUAL_TOLERANCE = 1e-12

CLAIM_COLUMNS: tuple[str, ...] = (
    "id", "hypothesis", "label", "statement", "metric", "arm_a", "arm_b", "op", "band", "band_reason",
    "n_pairs", "n_failed", "mean_a", "mean_b", "mean_diff", "sd_diff", "effect_size", "p_value", "p_holm",
    "ci_level", "ci_low", "ci_high", "verdict", "note", "n_draws", "share_claimed_sign",
)  # fmt: skip
METRIC_COLUMNS: tuple[str, ...] = (
    "metric", "arm", "n", "n_failed", "n_missing", "mean", "ci_low", "ci_high", "median", "sd",
)  # fmt: skip
PAIR_KEYS: tuple[str, str] = ("point", "replication")


def pair_keys(summaries: pd.DataFrame) -> tuple[str, ...]:
    """The columns that pair runs: ``(point, replication)``, and ``draw`` between them over draws."""
    return ("point", DRAW, "replication") if DRAW in summaries else PAIR_KEYS


def _ok_mask(summaries: pd.DataFrame) -> pd.Series:
    """Return True for runs that finished (a table without ``status`` counts every run as ok)."""
    if "status" not in summaries:
        return pd.Series(True, index=summaries.index)
    return summaries["status"].astype(str) == "ok"


def _require(summaries: pd.DataFrame, columns: Iterable[str]) -> None:
    missing = [c for c in columns if c not in summaries]
    if missing:
        raise ValueError(f"summaries table lacks columns {missing}; it has {list(summaries.columns)}")


def _require_arms(summaries: pd.DataFrame, arms: Iterable[str]) -> None:
    known = set(summaries["arm"].astype(str))
    unknown = [a for a in arms if a not in known]
    if unknown:
        raise ValueError(f"unknown arm(s) {unknown}; the summaries hold {sorted(known)}")


def _arm_runs(summaries: pd.DataFrame, metric: str, arm: str) -> pd.DataFrame:
    """Return the usable runs of one arm (finished, metric present), indexed by pair key."""
    keys = list(pair_keys(summaries))
    runs = summaries[(summaries["arm"] == arm) & _ok_mask(summaries)]
    runs = runs[np.isfinite(runs[metric].to_numpy(dtype=float))]
    duplicated = runs.duplicated(keys)
    if duplicated.any():
        found = runs.loc[duplicated, keys].to_records(index=False).tolist()
        raise ValueError(f"arm {arm!r} has more than one run for ({', '.join(keys)}) {found[:5]}")
    return runs.set_index(keys)[metric].astype(float)


def paired_differences(summaries: pd.DataFrame, metric: str, arm_a: str, arm_b: str) -> pd.DataFrame:
    """Pair the runs of two arms by ``(point, replication)`` and return their differences.

    Runs with the same sweep point and replication share a seed (common random numbers),
    so each pair differs only by the arm. Over posterior draws (a ``draw`` column), runs
    pair by ``(point, draw, replication)``. A pair is dropped when either run failed, is
    absent, or has no value for the metric.

    Args:
        summaries: One row per run (columns ``arm``, ``point``, ``replication``, ``status``
            and the metric).
        metric: The metric column to compare.
        arm_a: The first arm (``a`` in ``diff = a - b``).
        arm_b: The second arm.

    Returns:
        A DataFrame with columns ``point``, ``replication``, ``a``, ``b`` and ``diff``
        (``a - b``), one row per complete pair, sorted by point and replication (and
        ``draw`` after ``point`` over posterior draws).

    Raises:
        ValueError: If a column or an arm is missing, or an arm has two runs with the
            same ``(point, replication)``.

    """
    keys = pair_keys(summaries)
    _require(summaries, ("arm", *keys, metric))
    _require_arms(summaries, (arm_a, arm_b))
    a = _arm_runs(summaries, metric, arm_a).rename("a")
    b = _arm_runs(summaries, metric, arm_b).rename("b")
    pairs = pd.concat([a, b], axis=1, join="inner").sort_index().reset_index()
    pairs["diff"] = pairs["a"] - pairs["b"]
    return pairs[[*keys, "a", "b", "diff"]].reset_index(drop=True)


def bootstrap_ci(
    values: Sequence[float] | np.ndarray | pd.Series,
    level: float = 0.95,
    n_boot: int = N_BOOT,
    seed: int = BOOTSTRAP_SEED,
) -> tuple[float, float]:
    """Return the percentile bootstrap interval of the mean (Efron & Tibshirani 1993).

    Args:
        values: The sample; missing (NaN) values are left out.
        level: Coverage of the interval, strictly between 0 and 1.
        n_boot: Number of bootstrap resamples.
        seed: Seed of the resampling generator; the same seed gives the same interval. The
            default is the seed of ``sco-sim compare`` (``BOOTSTRAP_SEED``), so an interval
            computed here equals the one in ``metrics.csv``.

    Returns:
        ``(low, high)``; ``(nan, nan)`` when fewer than two values are left, since one
        value says nothing about the spread of the mean.

    Raises:
        ValueError: If ``level`` is not in (0, 1) or ``n_boot`` is below 1.

    """
    if not 0.0 < level < 1.0:
        raise ValueError(f"level must be strictly between 0 and 1, got {level}")
    if n_boot < 1:
        raise ValueError(f"n_boot must be at least 1, got {n_boot}")
    sample = np.asarray(values, dtype=float)
    sample = sample[np.isfinite(sample)]
    n = sample.size
    if n < 2:
        return (float("nan"), float("nan"))
    rng = np.random.default_rng(seed)
    means = np.empty(n_boot)
    # Chunks keep the index matrix small for large samples; the draws are the same as in one go.
    chunk = max(1, 2_000_000 // n)
    for start in range(0, n_boot, chunk):
        stop = min(n_boot, start + chunk)
        means[start:stop] = sample[rng.integers(0, n, size=(stop - start, n))].mean(axis=1)
    tail = (1.0 - level) / 2.0
    low, high = np.quantile(means, [tail, 1.0 - tail])
    return (float(low), float(high))


def _claim_field(claim: Any, name: str, default: str | None = None) -> Any:
    """Read a field from a mapping or an object (a claim may be either); required without a default."""
    value = claim.get(name) if isinstance(claim, Mapping) else getattr(claim, name, None)
    if value is None:
        if default is None:
            raise ValueError(f"claim {claim!r} has no {name!r}")
        return default
    return value


def _band(claim: Any, claim_id: str) -> float:
    """Return the claim's band: a finite number above 0 (the experiment schema checks files the same way)."""
    value = _claim_field(claim, "band")
    try:
        band = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"claim {claim_id!r}: band must be a number, got {value!r}") from None
    if isinstance(value, bool) or not np.isfinite(band) or band <= 0:
        raise ValueError(f"claim {claim_id!r}: band must be a finite number above 0, got {value!r}")
    return band


def _all_equal(diffs: np.ndarray) -> bool:
    """Return True if the differences do not vary (up to float rounding in ``a - b``)."""
    return float(np.ptp(diffs)) <= EQUAL_TOLERANCE * max(1.0, float(np.max(np.abs(diffs))))


def _side(op: str, band: float, value: float) -> str:
    """Say where a difference lies against the band, in words."""
    if abs(value) <= band:
        return "inside the band"
    claimed = (value < 0) == (op == "<")
    return "beyond the band on the claimed side" if claimed else "beyond the band against the claim"


def _paired_claim(summaries: pd.DataFrame, claim: Any) -> dict[str, Any]:
    """Pair the runs of one claim and describe the differences; decide what needs no test."""
    keys = ("id", "metric", "arm_a", "arm_b", "op")
    claim_id, metric, arm_a, arm_b, op = (str(_claim_field(claim, k)) for k in keys)
    if op not in OPS:
        raise ValueError(f"claim {claim_id!r}: op must be one of {list(OPS)}, got {op!r}")
    band = _band(claim, claim_id)
    pairs = paired_differences(summaries, metric, arm_a, arm_b)
    in_arms = summaries["arm"].isin([arm_a, arm_b])
    n_failed = int((in_arms & ~_ok_mask(summaries)).sum())
    notes = [f"{n_failed} failed run(s) excluded"] if n_failed else []
    diffs = pairs["diff"].to_numpy(dtype=float)
    n, nan = int(diffs.size), float("nan")
    units, means, n_draws = claim_values(pairs)
    mean_diff = float(units.mean()) if n else nan
    row: dict[str, Any] = {
        "id": claim_id,
        "hypothesis": str(_claim_field(claim, "hypothesis", "")),
        "label": str(_claim_field(claim, "label", "")),
        "statement": f"{metric}[{arm_a}] {op} {metric}[{arm_b}]",
        "metric": metric,
        "arm_a": arm_a,
        "arm_b": arm_b,
        "op": op,
        "band": band,
        "band_reason": str(_claim_field(claim, "band_reason", "")),
        "n_pairs": n,
        "n_failed": n_failed,
        "mean_a": float(means["a"]),
        "mean_b": float(means["b"]),
        "mean_diff": mean_diff,
        "sd_diff": float(np.std(diffs, ddof=1)) if n > 1 else nan,
        "effect_size": nan,
        "p_value": nan,
        "p_holm": nan,
        "ci_level": nan,
        "ci_low": nan,
        "ci_high": nan,
        "verdict": None,
        "n_draws": n_draws,
        "share_claimed_sign": claimed_sign_share(units, op) if n_draws is not None else None,
        "_diffs": units,
        "_notes": notes,
    }
    return _decide(row, diffs)


def _decide(row: dict[str, Any], diffs: np.ndarray) -> dict[str, Any]:
    """Decide what needs no test (too few pairs or draws, no variation); else give the p-value."""
    n, n_draws, units, notes = row["n_pairs"], row["n_draws"], row["_diffs"], row["_notes"]
    op, band, mean_diff = row["op"], row["band"], row["mean_diff"]
    if n < 2:
        notes.append(f"{n} complete pair(s); at least 2 are needed")
        row["verdict"] = "insufficient data"
    elif _all_equal(diffs):
        row["sd_diff"] = 0.0
        row["ci_low"] = row["ci_high"] = mean_diff
        notes.append(
            f"all paired differences are equal ({mean_diff:+.6g} in each of {n} pairs, "
            f"{_side(op, band, mean_diff)}): nothing varies between seeds, so nothing is tested "
            "and d_z is undefined"
        )
        row["verdict"] = "no variation"
    elif n_draws is not None and n_draws < 2:
        notes.append(
            f"{n_draws} posterior draw(s) with complete pairs; at least 2 are needed for an interval "
            "over draws"
        )
        row["verdict"] = "insufficient data"
    elif n_draws is not None and _all_equal(units):
        row["ci_low"] = row["ci_high"] = mean_diff
        notes.append(
            f"every posterior draw has the same mean difference ({mean_diff:+.6g}, "
            f"{_side(op, band, mean_diff)}): nothing varies between draws, so nothing is tested"
        )
        row["verdict"] = "no variation"
    else:
        row["effect_size"] = mean_diff / row["sd_diff"]
        row["p_value"] = paired_t(units)[1]
    return row


def _judge(rows: list[dict[str, Any]], level: float) -> list[dict[str, Any]]:
    """Adjust the tested claims with Holm, draw their intervals, give verdicts and notes."""
    tested = [row for row in rows if row["verdict"] is None]
    adjusted, levels = holm([row["p_value"] for row in tested], alpha=1.0 - level)
    for row, p_holm, alpha in zip(tested, adjusted, levels, strict=True):
        row["p_holm"] = float(p_holm)
        row["ci_level"] = float(1.0 - alpha)
        low, high = t_interval(row["_diffs"], 1.0 - alpha)
        row["ci_low"], row["ci_high"] = low, high
        op, band = row["op"], row["band"]
        row["verdict"] = verdict(op, band, row["mean_diff"], low, high)
        near = high if op == "<" else low  # the end of the interval nearer to 0 on the claimed side
        if row["verdict"] == "supported" and abs(near) <= band:
            row["_notes"].append(
                f"the interval reaches into the band (to {near:+.6g}): a difference smaller than the band "
                "is not ruled out"
            )
        elif row["verdict"] == "inconclusive" and (low > 0 or high < 0) and abs(row["mean_diff"]) <= band:
            row["_notes"].append("the interval excludes 0, but the mean difference lies inside the band")
    out = []
    for row in rows:
        notes = row.pop("_notes")
        row.pop("_diffs")
        row["note"] = "; ".join(notes)
        out.append(row)
    return out


def evaluate_claims(summaries: pd.DataFrame, claims: Iterable[Any], level: float = 0.95) -> pd.DataFrame:
    """Test the claims of one experiment on paired runs, with Holm's adjustment across them.

    For each claim the runs are paired by ``(point, replication)`` (see
    :func:`paired_differences`) and the differences ``a - b`` are described by their mean,
    standard deviation and Cohen's d_z. Then:

    1. fewer than two complete pairs: ``"insufficient data"``;
    2. all differences equal (up to float rounding): ``"no variation"``; the interval is that one
       value, and nothing is tested;
    3. every other claim gets the p-value of the paired t test (:func:`paired_t`); the claims of
       this step form the family that :func:`holm` adjusts at ``alpha = 1 - level``; each gets
       its t interval at its Holm level (``ci_level``), and its verdict from that interval, the
       mean difference and the band (:func:`verdict`).

    Over posterior draws (a ``draw`` column in ``summaries``) the runs pair by ``(point, draw,
    replication)``, and steps 1-3 take the per-draw mean differences as their values (see the
    module's docstring): ``mean_diff``, ``mean_a`` and ``mean_b`` are means over draws, the test
    and the interval are on ``n_draws`` per-draw means (fewer than two draws: ``"insufficient
    data"``), and ``share_claimed_sign`` is the share of draws whose mean difference has the
    claimed sign. Without draws, ``n_draws`` and ``share_claimed_sign`` are empty.

    Args:
        summaries: One row per run.
        claims: Mappings or objects, each with fields ``id``, ``metric``, ``arm_a``, ``op``
            (``"<"`` or ``">"``), ``arm_b``, ``band`` (a finite number above 0, in the metric's
            units) and optionally ``band_reason``, ``hypothesis`` and ``label``.
        level: The familywise confidence: Holm keeps the chance that any claim is declared
            supported or contradicted although its mean difference is 0 at most ``1 - level``.

    Returns:
        One row per claim, in the order given, with the columns in ``CLAIM_COLUMNS``:
        ``n_failed`` (failed runs in the two arms), ``mean_a``, ``mean_b`` (over the paired
        runs), ``mean_diff`` (``a - b``), ``sd_diff``, ``effect_size`` (d_z), ``p_value`` (paired
        t, unadjusted), ``p_holm``, ``ci_level``, ``ci_low``, ``ci_high``, ``verdict`` and ``note``
        (why a figure is missing, and what the reader should know about the verdict).

    Raises:
        ValueError: If ``level`` is not in (0, 1), or a claim lacks a field, has an unknown
            ``op`` or a band that is not a finite number above 0, or names an arm or a metric
            that the summaries do not hold.

    """
    if not 0.0 < level < 1.0:
        raise ValueError(f"level must be strictly between 0 and 1, got {level}")
    rows = _judge([_paired_claim(summaries, claim) for claim in claims], level)
    return pd.DataFrame(rows, columns=list(CLAIM_COLUMNS))


def evaluate_claims_by_point(
    summaries: pd.DataFrame, claims: Iterable[Any], level: float = 0.95
) -> pd.DataFrame:
    """Test every claim at every sweep point on its own, with Holm's adjustment across all of them.

    The runs of each ``point`` are paired and judged as in :func:`evaluate_claims`; the family
    that Holm adjusts is every claim at every point (``claims x points`` tests), so the chance
    of any false supported or contradicted verdict in the whole table stays at ``1 - level``.

    Returns:
        One row per point and claim (points in order, claims in the order given), with
        ``point`` followed by the columns of ``CLAIM_COLUMNS``.

    """
    if not 0.0 < level < 1.0:
        raise ValueError(f"level must be strictly between 0 and 1, got {level}")
    _require(summaries, ("arm", *PAIR_KEYS))
    claims = list(claims)
    rows, points = [], []
    for point in sorted(pd.unique(summaries["point"])):
        runs = summaries[summaries["point"] == point]
        for claim in claims:
            rows.append(_paired_claim(runs, claim))
            points.append(int(point))
    table = pd.DataFrame(_judge(rows, level), columns=list(CLAIM_COLUMNS))
    table.insert(0, "point", points)
    return table


def evaluate_claim(summaries: pd.DataFrame, claim: Any, level: float = 0.95) -> dict[str, Any]:
    """Test one claim on its own (a family of one, so no adjustment); see :func:`evaluate_claims`.

    Returns:
        A dict with the keys of ``CLAIM_COLUMNS``.

    """
    if not 0.0 < level < 1.0:
        raise ValueError(f"level must be strictly between 0 and 1, got {level}")
    return _judge([_paired_claim(summaries, claim)], level)[0]


def metric_table(
    summaries: pd.DataFrame,
    metrics: Sequence[str],
    arms: Sequence[str],
    level: float = 0.95,
    n_boot: int = N_BOOT,
    seed: int = BOOTSTRAP_SEED,
) -> pd.DataFrame:
    """Describe each metric in each arm over its finished runs.

    Args:
        summaries: One row per run.
        metrics: Metric columns to describe.
        arms: Arms, in the order the rows should follow.
        level: Coverage of the bootstrap interval of the mean.
        n_boot: Number of bootstrap resamples.
        seed: Seed of the bootstrap, used afresh for each cell.

    Returns:
        One row per metric and arm with columns ``metric``, ``arm``, ``n`` (runs used),
        ``n_failed`` (failed runs, left out), ``n_missing`` (finished runs without a value,
        left out), ``mean``, ``ci_low``, ``ci_high``, ``median`` and ``sd`` (``ddof=1``;
        NaN below two runs). Over posterior draws (a ``draw`` column), ``mean`` is the mean of
        the arm's per-draw means and the bootstrap resamples those means (a cluster bootstrap:
        runs of one draw share its parameters); ``median`` and ``sd`` are over runs.

    Raises:
        ValueError: If a metric column or an arm is missing.

    """
    _require(summaries, ("arm", *metrics))
    _require_arms(summaries, arms)
    ok = _ok_mask(summaries)
    rows = []
    for metric in metrics:
        for arm in arms:
            in_arm = summaries["arm"] == arm
            finished = summaries.loc[in_arm & ok, metric].to_numpy(dtype=float)
            values = finished[np.isfinite(finished)]
            n = int(values.size)
            units = resampled(summaries.loc[in_arm & ok], metric, values)
            ci_low, ci_high = bootstrap_ci(units, level=level, n_boot=n_boot, seed=seed)
            rows.append(
                {
                    "metric": metric,
                    "arm": arm,
                    "n": n,
                    "n_failed": int((in_arm & ~ok).sum()),
                    "n_missing": int(finished.size - n),
                    "mean": float(units.mean()) if n else float("nan"),
                    "ci_low": ci_low,
                    "ci_high": ci_high,
                    "median": float(np.median(values)) if n else float("nan"),
                    "sd": float(np.std(values, ddof=1)) if n > 1 else float("nan"),
                }
            )
    return pd.DataFrame(rows, columns=list(METRIC_COLUMNS))
