"""Old import paths of modules that moved into subpackages in sco-sim 0.2 (kept for one release).

``import sim.compare`` still works and gives the module's new home,
:mod:`sim.analysis.compare`, with a :class:`DeprecationWarning` naming it. Where an old
module was split, its names are looked up in each new home in turn. These paths go in 0.3.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.machinery
import sys
import types
import warnings
from typing import Any

#: old module -> new modules (looked up in order), and whether importing it warns.
MOVED: dict[str, tuple[tuple[str, ...], bool]] = {
    "sim.api": (("sim.model.run", "sim.output"), True),
    "sim.bargain": (("sim.rules.bargain",), True),
    "sim.expected_utility": (("sim.rules.expected_utility",), True),
    "sim.decisiondata": (("sim.rules.decisiondata",), True),
    "sim.datasets": (("sim.scenario.datasets",), True),
    "sim.agents": (("sim.model.agents",), True),
    "sim.agenda": (("sim.model.agenda",), True),
    "sim.balancing": (("sim.model.balancing",), True),
    "sim.membership": (("sim.model.membership",), True),
    "sim.recorder": (("sim.model.recorder",), True),
    "sim.experiment": (
        ("sim.experiments.design", "sim.experiments.schema", "sim.experiments.claims", "sim.errors"),
        True,
    ),
    "sim.runner": (("sim.experiments.batch",), True),
    "sim.rerun": (("sim.experiments.rerun",), True),
    "sim.bench": (("sim.experiments.bench",), True),
    "sim.compare": (("sim.analysis.compare",), True),
    "sim.validation": (("sim.analysis.validation",), True),
    "sim.calibration": (("sim.analysis.calibration",), True),
    "sim.bargainbench": (("sim.analysis.bargainbench",), True),
    "sim.sensitivity": (
        ("sim.analysis.sensitivity", "sim.experiments.sensitivity", "sim.experiments.design"),
        True,
    ),
    "sim.plots": (("sim.charts.run", "sim.charts.style"), True),
    "sim.batchplots": (("sim.charts.batch", "sim.charts.style"), True),
    "sim.sensitivityplots": (("sim.charts.sensitivity",), True),
    # Public and documented (README): `from sim.results import load_results` stays, without a warning.
    "sim.results": (("sim.experiments.store",), False),
}


class _Alias(types.ModuleType):
    """A module whose attributes are those of its new homes."""

    def __init__(self, name: str, homes: tuple[str, ...]) -> None:
        super().__init__(name, f"Moved: see {', '.join(homes)}.")
        self.__homes = homes

    def __getattr__(self, attribute: str) -> Any:
        for home in self.__homes:
            module = importlib.import_module(home)
            if hasattr(module, attribute):
                return getattr(module, attribute)
        raise AttributeError(
            f"module '{self.__name__}' (moved to {', '.join(self.__homes)}) has no '{attribute}'"
        )

    def __dir__(self) -> list[str]:
        return sorted({n for home in self.__homes for n in dir(importlib.import_module(home))})


class _Loader(importlib.abc.Loader):
    def create_module(self, spec: importlib.machinery.ModuleSpec) -> types.ModuleType:
        homes, warn = MOVED[spec.name]
        if warn:
            warnings.warn(
                f"{spec.name} moved to {' and '.join(homes)}; the old path goes in sco-sim 0.3",
                DeprecationWarning,
                stacklevel=_caller_level(),
            )
        if len(homes) == 1:
            return importlib.import_module(homes[0])
        return _Alias(spec.name, homes)

    def exec_module(self, module: types.ModuleType) -> None:
        """Nothing to run: the module is its new home, already imported."""


def _caller_level() -> int:
    """Stack level of the first frame outside the import machinery and this module."""
    frame: types.FrameType | None = sys._getframe(1)
    level = 1
    while frame is not None and (
        frame.f_code.co_filename.startswith("<frozen importlib")
        or frame.f_globals.get("__name__") == __name__
    ):
        frame, level = frame.f_back, level + 1
    return level


class MovedFinder(importlib.abc.MetaPathFinder):
    """Finds the old module paths listed in :data:`MOVED`."""

    def find_spec(
        self,
        fullname: str,
        path: Any = None,  # noqa: ARG002 - the finder protocol's signature
        target: Any = None,  # noqa: ARG002
    ) -> importlib.machinery.ModuleSpec | None:
        """Return a spec for an old path, or ``None`` to let the other finders look."""
        if fullname in MOVED:
            return importlib.machinery.ModuleSpec(fullname, _Loader())
        return None


def install() -> None:
    """Put the finder first on :data:`sys.meta_path` (once)."""
    if not any(isinstance(f, MovedFinder) for f in sys.meta_path):
        sys.meta_path.insert(0, MovedFinder())
