"""The real panel: shape, consistency with its inputs, determinism, and bad options."""

from __future__ import annotations

import re
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

from citydip import cli, geo
from citydip.errors import OptionError
from citydip.geo.names import normalize
from citydip.panel import build, exports, networks, schema, sister, variants
from citydip.panel.options import PanelOptions, parse_years
from citydip.sources import bea, curated, ita


@pytest.fixture(scope="module")
def built(real_build):
    return real_build


@pytest.fixture(scope="module")
def panel(real_panel):
    return real_panel


def test_shape_and_schema(panel):
    assert panel.shape == (1800, len(schema.NAMES))  # 100 metros x 2005-2022
    assert list(panel.columns) == schema.NAMES
    assert panel.cbsa_code.nunique() == 100 and sorted(panel.year.unique()) == list(range(2005, 2023))
    assert not panel.duplicated(["cbsa_code", "year"]).any()
    assert set(panel.size_class) == {"small", "mid", "large"}


def test_population_equals_bea(panel, real_data):
    income = bea.read_cainc1(next((real_data / "bea_regional").glob("CAINC1_MSA_1969_*.csv")))
    merged = panel.merge(income, left_on=["cbsa_code", "year"], right_on=["geo_fips", "year"], suffixes=("", "_bea"))
    assert len(merged) == 1800
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
    assert checked == 1800
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
    assert prov["rows"] == 1800 and prov["options"]["conflict_rule"] == "earliest"
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


@pytest.mark.slow
def test_2023_has_exports_without_controls_and_its_delineation_break_flagged(real_inputs, panel):
    """``--years 2005-2023``: 1,900 rows; 2023 has exports (ITA) but no BEA controls (missing,
    not filled) and its exports follow the July-2023 delineation, flagged per metro; the other
    years equal the default panel's."""
    longer = build.construct(real_inputs, PanelOptions(first_year=2005, last_year=2023)).panel
    assert longer.shape == (1900, len(schema.NAMES))
    last = longer[longer.year == 2023]
    assert last.exports_usd.notna().all()
    assert last.population_persons.isna().all() and last.per_capita_income_usd.isna().all()
    assert last.exports_boundary.ne("same").sum() > 0
    assert set(longer.loc[longer.year < 2023, "exports_boundary"]) <= set(panel.exports_boundary)
    common = longer[longer.year < 2023].reset_index(drop=True)
    pd.testing.assert_series_equal(common.exports_usd, panel.exports_usd.reset_index(drop=True))
    pd.testing.assert_series_equal(common.consular_posts, panel.consular_posts.reset_index(drop=True))


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


# -- network memberships: dated joins, conflicting years, member_by bounds ----------------------------------
ALBANY, SPOKANE, HOUSTON, AUSTIN = "10580", "44060", "26420", "12420"
KEY = ["cbsa_code", "year"]


def network_panel(inputs, codes, options=None, members=None):
    members = inputs.members if members is None else members
    return networks.network_measures(members, inputs.cbsa_of[networks.DATASET], inputs.climactor_members, codes,
                                     options or PanelOptions())


@pytest.mark.parametrize("code, network, city, year", [
    (ALBANY, "gcom", "Albany", 2015), (SPOKANE, "gcom", "Spokane", 2020), (HOUSTON, "c40", "Houston", 2006)])
def test_a_dated_network_join_counts_from_its_year_in_its_metro_only(real_inputs, panel, code, network, city, year):
    codes = sorted(panel.cbsa_code.unique())
    members = real_inputs.members
    joins = members[members.network_code.eq(network) & members.us_city.eq(city) & members.year_joined.notna()]
    assert joins.year_joined.unique().tolist() == [year]
    full, _, _ = network_panel(real_inputs, codes)
    in_panel = panel.sort_values(KEY)[full.columns].astype(full.dtypes.to_dict())
    np.testing.assert_array_equal(full.sort_values(KEY).to_numpy(), in_panel.to_numpy())
    without, _, _ = network_panel(real_inputs, codes, members=members.drop(joins.index))
    diff = full.set_index(KEY).networks_dated - without.set_index(KEY).networks_dated
    metro = diff.xs(code, level="cbsa_code")
    assert (metro[metro.index < year] == 0).all() and (metro[metro.index >= year] == 1).all()
    assert (diff.drop(code, level="cbsa_code") == 0).all()
    series = panel[panel.cbsa_code == code].set_index("year")
    assert series[f"net_{network}"].tolist() == [y >= year for y in series.index]
    if code in (ALBANY, SPOKANE):  # no other dated membership: 0 in every year before the join
        assert (series.networks_dated[series.index < year] == 0).all()
        assert (series.networks_dated[series.index >= year] == 1).all()


def test_the_build_log_counts_dated_network_rows(real_inputs, built, panel):
    note = built.notes["networks"][0]
    found = re.match(r"(\d+) membership rows in the sample, (\d+) with a join year, (\d+) with only a member_by", note)
    members = real_inputs.members.assign(cbsa=real_inputs.members.record_id.map(real_inputs.cbsa_of[networks.DATASET]))
    sample = members[members.cbsa.isin(set(panel.cbsa_code))]
    assert tuple(int(g) for g in found.groups()) == (
        len(sample), int(sample.year_joined.notna().sum()), int((sample.member_by.notna() & sample.is_snapshot).sum()))
    assert int(found.group(2)) > 79  # the first collection alone dated 79 rows of sample metros
    assert "member_by rule 'undated'" in note


def test_conflicting_network_years_follow_the_conflict_rule(real_inputs, built, panel):
    notes = " ".join(built.notes["networks"])
    assert "rule 'earliest' applied" in notes and "Austin, TX c40 2006 (2006;2016)" in notes
    austin = panel[panel.cbsa_code == AUSTIN].set_index("year").net_c40
    assert austin.tolist() == [y >= 2006 for y in austin.index]
    later = real_inputs.members[real_inputs.members.us_city.eq("Austin") & real_inputs.members.year_joined.eq(2016)]
    unused = built.report[built.report.record_id.isin(later.record_id)]
    assert len(unused) == 1 and unused.reason.str.startswith("year not used").all()
    latest, _, notes = network_panel(real_inputs, sorted(panel.cbsa_code.unique()),
                                          replace(PanelOptions(), conflict_rule="latest"))
    austin = latest[latest.cbsa_code == AUSTIN].set_index("year").net_c40
    assert austin.tolist() == [y >= 2016 for y in austin.index]
    assert "rule 'latest' applied" in " ".join(notes) and "Austin, TX c40 2016 (2006;2016)" in " ".join(notes)


def middle_year(first: int, last: int) -> int:
    """Brute force: the middle of the window's years, the later of two middles."""
    years = list(range(first, last + 1))
    return years[len(years) // 2]


def test_place_join_is_the_later_middle_year_of_the_window():
    pairs = [(launch, bound) for launch in (1982, 2005, 2014) for bound in range(launch, launch + 12)]
    launch, bound = (np.array(v) for v in zip(*pairs))
    assert networks.place_join(launch, bound).tolist() == [middle_year(a, b) for a, b in pairs]
    assert networks.place_join(2014, 2015) == 2015 and networks.place_join(2014, 2017) == 2016


#: (record_id, metro, network, city, year_joined, member_by); launch years: gcom 2014, c40 2005.
SMALL = [("m1", "10001", "gcom", "Alpha", None, 2015),    # window [2014, 2015] -> 2015
         ("m2", "10002", "gcom", "Beta", None, 2017),     # [2014, 2017] -> 2016
         ("m3", "10003", "c40", "Gamma", None, 2011),     # [2005, 2011] -> 2008
         ("m4", "10003", "c40", "Gamma", None, 2013),     # a later bound of the same membership: not used
         ("m5", "10004", "gcom", "Delta", 2018, 2019),    # a stated year wins over a bound
         ("m6", "10004", "gcom", "Delta", None, 2020)]
PLACED = {"10001": 2015, "10002": 2016, "10003": 2008, "10004": 2018}


def small_members():
    frame = pd.DataFrame(SMALL, columns=["record_id", "cbsa", "network_code", "us_city", "year_joined", "member_by"])
    frame = frame.assign(us_state=pd.array(["TX"] * len(frame), dtype="string"), year_left=pd.NA,
                         network_code=frame.network_code.astype("string"))
    for name in ("year_joined", "member_by", "year_left"):
        frame[name] = frame[name].astype("Int64")
    return frame.drop(columns="cbsa"), pd.Series(frame.cbsa.to_numpy(), index=frame.record_id)


@pytest.mark.parametrize("member_by", ["undated", "midpoint"])
@pytest.mark.parametrize("undated", ["exclude", "predate"])
def test_member_by_places_the_join_as_documented(member_by, undated):
    options = PanelOptions(member_by=member_by, undated=undated)
    members, cbsa_of = small_members()
    out, _, notes = networks.network_measures(members, cbsa_of, None, sorted(PLACED), options)
    for code, placed in PLACED.items():
        metro = out[out.cbsa_code == code].set_index("year")
        assert list(metro.index) == list(options.years)
        if member_by == "midpoint" or code == "10004":
            expected = [y >= placed for y in metro.index]
        else:  # by default a membership known only by member_by is undated
            expected = [undated == "predate"] * len(metro)
        assert metro.networks_dated.astype(bool).tolist() == expected, code
        assert (metro.networks_ever == 1).all()
    assert f"member_by rule '{member_by}'" in " ".join(notes)


def test_member_by_option_flag_and_variant():
    with pytest.raises(OptionError, match="member_by"):
        PanelOptions(member_by="launch")
    args = cli._parser().parse_args(["build", "--member-by", "midpoint"])
    assert cli._options(args).member_by == "midpoint"
    assert cli._options(cli._parser().parse_args(["build"])).member_by == "undated"
    assert variants.variant_options()["networks-member-by-midpoint"] == PanelOptions(member_by="midpoint")
