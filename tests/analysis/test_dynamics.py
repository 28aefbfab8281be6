"""Lag summaries, event-study samples, support, the post-event average and the summary:
against plain loops, pyfixest's own Wald test and the synthetic panel's planted effect."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pandas as pd
import pytest

from citydip.analysis import dynamics as dyn
from citydip.errors import CitydipError
from citydip.estimation.catalogue import event_rows
from citydip.estimation.events import event_study, treatment_years
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
        # excluded metros: treated within the first two panel years
        part = excluded[excluded.treatment == t]
        assert (part.first_year < panel.year.min() + 2).all() and len(part) == groups.loc[t, "excluded"]
        never = [c for c in sample.cbsa_code.unique() if pd.isna(first[c])]
        ever = "networks_ever" if t == "network" else "sister_ever"
        with_record = sum(panel.loc[panel.cbsa_code == c, ever].max() > 0 for c in never)
        assert groups.loc[t, "never_treated"] == len(never) and groups.loc[t, "never_with_undated"] == with_record
        assert groups.loc[t, "treated"] == sum(expected.values())
    line = dyn.group_sentences(groups.reset_index())[0]
    assert line.startswith(f"first dated city-network join: {groups.loc['network', 'treated']} treated metros")


def test_event_support_against_loop(studies):
    panel, _, found = studies
    study = found["network"]
    support = dyn.event_support(study, panel)
    first = treatment_years(panel, "network")
    for k in range(-5, 6):
        metros = {r.cbsa_code for r in study.data.itertuples() if not pd.isna(first[r.cbsa_code]) and r.rel == k}
        assert support.get(k, 0) == len(metros), k
    paths = dyn.event_paths(found, panel)
    assert list(paths.columns) == dyn.PATH_COLUMNS
    net = paths[paths.treatment == "network"].set_index("event_time")
    assert net.treated_metros_observed.to_dict() == {k: int(support.get(k, 0)) for k in net.index}
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
        w = np.array([1 / 6 if float(n.rsplit("::", 1)[1]) >= 0 else 0.0 for n in names])
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            test = study.backend.wald_test(R=w.reshape(1, -1), distribution="chi2")
        assert avg.std_error == pytest.approx(abs(avg.estimate) / math.sqrt(float(test["statistic"])), rel=1e-8)
        assert avg.conf_low == pytest.approx(avg.estimate - 1.96 * avg.std_error)
        # the alignment is by label: a reordered covariance matrix gives the same answer
        order = study.vcov.index[::-1]
        shuffled = type(study)(**{**study.__dict__, "vcov": study.vcov.loc[order, order]})
        assert dyn.post_event_average(shuffled).std_error == pytest.approx(avg.std_error, rel=1e-12)
        # one event time alone is that coefficient with its own standard error
        one = dyn.post_event_average(study, 2, 2)
        row = study.estimates.set_index("event_time").loc[2]
        assert one.estimate == pytest.approx(row.estimate) and one.std_error == pytest.approx(row.std_error, rel=1e-8)
    with pytest.raises(CitydipError):
        dyn.post_event_average(found["network"], 7, 9)


def test_summary_and_planted_network_effect(studies):
    panel, truth, found = studies
    pretrend = pd.DataFrame([{"treatment": t, "p_value": s.pretrend["p_value"]} for t, s in found.items()])
    summary = dyn.event_study_summary(found, pretrend.set_index("treatment"))
    assert list(summary.columns) == dyn.SUMMARY_COLUMNS
    for row in summary.itertuples():
        est = found[row.treatment].estimates
        leads = est[est.event_time <= -2]
        assert row.mean_lead == pytest.approx(leads.estimate.mean())
        assert row.largest_lead_bound == pytest.approx(max(leads.conf_low.abs().max(), leads.conf_high.abs().max()))
        post = est[est.event_time >= 0]
        assert row.post_significant_5pct == int((post.p_value < 0.05).sum()) and row.post_coefficients == len(post)
    # the synthetic network effect is a step of beta_network from the join year on: the
    # post-event average recovers it within 3 standard errors, and the leads are near zero
    net = summary.set_index("treatment").loc["network"]
    assert abs(net.average_post - truth["beta_network"]) < 3 * net.average_post_se
    assert net.pretrend_p > 0.01


def test_dynamics_sentences_by_hand():
    summary = pd.DataFrame([{"treatment": "network", "pretrend_p": 0.08, "mean_lead": 0.02,
                             "largest_lead_bound": 0.11, "average_post": -0.01, "average_post_se": 0.05,
                             "average_post_low": -0.108, "average_post_high": 0.088, "post_significant_5pct": 0,
                             "post_coefficients": 6}])
    groups = pd.DataFrame([{"treatment": "network", "treated": 30}])
    lags = pd.DataFrame(columns=["measure"])
    lines = dyn.dynamics_sentences(summary, groups, lags)
    assert lines[0].startswith("- First dated city-network join (30 treated metros): the joint test of no pre-trend "
                               "is rejected at 10% only (p = 0.080).")
    # the interval includes zero and log(1.08) = 0.077
    assert "it includes zero and includes an 8% rise" in lines[1]
    assert "effects outside -10% to +9% are ruled out" in lines[1]
    narrow = summary.assign(average_post_high=0.05)
    assert "excludes an 8% rise" in dyn.dynamics_sentences(narrow, groups, lags)[1]


def test_pretrend_table_fills_notes():
    stored = pd.DataFrame({"data": ["real"], "model": ["m"], "treatment": ["network"], "wald_chi2": [1.0],
                           "leads": [4], "p_value": [0.9], "nobs": [10], "treated_metros": [3],
                           "excluded_metros": [1], "notes": [np.nan]})
    table = dyn.pretrend_table(stored)
    assert "data" not in table.columns and table.notes.tolist() == [""]
