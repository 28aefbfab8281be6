"""within_variation against a brute-force loop over units, on a hand-made panel with gaps in
the years, missing values, unsorted rows and a grouping column."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from citydip.analysis.variation import within_variation


def hand_panel() -> pd.DataFrame:
    rows = [
        # unit A: changes twice, a gap in the years (2003 missing), a NaN in 2005
        ("A", 2001, 1, 0.0, "small"), ("A", 2002, 1, 0.0, "small"), ("A", 2004, 2, 0.0, "small"),
        ("A", 2005, np.nan, 0.0, "small"), ("A", 2006, 1, 0.0, "small"),
        # unit B: constant positive; y all zero
        ("B", 2001, 3, 0.0, "large"), ("B", 2002, 3, 0.0, "large"), ("B", 2003, 3, 0.0, "large"),
        # unit C: NaN between two equal values (no change), then a change; y changes
        ("C", 2001, 0, 0.0, "large"), ("C", 2002, np.nan, 1.0, "large"), ("C", 2003, 0, 1.0, "large"),
        ("C", 2004, 5, 2.0, "large"),
        # unit D: all missing x; y one value
        ("D", 2001, np.nan, 4.0, "small"), ("D", 2002, np.nan, np.nan, "small"),
        # unit E: a single observation
        ("E", 2010, 7, 0.0, "mid"),
    ]
    frame = pd.DataFrame(rows, columns=["cbsa_code", "year", "x", "y", "size_class"])
    return frame.sample(frac=1.0, random_state=3).reset_index(drop=True)  # unsorted on purpose


def brute_force(frame: pd.DataFrame, measure: str) -> dict:
    """Plain Python loops: the definitions of the docstring, one unit at a time."""
    units = sorted(set(frame.cbsa_code))
    with_any = change = steps = 0
    values, unit_of = [], []
    for u in units:
        obs = sorted((r.year, r[measure]) for _, r in frame[frame.cbsa_code == u].iterrows())
        seq = [v for _, v in obs if not (isinstance(v, float) and math.isnan(v))]
        if not seq:
            continue
        with_any += max(seq) > 0
        change += max(seq) > min(seq)
        steps += sum(1 for a, b in zip(seq, seq[1:]) if a != b)
        values += seq
        unit_of += [u] * len(seq)
    base = {"metros": len(units), "metros_with_any": with_any, "metros_that_change": change,
            "year_on_year_changes": steps}
    if len(values) < 2:  # no variance with fewer than two values
        return {**base, "within_share_of_variance": np.nan}
    mean = sum(values) / len(values)
    total = sum((v - mean) ** 2 for v in values) / (len(values) - 1)
    unit_mean = {u: np.mean([v for v, w in zip(values, unit_of) if w == u]) for u in set(unit_of)}
    within = [v - unit_mean[u] for v, u in zip(values, unit_of)]
    wmean = sum(within) / len(within)
    within_var = sum((w - wmean) ** 2 for w in within) / (len(within) - 1)
    return {**base, "within_share_of_variance": within_var / total if total > 0 else np.nan}


def test_matches_brute_force_with_gaps_and_missing_values():
    frame = hand_panel()
    table = within_variation(frame, ["x", "y"]).set_index("measure")
    for m in ("x", "y"):
        expected = brute_force(frame, m)
        for key, value in expected.items():
            assert table.loc[m, key] == pytest.approx(value, rel=1e-12, nan_ok=True), (m, key)
    # by hand, for x: A changes 1->2->1 (the NaN skipped), C 0->0->5: 3 steps, 2 changing units,
    # 4 units with a positive value (A, B, C, E), all 5 units counted (D's values are all missing)
    assert table.loc["x", ["metros", "metros_that_change", "year_on_year_changes", "metros_with_any"]].tolist() \
        == [5, 2, 3, 4]


def test_by_group_matches_brute_force_per_group_and_order():
    frame = hand_panel()
    # string column: groups in order of first appearance in the sorted data (A: small, B: large, E: mid)
    table = within_variation(frame, ["x"], by="size_class")
    assert list(table.columns[:2]) == ["measure", "size_class"]
    assert table.size_class.tolist() == ["small", "large", "mid"]
    for row in table.itertuples():
        expected = brute_force(frame[frame.size_class == row.size_class], "x")
        for key, value in expected.items():
            assert getattr(row, key) == pytest.approx(value, rel=1e-12, nan_ok=True), (row.size_class, key)
    # categorical column: groups in the order of the categories, an empty category kept
    cat = frame.assign(size_class=pd.Categorical(frame.size_class, ["tiny", "small", "mid", "large"]))
    table = within_variation(cat, ["x"], by="size_class")
    assert table.size_class.tolist() == ["tiny", "small", "mid", "large"]
    assert table.set_index("size_class").loc["tiny", "metros"] == 0


def test_constant_measure_has_no_within_share():
    frame = hand_panel().assign(z=1.0)
    row = within_variation(frame, ["z"]).iloc[0]
    assert np.isnan(row.within_share_of_variance)
    assert row.metros_that_change == 0 and row.year_on_year_changes == 0 and row.metros_with_any == 5
