"""Start the dashboard's page server: Solara's own server (uvicorn) on a local address.

:func:`serve` checks the scenario and the port first (a problem is one line, exit 2), then
runs ``solara run sim.dashboard.app`` in this process in production mode, without
opening a browser unless asked, without Solara's check for a newer version on PyPI and
without its usage telemetry: the page works offline. Ctrl-C (or SIGTERM) stops the server
and frees the port.
"""

from __future__ import annotations

import errno
import json
import os
import socket
import warnings
from pathlib import Path

from sim.errors import InputError

APP = "sim.dashboard.app"
EXTRA = "pip install 'sco-sim[dashboard]'"


def check_installed() -> None:
    """Raise InputError saying what to install if Mesa's visualisation (Solara) is missing."""
    try:
        import mesa.visualization  # noqa: F401
        import solara  # noqa: F401
    except ImportError as exc:
        raise InputError(
            "", f"the dashboard needs Solara and Mesa's visualisation ({exc}); {EXTRA}"
        ) from None


def check_port(host: str, port: int) -> None:
    """Raise InputError if ``host:port`` cannot be listened on (taken, or not this machine's)."""
    if port == 0:
        return
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except OSError as exc:
        raise InputError("", f"cannot listen on {host} ({exc})", key="--host") from None
    family, kind, proto, _, address = infos[0]
    with socket.socket(family, kind, proto) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(address)
        except OSError as exc:
            why = "is in use" if exc.errno == errno.EADDRINUSE else f"cannot be used ({exc.strerror or exc})"
            raise InputError(
                "", f"port {port} on {host} {why}; choose another with --port", key="--port"
            ) from None


def solara_arguments(host: str, port: int, open_browser: bool) -> list[str]:
    """Return the arguments of ``solara run`` for the dashboard."""
    return [
        "run",
        APP,
        "--host",
        host,
        "--port",
        str(port),
        "--production",
        "--open" if open_browser else "--no-open",
        "--no-check-version",
        "--log-level",
        "warning",
    ]


def serve(
    scenario: str | Path, host: str = "127.0.0.1", port: int = 8765, seed: int = 0, open_browser: bool = False
) -> int:
    """Serve the dashboard for ``scenario`` until interrupted; return the exit status."""
    from sim.scenario import load_scenario

    # Offline and private: no usage reports (Solara sends them unless told not to).
    os.environ.setdefault("SOLARA_TELEMETRY_MIXPANEL_ENABLE", "False")
    # Mesa 3.3's ComponentsView trips Solara's rules-of-hooks check (a warning, harmless there).
    warnings.filterwarnings("ignore", category=UserWarning, module="solara.validate_hooks")
    # Plain http on this machine: Solara falls back to SameSite=lax cookies, as it should.
    warnings.filterwarnings("ignore", message="Cookies with samesite=none", category=UserWarning)
    load_scenario(scenario)  # a broken file is one line here, not a traceback in the page
    check_port(host, port)
    check_installed()
    os.environ["SCO_SIM_DASHBOARD"] = json.dumps({"scenario": str(scenario), "seed": int(seed)})
    from click.exceptions import Abort
    from solara.__main__ import cli
    from solara.server import settings

    telemetry = os.environ["SOLARA_TELEMETRY_MIXPANEL_ENABLE"].lower()
    settings.telemetry.mixpanel_enable = telemetry in ("1", "true")
    print(f"sco-sim dashboard: {scenario} at http://{host}:{port} (Ctrl-C stops it)", flush=True)
    try:
        cli.main(
            args=solara_arguments(host, port, open_browser),
            prog_name="sco-sim dashboard",
            standalone_mode=False,
        )
    except (KeyboardInterrupt, Abort):  # Ctrl-C: the usual way to stop a server, not an error
        pass
    print("sco-sim dashboard: stopped", flush=True)
    return 0
