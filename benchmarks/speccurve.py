"""Specification curves: the engine (:func:`citydip.estimation.speccurve.spec_curve`) against a
loop of ``pyfixest.feols`` and against pyfixest's multiple-estimation syntax, on the same data
and the same specifications.

Usage::

    CITYDIP_DATA_DIR=../shared/data/raw python benchmarks/speccurve.py [--repeats 3] [--out results/benchmarks.md]

Panels: the real panel when the published files are found (100 metros x 2005-2021), and
synthetic panels of 100, 384 and 3,000 metros x 17 years. Specifications (960 per panel):
4 outcomes (log exports, log real exports, exports per capita, log exports per capita) x 5
treatments (sister ties, consular posts, consulates general, networks, diplomacy index) x 4
cumulative control sets (none, + log population, + log per-capita income, + log real GDP)
x 3 fixed-effect structures (none, year, year + metro) x 4 samples (all, small, mid, large
metros), every one with standard errors clustered by metro (CRV1). The multiple-estimation
syntax expresses exactly this set: ``y1 + y2 + y3 + y4 ~ sw(treatments) + csw0(controls) |
csw0(year, cbsa_code)`` with ``fsplit="size_class"``.

pyfixest is timed on subsets and reported per model: the loop on ``--loop-subset`` seeded
specifications, the multiple-estimation syntax on the first outcome (240 models, fewer when a
treatment must be left out because pyfixest would raise on it). Times
are medians over ``--repeats`` runs (wall clock, after one warm-up of each method). The
engine's estimates are compared with the multiple-estimation syntax's (pyfixest defaults,
demeaning tolerance 1e-6). Peak memory of one engine run is measured with tracemalloc
(Python and NumPy allocations; not the buffers pyfixest's compiled demeaning routine keeps
internally) against the largest demeaned block (one estimation sample's demeaned columns).
The Markdown section is printed and written atomically into ``--out``, replacing its own
section and keeping the others (``benchmarks/null_test.py`` writes one there too).
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import statistics
import sys
import time
import tracemalloc
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from citydip import __version__
from citydip.atomic import atomic_write_text
from citydip.config import data_dir
from citydip.estimation.speccurve import size_class_samples, spec_curve
from citydip.panel.synthetic import synthetic_panel

#: Outcomes. Export levels in dollars are left out: pyfixest's demeaning (absolute tolerance
#: 1e-6) does not converge on them in the unbalanced real panel (the engine's does).
OUTCOMES = ["log_exports", "log_exports_real", "exports_per_capita_usd", "log_exports_per_capita"]
TREATMENTS = ["sister_active", "consular_posts", "consulates_general", "networks_dated", "diplomacy_index"]
CONTROLS = ["log_population", "log_per_capita_income", "log_real_gdp"]
FIXED_EFFECTS = {"none": [], "year": ["year"], "year + metro": ["year", "cbsa_code"]}
SYNTHETIC_METROS = (100, 384, 3000)
SEED = 20250101


def choices() -> dict:
    return dict(outcomes=OUTCOMES, treatments=TREATMENTS,
                controls={"none": []} | {" + ".join(CONTROLS[:k]): CONTROLS[:k] for k in (1, 2, 3)},
                fixed_effects=FIXED_EFFECTS, samples={"all": None, **size_class_samples()}, vcov="CRV1")


def prepare(panel: pd.DataFrame) -> pd.DataFrame:
    panel = panel.copy()
    with np.errstate(divide="ignore", invalid="ignore"):
        panel["log_exports_real"] = np.log(panel["exports_real_usd"].where(panel["exports_real_usd"] > 0))
        per_capita = panel["exports_per_capita_usd"]
        panel["log_exports_per_capita"] = np.log(per_capita.where(per_capita > 0))
    panel["size_class"] = panel["size_class"].astype(str)
    return panel


def run_engine(panel: pd.DataFrame):
    return spec_curve(panel, **choices())


def multi_formula(outcomes: list[str], treatments: list[str]) -> str:
    return (f"{' + '.join(outcomes)} ~ sw({', '.join(treatments)}) + csw0({', '.join(CONTROLS)}) | "
            "csw0(year, cbsa_code)")


def run_multi(panel: pd.DataFrame, outcomes: list[str], treatments: list[str]):
    import pyfixest as pf

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return pf.feols(multi_formula(outcomes, treatments), data=panel, vcov={"CRV1": "cbsa_code"},
                        fsplit="size_class")


def run_loop(panel: pd.DataFrame, rows: pd.DataFrame) -> None:
    import pyfixest as pf

    fe = {"none": "", "year": " | year", "year + metro": " | year + cbsa_code"}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for row in rows.itertuples(index=False):
            controls = [] if row.controls == "none" else row.controls.split(" + ")
            data = panel if row.sample == "all" else panel[panel["size_class"] == row.sample]
            pf.feols(f"{row.outcome} ~ {' + '.join([row.treatment, *controls])}{fe[row.fixed_effects]}", data=data,
                     vcov={"CRV1": "cbsa_code"})


def timed(fn, repeats: int) -> float:
    fn()  # warm-up
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def agreement(curve, multi) -> tuple[float, float, float, int]:
    """Largest relative differences, engine vs multiple estimation, over the models both
    fitted: coefficients with fixed effects, coefficients without, standard errors."""
    res = curve.results.set_index(["outcome", "treatment", "controls", "fixed_effects", "sample"])
    fe = {None: "none", "0": "none", "year": "year", "year+cbsa_code": "year + metro"}
    worst_b, worst_b_none, worst_se = 0.0, 0.0, 0.0
    n = 0
    for model in multi.all_fitted_models.values():
        names = [c for c in model._coefnames if c != "Intercept"]
        sample = "all" if str(model._sample_split_value) in ("all", "_ALL_SAMPLE") else str(model._sample_split_value)
        fixef = fe.get(None if model._fixef is None else model._fixef.replace(" ", ""), model._fixef)
        key = (model._depvar, names[0], " + ".join(names[1:]) or "none", fixef, sample)
        row = res.loc[key]
        b, se = float(model.coef()[names[0]]), float(model.se()[names[0]])
        if fixef == "none":
            worst_b_none = max(worst_b_none, abs(row.coefficient - b) / abs(b))
        else:
            worst_b = max(worst_b, abs(row.coefficient - b) / abs(b))
        worst_se = max(worst_se, abs(row.std_error - se) / se)
        n += 1
    return worst_b, worst_b_none, worst_se, n


def bench(label: str, panel: pd.DataFrame, repeats: int, loop_subset: int) -> dict:
    print(f"{label}: engine ...", file=sys.stderr, flush=True)
    panel = prepare(panel)
    engine_s = timed(lambda: run_engine(panel), repeats)
    curve = run_engine(panel)
    n_specs = len(curve.results)
    tracemalloc.start()
    run_engine(panel)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    rng = np.random.default_rng(SEED)
    subset = curve.results.iloc[np.sort(rng.choice(n_specs, loop_subset, replace=False))]
    print(f"{label}: feols loop on {loop_subset} specifications ...", file=sys.stderr, flush=True)
    loop_s = timed(lambda: run_loop(panel, subset), repeats) / loop_subset
    print(f"{label}: multiple-estimation syntax ...", file=sys.stderr, flush=True)
    # a treatment the engine reports as collinear somewhere makes pyfixest's multiple
    # estimation raise for the whole batch: such treatments are left out of its subset
    res = curve.results
    treatments = [t for t in TREATMENTS if res.loc[res["treatment"] == t, "coefficient"].notna().all()]
    multi = run_multi(panel, OUTCOMES[:1], treatments)
    n_multi = len(multi.all_fitted_models)
    multi_s = timed(lambda: run_multi(panel, OUTCOMES[:1], treatments), repeats) / n_multi
    worst_b, worst_b_none, worst_se, n_compared = agreement(curve, multi)
    return {"panel": label, "rows": len(panel), "specs": n_specs, "engine_s": engine_s,
            "engine_ms": 1e3 * engine_s / n_specs, "loop_ms": 1e3 * loop_s, "loop_n": loop_subset,
            "multi_ms": 1e3 * multi_s, "multi_n": n_multi, "vs_loop": loop_s * n_specs / engine_s,
            "vs_multi": multi_s * n_specs / engine_s, "coef_diff": worst_b, "coef_diff_none": worst_b_none,
            "se_diff": worst_se,
            "compared": n_compared, "samples": curve.n_samples, "peak_mib": peak / 2**20,
            "multi_left_out": [t for t in TREATMENTS if t not in treatments],
            "block_mib": curve.largest_block_bytes / 2**20, "total_mib": curve.demeaned_bytes / 2**20,
            "peak_ratio": peak / curve.largest_block_bytes}


def table(rows: list[dict], repeats: int, real: bool) -> str:
    lines = [
        "## Specification curves (`benchmarks/speccurve.py`)", "",
        f"citydip {__version__}, Python {platform.python_version()}, {os.cpu_count()} CPUs ({platform.machine()}); "
        f"medians of {repeats} runs after a warm-up. 960 specifications per panel, all with metro-clustered "
        "(CRV1) standard errors: 4 outcomes x 5 treatments x 4 cumulative control sets x 3 fixed-effect "
        "structures (none, year, year + metro) x 4 samples (all, small, mid, large). "
        + ("" if real else "No published files were found: real-panel row omitted. "),
        "",
        "Engine: whole curve, wall clock. pyfixest, timed per model on subsets and extrapolated: the `feols` "
        f"loop on {rows[0]['loop_n']} seeded specifications, the multiple-estimation syntax (`sw()`, `csw0()`, "
        "`fsplit=`) on the first outcome's models (240, fewer where noted). Speed-up = pyfixest seconds per "
        "model x 960 / engine "
        "seconds. Largest differences: engine vs the multiple-estimation syntax (pyfixest defaults, demeaning "
        "tolerance 1e-6; the engine demeans to 1e-12) over those models, relative; coefficients of models with "
        "fixed effects / without (there pyfixest solves the raw normal equations, whose error on a small slope "
        "beside a large intercept the engine avoids by partialling the intercept out).",
        "",
        "| panel | rows | engine, s | engine, ms/spec | feols loop, ms/model | multi-syntax, ms/model (models) | "
        "speed-up vs loop | speed-up vs multi | max diff coef, FE / no FE | max diff SE |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    lines += [f"| {r['panel']} | {r['rows']:,} | {r['engine_s']:.3f} | {r['engine_ms']:.3f} | {r['loop_ms']:.1f} | "
              f"{r['multi_ms']:.1f} ({r['multi_n']}) | {r['vs_loop']:.0f}x | {r['vs_multi']:.0f}x | "
              f"{r['coef_diff']:.1e} / {r['coef_diff_none']:.1e} | {r['se_diff']:.1e} |" for r in rows]
    for r in rows:
        if r["multi_left_out"]:
            lines.append(f"\n{r['panel']}: {', '.join(r['multi_left_out'])} left out of the multiple-estimation "
                         "subset: it has no within-metro variation in one sample, which the engine reports as a "
                         "NaN with a note but which makes pyfixest's multiple estimation raise for the whole batch.")
    lines += [
        "", "Memory of one engine run (tracemalloc peak: Python and NumPy allocations) against the demeaned "
        "columns: the largest estimation sample's block, which is all that is held at once (samples are "
        "processed one after another), and the total over all samples.", "",
        "| panel | estimation samples | peak, MiB | largest demeaned block, MiB | peak / block | all blocks, MiB |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    lines += [f"| {r['panel']} | {r['samples']} | {r['peak_mib']:.2f} | {r['block_mib']:.2f} | {r['peak_ratio']:.2f} | "
              f"{r['total_mib']:.2f} |" for r in rows]
    return "\n".join(lines) + "\n"


def replace_section(document: str, section: str) -> str:
    """``document`` (Markdown) with the section that starts with ``section``'s first line (a
    ``## `` heading) replaced by ``section``, or ``section`` appended; the other sections kept."""
    heading = section.splitlines()[0]
    parts = [p.rstrip("\n") for p in re.split(r"(?m)^(?=## )", document) if p.strip()]
    replaced = [section.rstrip("\n") if p.splitlines()[0] == heading else p for p in parts]
    if heading not in (p.splitlines()[0] for p in parts):
        replaced.append(section.rstrip("\n"))
    return "\n\n".join(replaced) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3, help="timed runs per method (default 3)")
    parser.add_argument("--loop-subset", type=int, default=48, help="specifications timed in the feols loop")
    parser.add_argument("--metros", type=int, nargs="*", default=list(SYNTHETIC_METROS),
                        help="sizes of the synthetic panels (default 100 384 3000)")
    parser.add_argument("--out", default="results/benchmarks.md",
                        help="Markdown output (default results/benchmarks.md)")
    args = parser.parse_args(argv)
    panels = []
    from citydip.pipeline import has_raw_data

    root = data_dir()
    real = has_raw_data(root)
    if real:
        from citydip.panel.build import build_panel

        print("building the real panel ...", file=sys.stderr, flush=True)
        panels.append(("real (100 x 17)", build_panel(root).panel))
    for n in args.metros:
        panels.append((f"synthetic {n:,} x 17", synthetic_panel(seed=SEED, n_metros=n)[0]))
    rows = [bench(label, panel, args.repeats, args.loop_subset) for label, panel in panels]
    text = table(rows, args.repeats, real)
    print(text)
    out = Path(args.out)
    atomic_write_text(out, replace_section(out.read_text() if out.is_file() else "", text))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
