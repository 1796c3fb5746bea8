"""docs/tutorial.ipynb runs, in this interpreter, and shows what the code does (it cannot rot)."""

from __future__ import annotations

import importlib.util
import sys

import nbformat
import pytest

from .conftest import ROOT

NOTEBOOK = ROOT / "docs" / "tutorial.ipynb"


def runner():
    """scripts/run_tutorial.py, which runs the notebook in a kernel of this interpreter."""
    spec = importlib.util.spec_from_file_location("run_tutorial", ROOT / "scripts" / "run_tutorial.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_stored_tutorial_is_a_valid_notebook_without_errors_and_the_readme_links_it():
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    nbformat.validate(notebook)
    outputs = [o for cell in notebook.cells if cell.cell_type == "code" for o in cell.outputs]
    assert outputs and not [o for o in outputs if o.output_type == "error"]
    source = "\n".join(cell.source for cell in notebook.cells)
    for step in ("sim.load_scenario(", "overrides=", "sim.run(", "sim.compare_arms(", "plt.", ".narrate("):
        assert step in source, step
    assert "(docs/tutorial.ipynb)" in (ROOT / "README.md").read_text()


@pytest.mark.slow
def test_the_tutorial_runs_in_this_interpreter_and_its_stored_outputs_are_current():
    run = runner()
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    stored = run.text_outputs(notebook)
    notebook.cells.append(nbformat.v4.new_code_cell("import sys; print(sys.executable)"))
    fresh = run.text_outputs(run.execute(notebook))  # a failing cell raises CellExecutionError
    assert fresh[-1] == (sys.executable + "\n", [])  # the kernel is this interpreter
    assert fresh[:-1] == stored, "the tutorial's outputs changed: run `python scripts/run_tutorial.py`"
