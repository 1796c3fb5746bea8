"""The Solara page of ``sco-sim dashboard``: Mesa's SolaraViz around a :class:`DashboardModel`.

The sidebar is SolaraViz's: Reset, play/pause and Step, and the model parameters of
:func:`~sim.dashboard.model.model_params` (scenario, seed, weight shifts of a chosen state,
a rivalry, tolerance, decision rule). A changed input takes effect on Reset, which builds a
new model from the first year. The main area shows the year's summit, depth by area, the
chosen state's alignment, the focal state's balancing index and the settings in force.

The server (:mod:`sim.dashboard.server`) names the scenario and the first seed in the
environment variable ``SCO_SIM_DASHBOARD`` (JSON), since Solara imports this module itself.
Every browser tab gets its own model.
"""

from __future__ import annotations

import json
import os
from html import escape
from typing import Any

import solara
from mesa.visualization import SolaraViz

from sim.charts.dashboard import (
    alignment_data,
    balancing_data,
    depth_data,
    plot_alignment,
    plot_balancing,
    plot_depth,
)
from sim.dashboard.model import DashboardModel, model_params
from sim.dashboard.views import settings_html, summit_table

ENVIRONMENT = "SCO_SIM_DASHBOARD"
DEFAULT_SCENARIO = "scenarios/history_1996.toml"
CSS = """
.sco-summit { height: 100%; overflow: auto; font-size: 11.5px; }
.sco-summit-table { border-collapse: collapse; width: 100%; line-height: 1.3; }
.sco-summit-table th, .sco-summit-table td { border-bottom: 1px solid #dee2e6; padding: 2px 5px;
  text-align: left; vertical-align: top; }
.sco-summit-table th { position: sticky; top: 0; background: #f1f3f5; font-weight: 600; }
.sco-summit-table td.sco-title { min-width: 10em; }
.sco-summit-table td.sco-status_quo { min-width: 7em; }
.sco-summit-table td.sco-reasons { white-space: nowrap; }
.sco-heading { font-size: 14px; font-weight: 600; margin: 2px 0 6px; }
.sco-settings ul { margin: 0 0 6px; padding-left: 18px; font-size: 13px; }
.sco-settings .sco-ignored { color: #c92a2a; }
.sco-hint { font-size: 12px; font-style: italic; }
.sco-chart img { max-width: 100%; height: auto; }
"""


HINT = "Change the inputs on the left, then press Reset: the run starts again from its first year."


def page_config() -> dict[str, Any]:
    """Return the scenario and first seed the server named (or the shipped history)."""
    config = json.loads(os.environ.get(ENVIRONMENT) or "{}")
    return {"scenario": config.get("scenario", DEFAULT_SCENARIO), "seed": int(config.get("seed", 0))}


def start_values(params: dict[str, Any]) -> dict[str, Any]:
    """Return the keyword arguments the page's inputs start at (as SolaraViz passes them)."""
    return {name: spec["value"] if isinstance(spec, dict) else spec for name, spec in params.items()}


def state_name(model: DashboardModel, code: str) -> str:
    """Return a state's name in the scenario (its code if it has none)."""
    state = model.sco_scenario.states.get(code)
    return state.name if state is not None else code


def _heading(text: str) -> Any:
    return solara.HTML(tag="div", unsafe_innerHTML=escape(text), classes=["sco-heading"])


def _waiting(model: DashboardModel, what: str) -> Any:
    return _heading(f"{what}: no summit yet; press Step to run {model.year}.")


def SummitView(model: DashboardModel) -> Any:
    """The decision log of the latest summit, with dissent (Mesa re-renders it after each step)."""
    tables = model.tables_so_far()
    with solara.Column(classes=["sco-summit"], gap="0px") as view:
        solara.Style(CSS)
        if tables is None or model.last_year is None:
            _waiting(model, "Summit")
        else:
            _heading(f"Summit of {model.last_year} ({model.sco_scenario.name})")
            solara.HTML(tag="div", unsafe_innerHTML=summit_table(tables["decisions"], model.last_year))
    return view


def _chart(model: DashboardModel, kind: str, title: str, draw: Any) -> Any:
    """A chart of the years so far, drawn once per model and year (not on every render)."""
    tables = model.tables_so_far()
    when = [model, model.recorder.n_years]
    figure = solara.use_memo(lambda: None if tables is None else draw(tables), dependencies=when)
    with solara.Column(classes=["sco-chart", f"sco-{kind}"]) as view:
        if figure is None:
            _waiting(model, title)
        else:
            solara.FigureMatplotlib(figure, format="png", dependencies=when, dpi=100)
    return view


def DepthView(model: DashboardModel) -> Any:
    """Depth by area after the latest year, against the start of the run."""
    scenario = model.sco_scenario
    start = {key: area.initial_depth for key, area in scenario.areas.items()}
    return _chart(
        model,
        "depth",
        "Depth by area",
        lambda t: plot_depth(depth_data(t["model"], model.areas, start), model.year - 1),
    )


def AlignmentView(model: DashboardModel) -> Any:
    """The chosen state's alignment with each pole (the focal state if it is not in the scenario)."""
    code = model.dashboard.weights_of
    if code not in model.index:
        code = model.sco_scenario.focal_state
    return _chart(
        model,
        "alignment",
        "Alignment",
        lambda t: plot_alignment(alignment_data(t["states"], code, model.poles), state_name(model, code)),
    )


def BalancingView(model: DashboardModel) -> Any:
    """The focal state's balancing index (Kazakhstan's in the shipped scenarios)."""
    name = state_name(model, model.sco_scenario.focal_state)
    return _chart(
        model, "balancing", "Balancing index", lambda t: plot_balancing(balancing_data(t["model"]), name)
    )


def SettingsView(model: DashboardModel) -> Any:
    """What the model runs with, and how to change it."""
    with solara.Column(classes=["sco-settings"]) as view:
        _heading("In force")
        solara.HTML(tag="div", unsafe_innerHTML=settings_html(model))
        solara.HTML(tag="div", unsafe_innerHTML=HINT, classes=["sco-hint"])
    return view


COMPONENTS = [SummitView, BalancingView, DepthView, AlignmentView, SettingsView]


@solara.component
def Page() -> None:
    """The dashboard: one model per browser tab, inside Mesa's SolaraViz."""
    config = solara.use_memo(page_config, [])
    params = solara.use_memo(lambda: model_params(config["scenario"], config["seed"]), [])
    model = solara.use_memo(lambda: DashboardModel(**start_values(params)), [])
    SolaraViz(
        model,
        components=list(COMPONENTS),
        model_params=params,
        name=f"sco-sim dashboard: {model.sco_scenario.name}",
        play_interval=400,
    )
