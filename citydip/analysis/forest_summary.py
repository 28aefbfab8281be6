"""Summaries of the forest analyses of notebook 06: the anchor's own method, interaction forests
with effect importance measures (:func:`interaction_forest_report`, fitted here over several
seeds), and the stored random forest beside it as a cross-check -- fit against linear
benchmarks, importance and the ranking against the anchor paper, the direction of the
partial-dependence curves, and the interaction strengths.

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

from citydip.estimation.forest import ANCHOR_FIRST, DEFAULT_SEED, is_diplomacy
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
        return [(f"Most important diplomacy measure here: {top.label} (mean {top['mean']:.3f}, s.d. {top['sd']:.3f}); "
                f"runner-up {runner.label} ({runner['mean']:.3f}, s.d. {runner['sd']:.3f}); gap = {self.gap:.2f} s.d."),
                (f"Consulates general rank {self._rank_text()} of {len(self.ranking)} among the diplomacy measures: "
                f"{'agrees' if self.agrees else 'does not agree'} with the anchor. Stored check (consulates rank "
                f"first): {self.summary.consulates_rank_first}.")]

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
            (f"- Fit: the {model} predicts held-out metros' log mean exports with R² {r2:.2f}; a linear regression on "
            f"log population alone reaches {self.r2_size:.2f} (the forest "
            f"{'does better' if r2 > self.r2_size else 'does worse'}), one on all five features {self.r2_linear:.2f}."),
            f"- Importance: {first.label} ranks first overall (mean drop in held-out R² {first['mean']:.3f}); among "
            "the diplomacy measures the order is "
            + ", ".join(f"{r.label} ({r.mean:.3f} ± {r.sd:.3f})" for r in dip.itertuples()) + ".",
            (f"- Anchor comparison: consulates general rank {self._rank_text()} among the diplomacy measures, so this "
            f"panel {'agrees' if self.agrees else 'does not agree'} with the anchor's ranking; the first-ranked "
            f"diplomacy measure ({self.ranking.iloc[0].label}) leads the second by {self.gap:.2f} s.d. of the "
            f"permutation spread, and {int(dip.within_1sd_of_zero.sum())} of {len(dip)} diplomacy measures are within "
            "one s.d. of zero importance."),
            f"- Directions: {int((shapes.direction == 'rising').sum())} of {len(shapes)} diplomacy curves rise from "
            "the lowest to the highest grid point (the anchor: all three go with higher exports): "
            + ", ".join(f"{r.label} {r.change:+.3f}" for r in shapes.itertuples()) + " log points.",
            (f"- Interactions: the largest H² is {s.h2:.4f} ({s.pair}); the largest interaction component "
            f"({widest.pair}) has s.d. {widest.interaction_sd:.3f} log points, {widest.share_of_outcome_sd:.1%} of the "
            f"s.d. of log mean exports across metros. With metro size, the strongest diplomacy pair is {d.pair} "
            f"(H² {d.h2:.4f})."),
        ]


def forest_report(summary: pd.Series, importance: pd.DataFrame, interactions: pd.DataFrame, pdp: pd.DataFrame,
                  data: pd.DataFrame, outcome: str, features: Sequence[str]) -> ForestReport:
    """All summaries of the stored forest analysis (see :class:`ForestReport`); ``data`` is the
    metro cross-section the forest was fitted on."""
    outcome_sd = float(data[outcome].std(ddof=1))
    imp = importance_table(importance)
    return ForestReport(summary, fit_table(summary, data, outcome, features), outcome_sd, imp, ranking_table(imp),
                        pdp_shapes(pdp, features), interaction_pairs(interactions, outcome_sd))


# -- the interaction forest: the anchor's own method ------------------------------------------------------
#: The anchor's design (Haddad, Rose & Bhagat 2025): metro means over 2005-2019 of log exports on
#: the three diplomacy measures as counts on record ("ever" sister ties and network memberships,
#: consulates general) and the two controls -- the cross-section on which citydip's EIM are
#: checked against R's diversityForest (``tests/estimation/test_interaction_forest.py``).
IF_OUTCOME = "log_exports"
IF_FEATURES = ("sister_ever", "consulates_general", "networks_ever", "log_population", "log_per_capita_income")
IF_YEARS = tuple(range(2005, 2020))
#: Seeds over which the EIM are summarised (as R's reference runs: 1-10) and trees per forest.
IF_SEEDS = tuple(range(1, 11))
IF_TREES = 2000
#: The three kinds of diplomacy measure, by column prefix, in the anchor's order of mention.
FAMILIES = {"Sister-city ties": ("sister_",), "Consulates": ("consul",), "City networks": ("networks_", "net_")}
EIM_COLUMNS = ["kind", "effect", "pair", "label", "mean", "sd", "rank_mean", "rank_min", "rank_max", "first_share",
               "label_share", "diplomacy", "with_size"]
RANKING_IF_COLUMNS = ["family", "feature", "label", "mean", "sd", "rank", "first_share", "rf_feature", "rf_mean",
                      "rf_sd", "rf_rank", "anchor_rank"]


def measure_family(feature: str) -> str | None:
    """'Sister-city ties', 'Consulates' or 'City networks' for a diplomacy measure, else None."""
    for family, prefixes in FAMILIES.items():
        if feature.startswith(prefixes):
            return family
    return None


def effect_label(kind: str, effect: str) -> str:
    """A readable label of an EIM effect: the feature's label; 'A × B' for a qualitative pair;
    'A large × B small' for a quantitative corner."""
    if kind == "univariable":
        return term_label(effect)
    parts = effect.split(" AND ")
    if kind == "qualitative":
        return " × ".join(term_label(p) for p in parts)
    return " × ".join(f"{term_label(p.rsplit(' ', 1)[0])} {p.rsplit(' ', 1)[1]}" for p in parts)


def eim_table(effects: pd.DataFrame, kind: str) -> pd.DataFrame:
    """The effects of one kind from :class:`~citydip.estimation.interaction_forest.SeedStability`
    with a label, whether a diplomacy measure is involved and whether log population (metro
    size) is. Columns :data:`EIM_COLUMNS`, largest mean first."""
    table = effects[effects.kind == kind].copy()
    members = table.pair.str.split(" AND ")
    table["label"] = [effect_label(kind, e) for e in table.effect]
    table["diplomacy"] = members.map(lambda m: any(is_diplomacy(f) for f in m))
    table["with_size"] = members.map(lambda m: SIZE_FEATURE in m) if kind != "univariable" else False
    return table.sort_values("mean", ascending=False, kind="stable").reset_index(drop=True)[EIM_COLUMNS]


def diplomacy_ranking(per_seed: pd.DataFrame, rf_importance: pd.DataFrame | None = None) -> pd.DataFrame:
    """The diplomacy measures ranked by their univariable EIM (mean over seeds; ``per_seed`` as
    :attr:`SeedStability.per_seed`), with the share of seeds in which each ranks first among them,
    beside the random forest's ranking of the same kind of measure (``rf_importance``: the
    stored permutation importance; its variants of the measures may differ) and the anchor's
    first rank (consulates). Columns :data:`RANKING_IF_COLUMNS`."""
    uni = per_seed[(per_seed.kind == "univariable") & per_seed.effect.map(is_diplomacy)].copy()
    uni["rank_dip"] = uni.groupby("seed").value.rank(ascending=False, method="min")
    table = uni.groupby("effect").agg(mean=("value", "mean"), sd=("value", "std"),
                                      first_share=("rank_dip", lambda r: float((r == 1).mean()))).reset_index()
    table = table.rename(columns={"effect": "feature"}).sort_values("mean", ascending=False, kind="stable")
    table["rank"] = np.arange(1, len(table) + 1)
    table["family"] = table.feature.map(measure_family)
    table["label"] = table.feature.map(term_label)
    table["anchor_rank"] = [1 if f in ANCHOR_FIRST else np.nan for f in table.feature]
    rf = pd.DataFrame(columns=["family", "rf_feature", "rf_mean", "rf_sd", "rf_rank"])
    if rf_importance is not None:
        imp = _numeric(rf_importance, ["mean", "sd"])
        imp = imp[imp.feature.map(is_diplomacy)].sort_values("mean", ascending=False, kind="stable")
        rf = pd.DataFrame({"family": imp.feature.map(measure_family).to_numpy(), "rf_feature": imp.feature.to_numpy(),
                           "rf_mean": imp["mean"].to_numpy(), "rf_sd": imp["sd"].to_numpy(),
                           "rf_rank": np.arange(1, len(imp) + 1)})
    return table.merge(rf, on="family", how="left")[RANKING_IF_COLUMNS].reset_index(drop=True)


@dataclass
class InteractionForestReport:
    """The interaction-forest part of notebook 06 (:func:`interaction_forest_report`)."""

    data: pd.DataFrame            #: the metro cross-section (cbsa_code, outcome, features)
    notes: list[str]              #: what the cross-section dropped and averaged over
    result: object                #: the forest of the first seed (:class:`InteractionForestResult`)
    stability: object             #: EIM over the seeds (:class:`SeedStability`)
    univariable: pd.DataFrame     #: :func:`eim_table`
    qualitative: pd.DataFrame
    quantitative: pd.DataFrame
    ranking: pd.DataFrame         #: :func:`diplomacy_ranking`
    fit: pd.DataFrame             #: model, r2, sd (over seeds, where there are several)

    def table(self, kind: str) -> pd.DataFrame:
        return {"univariable": self.univariable, "qualitative": self.qualitative,
                "quantitative": self.quantitative}[kind]

    @property
    def r2(self) -> float:
        return float(self.stability.fit.r_squared.mean())

    @property
    def r2_size(self) -> float:
        """Cross-validated R² of the linear regression on log population alone (NaN if absent)."""
        row = self.fit[self.fit.model.str.startswith("linear, log population")]
        return float(row.r2.iloc[0]) if len(row) else float("nan")

    @property
    def consulate(self) -> pd.Series | None:
        row = self.ranking[self.ranking.anchor_rank == 1]
        return row.iloc[0] if len(row) else None

    @property
    def agrees(self) -> bool:
        """Whether the consulate measure ranks first among the diplomacy measures (mean EIM)."""
        return self.consulate is not None and int(self.consulate["rank"]) == 1

    @property
    def rf_agrees(self) -> bool | None:
        """Whether the random forest ranks the diplomacy measures in the same order (None without it)."""
        if self.ranking.rf_rank.isna().all():
            return None
        return bool((self.ranking["rank"] == self.ranking.rf_rank).all())

    @property
    def gap(self) -> float:
        """Mean univariable EIM of the first diplomacy measure minus the second's, in units of
        the larger of their s.d.s over seeds."""
        top, runner = self.ranking.iloc[0], self.ranking.iloc[1]
        return float((top["mean"] - runner["mean"]) / max(top["sd"], runner["sd"]))

    @property
    def rf_gap(self) -> float:
        """The random forest's importance gap of its first over its second diplomacy measure, in
        units of the larger of their s.d.s over folds and permutations."""
        rf = self.ranking.sort_values("rf_rank")
        top, runner = rf.iloc[0], rf.iloc[1]
        return float((top.rf_mean - runner.rf_mean) / max(top.rf_sd, runner.rf_sd))

    def top(self, kind: str, *, size: bool = False) -> pd.Series:
        """The largest effect of a kind (``size``: among the pairs of a diplomacy measure with log population)."""
        table = self.table(kind)
        if size:
            table = table[table.with_size & table.diplomacy]
        return table.iloc[0]

    def fit_sentence(self) -> str:
        n = len(self.stability.seeds)
        text = (f"- Fit: the interaction forest predicts out-of-bag log mean exports with R² {self.r2:.3f} (s.d. "
                f"{self.stability.fit.r_squared.std():.3f} over {n} seeds); "
                + "; ".join(f"{r.model} {r.r2:.3f}" for r in self.fit.iloc[1:].itertuples()) + ".")
        if not np.isnan(self.r2_size):
            text += f" It does {'better' if self.r2 > self.r2_size else 'worse'} than log population alone."
        return text

    def eim_sentences(self) -> list[str]:
        """The univariable EIM and the largest interactions (overall and with metro size)."""
        uni, first = self.univariable, self.univariable.iloc[0]
        qual, quant = self.top("qualitative"), self.top("quantitative")
        qual_s, quant_s = self.top("qualitative", size=True), self.top("quantitative", size=True)
        return [
            f"- Univariable EIM: {first.label} ranks first ({first['mean']:.3f}); then "
            + ", ".join(f"{r.label} {r.mean:.3f}" for r in uni.iloc[1:].itertuples()) + " (means over seeds).",
            (f"- Interactions: the largest qualitative effect is {qual.label} ({qual['mean']:.4f}), the largest "
            f"quantitative one {quant.label} ({quant['mean']:.4f}, {quant['mean'] / first['mean']:.1%} of "
            f"{first.label}'s univariable EIM); with metro size, the largest are {qual_s.label} "
            f"({qual_s['mean']:.4f}) and {quant_s.label} ({quant_s['mean']:.4f})."),
        ]

    def ranking_sentences(self) -> list[str]:
        """The diplomacy ranking, the anchor comparison and the random-forest cross-check."""
        dip = self.ranking
        lines = [
            "- Diplomacy measures, ranked by univariable EIM: " + ", ".join(
                f"{r.rank}. {r.label} ({r.mean:.3f} ± {r.sd:.3f}, first in {r.first_share:.0%} of seeds)"
                for r in dip.itertuples()) + f"; the first leads the second by {self.gap:.1f} s.d. over seeds (the "
            "method's own randomness, not sampling uncertainty).",
            (f"- Anchor comparison: consulates general rank {int(self.consulate['rank'])} of {len(dip)}, so this "
             f"panel {'agrees' if self.agrees else 'does not agree'} with 'consulates most strongly'."
             if self.consulate is not None else "- Anchor comparison: no consulate measure among the features."),
        ]
        if self.rf_agrees is not None:
            lines.append("- Random forest (cross-check): it orders the diplomacy measures "
                         + ", ".join(f"{r.rf_rank:.0f}. {term_label(r.rf_feature)}"
                                     for r in dip.sort_values("rf_rank").itertuples())
                         + f" -- {'the same order' if self.rf_agrees else 'a different order'} as the interaction "
                         f"forest, its first leading its second by {self.rf_gap:.2f} s.d. of the permutation spread.")
        return lines

    def sentences(self) -> list[str]:
        """The findings, one line each."""
        return [self.fit_sentence(), *self.eim_sentences(), *self.ranking_sentences()]


def interaction_forest_report(panel: pd.DataFrame, rf_summary: pd.Series | None = None,
                              rf_importance: pd.DataFrame | None = None, *, outcome: str = IF_OUTCOME,
                              features: Sequence[str] = IF_FEATURES, years: Sequence[int] | None = IF_YEARS,
                              seeds: Sequence[int] = IF_SEEDS, num_trees: int = IF_TREES) -> InteractionForestReport:
    """Interaction forests on the metro cross-section of ``panel`` (means over ``years`` of
    ``outcome`` and ``features``; :func:`citydip.estimation.forest.cross_section`), one per seed
    of ``seeds``, ``num_trees`` trees each, summarised as :class:`InteractionForestReport`.
    ``rf_summary`` and ``rf_importance`` (a row of ``forest_summary.csv`` and
    ``forest_importance.csv``) put the stored random forest beside it."""
    from citydip.estimation.forest import cross_section
    from citydip.estimation.interaction_forest import interaction_forest

    features = list(features)
    data, notes, _used = cross_section(panel, outcome, features, years)
    result = interaction_forest(data, outcome, features, num_trees=num_trees, seed=int(seeds[0]))
    stability = result.across_seeds(seeds)
    tables = [eim_table(stability.effects, kind) for kind in ("univariable", "qualitative", "quantitative")]
    fit = [{"model": f"interaction forest, out-of-bag (mean over {len(stability.seeds)} seeds)",
            "r2": float(stability.fit.r_squared.mean()), "sd": float(stability.fit.r_squared.std())}]
    if rf_summary is not None:
        fit += [{"model": "random forest, out-of-bag", "r2": pd.to_numeric(rf_summary["r2_oob"], errors="coerce"),
                 "sd": np.nan},
                {"model": "random forest, cross-validated", "r2": float(rf_summary["r2_cv"]), "sd": np.nan}]
    if SIZE_FEATURE in features:  # on the random forest's folds (its seed), or citydip's default seed
        fold_seed = int(rf_summary["seed"]) if rf_summary is not None else DEFAULT_SEED
        fit.append({"model": "linear, log population only, cross-validated",
                    "r2": linear_cv_r2(data, outcome, [SIZE_FEATURE], fold_seed), "sd": np.nan})
    notes = [*notes, f"interaction forests: {num_trees} trees each, seeds {', '.join(str(s) for s in seeds)}"]
    return InteractionForestReport(data, notes, result, stability, *tables, diplomacy_ranking(
        stability.per_seed, rf_importance), pd.DataFrame(fit))
