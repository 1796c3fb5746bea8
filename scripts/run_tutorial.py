"""Execute docs/tutorial.ipynb with this interpreter and store its outputs (``--check``: compare instead).

    python scripts/run_tutorial.py            # rerun the notebook and write its outputs into it
    python scripts/run_tutorial.py --check    # rerun it and fail if its text outputs changed

The kernel is this interpreter (``sys.executable``, through a kernel spec written into a
temporary folder), so the notebook runs in the same environment as sco-sim, whatever the
``python3`` kernel of the machine is. tests/test_tutorial.py runs the check.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path
from typing import Any

import nbformat
from jupyter_client.kernelspec import KernelSpecManager
from jupyter_client.manager import KernelManager
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK = ROOT / "docs" / "tutorial.ipynb"
KERNEL = "sco-sim-tutorial"


def execute(notebook: Any = None, timeout: int = 300) -> Any:
    """Run every cell of a notebook (default: the tutorial) in a kernel of this interpreter; return it.

    Raises:
        nbclient.exceptions.CellExecutionError: a cell failed (the error names the cell).

    """
    notebook = nbformat.read(NOTEBOOK, as_version=4) if notebook is None else notebook
    with tempfile.TemporaryDirectory(prefix="sco-sim-kernel-") as tmp:
        folder = Path(tmp) / KERNEL
        folder.mkdir()
        path_now = os.environ.get("PYTHONPATH", "")
        spec = {
            "argv": [
                sys.executable,
                "-Xfrozen_modules=off",
                "-m",
                "ipykernel_launcher",
                "-f",
                "{connection_file}",
            ],
            "display_name": f"Python {sys.version_info.major}.{sys.version_info.minor} (sco-sim)",
            "language": "python",
            # the sim package of this checkout, even if another one is installed
            "env": {"PYTHONPATH": os.pathsep.join(p for p in (str(ROOT), path_now) if p)},
        }
        (folder / "kernel.json").write_text(json.dumps(spec))
        manager = KernelManager(kernel_name=KERNEL, kernel_spec_manager=KernelSpecManager(kernel_dirs=[tmp]))
        client = NotebookClient(
            notebook, km=manager, timeout=timeout, resources={"metadata": {"path": str(ROOT)}}
        )
        client.execute()
    return notebook


def text_outputs(notebook: Any) -> list[tuple[str, list[str]]]:
    """Return, cell by cell, what a reader sees as text: what it printed, and its results (no images).

    Printed text is joined into one string per cell: a kernel may split it into any number of
    stream outputs.
    """
    shown = []
    for cell in notebook.cells:
        if cell.cell_type != "code":
            continue
        printed, results = [], []
        for output in cell.get("outputs", []):
            if output.output_type == "stream" and output.name == "stdout":
                printed.append(output.text)
            elif output.output_type in ("execute_result", "display_data") and "image/png" not in output.data:
                results.append(output.data.get("text/plain", ""))
            elif output.output_type == "error":
                results.append(f"{output.ename}: {output.evalue}")
        shown.append(("".join(printed), results))
    return shown


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="compare with the stored outputs; write nothing")
    args = parser.parse_args()
    stored = nbformat.read(NOTEBOOK, as_version=4)
    fresh = execute()
    if args.check:
        same = text_outputs(fresh) == text_outputs(stored)
        print(
            "the stored outputs are current" if same else "the outputs changed: run scripts/run_tutorial.py"
        )
        return 0 if same else 1
    for cell in fresh.cells:  # no interpreter-specific metadata in the stored file
        cell.metadata.pop("execution", None)
    fresh.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(fresh, NOTEBOOK)
    print(f"wrote {NOTEBOOK.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
