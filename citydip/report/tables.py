"""Regression tables from the tidy estimates: Markdown, LaTeX (booktabs) and HTML.

:func:`regression_table` arranges a tidy frame (the columns of
:data:`citydip.estimation.TIDY_COLUMNS`, one row per model and term) with one column per
model and two lines per term: the estimate with significance stars, and its standard error
in parentheses beneath. Below the coefficients come the model statistics (outcome,
estimator, N, fixed effects, standard-error type) and a note on the stars.

Conventions:

* Models appear in the order of their first row in the tidy frame (or as given); terms in
  the order given, else in order of first appearance. A term a model does not have is a
  blank cell.
* Stars use strict inequalities: with thresholds (0.10, 0.05, 0.01) an estimate gets
  ``***`` if p < 0.01, ``**`` if p < 0.05 and ``*`` if p < 0.10. So p = 0.0099 is ``***``
  and p = 0.01 is ``**``. A missing p-value gets no stars.
* Numbers are rounded to ``digits`` decimals (``0.012***``, ``(0.004)``); a value that
  rounds to zero is written without a minus sign; N has thousands separators.
* The text is a pure function of the input: the same frame gives byte-identical output
  (``\\n`` line endings, UTF-8, trailing newline).
"""

from __future__ import annotations

import html
import math
import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from citydip.atomic import atomic_write_text
from citydip.errors import CitydipError
from citydip.report.labels import fixed_effects_label, term_label, vcov_label

#: Default significance thresholds (one star each, strict inequality).
STARS = (0.10, 0.05, 0.01)

#: Model statistics below the coefficients: tidy column -> row label.
STATISTICS = {"depvar": "Outcome", "family": "Estimator", "nobs": "N", "fixed_effects": "Fixed effects",
              "vcov_type": "Std. errors", "reference": "p-values from", "inference_flag": "Caution"}

#: Estimator labels of the model families.
FAMILY_LABELS = {"ols": "OLS", "poisson": "PPML", "between": "Between (metro means)"}

_REQUIRED = ("model", "term", "estimate", "std_error", "p_value")
#: Suffix -> output format of :meth:`RegressionTable.write`.
FORMATS = {".md": "markdown", ".markdown": "markdown", ".tex": "latex", ".html": "html", ".htm": "html"}


@dataclass(frozen=True)
class Cell:
    """One model's estimate of one term."""

    estimate: float
    std_error: float
    p_value: float


@dataclass
class RegressionTable:
    """A regression table, ready to render. Build it with :func:`regression_table`."""

    models: list[str]
    terms: list[str]
    labels: list[str]                        #: row label of each term
    cells: dict[tuple[str, str], Cell]       #: (term, model) -> estimate
    statistics: list[tuple[str, list[str]]]  #: (row label, one value per model)
    vcov_types: list[str]                    #: distinct standard-error types, in model order
    stars: tuple[float, ...]                 #: thresholds, largest first
    digits: int
    caption: str = ""                        #: text put before the note (e.g. that the data are synthetic)

    # -- pieces --------------------------------------------------------------------------------------
    def star_count(self, p: float) -> int:
        """Number of stars for p-value ``p``: thresholds t with p < t (none if p is missing)."""
        return significance_stars(p, self.stars)

    def number(self, x: float) -> str:
        return format_number(x, self.digits)

    def coefficient_rows(self) -> list[tuple[str, list[tuple[str, int]], list[str]]]:
        """Per term: label, (estimate text, stars) per model, standard-error text per model."""
        rows = []
        for term, label in zip(self.terms, self.labels):
            estimates, errors = [], []
            for model in self.models:
                cell = self.cells.get((term, model))
                if cell is None or _missing(cell.estimate):
                    estimates.append(("", 0))
                    errors.append("")
                    continue
                estimates.append((self.number(cell.estimate), self.star_count(cell.p_value)))
                errors.append("" if _missing(cell.std_error) else f"({self.number(cell.std_error)})")
            rows.append((label, estimates, errors))
        return rows

    def note(self) -> str:
        """The note line: standard errors and star thresholds, as plain text."""
        return f"{self._se_note()} {self._star_note(lambda k: '*' * k)}".strip()

    def _se_note(self) -> str:
        prefix = f"{self.caption} " if self.caption else ""
        return prefix + self._se_text()

    def _se_text(self) -> str:
        if len(self.vcov_types) == 1:
            return f"Standard errors in parentheses: {self.vcov_types[0]}."
        if self.vcov_types:
            return f"Standard errors in parentheses; type in the {STATISTICS['vcov_type']} row."
        return "Standard errors in parentheses."

    def _star_note(self, mark, inequality: str = "{mark} p < {t}") -> str:
        if not self.stars:
            return ""
        parts = [inequality.format(mark=mark(k), t=_threshold(t)) for k, t in enumerate(self.stars, start=1)]
        return ", ".join(parts) + "."

    # -- formats -------------------------------------------------------------------------------------
    def to_markdown(self) -> str:
        """A pipe table (GitHub/pandoc Markdown), then the note as a paragraph."""
        def esc(text: str) -> str:
            return text.replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ")

        def row(cells: Sequence[str]) -> str:
            return "|" + "|".join(f" {c} " if c else " " for c in cells) + "|"

        lines = [row(["", *(esc(m) for m in self.models)]), "|:---|" + "---:|" * len(self.models)]
        for label, estimates, errors in self.coefficient_rows():
            lines.append(row([esc(label), *(e + "*" * k for e, k in estimates)]))
            lines.append(row(["", *errors]))
        for label, values in self.statistics:
            lines.append(row([esc(label), *(esc(v) for v in values)]))
        text = "\n".join(lines)
        return f"{text}\n\n{esc(self.note())}\n"

    def to_latex(self) -> str:
        """A booktabs ``tabular`` (one ``c`` column per model) to ``\\input`` into a table float."""
        def num(text: str) -> str:
            return f"$-${text[1:]}" if text.startswith("-") else text

        def row(cells: Sequence[str]) -> str:
            first = cells[0]
            if first.startswith("["):  # a '[' right after \\ would be read as its optional argument
                first = "{}" + first
            return " & ".join([first, *cells[1:]]) + r" \\"

        k = len(self.models)
        lines = [r"\begin{tabular}{l" + "c" * k + "}", r"\toprule",
                 row(["", *(latex_escape(m) for m in self.models)]), r"\midrule"]
        for label, estimates, errors in self.coefficient_rows():
            lines.append(row([latex_escape(label),
                              *(num(e) + (f"$^{{{'*' * s}}}$" if s else "") for e, s in estimates)]))
            lines.append(row(["", *errors]))
        if self.statistics:
            lines.append(r"\midrule")
            for label, values in self.statistics:
                lines.append(row([latex_escape(label), *(latex_escape(v) for v in values)]))
        lines.append(r"\bottomrule")
        star_note = self._star_note(lambda s: "*" * s, "$^{{{mark}}}$ $p<{t}$")
        note = f"{latex_escape(self._se_note())} {star_note}".strip()
        lines.append(rf"\multicolumn{{{k + 1}}}{{l}}{{\footnotesize {note}}} \\")
        lines.append(r"\end{tabular}")
        return "\n".join(lines) + "\n"

    def to_html(self) -> str:
        """A plain ``<table>``: header in ``<thead>``, coefficients and statistics in two
        ``<tbody>`` sections, the note in ``<tfoot>``. No styles or scripts."""
        esc = html.escape
        out = ['<table class="citydip-regression-table">', "<thead>",
               '<tr><th></th>' + "".join(f'<th scope="col">{esc(m)}</th>' for m in self.models) + "</tr>",
               "</thead>", '<tbody class="coefficients">']
        for label, estimates, errors in self.coefficient_rows():
            out.append(f'<tr><th scope="row">{esc(label)}</th>'
                       + "".join(f"<td>{esc(e + '*' * s)}</td>" for e, s in estimates) + "</tr>")
            out.append('<tr class="std-error"><th scope="row"></th>'
                       + "".join(f"<td>{esc(e)}</td>" for e in errors) + "</tr>")
        out.append("</tbody>")
        if self.statistics:
            out.append('<tbody class="statistics">')
            for label, values in self.statistics:
                out.append(f'<tr><th scope="row">{esc(label)}</th>'
                           + "".join(f"<td>{esc(v)}</td>" for v in values) + "</tr>")
            out.append("</tbody>")
        out += ["<tfoot>", f'<tr><td colspan="{len(self.models) + 1}">{esc(self.note())}</td></tr>', "</tfoot>",
                "</table>"]
        return "\n".join(out) + "\n"

    def render(self, fmt: str) -> str:
        """The table as ``'markdown'``, ``'latex'`` or ``'html'``."""
        renderers = {"markdown": self.to_markdown, "latex": self.to_latex, "html": self.to_html}
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
        return atomic_write_text(path, self.render(fmt))

    def __str__(self) -> str:
        return self.to_markdown()


def regression_table(tidy: pd.DataFrame, *, models: Sequence[str] | None = None, terms: Sequence[str] | None = None,
                     labels: Mapping[str, str] | None = None, stars: Sequence[float] = STARS,
                     digits: int = 3, caption: str = "") -> RegressionTable:
    """Arrange ``tidy`` (one row per model and term) as a regression table.

    ``models`` and ``terms`` select and order the columns and rows (default: all, in order of
    first appearance). ``labels`` maps terms (and outcomes) to row labels, over the defaults
    of :mod:`citydip.report.labels`. ``stars`` are the significance thresholds (strict: one
    star for each threshold p is below). ``digits`` is the number of decimals. ``caption``
    is put before the note (e.g. that the data are synthetic).
    """
    missing = [c for c in _REQUIRED if c not in tidy.columns]
    if missing:
        raise CitydipError(f"the tidy table has no columns {missing}")
    if len(tidy) == 0:
        raise CitydipError("the tidy table is empty")
    if not isinstance(digits, int) or isinstance(digits, bool) or digits < 0:
        raise CitydipError(f"digits must be a non-negative integer, got {digits!r}")
    thresholds = tuple(sorted((float(t) for t in stars), reverse=True))
    if any(not 0 < t < 1 for t in thresholds) or len(set(thresholds)) != len(thresholds):
        raise CitydipError(f"star thresholds must be distinct numbers between 0 and 1, got {tuple(stars)}")
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

    cells = {(r.term, r.model): Cell(_float(r.estimate), _float(r.std_error), _float(r.p_value))
             for r in frame.itertuples(index=False) if r.term in rows}
    statistics, vcov_types = [], []
    first_rows = frame.groupby("model", sort=False).head(1).set_index("model")
    for column, label in STATISTICS.items():
        if column not in frame.columns:
            continue
        values = [_statistic(column, first_rows.at[m, column], labels, first_rows.loc[m]) for m in chosen]
        if column == "inference_flag" and not any(values):
            continue
        statistics.append((label, values))
        if column == "vcov_type":
            vcov_types = [v for v in dict.fromkeys(values) if v]
    return RegressionTable(models=chosen, terms=rows, labels=[term_label(t, labels) for t in rows], cells=cells,
                           statistics=statistics, vcov_types=vcov_types, stars=thresholds, digits=digits,
                           caption=caption)


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


def _threshold(t: float) -> str:
    return f"{t:.2f}" if round(t, 2) == t else f"{t:g}"


def _missing(x) -> bool:
    return x is None or (isinstance(x, float) and math.isnan(x))


def _float(x) -> float:
    try:
        return float("nan") if pd.isna(x) else float(x)
    except (TypeError, ValueError):
        return float("nan")


def _statistic(column: str, value, labels: Mapping[str, str] | None, row=None) -> str:
    if column == "reference":
        return reference_label(value, row.get("df_t") if row is not None else None)
    if column == "nobs":
        number = _float(value)
        return "" if _missing(number) else f"{round(number):,}"
    if column == "fixed_effects":
        return fixed_effects_label(value)
    if value is None or pd.isna(value):
        return ""
    if column == "vcov_type":
        return vcov_label(value)
    if column == "family":
        return FAMILY_LABELS.get(str(value), str(value))
    if column == "depvar":
        return term_label(str(value), labels)
    return str(value)


def reference_label(reference, df) -> str:
    """The reference distribution of a model's p-values, as the inference rule states it:
    ``t(99)``, ``normal``, ``wild bootstrap``."""
    if reference is None or (isinstance(reference, float) and math.isnan(reference)):
        return ""
    if reference == "t":
        number = _float(df)
        return "t" if _missing(number) else f"t({round(number):,})"
    return {"bootstrap": "wild bootstrap", "normal": "normal"}.get(str(reference), str(reference))
