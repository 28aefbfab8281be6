# ---
# jupyter:
#   jupytext:
#     text_representation:
#       extension: .py
#       format_name: percent
# ---

# %% [markdown]
# # 03 Fixed effects: diplomacy and exports across and within metros
#
# **Question.** Do metros export more when they have more diplomacy? Across metros: do metros
# with more sister-city ties, consular posts and city-network memberships than other metros
# export more? Within metros over time: does a metro export more in the years it has more of
# them than it usually does, relative to the national change of the year? And how much does the
# answer depend on the estimator and on how the standard errors are computed?
#
# The outcome is log merchandise exports (current dollars); every model holds log population and
# log per-capita income fixed. A coefficient b is the change in log exports with one more tie,
# post or network, that is 100 (exp(b) - 1) percent. The models (all from `citydip estimate`):
#
# | model | compares | identified by |
# |---|---|---|
# | M1 between | metro means over the sample years (100 observations) | differences across metros |
# | M2 pooled + year FE | metro-years, common year effects | mostly differences across metros |
# | M3 two-way FE | metro and year effects | changes within a metro, net of the year's average change |
# | M3-CG | M3 with consulates general instead of all consular posts | as M3 |
# | M4 PPML | M3 in levels, Poisson pseudo-likelihood (keeps large and small exporters on one scale) | as M3 |
# | M6 one-year lags | M3 with the measures a year earlier | as M3, measure changes one year before |
#
# Benchmarks. Haddad, Rose & Bhagat (2025): across the 100 largest metros, sister cities,
# consulates general and network memberships all go with higher exports, consulates most
# strongly (effect sizes not public: compare directions and rankings). Rose (2007): each extra
# foreign consulate goes with roughly 6-10% higher bilateral exports in a gravity cross-section.
# Head & Ries (2010): the export associations of trade missions vanish once pair fixed effects
# are included, the cautionary benchmark for what fixed effects do to such associations.

# %%
from IPython.display import Markdown

from citydip.analysis import effects as fx
from citydip.estimation.catalogue import MEASURES
from citydip.report import coefficient_plot, notebook
from citydip.report.figures import percent_effects_plot

ctx = notebook.start("03_fixed_effects")
est = ctx.estimates
MODELS, INFERENCE = fx.MODELS, fx.INFERENCE
absent = fx.missing_models(est, [*MODELS.values(), *INFERENCE.values()])
assert not absent, f"models missing from estimates.csv: {absent}"
nobs = est.drop_duplicates("model").set_index("model").nobs
print(f"{ctx.data_label}: " + "; ".join(f"{k} N = {int(nobs[m]):,}" for k, m in MODELS.items()))

# %% [markdown]
# ## Across and within metros
# One column per model. M1 and M2 compare metros with one another; M3, M3-CG, M4 and M6 compare
# each metro with itself over time (metro effects absorb everything about a metro that does not
# change, year effects everything common to all metros in a year). Standard errors are
# clustered by metro except in M1 (heteroskedasticity-robust, one observation per metro).
# p-values (and the stars) follow citydip's one inference rule (`conventions.RULES`, README
# "Inference"), stated per model in the row "p-values from": t(N-K) for M1, t(G-1) with G the
# metros for the metro-clustered models, the normal for M4 (PPML).

# %%
from citydip.report.outputs import (
          main_table,  # the one definition of the main table's models and terms
)

main = main_table(est, synthetic=ctx.synthetic)
ctx.table(main, "fixed_effects_main", cell="Across and within metros",
          caption=f"Log exports on the diplomacy measures: between, pooled, two-way fixed effects, PPML and "
                  f"one-year lags; p-values from t(N-K) (M1), t(G-1) (metro-clustered) and the normal (M4 PPML), "
                  f"as the row 'p-values from' states ({ctx.data_label})")
Markdown(main.to_markdown())

# %% [markdown]
# ## In percent
# Each diplomacy coefficient as the percent difference in exports with one more tie, post or
# network (95% interval in the same units), with its t statistic and p-value. For M6 the measure
# is the previous year's; for M3-CG the consulate row is consulates general. Intervals and
# p-values use each model's reference, as in the table above: t(N-K) for M1, t(G-1) for the
# metro-clustered models, the normal for M4.

# %%
effects = fx.percent_effects(est, MODELS)
ctx.table(effects.round(4), "percent_effects", cell="In percent",
          caption=f"Diplomacy coefficients as percent differences in exports per one more tie, post or network, "
                  f"with 95% intervals and p-values from t(N-K) (M1), t(G-1) (metro-clustered) or the normal "
                  f"(M4 PPML) ({ctx.data_label})")
effects.pivot(index="model", columns="measure", values="percent").loc[list(MODELS)].round(2)

# %%
fig = percent_effects_plot(effects, fx.BENCHMARK_MODELS, MEASURES)
ctx.figure(fig, "percent_effects_by_model", cell="In percent",
           caption=f"Percent difference in exports per one more tie, post or network, by model; 95% intervals "
                   f"from t(N-K) (M1), t(G-1) (metro-clustered) or the normal (M4 PPML) ({ctx.data_label})")
fig

# %% [markdown]
# ## What the within-metro coefficients rest on
# A fixed-effects coefficient is identified only by metros whose measure changes during the
# sample years. For each measure, in the M3 estimation sample: how many metros change at least
# once, how many year-on-year changes there are, and the share of the measure's variance that is
# within metros (the rest is differences between metros, absorbed by the metro effects).

# %%
sample = fx.estimation_sample(ctx.panel)
variation = fx.identifying_variation(sample)
ctx.table(variation.round(3), "identifying_variation", cell="What the within-metro coefficients rest on",
          caption=f"Within-metro variation of each diplomacy measure in the two-way fixed-effects sample "
                  f"({ctx.data_label})")
variation.round(3)

# %% [markdown]
# ## Consulates on the Lowy edition years only
# Before the first Lowy edition (2016) consular posts are carried back from it unless a dated event
# says otherwise, so an opening before 2016 that the curated events miss counts as present
# throughout: an error that is not random. The M3 consular-post estimate on the edition years only
# (variant `consulates-editions-only`: no value before 2016, the default's values from 2016 on)
# beside the carried-back one, with the metros whose consular posts change within each sample.
# Both are metro-clustered: intervals and p-values from t(G-1), G the metros in each sample.

# %%
from citydip.analysis import consulates as cons

editions_only = ctx.variants[1].get(cons.VARIANT, cons.without_carry_back(ctx.panel))
edition_years = cons.edition_years_estimate(ctx.panel, editions_only)
ctx.table(edition_years.round(4), "consulates_edition_years", cell="Consulates on the Lowy edition years only",
          caption=f"Two-way FE consular-post estimate on the Lowy edition years only beside the carried-back one, "
                  f"with the metros whose consular posts change in each sample; metro-clustered, p-values and "
                  f"intervals from t(G-1) ({ctx.data_label})")
print("\n".join(cons.sentences(edition_years)))

# %% [markdown]
# ## Inference: does the two-way FE verdict depend on the standard errors?
# The M3 estimates are the same in every row; only the inference changes: clustered by metro
# (the default; p-values from t(G-1)), clustered by metro and year (t(min(G, T)-1), T the
# years), a wild cluster bootstrap by metro (restricted, Rademacher weights; p-value the share of
# bootstrap |t| above the observed, draws and seed in the table's caption; its standard error is
# the clustered one), and Driscoll-Kraay (robust to correlation across metros within a year and
# serial correlation; t(T-1)).

# %%
from citydip.estimation.fitting import WILD_REPS, WILD_SEED

inference = fx.inference_robustness(est, INFERENCE)
ctx.table(inference.round(4), "inference_robustness", cell="Inference",
          caption=f"Two-way fixed-effects estimates under four kinds of standard errors; p-values from t(G-1) "
                  f"(metro cluster), t(min(G, T)-1) (two-way cluster), the wild cluster bootstrap ({WILD_REPS:,} "
                  f"Rademacher draws, seed {WILD_SEED}) and t(T-1) (Driscoll-Kraay) ({ctx.data_label})")
print("\n".join(fx.inference_sentences(inference, sample)))

# %%
fig = coefficient_plot(est, terms=list(MEASURES), models=[INFERENCE[k] for k in INFERENCE
                                                         if "wild" not in k])
ctx.figure(fig, "inference_intervals", cell="Inference",
           caption=f"Two-way fixed-effects estimates with 95% intervals under metro-clustered (t(G-1)), two-way "
                   f"clustered (t(min(G, T)-1)) and Driscoll-Kraay (t(T-1)) standard errors (the wild bootstrap "
                   f"gives p-values only) ({ctx.data_label})")
fig

# %% [markdown]
# ## Against the benchmarks
# Directions and rankings as the anchor paper reports them (the measure with the largest signed
# t statistic, the strongest positive association, ranks 1), the consular-post coefficient in percent against Rose's 6-10% per
# consulate, and what the metro effects do to the pooled association (Head & Ries). The
# p-values are the models' own (t(N-K) for M1, t(G-1) clustered, the normal for M4).

# %%
benchmarks = fx.benchmark_comparison(effects)
ctx.table(benchmarks.round(4), "benchmark_comparison", cell="Against the benchmarks",
          caption=f"Signs and t-statistic rankings of the three measures by model, for comparison with the anchor "
                  f"paper ({ctx.data_label})")
benchmarks.pivot(index="model", columns="measure", values="rank_by_t")

# %% [markdown]
# ## In short

# %%
truth = ctx.provenance["synthetic_truth"] if ctx.synthetic else None
findings = fx.fixed_effects_summary(effects, inference, variation, models=MODELS, truth=truth)
print("\n".join(findings.sentences()))

# %% [markdown]
# ## What the data can and cannot support
# * These are associations, not causal effects. M1 and M2 compare metros with one another, so
#   any metro trait that goes with both diplomacy and exports (size beyond population, industry
#   mix, ports, immigrant communities, a history of trade) enters their coefficients.
# * M3, M3-CG, M4 and M6 remove everything constant about a metro and everything common to a
#   year. What is left is identified by metros whose measure changes during the sample years,
#   counted in the variation table above; where that count is small the coefficient rests on a
#   handful of metros, and clustered standard errors are less reliable than their size
#   suggests (the wild bootstrap p-values are the better guide then).
# * Driscoll-Kraay standard errors rest on many periods; with the sample's few years and short
#   lag window (printed with the inference table) they allow little serial correlation in a
#   metro's errors, while the measures are slowly accumulating stocks. Where they alone give a
#   small p-value, read it with that in mind.
# * Consular posts change within metros rarely: the counts come from three snapshots (2016, 2017,
#   2019) and dated openings and closings, with other years filled by a stated rule. A within-metro
#   consulate coefficient says little about what opening a consulate would do.
# * Reverse causation is not excluded: countries open consulates, and cities seek partners and
#   networks, where trade is already growing. The one-year lags (M6) only shift the timing; they
#   do not identify the direction.
# * The anchor's forests and Rose's gravity regressions are cross-sectional; the closest analogue
#   here is M1. A fixed-effects coefficient that differs from them answers a different question
#   (within-metro change), which is exactly Head & Ries's point, not necessarily a contradiction.
# * Exports are recorded where the exporter of record is located, and delineations change over
#   the sample years (notebook 01); both add noise that the fixed effects do not remove.
