"""Declared output schemas of the readers: column names, dtypes, units, meanings.

A reader ends with ``SCHEMA.conform(frame)``, which fixes column order and dtypes, so
that the documented schema and the returned frame cannot drift apart.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from citydip.errors import CitydipError


@dataclass(frozen=True)
class Column:
    """One output column. ``unit`` states money basis and scale (e.g. 'current US dollars')."""

    name: str
    dtype: str
    description: str
    unit: str = ""


@dataclass(frozen=True)
class Schema:
    """Ordered columns of a reader's tidy output."""

    name: str
    columns: tuple[Column, ...]

    @property
    def names(self) -> list[str]:
        return [c.name for c in self.columns]

    def conform(self, frame: pd.DataFrame) -> pd.DataFrame:
        """Return ``frame`` with exactly the schema's columns, in order, with its dtypes."""
        missing = [n for n in self.names if n not in frame.columns]
        if missing:
            raise CitydipError(f"reader for {self.name} did not produce columns {missing}")
        out = frame.loc[:, self.names].copy()
        for col in self.columns:
            out[col.name] = out[col.name].astype(col.dtype)
        return out.reset_index(drop=True)

    def markdown(self) -> str:
        """The schema as a Markdown table (for docs and the codebook)."""
        lines = ["| column | dtype | unit | description |", "|---|---|---|---|"]
        lines += [f"| `{c.name}` | {c.dtype} | {c.unit} | {c.description} |" for c in self.columns]
        return "\n".join(lines)


def col(name: str, dtype: str, description: str, unit: str = "") -> Column:
    """Shorthand for :class:`Column`."""
    return Column(name, dtype, description, unit)


#: Columns that every reader of a published file appends, for tracing a value to its cell.
SOURCE_ROW = col("source_row", "int64", "1-based row of the record in the source file")
