"""ITA Metropolitan Export Series: merchandise exports by metropolitan area.

Two published layouts of the same series (Tableau "Crosstab" export):

* ``ita_metro_exports_2005_2023/ITA_MSA_Export_Series_2005_2023.xlsx`` (preferred), and
* ``ita_metro_exports/ita_msa_exports_2012_2021.csv`` (cross-check; values >= 1e11 were
  saved in scientific notation with 6 significant digits, flagged ``rounded``).

Traps undone here: the unit column says "Millions of USD" but the values are **current
US dollars** (Abilene 2005 = 28,155,182); the csv starts with a BOM; empty cells mean
suppressed or not reported and stay NaN. Rows are named by CBSA titles (July 2023 titles
in the workbook, older titles in the csv), never codes: :mod:`citydip.geo.crosswalk`
maps them to CBSA codes. Each year follows the delineation in force that year.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from citydip.config import ITA_YEARS
from citydip.sources._io import RawTable, read_delimited, read_sheet, wide_years_to_long
from citydip.sources.registry import SourceFile, register
from citydip.sources.schema import SOURCE_ROW, Schema, col

NAME_COLUMN = "MSA Full Name"
UNIT_COLUMN = "Unit (Valid for crosstab only)"
UNIT_LABEL = "Millions of USD"
#: Catch-all rows (not metros): crossovers, non-metro, other metro, unknown.
AGGREGATE_PREFIX = "Z-"

SCHEMA = Schema("ita_exports", (
    col("msa_title", "string", "CBSA title as ITA prints it (2023 titles in the workbook)"),
    col("year", "int64", "calendar year of the exports"),
    col("exports_usd", "float64", "merchandise exports, exporter-of-record location (OM-ZIP); NaN = suppressed",
        "current US dollars"),
    col("is_aggregate", "bool", "catch-all row (Z-Non Metropolitan Areas etc.), not a metro"),
    col("rounded", "bool", "value was stored in scientific notation (6 significant digits)"),
    SOURCE_ROW,
))


def _tidy(table: RawTable) -> pd.DataFrame:
    table.require_columns([NAME_COLUMN, UNIT_COLUMN])
    table.require_rows()
    table.check_unique([NAME_COLUMN], "metro name")
    table.text(NAME_COLUMN, required=True)  # every row must name its metro
    units = table.text(UNIT_COLUMN)
    wrong = ~units.eq(UNIT_LABEL)
    if wrong.any():
        i = int(np.argmax(wrong.to_numpy()))
        raise table.error(f"unit label {units.iloc[i]!r} differs from {UNIT_LABEL!r}; the dollar scale cannot be "
                          "confirmed", position=i, column=UNIT_COLUMN)
    long, years = wide_years_to_long(table, [NAME_COLUMN], first=ITA_YEARS.start, last=ITA_YEARS.stop - 1,
                                     value_name="exports_usd")
    rounded = pd.concat([table.scientific(str(y)) for y in years], ignore_index=True)
    bad = long["exports_usd"] < 0
    if bad.any():
        i = int(np.argmax(bad.to_numpy()))
        year = int(long["year"].iloc[i])
        raise table.error("negative exports", position=i % len(table), column=str(year))
    long = long.rename(columns={NAME_COLUMN: "msa_title"})
    long["is_aggregate"] = long["msa_title"].str.startswith(AGGREGATE_PREFIX)
    long["rounded"] = rounded.to_numpy(dtype=bool)
    return SCHEMA.conform(long.sort_values(["msa_title", "year"], kind="stable"))


def read_workbook(path: str | Path) -> pd.DataFrame:
    """Read the 2005-2023 workbook (sheet "Sheet 1"; one header row) to long format."""
    table = read_sheet(path, sheet="Sheet 1", header_predicate=any)
    return _tidy(table)


def read_csv(path: str | Path) -> pd.DataFrame:
    """Read the 2012-2021 crosstab csv (UTF-8 with BOM) to long format."""
    return _tidy(read_delimited(path))


register(
    SourceFile("ita_xlsx", "ita_metro_exports_2005_2023", "ITA_MSA_Export_Series_2005_2023.xlsx", read_workbook,
               SCHEMA, "ITA metro merchandise exports 2005-2023 (current US dollars)"),
    SourceFile("ita_csv", "ita_metro_exports", "ita_msa_exports_2012_2021.csv", read_csv, SCHEMA,
               "ITA metro merchandise exports 2012-2021, cross-check (current US dollars)", optional=True),
)
