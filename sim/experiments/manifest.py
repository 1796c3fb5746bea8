"""The manifest of a results folder: reading it safely, versions, and whether a batch may be resumed.

``manifest.json`` records the experiment (with the hash of its file, and of its posterior
file if it has one), a hash of every arm's resolved scenario, the seeds, the versions, times,
status and failures. :func:`read_manifest` refuses, in one line, a file that is not the JSON
object sco-sim writes; :func:`check_resumable` refuses to resume a batch with another design:
another experiment, an edited experiment file, another ``texts`` setting, a changed posterior
file, or an arm whose resolved scenario (its file, a file it ``extends``, its overrides)
changed since the batch started.
"""

from __future__ import annotations

import hashlib
import json
import platform
import subprocess
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sim.errors import StoreError
from sim.files import read_json
from sim.version import __version__

MANIFEST = "manifest.json"


def now() -> str:
    """The time now, UTC, to the second (ISO 8601)."""
    return datetime.now(UTC).isoformat(timespec="seconds")


def _git_revision() -> str:
    try:
        root = Path(__file__).resolve().parents[2]
        out = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True, timeout=5
        )
        if out.returncode == 0:
            dirty = subprocess.run(
                ["git", "status", "--porcelain", "--untracked-files=no"],
                cwd=root,
                capture_output=True,
                text=True,
                timeout=5,
            )
            return out.stdout.strip() + ("-dirty" if dirty.stdout.strip() else "")
    except (OSError, subprocess.SubprocessError):
        pass
    return "unknown"


def versions() -> dict[str, str]:
    """Versions of Python, Mesa, numpy, pandas and sco-sim, and the git revision."""
    import mesa
    import numpy
    import pandas

    return {
        "python": platform.python_version(),
        "mesa": mesa.__version__,
        "numpy": numpy.__version__,
        "pandas": pandas.__version__,
        "sco_sim": __version__,
        "git_revision": _git_revision(),
    }


#: the manifest's keys whose type the code relies on, and that type
SHAPE = (
    ("experiment", dict, "an object"),
    ("versions", dict, "an object"),
    ("failures", list, "a list of objects"),
    ("resumed", list, "a list of objects"),
    ("repairs", list, "a list of objects"),
)


def read_manifest(folder: Path, advice: str = "") -> dict[str, Any]:
    """Read a results folder's manifest, or raise StoreError in one line (unreadable, or not its shape)."""
    tail = f"; {advice}" if advice else ""
    try:
        manifest = read_json(folder / MANIFEST, StoreError, "the manifest of a results folder")
    except StoreError as exc:
        raise StoreError(str(folder), f"has an unreadable manifest.json ({exc.message}){tail}") from None
    if not isinstance(manifest, dict):
        raise StoreError(str(folder), f"has a manifest.json that is not a JSON object{tail}")
    for key, kind, expected in SHAPE:
        value = manifest.get(key, None if key == "experiment" else kind())
        if not isinstance(value, kind) or (kind is list and not all(isinstance(v, dict) for v in value)):
            raise StoreError(
                str(folder),
                f"has a manifest.json whose '{key}' is not {expected} "
                f"(not written by sco-sim, or edited){tail}",
            )
    return manifest


def resume_command(folder: str | Path, manifest: dict[str, Any] | None) -> str:
    """The command that resumes the batch stored in ``folder``, as far as the manifest tells."""
    experiment = (manifest or {}).get("experiment", {})
    command = "sensitivity" if "sensitivity" in experiment else "batch"
    file = experiment.get("file") or "EXPERIMENT"
    tail = str(experiment.get("hash", "")).rsplit("-r", 1)
    again = f" --replications {tail[1]}" if len(tail) == 2 and tail[1].isdigit() else ""
    ablation = experiment.get("ablation")
    if isinstance(ablation, dict):  # one configuration of `sco-sim ablate`, in a folder of the ablation's
        only = f" --only {ablation.get('configuration')}"
        return f"sco-sim ablate {file} --out {Path(folder).parent}{again}{only} --resume"
    return f"sco-sim {command} {file} --out {folder}{again} --resume"


# Resuming ------------------------------------------------------------------------------


def scenario_file(arm: str, point: int, draw: int | None = None) -> str:
    """The name of a stored resolved scenario: ``ARM-POINT.json``, or ``ARM-POINT-drawD.json`` at a draw."""
    return f"{arm}-{point}.json" if draw is None else f"{arm}-{point}-draw{draw}.json"


def arm_points(design: Any) -> dict[tuple[str, int, int | None], Any]:
    """The resolved scenario of every arm, sweep point and posterior draw (or None), in run order."""
    scenarios: dict[tuple[str, int, int | None], Any] = {}
    for run_spec in design.runs:
        scenarios.setdefault((run_spec.arm, run_spec.point, run_spec.draw), run_spec.scenario)
    return scenarios


def scenarios_hash(design: Any) -> str:
    """SHA-256 over every arm and sweep point's resolved scenario (``extends``, overrides applied).

    A posterior draw is hashed with its cell; without draws the hash is what it was before.
    """
    from sim.experiments.design import scenario_digest

    digest = hashlib.sha256()
    for (arm, point, draw), scenario in arm_points(design).items():
        cell = [arm, point] if draw is None else [arm, point, draw]
        digest.update(json.dumps([*cell, scenario_digest(scenario)]).encode())
    return digest.hexdigest()


def changed_scenario(folder: Path, design: Any) -> tuple[str, int, int | None] | None:
    """The first arm, point and draw whose stored scenario (``scenarios/...json``) is not the design's."""
    for (arm, point, draw), scenario in arm_points(design).items():
        try:
            stored = json.loads((folder / "scenarios" / scenario_file(arm, point, draw)).read_text())
        except (OSError, ValueError):
            continue
        if stored != json.loads(json.dumps(scenario.to_dict(), default=str)):
            return arm, point, draw
    return None


def check_resumable(
    folder: Path, manifest: dict[str, Any], design: Any, resume: bool, hashed: str | None = None
) -> None:
    """Raise StoreError unless the batch in ``folder`` may be resumed with ``design``.

    Args:
        folder: The results folder.
        manifest: Its manifest (as :func:`read_manifest` returns it).
        design: The design to resume with.
        resume: Whether --resume was given.
        hashed: :func:`scenarios_hash` of ``design``, if already known.

    """
    where, stored = str(folder), manifest["experiment"]
    texts = bool(getattr(design.experiment, "texts", False))
    if stored.get("name") != design.experiment.name:
        raise StoreError(
            where,
            f"holds results of experiment '{stored.get('name')}', "
            f"not '{design.experiment.name}'; choose another --out folder",
        )
    if not resume:
        raise StoreError(
            where,
            "already holds results of this experiment; add --resume to complete them, "
            "or choose another --out folder",
        )
    if stored.get("hash") != design.file_hash:
        raise StoreError(
            where,
            "the experiment (its file, or --replications) has changed since this batch started, "
            "so --resume would mix two designs; resume with the same file and options, "
            "or run the new design into another --out folder",
        )
    if bool(stored.get("texts", False)) != texts:
        # the hash covers the file; this also catches a design whose texts was changed in Python
        raise StoreError(
            where,
            f"this batch was started with texts = {str(not texts).lower()}, so --resume with "
            f"texts = {str(texts).lower()} would store the texts table for only some runs; "
            "resume with the same setting, or run into another --out folder",
        )
    _check_posterior(where, stored.get("posterior"), getattr(design, "posterior", None))
    _check_scenarios(folder, manifest.get("scenarios_hash"), design, hashed or scenarios_hash(design))


def _check_posterior(where: str, stored: Any, posterior: Any) -> None:
    """Refuse to resume if the posterior file (its bytes) or its choice of draws changed."""
    if stored is None and posterior is None:
        return
    now = posterior.describe() if posterior is not None else None
    if isinstance(stored, dict) and now is not None and stored.get("sha256") != now["sha256"]:
        raise StoreError(
            where,
            f"the posterior file {now['file']} has changed since this batch started (SHA-256 "
            f"{str(stored.get('sha256'))[:12]}... then, {now['sha256'][:12]}... now), so --resume would mix "
            "runs at two posteriors; restore the file, or run into another --out folder",
        )
    if not isinstance(stored, dict) or now is None or stored.get("draws") != now["draws"]:
        raise StoreError(
            where,
            "this batch was started with other posterior draws (another [posterior] table), so --resume "
            "would mix two designs; resume with the same file and options, or run into another --out folder",
        )


def _check_scenarios(folder: Path, stored: Any, design: Any, hashed: str) -> None:
    """Refuse to resume if an arm's resolved scenario differs from the one the batch started with.

    The experiment's hash covers only the experiment file; an arm's scenario file, or a
    file it extends, may have been edited since (before any of the arm's runs were stored).
    """
    if stored == hashed:
        return
    changed = changed_scenario(folder, design)
    if changed is None and stored is None:
        return  # a folder from before scenarios were hashed, whose stored scenarios all agree
    what = "the resolved scenario of an arm"
    if changed is not None:
        arm, point, draw = changed
        source = design.experiment.arms[arm].scenario
        sweep = f" at sweep point {point}" if len(design.points) > 1 else ""
        sweep += f" at posterior draw {draw}" if draw is not None else ""
        what = f"the resolved scenario of arm '{arm}'{sweep} ({source}, or a file it extends)"
    raise StoreError(
        str(folder),
        f"{what} has changed since this batch started (an edited file, or a sco-sim version that "
        "resolves it differently), so --resume would mix two designs and rerun would find the stored "
        "runs differ; resume with the scenario files as they were, or run into another --out folder",
    )
