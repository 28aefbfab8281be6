"""`citydip fetch` against a local HTTP server serving small made-up files.

No test touches the network: every URL is pointed at http://127.0.0.1:<free port>/.
"""

from __future__ import annotations

import hashlib
import http.server
import io
import json
import threading
import zipfile
from pathlib import Path

import pytest

from citydip import fetch as F
from citydip.errors import OptionError

BEA = "https://apps.bea.gov/"
CENSUS = "https://www2.census.gov/"
GITHUB = "https://raw.githubusercontent.com/"
CDP = "https://data.cdp.net/"
CAINC1_PATH = "regional/zip/CAINC1.zip"
POPEST_2019_PATH = "programs-surveys/popest/datasets/2010-2019/metro/totals/cbsa-est2019-alldata.csv"
LIST1_2020_PATH = ("programs-surveys/metro-micro/geographies/reference-files/2020/delineation-files/"
                   "list1_2020.xls")


# -- a local server that records every request ---------------------------------------------------
class Server:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.requests: list[str] = []
        server = self

        class Handler(http.server.SimpleHTTPRequestHandler):
            def __init__(self, *args, **kwargs):
                super().__init__(*args, directory=str(root), **kwargs)

            def do_GET(self):  # noqa: N802
                server.requests.append(self.path)
                super().do_GET()

            def log_message(self, *args):  # keep test output clean
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self.thread.start()

    def put(self, path: str, content: bytes) -> bytes:
        target = self.root / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(content)
        return content

    def overrides(self) -> dict[str, str]:
        return {BEA: f"{self.url}/", CENSUS: f"{self.url}/", GITHUB: f"{self.url}/github/", CDP: f"{self.url}/cdp/"}

    def count(self, path: str) -> int:
        return sum(r == f"/{path}" for r in self.requests)

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def server(tmp_path):
    s = Server(tmp_path / "www")
    yield s
    s.close()


@pytest.fixture
def data_dir(tmp_path):
    return tmp_path / "data"


def run(server, data_dir, **kwargs):
    kwargs.setdefault("progress", False)
    return {r.key: r for r in F.fetch(data_dir, base_url_override=server.overrides(), **kwargs)}


def make_zip(members: dict[str, str]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for name, text in members.items():
            zf.writestr(name, text)
    return buf.getvalue()


def sha(b: bytes) -> str:
    return hashlib.sha256(b).hexdigest()


def registry(data_dir: Path) -> dict:
    return json.loads((data_dir / F.REGISTRY_NAME).read_text())["files"]


CAINC1_V1 = {
    "CAINC1_MSA_1969_2099.csv": '"GeoFIPS","GeoName"\n" 10180","Made-up, TX"\n',
    "CAINC1__ALL_AREAS_1969_2099.csv": '"GeoFIPS","GeoName"\n" 00000","Made-up"\n',
    "CAINC1_AK_1969_2099.csv": "not wanted\n",
    "CAINC1__Footnotes.html": "<p>made-up</p>\n",
    "readme.txt": "not wanted\n",
}
POPEST_V1 = b"CBSA,NAME,POPESTIMATE2019\n10180,Made-up,1\n"


# -- first and second run -------------------------------------------------------------------------
def test_first_download_writes_files_and_records_hashes(server, data_dir):
    zip_bytes = server.put(CAINC1_PATH, make_zip(CAINC1_V1))
    server.put(POPEST_2019_PATH, POPEST_V1)

    res = run(server, data_dir, sources=["bea_cainc1", "census_popest_cbsa_2019"])

    assert {k: r.status for k, r in res.items()} == {"bea_cainc1": "downloaded",
                                                     "census_popest_cbsa_2019": "downloaded"}
    popest = data_dir / "census_popest" / "cbsa-est2019-alldata.csv"
    assert popest.read_bytes() == POPEST_V1
    msa = data_dir / "bea_regional" / "CAINC1_MSA_1969_2099.csv"
    assert msa.read_text() == CAINC1_V1["CAINC1_MSA_1969_2099.csv"]
    reg = registry(data_dir)
    assert reg["census_popest_cbsa_2019"]["sha256"] == sha(POPEST_V1)
    assert reg["bea_cainc1"]["sha256"] == sha(zip_bytes)
    assert reg["bea_cainc1"]["members"]["bea_regional/CAINC1_MSA_1969_2099.csv"] == sha(msa.read_bytes())
    assert res["bea_cainc1"].sha256 == sha(zip_bytes)
    assert server.count(CAINC1_PATH) == 1 and server.count(POPEST_2019_PATH) == 1


def test_second_run_downloads_nothing(server, data_dir):
    server.put(CAINC1_PATH, make_zip(CAINC1_V1))
    server.put(POPEST_2019_PATH, POPEST_V1)
    run(server, data_dir, sources=["bea_cainc1", "census_popest_cbsa_2019"])
    before = len(server.requests)

    res = run(server, data_dir, sources=["bea_cainc1", "census_popest_cbsa_2019"])

    assert len(server.requests) == before
    assert {r.status for r in res.values()} == {"present"}
    assert res["census_popest_cbsa_2019"].sha256 == sha(POPEST_V1)


def test_deleted_member_is_restored_from_the_cached_archive(server, data_dir):
    server.put(CAINC1_PATH, make_zip(CAINC1_V1))
    run(server, data_dir, sources=["bea_cainc1"])
    msa = data_dir / "bea_regional" / "CAINC1_MSA_1969_2099.csv"
    msa.unlink()

    res = run(server, data_dir, sources=["bea_cainc1"])

    assert server.count(CAINC1_PATH) == 1
    assert res["bea_cainc1"].status == "present"
    assert msa.read_text() == CAINC1_V1["CAINC1_MSA_1969_2099.csv"]


def test_existing_files_are_recorded_without_download(server, data_dir):
    folder = data_dir / "census_popest"
    folder.mkdir(parents=True)
    (folder / "cbsa-est2019-alldata.csv").write_bytes(POPEST_V1)

    res = run(server, data_dir, sources=["census_popest_cbsa_2019"])

    assert res["census_popest_cbsa_2019"].status == "present"
    assert server.requests == []
    assert registry(data_dir)["census_popest_cbsa_2019"]["sha256"] == sha(POPEST_V1)


# -- a new release on the server ------------------------------------------------------------------
def test_changed_file_on_server_is_a_checksum_error_until_refresh(server, data_dir):
    server.put(POPEST_2019_PATH, POPEST_V1)
    run(server, data_dir, sources=["census_popest_cbsa_2019"])
    target = data_dir / "census_popest" / "cbsa-est2019-alldata.csv"
    new = server.put(POPEST_2019_PATH, b"CBSA,NAME,POPESTIMATE2019\n10180,Made-up,2\n")
    target.unlink()

    res = run(server, data_dir, sources=["census_popest_cbsa_2019"])["census_popest_cbsa_2019"]

    assert res.status == "failed"
    assert "checksum mismatch" in res.message and "new version" in res.message
    assert "--refresh" in res.message and f"{server.url}/{POPEST_2019_PATH}" in res.message
    assert not target.exists()
    assert registry(data_dir)["census_popest_cbsa_2019"]["sha256"] == sha(POPEST_V1)

    res = run(server, data_dir, sources=["census_popest_cbsa_2019"], refresh=True)["census_popest_cbsa_2019"]

    assert res.status == "downloaded"
    assert target.read_bytes() == new
    assert registry(data_dir)["census_popest_cbsa_2019"]["sha256"] == sha(new)


def test_refresh_replaces_archive_members_of_the_old_release(server, data_dir):
    server.put(CAINC1_PATH, make_zip(CAINC1_V1))
    run(server, data_dir, sources=["bea_cainc1"])
    server.put(CAINC1_PATH, make_zip({"CAINC1_MSA_1969_2100.csv": "new\n",
                                      "CAINC1__ALL_AREAS_1969_2100.csv": "new\n"}))

    assert run(server, data_dir, sources=["bea_cainc1"])["bea_cainc1"].status == "present"
    res = run(server, data_dir, sources=["bea_cainc1"], refresh=True)["bea_cainc1"]

    assert res.status == "downloaded"
    folder = data_dir / "bea_regional"
    assert sorted(p.name for p in folder.iterdir()) == ["CAINC1_MSA_1969_2100.csv",
                                                        "CAINC1__ALL_AREAS_1969_2100.csv"]
    assert set(registry(data_dir)["bea_cainc1"]["members"]) == {
        "bea_regional/CAINC1_MSA_1969_2100.csv", "bea_regional/CAINC1__ALL_AREAS_1969_2100.csv"}


# -- pinned hashes --------------------------------------------------------------------------------
def test_pinned_hash_that_does_not_match_fails(server, data_dir):
    server.put(LIST1_2020_PATH, b"made-up bytes, not the Census list")

    res = run(server, data_dir, sources=["census_list1_2020"])["census_list1_2020"]

    assert res.status == "failed"
    assert "checksum mismatch" in res.message
    assert F.SOURCES_BY_KEY["census_list1_2020"].sha256[0] in res.message
    assert not (data_dir / "census_cbsa_delineations" / "list1_2020_mar.xls").exists()


def test_pinned_hash_that_matches_is_accepted_and_refresh_keeps_it(server, data_dir):
    content = server.put("lists/list1.xls", b"made-up list")
    row = F.Source("list", "lists", "list1_made_up.xls", "made-up list", url="https://example.org/lists/list1.xls",
                   sha256=("0" * 64, sha(content)))
    overrides = {"https://example.org/": f"{server.url}/"}

    first = F.fetch(data_dir, table=[row], base_url_override=overrides, progress=False)
    again = F.fetch(data_dir, table=[row], base_url_override=overrides, progress=False, refresh=True)

    assert [r.status for r in first] == ["downloaded"]
    assert [r.status for r in again] == ["present"]
    assert server.count("lists/list1.xls") == 1
    assert (data_dir / "lists" / "list1_made_up.xls").read_bytes() == content


def test_local_copy_that_matches_no_pin_is_left_alone_when_the_download_fails_too(server, data_dir):
    server.put(LIST1_2020_PATH, b"made-up bytes")
    target = data_dir / "census_cbsa_delineations" / "list1_2020_mar.xls"
    target.parent.mkdir(parents=True)
    target.write_bytes(b"a local copy")

    res = run(server, data_dir, sources=["census_list1_2020"])["census_list1_2020"]

    assert res.status == "failed"
    assert target.read_bytes() == b"a local copy"


# -- network problems -----------------------------------------------------------------------------
def test_404_gives_a_clear_message(server, data_dir):
    res = run(server, data_dir, sources=["census_popest_cbsa_2019"])["census_popest_cbsa_2019"]

    assert res.status == "failed"
    assert "HTTP 404" in res.message
    assert f"{server.url}/{POPEST_2019_PATH}" in res.message
    assert "by hand" in res.message and "cbsa-est2019-alldata.csv" in res.message
    assert not (data_dir / "census_popest" / "cbsa-est2019-alldata.csv").exists()


def test_unreachable_server_gives_a_clear_message(data_dir):
    s = Server(data_dir.parent / "www")
    url = s.url
    s.close()  # nothing listens on this port any more

    res = F.fetch(data_dir, sources=["bea_cagdp1"], base_url_override={BEA: f"{url}/"}, progress=False)

    assert res[0].status == "failed"
    assert f"could not download {url}/regional/zip/CAGDP1.zip: 127.0.0.1 refused the connection" in res[0].message
    assert "CAGDP1_MSA_2001_*.csv" in res[0].message


def test_error_page_instead_of_zip(server, data_dir):
    server.put(CAINC1_PATH, b"<html>Service unavailable</html>")

    res = run(server, data_dir, sources=["bea_cainc1"])["bea_cainc1"]

    assert res.status == "failed" and "not a zip archive" in res.message
    assert not (data_dir / F.REGISTRY_NAME).exists() or "bea_cainc1" not in registry(data_dir)
    assert not (data_dir / "bea_regional").exists()


# -- archive members ------------------------------------------------------------------------------
def test_zip_extraction_picks_the_right_members(server, data_dir):
    server.put(CAINC1_PATH, make_zip({**CAINC1_V1, "sub/CAINC1_MSA_1969_2099_x.txt": "no\n"}))

    res = run(server, data_dir, sources=["bea_cainc1"])["bea_cainc1"]

    names = sorted(p.name for p in (data_dir / "bea_regional").iterdir())
    assert names == ["CAINC1_MSA_1969_2099.csv", "CAINC1__ALL_AREAS_1969_2099.csv", "CAINC1__Footnotes.html"]
    assert sorted(p.name for p in res.files) == names


def test_zip_without_a_required_member_fails(server, data_dir):
    server.put(CAINC1_PATH, make_zip({"CAINC1__ALL_AREAS_1969_2099.csv": "x\n", "CAINC1_AK_1969_2099.csv": "x\n"}))

    res = run(server, data_dir, sources=["bea_cainc1"])["bea_cainc1"]

    assert res.status == "failed"
    assert "CAINC1_MSA_1969_*.csv" in res.message and "CAINC1_AK_1969_2099.csv" in res.message
    assert not (data_dir / "bea_regional").exists()


# -- selection, overrides, output -----------------------------------------------------------------
def test_sources_select_by_key_or_folder_and_reject_unknown_or_manual(server, data_dir):
    keys = [s.key for s in F._select(list(F.SOURCES), ["census_popest"])]
    assert keys == ["census_popest_cbsa_2019", "census_popest_cbsa_2020", "census_popest_cbsa_2021",
                    "census_popest_county_2000s"]
    assert [s.key for s in F._select(list(F.SOURCES), ["popest_cbsa_2019"])] == ["census_popest_cbsa_2019"]
    assert [s.key for s in F._select(list(F.SOURCES), ["lowy_gdi"])] == [
        "lowy_2016", "lowy_2017", "lowy_2019", "lowy_workbook"]  # pinned public copies: downloadable
    with pytest.raises(OptionError, match="unknown source 'nope'"):
        F.fetch(data_dir, sources=["nope"], progress=False)
    with pytest.raises(OptionError, match="no known download address"):
        F.fetch(data_dir, sources=["curated_sister_cities"], progress=False)  # curated: ships with citydip


def test_resolve_url_by_prefix_and_by_key():
    row = F.SOURCES_BY_KEY["census_list2_2020"]
    assert F.resolve_url(row) == row.url
    assert F.resolve_url(row, {CENSUS: "http://h/"}) == (
        "http://h/programs-surveys/metro-micro/geographies/reference-files/2020/delineation-files/list2_2020.xls")
    assert F.resolve_url(row, {CENSUS: "http://h/", "census_list2_2020": "http://k/x.xls"}) == "http://k/x.xls"


def test_progress_prints_a_summary_line_per_file(server, data_dir, capsys):
    server.put(POPEST_2019_PATH, POPEST_V1)

    run(server, data_dir, sources=["census_popest_cbsa_2019", "census_popest_cbsa_2020"], progress=True)

    out = capsys.readouterr()
    assert "downloading" in out.err
    lines = out.out.splitlines()
    assert any(line.startswith("census_popest_cbsa_2019") and "downloaded" in line for line in lines)
    assert any(line.startswith("census_popest_cbsa_2020") and "FAILED" in line and "HTTP 404" in line
               for line in lines)
    assert lines[-1] == "1 downloaded, 0 already present, 1 failed"


# -- the source table and manual steps ------------------------------------------------------------
#: Folders whose files have no official address but a public copy pinned to a commit (and its sha256):
#: downloaded from raw.githubusercontent.com since the copies became fetchable.
COPY_FOLDERS = {"ita_metro_exports_2005_2023", "ita_metro_exports", "lowy_gdi", "wikidata_embassies",
                "wikipedia_twincities_hekman", "wikidata_p190_ursino", "climactor", "brookings_metro_monitor",
                "brookings_export_monitor", "census_cbsa_delineations"}  # the last: the derived 2018 lists


def test_no_published_file_is_left_to_manual_steps():
    text = F.manual_instructions(Path("/d"))
    assert "nothing to obtain by hand" in text
    assert not [s.key for s in F.manual_sources() if not s.curated]
    for s in F.downloadable_sources():
        assert s.filename not in text.split("Curated files")[0]
    for name in ("sister_cities.csv", "network_memberships.csv", "consulate_events.csv", "errata.csv"):
        assert f"{name}: " in text  # curated files: nothing to download


def test_manual_instructions_for_a_file_without_an_address():
    rows = [F.Source("nowhere", "some_folder", "file.csv", "a file nobody hosts", original="https://example.org/page",
                     sha256=("a" * 64,)),
            F.Source("copy_unpinned", "some_folder", "copy.csv", "a copy without a pinned hash",
                     repo="o/r", commit="c" * 40, repo_path="x/copy.csv"),
            F.Source("pinned", "other", "ok.csv", "a pinned copy", repo="o/r", commit="c" * 40, repo_path="ok.csv",
                     sha256=("b" * 64,))]
    text = F.manual_instructions(Path("/d"), table=rows)
    assert "no known download address" in text and "some_folder/" in text
    assert "1. file.csv: a file nobody hosts" in text and "original source: https://example.org/page" in text
    assert "save as: /d/some_folder/file.csv" in text and f"check: sha256 {'a' * 64}" in text
    # A copy without a pinned sha256 is not fetched: it is a manual step, with its direct link.
    assert "2. copy.csv" in text and f"https://raw.githubusercontent.com/o/r/{'c' * 40}/x/copy.csv" in text
    assert "ok.csv" not in text and [s.key for s in F.downloadable_sources(rows)] == ["pinned"]


def test_source_table_is_consistent():
    keys = [s.key for s in F.SOURCES]
    assert len(keys) == len(set(keys))
    for s in F.SOURCES:
        assert all(len(h) == 64 and int(h, 16) >= 0 for h in s.sha256), s.key
        if s.url is not None:
            assert s.url.startswith("https://"), s.key
        if s.repo:
            assert len(s.commit) == 40 and s.repo_path and s.sha256, s.key  # copies are pinned
        assert s.downloadable or s.curated, s.key
        if s.downloadable:
            urls = [u for u, _ in F.addresses(s)]
            assert all(u.startswith("https://") for u in urls) and len(set(urls)) == len(urls), s.key
    assert {s.folder for s in F.downloadable_sources() if s.url is None} == COPY_FOLDERS
    assert {s.folder for s in F.downloadable_sources() if s.url is not None} == {
        "bea_regional", "census_cbsa_delineations", "census_popest", "cdp_cities"}


def test_catalogue_addresses_of_the_new_files():
    book = F.SOURCES_BY_KEY["lowy_workbook"]
    assert F.addresses(book) == [(
        ("https://raw.githubusercontent.com/DataScience-Lin/diplomacy_index_dashboard/"
         "ce04e0a39bb3fabeecd11e0e0f0d039e2ef14d77/globaldiplomacyindex.xlsx"),
        "public copy GitHub DataScience-Lin/diplomacy_index_dashboard@ce04e0a")]
    assert book.sha256 == ("0447197f070e67067de9244fe15173e6d80c750bffee8b332edd6350da0a6e8a",)
    cdp = F.SOURCES_BY_KEY["cdp_2019"]
    (official, o1), (copy, o2) = F.addresses(cdp)
    assert official == "https://data.cdp.net/api/views/542d-zyj8/rows.csv?accessType=DOWNLOAD" and o1 == F.OFFICIAL
    assert copy == ("https://raw.githubusercontent.com/Open-Earth-Foundation/OpenClimate/"
                    "822037b737999c397f58b442a5a31e4098dd42e1/harmonize/data/raw/CDP_citywide_emissions_2019/"
                    "2019_City-wide_Emissions.csv")
    assert o2 == "public copy GitHub Open-Earth-Foundation/OpenClimate@822037b"
    for year in range(2016, 2022):
        row = F.SOURCES_BY_KEY[f"cdp_{year}"]
        assert row.folder == "cdp_cities" and row.repo_path.endswith("/" + row.filename) and len(row.sha256) == 1


# -- official addresses and pinned public copies ----------------------------------------------------
def _pinned(content: bytes, *, official: bool = True) -> F.Source:
    return F.Source("made_up", "made_up_folder", "made_up.csv", "made-up file",
                    url="https://example.org/data/made_up.csv" if official else None, sha256=(sha(content),),
                    repo="someone/mirror", commit="1" * 40, repo_path="data dir/made_up.csv")


def _mirror_overrides(server) -> dict[str, str]:
    return {"https://example.org/": f"{server.url}/official/", GITHUB: f"{server.url}/github/"}


COPY_PATH = f"github/someone/mirror/{'1' * 40}/data%20dir/made_up.csv"


def test_a_pinned_public_copy_is_downloaded_and_its_origin_named(server, data_dir, capsys):
    content = b"city,year\nMade-up,2020\n"
    server.put(f"github/someone/mirror/{'1' * 40}/data dir/made_up.csv", content)
    row = _pinned(content, official=False)

    res = F.fetch(data_dir, table=[row], base_url_override=_mirror_overrides(server), progress=True)

    assert [(r.status, r.origin) for r in res] == [("downloaded", "public copy GitHub someone/mirror@1111111")]
    assert (data_dir / "made_up_folder" / "made_up.csv").read_bytes() == content
    assert registry(data_dir)["made_up"]["source"] == "public copy GitHub someone/mirror@1111111"
    assert server.requests == [f"/{COPY_PATH}"]
    assert "from public copy GitHub someone/mirror@1111111" in capsys.readouterr().out


def test_official_address_first_and_the_copy_untouched(server, data_dir):
    content = server.put("official/data/made_up.csv", b"made-up official bytes\n")
    server.put(f"github/someone/mirror/{'1' * 40}/data dir/made_up.csv", content)

    res = F.fetch(data_dir, table=[_pinned(content)], base_url_override=_mirror_overrides(server), progress=False)

    assert [(r.status, r.origin) for r in res] == [("downloaded", F.OFFICIAL)]
    assert server.requests == ["/official/data/made_up.csv"]
    assert f"from official address {server.url}/official/data/made_up.csv" in F.format_summary(res)


def test_official_bytes_that_differ_from_the_pin_fall_back_to_the_copy(server, data_dir):
    pinned = server.put(f"github/someone/mirror/{'1' * 40}/data dir/made_up.csv", b"the pinned bytes\n")
    server.put("official/data/made_up.csv", b"a regenerated export with other bytes\n")

    res = F.fetch(data_dir, table=[_pinned(pinned)], base_url_override=_mirror_overrides(server), progress=False)[0]

    assert res.status == "downloaded" and res.origin.startswith("public copy")
    assert "official address failed" in res.message
    assert (data_dir / "made_up_folder" / "made_up.csv").read_bytes() == pinned
    assert server.requests == ["/official/data/made_up.csv", f"/{COPY_PATH}"]


def test_every_address_failing_names_each_reason(server, data_dir):
    server.put("official/data/made_up.csv", b"wrong bytes\n")  # and no copy on the mirror: 404

    res = F.fetch(data_dir, table=[_pinned(b"right bytes\n")], base_url_override=_mirror_overrides(server),
                  progress=False)[0]

    assert res.status == "failed"
    assert "(1) official address: checksum mismatch" in res.message
    assert "(2) public copy GitHub someone/mirror@1111111: could not download" in res.message
    assert "HTTP 404" in res.message
    assert not (data_dir / "made_up_folder" / "made_up.csv").exists()


def test_a_present_pinned_file_is_not_downloaded_again(server, data_dir):
    content = b"already here\n"
    target = data_dir / "made_up_folder" / "made_up.csv"
    target.parent.mkdir(parents=True)
    target.write_bytes(content)

    res = F.fetch(data_dir, table=[_pinned(content)], base_url_override=_mirror_overrides(server), progress=False)

    assert [r.status for r in res] == ["present"] and server.requests == []


def test_catalogue_rows_of_lowy_workbook_and_cdp_against_a_mirror(server, data_dir, real_data):
    """The catalogue's own rows (addresses, file names, pins) fetch the published bytes from a
    local mirror: the Lowy workbook from its pinned copy, a CDP year from the official address,
    and another CDP year from its pinned copy when the official export differs."""
    book = F.SOURCES_BY_KEY["lowy_workbook"]
    server.put(f"github/{book.repo}/{book.commit}/{book.repo_path}",
               (real_data / "lowy_gdi" / book.filename).read_bytes())
    cdp16, cdp17 = F.SOURCES_BY_KEY["cdp_2016"], F.SOURCES_BY_KEY["cdp_2017"]
    server.put("cdp/api/views/dfed-thx7/rows.csv", (real_data / "cdp_cities" / cdp16.filename).read_bytes())
    server.put("cdp/api/views/kyi6-dk5h/rows.csv", b"Account number,Organization\n1,regenerated\n")
    server.put(f"github/{cdp17.repo}/{cdp17.commit}/{cdp17.repo_path}",
               (real_data / "cdp_cities" / cdp17.filename).read_bytes())

    res = run(server, data_dir, sources=["lowy_workbook", "cdp_2016", "cdp_2017"])

    assert {k: (r.status, r.origin.split(" GitHub")[0]) for k, r in res.items()} == {
        "lowy_workbook": ("downloaded", "public copy"), "cdp_2016": ("downloaded", F.OFFICIAL),
        "cdp_2017": ("downloaded", "public copy")}
    for key in res:
        row = F.SOURCES_BY_KEY[key]
        assert F.sha256_file(data_dir / row.folder / row.filename) in row.sha256


# -- one catalogue ---------------------------------------------------------------------------------
def test_download_table_is_derived_from_the_source_catalogue():
    """Folder and file name of every row are the catalogue's; every catalogued file is
    obtained exactly one way; archive members are the patterns of the catalogued files."""
    import fnmatch

    from citydip.sources import registry

    registry.check_consistency()
    rows = F.SOURCES_BY_KEY
    for f in registry.catalogue(unread=True):
        if f.archive is not None:
            row = rows[f.archive.key]
            assert f.filename in row.members and row.folder == f.folder, f.key
            continue
        row = rows[f.key]
        assert row.folder == f.folder and row.curated == f.curated, f.key
        assert fnmatch.fnmatchcase(row.filename, f.filename), f.key  # a pattern is saved under a matching name
        if not f.curated:
            assert row.url == f.download.url and row.sha256 == f.download.sha256, f.key
    assert rows["bea_cainc1"].members == ("CAINC1_MSA_1969_*.csv", "CAINC1__ALL_AREAS_1969_*.csv")
    assert rows["census_popest_county_2000s"].filename == "co-est2009-alldata.csv"
    covered = {k for r in F.SOURCES for k in ([r.key] if not r.is_archive else [])}
    covered |= {k for a in registry.ARCHIVES for k in a.files}
    assert covered == {f.key for f in registry.catalogue(unread=True)}


def test_catalogue_consistency_check_finds_a_file_without_download(monkeypatch):
    from citydip.sources import registry

    downloads = dict(registry.DOWNLOADS)
    del downloads["lowy_2016"]
    monkeypatch.setattr(registry, "DOWNLOADS", downloads)
    with pytest.raises(ValueError, match="lowy_2016 is obtained 0 ways"):
        registry.check_consistency()


def test_hashes_recorded_under_an_old_key_are_carried_over(server, data_dir):
    folder = data_dir / "census_popest"
    folder.mkdir(parents=True)
    (folder / "cbsa-est2019-alldata.csv").write_bytes(POPEST_V1)
    (data_dir / F.REGISTRY_NAME).write_text(json.dumps({"format": 1, "files": {"popest_cbsa_2019": {
        "url": "x", "path": "census_popest/cbsa-est2019-alldata.csv", "sha256": sha(b"an older release"),
        "origin": "download"}}}))

    res = run(server, data_dir, sources=["census_popest_cbsa_2019"])["census_popest_cbsa_2019"]

    # the old record applies: the local file differs from it, so a download is tried (and fails: 404)
    assert res.status == "failed" and "HTTP 404" in res.message
    assert "popest_cbsa_2019" not in F._Registry(data_dir).files


def test_pinned_hashes_accept_the_reference_copies(real_data):
    """Every pinned file present in the published data directory matches its pin."""
    checked = 0
    for s in F.SOURCES:
        path = real_data / s.folder / s.filename
        if s.sha256 and not s.curated and path.exists():
            assert F.sha256_file(path) in s.sha256, s.key
            checked += 1
    assert checked > 0
