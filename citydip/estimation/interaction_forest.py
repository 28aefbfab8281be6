"""Interaction forests with effect importance measures (EIM), the anchor paper's own method.

Haddad, Rose & Bhagat (2025) analysed metro exports with the interaction forests of Hornung &
Boulesteix (2022, "Interaction forests: identifying and exploiting interpretable quantitative
and qualitative interaction effects", *Computational Statistics & Data Analysis* 171:107460),
implemented in the R package diversityForest (GPL-3). :func:`interaction_forest` is an
independent Python implementation for a continuous outcome (regression), written from the
method as the paper (its Section 2) and ``shared/reference/interaction_forests/README.md``
describe it; no code of the R package was read, copied or translated. Its numeric core (numba) is
:mod:`citydip.estimation._iforest_core`. Classification and survival outcomes, which the R
package also offers, are not implemented.

The algorithm
-------------
*The forest*. ``num_trees`` regression trees, each grown on
``floor(0.7 n)`` rows drawn without replacement; a node with at most ``min_node_size`` (5) rows,
or with a constant outcome, is a leaf; a leaf predicts the mean outcome of its in-bag rows.

*Candidate splits*. At each node ``npairs`` variable pairs (default
``ceil(sqrt(p) / 2)``, 2 for five features) are drawn without replacement from all
``p (p - 1) / 2`` pairs, each in random order ``(a, b)``. Each pair yields seven candidate splits:

* two **univariable** splits, ``x_a <= u_a`` and ``x_b <= u_b``;
* four **quantitative** splits: the rows in one rectangle ("corner") against the rest --
  ``x_a small AND x_b small``, ``small AND large``, ``large AND small``, ``large AND large``,
  where "small" is ``x <= t`` and "large" ``x > t``;
* one **qualitative** split: "both small or both large" against the two mixed corners.

Split points are drawn at random, not searched:

* a univariable split point: one of the node's distinct values of the variable, each equally
  likely, with the split halfway to the next larger value (drawing the largest value gives no
  candidate);
* the bivariable split points, shared by the five bivariable splits of a pair: ``t_a`` is the
  midpoint of two different distinct values of ``x_a`` drawn at random; ``t_b`` is drawn so that
  all four rectangles are non-empty (so that every one of the five splits is feasible): the
  midpoint of two observations with different values of ``x_b`` drawn at random among those whose
  ``x_b`` lies between the larger of the smallest ``x_b`` on either side of ``t_a`` and the smaller
  of the largest.

Of the (at most) ``7 npairs`` candidates the one with the largest decrease in squared error is
taken. The paper leaves the exact sampling of split points to the implementation; among the
readings of "a midpoint of two distinct randomly drawn values, the second chosen so that the
split is feasible" that were tried (distinct values or observations, independent or shared
points, feasibility by rejection or by range), this one reproduces the distributions of R's EIM
values over seeds on all four reference data sets (``tests/estimation/test_interaction_forest.py``),
including the two with discrete features, where the readings differ most.

*Effect importance*. The EIM of an effect -- a variable's univariable effect, a
pair's qualitative effect, or a pair's quantitative effect in one corner -- is, for each tree,
the mean squared error of the tree's out-of-bag rows after *randomised drop-down* minus that
without it, averaged over all trees (0 for a tree that has no split of the effect). In the
randomised drop-down an out-of-bag row reaching a split of the effect's type on that variable or
pair (for a quantitative effect: a split isolating that corner) goes to a child drawn at random
with probabilities proportional to the children's in-bag sizes, instead of by its values.

*Quantitative EIM, adjusted*. Two main effects also make the rectangle splits of
opposite corners useful (large x_a and large x_b go with high outcomes, small and small with low
ones). Each corner's EIM is therefore reduced by the positive part of the opposite corner's:
``adjusted(c) = EIM(c) - max(EIM(opposite c), 0)``. As in the R package, each pair is reported
once, with its largest adjusted value and that corner's name (``x1 large AND x2 large``, the
variables in column order).

*Out-of-bag fit*. The out-of-bag prediction of a row is the mean prediction of the trees for
which it was out of bag; ``oob_mse`` is the mean squared error of those predictions (rows that
were never out of bag left out) and ``r_squared = 1 - oob_mse / var(y)`` (``var`` with ``n - 1``).

Not implemented: the R package's shortcuts for large data (its ``simplify.large.n`` option, on by
default from about 1,000 rows, and a pre-selection of pairs when there are more than a few
thousand). Here every pair is always eligible and the EIM always come from the forest itself, so
on larger data the results follow the method, not R's defaults.

Reading EIM values
------------------
EIM values are predictive importances in units of squared outcome, not effects and not tests:
their randomness over seeds is reported by :meth:`InteractionForestResult.across_seeds`, and
neither package gives valid p-values for them. Strongly correlated features share and swap
importance; with about 100 metros every number is descriptive.

Bad input
---------
A :class:`~citydip.errors.CitydipError` names the problem: a missing column, a non-numeric or
missing/infinite value in the outcome or a feature (drop or fill such rows first; nothing is
dropped silently), a feature with fewer than two distinct values (it can never be split; drop
it), fewer than two features (no pair to split on), a constant outcome, or too few rows for a
tree's in-bag sample to exceed the minimum node size.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from itertools import combinations

import numpy as np
import pandas as pd

from citydip.errors import CitydipError

#: Seed of :func:`interaction_forest` (the same as the random forest's in :mod:`citydip.estimation.forest`).
DEFAULT_SEED = 20250101
NUM_TREES = 2000
MIN_NODE_SIZE = 5
SAMPLE_FRACTION = 0.7
#: Side names of a quantitative corner, as the R package writes them.
SIDES = ("small", "large")
KINDS = ("univariable", "qualitative", "quantitative")

UNIVARIABLE_COLUMNS = ["effect", "value", "rank", "splits"]
QUALITATIVE_COLUMNS = ["effect", "value", "rank", "variable_a", "variable_b", "splits"]
QUANTITATIVE_COLUMNS = ["effect", "value", "rank", "variable_a", "variable_b", "corner", "splits"]
CORNER_COLUMNS = ["effect", "variable_a", "variable_b", "corner", "eim", "adjusted", "reported", "splits"]
ACROSS_SEEDS_COLUMNS = ["kind", "effect", "pair", "mean", "sd", "seeds", "label_share", "rank_mean", "rank_sd",
                        "rank_min", "rank_max", "first_share"]


def default_npairs(p: int) -> int:
    """Pairs drawn per split: ``ceil(sqrt(p) / 2)`` (the paper's and R package's default)."""
    return max(1, math.ceil(math.sqrt(p) / 2))


def corner_name(a: str, b: str, corner: int) -> str:
    """The R package's name of corner ``corner`` (``2 * side_a + side_b``) of the pair ``(a, b)``."""
    return f"{a} {SIDES[corner >> 1]} AND {b} {SIDES[corner & 1]}"


@dataclass
class SeedStability:
    """EIM over several seeds (:meth:`InteractionForestResult.across_seeds`)."""

    effects: pd.DataFrame   #: one row per effect: :data:`ACROSS_SEEDS_COLUMNS`
    per_seed: pd.DataFrame  #: seed, kind, effect, pair, value, rank (rank within its kind; 1 = largest)
    fit: pd.DataFrame       #: seed, oob_mse, r_squared
    seeds: tuple[int, ...]

    def kind(self, kind: str) -> pd.DataFrame:
        """The rows of :attr:`effects` of one kind ('univariable', 'qualitative', 'quantitative')."""
        return self.effects[self.effects.kind == kind].reset_index(drop=True)


@dataclass
class InteractionForestResult:
    """An interaction forest and its EIM (:func:`interaction_forest`). EIM tables are sorted by
    value, largest first, with ``rank`` 1 for the largest and ``splits`` the number of splits of
    the effect in the forest."""

    outcome: str
    features: tuple[str, ...]
    seed: int
    num_trees: int
    npairs: int
    min_node_size: int
    sample_fraction: float
    n_rows: int
    eim_univariable: pd.DataFrame    #: :data:`UNIVARIABLE_COLUMNS`
    eim_qualitative: pd.DataFrame    #: :data:`QUALITATIVE_COLUMNS`, one row per pair
    eim_quantitative: pd.DataFrame   #: :data:`QUANTITATIVE_COLUMNS`, one row per pair: the largest adjusted corner
    eim_corners: pd.DataFrame        #: :data:`CORNER_COLUMNS`, every corner of every pair, raw and adjusted
    oob_mse: float
    r_squared: float
    oob_predictions: pd.Series       #: by the row index of ``data``; NaN for a row never out of bag
    notes: list[str] = field(default_factory=list)
    _X: np.ndarray | None = field(default=None, repr=False)
    _y: np.ndarray | None = field(default=None, repr=False)
    _forest: dict | None = field(default=None, repr=False)
    _n_jobs: int | None = field(default=None, repr=False)

    def __repr__(self) -> str:
        return (f"InteractionForestResult({self.outcome!r} on {len(self.features)} features, {self.n_rows} rows, "
                f"{self.num_trees} trees, seed {self.seed}; out-of-bag R² {self.r_squared:.3f})")

    @property
    def eim(self) -> pd.DataFrame:
        """All reported EIM values in one table: kind, effect, value, rank."""
        return pd.concat([t.assign(kind=k)[["kind", "effect", "value", "rank"]] for k, t in
                          zip(KINDS, (self.eim_univariable, self.eim_qualitative, self.eim_quantitative))],
                         ignore_index=True)

    @property
    def settings(self) -> dict:
        return {"num_trees": self.num_trees, "seed": self.seed, "npairs": self.npairs,
                "min_node_size": self.min_node_size, "sample_fraction": self.sample_fraction}

    def predict(self, data: pd.DataFrame) -> np.ndarray:
        """The forest's predictions (mean over all trees) for the rows of ``data``, which must
        have every feature, numeric and without missing values."""
        if self._forest is None:
            raise CitydipError("interaction forest: the trees were not kept (keep_forest=False); cannot predict")
        from citydip.estimation import _iforest_core as core

        X = _matrix(data, list(self.features), "data to predict")
        f = self._forest
        out = np.empty(len(X))
        with _threads(self._n_jobs):
            core.predict_forest(X, f["kind"], f["va"], f["vb"], f["ta"], f["tb"], f["left"], f["right"],
                                f["value"], f["offsets"], out)
        return out

    def across_seeds(self, seeds: Iterable[int] = range(1, 11), n_jobs: int | None = None) -> SeedStability:
        """Refit the forest on the same data and settings with each of ``seeds`` and summarise
        every effect: mean and standard deviation (ddof=1) of its EIM over the seeds, and how
        stable its rank within its kind is (mean, s.d., lowest and highest rank; share of seeds
        in which it ranks first). A quantitative effect is summarised by pair, since the corner
        reported for a pair can change between seeds: ``effect`` is the pair's most frequent
        corner name, ``label_share`` the share of seeds that report it, ``mean`` and ``sd`` are of
        the pair's reported (adjusted) value whatever its corner; ``seeds`` counts the seeds. The
        result's own seed, if among ``seeds``, is not refitted."""
        seeds = tuple(int(s) for s in seeds)
        if not seeds:
            raise CitydipError("interaction forest: across_seeds needs at least one seed")
        if len(set(seeds)) < len(seeds):
            raise CitydipError(f"interaction forest: repeated seeds in {seeds}")
        if self._X is None or self._y is None:
            raise CitydipError("interaction forest: the data were not kept; cannot refit")
        jobs = self._n_jobs if n_jobs is None else n_jobs
        rows, fits = [], []
        for s in seeds:
            r = self if s == self.seed else _fit(
                self._X, self._y, self.outcome, self.features, num_trees=self.num_trees, seed=s, n_jobs=jobs,
                npairs=self.npairs, min_node_size=self.min_node_size, sample_fraction=self.sample_fraction,
                keep_forest=False, index=None)
            fits.append({"seed": s, "oob_mse": r.oob_mse, "r_squared": r.r_squared})
            for kind, table in zip(KINDS, (r.eim_univariable, r.eim_qualitative, r.eim_quantitative)):
                pair = (table.variable_a + " AND " + table.variable_b) if kind != "univariable" else table.effect
                rows.append(pd.DataFrame({"seed": s, "kind": kind, "effect": table.effect, "pair": pair,
                                          "value": table.value, "rank": table["rank"]}))
        per_seed = pd.concat(rows, ignore_index=True)
        return SeedStability(summarise_seeds(per_seed), per_seed, pd.DataFrame(fits), seeds)


def summarise_seeds(per_seed: pd.DataFrame) -> pd.DataFrame:
    """:data:`ACROSS_SEEDS_COLUMNS` from a long table of seed, kind, effect, pair, value, rank
    (see :meth:`InteractionForestResult.across_seeds`), by kind and then by mean, largest first."""
    n_seeds = per_seed.seed.nunique()
    out = []
    for (kind, pair), g in per_seed.groupby(["kind", "pair"], sort=False):
        labels = g.effect.value_counts(sort=True)
        # most frequent label; ties go to the larger mean value of the label
        top = labels[labels == labels.iloc[0]].index
        label = max(top, key=lambda e: (g.value[g.effect == e].mean(), e)) if len(top) > 1 else top[0]
        out.append({"kind": kind, "effect": label, "pair": pair, "mean": g.value.mean(),
                    "sd": g.value.std(ddof=1) if len(g) > 1 else np.nan, "seeds": len(g),
                    "label_share": labels[label] / n_seeds, "rank_mean": g["rank"].mean(),
                    "rank_sd": g["rank"].std(ddof=1) if len(g) > 1 else np.nan, "rank_min": int(g["rank"].min()),
                    "rank_max": int(g["rank"].max()), "first_share": float((g["rank"] == 1).mean())})
    table = pd.DataFrame(out, columns=ACROSS_SEEDS_COLUMNS)
    table["kind"] = pd.Categorical(table.kind, categories=list(KINDS), ordered=True)
    table = table.sort_values(["kind", "mean"], ascending=[True, False], kind="stable").reset_index(drop=True)
    table["kind"] = table.kind.astype(str)
    return table


def interaction_forest(data: pd.DataFrame, outcome: str, features: Sequence[str], *, num_trees: int = NUM_TREES,
                       seed: int = DEFAULT_SEED, n_jobs: int | None = None, npairs: int | None = None,
                       min_node_size: int = MIN_NODE_SIZE, sample_fraction: float = SAMPLE_FRACTION,
                       keep_forest: bool = True) -> InteractionForestResult:
    """Grow an interaction forest for the continuous ``outcome`` on ``features`` (columns of
    ``data``, numeric, no missing values) and compute its EIM (see the module documentation).

    ``num_trees``, ``npairs`` (default ``ceil(sqrt(p) / 2)``), ``min_node_size`` and
    ``sample_fraction`` (rows per tree, drawn without replacement) default to the R package's
    regression defaults. ``seed`` fixes every random draw; results do not depend on
    ``n_jobs``, the number of threads (default: all cores). ``keep_forest=False`` drops the
    trees after the EIM are computed (then :meth:`~InteractionForestResult.predict` is not
    available)."""
    if isinstance(features, str):
        raise CitydipError("interaction forest: features must be a sequence of column names, not one string")
    features = tuple(features)
    _check_columns(data, outcome, features)
    X = _matrix(data, list(features), "features")
    y = np.ascontiguousarray(_matrix(data, [outcome], "outcome")[:, 0])
    return _fit(X, y, outcome, features, num_trees=num_trees, seed=seed, n_jobs=n_jobs, npairs=npairs,
                min_node_size=min_node_size, sample_fraction=sample_fraction, keep_forest=keep_forest,
                index=data.index)


# -- checks ---------------------------------------------------------------------------------------------
def _check_columns(data: pd.DataFrame, outcome: str, features: tuple[str, ...]) -> None:
    if not isinstance(data, pd.DataFrame):
        raise CitydipError(f"interaction forest: data must be a pandas DataFrame, got {type(data).__name__}")
    if len(features) < 2:
        raise CitydipError(f"interaction forest: at least two features are needed (it splits on pairs of "
                           f"features), got {list(features)}")
    if len(set(features)) < len(features):
        raise CitydipError(f"interaction forest: repeated features in {list(features)}")
    if outcome in features:
        raise CitydipError(f"interaction forest: the outcome {outcome!r} is also among the features")
    missing = [c for c in (outcome, *features) if c not in data.columns]
    if missing:
        raise CitydipError(f"interaction forest: data have no columns {missing}")


def _matrix(data: pd.DataFrame, columns: list[str], what: str) -> np.ndarray:
    missing = [c for c in columns if c not in data.columns]
    if missing:
        raise CitydipError(f"interaction forest: {what} lack the columns {missing}")
    bad = [c for c in columns if not (pd.api.types.is_numeric_dtype(data[c]) or pd.api.types.is_bool_dtype(data[c]))]
    if bad:
        raise CitydipError(f"interaction forest: {what}: columns {bad} are not numeric")
    X = data[columns].to_numpy(dtype="float64", na_value=np.nan)
    finite = np.isfinite(X)
    if not finite.all():
        counts = {c: int((~finite[:, j]).sum()) for j, c in enumerate(columns) if not finite[:, j].all()}
        raise CitydipError(f"interaction forest: {what} have missing or infinite values (rows per column: {counts}); "
                           "drop or fill those rows first (e.g. data.dropna(subset=[...]))")
    return np.ascontiguousarray(X)


def _validate(X: np.ndarray, y: np.ndarray, features: tuple[str, ...], num_trees, seed, npairs, min_node_size,
              sample_fraction) -> tuple[int, int]:
    n, p = X.shape
    if not (isinstance(num_trees, (int, np.integer)) and num_trees >= 1):
        raise CitydipError(f"interaction forest: num_trees must be a positive integer, got {num_trees!r}")
    if not (isinstance(seed, (int, np.integer)) and 0 <= seed < 2 ** 63):
        raise CitydipError(f"interaction forest: seed must be a non-negative integer, got {seed!r}")
    if not (isinstance(min_node_size, (int, np.integer)) and min_node_size >= 1):
        raise CitydipError(f"interaction forest: min_node_size must be a positive integer, got {min_node_size!r}")
    if not 0 < sample_fraction < 1:
        raise CitydipError(f"interaction forest: sample_fraction must be in (0, 1) (rows are drawn without "
                           f"replacement and the EIM need out-of-bag rows), got {sample_fraction!r}")
    npairs = default_npairs(p) if npairs is None else npairs
    if not (isinstance(npairs, (int, np.integer)) and npairs >= 1):
        raise CitydipError(f"interaction forest: npairs must be a positive integer, got {npairs!r}")
    constant = [f for j, f in enumerate(features) if np.unique(X[:, j]).size < 2]
    if constant:
        raise CitydipError(f"interaction forest: features {constant} have fewer than two distinct values and can "
                           "never be split; leave them out")
    if np.unique(y).size < 2:
        raise CitydipError("interaction forest: the outcome is constant; there is nothing to predict")
    n_in = int(n * sample_fraction)
    if n_in <= min_node_size or n_in >= n:
        raise CitydipError(f"interaction forest: {n} rows are too few: each tree draws {n_in} of them, which must be "
                           f"more than the minimum node size {min_node_size} (so that a tree can split) and leave "
                           "out-of-bag rows")
    return int(npairs), n_in


class _threads:
    """Run numba's parallel loops on ``n`` threads (None: numba's default), then restore."""

    def __init__(self, n: int | None):
        self.n = n

    def __enter__(self):
        import numba

        self.before = numba.get_num_threads()
        if self.n is not None:
            if not (isinstance(self.n, (int, np.integer)) and self.n >= 1):
                raise CitydipError(f"interaction forest: n_jobs must be a positive integer or None, got {self.n!r}")
            numba.set_num_threads(min(int(self.n), numba.config.NUMBA_NUM_THREADS))

    def __exit__(self, *exc):
        import numba

        numba.set_num_threads(self.before)


# -- fitting ----------------------------------------------------------------------------------------------
def _fit(X, y, outcome, features, *, num_trees, seed, n_jobs, npairs, min_node_size, sample_fraction, keep_forest,
         index) -> InteractionForestResult:
    from citydip.estimation import _iforest_core as core

    npairs, n_in = _validate(X, y, features, num_trees, seed, npairs, min_node_size, sample_fraction)
    n, p = X.shape
    pairs = np.array(list(combinations(range(p), 2)), dtype=np.int64)
    n_pairs = len(pairs)
    pair_id = np.full((p, p), -1, dtype=np.int64)
    for k, (a, b) in enumerate(pairs):
        pair_id[a, b] = pair_id[b, a] = k
    n_effects = p + 5 * n_pairs
    max_nodes = 2 * n_in + 1
    # trees per chunk: node arrays, out-of-bag predictions and EIM rows under about 64 MB
    per_tree = 8 * (11 * max_nodes + n + n_effects)
    chunk = int(max(1, min(num_trees, 512, 64_000_000 // per_tree)))

    eim_sum = np.zeros(n_effects)
    splits = np.zeros(n_effects, dtype=np.int64)
    pred_sum = np.zeros(n)
    pred_count = np.zeros(n, dtype=np.int64)
    kept: dict[str, list] = {k: [] for k in ("kind", "va", "vb", "ta", "tb", "left", "right", "value")}
    sizes = []
    with _threads(n_jobs):
        for first in range(0, num_trees, chunk):
            m = min(chunk, num_trees - first)

            def arr(dtype, m=m):
                return np.empty((m, max_nodes), dtype=dtype)

            kind, va, vb = arr(np.int8), arr(np.int64), arr(np.int64)
            ta, tb, value = arr(np.float64), arr(np.float64), arr(np.float64)
            left, right, nleft, nright, effect = (arr(np.int64) for _ in range(5))
            n_nodes = np.empty(m, dtype=np.int64)
            oob = np.empty((m, n))
            eim = np.empty((m, n_effects))
            core.fit_chunk(X, y, seed, first, n_in, pairs, pair_id, npairs, min_node_size, n_effects, True,
                           kind, va, vb, ta, tb, left, right, nleft, nright, value, effect, n_nodes, oob, eim)
            eim_sum += eim.sum(axis=0)
            used = np.arange(max_nodes)[None, :] < n_nodes[:, None]
            e = effect[used]
            splits += np.bincount(e[e >= 0], minlength=n_effects)
            seen = ~np.isnan(oob)
            pred_sum += np.where(seen, oob, 0.0).sum(axis=0)
            pred_count += seen.sum(axis=0)
            if keep_forest:
                sizes.append(n_nodes.copy())
                for name, a in (("kind", kind), ("va", va), ("vb", vb), ("ta", ta), ("tb", tb), ("left", left),
                                ("right", right), ("value", value)):
                    kept[name].append(a[used])
    eim_mean = eim_sum / num_trees
    has = pred_count > 0
    oob_pred = np.full(n, np.nan)
    oob_pred[has] = pred_sum[has] / pred_count[has]
    oob_mse = float(np.mean((y[has] - oob_pred[has]) ** 2)) if has.any() else float("nan")
    r_squared = 1.0 - oob_mse / float(np.var(y, ddof=1))
    notes = []
    if not has.all():
        notes.append(f"{int((~has).sum())} row(s) never out of bag: left out of the out-of-bag error")
    forest = None
    if keep_forest:
        counts = np.concatenate(sizes)
        forest = {k: np.concatenate(v) for k, v in kept.items()}
        forest["va"] = forest["va"].astype(np.int64)
        forest["vb"] = forest["vb"].astype(np.int64)
        forest["offsets"] = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
    tables = _tables(eim_mean, splits, list(features), pairs)
    preds = pd.Series(oob_pred, index=index if index is not None else pd.RangeIndex(n), name="oob_prediction")
    return InteractionForestResult(outcome, tuple(features), int(seed), int(num_trees), npairs, int(min_node_size),
                                   float(sample_fraction), n, *tables, oob_mse, r_squared, preds, notes,
                                   X, y, forest, n_jobs)


def _ranked(frame: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    frame = frame.sort_values("value", ascending=False, kind="stable").reset_index(drop=True)
    frame["rank"] = np.arange(1, len(frame) + 1)
    return frame[columns]


def _tables(eim: np.ndarray, splits: np.ndarray, names: list[str], pairs: np.ndarray):
    p, n_pairs = len(names), len(pairs)
    univ = pd.DataFrame({"effect": names, "value": eim[:p], "splits": splits[:p]})
    qual = pd.DataFrame({"effect": [f"{names[a]} AND {names[b]}" for a, b in pairs], "value": eim[p:p + n_pairs],
                         "variable_a": [names[a] for a, _ in pairs], "variable_b": [names[b] for _, b in pairs],
                         "splits": splits[p:p + n_pairs]})
    corners, quant = [], []
    for k, (a, b) in enumerate(pairs):
        base = p + n_pairs + 4 * k
        raw = eim[base:base + 4]
        adjusted = np.array([raw[c] - max(raw[3 - c], 0.0) for c in range(4)])
        best = int(np.argmax(adjusted))
        for c in range(4):
            corners.append({"effect": corner_name(names[a], names[b], c), "variable_a": names[a],
                            "variable_b": names[b], "corner": f"{SIDES[c >> 1]} AND {SIDES[c & 1]}", "eim": raw[c],
                            "adjusted": adjusted[c], "reported": c == best, "splits": int(splits[base + c])})
        quant.append({"effect": corner_name(names[a], names[b], best), "value": adjusted[best],
                      "variable_a": names[a], "variable_b": names[b],
                      "corner": f"{SIDES[best >> 1]} AND {SIDES[best & 1]}", "splits": int(splits[base + best])})
    return (_ranked(univ, UNIVARIABLE_COLUMNS), _ranked(qual, QUALITATIVE_COLUMNS),
            _ranked(pd.DataFrame(quant), QUANTITATIVE_COLUMNS), pd.DataFrame(corners, columns=CORNER_COLUMNS))
