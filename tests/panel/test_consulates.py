"""Consular posts per metro-year: each fill rule on made-up snapshots and events, then real data."""

from __future__ import annotations

import time

import numpy as np
import pandas as pd
import pytest

from citydip.geo.match import Match
from citydip.panel import consulates
from citydip.panel.consulates import consulate_measures, harmonise_country
from citydip.panel.options import PanelOptions

YEARS = range(2010, 2022)
ALPHA, BETA, GAMMA, DELTA = "10000", "20000", "30000", "40000"   # DELTA lies outside the sample
CODES = [ALPHA, BETA, GAMMA]
PLACES = {"Alpha": ALPHA, "Alphaburg": ALPHA, "Beta": BETA, "Gamma": GAMMA, "Delta": DELTA,
          "Washington DC": "47900"}


class FakeMatcher:
    """Places cities by name only (a Lowy post city has no state)."""

    def match_one(self, city, state="", lat=np.nan, lng=np.nan):
        code = PLACES.get(str(city), "")
        return Match(state="XX", cbsa_code=code, method="fake" if code else "",
                     reason="" if code else "no U.S. place of this name")


# -- made-up inputs in the readers' schemas -------------------------------------------------------------
LOWY_COLUMNS = ["vintage", "sending_country", "post_city", "post_country", "post_country_corrected", "type_of_post",
                "post_type_title", "is_career_consular", "is_consulate_general", "in_united_states", "flag",
                "source_row"]


def _lowy(rows: list[tuple]) -> pd.DataFrame:
    """rows: (vintage, country, city, title[, post_country_corrected]); titles 'Embassy' make embassies."""
    out = []
    for i, r in enumerate(rows):
        v, country, city, title = r[:4]
        corrected = r[4] if len(r) > 4 else "United States"
        kind = "Embassy / High Commission" if title == "Embassy" else "Consulate / Consulate-General"
        out.append({"vintage": v, "sending_country": country, "post_city": city, "post_country": "United States",
                    "post_country_corrected": corrected, "type_of_post": kind, "post_type_title": title,
                    "is_career_consular": kind != "Embassy / High Commission",
                    "is_consulate_general": title.startswith("Consulate-General"),
                    "in_united_states": corrected == "United States",
                    "flag": "" if corrected == "United States" else "post country mislabelled", "source_row": i + 2})
    return pd.DataFrame(out, columns=LOWY_COLUMNS).astype({"sending_country": "string", "post_city": "string",
                                                           "flag": "string", "post_type_title": "string"})


def _events(rows: list[dict]) -> pd.DataFrame:
    """Event rows with the reader's derived columns (post_type_before/after, flags, groups)."""
    out = []
    for i, r in enumerate(rows):
        post = r.get("post_type", "consulate general")
        parts = [p.strip() for p in post.split("->")]
        if len(parts) == 2:
            before, after = parts
        elif r["event"] in ("opened", "reopened"):
            before, after = None, parts[0]
        elif r["event"] == "closed":
            before, after = parts[0], None
        else:
            before = after = parts[0]
        out.append({"record_id": r.get("record_id", f"ce-{i + 1:04d}"), "sending_country": r["country"],
                    "us_city": r["city"], "us_state": "XX", "post_type": post, "event": r["event"],
                    "year": r["year"], "month": r.get("month"), "notes": r.get("notes", ""),
                    "post_type_before": before, "post_type_after": after, "is_planned": r.get("planned", False),
                    "is_borderline_post": r.get("borderline", False), "alternative_group": r.get("group"),
                    "is_alternative_date": r.get("group") is not None})
    frame = pd.DataFrame(out)
    return frame.astype({"year": "Int64", "month": "Int64", "alternative_group": "string", "is_planned": bool,
                         "is_borderline_post": bool, "is_alternative_date": bool})


COMMON = ["France", "Germany", "Spain", "Italy", "United Kingdom", "Japan", "Canada", "Poland", "Norway", "Mexico",
          "Hungary", "Russian Federation", "China", "Chile"]


def scenario_lowy() -> pd.DataFrame:
    rows = []
    for v in (2016, 2017, 2019):
        rows += [(v, c, "Washington DC", "Embassy") for c in COMMON]          # coverage: every vintage
        rows += [(v, "France", "Alpha", "Consulate-General"),                  # carried back and forward
                 (v, "Germany", "Beta", "Consulate-General"),                  # opening 2014 dated
                 (v, "Spain", "Gamma", "Consulate-General"),                   # opening 2018 dated: listed early
                 (v, "Japan", "Alpha", "Consulate-General" if v == 2019 else "Consulate"),   # upgrade 2018
                 (v, "Canada", "Beta", "Consulate-General"),                   # moved from Alpha in 2012
                 (v, "Mexico", "Alpha", "Consulate-General"),                  # two sites in one metro
                 (v, "Mexico", "Alphaburg", "Consulate"),
                 (v, "China", "Gamma", "Consulate-General")]                   # closed 2020
    rows += [(2016, "United Kingdom", "Gamma", "Consulate"),                   # stale: closed 2014
             (2016, "Norway", "Beta", "Consulate-General"),                    # undated closure before 2017
             (2016, "Russian Federation", "Beta", "Consulate-General"),        # closed 2018
             (2017, "Russian Federation", "Beta", "Consulate-General"),
             (2016, "Germany", "Delta", "Consulate"),                          # outside the sample
             (2016, "Germany", "Nowhere", "Consulate"),                        # no CBSA match
             (2016, "Mexico", "Leamington", "Consulate", "Canada")]            # not in the United States
    for v in (2017, 2019):
        rows += [(v, "Vietnam", "Washington DC", "Embassy"),                   # covered from 2017 only
                 (v, "Vietnam", "Alpha", "Consulate-General"),
                 (v, "Poland", "Gamma", "Consulate-General"),                  # opened 2017
                 (v, "Hungary", "Alpha", "Consulate-General"),                 # opened 2015: Lowy 2016 omits it
                 (v, "Chile", "Gamma", "Consulate-General")]                   # no event: appears in 2017
    return _lowy(rows)


def ev(record_id: str, country: str, city: str, event: str, year: int, **more) -> dict:
    return {"record_id": record_id, "country": country, "city": city, "event": event, "year": year, **more}


def scenario_events() -> pd.DataFrame:
    return _events([
        ev("ce-0001", "Germany", "Beta", "opened", 2014),
        ev("ce-0002", "Spain", "Gamma", "opened", 2018),
        ev("ce-0003", "Italy", "Beta", "closed", 2013, post_type="consulate"),
        ev("ce-0004", "United Kingdom", "Gamma", "closed", 2014, month=1, post_type="consulate"),
        ev("ce-0005", "Japan", "Alpha", "upgraded", 2018, post_type="consulate -> consulate general"),
        ev("ce-0006", "Canada", "Alpha", "relocated", 2011, planned=True,
           notes="origin of inter-city move to Beta (planned)"),
        ev("ce-0007", "Canada", "Beta", "relocated", 2012, notes="destination of move from Alpha"),
        ev("ce-0008", "Poland", "Gamma", "opened", 2016, month=10, planned=True,
           group="Poland|Gamma|opened|2016"),
        ev("ce-0009", "Poland", "Gamma", "opened", 2017, month=12, group="Poland|Gamma|opened|2016"),
        ev("ce-0010", "Hungary", "Alpha", "opened", 2015, month=9),
        ev("ce-0011", "Russia", "Beta", "closed", 2018, month=3),
        ev("ce-0012", "China", "Gamma", "closed", 2020, month=7),
        ev("ce-0013", "El Salvador", "Alpha", "opened", 2015),
        ev("ce-0014", "Canada", "Gamma", "opened", 2004, borderline=True,
           post_type="consulate (satellite trade office)"),
        ev("ce-0015", "France", "Alpha", "relocated", 2015, notes="intra-city move: new premises"),
        ev("ce-0016", "Germany", "Delta", "opened", 2012),
        ev("ce-0017", "Germany", "Nowhere", "closed", 2012),
    ])


def run(countries="common", fill="carry", lowy=None, events=None, **more):
    options = PanelOptions(consulate_countries=countries, consulate_fill=fill, **more)
    return consulate_measures(scenario_lowy() if lowy is None else lowy,
                              scenario_events() if events is None else events, FakeMatcher(), CODES, YEARS, options)


@pytest.fixture(scope="module")
def carry():
    return run()


def years_of(result, country, code):
    p = result.posts
    return set(p.loc[p.sending_country.eq(country) & p.cbsa_code.eq(code), "year"])


def span(a, b):
    return set(range(a, b + 1))


# -- the rules, one by one ---------------------------------------------------------------------------------
def test_carried_back_and_forward_with_year_labels(carry):
    assert years_of(carry, "France", ALPHA) == span(2010, 2021)
    fill = carry.metro_year.set_index(["cbsa_code", "year"]).consulate_fill
    assert [fill[(ALPHA, t)] for t in (2010, 2015, 2016, 2017, 2018, 2019, 2020)] == [
        "carried back", "carried back", "snapshot", "snapshot", "between snapshots", "snapshot", "carried forward"]
    basis = carry.posts.set_index(["sending_country", "cbsa_code", "year"]).basis
    assert basis[("France", ALPHA, 2012)] == "carried back"
    assert basis[("France", ALPHA, 2018)] == "between snapshots"
    assert basis[("France", ALPHA, 2021)] == "carried forward"
    assert basis[("France", ALPHA, 2019)] == "snapshot"


def test_dated_opening_removes_earlier_years(carry):
    assert years_of(carry, "Germany", BETA) == span(2014, 2021)
    # an opening dated after two snapshots that list the post: the event wins over both
    assert years_of(carry, "Spain", GAMMA) == span(2018, 2021)
    spain = carry.dropped[carry.dropped.sending_country.eq("Spain") & carry.dropped.city.eq("Gamma")]
    assert sorted(spain.year) == [2016, 2017] and spain.reason.str.contains("ce-0002").all()


def test_closure_before_first_snapshot_adds_earlier_years(carry):
    assert years_of(carry, "Italy", BETA) == span(2010, 2012)   # absent in its closing year 2013


def test_stale_snapshot_overridden_by_event_and_noted(carry):
    assert years_of(carry, "United Kingdom", GAMMA) == span(2010, 2013)
    assert any("United Kingdom Gamma" in n and "ce-0004" in n and "event wins" in n for n in carry.notes)
    uk = carry.dropped[carry.dropped.sending_country.eq("United Kingdom") & carry.dropped.city.eq("Gamma")]
    assert list(uk.record_id) == ["2016 row " + str(int(scenario_lowy().query(
        "sending_country == 'United Kingdom' and post_city == 'Gamma'").source_row.iloc[0]))]


def test_omitted_post_with_dated_opening_counts_from_the_opening(carry):
    assert years_of(carry, "Hungary", ALPHA) == span(2015, 2021)
    assert any("omits Hungary Alpha" in n and "ce-0010" in n for n in carry.notes)


def test_upgrade_changes_consulate_general_count(carry):
    p = carry.posts.set_index(["sending_country", "cbsa_code", "year"]).is_consulate_general
    assert [bool(p[("Japan", ALPHA, t)]) for t in (2010, 2016, 2017, 2018, 2019, 2021)] == [
        False, False, False, True, True, True]


def test_relocation_between_cities_moves_the_post_in_the_confirmed_year(carry):
    assert years_of(carry, "Canada", ALPHA) == span(2010, 2011)
    assert years_of(carry, "Canada", BETA) == span(2012, 2021)
    assert any("Canada moved its post from Alpha to Beta: dated 2012 by ce-0007" in n for n in carry.notes)


def test_closures_after_a_snapshot_and_after_the_last_one(carry):
    assert years_of(carry, "Russia", BETA) == span(2010, 2017)   # Lowy 'Russian Federation', closed 2018
    assert years_of(carry, "China", GAMMA) == span(2010, 2019)   # carried forward, closed 2020


def test_undated_change_is_placed_at_the_first_snapshot_that_shows_it(carry):
    assert years_of(carry, "Norway", BETA) == span(2010, 2016)
    assert years_of(carry, "Chile", GAMMA) == span(2017, 2021)
    assert any("Norway Beta (20000) disappears in 2017" in n for n in carry.notes)


def test_alternative_dates_keep_the_confirmed_row(carry):
    assert years_of(carry, "Poland", GAMMA) == span(2017, 2021)
    row = carry.dropped.set_index("record_id").loc["ce-0008"]
    assert "planned date superseded" in row.reason and "ce-0009" in row.reason


def test_two_sites_in_one_metro_are_one_post(carry):
    mexico = carry.posts[carry.posts.sending_country.eq("Mexico")]
    assert len(mexico) == len(YEARS) and set(mexico.cbsa_code) == {ALPHA} and mexico.is_consulate_general.all()


def test_metro_counts_by_hand(carry):
    m = carry.metro_year.set_index(["cbsa_code", "year"])
    # Alpha: France, Japan, Mexico always; Canada until 2011; Hungary from 2015
    assert [m.consular_posts[(ALPHA, t)] for t in YEARS] == [4, 4, 3, 3, 3, 4, 4, 4, 4, 4, 4, 4]
    # consulates general: France, Mexico; Canada until 2011; Hungary from 2015; Japan from 2018
    assert [m.consulates_general[(ALPHA, t)] for t in YEARS] == [3, 3, 2, 2, 2, 3, 3, 3, 4, 4, 4, 4]
    # Beta: Italy to 2012, Norway to 2016, Russia to 2017, Canada from 2012, Germany from 2014
    assert [m.consular_posts[(BETA, t)] for t in YEARS] == [3, 3, 4, 3, 4, 4, 4, 3, 2, 2, 2, 2]
    # Gamma: UK to 2013, China to 2019, Poland and Chile from 2017, Spain from 2018
    assert [m.consular_posts[(GAMMA, t)] for t in YEARS] == [2, 2, 2, 2, 1, 1, 1, 3, 4, 4, 3, 3]
    assert list(carry.metro_year.columns) == ["cbsa_code", "year", "consular_posts", "consulates_general",
                                              "consulate_fill"]
    assert len(carry.metro_year) == len(CODES) * len(YEARS)
    assert carry.metro_year.consular_posts.dtype == "float64"


def test_coverage_common_versus_all():
    common, every = run("common"), run("all")
    assert years_of(common, "Vietnam", ALPHA) == set()
    assert years_of(every, "Vietnam", ALPHA) == span(2010, 2021)   # carried back from its first vintage, 2017
    basis = every.posts.set_index(["sending_country", "cbsa_code", "year"]).basis
    assert basis[("Vietnam", ALPHA, 2016)] == "carried back"
    assert basis[("Vietnam", ALPHA, 2017)] == "snapshot"
    vietnam = common.dropped[common.dropped.sending_country.eq("Vietnam") & common.dropped.city.eq("Alpha")]
    assert len(vietnam) == 2 and vietnam.reason.str.contains("not covered by the Lowy coverage 'common'").all()
    assert not every.dropped.sending_country.eq("Vietnam").any() or every.dropped.loc[
        every.dropped.sending_country.eq("Vietnam"), "city"].eq("Washington DC").all()
    diff = (every.metro_year.consular_posts - common.metro_year.consular_posts)
    assert diff.tolist() == [1.0 if c == ALPHA else 0.0 for c in CODES for _ in YEARS]


def test_events_of_uncovered_countries_borderline_posts_and_moves_within_a_city_are_dropped(carry):
    reasons = carry.dropped.set_index("record_id").reason
    assert "not covered" in reasons["ce-0013"]                       # El Salvador: never in Lowy
    assert reasons["ce-0014"].startswith("borderline post")
    assert reasons["ce-0015"].startswith("relocation within a city")
    assert reasons["ce-0016"].startswith("metro outside the sample")
    assert reasons["ce-0017"].startswith("no CBSA match")


def test_lowy_rows_not_used_say_why(carry):
    d = carry.dropped[carry.dropped.dataset.str.startswith("lowy")]
    by_city = d.groupby("city").reason.first()
    assert by_city["Delta"].startswith("metro outside the sample")
    assert by_city["Nowhere"].startswith("no CBSA match")
    assert by_city["Leamington"].startswith("not in the United States")
    assert by_city["Washington DC"].startswith("not a career consular post")


def test_every_input_row_is_used_or_dropped_once(carry):
    lowy, events = scenario_lowy(), scenario_events()
    rows_in = {(f"lowy_gdi U.S. posts {v}", f"{v} row {r}") for v, r in zip(lowy.vintage, lowy.source_row)}
    rows_in |= {("consulate_events (curated)", r) for r in events.record_id}
    used = set(zip(carry.used.dataset, carry.used.record_id))
    dropped = list(zip(carry.dropped.dataset, carry.dropped.record_id))
    assert len(dropped) == len(set(dropped))
    assert used.isdisjoint(dropped)
    assert used | set(dropped) == rows_in
    assert len(used) + len(dropped) == len(lowy) + len(events)


def test_snapshots_only_gives_nan_elsewhere_and_carry_values_in_snapshot_years(carry):
    snap = run(fill="snapshots_only")
    m = snap.metro_year
    off = ~m.year.isin([2016, 2017, 2019])
    assert m.loc[off, "consular_posts"].isna().all() and m.loc[off, "consulates_general"].isna().all()
    assert (m.loc[off, "consulate_fill"] == "none").all() and (m.loc[~off, "consulate_fill"] == "snapshot").all()
    c = carry.metro_year
    pd.testing.assert_frame_equal(m.loc[~off, ["cbsa_code", "year", "consular_posts"]],
                                  c.loc[~off, ["cbsa_code", "year", "consular_posts"]])
    assert set(snap.posts.year) == {2016, 2017, 2019}


def test_known_lowy_omission_filled_unless_kept(monkeypatch):
    monkeypatch.setattr(consulates, "LOWY_OMISSIONS", {(2016, "Chile", "Gamma"): "made-up evidence"})
    assert years_of(run(), "Chile", GAMMA) == span(2010, 2021)
    assert years_of(run(consulate_lowy_omissions="keep"), "Chile", GAMMA) == span(2017, 2021)


def test_output_does_not_depend_on_input_order(carry):
    lowy = scenario_lowy().sample(frac=1.0, random_state=3)
    events = scenario_events().sample(frac=1.0, random_state=4)
    other = run(lowy=lowy, events=events)
    pd.testing.assert_frame_equal(other.posts, carry.posts)
    pd.testing.assert_frame_equal(other.metro_year, carry.metro_year)
    pd.testing.assert_frame_equal(other.dropped, carry.dropped)
    assert other.notes == carry.notes


def test_country_names_harmonised():
    assert harmonise_country("Russian Federation") == "Russia"
    assert harmonise_country("Korea Republic of (South Korea)") == "South Korea"
    assert harmonise_country("Taiwan*") == "Taiwan"
    assert harmonise_country("Slovak Republic") == "Slovakia"
    assert harmonise_country("Mexico") == "Mexico"


# -- real data ------------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def real(real_data):
    from citydip import geo
    from citydip.geo.match import PlaceMatcher
    from citydip.sources import bea, curated, lowy

    frames = [lowy.read_vintage(real_data / lowy.FOLDER / lowy.FILENAMES[v]) for v in lowy.VINTAGES]
    lowy_all = pd.concat(frames, ignore_index=True)
    events = curated.load_consulate_events()
    matcher = PlaceMatcher(geo.load(real_data)["2020"])
    matcher.match_one("Portland", "")   # load the gazetteer before timing the build
    income = bea.read_cainc1(next((real_data / "bea_regional").glob("CAINC1_MSA_1969_*.csv")))
    top = income[income.geo_level.eq("msa") & income.year.eq(2019)].nlargest(100, "population_persons")
    codes = top.geo_fips.astype(str).tolist()
    start = time.perf_counter()
    result = consulate_measures(lowy_all, events, matcher, codes, range(2005, 2022), PanelOptions())
    elapsed = time.perf_counter() - start
    return {"result": result, "lowy": lowy_all, "events": events, "matcher": matcher, "codes": codes,
            "elapsed": elapsed}


def _post_set(posts, year):
    p = posts[posts.year.eq(year)]
    return set(zip(p.sending_country, p.cbsa_code))


def test_real_snapshot_years_equal_lowy_up_to_the_listed_corrections(real):
    """Panel post sets in 2016/2017/2019 = Lowy's (common countries, sample metros), except the event
    overrides and the known Lowy 2016 omissions that the notes list."""
    lw, matcher, codes = real["lowy"], real["matcher"], set(real["codes"])
    common = set.intersection(*(set(lw.loc[lw.vintage.eq(v), "sending_country"].map(harmonise_country))
                                for v in (2016, 2017, 2019))) - {"United States"}
    career = lw[lw.in_united_states & lw.is_career_consular]
    changes = {
        2016: ({("Israel", "37980"), ("United Kingdom", "36740")},            # closed 2016 (planned) / Jan 2014
               {("Canada", "26420"), ("Canada", "41740"), ("Hungary", "16980"), ("Japan", "38900"),
                ("New Zealand", "46520"), ("New Zealand", "35620")}),         # Lowy 2016 omissions
        2017: (set(), set()),
        2019: (set(), {("Ireland", "31080")}),                                # opened 2019 (planned), not in Lowy
    }
    for v, (removed, added) in changes.items():
        rows = career[career.vintage.eq(v)]
        lowy_set = {(harmonise_country(c), matcher.match_one(city, "").cbsa_code)
                    for c, city in zip(rows.sending_country, rows.post_city)}
        lowy_set = {(c, k) for c, k in lowy_set if c in common and k in codes}
        assert _post_set(real["result"].posts, v) == (lowy_set - removed) | added, v


def test_real_new_york_has_the_most_posts_every_year(real):
    m = real["result"].metro_year
    top = m.loc[m.groupby("year").consular_posts.idxmax(), "cbsa_code"]
    assert set(top) == {"35620"}
    assert m.set_index(["cbsa_code", "year"]).consular_posts[("35620", 2019)] >= 35


def test_real_dated_changes(real):
    p = real["result"].posts

    def has(country, code):
        return set(p.loc[p.sending_country.eq(country) & p.cbsa_code.eq(code), "year"])

    assert has("Poland", "26420") == span(2017, 2021)          # Houston: official opening Dec 2017
    assert p.loc[p.sending_country.eq("Poland") & p.cbsa_code.eq("26420"), "is_consulate_general"].all()
    assert min(has("Netherlands", "12060")) == 2019            # Atlanta: opened Jan 2019, not in 2018
    assert has("United Kingdom", "36740") == span(2005, 2013)  # Orlando: closed Jan 2014, stale in Lowy 2016
    assert max(has("Russia", "41860")) == 2016                 # San Francisco: closed Sep 2017
    assert max(has("Russia", "42660")) == 2017                 # Seattle: closed Mar 2018
    assert max(has("China", "26420")) == 2019                  # Houston: closed Jul 2020
    assert has("Japan", "35380") == span(2005, 2007)           # New Orleans -> Nashville, 2008
    assert has("Japan", "34980") == span(2008, 2021)
    assert has("Switzerland", "16980") == span(2005, 2013) | span(2019, 2021)   # closed 2014, reopened 2019
    assert has("Sweden", "31080") == span(2005, 2008)          # Los Angeles: closed 2009


def test_real_every_row_used_or_dropped(real):
    r, lw, ev = real["result"], real["lowy"], real["events"]
    us = lw[lw.in_united_states | lw.post_country.eq("United States")]
    assert len(r.used) + len(r.dropped) == len(us) + len(ev)
    assert not set(zip(r.used.dataset, r.used.record_id)) & set(zip(r.dropped.dataset, r.dropped.record_id))
    assert set(r.dropped.loc[r.dropped.dataset.str.startswith("consulate"), "record_id"]) | set(
        r.used.loc[r.used.dataset.str.startswith("consulate"), "record_id"]) == set(ev.record_id)


def test_real_build_is_fast_and_complete(real):
    r = real["result"]
    assert real["elapsed"] < 2.0
    assert len(r.metro_year) == 100 * 17 and r.metro_year.consular_posts.notna().all()
    assert r.metro_year.consulate_fill.tolist()[:17] == ["carried back"] * 11 + [
        "snapshot", "snapshot", "between snapshots", "snapshot", "carried forward", "carried forward"]


# -- five editions: placement between editions, fill rules, coverage ------------------------------------------
EDITIONS = (2016, 2017, 2019, 2021, 2023)
YEARS5 = range(2010, 2025)
# Lowy's spellings change between editions; the reader's sending_country_harmonised is one name
RENAMED = {"Turkey": ("Turkey", "Türkiye"), "Korea Republic of (South Korea)": ("Korea Republic of (South Korea)",
                                                                                 "South Korea")}


def _lowy5(rows: list[tuple]) -> pd.DataFrame:
    """rows: (edition, published country, published city, title[, corrected city]); adds the
    reader's harmonised country and corrected city columns."""
    frame = _lowy([r[:4] for r in rows])
    frame["sending_country_harmonised"] = frame["sending_country"].map(harmonise_country).astype("string")
    frame["post_city_corrected"] = pd.Series([r[4] if len(r) > 4 else r[2] for r in rows], dtype="string")
    return frame


def five_edition_lowy() -> pd.DataFrame:
    rows = []
    for v in EDITIONS:
        late = v >= 2021
        rows += [(v, c, "Washington DC", "Embassy") for c in ("France", "Germany", "Spain", "Japan")]
        rows += [(v, "Türkiye" if late else "Turkey", "Washington DC", "Embassy"),
                 (v, "South Korea" if late else "Korea Republic of (South Korea)", "Washington DC", "Embassy"),
                 (v, "France", "Alpha", "Consulate-General"),                       # every edition
                 (v, "Türkiye" if late else "Turkey", "Beta", "Consulate-General"),  # renamed: one post throughout
                 (v, "South Korea" if late else "Korea Republic of (South Korea)", "Gamma", "Consulate")]
        if v <= 2019:
            rows += [(v, "Germany", "Alpha", "Consulate-General")]                 # gone in 2021: no event
            rows += [(v, "Japan", "Beta", "Consulate-General")]                    # gone in 2021: closed 2020
        if v == 2021:
            rows += [(v, "Spain", "Gamma", "Consulate-General")]                   # only in 2021: no event
        if v >= 2021:
            rows += [(v, "Japan", "Gamma", "Consulate")]                           # new in 2021: no event
            rows += [(v, "Colombia", "Washington DC", "Embassy"),                  # covered from 2021 only
                     (v, "Colombia", "Alpha", "Consulate")]
        if v == 2023:
            rows += [(v, "Mexico", "Oklahoma", "Consulate", "Gamma"),              # published city corrected
                     (v, "Mexico", "Washington DC", "Embassy")]                    # covered in 2023 only
    return _lowy5(rows)


def run5(countries="common", fill="carry", lowy=None, events=None, years=YEARS5):
    options = PanelOptions(consulate_countries=countries, consulate_fill=fill)
    events = _events([ev("ce-0001", "Japan", "Beta", "closed", 2020)]) if events is None else events
    return consulate_measures(five_edition_lowy() if lowy is None else lowy, events, FakeMatcher(), CODES, years,
                              options)


@pytest.fixture(scope="module")
def carry5():
    return run5()


def test_change_between_editions_without_an_event_is_placed_at_the_later_edition(carry5):
    assert years_of(carry5, "Germany", ALPHA) == span(2010, 2020)     # in 2019, not in 2021: through 2020
    assert years_of(carry5, "Japan", GAMMA) == span(2021, 2024)       # first listed 2021: from 2021
    assert years_of(carry5, "Spain", GAMMA) == {2021, 2022}           # 2021 only: through 2022 (2023 - 1)
    assert years_of(carry5, "Japan", BETA) == span(2010, 2019)        # a dated closure places its own change
    note = next(n for n in carry5.notes if n.startswith("changes no event dates"))
    assert note.startswith("changes no event dates: 4 (4 placed in the panel years 2010-2024; "
                           "by earlier observation -> edition: 2019->2021 3, 2021->2023 1)")
    assert "Spain Gamma (30000) appears in 2021" in note
    assert "Germany Alpha (10000) disappears in 2021" in note and "Japan Gamma (30000) appears in 2021" in note
    assert "Spain Gamma (30000) disappears in 2023" in note and "Japan Beta" not in note


def test_five_editions_years_between_and_after_are_labelled(carry5):
    fill = carry5.metro_year.drop_duplicates("year").set_index("year").consulate_fill
    assert [fill[t] for t in (2015, 2016, 2018, 2020, 2021, 2022, 2023, 2024)] == [
        "carried back", "snapshot", "between snapshots", "between snapshots", "snapshot", "between snapshots",
        "snapshot", "carried forward"]


def test_renamed_sending_country_is_one_post_and_in_common_coverage(carry5):
    assert years_of(carry5, "Türkiye", BETA) == span(2010, 2024)
    assert years_of(carry5, "South Korea", GAMMA) == span(2010, 2024)
    assert not carry5.posts.sending_country.isin(["Turkey", "Korea Republic of (South Korea)"]).any()


def test_corrected_post_city_is_matched():
    every = run5("all")
    assert years_of(every, "Mexico", GAMMA) == span(2010, 2024)   # 'Oklahoma' corrected to a city in Gamma


def test_coverage_rules_over_five_editions_and_the_log_lists_them(carry5):
    by_edition = {v: set(f.sending_country_harmonised) for v, f in five_edition_lowy().groupby("vintage")}
    rules = consulates.coverage_rules(by_edition)
    assert rules["common"] == ["France", "Germany", "Japan", "South Korea", "Spain", "Türkiye"]
    assert rules["all"] == ["Colombia", "France", "Germany", "Japan", "Mexico", "South Korea", "Spain", "Türkiye"]
    common_note, all_note = carry5.notes[:2]
    assert common_note.startswith("coverage 'common' (in effect): 6 sending countries present in every Lowy edition "
                                  "[2016, 2017, 2019, 2021, 2023]: France, Germany, Japan, South Korea, Spain, Türkiye;")
    assert "2 countries of only some editions left out (Colombia, Mexico)" in common_note
    assert all_note.startswith("coverage 'all' (alternative): 8 sending countries")
    assert "(Colombia from 2021; Mexico from 2023)" in all_note
    every = run5("all")
    assert every.notes[0].startswith("coverage 'all' (in effect)") and every.notes[1].startswith("coverage 'common'")
    assert years_of(carry5, "Colombia", ALPHA) == set()
    assert years_of(every, "Colombia", ALPHA) == span(2010, 2024)    # carried back from its first edition


@pytest.mark.parametrize("countries", ["common", "all"])
def test_editions_only_is_missing_before_the_first_edition_and_carry_from_it(countries):
    carry, eds = run5(countries), run5(countries, "editions_only")
    c, e = carry.metro_year, eds.metro_year
    early = e.year < 2016
    assert e.loc[early, ["consular_posts", "consulates_general"]].isna().all().all()
    assert (e.loc[early, "consulate_fill"] == "none").all()
    pd.testing.assert_frame_equal(e[~early].reset_index(drop=True), c[~early].reset_index(drop=True))
    assert eds.posts.year.min() == 2016
    pd.testing.assert_frame_equal(eds.posts, carry.posts[carry.posts.year >= 2016].reset_index(drop=True))
    assert any(n.startswith("fill 'editions_only'") and "the 6 panel years before 2016 are missing" in n
               for n in eds.notes)


def test_editions_only_on_the_three_edition_scenario_and_snapshots_only_on_five(carry):
    eds = run(fill="editions_only").metro_year
    assert eds.loc[eds.year < 2016, "consular_posts"].isna().all()
    pd.testing.assert_frame_equal(eds[eds.year >= 2016], carry.metro_year[carry.metro_year.year >= 2016])
    snap = run5(fill="snapshots_only").metro_year
    assert sorted(snap.loc[snap.consular_posts.notna(), "year"].unique()) == list(EDITIONS)


def test_fill_rules_do_not_depend_on_the_panel_years():
    short, long = run5(years=range(2018, 2023)), run5(years=YEARS5)
    merged = short.metro_year.merge(long.metro_year, on=["cbsa_code", "year"], suffixes=("", "_long"))
    assert len(merged) == len(CODES) * 5
    assert (merged.consular_posts == merged.consular_posts_long).all()
    assert (merged.consulate_fill == merged.consulate_fill_long).all()


# -- real data, five editions ---------------------------------------------------------------------------------------
#: Metros whose Lowy posts sit in one principal city.
ONE_CITY = {"16980": "Chicago", "26420": "Houston", "12060": "Atlanta", "42660": "Seattle", "19740": "Denver"}
#: Differences from the Lowy count that the build log explains: (metro, edition) -> {country: dated event}.
EXPLAINED = {("42660", 2023): {"India": "ce-0105"}}   # India Seattle opened Nov 2023, after Lowy collected 2023


@pytest.fixture(scope="module")
def real5(real, real_data):
    from citydip.sources import lowy

    editions = lowy.editions(real_data)
    out = {"editions": editions}
    for countries, fill in (("all", "carry"), ("all", "editions_only"), ("common", "carry")):
        out[(countries, fill)] = consulate_measures(editions, real["events"], real["matcher"], real["codes"],
                                                    range(2005, 2024), PanelOptions(consulate_countries=countries,
                                                                                    consulate_fill=fill))
    return out


def test_real_one_city_metros_equal_lowy_2021_and_2023_up_to_what_the_log_names(real, real5):
    """consular_posts in 2021 and 2023 (coverage 'all') = distinct sending countries with a
    "Consulate / Consulate-General" post in the metro's principal city in that Lowy edition,
    except where the build log names the event (or excluded post type) that explains it."""
    ed, result, matcher = real5["editions"], real5[("all", "carry")], real["matcher"]
    us = ed[ed.in_united_states & ed.sending_country_harmonised.ne("United States")]
    m = result.metro_year.set_index(["cbsa_code", "year"]).consular_posts
    posts = result.posts
    for code, city in ONE_CITY.items():
        for year in (2021, 2023):
            rows = us[us.edition.eq(year)]
            career = rows[rows.is_career_consular]
            cities = {c for c in career.post_city_corrected.unique() if matcher.match_one(c, "").cbsa_code == code}
            assert cities == {city}, (code, year, cities)   # the posts of the metro sit in one city
            consulate_type = rows[rows.post_city_corrected.eq(city) & rows.type_of_post.eq("Consulate / Consulate-General")]
            expected = set(consulate_type.sending_country_harmonised)
            panel = set(posts.loc[posts.cbsa_code.eq(code) & posts.year.eq(year), "sending_country"])
            assert m[(code, year)] == len(panel)
            differences = panel ^ expected
            named = EXPLAINED.get((code, year), {})
            assert differences == set(named), (city, year, sorted(panel - expected), sorted(expected - panel))
            for country, event in named.items():   # the build log names the event
                assert any(f"{country} {city}" in n and event in n and "event wins" in n for n in result.notes)
    # no post of these cities is of a type the panel counts but the "Consulate / Consulate-General" type
    # excludes (e.g. Korea's consular office in Dallas, 'Other' until 2021), so no difference needs that reason
    assert m[("42660", 2023)] == 5 and m[("16980", 2021)] == 33


def test_real_editions_only_is_missing_before_2016_and_equals_carry_from_2016(real5):
    c, e = real5[("all", "carry")].metro_year, real5[("all", "editions_only")].metro_year
    early = e.year < 2016
    assert e.loc[early, "consular_posts"].isna().all() and (e.loc[early, "consulate_fill"] == "none").all()
    pd.testing.assert_frame_equal(e[~early].reset_index(drop=True), c[~early].reset_index(drop=True))
    assert c.consular_posts.notna().all()


def test_real_coverage_rules_over_five_editions(real5):
    by_edition = {v: set(f.sending_country_harmonised) for v, f in real5["editions"].groupby("edition")}
    rules = consulates.coverage_rules(by_edition)
    assert len(rules["common"]) == 41 and {"South Korea", "Türkiye", "Czechia", "Russia", "Slovakia"} <= set(
        rules["common"])
    # the 41 countries of every edition are the 41 foreign countries of 2016: five editions lose none
    assert set(rules["common"]) == by_edition[2016] - {"United States"}
    extra = set(rules["all"]) - set(rules["common"])
    assert len(rules["all"]) == 65 and {"Colombia", "Costa Rica", "Timor-Leste", "Lithuania", "Vietnam"} <= extra
    notes = real5[("common", "carry")].notes
    assert notes[0].startswith("coverage 'common' (in effect): 41 sending countries present in every Lowy edition "
                               "[2016, 2017, 2019, 2021, 2023]: Argentina, Australia")
    assert notes[1].startswith("coverage 'all' (alternative): 65 sending countries") and "Colombia from 2021" in notes[1]


def test_real_changes_no_event_dates_are_counted_and_listed(real5):
    for key in (("all", "carry"), ("common", "carry")):
        note = next(n for n in real5[key].notes if n.startswith("changes no event dates"))
        count = int(note.split(":")[1].split("(")[0])
        listed = note.split("The changes: ")[1].split("; ")
        assert count == len(listed) > 0
        assert "Mexico San Jose (41940) appears in 2021" in listed
        assert "South Africa Chicago (16980) disappears in 2023" in listed
        assert "United Kingdom Denver (19740) disappears in 2017" in listed
    p = real5[("common", "carry")].posts
    assert set(p.loc[p.sending_country.eq("South Africa") & p.cbsa_code.eq("16980"), "year"]) == span(2005, 2022)
    assert set(p.loc[p.sending_country.eq("Norway") & p.cbsa_code.eq("26420"), "year"]) == span(2005, 2022)  # ce-0101
