"""Curve-level null test (:meth:`citydip.estimation.speccurve.SpecCurve.null_test`) on the
report's full specification curve: the wild cluster restricted bootstrap with the design held
fixed (``method="bootstrap"``, the default: every draw a matrix product) against the previous
method (``method="resample"``: metros resampled and the curve re-estimated, re-demeaned, in
every draw), side by side in one run.

Usage::

    CITYDIP_DATA_DIR=../shared/data/raw python benchmarks/null_test.py [--build DIR] [--draws 999]
        [--repeats 3] [--old-draws 9] [--out results/benchmarks.md]

The curve is notebook 08's (:func:`citydip.analysis.multiverse.build_curve`) with its
metro-clustered inference: the default panel and every robustness variant (``DIR`` holds
``panel.parquet`` and ``variants/`` as written by ``citydip build --variants --out DIR``;
default: the build folder, else the panel and variants are built through
``citydip.load_variants``), 4 treatments x (log exports with 5 control sets + log exports per
capita without controls) x 3 fixed-effect structures x the notebook's samples: 4,320
regressions. Both methods test the same specifications (those estimated), in the same groups:
year effects pooled (metro + year, year) and metro-only fixed effects apart.

Times are wall clock of one ``null_test`` call (the curve's projections included, the fit of
the observed curve not), medians over ``--repeats`` calls of each method, alternating, after a
warm-up of each; seconds per specification per draw = seconds / (specifications x draws). The
machine's load average is recorded before and after. The Markdown section is printed and
written into ``--out`` (its other sections kept).
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time
from pathlib import Path

import pandas as pd

from citydip import __version__
from citydip.analysis import multiverse as mu
from citydip.analysis.robustness import with_default
from citydip.atomic import atomic_write_text
from citydip.config import build_dir
from citydip.estimation.catalogue import MEASURES
from citydip.estimation.speccurve import NULL_DRAWS, NULL_SEED, concat_curves, spec_curve

sys.path.insert(0, str(Path(__file__).resolve().parent))
from speccurve import replace_section

HEADING = "## Curve-level null test (`benchmarks/null_test.py`)"


def panels(folder: Path | None) -> tuple[dict[str, pd.DataFrame], str]:
    """The default panel and its variants, prepared as notebook 08 prepares them, and where they came from."""
    from citydip.panel.variants import read_variants

    folder = folder or build_dir()
    if (folder / "panel.parquet").is_file() and (folder / "variants" / "index.json").is_file():
        panel = pd.read_parquet(folder / "panel.parquet")
        index, variants = read_variants(folder / "variants")
        source = str(folder)
    else:
        import citydip

        print("building the panel and its variants (citydip.load_variants) ...", file=sys.stderr, flush=True)
        panel = citydip.load_panel(variants=True).data
        loaded = citydip.load_variants()
        index = [{"name": name} for name in loaded]
        variants = {name: p.data for name, p in loaded.items()}
        source = "citydip.load_variants()"
    return {name: mu.prepare(frame) for name, frame in with_default(panel, index, variants)[0].items()}, source


def full_curve(prepared: dict[str, pd.DataFrame]):
    """The curve of :func:`citydip.analysis.multiverse.build_curve`, metro-clustered, as one
    :class:`SpecCurve`, and the groups that select its 4,320 regressions (log exports per capita
    only without controls)."""
    samples = mu.samples(prepared[mu.DEFAULT])
    shared = dict(outcomes=list(mu.OUTCOMES), fixed_effects=dict(mu.FIXED_EFFECTS), samples=dict(samples), vcov="CRV1")
    curve = concat_curves([spec_curve(prepared, treatments=list(MEASURES), controls=mu.CONTROLS, **shared),
                           spec_curve(prepared, treatments="consulates_general",
                                      controls=mu.CONSULATES_GENERAL_CONTROLS, **shared)])
    report = "(outcome == 'log_exports' or controls == 'none')"
    groups = {"pooled (metro + year, year)": f"{report} and fixed_effects != 'metro'",
              "metro only": f"{report} and fixed_effects == 'metro'"}
    return curve, groups, samples


def run(curve, groups, draws: int, method: str):
    start = time.perf_counter()
    test = curve.null_test(draws=draws, method=method, seed=NULL_SEED, groups=groups)
    return time.perf_counter() - start, test


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--build", type=Path, default=None, help="folder with panel.parquet and variants/")
    parser.add_argument("--draws", type=int, default=NULL_DRAWS, help="draws of the new method (default 999)")
    parser.add_argument("--old-draws", type=int, default=9, help="draws of the previous method per call (default 9)")
    parser.add_argument("--repeats", type=int, default=3, help="timed calls per method (default 3)")
    parser.add_argument("--out", default="results/benchmarks.md", help="Markdown output (default results/benchmarks.md)")
    args = parser.parse_args(argv)
    load_before = os.getloadavg()
    prepared, source = panels(args.build)
    print(f"fitting the curve on {len(prepared)} panels ...", file=sys.stderr, flush=True)
    start = time.perf_counter()
    curve, groups, samples = full_curve(prepared)
    fit_s = time.perf_counter() - start
    selected = curve.results.query(" or ".join(f"({g})" for g in groups.values()))
    regressions = len(selected)
    estimated = int(selected.coefficient.notna().sum())
    print(f"{regressions:,} regressions, {estimated:,} estimated; warm-up ...", file=sys.stderr, flush=True)
    run(curve, groups, 9, "bootstrap")
    run(curve, groups, 1, "resample")
    new_s, old_s, tests = [], [], []
    for r in range(args.repeats):
        print(f"run {r + 1}/{args.repeats}: bootstrap, {args.draws} draws ...", file=sys.stderr, flush=True)
        seconds, test = run(curve, groups, args.draws, "bootstrap")
        new_s.append(seconds)
        tests.append(test)
        print(f"  {seconds:.2f} s; resample, {args.old_draws} draws ...", file=sys.stderr, flush=True)
        old_s.append(run(curve, groups, args.old_draws, "resample")[0])
        print(f"  {old_s[-1]:.2f} s", file=sys.stderr, flush=True)
    load_after = os.getloadavg()
    specs = int(tests[0].groups.specifications.sum())
    assert specs == estimated, (specs, estimated)
    assert all(t.null.equals(tests[0].null) for t in tests), "the bootstrap is not deterministic"
    new, old = statistics.median(new_s), statistics.median(old_s)
    new_us, old_us = 1e6 * new / (specs * args.draws), 1e6 * old / (specs * args.old_draws)
    summary = tests[0].summary()
    row = {"regressions": regressions, "specs": specs, "draws": args.draws, "new_s": new, "new_max": max(new_s),
           "new_us": new_us, "old_us": old_us, "ratio": old_us / new_us}
    text = section(row, args, len(prepared), samples, fit_s, load_before, load_after, source, summary)
    print(text)
    out = Path(args.out)
    atomic_write_text(out, replace_section(out.read_text() if out.is_file() else "", text))
    return 0


def section(r, args, n_panels, samples, fit_s, load_before, load_after, source, summary) -> str:
    p = summary.reset_index().set_index(["group", "statistic"]).p_value
    return "\n".join([
        HEADING, "",
        f"citydip {__version__}, Python {platform.python_version()}, {os.cpu_count()} CPUs ({platform.machine()}), "
        f"BLAS single-threaded; load average (1, 5, 15 min) {', '.join(f'{x:.1f}' for x in load_before)} before and "
        f"{', '.join(f'{x:.1f}' for x in load_after)} after (other jobs shared the machine when above 0). The report's "
        f"full curve (notebook 08, metro-clustered): {n_panels} panels (the default and its robustness variants, from "
        f"{'the build folder' if source != 'citydip.load_variants()' else source}) x 4 treatments x (log exports with 5 "
        f"control sets + log exports per capita without controls) x 3 fixed-effect structures x {len(samples)} samples "
        f"= {r['regressions']:,} regressions, of which {r['specs']:,} estimated enter the test, in two groups (year "
        "effects pooled; metro-only fixed effects apart); fitting the observed curve takes "
        f"{fit_s:.1f} s and is not counted.", "",
        f"New: `null_test(method=\"bootstrap\")`, the wild cluster restricted bootstrap with the design fixed (each "
        "specification's projection computed once, every draw a matrix product), median of "
        f"{args.repeats} calls. Previous: `null_test(method=\"resample\")` (metros resampled, the curve re-estimated "
        f"and re-demeaned in every draw; the default until now), {args.old_draws} draws per call, median of "
        f"{args.repeats} calls, alternating with the new one in the same run. Per specification per draw = seconds / "
        "(specifications x draws).", "",
        "| specifications (regressions / estimated) | draws | seconds, new (max) | us per spec per draw, previous | "
        "us per spec per draw, new | ratio |",
        "|---|---:|---:|---:|---:|---:|",
        f"| {r['regressions']:,} / {r['specs']:,} | {r['draws']:,} | {r['new_s']:.1f} ({r['new_max']:.1f}) | "
        f"{r['old_us']:.1f} | {r['new_us']:.2f} | {r['ratio']:.0f}x |", "",
        "p-values of the real curve at these draws (seed 20250101): " + "; ".join(
            f"{g}: median {p[(g, 'median_estimate')]:.3f}, share significant {p[(g, 'share_significant')]:.3f}, "
            f"Stouffer z {p[(g, 'stouffer_z')]:.3f}" for g in summary.group.unique()) + ".",
    ]) + "\n"


if __name__ == "__main__":
    raise SystemExit(main())
