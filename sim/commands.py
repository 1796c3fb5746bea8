"""From a results folder to verdicts, charts and the report (what compare/plot/report run).

Everything here reads stored tables (:func:`sim.results.load_results`); nothing
reaches back to the model.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from sim import report, report_discover
from sim.analysis import compare, pairs, points
from sim.analysis.ablation import ablation_table
from sim.analysis.sensitivity import SensitivityAnalysis
from sim.analysis.validation import Validation, date_chart_data, write_tables
from sim.charts import batch as batchplots
from sim.charts.ablation import write_ablation_chart
from sim.charts.captions import describe
from sim.charts.sensitivity import write_sensitivity_charts
from sim.charts.validation import write_date_chart
from sim.errors import InputError
from sim.experiments.ablation import stored
from sim.experiments.store import Results, load_results

# fixed, so the intervals of the metrics table are reproducible; the same as bootstrap_ci's default
BOOTSTRAP_SEED = compare.BOOTSTRAP_SEED
N_BOOT = compare.N_BOOT


@dataclass
class Analysis:
    """Verdicts for the claims and the metrics by arm; with a sweep, the same at each point."""

    claims: pd.DataFrame
    metrics: pd.DataFrame
    n_ok: int
    n_failed: int
    #: the swept parameters (dotted keys), empty without a sweep
    parameters: list[str] = field(default_factory=list)
    #: every claim at every point (Holm across all), and every metric by arm at every point
    claims_by_point: pd.DataFrame | None = None
    metrics_by_point: pd.DataFrame | None = None


def sweep_points(results: Results) -> list[dict[str, Any]]:
    """Return the values of each sweep point (the manifest's ``experiment.points``; ``[{}]`` if none)."""
    return list(results.manifest.get("experiment", {}).get("points") or [{}])


def analyse(results: Results) -> Analysis:
    """Evaluate every claim (paired t, Holm across the claims) and describe every metric by arm.

    With a sweep (more than one point), also every claim and every metric at each point.
    """
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
    analysis = Analysis(claims, table, ok, int(len(summaries) - ok))
    values = sweep_points(results)
    if points.is_sweep(values):
        analysis.parameters = points.parameters(values)
        analysis.claims_by_point = points.claims_by_point(summaries, results.claims, values)
        analysis.metrics_by_point = points.metric_table_by_point(
            summaries, metrics, arms, values, n_boot=N_BOOT, seed=BOOTSTRAP_SEED
        )
    return analysis


def write_analysis(results: Results, analysis: Analysis) -> list[Path]:
    """Write ``claims.csv`` and ``metrics.csv`` (with a sweep, ``*_by_point.csv`` too) into the folder."""
    written = []
    frames = [("claims", analysis.claims), ("metrics", analysis.metrics)]
    if analysis.claims_by_point is not None and analysis.metrics_by_point is not None:
        frames += [
            ("claims_by_point", analysis.claims_by_point),
            ("metrics_by_point", analysis.metrics_by_point),
        ]
    for name, frame in frames:
        path = results.folder / f"{name}.csv"
        frame.to_csv(path, index=False, lineterminator="\n")
        written.append(path)
    return written


def arm_labels(results: Results) -> dict[str, str]:
    """Return the arms' labels from the experiment file (the key where an arm has none)."""
    return {name: arm.label or name for name, arm in results.experiment.arms.items()}


def chart_context(results: Results, analysis: Analysis) -> batchplots.ChartContext:
    """Return what the charts need besides the tables: metrics, labels, paired differences, sweep tables."""
    summaries, metrics = results.summaries, dict(results.experiment.metrics)
    ok = summaries[summaries["status"] == "ok"] if "status" in summaries else summaries
    paired = {
        name: pairs.metric_differences(summaries, name, results.arms, analysis.claims)
        for name in metrics
        if name in summaries and len(ok)
    }
    return batchplots.ChartContext(
        metrics=metrics,
        labels=arm_labels(results),
        paired=paired,
        parameters=analysis.parameters,
        metrics_by_point=analysis.metrics_by_point,
        claims_by_point=analysis.claims_by_point,
    )


def make_charts(results: Results, analysis: Analysis | None = None, out: Path | None = None) -> list[Path]:
    """Draw the experiment's charts as PNG and SVG into ``out`` (default RESULTS/charts)."""
    analysis = analysis or analyse(results)
    out = out or results.folder / "charts"
    focal = results.experiment.focal_state
    return batchplots.write_charts(
        results.tables,
        analysis.claims,
        results.arms,
        out,
        focal=focal,
        only=[*results.experiment.charts, "sweep"],  # a sweep's charts are drawn whenever there is a sweep
        context=chart_context(results, analysis),
    )


def chart_captions(results: Results, analysis: Analysis, charts: list[Path]) -> dict[str, tuple[str, str]]:
    """Return the title and caption of each chart written, by file stem."""
    metrics = dict(results.experiment.metrics)
    focal = results.experiment.focal_state
    return {path.stem: describe(path.stem, metrics, focal, analysis.parameters) for path in charts}


def report_experiment(results: Results) -> dict[str, Any]:
    """Return the experiment as the report shows it: the manifest's description, with the file's labels."""
    experiment = dict(results.manifest.get("experiment", {}))
    labels = arm_labels(results)
    experiment["arms"] = [
        {**arm, "label": labels.get(str(arm.get("name")), "")} for arm in experiment.get("arms", [])
    ]
    definitions = {name: metric.label for name, metric in results.experiment.metrics.items()}
    experiment["metrics"] = [
        {**metric, "label": metric.get("label") or definitions.get(str(metric.get("name")), "")}
        for metric in experiment.get("metrics", [])
    ]
    labels_by_claim = {claim.id: claim.label for claim in results.experiment.claims}
    experiment["claims"] = [
        {**claim, "label": claim.get("label") or labels_by_claim.get(str(claim.get("id")), "")}
        for claim in experiment.get("claims", [])
    ]
    return experiment


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
    sweep = None
    if analysis.claims_by_point is not None and analysis.metrics_by_point is not None:
        sweep = {
            "parameters": analysis.parameters,
            "claims": analysis.claims_by_point,
            "metrics": analysis.metrics_by_point,
        }
    return report.write_report(
        out or results.folder / "report.html",
        report_experiment(results),
        analysis.claims,
        analysis.metrics,
        charts,
        flat,
        captions=chart_captions(results, analysis, charts),
        sweep=sweep,
        extra_sections=[discovered] if discovered else [],
    )


def load(folder: str | Path) -> Results:
    """Load a results folder (re-exported for the command line)."""
    return load_results(folder)


@dataclass
class AblationAnalysis:
    """An ablation's claims by configuration (``ablation.csv``) and what was analysed and written."""

    table: pd.DataFrame
    configurations: list[str]  # the configurations analysed, in the canonical order
    incomplete: list[str]  # stored, but their batch did not finish: left out
    files: list[Path]


def analyse_ablation(out: str | Path, chart: bool = True) -> AblationAnalysis:
    """Compare every finished configuration of an ablation folder and write ``ablation.csv`` (and its chart).

    Each configuration is compared as ``sco-sim compare`` compares a batch (its claims judged
    together, with Holm's adjustment within the configuration), and its ``claims.csv`` and
    ``metrics.csv`` are written into its own folder.
    """
    out = Path(out)
    claims: dict[str, pd.DataFrame] = {}
    incomplete: list[str] = []
    for name in stored(out):
        results = load_results(out / name)
        if results.manifest.get("status") != "complete":
            incomplete.append(name)
            continue
        analysis = analyse(results)
        write_analysis(results, analysis)
        claims[name] = analysis.claims
    table = ablation_table(claims)
    path = out / "ablation.csv"
    table.to_csv(path, index=False, lineterminator="\n")
    files = [path, *(write_ablation_chart(table, out) if chart else [])]
    return AblationAnalysis(table, list(claims), incomplete, files)


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
