"""Controls from BEA on fixed March-2020 boundaries, and the U.S. GDP deflator."""

from __future__ import annotations

import numpy as np
import pandas as pd

from citydip.errors import OptionError

NATION_FIPS = "00000"


def metro_controls(income: pd.DataFrame, gdp: pd.DataFrame, codes: list[str], years: range) -> pd.DataFrame:
    """Population, income and GDP per metro-year (NaN where BEA has no value for the year)."""
    inc = income.loc[income.geo_fips.isin(codes), ["geo_fips", "year", "population_persons",
                                                   "personal_income_thousands_usd", "per_capita_income_usd"]]
    out = gdp.loc[gdp.geo_fips.isin(codes), ["geo_fips", "year", "real_gdp_thousands_chained2017_usd",
                                             "gdp_thousands_current_usd"]]
    grid = pd.MultiIndex.from_product([sorted(codes), list(years)], names=["geo_fips", "year"]).to_frame(index=False)
    frame = grid.merge(inc, how="left", on=["geo_fips", "year"]).merge(out, how="left", on=["geo_fips", "year"])
    frame = frame.rename(columns={"geo_fips": "cbsa_code", "real_gdp_thousands_chained2017_usd": "real_gdp_thousands_usd",
                                  "gdp_thousands_current_usd": "gdp_thousands_usd"})
    with np.errstate(divide="ignore", invalid="ignore"):
        frame["log_population"] = np.log(frame.population_persons)
        frame["log_real_gdp"] = np.log(frame.real_gdp_thousands_usd)
        frame["log_per_capita_income"] = np.log(frame.per_capita_income_usd)
    return frame


def gdp_deflator(all_areas_gdp: pd.DataFrame, years: range, base_year: int) -> pd.Series:
    """U.S. GDP implicit price deflator by year (base_year = 100), from BEA's U.S. row:
    100 * current-dollar GDP / real GDP (chained 2017 dollars), rebased to ``base_year``."""
    us = all_areas_gdp[all_areas_gdp.geo_fips == NATION_FIPS].set_index("year")
    if us.empty:
        raise OptionError("the BEA CAGDP1 all-areas file has no U.S. row (GeoFIPS 00000) for the deflator")
    deflator = 100.0 * us.gdp_thousands_current_usd / us.real_gdp_thousands_chained2017_usd
    if base_year not in deflator.index:
        raise OptionError(f"deflator base year {base_year} is outside the BEA years "
                          f"{int(deflator.index.min())}-{int(deflator.index.max())}")
    deflator = 100.0 * deflator / deflator.loc[base_year]
    return deflator.reindex(list(years)).rename("gdp_deflator")
