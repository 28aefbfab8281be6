"""When a built panel or the estimates can be reused: their cache keys.

**Panel.** A build is current iff the code (:func:`code_fingerprint`), the options, the
package versions (:func:`package_versions`) and the checksum of every catalogued file the
build read are unchanged. Which files a build read is not a hand-kept list: the panel
build records them while it reads (:func:`citydip.panel.build.load_inputs` with
:func:`citydip.sources.registry.recording`), and ``provenance.json`` stores them as
``inputs_read`` (catalogue key -> file, sha256) next to ``build_key``
(:func:`panel_key` of all of the above). :func:`panel_is_current` resolves each recorded
key again (a new BEA release matching the same pattern is a different file), hashes the
files now and compares the key.

**Estimates.** :func:`estimates_key`: the panel's bytes, the code and the package versions.
"""

from __future__ import annotations

import hashlib
import json
import platform
from collections.abc import Iterable, Mapping
from functools import lru_cache
from importlib import metadata
from pathlib import Path

from citydip.config import PROJECT_ROOT, curated_dir

#: Distributions whose version can change a number citydip writes (estimators, linear algebra,
#: readers, place-matching gazetteers, figures); recorded in provenance and part of both keys.
PACKAGES = ("pyfixest", "statsmodels", "numba", "scikit-learn", "numpy", "pandas", "scipy", "formulaic",
            "wildboottest", "pyarrow", "python-calamine", "matplotlib", "zipcodes", "geotext")

#: ``provenance.json`` entry holding the files the build read.
READS_FIELD = "inputs_read"


def _distribution_version(name: str) -> str:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return "not installed"


def package_versions() -> dict[str, str]:
    """Installed version of each of :data:`PACKAGES` ("not installed" if absent), and Python's."""
    return {"python": platform.python_version(), **{name: _distribution_version(name) for name in PACKAGES}}


@lru_cache(maxsize=1)
def code_fingerprint() -> str:
    """sha256 over the package's source and data files: any code change invalidates caches."""
    digest = hashlib.sha256()
    package = PROJECT_ROOT / "citydip"
    for path in sorted(p for p in package.rglob("*") if p.suffix in (".py", ".csv") and p.is_file()):
        digest.update(str(path.relative_to(package)).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


# -- files read ------------------------------------------------------------------------------------
def sha256_of(path: Path) -> str | None:
    """sha256 of a file, None if it is not there."""
    path = Path(path)
    if not path.is_file():
        return None
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def describe_reads(paths: Mapping[str, Path], data_dir: Path, curated_root: Path | None = None) -> dict[str, dict]:
    """``{key: {"file": name, "sha256": hash}}`` for catalogued files read from these paths;
    the name is relative to the data directory (curated files: ``curated/<name>``)."""
    from citydip.sources import registry

    curated_root = Path(curated_root or curated_dir())
    out = {}
    for key in sorted(paths):
        source = registry.get(key)
        root = curated_root if source.curated else Path(data_dir)
        path = Path(paths[key])
        try:  # linked folders resolved on both sides (a data directory reached through a link);
            # the file itself may be a link (a copy of the data directory made of links)
            name = (path.parent.resolve() / path.name).relative_to(root.resolve()).as_posix()
        except ValueError:
            name = str(path)
        out[key] = {"file": ("curated/" if source.curated else "") + name, "sha256": sha256_of(path)}
    return out


def current_reads(keys: Iterable[str], data_dir: Path, curated_root: Path | None = None) -> dict[str, dict]:
    """The files the catalogue resolves for ``keys`` now, with their checksums (an unknown key,
    e.g. one renamed since, is reported with file and sha256 None)."""
    from citydip.sources import registry

    curated_root = Path(curated_root or curated_dir())
    paths, unknown = {}, {}
    for key in keys:
        try:
            paths[key] = registry.get(key).path(data_dir, curated_root)
        except KeyError:
            unknown[key] = {"file": None, "sha256": None}
    return {**describe_reads(paths, data_dir, curated_root), **unknown}


# -- keys ------------------------------------------------------------------------------------------
def config_key(options, synthetic: bool, versions: Mapping[str, str] | None = None) -> str:
    """The part of the panel key known before building: code, options, package versions and
    whether the panel is synthetic (e.g. to name a cache folder per configuration)."""
    digest = hashlib.sha256()
    digest.update(code_fingerprint().encode())
    digest.update(json.dumps(options.as_dict(), sort_keys=True, default=str).encode())
    digest.update(json.dumps(dict(versions if versions is not None else package_versions()), sort_keys=True).encode())
    digest.update(b"synthetic" if synthetic else b"real")
    return digest.hexdigest()


def panel_key(options, synthetic: bool, reads: Mapping[str, Mapping], versions: Mapping[str, str] | None = None) -> str:
    """Key of a panel: :func:`config_key` and every file read (key, file name, sha256)."""
    digest = hashlib.sha256(config_key(options, synthetic, versions).encode())
    for key in sorted(reads):
        entry = reads[key]
        digest.update(json.dumps([key, entry.get("file"), entry.get("sha256")]).encode())
    return digest.hexdigest()


def read_provenance(build_dir: Path) -> dict | None:
    path = Path(build_dir) / "provenance.json"
    if not path.is_file():
        return None
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except ValueError:
        return None


def expected_panel_key(build_dir: Path, data_dir: Path, options, synthetic: bool) -> str | None:
    """The key the panel in ``build_dir`` would have if it were current: today's code, options,
    versions, and today's checksums of the files its build recorded as read. None when there
    is no panel or no record of what it read (a build from before reads were recorded)."""
    provenance = read_provenance(build_dir)
    if provenance is None or not (Path(build_dir) / "panel.parquet").is_file():
        return None
    recorded = provenance.get(READS_FIELD)
    if recorded is None:
        return None
    return panel_key(options, synthetic, current_reads(recorded, data_dir) if recorded else {})


def panel_is_current(build_dir: Path, data_dir: Path, options, synthetic: bool) -> bool:
    """True when ``build_dir`` holds a panel built with these options, this code and these
    package versions from files identical to the ones it read (see the module docstring)."""
    provenance = read_provenance(build_dir)
    if provenance is None or bool(provenance.get("synthetic", False)) != bool(synthetic):
        return False
    expected = expected_panel_key(build_dir, data_dir, options, synthetic)
    return expected is not None and provenance.get("build_key") == expected


def estimates_key(panel_path: Path, versions: Mapping[str, str] | None = None) -> str:
    """Key of the estimates of a panel: its bytes, the code and the package versions."""
    digest = hashlib.sha256(Path(panel_path).read_bytes())
    digest.update(code_fingerprint().encode())
    digest.update(json.dumps(dict(versions if versions is not None else package_versions()), sort_keys=True).encode())
    return digest.hexdigest()
