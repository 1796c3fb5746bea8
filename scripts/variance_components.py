"""Print, for every claim of a batch run over draws, how much of its variance the draws carry.

    python scripts/variance_components.py RESULTS

RESULTS is a folder written by `sco-sim batch` on an experiment with a [posterior] or a
[perturb_weights] table. For each claim the paired differences are split by draw into a
between-draw part (what the draws' parameters or interest weights move) and a within-draw part
(the noise of the seeds), by the ANOVA estimator of `sim.analysis.draws.variance_components`;
each draw has seeds of its own, so the two are separable. Markdown on standard output.
"""

from __future__ import annotations

import sys

from sim.analysis.compare import paired_differences
from sim.analysis.draws import DRAW, variance_components
from sim.commands import analyse, load


def main(folder: str) -> int:
    results = load(folder)
    if DRAW not in results.summaries:
        print(f"{folder}: not a batch over draws (no 'draw' column)", file=sys.stderr)
        return 2
    claims = analyse(results).claims
    print("| claim | draws | seeds per draw | between-draw variance | within-draw (seed) variance "
          "| draws' share of a pair's variance | draws' share of a per-draw mean's variance |")  # fmt: skip
    print("|---|---|---|---|---|---|---|")
    for row in claims.itertuples(index=False):
        pairs = paired_differences(results.summaries, row.metric, row.arm_a, row.arm_b)
        v = variance_components(pairs)
        print(f"| {row.id} | {pairs[DRAW].nunique()} | {v['seeds']:.0f} | {v['between']:.3g} | "
              f"{v['within']:.3g} | {v['share_pair']:.0%} | {v['share_draw_mean']:.0%} |")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else "results/weights_h1_h3"))
