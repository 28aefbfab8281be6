"""CDP–ICLEI participation per metro-year, 2016–2021: the panel's fourth diplomacy measure.

Each year cities report to the CDP–ICLEI unified reporting system (CDP and ICLEI – Local
Governments for Sustainability, an international city network); one file per reporting
year lists the organisations that responded (:mod:`citydip.sources.cdp`). A metro
participates in year t when at least one of its local governments is in that year's list.
Unlike the network snapshots this turns on and off by year, but it exists only for the six
reporting years: every measure is missing (<NA>, not zero) outside 2016–2021.

Rows and places. The U.S. rows of the six files are matched to March-2020 CBSAs by the place
matcher (:mod:`citydip.geo.report`: name and state, else the state the account gives in
another year, else the coordinates); a row counts for the metro its place lies in. The unit
counted is the CDP account (``account_number``, stable across years): a city, town, county
or city-county government; one account counts once per year (the reader rejects an account
listed twice in one year).

Decisions (each an option of :class:`~citydip.panel.options.PanelOptions`, default first):

* ``cdp_inventory``: ``all`` counts every row of the year's list, whatever its answer to the
  inventory question: responding is participation, and the file lists the respondents
  (among the U.S. rows, 30 of 2019 give no inventory answer, others say "in progress",
  "intending", "not intending" or "no"); ``disclosed`` counts only rows that disclosed a
  city-wide inventory (``has_inventory``), the strict alternative (variant
  ``cdp-disclosed-only``). Rows not counted under ``disclosed`` are in the drop report.
* ``cdp_regional``: four reporting organisations are regional bodies, not cities
  (:data:`REGIONAL_BODIES`); the matcher finds no city of their name. ``exclude`` (default,
  conservative) leaves them out: they are listed in the drop report with the metro they
  represent; ``attribute`` counts each as one more reporting account of that metro
  (variant ``cdp-regional-bodies``). In the published files each of the four metros
  (Washington, Minneapolis-St. Paul, Chicago, Kansas City) also has a reporting city in the
  years its regional body reports (2020, 2021), so attribution raises
  ``cdp_cities_reporting`` by one there and leaves ``cdp_any`` and ``cdp_ever`` unchanged.

Measures (all ``Int64``; <NA> outside 2016–2021, 0 in 2016–2021 where no account reports):

* ``cdp_cities_reporting``: distinct accounts of the metro in the year's list (under the
  options above);
* ``cdp_any``: 1 if ``cdp_cities_reporting`` > 0, else 0;
* ``cdp_ever``: 1 if the metro had a reporting account in any year from 2016 to t (the
  time-varying "ever reported" as of t; it never falls back to 0);
* ``cdp_ever_2016_2021``: 1 if the metro had a reporting account in any of the six years
  (time-invariant within 2016–2021; uses 2016–2021 even when the panel's years end earlier).

Rows not used, with their reasons (:func:`cdp_measures`' report, stage "panel" of
``match_report.csv``): regional bodies under ``exclude``; rows without a CBSA (the place-match
stage of the report gives the matcher's reason); rows without a disclosed inventory under
``disclosed``; rows whose metro is not in the sample.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from citydip.errors import CitydipError
from citydip.panel.options import PanelOptions
from citydip.sources import cdp

#: Panel-stage dataset name in the drop report.
DATASET = "cdp_cities U.S. rows"
#: Reporting years with a file: the measures exist for these years only.
YEARS = tuple(cdp.YEARS)
#: Place-match dataset of each reporting year (as in :data:`citydip.geo.report.PLACE_SOURCES`).
PLACE_DATASETS = {y: f"{DATASET} {y}" for y in YEARS}
#: Measure columns, in schema order.
COLUMNS = ("cdp_cities_reporting", "cdp_any", "cdp_ever", "cdp_ever_2016_2021")
#: The CDP measure the analyses use as the fourth diplomacy measure (notebooks 07 and 08): the
#: metro's participation in the year. The count of reporting governments grows with how many
#: municipalities a metro has (2019: from 0 to 12; 74 of the 100 largest metros have 0 or 1).
MEASURE = "cdp_any"

#: Regional bodies reporting to CDP: account -> (organisation as published, CBSA it represents,
#: what it is). Not cities: left out by default (``options.cdp_regional``).
REGIONAL_BODIES: dict[int, tuple[str, str, str]] = {
    63762: ("Metropolitan Washington Council of Governments (COG)", "47900",
            "council of governments of the District of Columbia, suburban Maryland and Northern Virginia"),
    848568: ("Metropolitan Council, Twin Cities", "33460",
             "regional planning agency of the seven-county Minneapolis-St. Paul area"),
    848565: ("Chicago Metropolitan Mayors Caucus", "16980",
             "association of the mayors of the Chicago region"),
    848567: ("Mid-America Regional Council", "28140",
             "council of governments of the Kansas City region (Missouri and Kansas)"),
}


def record_ids(rows: pd.DataFrame) -> pd.Series:
    """The place-match record id of each CDP row: "<year> row <row> (account <number>)"
    (as :mod:`citydip.geo.report` names them)."""
    return (rows["reporting_year"].astype(str) + " row " + rows["source_row"].astype(str) + " (account "
            + rows["account_number"].astype(str) + ")")


def matched_codes(place_results: Mapping[str, pd.Series]) -> pd.Series:
    """record id -> CBSA code ('' if unmatched) of every CDP row, from the place-match results
    by dataset (``PanelInputs.cbsa_of``)."""
    parts = [place_results[PLACE_DATASETS[y]] for y in YEARS if PLACE_DATASETS[y] in place_results]
    return pd.concat(parts) if parts else pd.Series(dtype="string")


def _regional_reason(account: int, options: PanelOptions, titles: Mapping[str, str]) -> str:
    _name, code, what = REGIONAL_BODIES[account]
    metro = f"{titles.get(code, code)} ({code})" if titles else code
    return (f"regional body, not a city ({what}); it represents {metro}: not counted "
            f"(options.cdp_regional='{options.cdp_regional}'; 'attribute' counts it for that metro)")


def cdp_measures(rows: pd.DataFrame, cbsa_of: pd.Series, codes: list[str], options: PanelOptions,
                 titles: Mapping[str, str] | None = None) -> tuple[pd.DataFrame, pd.DataFrame, list[str]]:
    """Metro-year CDP measures (``cbsa_code``, ``year``, :data:`COLUMNS`) for ``codes`` and the
    panel's years, the U.S. rows not used (dataset, record_id, reason) and notes.

    ``rows``: :func:`citydip.sources.cdp.read_all` (all rows; the U.S. ones are used);
    ``cbsa_of``: place-match record id -> March-2020 CBSA code ('' if unmatched), from
    :func:`matched_codes`; ``titles``: CBSA code -> title (for the report's wording)."""
    titles = titles or {}
    us = rows[rows["in_united_states"].astype(bool)].copy()
    us["record_id"] = record_ids(us).to_numpy()
    absent = ~us["record_id"].isin(cbsa_of.index)
    if absent.any():
        raise CitydipError(f"{int(absent.sum())} U.S. CDP rows have no place-match record (e.g. "
                           f"{us.record_id[absent].iloc[0]!r}): the CDP place matches were not made from these rows")
    us["cbsa_code"] = us["record_id"].map(cbsa_of).fillna("").astype(str).to_numpy()
    regional = us["account_number"].isin(list(REGIONAL_BODIES)) & us["cbsa_code"].eq("")
    if options.cdp_regional == "attribute":
        us.loc[regional, "cbsa_code"] = us.loc[regional, "account_number"].map(
            lambda a: REGIONAL_BODIES[int(a)][1])

    dropped = []

    def drop(mask: pd.Series, reasons) -> None:
        if mask.any():
            reason = reasons if isinstance(reasons, str) else reasons(us[mask])
            dropped.append(pd.DataFrame({"dataset": DATASET, "record_id": us["record_id"][mask], "reason": reason}))

    unused = pd.Series(False, index=us.index)
    if options.cdp_regional == "exclude":
        drop(regional, lambda part: [_regional_reason(int(a), options, titles) for a in part["account_number"]])
        unused |= regional
    unmatched = us["cbsa_code"].eq("") & ~unused
    drop(unmatched, "no CBSA match (see the place-match report)")
    unused |= unmatched
    if options.cdp_inventory == "disclosed":
        strict = ~us["has_inventory"].astype(bool) & ~unused
        drop(strict, lambda part: [f"inventory status '{s}', not a disclosed city-wide inventory: not counted "
                                   f"(options.cdp_inventory='disclosed')" for s in part["inventory_status"]])
        unused |= strict
    outside = ~unused & ~us["cbsa_code"].isin(codes)
    drop(outside, "metro not in the sample")
    unused |= outside
    kept = us[~unused]

    # -- counts over all CDP years (ever-measures use years before t even when the panel starts later)
    counts = kept.groupby(["cbsa_code", "reporting_year"])["account_number"].nunique()
    full = pd.MultiIndex.from_product([sorted(codes), list(YEARS)], names=["cbsa_code", "year"])
    counts.index.names = ["cbsa_code", "year"]
    n = counts.reindex(full, fill_value=0).astype("int64")
    wide = n.unstack("year")
    ever_t = (wide > 0).cummax(axis=1).astype("int64").stack()
    ever_all = (wide > 0).any(axis=1).astype("int64")

    years = list(options.years)
    grid = pd.MultiIndex.from_product([sorted(codes), years], names=["cbsa_code", "year"])
    out = grid.to_frame(index=False)
    observed = out["year"].isin(YEARS).to_numpy()

    def column(values: pd.Series) -> pd.array:
        got = values.reindex(grid).to_numpy(dtype="float64", na_value=np.nan)
        return pd.array(np.where(observed, got, np.nan), dtype="Float64").astype("Int64")

    out["cdp_cities_reporting"] = column(n)
    out["cdp_any"] = column((n > 0).astype("int64"))
    out["cdp_ever"] = column(ever_t)
    out["cdp_ever_2016_2021"] = column(pd.Series(ever_all.reindex(grid.get_level_values("cbsa_code")).to_numpy(),
                                                 index=grid))
    report = (pd.concat(dropped, ignore_index=True) if dropped
              else pd.DataFrame(columns=["dataset", "record_id", "reason"]))
    return out, report, _notes(us, kept, regional, wide, options)


def _notes(us: pd.DataFrame, kept: pd.DataFrame, regional: pd.Series, wide: pd.DataFrame,
           options: PanelOptions) -> list[str]:
    by_year = wide.gt(0).sum().to_dict()
    n_regional = int(regional.sum())
    accounts = sorted({int(a) for a in us.loc[regional, "account_number"]})
    status = us.inventory_status.astype(str)
    not_disclosed = status.ne("disclosed")
    return [
        f"U.S. rows {len(us)} in {us.reporting_year.nunique()} reporting years ({', '.join(map(str, YEARS))}); "
        f"measures missing (<NA>) outside these years",
        f"rows counted {len(kept)} (accounts {kept.account_number.nunique()}); sample metros with a reporting "
        f"account by year: {', '.join(f'{y} {v}' for y, v in by_year.items())}",
        f"inventory rule '{options.cdp_inventory}': {int(not_disclosed.sum())} U.S. rows without a disclosed "
        f"inventory ({', '.join(f'{k} {v}' for k, v in status[not_disclosed].value_counts().sort_index().items())}; "
        f"2019 'not stated' {int((not_disclosed & status.eq('not stated') & us.reporting_year.eq(2019)).sum())}) "
        + ("count as reporting: they are in the year's list of respondents"
           if options.cdp_inventory == "all" else "are not counted"),
        f"regional-body rule '{options.cdp_regional}': {n_regional} rows of {len(accounts)} regional bodies "
        f"({', '.join(REGIONAL_BODIES[a][0] + ' -> ' + REGIONAL_BODIES[a][1] for a in accounts)}) "
        + ("not counted (not cities; listed in the drop report with the metro each represents)"
           if options.cdp_regional == "exclude"
           else "each counted as one reporting account of the metro it represents"),
    ]
