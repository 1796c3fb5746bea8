"""``sco-sim sensitivity``: run an experiment's sensitivity sample, then print and write its analysis."""

from __future__ import annotations

import argparse
import math
from pathlib import Path
from typing import Any

from sim.cli.experiment import default_folder, executor, run_and_report, writing_into
from sim.cli.options import Command, executor_options
from sim.errors import InputError
from sim.files import read_json


def sensitivity_arguments(cmd: argparse.ArgumentParser) -> None:
    """Arguments of ``sco-sim sensitivity``."""
    cmd.add_argument(
        "experiment",
        metavar="EXPERIMENT",
        help="experiment file (TOML) with a [sensitivity] table; with --analyze-only, a results folder",
    )
    cmd.add_argument(
        "--analyze-only",
        action="store_true",
        help="run nothing: analyse the results folder given instead of EXPERIMENT",
    )
    executor_options(cmd)


def sensitivity_command(args: argparse.Namespace) -> int:
    """Run the sample (unless --analyze-only), then print the indices and verdicts and write the files."""
    from sim.analysis.sensitivity import analyse_results
    from sim.commands import load, write_sensitivity

    if args.analyze_only:
        out = Path(args.experiment)
    else:
        out, status = _run_sample(args)
        if status:
            return status
    analysis = analyse_results(load(out))
    for line in sensitivity_lines(analysis):
        print(line)
    with writing_into(out, "the sensitivity files (the analysis above is complete)"):
        files = write_sensitivity(out, analysis)
    print(f"\nwrote {', '.join(str(f) for f in files if f.suffix != '.svg')} (and the charts as SVG)")
    return 0


def _run_sample(args: argparse.Namespace) -> tuple[Path, int]:
    """Run the sensitivity sample into its results folder; return the folder and 130 if interrupted."""
    from sim.experiments.design import load_sensitivity
    from sim.experiments.store import ResultStore

    design = load_sensitivity(args.experiment)
    out = Path(args.out) if args.out else default_folder(design.experiment.name)
    _refuse_batch_folder(out)
    choice, where = executor(args)
    store = ResultStore(out, design, resume=args.resume)
    todo = len(store.missing(design.runs))
    settings = design.sensitivity
    size = (
        f"{settings['trajectories']} trajectories x {len(design.parameters) + 1}"
        if settings["method"] == "morris"
        else f"{settings['samples']} samples x {len(design.parameters) + 2}"
    )
    print(
        f"{design.experiment.name}: {settings['method']} sample of {len(design.parameters)} parameters "
        f"({size} = {len(design.points)} points) x {len(design.arms)} arms x "
        f"{design.experiment.replications} seeds = {len(design.runs)} runs; "
        f"{todo} to run on {where} -> {out}/"
    )
    resume = f"sco-sim sensitivity {args.experiment} --out {out} --resume"
    return out, run_and_report(design, store, choice, out, not args.no_progress, resume)


def _refuse_batch_folder(out: Path) -> None:
    """Stop before a sensitivity sample is run into a folder that holds a plain batch (the default --out)."""
    try:
        manifest = read_json(out / "manifest.json", InputError, "a manifest")
    except InputError:
        return  # no batch there (or an unreadable one, which the store reports)
    if not isinstance(manifest, dict) or not isinstance(manifest.get("experiment"), dict):
        return  # not a manifest sco-sim wrote: the store says so
    if "sensitivity" not in manifest["experiment"]:
        raise InputError(
            str(out), "holds a batch run by `sco-sim batch`, not a sensitivity sample; choose another --out"
        )


def sensitivity_lines(analysis: Any) -> list[str]:
    """Return, for each effect, its sign over the sample, the verdict and the table of indices."""
    points = len(analysis.settings["sample"])
    lines = [
        "",
        f"{analysis.method} sensitivity: {points} points, {analysis.n_ok} runs finished, "
        f"{analysis.n_failed} failed",
    ]
    posterior = analysis.settings.get("posterior")
    if posterior:
        drawn = [p.name for p in analysis.parameters if p.distribution == "posterior"]
        lines.append(
            f"drawn from the posterior marginals of {posterior['file']} ({posterior['rows']} draws; "
            f"independently, as Sobol' indices assume: its correlations, up to |r| = "
            f"{posterior['max_abs_correlation']:.2f}, are dropped): {', '.join(drawn)}"
        )
    for result in analysis.effects:
        lines += _effect_lines(result, morris=analysis.method == "morris")
    return lines


def _effect_lines(result: Any, morris: bool) -> list[str]:
    """Return the lines of one effect: its name, its sign over the sample, the verdict and the indices."""
    s = result.summary
    e = result.effect
    lines = ["", f"{e.name}: {e.difference}" + (f"  ({e.label})" if e.label else "")]
    if s["n_points"] > s["n_missing"]:
        lines.append(
            f"  effect over {s['n_points'] - s['n_missing']} points: mean {s['mean']:+.4f}, "
            f"min {s['min']:+.4f}, max {s['max']:+.4f}; below 0 at {s['share_negative']:.0%}, "
            f"above 0 at {s['share_positive']:.0%} of points"
        )
    if s["n_missing"] and s.get("dropped_trajectories") and not result.indices.empty:
        lines.append(
            f"  {s['n_missing']} point(s) have no complete pair of runs (no items in the window): "
            f"indices from the other trajectories ({s['dropped_trajectories']} dropped)"
        )
    elif s["n_missing"]:
        lines.append(f"  {s['n_missing']} point(s) have no complete pair of runs: no indices")
    lines.append(f"  {result.verdict_line()}")
    share = s.get("parameter_share_max")
    if share is not None and not math.isnan(share):
        lines.append(
            f"  seed noise: variance {s['seed_noise_variance']:.3g} of a point's effect over fresh seeds, "
            f"against {s['effect_variance']:.3g} of the effect over the sample: the parameters carry at "
            f"most about {share:.0%} of the effect's variance at a random point"
        )
    if not result.indices.empty:
        lines += _index_table(result, morris)
    return lines


def _index_table(result: Any, morris: bool) -> list[str]:
    """Return the table of an effect's indices, most influential parameter first."""
    columns = ["mu_star", "mu_star_conf", "sigma", "mu"] if morris else ["ST", "ST_conf", "S1", "S1_conf"]
    headers = ["mu*", "+/-", "sigma", "mu"] if morris else ["ST", "+/-", "S1", "+/-"]
    table = result.indices.set_index("parameter").loc[result.ranking]
    width = max(len(name) for name in table.index)
    spans = {
        name: f"posterior [{row['low']:.4g}, {row['high']:.4g}]"
        if row.get("distribution") == "posterior"
        else f"[{row['low']:g}, {row['high']:g}]"
        for name, row in table.iterrows()
    }
    wide = max(18, *(len(span) + 1 for span in spans.values()))
    lines = [f"    {'parameter':<{width}}  {'range':<{wide}}" + "".join(f"{h:>10}" for h in headers)]
    for name, row in table.iterrows():
        span = spans[name]
        cells = "".join(
            f"{row[c]:>+10.4f}"
            if c == "mu"
            else f"{row[c]:>10.4f}"
            if not math.isnan(row[c])
            else f"{'':>10}"
            for c in columns
        )
        lines.append(f"    {name:<{width}}  {span:<{wide}}{cells}")
    return lines


SENSITIVITY = Command(
    "sensitivity",
    "global sensitivity (Morris or Sobol') of an experiment's effects to the free parameters",
    "Run the [sensitivity] sample of an experiment file (every sample point on every arm, "
    "with common seeds) into a results folder, then print the sensitivity indices of each effect and "
    "whether its sign is robust or fragile inside the plausible ranges; writes sensitivity.csv, "
    "sensitivity_points.csv, sensitivity.json and charts/sensitivity*.png/.svg. With --analyze-only, "
    "redo the analysis of a results folder it wrote.",
    sensitivity_arguments,
    sensitivity_command,
)
