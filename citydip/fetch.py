"""``citydip fetch``: download the published files that have stable official URLs, and say how
to obtain the others.

Everything fetch knows about a source is one row of :data:`SOURCES` (URL, target folder and
file, accepted sha256 hashes, archive members). Rows with a ``url`` are downloaded; rows
without one are printed as manual steps by :func:`manual_instructions`.

Checksums
    * Pinned rows (``sha256`` not empty) must match one of the listed hashes, whether the file
      is downloaded or already present. A download that matches none of them is rejected and
      nothing on disk changes.
    * Unpinned rows (BEA zips, which change with every release, and files whose official
      bytes are not known in advance) are recorded on first download in the fetch registry
      ``<data dir>/.citydip_fetch.json``; later downloads must match the recorded hash.
      A difference means the publisher released a new version (or the download is corrupt);
      ``refresh=True`` (``citydip fetch --refresh``) downloads again and records the new hash.

Files already present and matching are not downloaded again. Archives are kept in
``<data dir>/.citydip_cache/`` so that a deleted member can be restored without the network.
"""

from __future__ import annotations

import fnmatch
import hashlib
import json
import logging
import os
import sys
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from urllib.parse import quote, urlsplit

from citydip import __version__
from citydip.config import CURATED_DIR
from citydip.errors import CitydipError, OptionError

#: Registry of recorded hashes, inside the data directory.
REGISTRY_NAME = ".citydip_fetch.json"
#: Download cache (archives are kept here after extraction), inside the data directory.
CACHE_DIR_NAME = ".citydip_cache"
#: Seconds to wait for the server before giving up on a download.
TIMEOUT = 120
USER_AGENT = f"citydip/{__version__} (python-requests)"

#: FetchResult.status values.
DOWNLOADED, PRESENT, FAILED = "downloaded", "present", "failed"
STATUS_LABELS = {DOWNLOADED: "downloaded", PRESENT: "already present", FAILED: "FAILED"}


class FetchError(CitydipError):
    """A download could not be completed or verified (the message says what to do)."""


@dataclass(frozen=True)
class Source:
    """One file of the data directory and how to obtain it.

    ``url`` set: ``citydip fetch`` downloads it. ``url`` None: manual steps are printed from
    ``repo``/``commit``/``repo_path`` (a public copy at a fixed commit) and ``original``.
    """

    key: str
    folder: str                        #: folder under the data directory
    filename: str                      #: file name in ``folder`` (archives: name in the cache)
    title: str
    url: str | None = None             #: stable official URL
    sha256: tuple[str, ...] = ()       #: accepted hashes; empty: recorded on first download
    members: tuple[str, ...] = ()      #: archive members to extract (patterns, each must match)
    optional_members: tuple[str, ...] = ()  #: extracted when present
    original: str = ""                 #: the publisher's page
    repo: str = ""                     #: manual: GitHub repository holding a copy
    commit: str = ""                   #: manual: commit of that copy
    repo_path: str = ""                #: manual: path of the file in that repository
    curated: bool = False              #: ships with citydip in ``data/curated`` (``filename`` there)
    note: str = ""

    @property
    def downloadable(self) -> bool:
        return self.url is not None

    @property
    def is_archive(self) -> bool:
        return bool(self.members)


_CENSUS_DELINEATIONS = ("https://www2.census.gov/programs-surveys/metro-micro/geographies/"
                        "reference-files")
_CENSUS_POPEST = "https://www2.census.gov/programs-surveys/popest/datasets"
_DELINEATIONS_PAGE = ("https://www.census.gov/geographies/reference-files/time-series/demo/metro-micro/"
                      "delineation-files.html")
_POPEST_PAGE = "https://www.census.gov/programs-surveys/popest/data/tables.html"
_BEA_PAGE = "https://apps.bea.gov/regional/downloadzip.cfm"
_ITA_PAGE = "https://www.trade.gov/data-visualization/metropolitan-export-map"
_LOWY_PAGE = "https://globaldiplomacyindex.lowyinstitute.org/"
_LOWY_REPO, _LOWY_COMMIT = "antoniosfiala/UCL_CASA_GIS", "812f31ab88b1659e1abc5cf24c49f7fb366ba4a8"
_LOWY_PATH = "R_Notebook/Final/Data/Raw_data/"
_ITA_REPO = "joshevanbarker/Machine_Learning_with_MSA_Exports_DTSC_691_Final_Project"
_ITA_COMMIT = "0598c4432c9ccae61419cb21baf2405030a640e9"
_HEKMAN = "Hekman/twincities"
_URSINO = "albertoursino/graphs-comparison"
_CLIMACTOR, _CLIMACTOR_COMMIT = "datadrivenenvirolab/ClimActor", "ea05cc92f048289195824c9abc329df7ca496b3f"
_CLIMACTOR_PAGE = ("https://doi.org/10.15139/S3/GGWVVQ (Hsu et al. 2020, Scientific Data 7, 374; "
                   "non-commercial use, cite)")
_BROOKINGS = "fansi-sifan/metro-datasets"
_METRO_MONITOR_COMMIT = "1c3c9160847e187a2cb423e2fc22328b7d6657bd"
_EXPORT_MONITOR_COMMIT = "966893f5ce6e9d5e073c6b4d7a223822b1d5b620"
_RLEUVEN, _RLEUVEN_COMMIT = "andrewvanleuven/rleuven", "64038a8e1c3f64af666dae29476d154ad5c90974"

# -- THE SOURCE TABLE ---------------------------------------------------------------------------
# Census list hashes. Each pinned list accepts the bytes of the reference copy that citydip's
# readers were checked against and, where it differs, the bytes served at the URL today
# (as pinned by other public projects that download these files, e.g. list1_2023.xlsx:
# 143,798 bytes, Last-Modified 4 Aug 2023). Lists with no known official hash are unpinned.
# File names: the Census server uses lower-case names (list1.xls, list2.xls) for 2013 and 2015.
SOURCES: tuple[Source, ...] = (
    # BEA Regional Economic Accounts: one zip per table, re-issued with every release (member
    # names carry the last year, e.g. CAINC1_MSA_1969_2023.csv), so unpinned.
    Source("bea_cainc1", "bea_regional", "CAINC1.zip",
           "BEA CAINC1: personal income, population, per capita income by MSA and county",
           url="https://apps.bea.gov/regional/zip/CAINC1.zip",
           members=("CAINC1_MSA_1969_*.csv", "CAINC1__ALL_AREAS_1969_*.csv"),
           optional_members=("CAINC1__Footnotes.html", "CAINC1__definition.xml"), original=_BEA_PAGE),
    Source("bea_cagdp1", "bea_regional", "CAGDP1.zip",
           "BEA CAGDP1: GDP summary by MSA and county",
           url="https://apps.bea.gov/regional/zip/CAGDP1.zip",
           members=("CAGDP1_MSA_2001_*.csv", "CAGDP1__ALL_AREAS_2001_*.csv"),
           optional_members=("CAGDP1__Footnotes.html", "CAGDP1__definition.xml"), original=_BEA_PAGE),
    # Census delineation lists (list 1: county -> CBSA; list 2: principal cities -> CBSA).
    Source("census_list1_2013", "census_cbsa_delineations", "list1_2013_feb.xls",
           "Census delineation list 1, February 2013 (OMB 13-01)",
           url=f"{_CENSUS_DELINEATIONS}/2013/delineation-files/list1.xls",
           sha256=("cf211f2aec39ea685b388af5d5cac58cfb01764825b0d2dafcdbea4bb77b8e99",
                   "1bb1d7ce747bcd72fc212bda806c28bb4b17d4cec72d1388770f2b0a6d06f5c0"),
           original=_DELINEATIONS_PAGE),
    Source("census_list2_2015", "census_cbsa_delineations", "list2_2015_jul_principal_cities.xls",
           "Census delineation list 2 (principal cities), July 2015",
           # reference copy: sha256 fcc6ada02591f66cf9d5e3b9799bc234d1a22d835c395b7cd8474c59dda46b53,
           # not confirmed to be the bytes served today, so recorded on first download instead
           url=f"{_CENSUS_DELINEATIONS}/2015/delineation-files/list2.xls", original=_DELINEATIONS_PAGE),
    Source("census_list1_2020", "census_cbsa_delineations", "list1_2020_mar.xls",
           "Census delineation list 1, March 2020 (OMB 20-01)",
           url=f"{_CENSUS_DELINEATIONS}/2020/delineation-files/list1_2020.xls",
           sha256=("80da8aa19e464086c7f2282bddc69413c69682b475df6f8655ea208b416b370f",
                   "95b389487efcd818d71ba2a992e1edd43af93228e70c2a9634fd152acb345409"),
           original=_DELINEATIONS_PAGE),
    Source("census_list2_2020", "census_cbsa_delineations", "list2_2020_mar_principal_cities.xls",
           "Census delineation list 2 (principal cities), March 2020",
           url=f"{_CENSUS_DELINEATIONS}/2020/delineation-files/list2_2020.xls",
           sha256=("be3a0aa2499d032d5b8125635569b946ba15b7d71ea0776f415c93c2b77c83af",),
           original=_DELINEATIONS_PAGE),
    Source("census_list1_2023", "census_cbsa_delineations", "list1_2023_jul.xlsx",
           "Census delineation list 1, July 2023 (OMB 23-01)",
           url=f"{_CENSUS_DELINEATIONS}/2023/delineation-files/list1_2023.xlsx",
           sha256=("732fea58dff99479b7edbae037a4bffb8ea50be9c21fd70acb5f1066b7d75218",
                   "952c4b1e78acbb54e6ec9412434b7602fedacbf021736351a63c181bdb753629"),
           original=_DELINEATIONS_PAGE),
    Source("census_list2_2023", "census_cbsa_delineations", "list2_2023_jul_principal_cities.xlsx",
           "Census delineation list 2 (principal cities), July 2023",
           url=f"{_CENSUS_DELINEATIONS}/2023/delineation-files/list2_2023.xlsx",
           sha256=("c36c88a8fe0f8c935e16022d0605f5d5fed4ba3803b5e46d1c3c9c8745d25e46",
                   "1e1091de28d1ad1423cebf18e7cdb6db4fbf2204fd357bc68c24e8261dcce161"),
           original=_DELINEATIONS_PAGE),
    # Census population estimates: official bytes not known in advance, recorded on first download.
    Source("popest_cbsa_2019", "census_popest", "cbsa-est2019-alldata.csv",
           "Census PEP CBSA totals and components, Vintage 2019 (Sep-2018 delineation)",
           url=f"{_CENSUS_POPEST}/2010-2019/metro/totals/cbsa-est2019-alldata.csv", original=_POPEST_PAGE),
    Source("popest_cbsa_2020", "census_popest", "cbsa-est2020-alldata.csv",
           "Census PEP CBSA totals and components, Vintage 2020 (Mar-2020 delineation)",
           url=f"{_CENSUS_POPEST}/2010-2020/metro/totals/cbsa-est2020-alldata.csv", original=_POPEST_PAGE),
    Source("popest_cbsa_2021", "census_popest", "cbsa-est2021-alldata.csv",
           "Census PEP CBSA totals and components, Vintage 2021 (2020-census base)",
           url=f"{_CENSUS_POPEST}/2020-2021/metro/totals/cbsa-est2021-alldata.csv", original=_POPEST_PAGE),
    Source("popest_county_2009", "census_popest", "co-est2009-alldata.csv",
           "Census PEP county totals and components, Vintage 2009 (full file: population columns "
           "plus components of change)",
           url=f"{_CENSUS_POPEST}/2000-2009/counties/totals/co-est2009-alldata.csv", original=_POPEST_PAGE),
    # ---- no stable official URL: manual steps -------------------------------------------------
    Source("ita_xlsx", "ita_metro_exports_2005_2023", "ITA_MSA_Export_Series_2005_2023.xlsx",
           "ITA Metropolitan Export Series 2005-2023, all MSAs (workbook)",
           sha256=("a7c5c1be28a3ba35d015c1344e5e411cd06f8d5bfacb1095b4a5b9a6e08400c9",),
           original=f"{_ITA_PAGE} (same layout as the dashboard's Download > Crosstab export)",
           repo=_ITA_REPO, commit=_ITA_COMMIT, repo_path="data/ITA_MSA_Export_Series.xlsx"),
    Source("ita_join_table", "ita_metro_exports_2005_2023", "barker_msa_primary_city_join_table.xlsx",
           "MSA to primary city join table (hand-made, optional)",
           sha256=("cbf9df19ffddf9a0eadc1a0b7eaff0378f110a665afb65a1d904ad82753f281d",),
           repo=_ITA_REPO, commit=_ITA_COMMIT, repo_path="data/Metro_Data_Join_Table.xlsx"),
    Source("ita_csv", "ita_metro_exports", "ita_msa_exports_2012_2021.csv",
           "ITA Metropolitan Export Series 2012-2021, all MSAs (crosstab CSV, cross-check)",
           sha256=("2d6b9a6f74275f992aa57e9e619b47f467944379c310280653bb7cd3ec75397a",),
           original=f"{_ITA_PAGE} > All MSA Exports Map (2012 - 2021) > Download > Crosstab > CSV",
           repo="jasonjiajs/replication_cities_hetfirms", commit="a71fb7b02809c5330b45fcc092a2d529b5a3d2ea",
           repo_path="data/exports_ita.csv"),
    Source("lowy_2016", "lowy_gdi", "2016_LowyInstituteGlobalDiplomacyIndex-FullDataset.csv",
           "Lowy Institute Global Diplomacy Index 2016, full dataset",
           sha256=("69acd4e9fb2887eeeda09d4d8c17e0a32fc962315cb72cd478c9ab037e9e4c9c",),
           original=_LOWY_PAGE, repo=_LOWY_REPO, commit=_LOWY_COMMIT,
           repo_path=_LOWY_PATH + "2016_LowyInstituteGlobalDiplomacyIndex-FullDataset.csv"),
    Source("lowy_2017", "lowy_gdi", "2017_LowyInstituteGlobalDiplomacyIndex-FullDataset.csv",
           "Lowy Institute Global Diplomacy Index 2017, full dataset",
           sha256=("b3bd07ccd2526993a4b5c228ae75956edc75147a76f81107a08431059ca1a06e",),
           original=_LOWY_PAGE, repo=_LOWY_REPO, commit=_LOWY_COMMIT,
           repo_path=_LOWY_PATH + "2017_LowyInstituteGlobalDiplomacyIndex-FullDataset.csv"),
    Source("lowy_2019", "lowy_gdi", "2019_LowyInstituteGlobalDiplomacyIndex_FullDataset.csv",
           "Lowy Institute Global Diplomacy Index 2019, full dataset",
           sha256=("d2b4a15a9d429781c519918667f02a80f807a2c1d8f543d518d4ce53c84429eb",),
           original=_LOWY_PAGE, repo=_LOWY_REPO, commit=_LOWY_COMMIT,
           repo_path=_LOWY_PATH + "2019_LowyInstituteGlobalDiplomacyIndex_FullDataset.csv"),
    Source("wikidata_embassies", "wikidata_embassies", "database_of_embassies_2022-11-16.csv",
           "Database of embassies and consulates (from Wikidata), 2022-11-16",
           sha256=("2d02d16f16becd1ea85960234bec216e5decd539297142ebf6677d76603db10a",),
           original="Wikidata (CC0), generated by the repository's SPARQL query",
           repo="database-of-embassies/database-of-embassies", commit="b1987a62f9412564fa33c5e9193a65319bc504a3",
           repo_path="database_of_embassies.csv"),
    Source("hekman_raw", "wikipedia_twincities_hekman", "twin_cities_raw.csv",
           "Wikipedia lists of twin towns and sister cities, scraped pairs",
           sha256=("e2d2e542f319fe45ddaf588b9cf6308c7fc17dbceb3c9b16c64fabfbbe7923c1",),
           original="English Wikipedia, 'List of twin towns and sister cities in ...' (CC BY-SA 4.0)",
           repo=_HEKMAN, commit="9418ac08d0e855d62baa9ef3f09b93bc529df8e3", repo_path="twin_cities_raw.csv"),
    Source("hekman_geocoded", "wikipedia_twincities_hekman", "twin_cities_geocoded.csv",
           "Wikipedia twin cities, geocoded pairs",
           sha256=("0964bc76ba1dffa002c1c7257292bf42f1c828d2df44aab22490341a708dd60a",),
           original="English Wikipedia (CC BY-SA 4.0); geocoding by the repository author",
           repo=_HEKMAN, commit="92aa9379439bcde202881d210feeed2a3b333261", repo_path="app/public/twin_cities.csv"),
    Source("p190_gexf", "wikidata_p190_ursino", "sister_cities.gexf",
           "Wikidata P190 (twinned administrative body) graph",
           sha256=("2a38f4633a90f9fb7ce5d1d23187911b37a58e054eff1cba84996bc4f006b7e0",),
           original="Wikidata Query Service (CC0)",
           repo=_URSINO, commit="f4d641e7db4b1849df095f2bb3eae52c1bbd1286",
           repo_path="data/sister_cities_data/sister_cities.gexf"),
    Source("p190_query", "wikidata_p190_ursino", "query_bigcities_p190.csv",
           "Wikidata P190 query result, cities over 50,000",
           sha256=("50447146bd4a1b0954797bad081fae0a728ec3bdf7d99ba4cdf719e9c8728762",),
           original="Wikidata Query Service (CC0)",
           repo=_URSINO, commit="33944e0df8f45473b257f1494d7eb708d74b85e5", repo_path="query.csv"),
    Source("climactor_2020", "climactor", "subnational_contextuals_database_initcols_Sept2020.csv",
           "ClimActor subnational climate-network participation, Sept 2020",
           sha256=("0a267cae0f5db9eadfd080d8c2efebda255f16c3f7e496810ece18db3f30a3e9",),
           original=_CLIMACTOR_PAGE, repo=_CLIMACTOR, commit=_CLIMACTOR_COMMIT,
           repo_path="data-raw/Archive/subnational_contextuals_database_initcols_Sept2020.csv"),
    Source("climactor_2022", "climactor", "subnational_contextuals_database_Dec2022.csv",
           "ClimActor subnational climate-network participation, Dec 2022",
           sha256=("d5ad88d76226e093d721bdb7e229f34cefa438366e2bf023eb2f786e91e26e97",),
           original=_CLIMACTOR_PAGE, repo=_CLIMACTOR, commit=_CLIMACTOR_COMMIT,
           repo_path="data-raw/subnational_contextuals_database_Dec2022.csv"),
    Source("climactor_readme", "climactor", "ClimActor_Readme.txt",
           "ClimActor readme (licence and citation)",
           sha256=("4d5ad709f83eac50c7e2052393040a194cb1deaffed4f49fdb8437cac4985bab",),
           original=_CLIMACTOR_PAGE, repo=_CLIMACTOR, commit="6ff1dd68c834c8090b833e423c4e4a4febb4336e",
           repo_path="data-raw/ClimActor_Readme.txt"),
    Source("brookings_growth", "brookings_metro_monitor", "metro_monitor_2021_growth_values.csv",
           "Brookings Metro Monitor 2021, growth indicator values",
           sha256=("82d46ace3a547b01cf026c40e91dd39e07ee1a2405afc6092b5f5e0ca19d4c10",),
           original="https://www.brookings.edu/interactives/metro-monitor-2021",
           repo=_BROOKINGS, commit=_METRO_MONITOR_COMMIT,
           repo_path="source/metro monitor 2021/Growth Values (SC 2021.01.14).csv"),
    Source("brookings_prosperity", "brookings_metro_monitor", "metro_monitor_2021_prosperity_values.csv",
           "Brookings Metro Monitor 2021, prosperity indicator values",
           sha256=("f16096924b9111c457f6ee6806992fb38e9f1c8504af4a856a0bf22132a4dc78",),
           original="https://www.brookings.edu/interactives/metro-monitor-2021",
           repo=_BROOKINGS, commit=_METRO_MONITOR_COMMIT,
           repo_path="source/metro monitor 2021/Prosperity Values (SC 2021.01.12 ).csv"),
    Source("brookings_inclusion", "brookings_metro_monitor", "metro_monitor_2021_inclusion_values.csv",
           "Brookings Metro Monitor 2021, inclusion indicator values",
           sha256=("071003080af6c6739a06545557b0b7308d6c37efdf4dee8f5a639a4f6cfcc04d",),
           original="https://www.brookings.edu/interactives/metro-monitor-2021",
           repo=_BROOKINGS, commit=_METRO_MONITOR_COMMIT,
           repo_path="source/metro monitor 2021/Inclusion Values (SC 2021.02.13).csv"),
    Source("brookings_export_cbsa", "brookings_export_monitor", "export_monitor_2018_cbsa_2017.csv",
           "Brookings Export Monitor 2018, CBSAs, 2017",
           sha256=("042bcc54a4a18dd7bb78485efe899a438ffeedece047b98ead3af00115519ce7",),
           original="https://www.brookings.edu/research/export-monitor-2018/",
           repo=_BROOKINGS, commit=_EXPORT_MONITOR_COMMIT, repo_path="export_monitor/export_monitor_cbsa.csv"),
    Source("brookings_export_county", "brookings_export_monitor", "export_monitor_2018_county_2017.csv",
           "Brookings Export Monitor 2018, counties, 2017",
           sha256=("c0fb7c697e495c6dd20f91339ce80ed99bbf0f4bfdff29f90dc2a2c76f6396d6",),
           original="https://www.brookings.edu/research/export-monitor-2018/",
           repo=_BROOKINGS, commit=_EXPORT_MONITOR_COMMIT, repo_path="export_monitor/export_monitor_county.csv"),
    Source("rleuven_counties", "census_cbsa_delineations", "rleuven_county_cbsa_2018_derived.csv",
           "County -> CBSA, September 2018 delineation (derived from the Census list 1)",
           sha256=("61911091c666ea9fd512fdb0f40ac3da04859645bdec9b63ca9b3fca8438798f",),
           original=_DELINEATIONS_PAGE, repo=_RLEUVEN, commit=_RLEUVEN_COMMIT, repo_path="data-raw/cbsa.csv"),
    Source("rleuven_cities", "census_cbsa_delineations", "rleuven_cbsa_principal_cities_2018_modified.csv",
           "Principal cities -> CBSA, September 2018 (Census list 2 plus a first-named-city flag)",
           sha256=("cd9f5aee4da6455fa11bcc13b3353444f148ba7913b498a9ff3efd4de9bc7a32",),
           original=_DELINEATIONS_PAGE, repo=_RLEUVEN, commit=_RLEUVEN_COMMIT, repo_path="data-raw/cbsa_cities.csv"),
    Source("bls_crosswalk", "census_cbsa_delineations", "bls_qcew_county_msa_csa_crosswalk.csv",
           "BLS QCEW county-MSA-CSA crosswalk (2013-based titles)",
           sha256=("1f036f13cc8ec204d84c89ac047f3777ad3f55641f125b181a07fef93f5d88b8",),
           original="https://www.bls.gov/cew/classifications/areas/county-msa-csa-crosswalk.htm",
           repo="Rahul-Tclb/msa", commit="dfa255f16d6d62904e84db351409568bc29e2c7f",
           repo_path="qcew-county-msa-csa-crosswalk-csv.csv"),
    # ---- the project's own curated dataset (ships with citydip) -------------------------------
    Source("curated_sister_cities", "sister_city_years", "sister_cities.csv",
           "Sister-city pairs with establishment years (curated, one source URL per row)", curated=True),
    Source("curated_network_memberships", "network_memberships", "network_memberships.csv",
           "City-network memberships with join years (curated)", curated=True),
    Source("curated_consulate_events", "consulate_events", "consulate_events.csv",
           "Dated consulate openings, closings, upgrades and relocations (curated)", curated=True),
)

#: The table by key.
SOURCES_BY_KEY: dict[str, Source] = {s.key: s for s in SOURCES}


@dataclass(frozen=True)
class FetchResult:
    """What happened to one row of the source table.

    ``status`` is ``"downloaded"``, ``"present"`` (already there and matching, nothing
    downloaded) or ``"failed"`` (``message`` says why and what to do). ``path`` is the file
    (for archives: the cached archive); ``files`` lists the files written or found in the
    data directory; ``sha256`` is the hash of ``path`` when known.
    """

    key: str
    path: Path
    status: str
    sha256: str | None
    message: str = ""
    url: str = ""
    files: tuple[Path, ...] = ()
    bytes: int | None = None

    @property
    def ok(self) -> bool:
        return self.status != FAILED


# -- public API ----------------------------------------------------------------------------------
def downloadable_sources(table: tuple[Source, ...] | list[Source] = SOURCES) -> list[Source]:
    return [s for s in table if s.downloadable]


def manual_sources(table: tuple[Source, ...] | list[Source] = SOURCES) -> list[Source]:
    return [s for s in table if not s.downloadable]


def resolve_url(source: Source, overrides: dict[str, str] | None = None) -> str:
    """The URL to download ``source`` from.

    ``overrides`` maps either a source key to a full URL, or a URL prefix to a replacement
    prefix (the longest matching prefix wins), e.g. ``{"https://www2.census.gov/":
    "http://127.0.0.1:8000/census/"}`` for a mirror.
    """
    if source.url is None:
        raise OptionError(f"{source.key} has no download URL; see `citydip fetch` manual steps")
    if not overrides:
        return source.url
    if source.key in overrides:
        return overrides[source.key]
    prefixes = [p for p in overrides if "://" in p and source.url.startswith(p)]
    if not prefixes:
        return source.url
    best = max(prefixes, key=len)
    return overrides[best] + source.url[len(best):]


def fetch(
    data_dir: Path,
    *,
    sources: list[str] | None = None,
    refresh: bool = False,
    progress: bool = True,
    base_url_override: dict[str, str] | None = None,
    table: tuple[Source, ...] | list[Source] | None = None,
) -> list[FetchResult]:
    """Download the sources with stable official URLs into ``data_dir``.

    ``sources`` selects rows by key or by folder name (default: every downloadable row).
    ``refresh`` downloads unpinned files again and accepts (records) new versions.
    ``progress`` shows one progress bar or line per download on stderr and prints the
    summary (:func:`format_summary`) on stdout at the end. ``base_url_override``: see
    :func:`resolve_url`. ``table`` replaces :data:`SOURCES` (for mirrors and tests).

    Download and checksum problems do not raise: they come back as ``failed`` results whose
    message names the URL and the manual alternative. Unknown source names raise
    :class:`~citydip.errors.OptionError`; an unreadable registry raises :class:`FetchError`.
    """
    data_dir = Path(data_dir)
    rows = _select(list(SOURCES if table is None else table), sources)
    data_dir.mkdir(parents=True, exist_ok=True)
    registry = _Registry(data_dir)
    results = []
    for source in rows:
        url = resolve_url(source, base_url_override)
        try:
            if source.is_archive:
                result = _fetch_archive(source, url, data_dir, registry, refresh, progress)
            else:
                result = _fetch_file(source, url, data_dir, registry, refresh, progress)
        except FetchError as exc:
            result = FetchResult(source.key, _target(source, data_dir), FAILED, None, str(exc), url)
        results.append(result)
    if progress:
        print(format_summary(results, data_dir))
    return results


def format_summary(results: list[FetchResult], data_dir: Path | None = None) -> str:
    """One line per result: key, downloaded / already present / FAILED, files or reason."""
    lines = []
    width = max((len(r.key) for r in results), default=0)
    for r in results:
        files = ", ".join(_rel(f, data_dir) for f in (r.files or (r.path,)))
        text = f"{r.key:<{width}}  {STATUS_LABELS.get(r.status, r.status):<15}  "
        if r.status == FAILED:
            text += r.message
        else:
            text += files
            if r.bytes is not None and r.status == DOWNLOADED:
                text += f" ({_human(r.bytes)})"
            if r.message:
                text += f"; {r.message}"
        lines.append(text)
    counts = {s: sum(r.status == s for r in results) for s in (DOWNLOADED, PRESENT, FAILED)}
    lines.append(f"{counts[DOWNLOADED]} downloaded, {counts[PRESENT]} already present, "
                 f"{counts[FAILED]} failed")
    return "\n".join(lines)


def manual_instructions(data_dir: Path | None = None, table: tuple[Source, ...] | list[Source] | None = None) -> str:
    """Step-by-step instructions for every source without a stable official URL.

    Paths are shown under ``data_dir`` when given, else under ``<data dir>`` (the folder of
    ``--data-dir`` / ``$CITYDIP_DATA_DIR``).
    """
    rows = manual_sources(SOURCES if table is None else table)
    root = str(data_dir) if data_dir is not None else "<data dir>"
    out = ["These sources have no stable official download address; citydip cannot fetch them.",
           f"Save each file under {root}/<folder>/ with exactly the file name given, then run "
           "`citydip validate`.", ""]
    n = 0
    for folder in dict.fromkeys(s.folder for s in rows if not s.curated):
        out.append(f"{folder}/")
        for s in (r for r in rows if r.folder == folder and not r.curated):
            n += 1
            out.append(f"  {n}. {s.filename}: {s.title}")
            if s.original:
                out.append(f"     original source: {s.original}")
            if s.repo:
                out.append(f"     public copy: GitHub {s.repo}, commit {s.commit}, file {s.repo_path}")
                out.append(f"     direct link: {_raw_github_url(s)}")
            out.append(f"     save as: {root}/{s.folder}/{s.filename}")
            if s.sha256:
                out.append(f"     check: sha256 {s.sha256[0]}")
            if s.note:
                out.append(f"     note: {s.note}")
        out.append("")
    curated = [s for s in rows if s.curated]
    if curated:
        out.append("Curated folders: nothing to download, they ship with citydip in "
                   f"{CURATED_DIR}/ (if a file is missing, reinstall citydip or check out the project again):")
        for s in curated:
            out.append(f"  {s.folder}/: {s.title} -> {CURATED_DIR / s.filename}")
        out.append("")
    return "\n".join(out).rstrip() + "\n"


# -- selection ------------------------------------------------------------------------------------
def _select(table: list[Source], names: list[str] | None) -> list[Source]:
    keys = {s.key for s in table}
    if len(keys) != len(table):
        raise OptionError("the source table has duplicate keys")
    downloadable = [s for s in table if s.downloadable]
    if names is None:
        return downloadable
    chosen: list[Source] = []
    for name in names:
        hits = [s for s in table if name in (s.key, s.folder)]
        if not hits:
            known = sorted({s.key for s in downloadable} | {s.folder for s in downloadable})
            raise OptionError(f"unknown source {name!r}; known: {', '.join(known)}")
        ready = [s for s in hits if s.downloadable]
        if not ready:
            raise OptionError(f"{name!r} has no stable official URL and cannot be fetched; "
                              "`citydip fetch` prints the manual steps for it")
        chosen += [s for s in ready if s not in chosen]
    return [s for s in table if s in chosen]


# -- one plain file -------------------------------------------------------------------------------
def _fetch_file(source: Source, url: str, data_dir: Path, registry: _Registry, refresh: bool,
                progress: bool) -> FetchResult:
    target = _target(source, data_dir)
    record = registry.get(source.key)
    recorded = record.get("sha256") if record else None
    replaced = ""
    if target.exists():
        digest = sha256_file(target)
        replaced = "replaced a local copy with a different sha256"
        if source.sha256:
            if digest in source.sha256:
                return _result(source, url, target, PRESENT, digest, (target,))
        elif recorded and digest == recorded and not refresh:
            return _result(source, url, target, PRESENT, digest, (target,))
        elif not recorded and not refresh:
            registry.put(source.key, url=url, path=target, sha256=digest, origin="local")
            return _result(source, url, target, PRESENT, digest, (target,),
                           "sha256 of the existing file recorded")
    part = _cache_path(source, data_dir).with_name(_cache_path(source, data_dir).name + ".part")
    _download(source, url, part, target, progress)
    digest = sha256_file(part)
    _verify(source, url, part, digest, recorded, refresh, registry)
    target.parent.mkdir(parents=True, exist_ok=True)
    os.replace(part, target)
    registry.put(source.key, url=url, path=target, sha256=digest, origin="download")
    message = "new version recorded" if (recorded and digest != recorded) else replaced
    return _result(source, url, target, DOWNLOADED, digest, (target,), message)


# -- one archive ----------------------------------------------------------------------------------
def _fetch_archive(source: Source, url: str, data_dir: Path, registry: _Registry, refresh: bool,
                   progress: bool) -> FetchResult:
    cache = _cache_path(source, data_dir)
    record = registry.get(source.key)
    recorded = record.get("sha256") if record else None
    if not refresh:
        members = (record or {}).get("members") or {}
        if members and all(_matches(data_dir / rel, digest) for rel, digest in members.items()):
            files = tuple(data_dir / rel for rel in members)
            return _result(source, url, cache, PRESENT, recorded, files)
        if cache.exists():
            digest = sha256_file(cache)
            if (digest in source.sha256) if source.sha256 else (digest == recorded):
                files = _extract(source, url, cache, data_dir)
                registry.put(source.key, url=url, path=cache, sha256=digest, origin="download",
                             members=_hashes(files, data_dir))
                return _result(source, url, cache, PRESENT, digest, files,
                               "extracted again from the cached archive")
        if not source.sha256 and not record:
            local = _local_members(source, data_dir)
            if local:
                registry.put(source.key, url=url, path=cache, sha256=None, origin="local",
                             members=_hashes(local, data_dir))
                return _result(source, url, cache, PRESENT, None, local,
                               "sha256 of the existing files recorded")
    part = cache.with_name(cache.name + ".part")
    _download(source, url, part, data_dir / source.folder, progress)
    digest = sha256_file(part)
    _verify(source, url, part, digest, recorded, refresh, registry)
    try:
        files = _extract(source, url, part, data_dir)
    except FetchError:
        part.unlink(missing_ok=True)
        raise
    os.replace(part, cache)
    _remove_stale(record, files, data_dir)
    registry.put(source.key, url=url, path=cache, sha256=digest, origin="download",
                 members=_hashes(files, data_dir))
    message = "new version recorded" if (recorded and digest != recorded) else ""
    return _result(source, url, cache, DOWNLOADED, digest, files, message)


def _extract(source: Source, url: str, archive: Path, data_dir: Path) -> tuple[Path, ...]:
    """Write the members of ``archive`` matching the source's patterns into its folder."""
    import zipfile

    try:
        with zipfile.ZipFile(archive) as zf:
            names = [i.filename for i in zf.infolist() if not i.is_dir()]
            chosen: dict[str, str] = {}  # basename -> member name
            missing = []
            for pattern in source.members + source.optional_members:
                hits = [n for n in names if fnmatch.fnmatchcase(_basename(n), pattern)]
                if not hits and pattern in source.members:
                    missing.append(pattern)
                for n in hits:
                    chosen.setdefault(_basename(n), n)
            if missing:
                listing = ", ".join(sorted(_basename(n) for n in names)[:20]) or "none"
                raise FetchError(
                    f"the archive from {url} has no member matching {', '.join(missing)} "
                    f"(members: {listing}). The publisher may have changed the layout; download "
                    f"the data by hand from {source.original or url} into {data_dir / source.folder}/")
            folder = data_dir / source.folder
            folder.mkdir(parents=True, exist_ok=True)
            written = []
            for base, name in chosen.items():
                out = folder / base
                tmp = out.with_name(out.name + ".part")
                with zf.open(name) as src, open(tmp, "wb") as dst:
                    while chunk := src.read(1 << 20):
                        dst.write(chunk)
                os.replace(tmp, out)
                written.append(out)
    except zipfile.BadZipFile as exc:
        raise FetchError(
            f"the file downloaded from {url} is not a zip archive ({exc}); the server may have "
            f"returned an error page. Try again later or download it by hand from "
            f"{source.original or url}") from None
    return tuple(sorted(written))


def _local_members(source: Source, data_dir: Path) -> tuple[Path, ...]:
    """Files already in the folder matching every required member pattern (else empty)."""
    folder = data_dir / source.folder
    found: list[Path] = []
    for pattern in source.members:
        hits = sorted(folder.glob(pattern))
        if not hits:
            return ()
        found += hits
    for pattern in source.optional_members:
        found += sorted(folder.glob(pattern))
    return tuple(dict.fromkeys(found))


def _remove_stale(record: dict | None, keep: tuple[Path, ...], data_dir: Path) -> None:
    """Delete members of the previous download that the new release no longer has (only files
    citydip extracted itself and that nobody changed since)."""
    if not record or record.get("origin") != "download":
        return
    kept = {p.resolve() for p in keep}
    for rel, digest in (record.get("members") or {}).items():
        path = data_dir / rel
        if path.resolve() not in kept and _matches(path, digest):
            path.unlink()


# -- download and verification --------------------------------------------------------------------
def _download(source: Source, url: str, dest: Path, target: Path, progress: bool) -> None:
    """Download ``url`` to ``dest`` through pooch; errors become :class:`FetchError`."""
    import pooch
    import requests

    dest.parent.mkdir(parents=True, exist_ok=True)
    dest.unlink(missing_ok=True)
    bar = progress and _have_tqdm()
    if progress:
        print(f"{source.key}: downloading {url}", file=sys.stderr)
    downloader = pooch.HTTPDownloader(progressbar=bar, timeout=TIMEOUT, headers={"User-Agent": USER_AGENT})
    logger = pooch.get_logger()
    level = logger.level
    logger.setLevel(logging.WARNING)
    try:
        pooch.retrieve(url, known_hash=None, fname=dest.name, path=dest.parent, downloader=downloader)
    except requests.HTTPError as exc:
        response = exc.response
        why = f"HTTP {response.status_code} {response.reason}" if response is not None else str(exc)
        if response is not None and response.status_code in (404, 410):
            why += (" (the publisher may have moved or renamed the file"
                    + (f"; look for it on {source.original}" if source.original else "") + ")")
        raise FetchError(_cannot_download(source, url, target, why)) from None
    except requests.RequestException as exc:
        raise FetchError(_cannot_download(source, url, target, _network_reason(exc, url))) from None
    except OSError as exc:
        raise FetchError(_cannot_download(source, url, target, _short(exc))) from None
    finally:
        logger.setLevel(level)
    if progress and not bar:
        print(f"{source.key}: {_human(dest.stat().st_size)}", file=sys.stderr)


def _verify(source: Source, url: str, part: Path, digest: str, recorded: str | None, refresh: bool,
            registry: _Registry) -> None:
    """Reject a download that matches neither the pinned hashes nor the recorded one."""
    if source.sha256:
        if digest in source.sha256:
            return
        part.unlink(missing_ok=True)
        expected = " or ".join(source.sha256)
        raise FetchError(
            f"checksum mismatch for {url}: the download has sha256 {digest}, citydip expects {expected}. "
            "Either the publisher re-issued the file (its contents may have changed) or the download was "
            "corrupted. Nothing was changed. Try again later; if it persists, download the file by hand "
            f"from {url}, check it, and save it as {source.folder}/{source.filename} in the data directory.")
    if recorded and digest != recorded and not refresh:
        part.unlink(missing_ok=True)
        when = (registry.get(source.key) or {}).get("recorded", "an earlier run")
        raise FetchError(
            f"checksum mismatch for {url}: it now serves a file with sha256 {digest}, but {recorded} "
            f"was recorded on {when}. The publisher has released a new version, or the download is "
            "corrupt. Nothing was changed. To accept the new version run `citydip fetch --refresh` "
            f"(fetch(..., refresh=True)); the recorded hashes are in {registry.path}.")


def _network_reason(exc: Exception, url: str) -> str:
    """A one-line reason for a failed connection (requests' own messages run to many lines)."""
    import requests

    host = urlsplit(url).hostname or url
    text = str(exc)
    if isinstance(exc, requests.Timeout):
        return f"no answer from {host} within {TIMEOUT} s"
    if isinstance(exc, requests.ConnectionError):
        if any(s in text for s in ("NameResolution", "Name or service not known", "getaddrinfo",
                                   "nodename nor servname")):
            return f"cannot resolve the host name {host} (no internet connection, or a proxy is needed)"
        if "refused" in text:
            return f"{host} refused the connection"
        return f"cannot connect to {host}"
    return _short(exc)


def _cannot_download(source: Source, url: str, target: Path, why: str) -> str:
    if source.is_archive:
        manual = (f"download {url} by hand (e.g. in a browser), unzip it and put the members matching "
                  f"{', '.join(source.members)} into {target}/")
    else:
        manual = f"download {url} by hand (e.g. in a browser) and save it as {target}"
    return f"could not download {url}: {why}. Check your connection and try again, or {manual}."


# -- registry -------------------------------------------------------------------------------------
class _Registry:
    """Recorded hashes in ``<data dir>/.citydip_fetch.json`` (written after every change)."""

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir
        self.path = data_dir / REGISTRY_NAME
        self.files: dict[str, dict] = {}
        if self.path.exists():
            try:
                content = json.loads(self.path.read_text(encoding="utf-8"))
                self.files = dict(content["files"])
            except (ValueError, KeyError, TypeError) as exc:
                raise FetchError(
                    f"{self.path}: the fetch registry cannot be read ({_short(exc)}). Delete it to start "
                    "afresh; the hashes of unpinned files are then recorded again.") from None

    def get(self, key: str) -> dict | None:
        return self.files.get(key)

    def put(self, key: str, *, url: str, path: Path, sha256: str | None, origin: str,
            members: dict[str, str] | None = None) -> None:
        entry = {"url": url, "path": _rel(path, self.data_dir), "sha256": sha256,
                 "bytes": path.stat().st_size if path.exists() else None, "origin": origin,
                 "recorded": datetime.now(timezone.utc).isoformat(timespec="seconds")}
        if members is not None:
            entry["members"] = members
        self.files[key] = entry
        self._save()

    def _save(self) -> None:
        text = json.dumps({"format": 1, "files": self.files}, indent=2, sort_keys=True) + "\n"
        tmp = self.path.with_name(self.path.name + ".part")
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, self.path)


# -- helpers --------------------------------------------------------------------------------------
def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def _matches(path: Path, digest: str | None) -> bool:
    return path.is_file() and digest is not None and sha256_file(path) == digest


def _hashes(files: tuple[Path, ...], data_dir: Path) -> dict[str, str]:
    return {_rel(f, data_dir): sha256_file(f) for f in files}


def _target(source: Source, data_dir: Path) -> Path:
    return _cache_path(source, data_dir) if source.is_archive else data_dir / source.folder / source.filename


def _cache_path(source: Source, data_dir: Path) -> Path:
    return data_dir / CACHE_DIR_NAME / source.folder / source.filename


def _result(source: Source, url: str, path: Path, status: str, digest: str | None,
            files: tuple[Path, ...], message: str = "") -> FetchResult:
    size = path.stat().st_size if path.exists() else None
    return FetchResult(source.key, path, status, digest, message, url, files, size)


def _raw_github_url(source: Source) -> str:
    return f"https://raw.githubusercontent.com/{source.repo}/{source.commit}/{quote(source.repo_path)}"


def _basename(member: str) -> str:
    return member.replace("\\", "/").rsplit("/", 1)[-1]


def _rel(path: Path, root: Path | None) -> str:
    if root is not None:
        try:
            return Path(path).relative_to(root).as_posix()
        except ValueError:
            pass
    return str(path)


def _human(n: int) -> str:
    size = float(n)
    for unit in ("B", "kB", "MB", "GB"):
        if size < 1000 or unit == "GB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1000
    return f"{n} B"


def _short(exc: BaseException) -> str:
    text = str(exc) or type(exc).__name__
    return text if len(text) <= 300 else text[:297] + "..."


def _have_tqdm() -> bool:
    try:
        import tqdm  # noqa: F401
    except ImportError:
        return False
    return True
