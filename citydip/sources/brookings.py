"""Brookings Export Monitor 2018 (2017 levels) and Metro Monitor 2021 (2009-2019); optional.

* Export Monitor: goods **and services** exports allocated to the **place of production**
  (Brookings model estimates), in millions of US dollars, for 2017 only, by CBSA (2013
  definitions; codes 900SS are the non-metro "Rest of <state>") and by county. A different
  concept from ITA's merchandise exports by exporter location: never splice the two series.
  In the county file the measure columns keep their ``cbsa_`` prefix but hold county values,
  and the three state columns are mislabelled (``st_abbr`` holds the FIPS code); the state
  is taken from the county FIPS code instead.
* Metro Monitor: long files (year, CBSA, indicator, value). Values written in scientific
  notation (Real GDP of the largest metros, 3 significant digits) are flagged ``rounded``;
  rows repeated verbatim are kept once (``copies``); a key carrying two different values
  (codes reused across delineations, e.g. 13980, 28780) is flagged ``conflicting``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from citydip.sources._io import RawTable, read_delimited
from citydip.sources.registry import SourceFile, register
from citydip.sources.schema import SOURCE_ROW, Schema, col

EXPORT_FOLDER = "brookings_export_monitor"
MONITOR_FOLDER = "brookings_metro_monitor"

#: The Export Monitor 2018 edition reports one year; the Metro Monitor 2021 edition 2009-2019.
EXPORT_MONITOR_YEAR = 2017
METRO_MONITOR_YEARS = range(2009, 2020)

#: Source column -> (output column, dtype, description, unit); shared by the CBSA and county files.
_MEASURES = {
    "cbsa_exports_nominal": ("exports_nominal_millions_usd", "goods and services exports, place of production",
                             "millions of current US dollars"),
    "cbsa_exports_real": ("exports_real_millions_usd", "real exports (equal to nominal in the 2017 base year)",
                          "millions of 2017 US dollars"),
    "cbsa_pct_exports_gdp": ("exports_share_of_gdp", "exports / GDP", "fraction (0.1 = 10%)"),
    "cbsa_export_jobs_direct": ("export_jobs_direct", "jobs directly supported by exports", "jobs"),
    "cbsa_export_jobs_total": ("export_jobs_total", "jobs directly and indirectly supported by exports", "jobs"),
    "cbsa_2008_2017_pct_export_growth": ("export_growth_2008_2017", "annualised real export growth 2008-2017",
                                         "fraction per year"),
    "cbsa_2014_2017_pct_export_growth": ("export_growth_2014_2017", "annualised real export growth 2014-2017",
                                         "fraction per year"),
    "cbsa_2003_2017_pct_export_growth": ("export_growth_2003_2017", "annualised real export growth 2003-2017",
                                         "fraction per year"),
    "cbsa_pct_export_growth": ("export_growth_2016_2017", "real export growth 2016-2017", "fraction"),
    "cbsa_gdp_nominal": ("gdp_nominal_millions_usd", "GDP", "millions of current US dollars"),
    "cbsa_gdp_real": ("gdp_real_millions_usd", "real GDP (equal to nominal in the 2017 base year)",
                      "millions of 2017 US dollars"),
    "cbsa_jobs": ("jobs", "total jobs", "jobs"),
}
_NON_NEGATIVE = {"cbsa_exports_nominal", "cbsa_exports_real", "cbsa_export_jobs_direct", "cbsa_export_jobs_total",
                 "cbsa_gdp_nominal", "cbsa_gdp_real", "cbsa_jobs", "cbsa_pct_exports_gdp"}
_MEASURE_COLUMNS = tuple(col(out, "float64", desc, unit) for out, desc, unit in _MEASURES.values())

_CBSA_ID = (
    col("year", "int64", "year of the levels (2017)"),
    col("cbsa_code", "string", "5-digit CBSA code, 2013 definitions; 900SS = rest of state SS (non-metro)"),
    col("cbsa_title", "string", "CBSA title, 2013 definitions"),
    col("is_rest_of_state", "bool", "the non-metro remainder of a state, not a CBSA"),
    col("is_top100", "bool", "one of Brookings' 100 largest metros"),
    col("is_metro", "bool", "metropolitan statistical area (False: micro or rest of state)"),
)

EXPORT_CBSA_SCHEMA = Schema("brookings_exports_cbsa", _CBSA_ID + _MEASURE_COLUMNS + (SOURCE_ROW,))
EXPORT_COUNTY_SCHEMA = Schema("brookings_exports_county", (
    col("county_fips", "string", "5-digit state+county FIPS code"),
    col("county_name", "string", "county name as Brookings writes it, e.g. 'Autauga County (AL)'"),
    col("state_fips", "string", "2-digit state FIPS code (from county_fips)"),
) + _CBSA_ID + _MEASURE_COLUMNS + (SOURCE_ROW,))

#: Metro Monitor indicators and their units (the files do not state units).
INDICATOR_UNITS = {
    "Jobs": "jobs",
    "Real GDP": "US dollars, real (base year not stated in the file)",
    "Employment at firms 0-5 years old": "jobs",
    "Average Annual Wage": "US dollars per job per year",
    "Output per Job": "US dollars per job",
    "Output per Person": "US dollars per person",
    "Employment-to-Population Ratio": "fraction",
    "Median Earnings": "US dollars per year",
    "Relative Income Poverty Rate": "fraction",
}

MONITOR_SCHEMA = Schema("brookings_metro_monitor", (
    col("year", "int64", "calendar year"),
    col("cbsa_code", "string", "CBSA code as published (mixed delineation vintages); aggregates use "
        "1-4 and 99994-99999"),
    col("cbsa_name", "string", "name as published, surrounding spaces removed"),
    col("is_aggregate", "bool", "a group of metros or the nation, not one CBSA"),
    col("indicator", "string", "indicator name, e.g. 'Jobs', 'Real GDP', 'Median Earnings'"),
    col("race", "string", "race breakdown ('Total' where the file has none)"),
    col("education", "string", "education breakdown ('Total' where the file has none)"),
    col("value", "float64", "indicator value; NaN where the cell is empty", "see `unit`"),
    col("unit", "string", "unit of `value` for this indicator"),
    col("rounded", "bool", "value written in scientific notation (3 significant digits): do not use for levels"),
    col("copies", "int64", "number of identical rows in the file (the row is kept once)"),
    col("conflicting", "bool", "another row has the same year, code, indicator and breakdown but a different value or name"),
    col("topmetro", "boolean", "Brookings' top-metro flag as published; NA where empty"),
    col("metrosize", "string", "Brookings' size class as published ('' where empty)"),
    SOURCE_ROW,
))


def _flag(table: RawTable, column: str) -> pd.Series:
    values = table.numeric(column, allow_empty=False, integer=True, minimum=0, maximum=1)
    return values.astype(bool)


def _export_ids(table: RawTable) -> pd.DataFrame:
    table.require_columns(["year", "cbsa_code", "cbsa_2013_name", "is_top100", "is_metro", *_MEASURES])
    table.require_rows()
    code = table.text("cbsa_code", required=True)
    bad = ~code.str.fullmatch(r"\d{5}")
    if bad.any():
        i = int(np.argmax(bad.to_numpy(dtype=bool)))
        raise table.error(f"CBSA code {code.iloc[i]!r} is not a 5-digit code", position=i, column="cbsa_code")
    ids = pd.DataFrame({
        "year": table.year("year", first=EXPORT_MONITOR_YEAR, last=EXPORT_MONITOR_YEAR, allow_empty=False),
        "cbsa_code": code, "cbsa_title": table.text("cbsa_2013_name", required=True),
        "is_rest_of_state": code.str.startswith("900"),
        "is_top100": _flag(table, "is_top100"), "is_metro": _flag(table, "is_metro"),
        "source_row": table.rows,
    })
    for source, (out, _desc, _unit) in _MEASURES.items():
        ids[out] = table.numeric(source, markers={"NA"}, minimum=0 if source in _NON_NEGATIVE else None)
    return ids


def read_export_monitor_cbsa(path: str | Path) -> pd.DataFrame:
    """Read the Export Monitor 2018 CBSA file: one row per CBSA (2017; USD millions)."""
    table = read_delimited(path)
    table.require_columns(["cbsa_code"])
    table.check_unique(["cbsa_code"], "CBSA")
    frame = _export_ids(table)
    return EXPORT_CBSA_SCHEMA.conform(frame.sort_values("cbsa_code", kind="stable"))


def read_export_monitor_county(path: str | Path) -> pd.DataFrame:
    """Read the Export Monitor 2018 county file: one row per county (2017; USD millions)."""
    table = read_delimited(path)
    table.require_columns(["stcofips_code", "co_name"])
    table.check_unique(["stcofips_code"], "county")
    fips = table.text("stcofips_code", required=True)
    bad = ~fips.str.fullmatch(r"\d{5}")
    if bad.any():
        i = int(np.argmax(bad.to_numpy(dtype=bool)))
        raise table.error(f"county FIPS {fips.iloc[i]!r} is not a 5-digit code", position=i, column="stcofips_code")
    frame = _export_ids(table)
    frame["county_fips"] = fips
    frame["state_fips"] = fips.str[:2]
    frame["county_name"] = table.text("co_name", required=True)
    return EXPORT_COUNTY_SCHEMA.conform(frame.sort_values("county_fips", kind="stable"))


def _pick(table: RawTable, names: tuple[str, ...]) -> str:
    for name in names:
        if name in table.frame.columns:
            return name
    table.require_columns([names[0]])  # raises, naming the expected column
    raise AssertionError  # pragma: no cover


def read_metro_monitor(path: str | Path) -> pd.DataFrame:
    """Read one Metro Monitor 2021 values file (growth, prosperity or inclusion) in long format."""
    table = read_delimited(path)
    table.require_columns(["year", "indicator", "value", "topmetro", "metrosize"])
    table.require_rows()
    code_col = _pick(table, ("cbsa", "cbsa_code"))
    name_col = _pick(table, ("cbsa_name", "cbsaname"))
    code = table.text(code_col, required=True)
    bad = ~code.str.fullmatch(r"\d{1,5}")
    if bad.any():
        i = int(np.argmax(bad.to_numpy(dtype=bool)))
        raise table.error(f"CBSA code {code.iloc[i]!r} is not numeric", position=i, column=code_col)
    indicator = table.text("indicator", required=True)
    unknown = ~indicator.isin(list(INDICATOR_UNITS))
    if unknown.any():
        i = int(np.argmax(unknown.to_numpy(dtype=bool)))
        raise table.error(f"unknown indicator {indicator.iloc[i]!r}; its unit is not known", position=i,
                          column="indicator")
    total = pd.Series("Total", index=table.frame.index, dtype="string")
    topmetro = table.numeric("topmetro", integer=True, minimum=0, maximum=1)
    frame = pd.DataFrame({
        "year": table.year("year", first=METRO_MONITOR_YEARS.start, last=METRO_MONITOR_YEARS.stop - 1,
                           allow_empty=False),
        "cbsa_code": code, "cbsa_name": table.text(name_col),
        "is_aggregate": code.str.len().lt(5) | code.str.startswith("9999"),
        "indicator": indicator,
        "race": table.text("race", required=True) if "race" in table.frame.columns else total,
        "education": table.text("education", required=True) if "education" in table.frame.columns else total,
        "value": table.numeric("value"),
        "rounded": table.scientific("value").astype(bool),
        "topmetro": topmetro.map({0.0: False, 1.0: True}).astype("boolean"),
        "metrosize": table.text("metrosize"),
        "source_row": table.rows,
    })
    frame["unit"] = frame["indicator"].map(INDICATOR_UNITS)
    # Rows repeated verbatim are kept once; keys with two different values are flagged.
    text = table.frame.apply(lambda s: s.map(lambda c: str(c).strip()))
    frame["copies"] = text.groupby(list(text.columns), sort=False, dropna=False)[text.columns[0]].transform("size")
    frame = frame[~text.duplicated().to_numpy()]
    key = ["year", "cbsa_code", "indicator", "race", "education"]
    frame["conflicting"] = frame.duplicated(key, keep=False).to_numpy()
    return MONITOR_SCHEMA.conform(frame.sort_values(key + ["source_row"], kind="stable"))


register(
    SourceFile("brookings_exports_cbsa", EXPORT_FOLDER, "export_monitor_2018_cbsa_2017.csv", read_export_monitor_cbsa,
               EXPORT_CBSA_SCHEMA, "Brookings Export Monitor 2018: goods and services exports by CBSA, 2017 "
               "(millions of US dollars, place of production; not comparable with ITA)", optional=True),
    SourceFile("brookings_exports_county", EXPORT_FOLDER, "export_monitor_2018_county_2017.csv",
               read_export_monitor_county, EXPORT_COUNTY_SCHEMA, "Brookings Export Monitor 2018 by county, 2017 "
               "(millions of US dollars, place of production; not comparable with ITA)", optional=True),
    *(SourceFile(f"brookings_monitor_{topic}", MONITOR_FOLDER, f"metro_monitor_2021_{topic}_values.csv",
                 read_metro_monitor, MONITOR_SCHEMA, f"Brookings Metro Monitor 2021 {topic} indicators, 2009-2019",
                 optional=True)
      for topic in ("growth", "prosperity", "inclusion")),
)
