"""Wikipedia twin-cities readers: real facts, and the damaged-input contract."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from citydip.sources import hekman
from tests import damage as d

RAW = [["city1", "country1", "city2", "country2"],
       ["Springfield", "United States", "Szohod", "Borduria"],
       ["Szohod", "Borduria", "Klow", "Syldavia"],
       ["Klow", "Syldavia", "Shelbyville", "Ohio, United States"],
       ["Klow", "Syldavia", "Dbrnouk", ""]]
GEO = [["city1", "country1", "lat1", "lng1", "city2", "country2", "lat2", "lng2"],
       ["Springfield", "United States", "39.8", "-89.6", "Szohod", "Borduria", "45.1", "20.3"],
       ["Szohod", "Borduria", "45.1", "20.3", "Klow", "Syldavia", "", ""],
       ["Klow", "Syldavia", "", "", "Shelbyville", "Ohio, United States", "39.5", "-84.1"]]


@pytest.fixture(scope="module")
def raw(real_data):
    return hekman.read_raw(real_data / hekman.FOLDER / hekman.RAW_FILE)


@pytest.fixture(scope="module")
def geocoded(real_data):
    return hekman.read_geocoded(real_data / hekman.FOLDER / hekman.GEOCODED_FILE)


def test_us_pairs_match_provenance(raw):
    assert len(raw) == 26114
    exact = raw.country1.eq("United States") | raw.country2.eq("United States")
    assert exact.sum() == 2641  # the provenance definition: raw file, exact country string
    assert raw.involves_us.sum() == 2643  # plus 'New York, United States' and 'Ohio, United States'
    names = np.concatenate([raw.city1[raw.country1.eq("United States")], raw.city2[raw.country2.eq("United States")]])
    assert len(set(names)) == 1024
    counts = {c: int((names == c).sum()) for c in ("Chicago", "Atlanta", "Los Angeles", "Houston")}
    assert counts == {"Chicago": 22, "Atlanta": 19, "Los Angeles": 18, "Houston": 16}


def test_geocoded_is_a_subset_with_coordinates(raw, geocoded):
    assert len(geocoded) == 25917
    assert (geocoded.country1.eq("United States") | geocoded.country2.eq("United States")).sum() == 2614
    merged = geocoded.merge(raw, on=hekman.PAIR, how="left", indicator=True)
    assert merged["_merge"].eq("both").all()
    assert geocoded.lat1.between(-90, 90).all() and geocoded.lng2.between(-180, 180).all()


@pytest.fixture
def good_raw(tmp_path) -> Path:
    return d.write_csv(RAW, tmp_path / "raw.csv")


@pytest.fixture
def good_geo(tmp_path) -> Path:
    return d.write_csv(GEO, tmp_path / "geo.csv")


def test_samples(good_raw, good_geo):
    raw = hekman.read_raw(good_raw)
    assert raw.involves_us.tolist() == [True, False, True, False]
    assert raw.nation2.tolist() == ["Borduria", "Syldavia", "United States", ""]
    geo = hekman.read_geocoded(good_geo)
    assert geo.lat2.isna().tolist() == [False, True, False] and geo.lng1.iloc[0] == -89.6


@pytest.mark.parametrize("case", ["drop", "shuffle", "duplicate", "nonnumeric", "range", "half", "empty_city"])
def test_damaged_geocoded(tmp_path, good_geo, case):
    damaged, must_fail, row, column = {
        "drop": (d.drop_column(GEO, 0, "lng2"), True, 1, "lng2"),
        "shuffle": (d.shuffle_columns(GEO, 0, 3), False, None, None),
        "duplicate": (d.duplicate_row(GEO, 3), True, 5, "city1"),
        "nonnumeric": (d.set_cell(GEO, 0, 1, "lat1", "39°48'N"), True, 2, "lat1"),
        "range": (d.set_cell(GEO, 0, 3, "lng2", "-284.1"), True, 4, "lng2"),
        "half": (d.set_cell(GEO, 0, 1, "lat2", ""), True, 2, "lat2"),
        "empty_city": (d.set_cell(GEO, 0, 2, "city2", ""), True, 3, "city2"),
    }[case]
    bad = d.write_csv(damaged, tmp_path / f"bad_{case}.csv")
    d.check_damage(hekman.read_geocoded, good_geo, bad, must_fail=must_fail, row=row, column=column)


def test_damaged_raw(tmp_path, good_raw):
    d.check_damage(hekman.read_raw, good_raw, d.truncate(good_raw, tmp_path / "cut.csv"), must_fail=True)
    d.check_damage(hekman.read_raw, good_raw, d.empty(tmp_path / "empty.csv"), must_fail=True)
    renamed = d.write_csv(d.rename_column(RAW, 0, "country2", "nation2"), tmp_path / "renamed.csv")
    d.check_damage(hekman.read_raw, good_raw, renamed, must_fail=True, column="country2")
    dup = d.write_csv(d.duplicate_row(RAW, 1), tmp_path / "dup.csv")
    d.check_damage(hekman.read_raw, good_raw, dup, must_fail=True, row=3)


def test_truncated_and_empty_geocoded(tmp_path, good_geo):
    d.check_damage(hekman.read_geocoded, good_geo, d.truncate(good_geo, tmp_path / "cut.csv", 0.5), must_fail=True)
    d.check_damage(hekman.read_geocoded, good_geo, d.empty(tmp_path / "empty.csv"), must_fail=True)
