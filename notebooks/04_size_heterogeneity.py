# ---
# jupyter:
#   jupytext:
#     text_representation:
#       extension: .py
#       format_name: percent
# ---

# %% [markdown]
# # 04 Size heterogeneity: do mid-sized metros benefit most?
#
# **Question.** Haddad, Rose & Bhagat (2025) suggest that mid-sized metros may gain most from city
# diplomacy. Is the association between diplomacy and exports larger in mid-sized metros than in
# small and large ones, and is the difference larger than the sampling noise?
#
# Model M5 is the two-way fixed-effects model of notebook 03 (log exports on the three measures,
# log population and log per-capita income, metro and year effects, standard errors clustered by
# metro) with one coefficient per size class for each measure: `consular_posts_x_mid` is the
# change in log exports with one more consular post in a mid-sized metro. The size classes are
# fixed per metro (population in the rank year), so each class coefficient is identified by the
# within-metro changes of the metros of that class only. The anchor paper's claim comes from
# interaction forests across metros, with no published effect sizes; what can be compared is
# whether the mid-size coefficient is the largest and whether it differs from the others.
#
# The tests use the fitted model's cluster-robust covariance matrix: for each measure, the
# differences mid - small and mid - large (t tests, two-sided and one-sided for "mid larger"),
# and the joint Wald test that the three class coefficients are equal, with the F distribution
# on (restrictions, metros - 1) degrees of freedom, the reference distribution of the model's own
# t tests.

# %%
from IPython.display import Markdown, display

from citydip.analysis import size
from citydip.analysis.effects import estimation_sample
from citydip.estimation.catalogue import CONTROLS, MEASURES, MODEL_NAMES
from citydip.estimation.fitting import SIZE_CLASSES
from citydip.report import notebook, regression_table, term_label
from citydip.report.figures import size_class_counts_plot

ctx = notebook.start("04_size_heterogeneity")
est, panel = ctx.estimates, ctx.panel
M5, M3 = size.M5, MODEL_NAMES["M3"]
cut = ctx.provenance["size_class_cutoffs_persons"]
rank_year = ctx.provenance["options"]["rank_year"]
print(f"{ctx.data_label}: size classes by population in {rank_year} "
      f"({ctx.provenance['options']['size_classes']}): small < {cut['small_below']:,.0f} persons <= mid < "
      f"{cut['large_from']:,.0f} persons <= large")

# %% [markdown]
# ## The size classes
# Metros per class, their population in the rank year, and how often each measure changes
# within the metros of the class (in the estimation sample). A class coefficient with few
# changing metros behind it rests on those few metros.

# %%
classes = size.size_class_table(panel, rank_year, cut)
ctx.table(classes.round(1), "size_classes", cell="The size classes",
          caption=f"Size classes: cut-offs (persons, population in {rank_year}), metros and population in thousands "
                  f"({ctx.data_label})")
changes = size.class_variation(estimation_sample(panel), MEASURES)
print(size.class_check_sentence(panel, rank_year, cut))
display(classes.round(1))
changes.pivot(index="measure", columns="size_class", values="metros_that_change")[list(SIZE_CLASSES)]

# %% [markdown]
# ## One coefficient per size class
# M3 (one coefficient per measure) beside M5 (one per measure and size class).

# %%
TERMS = [t for m in MEASURES for t in (m, *(f"{m}_x_{c}" for c in SIZE_CLASSES))] + list(CONTROLS)
table = regression_table(est, models=[M3, M5], terms=TERMS,
                         caption="SYNTHETIC DEMO DATA, NOT REAL." if ctx.synthetic else "")
ctx.table(table, "size_class_models", cell="One coefficient per size class",
          caption=f"Two-way fixed effects with one coefficient per measure (M3) and per measure and size class (M5) "
                  f"({ctx.data_label})")
Markdown(table.to_markdown())

# %% [markdown]
# The model is fitted again here for its covariance matrix; its coefficients must equal the
# stored ones.

# %%
result, gap = size.refit(panel, est, M5)  # raises if the coefficients differ from estimates.csv
print(f"Refitted {M5}: {result.nobs:,} metro-years, {len(result.coef)} coefficients, largest difference from the "
      f"stored estimates {gap:.1e}; test degrees of freedom {result.df_t:.0f}")

# %% [markdown]
# ## In percent, by size class
# One more tie, post or network in a metro of each class, as a percent difference in exports
# (95% interval), with the number of metros of the class whose measure changes.

# %%
by_class = size.class_effects(est, changes, MEASURES, M5)
ctx.table(by_class.round(4), "size_class_effects", cell="In percent, by size class",
          caption=f"M5 coefficients by size class as percent differences in exports per one more, with the metros "
                  f"behind each ({ctx.data_label})")
by_class.round(3)

# %% [markdown]
# ## Tests: is the mid-size coefficient different, and larger?

# %%
tests = size.size_class_tests(result, MEASURES)
ctx.table(tests.round(4), "size_class_tests", cell="Tests",
          caption=f"Tests of equal size-class coefficients in M5 (cluster-robust covariance; t tests for one "
                  f"restriction, Wald F for several; one-sided p for the mid-size coefficient being larger) "
                  f"({ctx.data_label})")
tests.round(3)

# %% [markdown]
# ## The size-class comparison
# M5's coefficient for each class with its 95% interval; below each class, the number of its
# metros whose measure changes during the sample years.

# %%
for m in MEASURES:
    fig = size_class_counts_plot(est, m, changes, M5)
    ctx.figure(fig, f"size_class_{m}", cell="The size-class comparison",
               caption=f"M5 coefficient on {term_label(m).lower()} by metro size class, 95% intervals "
                       f"({ctx.data_label})")
    display(fig)

# %% [markdown]
# ## In short

# %%
truth = ctx.provenance["synthetic_truth"] if ctx.synthetic else None
verdict = size.size_verdict(result, tests, by_class, MEASURES, truth=truth)
print("\n".join(verdict.sentences()))

# %% [markdown]
# ## What the data can and cannot support
# * M5 compares changes within metros of each class. The anchor's claim comes from a
#   cross-section of metros (which metros export more), so a within-metro test that does not find
#   a mid-size advantage does not refute it, and one that finds it does not confirm a causal
#   benefit: both are associations.
# * Each class coefficient rests only on the metros of that class whose measure changes (counted
#   above). Where that is a handful of metros, a large or "significant" coefficient can come from
#   one or two metros, and cluster-robust standard errors understate the uncertainty.
# * Consular posts change within metros rarely (three snapshots and dated events), and small
#   metros have few posts at all; city-network joins are concentrated in large metros.
# * Nine class coefficients and their differences are many tests; an isolated p-value below 0.05
#   is to be expected by chance and is weak evidence on its own.
# * The classes are terciles (or fixed cut-offs) of population in one year; metros near a cut-off
#   are much alike, and a different split could move metros between classes. A linear count
#   effect per class is a coarse stand-in for the anchor's non-linear forests.
