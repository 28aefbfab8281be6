"""Exceptions that name the file, row and column at fault and say what to do next."""

from __future__ import annotations

import os
from pathlib import Path


class CitydipError(Exception):
    """Base class of every error citydip raises on purpose."""


class SourceFileError(CitydipError):
    """A source file cannot be read correctly.

    ``row`` is the 1-based line (CSV) or spreadsheet row (Excel) as a user sees it in an
    editor; ``column`` is the column header as written in the file.
    """

    def __init__(
        self,
        path: str | os.PathLike,
        message: str,
        *,
        row: int | None = None,
        column: str | None = None,
        hint: str | None = None,
    ) -> None:
        self.path = Path(path)
        self.row = row
        self.column = column
        self.message = message
        self.hint = hint
        super().__init__(self._render())

    def _render(self) -> str:
        where = [str(self.path)]
        if self.row is not None:
            where.append(f"row {self.row}")
        if self.column is not None:
            where.append(f"column '{self.column}'")
        text = ", ".join(where) + ": " + self.message
        if self.hint:
            text += f" ({self.hint})"
        return text


class MissingSourceError(SourceFileError):
    """An expected source file is not in the data directory."""


class OptionError(CitydipError):
    """A user-supplied option is invalid (unknown code, impossible range, ...)."""
