"""Commands on one scenario or one table: ``run``, ``check``, ``bargain``, ``bargain-bench``, ``rules``."""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import TYPE_CHECKING

from sim.cli.options import Command, folds, integer_in, number_in, seed, year
from sim.errors import InputError
from sim.files import inside, safe_name

if TYPE_CHECKING:
    from sim.scenario import Scenario


def run_arguments(cmd: argparse.ArgumentParser) -> None:
    """Arguments of ``sco-sim run``."""
    cmd.add_argument("scenario", metavar="SCENARIO", help="scenario file (TOML)")
    cmd.add_argument("--seed", type=seed, default=0, help="random seed, a non-negative integer (default 0)")
    cmd.add_argument(
        "--out", metavar="DIR", default=None,
        help="output folder (default results/<scenario name>, characters other than letters, digits, "
             "'_', '-', '.' and spaces written as '_')",
    )  # fmt: skip
    cmd.add_argument("--until", metavar="YEAR", type=year, default=None, help="stop after this year")
    cmd.add_argument("--no-chart", action="store_true", help="skip the PNG chart")
    cmd.add_argument("--no-texts", action="store_true",
                     help="skip the texts table (every text tabled, member by member)")  # fmt: skip
    cmd.add_argument("--force", action="store_true",
                     help="write into a non-empty --out, replacing an earlier run's files")  # fmt: skip


def run_command(args: argparse.Namespace) -> int:
    """Run one scenario with one seed, write its files and print its summary."""
    from sim.model.run import run
    from sim.output import prepare_run_folder, write_run
    from sim.scenario import load_scenario

    scenario = load_scenario(args.scenario)
    if args.until is not None and not scenario.start_year <= args.until <= scenario.end_year:
        raise InputError(
            args.scenario,
            f"{args.until} is outside the scenario's years {scenario.start_year}-{scenario.end_year}",
            key="--until",
        )
    out = Path(args.out) if args.out else inside("results", safe_name(scenario.name))
    prepare_run_folder(out, force=args.force, clear=False)  # refused before the run, cleared after it
    started = time.perf_counter()
    result = run(scenario, seed=args.seed, until=args.until, texts=not args.no_texts)
    elapsed = time.perf_counter() - started
    try:
        prepare_run_folder(out, force=args.force)
        files = write_run(result, out, chart=not args.no_chart)
    except OSError as exc:
        raise InputError(str(out), f"cannot write results here ({exc.strerror or exc})") from None
    s = result.summary()
    print(f"{s['scenario']} ({s['years']}, rule {s['rule']}, seed {s['seed']}): {elapsed * 1000:.0f} ms")
    rate = "n/a" if s["items"] == 0 else f"{s['consensus_rate']:.1%}"
    print(f"  items decided     {s['items']}  (consensus rate {rate})")
    print(
        f"  outcomes          adopted {s['adopted']}, with opt-outs {s['adopted_opt_out']}, "
        f"diluted {s['diluted']}, blocked {s['blocked']}, deferred {s['deferred']}"
    )
    for label, key in (
        ("dissented", "dissenters"),
        ("stood aside", "stood_aside"),
        ("blocked", "blocked_by"),
    ):
        named = ", ".join(f"{code} {n}" for code, n in s[key].items()) or "nobody"
        print(f"  {label:<17} {named}  (items)")
    print(f"  members at end    {len(s['members_at_end'])}: {', '.join(s['members_at_end'])}")
    print(
        f"  balancing index   {s['focal_state']} {s['balancing_index_start']:.3f} -> "
        f"{s['balancing_index_end']:.3f}"
    )
    print(f"  wrote {len(files)} files to {out}/")
    return 0


def check_arguments(cmd: argparse.ArgumentParser) -> None:
    """Arguments of ``sco-sim check``."""
    cmd.add_argument("scenario", metavar="SCENARIO", help="scenario file (TOML)")
    cmd.add_argument("--json", action="store_true", help="print the resolved scenario as JSON")


def check_command(args: argparse.Namespace) -> int:
    """Validate a scenario and print what it resolves to."""
    from sim.scenario import load_scenario

    sc = load_scenario(args.scenario)
    if args.json:
        print(json.dumps(sc.to_dict(), indent=2, sort_keys=False))
        return 0
    print(f"{args.scenario}: OK")
    print(f"  name         {sc.name}: {sc.description}")
    print(f"  resolved     {' <- '.join(reversed(sc.lineage))}")
    poles = ", ".join(sc.poles)
    print(f"  years        {sc.start_year}-{sc.end_year}; focal state {sc.focal_state}; poles {poles}")
    r = sc.rules
    print(
        f"  rule         {r.decision_rule} (tolerance {r.tolerance}, norm {r.norm_strength}, "
        f"{r.max_rounds} rounds, dilution step {r.dilution_step})"
    )
    m = sc.membership
    print(f"  membership   {m.mode}; moratorium {m.moratorium}; packages {m.packages or 'none'}")
    if sc.data is not None:
        used = [
            f"{key} {entry.source}" + (f" {entry.year}" if getattr(entry, "year", None) is not None else "")
            for key, entry in sc.data
            if entry is not None
        ]
        print(f"  data         {'; '.join(used)} (values written in the scenario win)")
    _print_states(sc)
    print(f"  areas        {', '.join(sc.areas)}")
    print(
        f"  events       {len(sc.events)} in the run"
        + (f", {len(sc.prehistory)} before it applied as initial conditions" if sc.prehistory else "")
    )
    for e in sc.events:
        print(f"    {e.year}  {e.label}")
    kinds = {kind: [a for a, area in sc.areas.items() if area.kind == kind] for kind in ("project", "common")}
    print(f"  areas kind   project (members may stand aside): {', '.join(kinds['project']) or 'none'}")
    off = [name for name, on in sc.mechanisms.model_dump().items() if not on]
    print("  mechanisms   all on" + (f" except {', '.join(off)}" if off else ""))
    if sc.claims:
        print(
            "  claims       "
            + "; ".join(f"{'-'.join(c.states)} from {c.start_year} ({c.source})" for c in sc.claims)
        )
    process = sc.event_process
    if process is not None:
        areas = ", ".join(process.salience) or "no area"
        print(f"  random events from {process.from_year}: threat rate {process.threat.rate}, "
              f"rivalry rate {process.rivalry.rate}, salience shocks in {areas}")  # fmt: skip
    print("  parameters   " + ", ".join(f"{k}={v}" for k, v in sc.parameters.model_dump().items()))
    return 0


def _print_states(sc: Scenario) -> None:
    """Print the table of states of ``sco-sim check``: status, capability and interests at the start."""
    from sim.scenario import INTERESTS, interest_weights

    print(f"  states       {len(sc.states)}")
    header = "    ISO  status@start   capability  " + "  ".join(f"{i[:4]:>5}" for i in INTERESTS)
    print(header)
    for code in sc.state_codes:
        s = sc.states[code]
        cap = s.capability if not isinstance(s.capability, dict) else _at(s.capability, sc.start_year)
        weights = "  ".join(f"{w:5.2f}" for w in interest_weights(s))
        print(f"    {code}  {sc.status_in(code, sc.start_year):<13}  {cap:10.5f}  {weights}")


def _at(series: dict[int, float], year: int) -> float:
    import numpy as np

    points = sorted(series.items())
    return float(np.interp(year, [p[0] for p in points], [p[1] for p in points]))


def bargain_arguments(cmd: argparse.ArgumentParser) -> None:
    """Arguments of ``sco-sim bargain``."""
    cmd.add_argument("table", metavar="TABLE.csv", help="actor table (CSV or tab-separated)")
    cmd.add_argument("--rule", default="compromise", help="decision rule (see `sco-sim rules`)")
    # the ranges of the scenario keys of the same meaning ([rules], docs/scenarios.md)
    scale = number_in(0.0, 100.0)
    cmd.add_argument("--status-quo", type=scale, default=0.0, help="status quo on 0-100 (default 0)")
    cmd.add_argument(
        "--proposal", type=scale, default=None, help="text tabled, 0-100 (default: weighted mean)"
    )
    cmd.add_argument(
        "--tolerance", type=scale, default=0.05, help="loss accepted without objecting, 0-100 (default 0.05)"
    )
    cmd.add_argument("--max-rounds", type=integer_in(0, 50, "non-negative"), default=6,
                     help="dilution rounds, 0-50 (default 6)")  # fmt: skip
    cmd.add_argument("--threshold", type=number_in(0.5, 1.0, low_open=True), default=2 / 3,
                     help="qualified-majority threshold, above 0.5 and at most 1 (default 2/3)")  # fmt: skip


def bargain_command(args: argparse.Namespace) -> int:
    """Apply one decision rule to an actor table and print the outcome of each issue."""
    import pandas as pd

    from sim.rules import RULES, RuleSettings
    from sim.rules.bargain import bargain, read_actor_table

    if args.rule not in RULES:
        raise InputError(
            "", f"unknown decision rule '{args.rule}'; expected one of: {', '.join(RULES)}", key="--rule"
        )
    table = read_actor_table(args.table)
    settings = RuleSettings(max_rounds=args.max_rounds, majority_threshold=args.threshold)
    result = bargain(
        table,
        rule=args.rule,
        status_quo=args.status_quo,
        proposal=args.proposal,
        tolerance=args.tolerance,
        settings=settings,
    )
    print(
        f"rule {args.rule} on {args.table} ({len(result.actors)} actor rows, {len(result.outcomes)} issue(s))"
    )
    for note in result.notes:
        print(f"  note: {note}")
    with pd.option_context("display.width", 160, "display.max_columns", 20):
        print(result.outcomes.round(2).to_string(index=False))
    return 0


def bargain_bench_arguments(cmd: argparse.ArgumentParser) -> None:
    """Arguments of ``sco-sim bargain-bench``."""
    cmd.add_argument("data", metavar="DATA", help="decision data: DEU layout or actor table (CSV/TSV)")
    cmd.add_argument(
        "--out",
        metavar="CSV",
        default=None,
        help="per-issue predictions (default results/bargain-bench/DATA.csv)",
    )
    cmd.add_argument("--folds", type=folds, default=5, help="cross-validation folds (default 5)")
    cmd.add_argument("--seed", type=seed, default=0, help="seed of the fold split (default 0)")


def bargain_bench_command(args: argparse.Namespace) -> int:
    """Score every rule on real decisions, print the errors and write the per-issue predictions."""
    from sim.analysis.bargainbench import benchmark, format_table, write_predictions
    from sim.rules.decisiondata import read_decision_data

    data = read_decision_data(args.data)
    scored = int(data.scored.sum())
    if not scored:
        raise InputError(args.data, "no issue has both an outcome and a position; nothing to score")
    if scored < 2:
        raise InputError(
            args.data,
            "only 1 issue has both an outcome and a position; the rules' parameters are fitted by "
            "cross-validation over issues, which needs at least 2",
        )
    started = time.perf_counter()
    result = benchmark(data, folds=args.folds, seed=args.seed)
    elapsed = time.perf_counter() - started
    print(format_table(result))
    default = Path("results") / "bargain-bench"
    out = Path(args.out) if args.out else inside(default, f"{safe_name(Path(args.data).stem)}.csv")
    try:
        write_predictions(result, out)
    except OSError as exc:
        raise InputError(str(out), f"cannot write the predictions here ({exc.strerror or exc})") from None
    print(f"\nwrote per-issue predictions to {out} ({elapsed:.1f} s)")
    return 0


def rules_command(_args: argparse.Namespace) -> int:
    """List every registered decision rule with its source."""
    from sim.rules import describe_rules

    for name, summary, source in describe_rules():
        print(f"{name}\n  {summary}\n  source: {source}\n")
    return 0


RUN = Command(
    "run",
    "run one scenario with one seed; write tables, a chart and a summary",
    "Run a scenario once and write model.csv/.parquet, states.csv/.parquet, "
    "decisions.csv/.parquet, summary.json and outcomes.png into the output folder.",
    run_arguments,
    run_command,
)
CHECK = Command(
    "check",
    "validate a scenario file and print what it resolves to",
    "Validate a scenario (after extends) and print the resolved settings.",
    check_arguments,
    check_command,
)
BARGAIN = Command(
    "bargain",
    "apply a decision rule to a plain actor table (CSV)",
    "Decide the issue(s) in an actor table (Actor, Capability, Position, "
    "Salience[, Issue]) under one decision rule, outside the SCO model.",
    bargain_arguments,
    bargain_command,
)
BARGAIN_BENCH = Command(
    "bargain-bench",
    "score every decision rule on real decisions (DEU III and the like): mean absolute error",
    "Run every registered rule on every issue of a decision-data file that has an outcome "
    "(DEU layout or an actor table with an Outcome column), print the mean absolute error overall and "
    "by voting rule beside naive baselines, fit the rules' parameters by cross-validation over issues "
    "(out-of-fold error, per fold), and write the per-issue predictions to a CSV. "
    "See docs/bargaining.md.",
    bargain_bench_arguments,
    bargain_bench_command,
)
RULES = Command(
    "rules",
    "list the decision rules and their sources",
    "List every registered decision rule with its source.",
    lambda _cmd: None,
    rules_command,
)
