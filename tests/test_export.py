"""sco-sim export: a results folder's (or a run's) tables for CSV readers, Stata and R, seeds kept exact."""

from __future__ import annotations

import shutil
import subprocess

import numpy as np
import pandas as pd
import pytest

from sim.cli import main
from sim.experiments.store import load_results
from sim.export import export, stata_names

from .conftest import DATA

LONG = "kazakhstan balancing index, mean over the whole window (2018-2035)"


@pytest.fixture(scope="module")
def batch(tmp_path_factory):
    """The mini experiment, one seed per arm, texts kept (2 runs)."""
    folder = tmp_path_factory.mktemp("export-batch")
    text = (DATA / "mini_experiment.toml").read_text()
    text = text.replace("replications = 4", "replications = 1\ntexts = true")
    text = text.replace('scenario = "tiny.toml"', f'scenario = "{(DATA / "tiny.toml").as_posix()}"')
    (folder / "mini.toml").write_text(text)
    out = folder / "results"
    assert main(["batch", str(folder / "mini.toml"), "--out", str(out), "--sequential", "--no-progress"]) == 0
    return out


@pytest.fixture(scope="module")
def run_folder(tmp_path_factory):
    """A run folder whose model table has columns Stata cannot take as they are."""
    folder = tmp_path_factory.mktemp("export-run") / "run"
    assert main(["run", str(DATA / "tiny.toml"), "--seed", "3", "--out", str(folder), "--no-chart"]) == 0
    model = pd.read_parquet(folder / "model.parquet")
    model[LONG] = model["balancing_index"]
    model["2nd"] = 2.0
    model["big"] = np.array([2**62 + 1] * len(model), dtype=np.int64)
    model["odd"] = np.inf
    model["note"] = "x" * 3000
    model.to_parquet(folder / "model.parquet", index=False)
    return folder


def cli(capsys, *argv):
    status = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return status, out, err


def test_csv_export_of_a_batch_keeps_seeds_and_run_ids_exact_as_text(batch, tmp_path, capsys):
    status, out, _ = cli(capsys, "export", batch, "--format", "csv", "--out", tmp_path / "csv")
    assert status == 0
    assert out.splitlines()[:3] == [
        f"exported {batch} as csv into {tmp_path / 'csv'}/:",
        "  summaries.csv  2 rows",
        "  model.csv      12 rows",
    ]
    assert "seeds and run ids are written as text" in out
    stored = load_results(batch)
    assert sorted(p.name for p in (tmp_path / "csv").iterdir()) == [
        "columns.csv", "decisions.csv", "model.csv", "states.csv", "summaries.csv", "texts.csv",
    ]  # fmt: skip
    for table in ("summaries", "model", "texts"):
        written = pd.read_csv(tmp_path / "csv" / f"{table}.csv", dtype={"seed": str, "run_id": str})
        assert list(written["seed"]) == [str(s) for s in stored.tables[table]["seed"]]
        assert list(written["run_id"]) == list(stored.tables[table]["run_id"])
        assert len(written) == len(stored.tables[table])
    assert max(int(s) for s in stored.summaries["seed"]) > 2**53  # the case the text is for
    columns = pd.read_csv(tmp_path / "csv" / "columns.csv")
    types = columns.set_index(["table", "column"])["type"]
    assert types["summaries", "seed"] == "text" and types["summaries", "run_index"] == "integer"
    assert types["model", "consensus_rate"] == "number" and types["texts", "objected"] == "true/false"


def test_stata_export_of_a_batch_reads_back_with_exact_seeds(batch, capsys):
    status, out, _ = cli(capsys, "export", batch, "--format", "stata")
    assert status == 0 and f"into {batch / 'export-stata'}/:" in out and "note:" not in out
    stored = load_results(batch)
    for table in ("summaries", "model", "states", "decisions", "texts"):
        back = pd.read_stata(batch / "export-stata" / f"{table}.dta")
        assert list(back["seed"]) == [str(s) for s in stored.tables[table]["seed"]], table
        assert list(back.columns) == list(stored.tables[table].columns)
        assert len(back) == len(stored.tables[table])
    back = pd.read_stata(batch / "export-stata" / "decisions.dta")
    pd.testing.assert_series_equal(
        back["proposed"], stored.decisions["proposed"], check_dtype=False, check_names=False
    )


def test_stata_names_labels_big_integers_infinity_and_long_text(run_folder, tmp_path):
    result = export(run_folder, "stata", out=tmp_path / "dta")
    with pd.io.stata.StataReader(tmp_path / "dta" / "model.dta") as reader:
        back = reader.read()
        labels = reader.variable_labels()
    renamed = "kazakhstan_balancing_index__mean"
    assert renamed in back and "_2nd" in back
    assert labels[renamed] == LONG[:80] and labels["_2nd"] == "2nd"
    assert (back[renamed] == back["balancing_index"]).all()
    assert list(back["big"]) == [str(2**62 + 1)] * len(back)  # text, not a rounded double
    assert back["odd"].isna().all() and (back["note"] == "x" * 3000).all()  # strL
    notes = "\n".join(result.notes)
    assert f"model: column '{LONG}' is written as Stata variable '{renamed}'" in notes
    assert "model: column 'big' holds integers beyond 2**53, written as text" in notes
    assert "model: column 'odd' holds infinite values, written as missing" in notes
    summary = pd.read_stata(tmp_path / "dta" / "summary.dta")
    assert summary.loc[0, "seed"] == "3" and summary.loc[0, "members_at_end"] == "CHN;KAZ;RUS"
    columns = pd.read_csv(tmp_path / "dta" / "columns.csv")
    row = columns[(columns["table"] == "model") & (columns["column"] == LONG)].iloc[0]
    assert row["stata_name"] == renamed and row["type"] == "number"


def test_stata_names_are_valid_and_distinct():
    notes: list[str] = []
    names = stata_names(["a" * 40, "a" * 41, "if", "str12", "x-y", "ok", "_N"], "t", notes)
    assert names["a" * 40] == "a" * 32 and names["a" * 41] == "a" * 30 + "_2"
    assert names["if"] == "_if" and names["str12"] == "_str12" and names["x-y"] == "x_y"
    assert names["ok"] == "ok" and names["_N"] == "__N" and len(notes) == 6
    assert all(len(n) <= 32 for n in names.values())


def test_r_export_writes_the_csv_files_and_a_script_that_reads_ids_as_text(batch, tmp_path, capsys):
    status, out, _ = cli(capsys, "export", batch, "--format", "r", "--out", tmp_path / "r")
    assert status == 0 and "load.R" in out
    script = (tmp_path / "r" / "load.R").read_text()
    assert (
        'summaries = read("summaries", c("run_id" = "character", "arm" = "character", "seed" = "character"'
        in script
    )
    assert '"objected" = "logical"' in script and "na.strings = character(0)" in script
    assert (tmp_path / "r" / "summaries.csv").is_file()
    if shutil.which("Rscript"):  # where R is installed, the script runs and keeps the seeds exact
        code = f'source("{(tmp_path / "r" / "load.R").as_posix()}"); t <- load_sco_sim(); cat(t$summaries$seed, sep="\\n")'
        proc = subprocess.run(["Rscript", "-e", code], capture_output=True, text=True, check=True)
        assert proc.stdout.split() == [str(s) for s in load_results(batch).summaries["seed"]]


def test_an_export_is_refused_where_it_would_replace_or_mix_files(batch, run_folder, tmp_path, capsys):
    out = tmp_path / "out"
    assert cli(capsys, "export", batch, "--format", "csv", "--out", out)[0] == 0
    (out / "mine.txt").write_text("kept")
    status, _, err = cli(capsys, "export", batch, "--format", "csv", "--out", out)
    assert status == 2 and err.count("\n") == 1
    assert f"error: {out}: is not empty (columns.csv, decisions.csv, mine.txt and 4 more); add --force" in err
    # --force replaces an earlier export's files (a table this export lacks goes) and leaves others
    assert cli(capsys, "export", run_folder, "--format", "csv", "--out", out, "--force")[0] == 0
    assert not (out / "summaries.csv").exists() and (out / "summary.csv").exists()
    assert (out / "mine.txt").read_text() == "kept"
    for target, message in (
        (batch, "is the folder being exported"),
        (run_folder, "is a results or run folder; an export is never written into one"),
        (DATA / "tiny.toml", "is a file, not a folder; choose another --out"),
    ):
        status, _, err = cli(capsys, "export", batch, "--format", "csv", "--out", target, "--force")
        assert status == 2 and message in err and err.count("\n") == 1, err
    for source, message in (
        (
            DATA / "tiny.toml",
            "is a file, not a folder; expected a results folder of `sco-sim batch` or a run",
        ),
        (tmp_path / "nowhere", "does not exist; expected a results folder"),
        (tmp_path, "is neither a results folder (no manifest.json) nor a run folder"),
    ):
        status, _, err = cli(capsys, "export", source, "--format", "r", "--out", tmp_path / "x")
        assert status == 2 and message in err and err.count("\n") == 1, err
    assert not (tmp_path / "x").exists()


def test_an_export_never_writes_through_a_link_out_of_its_folder(batch, tmp_path, capsys):
    outside = tmp_path / "outside.csv"
    outside.write_text("precious")
    out = tmp_path / "out"
    out.mkdir()
    (out / "model.csv").symlink_to(outside)
    status, _, err = cli(capsys, "export", batch, "--format", "csv", "--out", out, "--force")
    assert status == 2 and "would be written outside the folder" in err
    assert outside.read_text() == "precious"
