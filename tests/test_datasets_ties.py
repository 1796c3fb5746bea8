"""Arms, trade and territorial-claims tables: their rebuild, their loaders and their bad-input messages."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from sim.errors import DataError
from sim.scenario import ties

from .test_datasets import EXTRACTS, build


def rows(folder_or_text, name: str | None = None) -> list[str]:
    text = folder_or_text if name is None else (Path(folder_or_text) / name).read_text()
    return text.splitlines()


# The rebuild ------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def texts() -> dict[str, str]:
    return build.build_tables(EXTRACTS)


def test_arms_adds_every_supplier_and_keeps_only_the_19_states(texts):
    arms = rows(texts["arms.csv"])
    assert arms[0] == "iso3,year,tiv_rus,tiv_chn,tiv_total"
    # KAZ 2012: OTH 14 + RUS 75 + TUR 1 + USA 3; no Chinese row, so 0.
    assert arms[1:] == ["KAZ,2012,75.0,0.0,93.0", "KAZ,2013,54.0,0.0,141.0"]  # RUS -> DZA (part 2) left out


def test_trade_adds_both_flows_falls_back_to_the_mirror_and_leaves_self_empty(texts):
    trade = {tuple(line.split(",")[:2]): line.split(",")[2:] for line in rows(texts["trade.csv"])[1:]}
    assert rows(texts["trade.csv"])[0] == "iso3,year,trade_rus,trade_chn,trade_usa"
    kaz = trade[("KAZ", "2000")]
    assert [float(v) for v in kaz] == [
        pytest.approx(1751.411498 + 2246.26663),
        pytest.approx(673.7407 + 598.6),
        pytest.approx(209.479599 + 127.3),
    ]
    # KGZ 1992: Russia's exports to KGZ missing -> KGZ's CIF imports from Russia (171.7); KGZ's exports
    # to the US missing -> US CIF imports from KGZ (0.8).
    assert trade[("KGZ", "1992")] == ["265.7", "37.853", "2.7"]
    # The RUS-CHN pair gives China's trade_rus and Russia's trade_chn; a state's trade with itself is empty.
    total = repr(round(5232.592073 + 2231.03, 6))
    assert trade[("CHN", "2000")] == [total, "", ""] and trade[("RUS", "2000")] == ["", total, ""]


def test_claims_take_settlement_years_from_the_hand_written_file(texts):
    claims = {line.split(",")[2]: line for line in rows(texts["claims.csv"])[1:]}
    assert rows(texts["claims.csv"])[0] == "iso3_a,iso3_b,claim,start_year,end_year,salience,source,note"
    assert (
        claims["80006"].startswith("CHN,RUS,80006,1954,2004,8,")
        and "Supplementary Agreement" in claims["80006"]
    )
    assert claims["87707"].startswith("CHN,KAZ,87707,1991,1998,10,")  # ended within ICOW's coverage
    assert (
        claims["91202"].startswith("CHN,IND,91202,1947,,12,") and "no settlement by 2017" in claims["91202"]
    )
    assert claims["87401"].startswith("TJK,KGZ,87401,2000,,7,")  # settled only in 2025: left open
    assert "## `claims.csv`" in texts["SOURCES.md"] and "## `arms.csv`" in texts["SOURCES.md"]


def _settlements(tmp_path: Path, edit) -> Path:
    path = tmp_path / "settlements.csv"
    path.write_text(edit(build.SETTLEMENTS.read_text()))
    return path


@pytest.mark.parametrize(
    ("edit", "fragments"),
    [
        (lambda t: t.replace("80006,CHN,RUS,2004,", "80006,CHN,RUS,2018,"), ["line 2", "2018", "80006", "after 2017"]),
        (lambda t: "\n".join(line for line in t.splitlines() if not line.startswith("91202,")) + "\n",
         ["no row for claim-dyad 91202", "CHN against IND"]),
        (lambda t: t.replace("80006,CHN,RUS,", "80006,RUS,CHN,"), ["80006 is CHN against RUS"]),
        (lambda t: t.replace("87401,TJK,KGZ,,", "87401,TJK,KGZ,2005,"), ["87401", "without a source"]),
    ],
)  # fmt: skip
def test_bad_settlement_file_is_refused(tmp_path, edit, fragments):
    with pytest.raises(build.BuildError) as caught:
        build.build_tables(EXTRACTS, settlements=_settlements(tmp_path, edit))
    message = str(caught.value)
    assert len(message.splitlines()) == 1
    for fragment in fragments:
        assert fragment in message, (fragment, message)


def test_the_shipped_settlements_stop_at_2017():
    for line in rows(build.SETTLEMENTS.read_text())[1:]:
        end = line.split(",")[3]
        assert not end or int(end) <= 2017, line
    shipped = ties.claims()
    assert all(claim.end is None or claim.end <= 2017 for claim in shipped)


# Loaders on hand-made tables ---------------------------------------------------------------------------

ARMS = """iso3,year,tiv_rus,tiv_chn,tiv_total
AAA,2000,10,0,20
AAA,2002,0,30,40
BBB,2000,0,0,5
CHN,2000,8,0,10
"""
TRADE = """iso3,year,trade_rus,trade_chn,trade_usa
AAA,2000,10,30,60
AAA,2001,20,20,60
AAA,2003,,50,50
CHN,2000,40,,60
RUS,2000,,40,10
"""
CLAIMS = """iso3_a,iso3_b,claim,start_year,end_year,salience,source,note
AAA,BBB,1,1990,,6,x,open
BBB,AAA,2,1995,2000,12,x,ended
CCC,AAA,3,1998,1999,3,x,
"""


@pytest.fixture
def tie_dir(tmp_path) -> Path:
    (tmp_path / "arms.csv").write_text(ARMS)
    (tmp_path / "trade.csv").write_text(TRADE)
    (tmp_path / "claims.csv").write_text(CLAIMS)
    return tmp_path


def test_arms_shares_sum_over_the_window(tie_dir):
    assert ties.arms_shares("AAA", 2000, ["RUS", "CHN"], window=1, data_dir=tie_dir) == {
        "RUS": 0.5,
        "CHN": 0.0,
    }
    # 2000-2002: RUS 10, CHN 30 out of 60 (2001 has no row).
    shares = ties.arms_shares("AAA", 2002, ["RUS", "CHN"], window=3, data_dir=tie_dir)
    assert shares == pytest.approx({"RUS": 10 / 60, "CHN": 30 / 60})
    assert ties.arms_shares("AAA", 2001, ["RUS"], window=1, data_dir=tie_dir) is None  # no row
    assert ties.arms_shares("ZZZ", 2000, ["RUS"], data_dir=tie_dir) is None  # never imported
    with pytest.raises(DataError, match=r"arms\.csv: no column for pole 'USA' \(needed for AAA in 2000\)"):
        ties.arms_shares("AAA", 2000, ["USA"], data_dir=tie_dir)
    with pytest.raises(ValueError, match="window"):
        ties.arms_shares("AAA", 2000, ["RUS"], window=0, data_dir=tie_dir)


def test_trade_shares_divide_by_the_three_partners(tie_dir):
    assert ties.trade_shares("AAA", 2000, ["RUS", "CHN"], data_dir=tie_dir) == {"RUS": 0.1, "CHN": 0.3}
    assert ties.trade_shares("AAA", 2002, ["RUS"], data_dir=tie_dir) is None  # no row
    assert ties.trade_shares("AAA", 2003, ["CHN"], data_dir=tie_dir) is None  # trade with RUS missing
    assert ties.trade_shares("CHN", 2000, ["RUS", "CHN"], data_dir=tie_dir) is None  # a pole itself
    assert ties.trade_shares("CHN", 2000, ["RUS"], data_dir=tie_dir) == {"RUS": 0.4}  # over RUS + USA
    with pytest.raises(DataError, match="no column for pole 'IND'"):
        ties.trade_shares("AAA", 2000, ["IND"], data_dir=tie_dir)


def test_yearly_ties_average_the_parts_and_fill_the_gaps(tie_dir):
    years = [1999, 2000, 2001, 2002, 2003]
    out = ties.yearly_ties(["AAA", "CHN", "BBB", "ZZZ"], ["RUS", "CHN"], years, data_dir=tie_dir, window=1)
    assert out.shape == (5, 4, 2)
    aaa = out[:, 0, :]
    # 2000: arms (0.5, 0.0) and trade (0.1, 0.3); 2001: trade only; 2002: arms only (0, 0.75);
    # 2003: no trade share (RUS missing), no arms row -> held; 1999 takes 2000's value.
    expected = [[0.3, 0.15], [0.3, 0.15], [0.2, 0.2], [0.0, 0.75], [0.0, 0.75]]
    assert aaa == pytest.approx(np.array(expected))
    chn = out[:, 1, :]
    assert (chn[:, 1] == 1.0).all()  # a pole's tie to itself
    assert chn[:, 0] == pytest.approx([0.6] * 5)  # mean of arms 0.8 and trade 40 / (40 + 60)
    bbb = out[:, 2, :]
    assert (bbb == 0.0).all()  # arms from neither pole in 2000, held throughout
    assert np.isnan(out[:, 3, :]).all()  # no data at all: the caller decides
    with pytest.raises(ValueError, match="increasing"):
        ties.yearly_ties(["AAA"], ["RUS"], [2001, 2000], data_dir=tie_dir)


def test_yearly_ties_hold_the_last_value_after_the_data(tie_dir):
    # The hand-made trade table ends in 2003 and arms in 2002: after 2002, the 2002 value is held.
    out = ties.yearly_ties(["AAA"], ["CHN"], range(2000, 2010), data_dir=tie_dir, window=1)
    assert out[-1, 0, 0] == out[2, 0, 0] == 0.75


def test_active_claims_by_pair_with_the_highest_salience(tie_dir):
    assert ties.active_claims(1989, data_dir=tie_dir) == {}
    assert ties.active_claims(1998, data_dir=tie_dir) == {("AAA", "BBB"): 1.0, ("AAA", "CCC"): 0.25}
    assert ties.active_claims(2000, data_dir=tie_dir) == {("AAA", "BBB"): 1.0}  # end year is active
    assert ties.active_claims(2001, data_dir=tie_dir) == {("AAA", "BBB"): 0.5}  # the 12 ended in 2000
    assert ties.active_claims(2040, data_dir=tie_dir) == {("AAA", "BBB"): 0.5}


BAD = {
    # name: (file, old, new, the call, fragments of the one-line message)
    "arms_text": ("arms.csv", "AAA,2000,10,0,20", "AAA,2000,ten,0,20", lambda d: ties.arms_shares("AAA", 2000, ["RUS"], data_dir=d),
                  ["arms.csv", "line 2", "'tiv_rus' for AAA in 2000", "'ten'"]),
    "arms_empty_cell": ("arms.csv", "BBB,2000,0,0,5", "BBB,2000,0,,5", lambda d: ties.arms_shares("AAA", 2000, ["RUS"], data_dir=d),
                        ["arms.csv", "line 4", "tiv_chn", "BBB"]),
    "arms_total": ("arms.csv", "CHN,2000,8,0,10", "CHN,2000,8,0,7", lambda d: ties.arms_shares("CHN", 2000, ["RUS"], data_dir=d),
                   ["arms.csv", "line 5", "tiv_total for CHN in 2000 is less"]),
    "arms_missing": ("arms.csv", None, None, lambda d: ties.arms_shares("AAA", 2000, ["RUS"], data_dir=d),
                     ["arms.csv", "not found", "needed for AAA in 2000"]),
    "trade_column": ("trade.csv", "trade_usa", "trade_us", lambda d: ties.trade_shares("AAA", 2000, ["RUS"], data_dir=d),
                     ["trade.csv", "missing column 'trade_usa'", "needed for AAA in 2000"]),
    "trade_duplicate": ("trade.csv", "AAA,2001,", "AAA,2000,", lambda d: ties.trade_shares("AAA", 2000, ["RUS"], data_dir=d),
                        ["trade.csv", "line 3", "a second row for AAA in 2000"]),
    "trade_negative": ("trade.csv", "AAA,2000,10,", "AAA,2000,-10,", lambda d: ties.trade_shares("AAA", 2000, ["RUS"], data_dir=d),
                       ["trade.csv", "negative trade_rus for AAA in 2000"]),
    "claims_salience": ("claims.csv", "1990,,6,", "1990,,13,", lambda d: ties.active_claims(2000, data_dir=d),
                        ["claims.csv", "line 2", "salience from 0 to 12", "AAA against BBB", "'13'", "needed for 2000"]),
    "claims_end_before_start": ("claims.csv", "1995,2000,", "1995,1994,", lambda d: ties.active_claims(2000, data_dir=d),
                                ["claims.csv", "line 3", "end_year 1994 before start_year 1995"]),
    "claims_year": ("claims.csv", "1998,1999,", "1998,99a,", lambda d: ties.active_claims(2000, data_dir=d),
                    ["claims.csv", "line 4", "end_year", "'99a'"]),
    "claims_code": ("claims.csv", "CCC,AAA", "Ccc,AAA", lambda d: ties.active_claims(2000, data_dir=d),
                    ["claims.csv", "line 4", "ISO3 code", "'Ccc'"]),
}  # fmt: skip


@pytest.mark.parametrize("case", sorted(BAD))
def test_a_bad_ties_table_gives_one_line(case, tie_dir):
    file, old, new, call, fragments = BAD[case]
    path = tie_dir / file
    if old is None:
        path.unlink()
    else:
        text = path.read_text()
        assert old in text
        path.write_text(text.replace(old, new, 1))
    with pytest.raises(DataError) as caught:
        call(tie_dir)
    message = str(caught.value)
    assert len(message.splitlines()) == 1
    for fragment in fragments:
        assert fragment in message, (fragment, message)


# The shipped tables --------------------------------------------------------------------------------------


def test_shipped_arms_shares_match_the_record():
    kaz = ties.arms_shares("KAZ", 2016, ["RUS", "CHN"])
    assert kaz["RUS"] > 0.7
    pak_late = ties.arms_shares("PAK", 2016, ["CHN"])["CHN"]
    pak_early = ties.arms_shares("PAK", 1999, ["CHN"])["CHN"]
    assert pak_late > pak_early and pak_late > 0.5


def test_shipped_trade_shares_match_the_record():
    assert ties.trade_shares("KAZ", 2010, ["CHN"])["CHN"] > ties.trade_shares("KAZ", 2000, ["CHN"])["CHN"]
    shares = ties.trade_shares("IND", 2019, ["RUS", "CHN", "USA"])
    assert math.fsum(shares.values()) == pytest.approx(1.0)


def test_shipped_claims():
    active = ties.active_claims(2010)
    assert ("CHN", "IND") in active and ("CHN", "KAZ") not in active  # China-Kazakhstan ended in 1998
    assert ("CHN", "RUS") not in active and ("KAZ", "RUS") not in active  # settled 2004, 2005
    assert ("KGZ", "UZB") in active and ("KGZ", "TJK") in active  # settled only after 2017
    assert ("CHN", "KAZ") in ties.active_claims(1996)


def test_shipped_yearly_ties_cover_the_history_states():
    codes = ["RUS", "CHN", "KAZ", "KGZ", "TJK", "UZB", "IND", "PAK"]
    out = ties.yearly_ties(codes, ["RUS", "CHN"], range(1996, 2036))
    assert not np.isnan(out).any()
    assert ((out >= 0) & (out <= 1)).all()
    assert (out[-1] == out[2020 - 1996]).all()  # held after the data
