"""ClimActor: harmonised climate-network participation of city and regional governments.

Licence: **non-commercial use only; must cite** Hsu, A., Yeo, Z.Y., Rauber, R. et al.
"ClimActor, harmonized transnational data on climate network participation by city and
regional governments", *Scientific Data* 7, 374 (2020) (per ``ClimActor_Readme.txt``).
Newer release: Manya et al. (2025), "ClimActor 2.0", https://doi.org/10.15139/S3/GGWVVQ.

Two snapshots in ``climactor/``, one row per subnational actor:

* ``subnational_contextuals_database_initcols_Sept2020.csv`` (``snapshot`` 2020; tags
  mostly from 2018-2019 member lists). Besides ``initiatives_committed`` it has one 0/1
  column per tag; the reader checks that they agree with the list (an empty cell is
  allowed only where the list is empty) and does not keep them.
* ``subnational_contextuals_database_Dec2022.csv`` (``snapshot`` 2022). Writes ``NA`` for
  missing cells; one record (Fujikawa, JPN) contains Mac Roman non-breaking spaces (byte
  0xCA) in an otherwise UTF-8 file: they are replaced by spaces and the row is flagged.
  Any other invalid byte is an error.

``initiatives_committed`` is a ``;``-separated list of tags (doubled separators and
repeated tags occur). It becomes a tuple of distinct tags in file order; empty items,
``NA`` and the stray items ``Region`` and URLs are dropped (flagged). The year in a tag
is the year of the source list, not a joining year. :data:`NETWORK_TAGS` maps the tag
spellings of both snapshots to networks, :func:`network_indicators` gives one boolean
per network and :func:`initiatives_long` a long table.

Known defect handled by name: Sept2020 "Victoria" (AUS, Region) has longitude 2017 (a
year); it is set missing and flagged. Other out-of-range values are errors. A population
year of 0 means "not known". An actor is unique by (name, iso, entity_type); a repeated
actor is an error (it would double count its memberships). U.S. cities are
``iso == "USA"`` and ``entity_type == "City"``, named "City, ST".
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from citydip.config import LATEST_RECORD_YEAR
from citydip.errors import SourceFileError
from citydip.sources._io import RawTable, check_exists, read_delimited
from citydip.sources.registry import SourceFile, register
from citydip.sources.schema import SOURCE_ROW, Schema, col

FOLDER = "climactor"
FILES = {
    2020: "subnational_contextuals_database_initcols_Sept2020.csv",
    2022: "subnational_contextuals_database_Dec2022.csv",
}
BASE_COLUMNS = ("name", "iso", "entity_type", "country", "region", "area", "initiatives_committed", "num_commit",
                "lat", "lng", "population", "population_year", "state", "admin_1")
MISSING = "NA"
ENTITY_TYPES = {"City": "City", "city": "City", "Region": "Region"}
#: Items of ``initiatives_committed`` that are not tags.
JUNK_TAGS = frozenset({"NA", "Region"})
#: Earliest population year accepted (one record says 1537).
EARLIEST_POPULATION_YEAR = 1500
#: Mac Roman non-breaking space, found in one UTF-8 record.
_NBSP_MACROMAN = 0xCA

#: Tag spellings of each network, across both snapshots. Tags not listed (NAZCA, Under2,
#: EU Covenant of Mayors, C40 declarations, CDP Matchmaker, ...) map to no network.
NETWORK_TAGS: dict[str, tuple[str, ...]] = {
    "c40": ("C40", "C40Cities2019", "C40Cities2020", "C40Cities2021", "C40Cities2022"),
    "gcom": ("GlobalCovenantofMayors2019", "GlobalCovenantofMayors2019ZCA", "GCoMCDP2020", "GCoMCDP2020ZCA2020",
             "GCoM2021", "GCoM2022", "GCoMHarmonized2021", "GCoMEuropeanCommission2021"),
    "climate_mayors": ("ClimateMayors", "ClimateMayors2019", "ClimateMayors2020", "ClimateMayors2022"),
    "iclei_carbonn": ("Carbonn", "Carbonn2019", "ICLEI", "ICLEI - Local Governments for Sustainability"),
    "cdp": ("CDP Cities", "CDPCities2018", "CDPCities2018-2019", "CDPCities2019", "CDPCities2020", "CDPCities2022",
            "CDPStates&Regions2018-19", "CDPStates&Regions2020", "CDPStates&Regions2022"),
    "we_are_still_in": ("WeAreStillIn2019",),
    "race_to_zero": ("Race to Zero", "RacetoZero", "RacetoZero2020"),
}
TAG_NETWORK = {tag: network for network, tags in NETWORK_TAGS.items() for tag in tags}

#: Known defects: (snapshot, name, iso, column, published value) -> reason; the cell is set missing.
KNOWN_BAD_CELLS = {
    (2020, "Victoria", "AUS", "lng", "2017"): "longitude 2017 is a year, not a coordinate; set missing",
}

SCHEMA = Schema("climactor_actors", (
    col("snapshot", "int64", "2020 (Sept2020 initcols file) or 2022 (Dec2022 file)"),
    col("name", "string", "actor name; U.S. cities as 'City, ST'"),
    col("iso", "string", "ISO 3166 alpha-3 country code"),
    col("entity_type", "string", "City or Region; <NA> when not given"),
    col("country", "string", "country name as published"),
    col("region", "string", "world region"),
    col("state", "string", "state or province (full name for U.S. cities)"),
    col("admin_1", "string", "second administrative label as published (e.g. county)"),
    col("lat", "float64", "latitude; NaN when missing", "decimal degrees"),
    col("lng", "float64", "longitude; NaN when missing", "decimal degrees"),
    col("population", "float64", "population", "people"),
    col("population_year", "Int64", "year of the population figure; <NA> when not known"),
    col("num_commit", "Int64", "number of commitments as published (counts repeated tags)"),
    col("initiatives_committed", "object", "tuple of distinct initiative tags, in file order"),
    col("flag", "string", "reason a cell was repaired or dropped; empty when clean"),
    SOURCE_ROW,
))

LONG_SCHEMA = Schema("climactor_initiatives", (
    col("snapshot", "int64", "2020 or 2022"),
    col("name", "string", "actor name"),
    col("iso", "string", "ISO alpha-3 code"),
    col("entity_type", "string", "City or Region"),
    col("tag", "string", "initiative tag as published"),
    col("network", "string", "harmonised network (keys of NETWORK_TAGS); <NA> for other tags"),
    SOURCE_ROW,
))


# -- reading -----------------------------------------------------------------------------------
def _repair_bytes(path: Path, data: bytes) -> tuple[bytes, list[int]]:
    """Replace lone 0xCA bytes (Mac Roman no-break space) by spaces; any other invalid byte is an error."""
    try:
        data.decode("utf-8")
        return data, []
    except UnicodeDecodeError:
        pass
    out, lines, pos = bytearray(), [], 0
    while True:
        try:
            data[pos:].decode("utf-8")
        except UnicodeDecodeError as exc:
            at = pos + exc.start
            line = data[:at].count(b"\n") + 1
            if data[at] != _NBSP_MACROMAN:
                raise SourceFileError(path, f"is not valid UTF-8 (byte 0x{data[at]:02x})", row=line,
                                      hint="the file was re-saved in another encoding; save it as UTF-8") from None
            out += data[pos:at] + b" "
            lines.append(line)
            pos = at + 1
        else:
            out += data[pos:]
            return bytes(out), sorted(set(lines))


def _read_table(path: str | Path) -> tuple[RawTable, list[int]]:
    path = Path(path)
    data = check_exists(path)
    repaired, lines = _repair_bytes(path, data)
    table = read_delimited(path, data=repaired)
    if not lines:
        return table, []
    table.notes.append(f"Mac Roman no-break spaces replaced on line(s) {lines}")
    return table, lines


def _text(table: RawTable, column: str, *, required: bool = False) -> pd.Series:
    values = table.text(column, required=required).mask(lambda s: s.eq(MISSING), "")
    if required and values.eq("").any():
        i = int(np.argmax(values.eq("").to_numpy()))
        raise table.error(f"'{MISSING}' where a value is required", position=i, column=column)
    return values


def _append(flags: pd.Series, mask: pd.Series, note: str) -> None:
    for i in np.flatnonzero(mask.to_numpy()):
        flags.iloc[i] = f"{flags.iloc[i]}; {note}" if flags.iloc[i] else note


def _split_tags(cell: str) -> tuple[tuple[str, ...], list[str]]:
    tags: list[str] = []
    dropped: list[str] = []
    for item in cell.split(";"):
        item = item.strip()
        if not item:
            continue
        if item in JUNK_TAGS or item.startswith(("http://", "https://")):
            if item != MISSING:
                dropped.append(item)
            continue
        if item not in tags:
            tags.append(item)
    return tuple(tags), dropped


def _read(path: str | Path, snapshot: int) -> pd.DataFrame:
    table, repaired_lines = _read_table(path)
    table.require_columns(BASE_COLUMNS)
    table.require_rows()
    table.check_unique(["name", "iso", "entity_type"], "actor")
    flags = pd.Series("", index=table.frame.index, dtype="string")
    _append(flags, pd.Series(np.isin(table.rows, repaired_lines)),
            "Mac Roman no-break space (byte 0xCA) replaced by a space")

    name = _text(table, "name", required=True)
    iso = _text(table, "iso", required=True)
    bad_iso = ~iso.str.fullmatch(r"[A-Z]{3}")
    if bad_iso.any():
        i = int(np.argmax(bad_iso.to_numpy()))
        raise table.error(f"iso code {iso.iloc[i]!r} is not three capital letters", position=i, column="iso")
    for (snap, who, code, column, value), reason in KNOWN_BAD_CELLS.items():
        if snap != snapshot:
            continue
        hit = name.eq(who) & iso.eq(code) & table.frame[column].map(lambda c: str(c).strip()).eq(value)
        table.frame.loc[hit.to_numpy(), column] = ""
        _append(flags, hit, reason)

    kind = _text(table, "entity_type")
    unknown = kind.ne("") & ~kind.isin(list(ENTITY_TYPES))
    if unknown.any():
        i = int(np.argmax(unknown.to_numpy()))
        raise table.error(f"entity type {kind.iloc[i]!r} is not City or Region", position=i, column="entity_type")
    kind = kind.map(lambda k: ENTITY_TYPES.get(k, pd.NA)).astype("string")

    raw_lists = _text(table, "initiatives_committed")
    split = [_split_tags(cell) for cell in raw_lists.tolist()]
    tags = pd.Series([t for t, _ in split], index=raw_lists.index, dtype=object)
    for i, (_, dropped) in enumerate(split):
        if dropped:
            _append(flags, pd.Series(np.arange(len(flags)) == i), f"non-tag item(s) dropped from the list: {dropped}")

    numbers = {"markers": (MISSING,)}
    frame = pd.DataFrame({
        "snapshot": snapshot,
        "name": name,
        "iso": iso,
        "entity_type": kind,
        "country": _text(table, "country"),
        "region": _text(table, "region"),
        "state": _text(table, "state"),
        "admin_1": _text(table, "admin_1"),
        "lat": table.numeric("lat", minimum=-90, maximum=90, **numbers),
        "lng": table.numeric("lng", minimum=-180, maximum=180, **numbers),
        "population": table.numeric("population", minimum=0, **numbers),
        "population_year": table.numeric("population_year", markers=(MISSING, "0"), integer=True,
                                         minimum=EARLIEST_POPULATION_YEAR, maximum=LATEST_RECORD_YEAR).astype("Int64"),
        "num_commit": table.numeric("num_commit", integer=True, minimum=0, **numbers).astype("Int64"),
        "initiatives_committed": tags,
        "flag": flags,
        "source_row": table.rows,
    })
    if snapshot == 2020:
        _check_binary_columns(table, raw_lists)
    return SCHEMA.conform(frame)


def _check_binary_columns(table: RawTable, raw_lists: pd.Series) -> None:
    """Each 0/1 column of the initcols file must agree with the tag list of its row."""
    present = pd.Series([{t.strip() for t in s.split(";") if t.strip()} for s in raw_lists.tolist()],
                        index=raw_lists.index, dtype=object)
    empty_list = raw_lists.eq("")
    for column in table.frame.columns:
        if column in BASE_COLUMNS:
            continue
        cells = table.text(column)
        bad = ~cells.isin(["0", "1", ""]) | (cells.eq("") & ~empty_list)
        if bad.any():
            i = int(np.argmax(bad.to_numpy()))
            raise table.error(f"value {cells.iloc[i]!r} is not 0 or 1", position=i, column=column)
        if column == "<NA>":  # marks rows with no tag at all
            continue
        listed = pd.Series([column in s for s in present], index=present.index)
        disagree = cells.ne("") & (cells.eq("1") != listed)
        if disagree.any():
            i = int(np.argmax(disagree.to_numpy()))
            raise table.error(f"0/1 column says {cells.iloc[i]} but the tag is "
                              f"{'' if listed.iloc[i] else 'not '}in initiatives_committed", position=i, column=column)


def read_sept2020(path: str | Path) -> pd.DataFrame:
    """Read the Sept2020 initcols snapshot (``snapshot`` = 2020) into :data:`SCHEMA`."""
    return _read(path, 2020)


def read_dec2022(path: str | Path) -> pd.DataFrame:
    """Read the Dec2022 snapshot (``snapshot`` = 2022) into :data:`SCHEMA`."""
    return _read(path, 2022)


def read_all(data_dir: str | Path) -> pd.DataFrame:
    """Both snapshots from ``data_dir/climactor``, stacked."""
    root = Path(data_dir) / FOLDER
    return SCHEMA.conform(pd.concat([read_sept2020(root / FILES[2020]), read_dec2022(root / FILES[2022])],
                                    ignore_index=True))


# -- derived tables ----------------------------------------------------------------------------
def initiatives_long(frame: pd.DataFrame) -> pd.DataFrame:
    """One row per actor and tag, with the harmonised network of the tag (:data:`LONG_SCHEMA`)."""
    long = frame[["snapshot", "name", "iso", "entity_type", "initiatives_committed", "source_row"]].explode(
        "initiatives_committed").dropna(subset=["initiatives_committed"])
    long = long.rename(columns={"initiatives_committed": "tag"})
    long["network"] = long["tag"].map(TAG_NETWORK).astype("string")
    return LONG_SCHEMA.conform(long)


def network_indicators(frame: pd.DataFrame) -> pd.DataFrame:
    """Per actor: identifiers plus one boolean per network of :data:`NETWORK_TAGS`."""
    out = frame[["snapshot", "name", "iso", "entity_type", "state", "source_row"]].copy()
    tag_sets = [set(tags) for tags in frame["initiatives_committed"].tolist()]
    for network, spellings in NETWORK_TAGS.items():
        wanted = set(spellings)
        out[network] = np.array([bool(s & wanted) for s in tag_sets], dtype=bool)
    return out.reset_index(drop=True)


def us_cities(frame: pd.DataFrame) -> pd.DataFrame:
    """Rows for U.S. cities (iso USA, entity type City)."""
    return frame[frame["iso"].eq("USA") & frame["entity_type"].eq("City")]


register(
    SourceFile("climactor_2020", FOLDER, FILES[2020], read_sept2020, SCHEMA,
               "ClimActor climate-network participation, Sept 2020 snapshot (non-commercial; cite Hsu et al. 2020)",
               year_column="snapshot"),
    SourceFile("climactor_2022", FOLDER, FILES[2022], read_dec2022, SCHEMA,
               "ClimActor climate-network participation, Dec 2022 snapshot (non-commercial; cite Hsu et al. 2020)",
               year_column="snapshot"),
)
