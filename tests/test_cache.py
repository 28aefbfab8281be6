"""Cache keys: the panel is keyed on the files its build read (recorded, not listed by hand),
its options, the code and the package versions; the estimates on the panel, the code and the
package versions."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest

from citydip import cache, pipeline
from citydip.config import CURATED_DIR_ENV
from citydip.panel.options import PanelOptions
from citydip.sources import registry


# -- package versions ------------------------------------------------------------------------------
def test_package_versions_cover_every_package_that_affects_a_number():
    versions = cache.package_versions()
    assert set(cache.PACKAGES) >= {"pyfixest", "statsmodels", "numba", "scikit-learn", "numpy", "pandas",
                                   "scipy", "formulaic", "wildboottest", "pyarrow", "python-calamine", "matplotlib",
                                   "zipcodes", "geotext"}
    assert set(versions) == {"python", *cache.PACKAGES}
    import numpy
    import pandas

    assert versions["numpy"] == numpy.__version__ and versions["pandas"] == pandas.__version__


def test_a_changed_package_version_changes_both_keys(monkeypatch, tmp_path):
    panel = tmp_path / "panel.parquet"
    panel.write_bytes(b"panel bytes")
    options = PanelOptions()
    reads = {"ita_xlsx": {"file": "ita/x.xlsx", "sha256": "0" * 64}}
    before = (cache.panel_key(options, False, reads), cache.estimates_key(panel), pipeline.estimates_key(tmp_path),
              pipeline.build_key(tmp_path, options, False))
    real = cache._distribution_version
    monkeypatch.setattr(cache, "_distribution_version",
                        lambda name: "99.0" if name == "pyfixest" else real(name))
    assert cache.package_versions()["pyfixest"] == "99.0"
    after = (cache.panel_key(options, False, reads), cache.estimates_key(panel), pipeline.estimates_key(tmp_path),
             pipeline.build_key(tmp_path, options, False))
    assert all(a != b for a, b in zip(after, before))


def test_provenance_records_the_package_versions(tmp_path):
    from citydip.panel import build

    result = build.build_synthetic(PanelOptions(top_n=12, first_year=2010, last_year=2012))
    prov = json.loads(build.write_outputs(result, tmp_path)["provenance"].read_text())
    assert prov["versions"] == json.loads(json.dumps(cache.package_versions()))
    assert prov["build_key"] == cache.panel_key(result.options, True, {}) and prov[cache.READS_FIELD] == {}


# -- recording what is read ------------------------------------------------------------------------
def test_recording_notes_every_catalogued_path_resolved(tmp_path):
    lowy, errata = registry.get("lowy_2016"), registry.get("curated_errata")
    lowy.path(tmp_path, tmp_path)  # outside any block: not recorded anywhere
    with registry.recording() as outer:
        lowy.path(tmp_path, tmp_path / "cur")
        with registry.recording() as inner:
            errata.path(tmp_path, tmp_path / "cur")
    errata.path(tmp_path, tmp_path)
    assert outer.files == {"lowy_2016": tmp_path / lowy.folder / lowy.filename,
                           "curated_errata": tmp_path / "cur" / errata.filename}
    assert inner.files == {"curated_errata": tmp_path / "cur" / errata.filename}
    assert registry._RECORDERS == []


# -- the panel key from the files read -------------------------------------------------------------
@pytest.fixture
def fake_dirs(tmp_path, monkeypatch):
    """A data and a curated directory with a small made-up file for every catalogued file."""
    data, curated = tmp_path / "raw", tmp_path / "curated"
    monkeypatch.setenv(CURATED_DIR_ENV, str(curated))
    for f in registry.catalogue():
        name = f.filename.replace("*", "2022")
        path = (curated if f.curated else data) / f.folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(f"made-up {f.key}\n".encode())
    return data, curated


def _fake_build(build_dir: Path, data: Path, curated: Path, options: PanelOptions, keys) -> dict:
    """What a build that read ``keys`` leaves in ``build_dir`` (panel bytes, provenance)."""
    with registry.recording() as recorder:
        for key in keys:
            registry.get(key).path(data, curated)
    reads = cache.describe_reads(recorder.files, data, curated)
    build_dir.mkdir(parents=True, exist_ok=True)
    (build_dir / "panel.parquet").write_bytes(b"panel")
    (build_dir / "provenance.json").write_text(json.dumps({
        "synthetic": False, "build_key": cache.panel_key(options, False, reads), cache.READS_FIELD: reads}))
    return reads


def test_changing_one_byte_of_any_read_file_invalidates_the_panel(fake_dirs, tmp_path):
    data, curated = fake_dirs
    options = PanelOptions()
    keys = [f.key for f in registry.catalogue()]
    reads = _fake_build(tmp_path / "build", data, curated, options, keys)
    assert set(reads) == set(keys) and all(r["sha256"] for r in reads.values())
    assert reads["bea_cainc1_msa"]["file"] == "bea_regional/CAINC1_MSA_1969_2022.csv"
    assert reads["curated_errata"]["file"] == "curated/errata.csv"
    assert cache.panel_is_current(tmp_path / "build", data, options, False)
    for key in keys:
        path = registry.get(key).path(data, curated)
        original = path.read_bytes()
        path.write_bytes(original[:-2] + bytes([original[-2] ^ 1]) + original[-1:])  # one byte changed
        assert not cache.panel_is_current(tmp_path / "build", data, options, False), key
        path.write_bytes(original)
    assert cache.panel_is_current(tmp_path / "build", data, options, False)


def test_files_not_read_do_not_enter_the_key_and_other_changes_do(fake_dirs, tmp_path):
    data, curated = fake_dirs
    options = PanelOptions()
    build = tmp_path / "build"
    _fake_build(build, data, curated, options, ["ita_xlsx", "bea_cainc1_msa", "curated_sister_cities"])
    (data / "lowy_gdi" / registry.get("lowy_2016").filename).write_text("changed, but not read\n")
    assert cache.panel_is_current(build, data, options, False)
    # a new release matching a read file's pattern is another file: the build is stale
    newer = data / "bea_regional" / "CAINC1_MSA_1969_2023.csv"
    newer.write_text("made-up bea_cainc1_msa\n")
    assert not cache.panel_is_current(build, data, options, False)
    newer.unlink()
    assert cache.panel_is_current(build, data, options, False)
    # a read file removed, other options, the synthetic flag, no record of reads
    assert not cache.panel_is_current(build, data, PanelOptions(top_n=50), False)
    assert not cache.panel_is_current(build, data, options, True)
    (data / "ita_metro_exports_2005_2023" / registry.get("ita_xlsx").filename).unlink()
    assert not cache.panel_is_current(build, data, options, False)
    prov = json.loads((build / "provenance.json").read_text())
    del prov[cache.READS_FIELD]
    (build / "provenance.json").write_text(json.dumps(prov))
    assert not cache.panel_is_current(build, data, options, False)


def test_keys_are_stable_across_calls_and_processes(tmp_path):
    options = PanelOptions()
    reads = {"lowy_2016": {"file": "lowy_gdi/a.csv", "sha256": "1" * 64}}
    key = cache.panel_key(options, False, reads)
    assert key == cache.panel_key(options, False, dict(reads))
    import subprocess

    code = ("from citydip import cache; from citydip.panel.options import PanelOptions; "
            f"print(cache.panel_key(PanelOptions(), False, {reads!r}))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         env={**os.environ, "PYTHONHASHSEED": "123"})
    assert out.stdout.strip() == key


# -- the real build: what it records is what it opened ---------------------------------------------
@pytest.mark.slow
def test_the_build_records_exactly_the_files_it_opens(real_data):
    """Every file load_inputs opens (seen by an audit hook on every open, whatever the reader)
    under the data or curated directory is recorded, with its checksum, and nothing else is:
    a new input file is keyed as soon as the build reads it."""
    from citydip import geo
    from citydip.config import curated_dir
    from citydip.panel import build

    roots = [Path(real_data).resolve(), curated_dir().resolve()]
    opened: set[Path] = set()
    state = {"on": False}

    def hook(event, args):
        if state["on"] and event == "open" and isinstance(args[0], (str, bytes, os.PathLike)):
            path = Path(os.fsdecode(args[0])).resolve()
            if any(root in path.parents for root in roots) and path.is_file():
                opened.add(path)

    sys.addaudithook(hook)  # cannot be removed: inert outside this test (state["on"])
    geo.delineations._load_one.cache_clear()  # read the delineation lists again, as in a new process
    state["on"] = True
    try:
        inputs = build.load_inputs(real_data)
    finally:
        state["on"] = False
    recorded = {registry.get(k).path(real_data, curated_dir()).resolve() for k in inputs.reads}
    assert recorded == opened
    assert {"ita_xlsx", "bea_cainc1_msa", "lowy_2019", "climactor_2022", "census_list2_2023",
            "curated_errata"} <= set(inputs.reads)
    for key, entry in inputs.reads.items():
        assert entry["sha256"] == cache.sha256_of(registry.get(key).path(real_data, curated_dir())), key
    assert inputs.sha256 == {r["file"]: r["sha256"] for r in inputs.reads.values()}


def test_a_real_build_is_current_until_a_read_file_changes(real_build, real_data, tmp_path):
    from citydip.panel import build

    build.write_outputs(real_build, tmp_path)
    prov = json.loads((tmp_path / "provenance.json").read_text())
    assert prov[cache.READS_FIELD] == real_build.reads and prov["build_key"] == real_build.build_key
    assert cache.panel_is_current(tmp_path, real_data, real_build.options, False)
    assert pipeline.panel_is_current(tmp_path, real_data, real_build.options, False)
    assert not cache.panel_is_current(tmp_path, real_data, PanelOptions(undated="predate"), False)
    # one read file with one byte changed (a copy of the data directory with links to the rest)
    copy = tmp_path / "raw"
    for f in registry.catalogue():
        src = f.path(real_data, real_data)
        if not f.curated and src.is_file():
            dst = copy / src.relative_to(real_data)
            dst.parent.mkdir(parents=True, exist_ok=True)
            dst.symlink_to(src)
    assert cache.panel_is_current(tmp_path, copy, real_build.options, False)
    target = copy / prov[cache.READS_FIELD]["lowy_2017"]["file"]
    content = target.read_bytes()
    target.unlink()
    target.write_bytes(content[:100] + bytes([content[100] ^ 1]) + content[101:])
    assert not cache.panel_is_current(tmp_path, copy, real_build.options, False)


def test_reads_are_named_relative_to_a_linked_data_directory(tmp_path):
    """The same file named through a symbolic link to the data directory or through its target
    gets the same entry (the delineation reader resolves links, the others do not)."""
    target = tmp_path / "raw"
    source = registry.get("lowy_2016")
    path = source.path(target, tmp_path)
    path.parent.mkdir(parents=True)
    path.write_text("x")
    link = tmp_path / "link"
    link.symlink_to(target)
    through_link = cache.describe_reads({"lowy_2016": source.path(link, tmp_path)}, link)
    resolved = cache.describe_reads({"lowy_2016": path.resolve()}, link)
    assert through_link == resolved
    assert not through_link["lowy_2016"]["file"].startswith("/")
