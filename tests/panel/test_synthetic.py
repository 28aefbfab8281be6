"""The synthetic panel: schema, determinism, internal consistency, and recovery of the truth.

Recovery tests use two-way fixed effects (metro and year). ``_twfe`` is the within
estimator for a balanced panel (two-way demeaning), checked against statsmodels OLS with
explicit metro and year dummies; its classical standard errors are right for the DGP's
iid errors.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from citydip.errors import OptionError
from citydip.panel import schema
from citydip.panel.synthetic import SyntheticTruth, synthetic_panel

HEADLINE = ["sister_active", "consular_posts", "networks_dated", "log_population", "log_per_capita_income"]


@pytest.fixture(scope="module")
def synth():
    return synthetic_panel()


def _twfe(panel: pd.DataFrame, y: str, xs: list[str]) -> tuple[pd.Series, pd.Series]:
    """Two-way fixed-effects estimates and classical standard errors (balanced panel)."""
    n_metros, n_years = panel["cbsa_code"].nunique(), panel["year"].nunique()
    assert len(panel) == n_metros * n_years, "the within estimator needs a balanced panel"

    def within(col: str) -> np.ndarray:
        v = panel[col].astype("float64")
        return (v - v.groupby(panel["cbsa_code"]).transform("mean")
                - v.groupby(panel["year"]).transform("mean") + v.mean()).to_numpy()

    yv = within(y)
    X = np.column_stack([within(c) for c in xs])
    beta, *_ = np.linalg.lstsq(X, yv, rcond=None)
    resid = yv - X @ beta
    dof = len(yv) - n_metros - n_years + 1 - len(xs)
    cov = resid @ resid / dof * np.linalg.inv(X.T @ X)
    return pd.Series(beta, index=xs), pd.Series(np.sqrt(np.diag(cov)), index=xs)


def _ols(panel: pd.DataFrame, y: str, xs: list[str], dummies: list[str]):
    import statsmodels.api as sm
    X = panel[xs].astype("float64")
    if dummies:
        X = pd.concat([X, pd.get_dummies(panel[dummies].astype(str), drop_first=True, dtype="float64")], axis=1)
    return sm.OLS(panel[y].to_numpy(), sm.add_constant(X)).fit()


# -- schema and determinism ------------------------------------------------------------------


def test_columns_and_dtypes_are_the_schema(synth):
    panel, _ = synth
    assert list(panel.columns) == schema.NAMES
    for c in schema.COLUMNS:
        assert panel[c.name].dtype == pd.Series([], dtype=c.dtype).dtype, c.name
    pd.testing.assert_frame_equal(schema.conform(panel), panel)
    # CDP-ICLEI reporting exists for 2016-2021 only: missing (not zero) in other years
    from citydip.panel import cdp

    assert panel.drop(columns=list(cdp.COLUMNS)).notna().all().all()
    outside = ~panel.year.between(2016, 2021)
    assert panel.loc[outside, list(cdp.COLUMNS)].isna().all().all()
    assert panel.loc[~outside, list(cdp.COLUMNS)].notna().all().all()


def test_shape_and_labels_are_obviously_synthetic(synth):
    panel, _ = synth
    assert panel.attrs["synthetic"] is True
    assert len(panel) == 100 * 18 and panel["cbsa_code"].nunique() == 100
    assert sorted(panel["year"].unique()) == list(range(2005, 2023))
    assert panel["cbsa_code"].str.fullmatch(r"9\d{4}").all()
    assert panel["cbsa_title"].str.fullmatch(r"Synthetic Metro \d{3}, XX").all()
    assert panel.groupby("cbsa_code")["cbsa_title"].nunique().eq(1).all()
    assert panel["cbsa_title"].nunique() == 100


def test_same_seed_gives_byte_identical_parquet(tmp_path):
    a, _ = synthetic_panel(seed=7, n_metros=30)
    b, _ = synthetic_panel(seed=7, n_metros=30)
    a.to_parquet(tmp_path / "a.parquet")
    b.to_parquet(tmp_path / "b.parquet")
    assert (tmp_path / "a.parquet").read_bytes() == (tmp_path / "b.parquet").read_bytes()
    back = pd.read_parquet(tmp_path / "a.parquet")
    pd.testing.assert_frame_equal(back, a, check_dtype=False)
    assert back.attrs.get("synthetic") is True


def test_different_seeds_give_different_panels():
    a, _ = synthetic_panel(seed=1, n_metros=30)
    b, _ = synthetic_panel(seed=2, n_metros=30)
    assert list(a["cbsa_code"]) == list(b["cbsa_code"])
    for col in ["exports_usd", "population_persons", "sister_active", "consular_posts"]:
        assert not np.array_equal(a[col].to_numpy(), b[col].to_numpy()), col


def test_arguments_are_honoured_and_checked():
    panel, truth = synthetic_panel(n_metros=12, first_year=2008, last_year=2012,
                                   truth=SyntheticTruth(beta_sister=0.05))
    assert truth.beta_sister == 0.05
    assert sorted(panel["year"].unique()) == list(range(2008, 2013))
    assert panel["cbsa_code"].nunique() == 12
    # the rank year 2019 lies outside the panel: ranks still 1..n
    assert sorted(panel.groupby("cbsa_code")["rank"].first()) == list(range(1, 13))
    for bad in [{"n_metros": 2}, {"first_year": 2010, "last_year": 2009}, {"n_metros": 10_000}]:
        with pytest.raises(OptionError):
            synthetic_panel(**bad)


# -- internal consistency --------------------------------------------------------------------


def test_flags_are_filled_consistently(synth):
    panel, _ = synth
    assert not panel["exports_missing"].any()
    assert (panel["exports_n_rows"] == 1).all()
    assert (panel["exports_boundary"] == "same").all()
    assert not panel["exports_boundary_break"].any()
    assert (panel["consulate_fill"] == "snapshot").all()


def test_regions_sum_to_active_ties(synth):
    panel, _ = synth
    regions = panel[[f"sister_active_{r}" for r in schema.REGIONS]].sum(axis=1)
    assert (regions == panel["sister_active"]).all()
    assert (panel["sister_any"] == (panel["sister_active"] > 0)).all()


def test_sister_counts_are_coherent_over_time(synth):
    panel, _ = synth
    g = panel.groupby("cbsa_code")
    assert g["sister_ever"].nunique().eq(1).all()
    assert (panel["sister_ever"] >= panel["sister_active"]).all()
    assert (panel["sister_new"] >= 0).all()
    change = g["sister_active"].diff().dropna()
    # active ties rise by at most the ties established that year (others may end)
    assert (change <= panel.loc[change.index, "sister_new"]).all()
    assert (change < panel.loc[change.index, "sister_new"]).any()  # some ties do end
    assert (panel["sister_new"] > 0).mean() > 0.2  # staggered accumulation


def test_networks_are_coherent(synth):
    panel, _ = synth
    flags = panel[[f"net_{c}" for c in schema.NETWORKS]]
    assert (flags.sum(axis=1) == panel["networks_dated"]).all()
    assert (flags.astype(int).groupby(panel["cbsa_code"]).diff().dropna() >= 0).all().all()
    assert panel.groupby("cbsa_code")["networks_ever"].nunique().eq(1).all()
    assert (panel["networks_ever"] >= panel["networks_dated"]).all()
    # joins are staggered: the count rises within some metros in many different years
    rises = panel.loc[panel.groupby("cbsa_code")["networks_dated"].diff() > 0, "year"]
    assert rises.nunique() >= 8


def test_consulates_are_coherent(synth):
    panel, _ = synth
    posts, general = panel["consular_posts"], panel["consulates_general"]
    assert (general <= posts).all() and (general >= 0).all()
    assert (posts == posts.round()).all() and (general == general.round()).all()
    changed = panel.groupby("cbsa_code")["consular_posts"].diff().dropna() != 0
    assert 0.05 < changed.mean() < 0.9  # occasional changes


def test_logs_ratios_and_deflation(synth):
    panel, _ = synth
    close = {"rtol": 1e-12, "atol": 0}
    np.testing.assert_allclose(panel["log_exports"], np.log(panel["exports_usd"]), **close)
    np.testing.assert_allclose(panel["log_population"], np.log(panel["population_persons"]), **close)
    np.testing.assert_allclose(panel["log_real_gdp"], np.log(panel["real_gdp_thousands_usd"]), **close)
    np.testing.assert_allclose(panel["log_per_capita_income"], np.log(panel["per_capita_income_usd"]), **close)
    np.testing.assert_allclose(panel["exports_per_capita_usd"],
                               panel["exports_usd"] / panel["population_persons"], **close)
    np.testing.assert_allclose(panel["per_capita_income_usd"],
                               panel["personal_income_thousands_usd"] * 1000 / panel["population_persons"], **close)
    deflate = panel["gdp_deflator"] / 100
    np.testing.assert_allclose(panel["exports_real_usd"], panel["exports_usd"] / deflate, **close)
    np.testing.assert_allclose(panel["real_gdp_thousands_usd"], panel["gdp_thousands_usd"] / deflate, **close)
    assert np.allclose(panel.loc[panel["year"] == 2017, "gdp_deflator"], 100.0)
    assert panel.groupby("year")["gdp_deflator"].nunique().eq(1).all()
    assert panel.groupby("year")["gdp_deflator"].first().is_monotonic_increasing
    assert (panel["population_persons"] == panel["population_persons"].round()).all()


def test_magnitudes_are_realistic(synth):
    panel, _ = synth
    assert panel["exports_usd"].between(1e8, 1e12).all()
    assert panel["exports_usd"].max() > 1e10  # the largest metros export tens of billions
    assert panel["population_persons"].between(2e5, 4e7).all()
    assert panel["per_capita_income_usd"].between(1.5e4, 2e5).all()
    gdp_per_capita = panel["gdp_thousands_usd"] * 1000 / panel["population_persons"]
    assert gdp_per_capita.between(1.5e4, 3e5).all()
    assert (panel["gdp_thousands_usd"] > panel["personal_income_thousands_usd"] * 0.7).all()


def test_rank_and_size_class_follow_rank_year_population(synth):
    panel, _ = synth
    metro = panel[panel["year"] == 2019].set_index("cbsa_code")
    assert sorted(metro["rank"]) == list(range(1, 101))
    assert (metro.sort_values("rank")["population_persons"].diff().dropna() <= 0).all()
    assert panel.groupby("cbsa_code")[["rank", "size_class"]].nunique().eq(1).all().all()
    counts = metro["size_class"].value_counts()
    assert set(counts.index) == {"small", "mid", "large"} and (counts - 100 / 3).abs().max() < 1
    pop = metro.groupby("size_class")["population_persons"]
    assert pop.max()["small"] < pop.min()["mid"] and pop.max()["mid"] < pop.min()["large"]


def test_rank_and_size_class_match_the_panel_sample_rule(synth):
    """The sample selection of the real build, run on the synthetic rank-year population,
    gives the same ranks and size classes."""
    from citydip.panel import sample
    from citydip.panel.options import PanelOptions

    panel, _ = synth
    metro = panel[panel["year"] == 2019]
    income = pd.DataFrame({"geo_level": "msa", "year": 2019, "geo_fips": metro["cbsa_code"].to_numpy(),
                           "geo_name": metro["cbsa_title"].to_numpy(),
                           "population_persons": metro["population_persons"].to_numpy()})
    selected, _ = sample.select(income, PanelOptions(top_n=len(metro)))
    def classes(frame):
        return {str(c): (int(r), str(k)) for c, r, k in zip(frame["cbsa_code"], frame["rank"], frame["size_class"])}

    assert classes(metro) == classes(selected)


def test_diplomacy_index_follows_the_schema_rule(synth):
    panel, _ = synth

    def z(s):
        s = s.astype(float)
        return (s - s.mean()) / s.std(ddof=0)

    expected = z(z(panel["sister_active"]) + z(panel["consular_posts"]) + z(panel["networks_dated"]))
    np.testing.assert_allclose(panel["diplomacy_index"], expected, rtol=1e-10, atol=1e-12)
    assert abs(panel["diplomacy_index"].mean()) < 1e-12
    assert abs(panel["diplomacy_index"].std(ddof=0) - 1) < 1e-12


def test_measures_are_correlated_with_size(synth):
    panel, _ = synth
    metro = panel.groupby("cbsa_code")[["log_population", "sister_active", "consular_posts", "networks_dated"]].mean()
    corr = metro.corr()["log_population"]
    assert corr["sister_active"] > 0.3 and corr["consular_posts"] > 0.3 and corr["networks_dated"] > 0.1


# -- recovery of the truth -------------------------------------------------------------------


def test_within_estimator_matches_dummy_regression(synth):
    panel, _ = synth
    beta, se = _twfe(panel, "log_exports", HEADLINE)
    fit = _ols(panel, "log_exports", HEADLINE, ["cbsa_code", "year"])
    np.testing.assert_allclose(beta, fit.params[HEADLINE], rtol=1e-7)
    np.testing.assert_allclose(se, fit.bse[HEADLINE], rtol=1e-7)


def test_two_way_fixed_effects_recover_the_truth(synth):
    """Statsmodels OLS with metro and year dummies: every estimate within 4 s.e. of the truth
    (the noise is iid normal with s.d. truth.noise_sd, so classical s.e. are valid)."""
    panel, truth = synth
    fit = _ols(panel, "log_exports", HEADLINE, ["cbsa_code", "year"])
    for col, true in truth.effects().items():
        assert abs(fit.params[col] - true) < 4 * fit.bse[col], (col, fit.params[col], fit.bse[col], true)
    # precise enough to tell the diplomacy effects from zero
    for col in ["sister_active", "consular_posts", "networks_dated"]:
        assert fit.params[col] / fit.bse[col] > 3, col
    # the residual s.d. estimates the noise s.d. (17 years, 100 metros: within 10 %)
    assert abs(np.sqrt(fit.scale) - truth.noise_sd) < 0.1 * truth.noise_sd


def test_pooled_ols_is_biased(synth):
    """Without metro effects the unobserved openness (which raises exports and ties) loads on
    the measures: pooled OLS overstates the sister-city effect by many standard errors."""
    panel, truth = synth
    pooled = _ols(panel, "log_exports", HEADLINE, [])
    est, se = pooled.params["sister_active"], pooled.bse["sister_active"]
    assert est - truth.beta_sister > 4 * se
    assert est > 2 * truth.beta_sister
    fe, _ = _twfe(panel, "log_exports", HEADLINE)
    assert abs(fe["sister_active"] - truth.beta_sister) < abs(est - truth.beta_sister) / 5


def test_size_heterogeneity_is_recovered():
    truth = SyntheticTruth(beta_sister_mid=0.02)
    panel, _ = synthetic_panel(seed=11, truth=truth)
    panel["sister_x_mid"] = panel["sister_active"] * (panel["size_class"] == "mid").astype("int64")
    xs = HEADLINE + ["sister_x_mid"]
    beta, se = _twfe(panel, "log_exports", xs)
    assert abs(beta["sister_active"] - truth.beta_sister) < 4 * se["sister_active"]
    assert abs(beta["sister_x_mid"] - truth.beta_sister_mid) < 4 * se["sister_x_mid"]
    assert beta["sister_x_mid"] / se["sister_x_mid"] > 3
    assert truth.sister_effect("mid") == pytest.approx(0.03) and truth.sister_effect("large") == 0.01
    # the default truth is homogeneous: the interaction is estimated near zero
    default, _ = synthetic_panel(seed=11)
    default["sister_x_mid"] = default["sister_active"] * (default["size_class"] == "mid").astype("int64")
    beta, se = _twfe(default, "log_exports", xs)
    assert abs(beta["sister_x_mid"]) < 4 * se["sister_x_mid"]


def test_first_network_join_event_study_recovers_the_step(synth):
    """Event study of the first network join (metros already members in the first year left
    out; event times binned at -4 and +4; -1 omitted), holding later joins fixed."""
    panel, truth = synth
    panel = panel.copy()
    first = panel[panel["networks_dated"] > 0].groupby("cbsa_code")["year"].min()
    panel["first_join"] = panel["cbsa_code"].map(first)
    panel = panel[panel["first_join"].isna() | (panel["first_join"] > 2005)].copy()
    k = np.clip(panel["year"].to_numpy(float) - panel["first_join"].to_numpy(float), -4, 4)  # NaN: never
    ks = [-4, -3, -2, 0, 1, 2, 3, 4]
    for e in ks:
        panel[f"ev_{e}"] = (k == e).astype(float)
    panel["later_joins"] = panel["networks_dated"].to_numpy() - (k >= 0)
    xs = [f"ev_{e}" for e in ks] + ["later_joins", "sister_active", "consular_posts",
                                   "log_population", "log_per_capita_income"]
    beta, se = _twfe(panel, "log_exports", xs)
    path = truth.first_network_event_path(ks)
    assert path[-2] == 0.0 and path[0] == truth.beta_network
    for e in ks:
        assert abs(beta[f"ev_{e}"] - path[e]) < 4 * se[f"ev_{e}"], (e, beta[f"ev_{e}"], se[f"ev_{e}"])
    assert abs(beta["later_joins"] - truth.beta_network) < 4 * se["later_joins"]


@pytest.mark.slow
def test_monte_carlo_two_way_fixed_effects_are_unbiased_with_valid_intervals(mc_reps):
    """50 seeds (``mc_reps``: fewer with CITYDIP_MC_REPS) x 100 metros x 17 years: the mean
    estimate lies within 3 Monte-Carlo s.e. of the truth, and nominal 95 % intervals cover the
    truth in at least 80 % of the seeds (4.6 binomial s.d. below 95 % for 50 draws; understated
    s.e. would fail it)."""
    seeds = range(1000, 1000 + mc_reps(50))
    truth = SyntheticTruth()
    est, cover = [], []
    for seed in seeds:
        panel, _ = synthetic_panel(seed=seed, truth=truth)
        beta, se = _twfe(panel, "log_exports", HEADLINE)
        est.append(beta)
        cover.append((beta - pd.Series(truth.effects())).abs() < 1.96 * se)
    est, cover = pd.DataFrame(est), pd.DataFrame(cover)
    mc_se = est.std(ddof=1) / np.sqrt(len(est))
    for col, true in truth.effects().items():
        assert abs(est[col].mean() - true) < 3 * mc_se[col], (col, est[col].mean(), mc_se[col], true)
        assert cover[col].mean() >= 0.8, (col, cover[col].mean())


def test_recorded_size_cutoffs_reproduce_the_size_classes():
    """The cut-offs written to provenance classify every metro's rank-year population as the panel does."""
    import numpy as np

    from citydip.panel.build import build_synthetic
    from citydip.panel.derive import size_classes

    result = build_synthetic()
    cuts = result.size_cutoffs
    year = result.panel[result.panel.year == result.options.rank_year]
    expected = size_classes(year.population_persons.to_numpy(),
                            np.array([cuts["small_below"], cuts["large_from"]]))
    assert (year.size_class.to_numpy() == expected).all()
    assert set(year.size_class) == {"small", "mid", "large"}
