"""CDP–ICLEI city-wide emissions readers: real facts from the six files, and the damaged-input contract."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from citydip.errors import MissingSourceError, SourceFileError
from citydip.sources import cdp
from tests import damage as d

# -- made-up files in the published layouts ------------------------------------------------------
# 2019 layout (the columns the reader uses, two emission columns and an unused one); made-up values.
HEADER_2019 = ["Year Reported to CDP", "Account Number", "Organization", "City", "Country", "CDP Region",
               "Reporting Authority", "Access", "City-wide Emissions Inventory", "Accounting Year",
               "Total Scope 1 Emissions (metric tonnes CO2e)", "Total BASIC Emissions (GPC)", "City Location"]
ROWS_2019 = [
    ["2019", "900001", "City of Springfield, IL", "Springfield", "United States of America", "North America",
     "CDP Cities", "public", "Yes", "2017-01-01 - 2017-12-31", "1234.5", "2000", "POINT (-89.65 39.8)"],
    ["2019", "900002", "City of Shelbyville", "", "United States of America", "North America", "CDP Cities",
     "public", "In progress", "", "", "", ""],
    ["2019", "900003", "Town of Ogdenville (OR)", "Ogdenville", "United States of America", "North America",
     "C40, CDP Cities", "public", "", "-", "", "", "POINT (122.5 45.1)"],
    ["2019", "900004", "Municipio de Capital City", "Capital City", "Borduria", "Europe", "CDP Cities", "public",
     "Yes", "2018-07-01 - 2019-06-30", "99", "", "POINT (20.5 44.8)"],
]
GRID_2019 = [HEADER_2019] + ROWS_2019

# 2016 layout: '(lat, lon)', a C40 column, no inventory question.
HEADER_2016 = ["Account Number", "City Name", "Country", "City Short Name", "C40", "Reporting Year",
               "Measurement Year", "Total City-wide Emissions (metric tonnes CO2e)", "City Location"]
ROWS_2016 = [
    ["900001", "City of Springfield, IL", "USA", "Springfield, IL", "", "2016", "12/31/2013 12:00:00 AM", "1000",
     "(39.8, -89.65)"],
    ["900005", "City of North Haverbrook", "USA", "North Haverbrook", "C40", "2016", "06/30/2014 12:00:00 AM",
     "250.5", "(44.1, -72.6)"],
]
GRID_2016 = [HEADER_2016] + ROWS_2016

def read_2019(path: Path):
    return cdp.read_year(path, 2019)


def read_2016(path: Path):
    return cdp.read_year(path, 2016)


def write(grid, path: Path, **kw) -> Path:
    """The published layout: UTF-8 without BOM, minimal quoting, a line break after every line."""
    return d.write_csv(grid, path, **kw)


# -- real data ---------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def cities(real_data):
    return cdp.read_all(real_data)


def test_rows_and_us_rows_per_year(cities):
    assert list(cities.columns) == cdp.SCHEMA.names
    assert cities.groupby("reporting_year").size().to_dict() == {2016: 187, 2017: 229, 2018: 488, 2019: 814,
                                                                 2020: 776, 2021: 989}
    us = cdp.us_rows(cities)
    expected = {2016: 63, 2017: 81, 2018: 136, 2019: 171, 2020: 161, 2021: 173}  # PROVENANCE
    assert us.groupby("reporting_year").size().to_dict() == expected
    assert us.groupby("reporting_year").account_number.nunique().to_dict() == expected
    assert set(us.country) == {"USA", "United States of America"}
    assert not cities.loc[~cities.in_united_states, "country"].isin(cdp.US_COUNTRIES).any()


def test_account_number_is_stable_across_years(cities):
    portland = cities[cities.account_number.eq(14874)]
    assert portland.reporting_year.tolist() == list(cdp.YEARS)
    assert set(portland.organization) == {"City of Portland, OR"}
    assert set(portland.place) == {"Portland"} and set(portland.state) == {"OR"}
    nyc = cities[cities.account_number.eq(3417)]
    assert nyc.reporting_year.tolist() == list(cdp.YEARS) and set(nyc.place) == {"New York City"}
    assert nyc.state.tolist() == [""] * 5 + ["NY"]  # the state is written only in 2021


def test_inventory_status_of_us_rows(cities):
    us = cdp.us_rows(cities)
    table = pd.crosstab(us.reporting_year, us.inventory_status)
    assert table["disclosed"].to_dict() == {2016: 63, 2017: 81, 2018: 102, 2019: 130, 2020: 134, 2021: 144}
    assert table.loc[2018].to_dict() == {"disclosed": 102, "in progress": 8, "intending": 4, "no": 13,
                                         "not intending": 1, "not stated": 8}
    assert table.loc[2020, "intending"] == 13 and table.loc[2021, "in progress"] == 11
    assert (us.has_inventory == us.inventory_status.eq("disclosed")).all()
    assert set(cities.inventory_status) <= set(cdp.INVENTORY_STATUSES)
    # 'in progress' and 'intending' answers carry no emission figure except five 2020 rows
    pending = cities[cities.inventory_status.isin(["in progress", "intending"])]
    assert pending.groupby("reporting_year").has_emissions_figure.sum().to_dict() == {2018: 0, 2019: 0, 2020: 5,
                                                                                      2021: 0}


def test_c40_only_in_2016_and_2017(cities):
    by = cities.groupby("reporting_year").c40
    assert by.apply(lambda s: s.isna().all()).to_dict() == {2016: False, 2017: False, 2018: True, 2019: True,
                                                            2020: True, 2021: True}
    us = cdp.us_rows(cities)
    assert us[us.reporting_year.le(2017)].groupby("reporting_year").c40.sum().to_dict() == {2016: 12, 2017: 12}


def test_places_and_states_are_parsed(cities):
    us = cdp.us_rows(cities)

    def one(year, organization):
        rows = us[us.reporting_year.eq(year) & us.organization.eq(organization)]
        assert len(rows) == 1, organization
        return rows.iloc[0]

    bham = one(2021, "City of Birmingham, AL")
    assert (bham.city, bham.place, bham.state) == ("Birmingham", "Birmingham", "AL")
    lake = one(2016, "City of Lake Forest, IL")
    assert (lake.city, lake.state) == ("Lake Forest", "IL")
    assert one(2018, "City of New Haven (CT)").state == "CT"
    cog = one(2020, "Metropolitan Washington Council of Governments (COG)")  # (COG) is not a state
    assert (cog.city, cog.state, cog.place) == ("", "", "Metropolitan Washington Council of Governments (COG)")
    ashland = one(2020, "City of Ashland, OR")  # empty city field: the organisation names the place
    assert (ashland.city, ashland.place, ashland.state) == ("", "Ashland", "OR")
    assert (us.state.eq("") | us.state.str.fullmatch(r"[A-Z]{2}")).all()
    assert cities.loc[~cities.in_united_states, "state"].eq("").all()


def test_coordinates_by_year_format_and_us_defects(cities):
    la = cities[cities.account_number.eq(10894)].set_index("reporting_year")
    assert la.loc[2016, ["lat", "lon"]].tolist() == [34.0522342, -118.2436849]  # '(lat, lon)'
    assert la.loc[2019, ["lat", "lon"]].tolist() == [34.0522, -118.244]  # 'POINT (lon lat)'
    honolulu = cities[cities.account_number.eq(49339) & cities.reporting_year.eq(2018)].iloc[0]
    assert np.isnan(honolulu.lat) and honolulu.city_location == "POINT (157.59 21.28)"
    assert "outside the United States" in honolulu.flag
    beach = cities[cities.organization.eq("City of Miami Beach, FL") & cities.reporting_year.eq(2017)].iloc[0]
    assert (beach.lat, beach.lon) == (25.790654, -80.130045) and "stray '_'" in beach.flag
    us = cdp.us_rows(cities).dropna(subset=["lat"])
    assert us.lat.between(*cdp.US_LATITUDES).all() and us.lon.between(*cdp.US_LONGITUDES).all()


def test_states_from_other_years_of_the_account(cities):
    filled = cdp.with_account_states(cities)
    cambridge = filled[filled.account_number.eq(55800)].set_index("reporting_year")
    assert cambridge.loc[2017, "state"] == "" and cambridge.loc[2017, "state_filled"] == "MA"
    assert cambridge.loc[2017, "state_note"] == "state MA from the same account's 2019, 2020, 2021 row(s)"
    assert (filled.state_filled[filled.state.ne("")] == filled.state[filled.state.ne("")]).all()


@pytest.mark.slow
def test_us_rows_match_metros_and_every_miss_is_reported(real_data):
    from citydip.geo import report

    names = [f"cdp_cities U.S. rows {y}" for y in cdp.YEARS]
    results = {r.dataset: r for r in report.match_all(real_data, datasets=names)}
    assert {n: len(r.records) for n, r in results.items()} == dict(zip(names, (63, 81, 136, 171, 161, 173)))
    matched = sum(int(r.matched.sum()) for r in results.values())
    assert matched == 773  # of 785 U.S. rows (98.5%)
    missed = report.report_frame(list(results.values()))
    assert len(missed) == 785 - matched and (missed.reason != "").all()
    assert set(missed.record_id.str.extract(r"account (\d+)")[0].astype(int)) == {
        74560, 74563, 63762, 848565, 848567, 848568}  # Moab, Guilford (no CBSA); four regional bodies
    records = pd.concat([r.records for r in results.values()])
    records["account"] = records.record_id.str.extract(r"account (\d+)")[0]
    per_account = records[records.cbsa_code.ne("")].groupby("account").cbsa_code.nunique()
    assert (per_account == 1).all()  # an account is in one metro in every year
    code = records.set_index("record_id").cbsa_code
    cambridge = records[records.account.eq("55800")].cbsa_code
    assert set(cambridge) == {"14460"}  # Boston, although the 2017 coordinates point to Cambridge, MN
    assert code[records.record_id[records.account.eq("63941")].iloc[0]] == "33100"  # 'Broward' by its organisation


# -- sample and damaged files -------------------------------------------------------------------
@pytest.fixture
def good_2019(tmp_path) -> Path:
    return write(GRID_2019, tmp_path / "2019_sample.csv")


@pytest.fixture
def good_2016(tmp_path) -> Path:
    return write(GRID_2016, tmp_path / "2016_sample.csv")


def test_sample_reads(good_2019, good_2016):
    frame = cdp.read_year(good_2019)
    assert list(frame.columns) == cdp.SCHEMA.names
    assert frame.account_number.tolist() == [900001, 900002, 900003, 900004]
    assert frame.in_united_states.tolist() == [True, True, True, False]
    assert frame.state.tolist() == ["IL", "", "OR", ""]
    assert frame.place.tolist() == ["Springfield", "Shelbyville", "Ogdenville", "Capital City"]
    assert frame.inventory_status.tolist() == ["disclosed", "in progress", "not stated", "disclosed"]
    assert frame.has_emissions_figure.tolist() == [True, False, False, True]
    assert frame.accounting_year_end.tolist() == [2017, pd.NA, pd.NA, 2019]
    assert frame.lat.tolist()[0] == 39.8 and frame.lon.tolist()[0] == -89.65
    assert np.isnan(frame.lat.iloc[2]) and "outside the United States" in frame.flag.iloc[2]  # sign dropped
    assert (frame.lat.iloc[3], frame.lon.iloc[3]) == (44.8, 20.5)  # outside the U.S. and not a U.S. row: kept
    assert frame.c40.isna().all() and frame.reporting_authority.iloc[2] == "C40, CDP Cities"
    old = cdp.read_year(good_2016)
    assert old.c40.tolist() == [False, True] and old.inventory_status.tolist() == ["disclosed", "disclosed"]
    assert old.accounting_year_end.tolist() == [2013, 2014] and old.state.tolist() == ["IL", ""]
    assert (old.lat.iloc[0], old.lon.iloc[0]) == (39.8, -89.65)


def test_year_from_file_name(tmp_path):
    bad = write(GRID_2019, tmp_path / "emissions.csv")
    with pytest.raises(SourceFileError, match="reporting year"):
        cdp.read_year(bad)


@pytest.mark.parametrize("case", ["rename", "drop", "account_text", "account_empty", "duplicate", "year_text",
                                  "year_other", "point_text", "point_format", "point_range", "inventory",
                                  "emissions", "period", "no_name", "country_empty"])
def test_damaged_grids(tmp_path, good_2019, case):
    damaged, row, column = {
        "rename": (d.rename_column(GRID_2019, 0, "Account Number", "Account No"), 1, "Account Number"),
        "drop": (d.drop_column(GRID_2019, 0, "City Location"), 1, "City Location"),
        "account_text": (d.set_cell(GRID_2019, 0, 2, "Account Number", "A900002"), 3, "Account Number"),
        "account_empty": (d.set_cell(GRID_2019, 0, 2, "Account Number", ""), 3, "Account Number"),
        "duplicate": (d.duplicate_row(GRID_2019, 3), 5, "Account Number"),
        "year_text": (d.set_cell(GRID_2019, 0, 4, "Year Reported to CDP", "2019?"), 5, "Year Reported to CDP"),
        "year_other": (d.set_cell(GRID_2019, 0, 1, "Year Reported to CDP", "2018"), 2, "Year Reported to CDP"),
        "point_text": (d.set_cell(GRID_2019, 0, 1, "City Location", "POINT (abc 39.8)"), 2, "City Location"),
        "point_format": (d.set_cell(GRID_2019, 0, 1, "City Location", "(39.8, -89.65)"), 2, "City Location"),
        "point_range": (d.set_cell(GRID_2019, 0, 4, "City Location", "POINT (20.5 94.8)"), 5, "City Location"),
        "inventory": (d.set_cell(GRID_2019, 0, 2, "City-wide Emissions Inventory", "Maybe"), 3,
                      "City-wide Emissions Inventory"),
        "emissions": (d.set_cell(GRID_2019, 0, 1, "Total Scope 1 Emissions (metric tonnes CO2e)", "1,234.5"), 2,
                      "Total Scope 1 Emissions (metric tonnes CO2e)"),
        "period": (d.set_cell(GRID_2019, 0, 1, "Accounting Year", "FY 2017"), 2, "Accounting Year"),
        "no_name": (d.set_cell(d.set_cell(GRID_2019, 0, 2, "Organization", ""), 0, 2, "City", ""), 3, "Organization"),
        "country_empty": (d.set_cell(GRID_2019, 0, 3, "Country", ""), 4, "Country"),
    }[case]
    bad = write(damaged, tmp_path / f"bad_{case}.csv")
    d.check_damage(read_2019, good_2019, bad, must_fail=True, row=row, column=column)


def test_2016_layout_damage(tmp_path, good_2016):
    cases = {
        "latlon_as_point": (d.set_cell(GRID_2016, 0, 1, "City Location", "POINT (-89.65 39.8)"), 2, "City Location"),
        "c40": (d.set_cell(GRID_2016, 0, 2, "C40", "yes"), 3, "C40"),
        "date": (d.set_cell(GRID_2016, 0, 2, "Measurement Year", "2014"), 3, "Measurement Year"),
        "rename": (d.rename_column(GRID_2016, 0, "City Short Name", "City"), 1, "City Short Name"),
    }
    for name, (grid, row, column) in cases.items():
        bad = write(grid, tmp_path / f"bad_{name}.csv")
        d.check_damage(read_2016, good_2016, bad, must_fail=True, row=row, column=column)


def test_the_2019_layout_is_not_a_2016_file(tmp_path, good_2016):
    bad = write(GRID_2019, tmp_path / "bad.csv")
    d.check_damage(read_2016, good_2016, bad, must_fail=True, row=1, column="City Name")


def test_harmless_changes(tmp_path, good_2019):
    shuffled = write(d.shuffle_columns(GRID_2019, 0, len(ROWS_2019)), tmp_path / "shuffled.csv")
    d.check_damage(read_2019, good_2019, shuffled, must_fail=False)
    blank = d.add_empty_rows_to_file(write(GRID_2019, tmp_path / "blank.csv"))
    d.check_damage(read_2019, good_2019, blank, must_fail=False)
    marker = write(d.set_cell(GRID_2019, 0, 2, "Total BASIC Emissions (GPC)", "Not Applicable"), tmp_path / "na.csv")
    d.check_damage(read_2019, good_2019, marker, must_fail=False)  # 2018's marker of an empty figure
    bom = write(GRID_2019, tmp_path / "bom.csv", bom=True)
    d.check_damage(read_2019, good_2019, bom, must_fail=False)


def test_stray_underscore_before_coordinates_is_removed_and_flagged(tmp_path, good_2016):
    grid = d.set_cell(GRID_2016, 0, 2, "City Location", "_\n(44.1, -72.6)")
    frame = read_2016(write(grid, tmp_path / "stray.csv"))
    assert (frame.lat.iloc[1], frame.lon.iloc[1]) == (44.1, -72.6)
    assert frame.flag.iloc[1] == "stray '_' and line break before the coordinates removed"


def test_truncated(tmp_path, good_2019):
    for fraction in (0.3, 0.6, 0.9):
        bad = d.truncate(good_2019, tmp_path / f"cut{fraction}.csv", fraction)
        d.check_damage(read_2019, good_2019, bad, must_fail=True)


def test_empty(tmp_path, good_2019):
    d.check_damage(read_2019, good_2019, d.empty(tmp_path / "empty.csv"), must_fail=True)
    d.check_damage(read_2019, good_2019, write([HEADER_2019], tmp_path / "header.csv"), must_fail=True)


def test_wrong_encoding(tmp_path):
    grid = d.set_cell(GRID_2019, 0, 4, "Organization", "Municipio de São Tomé")
    good = write(grid, tmp_path / "good.csv")
    d.check_damage(read_2019, good, d.reencode(good, tmp_path / "latin1.csv", "latin-1"), must_fail=True, row=5)
    d.check_damage(read_2019, good, d.reencode(good, tmp_path / "utf16.csv", "utf-16"), must_fail=True)


def test_missing_file(tmp_path):
    with pytest.raises(MissingSourceError, match="citydip fetch"):
        cdp.read_year(tmp_path / "2019_nope.csv")


def test_a_missing_year_file(tmp_path, real_data):
    """read_all names the missing file; missing='skip' reads the years present."""
    root = tmp_path / "data"
    (root / cdp.FOLDER).mkdir(parents=True)
    for year in cdp.YEARS:
        if year != 2018:
            (root / cdp.FOLDER / cdp.FILENAMES[year]).symlink_to(real_data / cdp.FOLDER / cdp.FILENAMES[year])
    with pytest.raises(MissingSourceError) as err:
        cdp.read_all(root)
    assert cdp.FILENAMES[2018] in str(err.value)
    some = cdp.read_all(root, missing="skip")
    assert sorted(set(some.reporting_year)) == [2016, 2017, 2019, 2020, 2021]
