"""Estimate the rates and sizes of random events from the written events of the record.

Reads the events of ``scenarios/history_1996.toml`` in 1996-2017 and prints the
``[event_process]`` table the forecast scenarios use: for each kind of event, the
share of years in which one happened (the yearly rate) and its mean size.

* salience shocks, by area: events that raise an area's salience;
* threat shocks: events that raise the threat a member feels from a pole (the size
  is the mean rise over the states and poles an event touches);
* rivalry flare-ups: events that raise a rivalry (none in the record to 2017).

Usage::

    python scripts/estimate_event_rates.py            # print the table
    python scripts/estimate_event_rates.py --check scenarios/sco8_2017.toml

``--check`` exits with status 1 when the file's table differs from the estimate.
Only events up to 2017 are read: what happened later is the out-of-sample test.
"""

from __future__ import annotations

import argparse
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
HISTORY = ROOT / "scenarios" / "history_1996.toml"
FIRST, LAST = 1996, 2017
FROM_YEAR = 2018  # the process runs in the forecast years after the record


def estimate(path: Path = HISTORY) -> dict:
    """Return the estimated ``[event_process]`` table as plain data (rounded to 4 decimals)."""
    events = [e for e in tomllib.loads(path.read_text())["events"] if FIRST <= e["year"] <= LAST]
    years = LAST - FIRST + 1
    salience: dict[str, dict[str, float]] = {}
    by_area: dict[str, list[tuple[int, float]]] = {}
    for event in events:
        for area, value in event.get("salience", {}).items():
            if value > 0:
                by_area.setdefault(area, []).append((event["year"], value))
    for area, hits in sorted(by_area.items()):
        salience[area] = _shock(len({y for y, _ in hits}), [v for _, v in hits], years)
    threat_years, threat_sizes = set(), []
    rivalry_years, rivalry_sizes = set(), []
    for event in events:
        rises = [d for changes in event.get("threat", {}).values() for d in changes.values() if d > 0]
        if rises:
            threat_years.add(event["year"])
            threat_sizes.append(sum(rises) / len(rises))
        flares = [v for others in event.get("rivalry", {}).values() for v in others.values()]
        if flares:
            rivalry_years.add(event["year"])
            rivalry_sizes.extend(flares)
    return {
        "from_year": FROM_YEAR,
        "source": f"estimated from the {FIRST}-{LAST} events of history_1996.toml "
        "(scripts/estimate_event_rates.py)",
        "salience": salience,
        "threat": _shock(len(threat_years), threat_sizes, years),
        "rivalry": _shock(len(rivalry_years), rivalry_sizes, years),
    }


def _shock(n_years: int, sizes: list[float], years: int) -> dict[str, float]:
    size = sum(sizes) / len(sizes) if sizes else 0.0
    return {"rate": round(n_years / years, 4), "size": round(size, 4)}


def to_toml(table: dict) -> str:
    """Return the table as TOML lines for a scenario file."""
    lines = ["[event_process]", f"from_year = {table['from_year']}", f'source = "{table["source"]}"']
    for kind in ("threat", "rivalry"):
        shock = table[kind]
        lines.append(f"{kind} = {{ rate = {shock['rate']}, size = {shock['size']} }}")
    lines.append("[event_process.salience]")
    for area, shock in table["salience"].items():
        lines.append(f"{area} = {{ rate = {shock['rate']}, size = {shock['size']} }}")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    """Print the estimate, or check a scenario's table against it."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", type=Path, help="scenario file whose [event_process] must match")
    args = parser.parse_args(argv)
    table = estimate()
    if args.check is None:
        sys.stdout.write(to_toml(table))
        return 0
    written = tomllib.loads(args.check.read_text()).get("event_process")
    if written != table:
        sys.stderr.write(f"{args.check}: [event_process] differs from the estimate; replace it with:\n")
        sys.stderr.write(to_toml(table))
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
