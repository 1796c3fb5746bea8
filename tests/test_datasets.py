"""Data tables: the rebuild script, the loaders, their bad-input messages and the scenario [data] table."""

from __future__ import annotations

import copy
import importlib.util
from importlib import resources
from pathlib import Path

import pytest

import sim
from sim.cli import main
from sim.errors import DataError, ScenarioError
from sim.scenario import datasets, load_scenario

from .conftest import DATA, ROOT, SCENARIOS

EXTRACTS = DATA / "extracts"  # a few states and years of each real extract, values copied unchanged
SHARED = ROOT.parent / "shared" / "data" / "sco"


def _build_script():
    spec = importlib.util.spec_from_file_location(
        "build_data_tables", ROOT / "scripts" / "build_data_tables.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


build = _build_script()


@pytest.fixture(scope="module")
def tables(tmp_path_factory) -> Path:
    """The tables built from the fixture extracts."""
    out = tmp_path_factory.mktemp("tables")
    assert build.main([str(EXTRACTS), "--out", str(out)]) == 0
    return out


def lines(folder: Path, name: str) -> list[str]:
    return (folder / name).read_text().splitlines()


# The rebuild script -----------------------------------------------------------------------------


def test_build_keeps_values_and_drops_rows_without_data(tables):
    cinc = lines(tables, "cinc.csv")
    assert cinc[0] == "iso3,year,cinc"
    assert "KAZ,1996,0.0031709194" in cinc and "CHN,2022,0.23409663" in cinc
    assert not any(line.startswith("KAZ,1990,") for line in cinc)  # cinc -9 (empty) in the source
    unga = lines(tables, "unga_ideal.csv")
    assert "RUS,1996,0.6681799" in unga  # the source writes the year as 1996.0
    assert not any(line.startswith("KAZ,2024,") for line in unga)  # idealpointall empty in 2024
    assert "UZB,2001" not in "\n".join(unga)  # no vote data
    milex = lines(tables, "milex.csv")
    assert milex[0] == "iso3,year,milex_constant_2022_usd_m"
    assert "KAZ,1996,310.2790412271633" in milex and "CHN,1990,23044.614785500482" in milex
    assert not any(line.startswith("KAZ,1990,") for line in milex)  # "..." in the source
    assert len(milex) == 1 + 13  # constant-dollar series only, no share of GDP nor current US$
    gdp = lines(tables, "gdp.csv")
    assert "KAZ,1996,21035357936.8796" in gdp  # one column per year -> one row per year
    assert "polyarchy" in lines(tables, "polyarchy.csv")[0] and "KAZ,1996,0.283" in lines(
        tables, "polyarchy.csv"
    )


def test_build_turns_csto_changes_into_member_years(tables):
    rows = {tuple(line.split(",")[:2]): line.split(",")[2:] for line in lines(tables, "csto.csv")[1:]}
    uzb = {year: rows[("UZB", str(year))][0] for year in (1992, 1998, 1999, 2005, 2006, 2011, 2012, 2024)}
    assert uzb == {1992: "1", 1998: "1", 1999: "0", 2005: "0", 2006: "1", 2011: "1", 2012: "0", 2024: "0"}
    assert rows[("BLR", "1996")] == ["1", "0"]  # joined 1993: a row the extract marks as not verified
    assert rows[("BLR", "2012")] == ["1", "1"]  # confirmed by the verified list of December 2012
    assert rows[("CHN", "2000")] == ["0", "1"]  # every state of the extracts has rows
    assert rows[("ARM", "2024")] == ["0", "0"]  # the unverified 2024 freeze, taken as leaving


def test_build_is_deterministic():
    assert build.build_tables(EXTRACTS) == build.build_tables(EXTRACTS)


@pytest.mark.skipif(not SHARED.is_dir(), reason="../shared/data/sco is not available")
def test_rebuild_from_the_real_extracts_reproduces_the_shipped_tables():
    texts = build.build_tables(SHARED)
    assert {"arms.csv", "trade.csv", "claims.csv"} <= set(texts)  # the ties tables are rebuilt too
    shipped = datasets.shipped_dir()
    assert sorted(texts) == sorted(p.name for p in shipped.iterdir() if p.suffix in (".csv", ".md"))
    for name, text in texts.items():
        assert (shipped / name).read_bytes() == text.encode("utf-8"), name
    assert build.main([str(SHARED), "--check"]) == 0


def test_build_check_reports_a_difference(tmp_path, capsys):
    assert build.main([str(EXTRACTS), "--out", str(tmp_path), "--check"]) == 1
    assert "cinc.csv" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("edit", "fragments"),
    [
        (lambda d: (d / "nmc_v7_abridged_sco_1990_2022.csv").unlink(), ["nmc_v7", "not found"]),
        (
            lambda d: _rewrite(
                d / "csto_membership.csv", "Did not renew treaty (left)", "Argued about the treaty"
            ),
            ["csto_membership.csv", "line 3", "joining or a leaving"],
        ),
        (
            lambda d: _rewrite(d / "democracy_isard_cw_democracy_sco_1990_2025.csv", "v2x_polyarchy", "poly"),
            ["democracy_isard", "v2x_polyarchy"],
        ),
        (
            lambda d: _rewrite(d / "nmc_v7_abridged_sco_1990_2022.csv", "0.0031709194", "n/a"),
            ["nmc_v7", "KAZ cinc", "'n/a'"],
        ),
    ],
)
def test_build_errors_name_the_extract(tmp_path, capsys, edit, fragments):
    folder = tmp_path / "extracts"
    folder.mkdir()
    for path in EXTRACTS.iterdir():
        (folder / path.name).write_bytes(path.read_bytes())
    edit(folder)
    assert build.main([str(folder), "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and len(err.strip().splitlines()) == 1
    for fragment in fragments:
        assert fragment in err, (fragment, err)


def _rewrite(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new, 1))


# Shipped tables -------------------------------------------------------------------------------------


def test_shipped_tables_are_package_data():
    folder = resources.files("sim") / "data"
    for spec in datasets.SOURCES.values():
        assert (folder / spec.file).is_file(), spec.file
    assert "build_data_tables.py" in (folder / "SOURCES.md").read_text()


def test_shipped_tables_cover_the_scenario_states_in_the_scenario_years():
    states = load_scenario(SCENARIOS / "history_1996.toml").state_codes
    for year in (1996, 2017):
        for code in states:
            datasets.polyarchy(code, year)
            datasets.security_tie(code, "RUS", year)
            for pole in ("RUS", "CHN"):
                datasets.alignment(code, pole, year)
    for code in states:
        assert datasets.capability(code, range(1996, 2036))[2035] == datasets.capability(code, [2022])[2022]


# Loaders on the fixture tables ----------------------------------------------------------------------


def test_capability_is_yearly_and_held_after_the_last_year(tables):
    values = datasets.capability("KAZ", [1996, 1997, 2022, 2030], data_dir=tables)
    assert values == {1996: 0.0031709194, 1997: 0.0031481597, 2022: 0.0026634394, 2030: 0.0026634394}
    series = datasets.capability_series("KAZ", 2021, 2035, data_dir=tables)
    assert series == {2021: 0.0027037601, 2022: 0.0026634394}  # the model holds 2022 after
    assert datasets.capability_series("KAZ", 2030, 2035, data_dir=tables) == {2022: 0.0026634394}


def test_alignment_from_ideal_points(tables):
    kaz, rus, chn = 0.5628382, 0.6681799, -1.383685  # idealpointall 1996
    assert datasets.alignment("KAZ", "RUS", 1996, data_dir=tables) == pytest.approx(1 - abs(kaz - rus) / 3)
    assert datasets.alignment("KAZ", "CHN", 1996, data_dir=tables) == pytest.approx(1 - abs(kaz - chn) / 3)
    assert datasets.alignment("RUS", "RUS", 1996, data_dir=tables) == 1.0


def test_polyarchy_security_ties_and_weights(tables):
    assert datasets.polyarchy("KAZ", 1996, data_dir=tables) == 0.283
    assert datasets.security_tie("UZB", "RUS", 1996, data_dir=tables) == 1.0
    assert datasets.security_tie("UZB", "RUS", 2001, data_dir=tables) == 0.0
    assert datasets.security_tie("CHN", "RUS", 1996, data_dir=tables) == 0.0
    with pytest.raises(ValueError, match="tie to RUS"):
        datasets.security_tie("KAZ", "CHN", 1996, data_dir=tables)
    assert datasets.milex("KAZ", 1996, data_dir=tables) == pytest.approx(310.2790412271633)
    group = ["CHN", "KAZ", "RUS", "UZB"]
    shares = [datasets.share("gdp", code, group, 1996, data_dir=tables) for code in group]
    assert sum(shares) == pytest.approx(1.0)
    milex = datasets.capability("KAZ", [1996, 2030], "milex_share", group, data_dir=tables)
    total_1996 = 29002.73551538454 + 310.2790412271633 + 28131.68256248013 + 33.28721483610048
    assert milex[1996] == pytest.approx(310.2790412271633 / total_1996)
    assert milex[2030] == datasets.share("milex", "KAZ", group, 1997, data_dir=tables)  # held after 1997


# Bad input: each message names the file, the state and the year ---------------------------------


def _tables_copy(tables: Path, tmp_path: Path) -> Path:
    folder = tmp_path / "tables"
    folder.mkdir()
    for path in tables.iterdir():
        (folder / path.name).write_bytes(path.read_bytes())
    return folder


def _edit_cinc(folder: Path, old: str, new: str) -> None:
    _rewrite(folder / "cinc.csv", old, new)


BAD_TABLES = {
    # name: (edit of the copied tables, the lookup, fragments of the message besides file/state/year)
    "missing_file": (lambda d: (d / "cinc.csv").unlink(), ("KAZ", 1996), ["not found"]),
    "missing_column": (lambda d: _edit_cinc(d, "iso3,year,cinc", "iso3,year,cinc_share"), ("KAZ", 1996),
                       ["missing column 'cinc'"]),
    "non_numeric_cell": (lambda d: _edit_cinc(d, "KAZ,1996,0.0031709194", "KAZ,1996,high"), ("KAZ", 1996),
                         ["line 8", "expected a number", "'high'"]),
    "empty_cell": (lambda d: _edit_cinc(d, "KAZ,1996,0.0031709194", "KAZ,1996,"), ("KAZ", 1996), ["''"]),
    "bad_year": (lambda d: _edit_cinc(d, "KAZ,1996,", "KAZ,96a,"), ("KAZ", 1997), ["whole-number year", "'96a'"]),
    "duplicate_row": (lambda d: _edit_cinc(d, "KAZ,1997,", "KAZ,1996,"), ("KAZ", 1996), ["a second row"]),
    "state_not_covered": (lambda d: None, ("TKM", 1996), ["TKM is not in this table"]),
    "year_not_covered": (lambda d: None, ("KAZ", 1990), ["this table has KAZ in 1995-1997, 2021-2022"]),
    "year_in_a_gap": (lambda d: None, ("KAZ", 2000), ["this table has KAZ in 1995-1997, 2021-2022"]),
}  # fmt: skip


@pytest.mark.parametrize("case", sorted(BAD_TABLES))
def test_bad_table_names_file_state_and_year(case, tables, tmp_path):
    edit, (iso3, year), fragments = BAD_TABLES[case]
    folder = _tables_copy(tables, tmp_path)
    edit(folder)
    with pytest.raises(DataError) as caught:
        datasets.capability(iso3, [year], data_dir=folder)
    message = str(caught.value)
    assert len(message.splitlines()) == 1
    for fragment in [str(folder / "cinc.csv"), iso3, str(year), *fragments]:
        assert fragment in message, (fragment, message)


def test_a_rewritten_table_is_read_again(tables, tmp_path):
    folder = _tables_copy(tables, tmp_path)
    assert datasets.polyarchy("KAZ", 1996, data_dir=folder) == 0.283
    _rewrite(folder / "polyarchy.csv", "KAZ,1996,0.283", "KAZ,1996,0.3")
    assert datasets.polyarchy("KAZ", 1996, data_dir=folder) == 0.3


def test_csto_member_must_be_0_or_1(tables, tmp_path):
    folder = _tables_copy(tables, tmp_path)
    _rewrite(folder / "csto.csv", "KAZ,1996,1,1", "KAZ,1996,0.5,1")
    with pytest.raises(DataError, match=r"csto\.csv: expected member = 0 or 1 for KAZ in 1996"):
        datasets.security_tie("KAZ", "RUS", 1996, data_dir=folder)


# Scenarios with a [data] table --------------------------------------------------------------------

DATA_TABLE = """[data]
capability = "cinc"
alignment = { source = "unga", year = 1999 }
polyarchy = "vdem"
security_ties = "csto"
"""


def data_scenario(tiny_text: str, table: str = DATA_TABLE) -> str:
    """The tiny scenario with a [data] table; Kazakhstan leaves out what data can fill."""
    text = tiny_text.replace('poles = ["RUS", "CHN"]\n', 'poles = ["RUS", "CHN"]\n' + table)
    kaz = text.index("[states.KAZ]")
    head, tail = text[:kaz], text[kaz:]
    tail = tail.replace("capability = 0.003\n", "").replace("polyarchy = 0.3\n", "", 1)
    tail = tail.replace("alignment = { RUS = 0.8, CHN = 0.5 }", "alignment = { RUS = 0.8 }")
    return head + tail


def test_data_fills_only_what_the_scenario_leaves_out(write, tiny_text):
    sc = load_scenario(write(data_scenario(tiny_text)))
    kaz, rus = sc.states["KAZ"], sc.states["RUS"]
    assert kaz.capability == datasets.capability("KAZ", range(2000, 2006))
    assert kaz.polyarchy == datasets.polyarchy("KAZ", 2000)  # year left out: the start year
    assert kaz.alignment == {"RUS": 0.8, "CHN": datasets.alignment("KAZ", "CHN", 1999)}  # written RUS wins
    assert kaz.security_ties == {"RUS": 1.0}
    # Russia writes capability, polyarchy and alignment: the data are not used for them.
    assert (rus.capability, rus.polyarchy, rus.alignment) == (0.05, 0.3, {"CHN": 0.5})
    assert rus.security_ties == {}  # a pole has no tie to itself
    assert sc.states["CHN"].security_ties == {"RUS": 0.0}  # not a CSTO member: a data value, not a default
    assert sc.data.alignment.year == 1999 and sc.data.polyarchy.year == 2000  # the years used, recorded


def test_capability_shares_divide_by_the_states_that_take_data(write, tiny_text):
    text = data_scenario(tiny_text, DATA_TABLE.replace('"cinc"', '"gdp_share"'))
    text = text.replace("capability = 0.15\n", "")  # China too takes its capability from data
    sc = load_scenario(write(text))
    kaz, chn = sc.states["KAZ"].capability, sc.states["CHN"].capability
    assert kaz[2000] == pytest.approx(
        datasets.gdp("KAZ", 2000) / (datasets.gdp("KAZ", 2000) + datasets.gdp("CHN", 2000))
    )
    assert all(kaz[year] + chn[year] == pytest.approx(1.0) for year in range(2000, 2006))
    assert sc.states["RUS"].capability == 0.05  # written: left out of the total


def test_a_share_names_the_state_whose_value_is_missing(write, tiny_text):
    text = data_scenario(tiny_text, DATA_TABLE.replace('"cinc"', '"milex_share"')).replace(
        "capability = 0.15\n", ""
    )
    text = text.replace("[states.KAZ]", "[states.XYZ]")
    with pytest.raises(ScenarioError) as caught:
        load_scenario(write(text))
    message = str(caught.value)  # filling China's share needs XYZ's spending
    assert "milex.csv: no milex_constant_2022_usd_m for XYZ in 2000" in message
    assert "write states.XYZ.capability" in message


def test_a_scenario_with_data_runs(write, tiny_text):
    result = sim.run(write(data_scenario(tiny_text)), seed=1)
    states = result.states
    kaz = states[(states["state"] == "KAZ") & (states["year"] == 2003)]
    assert kaz["capability"].iloc[0] == pytest.approx(datasets.capability("KAZ", [2003])[2003])


def test_a_scenario_without_data_resolves_as_before(tiny_path):
    sc = load_scenario(tiny_path)
    assert sc.data is None and "data" not in sc.to_dict()


def test_a_child_rebases_the_data_year(write, tiny_text):
    write(data_scenario(tiny_text), name="parent.toml")
    child = write(
        'extends = "parent.toml"\nname = "child"\nstart_year = 2003\n[data]\nalignment = { year = 2002 }\n',
        name="child.toml",
    )
    sc = load_scenario(child)
    assert sc.data.alignment.source == "unga" and sc.data.alignment.year == 2002
    assert sc.states["KAZ"].alignment["CHN"] == datasets.alignment("KAZ", "CHN", 2002)
    assert sc.states["KAZ"].polyarchy == datasets.polyarchy("KAZ", 2003)
    assert min(sc.states["KAZ"].capability) == 2003


def test_filling_leaves_the_overrides_alone(write, tiny_text):
    overrides = {"states": {"KAZ": {"alignment": {"RUS": 0.1}, "security_ties": {}}}}
    before = copy.deepcopy(overrides)
    sc = load_scenario(write(data_scenario(tiny_text)), overrides=overrides)
    assert sc.states["KAZ"].alignment["RUS"] == 0.1 and "CHN" in sc.states["KAZ"].alignment
    assert overrides == before


BAD_DATA = {
    # name: (the [data] table or an edit, fragments of the one-line error)
    "state_not_covered": (lambda t: data_scenario(t).replace("[states.KAZ]", "[states.XYZ]"),
                          ["key 'data.capability'", "cinc.csv", "XYZ", "2000", "not in this table", "states.XYZ.capability"]),
    "year_not_covered": (lambda t: data_scenario(t).replace("year = 1999", "year = 2030"),
                         ["key 'data.alignment'", "unga_ideal.csv", "KAZ", "2030", "1992-2023"]),
    "start_before_data": (lambda t: data_scenario(t).replace("start_year = 2000", "start_year = 1989"),
                          ["key 'data.capability'", "cinc.csv", "KAZ", "1989", "1991-2022"]),
    "unknown_source": (lambda t: data_scenario(t).replace('polyarchy = "vdem"', 'polyarchy = "polity"'),
                       ["key 'data.polyarchy.source'", "expected one of 'vdem'", "'polity'"]),
    "unknown_key": (lambda t: data_scenario(t).replace('security_ties = "csto"', 'ties = "csto"'),
                    ["key 'data.ties'", "unknown key", "allowed keys here: alignment, capability, claims, pole_ties, polyarchy, security_ties"]),
    "year_not_a_number": (lambda t: data_scenario(t).replace("year = 1999", 'year = "1999a"'),
                          ["key 'data.alignment.year'", "expected a whole number"]),
    "csto_without_russia": (lambda t: data_scenario(t).replace('poles = ["RUS", "CHN"]', 'poles = ["CHN"]'),
                            ["key 'data.security_ties'", "tie to RUS, which is not a pole"]),
}  # fmt: skip


@pytest.mark.parametrize("case", sorted(BAD_DATA))
def test_bad_data_in_a_scenario_gives_one_line(case, capsys, write, tiny_text):
    edit, fragments = BAD_DATA[case]
    path = write(edit(tiny_text), name=f"{case}.toml")
    with pytest.raises(ScenarioError):
        load_scenario(path)
    assert main(["check", str(path)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "Traceback" not in err
    for fragment in [f"{case}.toml", *fragments]:
        assert fragment in err, (fragment, err)


# The shipped scenarios --------------------------------------------------------------------------------


def test_history_takes_its_data_values_from_the_tables():
    sc = load_scenario(SCENARIOS / "history_1996.toml")
    kaz = sc.states["KAZ"]
    assert kaz.capability == datasets.capability("KAZ", range(1996, 2018))
    assert kaz.polyarchy == datasets.polyarchy("KAZ", 1996)
    assert kaz.alignment == {pole: datasets.alignment("KAZ", pole, 1996) for pole in ("RUS", "CHN")}
    assert kaz.security_ties == {"RUS": 1.0}
    assert sc.states["UZB"].security_ties == {"RUS": 0.5}  # a written judgement wins over data (1.0)
    sco8 = load_scenario(SCENARIOS / "sco8_2017.toml")
    assert sco8.states["KAZ"].polyarchy == datasets.polyarchy("KAZ", 2017)
    assert sco8.states["IND"].alignment["RUS"] == datasets.alignment("IND", "RUS", 2017)
    assert sco8.states["KAZ"].capability == datasets.capability("KAZ", range(2017, 2023))
