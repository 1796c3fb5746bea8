"""Time single runs of a scenario: median wall time over many seeds, one core.

Usage: python scripts/time_run.py [SCENARIO] [RUNS]

Each run builds the model, simulates every year with data collection and turns
the three tables into DataFrames (what `sim.run` does). The first five runs are
warm-up and not counted.
"""

import statistics
import sys
import time

import sim


def main() -> None:
    path = sys.argv[1] if len(sys.argv) > 1 else "scenarios/sco8_2017.toml"
    runs = int(sys.argv[2]) if len(sys.argv) > 2 else 200
    scenario = sim.load_scenario(path)
    for seed in range(5):
        sim.run(scenario, seed=seed)
    times = []
    for seed in range(runs):
        started = time.perf_counter()
        sim.run(scenario, seed=seed)
        times.append(time.perf_counter() - started)
    years = scenario.end_year - scenario.start_year + 1
    print(
        f"{scenario.name}: {years} years, {len(scenario.states)} states, {runs} runs: "
        f"median {1000 * statistics.median(times):.1f} ms, "
        f"min {1000 * min(times):.1f} ms, max {1000 * max(times):.1f} ms"
    )


if __name__ == "__main__":
    main()
