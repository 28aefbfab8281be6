"""ITA export readers: real facts from the files, and the damaged-input contract."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from citydip.errors import SourceFileError
from citydip.sources import ita
from tests import damage as d

HEADER = ["MSA Full Name", "Unit (Valid for crosstab only) ", "2005", "2006", "2007"]
ROWS = [["Alpha, TX", "Millions of USD", 1000, 2000, None],
        ["Beta-Gamma, OH-PA", "Millions of USD", 15, 25, 35],
        ["Z-Unknown", "Millions of USD", 7, 8, 9]]
GRID = [HEADER] + ROWS


# -- real data ---------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def workbook(real_data):
    return ita.read_workbook(real_data / "ita_metro_exports_2005_2023" / "ITA_MSA_Export_Series_2005_2023.xlsx")


@pytest.fixture(scope="module")
def crosstab(real_data):
    return ita.read_csv(real_data / "ita_metro_exports" / "ita_msa_exports_2012_2021.csv")


def value(frame, title, year):
    row = frame[(frame.msa_title == title) & (frame.year == year)]
    assert len(row) == 1
    return float(row.exports_usd.iloc[0])


def test_abilene_2005_in_dollars(workbook):
    assert value(workbook, "Abilene, TX", 2005) == 28_155_182


def test_workbook_shape_and_totals(workbook):
    assert workbook.msa_title.nunique() == 418
    assert sorted(workbook.year.unique()) == list(range(2005, 2024))
    # Column sums including the Z rows, as stated in the provenance note (billions of dollars).
    totals = workbook.groupby("year").exports_usd.sum() / 1e9
    assert totals[2005] == pytest.approx(904.4, abs=0.05)
    assert totals[2012] == pytest.approx(1546.5, abs=0.05)
    assert totals[2022] == pytest.approx(2062.9, abs=0.05)
    assert workbook.is_aggregate.sum() == 4 * 19


def test_houston_2012_agrees_to_six_significant_digits(workbook, crosstab):
    xlsx = value(workbook, "Houston-Pasadena-The Woodlands, TX", 2012)
    csv = crosstab[(crosstab.msa_title == "Houston-The Woodlands-Sugar Land, TX") & (crosstab.year == 2012)]
    assert bool(csv.rounded.iloc[0])
    assert float(csv.exports_usd.iloc[0]) == float(f"{xlsx:.6g}")
    assert xlsx != float(f"{xlsx:.6g}")  # the workbook keeps full precision


def test_csv_unrounded_cells_equal_workbook(workbook, crosstab):
    same = crosstab.merge(workbook, on=["msa_title", "year"], suffixes=("_csv", "_xlsx"))
    assert len(same) > 3000
    exact = same[~same.rounded_csv].dropna(subset=["exports_usd_csv", "exports_usd_xlsx"])
    np.testing.assert_array_equal(exact.exports_usd_csv.to_numpy(), exact.exports_usd_xlsx.to_numpy())


# -- sample and damaged files -------------------------------------------------------------------
@pytest.fixture
def good_csv(tmp_path) -> Path:
    return d.write_csv(GRID, tmp_path / "good.csv", bom=True)


@pytest.fixture
def good_xlsx(tmp_path) -> Path:
    return d.write_xlsx(GRID, tmp_path / "good.xlsx")


def test_sample_reads_as_dollars(good_csv):
    frame = ita.read_csv(good_csv)
    assert value(frame, "Alpha, TX", 2006) == 2000
    assert np.isnan(value(frame, "Alpha, TX", 2007))
    assert frame.is_aggregate.sum() == 3
    assert list(frame.columns) == ita.SCHEMA.names


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
@pytest.mark.parametrize("case", ["rename", "drop", "shuffle", "duplicate", "nonnumeric", "year", "unit", "negative"])
def test_damaged_grids(tmp_path, fmt, case):
    write = d.write_csv if fmt == "csv" else d.write_xlsx
    read = ita.read_csv if fmt == "csv" else ita.read_workbook
    good = write(GRID, tmp_path / f"good.{fmt}")
    damaged, must_fail, row, column = {
        "rename": (d.rename_column(GRID, 0, "MSA Full Name", "Metro"), True, None, "MSA Full Name"),
        "drop": (d.drop_column(GRID, 0, "Unit (Valid for crosstab only)"), True, 1, "Unit (Valid for crosstab only)"),
        "shuffle": (d.shuffle_columns(GRID, 0, len(ROWS)), False, None, None),
        "duplicate": (d.duplicate_row(GRID, 2), True, 4, "MSA Full Name"),
        "nonnumeric": (d.set_cell(GRID, 0, 2, "2006", "n/a"), True, 3, "2006"),
        "year": (d.rename_column(GRID, 0, "2007", "2099"), True, 1, "2099"),
        "unit": (d.set_cell(GRID, 0, 1, "Unit (Valid for crosstab only)", "Millions of EUR"), True, 2,
                 "Unit (Valid for crosstab only)"),
        "negative": (d.set_cell(GRID, 0, 3, "2005", -5), True, 4, "2005"),
    }[case]
    bad = write(damaged, tmp_path / f"bad_{case}.{fmt}")
    d.check_damage(read, good, bad, must_fail=must_fail, row=row, column=column)


def test_dropped_year_column_is_not_silent(tmp_path, good_csv):
    # Dropping a year leaves a readable file with one year fewer: the reader must not
    # invent the year, and the remaining values must be unchanged.
    bad = d.write_csv(d.drop_column(GRID, 0, "2006"), tmp_path / "bad.csv")
    frame = ita.read_csv(bad)
    assert sorted(frame.year.unique()) == [2005, 2007]
    assert value(frame, "Beta-Gamma, OH-PA", 2007) == 35


def test_truncated_csv(tmp_path, good_csv):
    bad = d.truncate(good_csv, tmp_path / "cut.csv")
    d.check_damage(ita.read_csv, good_csv, bad, must_fail=True)


def test_truncated_xlsx(tmp_path, good_xlsx):
    bad = d.truncate(good_xlsx, tmp_path / "cut.xlsx")
    d.check_damage(ita.read_workbook, good_xlsx, bad, must_fail=True)


def test_empty_files(tmp_path, good_csv, good_xlsx):
    d.check_damage(ita.read_csv, good_csv, d.empty(tmp_path / "empty.csv"), must_fail=True)
    d.check_damage(ita.read_workbook, good_xlsx, d.empty(tmp_path / "empty.xlsx"), must_fail=True)


def test_latin1_is_read_or_rejected(tmp_path):
    grid = d.set_cell(GRID, 0, 1, "MSA Full Name", "Cañon City, CO")
    good = d.write_csv(grid, tmp_path / "good.csv")
    bad = d.reencode(good, tmp_path / "latin1.csv", "latin-1")
    d.check_damage(ita.read_csv, good, bad, must_fail=True, row=2)


def test_extra_sheet_is_ignored(tmp_path, good_xlsx):
    bad = d.write_xlsx(GRID, tmp_path / "extra.xlsx", extra_sheets=("Notes",))
    d.check_damage(ita.read_workbook, good_xlsx, bad, must_fail=False)


def test_extra_sheet_without_data_sheet_name_fails(tmp_path, good_xlsx):
    bad = d.write_xlsx(GRID, tmp_path / "renamed.xlsx", sheet="Data", extra_sheets=("Notes",))
    with pytest.raises(SourceFileError, match="Sheet 1"):
        ita.read_workbook(bad)


def test_blank_trailing_lines_are_harmless(tmp_path, good_csv):
    bad = d.add_empty_rows_to_file(d.write_csv(GRID, tmp_path / "blank.csv"))
    d.check_damage(ita.read_csv, good_csv, bad, must_fail=False)


def test_missing_file_says_what_to_do(tmp_path):
    with pytest.raises(SourceFileError, match="citydip fetch"):
        ita.read_csv(tmp_path / "nope.csv")
