"""Dynamics (notebook 05): one-year lags and the event studies around a metro's first dated
city-network join and first new sister-city tie.

Coefficients are in log points (difference in log exports); ``percent`` columns are
``100 (exp(b) - 1)``. Event-study coefficients are relative to the year before the event
(event time -1); the post-event average is the mean of the coefficients at event times 0 to
+5 (the +5 bin pools all later years), with its standard error from the full covariance matrix
of the event-time coefficients (:attr:`~citydip.estimation.events.EventStudy.vcov`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from citydip.analysis.effects import percent
from citydip.errors import CitydipError
from citydip.estimation.catalogue import MODEL_NAMES
from citydip.estimation.events import (
    TREATMENTS,
    EventStudy,
    event_study,
    treatment_years,
)
from citydip.report.labels import base_term, term_label

LAG_MODEL, CONTEMPORANEOUS = MODEL_NAMES["M6"], MODEL_NAMES["M3"]
#: Lower end of Nitsch's (2007) state-visit estimate (8% more exports), in log points.
BENCHMARK = float(np.log(1.08))
#: Normal quantile of the post-event average's 95% interval (the report's convention).
Z = 1.96
#: Columns of :func:`event_paths` and :func:`event_study_summary`.
PATH_COLUMNS = ["treatment", "event_time", "estimate", "std_error", "conf_low", "conf_high", "p_value", "percent",
                "treated_metros_observed"]
SUMMARY_COLUMNS = ["treatment", "pretrend_p", "mean_lead", "largest_lead_bound", "average_post", "average_post_se",
                   "average_post_low", "average_post_high", "post_significant_5pct", "post_coefficients"]


def event_name(treatment: str) -> str:
    """"first dated city-network join", "first new sister-city tie in the panel"."""
    return TREATMENTS[treatment][1]


# -- lags ---------------------------------------------------------------------------------------------
def lag_summary(estimates: pd.DataFrame, lag_model: str = LAG_MODEL,
                contemporaneous: str = CONTEMPORANEOUS) -> pd.DataFrame:
    """Each lagged measure of ``lag_model`` (terms ``*_lag1``) beside the same measure in the
    contemporaneous model: term, measure, estimate (log points), percent, conf_low, conf_high,
    p_value, nobs, estimate_contemporaneous, p_value_contemporaneous."""
    lags = estimates[(estimates.model == lag_model) & estimates.term.str.endswith("_lag1")]
    now = estimates[estimates.model == contemporaneous].set_index("term")
    if lags.empty or now.empty:
        raise CitydipError(f"the estimates lack {lag_model!r} lags or {contemporaneous!r}")
    return pd.DataFrame([{"term": r.term, "measure": base_term(r.term), "estimate": r.estimate,
                          "percent": percent(r.estimate), "conf_low": r.conf_low, "conf_high": r.conf_high,
                          "p_value": r.p_value, "nobs": int(r.nobs),
                          "estimate_contemporaneous": now.loc[base_term(r.term), "estimate"],
                          "p_value_contemporaneous": now.loc[base_term(r.term), "p_value"]}
                         for r in lags.itertuples()])


def lag_sentences(lags: pd.DataFrame) -> list[str]:
    """One line per lagged measure of :func:`lag_summary`."""
    return [f"{term_label(r.term)}: {r.estimate:+.3f} log points ({r.percent:+.1f}% per unit), 95% CI "
            f"[{r.conf_low:+.3f}, {r.conf_high:+.3f}], p = {r.p_value:.3f}, N = {r.nobs:,.0f}"
            for r in lags.itertuples()]


# -- event studies: samples ---------------------------------------------------------------------------
def refit_event_studies(panel: pd.DataFrame, estimates: pd.DataFrame, treatments: Sequence[str] = tuple(TREATMENTS),
                        tolerance: float = 1e-6) -> dict[str, EventStudy]:
    """The event studies fitted again on ``panel`` (for their samples and covariance), each
    checked against the stored coefficients (models ``M6 event study: <treatment>``, terms
    ``...=<event time>``); raises :class:`CitydipError` when one differs by more than
    ``tolerance``."""
    studies = {}
    for t in treatments:
        study = event_study(panel, t)
        stored = estimates[estimates.model == f"M6 event study: {t}"]
        times = stored.term.str.split("=").str[1].astype(int)
        refit = study.estimates.set_index("event_time").estimate.reindex(times)
        gap = float(np.max(np.abs(stored.estimate.to_numpy() - refit.to_numpy())))
        if not gap < tolerance:
            raise CitydipError(f"event study {t}: the refit differs from the stored estimates by {gap}")
        studies[t] = study
    return studies


def _sample(study: EventStudy) -> pd.DataFrame:
    if study.data is None:
        raise CitydipError(f"event study {study.treatment}: no estimation sample")
    return study.data


def event_samples(studies: Mapping[str, EventStudy], panel: pd.DataFrame
                  ) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Who is treated, and when, in each event study:

    - cohorts: treatment, first_year, metros (first treated that year, in the study), contributing
      (of these, metros with treated years in the estimation sample);
    - excluded: treatment, cbsa_code, metro (title), first_year, reason (treated too early);
    - groups: one row per treatment: treated (metros in the cohorts), contributing, excluded,
      never_treated (in the sample), never_with_undated (never-treated metros with a membership
      or tie on record, ``networks_ever`` / ``sister_ever`` > 0), dropped (the study's notes).
    """
    titles = panel.groupby("cbsa_code").cbsa_title.first()
    cohort_rows, excluded_rows, groups = [], [], []
    for t, study in studies.items():
        sample = _sample(study)
        first = treatment_years(panel, t)
        treated_years = sample[sample.treat == 1].groupby("cbsa_code").year.min()
        for row in study.cohorts.itertuples():
            cohort_rows.append({"treatment": t, "first_year": int(row.first_year), "metros": int(row.metros),
                                "contributing": int((treated_years == row.first_year).sum())})
        for row in study.excluded.itertuples():
            excluded_rows.append({"treatment": t, "cbsa_code": row.cbsa_code, "metro": titles[row.cbsa_code],
                                  "first_year": int(first[row.cbsa_code]), "reason": row.reason})
        never = [c for c in sample.cbsa_code.unique() if pd.isna(first[c])]
        ever = "networks_ever" if t == "network" else "sister_ever"
        groups.append({"treatment": t, "treated": int(study.cohorts.metros.sum()),
                       "contributing": len(treated_years), "excluded": len(study.excluded),
                       "never_treated": len(never),
                       "never_with_undated": int((panel[panel.cbsa_code.isin(never)].groupby("cbsa_code")[ever].max()
                                                  > 0).sum()),
                       "dropped": "; ".join(study.notes)})
    return (pd.DataFrame(cohort_rows),
            pd.DataFrame(excluded_rows, columns=["treatment", "cbsa_code", "metro", "first_year", "reason"]),
            pd.DataFrame(groups))


def group_sentences(groups: pd.DataFrame) -> list[str]:
    """One line per treatment of the ``groups`` table of :func:`event_samples`."""
    lines = []
    for g in groups.itertuples():
        on_record = ("a membership on record that is undated or dated after the panel" if g.treatment == "network"
                     else "sister-city ties on record from before the panel or without a date")
        verb = "has" if g.never_with_undated == 1 else "have"
        lines.append(f"{event_name(g.treatment)}: {g.treated} treated metros ({g.contributing} with treated years in "
                     f"the sample), {g.excluded} left out as treated too early, {g.never_treated} never treated; of "
                     f"these, {g.never_with_undated} {verb} {on_record}. {g.dropped}")
    return lines


def event_support(study: EventStudy, panel: pd.DataFrame) -> pd.Series:
    """Treated metros (metros with a treatment year in the panel) observed in the study's
    estimation sample at each event time (index: event time, int; binned times pool their
    years)."""
    sample = _sample(study)
    treated = sample[sample.cbsa_code.map(treatment_years(panel, study.treatment)).notna()]
    support = treated.groupby("rel").cbsa_code.nunique()
    return support.set_axis(support.index.astype(int)).rename_axis("event_time")


def event_paths(studies: Mapping[str, EventStudy], panel: pd.DataFrame) -> pd.DataFrame:
    """The event-study coefficients of every study with their percent value and support
    (:func:`event_support`; 0 where no treated metro is observed). Columns: :data:`PATH_COLUMNS`."""
    frames = []
    for t, study in studies.items():
        support = event_support(study, panel)
        frames.append(study.estimates.assign(
            treatment=t, percent=lambda f: percent(f.estimate),
            treated_metros_observed=lambda f: f.event_time.map(support).fillna(0).astype(int)))
    return pd.concat(frames, ignore_index=True)[PATH_COLUMNS]


def pretrend_table(pretrend: pd.DataFrame) -> pd.DataFrame:
    """The stored pre-trend tests (``pretrend.csv``): model, treatment, wald_chi2 (chi-squared,
    df = leads), leads, p_value, nobs, treated_metros, excluded_metros, notes ("" if none)."""
    tests = pretrend[["model", "treatment", "wald_chi2", "leads", "p_value", "nobs", "treated_metros",
                      "excluded_metros", "notes"]].copy()
    tests["notes"] = tests.notes.astype(object).fillna("")
    return tests


# -- event studies: what the intervals rule in and out ------------------------------------------------
@dataclass(frozen=True)
class PostEventAverage:
    """Mean of the event-time coefficients ``first`` to ``last`` (log points), its standard
    error from their covariance matrix, and the normal 95% interval (``estimate -/+ Z se``)."""

    estimate: float
    std_error: float
    conf_low: float
    conf_high: float
    coefficients: int


def _event_time(label) -> int:
    """Event time of a coefficient label of the covariance (``...::3.0`` or a number)."""
    return int(float(str(label).rsplit("::", 1)[-1]))


def post_event_average(study: EventStudy, first: int = 0, last: int | None = None) -> PostEventAverage:
    """The equal-weight average of the event-study coefficients at event times ``first`` to
    ``last`` (default: the largest) and its standard error ``sqrt(w' V w)`` with ``V`` the
    covariance of the event-time coefficients (:attr:`EventStudy.vcov`)."""
    if study.vcov is None:
        raise CitydipError(f"event study {study.treatment}: no covariance matrix")
    times = np.array([_event_time(label) for label in study.vcov.index])
    last = int(times.max()) if last is None else last
    chosen = (times >= first) & (times <= last)
    if not chosen.any():
        raise CitydipError(f"event study {study.treatment}: no coefficient at event times {first} to {last}")
    weights = chosen / chosen.sum()
    coef = study.estimates.set_index("event_time").estimate.reindex(times).to_numpy(dtype=float)
    average = float(weights @ coef)
    se = float(np.sqrt(weights @ study.vcov.to_numpy(dtype=float) @ weights))
    return PostEventAverage(average, se, average - Z * se, average + Z * se, int(chosen.sum()))


def event_study_summary(studies: Mapping[str, EventStudy], pretrend: pd.DataFrame, alpha: float = 0.05
                        ) -> pd.DataFrame:
    """One row per study: the stored pre-trend p-value (``pretrend``: indexed by treatment),
    the mean of the lead coefficients (event times <= -2), the largest absolute bound of their
    95% intervals, the post-event average (:func:`post_event_average`, 0 to the last event time)
    with its standard error and interval, and how many post-event coefficients have p <
    ``alpha``. Columns: :data:`SUMMARY_COLUMNS` (log points)."""
    rows = []
    for t, study in studies.items():
        est = study.estimates[study.estimates.event_time != -1]
        leads, post = est[est.event_time <= -2], est[est.event_time >= 0]
        avg = post_event_average(study)
        rows.append({"treatment": t, "pretrend_p": pretrend.loc[t, "p_value"], "mean_lead": leads.estimate.mean(),
                     "largest_lead_bound": float(np.max(np.abs(leads[["conf_low", "conf_high"]].to_numpy()))),
                     "average_post": avg.estimate, "average_post_se": avg.std_error,
                     "average_post_low": avg.conf_low, "average_post_high": avg.conf_high,
                     "post_significant_5pct": int((post.p_value < alpha).sum()), "post_coefficients": len(post)})
    return pd.DataFrame(rows, columns=SUMMARY_COLUMNS)


def dynamics_sentences(summary: pd.DataFrame, groups: pd.DataFrame, lags: pd.DataFrame,
                       benchmark: float = BENCHMARK) -> list[str]:
    """The "In short" findings of notebook 05 from :func:`event_study_summary`,
    :func:`event_samples` (groups) and :func:`lag_summary`; ``benchmark`` in log points."""
    treated = groups.set_index("treatment").treated
    lines = []
    for r in summary.itertuples():
        verdict = ("rejected" if r.pretrend_p < 0.05 else "rejected at 10% only" if r.pretrend_p < 0.10 else
                   "not rejected")
        lines.append(f"- {event_name(r.treatment).capitalize()} ({treated[r.treatment]} treated metros): the joint "
                     f"test of no pre-trend is {verdict} (p = {r.pretrend_p:.3f}). Relative to comparison metros and "
                     f"to the year before the event, the leads average {r.mean_lead:+.3f} log points (exports already "
                     f"rising into the event would show as negative leads); the lead intervals cannot exclude gaps of "
                     f"up to {r.largest_lead_bound:.3f} log points.")
        excludes_zero = r.average_post_low > 0 or r.average_post_high < 0
        covers = r.average_post_low <= benchmark <= r.average_post_high
        lines.append(f"  After the event the average coefficient (0 to +5) is {r.average_post:+.3f} log points "
                     f"({percent(r.average_post):+.1f}%), 95% CI [{r.average_post_low:+.3f}, "
                     f"{r.average_post_high:+.3f}]: it {'excludes' if excludes_zero else 'includes'} zero and "
                     f"{'includes' if covers else 'excludes'} an {percent(benchmark):.0f}% rise; effects outside "
                     f"{percent(r.average_post_low):+.0f}% to {percent(r.average_post_high):+.0f}% are ruled out. "
                     f"{r.post_significant_5pct} of {r.post_coefficients} post-event coefficients differ from zero "
                     f"at 5%.")
    for r in lags.itertuples():
        lines.append(f"- One-year lag (M6), {term_label(r.measure).lower()}: {r.estimate:+.3f} log points, 95% CI "
                     f"[{r.conf_low:+.3f}, {r.conf_high:+.3f}], p = {r.p_value:.3f} (contemporaneous M3: "
                     f"{r.estimate_contemporaneous:+.3f}, p = {r.p_value_contemporaneous:.3f}).")
    return lines
