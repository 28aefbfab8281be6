"""Rules shared by the real and the synthetic panel: size classes and derived columns."""

from __future__ import annotations

import numpy as np
import pandas as pd

SIZE_LABELS = ("small", "mid", "large")


def tercile_cutoffs(population: np.ndarray) -> np.ndarray:
    """Two cut-offs (persons): small < c1 <= mid < c2 <= large, with c1 and c2 the populations
    at sorted positions ceil(n/3) and ceil(2n/3) (counting from 0)."""
    ordered = np.sort(np.asarray(population, dtype=float))
    n = len(ordered)
    return np.array([ordered[int(np.ceil(n / 3))], ordered[int(np.ceil(2 * n / 3))]], dtype=float)


def size_classes(population: np.ndarray, cutoffs: np.ndarray) -> np.ndarray:
    """'small', 'mid' or 'large' for each population, given two cut-offs."""
    return np.array(SIZE_LABELS)[np.searchsorted(cutoffs, np.asarray(population, dtype=float), side="right")]


def diplomacy_index(panel: pd.DataFrame) -> pd.Series:
    """Standardise sister_active, consular_posts and networks_dated over the panel's metro-years
    (mean 0, population s.d. 1), sum, and standardise the sum; NaN where a component is NaN;
    a constant component contributes 0."""

    def z(s: pd.Series) -> pd.Series:
        s = s.astype("float64")
        sd = s.std(ddof=0)
        return (s - s.mean()) / sd if sd > 0 else s * 0.0

    return z(z(panel["sister_active"]) + z(panel["consular_posts"]) + z(panel["networks_dated"]))


def derive(panel: pd.DataFrame) -> pd.DataFrame:
    """Add the columns computed from others: real and per-capita exports, log exports, index."""
    out = panel.copy()
    with np.errstate(divide="ignore", invalid="ignore"):
        out["exports_real_usd"] = out.exports_usd / (out.gdp_deflator / 100.0)
        out["log_exports"] = np.where(out.exports_usd > 0, np.log(out.exports_usd), np.nan)
        out["exports_per_capita_usd"] = out.exports_usd / out.population_persons
    out["diplomacy_index"] = diplomacy_index(out)
    return out
