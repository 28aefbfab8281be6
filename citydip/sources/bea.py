"""BEA Regional Economic Accounts: personal income, population (CAINC1) and GDP (CAGDP1).

Four bulk-download files, one reader per table (both layouts read alike):

* ``CAINC1_MSA_1969_<last>.csv`` and ``CAGDP1_MSA_2001_<last>.csv``: all MSAs on the
  fixed March-2020 delineation (GeoFIPS = 5-digit CBSA code), the panel's controls;
* ``CAINC1__ALL_AREAS_1969_<last>*.csv`` and ``CAGDP1__ALL_AREAS_2001_<last>.csv``: the
  nation, BEA regions, states and counties (BEA county equivalents, e.g. Virginia
  combinations 519xx), for re-aggregation to other delineations.

Traps undone here: Latin-1 text (a UTF-8 re-save reads identically); GeoFIPS written
``␠"10180"``; four footer lines, which must be present (their absence means the file
was cut at a line break); parenthesised markers ``(NA)``, ``(D)``, ``(NM)``... become
NaN and are listed in ``missing_markers``; GeoName suffixes ``(Metropolitan Statistical
Area)`` (-> ``geo_level``) and ``*`` / `` *`` (-> ``area_note``) are removed. The three
lines of a table have different units; each becomes its own unit-explicit column, and the
``Unit`` label of every row is checked, so a change of unit or base year is an error.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd

from citydip.config import LATEST_RECORD_YEAR
from citydip.errors import SourceFileError
from citydip.sources._io import BEA_MISSING_MARKERS, read_delimited, wide_years_to_long
from citydip.sources.registry import SourceFile, register
from citydip.sources.schema import SOURCE_ROW, Schema, col

FOLDER = "bea_regional"

#: First year of each table (CAINC1 starts in 1969, county/MSA GDP in 2001).
CAINC1_FIRST_YEAR = 1969
CAGDP1_FIRST_YEAR = 2001

ID_COLUMNS = ["GeoFIPS", "GeoName", "Region", "TableName", "LineCode", "IndustryClassification",
              "Description", "Unit"]

#: Line code -> (output column, exact BEA unit label).
CAINC1_LINES = {
    1: ("personal_income_thousands_usd", "Thousands of dollars"),
    2: ("population_persons", "Number of persons"),
    3: ("per_capita_income_usd", "Dollars"),
}
CAGDP1_LINES = {
    1: ("real_gdp_thousands_chained2017_usd", "Thousands of chained 2017 dollars"),
    2: ("real_gdp_index_2017_100", "Quantity index"),
    3: ("gdp_thousands_current_usd", "Thousands of dollars"),
}

_SUFFIX_LEVEL = {
    "Metropolitan Statistical Area": "msa",
    "Micropolitan Statistical Area": "micro",
    "Metropolitan Division": "division",
    "Combined Statistical Area": "csa",
}
_NAME = re.compile(r"^(?P<name>.*?)\s*(?:\((?P<suffix>" + "|".join(map(re.escape, _SUFFIX_LEVEL))
                   + r")\))?\s*(?P<star>\*)?$")
_FIPS = re.compile(r"\d{5}")
_FOOTER_FIRST_WORDS = ("Note:", "Last updated", "U.S. Bureau of Economic Analysis")


def _common_columns(level_description: str) -> tuple:
    return (
        col("geo_fips", "string", "5-digit BEA GeoFIPS: CBSA code for MSAs, state+county FIPS for counties, "
            "'00000' nation, 'SS000' state, '9R000' BEA region"),
        col("geo_name", "string", "BEA area name without the statistical-area suffix and footnote mark"),
        col("geo_level", "string", level_description),
        col("area_note", "bool", "BEA marks the area with '*': a footnote describes a boundary change or "
            "combined area (e.g. Broomfield CO, Virginia independent cities, Alaska)"),
        col("year", "int64", "calendar year"),
    )


_LEVELS = "'msa', 'micro', 'division', 'csa' (from the name suffix), else 'nation', 'region', 'state', 'county'"
_TRAILER = (
    col("missing_markers", "string", "BEA markers of the NaN values in this row, space-separated, e.g. '(NA)' "
        "not available, '(D)' suppressed, '(NM)' not meaningful; '' when every value is present"),
    col(SOURCE_ROW.name, SOURCE_ROW.dtype, "1-based file row of the area's line-1 record (lines 2 and 3 are other rows)"),
)

CAINC1_SCHEMA = Schema("bea_cainc1", _common_columns(_LEVELS) + (
    col("personal_income_thousands_usd", "float64", "personal income (line 1), place of residence",
        "thousands of current US dollars"),
    col("population_persons", "float64", "midyear resident population (line 2)", "persons"),
    col("per_capita_income_usd", "float64", "per capita personal income (line 3)", "current US dollars"),
) + _TRAILER)

CAGDP1_SCHEMA = Schema("bea_cagdp1", _common_columns(_LEVELS) + (
    col("real_gdp_thousands_chained2017_usd", "float64", "real GDP (line 1)", "thousands of chained 2017 US dollars"),
    col("real_gdp_index_2017_100", "float64", "chain-type quantity index for real GDP (line 2)", "index, 2017 = 100"),
    col("gdp_thousands_current_usd", "float64", "current-dollar GDP (line 3)", "thousands of current US dollars"),
) + _TRAILER)

def _footer_reader() -> tuple[list[str], callable]:
    found: list[str] = []

    def is_footer(record: list[str]) -> bool:
        first = record[0].strip() if record else ""
        if not first or any(c.strip() for c in record[1:]) or _FIPS.fullmatch(first.strip('"')):
            return False
        found.append(first)
        return True

    return found, is_footer


def _read(path: str | Path, table_name: str, lines: dict[int, tuple[str, str]], first_year: int,
          schema: Schema) -> pd.DataFrame:
    footer, is_footer = _footer_reader()
    table = read_delimited(path, encoding="latin-1", footer=is_footer)
    table.require_columns(ID_COLUMNS)
    table.require_rows()
    if not any(f.startswith("Last updated") for f in footer) or not any(
            f.startswith("U.S. Bureau of Economic Analysis") for f in footer):
        last = int(table.rows[-1]) if len(table) else None
        raise SourceFileError(table.path, f"BEA footer lines are missing (found {footer[::-1] or 'none'})",
                              row=last, hint="the file looks cut off at a line break; re-download it")
    table.check_unique(["GeoFIPS", "LineCode"], "area and line")

    fips = table.text("GeoFIPS", required=True).str.strip('"').str.strip()
    bad = ~fips.str.fullmatch(r"\d{5}")
    if bad.any():
        i = int(np.argmax(bad.to_numpy()))
        raise table.error(f"GeoFIPS {fips.iloc[i]!r} is not a 5-digit code", position=i, column="GeoFIPS",
                          hint="a spreadsheet re-save may have dropped leading zeros")
    tables = table.text("TableName", required=True)
    bad = ~tables.eq(table_name)
    if bad.any():
        i = int(np.argmax(bad.to_numpy()))
        raise table.error(f"table {tables.iloc[i]!r} where {table_name!r} was expected", position=i,
                          column="TableName")
    line = table.numeric("LineCode", allow_empty=False, integer=True)
    bad = ~line.isin(list(lines))
    if bad.any():
        i = int(np.argmax(bad.to_numpy()))
        raise table.error(f"line code {table.frame['LineCode'].iloc[i]!r} is not one of {sorted(lines)}",
                          position=i, column="LineCode")
    line = line.astype("int64")
    units = table.text("Unit")
    expected = line.map({k: v[1] for k, v in lines.items()})
    bad = ~units.eq(expected).to_numpy(dtype=bool)
    if bad.any():
        i = int(np.argmax(bad))
        raise table.error(f"unit {units.iloc[i]!r} differs from {expected.iloc[i]!r} for line {line.iloc[i]}; "
                          "the column's unit (or base year) cannot be confirmed", position=i, column="Unit")

    names = table.text("GeoName", required=True)
    parts = names.str.extract(_NAME)
    clean = parts["name"].astype("string")
    level = parts["suffix"].map(_SUFFIX_LEVEL)
    by_fips = pd.Series(np.select(
        [fips.eq("00000"), fips.str.match(r"9\d000$"), fips.str.endswith("000")],
        ["nation", "region", "state"], "county"), index=fips.index)
    level = level.fillna(by_fips).astype("string")
    note = parts["star"].notna()

    # Every area must carry each line once, under one name.
    ids = pd.DataFrame({"fips": fips, "name": names, "line": line})
    for fp, group in ids.groupby("fips", sort=False):
        if group["name"].nunique() > 1:
            i = int(group.index[group["name"].ne(group["name"].iloc[0])][0])
            raise table.error(f"area {fp} has two names: {group['name'].iloc[0]!r} and {names.iloc[i]!r}",
                              position=i, column="GeoName")
        missing = sorted(set(lines) - set(group["line"]))
        if missing:
            raise table.error(f"area {fp} lacks line(s) {missing}", position=int(group.index[-1]),
                              column="LineCode", hint="the file looks truncated or edited; re-download it")

    long, years = wide_years_to_long(table, ["GeoFIPS"], first=first_year, last=LATEST_RECORD_YEAR,
                                     value_name="value", markers=BEA_MISSING_MARKERS)
    raw = pd.concat([table.text(str(y)) for y in years], ignore_index=True)
    long["marker"] = raw.where(raw.isin(BEA_MISSING_MARKERS), "").to_numpy()
    n = len(years)
    for name, values in (("geo_fips", fips), ("geo_name", clean), ("geo_level", level), ("area_note", note),
                         ("line", line)):
        long[name] = np.tile(values.to_numpy(), n)
    position = np.tile(np.arange(len(table)), n)
    negative = long["value"] < 0
    if negative.any():
        k = int(np.argmax(negative.to_numpy()))
        raise table.error("negative value", position=int(position[k]), column=str(long["year"].iloc[k]))

    keys = ["geo_fips", "year"]
    out = long.loc[long["line"].eq(1), keys + ["geo_name", "geo_level", "area_note", "source_row"]]
    for number, (column, _unit) in lines.items():
        part = long.loc[long["line"].eq(number), keys + ["value"]].rename(columns={"value": column})
        out = out.merge(part, on=keys, how="left", validate="one_to_one")
    flagged = long[long["marker"].ne("")].groupby(keys)["marker"].agg(lambda m: " ".join(sorted(set(m))))
    out = out.merge(flagged.rename("missing_markers").reset_index(), on=keys, how="left")
    out["missing_markers"] = out["missing_markers"].fillna("")
    return schema.conform(out.sort_values(keys, kind="stable"))


def read_cainc1(path: str | Path) -> pd.DataFrame:
    """Read a CAINC1 file (MSA or all areas): one row per (geo_fips, year); income in thousands
    of current dollars, population in persons, per capita income in current dollars."""
    return _read(path, "CAINC1", CAINC1_LINES, CAINC1_FIRST_YEAR, CAINC1_SCHEMA)


def read_cagdp1(path: str | Path) -> pd.DataFrame:
    """Read a CAGDP1 file (MSA or all areas): one row per (geo_fips, year); real GDP in thousands
    of chained 2017 dollars, its quantity index (2017 = 100), GDP in thousands of current dollars."""
    return _read(path, "CAGDP1", CAGDP1_LINES, CAGDP1_FIRST_YEAR, CAGDP1_SCHEMA)


register(
    SourceFile("bea_cainc1_msa", FOLDER, "CAINC1_MSA_1969_*.csv", read_cainc1, CAINC1_SCHEMA,
               "BEA CAINC1 personal income (thousands of current US dollars), population (persons), per capita "
               "income (current US dollars), 384 MSAs on March-2020 boundaries"),
    SourceFile("bea_cagdp1_msa", FOLDER, "CAGDP1_MSA_2001_*.csv", read_cagdp1, CAGDP1_SCHEMA,
               "BEA CAGDP1 real GDP (thousands of chained 2017 US dollars), quantity index (2017 = 100), GDP "
               "(thousands of current US dollars), 384 MSAs on March-2020 boundaries"),
    SourceFile("bea_cainc1_counties", FOLDER, "CAINC1__ALL_AREAS_1969_*.csv", read_cainc1, CAINC1_SCHEMA,
               "BEA CAINC1 for the nation, regions, states and counties (for re-aggregation)", optional=True),
    SourceFile("bea_cagdp1_counties", FOLDER, "CAGDP1__ALL_AREAS_2001_*.csv", read_cagdp1, CAGDP1_SCHEMA,
               "BEA CAGDP1 for the nation (GDP deflator), regions, states and counties"),
)
