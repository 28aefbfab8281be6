"""Interaction forests and their EIM against the R package diversityForest, on the four
reference data sets, plus the method's own properties and its bad-input behaviour.

The reference files (R's EIM over seeds 1-10 for each data set, ``num.trees = 2000``) are read in
place from ``REF_DIR`` (see its README.md). Without them the agreement tests skip, except where
``CITYDIP_REQUIRE_DATA=1``, where they fail.

Agreement with R. The method is random (random pairs, random split points), and citydip's
random numbers are not R's: the comparison is of distributions over seeds. For each data set
citydip is run with the same data, trees and number of seeds (10) as R, and:

* every univariable effect, and R's three largest qualitative and quantitative effects, have a
  citydip mean over the seeds within R's mean +/- 3 of R's standard deviations; for an effect near
  zero (``|R's mean| < NEAR_ZERO``) 0.002 is added to that band (a quantitative effect is compared
  by pair: the value each seed reports for the pair, whatever its corner);
* where R's first-ranked effect of a kind is clearly separated from its second (means more than
  2 of R's standard deviations apart, the larger of the two), citydip ranks the same effect first
  on average over the seeds, and for a quantitative pair names the same corner in most seeds;
* the out-of-bag R^2 is within 0.02 of R's mean.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import citydip
from citydip.errors import CitydipError
from citydip.estimation.interaction_forest import (
    ACROSS_SEEDS_COLUMNS,
    CORNER_COLUMNS,
    QUALITATIVE_COLUMNS,
    QUANTITATIVE_COLUMNS,
    UNIVARIABLE_COLUMNS,
    default_npairs,
    interaction_forest,
    summarise_seeds,
)

REF_DIR = Path(__file__).resolve().parents[3] / "shared" / "reference" / "interaction_forests"
DATA_SETS = ("anchor_like", "qualitative", "quantitative", "metro_cross_section")
SEEDS = tuple(range(1, 11))
#: Band of the interval check: R's mean +/- SD_BAND of R's standard deviations ...
SD_BAND = 3.0
#: ... plus ABS_BAND for an effect whose R mean is below NEAR_ZERO in absolute value.
ABS_BAND = 0.002
NEAR_ZERO = 0.01
#: R's first effect of a kind is "clearly separated" when its mean exceeds the second's by more
#: than SEPARATION of the larger of their standard deviations.
SEPARATION = 2.0
R2_TOLERANCE = 0.02
KINDS = ("univariable", "qualitative", "quantitative")


# -- the reference ------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def reference_dir() -> Path:
    needed = [REF_DIR / f"{kind}_{name}.csv" for name in DATA_SETS for kind in ("data", "eim")]
    if not all(path.is_file() for path in needed):
        message = f"interaction-forest reference files not found in {REF_DIR}"
        if os.environ.get("CITYDIP_REQUIRE_DATA") == "1":
            pytest.fail(message)
        pytest.skip(message)
    return REF_DIR


def read_data(reference_dir: Path, name: str) -> tuple[pd.DataFrame, str, list[str]]:
    """A reference data set: the first column is the outcome, the others the features (as in
    make_fixtures.R, without cbsa_code)."""
    data = pd.read_csv(reference_dir / f"data_{name}.csv").drop(columns="cbsa_code", errors="ignore")
    return data, data.columns[0], list(data.columns[1:])


def pair_of(effect: str) -> str:
    """'x1 large AND x2 small' -> 'x1 AND x2'."""
    return " AND ".join(part.rsplit(" ", 1)[0] for part in effect.split(" AND "))


def r_summary(eim: pd.DataFrame) -> tuple[pd.DataFrame, pd.Series]:
    """R's EIM file as citydip's :func:`summarise_seeds` summarises its own seeds, and R's fit rows."""
    effects = eim[eim.kind.isin(KINDS)].copy()
    effects["pair"] = np.where(effects.kind == "quantitative", effects.effect.map(pair_of), effects.effect)
    effects["rank"] = effects.groupby(["seed", "kind"]).value.rank(ascending=False, method="first").astype(int)
    fit = eim[eim.kind == "fit"].pivot(index="seed", columns="effect", values="value")
    return summarise_seeds(effects), fit


def agreement(ours: pd.DataFrame, r: pd.DataFrame) -> pd.DataFrame:
    """One row per checked effect (every univariable effect; R's three largest qualitative and
    quantitative ones): R's mean and s.d., citydip's mean and s.d., the band, and whether citydip's
    mean is inside it; then, per kind, the rank-first check where R's first is clearly separated."""
    rows = []
    for kind in KINDS:
        rk = r[r.kind == kind].set_index("pair")
        ok_ = ours[ours.kind == kind].set_index("pair")
        checked = rk.index if kind == "univariable" else rk.sort_values("mean", ascending=False).index[:3]
        for pair in checked:
            mean, sd = rk.loc[pair, "mean"], rk.loc[pair, "sd"]
            band = SD_BAND * sd + (ABS_BAND if abs(mean) < NEAR_ZERO else 0.0)
            got = ok_.loc[pair, "mean"]
            rows.append({"check": "interval", "kind": kind, "effect": rk.loc[pair, "effect"],
                         "citydip_effect": ok_.loc[pair, "effect"], "r_mean": mean, "r_sd": sd,
                         "citydip_mean": got, "citydip_sd": ok_.loc[pair, "sd"], "band": band,
                         "passed": bool(abs(got - mean) <= band)})
        top = rk.sort_values("mean", ascending=False)
        gap = top["mean"].iloc[0] - top["mean"].iloc[1]
        if gap > SEPARATION * max(top["sd"].iloc[0], top["sd"].iloc[1]):
            first = ok_.sort_values("mean", ascending=False).iloc[0]
            passed = first.name == top.index[0]
            if kind == "quantitative":  # the same corner, named in most seeds
                passed = passed and first.effect == top.effect.iloc[0] and first.label_share > 0.5
            rows.append({"check": "first", "kind": kind, "effect": top.effect.iloc[0],
                         "citydip_effect": first.effect, "r_mean": top["mean"].iloc[0], "r_sd": top["sd"].iloc[0],
                         "citydip_mean": first["mean"], "citydip_sd": first["sd"], "band": np.nan,
                         "passed": bool(passed)})
    return pd.DataFrame(rows)


@pytest.fixture(scope="module")
def agreements(reference_dir) -> dict[str, tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]]:
    """For each data set: the agreement table, citydip's fit over the seeds, R's fit rows."""
    out = {}
    for name in DATA_SETS:
        data, outcome, features = read_data(reference_dir, name)
        result = interaction_forest(data, outcome, features, num_trees=2000, seed=SEEDS[0], keep_forest=False)
        stability = result.across_seeds(SEEDS)
        r_effects, r_fit = r_summary(pd.read_csv(reference_dir / f"eim_{name}.csv"))
        out[name] = (agreement(stability.effects, r_effects), stability.fit, r_fit)
    return out


# -- agreement with R -----------------------------------------------------------------------------------
def test_reference_files_hold_ten_seeds_of_every_kind(reference_dir):
    for name in DATA_SETS:
        eim = pd.read_csv(reference_dir / f"eim_{name}.csv")
        _data, _, features = read_data(reference_dir, name)
        p = len(features)
        assert sorted(eim.seed.unique()) == list(SEEDS)
        counts = eim[eim.seed == 1].kind.value_counts()
        assert counts["univariable"] == p and counts["qualitative"] == counts["quantitative"] == p * (p - 1) // 2
        fit = eim[(eim.kind == "fit") & (eim.effect == "npairs")].value
        assert (fit == default_npairs(p)).all()  # R's npairs is citydip's default


@pytest.mark.slow
@pytest.mark.parametrize("name", DATA_SETS)
def test_eim_agree_with_r(agreements, name):
    table = agreements[name][0]
    failed = table[~table.passed]
    assert failed.empty, f"{name}: outside R's band or ranked differently:\n{failed.to_string()}"
    # the checks the issue names are all there
    assert (table[table.check == "interval"].kind == "univariable").sum() == len(read_data(REF_DIR, name)[2])
    assert (table[table.check == "interval"].kind == "qualitative").sum() == 3
    assert (table[table.check == "interval"].kind == "quantitative").sum() == 3


@pytest.mark.slow
def test_planted_effects_are_separated_in_r_and_found_first(agreements):
    """The planted interactions are clear cases of the rank-first check, with R's corner."""
    qual = agreements["qualitative"][0]
    quant = agreements["quantitative"][0]
    row = qual[(qual.check == "first") & (qual.kind == "qualitative")]
    assert row.effect.tolist() == ["x1 AND x2"] and row.passed.all()
    row = quant[(quant.check == "first") & (quant.kind == "quantitative")]
    assert row.effect.tolist() == ["x1 large AND x2 large"] and row.citydip_effect.tolist() == ["x1 large AND x2 large"]
    assert row.passed.all()


@pytest.mark.slow
@pytest.mark.parametrize("name", DATA_SETS)
def test_oob_r2_agrees_with_r(agreements, name):
    _, ours, r = agreements[name]
    assert abs(ours.r_squared.mean() - r.r_squared.mean()) <= R2_TOLERANCE
    # the same definition: R^2 = 1 - MSE / var(y)
    data, outcome, _ = read_data(REF_DIR, name)
    var = data[outcome].var(ddof=1)
    assert np.allclose(ours.r_squared, 1 - ours.oob_mse / var)
    assert np.allclose(r.r_squared, 1 - r.oob_mse / var, atol=1e-6)


def test_r_summary_by_hand():
    eim = pd.DataFrame({"seed": [1, 1, 1, 2, 2, 2], "kind": ["quantitative"] * 2 + ["univariable"] + ["quantitative"] * 2
                        + ["univariable"],
                        "effect": ["a large AND b small", "a small AND c small", "a", "a small AND b small",
                                   "a small AND c small", "a"],
                        "value": [0.3, 0.1, 0.5, 0.2, 0.4, 0.7]})
    summary, _ = r_summary(pd.concat([eim, pd.DataFrame({"seed": [1], "kind": ["fit"], "effect": ["r_squared"],
                                                         "value": [0.5]})]))
    ab = summary[summary.pair == "a AND b"].iloc[0]
    assert ab["mean"] == pytest.approx(0.25) and ab.label_share == 0.5 and ab.effect == "a large AND b small"
    ac = summary[summary.pair == "a AND c"].iloc[0]
    assert ac.rank_min == 1 and ac.rank_max == 2 and ac.first_share == 0.5
    assert summary[summary.kind == "univariable"]["mean"].item() == pytest.approx(0.6)


# -- the method on simulated data ---------------------------------------------------------------------------
def simulated(n: int = 300, seed: int = 0, kind: str = "qualitative") -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    x = rng.uniform(-1, 1, size=(n, 4))
    if kind == "qualitative":
        signal = np.where(x[:, 0] * x[:, 1] > 0, 1.0, -1.0)
    else:
        signal = 2.0 * ((x[:, 0] > 0.2) & (x[:, 1] > 0.2))
    y = signal + 0.5 * x[:, 2] + rng.normal(0, 0.3, n)
    return pd.DataFrame({"y": y, "a": x[:, 0], "b": x[:, 1], "c": x[:, 2], "d": x[:, 3]})


FEATURES = ["a", "b", "c", "d"]


@pytest.fixture(scope="module")
def qualitative_fit():
    return interaction_forest(simulated(), "y", FEATURES, num_trees=300, seed=7)


def test_tables_are_tidy_and_named_as_r(qualitative_fit):
    r = qualitative_fit
    assert list(r.eim_univariable.columns) == UNIVARIABLE_COLUMNS
    assert list(r.eim_qualitative.columns) == QUALITATIVE_COLUMNS
    assert list(r.eim_quantitative.columns) == QUANTITATIVE_COLUMNS
    assert list(r.eim_corners.columns) == CORNER_COLUMNS
    assert sorted(r.eim_univariable.effect) == FEATURES
    assert set(r.eim_qualitative.effect) == {"a AND b", "a AND c", "a AND d", "b AND c", "b AND d", "c AND d"}
    # a quantitative effect: the pair in column order, each with its side
    for row in r.eim_quantitative.itertuples():
        assert row.effect == f"{row.variable_a} {row.corner.split(' AND ')[0]} AND {row.variable_b} " \
                             f"{row.corner.split(' AND ')[1]}"
        assert FEATURES.index(row.variable_a) < FEATURES.index(row.variable_b)
    for table in (r.eim_univariable, r.eim_qualitative, r.eim_quantitative):
        assert table.value.is_monotonic_decreasing and table["rank"].tolist() == list(range(1, len(table) + 1))
    assert len(r.eim) == 4 + 6 + 6 and set(r.eim.kind) == {"univariable", "qualitative", "quantitative"}
    assert r.npairs == default_npairs(4) == 1 and r.num_trees == 300 and r.n_rows == 300


def test_quantitative_values_are_adjusted_by_the_opposite_corner(qualitative_fit):
    corners = qualitative_fit.eim_corners
    assert len(corners) == 6 * 4
    for (_, _), g in corners.groupby(["variable_a", "variable_b"]):
        raw = g.set_index("corner").eim
        opposite = {"small AND small": "large AND large", "small AND large": "large AND small",
                    "large AND small": "small AND large", "large AND large": "small AND small"}
        for corner, value in raw.items():
            adjusted = g.set_index("corner").adjusted[corner]
            assert adjusted == pytest.approx(value - max(raw[opposite[corner]], 0.0))
        assert g.reported.sum() == 1
        assert g[g.reported].adjusted.item() == pytest.approx(g.adjusted.max())
    reported = corners[corners.reported].set_index("effect").adjusted
    quant = qualitative_fit.eim_quantitative.set_index("effect").value
    assert np.allclose(quant.sort_index(), reported.sort_index())


def test_planted_qualitative_effect_found(qualitative_fit):
    r = qualitative_fit
    assert r.eim_qualitative.effect.iloc[0] == "a AND b"
    assert r.eim_qualitative.value.iloc[0] > 5 * abs(r.eim_qualitative.value.iloc[1])
    assert set(r.eim_univariable.effect.iloc[:3]) == {"a", "b", "c"}
    values = r.eim_univariable.set_index("effect").value
    assert values["d"] < 0.25 * values["c"]  # noise, far below the weakest real effect
    assert r.r_squared > 0.5


def test_planted_corner_found_with_its_name():
    r = interaction_forest(simulated(kind="quantitative"), "y", FEATURES, num_trees=300, seed=3)
    assert r.eim_quantitative.effect.iloc[0] == "a large AND b large"
    assert r.eim_quantitative.value.iloc[0] > 3 * r.eim_quantitative.value.iloc[1]


def test_oob_error_from_oob_predictions(qualitative_fit):
    r = qualitative_fit
    data = simulated()
    assert r.oob_predictions.index.equals(data.index) and r.oob_predictions.notna().all()
    assert r.oob_mse == pytest.approx(float(np.mean((data.y - r.oob_predictions) ** 2)))
    assert r.r_squared == pytest.approx(1 - r.oob_mse / data.y.var(ddof=1))


def test_predict_is_the_mean_over_trees(qualitative_fit):
    data = simulated()
    pred = qualitative_fit.predict(data)
    assert pred.shape == (len(data),)
    # in-sample predictions fit better than out-of-bag ones, and new data are predicted well
    assert np.mean((data.y - pred) ** 2) < qualitative_fit.oob_mse
    fresh = simulated(seed=1)
    r2 = 1 - np.mean((fresh.y - qualitative_fit.predict(fresh)) ** 2) / fresh.y.var()
    assert r2 == pytest.approx(qualitative_fit.r_squared, abs=0.1)
    # a one-tree forest predicts the means of its leaves: few distinct values, each a mean of
    # the training outcome over at least one row
    one = interaction_forest(data, "y", FEATURES, num_trees=1, seed=2)
    oob = one.oob_predictions.dropna()  # the rows the tree did not see: the stored tree predicts them alike
    assert 0.2 * len(data) <= len(oob) <= 0.4 * len(data)
    assert np.array_equal(one.predict(data.loc[oob.index]), oob.to_numpy())
    values = np.unique(one.predict(fresh))
    assert len(values) < len(data) / 2
    assert values.min() >= data.y.min() and values.max() <= data.y.max()


def test_same_seed_same_forest_whatever_the_threads():
    data = simulated(n=150)
    a = interaction_forest(data, "y", FEATURES, num_trees=64, seed=11, n_jobs=1)
    b = interaction_forest(data, "y", FEATURES, num_trees=64, seed=11, n_jobs=2)
    c = interaction_forest(data, "y", FEATURES, num_trees=64, seed=12, n_jobs=2)
    pd.testing.assert_frame_equal(a.eim, b.eim)
    pd.testing.assert_frame_equal(a.eim_corners, b.eim_corners)
    assert a.oob_mse == b.oob_mse
    assert np.array_equal(a.predict(data), b.predict(data))
    assert not a.eim.equals(c.eim)


def test_across_seeds_summarises_every_effect():
    data = simulated(n=150)
    r = interaction_forest(data, "y", FEATURES, num_trees=60, seed=1)
    stability = r.across_seeds(seeds=[1, 2, 3])
    assert stability.seeds == (1, 2, 3)
    assert list(stability.effects.columns) == ACROSS_SEEDS_COLUMNS
    assert len(stability.effects) == 4 + 6 + 6
    assert (stability.effects.seeds == 3).all()
    assert stability.fit.seed.tolist() == [1, 2, 3]
    # seed 1 is the result itself
    first = stability.per_seed[stability.per_seed.seed == 1]
    assert np.allclose(first[first.kind == "univariable"].value, r.eim_univariable.value)
    assert stability.fit.r_squared.iloc[0] == r.r_squared
    # means and ranks by hand
    uni = stability.per_seed[stability.per_seed.kind == "univariable"]
    by_hand = uni.groupby("effect").value.agg(["mean", "std"])
    table = stability.kind("univariable").set_index("effect")
    assert np.allclose(table["mean"], by_hand["mean"][table.index])
    assert np.allclose(table["sd"], by_hand["std"][table.index])
    assert table["mean"].is_monotonic_decreasing
    ranks = uni.groupby("effect")["rank"]
    assert (table.rank_min == ranks.min()[table.index]).all() and (table.rank_max == ranks.max()[table.index]).all()
    assert np.allclose(table.first_share, ranks.apply(lambda s: (s == 1).mean())[table.index])
    assert stability.kind("quantitative").label_share.between(1 / 3, 1).all()


def test_top_level_export():
    assert citydip.interaction_forest is interaction_forest
    assert "interaction_forest" in citydip.__all__
    import importlib

    assert importlib.import_module("citydip.estimation.interaction_forest").interaction_forest is interaction_forest


# -- bad input ------------------------------------------------------------------------------------------
@pytest.mark.parametrize(("change", "message"), [
    (lambda d: d.assign(a=d.a.where(d.index != 3)), "missing or infinite"),
    (lambda d: d.assign(y=d.y.where(d.index != 3)), "missing or infinite"),
    (lambda d: d.assign(b=np.inf), "missing or infinite"),
    (lambda d: d.assign(c=1.0), "fewer than two distinct values"),
    (lambda d: d.assign(y=2.0), "outcome is constant"),
    (lambda d: d.assign(d="x"), "not numeric"),
    (lambda d: d.head(7), "too few"),
])
def test_bad_data_raise_a_clear_error(change, message):
    data = change(simulated(n=60))
    with pytest.raises(CitydipError, match=message):
        interaction_forest(data, "y", FEATURES, num_trees=5)


def test_feature_with_one_value_is_named():
    data = simulated(n=60).assign(d=0.0)
    with pytest.raises(CitydipError, match=r"\['d'\]"):
        interaction_forest(data, "y", FEATURES, num_trees=5)


@pytest.mark.parametrize(("features", "message"), [
    (["a"], "at least two features"),
    ([], "at least two features"),
    ("ab", "not one string"),
    (["a", "a", "b"], "repeated"),
    (["a", "y"], "also among the features"),
    (["a", "zz"], "no columns"),
])
def test_bad_features_raise(features, message):
    with pytest.raises(CitydipError, match=message):
        interaction_forest(simulated(n=60), "y", features, num_trees=5)


@pytest.mark.parametrize(("options", "message"), [
    ({"num_trees": 0}, "num_trees"),
    ({"num_trees": 2.5}, "num_trees"),
    ({"seed": -1}, "seed"),
    ({"npairs": 0}, "npairs"),
    ({"min_node_size": 0}, "min_node_size"),
    ({"sample_fraction": 1.0}, "sample_fraction"),
    ({"n_jobs": 0}, "n_jobs"),
    ({"min_node_size": 50}, "too few"),
])
def test_bad_options_raise(options, message):
    with pytest.raises(CitydipError, match=message):
        interaction_forest(simulated(n=60), "y", FEATURES, **{"num_trees": 5, **options})


def test_fewer_rows_than_the_minimum_node_size_raise():
    data = simulated(n=5)
    with pytest.raises(CitydipError, match="too few"):
        interaction_forest(data, "y", FEATURES, num_trees=5)


def test_smallest_workable_data_and_two_features_work():
    r = interaction_forest(simulated(n=12), "y", ["a", "b"], num_trees=20, seed=1)
    assert len(r.eim_qualitative) == len(r.eim_quantitative) == 1
    assert np.isfinite(r.oob_mse)


def test_predict_and_refit_need_what_was_dropped():
    data = simulated(n=60)
    r = interaction_forest(data, "y", FEATURES, num_trees=5, keep_forest=False)
    with pytest.raises(CitydipError, match="not kept"):
        r.predict(data)
    with pytest.raises(CitydipError, match="lack the columns"):
        interaction_forest(data, "y", FEATURES, num_trees=5).predict(data.drop(columns="a"))
    with pytest.raises(CitydipError, match="repeated seeds"):
        r.across_seeds([1, 1])
