"""Fit a :class:`ModelSpec` on a panel with pyfixest or statsmodels.

No solver is written here: OLS and PPML with fixed effects are pyfixest's ``feols`` and
``fepois`` (Driscoll-Kraay standard errors included: pyfixest's ``DK``); the between regression
is statsmodels OLS; the wild cluster bootstrap is pyfixest's (``wildboottest``). Inference
follows one rule, :data:`citydip.estimation.conventions.RULES`. This module prepares the data (lags, size interactions, listwise
deletion as pyfixest does it), checks for degenerate inputs, and labels the results.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

from citydip.errors import CitydipError
from citydip.estimation import _pyfixest, conventions
from citydip.estimation.results import FitResult
from citydip.estimation.spec import ModelSpec

#: Size classes in the order their coefficients are reported.
SIZE_CLASSES = ("small", "mid", "large")
#: Repetitions and seed of the wild cluster bootstrap (fixed for reproducibility).
WILD_REPS = 9999
WILD_SEED = 20250101


class EstimationWarning(UserWarning):
    """A degenerate input that citydip handled (dropped regressor, singletons, separation)."""


def fit(panel: pd.DataFrame, spec: ModelSpec) -> FitResult:
    """Estimate ``spec`` on ``panel`` (one row per metro-year). Inference follows
    :data:`citydip.estimation.conventions.RULES`."""
    data, regressors, notes = prepare(panel, spec)
    if spec.family == "between":
        result = _between(data, spec, regressors, notes)
    else:
        result = _fit_pyfixest(data, spec, regressors, notes)
    return _label_inference(result)


def _label_inference(result: FitResult) -> FitResult:
    """Reference distribution, cluster and period counts, and the few-clusters flag."""
    spec, data = result.spec, result.data
    result.reference = conventions.reference(spec)
    if data is not None:
        cluster = spec.unit if spec.vcov == "twoway" else spec.cluster
        if spec.vcov in ("cluster", "wild", "twoway") and cluster in data.columns:
            result.n_clusters = int(data[cluster].nunique())
        if spec.time in data.columns:
            result.n_periods = int(data[spec.time].nunique())
    result.inference_flag = conventions.inference_flag(spec, result.n_clusters, result.n_periods)
    if result.inference_flag:
        result.notes.append(f"inference rests on {result.inference_flag}")
    return result


# -- data preparation --------------------------------------------------------------------------------
def prepare(panel: pd.DataFrame, spec: ModelSpec) -> tuple[pd.DataFrame, list[str], list[str]]:
    """The estimation sample: derived regressors, listwise deletion, degenerate-input checks."""
    notes: list[str] = []
    need = {spec.depvar, *spec.regressors, *spec.fixed_effects, spec.unit, spec.time}
    if spec.vcov in ("cluster", "wild"):
        need.add(spec.cluster)
    if spec.weights:
        need.add(spec.weights)
    if spec.by_size:
        need.add("size_class")
    missing = sorted(need - set(panel.columns))
    if missing:
        raise CitydipError(f"model {spec.name}: the panel has no columns {missing}")
    data = panel[sorted(need)].copy()
    for column in data.columns:
        if data[column].dtype == bool:
            data[column] = data[column].astype("float64")
    regressors = list(spec.regressors)
    if spec.lags:
        data = data.sort_values([spec.unit, spec.time], kind="stable")
        for x in spec.lagged:
            lagged = data.groupby(spec.unit)[x].shift(spec.lags)
            gap = data[spec.time] - data.groupby(spec.unit)[spec.time].shift(spec.lags)
            data[f"{x}_lag{spec.lags}"] = lagged.where(gap == spec.lags)
            regressors[regressors.index(x)] = f"{x}_lag{spec.lags}"
    if spec.by_size:
        for x in spec.by_size:
            position = regressors.index(x)
            parts = []
            for cls in SIZE_CLASSES:
                name = f"{x}_x_{cls}"
                data[name] = data[x] * (data["size_class"] == cls).to_numpy(dtype=float)
                parts.append(name)
            regressors[position:position + 1] = parts
    used = [spec.depvar, *regressors, *([spec.weights] if spec.weights else [])]
    if data[spec.depvar].notna().sum() == 0:
        raise CitydipError(f"model {spec.name}: the outcome {spec.depvar} has no non-missing values")
    before = len(data)
    data = data.dropna(subset=used).reset_index(drop=True)
    if len(data) < before:
        notes.append(f"{before - len(data)} metro-years dropped for missing values in {used}")
    if spec.family == "poisson":
        negative = data[spec.depvar] < 0
        if negative.any():
            raise CitydipError(f"model {spec.name}: Poisson needs a non-negative outcome; {int(negative.sum())} "
                               f"values of {spec.depvar} are negative")
    data["unit_id"] = pd.factorize(data[spec.unit], sort=True)[0] + 1
    clusters = data["unit_id"].nunique() if spec.cluster == spec.unit else data[spec.cluster].nunique()
    if spec.vcov in ("cluster", "wild", "twoway") and clusters < 2:
        raise CitydipError(f"model {spec.name}: clustered inference needs at least 2 clusters, found {clusters}")
    if spec.unit in spec.fixed_effects:
        data, regressors = _drop_degenerate(data, spec, regressors, notes)
    if not regressors:
        raise CitydipError(f"model {spec.name}: no regressor has variation left to estimate")
    return data, regressors, notes


def _drop_degenerate(data: pd.DataFrame, spec: ModelSpec, regressors: list[str], notes: list[str]):
    sizes = data.groupby("unit_id")[spec.depvar].transform("size")
    singletons = sizes == 1
    if singletons.any() and not conventions.keeps_singletons(spec):
        msg = f"model {spec.name}: {int(singletons.sum())} singleton metro(s) dropped (one observation)"
        warnings.warn(msg, EstimationWarning, stacklevel=3)
        notes.append(msg)
        data = data[~singletons].reset_index(drop=True)
    if spec.family == "poisson":
        zero = data.groupby("unit_id")[spec.depvar].transform("sum") == 0
        if zero.any():
            msg = (f"model {spec.name}: {data.loc[zero, 'unit_id'].nunique()} metro(s) with a zero outcome in "
                   "every year dropped (perfectly separated by their fixed effect)")
            warnings.warn(msg, EstimationWarning, stacklevel=3)
            notes.append(msg)
            data = data[~zero].reset_index(drop=True)
    groups = data.groupby("unit_id")[regressors]
    spread = (groups.max() - groups.min()).max()
    keep = []
    for x in regressors:
        if spread[x] == 0:
            msg = f"model {spec.name}: {x} has no variation within metros and is dropped (absorbed by metro effects)"
            warnings.warn(msg, EstimationWarning, stacklevel=3)
            notes.append(msg)
        else:
            keep.append(x)
    return data, keep


# -- backends ----------------------------------------------------------------------------------------
def _fe_names(spec: ModelSpec) -> list[str]:
    """Fixed-effect columns, the unit replaced by its integer id (string ids break pyfixest's bootstrap)."""
    return ["unit_id" if f == spec.unit else f for f in spec.fixed_effects]


def _fit_pyfixest(data: pd.DataFrame, spec: ModelSpec, regressors: list[str], notes: list[str]) -> FitResult:
    import pyfixest as pf

    fe = _fe_names(spec)
    formula = f"{spec.depvar} ~ {' + '.join(regressors)}" + (f" | {' + '.join(fe)}" if fe else "")
    cluster = "unit_id" if spec.cluster == spec.unit else spec.cluster
    vcov = {"iid": "iid", "hetero": "hetero", "cluster": {"CRV1": cluster}, "wild": {"CRV1": cluster},
            "twoway": {"CRV1": f"unit_id+{spec.time}"}, "driscoll_kraay": "DK"}[spec.vcov]
    vcov = conventions.pyfixest_vcov(spec, vcov, "unit_id")
    ssc = conventions.pyfixest_ssc(spec)
    extra = {"weights": spec.weights} if spec.weights else {}
    if spec.vcov == "driscoll_kraay":
        bandwidth = spec.bandwidth if spec.bandwidth is not None else dk_bandwidth(data[spec.time].nunique())
        extra["vcov_kwargs"] = {"lag": bandwidth, "time_id": spec.time, "panel_id": "unit_id"}
        notes.append(f"Driscoll-Kraay (Bartlett kernel, bandwidth {bandwidth} years)")
    estimator = pf.fepois if spec.family == "poisson" else pf.feols
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model = estimator(formula, data=data, vcov=vcov, ssc=ssc, fixef_rm=conventions.pyfixest_fixef_rm(spec),
                          **extra)
    for w in caught:
        if issubclass(w.category, (UserWarning, RuntimeWarning)) and "pyfixest" in str(w.filename):
            notes.append(f"pyfixest: {w.message}")
    tidy = model.tidy()
    coef, se, stat = tidy["Estimate"], tidy["Std. Error"], tidy.iloc[:, 2]
    p, low, high = tidy.iloc[:, 3], tidy["2.5%"], tidy["97.5%"]
    df_t = _pyfixest.df_t(model)
    p = conventions.p_values(spec, stat, df_t, p)
    if spec.family == "poisson" and spec.convention != "stata":
        df_t = float("inf")  # pyfixest's PPML p-values and intervals are from the normal
    if spec.vcov == "wild":
        draws = spec.draws or WILD_REPS
        seed = WILD_SEED if spec.seed is None else spec.seed
        p = pd.Series({term: _wild_p(model, term, draws, seed, notes) for term in coef.index})
        low = high = pd.Series(np.nan, index=coef.index)
        notes.append(f"wild cluster bootstrap p-values ({draws} Rademacher draws, seed {seed}, null "
                     "imposed); standard errors are the cluster-robust ones; intervals not computed")
    return FitResult(spec, coef.rename(None), se, stat, p, low, high, _pyfixest.nobs(model),
                     _pyfixest.vcov(model, coef.index), notes, model, df_t=df_t, data=_sample(model, data))


def _sample(model, data: pd.DataFrame) -> pd.DataFrame:
    """The rows of ``data`` pyfixest used (singletons and separated units removed)."""
    used = _pyfixest.estimation_data(model)
    return data.iloc[used.index.to_numpy()] if len(used) < len(data) else data


def _wild_p(model, term: str, draws: int, seed: int, notes: list[str]) -> float:
    """WCR p-value of one coefficient (wildboottest through pyfixest); its warnings (e.g. full
    enumeration of the 2^G sign vectors when that is fewer than the draws) are passed on."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        out = model.wildboottest(param=term, reps=draws, seed=seed)
    for w in caught:
        text = " ".join(str(w.message).split())
        if "wildboottest" in str(w.filename) or "enumeration" in text.lower():
            message = f"wild bootstrap, {term}: {text}"
            if message not in notes:
                notes.append(message)
                warnings.warn(message, EstimationWarning, stacklevel=4)
    return float(out["Pr(>|t|)"])


def _between(data: pd.DataFrame, spec: ModelSpec, regressors: list[str], notes: list[str]) -> FitResult:
    import statsmodels.api as sm

    means = data.groupby(spec.unit)[[spec.depvar, *regressors]].mean()
    cov = {"hetero": "HC1", "iid": "nonrobust"}.get(spec.vcov)
    if cov is None:
        raise CitydipError(f"model {spec.name}: the between regression supports vcov 'hetero' or 'iid'")
    model = sm.OLS(means[spec.depvar], sm.add_constant(means[regressors])).fit(cov_type=cov, use_t=True)
    ci = model.conf_int()
    notes.append(f"between regression on {len(means)} metro means over the sample years")
    return FitResult(spec, model.params, model.bse, model.tvalues, model.pvalues, ci[0], ci[1], int(model.nobs),
                     model.cov_params(), notes, model, df_t=float(model.df_resid), data=data)


def dk_bandwidth(periods: int) -> int:
    """Newey-West rule of thumb for the Driscoll-Kraay lag window: floor(4 (T/100)^(2/9))."""
    return int(np.floor(4 * (periods / 100) ** (2 / 9)))
