# ---
# jupyter:
#   jupytext:
#     text_representation:
#       extension: .py
#       format_name: percent
# ---

# %% [markdown]
# # 06 Forest analysis: which diplomacy measures predict exports across metros?
#
# **Question.** Across metros, which diplomacy measures matter most for predicting exports,
# as in the anchor paper's forest analysis? Haddad, Rose & Bhagat (2025) find that sister
# cities, consulates general and city-network memberships all go with higher exports,
# consulates general most strongly, and that the relationships differ with metro size. Their
# effect sizes are not published, so the comparison here is of rankings and directions.
#
# **What differs from the anchor's method.** The anchor fitted *interaction forests* with
# *effect importance measures* (R package `diversityForest`), which split on pairs of variables
# at once and rate single and pairwise effects. Neither has a Python implementation. citydip
# mirrors the design, not the algorithm (`citydip/estimation/forest.py`):
# * the same kind of data: one row per metro, the means over the sample years of log exports
#   and of the features (sister-city ties, consulates general, dated city-network memberships,
#   log population, log per-capita income), after dropping metro-years with a missing value;
# * a seeded, single-threaded scikit-learn random forest (trees split on one variable at a
#   time; minimum leaf size 5, a random subset of features at each split, as `ranger`'s
#   defaults), or gradient boosting if so configured; the model used is printed below. The
#   fit is cross-validated (out-of-fold R², and out-of-bag R² for the forest);
# * importance is *predictive permutation importance*: the drop in held-out R² when a
#   feature's values are shuffled, on the held-out fold of each cross-validation split, several
#   permutations per fold; the spread reported is the standard deviation over folds and
#   permutations (not a standard error);
# * partial dependence curves from the forest fitted on all metros, between the 5th and 95th
#   percentiles of each feature;
# * instead of pairwise effect importance, Friedman's H² for every pair of features: the share
#   of the pair's joint partial dependence that is not the sum of their separate effects.
#   Pairs of a diplomacy measure with log population stand in for the anchor's differences by
#   metro size.
#
# Importance here says which features help the model predict held-out metros; it is not a
# causal effect. Correlated features share or swap importance, and a measure that proxies for
# size can rank high. The forest outputs are read from the build folder; nothing is refitted.

# %%
import numpy as np
import pandas as pd
import matplotlib.patches
import matplotlib.style
from matplotlib.figure import Figure

from citydip.estimation.forest import ANCHOR_FIRST, DEFAULT_FEATURES, cross_section, is_diplomacy
from citydip.report import notebook, term_label
from citydip.report.figures import STYLE

ctx = notebook.start("06_forest")
summary = ctx.read("forest_summary").iloc[0]
importance, interactions, pdp = (ctx.read(n) for n in ("forest_importance", "forest_interactions", "forest_pdp"))
for frame, columns in ((importance, ["mean", "sd", "rank"]), (interactions, ["h2", "interaction_sd"]),
                       (pdp, ["value", "prediction"])):
    frame[columns] = frame[columns].apply(pd.to_numeric, errors="coerce")
features = list(DEFAULT_FEATURES)  # the features of the stored analysis (`citydip estimate` uses the defaults)
assert set(importance.feature) == set(features), "the stored forest used other features"
OUTCOME = "log_exports"
# The cross-section the forest was fitted on (metro means), for the data behind the curves.
data, notes, years = cross_section(ctx.panel, OUTCOME, features)
assert len(data) == int(summary.metros), "the cross-section differs from the stored forest's"
print(f"{ctx.data_label}: {summary.model.replace('_', ' ')}, {int(summary.metros)} metros, means over {summary.years} "
      f"(the anchor: 2005-2019), seed {summary.seed}")
for note in notes:
    print(f"- {note}")

# %% [markdown]
# ## How well does the forest predict?
# Cross-validated R² pools the out-of-fold predictions of all metros; the out-of-bag R² is the
# forest's own estimate on all metros. For scale, two linear regressions are scored the same way
# (seeded 5-fold cross-validation on the same cross-section): log population alone, and all the
# forest's features. If the forest does no better than log population alone, the diplomacy
# measures add little to the prediction.

# %%
from sklearn.linear_model import LinearRegression
from sklearn.metrics import r2_score
from sklearn.model_selection import KFold, cross_val_predict

folds = KFold(n_splits=5, shuffle=True, random_state=int(summary.seed))
y = data[OUTCOME].to_numpy()
def cv_r2(columns: list[str]) -> float:
    return r2_score(y, cross_val_predict(LinearRegression(), data[columns].to_numpy(), y, cv=folds))


r2_size, r2_linear = cv_r2(["log_population"]), cv_r2(features)
fit = pd.DataFrame({"model": [f"{summary.model}, cross-validated", f"{summary.model}, out-of-bag",
                              "linear, log population only, cross-validated", "linear, all features, cross-validated"],
                    "r2": [float(summary.r2_cv), pd.to_numeric(summary.r2_oob, errors="coerce"), r2_size, r2_linear]})
ctx.table(fit.round(4), "forest_fit", cell="Fit",
          caption=f"R² of the forest and of linear benchmarks on the metro cross-section ({ctx.data_label})")
print(f"Forest: cross-validated R² {summary.r2_cv:.3f}; linear regression on log population only {r2_size:.3f}, "
      f"on all features {r2_linear:.3f}. Log mean exports vary across metros with s.d. {y.std(ddof=1):.2f}.")
fit.round(3)

# %% [markdown]
# ## Permutation importance
# The mean drop in held-out R² when a feature is shuffled, with its spread (one standard
# deviation over folds and permutations). A value near zero, or a bar whose spread reaches
# zero, means the forest predicts held-out metros about as well without the feature.

# %%
importance["label"] = importance.feature.map(term_label)
importance["diplomacy"] = importance.feature.map(is_diplomacy)
importance["rank_diplomacy"] = importance["mean"].where(importance.diplomacy).rank(ascending=False, method="min")
importance["within_1sd_of_zero"] = importance["mean"] - importance["sd"] <= 0
table = importance[["feature", "label", "mean", "sd", "rank", "diplomacy", "rank_diplomacy", "within_1sd_of_zero"]]
ctx.table(table.round(4), "forest_importance", cell="Permutation importance",
          caption=f"Permutation importance (drop in held-out R²) of each feature, mean and s.d. over folds and "
                  f"permutations ({ctx.data_label})")

with matplotlib.style.context(["default", STYLE]):
    fig = Figure(figsize=(6.4, 3.4), layout="constrained")
    ax = fig.add_subplot()
    order = importance.sort_values("mean")
    colors = ["C0" if d else "0.6" for d in order.diplomacy]
    ax.barh(order.label, order["mean"], xerr=order["sd"], color=colors, capsize=3, error_kw={"elinewidth": 1})
    ax.axvline(0, color="0.35", linewidth=0.8, linestyle="--")
    ax.set_xlabel("Drop in held-out R² when shuffled (mean ± 1 s.d.)")
    ax.legend(handles=[matplotlib.patches.Patch(color="C0", label="diplomacy measure"),
                       matplotlib.patches.Patch(color="0.6", label="control")], fontsize=7, loc="lower right")
ctx.figure(fig, "forest_importance", cell="Permutation importance",
           caption=f"Permutation importance of each feature in the random forest, mean ± 1 s.d. ({ctx.data_label})")
fig

# %% [markdown]
# ## Ranking against the anchor paper
# The anchor ranks consulates general first among the three diplomacy measures; its abstract
# does not order the other two. Here the three are ranked by mean permutation importance. A
# ranking is only as firm as the gap between neighbours relative to their spread, so the gap
# to the runner-up is shown in units of the larger s.d.

# %%
dip = importance[importance.diplomacy].sort_values("rank_diplomacy").reset_index(drop=True)
consulate = dip[dip.feature.isin(ANCHOR_FIRST)]
ranking = dip[["feature", "label", "mean", "sd", "rank_diplomacy"]].assign(
    anchor_rank=[1 if f in ANCHOR_FIRST else np.nan for f in dip.feature])
ctx.table(ranking.round(4), "forest_ranking_vs_anchor", cell="Ranking against the anchor",
          caption=f"Diplomacy measures ranked by permutation importance, beside the anchor's first rank "
                  f"({ctx.data_label})")
top, runner = dip.iloc[0], dip.iloc[1]
gap = (top["mean"] - runner["mean"]) / max(top["sd"], runner["sd"])
agrees = bool(len(consulate)) and int(consulate.rank_diplomacy.iloc[0]) == 1
print(f"Most important diplomacy measure here: {top.label} (mean {top['mean']:.3f}, s.d. {top['sd']:.3f}); "
      f"runner-up {runner.label} ({runner['mean']:.3f}, s.d. {runner['sd']:.3f}); gap = {gap:.2f} s.d.")
print(f"Consulates general rank {int(consulate.rank_diplomacy.iloc[0]) if len(consulate) else 'n/a'} of {len(dip)} "
      f"among the diplomacy measures: {'agrees' if agrees else 'does not agree'} with the anchor. "
      f"Stored check (consulates rank first): {summary.consulates_rank_first}.")
ranking.round(3)

# %% [markdown]
# ## Partial dependence
# Each curve is the forest's average prediction of log mean exports as one feature moves
# between its 5th and 95th percentiles across metros (or over every distinct value, when there
# are fewer than the grid's points), the others held at their observed values. The ticks at
# the bottom mark the metros' own values: where they are sparse, the curve rests on a few
# metros. The anchor's finding in this form is a rising curve for each diplomacy measure; the
# table gives the change from the lowest to the highest point of each curve's grid.

# %%
curves = []
for feature, curve in pdp.groupby("feature", sort=False):
    curve = curve.sort_values("value")
    change = curve.prediction.iloc[-1] - curve.prediction.iloc[0]
    curves.append({"feature": feature, "label": term_label(feature), "diplomacy": is_diplomacy(feature),
                   "grid_low": curve.value.iloc[0], "grid_high": curve.value.iloc[-1],
                   "prediction_low": curve.prediction.iloc[0], "prediction_high": curve.prediction.iloc[-1],
                   "change": change, "range": curve.prediction.max() - curve.prediction.min(),
                   "direction": "rising" if change > 0 else ("falling" if change < 0 else "flat")})
shapes = pd.DataFrame(curves).set_index("feature").loc[features].reset_index()
ctx.table(shapes.round(4), "forest_pdp_summary", cell="Partial dependence",
          caption=f"Partial dependence of predicted log mean exports on each feature, from the lowest to the "
                  f"highest grid point (5th to 95th percentile, or every distinct value) ({ctx.data_label})")

with matplotlib.style.context(["default", STYLE]):
    fig = Figure(figsize=(8.0, 4.8), layout="constrained")
    axes = fig.subplots(2, 3, sharey=True).ravel()
    for ax, feature in zip(axes, features):
        curve = pdp[pdp.feature == feature].sort_values("value")
        ax.plot(curve.value, curve.prediction, color="C0" if is_diplomacy(feature) else "0.4", marker="o",
                markersize=2.5)
        ax.plot(data[feature], np.zeros(len(data)), "|", color="0.3", markersize=6,
                transform=ax.get_xaxis_transform())
        ax.set_xlabel(f"{term_label(feature)} (metro mean)", fontsize=8)
    axes[-1].set_axis_off()
    for ax in axes[::3]:
        ax.set_ylabel("Predicted log exports")
ctx.figure(fig, "forest_pdp", cell="Partial dependence",
           caption=f"Partial dependence of predicted log mean exports on each feature; ticks: metros' values "
                   f"({ctx.data_label})")
print("; ".join(f"{r.label}: {r.direction}, {r.change:+.3f} log points from {r.grid_low:.2f} to {r.grid_high:.2f}"
                for r in shapes.itertuples()))
fig

# %% [markdown]
# ## Interactions: Friedman's H²
# H² is the share of the joint partial dependence of a pair that is not the sum of the two
# separate curves (0: purely additive). It can be large for a pair that barely matters, so the
# s.d. of the interaction component is shown too, in log points and as a share of the s.d. of
# log mean exports across metros.

# %%
pairs = interactions.assign(
    pair=lambda f: f.feature_a.map(term_label) + " × " + f.feature_b.map(term_label),
    with_size=lambda f: (f.feature_a == "log_population") | (f.feature_b == "log_population"),
    both_diplomacy=lambda f: f.feature_a.map(is_diplomacy) & f.feature_b.map(is_diplomacy),
    share_of_outcome_sd=lambda f: f.interaction_sd / y.std(ddof=1))
ctx.table(pairs[["feature_a", "feature_b", "h2", "interaction_sd", "share_of_outcome_sd", "with_size"]].round(5),
          "forest_interactions", cell="Interactions",
          caption=f"Friedman's H² and the s.d. of the interaction component for every pair of features "
                  f"({ctx.data_label})")

with matplotlib.style.context(["default", STYLE]):
    fig = Figure(figsize=(6.4, 3.8), layout="constrained")
    ax = fig.add_subplot()
    order = pairs.sort_values("h2")
    ax.barh(order.pair, order.h2, color=["C1" if w else "C0" if d else "0.6"
                                         for w, d in zip(order.with_size, order.both_diplomacy)])
    ax.set_xlabel("Friedman's H² (share of the joint effect that is interaction)")
    ax.tick_params(axis="y", labelsize=7)
    ax.legend(handles=[matplotlib.patches.Patch(color="C1", label="with log population (metro size)"),
                       matplotlib.patches.Patch(color="C0", label="two diplomacy measures"),
                       matplotlib.patches.Patch(color="0.6", label="other")], fontsize=7, loc="lower right")
ctx.figure(fig, "forest_interactions", cell="Interactions",
           caption=f"Friedman's H² for every pair of features in the random forest ({ctx.data_label})")
strongest = pairs.iloc[0]
size_dip = pairs[pairs.with_size & (pairs.feature_a.map(is_diplomacy) | pairs.feature_b.map(is_diplomacy))].iloc[0]
print(f"Largest H²: {strongest.pair} ({strongest.h2:.4f}, interaction s.d. {strongest.interaction_sd:.3f} log "
      f"points); largest of a diplomacy measure with metro size: {size_dip.pair} ({size_dip.h2:.4f}).")
pairs[["pair", "h2", "interaction_sd", "share_of_outcome_sd"]].round(4)

# %% [markdown]
# ## In short

# %%
print(f"- Fit: the {summary.model.replace('_', ' ')} predicts held-out metros' log mean exports with R² "
      f"{summary.r2_cv:.2f}; a linear regression on log population alone reaches {r2_size:.2f} (the forest "
      f"{'does better' if summary.r2_cv > r2_size else 'does worse'}), one on all five features {r2_linear:.2f}.")
print(f"- Importance: {importance.iloc[0].label} ranks first overall (mean drop in held-out R² "
      f"{importance.iloc[0]['mean']:.3f}); among the diplomacy measures the order is "
      + ", ".join(f"{r.label} ({r.mean:.3f} ± {r.sd:.3f})" for r in dip.itertuples()) + ".")
print(f"- Anchor comparison: consulates general rank "
      f"{int(consulate.rank_diplomacy.iloc[0]) if len(consulate) else 'n/a'} among the diplomacy measures, so this "
      f"panel {'agrees' if agrees else 'does not agree'} with the anchor's ranking; the first-ranked diplomacy measure "
      f"({top.label}) leads the second by {gap:.2f} s.d. of the permutation spread, and "
      f"{int(dip.within_1sd_of_zero.sum())} of {len(dip)} diplomacy measures are within one s.d. of zero importance.")
dip_shapes = shapes[shapes.diplomacy]
print(f"- Directions: {int((dip_shapes.direction == 'rising').sum())} of {len(dip_shapes)} diplomacy curves rise "
      f"from the lowest to the highest grid point (the anchor: all three go with higher exports): "
      + ", ".join(f"{r.label} {r.change:+.3f}" for r in dip_shapes.itertuples()) + " log points.")
widest = pairs.loc[pairs.interaction_sd.idxmax()]
print(f"- Interactions: the largest H² is {strongest.h2:.4f} ({strongest.pair}); the largest interaction component "
      f"({widest.pair}) has s.d. {widest.interaction_sd:.3f} log points, {widest.share_of_outcome_sd:.1%} of the "
      f"s.d. of log mean exports across metros. With metro size, the strongest diplomacy pair is {size_dip.pair} "
      f"(H² {size_dip.h2:.4f}).")

# %% [markdown]
# ## What the data can and cannot support
# * The forest is fitted to about one hundred metro means. Its importance, curves and H²
#   statistics describe one cross-section and carry wide sampling variation: a ranking whose
#   gap is small relative to the permutation spread could reverse in another sample.
# * Importance is predictive, not causal. Consulates, networks and sister cities rise with
#   metro size and with each other; a measure can rank high because it stands in for size or
#   for the gateway status of a few large metros, and correlated measures share importance.
# * The method is not the anchor's: interaction forests split on pairs of variables and their
#   effect importance measures rate directions and interactions directly; a standard random
#   forest with permutation importance and Friedman's H² is the nearest available design, so a
#   different ranking may reflect the method as much as the data. The averaging window also
#   differs (printed at the top).
# * Partial dependence holds the other features at their observed values, including values
#   that rarely occur together (many consulates in a small metro); where the ticks are sparse
#   the curves are extrapolation by the trees.
# * Whether diplomacy raises exports is a question for the within-metro models (notebooks 03
#   and 05), not for a cross-section.
