"""Census PEP readers: real facts from the files, and the damaged-input contract."""

from __future__ import annotations

from pathlib import Path

import pytest

from citydip.errors import SourceFileError
from citydip.sources import census_popest as pep
from tests import damage as d

# -- made-up samples in the published layouts --------------------------------------------------
HEADER = ["CBSA", "MDIV", "STCOU", "NAME", "LSAD", "CENSUS2010POP", "ESTIMATESBASE2010", "POPESTIMATE2010",
          "POPESTIMATE2011", "NPOPCHG2010", "NPOPCHG2011"]
ROWS = [
    ["11110", "", "", "Alpha, TX", "Metropolitan Statistical Area", 3000, 3001, 3010, 3020, 9, 10],
    ["11110", "", "48001", "Alpha County, TX", "County or equivalent", 3000, 3001, 3010, 3020, 9, 10],
    ["22220", "", "", "Beta, NM", "Metropolitan Statistical Area", 900, 900, 905, 910, 5, 5],
    ["22220", "22224", "", "Beta East, NM", "Metropolitan Division", 400, 400, 402, 404, 2, 2],
    ["22220", "22224", "35013", "Doña Ana County, NM", "County or equivalent", 400, 400, 402, 404, 2, 2],
    ["33330", "", "", "Gamma, CO", "Micropolitan Statistical Area", 50, 50, 51, 52, 1, 1],
    ["33330", "", "08043", "Gamma County, CO", "County or equivalent", 50, 50, 51, 52, 1, 1],
]
GRID = [HEADER] + ROWS

CO_HEADER = ["SUMLEV", "REGION", "DIVISION", "STATE", "COUNTY", "STNAME", "CTYNAME", "CENSUS2000POP",
             "ESTIMATESBASE2000", "POPESTIMATE2000", "POPESTIMATE2001"]
CO_ROWS = [["40", "3", "6", "1", "0", "Alabama", "Alabama", 700, 700, 701, 702],
           ["50", "3", "6", "1", "1", "Alabama", "Alpha County", 300, 300, 301, 302],
           ["50", "3", "6", "1", "3", "Alabama", "Beta County", "X", 400, 400, 400]]
CO_GRID = [CO_HEADER] + CO_ROWS


def pop(frame, year, **where):
    mask = frame.year == year
    for k, v in where.items():
        mask &= frame[k] == v
    row = frame[mask]
    assert len(row) == 1
    return int(row.population_persons.iloc[0])


# -- real data ---------------------------------------------------------------------------------
FOLDER = "census_popest"


@pytest.fixture(scope="module")
def vintages(real_data):
    return {v: pep.read_cbsa(real_data / FOLDER / f"cbsa-est{v}-alldata.csv") for v in (2019, 2020, 2021)}


def test_abilene_2020_differs_between_vintages(vintages):
    assert pop(vintages[2020], 2020, cbsa_code="10180", level="msa") == 173_185
    assert pop(vintages[2021], 2020, cbsa_code="10180", level="msa") == 176_809
    assert set(vintages[2020].vintage) == {2020} and set(vintages[2021].vintage) == {2021}


def test_384_msas_per_vintage_and_years(vintages):
    for v, frame in vintages.items():
        levels = frame.drop_duplicates(["cbsa_code", "division_code", "county_fips"]).level.value_counts()
        assert levels["msa"] == 384
        assert levels["division"] == 31
        assert frame.year.max() == v
    assert sorted(vintages[2019].year.unique()) == list(range(2010, 2020))
    assert sorted(vintages[2021].year.unique()) == [2020, 2021]
    micro = {v: f[f.level == "micro"].cbsa_code.nunique() for v, f in vintages.items()}
    assert micro == {2019: 542, 2020: 543, 2021: 543}


def test_counties_add_up_to_their_msa(vintages):
    frame = vintages[2019]
    counties = frame[frame.level == "county"].groupby(["cbsa_code", "year"]).population_persons.sum()
    msas = frame[frame.level.isin(["msa", "micro"])].set_index(["cbsa_code", "year"]).population_persons
    assert (counties.loc[msas.index] == msas).all()


def test_vintage_2020_leading_zeros_restored_and_latin1(vintages):
    frame = vintages[2020]
    # The published V2020 copy writes STCOU 2020 for Anchorage Municipality (02020).
    assert pop(frame, 2010, county_fips="02020") > 0
    assert frame.county_fips[frame.level == "county"].str.fullmatch(r"\d{5}").all()
    assert "Doña Ana County, NM" in set(frame.name)


def test_county_2000s(real_data):
    frame = pep.read_county_2000s(real_data / FOLDER / "co-est2009-alldata_popcols_only.csv")
    levels = frame.drop_duplicates("county_fips").level.value_counts()
    assert (levels["county"], levels["state"]) == (3143, 51)
    assert sorted(frame.year.unique()) == list(range(2000, 2010))
    assert set(frame.vintage) == {2009}
    assert pop(frame, 2005, county_fips="01001") == 47_870  # Autauga County, AL, read by hand
    # Counties add up to their state.
    sums = frame[frame.level == "county"].groupby(["state_fips", "year"]).population_persons.sum()
    states = frame[frame.level == "state"].set_index(["state_fips", "year"]).population_persons
    assert (sums.loc[states.index] == states).all()


# -- sample and damaged files -------------------------------------------------------------------
@pytest.fixture
def good(tmp_path) -> Path:
    return d.write_csv(GRID, tmp_path / "cbsa-est2011-alldata.csv", encoding="latin-1")


def test_sample_reads_long_with_vintage(good):
    frame = pep.read_cbsa(good)
    assert list(frame.columns) == pep.CBSA_SCHEMA.names
    assert len(frame) == 2 * len(ROWS)
    assert pop(frame, 2011, cbsa_code="11110", level="msa") == 3020
    assert pop(frame, 2010, county_fips="35013") == 402
    assert set(frame.vintage) == {2011}
    assert frame.set_index("county_fips").loc["35013", "name"].iloc[0] == "Doña Ana County, NM"
    assert dict(frame.drop_duplicates(["cbsa_code", "division_code", "county_fips"]).level.value_counts()) == {
        "county": 3, "msa": 2, "division": 1, "micro": 1}


@pytest.mark.parametrize("case", ["rename", "drop", "shuffle", "duplicate", "nonnumeric", "fraction", "negative",
                                  "empty_cell", "year", "lsad", "stcou_on_msa", "code"])
def test_damaged_grids(tmp_path, good, case):
    damaged, must_fail, row, column = {
        "rename": (d.rename_column(GRID, 0, "CBSA", "CBSA_CODE"), True, 1, "CBSA"),
        "drop": (d.drop_column(GRID, 0, "LSAD"), True, 1, "LSAD"),
        "shuffle": (d.shuffle_columns(GRID, 0, len(ROWS)), False, None, None),
        "duplicate": (d.duplicate_row(GRID, 3), True, 5, "CBSA"),
        "nonnumeric": (d.set_cell(GRID, 0, 2, "POPESTIMATE2011", "n/a"), True, 3, "POPESTIMATE2011"),
        "fraction": (d.set_cell(GRID, 0, 2, "POPESTIMATE2011", "3020.5"), True, 3, "POPESTIMATE2011"),
        "negative": (d.set_cell(GRID, 0, 6, "POPESTIMATE2010", -4), True, 7, "POPESTIMATE2010"),
        "empty_cell": (d.set_cell(GRID, 0, 6, "POPESTIMATE2010", ""), True, 7, "POPESTIMATE2010"),
        "year": (d.rename_column(GRID, 0, "POPESTIMATE2011", "POPESTIMATE2099"), True, 1, "POPESTIMATE2099"),
        "lsad": (d.set_cell(GRID, 0, 4, "LSAD", "Metro Division"), True, 5, "LSAD"),
        "stcou_on_msa": (d.set_cell(GRID, 0, 1, "STCOU", "48999"), True, 2, "STCOU"),
        "code": (d.set_cell(GRID, 0, 2, "STCOU", "48-001"), True, 3, "STCOU"),
    }[case]
    bad = d.write_csv(damaged, tmp_path / f"bad_{case}.csv", encoding="latin-1")
    d.check_damage(pep.read_cbsa, good, bad, must_fail=must_fail, row=row, column=column)


def test_dropped_leading_zero_is_restored(tmp_path, good):
    bad = d.write_csv(d.set_cell(GRID, 0, 7, "STCOU", "8043"), tmp_path / "zeros.csv", encoding="latin-1")
    d.check_damage(pep.read_cbsa, good, bad, must_fail=False)


def test_dropped_year_column_changes_the_vintage_not_the_values(tmp_path, good):
    bad = d.write_csv(d.drop_column(GRID, 0, "POPESTIMATE2011"), tmp_path / "short.csv", encoding="latin-1")
    frame = pep.read_cbsa(bad)
    assert sorted(frame.year.unique()) == [2010] and set(frame.vintage) == {2010}
    assert pop(frame, 2010, county_fips="08043") == 51


def test_file_name_vintage_must_match_the_columns(tmp_path):
    bad = d.write_csv(GRID, tmp_path / "cbsa-est2019-alldata.csv", encoding="latin-1")
    with pytest.raises(SourceFileError, match="vintage 2019"):
        pep.read_cbsa(bad)


def test_truncated_file(tmp_path, good):
    d.check_damage(pep.read_cbsa, good, d.truncate(good, tmp_path / "cut.csv"), must_fail=True)


def test_utf8_resave_reads_identically(tmp_path, good):
    resaved = d.write_csv(GRID, tmp_path / "utf8.csv", encoding="utf-8", bom=True)
    d.check_damage(pep.read_cbsa, good, resaved, must_fail=False)


def test_utf16_fails_clearly(tmp_path, good):
    bad = d.write_csv(GRID, tmp_path / "utf16.csv", encoding="utf-16")
    d.check_damage(pep.read_cbsa, good, bad, must_fail=True, row=1)
    with pytest.raises(SourceFileError, match="UTF-16"):
        pep.read_cbsa(bad)


def test_empty_file(tmp_path, good):
    d.check_damage(pep.read_cbsa, good, d.empty(tmp_path / "empty.csv"), must_fail=True)


def test_blank_trailing_lines_are_harmless(tmp_path, good):
    bad = d.add_empty_rows_to_file(d.write_csv(GRID, tmp_path / "blank.csv", encoding="latin-1"))
    d.check_damage(pep.read_cbsa, good, bad, must_fail=False)


@pytest.fixture
def good_co(tmp_path) -> Path:
    return d.write_csv(CO_GRID, tmp_path / "co-est2001-alldata.csv")


def test_county_sample(good_co):
    frame = pep.read_county_2000s(good_co)
    assert list(frame.columns) == pep.COUNTY_SCHEMA.names
    assert pop(frame, 2001, county_fips="01001") == 302
    assert pop(frame, 2000, county_fips="01000") == 701
    assert set(frame.level) == {"state", "county"} and set(frame.vintage) == {2001}


@pytest.mark.parametrize("case", ["shuffle", "duplicate", "nonnumeric", "year", "sumlev", "state_county",
                                  "drop"])
def test_county_damaged_grids(tmp_path, good_co, case):
    damaged, must_fail, row, column = {
        "shuffle": (d.shuffle_columns(CO_GRID, 0, len(CO_ROWS)), False, None, None),
        "duplicate": (d.duplicate_row(CO_GRID, 2), True, 4, "STATE"),
        "nonnumeric": (d.set_cell(CO_GRID, 0, 2, "POPESTIMATE2000", "X"), True, 3, "POPESTIMATE2000"),
        "year": (d.rename_column(CO_GRID, 0, "POPESTIMATE2001", "POPESTIMATE2011"), True, 1, "POPESTIMATE2011"),
        "sumlev": (d.set_cell(CO_GRID, 0, 2, "SUMLEV", "155"), True, 3, "SUMLEV"),
        "state_county": (d.set_cell(CO_GRID, 0, 1, "COUNTY", "5"), True, 2, "COUNTY"),
        "drop": (d.drop_column(CO_GRID, 0, "COUNTY"), True, 1, "COUNTY"),
    }[case]
    bad = d.write_csv(damaged, tmp_path / f"bad_{case}.csv")
    d.check_damage(pep.read_county_2000s, good_co, bad, must_fail=must_fail, row=row, column=column)


def test_county_truncated_and_empty(tmp_path, good_co):
    d.check_damage(pep.read_county_2000s, good_co, d.truncate(good_co, tmp_path / "cut.csv"), must_fail=True)
    d.check_damage(pep.read_county_2000s, good_co, d.empty(tmp_path / "empty.csv"), must_fail=True)
