"""Match place records (city, state[, coordinates]) to CBSAs of one delineation vintage.

Rules, tried in order (the method is recorded for every record):

1. ``principal_city``: the name is a Census principal city (List 2) in that state;
2. ``alias``: the alias table names the principal city (or county) the name stands for;
3. ``county``: the name is a county (or parish, borough, independent city) in List 1;
4. ``zip_county``: the ZIP-code gazetteer puts the city in a county of List 1;
5. ``nearest_zip``: (records with coordinates only) the nearest ZIP code's county.

A record without a state gets one first: from its coordinates (nearest GeoNames place of
that name within :data:`MAX_STATE_DISTANCE_KM`), else the only U.S. place of that name,
else the most populous one (a homonym choice, stated in ``match_note``). A record with
coordinates whose name places nothing falls back to ``nearest_zip``: the county of the
nearest ZIP-code centroid within :data:`MAX_ZIP_DISTANCE_KM`. Records that match nothing
keep ``cbsa_code`` empty and get a ``match_reason``; none is dropped.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np
import pandas as pd

from citydip.geo import gazetteer
from citydip.geo.delineations import Delineation
from citydip.geo.names import aliases, normalize, variants
from citydip.geo.states import FIPS_TO_USPS, NAME_TO_USPS, USPS_TO_FIPS

MAX_STATE_DISTANCE_KM = 50.0
MAX_ZIP_DISTANCE_KM = 10.0
_COUNTY_WORDS = (" county", " parish", " borough", " municipality", " city and borough", " census area")

MATCH_COLUMNS = ["matched_state", "cbsa_code", "cbsa_title", "area_type", "match_method", "match_note",
                 "match_reason"]


@dataclass(frozen=True)
class Match:
    state: str = ""
    cbsa_code: str = ""
    method: str = ""
    note: str = ""
    reason: str = ""   #: why unmatched ('' when matched)


@dataclass
class MatchResult:
    """Input records with match columns appended, and summaries of the outcome."""

    records: pd.DataFrame
    dataset: str

    @property
    def matched(self) -> pd.Series:
        return self.records["cbsa_code"].ne("")

    @property
    def rate(self) -> float:
        return float(self.matched.mean()) if len(self.records) else float("nan")

    def report(self, id_columns: list[str]) -> pd.DataFrame:
        """Unmatched records: ``dataset``, identifying columns, ``reason``."""
        miss = self.records.loc[~self.matched, id_columns + ["match_reason"]].copy()
        miss.insert(0, "dataset", self.dataset)
        return miss.rename(columns={"match_reason": "reason"}).reset_index(drop=True)

    def summary(self) -> str:
        n, k = len(self.records), int(self.matched.sum())
        methods = self.records.loc[self.matched, "match_method"].value_counts().to_dict()
        return f"{self.dataset}: {k}/{n} matched ({k / n:.1%}); by method {methods}" if n else f"{self.dataset}: no records"


class PlaceMatcher:
    """Matches places to the CBSAs of one :class:`Delineation`."""

    def __init__(self, delineation: Delineation) -> None:
        self.delineation = delineation
        self._cache: dict[tuple, Match] = {}

    # -- indexes -----------------------------------------------------------------------------
    @cached_property
    def _cities(self) -> dict[tuple[str, str], tuple[str, str]]:
        index: dict[tuple[str, str], tuple[str, str]] = {}
        for row in self.delineation.cities.itertuples(index=False):
            state = FIPS_TO_USPS.get(row.state_fips, "")
            for key in variants(row.principal_city):
                index.setdefault((key, state), (row.cbsa_code, row.principal_city))
        return index

    @cached_property
    def _counties(self) -> dict[tuple[str, str], tuple[str, str]]:
        """(normalised county name, state) -> (county_fips, cbsa_code)."""
        index = {}
        for row in self.delineation.counties.itertuples(index=False):
            state = FIPS_TO_USPS.get(row.state_fips, "")
            index[(normalize(row.county_name), state)] = (row.county_fips, row.cbsa_code)
        return index

    @cached_property
    def _county_by_fips(self) -> dict[str, str]:
        return dict(zip(self.delineation.counties.county_fips, self.delineation.counties.cbsa_code))

    @cached_property
    def _aliases(self) -> dict[tuple[str, str], pd.Series]:
        return {(r.key, r.state): r for r in aliases().itertuples(index=False)}

    @cached_property
    def _places_by_key(self) -> gazetteer.Slices:
        return gazetteer.named_places_index()

    @cached_property
    def _city_states_by_key(self) -> dict[str, set[str]]:
        out: dict[str, set[str]] = {}
        for key, state in self._cities:
            out.setdefault(key, set()).add(state)
        return out

    @cached_property
    def _alias_states_by_key(self) -> dict[str, set[str]]:
        out: dict[str, set[str]] = {}
        for key, state in self._aliases:
            out.setdefault(key, set()).add(state)
        return out

    @cached_property
    def _zips_by_key_state(self) -> gazetteer.Slices:
        return gazetteer.zip_counties_index()

    @cached_property
    def _cbsa_info(self) -> pd.DataFrame:
        return self.delineation.cbsas.set_index("cbsa_code")

    # -- matching ------------------------------------------------------------------------------
    def match(self, frame: pd.DataFrame, *, city: str, state: str | None = None, lat: str | None = None,
              lng: str | None = None, dataset: str = "records") -> MatchResult:
        """Match every row of ``frame``; returns a copy with :data:`MATCH_COLUMNS` appended."""
        out = frame.copy()
        results = []
        for i in range(len(frame)):
            c = frame[city].iloc[i]
            s = frame[state].iloc[i] if state else ""
            la = frame[lat].iloc[i] if lat else np.nan
            ln = frame[lng].iloc[i] if lng else np.nan
            results.append(self.match_one(c, s, la, ln))
        info = self._cbsa_info
        codes = [r.cbsa_code for r in results]
        out["matched_state"] = pd.array([r.state for r in results], dtype="string")
        out["cbsa_code"] = pd.array(codes, dtype="string")
        out["cbsa_title"] = pd.array([info.cbsa_title.get(c, "") if c else "" for c in codes], dtype="string")
        out["area_type"] = pd.array([info.area_type.get(c, "") if c else "" for c in codes], dtype="string")
        out["match_method"] = pd.array([r.method for r in results], dtype="string")
        out["match_note"] = pd.array([r.note for r in results], dtype="string")
        out["match_reason"] = pd.array([r.reason for r in results], dtype="string")
        return MatchResult(out, dataset)

    def match_one(self, city: object, state: object = "", lat: float = np.nan, lng: float = np.nan) -> Match:
        key = (_text(city), _text(state), _num(lat), _num(lng))
        if key not in self._cache:
            self._cache[key] = self._match_one(*key)
        return self._cache[key]

    def _match_one(self, city: str, state: str, lat: float, lng: float) -> Match:
        name = normalize(city)
        if not name:
            return Match(reason="no place name")
        state = _usps(state)
        note = ""
        if state is None:
            return Match(reason="state is not a U.S. state, DC or Puerto Rico code")
        has_coordinates = np.isfinite(lat) and np.isfinite(lng)
        if state == "":
            state, note = self.resolve_state(name, lat, lng)
            if not state:
                if has_coordinates:
                    return self._fallback(note, lat, lng)
                return Match(reason=note)
        found = self._by_name(name, state)
        if found is None:
            reason = "not a principal city, alias, county, or ZIP-code city of this state"
            return self._fallback(reason, lat, lng) if has_coordinates else Match(state=state, reason=reason)
        code, method, how = found
        note = "; ".join(x for x in (note, how) if x)
        if code == "":
            return Match(state=state, method=method, note=note,
                         reason="place lies in a county outside every CBSA of this delineation")
        return Match(state=state, cbsa_code=code, method=method, note=note)

    def _fallback(self, why: str, lat: float, lng: float) -> Match:
        """The name failed; place the record by its coordinates, keeping the name's problem in the note."""
        m = self.by_coordinates(lat, lng)
        return Match(m.state, m.cbsa_code, m.method, f"{why}; {m.note}" if m.note else why,
                     f"{why}; {m.reason}" if m.reason else "")

    def _by_name(self, name: str, state: str) -> tuple[str, str, str] | None:
        hit = self._cities.get((name, state))
        if hit:
            return hit[0], "principal_city", ""
        alias = self._aliases.get((name, state))
        if alias is not None:
            if alias.canonical:
                for key in variants(alias.canonical):
                    hit = self._cities.get((key, state))
                    if hit:
                        return hit[0], "alias", f"alias of {hit[1]}"
            if alias.county_fips:
                return self._county_by_fips.get(alias.county_fips, ""), "alias", f"alias in county {alias.county_fips}"
        county = self._counties.get((name, state))
        if county is None and not name.endswith(_COUNTY_WORDS):
            county = self._counties.get((name + " county", state))
            county = county if county and name.endswith(" county") else None
        if county is not None:
            return county[1], "county", f"county {county[0]}"
        rows = self._zips_by_key_state.get((name, state))
        if rows is None:
            return None
        cbsas = []
        for county_name in rows.county_name:
            hit = self._counties.get((normalize(county_name), state))
            if hit:
                cbsas.append(hit[1])
        if not cbsas:
            return "", "zip_county", f"ZIP codes in {', '.join(rows.county_name)}"
        distinct = list(dict.fromkeys(cbsas))
        how = f"ZIP codes in {rows.county_name.iloc[0]}"
        if len(distinct) > 1:
            how += f"; ZIP codes also in CBSAs {', '.join(distinct[1:])}"
        return distinct[0], "zip_county", how

    def resolve_state(self, name: str, lat: float = np.nan, lng: float = np.nan) -> tuple[str, str]:
        """Pick the state of a U.S. place named without one. Returns (state, note); state ''
        with the reason as note when no U.S. place of that name can be chosen.

        Order: coordinates (nearest place of that name within :data:`MAX_STATE_DISTANCE_KM`),
        the alias table, the only state with a place of that name, the most populous homonym.
        Coordinates farther away are reported in the note and otherwise ignored (geocoders
        confuse homonyms abroad)."""
        cands = self._places_by_key.get(name, _NO_PLACES)
        city_states = self._city_states_by_key.get(name, set())
        note = ""
        if np.isfinite(lat) and np.isfinite(lng) and not cands.empty:
            dist = gazetteer.haversine_km(lat, lng, cands.lat.to_numpy(), cands.lng.to_numpy())
            j = int(np.argmin(dist))
            if dist[j] <= MAX_STATE_DISTANCE_KM:
                return str(cands.state.iloc[j]), f"state from coordinates ({dist[j]:.0f} km from {cands.name.iloc[j]})"
            note = f"coordinates {dist[j]:.0f} km from the nearest U.S. place of this name, ignored; "
        alias_states = self._alias_states_by_key.get(name, set())
        if len(alias_states) == 1:
            return next(iter(alias_states)), note + "state from alias table"
        states = sorted(city_states | set(cands.state))
        if not states:
            return "", "no U.S. place of this name"
        if len(states) == 1:
            return states[0], note.rstrip("; ")
        known = cands.dropna(subset=["population"])
        if known.empty:
            return "", note + f"homonym in states {', '.join(states)} and no population to choose"
        best = str(known.state.iloc[0])  # sorted by population, largest first
        return best, note + f"homonym in {', '.join(states)}: chose {best}, the most populous"

    def by_coordinates(self, lat: float, lng: float) -> Match:
        """Place a record by the county of the nearest ZIP centroid within :data:`MAX_ZIP_DISTANCE_KM`."""
        zips = gazetteer.zip_codes()
        dist = gazetteer.haversine_km(lat, lng, zips.lat.to_numpy(), zips.lng.to_numpy())
        j = int(np.argmin(dist))
        if dist[j] > MAX_ZIP_DISTANCE_KM:
            return Match(reason=f"coordinates {dist[j]:.0f} km from the nearest U.S. ZIP code")
        state, county_name = str(zips.state.iloc[j]), str(zips.county_name.iloc[j])
        county = self._counties.get((normalize(county_name), state))
        note = f"nearest ZIP {zips.zip_code.iloc[j]} ({dist[j]:.1f} km) in {county_name}, {state}"
        if county is None:
            return Match(state=state, method="nearest_zip", note=note,
                         reason="place lies in a county outside every CBSA of this delineation")
        return Match(state=state, cbsa_code=county[1], method="nearest_zip", note=note)


_NO_PLACES = pd.DataFrame(columns=["key", "name", "state", "lat", "lng", "population"])


def _text(x: object) -> str:
    """'' for missing values (None, NaN, pd.NA), else the text."""
    return "" if x is None or x is pd.NA or (isinstance(x, float) and x != x) else str(x)


def _num(x: object) -> float:
    try:
        return float(x)
    except (TypeError, ValueError):
        return float("nan")


def _usps(state: str) -> str | None:
    """USPS code from a code or a full name; '' if empty; None if unknown."""
    s = str(state).strip()
    if s == "" or s.lower() in ("nan", "<na>"):
        return ""
    if s.upper() in USPS_TO_FIPS:
        return s.upper()
    return NAME_TO_USPS.get(s.title().replace(" Of ", " of "))
