"""Percent effects, benchmark comparisons and inference summaries against hand computations;
the M3 coefficients of the synthetic panel against its true effects."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from citydip.analysis import effects as fx
from citydip.analysis.variation import within_variation
from citydip.estimation.catalogue import CONTROLS, MEASURES
from citydip.report.labels import term_label


def tidy(model: str, coefs: dict[str, float], se: float = 0.01, nobs: int = 1000) -> list[dict]:
    rows = []
    for term, b in coefs.items():
        t = b / se
        rows.append({"model": model, "term": term, "estimate": b, "std_error": se, "statistic": t,
                     "p_value": 2 * stats.norm.sf(abs(t)), "conf_low": b - 1.96 * se, "conf_high": b + 1.96 * se,
                     "nobs": nobs})
    return rows


def fake_estimates() -> pd.DataFrame:
    """Every model of notebook 03, with chosen coefficients (log points)."""
    controls = {c: 0.5 for c in CONTROLS}
    rows = []
    rows += tidy(fx.MODELS["M1"], {"sister_active": 0.02, "consular_posts": 0.08, "networks_dated": 0.01,
                                   **controls, "const": 3.0}, se=0.02, nobs=100)
    rows += tidy(fx.MODELS["M2"], {"sister_active": 0.03, "consular_posts": 0.05, "networks_dated": -0.02, **controls})
    for name in fx.INFERENCE.values():
        se = 0.02 if "Driscoll" in name else 0.03
        rows += tidy(name, {"sister_active": -0.01, "consular_posts": 0.04, "networks_dated": -0.03, **controls}, se=se)
    rows += tidy(fx.MODELS["M3-CG"], {"sister_active": -0.01, "consulates_general": 0.002, "networks_dated": -0.03,
                                      **controls})
    rows += tidy(fx.MODELS["M4"], {"sister_active": 0.0, "consular_posts": 0.01, "networks_dated": -0.05, **controls})
    rows += tidy(fx.MODELS["M6"], {f"{m}_lag1": b for m, b in zip(MEASURES, (0.004, 0.02, -0.01))} | controls)
    return pd.DataFrame(rows)


def test_percent_and_p_format():
    assert fx.percent(math.log(1.25)) == pytest.approx(25.0)
    np.testing.assert_allclose(fx.percent(np.array([0.0, -math.log(2)])), [0.0, -50.0], atol=1e-12)
    assert fx.format_p(0.0004) == "< 0.001" and fx.format_p(0.0456) == "= 0.046"


def test_measure_of_maps_derived_terms():
    assert fx.measure_of("consulates_general") == "consular_posts"
    assert fx.measure_of("networks_dated_lag1") == "networks_dated"
    assert fx.measure_of("sister_active_x_mid") == "sister_active"


def test_percent_effects_by_hand():
    est = fake_estimates()
    effects = fx.percent_effects(est)
    assert list(effects.columns) == fx.EFFECT_COLUMNS
    # three diplomacy terms per model, controls and constants left out
    assert effects.groupby("model").size().to_dict() == {k: 3 for k in fx.MODELS}
    row = effects[(effects.model == "M1") & (effects.term == "consular_posts")].iloc[0]
    assert row.percent == pytest.approx(100 * (math.exp(0.08) - 1))
    assert row.percent_low == pytest.approx(100 * (math.exp(0.08 - 1.96 * 0.02) - 1))
    assert row.percent_high == pytest.approx(100 * (math.exp(0.08 + 1.96 * 0.02) - 1))
    assert row.t == pytest.approx(4.0) and row.nobs == 100
    cg = effects[effects.model == "M3-CG"].set_index("term").loc["consulates_general"]
    assert cg.measure == term_label("consular_posts")  # consulates general stand for the consulate measure
    lag = effects[effects.model == "M6"].set_index("term").loc["networks_dated_lag1"]
    assert lag.measure == term_label("networks_dated")
    with pytest.raises(Exception, match="missing"):
        fx.percent_effects(est[est.model != fx.MODELS["M4"]])


def test_benchmark_ranks_signs_and_summary_by_hand():
    est = fake_estimates()
    effects = fx.percent_effects(est)
    bench = fx.benchmark_comparison(effects)
    assert list(bench.columns) == fx.BENCHMARK_COLUMNS and set(bench.model) == set(fx.BENCHMARK_MODELS)
    for key, part in bench.groupby("model"):
        expected = stats.rankdata(-part.t.to_numpy())  # 1 = largest signed t
        np.testing.assert_array_equal(part.rank_by_t.to_numpy(), expected.astype(int))
        np.testing.assert_array_equal(part.positive_p05, (part.estimate > 0) & (part.p_value < 0.05))
    m2 = bench[bench.model == "M2"].set_index("measure")
    assert m2.loc[term_label("consular_posts"), "rank_by_t"] == 1
    assert m2.loc[term_label("networks_dated"), "rank_by_t"] == 3

    inference = fx.inference_robustness(est)
    variation = pd.DataFrame({"measure": ["X"], "metros": [100], "metros_that_change": [16]})
    summary = fx.fixed_effects_summary(effects, inference, variation)
    signs = summary.signs.set_index("model")
    # M2: sister +0.03 (t 3), posts +0.05 (t 5), networks -0.02: 2 positive, both with p < 0.05
    assert signs.loc["M2", ["positive", "positive_p05", "largest_t"]].tolist() == [2, 2, "consular_posts"]
    # M4: sister exactly 0 is not positive; posts +0.01 (t 1) not significant
    assert signs.loc["M4", ["positive", "positive_p05"]].tolist() == [1, 0]
    assert signs.as_anchor.all()  # consular posts have the largest t everywhere here
    rose = summary.rose.set_index("model")
    # M1: +8.3% inside 6-10; M2: +5.1% below, interval overlaps; M3: +4.1%, interval to +10.2%: overlaps
    assert rose.loc["M1", "position"] == "inside" and rose.loc["M2", "position"] == "below"
    assert rose.loc["M2", "overlaps"] and rose.loc["M3", "overlaps"]
    pw = summary.pooled_within.set_index("measure")
    assert pw.loc["sister_active", "change"] == "changes sign"        # +0.03 -> -0.01
    assert pw.loc["consular_posts", "change"] == "shrinks"            # 0.05 -> 0.04
    assert pw.loc["networks_dated", "change"] == "grows"              # -0.02 -> -0.03
    # M3 consular posts 0.04: t = 1.33 with se 0.03 (three kinds), t = 2 with se 0.02 (Driscoll-Kraay)
    assert pw.loc["consular_posts", ["significant_inferences", "inferences"]].tolist() == [1, 4]
    lines = summary.sentences()
    assert "- One more consulate general (M3-CG): +0.2% (p = 0.841)." in lines
    assert lines[-1] == "- Metros whose measure changes during the sample (what the within-metro coefficients " \
                        "rest on): X 16 of 100."


def test_inference_robustness_and_sentences_by_hand():
    est = fake_estimates()
    table = fx.inference_robustness(est)
    assert len(table) == len(MEASURES) * len(fx.INFERENCE)
    dk = table[(table.inference == "Driscoll-Kraay") & (table.measure == term_label("consular_posts"))].iloc[0]
    assert dk.std_error == 0.02 and dk.t == pytest.approx(2.0)
    sample = pd.DataFrame({"cbsa_code": np.repeat(list("abc"), 17), "year": np.tile(range(2005, 2022), 3)})
    lines = fx.inference_sentences(table, sample)
    # floor(4 (17/100)^(2/9)) = 2
    assert lines[1] == "Driscoll-Kraay: 17 years, Bartlett lag window 2 years; clusters: 3 metros, 17 years"
    assert f"- Driscoll-Kraay: p < 0.05 for {term_label('consular_posts')}" in lines  # t = 2; networks t = -1.5
    assert "- metro cluster: p < 0.05 for no measure" in lines


def test_estimation_sample_and_identifying_variation(synthetic):
    panel, _ = synthetic
    holes = panel.copy()
    holes.loc[holes.index[:5], "log_exports"] = np.nan
    sample = fx.estimation_sample(holes)
    assert len(sample) == len(panel) - 5 and not sample[["log_exports", *MEASURES, *CONTROLS]].isna().any().any()
    table = fx.identifying_variation(sample)
    expected = within_variation(sample, [*MEASURES, "consulates_general"])
    assert table.measure.tolist() == [term_label(m) for m in [*MEASURES, "consulates_general"]]
    pd.testing.assert_frame_equal(table.drop(columns="measure"), expected.drop(columns="measure"))
    # brute force for one count
    changing = sum(g.consular_posts.max() > g.consular_posts.min() for _, g in sample.groupby("cbsa_code"))
    assert table.set_index("measure").loc[term_label("consular_posts"), "metros_that_change"] == changing


def test_synthetic_m3_recovers_the_true_effects(synthetic):
    from citydip.estimation import fit
    from citydip.estimation.catalogue import catalogue

    panel, truth = synthetic
    inference = {k: v for k, v in fx.INFERENCE.items() if "wild" not in k}  # the bootstrap is slow
    names = {*fx.MODELS.values(), *inference.values()}
    est = pd.concat([fit(panel, s).tidy() for s in catalogue() if s.name in names], ignore_index=True)
    effects = fx.percent_effects(est)
    table = fx.inference_robustness(est, inference)
    variation = fx.identifying_variation(fx.estimation_sample(panel))
    summary = fx.fixed_effects_summary(effects, table, variation, truth=truth)
    truths = summary.synthetic.set_index("measure")
    m3 = est[est.model == fx.MODELS["M3"]].set_index("term")
    for m, key in fx.SYNTHETIC_TRUTH.items():
        assert truths.loc[m, "true"] == truth[key] and truths.loc[m, "estimate"] == m3.loc[m, "estimate"]
        # the two-way FE estimate is within three standard errors of the planted effect
        assert abs(m3.loc[m, "estimate"] - truth[key]) < 3 * m3.loc[m, "std_error"], m
    # sister-city ties rise with the unobserved openness that also raises exports: the pooled
    # model overstates their effect, the metro effects bring it down
    pw = summary.pooled_within.set_index("measure")
    assert pw.loc["sister_active", "change"] == "shrinks"
    assert pw.loc["sister_active", "pooled_percent"] > fx.percent(truth["beta_sister"]) + 2
    assert summary.sentences()[-1].startswith("- Synthetic check, true coefficient vs M3 estimate: ")
