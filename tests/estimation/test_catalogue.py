"""The model catalogue: known truths on synthetic panels, coverage over seeds, degenerate
inputs, event studies, and the real panel's estimates.csv."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from citydip.errors import CitydipError
from citydip.estimation import EstimationWarning, ModelSpec, catalogue, events, fit
from citydip.estimation.outputs import estimate
from citydip.panel.synthetic import SyntheticTruth, synthetic_panel

MAIN = catalogue.MEASURES + catalogue.CONTROLS
M3 = ModelSpec("M3", "ols", "log_exports", MAIN)


@pytest.fixture(scope="module")
def synth():
    return synthetic_panel(seed=11)


def test_twfe_recovers_the_truth_and_pooled_does_not(synth):
    panel, truth = synth
    twfe = fit(panel, M3)
    pooled = fit(panel, ModelSpec("M2", "ols", "log_exports", MAIN, fixed_effects=("year",)))
    for term, beta in truth.effects().items():
        assert abs(twfe.coef[term] - beta) < 4 * twfe.se[term], term
    assert abs(pooled.coef["sister_active"] - truth.beta_sister) > 4 * pooled.se["sister_active"]


@pytest.mark.slow
def test_confidence_intervals_cover_the_truth_at_the_nominal_rate(mc_reps):
    """200 synthetic panels (``mc_reps``: fewer with CITYDIP_MC_REPS): the 95% cluster-robust
    intervals of M3 cover each true effect in 95% of draws, within three binomial standard errors
    (0.0154 each for 200)."""
    seeds = range(1000, 1000 + mc_reps(200))
    hits = {term: 0 for term in catalogue.MEASURES}
    for seed in seeds:
        panel, truth = synthetic_panel(seed=seed)
        result = fit(panel, M3)
        for term in hits:
            beta = truth.effects()[term]
            hits[term] += bool(result.conf_low[term] <= beta <= result.conf_high[term])
    n = len(seeds)
    band = 3 * np.sqrt(0.95 * 0.05 / n)
    for term, k in hits.items():
        assert abs(k / n - 0.95) <= band, (term, k / n)


def test_size_heterogeneity_finds_a_mid_size_effect():
    panel, truth = synthetic_panel(seed=5, truth=SyntheticTruth(beta_sister_mid=0.02))
    result = fit(panel, ModelSpec("M5", "ols", "log_exports", MAIN, by_size=("sister_active",)))
    for cls in ("small", "mid", "large"):
        term = f"sister_active_x_{cls}"
        assert abs(result.coef[term] - truth.sister_effect(cls)) < 4 * result.se[term], cls
    assert result.coef["sister_active_x_mid"] > result.coef["sister_active_x_large"]


def test_event_study_recovers_a_step_and_its_pretrend_test(synth):
    panel, truth = synth
    # the report's previous design (binned at +/-5, every never-treated metro a control)
    study = events.event_study(panel, "network", window=5, comparison="all")
    post = study.estimates[study.estimates.event_time >= 0]
    lead = study.estimates[study.estimates.event_time <= -2]
    assert abs(post.estimate.mean() - truth.beta_network) < 0.03
    assert lead.estimate.abs().max() < 0.05  # no anticipation in the data-generating process
    assert study.pretrend["p_value"] > 0.01
    fitted = study.backend
    b, V = fitted.coef().to_numpy(), study.vcov.to_numpy()
    idx = [i for i, t in enumerate(fitted.coef().index) if float(t.split("::")[1]) <= -2]
    R = np.eye(len(b))[idx]
    wald = float((R @ b) @ np.linalg.solve(R @ V @ R.T, R @ b))
    assert study.pretrend["wald_chi2"] == pytest.approx(wald, rel=1e-10)
    assert study.pretrend["leads"] == len(idx) == 4
    first = events.treatment_years(panel, "network")
    assert set(study.excluded.cbsa_code) == set(first[first < 2005 + 2].index)


@pytest.mark.slow
def test_wild_bootstrap_is_reproducible(synth, wild_reps):
    """Same draws, same p-values (``wild_reps``: 9999 unless CITYDIP_BOOT_DRAWS; the effect of
    networks needs at least a few hundred draws to show p < 0.01)."""
    panel, _ = synth
    spec = M3.with_vcov("wild")
    a, b = fit(panel, spec), fit(panel, spec)
    pd.testing.assert_series_equal(a.p_value, b.p_value)
    assert a.p_value["networks_dated"] < 0.01


# -- degenerate inputs ---------------------------------------------------------------------------------
def small_panel(n=6, t=5, seed=0):
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame({"cbsa_code": np.repeat([f"9{i:04d}" for i in range(n)], t),
                          "year": np.tile(np.arange(2010, 2010 + t), n)})
    frame["x"] = rng.normal(size=len(frame))
    frame["constant_within"] = np.repeat(rng.normal(size=n), t)
    frame["log_exports"] = 0.5 * frame.x + rng.normal(size=len(frame))
    frame["exports_usd"] = np.exp(frame.log_exports)
    return frame


def test_no_within_variation_warns_and_drops():
    spec = ModelSpec("d", "ols", "log_exports", ("x", "constant_within"))
    with pytest.warns(EstimationWarning, match="constant_within has no variation within metros"):
        result = fit(small_panel(), spec)
    assert list(result.coef.index) == ["x"]


def test_singletons_are_dropped_with_a_warning():
    panel = small_panel()
    panel = panel[~((panel.cbsa_code == "90000") & (panel.year > 2010))]
    with pytest.warns(EstimationWarning, match="1 singleton metro"):
        result = fit(panel, ModelSpec("d", "ols", "log_exports", ("x",)))
    assert result.nobs == len(panel) - 1


def test_perfect_separation_in_ppml_is_reported():
    panel = small_panel()
    panel.loc[panel.cbsa_code == "90001", "exports_usd"] = 0.0
    with pytest.warns(EstimationWarning, match="zero outcome in every year"):
        result = fit(panel, ModelSpec("d", "poisson", "exports_usd", ("x",)))
    assert result.nobs == len(panel) - 5


def test_all_missing_outcome_is_an_error():
    panel = small_panel().assign(log_exports=np.nan)
    with pytest.raises(CitydipError, match="no non-missing values"):
        fit(panel, ModelSpec("d", "ols", "log_exports", ("x",)))


def test_fewer_than_two_clusters_is_an_error():
    panel = small_panel(n=1, t=8)
    with pytest.raises(CitydipError, match="at least 2 clusters"):
        fit(panel, ModelSpec("d", "ols", "log_exports", ("x",), fixed_effects=("year",)))


def test_unknown_choices_fail_at_once():
    with pytest.raises(CitydipError, match="vcov"):
        ModelSpec("d", "ols", "y", ("x",), vcov="jackknife")
    with pytest.raises(CitydipError, match="no fixed effects"):
        ModelSpec("d", "between", "y", ("x",))


# -- the real panel ------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def real_run(real_panel):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return estimate(real_panel, synthetic=False)


@pytest.mark.slow
def test_real_estimates_cover_all_six_families(real_run):
    tidy = real_run.tidy
    for prefix in ("M1", "M2", "M3", "M4", "M5", "M6"):
        assert tidy.model.str.startswith(prefix).any(), prefix
    m3 = tidy[tidy.model == "M3 two-way FE"].set_index("term")
    assert set(catalogue.MEASURES) <= set(m3.index)
    assert (m3.nobs == 1793).all()  # 1,800 metro-years less the 7 without exports
    assert tidy.data.eq("real").all()
    assert set(real_run.pretrend.treatment) == {"network", "sister"}
    assert real_run.pretrend.p_value.between(0, 1).all()
    vcovs = set(tidy[tidy.model.str.startswith("M3 two-way FE")].vcov_type)
    assert {"cluster(cbsa_code)", "cluster(cbsa_code, year)", "Driscoll-Kraay",
            "wild bootstrap cluster(cbsa_code)"} <= vcovs


def test_between_p_values_use_the_t_distribution(synth):
    from scipy import stats

    panel, _ = synth
    result = fit(panel, ModelSpec("M1", "between", "log_exports", MAIN, fixed_effects=(), vcov="hetero"))
    df = result.nobs - len(result.coef)
    expected = 2 * stats.t.sf(np.abs(result.coef / result.se), df)
    np.testing.assert_allclose(result.p_value.to_numpy(), expected, rtol=1e-10)


def check_inference_rule(tidy: pd.DataFrame) -> int:
    """Every row of an estimates table (regressions and event studies) has a reference
    distribution and follows ``conventions.RULES``: its reference and degrees of freedom, its
    p-value recomputed from them (and, for the event studies, its 95% interval). Returns the
    number of rows checked."""
    from scipy import stats

    from citydip.estimation.conventions import FEW, RULES

    missing = tidy[tidy.reference.isna()]
    assert missing.empty, f"rows without a reference: {sorted(set(missing.model))}"
    for r in tidy.itertuples():
        vcov = r.vcov_type
        if r.family == "did2s":  # event studies: t(G-1), G the metros in the event-study sample
            assert r.reference == RULES["did2s"].reference == "t" and vcov == "cluster(cbsa_code)", r
            assert r.n_clusters >= 2 and r.n_periods >= 2, r
        if r.family == "poisson":
            assert r.reference == "normal" and np.isinf(r.df_t), r
        elif vcov.startswith("wild"):
            assert r.reference == "bootstrap", r
        elif r.family == "between":
            assert r.df_t == r.nobs - (len(tidy[tidy.model == r.model])), r
        elif vcov == "Driscoll-Kraay":
            assert r.df_t == r.n_periods - 1, r
        elif vcov.startswith("cluster(") and "," in vcov:
            assert r.df_t == min(r.n_clusters, r.n_periods) - 1, r
        elif vcov.startswith("cluster("):
            assert r.df_t == r.n_clusters - 1, r
        if r.reference == "t":
            expected = 2 * stats.t.sf(abs(r.statistic), r.df_t)
        elif r.reference == "normal":
            expected = 2 * stats.norm.sf(abs(r.statistic))
        else:
            assert 0 <= r.p_value <= 1
            continue
        assert r.p_value == pytest.approx(expected, rel=1e-6, abs=1e-12), r
        if r.family == "did2s":
            half = stats.t.ppf(0.975, r.df_t) * r.std_error
            assert (r.conf_low, r.conf_high) == (pytest.approx(r.estimate - half, rel=1e-9, abs=1e-12),
                                                 pytest.approx(r.estimate + half, rel=1e-9, abs=1e-12)), r
        few = (vcov.startswith("cluster") or vcov.startswith("wild")) and r.n_clusters < FEW
        few_t = (vcov == "Driscoll-Kraay" or "," in vcov) and r.n_periods < FEW
        assert bool(r.inference_flag) == bool(few or few_t), r
    return len(tidy)


def test_inference_rule_check_catches_event_rows_off_the_rule(synth):
    from scipy import stats

    from citydip.estimation.catalogue import event_rows

    study = events.event_study(synth[0], "network", sun_abraham=False)
    rows = event_rows(study)
    assert check_inference_rule(rows) == len(rows)
    assert (rows.df_t == study.data.cbsa_code.nunique() - 1).all() and (rows.reference == "t").all()
    normal = rows.assign(p_value=2 * stats.norm.sf(rows.statistic.abs()))  # pyfixest's did2s reference
    with pytest.raises(AssertionError):
        check_inference_rule(normal)
    with pytest.raises(AssertionError, match="without a reference"):
        check_inference_rule(rows.assign(reference=np.nan))
    with pytest.raises(AssertionError):
        check_inference_rule(rows.assign(df_t=rows.df_t + 1))


@pytest.mark.slow
def test_every_p_value_follows_the_inference_rule_synthetic(synth, wild_reps):
    panel, _ = synth
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        run = estimate(panel, synthetic=True)
    studies = run.tidy[run.tidy.model.str.contains("event study")]
    assert len(studies) > 20 and (studies.family == "did2s").all()
    assert check_inference_rule(run.tidy) == len(run.tidy) > 50


@pytest.mark.slow
def test_every_p_value_follows_the_inference_rule_real(real_run):
    assert real_run.tidy.model.str.contains("event study").any()
    assert check_inference_rule(real_run.tidy) == len(real_run.tidy)
