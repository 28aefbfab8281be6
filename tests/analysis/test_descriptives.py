"""Descriptive statistics against hand computations, plain loops and statsmodels."""

from __future__ import annotations

import math
import statistics

import numpy as np
import pandas as pd
import pytest

from citydip.analysis import descriptives as d
from citydip.report.labels import term_label


def small_panel() -> pd.DataFrame:
    """Four metros, 2001-2005, with a missing export value and a year with no consular data."""
    rng = np.random.default_rng(0)
    rows = []
    titles = {"1": "Alpha-Beta, AA", "2": "Gamma, BB", "3": "Delta-Epsilon-Zeta, CC-DD", "4": "Eta, EE"}
    classes = {"1": "large", "2": "mid", "3": "small", "4": "small"}
    for code in titles:
        for year in range(2001, 2006):
            rows.append({"cbsa_code": code, "cbsa_title": titles[code], "year": year, "rank": int(code),
                         "size_class": classes[code], "exports_usd": float(rng.integers(1, 100)) * 1e8,
                         "log_exports": np.nan, "population_persons": 1e6 / int(code) + year,
                         "per_capita_income_usd": 40_000.0 + 100 * int(code),
                         "consular_posts": float(rng.integers(0, 4)), "consulates_general": 0.0,
                         "sister_active": int(rng.integers(0, 6)), "networks_dated": int(year > 2003 and code == "1"),
                         "networks_ever": 2})
    panel = pd.DataFrame(rows)
    panel.loc[(panel.cbsa_code == "2") & (panel.year == 2002), "exports_usd"] = np.nan
    panel.loc[panel.year == 2005, "consular_posts"] = np.nan
    panel["log_exports"] = np.log(panel.exports_usd)
    panel["log_population"] = np.log(panel.population_persons)
    return panel


def test_short_name():
    assert d.short_name("New York-Newark-Jersey City, NY-NJ-PA") == "New York"
    assert d.short_name("Urban Honolulu, HI") == "Urban Honolulu"
    assert d.short_name("Winston-Salem, NC") == "Winston"  # the rule is the first '-' or ','


def test_periods_split_like_array_split():
    assert d.periods(range(2005, 2022)) == [(2005, 2010), (2011, 2016), (2017, 2021)]
    assert d.periods([2003, 2001, 2002, 2004], 2) == [(2001, 2002), (2003, 2004)]


def test_summary_by_period_against_statistics_module():
    panel = small_panel()
    table = d.summary_by_period(panel, n_periods=2)
    assert table.years.unique().tolist() == ["2001-2005", "2001-2003", "2004-2005"]
    for key, (column, scale, label) in d.VARIABLES.items():
        for lo, hi in [(2001, 2005), (2001, 2003), (2004, 2005)]:
            row = table[(table.variable == label) & (table.years == f"{lo}-{hi}")].iloc[0]
            values = [v * scale for y, v in zip(panel.year, panel[column]) if lo <= y <= hi and not math.isnan(v)]
            assert row.n == len(values)
            if not values:
                assert np.isnan(row["mean"])
                continue
            assert row["mean"] == pytest.approx(statistics.fmean(values), rel=1e-12)
            assert row["min"] == pytest.approx(min(values)) and row["max"] == pytest.approx(max(values))
            if len(values) > 1:
                assert row.sd == pytest.approx(statistics.stdev(values), rel=1e-9)
    # exports in billions: 1e8 units -> 0.1
    exports = table[table.variable == "Exports (US$ bn, current)"]
    assert exports["max"].max() < 10


def test_totals_and_movement_against_loops():
    panel = small_panel()
    measures = ["consular_posts", "sister_active", "networks_dated"]
    totals = d.totals_by_year(panel, measures)
    for year in range(2001, 2006):
        part = panel[panel.year == year]
        assert totals.loc[year, "exports_bn"] == pytest.approx(np.nansum(part.exports_usd) / 1e9)
        assert totals.loc[year, "sister_active"] == part.sister_active.sum()
    assert np.isnan(totals.loc[2005, "consular_posts"])  # every value missing: no total, not zero
    movement = d.measure_movement(panel, measures).set_index("measure")
    assert movement.loc["networks_dated", ["total_first", "total_last"]].tolist() == [0, 1]
    for m in measures:
        changing, steps = 0, 0
        for _, g in panel.sort_values("year").groupby("cbsa_code"):
            seq = g[m].dropna().tolist()
            changing += max(seq) > min(seq)
            steps += sum(a != b for a, b in zip(seq, seq[1:]))
        assert movement.loc[m, "metros_that_change"] == changing
        assert movement.loc[m, "year_on_year_changes"] == steps
    lines = d.movement_sentences(movement.reset_index())
    assert lines[2].startswith(f"{term_label('networks_dated')}: total 0 in 2001 -> 1 in 2005; 1 of 4 metros")


def test_top_metros_breaks_ties_by_population_rank():
    frame = pd.DataFrame({"cbsa_code": list("abcd"), "cbsa_title": ["A, X", "B, X", "C, X", "D, X"],
                          "rank": [4, 3, 2, 1], "size_class": ["small", "small", "mid", "large"],
                          "sister_active": [5, 7, 5, 1]})
    top = d.top_metros(frame, ["sister_active"], k=3)
    assert top.metro.tolist() == ["B, X", "C, X", "A, X"]  # C and A tie at 5: C has the better rank
    assert top.position.tolist() == [1, 2, 3] and top.population_rank.tolist() == [3, 2, 4]
    assert set(top.measure) == {term_label("sister_active")}


def test_top_share_and_concentration_by_hand():
    assert d.top_share(pd.Series([5.0, 3.0, 2.0]), 1) == pytest.approx(0.5)
    assert d.top_share(pd.Series([5.0, np.nan, 3.0, 2.0]), 2) == pytest.approx(0.8)
    assert np.isnan(d.top_share(pd.Series([0.0, 0.0])))
    frame = pd.DataFrame({"cbsa_code": [str(i) for i in range(12)],
                          "cbsa_title": [f"City{i}-Other, ST" for i in range(12)], "rank": range(1, 13),
                          "consular_posts": [10, 0, 4, 4, 0, 2, 0, 0, 0, 0, 0, 0],
                          "population_persons": [12 - i for i in range(12)]})
    table = d.concentration(frame, {"consular_posts": "Posts", "population_persons": "Population"})
    posts, pop = table.set_index("measure").loc["Posts"], table.set_index("measure").loc["Population"]
    assert posts.total == 20 and posts.top5_share == 1.0 and posts.metros_with_none == 8
    assert posts.top5_metros == "City0, City2, City3, City5, City1"  # ties at 0 by rank: City1 first
    assert pop.total == 78 and pop.top5_share == pytest.approx((12 + 11 + 10 + 9 + 8) / 78)
    assert pop.top10_share == pytest.approx((78 - 2 - 1) / 78)
    sentence = d.concentration_sentence(table, 2019, posts="Posts")
    assert "hold 100% of the 20 posts" in sentence and f"hold {(50 / 78):.0%} of the population" in sentence
    assert sentence.endswith("8 metros have no consular post.")


def test_concentration_curves_by_hand():
    frame = pd.DataFrame({"a": [1.0, 3.0, 0.0, np.nan], "b": [0.0, 0.0, 0.0, 0.0]})
    curves = d.concentration_curves(frame, {"a": "A", "b": "B"})
    assert set(curves.column) == {"a"}  # a zero total has no curve
    np.testing.assert_allclose(curves.share, [0.0, 0.75, 1.0, 1.0])
    assert curves.metros.tolist() == [0, 1, 2, 3]


def test_metro_means_against_groupby_loop():
    panel = small_panel()
    panel.loc[panel.cbsa_code == "4", "exports_usd"] = np.nan  # no export value at all: left out
    means = d.metro_means(panel, ["sister_active"])
    assert sorted(means.index) == ["1", "2", "3"]
    for code, row in means.iterrows():
        part = panel[panel.cbsa_code == code]
        assert row.exports == pytest.approx(np.nanmean(part.exports_usd))
        assert row.log_exports_mean == pytest.approx(math.log(np.nanmean(part.exports_usd)))
        assert row.sister_active == pytest.approx(part.sister_active.mean())


def closed_form_partial(x, y, z) -> float:
    """First-order partial correlation from the three pairwise correlations."""
    rxy, rxz, ryz = np.corrcoef(x, y)[0, 1], np.corrcoef(x, z)[0, 1], np.corrcoef(y, z)[0, 1]
    return (rxy - rxz * ryz) / math.sqrt((1 - rxz ** 2) * (1 - ryz ** 2))


def test_partial_correlation_against_closed_form_and_statsmodels():
    import statsmodels.api as sm

    rng = np.random.default_rng(1)
    z = rng.normal(size=(200, 2))
    x = z @ [1.0, -0.5] + rng.normal(size=200)
    y = 0.3 * x + z @ [0.2, 0.8] + rng.normal(size=200)
    assert d.partial_correlation(x, y, z[:, 0]) == pytest.approx(closed_form_partial(x, y, z[:, 0]), rel=1e-10)
    design = sm.add_constant(z)
    rx, ry = sm.OLS(x, design).fit().resid, sm.OLS(y, design).fit().resid
    assert d.partial_correlation(x, y, z) == pytest.approx(np.corrcoef(rx, ry)[0, 1], rel=1e-10)


def test_cross_metro_correlations_against_closed_form():
    rng = np.random.default_rng(2)
    n = 60
    log_pop = rng.normal(14, 1, n)
    means = pd.DataFrame({"log_population": log_pop, "exports": np.exp(log_pop + rng.normal(0, 0.5, n)),
                          "consular_posts": np.exp(log_pop - 13 + rng.normal(0, 0.3, n)),
                          "sister_active": rng.poisson(3, n).astype(float)})
    means.loc[3, "sister_active"] = np.nan
    means["log_exports_mean"] = np.log(means.exports)
    table = d.cross_metro_correlations(means, ["consular_posts", "sister_active"]).set_index("measure")
    for m in ("consular_posts", "sister_active"):
        frame = means.dropna(subset=[m])
        x, y, z = np.log1p(frame[m]), frame.log_exports_mean, frame.log_population
        row = table.loc[term_label(m)]
        assert row.metros == len(frame)
        assert row.correlation == pytest.approx(np.corrcoef(x, y)[0, 1], rel=1e-12)
        assert row.correlation_with_log_population == pytest.approx(np.corrcoef(x, z)[0, 1], rel=1e-12)
        assert row.partial_correlation_given_log_population == pytest.approx(closed_form_partial(x, y, z), rel=1e-9)
    assert table.loc[term_label("sister_active"), "metros"] == n - 1
    # consular posts track population here: the raw correlation is large, the partial one small
    posts = table.loc[term_label("consular_posts")]
    assert posts.correlation > 0.5 and abs(posts.partial_correlation_given_log_population) < 0.3


def test_descriptive_sentences_quote_the_tables():
    correlations = pd.DataFrame({"measure": ["A", "B"], "metros": [99, 100], "correlation": [0.41, 0.66],
                                 "partial_correlation_given_log_population": [-0.05, 0.12],
                                 "correlation_with_log_population": [0.7, 0.8]})
    concentration = pd.DataFrame({"measure": [term_label("consular_posts"), "Population"],
                                  "top5_share": [0.62, 0.3], "metros_with_none": [40, 0]})
    lines = d.descriptive_sentences(correlations, concentration, 2019, 100)
    assert lines[0] == ("- A: correlation with log exports 0.41 across 99 metros; -0.05 once log population is "
                        "removed from both (the measure's own correlation with log population is 0.70).")
    assert lines[2] == "- Strongest raw association: B."
    assert lines[3] == ("- Concentration in 2019: top-5 share of consular posts 62% vs population 30%; 40 of 100 "
                        "metros have no consular post.")


@pytest.mark.slow  # builds the real panel (about 30 s, shared by the session)
def test_on_the_real_panel(real_panel):
    measures = ["consular_posts", "sister_active", "networks_dated"]
    ref = real_panel[real_panel.year == 2019]
    table = d.concentration(ref).set_index("measure")
    posts = sorted(ref.consular_posts.dropna(), reverse=True)
    assert table.loc[term_label("consular_posts"), "total"] == pytest.approx(sum(posts))
    assert table.loc[term_label("consular_posts"), "top5_share"] == pytest.approx(sum(posts[:5]) / sum(posts))
    assert table.loc[term_label("consular_posts"), "metros_with_none"] == sum(p == 0 for p in posts)
    means = d.metro_means(real_panel, measures)
    correlations = d.cross_metro_correlations(means, measures).set_index("measure")
    for m in measures:
        x, y, z = np.log1p(means[m]), means.log_exports_mean, means.log_population
        assert correlations.loc[term_label(m), "partial_correlation_given_log_population"] == \
            pytest.approx(closed_form_partial(x, y, z), rel=1e-9)
