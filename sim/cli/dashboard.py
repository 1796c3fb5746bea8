"""``sco-sim dashboard``: explore a scenario year by year in the browser (``sim.dashboard``)."""

from __future__ import annotations

import argparse

from sim.cli.options import Command, integer_in, seed


def dashboard_arguments(cmd: argparse.ArgumentParser) -> None:
    """Arguments of ``sco-sim dashboard``."""
    cmd.add_argument("scenario", metavar="SCENARIO", help="scenario file (TOML) the page starts with")
    cmd.add_argument("--port", type=integer_in(0, 65535, "port (0 for any free)"), default=8765,
                     help="port to listen on (default 8765; 0 picks a free one)")  # fmt: skip
    cmd.add_argument("--host", default="127.0.0.1",
                     help="address to listen on (default 127.0.0.1: this machine only)")  # fmt: skip
    cmd.add_argument("--seed", type=seed, default=0, help="the seed the page starts with (default 0)")
    cmd.add_argument("--open", action="store_true", help="open the page in the default browser")


def dashboard_command(args: argparse.Namespace) -> int:
    """Serve the dashboard until interrupted."""
    from sim.dashboard.server import serve

    return serve(args.scenario, host=args.host, port=args.port, seed=args.seed, open_browser=args.open)


DASHBOARD = Command(
    "dashboard",
    "explore a scenario in the browser: sliders, step year by year, summit table and charts",
    "Start a local web page (Mesa's SolaraViz) on a scenario: pick the scenario and the seed, "
    "shift one state's interest weights, set a rivalry, the tolerance and the decision rule, "
    "press Reset, then Step or play year by year; the page shows each summit's decisions with "
    "who dissented, stood aside or blocked and why, depth by area, alignment with the poles "
    "and the focal state's balancing index. Needs pip install 'sco-sim[dashboard]'. Stop it "
    "with Ctrl-C.",
    dashboard_arguments,
    dashboard_command,
)
