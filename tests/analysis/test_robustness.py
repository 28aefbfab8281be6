"""Robustness to the data-construction choices: panel comparisons against constructed
variants with known changes, estimate comparisons against plain loops on a hand-made table,
the estimation-side checks against a deflator that is (or is not) common to all metros."""

from __future__ import annotations

import itertools
import math
import warnings

import numpy as np
import pandas as pd
import pytest

from citydip.analysis import robustness as rb
from citydip.analysis.robustness import DEFAULT
from citydip.estimation.catalogue import MEASURES
from citydip.report.labels import term_label

TERMS = {"M1": list(MEASURES), "M3": list(MEASURES),
         "M5": [f"{m}_x_{c}" for m in MEASURES for c in ("small", "mid", "large")]}


@pytest.fixture(scope="module")
def synthetic():
    from citydip.panel.build import build_synthetic
    from citydip.panel.options import PanelOptions

    return build_synthetic(PanelOptions())


def raw_tidy(seed: int = 0) -> pd.DataFrame:
    """A tidy table of three models on the default panel and three variants: variant "same"
    repeats the default exactly, "small" moves only M1 a little, "big" moves everything (and
    flips the sign of M3's networks coefficient), and lacks one M5 term (dropped)."""
    rng = np.random.default_rng(seed)
    rows = []
    base = {(k, t): (rng.normal(0, 0.05), rng.uniform(0.01, 0.03), rng.uniform(0, 0.2)) for k in TERMS for t in TERMS[k]}
    base[("M3", "networks_dated")] = (0.04, 0.01, 0.001)
    for variant in (DEFAULT, "same", "small", "big"):
        for (k, t), (b, s, p) in base.items():
            if variant == "small" and k == "M1":
                b = b + 0.1 * s
            elif variant == "big":
                b, p = b + rng.normal(0, 2) * s, rng.uniform(0, 0.1)
                if (k, t) == ("M3", "networks_dated"):
                    b = -0.03
                if (k, t) == ("M5", "networks_dated_x_small"):
                    continue
            rows.append({"variant": variant, "model_key": k, "model": f"{k} model", "term": t, "estimate": b,
                         "std_error": s, "p_value": p, "conf_low": b - 2 * s, "conf_high": b + 2 * s, "nobs": 100})
    extra = pd.DataFrame([{**rows[0], "term": "log_population", "estimate": 0.7}])  # not a diplomacy term
    return pd.concat([pd.DataFrame(rows), extra], ignore_index=True)


@pytest.fixture(scope="module")
def long() -> pd.DataFrame:
    return rb.compare_to_default(raw_tidy())


def test_compare_to_default_against_a_loop(long):
    raw = raw_tidy()
    assert "log_population" not in set(long.term) and list(long.columns) == rb.LONG_COLUMNS
    base = {(r.model_key, r.term): r for r in raw[raw.variant == DEFAULT].itertuples()}
    for r in long.itertuples():
        d = base[(r.model_key, r.term)]
        assert r.default_estimate == d.estimate
        assert r.difference == pytest.approx(r.estimate - d.estimate)
        assert r.shift_in_default_se == pytest.approx((r.estimate - d.estimate) / d.std_error)
        assert r.measure == r.term.split("_x_")[0]


def test_survival_counts_against_a_loop(long):
    counts = rb.survival_counts(long).set_index(["model_key", "term"])
    assert len(counts) == sum(len(t) for t in TERMS.values())
    for (key, term), got in counts.iterrows():
        d = long[(long.variant == DEFAULT) & (long.model_key == key) & (long.term == term)].iloc[0]
        alt = [r for r in long.itertuples() if r.model_key == key and r.term == term and r.variant != DEFAULT]
        assert got.variants == 3 and got.estimated == len(alt)
        assert got.same_sign == sum(math.copysign(1, r.estimate) == math.copysign(1, d.estimate) for r in alt)
        assert got.same_verdict_5pct == sum((r.p_value < 0.05) == (d.p_value < 0.05) for r in alt)
        assert got.unchanged == sum(abs(r.estimate - d.estimate) < 1e-10 for r in alt)
        assert got.max_estimate == max(r.estimate for r in alt)
        moved = max(alt, key=lambda r: abs(r.shift_in_default_se))
        assert got.largest_shift_variant == moved.variant
    assert counts.loc[("M3", "networks_dated"), "same_sign"] == 2  # "big" flips it
    assert counts.loc[("M5", "networks_dated_x_small"), "estimated"] == 2  # "big" dropped it


def test_by_variant_against_a_loop(long):
    table = rb.by_variant(long).set_index("variant")
    assert list(table.index) == ["same", "small", "big"]
    default = {(r.model_key, r.term): r for r in long[long.variant == DEFAULT].itertuples()}
    for v, got in table.iterrows():
        rows = [r for r in long.itertuples() if r.variant == v]
        shifts = [abs(r.shift_in_default_se) for r in rows]
        assert got.coefficients == len(rows)
        assert got.sign_changed == sum(np.sign(r.estimate) != np.sign(default[(r.model_key, r.term)].estimate)
                                       for r in rows)
        assert got.verdict_changed == sum((r.p_value < 0.05) != (default[(r.model_key, r.term)].p_value < 0.05)
                                          for r in rows)
        assert got.moved_one_se == sum(s >= 1 for s in shifts)
        assert got.median_abs_shift_se == pytest.approx(np.median(shifts))
        assert got.models_changed == len({r.model_key for r in rows if abs(r.difference) >= 1e-10})
    assert table.loc["same", "models_changed"] == 0 and table.loc["small", "models_changed"] == 1


def test_unchanged_models(long):
    table = rb.unchanged_models(long).set_index(["variant", "model_key"]).unchanged
    assert table["same"].all()
    assert table["small"].to_dict() == {"M1": False, "M3": True, "M5": True}
    assert not table["big"].any()


def test_anchor_pattern():
    rows = []
    for variant, k in itertools.product([DEFAULT, "a"], ["M1", "M3"]):
        good = variant == "a" and k == "M3"
        for m in MEASURES:
            rows.append({"variant": variant, "model_key": k, "term": m, "estimate": 0.05,
                         "std_error": 0.01, "p_value": 0.01 if good or m != "networks_dated" else 0.2})
    table = rb.anchor_pattern(pd.DataFrame(rows), models=("M1", "M3")).set_index(["variant", "model_key"])
    assert table.pattern.to_dict() == {(DEFAULT, "M1"): False, (DEFAULT, "M3"): False, ("a", "M1"): False,
                                       ("a", "M3"): True}
    assert table.significant_positive[(DEFAULT, "M1")] == 2 and table.supported[(DEFAULT, "M1")] == "partly"


def test_views(long):
    order = [DEFAULT, "same", "small", "big"]
    wide = rb.wide_view(long, order, models=("M1", "M3")).set_index("variant")
    assert list(wide.index) == order and len(wide.columns) == 6
    r = long[(long.variant == "big") & (long.model_key == "M3") & (long.term == "networks_dated")].iloc[0]
    stars = "***" if r.p_value < 0.01 else "**" if r.p_value < 0.05 else "*" if r.p_value < 0.1 else ""
    assert wide.loc["big", "M3: City networks joined"] == f"{r.estimate:.4f}{stars} ({r.std_error:.4f})"
    assert rb.coefficient_text(0.043, 0.034, 0.04) == "0.0430** (0.0340)"
    sizes = rb.size_class_view(long, order).set_index("variant")
    assert sizes.loc["big", "networks_dated_x_small"] == "dropped" and len(sizes.columns) == 9
    largest = rb.largest_class(long, order).set_index("variant")
    assert largest.loc["big", "networks_dated"] == "not all classes estimated"
    for m in MEASURES:
        coef = {c: long[(long.variant == DEFAULT) & (long.term == f"{m}_x_{c}")].estimate.iloc[0]
                for c in ("small", "mid", "large")}
        assert largest.loc[DEFAULT, m] == max(coef, key=coef.get)
    counts = rb.largest_class_counts(largest.reset_index())
    assert counts.groupby("measure").panels.sum().eq(4).all()


def test_findings_and_claims(long):
    side = rb.SideChecks(0.0, 1e-15, 1e-16, True, 2e-4, pd.DataFrame([
        {"model": rb.MODELS["M3-CG"], "term": "consulates_general", "estimate": 0.0057, "p_value": 0.915},
        {"model": rb.MODELS["M3"], "term": "consular_posts", "estimate": 0.043, "p_value": 0.209}]))
    lines = rb.findings(long, side, models=("M1", "M3", "M5"))
    assert all(line.startswith("- ") for line in lines)
    counts = rb.survival_counts(long)
    flips = int((counts.same_sign < counts.estimated).sum())
    assert any(f"{len(counts)} diplomacy coefficients (M5 classes included), {flips} change sign" in x for x in lines)
    assert any(x.startswith("- Variants leaving every estimate exactly unchanged: same; leaving some models exactly "
                            "unchanged: small (M3, M5)") for x in lines)
    assert any("+0.0057 (p = 0.915) against +0.0430 (p = 0.209)" in x for x in lines)


def test_anchor_claims(long):
    claims = rb.anchor_claims(long).set_index("scope")
    assert list(claims.columns) == ["claim", "evidence", "supported"]
    first = claims.loc["M3 and M5, default panel"]
    for m, c in rb.largest_class(long, [DEFAULT]).iloc[0].drop("variant").items():
        assert f"{term_label(m)}: largest {c}" in first.evidence.iloc[2]
    for key in ("M1", "M3"):
        hits = 0
        for v in long.variant.unique():
            part = long[(long.variant == v) & (long.model_key == key)].set_index("term")
            hits += all(part.estimate[m] > 0 and part.p_value[m] < 0.05 for m in MEASURES)
        expected = "yes" if hits == 4 else "partly" if hits else "no"
        assert claims.loc[f"{key}, every panel", "supported"] == expected
        assert f"in {hits} of 4 panels" in claims.loc[f"{key}, every panel", "evidence"]


# -- the panels ---------------------------------------------------------------------------------------------
def test_variant_samples_and_measures_on_constructed_variants(synthetic):
    panel = synthetic.panel
    codes = sorted(panel.cbsa_code.unique())
    changed = panel.copy()
    rows = (changed.cbsa_code == codes[0]) & (changed.year >= 2010)
    changed.loc[rows, "sister_active"] += 3  # one step up in 2010: one more change within that metro
    changed.loc[changed.cbsa_code == codes[1], "size_class"] = "large" if \
        panel.loc[panel.cbsa_code == codes[1], "size_class"].iloc[0] != "large" else "small"
    shorter = panel[panel.year <= 2019]
    panels = {DEFAULT: panel, "changed": changed, "shorter": shorter}
    samples = rb.variant_samples(panels, {k: k for k in panels}).set_index("variant")
    assert samples.metro_years.tolist() == [len(panel), len(panel), len(shorter)]
    assert samples.size_class_changed_metros.tolist() == [0, 1, 0]
    assert samples.loc["shorter", "two_way_fe_sample"] == len(rb.fe_sample(shorter))
    measures = rb.variant_measures(panels).set_index(["variant", "measure"])
    assert measures.loc[("changed", "sister_active"), "metro_years_differing"] == int(rows.sum())
    assert measures.loc[("shorter", "sister_active"), "metro_years_differing"] == 0
    assert measures.loc[("changed", "consular_posts"), "metro_years_differing"] == 0
    for name, frame in panels.items():
        sample = rb.fe_sample(frame)
        for m in rb.DIPLOMACY:
            steps, metros = 0, set()
            for code, g in sample.groupby("cbsa_code"):
                values = g.sort_values("year")[m].tolist()
                n = sum(a != b for a, b in zip(values, values[1:]))
                steps, metros = steps + n, metros | ({code} if n else set())
            got = measures.loc[(name, m)]
            assert (got.within_metro_changes, got.metros_that_change) == (steps, len(metros))
            assert got["mean"] == pytest.approx(frame[m].mean())


def test_deflator_spread():
    frame = pd.DataFrame({"year": [1, 1, 2, 2], "exports_real_usd": [10.0, 20.0, 30.0, 40.0]})
    frame["log_exports"] = np.log(frame.exports_real_usd) + np.array([0.1, 0.1, 0.2, 0.5])
    assert rb.deflator_spread(frame) == pytest.approx(0.3)


def test_estimation_side_checks(synthetic):
    panel = synthetic.panel
    common = rb.estimation_side_checks(panel)
    assert common.absorbed and common.deflator_spread < 1e-9 and common.coef_gap < 1e-8
    assert list(common.table.model.unique()) == ["M3 two-way FE", "M3 two-way FE, log real exports",
                                                 "M3-CG two-way FE, consulates general", "M1 between",
                                                 "M1 between, log real exports"]
    # a deflator that differs across metros within a year is not absorbed by year effects
    rng = np.random.default_rng(0)
    slope = pd.Series(rng.normal(0, 0.02, panel.cbsa_code.nunique()), index=sorted(panel.cbsa_code.unique()))
    metro = panel.assign(exports_real_usd=panel.exports_real_usd
                         * np.exp(panel.cbsa_code.map(slope).to_numpy() * (panel.year - 2005).to_numpy()))
    local = rb.estimation_side_checks(metro)
    assert not local.absorbed and local.deflator_spread > 0.01 and local.coef_gap > 1e-6


def test_fit_variants_on_the_synthetic_panel(synthetic):
    from citydip.estimation import fit
    from citydip.estimation.catalogue import catalogue

    panel = synthetic.panel
    noisy = panel.assign(log_exports=panel.log_exports + np.random.default_rng(1).normal(0, 0.05, len(panel)))
    result = rb.fit_variants({DEFAULT: panel, "same": panel.copy(), "noisy": noisy},
                             models={"M1": rb.MODELS["M1"], "M3": rb.MODELS["M3"], "M5": rb.MODELS["M5"]})
    assert len(result.fits) == 9
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        direct = fit(panel, {s.name: s for s in catalogue()}["M3 two-way FE"]).tidy()
    assert rb.matches_stored(result.estimates, direct)
    assert not rb.matches_stored(result.estimates, direct.assign(estimate=direct.estimate * 1.01))
    unchanged = rb.unchanged_models(result.estimates).set_index(["variant", "model_key"]).unchanged
    assert unchanged["same"].all() and not unchanged["noisy"].any()


@pytest.mark.slow
def test_variant_measures_on_the_real_panel(real_panel):
    """On the real panel, changes within metros by :func:`within_variation` equal the count of
    nonzero consecutive differences per metro (the notebook's former definition)."""
    measures = rb.variant_measures({DEFAULT: real_panel}).set_index("measure")
    sample = rb.fe_sample(real_panel)
    for m in rb.DIPLOMACY:
        changes = sample.groupby("cbsa_code")[m].diff().fillna(0) != 0
        assert measures.loc[m, "within_metro_changes"] == int(changes.sum())
        assert measures.loc[m, "metros_that_change"] == sample.loc[changes, "cbsa_code"].nunique()
        assert measures.loc[m, "metro_years_differing"] == 0


def test_with_default_and_coefficient_figure(long):
    from citydip.report.robustness_plots import variant_coefficients

    panel = pd.DataFrame({"x": [1]})
    index = [{"name": "b", "description": "B"}, {"name": "a", "description": "A"}]
    panels, descriptions = rb.with_default(panel, index, {"a": panel, "b": panel})
    assert list(panels) == [DEFAULT, "b", "a"] and descriptions["a"] == "A"
    order = [DEFAULT, "same", "small", "big"]
    fig = variant_coefficients(long, order, {"M1": "M1 model", "M3": "M3 model"}, MEASURES)
    assert len(fig.axes) == 6
    ax = fig.axes[3]  # M3, sister ties
    assert ax.get_title() == "M3 model: Sister-city ties (active)"
    default = long[(long.variant == DEFAULT) & (long.model_key == "M3") & (long.term == "sister_active")]
    assert ax.lines[-2].get_xdata()[0] == pytest.approx(default.estimate.iloc[0])  # the dotted default line
