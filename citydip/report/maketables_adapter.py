"""citydip models in maketables tables, with citydip's labels and inference rule.

:class:`~citydip.estimation.results.FitResult` implements maketables' model plug-in format
itself (``maketables.ETable([fit, pyfixest_model, statsmodels_result])`` works as is);
:class:`TidyModel` gives the same format to one model's rows of a tidy table
(``estimates.csv``). :func:`etable` builds the ``maketables.ETable`` of the report: row
labels from :mod:`citydip.report.labels`, one row per fixed effect, the bottom rows
(N, estimator, standard errors, reference distribution of the p-values, caution), and a note
that states the stars and, for each citydip model, the reference distribution of its
p-values as the inference rule (:data:`citydip.estimation.conventions.RULES`) gives it.
Models of other packages keep their own p-values, and the note says so.

This is the one module that touches maketables' interface beyond ``ETable``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import pandas as pd

from citydip.errors import CitydipError
from citydip.estimation.conventions import RULES
from citydip.estimation.results import MaketablesModel
from citydip.report.labels import FIXED_EFFECT_LABELS, term_label, vcov_label

#: Family -> estimator label of the bottom rows.
FAMILY_LABELS = {"ols": "OLS", "poisson": "PPML", "between": "Between (metro means)"}

#: Bottom rows, in order (label -> how a citydip model's value is written).
ROW_LABELS = ("N", "Estimator", "Std. errors", "p-values from", "Caution")

#: Words for the symbols of the rule's degrees of freedom.
_SYMBOLS = {"G": "G clusters", "N": "N observations", "K": "K coefficients", "T": "T periods"}


@dataclass
class TidyModel(MaketablesModel):
    """One model's rows of a tidy table (columns of ``citydip.estimation.TIDY_COLUMNS``)."""

    rows: pd.DataFrame

    @property
    def name(self) -> str:
        return str(self.rows["model"].iloc[0])

    def tidy(self) -> pd.DataFrame:
        return self.rows

    def inference_rule(self) -> str:
        first = self.rows.iloc[0]
        return rule_key(first["vcov_type"], first["family"])


def rule_key(vcov_type: object, family: object) -> str:
    """The ``conventions.RULES`` key of a tidy row, from its ``vcov_type`` label (as
    ``ModelSpec.vcov_label`` writes it) and ``family``."""
    label, family = str(vcov_type), str(family)
    if family == "between":
        return "between"
    if label.startswith("wild"):
        return "wild"
    if family == "poisson":
        return "poisson"
    if label.startswith("cluster("):
        return "twoway" if re.match(r"cluster\([^,()]+, [^,()]+\)$", label) else "cluster"
    key = {"HC1": "hetero", "Driscoll-Kraay": "driscoll_kraay", "iid": "iid"}.get(label)
    if key is None:
        raise CitydipError(f"no inference rule for standard errors {label!r} (family {family!r})")
    return key


def tidy_models(tidy: pd.DataFrame, models: Sequence[str]) -> list[TidyModel]:
    """One :class:`TidyModel` per name in ``models`` (in that order)."""
    return [TidyModel(tidy[tidy["model"] == m].reset_index(drop=True)) for m in models]


def is_citydip(model: object) -> bool:
    return isinstance(model, MaketablesModel)


def reference_label(reference: object, df: object) -> str:
    """The reference distribution of a model's p-values: ``t(99)``, ``normal``, ``wild bootstrap``."""
    if reference is None or pd.isna(reference):
        return ""
    if reference == "t":
        return "t" if df is None or pd.isna(df) else f"t({round(float(df)):,})"
    return {"bootstrap": "wild bootstrap", "normal": "normal"}.get(str(reference), str(reference))


def _rule_text(model: MaketablesModel) -> str:
    """What the inference rule refers the model's t statistics to, in symbols (``t(G - 1)``)."""
    info = model.__maketables_vcov_info__
    rule = RULES[info["rule"]]
    if info["reference"] == "t":
        return f"t({rule.df})" if rule.reference == "t" else reference_label("t", info["df"])
    return {"normal": "the normal", "bootstrap": "the wild cluster bootstrap (restricted, Rademacher)"}[
        info["reference"]]


def _columns(numbers: list[int]) -> str:
    return ", ".join(f"({k})" for k in numbers)


def star_note(stars: Sequence[float]) -> str:
    """``* p < 0.10, ** p < 0.05, *** p < 0.01`` for thresholds (largest first)."""
    return ", ".join(f"{'*' * k} p < {_threshold(t)}" for k, t in enumerate(stars, start=1))


def inference_note(models: Sequence[object], stars: Sequence[float]) -> str:
    """The table note: stars, then, by column, the distribution each model's p-values come from."""
    groups: dict[str, list[int]] = {}
    others: list[int] = []
    for k, model in enumerate(models, start=1):
        if is_citydip(model):
            text = _rule_text(model)
            vcov = vcov_label(model.__maketables_vcov_info__["vcov_type"])
            groups.setdefault(f"{text} for {vcov}", []).append(k)
        else:
            others.append(k)
    parts = [f"{what} {_columns(ks)}" for what, ks in groups.items()]
    if others:
        parts.append(f"as computed by the model's package {_columns(others)}")
    used = sorted({s for what in groups for s in _SYMBOLS if re.search(rf"\b{s}\b", what.split(' for ')[0])})
    legend = f" ({', '.join(_SYMBOLS[s] for s in used)})" if used else ""
    text = "Standard errors in parentheses."
    if stars:
        text += f" {star_note(stars)} (two-sided)."
    if parts:
        text += f" p-values from {'; '.join(parts)}{legend}."
    return text


def bottom_rows(models: Sequence[object], labels: Mapping[str, str] | None = None) -> dict[str, list[str]]:
    """The rows below the fixed effects: label -> one value per model (``-`` where unknown)."""
    from maketables.extractors import get_extractor

    rows: dict[str, list[str]] = {label: [] for label in ROW_LABELS}
    for model in models:
        if is_citydip(model):
            first = model.tidy().iloc[0]
            nobs = first["nobs"]
            values = ["" if pd.isna(nobs) else f"{round(float(nobs)):,}",
                      FAMILY_LABELS.get(str(first["family"]), str(first["family"])),
                      vcov_label(first["vcov_type"]), reference_label(first["reference"], first["df_t"]),
                      "" if pd.isna(first.get("inference_flag", "")) else str(first.get("inference_flag", ""))]
        else:
            extractor = get_extractor(model)
            nobs, se = extractor.stat(model, "N"), extractor.stat(model, "se_type")
            values = ["-" if nobs is None else f"{round(float(nobs)):,}", "-", "-" if not se else str(se), "-", ""]
        for label, value in zip(ROW_LABELS, values):
            rows[label].append(value)
    if not any(rows["Caution"]):
        del rows["Caution"]
    return rows


def coefficient_names(models: Sequence[object]) -> list[str]:
    """Every coefficient of ``models``, in order of first appearance."""
    from maketables.extractors import get_extractor

    names: list[str] = []
    for model in models:
        names += [str(n) for n in get_extractor(model).coef_table(model).index]
    return list(dict.fromkeys(names))


def etable(models: Sequence[object], *, heads: Sequence[str] | None = None, terms: Sequence[str] | None = None,
           labels: Mapping[str, str] | None = None, stars: Sequence[float] = (0.10, 0.05, 0.01), digits: int = 3,
           note_prefix: str = ""):
    """The ``maketables.ETable`` of ``models`` (citydip models and any other maketables supports).

    ``heads`` name the columns; ``terms`` select and order the coefficient rows (default:
    all); ``labels`` map terms and outcomes to row labels over :func:`term_label`'s;
    ``stars`` are three thresholds, largest first (strict: p < t), or empty for none;
    ``digits`` is the number of decimals; ``note_prefix`` is put before the note."""
    import maketables

    stars = tuple(float(t) for t in stars)
    if stars and (len(stars) != 3 or not all(0 < t < 1 for t in stars) or not stars[0] > stars[1] > stars[2]):
        raise CitydipError(f"stars must be three decreasing thresholds between 0 and 1 (or none), got {stars}")
    names = coefficient_names(models)
    depvars = [maketables.extractors.get_extractor(m).depvar(m) for m in models]
    row_labels = {n: term_label(n, labels) for n in [*names, *depvars]}
    fixed = {**FIXED_EFFECT_LABELS, **{k: v for k, v in (labels or {}).items() if k in FIXED_EFFECT_LABELS}}
    note = inference_note(models, stars)
    table = maketables.ETable(
        list(models), signif_code=sorted(stars) if stars else None,
        coef_fmt=f"b:.{digits}f{'*' if stars else ''} \n (se:.{digits}f)",
        model_stats=[], custom_model_stats=bottom_rows(models, labels), stats_order="c",
        keep=list(terms) if terms is not None else [], exact_match=True, order=list(terms) if terms else None,
        labels=row_labels, felabels=fixed, notes=f"{note_prefix} {note}".strip(),
        model_heads=list(heads) if heads is not None else None, head_order="dh" if heads is not None else "d")
    table.df = table.df.map(_no_negative_zero)
    return table


_NEGATIVE_ZERO = re.compile(r"(?<![\d.])-(0\.0+)(?![\d])")


def _no_negative_zero(cell: object) -> object:
    """``-0.000`` -> ``0.000`` inside a cell's text (a value that rounds to zero has no sign)."""
    return _NEGATIVE_ZERO.sub(r"\1", cell) if isinstance(cell, str) else cell


def _threshold(t: float) -> str:
    return f"{t:.2f}" if round(t, 2) == t else f"{t:g}"

