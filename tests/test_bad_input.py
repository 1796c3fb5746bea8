"""Every bad-input case gets one line naming the file and key, exit status 2, no traceback."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from sim.cli import main
from sim.errors import ScenarioError
from sim.scenario import load_scenario

WEIGHTS_KAZ = "weights = { security = 0.3, economy = 0.25, balancing = 0.3, regime = 0.15 }"


def cli(capsys, *argv):
    status = main(list(argv))
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def check_one_line(err: str, *fragments: str) -> None:
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1, err
    assert "Traceback" not in err
    for fragment in fragments:
        assert fragment in lines[0], (fragment, lines[0])


CASES = {
    # name: (edit to the tiny scenario, fragments expected in the message)
    "toml_syntax": (lambda t: t.replace('name = "tiny"', 'name = "tiny'), ["TOML syntax error", "line 2"]),
    "unknown_key": (lambda t: t.replace("polyarchy = 0.1\n", 'polyarchy = 0.1\ncolour = "red"\n'),
                    ["states.CHN.colour", "unknown key", "allowed keys here"]),
    "missing_key": (lambda t: t.replace("polyarchy = 0.1\n", ""), ["states.CHN.polyarchy", "missing required key"]),
    "negative_weight": (lambda t: t.replace(WEIGHTS_KAZ, WEIGHTS_KAZ.replace("security = 0.3", "security = -0.3")),
                        ["states.KAZ.weights.security", ">= 0"]),
    "non_numeric_weight": (lambda t: t.replace(WEIGHTS_KAZ, WEIGHTS_KAZ.replace("security = 0.3", 'security = "high"')),
                           ["states.KAZ.weights.security", "expected a number", "'high'"]),
    "weights_not_summing": (lambda t: t.replace(WEIGHTS_KAZ, WEIGHTS_KAZ.replace("security = 0.3", "security = 0.2")),
                            ["states.KAZ.weights", "sum to 0.9000", "expected 1", "normalize_weights"]),
    "event_undeclared_state": (lambda t: t + '[[events]]\nyear = 2003\nlabel = "x"\nthreat = { UZB = { RUS = 0.1 } }\n',
                               ["events[1].threat.UZB", "'UZB' is not declared"]),
    "event_year_outside_run": (lambda t: t.replace("year = 2002", "year = 2010"),
                               ["events[0].year", "2010 is outside the run 2000-2005"]),
    "unknown_rule": (lambda t: t + '[rules]\ndecision_rule = "majority"\n',
                     ["rules.decision_rule", "unknown decision rule 'majority'", "consensus"]),
    "unknown_area_in_event": (lambda t: t.replace("salience = { trade = 0.3 }", "salience = { finance = 0.3 }"),
                              ["events[0].salience.finance", "unknown issue area"]),
    "wrong_status": (lambda t: t.replace('status = { 2000 = "member" }', 'status = { 2000 = "full" }', 1),
                     ["states.RUS.status.2000", "expected one of"]),
}  # fmt: skip


@pytest.mark.parametrize("case", sorted(CASES))
@pytest.mark.parametrize("command", ["check", "run"])
def test_bad_scenario_gives_one_line(case, command, capsys, write, tiny_text, tmp_path):
    edit, fragments = CASES[case]
    path = write(edit(tiny_text), name=f"{case}.toml")
    argv = [command, str(path)] + (["--out", str(tmp_path / "out")] if command == "run" else [])
    status, _out, err = cli(capsys, *argv)
    assert status == 2
    check_one_line(err, f"{case}.toml", *fragments)
    assert not (tmp_path / "out").exists()


def test_extends_missing_file(capsys, write):
    path = write('extends = "nowhere.toml"\nname = "x"\n', name="child.toml")
    status, _, err = cli(capsys, "check", str(path))
    assert status == 2
    check_one_line(err, "child.toml", "extends", "nowhere.toml", "does not exist")


def test_extends_cycle(capsys, write):
    write('extends = "b.toml"\nname = "a"\n', name="a.toml")
    path = write('extends = "a.toml"\nname = "b"\n', name="b.toml")
    status, _, err = cli(capsys, "check", str(path))
    assert status == 2
    check_one_line(err, "extends", "cycle", "a.toml", "b.toml")


def test_self_extends_is_a_cycle(write):
    path = write('extends = "self.toml"\nname = "s"\n', name="self.toml")
    with pytest.raises(ScenarioError, match="cycle"):
        load_scenario(path)


@pytest.mark.parametrize("command", ["check", "run"])
def test_missing_path(capsys, tmp_path, command):
    status, _, err = cli(capsys, command, str(tmp_path / "absent.toml"))
    assert status == 2
    check_one_line(err, "absent.toml", "file not found")


def test_folder_instead_of_file(capsys, tmp_path):
    status, _, err = cli(capsys, "check", str(tmp_path))
    assert status == 2
    check_one_line(err, str(tmp_path), "is a folder")


def test_unreadable_file(capsys, write, tiny_text, monkeypatch):
    path = write(tiny_text, name="locked.toml")

    real_open = os.open

    def deny(file, *args, **kwargs):  # every file is read through sim.files.read_file's os.open
        if Path(file) == path:
            raise PermissionError(13, "Permission denied")
        return real_open(file, *args, **kwargs)

    monkeypatch.setattr(os, "open", deny)
    status, _, err = cli(capsys, "check", str(path))
    assert status == 2
    check_one_line(err, "locked.toml", "permission denied")


def test_binary_file(capsys, write):
    path = write("", name="binary.toml")
    path.write_bytes(b"\xff\xfe\x00garbage")
    status, _, err = cli(capsys, "check", str(path))
    assert status == 2
    check_one_line(err, "binary.toml", "not UTF-8")


def test_error_in_parent_names_the_parent_file(capsys, write, tiny_text):
    write(tiny_text.replace("polyarchy = 0.1\n", 'polyarchy = "low"\n'), name="parent.toml")
    path = write('extends = "parent.toml"\nname = "child"\n', name="child.toml")
    status, _, err = cli(capsys, "check", str(path))
    assert status == 2
    check_one_line(err, "parent.toml", "states.CHN.polyarchy")


def test_until_outside_run(capsys, tiny_path, tmp_path):
    status, _, err = cli(capsys, "run", str(tiny_path), "--until", "2020", "--out", str(tmp_path / "o"))
    assert status == 2
    check_one_line(err, "--until", "2020", "2000-2005")


def test_negative_seed(capsys, tiny_path):
    with pytest.raises(SystemExit) as exc:
        main(["run", str(tiny_path), "--seed", "-1"])
    assert exc.value.code == 2
    check_one_line(capsys.readouterr().err, "--seed", "non-negative integer")


def test_bad_input_in_a_real_process_has_no_traceback(write, tiny_text):
    path = write(tiny_text.replace("polyarchy = 0.1\n", ""), name="broken.toml")
    proc = subprocess.run([sys.executable, "-m", "sim", "check", str(path)], capture_output=True, text=True)
    assert proc.returncode == 2
    assert proc.stdout == ""
    check_one_line(proc.stderr, "broken.toml", "states.CHN.polyarchy")


def test_end_before_start(capsys, write, tiny_text):
    path = write(tiny_text.replace("end_year = 2005", "end_year = 1999"), name="years.toml")
    status, _, err = cli(capsys, "check", str(path))
    assert status == 2
    check_one_line(err, "years.toml", "key 'end_year'", "1999 is before start_year 2000")


@pytest.mark.parametrize("reserved", ["source", "lineage", "prehistory"])
def test_reserved_keys_are_unknown(capsys, write, tiny_text, reserved):
    path = write(f'{reserved} = "x"\n' + tiny_text, name="reserved.toml")
    status, _, err = cli(capsys, "check", str(path))
    assert status == 2
    check_one_line(err, "reserved.toml", f"key '{reserved}'", "unknown key")


def test_error_in_an_inherited_event_after_drop_events_names_the_right_event(capsys, write, tiny_text):
    parent = tiny_text + (
        '[[events]]\nid = "gone"\nyear = 2003\nlabel = "dropped"\n'
        '[[events]]\nyear = 2004\nlabel = "bad"\ntable = [{ area = "trade", initiator = "XXX", title = "t", ambition = 50.0 }]\n'
    )
    write(parent, name="parent.toml")
    path = write('extends = "parent.toml"\nname = "child"\ndrop_events = ["gone"]\n', name="child.toml")
    status, _, err = cli(capsys, "check", str(path))
    assert status == 2
    check_one_line(err, "parent.toml", "events[2].table[0].initiator", "'XXX'")


def test_undeclared_state_in_item_saliences_names_saliences(capsys, write, tiny_text):
    text = tiny_text.replace(
        "salience = { trade = 0.3 }",
        'table = [{ area = "trade", initiator = "CHN", title = "t", ambition = 50.0, saliences = { XXX = 0.5 } }]',
    )
    status, _, err = cli(capsys, "check", str(write(text, name="sal.toml")))
    assert status == 2
    check_one_line(err, "sal.toml", "events[0].table[0].saliences.XXX")
