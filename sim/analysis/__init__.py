"""Analysis: tables in, tables out.

- :mod:`sim.analysis.compare`: paired differences between arms, intervals, verdicts of claims.
- :mod:`sim.analysis.arms`: ``sim.compare_arms``, the comparison of ``sco-sim compare`` from Python.
- :mod:`sim.analysis.draws`: claims over posterior draws: per-draw means, the share with the claimed sign.
- :mod:`sim.analysis.verdicts`: the verdict rule: paired t, Holm's adjustment, bands of equivalence.
- :mod:`sim.analysis.sensitivity`: Morris and Sobol' indices and the robustness of effects.
- :mod:`sim.analysis.validation`: the historical scenario judged against the record 1996-2017.
- :mod:`sim.analysis.calibration`: fitting the free parameters to the record.
- :mod:`sim.analysis.bargainbench`: the decision rules scored on real decisions (DEU III).
- :mod:`sim.analysis.narrate`: one run of a run folder or a batch, read back to tell its summits.
- :mod:`sim.analysis.outcome`: outcome expressions (``--outcome``), read by a parser, never executed.
- :mod:`sim.analysis.discover`: scenario discovery, the input ranges where an outcome occurs
  (PRIM and CART of the EMA Workbench, through :mod:`sim.analysis.workbench`).

Import the module you need; this package itself loads nothing heavy.
"""

__all__ = [
    "arms",
    "bargainbench",
    "calibration",
    "compare",
    "discover",
    "draws",
    "narrate",
    "outcome",
    "sensitivity",
    "validation",
    "verdicts",
    "workbench",
]
