"""ClimActor readers: real coverage counts, network harmonisation, and the damaged-input contract."""

from __future__ import annotations

from pathlib import Path

import pytest

from citydip.sources import climactor as ca
from tests import damage as d

BASE = ["name", "iso", "entity_type", "country", "area", "num_commit", "lat", "lng", "population", "population_year",
        "state", "admin_1", "initiatives_committed", "region"]
# Made-up actors in the Dec2022 layout ("NA" for missing cells).
ROWS_2022 = [
    ["Springfield, IL", "USA", "City", "United States of America", "NA", "3", "39.8", "-89.6", "115000", "2019",
     "Illinois", "Sangamon County, IL", "ClimateMayors2019;;C40Cities2022;ClimateMayors2019", "North America"],
    ["Szohod", "BDR", "City", "Borduria", "12", "1", "NA", "NA", "54000", "0", "Nord", "NA", "GCoM2022",
     "Europe"],
    ["Klow", "SYL", "city", "Syldavia", "30", "NA", "52.2", "21.0", "80000", "2018", "NA", "NA", "NA", "Europe"],
    ["Nord", "BDR", "Region", "Borduria", "900", "2", "45", "20", "900000", "2020", "NA", "NA",
     "Race to Zero;;Region;CDPStates&Regions2022", "Europe"],
]
GRID_2022 = [BASE] + ROWS_2022
# Sept2020 layout: other column order, empty cells, one 0/1 column per tag.
TAGS_2020 = ["C40Cities2019", "ClimateMayors", "WeAreStillIn2019", "<NA>"]
HEAD_2020 = ["name", "iso", "entity_type", "country", "region", "area", "initiatives_committed", "num_commit", "lat",
             "lng", "population", "population_year", "state", "admin_1"] + TAGS_2020
GRID_2020 = [HEAD_2020,
             ["Springfield, IL", "USA", "City", "USA of America", "", "", "ClimateMayors;WeAreStillIn2019", "2",
              "39.8", "-89.6", "115000", "2018", "Illinois", "", "0", "1", "1", "0"],
             ["Ogdenville, OR", "USA", "City", "USA of America", "", "3.5", "C40Cities2019", "1", "44.0", "-123.0",
              "40000", "", "Oregon", "", "1", "0", "0", "0"],
             ["Nord", "BDR", "Region", "Borduria", "Europe", "900", "", "", "45", "20", "900000", "2019", "", "",
              "0", "0", "0", "1"]]


def write(grid, path: Path) -> Path:
    return d.write_csv(grid, path)


# -- real data ---------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def actors(real_data):
    return ca.read_all(real_data)


def test_us_city_counts(actors):
    us = ca.us_cities(actors)
    assert us.groupby("snapshot").size().to_dict() == {2020: 612, 2022: 636}
    assert not us.duplicated(["snapshot", "name"]).any()
    # Names are "City, ST" except a few (no state, or regional councils typed as cities).
    odd = us[~us.name.str.fullmatch(r".+, [A-Z]{2}")].groupby("snapshot").size().to_dict()
    assert odd == {2020: 2, 2022: 8}


def test_tag_counts_match_provenance(actors):
    long = ca.initiatives_long(ca.us_cities(actors))
    counts = long.groupby(["snapshot", "tag"]).size()
    assert counts.loc[2020][["C40Cities2019", "GlobalCovenantofMayors2019", "ClimateMayors", "Carbonn2019",
                             "CDPCities2018", "WeAreStillIn2019"]].tolist() == [12, 159, 427, 145, 134, 291]
    assert counts.loc[2022][["C40Cities2022", "GCoM2022", "ClimateMayors2019", "ClimateMayors2022", "CDPCities2022",
                             "Race to Zero"]].tolist() == [14, 118, 287, 57, 168, 91]


def test_network_indicators(actors):
    ind = ca.network_indicators(ca.us_cities(actors))
    sums = ind.groupby("snapshot")[list(ca.NETWORK_TAGS)].sum()
    assert sums.loc[2020].to_dict() == {"c40": 12, "gcom": 159, "climate_mayors": 427, "iclei_carbonn": 145,
                                        "cdp": 134, "we_are_still_in": 291, "race_to_zero": 1}
    # 2022 networks pool the spellings of the snapshot (e.g. ClimateMayors2019 and ClimateMayors2022).
    assert sums.loc[2022].to_dict() == {"c40": 14, "gcom": 168, "climate_mayors": 350, "iclei_carbonn": 44,
                                        "cdp": 209, "we_are_still_in": 163, "race_to_zero": 96}


def test_tags_are_clean_and_flags_are_visible(actors):
    tags = {t for ts in actors.initiatives_committed for t in ts}
    assert "NA" not in tags and "" not in tags and not any(t.startswith("http") for t in tags)
    assert all(len(ts) == len(set(ts)) for ts in actors.initiatives_committed)
    flagged = actors[actors.flag.ne("")].set_index(["snapshot", "name"]).flag
    assert "year" in flagged.loc[(2020, "Victoria")]
    assert "0xCA" in flagged.loc[(2022, "Fujikawa")]
    victoria = actors[(actors.snapshot == 2020) & actors.name.eq("Victoria")]
    assert victoria.lng.isna().all() and victoria.lat.iloc[0] == -37
    fujikawa = actors[(actors.snapshot == 2022) & actors.name.eq("Fujikawa")]
    assert fujikawa.region.iloc[0] == "East Asia and the Pacific"
    assert set(actors.entity_type.dropna()) == {"City", "Region"}


# -- samples and damage -------------------------------------------------------------------------
@pytest.fixture
def good_2022(tmp_path) -> Path:
    return write(GRID_2022, tmp_path / "good.csv")


@pytest.fixture
def good_2020(tmp_path) -> Path:
    return write(GRID_2020, tmp_path / "good2020.csv")


def test_sample_2022(good_2022):
    frame = ca.read_dec2022(good_2022)
    assert frame.initiatives_committed.tolist() == [("ClimateMayors2019", "C40Cities2022"), ("GCoM2022",), (),
                                                    ("Race to Zero", "CDPStates&Regions2022")]
    assert frame.entity_type.tolist() == ["City", "City", "City", "Region"]
    assert frame.population_year.isna().tolist() == [False, True, False, False]
    assert frame.lat.isna().tolist() == [False, True, False, False] and frame.num_commit.isna().iloc[2]
    assert frame.flag.ne("").tolist() == [False, False, False, True]
    ind = ca.network_indicators(frame)
    assert ind.c40.tolist() == [True, False, False, False] and ind.cdp.tolist() == [False, False, False, True]
    assert list(frame.columns) == ca.SCHEMA.names


def test_sample_2020(good_2020):
    frame = ca.read_sept2020(good_2020)
    assert frame.snapshot.eq(2020).all() and frame.initiatives_committed.iloc[2] == ()
    assert ca.network_indicators(frame).we_are_still_in.tolist() == [True, False, False]


@pytest.mark.parametrize("case", ["rename", "drop", "shuffle", "duplicate", "nonnumeric", "latitude", "type",
                                  "year", "commit"])
def test_damaged_2022(tmp_path, good_2022, case):
    damaged, must_fail, row, column = {
        "rename": (d.rename_column(GRID_2022, 0, "initiatives_committed", "initiatives"), True, None,
                   "initiatives_committed"),
        "drop": (d.drop_column(GRID_2022, 0, "lng"), True, 1, "lng"),
        "shuffle": (d.shuffle_columns(GRID_2022, 0, len(ROWS_2022)), False, None, None),
        "duplicate": (d.duplicate_row(GRID_2022, 2), True, 4, "name"),
        "nonnumeric": (d.set_cell(GRID_2022, 0, 1, "lng", "89.6W"), True, 2, "lng"),
        "latitude": (d.set_cell(GRID_2022, 0, 3, "lat", "152.2"), True, 4, "lat"),
        "type": (d.set_cell(GRID_2022, 0, 2, "entity_type", "Country"), True, 3, "entity_type"),
        "year": (d.set_cell(GRID_2022, 0, 1, "population_year", "2109"), True, 2, "population_year"),
        "commit": (d.set_cell(GRID_2022, 0, 1, "num_commit", "2.5"), True, 2, "num_commit"),
    }[case]
    bad = write(damaged, tmp_path / f"bad_{case}.csv")
    d.check_damage(ca.read_dec2022, good_2022, bad, must_fail=must_fail, row=row, column=column)


@pytest.mark.parametrize("case", ["disagree", "binary", "shuffle", "empty_binary"])
def test_damaged_2020(tmp_path, good_2020, case):
    damaged, must_fail, row, column = {
        "disagree": (d.set_cell(GRID_2020, 0, 2, "ClimateMayors", "1"), True, 3, "ClimateMayors"),
        "binary": (d.set_cell(GRID_2020, 0, 1, "C40Cities2019", "yes"), True, 2, "C40Cities2019"),
        "shuffle": (d.shuffle_columns(GRID_2020, 0, 3), False, None, None),
        "empty_binary": (d.set_cell(GRID_2020, 0, 1, "WeAreStillIn2019", ""), True, 2, "WeAreStillIn2019"),
    }[case]
    bad = write(damaged, tmp_path / f"bad_{case}.csv")
    d.check_damage(ca.read_sept2020, good_2020, bad, must_fail=must_fail, row=row, column=column)


def test_truncated_and_empty(tmp_path, good_2022):
    d.check_damage(ca.read_dec2022, good_2022, d.truncate(good_2022, tmp_path / "cut.csv"), must_fail=True)
    d.check_damage(ca.read_dec2022, good_2022, d.empty(tmp_path / "empty.csv"), must_fail=True)


def test_macroman_space_is_repaired_and_flagged(tmp_path, good_2022):
    grid = d.set_cell(GRID_2022, 0, 2, "state", "Nord Est")
    good = write(grid, tmp_path / "good.csv")
    bad = tmp_path / "nbsp.csv"
    bad.write_bytes(good.read_bytes().replace(b"Nord Est", b"Nord\xcaEst"))
    frame = ca.read_dec2022(bad)
    assert frame.state.iloc[1] == "Nord Est" and "0xCA" in frame.flag.iloc[1]
    assert frame.flag.ne("").sum() == 2


def test_latin1_is_rejected(tmp_path):
    good = write(d.set_cell(GRID_2022, 0, 2, "name", "Szohód"), tmp_path / "good.csv")
    bad = d.reencode(good, tmp_path / "latin1.csv", "latin-1")
    d.check_damage(ca.read_dec2022, good, bad, must_fail=True, row=3)
