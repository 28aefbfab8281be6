"""Event studies (citydip.estimation.events): the clean comparison group against removing the
metros by hand; event time and its support against loops; Sun-Abraham against pyfixest's own
saturated event study and a hand-built regression with explicit cohort-by-year dummies; the
response to a planted trend against refitting; the pre-trend test's power against Monte
Carlo draws and (from below) against planted trends on synthetic panels; the relative-magnitudes
sensitivity analysis against the conventional interval, its identified set against linear
programmes (one a port of the R package HonestDiD's), and its coverage in simulations."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pandas as pd
import pytest
from scipy import optimize, stats

from citydip.errors import CitydipError
from citydip.estimation import _pyfixest, events
from citydip.estimation.events import event_study, treatment_years
from citydip.panel.synthetic import SyntheticTruth, synthetic_panel


@pytest.fixture(scope="module")
def synth():
    return synthetic_panel(seed=11)


@pytest.fixture(scope="module")
def network(synth):
    return event_study(synth[0], "network")


def _quiet(fn, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return fn(*args, **kwargs)


def _unclean(panel, treatment):
    """Never-treated metros with records the panel cannot date, by a plain loop."""
    first = treatment_years(panel, treatment)
    ever, dated, _ = events.ON_RECORD[treatment]
    out = set()
    for code, rows in panel.groupby("cbsa_code"):
        if pd.isna(first[code]) and rows[ever].max() > rows[dated].max():
            out.add(code)
    return out


# -- sample --------------------------------------------------------------------------------------------
def test_clean_comparison_equals_removing_the_metros_by_hand(synth, network):
    panel, _ = synth
    first = treatment_years(panel, "network")
    unclean = _unclean(panel, "network")
    assert len(unclean) > 5  # the synthetic panel has undated memberships and joins after the panel
    early = set(first[first < panel.year.min() + 2].index)
    assert set(network.excluded.cbsa_code) == early | unclean
    reasons = network.excluded.set_index("cbsa_code").reason
    assert all("not a clean comparison" in reasons[c] for c in unclean)
    assert all(reasons[c].startswith("treated in") for c in early)
    # did2s and Sun-Abraham on the panel without those metros, all comparisons kept: the same numbers
    by_hand = event_study(panel[~panel.cbsa_code.isin(unclean)], "network", comparison="all")
    assert set(by_hand.excluded.cbsa_code) == early
    for a, b in ((network.estimates, by_hand.estimates), (network.sun_abraham, by_hand.sun_abraham)):
        np.testing.assert_allclose(a.estimate, b.estimate, rtol=0, atol=1e-10)
        np.testing.assert_allclose(a.std_error, b.std_error, rtol=1e-8, atol=1e-12)
    np.testing.assert_allclose(network.vcov.to_numpy(), by_hand.vcov.to_numpy(), rtol=1e-8, atol=1e-14)
    assert network.comparison_metros == by_hand.comparison_metros == len(
        {c for c in panel.cbsa_code.unique() if pd.isna(first[c])} - unclean)
    # the sister analogue: never-treated metros whose ties on record exceed those active in the panel
    assert set(events.undated_on_record(panel, "sister").pipe(lambda s: s[s > 0]).index) >= _unclean(panel, "sister")
    with pytest.raises(CitydipError, match="comparison"):
        event_study(panel, "network", comparison="never")
    with pytest.raises(CitydipError, match="window"):
        event_study(panel, "network", window=1)


def test_event_time_is_not_binned_and_support_counts_metros(synth, network):
    panel, _ = synth
    first = treatment_years(panel, "network")
    data = network.data
    treated = data[data.first_year.notna()]
    np.testing.assert_array_equal(treated.rel, treated.year - treated.cbsa_code.map(first))
    assert (data.loc[data.first_year.isna(), "rel"] == -1).all()
    estimated = set(network.estimates.event_time)
    assert estimated == set(treated.rel.astype(int))  # one coefficient per relative year (-1: reference)
    support = network.support.set_index("event_time")
    for k in sorted(estimated):
        metros = {r.cbsa_code for r in treated.itertuples() if r.rel == k}
        cohorts = {first[c] for c in metros}
        assert support.loc[k, "metros"] == len(metros) and support.loc[k, "cohorts"] == len(cohorts), k
        assert support.loc[k, "rel_min"] == support.loc[k, "rel_max"] == k and not support.loc[k, "binned"]
    # the supported leads and lags: contiguous from -2 and 0 while at least min_metros metros
    leads, lags = network.supported()
    assert leads == list(range(min(leads), -1)) and lags == list(range(max(lags) + 1))
    assert all(support.loc[k, "metros"] >= network.min_metros for k in leads + lags)
    assert support.metros.get(min(leads) - 1, 0) < network.min_metros
    # the pre-trend test: over the supported leads, and over every lead, by hand
    b = network.estimates.set_index("event_time").estimate
    V = network.vcov.set_axis([events.event_time_of(n) for n in network.vcov.index], axis=0)
    V = V.set_axis(V.index, axis=1)
    for times, key in ((leads, "wald_chi2"), (sorted(k for k in estimated if k <= -2), "wald_chi2_all")):
        sub = V.loc[times, times].to_numpy()
        assert network.pretrend[key] == pytest.approx(float(b[times] @ np.linalg.solve(sub, b[times])), rel=1e-10)
    assert network.pretrend["leads"] == len(leads) and network.pretrend["first_lead"] == min(leads)
    # treated metros: those with treated rows in the sample, not the cohorts' sizes
    assert network.treated_metros == data.loc[data.treat == 1, "cbsa_code"].nunique()


def test_binned_event_time_pools_the_ends_and_says_so(synth):
    panel, _ = synth
    study = event_study(panel, "network", window=4, sun_abraham=False)
    assert study.window == 4 and set(study.estimates.event_time) == set(range(-4, 5))
    support = study.support.set_index("event_time")
    treated = study.data[study.data.first_year.notna()]
    assert support.loc[-4, "rel_min"] == treated.rel_year.min() and support.loc[4, "rel_max"] == treated.rel_year.max()
    assert support.loc[4, "binned"] and not support.loc[3, "binned"]
    assert support.loc[4, "rel_mean"] == pytest.approx(treated.loc[treated.rel_year >= 4, "rel_year"].mean())
    # the same did2s by hand
    fit = _quiet(__import__("pyfixest").did2s, study.data.drop(columns="log_exports_hat"), yname="log_exports",
                 first_stage="~ 0 | metro_id + year", second_stage="~ i(rel, ref=-1.0)", treatment="treat",
                 cluster="metro_id")
    np.testing.assert_allclose(study.estimates.query("event_time != -1").estimate, fit.coef().to_numpy(), atol=1e-12)


# -- inference: t(G-1) and F(q, G-1) -----------------------------------------------------------------
def _gardner(sample, outcome="log_exports", first_stage=True):
    """Gardner's two-stage estimator and its cluster-robust covariance by hand (dense numpy):
    metro and year dummies fitted on the untreated rows, the residualised outcome regressed on
    event-time dummies, and per metro the score ``X2_g' e2_g - (X2'X1)(X10'X10)^-1 X10_g' e1_g``
    (X10: the first-stage design with treated rows zeroed), summed in
    ``(X2'X2)^-1 (sum s_g s_g') (X2'X2)^-1`` without a small-sample factor (``first_stage=False``:
    without the first stage's term, a plain clustered second stage)."""
    y = sample[outcome].to_numpy(dtype=float)
    metros = (sample.metro_id.to_numpy()[:, None] == np.unique(sample.metro_id)[None, :]).astype(float)
    years = (sample.year.to_numpy()[:, None] == np.unique(sample.year)[None, 1:]).astype(float)
    X1 = np.hstack([metros, years])
    X10 = X1 * (sample.treat.to_numpy() == 0)[:, None]
    gamma = np.linalg.solve(X10.T @ X10, X10.T @ y)
    e1 = y - X1 @ gamma
    times = sorted(int(k) for k in set(sample.rel) if k != -1)
    X2 = np.column_stack([(sample.rel.to_numpy() == k) for k in times]).astype(float)
    bread = np.linalg.inv(X2.T @ X2)
    beta = bread @ X2.T @ e1
    e2 = e1 - X2 @ beta
    through = (X2.T @ X1) @ np.linalg.inv(X10.T @ X10) * first_stage
    meat = np.zeros((len(times), len(times)))
    for g in np.unique(sample.metro_id):
        rows = sample.metro_id.to_numpy() == g
        score = X2[rows].T @ e2[rows] - through @ (X10[rows].T @ e1[rows])
        meat += np.outer(score, score)
    return times, beta, bread @ meat @ bread


def test_did2s_covariance_against_gardner_by_hand(network):
    times, beta, V = _gardner(network.data)
    coef, vcov = network.path("did2s")
    assert list(coef.index) == times
    # to the precision of pyfixest's iterative demeaning (fixef_tol 1e-8): about 1e-6
    np.testing.assert_allclose(coef.to_numpy(), beta, rtol=0, atol=1e-5)
    se = np.sqrt(np.diag(V))
    np.testing.assert_allclose(np.sqrt(np.diag(vcov.to_numpy())), se, rtol=1e-4)
    np.testing.assert_allclose(vcov.to_numpy(), V, rtol=0, atol=1e-4 * np.abs(V).max())
    # the tolerance tells the formulas apart: without the first stage's term, or with CRV1's
    # G/(G-1), the standard errors differ by more than 1e-4
    naive = np.sqrt(np.diag(_gardner(network.data, first_stage=False)[2]))
    assert np.max(np.abs(naive / se - 1)) > 1e-2
    G = network.data.metro_id.nunique()
    assert math.sqrt(G / (G - 1)) - 1 > 1e-3


def test_event_study_p_values_and_intervals_follow_t_of_metros_less_one(network):
    G = network.data.cbsa_code.nunique()
    assert network.n_clusters == G and network.df_t("did2s") == network.df_t("sun_abraham") == G - 1
    assert network.sun_abraham_backend._df_t == G - 1  # pyfixest's own clustered feols agrees
    for frame in (network.estimates, network.sun_abraham):
        est = frame[frame.event_time != -1]
        t = est.estimate / est.std_error
        np.testing.assert_allclose(est.p_value, 2 * stats.t.sf(t.abs(), G - 1), rtol=1e-12)
        half = stats.t.ppf(0.975, G - 1) * est.std_error
        np.testing.assert_allclose(est.conf_low, est.estimate - half, rtol=1e-12, atol=1e-15)
        np.testing.assert_allclose(est.conf_high, est.estimate + half, rtol=1e-12, atol=1e-15)
        # not the normal reference: some p-value differs visibly
        assert np.max(np.abs(est.p_value - 2 * stats.norm.sf(t.abs()))) > 1e-3


def test_pretrend_p_value_is_f_of_wald_over_leads(network):
    G = network.data.cbsa_code.nunique()
    leads = network.supported()[0]
    for estimator, test in (("did2s", network.pretrend), ("sun_abraham", network.sun_abraham_pretrend)):
        coef, vcov = network.path(estimator)
        b, V = coef[leads].to_numpy(), vcov.loc[leads, leads].to_numpy()
        W = float(b @ np.linalg.inv(V) @ b)
        q = len(leads)
        assert test["wald_chi2"] == pytest.approx(W, rel=1e-10) and test["wald_f"] == pytest.approx(W / q, rel=1e-10)
        assert (test["df_num"], test["df_den"]) == (q, G - 1)
        assert test["p_value"] == pytest.approx(stats.f.sf(W / q, q, G - 1), rel=1e-10)
        every = sorted(k for k in coef.index if k <= -2)
        b, V = coef[every].to_numpy(), vcov.loc[every, every].to_numpy()
        W = float(b @ np.linalg.inv(V) @ b)
        assert test["p_value_all"] == pytest.approx(stats.f.sf(W / len(every), len(every), G - 1), rel=1e-10)
    chi2 = events.lead_test(*network.path("did2s"), leads, df_den=math.inf)
    assert chi2["p_value"] == pytest.approx(stats.chi2.sf(network.pretrend["wald_chi2"], len(leads)), rel=1e-10)
    with pytest.raises(CitydipError, match="degrees of freedom"):
        events.lead_test(*network.path("did2s"), leads, df_den=0)


def test_wald_statistic_against_pyfixest_wald_test(network):
    """pyfixest's own Wald test on the fitted models gives the same W (its chi2 statistic), and,
    on a clustered two-way fixed-effects event study where it refers W / q to F(q, G-1) (all
    coefficients), the same F statistic and p-value."""
    import pyfixest as pf

    leads = network.supported()[0]
    # did2s: the leads of the second stage, with the did2s covariance
    names = [events.event_time_of(n) for n in network.backend.coef().index]
    R = np.eye(len(names))[[names.index(k) for k in leads]]
    theirs = _quiet(network.backend.wald_test, R=R, distribution="chi2")
    assert float(theirs["statistic"]) == pytest.approx(network.pretrend["wald_chi2"], rel=1e-8)
    # Sun-Abraham: the rows of the aggregation matrix at the leads, on the saturated regression
    times, W = events._aggregation(network.sun_abraham_backend, network.window)
    theirs = _quiet(network.sun_abraham_backend.wald_test, R=W[[times.index(k) for k in leads]], distribution="chi2")
    assert float(theirs["statistic"]) == pytest.approx(network.sun_abraham_pretrend["wald_chi2"], rel=1e-6)
    # a clustered TWFE event study: pyfixest's F(q, G-1) test of every coefficient
    sample = network.data.copy()
    sample["rel_b"] = sample.rel.clip(-4, 4)
    fit = _quiet(pf.feols, "log_exports ~ i(rel_b, ref=-1.0) | metro_id + year", data=sample,
                 vcov={"CRV1": "metro_id"})
    coef = fit.coef().set_axis([events.event_time_of(n) for n in fit.coef().index])
    mine = events.lead_test(coef, _pyfixest.vcov(fit), times=list(coef.index), df_den=_pyfixest.df_t(fit))
    theirs = _quiet(fit.wald_test, distribution="F")
    assert mine["df_den"] == sample.cbsa_code.nunique() - 1
    assert mine["wald_f"] == pytest.approx(float(theirs["statistic"]), rel=1e-8)
    assert mine["p_value"] == pytest.approx(float(theirs["pvalue"]), rel=1e-6, abs=1e-12)


# -- Sun-Abraham ---------------------------------------------------------------------------------------
def _hand_built(sample):
    """Explicit cohort-by-relative-year dummies in pf.feols, and the cells' observation counts."""
    import pyfixest as pf

    d = sample[["cbsa_code", "metro_id", "year", "log_exports", "first_year", "rel_year", "treat"]].copy()
    cells = sorted({(int(g), int(r)) for g, r in zip(d.first_year, d.rel_year) if not pd.isna(g) and r != -1})
    names = {}
    for g, r in cells:
        name = f"d_{g}_{'m' if r < 0 else 'p'}{abs(r)}"
        d[name] = ((d.first_year == g) & (d.rel_year == r)).astype(float)
        names[(g, r)] = name
    fit = _quiet(pf.feols, "log_exports ~ " + " + ".join(names.values()) + " | metro_id + year", data=d,
                 vcov={"CRV1": "metro_id"})
    counts = {cell: int(d[name].sum()) for cell, name in names.items()}
    return fit, names, counts


def _aggregate(fit, names, counts, bins):
    """Average the cell coefficients at each event time (``bins``: cell -> event time) with the
    cells' shares of the observations there."""
    b = fit.coef()
    order = list(b.index)
    V = _pyfixest.vcov(fit).to_numpy()
    times = sorted(set(bins.values()))
    W = np.zeros((len(times), len(order)))
    for cell, e in bins.items():
        total = sum(n for c, n in counts.items() if bins[c] == e)
        W[times.index(e), order.index(names[cell])] = counts[cell] / total
    return times, W @ b.to_numpy(), W @ V @ W.T


def test_sun_abraham_against_pyfixest_saturated_and_explicit_dummies(synth, network):
    import pyfixest as pf

    sample = network.data
    sa = network.sun_abraham.set_index("event_time").drop(-1)
    # (1) pyfixest's own saturated event study and its aggregate() (cohort shares)
    d = sample[["metro_id", "year", "log_exports"]].assign(g=sample.first_year.fillna(0).astype(int))
    own = _quiet(pf.event_study, d, yname="log_exports", idname="metro_id", tname="year", gname="g",
                 estimator="saturated", cluster="metro_id")
    agg = _quiet(own.aggregate)
    agg.index = agg.index.astype(float).astype(int)
    np.testing.assert_allclose(sa.estimate, agg.loc[sa.index, "Estimate"].astype(float), atol=1e-10)
    np.testing.assert_allclose(sa.std_error, agg.loc[sa.index, "Std. Error"].astype(float), rtol=1e-8)
    # (2) a regression with explicit dummies, averaged with shares counted by hand
    fit, names, counts = _hand_built(sample)
    times, est, cov = _aggregate(fit, names, counts, {cell: cell[1] for cell in names})
    assert times == list(sa.index)
    np.testing.assert_allclose(sa.estimate, est, atol=1e-10)
    np.testing.assert_allclose(network.sun_abraham_vcov.to_numpy(), cov, rtol=1e-8, atol=1e-14)
    q = stats.t.ppf(0.975, sample.metro_id.nunique() - 1)  # t(G - 1), as pyfixest's clustered feols
    np.testing.assert_allclose(sa.conf_high, sa.estimate + q * sa.std_error, rtol=1e-10)
    # (3) binned at +/-4 (the same sample): the cells beyond the window pooled with their shares
    binned = event_study(synth[0], "network", window=4)
    pd.testing.assert_frame_equal(binned.data[["cbsa_code", "year"]], sample[["cbsa_code", "year"]])
    bins = {cell: int(np.clip(cell[1], -4, 4)) for cell in names}
    times, est, cov = _aggregate(fit, names, counts, bins)
    got = binned.sun_abraham.set_index("event_time").drop(-1)
    assert times == list(got.index)
    np.testing.assert_allclose(got.estimate, est, atol=1e-10)
    np.testing.assert_allclose(binned.sun_abraham_vcov.to_numpy(), cov, rtol=1e-8, atol=1e-14)


# -- a planted trend ---------------------------------------------------------------------------------
def test_trend_response_equals_refitting_with_a_planted_trend(synth, network):
    panel, _ = synth
    slope = 0.02
    first = panel.cbsa_code.map(treatment_years(panel, "network"))
    planted = panel.assign(log_exports=panel.log_exports + slope * (panel.year - first + 1).fillna(0.0))
    again = event_study(planted, "network")
    for estimator in events.ESTIMATORS:
        before, _ = network.path(estimator)
        after, _ = again.path(estimator)
        response = events.trend_response(network, estimator)
        # to the precision of pyfixest's iterative demeaning (fixef_tol 1e-8): about 1e-7
        np.testing.assert_allclose(after - before, slope * response.reindex(before.index), atol=1e-6)
    # Sun-Abraham's response is k + 1 without binning, computed from its weights as by a fit
    sa = events.trend_response(network, "sun_abraham")
    np.testing.assert_allclose(sa.to_numpy(), sa.index.to_numpy() + 1.0, atol=1e-12)
    np.testing.assert_allclose(events.trend_response(network, "sun_abraham", fitted=True), sa, atol=1e-8)


def test_power_equals_monte_carlo_rejection_rates(network):
    """The analytic power of the F pre-trend test against a linear trend equals the rejection
    rate of simulated tests: leads drawn from a normal with the trend's means and the estimated
    covariance V, and V estimated as V chi2(G-1) / (G-1), independent of the leads (the model
    behind the F(q, G-1) reference); the test rejects when W / q exceeds the F(q, G-1) quantile."""
    rng = np.random.default_rng(3)
    n = 40_000
    df = network.data.cbsa_code.nunique() - 1
    for estimator in events.ESTIMATORS:
        power = events.pretrend_power(network, estimator)
        assert power.df_den == df
        _, vcov = network.path(estimator)
        leads = list(power.leads)
        q = len(leads)
        V = vcov.loc[leads, leads].to_numpy()
        critical = stats.f.isf(0.05, q, df)
        for target in (0.3, 0.5, 0.8):
            slope = power.slope_for(target)
            assert power.power(slope) == pytest.approx(target, abs=1e-8)
            draws = rng.multivariate_normal(power.trend(slope), V, size=n)
            scale = rng.chisquare(df, size=n) / df
            wald = np.einsum("ij,ij->i", draws, np.linalg.solve(V, draws.T).T) / scale
            rate = float((wald / q > critical).mean())
            assert abs(rate - target) < 4 * math.sqrt(target * (1 - target) / n), (estimator, target, rate)
        assert power.power(0.0) == pytest.approx(0.05)
        # the F test detects less than the chi2 test with the same covariance taken as exact
        chi2 = events.wald_power(events.trend_response(network, estimator), vcov, leads, df_den=math.inf)
        assert chi2.power(power.slope_for(0.5)) > 0.5
        assert power.bias(1.0, [0]) == pytest.approx(power.post_shift[0])
    with pytest.raises(CitydipError):
        power.slope_for(0.01)


@pytest.mark.slow
def test_a_planted_pretrend_is_rejected_at_least_as_often_as_the_power_predicts(mc_reps):
    """Synthetic panels with exactly parallel trends (every effect and control set to zero) and a
    planted linear pre-trend in the treated metros (before the event only): the did2s and
    Sun-Abraham pre-trend tests reject at least as often as their analytic power predicts
    (mean over seeds, less three binomial standard errors). The power takes the estimated
    covariance as exact; on 100-metro panels the cluster-robust Wald test over a dozen leads is
    over-sized (without any trend it rejects in about 40% of panels at the 5% level), so the
    check is one-sided: a power calculation that promised more than the test delivers fails.
    (Exactness of the calculation given the covariance: the two tests above.)"""
    truth = SyntheticTruth(beta_sister=0.0, beta_consulate=0.0, beta_network=0.0, beta_log_population=0.0,
                           beta_log_per_capita_income=0.0)
    seeds = range(500, 500 + mc_reps(30))
    slope = 0.007
    rejected = {e: [] for e in events.ESTIMATORS}
    predicted = {e: [] for e in events.ESTIMATORS}
    for seed in seeds:
        panel, _ = synthetic_panel(seed=seed, truth=truth)
        rel = panel.year - panel.cbsa_code.map(treatment_years(panel, "network"))
        trend = (slope * (rel + 1)).where(rel < 0, 0.0).fillna(0.0)
        study = event_study(panel.assign(log_exports=panel.log_exports + trend), "network")
        for estimator in events.ESTIMATORS:
            test = study.pretrend if estimator == "did2s" else study.sun_abraham_pretrend
            rejected[estimator].append(test["p_value"] < 0.05)
            predicted[estimator].append(events.pretrend_power(study, estimator).power(slope))
    n = len(seeds)
    for estimator in events.ESTIMATORS:
        p = float(np.mean(predicted[estimator]))
        rate = float(np.mean(rejected[estimator]))
        assert 0.2 < p < 0.95, (estimator, p)  # the slope is neither undetectable nor obvious
        assert rate >= p - 3 * math.sqrt(p * (1 - p) / n), (estimator, rate, p)


# -- sensitivity analysis (relative magnitudes) ---------------------------------------------------------
def _toy(seed=0, pre=4, post=4):
    rng = np.random.default_rng(seed)
    times = list(range(-pre - 1, -1)) + list(range(post))
    A = rng.normal(size=(len(times), len(times)))
    V = A @ A.T / 400 + np.eye(len(times)) * 1e-3
    b = pd.Series(rng.normal(scale=0.05, size=len(times)), index=times)
    return b, pd.DataFrame(V, index=times, columns=times)


def test_honest_interval_at_zero_is_the_conventional_one_and_widens(network):
    for b, V, post in ((*_toy(), (0, 1, 2, 3)), (*_toy(1), (0,)), (*network.path("sun_abraham"), tuple(range(6)))):
        honest = events.honest_relative_magnitudes(b, V, post=post, draws=50_000)
        w = np.full(len(post), 1 / len(post))
        theta = float(w @ b[list(post)])
        se = float(np.sqrt(w @ V.loc[list(post), list(post)].to_numpy() @ w))
        z = stats.norm.isf(0.025)
        assert honest.interval(0.0) == (pytest.approx(theta - z * se, abs=1e-12), pytest.approx(theta + z * se,
                                                                                               abs=1e-12))
        grid = np.linspace(0, 3, 61)
        table = honest.table(grid)
        assert (np.diff(table.width) > 0).all() and (np.diff(table.conf_low) < 0).all()
        assert (np.diff(table.conf_high) > 0).all()
        # the breakdown value: where the interval first reaches zero
        m = honest.breakdown(0.0)
        low, high = honest.interval(m)
        if m > 0:
            assert min(abs(low), abs(high)) < 1e-8 and not (honest.interval(m * 0.99)[0] <= 0 <= honest.interval(
                m * 0.99)[1])
        else:
            assert low <= 0 <= high
    # the post-event average of the analysis module: the same estimate and standard error (its
    # interval uses t(G-1), the honest one at Mbar = 0 the normal)
    from citydip.analysis.dynamics import post_event_average

    avg = post_event_average(network, estimator="sun_abraham")
    honest = events.honest_sensitivity(network, "sun_abraham")
    assert honest.estimate == pytest.approx(avg.estimate, rel=1e-12)
    assert honest.std_error == pytest.approx(avg.std_error, rel=1e-10)
    with pytest.raises(CitydipError, match="gap"):
        events.honest_relative_magnitudes(*_toy(), pre=[-5, -3, -2])


def _r_identified_set(mbar, beta, weights, n_pre, n_post):
    """The identified set as the R package HonestDiD computes it (``.compute_IDset_DeltaRM``,
    R/deltarm.R): the union over the period ``s`` of the largest pre-period change and its sign
    of linear programmes in delta with ``delta_pre = beta_pre``; ported with scipy's linprog."""
    n = n_pre + n_post
    atilde = np.zeros((n, n + 1))
    for r in range(n):
        atilde[r, r:r + 2] = (-1, 1)
    lows, highs = [], []
    for s in range(-(n_pre - 1), 1):
        for sign in (1, -1):
            v = np.zeros(n + 1)
            v[n_pre + s - 1:n_pre + s + 1] = (-sign, sign)
            bound = np.vstack([np.tile(v, (n_pre, 1)), np.tile(mbar * v, (n_post, 1))])
            A = np.vstack([atilde - bound, -atilde - bound])
            A = np.delete(A[(A ** 2).sum(axis=1) > 1e-10], n_pre, axis=1)  # drop delta_0 (the reference)
            objective = np.concatenate([np.zeros(n_pre), weights])
            eq = np.hstack([np.eye(n_pre), np.zeros((n_pre, n_post))])
            solved = [optimize.linprog(sense * objective, A_ub=A, b_ub=np.zeros(len(A)), A_eq=eq, b_eq=beta[:n_pre],
                                       bounds=(None, None)) for sense in (-1, 1)]
            theta = weights @ beta[n_pre:]
            if all(r.status != 0 for r in solved):
                lows.append(theta), highs.append(theta)
            else:
                top, bottom = -solved[0].fun, solved[1].fun
                lows.append(theta - top), highs.append(theta - bottom)
    return min(lows), max(highs)


def test_identified_set_against_linear_programmes():
    """The closed form of the Delta^RM identified set against (1) a linear programme over the
    post-period bias path and (2) a port of the R package HonestDiD's polyhedral computation."""
    rng = np.random.default_rng(7)
    for _ in range(20):
        pre, post = int(rng.integers(2, 6)), int(rng.integers(1, 5))
        beta_pre, beta_post = rng.normal(scale=0.05, size=pre), rng.normal(scale=0.05, size=post)
        weights = rng.uniform(0, 1, size=post)
        mbar = float(rng.uniform(0, 2))
        low, high = events.rm_identified_set(beta_pre, beta_post, weights, mbar)
        # (1) extreme l' delta_post with |delta_t - delta_{t-1}| <= mbar * D, delta_{-1} = 0
        D = np.max(np.abs(np.diff(np.append(beta_pre, 0.0))))
        A = np.eye(post) - np.eye(post, k=-1)
        A_ub, b_ub = np.vstack([A, -A]), np.full(2 * post, mbar * D)
        best = [optimize.linprog(sign * weights, A_ub=A_ub, b_ub=b_ub, bounds=(None, None)).fun for sign in (-1, 1)]
        theta = weights @ beta_post
        assert low == pytest.approx(theta - (-best[0]), abs=1e-9) and high == pytest.approx(theta - best[1], abs=1e-9)
        # (2) the R package's union of polyhedra
        r_low, r_high = _r_identified_set(mbar, np.concatenate([beta_pre, beta_post]), weights, pre, post)
        assert (low, high) == (pytest.approx(r_low, abs=1e-8), pytest.approx(r_high, abs=1e-8))


@pytest.mark.slow
def test_honest_intervals_cover_theta_in_simulations():
    """Draws of the coefficients around a bias path at the edge of Delta^RM(Mbar) (every
    post-event change in the bias as large as allowed): the honest 95% interval covers the
    true theta in at least 95% of draws (within three binomial standard errors)."""
    V = _toy(seed=5)[1]
    pre, post = [-5, -4, -3, -2], [0, 1, 2, 3]
    delta_pre = np.array([0.03, -0.01, 0.02, 0.0])
    D = np.max(np.abs(np.diff(np.append(delta_pre, 0.0))))
    tau = np.array([0.05, 0.04, 0.06, 0.05])
    rng = np.random.default_rng(11)
    reps = 600
    for mbar in (0.0, 0.5, 1.0):
        delta_post = np.cumsum(np.full(len(post), mbar * D))
        beta = pd.Series(np.concatenate([delta_pre, delta_post + tau]), index=pre + post)
        theta = tau.mean()
        draws = rng.multivariate_normal(beta.to_numpy(), V.to_numpy(), size=reps)
        covered = 0
        for i, row in enumerate(draws):
            honest = events.honest_relative_magnitudes(pd.Series(row, index=pre + post), V, post=post, draws=4000,
                                                       seed=i)
            low, high = honest.interval(mbar)
            covered += low <= theta <= high
        assert covered / reps >= 0.95 - 3 * math.sqrt(0.95 * 0.05 / reps), (mbar, covered / reps)
