"""Experiments: many seeded runs of arms, sweeps and sensitivity samples, and where they are stored.

- :mod:`sim.experiments.schema`: the experiment file format.
- :mod:`sim.experiments.claims`: the one parser of claims and effects between arms.
- :mod:`sim.experiments.design`: an experiment file resolved into runs with seeds and ids.
- :mod:`sim.experiments.posterior`: an experiment's ``[posterior]`` file, read, checked, its draws chosen.
- :mod:`sim.experiments.weights`: ``[perturb_weights]``, draws of every state's interest weights.
- :mod:`sim.experiments.seeds`: every run's seed, from the one base seed.
- :mod:`sim.experiments.marginals`: a posterior sample's columns as the marginals of a Sobol' design.
- :mod:`sim.experiments.sampling`: the one sampler (scipy.stats.qmc, SALib), its rounding
  rule and the lookup of numeric scenario keys.
- :mod:`sim.experiments.sensitivity`: free parameters and SALib's sample for ``[sensitivity]``.
- :mod:`sim.experiments.executors`: the one executor loop (sequential, processes, Dask), also
  used by validation and calibration.
- :mod:`sim.experiments.progress`: the one progress bar.
- :mod:`sim.experiments.batch`: a batch's runs in chunks on an executor, into the store.
- :mod:`sim.experiments.store`: the resumable Parquet store and :func:`load_results`, with
  :mod:`sim.experiments.parts` (part files written once, recorded and checked),
  :mod:`sim.experiments.manifest` (the manifest, and whether a batch may be resumed) and
  :mod:`sim.experiments.lock` (one writing process per results folder).
- :mod:`sim.experiments.rerun`: reproduce one stored run from its id.
- :mod:`sim.experiments.bench`: runs per second on this machine.

This layer imports the model, scenarios and rules, never the analysis, charts or report.
"""

from sim.experiments.design import Design, RunSpec, derive_seeds, load_experiment, load_sensitivity, run_id
from sim.experiments.schema import Experiment
from sim.experiments.store import Results, ResultStore, load_results

__all__ = [
    "Design",
    "Experiment",
    "ResultStore",
    "Results",
    "RunSpec",
    "derive_seeds",
    "load_experiment",
    "load_results",
    "load_sensitivity",
    "run_id",
]
