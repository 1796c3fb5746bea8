"""sco-sim: consensus and regional balancing in the Shanghai Cooperation Organization.

The few lines a notebook needs::

    import sim
    scenario = sim.load_scenario("scenarios/history_1996.toml")
    result = sim.run(scenario, seed=7)
    result.model, result.states, result.decisions   # pandas DataFrames
"""

__version__ = "0.1.0"

from sim.api import RunResult, run, summarise, write_run  # noqa: E402
from sim.bargain import bargain, read_actor_table  # noqa: E402
from sim.errors import DataError, InputError, ScenarioError, TableError  # noqa: E402
from sim.model import SCOModel  # noqa: E402
from sim.rules import RULES, get_rule  # noqa: E402
from sim.scenario import Scenario, load_scenario  # noqa: E402

__all__ = [
    "RULES",
    "DataError",
    "InputError",
    "RunResult",
    "SCOModel",
    "Scenario",
    "ScenarioError",
    "TableError",
    "bargain",
    "get_rule",
    "load_scenario",
    "read_actor_table",
    "run",
    "summarise",
    "write_run",
]
