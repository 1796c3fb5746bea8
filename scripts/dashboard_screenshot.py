"""Take the README's screenshot of ``sco-sim dashboard`` (docs/img/dashboard.png).

Usage:
    python scripts/dashboard_screenshot.py [SCENARIO] [--steps N] [--out PATH]

Starts the dashboard on a free local port, opens it in Debian's Chromium (Playwright, with
the system browser: ``apt-get install chromium``), presses Step N times, saves a screenshot
of the page reduced to 256 colours (a small PNG), and stops the server.
"""

from __future__ import annotations

import argparse
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(url: str, proc: subprocess.Popen, seconds: float = 90) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"the dashboard stopped:\n{proc.communicate()[0]}")
        try:
            with urllib.request.urlopen(url, timeout=5):
                return
        except OSError:
            time.sleep(0.5)
    raise SystemExit(f"the dashboard did not answer at {url}")


def shoot(url: str, steps: int, out: Path) -> None:
    from PIL import Image
    from playwright.sync_api import expect, sync_playwright

    exe = shutil.which("chromium") or "/usr/bin/chromium"
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=exe, args=ARGS)
        try:
            page = browser.new_page(viewport={"width": 1680, "height": 1000})
            page.goto(url, wait_until="load")
            expect(page.locator(".sco-in-force")).to_be_visible(timeout=60_000)
            settings = page.locator(".sco-in-force")
            year = int(settings.locator("li", has_text="next summit").inner_text().split()[-1])
            for _ in range(steps):
                page.get_by_role("button", name="Step").click()
                summit = page.locator(".sco-summit-table")
                expect(summit).to_have_attribute("data-year", str(year), timeout=30_000)
                expect(settings).to_contain_text(f"next summit: {year + 1}")
                year += 1
            page.wait_for_timeout(1000)  # the charts' images
            page.screenshot(path=str(out))
        finally:
            browser.close()
    Image.open(out).convert("RGB").quantize(colors=256).save(out, optimize=True)
    print(f"wrote {out} ({out.stat().st_size // 1024} KiB), the summit of {year - 1}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("scenario", nargs="?", default="scenarios/sco8_2017.toml")
    parser.add_argument("--steps", type=int, default=3)
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "img" / "dashboard.png")
    args = parser.parse_args()
    port = free_port()
    command = [sys.executable, "-m", "sim", "dashboard", args.scenario, "--port", str(port)]
    proc = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        wait_for(f"http://127.0.0.1:{port}/", proc)
        shoot(f"http://127.0.0.1:{port}/", args.steps, args.out)
    finally:
        proc.send_signal(signal.SIGINT)
        proc.communicate(timeout=30)
    return 0


if __name__ == "__main__":
    sys.exit(main())
