"""Small-sample conventions for standard errors, in one place.

Two conventions, chosen by ``ModelSpec.convention``:

* ``fixest`` (default): pyfixest's defaults (``pyfixest.ssc()``), as R's fixest.
* ``stata``: Stata 13's ``regress`` (pooled OLS) and ``xtreg, fe`` (one-way unit fixed
  effects) with ``vce(ols|robust|cluster)``, unweighted or ``[aweight=w]``. Checked
  coefficient by coefficient (estimate, t, p-value, variance matrix) against Stata's own
  output on a simulated panel, with and without missing values
  (``tests/estimation/test_stata.py``).

Notation: N observations in the estimation sample; K estimated coefficients including the
intercept (for ``xtreg, fe``, the slopes plus the intercept absorbed by the unit effects);
U units (unit fixed effects); G clusters; RSS the (weighted) residual sum of squares. For
``iid`` the entry is the divisor d of ``s2 = RSS/d`` in ``V = s2 (X'X)^-1``; otherwise it is
the factor multiplying the sandwich ``(X'X)^-1 (sum of score outer products) (X'X)^-1``. The
p-value is ``2 P(T > |t|)`` with T following the listed t distribution::

    model       vce              stata                          fixest
    ----------  ---------------  -----------------------------  -----------------------------
    pooled OLS  iid              d = N-K;              t(N-K)   same
    pooled OLS  hetero (HC1)     N/(N-K);              t(N-K)   same
    pooled OLS  cluster          (N-1)/(N-K) G/(G-1);  t(G-1)   same
    unit FE     iid              d = N-U-K+1;      t(N-U-K+1)   same
    unit FE     hetero           as cluster by unit             N/(N-U-K+1);  t(N-U-K+1)
    unit FE     cluster by unit  (N-1)/(N-K) G/(G-1);  t(G-1)   same, N and G net of singletons

Unit fixed effects nested in the clusters are not counted in the cluster factor: that is
``xtreg, fe`` (and pyfixest's ``k_fixef='nonnested'``), not ``regress`` with unit dummies,
which would give ``(N-1)/(N-U-K+1)``. Where the two conventions differ:

* ``hetero`` with unit fixed effects: ``xtreg, fe vce(robust)`` is ``vce(cluster unit)``
  (Stata replaces heteroskedasticity-robust errors, inconsistent with fixed effects in
  short panels, by errors clustered on the panel variable), so the ``stata`` convention
  clusters by ``unit``; ``fixest`` gives plain HC1 with the effects counted in the factor.
* Singletons (units with one observation in the sample): ``fixest`` drops them before
  estimation; ``stata`` keeps them as ``xtreg, fe`` does. They carry no information about
  the slopes, but they count in N, U and G, hence in the cluster factor (with the iid
  factor, N-U is the same either way).
* p-values: the same reference distributions; ``stata`` computes the tail probability
  directly (``2 t.sf(|t|, df)``) so that p-values far below 1e-16 are accurate to Stata's
  printed digits, where ``1 - cdf`` would round them to zero.

Analytic weights (``weights``): Stata rescales ``[aweight=w]`` to sum to N; pyfixest does
not. All three factors above are invariant to the scale of the weights (the weighted
residual sum of squares and ``(X'WX)^-1`` scale inversely), so estimates, standard errors,
t and p agree without rescaling; N is the number of rows, not the sum of weights.

For models outside ``regress``/``xtreg, fe`` (two-way effects, Poisson) the ``stata``
convention applies the same rules: every fixed effect not nested in the clusters counts in
K, and singletons are kept.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from citydip.estimation.spec import ModelSpec

#: Fewer clusters (or, for Driscoll-Kraay and the time dimension of two-way clustering, fewer
#: periods) than this and a result is flagged: cluster-robust and HAC variances are
#: asymptotic in that dimension and can be far too small with few of them.
FEW = 30


@dataclass(frozen=True)
class InferenceRule:
    """How one kind of variance is scaled and which distribution its t statistics and Wald
    tests are referred to (``df`` in words)."""

    vcov: str
    factor: str
    reference: str
    df: str


#: THE INFERENCE RULE of citydip (``fixest`` convention; README, "Inference"), applied to every
#: table, figure and test: t statistics are referred to t(df) (``reference`` "t"), the normal
#: ("normal"), or the bootstrap distribution ("bootstrap"); q linear restrictions (Wald) to
#: F(q, df) with statistic W / q (the event studies' pre-trend tests: F(leads, G - 1)), or chi2(q)
#: where the reference is the normal. N observations, K coefficients (K_fe: fixed effects not
#: nested in the clusters included), G clusters (event studies: metros in the event-study
#: sample), T periods.
RULES: dict[str, InferenceRule] = {r.vcov: r for r in (
    InferenceRule("iid", "s2 = RSS / (N - K_fe)", "t", "N - K_fe"),
    InferenceRule("hetero", "HC1: N / (N - K_fe)", "t", "N - K_fe"),
    InferenceRule("cluster", "CRV1: G/(G-1) (N-1)/(N-K), K without effects nested in the clusters", "t", "G - 1"),
    InferenceRule("twoway", "CRV1 per dimension (Cameron-Gelbach-Miller), each G_d/(G_d-1) (N-1)/(N-K)", "t",
                  "min(G_metro, G_year) - 1"),
    InferenceRule("driscoll_kraay", "Bartlett kernel, lag window floor(4 (T/100)^(2/9)); T/(T-1) (N-1)/(N-K_fe)",
                  "t", "T - 1"),
    InferenceRule("wild", "restricted wild cluster bootstrap (WCR), Rademacher weights by cluster, "
                  "9,999 draws, seeded; p = share of |t*| > |t|", "bootstrap", "-"),
    InferenceRule("poisson", "PPML with the cluster rule's factor", "normal", "inf"),
    InferenceRule("between", "HC1 on metro means: N / (N - K)", "t", "N - K"),
    InferenceRule("did2s", "Gardner (2022) two-stage GMM sandwich clustered by metro, first-stage estimation "
                  "error included; no small-sample factor (as R's did2s)", "t", "G - 1"),
    InferenceRule("sun_abraham", "W V W' with V the saturated regression's CRV1 (as cluster), W the cohort shares",
                  "t", "G - 1"),
)}


def rule(spec: ModelSpec) -> InferenceRule:
    """The inference rule of a model (Poisson and between regressions have their own row)."""
    if spec.family == "between":
        return RULES["between"]
    if spec.family == "poisson" and spec.vcov not in ("wild",):
        return RULES["poisson"]
    return RULES[spec.vcov]


def reference(spec: ModelSpec) -> str:
    """``"t"``, ``"normal"`` or ``"bootstrap"``: the distribution of the model's t statistics."""
    if spec.convention == "stata" and spec.family == "poisson":
        return "t"
    return rule(spec).reference


def inference_flag(spec: ModelSpec, n_clusters: int | None, n_periods: int | None) -> str:
    """A warning for the tables when the variance rests on few clusters or few periods."""
    notes = []
    if spec.vcov in ("cluster", "wild", "twoway") and n_clusters is not None and n_clusters < FEW:
        notes.append(f"few clusters (G = {n_clusters})")
    if spec.vcov in ("twoway", "driscoll_kraay") and n_periods is not None and n_periods < FEW:
        notes.append(f"few periods (T = {n_periods})")
    return "; ".join(notes)


def pyfixest_ssc(spec: ModelSpec) -> dict:
    """The ``ssc`` argument of pyfixest for this spec's convention."""
    import pyfixest as pf

    if spec.convention == "stata":
        # Stated in full rather than left to pyfixest's defaults, so that the Stata
        # convention does not move if those defaults do.
        return pf.ssc(k_adj=True, k_fixef="nonnested", G_adj=True, G_df="min")
    return pf.ssc()


def pyfixest_vcov(spec: ModelSpec, vcov, unit_column: str):
    """The ``vcov`` argument of pyfixest: under ``stata``, heteroskedasticity-robust errors
    with unit fixed effects are clustered by unit, as ``xtreg, fe vce(robust)``."""
    if spec.convention == "stata" and spec.vcov == "hetero" and spec.unit in spec.fixed_effects:
        return {"CRV1": unit_column}
    return vcov


def keeps_singletons(spec: ModelSpec) -> bool:
    """Whether units observed once stay in the sample (``stata``) or are dropped (``fixest``)."""
    return spec.convention == "stata"


def pyfixest_fixef_rm(spec: ModelSpec) -> str:
    """The ``fixef_rm`` argument of pyfixest."""
    return "none" if keeps_singletons(spec) else "singleton"


def p_values(spec: ModelSpec, statistic: pd.Series, df: float, default: pd.Series) -> pd.Series:
    """Two-sided p-values: ``default`` (pyfixest's) under ``fixest``; under ``stata`` the
    tail probability of t(``df``) computed directly, accurate for very small p."""
    if spec.convention != "stata":
        return default
    from scipy import stats

    return pd.Series(2.0 * stats.t.sf(np.abs(statistic.to_numpy(dtype=float)), df), index=statistic.index)
