"""``citydip replicate``: raw files -> panel -> estimates -> executed notebooks in results/.

Steps are skipped when their inputs have not changed: the panel is rebuilt only if an input
file, the options or the package's code changed (a key recorded in ``provenance.json``), and
the models are re-estimated only if the panel or the code changed (``estimates.key``). With
no published files in the data directory, everything runs on the synthetic demo panel and
says so in every output.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from citydip.atomic import atomic_write_text
from citydip.config import PROJECT_ROOT, curated_dir
from citydip.errors import MissingSourceError
from citydip.panel.options import PanelOptions
from citydip.sources import registry

#: Source files the panel reads (their checksums enter the build key).
PANEL_SOURCES = ("bea_cainc1_msa", "bea_cagdp1_msa", "bea_cagdp1_counties", "ita_xlsx", "lowy_2016", "lowy_2017",
                 "lowy_2019", "climactor_2020", "climactor_2022", "census_list1_2013", "census_list1_2020",
                 "census_list1_2023", "census_list2_2015", "census_list2_2020", "census_list2_2023",
                 "census_list1_2018_derived", "census_list2_2018_modified", "curated_sister_cities",
                 "curated_network_memberships", "curated_consulate_events", "curated_errata")


@lru_cache(maxsize=1)
def code_fingerprint() -> str:
    """sha256 over the package's source and data files: any code change invalidates caches."""
    digest = hashlib.sha256()
    package = PROJECT_ROOT / "citydip"
    for path in sorted(p for p in package.rglob("*") if p.suffix in (".py", ".csv") and p.is_file()):
        digest.update(str(path.relative_to(package)).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def build_key(data_dir: Path, options: PanelOptions, synthetic: bool) -> str:
    """Fingerprint of everything a panel depends on."""
    digest = hashlib.sha256()
    digest.update(code_fingerprint().encode())
    digest.update(json.dumps(options.as_dict(), sort_keys=True, default=str).encode())
    digest.update(b"synthetic" if synthetic else b"real")
    if not synthetic:
        for key in PANEL_SOURCES:
            source = registry.get(key)
            path = source.path(data_dir, curated_dir())
            digest.update(key.encode())
            digest.update(hashlib.sha256(path.read_bytes()).digest() if path.is_file() else b"missing")
    return digest.hexdigest()


def has_raw_data(data_dir: Path) -> bool:
    """True when the export workbook, the panel's outcome, is in the data directory."""
    return registry.get("ita_xlsx").path(data_dir, curated_dir()).is_file()


def write_panel(data_dir: Path, build_dir: Path, options: PanelOptions, *, synthetic: bool, key: str = "",
                with_variants: bool = True, say: Callable[[str], None] | None = None):
    """Build the panel (and, from the same inputs, its robustness variants) into ``build_dir``.
    The synthetic demo panel has no variants; stale ones are removed."""
    from citydip.panel import build, variants

    say = say or (lambda _m: None)
    variant_dir = build_dir / "variants"
    shutil.rmtree(variant_dir, ignore_errors=True)
    if synthetic:
        result = build.build_synthetic(options)
    else:
        build.check_years(options)
        inputs = build.load_inputs(data_dir, progress=say)
        result = build.construct(inputs, options, progress=say)
        if with_variants:
            variants.write_variants(inputs, options, variant_dir, progress=say)
    result.build_key = key
    build.write_outputs(result, build_dir)
    return result


def panel_is_current(build_dir: Path, key: str) -> bool:
    """True when ``build_dir`` holds a panel built with ``key``."""
    provenance = build_dir / "provenance.json"
    return (provenance.is_file() and (build_dir / "panel.parquet").is_file()
            and json.loads(provenance.read_text()).get("build_key") == key)


def ensure_panel(data_dir: Path, build_dir: Path, options: PanelOptions, *, synthetic: bool, force: bool = False,
                 with_variants: bool = True, step: str = "panel", say: Callable[[str], None] | None = None) -> bool:
    """Make ``build_dir`` hold the panel of these inputs and options: reuse it when its key is
    current (returns True), else build it (returns False)."""
    say = say or (lambda _m: None)
    key = build_key(data_dir, options, synthetic)
    if not force and panel_is_current(build_dir, key):
        say(f"{step}: inputs unchanged, reusing {build_dir / 'panel.parquet'}")
        return True
    say(f"{step}: building" + (" the SYNTHETIC demo panel" if synthetic else " from the published files"))
    try:
        write_panel(data_dir, build_dir, options, synthetic=synthetic, key=key, with_variants=with_variants,
                    say=lambda m: say(f"      {m}"))
    except MissingSourceError as exc:
        raise MissingSourceError(exc.path, exc.message, hint="run `citydip fetch`, or remove the partial "
                                 "data directory to run the synthetic demo") from None
    return False


def estimates_key(build_dir: Path) -> str:
    """Fingerprint of what the estimates depend on: the panel's bytes and the code."""
    panel_path = build_dir / "panel.parquet"
    return hashlib.sha256(panel_path.read_bytes() + code_fingerprint().encode()).hexdigest()


def ensure_estimates(build_dir: Path, *, force: bool = False, step: str = "estimates",
                     say: Callable[[str], None] | None = None) -> bool:
    """Make ``build_dir`` hold the catalogue's estimates of its panel: reuse them when current
    (returns True), else fit the catalogue and the forest analysis (returns False)."""
    from citydip.estimation import outputs

    say = say or (lambda _m: None)
    key = estimates_key(build_dir)
    key_file = build_dir / "estimates.key"
    if not force and key_file.is_file() and key_file.read_text().strip() == key \
            and (build_dir / "estimates.csv").is_file():
        say(f"{step}: panel unchanged, reusing {build_dir / 'estimates.csv'}")
        return True
    say(f"{step}: fitting the model catalogue and the forest analysis")
    outputs.estimate_and_write(build_dir / "panel.parquet", build_dir, progress=lambda m: say(f"      {m}"))
    atomic_write_text(key_file, key + "\n")
    return False


@dataclass
class StepTimes:
    build: float = 0.0
    estimate: float = 0.0
    report: float = 0.0
    reused: tuple[str, ...] = ()


def replicate(data_dir: Path, build_dir: Path, results_dir: Path, *, options: PanelOptions | None = None,
              force: bool = False, workers: int = 2, say: Callable[[str], None] | None = None) -> StepTimes:
    """Run build, estimate and report, reusing what is current. Returns step timings."""
    from citydip.report import execute

    say = say or (lambda m: print(m, file=sys.stderr))
    options = options or PanelOptions()
    synthetic = not has_raw_data(data_dir)
    times = StepTimes()
    reused = []

    start = time.perf_counter()
    if ensure_panel(data_dir, build_dir, options, synthetic=synthetic, force=force, step="[1/3] panel", say=say):
        reused.append("build")
    times.build = time.perf_counter() - start

    start = time.perf_counter()
    if ensure_estimates(build_dir, force=force, step="[2/3] estimates", say=say):
        reused.append("estimate")
    times.estimate = time.perf_counter() - start

    start = time.perf_counter()
    say(f"[3/3] report: executing the notebooks into {results_dir}/ ({workers} at a time)")
    execute.run_all(results_dir, build_dir, workers=workers, progress=lambda m: say(f"      {m}"))
    times.report = time.perf_counter() - start
    times.reused = tuple(reused)
    return times
