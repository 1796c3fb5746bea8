"""Shared fixtures: paths to the shipped scenarios and a tiny test scenario."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SCENARIOS = ROOT / "scenarios"
DATA = Path(__file__).resolve().parent / "data"
SHIPPED = sorted(SCENARIOS.glob("*.toml"))


@pytest.fixture
def tiny_path() -> Path:
    return DATA / "tiny.toml"


@pytest.fixture
def tiny_text(tiny_path: Path) -> str:
    return tiny_path.read_text()


@pytest.fixture
def write(tmp_path: Path):
    """Write a scenario text into tmp_path and return its path."""

    def _write(text: str, name: str = "scenario.toml") -> Path:
        path = tmp_path / name
        path.write_text(text)
        return path

    return _write


STORED_TABLES = ("model", "states", "decisions", "summaries")


def stored_tables(folder):
    """A results folder's tables without the wall-clock column (the only one that varies between runs)."""
    from sim.experiments.store import load_results

    res = load_results(folder)
    return {t: res.tables[t].drop(columns=["seconds"], errors="ignore") for t in STORED_TABLES}


def assert_same_tables(a, b):
    import pandas as pd

    for table in STORED_TABLES:
        pd.testing.assert_frame_equal(a[table], b[table], obj=table)
