"""The catalogue of source files: folder, file name, reader and schema of each.

This is the one place that says which files citydip reads. ``citydip validate`` walks
it; ``citydip fetch`` adds download URLs (see :mod:`citydip.fetch`). Folders are named
as in the data directory (``$CITYDIP_DATA_DIR``), curated files live in ``data/curated``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from citydip.sources.schema import Schema


@dataclass(frozen=True)
class SourceFile:
    """One published (or curated) file and how to read it."""

    key: str                      #: short unique name, e.g. 'ita_xlsx'
    folder: str                   #: folder under the data directory (or under data/curated)
    filename: str
    reader: Callable[[Path], pd.DataFrame]
    schema: Schema
    description: str
    year_column: str | None = "year"
    curated: bool = False         #: part of the project's own curated dataset
    optional: bool = False        #: not needed by the panel; absence is not a problem

    def path(self, data_dir: Path, curated_dir: Path) -> Path:
        """Where the file is. ``filename`` may be a glob (e.g. ``CAINC1_MSA_1969_*.csv``, since
        each BEA release changes the last year in the name): the last match in sort order wins;
        with no match the pattern itself is returned (and reading it reports it missing)."""
        root = Path(curated_dir if self.curated else data_dir) / self.folder
        if any(ch in self.filename for ch in "*?["):
            matches = sorted(root.glob(self.filename))
            if matches:
                return matches[-1]
        return root / self.filename


_CATALOGUE: list[SourceFile] = []


def register(*files: SourceFile) -> None:
    """Add files to the catalogue (called by each source module at import)."""
    for f in files:
        if any(g.key == f.key for g in _CATALOGUE):
            raise ValueError(f"duplicate source key {f.key}")
        _CATALOGUE.append(f)


def catalogue() -> list[SourceFile]:
    """All registered source files, in registration order."""
    from citydip import sources  # noqa: F401  (importing the package registers every module)

    return list(_CATALOGUE)


def get(key: str) -> SourceFile:
    for f in catalogue():
        if f.key == key:
            return f
    raise KeyError(f"unknown source key {key!r}; known: {[f.key for f in catalogue()]}")
