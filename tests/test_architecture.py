"""The house rules of the package: layers, public surfaces, sizes, a cheap ``import sim``.

- The import-linter contracts in pyproject.toml (layers, the model's parts, the rules,
  no circles) hold: ``lint-imports`` exits 0.
- No module imports another module's private name (``from sim.x import _y``).
- No module is over 500 lines, no function over 60 (unless marked as a measured hot path).
- ``import sim`` loads neither Mesa nor pandas nor matplotlib.
- Old module paths still work, with a DeprecationWarning naming the new one.
"""

from __future__ import annotations

import ast
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SIM = ROOT / "sim"
MODULES = sorted(SIM.rglob("*.py"))
MAX_LINES = 500


def _lint_imports() -> str | None:
    found = shutil.which("lint-imports", path=str(Path(sys.executable).parent)) or shutil.which(
        "lint-imports"
    )
    return found


@pytest.mark.skipif(_lint_imports() is None, reason="import-linter not installed (pip install -e '.[dev]')")
def test_import_contracts_hold() -> None:
    proc = subprocess.run([_lint_imports(), "--no-cache"], cwd=ROOT, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]
    assert "BROKEN" not in proc.stdout


def _private_imports(path: Path) -> list[str]:
    name = path.relative_to(ROOT) if path.is_relative_to(ROOT) else path
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] == "sim":
            for alias in node.names:
                if alias.name.startswith("_") and not alias.name.startswith("__"):
                    found.append(f"{name}:{node.lineno}: from {node.module} import {alias.name}")
            if any(part.startswith("_") and not part.startswith("__") for part in node.module.split(".")):
                found.append(f"{name}:{node.lineno}: from {node.module} (a private module)")
    return found


def test_no_private_name_is_imported_across_modules() -> None:
    found = [line for path in MODULES for line in _private_imports(path)]
    assert not found, "private names imported across modules:\n" + "\n".join(found)


def test_the_private_import_check_can_fail(tmp_path: Path) -> None:
    bad = tmp_path / "bad.py"
    bad.write_text("from sim.rules.consensus import _settle, settle\nfrom sim import moved as ok\n")
    assert _private_imports(bad) == [f"{bad}:1: from sim.rules.consensus import _settle"]


def test_no_module_is_over_500_lines() -> None:
    long = {
        str(p.relative_to(ROOT)): n
        for p in MODULES
        if (n := len(p.read_text(encoding="utf-8").splitlines())) > MAX_LINES
    }
    assert not long, f"modules over {MAX_LINES} lines: {long}"


MAX_FUNCTION_LINES = 60


def test_no_function_is_over_60_lines_unless_marked_as_a_measured_hot_path() -> None:
    long = []
    for path in MODULES:
        lines = path.read_text(encoding="utf-8").splitlines()
        for node in ast.walk(ast.parse("\n".join(lines))):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                start = min([d.lineno for d in node.decorator_list] + [node.lineno])
                size = node.end_lineno - start + 1
                marked = any(
                    "hot path: measured" in line for line in lines[max(start - 3, 0) : node.lineno + 2]
                )
                if size > MAX_FUNCTION_LINES and not marked:
                    long.append(f"{path.relative_to(ROOT)}:{node.lineno} {node.name} ({size} lines)")
    assert not long, "functions over 60 lines (split, or mark '# hot path: measured ...'):\n" + "\n".join(
        long
    )


def test_import_sim_is_cheap() -> None:
    code = "import sim, sys; print(sorted(m for m in ('mesa', 'pandas', 'matplotlib') if m in sys.modules))"
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert proc.stdout.strip() == "[]"


def test_public_api_loads_on_first_use() -> None:
    import sim

    assert callable(sim.run) and callable(sim.load_scenario) and callable(sim.load_results)
    assert set(sim.__all__) <= set(dir(sim))
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        _ = sim.nope


def test_old_module_paths_warn_and_point_at_the_new_home() -> None:
    code = (
        "import warnings; warnings.simplefilter('error', DeprecationWarning)\n"
        "try:\n    import sim.compare\nexcept DeprecationWarning as w:\n    print(w)\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert "sim.compare moved to sim.analysis.compare" in proc.stdout
    code = (
        "import warnings; warnings.simplefilter('ignore')\n"
        "from sim.experiment import load_experiment, ExperimentError, parse_claims\n"
        "from sim.api import run, write_run\n"
        "import sim.analysis.compare as new, sim.compare as old\n"
        "print(old is new, run.__module__, write_run.__module__)"
    )
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert proc.stdout.split() == ["True", "sim.model.run", "sim.output"]


def test_results_module_stays_public_without_a_warning() -> None:
    code = (
        "import warnings; warnings.simplefilter('error')\n"
        "from sim.results import load_results\n"
        "print(load_results.__module__)"
    )
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert proc.stdout.strip() == "sim.experiments.store"
