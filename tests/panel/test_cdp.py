"""CDP–ICLEI participation per metro-year: the rules on constructed rows, the real measures
against an independent recount from the reader and the place matcher, the two decisions
(regional bodies, rows without a disclosed inventory), the drop report, and the synthetic panel."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from citydip import geo
from citydip.panel import cdp, schema
from citydip.panel.options import PanelOptions
from citydip.sources import cdp as cdp_source

KEY = ["cbsa_code", "year"]
IN_CDP = list(cdp.YEARS)


# -- the rules on constructed rows ---------------------------------------------------------------------------
def _rows(records) -> pd.DataFrame:
    """CDP reader rows: (year, account, in the U.S., inventory status)."""
    frame = pd.DataFrame(records, columns=["reporting_year", "account_number", "in_united_states", "inventory_status"])
    frame["source_row"] = np.arange(2, len(frame) + 2)
    frame["has_inventory"] = frame.inventory_status.eq("disclosed")
    return frame


@pytest.fixture
def toy():
    """Metro A: account 1 every other year (disclosed), account 2 in 2019 without an answer;
    metro B: nothing; account 3 matched to a metro outside the sample; account 4 unmatched; the
    Twin Cities regional body (unmatched, represents 33460); a non-U.S. row."""
    rows = _rows([(2016, 1, True, "disclosed"), (2018, 1, True, "disclosed"), (2020, 1, True, "disclosed"),
                  (2019, 2, True, "not stated"), (2017, 3, True, "disclosed"), (2021, 4, True, "in progress"),
                  (2020, 848568, True, "disclosed"), (2021, 848568, True, "disclosed"), (2019, 9, False, "disclosed")])
    ids = cdp.record_ids(rows)
    cbsa = pd.Series(["11111", "11111", "11111", "11111", "99999", "", "", "", ""], index=ids)
    return rows[rows.in_united_states], rows, cbsa[rows.in_united_states.to_numpy()]


def test_measures_on_constructed_rows(toy):
    _, rows, cbsa = toy
    out, report, notes = cdp.cdp_measures(rows, cbsa, ["11111", "22222", "33460"], PanelOptions())
    out = out.set_index(KEY)
    a, b = out.loc["11111"], out.loc["22222"]
    assert list(out.columns) == list(cdp.COLUMNS) and all(str(out[c].dtype) == "Int64" for c in cdp.COLUMNS)
    # missing, not zero, outside 2016-2021; zero inside where nothing reports
    assert out.loc[out.index.get_level_values("year") < 2016].isna().all().all()
    assert out.loc[out.index.get_level_values("year").isin(IN_CDP)].notna().all().all()
    assert a.cdp_cities_reporting.loc[2016:2021].tolist() == [1, 0, 1, 1, 1, 0]
    assert a.cdp_any.loc[2016:2021].tolist() == [1, 0, 1, 1, 1, 0]
    assert a.cdp_ever.loc[2016:2021].tolist() == [1] * 6
    assert a.cdp_ever_2016_2021.loc[2016:2021].tolist() == [1] * 6
    assert b.cdp_cities_reporting.loc[2016:2021].tolist() == [0] * 6 and b.cdp_ever_2016_2021.loc[2021] == 0
    assert out.loc["33460"].cdp_any.loc[2016:2021].sum() == 0   # regional body excluded by default
    reasons = report.set_index("record_id").reason
    assert len(report) == 4 and (report.dataset == cdp.DATASET).all()
    assert reasons["2017 row 6 (account 3)"] == "metro not in the sample"
    assert reasons["2021 row 7 (account 4)"] == "no CBSA match (see the place-match report)"
    assert reasons["2020 row 8 (account 848568)"].startswith("regional body, not a city")
    assert "it represents 33460" in reasons["2021 row 9 (account 848568)"]
    assert "cdp_regional='exclude'" in reasons["2021 row 9 (account 848568)"]
    assert any("rows without a disclosed inventory" in n and "count as reporting" in n for n in notes)


def test_the_two_options_on_constructed_rows(toy):
    _, rows, cbsa = toy
    codes = ["11111", "33460"]
    strict, report, _ = cdp.cdp_measures(rows, cbsa, codes, PanelOptions(cdp_inventory="disclosed"))
    strict = strict.set_index(KEY)
    assert strict.loc[("11111", 2019), "cdp_cities_reporting"] == 0   # the 2019 row without an answer
    assert strict.loc[("11111", 2019), "cdp_ever"] == 1                # reported in 2016 and 2018
    assert "inventory status 'not stated'" in report.set_index("record_id").reason["2019 row 5 (account 2)"]
    attributed, report, _ = cdp.cdp_measures(rows, cbsa, codes, PanelOptions(cdp_regional="attribute"))
    attributed = attributed.set_index(KEY).loc["33460"]
    assert attributed.cdp_cities_reporting.loc[2016:2021].tolist() == [0, 0, 0, 0, 1, 1]
    assert attributed.cdp_ever.loc[2016:2021].tolist() == [0, 0, 0, 0, 1, 1]
    assert not report.reason.str.startswith("regional body").any()


def test_panel_years_outside_and_inside_the_reporting_years(toy):
    _, rows, cbsa = toy
    short, _, _ = cdp.cdp_measures(rows, cbsa, ["11111"], PanelOptions(first_year=2010, last_year=2017))
    assert short.year.tolist() == list(range(2010, 2018))
    assert short.cdp_any.isna().tolist() == [True] * 6 + [False] * 2
    # the time-invariant indicator uses all six years even when the panel ends earlier
    late, _, _ = cdp.cdp_measures(rows[rows.account_number != 1], cbsa, ["11111"],
                                  PanelOptions(first_year=2016, last_year=2017))
    assert late.cdp_ever_2016_2021.tolist() == [1, 1] and late.cdp_ever.tolist() == [0, 0]


def test_rows_without_a_place_match_record_are_an_error(toy):
    _, rows, cbsa = toy
    with pytest.raises(Exception, match="no place-match record"):
        cdp.cdp_measures(rows, cbsa.iloc[1:], ["11111"], PanelOptions())


def test_schema_and_variants_know_the_measures():
    from citydip.panel import variants

    names = [c.name for c in schema.COLUMNS]
    for c in cdp.COLUMNS:
        col = schema.COLUMNS[names.index(c)]
        assert col.dtype == "Int64" and "2016-2021" in col.rule and "CDP" in col.source
    assert cdp.MEASURE in cdp.COLUMNS
    assert variants.VARIANTS["cdp-disclosed-only"][1] == {"cdp_inventory": "disclosed"}
    assert variants.VARIANTS["cdp-regional-bodies"][1] == {"cdp_regional": "attribute"}
    assert PanelOptions().cdp_inventory == "all" and PanelOptions().cdp_regional == "exclude"


# -- the real panel ----------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def us_rows(real_data):
    rows = cdp_source.with_account_states(cdp_source.read_all(real_data))
    return rows[rows.in_united_states].copy()


@pytest.fixture(scope="module")
def recount(us_rows, real_data):
    """Each U.S. row's CBSA by the place matcher directly (name and state, else the organisation
    name), independent of the match report."""
    matcher = geo.PlaceMatcher(geo.load(real_data)["2020"])
    codes = []
    for r in us_rows.itertuples():
        m = matcher.match_one(r.place, r.state_filled, r.lat, r.lon)
        if not m.cbsa_code and r.organization_place and r.organization_place != r.place:
            m = matcher.match_one(r.organization_place, r.state_filled, r.lat, r.lon)
        codes.append(m.cbsa_code)
    return us_rows.assign(cbsa=codes)


@pytest.fixture(scope="module")
def alternatives(real_inputs):
    from citydip.panel.build import construct

    return {name: construct(real_inputs, PanelOptions(**kw)) for name, kw in
            {"strict": {"cdp_inventory": "disclosed"}, "regional": {"cdp_regional": "attribute"}}.items()}


def test_the_build_reads_and_records_the_cdp_files(real_inputs):
    assert {f"cdp_{y}" for y in IN_CDP} <= set(real_inputs.reads)
    assert len(real_inputs.cdp_rows) and real_inputs.cdp_rows.in_united_states.sum() == 785


def test_missing_outside_2016_2021_and_present_inside(real_panel):
    inside = real_panel.year.isin(IN_CDP)
    for c in cdp.COLUMNS:
        assert str(real_panel[c].dtype) == "Int64"
        assert real_panel.loc[~inside, c].isna().all(), c
        assert real_panel.loc[inside, c].notna().all(), c
    p = real_panel[inside]
    assert (p.cdp_any == (p.cdp_cities_reporting > 0).astype("Int64")).all()
    assert (p.groupby("cbsa_code").cdp_ever.diff().dropna() >= 0).all()
    assert (p.cdp_ever >= p.cdp_any).all()
    whole = p.groupby("cbsa_code").cdp_any.max()
    assert (p.cdp_ever_2016_2021 == p.cbsa_code.map(whole)).all()
    assert (p.groupby("cbsa_code").cdp_ever.last() == whole.reindex(p.cbsa_code.unique())).all()


def test_counts_equal_an_independent_recount(real_panel, recount):
    """Distinct reporting accounts per metro-year by the reader and the matcher, every metro and
    year 2016-2021 (regional bodies unmatched, every inventory status counted: the defaults)."""
    counted = recount[recount.cbsa != ""].groupby(["cbsa", "reporting_year"]).account_number.nunique()
    got = real_panel[real_panel.year.isin(IN_CDP)].set_index(KEY).cdp_cities_reporting
    expected = [int(counted.get((code, year), 0)) for code, year in got.index]
    assert got.astype(int).tolist() == expected
    # a few metros by hand: Chicago, Boston, Seattle, Kansas City
    for code, counts in {"16980": [2, 2, 5, 6, 7, 6], "14460": [2, 4, 4, 8, 7, 9], "42660": [1, 1, 4, 3, 2, 3],
                         "28140": [0, 0, 1, 1, 1, 1]}.items():
        assert got.loc[code].astype(int).tolist() == counts, code
    metros = real_panel[real_panel.year.isin(IN_CDP)].groupby("year").cdp_any.sum()
    assert metros.astype(int).tolist() == [34, 40, 54, 60, 58, 62]


def test_every_us_row_is_counted_or_reported(real_build, us_rows):
    """The place-match stage lists every U.S. row the matcher cannot place, with its reason; the
    panel stage every U.S. row not counted, with its reason; together with the rows counted they
    are all 785 U.S. rows."""
    report = real_build.report
    ids = set(cdp.record_ids(us_rows))
    places = report[(report.stage == "place match") & report.dataset.str.startswith(cdp.DATASET)]
    assert len(places) == 12 and set(places.record_id) <= ids and (places.reason != "").all()
    assert set(places.reason) == {"no U.S. place of this name",
                                  "place lies in a county outside every CBSA of this delineation"}
    panel = report[(report.stage == "panel") & (report.dataset == cdp.DATASET)]
    assert set(places.record_id) <= set(panel.record_id) and not panel.record_id.duplicated().any()
    counted = int(real_build.panel.cdp_cities_reporting.sum())   # one account counts once a year
    assert counted + len(panel) == len(us_rows) == 785
    assert panel.reason.value_counts()["metro not in the sample"] == 785 - 12 - counted


def test_regional_bodies(real_build, alternatives, us_rows):
    """The four regional bodies are the unmatched rows without a place; excluded by default with
    the metro they represent in the report; attributed, they add one account to that metro-year
    and change no participation indicator (each metro has a reporting city in those years)."""
    bodies = us_rows[us_rows.account_number.isin(list(cdp.REGIONAL_BODIES))]
    assert len(bodies) == 6 and set(bodies.reporting_year) == {2020, 2021}
    for r in bodies.itertuples():
        assert r.organization.startswith(cdp.REGIONAL_BODIES[r.account_number][0].split(" (")[0])
    places = real_build.report[real_build.report.stage == "place match"].set_index("record_id").reason
    panel = real_build.report[real_build.report.stage == "panel"].set_index("record_id").reason
    for rid, account in zip(cdp.record_ids(bodies), bodies.account_number):
        assert places[rid] == "no U.S. place of this name"
        assert panel[rid].startswith("regional body, not a city") and cdp.REGIONAL_BODIES[account][1] in panel[rid]
    base = real_build.panel.set_index(KEY)
    attributed = alternatives["regional"].panel.set_index(KEY)
    added = (attributed.cdp_cities_reporting - base.cdp_cities_reporting).fillna(0)
    expected = bodies.groupby([bodies.account_number.map(lambda a: cdp.REGIONAL_BODIES[a][1]),
                               "reporting_year"]).size()
    assert added[added != 0].to_dict() == {k: v for k, v in expected.items()}
    for c in ("cdp_any", "cdp_ever", "cdp_ever_2016_2021"):
        pd.testing.assert_series_equal(attributed[c], base[c])
    pd.testing.assert_series_equal(attributed.sister_active, base.sister_active)


def test_rows_without_a_disclosed_inventory(real_build, alternatives, us_rows, recount):
    """Counted by default (they are in the year's list): the 30 U.S. rows of 2019 without an
    answer among them; the strict option leaves out exactly the non-disclosed rows of sample
    metros, each with its status in the report."""
    assert int((us_rows.reporting_year.eq(2019) & us_rows.inventory_status.eq("not stated")).sum()) == 30
    base = real_build.panel.set_index(KEY)
    strict = alternatives["strict"].panel.set_index(KEY)
    inside = base.index.get_level_values("year").isin(IN_CDP)
    assert (strict.cdp_cities_reporting[inside] <= base.cdp_cities_reporting[inside]).all()
    codes = set(base.index.get_level_values("cbsa_code"))
    gone = recount[recount.cbsa.isin(codes) & ~recount.has_inventory]
    lost = gone.groupby(["cbsa", "reporting_year"]).size()
    diff = (base.cdp_cities_reporting - strict.cdp_cities_reporting)[inside]
    assert diff[diff != 0].to_dict() == lost.to_dict()
    assert (strict.cdp_any[inside] < base.cdp_any[inside]).sum() > 0   # metros carried only by such rows
    reasons = alternatives["strict"].report.set_index("record_id").reason
    for rid, status in zip(cdp.record_ids(gone), gone.inventory_status):
        assert reasons[rid].startswith(f"inventory status '{status}'")
    # the notes document both decisions
    notes = " ".join(real_build.notes["cdp"])
    assert "count as reporting" in notes and "not counted (not cities" in notes


# -- the synthetic panel -------------------------------------------------------------------------------------------
def test_synthetic_panel_has_the_measures():
    from citydip.panel.synthetic import SyntheticTruth, synthetic_panel

    panel, truth = synthetic_panel()
    assert list(panel.columns) == schema.NAMES and truth.beta_cdp == 0.0
    inside = panel.year.isin(IN_CDP)
    for c in cdp.COLUMNS:
        assert str(panel[c].dtype) == "Int64"
        assert panel.loc[~inside, c].isna().all() and panel.loc[inside, c].notna().all()
    p = panel[inside]
    assert (p.cdp_any == (p.cdp_cities_reporting > 0).astype("Int64")).all()
    assert (p.groupby("cbsa_code").cdp_ever.diff().dropna() >= 0).all()
    per_year = p.groupby("year").cdp_any.sum()
    assert 20 <= per_year.iloc[0] <= per_year.iloc[-1] <= 80   # plausible: about the real 34 -> 62
    # participation rises with size, like the real measure
    by_class = p.groupby("size_class").cdp_cities_reporting.mean()
    assert by_class["large"] > by_class["small"]
    # its own random stream: other CDP parameters leave every other column as it was
    other, _ = synthetic_panel(truth=SyntheticTruth(cdp_log_mean=1.0, cdp_stay=0.5))
    rest = [c for c in schema.NAMES if c not in cdp.COLUMNS]
    pd.testing.assert_frame_equal(panel[rest], other[rest])
    assert not panel.cdp_cities_reporting.equals(other.cdp_cities_reporting)
    # a shorter panel shows the same draws
    short, _ = synthetic_panel(first_year=2010, last_year=2018)
    pd.testing.assert_series_equal(short.set_index(KEY).cdp_cities_reporting,
                                   panel.set_index(KEY).cdp_cities_reporting.loc[short.set_index(KEY).index])


def test_synthetic_true_cdp_effect():
    """With ``beta_cdp`` set, exports carry it per reporting government in 2016-2021 only."""
    from citydip.panel.synthetic import SyntheticTruth, synthetic_panel

    base, _ = synthetic_panel(n_metros=20)
    shifted, _ = synthetic_panel(n_metros=20, truth=SyntheticTruth(beta_cdp=0.05))
    gap = shifted.log_exports - base.log_exports
    n = base.cdp_cities_reporting.astype("float64").fillna(0.0)
    np.testing.assert_allclose(gap, 0.05 * n, atol=1e-12)
