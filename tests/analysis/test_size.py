"""Size-class tables, tests and verdict: the tests against statsmodels OLS with explicit metro
and year dummies and a cluster-robust covariance (fixest's small-sample factor); the verdict
on synthetic panels with and without a planted mid-size effect."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from citydip.analysis import size
from citydip.analysis.effects import estimation_sample
from citydip.errors import CitydipError
from citydip.estimation import fit
from citydip.estimation.catalogue import MEASURES, catalogue
from citydip.estimation.fitting import SIZE_CLASSES
from citydip.panel.synthetic import SyntheticTruth, synthetic_panel
from citydip.report.labels import term_label

PLANTED = 0.04


@pytest.fixture(scope="module")
def planted():
    """A synthetic panel with an extra effect of sister-city ties in mid-sized metros, and M5."""
    panel, truth = synthetic_panel(seed=11, truth=SyntheticTruth(beta_sister_mid=PLANTED))
    spec = next(s for s in catalogue() if s.name == size.M5)
    return panel, truth, fit(panel, spec)


def test_size_class_table_and_check_by_hand():
    pops = {"a": 100_000, "b": 250_000, "c": 400_000, "d": 900_000, "e": 2_000_000}
    classes = {"a": "small", "b": "small", "c": "mid", "d": "large", "e": "large"}
    panel = pd.DataFrame([{"cbsa_code": c, "year": y, "population_persons": p + (y - 2019), "size_class": classes[c]}
                          for c, p in pops.items() for y in (2018, 2019)])
    cut = {"small_below": 300_000, "large_from": 800_000}
    table = size.size_class_table(panel, 2019, cut).set_index("size_class")
    assert table.index.tolist() == list(SIZE_CLASSES)
    assert table.metros.tolist() == [2, 1, 2]
    assert table.loc["small", "population_median_k"] == pytest.approx(175.0)
    assert table.loc["large", "population_max_k"] == pytest.approx(2000.0)
    assert table.loc["mid", "rule"] == "300,000 to < 800,000" and table.loc["large", "rule"] == ">= 800,000"
    assert size.class_check_sentence(panel, 2019, cut).startswith("Check: 5 of 5 metros")
    wrong = panel.assign(size_class=panel.size_class.where(panel.cbsa_code != "c", "large"))
    sentence = size.class_check_sentence(wrong, 2019, cut)
    assert sentence.startswith("Check: 4 of 5 metros") and "do not match" in sentence


def test_class_variation_against_brute_force(planted):
    panel, _, _ = planted
    sample = estimation_sample(panel)
    table = size.class_variation(sample, MEASURES)
    assert table.measure.tolist() == [m for m in MEASURES for _ in SIZE_CLASSES]
    assert table.size_class.tolist() == list(SIZE_CLASSES) * len(MEASURES)
    for row in table.itertuples():
        part = sample[sample.size_class == row.size_class]
        spans = part.groupby("cbsa_code")[row.measure].agg(["min", "max"])
        assert row.metros == len(spans)
        assert row.metros_with_any == int((spans["max"] > 0).sum())
        assert row.metros_that_change == int((spans["max"] > spans["min"]).sum())


def test_refit_checks_the_stored_estimates(planted):
    panel, _, result = planted
    stored = result.tidy()
    again, gap = size.refit(panel, stored)
    assert gap < 1e-9 and list(again.coef.index) == list(result.coef.index)
    changed = stored.assign(estimate=np.where(stored.term == "sister_active_x_mid", stored.estimate + 1e-3,
                                              stored.estimate))
    with pytest.raises(CitydipError, match="differs"):
        size.refit(panel, changed)


def test_class_effects_by_hand(planted):
    panel, _, result = planted
    est = result.tidy()
    variation = size.class_variation(estimation_sample(panel))
    table = size.class_effects(est, variation)
    assert len(table) == 9
    row = table[(table.measure == term_label("networks_dated")) & (table.size_class == "large")].iloc[0]
    tidy = est.set_index("term").loc["networks_dated_x_large"]
    assert row.percent == pytest.approx(100 * np.expm1(tidy.estimate))
    assert row.percent_low == pytest.approx(100 * np.expm1(tidy.conf_low))
    counts = variation.set_index(["measure", "size_class"]).loc[("networks_dated", "large")]
    assert row.metros_that_change == counts.metros_that_change


def statsmodels_m5(result):
    """M5 refitted with statsmodels: explicit metro and year dummies, metro-clustered
    covariance rescaled to fixest's factor G/(G-1) (N-1)/(N-K), K = slopes + intercept + year
    dummies (the metro dummies are nested in the clusters)."""
    import statsmodels.api as sm

    data = result.data.copy()
    terms = list(result.coef.index)
    for m in MEASURES:
        for cls in SIZE_CLASSES:
            data[f"{m}_x_{cls}"] = data[m].to_numpy(float) * (data.size_class == cls).to_numpy(float)
    X = sm.add_constant(pd.concat([data[terms].astype(float),
                                   pd.get_dummies(data.cbsa_code, drop_first=True, dtype=float),
                                   pd.get_dummies(data.year, prefix="y", drop_first=True, dtype=float)], axis=1))
    groups = pd.factorize(data.cbsa_code)[0]
    ols = sm.OLS(data.log_exports.to_numpy(float), X).fit(
        cov_type="cluster", cov_kwds={"groups": groups, "use_correction": False})
    n, g = len(data), len(set(groups))
    k = len(terms) + data.year.nunique()
    V = ols.cov_params().loc[terms, terms] * g / (g - 1) * (n - 1) / (n - k)
    return ols.params[terms], V, g - 1


@pytest.mark.slow  # about 5 s: statsmodels with 100 metro dummies
def test_size_class_tests_against_statsmodels_dummies(planted):
    _, _, result = planted
    b, V, df = statsmodels_m5(result)
    np.testing.assert_allclose(b.to_numpy(), result.coef.to_numpy(), rtol=1e-7, atol=1e-10)
    tests = size.size_class_tests(result)
    assert list(tests.columns) == size.TEST_COLUMNS and len(tests) == 3 * len(MEASURES) + 1
    joint_rows = []
    for m in MEASURES:
        part = tests[tests.measure == term_label(m)].set_index("hypothesis")
        rows = []
        for other in ("small", "large"):
            r = pd.Series(0.0, index=b.index)
            r[f"{m}_x_mid"], r[f"{m}_x_{other}"] = 1.0, -1.0
            rows.append(r.to_numpy())
            diff, se = float(r @ b), float(np.sqrt(r @ V.to_numpy() @ r))
            row = part.loc[f"mid = {other}"]
            assert row.difference == pytest.approx(diff, rel=1e-7, abs=1e-10)
            assert row.std_error == pytest.approx(se, rel=1e-6)
            assert row.p_value == pytest.approx(2 * stats.t.sf(abs(diff / se), df), rel=1e-5, abs=1e-12)
            assert row.p_mid_larger == pytest.approx(stats.t.sf(diff / se, df), rel=1e-5, abs=1e-12)
        R = np.vstack(rows)
        joint_rows.append(R)
        Rb = R @ b.to_numpy()
        W = float(Rb @ np.linalg.solve(R @ V.to_numpy() @ R.T, Rb))
        row = part.loc["small = mid = large"]
        assert row.restrictions == 2 and row.wald_chi2 == pytest.approx(W, rel=1e-6)
        assert row.statistic == pytest.approx(W / 2, rel=1e-6)
        assert row.p_value == pytest.approx(stats.f.sf(W / 2, 2, df), rel=1e-5, abs=1e-12)
    R = np.vstack(joint_rows)
    Rb = R @ b.to_numpy()
    W = float(Rb @ np.linalg.solve(R @ V.to_numpy() @ R.T, Rb))
    last = tests.iloc[-1]
    assert last.restrictions == 6 and last.wald_chi2 == pytest.approx(W, rel=1e-6)
    assert last.p_value == pytest.approx(stats.f.sf(W / 6, 6, df), rel=1e-5, abs=1e-12)


def test_verdict_recovers_the_planted_mid_size_effect(planted):
    panel, truth, result = planted
    est = result.tidy()
    tests = size.size_class_tests(result)
    effects = size.class_effects(est, size.class_variation(estimation_sample(panel)))
    verdict = size.size_verdict(result, tests, effects, truth={"beta_sister_mid": truth.beta_sister_mid})
    table = verdict.table.set_index("measure")
    assert table.loc["sister_active", "largest"] == "mid"
    assert table.loc["sister_active", "mid_above_both"]
    assert table.loc["sister_active", "p_equal"] < 0.05
    # the estimated mid - small and mid - large differences are within 3 s.e. of the planted effect
    for other, key in (("small", "mid_minus_small"), ("large", "mid_minus_large")):
        c = result.contrast({"sister_active_x_mid": 1, f"sister_active_x_{other}": -1})
        assert verdict.synthetic[key] == pytest.approx(c.estimate)
        assert abs(c.estimate - PLANTED) < 3 * c.std_error
    # nothing was planted for the other measures: their differences are within 3 s.e. of zero
    for m in ("consular_posts", "networks_dated"):
        for other in ("small", "large"):
            c = result.contrast({f"{m}_x_mid": 1, f"{m}_x_{other}": -1})
            assert abs(c.estimate) < 3 * c.std_error, (m, other)
    k = int(table.mid_above_both.sum())
    assert k >= 1 and verdict.mid_above_both == k
    lines = verdict.sentences()
    answer = "yes, for every measure" if k == 3 else f"partly: for {k} of 3 measures"
    assert f"- Do the data support 'mid-sized metros benefit most'? {answer}." in lines
    assert lines[-1].startswith(f"- Synthetic check: the data were generated with an extra mid-size effect of "
                                f"sister-city ties of {PLANTED:.3f}")


def test_verdict_without_a_planted_effect(synthetic):
    panel, truth = synthetic
    assert truth["beta_sister_mid"] == 0
    result = fit(panel, next(s for s in catalogue() if s.name == size.M5))
    tests = size.size_class_tests(result)
    effects = size.class_effects(result.tidy(), size.class_variation(estimation_sample(panel)))
    verdict = size.size_verdict(result, tests, effects)
    assert verdict.mid_above_both == 0 and verdict.answer == "no"
    assert verdict.joint.p_value > 0.05  # the classes do not differ
    assert verdict.n_class_coefficients == 9 and len(verdict.notable) == int((effects.p_value < 0.05).sum())


def stub_verdict(p_small: list[float], p_large: list[float], mid_coef: list[float]) -> size.SizeVerdict:
    """A verdict from a hand-made test table: only the coefficients and one-sided p-values matter."""
    coef, rows = {}, []
    for m, ps, pl, c in zip(MEASURES, p_small, p_large, mid_coef):
        coef.update({f"{m}_x_small": 0.0, f"{m}_x_mid": c, f"{m}_x_large": 0.01})
        label = term_label(m)
        rows += [{"measure": label, "hypothesis": "mid = small", "restrictions": 1, "p_mid_larger": ps},
                 {"measure": label, "hypothesis": "mid = large", "restrictions": 1, "p_mid_larger": pl},
                 {"measure": label, "hypothesis": "small = mid = large", "restrictions": 2, "p_value": 0.5}]
    rows.append({"measure": "all three", "restrictions": 6, "statistic": 1.0, "p_value": 0.4})
    result = SimpleNamespace(coef=pd.Series(coef), df_t=99.0)
    effects = pd.DataFrame({"p_value": [0.5] * 9})
    return size.size_verdict(result, pd.DataFrame(rows), effects)


def test_verdict_answers_by_hand():
    assert stub_verdict([0.01] * 3, [0.02] * 3, [0.05] * 3).answer == "yes, for every measure"
    partly = stub_verdict([0.01, 0.2, 0.01], [0.02, 0.01, 0.3], [0.05, 0.05, -0.01])
    assert partly.answer == "partly: for 1 of 3 measures"
    assert partly.mid_largest == 2  # the third measure's mid coefficient is below the large one
    assert stub_verdict([0.5] * 3, [0.5] * 3, [-0.1] * 3).answer == "no"
    line = stub_verdict([0.5] * 3, [0.5] * 3, [-0.1] * 3).sentences()[len(MEASURES)]
    assert line == "- All measures jointly, equal coefficients across classes: F(6, 99) = 1.00, p = 0.400."
