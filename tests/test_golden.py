"""Golden outputs: a hash of every table of every shipped scenario, for a few seeds and rules.

The pinned hashes in ``tests/golden/hashes.json`` change only when the model's behaviour
changes. A commit that changes them must say why in its message. Regenerate with::

    python -m tests.test_golden --update

Floats are hashed as text with 12 significant digits, so that a sum taken in a different
order (a last-bit difference) does not count as a change of behaviour, while any real one does.
"""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PINNED = Path(__file__).resolve().parent / "golden" / "hashes.json"
SCENARIOS = ("history_1996", "sco6_2017", "sco8_2017", "sco10_2024")
SEEDS = (0, 1, 7)
RULE_VARIANTS = {
    "consensus_opt_out": {"rules": {"decision_rule": "consensus_opt_out"}},
    "qualified_majority": {"rules": {"decision_rule": "qualified_majority"}},
    "qualified_majority_weighted": {
        "rules": {"decision_rule": "qualified_majority", "majority_weighted": True}
    },
    "compromise": {"rules": {"decision_rule": "compromise"}},
    "expected_utility": {"rules": {"decision_rule": "expected_utility"}},
    "expected_utility_bdm": {"rules": {"decision_rule": "expected_utility_bdm"}},
    "low_tolerance": {"rules": {"tolerance": 0.01}},
    "endogenous": {"membership": {"mode": "endogenous", "apply_probability": 0.3}},
}


def cases() -> list[tuple[str, str, dict, int]]:
    """(case id, scenario, overrides, seed) for every pinned run."""
    out = [(f"{name}/default/seed{seed}", name, {}, seed) for name in SCENARIOS for seed in SEEDS]
    out += [(f"sco8_2017/{label}/seed3", "sco8_2017", over, 3) for label, over in RULE_VARIANTS.items()]
    return out


def table_hash(frame) -> str:
    """SHA-256 of a table as CSV text, floats with 12 significant digits."""
    text = frame.to_csv(index=False, float_format="%.12g", lineterminator="\n")
    return hashlib.sha256(text.encode()).hexdigest()[:20]


def compute(name: str, overrides: dict, seed: int) -> dict[str, str]:
    """Hashes of the three tables of one run."""
    import sim

    scenario = sim.load_scenario(ROOT / "scenarios" / f"{name}.toml", overrides=overrides or None)
    result = sim.run(scenario, seed=seed)
    return {table: table_hash(result.tables[table]) for table in ("model", "states", "decisions")}


def compute_all() -> dict[str, dict[str, str]]:
    return {case: compute(name, over, seed) for case, name, over, seed in cases()}


@pytest.mark.parametrize(("case", "name", "overrides", "seed"), cases(), ids=[c[0] for c in cases()])
def test_tables_match_pinned_hashes(case: str, name: str, overrides: dict, seed: int) -> None:
    pinned = json.loads(PINNED.read_text())
    assert case in pinned, f"no pinned hash for {case}: run python -m tests.test_golden --update"
    assert compute(name, overrides, seed) == pinned[case], (
        f"{case}: the model's output changed. If intended, run python -m tests.test_golden --update "
        "and give the reason in the commit message."
    )


def test_every_pinned_case_is_still_run() -> None:
    assert set(json.loads(PINNED.read_text())) == {c[0] for c in cases()}


if __name__ == "__main__":
    if sys.argv[1:] != ["--update"]:
        sys.exit("usage: python -m tests.test_golden --update")
    PINNED.parent.mkdir(exist_ok=True)
    PINNED.write_text(json.dumps(compute_all(), indent=1, sort_keys=True) + "\n")
    print(f"wrote {PINNED}")
