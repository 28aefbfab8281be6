"""Specification curves: every estimate against pyfixest's feols (synthetic and real panels,
with missing values and singleton metros), recovery of a known effect, summaries, the
figure, the curve-level null test and degenerate inputs."""

from __future__ import annotations

import io
import warnings

import numpy as np
import pandas as pd
import pytest

from citydip.errors import CitydipError, OptionError
from citydip.estimation.speccurve import (
    NULL_METHODS,
    NULL_STATISTICS,
    Equals,
    _null_data,
    cluster_labels,
    concat_curves,
    null_draws,
    size_class_samples,
    spec_curve,
    summarise,
    t_to_z,
)
from citydip.estimation.speccurve_engine import FIXEF_TOL
from citydip.panel.synthetic import SyntheticTruth, synthetic_panel
from citydip.report.figures import palette_png
from citydip.report.speccurve_plot import plot_curve

SEED = 20250101
FE = {"metro + year": ["cbsa_code", "year"], "year": ["year"], "metro": ["cbsa_code"], "none": []}
FORMULA_FE = {"metro + year": "cbsa_code + year", "year": "year", "metro": "cbsa_code", "none": None}
PYFIXEST_VCOV = {"CRV1": {"CRV1": "cbsa_code"}, "hetero": "hetero", "iid": "iid"}
CONTROLS = [[], ["log_population"], ["log_population", "log_per_capita_income"],
            ["consular_posts", "log_population", "log_real_gdp"]]
TREATMENTS = ["sister_active", "consular_posts", "networks_dated", "diplomacy_index"]


def messy(panel: pd.DataFrame, seed: int = SEED) -> pd.DataFrame:
    """A copy with 6% of log_exports, consular_posts and log_population missing at random, and
    three metros observed with a non-missing outcome in one year only (singletons under metro
    effects)."""
    panel = panel.copy()
    rng = np.random.default_rng(seed)
    for column in ("log_exports", "consular_posts", "log_population"):
        panel.loc[rng.random(len(panel)) < 0.06, column] = np.nan
    for code in sorted(panel["cbsa_code"].unique())[:3]:
        rows = panel.index[panel["cbsa_code"] == code]
        panel.loc[rows[1:], "log_exports"] = np.nan
    return panel


def curve_of(panel, **kwargs):
    options = dict(outcomes=["log_exports", "exports_per_capita_usd"], treatments=TREATMENTS, controls=CONTROLS,
                   fixed_effects=FE, samples={"all": None, **size_class_samples()}, vcov=["CRV1", "hetero", "iid"])
    options.update(kwargs)
    return spec_curve(panel, **options)


def pick(results: pd.DataFrame, per_stratum: int, seed: int = SEED) -> pd.DataFrame:
    """A seeded sample of estimated specifications: ``per_stratum`` from each fixed-effect
    structure x estimator, plus six whose sample lost singleton metros."""
    rng = np.random.default_rng(seed)
    ok = results[np.isfinite(results["std_error"])]
    chosen = [g.iloc[rng.choice(len(g), min(per_stratum, len(g)), replace=False)]
              for _, g in ok.groupby(["fixed_effects", "vcov"], sort=True)]
    singles = ok[ok["note"].str.contains("singleton")]
    chosen.append(singles.iloc[rng.choice(len(singles), min(6, len(singles)), replace=False)])
    return pd.concat(chosen).drop_duplicates("spec_id").sort_values("spec_id")


def feols_of(curve, row, panel, **kwargs):
    import pyfixest as pf

    model = curve.design.models[row.spec_id // len(curve.design.settings.vcov)]
    fe = FORMULA_FE[row.fixed_effects]
    formula = f"{row.outcome} ~ {' + '.join([row.treatment, *model.controls])}" + (f" | {fe}" if fe else "")
    data = panel if row.sample == "all" else panel[panel["size_class"] == row.sample]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return pf.feols(formula, data=data, vcov=PYFIXEST_VCOV[row.vcov], **kwargs)


def compare(curve, chosen, panel, coef_tol=1e-10, se_tol=1e-8, inference_tol=1e-6, **kwargs) -> dict:
    """Assert every chosen specification equals pyfixest's and return the worst gaps. Without
    fixed effects the coefficient gap is scaled by max(|b|, se): pyfixest solves the raw normal
    equations, whose own error on a small slope beside a large intercept can exceed 1e-10 of
    the slope (the curve partials the intercept out and agrees with a QR solve, see
    test_no_fixed_effects_agree_with_a_qr_solve)."""
    worst = {"coef": 0.0, "se": 0.0}
    for row in chosen.itertuples(index=False):
        fit = feols_of(curve, row, panel, **kwargs)
        tidy = fit.tidy().loc[row.treatment]
        b, se = float(tidy["Estimate"]), float(tidy["Std. Error"])
        scale = abs(b) if row.fixed_effects != "none" else max(abs(b), se)
        gap_b, gap_se = abs(row.coefficient - b) / scale, abs(row.std_error - se) / se
        where = f"{row.outcome} ~ {row.treatment} [{row.controls}] | {row.fixed_effects}, {row.sample}, {row.vcov}"
        assert gap_b <= coef_tol, (where, row.coefficient, b)
        assert gap_se <= se_tol, (where, row.std_error, se)
        assert row.nobs == fit._N, where
        assert row.df_t == pytest.approx(float(fit._df_t), rel=1e-12), where
        assert row.p_value == pytest.approx(float(tidy["Pr(>|t|)"]), rel=inference_tol, abs=1e-12), where
        half = se * 3 * (se_tol + 1e-12)  # the interval moves with the standard error
        assert abs(row.conf_low - float(tidy["2.5%"])) <= half + abs(b) * coef_tol, where
        assert abs(row.conf_high - float(tidy["97.5%"])) <= half + abs(b) * coef_tol, where
        if row.vcov == "CRV1":
            assert row.n_clusters == fit._G[0], where
        worst = {"coef": max(worst["coef"], gap_b), "se": max(worst["se"], gap_se)}
    return worst


@pytest.fixture(scope="module")
def synth():
    return synthetic_panel(seed=SEED, n_metros=80)


@pytest.fixture(scope="module")
def messy_synth(synth):
    return messy(synth[0])


@pytest.fixture(scope="module")
def messy_curve(messy_synth):
    return curve_of(messy_synth)


# -- exactness against pyfixest ----------------------------------------------------------------------
@pytest.mark.slow
def test_every_estimate_equals_feols_on_a_synthetic_panel_with_gaps_and_singletons(messy_curve, messy_synth):
    import pyfixest as pf

    res = messy_curve.results
    assert len(res) == 2 * 4 * 4 * 4 * 4 * 3
    chosen = pick(res, per_stratum=4)
    assert len(chosen) >= 40
    # the sample exercises what it should: listwise deletion, singletons, every FE and estimator
    full = {"all": len(messy_synth), **messy_synth["size_class"].value_counts().to_dict()}
    assert (chosen["nobs"] < chosen["sample"].map(full)).sum() >= 20
    assert chosen["note"].str.contains("singleton").sum() >= 6
    assert set(chosen["fixed_effects"]) == set(FE) and set(chosen["vcov"]) == {"CRV1", "hetero", "iid"}
    compare(messy_curve, chosen, messy_synth, demeaner=pf.MapDemeaner(fixef_tol=FIXEF_TOL))


def test_singletons_kept_as_feols_keeps_them(messy_synth):
    import pyfixest as pf

    curve = curve_of(messy_synth, fixef_rm="none", outcomes=["log_exports"], samples={"all": None})
    res = curve.results
    assert not res["note"].str.contains("singleton").any()
    chosen = pick(res, per_stratum=2)
    assert len(chosen) >= 20
    compare(curve, chosen, messy_synth, fixef_rm="none", demeaner=pf.MapDemeaner(fixef_tol=FIXEF_TOL))
    # the three singleton metros stay in the sample: three more clusters than when dropped
    dropped = curve_of(messy_synth, outcomes=["log_exports"], samples={"all": None}).results
    twfe = ((res["fixed_effects"] == "metro + year") & (res["vcov"] == "CRV1") & (res["controls"] == "none")
            & (res["treatment"] == "sister_active"))
    assert twfe.sum() == 1
    assert res.loc[twfe, "n_clusters"].item() == dropped.loc[twfe, "n_clusters"].item() + 3
    assert res.loc[twfe, "nobs"].item() == dropped.loc[twfe, "nobs"].item() + 3


def test_estimates_equal_feols_with_its_default_tolerance(messy_curve, messy_synth):
    """Against feols with every default (demeaning tolerance 1e-6): coefficients still agree to
    1e-10 (a demeaning error in the span of the fixed effects moves them only at second order);
    standard errors to pyfixest's own demeaning error, here under 1e-6."""
    chosen = pick(messy_curve.results, per_stratum=2, seed=SEED + 1)
    worst = compare(messy_curve, chosen, messy_synth, se_tol=1e-6, inference_tol=1e-3)
    assert worst["coef"] <= 1e-10


def test_no_fixed_effects_agree_with_a_qr_solve(synth):
    panel = messy(synth[0])
    curve = spec_curve(panel, outcomes="log_exports", treatments=TREATMENTS, controls=CONTROLS,
                       fixed_effects={"none": []}, vcov="iid")
    for row in curve.results.itertuples():
        x = [row.treatment, *curve.design.models[row.spec_id].controls]
        data = panel[["log_exports", *x]].dropna()
        design = np.column_stack([np.ones(len(data)), data[x].to_numpy(float)])
        beta = np.linalg.lstsq(design, data["log_exports"].to_numpy(), rcond=None)[0]
        assert row.coefficient == pytest.approx(beta[1], rel=1e-11)


def test_dollar_levels_are_demeaned_to_the_same_relative_precision(messy_synth):
    """The demeaning tolerance is relative to each column's magnitude: export levels in
    dollars (about 1e9, where pyfixest's absolute tolerance stalls) give the estimates of the
    same outcome in billions, scaled."""
    panel = messy_synth.copy()
    panel["exports_bn"] = panel["exports_usd"] / 1e9
    res = spec_curve(panel, outcomes=["exports_usd", "exports_bn"], treatments=TREATMENTS, controls=CONTROLS,
                     fixed_effects={"metro + year": ["cbsa_code", "year"]}, vcov=["CRV1", "iid"]).results
    dollars, billions = res[res["outcome"] == "exports_usd"], res[res["outcome"] == "exports_bn"]
    np.testing.assert_allclose(dollars["coefficient"].to_numpy(), 1e9 * billions["coefficient"].to_numpy(), rtol=1e-10)
    np.testing.assert_allclose(dollars["std_error"].to_numpy(), 1e9 * billions["std_error"].to_numpy(), rtol=1e-8)


@pytest.mark.slow
def test_real_panel_estimates_equal_feols(real_panel):
    import pyfixest as pf

    panel = messy(real_panel)
    curve = curve_of(panel, outcomes=["log_exports"],
                     treatments=["sister_active", "consular_posts", "consulates_general", "networks_dated",
                                 "diplomacy_index"])
    chosen = pick(curve.results, per_stratum=4, seed=SEED + 2)
    assert len(chosen) >= 40
    assert chosen["note"].str.contains("singleton").sum() >= 6
    compare(curve, chosen, panel, demeaner=pf.MapDemeaner(fixef_tol=FIXEF_TOL))


def test_real_panel_curve_is_plausible(real_panel):
    curve = curve_of(real_panel, outcomes=["log_exports"], vcov="CRV1")
    res = curve.results
    assert res["coefficient"].notna().all()
    twfe = res[(res["fixed_effects"] == "metro + year") & (res["sample"] == "all")]
    assert (twfe["n_clusters"] == 100).all() and (twfe["nobs"] >= 1690).all()
    assert (twfe["df_t"] == 99).all()


# -- what the curve says ---------------------------------------------------------------------------------
def test_the_correctly_specified_spec_covers_the_truth(synth):
    """The DGP's headline model (three measures, two controls, metro and year effects): the
    interval of each measure covers its true effect; pooled OLS with year effects does not
    cover the sister-city effect (the confounded specification)."""
    panel, truth = synth
    measures = ["sister_active", "consular_posts", "networks_dated"]
    controls = {"all": measures + ["log_population", "log_per_capita_income"]}
    curve = spec_curve(panel, outcomes="log_exports", treatments=measures, controls=controls,
                       fixed_effects={"metro + year": ["cbsa_code", "year"], "year": ["year"]}, vcov=["CRV1", "iid"])
    res = curve.results.set_index(["treatment", "fixed_effects", "vcov"])
    effects = {"sister_active": truth.beta_sister, "consular_posts": truth.beta_consulate,
               "networks_dated": truth.beta_network}
    for measure, beta in effects.items():
        for vcov in ("CRV1", "iid"):
            row = res.loc[(measure, "metro + year", vcov)]
            assert row.conf_low < beta < row.conf_high, (measure, vcov, row.conf_low, row.conf_high)
    pooled = res.loc[("sister_active", "year", "CRV1")]
    assert pooled.conf_low > truth.beta_sister
    assert "left out of the controls" in res.loc[("sister_active", "metro + year", "CRV1")].note


def test_summary_counts_and_shares(messy_curve):
    res = messy_curve.results
    summary = messy_curve.summary()
    est = res["coefficient"].dropna()
    sig = res["p_value"] < 0.05
    assert summary.loc[0, "n_specs"] == len(res)
    assert summary.loc[0, "n_estimated"] == len(est)
    assert summary.loc[0, "median_estimate"] == pytest.approx(est.median())
    assert summary.loc[0, "share_positive"] == pytest.approx((est > 0).mean())
    assert summary.loc[0, "share_significant"] == pytest.approx(sig.sum() / len(est))
    assert summary.loc[0, "share_significant_positive"] + summary.loc[0, "share_significant_negative"] == \
        pytest.approx(summary.loc[0, "share_significant"])
    by = messy_curve.summary(by=["treatment", "vcov"])
    assert by["n_specs"].sum() == len(res) and len(by) == 4 * 3
    assert list(by.index.get_level_values(0).unique()) == TREATMENTS
    strict = summarise(res, alpha=1e-300)
    assert strict.loc[0, "share_significant"] <= summary.loc[0, "share_significant"]


def test_results_are_deterministic_and_in_declared_order(messy_synth, messy_curve):
    again = curve_of(messy_synth)
    pd.testing.assert_frame_equal(again.results, messy_curve.results)
    res = messy_curve.results
    assert list(res["spec_id"]) == list(range(len(res)))
    assert list(res["vcov"].iloc[:3]) == ["CRV1", "hetero", "iid"]
    assert list(res["treatment"].unique()) == TREATMENTS


def test_data_variants_are_separate_data_sets(synth):
    panel = synth[0]
    variant = panel.copy()
    variant["log_exports"] = variant["log_exports"] + 0.5 * variant["sister_active"] / 100
    both = spec_curve({"base": panel, "shifted": variant}, outcomes="log_exports", treatments="sister_active",
                      fixed_effects=FE, vcov="CRV1").results
    alone = spec_curve(variant, outcomes="log_exports", treatments="sister_active", fixed_effects=FE,
                       vcov="CRV1").results
    shifted = both[both["data"] == "shifted"].reset_index(drop=True)
    np.testing.assert_array_equal(shifted["coefficient"].to_numpy(), alone["coefficient"].to_numpy())
    base = both[both["data"] == "base"].reset_index(drop=True)
    np.testing.assert_allclose(shifted["coefficient"] - base["coefficient"], 0.005, rtol=1e-9)


# -- figure ------------------------------------------------------------------------------------------
def test_plot_is_a_sorted_curve_with_one_indicator_row_per_option(messy_curve, tmp_path):
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = plot_curve(messy_curve, tmp_path / "curve.png")
    assert isinstance(fig, Figure) and isinstance(fig.canvas, FigureCanvasAgg)
    top, bottom = fig.axes
    options = messy_curve.options
    assert len(bottom.get_yticklabels()) == sum(len(o) for o in options.values() if len(o) > 1)
    assert bottom.get_yticklabels()[0].get_text() == "outcome: log_exports"
    points = top.collections[1].get_offsets()
    assert len(points) == messy_curve.results["coefficient"].notna().sum()
    assert (np.diff(np.asarray(points)[:, 1]) >= 0).all()
    png = (tmp_path / "curve.png").read_bytes()
    buffer = io.BytesIO()
    plot_curve(messy_curve).savefig(buffer, format="png", dpi=200, metadata={"Software": None})
    assert palette_png(buffer.getvalue()) == png  # saved as the report saves every figure


# -- curve-level inference -----------------------------------------------------------------------------------
NULL_FE = {"metro + year": ["cbsa_code", "year"], "year": ["year"], "metro": ["cbsa_code"], "none": []}


@pytest.fixture(scope="module")
def small_curve(synth):
    return spec_curve(synth[0], outcomes="log_exports", treatments=["sister_active", "networks_dated"],
                      controls=[[], ["log_population"]], fixed_effects={"metro + year": ["cbsa_code", "year"]},
                      vcov="CRV1")


def brute_force_draws(panel, curve, model_id, clusters, weights):
    """The wild cluster restricted bootstrap of one model of the curve, draw by draw, without
    the engine: the estimation sample is the one ``pyfixest.feols`` uses (listwise deletion,
    singletons), the restricted model (controls and fixed effects, no treatment) is fitted by
    ``numpy.linalg.lstsq`` on explicit dummies, and every draw's outcome (restricted fit plus
    the restricted residuals times the metro's sign) is refitted by ``feols``. Returns the
    draws' coefficients and their standard errors by estimator (CRV1, hetero, iid)."""
    import pyfixest as pf

    model = curve.design.models[model_id]
    row = curve.results.loc[model_id * len(curve.design.settings.vcov)]
    fe = FORMULA_FE[row.fixed_effects]
    formula = " + ".join([model.treatment, *model.controls]) + (f" | {fe}" if fe else "")
    data = panel if row["sample"] == "all" else panel[panel["size_class"] == row["sample"]]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        base = pf.feols(f"{model.outcome} ~ {formula}", data=data)
    rows = data.iloc[base._data.index].copy()  # feols's estimation rows, by position in its input
    np.testing.assert_array_equal(rows[model.outcome].to_numpy(), base._data[model.outcome].to_numpy())
    parts = [np.ones((len(rows), 1))] + [pd.get_dummies(rows[f], drop_first=True).to_numpy(float)
                                         for f in NULL_FE[row.fixed_effects]]
    restricted = np.column_stack(parts + [rows[list(model.controls)].to_numpy(float)])
    y = rows[model.outcome].to_numpy(float)
    fitted = restricted @ np.linalg.lstsq(restricted, y, rcond=None)[0]
    signs = weights[clusters.get_indexer(rows["cbsa_code"])]
    b, se = [], {v: [] for v in PYFIXEST_VCOV}
    for d in range(weights.shape[1]):
        rows["y_star"] = fitted + signs[:, d] * (y - fitted)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            fit = pf.feols(f"y_star ~ {formula}", data=rows, vcov=PYFIXEST_VCOV["CRV1"],
                           demeaner=pf.MapDemeaner(fixef_tol=FIXEF_TOL))
            b.append(float(fit.coef()[model.treatment]))
            for v, spec in PYFIXEST_VCOV.items():
                se[v].append(float(fit.vcov(spec).se()[model.treatment]))
    return np.array(b), {v: np.array(x) for v, x in se.items()}


@pytest.mark.parametrize("structures", [
    ("metro + year",), pytest.param(("metro + year", "year", "metro", "none"), marks=pytest.mark.slow)])
def test_wild_bootstrap_draws_equal_refits_by_feols(messy_synth, structures):
    """The draws of the matrix products equal a refit of each draw's outcome by feols,
    coefficients to 1e-8 (of max(|b|, se)) and standard errors to 1e-8, for the seeded signs
    and for signs given explicitly: two-way fixed effects with singletons dropped (fast), and
    (slow) every structure (two-way, year, metro, none) with and without controls, one on a
    size-class sample; CRV1, HC1 and iid; missing values throughout."""
    curve = spec_curve(messy_synth, outcomes="log_exports", treatments=["sister_active", "consular_posts"],
                       controls=[[], ["log_population", "log_per_capita_income"]],
                       fixed_effects={k: NULL_FE[k] for k in structures},
                       samples={"all": None, "mid": Equals("size_class", "mid")}, vcov=["CRV1", "hetero", "iid"])
    res = curve.results
    n_vcov = 3
    rng = np.random.default_rng(SEED)
    chosen = []  # one model per fixed-effect structure, the two-way one with singletons, the year one on "mid"
    for fe in structures:
        pool = res[(res.fixed_effects == fe) & (res.vcov == "CRV1") & res.std_error.notna()
                   & (res["sample"] == ("mid" if fe == "year" else "all")) & (res.controls != "none")]
        if fe == "metro + year":
            pool = pool[pool.note.str.contains("singleton")]
        chosen.append(int(pool.spec_id.iloc[rng.integers(len(pool))]) // n_vcov)
    if "metro" in structures:
        chosen.append(int(res[(res.fixed_effects == "metro") & (res.controls == "none")].spec_id.iloc[0]) // n_vcov)
    specs = [m * n_vcov + v for m in chosen for v in range(n_vcov)]
    seeded = null_draws(curve, draws=2, seed=11, specifications=specs)
    labels = cluster_labels(curve)
    explicit = rng.choice([-1.0, 1.0], size=(len(labels), 1))
    given = null_draws(curve, specifications=specs, weights=explicit)
    assert set(np.unique(seeded.weights)) == {-1.0, 1.0} and seeded.weights.shape == (len(labels), 2)
    for drawn in (seeded, given):
        for j, model_id in enumerate(chosen):
            b, se = brute_force_draws(messy_synth, curve, model_id, labels, drawn.weights)
            for v, vcov in enumerate(PYFIXEST_VCOV):
                k = j * n_vcov + v
                assert drawn.spec_id[k] == model_id * n_vcov + v
                where = res.loc[drawn.spec_id[k], ["fixed_effects", "controls", "sample", "vcov"]].to_dict()
                scale = np.maximum(np.abs(b), se[vcov]).max()
                assert np.abs(drawn.coefficient[k] - b).max() <= 1e-8 * scale, where
                np.testing.assert_allclose(drawn.std_error[k], se[vcov], rtol=1e-8, err_msg=str(where))


def test_unit_weights_give_back_the_observed_curve(messy_synth):
    """With every sign +1 a draw's outcome is the observed one: coefficients and standard
    errors are the curve's own."""
    curve = spec_curve(messy_synth, outcomes="log_exports", treatments=["sister_active", "networks_dated"],
                       controls=[[], ["log_population"], ["log_population", "log_per_capita_income"]],
                       fixed_effects=NULL_FE, vcov=["CRV1", "hetero", "iid"])
    drawn = null_draws(curve, weights=np.ones((len(cluster_labels(curve)), 1)))
    res = curve.results.loc[drawn.spec_id]
    np.testing.assert_allclose(drawn.coefficient[:, 0], res.coefficient, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(drawn.std_error[:, 0], res.std_error, rtol=1e-9)


def test_null_test_rejects_a_real_effect(small_curve):
    for method in NULL_METHODS:
        test = small_curve.null_test(draws=99, seed=7, method=method)
        s = test.summary()
        assert (s.group == "with year effects").all() and (s.direction == 1).all(), method
        assert s.loc["share_significant", "observed"] == 1.0
        # no draw reaches the observed median or z; the share (four specifications, all significant) is
        # coarse: a null draw has all four significant with a probability of a few per cent
        floor = s.drop(index="share_significant")
        assert np.allclose(floor.p_value, 1 / 100) and (floor.exceeded == 0).all(), method
        assert np.allclose(floor.monte_carlo_se, np.sqrt(1 / 100 * 99 / 100 / 99))
        assert s.loc["share_significant", "p_value"] <= 0.10, method


def test_null_test_does_not_reject_when_there_is_no_effect(synth):
    panel = synth[0].copy()
    rng = np.random.default_rng(3)
    panel["log_exports"] = rng.normal(size=len(panel))
    curve = spec_curve(panel, outcomes="log_exports", treatments=["sister_active", "networks_dated"],
                       controls=[[], ["log_population"]], fixed_effects={"metro + year": ["cbsa_code", "year"]})
    for method in NULL_METHODS:
        test = curve.null_test(draws=19, seed=11, method=method)
        # not the most extreme of the 20 (a true effect gives 1/20, as above)
        assert test.p_values.loc["with year effects", "median_estimate"] > 1 / 20 + 1e-12, method


@pytest.mark.slow
def test_null_p_values_are_uniform_under_a_true_null():
    """Synthetic panels with no association at all (zero effects of the measures, population
    and income; the metro effect independent of the measures), 60 seeds, 199 draws: with
    year effects (metro + year, year) the p-values of the median and of Stouffer's z are
    uniform (Kolmogorov-Smirnov) and every statistic rejects at 5% about as often as
    nominal. Without year effects the national trend meets trending stocks: metro-only and
    no-effects specifications find an association, which is why they are kept apart."""
    from scipy.stats import kstest

    truth = SyntheticTruth(beta_sister=0.0, beta_consulate=0.0, beta_network=0.0, beta_log_population=0.0,
                           beta_log_per_capita_income=0.0, openness_loading=0.0)
    p = {s: [] for s in NULL_STATISTICS}
    apart = {"metro only": [], "other, without year effects": []}
    for seed in range(60):
        panel, _ = synthetic_panel(seed=1000 + seed, n_metros=60, truth=truth)
        curve = spec_curve(panel, outcomes="log_exports", treatments=["sister_active", "consular_posts",
                                                                      "networks_dated"],
                           controls=[[], ["log_population"]], fixed_effects=NULL_FE, vcov="CRV1")
        test = curve.null_test(draws=199, seed=seed)
        assert list(test.groups.index) == ["with year effects", "metro only", "other, without year effects"]
        assert test.groups.specifications.tolist() == [12, 6, 6]
        for s in NULL_STATISTICS:
            p[s].append(test.p_values.loc["with year effects", s])
        for group, values in apart.items():
            values.append(test.p_values.loc[group, "median_estimate"])
    for s in NULL_STATISTICS:
        if s != "share_significant":  # the share is discrete: its p-value is 1 whenever no specification is significant
            assert kstest(p[s], "uniform").pvalue > 0.01, (s, sorted(p[s]))
        assert np.mean(np.array(p[s]) <= 0.05) <= 0.12, s
    assert np.mean(np.array(apart["metro only"]) <= 0.05) >= 0.5
    assert np.mean(np.array(apart["other, without year effects"]) <= 0.05) > 0.05


def test_permutation_moves_whole_treatment_paths_between_metros(small_curve, synth):
    panel = synth[0]
    design = small_curve.design
    frames, _, models = _null_data(design, design.models, "permutation", 5)
    new = frames["panel"]
    assert {m.treatment for m in models} == {"sister_active [permuted]", "networks_dated [permuted]"}
    for column in ("log_exports", "log_population", "cbsa_code", "year"):
        np.testing.assert_array_equal(new[column].to_numpy(), panel[column].to_numpy())
    paths = {x: panel.pivot(index="cbsa_code", columns="year", values=x) for x in ("sister_active", "networks_dated")}
    moved = {x: new.pivot(index="cbsa_code", columns="year", values=f"{x} [permuted]") for x in paths}
    # sister-tie paths are distinct across metros: each permuted path is one metro's whole path
    assert not paths["sister_active"].duplicated().any()
    lookup = {tuple(v): code for code, v in zip(paths["sister_active"].index, paths["sister_active"].to_numpy())}
    source = pd.Series([lookup[tuple(v)] for v in moved["sister_active"].to_numpy()], index=moved["sister_active"].index)
    assert source.is_unique and set(source) == set(paths["sister_active"].index)
    assert (source != source.index).mean() > 0.9
    # the same permutation moves every treatment
    np.testing.assert_array_equal(moved["networks_dated"].to_numpy(),
                                  paths["networks_dated"].loc[source.to_numpy()].to_numpy())
    test = small_curve.null_test(draws=9, seed=5, method="permutation")
    assert np.allclose(test.p_values.loc["with year effects"], 0.1)


def test_null_test_is_deterministic_given_the_seed(small_curve):
    from threadpoolctl import threadpool_limits

    test = small_curve.null_test(draws=49, seed=7)
    pd.testing.assert_frame_equal(test.null, small_curve.null_test(draws=49, seed=7).null)
    with threadpool_limits(limits=1):
        pd.testing.assert_frame_equal(test.null, small_curve.null_test(draws=49, seed=7).null)
    pd.testing.assert_frame_equal(test.summary(), small_curve.null_test(draws=49, seed=7).summary())
    assert not test.null.equals(small_curve.null_test(draws=49, seed=8).null)
    # more draws extend the same sequence of signs
    longer = small_curve.null_test(draws=99, seed=7)
    pd.testing.assert_frame_equal(longer.null.iloc[:49], test.null)
    assert small_curve.null_test(seed=7).draws == 999


def test_null_test_summary_and_groups(synth):
    """One row per statistic and group, metro-only specifications apart; the observed
    statistics recomputed with scipy's t and normal distributions, the p-values counted from
    the null draws, each in its own dominant direction."""
    from scipy.stats import norm
    from scipy.stats import t as student

    curve = spec_curve(synth[0], outcomes="log_exports", treatments=["sister_active", "networks_dated"],
                       controls=[[], ["log_population"]], fixed_effects={k: NULL_FE[k] for k in ("metro + year", "year",
                                                                                                  "metro")},
                       vcov="CRV1")
    test = curve.null_test(draws=19, seed=1)
    summary = test.summary()
    assert list(summary.index) == [*NULL_STATISTICS] * 2 and "stouffer_z" in summary.index
    assert list(summary.group.unique()) == ["with year effects", "metro only"]
    assert list(summary.columns) == ["group", "specifications", "direction", "observed", "null_median", "null_p95",
                                     "p_value", "monte_carlo_se", "exceeded"]
    res = curve.results
    for group, part in (("with year effects", res[res.fixed_effects != "metro"]),
                        ("metro only", res[res.fixed_effects == "metro"])):
        rows = summary[summary.group == group]
        b = part.coefficient.to_numpy()
        direction = 1 if np.median(b) >= 0 else -1
        t, df = part.t.to_numpy(), part.df_t.to_numpy()
        z = np.where(t > 0, norm.isf(student.sf(t, df)), norm.ppf(student.cdf(t, df)))  # each from its near tail
        expected = {"median_estimate": np.median(b),
                    "share_significant": np.mean((part.p_value < 0.05) & (np.sign(b) == direction)),
                    "stouffer_z": z.sum() / np.sqrt(len(part))}
        assert (rows.specifications == len(part)).all() and (rows.direction == direction).all()
        null = test.null[group]
        own = np.where(null.median_estimate >= 0, 1, -1)  # each draw's own dominant direction
        tested = {"median_estimate": (abs(expected["median_estimate"]), null.median_estimate.abs()),
                  "share_significant": (expected["share_significant"], null.share_significant),
                  "stouffer_z": (direction * expected["stouffer_z"], own * null.stouffer_z)}
        for s, value in expected.items():
            assert rows.loc[s, "observed"] == pytest.approx(value, rel=1e-9), (group, s)
            observed, drawn = tested[s]
            exceeded = int((drawn >= observed - 1e-12).sum())
            assert rows.loc[s, "exceeded"] == exceeded
            assert rows.loc[s, "p_value"] == pytest.approx((1 + exceeded) / 20)
            assert rows.loc[s, "null_median"] == pytest.approx(np.median(null[s]))
            assert rows.loc[s, "null_p95"] == pytest.approx((1 if s == "share_significant" else direction)
                                                            * np.quantile(drawn, 0.95))
    single = test.group("metro only").summary()
    assert list(single.index) == list(NULL_STATISTICS) and (single.group == "metro only").all()
    custom = curve.null_test(draws=19, seed=1, groups={"two-way": "fixed_effects == 'metro + year'",
                                                       "ties": lambda r: r.treatment == "sister_active"})
    assert list(custom.groups.index) == ["two-way", "ties"]
    assert custom.groups.loc["two-way", "specifications"] == int((res.fixed_effects == "metro + year").sum())
    pd.testing.assert_frame_equal(custom.observed.loc[["two-way"]],
                                  curve.null_test(draws=19, seed=1, groups={
                                      "two-way": res.fixed_effects.eq("metro + year").to_numpy()}).observed)


def test_concatenated_curves_share_the_draws(synth):
    panel = synth[0]
    shared = dict(outcomes="log_exports", fixed_effects=NULL_FE, vcov="CRV1")
    ties = spec_curve(panel, treatments="sister_active", controls=[[], ["log_population"]], **shared)
    networks = spec_curve(panel, treatments="networks_dated", controls={"income": ["log_per_capita_income"]}, **shared)
    both = concat_curves([ties, networks])
    pd.testing.assert_frame_equal(both.results.drop(columns="spec_id"),
                                  pd.concat([ties.results, networks.results], ignore_index=True).drop(columns="spec_id"))
    assert both.options["controls"] == ["none", "log_population", "income"]
    alone = null_draws(networks, draws=5, seed=3)
    joint = null_draws(both, draws=5, seed=3)
    np.testing.assert_allclose(joint.coefficient[len(ties.results):], alone.coefficient, rtol=1e-10)
    np.testing.assert_allclose(joint.std_error[len(ties.results):], alone.std_error, rtol=1e-10)
    with pytest.raises(OptionError, match="settings"):
        concat_curves([ties, spec_curve(panel, treatments="sister_active", **{**shared, "vcov": "iid"})])


def test_t_to_z_against_scipy():
    """Stouffer's terms: the interpolated map from t(df) to the standard normal against
    scipy's distribution functions, each tail from its own side, to 1e-10."""
    from scipy.stats import norm
    from scipy.stats import t as student

    rng = np.random.default_rng(SEED)
    for df in (1.0, 4.0, 32.0, 99.0, 1600.0):
        t = np.r_[3 * rng.standard_t(df, 30_000), np.linspace(-40, 40, 4001), 0.0]
        expected = np.where(t > 0, norm.isf(student.sf(t, df)), norm.ppf(student.cdf(t, df)))
        assert np.abs(t_to_z(t, df) - expected).max() < 1e-10, df
        assert np.abs(t_to_z(t[:100], df) - expected[:100]).max() < 1e-12, df  # few values: exact
    assert np.isnan(t_to_z(np.full(30_000, np.nan), 5.0)).all()


def test_null_test_options_are_checked(small_curve):
    with pytest.raises(OptionError, match="method"):
        small_curve.null_test(draws=5, method="jackknife")
    with pytest.raises(OptionError, match="draws"):
        small_curve.null_test(draws=0)
    with pytest.raises(OptionError, match="group 'bad'"):
        small_curve.null_test(draws=5, groups={"bad": "no_such == 1"})
    with pytest.raises(CitydipError, match="no group"):
        small_curve.null_test(draws=5, groups={"empty": "fixed_effects == 'none'"})


# -- degenerate inputs ---------------------------------------------------------------------------------
def test_unknown_columns_and_empty_choice_sets_are_clear_errors(synth):
    panel = synth[0]
    with pytest.raises(CitydipError, match="'sister_actve' \\(did you mean 'sister_active'\\?\\)"):
        spec_curve(panel, outcomes="log_exports", treatments="sister_actve")
    with pytest.raises(OptionError, match="treatments: the choice set is empty"):
        spec_curve(panel, outcomes="log_exports", treatments=[])
    with pytest.raises(OptionError, match="controls: the choice set is empty"):
        spec_curve(panel, outcomes="log_exports", treatments="sister_active", controls={})
    with pytest.raises(OptionError, match="vcov"):
        spec_curve(panel, outcomes="log_exports", treatments="sister_active", vcov="HC3")
    with pytest.raises(OptionError, match="both an outcome and a treatment"):
        spec_curve(panel, outcomes="log_exports", treatments=["log_exports"])
    with pytest.raises(OptionError, match="sample 'bad'"):
        spec_curve(panel, outcomes="log_exports", treatments="sister_active", samples={"bad": "no_such > 1"})
    with pytest.raises(CitydipError, match="not numeric"):
        spec_curve(panel, outcomes="log_exports", treatments="size_class")


def test_a_treatment_without_within_variation_is_reported_not_fitted(synth):
    panel = synth[0]
    res = spec_curve(panel, outcomes="log_exports", treatments=["sister_ever", "sister_active"],
                     fixed_effects=FE, vcov=["CRV1", "iid"]).results
    absorbed = res[(res["treatment"] == "sister_ever") & res["fixed_effects"].isin(["metro + year", "metro"])]
    assert absorbed["coefficient"].isna().all() and absorbed["std_error"].isna().all()
    assert absorbed["note"].str.contains("no variation left").all()
    fitted = res[~res.index.isin(absorbed.index)]
    assert fitted["coefficient"].notna().all() and fitted["std_error"].notna().all()


def test_empty_sample_and_single_cluster_variation(synth):
    panel = synth[0].copy()
    code = sorted(panel["cbsa_code"].unique())[0]
    panel["one_metro"] = ((panel["cbsa_code"] == code) & (panel["year"] >= 2013)).astype(float)
    res = spec_curve(panel, outcomes="log_exports", treatments=["one_metro", "sister_active"],
                     fixed_effects={"metro": ["cbsa_code"]},
                     samples={"all": None, "none": "year > 3000"}, vcov=["CRV1", "hetero"]).results
    empty = res[res["sample"] == "none"]
    assert empty["coefficient"].isna().all() and (empty["nobs"] == 0).all()
    assert empty["note"].str.contains("no observations").all()
    single = res[(res["treatment"] == "one_metro") & (res["sample"] == "all")].set_index("vcov")
    assert np.isfinite(single.loc["CRV1", "coefficient"]) and np.isnan(single.loc["CRV1", "std_error"])
    assert "single cluster" in single.loc["CRV1", "note"]
    assert np.isfinite(single.loc["hetero", "std_error"]) and single.loc["hetero", "note"] == ""
