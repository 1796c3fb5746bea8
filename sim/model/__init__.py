"""The model: states as Mesa agents meeting once a year under the scenario's rules.

- :mod:`sim.model.model`: :class:`SCOModel`, the yearly step.
- :mod:`sim.model.agents`, :mod:`sim.model.agenda`, :mod:`sim.model.balancing`,
  :mod:`sim.model.membership`: the states, the agenda, alignment drift and accession.
- :mod:`sim.model.recorder`: what a run keeps each year and the three tables it returns.
- :mod:`sim.model.items`: an agenda :class:`~sim.model.items.Item` and a year's ``Agenda``.
- :mod:`sim.model.state`: ``ModelState``, the protocol of what the parts read of the model;
  the parts take it instead of importing :class:`SCOModel`, which assembles them.
- :mod:`sim.model.run`: :func:`run` and :class:`RunResult`, one seeded run as pandas tables.
- :mod:`sim.model.narrative`: a run's summits told in sentences, from its tables
  (``RunResult.narrate``).

This layer imports :mod:`sim.scenario` and :mod:`sim.rules`, never anything above them.
"""

from sim.model.model import SCOModel
from sim.model.run import TABLES, RunResult, TablesView, run, summarise

__all__ = ["TABLES", "RunResult", "SCOModel", "TablesView", "run", "summarise"]
