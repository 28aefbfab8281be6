"""Lowy Global Diplomacy Index readers: real facts from the files, and the damaged-input contract."""

from __future__ import annotations

from functools import partial
from pathlib import Path

import pytest

from citydip.errors import SourceFileError
from citydip.sources import lowy
from tests import damage as d

HEADER_2016 = ["COUNTRY", "POPULATION (M)", "GDP (B, USD)", "G20 RANK", "OECD RANK", "OVERALL RANK",
               "POST CITY", "POST COUNTRY", "TYPE OF POST", "POST TYPE TITLE"]
HEADER_2019 = HEADER_2016[:5] + ["ASIA RANK"] + HEADER_2016[5:]
# Made-up figures in the published layout.
ROWS_2016 = [
    ["Aldoria", "12.5", "340", "7", "", "9", "Springfield", "United States", "Consulate / Consulate-General",
     "Consulate-General"],
    ["Aldoria", "12.5", "340", "7", "", "9", "Capital City", "United States", "Embassy / High Commission", "Embassy"],
    ["Aldoria", "12.5", "340", "7", "", "9", "Shelbyville", "United States", "Other", "Consular Office"],
    ["Aldoria", "12.5", "340", "7", "", "9", "Ogdenville", "United States", "Other", "Trade Office"],
    ["Mexico", "120", "1200", "15", "30", "20", "Leamington", "United States", "Consulate / Consulate-General",
     "Consulate"],
    ["Mexico", "120", "1200", "15", "30", "20", "Gotham", "Borduria", "Permanent Mission", "Mission to UN"],
    ["Borduria", "3.1", "45", "", "12", "30", "Szohod", "Borduria", "Consulate / Consulate-General", "Consulate"],
]
GRID_2016 = [HEADER_2016] + ROWS_2016
GRID_2019 = [HEADER_2019] + [r[:5] + ["4" if r[0] == "Aldoria" else ""] + r[5:] for r in ROWS_2016]

read_2016 = partial(lowy.read_vintage, vintage=2016)
read_2019 = partial(lowy.read_vintage, vintage=2019)


def write(grid, path: Path, **kw) -> Path:
    """Write in the published layout: BOM, every field quoted, no line break at the end."""
    d.write_csv(grid, path, bom=True, quote_all=True, **kw)
    path.write_bytes(path.read_bytes().rstrip(b"\n"))
    return path


# -- real data ---------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def posts(real_data):
    return lowy.read_all(real_data)


def test_rows_and_sending_countries(posts):
    # Records: 5,945 / 7,190 / 7,317 (PROVENANCE's 5,944 / 7,189 / 7,316 are line counts, one short
    # because the files do not end with a line break); 2016 loses its duplicated row.
    assert posts.groupby("vintage").size().to_dict() == {2016: 5944, 2017: 7190, 2019: 7317}
    assert posts.groupby("vintage").sending_country.nunique().to_dict() == {2016: 42, 2017: 60, 2019: 61}
    assert list(posts.columns) == lowy.SCHEMA.names


def test_us_counts_match_provenance(posts):
    counts = lowy.us_post_counts(posts)
    assert counts.posts.to_dict() == {2016: 351, 2017: 419, 2019: 425}
    assert counts.consulate_type.to_dict() == {2016: 256, 2017: 279, 2019: 283}
    assert counts.consular_cities.to_dict() == {2016: 60, 2017: 58, 2019: 58}


def test_us_counts_after_corrections(posts):
    # Corrections: -Leamington, -Saipan every year; -U.S. Nogales (2016); +Mexico Nogales (2017, 2019).
    # Consular posts by the schema definition add the 4/5 'Consular Office' posts under 'Other'.
    counts = lowy.us_post_counts(posts)
    assert counts.posts_corrected.to_dict() == {2016: 348, 2017: 418, 2019: 424}
    assert counts.career_consular_corrected.to_dict() == {2016: 257, 2017: 283, 2019: 287}


def test_known_traps_are_flagged_not_dropped(posts):
    leam = posts[posts.post_city.eq("Leamington")]
    assert len(leam) == 3 and set(leam.post_country_corrected) == {"Canada"}
    assert leam.flag.str.contains("Ontario").all() and not leam.in_united_states.any()
    us_nogales = posts[posts.sending_country.eq("United States") & posts.post_city.eq("Nogales")]
    assert us_nogales.set_index("vintage").post_country.to_dict() == {2016: "United States", 2017: "Mexico",
                                                                      2019: "Mexico"}
    assert set(us_nogales.post_country_corrected) == {"Mexico"}
    assert us_nogales.set_index("vintage").flag.ne("").to_dict() == {2016: True, 2017: False, 2019: False}
    mx_nogales = posts[posts.sending_country.eq("Mexico") & posts.post_city.eq("Nogales")]
    assert mx_nogales.in_united_states.all() and len(mx_nogales) == 3
    holy_see = posts[(posts.vintage == 2016) & posts.sending_country.eq("Hungary") & posts.post_city.eq("Holy See")]
    assert len(holy_see) == 1 and "published twice" in holy_see.flag.iloc[0]


def test_consular_classes(posts):
    us = posts[posts.in_united_states & posts.vintage.eq(2019)]
    assert us[us.is_consulate_general].type_of_post.eq("Consulate / Consulate-General").all()
    assert us.is_consulate_general.sum() == 244  # 243 as published + Mexico's Nogales (Arizona) post
    taiwan = us[us.sending_country.eq("Taiwan*")]
    assert len(taiwan) == 12 and not taiwan.is_career_consular.any()
    japan_portland = us[us.sending_country.eq("Japan") & us.post_city.eq("Portland")]
    assert japan_portland.is_career_consular.all() and japan_portland.type_of_post.eq("Other").all()


# -- sample and damaged files -------------------------------------------------------------------
@pytest.fixture
def good_2016(tmp_path) -> Path:
    return write(GRID_2016, tmp_path / "2016_sample.csv")


@pytest.fixture
def good_2019(tmp_path) -> Path:
    return write(GRID_2019, tmp_path / "2019_sample.csv")


def test_sample_reads(good_2016, good_2019):
    for frame in (lowy.read_vintage(good_2016), lowy.read_vintage(good_2019)):
        assert list(frame.columns) == lowy.SCHEMA.names
        assert frame.is_career_consular.tolist() == [True, False, True, False, True, False, True]
        assert frame.is_consulate_general.tolist() == [True] + [False] * 6
        assert frame.in_united_states.tolist() == [True, True, True, True, False, False, False]
        assert frame.flag.ne("").tolist() == [False] * 4 + [True, False, True]
        assert frame.overall_rank.tolist() == [9, 9, 9, 9, 20, 20, 30]
    assert set(lowy.read_vintage(good_2016).vintage) == {2016}


def test_vintage_from_file_name(tmp_path, good_2016):
    bad = write(GRID_2016, tmp_path / "lowy.csv")
    with pytest.raises(SourceFileError, match="vintage"):
        lowy.read_vintage(bad)


@pytest.mark.parametrize("case", ["rename", "drop", "shuffle", "duplicate", "nonnumeric", "type", "negative",
                                  "rank", "inconsistent", "empty_city"])
def test_damaged_grids(tmp_path, case):
    good = write(GRID_2019, tmp_path / "good.csv")
    damaged, must_fail, row, column = {
        "rename": (d.rename_column(GRID_2019, 0, "POST CITY", "CITY"), True, None, "POST CITY"),
        "drop": (d.drop_column(GRID_2019, 0, "ASIA RANK"), True, 1, "ASIA RANK"),
        "shuffle": (d.shuffle_columns(GRID_2019, 0, len(ROWS_2016)), False, None, None),
        "duplicate": (d.duplicate_row(GRID_2019, 2), True, 4, "COUNTRY"),
        "nonnumeric": (d.set_cell(GRID_2019, 0, 3, "POPULATION (M)", "n/a"), True, 4, "POPULATION (M)"),
        "type": (d.set_cell(GRID_2019, 0, 5, "TYPE OF POST", "Honorary Consulate"), True, 6, "TYPE OF POST"),
        "negative": (d.set_cell(GRID_2019, 0, 7, "GDP (B, USD)", "-45"), True, 8, "GDP (B, USD)"),
        "rank": (d.set_cell(GRID_2019, 0, 1, "ASIA RANK", "4.5"), True, 2, "ASIA RANK"),
        "inconsistent": (d.set_cell(GRID_2019, 0, 2, "POPULATION (M)", "13.5"), True, 3, "POPULATION (M)"),
        "empty_city": (d.set_cell(GRID_2019, 0, 4, "POST CITY", ""), True, 5, "POST CITY"),
    }[case]
    bad = write(damaged, tmp_path / f"bad_{case}.csv")
    d.check_damage(read_2019, good, bad, must_fail=must_fail, row=row, column=column)


def test_2016_layout_with_asia_rank_is_rejected(tmp_path, good_2016):
    bad = write(GRID_2019, tmp_path / "bad.csv")
    d.check_damage(read_2016, good_2016, bad, must_fail=True, column="ASIA RANK")


def test_known_duplicate_is_dropped_and_flagged(tmp_path):
    row = ["Hungary", "9.9", "120", "", "20", "25", "Holy See", "Holy See (Vatican City State)",
           "Embassy / High Commission", "Embassy"]
    frame = read_2016(write([HEADER_2016, row, row, ROWS_2016[0]], tmp_path / "dup.csv"))
    assert len(frame) == 2
    assert frame.flag.iloc[0] == "published twice (also row 3); one copy kept"
    # The same duplicate in another vintage is not a known defect.
    grid = [HEADER_2019, row[:5] + [""] + row[5:], row[:5] + [""] + row[5:]]
    with pytest.raises(SourceFileError, match="duplicated post"):
        read_2019(write(grid, tmp_path / "dup2019.csv"))


def test_truncated(tmp_path, good_2016):
    for fraction in (0.3, 0.6, 0.9):
        bad = d.truncate(good_2016, tmp_path / f"cut{fraction}.csv", fraction)
        d.check_damage(read_2016, good_2016, bad, must_fail=True)


def test_empty(tmp_path, good_2016):
    d.check_damage(read_2016, good_2016, d.empty(tmp_path / "empty.csv"), must_fail=True)
    header_only = write([HEADER_2016], tmp_path / "header.csv")
    d.check_damage(read_2016, good_2016, header_only, must_fail=True)


def test_latin1_is_rejected(tmp_path):
    grid = d.set_cell(GRID_2016, 0, 1, "POST CITY", "São Tomé")
    good = write(grid, tmp_path / "good.csv")
    bad = d.reencode(good, tmp_path / "latin1.csv", "latin-1")
    d.check_damage(read_2016, good, bad, must_fail=True, row=2)


def test_blank_trailing_lines_are_harmless(tmp_path, good_2016):
    bad = d.add_empty_rows_to_file(write(GRID_2016, tmp_path / "blank.csv"))
    d.check_damage(read_2016, good_2016, bad, must_fail=False)


def test_missing_file(tmp_path):
    with pytest.raises(SourceFileError, match="citydip fetch"):
        read_2016(tmp_path / "2016_nope.csv")
