"""Foreign career consular posts per metro-year: Lowy editions combined with dated events.

Inputs: the Lowy Global Diplomacy Index post lists, all posts of every sending country, with
one row per post and the edition in ``vintage``: the five editions 2016, 2017, 2019, 2021 and
2023 as :func:`citydip.sources.lowy.editions` returns them (2023 is the edition Lowy published
as its "2024" index, data collected mid/late 2023: it describes 2023), or any subset of them
(e.g. the three CSV vintages of :func:`citydip.sources.lowy.read_vintage`); and the curated
consulate events (:func:`citydip.sources.curated.load_consulate_events`). Every rule below
holds for whichever editions are given and for any panel years.

Rules and conventions
---------------------
**Post.** A post is a (sending country, metro) pair: a country with two career posts in
one metro (Mexico in Los Angeles and Santa Ana, in Minneapolis and Saint Paul) counts
once, as a consulate general if either post is one. ``consular_posts`` counts posts per
metro-year and ``consulates_general`` those whose title is consulate general. Internally
each city-level post ("site": country, metro, city) has its own timeline; an event applies
to the site of the same country, metro and city name (so Italy's Newark consulate, closed
2014, is a separate site from Italy's New York consulate general, and its closure does not
remove Italy's New York-metro post).

**Career posts only.** Lowy rows count when ``is_career_consular`` (consulates, consulates
general, and consular titles under "Other", e.g. Japan's and Korea's consular offices).
Embassies, permanent missions and the non-consular "Other" rows (Taiwan's Economic &
Cultural Offices) are not counted; the consulates general that Brazil, France, Spain and
Luxembourg list in Washington DC are consular posts and count. Lowy rows whose corrected
post country is not the United States (Leamington, Ontario; Saipan; the U.S. post in
Nogales, Sonora) are not U.S. posts. Events on borderline post types (``is_borderline_post``:
satellite trade offices, Austrade-run or honorary posts, vice-consulates, consular agencies
and offices, branches) are not used.

**Country and city names.** Lowy renamed countries between editions ('Korea Republic of
(South Korea)' / 'South Korea', 'Turkey' / 'Türkiye') and the events spell some countries
differently ('Russian Federation' / 'Russia'): every edition is read by its
``sending_country_harmonised`` and every event is mapped by the same table
(:data:`COUNTRY_NAMES`). The post city is ``post_city_corrected`` (Mexico's 2023 post
published in "Oklahoma" is in Oklahoma City), matched without a state like every Lowy city.
A frame without these columns (an older reader's) is harmonised here from the published ones.

**Coverage** (``options.consulate_countries``; :func:`coverage_rules`). ``common``: only
sending countries present in every Lowy edition given, a coverage that is the same in every
year. Over the five editions these are the 41 G20/OECD countries of 2016 (every one of them
is in every later edition, so five editions lose no country that three kept). ``all``: every
country of any edition, 65 over five: the 41 plus 18 first covered in 2017 (the Asian
additions and Latvia), Lithuania from 2019, Colombia, Costa Rica, Papua New Guinea and the
European External Action Service from 2021 and Timor-Leste from 2023. A country counts in
the editions that cover it and is carried back before its first one like any other post, so
its earlier years are an extrapolation (Colombia's 2021 posts are carried back to the first
panel year). The build log (``notes``) lists the countries each rule keeps and leaves out.
Events of countries outside the coverage are not used (most Latin American countries are
never covered by Lowy).

**Timing convention.** Counts are the state at the end of the year: a post counts in the
year it opens (or reopens, or moves in) and not in the year it closes (or moves out); an
upgrade or downgrade changes the consulate-general status from its own year. Months are
missing for a third of the events, so only the year is used. A Lowy edition is read as the
state of its year; the 2023 edition (Lowy's "2024" index, collected mid/late 2023) as 2023, so
a post opened late in 2023 that it does not list yet (India Seattle, November 2023) is
present in 2023 by its event.

**Fill rule** (``options.consulate_fill='carry'``). Each site's state in year t is taken
from the latest observation at or before t (a snapshot, i.e. an edition's listing, or the
state after a dated event), else from the earliest one after t (a snapshot's state, or the
state before an event). So:

* years between editions take the earlier edition's posts adjusted by the dated events
  (2018 from 2017, 2020 from 2019, 2022 from 2021);
* years after the last edition carry it forward adjusted by the dated events;
* years before the first edition carry it back, except that a post whose opening is dated
  after t is absent in t, and a post closed by a dated event before the first edition is
  present before its closing year although absent from the edition;
* **a change between editions that no event dates** is placed at the first edition that
  shows it: a post listed in edition e1 and not in the next edition e2 counts through
  e2 - 1 (carried forward from e1), a post first listed in e2 counts from e2 (a post with a
  dated opening that is missing from a later edition counts until the year before that
  edition). The build log counts these placements by pair of observations ("changes no
  event dates: N ...") and lists each.

**Events win over contradicting snapshots.** A snapshot's presence is overridden when it
contradicts the governing event: the last event at or before the vintage (unless an
earlier snapshot since that event already agreed with it, which makes a later
disagreement an undated change), or the first event after the vintage (unless a snapshot
in between already agrees with that event's prior state). Stale listings are the usual
case (Lowy 2016 lists the U.K. consulate in Orlando, closed January 2014, and Mexico's in
Anchorage, closed November 2015); every override is reported in ``notes`` and the
overridden Lowy row in ``dropped``. Consulate-general status follows the latest
observation (a snapshot's title is not overridden by an event of the same post).

**Known Lowy 2016 omissions.** Posts that Lowy 2017 and 2019 list, that the curated notes
show existed before 2016, and that Lowy 2016 omits (:data:`LOWY_OMISSIONS`: Canada Houston
and San Diego, opened 2003-04 as offices the events file classes as borderline; Japan's
Portland consular office, a consulate general renamed in 2013; New Zealand Honolulu and New
York) are treated as present in 2016 with their 2017 title, so that a Lowy coding gap does
not appear as a 2017 opening. ``options.consulate_lowy_omissions = 'keep'`` uses the 2016 file as it is.

**Alternative dates and planned dates.** Of each alternative-date pair the row chosen by
``choose_alternative_dates(events, rule='confirmed')`` is used (a confirmed date over a
planned one, then the earliest). A planned date that is the only date of its event is used
(it is the best date known, e.g. Mexico Anchorage closed November 2015) and listed in
``notes``.

**Relocations.** A relocation within a city (one row, "intra-city") changes no count and
is not used. A move between cities has an origin row and a destination row (``notes`` say
"origin" / "destination"): the post closes at the origin and opens at the destination in
the same year, the year of the pair's confirmed row (Japan New Orleans to Nashville: 2008,
confirmed, over the origin row's planned 2007). A move between two cities of one metro
changes nothing.

**snapshots_only.** Only the edition years (2016, 2017, 2019, 2021, 2023) have values, equal
to the ``carry`` values of those years (so stale listings are still corrected); other years
are NaN with ``consulate_fill`` 'none'.

**editions_only.** No carrying back before the first edition: the years before it (2005-2015)
are NaN with ``consulate_fill`` 'none'; from the first edition on every value equals the
``carry`` value (between and after editions filled as ``carry`` fills them, a country of
``all`` first covered later carried back to the first edition). Under ``carry`` a post that
opened before 2016 but after the first panel year without a dated event is present
throughout: an error that is not random, which this rule leaves out of the sample instead.

**Accounting.** Every U.S. Lowy row (corrected or published post country United States)
and every event row is either used (``ConsulateResult.used``) or listed in ``dropped`` with
the reason; Lowy posts outside the United States are outside the scope and not listed.
Output is sorted by (cbsa_code, year, sending_country).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from itertools import pairwise

import numpy as np
import pandas as pd

from citydip.geo.match import PlaceMatcher
from citydip.geo.names import normalize
from citydip.panel.options import PanelOptions
from citydip.sources.curated import choose_alternative_dates
from citydip.sources.lowy import COUNTRY_NAMES, harmonise_country  # noqa: F401  (one harmonisation table)

LOWY_DATASET = "lowy_gdi U.S. posts {vintage}"
EVENTS_DATASET = "consulate_events (curated)"
UNITED_STATES = "United States"
BASES = ("snapshot", "between snapshots", "carried back", "carried forward", "event")

#: Posts Lowy 2016 omits though they existed: (vintage, harmonised country, Lowy city) -> evidence.
LOWY_OMISSIONS: dict[tuple[int, str, str], str] = {
    (2016, "Canada", "Houston"): "opened 2004 (CBC); listed in Lowy 2017 and 2019",
    (2016, "Canada", "San Diego"): "opened Dec 2003/2004; listed in Lowy 2017 and 2019",
    (2016, "Japan", "Portland"): "consulate general renamed consular office 1 Jan 2013; listed in Lowy 2017 and 2019",
    (2016, "New Zealand", "Honolulu"): "Sep 2016 release names the next consul-general in Hawaii; listed in 2017 and 2019",
    (2016, "New Zealand", "New York"): "a c.2010 listing shows the consulate general; listed in Lowy 2017 and 2019",
}

_GENERAL = re.compile(r"general", re.IGNORECASE)
_ORIGIN = re.compile(r"\borigin\b", re.IGNORECASE)
_DESTINATION = re.compile(r"\bdestination\b", re.IGNORECASE)


@dataclass
class ConsulateResult:
    """Consular posts: post-years, metro-year measures, rows not used, and notes."""

    posts: pd.DataFrame       #: sending_country, cbsa_code, year, is_consulate_general, basis
    metro_year: pd.DataFrame  #: cbsa_code, year, consular_posts, consulates_general, consulate_fill
    dropped: pd.DataFrame     #: dataset, record_id, reason (+ sending_country, city, year)
    notes: list[str]
    used: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=["dataset", "record_id"]))


# -- internal structures ------------------------------------------------------------------------------
@dataclass
class _Obs:
    """One observation of a site: a snapshot (before == after) or a dated event."""

    year: int
    order: tuple                # sort key within the year
    before: int                 # 0 absent, 1 consulate, 2 consulate general
    after: int
    kind: str                   # 'snapshot', 'omission', 'event'
    ref: str                    # record id ('' for a snapshot absence)
    text: str = ""              # short description for notes


@dataclass
class _Site:
    country: str
    cbsa: str
    city: str
    snapshots: dict = field(default_factory=dict)   # vintage -> _Obs
    events: list = field(default_factory=list)      # _Obs


def _type(post_type: object) -> int:
    return 2 if _GENERAL.search(str(post_type)) else 1


def _text(value: object) -> str:
    """A text cell as str ('' for missing values)."""
    return "" if value is None or pd.isna(value) else str(value)


def _when(year: int, month: object) -> str:
    return f"{int(year)}" if pd.isna(month) else f"{int(year)}-{int(month):02d}"


class _Ledger:
    """Used and dropped input rows."""

    def __init__(self) -> None:
        self.used: list[tuple[str, str]] = []
        self.dropped: list[dict] = []

    def use(self, dataset: str, record_id: str) -> None:
        self.used.append((dataset, record_id))

    def drop(self, dataset: str, record_id: str, reason: str, country: str, city: str, year: int) -> None:
        self.dropped.append({"dataset": dataset, "record_id": record_id, "reason": reason,
                             "sending_country": country, "city": city, "year": int(year)})


# -- main ----------------------------------------------------------------------------------------------
def consulate_measures(lowy: pd.DataFrame, events: pd.DataFrame, matcher: PlaceMatcher,
                       codes: list[str], years: range, options: PanelOptions) -> ConsulateResult:
    """Consular posts per metro-year for the metros ``codes`` and ``years`` (see the module rules)."""
    codes = sorted(dict.fromkeys(str(c) for c in codes))
    sample = set(codes)
    years = list(years)
    ledger = _Ledger()
    notes: list[str] = []

    frame = _lowy_frame(lowy)
    vintages = sorted(int(v) for v in frame["vintage"].unique())
    by_vintage = {v: set(frame.loc[frame["vintage"].eq(v), "country"]) for v in vintages}
    rules = coverage_rules(by_vintage)
    covered = set(rules[options.consulate_countries])
    coverage = {c: [v for v in vintages if c in by_vintage[v]] for c in covered}
    notes.extend(_coverage_notes(options.consulate_countries, rules, by_vintage, vintages))

    def place(city: str, state: str) -> tuple[str, str]:
        m = matcher.match_one(city, state)
        return m.cbsa_code, (m.reason or "no CBSA match")

    sites: dict[tuple[str, str, str], _Site] = {}

    def site(country: str, cbsa: str, city: str) -> _Site:
        key = (country, cbsa, normalize(city))
        if key not in sites:
            sites[key] = _Site(country, cbsa, city)
        return sites[key]

    # -- Lowy rows ----------------------------------------------------------------------------------
    us = frame[frame["in_united_states"].astype(bool) | frame["post_country"].eq(UNITED_STATES)]
    us = us.sort_values(["vintage", "source_row"], kind="stable")
    merged: dict[tuple[str, str, int], list[str]] = {}
    for row in us.itertuples(index=False):
        v, country, city = int(row.vintage), row.country, str(row.city)
        dataset, rid = LOWY_DATASET.format(vintage=v), f"{v} row {int(row.source_row)}"

        def drop(reason: str, dataset=dataset, rid=rid, country=country, city=city, v=v) -> None:
            ledger.drop(dataset, rid, reason, country, city, v)

        if not bool(row.in_united_states):
            drop(f"not in the United States after correction ({_text(row.flag) or _text(row.post_country_corrected)})")
        elif not bool(row.is_career_consular):
            drop(f"not a career consular post ({row.type_of_post}: {_text(row.post_type_title) or 'no title'})")
        elif country == UNITED_STATES:
            drop("sending country is the United States (not a foreign post)")
        elif country not in covered:
            drop(f"sending country not covered by the Lowy coverage '{options.consulate_countries}'")
        else:
            cbsa, reason = place(city, "")
            if not cbsa:
                drop(f"no CBSA match: {reason}")
            elif cbsa not in sample:
                drop(f"metro outside the sample (CBSA {cbsa})")
            else:
                s = site(country, cbsa, city)
                state = 2 if bool(row.is_consulate_general) else 1
                old = s.snapshots.get(v)
                if old is not None:   # the same city listed twice in one vintage (spelling variants)
                    state = max(state, old.before)
                    rid_all = f"{old.ref}; {rid}"
                else:
                    rid_all = rid
                s.snapshots[v] = _Obs(v, (0,), state, state, "snapshot", rid_all,
                                      f"{country} {city} ({row.post_type_title})")
                merged.setdefault((country, cbsa, v), []).append(city)

    together: dict[tuple[str, str], set] = {}
    for (country, cbsa, _vintage), cities in merged.items():
        if len(cities) > 1:
            together.setdefault((country, cbsa), set()).update(cities)
    for (country, cbsa), cities in sorted(together.items()):
        notes.append(f"{country} has {len(cities)} Lowy posts in metro {cbsa} ({', '.join(sorted(cities))}): "
                     "they count as one post of the metro")

    # -- events ---------------------------------------------------------------------------------------
    _add_events(events, covered, options, place, sample, site, ledger, notes)

    # -- snapshot absences, omissions, overrides ----------------------------------------------------------
    omissions = options.consulate_lowy_omissions
    for s in sites.values():
        for v in coverage.get(s.country, []):
            if v not in s.snapshots:
                s.snapshots[v] = _Obs(v, (0,), 0, 0, "snapshot", "")
        if omissions == "fill":
            _fill_omissions(s, notes)
        for ob in sorted(s.events, key=lambda o: (o.year, o.order)):
            ledger.use(EVENTS_DATASET, ob.ref)
        overridden = _overrides(s, notes)
        for v, ob in sorted(s.snapshots.items()):
            for rid in ob.ref.split("; ") if ob.ref and ob.kind == "snapshot" else []:
                ds = LOWY_DATASET.format(vintage=v)
                if v in overridden:
                    ledger.drop(ds, rid, f"snapshot contradicted by a dated event, event wins ({overridden[v]})",
                                s.country, s.city, v)
                else:
                    ledger.use(ds, rid)
            if v in overridden:
                del s.snapshots[v]

    # -- site timelines -> posts ------------------------------------------------------------------------
    rows = []
    undated: list[tuple[int, int, str]] = []   # (earlier observation year, edition year, text)
    last_vintage = vintages[-1] if vintages else None
    for key in sorted(sites):
        s = sites[key]
        obs = sorted(list(s.snapshots.values()) + s.events, key=lambda o: (o.year, o.order))
        in_time = sorted(obs, key=lambda o: (o.year, o.kind != "event", o.order))   # end-of-year snapshots
        for prev, nxt in pairwise(in_time):
            if (prev.after > 0) != (nxt.before > 0):
                what = "appears" if nxt.before else "disappears"
                undated.append((prev.year, nxt.year, f"{s.country} {s.city} ({s.cbsa}) {what} in {nxt.year}"))
        snap_years = {v for v, o in s.snapshots.items() if o.kind == "snapshot"}
        for t in years:
            state, basis = _state(obs, t, snap_years, last_vintage)
            if state:
                rows.append((s.country, s.cbsa, t, state == 2, basis))
    notes.append(_undated_note(undated, years))
    site_years = pd.DataFrame(rows, columns=["sending_country", "cbsa_code", "year", "is_consulate_general", "basis"])
    posts = _posts(site_years)
    if options.consulate_fill == "snapshots_only":
        posts = posts[posts["year"].isin(vintages)].reset_index(drop=True)
    elif options.consulate_fill == "editions_only" and vintages:
        posts = posts[posts["year"].ge(vintages[0])].reset_index(drop=True)
    metro_year = _metro_year(posts, codes, years, vintages, options.consulate_fill)
    notes.append(_fill_note(options.consulate_fill, vintages, years))

    used = pd.DataFrame(ledger.used, columns=["dataset", "record_id"]).drop_duplicates()
    used = used.sort_values(["dataset", "record_id"], kind="stable").reset_index(drop=True)
    dropped = pd.DataFrame(ledger.dropped, columns=["dataset", "record_id", "reason", "sending_country", "city",
                                                    "year"])
    dropped = dropped.sort_values(["dataset", "record_id"], kind="stable").reset_index(drop=True)
    reasons = dropped.assign(r=dropped["reason"].str.replace(r"\s*[(:].*$", "", regex=True)).groupby("r").size()
    notes.append("rows not used: " + "; ".join(f"{k}: {n}" for k, n in reasons.items()) if len(reasons)
                 else "rows not used: none")
    return ConsulateResult(posts, metro_year, dropped, notes, used)


def _lowy_frame(lowy: pd.DataFrame) -> pd.DataFrame:
    """The Lowy rows with ``country`` (harmonised sending country) and ``city`` (corrected post
    city): ``sending_country_harmonised`` and ``post_city_corrected`` of the reader's schema,
    else the published columns (harmonised here)."""
    names = lowy["sending_country_harmonised"] if "sending_country_harmonised" in lowy else lowy["sending_country"]
    city = lowy["post_city"]
    if "post_city_corrected" in lowy:
        city = lowy["post_city_corrected"].astype("string").fillna(lowy["post_city"].astype("string"))
    return lowy.assign(country=names.map(harmonise_country), city=city.astype(str))


def coverage_rules(by_vintage: dict[int, set]) -> dict[str, list[str]]:
    """The sending countries each coverage rule keeps (harmonised names, sorted; the United
    States, which sends no foreign posts to itself, never): ``common``, those present in every
    edition given; ``all``, those present in any. ``by_vintage``: edition -> countries."""
    if not by_vintage:
        return {"common": [], "all": []}
    common = set.intersection(*by_vintage.values()) - {UNITED_STATES}
    every = set.union(*by_vintage.values()) - {UNITED_STATES}
    return {"common": sorted(common), "all": sorted(every)}


def _coverage_notes(rule: str, rules: dict[str, list[str]], by_vintage: dict, vintages: list) -> list[str]:
    """The build log's coverage lines: the countries each rule keeps, the rule in effect first."""
    common, every = rules["common"], rules["all"]
    extra = [c for c in every if c not in set(common)]

    def editions_of(c: str) -> str:
        eds = [v for v in vintages if c in by_vintage[v]]
        contiguous = eds == [v for v in vintages if eds[0] <= v <= eds[-1]]
        return (f"from {eds[0]}" if eds[-1] == vintages[-1] else f"{eds[0]}-{eds[-1]}") if contiguous else \
            ", ".join(map(str, eds))

    def state(r: str) -> str:
        return "in effect" if r == rule else "alternative"

    lines = [f"coverage 'common' ({state('common')}): {len(common)} sending countries present in every Lowy edition "
             f"{vintages}: {', '.join(common)}; {len(extra)} countries of only some editions left out"
             + (f" ({', '.join(extra)})" if extra else ""),
             f"coverage 'all' ({state('all')}): {len(every)} sending countries of any Lowy edition: the "
             f"{len(common)} of 'common' and {len(extra)} more, each counted in the editions that cover it, carried "
             "back before its first edition (from the first Lowy edition on under 'editions_only') and carried "
             "forward after its last"
             + (f" ({'; '.join(f'{c} {editions_of(c)}' for c in extra)})" if extra else "")]
    return lines if rule == "common" else lines[::-1]


def _undated_note(undated: list[tuple[int, int, str]], years: list[int]) -> str:
    """The build log's count of changes no event dates, by pair of observations, with the list."""
    if not undated:
        return "changes no event dates: 0"
    pairs: dict[tuple[int, int], int] = {}
    for a, b, _text in undated:
        pairs[(a, b)] = pairs.get((a, b), 0) + 1
    inside = sum(1 for _a, b, _t in undated if b in years)
    span = f"{years[0]}-{years[-1]}" if years else "(none)"
    by_pair = ", ".join(f"{a}->{b} {n}" for (a, b), n in sorted(pairs.items()))
    return (f"changes no event dates: {len(undated)} ({inside} placed in the panel years {span}; "
            f"by earlier observation -> edition: {by_pair}), each placed at the first edition that shows it (a post "
            "listed in edition e1 and not in the next edition e2 counts through e2-1; one first listed in e2 counts "
            "from e2). The changes: " + "; ".join(t for _a, _b, t in undated))


def _fill_note(fill: str, vintages: list[int], years: list[int]) -> str:
    """The build log's line on the fill rule in effect and the panel years it fills or leaves missing."""
    if not vintages:
        return f"fill '{fill}': no Lowy edition, no post"
    first, last = vintages[0], vintages[-1]
    inside = [v for v in vintages if v in years]
    before, after = [t for t in years if t < first], [t for t in years if t > last]
    between = [t for t in years if first < t < last and t not in vintages]
    text = f"fill '{fill}': Lowy editions {vintages} ({len(inside)} in the panel years)"
    if fill == "snapshots_only":
        return text + f"; values only in the edition years, the {len(years) - len(inside)} other panel years missing"
    text += (f"; {len(between)} panel years between editions filled from the earlier edition and the dated events"
             + (f", {len(after)} after {last} carried forward from it" if after else ""))
    if fill == "editions_only":
        return text + (f"; no carrying back: the {len(before)} panel years before {first} are missing" if before
                       else "")
    return text + (f"; the {len(before)} panel years before {first} carried back from each post's first edition "
                   "unless a dated event says otherwise" if before else "")


def _add_events(events: pd.DataFrame, covered: set, options: PanelOptions, place, sample: set, site,
                ledger: _Ledger, notes: list[str]) -> None:
    """Classify every event row; attach the used ones to sites as observations."""
    ev = events.assign(country=events["sending_country"].map(harmonise_country))
    ev = ev.sort_values("record_id", kind="stable").reset_index(drop=True)
    chosen = set(choose_alternative_dates(ev, rule="confirmed")["record_id"])
    chosen_of = {}
    for rid, group in zip(ev["record_id"], ev["alternative_group"]):
        if pd.notna(group) and rid in chosen:
            chosen_of[group] = rid
    by_id = ev.set_index("record_id", drop=False)

    keep = []
    for row in ev.itertuples(index=False):
        rid, country, city = str(row.record_id), row.country, str(row.us_city)
        where, year = f"{city}, {_text(row.us_state)}", int(row.year)

        def drop(reason: str, rid=rid, country=country, where=where, year=year) -> None:
            ledger.drop(EVENTS_DATASET, rid, reason, country, where, year)

        if rid not in chosen:
            other = chosen_of.get(row.alternative_group)
            if other is not None and bool(row.is_planned) and not bool(by_id.loc[other, "is_planned"]):
                drop(f"alternative date not chosen: planned date superseded by the confirmed row {other}")
            else:
                drop(f"alternative date not chosen (rule 'confirmed' keeps {other})")
        elif country not in covered:
            drop(f"sending country not covered by the Lowy coverage '{options.consulate_countries}'")
        elif bool(row.is_borderline_post):
            drop(f"borderline post, not a career consular post ({row.post_type})")
        else:
            cbsa, reason = place(city, _text(row.us_state))
            if not cbsa:
                drop(f"no CBSA match: {reason}")
            elif cbsa not in sample:
                drop(f"metro outside the sample (CBSA {cbsa})")
            else:
                keep.append((row, cbsa))

    # Relocations: pair origins with destinations; intra-city moves change nothing.
    moves = [(r, c) for r, c in keep if r.event == "relocated"]
    others = [(r, c) for r, c in keep if r.event != "relocated"]
    origins = [(r, c) for r, c in moves if _ORIGIN.search(_text(r.notes))]
    origin_ids = {str(r.record_id) for r, _ in origins}
    dests = [(r, c) for r, c in moves if _DESTINATION.search(_text(r.notes)) and str(r.record_id) not in origin_ids]
    ends = origin_ids | {str(r.record_id) for r, _ in dests}
    for r, _city in moves:
        if str(r.record_id) not in ends:
            ledger.drop(EVENTS_DATASET, str(r.record_id), "relocation within a city: changes no count", r.country,
                        f"{r.us_city}, {r.us_state}", int(r.year))
    paired = set()
    for o, oc in origins:
        cands = [(d, dc) for d, dc in dests if d.country == o.country and abs(int(d.year) - int(o.year)) <= 1
                 and d.record_id not in paired]
        if not cands:
            continue
        d, dc = min(cands, key=lambda x: (abs(int(x[0].year) - int(o.year)), str(x[0].record_id)))
        paired |= {o.record_id, d.record_id}
        if oc == dc:
            for r in (o, d):
                ledger.drop(EVENTS_DATASET, str(r.record_id), "relocation between cities of one metro: changes no count",
                            r.country, f"{r.us_city}, {r.us_state}", int(r.year))
            continue
        best = min((o, d), key=lambda r: (bool(r.is_planned), int(r.year),
                                          13 if pd.isna(r.month) else int(r.month)))
        year, month = int(best.year), best.month
        for r, c, out in ((o, oc, True), (d, dc, False)):
            typ = _type(r.post_type)
            site(r.country, c, str(r.us_city)).events.append(_Obs(
                year, (1, 13 if pd.isna(month) else int(month), str(r.record_id)),
                typ if out else 0, 0 if out else typ, "event", str(r.record_id),
                f"{r.country} {r.us_city} moved {'out' if out else 'in'} {_when(year, month)}"))
        notes.append(f"{o.country} moved its post from {o.us_city} to {d.us_city}: dated {_when(year, month)} by "
                     f"{best.record_id}" + ("" if int(o.year) == int(d.year) else
                                             f" (rows {o.record_id} {int(o.year)}, {d.record_id} {int(d.year)})"))
    for r, c in origins + dests:
        if r.record_id not in paired:   # an unpaired end: a closure at the origin or an opening at the destination
            out = str(r.record_id) in origin_ids
            typ = _type(r.post_type)
            site(r.country, c, str(r.us_city)).events.append(_Obs(
                int(r.year), (1, 13 if pd.isna(r.month) else int(r.month), str(r.record_id)),
                typ if out else 0, 0 if out else typ, "event", str(r.record_id),
                f"{r.country} {r.us_city} moved {'out' if out else 'in'} {_when(r.year, r.month)}"))

    planned = []
    for r, c in others:
        ev_type = str(r.event)
        if ev_type in ("opened", "reopened"):
            before, after = 0, _type(r.post_type_after)
        elif ev_type == "closed":
            before, after = _type(r.post_type_before), 0
        else:   # upgraded, downgraded: present before and after
            before, after = _type(r.post_type_before), _type(r.post_type_after)
        site(r.country, c, str(r.us_city)).events.append(_Obs(
            int(r.year), (1, 13 if pd.isna(r.month) else int(r.month), str(r.record_id)), before, after, "event",
            str(r.record_id), f"{r.country} {r.us_city} {ev_type} {_when(r.year, r.month)}"))
        if bool(r.is_planned):
            planned.append(f"{r.record_id} ({r.country} {r.us_city} {ev_type} {int(r.year)})")
    if planned:
        notes.append(f"planned dates used as the event date (no confirmed alternative): {', '.join(sorted(planned))}")


def _fill_omissions(s: _Site, notes: list[str]) -> None:
    for (v, country, city), evidence in LOWY_OMISSIONS.items():
        if country != s.country or normalize(city) != normalize(s.city):
            continue
        ob = s.snapshots.get(v)
        if ob is None or ob.before != 0:   # not covered that vintage, or listed after all
            continue
        later = [o for w, o in sorted(s.snapshots.items()) if w > v and o.kind == "snapshot" and o.before]
        if not later:
            continue
        state = later[0].before
        s.snapshots[v] = _Obs(v, (0,), state, state, "omission", "", f"{country} {city}")
        notes.append(f"the {v} snapshot omits {country} {s.city} ({s.cbsa}), listed in {later[0].year}: "
                     f"treated as present in {v} ({evidence})")


def _overrides(s: _Site, notes: list[str]) -> dict[int, str]:
    """Vintages whose snapshot presence contradicts the governing dated event -> event id."""
    if not s.events:
        return {}
    events = sorted(s.events, key=lambda o: (o.year, o.order))
    snaps = sorted(s.snapshots.items())
    out = {}
    for v, ob in snaps:
        present = ob.before > 0
        back = [e for e in events if e.year <= v]
        fwd = [e for e in events if e.year > v]
        claims = []
        if back:
            e = back[-1]
            confirmed = any(e.year <= w < v and (o.before > 0) == (e.after > 0) for w, o in snaps)
            if not confirmed:
                claims.append((e.after > 0, e))
        if fwd:
            f = fwd[0]
            confirmed = any(v < w < f.year and (o.before > 0) == (f.before > 0) for w, o in snaps)
            if not confirmed:
                claims.append((f.before > 0, f))
        if claims and all(present != claim for claim, _ in claims):
            e = claims[0][1]
            out[v] = e.ref
            what = "lists" if present else "omits"
            notes.append(f"the {v} snapshot {what} {s.country} {s.city} ({s.cbsa}), but event {e.ref} says "
                         f"{e.text}: event wins ({'absent' if present else 'present'} in {v})")
        if len(claims) == 2 and claims[0][0] != claims[1][0]:
            notes.append(f"events {claims[0][1].ref} and {claims[1][1].ref} of {s.country} {s.city} disagree about "
                         f"{v}; the earlier event governs")
    return out


def _state(obs: list[_Obs], t: int, snap_years: set, last_vintage: int | None) -> tuple[int, str]:
    """State of a site in year t and the basis of that state."""
    if not obs:
        return 0, ""
    prior = [o for o in obs if o.year <= t]
    if prior:
        o = prior[-1]
        if o.kind == "event":
            same = [p for p in prior if p.kind == "snapshot" and p.year == o.year and p.after == o.after]
            if not same:
                return o.after, "event"
            o = same[-1]   # a snapshot of the event's year agrees: the state is the snapshot's
        if o.year == t:
            return o.after, "snapshot" if t in snap_years else "carried back"
        return o.after, "carried forward" if last_vintage is not None and t > last_vintage else "between snapshots"
    o = obs[0]
    return o.before, "event" if o.kind == "event" else "carried back"


_PRIORITY = {b: i for i, b in enumerate(("snapshot", "event", "between snapshots", "carried forward",
                                         "carried back"))}


def _posts(site_years: pd.DataFrame) -> pd.DataFrame:
    """Site-years -> posts (country, metro, year): CG if any site is one; the most direct basis."""
    cols = ["sending_country", "cbsa_code", "year", "is_consulate_general", "basis"]
    if site_years.empty:
        return pd.DataFrame({c: pd.Series(dtype=t) for c, t in zip(
            cols, ["string", "string", "int64", "bool", "string"])})
    sy = site_years.assign(p=site_years["basis"].map(_PRIORITY))
    sy = sy.sort_values(["cbsa_code", "year", "sending_country", "p"], kind="stable")
    out = sy.groupby(["cbsa_code", "year", "sending_country"], sort=True).agg(
        is_consulate_general=("is_consulate_general", "any"), basis=("basis", "first")).reset_index()
    out = out[cols].astype({"sending_country": "string", "cbsa_code": "string", "year": "int64",
                            "is_consulate_general": "bool", "basis": "string"})
    return out.reset_index(drop=True)


def _fill_label(t: int, vintages: list[int]) -> str:
    if not vintages:
        return "none"
    if t in vintages:
        return "snapshot"
    if t < vintages[0]:
        return "carried back"
    if t > vintages[-1]:
        return "carried forward"
    return "between snapshots"


def _metro_year(posts: pd.DataFrame, codes: list[str], years: list[int], vintages: list[int],
                fill: str) -> pd.DataFrame:
    grid = pd.DataFrame([(c, t) for c in codes for t in years], columns=["cbsa_code", "year"])
    counts = posts.groupby(["cbsa_code", "year"], as_index=False).agg(
        consular_posts=("sending_country", "size"), consulates_general=("is_consulate_general", "sum"))
    counts = counts.astype({"cbsa_code": object, "year": "int64"})
    out = grid.merge(counts, on=["cbsa_code", "year"], how="left")
    out[["consular_posts", "consulates_general"]] = out[["consular_posts", "consulates_general"]].fillna(0).astype(
        "float64")
    out["cbsa_code"] = out["cbsa_code"].astype("string")
    out["year"] = out["year"].astype("int64")
    labels = {t: _fill_label(t, vintages) for t in years}
    if fill == "snapshots_only":
        labels = {t: ("snapshot" if t in vintages else "none") for t in years}
    elif fill == "editions_only":
        labels = {t: ("none" if label == "carried back" else label) for t, label in labels.items()}
    if fill != "carry":   # no value where the rule gives none
        off = out["year"].map(labels).eq("none")
        out.loc[off, ["consular_posts", "consulates_general"]] = np.nan
    out["consulate_fill"] = out["year"].map(labels).astype("string")
    return out[["cbsa_code", "year", "consular_posts", "consulates_general", "consulate_fill"]]
