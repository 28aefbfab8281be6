"""``citydip replicate``: raw files -> panel -> estimates -> executed notebooks in results/.

Steps are skipped when their inputs have not changed: the panel is rebuilt only if a file its
build read, the options, the package's code or a package version changed (a key recorded in
``provenance.json`` with the files read), and the models are re-estimated only if the panel,
the code or a package version changed (``estimates.key``); the keys are made in
:mod:`citydip.cache`. With no published files in the data directory, everything runs on the
synthetic demo panel and says so in every output.
"""

from __future__ import annotations

import shutil
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from citydip import cache
from citydip.atomic import atomic_write_text
from citydip.cache import code_fingerprint, panel_is_current  # noqa: F401  (key logic lives in citydip.cache)
from citydip.config import curated_dir
from citydip.console import Console, LineConsole
from citydip.errors import MissingSourceError
from citydip.panel.options import PanelOptions
from citydip.sources import registry


def build_key(data_dir: Path, options: PanelOptions, synthetic: bool) -> str:
    """The configuration part of the panel's key (code, options, package versions, real or
    synthetic), known before building: it names a cache folder per configuration. Whether a
    built panel is current also depends on the files its build recorded as read: see
    :func:`panel_is_current` (:mod:`citydip.cache`)."""
    return cache.config_key(options, synthetic)


def has_raw_data(data_dir: Path) -> bool:
    """True when the export workbook, the panel's outcome, is in the data directory."""
    return registry.get("ita_xlsx").path(data_dir, curated_dir()).is_file()


def write_panel(data_dir: Path, build_dir: Path, options: PanelOptions, *, synthetic: bool,
                with_variants: bool = True, say: Callable[[str], None] | None = None):
    """Build the panel (and, from the same inputs, its robustness variants) into ``build_dir``.
    The synthetic demo panel has no variants; stale ones are removed. The key in
    ``provenance.json`` is made from the files the build read (:mod:`citydip.cache`)."""
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
    build.write_outputs(result, build_dir)
    return result


def ensure_panel(data_dir: Path, build_dir: Path, options: PanelOptions, *, synthetic: bool, force: bool = False,
                 with_variants: bool = True, step: str = "panel", say: Callable[[str], None] | None = None,
                 detail: Callable[[str], None] | None = None) -> bool:
    """Make ``build_dir`` hold the panel of these inputs and options (and, with
    ``with_variants``, its robustness variants): reuse it when its key is current and the
    variants asked for are there (returns True), else build it (returns False). A build
    without variants (e.g. by :func:`citydip.load_panel`) is not reused by one that needs them.
    ``say`` gets the step's line, ``detail`` each sub-step (default: ``say``, indented)."""
    say = say or (lambda _m: None)
    detail = detail or (lambda m: say(f"      {m}"))
    variants_missing = with_variants and not synthetic and not (build_dir / "variants" / "index.json").is_file()
    if not force and not variants_missing and panel_is_current(build_dir, data_dir, options, synthetic):
        say(f"{step}: inputs unchanged, reusing {build_dir / 'panel.parquet'}")
        return True
    say(f"{step}: building" + (" the SYNTHETIC demo panel" if synthetic else " from the published files"))
    try:
        write_panel(data_dir, build_dir, options, synthetic=synthetic, with_variants=with_variants, say=detail)
    except MissingSourceError as exc:
        raise MissingSourceError(exc.path, exc.message, hint="run `citydip fetch`, or remove the partial "
                                 "data directory to run the synthetic demo") from None
    return False


def estimates_key(build_dir: Path) -> str:
    """Fingerprint of what the estimates depend on: the panel's bytes, the code and the package
    versions (:func:`citydip.cache.estimates_key`)."""
    return cache.estimates_key(build_dir / "panel.parquet")


def ensure_estimates(build_dir: Path, *, force: bool = False, step: str = "estimates",
                     say: Callable[[str], None] | None = None, detail: Callable[[str], None] | None = None) -> bool:
    """Make ``build_dir`` hold the catalogue's estimates of its panel: reuse them when current
    (returns True), else fit the catalogue and the forest analysis (returns False). ``say``
    gets the step's line, ``detail`` each sub-step (default: ``say``, indented)."""
    from citydip.report import outputs

    say = say or (lambda _m: None)
    detail = detail or (lambda m: say(f"      {m}"))
    key = estimates_key(build_dir)
    key_file = build_dir / "estimates.key"
    if not force and key_file.is_file() and key_file.read_text().strip() == key \
            and (build_dir / "estimates.csv").is_file():
        say(f"{step}: panel unchanged, reusing {build_dir / 'estimates.csv'}")
        return True
    say(f"{step}: fitting the model catalogue and the forest analysis")
    outputs.estimate_and_write(build_dir / "panel.parquet", build_dir, progress=detail)
    atomic_write_text(key_file, key + "\n")
    return False


@dataclass
class StepTimes:
    build: float = 0.0
    estimate: float = 0.0
    report: float = 0.0
    reused: tuple[str, ...] = ()


def replicate(data_dir: Path, build_dir: Path, results_dir: Path, *, options: PanelOptions | None = None,
              force: bool = False, workers: int = 2, say: Callable[[str], None] | None = None,
              console: Console | None = None, log: Path | None = None) -> StepTimes:
    """Run build, estimate and report, reusing what is current. Returns step timings (seconds).

    Progress goes to ``console`` (one line per step, bars, sub-steps in the log) or, without
    one, every line to ``say`` (default: stderr). The report replaces ``results_dir`` whole at
    its end (:func:`citydip.report.execute.run_all`); the notebook kernels' output goes to
    ``log`` (default ``<build>/logs/report.log``)."""
    from citydip.report import execute

    console = console or LineConsole(say or (lambda m: print(m, file=sys.stderr)))
    options = options or PanelOptions()
    synthetic = not has_raw_data(data_dir)
    times = StepTimes()
    reused = []

    start = time.perf_counter()
    if ensure_panel(data_dir, build_dir, options, synthetic=synthetic, force=force, step="[1/3] panel",
                    say=console.step, detail=console.detail):
        reused.append("build")
    times.build = time.perf_counter() - start

    start = time.perf_counter()
    if ensure_estimates(build_dir, force=force, step="[2/3] estimates", say=console.step, detail=console.detail):
        reused.append("estimate")
    times.estimate = time.perf_counter() - start

    start = time.perf_counter()
    console.step(f"[3/3] report: executing the notebooks into {results_dir}/ ({workers} at a time)",
                 total=len(execute.notebook_sources()))
    execute.run_all(results_dir, build_dir, workers=workers, progress=lambda m: console.detail(m, count=False),
                    tick=console.tick, log=log)
    console.close()
    times.report = time.perf_counter() - start
    times.reused = tuple(reused)
    return times
