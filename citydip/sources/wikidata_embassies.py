"""Database of embassies and consulates generated from Wikidata (snapshot 2022-11-16).

File ``wikidata_embassies/database_of_embassies_2022-11-16.csv``: ``;``-separated UTF-8,
one row per diplomatic mission item and operator; the header line ends with a trailing
``;`` (an empty last header, which :func:`~citydip.sources._io.read_delimited` drops;
data lines have no trailing separator, and lines that do have one are accepted). Wikidata
content is CC0.

Entities are Wikidata URIs (``http://www.wikidata.org/entity/Q…``); the reader keeps the
bare QID. ``creation`` is the inception (P571) timestamp, e.g. ``1927-01-01T00:00:00Z``;
only its year is kept, and most rows have none. Coordinates are decimal degrees, empty
for about one row in nine.

One item may have two operators (a Wikidata modelling error, e.g. one mission item for
two countries in Kuwait City): rows are unique by (``qid``, ``operator_qid``), and an
exact duplicate row is an error (it would double count). Very incomplete for U.S.
consular posts: a cross-check and a source of a few opening years, not a census.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd

from citydip.config import LATEST_RECORD_YEAR
from citydip.sources._io import RawTable, read_delimited
from citydip.sources.registry import SourceFile, register
from citydip.sources.schema import SOURCE_ROW, Schema, col

FOLDER = "wikidata_embassies"
FILENAME = "database_of_embassies_2022-11-16.csv"
UNITED_STATES = "United States of America"
ENTITY_PREFIX = "http://www.wikidata.org/entity/"
_ENTITY = re.compile(r"^http://www\.wikidata\.org/entity/(Q\d+)$")
_TIMESTAMP = re.compile(r"^([+-]?\d{1,4})-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
#: Earliest inception year accepted (Wikidata has a few century-precision dates such as 1300).
EARLIEST_INCEPTION = 1000

REQUIRED = ("operator", "operatorQID", "country", "countryQID", "city", "cityQID", "latitude", "longitude",
            "type", "typeQID", "creation", "QID")

SCHEMA = Schema("wikidata_embassies", (
    col("operator", "string", "country (or body) that operates the mission, English label"),
    col("operator_qid", "string", "Wikidata QID of the operator"),
    col("country", "string", "country where the mission is, English label ('United States of America')"),
    col("country_qid", "string", "Wikidata QID of the host country"),
    col("city", "string", "city label (sometimes a state or borough); may be empty"),
    col("city_qid", "string", "Wikidata QID of the city; empty when no city is given"),
    col("latitude", "float64", "latitude; NaN when missing", "decimal degrees"),
    col("longitude", "float64", "longitude; NaN when missing", "decimal degrees"),
    col("type", "string", "mission type label (embassy, consulate general, consulate, honorary consulate, ...)"),
    col("type_qid", "string", "Wikidata QID of the type"),
    col("inception_year", "Int64", "year of the inception (P571) timestamp; <NA> when not recorded"),
    col("qid", "string", "Wikidata QID of the mission item"),
    SOURCE_ROW,
))


def _qids(table: RawTable, column: str, *, required: bool) -> pd.Series:
    values = table.text(column, required=required)
    parsed = values.str.extract(_ENTITY, expand=False)
    bad = values.ne("") & parsed.isna()
    if bad.any():
        i = int(np.argmax(bad.to_numpy()))
        raise table.error(f"value {values.iloc[i]!r} is not a Wikidata entity URI ({ENTITY_PREFIX}Q…)", position=i,
                          column=column)
    return parsed.fillna("").astype("string")


def _years(table: RawTable, column: str) -> pd.Series:
    values = table.text(column)
    year = values.str.extract(_TIMESTAMP, expand=False)
    bad = values.ne("") & year.isna()
    if bad.any():
        i = int(np.argmax(bad.to_numpy()))
        raise table.error(f"value {values.iloc[i]!r} is not a Wikidata timestamp (YYYY-MM-DDThh:mm:ssZ)",
                          position=i, column=column)
    numbers = pd.to_numeric(year).astype("Int64")
    out = (numbers < EARLIEST_INCEPTION) | (numbers > LATEST_RECORD_YEAR)
    if out.fillna(False).any():
        i = int(np.argmax(out.fillna(False).to_numpy()))
        raise table.error(f"inception year {int(numbers.iloc[i])} outside {EARLIEST_INCEPTION}-{LATEST_RECORD_YEAR}",
                          position=i, column=column)
    return numbers


def read_embassies(path: str | Path) -> pd.DataFrame:
    """Read the embassies database into :data:`SCHEMA` (one row per mission and operator)."""
    table = read_delimited(path, sep=";")
    table.require_columns(REQUIRED)
    table.require_rows()
    table.check_unique(["QID", "operatorQID"], "mission and operator")
    lat = table.numeric("latitude", minimum=-90, maximum=90)
    lon = table.numeric("longitude", minimum=-180, maximum=180)
    half = lat.isna() != lon.isna()
    if half.any():
        i = int(np.argmax(half.to_numpy()))
        raise table.error("only one of latitude and longitude is given", position=i,
                          column="latitude" if lat.isna().iloc[i] else "longitude")
    frame = pd.DataFrame({
        "operator": table.text("operator", required=True),
        "operator_qid": _qids(table, "operatorQID", required=True),
        "country": table.text("country", required=True),
        "country_qid": _qids(table, "countryQID", required=True),
        "city": table.text("city"),
        "city_qid": _qids(table, "cityQID", required=False),
        "latitude": lat,
        "longitude": lon,
        "type": table.text("type", required=True),
        "type_qid": _qids(table, "typeQID", required=True),
        "inception_year": _years(table, "creation"),
        "qid": _qids(table, "QID", required=True),
        "source_row": table.rows,
    })
    return SCHEMA.conform(frame)


register(SourceFile("wikidata_embassies", FOLDER, FILENAME, read_embassies, SCHEMA,
                    "Wikidata embassies and consulates, snapshot 2022-11-16 (cross-check, a few opening years)",
                    year_column=None, optional=True))
