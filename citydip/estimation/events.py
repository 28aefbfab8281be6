"""Event studies around dated diplomacy events, with a heterogeneity-robust estimator.

Treatments (the first dated event of a metro within the panel years):

* ``network``: the year a metro's first international city network join is dated
  (``networks_dated`` turns positive);
* ``sister``: the first year in the panel with a newly established sister-city tie
  (``sister_new > 0``). Most metros have older ties, so this is the effect of an
  additional tie, and later ties belong to the dynamic response.

Metros treated before they have ``min_pre`` untreated years (including those treated
before the panel starts) are left out and listed; metros never treated in the panel are
the comparison group. Estimator: Gardner's two-stage difference-in-differences
(``pyfixest.did2s``): metro and year effects are estimated on untreated observations, then
the residualised outcome is regressed on event-time dummies (relative years binned at
+/- ``window``, reference -1, never-treated in the reference); standard errors clustered by
metro. The pre-trend test is the Wald test that all lead coefficients are zero.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd

from citydip.errors import CitydipError
from citydip.estimation import _pyfixest

TREATMENTS = {"network": ("networks_dated", "first dated city-network join"),
              "sister": ("sister_new", "first new sister-city tie in the panel")}


@dataclass
class EventStudy:
    treatment: str
    outcome: str
    estimates: pd.DataFrame   #: event_time, estimate, std_error, conf_low, conf_high, p_value (reference row: 0)
    pretrend: dict            #: wald_chi2, p_value, leads: Wald test (chi2, df = leads) that all leads are zero
    cohorts: pd.DataFrame     #: first_year, metros
    excluded: pd.DataFrame    #: cbsa_code, reason
    nobs: int
    notes: list[str]
    backend: object = None
    data: pd.DataFrame | None = None  #: second-stage estimation sample (event time ``rel``, ``treat``, ...)
    vcov: pd.DataFrame | None = None  #: covariance of the event-time coefficients (did2s-corrected)


def treatment_years(panel: pd.DataFrame, treatment: str) -> pd.Series:
    """First year of the treatment per metro (NaN if never treated in the panel)."""
    if treatment not in TREATMENTS:
        raise CitydipError(f"treatment {treatment!r} is not one of {sorted(TREATMENTS)}")
    column = TREATMENTS[treatment][0]
    treated = panel[panel[column] > 0]
    first = treated.groupby("cbsa_code").year.min()
    return pd.Series(panel.cbsa_code.unique(), name="cbsa_code").map(first).set_axis(panel.cbsa_code.unique())


def event_study(panel: pd.DataFrame, treatment: str = "network", outcome: str = "log_exports", window: int = 5,
                min_pre: int = 2) -> EventStudy:
    """Estimate the event-time path of ``outcome`` around ``treatment`` (see the module doc)."""
    import pyfixest as pf

    first = treatment_years(panel, treatment)
    start = int(panel.year.min())
    early = first[first.notna() & (first - start < min_pre)]
    excluded = pd.DataFrame({"cbsa_code": early.index,
                             "reason": [f"treated in {int(y)}: fewer than {min_pre} untreated years in the panel"
                                        for y in early]})
    data = panel.loc[~panel.cbsa_code.isin(early.index), ["cbsa_code", "year", outcome]].dropna().copy()
    data["metro_id"] = pd.factorize(data.cbsa_code, sort=True)[0] + 1
    g = data.cbsa_code.map(first)
    data["treat"] = (g.notna() & (data.year >= g)).astype(int)
    rel = (data.year - g).clip(-window, window)
    data["rel"] = rel.where(g.notna(), -1.0).astype(float)  # never-treated sit in the reference period
    # The first stage identifies metro and year effects from untreated rows only: keep the rows
    # whose year and metro both appear untreated (later years with every metro treated drop out).
    # pyfixest drops singleton fixed effects, so each kept year and metro needs two untreated rows.
    dropped_years: set[int] = set()
    while True:
        untreated = data[data.treat == 0]
        years = untreated.year.value_counts()
        units = untreated.metro_id.value_counts()
        identified = data.year.map(years).ge(2) & data.metro_id.map(units).ge(2)
        if identified.all():
            break
        dropped_years |= set(data.year[~data.year.map(years).ge(2)])
        data = data[identified].reset_index(drop=True)
    dropped_years = sorted(dropped_years)
    if data.treat.sum() == 0:
        raise CitydipError(f"no metro is treated ({TREATMENTS[treatment][1]}) after {min_pre} untreated years")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = pf.did2s(data, yname=outcome, first_stage="~ 0 | metro_id + year",
                       second_stage="~ i(rel, ref=-1.0)", treatment="treat", cluster="metro_id")
    tidy = fit.tidy()
    times = [float(t.split("::")[1]) for t in tidy.index]
    est = pd.DataFrame({"event_time": np.asarray(times, dtype=int), "estimate": tidy["Estimate"].to_numpy(),
                        "std_error": tidy["Std. Error"].to_numpy(), "conf_low": tidy["2.5%"].to_numpy(),
                        "conf_high": tidy["97.5%"].to_numpy(), "p_value": tidy.iloc[:, 3].to_numpy()})
    reference = pd.DataFrame({"event_time": [-1], "estimate": [0.0], "std_error": [0.0], "conf_low": [0.0],
                              "conf_high": [0.0], "p_value": [np.nan]})
    est = pd.concat([est, reference]).sort_values("event_time").reset_index(drop=True)
    leads = [i for i, t in enumerate(times) if t <= -2]
    pretrend = {"wald_chi2": float("nan"), "p_value": float("nan"), "leads": len(leads)}
    if leads:
        R = np.zeros((len(leads), len(times)))
        R[np.arange(len(leads)), leads] = 1.0
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            test = fit.wald_test(R=R, distribution="chi2")
        pretrend.update(wald_chi2=float(test["statistic"]), p_value=float(test["pvalue"]))
    cohorts = (first[first.notna() & ~first.index.isin(early.index)].value_counts().sort_index()
               .rename_axis("first_year").reset_index(name="metros"))
    notes = [f"years without an untreated metro dropped: {dropped_years}"] if dropped_years else []
    return EventStudy(treatment, outcome, est, pretrend, cohorts, excluded, _pyfixest.nobs(fit), notes, fit,
                      data=_pyfixest.estimation_data(fit), vcov=_pyfixest.vcov(fit, tidy.index))
