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
    curve.null_test().summary()      # is the curve as a whole distinguishable from the null? (999 draws)

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

Curve-level inference (:meth:`SpecCurve.null_test`, Simonsohn et al.'s joint test: median
estimate, share significant in the dominant direction, Stouffer's z) draws the null by a wild
cluster restricted bootstrap with the design held fixed, so that every draw is a matrix
product (:func:`citydip.estimation.speccurve_engine.wild_draws`); :func:`concat_curves` joins
curves fitted on the same data (treatments with their own control sets) into one to test.

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
#: Null-test methods (see :meth:`SpecCurve.null_test`): the wild cluster restricted bootstrap
#: (default), permutation of treatment paths across metros, and the previous resampling of metros.
NULL_METHODS = ("bootstrap", "permutation", "resample")
#: Default seed and number of draws of the null test.
NULL_SEED = 20250101
NULL_DRAWS = 999
#: Statistics of the null test: median estimate, share significant in the dominant direction,
#: Stouffer's z.
NULL_STATISTICS = ("median_estimate", "share_significant", "stouffer_z")
#: A null statistic within this of the observed one counts as at least as extreme (ties).
NULL_TIE_TOL = 1e-12

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


def concat_curves(curves: Sequence[SpecCurve]) -> SpecCurve:
    """One curve of several fitted on the same data sets with the same settings (for example,
    treatments that take different control sets): specifications in order, ``spec_id``
    renumbered, options merged in order of appearance. Data sets of the same name must be the
    same panels, and samples of the same label the same rows."""
    curves = list(curves)
    if not curves:
        raise OptionError("concat_curves: no curves")
    first = curves[0].design
    frames, masks, options = dict(first.frames), {k: dict(v) for k, v in first.masks.items()}, {}
    rows, models, notes = [], [], {}
    for curve in curves:
        d = curve.design
        if (d.settings, d.time, curve.alpha) != (first.settings, first.time, curves[0].alpha):
            raise OptionError("concat_curves: the curves differ in their settings, period column or alpha")
        for name, frame in d.frames.items():
            if name in frames and frames[name] is not frame and not frames[name].equals(frame):
                raise OptionError(f"concat_curves: two different data sets are named {name!r}")
            frames.setdefault(name, frame)
            for label, mask in d.masks[name].items():
                if label in masks.setdefault(name, {}) and not np.array_equal(masks[name][label], mask):
                    raise OptionError(f"concat_curves: sample {label!r} selects different rows of {name!r}")
                masks[name].setdefault(label, mask)
        for key, values in curve.options.items():
            options.setdefault(key, [])
            options[key] += [v for v in values if v not in options[key]]
        notes.update({len(models) + i: note for i, note in d.control_notes.items()})
        rows += d.rows
        models += d.models
    design = _Design(frames, masks, options, rows, models, first.settings, first.time, first.alpha, notes)
    results = pd.concat([c.results for c in curves], ignore_index=True).assign(spec_id=lambda r: np.arange(len(r)))
    return SpecCurve(results, options, curves[0].alpha, design, sum(c.n_samples for c in curves),
                     sum(c.demeaned_bytes for c in curves), max(c.largest_block_bytes for c in curves))


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

    def null_test(self, draws: int | None = None, method: str = "bootstrap", seed: int = NULL_SEED,
                  groups: Mapping[str, object] | None = None) -> NullTest:
        """Curve-level inference (Simonsohn, Simmons & Nelson 2020): is the curve as a whole
        distinguishable from what the same specifications give under the null of no effect in
        any of them? ``draws`` defaults to :data:`NULL_DRAWS` (999).

        Statistics (:data:`NULL_STATISTICS`), per group of specifications: the median estimate;
        the share of specifications significant at ``alpha`` in the dominant direction (the
        sign of the median); and Stouffer's z, ``sum_s z_s / sqrt(S)`` with ``z_s =
        Phi^-1(F_t(t_s))`` the specification's t statistic turned into a standard normal
        quantile through its own t distribution (positive for positive estimates). Each is
        tested in the dominant direction of its own curve, observed or drawn (the median's
        absolute value, the share in the direction of the median, z times the sign of the
        median): the direction is read off the data, so that a test in the observed direction
        only would reject a true null about twice as often as nominal. p-values are ``(1 +
        #{draws at least as extreme}) / (1 + draws)``; :meth:`NullTest.summary` gives them with
        their Monte Carlo standard errors. A specification a draw cannot estimate counts as not
        significant, with z = 0.

        ``method`` (:data:`NULL_METHODS`):

        * ``"bootstrap"`` (default): the wild cluster restricted bootstrap with the design
          held fixed (:func:`citydip.estimation.speccurve_engine.wild_draws`). Each
          specification's null is imposed by its restricted model (the outcome on the controls
          and fixed effects, without the treatment): draw d's outcome is the restricted fit plus
          the restricted residuals times a Rademacher sign per cluster (metro), the same sign
          for a metro in every specification, sample and data set of the draw, so that the
          dependence between specifications is kept. Coefficients and cluster scores are linear
          in the signs: the projection of each specification is computed once and every draw
          is a matrix product. Standard errors are re-computed in each draw by the
          specification's own estimator (CRV1 by metro, HC1 or iid), and t against the same
          t distribution as observed.
        * ``"permutation"``: each draw permutes the treatments' metro paths across metros (year
          by year, the same permutation for every treatment and data set), leaving outcomes and
          controls in place, and re-estimates the curve.
        * ``"resample"`` (the previous default, kept for comparison): metros are resampled with
          replacement (a metro drawn twice enters as two, its fixed-effect and cluster ids
          relabelled), the curve is re-estimated (re-demeaned) in every draw and the observed
          estimate subtracted (``y - b x`` imposes the null for least squares).

        ``groups``: the groups of specifications tested, each on its own: a mapping of labels
        to selections of the rows of :attr:`results` (a :meth:`pandas.DataFrame.eval`
        expression, a boolean array, a callable taking the results, or None for all). By
        default (:func:`default_groups`) specifications with year effects are pooled, and
        those with metro-only fixed effects (the national trend and any trend in prices or
        stocks left in, and with it a correlation across metros the metro bootstrap cannot
        reproduce) are reported separately, as are any others without year effects. Only
        specifications the observed curve estimated enter. Deterministic given ``seed`` (and
        independent of the number of threads: BLAS runs single-threaded).
        """
        return null_test(self, draws=NULL_DRAWS if draws is None else draws, method=method, seed=seed,
                         groups=groups)


@dataclass
class NullTest:
    """Curve-level test (:meth:`SpecCurve.null_test`). ``groups``: per group (index) the
    number of specifications and the ``direction`` (+1 or -1) of its observed median;
    ``observed``: per group the statistics (:data:`NULL_STATISTICS`: the median and Stouffer's
    z signed, the share significant in the direction of the median); ``null``: the same per
    draw (rows), one column per group and statistic, each draw in its own direction."""

    method: str
    draws: int
    seed: int
    alpha: float
    groups: pd.DataFrame
    observed: pd.DataFrame
    null: pd.DataFrame

    @property
    def direction(self) -> pd.Series:
        """Per group, the sign of the observed median (+1 or -1)."""
        return self.groups["direction"]

    def _directed(self) -> tuple[pd.DataFrame, pd.DataFrame]:
        """The test statistics, larger being more extreme: per curve (observed, or a draw) its
        statistics in its own dominant direction (the sign of its median)."""
        def directed(median, share, z):
            sign = np.where(median >= 0, 1.0, -1.0)
            return np.abs(median), share, sign * z

        observed = pd.DataFrame(dict(zip(NULL_STATISTICS, directed(*(self.observed[s].to_numpy()
                                                                      for s in NULL_STATISTICS)))),
                                index=self.observed.index)
        null = self.null.copy()
        for g in self.groups.index:
            for s, values in zip(NULL_STATISTICS, directed(*(self.null[(g, s)].to_numpy() for s in NULL_STATISTICS))):
                null[(g, s)] = values
        return observed, null

    @property
    def exceeded(self) -> pd.DataFrame:
        """Per group and statistic, the draws at least as extreme as observed."""
        observed, null = self._directed()
        limit = observed.stack(future_stack=True).reindex(null.columns) - NULL_TIE_TOL
        counts = null.ge(limit, axis=1).sum()
        return counts.unstack().reindex(index=self.groups.index, columns=list(NULL_STATISTICS)).astype(int)

    @property
    def p_values(self) -> pd.DataFrame:
        """Per group and statistic, ``(1 + exceeded) / (1 + draws)``."""
        return (1 + self.exceeded) / (1 + self.draws)

    def group(self, label: str) -> NullTest:
        """The test of one group."""
        if label not in self.groups.index:
            raise OptionError(f"null test: no group {label!r} (groups: {list(self.groups.index)})")
        return NullTest(self.method, self.draws, self.seed, self.alpha, self.groups.loc[[label]],
                        self.observed.loc[[label]], self.null[[label]])

    def summary(self) -> pd.DataFrame:
        """One row per statistic (and group; index ``statistic``, Stouffer's as
        ``"stouffer_z"``): the group and its specifications, the direction of its median, the
        observed value, the null's median, the null's 95th percentile of the test statistic
        (in each draw's own direction, given the observed direction's sign), the p-value, its
        Monte Carlo standard error ``sqrt(p (1 - p) / draws)`` and the draws at least as
        extreme as observed."""
        _, directed = self._directed()
        exceeded, p = self.exceeded, self.p_values
        rows = []
        for g in self.groups.index:
            for s in NULL_STATISTICS:
                sign = 1.0 if s == "share_significant" else float(self.direction[g])
                rows.append({"statistic": s, "group": g, "specifications": int(self.groups.loc[g, "specifications"]),
                             "direction": int(self.direction[g]), "observed": self.observed.loc[g, s],
                             "null_median": self.null[(g, s)].median(),
                             "null_p95": sign * directed[(g, s)].quantile(0.95), "p_value": p.loc[g, s],
                             "monte_carlo_se": float(np.sqrt(p.loc[g, s] * (1 - p.loc[g, s]) / self.draws)),
                             "exceeded": int(exceeded.loc[g, s])})
        return pd.DataFrame(rows).set_index("statistic")


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
    return _selection(frame, rule, f"sample {label!r} on data {data!r}")


def _selection(frame: pd.DataFrame, rule: Sample, what: str) -> np.ndarray:
    """Rows of ``frame`` a selection rule keeps (``None``: all; a :meth:`pandas.DataFrame.eval`
    expression; a callable; a boolean array), as a boolean mask; errors name ``what``."""
    if rule is None:
        return np.ones(len(frame), bool)
    try:
        if isinstance(rule, str):
            result = frame.eval(rule)
        elif callable(rule):
            result = rule(frame)
        else:
            result = rule
    except Exception as exc:  # an invalid expression or callable: say which selection
        raise OptionError(f"{what}: {exc}") from exc
    if isinstance(result, pd.Series):
        if result.dtype != bool and str(result.dtype) not in ("boolean", "bool[pyarrow]"):
            raise OptionError(f"{what}: not a boolean selection ({result.dtype})")
        result = result.to_numpy(dtype=bool, na_value=False)
    mask = np.asarray(result)
    if mask.dtype != bool or mask.shape != (len(frame),):
        raise OptionError(f"{what}: expected {len(frame)} booleans, got {mask.dtype} of shape {mask.shape}")
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
@dataclass
class NullDraws:
    """Null draws of some specifications of a curve (:func:`null_draws`): per specification
    (``spec_id``, rows) and draw (columns) the coefficient and standard error, and the
    specification's t degrees of freedom. For ``"bootstrap"``, ``clusters`` (the cluster
    labels) and ``weights`` (clusters x draws) are the signs of each draw; for
    ``"resample"`` the coefficients are centred on the observed estimate."""

    method: str
    seed: int
    spec_id: np.ndarray
    coefficient: np.ndarray
    std_error: np.ndarray
    df_t: np.ndarray
    clusters: pd.Index | None = None
    weights: np.ndarray | None = None

    @property
    def t(self) -> np.ndarray:
        with np.errstate(divide="ignore", invalid="ignore"):
            return self.coefficient / self.std_error


def null_draws(curve: SpecCurve, draws: int = NULL_DRAWS, method: str = "bootstrap", seed: int = NULL_SEED,
               specifications=None, weights: np.ndarray | None = None) -> NullDraws:
    """The draws behind :meth:`SpecCurve.null_test` for ``specifications`` (spec ids, or a
    boolean mask over :attr:`SpecCurve.results`; default: every estimated one). ``weights``
    (bootstrap only; clusters in the order of :func:`cluster_labels` x draws) replaces the
    seeded Rademacher signs."""
    if method not in NULL_METHODS:
        raise OptionError(f"null test method {method!r} is not one of {NULL_METHODS}")
    if weights is None and (not isinstance(draws, (int, np.integer)) or isinstance(draws, bool) or draws < 1):
        raise OptionError(f"draws must be a positive integer, got {draws!r}")
    design, res = curve.design, curve.results
    n_vcov = len(design.settings.vcov)
    if len(res) != len(design.models) * n_vcov:
        raise CitydipError("null test: the results no longer match the curve's design")
    coef = res["coefficient"].to_numpy(dtype=float)
    if specifications is None:
        ids = np.flatnonzero(np.isfinite(coef) & np.isfinite(res["std_error"].to_numpy(dtype=float)))
    else:
        ids = np.asarray(specifications)
        ids = np.flatnonzero(ids) if ids.dtype == bool else ids.astype(np.int64)
    model_of, vcov_of = ids // n_vcov, ids % n_vcov
    used = np.unique(model_of)  # the models drawn, in design order
    position = np.searchsorted(used, model_of)
    models = [design.models[i] for i in used]
    df_t = res["df_t"].to_numpy(dtype=float)[ids]
    if method == "bootstrap":
        labels = cluster_labels(curve)
        if weights is None:
            rng = np.random.default_rng(seed)
            weights = (2.0 * rng.integers(0, 2, size=(int(draws), len(labels)), dtype=np.int8) - 1).T
        weights = np.asarray(weights, dtype=float)
        wanted = np.zeros((len(used), n_vcov), bool)
        wanted[position, vcov_of] = True
        _, b, se = engine.wild_draws(design.frames, design.masks, models, design.settings, weights, labels, wanted)
        return NullDraws(method, seed, ids, b[position], se[position, vcov_of], df_t, labels, weights)
    rng = np.random.default_rng(seed)
    b = np.full((len(ids), draws), np.nan)
    se = np.full((len(ids), draws), np.nan)
    for d in range(draws):
        draw_seed = int(rng.integers(2**63 - 1))
        frames, masks, drawn = _null_data(design, models, method, draw_seed)
        est = engine.estimate(frames, masks, drawn, design.settings)
        b[:, d] = est.coefficient[position] - (coef[ids] if method == "resample" else 0.0)
        with np.errstate(invalid="ignore"):
            se[:, d] = np.sqrt(est.variance[position, vcov_of])
    return NullDraws(method, seed, ids, b, se, df_t)


def null_test(curve: SpecCurve, draws: int = NULL_DRAWS, method: str = "bootstrap", seed: int = NULL_SEED,
              groups: Mapping[str, object] | None = None) -> NullTest:
    """See :meth:`SpecCurve.null_test`."""
    if not isinstance(draws, (int, np.integer)) or isinstance(draws, bool) or draws < 1:
        raise OptionError(f"draws must be a positive integer, got {draws!r}")
    res = curve.results
    estimated = np.isfinite(res["coefficient"].to_numpy(dtype=float)) & \
        np.isfinite(res["std_error"].to_numpy(dtype=float))
    if not estimated.any():
        raise CitydipError("null test: no specification of the curve was estimated")
    masks = {label: mask & estimated for label, mask in _group_masks(curve, groups).items()}
    masks = {label: mask for label, mask in masks.items() if mask.any()}
    if not masks:
        raise CitydipError("null test: no group holds an estimated specification")
    ids = np.flatnonzero(np.logical_or.reduce(list(masks.values())))
    drawn = null_draws(curve, draws=draws, method=method, seed=seed, specifications=ids)
    coef, t, df = res["coefficient"].to_numpy(dtype=float)[ids], res["t"].to_numpy(dtype=float)[ids], drawn.df_t
    critical = _critical(df, curve.alpha)
    null_t = drawn.t
    observed_z, null_z = _stouffer_terms(t[:, None], df), _stouffer_terms(null_t, df)
    rows, observed, null = [], {}, {}
    for label, mask in masks.items():
        pos = np.flatnonzero(mask[ids])
        observed[label] = _curve_stats(coef[pos, None], t[pos, None], observed_z[pos], critical[pos])
        rows.append({"group": label, "specifications": len(pos), "direction": 1 if observed[label][0][0] >= 0 else -1})
        stats = _curve_stats(drawn.coefficient[pos], null_t[pos], null_z[pos], critical[pos])
        for name, values in zip(NULL_STATISTICS, stats):
            null[(label, name)] = values
    groups_table = pd.DataFrame(rows).set_index("group")
    observed_table = pd.DataFrame({k: [float(x[0]) for x in v] for k, v in observed.items()},
                                  index=list(NULL_STATISTICS)).T.rename_axis("group")
    null_table = pd.DataFrame(null)
    null_table.columns = pd.MultiIndex.from_tuples(list(null), names=["group", "statistic"])
    null_table.index.name = "draw"
    return NullTest(method, int(draws), seed, curve.alpha, groups_table, observed_table, null_table)


def cluster_labels(curve: SpecCurve) -> pd.Index:
    """The clusters of every data set of the curve (the rows of the bootstrap's weights):
    sorted where the values can be sorted, else in order of appearance."""
    cluster = curve.design.settings.cluster
    values = []
    for name, frame in curve.design.frames.items():
        if cluster not in frame.columns:
            raise CitydipError(f"null test: data {name!r} has no cluster column {cluster!r}")
        values.append(frame[cluster].dropna().unique())
    labels = pd.Index(pd.unique(np.concatenate(values)) if values else [])
    try:
        return labels.sort_values()
    except TypeError:
        return labels


def _group_masks(curve: SpecCurve, groups) -> dict[str, np.ndarray]:
    """Label -> boolean mask over the results (see :meth:`SpecCurve.null_test`)."""
    res = curve.results
    if groups is None:
        return default_groups(curve)
    if not isinstance(groups, Mapping) or not groups:
        raise OptionError("null test: groups must be a non-empty mapping of labels to selections")
    return {str(label): _selection(res, rule, f"null test group {label!r}") for label, rule in groups.items()}


def default_groups(curve: SpecCurve) -> dict[str, np.ndarray]:
    """The default groups of :meth:`SpecCurve.null_test` (label -> mask over the results),
    those not empty: specifications with period (year) effects, ``"with year effects"``;
    with fixed effects all nested in the clusters and no period effects, ``"metro only"``;
    the others (no fixed effects, or others without period effects), ``"other, without year
    effects"``. Without period effects the national cycle and trend (and inflation, in
    nominal outcomes) stay in the errors: common to all metros, they correlate the clusters,
    which neither the clustered standard errors nor the metro bootstrap reproduce, and they
    meet trending measures (stocks of ties, posts, memberships) in every specification."""
    design = curve.design
    cluster, time = design.settings.cluster, design.time
    unit = _unit_only(curve)
    period = np.repeat([time in m.fixed_effects for m in design.models], len(design.settings.vcov))
    masks = {f"with {time} effects": period, ("metro" if cluster == METRO else cluster) + " only": unit,
             f"other, without {time} effects": ~period & ~unit}
    return {label: mask for label, mask in masks.items() if mask.any()}


def _unit_only(curve: SpecCurve) -> np.ndarray:
    """Per specification: fixed effects all nested in the clusters (each level within one
    cluster) and none of them the period, i.e. metro effects without year effects."""
    design = curve.design
    cluster, nested = design.settings.cluster, {}

    def is_nested(data: str, column: str) -> bool:
        if (data, column) not in nested:
            frame = design.frames[data]
            nested[(data, column)] = column == cluster or (
                column != design.time and cluster in frame.columns
                and bool((frame.groupby(column, observed=True)[cluster].nunique() <= 1).all()))
        return nested[(data, column)]

    per_model = np.array([bool(m.fixed_effects) and all(is_nested(m.data, f) for f in m.fixed_effects)
                          for m in design.models])
    return np.repeat(per_model, len(design.settings.vcov))


def _critical(df: np.ndarray, alpha: float) -> np.ndarray:
    """Per specification, the |t| above which it is significant at ``alpha`` (two-sided)."""
    from scipy.stats import t as student

    return np.abs(student.ppf(alpha / 2, df))


def _stouffer_terms(t: np.ndarray, df: np.ndarray) -> np.ndarray:
    """``z = Phi^-1(F_t(t; df))`` per specification (rows, ``df`` per row) and draw, 0 where
    ``t`` is undefined (see :func:`t_to_z`)."""
    df = np.asarray(df, dtype=float)
    z = np.zeros(t.shape)
    for nu in np.unique(df):
        rows = df == nu
        z[rows] = t_to_z(t[rows], nu)
    return np.where(np.isfinite(z), z, 0.0)


#: Grid of :func:`t_to_z`'s interpolation: step and end (beyond it, and for few values, exact).
T_TO_Z_STEP, T_TO_Z_END, T_TO_Z_EXACT_BELOW = 1 / 128, 24.0, 20_000


def t_to_z(t: np.ndarray, df: float) -> np.ndarray:
    """The standard normal quantile of ``t``'s t(df) distribution function, ``Phi^-1(F_t(t;
    df))``, each from its nearer tail (exact to rounding far out; NaN stays NaN). For many
    values, by cubic Hermite interpolation on a grid of ``|t|`` (step 1/128, exact values and
    slopes ``f_t / phi`` at the nodes; within 1e-10 of the exact map, which
    ``scipy.special.stdtr`` computes at about a microsecond a value)."""
    from scipy.special import ndtri, stdtr

    t = np.asarray(t, dtype=float)

    def exact(x):
        with np.errstate(invalid="ignore"):
            tail = np.maximum(stdtr(df, -np.abs(x)), np.finfo(float).tiny)
            return -np.sign(x) * ndtri(tail)

    if t.size < T_TO_Z_EXACT_BELOW or not np.isfinite(df):
        return exact(t)
    from scipy.stats import norm
    from scipy.stats import t as student

    nodes = np.arange(0.0, T_TO_Z_END + T_TO_Z_STEP, T_TO_Z_STEP)
    z_nodes = exact(nodes)
    slope = T_TO_Z_STEP * np.exp(student.logpdf(nodes, df) - norm.logpdf(z_nodes))
    # per interval, z = c0 + u (c1 + u (c2 + u c3)) with u in [0, 1) the position within it
    rise = np.diff(z_nodes)
    coef = np.stack([z_nodes[:-1], slope[:-1], 3 * rise - 2 * slope[:-1] - slope[1:], slope[:-1] + slope[1:] - 2 * rise])
    flat, out = t.ravel(), np.empty(t.size)
    for lo in range(0, t.size, 1 << 16):  # a block at a time: the temporaries stay in cache
        x = np.abs(flat[lo:lo + (1 << 16)])
        inside = x < T_TO_Z_END  # False for NaN
        u = np.where(inside, x, 0.0) / T_TO_Z_STEP
        k = u.astype(np.int64)
        u -= k
        c = coef[:, k]
        z = c[0] + u * (c[1] + u * (c[2] + u * c[3]))
        if not inside.all():
            z[~inside] = exact(x[~inside])
        out[lo:lo + len(x)] = np.copysign(z, flat[lo:lo + (1 << 16)]) * (flat[lo:lo + (1 << 16)] != 0)
    return out.reshape(t.shape)


def _curve_stats(coef, t, z, critical) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per curve (columns: the observed one or the draws; specifications in rows): the median
    estimate (of the specifications it estimated), the share of all significant in its
    dominant direction (the sign of the median, + at 0) and Stouffer's z (signed)."""
    n = coef.shape[0]
    with np.errstate(invalid="ignore"):
        median = np.median(coef, axis=0) if np.isfinite(coef).all() else np.nanmedian(coef, axis=0)
        direction = np.where(median >= 0, 1.0, -1.0)
        significant = (np.abs(t) > critical[:, None]) & (np.sign(coef) == direction[None, :])
    return median, significant.sum(axis=0) / n, z.sum(axis=0) / np.sqrt(n)


def _null_data(design: _Design, models: list[engine.Model], method: str, seed: int):
    """Frames, sample masks and models of one draw of the resampling or permutation null
    (every data set from the same seed, so that panels with the same metros get the same draw)."""
    settings = design.settings
    treatments = list(dict.fromkeys(m.treatment for m in models))
    frames, masks = {}, {}
    for name, frame in design.frames.items():
        if not any(m.data == name for m in models):
            continue
        rng = np.random.default_rng(seed)
        codes, labels = pd.factorize(frame[settings.cluster], sort=True)
        if (codes < 0).any():
            raise CitydipError(f"null test: the cluster column {settings.cluster!r} of data {name!r} has "
                               "missing values")
        used = list(dict.fromkeys([*(c for m in models if m.data == name
                                     for c in (m.outcome, m.treatment, *m.controls, *m.fixed_effects)),
                                   settings.cluster]))
        if method == "resample":
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
    if method == "permutation":
        models = [engine.Model(m.data, m.outcome, _permuted(m.treatment), m.controls, m.fixed_effects, m.sample)
                  for m in models]
    return frames, masks, models


def _permuted(column: str) -> str:
    return f"{column} [permuted]"
