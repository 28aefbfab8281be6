"""Partner countries of each sample metro: the countries of its sister-city partners and the
countries that keep a career consular post in it (the atlas's metro view, ``partners.csv``).

One row per (metro, kind, country): ``kind`` is ``"sister"`` (the panel's ties,
:func:`citydip.panel.sister.tie_table`, dated or not; ``count`` = distinct ties) or
``"consulate"`` (a post in any panel year under the build's consulate options; ``count`` =
years with the post); ``first_year`` and
``last_year`` are the panel years in which the tie or post is active (empty for undated ties).
"""

from __future__ import annotations

import pandas as pd

from citydip.panel import sister
from citydip.panel.options import PanelOptions

COLUMNS = ["cbsa_code", "kind", "country", "count", "first_year", "last_year"]


def partner_countries(ties: pd.DataFrame, cbsa_of: pd.Series, posts: pd.DataFrame, codes: list[str],
                      options: PanelOptions) -> pd.DataFrame:
    """Partner countries by metro (see the module docstring). ``cbsa_of`` maps a tie's
    ``record_id`` to its CBSA code; ``posts`` are the consulate post-years
    (:class:`citydip.panel.consulates.ConsulateResult.posts`)."""
    years = list(options.years)
    table = sister.tie_table(ties, cbsa_of, codes, options)[0]
    table = table[table.partner_country.notna()].reset_index()
    table["first_year"] = table.start.clip(lower=years[0])
    table["last_year"] = (table.end - 1).clip(upper=years[-1]).fillna(years[-1]).where(table.start.notna())
    sister_rows = table.groupby(["cbsa_code", "partner_country"]).agg(
        count=("tie", "size"), first_year=("first_year", "min"), last_year=("last_year", "max")).reset_index()
    sister_rows = sister_rows.rename(columns={"partner_country": "country"}).assign(kind="sister")

    held = posts[posts.cbsa_code.isin(codes) & posts.year.isin(years)]
    consulate = held.groupby(["cbsa_code", "sending_country"]).year.agg(["size", "min", "max"]).reset_index()
    consulate.columns = ["cbsa_code", "country", "count", "first_year", "last_year"]
    consulate = consulate.assign(kind="consulate")

    out = pd.concat([sister_rows, consulate], ignore_index=True)[COLUMNS]
    out = out.astype({"cbsa_code": "string", "kind": "string", "country": "string", "count": "int64",
                      "first_year": "Int64", "last_year": "Int64"})
    return out.sort_values(["cbsa_code", "kind", "country"], kind="stable").reset_index(drop=True)


def empty() -> pd.DataFrame:
    """A partners table with no rows (the synthetic demo has no partner countries)."""
    return pd.DataFrame({c: pd.Series(dtype="string" if c in ("cbsa_code", "kind", "country") else "Int64")
                         for c in COLUMNS})
