"""Census Population Estimates (PEP): CBSA totals by vintage, and 2000s county totals.

* ``cbsa-est<vintage>-alldata.csv`` (vintages 2019, 2020, 2021; Latin-1): one row per
  metropolitan or micropolitan area (``CBSA``), metropolitan division (``MDIV``) and
  component county (``STCOU``), with ``POPESTIMATE<yyyy>`` columns (July 1 estimates).
  Vintage 2021 is on the 2020-census base, earlier vintages on the 2010 base: each vintage
  revises earlier years, so the vintage is a column and vintages must not be mixed.
* ``co-est2009-alldata*.csv``: Vintage 2009 post-censal county (and state) totals 2000-2009.

Output is long: one row per area, year and vintage; population in persons.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd

from citydip.config import LATEST_RECORD_YEAR
from citydip.errors import SourceFileError
from citydip.sources._io import RawTable, read_delimited
from citydip.sources.registry import SourceFile, register
from citydip.sources.schema import SOURCE_ROW, Schema, col

FOLDER = "census_popest"

#: First estimate year of the CBSA files (2010s vintages) and years of the 2000s county file.
CBSA_FIRST_YEAR = 2010
COUNTY_2000S_YEARS = range(2000, 2010)

_POP = re.compile(r"POPESTIMATE(\d{4})")
_FILE_VINTAGE = re.compile(r"est(\d{4})")
_LEVELS = {"Metropolitan Statistical Area": "msa", "Micropolitan Statistical Area": "micro",
           "Metropolitan Division": "division", "County or equivalent": "county"}

CBSA_SCHEMA = Schema("census_popest_cbsa", (
    col("cbsa_code", "string", "5-digit CBSA code (of the county's CBSA for county rows)"),
    col("division_code", "string", "5-digit metropolitan division code, '' if none"),
    col("county_fips", "string", "5-digit state+county FIPS code for county rows, '' otherwise"),
    col("name", "string", "area name as Census writes it (e.g. 'Abilene, TX', 'Callahan County, TX')"),
    col("level", "string", "'msa', 'micro', 'division' or 'county'"),
    col("year", "int64", "estimate year (July 1)"),
    col("population_persons", "int64", "resident population estimate", "persons"),
    col("vintage", "int64", "estimates vintage (last estimate year of the release); never mix vintages"),
    SOURCE_ROW,
))

COUNTY_SCHEMA = Schema("census_popest_county_2000s", (
    col("county_fips", "string", "5-digit state+county FIPS code ('SS000' for state rows)"),
    col("state_fips", "string", "2-digit state FIPS code"),
    col("state_name", "string", "state name"),
    col("name", "string", "county (or state) name as Census writes it"),
    col("level", "string", "'state' or 'county'"),
    col("year", "int64", "estimate year (July 1)"),
    col("population_persons", "int64", "resident population estimate", "persons"),
    col("vintage", "int64", "estimates vintage (2009: post-censal, not the 2000-2010 intercensal revision)"),
    SOURCE_ROW,
))


def _population_long(table: RawTable, ids: pd.DataFrame, first: int, last: int) -> tuple[pd.DataFrame, int]:
    """Reshape POPESTIMATE<yyyy> columns to (ids..., year, population_persons, source_row)."""
    years = []
    for name in table.frame.columns:
        m = _POP.fullmatch(name)
        if m:
            year = int(m.group(1))
            if not first <= year <= last:
                raise SourceFileError(table.path, f"year column {year} outside the expected range {first}-{last}",
                                      row=table.header_row, column=name)
            years.append(year)
    if not years:
        raise SourceFileError(table.path, "no POPESTIMATE<year> columns found", row=table.header_row,
                              hint="the file layout differs from the published one")
    parts = []
    for year in sorted(years):
        part = ids.copy()
        part["year"] = year
        part["population_persons"] = table.numeric(f"POPESTIMATE{year}", allow_empty=False, integer=True,
                                                   minimum=0)
        part["source_row"] = table.rows
        parts.append(part)
    return pd.concat(parts, ignore_index=True), max(years)


def _check_vintage(path: Path, vintage: int) -> None:
    m = _FILE_VINTAGE.search(path.name)
    if m and int(m.group(1)) != vintage:
        raise SourceFileError(path, f"file name says vintage {m.group(1)} but the last estimate year is {vintage}",
                              hint="the file was renamed or its columns edited")


def _codes(table: RawTable, column: str, digits: int, required: bool) -> pd.Series:
    """Zero-padded codes; leading zeros dropped by a spreadsheet re-save (as in the
    published Vintage 2020 copy, e.g. STCOU '2020' for Anchorage 02020) are restored."""
    values = table.text(column, required=required)
    bad = ~(values.str.fullmatch(rf"\d{{1,{digits}}}") | values.eq(""))
    if bad.any():
        i = int(np.argmax(bad.to_numpy(dtype=bool)))
        raise table.error(f"code {values.iloc[i]!r} is not a code of at most {digits} digits", position=i,
                          column=column)
    return values.where(values.eq(""), values.str.zfill(digits))


def read_cbsa(path: str | Path) -> pd.DataFrame:
    """Read a ``cbsa-est<vintage>-alldata.csv`` file to long format (population in persons)."""
    table = read_delimited(path, encoding="latin-1")
    table.require_columns(["CBSA", "MDIV", "STCOU", "NAME", "LSAD"])
    table.require_rows()
    table.check_unique(["CBSA", "MDIV", "STCOU"], "area")
    cbsa = _codes(table, "CBSA", 5, True)
    mdiv = _codes(table, "MDIV", 5, False)
    stcou = _codes(table, "STCOU", 5, False)
    lsad = table.text("LSAD", required=True)
    level = lsad.map(_LEVELS)
    if level.isna().any():
        i = int(np.argmax(level.isna().to_numpy()))
        raise table.error(f"unknown area type {lsad.iloc[i]!r}; expected one of {sorted(_LEVELS)}", position=i,
                          column="LSAD")
    # The codes filled in must agree with the area type.
    expect_mdiv = level.eq("division")
    wrong_stcou = stcou.ne("") != level.eq("county")
    wrong_mdiv = expect_mdiv & mdiv.eq("") | level.isin(["msa", "micro"]) & mdiv.ne("")
    for wrong, column in ((wrong_stcou, "STCOU"), (wrong_mdiv, "MDIV")):
        if wrong.any():
            i = int(np.argmax(wrong.to_numpy(dtype=bool)))
            raise table.error(f"code {table.text(column).iloc[i]!r} does not fit area type {lsad.iloc[i]!r}",
                              position=i, column=column)
    ids = pd.DataFrame({"cbsa_code": cbsa, "division_code": mdiv, "county_fips": stcou,
                        "name": table.text("NAME", required=True), "level": level.astype("string")})
    long, vintage = _population_long(table, ids, CBSA_FIRST_YEAR, LATEST_RECORD_YEAR)
    _check_vintage(table.path, vintage)
    long["vintage"] = vintage
    return CBSA_SCHEMA.conform(long.sort_values(["level", "cbsa_code", "division_code", "county_fips", "year"],
                                                kind="stable"))


def read_county_2000s(path: str | Path) -> pd.DataFrame:
    """Read ``co-est2009-alldata`` (county and state rows, 2000-2009) to long format (persons)."""
    table = read_delimited(path, encoding="latin-1")
    table.require_columns(["SUMLEV", "STATE", "COUNTY", "STNAME", "CTYNAME"])
    table.require_rows()
    table.check_unique(["STATE", "COUNTY"], "county")
    sumlev = table.numeric("SUMLEV", allow_empty=False, integer=True)
    level = sumlev.map({40.0: "state", 50.0: "county"})
    if level.isna().any():
        i = int(np.argmax(level.isna().to_numpy()))
        raise table.error(f"summary level {table.frame['SUMLEV'].iloc[i]!r} is neither 40 (state) nor 50 (county)",
                          position=i, column="SUMLEV")
    state = table.numeric("STATE", allow_empty=False, integer=True, minimum=1, maximum=78).astype("int64")
    county = table.numeric("COUNTY", allow_empty=False, integer=True, minimum=0, maximum=999).astype("int64")
    wrong = level.eq("state") != county.eq(0)
    if wrong.any():
        i = int(np.argmax(wrong.to_numpy()))
        raise table.error("county code does not fit the summary level", position=i, column="COUNTY")
    state_fips = state.map("{:02d}".format)
    ids = pd.DataFrame({"county_fips": state_fips + county.map("{:03d}".format), "state_fips": state_fips,
                        "state_name": table.text("STNAME", required=True), "name": table.text("CTYNAME", required=True),
                        "level": level.astype("string")})
    long, vintage = _population_long(table, ids, COUNTY_2000S_YEARS.start, COUNTY_2000S_YEARS.stop - 1)
    _check_vintage(table.path, vintage)
    long["vintage"] = vintage
    return COUNTY_SCHEMA.conform(long.sort_values(["county_fips", "year"], kind="stable"))


register(
    *(SourceFile(f"census_popest_cbsa_{v}", FOLDER, f"cbsa-est{v}-alldata.csv", read_cbsa, CBSA_SCHEMA,
                 f"Census PEP vintage {v} population by CBSA, division and county (persons)", optional=True)
      for v in (2019, 2020, 2021)),
    SourceFile("census_popest_county_2000s", FOLDER, "co-est2009-alldata*.csv", read_county_2000s, COUNTY_SCHEMA,
               "Census PEP vintage 2009 county and state population 2000-2009 (persons)", optional=True),
)
