"""Normalising place names so that spellings of one place compare equal.

``normalize`` folds case, accents, punctuation and the usual abbreviations
(Saint/St., Fort/Ft., Mount/Mt.) and drops Census suffixes such as
'city (balance)' or 'metropolitan government (balance)'. The alias table
(``aliases.csv``, one row per alias, editable) covers what rules cannot: Census
names like 'Urban Honolulu', consolidated city-counties, New York's boroughs,
'Washington DC'.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache
from importlib import resources

import pandas as pd

_GOVERNMENT = re.compile(
    r"\s+(city\s+)?(\(balance\)|unified government|consolidated government|metro(politan)? government)"
    r"(\s+\(balance\))?$")
_ABBREVIATIONS = [(r"\bsaint\b", "st"), (r"\bst\b\.?", "st"), (r"\bste\b\.?", "ste"), (r"\bsainte\b", "ste"),
                  (r"\bft\b\.?", "fort"), (r"\bmt\b\.?", "mount")]


def strip_accents(text: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))


def normalize(name: object) -> str:
    """Comparison key of a place name: 'St. Paul' and 'Saint Paul' -> 'st paul'."""
    if name is None or (isinstance(name, float) and name != name):
        return ""
    return _normalize(str(name))


@lru_cache(maxsize=None)
def _normalize(name: str) -> str:
    text = strip_accents(name).lower().strip()
    text = _GOVERNMENT.sub("", text)
    text = text.replace("–", "-").replace("—", "-")
    text = re.sub(r"^(city|town|village) of\s+", "", text)
    for pattern, repl in _ABBREVIATIONS:
        text = re.sub(pattern, repl, text)
    text = re.sub(r"[.,'’`]", "", text)
    text = re.sub(r"[-/]", " ", text)
    return re.sub(r"\s+", " ", text).strip()


def variants(name: str) -> list[str]:
    """Keys under which a Census principal-city name is found: the name without and
    inside parentheses ('San Buenaventura (Ventura)' -> both)."""
    name = _GOVERNMENT.sub("", name.strip().lower())
    keys = [normalize(re.sub(r"\s*\(.*?\)", "", name))]
    keys += [normalize(m) for m in re.findall(r"\((.*?)\)", name)]
    return [k for k in dict.fromkeys(keys) if k]


@lru_cache(maxsize=1)
def aliases() -> pd.DataFrame:
    """The alias table: ``alias, state, canonical, county_fips, note`` (keys normalised)."""
    with resources.files("citydip.geo").joinpath("aliases.csv").open(encoding="utf-8") as fh:
        table = pd.read_csv(fh, dtype=str, keep_default_na=False, comment="#")
    table["key"] = table["alias"].map(normalize)
    return table
