"""Partner countries by metro (``partners.csv``, the atlas's metro view) agree with the panel's
own counts: sister ties ever and consular posts by year."""

from __future__ import annotations

import pandas as pd

from citydip.panel import partners
from citydip.panel.options import PanelOptions


def _ties():
    return pd.DataFrame({
        "record_id": ["t1", "t2", "t3", "t4", "t5"],
        "us_city": ["Omaha", "Omaha", "Omaha", "Omaha", "Lincoln"], "us_state": ["NE"] * 5,
        "partner_city": ["Shizuoka", "Shizuoka", "Naas", "Braunschweig", "Cheonan"],
        "partner_country": ["Japan", "Japan", "Ireland", "Germany", "South Korea"],
        "year_established": pd.array([1965, 1966, None, 2011, 2000], dtype="Int64"),
        "year_ended": pd.array([None, None, None, 2015, None], dtype="Int64"),
        "is_intent": [False, False, False, False, False], "is_planned": [False, False, False, True, False],
        "is_domestic_or_territory": [False] * 5})


def test_countries_counts_and_active_years_on_a_small_input():
    cbsa_of = pd.Series({"t1": "36540", "t2": "36540", "t3": "36540", "t4": "36540", "t5": "30700"})
    posts = pd.DataFrame({"sending_country": ["Mexico"] * 3 + ["Mexico"],
                          "cbsa_code": ["36540"] * 3 + ["99999"], "year": [2016, 2017, 2030, 2016]})
    options = PanelOptions(first_year=2005, last_year=2020)
    table = partners.partner_countries(_ties(), cbsa_of, posts, ["36540"], options)
    assert list(table.columns) == partners.COLUMNS and table.cbsa_code.eq("36540").all()
    out = table.set_index(["kind", "country"])
    # two records of one tie (Omaha-Shizuoka, years 1965 and 1966) are one tie from 1965, clipped to the panel
    assert out.loc[("sister", "Japan"), ["count", "first_year", "last_year"]].tolist() == [1, 2005, 2020]
    # an undated tie is listed without active years
    assert out.loc[("sister", "Ireland"), "count"] == 1 and pd.isna(out.loc[("sister", "Ireland"), "first_year"])
    # planned ties are excluded by default, Lincoln is not in the sample, a post outside the years is not counted
    assert ("sister", "Germany") not in out.index and "South Korea" not in out.index.get_level_values("country")
    assert out.loc[("consulate", "Mexico"), ["count", "first_year", "last_year"]].tolist() == [2, 2016, 2017]


def test_real_partners_agree_with_the_panel(real_build):
    panel = real_build.panel.set_index(["cbsa_code", "year"])
    table = real_build.partners
    assert set(table.cbsa_code) <= set(panel.index.get_level_values("cbsa_code"))
    sister = table[table.kind == "sister"].groupby("cbsa_code")["count"].sum()
    ever = panel.groupby("cbsa_code").sister_ever.first()
    # every tie the panel counts is listed once, under its partner country
    pd.testing.assert_series_equal(sister.reindex(ever.index, fill_value=0), ever, check_names=False,
                                   check_dtype=False)
    posts = table[table.kind == "consulate"]
    for year in (2005, 2016, 2022):
        active = posts[(posts.first_year <= year) & (posts.last_year >= year)].groupby("cbsa_code").size()
        counts = panel.xs(year, level="year").consular_posts
        # a country listed as active over [first, last] may skip a year in between: never fewer than the panel
        gap = active.reindex(counts.index, fill_value=0) - counts
        assert (gap >= 0).all() and (gap == 0).mean() >= 0.95, year
    chicago = posts[posts.cbsa_code == "16980"]
    assert len(chicago) >= panel.loc[("16980", 2022), "consular_posts"] > 20
