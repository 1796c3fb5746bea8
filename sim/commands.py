"""From a results folder to verdicts, charts and the report (what compare/plot/report run).

Everything here reads stored tables (:func:`sim.results.load_results`); nothing
reaches back to the model.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from sim import report, report_discover
from sim.analysis import compare
from sim.analysis.sensitivity import SensitivityAnalysis
from sim.analysis.validation import Validation, date_chart_data, write_tables
from sim.charts import batch as batchplots
from sim.charts.sensitivity import write_sensitivity_charts
from sim.charts.validation import write_date_chart
from sim.errors import InputError
from sim.experiments.store import Results, load_results
from sim.files import write_text

# fixed, so the intervals of the metrics table are reproducible; the same as bootstrap_ci's default
BOOTSTRAP_SEED = compare.BOOTSTRAP_SEED
N_BOOT = compare.N_BOOT


@dataclass
class Analysis:
    """Verdicts for the claims and the metrics by arm."""

    claims: pd.DataFrame
    metrics: pd.DataFrame
    n_ok: int
    n_failed: int


def analyse(results: Results) -> Analysis:
    """Evaluate every claim (paired t, Holm across the claims) and describe every metric by arm."""
    summaries = results.summaries
    arms = results.arms
    metrics = list(results.experiment.metrics)
    if not len(summaries) or not (summaries["status"] == "ok").any():
        raise InputError(
            str(results.folder),
            "holds no finished run to compare (see failures/ and manifest.json); "
            "fix the cause and run `sco-sim batch ... --resume`",
        )
    claims = compare.evaluate_claims(summaries, results.claims)
    table = compare.metric_table(summaries, metrics, arms, n_boot=N_BOOT, seed=BOOTSTRAP_SEED)
    ok = int((summaries["status"] == "ok").sum())
    return Analysis(claims, table, ok, int(len(summaries) - ok))


def write_analysis(results: Results, analysis: Analysis) -> list[Path]:
    """Write ``claims.csv`` and ``metrics.csv`` into the results folder."""
    written = []
    for name, frame in (("claims", analysis.claims), ("metrics", analysis.metrics)):
        path = results.folder / f"{name}.csv"
        frame.to_csv(path, index=False, lineterminator="\n")
        written.append(path)
    return written


def make_charts(results: Results, analysis: Analysis | None = None, out: Path | None = None) -> list[Path]:
    """Draw the experiment's charts as PNG and SVG into ``out`` (default RESULTS/charts)."""
    analysis = analysis or analyse(results)
    out = out or results.folder / "charts"
    focal = results.experiment.focal_state
    return batchplots.write_charts(
        results.tables, analysis.claims, results.arms, out, focal=focal, only=list(results.experiment.charts)
    )


def make_report(results: Results, out: Path | None = None) -> Path:
    """Write the self-contained HTML report (default RESULTS/report.html).

    A folder with a result of ``sco-sim discover`` (RESULTS/discover) gets its section too
    (:mod:`sim.report_discover`).
    """
    analysis = analyse(results)
    charts = make_charts(results, analysis)
    manifest = results.manifest
    versions = manifest.get("versions", {})
    flat: dict[str, Any] = {
        "experiment_hash": manifest.get("experiment", {}).get("hash", ""),
        "started": manifest.get("started"),
        "finished": manifest.get("finished"),
        "status": manifest.get("status"),
        "python": versions.get("python"),
        "mesa": versions.get("mesa"),
        "sco_sim": versions.get("sco_sim"),
        "git_revision": versions.get("git_revision"),
        "n_runs": manifest.get("n_runs"),
        "n_failed": analysis.n_failed,
        "failures": manifest.get("failures", []),
    }
    discovered = report_discover.discover_section(results.folder)
    page = report.render_report(
        manifest.get("experiment", {}),
        analysis.claims,
        analysis.metrics,
        charts,
        flat,
        extra_sections=[discovered] if discovered else [],
    )
    target = out or results.folder / "report.html"
    target.parent.mkdir(parents=True, exist_ok=True)
    write_text(target, page)  # atomically, as report.write_report does
    return target


def load(folder: str | Path) -> Results:
    """Load a results folder (re-exported for the command line)."""
    return load_results(folder)


def write_sensitivity(folder: str | Path, analysis: SensitivityAnalysis, charts: bool = True) -> list[Path]:
    """Write ``sensitivity.csv``, ``sensitivity_points.csv``, ``sensitivity.json`` and the charts."""
    folder = Path(folder)
    written = []
    for name, frame in (("sensitivity", analysis.table()), ("sensitivity_points", analysis.points_table())):
        path = folder / f"{name}.csv"
        frame.to_csv(path, index=False, lineterminator="\n")
        written.append(path)
    path = folder / "sensitivity.json"
    path.write_text(json.dumps(analysis.to_json(), indent=2) + "\n")
    written.append(path)
    if charts:
        written.extend(write_sensitivity_charts(analysis, folder / "charts"))
    return written


def write_validation(validation: Validation, out_dir: str | Path) -> list[Path]:
    """Write the pattern table, the per-seed facts and the date chart to ``out_dir``."""
    written = write_tables(validation, out_dir)
    data = date_chart_data(validation.runs)
    return written + write_date_chart(data, len(validation.runs), Path(out_dir))


def write_discover(discovery: Any, out: str | Path, charts: bool = True) -> list[Path]:
    """Write a scenario discovery's tables (:func:`sim.analysis.discover.write_discovery`) and its chart.

    ``out`` is ``RESULTS/discover`` unless the user chose another folder; ``sco-sim report``
    shows the result found there.
    """
    from sim.analysis.discover import write_discovery
    from sim.charts.discover import write_tradeoff_chart

    written = write_discovery(discovery, out)
    if charts:
        cart = pd.DataFrame(
            [{"box": b.number, "coverage": b.coverage, "density": b.density} for b in discovery.cart],
            columns=["box", "coverage", "density"],
        )
        written += write_tradeoff_chart(
            discovery.trajectory,
            out,
            cart=cart,
            outcome=discovery.outcome,
            density=discovery.settings.density,
            base_rate=discovery.n_interest / discovery.n_runs,
        )
    return written
