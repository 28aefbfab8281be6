"""``citydip estimate``: fit the catalogue on a built panel and write its outputs atomically.

Writes ``estimates.csv`` (the tidy table of every model, event studies included) and
``pretrend.csv`` (one row per event study: Wald test of the leads, cohorts, exclusions).
Each row says whether the panel was real or the synthetic demo panel.
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


def is_synthetic(panel_path: Path, panel: pd.DataFrame) -> bool:
    """A panel is synthetic if its provenance says so, or if its codes are the synthetic 9xxxx."""
    provenance = panel_path.with_name("provenance.json")
    if provenance.is_file():
        return bool(json.loads(provenance.read_text()).get("synthetic", False))
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
    return run
