"""Dynamics (notebook 05): one-year lags and the event studies around a metro's first dated
city-network join and first new sister-city tie.

Coefficients are in log points (difference in log exports); ``percent`` columns are
``100 (exp(b) - 1)``. The event studies (:mod:`citydip.estimation.events`) compare treated
metros with clean never-treated metros (no undated memberships or ties), do not bin event
time, and come from two estimators: did2s and Sun-Abraham. Summaries use the event times with
at least :data:`~citydip.estimation.events.MIN_METROS` treated metros behind them (the
*supported* leads and lags): the pre-trend tests, their power against a linear trend (Roth
2022) and the sensitivity analysis (Rambachan & Roth 2023, relative magnitudes). The post-event
average is the mean of the coefficients at event times 0 to :data:`POST_LAST`, with its
standard error from the full covariance matrix of the event-time coefficients.

Inference follows ``conventions.RULES`` (rows ``did2s``, ``sun_abraham``): the event-study
coefficients, their intervals and the post-event average refer to t(G-1), G the metros in the
estimation sample; the pre-trend tests to F(leads, G-1), their power to the noncentral F. The
sensitivity intervals (:func:`honest_tables`) are a separate method with a normal reference.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from citydip.analysis.effects import percent
from citydip.errors import CitydipError
from citydip.estimation.catalogue import MODEL_NAMES
from citydip.estimation.events import (
    ESTIMATORS,
    HONEST_DRAWS,  # noqa: F401  (re-exported: the normal draws and seed of the honest intervals)
    HONEST_SEED,  # noqa: F401
    ON_RECORD,
    TREATMENTS,
    EventStudy,
    event_study,
    honest_sensitivity,
    pretrend_power,
    treatment_years,
)
from citydip.report.labels import base_term, term_label

LAG_MODEL, CONTEMPORANEOUS = MODEL_NAMES["M6"], MODEL_NAMES["M3"]
#: Lower end of Nitsch's (2007) state-visit estimate (8% more exports), in log points.
BENCHMARK = float(np.log(1.08))
#: Last event time of the post-event average (0 to +5).
POST_LAST = 5
#: Names of the estimators in tables and sentences.
ESTIMATOR_NAMES = {"did2s": "did2s", "sun_abraham": "Sun-Abraham"}
#: The sensitivity analysis: grid of Mbar, and the post-event parameters (name -> event times averaged).
MBARS = (0.0, 0.05, 0.1, 0.25, 0.5, 0.75, 1.0)
TARGETS = {"first year (0)": (0,), f"average 0 to +{POST_LAST}": tuple(range(POST_LAST + 1))}
#: Columns of :func:`event_paths`, :func:`event_study_summary`, :func:`power_table`, :func:`honest_tables`.
PATH_COLUMNS = ["treatment", "estimator", "event_time", "estimate", "std_error", "conf_low", "conf_high", "p_value",
                "percent", "treated_metros_observed", "cohorts", "in_tests"]
SUMMARY_COLUMNS = ["treatment", "estimator", "pretrend_p", "leads", "first_lead", "pretrend_p_all_leads",
                   "mean_lead", "largest_lead_bound", "average_post", "average_post_se", "average_post_low",
                   "average_post_high", "post_significant_5pct", "post_coefficients"]
POWER_COLUMNS = ["treatment", "estimator", "leads", "first_lead", "pretrend_p", "slope_50", "slope_80", "bias_50",
                 "bias_80", "slope_benchmark", "power_benchmark"]
HONEST_COLUMNS = ["treatment", "estimator", "target", "mbar", "conf_low", "conf_high", "width", "includes_zero",
                  "includes_benchmark"]
BREAKDOWN_COLUMNS = ["treatment", "estimator", "target", "estimate", "std_error", "conf_low", "conf_high", "leads",
                     "max_pre_change", "kappa", "breakdown_zero", "breakdown_benchmark"]


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
    """The event studies fitted again on ``panel`` (for their samples, covariance and the
    Sun-Abraham path), each checked against the stored did2s coefficients (models ``M6 event
    study: <treatment>``, terms ``...=<event time>``); raises :class:`CitydipError` when one
    differs by more than ``tolerance``."""
    studies = {}
    for t in treatments:
        study = event_study(panel, t)
        stored = estimates[estimates.model == f"M6 event study: {t}"]
        times = stored.term.str.split("=").str[1].astype(int)
        refit = study.estimates.set_index("event_time").estimate.reindex(times)
        gap = float(np.max(np.abs(stored.estimate.to_numpy() - refit.to_numpy()))) if len(stored) else np.inf
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
    - excluded: treatment, cbsa_code, metro (title), first_year (NaN for a comparison metro),
      reason (treated too early, or a comparison metro with undated records);
    - groups: one row per treatment: comparison ("clean" or "all"), treated (metros in the
      cohorts), contributing, excluded_early (treated too early), excluded_undated (never-treated
      metros left out of a clean comparison), never_treated (comparison metros in the sample),
      never_with_undated (of these, metros with memberships or ties on record not dated within
      the panel years: 0 in a clean comparison), dropped (the study's notes).
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
                                  "first_year": first[row.cbsa_code], "reason": row.reason})
        never = [c for c in sample.cbsa_code.unique() if pd.isna(first[c])]
        ever, dated, _ = ON_RECORD[t]
        on_record = panel[panel.cbsa_code.isin(never)].groupby("cbsa_code")
        early = int(study.excluded.cbsa_code.map(first).notna().sum())
        groups.append({"treatment": t, "comparison": study.comparison, "treated": int(study.cohorts.metros.sum()),
                       "contributing": len(treated_years), "excluded_early": early,
                       "excluded_undated": len(study.excluded) - early, "never_treated": len(never),
                       "never_with_undated": int((on_record[ever].max() > on_record[dated].max()).sum()),
                       "dropped": "; ".join(study.notes)})
    excluded = pd.DataFrame(excluded_rows, columns=["treatment", "cbsa_code", "metro", "first_year", "reason"])
    return pd.DataFrame(cohort_rows), excluded.astype({"first_year": "Int64"}), pd.DataFrame(groups)


def group_sentences(groups: pd.DataFrame) -> list[str]:
    """One line per treatment of the ``groups`` table of :func:`event_samples`."""
    lines = []
    for g in groups.itertuples():
        what = ON_RECORD[g.treatment][2]
        clean = (f"{g.excluded_undated} never-treated metros with {what} on record not dated within the panel "
                 f"years left out of the comparison group (clean comparison)" if g.comparison == "clean" else
                 f"{g.never_with_undated} of the comparison metros have {what} on record not dated within the "
                 "panel years (comparison 'all')")
        lines.append(f"{event_name(g.treatment)}: {g.treated} treated metros ({g.contributing} with treated years in "
                     f"the sample), {g.excluded_early} left out as treated too early, {g.never_treated} never-treated "
                     f"comparison metros; {clean}. {g.dropped}".rstrip())
    return lines


def event_support(study: EventStudy, panel: pd.DataFrame | None = None) -> pd.Series:
    """Treated metros observed in the study's estimation sample at each event time (index:
    event time, int; binned times pool their years): :attr:`EventStudy.support`."""
    return study.support.set_index("event_time").metros


def _in_tests(study: EventStudy) -> set[int]:
    leads, lags = study.supported()
    return {*leads, -1, *lags}


def event_paths(studies: Mapping[str, EventStudy], panel: pd.DataFrame | None = None,
                estimators: Sequence[str] = ESTIMATORS) -> pd.DataFrame:
    """The event-study coefficients of every study and estimator (did2s, Sun-Abraham) with their
    percent value, the treated metros and cohorts behind each event time (0 where none), and
    whether the event time is within the supported leads and lags the tests use
    (``in_tests``). Columns: :data:`PATH_COLUMNS`."""
    frames = []
    for t, study in studies.items():
        support = study.support.set_index("event_time")
        tested = _in_tests(study)
        for estimator in estimators:
            est = study.estimates if estimator == "did2s" else study.sun_abraham
            if est is None:
                continue
            frames.append(est.assign(
                treatment=t, estimator=estimator, percent=percent(est.estimate),
                treated_metros_observed=est.event_time.map(support.metros).fillna(0).astype(int),
                cohorts=est.event_time.map(support.cohorts).fillna(0).astype(int),
                in_tests=est.event_time.isin(tested)))
    return pd.concat(frames, ignore_index=True)[PATH_COLUMNS]


def pretrend_table(pretrend: pd.DataFrame) -> pd.DataFrame:
    """The stored pre-trend tests (``pretrend.csv``, did2s and Sun-Abraham) without the data label;
    notes "" if none."""
    tests = pretrend.drop(columns="data", errors="ignore").copy()
    if "notes" in tests:
        tests["notes"] = tests.notes.astype(object).fillna("")
    return tests


# -- event studies: what the intervals rule in and out ------------------------------------------------
@dataclass(frozen=True)
class PostEventAverage:
    """Mean of the event-time coefficients ``first`` to ``last`` (log points), its standard
    error from their covariance matrix, and the 95% interval ``estimate -/+ t se`` with ``t``
    the 0.975 quantile of t(``df``), df = G - 1 (:meth:`EventStudy.df_t`)."""

    estimate: float
    std_error: float
    conf_low: float
    conf_high: float
    coefficients: int
    df: float


def post_event_average(study: EventStudy, first: int = 0, last: int | None = POST_LAST,
                       estimator: str = "did2s") -> PostEventAverage:
    """The equal-weight average of ``estimator``'s event-study coefficients at event times
    ``first`` to ``last`` (default: 0 to :data:`POST_LAST`; None: to the largest) and its
    standard error ``sqrt(w' V w)`` with ``V`` the covariance of the event-time coefficients;
    the interval from t(G-1), as the coefficients' own."""
    coef, vcov = study.path(estimator)
    times = np.asarray(coef.index, dtype=int)
    last = int(times.max()) if last is None else last
    chosen = (times >= first) & (times <= last)
    if not chosen.any():
        raise CitydipError(f"event study {study.treatment}: no coefficient at event times {first} to {last}")
    weights = chosen / chosen.sum()
    average = float(weights @ coef.to_numpy(dtype=float))
    se = float(np.sqrt(weights @ vcov.to_numpy(dtype=float) @ weights))
    df = study.df_t(estimator)
    half = float(stats.t.isf(0.025, df)) * se
    return PostEventAverage(average, se, average - half, average + half, int(chosen.sum()), df)


def _pretrend(study: EventStudy, estimator: str) -> dict:
    return study.pretrend if estimator == "did2s" else study.sun_abraham_pretrend


def _estimators(study: EventStudy, estimators: Sequence[str]) -> list[str]:
    return [e for e in estimators if e == "did2s" or study.sun_abraham is not None]


def event_study_summary(studies: Mapping[str, EventStudy], estimators: Sequence[str] = ESTIMATORS,
                        alpha: float = 0.05) -> pd.DataFrame:
    """One row per study and estimator: the pre-trend test of the supported leads (p-value
    from F(leads, G-1), leads, first lead) and of every lead, the mean of the supported lead
    coefficients, the largest absolute bound of their 95% intervals (t(G-1)), the post-event average
    (:func:`post_event_average`, 0 to :data:`POST_LAST`) with its standard error and interval,
    and how many of those post-event coefficients have p < ``alpha``. Columns:
    :data:`SUMMARY_COLUMNS` (log points)."""
    rows = []
    for t, study in studies.items():
        leads = study.supported()[0]
        for estimator in _estimators(study, estimators):
            est = (study.estimates if estimator == "did2s" else study.sun_abraham).set_index("event_time")
            lead, post = est.loc[est.index.isin(leads)], est.loc[0:POST_LAST]
            avg = post_event_average(study, estimator=estimator)
            test = _pretrend(study, estimator)
            rows.append({"treatment": t, "estimator": estimator, "pretrend_p": test["p_value"],
                         "leads": test["leads"], "first_lead": test["first_lead"],
                         "pretrend_p_all_leads": test["p_value_all"], "mean_lead": lead.estimate.mean(),
                         "largest_lead_bound": float(np.max(np.abs(lead[["conf_low", "conf_high"]].to_numpy()))),
                         "average_post": avg.estimate, "average_post_se": avg.std_error,
                         "average_post_low": avg.conf_low, "average_post_high": avg.conf_high,
                         "post_significant_5pct": int((post.p_value < alpha).sum()), "post_coefficients": len(post)})
    return pd.DataFrame(rows, columns=SUMMARY_COLUMNS)


# -- pre-trend power and sensitivity ------------------------------------------------------------------
def power_table(studies: Mapping[str, EventStudy], estimators: Sequence[str] = ESTIMATORS,
                benchmark: float = BENCHMARK) -> pd.DataFrame:
    """Power of each pre-trend test (supported leads, F(leads, G-1)) against a linear pre-trend
    (Roth 2022; :func:`~citydip.estimation.events.pretrend_power`, noncentral F): the slopes
    (log points per year) it detects with 50% and 80% probability, the bias such a trend would give the post-event
    average (0 to :data:`POST_LAST`) if it continued, the slope whose continuation would bias
    that average by ``benchmark``, and the power against it. Columns: :data:`POWER_COLUMNS`."""
    rows = []
    post = range(POST_LAST + 1)
    for t, study in studies.items():
        for estimator in _estimators(study, estimators):
            power = pretrend_power(study, estimator)
            s50, s80 = power.slope_for(0.5), power.slope_for(0.8)
            per_unit = power.bias(1.0, post)
            s_bench = benchmark / per_unit
            rows.append({"treatment": t, "estimator": estimator, "leads": len(power.leads),
                         "first_lead": min(power.leads), "pretrend_p": _pretrend(study, estimator)["p_value"],
                         "slope_50": s50, "slope_80": s80, "bias_50": power.bias(s50, post),
                         "bias_80": power.bias(s80, post), "slope_benchmark": s_bench,
                         "power_benchmark": power.power(s_bench)})
    return pd.DataFrame(rows, columns=POWER_COLUMNS)


def honest_tables(studies: Mapping[str, EventStudy], estimators: Sequence[str] = ("sun_abraham",),
                  targets: Mapping[str, Sequence[int]] = TARGETS, mbars: Sequence[float] = MBARS,
                  benchmark: float = BENCHMARK) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The sensitivity analysis of the post-event estimates (relative magnitudes, Rambachan &
    Roth 2023; :func:`~citydip.estimation.events.honest_sensitivity`): for each study,
    estimator and target (name -> event times averaged), the honest 95% interval over the grid
    ``mbars`` (columns :data:`HONEST_COLUMNS`; normal reference, so at Mbar = 0 a little
    narrower than :func:`post_event_average`'s t(G-1) interval), and the breakdown values: the
    smallest Mbar at which the interval includes zero, and ``benchmark`` (columns
    :data:`BREAKDOWN_COLUMNS`)."""
    intervals, breakdowns = [], []
    for t, study in studies.items():
        for estimator in _estimators(study, estimators):
            for name, times in targets.items():
                honest = honest_sensitivity(study, estimator, post=tuple(times))
                table = honest.table(mbars)
                intervals.append(table.assign(treatment=t, estimator=estimator, target=name,
                                              includes_benchmark=(table.conf_low <= benchmark)
                                              & (benchmark <= table.conf_high)))
                low, high = honest.interval(0.0)
                breakdowns.append({"treatment": t, "estimator": estimator, "target": name,
                                   "estimate": honest.estimate, "std_error": honest.std_error, "conf_low": low,
                                   "conf_high": high, "leads": len(honest.pre),
                                   "max_pre_change": honest.max_pre_change, "kappa": honest.kappa,
                                   "breakdown_zero": honest.breakdown(0.0),
                                   "breakdown_benchmark": honest.breakdown(benchmark)})
    return (pd.concat(intervals, ignore_index=True)[HONEST_COLUMNS],
            pd.DataFrame(breakdowns, columns=BREAKDOWN_COLUMNS))


def dynamics_sentences(summary: pd.DataFrame, groups: pd.DataFrame, lags: pd.DataFrame,
                       power: pd.DataFrame | None = None, breakdown: pd.DataFrame | None = None,
                       benchmark: float = BENCHMARK) -> list[str]:
    """The "In short" findings of notebook 05 from :func:`event_study_summary`,
    :func:`event_samples` (groups), :func:`lag_summary`, and (if given) :func:`power_table` and
    the breakdown table of :func:`honest_tables`; ``benchmark`` in log points."""
    treated = groups.set_index("treatment").contributing
    power = power.set_index(["treatment", "estimator"]) if power is not None else None
    lines = []
    for t, rows in summary.groupby("treatment", sort=False):
        lines.append(f"- {event_name(t).capitalize()} ({treated[t]} treated metros with treated years in the sample, "
                     "clean comparison):")
        for r in rows.itertuples():
            verdict = ("rejected" if r.pretrend_p < 0.05 else "rejected at 10% only" if r.pretrend_p < 0.10 else
                       "not rejected")
            excludes_zero = r.average_post_low > 0 or r.average_post_high < 0
            covers = r.average_post_low <= benchmark <= r.average_post_high
            line = (f"  {ESTIMATOR_NAMES[r.estimator]}: the joint test of no pre-trend (leads {r.first_lead:.0f} to "
                    f"-2) is {verdict} (p = {r.pretrend_p:.3f}); the lead intervals cannot exclude gaps of up to "
                    f"{r.largest_lead_bound:.3f} log points. After the event the average coefficient (0 to "
                    f"+{POST_LAST}) is {r.average_post:+.3f} log points ({percent(r.average_post):+.1f}%), 95% CI "
                    f"[{r.average_post_low:+.3f}, {r.average_post_high:+.3f}]: it "
                    f"{'excludes' if excludes_zero else 'includes'} zero and "
                    f"{'includes' if covers else 'excludes'} an {percent(benchmark):.0f}% rise.")
            if power is not None and (t, r.estimator) in power.index:
                p = power.loc[(t, r.estimator)]
                line += (f" The test detects a linear pre-trend of {p.slope_80:.3f} log points a year only with 80% "
                         f"probability; continued, such a trend would shift the average by {p.bias_80:+.3f}. A trend "
                         f"that would fake an {percent(benchmark):.0f}% effect is detected with probability "
                         f"{p.power_benchmark:.2f}.")
            lines.append(line)
    if breakdown is not None:
        for r in breakdown.itertuples():
            rise = f"an {percent(benchmark):.0f}% rise"
            zero = ("the conventional interval already includes zero" if r.breakdown_zero == 0 else
                    f"the interval includes zero from Mbar = {r.breakdown_zero:.2f} on")
            bench = (f"already includes {rise}" if r.breakdown_benchmark == 0 else
                     f"includes {rise} from Mbar = {r.breakdown_benchmark:.2f} on")
            lines.append(f"- Sensitivity ({ESTIMATOR_NAMES[r.estimator]}, {event_name(r.treatment)}, {r.target}): "
                         f"estimate {r.estimate:+.3f}, 95% CI [{r.conf_low:+.3f}, {r.conf_high:+.3f}]; {zero}, and "
                         f"it {bench} (Mbar: post-event changes in the trend gap up to Mbar times the largest change "
                         f"between lead years, {r.max_pre_change:.3f} log points).")
    for r in lags.itertuples():
        lines.append(f"- One-year lag (M6), {term_label(r.measure).lower()}: {r.estimate:+.3f} log points, 95% CI "
                     f"[{r.conf_low:+.3f}, {r.conf_high:+.3f}], p = {r.p_value:.3f} (contemporaneous M3: "
                     f"{r.estimate_contemporaneous:+.3f}, p = {r.p_value_contemporaneous:.3f}).")
    return lines
