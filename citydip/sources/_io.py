"""Strict, row-aware reading of delimited text and spreadsheets.

Every reader in :mod:`citydip.sources` goes through :func:`read_delimited` or
:func:`read_sheet`. Both return a :class:`RawTable`: all cells as text, with the
1-based row number each record has in the file, so that any later check can raise a
:class:`~citydip.errors.SourceFileError` naming file, row and column. Nothing here
guesses: a cell that is neither a number nor a declared missing-value marker is an
error, not a NaN.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from citydip.errors import MissingSourceError, SourceFileError

#: Plain decimal or scientific notation, optional sign; no thousands separators.
_NUMBER = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$")
_SCIENTIFIC = re.compile(r"[eE]")

#: Markers that published statistical tables use for suppressed or unavailable cells.
BEA_MISSING_MARKERS = frozenset({"(NA)", "(D)", "(L)", "(NM)", "(T)", "(S)", "(X)"})


@dataclass
class RawTable:
    """Cells of one table as stripped text, with the file row of each record.

    ``frame`` has one column per header name (header text stripped of white space and
    BOM); ``rows`` holds the 1-based file row of each record, aligned with ``frame``.
    """

    path: Path
    frame: pd.DataFrame
    rows: np.ndarray
    notes: list[str] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.frame)

    # -- errors -------------------------------------------------------------------
    def error(self, message: str, *, position: int | None = None, column: str | None = None,
              hint: str | None = None) -> SourceFileError:
        """Build an error for the record at ``position`` (0-based index into ``frame``)."""
        row = int(self.rows[position]) if position is not None else None
        return SourceFileError(self.path, message, row=row, column=column, hint=hint)

    # -- structure ----------------------------------------------------------------
    def require_columns(self, columns: Iterable[str]) -> None:
        """Fail if any expected header is missing (renamed or dropped); order is free."""
        present = list(self.frame.columns)
        for name in columns:
            if name not in present:
                raise SourceFileError(
                    self.path,
                    f"expected column is missing; columns found: {present}",
                    row=self.header_row, column=name,
                    hint="the file layout differs from the published one; re-download it with `citydip fetch` or check PROVENANCE",
                )

    def require_rows(self, minimum: int = 1) -> None:
        if len(self.frame) < minimum:
            raise SourceFileError(self.path, f"has {len(self.frame)} data rows, expected at least {minimum}",
                                  hint="the file looks empty or truncated")

    def check_unique(self, columns: Sequence[str], what: str = "record") -> None:
        """Fail on duplicated keys, naming both rows (duplicated rows double-count)."""
        key = self.frame[list(columns)]
        dup = key.duplicated(keep=False)
        if dup.any():
            positions = np.flatnonzero(dup.to_numpy())
            first = positions[0]
            same = [p for p in positions if key.iloc[p].equals(key.iloc[first])]
            rows = ", ".join(str(int(self.rows[p])) for p in same)
            value = " / ".join(str(v) for v in key.iloc[first].tolist())
            raise self.error(f"duplicated {what} '{value}' (also at rows {rows})",
                             position=same[-1], column=columns[0],
                             hint="remove the duplicated row; duplicates would be counted twice")

    # -- cells ----------------------------------------------------------------------
    def text(self, column: str, *, required: bool = False) -> pd.Series:
        """Stripped text of a column ('' for empty cells); ``required`` forbids empty cells."""
        cells = self.frame[column]
        values = cells.str.strip() if cells.map(type).eq(str).all() else cells.map(_cell_text)
        if required:
            empty = values.eq("")
            if empty.any():
                raise self.error("empty cell where a value is required", position=int(np.argmax(empty.to_numpy())),
                                 column=column)
        return values.astype("string")

    def numeric(self, column: str, *, markers: Iterable[str] = (), allow_empty: bool = True,
                integer: bool = False, minimum: float | None = None,
                maximum: float | None = None) -> pd.Series:
        """Parse a column as float64; ``markers`` and (if allowed) empty cells become NaN.

        Raises on any other non-numeric cell, on a non-integer where ``integer`` is set,
        and on values outside ``[minimum, maximum]``.
        """
        markers = frozenset(markers)
        raw = self.frame[column].tolist()
        out = self._parse_text_column(column, markers, allow_empty)
        if out is None:  # mixed cells (spreadsheets): parse one by one
            out = np.empty(len(raw), dtype="float64")
            for i, cell in enumerate(raw):
                out[i] = self._parse_number(cell, i, column, markers, allow_empty)
        values = pd.Series(out, index=self.frame.index, name=column)
        finite = np.isfinite(out)
        if integer:
            bad = finite & (np.floor(out) != out)
            if bad.any():
                i = int(np.argmax(bad))
                raise self.error(f"value {raw[i]!r} is not a whole number", position=i, column=column)
        for bound, test, word in ((minimum, np.less, "below"), (maximum, np.greater, "above")):
            if bound is None:
                continue
            bad = finite & test(out, bound, where=finite, out=np.zeros(len(out), dtype=bool))
            if bad.any():
                i = int(np.argmax(bad))
                raise self.error(f"value {raw[i]!r} is {word} the plausible limit {bound:g}", position=i,
                                 column=column)
        return values

    def scientific(self, column: str) -> pd.Series:
        """True where the cell was written in scientific notation (a sign of rounding)."""
        return self.frame[column].map(lambda c: isinstance(c, str) and bool(_SCIENTIFIC.search(c))
                                      and bool(_NUMBER.match(c.strip())))

    def year(self, column: str, *, first: int, last: int, allow_empty: bool = True) -> pd.Series:
        """Parse a year column as nullable Int64 within ``[first, last]``."""
        values = self.numeric(column, allow_empty=allow_empty, integer=True, minimum=first, maximum=last)
        return values.astype("Int64")

    def _parse_text_column(self, column: str, markers: frozenset[str], allow_empty: bool) -> np.ndarray | None:
        """Vectorised parse of an all-text column (delimited files); None if cells are not all text.
        Any cell that is not a plain number, a marker or an allowed empty cell is handed to the
        cell-by-cell parser, which raises the error naming its row."""
        cells = self.frame[column]
        if not cells.map(type).eq(str).all():
            return None
        text = cells.str.strip()
        missing = text.isin(list(markers)) | (text.eq("") & allow_empty)
        number = text.str.fullmatch(_NUMBER.pattern) & ~missing
        bad = ~(number | missing)
        if bad.any():
            i = int(np.argmax(bad.to_numpy()))
            self._parse_number(cells.iloc[i], i, column, markers, allow_empty)  # raises
        out = pd.to_numeric(text.where(number), errors="coerce").to_numpy(dtype="float64")
        return out

    def _parse_number(self, cell: object, i: int, column: str, markers: frozenset[str], allow_empty: bool) -> float:
        if cell is None or (isinstance(cell, float) and np.isnan(cell)):
            text = ""
        elif isinstance(cell, bool):
            raise self.error(f"value {cell!r} is not a number", position=i, column=column)
        elif isinstance(cell, (int, float, np.integer, np.floating)):
            return float(cell)
        else:
            text = str(cell).strip()
        if text == "":
            if allow_empty:
                return np.nan
            raise self.error("empty cell where a number is required", position=i, column=column)
        if text in markers:
            return np.nan
        if not _NUMBER.match(text):
            allowed = f" or one of the markers {sorted(markers)}" if markers else ""
            raise self.error(f"value {text!r} is not a number{allowed}", position=i, column=column)
        return float(text)

    @property
    def header_row(self) -> int | None:
        """File row of the header (the row above the first record)."""
        return int(self.rows[0]) - 1 if len(self.rows) else None



def _cell_text(cell: object) -> str:
    if cell is None or (isinstance(cell, float) and np.isnan(cell)):
        return ""
    if isinstance(cell, float) and cell.is_integer():
        return str(int(cell))
    return str(cell).strip()


def check_exists(path: Path) -> bytes:
    """The file's bytes; a clear error if it is missing or empty."""
    if not path.is_file():
        raise MissingSourceError(path, "file not found",
                                 hint="run `citydip fetch` or copy the file into the data directory")
    data = path.read_bytes()
    if not data.strip():
        raise SourceFileError(path, "file is empty", hint="re-download it; an interrupted download leaves an empty file")
    return data


def decode(path: Path, data: bytes, encoding: str) -> str:
    """Decode bytes: UTF-8 (BOM allowed) first; ``encoding`` only as the declared fallback.

    A UTF-8 file always reads correctly. A Latin-1 source (``encoding='latin-1'``) that
    is not valid UTF-8 is decoded as Latin-1. A UTF-8 source with invalid bytes, and any
    file with NUL bytes (UTF-16/32 text, which would otherwise decode as Latin-1 noise),
    is an error naming the line.
    """
    if b"\x00" in data:
        head = data[:65536]
        utf16 = head[:2] in (b"\xff\xfe", b"\xfe\xff") or head.count(b"\x00") > len(head) // 4
        raise SourceFileError(path, "contains NUL bytes" + (" (looks like UTF-16)" if utf16 else ""),
                              row=data[: data.index(b"\x00")].count(b"\n") + 1,
                              hint="save the file as UTF-8 text, or re-download it")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        if encoding.lower().replace("_", "-") not in ("utf-8", "utf8", "utf-8-sig"):
            return data.decode(encoding)
        line = data[: exc.start].count(b"\n") + 1
        raise SourceFileError(path, f"is not valid UTF-8 (byte 0x{data[exc.start]:02x})", row=line,
                              hint="the file was re-saved in another encoding; save it as UTF-8") from None


def read_delimited(path: str | Path, *, encoding: str = "utf-8", sep: str = ",",
                   footer: Callable[[list[str]], bool] | None = None,
                   final_newline: bool = True, skip_rows: int = 0, data: bytes | None = None) -> RawTable:
    """Read a delimited text file strictly into a :class:`RawTable`.

    ``footer`` recognises trailing note lines (e.g. BEA's four footer lines), which
    are removed; a row with the wrong number of fields anywhere else is an error, as
    is a file that should end with a line break but does not (a cut-off download).
    ``data`` passes the file's bytes after a documented repair by the caller; errors still
    name ``path``.
    """
    path = Path(path)
    data = check_exists(path) if data is None else data
    text = decode(path, data, encoding)
    if final_newline and not data.endswith((b"\n", b"\r")):
        raise SourceFileError(path, "does not end with a line break",
                              row=data.count(b"\n") + 1,
                              hint="the file looks truncated; re-download it")
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=sep, strict=True)
    records: list[list[str]] = []
    line_numbers: list[int] = []
    try:
        for record in reader:
            records.append(record)
            line_numbers.append(reader.line_num)
    except csv.Error as exc:
        raise SourceFileError(path, f"malformed delimited text ({exc})", row=reader.line_num + 1,
                              hint="the file looks truncated or damaged; re-download it") from None
    # Drop blank lines, the rows before the header, then trailing footer lines.
    keep = [(r, n) for r, n in zip(records, line_numbers) if any(c.strip() for c in r)][skip_rows:]
    if not keep:
        raise SourceFileError(path, "file has no header row")
    if footer is not None:
        while keep and footer(keep[-1][0]):
            keep.pop()
    (header, header_line), body = keep[0], keep[1:]
    names = [h.strip().lstrip("\ufeff").strip() for h in header]
    if sep != "," and names and names[-1] == "":
        names = names[:-1]  # a trailing separator on every line (e.g. the embassies file)
    _check_header(path, names, header_line)
    width = len(names)
    cells: list[list[str]] = []
    for record, line in body:
        if len(record) == width + 1 and record[-1] == "" and len(header) == width + 1:
            record = record[:-1]
        if len(record) != width:
            raise SourceFileError(path, f"has {len(record)} fields, expected {width} as in the header",
                                  row=line, hint="the file looks truncated or has a stray delimiter")
        cells.append(record)
    frame = pd.DataFrame(cells, columns=names, dtype=object)
    return RawTable(path=path, frame=frame, rows=np.array([n for _, n in body], dtype=np.int64))


def _check_header(path: Path, names: list[str], line: int) -> None:
    seen: set[str] = set()
    for name in names:
        if name in seen:
            raise SourceFileError(path, "column header appears twice", row=line, column=name)
        seen.add(name)


def read_sheet(path: str | Path, *, sheet: str | None, header_predicate: Callable[[list[str]], bool],
               footer: Callable[[list[str]], bool] | None = None) -> RawTable:
    """Read one worksheet of an .xls/.xlsx workbook into a :class:`RawTable`.

    A workbook with one worksheet is read whatever the sheet's name. With several, the
    sheet named ``sheet`` is read, else the only sheet that has a header row; extra sheets
    (notes, pivots) are ignored. The header is the first row for which ``header_predicate``
    holds (Census lists have title rows above it). Rows after the data for which
    ``footer`` holds, and blank rows, are dropped.
    """
    path = Path(path)
    check_exists(path)
    try:
        book = pd.read_excel(path, sheet_name=None, header=None, dtype=object, engine="calamine",
                             keep_default_na=False, na_filter=False)
    except Exception as exc:  # calamine raises several types for damaged workbooks
        raise SourceFileError(path, f"is not a readable Excel workbook ({type(exc).__name__}: {exc})",
                              hint="the file looks truncated or damaged; re-download it") from None
    texts = {name: [[_cell_text(c) for c in row] for row in grid.itertuples(index=False)]
             for name, grid in book.items()}
    headers = {name: next((i for i, r in enumerate(rows) if header_predicate(r)), None) for name, rows in texts.items()}
    if len(book) == 1:
        sheet = next(iter(book))
    elif sheet not in book:
        found = [name for name, at in headers.items() if at is not None]
        if len(found) != 1:
            wanted = f"; expected one named {sheet!r}" if sheet else ""
            raise SourceFileError(path, f"has worksheets {list(book)}, {len(found)} with a recognisable header{wanted}",
                                  hint="remove the extra sheets or rename the data sheet")
        sheet = found[0]
    grid, as_text, header_at = book[sheet], texts[sheet], headers[sheet]
    if header_at is None:
        raise SourceFileError(path, f"worksheet {sheet!r} has no recognisable header row",
                              hint="a column was renamed or the sheet is empty")
    header = as_text[header_at]
    while header and header[-1] == "":
        header = header[:-1]
    names = [h.strip() for h in header]
    _check_header(path, names, header_at + 1)
    body_idx = [i for i in range(header_at + 1, len(as_text)) if any(as_text[i])]
    if footer is not None:
        while body_idx and footer(as_text[body_idx[-1]]):
            body_idx.pop()
    width = len(names)
    for i in body_idx:
        extra = [c for c in as_text[i][width:] if c]
        if extra:
            raise SourceFileError(path, f"has cells beyond the last header column: {extra[:3]}", row=i + 1)
    frame = grid.iloc[body_idx, :width].copy()
    frame.columns = names
    frame = frame.reset_index(drop=True).astype(object)
    return RawTable(path=path, frame=frame, rows=np.array([i + 1 for i in body_idx], dtype=np.int64))


def wide_years_to_long(table: RawTable, id_columns: Sequence[str], *, first: int, last: int,
                       value_name: str, markers: Iterable[str] = ()) -> tuple[pd.DataFrame, list[int]]:
    """Reshape year columns ('2005', '2006', ...) of a wide table to long (id..., year, value).

    Year headers outside ``[first, last]`` or that are not years are errors. Returns the
    long frame (with ``source_row``) and the list of years found.
    """
    years: list[int] = []
    for name in table.frame.columns:
        if name in id_columns:
            continue
        if re.fullmatch(r"\d{4}", name):
            year = int(name)
            if not first <= year <= last:
                raise SourceFileError(table.path, f"year column {year} outside the expected range {first}-{last}",
                                      row=table.header_row, column=name)
            years.append(year)
    if not years:
        raise SourceFileError(table.path, "no year columns found", row=table.header_row)
    parts = []
    for year in sorted(years):
        part = pd.DataFrame({c: table.text(c) for c in id_columns})
        part["year"] = year
        part[value_name] = table.numeric(str(year), markers=markers)
        part["source_row"] = table.rows
        parts.append(part)
    return pd.concat(parts, ignore_index=True), sorted(years)
