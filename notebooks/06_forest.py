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
# **Question.** Across metros, which diplomacy measures matter most for predicting exports, as
# in the anchor paper's forest analysis? Haddad, Rose & Bhagat (2025) fitted *interaction
# forests* and their *effect importance measures* (EIM; Hornung & Boulesteix 2022, R package
# `diversityForest`) to the 100 largest metros' exports 2005–2019, and found that sister cities,
# consulates general and city-network memberships all go with higher exports, **consulates
# general most strongly**, and that the relationships differ with metro size. Their EIM values are
# not published, so the comparison here is of rankings.
#
# **The method, the anchor's own.** `citydip.interaction_forest` is an independent Python
# implementation of interaction forests (`citydip/estimation/interaction_forest.py`, which states
# the algorithm). Each tree splits either on one variable or on a *pair*: a **quantitative** split
# separates one corner of the pair's plane ("consulates large AND population large") from the
# rest, a **qualitative** split separates "both small or both large" from the mixed cases. An
# effect's EIM is how much the out-of-bag squared error rises when the forest's splits of that
# effect send metros down at random; a pair's quantitative EIM is net of its opposite corner, so
# that two plain main effects do not pass for an interaction. On a cross-section built this way
# citydip's EIM agree with R's over ten seeds (`tests/estimation/test_interaction_forest.py`).
#
# **The data, as the anchor's.** One row per metro: the means over 2005–2019 of log exports, the
# three measures as counts on record (sister-city ties and network memberships ever recorded,
# consulates general) and the controls log population and log per-capita income. The method is
# random (random pairs and split points), so it is run with ten seeds of 2,000 trees each; tables
# give means and standard deviations over the seeds and how stable each effect's rank is.
#
# **Cross-check.** The random forest of `citydip estimate` (scikit-learn, permutation importance on
# held-out folds; its own variants of the measures: active sister ties and dated network joins,
# all panel years) is set beside it.

# %%
from citydip.analysis.forest_summary import (
    importance_table,
    interaction_forest_report,
    pdp_shapes,
)
from citydip.estimation.forest import DEFAULT_FEATURES, cross_section, is_diplomacy
from citydip.report import notebook
from citydip.report.figures import eim_plot, importance_plot, pdp_plot

ctx = notebook.start("06_forest")
rf_summary = ctx.read("forest_summary").iloc[0]
rf_importance, rf_pdp = ctx.read("forest_importance"), ctx.read("forest_pdp")
report = interaction_forest_report(ctx.panel, rf_summary, rf_importance)
print(f"{ctx.data_label}: interaction forests on {len(report.data)} metros")
print("\n".join(f"- {note}" for note in report.notes))

# %% [markdown]
# ## How well do the forests predict?
# Out-of-bag R² of the interaction forest (mean and s.d. over the seeds) beside the random forest's
# and a linear regression of log mean exports on log population alone (seeded 5-fold
# cross-validation). If a forest does no better than log population alone, the diplomacy measures
# add little to the prediction.

# %%
ctx.table(report.fit.round(4), "forest_fit", cell="Fit",
          caption=f"R² of the interaction forest, the random forest and a linear benchmark ({ctx.data_label})")
print(report.fit_sentence())
report.fit.round(3)

# %% [markdown]
# ## Effect importance: univariable, qualitative, quantitative
# One table and one figure per kind of effect: the mean EIM over the seeds with its s.d., the
# lowest and highest rank the effect takes within its kind, and the share of seeds in which it
# ranks first. A quantitative effect is named by the corner the forest reports for the pair in
# most seeds (`label_share`: in how many); its value is the adjusted one. EIM are in squared log
# points of mean exports; the spread is the method's own randomness over seeds, not sampling
# uncertainty, and no p-value is valid for them.

# %%
for kind in ("univariable", "qualitative", "quantitative"):
    table = report.table(kind)
    ctx.table(table.round(5), f"iforest_eim_{kind}", cell="Effect importance",
              caption=f"Interaction forest: {kind} EIM, mean and s.d. over seeds, rank range ({ctx.data_label})")
    ctx.figure(eim_plot(table, report.stability.per_seed), f"iforest_eim_{kind}", cell="Effect importance",
               caption=f"Interaction forest: {kind} EIM over seeds; diplomacy effects coloured ({ctx.data_label})")
    print(kind, "\n", table[["label", "mean", "sd", "rank_min", "rank_max", "first_share"]].round(4).head(6), "\n")
print("\n".join(report.eim_sentences()))

# %% [markdown]
# ## Ranking against the anchor paper, with the random forest beside it
# The three diplomacy measures ranked by mean univariable EIM, with the share of seeds in which each
# ranks first among them, beside the random forest's ranking by permutation importance (`rf_*`)
# and the anchor's first rank. A ranking is only as firm as the gap between neighbours relative
# to their spread.

# %%
ctx.table(report.ranking.round(4), "forest_ranking_vs_anchor", cell="Ranking against the anchor",
          caption=f"Diplomacy measures ranked by univariable EIM (interaction forest) and by permutation importance "
                  f"(random forest), beside the anchor's first rank ({ctx.data_label})")
print("\n".join(report.ranking_sentences()))
report.ranking.round(3)

# %% [markdown]
# ## The random forest: importance and partial dependence
# The cross-check in more detail: the drop in held-out R² when a feature is shuffled (mean ± 1 s.d.
# over folds and permutations), and each feature's partial dependence between its 5th and 95th
# percentiles across metros (ticks: the metros' own values). EIM do not say in which direction an
# effect goes; a rising curve is the anchor's "goes with higher exports".

# %%
importance = importance_table(rf_importance)
ctx.table(importance.round(4), "forest_importance", cell="Random forest",
          caption=f"Random forest: permutation importance (drop in held-out R²), mean and s.d. ({ctx.data_label})")
ctx.figure(importance_plot(importance), "forest_importance", cell="Random forest",
           caption=f"Random forest: permutation importance of each feature, mean ± 1 s.d. ({ctx.data_label})")
rf_data = cross_section(ctx.panel, "log_exports", list(DEFAULT_FEATURES))[0]
shapes = pdp_shapes(rf_pdp, DEFAULT_FEATURES)
ctx.table(shapes.round(4), "forest_pdp_summary", cell="Random forest",
          caption=f"Random forest: partial dependence from the lowest to the highest grid point ({ctx.data_label})")
fig = pdp_plot(rf_pdp, rf_data, DEFAULT_FEATURES, is_diplomacy)
ctx.figure(fig, "forest_pdp", cell="Random forest",
           caption=f"Random forest: partial dependence of predicted log mean exports on each feature ({ctx.data_label})")
print("; ".join(f"{r.label}: {r.direction} ({r.change:+.3f})" for r in shapes.itertuples()))
fig

# %% [markdown]
# ## In short

# %%
print("\n".join(report.sentences()))

# %% [markdown]
# ## What the data can and cannot support
# * About one hundred metro means: every EIM, importance and curve describes one cross-section. The
#   standard deviations over seeds measure only the forests' own randomness; another sample of
#   metros could rank close effects differently, and EIM have no valid test.
# * EIM and permutation importance are predictive, not causal. Consulates, networks and sister
#   cities rise with metro size and with each other; a measure can rank high because it stands in
#   for size or for the gateway status of a few large metros, and correlated measures share
#   importance. Large quantitative EIM for a diplomacy measure paired with log population are this
#   shared size signal as much as an interaction.
# * The interaction forest reproduces the anchor's method and design, not its numbers (which are
#   not published); its measure variants and window follow the anchor, the random forest's follow
#   the panel's defaults.
# * Whether diplomacy raises exports is a question for the within-metro models (notebooks 03 and 05),
#   not for a cross-section.
