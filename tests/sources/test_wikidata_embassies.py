"""Wikidata embassies reader: real facts, and the damaged-input contract (in full)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from citydip.errors import SourceFileError
from citydip.sources import wikidata_embassies as we
from tests import damage as d

E = "http://www.wikidata.org/entity/"
HEADER = ["operator", "operatorQID", "jurisdictions", "jurisdictionQIDs", "country", "countryQID", "city", "cityQID",
          "address", "latitude", "longitude", "phone", "email", "website", "facebook", "twitter", "youtube", "picture",
          "pictureAuthor", "pictureLicense", "pictureLicenseURL", "type", "typeQID", "creation", "QID", ""]


def row(operator, op, country, cq, city, cityq, lat, lon, kind, tq, creation, qid):
    return [operator, E + op, country, E + cq, country, E + cq, city, E + cityq if cityq else "", "", lat, lon,
            "", "", "", "", "", "", "", "", "", "", kind, E + tq, creation, E + qid]


# Made-up missions in the published layout (header ends with ';', data lines do not).
ROWS = [
    row("Aldoria", "Q9001", "United States of America", "Q30", "Springfield", "Q9101", "39.5", "-89.6",
        "consulate general", "Q1", "1962-01-01T00:00:00Z", "Q9201"),
    row("Aldoria", "Q9001", "Borduria", "Q9002", "Szohod", "Q9102", "", "", "embassy", "Q2", "", "Q9202"),
    row("Borduria", "Q9002", "United States of America", "Q30", "", "", "38.9", "-77.0", "embassy", "Q2",
        "2018-05-01T00:00:00Z", "Q9203"),
    row("Syldavia", "Q9003", "United States of America", "Q30", "Shelbyville", "Q9103", "40.1", "-75.2",
        "honorary consulate", "Q3", "", "Q9203"),  # same item, second operator: legitimate
]
GRID = [HEADER] + ROWS


def write(grid, path: Path) -> Path:
    text = "\n".join(";".join(str(c) for c in r) for r in grid) + "\n"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def embassies(real_data):
    return we.read_embassies(real_data / we.FOLDER / we.FILENAME)


def test_real_counts(embassies):
    assert len(embassies) == 9852
    us = embassies[embassies.country.eq(we.UNITED_STATES)]
    assert len(us) == 298
    assert us.type.value_counts()[["embassy", "consulate general", "consulate", "de facto consulate"]].tolist() == [
        175, 73, 26, 11]
    assert us.inception_year.notna().sum() == 25
    assert us.city.nunique() == 34


def test_real_values(embassies):
    assert embassies.qid.str.fullmatch(r"Q\d+").all()
    assert embassies.latitude.between(-90, 90).sum() == embassies.latitude.notna().sum() == 9852 - 1132
    assert embassies.inception_year.notna().sum() == 1010
    assert list(embassies.columns) == we.SCHEMA.names


@pytest.fixture
def good(tmp_path) -> Path:
    return write(GRID, tmp_path / "good.csv")


def test_sample(good):
    frame = we.read_embassies(good)
    assert frame.qid.tolist() == ["Q9201", "Q9202", "Q9203", "Q9203"]
    assert frame.inception_year.tolist()[0] == 1962 and frame.inception_year.isna().tolist() == [False, True, False, True]
    assert np.isnan(frame.latitude.iloc[1]) and frame.longitude.iloc[0] == -89.6
    assert frame.city_qid.tolist() == ["Q9101", "Q9102", "", "Q9103"]


def test_trailing_separator_on_data_lines_is_accepted(tmp_path, good):
    bad = write([r + [""] if i else r for i, r in enumerate(GRID)], tmp_path / "trailing.csv")
    d.check_damage(we.read_embassies, good, bad, must_fail=False)


@pytest.mark.parametrize("case", ["rename", "drop", "shuffle", "duplicate", "nonnumeric", "latitude", "longitude",
                                  "half", "timestamp", "year", "uri"])
def test_damaged_grids(tmp_path, case):
    good = write(GRID, tmp_path / "good.csv")
    grid = [r[:-1] if i == 0 else r for i, r in enumerate(GRID)]  # shuffle needs equal widths
    damaged, must_fail, row_no, column = {
        "rename": (d.rename_column(GRID, 0, "latitude", "lat"), True, None, "latitude"),
        "drop": (d.drop_column(GRID, 0, "creation"), True, 1, "creation"),
        "shuffle": (d.shuffle_columns(grid, 0, len(ROWS)), False, None, None),
        "duplicate": (d.duplicate_row(GRID, 1), True, 3, "QID"),
        "nonnumeric": (d.set_cell(GRID, 0, 1, "longitude", "89.6W"), True, 2, "longitude"),
        "latitude": (d.set_cell(GRID, 0, 3, "latitude", "138.9"), True, 4, "latitude"),
        "longitude": (d.set_cell(GRID, 0, 3, "longitude", "-277.0"), True, 4, "longitude"),
        "half": (d.set_cell(GRID, 0, 4, "longitude", ""), True, 5, "longitude"),
        "timestamp": (d.set_cell(GRID, 0, 1, "creation", "1962"), True, 2, "creation"),
        "year": (d.set_cell(GRID, 0, 1, "creation", "2962-01-01T00:00:00Z"), True, 2, "creation"),
        "uri": (d.set_cell(GRID, 0, 2, "QID", "Q9202"), True, 3, "QID"),
    }[case]
    if case == "shuffle":
        damaged = [r + [""] if i == 0 else r for i, r in enumerate(damaged)]
    bad = write(damaged, tmp_path / f"bad_{case}.csv")
    d.check_damage(we.read_embassies, good, bad, must_fail=must_fail, row=row_no, column=column)


def test_truncated(tmp_path, good):
    for fraction in (0.4, 0.8):
        d.check_damage(we.read_embassies, good, d.truncate(good, tmp_path / f"cut{fraction}.csv", fraction),
                       must_fail=True)


def test_empty(tmp_path, good):
    d.check_damage(we.read_embassies, good, d.empty(tmp_path / "empty.csv"), must_fail=True)
    d.check_damage(we.read_embassies, good, write([HEADER], tmp_path / "header.csv"), must_fail=True)


def test_latin1_is_rejected(tmp_path):
    good = write(d.set_cell(GRID, 0, 1, "city", "Szohód"), tmp_path / "good.csv")
    bad = d.reencode(good, tmp_path / "latin1.csv", "latin-1")
    d.check_damage(we.read_embassies, good, bad, must_fail=True, row=2)


def test_comma_separated_file_is_rejected(tmp_path, good):
    bad = d.write_csv(GRID, tmp_path / "comma.csv")
    with pytest.raises(SourceFileError, match="comma.csv"):
        we.read_embassies(bad)
