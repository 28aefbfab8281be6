"""Lag summaries, event-study samples, support, the post-event average, the summary, the
pre-trend power and sensitivity tables: against plain loops, pyfixest's own Wald test, the
estimation functions they report and the synthetic panel's planted effect."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from citydip.analysis import dynamics as dyn
from citydip.errors import CitydipError
from citydip.estimation.catalogue import event_rows
from citydip.estimation.events import (
    ON_RECORD,
    event_study,
    honest_sensitivity,
    pretrend_power,
    treatment_years,
)
from citydip.report.labels import term_label


@pytest.fixture(scope="module")
def studies(synthetic):
    panel, truth = synthetic
    found = {t: event_study(panel, t) for t in ("network", "sister")}
    return panel, truth, found


def test_lag_summary_by_hand():
    rows = []
    for model, terms in ((dyn.CONTEMPORANEOUS, ["sister_active", "consular_posts", "log_population"]),
                         (dyn.LAG_MODEL, ["sister_active_lag1", "consular_posts_lag1", "log_population"])):
        for i, term in enumerate(terms):
            b = 0.01 * (i + 1) * (2 if model == dyn.LAG_MODEL else 1)
            rows.append({"model": model, "term": term, "estimate": b, "conf_low": b - 0.02, "conf_high": b + 0.02,
                         "p_value": 0.1 * (i + 1), "nobs": 1600})
    table = dyn.lag_summary(pd.DataFrame(rows)).set_index("measure")
    assert table.index.tolist() == ["sister_active", "consular_posts"]  # the lagged controls are left out
    row = table.loc["consular_posts"]
    assert row.estimate == pytest.approx(0.04) and row.estimate_contemporaneous == pytest.approx(0.02)
    assert row.p_value_contemporaneous == pytest.approx(0.2) and row.percent == pytest.approx(100 * math.expm1(0.04))
    line = dyn.lag_sentences(table.reset_index())[1]
    assert line == (f"{term_label('consular_posts_lag1')}: +0.040 log points (+4.1% per unit), 95% CI "
                    "[+0.020, +0.060], p = 0.200, N = 1,600")
    with pytest.raises(CitydipError):
        dyn.lag_summary(pd.DataFrame(rows).query("model == @dyn.CONTEMPORANEOUS"))


def test_refit_event_studies_checks_the_stored_estimates(studies):
    panel, _, found = studies
    stored = pd.concat([event_rows(s) for s in found.values()], ignore_index=True)
    again = dyn.refit_event_studies(panel, stored)
    assert set(again) == {"network", "sister"}
    shifted = stored.assign(estimate=stored.estimate + np.where(stored.term == "event_time=3", 1e-4, 0.0))
    with pytest.raises(CitydipError, match="differs"):
        dyn.refit_event_studies(panel, shifted)


def test_event_samples_against_loops(studies):
    panel, _, found = studies
    cohorts, excluded, groups = dyn.event_samples(found, panel)
    groups = groups.set_index("treatment")
    for t, study in found.items():
        sample = study.data
        first = treatment_years(panel, t)
        # cohorts: metros first treated each year (left-out metros excluded)
        left = set(study.excluded.cbsa_code)
        expected = {}
        for code, year in first.items():
            if not pd.isna(year) and code not in left:
                expected[int(year)] = expected.get(int(year), 0) + 1
        got = cohorts[cohorts.treatment == t].set_index("first_year")
        assert got.metros.to_dict() == expected
        # contributing: metros of the cohort with a treated row in the estimation sample
        for year, row in got.iterrows():
            codes = {c for c in sample.cbsa_code.unique() if not pd.isna(first[c]) and first[c] == year}
            treated = {c for c in codes if (sample[(sample.cbsa_code == c)].treat == 1).any()}
            assert row.contributing == len(treated)
        assert groups.loc[t, "contributing"] == study.treated_metros
        # excluded metros: treated within the first two panel years, or never treated with
        # records the panel cannot date (clean comparison)
        part = excluded[excluded.treatment == t]
        early = part[part.first_year.notna()]
        assert (early.first_year < panel.year.min() + 2).all() and len(early) == groups.loc[t, "excluded_early"]
        ever, dated, _ = ON_RECORD[t]
        unclean = {c for c, rows in panel.groupby("cbsa_code")
                   if pd.isna(first[c]) and rows[ever].max() > rows[dated].max()}
        assert set(part.cbsa_code[part.first_year.isna()]) == unclean
        assert groups.loc[t, "excluded_undated"] == len(unclean) and groups.loc[t, "comparison"] == "clean"
        never = [c for c in sample.cbsa_code.unique() if pd.isna(first[c])]
        assert groups.loc[t, "never_treated"] == len(never) == study.comparison_metros
        assert groups.loc[t, "never_with_undated"] == 0  # none left in a clean comparison
        assert groups.loc[t, "treated"] == sum(expected.values())
    line = dyn.group_sentences(groups.reset_index())[0]
    assert line.startswith(f"first dated city-network join: {groups.loc['network', 'treated']} treated metros")
    assert f"{groups.loc['network', 'excluded_undated']} never-treated metros with network memberships" in line


def test_event_support_and_paths_against_loops(studies):
    panel, _, found = studies
    study = found["network"]
    support = dyn.event_support(study, panel)
    first = treatment_years(panel, "network")
    for k in sorted(set(study.data.rel.astype(int))):
        metros = {r.cbsa_code for r in study.data.itertuples() if not pd.isna(first[r.cbsa_code]) and r.rel == k}
        assert support.get(k, 0) == len(metros), k
    paths = dyn.event_paths(found, panel)
    assert list(paths.columns) == dyn.PATH_COLUMNS
    assert set(paths.estimator) == {"did2s", "sun_abraham"}
    leads, lags = study.supported()
    for estimator, est in (("did2s", study.estimates), ("sun_abraham", study.sun_abraham)):
        net = paths[(paths.treatment == "network") & (paths.estimator == estimator)].set_index("event_time")
        assert net.treated_metros_observed.to_dict() == {k: int(support.get(k, 0)) for k in net.index}
        np.testing.assert_array_equal(net.estimate, est.set_index("event_time").estimate.loc[net.index])
        assert set(net.index[net.in_tests]) == {*leads, -1, *lags}
        assert net.loc[-1, "estimate"] == 0.0


def test_post_event_average_against_pyfixest_wald_test(studies):
    _, _, found = studies
    for study in found.values():
        avg = dyn.post_event_average(study)
        est = study.estimates.set_index("event_time").estimate
        assert avg.estimate == pytest.approx(est.loc[0:5].mean(), rel=1e-12)
        assert avg.coefficients == 6
        # the same linear combination through pyfixest's public Wald test on the did2s fit:
        # W = (w'b)^2 / (w'Vw), so se = |w'b| / sqrt(W)
        names = list(study.backend.coef().index)
        w = np.array([1 / 6 if 0 <= float(n.rsplit("::", 1)[1]) <= 5 else 0.0 for n in names])
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            test = study.backend.wald_test(R=w.reshape(1, -1), distribution="chi2")
        assert avg.std_error == pytest.approx(abs(avg.estimate) / math.sqrt(float(test["statistic"])), rel=1e-8)
        # the interval from t(G-1), G the metros in the estimation sample, as the coefficients'
        G = study.data.cbsa_code.nunique()
        assert avg.df == G - 1
        assert avg.conf_low == pytest.approx(avg.estimate - stats.t.ppf(0.975, G - 1) * avg.std_error, rel=1e-12)
        # the alignment is by label: a reordered covariance matrix gives the same answer
        order = study.vcov.index[::-1]
        shuffled = type(study)(**{**study.__dict__, "vcov": study.vcov.loc[order, order]})
        assert dyn.post_event_average(shuffled).std_error == pytest.approx(avg.std_error, rel=1e-12)
        # one event time alone is that coefficient with its own standard error, for both estimators
        for estimator, frame in (("did2s", study.estimates), ("sun_abraham", study.sun_abraham)):
            if frame is None:  # the default synthetic panel's sister study: no never-treated metro
                continue
            one = dyn.post_event_average(study, 2, 2, estimator=estimator)
            row = frame.set_index("event_time").loc[2]
            assert one.estimate == pytest.approx(row.estimate)
            assert one.std_error == pytest.approx(row.std_error, rel=1e-8)
    with pytest.raises(CitydipError):
        dyn.post_event_average(found["network"], 70, 90)


def test_summary_and_planted_network_effect(studies):
    _, truth, found = studies
    summary = dyn.event_study_summary(found)
    assert list(summary.columns) == dyn.SUMMARY_COLUMNS
    assert len(summary) == sum(1 + (s.sun_abraham is not None) for s in found.values())
    for row in summary.itertuples():
        study = found[row.treatment]
        est = study.estimates if row.estimator == "did2s" else study.sun_abraham
        test = study.pretrend if row.estimator == "did2s" else study.sun_abraham_pretrend
        leads = est[est.event_time.isin(study.supported()[0])]
        assert row.pretrend_p == test["p_value"] and row.leads == len(leads) == test["leads"]
        assert row.mean_lead == pytest.approx(leads.estimate.mean())
        assert row.largest_lead_bound == pytest.approx(max(leads.conf_low.abs().max(), leads.conf_high.abs().max()))
        post = est[est.event_time.between(0, 5)]
        assert row.post_significant_5pct == int((post.p_value < 0.05).sum()) and row.post_coefficients == len(post)
    # the synthetic network effect is a step of beta_network from the join year on: the did2s
    # post-event average recovers it within 3 standard errors
    net = summary.set_index(["treatment", "estimator"]).loc[("network", "did2s")]
    assert abs(net.average_post - truth["beta_network"]) < 3 * net.average_post_se


def test_power_table_reports_the_power_functions(studies):
    _, _, found = studies
    power = dyn.power_table({"network": found["network"]})
    assert list(power.columns) == dyn.POWER_COLUMNS and len(power) == 2
    for row in power.itertuples():
        exact = pretrend_power(found["network"], row.estimator)
        assert row.leads == len(exact.leads) and row.first_lead == min(exact.leads)
        assert exact.power(row.slope_50) == pytest.approx(0.5, abs=1e-8)
        assert exact.power(row.slope_80) == pytest.approx(0.8, abs=1e-8)
        per_unit = np.mean([exact.post_shift[k] for k in range(6)])
        assert row.bias_80 == pytest.approx(row.slope_80 * per_unit)
        assert row.slope_benchmark * per_unit == pytest.approx(dyn.BENCHMARK)
        assert row.power_benchmark == pytest.approx(exact.power(row.slope_benchmark))
    # Sun-Abraham's leads respond to a unit trend with k + 1, so its post average moves by 3.5
    sa = power.set_index("estimator").loc["sun_abraham"]
    assert sa.bias_80 == pytest.approx(3.5 * sa.slope_80)


def test_honest_tables_report_the_sensitivity_analysis(studies):
    _, _, found = studies
    intervals, breakdown = dyn.honest_tables(found)
    assert list(intervals.columns) == dyn.HONEST_COLUMNS and list(breakdown.columns) == dyn.BREAKDOWN_COLUMNS
    with_sa = [t for t, study in found.items() if study.sun_abraham is not None]
    assert "network" in with_sa and len(breakdown) == len(with_sa) * len(dyn.TARGETS)
    for row in breakdown.itertuples():
        honest = honest_sensitivity(found[row.treatment], row.estimator, post=dyn.TARGETS[row.target])
        assert row.breakdown_zero == pytest.approx(honest.breakdown(0.0))
        assert row.breakdown_benchmark == pytest.approx(honest.breakdown(dyn.BENCHMARK))
        part = intervals[(intervals.treatment == row.treatment) & (intervals.target == row.target)]
        first = part.set_index("mbar").loc[0.0]
        # Mbar = 0: the conventional interval of the post-event average (normal quantile)
        avg = dyn.post_event_average(found[row.treatment], min(dyn.TARGETS[row.target]),
                                     max(dyn.TARGETS[row.target]), estimator="sun_abraham")
        z = stats.norm.isf(0.025)
        assert first.conf_low == pytest.approx(avg.estimate - z * avg.std_error, rel=1e-9)
        assert (np.diff(part.width) > 0).all()
        assert (part.includes_zero == ((part.conf_low <= 0) & (part.conf_high >= 0))).all()
        assert part.includes_zero.iloc[0] == (row.breakdown_zero == 0)


def test_dynamics_sentences_by_hand():
    summary = pd.DataFrame([{"treatment": "network", "estimator": "did2s", "pretrend_p": 0.08, "leads": 9,
                             "first_lead": -10, "pretrend_p_all_leads": 0.001, "mean_lead": 0.02,
                             "largest_lead_bound": 0.11, "average_post": -0.01, "average_post_se": 0.05,
                             "average_post_low": -0.108, "average_post_high": 0.088, "post_significant_5pct": 0,
                             "post_coefficients": 6}])
    groups = pd.DataFrame([{"treatment": "network", "treated": 31, "contributing": 30}])
    lags = pd.DataFrame(columns=["measure"])
    lines = dyn.dynamics_sentences(summary, groups, lags)
    assert lines[0] == ("- First dated city-network join (30 treated metros with treated years in the sample, clean "
                        "comparison):")
    assert lines[1].startswith("  did2s: the joint test of no pre-trend (leads -10 to -2) is rejected at 10% only "
                               "(p = 0.080)")
    # the interval includes zero and log(1.08) = 0.077
    assert "it includes zero and includes an 8% rise" in lines[1]
    narrow = summary.assign(average_post_high=0.05)
    assert "excludes an 8% rise" in dyn.dynamics_sentences(narrow, groups, lags)[1]
    power = pd.DataFrame([{"treatment": "network", "estimator": "did2s", "slope_80": 0.05, "bias_80": 0.3,
                           "power_benchmark": 0.12}])
    breakdown = pd.DataFrame([{"treatment": "network", "estimator": "sun_abraham", "target": "first year (0)",
                               "estimate": 0.015, "conf_low": -0.037, "conf_high": 0.067, "max_pre_change": 0.116,
                               "breakdown_zero": 0.0, "breakdown_benchmark": 0.05}])
    lines = dyn.dynamics_sentences(summary, groups, lags, power, breakdown)
    assert "detects a linear pre-trend of 0.050 log points a year only with 80% probability" in lines[1]
    assert "detected with probability 0.12" in lines[1]
    assert lines[2].startswith("- Sensitivity (Sun-Abraham, first dated city-network join, first year (0))")
    assert "the conventional interval already includes zero, and it includes an 8% rise from Mbar = 0.05 on" in lines[2]


def test_pretrend_table_fills_notes():
    stored = pd.DataFrame({"data": ["real"], "model": ["m"], "treatment": ["network"], "wald_f": [1.0],
                           "leads": [4], "p_value": [0.9], "nobs": [10], "treated_metros": [3],
                           "excluded_metros": [1], "notes": [np.nan]})
    table = dyn.pretrend_table(stored)
    assert "data" not in table.columns and table.notes.tolist() == [""]


def test_event_paths_and_honest_plots_draw_the_tables(studies, tmp_path):
    from citydip.report.figures import event_paths_plot, honest_plot

    _, _, found = studies
    paths = dyn.event_paths(found)
    part = paths[paths.treatment == "network"]
    fig = event_paths_plot(part, dyn.ESTIMATOR_NAMES, path=tmp_path / "paths.png")
    top, bottom = fig.axes
    assert (tmp_path / "paths.png").stat().st_size > 0
    # one bar per event time, with the treated metros behind it
    heights = sorted(int(p.get_height()) for p in bottom.patches)
    assert heights == sorted(part.drop_duplicates("event_time").treated_metros_observed.tolist())
    labels = [t.get_text() for t in top.get_legend().get_texts()]
    assert sorted(labels) == ["Reference period (t = -1)", "Sun-Abraham", "did2s"]
    intervals, breakdown = dyn.honest_tables({"network": found["network"]})
    fig = honest_plot(intervals, breakdown, {"network": "Network"}, benchmark=dyn.BENCHMARK)
    assert [ax.get_title() for ax in fig.axes] == ["Network"]
    with pytest.raises(CitydipError):
        event_paths_plot(part.drop(columns="in_tests"))
