"""The estimates of ``citydip estimate``: fit the catalogue on a built panel and write the
numbers atomically.

:func:`estimate_and_write` fits the catalogue and writes (:func:`write_estimates`)
``estimates.csv`` (the tidy table of every model, event studies included), ``pretrend.csv``
(one row per event study: Wald tests of the supported leads, did2s and Sun-Abraham, and of
every lead, each W / q = ``wald_f`` against F(``df_num``, ``df_den`` = G - 1); treated metros
with treated years in the sample, cohorts, comparison group, exclusions, binning) and the forest
analysis (``forest_importance.csv``, ``forest_interactions.csv``, ``forest_pdp.csv``,
``forest_summary.csv``). Each row says whether the panel was real or the synthetic demo
panel. The regression tables and figures made from them are written by
:mod:`citydip.report.outputs`, whose ``estimate_and_write`` is the whole step (this module's,
then the tables and figures); nothing here imports :mod:`citydip.report`.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from citydip.atomic import atomic_csv
from citydip.estimation import catalogue


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
    nan = float("nan")
    pretrend = pd.DataFrame([{
        "data": label, "model": f"M6 event study: {t}", "treatment": t, "wald_f": s.pretrend["wald_f"],
        "df_num": s.pretrend["df_num"], "df_den": s.pretrend["df_den"], "leads": s.pretrend["leads"],
        "p_value": s.pretrend["p_value"], "first_lead": s.pretrend["first_lead"],
        "min_metros": s.min_metros, "wald_f_all_leads": s.pretrend["wald_f_all"],
        "p_value_all_leads": s.pretrend["p_value_all"], "leads_all": s.pretrend["leads_all"],
        "sun_abraham_wald_f": s.sun_abraham_pretrend.get("wald_f", nan),
        "sun_abraham_df_den": s.sun_abraham_pretrend.get("df_den", nan),
        "sun_abraham_p_value": s.sun_abraham_pretrend.get("p_value", nan), "nobs": s.nobs,
        "treated_metros": s.treated_metros, "cohort_metros": int(s.cohorts.metros.sum()),
        "comparison": s.comparison, "comparison_metros": s.comparison_metros, "excluded_metros": len(s.excluded),
        "event_time_bins": "none" if s.window is None else f"+/-{s.window}",
        "notes": "; ".join(s.notes)} for t, s in studies.items()])
    return EstimateRun(tidy, pretrend, synthetic, fits=fits, studies=studies)


def estimate_and_write(panel_path: Path, out_dir: Path, progress: Callable[[str], None] | None = None) -> EstimateRun:
    """Fit the catalogue on the panel at ``panel_path`` and write the numbers (``estimates.csv``,
    ``pretrend.csv``, the forest analysis) into ``out_dir``. The whole ``citydip estimate`` step,
    tables and figures included, is :func:`citydip.report.outputs.estimate_and_write`."""
    panel = pd.read_parquet(panel_path)
    run = estimate(panel, is_synthetic(panel_path, panel), progress)
    write_estimates(run, panel, out_dir, progress)
    return run


def write_estimates(run: EstimateRun, panel: pd.DataFrame, out_dir: Path,
                    progress: Callable[[str], None] | None = None) -> dict[str, Path]:
    """Write ``estimates.csv``, ``pretrend.csv`` and the forest analysis into ``out_dir``;
    returns their paths (also added to ``run.paths``)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    run.paths["estimates"] = atomic_csv(run.tidy, out_dir / "estimates.csv")
    run.paths["pretrend"] = atomic_csv(run.pretrend, out_dir / "pretrend.csv")
    run.paths.update(write_forest(panel, run.synthetic, out_dir, progress))
    return dict(run.paths)


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
