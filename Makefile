# Two commands for a newcomer: `make demo` and `make test`.
# Both create .venv with the machine's python3 (override with PYTHON=...).
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint clean

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

test: $(STAMP)
	$(BIN)/python -m pytest

lint: $(STAMP)
	$(BIN)/ruff check sim tests
	$(BIN)/ruff format --check sim tests

clean:
	rm -rf $(VENV) results .pytest_cache
