"""The economic items of P1's window on the validation seeds: who tabled them and what passed.

P1 (docs/validation.md) counts only substantive adoptions (``adopted``, ``adopted_opt_out``).
This prints, for the economic items (trade, energy, transport, finance) decided in P1's economy
window on the 100 validation seeds of ``sco-sim validate`` (base seed 2017, the shipped
scenario), how many each member tabled, how they ended, and the depth of the diluted texts.
docs/validation.md ("What P1's failures are made of") quotes it:

    python scripts/economy_texts.py scenarios/history_1996.toml
"""

from __future__ import annotations

import argparse

import pandas as pd

import sim
from sim.analysis.validation import ECONOMY_AREAS, VALIDATION_BASE_SEED, WINDOWS
from sim.experiments.design import derive_seeds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("scenario")
    parser.add_argument("--seeds", type=int, default=100)
    args = parser.parse_args()
    scenario = sim.load_scenario(args.scenario)
    lo, hi = WINDOWS["economy"]
    rows = []
    for seed in derive_seeds(VALIDATION_BASE_SEED, args.seeds):
        d = sim.run(scenario, seed=seed, until=hi).decisions
        rows.append(d[d["area"].isin(ECONOMY_AREAS) & d["year"].between(lo, hi)].assign(seed=seed))
    items = pd.concat(rows)
    print(f"economic items decided in {lo}-{hi} on {args.seeds} validation seeds: {len(items)}")
    print("\nshare tabled by each initiator:")
    print(items["initiator"].value_counts(normalize=True).round(2).to_string())
    print("\noutcome by initiator (share of that initiator's items):")
    print(pd.crosstab(items["initiator"], items["outcome"], normalize="index").round(2).to_string())
    print("\nmedian proposal by initiator:")
    print(items.groupby("initiator")["proposed"].median().round(1).to_string())
    diluted = items.loc[items["outcome"] == "diluted", "adopted"]
    print(
        f"\ndiluted texts: {len(diluted)}, adopted depth median {diluted.median():.1f} "
        f"(range {diluted.min():.1f}-{diluted.max():.1f})"
    )


if __name__ == "__main__":
    main()
