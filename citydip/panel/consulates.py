"""Foreign career consular posts per metro-year: Lowy snapshots combined with dated events.

Inputs: the Lowy Global Diplomacy Index post lists (vintages 2016, 2017 and 2019, stacked
as :func:`citydip.sources.lowy.read_vintage` returns them, all posts of every sending
country) and the curated consulate events (:func:`citydip.sources.curated.load_consulate_events`).

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

**Country names.** Lowy and the events spell some countries differently ('Russian
Federation' / 'Russia'); both are mapped to one harmonised name by :data:`COUNTRY_NAMES`.

**Coverage** (``options.consulate_countries``). ``common``: only sending countries present
in every Lowy vintage given (the 42 G20/OECD countries of 2016), a coverage that is the
same in every year. ``all``: every country of every vintage; a country first covered in
2017 (the Asian additions) or 2019 is carried back from its first vintage like any other
post, so its earlier years are an extrapolation. Events of countries outside the coverage
are not used (most Latin American countries are never covered by Lowy).

**Timing convention.** Counts are the state at the end of the year: a post counts in the
year it opens (or reopens, or moves in) and not in the year it closes (or moves out); an
upgrade or downgrade changes the consulate-general status from its own year. Months are
missing for a third of the events, so only the year is used. A Lowy vintage is read as the
state of its year.

**Fill rule** (``options.consulate_fill='carry'``). Each site's state in year t is taken
from the latest observation at or before t (a snapshot, or the state after a dated event),
else from the earliest one after t (a snapshot's state, or the state before an event). So:

* years between snapshots take the earlier snapshot's posts adjusted by the dated events;
* years after the last snapshot carry it forward adjusted by the dated events;
* years before the first snapshot carry it back, except that a post whose opening is dated
  after t is absent in t, and a post closed by a dated event before the first snapshot is
  present before its closing year although absent from the snapshot;
* a change that no event dates is placed at the first snapshot that shows it (a post listed
  in 2016 but not in 2017 counts until 2016; a post with a dated opening that is missing
  from a later snapshot counts until the year before that snapshot).

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

**snapshots_only.** Only the snapshot years (2016, 2017, 2019) have values, equal to the
``carry`` values of those years (so stale listings are still corrected); other years are
NaN with ``consulate_fill`` 'none'.

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

    frame = lowy.assign(country=lowy["sending_country"].map(harmonise_country))
    vintages = sorted(int(v) for v in frame["vintage"].unique())
    by_vintage = {v: set(frame.loc[frame["vintage"].eq(v), "country"]) for v in vintages}
    if options.consulate_countries == "common":
        covered = set.intersection(*by_vintage.values()) if vintages else set()
    else:
        covered = set.union(*by_vintage.values()) if vintages else set()
    covered.discard(UNITED_STATES)
    coverage = {c: [v for v in vintages if c in by_vintage[v]] for c in covered}
    notes.append(_coverage_note(options.consulate_countries, covered, by_vintage, vintages))

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
        v, country, city = int(row.vintage), row.country, str(row.post_city)
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
    undated = []
    last_vintage = vintages[-1] if vintages else None
    for key in sorted(sites):
        s = sites[key]
        obs = sorted(list(s.snapshots.values()) + s.events, key=lambda o: (o.year, o.order))
        in_time = sorted(obs, key=lambda o: (o.year, o.kind != "event", o.order))   # end-of-year snapshots
        for prev, nxt in pairwise(in_time):
            if (prev.after > 0) != (nxt.before > 0):
                what = "appears" if nxt.before else "disappears"
                undated.append(f"{s.country} {s.city} ({s.cbsa}) {what} in {nxt.year}")
        snap_years = {v for v, o in s.snapshots.items() if o.kind == "snapshot"}
        for t in years:
            state, basis = _state(obs, t, snap_years, last_vintage)
            if state:
                rows.append((s.country, s.cbsa, t, state == 2, basis))
    if undated:
        notes.append("changes no event dates, placed at the first snapshot that shows them: " + "; ".join(undated))
    site_years = pd.DataFrame(rows, columns=["sending_country", "cbsa_code", "year", "is_consulate_general", "basis"])
    posts = _posts(site_years)
    snapshot_years = [v for v in vintages if v in years]
    if options.consulate_fill == "snapshots_only":
        posts = posts[posts["year"].isin(snapshot_years)].reset_index(drop=True)
    metro_year = _metro_year(posts, codes, years, vintages, options.consulate_fill)

    used = pd.DataFrame(ledger.used, columns=["dataset", "record_id"]).drop_duplicates()
    used = used.sort_values(["dataset", "record_id"], kind="stable").reset_index(drop=True)
    dropped = pd.DataFrame(ledger.dropped, columns=["dataset", "record_id", "reason", "sending_country", "city",
                                                    "year"])
    dropped = dropped.sort_values(["dataset", "record_id"], kind="stable").reset_index(drop=True)
    reasons = dropped.assign(r=dropped["reason"].str.replace(r"\s*[(:].*$", "", regex=True)).groupby("r").size()
    notes.append("rows not used: " + "; ".join(f"{k}: {n}" for k, n in reasons.items()) if len(reasons)
                 else "rows not used: none")
    return ConsulateResult(posts, metro_year, dropped, notes, used)


def _coverage_note(rule: str, covered: set, by_vintage: dict, vintages: list) -> str:
    every = set.intersection(*by_vintage.values()) - {UNITED_STATES} if vintages else set()
    text = f"coverage '{rule}': {len(covered)} sending countries"
    if rule == "common":
        left = sorted(set.union(*by_vintage.values()) - every - {UNITED_STATES}) if vintages else []
        text += f" present in every Lowy vintage {vintages}; {len(left)} countries of only some vintages left out"
        if left:
            text += f" ({', '.join(left)})"
    else:
        later = sorted(covered - every)
        text += (f"; {len(later)} covered only from a later vintage are carried back from their first vintage"
                 + (f" ({', '.join(later)})" if later else ""))
    return text


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
        off = ~out["year"].isin(vintages)
        out.loc[off, ["consular_posts", "consulates_general"]] = np.nan
    out["consulate_fill"] = out["year"].map(labels).astype("string")
    return out[["cbsa_code", "year", "consular_posts", "consulates_general", "consulate_fill"]]
