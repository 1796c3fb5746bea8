"""Hostile names, paths and nesting (issue 12, classes 4, 5, 6, 11, 12 and part of 14).

Each class is one line naming the file and the key, exit status 2 and no traceback (or the
correct result): nothing is written outside the chosen or default folder, only regular files
of bounded size are read, nesting and extends chains are bounded, messages and charts show
user text literally, and a byte-order mark, numbers in quotes, duplicate poles and circles of
parent areas are handled.
"""

from __future__ import annotations

import os
import signal
from pathlib import Path

import pytest
from matplotlib.text import Text

from sim import files
from sim.cli import main
from sim.errors import InputError, ScenarioError, StoreError, printable
from sim.files import inside, is_safe_name, read_file, safe_name
from sim.scenario import load_scenario

from .conftest import DATA

MINI = (DATA / "mini_experiment.toml").read_text()
SENSITIVITY = (DATA / "mini_sensitivity.toml").read_text()
TEX = "$\\frac{$"  # invalid TeX: mathtext would raise on it (written in TOML as a 'literal string')


def cli(capsys, *argv):
    status = main([str(a) for a in argv])
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def one_line(err: str, *fragments: str) -> str:
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1, err
    assert "Traceback" not in err
    for fragment in fragments:
        assert fragment in lines[0], (fragment, lines[0])
    return lines[0]


@pytest.fixture
def folder(tmp_path, monkeypatch):
    """A working folder two levels down, the current directory (so ../.. stays inside tmp_path)."""
    work = tmp_path / "a" / "b"
    work.mkdir(parents=True)
    (work / "tiny.toml").write_text((DATA / "tiny.toml").read_text())
    monkeypatch.chdir(work)
    return work


def written_outside(tmp_path: Path, work: Path) -> list[Path]:
    """Files under tmp_path that are not under the working folder."""
    return [p for p in tmp_path.rglob("*") if p.is_file() and work not in p.parents]


def experiment(text: str, **replace: str) -> str:
    for old, new in replace.items():
        text = text.replace(old, new)
    return text


@pytest.fixture
def no_hang():
    """Turn a read that would block forever (a named pipe) into a test failure after 20 s."""
    if not hasattr(signal, "SIGALRM"):
        pytest.skip("needs SIGALRM")

    def timeout(*_):
        raise AssertionError("hung reading a named pipe")

    previous = signal.signal(signal.SIGALRM, timeout)
    signal.alarm(20)
    yield
    signal.alarm(0)
    signal.signal(signal.SIGALRM, previous)


@pytest.fixture
def fifo(folder, no_hang):
    if not hasattr(os, "mkfifo"):
        pytest.skip("no named pipes here")
    path = folder / "pipe.toml"
    os.mkfifo(path)
    return path


# 4. Writes outside the output folder ----------------------------------------------------------


def test_safe_name_keeps_safe_names_and_maps_the_rest():
    for name in ("sco8_2017", "h1_functionality", "SCO 10 from 2024", "Қазақстан", "v1.2-final"):
        assert safe_name(name) == name and is_safe_name(name)
    for name, slug in (("../../x", "_.._x"), ("/etc/passwd", "_etc_passwd"), ("..", "unnamed"),
                       (".hidden", "hidden"), ("a\nb\x1b[31m", "a_b_31m"), ("a\\b:c", "a_b_c"), ("", "unnamed")):  # fmt: skip
        assert safe_name(name) == slug
        assert not is_safe_name(name)
    assert len(safe_name("x" * 1000)) == 100


def test_inside_refuses_a_path_that_leaves_the_folder(tmp_path):
    assert inside(tmp_path, "a.json") == tmp_path / "a.json"
    for name in ("../x.json", "/etc/x.json", "a/../../x.json"):
        with pytest.raises(InputError, match="outside the folder"):
            inside(tmp_path, name)
    (tmp_path / "link").symlink_to(tmp_path.parent)
    with pytest.raises(StoreError, match="outside the folder"):
        inside(tmp_path, "link/x.json", StoreError)


@pytest.mark.parametrize("name", ["../../escaped", "/tmp/escaped_abs_sco_sim_test", "..", "a/b"])
def test_run_without_out_writes_only_under_results(capsys, folder, tmp_path, name):
    (folder / "s.toml").write_text(
        (DATA / "tiny.toml").read_text().replace('name = "tiny"', f'name = "{name}"')
    )
    status, out, err = cli(capsys, "run", "s.toml", "--no-chart")
    assert status == 0, err
    assert written_outside(tmp_path, folder) == []
    assert not Path("/tmp/escaped_abs_sco_sim_test").exists()
    (made,) = (folder / "results").iterdir()
    assert made.name == safe_name(name) and (made / "summary.json").is_file()
    assert f"wrote 9 files to results/{made.name}/" in out


@pytest.mark.parametrize("command", ["batch", pytest.param("sensitivity", marks=pytest.mark.slow)])
def test_experiment_name_without_out_writes_only_under_results(capsys, folder, tmp_path, command):
    text = MINI if command == "batch" else SENSITIVITY
    name = "mini" if command == "batch" else "mini_sensitivity"
    (folder / "e.toml").write_text(text.replace(f'name = "{name}"', 'name = "../../escaped"', 1)
                                   .replace("replications = 4", "replications = 1"))  # fmt: skip
    status, _, err = cli(capsys, command, "e.toml", "--sequential", "--no-progress")
    assert status == 0, err
    assert written_outside(tmp_path, folder) == []
    assert [p.name for p in (folder / "results").iterdir()] == ["_.._escaped"]


@pytest.mark.parametrize("arm", ["../../../../escaped", "x/y", "/abs", "a\nb", ".hidden", "q$x$"])
def test_unsafe_arm_names_are_refused_before_anything_is_written(capsys, folder, tmp_path, arm):
    escaped = arm.replace("\n", "\\n")
    (folder / "e.toml").write_text(MINI.replace("[arms.qmv]", f'[arms."{escaped}"]').split("[[claims]]")[0])
    status, _, err = cli(capsys, "batch", "e.toml", "--sequential", "--no-progress", "--out", "out")
    assert status == 2
    one_line(err, "e.toml", "key 'arms.", "part of file names")
    assert not (folder / "out").exists()
    assert written_outside(tmp_path, folder) == []


def test_a_fresh_batch_that_cannot_write_leaves_no_half_made_folder(capsys, folder, monkeypatch):
    from sim.experiments import store

    def full(path, text):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(store, "write_text", full)
    status, _, err = cli(capsys, "batch", DATA / "mini_experiment.toml", "--sequential", "--out", "x/out")
    assert status == 2
    one_line(err, "x/out", "the disk is full", "nothing was kept")
    assert not (folder / "x").exists()
    (folder / "empty").mkdir()
    status, _, err = cli(capsys, "batch", DATA / "mini_experiment.toml", "--sequential", "--out", "empty")
    assert status == 2
    assert (folder / "empty").is_dir() and not any((folder / "empty").iterdir())


# 5. Paths not checked to be regular files ---------------------------------------------------


def test_extends_a_device_is_refused_without_reading_it(capsys, folder, no_hang):
    if not Path("/dev/zero").exists():
        pytest.skip("no /dev/zero")
    (folder / "z.toml").write_text('extends = "/dev/zero"\nname = "z"\n')
    status, _, err = cli(capsys, "check", "z.toml")
    assert status == 2
    one_line(err, "/dev/zero", "not a regular file")


@pytest.mark.parametrize(
    "argv",
    [
        ["check", "pipe.toml"],
        ["check", "child.toml"],
        ["run", "pipe.toml"],
        ["batch", "pipe.toml"],
        ["batch", "arm.toml"],
        ["sensitivity", "pipe.toml"],
        ["bargain", "pipe.toml"],
        ["bargain-bench", "pipe.toml"],
        ["validate", "pipe.toml"],
        ["calibrate", "pipe.toml"],
    ],
)
def test_a_named_pipe_is_refused_not_waited_on(capsys, folder, fifo, argv):
    (folder / "child.toml").write_text('extends = "pipe.toml"\nname = "c"\n')
    (folder / "arm.toml").write_text(MINI.replace('scenario = "tiny.toml"', 'scenario = "pipe.toml"', 1))
    status, _, err = cli(capsys, *argv)
    assert status == 2
    one_line(err, "pipe.toml", "not a regular file")


def test_a_named_pipe_as_data_table_or_manifest(capsys, folder, fifo):
    from sim.errors import DataError
    from sim.scenario import datasets

    with pytest.raises(DataError, match="not a regular file"):
        datasets.csv_rows(str(fifo))
    results = folder / "results_folder"
    results.mkdir()
    os.mkfifo(results / "manifest.json")
    for command in ("compare", "plot", "report"):
        status, _, err = cli(capsys, command, results)
        assert status == 2
        one_line(err, "results_folder")
    status, _, err = cli(capsys, "sensitivity", results, "--analyze-only")
    assert status == 2


@pytest.mark.parametrize("where", ["extends", "arm", "check"])
def test_a_symlink_loop_is_one_line(capsys, folder, where):
    os.symlink("loop2.toml", folder / "loop1.toml")
    os.symlink("loop1.toml", folder / "loop2.toml")
    (folder / "child.toml").write_text('extends = "loop1.toml"\nname = "c"\n')
    (folder / "arm.toml").write_text(MINI.replace('scenario = "tiny.toml"', 'scenario = "loop1.toml"', 1))
    argv = {
        "extends": ["check", "child.toml"],
        "arm": ["batch", "arm.toml"],
        "check": ["check", "loop1.toml"],
    }
    status, _, err = cli(capsys, *argv[where])
    assert status == 2
    one_line(err, "loop1.toml", "loop of symbolic links")


def test_files_over_the_size_cap_are_refused_before_reading(capsys, folder, monkeypatch):
    monkeypatch.setattr(files, "MAX_FILE_BYTES", 100)
    status, _, err = cli(capsys, "check", "tiny.toml")
    assert status == 2
    one_line(err, "tiny.toml", "larger than the", "MiB sco-sim reads")
    (folder / "t.csv").write_text("Actor,Capability,Position,Salience\n" + "A,1,50,1\n" * 20)
    status, _, err = cli(capsys, "bargain", "t.csv")
    assert status == 2
    one_line(err, "t.csv", "larger than the")


def test_read_file_reads_regular_files_and_symlinks_to_them(tmp_path):
    (tmp_path / "f.txt").write_bytes(b"abc")
    (tmp_path / "link.txt").symlink_to("f.txt")
    assert read_file(tmp_path / "link.txt", InputError, "a file") == b"abc"
    with pytest.raises(InputError, match="is a folder"):
        read_file(tmp_path, InputError, "a file")
    with pytest.raises(InputError, match="file not found"):
        read_file(tmp_path / "none", InputError, "a file")


# 6. Deep nesting --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "x = " + "[" * 3000 + "]" * 3000 + "\n",  # deeper than tomllib's recursion can go
        "x = " + "[" * 40 + "]" * 40 + "\n",  # parsed, then refused by the depth bound
        "x = " + "{ a = " * 500 + "1" + " }" * 500 + "\n",
        ".".join(["k"] * 2000) + " = 1\n",
    ],
    ids=["array_3000", "array_40", "inline_tables_500", "dotted_key_2000"],
)
@pytest.mark.parametrize("kind", ["scenario", "experiment"])
def test_deep_nesting_is_one_line(capsys, folder, text, kind):
    base = (folder / "tiny.toml").read_text() if kind == "scenario" else MINI
    (folder / "deep.toml").write_text(text + base)
    status, _, err = cli(capsys, "check" if kind == "scenario" else "batch", "deep.toml")
    assert status == 2
    one_line(err, "deep.toml", f"nest more than {files.MAX_DEPTH} levels deep")


def test_deep_overrides_and_sweep_keys_are_one_line(capsys, folder):
    deep: dict = {}
    node = deep
    for _ in range(2000):
        node = node.setdefault("k", {})
    with pytest.raises(ScenarioError, match="nest more than"):
        load_scenario(folder / "tiny.toml", overrides={"parameters": deep})
    key = "parameters." + ".".join(["k"] * 2000)
    (folder / "e.toml").write_text(MINI + f'\n[sweep]\nparameters = {{ "{key}" = {{ values = [1] }} }}\n')
    status, _, err = cli(capsys, "batch", "e.toml")
    assert status == 2
    one_line(err, "e.toml", "nest more than")


def test_a_long_extends_chain_is_one_line(capsys, folder):
    (folder / "c0.toml").write_text((folder / "tiny.toml").read_text())
    for i in range(1, 1001):
        (folder / f"c{i}.toml").write_text(f'extends = "c{i - 1}.toml"\n')
    status, _, err = cli(capsys, "check", "c1000.toml")
    assert status == 2
    one_line(err, "key 'extends'", "extends chain holds more than 16 files", "c1000.toml -> c999.toml")
    assert load_scenario(folder / "c15.toml").name == "tiny"  # 16 files: allowed


# 11. Messages echo raw text ----------------------------------------------------------------------


def test_one_line_escapes_control_characters():
    error = InputError("a\nb.toml", "unknown arm 'x\x1b[2J'\r\n", key="arms.a\u202eb")
    line = error.one_line()
    assert line == "a\\nb.toml: key 'arms.a\\u202eb': unknown arm 'x\\x1b[2J'\\r\\n"
    assert line.isprintable() and str(error) == line
    assert printable("tab\there", keep="\t") == "tab\there"


def test_a_newline_or_escape_in_a_key_stays_on_one_line(capsys, folder):
    text = (
        (folder / "tiny.toml")
        .read_text()
        .replace("polyarchy = 0.1\n", 'polyarchy = 0.1\n"co\\nl\\u001b[31m" = 1\n', 1)
    )
    (folder / "k.toml").write_text(text)
    status, _, err = cli(capsys, "check", "k.toml")
    assert status == 2
    line = one_line(err, "k.toml", "key 'states.CHN.\"co\\nl\\u001b[31m\"'", "unknown key")
    assert "\x1b" not in line


@pytest.mark.parametrize("key", ["co[l", "a.b", "dict[int,x]", "float"])
def test_a_key_with_a_bracket_or_dot_keeps_its_place(capsys, folder, key):
    text = (
        (folder / "tiny.toml").read_text().replace("polyarchy = 0.1\n", f'polyarchy = 0.1\n"{key}" = 1\n', 1)
    )
    (folder / "k.toml").write_text(text)
    status, _, err = cli(capsys, "check", "k.toml")
    assert status == 2
    shown = key if key == "float" else f'"{key}"'  # quoted unless a bare TOML key
    one_line(err, f"key 'states.CHN.{shown}'", "unknown key")


def test_a_key_that_is_a_number_in_a_union_keeps_its_place(capsys, folder):
    text = (folder / "tiny.toml").read_text().replace("capability = 0.05", 'capability = { 2000 = "x" }', 1)
    (folder / "k.toml").write_text(text)
    status, _, err = cli(capsys, "check", "k.toml")
    assert status == 2
    one_line(err, "key 'states.RUS.capability")


def test_escape_sequences_from_a_file_do_not_reach_the_terminal(capsys, folder):
    text = (folder / "tiny.toml").read_text().replace('description = "test fixture"',
                                                     'description = "fixture\\u001b[2J\\u0007"')  # fmt: skip
    (folder / "e.toml").write_text(text)
    status, out, _ = cli(capsys, "check", "e.toml")
    assert status == 0
    assert "fixture\\x1b[2J\\x07" in out and "\x1b" not in out and "\x07" not in out


def test_a_run_id_with_a_newline_is_one_line(capsys, tmp_path):
    out = tmp_path / "res"
    status, _, err = cli(capsys, "batch", DATA / "mini_experiment.toml", "--sequential", "--no-progress",
                         "--replications", 1, "--out", out)  # fmt: skip
    assert status == 0, err
    status, _, err = cli(capsys, "rerun", "abc\ndef\x1b[0m", "--results", out)
    assert status == 2
    one_line(err, "no run with id 'abc\\ndef\\x1b[0m'")


# 12. Text parsed as mathematics ----------------------------------------------------------------


def test_dollars_in_a_scenario_name_and_area_are_drawn_literally(capsys, tmp_path):
    scenario = (DATA / "tiny.toml").read_text()
    scenario = scenario.replace('name = "tiny"', f"name = '{TEX}'").replace(
        "[areas.trade]", f"[areas.'{TEX}']"
    )
    scenario = scenario.replace("salience = { trade = 0.3 }", f"salience = {{ '{TEX}' = 0.3 }}")
    (tmp_path / "tiny.toml").write_text(scenario.replace('parents = ["security"]', "parents = ['security']"))
    status, _, err = cli(capsys, "run", tmp_path / "tiny.toml", "--out", tmp_path / "run")
    assert status == 0, err
    assert (tmp_path / "run" / "outcomes.png").stat().st_size > 0


@pytest.mark.slow
def test_dollars_in_areas_and_claim_labels_are_drawn_literally_in_batch_charts(capsys, tmp_path):
    from sim.charts import batch as batchplots
    from sim.experiments.store import load_results

    scenario = (DATA / "tiny.toml").read_text().replace("[areas.trade]", f"[areas.'{TEX}']")
    (tmp_path / "tiny.toml").write_text(
        scenario.replace("salience = { trade = 0.3 }", f"salience = {{ '{TEX}' = 0.3 }}")
    )
    text = MINI.replace('hypothesis = "H5"', f"hypothesis = 'H5'\nlabel = '{TEX} $x^2$'")
    (tmp_path / "e.toml").write_text(text.replace("replications = 4", "replications = 2"))
    out = tmp_path / "res"
    status, _, err = cli(capsys, "batch", tmp_path / "e.toml", "--sequential", "--no-progress", "--out", out)
    assert status == 0, err
    for command in ("plot", "report"):
        status, _, err = cli(capsys, command, out)
        assert status == 0, err
    figure = batchplots.plot_depth(batchplots.depth_data(load_results(out).tables["model"], ["consensus"]))
    texts = [t.get_text() for t in figure.findobj(Text)]
    assert TEX in texts  # the area's legend entry, as written
    assert all(not t.get_parse_math() for t in figure.findobj(Text) if t.get_text())


def test_every_chart_text_is_literal():
    import pandas as pd

    from sim.charts import run as run_chart
    from sim.charts import style

    data = pd.DataFrame({"year": [2000, 2001], "adopted": [1, 0], "adopted_opt_out": [0, 0], "diluted": [0, 1],
                         "blocked": [0, 0], "deferred": [0, 0], "balancing_index": [0.5, 0.6]})  # fmt: skip
    figure = run_chart.plot_run_outcomes(run_chart.run_outcomes_data(data), title=TEX, focal=TEX)
    try:
        assert figure.axes[0].get_title() == TEX
        assert all(not t.get_parse_math() for t in figure.findobj(Text) if t.get_text())
    finally:
        style.close(figure)


# 14. Byte-order mark, numbers in quotes, duplicate poles, circles of parents -------------------


def test_a_byte_order_mark_is_read(capsys, folder):
    (folder / "bom.toml").write_bytes(b"\xef\xbb\xbf" + (folder / "tiny.toml").read_bytes())
    status, _, err = cli(capsys, "check", "bom.toml")
    assert status == 0, err
    (folder / "bom.csv").write_bytes(b"\xef\xbb\xbfActor,Capability,Position,Salience\nA,1,20,1\nB,1,80,1\n")
    status, _, err = cli(capsys, "bargain", "bom.csv")
    assert status == 0, err
    (folder / "e.toml").write_bytes(b"\xef\xbb\xbf" + MINI.encode())
    from sim.experiments.design import load_experiment

    assert load_experiment(folder / "e.toml").experiment.name == "mini"


@pytest.mark.parametrize(
    ("old", "new", "key", "message"),
    [
        ("security = 0.3, economy", 'security = "0.3", economy', "states.KAZ.weights.security", "got '0.3' (text in quotes)"),
        ("security = 0.3, economy", "security = true, economy", "states.KAZ.weights.security", "expected a number, got true"),
        ("relevance = { security = 0.8,", 'relevance = { security = "0.8",', "areas.security.relevance.security", "text in quotes"),
        ("polyarchy = 0.1", 'polyarchy = "0.1"', "states.CHN.polyarchy", "text in quotes"),
        ("capability = 0.05", 'capability = "0.05"', "states.RUS.capability", "text in quotes"),
        ("end_year = 2005", 'end_year = "2005"', "end_year", "text in quotes"),
        ('label = "Trade"', 'label = "Trade"\nagenda = "true"', "areas.trade.agenda", "expected true or false"),
        ("year = 2002", 'year = "2002"', "events[0].year", "text in quotes"),
    ],
)  # fmt: skip
def test_numbers_written_as_text_are_refused(capsys, folder, old, new, key, message):
    (folder / "s.toml").write_text((folder / "tiny.toml").read_text().replace(old, new, 1))
    status, _, err = cli(capsys, "check", "s.toml")
    assert status == 2
    one_line(err, "s.toml", f"key '{key}'", message)


def test_numbers_written_as_text_in_an_experiment_are_refused(capsys, folder):
    (folder / "e.toml").write_text(MINI.replace("replications = 4", 'replications = "4"'))
    status, _, err = cli(capsys, "batch", "e.toml")
    assert status == 2
    one_line(err, "e.toml", "key 'replications'", "text in quotes")


def test_a_pole_listed_twice_is_refused(capsys, folder):
    (folder / "s.toml").write_text(
        (folder / "tiny.toml").read_text().replace('["RUS", "CHN"]', '["RUS", "CHN", "RUS"]')
    )
    status, _, err = cli(capsys, "check", "s.toml")
    assert status == 2
    one_line(err, "s.toml", "key 'poles'", "'RUS' is listed twice")


@pytest.mark.parametrize("areas", [2, 3])
def test_a_circle_of_parent_areas_is_refused(capsys, folder, areas):
    text = (
        (folder / "tiny.toml")
        .read_text()
        .replace("base_salience = 0.8", 'base_salience = 0.8\nparents = ["trade"]')
    )
    if areas == 3:
        text = text.replace('parents = ["trade"]', 'parents = ["energy"]') + (
            '[areas.energy]\nlabel = "Energy"\nrelevance = { security = 0.1, economy = 0.8, balancing = 0.1, regime = 0.0 }\n'
            'parents = ["trade"]\nbase_salience = 0.5\n'
        )
    (folder / "s.toml").write_text(text)
    status, _, err = cli(capsys, "check", "s.toml")
    assert status == 2
    cycle = "security -> trade -> security" if areas == 2 else "security -> energy -> trade -> security"
    one_line(err, "s.toml", ".parents'", f"parents form a circle: {cycle}")
