"""Who dissents, stands aside and blocks in a results folder: shares of items by member.

Prints, for one arm of a results folder of `sco-sim batch` and a window of years, the share of
items (policy items, pooled over all runs) from which each member dissented (objected to any
text), the share with at least one member standing aside, and the share blocked. The README and
docs/findings.md quote these shares for the SCO-8 arm of `experiments/enlargement.toml`:

    python scripts/dissent_shares.py results/enlargement --arm sco8 --years 2017 2035
"""

from __future__ import annotations

import argparse
import glob
from pathlib import Path

import pandas as pd


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("results", type=Path)
    parser.add_argument("--arm", default="sco8")
    parser.add_argument("--years", type=int, nargs=2, default=[2017, 2035])
    args = parser.parse_args()
    parts = sorted(glob.glob(str(args.results / "decisions" / "*.parquet")))
    if not parts:
        raise SystemExit(f"error: {args.results}: no decisions/*.parquet; run sco-sim batch first")
    d = pd.concat(pd.read_parquet(p) for p in parts)
    d = d[(d["arm"] == args.arm) & d["year"].between(*args.years)]
    d = d[~d["title"].str.contains("accession", case=False)]
    n = len(d)
    print(f"{args.arm}, {args.years[0]}-{args.years[1]}: {n} items over {d['run_id'].nunique()} runs")
    print(f"  at least one member stood aside: {(d['stood_aside'] != '').mean():.1%}")
    print(f"  blocked: {(d['outcome'] == 'blocked').mean():.1%}")
    members = sorted({m for row in d["dissenters"] for m in row.split(";") if m})
    shares = {m: d["dissenters"].str.split(";").apply(lambda xs, m=m: m in xs).mean() for m in members}
    for member, share in sorted(shares.items(), key=lambda kv: -kv[1]):
        print(f"  {member} dissented from {share:.0%} of items")


if __name__ == "__main__":
    main()
