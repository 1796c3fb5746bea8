"""The thin command line: a table of commands, help without heavy imports, shared batch handling."""

from __future__ import annotations

import subprocess
import sys

import pytest

from sim.cli import main

from .conftest import DATA

HEAVY = ("mesa", "pandas", "matplotlib", "numpy", "scipy", "pyarrow")
SHOW_IMPORTS = """
import contextlib, io, sys
from sim.cli import main
with contextlib.redirect_stdout(io.StringIO()):
    try:
        main(sys.argv[1:])
    except SystemExit:
        pass
print(" ".join(sorted({name.split(".")[0] for name in sys.modules})))
"""


@pytest.mark.parametrize(
    "command",
    [
        None,
        "run",
        "batch",
        "sensitivity",
        "ablate",
        "bench",
        "validate",
        "calibrate",
        "narrate",
        "dashboard",
        "discover",
        "export",
    ],
)
def test_help_loads_no_heavy_library(command):
    """`sco-sim --help` (and a command's help) is instant: the handlers import the library when they run."""
    args = [*([command] if command else []), "--help"]
    proc = subprocess.run([sys.executable, "-c", SHOW_IMPORTS, *args], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    loaded = set(proc.stdout.split())
    assert "sim" in loaded
    assert loaded.isdisjoint(HEAVY), sorted(loaded & set(HEAVY))


def test_every_command_is_in_the_table_once_and_parses_to_its_handler():
    from sim.cli import COMMANDS, build_parser

    names = [command.name for command in COMMANDS]
    assert len(names) == len(set(names)) == 19
    assert build_parser().parse_args(["rules"]).handler is COMMANDS[names.index("rules")].handler
    args = build_parser().parse_args(["compare", "somewhere"])
    assert args.results == "somewhere" and args.handler is COMMANDS[names.index("compare")].handler


def test_a_usage_error_is_one_line_with_exit_2(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["run", "x.toml", "--seed", "-1"])
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert err.strip().count("\n") == 0
    assert "expected a non-negative integer, got -1 (see sco-sim run --help)" in err


def test_python_dash_m_sim_cli_is_the_same_command():
    proc = subprocess.run([sys.executable, "-m", "sim.cli", "--version"], capture_output=True, text=True)
    assert proc.returncode == 0 and proc.stdout.startswith("sco-sim ")


@pytest.mark.parametrize("command", ["batch", "sensitivity"])
def test_an_interrupted_batch_says_how_to_resume_with_exit_130(command, tmp_path, monkeypatch, capsys):
    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr("sim.experiments.batch.run_batch", interrupted)
    name = "mini_experiment.toml" if command == "batch" else "mini_sensitivity.toml"
    out = tmp_path / "out"
    assert main([command, str(DATA / name), "--out", str(out), "--sequential", "--no-progress"]) == 130
    err = capsys.readouterr().err
    assert f"interrupted: 0 finished runs are stored in {out}/; continue with: sco-sim {command} " in err
    assert err.rstrip().endswith(f"--out {out} --resume")
