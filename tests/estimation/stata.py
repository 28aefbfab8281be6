"""Read Stata's printed estimation results (``estout`` ``b t p`` blocks, ``e()`` scalars and
``e(V)``) from the panel reference file ``stata-panel-simulated-results.txt``.

The file is a sequence of sections, each headed
``#################!<estimator>-<vce>-<weights>-<variant>!####################``
(for example ``fixed_effect-cluster-weighted-_light``; ``weights`` and ``variant`` may be
empty). A section holds, per coefficient, a line ``name<TAB>estimate`` followed by
``<TAB>t`` and ``<TAB>p``; then one ``name<TAB>value`` line per ``e()`` scalar (empty when
Stata left it missing); then, after ``********* Variance *************``, the variance matrix
as a tab-separated table with a header row of term names.

Every number is kept together with the resolution at which it was printed (half a unit in
its last printed digit), so that tests can compare at exactly Stata's printed precision.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

import numpy as np
import pandas as pd

RESULTS_FILE = "stata-panel-simulated-results.txt"
DATA_FILE = "simulated-panel.dta"

_HEADER = re.compile(r"^#+!(?P<name>[^!]*)!#+\s*$")
_VARIANCE = "********* Variance"


@dataclass(frozen=True)
class Number:
    """A printed number: its value and half a unit in its last printed digit."""

    text: str
    value: float
    resolution: float

    @property
    def significant_digits(self) -> int:
        digits = Decimal(self.text).normalize().as_tuple().digits
        return len(digits)


@dataclass(frozen=True)
class Coefficient:
    estimate: Number
    t: Number
    p: Number | None


@dataclass
class Section:
    """One Stata run: ``estimator`` (pooled, fixed_effect, between, random_effect), ``vce``
    (conventional, robust, cluster), ``weights`` ('' or 'weighted'/'wls'), ``variant``
    ('' or '_light'/'_heavy')."""

    estimator: str
    vce: str
    weights: str
    variant: str
    coefficients: dict[str, Coefficient] = field(default_factory=dict)
    scalars: dict[str, Number | None] = field(default_factory=dict)
    variance: pd.DataFrame | None = None
    variance_resolution: pd.DataFrame | None = None

    @property
    def key(self) -> tuple[str, str, str, str]:
        return (self.estimator, self.vce, self.weights, self.variant)

    @property
    def name(self) -> str:
        return "-".join(self.key)

    def scalar(self, name: str) -> float | None:
        number = self.scalars.get(name)
        return None if number is None else number.value


def number(text: str) -> Number | None:
    """A printed number, or ``None`` for Stata's missing (empty or ``.``)."""
    text = text.strip()
    if text in ("", "."):
        return None
    decimal = Decimal(text)
    if not decimal.is_finite():
        raise ValueError(f"not a finite number: {text!r}")
    return Number(text, float(text), 0.5 * 10.0 ** int(decimal.as_tuple().exponent))


def parse(path: Path) -> dict[tuple[str, str, str, str], Section]:
    """All sections of the results file, keyed by (estimator, vce, weights, variant)."""
    sections: dict[tuple[str, str, str, str], Section] = {}
    blocks: list[tuple[str, list[str]]] = []
    for line in Path(path).read_text().splitlines():
        match = _HEADER.match(line)
        if match:
            blocks.append((match["name"], []))
        elif blocks:
            blocks[-1][1].append(line)
    for name, lines in blocks:
        section = _section(name, lines)
        if section.key in sections:
            raise ValueError(f"duplicate section {name}")
        sections[section.key] = section
    return sections


def _section(name: str, lines: list[str]) -> Section:
    parts = name.split("-")
    if len(parts) != 4:
        raise ValueError(f"section name {name!r} is not estimator-vce-weights-variant")
    section = Section(*parts)
    body = [line for line in lines if line.strip() not in ("", ".")]
    if not body or body[0].strip() != "b/t/p":
        raise ValueError(f"section {name}: expected a b/t/p block")
    try:
        split = next(i for i, line in enumerate(body) if line.startswith(_VARIANCE))
    except StopIteration:
        raise ValueError(f"section {name}: no variance matrix") from None
    _estimates(section, body[1:split])
    _variance(section, body[split + 1:])
    return section


def _estimates(section: Section, lines: list[str]) -> None:
    i = 0
    while i < len(lines):
        label, _, value = lines[i].partition("\t")
        if not label:
            raise ValueError(f"section {section.name}: unexpected continuation line {lines[i]!r}")
        if i + 1 < len(lines) and lines[i + 1].startswith("\t"):
            # A coefficient: estimate, then t and p on continuation lines.
            t_line = lines[i + 1]
            p_line = lines[i + 2] if i + 2 < len(lines) and lines[i + 2].startswith("\t") else None
            estimate, t = number(value), number(t_line)
            if estimate is None or t is None:
                raise ValueError(f"section {section.name}: coefficient {label} lacks an estimate or t")
            section.coefficients[label] = Coefficient(estimate, t, number(p_line) if p_line else None)
            i += 3 if p_line else 2
        else:
            section.scalars[label] = number(value)
            i += 1


def _variance(section: Section, lines: list[str]) -> None:
    rows = [line.split("\t") for line in lines]
    rows = [row for row in rows if row[0] != "" or len([c for c in row if c]) > 1]
    # First row: "\tV\t\t..."; second: "\tterm1\tterm2..."; then one row per term.
    header = next(row for row in rows if row[0] == "" and row[1] != "V")
    terms = [c for c in header[1:] if c]
    body = [row for row in rows if row[0] != ""]
    values = np.full((len(terms), len(terms)), np.nan)
    resolution = np.full((len(terms), len(terms)), np.nan)
    index = []
    for r, row in enumerate(body):
        index.append(row[0])
        for c, text in enumerate(row[1:1 + len(terms)]):
            parsed = number(text)
            if parsed is not None:
                values[r, c], resolution[r, c] = parsed.value, parsed.resolution
    if index != terms:
        raise ValueError(f"section {section.name}: variance rows {index} do not match columns {terms}")
    section.variance = pd.DataFrame(values, index=terms, columns=terms)
    section.variance_resolution = pd.DataFrame(resolution, index=terms, columns=terms)
