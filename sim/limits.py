"""The documented limits of every number a user gives: years, seeds, sizes of scenarios and designs.

One place for the bounds that more than one layer checks (the scenario and experiment
schemas, the sizes of designs, the command-line options), so that a file and an option
that mean the same thing accept the same values. Imports nothing: ``sco-sim --help``
stays cheap. The ranges are documented in docs/scenarios.md and docs/experiments.md.
"""

from __future__ import annotations

# Years: a calendar year in a scenario, a metric window or --until.
YEAR_MIN = -9999
YEAR_MAX = 9999
# A run covers at most this many years after its start year.
MAX_RUN_YEARS = 1000

# The size of a scenario.
MAX_STATES = 500
MAX_AREAS = 100
# A capability, as written (a share of world capability is at most 1) ...
MAX_CAPABILITY = 1e6
# ... and as grown over the run by capability_growth and the events' changes.
MAX_CAPABILITY_REACHED = 1e12

# Seeds: non-negative and within a signed 64-bit integer (the seed columns of the tables).
SEED_MAX = 2**63 - 1

# Any number of an experiment or calibration file that sets a scenario key (sweep values,
# ranges) or compares with a table column (a threshold) lies in this band; the scenario
# key's own range then applies.
VALUE_BOUND = 1e9

# The size of a design (an experiment, a sensitivity sample, a calibration).
MAX_REPLICATIONS = 100_000
MAX_SAMPLES = 65_536  # points of a sampled sweep, Sobol' base samples of a sensitivity analysis
MAX_TRAJECTORIES = 10_000  # Morris trajectories
MAX_LEVELS = 100  # Morris levels
MAX_DRAWS = 65_536  # posterior draws of an experiment's [posterior] table
MAX_RUNS = 1_000_000  # arms x points x replications
MAX_SCENARIOS = 20_000  # arms x points: each is resolved, kept in memory and stored
# Rough memory a design takes before it runs, for the message that refuses one.
RUN_BYTES = 1_000  # a run's specification, its id and the store's record of it
SCENARIO_BYTES = 25_000  # one resolved arm x point scenario (parts shared with its arm's first point)

# Local workers (processes, or a local Dask cluster).
MAX_WORKERS = 256
