"""The one place that reads pyfixest's private attributes.

pyfixest (0.60) has no public accessor for a fitted model's degrees of freedom of its t
tests, its number of observations, its variance matrix or its estimation sample. Everything
else in citydip (library and notebooks) goes through these functions, so that a change in
pyfixest's internals is mended here and only here; ``tests/estimation/test_pyfixest_adapter.py``
checks each against an independent computation.
"""

from __future__ import annotations

import numpy as np
import pandas as pd


def df_t(model) -> float:
    """Degrees of freedom of the model's t tests (G - 1 with clustered errors, N - K otherwise)."""
    return float(model._df_t)


def nobs(model) -> int:
    """Observations in the estimation sample (after listwise deletion and singleton removal)."""
    return int(model._N)


def vcov(model, terms=None) -> pd.DataFrame:
    """The variance matrix of the coefficients as fitted (with its small-sample factor),
    labelled by term."""
    names = list(terms) if terms is not None else list(model.coef().index)
    return pd.DataFrame(np.asarray(model._vcov, dtype=float), index=names, columns=names)


def estimation_data(model) -> pd.DataFrame:
    """The data the model was fitted on (for ``did2s``: the second-stage sample)."""
    return model._data
