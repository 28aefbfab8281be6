"""The project's curated dataset: sister-city years, network memberships, consulate events.

Three tables in ``data/curated`` (:data:`citydip.config.CURATED_DIR`), compiled by hand from
public web pages, one ``source_url`` per row, and extended by users adding rows:

* ``sister_cities.csv`` - dated and undated (U.S. city, partner city) ties. ``collection``
  says which collection a row came from (a: metros ranked 1-50, b: 51-100, c: gap-filling
  of a and b); ``record_id`` is stable (``sc-a-0001``). Conflicting years for one pair are
  separate rows and are kept: :func:`conflicting_years` lists them.
* ``network_memberships.csv`` - memberships of U.S. cities and counties in international city
  networks. Rows without ``year_joined`` are "member as of" snapshots, not join years; where
  the source dates the snapshot, ``member_by`` holds that year, an upper bound of the join year
  (never read as a join year). ``collection`` says which collection a row came from (a: the
  first collection, b: part b); ``notes`` keeps the source's key sentence.
* ``consulate_events.csv`` - dated openings, closings, upgrades, downgrades, relocations and
  reopenings of foreign career consular posts (a documented sample, not a census).
* ``errata.csv`` - corrections (``status=correction``) and disputes (``status=disputed``)
  found by audit, each naming the records it concerns. :func:`apply_errata` applies the
  corrections and keeps the file value visible (``*_original`` columns, ``corrected`` flag);
  disputed records are only marked (``disputed``). ``load_*`` apply them by default.

Documentation of how each table was collected is in ``data/curated/notes/``.

Adding rows
-----------
Append a row to the CSV (UTF-8, comma-separated, quoted where a cell holds a comma), give it
a new unique ``record_id`` (e.g. ``sc-d-0001``; for sister cities also a ``collection``
label such as ``d``) and the URL of the page that states the fact. Every reader validates
each row and raises :class:`~citydip.errors.SourceFileError` naming file, row and column on:
a missing column; an empty required cell; a ``source_url`` that is not an http(s) URL (a note
in parentheses may follow it, e.g. the file inside a repository); a year
that is not a whole number within ``EARLIEST_RECORD_YEAR``-``LATEST_RECORD_YEAR``; an end
year before the start year; a ``us_state`` that is not a USPS code of the 50 states, DC or
PR; an exact duplicate (same pair, same year, same ``source_url``); a duplicated
``record_id``; an unknown ``event`` or a month outside 1-12 (consulate events); an unknown
network name (network memberships; add it to :data:`NETWORKS`); a year_joined or member_by
before the network's launch year (:data:`NETWORK_LAUNCH`), or a member_by before the row's
year_joined (network memberships); a ``cbsa_code`` that is not five digits (sister cities; it
may be empty). Extra columns are ignored.

Flags derived from the free-text columns are documented in each schema; they are
heuristics on the wording, so state the fact plainly when adding a row (e.g. "(planned)" in
a consulate event's ``notes`` for an announced date, "former" or ``year_ended`` for a tie
that ended, "year from article date" when the year is the article's date).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

from citydip.config import EARLIEST_RECORD_YEAR, LATEST_RECORD_YEAR
from citydip.config import curated_dir as default_curated_dir
from citydip.errors import OptionError, SourceFileError
from citydip.sources._io import RawTable, read_delimited
from citydip.sources.registry import SourceFile, register
from citydip.sources.schema import SOURCE_ROW, Schema, col

SISTER_CITIES_FILE = "sister_cities.csv"
NETWORK_MEMBERSHIPS_FILE = "network_memberships.csv"
CONSULATE_EVENTS_FILE = "consulate_events.csv"
ERRATA_FILE = "errata.csv"

SISTER_CITIES = "sister_cities"
NETWORK_MEMBERSHIPS = "network_memberships"
CONSULATE_EVENTS = "consulate_events"
DATASETS = (SISTER_CITIES, NETWORK_MEMBERSHIPS, CONSULATE_EVENTS)

#: USPS codes accepted in ``us_state``: the 50 states, DC and Puerto Rico.
US_STATES = frozenset(
    "AL AK AZ AR CA CO CT DE FL GA HI ID IL IN IA KS KY LA ME MD MA MI MN MS MO MT NE NV NH NJ NM NY "
    "NC ND OH OK OR PA RI SC SD TN TX UT VT VA WA WV WI WY DC PR".split()
)

#: Consulate event types.
EVENTS = ("opened", "closed", "reopened", "upgraded", "downgraded", "relocated")

#: International city networks: code -> (harmonised name, other spellings accepted in the file).
#: Names are matched ignoring case, punctuation and '&' vs 'and'.
NETWORKS: dict[str, tuple[str, tuple[str, ...]]] = {
    "c40": ("C40 Cities", ("C40", "C40 Cities Climate Leadership Group", "C40 Climate Leadership Group")),
    "100rc": ("100 Resilient Cities", ("100RC", "100 Resilient Cities Network")),
    "gcom": ("Compact of Mayors / Global Covenant of Mayors",
             ("Global Covenant of Mayors", "Global Covenant of Mayors for Climate & Energy", "GCoM",
              "Compact of Mayors")),
    "aarp_age_friendly": ("AARP Network of Age-Friendly States and Communities",
                          ("AARP Network of Age-Friendly Communities", "AARP Age-Friendly Network",
                           "AARP Age-Friendly")),
    "who_age_friendly": ("WHO Global Network for Age-friendly Cities and Communities",
                         ("WHO GNAFCC", "GNAFCC", "WHO Global Network of Age-friendly Cities and Communities",
                          "WHO Age-friendly Cities")),
    "unesco_creative": ("UNESCO Creative Cities Network", ("UNESCO Creative Cities", "UCCN")),
    "strong_cities": ("Strong Cities Network", ("Strong Cities",)),
    "mayors_for_peace": ("Mayors for Peace", ()),
    "mayors_migration": ("Mayors Migration Council", ("MMC",)),
}

#: Network code -> (launch year, source): no city joined a network before its launch, so the
#: launch year is the lower end of the join window of a membership known only by ``member_by``
#: (see :mod:`citydip.panel.networks`) and no year_joined or member_by may precede it.
NETWORK_LAUNCH: dict[str, tuple[int, str]] = {
    "c40": (2005, "https://www.c40.org/history (London meeting of 18 megacities, October 2005)"),
    "100rc": (2013, ("https://www.rockefellerfoundation.org/news/rockefeller-foundation-launches/ "
                     "(Centennial Challenge announced 14 May 2013)")),
    "gcom": (2014, ("http://sdg.iisd.org/news/compact-of-mayors-launched-at-un-climate-summit/ (Compact of Mayors "
                    "launched at the UN Climate Summit, 23 September 2014)")),
    "aarp_age_friendly": (2012, ("http://www.aarp.org/livable-communities/Plan/planning/info-2014/"
                                 "action-plan-age-friendly-portland-or.html ('In 2012, when AARP launched ...')")),
    "who_age_friendly": (2010, "https://extranet.who.int/agefriendlyworld/who-network/ (established in 2010)"),
    "unesco_creative": (2004, "https://en.wikipedia.org/wiki/Creative_Cities_Network (launched by UNESCO in 2004)"),
    "strong_cities": (2015, ("https://www.abajournal.com/news/article/"
                             "strong_cities_network_will_foster_collaboration_to_fight_violent_extremism "
                             "(launched at the UN, 29 September 2015)")),
    "mayors_for_peace": (1982, ("https://www.daisakuikeda.org/sub/resources/works/props/2018-peace-proposal-full/"
                                "mayors-for-peace.html (established 24 June 1982)")),
    "mayors_migration": (2018, ("https://www.global-taskforce.org/mayors-migration-council-meeting-new-york-shows-"
                                "mayoral-leadership-issues-migration-inclusivity-and (launched December 2018)")),
}

#: Fields an erratum may correct, per dataset (years and months only).
CORRECTABLE = {
    SISTER_CITIES: ("year_established", "year_ended"),
    NETWORK_MEMBERSHIPS: ("year_joined", "year_left"),
    CONSULATE_EVENTS: ("year", "month"),
}

_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
#: An http(s) URL, optionally followed by a note in parentheses (e.g. the file inside a repository).
_URL = re.compile(r"^https?://[^\s/()]+\S*(?:\s+\([^()]*\))?$", re.IGNORECASE)
_CBSA = re.compile(r"^\d{5}$")

# -- wording rules of the derived flags (documented in the schemas) -------------------------------
_SC_YEAR_FROM_ARTICLE = re.compile(r"year (?:taken )?from (?:the )?(?:article|news item|press release|post)\b",
                                   re.IGNORECASE)
_SC_INTENT = re.compile(r"\b(?:declaration|declaring|protocol) of intent\b|\bdeclaring intent\b|\bintent to\b"
                        r"|\bpropos(?:ed|al)\b|\bexplor(?:atory|ing)\b|\bbeing pursued\b|\bnot established\b"
                        r"|\bestablishment not confirmed\b|\bto be established\b|\bauthoriz\w* establishment\b",
                        re.IGNORECASE)
_SC_APPROVAL = re.compile(r"\bapprov(?:ed|al)\b|\bcouncil vote\b|\bauthoriz|\bdecision to enter\b",
                          re.IGNORECASE)
_SC_CONCLUDED = re.compile(r"\bsign(?:ed|ing)\b|\bestablish\w*|\bofficial(?:ly)?\b|\bconcluded\b|\bformali[sz]ed\b"
                           r"|\bchartered\b|\bratifi|\blisted\b", re.IGNORECASE)
_SC_FRIENDSHIP = re.compile(r"friendship", re.IGNORECASE)
_SC_SISTER = re.compile(r"sister|twin", re.IGNORECASE)
_SC_FORMER = re.compile(r"\bformer\b|emeritus|(?<!may be )\binactive\b|non-active|not currently active|revoked"
                        r"|suspended|removed from list", re.IGNORECASE)
_SC_PLANNED = re.compile(r"\bplanned\b|\bscheduled\b|\bto be established\b", re.IGNORECASE)
_SC_CONFIRMED = re.compile(r"\bconfirm", re.IGNORECASE)
_SC_DOMESTIC = re.compile(r"united states|\bu\.?s\.? territory|puerto rico|\bguam\b|american samoa"
                          r"|northern mariana|u\.?s\.? virgin islands", re.IGNORECASE)
_CE_PLANNED = re.compile(r"\(planned\b|\bplanned (?:by|closure)\b", re.IGNORECASE)
_CE_BORDERLINE = re.compile(r"satellite|trade office|trade representation|austrade|branch|consular agency|honorary"
                            r"|vice-consulate|consular office", re.IGNORECASE)
_ARROW = "->"

_ORIGINAL = "original value of {} in the file, before corrections from errata.csv"
_CORRECTED = col("corrected", "bool", "a correction from errata.csv changed this record")
_DISPUTED = col("disputed", "bool", "errata.csv lists this record as disputed between sources (not changed)")

SISTER_CITIES_SCHEMA = Schema("curated_sister_cities", (
    col("record_id", "string", "stable identifier (sc-<collection>-NNNN)"),
    col("collection", "string", "collection the row belongs to (a: metros 1-50, b: 51-100, c: gap-filling; "
                                "user-added collections have their own label)"),
    col("cbsa_code", "string", "CBSA code of the U.S. city's metro (five digits; <NA> when not given)"),
    col("us_city", "string", "U.S. city as named by the source"),
    col("us_state", "string", "USPS code of the U.S. city's state (50 states, DC, PR)"),
    col("partner_city", "string", "partner city (or region) as named by the source"),
    col("partner_country", "string", "partner country, current name"),
    col("year_established", "Int64", "year the source states for the tie (signing, council action, 'since'; "
                                     "see relationship_type); <NA> = undated; corrected by errata", "year"),
    col("year_ended", "Int64", "year the tie ended, where stated; corrected by errata", "year"),
    col("relationship_type", "string", "kind of tie and the milestone the year refers to (free text)"),
    col("source_url", "string", "page stating the fact (http or https)"),
    col("source_date_hint", "string", "date of the source page where visible (free text); <NA> if blank"),
    col("is_dated", "bool", "year_established is known"),
    col("is_intent", "bool", "the row records an intent, proposal, exploration or an approval/vote rather than a "
                             "concluded agreement: relationship_type mentions a declaration/protocol of intent, "
                             "'intent to', proposed, exploratory/exploring, being pursued, not established, "
                             "establishment not confirmed, to be established, authorizing establishment; or "
                             "approved/approval, council vote, authoriz..., decision to enter with no word of "
                             "signed/signing, establish..., official(ly), concluded, formalised, chartered, "
                             "ratified or listed"),
    col("is_friendship", "bool", "a friendship-level tie: the main label (text before the first parenthesis) "
                                 "of relationship_type says 'friendship' and not 'sister'/'twin'"),
    col("is_former", "bool", "the tie ended or is inactive: year_ended is set, or relationship_type mentions "
                             "former, emeritus, inactive (not 'may be inactive'), non-active, not currently "
                             "active, revoked, suspended or removed from list"),
    col("year_from_article_date", "bool", "year_established is the date of the reporting article/post/press "
                                          "release ('year from article date' etc. in relationship_type)"),
    col("is_planned", "bool", "the year is that of an announced, not confirmed, step: relationship_type says "
                              "planned, scheduled or to be established, and not 'confirm...'"),
    col("is_domestic_or_territory", "bool", "partner is in the United States or a U.S. territory "
                                            "(partner_country names the U.S., Puerto Rico, Guam, ...)"),
    col("year_established_original", "Int64", _ORIGINAL.format("year_established"), "year"),
    col("year_ended_original", "Int64", _ORIGINAL.format("year_ended"), "year"),
    _CORRECTED,
    _DISPUTED,
    SOURCE_ROW,
))

NETWORK_MEMBERSHIPS_SCHEMA = Schema("curated_network_memberships", (
    col("record_id", "string", "stable identifier (nm-NNNN; later collections nm-<collection>-NNNN)"),
    col("collection", "string", "collection the row belongs to (a: the first collection, b: part b; user-added "
                                "collections have their own label)"),
    col("network", "string", "harmonised network name (see NETWORKS)"),
    col("network_code", "string", "short code of the network (c40, 100rc, gcom, ...)"),
    col("network_as_written", "string", "network name as written in the file"),
    col("us_city", "string", "city or county as named by the source (counties as 'X County')"),
    col("us_state", "string", "USPS code (50 states, DC, PR); <NA> where the city is ambiguous"),
    col("year_joined", "Int64", "year the source states the city joined; <NA> = snapshot row", "year"),
    col("year_left", "Int64", "year the city left, where stated; corrected by errata", "year"),
    col("member_by", "Int64", "calendar year by which the source shows the city as a member: an upper bound of "
                              "the join year, not a join year (<NA> = not stated); not before the network's launch "
                              "year (NETWORK_LAUNCH) nor before year_joined", "year"),
    col("membership_type", "string", "membership status and basis (free text)"),
    col("source_url", "string", "page stating the fact (http or https)"),
    col("source_date_hint", "string", "date of the source or of the snapshot (free text); <NA> if blank"),
    col("notes", "string", "the source's key sentence (quote) or other remarks (free text); <NA> if blank"),
    col("is_snapshot", "bool", "no year_joined: the row shows membership as of the source date only"),
    col("is_county", "bool", "the member is a county (us_city ends with 'County')"),
    col("year_joined_original", "Int64", _ORIGINAL.format("year_joined"), "year"),
    col("year_left_original", "Int64", _ORIGINAL.format("year_left"), "year"),
    _CORRECTED,
    _DISPUTED,
    SOURCE_ROW,
))

CONSULATE_EVENTS_SCHEMA = Schema("curated_consulate_events", (
    col("record_id", "string", "stable identifier (ce-NNNN)"),
    col("sending_country", "string", "country of the consular post (common English short name)"),
    col("us_city", "string", "U.S. city of the post as named by the source"),
    col("us_state", "string", "USPS code (50 states, DC, PR)"),
    col("post_type", "string", "post type as written; 'A -> B' for upgrades/downgrades; qualifiers in "
                               "parentheses"),
    col("event", "string", "opened, closed, reopened, upgraded, downgraded or relocated"),
    col("year", "int64", "year of the event; corrected by errata", "year"),
    col("month", "Int64", "month of the event (1-12), <NA> when the source gives none"),
    col("source_url", "string", "page stating the fact (http or https)"),
    col("source_date_hint", "string", "publication date of the source, or 'n.d.' (free text)"),
    col("notes", "string", "exact basis of the date (free text)"),
    col("post_qualifier", "string", "text in parentheses in post_type (outside them: <NA>)"),
    col("post_type_before", "string", "post type before the event: A of 'A -> B'; the post type for closed and "
                                      "relocated; <NA> for opened and reopened (qualifiers removed)"),
    col("post_type_after", "string", "post type after the event: B of 'A -> B'; the post type for opened, "
                                     "reopened and relocated; <NA> for closed (qualifiers removed)"),
    col("is_planned", "bool", "the date is an announced or intended one: notes say '(planned', 'planned by' or "
                              "'planned closure' (mentions of another row's planned date do not count)"),
    col("is_borderline_post", "bool", "borderline career post: post_type mentions satellite, trade office/"
                                      "representation, Austrade, branch, consular agency, honorary, "
                                      "vice-consulate or consular office"),
    col("is_alternative_date", "bool", "one of two or more rows dating the same event of the same post with "
                                       "years at most one apart (alternative dates: pick one per group)"),
    col("alternative_group", "string", "'country|city, state|event|first year' shared by alternative-date rows; "
                                       "<NA> otherwise"),
    col("year_original", "int64", _ORIGINAL.format("year"), "year"),
    col("month_original", "Int64", _ORIGINAL.format("month")),
    _CORRECTED,
    _DISPUTED,
    SOURCE_ROW,
))

ERRATA_SCHEMA = Schema("curated_errata", (
    col("erratum_id", "string", "stable identifier (er-NNNN)"),
    col("dataset", "string", "sister_cities, network_memberships or consulate_events"),
    col("record_ids", "string", "record_id(s) concerned, separated by ';'"),
    col("key", "string", "readable description of the records (pair, network and city, post)"),
    col("field", "string", "column concerned (a year or month column, see CORRECTABLE)"),
    col("file_value", "string", "value(s) in the data file, ';'-separated in record_ids order ('' = blank)"),
    col("corrected_value", "string", "correction: the correct value ('' = blank); disputed: the competing "
                                     "value(s) stated by other sources, if any"),
    col("status", "string", "correction (applied by apply_errata) or disputed (records only marked)"),
    col("source_url", "string", "source of the correction (required for corrections); <NA> if blank"),
    col("note", "string", "what the audit found"),
    SOURCE_ROW,
))

_SISTER_COLUMNS = ["record_id", "collection", "cbsa_code", "us_city", "us_state", "partner_city", "partner_country",
                   "year_established", "relationship_type", "year_ended", "source_url", "source_date_hint"]
_NETWORK_COLUMNS = ["record_id", "collection", "network", "us_city", "us_state", "year_joined", "year_left",
                    "member_by", "membership_type", "source_url", "source_date_hint", "notes"]
_CONSULATE_COLUMNS = ["record_id", "sending_country", "us_city", "us_state", "post_type", "event", "year", "month",
                      "source_url", "source_date_hint", "notes"]
_ERRATA_COLUMNS = ["erratum_id", "dataset", "record_ids", "key", "field", "file_value", "corrected_value", "status",
                   "source_url", "note"]


# -- shared checks ---------------------------------------------------------------------------------
def _open(path: str | Path, columns: list[str]) -> RawTable:
    table = read_delimited(path)
    table.require_columns(columns)
    table.require_rows()
    return table


def _first(mask: pd.Series | np.ndarray) -> int:
    return int(np.argmax(np.asarray(mask, dtype=bool)))


def _optional(values: pd.Series) -> pd.Series:
    """Empty text -> <NA>."""
    return values.mask(values.eq(""), pd.NA).astype("string")


def _record_ids(table: RawTable) -> pd.Series:
    ids = table.text("record_id", required=True)
    bad = ~ids.str.match(_ID.pattern).fillna(False).astype(bool)
    if bad.any():
        i = _first(bad)
        raise table.error(f"record_id {ids.iloc[i]!r} may hold only letters, digits, '.', '_' and '-'",
                          position=i, column="record_id")
    _no_duplicates(table, pd.DataFrame({"record_id": ids}), ["record_id"], "record_id",
                   hint="give the new row a record_id of its own")
    return ids


def _source_urls(table: RawTable) -> pd.Series:
    urls = table.text("source_url", required=True)
    bad = ~urls.str.match(_URL.pattern).fillna(False).astype(bool)
    if bad.any():
        i = _first(bad)
        raise table.error(f"source_url {urls.iloc[i]!r} is not an http(s) URL", position=i, column="source_url",
                          hint="every row needs the address of the page that states the fact")
    return urls


def _states(table: RawTable, column: str = "us_state", *, required: bool = True) -> pd.Series:
    states = table.text(column, required=required)
    bad = states.ne("") & ~states.isin(US_STATES)
    if bad.any():
        i = _first(bad)
        raise table.error(f"{states.iloc[i]!r} is not a USPS code of a state, DC or PR", position=i, column=column,
                          hint="use the two-letter code, e.g. 'TX'")
    return _optional(states)


def _collections(table: RawTable) -> pd.Series:
    collection = table.text("collection", required=True)
    bad = ~collection.str.match(r"^[A-Za-z0-9_-]+$").fillna(False).astype(bool)
    if bad.any():
        i = _first(bad)
        raise table.error(f"collection {collection.iloc[i]!r} may hold only letters, digits, '_' and '-'",
                          position=i, column="collection")
    return collection


def _years(table: RawTable, column: str, *, required: bool = False) -> pd.Series:
    return table.year(column, first=EARLIEST_RECORD_YEAR, last=LATEST_RECORD_YEAR, allow_empty=not required)


def _check_order(table: RawTable, start: pd.Series, end: pd.Series, start_col: str, end_col: str) -> None:
    bad = (end < start).fillna(False).to_numpy(dtype=bool)
    if bad.any():
        i = _first(bad)
        raise table.error(f"{end_col} {end.iloc[i]} is before {start_col} {start.iloc[i]}", position=i,
                          column=end_col)


def _norm(values: pd.Series) -> pd.Series:
    return values.astype("string").fillna("").str.casefold().str.replace(r"\s+", " ", regex=True).str.strip()


def _no_duplicates(table: RawTable, frame: pd.DataFrame, key: list[str], what: str, *,
                   hint: str = "remove the duplicated row; duplicates would be counted twice") -> None:
    """Fail on rows that agree on ``key`` (text compared ignoring case and repeated spaces)."""
    normed = pd.DataFrame({k: _norm(frame[k]) for k in key})
    dup = normed.duplicated(keep=False).to_numpy()
    if not dup.any():
        return
    positions = np.flatnonzero(dup)
    first = positions[0]
    same = [p for p in positions if normed.iloc[p].equals(normed.iloc[first])]
    rows = ", ".join(str(int(table.rows[p])) for p in same)
    value = " / ".join(str(v) for v in frame[key].iloc[first].tolist())
    raise table.error(f"duplicated {what} '{value}' (rows {rows})", position=same[-1], column=key[0], hint=hint)


def _main_label(text: pd.Series) -> pd.Series:
    return text.fillna("").str.split("(", n=1).str[0]


def _matches(pattern: re.Pattern[str], text: pd.Series) -> pd.Series:
    return text.fillna("").str.contains(pattern.pattern, flags=pattern.flags, regex=True).astype(bool)


# -- sister cities -------------------------------------------------------------------------------
def _sister_flags(frame: pd.DataFrame) -> pd.DataFrame:
    out = frame.copy()
    rel = out["relationship_type"]
    dated = out["year_established"].notna().to_numpy(dtype=bool)
    out["is_dated"] = dated
    approval_only = _matches(_SC_APPROVAL, rel) & ~_matches(_SC_CONCLUDED, rel)
    out["is_intent"] = _matches(_SC_INTENT, rel) | approval_only
    main = _main_label(rel)
    out["is_friendship"] = _matches(_SC_FRIENDSHIP, main) & ~_matches(_SC_SISTER, main)
    out["is_former"] = _matches(_SC_FORMER, rel) | out["year_ended"].notna().to_numpy(dtype=bool)
    out["year_from_article_date"] = _matches(_SC_YEAR_FROM_ARTICLE, rel) & dated
    out["is_planned"] = _matches(_SC_PLANNED, rel) & ~_matches(_SC_CONFIRMED, rel)
    out["is_domestic_or_territory"] = _matches(_SC_DOMESTIC, out["partner_country"])
    return out


def read_sister_cities(path: str | Path) -> pd.DataFrame:
    """Read ``sister_cities.csv`` (no corrections applied; see :func:`load_sister_cities`)."""
    table = _open(path, _SISTER_COLUMNS)
    frame = pd.DataFrame({"record_id": _record_ids(table)})
    frame["collection"] = _collections(table)
    cbsa = table.text("cbsa_code")
    bad = cbsa.ne("") & ~cbsa.str.match(_CBSA.pattern).fillna(False).astype(bool)
    if bad.any():
        i = _first(bad)
        raise table.error(f"cbsa_code {cbsa.iloc[i]!r} is not a five-digit CBSA code", position=i,
                          column="cbsa_code", hint="leave it empty if unknown")
    frame["cbsa_code"] = _optional(cbsa)
    for name in ("us_city", "partner_city", "partner_country", "relationship_type"):
        frame[name] = table.text(name, required=True)
    frame["us_state"] = _states(table)
    frame["year_established"] = _years(table, "year_established")
    frame["year_ended"] = _years(table, "year_ended")
    _check_order(table, frame["year_established"], frame["year_ended"], "year_established", "year_ended")
    frame["source_url"] = _source_urls(table)
    frame["source_date_hint"] = _optional(table.text("source_date_hint"))
    _no_duplicates(table, frame, ["us_city", "us_state", "partner_city", "partner_country", "year_established",
                                  "source_url"], "sister-city row (pair, year and source)")
    frame["year_established_original"] = frame["year_established"]
    frame["year_ended_original"] = frame["year_ended"]
    frame["corrected"] = False
    frame["disputed"] = False
    frame["source_row"] = table.rows
    return SISTER_CITIES_SCHEMA.conform(_sister_flags(frame))


def conflicting_years(frame: pd.DataFrame) -> pd.DataFrame:
    """Pairs whose dated rows give more than one ``year_established`` (kept in the data, not resolved).

    Pairs are matched on the exact (us_city, us_state, partner_city, partner_country). Returns one
    row per pair: the pair, ``n_rows`` (dated rows), ``n_years``, ``years`` ('1974;1979'),
    ``record_ids`` and ``collections``. Run it on a corrected frame to see the conflicts that remain
    after errata (a correction can make two rows agree).
    """
    pair = ["us_city", "us_state", "partner_city", "partner_country"]
    dated = frame[frame["year_established"].notna()]
    if dated.empty:
        return pd.DataFrame(columns=[*pair, "n_rows", "n_years", "years", "record_ids", "collections"])
    grouped = dated.groupby(pair, dropna=False, sort=True)
    out = grouped.agg(
        n_rows=("record_id", "size"),
        n_years=("year_established", "nunique"),
        years=("year_established", lambda s: ";".join(str(int(y)) for y in sorted(set(s)))),
        record_ids=("record_id", lambda s: ";".join(s)),
        collections=("collection", lambda s: ";".join(sorted(set(s)))),
    ).reset_index()
    return out[out["n_years"] > 1].reset_index(drop=True)


# -- network memberships -------------------------------------------------------------------------
def _network_key(name: str) -> str:
    return re.sub(r"[^0-9a-z]+", " ", name.casefold().replace("&", " and ")).strip()


_NETWORK_LOOKUP: dict[str, str] = {}
for _code, (_name, _aliases) in NETWORKS.items():
    for _alias in (_name, *_aliases):
        _NETWORK_LOOKUP[_network_key(_alias)] = _code


def _network_flags(frame: pd.DataFrame) -> pd.DataFrame:
    out = frame.copy()
    out["is_snapshot"] = out["year_joined"].isna().to_numpy(dtype=bool)
    out["is_county"] = out["us_city"].fillna("").str.contains(r"\bCounty$", regex=True).astype(bool)
    return out


def _check_launch(table: RawTable, frame: pd.DataFrame, column: str) -> None:
    """Fail on a year in ``column`` before the launch of the row's network (:data:`NETWORK_LAUNCH`)."""
    launch = frame["network_code"].map(lambda c: NETWORK_LAUNCH[c][0]).astype("Int64")
    bad = (frame[column] < launch).fillna(False).to_numpy(dtype=bool)
    if bad.any():
        i = _first(bad)
        raise table.error(f"{column} {frame[column].iloc[i]} is before the launch of {frame['network'].iloc[i]} "
                          f"({launch.iloc[i]})", position=i, column=column,
                          hint="check the year; the launch years and their sources are in NETWORK_LAUNCH in "
                               "citydip/sources/curated.py")


def read_network_memberships(path: str | Path) -> pd.DataFrame:
    """Read ``network_memberships.csv`` (no corrections applied; see :func:`load_network_memberships`)."""
    table = _open(path, _NETWORK_COLUMNS)
    frame = pd.DataFrame({"record_id": _record_ids(table)})
    written = table.text("network", required=True)
    codes = written.map(lambda n: _NETWORK_LOOKUP.get(_network_key(n)))
    unknown = codes.isna().to_numpy()
    if unknown.any():
        i = _first(unknown)
        raise table.error(f"unknown network {written.iloc[i]!r}", position=i, column="network",
                          hint=f"use one of {[v[0] for v in NETWORKS.values()]}, or add the network to NETWORKS in "
                               "citydip/sources/curated.py")
    frame["collection"] = _collections(table)
    frame["network_code"] = codes.astype("string")
    frame["network"] = codes.map(lambda c: NETWORKS[c][0]).astype("string")
    frame["network_as_written"] = written
    frame["us_city"] = table.text("us_city", required=True)
    frame["us_state"] = _states(table, required=False)
    frame["year_joined"] = _years(table, "year_joined")
    frame["year_left"] = _years(table, "year_left")
    _check_order(table, frame["year_joined"], frame["year_left"], "year_joined", "year_left")
    frame["member_by"] = _years(table, "member_by")
    _check_launch(table, frame, "year_joined")
    _check_launch(table, frame, "member_by")
    bad = (frame["member_by"] < frame["year_joined"]).fillna(False).to_numpy(dtype=bool)
    if bad.any():
        i = _first(bad)
        raise table.error(f"member_by {frame['member_by'].iloc[i]} is before year_joined "
                          f"{frame['year_joined'].iloc[i]}", position=i, column="member_by",
                          hint="member_by is the year by which the source shows the city as a member; it cannot "
                               "precede the join year")
    frame["membership_type"] = table.text("membership_type", required=True)
    frame["source_url"] = _source_urls(table)
    frame["source_date_hint"] = _optional(table.text("source_date_hint"))
    frame["notes"] = _optional(table.text("notes"))
    _no_duplicates(table, frame, ["network_code", "us_city", "us_state", "year_joined", "source_url"],
                   "membership row (network, city, year and source)")
    frame["year_joined_original"] = frame["year_joined"]
    frame["year_left_original"] = frame["year_left"]
    frame["corrected"] = False
    frame["disputed"] = False
    frame["source_row"] = table.rows
    return NETWORK_MEMBERSHIPS_SCHEMA.conform(_network_flags(frame))


# -- consulate events ---------------------------------------------------------------------------
def _split_post_type(text: str) -> tuple[list[str], list[str]]:
    """Top-level parts of 'A -> B' (outside parentheses) and the parenthesised qualifiers."""
    parts, qualifiers, depth, current, inner = [], [], 0, "", ""
    i = 0
    while i < len(text):
        ch = text[i]
        if ch == "(":
            depth += 1
            if depth == 1:
                inner = ""
                i += 1
                continue
        elif ch == ")" and depth > 0:
            depth -= 1
            if depth == 0:
                qualifiers.append(inner.strip())
                i += 1
                continue
        if depth > 0:
            inner += ch
        elif text.startswith(_ARROW, i):
            parts.append(current)
            current = ""
            i += len(_ARROW)
            continue
        else:
            current += ch
        i += 1
    parts.append(current)
    return [re.sub(r"\s+", " ", p).strip() for p in parts], qualifiers


def _alternative_groups(frame: pd.DataFrame) -> pd.Series:
    """Rows dating the same event of the same post with years at most one apart share a group."""
    groups = pd.Series(pd.NA, index=frame.index, dtype="string")
    key = pd.DataFrame({k: _norm(frame[k]) for k in ("sending_country", "us_city", "us_state", "event")})
    for _, idx in key.groupby(list(key.columns), sort=False).groups.items():
        if len(idx) < 2:
            continue
        years = frame.loc[idx, "year"].sort_values(kind="stable")
        cluster: list = [years.index[0]]
        for prev, here in zip(years.index[:-1], years.index[1:]):
            if years[here] - years[prev] <= 1:
                cluster.append(here)
                continue
            _label(frame, groups, cluster)
            cluster = [here]
        _label(frame, groups, cluster)
    return groups


def _label(frame: pd.DataFrame, groups: pd.Series, cluster: list) -> None:
    if len(cluster) < 2:
        return
    first = frame.loc[cluster[0]]
    groups.loc[cluster] = (f"{first['sending_country']}|{first['us_city']}, {first['us_state']}|{first['event']}|"
                           f"{int(first['year'])}")


def _consulate_flags(frame: pd.DataFrame) -> pd.DataFrame:
    out = frame.copy()
    split = [_split_post_type(str(p)) for p in out["post_type"]]
    out["post_qualifier"] = pd.array(["; ".join(q) if q else pd.NA for _, q in split], dtype="string")
    before, after = [], []
    for (parts, _), event in zip(split, out["event"]):
        if len(parts) == 2:
            before.append(parts[0]), after.append(parts[1])
        elif event in ("opened", "reopened"):
            before.append(pd.NA), after.append(parts[0])
        elif event == "closed":
            before.append(parts[0]), after.append(pd.NA)
        else:
            before.append(parts[0]), after.append(parts[0])
    out["post_type_before"] = pd.array(before, dtype="string")
    out["post_type_after"] = pd.array(after, dtype="string")
    out["is_planned"] = _matches(_CE_PLANNED, out["notes"])
    out["is_borderline_post"] = _matches(_CE_BORDERLINE, out["post_type"])
    out["alternative_group"] = _alternative_groups(out)
    out["is_alternative_date"] = out["alternative_group"].notna().to_numpy(dtype=bool)
    return out


def read_consulate_events(path: str | Path) -> pd.DataFrame:
    """Read ``consulate_events.csv`` (no corrections applied; see :func:`load_consulate_events`)."""
    table = _open(path, _CONSULATE_COLUMNS)
    frame = pd.DataFrame({"record_id": _record_ids(table)})
    for name in ("sending_country", "us_city", "post_type"):
        frame[name] = table.text(name, required=True)
    frame["us_state"] = _states(table)
    event = table.text("event", required=True)
    bad = ~event.isin(EVENTS)
    if bad.any():
        i = _first(bad)
        raise table.error(f"event {event.iloc[i]!r} is not one of {list(EVENTS)}", position=i, column="event")
    frame["event"] = event
    for i, (post, ev) in enumerate(zip(frame["post_type"], event)):
        arrows = len(_split_post_type(post)[0]) - 1
        if arrows > 1 or (arrows == 1) != (ev in ("upgraded", "downgraded")):
            raise table.error(f"post_type {post!r} does not fit event {ev!r}: upgrades and downgrades are written "
                              "'A -> B' (one arrow), other events without an arrow", position=i,
                              column="post_type")
    frame["year"] = _years(table, "year", required=True)
    frame["month"] = table.numeric("month", integer=True, minimum=1, maximum=12).astype("Int64")
    frame["source_url"] = _source_urls(table)
    frame["source_date_hint"] = _optional(table.text("source_date_hint"))
    frame["notes"] = _optional(table.text("notes"))
    _no_duplicates(table, frame, ["sending_country", "us_city", "us_state", "event", "year", "source_url"],
                   "consulate event (post, event, year and source)")
    frame["year_original"] = frame["year"]
    frame["month_original"] = frame["month"]
    frame["corrected"] = False
    frame["disputed"] = False
    frame["source_row"] = table.rows
    return CONSULATE_EVENTS_SCHEMA.conform(_consulate_flags(frame))


def choose_alternative_dates(frame: pd.DataFrame, rule: str = "confirmed") -> pd.DataFrame:
    """Keep one row per alternative-date group of a consulate-events frame.

    ``rule``: 'earliest' (first year and month), 'latest', or 'confirmed' (a row not flagged
    ``is_planned`` if there is one, then the earliest). Months missing sort after stated months
    of the same year. Rows outside any group are kept as they are.
    """
    if rule not in ("earliest", "latest", "confirmed"):
        raise OptionError(f"unknown rule {rule!r} for alternative dates; use 'earliest', 'latest' or 'confirmed'")
    order = frame.assign(_m=frame["month"].fillna(13).astype("int64"), _p=frame["is_planned"].astype(int))
    by = (["_p"] if rule == "confirmed" else []) + ["year", "_m"]
    asc = rule != "latest"
    order = order.sort_values(by, ascending=asc, kind="stable")
    grouped = order[order["alternative_group"].notna()].drop_duplicates("alternative_group", keep="first")
    keep = set(grouped.index) | set(frame.index[frame["alternative_group"].isna()])
    return frame.loc[sorted(keep)].reset_index(drop=True)


# -- errata ----------------------------------------------------------------------------------------
def read_errata(path: str | Path) -> pd.DataFrame:
    """Read ``errata.csv`` and check each entry on its own (records are checked by :func:`apply_errata`)."""
    table = _open(path, _ERRATA_COLUMNS)
    frame = pd.DataFrame({"erratum_id": table.text("erratum_id", required=True)})
    _no_duplicates(table, frame, ["erratum_id"], "erratum_id")
    for name in ("dataset", "record_ids", "field", "status"):
        frame[name] = table.text(name, required=True)
    for name in ("key", "file_value", "corrected_value", "note"):
        frame[name] = table.text(name)
    urls = table.text("source_url")
    for i, row in frame.iterrows():
        i = int(i)
        if row["dataset"] not in DATASETS:
            raise table.error(f"dataset {row['dataset']!r} is not one of {list(DATASETS)}", position=i,
                              column="dataset")
        if row["status"] not in ("correction", "disputed"):
            raise table.error(f"status {row['status']!r} is not 'correction' or 'disputed'", position=i,
                              column="status")
        if row["field"] not in CORRECTABLE[row["dataset"]]:
            raise table.error(f"field {row['field']!r} cannot be corrected in {row['dataset']}; correctable: "
                              f"{list(CORRECTABLE[row['dataset']])}", position=i, column="field")
        ids = row["record_ids"].split(";")
        if any(not _ID.match(r.strip()) for r in ids):
            raise table.error(f"record_ids {row['record_ids']!r} is not a ';'-separated list of record ids",
                              position=i, column="record_ids")
        values = row["file_value"].split(";")
        if len(values) != len(ids):
            raise table.error(f"file_value lists {len(values)} value(s) for {len(ids)} record(s)", position=i,
                              column="file_value")
        if row["status"] == "correction" and len(ids) != 1:
            raise table.error("a correction names exactly one record", position=i, column="record_ids")
        if (row["status"] == "correction" and (row["dataset"], row["field"]) == (CONSULATE_EVENTS, "year")
                and not row["corrected_value"].strip()):
            raise table.error("the year of a consulate event cannot be corrected to blank", position=i,
                              column="corrected_value", hint="remove the row from the data file instead")
        candidates = values + [v for v in row["corrected_value"].split(";")]
        for value in candidates:
            _check_value(table, i, row["field"], value.strip(),
                         "file_value" if value in values else "corrected_value")
        url = urls.iloc[i]
        if (url or row["status"] == "correction") and not _URL.match(url):
            raise table.error(f"source_url {url!r} is not an http(s) URL", position=i, column="source_url",
                              hint="a correction needs the address of the page that shows the correct value")
    frame["source_url"] = _optional(urls)
    frame["source_row"] = table.rows
    # Two corrections of the same record and field contradict each other (disputes may repeat).
    scope = frame["status"].where(frame["status"].ne("correction"), "") + frame["erratum_id"].where(
        frame["status"].ne("correction"), "")
    _no_duplicates(table, frame.assign(scope=scope), ["dataset", "record_ids", "field", "scope"],
                   "correction (dataset, record and field)", hint="keep one correction per record and field")
    out = ERRATA_SCHEMA.conform(frame)
    out.attrs["path"] = str(table.path)
    return out


def _check_value(table: RawTable, i: int, field: str, value: str, column: str) -> None:
    if value == "":
        return
    if not re.fullmatch(r"\d{1,4}", value):
        raise table.error(f"{column} {value!r} of {field} is not a whole number", position=i, column=column)
    number = int(value)
    low, high = (1, 12) if field == "month" else (EARLIEST_RECORD_YEAR, LATEST_RECORD_YEAR)
    if not low <= number <= high:
        raise table.error(f"{column} {value!r} of {field} is outside {low}-{high}", position=i, column=column)


_DERIVE: dict[str, tuple[Schema, Callable[[pd.DataFrame], pd.DataFrame], tuple[str, str] | None]] = {
    SISTER_CITIES: (SISTER_CITIES_SCHEMA, _sister_flags, ("year_established", "year_ended")),
    NETWORK_MEMBERSHIPS: (NETWORK_MEMBERSHIPS_SCHEMA, _network_flags, ("year_joined", "year_left")),
    CONSULATE_EVENTS: (CONSULATE_EVENTS_SCHEMA, _consulate_flags, None),
}


def apply_errata(frame: pd.DataFrame, errata: pd.DataFrame | str | Path, dataset: str) -> pd.DataFrame:
    """Apply the corrections for ``dataset`` to a frame from its ``read_*`` function.

    Each correction replaces ``field`` of its record by ``corrected_value``; the file value stays
    in ``<field>_original`` and ``corrected`` is set. Records of disputed entries get
    ``disputed`` (values unchanged: the conflict rule decides). Derived flags are recomputed.
    An erratum naming an unknown record, or whose ``file_value`` no longer matches the file
    (the data was edited since), raises :class:`SourceFileError` naming the errata row.
    Applying the same errata twice gives the same result.
    """
    if dataset not in _DERIVE:
        raise OptionError(f"unknown dataset {dataset!r}; known: {list(_DERIVE)}")
    if not isinstance(errata, pd.DataFrame):
        errata = read_errata(errata)
    path = errata.attrs.get("path", ERRATA_FILE)
    schema, derive, order = _DERIVE[dataset]
    out = frame.copy()
    position = pd.Series(np.arange(len(out)), index=out["record_id"].astype(str).to_numpy())
    for _, entry in errata[errata["dataset"].eq(dataset)].iterrows():
        row = int(entry["source_row"])
        field = entry["field"]
        ids = [r.strip() for r in entry["record_ids"].split(";")]
        values = [v.strip() for v in entry["file_value"].split(";")]
        for rid, expected in zip(ids, values):
            if rid not in position.index:
                raise SourceFileError(path, f"record {rid!r} is not in {dataset}", row=row, column="record_ids",
                                      hint="the record was removed or renamed; update or remove the erratum")
            p = int(position[rid])
            original = out[f"{field}_original"].iloc[p]
            found = "" if pd.isna(original) else str(int(original))
            if found != expected:
                raise SourceFileError(path, f"expects {field} {expected!r} for record {rid!r}, the data file has "
                                            f"{found!r}", row=row, column="file_value",
                                      hint="the data file was edited since; update or remove the erratum")
            target = out.columns.get_loc(field)
            if entry["status"] == "correction":
                value = entry["corrected_value"].strip()
                out.iloc[p, target] = pd.NA if value == "" else int(value)
                out.iloc[p, out.columns.get_loc("corrected")] = True
            else:
                out.iloc[p, out.columns.get_loc("disputed")] = True
        if order is not None and entry["status"] == "correction":
            start, end = out[order[0]], out[order[1]]
            bad = (end < start).fillna(False).to_numpy(dtype=bool)
            if bad.any():
                raise SourceFileError(path, f"the correction leaves {order[1]} before {order[0]} for record "
                                            f"{out['record_id'].iloc[_first(bad)]!r}", row=row,
                                      column="corrected_value")
    return schema.conform(derive(out))


# -- convenience -------------------------------------------------------------------------------------
def _load(reader: Callable[[Path], pd.DataFrame], filename: str, dataset: str, curated_dir: str | Path | None,
          corrections: bool) -> pd.DataFrame:
    root = Path(curated_dir) if curated_dir is not None else default_curated_dir()
    frame = reader(root / filename)
    if corrections:
        frame = apply_errata(frame, read_errata(root / ERRATA_FILE), dataset)
    return frame


def load_sister_cities(curated_dir: str | Path | None = None, *, corrections: bool = True) -> pd.DataFrame:
    """The curated sister-city table, with the corrections of ``errata.csv`` unless ``corrections=False``."""
    return _load(read_sister_cities, SISTER_CITIES_FILE, SISTER_CITIES, curated_dir, corrections)


def load_network_memberships(curated_dir: str | Path | None = None, *, corrections: bool = True) -> pd.DataFrame:
    """The curated network memberships, with the corrections of ``errata.csv`` unless ``corrections=False``."""
    return _load(read_network_memberships, NETWORK_MEMBERSHIPS_FILE, NETWORK_MEMBERSHIPS, curated_dir, corrections)


def load_consulate_events(curated_dir: str | Path | None = None, *, corrections: bool = True) -> pd.DataFrame:
    """The curated consulate events, with the corrections of ``errata.csv`` unless ``corrections=False``."""
    return _load(read_consulate_events, CONSULATE_EVENTS_FILE, CONSULATE_EVENTS, curated_dir, corrections)


register(
    SourceFile("curated_sister_cities", "", SISTER_CITIES_FILE, read_sister_cities, SISTER_CITIES_SCHEMA,
               "sister-city ties of U.S. cities with stated years (curated, one source URL per row)",
               year_column="year_established", curated=True),
    SourceFile("curated_network_memberships", "", NETWORK_MEMBERSHIPS_FILE, read_network_memberships,
               NETWORK_MEMBERSHIPS_SCHEMA, "international city-network memberships of U.S. cities (curated)",
               year_column="year_joined", curated=True),
    SourceFile("curated_consulate_events", "", CONSULATE_EVENTS_FILE, read_consulate_events,
               CONSULATE_EVENTS_SCHEMA, "dated changes of foreign career consular posts in U.S. cities (curated)",
               year_column="year", curated=True),
    SourceFile("curated_errata", "", ERRATA_FILE, read_errata, ERRATA_SCHEMA,
               "audited corrections and disputes of the curated rows", year_column=None, curated=True),
)
