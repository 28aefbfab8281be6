"""Curated dataset: facts from data/curated (in the repository), validation of user-added rows,
errata, and the damaged-input contract."""

from __future__ import annotations

import csv
import importlib.util
import io
import shutil
from pathlib import Path

import pandas as pd
import pytest

from citydip.config import CURATED_DIR, PROJECT_ROOT
from citydip.errors import OptionError, SourceFileError
from citydip.sources import curated, registry
from tests import damage as d


# -- the curated files (read from data/curated; no data directory needed) -------------------------
@pytest.fixture(scope="module")
def sister():
    return curated.load_sister_cities()


@pytest.fixture(scope="module")
def sister_raw():
    return curated.load_sister_cities(corrections=False)


@pytest.fixture(scope="module")
def networks():
    return curated.load_network_memberships()


@pytest.fixture(scope="module")
def consulates():
    return curated.load_consulate_events()


def pairs(frame, *columns):
    return {tuple(r) for r in frame[list(columns)].itertuples(index=False)}


def test_sister_cities_row_counts_per_collection(sister):
    assert sister.collection.value_counts().to_dict() == {"a": 698, "b": 288, "c": 113}
    assert sister.record_id.is_unique
    assert sister.record_id.iloc[0] == "sc-a-0001" and sister.record_id.iloc[-1] == "sc-c-0113"
    assert list(sister.columns) == curated.SISTER_CITIES_SCHEMA.names


def test_sister_cities_counts_stated_in_notes(sister_raw):
    a = sister_raw[sister_raw.collection == "a"]
    b = sister_raw[sister_raw.collection == "b"]
    c = sister_raw[sister_raw.collection == "c"]
    assert a.us_city.nunique() == 65
    assert len(a.groupby(["us_city", "us_state", "partner_city"])) == 681
    assert a.is_dated.sum() == 423
    assert b.is_dated.sum() == 166
    assert len(b.groupby(["us_city", "us_state", "partner_city"])) == 277
    assert c.is_dated.sum() == 101
    assert a.year_ended.notna().sum() == 2


def test_every_row_keeps_its_source_url(sister, networks, consulates):
    for frame in (sister, networks, consulates):
        assert frame.source_url.notna().all()
        assert frame.source_url.str.match(r"^https?://").all()


def test_nine_years_from_article_dates_in_collection_a(sister):
    flagged = sister[(sister.collection == "a") & sister.year_from_article_date]
    assert pairs(flagged, "us_city", "partner_city", "year_established") == {
        ("Kansas City", "Changsha", 2015), ("Nashville", "Erbil", 2023), ("Aurora", "Chihuahua", 2023),
        ("Oklahoma City", "Tainan", 1984), ("Providence", "Guatemala City", 2016), ("San Diego", "Jalalabad", 2004),
        ("Riverside", "Cần Thơ", 2014), ("Milwaukee", "Kragujevac", 2024), ("Providence", "Athlone", 2025)}
    # Collection c lists twelve such rows; collection b leaves such years blank.
    assert sister[sister.collection == "c"].year_from_article_date.sum() == 12
    assert sister[sister.collection == "b"].year_from_article_date.sum() == 0


def test_atlanta_taipei_is_corrected_and_the_original_stays_visible(sister, sister_raw):
    atlanta = sister[(sister.us_city == "Atlanta") & (sister.partner_city == "Taipei")]
    assert sorted(atlanta.year_established.tolist()) == [1979, 1979]
    fixed = atlanta[atlanta.corrected]
    assert len(fixed) == 1
    assert fixed.year_established_original.iloc[0] == 1974
    assert sister.corrected.sum() == 1
    before = sister_raw[sister_raw.record_id == fixed.record_id.iloc[0]]
    assert before.year_established.iloc[0] == 1974 and not before.corrected.iloc[0]


NOTES_A_CONFLICTS = {
    ("New York", "Johannesburg"), ("Buffalo", "Dortmund"), ("Chicago", "São Paulo"), ("Houston", "Taipei"),
    ("Houston", "Stavanger"), ("Dallas", "Brno"), ("Atlanta", "Taipei"), ("Atlanta", "Brussels"),
    ("Tampa", "Agrigento"), ("Cincinnati", "New Taipei City (formerly Taipei County)"), ("Raleigh", "Nairobi"),
    ("Richmond", "Richmond upon Thames"), ("Richmond", "Olsztyn"), ("Long Beach", "Phnom Penh"),
    ("Arlington", "San Miguel"), ("Mesa", "Burnaby"), ("Cambridge", "Yerevan")}


def test_seventeen_conflicting_pairs_in_collection_a(sister_raw, sister):
    conflicts = curated.conflicting_years(sister_raw[sister_raw.collection == "a"])
    assert len(conflicts) == 17
    assert pairs(conflicts, "us_city", "partner_city") == NOTES_A_CONFLICTS
    assert (conflicts.n_rows == 2).all()
    # The conflicting rows stay in the data; the Atlanta-Taipei correction makes that pair agree.
    after = curated.conflicting_years(sister[sister.collection == "a"])
    assert pairs(after, "us_city", "partner_city") == NOTES_A_CONFLICTS - {("Atlanta", "Taipei")}


def test_conflicting_pairs_across_collections(sister_raw):
    b = curated.conflicting_years(sister_raw[sister_raw.collection == "b"])
    assert len(b) == 9
    assert b.set_index(["us_city", "partner_city"]).loc[("Durham", "Kunshan"), "years"] == "2013;2014;2024"
    everything = curated.conflicting_years(sister_raw).set_index(["us_city", "partner_city"])
    assert everything.loc[("Buffalo", "Dortmund"), "years"] == "1974;1977;1978"
    assert everything.loc[("Honolulu", "Naha"), "collections"] == "b;c"
    assert everything.loc[("Los Angeles", "Yerevan"), "years"] == "2005;2007"


def test_disputed_records_are_marked_not_changed(sister, sister_raw):
    disputed = sister[sister.disputed]
    assert pairs(disputed, "us_city", "partner_city") == {
        ("Richmond", "Richmond upon Thames"), ("Houston", "Shenzhen"), ("Seattle", "Perugia"),
        ("San Francisco", "Shanghai")}
    assert (disputed.year_established == disputed.year_established_original).all()
    assert not sister_raw.disputed.any()


def test_sister_city_flags(sister):
    a = sister[sister.collection == "a"]
    intents = pairs(a[a.is_intent], "us_city", "partner_city")
    assert {("Charlotte", "Hadera"), ("Newark", "Vila Nova de Cerveira"), ("Minneapolis", "Mogadishu"),
            ("Naperville", "Cancún (Benito Juárez)"), ("Portland", "Lviv")} <= intents
    assert ("New York", "Tokyo") not in intents
    # a letter of intent before a signed agreement is not an intent row
    fuzhou = sister[(sister.partner_city == "Fuzhou") & (sister.us_city == "Honolulu")]
    assert len(fuzhou) == 2 and not fuzhou.is_intent.any() and fuzhou.is_friendship.all()
    former = pairs(sister[sister.is_former], "us_city", "partner_city")
    assert {("San Francisco", "Osaka"), ("Charlotte", "Voronezh"), ("Minneapolis", "Winnipeg"),
            ("Arlington", "Coyoacán"), ("Durham", "Kostroma")} <= former
    assert sister[sister.year_ended.notna()].is_former.all()
    planned = pairs(sister[sister.is_planned & (sister.collection == "c")], "us_city", "partner_city")
    assert {("Los Angeles", "Beirut"), ("Honolulu", "Nagaoka"), ("Jacksonville", "San Juan")} <= planned
    assert ("Austin", "Chiang Mai") not in planned
    assert pairs(sister[sister.is_domestic_or_territory], "us_city", "partner_city") == {
        ("Jacksonville", "San Juan"), ("Hartford", "Caguas"), ("Newark", "San Sebastián"), ("Honolulu", "San Juan"),
        ("Deltona", "Sanford")}
    dallas = sister[(sister.us_city == "Dallas") & sister.partner_city.isin(["Sendai", "Tianjin"])]
    assert dallas.is_friendship.all()


def test_network_memberships_facts(networks):
    assert networks.collection.value_counts().to_dict() == {"a": 458, "b": 38}
    assert networks.record_id.is_unique and networks.record_id.iloc[-1] == "nm-b-0038"
    assert list(networks.columns) == curated.NETWORK_MEMBERSHIPS_SCHEMA.names
    rc = networks[networks.network_code == "100rc"]
    assert len(rc[["us_city", "us_state"]].drop_duplicates()) == 29
    assert rc.year_joined.notna().all() and not rc.is_snapshot.any()
    assert networks.is_snapshot.sum() == networks.year_joined.isna().sum() == 367 + 24
    assert networks.network.nunique() == 9
    assert networks.year_left.notna().sum() == 1


def test_part_b_dates_and_bounds(networks):
    b = networks[networks.collection == "b"]
    # 14 rows with a stated join year; 24 snapshots bounding the join year from above
    assert b.year_joined.notna().sum() == 14 and b.member_by.notna().sum() == 24
    assert (b.member_by.notna() == b.is_snapshot).all() and networks.member_by.notna().sum() == 24
    assert b.notes.notna().all() and networks[networks.collection == "a"].notes.isna().all()
    first = {"Albany": 2015, "Aurora": 2019, "Spokane": 2020}
    gcom = b[b.network_code.eq("gcom") & b.us_city.isin(list(first))]
    assert dict(zip(gcom.us_city, gcom.year_joined)) == first
    c40 = b[b.network_code == "c40"]
    assert sorted(zip(c40.us_city, c40.year_joined)) == [("Austin", 2006), ("Austin", 2016), ("Houston", 2006),
                                                         ("Miami", 2020), ("Phoenix", 2020)]
    # no member_by before the Compact's launch (September 2014)
    assert curated.NETWORK_LAUNCH["gcom"][0] == 2014 and b.member_by.min() == 2014 + 1


def test_every_network_has_a_launch_year_with_a_source(networks):
    assert set(curated.NETWORK_LAUNCH) == set(curated.NETWORKS)
    assert all(str(source).startswith(("http://", "https://")) for _, source in curated.NETWORK_LAUNCH.values())
    launch = networks.network_code.map(lambda c: curated.NETWORK_LAUNCH[c][0])
    assert (networks.year_joined.dropna() >= launch[networks.year_joined.notna()]).all()


def test_part_b_is_adopted_with_every_source_url_and_quote(real_data, networks):
    path = real_data / "network_memberships" / "network_memberships_part_b.csv"
    if not path.is_file():
        pytest.skip("the hand-compiled part b is not in the data directory")
    raw = pd.read_csv(path, dtype=str, keep_default_na=False)
    b = networks[networks.collection == "b"].reset_index(drop=True)
    assert len(b) == len(raw)
    assert b.source_url.tolist() == raw.source_url.tolist()
    assert b.notes.tolist() == raw.quote.tolist()
    assert b.year_joined.astype("string").fillna("").tolist() == raw.year_joined.tolist()
    # the upper bound is the year the collector stated in source_date_hint ('member by YYYY ...')
    stated = raw.source_date_hint.str.extract(r"^member by (\d{4}) \(upper bound", expand=False).fillna("")
    assert b.member_by.astype("string").fillna("").tolist() == stated.tolist()


def test_alameda_left_100rc_in_2014_after_errata(networks):
    alameda = networks[(networks.us_city == "Alameda") & (networks.network_code == "100rc")]
    assert alameda.year_left.tolist() == [2014]
    assert alameda.year_left_original.isna().all() and alameda.corrected.all()
    raw = curated.load_network_memberships(corrections=False)
    assert raw[raw.us_city.eq("Alameda")].year_left.isna().all()
    chicago = networks[(networks.us_city == "Chicago") & (networks.network_code == "who_age_friendly")]
    assert sorted(chicago.year_joined.tolist()) == [2011, 2012] and chicago.disputed.all()


def test_consulate_events_counts_stated_in_notes(consulates):
    assert len(consulates) == 107
    assert consulates.month.notna().sum() == 65
    assert consulates.us_city.nunique() == 39
    assert consulates.sending_country.nunique() == 32
    assert consulates.event.value_counts().to_dict() == {
        "opened": 51, "closed": 26, "upgraded": 11, "relocated": 9, "reopened": 7, "downgraded": 3}
    by_year = consulates.year.value_counts()
    assert by_year[2004] == 12 and by_year[2023] == 12 and 2011 not in by_year.index


def test_nine_alternative_date_pairs(consulates):
    alt = consulates[consulates.is_alternative_date]
    assert alt.alternative_group.nunique() == 9
    assert (alt.groupby("alternative_group").size() == 2).all()
    assert pairs(alt, "sending_country", "us_city", "event") == {
        ("Canada", "San Diego", "opened"), ("Mexico", "Boise", "opened"), ("Switzerland", "Chicago", "closed"),
        ("Mexico", "New Orleans", "reopened"), ("El Salvador", "Aurora", "opened"), ("Poland", "Houston", "opened"),
        ("Japan", "Nashville", "relocated"), ("Ireland", "Miami", "opened"), ("Mexico", "New Brunswick", "opened")}
    # one row per pair leaves the 98 distinct post x event combinations
    confirmed = curated.choose_alternative_dates(consulates)
    assert len(confirmed) == 98
    poland = confirmed[(confirmed.sending_country == "Poland") & (confirmed.us_city == "Houston")]
    assert poland.month.tolist() == [12]  # the planned 1 Oct start gives way to the official opening
    earliest = curated.choose_alternative_dates(consulates, "earliest")
    ireland = earliest[(earliest.sending_country == "Ireland") & (earliest.us_city == "Miami")]
    assert ireland.year.tolist() == [2022]
    latest = curated.choose_alternative_dates(consulates, "latest")
    assert latest[(latest.sending_country == "Ireland") & (latest.us_city == "Miami")].year.tolist() == [2023]
    with pytest.raises(OptionError):
        curated.choose_alternative_dates(consulates, "median")


def test_consulate_flags(consulates):
    # 26 rows mention "planned"; in four of them the word refers to the other row of an
    # alternative-date pair or to an earlier plan, not to the row's own date.
    assert consulates.notes.str.contains("planned").sum() == 26
    assert consulates.is_planned.sum() == 22
    israel = consulates[(consulates.sending_country == "Israel") & (consulates.us_city == "Philadelphia")]
    assert israel.is_planned.all()
    japan = consulates[(consulates.sending_country == "Japan") & (consulates.us_city == "Nashville")]
    assert japan.sort_values("year").is_planned.tolist() == [True, False]
    canada = consulates[(consulates.sending_country == "Canada") & consulates.post_type.str.contains("satellite")]
    assert len(canada) == 10 and canada.is_borderline_post.all()
    plain = consulates[consulates.post_type.isin(["consulate (career consulate)", "consulate (full-service)"])]
    assert len(plain) == 2 and not plain.is_borderline_post.any()
    aurora = consulates[(consulates.us_city == "Aurora") & (consulates.event == "upgraded")]
    assert aurora[["post_type_before", "post_type_after"]].iloc[0].tolist() == ["consulate", "consulate general"]
    closed = consulates[consulates.event == "closed"]
    assert closed.post_type_after.isna().all() and closed.post_type_before.notna().all()


def test_curated_files_are_registered():
    keys = {"curated_sister_cities": 1099, "curated_network_memberships": 496, "curated_consulate_events": 107}
    for key, rows in keys.items():
        source = registry.get(key)
        assert source.curated
        path = source.path(PROJECT_ROOT / "data" / "raw", CURATED_DIR)
        assert path.parent == CURATED_DIR and path.is_file()
        assert len(source.reader(path)) == rows


def test_notes_are_copied_with_the_data():
    notes = CURATED_DIR / "notes"
    names = {p.relative_to(notes).as_posix() for p in notes.rglob("*.md")}
    assert names == {
        "sister_city_years/ERRATA.md", "sister_city_years/NOTES_part_a.md", "sister_city_years/NOTES_part_b.md",
        "sister_city_years/NOTES_part_c.md", "network_memberships/ERRATA.md", "network_memberships/NOTES.md",
        "consulate_events/NOTES.md"}


def test_errata_file(sister_raw):
    errata = curated.read_errata(CURATED_DIR / "errata.csv")
    assert errata.status.value_counts().to_dict() == {"disputed": 5, "correction": 2}
    assert errata[errata.status == "correction"].source_url.str.match(r"^https?://").all()
    applied = curated.apply_errata(sister_raw, errata, "sister_cities")
    twice = curated.apply_errata(applied, errata, "sister_cities")
    pd.testing.assert_frame_equal(applied, twice)


def test_adoption_reproduces_the_curated_rows(real_data, tmp_path):
    if not (real_data / "sister_city_years").is_dir():
        pytest.skip("the hand-compiled folders are not in the data directory")
    spec = importlib.util.spec_from_file_location("adopt_curated", PROJECT_ROOT / "scripts" / "adopt_curated.py")
    adopt = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(adopt)
    adopt.adopt(real_data, tmp_path)
    for name in ("sister_cities.csv", "network_memberships.csv", "consulate_events.csv"):
        fresh = pd.read_csv(tmp_path / name, dtype=str, keep_default_na=False)
        kept = pd.read_csv(CURATED_DIR / name, dtype=str, keep_default_na=False)
        # rows added to data/curated since the adoption come after the adopted ones
        pd.testing.assert_frame_equal(kept.iloc[: len(fresh)][fresh.columns], fresh)
    assert (tmp_path / "errata.csv").read_bytes() == (CURATED_DIR / "errata.csv").read_bytes()


# -- a user extends the dataset ---------------------------------------------------------------------
def append_row(path: Path, row: list[object]) -> None:
    buf = io.StringIO(newline="")
    csv.writer(buf, lineterminator="\n").writerow(row)
    with path.open("ab") as f:
        f.write(buf.getvalue().encode("utf-8"))


@pytest.fixture
def user_copy(tmp_path) -> Path:
    for name in ("sister_cities.csv", "network_memberships.csv", "consulate_events.csv", "errata.csv"):
        shutil.copyfile(CURATED_DIR / name, tmp_path / name)
    return tmp_path


NEW_SISTER_ROW = ["sc-d-0001", "d", "12060", "Atlanta", "GA", "Ouagadougou", "Burkina Faso", "2024",
                  "sister city (agreement signed 3 May 2024)", "", "https://example.org/atlanta-ouagadougou", "2024-05"]


def test_a_new_sister_city_row_is_read_and_counted(user_copy):
    append_row(user_copy / "sister_cities.csv", NEW_SISTER_ROW)
    frame = curated.load_sister_cities(user_copy)
    assert len(frame) == 1100
    new = frame[frame.record_id == "sc-d-0001"]
    assert new.year_established.tolist() == [2024] and new.collection.tolist() == ["d"]
    assert int(new.source_row.iloc[0]) == 1101
    assert frame.corrected.sum() == 1  # the errata still apply


def test_a_new_consulate_event_and_membership_are_read(user_copy):
    append_row(user_copy / "consulate_events.csv",
               ["ce-0108", "Examplia", "Denver", "CO", "consulate general", "opened", 2024, 6,
                "https://example.org/examplia-denver", "2024-06-02", "opened 1 Jun 2024"])
    append_row(user_copy / "network_memberships.csv",
               ["nm-c-0001", "c", "C40", "Denver", "CO", "", "", 2024, "member (listed)",
                "https://example.org/c40-denver", "2024", "Denver is listed among the members"])
    events = curated.load_consulate_events(user_copy)
    assert len(events) == 108 and events.event.value_counts()["opened"] == 52
    members = curated.load_network_memberships(user_copy)
    assert len(members) == 497
    new = members[members.record_id == "nm-c-0001"]
    assert new.network.tolist() == ["C40 Cities"] and new.member_by.tolist() == [2024]
    assert new.is_snapshot.all() and new.collection.tolist() == ["c"]


@pytest.mark.parametrize("city, value, message", [
    ("Atlanta", "2013", "member_by 2013 is before the launch of Compact of Mayors / Global Covenant of Mayors (2014)"),
    ("Atlanta", "Aug 2015", "is not a number"),
    ("Spokane", "2019", "member_by 2019 is before year_joined 2020"),
])
def test_a_bad_member_by_in_the_curated_file_is_named(user_copy, city, value, message):
    path = user_copy / "network_memberships.csv"
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    target = frame.index[frame.collection.eq("b") & frame.us_city.eq(city)][0]
    frame.loc[target, "member_by"] = value
    frame.to_csv(path, index=False, lineterminator="\n")
    with pytest.raises(SourceFileError) as exc:
        curated.load_network_memberships(user_copy)
    assert exc.value.path == path and exc.value.row == target + 2 and exc.value.column == "member_by"
    assert message in str(exc.value) and f"row {target + 2}, column 'member_by'" in str(exc.value)


def test_a_duplicate_of_an_existing_row_is_rejected(user_copy):
    with (CURATED_DIR / "sister_cities.csv").open(encoding="utf-8", newline="") as f:
        first = next(r for i, r in enumerate(csv.reader(f)) if i == 1)
    append_row(user_copy / "sister_cities.csv", ["sc-d-0002", "d", *first[2:]])
    with pytest.raises(SourceFileError) as exc:
        curated.read_sister_cities(user_copy / "sister_cities.csv")
    assert exc.value.row == 1101 and exc.value.column == "us_city"
    assert "rows 2, 1101" in str(exc.value)


def test_a_reused_record_id_is_rejected(user_copy):
    append_row(user_copy / "sister_cities.csv", ["sc-a-0001", *NEW_SISTER_ROW[1:]])
    with pytest.raises(SourceFileError) as exc:
        curated.read_sister_cities(user_copy / "sister_cities.csv")
    assert exc.value.row == 1101 and exc.value.column == "record_id"


def test_an_erratum_that_no_longer_matches_the_data_fails(user_copy):
    path = user_copy / "sister_cities.csv"
    path.write_text(path.read_text(encoding="utf-8").replace("sc-a-0179,a,12060,Atlanta,GA,Taipei,Taiwan,1974",
                                                             "sc-a-0179,a,12060,Atlanta,GA,Taipei,Taiwan,1975"),
                    encoding="utf-8")
    with pytest.raises(SourceFileError) as exc:
        curated.load_sister_cities(user_copy)
    assert exc.value.path.name == "errata.csv" and exc.value.row == 2 and exc.value.column == "file_value"


# -- sample files and damage ---------------------------------------------------------------------------
SISTER_HEADER = ["record_id", "collection", "cbsa_code", "us_city", "us_state", "partner_city", "partner_country",
                 "year_established", "relationship_type", "year_ended", "source_url", "source_date_hint"]
SISTER_ROWS = [
    ["sc-x-0001", "x", "12345", "Alpha", "TX", "Beta", "Examplia", 1990, "sister city", "",
     "https://example.org/alpha-beta", "2020"],
    ["sc-x-0002", "x", "12345", "Alpha", "TX", "Gamma", "Examplia", "", "friendship city", "",
     "https://example.org/alpha", ""],
    ["sc-x-0003", "x", "", "Delta", "PR", "Epsilon", "Otherland", 2001, "former sister city", 2010,
     "http://example.net/delta", "2011-05"],
]
SISTER = [SISTER_HEADER] + SISTER_ROWS

CONSULATE_HEADER = ["record_id", "sending_country", "us_city", "us_state", "post_type", "event", "year", "month",
                    "source_url", "source_date_hint", "notes"]
CONSULATE = [CONSULATE_HEADER,
             ["ce-x-1", "Examplia", "Alpha", "TX", "consulate", "opened", 2005, 3, "https://example.org/a", "n.d.",
              "opened March 2005"],
             ["ce-x-2", "Examplia", "Alpha", "TX", "consulate -> consulate general", "upgraded", 2010, "",
              "https://example.org/b", "2010", "upgrade"],
             ["ce-x-3", "Otherland", "Delta", "PR", "consulate (trade office)", "closed", 2012, 12,
              "https://example.org/c", "2012-11", "to close in December (planned)"]]

NETWORK_HEADER = ["record_id", "collection", "network", "us_city", "us_state", "year_joined", "year_left",
                  "member_by", "membership_type", "source_url", "source_date_hint", "notes"]
NETWORK = [NETWORK_HEADER,
           ["nm-x-1", "x", "C40 Cities", "Alpha", "TX", 2010, "", 2012, "member", "https://example.org/c40", "", ""],
           ["nm-x-2", "x", "GCoM", "Alpha", "TX", "", "", 2019, "listed signatory", "https://example.org/gcom", "2019",
            "Alpha is a signatory"],
           ["nm-x-3", "x", "100 Resilient Cities", "Epsilon County", "", 2014, 2016, "", "member",
            "https://example.org/rc", "", ""]]


def test_sample_sister_cities(tmp_path):
    frame = curated.read_sister_cities(d.write_csv(SISTER, tmp_path / "s.csv"))
    assert frame.year_established.tolist()[0] == 1990 and pd.isna(frame.year_established.iloc[1])
    assert frame.is_friendship.tolist() == [False, True, False]
    assert frame.is_former.tolist() == [False, False, True]
    assert pd.isna(frame.cbsa_code.iloc[2]) and frame.source_row.tolist() == [2, 3, 4]


def test_sample_consulates_and_networks(tmp_path):
    events = curated.read_consulate_events(d.write_csv(CONSULATE, tmp_path / "c.csv"))
    assert events.is_planned.tolist() == [False, False, True]
    assert events.is_borderline_post.tolist() == [False, False, True]
    assert events.post_type_after.iloc[1] == "consulate general" and not events.is_alternative_date.any()
    members = curated.read_network_memberships(d.write_csv(NETWORK, tmp_path / "n.csv"))
    assert members.network.tolist() == ["C40 Cities", "Compact of Mayors / Global Covenant of Mayors",
                                        "100 Resilient Cities"]
    assert members.is_snapshot.tolist() == [False, True, False]
    assert members.is_county.tolist() == [False, False, True] and pd.isna(members.us_state.iloc[2])
    assert members.member_by.tolist()[:2] == [2012, 2019] and pd.isna(members.member_by.iloc[2])
    assert members.notes.iloc[1] == "Alpha is a signatory" and pd.isna(members.notes.iloc[0])


def with_new_id(grid, index, record_id):
    return d.set_cell(grid, 0, index, "record_id", record_id)


SISTER_DAMAGE = {
    "missing column": (d.drop_column(SISTER, 0, "source_url"), 1, "source_url"),
    "renamed column": (d.rename_column(SISTER, 0, "year_established", "year"), 1, "year_established"),
    "non-numeric year": (d.set_cell(SISTER, 0, 2, "year_established", "circa 1990"), 3, "year_established"),
    "decimal year": (d.set_cell(SISTER, 0, 1, "year_established", "1990.5"), 2, "year_established"),
    "year too early": (d.set_cell(SISTER, 0, 1, "year_established", 1850), 2, "year_established"),
    "year too late": (d.set_cell(SISTER, 0, 3, "year_ended", 2099), 4, "year_ended"),
    "ended before established": (d.set_cell(SISTER, 0, 3, "year_ended", 1999), 4, "year_ended"),
    "duplicated row": (d.duplicate_row(SISTER, 1), 3, "record_id"),
    "same pair, year and source": (with_new_id(d.duplicate_row(SISTER, 1), 2, "sc-x-0009"), 3, "us_city"),
    "same pair and source, both undated": (with_new_id(d.duplicate_row(SISTER, 2), 3, "sc-x-0009"), 4, "us_city"),
    "bad state code": (d.set_cell(SISTER, 0, 2, "us_state", "XX"), 3, "us_state"),
    "lower-case state": (d.set_cell(SISTER, 0, 2, "us_state", "tx"), 3, "us_state"),
    "empty state": (d.set_cell(SISTER, 0, 2, "us_state", ""), 3, "us_state"),
    "empty source_url": (d.set_cell(SISTER, 0, 3, "source_url", ""), 4, "source_url"),
    "source_url not http": (d.set_cell(SISTER, 0, 1, "source_url", "www.example.org/page"), 2, "source_url"),
    "cbsa not five digits": (d.set_cell(SISTER, 0, 1, "cbsa_code", "1234"), 2, "cbsa_code"),
    "empty record_id": (d.set_cell(SISTER, 0, 2, "record_id", ""), 3, "record_id"),
    "empty partner": (d.set_cell(SISTER, 0, 1, "partner_city", ""), 2, "partner_city"),
}


@pytest.mark.parametrize("case", sorted(SISTER_DAMAGE))
def test_damaged_sister_cities(tmp_path, case):
    grid, row, column = SISTER_DAMAGE[case]
    good = d.write_csv(SISTER, tmp_path / "good.csv")
    bad = d.write_csv(grid, tmp_path / "bad.csv")
    d.check_damage(curated.read_sister_cities, good, bad, must_fail=True, row=row, column=column)


def test_harmless_changes_to_sister_cities(tmp_path):
    good = d.write_csv(SISTER, tmp_path / "good.csv")
    shuffled = d.write_csv(d.shuffle_columns(SISTER, 0, len(SISTER_ROWS)), tmp_path / "shuffled.csv")
    d.check_damage(curated.read_sister_cities, good, shuffled, must_fail=False)
    quoted = d.write_csv(SISTER, tmp_path / "quoted.csv", quote_all=True, bom=True)
    d.check_damage(curated.read_sister_cities, good, quoted, must_fail=False)
    blank = d.add_empty_rows_to_file(d.write_csv(SISTER, tmp_path / "blank.csv"))
    d.check_damage(curated.read_sister_cities, good, blank, must_fail=False)
    # a URL followed by a note in parentheses is accepted
    noted = d.write_csv(d.set_cell(SISTER, 0, 1, "source_url", "https://example.org/repo (data/file.csv)"),
                        tmp_path / "noted.csv")
    assert curated.read_sister_cities(noted).source_url.iloc[0] == "https://example.org/repo (data/file.csv)"


@pytest.mark.parametrize("reader, grid", [(curated.read_sister_cities, SISTER),
                                          (curated.read_consulate_events, CONSULATE),
                                          (curated.read_network_memberships, NETWORK)])
def test_empty_and_truncated_files(tmp_path, reader, grid):
    good = d.write_csv(grid, tmp_path / "good.csv")
    d.check_damage(reader, good, d.empty(tmp_path / "empty.csv"), must_fail=True)
    d.check_damage(reader, good, d.truncate(good, tmp_path / "cut.csv"), must_fail=True)
    header_only = d.write_csv(grid[:1], tmp_path / "header.csv")
    d.check_damage(reader, good, header_only, must_fail=True)


CONSULATE_DAMAGE = {
    "unknown event": (d.set_cell(CONSULATE, 0, 1, "event", "moved"), 2, "event"),
    "month 13": (d.set_cell(CONSULATE, 0, 3, "month", 13), 4, "month"),
    "month 0": (d.set_cell(CONSULATE, 0, 1, "month", 0), 2, "month"),
    "missing year": (d.set_cell(CONSULATE, 0, 2, "year", ""), 3, "year"),
    "upgrade without arrow": (d.set_cell(CONSULATE, 0, 2, "post_type", "consulate general"), 3, "post_type"),
    "arrow on an opening": (d.set_cell(CONSULATE, 0, 1, "post_type", "consulate -> consulate general"), 2,
                            "post_type"),
    "bad state code": (d.set_cell(CONSULATE, 0, 1, "us_state", "Tex."), 2, "us_state"),
    "same event, year and source": (with_new_id(d.duplicate_row(CONSULATE, 1), 2, "ce-x-9"), 3, "sending_country"),
    "missing column": (d.drop_column(CONSULATE, 0, "event"), 1, "event"),
}


@pytest.mark.parametrize("case", sorted(CONSULATE_DAMAGE))
def test_damaged_consulate_events(tmp_path, case):
    grid, row, column = CONSULATE_DAMAGE[case]
    good = d.write_csv(CONSULATE, tmp_path / "good.csv")
    bad = d.write_csv(grid, tmp_path / "bad.csv")
    d.check_damage(curated.read_consulate_events, good, bad, must_fail=True, row=row, column=column)


NETWORK_DAMAGE = {
    "unknown network": (d.set_cell(NETWORK, 0, 1, "network", "League of Examplia"), 2, "network"),
    "left before joining": (d.set_cell(NETWORK, 0, 3, "year_left", 2012), 4, "year_left"),
    "non-numeric year": (d.set_cell(NETWORK, 0, 1, "year_joined", "2010s"), 2, "year_joined"),
    "bad state code": (d.set_cell(NETWORK, 0, 2, "us_state", "ZZ"), 3, "us_state"),
    "same membership via an alias": (d.set_cell(with_new_id(d.duplicate_row(NETWORK, 1), 2, "nm-x-9"), 0, 2,
                                                "network", "C40"), 3, "network_code"),
    "empty source_url": (d.set_cell(NETWORK, 0, 2, "source_url", ""), 3, "source_url"),
    "member_by not a year": (d.set_cell(NETWORK, 0, 2, "member_by", "by 2019"), 3, "member_by"),
    "member_by before the launch": (d.set_cell(NETWORK, 0, 2, "member_by", 2013), 3, "member_by"),
    "member_by before year_joined": (d.set_cell(NETWORK, 0, 1, "member_by", 2009), 2, "member_by"),
    "joined before the launch": (d.set_cell(NETWORK, 0, 1, "year_joined", 2004), 2, "year_joined"),
    "empty collection": (d.set_cell(NETWORK, 0, 3, "collection", ""), 4, "collection"),
    "missing member_by column": (d.drop_column(NETWORK, 0, "member_by"), 1, "member_by"),
}


@pytest.mark.parametrize("case", sorted(NETWORK_DAMAGE))
def test_damaged_network_memberships(tmp_path, case):
    grid, row, column = NETWORK_DAMAGE[case]
    good = d.write_csv(NETWORK, tmp_path / "good.csv")
    bad = d.write_csv(grid, tmp_path / "bad.csv")
    d.check_damage(curated.read_network_memberships, good, bad, must_fail=True, row=row, column=column)


ERRATA_HEADER = ["erratum_id", "dataset", "record_ids", "key", "field", "file_value", "corrected_value", "status",
                 "source_url", "note"]
ERRATA = [ERRATA_HEADER,
          ["er-x-1", "sister_cities", "sc-x-0001", "Alpha - Beta", "year_established", 1990, 1991, "correction",
           "https://example.org/fix", "audit"],
          ["er-x-2", "sister_cities", "sc-x-0002;sc-x-0003", "two rows", "year_established", ";2001", "", "disputed",
           "", "audit"]]


def test_sample_errata_are_applied(tmp_path):
    frame = curated.read_sister_cities(d.write_csv(SISTER, tmp_path / "s.csv"))
    fixed = curated.apply_errata(frame, d.write_csv(ERRATA, tmp_path / "errata.csv"), "sister_cities")
    assert fixed.year_established.iloc[0] == 1991 and fixed.year_established_original.iloc[0] == 1990
    assert fixed.corrected.tolist() == [True, False, False]
    assert fixed.disputed.tolist() == [False, True, True]
    # errata for other datasets leave the frame alone
    events = curated.read_consulate_events(d.write_csv(CONSULATE, tmp_path / "c.csv"))
    assert not curated.apply_errata(events, tmp_path / "errata.csv", "consulate_events").corrected.any()


ERRATA_DAMAGE = {
    "unknown record": (d.set_cell(ERRATA, 0, 1, "record_ids", "sc-x-0099"), 2, "record_ids"),
    "file value differs": (d.set_cell(ERRATA, 0, 1, "file_value", 1989), 2, "file_value"),
    "correction without source": (d.set_cell(ERRATA, 0, 1, "source_url", ""), 2, "source_url"),
    "unknown status": (d.set_cell(ERRATA, 0, 1, "status", "fixed"), 2, "status"),
    "field not correctable": (d.set_cell(ERRATA, 0, 1, "field", "partner_city"), 2, "field"),
    "corrected year out of range": (d.set_cell(ERRATA, 0, 1, "corrected_value", 2199), 2, "corrected_value"),
    "correction leaves end before start": (
        d.set_cell(d.set_cell(d.set_cell(ERRATA, 0, 1, "record_ids", "sc-x-0003"), 0, 1, "file_value", 2001), 0, 1,
                   "corrected_value", 2015), 2, "corrected_value"),
    "values do not match records": (d.set_cell(ERRATA, 0, 2, "file_value", "2001"), 3, "file_value"),
    "two corrections of one record": (d.set_cell(d.duplicate_row(ERRATA, 1), 0, 2, "erratum_id", "er-x-9"), 3,
                                      "dataset"),
}


@pytest.mark.parametrize("case", sorted(ERRATA_DAMAGE))
def test_damaged_errata(tmp_path, case):
    grid, row, column = ERRATA_DAMAGE[case]
    sample = curated.read_sister_cities(d.write_csv(SISTER, tmp_path / "s.csv"))
    bad = d.write_csv(grid, tmp_path / "errata_bad.csv")
    with pytest.raises(SourceFileError) as exc:
        curated.apply_errata(sample, bad, "sister_cities")
    assert exc.value.path.name == "errata_bad.csv"
    assert (exc.value.row, exc.value.column) == (row, column)
