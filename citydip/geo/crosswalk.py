"""Map CBSA titles and codes across delineation vintages.

ITA names every export row by its July-2023 CBSA title, without a code; BEA and the
panel use March-2020 codes. :func:`titles_to_codes` finds each title in a delineation
list (2023 first, then older vintages for older titles), then carries the code to the
target vintage by **county overlap** (the same code if it keeps any of the counties, else
the target CBSA holding most of the source CBSA's counties), not by name: Cleveland, OH (2023 code 17410) is Cleveland-Elyria (2020 code
17460); Kiryas Joel-Poughkeepsie-Newburgh (2023) is Poughkeepsie-Newburgh-Middletown
(39100). Connecticut's 2023 planning regions share no codes with its counties, so CT
titles fall back to principal-city overlap. Titles of MSAs that no longer exist (Dec-2009
MSAs such as Anderson, SC, absorbed in 2013) are placed by their first-named city.
"""

from __future__ import annotations

from collections.abc import Iterable

import pandas as pd

from citydip.geo.delineations import Delineation, city_overlap, county_overlap
from citydip.geo.match import PlaceMatcher
from citydip.geo.names import normalize

CROSSWALK_COLUMNS = ["title", "title_vintage", "source_code", "cbsa_code", "cbsa_title", "method",
                     "share_of_source", "share_of_target", "note", "match_reason"]

#: Order in which vintages are searched for a title.
TITLE_SEARCH_ORDER = ("2023", "2020", "2018", "2013")


def titles_to_codes(titles: Iterable[str], delineations: dict[str, Delineation], *, target: str = "2020",
                    aggregate_prefix: str = "Z-") -> pd.DataFrame:
    """One row per distinct title with the target-vintage CBSA code and how it was found.

    Unmatched titles keep ``cbsa_code`` '' and a ``match_reason``.
    """
    goal = delineations[target]
    matcher = PlaceMatcher(goal)
    order = [v for v in TITLE_SEARCH_ORDER if v in delineations]
    by_title = {v: {normalize(t): c for c, t in zip(d.cbsas.cbsa_code, d.cbsas.cbsa_title)}
                for v, d in delineations.items()}
    overlaps = {v: _ranked(county_overlap(delineations[v], goal), goal) for v in order if v != target}
    city_links = {v: _ranked(city_overlap(delineations[v], goal), goal) for v in order if v != target}
    rows = []
    for title in dict.fromkeys(titles):
        row = dict.fromkeys(CROSSWALK_COLUMNS, "")
        row.update(title=title, share_of_source=float("nan"), share_of_target=float("nan"))
        if title.startswith(aggregate_prefix):
            row["match_reason"] = "catch-all row (not a metro area)"
            rows.append(row)
            continue
        key = normalize(title)
        vintage = next((v for v in order if key in by_title[v]), None)
        if vintage is None:
            _first_city(row, title, matcher, "title not found in any delineation list")
            rows.append(row)
            continue
        code = by_title[vintage][key]
        row.update(title_vintage=vintage, source_code=code)
        if vintage == target:
            row.update(cbsa_code=code, method="title", share_of_source=1.0, share_of_target=1.0)
        else:
            _carry(row, code, overlaps[vintage], city_links[vintage], goal)
            if row["match_reason"]:
                _first_city(row, title, matcher, row["match_reason"])
        rows.append(row)
    for row in rows:
        row["cbsa_title"] = goal.titles.get(row["cbsa_code"], "")
    return pd.DataFrame(rows, columns=CROSSWALK_COLUMNS).astype(
        {c: "string" for c in CROSSWALK_COLUMNS if not c.startswith("share")})


def _ranked(overlap: pd.DataFrame, goal: Delineation) -> dict[str, pd.DataFrame]:
    """Candidates per source code, best first: the same code if it shares any unit (OMB keeps a
    code for a continuing area), then most shared units, then the larger share of the target,
    then metro before micro, then the lower code (a deterministic tie-break)."""
    if "share_of_target" not in overlap:
        overlap = overlap.assign(share_of_target=float("nan"))
    overlap = overlap.assign(same_code=overlap.target_code.eq(overlap.cbsa_code),
                             metro=overlap.target_code.isin(list(goal.metro_codes))).sort_values(
        ["cbsa_code", "same_code", "shared", "share_of_target", "metro", "target_code"],
        ascending=[True, False, False, False, False, True], kind="stable")
    return {code: group for code, group in overlap.groupby("cbsa_code", sort=False)}


def _carry(row: dict, code: str, overlap: dict[str, pd.DataFrame], cities: dict[str, pd.DataFrame],
           goal: Delineation) -> None:
    """Fill ``row`` with the target CBSA that holds most of ``code``'s counties."""
    cand = overlap.get(code)
    if cand is not None:
        best = cand.iloc[0]
        row.update(cbsa_code=best.target_code, method="county_overlap",
                   share_of_source=float(best.share_of_source), share_of_target=float(best.share_of_target))
        if len(cand) > 1:
            others = ", ".join(f"{t} ({s} counties)" for t, s in zip(cand.target_code.iloc[1:], cand.shared.iloc[1:]))
            row["note"] = f"counties also in {others}"
        return
    linked = cities.get(code)
    if linked is not None:
        row.update(cbsa_code=linked.target_code.iloc[0], method="principal_city_overlap",
                   note=f"{int(linked.shared.iloc[0])} principal cities in common (no county codes in common)")
        return
    row["match_reason"] = "no county or principal city in common with any target CBSA"


def _first_city(row: dict, title: str, matcher: PlaceMatcher, why: str) -> None:
    """Place a title by its first-named city and first state ('Anderson, SC' -> Greenville)."""
    city, _, states = title.partition(",")
    match = matcher.match_one(city.split("-")[0].strip(), states.strip().split("-")[0])
    if match.cbsa_code:
        row.update(cbsa_code=match.cbsa_code, method="title_city", match_reason="",
                   note=f"{why}; placed by its first-named city ({match.method}{': ' + match.note if match.note else ''})")
    else:
        row["match_reason"] = f"{why}; first-named city not placed either ({match.reason})"
