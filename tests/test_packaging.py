"""What a user installs and cites: the packages the wheel holds, and CITATION.cff kept in step."""

from __future__ import annotations

import tomllib
from fnmatch import fnmatchcase

import yaml

from sim.version import __version__

from .conftest import ROOT

PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())


def test_every_folder_of_the_package_is_a_package_setuptools_installs():
    """A folder under sim/ that setuptools' discovery leaves out (sim/data, say) warns on install.

    ``[tool.setuptools.packages.find]`` in pyproject.toml finds namespace packages (folders without
    ``__init__.py``, such as sim/data) whose dotted names match ``include`` and not ``exclude``
    (fnmatch patterns, as setuptools reads them).
    """
    find = PYPROJECT["tool"]["setuptools"]["packages"]["find"]
    assert find.get("namespaces", True)
    folders = {
        ".".join(path.relative_to(ROOT).parts)
        for path in [ROOT / "sim", *(ROOT / "sim").rglob("*")]
        if path.is_dir() and path.name != "__pycache__" and any(p.is_file() for p in path.iterdir())
    }
    found = {
        name
        for name in folders
        if any(fnmatchcase(name, p) for p in find["include"])
        and not any(fnmatchcase(name, p) for p in find.get("exclude", ()))
    }
    assert "sim.data" in folders
    assert folders == found, sorted(folders - found)
    data = PYPROJECT["tool"]["setuptools"]["package-data"]["sim"]
    assert "data/*.csv" in data and "data/*.md" in data


def test_the_citation_file_names_the_version_the_licence_and_the_thesis():
    cff = yaml.safe_load((ROOT / "CITATION.cff").read_text(encoding="utf-8"))
    assert cff["cff-version"] == "1.2.0"
    assert {"message", "title", "authors"} <= set(cff)
    assert cff["version"] == __version__
    assert cff["license"] == PYPROJECT["project"]["license"]
    (thesis,) = [ref for ref in cff["references"] if ref["type"] == "thesis"]
    assert thesis["authors"] == [{"family-names": "Janibekov", "given-names": "Dulat"}]
    assert thesis["institution"]["name"] == "Seoul National University" and thesis["year"] == 2018
    title = "Integration processes in Central Asia: Kazakhstan and the Shanghai Cooperation Organization"
    assert thesis["title"] == title
    assert f"*{title}*" in (ROOT / "README.md").read_text().replace("\n", " ")
