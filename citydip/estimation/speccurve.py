"""Specification curves: the focal coefficient under every combination of analytic choices
(Simonsohn, Simmons & Nelson 2020, "Specification curve analysis", Nature Human Behaviour
4:1208-1214), fitted at once and identical to pyfixest's ``feols``.

The user declares choice sets; every combination is one specification::

    from citydip.estimation.speccurve import size_class_samples, spec_curve

    curve = spec_curve(
        panel,                                    # or {"variant": panel, ...}
        outcomes=["log_exports"],
        treatments=["sister_active", "consular_posts", "networks_dated"],
        controls={"none": [], "population": ["log_population"],
                  "population + income": ["log_population", "log_per_capita_income"]},
        fixed_effects={"metro + year": ["cbsa_code", "year"], "year": ["year"]},
        samples={"all": None, **size_class_samples()},
        vcov=["CRV1", "iid"],
    )
    curve.tidy()                     # one row per specification
    curve.summary()                  # median estimate, shares positive and significant
    plot_curve(curve, "curve.png")   # citydip.report.speccurve_plot: estimates over the choice indicators
    curve.null_test(draws=500)       # is the curve as a whole distinguishable from the null?

Choice sets:

* ``data``: a panel, or a mapping of names to panels (data-construction variants; each is
  its own data set: samples, fixed effects and clusters are taken within it).
* ``outcomes``, ``treatments``: column names. The treatment's coefficient is the focal one;
  a treatment that also appears in a control set is left out of that set.
* ``controls``, ``fixed_effects``: a mapping of labels to lists of columns, or a list whose
  elements are lists of columns (labelled by joining them) or single column names.
* ``samples``: a mapping of labels to row selections: ``None`` (every row), a boolean
  expression for :meth:`pandas.DataFrame.eval` (``"size_class == 'small'"``), a callable
  taking the panel and returning a boolean mask (:class:`Equals`, :func:`size_class_samples`),
  or a boolean array (by position).
* ``vcov``: ``"CRV1"`` (cluster-robust by ``cluster``, the metro by default), ``"hetero"``
  (HC1; alias ``"HC1"``) and ``"iid"``.

Each specification is estimated as ``pyfixest.feols`` estimates
``outcome ~ treatment + controls | fixed_effects`` on ``data[sample]`` with the defaults
``fixef_rm="singleton"``, ``ssc=pyfixest.ssc()`` and ``collin_tol=1e-9``: listwise deletion
on the specification's own variables (and fixed effects), then removal of singleton
observations, pyfixest's small-sample factors, t(G-1) inference for CRV1 and t(N-K) for
iid and HC1. Specifications pyfixest would refuse or answer with noise are reported with
NaN and a ``note`` instead (treatment collinear with the fixed effects, empty sample, no
residual degrees of freedom, treatment varying within a single cluster under CRV1). The
numerics, and the few places where they are more exact than ``feols``'s defaults, are in
:mod:`citydip.estimation.speccurve_engine`.

Units: ``coefficient``, ``std_error`` and the interval are in units of the outcome per unit
of the treatment (log points per tie, post or network for ``log_exports``); ``t`` is the
t statistic, ``p_value`` two-sided; ``nobs`` counts metro-years.
"""

from __future__ import annotations

import difflib
import itertools
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from citydip.errors import CitydipError, OptionError
from citydip.estimation import speccurve_engine as engine
from citydip.estimation.spec import METRO, YEAR

#: Choice columns of the tidy table, in enumeration order (the last varies fastest).
CHOICES = ("data", "outcome", "treatment", "controls", "fixed_effects", "sample", "vcov")
#: Result columns of the tidy table.
RESULTS = ("coefficient", "std_error", "t", "p_value", "conf_low", "conf_high", "nobs", "n_clusters", "df_t",
           "note")
#: Variance estimators and their accepted aliases.
VCOV_ALIASES = {"CRV1": "CRV1", "cluster": "CRV1", "hetero": "hetero", "HC1": "hetero", "iid": "iid"}
#: Null-test methods (see :meth:`SpecCurve.null_test`).
NULL_METHODS = ("bootstrap", "permutation")
#: Default seed of the null test.
NULL_SEED = 20250101

Sample = None | str | Callable[[pd.DataFrame], object] | Sequence[bool] | np.ndarray


@dataclass(frozen=True)
class Equals:
    """Sample rule: rows where ``column`` equals ``value`` (missing values excluded)."""

    column: str
    value: object

    def __call__(self, frame: pd.DataFrame) -> np.ndarray:
        return (frame[self.column] == self.value).to_numpy(dtype=bool, na_value=False)

    def __repr__(self) -> str:
        return f"{self.column} == {self.value!r}"


def size_class_samples(column: str = "size_class", classes: Sequence[str] = ("small", "mid", "large")) -> dict:
    """One sample per metro size class: ``{"small": Equals("size_class", "small"), ...}``."""
    return {c: Equals(column, c) for c in classes}


def spec_curve(data: pd.DataFrame | Mapping[str, pd.DataFrame], *, outcomes: str | Sequence[str],
               treatments: str | Sequence[str], controls=None, fixed_effects=None,
               samples: Mapping[str, Sample] | Sequence[str] | None = None, vcov: str | Sequence[str] = "CRV1",
               cluster: str = METRO, time: str = YEAR, fixef_rm: str = "singleton", ssc: Mapping | None = None,
               alpha: float = 0.05, fixef_tol: float = engine.FIXEF_TOL,
               fixef_maxiter: int = engine.FIXEF_MAXITER, collin_tol: float = engine.COLLIN_TOL) -> "SpecCurve":
    """Estimate every specification of the declared choice sets.

    ``cluster`` names the cluster column of CRV1; ``time`` the period column (used by the
    permutation null test). ``fixef_rm`` is pyfixest's: ``"singleton"`` (its default; use
    ``citydip.estimation.conventions.pyfixest_fixef_rm`` for a model's convention) or
    ``"none"``. ``ssc`` is a ``pyfixest.ssc(...)`` dictionary (default ``pyfixest.ssc()``).
    ``alpha`` sets the confidence level (``1 - alpha``) and the significance threshold of
    :meth:`SpecCurve.summary`. ``fixef_tol`` and ``fixef_maxiter`` control the demeaning
    (pyfixest's alternating projections; the tolerance applies to each column scaled to
    magnitude one, see :mod:`citydip.estimation.speccurve_engine`); ``collin_tol`` is
    pyfixest's collinearity tolerance. A specification is reproduced in pyfixest by
    ``feols(f"{outcome} ~ {treatment} + {controls} | {fixed_effects}", data[sample], vcov=...,
    fixef_rm=..., demeaner=pyfixest.MapDemeaner(fixef_tol=fixef_tol))``.
    """
    design = _design(data, outcomes=outcomes, treatments=treatments, controls=controls,
                     fixed_effects=fixed_effects, samples=samples, vcov=vcov, cluster=cluster, time=time,
                     fixef_rm=fixef_rm, ssc=ssc, alpha=alpha, fixef_tol=fixef_tol, fixef_maxiter=fixef_maxiter,
                     collin_tol=collin_tol)
    estimates = engine.estimate(design.frames, design.masks, design.models, design.settings)
    return SpecCurve(_tidy(design, estimates), design.options, alpha, design, estimates.n_samples,
                     estimates.demeaned_bytes, estimates.largest_block_bytes)


# -- results -----------------------------------------------------------------------------------------
@dataclass
class SpecCurve:
    """A fitted specification curve.

    ``results``: one row per specification (columns ``spec_id``, :data:`CHOICES`,
    :data:`RESULTS`). ``options``: the labels of each choice set in declaration order.
    ``n_samples``: distinct estimation samples demeaned; ``demeaned_bytes``: their demeaned
    columns, summed; ``largest_block_bytes``: the largest of them.
    """

    results: pd.DataFrame
    options: dict[str, list[str]]
    alpha: float
    design: "_Design" = field(repr=False)
    n_samples: int = 0
    demeaned_bytes: int = 0
    largest_block_bytes: int = 0

    def tidy(self) -> pd.DataFrame:
        """A copy of the results table."""
        return self.results.copy()

    def summary(self, by: str | Sequence[str] | None = None) -> pd.DataFrame:
        """Number of specifications and of estimated ones, median estimate, share positive,
        share significant at ``alpha`` (and by sign); overall, or per value of the choice
        columns ``by``. Shares are over the estimated specifications."""
        return summarise(self.results, self.alpha, by)

    def null_test(self, draws: int = 500, method: str = "bootstrap", seed: int = NULL_SEED) -> "NullTest":
        """Inference on the whole curve under the null of no effect in any specification.

        ``bootstrap`` (Simonsohn et al.'s method): the null is imposed by removing each
        specification's estimated effect from its outcome (``y - b x``); metros (clusters) are
        resampled with replacement, a metro drawn twice entering as two metros (its
        fixed-effect and cluster ids relabelled), and the curve is re-estimated. For least
        squares this equals re-estimating on the resampled data and subtracting the observed
        estimate, which is how it is computed. ``permutation``: each draw permutes the
        treatments' metro paths across metros (year by year, the same permutation for every
        treatment and data set), leaving outcomes and controls in place.

        Statistics: the median estimate and the share of specifications significant at
        ``alpha`` in the direction of the observed median. p-values are one-sided in that
        direction, ``(1 + #{null >= observed}) / (1 + draws)``. Deterministic given ``seed``.
        """
        return null_test(self, draws=draws, method=method, seed=seed)


@dataclass
class NullTest:
    """Curve-level test. ``observed`` and each row of ``null`` hold the median estimate and
    the share significant in the ``direction`` (+1 or -1) of the observed median; ``p_values``
    the one-sided p-values of both."""

    method: str
    draws: int
    seed: int
    direction: int
    observed: pd.Series
    null: pd.DataFrame
    p_values: pd.Series

    def summary(self) -> pd.DataFrame:
        """One row per statistic: observed value, null median and 95th percentile (in the
        direction of the effect), p-value."""
        sign = pd.Series([self.direction, 1.0], index=self.null.columns)
        return pd.DataFrame({"observed": self.observed, "null_median": self.null.median(),
                             "null_p95": self.null.mul(sign).quantile(0.95).mul(sign), "p_value": self.p_values})


def summarise(results: pd.DataFrame, alpha: float = 0.05, by: str | Sequence[str] | None = None) -> pd.DataFrame:
    """:meth:`SpecCurve.summary` of a results table."""
    def stats(frame: pd.DataFrame) -> pd.Series:
        est = frame["coefficient"].to_numpy(dtype=float)
        ok = np.isfinite(est)
        significant = ok & (frame["p_value"].to_numpy(dtype=float) < alpha)
        n_ok = int(ok.sum())
        share = (lambda m: float(m.sum()) / n_ok if n_ok else np.nan)
        return pd.Series({"n_specs": len(frame), "n_estimated": n_ok,
                          "median_estimate": float(np.median(est[ok])) if n_ok else np.nan,
                          "share_positive": share(ok & (est > 0)), "share_significant": share(significant),
                          "share_significant_positive": share(significant & (est > 0)),
                          "share_significant_negative": share(significant & (est < 0))})

    if by is None:
        return stats(results).to_frame().T.astype({"n_specs": int, "n_estimated": int})
    by = [by] if isinstance(by, str) else list(by)
    unknown = [b for b in by if b not in CHOICES]
    if unknown:
        raise OptionError(f"summary: {unknown} are not choice columns {CHOICES}")
    rows = {key: stats(group) for key, group in results.groupby(by, sort=False)}
    frame = pd.DataFrame.from_dict(rows, orient="index")
    frame.index = pd.MultiIndex.from_tuples(list(rows), names=by) if len(by) > 1 else \
        pd.Index([k[0] if isinstance(k, tuple) else k for k in rows], name=by[0])
    return frame.astype({"n_specs": int, "n_estimated": int})


# -- the design: validated choice sets, models, resolved samples -----------------------------------------
@dataclass
class _Design:
    frames: dict[str, pd.DataFrame]
    masks: dict[str, dict[str, np.ndarray]]
    options: dict[str, list[str]]
    rows: list[tuple]  # one per specification: labels of CHOICES
    models: list[engine.Model]
    settings: engine.Settings
    time: str
    alpha: float
    control_notes: dict[int, str]


def _design(data, *, outcomes, treatments, controls, fixed_effects, samples, vcov, cluster, time, fixef_rm, ssc,
            alpha, fixef_tol, fixef_maxiter, collin_tol) -> _Design:
    frames = _frames(data)
    outcomes = _columns_choice(outcomes, "outcomes")
    treatments = _columns_choice(treatments, "treatments")
    controls = _sets_choice(controls, "controls", {"none": ()})
    fixed_effects = _sets_choice(fixed_effects, "fixed_effects", {"metro + year": (METRO, YEAR)})
    samples = _samples_choice(samples)
    vcov = _vcov_choice(vcov)
    if fixef_rm not in ("singleton", "none"):
        raise OptionError(f"fixef_rm must be 'singleton' or 'none', got {fixef_rm!r}")
    if not 0 < alpha < 1:
        raise OptionError(f"alpha must lie in (0, 1), got {alpha!r}")
    both = sorted(set(outcomes) & set(treatments))
    if both:
        raise OptionError(f"{both} cannot be both an outcome and a treatment")
    for label, cols in controls.items():
        clash = sorted(set(cols) & set(outcomes))
        if clash:
            raise OptionError(f"control set {label!r} contains the outcome(s) {clash}")
    needed = [*outcomes, *treatments, *itertools.chain(*controls.values()), *itertools.chain(*fixed_effects.values())]
    if "CRV1" in vcov:
        needed.append(cluster)
    for name, frame in frames.items():
        _check_columns(frame, name, needed)
    masks = {name: {label: _sample_mask(frame, name, label, rule) for label, rule in samples.items()}
             for name, frame in frames.items()}
    settings = engine.Settings(vcov=tuple(dict.fromkeys(vcov)), cluster=cluster, fixef_rm=fixef_rm, ssc=ssc,
                               fixef_tol=fixef_tol, fixef_maxiter=fixef_maxiter, collin_tol=collin_tol)
    models, rows, notes = [], [], {}
    for d, y, x, c, f, s in itertools.product(frames, outcomes, treatments, controls, fixed_effects, samples):
        kept = tuple(v for v in controls[c] if v != x)
        if len(kept) < len(controls[c]):
            notes[len(models)] = f"{x} left out of the controls (it is the treatment)"
        models.append(engine.Model(d, y, x, kept, fixed_effects[f], s))
        rows.extend((d, y, x, c, f, s, v) for v in settings.vcov)
    options = {"data": list(frames), "outcome": list(outcomes), "treatment": list(treatments),
               "controls": list(controls), "fixed_effects": list(fixed_effects), "sample": list(samples),
               "vcov": list(settings.vcov)}
    return _Design(frames, masks, options, rows, models, settings, time, alpha, notes)


def _frames(data) -> dict[str, pd.DataFrame]:
    if isinstance(data, pd.DataFrame):
        return {"panel": data}
    if isinstance(data, Mapping):
        if not data:
            raise OptionError("data: the choice set is empty")
        bad = [k for k, v in data.items() if not isinstance(v, pd.DataFrame)]
        if bad:
            raise OptionError(f"data: {bad} are not DataFrames")
        return {str(k): v for k, v in data.items()}
    raise OptionError(f"data must be a DataFrame or a mapping of names to DataFrames, got {type(data).__name__}")


def _columns_choice(value, name: str) -> tuple[str, ...]:
    values = (value,) if isinstance(value, str) else tuple(value or ())
    if not values:
        raise OptionError(f"{name}: the choice set is empty")
    bad = [v for v in values if not isinstance(v, str)]
    if bad:
        raise OptionError(f"{name}: expected column names, got {bad}")
    return tuple(dict.fromkeys(values))


def _sets_choice(value, name: str, default: dict) -> dict[str, tuple[str, ...]]:
    if value is None:
        return dict(default)
    if isinstance(value, Mapping):
        sets = {str(k): ((v,) if isinstance(v, str) else tuple(v or ())) for k, v in value.items()}
    elif isinstance(value, str):
        sets = {value: (value,)}
    else:
        sets = {}
        for v in value:
            cols = (v,) if isinstance(v, str) else tuple(v or ())
            label = " + ".join(cols) or "none"
            if label in sets:
                raise OptionError(f"{name}: the set {label!r} is listed twice")
            sets[label] = cols
    if not sets:
        raise OptionError(f"{name}: the choice set is empty")
    for label, cols in sets.items():
        bad = [c for c in cols if not isinstance(c, str)]
        if bad:
            raise OptionError(f"{name} {label!r}: expected column names, got {bad}")
        if len(set(cols)) < len(cols):
            raise OptionError(f"{name} {label!r}: a column is listed twice")
    return sets


def _samples_choice(value) -> dict[str, Sample]:
    if value is None:
        return {"all": None}
    if isinstance(value, str):
        return {value: value}
    sets = dict(value) if isinstance(value, Mapping) else {str(v): v for v in value}
    if not sets:
        raise OptionError("samples: the choice set is empty")
    return {str(k): v for k, v in sets.items()}


def _vcov_choice(value) -> tuple[str, ...]:
    values = (value,) if isinstance(value, str) else tuple(value or ())
    if not values:
        raise OptionError("vcov: the choice set is empty")
    bad = [v for v in values if v not in VCOV_ALIASES]
    if bad:
        raise OptionError(f"vcov: {bad} not among {sorted(VCOV_ALIASES)}")
    return tuple(dict.fromkeys(VCOV_ALIASES[v] for v in values))


def _check_columns(frame: pd.DataFrame, name: str, needed: Sequence[str]) -> None:
    missing = [c for c in dict.fromkeys(needed) if c not in frame.columns]
    if missing:
        hints = []
        for c in missing:
            close = difflib.get_close_matches(c, [str(x) for x in frame.columns], n=1)
            hints.append(f"{c!r}" + (f" (did you mean {close[0]!r}?)" if close else ""))
        raise CitydipError(f"data {name!r} has no column(s) {', '.join(hints)}")


def _sample_mask(frame: pd.DataFrame, data: str, label: str, rule: Sample) -> np.ndarray:
    if rule is None:
        return np.ones(len(frame), bool)
    try:
        if isinstance(rule, str):
            result = frame.eval(rule)
        elif callable(rule):
            result = rule(frame)
        else:
            result = rule
    except Exception as exc:  # an invalid expression or callable: say which sample
        raise OptionError(f"sample {label!r} on data {data!r}: {exc}") from exc
    if isinstance(result, pd.Series):
        if result.dtype != bool and str(result.dtype) not in ("boolean", "bool[pyarrow]"):
            raise OptionError(f"sample {label!r} on data {data!r}: not a boolean selection ({result.dtype})")
        result = result.to_numpy(dtype=bool, na_value=False)
    mask = np.asarray(result)
    if mask.dtype != bool or mask.shape != (len(frame),):
        raise OptionError(f"sample {label!r} on data {data!r}: expected {len(frame)} booleans, got "
                          f"{mask.dtype} of shape {mask.shape}")
    return mask


# -- tidy table --------------------------------------------------------------------------------------
def _inference(coef: np.ndarray, se: np.ndarray, df: np.ndarray, alpha: float):
    """t statistics, two-sided p-values and intervals exactly as pyfixest's ``get_inference``."""
    from scipy.stats import t as student

    with np.errstate(divide="ignore", invalid="ignore"):
        stat = coef / se
        p = 2 * (1 - student.cdf(np.abs(stat), df))
        half = np.abs(student.ppf(alpha / 2, df)) * se
    return stat, p, coef - half, coef + half


def _tidy(design: _Design, est: engine.Estimates) -> pd.DataFrame:
    n_vcov = len(design.settings.vcov)
    coef = np.repeat(est.coefficient, n_vcov)
    with np.errstate(invalid="ignore"):
        se = np.sqrt(est.variance).ravel()
    df = est.df_t.ravel()
    stat, p, low, high = _inference(coef, se, df, design.alpha)
    notes = []
    for i, model_notes in enumerate(est.notes):
        extra = [design.control_notes[i]] if i in design.control_notes else []
        for v in design.settings.vcov:
            notes.append("; ".join(extra + [text for which, text in model_notes if which in (None, v)]))
    frame = pd.DataFrame(design.rows, columns=list(CHOICES))
    clustered = frame["vcov"].eq("CRV1").to_numpy()
    frame.insert(0, "spec_id", np.arange(len(frame)))
    frame["coefficient"], frame["std_error"], frame["t"], frame["p_value"] = coef, se, stat, p
    frame["conf_low"], frame["conf_high"] = low, high
    frame["nobs"] = np.repeat(est.nobs, n_vcov)
    frame["n_clusters"] = pd.array(np.repeat(est.n_clusters, n_vcov), dtype="Int64")
    frame.loc[~clustered, "n_clusters"] = pd.NA
    frame["df_t"] = df
    frame["note"] = notes
    return frame


# -- curve-level inference ---------------------------------------------------------------------------
def null_test(curve: SpecCurve, draws: int = 500, method: str = "bootstrap", seed: int = NULL_SEED) -> NullTest:
    """See :meth:`SpecCurve.null_test`."""
    if method not in NULL_METHODS:
        raise OptionError(f"null test method {method!r} is not one of {NULL_METHODS}")
    if not isinstance(draws, (int, np.integer)) or draws < 1:
        raise OptionError(f"draws must be a positive integer, got {draws!r}")
    design, res = curve.design, curve.results
    coef = res["coefficient"].to_numpy(dtype=float)
    estimated = np.isfinite(coef) & np.isfinite(res["std_error"].to_numpy(dtype=float))
    if not estimated.any():
        raise CitydipError("null test: no specification of the curve was estimated")
    median = float(np.median(coef[estimated]))
    direction = 1 if median >= 0 else -1
    observed = _curve_stats(coef, res["p_value"].to_numpy(dtype=float), estimated, direction, curve.alpha)
    rng = np.random.default_rng(seed)
    n_vcov = len(design.settings.vcov)
    stats = []
    for _ in range(draws):
        draw_seed = int(rng.integers(2**63 - 1))
        frames, masks, models = _null_data(design, method, draw_seed)
        est = engine.estimate(frames, masks, models, design.settings)
        b = np.repeat(est.coefficient, n_vcov)
        if method == "bootstrap":
            b = b - coef
        with np.errstate(invalid="ignore"):
            se = np.sqrt(est.variance).ravel()
        _, p, _, _ = _inference(b, se, est.df_t.ravel(), curve.alpha)
        stats.append(_curve_stats(b, p, estimated, direction, curve.alpha))
    null = pd.DataFrame(stats, columns=["median_estimate", "share_significant"])
    null.index.name = "draw"
    obs = pd.Series(observed, index=null.columns)
    exceed = (null.mul([direction, 1.0]) >= obs.mul([direction, 1.0]) - 1e-12).sum()
    p_values = (1 + exceed) / (1 + draws)
    return NullTest(method, int(draws), seed, direction, obs, null, p_values)


def _curve_stats(coef, p, estimated, direction, alpha) -> tuple[float, float]:
    """Median estimate (of the specifications estimated in the observed curve) and share of
    them significant in ``direction``; a specification a draw cannot estimate counts as not
    significant."""
    b = coef[estimated]
    with np.errstate(invalid="ignore"):
        significant = (p[estimated] < alpha) & (np.sign(b) == direction)
    median = float(np.nanmedian(b)) if np.isfinite(b).any() else np.nan
    return median, float(significant.sum()) / len(b)


def _null_data(design: _Design, method: str, seed: int):
    """Frames, sample masks and models of one null draw (every data set from the same seed, so
    that panels with the same metros get the same draw)."""
    settings = design.settings
    treatments = list(dict.fromkeys(m.treatment for m in design.models))
    frames, masks = {}, {}
    for name, frame in design.frames.items():
        rng = np.random.default_rng(seed)
        codes, labels = pd.factorize(frame[settings.cluster], sort=True)
        if (codes < 0).any():
            raise CitydipError(f"null test: the cluster column {settings.cluster!r} of data {name!r} has "
                               "missing values")
        used = list(dict.fromkeys([*(c for m in design.models if m.data == name
                                     for c in (m.outcome, m.treatment, *m.controls, *m.fixed_effects)),
                                   settings.cluster]))
        if method == "bootstrap":
            order = np.argsort(codes, kind="stable")
            counts = np.bincount(codes, minlength=len(labels))
            starts = np.r_[0, np.cumsum(counts)[:-1]]
            draw = rng.integers(0, len(labels), size=len(labels))
            size = counts[draw]
            offsets = np.arange(size.sum()) - np.repeat(np.cumsum(size) - size, size)
            rows = order[np.repeat(starts[draw], size) + offsets]
            new = frame[[c for c in used if c != settings.cluster]].iloc[rows].reset_index(drop=True)
            new[settings.cluster] = np.repeat(np.arange(len(labels)), size)
            masks[name] = {label: mask[rows] for label, mask in design.masks[name].items()}
        else:
            if design.time not in frame.columns:
                raise CitydipError(f"null test: data {name!r} has no period column {design.time!r}")
            new = frame[used].reset_index(drop=True)
            index = pd.MultiIndex.from_arrays([codes, frame[design.time].to_numpy()])
            if not index.is_unique:
                raise CitydipError(f"null test: data {name!r} has more than one row per {settings.cluster} and "
                                   f"{design.time}; permutation needs a panel")
            perm = rng.permutation(len(labels))
            source = index.get_indexer(pd.MultiIndex.from_arrays([perm[codes], frame[design.time].to_numpy()]))
            for x in treatments:
                if x in new.columns:
                    values = engine.Columns(frame, name).values(x).astype(float)
                    new[_permuted(x)] = np.where(source >= 0, values[source], np.nan)
            masks[name] = design.masks[name]
        frames[name] = new
    models = design.models
    if method == "permutation":
        models = [engine.Model(m.data, m.outcome, _permuted(m.treatment), m.controls, m.fixed_effects, m.sample)
                  for m in models]
    return frames, masks, models


def _permuted(column: str) -> str:
    return f"{column} [permuted]"
