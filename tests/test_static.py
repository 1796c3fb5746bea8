"""Type checks that run in CI with the suite: mypy on the rules and the model (ruff: test_style.py)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _tool(name: str) -> str | None:
    return shutil.which(name, path=str(Path(sys.executable).parent)) or shutil.which(name)


@pytest.mark.slow
@pytest.mark.skipif(_tool("mypy") is None, reason="mypy not installed (pip install -e '.[dev]')")
def test_mypy_finds_no_error_in_rules_and_model() -> None:
    proc = subprocess.run(
        [_tool("mypy"), "sim/rules", "sim/model", "--no-incremental"],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-1000:]
