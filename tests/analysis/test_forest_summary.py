"""Summaries of the forest analyses against hand computations, a numpy cross-validation, the
random forest fitted on the synthetic panel, and interaction forests fitted on it (few trees and
seeds; their agreement with R is tested in tests/estimation/test_interaction_forest.py)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from citydip.analysis import forest_summary as fs
from citydip.report.labels import term_label

FEATURES = ["sister_active", "consulates_general", "networks_dated", "log_population", "log_per_capita_income"]


def cross_section(n: int = 80, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame({"log_population": rng.normal(14, 1, n), "log_per_capita_income": rng.normal(11, 0.2, n),
                          "sister_active": rng.poisson(5, n).astype(float), "consulates_general": rng.poisson(2, n),
                          "networks_dated": rng.poisson(1, n).astype(float)})
    frame["log_exports"] = 1.2 * frame.log_population + 0.05 * frame.sister_active + rng.normal(0, 0.5, n)
    return frame


def test_linear_cv_r2_against_numpy_folds():
    from sklearn.model_selection import KFold

    data = cross_section()
    y = data.log_exports.to_numpy()
    for columns in (["log_population"], FEATURES):
        prediction = np.empty(len(y))
        for train, test in KFold(5, shuffle=True, random_state=7).split(data):
            X = np.column_stack([np.ones(len(data)), data[columns].to_numpy(float)])
            beta = np.linalg.lstsq(X[train], y[train], rcond=None)[0]
            prediction[test] = X[test] @ beta
        r2 = 1 - np.sum((y - prediction) ** 2) / np.sum((y - y.mean()) ** 2)
        assert fs.linear_cv_r2(data, "log_exports", columns, seed=7) == pytest.approx(r2, rel=1e-10)


def test_fit_table_rows():
    data = cross_section()
    summary = pd.Series({"model": "random_forest", "seed": 7, "r2_cv": 0.5, "r2_oob": "nan"})
    fit = fs.fit_table(summary, data, "log_exports", FEATURES)
    assert fit.model.tolist()[:2] == ["random_forest, cross-validated", "random_forest, out-of-bag"]
    assert fit.r2.iloc[0] == 0.5 and np.isnan(fit.r2.iloc[1])
    assert fit.r2.iloc[2] == pytest.approx(fs.linear_cv_r2(data, "log_exports", ["log_population"], 7))


def stored_importance() -> pd.DataFrame:
    return pd.DataFrame({"feature": ["log_population", "consulates_general", "sister_active", "networks_dated",
                                     "log_per_capita_income"],
                         "mean": [0.40, 0.05, 0.05, 0.01, 0.02], "sd": [0.1, 0.02, 0.03, 0.02, 0.01],
                         "rank": [1, 2, 2, 5, 4], "diplomacy": [False, True, True, True, False]})


def test_importance_and_ranking_by_hand():
    table = fs.importance_table(stored_importance())
    assert list(table.columns) == fs.IMPORTANCE_COLUMNS
    ranks = table.set_index("feature").rank_diplomacy
    # the two tied diplomacy measures share rank 1; controls have none
    assert ranks.loc["consulates_general"] == 1 and ranks.loc["sister_active"] == 1
    assert ranks.loc["networks_dated"] == 3 and np.isnan(ranks.loc["log_population"])
    assert table.set_index("feature").within_1sd_of_zero.to_dict() == {
        "log_population": False, "consulates_general": False, "sister_active": False, "networks_dated": True,
        "log_per_capita_income": False}
    ranking = fs.ranking_table(table)
    assert ranking.feature.tolist()[2] == "networks_dated"
    assert ranking.set_index("feature").anchor_rank.loc["consulates_general"] == 1
    assert ranking.anchor_rank.isna().sum() == 2


def hand_report(importance=None) -> fs.ForestReport:
    imp = fs.importance_table(stored_importance() if importance is None else importance)
    pdp = pd.DataFrame({"feature": np.repeat(FEATURES, 3), "value": np.tile([3.0, 1.0, 2.0], 5),
                        "prediction": [1.0, 0.0, 0.5,   0.2, 0.4, 0.3,   0.0, 0.0, 0.0,   9, 8, 8.5,   1, 1, 2]})
    interactions = pd.DataFrame({"feature_a": ["sister_active", "consulates_general", "sister_active"],
                                 "feature_b": ["consulates_general", "log_population", "log_per_capita_income"],
                                 "h2": [0.3, 0.2, 0.1], "interaction_sd": [0.01, 0.05, 0.02]})
    summary = pd.Series({"model": "random_forest", "r2_cv": 0.7, "consulates_rank_first": True})
    fit = pd.DataFrame({"model": list("abcd"), "r2": [0.7, 0.72, 0.75, 0.74]})
    return fs.ForestReport(summary, fit, 2.0, imp, fs.ranking_table(imp), fs.pdp_shapes(pdp, FEATURES),
                           fs.interaction_pairs(interactions, 2.0))


def test_pdp_shapes_by_hand():
    shapes = hand_report().shapes.set_index("feature")
    assert shapes.index.tolist() == FEATURES
    # sister: values 1, 2, 3 -> predictions 0, 0.5, 1: rising by 1
    assert shapes.loc["sister_active", ["grid_low", "grid_high", "change", "direction"]].tolist() == \
        [1.0, 3.0, 1.0, "rising"]
    assert shapes.loc["consulates_general", "direction"] == "falling"  # 0.4 at 1 -> 0.2 at 3
    assert shapes.loc["consulates_general", "range"] == pytest.approx(0.2)
    assert shapes.loc["networks_dated", "direction"] == "flat"
    assert shapes.loc["log_per_capita_income", "change"] == pytest.approx(0.0)  # 1 at 1, 2 at 2, 1 at 3
    assert shapes.loc["log_per_capita_income", "range"] == pytest.approx(1.0)


def test_report_numbers_by_hand():
    report = hand_report()
    pairs = report.pairs
    assert pairs.with_size.tolist() == [False, True, False] and pairs.both_diplomacy.tolist() == [True, False, False]
    np.testing.assert_allclose(pairs.share_of_outcome_sd, [0.005, 0.025, 0.01])
    assert report.size_pair.feature_a == "consulates_general"
    assert report.strongest_pair.h2 == 0.3
    # consulates general and sister ties tie for first: the gap is zero, the consulate ranks first
    assert report.gap == 0.0 and report.consulate_rank == 1 and report.agrees
    lines = report.sentences()
    assert "does worse" in lines[0]  # 0.70 < 0.75 for log population alone
    assert "1 of 3 diplomacy measures are within one s.d. of zero importance" in lines[2]
    assert lines[3].startswith("- Directions: 1 of 3 diplomacy curves rise")
    assert f"({term_label('consulates_general')} × {term_label('log_population')}) has s.d. 0.050" in lines[4]
    # without a consulate measure the anchor's first rank is absent
    no_cg = stored_importance().query("feature != 'consulates_general'")
    report = hand_report(no_cg)
    assert report.consulate_rank is None and not report.agrees
    assert "rank n/a of 2" in report.ranking_sentences()[1]


def test_on_a_forest_fitted_to_the_synthetic_panel(synthetic):
    from citydip.estimation.forest import forest_analysis

    panel, _ = synthetic
    forest = forest_analysis(panel, n_estimators=60, n_repeats=2, grid_resolution=5)
    summary = pd.Series({"model": forest.model, "seed": forest.seed, "r2_cv": forest.r2_cv, "r2_oob": forest.r2_oob,
                         "consulates_rank_first": forest.agrees_with_anchor})
    report = fs.forest_report(summary, forest.importance, forest.interactions, forest.pdp, forest.data,
                              forest.outcome, forest.features)
    # the diplomacy ranking is the forest's own
    ours = report.ranking.set_index("feature").rank_diplomacy
    theirs = forest.ranking.set_index("feature")["rank"]
    assert (ours.loc[theirs.index] == theirs).all()
    assert report.agrees == bool(forest.agrees_with_anchor)
    assert report.outcome_sd == pytest.approx(forest.data[forest.outcome].std(ddof=1))
    assert len(report.shapes) == len(forest.features) and len(report.pairs) == 10


# -- the interaction forest (the anchor's own method) ------------------------------------------------------
def test_measure_families_and_effect_labels():
    assert fs.measure_family("sister_ever") == "Sister-city ties"
    assert fs.measure_family("consulates_general") == fs.measure_family("consular_posts") == "Consulates"
    assert fs.measure_family("networks_dated") == fs.measure_family("net_c40") == "City networks"
    assert fs.measure_family("log_population") is None
    assert fs.effect_label("univariable", "consulates_general") == term_label("consulates_general")
    assert fs.effect_label("qualitative", "sister_ever AND log_population") == \
        f"{term_label('sister_ever')} × {term_label('log_population')}"
    assert fs.effect_label("quantitative", "consulates_general small AND log_population large") == \
        f"{term_label('consulates_general')} small × {term_label('log_population')} large"


def hand_per_seed() -> pd.DataFrame:
    """Two seeds of univariable EIM: consulates first in one, networks in the other."""
    rows = []
    for seed, values in ((1, {"consulates_general": 0.10, "networks_ever": 0.05, "sister_ever": 0.01,
                              "log_population": 0.5}),
                         (2, {"consulates_general": 0.04, "networks_ever": 0.06, "sister_ever": 0.02,
                              "log_population": 0.6})):
        ranks = pd.Series(values).rank(ascending=False).astype(int)
        rows += [{"seed": seed, "kind": "univariable", "effect": f, "pair": f, "value": v, "rank": ranks[f]}
                 for f, v in values.items()]
    return pd.DataFrame(rows)


def test_diplomacy_ranking_by_hand():
    rf = pd.DataFrame({"feature": ["log_population", "networks_dated", "consulates_general", "sister_active"],
                       "mean": [0.4, 0.06, 0.05, 0.0], "sd": [0.1, 0.02, 0.03, 0.01]})
    table = fs.diplomacy_ranking(hand_per_seed(), rf)
    assert list(table.columns) == fs.RANKING_IF_COLUMNS
    assert table.feature.tolist() == ["consulates_general", "networks_ever", "sister_ever"]  # means .07, .055, .015
    assert table["mean"].tolist() == pytest.approx([0.07, 0.055, 0.015])
    assert table.first_share.tolist() == [0.5, 0.5, 0.0]
    assert table["rank"].tolist() == [1, 2, 3]
    # the random forest's ranking, matched by kind of measure (its variants differ)
    assert table.rf_feature.tolist() == ["consulates_general", "networks_dated", "sister_active"]
    assert table.rf_rank.tolist() == [2, 1, 3]
    assert table.anchor_rank.tolist()[0] == 1 and table.anchor_rank.isna().sum() == 2
    without = fs.diplomacy_ranking(hand_per_seed())
    assert without.rf_rank.isna().all() and without.feature.tolist() == table.feature.tolist()


def test_eim_table_flags_diplomacy_and_size():
    effects = pd.DataFrame({"kind": "qualitative", "effect": ["sister_ever AND log_population",
                                                               "log_population AND log_per_capita_income",
                                                               "sister_ever AND networks_ever"],
                            "pair": ["sister_ever AND log_population", "log_population AND log_per_capita_income",
                                     "sister_ever AND networks_ever"],
                            "mean": [0.002, 0.005, 0.001], "sd": 0.001, "seeds": 3, "label_share": 1.0,
                            "rank_mean": [2, 1, 3], "rank_sd": 0.0, "rank_min": [2, 1, 3], "rank_max": [2, 1, 3],
                            "first_share": [0, 1, 0]})
    table = fs.eim_table(effects, "qualitative")
    assert list(table.columns) == fs.EIM_COLUMNS
    assert table.pair.tolist()[0] == "log_population AND log_per_capita_income"
    assert table.diplomacy.tolist() == [False, True, True]
    assert table.with_size.tolist() == [True, True, False]


@pytest.fixture(scope="module")
def iforest_report(synthetic):
    from citydip.estimation.forest import forest_analysis

    panel, _ = synthetic
    forest = forest_analysis(panel, n_estimators=40, n_repeats=2, grid_resolution=5)
    summary = pd.Series({"model": forest.model, "seed": forest.seed, "r2_cv": forest.r2_cv, "r2_oob": forest.r2_oob})
    return fs.interaction_forest_report(panel, summary, forest.importance, seeds=(1, 2, 3), num_trees=150)


def test_interaction_forest_report_on_the_synthetic_panel(iforest_report):
    report = iforest_report
    assert list(report.data.columns) == ["cbsa_code", fs.IF_OUTCOME, *fs.IF_FEATURES]
    assert report.stability.seeds == (1, 2, 3) and report.result.seed == 1 and report.result.num_trees == 150
    assert any("2005-2019" in note for note in report.notes)
    assert len(report.univariable) == 5 and len(report.qualitative) == len(report.quantitative) == 10
    # the tables are the stability summary's, labelled
    for kind in ("univariable", "qualitative", "quantitative"):
        table = report.table(kind)
        theirs = report.stability.kind(kind).set_index("pair")["mean"]
        assert np.allclose(table.set_index("pair")["mean"], theirs[table.pair])
        assert table["mean"].is_monotonic_decreasing
    # fit: the interaction forest's R^2 is the mean over the seeds; the random forest's are stored
    assert report.fit.r2.iloc[0] == pytest.approx(report.stability.fit.r_squared.mean())
    assert report.fit.model.tolist()[1:] == ["random forest, out-of-bag", "random forest, cross-validated",
                                             "linear, log population only, cross-validated"]
    assert report.r2_size == report.fit.r2.iloc[3]
    # ranking of the three measures, consulates marked as the anchor's first
    assert set(report.ranking.family) == {"Sister-city ties", "Consulates", "City networks"}
    assert report.agrees == (report.consulate["rank"] == 1)
    assert report.rf_agrees == bool((report.ranking["rank"] == report.ranking.rf_rank).all())
    lines = report.sentences()
    assert len(lines) == 6 and lines[0].startswith("- Fit:") and "over 3 seeds" in lines[0]
    assert ("agrees with" if report.agrees else "does not agree") in lines[4]
    assert report.top("quantitative", size=True).with_size


def test_eim_plot_draws_a_bar_and_the_seeds_per_effect(iforest_report):
    from citydip.report.figures import eim_plot

    table = iforest_report.quantitative
    fig = eim_plot(table, iforest_report.stability.per_seed)
    ax = fig.axes[0]
    assert len(ax.patches) == len(table)
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert labels[-1] == table.label.iloc[0]  # the largest at the top
    dots = [line for line in ax.get_lines() if line.get_marker() == "o"]
    assert len(dots) == len(table) and all(len(d.get_xdata()) == 3 for d in dots)
    colors = {tuple(np.round(p.get_facecolor(), 3)) for p in ax.patches}
    assert len(colors) >= 2  # diplomacy effects coloured apart from the others
