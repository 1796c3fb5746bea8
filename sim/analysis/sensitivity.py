"""Global sensitivity analysis: how far do the effects behind H1 and H3 depend on the free parameters.

The design (free parameters, effects, the sample as runs) is :mod:`sim.experiments.sensitivity`.
This module reads only the stored tables and the manifest, like :mod:`sim.analysis.compare`:

- **Effect per point.** The mean over replications of the paired difference
  ``metric[arm_a] - metric[arm_b]`` (pairs as in :mod:`sim.analysis.compare`), with its
  standard error.
- **Analyse.** ``SALib.analyze.morris.analyze`` (mu, mu_star with its bootstrap
  interval, sigma; Morris 1991, Campolongo et al. 2007) or ``SALib.analyze.sobol.analyze``
  (S1 and ST with intervals; Saltelli et al. 2010).
- **Fragility.** A finding whose sign flips inside the plausible ranges is fragile;
  see :func:`classify` for the exact rule.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from sim.analysis import compare
from sim.errors import InputError
from sim.experiments.claims import ParsedEffect
from sim.experiments.sensitivity import FreeParameter, problem

POINT_LEVEL = 0.95  # a point's effect has a clear sign when its t interval at this level excludes 0
ANALYSIS_SEED = 20180609  # the bootstrap of the indices' intervals (non-zero: SALib treats 0 as "no seed")
N_RESAMPLES = 1000
CONF_LEVEL = 0.95
TOP = 3  # parameters named as most responsible for a verdict
VERDICTS = ("robust", "fragile", "uncertain", "insufficient data")
INDEX_COLUMNS = {
    "morris": ["mu_star", "mu_star_conf", "sigma", "mu"],
    "sobol": ["ST", "ST_conf", "S1", "S1_conf"],
}


def point_effects(summaries: pd.DataFrame, effect: ParsedEffect, n_points: int) -> pd.DataFrame:
    """Return each sample point's effect: the mean paired difference over its replications.

    Args:
        summaries: One row per run (``arm``, ``point``, ``replication``, ``status``, the metric).
        effect: The effect.
        n_points: Number of sample points (points without a complete pair get NaN).

    Returns:
        Columns ``point``, ``n`` (complete pairs), ``effect`` (mean of ``a - b``), ``se``
        (standard error of that mean, ``sd / sqrt(n)`` with ``ddof=1``), ``margin`` (half-width
        of the mean's 95% t interval, ``t(0.975, n - 1) * se``; ``se`` and ``margin`` are NaN
        below two pairs) and ``sign`` (see :func:`point_signs`).

    """
    from scipy.stats import t as student

    pairs = compare.paired_differences(summaries, effect.metric, effect.arm_a, effect.arm_b)
    grouped = pairs.groupby("point")["diff"]
    table = pd.DataFrame({"n": grouped.count(), "effect": grouped.mean(), "sd": grouped.std(ddof=1)})
    table = table.reindex(range(n_points))
    table.index.name = "point"
    table["n"] = table["n"].fillna(0).astype(int)
    table["se"] = table["sd"] / np.sqrt(table["n"].where(table["n"] > 0))
    n = table["n"].to_numpy()
    quantile = np.full(len(table), np.nan)
    quantile[n > 1] = student.ppf(0.5 + POINT_LEVEL / 2, n[n > 1] - 1)
    table["margin"] = quantile * table["se"].to_numpy(float)
    table = table.drop(columns="sd").reset_index()
    table["sign"] = point_signs(table["effect"].to_numpy(float), table["margin"].to_numpy(float))
    return table[["point", "n", "effect", "se", "margin", "sign"]]


def point_signs(effect: np.ndarray, margin: np.ndarray) -> list[str]:
    """Label each point's effect ``negative``, ``positive``, ``unclear`` or ``missing``.

    A point is ``negative`` when ``effect + margin < 0`` and ``positive`` when
    ``effect - margin > 0`` (its interval lies on one side of 0); otherwise ``unclear``
    (within noise of 0). Where the margin is unknown (one replication) the sign of the
    effect decides, and an effect of exactly 0 is ``unclear``.
    """
    labels = []
    for value, half in zip(effect, margin, strict=True):
        if not np.isfinite(value):
            labels.append("missing")
            continue
        half = half if np.isfinite(half) else 0.0
        labels.append("negative" if value + half < 0 else "positive" if value - half > 0 else "unclear")
    return labels


def classify(points: pd.DataFrame, expected: str | None = None) -> dict[str, Any]:
    """Summarise the sign of an effect over the sample and give the verdict.

    Rule (``sign`` per point from :func:`point_signs`, over the points with a value):

    - ``fragile``: some points are clearly negative and some clearly positive: the sign
      flips inside the plausible ranges, beyond run-to-run noise;
    - ``robust``: every point is clearly on the same side of 0;
    - ``uncertain``: no clear flip, but at some points the effect is within noise of 0;
    - ``insufficient data``: no point has a value.

    Returns:
        A dict with ``n_points``, ``n_missing``, ``mean``, ``min``, ``max``,
        ``share_negative`` and ``share_positive`` (raw signs of the point effects),
        ``n_clear_negative``, ``n_clear_positive``, ``n_unclear``, ``noise`` (how the
        noise was judged), ``direction`` (``negative``, ``positive``, ``both`` or ``none``:
        the clear signs seen), ``expected``, ``as_expected`` (None without an expectation)
        and ``verdict``.

    """
    values = points["effect"].to_numpy(float)
    present = values[np.isfinite(values)]
    signs = points["sign"]
    n = int(present.size)
    neg, pos = int((signs == "negative").sum()), int((signs == "positive").sum())
    unclear = int((signs == "unclear").sum())
    if n == 0:
        verdict = "insufficient data"
    elif neg and pos:
        verdict = "fragile"
    elif neg == n or pos == n:
        verdict = "robust"
    else:
        verdict = "uncertain"
    direction = "both" if neg and pos else "negative" if neg else "positive" if pos else "none"
    with_margin = int(np.isfinite(points["margin"].to_numpy(float)).sum())
    nan = float("nan")
    return {
        "n_points": len(points),
        "n_missing": int(len(points) - n),
        "mean": float(present.mean()) if n else nan,
        "min": float(present.min()) if n else nan,
        "max": float(present.max()) if n else nan,
        "share_negative": float((present < 0).mean()) if n else nan,
        "share_positive": float((present > 0).mean()) if n else nan,
        "n_clear_negative": neg,
        "n_clear_positive": pos,
        "n_unclear": unclear,
        "noise": (
            f"{POINT_LEVEL:.0%} t interval of the point's mean over replications"
            if with_margin == n and n
            else "not estimated (one replication per point): the sign of each point's effect decides"
        ),
        "direction": direction,
        "expected": expected,
        "as_expected": None if expected is None or direction in ("both", "none") else direction == expected,
        "verdict": verdict,
    }


def indices(method: str, parameters: list[FreeParameter], sample: np.ndarray, y: np.ndarray,
            levels: int = 4) -> pd.DataFrame:  # fmt: skip
    """Compute the sensitivity indices of one output with SALib.

    Morris (``SALib.analyze.morris``): ``mu_star`` (mean absolute elementary effect), its
    95% bootstrap interval half-width ``mu_star_conf``, ``sigma`` (spread of the elementary
    effects: interactions or non-linearity) and ``mu`` (signed mean; ``|mu|`` well below
    ``mu_star`` means the parameter pushes the output both ways). An elementary effect is
    the change of the output per unit of the parameter's range (the range scaled to 0-1),
    so ``mu_star`` is in the output's units: roughly the change across the whole range.

    Sobol' (``SALib.analyze.sobol``): first-order ``S1`` and total ``ST`` indices (shares
    of the output's variance) with 95% bootstrap interval half-widths.

    A constant output has all indices 0 (SALib would warn and divide by zero).

    Returns:
        One row per parameter, in the order given: ``parameter``, ``key``, ``low``,
        ``high`` and the method's index columns (``INDEX_COLUMNS``).

    """
    problem_dict = problem(parameters)
    y = np.asarray(y, dtype=float)
    columns = INDEX_COLUMNS[method]
    if not np.isfinite(y).all():
        raise ValueError("the output has missing values at some sample points; indices need every point")
    if np.ptp(y) == 0:
        values: dict[str, Any] = {c: np.zeros(len(parameters)) for c in columns}
    elif method == "morris":
        from SALib.analyze import morris

        result = morris.analyze(problem_dict, np.asarray(sample, dtype=float), y, num_resamples=N_RESAMPLES,
                                conf_level=CONF_LEVEL, num_levels=levels, seed=ANALYSIS_SEED)  # fmt: skip
        values = {c: np.asarray(result[c], dtype=float) for c in columns}
    else:
        from SALib.analyze import sobol

        result = sobol.analyze(problem_dict, y, calc_second_order=False, num_resamples=N_RESAMPLES,
                               conf_level=CONF_LEVEL, seed=ANALYSIS_SEED)  # fmt: skip
        values = {c: np.asarray(result[c], dtype=float) for c in columns}
    table = pd.DataFrame(
        {
            "parameter": [p.name for p in parameters],
            "key": [p.key for p in parameters],
            "low": [p.low for p in parameters],
            "high": [p.high for p in parameters],
            **values,
        }
    )
    if any(p.distribution != "uniform" for p in parameters):  # some drawn from a posterior's marginal
        table.insert(4, "distribution", [p.distribution for p in parameters])
    return table


def seed_noise(points: pd.DataFrame) -> dict[str, float]:
    """Return the seed noise of a point's effect beside the effect's variance over the sample.

    ``seed_noise_variance`` is the mean over the points of the squared standard error of a point's
    effect: the variance of a mean of ``replications`` paired differences over fresh seeds at one
    point. ``effect_variance`` is the variance (n - 1) of the point effects over the sample, the
    variance the Sobol' indices share out. Every point runs the same seeds (common random
    numbers), so the luck those seeds share is the same at every point and is not in
    ``effect_variance``: it holds the parameters' part and only the noise that differs between
    points. Hence ``parameter_share_max = effect_variance / (effect_variance + seed_noise_variance)``
    bounds (approximately, from above) the parameters' share of the variance of the effect at a
    random point with fresh seeds; the rest is seed noise. NaN without standard errors.
    """
    se = points["se"].to_numpy(float)
    effect = points["effect"].to_numpy(float)
    effect = effect[np.isfinite(effect)]
    noise = float(np.mean(se[np.isfinite(se)] ** 2)) if np.isfinite(se).any() else float("nan")
    total = float(np.var(effect, ddof=1)) if effect.size > 1 else float("nan")
    share = total / (total + noise) if total + noise > 0 else float("nan")
    return {"seed_noise_variance": noise, "effect_variance": total, "parameter_share_max": share}


@dataclass
class EffectResult:
    """The analysis of one effect."""

    effect: ParsedEffect
    points: pd.DataFrame
    summary: dict[str, Any]
    indices: pd.DataFrame  # empty when some point has no value

    @property
    def ranking(self) -> list[str]:
        """Parameter names, most influential first (by mu_star or ST)."""
        if self.indices.empty:
            return []
        column = "mu_star" if "mu_star" in self.indices else "ST"
        order = self.indices.sort_values(column, ascending=False, kind="stable")
        return list(order["parameter"])

    def verdict_line(self) -> str:
        """One sentence: the verdict, the sign over the sample and, if fragile, the parameters to blame."""
        s = self.summary
        v = s["verdict"]
        n = s["n_points"] - s["n_missing"]
        if v == "insufficient data":
            return "INSUFFICIENT DATA: no sample point has a complete pair of runs"
        top = ", ".join(self.ranking[:TOP])
        if v == "fragile":
            text = (
                f"FRAGILE: the sign flips inside the plausible ranges ({s['n_clear_negative']} of {n} points "
                f"clearly negative, {s['n_clear_positive']} clearly positive)"
            )
            return text + (f"; most responsible: {top}" if top else "")
        if v == "robust":
            text = f"ROBUST: {s['direction']} at all {n} points, each beyond noise"
        else:
            count = max(s["n_clear_negative"], s["n_clear_positive"])
            seen = f"clearly {s['direction']} at {count}" if count else "none clearly signed"
            text = (
                f"UNCERTAIN: no sign flip, but within noise of 0 at {s['n_unclear']} of {n} points ({seen})"
            )
        if s["as_expected"] is not None:
            text += f"; the expected sign is {s['expected']}" + (
                " (as found)" if s["as_expected"] else " (NOT found)"
            )
        return text + (f"; most influential: {top}" if top and v == "uncertain" else "")


@dataclass
class SensitivityAnalysis:
    """Indices and verdicts for every effect of a sensitivity experiment."""

    method: str
    parameters: list[FreeParameter]
    effects: list[EffectResult]
    n_ok: int
    n_failed: int
    settings: dict[str, Any]

    def table(self) -> pd.DataFrame:
        """One row per effect and parameter: the indices, the rank and the effect's verdict."""
        frames = []
        for result in self.effects:
            if result.indices.empty:
                continue
            frame = result.indices.copy()
            rank = {name: k + 1 for k, name in enumerate(result.ranking)}
            frame.insert(0, "effect", result.effect.name)
            frame["rank"] = frame["parameter"].map(rank)
            frame["verdict"] = result.summary["verdict"]
            frames.append(frame)
        if not frames:
            return pd.DataFrame()
        return pd.concat(frames, ignore_index=True)

    def points_table(self) -> pd.DataFrame:
        """One row per effect and sample point: the parameter values, the effect, its error and sign."""
        values = pd.DataFrame(self.settings["sample"], columns=[p.name for p in self.parameters])
        frames = []
        for result in self.effects:
            frame = result.points.copy()
            frame.insert(0, "name", result.effect.name)
            frames.append(pd.concat([frame, values], axis=1))
        return pd.concat(frames, ignore_index=True)

    def to_json(self) -> dict[str, Any]:
        """Return a plain description for ``sensitivity.json``."""
        settings = {k: v for k, v in self.settings.items() if k != "sample"}
        return _finite(
            {
                **settings,
                "n_points": len(self.settings["sample"]),
                "n_runs_ok": self.n_ok,
                "n_runs_failed": self.n_failed,
                "point_level": POINT_LEVEL,
                "effects": [
                    {
                        "name": r.effect.name,
                        "difference": r.effect.difference,
                        "label": r.effect.label,
                        **r.summary,
                        "verdict_line": r.verdict_line(),
                        "ranking": r.ranking,
                        "indices": r.indices.to_dict("records"),
                    }
                    for r in self.effects
                ],
            }
        )


def _finite(value: Any) -> Any:
    """Replace NaN and infinities by None, recursively, for strict JSON."""
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(v) for v in value]
    if isinstance(value, float | np.floating):
        return float(value) if math.isfinite(value) else None
    if isinstance(value, np.integer):
        return int(value)
    return value


def complete_rows(method: str, y: np.ndarray, n_parameters: int) -> np.ndarray:
    """Return the sample rows the indices can use despite points with no effect.

    A Morris elementary effect needs both ends of a step, so a missing point drops its
    whole trajectory (``n_parameters + 1`` consecutive rows); at least two complete
    trajectories must remain. Sobol' estimators need every point, so any gap drops all.
    """
    finite = np.isfinite(y)
    if finite.all():
        return finite
    if method != "morris":
        return np.zeros_like(finite)
    steps = n_parameters + 1
    whole = finite.reshape(-1, steps).all(axis=1)
    return np.repeat(whole, steps) if whole.sum() >= 2 else np.zeros_like(finite)


def analyse_sensitivity(summaries: pd.DataFrame, settings: dict[str, Any]) -> SensitivityAnalysis:
    """Analyse every effect from the run summaries and the stored sensitivity settings.

    Args:
        summaries: One row per run (see :mod:`sim.compare`).
        settings: The ``sensitivity`` section of the manifest (method, parameters, effects,
            sample; see :func:`load_sensitivity`).

    """
    parameters = [FreeParameter(**p) for p in settings["parameters"]]
    sample = np.asarray(settings["sample"], dtype=float)
    results = []
    for entry in settings["effects"]:
        effect = ParsedEffect(**entry)
        points = point_effects(summaries, effect, len(sample))
        summary = classify(points, effect.expected)
        y = points["effect"].to_numpy(float)
        keep = complete_rows(settings["method"], y, len(parameters))
        summary["dropped_trajectories"] = 0
        if settings["method"] == "sobol":
            summary.update(seed_noise(points))
        if settings["method"] == "morris" and not keep.all():
            summary["dropped_trajectories"] = int((~keep).sum()) // (len(parameters) + 1)
        table = (
            indices(settings["method"], parameters, sample[keep], y[keep], settings.get("levels", 4))
            if keep.any()
            else pd.DataFrame()
        )
        results.append(EffectResult(effect, points, summary, table))
    ok = compare._ok_mask(summaries) if len(summaries) else pd.Series(dtype=bool)
    return SensitivityAnalysis(
        settings["method"], parameters, results, int(ok.sum()), int((~ok).sum()), settings
    )


def analyse_results(results: Any) -> SensitivityAnalysis:
    """Analyse a results folder written by ``sco-sim sensitivity`` (a :class:`sim.results.Results`).

    Raises:
        InputError: the folder holds no sensitivity sample, or no finished run.

    """
    settings = results.manifest.get("experiment", {}).get("sensitivity")
    where = str(results.folder)
    if not settings:
        raise InputError(
            where, "holds a batch, not a sensitivity sample; run `sco-sim sensitivity EXPERIMENT`"
        )
    summaries = results.summaries
    if not len(summaries) or not (summaries["status"] == "ok").any():
        raise InputError(
            where, "holds no finished run; run `sco-sim sensitivity EXPERIMENT --out ... --resume`"
        )
    return analyse_sensitivity(summaries, settings)
