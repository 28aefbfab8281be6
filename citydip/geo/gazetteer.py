"""Offline gazetteers for places that are not Census principal cities.

* ZIP-code table of the ``zipcodes`` package (USPS city names with their county): puts a
  city such as Coral Gables FL or Elizabeth NJ in a county, and so in a CBSA via List 1.
* GeoNames cities over 15,000 people (``cities15000.txt``, CC BY, as shipped in the
  ``geotext`` package, 5 MB; :data:`GEONAMES_FILE`), U.S. rows, with coordinates and
  population, and the ZIP-code city names: pick the state of a city named without one
  (Portland OR/ME, Columbus GA/OH), by coordinates when the record has them, else by
  population. ZIP centroids also place a record by its coordinates alone.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import pandas as pd

from citydip.geo.names import normalize

EARTH_RADIUS_KM = 6371.0
#: Bounding box of the 50 states, DC and Puerto Rico (degrees), for screening bad coordinates.
US_LATITUDES = (17.5, 71.5)
US_LONGITUDES = (-179.9, -64.5)


@lru_cache(maxsize=1)
def zip_codes() -> pd.DataFrame:
    """``zip_code, key, state, county_name, lat, lng``: one row per U.S. ZIP code (USPS city name)."""
    import zipcodes

    rows = [(z["zip_code"], normalize(z["city"]), z["state"], z["county"], float(z["lat"]), float(z["long"]))
            for z in zipcodes.list_all() if z.get("country") == "US" and z.get("county") and z.get("lat")]
    table = pd.DataFrame(rows, columns=["zip_code", "key", "state", "county_name", "lat", "lng"])
    # A few ZIP codes carry placeholder coordinates (0, 0): keep only points in or near the U.S.
    inside = table.lat.between(*US_LATITUDES) & table.lng.between(*US_LONGITUDES)
    return table[inside].reset_index(drop=True)


@lru_cache(maxsize=1)
def zip_counties() -> pd.DataFrame:
    """``key, state, county_name, n_zips, n_preferred``: counties of the ZIP codes named after each
    city (its preferred USPS name or an accepted one)."""
    import zipcodes

    rows = []
    for z in zipcodes.list_all():
        if z.get("country") != "US" or not z.get("county"):
            continue
        for name in [z["city"], *z.get("acceptable_cities", [])]:
            rows.append((normalize(name), z["state"], z["county"], name == z["city"]))
    table = pd.DataFrame(rows, columns=["key", "state", "county_name", "preferred"])
    # A city's preferred-name ZIPs outrank ZIPs that only accept the name.
    return (table.groupby(["key", "state", "county_name"], as_index=False)
            .agg(n_zips=("preferred", "size"), n_preferred=("preferred", "sum"))
            .sort_values(["key", "state", "n_preferred", "n_zips", "county_name"],
                         ascending=[True, True, False, False, True], kind="stable")
            .reset_index(drop=True))


@lru_cache(maxsize=1)
def named_places() -> pd.DataFrame:
    """``key, name, state, lat, lng, population``: GeoNames cities, plus ZIP-code city names
    (centroid of their ZIP codes, population unknown) for smaller places."""
    geo = geonames_us()
    zips = zip_codes().groupby(["key", "state"], as_index=False).agg(lat=("lat", "mean"), lng=("lng", "mean"))
    zips = zips.merge(geo[["key", "state"]].drop_duplicates(), how="left", indicator=True)
    zips = zips[zips["_merge"] == "left_only"].drop(columns="_merge")
    zips["name"] = zips["key"]
    zips["population"] = float("nan")
    table = pd.concat([geo, zips[geo.columns]], ignore_index=True)
    return table.sort_values(["key", "population", "state"], ascending=[True, False, True], na_position="last",
                             kind="stable").reset_index(drop=True)


#: The GeoNames cities file inside the ``geotext`` distribution (GeoNames' tab-separated
#: ``cities15000.txt``, columns in :data:`GEONAMES_COLUMNS`).
GEONAMES_FILE = ("geotext", "data/cities15000.txt")
GEONAMES_COLUMNS = ["geonameid", "name", "asciiname", "alternatenames", "latitude", "longitude", "feature_class",
                    "feature_code", "country_code", "cc2", "admin1_code", "admin2_code", "admin3_code", "admin4_code",
                    "population", "elevation", "dem", "timezone", "modification_date"]


@lru_cache(maxsize=1)
def geonames_us() -> pd.DataFrame:
    """``key, name, state, lat, lng, population`` of U.S. cities in GeoNames (pop > 15,000;
    degrees, persons)."""
    import importlib.util
    from pathlib import Path

    package, member = GEONAMES_FILE
    spec = importlib.util.find_spec(package)  # located without importing (geotext indexes its data on import)
    if spec is None or not spec.submodule_search_locations:
        raise ImportError(f"the {package!r} package (GeoNames cities) is not installed: pip install {package}")
    path = Path(list(spec.submodule_search_locations)[0]) / member
    cities = pd.read_csv(path, sep="\t", header=None, names=GEONAMES_COLUMNS, dtype=str, keep_default_na=False,
                         quoting=3, encoding="utf-8")
    us = cities[cities.country_code == "US"]
    table = pd.DataFrame({"key": us.name.map(normalize), "name": us.name, "state": us.admin1_code,
                          "lat": us.latitude.astype(float), "lng": us.longitude.astype(float),
                          "population": us.population.astype("int64")})
    return table.sort_values(["key", "population"], ascending=[True, False], kind="stable").reset_index(drop=True)


def haversine_km(lat1, lng1, lat2, lng2) -> np.ndarray:
    """Great-circle distance in kilometres."""
    lat1, lng1, lat2, lng2 = map(np.radians, (lat1, lng1, lat2, lng2))
    a = np.sin((lat2 - lat1) / 2) ** 2 + np.cos(lat1) * np.cos(lat2) * np.sin((lng2 - lng1) / 2) ** 2
    return 2 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(a))


class Slices:
    """Rows of a frame grouped by key columns, looked up without building one frame per group.
    The frame keeps its order within each group (gazetteers are pre-sorted by relevance)."""

    def __init__(self, frame: pd.DataFrame, keys: list[str]) -> None:
        order = frame.sort_values(keys, kind="stable").reset_index(drop=True)
        labels = list(zip(*(order[k] for k in keys))) if len(keys) > 1 else list(order[keys[0]])
        self.frame = order
        self.bounds: dict = {}
        for i, label in enumerate(labels):
            start, _ = self.bounds.get(label, (i, i))
            self.bounds[label] = (start, i + 1)

    def get(self, label, default=None):
        span = self.bounds.get(label)
        return default if span is None else self.frame.iloc[span[0]:span[1]]


@lru_cache(maxsize=1)
def named_places_index() -> Slices:
    """:func:`named_places` by normalised name."""
    return Slices(named_places(), ["key"])


@lru_cache(maxsize=1)
def zip_counties_index() -> Slices:
    """:func:`zip_counties` by (normalised name, state)."""
    return Slices(zip_counties(), ["key", "state"])
