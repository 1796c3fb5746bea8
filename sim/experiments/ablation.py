"""Ablation: the same experiment with each mechanism switched off in turn, and under the veto-player rule.

``sco-sim ablate EXPERIMENT`` runs an experiment in several *configurations*, each an ordinary
batch into ``DIR/CONFIG/``:

- ``shipped``: the experiment as it is (the same design, hash and run ids as ``sco-sim batch``);
- ``no_<mechanism>``: one switch of the scenario's ``[mechanisms]`` table (spillover, balancing,
  participation_cost, stand_aside, event_process, trust) set to ``false`` in every arm;
- ``no_mechanisms``: all six off in every arm; what remains is the decision rule, the arms'
  membership and the inputs the arms share;
- ``veto_players``: the decision rule replaced by the veto-player baseline
  (:mod:`sim.rules.consensus`: each member accepts or vetoes once, no redrafting), mechanisms on.
  An arm whose own ``overrides`` set ``rules.decision_rule`` keeps its rule: the rule is the
  point of that arm (``h5_rules.toml`` compares rules across arms), so only the arms that take
  their scenario's rule get the baseline rule (:attr:`AblationDesign.kept_rule` names the others).

A configuration's override is merged into every arm's overrides (over the arm's own values,
as a sweep point is); everything else (seeds, sweep points, posterior draws, metrics and claims)
is the experiment's, so the runs of every configuration share their seeds (common random
numbers) and differ only by the switch. A derived design's hash is the file's hash with
``-ablate-CONFIG`` added (and ``-rN`` with ``--replications``), so ``--resume`` refuses to mix
two designs in one folder, as for any batch; its manifest records the configuration under
``experiment.ablation``. ``DIR/ablation.json`` records which experiment the folder holds.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sim.errors import InputError, StoreError
from sim.experiments.design import Design, resolve
from sim.experiments.manifest import MANIFEST, now
from sim.experiments.schema import Arm, Experiment
from sim.experiments.store import os_reason
from sim.experiments.sweep import is_set, nested
from sim.files import inside, read_json, safe_name, write_json
from sim.scenario.schema import Mechanisms

#: the switches of a scenario's ``[mechanisms]`` table, in the schema's order
MECHANISMS: tuple[str, ...] = tuple(Mechanisms.model_fields)
SHIPPED = "shipped"
ALL_OFF = "no_mechanisms"
VETO = "veto_players"
RULE_KEY = "rules.decision_rule"
#: the file in an ablation folder that says which experiment (and design) it holds
RECORD = "ablation.json"


@dataclass(frozen=True)
class Configuration:
    """One configuration of an ablation: its name, its override (dotted keys) and what it is."""

    name: str
    overrides: dict[str, Any]
    description: str
    mechanism: str | None = None  # the one mechanism a no_<mechanism> configuration switches off


CONFIGURATIONS: tuple[Configuration, ...] = (
    Configuration(SHIPPED, {}, "the experiment as it is"),
    *(
        Configuration(f"no_{m}", {f"mechanisms.{m}": False}, f"{m} off in every arm", mechanism=m)
        for m in MECHANISMS
    ),
    Configuration(
        ALL_OFF,
        {f"mechanisms.{m}": False for m in MECHANISMS},
        "every mechanism off in every arm: the decision rule, the arms' membership and their inputs remain",
    ),
    Configuration(
        VETO,
        {RULE_KEY: "veto_players"},
        "the veto-player rule (accept or veto once, no redrafting) in every arm that does not set its "
        "own rule; mechanisms on",
    ),
)
NAMES: tuple[str, ...] = tuple(c.name for c in CONFIGURATIONS)


def configuration(name: str) -> Configuration:
    """Return the configuration called ``name`` (KeyError if there is none)."""
    for config in CONFIGURATIONS:
        if config.name == name:
            return config
    raise KeyError(name)


def choose(only: Sequence[str] | None) -> list[Configuration]:
    """Return the configurations ``--only`` names (all without it), in the canonical order.

    Raises:
        InputError: a name that is no configuration (one line naming ``--only`` and the names).

    """
    if not only:
        return list(CONFIGURATIONS)
    unknown = [name for name in only if name not in NAMES]
    if unknown:
        raise InputError(
            "", f"unknown configuration '{unknown[0]}'; expected some of: {', '.join(NAMES)}", key="--only"
        )
    return [c for c in CONFIGURATIONS if c.name in only]


def keeps_rule(arm: Arm) -> bool:
    """Whether an arm sets its own decision rule in its overrides (then ``veto_players`` leaves it)."""
    return is_set(arm.overrides, RULE_KEY)


@dataclass
class AblationDesign(Design):
    """An experiment's design in one configuration of an ablation."""

    configuration: str = SHIPPED
    #: arms that keep their own decision rule under ``veto_players``
    kept_rule: list[str] = field(default_factory=list)

    def describe(self) -> dict[str, Any]:
        """Return the plain description, with the configuration and its override."""
        config = configuration(self.configuration)
        ablation = {
            "configuration": config.name,
            "description": config.description,
            "overrides": config.overrides,
            "kept_rule": self.kept_rule,
        }
        return {**super().describe(), "ablation": ablation}


def derived_experiment(
    experiment: Experiment, config: Configuration, where: str
) -> tuple[Experiment, list[str]]:
    """Return the experiment with ``config``'s override in every arm, and the arms that kept their rule.

    Raises:
        ExperimentError: an arm's overrides hold a value where the override needs a table.

    """
    arms: dict[str, Arm] = {}
    kept: list[str] = []
    for name, arm in experiment.arms.items():
        if not config.overrides or (config.name == VETO and keeps_rule(arm)):
            kept += [name] if config.name == VETO else []
            arms[name] = arm
            continue
        arms[name] = arm.model_copy(
            update={"overrides": nested(config.overrides, arm.overrides, where, name)}
        )
    return experiment.model_copy(update={"arms": arms}), kept


def ablation_design(design: Design, name: str, replications: int | None = None) -> AblationDesign:
    """Return ``design`` in configuration ``name``.

    The scenario paths stay relative to the experiment file (``design.path``); the seeds, points
    and posterior draws are the experiment's. ``replications`` overrides the file's, as
    ``sco-sim batch --replications`` does (the same hash suffix).

    Raises:
        ExperimentError: an arm cannot be loaded with the configuration's override.

    """
    config = configuration(name)
    experiment, kept = derived_experiment(design.experiment, config, str(design.path))
    file_hash = design.file_hash + ("" if name == SHIPPED else f"-ablate-{name}")
    if replications:
        experiment = experiment.model_copy(update={"replications": replications})
        file_hash += f"-r{replications}"
    resolved = resolve(experiment, design.path, file_hash)
    return AblationDesign(**vars(resolved), configuration=name, kept_rule=kept)


def default_folder(name: str) -> Path:
    """Return the default ablation folder of an experiment: ``results/ablation/<name>``, a safe name."""
    return inside(Path("results") / "ablation", safe_name(name))


def folder_of(out: Path, name: str) -> Path:
    """Return the results folder of configuration ``name`` inside the ablation folder ``out``."""
    return inside(out, name, StoreError)


def prepare_folder(out: Path, design: Design, replications: int | None, resume: bool) -> None:
    """Check that ``out`` may hold this ablation and record it in ``out/ablation.json``.

    A new ablation needs a new or empty folder; an ablation folder of the same experiment and
    design is used again only with ``--resume`` (which completes its configurations and adds the
    ones not run yet). Nothing is written before every check has passed.

    Raises:
        StoreError: one line naming the folder and what to do.

    """
    where = str(out)
    design_hash = design.file_hash + (f"-r{replications}" if replications else "")
    record = {
        "experiment": design.experiment.name,
        "file": str(design.path),
        "hash": design_hash,
        "configurations": {c.name: c.description for c in CONFIGURATIONS},
    }
    if out.exists() and not out.is_dir():
        raise StoreError(where, "is a file, not a folder; choose another --out")
    if (out / RECORD).is_file():
        stored = read_json(out / RECORD, StoreError, "the record of an ablation folder")
        _check_record(where, stored, record, resume)
        return
    if out.is_dir() and any(out.iterdir()):
        raise StoreError(where, f"exists and is not an ablation folder (no {RECORD}); choose another --out")
    if resume:
        raise StoreError(where, "has no ablation to resume; run without --resume")
    try:
        out.mkdir(parents=True, exist_ok=True)
        write_json(out / RECORD, {**record, "started": now()})
    except OSError as exc:
        raise StoreError(where, f"cannot write here ({os_reason(exc)}); choose another --out") from None


def _check_record(where: str, stored: Any, record: dict[str, Any], resume: bool) -> None:
    """Refuse an ablation folder of another experiment or design, or one used again without --resume."""
    if not isinstance(stored, dict):
        raise StoreError(where, f"has a {RECORD} that sco-sim did not write; choose another --out")
    if stored.get("experiment") != record["experiment"]:
        raise StoreError(
            where,
            f"holds an ablation of experiment '{stored.get('experiment')}', not '{record['experiment']}'; "
            "choose another --out",
        )
    if stored.get("hash") != record["hash"]:
        raise StoreError(
            where,
            "holds an ablation of another design (the experiment file, --replications or --draws, changed "
            "since it started); resume with the same file and options, or choose another --out",
        )
    if not resume:
        raise StoreError(
            where,
            "already holds an ablation of this experiment; add --resume to complete it (or to add "
            "configurations with --only), or choose another --out",
        )


def stored(out: Path) -> list[str]:
    """Return the configurations with a batch stored in ``out``, in the canonical order."""
    return [name for name in NAMES if (out / name / MANIFEST).is_file()]


__all__ = [
    "ALL_OFF",
    "CONFIGURATIONS",
    "MECHANISMS",
    "NAMES",
    "RECORD",
    "SHIPPED",
    "VETO",
    "AblationDesign",
    "Configuration",
    "ablation_design",
    "choose",
    "configuration",
    "default_folder",
    "derived_experiment",
    "folder_of",
    "keeps_rule",
    "prepare_folder",
    "stored",
]
