# ---
# jupyter:
#   jupytext:
#     text_representation:
#       extension: .py
#       format_name: percent
# ---

# %% [markdown]
# # 08 Multiverse: the specification curve
#
# **Question.** Do metros with more city diplomacy export more, whichever defensible way the
# question is put to the data? Notebooks 03 to 07 fit a handful of models, each one path through
# many choices: which outcome, which diplomacy measure, which controls, which fixed effects,
# which metros and years, how the panel is built and how the standard errors are computed. Here
# every combination of those choices is fitted, and the whole set of estimates, the
# *specification curve* (Simonsohn, Simmons & Nelson 2020, Nature Human Behaviour 4:1208-1214),
# is read at once: how many specifications find a positive association, how many a significant
# one, which choices move the estimate, and whether the curve as a whole can be told apart from
# what the same choices give when there is no association at all.
#
# Benchmark. Haddad, Rose & Bhagat (2025): across the 100 largest metros, sister cities,
# consulates general and network memberships all go with higher exports, consulates most
# strongly, and mid-sized metros may gain most. Each of the three claims is checked against the
# whole curve below.
#
# Every specification is `outcome ~ treatment + controls | fixed effects` by least squares on
# one sample of one panel, fitted by `citydip.estimation.speccurve` (identical to
# `pyfixest.feols`; three specifications are checked against it directly below). A coefficient b
# is the change in log exports with one more tie, post or network, that is 100 (exp(b) - 1)
# percent.

# %%
from IPython.display import Image, display

from citydip.analysis import multiverse as mu
from citydip.analysis.robustness import deflator_spread, with_default
from citydip.estimation.speccurve import NULL_SEED
from citydip.report import notebook, term_label
from citydip.report.robustness_plots import option_medians, plot_focused_curve

ctx = notebook.start("08_multiverse")
index, variant_panels = ctx.variants
panels = {name: mu.prepare(frame) for name, frame in with_default(ctx.panel, index, variant_panels)[0].items()}
panel = panels[mu.DEFAULT]
print(f"{ctx.data_label}: default panel {len(panel):,} metro-years, {panel.cbsa_code.nunique()} metros, "
      f"{panel.year.min()}-{panel.year.max()}; {len(index)} robustness variants of the panel")
if not index:
    print("No robustness variants for this panel (they are built from the published files by `citydip "
          "replicate`): the data-construction choice is left out of the curve.")
print(f"Log nominal minus log real exports varies across metros within a year by at most {deflator_spread(panel):.1e}: "
      "real exports differ from nominal by a term common to all metros in a year.")

# %% [markdown]
# ## The choices
# Every combination of one option from each row is one specification:
#
# | choice | options | why |
# |---|---|---|
# | data | the default panel and each robustness variant of notebook 07 | construction choices (undated ties, conflicting years, consulate filling, delineation breaks, size cut-offs, years) |
# | outcome | log exports; log exports per capita (without controls only) | total exports, or exports scaled by population |
# | treatment | sister-city ties (active), consular posts, consulates general, city networks joined; CDP–ICLEI participation (`cdp_any`: a local government of the metro reports to CDP–ICLEI in the year) | the three measures of the panel, the anchor paper's consulate measure, and a fourth diplomacy measure that exists for 2016-2021 only: its specifications rest on those years (2016-2019 in the 2005-2019 sample), with the three measures as its "other diplomacy" controls; the anchor's claims below concern the anchor's measures and leave it out |
# | controls | none; population; population + per-capita income; population + real GDP; population + per-capita income + the other diplomacy measures | size, income and output; the last is the joint model of notebook 03 (for consulates general the other measures are sister ties and networks, since consulates general are consular posts) |
# | fixed effects | metro + year; year; metro | within metros net of the year (notebook 03's M3); across metros within a year (closest to the anchor's comparisons); within metros without year effects (a contrast: the national cycle and inflation are left in) |
# | sample | all; small, mid-size, large metros; 2005-2019 (the anchor's years); no delineation break (metro-years whose export value follows a different delineation left out; only where the panel has such metro-years) | who and when |
# | inference | clustered by metro (p-values and intervals from t(G-1), G the metros in the sample); heteroskedasticity-robust (t(N-K), K counting the fixed effects) | the second as a contrast only: it changes the standard errors, never the estimate |
#
# Log real exports is not an option: it is log nominal exports less the log of a deflator that is
# the same for every metro in a year (checked above), so with year effects it gives exactly the
# same coefficients and standard errors (notebook 07 checks this numerically), and without them
# the deflator's trend is just one more part of the national trend that the metro-only
# structure leaves in. Log exports per capita is log exports less log population, so with
# population among the controls it gives exactly the estimate of log exports: it enters the
# curve only without controls (where it amounts to log exports with the population elasticity
# set to one). Other exact repetitions remain (a panel variant that does not touch a measure, a
# variant that equals a sample) and are counted below.
#
# Some specifications rest on very few metros: among small metros, for example, hardly any has
# a consulate general, and with metro effects only the metros whose measure changes count. For
# every regression the table records the metros its treatment rests on (nonzero in them, for the
# across-metro comparisons; changing in them, for the within-metro ones, on the metro-years with
# an export value); fewer than five is marked `thin`. Standard errors clustered by metro are
# unreliable when so few clusters carry the treatment (they tend to be too small), so such
# estimates are reported but also set apart below.

# %%
SAMPLES = mu.samples(panel)  # size classes, 2005-2019, and "no boundary break" only where the panel has breaks
mv = mu.build_curve(panels, SAMPLES, min_metros=mu.MIN_METROS, cdp=True)  # with CDP participation, 2016-2021
ctx.table(mu.specifications_table(mv), "multiverse_specifications", cell="The choices", markdown=False, compress=True,
          caption=f"Every regression of the curve: choices, focal coefficient (and in percent), metro-clustered "
                  f"standard error, t, p-value and 95% interval (t(G-1)), observations, clusters, notes, and the "
                  f"heteroskedasticity-robust standard error and p-value (t(N-K)); duplicate = same estimate, "
                  f"standard error and N as an earlier regression of the same treatment; metros_identifying = metros "
                  f"whose treatment "
                  f"is nonzero (year effects only) or changes (metro effects); thin = fewer than {mv.min_metros} "
                  f"({ctx.data_label})")
print("\n".join(mu.describe(mv)))

# %% [markdown]
# Three specifications checked against `pyfixest.feols` directly (default panel): two-way fixed
# effects with population, metro-clustered; log exports per capita with year effects and no
# controls, heteroskedasticity-robust; consulates general with the joint controls and year
# effects among mid-size metros, metro-clustered.

# %%
checks = mu.feols_checks(panel, mv.specifications)
for c in checks.itertuples():
    print(f"{c.formula} [{c.vcov}, {c.sample}]: curve {c.curve_coefficient:.6f} ({c.curve_std_error:.6f}), feols "
          f"{c.feols_coefficient:.6f} ({c.feols_std_error:.6f}); N {c.curve_nobs} vs {c.feols_nobs}")
assert checks.matches.all(), "the curve differs from pyfixest.feols"

# %% [markdown]
# ## The curve in numbers
# By treatment (standard errors clustered by metro, the curve's inference): the regressions, how
# many were estimated, the median coefficient (and in percent), the share positive, the share
# significant at 5% (and by sign). The same on the distinct estimates only, on the estimates
# resting on at least five metros (whose treatment is nonzero, or changes, in five or more), and
# with heteroskedasticity-robust standard errors as a contrast. Then by treatment and
# fixed-effect structure: across metros (year effects), within metros net of the year (metro +
# year) and within metros without year effects (metro).

# %%
by_treatment, by_fe = mu.summary_by_treatment(mv), mu.summary_by_fixed_effects(mv)
ctx.table(by_treatment.round(4), "multiverse_summary_treatment", cell="The curve in numbers",
          caption=f"Specification curve by treatment: median coefficient, shares positive and significant at 5%, "
                  f"under metro-clustered standard errors (p-values from t(G-1); all estimates, distinct ones, those "
                  f"resting on {mv.min_metros} or more metros) and heteroskedasticity-robust ones (t(N-K)) "
                  f"({ctx.data_label})")
ctx.table(by_fe.round(4), "multiverse_summary_fixed_effects", cell="The curve in numbers",
          caption=f"Specification curve by treatment and fixed-effect structure, metro-clustered standard errors, "
                  f"significance at 5% from t(G-1) ({ctx.data_label})")
display(by_treatment.set_index(["inference", "treatment"]).round(3))
by_fe.set_index(["treatment", "fixed_effects"]).round(3)

# %% [markdown]
# ## The curves
# One figure per treatment (the units differ: per tie, per post, per network). On top, every
# specification's coefficient with its 95% interval (metro-clustered, t(G-1)), sorted from
# smallest to largest; dark where p < 0.05 (same reference). Beneath, one row per option of
# each choice, marked where a specification uses it: a choice that moves the estimate shows up
# as its marks bunching at one end. The vertical axis covers the estimates that rest on five or
# more metros and most of their intervals; estimates resting on fewer metros that fall outside
# it (a handful of metros carrying the treatment, such as the one small metro with a consulate
# general) are marked by red triangles at the edge.

# %%
for x in mv.options["treatment"]:
    fig = plot_focused_curve(mv.clustered[mv.clustered.treatment == x], mv.options, label=term_label(x),
                             min_metros=mv.min_metros, dimensions=mv.dimensions)
    path = ctx.figure(fig, f"multiverse_curve_{x}", cell="The curves",
                      caption=f"Specification curve of {term_label(x).lower()}: coefficients on log exports with 95% "
                              f"intervals (metro-clustered, t(G-1); dark: p < 0.05), sorted, with the choices beneath "
                              f"({ctx.data_label})")
    display(Image(filename=str(path)))

# %% [markdown]
# ## Which choices move the estimate
# For each treatment and each option of each choice: the median coefficient of the
# specifications that use it (metro-clustered inference; the inference choice does not move
# estimates) and its interquartile range. A choice matters when its options' medians differ: the
# range of its options' medians ranks the choices (robust to a few extreme estimates); the share
# of the variance of the estimates explained by the choice (between-option over total variance)
# is given beside it, and is driven by the extreme ones.

# %%
options, importance = mu.by_option(mv), mu.choice_importance(mv)
ctx.table(options.round(5), "multiverse_by_option", cell="Which choices move the estimate",
          caption=f"Median coefficient, interquartile range and shares positive by option of each choice, per "
                  f"treatment ({ctx.data_label})")
ctx.table(importance.round(4), "multiverse_choice_importance", cell="Which choices move the estimate",
          caption=f"Share of the variance of the estimates explained by each choice and range of its options' "
                  f"medians, per treatment ({ctx.data_label})")
importance.pivot(index="choice", columns="treatment", values=["median_range", "variance_share"]) \
    .reindex(mv.dimensions).round(3)

# %%
fig = option_medians(options, mv.estimated, mv.options, mv.dimensions, mv.options["treatment"])
path = ctx.figure(fig, "multiverse_by_option", cell="Which choices move the estimate",
                  caption=f"Median coefficient by option of each choice, per treatment, with interquartile ranges "
                          f"({ctx.data_label})")
Image(filename=str(path))

# %% [markdown]
# ## Against the anchor's claims
# * **All go with higher exports.** Per treatment, the share of specifications with a positive
#   and with a significantly positive coefficient: over the whole curve, over the specifications
#   resting on at least five metros, and among those the across-metro ones (year effects only,
#   the comparison closest to the anchor's) and the within-metro ones (metro + year effects).
#   "Significantly" means p < 0.05 with metro-clustered standard errors and t(G-1), here and in
#   the size-class claim.
# * **Consulates most strongly.** In every cell of the other choices (panel, outcome, controls,
#   fixed effects, sample), which of sister ties, consulates general and networks has the
#   largest t statistic (as in notebook 03, a unit-free ranking); the same with all consular
#   posts in place of consulates general. Only cells where all three rest on five or more metros.
# * **Mid-sized metros gain most.** In every cell of the other choices (panel, outcome,
#   treatment, controls, fixed effects) where all three size classes rest on five or more
#   metros, which class has the largest coefficient, and whether the mid-size coefficient is
#   also significantly positive. By chance alone each class would come first in about a third
#   of the cells.
#
# The last table states a verdict per claim (`citydip.analysis.anchor.claims_from_curve`):
# supported (`yes`) when every measure is significantly positive in most specifications, when
# consulates have the largest t in most cells, and when the mid-size coefficient is the largest
# and significantly positive in most cells of every measure; `partly` when only some of this
# holds. Cells share metros and years, so "most" describes the curve; it is not a test.

# %%
claims = mu.anchor_tables(mv)
ctx.table(claims.signs.round(4), "multiverse_anchor_signs", cell="Against the anchor's claims",
          caption=f"Shares of positive and significantly positive (negative) coefficients (p < 0.05, "
                  f"metro-clustered, t(G-1)) per treatment, over the curve, over the specifications resting on "
                  f"{mv.min_metros}+ metros, and by fixed-effect structure ({ctx.data_label})")
ctx.table(claims.ranking.round(4), "multiverse_anchor_ranking", cell="Against the anchor's claims",
          caption=f"Which measure has the largest t statistic, over the cells of the other choices in which all "
                  f"three rest on {mv.min_metros}+ metros ({ctx.data_label})")
ctx.table(claims.size_classes.round(4), "multiverse_anchor_size_classes", cell="Against the anchor's claims",
          caption=f"Which size class has the largest coefficient, over the cells of the other choices in which all "
                  f"three classes rest on {mv.min_metros}+ metros, and how often the mid-size coefficient is "
                  f"significantly positive (p < 0.05, metro-clustered, t(G-1)) ({ctx.data_label})")
display(claims.signs.set_index(["treatment", "scope"]).round(3))
display(claims.ranking.round(3))
display(claims.size_classes.round(3))
claims.claims

# %% [markdown]
# ## Is the curve distinguishable from no association?
# Specifications are not independent, so counting significant ones says little by itself: under
# no association at all, many near-identical specifications can be significant together. The
# curve-level test (Simonsohn et al.) imposes the null of no association in every specification
# and asks how often a curve as extreme as the observed one arises. Its draws are a wild cluster
# bootstrap by metro with the design held fixed: each specification's model without its treatment
# (controls and fixed effects only: the null imposed) is fitted, and in every draw its residuals
# are multiplied by a random sign per metro, the same sign for a metro in every specification, so
# that the dependence between specifications is kept; each specification is then re-estimated on
# the drawn outcome. The statistics are the median coefficient, the share of specifications
# significant at 5% in the direction of the median, and Stouffer's z (each specification's t
# statistic turned into a standard normal quantile, summed, divided by the square root of their
# number); each is measured in the direction of its own curve's median, observed and drawn alike.
# p-values are (1 + draws at least as extreme) / (1 + draws), with 999 draws (none can fall below
# 0.001), each with its Monte Carlo standard error.
#
# The test curve is the default panel with the three measures of the panel (consulates general
# are a subset of consular posts, so including both would count consulates twice), log exports
# with every control set, fixed-effect structure and sample, metro-clustered standard errors. The
# median pools coefficients in different units (per tie, per post, per network), so the share
# significant and Stouffer's z are the statistics to read. The main test pools the specifications
# with year effects (metro + year, year); each structure is also tested on its own, and the
# metro-only one is never pooled: without year effects the national cycle, trend and inflation
# stay in nominal exports and meet trending stocks of ties, posts and memberships, and the shocks
# metros share in a year correlate them, which a bootstrap by metro cannot reproduce.

# %%
null = mu.curve_null_test(panel, SAMPLES, seed=NULL_SEED)  # 999 wild cluster bootstrap draws, the default
ctx.table(null.table.round(4), "multiverse_null_test", cell="Is the curve distinguishable from no association?",
          caption=f"Curve-level wild cluster bootstrap test under the null of no association ({null.test.draws} "
                  f"Rademacher draws by metro, seed {null.test.seed}; p = (1 + draws at least as extreme) / (1 + "
                  f"draws); default panel, three diplomacy measures, metro-clustered; specifications "
                  f"with year effects pooled, then each fixed-effect structure, metro-only apart) ({ctx.data_label})")
print(f"{null.specifications:,} specifications, {null.test.draws} wild cluster bootstrap draws (seed {null.test.seed})")
null.table.set_index(["group", "statistic"]).round(4)

# %% [markdown]
# ## In short

# %%
truth = ctx.provenance["synthetic_truth"] if ctx.synthetic else None
print("\n".join(mu.findings(mv, null, truth)))

# %% [markdown]
# ## What the data can and cannot support
# * Every specification estimates an association, not an effect. The across-metro
#   specifications (year effects only) compare metros with one another, so any trait that goes
#   with both diplomacy and exports (size beyond population, industry mix, ports, immigrant
#   communities, a history of trade) enters them; the within-metro ones rest on the few metros
#   whose measures change during the sample years (notebook 03 counts them). No choice in the
#   curve turns an association into a causal effect, so the share of specifications that agree
#   is not the probability that an effect exists.
# * The specifications are not independent draws. They share the same metros, years and sources,
#   and many differ only in a detail that barely changes their data; some repeat another exactly
#   (a variant that does not touch a measure, a variant that equals a sample; log exports per
#   capita with population controlled would repeat log exports, and is left out for that
#   reason). A curve of many near-duplicate specifications can
#   look more certain than it is: shares are weighted by how many ways a choice happens to be
#   spelled out, which is why the distinct estimates are shown beside all of them, and why the
#   curve-level test, which keeps the dependence between specifications, is the inference to
#   read rather than the count of significant ones.
# * Some choices are substantive and some arbitrary. Fixed effects decide which comparison is
#   made (across metros, or within a metro over time, with or without the national year-to-year
#   change), and the size classes and the other diplomacy measures change the question asked;
#   these are not noise to be averaged over, and their medians are shown separately above. The
#   metro-only structure leaves the national trend (and inflation) in, so it is a contrast, not a
#   defensible main specification. The choice of control set among size measures, the 2005-2019
#   window, the delineation breaks, the panel variants and the kind of standard errors are the
#   arbitrary ones: an answer that moves with them is fragile.
# * CDP–ICLEI participation (`cdp_any`) exists for 2016-2021 only: its specifications rest on
#   those six years (four in the 2005-2019 sample) and are not comparable in sample with those of
#   the other treatments, and its within-metro changes are metros starting or stopping to report
#   to CDP, which may reflect reporting effort as much as diplomacy.
# * Specifications resting on a handful of metros (fewer than five, a rule of thumb) are in the
#   curve like any other, and their clustered standard errors are too optimistic; the summaries
#   for five or more metros and the figures' axes set them apart. Heteroskedasticity-robust
#   standard errors ignore that a metro's years are correlated, which is why they are a contrast
#   only: the gap between their share of significant estimates and the clustered one above shows
#   how much that correlation matters.
# * The curve-level test covers the default panel, log exports and the three measures only; with
#   999 draws its p-values cannot fall below 0.001 (their Monte Carlo standard errors are in its
#   table). Its bootstrap treats metros as independent once year effects take out what they share
#   in a year, which is why the metro-only specifications are tested apart.
