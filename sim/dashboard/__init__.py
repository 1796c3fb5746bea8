"""The interactive dashboard (``sco-sim dashboard``): Mesa's SolaraViz around the model.

- :mod:`sim.dashboard.model`: :class:`~sim.dashboard.model.DashboardModel`, an ``SCOModel``
  built from a scenario file and the page's inputs (as scenario overrides), and the inputs.
- :mod:`sim.dashboard.views`: the summit table and the settings in force, from the tables.
- :mod:`sim.dashboard.app`: the Solara page (needs ``pip install 'sco-sim[dashboard]'``).
- :mod:`sim.dashboard.server`: starts Solara's server on a local port.

This layer sits beside :mod:`sim.report` and :mod:`sim.output`: it imports the model, the
scenario, the rules and the charts, and only the command line imports it.
"""
