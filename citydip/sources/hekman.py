"""Sister-city pairs scraped from Wikipedia's "List of twin towns and sister cities" pages.

Folder ``wikipedia_twincities_hekman/`` (snapshot ~Feb 2026; Wikipedia text, CC BY-SA 4.0):

* ``twin_cities_raw.csv``: city1, country1, city2, country2 (26,114 pairs);
* ``twin_cities_geocoded.csv``: the same with lat1, lng1, lat2, lng2 (25,917 pairs: the
  pairs the geocoder could place).

No establishment years: these pairs enter only cross-sectional ("ever") measures. U.S.
cities carry no state, so homonyms (Columbus GA/OH, Portland OR/ME) share a name; use
the coordinates of the geocoded file to tell them apart. Country strings are as
scraped: some name a constituent part ("England, United Kingdom", "Ohio, United
States"), a few are misspelt, and five partner countries are empty. ``nation1`` /
``nation2`` keep the part after the last comma, so that "Ohio, United States" counts as
the United States; ``involves_us`` uses them. (The provenance count of 2,641 U.S. pairs
is by the exact country string "United States"; two more pairs carry a state.)

Pairs were de-duplicated by the scraper, so an exactly repeated pair is an error (it
would count a tie twice). Missing coordinates are allowed (NaN), half a coordinate pair
is not.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from citydip.sources._io import RawTable, read_delimited
from citydip.sources.registry import SourceFile, register
from citydip.sources.schema import SOURCE_ROW, Schema, col

FOLDER = "wikipedia_twincities_hekman"
RAW_FILE = "twin_cities_raw.csv"
GEOCODED_FILE = "twin_cities_geocoded.csv"
UNITED_STATES = "United States"
PAIR = ["city1", "country1", "city2", "country2"]

_TEXT = (
    col("city1", "string", "first city as scraped (no state)"),
    col("country1", "string", "country of city1 as scraped (may name a region, e.g. 'England, United Kingdom')"),
    col("nation1", "string", "country1 after its last comma ('United Kingdom'); empty if country1 is empty"),
    col("city2", "string", "partner city as scraped"),
    col("country2", "string", "country of city2 as scraped; may be empty"),
    col("nation2", "string", "country2 after its last comma"),
    col("involves_us", "bool", "nation1 or nation2 is 'United States'"),
)
_COORDS = (
    col("lat1", "float64", "latitude of city1 (geocoded); NaN when missing", "decimal degrees"),
    col("lng1", "float64", "longitude of city1 (geocoded); NaN when missing", "decimal degrees"),
    col("lat2", "float64", "latitude of city2 (geocoded); NaN when missing", "decimal degrees"),
    col("lng2", "float64", "longitude of city2 (geocoded); NaN when missing", "decimal degrees"),
)
RAW_SCHEMA = Schema("hekman_twin_cities_raw", _TEXT + (SOURCE_ROW,))
GEOCODED_SCHEMA = Schema("hekman_twin_cities_geocoded", _TEXT + _COORDS + (SOURCE_ROW,))


def _nation(country: pd.Series) -> pd.Series:
    return country.str.rsplit(",", n=1).str[-1].str.strip().astype("string")


def _pairs(table: RawTable, extra: list[str]) -> pd.DataFrame:
    table.require_columns(PAIR + extra)
    table.require_rows()
    table.check_unique(PAIR, "city pair")
    frame = pd.DataFrame({
        "city1": table.text("city1", required=True),
        "country1": table.text("country1", required=True),
        "city2": table.text("city2", required=True),
        "country2": table.text("country2"),
        "source_row": table.rows,
    })
    frame["nation1"] = _nation(frame["country1"])
    frame["nation2"] = _nation(frame["country2"])
    frame["involves_us"] = (frame["nation1"].eq(UNITED_STATES) | frame["nation2"].eq(UNITED_STATES)).astype(bool)
    return frame


def read_raw(path: str | Path) -> pd.DataFrame:
    """Read ``twin_cities_raw.csv`` into :data:`RAW_SCHEMA` (one row per pair)."""
    table = read_delimited(path)
    return RAW_SCHEMA.conform(_pairs(table, []))


def read_geocoded(path: str | Path) -> pd.DataFrame:
    """Read ``twin_cities_geocoded.csv`` into :data:`GEOCODED_SCHEMA`; coordinates range-checked."""
    table = read_delimited(path)
    frame = _pairs(table, ["lat1", "lng1", "lat2", "lng2"])
    for end in ("1", "2"):
        lat = table.numeric(f"lat{end}", minimum=-90, maximum=90)
        lng = table.numeric(f"lng{end}", minimum=-180, maximum=180)
        half = lat.isna() != lng.isna()
        if half.any():
            i = int(np.argmax(half.to_numpy()))
            raise table.error("only one of latitude and longitude is given", position=i,
                              column=f"lat{end}" if lat.isna().iloc[i] else f"lng{end}")
        frame[f"lat{end}"] = lat
        frame[f"lng{end}"] = lng
    return GEOCODED_SCHEMA.conform(frame)


register(
    SourceFile("hekman_raw", FOLDER, RAW_FILE, read_raw, RAW_SCHEMA,
               "Wikipedia sister-city pairs, all continents (undated snapshot)", year_column=None, optional=True),
    SourceFile("hekman_geocoded", FOLDER, GEOCODED_FILE, read_geocoded, GEOCODED_SCHEMA,
               "Wikipedia sister-city pairs with coordinates (undated snapshot)", year_column=None, optional=True),
)
