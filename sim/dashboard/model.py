"""The dashboard's model: :class:`SCOModel` built from a scenario file and the page's settings.

Mesa's SolaraViz makes a new model on *Reset* by calling the model class with the page's
parameters as keyword arguments. :class:`DashboardModel` takes them (a scenario file, a
seed, interest-weight shifts for one state, a rivalry, the tolerance and the decision
rule), turns them into scenario overrides (``load_scenario(path, overrides=...)``, as
experiment arms do), and builds an ordinary :class:`SCOModel` from the result: the model's
behaviour is the model's own. Every setting left where the page starts it changes nothing,
so the first run of the page is ``sim.run(scenario, seed)`` year by year.

:func:`model_params` describes the page's inputs in SolaraViz's format (plain dicts), and
:class:`Settings` records what a model was built with, what it changed and why anything
was ignored (shown on the page).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from sim.errors import InputError
from sim.model.model import SCOModel
from sim.rules import RULES
from sim.scenario import INTERESTS, Scenario, interest_weights, load_scenario

#: the rule select's first choice: keep the scenario's own decision rule
SCENARIO_RULE = "as in the scenario"
#: the rivalry select's first choice: change no rivalry
NO_PAIR = "none"
#: separates the two states of a rivalry pair in the select (``IND-PAK``)
PAIR_SEP = "-"
#: how far a weight slider moves the state's weight (before the four are rescaled to sum 1)
WEIGHT_SHIFT = 0.5
TOLERANCE_MAX = 0.3
#: the tolerance slider's step: a value within half a step of where it started is "left there"
#: (the slider snaps a scenario's 0.108164 to 0.11 on its own)
TOLERANCE_STEP = 0.005


@lru_cache(maxsize=32)
def _cached_scenario(path: str, stamp: float) -> Scenario:  # noqa: ARG001 - stamp: the file's mtime
    return load_scenario(path)


def base_scenario(path: str | Path) -> Scenario:
    """Load a scenario file as written (cached until the file changes)."""
    path = Path(path)
    try:
        stamp = path.stat().st_mtime
    except OSError as exc:
        raise InputError(str(path), f"cannot read the scenario ({exc.strerror or exc})") from None
    return _cached_scenario(str(path), stamp)


def scenario_choices(given: str | Path) -> list[str]:
    """Return the scenario files the page offers: the one given, then its folder's and ``scenarios/``."""
    given = Path(given)
    found = [given, *sorted(given.parent.glob("*.toml")), *sorted(Path("scenarios").glob("*.toml"))]
    choices: dict[Path, str] = {}
    for path in found:
        choices.setdefault(path.resolve(), str(path))
    return list(choices.values())


def rivalry_pairs(scenario: Scenario) -> list[str]:
    """Return the rivalries a scenario declares, one ``A-B`` per pair (codes sorted)."""
    pairs = {
        PAIR_SEP.join(sorted((code, other)))
        for code, state in scenario.states.items()
        for other in state.rivalries
    }
    return sorted(pairs)


def model_params(scenario_file: str | Path, seed: int = 0) -> dict[str, Any]:
    """Describe the page's inputs for SolaraViz, starting from ``scenario_file``."""
    scenario = base_scenario(scenario_file)
    codes = scenario.state_codes
    slider = {"type": "SliderFloat", "value": 0.0, "min": -WEIGHT_SHIFT, "max": WEIGHT_SHIFT, "step": 0.05}
    params: dict[str, Any] = {
        "scenario_file": {
            "type": "Select",
            "value": str(scenario_file),
            "values": scenario_choices(scenario_file),
            "label": "Scenario",
        },
        "seed": {"type": "InputText", "value": str(seed), "label": "Seed (press Enter, then Reset)"},
        "weights_of": {
            "type": "Select",
            "value": scenario.focal_state if scenario.focal_state in codes else codes[0],
            "values": codes,
            "label": "Interest weights of",
        },
    }
    for interest in INTERESTS:
        params[f"shift_{interest}"] = {**slider, "label": f"{interest} weight: shift"}
    params["rivalry_pair"] = {
        "type": "Select",
        "value": NO_PAIR,
        "values": [NO_PAIR, *rivalry_pairs(scenario)],
        "label": "Rivalry to set",
    }
    params["rivalry_level"] = {
        "type": "SliderFloat", "value": 0.0, "min": 0.0, "max": 1.0, "step": 0.05, "label": "Rivalry level",
    }  # fmt: skip
    tolerance = scenario.rules.tolerance
    params["tolerance_level"] = {
        "type": "SliderFloat",
        "value": tolerance,
        "min": 0.0,
        "max": max(TOLERANCE_MAX, tolerance),
        "step": TOLERANCE_STEP,
        "label": "Tolerance",
    }
    params["tolerance_start"] = tolerance  # fixed: the slider left here keeps each scenario's own
    params["decision_rule"] = {
        "type": "Select",
        "value": SCENARIO_RULE,
        "values": [SCENARIO_RULE, *RULES],
        "label": "Decision rule",
    }
    return params


@dataclass
class Settings:
    """What a dashboard model was built with: the scenario, the seed and the overrides in force."""

    scenario_file: str
    seed: int
    weights_of: str
    overrides: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


def parse_seed(text: Any) -> tuple[int, str | None]:
    """Return the seed a text gives, or 0 and a note saying why the text was not used."""
    try:
        value = int(str(text).strip())
    except ValueError:
        return 0, f"seed {str(text)!r} is not a whole number: seed 0 used"
    if value < 0:
        return 0, f"seed {value} is negative: seed 0 used"
    return value, None


def shifted_weights(scenario: Scenario, code: str, shifts: dict[str, float]) -> dict[str, float] | None:
    """Return the state's weights moved by ``shifts`` and rescaled to sum 1 (None: no shift)."""
    if not any(shifts.values()):
        return None
    current = dict(zip(INTERESTS, interest_weights(scenario.states[code]), strict=True))
    moved = {k: max(current[k] + float(shifts.get(k, 0.0)), 0.0) for k in INTERESTS}
    total = math.fsum(moved.values())
    if total <= 0.0:
        return {}
    return {k: v / total for k, v in moved.items()}


def build_settings(
    scenario_file: str,
    seed: Any,
    weights_of: str,
    shifts: dict[str, float],
    rivalry: tuple[str, float],
    rule: tuple[float, float, str],
) -> Settings:
    """Turn the page's inputs into scenario overrides, with a note for each input ignored.

    ``rivalry`` is (pair, level); ``rule`` is (tolerance, the tolerance slider's start, rule).
    """
    base = base_scenario(scenario_file)
    value, note = parse_seed(seed)
    settings = Settings(str(scenario_file), value, weights_of, notes=[note] if note else [])
    states: dict[str, Any] = {}
    if weights_of not in base.states:
        if any(shifts.values()):
            settings.notes.append(f"{weights_of} is not in this scenario: weight shifts ignored")
    else:
        weights = shifted_weights(base, weights_of, shifts)
        if weights == {}:
            settings.notes.append(f"the shifts leave {weights_of} no positive weight: weights kept")
        elif weights is not None:
            states[weights_of] = {"weights": weights, "normalize_weights": False}
    pair, level = rivalry
    if pair != NO_PAIR:
        a, _, b = pair.partition(PAIR_SEP)
        if a in base.states and b in base.states:
            # Both declarations: the larger of the two counts, so both are set.
            states.setdefault(a, {})["rivalries"] = {b: float(level)}
            states.setdefault(b, {})["rivalries"] = {a: float(level)}
        else:
            settings.notes.append(f"rivalry {pair}: a state is not in this scenario, ignored")
    if states:
        settings.overrides["states"] = states
    tolerance, start, rule_name = rule
    rules: dict[str, Any] = {}
    if abs(float(tolerance) - float(start)) >= TOLERANCE_STEP / 2:
        rules["tolerance"] = float(tolerance)
    if rule_name != SCENARIO_RULE:
        rules["decision_rule"] = rule_name
    if rules:
        settings.overrides["rules"] = rules
    return settings


class DashboardModel(SCOModel):
    """An :class:`SCOModel` built from a scenario file and the dashboard's settings.

    Args:
        scenario_file: The scenario (TOML).
        seed: The seed, as the page's text field gives it (a non-negative whole number).
        weights_of: The state whose interest weights the shifts move.
        shift_security: Added to the state's security weight (the four are then rescaled
            to sum 1); likewise ``shift_economy``, ``shift_balancing``, ``shift_regime``.
        rivalry_pair: ``"A-B"`` to set that pair's rivalry to ``rivalry_level``
            (both states' declarations), or ``"none"``.
        rivalry_level: The rivalry of the pair, 0-1.
        tolerance_level: The loss each state accepts without objecting (``rules.tolerance``);
            within half a slider step of ``tolerance_start`` it keeps the scenario's own.
        tolerance_start: Where the tolerance slider starts.
        decision_rule: A registered rule's name, or ``"as in the scenario"``.

    """

    def __init__(
        self,
        scenario_file: str,
        seed: str | int = 0,
        weights_of: str = "KAZ",
        shift_security: float = 0.0,
        shift_economy: float = 0.0,
        shift_balancing: float = 0.0,
        shift_regime: float = 0.0,
        rivalry_pair: str = NO_PAIR,
        rivalry_level: float = 0.0,
        tolerance_level: float = 0.0,
        tolerance_start: float = 0.0,
        decision_rule: str = SCENARIO_RULE,
    ):
        shifts = dict(
            zip(INTERESTS, (shift_security, shift_economy, shift_balancing, shift_regime), strict=True)
        )
        settings = build_settings(
            scenario_file,
            seed,
            weights_of,
            shifts,
            (rivalry_pair, rivalry_level),
            (tolerance_level, tolerance_start, decision_rule),
        )
        scenario = load_scenario(scenario_file, overrides=settings.overrides or None)
        super().__init__(scenario, rng=settings.seed)
        self.dashboard = settings
        self._tables: tuple[int, dict[str, Any]] | None = None

    @property
    def last_year(self) -> int | None:
        """The year of the latest summit simulated (None before the first step)."""
        return self.year - 1 if self.recorder.n_years else None

    def tables_so_far(self) -> dict[str, Any] | None:
        """Return the tables of the years simulated so far (None before the first step); cached per year."""
        n = self.recorder.n_years
        if n == 0:
            return None
        if self._tables is None or self._tables[0] != n:
            self._tables = (n, self.tables())
        return self._tables[1]
