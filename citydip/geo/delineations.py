"""Delineation vintages: the county and principal-city lists that define CBSAs in a year.

``load(data_dir)`` returns one :class:`Delineation` per vintage found:
'2013' (List 1 Feb 2013 with List 2 Jul 2015), '2018' (Sep 2018 derived lists),
'2020' (Mar 2020) and '2023' (Jul 2023).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property, lru_cache
from pathlib import Path

import pandas as pd

from citydip.config import CURATED_DIR
from citydip.sources import registry

#: vintage -> (List 1 source key, List 2 source key)
VINTAGE_SOURCES = {
    "2013": ("census_list1_2013", "census_list2_2015"),
    "2018": ("census_list1_2018_derived", "census_list2_2018_modified"),
    "2020": ("census_list1_2020", "census_list2_2020"),
    "2023": ("census_list1_2023", "census_list2_2023"),
}


@dataclass(frozen=True)
class Delineation:
    """Counties (List 1) and principal cities (List 2) of one vintage."""

    vintage: str
    counties: pd.DataFrame
    cities: pd.DataFrame

    @cached_property
    def cbsas(self) -> pd.DataFrame:
        """One row per CBSA: code, title, metro/micro."""
        return (self.counties[["cbsa_code", "cbsa_title", "area_type"]].drop_duplicates("cbsa_code")
                .sort_values("cbsa_code").reset_index(drop=True))

    @cached_property
    def titles(self) -> dict[str, str]:
        """CBSA code -> title."""
        return dict(zip(self.cbsas.cbsa_code, self.cbsas.cbsa_title))

    @cached_property
    def metro_codes(self) -> frozenset[str]:
        return frozenset(self.cbsas.loc[self.cbsas.area_type == "metro", "cbsa_code"])


def load(data_dir: Path, vintages: tuple[str, ...] = ("2013", "2018", "2020", "2023")) -> dict[str, Delineation]:
    """Read the delineation lists of the requested vintages from the data directory."""
    return {v: _load_one(Path(data_dir).resolve(), v) for v in vintages}


@lru_cache(maxsize=16)
def _load_one(data_dir: Path, vintage: str) -> Delineation:
    list1, list2 = (registry.get(k) for k in VINTAGE_SOURCES[vintage])
    return Delineation(vintage, list1.reader(list1.path(data_dir, CURATED_DIR)),
                       list2.reader(list2.path(data_dir, CURATED_DIR)))


def county_overlap(source: Delineation, target: Delineation) -> pd.DataFrame:
    """For every CBSA of ``source``, the ``target`` CBSAs sharing counties with it.

    Columns: ``cbsa_code`` (source), ``target_code``, ``shared`` (counties in both),
    ``source_counties``, ``target_counties``, ``share_of_source``, ``share_of_target``.
    Counties are compared by 5-digit FIPS code; Connecticut's 2023 planning regions share
    no codes with its counties, so CT metros need :func:`city_overlap`.
    """
    a = source.counties[["cbsa_code", "county_fips"]]
    b = target.counties[["cbsa_code", "county_fips"]].rename(columns={"cbsa_code": "target_code"})
    pairs = a.merge(b, on="county_fips").groupby(["cbsa_code", "target_code"], as_index=False).size()
    pairs = pairs.rename(columns={"size": "shared"})
    pairs["source_counties"] = pairs.cbsa_code.map(a.groupby("cbsa_code").size())
    pairs["target_counties"] = pairs.target_code.map(b.groupby("target_code").size())
    pairs["share_of_source"] = pairs.shared / pairs.source_counties
    pairs["share_of_target"] = pairs.shared / pairs.target_counties
    return pairs


def city_overlap(source: Delineation, target: Delineation) -> pd.DataFrame:
    """Like :func:`county_overlap`, by principal-city place GEOIDs."""
    a = source.cities[["cbsa_code", "place_geoid"]]
    b = target.cities[["cbsa_code", "place_geoid"]].rename(columns={"cbsa_code": "target_code"})
    pairs = a.merge(b, on="place_geoid").groupby(["cbsa_code", "target_code"], as_index=False).size()
    return pairs.rename(columns={"size": "shared"})
