"""The wild cluster restricted bootstrap (WCR) against an exact, independent computation: on a
panel with few clusters (G = 10), all 2^G Rademacher sign vectors are enumerated, each
bootstrap sample refitted with explicit metro dummies by least squares, and the exact p-value
(share of |t*| > |t|) compared with citydip's, whose draws are a parameter."""

from __future__ import annotations

import itertools
import warnings

import numpy as np
import pandas as pd
import pytest

from citydip.estimation import EstimationWarning, ModelSpec, fit

G, T = 10, 8


def small_panel(seed: int, beta: float) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    metro = np.repeat([f"{90000 + g}" for g in range(G)], T)
    year = np.tile(np.arange(2005, 2005 + T), G)
    alpha = np.repeat(rng.normal(0, 1, G), T)
    shock = np.repeat(rng.normal(0, 0.5, G), T)            # within-cluster correlation
    x1 = rng.normal(0, 1, G * T) + 0.5 * shock
    x2 = rng.normal(0, 1, G * T)
    y = alpha + beta * x1 + 0.3 * x2 + shock + rng.normal(0, 1, G * T) * np.repeat(rng.uniform(0.5, 2, G), T)
    return pd.DataFrame({"cbsa_code": metro, "year": year, "y": y, "x1": x1, "x2": x2})


def exact_wcr_p(data: pd.DataFrame, fixed_effects: bool) -> tuple[float, float]:
    """Exact WCR p-value for H0: coefficient of x1 = 0, enumerating every sign vector, as the
    share of |t*| > |t| with the ties counted out and in. The sign vectors +1 and -1 are ties
    in exact arithmetic (y* = y and y* = fit - residual give t* = t and t* = -t), so the two
    differ by 2 / 2^G; floating point puts each tie on either side."""
    groups = pd.factorize(data.cbsa_code, sort=True)[0]
    dummies = np.eye(G)[groups] if fixed_effects else np.ones((len(data), 1))
    X = np.column_stack([data.x1, data.x2, dummies])
    Xr = np.column_stack([data.x2, dummies])
    y = data.y.to_numpy()
    restricted_fit = Xr @ np.linalg.lstsq(Xr, y, rcond=None)[0]
    restricted_resid = y - restricted_fit
    XtX_inv = np.linalg.inv(X.T @ X)
    row = XtX_inv[0] @ X.T                                 # b1 = row @ y

    def t_stat(ys: np.ndarray) -> np.ndarray:              # ys: n x draws
        b = np.linalg.lstsq(X, ys, rcond=None)[0]
        e = ys - X @ b
        scores = np.zeros((G, ys.shape[1]))
        np.add.at(scores, groups, row[:, None] * e)        # per cluster: sum_i row_i e_i
        return b[0] / np.sqrt((scores ** 2).sum(axis=0))   # the scalar small-sample factor cancels

    t0 = abs(t_stat(y[:, None])[0])
    signs = np.array(list(itertools.product((-1.0, 1.0), repeat=G)))   # 2^G x G
    ystar = restricted_fit[:, None] + signs.T[groups] * restricted_resid[:, None]
    tb = np.abs(t_stat(ystar))
    tol = 1e-9 * t0
    return float(np.mean(tb > t0 + tol)), float(np.mean(tb >= t0 - tol))


@pytest.mark.parametrize("fixed_effects", [True, False], ids=["metro FE", "pooled"])
@pytest.mark.parametrize("seed,beta", [(1, 0.0), (2, 0.25), (3, 0.1)])
def test_wild_bootstrap_matches_exact_enumeration(seed, beta, fixed_effects):
    data = small_panel(seed, beta)
    low, high = exact_wcr_p(data, fixed_effects)
    assert high - low == pytest.approx(2 / 2 ** G)
    fe = ("cbsa_code",) if fixed_effects else ()
    draws = 1999
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", EstimationWarning)
        ours = fit(data, ModelSpec("wcr", "ols", "y", ("x1", "x2"), fixed_effects=fe, vcov="wild", draws=draws,
                                   seed=seed))
    p = ours.p_value["x1"]
    assert ours.reference == "bootstrap" and ours.n_clusters == G
    # 2^10 = 1,024 < 1,999 draws: wildboottest enumerates every sign vector, so p is exact
    # (up to the two ties)
    assert low - 1e-12 <= p <= high + 1e-12, (p, low, high)


def test_wild_bootstrap_monte_carlo_error_and_warnings():
    data = small_panel(4, 0.1)
    exact = exact_wcr_p(data, True)[0]
    draws = 400                                            # fewer than 2^G: random sign vectors
    ours = fit(data, ModelSpec("wcr", "ols", "y", ("x1", "x2"), fixed_effects=("cbsa_code",), vcov="wild",
                               draws=draws, seed=7))
    mc_se = np.sqrt(max(exact * (1 - exact), 1 / draws) / draws)
    assert abs(ours.p_value["x1"] - exact) < 4 * mc_se + 1 / draws
    assert f"{draws} Rademacher draws" in " ".join(ours.notes)
    assert "few clusters (G = 10)" == ours.inference_flag
    # with more draws than sign vectors, the full enumeration is announced, not silenced
    with pytest.warns(EstimationWarning, match="wild bootstrap"):
        fit(data, ModelSpec("wcr", "ols", "y", ("x1", "x2"), fixed_effects=("cbsa_code",), vcov="wild", draws=5000))
