"""FitResult's degrees of freedom, estimation sample and linear tests (wald, contrast),
checked against pyfixest's own Wald test, statsmodels with explicit dummies, and by hand;
the pyfixest adapter against independent counts."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from citydip.estimation import ModelSpec, catalogue, events, fit
from citydip.panel.synthetic import SyntheticTruth, synthetic_panel

MAIN = catalogue.MEASURES + catalogue.CONTROLS
M5 = ModelSpec("M5", "ols", "log_exports", MAIN, by_size=catalogue.MEASURES)


@pytest.fixture(scope="module")
def m5():
    panel, truth = synthetic_panel(seed=5, truth=SyntheticTruth(beta_sister_mid=0.02))
    return panel, fit(panel, M5)


def test_df_t_nobs_and_sample_agree_with_the_data(m5):
    panel, result = m5
    sample = panel.dropna(subset=["log_exports", *MAIN])
    assert result.df_t == sample.cbsa_code.nunique() - 1          # t(G - 1) under metro clustering
    assert result.nobs == len(result.data) == len(sample)
    assert set(result.data.cbsa_code) == set(sample.cbsa_code)
    # the model's own p-values use t(df_t)
    expected = 2 * stats.t.sf(np.abs(result.statistic), result.df_t)
    np.testing.assert_allclose(result.p_value, expected, rtol=1e-6, atol=1e-14)  # pyfixest: 1 - cdf


def test_sample_drops_singletons():
    panel, _ = synthetic_panel(seed=3)
    one = panel.cbsa_code.iloc[0]
    thin = panel[(panel.cbsa_code != one) | (panel.year == panel.year.min())]
    with pytest.warns(UserWarning, match="singleton"):
        result = fit(thin, ModelSpec("M3", "ols", "log_exports", MAIN))
    assert one not in set(result.data.cbsa_code)
    assert len(result.data) == result.nobs == len(thin.dropna(subset=["log_exports", *MAIN])) - 1


def test_wald_equals_pyfixest_wald_test(m5):
    _, result = m5
    terms = list(result.coef.index)
    R = np.zeros((2, len(terms)))
    R[0, terms.index("sister_active_x_mid")], R[0, terms.index("sister_active_x_small")] = 1, -1
    R[1, terms.index("sister_active_x_mid")], R[1, terms.index("sister_active_x_large")] = 1, -1
    mine = result.wald(R)
    with pytest.warns(UserWarning, match="chi2"):  # pyfixest tests a non-identity R against chi2(q)
        theirs = result.backend.wald_test(R=R, distribution="F")
    assert mine.df_num == 2 and mine.df_den == result.df_t
    np.testing.assert_allclose(mine.wald_chi2, float(theirs["statistic"]), rtol=1e-8)
    np.testing.assert_allclose(mine.statistic, mine.wald_chi2 / 2, rtol=1e-12)
    assert mine.p_value == pytest.approx(stats.f.sf(mine.statistic, 2, result.df_t), rel=1e-12)
    # the same restrictions written as {term: weight} rows
    rows = [{"sister_active_x_mid": 1, "sister_active_x_small": -1},
            {"sister_active_x_mid": 1, "sister_active_x_large": -1}]
    assert result.wald(rows).wald_chi2 == pytest.approx(mine.wald_chi2, rel=1e-12)


def test_contrast_is_the_t_test_of_a_difference(m5):
    _, result = m5
    c = result.contrast({"sister_active_x_mid": 1, "sister_active_x_large": -1})
    b, V = result.coef, result.vcov
    diff = b["sister_active_x_mid"] - b["sister_active_x_large"]
    var = (V.loc["sister_active_x_mid", "sister_active_x_mid"] + V.loc["sister_active_x_large", "sister_active_x_large"]
           - 2 * V.loc["sister_active_x_mid", "sister_active_x_large"])
    assert c.estimate == pytest.approx(diff, rel=1e-12)
    assert c.std_error == pytest.approx(np.sqrt(var), rel=1e-12)
    assert c.p_value == pytest.approx(2 * stats.t.sf(abs(diff / np.sqrt(var)), result.df_t), rel=1e-10)
    assert c.p_greater == pytest.approx(stats.t.sf(diff / np.sqrt(var), result.df_t), rel=1e-10)
    # F of one restriction is t squared, with the same p-value
    w = result.wald([{"sister_active_x_mid": 1, "sister_active_x_large": -1}])
    assert w.statistic == pytest.approx(c.statistic ** 2, rel=1e-10)
    assert w.p_value == pytest.approx(c.p_value, rel=1e-8)
    # a single coefficient's contrast reproduces the model's own t test
    one = result.contrast({"consular_posts_x_mid": 1})
    assert one.statistic == pytest.approx(result.statistic["consular_posts_x_mid"], rel=1e-10)
    assert one.p_value == pytest.approx(result.p_value["consular_posts_x_mid"], rel=1e-6, abs=1e-14)


def test_wald_matches_statsmodels_with_explicit_dummies(m5):
    """Same restriction, independent fit: statsmodels OLS with metro and year dummies and the
    fixest cluster factor (G/(G-1) (N-1)/(N-K), K without the nested metro dummies)."""
    import statsmodels.api as sm

    panel, result = m5
    data = result.data.copy()
    for x in catalogue.MEASURES:
        for cls in ("small", "mid", "large"):
            data[f"{x}_x_{cls}"] = data[x].to_numpy(dtype=float) * (data.size_class == cls).to_numpy(dtype=float)
    terms = list(result.coef.index)
    X = pd.concat([data[terms].astype(float), pd.get_dummies(data.cbsa_code, drop_first=True, dtype=float),
                   pd.get_dummies(data.year, prefix="y", drop_first=True, dtype=float)], axis=1)
    X = sm.add_constant(X)
    groups = pd.factorize(data.cbsa_code)[0]
    ols = sm.OLS(data.log_exports.to_numpy(dtype=float), X).fit(cov_type="cluster", cov_kwds={"groups": groups,
                                                                                            "use_correction": False})
    n, g = len(data), len(set(groups))
    k = len(terms) + data.year.nunique()  # slopes + intercept + year dummies (metro dummies nested in clusters)
    V = ols.cov_params().loc[terms, terms].to_numpy() * g / (g - 1) * (n - 1) / (n - k)
    r = np.zeros(len(terms))
    r[terms.index("networks_dated_x_mid")], r[terms.index("networks_dated_x_small")] = 1, -1
    diff = r @ ols.params[terms].to_numpy()
    np.testing.assert_allclose(ols.params[terms].to_numpy(), result.coef.to_numpy(), rtol=1e-7, atol=1e-10)
    c = result.contrast({"networks_dated_x_mid": 1, "networks_dated_x_small": -1})
    assert c.std_error == pytest.approx(np.sqrt(r @ V @ r), rel=1e-6)
    assert c.estimate == pytest.approx(diff, rel=1e-7, abs=1e-10)


def test_poisson_tests_use_the_normal():
    panel, _ = synthetic_panel(seed=4)
    result = fit(panel, ModelSpec("M4", "poisson", "exports_usd", MAIN))
    assert np.isinf(result.df_t)
    np.testing.assert_allclose(result.p_value, 2 * stats.norm.sf(np.abs(result.statistic)), rtol=1e-6, atol=1e-12)
    c = result.contrast({"sister_active": 1})
    assert c.p_value == pytest.approx(result.p_value["sister_active"], rel=1e-6, abs=1e-12)
    w = result.wald([{"sister_active": 1}, {"networks_dated": 1}])
    assert w.p_value == pytest.approx(stats.chi2.sf(w.wald_chi2, 2), rel=1e-12)


def test_between_and_driscoll_kraay_reference_distributions():
    panel, _ = synthetic_panel(seed=6)
    between = fit(panel, ModelSpec("M1", "between", "log_exports", MAIN, fixed_effects=(), vcov="hetero"))
    assert between.df_t == panel.cbsa_code.nunique() - len(MAIN) - 1
    np.testing.assert_allclose(between.p_value, 2 * stats.t.sf(np.abs(between.statistic), between.df_t), rtol=1e-8)
    dk = fit(panel, ModelSpec("M3", "ols", "log_exports", MAIN, vcov="driscoll_kraay"))
    # the inference rule: Driscoll-Kraay t statistics are referred to t(T - 1)
    assert dk.df_t == dk.data.year.nunique() - 1 == dk.n_periods - 1
    np.testing.assert_allclose(dk.p_value, 2 * stats.t.sf(np.abs(dk.statistic), dk.df_t), rtol=1e-8, atol=1e-12)


def test_event_study_exposes_sample_and_covariance():
    panel, _ = synthetic_panel(seed=7)
    study = events.event_study(panel, "network")
    assert len(study.data) == study.nobs
    assert {"rel", "treat"} <= set(study.data.columns)
    se = study.estimates.set_index("event_time").std_error.drop(-1)
    np.testing.assert_allclose(np.sqrt(np.diag(study.vcov.to_numpy())), se.to_numpy(), rtol=1e-10)


def test_no_private_pyfixest_attribute_or_module_outside_the_adapter():
    import re
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    # private attributes of fitted models, and modules outside pyfixest's public API
    pattern = re.compile(r"\._(df_t|N|vcov|data)\b|from pyfixest\.(core|utils)\b|import pyfixest\.(core|utils)\b")
    offenders = [f"{p.relative_to(root)}:{i}" for folder in ("citydip", "notebooks") for p in (root / folder).rglob("*.py")
                 if p.name != "_pyfixest.py"
                 for i, line in enumerate(p.read_text().splitlines(), 1) if pattern.search(line)]
    assert not offenders, offenders
