"""Lowy Institute Global Diplomacy Index: post-level full datasets, 2016, 2017 and 2019.

One row per diplomatic post of a *sending* country (G20 and OECD members in 2016; Asian
countries added in 2017 and 2019), in ``lowy_gdi/``:

* ``2016_LowyInstituteGlobalDiplomacyIndex-FullDataset.csv`` (no ``ASIA RANK`` column),
* ``2017_LowyInstituteGlobalDiplomacyIndex-FullDataset.csv``,
* ``2019_LowyInstituteGlobalDiplomacyIndex_FullDataset.csv``.

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
* the 2016 file lists Hungary's embassy to the Holy See twice; the second copy is
  dropped and the kept row says so.

Any other post that a country runs in its own country (other than a permanent mission
to an international organisation) is flagged but not corrected, and any other duplicated
post is an error (it would be counted twice).

Post classes. ``TYPE OF POST`` has four published values. ``is_career_consular`` is true
for "Consulate / Consulate-General" posts and for "Other" posts whose title is consular
(Consular Office, Consular Agency, Office of Consul); trade, cultural and Taiwanese
"Economic & Cultural" offices are not consular by this rule. The provenance counts of
consular posts in the U.S. (256/279/283) count the "Consulate / Consulate-General" type
only: :func:`us_post_counts` reproduces both definitions.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd

from citydip.errors import SourceFileError
from citydip.sources._io import RawTable, read_delimited
from citydip.sources.registry import SourceFile, register
from citydip.sources.schema import SOURCE_ROW, Schema, col

VINTAGES = (2016, 2017, 2019)
FILENAMES = {
    2016: "2016_LowyInstituteGlobalDiplomacyIndex-FullDataset.csv",
    2017: "2017_LowyInstituteGlobalDiplomacyIndex-FullDataset.csv",
    2019: "2019_LowyInstituteGlobalDiplomacyIndex_FullDataset.csv",
}
FOLDER = "lowy_gdi"
UNITED_STATES = "United States"

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

#: Known exact duplicate rows in a published vintage: (vintage, country, city, post country, title).
KNOWN_DUPLICATES = {
    (2016, "Hungary", "Holy See", "Holy See (Vatican City State)", "Embassy"),
}

#: Plausible ranges of the sending-country figures (millions of people, billions of USD, ranks).
POPULATION_RANGE = (0.0, 2000.0)
GDP_RANGE = (0.0, 40000.0)
RANK_RANGE = (1, 200)

SCHEMA = Schema("lowy_posts", (
    col("vintage", "int64", "edition of the Global Diplomacy Index (2016, 2017, 2019)"),
    col("sending_country", "string", "country that runs the post (Lowy spelling, e.g. 'Korea Republic of (South Korea)')"),
    col("population_m", "float64", "population of the sending country", "millions of people"),
    col("gdp_busd", "float64", "GDP of the sending country", "billions of US dollars"),
    col("overall_rank", "Int64", "sending country's overall rank in the index"),
    col("post_city", "string", "city of the post as published (no state)"),
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
    """Read the three vintages from ``data_dir/lowy_gdi`` and stack them."""
    root = Path(data_dir) / FOLDER
    frames = [read_vintage(root / FILENAMES[v], v) for v in VINTAGES]
    return SCHEMA.conform(pd.concat(frames, ignore_index=True))


def _tidy(table: RawTable, vintage: int) -> pd.DataFrame:
    expected = COLUMNS_2016 if vintage == 2016 else COLUMNS_ASIA
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
        "population_m": table.numeric(POPULATION, allow_empty=False, minimum=POPULATION_RANGE[0],
                                      maximum=POPULATION_RANGE[1]),
        "gdp_busd": table.numeric(GDP, allow_empty=False, minimum=GDP_RANGE[0], maximum=GDP_RANGE[1]),
        "overall_rank": table.numeric(OVERALL, integer=True, minimum=RANK_RANGE[0],
                                      maximum=RANK_RANGE[1]).astype("Int64"),
        "post_city": city,
        "post_country": country,
        "type_of_post": kind,
        "post_type_title": title,
        "source_row": table.rows,
    })
    for rank in (G20, OECD, ASIA):  # validated, not kept
        if rank in table.frame.columns:
            table.numeric(rank, integer=True, minimum=RANK_RANGE[0], maximum=RANK_RANGE[1])
    _check_country_constants(table, frame)

    flags = pd.Series("", index=frame.index, dtype="string")
    frame = _drop_known_duplicates(table, frame, flags, vintage)
    flags = flags.loc[frame.index]

    corrected = frame["post_country"].copy()
    for (send, post_city, published), (fixed, reason) in POST_COUNTRY_CORRECTIONS.items():
        hit = frame["sending_country"].eq(send) & frame["post_city"].eq(post_city) & frame["post_country"].eq(published)
        corrected[hit] = fixed
        flags[hit] = _join(flags[hit], reason)
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


register(*(
    SourceFile(f"lowy_{v}", FOLDER, FILENAMES[v], lambda p, v=v: read_vintage(p, v), SCHEMA,
               f"Lowy Global Diplomacy Index {v}: diplomatic posts of covered countries", year_column="vintage")
    for v in VINTAGES
))
