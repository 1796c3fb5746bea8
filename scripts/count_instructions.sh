#!/usr/bin/env bash
# Count CPU instructions per run with valgrind (callgrind): a speed measure that,
# unlike wall time, does not move with the load of a shared machine.
#
# usage: scripts/count_instructions.sh [SCENARIO] [RUNS]    (needs valgrind)
set -euo pipefail
scenario="$(realpath "${1:-scenarios/sco8_2017.toml}")"
runs="${2:-5}"
python="${PYTHON:-.venv/bin/python}"
probe="$(mktemp --suffix=.py)"
trap 'rm -f "$probe"' EXIT
cat > "$probe" <<PY
import sys
import sim
scenario = sim.load_scenario("$scenario")
sim.run(scenario, seed=0)  # warm-up: first-call costs are not counted
for seed in range(int(sys.argv[1])):
    sim.run(scenario, seed=seed)
PY
count() {
    valgrind --tool=callgrind --callgrind-out-file=/dev/null "$python" "$probe" "$1" 2>&1 \
        | awk '/refs:/ {gsub(",", "", $NF); print $NF}'
}
base=$(count 0)
total=$(count "$runs")
echo "$(basename "$scenario"): $(( (total - base) / runs )) instructions per run (mean of $runs runs)"
