"""Regression tables through maketables: Markdown, LaTeX (booktabs), HTML, Typst and Word.

:func:`regression_table` arranges a tidy frame (the columns of
:data:`citydip.estimation.TIDY_COLUMNS`, one row per model and term, e.g. ``estimates.csv``);
:func:`model_table` arranges fitted models: citydip's :class:`FitResult` next to pyfixest,
statsmodels or linearmodels models. Both give a :class:`RegressionTable`, rendered by
``maketables.ETable`` (see :mod:`citydip.report.maketables_adapter`): one column per model,
two lines per term (the estimate with significance stars, its standard error in parentheses
beneath), one row per fixed effect (``x`` present, ``-`` absent), then N, estimator,
standard errors and the distribution of the p-values, and a note stating the stars and, for
each citydip model, where its p-values come from under the inference rule.

Conventions:

* Models appear in the order given (else of their first row in the tidy frame); terms in
  the order given, else in order of first appearance. A term a model does not have is a
  blank cell.
* Stars use strict inequalities: with thresholds (0.10, 0.05, 0.01) an estimate gets
  ``***`` if p < 0.01, ``**`` if p < 0.05 and ``*`` if p < 0.10. So p = 0.0099 is ``***``
  and p = 0.01 is ``**``. The p-values are each model's own (for citydip models, the
  inference rule's: t(G - 1) under metro clustering, ...).
* Numbers are rounded to ``digits`` decimals (``0.012***``, ``(0.004)``); a value that
  rounds to zero is written without a minus sign; N has thousands separators.
* LaTeX is a ``threeparttable`` to ``\\input`` into a table float (packages booktabs,
  tabularx, threeparttable, makecell), with LaTeX's special characters escaped. HTML is
  great_tables' table with a fixed id (``citydip-<file stem>``), so the same table gives
  byte-identical text (Markdown, LaTeX, HTML, Typst: ``\\n`` line endings, UTF-8). Word
  files are zip archives and are not byte-stable.
"""

from __future__ import annotations

import copy
import math
import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from citydip.atomic import atomic_write, atomic_write_text
from citydip.errors import CitydipError
from citydip.report import maketables_adapter as adapter

#: Default significance thresholds (one star each, strict inequality), largest first.
STARS = (0.10, 0.05, 0.01)

_REQUIRED = ("model", "term", "estimate", "std_error", "p_value")
#: Suffix -> output format of :meth:`RegressionTable.write`.
FORMATS = {".md": "markdown", ".markdown": "markdown", ".tex": "latex", ".html": "html", ".htm": "html",
           ".typ": "typst", ".docx": "docx"}


@dataclass
class RegressionTable:
    """A regression table, ready to render. Build it with :func:`regression_table` or
    :func:`model_table`."""

    models: list                             #: models in the maketables plug-in format (or any it supports)
    heads: list[str] | None = None           #: column heads (model names)
    terms: list[str] | None = None           #: coefficient rows, in order (None: all)
    labels: dict[str, str] = field(default_factory=dict)  #: term or outcome -> row label
    stars: tuple[float, ...] = STARS         #: thresholds, largest first
    digits: int = 3
    caption: str = ""                        #: text put before the note (e.g. that the data are synthetic)

    # -- pieces --------------------------------------------------------------------------------------
    def etable(self):
        """The ``maketables.ETable`` of this table."""
        return adapter.etable(self.models, heads=self.heads, terms=self.terms, labels=self.labels,
                              stars=self.stars, digits=self.digits, note_prefix=self.caption)

    def note(self) -> str:
        """The note: caption, standard errors, stars and the source of the p-values, as plain text."""
        return self.etable().notes

    # -- formats -------------------------------------------------------------------------------------
    def to_markdown(self) -> str:
        """A pipe table (GitHub/pandoc Markdown), then the note as a paragraph."""
        return markdown(self.etable())

    def to_latex(self) -> str:
        """A booktabs ``threeparttable`` (table and note), every label and the note LaTeX-escaped."""
        table = copy.copy(self.etable())
        table.df = _escaped(table.df, latex_escape)
        table.notes = latex_escape(table.notes).replace("<", "$<$")
        return _text(table.make(type="tex"))

    def to_html(self, table_id: str = "citydip-regression-table") -> str:
        """great_tables' HTML table (with its style block), with the fixed id ``table_id``."""
        text = self.etable().make(type="gt").as_raw_html()
        # great_tables names the table (and scopes its styles) by a random id: fix it.
        found = re.match(r'<div id="([^"]+)"', text)
        if found is None:
            raise CitydipError("great_tables' HTML does not start with its table id")
        return _text(re.sub(rf"(?<=[#\"]){re.escape(found.group(1))}\b", table_id, text))

    def to_typst(self) -> str:
        """A Typst ``table`` in a ``figure``."""
        return _text(self.etable().make(type="typst"))

    def to_docx(self):
        """A python-docx ``Document`` holding the table."""
        return self.etable().make(type="docx")

    def render(self, fmt: str) -> str:
        """The table as ``'markdown'``, ``'latex'``, ``'html'`` or ``'typst'``."""
        renderers = {"markdown": self.to_markdown, "latex": self.to_latex, "html": self.to_html,
                     "typst": self.to_typst}
        if fmt not in renderers:
            raise CitydipError(f"table format {fmt!r} is not one of {sorted(renderers)}")
        return renderers[fmt]()

    def write(self, path: str | os.PathLike) -> Path:
        """Write the table in the format of the file suffix (:data:`FORMATS`), atomically."""
        path = Path(path)
        fmt = FORMATS.get(path.suffix.lower())
        if fmt is None:
            raise CitydipError(f"{path}: cannot tell the table format from the suffix {path.suffix!r}; "
                               f"use one of {', '.join(FORMATS)}")
        if fmt == "docx":
            return _atomic_docx(self.to_docx(), path)
        if fmt == "html":
            return atomic_write_text(path, self.to_html(_html_id(path.stem)))
        return atomic_write_text(path, self.render(fmt))

    def __str__(self) -> str:
        return self.to_markdown()


def regression_table(tidy: pd.DataFrame, *, models: Sequence[str] | None = None, terms: Sequence[str] | None = None,
                     labels: Mapping[str, str] | None = None, stars: Sequence[float] = STARS,
                     digits: int = 3, caption: str = "") -> RegressionTable:
    """Arrange ``tidy`` (one row per model and term) as a regression table.

    ``models`` and ``terms`` select and order the columns and rows (default: all, in order of
    first appearance). ``labels`` maps terms (and outcomes) to row labels, over the defaults
    of :mod:`citydip.report.labels`. ``stars`` are three significance thresholds (strict: one
    star for each threshold p is below), or empty for none. ``digits`` is the number of
    decimals. ``caption`` is put before the note (e.g. that the data are synthetic).
    """
    missing = [c for c in _REQUIRED if c not in tidy.columns]
    if missing:
        raise CitydipError(f"the tidy table has no columns {missing}")
    if len(tidy) == 0:
        raise CitydipError("the tidy table is empty")
    frame = tidy.assign(model=tidy["model"].astype(str), term=tidy["term"].astype(str))
    duplicated = frame.duplicated(["model", "term"])
    if duplicated.any():
        first = frame.loc[duplicated, ["model", "term"]].iloc[0]
        raise CitydipError(f"the tidy table has more than one row for model {first.model!r}, term {first.term!r}")

    present = list(pd.unique(frame["model"]))
    if models is None:
        chosen = present
    else:
        chosen = [str(m) for m in models]
        unknown = [m for m in chosen if m not in present]
        if unknown:
            raise CitydipError(f"models {unknown} are not in the tidy table (it has {present})")
        if len(set(chosen)) != len(chosen):
            raise CitydipError(f"models are listed more than once: {chosen}")
    frame = frame[frame["model"].isin(chosen)]
    available = list(pd.unique(frame["term"]))
    if terms is None:
        rows = available
    else:
        rows = [str(t) for t in terms]
        unknown = [t for t in rows if t not in available]
        if unknown:
            raise CitydipError(f"terms {unknown} are in none of the models {chosen}")
        if len(set(rows)) != len(rows):
            raise CitydipError(f"terms are listed more than once: {rows}")
    for column in ("nobs", "fixed_effects", "vcov_type", "family", "depvar", "df_t", "reference"):
        if column not in frame.columns:
            frame[column] = {"fixed_effects": "none", "family": "ols", "reference": "t"}.get(column, float("nan"))
    for column in ("statistic", "conf_low", "conf_high"):
        if column not in frame.columns:
            frame[column] = float("nan")
    return model_table(adapter.tidy_models(frame, chosen), heads=chosen, terms=rows, labels=labels, stars=stars,
                       digits=digits, caption=caption)


def model_table(models: Sequence[object], *, heads: Sequence[str] | None = None, terms: Sequence[str] | None = None,
                labels: Mapping[str, str] | None = None, stars: Sequence[float] = STARS, digits: int = 3,
                caption: str = "") -> RegressionTable:
    """A regression table of fitted models: citydip :class:`FitResult` objects and any model
    maketables supports (pyfixest, statsmodels, linearmodels). Arguments as in
    :func:`regression_table`; ``heads`` name the columns (default: numbers only)."""
    if not models:
        raise CitydipError("a regression table needs at least one model")
    if not isinstance(digits, int) or isinstance(digits, bool) or digits < 0:
        raise CitydipError(f"digits must be a non-negative integer, got {digits!r}")
    thresholds = tuple(sorted((float(t) for t in stars), reverse=True))
    if thresholds and (len(thresholds) != 3 or any(not 0 < t < 1 for t in thresholds)
                       or len(set(thresholds)) != 3):
        raise CitydipError(f"star thresholds must be three distinct numbers between 0 and 1 (or none), "
                           f"got {tuple(stars)}")
    if heads is not None and len(heads) != len(models):
        raise CitydipError(f"{len(heads)} column heads for {len(models)} models")
    return RegressionTable(models=list(models), heads=None if heads is None else [str(h) for h in heads],
                           terms=None if terms is None else [str(t) for t in terms], labels=dict(labels or {}),
                           stars=thresholds, digits=digits, caption=caption)


def markdown(table) -> str:
    """A ``maketables.ETable`` as a pipe table: a header of column heads (or numbers), the
    outcome, two lines per coefficient, the fixed-effect and bottom rows, then the note."""
    def esc(text: object) -> str:
        return str(text).replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ").strip()

    def row(cells: Sequence[str]) -> str:
        return "|" + "|".join(f" {c} " if c else " " for c in cells) + "|"

    df = table.df
    columns = df.columns
    heads = [esc(c[-2] if isinstance(c, tuple) and len(c) > 2 else c[-1] if isinstance(c, tuple) else c)
             for c in columns]
    outcomes = [esc(c[0] if isinstance(c, tuple) else "") for c in columns]
    lines = [row(["", *heads]), "|:---|" + "---:|" * len(columns), row(["Outcome", *outcomes])]
    for (group, label), values in df.iterrows():
        cells = ["" if pd.isna(v) else str(v) for v in values]
        if group == "coef":
            parts = [c.split("\n") for c in cells]
            lines.append(row([esc(label), *(esc(p[0]) for p in parts)]))
            lines.append(row(["", *(esc(p[1]) if len(p) > 1 else "" for p in parts)]))
        else:
            lines.append(row([esc(label), *(esc(c) for c in cells)]))
    return "\n".join(lines) + f"\n\n{esc(table.notes)}\n"


# -- helpers ----------------------------------------------------------------------------------------
def significance_stars(p: float, thresholds: Sequence[float] = STARS) -> int:
    """How many thresholds ``p`` is strictly below (0 for a missing p-value)."""
    if _missing(p):
        return 0
    return sum(1 for t in thresholds if p < t)


def format_number(x: float, digits: int = 3) -> str:
    """``x`` rounded to ``digits`` decimals; blank if missing; never ``-0.000``."""
    if _missing(x):
        return ""
    text = f"{x:.{digits}f}"
    if text.startswith("-") and float(text) == 0:
        text = text[1:]
    return text


_LATEX_SPECIAL = {"\\": r"\textbackslash{}", "&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#", "_": r"\_",
                  "{": r"\{", "}": r"\}", "~": r"\textasciitilde{}", "^": r"\textasciicircum{}"}
_LATEX_PATTERN = re.compile("|".join(re.escape(c) for c in _LATEX_SPECIAL))


def latex_escape(text: str) -> str:
    """``text`` with LaTeX's special characters escaped (``_`` -> ``\\_`` and so on)."""
    return _LATEX_PATTERN.sub(lambda m: _LATEX_SPECIAL[m.group()], str(text))


def _missing(x) -> bool:
    return x is None or (isinstance(x, float) and math.isnan(x))


def _escaped(df: pd.DataFrame, escape) -> pd.DataFrame:
    """``df`` with every cell, row label and column label passed through ``escape``."""
    out = df.map(lambda v: escape(v) if isinstance(v, str) else v)

    def labels(index: pd.Index) -> pd.Index:
        if isinstance(index, pd.MultiIndex):
            return pd.MultiIndex.from_tuples([tuple(escape(x) if isinstance(x, str) else x for x in t) for t in index],
                                             names=index.names)
        return pd.Index([escape(x) if isinstance(x, str) else x for x in index], name=index.name)

    out.index = labels(out.index)
    out.columns = labels(out.columns)
    return out


def _text(text: str) -> str:
    """``text`` with ``\\n`` line endings and one final newline."""
    return text.replace("\r\n", "\n").rstrip("\n") + "\n"


def _html_id(stem: str) -> str:
    return "citydip-" + (re.sub(r"[^A-Za-z0-9_-]+", "-", stem).strip("-") or "table")


def _atomic_docx(document, path: Path) -> Path:
    """Save a python-docx ``Document`` to ``path`` atomically."""
    return atomic_write(path, document.save, binary=True)
