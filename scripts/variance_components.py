"""Print, for every claim of a batch run over draws, how much of its variance the draws carry.

    python scripts/variance_components.py RESULTS ["metric[arm_a] - metric[arm_b]" ...]

RESULTS is a folder written by `sco-sim batch` on an experiment with a [posterior] or a
[perturb_weights] table; each further argument adds a comparison of a metric of the file between
two arms (such as a metric no claim uses). For each, the paired differences are split by draw
into a between-draw part (what the draws' parameters or interest weights move) and a within-draw
part (the noise of the seeds), by the ANOVA estimator of `sim.analysis.draws.variance_components`;
each draw has seeds of its own, so the two are separable. Markdown on standard output.
"""

from __future__ import annotations

import sys

from sim.analysis.compare import paired_differences
from sim.analysis.draws import DRAW, variance_components
from sim.commands import analyse, load
from sim.experiments.claims import EFFECT


def main(folder: str, effects: list[str]) -> int:
    results = load(folder)
    if DRAW not in results.summaries:
        print(f"{folder}: not a batch over draws (no 'draw' column)", file=sys.stderr)
        return 2
    rows = [(c.id, c.metric, c.arm_a, c.arm_b) for c in analyse(results).claims.itertuples(index=False)]
    for text in effects:
        match = EFFECT.match(text)
        if not match or match.group(1) != match.group(3):
            print(f"expected 'metric[arm_a] - metric[arm_b]', got {text!r}", file=sys.stderr)
            return 2
        rows.append((text, match.group(1), match.group(2), match.group(4)))
    print("| comparison | draws | seeds per draw | between-draw variance | within-draw (seed) variance "
          "| draws' share of a pair's variance | draws' share of a per-draw mean's variance |")  # fmt: skip
    print("|---|---|---|---|---|---|---|")
    for name, metric, arm_a, arm_b in rows:
        pairs = paired_differences(results.summaries, metric, arm_a, arm_b)
        v = variance_components(pairs)
        print(f"| {name} | {pairs[DRAW].nunique()} | {v['seeds']:.0f} | {v['between']:.3g} | "
              f"{v['within']:.3g} | {v['share_pair']:.0%} | {v['share_draw_mean']:.0%} |")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else "results/weights_h1_h3", sys.argv[2:]))
