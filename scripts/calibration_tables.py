"""Print the tables of docs/calibration.md from the folders `sco-sim calibrate` wrote.

    python scripts/calibration_tables.py [RECOVERY_DIR] [CALIBRATION_DIR]

Defaults: results/recovery_study and results/calibration. Markdown on standard output;
every number comes from the CSV and JSON files in those folders, nothing is computed
that the files do not hold except rounding and the listing of the strongest correlations.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd


def recovery(folder: Path) -> None:
    table = pd.read_csv(folder / "recovery.csv")
    truths = pd.read_csv(folder / "recovery_truths.csv")
    per_truth = truths.groupby("truth")[["simulations", "generations", "seconds"]].first()
    print(
        f"{truths['truth'].nunique()} truths; simulations per refit {per_truth['simulations'].min()}-"
        f"{per_truth['simulations'].max()} (mean {per_truth['simulations'].mean():.0f}); generations "
        f"{per_truth['generations'].min()}-{per_truth['generations'].max()}; "
        f"{per_truth['seconds'].sum() / 60:.0f} min of refits in total\n"
    )
    print("| parameter | contraction (mean) | min - max | coverage (90%) | error | correlation | verdict |")
    print("|---|---|---|---|---|---|---|")
    for row in table.itertuples():
        verdict = "**identified**" if row.identified else "not identified"
        print(
            f"| `{row.parameter}` | {row.contraction:.2f} | {row.contraction_min:.2f} - "
            f"{row.contraction_max:.2f} | {row.coverage:.2f} | {row.error:.2f} | {row.correlation:.2f} "
            f"| {verdict} |"
        )
    print()


def calibration(folder: Path) -> None:
    summary = pd.read_csv(folder / "posterior_summary.csv")
    chosen = json.loads((folder / "chosen.json").read_text())["values"]
    print(
        "| parameter | prior | posterior median | 90% interval (5%-95%) | mean (sd) | contraction | applied |"
    )
    print("|---|---|---|---|---|---|---|")
    for row in summary.itertuples():
        name = row.parameter.split(".", 1)[1]
        print(
            f"| `{row.parameter}` | {row.low:g} - {row.high:g} | {row.median:.4g} | "
            f"{row.q05:.4g} - {row.q95:.4g} | {row.mean:.4g} ({row.sd:.2g}) | {row.contraction:.2f} "
            f"| {chosen[name]:.6g} |"
        )
    print()
    corr = pd.read_csv(folder / "posterior_correlations.csv", index_col=0)
    pairs = []
    names = list(corr.columns)
    for i, a in enumerate(names):
        for b in names[i + 1 :]:
            pairs.append((abs(corr.loc[a, b]), corr.loc[a, b], a, b))
    pairs.sort(reverse=True)
    print(
        "Strongest posterior correlations:", "; ".join(f"`{a}` - `{b}` {r:+.2f}" for _, r, a, b in pairs[:6])
    )
    print()
    gens = pd.read_csv(folder / "generations.csv")
    print("| generation | epsilon | simulations | acceptance rate |")
    print("|---|---|---|---|")
    for row in gens.itertuples():
        print(f"| {row.generation} | {row.epsilon:.3g} | {row.simulations} | {row.acceptance_rate:.3f} |")
    print()
    timing = json.loads((folder / "timing.json").read_text())
    print("timing:", json.dumps(timing))
    print()
    predictive = folder / "predictive.csv"
    if predictive.exists():
        table = pd.read_csv(predictive)
        print("| summary | record | prior predictive mean [5%, 95%] | posterior predictive mean [5%, 95%] | "
              "at the record | p |")  # fmt: skip
        print("|---|---|---|---|---|---|")
        for row in table.itertuples():
            prior = f"{row.prior_mean:.3g} [{row.prior_q05:.3g}, {row.prior_q95:.3g}]"
            post = f"{row.posterior_mean:.3g} [{row.posterior_q05:.3g}, {row.posterior_q95:.3g}]"
            at = "" if np.isnan(row.at_record) else f"{row.at_record:.2f}"
            print(f"| `{row.summary}` | {row.record:g} | {prior} | {post} | {at} | {row.p_value:.2f} |")
        print()


def main(argv: list[str]) -> int:
    rec = Path(argv[0]) if argv else Path("results/recovery_study")
    cal = Path(argv[1]) if len(argv) > 1 else Path("results/calibration")
    if (rec / "recovery.csv").exists():
        recovery(rec)
    if (cal / "posterior_summary.csv").exists():
        calibration(cal)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
