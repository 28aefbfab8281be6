"""Fitted-model results, the tidy table every estimator path returns, and linear tests.

Tests of linear restrictions (:meth:`FitResult.wald`, :meth:`FitResult.contrast`) use the
model's own variance matrix and the reference distribution of its own t tests: t(``df_t``)
for one restriction, F(q, ``df_t``) for q restrictions (``df_t`` is G - 1 under clustering,
N - K otherwise), and the normal / chi-squared when ``df_t`` is infinite (Poisson).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from citydip.errors import CitydipError
from citydip.estimation.spec import ModelSpec

TIDY_COLUMNS = ["model", "term", "estimate", "std_error", "statistic", "p_value", "conf_low", "conf_high", "nobs",
                "fixed_effects", "vcov_type", "family", "depvar", "convention", "df_t", "reference", "n_clusters",
                "n_periods", "inference_flag"]


@dataclass(frozen=True)
class WaldTest:
    """Wald test of ``R b = q``: ``wald_chi2`` = W, ``statistic`` = F = W / q, ``p_value`` from
    F(``df_num``, ``df_den``) (chi2(``df_num``) when ``df_den`` is infinite)."""

    statistic: float
    wald_chi2: float
    df_num: int
    df_den: float
    p_value: float


def wald_test(gap, variance, df_den: float) -> WaldTest:
    """Wald test that ``gap`` (R b - q, length q) is zero given its variance matrix
    (R V R'): W = gap' variance^-1 gap, referred as the inference rule says, W / q to
    F(q, ``df_den``), or W to chi2(q) when ``df_den`` is infinite (a normal reference)."""
    from scipy import stats

    gap = np.atleast_1d(np.asarray(gap, dtype=float))
    W = float(gap @ np.linalg.solve(np.atleast_2d(np.asarray(variance, dtype=float)), gap))
    k = len(gap)
    p = float(stats.chi2.sf(W, k)) if np.isinf(df_den) else float(stats.f.sf(W / k, k, df_den))
    return WaldTest(W / k, W, k, float(df_den), p)


@dataclass(frozen=True)
class Contrast:
    """A linear combination ``sum w_k b_k`` against ``value``: two-sided ``p_value`` and
    one-sided ``p_greater`` (H1: combination > value) from t(``df``) (normal if ``df`` is inf)."""

    estimate: float
    std_error: float
    statistic: float
    p_value: float
    p_greater: float
    df: float


class MaketablesModel:
    """The model plug-in format of maketables (``maketables.ETable``, ``pyfixest.etable``),
    read from :meth:`tidy`, so that a citydip model sits in one table with pyfixest,
    statsmodels or linearmodels models. The p-values are the tidy table's, hence follow the
    model's inference rule (:data:`citydip.estimation.conventions.RULES`): stars computed
    from them agree with citydip's own tests. Coefficients are in the outcome's units per
    unit of the regressor; ``ci95l``/``ci95u`` is the 95% confidence interval."""

    def tidy(self) -> pd.DataFrame:  # pragma: no cover - provided by the subclass
        raise NotImplementedError

    def inference_rule(self) -> str:
        """Key of the model's row in ``conventions.RULES``."""
        raise NotImplementedError

    @property
    def __maketables_coef_table__(self) -> pd.DataFrame:
        t = self.tidy()
        return pd.DataFrame({"b": t["estimate"].to_numpy(dtype=float), "se": t["std_error"].to_numpy(dtype=float),
                             "t": t["statistic"].to_numpy(dtype=float), "p": t["p_value"].to_numpy(dtype=float),
                             "ci95l": t["conf_low"].to_numpy(dtype=float),
                             "ci95u": t["conf_high"].to_numpy(dtype=float)},
                            index=pd.Index(t["term"].astype(str), name="Coefficient"))

    @property
    def __maketables_depvar__(self) -> str:
        return str(self.tidy()["depvar"].iloc[0])

    @property
    def __maketables_fixef_string__(self) -> str | None:
        """Fixed-effect columns joined by ``+`` (``None`` without fixed effects)."""
        value = self.tidy()["fixed_effects"].iloc[0]
        return None if pd.isna(value) or str(value) in ("", "none") else str(value)

    @property
    def __maketables_vcov_info__(self) -> dict:
        first = self.tidy().iloc[0]
        return {"vcov_type": str(first["vcov_type"]), "rule": self.inference_rule(),
                "reference": str(first["reference"]), "df": float(first["df_t"])}

    __maketables_default_stat_keys__: ClassVar[list[str]] = ["N", "se_type"]

    def __maketables_stat__(self, key: str):
        """``N`` (observations), ``se_type``, ``n_clusters``, ``n_periods``, ``df_t``; ``None`` otherwise."""
        first = self.tidy().iloc[0]
        column = {"N": "nobs", "se_type": "vcov_type", "n_clusters": "n_clusters", "n_periods": "n_periods",
                  "df_t": "df_t"}.get(key)
        if column is None or pd.isna(first[column]):
            return None
        value = first[column]
        return str(value) if column == "vcov_type" else (int(value) if column != "df_t" else float(value))


@dataclass
class FitResult(MaketablesModel):
    """Estimates of one :class:`ModelSpec`. ``vcov`` is the coefficients' variance matrix
    (with its small-sample factor), ``df_t`` the degrees of freedom of the model's t tests,
    ``data`` the estimation sample. ``backend`` is the underlying fitted object (pyfixest,
    statsmodels or linearmodels) for anything else."""

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
    df_t: float = float("inf")
    data: pd.DataFrame | None = field(default=None, repr=False)
    #: ``"t"`` (t(df_t)), ``"normal"`` or ``"bootstrap"``: see ``conventions.RULES``.
    reference: str = "t"
    n_clusters: int | None = None
    n_periods: int | None = None
    #: Few clusters or few periods behind the variance ("" if neither).
    inference_flag: str = ""

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
            "df_t": self.df_t, "reference": self.reference,
            "n_clusters": pd.array([self.n_clusters] * len(self.coef), dtype="Int64"),
            "n_periods": pd.array([self.n_periods] * len(self.coef), dtype="Int64"),
            "inference_flag": self.inference_flag,
        })
        return frame[TIDY_COLUMNS]

    def inference_rule(self) -> str:
        """Key of the model's row in ``conventions.RULES`` (``"cluster"``, ``"poisson"``, ...)."""
        from citydip.estimation import conventions

        return conventions.rule(self.spec).vcov

    # -- linear tests ---------------------------------------------------------------------------------
    def _matrix(self, R) -> np.ndarray:
        terms = list(self.coef.index)
        if isinstance(R, Mapping):
            R = [R]
        if isinstance(R, (list, tuple)) and R and isinstance(R[0], Mapping):
            rows = np.zeros((len(R), len(terms)))
            for i, weights in enumerate(R):
                for term, w in weights.items():
                    if term not in terms:
                        raise CitydipError(f"model {self.spec.name}: no coefficient {term!r} (has {terms})")
                    rows[i, terms.index(term)] = float(w)
            return rows
        matrix = np.atleast_2d(np.asarray(R, dtype=float))
        if matrix.shape[1] != len(terms):
            raise CitydipError(f"model {self.spec.name}: R has {matrix.shape[1]} columns, the model "
                               f"{len(terms)} coefficients")
        return matrix

    def _variance(self) -> np.ndarray:
        if self.vcov is None:
            raise CitydipError(f"model {self.spec.name}: no variance matrix to test with")
        terms = list(self.coef.index)
        return self.vcov.loc[terms, terms].to_numpy(dtype=float)

    def wald(self, R, q=None) -> WaldTest:
        """Wald test of ``R b = q`` (``R``: array over the coefficients, or a list of
        {term: weight} rows; ``q`` defaults to zeros) with the model's variance matrix."""
        matrix = self._matrix(R)
        target = np.zeros(matrix.shape[0]) if q is None else np.atleast_1d(np.asarray(q, dtype=float))
        gap = matrix @ self.coef.to_numpy(dtype=float) - target
        return wald_test(gap, matrix @ self._variance() @ matrix.T, self.df_t)

    def contrast(self, weights: Mapping[str, float], value: float = 0.0) -> Contrast:
        """The combination ``sum weights[term] * b[term]`` tested against ``value``."""
        from scipy import stats

        r = self._matrix(weights)[0]
        estimate = float(r @ self.coef.to_numpy(dtype=float))
        se = float(np.sqrt(r @ self._variance() @ r))
        t = (estimate - value) / se
        dist = stats.norm if np.isinf(self.df_t) else stats.t(self.df_t)
        return Contrast(estimate, se, t, float(2 * dist.sf(abs(t))), float(dist.sf(t)), float(self.df_t))
