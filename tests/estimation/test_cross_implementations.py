"""citydip's estimates against independent implementations, on the real and a synthetic panel.

Every model of the main specification (log exports on the three diplomacy measures and the two
controls) is re-estimated without citydip's fitting layer: statsmodels with explicit metro and
year dummies, linearmodels' PanelOLS, R (plm, estimatr, glm + sandwich; run with ``Rscript`` on
a CSV of the panel) and direct numpy sandwich formulas. The samples are built here from the
panel (listwise deletion on the outcome and the regressors), not taken from citydip.

Tolerances (``np.testing.assert_allclose``, relative, no absolute slack):

* coefficients: ``COEF_RTOL = 1e-8``; reached by every comparison, PPML included (observed
  differences are 1e-12 or smaller; pyfixest's ``fepois`` and the glm/GLM fits, run to a
  deviance tolerance of 1e-14, land on the same optimum);
* standard errors: ``SE_RTOL = 1e-6`` once the small-sample conventions are aligned (observed:
  below 1e-9; the largest gaps, about 5e-9, are the PPML ones, where pyfixest evaluates the
  bread and scores with the weights of its last IRLS iteration).

Small-sample convention of citydip's default ('fixest', pyfixest 0.60's ``ssc()``): a
cluster-robust covariance is ``c * B M B`` with ``c = G/(G-1) * (N-1)/(N-K)``. K counts the
slopes and one intercept, plus, for each fixed effect *not* nested in a cluster dimension, its
number of levels less one; fixed effects nested in the clusters are not counted (pyfixest's
``k_fixef='nonnested'``). So K = k + 1 + (T-1) for metro + year effects clustered by metro,
K = k + 1 for two-way clustering by metro and year, and K = k + 1 + (T-1) for year effects
alone. Each comparison below converts the other implementation's convention to this one with
an explicit factor, stated where it is applied.

Tests that need R skip when ``Rscript`` (or one of the R packages) is absent, except with
``CITYDIP_REQUIRE_R=1`` (set by ``.ci/run``), where they fail.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from scipy import stats

from citydip.estimation import ModelSpec, fit
from citydip.estimation.fitting import dk_bandwidth
from citydip.panel.synthetic import synthetic_panel

X = ("sister_active", "consular_posts", "networks_dated", "log_population", "log_per_capita_income")
METRO, YEAR = "cbsa_code", "year"
COEF_RTOL = 1e-8
SE_RTOL = 1e-6
R_SCRIPT = Path(__file__).parent / "r" / "cross_check.R"
R_PACKAGES = ("plm", "sandwich", "estimatr")
SIZE_CLASSES = ("small", "mid", "large")

M3 = ModelSpec("M3", "ols", "log_exports", X)


# -- panels ------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def synthetic_panel_() -> pd.DataFrame:
    """The synthetic panel with the outcome removed in 10 random metro-years, so that it is
    unbalanced like the real one (whose exports are missing in 6 metro-years)."""
    panel, _ = synthetic_panel(seed=7)
    holes = np.random.default_rng(7).choice(len(panel), size=10, replace=False)
    panel.loc[panel.index[holes], ["log_exports", "exports_usd"]] = np.nan
    return panel


@pytest.fixture(scope="module", params=["real", "synthetic"])
def panel(request) -> pd.DataFrame:
    return request.getfixturevalue("real_panel" if request.param == "real" else "synthetic_panel_")


def sample(panel: pd.DataFrame, depvar: str, regressors=X) -> pd.DataFrame:
    """The estimation sample: listwise deletion on the outcome and the regressors."""
    data = panel[[METRO, YEAR, "size_class", depvar, *regressors]].dropna(subset=[depvar, *regressors])
    data = data.reset_index(drop=True)
    data[list(regressors)] = data[list(regressors)].astype("float64")
    return data


def dummies(data: pd.DataFrame, metro: bool = True, year: bool = True) -> pd.DataFrame:
    """A constant and metro and/or year dummies (first level of each dropped)."""
    parts = [pd.Series(1.0, index=data.index, name="const")]
    if metro:
        parts.append(pd.get_dummies(data[METRO], prefix="m", drop_first=True, dtype=float))
    if year:
        parts.append(pd.get_dummies(data[YEAR], prefix="y", drop_first=True, dtype=float))
    return pd.concat(parts, axis=1)


def cluster_codes(data: pd.DataFrame) -> np.ndarray:
    return pd.factorize(data[METRO])[0]


def fixest_k(n_slopes: int, non_nested_levels: tuple[int, ...] = ()) -> int:
    """K of pyfixest's small-sample factor (module docstring): the slopes, one intercept, and
    levels - 1 for each fixed effect not nested in the clusters."""
    return n_slopes + 1 + sum(levels - 1 for levels in non_nested_levels)


def check(ours: pd.Series, theirs, terms, rtol: float) -> None:
    theirs = pd.Series(theirs)
    np.testing.assert_allclose(ours[list(terms)].to_numpy(dtype=float), theirs[list(terms)].to_numpy(dtype=float),
                               rtol=rtol, atol=0)


def quiet_fit(panel: pd.DataFrame, spec: ModelSpec):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return fit(panel, spec)


def within(data: pd.DataFrame, depvar: str, regressors=X) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Frisch-Waugh-Lovell with explicit dummies (least squares, not an alternating projection):
    the regressors and the outcome residualized on a constant and metro and year dummies.
    Returns (X~, residuals, beta)."""
    z = dummies(data).to_numpy()
    xt = data[list(regressors)].to_numpy()
    xt = xt - z @ np.linalg.lstsq(z, xt, rcond=None)[0]
    yt = data[depvar].to_numpy()
    yt = yt - z @ np.linalg.lstsq(z, yt, rcond=None)[0]
    beta = np.linalg.solve(xt.T @ xt, xt.T @ yt)
    return xt, yt - xt @ beta, beta


def meat(scores: np.ndarray, groups) -> np.ndarray:
    """Sum over clusters of the outer products of the cluster sums of the scores."""
    sums = pd.DataFrame(scores).groupby(np.asarray(groups)).sum().to_numpy()
    return sums.T @ sums


def se_from(cov: np.ndarray, terms=X) -> pd.Series:
    return pd.Series(np.sqrt(np.diag(cov)), index=list(terms))


# -- R -----------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def rscript() -> str:
    """Path of Rscript with the R packages the script needs; skip (or fail if required) otherwise."""
    path = shutil.which("Rscript")
    problem = None
    if path is None:
        problem = "Rscript not found"
    else:
        names = ", ".join(f'"{p}"' for p in R_PACKAGES)
        probe = f"quit(status = as.integer(!all(vapply(c({names}), requireNamespace, logical(1), quietly = TRUE))))"
        if subprocess.run([path, "-e", probe], check=False, capture_output=True).returncode != 0:
            problem = f"R packages {R_PACKAGES} not all installed"
    if problem:
        if os.environ.get("CITYDIP_REQUIRE_R") == "1":
            pytest.fail(f"{problem} (CITYDIP_REQUIRE_R=1)")
        pytest.skip(problem)
    return path


@pytest.fixture(scope="module")
def r_results(panel, rscript, tmp_path_factory) -> dict[str, pd.DataFrame]:
    """Run tests/estimation/r/cross_check.R on the panel; its estimates by block, indexed by term."""
    tmp = tmp_path_factory.mktemp("r")
    columns = [METRO, YEAR, "log_exports", "exports_usd", *X]
    panel[columns].to_csv(tmp / "panel.csv", index=False, float_format="%.17g")
    done = subprocess.run([rscript, str(R_SCRIPT), str(tmp / "panel.csv"), str(tmp / "out.csv")],
                          check=False, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    out = pd.read_csv(tmp / "out.csv", dtype={"block": str, "term": str})
    return {block: rows.set_index("term")[["estimate", "std_error"]] for block, rows in out.groupby("block")}


# -- 1. two-way fixed effects, cluster by metro ------------------------------------------------------
def test_twfe_vs_statsmodels_dummies(panel):
    ours = fit(panel, M3)
    data = sample(panel, "log_exports")
    n, g, t = len(data), data[METRO].nunique(), data[YEAR].nunique()
    design = pd.concat([data[list(X)], dummies(data)], axis=1)
    theirs = sm.OLS(data["log_exports"], design).fit(cov_type="cluster", cov_kwds={"groups": cluster_codes(data)})
    assert ours.nobs == n == int(theirs.nobs)
    check(ours.coef, theirs.params, X, COEF_RTOL)
    # statsmodels: G/(G-1) * (N-1)/(N-K_sm), K_sm = every column of the dummy design
    # (5 + 1 + (G-1) + (T-1) = 121); pyfixest's K = 5 + 1 + (T-1) = 22 (metro effects nested in
    # the metro clusters): rescale the variance by (N-K_sm)/(N-K).
    k_sm, k = design.shape[1], fixest_k(len(X), (t,))
    assert (k_sm, k) == (len(X) + g + t - 1, len(X) + t)
    check(ours.se, theirs.bse * np.sqrt((n - k_sm) / (n - k)), X, SE_RTOL)


def test_twfe_vs_linearmodels(panel):
    from linearmodels.panel import PanelOLS

    ours = fit(panel, M3)
    data = sample(panel, "log_exports").set_index([METRO, YEAR])
    theirs = PanelOLS(data["log_exports"], data[list(X)], entity_effects=True, time_effects=True).fit(
        cov_type="clustered", cluster_entity=True)
    n, g, t = len(data), data.index.get_level_values(0).nunique(), data.index.get_level_values(1).nunique()
    check(ours.coef, theirs.params, X, COEF_RTOL)
    # linearmodels' defaults (debiased=True, group_debias=False, the effects counted): the raw
    # sandwich times N/(N - d - k), d = G + T - 1 effects, k = 5; no G/(G-1).
    # citydip: G/(G-1) * (N-1)/(N-K), K = 22 (see module docstring).
    theirs_factor = n / (n - (g + t - 1) - len(X))
    ours_factor = g / (g - 1) * (n - 1) / (n - fixest_k(len(X), (t,)))
    check(ours.se, theirs.std_errors * np.sqrt(ours_factor / theirs_factor), X, SE_RTOL)


def test_twfe_vs_r_plm_and_estimatr(panel, r_results):
    ours = fit(panel, M3)
    data = sample(panel, "log_exports")
    n, g, t = len(data), data[METRO].nunique(), data[YEAR].nunique()
    k = fixest_k(len(X), (t,))
    for block in ("plm_hc0", "plm_sss", "estimatr"):
        check(ours.coef, r_results[block]["estimate"], X, COEF_RTOL)
    assert r_results["plm_hc0"].loc["nobs", "estimate"] == n
    assert r_results["estimatr"].loc["nobs", "estimate"] == n
    # plm vcovHC(method='arellano', type='HC0', cluster='group'): the raw cluster sandwich;
    # citydip multiplies it by G/(G-1) * (N-1)/(N-K).
    check(ours.se, r_results["plm_hc0"]["std_error"] * np.sqrt(g / (g - 1) * (n - 1) / (n - k)), X, SE_RTOL)
    # plm type='sss': G/(G-1) * (N-1)/(N-k) with k = 5 slopes only: rescale by (N-5)/(N-K).
    check(ours.se, r_results["plm_sss"]["std_error"] * np.sqrt((n - len(X)) / (n - k)), X, SE_RTOL)
    # estimatr se_type='stata': G/(G-1) * (N-1)/(N-K_e), K_e = slopes + rank of the fixed effects
    # (5 + G + T - 1 = 121, as in Stata's areg): rescale by (N-K_e)/(N-K).
    k_e = r_results["estimatr"].loc["K", "estimate"]
    assert k_e == len(X) + g + t - 1
    check(ours.se, r_results["estimatr"]["std_error"] * np.sqrt((n - k_e) / (n - k)), X, SE_RTOL)


# -- 2. pooled OLS with year effects, cluster by metro -----------------------------------------------
def test_pooled_year_fe_vs_statsmodels(panel):
    ours = fit(panel, ModelSpec("M2", "ols", "log_exports", X, fixed_effects=(YEAR,)))
    data = sample(panel, "log_exports")
    n, t = len(data), data[YEAR].nunique()
    design = pd.concat([data[list(X)], dummies(data, metro=False)], axis=1)
    theirs = sm.OLS(data["log_exports"], design).fit(cov_type="cluster", cov_kwds={"groups": cluster_codes(data)})
    assert ours.nobs == n
    check(ours.coef, theirs.params, X, COEF_RTOL)
    # The year effects are not nested in the metro clusters, so pyfixest counts them: K = 5 + 1 +
    # (T-1) = the number of columns of statsmodels' design, and both use G/(G-1) * (N-1)/(N-K):
    # no rescaling.
    assert design.shape[1] == fixest_k(len(X), (t,))
    check(ours.se, theirs.bse, X, SE_RTOL)


# -- 3. PPML, metro + year effects, cluster by metro -------------------------------------------------
PPML = ModelSpec("M4", "poisson", "exports_usd", X)


@pytest.mark.slow
def test_ppml_vs_statsmodels_glm(panel):
    ours = quiet_fit(panel, PPML)
    data = sample(panel, "exports_usd")
    n, t = len(data), data[YEAR].nunique()
    design = pd.concat([data[list(X)], dummies(data)], axis=1)
    theirs = sm.GLM(data["exports_usd"], design, family=sm.families.Poisson()).fit(
        tol=1e-14, maxiter=200, cov_type="cluster", cov_kwds={"groups": cluster_codes(data)})
    assert theirs.converged and ours.nobs == n
    check(ours.coef, theirs.params, X, COEF_RTOL)
    # statsmodels GLM cluster: G/(G-1) * (N-1)/(N-K_sm), K_sm = 121 (all dummy columns);
    # pyfixest fepois: the same with K = 22: rescale by (N-K_sm)/(N-K).
    k_sm, k = design.shape[1], fixest_k(len(X), (t,))
    check(ours.se, theirs.bse * np.sqrt((n - k_sm) / (n - k)), X, SE_RTOL)


def test_ppml_vs_r_glm(panel, r_results):
    ours = quiet_fit(panel, PPML)
    data = sample(panel, "exports_usd")
    n, t = len(data), data[YEAR].nunique()
    r = r_results["glm_hc0"]
    assert r.loc["nobs", "estimate"] == n
    check(ours.coef, r["estimate"], X, COEF_RTOL)
    # sandwich::vcovCL(type='HC0', cadjust=TRUE): G/(G-1) times the raw sandwich ('HC1' would add
    # (N-1)/(N-K_glm) with K_glm = 121); citydip adds (N-1)/(N-K), K = 22.
    check(ours.se, r["std_error"] * np.sqrt((n - 1) / (n - fixest_k(len(X), (t,)))), X, SE_RTOL)


# -- 4. heterogeneity by size class; two-way clustering ----------------------------------------------
def test_by_size_class_vs_statsmodels_dummies(panel):
    ours = fit(panel, ModelSpec("M5", "ols", "log_exports", X, by_size=("sister_active",)))
    data = sample(panel, "log_exports")
    n, t = len(data), data[YEAR].nunique()
    split = [f"sister_active_x_{c}" for c in SIZE_CLASSES]
    for c, name in zip(SIZE_CLASSES, split):
        data[name] = np.where(data["size_class"].astype(str) == c, data["sister_active"], 0.0)
    regressors = [*split, *X[1:]]
    assert list(ours.coef.index) == regressors
    design = pd.concat([data[regressors], dummies(data)], axis=1)
    theirs = sm.OLS(data["log_exports"], design).fit(cov_type="cluster", cov_kwds={"groups": cluster_codes(data)})
    check(ours.coef, theirs.params, regressors, COEF_RTOL)
    # as in the two-way FE test, with 7 slopes: K = 7 + 1 + (T-1), K_sm = all dummy columns
    k_sm, k = design.shape[1], fixest_k(len(regressors), (t,))
    check(ours.se, theirs.bse * np.sqrt((n - k_sm) / (n - k)), regressors, SE_RTOL)


def test_twoway_clustering_vs_direct_computation(panel):
    ours = fit(panel, M3.with_vcov("twoway"))
    data = sample(panel, "log_exports")
    n, g, t = len(data), data[METRO].nunique(), data[YEAR].nunique()
    design = pd.concat([data[list(X)], dummies(data)], axis=1)
    check(ours.coef, sm.OLS(data["log_exports"], design).fit().params, X, COEF_RTOL)
    xt, resid, beta = within(data, "log_exports")
    check(ours.coef, pd.Series(beta, index=X), X, COEF_RTOL)
    # V = c * B (M_metro + M_year - M_metro-year) B, B = (X~'X~)^-1. pyfixest's G_df='min': one
    # factor c = Gmin/(Gmin-1) * (N-1)/(N-K) for all three terms, Gmin = min(G, T, #metro-years)
    # = T; K = 5 + 1, since the metro effects are nested in the metro clusters and the year
    # effects in the year clusters. M_metro-year is the heteroskedasticity-robust meat (one
    # observation per metro-year).
    bread = np.linalg.inv(xt.T @ xt)
    scores = xt * resid[:, None]
    intersection = data[METRO].astype(str) + "/" + data[YEAR].astype(str)
    assert intersection.nunique() == n
    raw = meat(scores, data[METRO]) + meat(scores, data[YEAR]) - meat(scores, intersection)
    g_min = min(g, t, n)
    c = g_min / (g_min - 1) * (n - 1) / (n - fixest_k(len(X)))
    check(ours.se, se_from(bread @ (c * raw) @ bread), X, SE_RTOL)
    # and one-way clustering by metro from the same pieces, for the record of what differs
    one_way = g / (g - 1) * (n - 1) / (n - fixest_k(len(X), (t,))) * meat(scores, data[METRO])
    check(fit(panel, M3).se, se_from(bread @ one_way @ bread), X, SE_RTOL)


# -- 5. between regression ---------------------------------------------------------------------------
BETWEEN = ModelSpec("M1", "between", "log_exports", X, fixed_effects=(), vcov="hetero")


def metro_means(panel: pd.DataFrame) -> pd.DataFrame:
    data = sample(panel, "log_exports")
    return data.groupby(METRO)[["log_exports", *X]].mean()


def test_between_vs_statsmodels_and_direct_hc1(panel):
    ours = fit(panel, BETWEEN)
    means = metro_means(panel)
    design = sm.add_constant(means[list(X)])
    theirs = sm.OLS(means["log_exports"], design).fit(cov_type="HC1")
    terms = ["const", *X]
    assert ours.nobs == len(means) == panel.loc[panel["log_exports"].notna(), METRO].nunique()
    check(ours.coef, theirs.params, terms, COEF_RTOL)
    check(ours.se, theirs.bse, terms, SE_RTOL)
    # HC1 by hand: n/(n-k) (X'X)^-1 X' diag(e^2) X (X'X)^-1, n metros, k = 6 with the constant
    z, y = design.to_numpy(), means["log_exports"].to_numpy()
    bread = np.linalg.inv(z.T @ z)
    beta = bread @ z.T @ y
    e = y - z @ beta
    n, k = z.shape
    cov = n / (n - k) * bread @ (z.T * e**2) @ z @ bread
    check(ours.coef, pd.Series(beta, index=terms), terms, COEF_RTOL)
    check(ours.se, se_from(cov, terms), terms, SE_RTOL)


def test_between_vs_r_lm(panel, r_results):
    ours = fit(panel, BETWEEN)
    r = r_results["between_hc1"].rename(index={"(Intercept)": "const"})
    assert r.loc["nobs", "estimate"] == ours.nobs
    terms = ["const", *X]
    check(ours.coef, r["estimate"], terms, COEF_RTOL)
    # sandwich::vcovHC(type='HC1') = statsmodels' HC1 = n/(n-k) times HC0: no rescaling
    check(ours.se, r["std_error"], terms, SE_RTOL)


# -- 6. Driscoll-Kraay -------------------------------------------------------------------------------
def test_driscoll_kraay_vs_linearmodels_and_direct(panel):
    from linearmodels.panel import PanelOLS

    ours = fit(panel, M3.with_vcov("driscoll_kraay"))
    data = sample(panel, "log_exports")
    n, g, t = len(data), data[METRO].nunique(), data[YEAR].nunique()
    # Newey-West lag window floor(4 (T/100)^(2/9)): 2 for the 17 years 2005-2021
    bandwidth = int(np.floor(4 * (t / 100) ** (2 / 9)))
    assert bandwidth == dk_bandwidth(t) == 2
    assert f"bandwidth {bandwidth} years" in " ".join(ours.notes)
    frame = data.set_index([METRO, YEAR])
    theirs = PanelOLS(frame["log_exports"], frame[list(X)], entity_effects=True, time_effects=True).fit(
        cov_type="kernel", kernel="bartlett", bandwidth=bandwidth)
    check(ours.coef, theirs.params, X, COEF_RTOL)
    # Same kernel and bandwidth; small-sample factors: linearmodels (debiased) N/(N-K), citydip
    # (pyfixest's DK) T/(T-1) (N-1)/(N-K), K = k + G + T - 1 in both; t(T-1) against t(N-K).
    factor = np.sqrt(t / (t - 1) * (n - 1) / n)
    check(ours.se, theirs.std_errors * factor, X, 1e-8)
    assert ours.df_t == t - 1 and ours.reference == "t"
    np.testing.assert_allclose(ours.p_value[list(X)], 2 * stats.t.sf(np.abs(ours.statistic[list(X)]), t - 1),
                               rtol=1e-8, atol=1e-15)
    # Direct: h_t = sum over metros of x~_it e_it; S = sum_t h_t h_t' + sum_{l=1..L} (1 - l/(L+1))
    # sum_t (h_t h_{t-l}' + h_{t-l} h_t'); V = B S B times linearmodels' default scale
    # N/(N - d - k) (debiased=True, d = G + T - 1 effects counted, k = 5).
    xt, resid, _ = within(data, "log_exports")
    h = pd.DataFrame(xt * resid[:, None]).groupby(data[YEAR].to_numpy()).sum().sort_index().to_numpy()
    s = h.T @ h
    for lag in range(1, bandwidth + 1):
        gamma = h[lag:].T @ h[:-lag]
        s += (1 - lag / (bandwidth + 1)) * (gamma + gamma.T)
    bread = np.linalg.inv(xt.T @ xt)
    cov = t / (t - 1) * (n - 1) / (n - (g + t - 1) - len(X)) * bread @ s @ bread
    check(ours.se, se_from(cov), X, SE_RTOL)
