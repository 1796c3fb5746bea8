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


def rewrite_part(path, frame):
    """Replace a stored part with ``frame`` and record it as written (a deliberate edit, not damage).

    Stored parts are checked against the record made when they were written
    (``parts.jsonl``); a test that changes a part on purpose records the new bytes too.
    """
    import hashlib
    import io
    import json
    from pathlib import Path

    path = Path(path)
    buffer = io.BytesIO()
    frame.to_parquet(buffer, index=False)
    data = buffer.getvalue()
    path.write_bytes(data)
    folder = path.parent.parent
    record = {"part": f"{path.parent.name}/{path.name}", "rows": len(frame), "bytes": len(data),
              "sha256": hashlib.sha256(data).hexdigest()}  # fmt: skip
    with (folder / "parts.jsonl").open("a") as journal:
        journal.write(json.dumps(record) + "\n")


def remove_part(path):
    """Delete a stored part and its record, as if it had never been written (a batch stopped before it)."""
    import json
    from pathlib import Path

    path = Path(path)
    path.unlink()
    with (path.parent.parent / "parts.jsonl").open("a") as journal:
        journal.write(json.dumps({"dropped": f"{path.parent.name}/{path.name}"}) + "\n")
