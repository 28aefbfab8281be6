"""Summaries of the stored forest analysis (notebook 06): fit against linear benchmarks,
importance and the ranking against the anchor paper, the direction of the partial-dependence
curves, and the interaction strengths.

The inputs are the tables ``citydip estimate`` writes from
:func:`citydip.estimation.forest.forest_analysis` (``forest_summary.csv``,
``forest_importance.csv``, ``forest_interactions.csv``, ``forest_pdp.csv``) and the metro
cross-section the forest was fitted on (:func:`citydip.estimation.forest.cross_section`).
Importance is the drop in held-out R² when a feature is shuffled (mean and s.d. over folds
and permutations); predictions and partial dependence are in the outcome's unit (log points
of mean exports).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from citydip.estimation.forest import ANCHOR_FIRST, is_diplomacy
from citydip.report.labels import term_label

IMPORTANCE_COLUMNS = ["feature", "label", "mean", "sd", "rank", "diplomacy", "rank_diplomacy", "within_1sd_of_zero"]
INTERACTION_COLUMNS = ["feature_a", "feature_b", "h2", "interaction_sd", "share_of_outcome_sd", "with_size"]
SIZE_FEATURE = "log_population"


def _numeric(frame: pd.DataFrame, columns: Sequence[str]) -> pd.DataFrame:
    frame = frame.copy()
    frame[list(columns)] = frame[list(columns)].apply(pd.to_numeric, errors="coerce")
    return frame


def linear_cv_r2(data: pd.DataFrame, outcome: str, columns: Sequence[str], seed: int, folds: int = 5) -> float:
    """Pooled out-of-fold R² of a least-squares regression of ``outcome`` on ``columns`` (with
    a constant) in seeded, shuffled ``folds``-fold cross-validation (the forest's folds)."""
    from sklearn.linear_model import LinearRegression
    from sklearn.metrics import r2_score
    from sklearn.model_selection import KFold, cross_val_predict

    y = data[outcome].to_numpy(dtype=float)
    cv = KFold(n_splits=folds, shuffle=True, random_state=int(seed))
    return float(r2_score(y, cross_val_predict(LinearRegression(), data[list(columns)].to_numpy(dtype=float), y,
                                               cv=cv)))


def fit_table(summary: pd.Series, data: pd.DataFrame, outcome: str, features: Sequence[str]) -> pd.DataFrame:
    """R² of the forest (cross-validated and out-of-bag, from ``summary``, a row of
    ``forest_summary.csv``) and of two linear benchmarks scored on the same folds (log
    population alone; all ``features``). Columns: model, r2."""
    model, seed = summary["model"], int(summary["seed"])
    return pd.DataFrame({"model": [f"{model}, cross-validated", f"{model}, out-of-bag",
                                   "linear, log population only, cross-validated",
                                   "linear, all features, cross-validated"],
                         "r2": [float(summary["r2_cv"]), pd.to_numeric(summary["r2_oob"], errors="coerce"),
                                linear_cv_r2(data, outcome, [SIZE_FEATURE], seed),
                                linear_cv_r2(data, outcome, features, seed)]})


def importance_table(importance: pd.DataFrame) -> pd.DataFrame:
    """The stored importance with each feature's label, whether it is a diplomacy measure, its
    rank among the diplomacy measures (1 = most important; ties share the smaller rank; NaN for
    controls) and whether its mean is within one s.d. of zero. Columns: :data:`IMPORTANCE_COLUMNS`."""
    table = _numeric(importance, ["mean", "sd", "rank"])
    table["label"] = table.feature.map(term_label)
    table["diplomacy"] = table.feature.map(is_diplomacy)
    table["rank_diplomacy"] = table["mean"].where(table.diplomacy).rank(ascending=False, method="min")
    table["within_1sd_of_zero"] = table["mean"] - table["sd"] <= 0
    return table[IMPORTANCE_COLUMNS]


def ranking_table(importance: pd.DataFrame) -> pd.DataFrame:
    """The diplomacy measures of :func:`importance_table` by rank, beside the anchor's first
    rank (1 for the consulate measure, NaN otherwise). Columns: feature, label, mean, sd,
    rank_diplomacy, anchor_rank."""
    dip = importance[importance.diplomacy].sort_values("rank_diplomacy").reset_index(drop=True)
    return dip[["feature", "label", "mean", "sd", "rank_diplomacy"]].assign(
        anchor_rank=[1 if f in ANCHOR_FIRST else np.nan for f in dip.feature])


def pdp_shapes(pdp: pd.DataFrame, features: Sequence[str]) -> pd.DataFrame:
    """For each feature's partial-dependence curve (rows of ``forest_pdp.csv``), the lowest
    and highest grid values and predictions, the change between them and the curve's range
    (max - min; log points), and its direction ("rising", "falling", "flat" by the sign of the
    change). One row per feature, in the order of ``features``."""
    pdp = _numeric(pdp, ["value", "prediction"])
    rows = []
    for feature, curve in pdp.groupby("feature", sort=False):
        curve = curve.sort_values("value")
        change = curve.prediction.iloc[-1] - curve.prediction.iloc[0]
        rows.append({"feature": feature, "label": term_label(feature), "diplomacy": is_diplomacy(feature),
                     "grid_low": curve.value.iloc[0], "grid_high": curve.value.iloc[-1],
                     "prediction_low": curve.prediction.iloc[0], "prediction_high": curve.prediction.iloc[-1],
                     "change": change, "range": curve.prediction.max() - curve.prediction.min(),
                     "direction": "rising" if change > 0 else ("falling" if change < 0 else "flat")})
    return pd.DataFrame(rows).set_index("feature").loc[list(features)].reset_index()


def interaction_pairs(interactions: pd.DataFrame, outcome_sd: float) -> pd.DataFrame:
    """The stored H² table with a readable pair label, whether the pair includes log
    population (``with_size``) or is two diplomacy measures (``both_diplomacy``), and the
    interaction component's s.d. as a share of ``outcome_sd`` (the s.d. of the outcome across
    metros). Rows in the stored order (largest H² first)."""
    pairs = _numeric(interactions, ["h2", "interaction_sd"])
    return pairs.assign(
        pair=pairs.feature_a.map(term_label) + " × " + pairs.feature_b.map(term_label),
        with_size=(pairs.feature_a == SIZE_FEATURE) | (pairs.feature_b == SIZE_FEATURE),
        both_diplomacy=pairs.feature_a.map(is_diplomacy) & pairs.feature_b.map(is_diplomacy),
        any_diplomacy=pairs.feature_a.map(is_diplomacy) | pairs.feature_b.map(is_diplomacy),
        share_of_outcome_sd=pairs.interaction_sd / outcome_sd)


@dataclass
class ForestReport:
    """The tables of notebook 06 and the numbers its sentences quote."""

    summary: pd.Series        #: the stored forest summary (model, metros, years, seed, r2_cv, ...)
    fit: pd.DataFrame         #: :func:`fit_table`
    outcome_sd: float         #: s.d. (ddof=1) of the outcome across metros (log points)
    importance: pd.DataFrame  #: :func:`importance_table`
    ranking: pd.DataFrame     #: :func:`ranking_table`
    shapes: pd.DataFrame      #: :func:`pdp_shapes`
    pairs: pd.DataFrame       #: :func:`interaction_pairs`

    @property
    def r2_size(self) -> float:
        return float(self.fit.r2.iloc[2])

    @property
    def r2_linear(self) -> float:
        return float(self.fit.r2.iloc[3])

    @property
    def consulate_rank(self) -> int | None:
        """Rank of the consulate measure among the diplomacy measures (None if absent)."""
        row = self.ranking[self.ranking.feature.isin(ANCHOR_FIRST)]
        return int(row.rank_diplomacy.iloc[0]) if len(row) else None

    @property
    def agrees(self) -> bool:
        """Whether the consulate measure ranks first, as in the anchor."""
        return self.consulate_rank == 1

    @property
    def gap(self) -> float:
        """Importance gap of the first over the second diplomacy measure, in units of the
        larger of their two s.d.s."""
        top, runner = self.ranking.iloc[0], self.ranking.iloc[1]
        return float((top["mean"] - runner["mean"]) / max(top["sd"], runner["sd"]))

    @property
    def strongest_pair(self) -> pd.Series:
        return self.pairs.iloc[0]

    @property
    def size_pair(self) -> pd.Series:
        """The pair of log population with a diplomacy measure with the largest H²."""
        return self.pairs[self.pairs.with_size & self.pairs.any_diplomacy].iloc[0]

    def _rank_text(self) -> str:
        return str(self.consulate_rank) if self.consulate_rank is not None else "n/a"

    def fit_sentence(self) -> str:
        return (f"Forest: cross-validated R² {float(self.summary.r2_cv):.3f}; linear regression on log population "
                f"only {self.r2_size:.3f}, on all features {self.r2_linear:.3f}. Log mean exports vary across "
                f"metros with s.d. {self.outcome_sd:.2f}.")

    def ranking_sentences(self) -> list[str]:
        top, runner = self.ranking.iloc[0], self.ranking.iloc[1]
        return [f"Most important diplomacy measure here: {top.label} (mean {top['mean']:.3f}, s.d. {top['sd']:.3f}); "
                f"runner-up {runner.label} ({runner['mean']:.3f}, s.d. {runner['sd']:.3f}); gap = {self.gap:.2f} s.d.",
                f"Consulates general rank {self._rank_text()} of {len(self.ranking)} among the diplomacy measures: "
                f"{'agrees' if self.agrees else 'does not agree'} with the anchor. Stored check (consulates rank "
                f"first): {self.summary.consulates_rank_first}."]

    def pdp_sentence(self) -> str:
        return "; ".join(f"{r.label}: {r.direction}, {r.change:+.3f} log points from {r.grid_low:.2f} to "
                         f"{r.grid_high:.2f}" for r in self.shapes.itertuples())

    def interaction_sentence(self) -> str:
        s, d = self.strongest_pair, self.size_pair
        return (f"Largest H²: {s.pair} ({s.h2:.4f}, interaction s.d. {s.interaction_sd:.3f} log points); largest of a "
                f"diplomacy measure with metro size: {d.pair} ({d.h2:.4f}).")

    def sentences(self) -> list[str]:
        """The "In short" findings."""
        model, r2 = str(self.summary.model).replace("_", " "), float(self.summary.r2_cv)
        first = self.importance.iloc[0]
        dip = self.importance[self.importance.diplomacy].sort_values("rank_diplomacy")
        shapes = self.shapes[self.shapes.diplomacy]
        widest = self.pairs.loc[self.pairs.interaction_sd.idxmax()]
        s, d = self.strongest_pair, self.size_pair
        return [
            f"- Fit: the {model} predicts held-out metros' log mean exports with R² {r2:.2f}; a linear regression on "
            f"log population alone reaches {self.r2_size:.2f} (the forest "
            f"{'does better' if r2 > self.r2_size else 'does worse'}), one on all five features {self.r2_linear:.2f}.",
            f"- Importance: {first.label} ranks first overall (mean drop in held-out R² {first['mean']:.3f}); among "
            "the diplomacy measures the order is "
            + ", ".join(f"{r.label} ({r.mean:.3f} ± {r.sd:.3f})" for r in dip.itertuples()) + ".",
            f"- Anchor comparison: consulates general rank {self._rank_text()} among the diplomacy measures, so this "
            f"panel {'agrees' if self.agrees else 'does not agree'} with the anchor's ranking; the first-ranked "
            f"diplomacy measure ({self.ranking.iloc[0].label}) leads the second by {self.gap:.2f} s.d. of the "
            f"permutation spread, and {int(dip.within_1sd_of_zero.sum())} of {len(dip)} diplomacy measures are within "
            "one s.d. of zero importance.",
            f"- Directions: {int((shapes.direction == 'rising').sum())} of {len(shapes)} diplomacy curves rise from "
            "the lowest to the highest grid point (the anchor: all three go with higher exports): "
            + ", ".join(f"{r.label} {r.change:+.3f}" for r in shapes.itertuples()) + " log points.",
            f"- Interactions: the largest H² is {s.h2:.4f} ({s.pair}); the largest interaction component "
            f"({widest.pair}) has s.d. {widest.interaction_sd:.3f} log points, {widest.share_of_outcome_sd:.1%} of the "
            f"s.d. of log mean exports across metros. With metro size, the strongest diplomacy pair is {d.pair} "
            f"(H² {d.h2:.4f}).",
        ]


def forest_report(summary: pd.Series, importance: pd.DataFrame, interactions: pd.DataFrame, pdp: pd.DataFrame,
                  data: pd.DataFrame, outcome: str, features: Sequence[str]) -> ForestReport:
    """All summaries of the stored forest analysis (see :class:`ForestReport`); ``data`` is the
    metro cross-section the forest was fitted on."""
    outcome_sd = float(data[outcome].std(ddof=1))
    imp = importance_table(importance)
    return ForestReport(summary, fit_table(summary, data, outcome, features), outcome_sd, imp, ranking_table(imp),
                        pdp_shapes(pdp, features), interaction_pairs(interactions, outcome_sd))
