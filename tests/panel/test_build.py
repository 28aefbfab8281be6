"""The real panel: shape, consistency with its inputs, determinism, and bad options."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from citydip import geo
from citydip.errors import OptionError
from citydip.geo.names import normalize
from citydip.panel import build, exports, schema, sister
from citydip.panel.options import PanelOptions, parse_years
from citydip.sources import bea, curated, ita


@pytest.fixture(scope="module")
def built(real_build):
    return real_build


@pytest.fixture(scope="module")
def panel(real_panel):
    return real_panel


def test_shape_and_schema(panel):
    assert panel.shape == (1700, len(schema.NAMES))
    assert list(panel.columns) == schema.NAMES
    assert panel.cbsa_code.nunique() == 100 and sorted(panel.year.unique()) == list(range(2005, 2022))
    assert not panel.duplicated(["cbsa_code", "year"]).any()
    assert set(panel.size_class) == {"small", "mid", "large"}


def test_population_equals_bea(panel, real_data):
    income = bea.read_cainc1(next((real_data / "bea_regional").glob("CAINC1_MSA_1969_*.csv")))
    merged = panel.merge(income, left_on=["cbsa_code", "year"], right_on=["geo_fips", "year"], suffixes=("", "_bea"))
    assert len(merged) == 1700
    np.testing.assert_array_equal(merged.population_persons, merged.population_persons_bea)
    ny = panel[(panel.cbsa_code == "35620") & (panel.year == 2019)]
    assert ny["rank"].item() == 1 and ny.size_class.item() == "large"


def test_exports_equal_the_ita_cells(panel, real_data):
    cells = ita.read_workbook(real_data / "ita_metro_exports_2005_2023" / "ITA_MSA_Export_Series_2005_2023.xlsx")
    cw = geo.titles_to_codes(cells.msa_title.unique(), geo.load(real_data))
    mapped = cells.merge(cw[["title", "cbsa_code"]], left_on="msa_title", right_on="title")
    expected = mapped.groupby(["cbsa_code", "year"]).exports_usd.sum(min_count=1)
    got = panel.set_index(["cbsa_code", "year"]).exports_usd
    np.testing.assert_array_equal(got.to_numpy(), expected.reindex(got.index).to_numpy())
    houston = cells[(cells.msa_title == "Houston-Pasadena-The Woodlands, TX") & (cells.year == 2012)].exports_usd
    assert got.loc[("26420", 2012)] == houston.item()
    # Poughkeepsie was inside New York in 2013-2017: missing, never filled, and flagged.
    pough = panel[panel.cbsa_code == "39100"].set_index("year")
    assert pough.loc[2013:2017, "exports_missing"].all() and pough.loc[2013:2017, "exports_boundary_break"].all()
    assert not pough.loc[2018:, "exports_missing"].any()


def test_sister_counts_equal_dated_ties_established_by_then(panel, real_data):
    # Independent recount: distinct dated ties of sample metros, earliest year, no excluded kinds.
    ties = curated.load_sister_cities()
    matcher = geo.PlaceMatcher(geo.load(real_data)["2020"])
    ties["cbsa"] = [matcher.match_one(c, s).cbsa_code for c, s in zip(ties.us_city, ties.us_state)]
    keep = ties[ties.cbsa.isin(set(panel.cbsa_code)) & ~ties.is_intent & ~ties.is_planned
                & ~ties.is_domestic_or_territory]
    keep = keep.assign(key=keep.cbsa + keep.us_city.map(normalize) + keep.us_state + keep.partner_city.map(normalize)
                       + keep.partner_country.map(normalize))
    first = keep.dropna(subset=["year_established"]).groupby(["cbsa", "key"]).year_established.min()
    table = pd.DataFrame({"start": first}).join(keep.groupby(["cbsa", "key"]).year_ended.min().rename("end"))
    table = table.astype("float64").reset_index()
    checked = 0
    for (code, year), value in panel.set_index(["cbsa_code", "year"]).sister_active.items():
        sub = table[table.cbsa == code]
        expected = int(((sub.start <= year) & ~(sub.end <= year)).sum())
        assert value == expected, (code, year)
        checked += 1
    assert checked == 1700
    # Totals across metros equal the matched input totals.
    assert panel.groupby("cbsa_code").sister_ever.first().sum() == keep.key.nunique()


def test_region_counts_and_indicators_add_up(panel):
    regions = panel[[f"sister_active_{r}" for r in schema.REGIONS]].sum(axis=1)
    np.testing.assert_array_equal(regions, panel.sister_active)
    nets = panel[[f"net_{n}" for n in schema.NETWORKS]].sum(axis=1)
    assert (nets <= panel.networks_dated).all()
    assert (panel.groupby("cbsa_code").sister_active.diff().dropna() >= -1).all()


def test_consulate_snapshot_years_agree_with_lowy_counts(panel):
    ny = panel[(panel.cbsa_code == "35620")].set_index("year")
    assert ny.consular_posts.max() == panel.consular_posts.max()
    assert panel.consular_posts.notna().all()
    assert (panel.consulates_general <= panel.consular_posts).all()


def test_provenance_and_report(built, tmp_path):
    paths = build.write_outputs(built, tmp_path)
    prov = pd.read_json(paths["provenance"], typ="series")
    assert prov["rows"] == 1700 and prov["options"]["conflict_rule"] == "earliest"
    assert any(k.startswith("ita_metro_exports_2005_2023/") for k in prov["inputs_sha256"])
    report = pd.read_csv(paths["report"], keep_default_na=False)
    assert (report.reason != "").all()
    text = paths["codebook"].read_text()
    for name in schema.NAMES:
        assert f"`{name}`" in text


@pytest.mark.slow
def test_two_builds_are_byte_identical(built, real_data, tmp_path):
    again = build.build_panel(real_data)
    a = build.write_outputs(built, tmp_path / "a")
    b = build.write_outputs(again, tmp_path / "b")
    for key in ("panel", "report", "codebook"):
        assert a[key].read_bytes() == b[key].read_bytes(), key


def test_shuffled_inputs_give_the_same_measures(real_data, panel):
    codes = sorted(panel.cbsa_code.unique())
    options = PanelOptions()
    ties = curated.load_sister_cities()
    matcher = geo.PlaceMatcher(geo.load(real_data)["2020"])
    cbsa_of = pd.Series([matcher.match_one(c, s).cbsa_code for c, s in zip(ties.us_city, ties.us_state)],
                        index=ties.record_id)
    a, _, _ = sister.sister_measures(ties, cbsa_of, codes, options)
    b, _, _ = sister.sister_measures(ties.sample(frac=1, random_state=7), cbsa_of, codes, options)
    pd.testing.assert_frame_equal(a, b)
    cells = ita.read_workbook(real_data / "ita_metro_exports_2005_2023" / "ITA_MSA_Export_Series_2005_2023.xlsx")
    delineations = geo.load(real_data)
    cw = geo.titles_to_codes(cells.msa_title.unique(), delineations)
    e1, _ = exports.metro_exports(cells, cw, delineations, codes, options)
    e2, _ = exports.metro_exports(cells.sample(frac=1, random_state=3), cw, delineations, codes, options)
    pd.testing.assert_frame_equal(e1, e2)


@pytest.mark.parametrize("kwargs,message", [
    ({"first_year": 2000, "last_year": 2010}, "outside the export data"),
    pytest.param({"cbsa_codes": ("99999",)}, "not metropolitan statistical areas", marks=pytest.mark.slow),
    pytest.param({"rank_year": 1950}, "rank year 1950", marks=pytest.mark.slow),
])
def test_impossible_requests_fail_clearly(real_data, kwargs, message):
    with pytest.raises(OptionError, match=message):
        build.build_panel(real_data, PanelOptions(**kwargs))


@pytest.mark.parametrize("kwargs,message", [
    ({"top_n": 0}, "top_n must be at least 1"),
    ({"first_year": 2010, "last_year": 2005}, "is empty"),
    ({"cbsa_codes": ("123",)}, "5-digit"),
    ({"conflict_rule": "median"}, "conflict_rule"),
])
def test_bad_options_fail_at_once(kwargs, message):
    with pytest.raises(OptionError, match=message):
        PanelOptions(**kwargs)


def test_parse_years():
    assert parse_years("2005-2023") == (2005, 2023) and parse_years("2010") == (2010, 2010)
    with pytest.raises(OptionError):
        parse_years("20x5")
