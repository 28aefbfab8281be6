"""Sister-city measures per metro-year from the curated, dated ties.

A *tie* is a distinct (U.S. city, state, partner city, partner country) pair, names
normalised; several rows (sources) may describe one tie. Rules:

* kinds in ``options.exclude_sister_kinds`` (default: intents, planned signings,
  domestic/territory partners) are left out of every count;
* conflicting years of one tie are resolved by ``options.conflict_rule`` (earliest by
  default); the rows whose year is not used are listed in the drop report;
* a dated tie is active in year t when its year <= t and it has no end year <= t;
* undated ties enter only ``sister_ever`` (``options.undated='exclude'``), or count as
  active in every panel year (``'predate'``, a sensitivity variant);
* the partner's region comes from ``citydip/panel/regions.csv``.
"""

from __future__ import annotations

from functools import lru_cache
from importlib import resources

import numpy as np
import pandas as pd

from citydip.errors import CitydipError
from citydip.geo.names import normalize
from citydip.panel.options import PanelOptions
from citydip.panel.schema import REGIONS

DATASET = "sister_cities (curated)"

#: option name -> (flag column of the curated reader, reason shown in the drop report)
KINDS = {
    "intent": ("is_intent", "intent, approval or proposal, not a concluded tie"),
    "planned": ("is_planned", "planned signing not confirmed"),
    "friendship": ("is_friendship", "friendship city"),
    "article_date": ("year_from_article_date", "year taken from an article date"),
    "domestic": ("is_domestic_or_territory", "partner in the U.S. or a U.S. territory"),
    "former": ("is_former", "former or inactive tie"),
}


@lru_cache(maxsize=1)
def regions() -> dict[str, str]:
    """Partner country -> region (``citydip/panel/regions.csv``)."""
    with resources.files("citydip.panel").joinpath("regions.csv").open(encoding="utf-8") as fh:
        table = pd.read_csv(fh, comment="#", dtype=str, keep_default_na=False)
    return dict(zip(table.country, table.region))


def tie_table(ties: pd.DataFrame, cbsa_of: pd.Series, codes: list[str], options: PanelOptions
              ) -> tuple[pd.DataFrame, list[pd.DataFrame], list[str]]:
    """One row per sister-city tie of the sample's metros (index ``tie``): ``cbsa_code``,
    ``partner_country``, ``region``, ``start`` (the year by ``options.conflict_rule``, NaN if
    undated) and ``end`` (first year ended); the rows not used (with reasons) and notes.

    ``cbsa_of`` maps ``record_id`` to the March-2020 CBSA code ('' when unmatched, with the
    reason in the place-match report).
    """
    rows = ties.assign(cbsa_code=ties.record_id.map(cbsa_of).fillna(""))
    dropped, notes = [], []

    def drop(mask: pd.Series, reason) -> None:
        part = rows.loc[mask, ["record_id"]].assign(dataset=DATASET)
        part["reason"] = reason if isinstance(reason, str) else reason[mask].to_numpy()
        dropped.append(part)

    unmatched = rows.cbsa_code.eq("")
    drop(unmatched, "no CBSA match (see the place-match report)")
    outside = ~unmatched & ~rows.cbsa_code.isin(codes)
    drop(outside, "metro not in the sample")
    rows = rows[~unmatched & ~outside]
    for kind in options.exclude_sister_kinds:
        flag, reason = KINDS[kind]
        mask = rows[flag].astype(bool)
        drop(mask, f"excluded kind: {reason}")
        rows = rows[~mask]

    region_of = regions()
    unknown = sorted(set(rows.partner_country.dropna()) - set(region_of))
    if unknown:
        raise CitydipError(f"partner countries {unknown} have no region in citydip/panel/regions.csv; add them")
    rows = rows.assign(tie=rows.cbsa_code + "|" + rows.us_city.map(normalize) + "|" + rows.us_state + "|"
                       + rows.partner_city.map(normalize) + "|" + rows.partner_country.map(normalize),
                       region=rows.partner_country.map(region_of))
    # One year per tie.
    dated = rows.dropna(subset=["year_established"])
    pick = dated.groupby("tie").year_established.agg("min" if options.conflict_rule == "earliest" else "max")
    n_conflicts = int((dated.groupby("tie").year_established.nunique() > 1).sum())
    losing = dated.year_established.ne(dated.tie.map(pick))
    drop_reason = ("year not used: conflicting years resolved by rule '" + options.conflict_rule
                   + "' (tie counted from " + dated.tie.map(pick).astype(str) + ")")
    dropped.append(pd.DataFrame({"record_id": dated.record_id[losing], "dataset": DATASET,
                                 "reason": drop_reason[losing]}))
    notes.append(f"{n_conflicts} ties have conflicting years; rule '{options.conflict_rule}' applied")
    ended = rows.groupby("tie").year_ended.min()
    table = rows.groupby("tie").agg(cbsa_code=("cbsa_code", "first"), partner_country=("partner_country", "first"),
                                    region=("region", "first")).join(pick.rename("start")).join(ended.rename("end"))
    table = table.astype({"start": "float64", "end": "float64"})
    return table, dropped, notes


def sister_measures(ties: pd.DataFrame, cbsa_of: pd.Series, codes: list[str], options: PanelOptions
                    ) -> tuple[pd.DataFrame, pd.DataFrame, list[str]]:
    """Metro-year sister-city measures, the rows not used (with reasons), and notes (the ties:
    :func:`tie_table`)."""
    years = list(options.years)
    table, dropped, notes = tie_table(ties, cbsa_of, codes, options)
    n_undated = int(table.start.isna().sum())
    notes.append(f"{len(table)} ties in the sample, {len(table) - n_undated} dated, {n_undated} undated "
                 f"(undated rule '{options.undated}')")
    if options.undated == "predate":
        table["start"] = table.start.fillna(years[0] - 1)

    start = table.start.to_numpy(dtype="float64", na_value=np.nan)
    end = table.end.to_numpy(dtype="float64", na_value=np.nan)
    out = []
    for year in years:
        active = (start <= year) & ~(end <= year)
        new = start == year
        frame = pd.DataFrame({"cbsa_code": table.cbsa_code.to_numpy(), "region": table.region.to_numpy(),
                              "active": active, "new": new})
        g = frame.groupby("cbsa_code")
        counts = pd.DataFrame({"sister_active": g.active.sum(), "sister_new": g.new.sum()})
        by_region = frame[frame.active].groupby(["cbsa_code", "region"]).size().unstack(fill_value=0)
        for region in REGIONS:
            counts[f"sister_active_{region}"] = by_region[region] if region in by_region else 0
        counts["year"] = year
        out.append(counts)
    measures = pd.concat(out).reset_index()
    grid = pd.MultiIndex.from_product([sorted(codes), years], names=["cbsa_code", "year"]).to_frame(index=False)
    measures = grid.merge(measures, how="left", on=["cbsa_code", "year"])
    count_cols = [c for c in measures.columns if c.startswith("sister_")]
    measures[count_cols] = measures[count_cols].fillna(0).astype("int64")
    ever = table.groupby("cbsa_code").size()
    measures["sister_ever"] = measures.cbsa_code.map(ever).fillna(0).astype("int64")
    measures["sister_any"] = measures.sister_active > 0
    report = pd.concat(dropped, ignore_index=True)[["dataset", "record_id", "reason"]]
    return measures, report, notes
