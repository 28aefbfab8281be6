"""The model catalogue run by ``citydip estimate``: M1-M6 and the inference variants.

| model | what | inference |
|---|---|---|
| M1 | between metros: metro means of log exports on means of the measures and controls (the closest regression analogue of the anchor's cross-section) | HC1 |
| M2 | pooled OLS with year effects | cluster by metro |
| M3 | two-way fixed effects (metro + year) on the time-varying measures; M3-CG with consulates general | cluster by metro; variants: two-way cluster, wild cluster bootstrap, Driscoll-Kraay |
| M4 | PPML (Poisson) on export levels with metro + year effects | cluster by metro |
| M5 | M3 with one coefficient per metro size class for each measure | cluster by metro |
| M6 | M3 with the measures lagged one year; event studies (first network join, first new sister tie) with did2s and a pre-trend test | cluster by metro |
"""

from __future__ import annotations

from collections.abc import Callable

import pandas as pd

from citydip.estimation import conventions
from citydip.estimation.events import event_study
from citydip.estimation.fitting import fit
from citydip.estimation.results import TIDY_COLUMNS, FitResult
from citydip.estimation.spec import METRO, YEAR, ModelSpec

MEASURES = ("sister_active", "consular_posts", "networks_dated")
CONTROLS = ("log_population", "log_per_capita_income")
EVENT_TREATMENTS = ("network", "sister")
#: Short keys of the catalogue's models (tables, report, analysis) -> model names in the estimates.
MODEL_NAMES = {"M1": "M1 between", "M2": "M2 pooled + year FE", "M3": "M3 two-way FE",
               "M3-CG": "M3-CG two-way FE, consulates general", "M4": "M4 PPML", "M5": "M5 by size class",
               "M6": "M6 one-year lags"}
#: Suffixes of M3's inference variants (``M3 two-way FE [two-way cluster]``, ...), by vcov.
INFERENCE_SUFFIXES = {"twoway": "two-way cluster", "wild": "wild bootstrap", "driscoll_kraay": "Driscoll-Kraay"}


def catalogue() -> list[ModelSpec]:
    """Every regression of the catalogue, in report order."""
    x = MEASURES + CONTROLS
    n = MODEL_NAMES
    m3 = ModelSpec(n["M3"], "ols", "log_exports", x, description="metro and year effects")
    return [
        ModelSpec(n["M1"], "between", "log_exports", x, fixed_effects=(), vcov="hetero",
                  description="metro means over the sample years"),
        ModelSpec(n["M2"], "ols", "log_exports", x, fixed_effects=(YEAR,), description="pooled OLS with year effects"),
        m3,
        *(m3.with_vcov(vcov, suffix) for vcov, suffix in INFERENCE_SUFFIXES.items()),
        ModelSpec(n["M3-CG"], "ols", "log_exports", ("sister_active", "consulates_general", "networks_dated") + CONTROLS),
        ModelSpec(n["M4"], "poisson", "exports_usd", x, description="Poisson pseudo-ML on export levels"),
        ModelSpec(n["M5"], "ols", "log_exports", x, by_size=MEASURES),
        ModelSpec(n["M6"], "ols", "log_exports", x, lags=1, lagged=MEASURES),
    ]


def inference_variant(vcov: str) -> str:
    """Name of M3 with another inference in the estimates (``"cluster"``: M3 itself)."""
    return MODEL_NAMES["M3"] if vcov == "cluster" else f"{MODEL_NAMES['M3']} [{INFERENCE_SUFFIXES[vcov]}]"


def run(panel: pd.DataFrame, specs: list[ModelSpec] | None = None, events: tuple[str, ...] = EVENT_TREATMENTS,
        progress: Callable[[str], None] | None = None) -> tuple[pd.DataFrame, dict[str, FitResult], dict]:
    """Fit the catalogue on ``panel``. Returns the tidy table (regressions and event studies),
    the fitted regressions by name, and the event studies by treatment."""
    say = progress or (lambda _m: None)
    fits: dict[str, FitResult] = {}
    for spec in specs or catalogue():
        say(spec.name)
        fits[spec.name] = fit(panel, spec)
    studies = {}
    for treatment in events:
        say(f"M6 event study ({treatment})")
        studies[treatment] = event_study(panel, treatment)
    tables = [f.tidy() for f in fits.values()] + [event_rows(s) for s in studies.values()]
    return pd.concat(tables, ignore_index=True)[TIDY_COLUMNS], fits, studies


def event_rows(study) -> pd.DataFrame:
    """An event study's did2s path as tidy rows (term 'event_time=k'; the reference period is
    omitted), with its inference by ``conventions.RULES["did2s"]``: t(G-1), G the metros in the
    estimation sample (``n_clusters``), ``n_periods`` its years, and the few-clusters flag."""
    name = f"M6 event study: {study.treatment}"
    est = study.estimates[study.estimates.event_time != -1]
    clusters, periods = study.n_clusters, int(study.data.year.nunique())
    flag = conventions.inference_flag(ModelSpec(name, "ols", study.outcome, ()), clusters, periods)
    return pd.DataFrame({
        "model": name, "term": [f"event_time={k}" for k in est.event_time],
        "estimate": est.estimate.to_numpy(), "std_error": est.std_error.to_numpy(),
        "statistic": (est.estimate / est.std_error).to_numpy(), "p_value": est.p_value.to_numpy(),
        "conf_low": est.conf_low.to_numpy(), "conf_high": est.conf_high.to_numpy(), "nobs": study.nobs,
        "fixed_effects": f"{METRO}+{YEAR} (first stage)", "vcov_type": f"cluster({METRO})", "family": "did2s",
        "depvar": study.outcome, "convention": "fixest", "df_t": study.df_t("did2s"),
        "reference": conventions.RULES["did2s"].reference,
        "n_clusters": pd.array([clusters] * len(est), dtype="Int64"),
        "n_periods": pd.array([periods] * len(est), dtype="Int64"), "inference_flag": flag})
