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
    rows = []
    for title, group in mapped.groupby("msa_title", sort=True):
        code = group.cbsa_code.iloc[0]
        with_values = group.dropna(subset=["exports_usd"])
        if pd.isna(code) or code == "":
            reason = "no March-2020 CBSA (catch-all row or unmatched title; see the place-match report)"
        elif code not in codes:
            reason = f"CBSA {code} is not in the sample"
        elif not with_values.year.isin(years).any():
            reason = "no values in the panel years"
        else:
            continue
        rows.append({"dataset": DATASET, "record_id": title, "reason": reason})
    return pd.DataFrame(rows, columns=["dataset", "record_id", "reason"])


def _boundaries(frame: pd.DataFrame, dissolved: set[str], delineations: dict[str, Delineation],
                options: PanelOptions) -> list[str]:
    target = delineations[options.vintage]
    counties = target.counties.groupby("cbsa_code").county_fips.agg(frozenset)
    cache: dict[tuple[str, str], str] = {}
    out = []
    for code, year in zip(frame.cbsa_code, frame.year):
        vintage = ITA_YEAR_VINTAGE.get(int(year))
        key = (code, vintage)
        if key not in cache:
            cache[key] = _status(code, vintage, counties.get(code, frozenset()), delineations, dissolved, options)
        out.append(cache[key])
    return out


def _status(code: str, vintage: str | None, counties: frozenset, delineations: dict[str, Delineation],
            dissolved: set[str], options: PanelOptions) -> str:
    if vintage == options.vintage or (vintage == "2018" and "2018" not in delineations):
        return "same"
    if vintage is None or vintage not in delineations:
        return "differs" if code in dissolved else "unverified"
    other = delineations[vintage].counties
    holders = other[other.county_fips.isin(counties)]
    if len(holders) < len(counties):
        return "unverified"  # counties not in that list (e.g. Connecticut planning regions in 2023)
    if holders.cbsa_code.nunique() != 1:
        return "differs"
    holder = holders.cbsa_code.iloc[0]
    return "same" if frozenset(other.loc[other.cbsa_code == holder, "county_fips"]) == counties else "differs"
