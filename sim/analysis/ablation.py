"""What each result rests on: the claims of one experiment across the configurations of an ablation.

:func:`ablation_table` joins the claims tables of the configurations (each judged on its own, with
Holm's adjustment across the claims of that configuration, as ``sco-sim compare`` judges the
experiment) into one row per claim and configuration. :func:`readings` then says, for each
claim, what its verdict as shipped rests on:

- a claim *supported* as shipped **rests on** each mechanism whose removal alone
  (``no_<mechanism>``) leaves it not supported (its verdict there is named);
- a claim still supported under ``no_mechanisms`` **holds with every mechanism off**: the
  difference then comes from the decision rule, the arms' membership and the inputs the arms
  share, so it is a property of the rules and the arms, not a finding about the mechanisms;
- under ``veto_players`` the decision rule of the arms that take their scenario's rule is
  replaced by the veto-player baseline: a supported claim that loses support there needs the
  rule as shipped;
- a claim *not* supported as shipped rests on no mechanism; the reading names any
  configuration where it becomes supported. A claim *contradicted* as shipped (a difference
  the other way) is read like a supported one: what the reversal rests on, whether it holds
  with every mechanism off and under the veto-player rule.

A verdict that changes between configurations may also change through chance alone when the
shipped interval lies near 0 or the band: read the mean differences beside the verdicts.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from sim.experiments.ablation import ALL_OFF, CONFIGURATIONS, MECHANISMS, NAMES, SHIPPED, VETO

#: the columns of ``ablation.csv`` (``n_draws`` and ``share_claimed_sign`` only with posterior draws)
COLUMNS: tuple[str, ...] = (
    "claim", "hypothesis", "statement", "configuration", "mean_diff", "ci_low", "ci_high", "ci_level",
    "band", "d_z", "verdict", "n", "n_draws", "share_claimed_sign", "rests_on", "reading",
)  # fmt: skip
DRAW_COLUMNS = ("n_draws", "share_claimed_sign")
SUPPORTED = "supported"
#: the phrase for a claim that holds with every mechanism off (printed, and in ``reading``)
HOLDS = "holds with every mechanism off"
RULES_ALONE = (
    f"{HOLDS}: a property of the rules and arms (the decision rule, and the arms' "
    "membership and inputs, which the ablation leaves as they are), not of the mechanisms"
)


def ablation_table(claims: Mapping[str, pd.DataFrame]) -> pd.DataFrame:
    """Return one row per claim and configuration, claims in file order, configurations in canonical order.

    Args:
        claims: The claims table (``sim.analysis.compare.evaluate_claims``) of each configuration.

    Returns:
        The columns of :data:`COLUMNS` (without the draw columns unless some configuration has
        posterior draws), with ``rests_on`` and ``reading`` from :func:`readings`.

    """
    frames = []
    for name in (n for n in NAMES if n in claims):
        table = claims[name]
        frame = pd.DataFrame(
            {
                "claim": table["id"].astype(str),
                "hypothesis": table["hypothesis"].fillna("").astype(str),
                "statement": table["statement"].astype(str),
                "configuration": name,
                "mean_diff": table["mean_diff"].astype(float),
                "ci_low": table["ci_low"].astype(float),
                "ci_high": table["ci_high"].astype(float),
                "ci_level": table["ci_level"].astype(float),
                "band": table["band"].astype(float),
                "d_z": table["effect_size"].astype(float),
                "verdict": table["verdict"].astype(str),
                "n": table["n_pairs"],
                "n_draws": table["n_draws"] if "n_draws" in table else np.nan,
                "share_claimed_sign": table["share_claimed_sign"]
                if "share_claimed_sign" in table
                else np.nan,
            }
        )
        frame["order"] = range(len(frame))
        frames.append(frame)
    if not frames:
        return pd.DataFrame(columns=list(COLUMNS))
    table = pd.concat(frames, ignore_index=True)
    rank = {name: k for k, name in enumerate(NAMES)}
    first = table.groupby("claim", sort=False)["order"].transform("min")
    table = table.assign(_claim=first, _config=table["configuration"].map(rank))
    table = table.sort_values(["_claim", "_config"], kind="stable").drop(
        columns=["_claim", "_config", "order"]
    )
    read = readings(table).set_index("claim")
    table["rests_on"] = table["claim"].map(read["rests_on"])
    table["reading"] = table["claim"].map(read["reading"])
    columns = [c for c in COLUMNS if c not in DRAW_COLUMNS or table[c].notna().any()]
    return table[columns].reset_index(drop=True)


def readings(table: pd.DataFrame) -> pd.DataFrame:
    """Return one row per claim: ``claim``, ``shipped`` (its verdict), ``rests_on`` and ``reading``.

    ``rests_on`` lists, separated by ``;``, the mechanisms whose removal alone leaves a claim
    supported as shipped not supported; it is empty for a claim not supported as shipped.
    """
    rows = []
    for claim, group in table.groupby("claim", sort=False):
        verdicts = dict(zip(group["configuration"], group["verdict"], strict=True))
        diffs = dict(zip(group["configuration"], group["mean_diff"].astype(float), strict=True))
        rests, text = reading(verdicts, diffs)
        rows.append(
            {
                "claim": claim,
                "shipped": verdicts.get(SHIPPED, ""),
                "rests_on": ";".join(rests),
                "reading": text,
            }
        )
    return pd.DataFrame(rows, columns=["claim", "shipped", "rests_on", "reading"])


def reading(verdicts: Mapping[str, str], diffs: Mapping[str, float] | None = None) -> tuple[list[str], str]:
    """Return the mechanisms a claim rests on and the sentence that reads its verdicts by configuration.

    ``diffs`` (the mean difference by configuration) is quoted where a claim both rests on a
    mechanism and holds with every mechanism off, so the reader sees how much of it remains.
    """
    shipped = verdicts.get(SHIPPED)
    if shipped is None:
        return [], "the shipped configuration was not run: no reading"
    if shipped != SUPPORTED:
        return [], _unsupported(shipped, verdicts)
    singles = {c.mechanism: c.name for c in CONFIGURATIONS if c.mechanism}
    rests = _lost(verdicts, SUPPORTED)
    parts = []
    if rests:
        parts.append(f"rests on {_without(verdicts, rests)}")
    elif any(singles[m] in verdicts for m in MECHANISMS):
        parts.append("supported with each mechanism switched off in turn")
    missing = [singles[m] for m in MECHANISMS if singles[m] not in verdicts]
    if missing:
        parts.append(f"not run: {', '.join(missing)}")
    if ALL_OFF in verdicts:
        parts.append(_all_off(verdicts[ALL_OFF], bool(rests), diffs or {}))
    if VETO in verdicts:
        parts.append(
            "also supported under the veto-player rule"
            if verdicts[VETO] == SUPPORTED
            else f"{verdicts[VETO]} under the veto-player rule: it needs the decision rule as shipped"
        )
    return rests, "supported as shipped; " + "; ".join(parts)


def _lost(verdicts: Mapping[str, str], verdict: str) -> list[str]:
    """Return the mechanisms whose removal alone (a ``no_<mechanism>`` that was run) changes ``verdict``."""
    singles = {c.mechanism: c.name for c in CONFIGURATIONS if c.mechanism}
    return [m for m in MECHANISMS if singles[m] in verdicts and verdicts[singles[m]] != verdict]


def _without(verdicts: Mapping[str, str], mechanisms: list[str]) -> str:
    """Name each mechanism with the verdict its removal gives: ``trust (inconclusive without it)``."""
    return ", ".join(f"{m} ({verdicts[f'no_{m}']} without it)" for m in mechanisms)


def _unsupported(shipped: str, verdicts: Mapping[str, str]) -> str:
    """Read a claim not supported as shipped: it rests on no mechanism; a reversal is read like a claim."""
    if shipped == "contradicted":  # a difference the other way: what the reversal rests on
        lost = _lost(verdicts, shipped)
        parts = [
            "contradicted as shipped (the difference runs the other way), so it rests on no mechanism",
            f"the reversal rests on {_without(verdicts, lost)}"
            if lost
            else "the reversal survives each mechanism switched off in turn",
        ]
        if ALL_OFF in verdicts:
            off = verdicts[ALL_OFF]
            parts.append(f"{'the reversal holds' if off == shipped else off} with every mechanism off")
        if VETO in verdicts:
            parts.append(f"{verdicts[VETO]} under the veto-player rule")
        return "; ".join(parts)
    text = f"{shipped} as shipped: not supported, so it rests on no mechanism"
    gained = [name for name, v in verdicts.items() if name != SHIPPED and v == SUPPORTED]
    return text + (f"; supported under {', '.join(gained)}" if gained else "")


def _all_off(verdict: str, rests: bool, diffs: Mapping[str, float]) -> str:
    """Read a supported claim's verdict with every mechanism off."""
    if verdict != SUPPORTED:
        return f"{verdict} with every mechanism off"
    if not rests:
        return RULES_ALONE
    sizes = ""
    if ALL_OFF in diffs and SHIPPED in diffs:
        sizes = f" (mean difference {diffs[ALL_OFF]:+.3g} against {diffs[SHIPPED]:+.3g} as shipped)"
    return (
        f"yet it {HOLDS}{sizes}: the rules and arms alone give a difference on the claimed side, which "
        "switching off one of those mechanisms while the others stay on removes (the mechanisms interact)"
    )


__all__ = ["COLUMNS", "RULES_ALONE", "ablation_table", "reading", "readings"]
