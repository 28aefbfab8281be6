"""CDP–ICLEI city-wide emissions disclosures: one file per reporting year, 2016–2021.

Each year cities report to the CDP–ICLEI unified reporting system (CDP and ICLEI – Local
Governments for Sustainability). One file per reporting year lists the cities that
responded that year, in ``cdp_cities/`` (CDP Open Data Portal, data.cdp.net; cite "This data
was collected in partnership by CDP and ICLEI - Local Governments for Sustainability"):

* ``2016_-_Citywide_GHG_Emissions.csv``, ``2017_-_Cities_Community_Wide_Emissions.csv``,
  ``2018_City-wide_Emissions.csv``, ``2019_City-wide_Emissions.csv``,
  ``2020_-_City-Wide_Emissions.csv``, ``2021_City-wide_Emissions.csv``.

A city's presence in year t is a dated, yearly measure of active participation in an
international city-network reporting system. :func:`read_year` reads one file,
:func:`read_all` the six, into one tidy table (:data:`SCHEMA`), one row per responding
organisation and year; every row is kept (``in_united_states`` marks the U.S. rows, nothing
is filtered). The reporting year is the leading year of the file name, or given explicitly;
the file's own year column must agree with it.

Layouts differ by year (:data:`LAYOUTS`: the published header of each field). 2016 names
the organisation ``City Name`` and the city ``City Short Name``; 2017 writes ``Account
number``, ``Reporting year``, ``Accounting year``; 2018–2021 start with ``Year Reported to
CDP``. Only the columns the reader uses must be present (a renamed or missing one is an error
naming the header row); the emission figures (every column in tonnes CO2e, the Scope 3 total
and the GPC BASIC/BASIC+ totals) are checked to be numbers (2018 writes "Not Applicable" in
the GPC totals: read as missing) and are not kept beyond ``has_emissions_figure``.

Identifiers. ``Account Number`` is CDP's stable id of the reporting organisation across
years (a whole number; repeated within one year is an error, it would count twice).

Places. ``organization`` is the reporting body ("City of Lake Forest, IL", "Town of
Wellfleet", "Metropolitan Council, Twin Cities", "Cuyahoga County"); ``city`` is the
published city field (2016: ``City Short Name``) without its state suffix; both are
sometimes empty or odd ("Iowa" for Iowa City in 2016–2017). ``organization_place`` is ``organization``
without a leading "City of", "Town of", "Village of", "City and County of", "Township of"
and without its state; ``place``, the name to match, is ``city`` when given, else
``organization_place``. ``state`` (U.S. rows
only) is the USPS code written after a comma or in parentheses at the end of the city field,
else of the organisation ("Birmingham, AL", "City of New Haven (CT)"); codes that are not
USPS codes ("(COG)", "Twin Cities") are not states. When both fields give different states
the city field's is used and the row is flagged. Non-U.S. rows get no state.

Coordinates. ``City Location`` is "(lat, lon)" in 2016–2017 and "POINT (lon lat)" in
2018–2021; empty cells are missing. Any other text is an error, except the one published
defect of 2017 (Miami Beach: a stray "_" and line break before the parenthesis, removed and
flagged). Values beyond ±90/±180 are errors. The published coordinates of U.S. rows are often
wrong: a dropped minus sign (Honolulu 2018 "POINT (157.59 21.28)"), latitude and longitude
swapped (Norfolk 2018–19, Aurora 2018, Sarasota 2019), or the wrong homonym (Cambridge MA
placed in Minnesota, Lancaster with Pennsylvania coordinates while its city field says CA).
U.S. rows whose coordinates fall outside the United States (:data:`US_LATITUDES`,
:data:`US_LONGITUDES`) get ``lat``/``lon`` missing and a flag; ``city_location`` keeps the
published text. Names with a state are matched by name (the matcher ignores coordinates
then); :func:`with_account_states` gives rows without a state the state their account
states in another year, before coordinates are used.

Inventory status. 2018–2021 ask whether the city has a city-wide emissions inventory
(``City-wide Emissions Inventory`` / ``City-wide emissions inventory``): "Yes", "In
progress", "Intending to undertake in future" (2018) / "... in the next 2 years" (2020–21),
"Not intending to undertake", "No" (2018) or no answer. 2016 and 2017 have no such question:
those files list inventories, and every row states its accounting period. The rule
(``inventory_status``): "disclosed" = the answer "Yes" (2018–2021), or, in 2016–2017, a row
that states its accounting period (all rows do); "in progress", "intending", "not
intending", "no" = those answers; "not stated" = no answer (2018–2021) or no accounting
period (2016–2017). ``has_inventory`` is ``inventory_status == "disclosed"``. Any other
answer is an error naming its row. Not every disclosed inventory has a figure in the
public file (``has_emissions_figure``: 2017 has three without, 2019–2021 many "Yes" rows
give none), and no "in progress" or "intending" row of 2018, 2019 or 2021 has one (five
"in progress" rows of 2020 do).

U.S. rows (``in_united_states``: country "USA" in 2016–2017, "United States of America" in
2018–2021): 2016 63, 2017 81, 2018 136, 2019 171, 2020 161, 2021 173. ``c40`` (the ``C40``
column, "C40" or empty) exists in 2016 and 2017 only; later years have <NA> (2018–2019 name
C40 among the ``reporting_authority`` bodies instead).
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd

from citydip.config import LATEST_RECORD_YEAR
from citydip.errors import MissingSourceError, SourceFileError
from citydip.sources._io import RawTable, read_delimited
from citydip.sources.curated import US_STATES
from citydip.sources.registry import SourceFile, register
from citydip.sources.schema import SOURCE_ROW, Schema, col

FOLDER = "cdp_cities"
YEARS = (2016, 2017, 2018, 2019, 2020, 2021)
FILENAMES = {
    2016: "2016_-_Citywide_GHG_Emissions.csv",
    2017: "2017_-_Cities_Community_Wide_Emissions.csv",
    2018: "2018_City-wide_Emissions.csv",
    2019: "2019_City-wide_Emissions.csv",
    2020: "2020_-_City-Wide_Emissions.csv",
    2021: "2021_City-wide_Emissions.csv",
}
#: Country labels of U.S. rows.
US_COUNTRIES = ("USA", "United States of America")
#: The 50 states, DC and Puerto Rico (degrees): U.S. coordinates outside are not used.
US_LATITUDES = (17.5, 71.5)
US_LONGITUDES = (-179.9, -64.5)
#: Plausible accounting years (end of the inventory's period).
EARLIEST_ACCOUNTING_YEAR = 1990

#: The published header of each field the reader uses, by year. ``inventory``: None where the
#: year has no inventory question; ``authority``/``c40``: None where the year has no such column.
_COMMON_2018 = {"account": "Account Number", "organization": "Organization", "city": "City", "country": "Country",
                "year": "Year Reported to CDP", "location": "City Location", "c40": None}
LAYOUTS: dict[int, dict[str, str | None]] = {
    2016: {"account": "Account Number", "organization": "City Name", "city": "City Short Name", "country": "Country",
           "year": "Reporting Year", "location": "City Location", "c40": "C40", "inventory": None,
           "accounting": "Measurement Year", "authority": None},
    2017: {"account": "Account number", "organization": "Organization", "city": "City", "country": "Country",
           "year": "Reporting year", "location": "City Location", "c40": "C40", "inventory": None,
           "accounting": "Accounting year", "authority": None},
    2018: {**_COMMON_2018, "inventory": "City-wide Emissions Inventory", "accounting": "Accounting Year",
           "authority": "Reporting Authority"},
    2019: {**_COMMON_2018, "inventory": "City-wide Emissions Inventory", "accounting": "Accounting Year",
           "authority": "Reporting Authority"},
    2020: {**_COMMON_2018, "inventory": "City-wide emissions inventory", "accounting": "Accounting year",
           "authority": None},
    2021: {**_COMMON_2018, "inventory": "City-wide emissions inventory", "accounting": "Accounting year",
           "authority": None},
}
#: Emission-figure columns (checked to be numbers): headers matching this pattern.
_EMISSIONS = re.compile(r"metric tonnes CO2e|^TOTAL Scope 3 Emissions$|Emissions \(GPC\)$")
#: Markers of an empty emission cell.
EMISSION_MARKERS = ("Not Applicable",)

#: Published inventory answers -> harmonised status.
INVENTORY_ANSWERS = {
    "Yes": "disclosed",
    "In progress": "in progress",
    "Intending to undertake in future": "intending",
    "Intending to undertake in the next 2 years": "intending",
    "Not intending to undertake": "not intending",
    "No": "no",
    "": "not stated",
}
INVENTORY_STATUSES = ("disclosed", "in progress", "intending", "not intending", "no", "not stated")

_LATLON = re.compile(r"^\(\s*([-+]?\d+(?:\.\d+)?)\s*,\s*([-+]?\d+(?:\.\d+)?)\s*\)$")
_POINT = re.compile(r"^POINT\s*\(\s*([-+]?\d+(?:\.\d+)?)\s+([-+]?\d+(?:\.\d+)?)\s*\)$")
_STRAY = re.compile(r"^_\s*[\r\n]+\s*")
_STATE_SUFFIX = re.compile(r"(?:,\s*([A-Za-z]{2})|\s*\(\s*([A-Za-z]{2})\s*\))\s*$")
_PREFIX = re.compile(r"^(?:city and county of|city of|town of|village of|township of)\s+", re.IGNORECASE)
_PERIOD = re.compile(r"^(\d{4})-\d{2}-\d{2}\s*-\s*(\d{4})-\d{2}-\d{2}$|^-\s*(\d{4})-\d{2}-\d{2}$"
                     r"|^(\d{4})-\d{2}-\d{2}\s*-$|^-?$")
_DATE_2016 = re.compile(r"^\d{2}/\d{2}/(\d{4})(?: \d{1,2}:\d{2}:\d{2} [AP]M)?$")

SCHEMA = Schema("cdp_cities", (
    col("reporting_year", "int64", "year of the CDP–ICLEI reporting cycle (the file)"),
    col("account_number", "int64", "CDP account number: stable id of the reporting organisation across years"),
    col("organization", "string", "reporting organisation as published (2016: 'City Name')"),
    col("city", "string", "city field as published without its state suffix (2016: 'City Short Name'); may be empty"),
    col("organization_place", "string", "organization without a 'City of'-type prefix and, on U.S. rows, its state"),
    col("place", "string", "name to match: city, else organization_place"),
    col("state", "string", "USPS code parsed from the city field, else the organisation; '' when not given "
                           "(U.S. rows only)"),
    col("country", "string", "country as published ('USA' in 2016-2017, 'United States of America' later)"),
    col("in_united_states", "bool", "country is USA / United States of America"),
    col("lat", "float64", "latitude from City Location; NaN when missing or, for U.S. rows, outside the U.S.",
        "decimal degrees"),
    col("lon", "float64", "longitude from City Location; NaN when missing or, for U.S. rows, outside the U.S.",
        "decimal degrees"),
    col("city_location", "string", "City Location as published ('(lat, lon)' 2016-17, 'POINT (lon lat)' 2018-21)"),
    col("c40", "boolean", "C40 member per the C40 column (2016 and 2017 only; <NA> later)"),
    col("reporting_authority", "string", "bodies the city reports to (2018-2019 only; '' otherwise)"),
    col("inventory_response", "string", "answer to the city-wide inventory question as published (2018-2021; '' "
                                        "when not answered or not asked)"),
    col("inventory_status", "string", "disclosed / in progress / intending / not intending / no / not stated "
                                      "(module rule)"),
    col("has_inventory", "bool", "inventory_status is 'disclosed'"),
    col("has_emissions_figure", "bool", "at least one emission figure (tonnes CO2e) is published in the row"),
    col("accounting_period", "string", "accounting period of the inventory as published"),
    col("accounting_year_end", "Int64", "year in which the inventory's accounting period ends; <NA> when not given"),
    col("flag", "string", "reason a cell was repaired or needs care; empty when clean"),
    SOURCE_ROW,
))


def year_from_name(path: str | Path) -> int:
    """The reporting year is the leading four-digit year of the file name."""
    path = Path(path)
    match = re.match(r"(\d{4})_", path.name)
    if match is None or int(match.group(1)) not in YEARS:
        raise SourceFileError(path, f"cannot tell the reporting year from the file name; expected it to start "
                                    f"with one of {list(YEARS)} and '_'",
                              hint="keep the published file name or pass year= explicitly")
    return int(match.group(1))


def read_year(path: str | Path, year: int | None = None) -> pd.DataFrame:
    """Read one reporting year's file into :data:`SCHEMA` (every row; see the module rules)."""
    path = Path(path)
    if year is None:
        year = year_from_name(path)
    if year not in YEARS:
        raise ValueError(f"unknown CDP reporting year {year}; known: {list(YEARS)}")
    table = read_delimited(path)
    return _tidy(table, year)


def read_all(data_dir: str | Path, *, missing: str = "error") -> pd.DataFrame:
    """The six reporting years from ``data_dir/cdp_cities``, stacked. ``missing="error"``
    (default): an absent year file raises :class:`~citydip.errors.MissingSourceError` naming
    it; ``missing="skip"``: the years present are returned (the frame says which)."""
    if missing not in ("error", "skip"):
        raise ValueError(f"missing must be 'error' or 'skip', not {missing!r}")
    from citydip.sources import registry

    frames = []
    for year in YEARS:
        path = registry.get(f"cdp_{year}").path(Path(data_dir), Path(data_dir))
        try:
            frames.append(read_year(path, year))
        except MissingSourceError:
            if missing == "error":
                raise
    if not frames:
        return SCHEMA.conform(pd.DataFrame({c: pd.Series(dtype=t.dtype) for c, t in
                                            zip(SCHEMA.names, SCHEMA.columns)}))
    return SCHEMA.conform(pd.concat(frames, ignore_index=True))


def us_rows(frame: pd.DataFrame) -> pd.DataFrame:
    """The U.S. rows (``in_united_states``)."""
    return frame[frame["in_united_states"]]


def with_account_states(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with ``state_filled`` and ``state_note``: a row's own ``state``, else the one
    state that the same account gives in its other years (U.S. rows; e.g. "City of Cambridge"
    2017 takes MA from "Cambridge, MA" 2019-2021). An account whose years give several states
    fills nothing, and says so."""
    out = frame.copy()
    given = frame[frame["state"].fillna("").ne("")]
    states = given.groupby("account_number")["state"].agg(lambda s: sorted(set(s)))
    years = given.groupby("account_number")["reporting_year"].agg(lambda s: sorted({int(y) for y in s}))
    filled, notes = [], []
    for account, state in zip(frame["account_number"], frame["state"].fillna("")):
        if state:
            filled.append(state)
            notes.append("")
            continue
        found = states.get(account)
        if not found:
            filled.append("")
            notes.append("")
        elif len(found) == 1:
            filled.append(found[0])
            notes.append(f"state {found[0]} from the same account's {', '.join(map(str, years[account]))} row(s)")
        else:
            filled.append("")
            notes.append(f"the account's other years give several states ({', '.join(found)}): none used")
    out["state_filled"] = pd.array(filled, dtype="string")
    out["state_note"] = pd.array(notes, dtype="string")
    return out


# -- reading -------------------------------------------------------------------------------------
def _tidy(table: RawTable, year: int) -> pd.DataFrame:
    layout = LAYOUTS[year]
    table.require_columns([c for c in layout.values() if c])
    table.require_rows()
    table.check_unique([layout["account"]], "account number")
    flags = pd.Series("", index=table.frame.index, dtype="string")

    account = table.numeric(layout["account"], allow_empty=False, integer=True, minimum=1)
    reported = table.numeric(layout["year"], allow_empty=False, integer=True)
    other = reported.ne(year)
    if other.any():
        i = int(np.argmax(other.to_numpy()))
        raise table.error(f"reporting year {table.frame[layout['year']].iloc[i]!r} differs from the file's "
                          f"year {year}", position=i, column=layout["year"],
                          hint="check that the file is the year its name says")

    organization = table.text(layout["organization"])
    city_raw = table.text(layout["city"])
    country = table.text(layout["country"], required=True)
    empty_names = organization.eq("") & city_raw.eq("")
    if empty_names.any():
        raise table.error("neither organisation nor city is given", position=int(np.argmax(empty_names.to_numpy())),
                          column=layout["organization"])
    us = country.isin(US_COUNTRIES)

    city, city_state = _split_state(city_raw)
    org_name, org_state = _split_state(organization)
    city_state = city_state.where(us, "")
    org_state = org_state.where(us, "")
    state = city_state.where(city_state.ne(""), org_state)
    conflict = city_state.ne("") & org_state.ne("") & city_state.ne(org_state)
    _append(flags, conflict, lambda i: f"city field says {city_state.iloc[i]}, organisation says "
                                       f"{org_state.iloc[i]}: the city field's state is used")
    # Names lose a state suffix on U.S. rows only.
    city = city.where(us, city_raw)
    place_org = org_name.where(us, organization).str.replace(_PREFIX, "", regex=True).str.strip()
    place = city.where(city.ne(""), place_org)

    location = table.text(layout["location"])
    lat, lon = _coordinates(table, layout["location"], location, year, flags)
    outside = us & lat.notna() & ~(lat.between(*US_LATITUDES) & lon.between(*US_LONGITUDES))
    _append(flags, outside, lambda i: f"coordinates {location.iloc[i]!r} lie outside the United States "
                                      "(a dropped minus sign or swapped latitude/longitude): not used")
    lat, lon = lat.mask(outside), lon.mask(outside)

    c40 = pd.Series(pd.NA, index=table.frame.index, dtype="boolean")
    if layout["c40"]:
        cells = table.text(layout["c40"])
        bad = ~cells.isin(["C40", ""])
        if bad.any():
            i = int(np.argmax(bad.to_numpy()))
            raise table.error(f"value {cells.iloc[i]!r} is not 'C40' or empty", position=i, column=layout["c40"])
        c40 = cells.eq("C40").astype("boolean")
    authority = table.text(layout["authority"]) if layout["authority"] else pd.Series(
        "", index=table.frame.index, dtype="string")

    period = table.text(layout["accounting"])
    period_end = _period_end(table, layout["accounting"], period, year)
    late = pd.Series(period_end > year, index=table.frame.index).fillna(False).astype(bool)
    _append(flags, late, lambda i: f"accounting period {period.iloc[i]!r} ends after the reporting year")
    if layout["inventory"]:
        response = table.text(layout["inventory"])
        unknown = ~response.isin(list(INVENTORY_ANSWERS))
        if unknown.any():
            i = int(np.argmax(unknown.to_numpy()))
            raise table.error(f"inventory answer {response.iloc[i]!r} is not one of "
                              f"{[a for a in INVENTORY_ANSWERS if a]} or empty", position=i,
                              column=layout["inventory"])
        status = response.map(INVENTORY_ANSWERS)
    else:
        response = pd.Series("", index=table.frame.index, dtype="string")
        status = period.ne("").map({True: "disclosed", False: "not stated"})
    figures = _emission_columns(table)
    has_figure = np.zeros(len(table), dtype=bool)
    for column in figures:
        has_figure |= table.numeric(column, markers=EMISSION_MARKERS).notna().to_numpy()

    frame = pd.DataFrame({
        "reporting_year": year,
        "account_number": account.astype("int64"),
        "organization": organization,
        "city": city,
        "organization_place": place_org,
        "place": place,
        "state": state,
        "country": country,
        "in_united_states": us.astype(bool),
        "lat": lat,
        "lon": lon,
        "city_location": location,
        "c40": c40,
        "reporting_authority": authority,
        "inventory_response": response,
        "inventory_status": status.astype("string"),
        "has_inventory": status.eq("disclosed").astype(bool),
        "has_emissions_figure": has_figure,
        "accounting_period": period,
        "accounting_year_end": period_end,
        "flag": flags,
        "source_row": table.rows,
    })
    return SCHEMA.conform(frame)


def _split_state(names: pd.Series) -> tuple[pd.Series, pd.Series]:
    """(name without a trailing USPS code, the code or ''); suffixes that are not USPS codes stay."""
    match = names.str.extract(_STATE_SUFFIX)
    code = match[0].fillna(match[1]).fillna("").str.upper()
    is_state = code.isin(sorted(US_STATES))
    stripped = names.str.replace(_STATE_SUFFIX, "", regex=True).str.strip()
    return (stripped.where(is_state, names).astype("string"),
            code.where(is_state, "").astype("string"))


def _coordinates(table: RawTable, column: str, cells: pd.Series, year: int,
                 flags: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Latitude and longitude from the year's City Location format; errors name the row."""
    pattern, order, shape = (_LATLON, (0, 1), "'(lat, lon)'") if year <= 2017 else (
        _POINT, (1, 0), "'POINT (lon lat)'")
    lat = np.full(len(cells), np.nan)
    lon = np.full(len(cells), np.nan)
    for i, text in enumerate(cells.tolist()):
        if text == "":
            continue
        stray = _STRAY.match(text)
        if stray:
            text = text[stray.end():]
            _append(flags, pd.Series(np.arange(len(cells)) == i, index=cells.index),
                    lambda _i: "stray '_' and line break before the coordinates removed")
        match = pattern.match(text)
        if match is None:
            raise table.error(f"location {cells.iloc[i]!r} is not in the {year} format {shape}", position=i,
                              column=column)
        values = (float(match.group(1)), float(match.group(2)))
        la, lo = values[order[0]], values[order[1]]
        if not (-90 <= la <= 90 and -180 <= lo <= 180):
            raise table.error(f"location {cells.iloc[i]!r} is outside the range of latitudes and longitudes",
                              position=i, column=column)
        lat[i], lon[i] = la, lo
    return pd.Series(lat, index=cells.index), pd.Series(lon, index=cells.index)


def _period_end(table: RawTable, column: str, cells: pd.Series, year: int) -> pd.Series:
    """End year of the accounting period ('2013-07-01 - 2014-06-30' -> 2014; 2016: the
    measurement date '12/31/2013 12:00:00 AM' -> 2013); <NA> when not given."""
    out: list[object] = []
    for i, text in enumerate(cells.tolist()):
        if year == 2016 and text:
            match = _DATE_2016.match(text)
            end = match.group(1) if match else None
        else:
            match = _PERIOD.match(text)
            end = (match.group(2) or match.group(3)) if match else None
        if match is None:
            raise table.error(f"accounting period {text!r} is not a date range 'YYYY-MM-DD - YYYY-MM-DD'"
                              + (" or a date 'MM/DD/YYYY'" if year == 2016 else ""), position=i, column=column)
        if end is not None and not EARLIEST_ACCOUNTING_YEAR <= int(end) <= LATEST_RECORD_YEAR:
            raise table.error(f"accounting period {text!r} ends outside {EARLIEST_ACCOUNTING_YEAR}-"
                              f"{LATEST_RECORD_YEAR}", position=i, column=column)
        out.append(int(end) if end is not None else pd.NA)
    return pd.array(out, dtype="Int64")


def _emission_columns(table: RawTable) -> list[str]:
    return [c for c in table.frame.columns if _EMISSIONS.search(c)]


def _append(flags: pd.Series, mask: pd.Series, note) -> None:
    """Append ``note(i)`` to the flag of every row where ``mask`` holds ('; '-separated)."""
    for i in np.flatnonzero(mask.to_numpy()):
        text = note(i)
        flags.iloc[i] = f"{flags.iloc[i]}; {text}" if flags.iloc[i] else text


register(*(
    SourceFile(f"cdp_{y}", FOLDER, FILENAMES[y], lambda p, y=y: read_year(p, y), SCHEMA,
               f"CDP–ICLEI city-wide emissions disclosures, reporting year {y} (cite CDP and ICLEI)",
               year_column="reporting_year")
    for y in YEARS
))
