"""Metro exports on March-2020 CBSAs, with the delineation each year's value follows.

ITA names rows by title and reports each year on the delineation in force that year.
Every ITA row is mapped to a March-2020 CBSA by :func:`citydip.geo.titles_to_codes`
(county overlap); a metro-year's exports are the sum of its rows' values for that year
(NaN if none has a value; never filled). Summing reunites areas that ITA reports
separately in some years (e.g. Anderson, SC with Greenville before 2013; Kenosha with
Chicago in 2023).

``exports_boundary`` compares the county set of the panel's CBSA with the CBSA(s) that
held those counties in the delineation of the year: 'same', 'differs', or 'unverified'
(no list for the vintage: 2005-2012 use Dec-2009 definitions, not available, unless a
dissolved MSA is merged in, which makes them 'differs').
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from citydip.config import ITA_YEAR_VINTAGE
from citydip.geo.delineations import Delineation
from citydip.panel.options import PanelOptions

DATASET = "ita exports 2005-2023"


def metro_exports(ita: pd.DataFrame, crosswalk: pd.DataFrame, delineations: dict[str, Delineation],
                  codes: list[str], options: PanelOptions) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Exports per sample metro-year, and the ITA rows not used (with reasons)."""
    years = list(options.years)
    mapped = ita.merge(crosswalk[["title", "cbsa_code", "method"]], left_on="msa_title", right_on="title", how="left")
    used = mapped[mapped.cbsa_code.isin(codes) & mapped.year.isin(years)]
    sums = used.groupby(["cbsa_code", "year"]).agg(exports_usd=("exports_usd", lambda s: s.sum(min_count=1)),
                                                    exports_n_rows=("exports_usd", "count"))
    grid = pd.MultiIndex.from_product([sorted(codes), years], names=["cbsa_code", "year"])
    frame = sums.reindex(grid).reset_index()
    frame["exports_n_rows"] = frame.exports_n_rows.fillna(0).astype("int64")
    frame["exports_missing"] = frame.exports_usd.isna()
    # Metros into which ITA rows of dissolved pre-2013 MSAs (placed by their first city) flow.
    pre2013 = [y for y, v in ITA_YEAR_VINTAGE.items() if v == "pre-2013"]
    dissolved = set(mapped.loc[mapped.method.eq("title_city") & mapped.year.isin(pre2013)
                               & mapped.exports_usd.notna(), "cbsa_code"])
    frame["exports_boundary"] = _boundaries(frame, dissolved, delineations, options)
    frame["exports_boundary_break"] = frame.exports_boundary.eq("differs")
    dropped = _dropped(mapped, codes, years)
    if options.boundary == "drop":
        cut = frame.exports_boundary_break & ~frame.exports_missing
        dropped = pd.concat([dropped, pd.DataFrame({
            "dataset": DATASET, "record_id": frame.loc[cut, "cbsa_code"] + " " + frame.loc[cut, "year"].astype(str),
            "reason": "export value on a different delineation (options.boundary='drop')"})], ignore_index=True)
        frame.loc[cut, "exports_usd"] = float("nan")
        frame.loc[cut, "exports_missing"] = True
    return frame, dropped


def _dropped(mapped: pd.DataFrame, codes: list[str], years: list[int]) -> pd.DataFrame:
    """One line per ITA row (title) whose values are not used, with why."""
    titles = mapped.assign(used=mapped.exports_usd.notna() & mapped.year.isin(years)).groupby(
        "msa_title", sort=True).agg(code=("cbsa_code", "first"), used=("used", "any"))  # one code per title
    unmatched = titles.code.isna() | titles.code.eq("")
    outside = ~unmatched & ~titles.code.isin(codes)
    empty = ~unmatched & ~outside & ~titles.used
    reason = np.select([unmatched, outside, empty],
                       ["no March-2020 CBSA (catch-all row or unmatched title; see the place-match report)",
                        "CBSA " + titles.code.fillna("").astype(str) + " is not in the sample",
                        "no values in the panel years"], default="")
    out = pd.DataFrame({"dataset": DATASET, "record_id": titles.index.to_numpy(), "reason": reason})
    return out[out.reason != ""].reset_index(drop=True)


def _boundaries(frame: pd.DataFrame, dissolved: set[str], delineations: dict[str, Delineation],
                options: PanelOptions) -> list[str]:
    lookups = {v: _county_lookup(d) for v, d in delineations.items()}
    counties = lookups[options.vintage][1]
    cache: dict[tuple[str, str], str] = {}
    out = []
    for code, year in zip(frame.cbsa_code, frame.year):
        vintage = ITA_YEAR_VINTAGE.get(int(year))
        key = (code, vintage)
        if key not in cache:
            cache[key] = _status(code, vintage, counties.get(code, frozenset()), lookups, dissolved, options)
        out.append(cache[key])
    return out


def _county_lookup(delineation: Delineation) -> tuple[dict[str, str], dict[str, frozenset]]:
    """(county FIPS -> CBSA code, CBSA code -> its counties) of one delineation."""
    counties = delineation.counties
    return (dict(zip(counties.county_fips, counties.cbsa_code)),
            counties.groupby("cbsa_code").county_fips.agg(frozenset).to_dict())


def _status(code: str, vintage: str | None, counties: frozenset, lookups: dict, dissolved: set[str],
            options: PanelOptions) -> str:
    """'same' if the metro had exactly the same counties in the delineation of ``vintage``,
    'differs' if not, 'unverified' if that cannot be checked here."""
    if vintage == options.vintage or (vintage == "2018" and "2018" not in lookups):
        return "same"
    if vintage is None or vintage not in lookups:
        return "differs" if code in dissolved else "unverified"
    cbsa_of, counties_of = lookups[vintage]
    holders = {cbsa_of[c] for c in counties if c in cbsa_of}
    if sum(c in cbsa_of for c in counties) < len(counties):
        return "unverified"  # counties not in that list (e.g. Connecticut planning regions in 2023)
    if len(holders) != 1:
        return "differs"
    return "same" if counties_of[holders.pop()] == counties else "differs"
