"""Hostile numbers: every number a user gives is finite and in a documented range, every design has a size.

Issue 12, classes 7-10 and part of 14. What must hold:

- every numeric key of the scenario, experiment and calibration schemas has both a lower and
  an upper bound, and nan/inf are refused (a walk over the schema, so a new key cannot slip);
- nan, inf and 1e308 anywhere in a scenario, experiment or sensitivity file are one line
  naming the key, never a NaN table or a traceback;
- a design too large to fit is refused before it is drawn or expanded, with its runs and
  memory; designs inside the limits are expanded lazily and share their scenarios' parts;
- every numeric (and address) option of the command line is checked when it is parsed;
- the CSV readers refuse infinite numbers, duplicated columns and a one-issue benchmark.
"""

from __future__ import annotations

import math
import time
import tomllib
import types
import typing
from pathlib import Path
from typing import Annotated, Any

import annotated_types
import pytest
import tomlkit
from pydantic import BaseModel, Field
from pydantic.fields import FieldInfo

from sim.analysis.calibration import CalibrationFile
from sim.cli import build_parser, main
from sim.errors import ScenarioError
from sim.experiments.design import Runs, load_experiment, load_sensitivity
from sim.experiments.schema import Experiment
from sim.scenario import Membership, Parameters, Rules, Scenario, load_scenario

from .conftest import DATA

HOSTILE = ("nan", "inf", "-inf", "1e308", "-1e308")


def run_cli(capsys, *argv: str) -> tuple[int, str]:
    """Run the command line in this process; return (exit status, standard error)."""
    try:
        status = main(list(argv))
    except SystemExit as exc:  # argparse refuses an option
        status = int(exc.code or 0)
    return status, capsys.readouterr().err


def assert_one_line(err: str, *fragments: str) -> None:
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1, err
    assert "Traceback" not in err
    for fragment in fragments:
        assert fragment in lines[0], (fragment, lines[0])


# The schema walk -------------------------------------------------------------------


def _bounds(metadata: list[Any]) -> tuple[bool, bool]:
    low = high = False
    for item in metadata:
        if isinstance(item, FieldInfo):
            inner = _bounds(item.metadata)
            low, high = low or inner[0], high or inner[1]
        elif isinstance(item, annotated_types.Ge | annotated_types.Gt):
            low = True
        elif isinstance(item, annotated_types.Le | annotated_types.Lt):
            high = True
        elif isinstance(item, annotated_types.Interval):
            low = low or item.ge is not None or item.gt is not None
            high = high or item.le is not None or item.lt is not None
    return low, high


def unbounded_numbers(model: type[BaseModel]) -> list[str]:
    """Return every place in ``model`` (fields, table keys and values, list items) a number lacks a bound.

    Also every model that holds a float but accepts nan and inf.
    """
    found: list[str] = []
    _walk(model, model.__name__, (False, False), set(), found)
    return found


def _walk(
    annotation: Any, where: str, inherited: tuple[bool, bool], seen: set[type], found: list[str]
) -> None:
    origin = typing.get_origin(annotation)
    if origin is Annotated:
        base, *meta = typing.get_args(annotation)
        low, high = _bounds(meta)
        _walk(base, where, (inherited[0] or low, inherited[1] or high), seen, found)
    elif annotation in (int, float):
        if not all(inherited):
            missing = "a lower" if not inherited[0] else "an upper"
            found.append(f"{where}: {annotation.__name__} without {missing} bound")
    elif isinstance(annotation, type) and issubclass(annotation, BaseModel):
        _walk_model(annotation, seen, found)
    elif origin is dict:
        key, value = typing.get_args(annotation)
        _walk(key, f"{where}[key]", (False, False), seen, found)
        _walk(value, f"{where}[value]", (False, False), seen, found)
    elif origin in (list, tuple):
        for arg in typing.get_args(annotation):
            if arg is not Ellipsis:
                _walk(arg, f"{where}[item]", (False, False), seen, found)
    elif origin in (typing.Union, types.UnionType):
        for arg in typing.get_args(annotation):
            _walk(arg, where, inherited, seen, found)


def _walk_model(model: type[BaseModel], seen: set[type], found: list[str]) -> None:
    if model in seen:
        return
    seen.add(model)
    fields = model.model_fields
    holds_float = any("float" in str(f.rebuild_annotation()) for f in fields.values())
    if holds_float and model.model_config.get("allow_inf_nan", True):
        found.append(f"{model.__name__}: accepts nan and inf (allow_inf_nan)")
    for name, info in fields.items():
        _walk(info.rebuild_annotation(), f"{model.__name__}.{name}", (False, False), seen, found)


@pytest.mark.parametrize("model", [Scenario, Experiment, CalibrationFile], ids=lambda m: m.__name__)
def test_every_number_of_every_file_has_a_finite_documented_range(model):
    assert unbounded_numbers(model) == []


def test_the_schema_walk_can_fail():
    class Loose(BaseModel):
        a: float
        b: Annotated[int, Field(ge=0)]
        c: dict[int, Annotated[float, Field(ge=0, le=1)]]
        d: list[Annotated[float, Field(le=1)]] | None = None

    found = unbounded_numbers(Loose)
    assert any(line.startswith("Loose: accepts nan") for line in found)
    assert {line.split(":")[0] for line in found} >= {"Loose.a", "Loose.b", "Loose.c[key]", "Loose.d[item]"}


# Scenarios ---------------------------------------------------------------------------

WEIGHTS_KAZ = "weights = { security = 0.3, economy = 0.25, balancing = 0.3, regime = 0.15 }"
SCENARIO_CASES = {
    # name: (edit of tiny.toml, fragments of the one line)
    "position_base_nan": (lambda t: t + "[parameters]\nposition_base = nan\n",
                          ["parameters.position_base", "finite number", "nan"]),
    "event_salience_nan": (lambda t: t.replace("salience = { trade = 0.3 }", "salience = { trade = nan }"),
                           ["events[0].salience.trade", "finite number"]),
    "event_threat_nan": (lambda t: t + '[[events]]\nyear = 2003\nlabel = "t"\nthreat = { KAZ = { RUS = nan } }\n',
                         ["events[1].threat.KAZ.RUS", "finite number"]),
    "capability_inf": (lambda t: t.replace("capability = 0.003", "capability = inf"),
                       ["states.KAZ.capability", "finite number", "inf"]),
    "capability_table_inf": (lambda t: t.replace("capability = 0.003", "capability = { 2000 = 0.003, 2003 = inf }"),
                             ["states.KAZ.capability.2003", "finite number"]),
    "trust_tolerance_inf": (lambda t: t + "[parameters]\ntrust_tolerance = inf\n",
                            ["parameters.trust_tolerance", "finite number"]),
    "weights_inf_normalized": (lambda t: t.replace(WEIGHTS_KAZ, WEIGHTS_KAZ.replace("security = 0.3", "security = inf")
                                                   + "\nnormalize_weights = true"),
                               ["states.KAZ.weights.security", "finite number"]),
    "weights_1e308_normalized": (lambda t: t.replace(WEIGHTS_KAZ, WEIGHTS_KAZ.replace("security = 0.3", "security = 1e308")
                                                     .replace("economy = 0.25", "economy = 1e308") + "\nnormalize_weights = true"),
                                 ["states.KAZ.weights", "<= 100"]),
    "position_noise_1e308": (lambda t: t + "[parameters]\nposition_noise = 1e308\n",
                             ["parameters.position_noise", "<= 1.0", "1e+308"]),
    "capability_growth_overflow": (lambda t: t.replace("capability = 0.003", "capability = 1000\ncapability_growth = 1.0")
                                   .replace("end_year = 2005", "end_year = 2100"),
                                   ["states.KAZ.capability_growth", "would grow to about 1e33 by 2100", "1e+12"]),
    "event_capability_overflow": (lambda t: t.replace("capability = 0.003", "capability = 100000")
                                  + 4 * '[[events]]\nyear = 2003\nlabel = "c"\ncapability = { KAZ = 100 }\n',
                                  ["states.KAZ.capability", "would grow to about 1e13"]),
    "end_year_huge": (lambda t: t.replace("end_year = 2005", f"end_year = {2**63 - 1}"),
                      ["end_year", "<= 9999"]),
    "run_too_long": (lambda t: t.replace("end_year = 2005", "end_year = 3500"),
                     ["end_year", "1500 years after start_year 2000", "at most 1000"]),
    "status_year_huge": (lambda t: t.replace('status = { 2000 = "member" }', 'status = { 99999 = "member" }', 1),
                         ["states.RUS.status.99999", "<= 9999"]),
    "event_capability_below_minus_one": (lambda t: t + '[[events]]\nyear = 2003\nlabel = "c"\ncapability = { KAZ = -5 }\n',
                                         ["events[1].capability.KAZ", ">= -1"]),
    "rule_tolerance_huge": (lambda t: t + "[rules]\ntolerance = 1e300\n", ["rules.tolerance", "<= 100"]),
    "lag_huge": (lambda t: t + "[membership]\nlag_application = 100000\n", ["membership.lag_application", "<= 100"]),
}  # fmt: skip


@pytest.mark.parametrize("case", sorted(SCENARIO_CASES))
def test_hostile_number_in_a_scenario_is_one_line(case, capsys, write, tiny_text, tmp_path):
    edit, fragments = SCENARIO_CASES[case]
    path = write(edit(tiny_text), name=f"{case}.toml")
    status, err = run_cli(capsys, "run", str(path), "--out", str(tmp_path / "out"), "--no-chart")
    assert status == 2
    assert_one_line(err, f"{case}.toml", *fragments)
    assert not (tmp_path / "out").exists()


def _numbers(node: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Return the path of every number (not a bool) in a parsed TOML document."""
    if isinstance(node, dict):
        return [p for key, value in node.items() for p in _numbers(value, (*path, key))]
    if isinstance(node, list):
        return [p for i, value in enumerate(node) for p in _numbers(value, (*path, i))]
    return [path] if isinstance(node, int | float) and not isinstance(node, bool) else []


def _scalar_keys() -> list[tuple[str, str]]:
    """Every numeric key of [parameters], [rules] and [membership], whether tiny.toml writes it or not."""
    return [
        (section, name)
        for section, model in (("parameters", Parameters), ("rules", Rules), ("membership", Membership))
        for name, info in model.model_fields.items()
        if info.annotation in (int, float)
    ]


def test_every_number_of_a_scenario_refuses_nan_inf_and_1e308(tiny_path, tmp_path):
    """Mutate each number of tiny.toml, and each numeric key of three tables, to each hostile value."""
    base = tomllib.loads(tiny_path.read_text())
    places = _numbers(base) + _scalar_keys()
    assert len(places) > 60
    accepted = []
    for place in places:
        for text in HOSTILE:
            doc = tomlkit.parse(tiny_path.read_text())
            node: Any = doc
            for part in place[:-1]:
                node = node.setdefault(part, tomlkit.table()) if isinstance(part, str) else node[part]
            node[place[-1]] = float(text)
            path = tmp_path / "mutated.toml"
            path.write_text(tomlkit.dumps(doc))
            try:
                load_scenario(path)
            except ScenarioError as exc:
                assert "\n" not in exc.one_line()
            else:
                accepted.append((place, text))
    assert accepted == []


def test_a_scenario_of_ten_thousand_states_is_refused_at_once(tmp_path, capsys):
    states = "".join(
        f'[states.{chr(65 + i // 676)}{chr(65 + i // 26 % 26)}{chr(65 + i % 26)}]\nname = "s"\ncapability = 0.1\n'
        "weights = { security = 0.25, economy = 0.25, balancing = 0.25, regime = 0.25 }\npolyarchy = 0.5\n"
        for i in range(10_000)
    )
    text = 'name = "big"\nstart_year = 2000\nend_year = 2001\npoles = ["AAA"]\nfocal_state = "AAB"\n' + states
    text += '[areas.a]\nlabel = "A"\nrelevance = { security = 1.0, economy = 0.0, balancing = 0.0, regime = 0.0 }\n'
    text += "base_salience = 0.5\n"
    path = tmp_path / "big.toml"
    path.write_text(text)
    started = time.perf_counter()
    status, err = run_cli(capsys, "check", str(path))
    assert status == 2
    assert_one_line(err, "big.toml", "key 'states'", "at most 500 entries, got 10000")
    assert time.perf_counter() - started < 30


def test_the_limits_admit_every_shipped_scenario_and_experiment():
    root = DATA.parents[1]
    for path in sorted((root / "scenarios").glob("*.toml")):
        load_scenario(path)
    for path in sorted((root / "experiments").glob("*.toml")):
        if not path.name.startswith("calibrate_"):  # calibration files: their own schema, tested above
            load_experiment(path)


# Experiments and sensitivity files -----------------------------------------------------

SWEEP_TOL = '[sweep]\nparameters = {{ "rules.tolerance" = {{ {} }} }}\n'
EXPERIMENT_CASES = {
    # name: (base file, edit, fragments)
    "threshold_nan": ("mini_experiment.toml",
                      lambda t: t.replace('aggregate = "last"', 'aggregate = "first_above"\nthreshold = nan'),
                      ["metrics.kaz_alignment_rus.threshold", "finite number"]),
    "sweep_range_nan": ("mini_experiment.toml",
                        lambda t: t + '[sweep]\nmethod = "latin_hypercube"\n'
                        'parameters = { "rules.tolerance" = { range = [nan, 0.5] } }\n',
                        ["sweep.parameters.\"rules.tolerance\".range[0]", "finite number"]),
    "sweep_values_inf": ("mini_experiment.toml", lambda t: t + SWEEP_TOL.format("values = [inf]"),
                         ["sweep.parameters.\"rules.tolerance\".values[0]", "finite number"]),
    "sweep_value_outside_key_range": ("mini_experiment.toml", lambda t: t + SWEEP_TOL.format("values = [0.01, 500]"),
                                      ["sweep.parameters.rules.tolerance", "the value 500", "<= 100"]),
    "sweep_range_end_outside_key_range": ("mini_experiment.toml",
                                          lambda t: t + '[sweep]\nmethod = "latin_hypercube"\n'
                                          'parameters = { "parameters.agenda_size" = { range = [1, 400] } }\n',
                                          ["sweep.parameters.parameters.agenda_size", "the value 400", "<= 100"]),
    "sweep_seed_negative": ("mini_experiment.toml",
                            lambda t: t + '[sweep]\nmethod = "latin_hypercube"\nseed = -5\n'
                            'parameters = { "rules.tolerance" = { range = [0.01, 0.5] } }\n',
                            ["sweep.seed", ">= 0"]),
    "base_seed_huge": ("mini_experiment.toml", lambda t: t.replace("base_seed = 7", f"base_seed = {2**63}"),
                       ["base_seed", "<= 9223372036854775807"]),
    "metric_years_huge": ("mini_experiment.toml", lambda t: t.replace("years = [2001, 2005]", f"years = [2001, {2**62}]"),
                          ["metrics.consensus_rate.years[1]", "<= 9999"]),
    "sensitivity_range_nan": ("mini_sensitivity.toml", lambda t: t.replace("tolerance = [0.01, 0.1]", "tolerance = [nan, 0.1]"),
                              ["sensitivity.parameters.tolerance[0]", "finite number"]),
    "sensitivity_range_1e308": ("mini_sensitivity.toml",
                                lambda t: t.replace("tolerance = [0.01, 0.1]", "tolerance = [0.01, 1e308]"),
                                ["sensitivity.parameters.tolerance[1]", "1e+308"]),
    "sensitivity_range_beyond_key": ("mini_sensitivity.toml",
                                     lambda t: t.replace("tolerance = [0.01, 0.1]", "tolerance = [0.01, 1000]"),
                                     ["sensitivity.parameters.tolerance", "high end 1000 is not allowed", "<= 100"]),
    # class 14: a value where a swept key needs a table
    "overrides_rules_not_a_table": ("mini_experiment.toml",
                                    lambda t: t.replace('overrides = { rules = { decision_rule = "qualified_majority" } }',
                                                        'overrides = { rules = "x" }'),
                                    ["arms.qmv", "key 'rules': expected a table, got 'x'"]),
    "overrides_rules_not_a_table_with_a_sweep": ("mini_experiment.toml",
                                                 lambda t: t.replace('overrides = { rules = { decision_rule = "qualified_majority" } }',
                                                                     'overrides = { rules = "x" }')
                                                 + SWEEP_TOL.format("values = [0.01, 0.1]"),
                                                 ["arms.qmv.overrides.rules", "expected a table at 'rules'", "rules.tolerance", "'x'"]),
    "overrides_rules_not_a_table_with_a_sample": ("mini_sensitivity.toml",
                                                  lambda t: t.replace('overrides = { rules = { decision_rule = "qualified_majority" } }',
                                                                      'overrides = { rules = "x" }'),
                                                  ["arms.qmv", "key 'rules': expected a table, got 'x'"]),
}  # fmt: skip


def _experiment(tmp_path: Path, base: str, edit: Any, name: str) -> Path:
    (tmp_path / "tiny.toml").write_text((DATA / "tiny.toml").read_text())
    path = tmp_path / f"{name}.toml"
    path.write_text(edit((DATA / base).read_text()))
    return path


@pytest.mark.parametrize("case", sorted(EXPERIMENT_CASES))
def test_hostile_number_in_an_experiment_is_one_line(case, capsys, tmp_path):
    base, edit, fragments = EXPERIMENT_CASES[case]
    path = _experiment(tmp_path, base, edit, case)
    command = "sensitivity" if base == "mini_sensitivity.toml" else "batch"
    out = tmp_path / "out"
    status, err = run_cli(capsys, command, str(path), "--out", str(out), "--sequential", "--no-progress")
    assert status == 2
    assert_one_line(err, f"{case}.toml", *fragments)
    assert not out.exists()


def test_hostile_number_in_a_calibration_file_is_one_line(capsys, tmp_path):
    (tmp_path / "tiny.toml").write_text((DATA / "tiny.toml").read_text())
    path = tmp_path / "cal.toml"
    for ranges, fragment in (
        ("tolerance = [nan, 0.1]", "ranges.tolerance[0]"),
        ("tolerance = [0.01, inf]", "ranges.tolerance[1]"),
    ):
        path.write_text(f'scenario = "tiny.toml"\n[ranges]\n{ranges}\n')
        status, err = run_cli(capsys, "calibrate", str(path), "--out", str(tmp_path / "out"))
        assert status == 2
        assert_one_line(err, "cal.toml", fragment, "finite number")
    path.write_text(
        'scenario = "tiny.toml"\nsamples = 65536\nseeds = 100\n[ranges]\ntolerance = [0.01, 0.1]\n'
    )
    status, err = run_cli(capsys, "calibrate", str(path), "--out", str(tmp_path / "out"))
    assert status == 2
    assert_one_line(err, "cal.toml", "key 'samples'", "seed-judgements", "at most 1,000,000")


# The size of a design --------------------------------------------------------------------

GRID = ", ".join(f'"parameters.{k}" = {{ values = [{", ".join(str(0.01 * i) for i in range(1, 11))}] }}'
                 for k in ("trust_gain", "trust_loss", "tie_pull", "benefit_decay", "influence_decay"))  # fmt: skip
SIZE_CASES = {
    # name: (base file, edit, fragments); each is refused within seconds, before anything is drawn
    "replications_1e12": ("mini_experiment.toml", lambda t: t.replace("replications = 4", "replications = 1000000000000"),
                          ["key 'replications'", "<= 100000"]),
    "grid_of_100000_points": ("mini_experiment.toml", lambda t: t + f"[sweep]\nparameters = {{ {GRID} }}\n",
                              ["key 'sweep.parameters'", "2 arm(s) x 100,000 point(s) x 4 seed(s) = 800,000 runs",
                               "GB of memory", "at most 1,000,000 runs and 20,000 arm x point scenarios"]),
    "sobol_2_31": ("mini_experiment.toml", lambda t: t + '[sweep]\nmethod = "sobol"\nsamples = 2147483648\n'
                   'parameters = { "rules.tolerance" = { range = [0.01, 0.5] } }\n', ["key 'sweep.samples'", "<= 65536"]),
    "sampled_sweep_too_many_runs": ("mini_experiment.toml",
                                    lambda t: t.replace("replications = 4", "replications = 100000")
                                    + '[sweep]\nmethod = "latin_hypercube"\nsamples = 64\n'
                                    'parameters = { "rules.tolerance" = { range = [0.01, 0.5] } }\n',
                                    ["key 'replications'", "= 12,800,000 runs"]),
    "sensitivity_samples_2_30": ("mini_sensitivity.toml",
                                 lambda t: t.replace('method = "morris"', 'method = "sobol"')
                                 .replace("trajectories = 2", "samples = 1073741824").replace("levels = 4\n", ""),
                                 ["key 'sensitivity.samples'", "<= 65536"]),
    "sensitivity_trajectories_1e8": ("mini_sensitivity.toml",
                                     lambda t: t.replace("trajectories = 2", "trajectories = 100000000"),
                                     ["key 'sensitivity.trajectories'", "<= 10000"]),
    "sensitivity_too_many_points": ("mini_sensitivity.toml",
                                    lambda t: t.replace("trajectories = 2", "trajectories = 10000"),
                                    ["key 'sensitivity.trajectories'", "2 arm(s) x 30,000 point(s)"]),
    "sensitivity_too_many_runs": ("mini_sensitivity.toml",
                                  lambda t: t.replace("replications = 2\nparameters", "replications = 100000\nparameters"),
                                  ["key 'sensitivity.replications'", "= 1,200,000 runs"]),
}  # fmt: skip


@pytest.mark.parametrize("case", sorted(SIZE_CASES))
def test_a_design_too_large_is_refused_at_once_with_its_size(case, capsys, tmp_path):
    base, edit, fragments = SIZE_CASES[case]
    path = _experiment(tmp_path, base, edit, case)
    command = "sensitivity" if base == "mini_sensitivity.toml" else "batch"
    started = time.perf_counter()
    status, err = run_cli(capsys, command, str(path), "--out", str(tmp_path / "out"), "--sequential")
    assert time.perf_counter() - started < 20
    assert status == 2
    assert_one_line(err, f"{case}.toml", *fragments)


def test_design_runs_are_made_lazily_and_equal_a_list(tmp_path):
    path = _experiment(
        tmp_path,
        "mini_experiment.toml",
        lambda t: t + SWEEP_TOL.format("values = [0.02, 0.05, 0.08]"),
        "lazy",
    )
    design = load_experiment(path)
    runs = design.runs
    assert isinstance(runs, Runs) and len(runs) == 2 * 3 * 4
    made = list(runs)
    assert [r.run_index for r in made] == list(range(24))
    assert runs[5] == made[5] and runs[-1] == made[-1] and runs[3:9] == made[3:9]
    assert [(r.arm, r.point, r.replication) for r in made[:5]] == [("consensus", 0, r) for r in range(4)] + [
        ("consensus", 1, 0)
    ]
    with pytest.raises(IndexError):
        runs[24]
    # the points of an arm share what they have in common, and are the scenarios loaded alone
    first, second = runs[0].scenario, runs[4].scenario
    assert first.states is second.states and first.areas is second.areas
    assert first.rules is not second.rules and second.rules.tolerance == 0.05
    alone = load_scenario(tmp_path / "tiny.toml", overrides={"rules": {"tolerance": 0.05}})
    assert second == alone and second.to_dict() == alone.to_dict()


def test_sensitivity_design_is_lazy_too():
    design = load_sensitivity(DATA / "mini_sensitivity.toml")
    assert isinstance(design.runs, Runs)
    assert len(design.runs) == len(list(design.runs)) == 2 * 6 * 2


# Command-line options ------------------------------------------------------------------------

ACTORS = DATA / "bargaining" / "bdm_example_actors.csv"
OPTION_CASES = {
    # argv (with {tiny} and {exp} for the files), fragments of the one line
    "scheduler_notaurl": ("batch {exp} --scheduler notaurl", ["--scheduler", "Dask scheduler address", "'notaurl'"]),
    "scheduler_no_port": ("batch {exp} --scheduler tcp://host", ["--scheduler", "'tcp://host'"]),
    "scheduler_bad_scheme": ("batch {exp} --scheduler http://host:8786", ["--scheduler"]),
    "max_rounds_negative": ("bargain " + str(ACTORS) + " --max-rounds -3", ["--max-rounds", "got -3"]),
    "status_quo_nan": ("bargain " + str(ACTORS) + " --status-quo nan", ["--status-quo", "got 'nan'"]),
    "threshold_5": ("bargain " + str(ACTORS) + " --threshold 5", ["--threshold", "more than 0.5 and at most 1"]),
    "threshold_half": ("bargain " + str(ACTORS) + " --threshold 0.5", ["--threshold"]),
    "proposal_inf": ("bargain " + str(ACTORS) + " --proposal inf", ["--proposal", "got 'inf'"]),
    "proposal_900": ("bargain " + str(ACTORS) + " --proposal 900", ["--proposal", "at most 100"]),
    "tolerance_negative": ("bargain " + str(ACTORS) + " --tolerance -1", ["--tolerance", "at least 0"]),
    "until_huge": ("run {tiny} --until 99999999999999999999", ["--until", "at most 9999"]),
    "seed_huge": ("run {tiny} --seed 99999999999999999999999", ["--seed", "at most 9223372036854775807"]),
    "workers_huge": ("batch {exp} --workers 100000", ["--workers", "at most 256"]),
    "dask_local_huge": ("batch {exp} --dask-local 100000", ["--dask-local", "at most 256"]),
    "replications_huge": ("batch {exp} --replications 1000000000000", ["--replications", "at most 100000"]),
    "validate_seeds_huge": ("validate {tiny} --seeds 1000000000000", ["--seeds", "at most 100000"]),
    "calibrate_samples_one": ("calibrate --samples 1", ["--samples", "got 1"]),
    "bench_runs_huge": ("bench --runs 1000000000000", ["--runs", "at most 100000"]),
    "folds_huge": ("bargain-bench " + str(ACTORS) + " --folds 1000000", ["--folds", "at most 1000"]),
}  # fmt: skip


@pytest.mark.parametrize("case", sorted(OPTION_CASES))
def test_an_option_out_of_range_is_one_line_at_parse_time(case, capsys):
    argv, fragments = OPTION_CASES[case]
    argv = argv.format(tiny=DATA / "tiny.toml", exp=DATA / "mini_experiment.toml")
    status, err = run_cli(capsys, *argv.split())
    assert status == 2
    assert_one_line(err, *fragments)


def _typed_options() -> list[tuple[str, str, Any]]:
    """Every option (or positional) of every command that has a type: (command, option, type)."""
    parser = build_parser()
    sub = next(a for a in parser._actions if a.dest == "command")
    return [
        (name, action.option_strings[0] if action.option_strings else action.dest, action.type)
        for name, command in sub.choices.items()
        for action in command._actions
        if action.type is not None
    ]


def test_every_typed_option_refuses_hostile_numbers():
    import argparse

    typed = _typed_options()
    assert len(typed) > 20
    for command, option, kind in typed:
        assert kind not in (int, float), f"{command} {option}: a bare {kind.__name__} accepts anything"
        for text in (*HOSTILE, "1e400", str(10**30), "-" + str(10**30)):
            with pytest.raises(argparse.ArgumentTypeError):
                kind(text)
                pytest.fail(f"{command} {option} accepted {text}")


def test_valid_options_still_parse():
    from sim.cli.options import number_in, scheduler

    assert scheduler("tcp://10.0.0.5:8786") == "tcp://10.0.0.5:8786"
    assert scheduler("localhost:8786") == "localhost:8786"
    assert scheduler("tls://[::1]:8786") == "tls://[::1]:8786"
    assert number_in(0.5, 1.0, low_open=True)("0.6667") == pytest.approx(0.6667)
    args = build_parser().parse_args(
        ["bargain", "t.csv", "--threshold", "1", "--max-rounds", "0", "--proposal", "100"]
    )
    assert (args.threshold, args.max_rounds, args.proposal) == (1.0, 0, 100.0)


# CSV readers ----------------------------------------------------------------------------------------


def test_bargain_refuses_an_infinite_or_huge_capability(capsys, tmp_path):
    path = tmp_path / "t.csv"
    for value, fragment in (("inf", "expected a finite number, got 'inf'"), ("1e300", "<= 1e+12")):
        path.write_text(f"Actor,Capability,Position,Salience\nA,{value},10,50\nB,2,80,60\n")
        status, err = run_cli(capsys, "bargain", str(path))
        assert status == 2
        assert_one_line(err, "t.csv", "row 2, column 'Capability'", fragment)


@pytest.mark.parametrize("command", ["bargain", "bargain-bench"])
def test_a_duplicated_column_is_one_line(command, capsys, tmp_path):
    path = tmp_path / "dup.csv"
    path.write_text(
        "Actor,Capability,Position,Salience,Issue,Outcome,position\n"
        "A,1,10,50,1,20,3\nB,2,80,60,1,20,3\nC,1,40,30,2,20,4\nD,1,40,30,2,20,4\n"
    )
    status, err = run_cli(
        capsys, command, str(path), *(["--out", str(tmp_path / "o.csv")] if command != "bargain" else [])
    )
    assert status == 2
    assert_one_line(err, "dup.csv", "line 1, column 'position': the column appears twice")


def test_a_benchmark_of_one_scored_issue_is_one_line(capsys, tmp_path):
    path = tmp_path / "one.csv"
    path.write_text(
        "Actor,Capability,Position,Salience,Issue,Outcome\nA,1,10,50,1,20\nB,2,80,60,1,20\nC,1,40,30,1,20\n"
    )
    status, err = run_cli(capsys, "bargain-bench", str(path), "--out", str(tmp_path / "o.csv"))
    assert status == 2
    assert_one_line(err, "one.csv", "only 1 issue", "at least 2")
    assert not (tmp_path / "o.csv").exists()


def test_a_deu_file_listing_an_actor_twice_is_one_line(capsys, tmp_path):
    lines = (DATA / "bargaining" / "deu3_slice.csv").read_text().splitlines()
    header = lines[0].split("\t")
    at = [header.index('"pde"'), header.index('"sde"')]
    widened = ["\t".join(cells + [""] * (len(header) - len(cells)) + [cells[i] if i < len(cells) else "" for i in at])
               for cells in (line.split("\t") for line in lines)]  # fmt: skip
    path = tmp_path / "deu_twice.csv"
    path.write_text("\n".join(widened) + "\n")
    status, err = run_cli(capsys, "bargain-bench", str(path), "--out", str(tmp_path / "o.csv"))
    assert status == 2
    assert_one_line(err, "deu_twice.csv", "column 'pde': the column appears twice")


def test_a_deu_capability_above_the_limit_is_one_line(capsys, tmp_path):
    lines = (DATA / "bargaining" / "deu3_slice.csv").read_text().splitlines()
    lines[1] = lines[1].replace('"4.1"', '"1e300"', 1)
    path = tmp_path / "deu_cap.csv"
    path.write_text("\n".join(lines) + "\n")
    status, err = run_cli(capsys, "bargain-bench", str(path), "--out", str(tmp_path / "o.csv"))
    assert status == 2
    assert_one_line(err, "deu_cap.csv", "line 2", "expected a capability <= 1e+12")


def test_nothing_here_leaves_a_non_finite_bound():
    """The documented limits themselves are finite numbers."""
    import sim.limits

    values = [v for k, v in vars(sim.limits).items() if k.isupper()]
    assert values and all(math.isfinite(v) for v in values)
