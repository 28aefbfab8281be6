"""The consulate estimate on the Lowy edition years only beside the carried-back one: against
fits and counts made by hand on the synthetic panel; on the real data, the editions_only
panel equals the default panel with its years before 2016 set missing."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from citydip.analysis import consulates as ca
from citydip.analysis.effects import estimation_sample, percent
from citydip.estimation import fit
from citydip.estimation.catalogue import MODEL_NAMES


@pytest.fixture(scope="module")
def panel(synthetic):
    return synthetic[0]


@pytest.fixture(scope="module")
def table(panel):
    return ca.edition_years_estimate(panel, ca.without_carry_back(panel))


def test_without_carry_back_sets_only_the_years_before_the_first_edition_missing(panel):
    out = ca.without_carry_back(panel)
    early = out.year < 2016
    assert early.any() and (~early).any()
    assert out.loc[early, ["consular_posts", "consulates_general"]].isna().all().all()
    assert (out.loc[early, "consulate_fill"] == "none").all()
    for column in ("consular_posts", "consulates_general"):
        pd.testing.assert_series_equal(out.loc[~early, column], panel.loc[~early, column])
    assert (out.loc[~early, "consulate_fill"] == panel.loc[~early, "consulate_fill"]).all()
    others = [c for c in panel.columns if c not in ("consular_posts", "consulates_general", "consulate_fill")]
    pd.testing.assert_frame_equal(out[others], panel[others])
    assert panel.consular_posts.notna().all()   # the input is not changed


def test_estimates_equal_m3_fitted_by_hand(panel, table):
    assert list(table.columns) == ca.COLUMNS and list(table["sample"]) == [ca.CARRIED, ca.EDITIONS]
    spec = ca.m3_spec()
    assert spec.name == MODEL_NAMES["M3"] and "consular_posts" in spec.regressors
    rows = table.set_index("sample")
    for label, data in ((ca.CARRIED, panel), (ca.EDITIONS, panel[panel.year >= 2016])):
        res = fit(data, spec).tidy().set_index("term").loc["consular_posts"]
        r = rows.loc[label]
        assert r.estimate == pytest.approx(res.estimate, rel=1e-10)
        assert r.std_error == pytest.approx(res.std_error, rel=1e-10)
        assert r.p_value == pytest.approx(res.p_value, rel=1e-8)
        assert r.nobs == res.nobs
        assert r.percent == pytest.approx(100 * np.expm1(res.estimate))
        assert r.percent_low == pytest.approx(percent(res.conf_low))
    assert rows.loc[ca.CARRIED, "years"] == f"{panel.year.min()}-{panel.year.max()}"
    assert rows.loc[ca.EDITIONS, "years"] == f"2016-{panel.year.max()}"


def test_metros_that_change_counted_by_hand(panel, table):
    rows = table.set_index("sample")
    for label, data in ((ca.CARRIED, panel), (ca.EDITIONS, ca.without_carry_back(panel))):
        sample = estimation_sample(data)
        spread = sample.groupby("cbsa_code").consular_posts.agg(lambda s: s.max() - s.min())
        steps = sample.sort_values(["cbsa_code", "year"]).groupby("cbsa_code").consular_posts.diff()
        assert rows.loc[label, "metros_that_change"] == int((spread > 0).sum())
        assert rows.loc[label, "metros"] == sample.cbsa_code.nunique()
        assert rows.loc[label, "year_on_year_changes"] == int((steps.notna() & steps.ne(0)).sum())
    assert rows.loc[ca.EDITIONS, "metros_that_change"] <= rows.loc[ca.CARRIED, "metros_that_change"]


def test_sentences_name_both_samples(table):
    text = ca.sentences(table)
    assert len(text) == 2 and text[0].startswith(ca.CARRIED) and text[1].startswith(ca.EDITIONS)
    assert all("metros change their consular posts" in t for t in text)


@pytest.mark.slow
def test_real_editions_only_panel_equals_default_without_carry_back(real_inputs, real_panel):
    """The variant's panel (built with consulate_fill='editions_only') equals the default panel
    with its consulate measures set missing before 2016: the notebook may use either."""
    from citydip.panel.build import construct
    from citydip.panel.options import PanelOptions
    from citydip.panel.variants import VARIANTS

    options = PanelOptions(**VARIANTS[ca.VARIANT][1])
    built = construct(real_inputs, options).panel.sort_values(["cbsa_code", "year"]).reset_index(drop=True)
    derived = ca.without_carry_back(real_panel).sort_values(["cbsa_code", "year"]).reset_index(drop=True)
    for column in ("consular_posts", "consulates_general", "consulate_fill"):
        pd.testing.assert_series_equal(built[column].astype(derived[column].dtype), derived[column])
    table = ca.edition_years_estimate(real_panel, built)
    rows = table.set_index("sample")
    assert rows.loc[ca.EDITIONS, "years"].startswith("2016-")
    assert 0 < rows.loc[ca.EDITIONS, "metros_that_change"] < rows.loc[ca.CARRIED, "metros_that_change"]
