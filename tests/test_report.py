"""The HTML experiment report: self-contained, deterministic, and renders in a real browser."""

from __future__ import annotations

import os
import re
import shutil
from html.parser import HTMLParser
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import pandas as pd
import pytest

from sim.report import write_report

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
VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}


def experiment() -> dict:
    return {
        "name": "enlargement <test>",
        "description": 'Does the 2017 enlargement lower the consensus rate? Uses S&P-style "quotes".',
        "file": "experiments/enlargement.toml",
        "arms": [
            {
                "name": "sco6",
                "scenario": "scenarios/sco6_2017.toml",
                "overrides": {},
                "label": "SCO-6, no enlargement",
            },
            {
                "name": "sco8",
                "scenario": "scenarios/sco8_2017.toml",
                "overrides": {"rules": {"decision_rule": "consensus"}},
                "label": "SCO-8 from 2017",
            },
        ],
        "replications": 20,
        "base_seed": 1000,
        "metrics": [
            {
                "name": "consensus_rate",
                "table": "model",
                "column": "consensus_rate",
                "aggregate": "mean",
                "years": [2018, 2035],
                "label": "share of items decided with no member objecting",
            },
            {
                "name": "kaz_balancing",
                "table": "model",
                "column": "balancing_index",
                "aggregate": "last",
                "years": None,
            },
        ],
        "claims": [
            {"id": "C1", "hypothesis": "H1", "statement": "sco8 consensus < sco6", "label": "dilution"},
            {"id": "C2", "hypothesis": "H2", "statement": "balancing higher in sco8", "label": "balancing"},
        ],
    }


def claims() -> pd.DataFrame:
    return pd.DataFrame(
        [
            {
                "id": "C1",
                "hypothesis": "H1",
                "label": "dilution",
                "statement": "Enlargement lowers the consensus rate",
                "metric": "consensus_rate",
                "arm_a": "sco8",
                "arm_b": "sco6",
                "op": "<",
                "n_pairs": 20,
                "mean_a": 0.61,
                "mean_b": 0.72,
                "mean_diff": -0.11,
                "ci_low": -0.15,
                "ci_high": -0.07,
                "effect_size": -1.8,
                "verdict": "supported",
            },
            {
                "id": "C2",
                "hypothesis": "H2",
                "label": "balancing",
                "statement": "Kazakhstan balances more with India & Pakistan inside",
                "metric": "kaz_balancing",
                "arm_a": "sco8",
                "arm_b": "sco6",
                "op": ">",
                "n_pairs": 20,
                "mean_a": 0.58,
                "mean_b": 0.59,
                "mean_diff": -0.01,
                "ci_low": -0.04,
                "ci_high": 0.02,
                "effect_size": float("nan"),
                "verdict": "inconclusive",
            },
        ]
    )


def metrics() -> pd.DataFrame:
    rows = []
    for metric, means in {"consensus_rate": (0.72, 0.61), "kaz_balancing": (0.59, 0.58)}.items():
        for arm, mean in zip(("sco6", "sco8"), means, strict=True):
            rows.append(
                {
                    "metric": metric,
                    "arm": arm,
                    "n": 20,
                    "n_failed": 0 if arm == "sco6" else 1,
                    "mean": mean,
                    "ci_low": mean - 0.02,
                    "ci_high": mean + 0.02,
                    "median": mean,
                    "sd": 0.05,
                }
            )
    return pd.DataFrame(rows)


def manifest() -> dict:
    return {
        "experiment_hash": "abc123def456",
        "started": "2024-05-01T10:00:00+00:00",
        "finished": "2024-05-01T10:03:12+00:00",
        "python": "3.11.7",
        "mesa": "3.3.0",
        "sco_sim": "0.1.0",
        "git_revision": "349969b",
        "n_runs": 40,
        "n_failed": 1,
        "failures": [
            {"run_id": "sco8-r07", "arm": "sco8", "replication": 7, "error": "ScenarioError: <bad> year"}
        ],
    }


def render_charts(folder: Path) -> list[Path]:
    """Two charts: one as PNG only, one as both PNG and SVG (the SVG must win)."""
    paths = []
    figure, ax = plt.subplots(figsize=(4, 3), dpi=80)
    ax.bar(["sco6", "sco8"], [0.72, 0.61], color=["#2b8a3e", "#c92a2a"])
    ax.set_title("consensus rate")
    path = folder / "consensus_rate_by_arm.png"
    figure.savefig(path, format="png", metadata={"Software": None})
    paths.append(path)
    plt.close(figure)

    figure, ax = plt.subplots(figsize=(4, 3), dpi=80)
    ax.plot([2017, 2020, 2025, 2030, 2035], [0.64, 0.62, 0.6, 0.59, 0.58], marker="o")
    ax.set_title("balancing index")
    for fmt in ("png", "svg"):
        path = folder / f"kaz-balancing.{fmt}"
        figure.savefig(path, format=fmt, metadata={"Date": None} if fmt == "svg" else {"Software": None})
        paths.append(path)
    plt.close(figure)
    return paths


CAPTIONS = {
    "kaz-balancing": (
        "Kazakhstan's balancing index",
        "How evenly Kazakhstan stands between Russia & China, by year.",
    )
}


@pytest.fixture
def report(tmp_path: Path) -> Path:
    charts_dir = tmp_path / "charts"
    charts_dir.mkdir()
    charts = render_charts(charts_dir)
    return write_report(
        tmp_path / "out" / "report.html",
        experiment(),
        claims(),
        metrics(),
        charts,
        manifest(),
        captions=CAPTIONS,
    )


class Structure(HTMLParser):
    """Collects tags, attributes and nesting errors of a page."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.errors: list[str] = []
        self.starts: list[tuple[str, dict[str, str | None]]] = []
        self.doctype = ""

    def handle_decl(self, decl: str) -> None:
        self.doctype = decl

    def handle_starttag(self, tag, attrs):
        self.starts.append((tag, dict(attrs)))
        if tag not in VOID:
            self.stack.append(tag)

    def handle_startendtag(self, tag, attrs):
        self.starts.append((tag, dict(attrs)))

    def handle_endtag(self, tag):
        if not self.stack or self.stack[-1] != tag:
            self.errors.append(f"unexpected </{tag}> with open {self.stack[-3:]}")
        else:
            self.stack.pop()


def parse(text: str) -> Structure:
    parser = Structure()
    parser.feed(text)
    parser.close()
    return parser


def test_report_is_one_self_contained_html_file(report: Path, tmp_path: Path):
    text = report.read_text(encoding="utf-8")
    assert report == tmp_path / "out" / "report.html"
    assert text.startswith('<!DOCTYPE html>\n<html lang="en">')
    assert sorted(p.name for p in report.parent.iterdir()) == ["report.html"]  # no temp file left

    page = parse(text)
    assert page.doctype.lower() == "doctype html"
    assert page.errors == [] and page.stack == []
    tags = [tag for tag, _ in page.starts]
    assert tags.count("title") == 1 and tags.count("h1") == 1
    # Nothing is fetched from anywhere: no scripts, stylesheets links, fonts or remote URLs.
    assert "script" not in tags and "link" not in tags and "iframe" not in tags
    assert not re.search(r"(src|href)\s*=\s*[\"']?\s*(https?:)?//", text, re.I)
    assert "http://" not in text and "https://" not in text and "@import" not in text
    for tag, attrs in page.starts:
        for key in ("src", "href"):
            if key in attrs:
                assert attrs[key].startswith(("data:", "#")), (tag, attrs[key][:40])

    # Sections, verdicts, tables.
    for heading in ("How to read this report", "Experiment", "Verdicts", "Metrics by arm", "Charts", "Failures",
                    "Provenance"):  # fmt: skip
        assert f"<h2>{heading}</h2>" in text
    assert 'class="verdict v-supported">supported<' in text
    assert 'class="verdict v-inconclusive">inconclusive<' in text
    assert "-0.110 [-0.150, -0.070]" in text  # mean difference with its 95% interval
    assert "1 supported, 1 inconclusive" in text
    assert tags.count("table") >= 4  # arms, metric definitions, verdicts, metrics, failures
    assert "<td><code>kaz_balancing</code></td><td>sco8" in text
    assert "scenarios/sco6_2017.toml" in text and "scenarios/sco8_2017.toml" in text
    assert "abc123def456" in text and "2024-05-01T10:03:12+00:00" in text and "349969b" in text
    assert "sco8-r07" in text

    # Every text is escaped.
    assert "enlargement &lt;test&gt;" in text and "<test>" not in text
    assert "&lt;bad&gt; year" in text and "India &amp; Pakistan" in text
    assert "S&amp;P-style &quot;quotes&quot;" in text

    # One embedded image per chart stem; SVG preferred when a chart exists in both formats.
    images = [attrs for tag, attrs in page.starts if tag == "img"]
    inline_svgs = tags.count("svg")
    assert len(images) + inline_svgs == 2
    sources = [attrs["src"] for attrs in images]
    assert any(s.startswith("data:image/png;base64,") for s in sources)
    assert any(s.startswith("data:image/svg+xml") for s in sources) or inline_svgs == 1
    assert all(attrs.get("alt") for attrs in images)
    assert "Consensus rate by arm" in text  # a chart without a caption is titled from its file name
    assert (
        "Kazakhstan&#x27;s balancing index.</strong> How evenly Kazakhstan stands between Russia &amp; China"
        in text
    )
    assert tags.count("figure") == 2 and tags.count("figcaption") == 2


def test_report_explains_the_rule_and_names_arms_and_metrics_by_their_labels(report: Path):
    text = report.read_text(encoding="utf-8")
    reading = text.split('<section id="reading">')[1].split("</section>")[0]
    # the verdict rule, the band and the effect size, in words
    assert "Supported = the interval excludes 0 and the mean difference lies beyond the band" in reading
    assert "<dt>band</dt><dd>The smallest difference that matters" in reading
    assert "<dt>effect size (d_z)</dt>" in reading and "does not decide the verdict" in reading
    # the calibration note says what the parameters were fitted to, and which arms leave the fitted point
    assert "fitted to the record of 1996\u20132017 only" in reading and "docs/calibration.md" in reading
    assert "sco8 (rules.decision_rule)" in reading
    # labels from the experiment file beside the keys
    assert "<td>sco6</td><td>SCO-6, no enlargement</td>" in text
    assert "share of items decided with no member objecting" in text
    assert "SCO-8 from 2017 &lt; SCO-6, no enlargement" in text  # a claim's arms by their labels


def test_no_variation_reads_as_such_in_the_report(tmp_path: Path):
    flat = claims().iloc[:1].assign(verdict="no variation", mean_diff=0.0, ci_low=0.0, ci_high=0.0,
                                    effect_size=float("nan"), note="all paired differences are equal")  # fmt: skip
    text = write_report(tmp_path / "r.html", experiment(), flat, metrics(), [], {}).read_text()
    assert "0.000 in every pair" in text and "undefined (no variation)" in text
    assert not re.search(r"\bnan\b", text, re.I)


def test_report_bytes_are_deterministic(tmp_path: Path):
    charts = render_charts(tmp_path)
    first = write_report(tmp_path / "a.html", experiment(), claims(), metrics(), charts, manifest())
    second = write_report(tmp_path / "b.html", experiment(), claims(), metrics(), charts, manifest())
    again = first.read_bytes()
    write_report(first, experiment(), claims(), metrics(), charts, manifest())  # overwrite in place
    assert first.read_bytes() == second.read_bytes() == again
    assert not list(tmp_path.glob(".*.tmp"))


def test_report_handles_empty_inputs_and_rejects_other_chart_types(tmp_path: Path):
    empty = pd.DataFrame()
    path = write_report(tmp_path / "r.html", {"name": "empty"}, empty, empty, [], {})
    text = path.read_text()
    assert "No claims." in text and "No metrics." in text and "No charts." in text
    assert "<h2>Failures</h2>" not in text
    assert parse(text).errors == []
    bad = tmp_path / "chart.jpg"
    bad.write_bytes(b"\xff\xd8")
    with pytest.raises(ValueError, match="neither"):
        write_report(tmp_path / "r2.html", {"name": "x"}, empty, empty, [bad], {})
    assert not (tmp_path / "r2.html").exists()


def chromium_executable() -> str | None:
    exe = shutil.which("chromium") or "/usr/bin/chromium"
    return exe if os.path.isfile(exe) and os.access(exe, os.X_OK) else None


def test_report_renders_in_headless_chromium(report: Path, tmp_path: Path):
    exe = chromium_executable()
    if exe is None:
        pytest.skip("Debian chromium not installed: apt-get install chromium")
    from playwright.sync_api import sync_playwright

    requests: list[str] = []
    console_errors: list[str] = []
    shot = tmp_path / "report.png"
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=exe, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1200, "height": 900})
            page.on("request", lambda r: requests.append(r.url))
            page.on("console", lambda m: console_errors.append(m.text) if m.type == "error" else None)
            page.goto(report.as_uri(), wait_until="load")
            charts = page.evaluate(
                """() => Array.from(document.querySelectorAll("figure.chart")).map((fig) => {
                    const img = fig.querySelector("img");
                    if (img) {
                        return {kind: "img", ok: img.complete && img.naturalWidth > 0,
                                width: img.naturalWidth, alt: img.alt};
                    }
                    const svg = fig.querySelector("svg");
                    if (svg) {
                        const box = svg.getBoundingClientRect();
                        return {kind: "svg", ok: box.width > 0 && box.height > 0, width: box.width, alt: ""};
                    }
                    return {kind: "none", ok: false, width: 0, alt: ""};
                })"""
            )
            title = page.title()
            verdicts = page.locator("#verdicts .verdict").all_inner_texts()
            page.screenshot(path=str(shot), full_page=True)
        finally:
            browser.close()

    assert title == "enlargement <test>: sco-sim experiment report"
    assert len(charts) == 2, charts
    assert all(c["ok"] for c in charts), charts
    assert all(c["alt"].startswith("Chart: ") for c in charts if c["kind"] == "img")
    assert verdicts == ["supported", "inconclusive"]
    # Only the report itself (and its inline data: charts) were requested.
    assert all(u.startswith(("file:", "data:")) for u in requests), requests
    assert console_errors == []
    data = shot.read_bytes()
    assert data.startswith(b"\x89PNG\r\n\x1a\n") and len(data) > 10_000
