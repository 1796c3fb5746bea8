"""Summit narratives (``sco-sim narrate``, ``RunResult.narrate``) checked against the decision record.

The sentences are read back and compared with the tables of the same run: every dissenter
of the decision log is named with the interest or cost its ``reasons`` entry gives, and with
its loss and tolerance from the ``texts`` table; blocked items name their blockers;
stand-asides are told; a run folder, a run of a batch that kept its texts, and a run of a
batch that did not (rerun by id) tell the same story.
"""

from __future__ import annotations

import math
import re
import shutil
from types import SimpleNamespace

import pandas as pd
import pytest

import sim
from sim.analysis import narrate as folder_narrate
from sim.analysis.narrate import load_run
from sim.cli import main
from sim.experiments.store import load_results
from sim.model.dissent import LOSS_PARTS

from .conftest import DATA, SCENARIOS

SEED = 5
UNTIL = 2021  # SCO-8 2017-2021, seed 5: dissent, stand-asides and five blocked items (the ABC-SMC calibration left seed 3 without a block)


@pytest.fixture(scope="module")
def sco8(tmp_path_factory):
    """A SCO-8 run with texts, its narrative and the folder `sco-sim run --out` writes for it."""
    result = sim.run(SCENARIOS / "sco8_2017.toml", seed=SEED, until=UNTIL, texts=True)
    folder = tmp_path_factory.mktemp("narrate") / "sco8"
    sim.write_run(result, folder, chart=False)
    return result, folder


def bullets(text: str) -> list[tuple[int, str]]:
    """The narrative's bullets as (depth, sentence), wrapped lines joined back together."""
    out: list[list] = []
    for line in text.splitlines():
        stripped = line.lstrip()
        if stripped.startswith("- "):
            out.append([(len(line) - len(stripped)) // 2, stripped[2:]])
        elif stripped and out and line.startswith(" "):
            out[-1][1] += " " + stripped
        else:
            out.append([-1, line])
    return [(depth, sentence) for depth, sentence in out]


def items(text: str) -> dict[int, tuple[str, list[str]]]:
    """Item number -> (the sentence that tables it, the sentences told under it)."""
    told: dict[int, tuple[str, list[str]]] = {}
    current = None
    for depth, sentence in bullets(text):
        if depth == 0:
            current = int(re.search(r"\(item (\d+)[,)]", sentence).group(1))
            told[current] = (sentence, [])
        elif depth == 1:
            told[current][1].append(sentence)
    return told


def codes(cell) -> list[str]:
    return [c for c in str(cell).split(";") if c]


def reasons(cell) -> dict[str, str]:
    return dict(part.split(":") for part in codes(cell))


def test_every_dissenter_is_named_with_its_reason_loss_and_tolerance(sco8):
    result, _ = sco8
    decisions, texts = result.decisions, result.texts
    assert (decisions["dissenters"] != "").sum() >= 8  # the check below has something to check
    for year in sorted(decisions["year"].unique()):
        told = items(result.narrate(int(year)))
        rows = decisions[decisions["year"] == year]
        assert sorted(told) == sorted(rows["item"])  # that year's items, and only those
        for row in rows.itertuples():
            why = reasons(row.reasons)
            assert sorted(why) == sorted(codes(row.dissenters))
            for code in codes(row.dissenters):
                said = [s for s in told[row.item][1] if s.startswith(f"{code} ")]
                assert len(said) == 1, (row.item, code, told[row.item][1])
                mine = texts[(texts["item"] == row.item) & (texts["state"] == code)].set_index("round")
                objected = mine.index[mine["objected"]]
                at = mine.loc[objected[0] if len(objected) else mine.index[0]]
                # the reason of the decision log is the largest part of the loss in the texts table
                assert max(LOSS_PARTS, key=lambda p: at[f"loss_{p}"]) == why[code]
                assert why[code].replace("_", " ") in said[0]
                assert f"{at['loss']:.3f}" in said[0] and f"its tolerance of {at['tolerance']:.3f}" in said[0]


def test_each_item_says_who_tabled_what_how_it_was_redrafted_and_what_was_decided(sco8):
    result, _ = sco8
    told = items(result.narrate())
    for row in result.decisions.itertuples():
        tabled, under = told[row.item]
        assert tabled.startswith(f'{row.initiator} tabled "{row.title}"')
        assert f"at {row.proposed:.1f} against a status quo of {row.status_quo:.1f}" in tabled
        levels = result.texts[result.texts["item"] == row.item].drop_duplicates("round")["text"]
        if row.rounds > 1:
            (redrafted,) = [s for s in under if s.startswith("It was redrafted")]
            assert " -> ".join(f"{x:.1f}" for x in levels) in redrafted
        if not math.isnan(row.adopted):
            assert under[-1].startswith(("Adopted", "Adopted only in diluted form"))
            assert f"at {row.adopted:.1f}" in under[-1]
        if row.outcome == "diluted":
            assert "diluted" in under[-1]


def test_a_blocked_item_names_its_blockers(sco8):
    result, _ = sco8
    blocked = result.decisions[result.decisions["outcome"] == "blocked"]
    assert len(blocked) >= 2
    told = items(result.narrate())
    for row in blocked.itertuples():
        blockers = codes(row.blocked_by)
        assert blockers
        last = told[row.item][1][-1]
        assert last.startswith("Blocked by ") and "the status quo" in last
        for code in blockers:
            assert code in last
            (said,) = [s for s in told[row.item][1] if s.startswith(f"{code} ")]
            assert said.endswith("It still objected to the last text and so blocked the item.")


def test_a_stand_aside_is_told(sco8):
    result, _ = sco8
    aside = result.decisions[result.decisions["stood_aside"] != ""]
    assert len(aside) >= 3
    told = items(result.narrate())
    for row in aside.itertuples():
        last = told[row.item][1][-1]
        assert "standing aside" in last
        for code in codes(row.stood_aside):
            assert code in last.split("with ")[-1]
            (said,) = [s for s in told[row.item][1] if s.startswith(f"{code} ")]
            assert "stood aside from text" in said


def test_each_year_has_a_header_and_one_year_is_its_part_of_the_whole(sco8):
    result, _ = sco8
    whole = result.narrate()
    for year in range(2017, UNTIL + 1):
        one = result.narrate(year)
        assert one.startswith(f"{year} summit: 8 members (CHN, IND, KAZ, KGZ, PAK, RUS, TJK, UZB) decided")
        assert one.rstrip("\n") in whole
    assert whole.count(" summit: ") == UNTIL - 2017 + 1


def test_a_run_without_texts_is_run_again_for_them(sco8):
    result, _ = sco8
    bare = sim.run(SCENARIOS / "sco8_2017.toml", seed=SEED, until=UNTIL)
    assert "texts" not in bare.tables
    assert bare.narrate(2019) == result.narrate(2019)
    assert "texts" not in bare.tables  # the run's own tables are left as they were


def test_the_command_tells_a_run_folder_as_the_run_does(sco8, capsys):
    result, folder = sco8
    assert main(["narrate", str(folder)]) == 0
    out = capsys.readouterr().out
    title, body = out.split("\n\n", 1)
    assert title == f"Run of sco8_2017, seed {SEED}, 2017-{UNTIL} ({folder})"
    assert body == result.narrate()
    assert main(["narrate", str(folder), "--year", "2019"]) == 0
    assert capsys.readouterr().out.split("\n\n", 1)[1] == result.narrate(2019)


def test_a_run_folder_of_csv_files_only_tells_the_same(sco8, tmp_path):
    result, folder = sco8
    csv_only = tmp_path / "csv"
    shutil.copytree(folder, csv_only, ignore=shutil.ignore_patterns("*.parquet"))
    assert load_run(csv_only).narrate() == result.narrate()


def test_a_run_written_without_texts_still_names_dissenters_reasons_and_blockers(sco8, tmp_path):
    result, _ = sco8
    bare = tmp_path / "bare"
    sim.write_run(sim.run(SCENARIOS / "sco8_2017.toml", seed=SEED, until=UNTIL), bare, chart=False)
    record = load_run(bare)
    assert any("--no-texts" in note for note in record.notes)
    told = items(record.narrate())
    for row in result.decisions.itertuples():
        why = reasons(row.reasons)
        for code in codes(row.dissenters):
            (said,) = [s for s in told[row.item][1] if s.startswith(f"{code} dissented")]
            assert why[code].replace("_", " ") in said
        if row.outcome == "blocked":
            assert told[row.item][1][-1].startswith(f"Blocked by {codes(row.blocked_by)[0]}")


def test_accession_steps_and_changes_of_status_are_told():
    over = {"membership": {"mode": "endogenous", "lag_memorandum": 0}}
    scenario = sim.load_scenario(SCENARIOS / "sco6_2017.toml", overrides=over)
    text = sim.run(scenario, seed=0, until=2017, texts=True).narrate(2017)
    assert "and 1 accession step." in " ".join(text.split())
    (step,) = [item for item in items(text).values() if item[0].startswith("Accession step")]
    assert step[0].endswith('the chair tabled "IND+PAK: accession".')
    assert step[1][-1] == "The step was taken (adopted): IND and PAK moved one rung up."
    later = sim.run(SCENARIOS / "sco10_2024.toml", seed=0, until=2024, texts=True)
    assert "IRN observer -> member" in " ".join(later.narrate(2023).split())
    assert "BLR observer -> member" in " ".join(later.narrate(2024).split())


# A batch ----------------------------------------------------------------------------------------


def mini(folder, texts: bool):
    """The mini experiment with one seed per arm (2 runs), keeping texts or not."""
    text = (DATA / "mini_experiment.toml").read_text()
    text = text.replace("replications = 4", f"replications = 1\ntexts = {'true' if texts else 'false'}")
    text = text.replace('scenario = "tiny.toml"', f'scenario = "{(DATA / "tiny.toml").as_posix()}"')
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "mini.toml").write_text(text)
    assert main(["batch", str(folder / "mini.toml"), "--out", str(folder / "results"),
                 "--sequential", "--no-progress"]) == 0  # fmt: skip
    return folder / "results"


@pytest.fixture(scope="module")
def batches(tmp_path_factory):
    root = tmp_path_factory.mktemp("narrate-batch")
    return mini(root / "kept", texts=True), mini(root / "not_kept", texts=False)


def test_a_batch_without_texts_reruns_the_run_and_tells_what_a_batch_with_texts_tells(batches, capsys):
    kept, not_kept = batches
    assert not (not_kept / "texts").exists() and (kept / "texts").is_dir()
    ids = list(load_results(not_kept).summaries["run_id"])
    assert len(ids) == 2 and ids == list(load_results(kept).summaries["run_id"])
    objected = 0
    for run in ids:
        with_texts, rerun = load_run(kept, run), load_run(not_kept, run)
        assert with_texts.notes == []
        assert rerun.notes == ["the batch kept no texts table: rebuilt by rerunning the run, "
                               "which reproduced the stored tables"]  # fmt: skip
        assert rerun.narrate() == with_texts.narrate()
        objected += rerun.narrate().count(" objected to text")
        assert main(["narrate", str(not_kept), "--run", run, "--year", "2002"]) == 0
        out = capsys.readouterr().out
        assert out.startswith(f"Run {run} of {not_kept}: arm ")
        assert out.split("\n\n", 1)[1] == with_texts.narrate(2002)
    assert objected  # the qmv run has objections to tell


def test_a_rerun_that_does_not_reproduce_the_batch_is_not_used(batches, monkeypatch):
    _, not_kept = batches
    run = str(load_results(not_kept).summaries["run_id"].iloc[0])

    differs = SimpleNamespace(identical=False, differing=["decisions"])
    monkeypatch.setattr(folder_narrate, "rerun", lambda *args: differs)
    record = load_run(not_kept, run)
    assert "texts" not in record.tables and "did not reproduce the stored decisions" in record.notes[0]
    assert record.narrate().startswith("2000 summit: 3 members decided")


def one_line_error(capsys, *args) -> str:
    assert main(["narrate", *args]) == 2
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err.count("\n") == 1
    return captured.err


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--year", "2030"], "key '--year': the run has no year 2030; it covers 2017-2021"),
        (["--run", "abc"], "key '--run': is the folder of a single run"),
    ],
)
def test_a_wrong_year_or_run_for_a_run_folder_is_one_line_exit_2(sco8, capsys, args, message):
    _, folder = sco8
    assert message in one_line_error(capsys, str(folder), *args)


def test_an_unknown_or_missing_run_id_of_a_batch_is_one_line_exit_2(batches, capsys):
    _, not_kept = batches
    err = one_line_error(capsys, str(not_kept), "--run", "nope")
    assert "no run with id 'nope' is stored here (for example " in err
    assert "holds 2 runs; choose one with --run ID" in one_line_error(capsys, str(not_kept))
    run = str(load_results(not_kept).summaries["run_id"].iloc[0])
    assert "the run has no year 1999; it covers 2000-2005" in one_line_error(
        capsys, str(not_kept), "--run", run, "--year", "1999"
    )


def test_a_folder_that_is_neither_is_one_line_exit_2(sco8, tmp_path, capsys):
    _, folder = sco8
    assert "is neither a run folder" in one_line_error(capsys, str(tmp_path))
    assert "does not exist" in one_line_error(capsys, str(tmp_path / "missing"))
    assert "is a file, not a folder" in one_line_error(capsys, str(folder / "summary.json"))
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "decisions.parquet").write_text("not parquet")
    assert "has an unreadable decisions table" in one_line_error(capsys, str(broken))


def test_the_narrative_reads_plain_tables(sco8):
    """``sim.model.narrative.narrate`` takes DataFrames: the decision log alone is enough."""
    from sim.model.narrative import narrate

    result, _ = sco8
    alone = narrate({"decisions": result.decisions})
    assert alone.count(" summit: ") == UNTIL - 2017 + 1
    assert isinstance(result.decisions, pd.DataFrame)
