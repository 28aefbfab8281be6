"""Event studies around dated diplomacy events: did2s and Sun-Abraham, the pre-trend test and
its power, and a sensitivity analysis of the post-event estimates.

Treatments (the first dated event of a metro within the panel years):

* ``network``: the year a metro's first international city network join is dated
  (``networks_dated`` turns positive);
* ``sister``: the first year in the panel with a newly established sister-city tie
  (``sister_new > 0``). Most metros have older ties, so this is the effect of an
  additional tie, and later ties belong to the dynamic response.

**Sample.** Metros treated before they have ``min_pre`` untreated years (including those
treated before the panel starts) are left out. The comparison group is the metros never
treated in the panel. With ``comparison="clean"`` (the default, and the report's) a
never-treated metro is left out when it has memberships (``network``) or ties (``sister``)
on record that are not dated within the panel years: for networks ``networks_ever > 0``
while ``networks_dated`` is 0 in every panel year (an undated membership, a ClimActor
snapshot, or a join dated outside the panel years); for sister ties ``sister_ever`` exceeds
the largest ``sister_active`` of the panel years (undated ties, or ties dated outside the
panel years). Such a metro may have been treated during the panel at a date nobody
recorded, so it is no clean comparison. (On the real panel every one of these metros has at
least one *undated* row in the curated data: the panel's ``undated="predate"`` variant
raises exactly their counts.) ``comparison="all"`` keeps them (the design before this
option). Every metro left out is listed in :attr:`EventStudy.excluded` with its reason.

**Event time.** Years relative to the first treated year, reference -1 (never-treated
metros sit in the reference period). No binning by default: every relative year has its own
coefficient; ``window=w`` pools the years beyond +/- ``w`` into the end bins, and says so
(:attr:`EventStudy.support` gives, for every event time, the treated metros, cohorts and
observations behind it and the relative years it pools).

**Estimators.** (1) Gardner's two-stage difference-in-differences (``pyfixest.did2s``):
metro and year effects from untreated observations, then the residualised outcome on
event-time dummies; standard errors clustered by metro (pyfixest's port of R's did2s: the GMM
sandwich that carries the first stage's estimation error, no small-sample factor). (2) Sun &
Abraham's (2021) interaction-weighted estimator: pyfixest's saturated event study (the specification of
``pf.event_study(estimator="saturated")``: ``y ~ i(rel, cohort, ref=-1, ref2=0) | metro +
year``, one coefficient per cohort and relative year, never-treated metros the control
cohort), fitted on the same sample with the same event time, its cohort-specific
coefficients averaged at each event time with the cohorts' shares of the observations there
(as pyfixest's ``aggregate()``; within a bin, the shares of the cells the bin pools); its
covariance ``W V W'``.

**Inference** (``conventions.RULES``, rows ``did2s`` and ``sun_abraham``): both estimators
cluster by metro, so their t statistics are referred to t(G-1), G the metros in the
estimation sample (:meth:`EventStudy.df_t`), and their 95% intervals use the t(G-1)
quantile; the pre-trend tests refer W / q to F(q, G-1).

**Pre-trend test and its power.** The Wald test that the q lead coefficients are all zero
(:func:`lead_test`; W the Wald quadratic form, W / q referred to F(q, G-1)), over the
*supported* leads: from -2 back
to the last lead with at least ``min_metros`` treated metros behind it
(:meth:`EventStudy.supported`; the test of every lead is kept beside it). Its power against a
linear pre-trend (Roth 2022, :func:`pretrend_power`): both estimators are linear in the
outcome, so a trend of slope ``s`` a year in the treated metros (0 in the year before the
event) moves the leads by ``s m`` with ``m`` the estimator applied to the trend itself
(:func:`trend_response`; for Sun-Abraham ``m_k = k + 1``, for did2s the imputation residuals
of the trend), and W / q is noncentral F(q, G-1) with noncentrality ``s^2 m' V^-1 m``. The
same ``m`` at the post-event times is the bias a continuing trend would give the post-event
coefficients.

*Size.* The test and its power take the estimated cluster-robust covariance as exact up to
the F reference's scalar chi2(G-1)/(G-1) noise. On synthetic 100-metro panels with exactly
parallel trends (about 60 metros in the sample) the F test over the dozen supported leads
rejects at the 5% level in 37% (did2s) and 40% (Sun-Abraham) of 100 panels (chi2(q): 43% and
46%; with chi2(q), about 17% with 4 binned leads, the design before, and 17% also on 400-metro
panels): the covariance of many leads rests on a few dozen treated metros, and Sun-Abraham's
clustered standard errors are 10-25% too small in cells with few metros. Read a rejection as
weak evidence.

**Sensitivity analysis (Rambachan & Roth 2023), relative magnitudes.**
:func:`honest_relative_magnitudes` bounds the violation of parallel trends after the event by
``Mbar`` times the largest violation between consecutive periods before it (the class
Delta^RM(Mbar)): with ``delta`` the bias path (``delta_{-1} = 0``),
``|delta_t - delta_{t-1}| <= Mbar * max_{k<=-2} |delta_{k+1} - delta_k|`` for every post
period ``t >= 0``. For a parameter ``theta = l' tau_post`` the identified set is
``l' beta_post -/+ Mbar * kappa * D`` with ``D`` the largest pre-period change of ``beta`` and
``kappa = sum_j |sum_{t>=j} l_t|`` (R&R's identified set for this class; checked in the
tests against a linear programme and a port of the R package HonestDiD's union of polyhedra;
``moderndid`` 0.2.0's ``compute_identified_set_rm`` differs: it leaves out the earliest
pre-period change). The
confidence interval is our own, simpler than R&R's conditional / hybrid tests and
conservative: ``theta_hat -/+ (Mbar * kappa * D_hat + c(Mbar))`` where ``c(Mbar)`` is the
1 - alpha quantile of ``|Z_0| + Mbar * kappa * max_k |Z_k|``, ``(Z_0, Z_k)`` normal with the
estimated covariance of ``(l' beta_hat_post, the pre-period changes of beta_hat)`` (seeded
draws). Since ``|theta - theta_hat| <= |Z_0| + Mbar kappa (D_hat + max |Z_k|)``, it covers
``theta`` with probability at least 1 - alpha for every bias path in the class. At ``Mbar = 0``
it is exactly the conventional interval ``theta_hat -/+ z sigma``, and it widens
monotonically in ``Mbar``. *Reference:* the normal (as R&R and HonestDiD), a stated
exception to the t(G-1) rule of the event-study coefficients: at ``Mbar = 0`` it is a little
narrower than the t(G-1) interval of the same average. The breakdown value is the smallest
``Mbar`` at which the interval includes a given value (0 by default). :func:`honest_sensitivity` applies it to a study's
supported leads, Sun-Abraham by default: its coefficients are differences from the year before
the event, R&R's normalisation; did2s's leads are imputation residuals relative to all of a
metro's untreated years, not comparable with its lags in this way (Roth 2024).
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import optimize, stats

from citydip.errors import CitydipError
from citydip.estimation import _pyfixest
from citydip.estimation.results import wald_test

TREATMENTS = {"network": ("networks_dated", "first dated city-network join"),
              "sister": ("sister_new", "first new sister-city tie in the panel")}
#: Comparison groups of :func:`event_study`.
COMPARISONS = ("clean", "all")
#: Per treatment: (count of everything on record, count dated within the panel, what is counted).
ON_RECORD = {"network": ("networks_ever", "networks_dated", "network memberships"),
             "sister": ("sister_ever", "sister_active", "sister-city ties")}
#: Default of ``min_metros``: the pre-trend tests, their power and the sensitivity analysis use the
#: event times with at least this many treated metros behind them (cluster-robust standard errors
#: of coefficients resting on one to a few metros are far too small).
MIN_METROS = 10
#: Seed and number of the normal draws behind the critical values of the honest intervals.
HONEST_SEED, HONEST_DRAWS = 20230901, 200_000
ESTIMATORS = ("did2s", "sun_abraham")


@dataclass
class EventStudy:
    treatment: str
    outcome: str
    #: event_time, estimate, std_error, conf_low, conf_high, p_value (t(G-1); reference row: 0)
    estimates: pd.DataFrame
    #: Wald test that all supported leads are zero (:meth:`pretrend_test`): W / q against F(q, G-1)
    pretrend: dict
    cohorts: pd.DataFrame     #: first_year, metros (cohorts of the treated metros kept)
    excluded: pd.DataFrame    #: cbsa_code, reason (treated too early; comparison metros with undated records)
    nobs: int
    notes: list[str]
    backend: object = None
    #: second-stage estimation sample (event time ``rel``, ``rel_year``, ``treat``, ``first_year``, ...)
    data: pd.DataFrame | None = None
    vcov: pd.DataFrame | None = None  #: covariance of the event-time coefficients (did2s-corrected)
    comparison: str = "clean"         #: "clean" or "all" (see the module doc)
    window: int | None = None         #: event time binned at +/- window (None: not binned)
    #: event_time, metros, cohorts, observations (treated metros behind each event time), rel_min,
    #: rel_max, rel_mean (relative years pooled: equal to event_time unless binned), binned
    support: pd.DataFrame | None = None
    #: Sun-Abraham interaction-weighted path (columns as ``estimates``) and its covariance (by event time)
    sun_abraham: pd.DataFrame | None = None
    sun_abraham_vcov: pd.DataFrame | None = None
    sun_abraham_pretrend: dict = field(default_factory=dict)
    sun_abraham_backend: object = None
    min_metros: int = MIN_METROS      #: the pre-trend tests use leads with at least this many treated metros
    sun_abraham_clusters: int = 0     #: metros in the saturated regression's sample (G of its t(G-1))

    @property
    def n_clusters(self) -> int:
        """Metros (clusters) in the did2s estimation sample: G of its t(G-1) reference."""
        return int(self.data.metro_id.nunique()) if self.data is not None else 0

    def df_t(self, estimator: str = "did2s") -> float:
        """Degrees of freedom of ``estimator``'s t statistics and of the denominator of its F
        tests: G - 1, G the metros in its estimation sample (``conventions.RULES``)."""
        if estimator not in ESTIMATORS:
            raise CitydipError(f"estimator {estimator!r} is not one of {ESTIMATORS}")
        clusters = self.n_clusters if estimator == "did2s" else self.sun_abraham_clusters
        if clusters < 2:
            raise CitydipError(f"event study {self.treatment}: {estimator} has {clusters} metros; t(G-1) needs two")
        return float(clusters - 1)

    @property
    def treated_metros(self) -> int:
        """Treated metros with treated years in the estimation sample (not the cohorts' sizes:
        a cohort whose treated years were all dropped contributes none)."""
        return int(self.data.loc[self.data.treat == 1, "cbsa_code"].nunique()) if self.data is not None else 0

    @property
    def comparison_metros(self) -> int:
        """Never-treated metros in the estimation sample."""
        return int(self.data.loc[self.data.first_year.isna(), "cbsa_code"].nunique()) if self.data is not None else 0

    def supported(self, min_metros: int | None = None) -> tuple[list[int], list[int]]:
        """The leads (from -2 back) and lags (from 0 on) up to the first event time with fewer
        than ``min_metros`` (default: the study's) treated metros behind it."""
        least = self.min_metros if min_metros is None else min_metros
        metros = self.support.set_index("event_time").metros
        leads, lags = [], []
        first, last = int(metros.index.min()), int(metros.index.max())
        for steps, out in ((range(-2, first - 1, -1), leads), (range(last + 1), lags)):
            for k in steps:
                if metros.get(k, 0) < least:
                    break
                out.append(k)
        return sorted(leads), lags

    def pretrend_test(self, estimator: str = "did2s") -> dict:
        """Wald test that the supported leads (:meth:`supported`) of ``estimator`` are all zero,
        W / q against F(q, G-1) (:func:`lead_test`: wald_chi2, wald_f, df_num, df_den, p_value,
        leads; and first_lead, min_metros), and the same test of every lead (wald_chi2_all,
        wald_f_all, p_value_all, leads_all)."""
        coef, vcov = self.path(estimator)
        leads = self.supported()[0]
        df = self.df_t(estimator)
        every = lead_test(coef, vcov, df_den=df)
        return {**lead_test(coef, vcov, leads, df_den=df), "first_lead": min(leads) if leads else float("nan"),
                "min_metros": self.min_metros, "wald_chi2_all": every["wald_chi2"], "wald_f_all": every["wald_f"],
                "p_value_all": every["p_value"], "leads_all": every["leads"]}

    def path(self, estimator: str = "did2s") -> tuple[pd.Series, pd.DataFrame]:
        """The event-time coefficients (reference period left out) and their covariance, both
        indexed by event time (int), of ``estimator`` ("did2s" or "sun_abraham")."""
        if estimator not in ESTIMATORS:
            raise CitydipError(f"estimator {estimator!r} is not one of {ESTIMATORS}")
        est, vcov = (self.estimates, self.vcov) if estimator == "did2s" else (self.sun_abraham, self.sun_abraham_vcov)
        if est is None or vcov is None:
            raise CitydipError(f"event study {self.treatment}: no {estimator} estimates")
        times = [event_time_of(label) for label in vcov.index]
        coef = est.set_index("event_time").estimate.reindex(times).set_axis(times).rename_axis("event_time")
        return coef, vcov.set_axis(times, axis=0).set_axis(times, axis=1)


def event_time_of(label) -> int:
    """Event time of a coefficient label (``rel::3.0``, ``3`` or a number)."""
    return int(float(str(label).rsplit("::", 1)[-1]))


def treatment_years(panel: pd.DataFrame, treatment: str) -> pd.Series:
    """First year of the treatment per metro (NaN if never treated in the panel)."""
    if treatment not in TREATMENTS:
        raise CitydipError(f"treatment {treatment!r} is not one of {sorted(TREATMENTS)}")
    column = TREATMENTS[treatment][0]
    treated = panel[panel[column] > 0]
    first = treated.groupby("cbsa_code").year.min()
    codes = panel.cbsa_code.unique()
    return pd.Series(codes, name="cbsa_code").map(first).astype("float64").set_axis(codes)


def undated_on_record(panel: pd.DataFrame, treatment: str) -> pd.Series:
    """Per metro, memberships (``network``) or ties (``sister``) on record that are not dated
    within the panel years: ``networks_ever`` - max ``networks_dated``, or ``sister_ever`` - max
    ``sister_active`` (at least 0). For a metro never treated in the panel this is everything on
    record that the panel cannot date (see the module doc)."""
    if treatment not in ON_RECORD:
        raise CitydipError(f"treatment {treatment!r} is not one of {sorted(ON_RECORD)}")
    ever, dated, _ = ON_RECORD[treatment]
    g = panel.groupby("cbsa_code")
    return (g[ever].max() - g[dated].max()).clip(lower=0).astype(int)


def event_study(panel: pd.DataFrame, treatment: str = "network", outcome: str = "log_exports",
                window: int | None = None, min_pre: int = 2, comparison: str = "clean",
                sun_abraham: bool = True, min_metros: int = MIN_METROS) -> EventStudy:
    """Estimate the event-time path of ``outcome`` around ``treatment`` with did2s and (unless
    ``sun_abraham=False``) Sun-Abraham; ``comparison`` "clean" (default) or "all", ``window``
    None (default: no binning) or the bin edge; the pre-trend tests use the leads from -2 back
    to the last with at least ``min_metros`` treated metros (see the module doc)."""
    if comparison not in COMPARISONS:
        raise CitydipError(f"comparison {comparison!r} is not one of {COMPARISONS}")
    if window is not None and window < 2:
        raise CitydipError(f"window {window} must be at least 2 (the reference period -1 is never pooled)")
    first = treatment_years(panel, treatment)
    start, end = int(panel.year.min()), int(panel.year.max())
    early = first[first.notna() & (first - start < min_pre)]
    excluded = [pd.DataFrame({"cbsa_code": early.index,
                              "reason": [f"treated in {int(y)}: fewer than {min_pre} untreated years in the panel"
                                         for y in early]})]
    if comparison == "clean":
        undated = undated_on_record(panel, treatment).reindex(first.index).fillna(0)
        unclean = undated[first.isna() & (undated > 0)]
        what = ON_RECORD[treatment][2]
        excluded.append(pd.DataFrame({"cbsa_code": unclean.index, "reason": [
            f"never treated in {start}-{end}, but {int(n)} {what} on record not dated within those years "
            "(undated, or dated outside them): not a clean comparison" for n in unclean]}))
    excluded = pd.concat(excluded, ignore_index=True)
    data = panel.loc[~panel.cbsa_code.isin(excluded.cbsa_code), ["cbsa_code", "year", outcome]].dropna().copy()
    data["metro_id"] = pd.factorize(data.cbsa_code, sort=True)[0] + 1
    g = data.cbsa_code.map(first).astype("float64")
    data["first_year"] = g
    data["treat"] = (g.notna() & (data.year >= g)).astype(int)
    data["rel_year"] = data.year - g  # NaN for never-treated metros
    rel = data.rel_year if window is None else data.rel_year.clip(-window, window)
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
    fit = _did2s(data, outcome)
    tidy = fit.tidy()
    times = [event_time_of(t) for t in tidy.index]
    sample = _pyfixest.estimation_data(fit)
    est = _with_reference(_t_inference(times, tidy["Estimate"].to_numpy(), tidy["Std. Error"].to_numpy(),
                                       sample.metro_id.nunique() - 1.0))
    cohorts = (first[first.notna() & ~first.index.isin(excluded.cbsa_code)].value_counts().sort_index()
               .rename_axis("first_year").reset_index(name="metros"))
    notes = [f"years without an untreated metro dropped: {dropped_years}"] if dropped_years else []
    study = EventStudy(treatment, outcome, est, {}, cohorts, excluded, _pyfixest.nobs(fit), notes, fit,
                       data=sample, vcov=_pyfixest.vcov(fit, tidy.index), comparison=comparison, window=window,
                       support=event_support(sample, window), min_metros=min_metros)
    study.pretrend = study.pretrend_test("did2s")
    if sun_abraham:
        if study.comparison_metros == 0:
            notes.append("Sun-Abraham not estimated: no never-treated metro in the sample")
        else:
            _add_sun_abraham(study)
    return study


def _did2s(data: pd.DataFrame, outcome: str):
    import pyfixest as pf

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return pf.did2s(data, yname=outcome, first_stage="~ 0 | metro_id + year",
                        second_stage="~ i(rel, ref=-1.0)", treatment="treat", cluster="metro_id")


def _t_inference(times: Sequence[int], estimate: np.ndarray, std_error: np.ndarray, df: float,
                 level: float = 0.95) -> pd.DataFrame:
    """event_time, estimate, std_error, conf_low, conf_high, p_value: two-sided p-values of
    ``estimate / std_error`` and ``level`` intervals from t(``df``) (df = G - 1 under the rule)."""
    estimate, std_error = np.asarray(estimate, dtype=float), np.asarray(std_error, dtype=float)
    q = stats.t.isf((1 - level) / 2, df)
    with np.errstate(invalid="ignore", divide="ignore"):
        p = 2 * stats.t.sf(np.abs(estimate / std_error), df)
    return pd.DataFrame({"event_time": np.asarray(times, dtype=int), "estimate": estimate, "std_error": std_error,
                         "conf_low": estimate - q * std_error, "conf_high": estimate + q * std_error, "p_value": p})


def _with_reference(est: pd.DataFrame) -> pd.DataFrame:
    reference = pd.DataFrame({"event_time": [-1], "estimate": [0.0], "std_error": [0.0], "conf_low": [0.0],
                              "conf_high": [0.0], "p_value": [np.nan]})
    return pd.concat([est, reference]).sort_values("event_time").reset_index(drop=True)


def event_support(sample: pd.DataFrame, window: int | None = None) -> pd.DataFrame:
    """For every event time of the estimation ``sample`` (columns ``rel``, ``rel_year``,
    ``first_year``, ``cbsa_code``), the treated metros behind it: event_time, metros, cohorts,
    observations, and the relative years it pools (rel_min, rel_max, rel_mean of the treated
    observations; binned is True where it pools more than one)."""
    treated = sample[sample.first_year.notna()]
    support = treated.groupby("rel").agg(metros=("cbsa_code", "nunique"), cohorts=("first_year", "nunique"),
                                          observations=("cbsa_code", "size"), rel_min=("rel_year", "min"),
                                          rel_max=("rel_year", "max"), rel_mean=("rel_year", "mean"))
    support = support.rename_axis("event_time").reset_index()
    support["event_time"] = support.event_time.astype(int)
    support[["rel_min", "rel_max"]] = support[["rel_min", "rel_max"]].astype(int)
    support["binned"] = support.rel_min < support.rel_max
    return support


# -- Sun-Abraham --------------------------------------------------------------------------------------
def sun_abraham_weights(sample: pd.DataFrame, window: int | None = None) -> pd.DataFrame:
    """Weights of the cohort-by-relative-year cells at each event time: cohort (first year),
    rel_year, event_time (binned if ``window``), observations, weight (the cell's share of the
    treated observations at that event time for event times >= 0, of the not-yet-treated
    observations of ever-treated cohorts before; pyfixest's ``compute_period_weights``). The
    reference cells (relative year -1) are left out."""
    treated = sample[sample.first_year.notna() & (sample.rel_year != -1)]
    cells = treated.groupby(["first_year", "rel_year"]).size().rename("observations").reset_index()
    cells["event_time"] = cells.rel_year if window is None else cells.rel_year.clip(-window, window)
    cells = cells.astype({"first_year": int, "rel_year": int, "event_time": int})
    cells = cells.rename(columns={"first_year": "cohort"})
    cells["weight"] = cells.observations / cells.groupby("event_time").observations.transform("sum")
    return cells.sort_values(["event_time", "cohort", "rel_year"]).reset_index(drop=True)


def _saturated(sample: pd.DataFrame, outcome: str):
    """pyfixest's saturated event study (``pf.event_study(estimator="saturated")``'s formula) on
    the study's sample and event time."""
    import pyfixest as pf

    frame = sample[["cbsa_code", "metro_id", "year", outcome, "first_year", "rel_year"]].copy()
    frame["cohort"] = frame.first_year.fillna(0).astype(int)
    frame["rel_sa"] = frame.rel_year.fillna(-1).astype(int)  # never treated: cohort 0 (ref2), no dummy
    with warnings.catch_warnings(), _pyfixest.tolerant_overall_test():
        warnings.simplefilter("ignore")
        return pf.feols(f"{outcome} ~ i(rel_sa, cohort, ref=-1, ref2=0) | metro_id + year", data=frame,
                        vcov={"CRV1": "metro_id"})


def _aggregation(fit, window: int | None, notes: list[str] | None = None) -> tuple[list[int], np.ndarray]:
    """Event times and the matrix W that averages the saturated model's coefficients."""
    names = list(fit.coef().index)
    cells = {(int(n.rsplit("::", 1)[1]), event_time_of(n.split(":")[2])): i for i, n in enumerate(names)}
    weights = sun_abraham_weights(_pyfixest.estimation_data(fit), window)
    missing = weights[[(c, r) not in cells for c, r in zip(weights.cohort, weights.rel_year)]]
    if len(missing):
        if notes is not None:
            notes.append(f"Sun-Abraham: {len(missing)} cohort-year cells without a coefficient (collinear) left "
                         "out of the averages")
        weights = weights.drop(missing.index)
        weights["weight"] = weights.observations / weights.groupby("event_time").observations.transform("sum")
    times = sorted(int(t) for t in weights.event_time.unique())
    W = np.zeros((len(times), len(names)))
    for row in weights.itertuples():
        W[times.index(row.event_time), cells[(row.cohort, row.rel_year)]] = row.weight
    return times, W


def _add_sun_abraham(study: EventStudy) -> None:
    fit = _saturated(study.data, study.outcome)
    times, W = _aggregation(fit, study.window, study.notes)
    b = fit.coef().to_numpy(dtype=float)
    V = _pyfixest.vcov(fit).to_numpy(dtype=float)
    est, cov = W @ b, W @ V @ W.T
    with np.errstate(invalid="ignore"):
        se = np.sqrt(np.diag(cov))
    if not np.isfinite(se).all() or (se <= 0).any():
        study.notes.append("Sun-Abraham: some standard errors are not positive (too few comparison metros)")
    study.sun_abraham_clusters = int(_pyfixest.estimation_data(fit).metro_id.nunique())
    study.sun_abraham = _with_reference(_t_inference(times, est, se, study.df_t("sun_abraham")))
    study.sun_abraham_vcov = pd.DataFrame(cov, index=times, columns=times)
    study.sun_abraham_backend = fit
    study.sun_abraham_pretrend = study.pretrend_test("sun_abraham")


def trend_response(study: EventStudy, estimator: str = "did2s", fitted: bool = False) -> pd.Series:
    """The event-time coefficients (reference left out, by event time) that ``estimator`` returns
    on the study's sample when the outcome is a linear trend of slope 1 in the treated metros
    (``rel_year + 1``: 0 in the year before the event) and 0 in the comparison metros. Both
    estimators are linear in the outcome, so a trend of slope ``s`` added to the data moves the
    coefficients by ``s`` times this.

    did2s: the estimator applied to the trend. Sun-Abraham: the saturated model fits the trend
    exactly (cohort-by-relative-year coefficients ``r + 1``, metro and year effects 0), so the
    response is the aggregation weights' average of ``r + 1`` (``k + 1`` at event time ``k``
    without binning); ``fitted=True``, or collinear cells, fit the regression instead."""
    frame = study.data.copy()
    frame["_trend"] = (frame.rel_year + 1.0).fillna(0.0)
    if estimator == "did2s":
        fit = _did2s(frame, "_trend")
        coef = fit.coef()
        return pd.Series(coef.to_numpy(), index=[event_time_of(n) for n in coef.index]).rename_axis("event_time")
    if estimator == "sun_abraham":
        if not fitted and not any(n.startswith("Sun-Abraham: ") and "collinear" in n for n in study.notes):
            cells = sun_abraham_weights(study.data, study.window)
            return (cells.weight * (cells.rel_year + 1.0)).groupby(cells.event_time).sum().rename(None)
        fit = _saturated(frame, "_trend")
        times, W = _aggregation(fit, study.window)
        return pd.Series(W @ fit.coef().to_numpy(dtype=float), index=times).rename_axis("event_time")
    raise CitydipError(f"estimator {estimator!r} is not one of {ESTIMATORS}")


# -- pre-trend test and its power ---------------------------------------------------------------------
def lead_test(coef: pd.Series, vcov: pd.DataFrame, times: Sequence[int] | None = None, *, df_den: float) -> dict:
    """Wald test that the q coefficients at event ``times`` (default: every lead, event time
    <= -2, in ``vcov``) are all zero: W = b' V^-1 b (``wald_chi2``, as
    :class:`~citydip.estimation.results.WaldTest`), ``wald_f`` = W / q, ``df_num`` = ``leads`` = q,
    ``df_den``, and ``p_value`` = P(F(q, df_den) > W / q); chi2(q) when ``df_den`` is infinite.
    Under the rule (cluster by metro) ``df_den`` = G - 1."""
    if not df_den > 0:
        raise CitydipError(f"the F test's denominator degrees of freedom must be positive, got {df_den}")
    labels = list(vcov.index)
    position = {event_time_of(label): i for i, label in enumerate(labels)}
    times = sorted(t for t in position if t <= -2) if times is None else sorted(times)
    if not times:
        return {"wald_chi2": float("nan"), "wald_f": float("nan"), "df_num": 0, "df_den": float(df_den),
                "p_value": float("nan"), "leads": 0}
    idx = [position[t] for t in times]
    test = wald_test([coef[t] for t in times], vcov.to_numpy(dtype=float)[np.ix_(idx, idx)], df_den)
    return {"wald_chi2": test.wald_chi2, "wald_f": test.statistic, "df_num": test.df_num, "df_den": test.df_den,
            "p_value": test.p_value, "leads": test.df_num}


@dataclass(frozen=True)
class PretrendPower:
    """Power of the Wald pre-trend test (:func:`lead_test`: W / q against F(q, ``df_den``), q the
    number of ``leads``, level ``alpha``) against a linear pre-trend of slope ``s`` (log points
    per year; Roth 2022). Under the trend the lead coefficients have mean ``s * shift``
    (:func:`trend_response` at the leads), so W / q is noncentral F(q, ``df_den``) with
    noncentrality ``s^2 * curvature``, ``curvature = shift' V^-1 shift`` (the Wald quadratic form
    of the trend; noncentral chi2(q) with it when ``df_den`` is infinite). ``post_shift``: the
    same response at the post-event times (the bias per unit slope of each post-event
    coefficient if the trend continues)."""

    leads: tuple[int, ...]
    shift: tuple[float, ...]
    curvature: float
    df_den: float
    alpha: float = 0.05
    post_shift: Mapping[int, float] = field(default_factory=dict)

    def _reject(self, noncentrality: float) -> float:
        q = len(self.leads)
        if noncentrality == 0:  # scipy's ncf.sf is wrong at exactly 0 (1.17: returns alpha - 1)
            return float(self.alpha)
        if np.isinf(self.df_den):
            return float(stats.ncx2.sf(stats.chi2.isf(self.alpha, q), q, noncentrality))
        return float(stats.ncf.sf(stats.f.isf(self.alpha, q, self.df_den), q, self.df_den, noncentrality))

    def power(self, slope: float) -> float:
        """Probability that the test rejects when the leads follow a trend of ``slope``."""
        return self._reject(slope ** 2 * self.curvature)

    def slope_for(self, power: float) -> float:
        """The (positive) slope the test detects with probability ``power`` (alpha < power < 1)."""
        if not self.alpha < power < 1:
            raise CitydipError(f"power {power} must lie between alpha = {self.alpha} and 1")
        lam = optimize.brentq(lambda nc: self._reject(nc) - power, 1e-12, 1e4)
        return float(np.sqrt(lam / self.curvature))

    def trend(self, slope: float) -> np.ndarray:
        """The lead coefficients' means under a trend of ``slope``."""
        return slope * np.asarray(self.shift)

    def bias(self, slope: float, times: Sequence[int] = tuple(range(6))) -> float:
        """Bias of the equal-weight average of the post-event coefficients at ``times`` under a
        trend of ``slope`` that continues after the event."""
        return float(slope * np.mean([self.post_shift[t] for t in times]))


def pretrend_power(study: EventStudy, estimator: str = "did2s", leads: Sequence[int] | None = None,
                   alpha: float = 0.05) -> PretrendPower:
    """:class:`PretrendPower` of ``estimator``'s Wald test of the ``leads`` (default: the
    study's supported leads, :meth:`EventStudy.supported`), F(q, G-1) as the test itself
    (:meth:`EventStudy.df_t`), with the leads' means under a unit trend from
    :func:`trend_response`."""
    vcov = study.path(estimator)[1]
    leads = study.supported()[0] if leads is None else sorted(leads)
    if not leads:
        raise CitydipError("no lead coefficients: the pre-trend test has no power to compute")
    shift = trend_response(study, estimator)
    return wald_power(shift, vcov, leads, alpha, df_den=study.df_t(estimator))


def wald_power(shift: pd.Series, vcov: pd.DataFrame, leads: Sequence[int], alpha: float = 0.05, *,
               df_den: float) -> PretrendPower:
    """:class:`PretrendPower` from the coefficients' response to a unit trend (``shift``, by
    event time), their covariance (labels parsed by :func:`event_time_of`) and the F test's
    denominator degrees of freedom ``df_den`` (G - 1; infinite: chi2)."""
    position = {event_time_of(label): i for i, label in enumerate(vcov.index)}
    idx = [position[k] for k in leads]
    V = vcov.to_numpy(dtype=float)[np.ix_(idx, idx)]
    m = np.array([shift[k] for k in leads], dtype=float)
    return PretrendPower(tuple(int(k) for k in leads), tuple(m.tolist()), float(m @ np.linalg.solve(V, m)),
                         float(df_den), alpha, {int(k): float(v) for k, v in shift.items() if k >= 0})


# -- sensitivity analysis: relative magnitudes --------------------------------------------------------
def rm_kappa(weights: Sequence[float]) -> float:
    """``kappa = sum_j |sum_{t>=j} l_t|`` of post-period weights ``l_0..l_T``: the largest
    ``l' delta_post`` when every post-period change of ``delta`` is at most 1 in absolute value."""
    tail = np.cumsum(np.asarray(weights, dtype=float)[::-1])[::-1]
    return float(np.abs(tail).sum())


def rm_identified_set(beta_pre: Sequence[float], beta_post: Sequence[float], weights: Sequence[float],
                      mbar: float) -> tuple[float, float]:
    """Identified set of ``theta = l' tau_post`` under Delta^RM(``mbar``) for true coefficients
    ``beta_pre`` (event times -K..-2, in order) and ``beta_post`` (0..T), ``weights`` l (0..T):
    ``l' beta_post -/+ mbar * kappa * max |pre-period change|``, the changes taken over
    -K..-1 with beta_{-1} = 0."""
    changes = np.diff(np.append(np.asarray(beta_pre, dtype=float), 0.0))
    theta = float(np.dot(weights, beta_post))
    half = mbar * rm_kappa(weights) * float(np.max(np.abs(changes)))
    return theta - half, theta + half


@dataclass(frozen=True)
class HonestRM:
    """Sensitivity of ``theta = sum_t weights[t] * tau_t`` (post-event effects) to violations of
    parallel trends in the class Delta^RM(Mbar) (see the module doc). Intervals refer to the
    normal (z quantile and normal draws), not to t(G-1). ``estimate``/``std_error``:
    the conventional estimate of theta; ``max_pre_change``: the largest absolute change of the
    lead coefficients between consecutive periods (-K..-1); ``kappa``: :func:`rm_kappa`."""

    estimate: float
    std_error: float
    max_pre_change: float
    kappa: float
    pre: tuple[int, ...]
    weights: Mapping[int, float]
    alpha: float
    draws: np.ndarray = field(repr=False)  #: (n, 2): |Z_0| and max_k |Z_k| per normal draw

    def critical(self, mbar: float) -> float:
        """``c(Mbar)``: 1 - alpha quantile of ``|Z_0| + Mbar kappa max_k |Z_k|``; at least the
        normal ``z sigma`` (exactly that at Mbar = 0)."""
        z = stats.norm.isf(self.alpha / 2) * self.std_error
        if mbar == 0:
            return float(z)
        total = self.draws[:, 0] + mbar * self.kappa * self.draws[:, 1]
        return float(max(z, np.quantile(total, 1 - self.alpha, method="inverted_cdf")))

    def interval(self, mbar: float) -> tuple[float, float]:
        """The honest (1 - alpha) interval for theta at ``mbar``."""
        if mbar < 0:
            raise CitydipError(f"Mbar {mbar} must be non-negative")
        half = mbar * self.kappa * self.max_pre_change + self.critical(mbar)
        return self.estimate - half, self.estimate + half

    def table(self, mbars: Sequence[float]) -> pd.DataFrame:
        """mbar, conf_low, conf_high, width, includes_zero for each ``mbars``."""
        rows = []
        for m in mbars:
            low, high = self.interval(float(m))
            rows.append({"mbar": float(m), "conf_low": low, "conf_high": high, "width": high - low,
                         "includes_zero": bool(low <= 0 <= high)})
        return pd.DataFrame(rows)

    def breakdown(self, value: float = 0.0) -> float:
        """The smallest Mbar at which the honest interval includes ``value`` (0 if the
        conventional one already does)."""
        def gap(m: float) -> float:
            low, high = self.interval(m)
            return max(low - value, value - high)
        if gap(0.0) <= 0:
            return 0.0
        high = 1.0
        while gap(high) > 0:
            high *= 2
            if high > 1e8:
                raise CitydipError("the honest interval does not widen: no breakdown value")
        return float(optimize.brentq(gap, 0.0, high, xtol=1e-10))


def honest_relative_magnitudes(coef: pd.Series, vcov: pd.DataFrame, post: Sequence[int] | Mapping[int, float] = (0,),
                               pre: Sequence[int] | None = None, alpha: float = 0.05, draws: int = HONEST_DRAWS,
                               seed: int = HONEST_SEED) -> HonestRM:
    """:class:`HonestRM` of the event-time coefficients ``coef`` with covariance ``vcov`` (both
    indexed by event time, reference -1 left out). ``post``: the post-event times averaged with
    equal weights, or event time -> weight; they must run from 0 without a gap. ``pre``: the
    leads used (default: every event time <= -2), which must run to -2 without a gap. Critical
    values from ``draws`` normal draws (seed ``seed``); normal reference (see :class:`HonestRM`)."""
    times = [event_time_of(t) for t in vcov.index]
    V_all = pd.DataFrame(vcov.to_numpy(dtype=float), index=times, columns=times)
    b_all = pd.Series([float(coef[t]) for t in times], index=times)
    weights = dict(post) if isinstance(post, Mapping) else {int(t): 1.0 / len(post) for t in post}
    post_times = list(range(max(weights) + 1))
    pre = sorted(t for t in times if t <= -2) if pre is None else sorted(pre)
    if not pre or pre != list(range(pre[0], -1)):
        raise CitydipError(f"the leads {pre} must run to -2 without a gap")
    if min(weights) < 0 or any(t not in times for t in post_times) or any(t not in times for t in pre):
        raise CitydipError(f"the event study lacks some of the event times {pre} and {post_times}")
    l = np.array([weights.get(t, 0.0) for t in post_times])
    # (theta_hat, changes of the leads over -K..-1) = A b
    n_pre = len(pre)
    A = np.zeros((1 + n_pre, n_pre + len(post_times)))
    A[0, n_pre:] = l
    for j in range(n_pre):  # change from pre[j] to the next period (beta_{-1} = 0)
        A[1 + j, j] = -1.0
        if j + 1 < n_pre:
            A[1 + j, j + 1] = 1.0
    order = pre + post_times
    b = b_all[order].to_numpy()
    V = V_all.loc[order, order].to_numpy()
    moments, omega = A @ b, A @ V @ A.T
    rng = np.random.default_rng(seed)
    z = rng.multivariate_normal(np.zeros(len(moments)), omega, size=draws, method="eigh")
    stacked = np.column_stack([np.abs(z[:, 0]), np.abs(z[:, 1:]).max(axis=1)])
    return HonestRM(float(moments[0]), float(np.sqrt(omega[0, 0])), float(np.abs(moments[1:]).max()),
                    rm_kappa(l), tuple(pre), {t: float(w) for t, w in zip(post_times, l)}, alpha, stacked)


def honest_sensitivity(study: EventStudy, estimator: str = "sun_abraham",
                       post: Sequence[int] | Mapping[int, float] = tuple(range(6)), alpha: float = 0.05) -> HonestRM:
    """:func:`honest_relative_magnitudes` of a study's ``estimator`` path over its supported
    leads (:meth:`EventStudy.supported`) for the post-event times ``post`` (default: the
    average of 0 to +5); normal reference (see :class:`HonestRM`). Sun-Abraham by default: its
    coefficients are differences from the year before the event (R&R's normalisation), did2s's
    leads are imputation residuals."""
    coef, vcov = study.path(estimator)
    return honest_relative_magnitudes(coef, vcov, post=post, pre=study.supported()[0], alpha=alpha)
