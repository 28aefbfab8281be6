"""Census/OMB delineation files: which counties and principal cities make up each CBSA.

* **List 1** (county -> CBSA), vintages Feb 2013, Mar 2020, Jul 2023 (Census .xls/.xlsx:
  two title rows above the header, notes below the data).
* **List 2** (principal city -> CBSA), vintages Jul 2015 (closest to Feb 2013), Mar 2020,
  Jul 2023.
* Derived Sep-2018 county and principal-city lists (rleuven, CSV), and the BLS QCEW
  county-MSA crosswalk (2013-based titles, codes written 'C' + first four digits).

Codes are kept as zero-padded text: ``cbsa_code`` 5 digits, ``county_fips`` 5 digits
(state + county), ``place_geoid`` 7 digits (state + place). The July 2023 list uses
Connecticut planning regions (09110-09190) instead of CT's eight counties.
"""

from __future__ import annotations

import re
from functools import partial
from pathlib import Path

import numpy as np
import pandas as pd

from citydip.sources._io import RawTable, read_delimited, read_sheet
from citydip.sources.registry import SourceFile, register
from citydip.sources.schema import SOURCE_ROW, Schema, col

FOLDER = "census_cbsa_delineations"

COUNTY_SCHEMA = Schema("cbsa_counties", (
    col("vintage", "string", "delineation vintage: '2013' (Feb 2013), '2018' (Sep 2018), '2020' (Mar 2020), '2023' (Jul 2023)"),
    col("cbsa_code", "string", "5-digit CBSA code"),
    col("cbsa_title", "string", "CBSA title in this vintage"),
    col("area_type", "string", "'metro' or 'micro'"),
    col("division_code", "string", "5-digit metropolitan division code, '' if none"),
    col("csa_code", "string", "3-digit combined statistical area code, '' if none"),
    col("county_name", "string", "county or county equivalent (CT planning region in 2023)"),
    col("state_fips", "string", "2-digit state FIPS code"),
    col("county_fips", "string", "5-digit state+county FIPS code"),
    col("central", "boolean", "central county (False = outlying); NA where the file does not say"),
    SOURCE_ROW,
))

CITY_SCHEMA = Schema("cbsa_principal_cities", (
    col("vintage", "string", "delineation vintage: '2015' (Jul 2015), '2018', '2020', '2023'"),
    col("cbsa_code", "string", "5-digit CBSA code"),
    col("cbsa_title", "string", "CBSA title in this vintage"),
    col("area_type", "string", "'metro' or 'micro'"),
    col("principal_city", "string", "principal city name as Census writes it"),
    col("state_fips", "string", "2-digit state FIPS code"),
    col("place_geoid", "string", "7-digit Census place GEOID (state + place FIPS)"),
    SOURCE_ROW,
))

_AREA_TYPES = {"Metropolitan Statistical Area": "metro", "Micropolitan Statistical Area": "micro",
               "Metro": "metro", "Micro": "micro"}


def _is_title_or_note(row: list[str]) -> bool:
    """Census note/source lines below the data: one text cell, not a CBSA code."""
    cells = [c for c in row if c]
    return len(cells) == 1 and not re.fullmatch(r"\d{5}", cells[0])


def _codes(table: RawTable, column: str, digits: int, *, allow_empty: bool = False, prefix: str = "") -> pd.Series:
    """Zero-padded numeric codes; Excel may have stored them as numbers (13 for '013')."""
    values = table.text(column)
    out = []
    for i, v in enumerate(values.tolist()):
        v = v.removeprefix(prefix) if prefix else v
        if v == "" and allow_empty:
            out.append("")
            continue
        if not re.fullmatch(r"\d{1,%d}" % digits, v):
            raise table.error(f"code {v!r} is not a {digits}-digit number", position=i, column=column)
        out.append(v.zfill(digits))
    return pd.Series(out, index=table.frame.index, dtype="string")


def _area_type(table: RawTable, column: str) -> pd.Series:
    values = table.text(column, required=True)
    unknown = ~values.isin(list(_AREA_TYPES))
    if unknown.any():
        i = int(np.argmax(unknown.to_numpy()))
        raise table.error(f"unknown area type {values.iloc[i]!r}", position=i, column=column)
    return values.map(_AREA_TYPES)


def _census_sheet(path: str | Path, first_header: str = "CBSA Code") -> RawTable:
    return read_sheet(path, sheet=None, header_predicate=lambda r: first_header in r, footer=_is_title_or_note)


def read_list1(path: str | Path, *, vintage: str) -> pd.DataFrame:
    """Census List 1 (county -> CBSA) of one vintage."""
    t = _census_sheet(path)
    division = "Metropolitan Division Code" if "Metropolitan Division Code" in t.frame.columns else "Metro Division Code"
    t.require_columns(["CBSA Code", division, "CSA Code", "CBSA Title", "Metropolitan/Micropolitan Statistical Area",
                       "County/County Equivalent", "FIPS State Code", "FIPS County Code", "Central/Outlying County"])
    t.require_rows()
    state = _codes(t, "FIPS State Code", 2)
    county = _codes(t, "FIPS County Code", 3)
    frame = pd.DataFrame({
        "vintage": vintage,
        "cbsa_code": _codes(t, "CBSA Code", 5),
        "cbsa_title": t.text("CBSA Title", required=True),
        "area_type": _area_type(t, "Metropolitan/Micropolitan Statistical Area"),
        "division_code": _codes(t, division, 5, allow_empty=True),
        "csa_code": _codes(t, "CSA Code", 3, allow_empty=True),
        "county_name": t.text("County/County Equivalent", required=True),
        "state_fips": state,
        "county_fips": state + county,
        "central": _central(t, "Central/Outlying County"),
        "source_row": t.rows,
    })
    _unique_rows(t, frame, ["county_fips"], "county")
    return COUNTY_SCHEMA.conform(frame)


def _central(table: RawTable, column: str) -> pd.Series:
    values = table.text(column, required=True).str.lower()
    bad = ~values.isin(["central", "outlying"])
    if bad.any():
        i = int(np.argmax(bad.to_numpy()))
        raise table.error(f"expected 'Central' or 'Outlying', found {values.iloc[i]!r}", position=i, column=column)
    return values.eq("central").astype("boolean")


def _unique_rows(table: RawTable, frame: pd.DataFrame, key: list[str], what: str) -> None:
    dup = frame.duplicated(key, keep="first").to_numpy()
    if dup.any():
        i = int(np.argmax(dup))
        value = " / ".join(str(frame[k].iloc[i]) for k in key)
        raise table.error(f"duplicated {what} {value}", position=i, hint="a duplicated row would be counted twice")


def read_list2(path: str | Path, *, vintage: str) -> pd.DataFrame:
    """Census List 2 (principal city -> CBSA) of one vintage."""
    t = _census_sheet(path)
    return _principal_cities(t, vintage)


def _principal_cities(t: RawTable, vintage: str) -> pd.DataFrame:
    t.require_columns(["CBSA Code", "CBSA Title", "Metropolitan/Micropolitan Statistical Area", "Principal City Name",
                       "FIPS State Code", "FIPS Place Code"])
    t.require_rows()
    state = _codes(t, "FIPS State Code", 2)
    frame = pd.DataFrame({
        "vintage": vintage,
        "cbsa_code": _codes(t, "CBSA Code", 5),
        "cbsa_title": t.text("CBSA Title", required=True),
        "area_type": _area_type(t, "Metropolitan/Micropolitan Statistical Area"),
        "principal_city": t.text("Principal City Name", required=True),
        "state_fips": state,
        "place_geoid": state + _codes(t, "FIPS Place Code", 5),
        "source_row": t.rows,
    })
    _unique_rows(t, frame, ["place_geoid"], "principal city")
    return CITY_SCHEMA.conform(frame)


def read_rleuven_cities(path: str | Path) -> pd.DataFrame:
    """Sep-2018 principal cities (Census List 2 columns plus a first-listed flag, CSV)."""
    return _principal_cities(read_delimited(path, final_newline=False), "2018")


def read_rleuven_counties(path: str | Path) -> pd.DataFrame:
    """Sep-2018 county -> CBSA list derived from Census List 1 (CSV)."""
    t = read_delimited(path, final_newline=False)
    t.require_columns(["cty_fips", "cbsa_fips", "cbsa", "cbsa_type", "csa_fips", "st_fips", "cty_type"])
    t.require_rows()
    frame = pd.DataFrame({
        "vintage": "2018",
        "cbsa_code": _codes(t, "cbsa_fips", 5),
        "cbsa_title": t.text("cbsa", required=True),
        "area_type": _area_type(t, "cbsa_type"),
        "division_code": "",
        "csa_code": _codes(t, "csa_fips", 3, allow_empty=True),
        "county_name": "",
        "state_fips": _codes(t, "st_fips", 2),
        "county_fips": _codes(t, "cty_fips", 5),
        "central": _central(t, "cty_type"),
        "source_row": t.rows,
    })
    _unique_rows(t, frame, ["county_fips"], "county")
    return COUNTY_SCHEMA.conform(frame)


def read_bls_crosswalk(path: str | Path) -> pd.DataFrame:
    """BLS QCEW county-MSA-CSA crosswalk (2013-based titles, Latin-1). MSA codes 'C3386' become '33860'
    by appending a zero, which is exact for every CBSA code (they all end in 0)."""
    t = read_delimited(path, encoding="latin-1")
    t.require_columns(["County Code", "County Title", "MSA Code", "MSA Title", "MSA Type"])
    t.require_rows()
    msa = _codes(t, "MSA Code", 4, allow_empty=True, prefix="C")
    county = _codes(t, "County Code", 5)
    in_cbsa = msa.ne("")
    frame = pd.DataFrame({
        "vintage": "2013",
        "cbsa_code": (msa + "0").where(in_cbsa, ""),
        "cbsa_title": t.text("MSA Title"),
        "area_type": t.text("MSA Type").str.lower(),
        "division_code": "",
        "csa_code": "",
        "county_name": t.text("County Title", required=True),
        "state_fips": county.str[:2],
        "county_fips": county,
        "central": pd.NA,
        "source_row": t.rows,
    })
    _unique_rows(t, frame, ["county_fips"], "county")
    frame = frame[in_cbsa.to_numpy()]
    return COUNTY_SCHEMA.conform(frame)


#: (vintage, list, file name): the Census lists present in the data directory.
LIST1_FILES = {"2013": "list1_2013_feb.xls", "2020": "list1_2020_mar.xls", "2023": "list1_2023_jul.xlsx"}
LIST2_FILES = {"2015": "list2_2015_jul_principal_cities.xls", "2020": "list2_2020_mar_principal_cities.xls",
               "2023": "list2_2023_jul_principal_cities.xlsx"}

register(
    *(SourceFile(f"census_list1_{v}", FOLDER, f, partial(read_list1, vintage=v), COUNTY_SCHEMA,
                 f"Census List 1, counties -> CBSA, {v} delineation", year_column=None)
      for v, f in LIST1_FILES.items()),
    *(SourceFile(f"census_list2_{v}", FOLDER, f, partial(read_list2, vintage=v), CITY_SCHEMA,
                 f"Census List 2, principal cities -> CBSA, {v} delineation", year_column=None)
      for v, f in LIST2_FILES.items()),
    SourceFile("census_list1_2018_derived", FOLDER, "rleuven_county_cbsa_2018_derived.csv", read_rleuven_counties,
               COUNTY_SCHEMA, "Counties -> CBSA, Sep 2018 (derived from List 1)", year_column=None, optional=True),
    SourceFile("census_list2_2018_modified", FOLDER, "rleuven_cbsa_principal_cities_2018_modified.csv",
               read_rleuven_cities, CITY_SCHEMA, "Principal cities -> CBSA, Sep 2018 (modified List 2)",
               year_column=None, optional=True),
    SourceFile("bls_county_msa", FOLDER, "bls_qcew_county_msa_csa_crosswalk.csv", read_bls_crosswalk, COUNTY_SCHEMA,
               "BLS QCEW county -> MSA crosswalk (2013-based)", year_column=None, optional=True),
)
