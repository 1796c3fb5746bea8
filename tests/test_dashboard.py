"""The dashboard: its model is the model's own run, and the page works in a real browser.

The fast tests build :class:`DashboardModel` directly: the page's starting inputs give the
tables of ``sim.run``, and each slider becomes the scenario override it says. The slow test
starts ``sco-sim dashboard`` on a free local port, opens it in Debian's Chromium through
Playwright, moves a slider, resets, steps twice, and checks the summit table and a chart;
then it stops the server and checks the port is free again.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pandas as pd
import pytest

import sim
from sim.dashboard.model import NO_PAIR, SCENARIO_RULE, DashboardModel, model_params, scenario_choices
from sim.dashboard.views import settings_lines, summit_table

from .conftest import ROOT, SCENARIOS

HISTORY = SCENARIOS / "history_1996.toml"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def start_values(**changes) -> dict:
    params = model_params(HISTORY, seed=4)
    values = {name: spec["value"] if isinstance(spec, dict) else spec for name, spec in params.items()}
    return {**values, **changes}


def test_the_page_starts_with_the_scenarios_own_run():
    model = DashboardModel(**start_values())
    assert model.dashboard.overrides == {} and model.dashboard.notes == []
    model.run()
    plain = sim.run(HISTORY, seed=4)
    tables = model.tables()
    for name in ("model", "states", "decisions"):
        pd.testing.assert_frame_equal(tables[name], plain.tables[name])


def test_each_input_is_the_override_it_says_and_a_bad_one_is_reported():
    model = DashboardModel(
        **start_values(
            seed="12",
            weights_of="IND",
            shift_security=0.2,
            rivalry_pair="IND-PAK",
            rivalry_level=0.1,
            tolerance_level=0.05,
            decision_rule="consensus",
        )
    )
    s = model.dashboard
    assert s.seed == 12 and model.sco_scenario.rules.decision_rule == "consensus"
    assert model.sco_scenario.rules.tolerance == 0.05
    weights = s.overrides["states"]["IND"]["weights"]  # 0.35+0.2, 0.25, 0.30, 0.10, over 1.2
    assert weights["security"] == pytest.approx(0.55 / 1.2) and sum(weights.values()) == pytest.approx(1)
    i, j = model.index["IND"], model.index["PAK"]
    assert model.rivalry[i, j] == model.rivalry[j, i] == 0.1  # both declarations: the larger counts
    lines, ignored = settings_lines(model)
    assert "weights of IND: security 0.46, economy 0.21, balancing 0.25, regime 0.08" in lines
    assert "rivalry IND-PAK in force now: 0.10" in lines and ignored == []
    bad = DashboardModel(**start_values(seed="x", weights_of="KAZ", shift_security=-0.5, shift_economy=-0.5,
                                        shift_balancing=-0.5, shift_regime=-0.5))  # fmt: skip
    assert bad.dashboard.seed == 0 and bad.dashboard.overrides == {}
    assert bad.dashboard.notes == [
        "seed 'x' is not a whole number: seed 0 used",
        "the shifts leave KAZ no positive weight: weights kept",
    ]


def test_a_slider_left_where_it_started_changes_nothing():
    from sim.dashboard.model import build_settings

    def rules(tolerance):
        settings = build_settings(
            str(HISTORY), "0", "KAZ", {}, (NO_PAIR, 0.9), (tolerance, 0.108164, SCENARIO_RULE)
        )
        return settings.overrides.get("rules", {})

    assert rules(0.108164) == {} and rules(0.11) == {}  # 0.11: the slider's step snapped it
    assert rules(0.105) == {"tolerance": 0.105}


def test_the_inputs_list_the_scenarios_rules_and_rivalries():
    params = model_params(HISTORY)
    assert params["scenario_file"]["values"][0] == str(HISTORY)
    assert {Path(p).name for p in scenario_choices(HISTORY)} == {p.name for p in SCENARIOS.glob("*.toml")}
    assert params["decision_rule"]["values"][:2] == [SCENARIO_RULE, "consensus"]
    assert params["rivalry_pair"]["values"][:3] == [NO_PAIR, "CHN-IND", "IND-PAK"]
    assert (
        params["weights_of"]["value"] == "KAZ"
        and params["tolerance_start"] == params["tolerance_level"]["value"]
    )


def test_the_summit_table_shows_the_dissent_columns_of_the_decision_log():
    model = DashboardModel(**start_values())
    assert model.tables_so_far() is None and model.last_year is None
    model.step()
    decisions = model.tables_so_far()["decisions"]
    html = summit_table(decisions, model.last_year)
    for heading in ("dissenters", "stood aside", "blocked by", "reasons"):
        assert f">{heading}</th>" in html
    assert html.count("<tr class=") == len(decisions)
    assert "no item was tabled in 1990" in summit_table(decisions, 1990)


def test_the_charts_draw_the_years_so_far_on_fitted_axes():
    from sim.charts import dashboard as charts

    model = DashboardModel(**start_values())
    model.step()
    model.step()
    tables = model.tables_so_far()
    start = {key: area.initial_depth for key, area in model.sco_scenario.areas.items()}
    depth = charts.depth_data(tables["model"], model.areas, start)
    assert list(depth.index) == model.areas and list(depth.columns) == ["start", "now"]
    assert depth["now"].tolist() == tables["model"].filter(like="depth_").iloc[-1].tolist()
    alignment = charts.alignment_data(tables["states"], "KAZ", model.poles)
    assert list(alignment.index) == [1996, 1997] and list(alignment.columns) == model.poles
    index = charts.balancing_data(tables["model"])
    figure = charts.plot_balancing(index, "Kazakhstan")
    low, high = figure.axes[0].get_ylim()
    assert 0 <= low <= index.min() and index.max() <= high <= 1 and high - low < 0.5  # fitted, not 0-1
    assert charts.plot_depth(depth, 1997).axes[0].get_title() == "Depth by area, 1997"
    assert charts.plot_alignment(alignment, "Kazakhstan").axes[0].get_title().endswith("with the poles")


def test_a_bad_scenario_or_a_taken_port_is_one_line_with_exit_2(tmp_path, capsys):
    from sim.cli import main
    from sim.dashboard.server import check_port

    assert main(["dashboard", str(tmp_path / "none.toml")]) == 2
    assert capsys.readouterr().err.count("\n") == 1
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(sim.InputError, match=f"port {port} on 127.0.0.1 is in use; choose another"):
            check_port("127.0.0.1", port)


# --- the page in a browser -------------------------------------------------------------------


def chromium_executable() -> str | None:
    exe = shutil.which("chromium") or "/usr/bin/chromium"
    return exe if os.path.isfile(exe) and os.access(exe, os.X_OK) else None


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def port_is_free(port: int) -> bool:
    with socket.socket() as probe:
        if probe.connect_ex(("127.0.0.1", port)) == 0:
            return False  # something still answers
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


@pytest.fixture
def dashboard():
    """``sco-sim dashboard`` on a free port; stopped (and its port checked) at the end."""
    pytest.importorskip("solara", reason="the dashboard's packages: pip install -e '.[dashboard]'")
    if chromium_executable() is None:
        pytest.skip("Debian chromium not installed: apt-get install chromium")
    port = free_port()
    command = [sys.executable, "-m", "sim", "dashboard", str(HISTORY), "--port", str(port), "--seed", "4"]
    proc = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    url = f"http://127.0.0.1:{port}/"
    try:
        deadline = time.monotonic() + 90
        while True:
            assert proc.poll() is None, proc.communicate()[0][-3000:]
            try:
                with urllib.request.urlopen(url, timeout=5) as response:
                    if response.status == 200:
                        break
            except OSError:
                pass
            assert time.monotonic() < deadline, "the dashboard did not answer in 90 s"
            time.sleep(0.5)
        yield url
    finally:
        proc.send_signal(signal.SIGINT)  # Ctrl-C, as a user stops it
        try:
            output = proc.communicate(timeout=30)[0]
        except subprocess.TimeoutExpired:
            proc.kill()
            output = proc.communicate()[0]
            pytest.fail(f"the dashboard did not stop on Ctrl-C:\n{output[-3000:]}")
    assert proc.returncode == 0, output[-3000:]
    assert "Traceback" not in output, output[-3000:]
    assert port_is_free(port)


def chart_png(page, kind: str) -> bytes:
    return page.locator(f".sco-{kind} img").screenshot()


@pytest.mark.slow
def test_the_dashboard_runs_in_chromium(dashboard: str, tmp_path: Path):
    from playwright.sync_api import expect, sync_playwright

    errors: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium_executable(), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1100})
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.on("requestfailed", lambda r: errors.append(f"failed: {r.url}"))
            page.goto(dashboard, wait_until="load")
            settings = page.locator(".sco-in-force")
            expect(settings).to_contain_text("weights of KAZ: security 0.30", timeout=60_000)
            expect(settings).to_contain_text("seed 4")
            # Type seed 5, move KAZ's security weight up by 0.2 (four steps of 0.05), and Reset.
            seed = page.get_by_label("Seed (press Enter, then Reset)")
            seed.fill("5")
            seed.press("Enter")
            slider = page.locator(".v-input", has_text="security weight: shift").locator("[role=slider]")
            slider.focus()
            for _ in range(4):
                slider.press("ArrowRight")
            page.get_by_role("button", name="Reset").click()
            expect(settings).to_contain_text("weights of KAZ: security 0.42, economy 0.21", timeout=30_000)
            expect(settings).to_contain_text("seed 5")
            # The tolerance slider snaps the scenario's 0.108164 to its grid: untouched, so not applied.
            expect(settings).to_contain_text("tolerance 0.108")
            expect(page.locator(".sco-settings")).to_contain_text("in the file: 0.30, 0.25, 0.30, 0.15")

            step = page.get_by_role("button", name="Step")
            step.click()
            table = page.locator(".sco-summit-table")
            expect(table).to_have_attribute("data-year", "1996", timeout=30_000)
            first_chart = chart_png(page, "balancing")
            first_rows = table.locator("tbody tr").all_inner_texts()
            step.click()
            expect(table).to_have_attribute("data-year", "1997", timeout=30_000)
            expect(page.locator(".sco-heading", has_text="Summit of 1997")).to_be_visible()
            headings = table.locator("th").all_inner_texts()
            rows = table.locator("tbody tr").all_inner_texts()
            titles = table.locator("td.sco-title").all_inner_texts()
            outcomes = [text.split()[0] for text in table.locator("td.sco-outcome").all_inner_texts()]
            dissenters = table.locator("td.sco-dissenters").all_inner_texts()
            expect(page.locator(".sco-depth img")).to_be_visible()
            expect(page.locator(".sco-alignment img")).to_be_visible()
            second_chart = chart_png(page, "balancing")
            page.screenshot(path=str(tmp_path / "dashboard.png"))
        finally:
            browser.close()

    assert ["dissenters", "stood aside", "blocked by", "reasons"] == headings[-4:]
    assert rows and rows != first_rows
    assert second_chart != first_chart  # the balancing index gained 1997's point
    # The page's 1997 summit is the model's, with the slider's weights and the seed typed in.
    model = DashboardModel(**start_values(shift_security=0.2, seed="5"))
    model.step()
    model.step()
    expected = model.tables_so_far()["decisions"]
    expected = expected[expected["year"] == 1997]
    assert titles == expected["title"].tolist() and outcomes == expected["outcome"].tolist()
    assert dissenters == [cell.replace(";", " ") for cell in expected["dissenters"]]
    assert errors == []
