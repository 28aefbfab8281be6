"""``citydip fetch``: download every published file that has a known address, verify it, and
say where it came from; print manual steps only for files without one.

What fetch knows about a file comes from the source catalogue (:mod:`citydip.sources.registry`:
folder, file name, and how to obtain it); :func:`source_table` (also ``SOURCES``) derives one
row per download from it (addresses, target folder and file, accepted sha256 hashes, archive
members). A row has up to two addresses, tried in order (:func:`addresses`):

1. the publisher's direct download address (``url``, "official");
2. a public copy pinned to a commit (``repo``, ``commit``, ``repo_path``), fetched from
   ``https://raw.githubusercontent.com/<repo>/<commit>/<path>``, used only with a pinned
   sha256 (so the bytes are exactly those citydip's readers were checked against).

The first address that delivers bytes passing the checksum wins; a failed or mismatching
download falls through to the next address (CDP's portal regenerates its CSV exports, so
its bytes may differ from the pinned ones: the pinned copy is then used). The summary line
and the fetch registry say which address each file came from. Rows with no address at all
are printed as manual steps by :func:`manual_instructions`.

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
from citydip.config import curated_dir
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
    """One row of the download table: a file (or archive) of the data directory and how to
    obtain it. Derived from the catalogue by :func:`source_table`; tests and mirrors may build
    their own rows.

    ``url``: the official address; ``repo``/``commit``/``repo_path``: a public copy at a fixed
    commit (used with a pinned ``sha256``). ``citydip fetch`` downloads a row with either
    (:func:`addresses`); a row with neither is printed as manual steps from ``original``.
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
    def copy_url(self) -> str | None:
        """The pinned public copy's raw address (None without a copy or without a pinned hash)."""
        if self.repo and self.commit and self.repo_path and self.sha256:
            return _raw_github_url(self)
        return None

    @property
    def downloadable(self) -> bool:
        return self.url is not None or self.copy_url is not None

    @property
    def is_archive(self) -> bool:
        return bool(self.members)


def source_table() -> tuple[Source, ...]:
    """The download table, derived from the source catalogue (:mod:`citydip.sources.registry`):
    one row per catalogued file that is obtained on its own (key, folder and file name of the
    catalogue entry, download details of :data:`~citydip.sources.registry.DOWNLOADS`), one
    per archive (:data:`~citydip.sources.registry.ARCHIVES`, members found by the patterns
    of its files), and one per curated file (nothing to download)."""
    global _TABLE
    if _TABLE is None:
        from citydip.sources import registry

        registry.check_consistency()
        rows: list[Source] = []
        for f in registry.catalogue(unread=True):
            archive = f.archive
            if archive is not None:
                if all(r.key != archive.key for r in rows):
                    members = tuple(registry.get(k).filename for k in archive.files)
                    rows.append(Source(archive.key, f.folder, archive.filename, archive.title, url=archive.url,
                                       sha256=archive.sha256, members=members, optional_members=archive.extras,
                                       original=archive.original))
            elif f.curated:
                rows.append(Source(f.key, f.folder, f.filename, f.description, curated=True))
            else:
                d = f.download
                rows.append(Source(f.key, f.folder, d.save_as or f.filename, f.description, url=d.url,
                                   sha256=d.sha256, original=d.original, repo=d.repo, commit=d.commit,
                                   repo_path=d.repo_path, note=d.note))
        _TABLE = tuple(rows)
    return _TABLE


_TABLE: tuple[Source, ...] | None = None

#: Keys of the download table before it was derived from the catalogue (old key -> catalogue key):
#: hashes recorded under an old key in ``.citydip_fetch.json`` are carried over, and ``--only``
#: accepts the old names.
LEGACY_KEYS = {"popest_cbsa_2019": "census_popest_cbsa_2019", "popest_cbsa_2020": "census_popest_cbsa_2020",
               "popest_cbsa_2021": "census_popest_cbsa_2021", "popest_county_2009": "census_popest_county_2000s",
               "rleuven_counties": "census_list1_2018_derived", "rleuven_cities": "census_list2_2018_modified",
               "bls_crosswalk": "bls_county_msa", "p190_gexf": "wikidata_p190_gexf",
               "p190_query": "wikidata_p190_query", "brookings_growth": "brookings_monitor_growth",
               "brookings_prosperity": "brookings_monitor_prosperity",
               "brookings_inclusion": "brookings_monitor_inclusion",
               "brookings_export_cbsa": "brookings_exports_cbsa", "brookings_export_county": "brookings_exports_county"}


def __getattr__(name: str):
    """``SOURCES`` (the table) and ``SOURCES_BY_KEY``, derived from the catalogue on first use."""
    if name == "SOURCES":
        return source_table()
    if name == "SOURCES_BY_KEY":
        return {s.key: s for s in source_table()}
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")



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
    origin: str = ""   #: where a downloaded file came from (:data:`OFFICIAL` or a public copy)

    @property
    def ok(self) -> bool:
        return self.status != FAILED


# -- public API ----------------------------------------------------------------------------------
def downloadable_sources(table: tuple[Source, ...] | list[Source] | None = None) -> list[Source]:
    return [s for s in (source_table() if table is None else table) if s.downloadable]


def manual_sources(table: tuple[Source, ...] | list[Source] | None = None) -> list[Source]:
    return [s for s in (source_table() if table is None else table) if not s.downloadable]


#: Origin label of a file downloaded from the publisher's own address.
OFFICIAL = "official address"


def origin_of_copy(source: Source) -> str:
    """Origin label of the pinned public copy, e.g. 'public copy GitHub owner/repo@1a2b3c4'."""
    return f"public copy GitHub {source.repo}@{source.commit[:7]}"


def addresses(source: Source, overrides: dict[str, str] | None = None) -> list[tuple[str, str]]:
    """``(url, origin)`` of every address of ``source``, in the order they are tried: the
    official URL, then the pinned public copy (see the module docstring). ``overrides``: see
    :func:`resolve_url` (a key override replaces the first address)."""
    found = []
    if source.url is not None:
        found.append((source.url, OFFICIAL))
    if source.copy_url is not None:
        found.append((source.copy_url, origin_of_copy(source)))
    if not found:
        raise OptionError(f"{source.key} has no download address; see `citydip fetch` manual steps")
    out = [(_override(u, overrides), o) for u, o in found]
    if overrides and source.key in overrides:
        out[0] = (overrides[source.key], out[0][1])
    return out


def resolve_url(source: Source, overrides: dict[str, str] | None = None) -> str:
    """The first URL to download ``source`` from (its official URL, else its pinned copy).

    ``overrides`` maps either a source key to a full URL, or a URL prefix to a replacement
    prefix (the longest matching prefix wins), e.g. ``{"https://www2.census.gov/":
    "http://127.0.0.1:8000/census/"}`` for a mirror.
    """
    return addresses(source, overrides)[0][0]


def _override(url: str, overrides: dict[str, str] | None) -> str:
    prefixes = [p for p in (overrides or {}) if "://" in p and url.startswith(p)]
    if not prefixes:
        return url
    best = max(prefixes, key=len)
    return overrides[best] + url[len(best):]


def fetch(
    data_dir: Path,
    *,
    sources: list[str] | None = None,
    refresh: bool = False,
    progress: bool = True,
    base_url_override: dict[str, str] | None = None,
    table: tuple[Source, ...] | list[Source] | None = None,
) -> list[FetchResult]:
    """Download the sources with a known address (official, or a pinned public copy) into ``data_dir``.

    ``sources`` selects rows by key (or a key it had before, :data:`LEGACY_KEYS`) or by folder
    name (default: every downloadable row).
    ``refresh`` downloads unpinned files again and accepts (records) new versions.
    ``progress`` shows one progress bar or line per download on stderr and prints the
    summary (:func:`format_summary`) on stdout at the end. ``base_url_override``: see
    :func:`resolve_url`. ``table`` replaces :func:`source_table` (for mirrors and tests).

    Download and checksum problems do not raise: they come back as ``failed`` results whose
    message names the URL and the manual alternative. Unknown source names raise
    :class:`~citydip.errors.OptionError`; an unreadable registry raises :class:`FetchError`.
    """
    data_dir = Path(data_dir)
    rows = _select(list(source_table() if table is None else table), sources)
    data_dir.mkdir(parents=True, exist_ok=True)
    registry = _Registry(data_dir)
    results = []
    for source in rows:
        where = addresses(source, base_url_override)
        try:
            if source.is_archive:
                result = _fetch_archive(source, where[0][0], data_dir, registry, refresh, progress)
            else:
                result = _fetch_file(source, where, data_dir, registry, refresh, progress)
        except FetchError as exc:
            result = FetchResult(source.key, _target(source, data_dir), FAILED, None, str(exc), where[0][0])
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
            if r.status == DOWNLOADED and r.origin:
                text += f" from {r.origin}" + (f" {r.url}" if r.origin == OFFICIAL else "")
            if r.message:
                text += f"; {r.message}"
        lines.append(text)
    counts = {s: sum(r.status == s for r in results) for s in (DOWNLOADED, PRESENT, FAILED)}
    lines.append(f"{counts[DOWNLOADED]} downloaded, {counts[PRESENT]} already present, "
                 f"{counts[FAILED]} failed")
    return "\n".join(lines)


def manual_instructions(data_dir: Path | None = None, table: tuple[Source, ...] | list[Source] | None = None) -> str:
    """Step-by-step instructions for every source without a known download address (neither
    an official URL nor a public copy with a pinned sha256), and where the curated files are.

    Paths are shown under ``data_dir`` when given, else under ``<data dir>`` (the folder of
    ``--data-dir`` / ``$CITYDIP_DATA_DIR``).
    """
    rows = manual_sources(table)
    root = str(data_dir) if data_dir is not None else "<data dir>"
    if any(not s.curated for s in rows):
        out = ["These sources have no known download address; citydip cannot fetch them.",
               (f"Save each file under {root}/<folder>/ with exactly the file name given, then run "
                "`citydip validate`."), ""]
    else:
        out = [("Every published file has a download address (official, or a public copy pinned to a commit): "
                "nothing to obtain by hand."), ""]
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
        root_curated = curated_dir()
        out.append("Curated files: nothing to download, they ship with citydip in "
                   f"{root_curated}/ (if a file is missing, reinstall citydip or check out the project again):")
        for s in curated:
            out.append(f"  {s.filename}: {s.title} -> {root_curated / s.folder / s.filename}")
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
        name = LEGACY_KEYS.get(name, name)
        hits = [s for s in table if name in (s.key, s.folder)]
        if not hits:
            known = sorted({s.key for s in downloadable} | {s.folder for s in downloadable})
            raise OptionError(f"unknown source {name!r}; known: {', '.join(known)}")
        ready = [s for s in hits if s.downloadable]
        if not ready:
            raise OptionError(f"{name!r} has no known download address and cannot be fetched; "
                              "`citydip fetch` prints the manual steps for it")
        chosen += [s for s in ready if s not in chosen]
    return [s for s in table if s in chosen]


# -- one plain file -------------------------------------------------------------------------------
def _fetch_file(source: Source, where: list[tuple[str, str]], data_dir: Path, registry: _Registry,
                refresh: bool, progress: bool) -> FetchResult:
    """One file: already present and matching, or downloaded from the first address whose bytes
    pass the checksum (``where``: ``(url, origin)`` in order). All failing: one error saying
    why each address failed."""
    url = where[0][0]
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
    failures = []
    for url, origin in where:
        try:
            _download(source, url, part, target, progress)
            digest = sha256_file(part)
            _verify(source, url, part, digest, recorded, refresh, registry)
        except FetchError as exc:
            failures.append((origin, str(exc)))
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(part, target)
        registry.put(source.key, url=url, path=target, sha256=digest, origin="download", source=origin)
        message = "new version recorded" if (recorded and digest != recorded) else replaced
        if failures:
            tried = "; ".join(f"{o} failed" for o, _ in failures)
            message = "; ".join(m for m in (message, tried) if m)
        return _result(source, url, target, DOWNLOADED, digest, (target,), message, origin)
    if len(failures) == 1:
        raise FetchError(failures[0][1])
    raise FetchError(" ".join(f"({i}) {o}: {m}" for i, (o, m) in enumerate(failures, 1)))


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
                 members=_hashes(files, data_dir), source=OFFICIAL)
    message = "new version recorded" if (recorded and digest != recorded) else ""
    return _result(source, url, cache, DOWNLOADED, digest, files, message, OFFICIAL)


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
    bar = progress and sys.stderr.isatty()  # a download bar only on a terminal
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
                for old, new in LEGACY_KEYS.items():  # hashes recorded under a key the file had before
                    if old in self.files and new not in self.files:
                        self.files[new] = self.files.pop(old)
            except (ValueError, KeyError, TypeError) as exc:
                raise FetchError(
                    f"{self.path}: the fetch registry cannot be read ({_short(exc)}). Delete it to start "
                    "afresh; the hashes of unpinned files are then recorded again.") from None

    def get(self, key: str) -> dict | None:
        return self.files.get(key)

    def put(self, key: str, *, url: str, path: Path, sha256: str | None, origin: str,
            members: dict[str, str] | None = None, source: str = "") -> None:
        entry = {"url": url, "path": _rel(path, self.data_dir), "sha256": sha256,
                 "bytes": path.stat().st_size if path.exists() else None, "origin": origin,
                 "recorded": datetime.now(timezone.utc).isoformat(timespec="seconds")}
        if source:
            entry["source"] = source  # which address: the official one or a pinned public copy
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
            files: tuple[Path, ...], message: str = "", origin: str = "") -> FetchResult:
    size = path.stat().st_size if path.exists() else None
    return FetchResult(source.key, path, status, digest, message, url, files, size, origin)


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
