"""Numerics of the specification curve (:mod:`citydip.estimation.speccurve`).

Models that share a data set, a sample and fixed effects, and whose variables are missing in
the same rows, share one estimation sample: its columns are demeaned once (pyfixest's own
alternating-projections routine, ``pyfixest.estimation.demean``), and every model in it is
then a small least-squares problem on those columns (Frisch-Waugh-Lovell). Only the focal
coefficient's variance is needed, so no design matrix is formed: with ``XtX`` the Gram
block of the model's regressors, ``b`` its coefficients and ``r = XtX^-1 e_t`` the row of
the bread for the treatment ``t``, the residual ``u = y - X b`` and ``z = X r`` are products
of the demeaned block with coefficient vectors (for all the sample's models in one pass), and

* iid: ``V_tt = c * r_t * sum(u^2) / (N - 1)``,
* hetero (HC1): ``V_tt = c * sum((u z)^2)``,
* CRV1: ``V_tt = c * sum_g (sum_{i in g} u_i z_i)^2``,

where ``c`` is pyfixest's small-sample factor (``pyfixest.utils.utils.get_ssc`` called with
the numbers pyfixest's ``Feols.vcov`` passes it: N, K, fixed-effect levels, levels nested in
the clusters, G). Listwise deletion on the model's own variables and fixed effects, singleton
removal (``pyfixest.estimation.detect_singletons``), the collinearity rule
(``pyfixest.core.collinear.find_collinear_variables`` on the model's Gram block) and the
nesting of fixed effects in clusters (``count_fixef_fully_nested_all``) are pyfixest's
routines applied to the inputs ``feols`` gives them.

Where the results can differ from ``feols``, and why:

* Demeaning tolerance: :data:`FIXEF_TOL` (1e-12) relative to each column's magnitude, where
  pyfixest defaults to 1e-6 absolute. pyfixest's result then carries a demeaning error that
  moves its coefficients only at second order (below 1e-10) but its standard errors at first
  order (about 1e-8 relative in unbalanced samples); its fixed-effect order, hence that
  error, even changes with Python's hash seed. With ``feols(demeaner=MapDemeaner(fixef_tol=
  1e-12))`` the two agree to about 1e-12.
* No fixed effects: the intercept is partialled out (columns centred) instead of estimated
  beside raw levels; the slopes are then those of a QR solve to about 1e-12, where pyfixest's
  raw normal equations can be off by 1e-9 of a small slope next to a large intercept.
* CRV1 when the treatment varies within a single cluster: the cluster score sums vanish
  identically, pyfixest reports a standard error of order 1e-17; the curve reports none.

Memory: one estimation sample at a time. Its demeaned block (N x p doubles) is filled a few
columns at a time and the residual products are formed a run of clusters at a time, so that
the block dominates what is allocated.

The curve-level null test's wild cluster restricted bootstrap (:func:`wild_draws`) runs on the
same estimation samples and demeaned blocks: per model it forms, once, the cluster sums that
make its coefficient and cluster scores linear in the draw's weights, and every batch of draws
is then a few matrix products (the derivation is in :func:`wild_draws`; it equals refitting
each draw with ``feols`` to about 1e-11).
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from citydip.errors import CitydipError

#: Variance estimators: cluster-robust (CRV1, one-way by the cluster column), HC1, iid.
VCOV_TYPES = ("CRV1", "hetero", "iid")
#: pyfixest's name of each estimator in its small-sample routine.
_SSC_TYPE = {"CRV1": "CRV", "hetero": "hetero", "iid": "iid"}
#: Default tolerance of the alternating projections, relative to each column's magnitude (see
#: ``_power_of_two_scale``): tight enough that every coefficient and standard error is that of
#: the exact within transformation to about 1e-12 relative. pyfixest's own default (1e-6,
#: absolute) leaves relative errors near 1e-8 in the standard errors of unbalanced samples.
FIXEF_TOL = 1e-12
FIXEF_MAXITER = 10_000
#: pyfixest's default collinearity tolerance (``feols(collin_tol=...)``).
COLLIN_TOL = 1e-9
#: A CRV1 meat below this share of the sum of squared scores is rounding noise: the score sums
#: of the clusters vanish identically, as when the treatment varies within a single cluster
#: (pyfixest then reports a standard error near 1e-17; the curve reports none).
DEGENERATE = 1e-12


@dataclass(frozen=True)
class Model:
    """One regression of the curve (a specification without its variance estimator)."""

    data: str
    outcome: str
    treatment: str
    controls: tuple[str, ...]
    fixed_effects: tuple[str, ...]
    sample: str


@dataclass(frozen=True)
class Settings:
    """Estimation options shared by every model (see :func:`citydip.estimation.speccurve.spec_curve`)."""

    vcov: tuple[str, ...] = ("CRV1",)
    cluster: str = "cbsa_code"
    fixef_rm: str = "singleton"
    ssc: Mapping | None = None
    fixef_tol: float = FIXEF_TOL
    fixef_maxiter: int = FIXEF_MAXITER
    collin_tol: float = COLLIN_TOL


@dataclass
class Estimates:
    """Per model: focal coefficient, its variance and t degrees of freedom per estimator
    (columns in the order of ``Settings.vcov``), sample size, clusters, and notes as pairs
    (estimator the note concerns or None for all, text).
    ``scale``: per model and estimator, the factor that turns the estimator's sum of squares
    into the variance (``variance = scale * meat`` with the meats of :func:`_solve`: the
    small-sample factor, times ``bread_tt / (N - 1)`` for iid).
    ``demeaned_bytes`` sums the demeaned blocks over samples; ``largest_block_bytes`` is
    the biggest one (the memory that must be held at once)."""

    coefficient: np.ndarray
    variance: np.ndarray
    df_t: np.ndarray
    nobs: np.ndarray
    n_clusters: np.ndarray
    notes: list[list[tuple[str | None, str]]]
    scale: np.ndarray | None = None
    n_samples: int = 0
    demeaned_bytes: int = 0
    largest_block_bytes: int = 0


# -- column access -----------------------------------------------------------------------------------
class Columns:
    """Numeric values, finiteness and integer codes of one panel's columns, computed on demand."""

    def __init__(self, frame: pd.DataFrame, name: str):
        self.frame = frame
        self.name = name
        self.n = len(frame)
        self._values: dict[str, np.ndarray] = {}
        self._finite: dict[str, np.ndarray] = {}
        self._codes: dict[str, np.ndarray] = {}

    def values(self, column: str) -> np.ndarray:
        """The column as a numeric array (a view where possible; bool and int kept as they are)."""
        if column not in self._values:
            series = self.frame[column]
            if isinstance(series.dtype, np.dtype) and series.dtype.kind in "biuf":
                values = series.to_numpy()
            else:
                try:
                    values = series.to_numpy(dtype="float64", na_value=np.nan)
                except (TypeError, ValueError) as exc:
                    raise CitydipError(f"data {self.name!r}: column {column!r} is not numeric "
                                       f"(dtype {series.dtype})") from exc
            self._values[column] = values
        return self._values[column]

    def finite(self, column: str) -> np.ndarray:
        """Rows where the column is finite (pyfixest drops NaN and infinite values alike)."""
        if column not in self._finite:
            values = self.values(column)
            self._finite[column] = np.isfinite(values) if values.dtype.kind == "f" else self._all()
        return self._finite[column]

    def _all(self) -> np.ndarray:
        if "" not in self._finite:
            self._finite[""] = np.ones(self.n, bool)
        return self._finite[""]

    def codes(self, column: str) -> np.ndarray:
        """Integer codes of a grouping column (fixed effect or cluster), -1 where missing."""
        if column not in self._codes:
            self._codes[column] = pd.factorize(self.frame[column], use_na_sentinel=True)[0].astype(np.int32)
        return self._codes[column]


# -- the estimator -----------------------------------------------------------------------------------
def estimate(frames: Mapping[str, pd.DataFrame], samples: Mapping[str, Mapping[str, np.ndarray]],
             models: Sequence[Model], settings: Settings) -> Estimates:
    """Fit ``models``. ``frames`` maps data names to panels; ``samples[data][label]`` is the
    boolean row mask of each sample on that panel.

    BLAS runs single-threaded here: the products are small and many, and a multi-threaded
    BLAS spends more time synchronising than computing (ten times slower when another process
    holds a core). pyfixest's demeaning keeps its own threads."""
    with _single_threaded_blas():
        return _estimate(frames, samples, models, settings)


def _single_threaded_blas():
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # threadpoolctl comes with scikit-learn; without it, BLAS keeps its threads
        return contextlib.nullcontext()
    return threadpool_limits(limits=1, user_api="blas")


def _estimate(frames, samples, models, settings, null: _WildNull | None = None) -> Estimates:
    import pyfixest as pf

    ssc = dict(settings.ssc) if settings.ssc is not None else pf.ssc()
    n_models, n_vcov = len(models), len(settings.vcov)
    out = Estimates(coefficient=np.full(n_models, np.nan), variance=np.full((n_models, n_vcov), np.nan),
                    df_t=np.full((n_models, n_vcov), np.nan), nobs=np.zeros(n_models, np.int64),
                    n_clusters=np.zeros(n_models, np.int64), notes=[[] for _ in models],
                    scale=np.full((n_models, n_vcov), np.nan))
    columns = {name: Columns(frame, name) for name, frame in frames.items()}
    clustered = "CRV1" in settings.vcov
    patterns: dict[tuple, int] = {}  # (data, fixed effects, packed row mask) -> group
    groups: list[tuple[tuple, list[int]]] = []
    keys: dict[tuple, int] = {}  # (data, sample, fixed effects, variables) -> group
    for i, m in enumerate(models):
        variables = (m.outcome, m.treatment, *m.controls)
        key = (m.data, m.sample, m.fixed_effects, frozenset(variables))
        if key not in keys:
            cols = columns[m.data]
            mask = np.asarray(samples[m.data][m.sample], dtype=bool).copy()
            for v in variables:
                mask &= cols.finite(v)
            for f in m.fixed_effects:
                mask &= cols.codes(f) >= 0
            pattern = (m.data, m.fixed_effects, np.packbits(mask).tobytes())
            if pattern not in patterns:
                patterns[pattern] = len(groups)
                groups.append((pattern, []))
            keys[key] = patterns[pattern]
        groups[keys[key]][1].append(i)
    del patterns, keys
    for (data, fe, packed), members in groups:
        _fit_sample(columns[data], packed, fe, [models[i] for i in members], members, settings, ssc, clustered, out,
                    null)
    return out


def _fit_sample(cols: Columns, packed: bytes, fe: tuple[str, ...], models: list[Model], index: list[int],
                settings: Settings, ssc: dict, clustered: bool, out: Estimates,
                null: _WildNull | None = None) -> None:
    """Fit the models that share one estimation sample (``packed``: its row mask before
    singleton removal, as bits); with ``null``, then draw their wild bootstrap (:func:`_wild`)."""
    from pyfixest.estimation import detect_singletons

    rows = np.flatnonzero(np.unpackbits(np.frombuffer(packed, np.uint8), count=cols.n))
    rows = rows.astype(np.int32) if cols.n < 2**31 else rows
    notes: list[str] = []
    flist = None
    if fe and len(rows):
        flist = _fe_codes(cols, fe, rows)
        if settings.fixef_rm == "singleton":
            single = detect_singletons(flist)
            if single.any():
                notes.append(f"{int(single.sum())} singleton observation(s) dropped")
                rows = rows[~single]
                flist = _fe_codes(cols, fe, rows)
    n = len(rows)
    for i in index:
        out.nobs[i] = n
        out.notes[i].extend((None, note) for note in notes)
    if n == 0:
        for i in index:
            out.notes[i].append((None, "no observations"))
        return
    starts = clusters = None
    n_clusters = 0
    if clustered or null is not None:  # rows sorted by cluster: each cluster's scores are then one contiguous run
        clusters = cols.codes(settings.cluster)[rows]
        if (clusters < 0).any():
            raise CitydipError(f"data {cols.name!r}: the cluster column {settings.cluster!r} is missing in "
                               f"{int((clusters < 0).sum())} estimation rows")
        order = np.argsort(clusters, kind="stable")
        rows, clusters = rows[order], clusters[order]
        if flist is not None:
            flist = flist[order]
        del order
        starts = np.flatnonzero(np.r_[True, clusters[1:] != clusters[:-1]])
        n_clusters = len(starts)
        if clustered:
            out.n_clusters[index] = n_clusters
    names = list(dict.fromkeys(v for m in models for v in (m.outcome, m.treatment, *m.controls)))
    position = {v: j for j, v in enumerate(names)}
    block = _demeaned_block(cols, rows, names, flist, settings)
    del rows
    out.n_samples += 1
    out.demeaned_bytes += block.nbytes
    out.largest_block_bytes = max(out.largest_block_bytes, block.nbytes)
    # small-sample inputs shared by the sample's models (as pyfixest's Feols.vcov computes them)
    k_fe = (flist.max(axis=0).astype(np.int64) + 1) if fe else np.zeros(0, np.int64)
    nested = (0, 0)
    if clustered and fe and ssc["k_fixef"] == "nonnested":
        nested = _nested(fe, settings.cluster, flist, clusters, k_fe)
    weight_rows = null.rows[cols.name][clusters[starts]] if null is not None else None
    if null is None:
        del flist
    del clusters
    gram = block.T @ block
    specs = []  # (model position, outcome column, regressor columns, treatment position in them)
    for m, i in zip(models, index):
        regressors = [position[m.treatment]] + [position[c] for c in m.controls]
        regressors, tpos, note = _drop_collinear(gram, regressors, 0, names, settings.collin_tol)
        if note:
            out.notes[i].append((None, note))
        if tpos is None:
            continue
        specs.append((i, position[m.outcome], regressors, tpos))
    if specs:
        _solve(block, gram, specs, starts, n_clusters, k_fe, nested, fe, settings, ssc, out)
        if null is not None:
            _wild(block, gram, specs, starts, weight_rows, flist, fe, settings, out, null)


def _fe_codes(cols: Columns, fe: tuple[str, ...], rows: np.ndarray) -> np.ndarray:
    """Fixed-effect codes 0..k-1 on ``rows`` (N x effects, uint64 as pyfixest's demeaner takes them)."""
    codes = np.empty((len(rows), len(fe)), np.uint64)
    for j, f in enumerate(fe):
        codes[:, j] = pd.factorize(cols.codes(f)[rows])[0]
    return codes


def _demeaned_block(cols: Columns, rows: np.ndarray, names: list[str], flist: np.ndarray | None,
                    settings: Settings) -> np.ndarray:
    """The columns ``names`` on ``rows``, demeaned by the fixed effects (N x p, Fortran order).
    Without fixed effects the columns are centred: the intercept partialled out (FWL), which
    keeps the normal equations well conditioned when levels dwarf the variation."""
    from pyfixest.estimation import demean

    n, p = len(rows), len(names)
    block = np.empty((n, p), order="F")
    if flist is None:
        for j, v in enumerate(names):
            block[:, j] = cols.values(v)[rows]
            block[:, j] -= block[:, j].mean()
        return block
    weights = np.ones(n)
    width = max(1, math.ceil(p / 8))  # a few columns per call keeps the raw copy small
    for start in range(0, p, width):
        chunk = names[start:start + width]
        raw = np.empty((n, len(chunk)))
        for j, v in enumerate(chunk):
            raw[:, j] = cols.values(v)[rows]
        scale = _power_of_two_scale(raw)
        raw /= scale
        demeaned, converged = demean(raw, flist, weights, tol=settings.fixef_tol, maxiter=settings.fixef_maxiter)
        if not converged:
            raise CitydipError(f"data {cols.name!r}: demeaning {chunk} did not converge in "
                               f"{settings.fixef_maxiter} iterations (tolerance {settings.fixef_tol:g}); "
                               "raise fixef_maxiter or fixef_tol")
        demeaned *= scale
        block[:, start:start + len(chunk)] = demeaned
        del raw, demeaned
    return block


def _power_of_two_scale(raw: np.ndarray) -> np.ndarray:
    """Per column, the power of two at or above its largest absolute value (1 for a zero
    column). Dividing by it is exact, and makes the demeaning tolerance, which pyfixest's
    routine applies to absolute changes, relative to the column's magnitude (export levels in
    dollars would otherwise stall at rounding noise above any small tolerance)."""
    top = np.max(np.abs(raw), axis=0)
    top = np.where(np.isfinite(top) & (top > 0), top, 1.0)
    return np.exp2(np.ceil(np.log2(top)))


def _nested(fe: tuple[str, ...], cluster: str, flist: np.ndarray, clusters: np.ndarray,
            k_fe: np.ndarray) -> tuple[int, int]:
    """Fixed-effect levels nested in the clusters and the number of fully nested effects."""
    from citydip.estimation._pyfixest import count_fixef_fully_nested_all

    flag, n_nested = count_fixef_fully_nested_all(
        all_fixef_array=np.array(fe, dtype=str), cluster_colnames=np.array([cluster], dtype=str),
        cluster_data=clusters.reshape(-1, 1).astype(np.uintp), fe_data=flist.astype(np.uintp, copy=False))
    return (int(np.sum(k_fe[np.asarray(flag, bool)])) if n_nested > 0 else 0), int(n_nested)


def _drop_collinear(gram: np.ndarray, regressors: list[int], tpos: int, names: list[str], tol: float):
    """pyfixest's collinearity rule on the model's Gram block: regressors whose Cholesky pivot
    falls under ``tol`` are dropped; a dropped treatment leaves the model unestimated."""
    from citydip.estimation._pyfixest import find_collinear_variables

    xtx = np.ascontiguousarray(gram[np.ix_(regressors, regressors)])
    excluded, n_excluded, all_removed = find_collinear_variables(xtx, tol)
    if n_excluded == 0:
        return regressors, tpos, None
    excluded = np.asarray(excluded, bool)
    if all_removed or excluded[tpos]:
        return regressors, None, (f"{names[regressors[tpos]]} has no variation left after the fixed effects "
                                  "and the other regressors (collinear): not estimated")
    dropped = [names[j] for j, e in zip(regressors, excluded) if e]
    kept = [j for j, e in zip(regressors, excluded) if not e]
    return kept, tpos - int(excluded[:tpos].sum()), f"dropped as collinear: {', '.join(dropped)}"


def _solve(block, gram, specs, starts, n_clusters, k_fe, nested, fe, settings, ssc, out) -> None:
    """Coefficients by batched normal equations (models grouped by size), then the variance of
    the focal coefficient under each estimator. Without fixed effects the intercept, partialled
    out of the block, still counts in K."""
    from citydip.estimation._pyfixest import get_ssc

    n, p = block.shape
    s = len(specs)
    w_u = np.zeros((p, s))  # u = block @ w_u: the residuals
    w_z = np.zeros((p, s))  # z = block @ w_z: the regressors times the bread's treatment row
    bread_tt = np.full(s, np.nan)
    k_of = np.zeros(s, np.int64)
    by_size: dict[int, list[int]] = {}
    for j, (_, _, regressors, _) in enumerate(specs):
        by_size.setdefault(len(regressors), []).append(j)
    for k, members in by_size.items():
        reg = np.array([specs[j][2] for j in members])
        outcome = np.array([specs[j][1] for j in members])
        tpos = np.array([specs[j][3] for j in members])
        xtx = gram[reg[:, :, None], reg[:, None, :]]
        rhs = np.zeros((len(members), k, 2))
        rhs[:, :, 0] = gram[reg, outcome[:, None]]
        rhs[np.arange(len(members)), tpos, 1] = 1.0
        try:
            sol = np.linalg.solve(xtx, rhs)
        except np.linalg.LinAlgError:
            sol = np.stack([_solve_one(a, b) for a, b in zip(xtx, rhs)])
        for row, j in enumerate(members):
            i = specs[j][0]
            beta, r = sol[row, :, 0], sol[row, :, 1]
            if not (np.isfinite(beta).all() and np.isfinite(r).all()):
                out.notes[i].append((None, "singular cross-product matrix: not estimated"))
                continue
            out.coefficient[i] = beta[tpos[row]]
            bread_tt[j] = r[tpos[row]]
            k_of[j] = k + (0 if fe else 1)
            w_u[outcome[row], j] = 1.0
            np.subtract.at(w_u[:, j], reg[row], beta)
            np.add.at(w_z[:, j], reg[row], r)
    # One pass over the block, a run of whole clusters at a time: u = block @ w_u and z = block @
    # w_z for every model at once, reduced to the sums each estimator needs. The run length
    # keeps the temporaries (3 x rows x models doubles) under half the block.
    need_z = any(v != "iid" for v in settings.vcov)
    weights = np.concatenate([w_u, w_z], axis=1) if need_z else w_u
    rss, squares, meat = np.zeros(s), np.zeros(s), np.zeros(s)
    for lo, hi, local in _runs(n, starts, max(1, block.nbytes // (2 * 8 * 3 * s))):
        uz = block[lo:hi] @ weights
        u = uz[:, :s]
        rss += np.einsum("ij,ij->j", u, u)
        if need_z:
            u = u * uz[:, s:]  # products u_i z_i
            squares += np.einsum("ij,ij->j", u, u)
            if "CRV1" in settings.vcov:
                sums = np.add.reduceat(u, local, axis=0)
                meat += np.einsum("ij,ij->j", sums, sums)
        del uz, u
    variance = {"iid": bread_tt * rss / (n - 1), "hetero": squares, "CRV1": meat}
    factors: dict[tuple[str, int], tuple[float, float]] = {}
    for j, (i, _, _, _) in enumerate(specs):
        if not np.isfinite(out.coefficient[i]):
            continue
        for col, v in enumerate(settings.vcov):
            key = (v, int(k_of[j]))
            if key not in factors:
                G = {"CRV1": n_clusters, "hetero": n, "iid": 1}[v]
                factors[key] = _ssc_factor(get_ssc, ssc, n, int(k_of[j]), k_fe, nested if v == "CRV1" else (0, 0),
                                           len(fe), G, v)
            adj, df_t = factors[key]
            if not (np.isfinite(adj) and adj > 0 and df_t > 0):
                out.notes[i].append((v, "fewer than 2 clusters" if v == "CRV1" and n_clusters < 2
                                     else "no residual degrees of freedom"))
                continue
            if v == "CRV1" and not variance[v][j] > DEGENERATE * squares[j]:
                out.notes[i].append((v, "the cluster score sums vanish (the treatment varies in a single cluster): "
                                        "no cluster-robust standard error"))
                continue
            out.variance[i, col] = adj * variance[v][j]
            out.df_t[i, col] = df_t
            out.scale[i, col] = adj * (bread_tt[j] / (n - 1) if v == "iid" else 1.0)


def _ssc_factor(get_ssc, ssc, n, k, k_fe, nested, n_fe, G, vcov) -> tuple[float, float]:
    """pyfixest's small-sample factor and t degrees of freedom (inf factor when undefined)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        try:
            adj, _, df_t = get_ssc(ssc_dict=ssc, N=n, k=k, k_fe=int(np.sum(k_fe)), k_fe_nested=nested[0],
                                   n_fe=n_fe, n_fe_fully_nested=nested[1], G=G, vcov_sign=1,
                                   vcov_type=_SSC_TYPE[vcov])
        except ZeroDivisionError:
            return math.inf, 0.0
    return float(np.asarray(adj).ravel()[0]), float(df_t)


def _runs(n: int, starts: np.ndarray | None, length: int):
    """Row ranges ``[lo, hi)`` of about ``length`` rows made of whole clusters (``starts``: first
    row of each cluster; None: any split), with the cluster starts relative to ``lo``."""
    if starts is None:
        for lo in range(0, n, length):
            yield lo, min(n, lo + length), None
        return
    bounds = np.unique(np.r_[starts[np.searchsorted(starts, np.arange(0, n, length), side="right") - 1], n])
    for lo, hi in zip(bounds[:-1], bounds[1:]):
        local = starts[(starts >= lo) & (starts < hi)] - lo
        yield int(lo), int(hi), local


def _solve_one(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    try:
        return np.linalg.solve(a, b)
    except np.linalg.LinAlgError:
        return np.full_like(b, np.nan)


# -- the wild cluster restricted bootstrap -------------------------------------------------------------
#: Elements (doubles) of the largest temporary of a batch of draws (clusters x models x draws).
WILD_CHUNK = 2**21
#: Eigenvalues of the fixed-effect Gram block below this share of its largest are taken as zero
#: (the exact collinearity of two-way fixed effects, blurred by the demeaning tolerance).
WILD_PINV_TOL = 1e-9
#: Largest number of fixed-effect levels not nested in the clusters that the bootstrap handles
#: (they are held as a dense rows x levels matrix).
WILD_MAX_LEVELS = 5_000


@dataclass
class _WildNull:
    """Inputs and outputs of :func:`wild_draws`: ``weights`` (clusters x draws, one row per
    cluster label), ``rows[data]`` the weights row of each cluster code of that data set,
    ``wanted`` (models x estimators) the draws asked for; ``coefficient`` (models x draws) and
    ``std_error`` (models x estimators x draws) are filled in."""

    weights: np.ndarray
    rows: dict[str, np.ndarray]
    wanted: np.ndarray
    coefficient: np.ndarray
    std_error: np.ndarray


def wild_draws(frames: Mapping[str, pd.DataFrame], samples: Mapping[str, Mapping[str, np.ndarray]],
               models: Sequence[Model], settings: Settings, weights: np.ndarray, labels: pd.Index,
               wanted: np.ndarray | None = None) -> tuple[Estimates, np.ndarray, np.ndarray]:
    """Fit ``models`` (as :func:`estimate`) and draw the wild cluster restricted bootstrap of
    every focal coefficient under the null that it is zero, with the design held fixed.

    ``weights``: one row per cluster (``labels``, values of ``settings.cluster`` in any data
    set) and one column per draw: the multiplier of the cluster's restricted residuals in that
    draw (Rademacher signs for the curve-level test); a cluster has the same weight in every
    model, sample and data set of a draw. ``wanted`` (models x estimators, default all): the
    standard errors to draw. Returns the estimates, the coefficients (models x draws) and the
    standard errors (models x estimators x draws) of the draws, NaN where not drawn.

    For a model ``y ~ x + C | FE`` on its estimation sample (demeaned columns ``y~, x~, C~``,
    ``X~ = [x~, C~]``, ``R = (X~'X~)^-1``), the restricted model (``y ~ C | FE``, the null
    imposed) has fitted values ``f`` and residuals ``e = M_C~ y~``; draw ``d`` is
    ``y* = f + v_g(i) e_i`` with ``v`` the cluster weights, refitted with the same design:

    * coefficient: ``b* = z'y* = sum_g v_g a_g`` with ``z = X~ R e_x`` (the treatment's row of
      the projection; ``z'f = 0`` as ``f`` lies in the span of the controls and fixed effects)
      and ``a_g = sum_{i in g} z_i e_i``: for all models at once, a matrix product;
    * residuals: ``u* = M_[FE, X] (v o e) = v o e - P_F (v o e) - X~ R X~'(v o e)``, where
      ``F`` is the dummies of the fixed effects not nested in the clusters, demeaned by those
      nested in them (``v o e`` is orthogonal to the nested ones: ``v`` is constant and ``e``
      sums to zero within each of their levels); ``X~'(v o e) = W'v`` and ``F'(v o e) = Y'v``
      with ``W``, ``Y`` the cluster sums of ``x~_i e_i`` and of the level dummies times ``e_i``;
    * CRV1 scores: ``s_h = sum_{i in h} z_i u*_i = a_h v_h - P_h W'v - Q_h Y'v`` with ``P_h``
      and ``Q_h`` the cluster sums of ``z_i x~_i'`` (times ``R``) and of ``z_i`` times the
      level dummies (times ``(F'F)^+``): per model a matrix of rank ``k + levels`` applied to
      the weights; HC1 and iid sum ``(z_i u*_i)^2`` and ``u*_i^2`` over rows instead (slower:
      rows, not clusters);
    * standard error: the observed estimator's factor (small-sample correction and, for iid,
      the bread) times that sum, square-rooted.

    Everything but the products with the weights is computed once per estimation sample."""
    labels = pd.Index(labels)
    if weights.ndim != 2 or weights.shape[0] != len(labels):
        raise CitydipError(f"wild bootstrap: weights of shape {weights.shape} for {len(labels)} clusters")
    n_models, n_vcov = len(models), len(settings.vcov)
    wanted = np.ones((n_models, n_vcov), bool) if wanted is None else np.asarray(wanted, bool)
    rows = {}
    for name, frame in frames.items():
        uniques = pd.factorize(frame[settings.cluster], use_na_sentinel=True)[1]
        rows[name] = labels.get_indexer(uniques)
        if (rows[name] < 0).any():
            raise CitydipError(f"wild bootstrap: clusters of data {name!r} have no weights")
    draws = weights.shape[1]
    null = _WildNull(np.ascontiguousarray(weights, dtype=float), rows, wanted, np.full((n_models, draws), np.nan),
                     np.full((n_models, n_vcov, draws), np.nan))
    with _single_threaded_blas():
        est = _estimate(frames, samples, models, settings, null)
    return est, null.coefficient, null.std_error


def _wild(block, gram, specs, starts, weight_rows, flist, fe, settings, out, null: _WildNull) -> None:
    """The bootstrap draws of the models of one estimation sample (see :func:`wild_draws`)."""
    n = block.shape[0]
    todo = [spec for spec in specs if np.isfinite(out.coefficient[spec[0]])
            and (null.wanted[spec[0]] & np.isfinite(out.variance[spec[0]])).any()]
    if not todo:
        return
    n_clusters = len(starts)
    cluster = np.repeat(np.arange(n_clusters), np.diff(np.r_[starts, n]))  # of each row
    by_rows = any(v != "CRV1" and null.wanted[spec[0], col] for spec in todo for col, v in enumerate(settings.vcov))
    levels = _fe_levels(flist, fe, cluster, n_clusters, settings, dense=by_rows)
    weights = null.weights[weight_rows]  # clusters of the sample x draws
    by_size: dict[int, list] = {}
    for spec in todo:
        by_size.setdefault(len(spec[2]), []).append(spec)
    for k, members in by_size.items():
        width = max(1, (1 << 21) // (n * k))  # models per batch: n x models x k temporaries of 16 MiB at most
        for start in range(0, len(members), width):
            _wild_batch(block, gram, members[start:start + width], starts, cluster, levels, weights, settings,
                        out, null)


@dataclass
class _Levels:
    """Fixed-effect levels not nested in the clusters: ``sums`` (a sparse clusters*levels x rows
    matrix: ``sums @ w`` gives the sum of ``w`` over each cluster and level), ``pinv`` (``(F'F)^+``,
    levels x levels) and ``basis`` (``F``, rows x levels, only when asked for)."""

    count: int
    sums: object
    pinv: np.ndarray
    basis: np.ndarray | None


def _fe_levels(flist, fe, cluster, n_clusters, settings, dense: bool) -> _Levels | None:
    """:class:`_Levels` of an estimation sample (None when every fixed effect is nested in the
    clusters). Without fixed effects the intercept is the one level (the engine centres)."""
    from scipy import sparse

    n = len(cluster)
    if not fe:
        codes, nested = [np.zeros(n, np.int64)], []
    else:
        nested = [j for j in range(len(fe)) if _is_nested(flist[:, j], cluster, n_clusters)]
        codes = [flist[:, j].astype(np.int64) for j in range(len(fe)) if j not in nested]
    if not codes:
        return None
    sizes = [int(c.max()) + 1 for c in codes]
    count = sum(sizes)
    if count > WILD_MAX_LEVELS:
        raise CitydipError(f"wild bootstrap: {count} fixed-effect levels not nested in the clusters (at most "
                           f"{WILD_MAX_LEVELS})")
    offsets = np.cumsum([0, *sizes[:-1]])
    columns = np.concatenate([off + c for off, c in zip(offsets, codes)])
    row_of = np.tile(np.arange(n), len(codes))
    sums = sparse.csr_matrix((np.ones(len(columns)), (np.tile(cluster, len(codes)) * count + columns, row_of)),
                             shape=(n_clusters * count, n))
    basis = np.zeros((n, count), order="F")
    basis[row_of, columns] = 1.0
    if nested:
        from pyfixest.estimation import demean

        basis, converged = demean(basis, np.ascontiguousarray(flist[:, nested]), np.ones(n), tol=settings.fixef_tol,
                                  maxiter=settings.fixef_maxiter)
        if not converged:
            raise CitydipError("wild bootstrap: demeaning the fixed-effect dummies did not converge")
    gram = basis.T @ basis
    values, vectors = np.linalg.eigh(gram)
    keep = values > WILD_PINV_TOL * max(values.max(), 0.0)
    pinv = (vectors[:, keep] / values[keep]) @ vectors[:, keep].T
    return _Levels(count, sums, pinv, np.asfortranarray(basis) if dense else None)


def _is_nested(codes: np.ndarray, cluster: np.ndarray, n_clusters: int) -> bool:
    """Whether every level of a fixed effect lies within one cluster."""
    codes = codes.astype(np.int64)
    return len(np.unique(codes * n_clusters + cluster)) == len(np.unique(codes))


def _wild_batch(block, gram, specs, starts, cluster, levels, weights, settings, out, null) -> None:
    """Draws of a batch of models with the same number ``k`` of regressors (one sample)."""
    n, p = block.shape
    s = len(specs)
    index = np.array([spec[0] for spec in specs])
    outcome = np.array([spec[1] for spec in specs])
    reg = np.array([spec[2] for spec in specs])  # s x k
    tpos = np.array([spec[3] for spec in specs])
    k = reg.shape[1]
    bread = np.linalg.inv(gram[reg[:, :, None], reg[:, None, :]])  # s x k x k: (X~'X~)^-1
    # restricted residuals e = y~ - C~ gamma and the projection row z = X~ R e_x
    w_e = np.zeros((p, s))
    w_e[outcome, np.arange(s)] = 1.0
    if k > 1:
        controls = reg[np.arange(k)[None, :] != tpos[:, None]].reshape(s, k - 1)
        gamma = np.linalg.solve(gram[controls[:, :, None], controls[:, None, :]],
                                gram[controls, outcome[:, None]][:, :, None])[:, :, 0]
        np.subtract.at(w_e, (controls, np.arange(s)[:, None]), gamma)
    w_z = np.zeros((p, s))
    np.add.at(w_z, (reg, np.arange(s)[:, None]), bread[np.arange(s), tpos])
    e, z = block @ w_e, block @ w_z  # n x s
    x = block[:, reg]  # n x s x k
    a = np.add.reduceat(z * e, starts, axis=0).T  # s x clusters
    w = np.add.reduceat(x * e[:, :, None], starts, axis=0)  # clusters x s x k
    pz = np.einsum("gsk,skl->gsl", np.add.reduceat(x * z[:, :, None], starts, axis=0), bread)
    if levels is not None:
        n_clusters, count = len(starts), levels.count
        y_e = (levels.sums @ e).reshape(n_clusters, count, s).transpose(0, 2, 1)
        q_z = (levels.sums @ z).reshape(n_clusters, count, s).transpose(0, 2, 1) @ levels.pinv
        w, pz = np.concatenate([w, y_e], axis=2), np.concatenate([pz, q_z], axis=2)
    right = np.ascontiguousarray(w.transpose(1, 2, 0))  # s x r x clusters: (W | Y)'
    left = np.ascontiguousarray(pz.transpose(1, 0, 2))  # s x clusters x r: (P | Q)
    r = right.shape[1]
    wanted = null.wanted[index] & np.isfinite(out.variance[index])
    scale = out.scale[index]
    crv = [col for col, v in enumerate(settings.vcov) if v == "CRV1" and wanted[:, col].any()]
    by_rows = [(col, v) for col, v in enumerate(settings.vcov) if v != "CRV1" and wanted[:, col].any()]
    if by_rows:  # rows x r per model: the projections onto X~ and F, times R and (F'F)^+
        fitted = [np.concatenate([x[:, j] @ bread[j]] + ([levels.basis @ levels.pinv] if levels is not None else []),
                                 axis=1) for j in range(s)]
    draws = weights.shape[1]
    step = max(1, min(draws, WILD_CHUNK // max(s * len(starts), n if by_rows else 1)))
    for lo in range(0, draws, step):
        v = np.ascontiguousarray(weights[:, lo:lo + step])
        null.coefficient[index, lo:lo + step] = a @ v
        if not (crv or by_rows):
            continue
        t = (right.reshape(s * r, -1) @ v).reshape(s, r, -1)  # (W | Y)'v per model
        if crv:  # model by model: the clusters x draws buffers stay in cache
            scores, product, meat = np.empty(v.shape), np.empty(v.shape), np.empty((s, v.shape[1]))
            for j in range(s):
                np.matmul(left[j], t[j], out=scores)
                np.multiply(a[j][:, None], v, out=product)
                scores -= product
                meat[j] = np.einsum("gd,gd->d", scores, scores)
            for col in crv:
                with np.errstate(invalid="ignore"):
                    null.std_error[index, col, lo:lo + step] = np.where(
                        wanted[:, col, None], np.sqrt(scale[:, col, None] * meat), np.nan)
        if by_rows:
            v_rows = v[cluster]
            for j in range(s):
                u = e[:, j, None] * v_rows - fitted[j] @ t[j]
                for col, kind in by_rows:
                    if wanted[j, col]:
                        meat = np.einsum("id,id->d", u, u) if kind == "iid" else \
                            np.einsum("id,id->d", u * z[:, j, None], u * z[:, j, None])
                        null.std_error[index[j], col, lo:lo + step] = np.sqrt(scale[j, col] * meat)
