"""Numeric core of :mod:`citydip.estimation.interaction_forest` (numba).

Written from the description of interaction forests in Hornung & Boulesteix (2022,
*Computational Statistics & Data Analysis* 171:107460, Section 2) and the method notes of
the reference folder; no code of the R package diversityForest was read or used. The module
documentation of :mod:`citydip.estimation.interaction_forest` states the algorithm.

Randomness: tree ``t`` of a forest with seed ``s`` draws every random number (its rows, its
candidate splits, its randomised drop-downs) from its own splitmix64 stream started from
``(s, t)``, so a forest is the same whatever the number of threads.

Split kinds of a node (``kind``):

* ``KIND_LEAF`` (0): terminal node;
* ``KIND_UNIV`` (1): univariable split, left child ``x_a <= t_a``;
* ``KIND_QUANT + c`` (2..5): quantitative split, left child the rectangle (corner)
  ``c = 2 * side_a + side_b`` (side 0: ``x <= t``, "small"; side 1: ``x > t``, "large"), right
  child the rest;
* ``KIND_QUAL`` (6): qualitative split, left child "both small or both large" (corners 0 and 3),
  right child the mixed corners.

Bivariable splits are stored with ``a < b`` (column order). Effect ids: univariable ``v``
(0..p-1); qualitative ``p + k`` for pair ``k``; quantitative ``p + P + 4 k + c`` for pair ``k`` of
``P`` and corner ``c``.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

KIND_LEAF = 0
KIND_UNIV = 1
KIND_QUANT = 2
KIND_QUAL = 6

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_MIX1 = np.uint64(0xBF58476D1CE4E5B9)
_MIX2 = np.uint64(0x94D049BB133111EB)
_S30 = np.uint64(30)
_S27 = np.uint64(27)
_S31 = np.uint64(31)
_S11 = np.uint64(11)
_INV53 = 1.0 / 9007199254740992.0


# -- random numbers: splitmix64 ---------------------------------------------------------------------
@njit(cache=True, inline="always")
def _next(state):
    state[0] += _GOLDEN
    z = state[0]
    z = (z ^ (z >> _S30)) * _MIX1
    z = (z ^ (z >> _S27)) * _MIX2
    return z ^ (z >> _S31)


@njit(cache=True, inline="always")
def _uniform(state):
    """Uniform on [0, 1)."""
    return float(_next(state) >> _S11) * _INV53


@njit(cache=True, inline="always")
def _randint(state, k):
    """Uniform integer in 0..k-1."""
    i = int(_uniform(state) * k)
    return i if i < k else k - 1


@njit(cache=True)
def tree_seed(seed, tree):
    """The starting state of tree ``tree``'s stream in a forest seeded with ``seed``."""
    st = np.empty(1, dtype=np.uint64)
    st[0] = np.uint64(seed) * _MIX1 + np.uint64(tree) * _GOLDEN
    _next(st)
    _next(st)
    return st[0]


# -- split points -----------------------------------------------------------------------------------
@njit(cache=True)
def _distinct_sorted(v, m, out):
    """Sorted distinct values of ``v[:m]`` into ``out``; returns their number."""
    if m <= 96:  # insertion sort: faster than a library sort for the small nodes that dominate
        for i in range(m):
            x = v[i]
            j = i - 1
            while j >= 0 and out[j] > x:
                out[j + 1] = out[j]
                j -= 1
            out[j + 1] = x
    else:
        for i in range(m):
            out[i] = v[i]
        out[:m].sort()
    u = 1
    for i in range(1, m):
        if out[i] != out[u - 1]:
            out[u] = out[i]
            u += 1
    return u


@njit(cache=True)
def _univariable_point(distinct, u, state):
    """Univariable split point: one of the ``u`` distinct values drawn at random, each equally
    likely, and the split put halfway to the next larger one; NaN (no candidate) when the
    largest value is drawn, which would leave the right child empty."""
    g = _randint(state, u)
    if g >= u - 1:
        return np.nan
    return 0.5 * (distinct[g] + distinct[g + 1])


@njit(cache=True)
def _first_point(distinct, u, state):
    """First split point of a bivariable split: the midpoint of two different distinct values
    drawn at random (each pair of distinct values equally likely); NaN if ``u < 2``."""
    if u < 2:
        return np.nan
    i = _randint(state, u)
    j = _randint(state, u - 1)
    if j >= i:
        j += 1
    return 0.5 * (distinct[i] + distinct[j])


@njit(cache=True)
def _any_distinct(v, m, state, exclude, use_exclude, tries):
    """One of the distinct values of ``v[:m]`` (other than ``exclude`` if ``use_exclude``), each
    equally likely, by rejection: a row drawn at random is accepted with probability one over the
    number of rows sharing its value. Returns (value, True), or (0, False) after ``tries``
    rejections; the caller then draws from the sorted distinct values instead, so the value is
    exactly uniform either way (each attempt accepts every distinct value with the same
    probability). For distinct values, as with a continuous variable, the first row is accepted."""
    for _ in range(tries):
        x = v[_randint(state, m)]
        if use_exclude and x == exclude:
            continue
        c = 0
        for i in range(m):
            c += v[i] == x
        if c == 1 or _uniform(state) * c < 1.0:
            return x, True
    return 0.0, False


@njit(cache=True)
def _univariable_point_of(v, m, state, buf):
    """:func:`_univariable_point` for the values ``v[:m]`` (at least two distinct ones), without
    sorting them unless rejection fails repeatedly."""
    x, ok = _any_distinct(v, m, state, 0.0, False, 4)
    if not ok:
        u = _distinct_sorted(v, m, buf)
        return _univariable_point(buf, u, state)
    nxt = np.inf
    for i in range(m):
        nxt = min(nxt, v[i] if v[i] > x else np.inf)
    if nxt == np.inf:  # the largest value: no candidate
        return np.nan
    return 0.5 * (x + nxt)


@njit(cache=True)
def _first_point_of(v, m, state, buf):
    """:func:`_first_point` for the values ``v[:m]`` (at least two distinct ones): two different
    distinct values, each pair equally likely (the first uniform, then the second uniform among
    the others)."""
    x1, ok = _any_distinct(v, m, state, 0.0, False, 4)
    if not ok:
        u = _distinct_sorted(v, m, buf)
        return _first_point(buf, u, state)
    x2, ok = _any_distinct(v, m, state, x1, True, 4)
    if not ok:
        u = _distinct_sorted(v, m, buf)
        j = _randint(state, u - 1)
        if buf[j] >= x1:  # skip x1 among the sorted distinct values
            j += 1
        x2 = buf[j]
    return 0.5 * (x1 + x2)


@njit(cache=True)
def _second_point(xa, xb, m, t1, sub, state):
    """Second split point of a bivariable split, drawn so that all four rectangles are
    non-empty (then every one of the five bivariable splits is feasible): among the
    observations whose ``xb`` lies in ``[lo, hi]`` -- ``lo`` the larger of the smallest ``xb``
    on either side of ``t1``, ``hi`` the smaller of the largest -- two with different values
    are drawn at random and their midpoint taken. NaN if there are no two such values."""
    lo_l = np.inf
    hi_l = -np.inf
    lo_h = np.inf
    hi_h = -np.inf
    for i in range(m):  # branch-free: the comparisons are unpredictable
        v = xb[i]
        high = xa[i] > t1
        lo_h = min(lo_h, v if high else np.inf)
        hi_h = max(hi_h, v if high else -np.inf)
        lo_l = min(lo_l, np.inf if high else v)
        hi_l = max(hi_l, -np.inf if high else v)
    lo = max(lo_l, lo_h)
    hi = min(hi_l, hi_h)
    if not lo < hi:
        return np.nan
    k = 0
    for i in range(m):
        sub[k] = xb[i]
        k += (xb[i] >= lo) & (xb[i] <= hi)
    # lo and hi are both observed values in the range, and lo < hi: two distinct values exist
    first = sub[_randint(state, k)]
    while True:
        second = sub[_randint(state, k)]
        if second != first:
            return 0.5 * (first + second)


@njit(cache=True, inline="always")
def _goes_left(kind, xa, xb, ta, tb):
    if kind == KIND_UNIV:
        return xa <= ta
    if kind == KIND_QUAL:
        return (xa <= ta) == (xb <= tb)
    c = kind - KIND_QUANT
    return ((xa > ta) == ((c >> 1) == 1)) and ((xb > tb) == ((c & 1) == 1))


@njit(cache=True, inline="always")
def _criterion(sl, nl, total, m):
    """Split criterion of the variance reduction: sum_l^2 / n_l + sum_r^2 / n_r (the constant
    parent term left out); -inf if a child would be empty."""
    if nl == 0 or nl == m:
        return -np.inf
    sr = total - sl
    return sl * sl / nl + sr * sr / (m - nl)


# -- growing one tree --------------------------------------------------------------------------------
@njit(cache=True)
def grow_tree(X, y, idx, n_in, pairs, pair_id, npairs, min_node_size, state,
              kind, va, vb, ta, tb, left, right, nleft, nright, value, effect):
    """Grow one tree on the rows ``idx[:n_in]`` (reordered in place); fills the node arrays
    (length >= 2 * n_in) and returns the number of nodes. A node is split unless it has at most
    ``min_node_size`` rows, its outcome is constant, or no candidate split is feasible."""
    p = X.shape[1]
    n_pairs_total = pairs.shape[0]
    max_nodes = kind.shape[0]
    start = np.empty(max_nodes, dtype=np.int64)
    end = np.empty(max_nodes, dtype=np.int64)
    xa = np.empty(n_in)
    xb = np.empty(n_in)
    yy = np.empty(n_in)
    da = np.empty(n_in)
    db = np.empty(n_in)
    sub = np.empty(n_in)
    perm = np.arange(n_pairs_total)
    n_draw = min(npairs, n_pairs_total)
    qs = np.empty(4)
    qn = np.empty(4, dtype=np.int64)
    n_nodes = 1
    start[0] = 0
    end[0] = n_in
    node = 0
    while node < n_nodes:
        s0 = start[node]
        e0 = end[node]
        m = e0 - s0
        total = 0.0
        ymin = np.inf
        ymax = -np.inf
        for i in range(s0, e0):
            yi = y[idx[i]]
            total += yi
            ymin = min(ymin, yi)
            ymax = max(ymax, yi)
        value[node] = total / m
        kind[node] = KIND_LEAF
        effect[node] = -1
        left[node] = -1
        right[node] = -1
        nleft[node] = 0
        nright[node] = 0
        va[node] = 0
        vb[node] = 0
        ta[node] = 0.0
        tb[node] = 0.0
        if m <= min_node_size or ymin == ymax or n_nodes + 2 > max_nodes:
            node += 1
            continue
        best = -np.inf
        bkind = 0
        ba = 0
        bb = 0
        bta = 0.0
        btb = 0.0
        for d in range(n_draw):
            # a pair drawn without replacement (partial Fisher-Yates), its order at random
            r = d + _randint(state, n_pairs_total - d)
            tmp = perm[d]
            perm[d] = perm[r]
            perm[r] = tmp
            a = pairs[perm[d], 0]
            b = pairs[perm[d], 1]
            if _uniform(state) < 0.5:
                a, b = b, a
            amin = np.inf
            amax = -np.inf
            bmin = np.inf
            bmax = -np.inf
            for i in range(m):
                row = idx[s0 + i]
                va_i = X[row, a]
                vb_i = X[row, b]
                xa[i] = va_i
                xb[i] = vb_i
                yy[i] = y[row]
                amin = min(amin, va_i)
                amax = max(amax, va_i)
                bmin = min(bmin, vb_i)
                bmax = max(bmax, vb_i)
            u1 = np.nan
            u2 = np.nan
            t1 = np.nan
            t2 = np.nan
            if amin < amax:
                u1 = _univariable_point_of(xa, m, state, da)
            if bmin < bmax:
                u2 = _univariable_point_of(xb, m, state, db)
            if amin < amax and bmin < bmax:
                t1 = _first_point_of(xa, m, state, da)
                t2 = _second_point(xa, xb, m, t1, sub, state)
            # one pass: the univariable left sums and the sums in the four rectangles
            s_u1 = 0.0
            n_u1 = 0
            s_u2 = 0.0
            n_u2 = 0
            for c in range(4):
                qs[c] = 0.0
                qn[c] = 0
            biv = not np.isnan(t2)
            for i in range(m):  # branch-free: the comparisons are unpredictable
                yi = yy[i]
                l1 = xa[i] <= u1
                l2 = xb[i] <= u2
                s_u1 += yi if l1 else 0.0
                n_u1 += l1
                s_u2 += yi if l2 else 0.0
                n_u2 += l2
                c = 2 * (xa[i] > t1) + (xb[i] > t2)
                qs[c] += yi
                qn[c] += 1
            if not np.isnan(u1):
                sc = _criterion(s_u1, n_u1, total, m)
                if sc > best:
                    best, bkind, ba, bb, bta, btb = sc, KIND_UNIV, a, a, u1, 0.0
            if not np.isnan(u2):
                sc = _criterion(s_u2, n_u2, total, m)
                if sc > best:
                    best, bkind, ba, bb, bta, btb = sc, KIND_UNIV, b, b, u2, 0.0
            if biv:
                for c in range(4):
                    sc = _criterion(qs[c], qn[c], total, m)
                    if sc > best:
                        best, bkind, ba, bb, bta, btb = sc, KIND_QUANT + c, a, b, t1, t2
                sc = _criterion(qs[0] + qs[3], qn[0] + qn[3], total, m)
                if sc > best:
                    best, bkind, ba, bb, bta, btb = sc, KIND_QUAL, a, b, t1, t2
        if best == -np.inf:
            node += 1
            continue
        # canonical orientation of a bivariable split: a < b (a corner's two sides swap with it)
        if bkind != KIND_UNIV and ba > bb:
            if bkind != KIND_QUAL:
                c = bkind - KIND_QUANT
                bkind = KIND_QUANT + 2 * (c & 1) + (c >> 1)
            ba, bb = bb, ba
            bta, btb = btb, bta
        # partition idx[s0:e0], rows of the left child first
        lo = s0
        hi = e0 - 1
        while lo <= hi:
            row = idx[lo]
            if _goes_left(bkind, X[row, ba], X[row, bb], bta, btb):
                lo += 1
            else:
                idx[lo] = idx[hi]
                idx[hi] = row
                hi -= 1
        kind[node] = bkind
        va[node] = ba
        vb[node] = bb
        ta[node] = bta
        tb[node] = btb
        if bkind == KIND_UNIV:
            effect[node] = ba
        elif bkind == KIND_QUAL:
            effect[node] = p + pair_id[ba, bb]
        else:
            effect[node] = p + n_pairs_total + 4 * pair_id[ba, bb] + (bkind - KIND_QUANT)
        left[node] = n_nodes
        right[node] = n_nodes + 1
        nleft[node] = lo - s0
        nright[node] = e0 - lo
        start[n_nodes] = s0
        end[n_nodes] = lo
        start[n_nodes + 1] = lo
        end[n_nodes + 1] = e0
        n_nodes += 2
        node += 1
    return n_nodes


@njit(cache=True, parallel=True)
def fit_chunk(X, y, seed, first_tree, n_in, pairs, pair_id, npairs, min_node_size, n_effects, compute_eim,
              kind, va, vb, ta, tb, left, right, nleft, nright, value, effect, n_nodes, oob_pred, eim):
    """Grow trees ``first_tree, first_tree + 1, ...`` (one per row of the output arrays).

    For each tree: the in-bag rows (``n_in`` drawn without replacement), the tree, its
    predictions for its out-of-bag rows (``oob_pred``, NaN for in-bag rows) and, if
    ``compute_eim``, its EIM contributions (``eim``): for every effect the tree uses, the
    out-of-bag mean squared error after randomised drop-down at that effect's splits minus the
    tree's out-of-bag mean squared error (0 for effects the tree does not use)."""
    n = X.shape[0]
    n_trees = kind.shape[0]
    for t in prange(n_trees):
        state = np.empty(1, dtype=np.uint64)
        state[0] = tree_seed(seed, first_tree + t)
        idx = np.arange(n)
        for i in range(n_in):  # partial Fisher-Yates: idx[:n_in] in bag
            r = i + _randint(state, n - i)
            tmp = idx[i]
            idx[i] = idx[r]
            idx[r] = tmp
        oob = np.sort(idx[n_in:])
        work = idx[:n_in].copy()
        nn = grow_tree(X, y, work, n_in, pairs, pair_id, npairs, min_node_size, state, kind[t], va[t], vb[t],
                       ta[t], tb[t], left[t], right[t], nleft[t], nright[t], value[t], effect[t])
        n_nodes[t] = nn
        for i in range(n):
            oob_pred[t, i] = np.nan
        for e in range(n_effects):
            eim[t, e] = 0.0
        n_oob = oob.shape[0]
        if n_oob == 0:
            continue
        _tree_oob(X, y, oob, nn, kind[t], va[t], vb[t], ta[t], tb[t], left[t], right[t], nleft[t], nright[t],
                  value[t], effect[t], n_effects, compute_eim, state, oob_pred[t], eim[t])


@njit(cache=True)
def _tree_oob(X, y, oob, nn, kind, va, vb, ta, tb, left, right, nleft, nright, value, effect, n_effects,
              compute_eim, state, pred, eim):
    """Out-of-bag predictions of one tree (into ``pred``, by row) and its EIM contributions (into
    ``eim``). The out-of-bag rows are partitioned down the tree once, so that each node knows
    the rows reaching it; randomised drop-down for an effect then only re-routes the rows that
    reach one of its splits (from the first such split on their path), which gives the same
    mean squared error as dropping every row again."""
    n_oob = oob.shape[0]
    rows = oob.copy()
    ostart = np.empty(nn, dtype=np.int64)
    oend = np.empty(nn, dtype=np.int64)
    parent = np.full(nn, -1, dtype=np.int64)
    ostart[0] = 0
    oend[0] = n_oob
    for node in range(nn):  # children have larger indices than their parent
        s0 = ostart[node]
        e0 = oend[node]
        if kind[node] == KIND_LEAF:
            for i in range(s0, e0):
                pred[rows[i]] = value[node]
            continue
        lo = s0
        hi = e0 - 1
        while lo <= hi:
            row = rows[lo]
            if _goes_left(kind[node], X[row, va[node]], X[row, vb[node]], ta[node], tb[node]):
                lo += 1
            else:
                rows[lo] = rows[hi]
                rows[hi] = row
                hi -= 1
        ostart[left[node]] = s0
        oend[left[node]] = lo
        ostart[right[node]] = lo
        oend[right[node]] = e0
        parent[left[node]] = node
        parent[right[node]] = node
    if not compute_eim:
        return
    seen = np.zeros(n_effects, dtype=np.bool_)
    for first in range(nn):
        e = effect[first]
        if e < 0 or seen[e]:
            continue
        seen[e] = True
        change = 0.0
        for node in range(first, nn):
            if effect[node] != e or oend[node] == ostart[node]:
                continue
            up = parent[node]  # skip a split below another split of the same effect: handled from there
            nested = False
            while up >= 0:
                if effect[up] == e:
                    nested = True
                    break
                up = parent[up]
            if nested:
                continue
            for i in range(ostart[node], oend[node]):
                row = rows[i]
                j = node
                while kind[j] != KIND_LEAF:
                    if effect[j] == e:
                        go_left = _uniform(state) * (nleft[j] + nright[j]) < nleft[j]
                    else:
                        go_left = _goes_left(kind[j], X[row, va[j]], X[row, vb[j]], ta[j], tb[j])
                    j = left[j] if go_left else right[j]
                change += (y[row] - value[j]) ** 2 - (y[row] - pred[row]) ** 2
        eim[e] = change / n_oob


@njit(cache=True, parallel=True)
def predict_forest(X, kind, va, vb, ta, tb, left, right, value, offsets, out):
    """The forest's prediction (mean over trees) for each row of ``X`` into ``out``; the node
    arrays of all trees are concatenated, tree ``t``'s nodes at ``offsets[t]:offsets[t + 1]``
    with child indices relative to ``offsets[t]``."""
    n_trees = offsets.shape[0] - 1
    for i in prange(X.shape[0]):
        total = 0.0
        for t in range(n_trees):
            o = offsets[t]
            j = o
            while kind[j] != KIND_LEAF:
                if _goes_left(kind[j], X[i, va[j]], X[i, vb[j]], ta[j], tb[j]):
                    j = o + left[j]
                else:
                    j = o + right[j]
            total += value[j]
        out[i] = total / n_trees
