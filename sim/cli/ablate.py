"""``sco-sim ablate``: an experiment with each mechanism switched off in turn, and under the veto-player rule.

Each configuration (:mod:`sim.experiments.ablation`) is an ordinary batch into ``DIR/CONFIG/``,
with the experiment's seeds; then each is compared as ``sco-sim compare`` does, and the claims
of every configuration are printed side by side and written to ``DIR/ablation.csv``, with a
reading of what each supported claim rests on (:mod:`sim.analysis.ablation`).
"""

from __future__ import annotations

import argparse
import math
import textwrap
import time
from pathlib import Path
from typing import Any

from sim.cli.experiment import executor, run_and_report, with_budget, writing_into
from sim.cli.options import Command, integer_in, positive, workers
from sim.limits import MAX_DRAWS

#: short column heads of the printed table, by configuration
SHORT = {
    "shipped": "shipped",
    "no_spillover": "-spillover",
    "no_balancing": "-balancing",
    "no_participation_cost": "-part.cost",
    "no_stand_aside": "-standaside",
    "no_event_process": "-events",
    "no_trust": "-trust",
    "no_mechanisms": "-all",
    "veto_players": "veto",
}


def ablate_arguments(cmd: argparse.ArgumentParser) -> None:
    """Arguments of ``sco-sim ablate``."""
    cmd.add_argument("experiment", metavar="EXPERIMENT", help="experiment file (TOML)")
    cmd.add_argument("--out", metavar="DIR", default=None,
                     help="ablation folder, one results folder per configuration inside "
                          "(default results/ablation/<name>)")  # fmt: skip
    cmd.add_argument("--workers", type=workers, default=2, help="local worker processes (default 2)")
    cmd.add_argument("--sequential", action="store_true", help="run in this process (no workers)")
    cmd.add_argument("--resume", action="store_true",
                     help="complete an ablation in --out, or add configurations to it")  # fmt: skip
    cmd.add_argument("--replications", type=positive, default=None,
                     help="override the file's replications in every configuration")  # fmt: skip
    cmd.add_argument("--draws", type=integer_in(1, MAX_DRAWS, "positive"), default=None,
                     help="override the [posterior] table's draws in every configuration")  # fmt: skip
    cmd.add_argument("--no-progress", action="store_true", help="no progress bar")
    cmd.add_argument("--only", nargs="+", metavar="CONFIG", default=None,
                     help="run only these configurations (shipped, no_spillover, no_balancing, "
                          "no_participation_cost, no_stand_aside, no_event_process, no_trust, "
                          "no_mechanisms, veto_players); the table shows every one stored")  # fmt: skip
    cmd.set_defaults(scheduler=None, dask_local=None)


def ablate_command(args: argparse.Namespace) -> int:
    """Run every configuration's batch, compare each, print the claims side by side and write ablation.csv."""
    from sim.commands import analyse_ablation
    from sim.experiments.ablation import ablation_design, choose, default_folder, prepare_folder
    from sim.experiments.design import load_experiment

    configs = choose(args.only)
    design = with_budget(load_experiment(args.experiment), None, args.draws)
    # every configuration is resolved (and so checked) before anything is written
    designs = [ablation_design(design, c.name, args.replications) for c in configs]
    out = Path(args.out) if args.out else default_folder(design.experiment.name)
    choice, where = executor(args)
    prepare_folder(out, design, args.replications, args.resume)
    runs = sum(len(d.runs) for d in designs)
    print(f"{design.experiment.name}: ablation in {len(designs)} configuration(s) x {len(designs[0].runs)} "
          f"runs = {runs} runs, the same seeds in every configuration, on {where} -> {out}/")  # fmt: skip
    if design.posterior is not None:
        print(f"  posterior: {len(design.posterior.draws)} draws of {design.posterior.file}, each with its "
              "own seeds: the same draws and seeds in every configuration")  # fmt: skip
    started = time.perf_counter()
    for config, derived in zip(configs, designs, strict=True):
        status = _run_configuration(args, out, config, derived, choice)
        if status:
            return status
    print(f"ablation: {len(designs)} configuration(s) in {time.perf_counter() - started:.1f} s")
    with writing_into(out, "ablation.csv and the claims of each configuration"):
        analysis = analyse_ablation(out)
    for line in ablation_lines(analysis.table, analysis.incomplete):
        print(line)
    shown = [str(f) for f in analysis.files if f.suffix != ".svg"]
    print(f"\nwrote {', '.join(shown)} (and claims.csv, metrics.csv in each configuration's folder)")
    return 0


def _run_configuration(args: argparse.Namespace, out: Path, config: Any, design: Any, choice: Any) -> int:
    """Run one configuration's batch into ``out/CONFIG``; return 130 (or 1) if it was interrupted."""
    from sim.experiments.ablation import VETO, folder_of
    from sim.experiments.manifest import MANIFEST
    from sim.experiments.store import ResultStore

    folder = folder_of(out, config.name)
    store = ResultStore(folder, design, resume=args.resume and (folder / MANIFEST).is_file())
    todo = len(store.missing(design.runs))
    print(f"\n{config.name}: {config.description}; {len(design.runs)} runs, {todo} to run -> {folder}/")
    if config.name == VETO and design.kept_rule:
        print(f"  note: {', '.join(design.kept_rule)} set their own decision rule and keep it; the claims "
              "comparing them with the other arms compare their rule with the veto-player rule")  # fmt: skip
    again = f" --replications {args.replications}" if args.replications else ""
    again += f" --draws {args.draws}" if args.draws else ""
    only = f" --only {' '.join(args.only)}" if args.only else ""
    resume = f"sco-sim ablate {args.experiment} --out {out}{again}{only} --resume"
    return run_and_report(design, store, choice, folder, not args.no_progress, resume)


def _cell(row: Any) -> str:
    """Return a claim's mean difference and verdict letter in one configuration, e.g. ``-1.07 S``."""
    from sim.charts.sweep import INITIALS  # the letters of the sweep charts; matplotlib only when printing

    diff = "" if math.isnan(row.mean_diff) else f"{row.mean_diff:+.3g}"
    return f"{diff} {INITIALS.get(row.verdict, '?')}"


def ablation_lines(table: Any, incomplete: list[str] | None = None) -> list[str]:
    """Return the printed ablation: a table claim x configuration, then each claim's reading."""
    from sim.analysis.ablation import RULES_ALONE, readings

    if not len(table):
        return ["", "the experiment has no claims: nothing to compare across configurations (each "
                "configuration's metrics.csv describes its metrics by arm)"]  # fmt: skip
    configs = list(dict.fromkeys(table["configuration"]))
    width = min(40, max(22, *(len(str(c)) for c in table["claim"])))
    lines = [
        "",
        "claims by configuration (mean difference a - b, Holm-adjusted within each configuration; "
        "S supported, C contradicted, E equivalent, I inconclusive, N no variation, - insufficient data):",
        f"  {'claim':<{width}}" + "".join(f"{SHORT.get(c, c)[:11]:>12}" for c in configs),
    ]
    for claim, group in table.groupby("claim", sort=False):
        cells = {row.configuration: _cell(row) for row in group.itertuples(index=False)}
        lines.append(f"  {str(claim)[:width]:<{width}}" + "".join(f"{cells.get(c, ''):>12}" for c in configs))
    key = ", ".join(f"{SHORT.get(c, c)} = {c}" for c in configs if SHORT.get(c, c) != c)
    lines += textwrap.wrap(f"columns: {key}", width=100, initial_indent="  ", subsequent_indent="    ")
    lines.append("")
    lines.append(
        "readings (a supported claim rests on each mechanism whose removal alone leaves it not supported):"
    )
    for row in readings(table).itertuples(index=False):
        lines += textwrap.wrap(f"{row.claim}: {row.reading}", width=100, initial_indent="  ",
                               subsequent_indent="    ")  # fmt: skip
    if any(RULES_ALONE in text for text in readings(table)["reading"]):
        lines += textwrap.wrap(
            "note: a claim that holds with every mechanism off is a property of the decision rule, the arms' "
            "membership and the inputs they share; state it as such, not as a finding about the mechanisms",
            width=100,
            initial_indent="  ",
            subsequent_indent="    ",
        )
    lines += textwrap.wrap(
        "caution: each configuration's verdicts carry their own run-to-run noise, so a verdict whose "
        "interval lies near 0 or the band can change between configurations by chance alone; compare the "
        "mean differences, not only the letters",
        width=100,
        initial_indent="  ",
        subsequent_indent="    ",
    )
    if incomplete:
        lines.append(
            f"  left out (their batch did not finish; --resume completes it): {', '.join(incomplete)}"
        )
    return lines


ABLATE = Command(
    "ablate",
    "run an experiment with each mechanism switched off in turn and under the veto-player rule",
    "Run an experiment file in nine configurations (as shipped; each of the six [mechanisms] switched "
    "off in every arm; all six off; the veto-player decision rule), each an ordinary batch into DIR/CONFIG "
    "with the same seeds, compare each, and print and write (DIR/ablation.csv, DIR/ablation.png/.svg) "
    "every claim's verdict by configuration with what each supported claim rests on.",
    ablate_arguments,
    ablate_command,
)
