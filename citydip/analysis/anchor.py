"""The anchor paper's claims against citydip's estimates.

Haddad, Rose & Bhagat (2025, *Urban Studies*) find, for the 100 largest U.S. metros, that

1. **all three measures are positive**: sister-city ties, consulates and memberships in city
   networks all go with higher metro exports;
2. **consulates are strongest**: consulates rank first among the three;
3. **mid-sized metros gain most**.

Each claim is checked against two kinds of evidence, and every check returns the same tidy
table (:data:`CLAIM_COLUMNS`): one row per claim with ``claim``, ``scope`` (what evidence was
used), ``evidence`` (the numbers, in words) and ``supported`` (``"yes"``, ``"partly"``,
``"no"``; ``"not testable"`` only where the evidence holds no comparison at all):

* :func:`claims_from_estimates`: the coefficients of one model (and optionally its size-class
  version), e.g. M3 and M5 of notebook 03/04 or of a panel variant in notebook 07;
* :func:`claims_from_curve`: the specification curve of notebook 08, summarised by
  :func:`curve_signs`, :func:`curve_ranking` and :func:`curve_size_classes`.

The verdict rules are stated in each function; significance is at ``alpha`` (default 5%).
Coefficients are in log points of exports per one more tie, post or network.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from citydip.report.labels import term_label

#: The three forms of city diplomacy of the anchor paper (consulates as consulates general).
ANCHOR_MEASURES = ("sister_active", "consulates_general", "networks_dated")
#: The consulate measures: the anchor's (consulates general) and the panel's (all career posts).
CONSULATES = ("consulates_general", "consular_posts")
#: Size classes, smallest first.
SIZE_CLASSES = ("small", "mid", "large")
#: The claims, in the order of the paper's abstract.
CLAIMS = {"all_positive": "all three measures go with higher exports",
          "consulates_strongest": "consulates go with exports most strongly",
          "mid_size_gain_most": "mid-sized metros gain most"}
CLAIM_COLUMNS = ["claim", "scope", "evidence", "supported"]
#: Columns of the specification-curve tables that define a cell of the other choices.
CELL = ("data", "outcome", "controls", "fixed_effects", "sample")


# -- verdict rules ---------------------------------------------------------------------------------------
def count_verdict(hits: int, total: int) -> str:
    """``"yes"`` when all ``total`` items hold, ``"partly"`` when some do, ``"no"`` when none
    does, ``"not testable"`` when there is nothing to check (``total == 0``)."""
    if total == 0:
        return "not testable"
    return "yes" if hits == total else "partly" if hits > 0 else "no"


# -- claims from model estimates -------------------------------------------------------------------------
def claims_from_estimates(estimates: pd.DataFrame, *, measures: Sequence[str] = ANCHOR_MEASURES,
                          consulate: str | None = None, size_estimates: pd.DataFrame | None = None,
                          alpha: float = 0.05, scope: str = "estimates") -> pd.DataFrame:
    """The anchor's claims against the coefficients of one model.

    ``estimates``: a tidy table with columns ``term``, ``estimate``, ``std_error``, ``p_value``
    (one row per term; other terms are ignored). ``measures``: the three diplomacy terms;
    ``consulate`` the one of them that measures consulates (default: the first of
    :data:`CONSULATES` among ``measures``). ``size_estimates``: a tidy table of the same model
    by size class (terms ``<measure>_x_<class>``), for the third claim; without it the third
    claim is left out.

    Rules:

    * all positive: ``yes`` if all three coefficients are positive with p < ``alpha``,
      ``partly`` if one or two are, ``no`` if none (a measure not estimated counts as not).
    * consulates strongest (by t statistic, unit-free): ``yes`` if the consulate measure has
      the largest t and is significantly positive, ``partly`` if it has the largest t without
      being significant, ``no`` otherwise; ``not testable`` if a measure is not estimated.
    * mid-sized metros gain most: per measure with all three class coefficients estimated,
      whether the mid-size coefficient is the largest of the three and significantly
      positive; ``yes`` if so for every such measure, ``partly`` if the mid-size coefficient is
      the largest for at least one, ``no`` otherwise.
    """
    measures = list(measures)
    consulate = consulate or next((c for c in CONSULATES if c in measures), measures[1])
    coef = _by_term(estimates).reindex(measures)
    positive = (coef.estimate > 0) & (coef.p_value < alpha)
    rows = [{"claim": CLAIMS["all_positive"], "scope": scope,
             "evidence": "; ".join(f"{term_label(m)} {_coefficient(coef.loc[m])}" for m in measures),
             "supported": count_verdict(int(positive.sum()), len(measures))}]
    t = coef.estimate / coef.std_error
    if t.isna().any():
        verdict, evidence = "not testable", "not every measure is estimated"
    else:
        first = t.idxmax()
        verdict = ("yes" if positive[consulate] else "partly") if first == consulate else "no"
        evidence = "t statistics: " + ", ".join(f"{term_label(m)} {v:+.2f}"
                                                for m, v in t.sort_values(ascending=False).items())
    rows.append({"claim": CLAIMS["consulates_strongest"], "scope": scope, "evidence": evidence,
                 "supported": verdict})
    if size_estimates is not None:
        largest = largest_size_class(size_estimates, measures)
        sizes = _by_term(size_estimates)
        testable = largest[largest.largest.isin(SIZE_CLASSES)]
        mid_first = testable.largest == "mid"
        mid_sig = [bool(mid_first[m] and sizes.estimate[f"{m}_x_mid"] > 0 and sizes.p_value[f"{m}_x_mid"] < alpha)
                   for m in testable.index]
        verdict = count_verdict(int(mid_first.sum()), len(testable))
        if verdict == "yes" and not all(mid_sig):
            verdict = "partly"
        rows.append({"claim": CLAIMS["mid_size_gain_most"], "scope": scope,
                     "evidence": "; ".join(f"{term_label(m)}: largest {c}" for m, c in largest.largest.items()),
                     "supported": verdict})
    return pd.DataFrame(rows, columns=CLAIM_COLUMNS)


def largest_size_class(size_estimates: pd.DataFrame, measures: Sequence[str],
                       classes: Sequence[str] = SIZE_CLASSES) -> pd.DataFrame:
    """Per measure, the size class with the largest coefficient (terms ``<measure>_x_<class>``
    of a tidy table), or ``"not all classes estimated"`` when a class coefficient is missing.
    Index: measure; column ``largest``."""
    coef = _by_term(size_estimates).estimate
    out = {}
    for m in measures:
        have = {c: coef[f"{m}_x_{c}"] for c in classes
                if f"{m}_x_{c}" in coef.index and np.isfinite(coef[f"{m}_x_{c}"])}
        out[m] = max(have, key=have.get) if len(have) == len(classes) else "not all classes estimated"
    return pd.DataFrame({"largest": pd.Series(out, dtype=object)}).rename_axis("measure")


def _by_term(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.drop_duplicates("term").set_index("term")[["estimate", "std_error", "p_value"]].astype(float)


def _coefficient(row: pd.Series) -> str:
    if not np.isfinite(row.estimate):
        return "not estimated"
    return f"{row.estimate:+.4f} (p = {row.p_value:.3f})"


# -- the specification curve -------------------------------------------------------------------------------
def curve_scopes(estimated: pd.DataFrame, min_metros: int, fixed_effects: Mapping[str, str] | None = None
                 ) -> dict[str, pd.DataFrame]:
    """The parts of a curve over which the first claim is read: all estimated specifications,
    those resting on ``min_metros`` or more metros (``thin`` False), and among those each
    fixed-effect structure in ``fixed_effects`` (label -> option of the ``fixed_effects``
    choice; default: year effects only, and metro + year effects)."""
    fixed_effects = fixed_effects or {"year effects only": "year", "metro + year effects": "metro + year"}
    solid = estimated[~estimated.thin.astype(bool)]
    return {"all specifications": estimated, f"{min_metros}+ metros": solid,
            **{f"{min_metros}+ metros, {label}": solid[solid.fixed_effects == option]
               for label, option in fixed_effects.items()}}


def curve_signs(estimated: pd.DataFrame, treatments: Sequence[str], min_metros: int, alpha: float = 0.05,
                fixed_effects: Mapping[str, str] | None = None) -> pd.DataFrame:
    """Per treatment and scope (:func:`curve_scopes`): specifications, share with a positive
    coefficient, share significantly positive and significantly negative at ``alpha``.

    ``estimated``: the curve's estimated specifications under one kind of inference (columns
    ``treatment``, ``fixed_effects``, ``coefficient``, ``p_value``, ``thin``)."""
    rows = []
    for x in treatments:
        for scope, part in curve_scopes(estimated, min_metros, fixed_effects).items():
            part = part[part.treatment == x]
            significant = part.p_value < alpha
            rows.append({"treatment": x, "scope": scope, "specifications": len(part),
                         "share_positive": (part.coefficient > 0).mean(),
                         "share_significant_positive": ((part.coefficient > 0) & significant).mean(),
                         "share_significant_negative": ((part.coefficient < 0) & significant).mean()})
    return pd.DataFrame(rows)


def curve_ranking(estimated: pd.DataFrame, *, sister: str = "sister_active", network: str = "networks_dated",
                  consulates: Sequence[str] = CONSULATES, cell: Sequence[str] = CELL) -> pd.DataFrame:
    """Which of sister ties, the consulate measure and networks has the largest t statistic,
    over the cells of the other choices (``cell``) in which all three are estimated and rest
    on enough metros (rows with ``thin`` are left out); once per consulate measure.

    Columns: ``consulate_measure``, ``largest_t`` (a measure), ``cells`` (where it is first),
    ``share`` (of the cells in which all three are present)."""
    solid = estimated[~estimated.thin.astype(bool)]
    rows = []
    for consulate in consulates:
        trio = [sister, consulate, network]
        t = solid[solid.treatment.isin(trio)].pivot_table(index=list(cell), columns="treatment", values="t") \
            .reindex(columns=trio).dropna()
        top = t.idxmax(axis=1).value_counts()
        rows += [{"consulate_measure": consulate, "largest_t": m, "cells": int(top.get(m, 0)),
                  "share": top.get(m, 0) / len(t) if len(t) else np.nan} for m in trio]
    return pd.DataFrame(rows)


def curve_size_classes(estimated: pd.DataFrame, treatments: Sequence[str], classes: Sequence[str] = SIZE_CLASSES,
                       alpha: float = 0.05, cell: Sequence[str] = CELL) -> pd.DataFrame:
    """Which size class has the largest coefficient, over the cells of the other choices
    (``cell`` without ``sample``, and the treatment) in which the specifications of all
    ``classes`` (samples named as the classes) are estimated and not ``thin``; and how often
    the mid-size coefficient is significantly positive there.

    Columns: ``treatment``, ``cells``, ``share_<class>_largest`` per class,
    ``share_mid_significant_positive`` (NaN without cells)."""
    solid = estimated[~estimated.thin.astype(bool)]
    index = ["treatment", *(c for c in cell if c != "sample")]
    by_class = (solid[solid["sample"].isin(classes)]
                .pivot_table(index=index, columns="sample", values=["coefficient", "p_value"])
                .reindex(columns=pd.MultiIndex.from_product([["coefficient", "p_value"], list(classes)])).dropna())
    largest = by_class["coefficient"].idxmax(axis=1)
    mid_significant = (by_class[("coefficient", "mid")] > 0) & (by_class[("p_value", "mid")] < alpha)
    treatment_of = np.asarray(by_class.index.get_level_values(0)) if len(by_class) else np.array([], dtype=object)
    return pd.DataFrame([
        {"treatment": x, "cells": int((treatment_of == x).sum()),
         **{f"share_{c}_largest": (largest[treatment_of == x] == c).mean() for c in classes},
         "share_mid_significant_positive": mid_significant[treatment_of == x].mean()} for x in treatments])


def claims_from_curve(signs: pd.DataFrame, ranking: pd.DataFrame, size_classes: pd.DataFrame, *,
                      measures: Sequence[str] = ANCHOR_MEASURES, size_measures: Sequence[str] | None = None
                      ) -> pd.DataFrame:
    """The anchor's claims against a specification curve (tables of :func:`curve_signs`,
    :func:`curve_ranking`, :func:`curve_size_classes`).

    Rules (a majority is more than half of the specifications or cells):

    * all positive, per scope of ``signs``: ``yes`` if each of ``measures`` is significantly
      positive in a majority of its specifications, ``partly`` if one or two are, ``no`` if
      none.
    * consulates strongest, per consulate measure of ``ranking``: ``yes`` if the consulate
      measure has the largest t in a majority of cells, ``partly`` if it is first more often
      than either other measure without a majority, ``no`` otherwise (``not testable``
      without cells).
    * mid-sized metros gain most, over the treatments of ``size_classes`` with cells
      (``size_measures``, default all of them): ``yes`` if for every such treatment the
      mid-size coefficient is the largest in a majority of its cells and significantly
      positive in a majority, ``partly`` if it is the largest in a majority of the cells of
      at least one treatment, ``no`` otherwise (``not testable`` if no treatment has cells).
      Cells share metros and years, so a majority is a description, not a test: by chance
      alone each class comes first in about a third of them.
    """
    rows = []
    for scope, part in signs.groupby("scope", sort=False):
        part = part.set_index("treatment").reindex(list(measures))
        majority = part.share_significant_positive > 0.5
        rows.append({"claim": CLAIMS["all_positive"], "scope": f"curve: {scope}",
                     "evidence": "significantly positive in " + ", ".join(
                         f"{term_label(m)} {part.share_significant_positive[m]:.0%}" for m in measures)
                     + f" of specifications; positive in most for {int((part.share_positive > 0.5).sum())} "
                       f"of {len(measures)}",
                     "supported": count_verdict(int(majority.sum()), len(measures))})
    for consulate, part in ranking.groupby("consulate_measure", sort=False):
        part = part.set_index("largest_t")
        cells = int(part.cells.sum())
        if cells == 0:
            verdict, evidence = "not testable", "no cell with all three measures"
        else:
            share, first = part.share[consulate], part.cells.idxmax()
            verdict = "yes" if share > 0.5 else "partly" if (part.cells[consulate] > part.cells.drop(consulate)).all() \
                else "no"
            evidence = (f"{term_label(consulate)} have the largest t in {share:.0%} of {cells} cells; most often "
                        f"first: {term_label(first)} ({part.share[first]:.0%})")
        rows.append({"claim": CLAIMS["consulates_strongest"], "scope": f"curve, {term_label(consulate).lower()}",
                     "evidence": evidence, "supported": verdict})
    sizes = size_classes.set_index("treatment")
    if size_measures is not None:
        sizes = sizes.reindex(list(size_measures))
    testable = sizes[sizes.cells > 0]
    rows.append({"claim": CLAIMS["mid_size_gain_most"], "scope": "curve, size-class samples",
                 "evidence": "; ".join(
                     [f"{term_label(x)}: mid-size largest in {r.share_mid_largest:.0%} of {int(r.cells)} cells (small "
                      f"{r.share_small_largest:.0%}, large {r.share_large_largest:.0%}), significantly positive in "
                      f"{r.share_mid_significant_positive:.0%}" for x, r in testable.iterrows()]
                     + [f"{term_label(x)}: not testable (no cell with all three classes)"
                        for x in sizes.index[~(sizes.cells > 0)]]),
                 "supported": _mid_verdict(testable)})
    return pd.DataFrame(rows, columns=CLAIM_COLUMNS)


def _mid_verdict(testable: pd.DataFrame) -> str:
    first = testable.share_mid_largest > 0.5
    verdict = count_verdict(int(first.sum()), len(testable))
    if verdict == "yes" and not (testable.share_mid_significant_positive > 0.5).all():
        return "partly"
    return verdict
