#!/usr/bin/env bash
# Count CPU instructions per run with valgrind (callgrind): a speed measure that,
# unlike wall time, does not move with the load of a shared machine.
#
# usage: scripts/count_instructions.sh [SCENARIO] [RUNS]    (needs valgrind)
#   MODE=api   (default) a run as sim.run returns it: model, yearly data, DataFrames
#   MODE=batch a run as a batch runs it (sim.experiments.batch.simulate): model, yearly data, columns
#   PYTHON     the interpreter (default .venv/bin/python)
set -euo pipefail
scenario="$(realpath "${1:-scenarios/sco8_2017.toml}")"
runs="${2:-5}"
mode="${MODE:-api}"
python="${PYTHON:-.venv/bin/python}"
probe="$(mktemp --suffix=.py)"
trap 'rm -f "$probe"' EXIT
cat > "$probe" <<PY
import sys
import sim
from sim.experiments.design import RunSpec
from sim.experiments.batch import simulate

scenario = sim.load_scenario("$scenario")


def one(seed):
    if "$mode" == "batch":
        simulate(RunSpec(0, "", "arm", 0, 0, seed, scenario))
    else:
        sim.run(scenario, seed=seed)


one(0)  # warm-up: first-call costs are not counted
for seed in range(int(sys.argv[1])):
    one(seed)
PY
count() {
    valgrind --tool=callgrind --callgrind-out-file=/dev/null "$python" "$probe" "$1" 2>&1 \
        | awk '/refs:/ {gsub(",", "", $NF); print $NF}'
}
# The two counts run side by side; their difference is the runs alone.
count 0 > "$probe.base" &
total=$(count "$runs")
wait
base=$(cat "$probe.base")
rm -f "$probe.base"
echo "$(basename "$scenario") ($mode): $(( (total - base) / runs )) instructions per run (mean of $runs runs)"
