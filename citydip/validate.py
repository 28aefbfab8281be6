"""``citydip validate``: read every source in the data directory and say what is there."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from citydip.config import curated_dir as default_curated_dir
from citydip.errors import CitydipError, MissingSourceError
from citydip.sources.registry import SourceFile, catalogue


@dataclass
class FileCheck:
    """Outcome of reading one source file."""

    source: SourceFile
    path: Path
    status: str            #: 'ok', 'missing' or 'invalid'
    rows: int = 0
    years: str = ""
    problems: str = ""

    @property
    def invalid(self) -> bool:
        return self.status == "invalid"


def check_file(source: SourceFile, data_dir: Path, curated_dir: Path | None = None) -> FileCheck:
    curated_dir = curated_dir or default_curated_dir()
    path = source.path(data_dir, curated_dir)
    try:
        frame = source.reader(path)
    except MissingSourceError:
        hint = "optional" if source.optional else "run `citydip fetch`"
        return FileCheck(source, path, "missing", problems=f"not found ({hint})")
    except CitydipError as exc:
        return FileCheck(source, path, "invalid", problems=str(exc))
    return FileCheck(source, path, "ok", rows=len(frame), years=_years(frame, source.year_column),
                     problems="; ".join(problems(frame)))


#: Flag columns that readers add, and how validate reports rows where they are set.
_FLAG_COLUMNS = {
    "rounded": "values rounded in the source (scientific notation)",
    "flag": "rows flagged by the reader (see the 'flag' column)",
    "conflicting": "rows whose key has conflicting values",
    "corrected": "rows corrected by errata",
    "disputed": "rows disputed between sources",
    "is_alternative_date": "rows giving an alternative date for one event",
}


def problems(frame: pd.DataFrame) -> list[str]:
    """Non-fatal findings: empty numeric cells (suppressed or not reported) and flagged rows."""
    found = []
    for column in frame.columns:
        if column in _FLAG_COLUMNS:
            values = frame[column]
            n = int(values.fillna(False).astype(bool).sum()) if values.dtype != "string" else int(
                values.fillna("").ne("").sum())
            if n:
                found.append(f"{n:,} {_FLAG_COLUMNS[column]}")
        elif frame[column].dtype == "float64" and not column.startswith(("lat", "lng", "lon")):
            n = int(frame[column].isna().sum())
            if n:
                found.append(f"{n:,} empty cells in {column}")
    return found


def _years(frame: pd.DataFrame, column: str | None) -> str:
    if column is None or column not in frame or frame.empty:
        return "-"
    years = pd.to_numeric(frame[column], errors="coerce").dropna()
    if years.empty:
        return "-"
    lo, hi = int(years.min()), int(years.max())
    return str(lo) if lo == hi else f"{lo}-{hi}"


def validate(data_dir: Path, curated_dir: Path | None = None) -> list[FileCheck]:
    """Check every catalogued file; never raises for a bad file (it is reported)."""
    return [check_file(s, data_dir, curated_dir) for s in catalogue()]


def render(checks: list[FileCheck], data_dir: Path, curated_dir: Path | None = None) -> str:
    curated_dir = curated_dir or default_curated_dir()
    """One line per file: path relative to its root, rows, years, status and problems."""
    lines = []
    for c in checks:
        root = curated_dir if c.source.curated else data_dir
        try:
            shown = c.path.relative_to(root)
        except ValueError:
            shown = c.path
        prefix = "curated/" if c.source.curated else ""
        detail = c.problems or ""
        lines.append(f"{c.status.upper():8} {prefix}{shown}  rows={c.rows:,}  years={c.years or '-'}"
                     + (f"  {detail}" if detail else ""))
    ok = sum(c.status == "ok" for c in checks)
    bad = sum(c.invalid for c in checks)
    missing = sum(c.status == "missing" for c in checks)
    lines.append(f"{ok} files read, {bad} invalid, {missing} missing (data directory: {data_dir})")
    return "\n".join(lines)
