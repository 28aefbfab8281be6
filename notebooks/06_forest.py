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
from citydip.analysis.forest_summary import INTERACTION_COLUMNS, forest_report
from citydip.estimation.forest import DEFAULT_FEATURES, cross_section, is_diplomacy
from citydip.report import notebook
from citydip.report.figures import importance_plot, interaction_plot, pdp_plot

ctx = notebook.start("06_forest")
summary = ctx.read("forest_summary").iloc[0]
importance, interactions, pdp = (ctx.read(n) for n in ("forest_importance", "forest_interactions", "forest_pdp"))
features = list(DEFAULT_FEATURES)  # the features of the stored analysis (`citydip estimate` uses the defaults)
assert set(importance.feature) == set(features), "the stored forest used other features"
OUTCOME = "log_exports"
# The cross-section the forest was fitted on (metro means), for the data behind the curves.
data, notes, years = cross_section(ctx.panel, OUTCOME, features)
assert len(data) == int(summary.metros), "the cross-section differs from the stored forest's"
report = forest_report(summary, importance, interactions, pdp, data, OUTCOME, features)
print(f"{ctx.data_label}: {summary.model.replace('_', ' ')}, {int(summary.metros)} metros, means over {summary.years} "
      f"(the anchor: 2005-2019), seed {summary.seed}")
print("\n".join(f"- {note}" for note in notes))

# %% [markdown]
# ## How well does the forest predict?
# Cross-validated R² pools the out-of-fold predictions of all metros; the out-of-bag R² is the
# forest's own estimate on all metros. For scale, two linear regressions are scored the same way
# (seeded 5-fold cross-validation on the same cross-section): log population alone, and all the
# forest's features. If the forest does no better than log population alone, the diplomacy
# measures add little to the prediction.

# %%
ctx.table(report.fit.round(4), "forest_fit", cell="Fit",
          caption=f"R² of the forest and of linear benchmarks on the metro cross-section ({ctx.data_label})")
print(report.fit_sentence())
report.fit.round(3)

# %% [markdown]
# ## Permutation importance
# The mean drop in held-out R² when a feature is shuffled, with its spread (one standard
# deviation over folds and permutations). A value near zero, or a bar whose spread reaches
# zero, means the forest predicts held-out metros about as well without the feature.

# %%
ctx.table(report.importance.round(4), "forest_importance", cell="Permutation importance",
          caption=f"Permutation importance (drop in held-out R²) of each feature, mean and s.d. over folds and "
                  f"permutations ({ctx.data_label})")
fig = importance_plot(report.importance)
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
ctx.table(report.ranking.round(4), "forest_ranking_vs_anchor", cell="Ranking against the anchor",
          caption=f"Diplomacy measures ranked by permutation importance, beside the anchor's first rank "
                  f"({ctx.data_label})")
print("\n".join(report.ranking_sentences()))
report.ranking.round(3)

# %% [markdown]
# ## Partial dependence
# Each curve is the forest's average prediction of log mean exports as one feature moves
# between its 5th and 95th percentiles across metros (or over every distinct value, when there
# are fewer than the grid's points), the others held at their observed values. The ticks at
# the bottom mark the metros' own values: where they are sparse, the curve rests on a few
# metros. The anchor's finding in this form is a rising curve for each diplomacy measure; the
# table gives the change from the lowest to the highest point of each curve's grid.

# %%
ctx.table(report.shapes.round(4), "forest_pdp_summary", cell="Partial dependence",
          caption=f"Partial dependence of predicted log mean exports on each feature, from the lowest to the "
                  f"highest grid point (5th to 95th percentile, or every distinct value) ({ctx.data_label})")
fig = pdp_plot(pdp, data, features, is_diplomacy)
ctx.figure(fig, "forest_pdp", cell="Partial dependence",
           caption=f"Partial dependence of predicted log mean exports on each feature; ticks: metros' values "
                   f"({ctx.data_label})")
print(report.pdp_sentence())
fig

# %% [markdown]
# ## Interactions: Friedman's H²
# H² is the share of the joint partial dependence of a pair that is not the sum of the two
# separate curves (0: purely additive). It can be large for a pair that barely matters, so the
# s.d. of the interaction component is shown too, in log points and as a share of the s.d. of
# log mean exports across metros.

# %%
pairs = report.pairs
ctx.table(pairs[INTERACTION_COLUMNS].round(5), "forest_interactions", cell="Interactions",
          caption=f"Friedman's H² and the s.d. of the interaction component for every pair of features "
                  f"({ctx.data_label})")
fig = interaction_plot(pairs)
ctx.figure(fig, "forest_interactions", cell="Interactions",
           caption=f"Friedman's H² for every pair of features in the random forest ({ctx.data_label})")
print(report.interaction_sentence())
pairs[["pair", "h2", "interaction_sd", "share_of_outcome_sd"]].round(4)

# %% [markdown]
# ## In short

# %%
print("\n".join(report.sentences()))

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
