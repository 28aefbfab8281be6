"""The specification curve of notebook 08: support counts against brute-force loops, summaries
against plain groupbys on a hand-made curve, choice importance on a curve where one choice
determines the estimate, the check against pyfixest, the null test's p-values, and recovery
of the synthetic panel's true effects."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest

from citydip.analysis import multiverse as mu
from citydip.estimation.catalogue import MEASURES


@pytest.fixture(scope="module")
def synthetic():
    from citydip.panel.build import build_synthetic
    from citydip.panel.options import PanelOptions

    build = build_synthetic(PanelOptions())
    return build, mu.prepare(build.panel)


@pytest.fixture(scope="module")
def curve(synthetic):
    """The curve on the synthetic panel and an exact copy of it (every specification of the
    copy repeats one of the default's), with a threshold that makes the size classes thin."""
    _, panel = synthetic
    return mu.build_curve({"default": panel, "copy": panel.copy()}, mu.samples(panel), min_metros=35)


def hand_made(seed: int = 0) -> mu.Multiverse:
    """A curve table built by hand: two panels x two treatments x two control sets x two
    fixed-effect structures x two samples x two kinds of inference; a few not estimated."""
    rng = np.random.default_rng(seed)
    options = {"data": ["default", "v"], "outcome": ["log_exports"], "treatment": ["a", "b"],
               "controls": ["none", "pop"], "fixed_effects": ["metro + year", "year"], "sample": ["all", "small"],
               "vcov": ["CRV1", "hetero"]}
    rows = []
    for i, combo in enumerate(itertools.product(*(options[d] for d in mu.CHOICES))):
        row = dict(zip(mu.CHOICES, combo))
        b = float(rng.normal(0.02, 0.05)) if i % 7 else np.nan
        rows.append({"spec_id": i, **row, "coefficient": b, "std_error": 0.02, "t": b / 0.02,
                     "p_value": float(rng.uniform(0, 0.15)), "nobs": 100, "note": "" if b == b else "x not estimated",
                     "duplicate": bool(rng.random() < 0.2), "metros_identifying": int(rng.integers(1, 20))})
    frame = pd.DataFrame(rows)
    frame["thin"] = frame.metros_identifying < 5
    return mu.Multiverse(frame, options, 5)


# -- support ---------------------------------------------------------------------------------------------------
def test_identifying_support_against_a_loop(synthetic):
    _, panel = synthetic
    panel = panel.copy()
    rng = np.random.default_rng(0)
    panel.loc[rng.random(len(panel)) < 0.1, "log_exports"] = np.nan
    panel.loc[rng.random(len(panel)) < 0.05, "consular_posts"] = np.nan
    samples = mu.samples(panel)
    table = mu.identifying_support({"p": panel}, samples).set_index(["sample", "treatment"])
    for label, rule in samples.items():
        rows = panel if rule is None else panel[panel.eval(rule)] if isinstance(rule, str) else panel[rule(panel)]
        rows = rows[rows.log_exports.notna()]
        for x in mu.TREATMENTS:
            values: dict[str, list] = {}
            for code, v in zip(rows.cbsa_code, rows[x]):
                if v == v:
                    values.setdefault(code, []).append(v)
            got = table.loc[(label, x)]
            assert got.nonzero == sum(max(v) > 0 for v in values.values())
            assert got.changing == sum(len(set(v)) > 1 for v in values.values())


def test_build_curve(curve, synthetic):
    _, panel = synthetic
    specs = curve.specifications
    n_samples = len(mu.samples(panel))
    # 2 panels x 4 treatments x (5 control sets + per capita without controls) x 3 structures x samples x 2 vcov
    assert len(specs) == 2 * 4 * 6 * 3 * n_samples * 2
    assert specs.spec_id.tolist() == list(range(len(specs)))
    rank = [specs[d].map({o: i for i, o in enumerate(curve.options[d])}) for d in mu.CHOICES]
    assert pd.concat(rank, axis=1).apply(tuple, axis=1).is_monotonic_increasing
    assert not ((specs.outcome == "log_exports_per_capita") & (specs.controls != "none")).any()
    assert (specs.thin == (specs.metros_identifying < 35)).all()
    assert specs.loc[specs["sample"].isin(["small", "mid", "large"]), "thin"].all()
    assert specs.duplicate[specs.data == "copy"].all() and not specs.duplicate[specs.data == "default"].any()
    support = mu.identifying_support({"default": panel}, mu.samples(panel)).set_index(["sample", "treatment"])
    for r in specs[specs.data == "default"].itertuples():
        s = support.loc[(r.sample, r.treatment)]
        assert r.metros_identifying == (s.changing if "metro" in r.fixed_effects else s.nonzero)
    wide = mu.specifications_table(curve)
    assert len(wide) == len(specs) // 2
    hetero = specs[specs.vcov == "hetero"].set_index(mu.REGRESSION).std_error
    assert np.allclose(wide.set_index(mu.REGRESSION).std_error_hetero, hetero.reindex(
        wide.set_index(mu.REGRESSION).index))


def test_feols_checks(curve, synthetic):
    checks = mu.feols_checks(synthetic[1], curve.specifications)
    assert len(checks) == 3 and checks.matches.all()
    assert (checks.curve_nobs == checks.feols_nobs).all()


# -- the curve in numbers --------------------------------------------------------------------------------------
def summary_by_loop(rows: pd.DataFrame, alpha: float = 0.05) -> dict:
    est = [r for r in rows.to_dict("records") if r["coefficient"] == r["coefficient"]]
    n = len(est)
    return {"n_specs": len(rows), "n_estimated": n,
            "median_estimate": float(np.median([r["coefficient"] for r in est])),
            "share_positive": sum(r["coefficient"] > 0 for r in est) / n,
            "share_significant": sum(r["p_value"] < alpha for r in est) / n,
            "share_significant_positive": sum(r["p_value"] < alpha and r["coefficient"] > 0 for r in est) / n}


def test_summaries_against_a_loop():
    mv = hand_made()
    table = mu.summary_by_treatment(mv).set_index(["inference", "treatment"])
    spec = mv.specifications
    parts = {"clustered by metro": spec[spec.vcov == "CRV1"],
             "clustered, distinct estimates": spec[(spec.vcov == "CRV1") & ~spec.duplicate],
             "clustered, 5+ metros": spec[(spec.vcov == "CRV1") & ~spec.thin],
             "heteroskedasticity-robust": spec[spec.vcov == "hetero"]}
    for label, part in parts.items():
        for x in ("a", "b"):
            expected = summary_by_loop(part[part.treatment == x])
            got = table.loc[(label, x)]
            for k, v in expected.items():
                assert got[k] == pytest.approx(v), (label, x, k)
            assert got.median_percent == pytest.approx(100 * (np.exp(expected["median_estimate"]) - 1))
    by_fe = mu.summary_by_fixed_effects(mv).set_index(["treatment", "fixed_effects"])
    clustered = spec[spec.vcov == "CRV1"]
    for (x, fe), got in by_fe.iterrows():
        expected = summary_by_loop(clustered[(clustered.treatment == x) & (clustered.fixed_effects == fe)])
        assert got.share_significant_positive == pytest.approx(expected["share_significant_positive"])
        assert got.median_estimate == pytest.approx(expected["median_estimate"])


def test_by_option_against_a_loop():
    mv = hand_made(1)
    assert mv.dimensions == ["data", "controls", "fixed_effects", "sample"]
    table = mu.by_option(mv).set_index(["treatment", "choice", "option"])
    est = mv.estimated
    assert len(table) == 2 * 8
    for x, d in itertools.product(("a", "b"), mv.dimensions):
        for o in mv.options[d]:
            values = [r for r in est.to_dict("records") if r["treatment"] == x and r[d] == o]
            coef = np.array([r["coefficient"] for r in values])
            got = table.loc[(x, d, o)]
            assert got.specifications == len(values)
            assert got.median_estimate == pytest.approx(np.median(coef))
            assert got.q25 == pytest.approx(np.quantile(coef, 0.25))
            assert got.share_significant_positive == pytest.approx(
                np.mean([r["coefficient"] > 0 and r["p_value"] < 0.05 for r in values]))


def test_choice_importance_when_one_choice_determines_the_estimate():
    mv = hand_made(2)
    spec = mv.specifications
    effect = {"none": 0.0, "pop": 0.3}
    spec["coefficient"] = spec.controls.map(effect) + spec.treatment.map({"a": 0.0, "b": 1.0})
    table = mu.choice_importance(mv).set_index(["treatment", "choice"])
    for x in ("a", "b"):
        assert table.loc[(x, "controls"), "variance_share"] == pytest.approx(1.0)
        assert table.loc[(x, "controls"), "median_range"] == pytest.approx(0.3)
        assert (table.loc[(x, "controls"), "lowest_option"], table.loc[(x, "controls"), "highest_option"]) == \
            ("none", "pop")
        for d in ("data", "fixed_effects", "sample"):
            assert table.loc[(x, d), "variance_share"] == pytest.approx(0.0, abs=1e-12)
            assert table.loc[(x, d), "median_range"] == pytest.approx(0.0, abs=1e-12)
    # the share explained, by a one-way analysis of variance on a random curve
    mv = hand_made(3)
    table = mu.choice_importance(mv).set_index(["treatment", "choice"])
    est = mv.estimated
    for x, d in itertools.product(("a", "b"), mv.dimensions):
        part = est[est.treatment == x]
        y = part.coefficient.to_numpy()
        fitted = np.array([y[part[d].to_numpy() == o].mean() for o in part[d]])
        assert table.loc[(x, d), "variance_share"] == pytest.approx(((fitted - y.mean()) ** 2).sum()
                                                                     / ((y - y.mean()) ** 2).sum())


def test_curve_counts_and_description():
    mv = hand_made(4)
    counts = mu.curve_counts(mv)
    clustered = mv.specifications[mv.specifications.vcov == "CRV1"]
    est = clustered[clustered.coefficient.notna()]
    assert (counts.regressions, counts.estimated) == (len(clustered), len(est))
    assert counts.distinct == int((~est.duplicate).sum())
    assert counts.thin_significant == int((est.thin & (est.p_value < 0.05)).sum())
    assert counts.not_estimated.to_dict() == {"x not estimated": len(clustered) - len(est)}
    text = "\n".join(mu.describe(mv))
    assert f"Estimated: {len(est):,} of {len(clustered):,} regressions" in text


# -- against the anchor, the null, the truth -------------------------------------------------------------------
def test_anchor_tables_use_the_estimated_clustered_specifications(curve):
    tables = mu.anchor_tables(curve)
    est = curve.estimated
    signs = tables.signs.set_index(["treatment", "scope"])
    assert signs.loc[("sister_active", "all specifications"), "specifications"] == \
        int((est.treatment == "sister_active").sum())
    assert (tables.size_classes.cells == 0).all()  # every size-class specification is thin at 35 metros (a class has at most 34)
    assert list(tables.claims.columns) == ["claim", "scope", "evidence", "supported"]


def test_curve_null_test(synthetic):
    from citydip.estimation.speccurve import NULL_STATISTICS, spec_curve

    _, panel = synthetic
    samples = {"all": None, "2005-2019": "year <= 2019"}
    result = mu.curve_null_test(panel, samples, draws=19, seed=7)
    # 3 measures x 5 control sets x 3 fixed-effect structures x 2 samples
    assert result.specifications == 3 * 5 * 3 * 2
    table = result.table
    groups = ["pooled (metro + year, year)", "metro + year", "year", "metro only"]
    assert list(table.group.unique()) == groups and len(table) == 4 * 3
    assert table.statistic.tolist() == list(NULL_STATISTICS) * 4
    assert table.groupby("group", sort=False).specifications.first().tolist() == [60, 30, 30, 30]
    assert (table.method == "bootstrap").all() and (table.draws == 19).all() and (table.seed == 7).all()
    assert np.allclose(table.p_value, (1 + table.exceeded) / 20)
    assert np.allclose(table.monte_carlo_se, np.sqrt(table.p_value * (1 - table.p_value) / 19))
    # each group is the curve's own specifications of those fixed effects, metro-only never pooled
    curve = spec_curve(panel, outcomes="log_exports", treatments=list(MEASURES), controls=mu.CONTROLS,
                       fixed_effects=mu.FIXED_EFFECTS, samples=samples, vcov="CRV1").results
    medians = table[table.statistic == "median_estimate"].set_index("group").observed
    assert medians["pooled (metro + year, year)"] == pytest.approx(curve[curve.fixed_effects != "metro"].coefficient.median())
    for fe, group in (("metro + year", "metro + year"), ("year", "year"), ("metro", "metro only")):
        assert medians[group] == pytest.approx(curve[curve.fixed_effects == fe].coefficient.median())
    # the main test is the pooled group's, with the median and share findings words
    t = result.test
    assert list(t.groups.index) == groups[:1] and list(result.groups.groups.index) == groups
    assert result.exceeded.index.tolist() == ["median_estimate", "share_significant"]
    main = table[table.group == groups[0]].set_index("statistic")
    assert result.exceeded.tolist() == main.exceeded.iloc[:2].tolist()
    # the synthetic effects are positive and strong: no null draw reaches the observed curve
    assert (main.direction == 1).all() and (main.exceeded == 0).all()
    assert result.at_floor == ["median_estimate", "share_significant"] and result.unsettled == []
    again = mu.curve_null_test(panel, samples, draws=19, seed=7)
    assert again.table.equals(result.table)
    # the previous method stays available
    old = mu.curve_null_test(panel, {"all": None}, draws=2, seed=7, method="resample")
    assert (old.table.method == "resample").all() and (old.table.draws == 2).all()


def test_synthetic_check_recovers_the_true_effects(curve, synthetic):
    build, _ = synthetic
    table = mu.synthetic_check(curve, build.truth).set_index("measure")
    truth = {"sister_active": build.truth["beta_sister"], "consular_posts": build.truth["beta_consulate"],
             "networks_dated": build.truth["beta_network"]}
    est = curve.estimated
    for m in MEASURES:
        part = est[(est.treatment == m) & (est.fixed_effects == "metro + year") & (est["sample"] == "all")]
        assert table.loc[m, "true"] == truth[m] and table.loc[m, "specifications"] == len(part)
        assert table.loc[m, "median_estimate"] == pytest.approx(part.coefficient.median())
        # metro + year specifications are correctly specified on the synthetic panel: near the truth
        assert abs(table.loc[m, "median_estimate"] - truth[m]) < 0.5 * truth[m]
        assert table.loc[m, "coverage"] >= 0.5


def test_findings(curve, synthetic):
    build, panel = synthetic
    null = mu.curve_null_test(panel, {"all": None}, draws=2)
    lines = mu.findings(curve, null, build.truth)
    summary = mu.summary_by_treatment(curve).set_index(["inference", "treatment"])
    r = summary.loc[("clustered by metro", "sister_active")]
    assert any(line.startswith(f"- Sister-city ties (active): median {r.median_estimate:+.4f}") for line in lines)
    assert sum(line.startswith("- Anchor claim") for line in lines) == len(mu.anchor_tables(curve).claims)
    assert lines[-1].startswith("- Synthetic check")


# -- the choices and the figures ------------------------------------------------------------------------------
def test_prepare_and_samples(synthetic):
    build, panel = synthetic
    raw = build.panel
    expected = np.log(raw.exports_usd / raw.population_persons)
    assert np.allclose(panel.log_exports_per_capita, expected, equal_nan=True)
    assert "no boundary break" not in mu.samples(raw.assign(exports_boundary_break=False))
    broken = raw.assign(exports_boundary_break=raw.year == 2010)
    rules = mu.samples(broken)
    assert list(rules) == ["all", "small", "mid", "large", "2005-2019", "no boundary break"]
    assert mu.sample_mask(broken, rules["no boundary break"]).sum() == int((broken.year != 2010).sum())
    assert mu.sample_mask(broken, rules["mid"]).sum() == int((broken.size_class == "mid").sum())
    assert mu.sample_mask(broken, None).all()


def test_focus_limits_and_focused_curve():
    from citydip.report.robustness_plots import focus_limits, plot_focused_curve

    rng = np.random.default_rng(5)
    n = 60
    coef = rng.normal(0.02, 0.01, n)
    thin = np.zeros(n, bool)
    thin[:3] = True
    coef[:3] = [2.0, -1.5, 0.03]  # two thin estimates far outside, one inside
    results = pd.DataFrame({"spec_id": np.arange(n), "coefficient": coef, "conf_low": coef - 0.02,
                            "conf_high": coef + 0.02, "p_value": rng.uniform(0, 0.1, n), "thin": thin,
                            "controls": np.where(np.arange(n) % 2, "none", "pop")})
    core = results[~results.thin]
    lo = min(0.0, core.coefficient.min(), np.quantile(core.conf_low, 0.05))
    hi = max(0.0, core.coefficient.max(), np.quantile(core.conf_high, 0.95))
    assert focus_limits(results) == pytest.approx((lo - 0.05 * (hi - lo), hi + 0.05 * (hi - lo)))
    assert focus_limits(results.assign(thin=True)) == pytest.approx(
        (-1.5 - 0.05 * 3.5, 2.0 + 0.05 * 3.5))
    fig = plot_focused_curve(results, label="X", min_metros=5)
    top = fig.axes[0]
    assert top.get_ylim() == pytest.approx(focus_limits(results))
    assert "2 estimates (resting on fewer than 5 metros) beyond the axis" in top.get_title()
    markers = [c for c in top.collections if len(c.get_offsets()) and c.get_offsets()[0][1] in top.get_ylim()]
    assert sum(len(c.get_offsets()) for c in markers) == 2


def test_option_medians_figure(curve):
    from citydip.report.robustness_plots import option_medians

    table = mu.by_option(curve)
    fig = option_medians(table, curve.estimated, curve.options, curve.dimensions, curve.options["treatment"])
    assert len(fig.axes) == 4
    labels = [t.get_text() for t in fig.axes[0].get_yticklabels()]
    assert len(labels) == sum(len(curve.options[d]) for d in curve.dimensions)
    first = fig.axes[0].collections[-1].get_offsets()[:, 0]  # the medians, top row first
    expected = table[table.treatment == curve.options["treatment"][0]].median_estimate.to_numpy()
    assert np.allclose(first, expected)
