# Two commands for a newcomer: `make demo` and `make test`; while editing, `make check`.
# All create .venv with the machine's python3 (override with PYTHON=...).
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test check lint clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $(STAMP)

# The main job: the enlargement experiment (3 arms x 100 seeds), its verdicts and report.
# Run again, it completes an interrupted batch (--resume) instead of starting over.
demo: $(STAMP)
	$(BIN)/sco-sim batch experiments/enlargement.toml --out results/enlargement \
		$$( [ -f results/enlargement/manifest.json ] && echo --resume )
	$(BIN)/sco-sim compare results/enlargement
	$(BIN)/sco-sim report results/enlargement

# The full suite, slow end-to-end tests included (what .ci/run calls).
test: $(STAMP)
	$(BIN)/python -m pytest

# The fast lane while editing: everything but the tests marked @pytest.mark.slow
# (subprocess and multi-process batches, the Dask cluster, the big end-to-end runs).
# About a minute and a half on two cores; run `make test` before committing.
check: $(STAMP)
	$(BIN)/python -m pytest -m "not slow" -q

# Style, layer contracts and types (the suite runs the same checks).
lint: $(STAMP)
	$(BIN)/ruff check sim tests scripts
	$(BIN)/ruff format --check sim tests scripts
	$(BIN)/lint-imports
	$(BIN)/mypy sim/rules sim/model

clean:
	rm -rf $(VENV) results .pytest_cache
