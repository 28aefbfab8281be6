"""Partner countries of each sample metro: the countries of its sister-city partners and the
countries that keep a career consular post in it (the atlas's metro view, ``partners.csv``).

One row per (metro, kind, country): ``kind`` is ``"sister"`` (ties of the kinds the panel
counts, dated or not; ``count`` = distinct ties) or ``"consulate"`` (a post in any panel year
under the build's consulate options; ``count`` = years with the post); ``first_year`` and
``last_year`` are the panel years in which the tie or post is active (empty for undated ties).
"""

from __future__ import annotations

import pandas as pd

from citydip.geo.names import normalize
from citydip.panel.options import PanelOptions
from citydip.panel.sister import KINDS

COLUMNS = ["cbsa_code", "kind", "country", "count", "first_year", "last_year"]


def partner_countries(ties: pd.DataFrame, cbsa_of: pd.Series, posts: pd.DataFrame, codes: list[str],
                      options: PanelOptions) -> pd.DataFrame:
    """Partner countries by metro (see the module docstring). ``cbsa_of`` maps a tie's
    ``record_id`` to its CBSA code; ``posts`` are the consulate post-years
    (:class:`citydip.panel.consulates.ConsulateResult.posts`)."""
    years = list(options.years)
    rows = ties.assign(cbsa_code=ties.record_id.map(cbsa_of).fillna(""))
    rows = rows[rows.cbsa_code.isin(codes) & rows.partner_country.notna()]
    for kind in options.exclude_sister_kinds:
        rows = rows[~rows[KINDS[kind][0]].astype(bool)]
    rows = rows.assign(tie=rows.us_city.map(normalize) + "|" + rows.partner_city.map(normalize))
    start = rows.groupby(["cbsa_code", "partner_country", "tie"]).year_established.min()
    end = rows.groupby(["cbsa_code", "partner_country", "tie"]).year_ended.min()
    table = pd.DataFrame({"start": start.astype("float64"), "end": end.astype("float64")}).reset_index()
    table["first_year"] = table.start.clip(lower=years[0])
    table["last_year"] = (table.end - 1).clip(upper=years[-1]).fillna(years[-1]).where(table.start.notna())
    sister = table.groupby(["cbsa_code", "partner_country"]).agg(
        count=("tie", "size"), first_year=("first_year", "min"), last_year=("last_year", "max")).reset_index()
    sister = sister.rename(columns={"partner_country": "country"}).assign(kind="sister")

    held = posts[posts.cbsa_code.isin(codes) & posts.year.isin(years)]
    consulate = held.groupby(["cbsa_code", "sending_country"]).year.agg(["size", "min", "max"]).reset_index()
    consulate.columns = ["cbsa_code", "country", "count", "first_year", "last_year"]
    consulate = consulate.assign(kind="consulate")

    out = pd.concat([sister, consulate], ignore_index=True)[COLUMNS]
    out = out.astype({"cbsa_code": "string", "kind": "string", "country": "string", "count": "int64",
                      "first_year": "Int64", "last_year": "Int64"})
    return out.sort_values(["cbsa_code", "kind", "country"], kind="stable").reset_index(drop=True)


def empty() -> pd.DataFrame:
    """A partners table with no rows (the synthetic demo has no partner countries)."""
    return pd.DataFrame({c: pd.Series(dtype="string" if c in ("cbsa_code", "kind", "country") else "Int64")
                         for c in COLUMNS})
