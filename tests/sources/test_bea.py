"""BEA Regional readers: real facts from the files, and the damaged-input contract."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from citydip.errors import MissingSourceError, SourceFileError
from citydip.sources import bea, registry
from tests import damage as d

# -- a made-up sample in the published layout (fields written raw, as BEA writes them) ------------
HEADER = ["GeoFIPS", "GeoName", "Region", "TableName", "LineCode", "IndustryClassification", "Description",
          "Unit", "2019", "2020", "2021"]
LINES = [("1", '"Personal income (thousands of dollars) "', '"Thousands of dollars"'),
         ("2", '"Population (persons) 1/"', '"Number of persons"'),
         ("3", '"Per capita personal income (dollars) 2/"', '"Dollars"')]


def _area(fips: str, name: str, values: list[list[object]]) -> list[list[object]]:
    return [[f' "{fips}"', f'"{name}"', " ", "CAINC1", code, '"..."', desc, unit, *vals]
            for (code, desc, unit), vals in zip(LINES, values)]


ROWS = (_area("11110", "Alpha, TX (Metropolitan Statistical Area)",
              [[2000, 2200, 2400], [100, 110, 120], [20000, 20000, 20000]])
        + _area("22220", "Cañon-Beta, CO (Metropolitan Statistical Area) *",
                [[500, 600, 700], [10, 12, 14], [50000, 50000, 50000]]))
FOOTER = [['"Note: See the included footnote file."'],
          ['"CAINC1: County and MSA personal income summary: personal income, population, per capita personal income "'],
          ['"Last updated: November 16, 2023-- new statistics for 2022; revised statistics for 1979-2021."'],
          ['"U.S. Bureau of Economic Analysis"']]
GRID = [HEADER] + ROWS + FOOTER


def write_bea(grid, path: Path, encoding: str = "latin-1", bom: bool = False) -> Path:
    text = "".join(",".join("" if c is None else str(c) for c in row) + "\r\n" for row in grid)
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + text.encode(encoding))
    return path


def value(frame, fips, year, column):
    row = frame[(frame.geo_fips == fips) & (frame.year == year)]
    assert len(row) == 1
    return float(row[column].iloc[0])


# -- real data ---------------------------------------------------------------------------------
FOLDER = "bea_regional"


@pytest.fixture(scope="module")
def income(real_data):
    return bea.read_cainc1(real_data / FOLDER / "CAINC1_MSA_1969_2022.csv")


@pytest.fixture(scope="module")
def gdp(real_data):
    return bea.read_cagdp1(real_data / FOLDER / "CAGDP1_MSA_2001_2022.csv")


def test_cainc1_msa_has_384_msas_1969_2022(income):
    assert income.geo_fips.nunique() == 384
    assert set(income.geo_level) == {"msa"}
    assert sorted(income.year.unique()) == list(range(1969, 2023))
    assert len(income) == 384 * 54  # footer lines removed, one row per (MSA, year)
    assert not income.duplicated(["geo_fips", "year"]).any()
    assert not income.geo_name.str.contains(r"Metropolitan|\*|Bureau|Note:", regex=True).any()


def test_cainc1_msa_has_no_suppressed_cells(income):
    assert income.missing_markers.eq("").all()
    assert not income[["personal_income_thousands_usd", "population_persons", "per_capita_income_usd"]].isna().any().any()


def test_abilene_values_read_by_hand(income):
    # Line 2 of " "10180"" in CAINC1_MSA_1969_2022.csv: 1969 = 125138, 2019 = 175187, 2022 = 179308 persons;
    # line 1, 1969 = 397478 thousand dollars.
    assert value(income, "10180", 1969, "population_persons") == 125_138
    assert value(income, "10180", 2019, "population_persons") == 175_187
    assert value(income, "10180", 2022, "population_persons") == 179_308
    assert value(income, "10180", 1969, "personal_income_thousands_usd") == 397_478
    assert income.loc[income.geo_fips == "10180", "geo_name"].iloc[0] == "Abilene, TX"


def test_per_capita_income_is_income_over_population(income):
    implied = income.personal_income_thousands_usd * 1000 / income.population_persons
    assert (implied - income.per_capita_income_usd).abs().max() <= 1.0


def test_star_marks_footnoted_msas(income):
    noted = set(income.loc[income.area_note, "geo_fips"])
    assert len(noted) == 16
    assert {"49740", "19740", "47900"} <= noted  # Yuma (La Paz split), Denver (Broomfield), Washington (VA cities)
    assert income.loc[income.geo_fips == "49740", "geo_name"].iloc[0] == "Yuma, AZ"


def test_cagdp1_msa_has_384_msas_and_2017_base(gdp, income):
    assert gdp.geo_fips.nunique() == 384
    assert set(gdp.geo_fips) == set(income.geo_fips)
    assert sorted(gdp.year.unique()) == list(range(2001, 2023))
    assert gdp.missing_markers.eq("").all() and not gdp.isna().any().any()
    base = gdp[gdp.year == 2017]
    assert (base.real_gdp_index_2017_100 == 100).all()
    np.testing.assert_array_equal(base.real_gdp_thousands_chained2017_usd, base.gdp_thousands_current_usd)
    assert value(gdp, "10180", 2001, "real_gdp_thousands_chained2017_usd") == 5_286_630
    assert value(gdp, "10180", 2022, "gdp_thousands_current_usd") == 9_468_978


@pytest.mark.slow
def test_county_files_levels_markers_and_latin1(real_data):
    inc = bea.read_cainc1(real_data / FOLDER / "CAINC1__ALL_AREAS_1969_2021_counties_states.csv")
    levels = inc.drop_duplicates("geo_fips").geo_level.value_counts()
    assert (levels["nation"], levels["region"], levels["state"]) == (1, 8, 51)
    assert inc.loc[inc.geo_fips == "35013", "geo_name"].iloc[0] == "Doña Ana, NM"
    assert inc.year.max() == 2021
    # States add up to the nation (population, persons).
    states = inc[(inc.geo_level == "state") & (inc.year == 2020)].population_persons.sum()
    assert states == pytest.approx(value(inc, "00000", 2020, "population_persons"), rel=1e-6)
    # Counties created later are (NA) before they exist, e.g. Broomfield CO (08014) before 2002.
    assert np.isnan(value(inc, "08014", 2000, "population_persons"))
    assert inc.loc[(inc.geo_fips == "08014") & (inc.year == 2000), "missing_markers"].iloc[0] == "(NA)"
    gdp = bea.read_cagdp1(real_data / FOLDER / "CAGDP1__ALL_AREAS_2001_2022.csv")
    assert set(gdp.missing_markers.unique()) >= {"", "(NA)"}
    assert gdp.missing_markers.str.contains(r"\(NM\)", regex=True).any()


def test_registered_globs_find_the_files(real_data):
    found = {f.key: f.path(real_data, real_data) for f in registry.catalogue() if f.folder == FOLDER}
    assert found["bea_cainc1_msa"].name == "CAINC1_MSA_1969_2022.csv"
    assert found["bea_cagdp1_msa"].name == "CAGDP1_MSA_2001_2022.csv"
    assert found["bea_cainc1_counties"].name == "CAINC1__ALL_AREAS_1969_2021_counties_states.csv"
    assert found["bea_cagdp1_counties"].name == "CAGDP1__ALL_AREAS_2001_2022.csv"


# -- sample and damaged files -------------------------------------------------------------------
@pytest.fixture
def good(tmp_path) -> Path:
    return write_bea(GRID, tmp_path / "CAINC1_MSA_1969_2021.csv")


def test_sample_reads_tidy_with_units(good):
    frame = bea.read_cainc1(good)
    assert list(frame.columns) == bea.CAINC1_SCHEMA.names
    assert len(frame) == 6
    assert value(frame, "11110", 2020, "personal_income_thousands_usd") == 2200
    assert value(frame, "22220", 2021, "population_persons") == 14
    assert value(frame, "22220", 2019, "per_capita_income_usd") == 50000
    beta = frame[frame.geo_fips == "22220"].iloc[0]
    assert beta.geo_name == "Cañon-Beta, CO" and bool(beta.area_note) and beta.geo_level == "msa"
    assert not frame[frame.geo_fips == "11110"].area_note.any()


def test_markers_become_nan_and_are_named(tmp_path, good):
    grid = d.set_cell(GRID, 0, 2, "2020", "(D)")
    frame = bea.read_cainc1(write_bea(grid, tmp_path / "d.csv"))
    assert np.isnan(value(frame, "11110", 2020, "population_persons"))
    assert frame.set_index(["geo_fips", "year"]).missing_markers.to_dict() == {
        ("11110", 2019): "", ("11110", 2020): "(D)", ("11110", 2021): "",
        ("22220", 2019): "", ("22220", 2020): "", ("22220", 2021): ""}


@pytest.mark.parametrize("case", ["rename", "drop", "shuffle", "duplicate", "nonnumeric", "marker", "year_high",
                                  "year_low", "unit", "negative", "line", "table", "fips"])
def test_damaged_grids(tmp_path, good, case):
    damaged, must_fail, row, column = {
        "rename": (d.rename_column(GRID, 0, "GeoFIPS", "GeoFips"), True, 1, "GeoFIPS"),
        "drop": (d.drop_column(GRID, 0, "Unit"), True, 1, "Unit"),
        "shuffle": (d.shuffle_columns(GRID, 0, len(ROWS)), False, None, None),
        "duplicate": (d.duplicate_row(GRID, 2), True, 4, "GeoFIPS"),
        "nonnumeric": (d.set_cell(GRID, 0, 2, "2020", "n/a"), True, 3, "2020"),
        "marker": (d.set_cell(GRID, 0, 2, "2020", "(Z)"), True, 3, "2020"),
        "year_high": (d.rename_column(GRID, 0, "2021", "2099"), True, 1, "2099"),
        "year_low": (d.rename_column(GRID, 0, "2019", "1950"), True, 1, "1950"),
        "unit": (d.set_cell(GRID, 0, 1, "Unit", '"Thousands of chained 2012 dollars"'), True, 2, "Unit"),
        "negative": (d.set_cell(GRID, 0, 5, "2021", "-12"), True, 6, "2021"),
        "line": (d.set_cell(GRID, 0, 3, "LineCode", "4"), True, 4, "LineCode"),
        "table": (d.set_cell(GRID, 0, 4, "TableName", "CAGDP1"), True, 5, "TableName"),
        "fips": (d.set_cell(GRID, 0, 1, "GeoFIPS", "1111"), True, 2, "GeoFIPS"),
    }[case]
    bad = write_bea(damaged, tmp_path / f"bad_{case}.csv")
    d.check_damage(bea.read_cainc1, good, bad, must_fail=must_fail, row=row, column=column)


def test_missing_footer_is_an_error(tmp_path, good):
    # Without its footer a BEA file has been cut at a line break: the data may be incomplete.
    bad = write_bea(GRID[:-4], tmp_path / "nofooter.csv")
    d.check_damage(bea.read_cainc1, good, bad, must_fail=True)
    with pytest.raises(SourceFileError, match="footer"):
        bea.read_cainc1(bad)
    partial = write_bea(GRID[:-2], tmp_path / "halffooter.csv")  # cut after "Note:" and the title
    d.check_damage(bea.read_cainc1, good, partial, must_fail=True)


def test_missing_line_of_an_area_is_an_error(tmp_path, good):
    bad = write_bea(GRID[:6] + GRID[7:], tmp_path / "noline.csv")  # the second area loses line 3
    d.check_damage(bea.read_cainc1, good, bad, must_fail=True, column="LineCode")


def test_name_changing_between_lines_is_an_error(tmp_path, good):
    bad = write_bea(d.set_cell(GRID, 0, 2, "GeoName", '"Alpha, NM (Metropolitan Statistical Area)"'),
                    tmp_path / "names.csv")
    d.check_damage(bea.read_cainc1, good, bad, must_fail=True, column="GeoName")


def test_footer_padded_with_commas_is_harmless(tmp_path, good):
    padded = [HEADER] + ROWS + [row + [""] * (len(HEADER) - 1) for row in FOOTER]
    d.check_damage(bea.read_cainc1, good, write_bea(padded, tmp_path / "padded.csv"), must_fail=False)


def test_truncated_file(tmp_path, good):
    d.check_damage(bea.read_cainc1, good, d.truncate(good, tmp_path / "cut.csv"), must_fail=True)
    d.check_damage(bea.read_cainc1, good, d.truncate(good, tmp_path / "cut2.csv", fraction=0.9), must_fail=True)


def test_utf8_resave_reads_identically(tmp_path, good):
    d.check_damage(bea.read_cainc1, good, write_bea(GRID, tmp_path / "utf8.csv", encoding="utf-8"), must_fail=False)
    d.check_damage(bea.read_cainc1, good, write_bea(GRID, tmp_path / "bom.csv", encoding="utf-8", bom=True),
                   must_fail=False)


def test_utf16_fails_clearly(tmp_path, good):
    bad = write_bea(GRID, tmp_path / "utf16.csv", encoding="utf-16")
    d.check_damage(bea.read_cainc1, good, bad, must_fail=True, row=1)
    with pytest.raises(SourceFileError, match="UTF-16"):
        bea.read_cainc1(bad)


def test_empty_file(tmp_path, good):
    d.check_damage(bea.read_cainc1, good, d.empty(tmp_path / "empty.csv"), must_fail=True)


def test_blank_trailing_lines_are_harmless(tmp_path, good):
    bad = d.add_empty_rows_to_file(write_bea(GRID, tmp_path / "blank.csv"))
    d.check_damage(bea.read_cainc1, good, bad, must_fail=False)


def test_gdp_reader_rejects_an_income_file(good):
    with pytest.raises(SourceFileError, match="CAGDP1") as exc:
        bea.read_cagdp1(good)
    assert exc.value.column == "TableName"


def test_gdp_sample_units(tmp_path):
    lines = [("1", '"Real GDP (thousands of chained 2017 dollars) "', '"Thousands of chained 2017 dollars"'),
             ("2", '"Chain-type quantity indexes for real GDP "', '"Quantity index"'),
             ("3", '"Current-dollar GDP (thousands of current dollars) "', '"Thousands of dollars"')]
    rows = [[' "11110"', '"Alpha, TX (Metropolitan Statistical Area)"', " ", "CAGDP1", c, '"..."', desc, unit, *v]
            for (c, desc, unit), v in zip(lines, [[900, 1000, 1100], ["90.000", "100.000", "110.000"],
                                                  [800, 1000, 1200]])]
    header = HEADER[:8] + ["2016", "2017", "2018"]
    frame = bea.read_cagdp1(write_bea([header] + rows + FOOTER, tmp_path / "gdp.csv"))
    assert list(frame.columns) == bea.CAGDP1_SCHEMA.names
    assert value(frame, "11110", 2017, "real_gdp_index_2017_100") == 100
    assert value(frame, "11110", 2018, "real_gdp_thousands_chained2017_usd") == 1100
    assert value(frame, "11110", 2016, "gdp_thousands_current_usd") == 800
    # A CAGDP1 file starting before 2001 is not the published table.
    early = write_bea([HEADER[:8] + ["2000", "2017", "2018"]] + rows + FOOTER, tmp_path / "early.csv")
    with pytest.raises(SourceFileError, match="outside the expected range"):
        bea.read_cagdp1(early)


def test_missing_file_says_what_to_do(tmp_path):
    with pytest.raises(MissingSourceError, match="citydip fetch"):
        bea.read_cainc1(tmp_path / "CAINC1_MSA_1969_2022.csv")


def test_registry_glob_without_match_reports_missing(tmp_path):
    # With no file matching, the glob pattern itself is returned and reading reports it missing.
    entry = registry.get("bea_cainc1_msa")
    path = entry.path(tmp_path, tmp_path)
    assert path.name == "CAINC1_MSA_1969_*.csv"
    with pytest.raises(MissingSourceError):
        entry.reader(path)
