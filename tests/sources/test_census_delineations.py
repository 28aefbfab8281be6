"""Census delineation lists: the published layout (title rows, notes) and damaged copies."""

from __future__ import annotations

import pytest

from citydip.errors import SourceFileError
from citydip.sources import census_delineations as cd
from tests import damage as d

LIST1_HEADER = ["CBSA Code", "Metropolitan Division Code", "CSA Code", "CBSA Title",
                "Metropolitan/Micropolitan Statistical Area", "Metropolitan Division Title", "CSA Title",
                "County/County Equivalent", "State Name", "FIPS State Code", "FIPS County Code",
                "Central/Outlying County"]
LIST1_ROWS = [
    ["11111", None, "101", "Alpha, TX", "Metropolitan Statistical Area", None, "Alpha-Beta, TX", "Red County",
     "Texas", "48", "001", "Central"],
    ["11111", None, "101", "Alpha, TX", "Metropolitan Statistical Area", None, "Alpha-Beta, TX", "Blue County",
     "Texas", "48", "003", "Outlying"],
    ["22222", None, None, "Gamma, OH", "Micropolitan Statistical Area", None, None, "Green County", "Ohio", 39, 5,
     "Central"],
]
TITLE = [["Table with row headers in column A and column headers in row 3"],
         ["List 1. CORE BASED STATISTICAL AREAS (CBSAs), MARCH 2099"]]
NOTES = [[None], ["Note: made-up sample in the Census layout."], ["Internet Release Date: April 2099"]]
GRID = TITLE + [LIST1_HEADER] + LIST1_ROWS + NOTES
HEADER_AT = 2

LIST2_GRID = TITLE + [["CBSA Code", "CBSA Title", "Metropolitan/Micropolitan Statistical Area", "Principal City Name",
                       "FIPS State Code", "FIPS Place Code"],
                      ["11111", "Alpha, TX", "Metropolitan Statistical Area", "Alpha", "48", "01000"],
                      ["11111", "Alpha, TX", "Metropolitan Statistical Area", "Beta", "48", "02000"]] + NOTES


def read1(path):
    return cd.read_list1(path, vintage="2099")


@pytest.fixture
def good(tmp_path):
    return d.write_xlsx(GRID, tmp_path / "list1.xlsx", sheet="List 1")


def test_sample_layout(good):
    frame = read1(good)
    assert frame.county_fips.tolist() == ["48001", "48003", "39005"]  # numeric cells re-padded
    assert frame.area_type.tolist() == ["metro", "metro", "micro"]
    assert frame.central.tolist() == [True, False, True]
    assert frame.source_row.tolist() == [4, 5, 6]
    assert list(frame.columns) == cd.COUNTY_SCHEMA.names


def test_list2_sample(tmp_path):
    frame = cd.read_list2(d.write_xlsx(LIST2_GRID, tmp_path / "list2.xlsx"), vintage="2099")
    assert frame.place_geoid.tolist() == ["4801000", "4802000"]


@pytest.mark.parametrize("case", ["rename", "drop", "shuffle", "duplicate", "nonnumeric", "area", "central"])
def test_damaged_lists(tmp_path, good, case):
    damaged, must_fail, row, column = {
        "rename": (d.rename_column(GRID, HEADER_AT, "CBSA Title", "Title"), True, 3, "CBSA Title"),
        "drop": (d.drop_column(GRID, HEADER_AT, "FIPS County Code"), True, 3, "FIPS County Code"),
        "shuffle": (d.shuffle_columns(GRID, HEADER_AT, len(LIST1_ROWS)), False, None, None),
        "duplicate": (d.duplicate_row(GRID, 4), True, 6, None),
        "nonnumeric": (d.set_cell(GRID, HEADER_AT, 4, "FIPS County Code", "0x3"), True, 5, "FIPS County Code"),
        "area": (d.set_cell(GRID, HEADER_AT, 3, "Metropolitan/Micropolitan Statistical Area", "Metro Area"), True, 4,
                 "Metropolitan/Micropolitan Statistical Area"),
        "central": (d.set_cell(GRID, HEADER_AT, 5, "Central/Outlying County", "Both"), True, 6,
                    "Central/Outlying County"),
    }[case]
    bad = d.write_xlsx(damaged, tmp_path / f"bad_{case}.xlsx", sheet="List 1")
    d.check_damage(read1, good, bad, must_fail=must_fail, row=row, column=column)


def test_extra_sheet_is_ignored(tmp_path, good):
    bad = d.write_xlsx(GRID, tmp_path / "extra.xlsx", sheet="List 1", extra_sheets=("Notes",))
    d.check_damage(read1, good, bad, must_fail=False)


def test_truncated_and_empty(tmp_path, good):
    d.check_damage(read1, good, d.truncate(good, tmp_path / "cut.xlsx"), must_fail=True)
    d.check_damage(read1, good, d.empty(tmp_path / "empty.xlsx"), must_fail=True)


def test_stray_text_inside_the_data_is_an_error(tmp_path, good):
    grid = GRID[:4] + [["Note: a note in the middle"]] + GRID[4:]
    with pytest.raises(SourceFileError, match="row 5, column"):
        read1(d.write_xlsx(grid, tmp_path / "stray.xlsx"))


def test_bls_crosswalk_latin1(tmp_path):
    grid = [["County Code", "County Title", "MSA Code", "MSA Title", "MSA Type", "CSA Code", "CSA Title"],
            ["35013", "Doña Ana County, New Mexico", "C2974", "Las Cruces, NM", "Metro", "", ""],
            ["35003", "Catron County, New Mexico", "", "", "", "", ""]]
    path = d.write_csv(grid, tmp_path / "bls.csv", encoding="latin-1")
    frame = cd.read_bls_crosswalk(path)
    assert frame.county_name.tolist() == ["Doña Ana County, New Mexico"]  # non-CBSA county left out
    assert frame.cbsa_code.tolist() == ["29740"]


# -- real files -----------------------------------------------------------------------------------
def test_real_lists_agree_across_formats(real_data):
    folder = real_data / cd.FOLDER
    list2 = cd.read_list2(folder / cd.LIST2_FILES["2020"], vintage="2020")
    derived = cd.read_rleuven_cities(folder / "rleuven_cbsa_principal_cities_2018_modified.csv")
    # Sep 2018 equals March 2020 except Bluffton, IN (14160), added in 2020.
    only_2020 = set(list2.cbsa_code) - set(derived.cbsa_code)
    assert only_2020 == {"14160"}
    cleveland = cd.read_list1(folder / cd.LIST1_FILES["2023"], vintage="2023")
    assert cleveland.loc[cleveland.county_fips == "39035", "cbsa_code"].item() == "17410"  # Cuyahoga, 2023 code
