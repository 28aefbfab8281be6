"""Place matching rules on a small made-up delineation, and on the real lists."""

from __future__ import annotations

import pandas as pd
import pytest

from citydip import geo
from citydip.geo.delineations import Delineation
from citydip.geo.match import PlaceMatcher
from citydip.geo.names import normalize, variants


def _delineation() -> Delineation:
    cities = pd.DataFrame({
        "vintage": "2020",
        "cbsa_code": ["38900", "38860", "18140", "17980", "46520", "33460", "31140", "47900", "35620"],
        "cbsa_title": ["Portland-Vancouver-Hillsboro, OR-WA", "Portland-South Portland, ME", "Columbus, OH",
                       "Columbus, GA-AL", "Urban Honolulu, HI", "Minneapolis-St. Paul-Bloomington, MN-WI",
                       "Louisville/Jefferson County, KY-IN", "Washington-Arlington-Alexandria, DC-VA-MD-WV",
                       "New York-Newark-Jersey City, NY-NJ-PA"],
        "area_type": "metro",
        "principal_city": ["Portland", "Portland", "Columbus", "Columbus", "Urban Honolulu", "St. Paul",
                           "Louisville/Jefferson County metro government (balance)", "Washington", "New York"],
        "state_fips": ["41", "23", "39", "13", "15", "27", "21", "11", "36"],
        "place_geoid": [f"{i:07d}" for i in range(9)],
        "source_row": range(9),
    })
    counties = pd.DataFrame({
        "vintage": "2020",
        "cbsa_code": cities.cbsa_code.tolist() + ["33100", "33100", ""],
        "cbsa_title": cities.cbsa_title.tolist() + ["Miami-Fort Lauderdale-Pompano Beach, FL"] * 2 + [""],
        "area_type": ["metro"] * 11 + [""],
        "division_code": "", "csa_code": "",
        "county_name": ["Multnomah County", "Cumberland County", "Franklin County", "Muscogee County",
                        "Honolulu County", "Ramsey County", "Jefferson County", "District of Columbia",
                        "New York County", "Miami-Dade County", "Broward County", "Waldo County"],
        "state_fips": ["41", "23", "39", "13", "15", "27", "21", "11", "36", "12", "12", "23"],
        "county_fips": ["41051", "23005", "39049", "13215", "15003", "27123", "21111", "11001", "36061",
                        "12086", "12011", "23027"],
        "central": True, "source_row": range(12),
    })
    counties = counties[counties.cbsa_code != ""]  # Waldo County ME lies outside every CBSA
    return Delineation("2020", counties, cities)


@pytest.fixture(scope="module")
def matcher() -> PlaceMatcher:
    return PlaceMatcher(_delineation())


@pytest.mark.parametrize("city,state,code,method", [
    ("Portland", "OR", "38900", "principal_city"),
    ("Portland", "ME", "38860", "principal_city"),
    ("Columbus", "GA", "17980", "principal_city"),
    ("Saint Paul", "MN", "33460", "principal_city"),
    ("St Paul", "Minnesota", "33460", "principal_city"),
    ("Honolulu", "HI", "46520", "alias"),
    ("Louisville", "KY", "31140", "alias"),
    ("Brooklyn", "NY", "35620", "alias"),
    ("Washington DC", "", "47900", "alias"),
    ("Miami-Dade County", "FL", "33100", "county"),
    ("Coral Gables", "FL", "33100", "zip_county"),
])
def test_rules(matcher, city, state, code, method):
    m = matcher.match_one(city, state)
    assert (m.cbsa_code, m.method, m.reason) == (code, method, "")


def test_homonym_resolved_by_coordinates(matcher):
    maine = matcher.match_one("Portland", "", 43.66, -70.26)
    oregon = matcher.match_one("Portland", "", 45.52, -122.68)
    assert (maine.cbsa_code, oregon.cbsa_code) == ("38860", "38900")
    assert "coordinates" in maine.note


def test_homonym_without_coordinates_takes_most_populous_and_says_so(matcher):
    m = matcher.match_one("Columbus", "")
    assert m.cbsa_code == "18140"
    assert "most populous" in m.note and "GA" in m.note


def test_far_coordinates_are_ignored_and_said(matcher):
    # A geocoder that put a U.S. Portland in London: the coordinates are reported and set aside.
    m = matcher.match_one("Portland", "", 51.5, -0.1)
    assert m.cbsa_code == "38900" and "ignored" in m.note and "most populous" in m.note


def test_coordinates_place_a_record_whose_name_does_not(matcher):
    # A name no gazetteer knows, with coordinates in Miami: the nearest ZIP code places it.
    m = matcher.match_one("Zzyzxqville", "", 25.77, -80.19)
    assert (m.cbsa_code, m.method) == ("33100", "nearest_zip")
    assert "no U.S. place of this name" in m.note and "nearest ZIP" in m.note
    far = matcher.match_one("Zzyzxqville", "", 0.0, 0.0)
    assert far.cbsa_code == "" and "ZIP" in far.reason


@pytest.mark.parametrize("city,state,reason", [
    ("Belfast", "ME", "outside every CBSA"),
    ("Nowhereville", "OR", "not a principal city"),
    ("Portland", "XX", "not a U.S. state"),
    ("", "OR", "no place name"),
    ("Zzyzxqville", "", "no U.S. place"),
])
def test_unmatched_records_carry_a_reason(matcher, city, state, reason):
    m = matcher.match_one(city, state)
    assert m.cbsa_code == "" and reason in m.reason


def test_match_keeps_every_record(matcher):
    frame = pd.DataFrame({"city": ["Portland", "Nowhereville", "Honolulu"], "state": ["OR", "OR", "HI"]})
    result = matcher.match(frame, city="city", state="state", dataset="demo")
    assert len(result.records) == 3
    assert result.rate == pytest.approx(2 / 3)
    report = result.report(["city", "state"])
    assert report.city.tolist() == ["Nowhereville"] and report.dataset.tolist() == ["demo"]


def test_normalize_and_variants():
    assert normalize("Saint Louis") == normalize("St. Louis") == "st louis"
    assert normalize("Winston-Salem") == "winston salem"
    assert normalize("São Paulo") == "sao paulo"
    assert variants("Indianapolis city (balance)") == ["indianapolis"]
    assert variants("San Buenaventura (Ventura)") == ["san buenaventura", "ventura"]
    assert variants("Nashville-Davidson metropolitan government (balance)") == ["nashville davidson"]


# -- real lists -----------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def delineations(real_data):
    return geo.load(real_data)


def test_vintage_sizes(delineations):
    # Counts stated in the delineation files' provenance note.
    sizes = {v: (len(d.counties), d.counties.cbsa_code.nunique(),
                 d.counties.loc[d.counties.area_type == "metro", "cbsa_code"].nunique())
             for v, d in delineations.items() if v != "2018"}
    assert sizes == {"2013": (1882, 929, 388), "2020": (1916, 939, 392), "2023": (1915, 935, 393)}
    assert len(delineations["2020"].cities) == 1269 and len(delineations["2023"].cities) == 1294


def test_real_principal_cities(delineations):
    m = PlaceMatcher(delineations["2020"])
    assert m.match_one("Honolulu", "HI").cbsa_code == "46520"
    assert m.match_one("Indianapolis", "IN").method == "principal_city"
    assert m.match_one("Nashville", "TN").cbsa_code == "34980"
    assert m.match_one("Columbus", "GA").cbsa_code != m.match_one("Columbus", "OH").cbsa_code
    assert m.match_one("Portland", "ME").cbsa_code == "38860"
    assert m.match_one("Elizabeth", "NJ").cbsa_code == "35620"

