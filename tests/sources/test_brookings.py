"""Brookings readers: real facts from the files, and the damaged-input contract."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from citydip.errors import SourceFileError
from citydip.sources import brookings as bk
from citydip.sources import registry
from tests import damage as d

# -- made-up samples in the published layouts --------------------------------------------------
CBSA_HEADER = ["year", "cbsa_code", "cbsa_2013_name", "cbsa_2013_short_name", "st_abbr", "st_code", "st_name",
               "region_abbr", "region_name", "is_top100", "is_top100_label", "is_metro", "is_metro_label",
               "cbsa_exports_nominal", "cbsa_exports_real", "cbsa_pct_exports_gdp", "cbsa_export_jobs_direct",
               "cbsa_export_jobs_direct_intensity", "cbsa_export_jobs_total", "cbsa_export_jobs_total_intensity",
               "cbsa_2003_2014_pct_export_growth", "cbsa_2008_2017_pct_export_growth",
               "cbsa_2014_2017_pct_export_growth", "cbsa_2003_2017_pct_export_growth", "cbsa_pct_export_growth",
               "cbsa_gdp_nominal", "cbsa_gdp_real", "cbsa_2003_2014_pct_gdp_growth", "cbsa_2008_2017_pct_gdp_growth",
               "cbsa_2003_2017_pct_gdp_growth", "cbsa_2014_2017_pct_gdp_growth", "cbsa_pct_gdp_growth", "cbsa_jobs"]


def _cbsa_row(code, name, top, metro, exports, gdp, jobs):
    return [2017, code, name, name, "TX", 48, "Texas", "S", "South", top, "x", metro, "x", exports, exports,
            exports / gdp, 10.5, 0.01, 20.25, 0.02, "NA", 0.01, -0.02, 0.03, 0.04, gdp, gdp, "NA", 0.01, 0.02,
            0.03, 0.04, jobs]


CBSA_ROWS = [_cbsa_row("11110", "Alpha, TX", 1, 1, 500.5, 5000.0, 40000),
             _cbsa_row("90048", "Rest of Texas", 0, 0, 120.25, 2400.0, 9000)]
CBSA_GRID = [CBSA_HEADER] + CBSA_ROWS

MM_HEADER = ["year", "cbsa", "cbsa_name", "indicator", "value", "topmetro", "metrosize"]
MM_ROWS = [["2009", "11110", "Alpha, TX Metropolitan Statistical Area", "Jobs", "1234.5", "1", "Large"],
           ["2010", "11110", "Alpha, TX Metropolitan Statistical Area", "Real GDP", "1.23E+11", "1", "Large"],
           ["2010", "22220", "Beta, NM Micropolitan Statistical Area ", "Jobs", "", "0", ""],
           ["2010", "99999", "United States", "Jobs", "150000000", "0", ""]]
MM_GRID = [MM_HEADER] + MM_ROWS


# -- real data ---------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def exports_cbsa(real_data):
    return bk.read_export_monitor_cbsa(real_data / bk.EXPORT_FOLDER / "export_monitor_2018_cbsa_2017.csv")


@pytest.fixture(scope="module")
def exports_county(real_data):
    return bk.read_export_monitor_county(real_data / bk.EXPORT_FOLDER / "export_monitor_2018_county_2017.csv")


def test_export_monitor_cbsa_facts(exports_cbsa):
    assert len(exports_cbsa) == 962
    assert set(exports_cbsa.year) == {2017}
    assert (exports_cbsa.is_top100.sum(), exports_cbsa.is_metro.sum(), exports_cbsa.is_rest_of_state.sum()) == (
        100, 381, 45)
    abilene = exports_cbsa.set_index("cbsa_code").loc["10180"]
    assert abilene.exports_nominal_millions_usd == pytest.approx(681.14947509765625, abs=1e-9)
    # 2017 is the base year of the real series.
    np.testing.assert_array_equal(exports_cbsa.exports_real_millions_usd, exports_cbsa.exports_nominal_millions_usd)
    assert exports_cbsa.exports_nominal_millions_usd.sum() == pytest.approx(1_993_868, abs=1)
    share = exports_cbsa.exports_nominal_millions_usd / exports_cbsa.gdp_nominal_millions_usd
    assert (share - exports_cbsa.exports_share_of_gdp).abs().max() < 1e-6


def test_export_monitor_counties_sum_to_cbsas(exports_cbsa, exports_county):
    assert len(exports_county) == 3113
    assert exports_county.state_fips.eq(exports_county.county_fips.str[:2]).all()
    columns = ["exports_nominal_millions_usd", "gdp_nominal_millions_usd", "jobs", "export_jobs_total"]
    sums = exports_county.groupby("cbsa_code")[columns].sum()
    cbsa = exports_cbsa.set_index("cbsa_code")[columns].loc[sums.index]
    assert len(sums) == 962
    np.testing.assert_allclose(sums.to_numpy(), cbsa.to_numpy(), rtol=1e-5)


def test_metro_monitor_growth_flags(real_data):
    frame = bk.read_metro_monitor(real_data / bk.MONITOR_FOLDER / "metro_monitor_2021_growth_values.csv")
    assert sorted(frame.year.unique()) == list(range(2009, 2020))
    rounded = frame[frame.rounded]
    assert len(rounded) == 440
    assert set(rounded.indicator) == {"Real GDP"} and (rounded.value >= 1e11).all()
    atlanta = frame[(frame.cbsa_code == "12060") & (frame.indicator == "Real GDP") & (frame.year == 2009)]
    assert atlanta.value.tolist() == [3.03e11] and bool(atlanta.rounded.iloc[0])
    assert set(frame.loc[frame.conflicting, "cbsa_code"]) == {"13980", "20140", "28780", "30940", "33940", "49260"}
    assert (frame.copies > 1).sum() == 165
    assert not frame.duplicated(["year", "cbsa_code", "cbsa_name", "indicator", "value"]).any()
    assert frame.value.isna().sum() == 52
    jobs = frame[frame.indicator == "Jobs"].drop_duplicates("cbsa_code")
    assert (len(jobs), jobs.is_aggregate.sum()) == (926, 5)  # 921 CBSAs, nation and 4 size groups


def test_metro_monitor_other_files(real_data):
    prosperity = bk.read_metro_monitor(real_data / bk.MONITOR_FOLDER / "metro_monitor_2021_prosperity_values.csv")
    inclusion = bk.read_metro_monitor(real_data / bk.MONITOR_FOLDER / "metro_monitor_2021_inclusion_values.csv")
    assert not prosperity.rounded.any() and prosperity.topmetro.isna().sum() == 66
    assert set(prosperity.indicator) == {"Average Annual Wage", "Output per Job", "Output per Person"}
    assert len(inclusion) == 30782 and not inclusion.conflicting.any() and inclusion.copies.eq(1).all()
    assert set(inclusion.race) == {"Total"}


def test_brookings_entries_are_optional():
    entries = [f for f in registry.catalogue() if f.folder in (bk.EXPORT_FOLDER, bk.MONITOR_FOLDER)]
    assert len(entries) == 5 and all(f.optional for f in entries)


# -- sample and damaged files -------------------------------------------------------------------
@pytest.fixture
def good_cbsa(tmp_path) -> Path:
    return d.write_csv(CBSA_GRID, tmp_path / "cbsa.csv")


@pytest.fixture
def good_mm(tmp_path) -> Path:
    return d.write_csv(MM_GRID, tmp_path / "growth.csv")


def test_export_sample(good_cbsa):
    frame = bk.read_export_monitor_cbsa(good_cbsa)
    assert list(frame.columns) == bk.EXPORT_CBSA_SCHEMA.names
    alpha, rest = frame.iloc[0], frame.iloc[1]
    assert alpha.exports_nominal_millions_usd == 500.5 and alpha.jobs == 40000
    assert bool(alpha.is_top100) and bool(alpha.is_metro) and not alpha.is_rest_of_state
    assert bool(rest.is_rest_of_state) and not rest.is_metro
    assert alpha.export_growth_2016_2017 == 0.04


@pytest.mark.parametrize("case", ["drop", "shuffle", "duplicate", "nonnumeric", "negative", "year", "flag"])
def test_export_damaged(tmp_path, good_cbsa, case):
    damaged, must_fail, row, column = {
        "drop": (d.drop_column(CBSA_GRID, 0, "cbsa_exports_nominal"), True, 1, "cbsa_exports_nominal"),
        "shuffle": (d.shuffle_columns(CBSA_GRID, 0, len(CBSA_ROWS)), False, None, None),
        "duplicate": (d.duplicate_row(CBSA_GRID, 1), True, 3, "cbsa_code"),
        "nonnumeric": (d.set_cell(CBSA_GRID, 0, 2, "cbsa_jobs", "many"), True, 3, "cbsa_jobs"),
        "negative": (d.set_cell(CBSA_GRID, 0, 1, "cbsa_exports_nominal", -1), True, 2, "cbsa_exports_nominal"),
        "year": (d.set_cell(CBSA_GRID, 0, 2, "year", 2018), True, 3, "year"),
        "flag": (d.set_cell(CBSA_GRID, 0, 1, "is_metro", 2), True, 2, "is_metro"),
    }[case]
    bad = d.write_csv(damaged, tmp_path / f"bad_{case}.csv")
    d.check_damage(bk.read_export_monitor_cbsa, good_cbsa, bad, must_fail=must_fail, row=row, column=column)


def test_export_truncated_and_empty(tmp_path, good_cbsa):
    d.check_damage(bk.read_export_monitor_cbsa, good_cbsa, d.truncate(good_cbsa, tmp_path / "cut.csv"), must_fail=True)
    d.check_damage(bk.read_export_monitor_cbsa, good_cbsa, d.empty(tmp_path / "empty.csv"), must_fail=True)


def test_metro_monitor_sample(good_mm):
    frame = bk.read_metro_monitor(good_mm)
    assert list(frame.columns) == bk.MONITOR_SCHEMA.names
    gdp = frame[frame.indicator == "Real GDP"].iloc[0]
    assert gdp.value == 1.23e11 and bool(gdp.rounded) and gdp.unit.startswith("US dollars")
    assert not frame[frame.indicator == "Jobs"].rounded.any()
    beta = frame[frame.cbsa_code == "22220"].iloc[0]
    assert np.isnan(beta.value) and beta.cbsa_name == "Beta, NM Micropolitan Statistical Area"
    assert frame.is_aggregate.tolist() == [False, False, False, True]
    assert frame.copies.eq(1).all() and not frame.conflicting.any()
    assert set(frame.race) == {"Total"}


def test_metro_monitor_repeated_row_is_kept_once(tmp_path, good_mm):
    frame = bk.read_metro_monitor(d.write_csv(d.duplicate_row(MM_GRID, 1), tmp_path / "dup.csv"))
    assert len(frame) == len(MM_ROWS)
    assert frame.copies.tolist() == [2, 1, 1, 1]
    assert not frame.conflicting.any()


def test_metro_monitor_conflict_is_flagged(tmp_path):
    grid = MM_GRID + [["2009", "11110", "Alpha, TX Metropolitan Statistical Area", "Jobs", "999", "1", "Large"]]
    frame = bk.read_metro_monitor(d.write_csv(grid, tmp_path / "conflict.csv"))
    assert frame.conflicting.tolist() == [True, True, False, False, False]


@pytest.mark.parametrize("case", ["rename", "shuffle", "nonnumeric", "year", "indicator", "topmetro"])
def test_metro_monitor_damaged(tmp_path, good_mm, case):
    damaged, must_fail, row, column = {
        "rename": (d.rename_column(MM_GRID, 0, "indicator", "measure"), True, 1, "indicator"),
        "shuffle": (d.shuffle_columns(MM_GRID, 0, len(MM_ROWS)), False, None, None),
        "nonnumeric": (d.set_cell(MM_GRID, 0, 1, "value", "1,234"), True, 2, "value"),
        "year": (d.set_cell(MM_GRID, 0, 2, "year", "2021"), True, 3, "year"),
        "indicator": (d.set_cell(MM_GRID, 0, 3, "indicator", "Exports"), True, 4, "indicator"),
        "topmetro": (d.set_cell(MM_GRID, 0, 1, "topmetro", "yes"), True, 2, "topmetro"),
    }[case]
    bad = d.write_csv(damaged, tmp_path / f"bad_{case}.csv")
    d.check_damage(bk.read_metro_monitor, good_mm, bad, must_fail=must_fail, row=row, column=column)


def test_metro_monitor_truncated_and_utf16(tmp_path, good_mm):
    d.check_damage(bk.read_metro_monitor, good_mm, d.truncate(good_mm, tmp_path / "cut.csv"), must_fail=True)
    with pytest.raises(SourceFileError, match="UTF-16"):
        bk.read_metro_monitor(d.write_csv(MM_GRID, tmp_path / "utf16.csv", encoding="utf-16"))
