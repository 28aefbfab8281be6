"""Tree-ensemble analysis of the metro cross-section: Friedman's H against analytic cases,
recovery of a known structure, determinism, the synthetic panel and the real panel."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from citydip.config import PANEL_YEARS
from citydip.errors import CitydipError
from citydip.estimation.forest import (
    IMPORTANCE_COLUMNS,
    INTERACTION_COLUMNS,
    PDP_COLUMNS,
    RANKING_COLUMNS,
    forest_analysis,
    friedman_h2,
    interaction_table,
    partial_dependence_at,
    pdp_grid,
    permutation_importance_r2,
)
from citydip.panel.synthetic import SyntheticTruth, synthetic_panel

#: Small settings for speed; the defaults are for real use.
FAST = {"n_estimators": 40, "n_repeats": 4, "grid_resolution": 10}


class Function:
    """A 'fitted model' whose prediction function is known exactly."""

    def __init__(self, f):
        self.f = f

    def predict(self, X):
        return self.f(np.asarray(X))


def product_grid(*axes):
    return np.array(np.meshgrid(*axes, indexing="ij")).reshape(len(axes), -1).T.astype(float)


# -- Friedman's H on functions with known answers --------------------------------------------------
def test_h_is_zero_for_an_additive_function():
    X = np.random.default_rng(1).normal(size=(60, 3))
    additive = Function(lambda X: X[:, 0] + np.sin(3 * X[:, 1]) + X[:, 2] ** 2)
    table = interaction_table(additive, X, ["x1", "x2", "x3"])
    assert len(table) == 3
    assert np.allclose(table.h2, 0.0, atol=1e-12) and np.allclose(table.interaction_sd, 0.0, atol=1e-6)


def test_h_matches_the_analytic_value_on_a_symmetric_grid():
    """f = x1 + x2 + x1*x2 on the 3x3 grid of {-1, 0, 1}: the centred partial dependences are
    x1, x2 and x1 + x2 + x1*x2, so H^2 = s^4 / (2 s^2 + s^4) with s^2 = 2/3, i.e. 1/4; the
    interaction component x1*x2 has s.d. s^2 = 2/3. Pure x1*x2 is all interaction (H^2 = 1)."""
    X = product_grid([-1, 0, 1], [-1, 0, 1])
    h2, sd = friedman_h2(Function(lambda X: X[:, 0] + X[:, 1] + X[:, 0] * X[:, 1]), X, 0, 1)
    assert h2 == pytest.approx(0.25, abs=1e-12) and sd == pytest.approx(2 / 3, abs=1e-12)
    h2, _ = friedman_h2(Function(lambda X: X[:, 0] * X[:, 1]), X, 0, 1)
    assert h2 == pytest.approx(1.0, abs=1e-12)


def test_h_is_zero_for_a_pair_without_joint_effect():
    """x1*x2 with an irrelevant x3: the pair (x1, x3) has no partial dependence at all."""
    X = product_grid([-1, 1], [-1, 1], [-2, 0, 2])
    table = interaction_table(Function(lambda X: X[:, 0] * X[:, 1]), X, ["x1", "x2", "x3"])
    h2 = {(a, b): v for a, b, v in table[["feature_a", "feature_b", "h2"]].itertuples(index=False)}
    assert h2[("x1", "x2")] == pytest.approx(1.0) and h2[("x1", "x3")] == 0.0 and h2[("x2", "x3")] == 0.0
    assert list(table.columns) == INTERACTION_COLUMNS and table.h2.iloc[0] == table.h2.max()


def test_partial_dependence_agrees_with_scikit_learn():
    from sklearn.ensemble import RandomForestRegressor
    from sklearn.inspection import partial_dependence

    rng = np.random.default_rng(2)
    X = rng.normal(size=(80, 3))
    y = X[:, 0] * X[:, 1] + rng.normal(size=80)
    rf = RandomForestRegressor(n_estimators=20, random_state=0, n_jobs=1).fit(X, y)
    ref = partial_dependence(rf, X, [1], method="brute", grid_resolution=7)
    grid = np.zeros((7, 3))
    grid[:, 1] = ref["grid_values"][0]
    ours = partial_dependence_at(rf, X, [1], points=grid)
    assert np.allclose(ours, ref["average"][0], atol=1e-12)


# -- batched permutation importance and partial dependence against scikit-learn ------------------------
def _regression_data(seed: int, n: int = 40):
    """Continuous columns, one with ties (integers 0..4), and an outcome depending on them."""
    rng = np.random.default_rng(seed)
    X = np.column_stack([rng.normal(size=n), rng.integers(0, 5, n).astype(float), rng.uniform(size=n),
                         rng.normal(size=n)])
    y = X[:, 0] + 0.5 * X[:, 1] * X[:, 2] + rng.normal(0, 0.5, n)
    return X, y


def _models():
    from sklearn.ensemble import RandomForestRegressor
    from sklearn.neighbors import KNeighborsRegressor

    return {"forest": RandomForestRegressor(n_estimators=25, min_samples_leaf=3, random_state=0, n_jobs=1),
            "neighbours": KNeighborsRegressor(n_neighbors=4)}


@pytest.mark.parametrize("name", ["forest", "neighbours"])
@pytest.mark.parametrize("random_state", [0, 20250103])
def test_permutation_importance_equals_scikit_learn(name, random_state):
    from sklearn.inspection import permutation_importance

    X, y = _regression_data(3)
    model = _models()[name].fit(X[:30], y[:30])
    X_test, y_test = X[30:], y[30:]
    ref = permutation_importance(model, X_test, y_test, scoring="r2", n_repeats=6, random_state=random_state,
                                 n_jobs=1)
    ours = permutation_importance_r2(model, X_test, y_test, n_repeats=6, random_state=random_state)
    assert ours.shape == ref.importances.shape == (4, 6)
    np.testing.assert_allclose(ours, ref.importances, rtol=0, atol=1e-12)
    assert np.ptp(ours[0]) > 0  # the repeats do differ


def test_permutation_importance_with_a_constant_outcome_scores_as_scikit_learn():
    """R^2 with constant y is 1 for a perfect prediction and 0 otherwise, as in r2_score."""
    from sklearn.inspection import permutation_importance

    X, _ = _regression_data(4, n=12)
    model = _models()["neighbours"].fit(X, np.arange(12.0))
    y = np.full(12, 2.0)
    ref = permutation_importance(model, X, y, scoring="r2", n_repeats=3, random_state=1)
    np.testing.assert_allclose(permutation_importance_r2(model, X, y, n_repeats=3, random_state=1),
                               ref.importances, rtol=0, atol=1e-12)


@pytest.mark.parametrize("resolution", [4, 7, 30])
def test_pdp_grid_equals_scikit_learn(resolution):
    """Distinct values below the resolution, else evenly spaced between the 5th and 95th
    percentiles as scipy's mquantiles computes them (not numpy's default quantile)."""
    from sklearn.inspection import partial_dependence

    X, y = _regression_data(5, n=50)
    model = _models()["forest"].fit(X, y)
    for j in range(X.shape[1]):
        ref = partial_dependence(model, X, [j], kind="average", method="brute", grid_resolution=resolution,
                                 percentiles=(0.05, 0.95))
        grid = pdp_grid(X[:, j], resolution)
        np.testing.assert_allclose(grid, ref["grid_values"][0], rtol=0, atol=1e-12)
        assert len(grid) == (5 if j == 1 and resolution > 5 else resolution)
    low = np.quantile(X[:, 0], 0.05)
    assert abs(pdp_grid(X[:, 0], 7)[0] - low) > 1e-6  # the percentile rule matters


def test_pdp_grid_rejects_coinciding_percentiles():
    with pytest.raises(CitydipError, match="percentiles"):
        pdp_grid(np.r_[np.zeros(200), np.arange(1.0, 7.0)], 5)  # 5th and 95th percentiles both 0


@pytest.fixture(scope="module")
def small():
    """A small cross-section with a continuous feature and one with four distinct values."""
    rng = np.random.default_rng(11)
    n = 60
    a, c = rng.normal(size=(2, n))
    k = rng.integers(0, 4, n).astype(float)
    y = a + 0.5 * k + 0.5 * a * k + rng.normal(0, 0.3, n)
    panel = pd.DataFrame({"cbsa_code": [f"{90000 + i}" for i in range(n)], "year": 2010, "y": y,
                          "a": a, "k": k, "c": c})
    return forest_analysis(panel, outcome="y", features=["a", "k", "c"], **FAST)


def test_forest_analysis_curves_equal_scikit_learn(small):
    from sklearn.inspection import partial_dependence

    X = small.data[list(small.features)].to_numpy()
    for j, name in enumerate(small.features):
        ref = partial_dependence(small.estimator, X, [j], kind="average", method="brute",
                                 grid_resolution=FAST["grid_resolution"], percentiles=(0.05, 0.95))
        curve = small.pdp[small.pdp.feature == name]
        np.testing.assert_allclose(curve.value, ref["grid_values"][0], rtol=0, atol=1e-12)
        np.testing.assert_allclose(curve.prediction, ref["average"][0], rtol=0, atol=1e-12)
    assert (small.pdp.feature == "k").sum() == 4


def test_forest_analysis_importance_equals_scikit_learn(small):
    """The importance table as computed with scikit-learn's permutation_importance on forests
    fitted (with their out-of-bag score) in each fold."""
    from sklearn.base import clone
    from sklearn.inspection import permutation_importance
    from sklearn.model_selection import KFold

    X = small.data[list(small.features)].to_numpy()
    y = small.data[small.outcome].to_numpy()
    folds = KFold(n_splits=small.settings["cv_folds"], shuffle=True, random_state=small.seed)
    draws = []
    for k, (train, test) in enumerate(folds.split(X)):
        fitted = clone(small.estimator).fit(X[train], y[train])
        draws.append(permutation_importance(fitted, X[test], y[test], scoring="r2",
                                            n_repeats=FAST["n_repeats"], random_state=small.seed + k,
                                            n_jobs=1).importances)
    values = np.concatenate(draws, axis=1)
    table = small.importance.set_index("feature").loc[list(small.features)]
    np.testing.assert_allclose(table["mean"], values.mean(axis=1), rtol=0, atol=1e-12)
    np.testing.assert_allclose(table["sd"], values.std(axis=1, ddof=1), rtol=0, atol=1e-12)


# -- a cross-section with a known structure ----------------------------------------------------------
@pytest.fixture(scope="module")
def known():
    """y = 3a + 1.5 cos(2 pi b) + 2 c d + noise with e irrelevant; c, d ~ U(-0.5, 1.5), so c*d has
    main effects and an interaction (true H^2 of (c, d) = v / (2 mu^2 + v) = 0.4)."""
    rng = np.random.default_rng(7)
    n = 300
    a, b, e = rng.uniform(0, 1, (3, n))
    c, d = rng.uniform(-0.5, 1.5, (2, n))
    y = 3 * a + 1.5 * np.cos(2 * np.pi * b) + 2 * c * d + rng.normal(0, 0.3, n)
    panel = pd.DataFrame({"cbsa_code": [f"{90000 + i}" for i in range(n)], "year": 2010, "y": y,
                          "a": a, "b": b, "c": c, "d": d, "e": e})
    return forest_analysis(panel, outcome="y", features=list("abcde"), n_estimators=100, n_repeats=5,
                           grid_resolution=15, interaction_points=120)


def test_permutation_importance_ranks_the_relevant_features_above_noise(known):
    imp = known.importance.set_index("feature")
    assert list(known.importance.columns) == IMPORTANCE_COLUMNS
    for relevant in "abcd":
        assert imp.loc[relevant, "mean"] > imp.loc["e", "mean"] + 0.02, relevant
    assert imp.loc["e", "rank"] == 5 and abs(imp.loc["e", "mean"]) < 0.02
    assert known.r2_cv > 0.5 and known.r2_oob > 0.5
    assert known.ranking.empty  # no diplomacy feature among a..e


def test_h_finds_the_interacting_pair(known):
    h2 = {frozenset((a, b)): v for a, b, v in known.interactions[["feature_a", "feature_b", "h2"]]
          .itertuples(index=False)}
    assert len(h2) == 10
    assert known.interactions.iloc[0][["feature_a", "feature_b"]].tolist() == ["c", "d"]
    assert h2[frozenset("cd")] > 0.08  # forests attenuate H (true 0.4)
    assert h2[frozenset("cd")] > 5 * h2[frozenset("ab")]
    for other in "abcd":
        assert h2[frozenset((other, "e"))] < 0.02, other


def test_partial_dependence_of_a_monotone_effect_is_monotone(known):
    curve = known.pdp[known.pdp.feature == "a"].sort_values("value")
    assert list(known.pdp.columns) == PDP_COLUMNS and len(curve) == 15
    rise = curve.prediction.iloc[-1] - curve.prediction.iloc[0]
    assert rise > 0.5 * 3 * (curve.value.iloc[-1] - curve.value.iloc[0])  # true slope 3
    assert np.diff(curve.prediction.to_numpy()).min() > -0.02 * rise  # no dip beyond tree-step noise
    assert set(known.pdp.feature) == set("abcde")


# -- determinism and the synthetic panel ---------------------------------------------------------------
MEASURES = ("sister_active", "consular_posts", "networks_dated", "log_population", "log_per_capita_income")


@pytest.mark.parametrize("model", ["random_forest", "gradient_boosting"])
def test_same_seed_gives_identical_results(model):
    panel, _ = synthetic_panel(seed=5)
    first = forest_analysis(panel, features=MEASURES, model=model, **FAST)
    second = forest_analysis(panel, features=MEASURES, model=model, **FAST)
    for name in ("importance", "ranking", "pdp", "interactions", "data"):
        pd.testing.assert_frame_equal(getattr(first, name), getattr(second, name), check_exact=True)
    assert first.r2_cv == second.r2_cv
    assert (np.isnan(first.r2_oob) and np.isnan(second.r2_oob)) == (model == "gradient_boosting")
    other = forest_analysis(panel, features=MEASURES, model=model, seed=1, **FAST)
    assert not np.array_equal(other.importance["mean"], first.importance["mean"])


def test_synthetic_panel_ranks_the_consulate_effect_above_a_measure_with_none():
    """Consular posts raise exports (0.03 log points a post); networks neither affect exports
    nor depend on size or openness, so they carry no information about exports."""
    truth = SyntheticTruth(beta_consulate=0.03, beta_network=0.0, network_size=0.0, network_openness=0.0)
    panel, _ = synthetic_panel(seed=4, truth=truth)
    result = forest_analysis(panel, features=MEASURES, **FAST)
    ranking = result.ranking.set_index("feature")
    assert list(result.ranking.columns) == RANKING_COLUMNS and len(ranking) == 3
    assert ranking.loc["consular_posts", "rank"] < ranking.loc["networks_dated", "rank"]
    assert ranking.loc["networks_dated", "rank"] == 3 and abs(ranking.loc["networks_dated", "mean"]) < 0.02
    assert ranking.loc["consular_posts", "mean"] > 0.05
    assert ranking.loc["consular_posts", "anchor_rank"] == 1 and pd.isna(ranking.loc["sister_active", "anchor_rank"])
    assert result.n_metros == 100 and result.years == tuple(PANEL_YEARS)


def test_years_and_bad_inputs():
    panel, _ = synthetic_panel(seed=6)
    result = forest_analysis(panel, features=MEASURES, years=range(2005, 2020), **FAST)
    assert result.years == tuple(range(2005, 2020))
    means = panel[panel.year <= 2019].groupby("cbsa_code")["log_exports"].mean()
    assert np.allclose(result.data.set_index("cbsa_code")["log_exports"], means)
    with pytest.raises(CitydipError, match="model must be"):
        forest_analysis(panel, features=MEASURES, model="interaction_forest")
    with pytest.raises(CitydipError, match="no columns"):
        forest_analysis(panel, features=("sister_active", "not_a_column"))
    with pytest.raises(CitydipError, match="too few"):
        forest_analysis(panel[panel.cbsa_code.isin(panel.cbsa_code.unique()[:5])], features=MEASURES)


# -- the real panel ---------------------------------------------------------------------------------------


def test_real_panel(real_panel):
    result = forest_analysis(real_panel, **FAST)
    assert result.n_metros == 100 and len(result.data) == 100
    assert list(result.importance.feature.sort_values()) == sorted(result.features)
    assert result.importance[["mean", "sd"]].notna().all().all()
    assert np.isfinite(result.r2_cv) and np.isfinite(result.r2_oob) and result.r2_oob > 0.2
    assert set(result.ranking.feature) == {"sister_active", "consulates_general", "networks_dated"}
    assert sorted(result.ranking["rank"]) == [1, 2, 3]
    assert result.ranking.set_index("feature").loc["consulates_general", "anchor_rank"] == 1
    assert result.agrees_with_anchor in (True, False)
    assert len(result.interactions) == 10 and (result.interactions.h2 >= 0).all()
    assert set(result.pdp.feature) == set(result.features)
