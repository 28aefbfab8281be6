"""Tree ensembles on the metro cross-section: predictive importance, partial dependence and
pairwise interaction strength of the diplomacy measures.

What the anchor paper did
-------------------------
Haddad, Rose & Bhagat (2025, *Urban Studies*, doi:10.1177/00420980251359124) took the 100
largest U.S. metros and their exports 2005-2019 as a cross-section and fitted *interaction
forests* with effect importance measures (EIM) from the R package ``diversityForest``
(Hornung & Boulesteix 2022). Interaction forests split on pairs of variables at once
("bivariable splits") and the EIM rate univariable and pairwise (interaction) effects. The
paper finds that sister cities, consulates general and city-network memberships all go
with higher exports, consulates general most strongly, and that the relationships differ
with metro size.

What is done here
-----------------
``diversityForest`` has no Python implementation, so :func:`forest_analysis` mirrors the
design, not the algorithm:

* the same cross-section: one row per metro, the means over the sample years of the
  outcome and of every feature, after dropping metro-years with a missing value in any of
  them (as the between regression M1 of :mod:`citydip.estimation.catalogue` does);
* a scikit-learn ``RandomForestRegressor`` (default) or ``GradientBoostingRegressor``,
  seeded and single-threaded, so the same seed gives identical numbers. There is no
  interaction-forest split type: trees split on one variable at a time;
* fit: out-of-fold R^2 of ``cv_folds``-fold cross-validation (shuffled, seeded), pooled
  over the folds, for both models; for the random forest also the out-of-bag R^2 of the
  forest fitted on all metros;
* importance instead of EIM: permutation importance on the held-out fold of each
  cross-validation split, ``n_repeats`` permutations per fold (seeded); the importance of a
  feature is the drop in held-out R^2 when its values are shuffled; ``mean`` and ``sd`` are
  over the ``cv_folds * n_repeats`` values (the spread across folds and permutations, not a
  standard error). Held-out data keep the importance from rewarding what the trees merely
  memorised. :func:`permutation_importance_r2` gives the numbers of
  ``sklearn.inspection.permutation_importance(scoring="r2")`` (the same permutations) but
  predicts all permuted copies of a fold at once;
* partial dependence curves (brute force: the mean prediction over all metros with the
  feature set to a grid value) of every feature, from the model fitted on all metros, on
  the grid of ``sklearn.inspection.partial_dependence`` (:func:`pdp_grid`), all grid
  values of a feature predicted at once;
* interaction strength instead of the pairwise EIM: Friedman's H statistic for every pair
  of features (Friedman & Popescu 2008, "Predictive learning via rule ensembles", *Annals of
  Applied Statistics* 2(3), 916-954, eq. 44), computed from partial dependence functions
  evaluated at the sample's own points (see :func:`friedman_h2`). No library in the stack
  provides it. The pairs of a diplomacy measure with ``log_population`` are the
  counterpart of the anchor's interactions with metro size.

The ranking of the diplomacy features by importance (``ForestResult.ranking``) is set
beside the anchor's (consulates general strongest; the anchor's abstract does not order
the other two measures, so only that rank is recorded).

How to read the numbers
-----------------------
Importance here is *predictive*, not causal: a feature is important when the fitted model
predicts held-out metros' exports worse without it. Correlated features (diplomacy
measures rise with metro size and with each other) share or swap importance, and a feature
that only proxies for size can rank high. With about 100 metros the forests, curves and H
statistics are descriptive summaries of one cross-section with wide sampling variation,
not estimates of effects; the fixed-effects models of the catalogue are the estimates.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from itertools import combinations
from typing import Any

import numpy as np
import pandas as pd

from citydip.errors import CitydipError

#: The anchor's three measures (consulates general, as in the anchor) and the controls of M1.
DEFAULT_FEATURES = ("sister_active", "consulates_general", "networks_dated", "log_population",
                    "log_per_capita_income")
#: Seed of every random step (forest, folds, permutations, H subsample).
DEFAULT_SEED = 20250101
MODELS = ("random_forest", "gradient_boosting")
#: Panel-column prefixes of the diplomacy measures (everything else is a control).
DIPLOMACY_PREFIXES = ("sister_", "consular_", "consulates_", "networks_", "net_", "diplomacy_index")
#: The anchor's strongest measure; either consulate count stands for it.
ANCHOR_FIRST = ("consulates_general", "consular_posts")
#: Smallest number of metros the cross-validation accepts.
MIN_METROS = 10

IMPORTANCE_COLUMNS = ["feature", "mean", "sd", "rank", "diplomacy"]
RANKING_COLUMNS = ["feature", "mean", "sd", "rank", "rank_all", "anchor_rank"]
PDP_COLUMNS = ["feature", "value", "prediction"]
INTERACTION_COLUMNS = ["feature_a", "feature_b", "h2", "interaction_sd"]


@dataclass
class ForestResult:
    """Outputs of :func:`forest_analysis` (tidy tables; see the module doc)."""

    model: str                 #: 'random_forest' or 'gradient_boosting'
    outcome: str               #: outcome column (metro mean over the years)
    features: tuple[str, ...]  #: feature columns (metro means), in the order given
    seed: int
    n_metros: int              #: metros in the cross-section (rows of ``data``)
    years: tuple[int, ...]     #: panel years that entered the means
    r2_cv: float               #: pooled out-of-fold R^2 of the cross-validation
    r2_oob: float              #: out-of-bag R^2 of the forest on all metros (NaN for gradient boosting)
    importance: pd.DataFrame   #: feature, mean, sd, rank (1 = most important), diplomacy (bool)
    ranking: pd.DataFrame      #: diplomacy features only: feature, mean, sd, rank, rank_all, anchor_rank
    pdp: pd.DataFrame          #: feature, value, prediction (partial dependence, outcome units)
    interactions: pd.DataFrame  #: feature_a, feature_b, h2, interaction_sd; by h2, largest first
    data: pd.DataFrame         #: the cross-section: cbsa_code, outcome, features
    estimator: Any = None      #: the scikit-learn model fitted on all metros
    settings: dict = field(default_factory=dict)  #: n_estimators, cv_folds, n_repeats, ...
    notes: list[str] = field(default_factory=list)

    @property
    def agrees_with_anchor(self) -> bool | None:
        """Whether the consulate measure ranks first among the diplomacy features (None if absent)."""
        first = self.ranking[self.ranking.anchor_rank == 1]
        if first.empty:
            return None
        return bool(first["rank"].iloc[0] == 1)


def is_diplomacy(feature: str) -> bool:
    """Whether a panel column is a diplomacy measure (sister cities, consulates, networks)."""
    return feature.startswith(DIPLOMACY_PREFIXES)


def cross_section(panel: pd.DataFrame, outcome: str, features: Sequence[str],
                  years: Iterable[int] | None = None) -> tuple[pd.DataFrame, list[str], tuple[int, ...]]:
    """One row per metro: means over ``years`` (all panel years if None) of ``outcome`` and
    ``features``, after dropping metro-years with any of them missing. Sorted by CBSA code.
    Also returns notes on what was dropped and the years that entered the means."""
    need = [outcome, *features]
    missing = sorted({"cbsa_code", "year", *need} - set(panel.columns))
    if missing:
        raise CitydipError(f"forest analysis: the panel has no columns {missing}")
    if len(set(need)) < len(need):
        raise CitydipError(f"forest analysis: outcome and features must be distinct, got {need}")
    notes: list[str] = []
    data = panel[["cbsa_code", "year", *need]].copy()
    if years is not None:
        years = sorted({int(y) for y in years})
        data = data[data.year.isin(years)]
    if data.empty:
        raise CitydipError(f"forest analysis: no metro-years in the years {years}")
    for column in need:
        data[column] = data[column].astype("float64")
    before = len(data)
    data = data.dropna(subset=need)
    if len(data) < before:
        notes.append(f"{before - len(data)} metro-years dropped for missing values in {need}")
    if data.empty:
        raise CitydipError(f"forest analysis: no metro-year has all of {need}")
    means = data.groupby("cbsa_code", sort=True)[need].mean().reset_index()
    dropped = panel.cbsa_code.nunique() - len(means)
    if dropped:
        notes.append(f"{dropped} metro(s) without a complete metro-year left out")
    notes.append(f"cross-section of {len(means)} metros: means over {data.year.nunique()} years "
                 f"({int(data.year.min())}-{int(data.year.max())})")
    return means, notes, tuple(sorted(int(v) for v in data.year.unique()))


def _estimator(model: str, n_estimators: int, seed: int):
    from sklearn.ensemble import GradientBoostingRegressor, RandomForestRegressor

    if model == "random_forest":
        # As ranger's regression defaults: mtry = floor(sqrt(p)), minimum node size 5.
        return RandomForestRegressor(n_estimators=n_estimators, max_features="sqrt", min_samples_leaf=5,
                                     bootstrap=True, oob_score=True, random_state=seed, n_jobs=1)
    if model == "gradient_boosting":
        return GradientBoostingRegressor(n_estimators=n_estimators, learning_rate=0.02, max_depth=3,
                                         min_samples_leaf=5, subsample=0.8, random_state=seed)
    raise CitydipError(f"forest analysis: model must be one of {MODELS}, got {model!r}")


def forest_analysis(
    panel: pd.DataFrame,
    *,
    outcome: str = "log_exports",
    features: Sequence[str] = DEFAULT_FEATURES,
    seed: int = DEFAULT_SEED,
    n_estimators: int = 500,
    model: str = "random_forest",
    years: Iterable[int] | None = None,
    cv_folds: int = 5,
    n_repeats: int = 10,
    grid_resolution: int = 20,
    interaction_points: int | None = None,
) -> ForestResult:
    """Fit a tree ensemble to the metro cross-section of ``panel`` and summarise it.

    ``panel`` has one row per metro-year (``cbsa_code``, ``year``, ``outcome``, ``features``).
    ``years`` restricts the years averaged over (default: every year of the panel; the
    anchor's window is ``range(2005, 2020)``). ``model`` is ``'random_forest'`` (500 trees,
    ``max_features='sqrt'``, ``min_samples_leaf=5``) or ``'gradient_boosting'`` (learning
    rate 0.02, depth 3, ``min_samples_leaf=5``, subsample 0.8). ``cv_folds`` and
    ``n_repeats`` set the cross-validation and the permutations per held-out fold;
    ``grid_resolution`` the points of each partial dependence curve (between the 5th and
    95th percentiles, or every distinct value if fewer); ``interaction_points`` caps the
    metros used for Friedman's H (a seeded subsample; default: all). Single-threaded and
    seeded throughout: the same arguments give identical results.
    """
    from sklearn.base import clone
    from sklearn.metrics import r2_score
    from sklearn.model_selection import KFold

    features = tuple(features)
    if not features:
        raise CitydipError("forest analysis: no features given")
    if cv_folds < 2 or n_repeats < 1 or n_estimators < 1 or grid_resolution < 2:
        raise CitydipError("forest analysis: cv_folds >= 2, n_repeats >= 1, n_estimators >= 1 and "
                           "grid_resolution >= 2 are required")
    base = _estimator(model, n_estimators, seed)
    data, notes, used_years = cross_section(panel, outcome, features, years)
    if len(data) < max(MIN_METROS, cv_folds):
        raise CitydipError(f"forest analysis: {len(data)} metros are too few (at least "
                           f"{max(MIN_METROS, cv_folds)} needed)")
    X = data[list(features)].to_numpy(dtype="float64")
    y = data[outcome].to_numpy(dtype="float64")
    n = len(X)

    # -- cross-validation: out-of-fold R^2 and held-out permutation importance ----------------------
    folds = KFold(n_splits=cv_folds, shuffle=True, random_state=seed)
    # The folds' forests need no out-of-bag score; it is computed after the trees are grown,
    # so leaving it out does not change them.
    fold_base = clone(base).set_params(oob_score=False) if model == "random_forest" else base
    oof = np.empty(n)
    draws = []
    for k, (train, test) in enumerate(folds.split(X)):
        fitted = clone(fold_base).fit(X[train], y[train])
        oof[test] = fitted.predict(X[test])
        draws.append(permutation_importance_r2(fitted, X[test], y[test], n_repeats=n_repeats,
                                               random_state=seed + k))
    values = np.concatenate(draws, axis=1)  # p x (cv_folds * n_repeats)
    r2_cv = float(r2_score(y, oof))

    estimator = clone(base).fit(X, y)
    r2_oob = float(estimator.oob_score_) if model == "random_forest" else float("nan")

    importance = pd.DataFrame({"feature": list(features), "mean": values.mean(axis=1),
                               "sd": values.std(axis=1, ddof=1)})
    importance["rank"] = _rank(importance["mean"])
    importance["diplomacy"] = importance.feature.map(is_diplomacy).astype(bool)
    importance = importance.sort_values(["rank", "feature"], kind="stable").reset_index(drop=True)
    ranking = importance[importance.diplomacy].rename(columns={"rank": "rank_all"}).copy()
    ranking["rank"] = _rank(ranking["mean"])
    ranking["anchor_rank"] = pd.array([1 if f in ANCHOR_FIRST else pd.NA for f in ranking.feature], dtype="Int64")
    ranking = ranking[RANKING_COLUMNS].reset_index(drop=True)
    if ranking.empty:
        notes.append("no diplomacy feature among the features: the ranking table is empty")

    # -- partial dependence ---------------------------------------------------------------------------
    curves = []
    for j, name in enumerate(features):
        grid = pdp_grid(X[:, j], grid_resolution, name=name)
        at = np.zeros((len(grid), X.shape[1]))  # only column j of the points is read
        at[:, j] = grid
        curves.append(pd.DataFrame({"feature": name, "value": grid,
                                    "prediction": partial_dependence_at(estimator, X, [j], points=at)}))
    pdp = pd.concat(curves, ignore_index=True)[PDP_COLUMNS]

    # -- Friedman's H for every pair --------------------------------------------------------------------
    points = X
    if interaction_points is not None and interaction_points < n:
        pick = np.sort(np.random.default_rng(seed).choice(n, size=interaction_points, replace=False))
        points = X[pick]
        notes.append(f"Friedman's H on a seeded subsample of {interaction_points} of {n} metros")
    interactions = interaction_table(estimator, points, features)

    notes.append(f"{model}: {n_estimators} trees, seed {seed}; {cv_folds}-fold cross-validation; permutation "
                 f"importance = drop in held-out R^2, {n_repeats} permutations per fold")
    settings = {"n_estimators": n_estimators, "cv_folds": cv_folds, "n_repeats": n_repeats,
                "grid_resolution": grid_resolution, "interaction_points": interaction_points,
                "estimator_params": estimator.get_params()}
    return ForestResult(model, outcome, features, seed, n, used_years, r2_cv, r2_oob,
                        importance[IMPORTANCE_COLUMNS], ranking, pdp, interactions, data, estimator, settings, notes)


def permutation_importance_r2(model, X: np.ndarray, y: np.ndarray, *, n_repeats: int,
                              random_state=None) -> np.ndarray:
    """Permutation importance with R^2 as score: a ``(n_features, n_repeats)`` array of the
    R^2 on ``X, y`` minus the R^2 with one column shuffled.

    Equal to ``sklearn.inspection.permutation_importance(model, X, y, scoring="r2",
    n_repeats=n_repeats, random_state=random_state).importances``, with the same
    permutations, but ``X`` and all its ``n_features * n_repeats`` permuted copies are
    stacked into one matrix and predicted in a single call (for a forest, one pass over the
    trees instead of one per copy). Row by row the predictions are those of separate calls.

    The permutations follow scikit-learn: one seed ``s`` is drawn from ``random_state``;
    each column starts a fresh ``RandomState(s)`` and an index array ``0..n-1``; before each
    repeat the index array is shuffled in place (the shuffles accumulate) and the column as
    permuted in the previous repeat is re-indexed by it.
    """
    from sklearn.utils import check_random_state

    predict = _predictor(model)
    X = np.asarray(X, dtype="float64")
    y = np.asarray(y, dtype="float64")
    n, p = X.shape
    seed = check_random_state(random_state).randint(np.iinfo(np.int32).max + 1)
    blocks = np.broadcast_to(X, (1 + p * n_repeats, n, p)).copy()  # block 0: X as it is
    for j in range(p):
        rng = np.random.RandomState(seed)
        order = np.arange(n)
        column = X[:, j].copy()
        for r in range(n_repeats):
            rng.shuffle(order)
            column = column[order]
            blocks[1 + j * n_repeats + r, :, j] = column
    predictions = np.asarray(predict(blocks.reshape(-1, p)), dtype="float64").reshape(len(blocks), n)
    scores = _r2_rows(y, predictions)
    return scores[0] - scores[1:].reshape(p, n_repeats)


def _r2_rows(y: np.ndarray, predictions: np.ndarray) -> np.ndarray:
    """R^2 of each row of ``predictions`` against ``y``, as ``sklearn.metrics.r2_score``:
    ``1 - sum (y - yhat)^2 / sum (y - mean y)^2``; with constant ``y``, 1 for a perfect
    prediction and 0 otherwise; NaN for fewer than two observations."""
    if len(y) < 2:
        return np.full(len(predictions), np.nan)
    numerator = np.sum((y - predictions) ** 2, axis=1)
    denominator = np.sum((y - np.mean(y)) ** 2)
    if denominator == 0:
        return np.where(numerator == 0, 1.0, 0.0)
    return 1 - numerator / denominator


def pdp_grid(x: np.ndarray, grid_resolution: int, percentiles: tuple[float, float] = (0.05, 0.95),
             name: str = "feature") -> np.ndarray:
    """The grid of a partial dependence curve of the values ``x``, as scikit-learn's
    ``partial_dependence`` builds it: the sorted distinct values if there are fewer than
    ``grid_resolution``, else ``grid_resolution`` evenly spaced points from the lower to the
    upper percentile (both included).

    The percentiles are ``scipy.stats.mstats.mquantiles`` with its defaults
    ``alphap = betap = 0.4``: the quantile at probability ``q`` interpolates linearly
    between order statistics at position ``n q + 0.4 + 0.2 q`` (1-based), not at
    ``(n - 1) q + 1`` as ``numpy.quantile``'s default does.
    """
    from scipy.stats.mstats import mquantiles

    x = np.asarray(x, dtype="float64")
    uniques = np.unique(x)
    if len(uniques) < grid_resolution:
        return uniques
    low, high = np.asarray(mquantiles(x, prob=percentiles, axis=0), dtype="float64")
    if np.allclose(low, high):
        raise CitydipError(f"forest analysis: the {percentiles} percentiles of {name} coincide; "
                           "no grid for its partial dependence")
    return np.linspace(low, high, num=grid_resolution, endpoint=True)


def _rank(values: pd.Series) -> np.ndarray:
    """1 = largest; ties share the smaller rank."""
    return values.rank(ascending=False, method="min").astype("int64").to_numpy()


# -- Friedman's H ---------------------------------------------------------------------------------------
def _predictor(model) -> Callable[[np.ndarray], np.ndarray]:
    return model if callable(model) and not hasattr(model, "predict") else model.predict


def partial_dependence_at(model, X: np.ndarray, columns: Sequence[int], points: np.ndarray | None = None,
                          chunk_rows: int = 200_000) -> np.ndarray:
    """The partial dependence function of ``columns`` evaluated at ``points`` (default: the
    rows of ``X``): for each point, the mean prediction over the rows of ``X`` with the
    ``columns`` set to the point's values. ``model`` has ``predict`` or is a callable."""
    predict = _predictor(model)
    X = np.asarray(X, dtype="float64")
    columns = list(columns)
    at = X[:, columns] if points is None else np.asarray(points, dtype="float64")[:, columns]
    unique, inverse = np.unique(at, axis=0, return_inverse=True)
    m = len(X)
    out = np.empty(len(unique))
    per_chunk = max(1, chunk_rows // m)
    for start in range(0, len(unique), per_chunk):
        values = unique[start:start + per_chunk]
        block = np.tile(X, (len(values), 1))
        block[:, columns] = np.repeat(values, m, axis=0)
        out[start:start + len(values)] = np.asarray(predict(block), dtype="float64").reshape(len(values), m).mean(1)
    return out[np.asarray(inverse).ravel()]


def friedman_h2(model, X: np.ndarray, a: int, b: int, *, _single: dict | None = None) -> tuple[float, float]:
    """Friedman's H^2 of features ``a`` and ``b`` (column indices of ``X``) and the s.d. of
    their pure interaction component, from partial dependence at the rows of ``X``.

    With ``F_S`` the partial dependence of feature set ``S`` evaluated at each row ``i`` and
    centred to mean zero over the rows (Friedman & Popescu 2008, eq. 44)::

        H^2_ab = sum_i [F_ab(x_ia, x_ib) - F_a(x_ia) - F_b(x_ib)]^2 / sum_i F_ab(x_ia, x_ib)^2

    the share of the joint effect of ``a`` and ``b`` that is not the sum of their separate
    effects: 0 for an additive function, 1 when the joint effect is pure interaction (it can
    exceed 1 when the separate effects offset each other). When
    the pair has no joint effect at all (denominator numerically zero) H^2 is 0. The second
    value, ``sqrt(numerator / n)``, is the interaction component's s.d. in outcome units
    (H^2 can be large for a pair of features that barely matter).
    """
    X = np.asarray(X, dtype="float64")
    single = _single if _single is not None else {}
    for j in (a, b):
        if j not in single:
            single[j] = _centred(partial_dependence_at(model, X, [j]))
    joint = _centred(partial_dependence_at(model, X, [a, b]))
    rest = joint - single[a] - single[b]
    numerator, denominator = float(np.sum(rest ** 2)), float(np.sum(joint ** 2))
    if "scale" not in single:  # the same for every pair of a table
        single["scale"] = float(np.sum(_centred(np.asarray(_predictor(model)(X), dtype="float64")) ** 2))
    scale = single["scale"]
    tolerance = 1e-12 * max(scale, denominator, 1e-300)
    if denominator <= tolerance:
        return 0.0, 0.0
    if numerator <= tolerance:
        numerator = 0.0
    return numerator / denominator, float(np.sqrt(numerator / len(X)))


def _centred(v: np.ndarray) -> np.ndarray:
    return v - v.mean()


def interaction_table(model, X: np.ndarray, names: Sequence[str]) -> pd.DataFrame:
    """Friedman's H^2 (and interaction s.d.) for every pair of the columns of ``X``,
    largest H^2 first (ties in the order of ``names``)."""
    names = list(names)
    X = np.asarray(X, dtype="float64")
    if X.shape[1] != len(names):
        raise CitydipError(f"interaction table: {X.shape[1]} columns but {len(names)} names")
    single: dict = {}
    rows = []
    for a, b in combinations(range(len(names)), 2):
        h2, sd = friedman_h2(model, X, a, b, _single=single)
        rows.append({"feature_a": names[a], "feature_b": names[b], "h2": h2, "interaction_sd": sd})
    table = pd.DataFrame(rows, columns=INTERACTION_COLUMNS)
    return table.sort_values("h2", ascending=False, kind="stable").reset_index(drop=True)
