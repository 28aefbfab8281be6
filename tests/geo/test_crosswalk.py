"""ITA titles -> March-2020 CBSA codes, on the real delineation lists and export files."""

from __future__ import annotations

import pytest

from citydip import geo
from citydip.config import SAMPLE_RANK_YEAR, SAMPLE_TOP_N
from citydip.sources import bea, ita


@pytest.fixture(scope="module")
def crosswalk(real_data):
    exports = ita.read_workbook(real_data / "ita_metro_exports_2005_2023" / "ITA_MSA_Export_Series_2005_2023.xlsx")
    return geo.titles_to_codes(exports.msa_title.unique(), geo.load(real_data)), exports


@pytest.fixture(scope="module")
def top100(real_data):
    income = bea.read_cainc1(next((real_data / "bea_regional").glob("CAINC1_MSA_1969_*.csv")))
    year = income[(income.year == SAMPLE_RANK_YEAR) & (income.geo_level == "msa")]
    return year.nlargest(SAMPLE_TOP_N, "population_persons").geo_fips.tolist()


def codes_of(cw, fragment):
    return set(cw.loc[cw.title.str.contains(fragment, regex=False), "cbsa_code"])


def test_every_metro_title_matches_and_catch_alls_are_reported(crosswalk):
    cw, _ = crosswalk
    unmatched = cw[cw.cbsa_code == ""]
    assert sorted(unmatched.title) == ["Z-Crossovers", "Z-Non Metropolitan Areas", "Z-Other Metropolitan Areas",
                                       "Z-Unknown"]
    assert (unmatched.match_reason != "").all()


def test_changed_codes_follow_county_overlap(crosswalk):
    cw, _ = crosswalk
    assert codes_of(cw, "Cleveland-Elyria, OH") == {"17460"}
    assert codes_of(cw, "Kiryas Joel-Poughkeepsie-Newburgh, NY") == {"39100"}
    assert codes_of(cw, "Poughkeepsie-Newburgh-Middletown, NY") == {"39100"}
    kiryas = cw[cw.title == "Kiryas Joel-Poughkeepsie-Newburgh, NY"].iloc[0]
    assert kiryas.method == "county_overlap" and kiryas.source_code == "28880"
    # Houston's 2023 title is not a 2020 title: the code is carried by its counties.
    houston = cw[cw.title == "Houston-Pasadena-The Woodlands, TX"].iloc[0]
    assert (houston.cbsa_code, houston.method) == ("26420", "county_overlap")


def test_connecticut_planning_regions_use_principal_cities(crosswalk):
    cw, _ = crosswalk
    hartford = cw[cw.title == "Hartford-West Hartford-East Hartford, CT"].iloc[0]
    assert (hartford.cbsa_code, hartford.method) == ("25540", "principal_city_overlap")


def test_dissolved_msas_are_placed_by_first_city(crosswalk):
    cw, _ = crosswalk
    anderson = cw[cw.title == "Anderson, SC"].iloc[0]
    assert (anderson.cbsa_code, anderson.method) == ("24860", "title_city")  # Greenville-Anderson


def test_all_top100_metros_match_ita_rows_with_exports(crosswalk, top100):
    cw, exports = crosswalk
    assert len(top100) == 100 and "39100" in top100 and "17460" in top100
    with_data = exports.dropna(subset=["exports_usd"]).merge(cw[["title", "cbsa_code"]], left_on="msa_title",
                                                              right_on="title")
    years = with_data.groupby("cbsa_code").year.nunique()
    missing = [c for c in top100 if c not in years.index]
    assert missing == []
    # Every top-100 metro has exports in most years (Poughkeepsie is absent 2013-2017, merged into NY then).
    assert years.reindex(top100).min() >= 13


def test_every_2020_metro_has_an_ita_title(crosswalk, real_data):
    cw, _ = crosswalk
    metros = geo.load(real_data)["2020"].metro_codes
    assert metros - set(cw.cbsa_code) == set()
