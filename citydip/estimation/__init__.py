"""Estimation: a catalogue of fixed-effects models fitted with pyfixest and statsmodels,
returning tidy tables (see :mod:`citydip.estimation.catalogue`)."""

from citydip.estimation.fitting import EstimationWarning, fit
from citydip.estimation.results import TIDY_COLUMNS, FitResult
from citydip.estimation.spec import ModelSpec

__all__ = ["EstimationWarning", "FitResult", "ModelSpec", "TIDY_COLUMNS", "fit"]
