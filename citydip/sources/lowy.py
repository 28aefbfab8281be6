"""Lowy Institute Global Diplomacy Index: post-level full datasets, five editions.

One row per diplomatic post of a *sending* country (G20 and OECD members in 2016; Asian
countries added in 2017 and 2019), in ``lowy_gdi/``:

* ``2016_LowyInstituteGlobalDiplomacyIndex-FullDataset.csv`` (no ``ASIA RANK`` column),
* ``2017_LowyInstituteGlobalDiplomacyIndex-FullDataset.csv``,
* ``2019_LowyInstituteGlobalDiplomacyIndex_FullDataset.csv``,
* ``globaldiplomacyindex.xlsx``: every edition stacked in one sheet with a ``Year`` column
  (see "The workbook" below; :func:`read_workbook`).

:func:`editions` gives the five editions as one table (column ``edition``): 2016, 2017 and
2019 from the CSVs (2016 and 2017 from the workbook with ``early="xlsx"``; the slices are
identical), 2021 and 2023 from the workbook. **Edition 2023 is what the Lowy Institute
published as its "2024" Global Diplomacy Index** (data collected mid/late 2023); citydip
labels editions by the year of their data (``published_as`` keeps Lowy's label).

Layout: UTF-8 with a BOM, every field quoted, and no line break after the last record
(so a cut-off download cannot be recognised by a missing final newline; it is caught by
an unterminated quote or a short record instead). The vintage is the leading year of the
file name, or given explicitly.

Output keeps every post of every sending country (the panel selects U.S. posts later);
nothing is dropped silently. Known defects of the published files are handled by name
and shown in ``flag`` (empty when the row is clean):

* the U.S. consulate general in Nogales is in Nogales, Sonora, but the 2016 file puts it
  in the "United States" (``post_country_corrected`` = Mexico);
* Mexico's post in Nogales, Arizona is labelled post country "Mexico" in 2017 and 2019
  (``post_country_corrected`` = United States);
* Mexico's consulate in "Leamington" is labelled "United States" in every vintage but
  is in Leamington, Ontario (``post_country_corrected`` = Canada);
* Japan's consular office in Saipan is labelled "United States"; Saipan is in the
  Northern Mariana Islands, a U.S. territory outside any metro area (Guam is labelled
  "Guam (US territory)", so it is relabelled the same way);
* the 2016 file lists Hungary's embassy to the Holy See twice, and the workbook's 2021
  rows list twelve posts outside the United States twice (:data:`KNOWN_DUPLICATES`); the
  second copy is dropped and the kept row says so (2021: 7,713 rows, 7,701 posts).

Any other post that a country runs in its own country (other than a permanent mission
to an international organisation) is flagged but not corrected, and any other duplicated
post is an error (it would be counted twice).

Post classes. ``TYPE OF POST`` has four published values. ``is_career_consular`` is true
for "Consulate / Consulate-General" posts and for "Other" posts whose title is consular
(Consular Office, Consular Agency, Office of Consul); trade, cultural and Taiwanese
"Economic & Cultural" offices are not consular by this rule. The provenance counts of
consular posts in the U.S. (256/279/283; 305 in 2021 and 310 in 2023) count the
"Consulate / Consulate-General" type only: :func:`us_post_counts` reproduces both definitions.

Sending-country names. Lowy renamed several countries between editions (Korea Republic of
(South Korea) -> South Korea, Turkey -> Türkiye, Czech Republic -> Czechia, Russian
Federation -> Russia, Slovak Republic -> Slovakia, Brunei Darussalam -> Brunei, Lao People's
Democratic Republic -> Laos, Korea Democratic People's Republic of (North Korea) -> North
Korea). :data:`COUNTRY_NAMES` (the one harmonisation table of citydip; the panel imports it)
maps every spelling to one name, given in ``sending_country_harmonised``; ``sending_country``
keeps the published spelling. Two spellings of one country in the same edition are an
error (the country would be counted twice).

The workbook
------------
``globaldiplomacyindex.xlsx`` (a public copy, DataScience-Lin/diplomacy_index_dashboard)
holds the columns of the CSVs plus ``Year``, one block of rows per edition: 2016 (5,945
rows), 2017 (7,190), a **2019 fragment of 40 rows**, 2021 (7,713) and 2023 (7,701).
:func:`read_workbook` reads every edition with the rules above. The 2019 rows are kept but
flagged as a fragment (they are not an edition: every one of them is in the 2019 CSV,
which is the 2019 edition); :func:`editions` does not use them. Missing 2016, 2017, 2021 or
2023 rows are an error naming the ``Year`` column; a missing fragment is harmless (it is not
used). The 2016 rows of the workbook carry an ``ASIA RANK`` that the 2016 CSV lacks (the
2016 index had no Asia rank): it is validated like the other ranks and not kept, as in every
edition. Otherwise the 2016 and 2017 slices equal the CSVs cell for cell (and the 2016
slice has the same duplicated Holy See row, treated the same way).

Oddities of 2021 and 2023, all handled by name like those above: Leamington (Ontario) and
Mexico's Nogales (Arizona) post are labelled correctly in these editions, so no correction
applies; Saipan is relabelled as before; Mexico's consulate in Oklahoma City, new in the
2023 edition, is published with the post city "Oklahoma" (a state): ``post_city_corrected``
is "Oklahoma City" and the row is flagged (:data:`POST_CITY_CORRECTIONS`). "New Brunswick"
(Mexico's consulate general in New Brunswick, New Jersey, also new in 2023) is a U.S. city,
not the Canadian province: nothing to correct.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd

from citydip.errors import SourceFileError
from citydip.sources._io import RawTable, read_delimited, read_sheet
from citydip.sources.registry import SourceFile, register
from citydip.sources.schema import SOURCE_ROW, Schema, col

#: Editions published as CSV full datasets (one file each).
VINTAGES = (2016, 2017, 2019)
FILENAMES = {
    2016: "2016_LowyInstituteGlobalDiplomacyIndex-FullDataset.csv",
    2017: "2017_LowyInstituteGlobalDiplomacyIndex-FullDataset.csv",
    2019: "2019_LowyInstituteGlobalDiplomacyIndex_FullDataset.csv",
}
#: The workbook of every edition stacked (column ``Year``).
WORKBOOK = "globaldiplomacyindex.xlsx"
YEAR = "Year"
#: Editions in the workbook; each must be present except the 2019 fragment.
WORKBOOK_YEARS = (2016, 2017, 2019, 2021, 2023)
WORKBOOK_REQUIRED = (2016, 2017, 2021, 2023)
#: The workbook's 2019 rows: a fragment, not an edition (the 2019 CSV is the 2019 edition).
WORKBOOK_FRAGMENT = 2019
#: The five editions citydip uses, by the year of their data.
EDITIONS = (2016, 2017, 2019, 2021, 2023)
#: Lowy's own label of each edition: the 2023 data are the "2024" Global Diplomacy Index.
PUBLISHED_AS = {2016: 2016, 2017: 2017, 2019: 2019, 2021: 2021, 2023: 2024}
FOLDER = "lowy_gdi"
UNITED_STATES = "United States"

#: Sending-country spellings (Lowy's editions, and others met in the curated events file) ->
#: harmonised name. Names not listed are kept as they are. The one harmonisation table of
#: citydip (:mod:`citydip.panel.consulates` imports it).
COUNTRY_NAMES: dict[str, str] = {
    "Russian Federation": "Russia",
    "Korea Republic of (South Korea)": "South Korea",
    "Korea, Republic of": "South Korea",
    "Republic of Korea": "South Korea",
    "Korea Democratic People's Republic of (North Korea)": "North Korea",
    "Lao People's Democratic Republic": "Laos",
    "Brunei Darussalam": "Brunei",
    "Taiwan*": "Taiwan",
    "Slovak Republic": "Slovakia",
    "Czech Republic": "Czechia",
    "Turkey": "Türkiye",
    "Viet Nam": "Vietnam",
    "UAE": "United Arab Emirates",
    "UK": "United Kingdom",
    "Great Britain": "United Kingdom",
    "USA": "United States",
    "United States of America": "United States",
}


def harmonise_country(name: object) -> str:
    """The harmonised sending-country name (:data:`COUNTRY_NAMES`)."""
    text = str(name).strip()
    return COUNTRY_NAMES.get(text, text)


COUNTRY, POPULATION, GDP = "COUNTRY", "POPULATION (M)", "GDP (B, USD)"
G20, OECD, ASIA, OVERALL = "G20 RANK", "OECD RANK", "ASIA RANK", "OVERALL RANK"
CITY, POST_COUNTRY, TYPE, TITLE = "POST CITY", "POST COUNTRY", "TYPE OF POST", "POST TYPE TITLE"
COLUMNS_2016 = (COUNTRY, POPULATION, GDP, G20, OECD, OVERALL, CITY, POST_COUNTRY, TYPE, TITLE)
COLUMNS_ASIA = (COUNTRY, POPULATION, GDP, G20, OECD, ASIA, OVERALL, CITY, POST_COUNTRY, TYPE, TITLE)

TYPE_EMBASSY = "Embassy / High Commission"
TYPE_CONSULATE = "Consulate / Consulate-General"
TYPE_MISSION = "Permanent Mission"
TYPE_OTHER = "Other"
TYPES = (TYPE_EMBASSY, TYPE_CONSULATE, TYPE_MISSION, TYPE_OTHER)

#: Titles under "Other" that name a consular post.
_CONSULAR_TITLE = re.compile(r"\bconsul", re.IGNORECASE)
_CONSULATE_GENERAL = re.compile(r"^consulate[- ]general", re.IGNORECASE)

#: Known mislabelled post countries: (sending country, post city, published post country)
#: -> (corrected post country, reason). Applied in every vintage where the row occurs.
POST_COUNTRY_CORRECTIONS: dict[tuple[str, str, str], tuple[str, str]] = {
    ("United States", "Nogales", "United States"): (
        "Mexico", "post country mislabelled: the U.S. consulate general is in Nogales, Sonora (Mexico)"),
    ("Mexico", "Nogales", "Mexico"): (
        "United States", "post country mislabelled: Mexico's post is in Nogales, Arizona (United States)"),
    ("Mexico", "Leamington", "United States"): (
        "Canada", "post country mislabelled: Leamington is in Ontario (Canada)"),
    ("Japan", "Saipan", "United States"): (
        "Northern Mariana Islands (US territory)",
        "U.S. territory labelled United States: Saipan is in the Northern Mariana Islands"),
}

#: Known post cities that are not city names: (sending country, published post city, post
#: country) -> (corrected city, reason). Applied in every edition where the row occurs.
POST_CITY_CORRECTIONS: dict[tuple[str, str, str], tuple[str, str]] = {
    ("Mexico", "Oklahoma", "United States"): (
        "Oklahoma City", "post city is a state name: Mexico's consulate is in Oklahoma City"),
}

#: Known exact duplicate rows in a published vintage: (vintage, country, city, post country, title).
#: The 2021 rows of the workbook repeat twelve posts outside the United States, each as an
#: exact copy of the row above it (7,713 rows, 7,701 posts).
KNOWN_DUPLICATES = {
    (2016, "Hungary", "Holy See", "Holy See (Vatican City State)", "Embassy"),
    (2021, "Belgium", "Athens", "Greece", "Embassy"),
    (2021, "Belgium", "Bern", "Switzerland", "Embassy"),
    (2021, "Czech Republic", "Lima", "Peru", "Embassy"),
    (2021, "Czech Republic", "Lusaka", "Zambia", "Embassy"),
    (2021, "France", "Guatemala City", "Guatemala", "Embassy"),
    (2021, "France", "Quebec", "Canada", "Consulate-General"),
    (2021, "South Africa", "Mbabane", "Eswatini", "High Commission"),
    (2021, "Spain", "Abuja", "Nigeria", "Embassy"),
    (2021, "Spain", "Kuwait City", "Kuwait", "Embassy"),
    (2021, "Spain", "Lagos", "Nigeria", "Consulate-General"),
    (2021, "Spain", "Mumbai", "India", "Consulate-General"),
    (2021, "Vietnam", "Paris", "France", "Embassy"),
}

#: Plausible ranges of the sending-country figures (millions of people, billions of USD, ranks).
POPULATION_RANGE = (0.0, 2000.0)
GDP_RANGE = (0.0, 40000.0)
RANK_RANGE = (1, 200)
#: Editions that publish tied ranks as the average of the tied ranks (e.g. 58.5).
TIED_RANK_EDITIONS = (2023,)

SCHEMA = Schema("lowy_posts", (
    col("vintage", "int64", "edition of the Global Diplomacy Index by the year of its data (2016, 2017, 2019, "
                            "2021, 2023; 2023 is Lowy's '2024' index)"),
    col("sending_country", "string", "country that runs the post (Lowy spelling, e.g. 'Korea Republic of (South Korea)')"),
    col("sending_country_harmonised", "string", "sending country under one name across editions (COUNTRY_NAMES)"),
    col("population_m", "float64", "population of the sending country", "millions of people"),
    col("gdp_busd", "float64", "GDP of the sending country", "billions of US dollars"),
    col("overall_rank", "float64", "sending country's overall rank in the index; ties in the 2023 edition are "
                                   "published as the average of the tied ranks (e.g. 58.5)"),
    col("post_city", "string", "city of the post as published (no state)"),
    col("post_city_corrected", "string", "city of the post after the known corrections (see flag)"),
    col("post_country", "string", "country of the post as published"),
    col("post_country_corrected", "string", "country of the post after the known corrections (see flag)"),
    col("type_of_post", "string", "published class: Embassy / High Commission, Consulate / Consulate-General, "
                                  "Permanent Mission, Other"),
    col("post_type_title", "string", "published title (Embassy, Consulate-General, Consular Office, ...); may be empty"),
    col("is_career_consular", "bool", "consulate or consulate-general, or a consular title under 'Other'"),
    col("is_consulate_general", "bool", "title starts with 'Consulate-General'"),
    col("in_united_states", "bool", "post_country_corrected is 'United States'"),
    col("flag", "string", "reason the row was corrected or needs care; empty when clean"),
    SOURCE_ROW,
))


def vintage_from_name(path: str | Path) -> int:
    """The vintage is the leading four-digit year of the file name."""
    path = Path(path)
    match = re.match(r"(\d{4})_", path.name)
    if match is None or int(match.group(1)) not in VINTAGES:
        raise SourceFileError(path, f"cannot tell the vintage from the file name; expected it to start with one of "
                                    f"{list(VINTAGES)} and '_'",
                              hint="keep the published file name or pass vintage= explicitly")
    return int(match.group(1))


def read_vintage(path: str | Path, vintage: int | None = None) -> pd.DataFrame:
    """Read one Lowy full dataset (one row per post) into the tidy :data:`SCHEMA`."""
    path = Path(path)
    if vintage is None:
        vintage = vintage_from_name(path)
    if vintage not in VINTAGES:
        raise ValueError(f"unknown Lowy vintage {vintage}; known: {list(VINTAGES)}")
    table = read_delimited(path, final_newline=False)
    return _tidy(table, vintage)


def read_all(data_dir: str | Path) -> pd.DataFrame:
    """Read the three CSV vintages from ``data_dir/lowy_gdi`` and stack them."""
    root = Path(data_dir) / FOLDER
    frames = [read_vintage(root / FILENAMES[v], v) for v in VINTAGES]
    return SCHEMA.conform(pd.concat(frames, ignore_index=True))


def read_workbook(path: str | Path) -> pd.DataFrame:
    """Read ``globaldiplomacyindex.xlsx`` (every edition stacked, column ``Year``) into
    :data:`SCHEMA`, ``vintage`` = ``Year``; each edition is checked like a CSV vintage.

    The 2019 fragment's rows are returned flagged (not an edition; :func:`editions` leaves
    them out). A required edition (:data:`WORKBOOK_REQUIRED`) without rows, a ``Year`` that
    is not one of :data:`WORKBOOK_YEARS`, or a workbook without a ``Year`` column is an error
    naming the file, row and column."""
    path = Path(path)
    table = read_sheet(path, sheet=None, header_predicate=lambda r: COUNTRY in r)
    table.require_columns((*COLUMNS_ASIA, YEAR))
    extra = [c for c in table.frame.columns if c not in (*COLUMNS_ASIA, YEAR)]
    if extra:
        raise SourceFileError(path, f"unexpected column(s) {extra} in the workbook layout", row=table.header_row,
                              column=extra[0], hint="the workbook has the CSV columns plus 'Year'")
    table.require_rows()
    years = table.numeric(YEAR, allow_empty=False, integer=True)
    unknown = ~years.isin(WORKBOOK_YEARS)
    if unknown.any():
        i = int(np.argmax(unknown.to_numpy()))
        raise table.error(f"edition {table.frame[YEAR].iloc[i]!r} is not one of {list(WORKBOOK_YEARS)}",
                          position=i, column=YEAR)
    present = set(years.astype(int))
    missing = [y for y in WORKBOOK_REQUIRED if y not in present]
    if missing:
        raise SourceFileError(path, f"edition(s) {missing} have no rows (editions found: {sorted(present)})",
                              row=table.header_row, column=YEAR,
                              hint="the workbook is incomplete or truncated; re-download it with `citydip fetch`")
    frames = []
    for year in sorted(present):
        mask = years.eq(year).to_numpy()
        part = RawTable(path, table.frame.loc[mask].drop(columns=YEAR).reset_index(drop=True), table.rows[mask])
        frame = _tidy(part, year, columns=COLUMNS_ASIA)
        if year == WORKBOOK_FRAGMENT:
            frame["flag"] = _join(frame["flag"], f"{year} fragment of the workbook ({len(frame)} rows): not an "
                                                 f"edition; the {year} CSV is the {year} edition")
        frames.append(frame)
    return SCHEMA.conform(pd.concat(frames, ignore_index=True))


#: :func:`editions`: the per-file schema plus the edition, Lowy's label and the file read.
EDITIONS_SCHEMA = Schema("lowy_editions", (
    col("edition", "int64", "edition by the year of its data: 2016, 2017, 2019, 2021, 2023 (equals vintage)"),
    *SCHEMA.columns,
    col("published_as", "int64", "Lowy's label of the edition (the 2023 data are the '2024' index)"),
    col("source_file", "string", "file the row was read from (source_row is a row of this file)"),
))


def editions(data_dir: str | Path, *, early: str = "csv") -> pd.DataFrame:
    """The five Lowy editions (2016, 2017, 2019, 2021, 2023) stacked, :data:`EDITIONS_SCHEMA`.

    2019 comes from the 2019 CSV (the workbook holds only a fragment of it), 2021 and 2023
    from the workbook; 2016 and 2017 from the CSVs (``early="csv"``, default: the files the
    panel has always read) or from the workbook (``early="xlsx"``); the slices are equal."""
    if early not in ("csv", "xlsx"):
        raise ValueError(f"early must be 'csv' or 'xlsx', not {early!r}")
    from citydip.sources import registry

    def path(key: str) -> Path:
        return registry.get(key).path(Path(data_dir), Path(data_dir))

    book_path = path("lowy_workbook")
    book = read_workbook(book_path)
    from_book = (2021, 2023) + ((2016, 2017) if early == "xlsx" else ())
    parts = []
    for edition in EDITIONS:
        if edition in from_book:
            frame, source = book[book["vintage"].eq(edition)], book_path.name
        else:
            csv_path = path(f"lowy_{edition}")
            frame, source = read_vintage(csv_path, edition), csv_path.name
        frame = frame.assign(edition=edition, published_as=PUBLISHED_AS[edition], source_file=source)
        parts.append(frame)
    return EDITIONS_SCHEMA.conform(pd.concat(parts, ignore_index=True))


def _tidy(table: RawTable, vintage: int, *, columns: tuple[str, ...] | None = None) -> pd.DataFrame:
    """One edition's rows (``columns``: the layout expected, by default the vintage's CSV layout)."""
    expected = columns or (COLUMNS_2016 if vintage == 2016 else COLUMNS_ASIA)
    table.require_columns(expected)
    extra = [c for c in table.frame.columns if c not in expected]
    if extra:
        raise SourceFileError(table.path, f"unexpected column(s) {extra} for the {vintage} layout",
                              row=table.header_row, column=extra[0],
                              hint="check that the file is the vintage its name says")
    table.require_rows()

    sending = table.text(COUNTRY, required=True)
    city = table.text(CITY, required=True)
    country = table.text(POST_COUNTRY, required=True)
    kind = table.text(TYPE, required=True)
    title = table.text(TITLE)
    unknown = ~kind.isin(TYPES)
    if unknown.any():
        i = int(np.argmax(unknown.to_numpy()))
        raise table.error(f"unknown type of post {kind.iloc[i]!r}; expected one of {list(TYPES)}", position=i,
                          column=TYPE)

    frame = pd.DataFrame({
        "vintage": vintage,
        "sending_country": sending,
        "sending_country_harmonised": sending.map(harmonise_country).astype("string"),
        "population_m": table.numeric(POPULATION, allow_empty=False, minimum=POPULATION_RANGE[0],
                                      maximum=POPULATION_RANGE[1]),
        "gdp_busd": table.numeric(GDP, allow_empty=False, minimum=GDP_RANGE[0], maximum=GDP_RANGE[1]),
        "overall_rank": _rank(table, OVERALL, ties=vintage in TIED_RANK_EDITIONS),
        "post_city": city,
        "post_country": country,
        "type_of_post": kind,
        "post_type_title": title,
        "source_row": table.rows,
    })
    for rank in (G20, OECD, ASIA):  # validated, not kept
        if rank in table.frame.columns:
            _rank(table, rank, ties=vintage in TIED_RANK_EDITIONS)
    _check_country_constants(table, frame)
    _check_one_spelling(table, frame)

    flags = pd.Series("", index=frame.index, dtype="string")
    frame = _drop_known_duplicates(table, frame, flags, vintage)
    flags = flags.loc[frame.index]

    corrected = frame["post_country"].copy()
    for (send, post_city, published), (fixed, reason) in POST_COUNTRY_CORRECTIONS.items():
        hit = frame["sending_country"].eq(send) & frame["post_city"].eq(post_city) & frame["post_country"].eq(published)
        corrected[hit] = fixed
        flags[hit] = _join(flags[hit], reason)
    city_fixed = frame["post_city"].copy()
    for (send, post_city, published), (fixed, reason) in POST_CITY_CORRECTIONS.items():
        hit = frame["sending_country"].eq(send) & frame["post_city"].eq(post_city) & frame["post_country"].eq(published)
        city_fixed[hit] = fixed
        flags[hit] = _join(flags[hit], reason)
    frame["post_city_corrected"] = city_fixed
    own = (frame["sending_country"].eq(corrected) & frame["sending_country"].eq(frame["post_country"])
           & ~frame["type_of_post"].eq(TYPE_MISSION))
    flags[own] = _join(flags[own], "post located in the sending country itself; check the post country")

    other_consular = frame["type_of_post"].eq(TYPE_OTHER) & frame["post_type_title"].str.contains(_CONSULAR_TITLE)
    frame["post_country_corrected"] = corrected
    frame["is_career_consular"] = (frame["type_of_post"].eq(TYPE_CONSULATE) | other_consular).astype(bool)
    frame["is_consulate_general"] = frame["post_type_title"].str.contains(_CONSULATE_GENERAL).astype(bool)
    frame["in_united_states"] = corrected.eq(UNITED_STATES).astype(bool)
    frame["flag"] = flags
    return SCHEMA.conform(frame)


def _rank(table: RawTable, column: str, *, ties: bool) -> pd.Series:
    """A rank column: whole numbers; with ``ties`` (:data:`TIED_RANK_EDITIONS`) also a tie
    published as the average of the tied ranks (58.5 for two countries sharing 58 and 59)."""
    if not ties:
        return table.numeric(column, integer=True, minimum=RANK_RANGE[0], maximum=RANK_RANGE[1])
    values = table.numeric(column, minimum=RANK_RANGE[0], maximum=RANK_RANGE[1])
    bad = values.notna() & ((values * 2) % 1 != 0)
    if bad.any():
        i = int(np.argmax(bad.to_numpy()))
        raise table.error(f"value {table.frame[column].iloc[i]!r} is not a rank (a whole number, or a tie "
                          "published as a half rank)", position=i, column=column)
    return values


def _join(current: pd.Series, reason: str) -> pd.Series:
    """Append ``reason`` to each flag text ('; '-separated)."""
    return current.map(lambda s: f"{s}; {reason}" if s else reason).astype("string")


def _check_country_constants(table: RawTable, frame: pd.DataFrame) -> None:
    """Population, GDP and rank describe the sending country: they must not vary within it
    (a shifted column or a pasted row would break this)."""
    for column in ("population_m", "gdp_busd", "overall_rank"):
        values = frame[column].astype("float64")
        first = values.groupby(frame["sending_country"]).transform("first")
        bad = ~((values == first) | (values.isna() & first.isna()))
        if bad.any():
            i = int(np.argmax(bad.to_numpy()))
            source = {"population_m": POPULATION, "gdp_busd": GDP, "overall_rank": OVERALL}[column]
            raise table.error(f"value differs from the sending country's other rows "
                              f"({frame['sending_country'].iloc[i]})", position=i, column=source)


def _check_one_spelling(table: RawTable, frame: pd.DataFrame) -> None:
    """Two published spellings of one harmonised country in one edition would count it twice."""
    spellings = frame.groupby("sending_country_harmonised")["sending_country"].transform("first")
    bad = frame["sending_country"].ne(spellings)
    if bad.any():
        i = int(np.argmax(bad.to_numpy()))
        raise table.error(f"sending country {frame['sending_country'].iloc[i]!r} is also spelled "
                          f"{spellings.iloc[i]!r} in this edition (both are "
                          f"{frame['sending_country_harmonised'].iloc[i]!r})", position=i, column=COUNTRY,
                          hint="one country must have one spelling per edition")


def _drop_known_duplicates(table: RawTable, frame: pd.DataFrame, flags: pd.Series, vintage: int) -> pd.DataFrame:
    key = ["sending_country", "post_city", "post_country", "type_of_post", "post_type_title"]
    dup = frame.duplicated(key, keep="first")
    if not dup.any():
        return frame
    keep = pd.Series(True, index=frame.index)
    for i in np.flatnonzero(dup.to_numpy()):
        row = frame.iloc[i]
        known = (vintage, row["sending_country"], row["post_city"], row["post_country"], row["post_type_title"])
        same = frame[key].eq(row[key]).all(axis=1)
        first = int(np.flatnonzero(same.to_numpy())[0])
        exact = table.frame.iloc[i].equals(table.frame.iloc[first])
        if known not in KNOWN_DUPLICATES or not exact:
            raise table.error(f"duplicated post '{' / '.join(str(v) for v in row[key])}' (first at row "
                              f"{int(table.rows[first])})", position=i, column=COUNTRY,
                              hint="remove the duplicated row; duplicates would be counted twice")
        keep.iloc[i] = False
        note = f"published twice (also row {int(table.rows[i])}); one copy kept"
        flags.iloc[first] = f"{flags.iloc[first]}; {note}" if flags.iloc[first] else note
    return frame[keep.to_numpy()]


def us_post_counts(frame: pd.DataFrame) -> pd.DataFrame:
    """Posts in the United States per vintage, by the published label and after corrections.

    Columns: ``posts`` and ``consulate_type`` (post country as published, type
    "Consulate / Consulate-General": the provenance definition), ``consular_cities``
    (distinct cities of those), and ``posts_corrected`` / ``career_consular_corrected``
    (corrected post country, :data:`SCHEMA` definition of a consular post).
    """
    published = frame[frame["post_country"].eq(UNITED_STATES)]
    corrected = frame[frame["in_united_states"]]
    cons = published[published["type_of_post"].eq(TYPE_CONSULATE)]
    out = pd.DataFrame({
        "posts": published.groupby("vintage").size(),
        "consulate_type": cons.groupby("vintage").size(),
        "consular_cities": cons.groupby("vintage")["post_city"].nunique(),
        "posts_corrected": corrected.groupby("vintage").size(),
        "career_consular_corrected": corrected[corrected["is_career_consular"]].groupby("vintage").size(),
    })
    return out.fillna(0).astype("int64")


register(
    *(SourceFile(f"lowy_{v}", FOLDER, FILENAMES[v], lambda p, v=v: read_vintage(p, v), SCHEMA,
                 f"Lowy Global Diplomacy Index {v}: diplomatic posts of covered countries", year_column="vintage")
      for v in VINTAGES),
    SourceFile("lowy_workbook", FOLDER, WORKBOOK, read_workbook, SCHEMA,
               "Lowy Global Diplomacy Index, every edition stacked (2016, 2017, 2019 fragment, 2021, "
               "2023 = Lowy's '2024' index)", year_column="vintage"),
)
