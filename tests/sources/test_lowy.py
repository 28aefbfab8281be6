"""Lowy Global Diplomacy Index readers: real facts from the files, and the damaged-input contract."""

from __future__ import annotations

from functools import partial
from pathlib import Path

import pandas as pd
import pytest

from citydip.errors import SourceFileError
from citydip.sources import lowy
from tests import damage as d

HEADER_2016 = ["COUNTRY", "POPULATION (M)", "GDP (B, USD)", "G20 RANK", "OECD RANK", "OVERALL RANK",
               "POST CITY", "POST COUNTRY", "TYPE OF POST", "POST TYPE TITLE"]
HEADER_2019 = HEADER_2016[:5] + ["ASIA RANK"] + HEADER_2016[5:]
# Made-up figures in the published layout.
ROWS_2016 = [
    ["Aldoria", "12.5", "340", "7", "", "9", "Springfield", "United States", "Consulate / Consulate-General",
     "Consulate-General"],
    ["Aldoria", "12.5", "340", "7", "", "9", "Capital City", "United States", "Embassy / High Commission", "Embassy"],
    ["Aldoria", "12.5", "340", "7", "", "9", "Shelbyville", "United States", "Other", "Consular Office"],
    ["Aldoria", "12.5", "340", "7", "", "9", "Ogdenville", "United States", "Other", "Trade Office"],
    ["Mexico", "120", "1200", "15", "30", "20", "Leamington", "United States", "Consulate / Consulate-General",
     "Consulate"],
    ["Mexico", "120", "1200", "15", "30", "20", "Gotham", "Borduria", "Permanent Mission", "Mission to UN"],
    ["Borduria", "3.1", "45", "", "12", "30", "Szohod", "Borduria", "Consulate / Consulate-General", "Consulate"],
]
GRID_2016 = [HEADER_2016] + ROWS_2016
GRID_2019 = [HEADER_2019] + [r[:5] + ["4" if r[0] == "Aldoria" else ""] + r[5:] for r in ROWS_2016]

read_2016 = partial(lowy.read_vintage, vintage=2016)
read_2019 = partial(lowy.read_vintage, vintage=2019)


def write(grid, path: Path, **kw) -> Path:
    """Write in the published layout: BOM, every field quoted, no line break at the end."""
    d.write_csv(grid, path, bom=True, quote_all=True, **kw)
    path.write_bytes(path.read_bytes().rstrip(b"\n"))
    return path


# -- real data ---------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def posts(real_data):
    return lowy.read_all(real_data)


def test_rows_and_sending_countries(posts):
    # Records: 5,945 / 7,190 / 7,317 (PROVENANCE's 5,944 / 7,189 / 7,316 are line counts, one short
    # because the files do not end with a line break); 2016 loses its duplicated row.
    assert posts.groupby("vintage").size().to_dict() == {2016: 5944, 2017: 7190, 2019: 7317}
    assert posts.groupby("vintage").sending_country.nunique().to_dict() == {2016: 42, 2017: 60, 2019: 61}
    assert list(posts.columns) == lowy.SCHEMA.names


def test_us_counts_match_provenance(posts):
    counts = lowy.us_post_counts(posts)
    assert counts.posts.to_dict() == {2016: 351, 2017: 419, 2019: 425}
    assert counts.consulate_type.to_dict() == {2016: 256, 2017: 279, 2019: 283}
    assert counts.consular_cities.to_dict() == {2016: 60, 2017: 58, 2019: 58}


def test_us_counts_after_corrections(posts):
    # Corrections: -Leamington, -Saipan every year; -U.S. Nogales (2016); +Mexico Nogales (2017, 2019).
    # Consular posts by the schema definition add the 4/5 'Consular Office' posts under 'Other'.
    counts = lowy.us_post_counts(posts)
    assert counts.posts_corrected.to_dict() == {2016: 348, 2017: 418, 2019: 424}
    assert counts.career_consular_corrected.to_dict() == {2016: 257, 2017: 283, 2019: 287}


def test_known_traps_are_flagged_not_dropped(posts):
    leam = posts[posts.post_city.eq("Leamington")]
    assert len(leam) == 3 and set(leam.post_country_corrected) == {"Canada"}
    assert leam.flag.str.contains("Ontario").all() and not leam.in_united_states.any()
    us_nogales = posts[posts.sending_country.eq("United States") & posts.post_city.eq("Nogales")]
    assert us_nogales.set_index("vintage").post_country.to_dict() == {2016: "United States", 2017: "Mexico",
                                                                      2019: "Mexico"}
    assert set(us_nogales.post_country_corrected) == {"Mexico"}
    assert us_nogales.set_index("vintage").flag.ne("").to_dict() == {2016: True, 2017: False, 2019: False}
    mx_nogales = posts[posts.sending_country.eq("Mexico") & posts.post_city.eq("Nogales")]
    assert mx_nogales.in_united_states.all() and len(mx_nogales) == 3
    holy_see = posts[(posts.vintage == 2016) & posts.sending_country.eq("Hungary") & posts.post_city.eq("Holy See")]
    assert len(holy_see) == 1 and "published twice" in holy_see.flag.iloc[0]


def test_consular_classes(posts):
    us = posts[posts.in_united_states & posts.vintage.eq(2019)]
    assert us[us.is_consulate_general].type_of_post.eq("Consulate / Consulate-General").all()
    assert us.is_consulate_general.sum() == 244  # 243 as published + Mexico's Nogales (Arizona) post
    taiwan = us[us.sending_country.eq("Taiwan*")]
    assert len(taiwan) == 12 and not taiwan.is_career_consular.any()
    japan_portland = us[us.sending_country.eq("Japan") & us.post_city.eq("Portland")]
    assert japan_portland.is_career_consular.all() and japan_portland.type_of_post.eq("Other").all()


# -- sample and damaged files -------------------------------------------------------------------
@pytest.fixture
def good_2016(tmp_path) -> Path:
    return write(GRID_2016, tmp_path / "2016_sample.csv")


@pytest.fixture
def good_2019(tmp_path) -> Path:
    return write(GRID_2019, tmp_path / "2019_sample.csv")


def test_sample_reads(good_2016, good_2019):
    for frame in (lowy.read_vintage(good_2016), lowy.read_vintage(good_2019)):
        assert list(frame.columns) == lowy.SCHEMA.names
        assert frame.is_career_consular.tolist() == [True, False, True, False, True, False, True]
        assert frame.is_consulate_general.tolist() == [True] + [False] * 6
        assert frame.in_united_states.tolist() == [True, True, True, True, False, False, False]
        assert frame.flag.ne("").tolist() == [False] * 4 + [True, False, True]
        assert frame.overall_rank.tolist() == [9, 9, 9, 9, 20, 20, 30]
    assert set(lowy.read_vintage(good_2016).vintage) == {2016}


def test_vintage_from_file_name(tmp_path, good_2016):
    bad = write(GRID_2016, tmp_path / "lowy.csv")
    with pytest.raises(SourceFileError, match="vintage"):
        lowy.read_vintage(bad)


@pytest.mark.parametrize("case", ["rename", "drop", "shuffle", "duplicate", "nonnumeric", "type", "negative",
                                  "rank", "inconsistent", "empty_city"])
def test_damaged_grids(tmp_path, case):
    good = write(GRID_2019, tmp_path / "good.csv")
    damaged, must_fail, row, column = {
        "rename": (d.rename_column(GRID_2019, 0, "POST CITY", "CITY"), True, None, "POST CITY"),
        "drop": (d.drop_column(GRID_2019, 0, "ASIA RANK"), True, 1, "ASIA RANK"),
        "shuffle": (d.shuffle_columns(GRID_2019, 0, len(ROWS_2016)), False, None, None),
        "duplicate": (d.duplicate_row(GRID_2019, 2), True, 4, "COUNTRY"),
        "nonnumeric": (d.set_cell(GRID_2019, 0, 3, "POPULATION (M)", "n/a"), True, 4, "POPULATION (M)"),
        "type": (d.set_cell(GRID_2019, 0, 5, "TYPE OF POST", "Honorary Consulate"), True, 6, "TYPE OF POST"),
        "negative": (d.set_cell(GRID_2019, 0, 7, "GDP (B, USD)", "-45"), True, 8, "GDP (B, USD)"),
        "rank": (d.set_cell(GRID_2019, 0, 1, "ASIA RANK", "4.5"), True, 2, "ASIA RANK"),
        "inconsistent": (d.set_cell(GRID_2019, 0, 2, "POPULATION (M)", "13.5"), True, 3, "POPULATION (M)"),
        "empty_city": (d.set_cell(GRID_2019, 0, 4, "POST CITY", ""), True, 5, "POST CITY"),
    }[case]
    bad = write(damaged, tmp_path / f"bad_{case}.csv")
    d.check_damage(read_2019, good, bad, must_fail=must_fail, row=row, column=column)


def test_2016_layout_with_asia_rank_is_rejected(tmp_path, good_2016):
    bad = write(GRID_2019, tmp_path / "bad.csv")
    d.check_damage(read_2016, good_2016, bad, must_fail=True, column="ASIA RANK")


def test_known_duplicate_is_dropped_and_flagged(tmp_path):
    row = ["Hungary", "9.9", "120", "", "20", "25", "Holy See", "Holy See (Vatican City State)",
           "Embassy / High Commission", "Embassy"]
    frame = read_2016(write([HEADER_2016, row, row, ROWS_2016[0]], tmp_path / "dup.csv"))
    assert len(frame) == 2
    assert frame.flag.iloc[0] == "published twice (also row 3); one copy kept"
    # The same duplicate in another vintage is not a known defect.
    grid = [HEADER_2019, row[:5] + [""] + row[5:], row[:5] + [""] + row[5:]]
    with pytest.raises(SourceFileError, match="duplicated post"):
        read_2019(write(grid, tmp_path / "dup2019.csv"))


def test_truncated(tmp_path, good_2016):
    for fraction in (0.3, 0.6, 0.9):
        bad = d.truncate(good_2016, tmp_path / f"cut{fraction}.csv", fraction)
        d.check_damage(read_2016, good_2016, bad, must_fail=True)


def test_empty(tmp_path, good_2016):
    d.check_damage(read_2016, good_2016, d.empty(tmp_path / "empty.csv"), must_fail=True)
    header_only = write([HEADER_2016], tmp_path / "header.csv")
    d.check_damage(read_2016, good_2016, header_only, must_fail=True)


def test_latin1_is_rejected(tmp_path):
    grid = d.set_cell(GRID_2016, 0, 1, "POST CITY", "São Tomé")
    good = write(grid, tmp_path / "good.csv")
    bad = d.reencode(good, tmp_path / "latin1.csv", "latin-1")
    d.check_damage(read_2016, good, bad, must_fail=True, row=2)


def test_blank_trailing_lines_are_harmless(tmp_path, good_2016):
    bad = d.add_empty_rows_to_file(write(GRID_2016, tmp_path / "blank.csv"))
    d.check_damage(read_2016, good_2016, bad, must_fail=False)


def test_missing_file(tmp_path):
    with pytest.raises(SourceFileError, match="citydip fetch"):
        read_2016(tmp_path / "2016_nope.csv")


# == the workbook of every edition (globaldiplomacyindex.xlsx) and the five editions ==============
# -- real data ---------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def book(real_data):
    return lowy.read_workbook(real_data / lowy.FOLDER / lowy.WORKBOOK)


@pytest.fixture(scope="module")
def editions(real_data):
    return lowy.editions(real_data)


def test_workbook_rows_per_edition_match_provenance(book):
    # Records published per edition (PROVENANCE: 5,945 / 7,190 / 40 / 7,713 / 7,701); the reader drops
    # the known exact duplicates (2016: 1, 2021: 12), each noted on the copy it keeps.
    kept = book.groupby("vintage").size().to_dict()
    assert kept == {2016: 5944, 2017: 7190, 2019: 40, 2021: 7701, 2023: 7701}
    twice = book[book.flag.str.contains("published twice")].groupby("vintage").size().to_dict()
    assert twice == {2016: 1, 2021: 12}
    assert {v: kept[v] + twice.get(v, 0) for v in kept} == {2016: 5945, 2017: 7190, 2019: 40, 2021: 7713,
                                                            2023: 7701}
    assert list(book.columns) == lowy.SCHEMA.names


def test_workbook_us_counts_match_provenance(book):
    counts = lowy.us_post_counts(book)
    assert counts.loc[[2021, 2023], "posts"].to_dict() == {2021: 457, 2023: 462}
    assert counts.loc[[2021, 2023], "consulate_type"].to_dict() == {2021: 305, 2023: 310}
    assert counts.loc[[2021, 2023], "consular_cities"].to_dict() == {2021: 59, 2023: 62}
    cons = book[book.post_country.eq("United States") & book.type_of_post.eq(lowy.TYPE_CONSULATE)]
    assert cons.groupby("vintage").sending_country.nunique().loc[[2021, 2023]].to_dict() == {2021: 55, 2023: 56}


def _comparable(frame):
    """A reader's frame without what differs between files: row numbers (also inside flags)."""
    out = frame.drop(columns="source_row").reset_index(drop=True)
    out["flag"] = out["flag"].str.replace(r" \(also row \d+\)", "", regex=True)
    return out


@pytest.mark.parametrize("vintage", [2016, 2017])
def test_workbook_slices_2016_2017_equal_the_csvs(book, real_data, vintage):
    csv = lowy.read_vintage(real_data / lowy.FOLDER / lowy.FILENAMES[vintage], vintage)
    xlsx = book[book.vintage.eq(vintage)]
    pd.testing.assert_frame_equal(_comparable(xlsx), _comparable(csv))


def test_workbook_2019_fragment_is_flagged_and_in_the_csv(book, real_data):
    fragment = book[book.vintage.eq(2019)]
    assert len(fragment) == 40 and fragment.flag.str.contains("fragment of the workbook").all()
    assert not book[book.vintage.ne(2019)].flag.str.contains("fragment").any()
    csv = lowy.read_vintage(real_data / lowy.FOLDER / lowy.FILENAMES[2019], 2019)
    key = ["sending_country", "post_city", "post_country", "type_of_post", "post_type_title"]
    assert len(fragment[key].merge(csv[key].drop_duplicates(), on=key)) == 40


def test_editions_take_each_edition_from_its_file(editions):
    assert list(editions.columns) == lowy.EDITIONS_SCHEMA.names
    by = editions.groupby("edition")
    assert by.size().to_dict() == {2016: 5944, 2017: 7190, 2019: 7317, 2021: 7701, 2023: 7701}
    assert by.source_file.first().to_dict() == {2016: lowy.FILENAMES[2016], 2017: lowy.FILENAMES[2017],
                                                2019: lowy.FILENAMES[2019], 2021: lowy.WORKBOOK, 2023: lowy.WORKBOOK}
    assert by.published_as.first().to_dict() == {2016: 2016, 2017: 2017, 2019: 2019, 2021: 2021, 2023: 2024}
    assert (editions.edition == editions.vintage).all()
    assert not editions.flag.str.contains("fragment").any()


def test_editions_from_the_workbook_are_the_same_posts(real_data, editions):
    early = lowy.editions(real_data, early="xlsx")
    for v in (2016, 2017):
        a = _comparable(early[early.edition.eq(v)].drop(columns="source_file"))
        b = _comparable(editions[editions.edition.eq(v)].drop(columns="source_file"))
        pd.testing.assert_frame_equal(a, b)
    assert set(early.loc[early.edition.le(2017), "source_file"]) == {lowy.WORKBOOK}


def test_sending_country_names_are_harmonised_across_editions(editions):
    names = {v: set(g.sending_country_harmonised) for v, g in editions.groupby("edition")}
    published = {v: set(g.sending_country) for v, g in editions.groupby("edition")}
    renamed = {"Korea Republic of (South Korea)": "South Korea", "Turkey": "Türkiye", "Czech Republic": "Czechia",
               "Russian Federation": "Russia", "Slovak Republic": "Slovakia", "Brunei Darussalam": "Brunei",
               "Lao People's Democratic Republic": "Laos",
               "Korea Democratic People's Republic of (North Korea)": "North Korea"}
    for old, new in renamed.items():
        assert old in published[2021] and new in published[2023] and old not in published[2023]
        assert all(old not in n for n in names.values())
        assert all(new in names[v] for v in (2021, 2023))
    for new in ("South Korea", "Türkiye", "Czechia", "Russia", "Slovakia"):
        assert all(new in names[v] for v in lowy.EDITIONS), new  # G20/OECD members: every edition
    assert names[2021] <= names[2023] and names[2023] - names[2021] == {"Timor-Leste"}
    # One harmonised name per published spelling, and one spelling per country and edition.
    spellings = editions.groupby(["edition", "sending_country_harmonised"]).sending_country.nunique()
    assert (spellings == 1).all()


def test_oddities_of_2021_and_2023(book):
    ok = book[book.sending_country.eq("Mexico") & book.post_city.eq("Oklahoma")]
    assert ok.vintage.tolist() == [2023] and ok.post_city_corrected.tolist() == ["Oklahoma City"]
    assert ok.flag.str.contains("state name").all() and ok.in_united_states.all()
    leam = book[book.post_city.eq("Leamington") & book.vintage.ge(2021)]
    assert set(leam.post_country) == {"Canada"} and leam.flag.eq("").all()  # labelled correctly since 2021
    saipan = book[book.post_city.eq("Saipan") & book.vintage.ge(2021)]
    assert len(saipan) == 2 and not saipan.in_united_states.any()
    nb = book[book.post_city.eq("New Brunswick")]
    assert nb.in_united_states.all() and nb.flag.eq("").all()
    assert book.loc[book.vintage.eq(2023), "overall_rank"].mod(1).isin([0, 0.5]).all()
    assert book.loc[book.vintage.ne(2023), "overall_rank"].mod(1).eq(0).all()


@pytest.mark.slow
def test_us_posts_of_2021_and_2023_match_metros(real_data):
    from citydip.geo import report

    names = ["lowy_gdi U.S. posts 2021", "lowy_gdi U.S. posts 2023"]
    results = {r.dataset: r for r in report.match_all(real_data, datasets=names)}
    assert {n: len(r.records) for n, r in results.items()} == dict(zip(names, (456, 461)))
    for r in results.values():
        missed = r.unmatched()
        assert missed.place.tolist() == ["Presidio"] and (missed.reason != "").all()  # a county outside CBSAs
    codes = dict(zip(results[names[1]].records.place, results[names[1]].records.cbsa_code))
    assert codes["Oklahoma City"] == "36420" and codes["New Brunswick"] == "35620"


# -- damaged workbooks ----------------------------------------------------------------------------
BOOK_HEADER = HEADER_2019 + ["Year"]


def _book_rows(year, *, rank="9"):
    """Made-up posts of one edition in the workbook layout (numbers as numbers, like the file)."""
    return [["Aldoria", 12.5, 340, 7, "", 4, float(rank), "Springfield", "United States",
             "Consulate / Consulate-General", "Consulate-General", year],
            ["Aldoria", 12.5, 340, 7, "", 4, float(rank), "Capital City", "United States", "Embassy / High Commission",
             "Embassy", year],
            ["Borduria", 3.1, 45, "", 12, "", 30, "Szohod", "Aldoria", "Consulate / Consulate-General", "Consulate",
             year]]


BOOK_GRID = [BOOK_HEADER] + [row for y in (2023, 2021, 2019, 2017, 2016) for row in _book_rows(y)]


def write_book(grid, path: Path) -> Path:
    return d.write_xlsx(grid, path, sheet="Sheet1")


@pytest.fixture
def good_book(tmp_path) -> Path:
    return write_book(BOOK_GRID, tmp_path / "good.xlsx")


def test_sample_workbook_reads(good_book):
    frame = lowy.read_workbook(good_book)
    assert frame.groupby("vintage").size().to_dict() == {2016: 3, 2017: 3, 2019: 3, 2021: 3, 2023: 3}
    assert frame.loc[frame.vintage.eq(2019), "flag"].str.contains("fragment").all()
    assert frame.loc[frame.vintage.ne(2019), "flag"].eq("").all()
    assert frame.source_row.tolist()[:3] == [14, 15, 16]  # rows of 2016, the last block of the sheet


@pytest.mark.parametrize("case", ["rename_year", "rename_city", "year_text", "year_unknown", "year_empty",
                                  "rank_text", "half_rank_2021", "two_spellings", "duplicate"])
def test_damaged_workbook_grids(tmp_path, good_book, case):
    damaged, row, column = {
        "rename_year": (d.rename_column(BOOK_GRID, 0, "Year", "Edition"), 1, "Year"),
        "rename_city": (d.rename_column(BOOK_GRID, 0, "POST CITY", "CITY"), None, "POST CITY"),
        "year_text": (d.set_cell(BOOK_GRID, 0, 4, "Year", "2021a"), 5, "Year"),
        "year_unknown": (d.set_cell(BOOK_GRID, 0, 4, "Year", 2020), 5, "Year"),
        "year_empty": (d.set_cell(BOOK_GRID, 0, 4, "Year", None), 5, "Year"),
        "rank_text": (d.set_cell(BOOK_GRID, 0, 2, "OVERALL RANK", "nine"), 3, "OVERALL RANK"),
        "half_rank_2021": (d.set_cell(d.set_cell(BOOK_GRID, 0, 4, "OVERALL RANK", 9.5), 0, 5, "OVERALL RANK", 9.5),
                           5, "OVERALL RANK"),
        "two_spellings": (d.set_cell(BOOK_GRID, 0, 5, "COUNTRY", "Aldoria Republic of"), 6, "COUNTRY"),
        "duplicate": (d.duplicate_row(BOOK_GRID, 1), 3, "COUNTRY"),
    }[case]
    if case == "two_spellings":  # two spellings of one country in the 2021 edition
        lowy.COUNTRY_NAMES["Aldoria Republic of"] = "Aldoria"
    try:
        bad = write_book(damaged, tmp_path / f"bad_{case}.xlsx")
        d.check_damage(lowy.read_workbook, good_book, bad, must_fail=True, row=row, column=column)
    finally:
        lowy.COUNTRY_NAMES.pop("Aldoria Republic of", None)


def test_half_ranks_are_ties_only_in_2023(tmp_path):
    grid = d.set_cell(d.set_cell(BOOK_GRID, 0, 1, "OVERALL RANK", 9.5), 0, 2, "OVERALL RANK", 9.5)
    frame = lowy.read_workbook(write_book(grid, tmp_path / "tie.xlsx"))
    assert frame.loc[frame.vintage.eq(2023) & frame.sending_country.eq("Aldoria"), "overall_rank"].tolist() == [9.5,
                                                                                                              9.5]
    bad = d.set_cell(BOOK_GRID, 0, 1, "OVERALL RANK", 9.25)
    with pytest.raises(SourceFileError, match="not a rank") as err:
        lowy.read_workbook(write_book(bad, tmp_path / "quarter.xlsx"))
    assert err.value.row == 2 and err.value.column == "OVERALL RANK"


def test_an_edition_missing_from_the_workbook(tmp_path, good_book):
    for year in (2016, 2017, 2021, 2023):
        grid = [BOOK_GRID[0]] + [r for r in BOOK_GRID[1:] if r[-1] != year]
        bad = write_book(grid, tmp_path / f"no_{year}.xlsx")
        with pytest.raises(SourceFileError, match=rf"edition\(s\) \[{year}\] have no rows") as err:
            lowy.read_workbook(bad)
        assert bad.name in str(err.value) and err.value.row == 1 and err.value.column == "Year"


def test_a_missing_2019_fragment_is_harmless(tmp_path, good_book):
    grid = [BOOK_GRID[0]] + [r for r in BOOK_GRID[1:] if r[-1] != 2019]
    frame = lowy.read_workbook(write_book(grid, tmp_path / "no_fragment.xlsx"))
    full = lowy.read_workbook(good_book)
    keep = [c for c in frame.columns if c != "source_row"]
    pd.testing.assert_frame_equal(frame[keep], full.loc[full.vintage.ne(2019), keep].reset_index(drop=True))


def test_truncated_or_re_encoded_workbook(tmp_path, good_book):
    for fraction in (0.3, 0.6, 0.9):
        bad = d.truncate(good_book, tmp_path / f"cut{fraction}.xlsx", fraction)
        d.check_damage(lowy.read_workbook, good_book, bad, must_fail=True)
    # A workbook re-saved as (Latin-1) text under the same name is not a workbook.
    text = tmp_path / "text.xlsx"
    d.write_csv([[str(c) for c in r] for r in BOOK_GRID], text, encoding="latin-1")
    d.check_damage(lowy.read_workbook, good_book, text, must_fail=True)
    d.check_damage(lowy.read_workbook, good_book, d.empty(tmp_path / "empty.xlsx"), must_fail=True)


def test_shuffled_workbook_columns_are_harmless(tmp_path, good_book):
    bad = write_book(d.shuffle_columns(BOOK_GRID, 0, len(BOOK_GRID) - 1), tmp_path / "shuffled.xlsx")
    d.check_damage(lowy.read_workbook, good_book, bad, must_fail=False)


def test_editions_need_the_workbook(tmp_path, real_data):
    root = tmp_path / "data"
    (root / lowy.FOLDER).mkdir(parents=True)
    for v in lowy.VINTAGES:
        (root / lowy.FOLDER / lowy.FILENAMES[v]).symlink_to(real_data / lowy.FOLDER / lowy.FILENAMES[v])
    with pytest.raises(SourceFileError, match=lowy.WORKBOOK):
        lowy.editions(root)


def test_country_names_have_one_home():
    from citydip.panel import consulates

    assert consulates.COUNTRY_NAMES is lowy.COUNTRY_NAMES
    assert consulates.harmonise_country is lowy.harmonise_country
    assert lowy.harmonise_country("Turkey") == "Türkiye" and lowy.harmonise_country(" Czech Republic ") == "Czechia"
