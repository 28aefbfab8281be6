"""The tables and figures of ``citydip estimate``, and the step itself.

:func:`estimate_and_write` fits the catalogue (:mod:`citydip.estimation.outputs` writes the
numbers: ``estimates.csv``, ``pretrend.csv``, the forest analysis) and then writes, from the
tidy estimates, ``tables/`` (main and robustness regression tables in Markdown, LaTeX and
HTML, rendered by maketables: :mod:`citydip.report.tables`) and ``figures/`` (coefficient plot, event-study plots, size-class plots). Each table
note and figure title says whether the panel was the synthetic demo panel.

:func:`main_table` is the one definition of the main regression table (which models, which
terms): ``build/tables/table_main.*`` and notebook 03's main table both come from it.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pandas as pd

from citydip.estimation import catalogue
from citydip.estimation import outputs as estimation_outputs
from citydip.estimation.outputs import EstimateRun
from citydip.report.figures import coefficient_plot, event_study_plot, size_class_plot
from citydip.report.tables import RegressionTable, regression_table

#: Note put before a table's note when the estimates come from the synthetic demo panel.
SYNTHETIC_CAPTION = "SYNTHETIC DEMO DATA, NOT REAL."

#: The main table: models (columns, in order) and terms (rows, in order).
MAIN_MODELS = tuple(catalogue.MODEL_NAMES[k] for k in ("M1", "M2", "M3", "M3-CG", "M4", "M6"))
MAIN_TERMS = (*catalogue.MEASURES, "consulates_general", *(f"{m}_lag1" for m in catalogue.MEASURES),
              *catalogue.CONTROLS)

#: The other regression tables of ``citydip estimate``: file stem -> models (in column order).
TABLES = {
    "table_inference": [*(catalogue.inference_variant(v) for v in ("cluster", *catalogue.INFERENCE_SUFFIXES)),
                        catalogue.MODEL_NAMES["M3-CG"]],
    "table_size": [catalogue.MODEL_NAMES["M5"]],
}


def main_table(estimates: pd.DataFrame, *, synthetic: bool = False) -> RegressionTable:
    """The main regression table: :data:`MAIN_MODELS` by :data:`MAIN_TERMS` from the tidy
    estimates (``estimates.csv`` or :attr:`EstimateRun.tidy`); models or terms the estimates
    lack are left out. ``synthetic`` puts :data:`SYNTHETIC_CAPTION` before the note."""
    present = set(estimates["model"])
    models = [m for m in MAIN_MODELS if m in present]
    available = set(estimates.loc[estimates["model"].isin(models), "term"])
    terms = [t for t in MAIN_TERMS if t in available]
    return regression_table(estimates, models=models, terms=terms, caption=SYNTHETIC_CAPTION if synthetic else "")


def write_tables_and_figures(run: EstimateRun, out_dir: Path) -> dict[str, Path]:
    """Regression tables (.md, .tex, .html) and figures (.png) from the tidy estimates."""
    paths: dict[str, Path] = {}
    tidy = run.tidy.drop(columns="data", errors="ignore")
    tidy = tidy[tidy.term != "const"]
    tables = {"table_main": main_table(tidy, synthetic=run.synthetic)}
    for stem, models in TABLES.items():
        tables[stem] = regression_table(tidy, models=[m for m in models if m in set(tidy.model)],
                                        caption=SYNTHETIC_CAPTION if run.synthetic else "")
    for stem, table in tables.items():
        for suffix in (".md", ".tex", ".html"):
            paths[f"{stem}{suffix}"] = table.write(out_dir / "tables" / f"{stem}{suffix}")
    figures = out_dir / "figures"
    title = " (SYNTHETIC DATA)" if run.synthetic else ""
    coefficient_plot(tidy, terms=list(catalogue.MEASURES),
                     models=[catalogue.MODEL_NAMES[k] for k in ("M1", "M2", "M3", "M4")],
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


def estimate_and_write(panel_path: Path, out_dir: Path, progress: Callable[[str], None] | None = None) -> EstimateRun:
    """``citydip estimate``: fit the catalogue on the panel at ``panel_path`` and write the
    estimates and the forest analysis (:func:`citydip.estimation.outputs.estimate_and_write`),
    then the tables and the figures, into ``out_dir``."""
    run = estimation_outputs.estimate_and_write(panel_path, out_dir, progress)
    run.paths.update(write_tables_and_figures(run, out_dir))
    return run
