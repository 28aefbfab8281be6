"""The one place that reads pyfixest's private attributes and internal modules.

pyfixest (0.60) has no public accessor for a fitted model's degrees of freedom of its t
tests, its number of observations, its variance matrix or its estimation sample. Everything
else in citydip (library and notebooks) goes through these functions, so that a change in
pyfixest's internals is mended here and only here; ``tests/estimation/test_pyfixest_adapter.py``
checks each against an independent computation. The specification-curve engine also uses
pyfixest's own numerical rules (nested fixed effects, collinearity, small-sample factors) from
modules outside its public API: :func:`count_fixef_fully_nested_all`,
:func:`find_collinear_variables` and :func:`get_ssc` re-export them from here (the engine's
results equal ``pyfixest.feols`` to 1e-8 in ``tests/estimation/test_speccurve.py``).
"""

from __future__ import annotations

from contextlib import contextmanager

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


@contextmanager
def tolerant_overall_test():
    """Fit inside this block when a model has many coefficients (a saturated event study):
    pyfixest computes an overall F test of all slopes after every ``feols`` fit, whether asked
    for or not, and its pseudo-inverse can fail to converge on a near-singular covariance
    (``LinAlgError``), aborting a fit whose coefficients and standard errors are fine. Inside
    the block that unrequested test is left missing instead; tests citydip asks for (with
    ``R``) are untouched."""
    from pyfixest.estimation.models.feols_ import Feols

    original = Feols.wald_test

    def wald_test(self, R=None, q=None, distribution="F"):
        if R is not None or q is not None:
            return original(self, R=R, q=q, distribution=distribution)
        try:
            return original(self)
        except np.linalg.LinAlgError:
            return None

    Feols.wald_test = wald_test
    try:
        yield
    finally:
        Feols.wald_test = original


def count_fixef_fully_nested_all(*args, **kwargs):
    """pyfixest's count of fixed effects fully nested in the clusters (``pyfixest.core``)."""
    from pyfixest.core.nested_fixed_effects import count_fixef_fully_nested_all as count

    return count(*args, **kwargs)


def find_collinear_variables(*args, **kwargs):
    """pyfixest's collinearity rule on a Gram matrix (``pyfixest.core.collinear``)."""
    from pyfixest.core.collinear import find_collinear_variables as find

    return find(*args, **kwargs)


def get_ssc(*args, **kwargs):
    """pyfixest's small-sample factors (``pyfixest.utils.utils.get_ssc``)."""
    from pyfixest.utils.utils import get_ssc as ssc

    return ssc(*args, **kwargs)
