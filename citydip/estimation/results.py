"""Fitted-model results and the tidy table every estimator path returns."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from citydip.estimation.spec import ModelSpec

TIDY_COLUMNS = ["model", "term", "estimate", "std_error", "statistic", "p_value", "conf_low", "conf_high", "nobs",
                "fixed_effects", "vcov_type", "family", "depvar", "convention"]


@dataclass
class FitResult:
    """Estimates of one :class:`ModelSpec`. ``backend`` is the underlying fitted object
    (pyfixest, statsmodels or linearmodels) for anything the tidy table leaves out."""

    spec: ModelSpec
    coef: pd.Series
    se: pd.Series
    statistic: pd.Series
    p_value: pd.Series
    conf_low: pd.Series
    conf_high: pd.Series
    nobs: int
    vcov: pd.DataFrame | None = None
    notes: list[str] = field(default_factory=list)
    backend: Any = None

    def tidy(self) -> pd.DataFrame:
        """One row per term: the columns of :data:`TIDY_COLUMNS`."""
        s = self.spec
        frame = pd.DataFrame({
            "model": s.name, "term": self.coef.index, "estimate": self.coef.to_numpy(),
            "std_error": self.se.reindex(self.coef.index).to_numpy(),
            "statistic": self.statistic.reindex(self.coef.index).to_numpy(),
            "p_value": self.p_value.reindex(self.coef.index).to_numpy(),
            "conf_low": self.conf_low.reindex(self.coef.index).to_numpy(),
            "conf_high": self.conf_high.reindex(self.coef.index).to_numpy(),
            "nobs": self.nobs,
            "fixed_effects": "+".join(s.fixed_effects) if s.fixed_effects else "none",
            "vcov_type": s.vcov_label, "family": s.family, "depvar": s.depvar, "convention": s.convention,
        })
        return frame[TIDY_COLUMNS]
