"""Random events in years the record does not cover (step 1, forecasts).

A scenario's ``[event_process]`` gives, by kind, how often an event happens in a
year and how large it is: salience shocks by area, a rise in the threat a member
feels from a pole, and a flare-up of an existing rivalry. The shipped rates are
estimated from the 1996-2017 events of ``history_1996.toml``
(``scripts/estimate_event_rates.py``). The process runs from ``from_year`` on and
can be switched off (``[mechanisms] event_process = false``); with it off, or
without an ``[event_process]`` table, no random number is drawn, so a run is the
same as without the process.

Every year of the process draws the same count of numbers, whatever happens, so
that one kind of event does not shift the draws of another.
"""

from __future__ import annotations

import numpy as np

from sim.model.state import ModelState


def apply(model: ModelState, year: int) -> None:
    """Draw this year's random events and apply them to the shocks, threats and rivalries."""
    process = model.sco_scenario.event_process
    if process is None or not model.sco_scenario.mechanisms.event_process or year < process.from_year:
        return
    areas, rates, sizes = _salience_plan(model)
    draws = model.rng.random(len(areas) + 6).tolist()  # a handful: compared as plain floats
    for k, area in enumerate(areas):
        if draws[k] < rates[k]:
            model.shock[area] += sizes[k]
    rest = draws[len(areas) :]
    if rest[0] < process.threat.rate:
        members = [i for i in model.members.nonzero()[0].tolist() if model.pole_of_list[i] < 0]
        if members:
            i = members[min(int(rest[1] * len(members)), len(members) - 1)]
            pole = min(int(rest[2] * len(model.poles)), len(model.poles) - 1)
            model.threat[i, pole] = min(model.threat[i, pole] + process.threat.size, 1.0)
    if rest[3] >= process.rivalry.rate:
        return
    rivals = np.argwhere(np.triu(model.rivalry, 1) > 0)
    if len(rivals):
        i, j = rivals[min(int(rest[4] * len(rivals)), len(rivals) - 1)].tolist()
        model.rivalry[i, j] = model.rivalry[j, i] = min(model.rivalry[i, j] + process.rivalry.size, 1.0)


# Plans of the last few scenarios, keyed by the ids of the process and of the area index; the
# entry keeps both objects, so an id is never reused while its entry lives.
_PLANS: dict[tuple[int, int], tuple[object, object, list[int], list[float], list[float]]] = {}


def _salience_plan(model: ModelState) -> tuple[list[int], list[float], list[float]]:
    """Return the areas with salience shocks, their yearly rates and sizes (built once per scenario)."""
    process = model.sco_scenario.event_process
    assert process is not None
    key = (id(process), id(model.area_index))
    plan = _PLANS.get(key)
    if plan is None or plan[0] is not process or plan[1] is not model.area_index:
        names = list(process.salience)
        plan = (
            process,
            model.area_index,
            [model.area_index[a] for a in names],
            [process.salience[a].rate for a in names],
            [process.salience[a].size for a in names],
        )
        if len(_PLANS) > 16:
            _PLANS.clear()
        _PLANS[key] = plan
    return plan[2], plan[3], plan[4]
