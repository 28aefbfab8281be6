"""``citydip estimate``: fit the catalogue on a built panel and write its outputs atomically.

Writes ``estimates.csv`` (the tidy table of every model, event studies included),
``pretrend.csv`` (one row per event study: Wald test of the leads, cohorts, exclusions),
``tables/`` (main and robustness regression tables in Markdown, LaTeX and HTML) and
``figures/`` (coefficient plot, event-study plots, size-class plot), and the forest
analysis (``forest_importance.csv``, ``forest_interactions.csv``, ``forest_pdp.csv``,
``forest_summary.csv``). Each row and each table note says whether the panel was real or
the synthetic demo panel.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from citydip.estimation import catalogue
from citydip.atomic import atomic_csv


@dataclass
class EstimateRun:
    tidy: pd.DataFrame
    pretrend: pd.DataFrame
    synthetic: bool
    paths: dict[str, Path] = field(default_factory=dict)
    fits: dict = field(default_factory=dict)
    studies: dict = field(default_factory=dict)


def is_synthetic(panel_path: Path, panel: pd.DataFrame | None = None) -> bool:
    """A panel is synthetic if its provenance says so, or if its codes are the synthetic 9xxxx
    (``panel`` is read from ``panel_path`` if needed and not given)."""
    provenance = panel_path.with_name("provenance.json")
    if provenance.is_file():
        return bool(json.loads(provenance.read_text()).get("synthetic", False))
    panel = pd.read_parquet(panel_path) if panel is None else panel
    return bool(panel.cbsa_code.astype(str).str.startswith("9").all())


def estimate(panel: pd.DataFrame, synthetic: bool, progress: Callable[[str], None] | None = None) -> EstimateRun:
    tidy, fits, studies = catalogue.run(panel, progress=progress)
    label = "SYNTHETIC (not real data)" if synthetic else "real"
    tidy.insert(0, "data", label)
    pretrend = pd.DataFrame([{
        "data": label, "model": f"M6 event study: {t}", "treatment": t, "wald_chi2": s.pretrend["wald_chi2"],
        "leads": s.pretrend["leads"], "p_value": s.pretrend["p_value"], "nobs": s.nobs,
        "treated_metros": int(s.cohorts.metros.sum()), "excluded_metros": len(s.excluded),
        "notes": "; ".join(s.notes)} for t, s in studies.items()])
    return EstimateRun(tidy, pretrend, synthetic, fits=fits, studies=studies)


def estimate_and_write(panel_path: Path, out_dir: Path, progress: Callable[[str], None] | None = None) -> EstimateRun:
    panel = pd.read_parquet(panel_path)
    run = estimate(panel, is_synthetic(panel_path, panel), progress)
    out_dir.mkdir(parents=True, exist_ok=True)
    run.paths["estimates"] = atomic_csv(run.tidy, out_dir / "estimates.csv")
    run.paths["pretrend"] = atomic_csv(run.pretrend, out_dir / "pretrend.csv")
    run.paths.update(write_tables_and_figures(run, out_dir))
    run.paths.update(write_forest(panel, run.synthetic, out_dir, progress))
    return run


def write_forest(panel: pd.DataFrame, synthetic: bool, out_dir: Path,
                 progress: Callable[[str], None] | None = None) -> dict[str, Path]:
    """The forest analysis of the anchor paper's cross-section (see :mod:`citydip.estimation.forest`)."""
    from citydip.estimation.forest import forest_analysis

    if progress:
        progress("forest analysis")
    result = forest_analysis(panel)
    label = "SYNTHETIC (not real data)" if synthetic else "real"
    summary = pd.DataFrame([{"data": label, "model": result.model, "metros": result.n_metros,
                             "years": f"{min(result.years)}-{max(result.years)}", "r2_cv": result.r2_cv,
                             "r2_oob": result.r2_oob, "consulates_rank_first": result.agrees_with_anchor,
                             "seed": result.seed}])
    out = {}
    for name, frame in (("forest_summary", summary), ("forest_importance", result.importance),
                        ("forest_interactions", result.interactions), ("forest_pdp", result.pdp)):
        out[f"{name}.csv"] = atomic_csv(frame.assign(data=label) if "data" not in frame else frame,
                                        out_dir / f"{name}.csv")
    return out


#: Tables: file stem -> models (in column order).
TABLES = {
    "table_main": ["M1 between", "M2 pooled + year FE", "M3 two-way FE", "M4 PPML", "M6 one-year lags"],
    "table_inference": ["M3 two-way FE", "M3 two-way FE [two-way cluster]", "M3 two-way FE [wild bootstrap]",
                        "M3 two-way FE [Driscoll-Kraay]", "M3-CG two-way FE, consulates general"],
    "table_size": ["M5 by size class"],
}


def write_tables_and_figures(run: EstimateRun, out_dir: Path) -> dict[str, Path]:
    """Regression tables (.md, .tex, .html) and figures (.png) from the tidy estimates."""
    from citydip.report import coefficient_plot, event_study_plot, regression_table, size_class_plot

    paths: dict[str, Path] = {}
    tidy = run.tidy.drop(columns="data")
    tidy = tidy[tidy.term != "const"]
    for stem, models in TABLES.items():
        table = regression_table(tidy, models=[m for m in models if m in set(tidy.model)],
                                 caption="SYNTHETIC DEMO DATA, NOT REAL." if run.synthetic else "")
        for suffix in (".md", ".tex", ".html"):
            paths[f"{stem}{suffix}"] = table.write(out_dir / "tables" / f"{stem}{suffix}")
    figures = out_dir / "figures"
    title = " (SYNTHETIC DATA)" if run.synthetic else ""
    coefficient_plot(tidy, terms=list(catalogue.MEASURES),
                     models=["M1 between", "M2 pooled + year FE", "M3 two-way FE", "M4 PPML"],
                     path=figures / "coefficients.png", title=f"Diplomacy measures and exports{title}")
    paths["coefficients.png"] = figures / "coefficients.png"
    for treatment, study in run.studies.items():
        name = f"event_study_{treatment}.png"
        event_study_plot(study.estimates, figures / name, title=f"Event study: {treatment}{title}")
        paths[name] = figures / name
    for measure in catalogue.MEASURES:
        name = f"size_class_{measure}.png"
        size_class_plot(tidy, measure, figures / name, models=["M5 by size class"], title=f"By metro size{title}")
        paths[name] = figures / name
    return paths

