"""Readable names for the terms, fixed effects and standard errors of the tidy tables.

:func:`term_label` turns a regressor name into a label: the panel's measures and controls
have fixed labels (:data:`TERM_LABELS`); the derived regressors of a :class:`ModelSpec`
are labelled from their base term (``sister_active_x_small`` -> "Sister-city ties
(active), small metros", ``consular_posts_lag1`` -> "Consular posts (lag 1)"). Any name
without a label is returned unchanged. A user mapping takes precedence everywhere.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping

from citydip.panel.schema import NETWORKS, REGIONS

#: Labels of the panel's regressors (the model catalogue's measures and controls first).
TERM_LABELS: dict[str, str] = {
    "sister_active": "Sister-city ties (active)",
    "consular_posts": "Consular posts",
    "networks_dated": "City networks joined",
    "log_population": "Log population",
    "log_per_capita_income": "Log per-capita income",
    "consulates_general": "Consulates general",
    "sister_new": "New sister-city ties",
    "sister_ever": "Sister-city ties (ever)",
    "sister_any": "Any sister-city tie",
    "networks_ever": "City networks (ever)",
    "diplomacy_index": "Diplomacy index (s.d.)",
    "log_real_gdp": "Log real GDP",
    "log_exports": "Log exports",
    "exports_usd": "Exports (US$)",
    "exports_real_usd": "Real exports (US$)",
    "exports_per_capita_usd": "Exports per capita (US$)",
    "const": "Constant",
    "Intercept": "Constant",
    **{f"sister_active_{r}": f"Sister-city ties (active), {r.replace('_', ' ').title()}" for r in REGIONS},
    **{f"net_{code}": f"Member of {name}" for code, name in NETWORKS.items()},
}

#: Labels of the size classes of ``by_size`` interactions, in reporting order.
SIZE_LABELS: dict[str, str] = {"small": "small metros", "mid": "mid-size metros", "large": "large metros"}

#: Labels of fixed-effect columns.
FIXED_EFFECT_LABELS: dict[str, str] = {"cbsa_code": "Metro", "year": "Year", "unit_id": "Metro"}

#: Terms that are intercepts, and the panel's controls (left out of coefficient plots by default).
INTERCEPTS = ("const", "Intercept", "(Intercept)")
CONTROLS = ("log_population", "log_per_capita_income", "log_real_gdp")

_SIZE = re.compile(r"^(?P<base>.+)_x_(?P<cls>small|mid|large)$")
_LAG = re.compile(r"^(?P<base>.+)_lag(?P<k>\d+)$")


def term_label(term: str, labels: Mapping[str, str] | None = None) -> str:
    """The readable label of ``term`` (``labels`` first, then :data:`TERM_LABELS`, then derived)."""
    if labels and term in labels:
        return labels[term]
    if term in TERM_LABELS:
        return TERM_LABELS[term]
    size = _SIZE.match(term)
    if size:
        return f"{term_label(size['base'], labels)}, {SIZE_LABELS[size['cls']]}"
    lag = _LAG.match(term)
    if lag:
        return f"{term_label(lag['base'], labels)} (lag {int(lag['k'])})"
    return term


def base_term(term: str) -> str:
    """The regressor a derived term comes from: ``sister_active_x_small`` -> ``sister_active``."""
    for pattern in (_SIZE, _LAG):
        match = pattern.match(term)
        if match:
            return base_term(match["base"])
    return term


def fixed_effects_label(value: object) -> str:
    """``'cbsa_code+year'`` -> ``'Metro, Year'``; ``'none'`` or missing -> ``'None'``."""
    text = _text(value)
    if text in ("", "none"):
        return "None"
    return ", ".join(FIXED_EFFECT_LABELS.get(part, part) for part in text.split("+"))


def vcov_label(value: object) -> str:
    """The standard-error type as written in the tidy table, with the metro code column named 'metro'."""
    text = _text(value)
    return re.sub(r"\bcbsa_code\b", "metro", text)


def _text(value: object) -> str:
    """``value`` as text; blank for None and NaN."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    return str(value)
