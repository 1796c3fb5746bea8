"""Print the claim tables of docs/findings.md from the results folders of the hypothesis experiments.

Each table row is one claim of the experiment's `claims.csv` (written by `sco-sim compare`):
its label, the two arms' means, the mean difference with its interval and level (Holm-adjusted,
over the per-draw means when the experiment ran over posterior draws), the band, the share of
posterior draws with the claimed sign, and the verdict. docs/findings.md was made with

    for x in h1_functionality h2_complication h3_balancing h4_spillover h5_rules; do
        sco-sim batch experiments/$x.toml --out results/$x && sco-sim compare results/$x
    done
    python scripts/findings_tables.py results/h1_functionality results/h2_complication ...
"""

from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd


def number(value: float, sign: str = "+") -> str:
    """Three significant digits, or one decimal from 100 on (years), as the tables print them."""
    return f"{value:{sign}.3g}" if abs(value) < 100 else f"{value:{sign}.1f}"


def table(folder: Path) -> str:
    claims = pd.read_csv(folder / "claims.csv")
    lines = [
        f"{folder.name}:",
        "",
        "| claim | means (a vs b) | mean difference a - b [interval, level] | band "
        "| draws with the claimed sign | verdict |",
        "|---|---|---|---|---|---|",
    ]
    for row in claims.itertuples():
        if row.verdict == "no variation":
            interval = f"{number(row.mean_diff)} in every pair"
        else:
            interval = (
                f"{number(row.mean_diff)} [{number(row.ci_low)}, {number(row.ci_high)}], {row.ci_level:.1%}"
            )
        share = f"{row.share_claimed_sign:.0%} of {row.n_draws}" if pd.notna(row.share_claimed_sign) else ""
        means = f"{number(row.mean_a, '')} vs {number(row.mean_b, '')}"
        lines.append(f"| {row.label} | {means} | {interval} | {row.band:g} | {share} | {row.verdict} |")
    return "\n".join(lines) + "\n"


def main(folders: list[str]) -> None:
    if not folders:
        raise SystemExit("usage: python scripts/findings_tables.py RESULTS [RESULTS ...]")
    for folder in folders:
        if not (Path(folder) / "claims.csv").is_file():
            raise SystemExit(f"error: {folder}: no claims.csv; run sco-sim compare {folder} first")
        print(table(Path(folder)))


if __name__ == "__main__":
    main(sys.argv[1:])
