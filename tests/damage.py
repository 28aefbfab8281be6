"""A corpus of damaged inputs, made at test time from small sample files.

Sample files are written by each test module in the real published layout with
made-up values (never copies of published rows). A *grid* is the file's cells as a
list of rows (title rows, header row, data rows, footer rows). Grid damages return a
new grid; byte damages act on the written file. :func:`check_damage` asserts the
reader's contract: it returns exactly what the undamaged file gives, or raises a
:class:`SourceFileError` naming the file (and the row and column where given).
"""

from __future__ import annotations

import csv
import io
import random
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest

from citydip.errors import SourceFileError

Grid = list[list[object]]


# -- writers ---------------------------------------------------------------------------
def write_csv(grid: Grid, path: Path, *, encoding: str = "utf-8", bom: bool = False, sep: str = ",",
              quote_all: bool = False) -> Path:
    buf = io.StringIO(newline="")
    writer = csv.writer(buf, delimiter=sep, lineterminator="\n",
                        quoting=csv.QUOTE_ALL if quote_all else csv.QUOTE_MINIMAL)
    for row in grid:
        writer.writerow(["" if c is None else c for c in row])
    data = buf.getvalue().encode(encoding)
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + data)
    return path


def write_xlsx(grid: Grid, path: Path, *, sheet: str = "Sheet 1", extra_sheets: tuple[str, ...] = ()) -> Path:
    openpyxl = pytest.importorskip("openpyxl")
    book = openpyxl.Workbook()
    ws = book.active
    ws.title = sheet
    for row in grid:
        ws.append(list(row))
    for name in extra_sheets:
        extra = book.create_sheet(name)
        extra.append(["notes", "this sheet is not data"])
        extra.append([1, 2])
    book.save(path)
    return path


# -- grid damages ------------------------------------------------------------------------
def _col(grid: Grid, header_at: int, name: str) -> int:
    return [str(c).strip() if c is not None else "" for c in grid[header_at]].index(name)


def rename_column(grid: Grid, header_at: int, name: str, new: str) -> Grid:
    out = [list(r) for r in grid]
    out[header_at][_col(grid, header_at, name)] = new
    return out


def drop_column(grid: Grid, header_at: int, name: str) -> Grid:
    j = _col(grid, header_at, name)
    return [list(r[:j]) + list(r[j + 1:]) if i >= header_at and len(r) > j else list(r)
            for i, r in enumerate(grid)]


def shuffle_columns(grid: Grid, header_at: int, n_rows: int, seed: int = 1) -> Grid:
    """Permute the columns of the header and the ``n_rows`` data rows below it."""
    width = len(grid[header_at])
    order = list(range(width))
    rng = random.Random(seed)
    while order == list(range(width)):
        rng.shuffle(order)
    out = [list(r) for r in grid]
    for i in range(header_at, header_at + 1 + n_rows):
        out[i] = [grid[i][j] for j in order]
    return out


def duplicate_row(grid: Grid, index: int) -> Grid:
    out = [list(r) for r in grid]
    out.insert(index + 1, list(grid[index]))
    return out


def set_cell(grid: Grid, header_at: int, index: int, name: str, value: object) -> Grid:
    out = [list(r) for r in grid]
    out[index][_col(grid, header_at, name)] = value
    return out


def add_empty_rows_to_file(path: Path) -> Path:
    """Append blank lines (harmless; a reader must ignore them)."""
    path.write_bytes(path.read_bytes() + b"\n\n")
    return path


# -- byte damages ------------------------------------------------------------------------
def truncate(path: Path, out: Path, fraction: float = 0.6) -> Path:
    """Cut the file at ``fraction`` of its bytes, mid-line (as an interrupted download)."""
    data = path.read_bytes()
    cut = int(len(data) * fraction)
    while cut < len(data) and data[cut - 1:cut] in (b"\n", b"\r", b","):
        cut += 1  # make sure the cut is inside a field
    out.write_bytes(data[:cut])
    return out


def reencode(path: Path, out: Path, encoding: str) -> Path:
    out.write_bytes(path.read_bytes().decode("utf-8-sig").encode(encoding))
    return out


def empty(out: Path) -> Path:
    out.write_bytes(b"")
    return out


# -- the contract ---------------------------------------------------------------------------
def check_damage(read: Callable[[Path], pd.DataFrame], good: Path, bad: Path, *, must_fail: bool,
                 row: int | None = None, column: str | None = None, ignore: tuple[str, ...] = ("source_row",)) -> None:
    """Assert ``read(bad)`` equals ``read(good)`` or raises a clear :class:`SourceFileError`.

    ``must_fail`` demands an error; ``row``/``column`` are then checked when given.
    """
    expected = read(good)
    try:
        got = read(bad)
    except SourceFileError as exc:
        assert bad.name in str(exc), f"error does not name the file: {exc}"
        if row is not None:
            assert exc.row == row, f"error names row {exc.row}, expected {row}: {exc}"
        if column is not None:
            assert exc.column == column, f"error names column {exc.column!r}, expected {column!r}: {exc}"
        return
    assert not must_fail, f"reader accepted a damaged file {bad.name} without error"
    keep = [c for c in expected.columns if c not in ignore]
    pd.testing.assert_frame_equal(got[keep].reset_index(drop=True), expected[keep].reset_index(drop=True))
