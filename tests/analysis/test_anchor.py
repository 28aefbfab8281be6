"""The anchor paper's claims: verdicts on hand-made estimates and curves for every branch, the
curve tables against plain loops, and the synthetic panel, whose true effects are known."""

from __future__ import annotations

import itertools
import warnings

import numpy as np
import pandas as pd
import pytest

from citydip.analysis import anchor
from citydip.analysis.anchor import CLAIMS

MEASURES = ["sister_active", "consulates_general", "networks_dated"]


def estimates(rows: dict[str, tuple[float, float, float]]) -> pd.DataFrame:
    """A tidy table from term -> (estimate, std_error, p_value)."""
    return pd.DataFrame([{"term": t, "estimate": b, "std_error": s, "p_value": p} for t, (b, s, p) in rows.items()])


def verdicts(table: pd.DataFrame) -> dict[str, str]:
    names = {text: key for key, text in CLAIMS.items()}
    return {names[r.claim]: r.supported for r in table.itertuples()}


def size_table(largest: dict[str, str], mid_p: float = 0.01) -> pd.DataFrame:
    """Size-class coefficients where ``largest[m]`` has 0.3, the others 0.1 and 0.2; p-values
    ``mid_p`` for the mid-size class, 0.5 otherwise."""
    rows = {}
    for m, top in largest.items():
        others = iter([0.1, 0.2])
        for c in anchor.SIZE_CLASSES:
            rows[f"{m}_x_{c}"] = (0.3 if c == top else next(others), 0.05, mid_p if c == "mid" else 0.5)
    return estimates(rows)


# -- claims from model estimates -----------------------------------------------------------------------
def test_claims_from_estimates_supported():
    coef = estimates({"sister_active": (0.02, 0.005, 0.001), "consulates_general": (0.10, 0.01, 1e-6),
                      "networks_dated": (0.05, 0.02, 0.02), "log_population": (0.8, 0.1, 0.0)})
    table = anchor.claims_from_estimates(coef, size_estimates=size_table(dict.fromkeys(MEASURES, "mid")))
    assert list(table.columns) == anchor.CLAIM_COLUMNS
    assert verdicts(table) == {"all_positive": "yes", "consulates_strongest": "yes", "mid_size_gain_most": "yes"}


def test_claims_from_estimates_partly():
    # one of three significantly positive; consulates first by t but not significant (t = 1.5 > 1.4 > 1.0)
    coef = estimates({"sister_active": (0.014, 0.01, 0.17), "consulates_general": (0.03, 0.02, 0.14),
                      "networks_dated": (-0.01, 0.01, 0.32)})
    coef.loc[0, "p_value"] = 0.01  # sister significantly positive (its t is still the smaller)
    sizes = size_table({"sister_active": "mid", "consulates_general": "small", "networks_dated": "large"})
    table = anchor.claims_from_estimates(coef, size_estimates=sizes)
    assert verdicts(table) == {"all_positive": "partly", "consulates_strongest": "partly",
                               "mid_size_gain_most": "partly"}
    # mid largest everywhere but never significantly positive: partly, not yes
    table = anchor.claims_from_estimates(coef, size_estimates=size_table(dict.fromkeys(MEASURES, "mid"), mid_p=0.4))
    assert verdicts(table)["mid_size_gain_most"] == "partly"


def test_claims_from_estimates_not_supported():
    coef = estimates({"sister_active": (0.05, 0.01, 0.001), "consulates_general": (-0.02, 0.01, 0.05),
                      "networks_dated": (0.01, 0.05, 0.8)})
    coef.loc[0, "estimate"] = -0.05  # negative and significant: not support
    sizes = size_table({"sister_active": "small", "consulates_general": "large", "networks_dated": "small"})
    table = anchor.claims_from_estimates(coef, size_estimates=sizes)
    assert verdicts(table) == {"all_positive": "no", "consulates_strongest": "no", "mid_size_gain_most": "no"}


def test_claims_from_estimates_missing_measures():
    coef = estimates({"sister_active": (0.05, 0.01, 0.001), "networks_dated": (0.05, 0.01, 0.001)})
    sizes = size_table({"sister_active": "mid"}).iloc[:2]  # the large class is missing
    table = anchor.claims_from_estimates(coef, size_estimates=sizes)
    assert verdicts(table) == {"all_positive": "partly", "consulates_strongest": "not testable",
                               "mid_size_gain_most": "not testable"}
    assert "not estimated" in table.evidence[0]
    assert anchor.largest_size_class(sizes, ["sister_active"]).largest["sister_active"] == \
        "not all classes estimated"


def test_consulate_measure_is_chosen_from_the_measures():
    coef = estimates({"sister_active": (0.01, 0.01, 0.3), "consular_posts": (0.05, 0.01, 0.001),
                      "networks_dated": (0.01, 0.01, 0.3)})
    table = anchor.claims_from_estimates(coef, measures=["sister_active", "consular_posts", "networks_dated"])
    assert verdicts(table)["consulates_strongest"] == "yes" and len(table) == 2


def test_count_verdict():
    assert [anchor.count_verdict(h, 3) for h in (3, 2, 0)] == ["yes", "partly", "no"]
    assert anchor.count_verdict(0, 0) == "not testable"


# -- the curve tables -----------------------------------------------------------------------------------
def random_curve(seed: int = 1) -> pd.DataFrame:
    """Estimated specifications over every cell of two panels, two outcomes, two control sets,
    two fixed-effect structures and four samples, for four treatments; random coefficients,
    t statistics, p-values and thin flags; a few specifications removed."""
    rng = np.random.default_rng(seed)
    rows = []
    for data, outcome, controls, fe, sample, x in itertools.product(
            ["default", "v"], ["y", "y_pc"], ["none", "pop"], ["year", "metro + year"],
            ["all", "small", "mid", "large"], ["sister_active", "consular_posts", "consulates_general",
                                               "networks_dated"]):
        b = rng.normal(0.01, 0.05)
        rows.append({"data": data, "outcome": outcome, "controls": controls, "fixed_effects": fe, "sample": sample,
                     "treatment": x, "coefficient": b, "t": rng.normal(0, 2), "p_value": rng.uniform(0, 0.2),
                     "thin": rng.random() < 0.15})
    frame = pd.DataFrame(rows)
    return frame.drop(index=rng.choice(len(frame), 20, replace=False)).reset_index(drop=True)


def test_curve_signs_against_a_loop():
    curve = random_curve()
    treatments = ["sister_active", "consular_posts", "consulates_general", "networks_dated"]
    table = anchor.curve_signs(curve, treatments, min_metros=5).set_index(["treatment", "scope"])
    for x in treatments:
        for scope, keep in [("all specifications", lambda r: True), ("5+ metros", lambda r: not r["thin"]),
                            ("5+ metros, year effects only", lambda r: not r["thin"] and r["fixed_effects"] == "year"),
                            ("5+ metros, metro + year effects",
                             lambda r: not r["thin"] and r["fixed_effects"] == "metro + year")]:
            rows = [r for r in curve.to_dict("records") if r["treatment"] == x and keep(r)]
            got = table.loc[(x, scope)]
            assert got.specifications == len(rows)
            assert got.share_positive == pytest.approx(sum(r["coefficient"] > 0 for r in rows) / len(rows))
            assert got.share_significant_positive == pytest.approx(
                sum(r["coefficient"] > 0 and r["p_value"] < 0.05 for r in rows) / len(rows))
            assert got.share_significant_negative == pytest.approx(
                sum(r["coefficient"] < 0 and r["p_value"] < 0.05 for r in rows) / len(rows))


def test_curve_ranking_against_a_loop():
    curve = random_curve(2)
    table = anchor.curve_ranking(curve)
    for consulate in anchor.CONSULATES:
        trio = ["sister_active", consulate, "networks_dated"]
        cells: dict[tuple, dict] = {}
        for r in curve.to_dict("records"):
            if r["treatment"] in trio and not r["thin"]:
                cells.setdefault(tuple(r[c] for c in anchor.CELL), {})[r["treatment"]] = r["t"]
        complete = [c for c in cells.values() if len(c) == 3]
        firsts = [max(trio, key=lambda m: c[m]) for c in complete]
        got = table[table.consulate_measure == consulate].set_index("largest_t")
        for m in trio:
            assert got.cells[m] == firsts.count(m)
            assert got.share[m] == pytest.approx(firsts.count(m) / len(complete))


def test_curve_size_classes_against_a_loop():
    curve = random_curve(3)
    treatments = ["sister_active", "consular_posts", "consulates_general", "networks_dated"]
    table = anchor.curve_size_classes(curve, treatments).set_index("treatment")
    for x in treatments:
        cells: dict[tuple, dict] = {}
        for r in curve.to_dict("records"):
            if r["treatment"] == x and not r["thin"] and r["sample"] in anchor.SIZE_CLASSES:
                key = (r["data"], r["outcome"], r["controls"], r["fixed_effects"])
                cells.setdefault(key, {})[r["sample"]] = (r["coefficient"], r["p_value"])
        complete = [c for c in cells.values() if len(c) == 3]
        firsts = [max(anchor.SIZE_CLASSES, key=lambda k: c[k][0]) for c in complete]
        got = table.loc[x]
        assert got.cells == len(complete)
        for k in anchor.SIZE_CLASSES:
            assert got[f"share_{k}_largest"] == pytest.approx(firsts.count(k) / len(complete))
        assert got.share_mid_significant_positive == pytest.approx(
            sum(c["mid"][0] > 0 and c["mid"][1] < 0.05 for c in complete) / len(complete))


def test_curve_size_classes_without_cells():
    curve = random_curve(4).assign(thin=True)
    table = anchor.curve_size_classes(curve, ["sister_active"])
    assert table.cells.tolist() == [0] and table.share_mid_largest.isna().all()


# -- claims from a curve -------------------------------------------------------------------------------------
def curve_tables(sig: tuple[float, float, float], consulate_cells: tuple[int, int, int],
                 mid: tuple[float, float], mid_sig: tuple[float, float] = (0.9, 0.9)):
    signs = pd.DataFrame([{"treatment": m, "scope": "all specifications", "specifications": 10, "share_positive": 0.9,
                           "share_significant_positive": s, "share_significant_negative": 0.0}
                          for m, s in zip(MEASURES, sig)])
    total = sum(consulate_cells)
    ranking = pd.DataFrame([{"consulate_measure": "consulates_general", "largest_t": m, "cells": n,
                             "share": n / total if total else np.nan} for m, n in zip(MEASURES, consulate_cells)])
    classes = pd.DataFrame([{"treatment": m, "cells": 10, "share_small_largest": (1 - s) / 2, "share_mid_largest": s,
                             "share_large_largest": (1 - s) / 2, "share_mid_significant_positive": q}
                            for m, s, q in zip(["sister_active", "networks_dated"], mid, mid_sig)])
    return signs, ranking, classes


@pytest.mark.parametrize("sig, cells, mid, mid_sig, expected", [
    ((0.6, 0.7, 0.9), (2, 6, 1), (0.6, 0.8), (0.9, 0.9), ("yes", "yes", "yes")),
    ((0.6, 0.1, 0.2), (2, 4, 3), (0.6, 0.1), (0.9, 0.9), ("partly", "partly", "partly")),
    ((0.6, 0.7, 0.9), (2, 6, 1), (0.6, 0.8), (0.9, 0.2), ("yes", "yes", "partly")),
    ((0.1, 0.2, 0.3), (5, 1, 4), (0.3, 0.4), (0.9, 0.9), ("no", "no", "no")),
    ((0.1, 0.2, 0.3), (0, 0, 0), (0.3, 0.4), (0.9, 0.9), ("no", "not testable", "no")),
])
def test_claims_from_curve_branches(sig, cells, mid, mid_sig, expected):
    table = anchor.claims_from_curve(*curve_tables(sig, cells, mid, mid_sig))
    assert tuple(verdicts(table)[k] for k in CLAIMS) == expected


def test_claims_from_curve_size_classes_without_cells():
    signs, ranking, classes = curve_tables((0.6, 0.7, 0.9), (2, 6, 1), (0.6, 0.8))
    table = anchor.claims_from_curve(signs, ranking, classes.assign(cells=0))
    assert verdicts(table)["mid_size_gain_most"] == "not testable"
    assert table.evidence.iloc[-1].count("not testable") == 2


# -- the synthetic panel: known true effects -----------------------------------------------------------------------
def fit_synthetic(truth=None):
    from citydip.estimation import fit
    from citydip.estimation.catalogue import catalogue
    from citydip.panel.synthetic import synthetic_panel

    panel, truth = synthetic_panel(truth=truth)
    specs = {s.name: s for s in catalogue()}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return (truth, fit(panel, specs["M3-CG two-way FE, consulates general"]).tidy(),
                fit(panel, specs["M5 by size class"]).tidy())


def test_synthetic_panel_all_positive_is_supported():
    """The synthetic panel's true effects of all three measures are positive (provenance): with
    metro and year effects (correctly specified there) the first claim is supported in full."""
    truth, m3, _ = fit_synthetic()
    assert min(truth.beta_sister, truth.beta_consulate, truth.beta_network) > 0
    table = anchor.claims_from_estimates(m3)
    assert verdicts(table)["all_positive"] == "yes"


def test_synthetic_panel_mid_size_effect_is_found():
    """With an extra effect of sister ties in mid-sized metros only, M5's mid-size coefficient of
    sister ties is the largest and significant, and the claim holds at least partly."""
    from citydip.panel.synthetic import SyntheticTruth

    truth, m3, m5 = fit_synthetic(SyntheticTruth(beta_sister_mid=0.05))
    assert anchor.largest_size_class(m5, ["sister_active"]).largest["sister_active"] == "mid"
    table = anchor.claims_from_estimates(m3, size_estimates=m5)
    assert verdicts(table)["mid_size_gain_most"] in ("yes", "partly")
