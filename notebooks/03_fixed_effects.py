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
import numpy as np
import pandas as pd
import matplotlib.style
from IPython.display import Markdown
from matplotlib.figure import Figure

from citydip.estimation.catalogue import CONTROLS, MEASURES
from citydip.estimation.fitting import dk_bandwidth
from citydip.report import coefficient_plot, notebook, regression_table, term_label
from citydip.report.figures import STYLE
from citydip.report.labels import base_term

ctx = notebook.start("03_fixed_effects")
est = ctx.estimates
MODELS = {"M1": "M1 between", "M2": "M2 pooled + year FE", "M3": "M3 two-way FE",
          "M3-CG": "M3-CG two-way FE, consulates general", "M4": "M4 PPML", "M6": "M6 one-year lags"}
INFERENCE = {"metro cluster": "M3 two-way FE", "two-way cluster (metro, year)": "M3 two-way FE [two-way cluster]",
             "wild cluster bootstrap (metro)": "M3 two-way FE [wild bootstrap]",
             "Driscoll-Kraay": "M3 two-way FE [Driscoll-Kraay]"}
absent = sorted((set(MODELS.values()) | set(INFERENCE.values())) - set(est.model))
assert not absent, f"models missing from estimates.csv: {absent}"
row = est.set_index(["model", "term"])


def measure_of(term: str) -> str:
    """The catalogue measure a term stands for (lags and consulates general mapped to their measure)."""
    base = base_term(term)
    return "consular_posts" if base == "consulates_general" else base


def pct(b):
    return 100 * (np.exp(b) - 1)


nobs = est.drop_duplicates("model").set_index("model").nobs
print(f"{ctx.data_label}: " + "; ".join(f"{k} N = {int(nobs[m]):,}" for k, m in MODELS.items()))

# %% [markdown]
# ## Across and within metros
# One column per model. M1 and M2 compare metros with one another; M3, M3-CG, M4 and M6 compare
# each metro with itself over time (metro effects absorb everything about a metro that does not
# change, year effects everything common to all metros in a year). Standard errors are
# clustered by metro except in M1 (heteroskedasticity-robust, one observation per metro).

# %%
TERMS = [*MEASURES, "consulates_general", *(f"{m}_lag1" for m in MEASURES), *CONTROLS]
main = regression_table(est, models=list(MODELS.values()), terms=TERMS,
                        caption="SYNTHETIC DEMO DATA, NOT REAL." if ctx.synthetic else "")
ctx.table(main, "fixed_effects_main", cell="Across and within metros",
          caption=f"Log exports on the diplomacy measures: between, pooled, two-way fixed effects, PPML and "
                  f"one-year lags ({ctx.data_label})")
Markdown(main.to_markdown())

# %% [markdown]
# ## In percent
# Each diplomacy coefficient as the percent difference in exports with one more tie, post or
# network (95% interval in the same units), with its t statistic and p-value. For M6 the measure
# is the previous year's; for M3-CG the consulate row is consulates general.

# %%
rows = []
for key, model in MODELS.items():
    for term in est.loc[est.model == model, "term"]:
        if base_term(term) not in (*MEASURES, "consulates_general"):
            continue
        r = row.loc[(model, term)]
        rows.append({"model": key, "measure": term_label(measure_of(term)), "term": term,
                     "estimate": r.estimate, "percent": pct(r.estimate), "percent_low": pct(r.conf_low),
                     "percent_high": pct(r.conf_high), "t": r.statistic, "p_value": r.p_value, "nobs": int(r.nobs)})
effects = pd.DataFrame(rows)
ctx.table(effects.round(4), "percent_effects", cell="In percent",
          caption=f"Diplomacy coefficients as percent differences in exports per one more tie, post or network, "
                  f"with 95% intervals ({ctx.data_label})")
effects.pivot(index="model", columns="measure", values="percent").loc[list(MODELS)].round(2)

# %%
PANEL_MODELS = ["M1", "M2", "M3", "M4", "M6"]
with matplotlib.style.context(["default", STYLE]):
    fig = Figure(figsize=(8.4, 3.4), layout="constrained")
    axes = fig.subplots(1, 3, sharey=True)
    for ax, m in zip(axes, MEASURES):
        part = effects[(effects.term.map(base_term) == m)].set_index("model").reindex(PANEL_MODELS)
        y = np.arange(len(PANEL_MODELS))[::-1]
        for yy, (key, r) in zip(y, part.iterrows()):
            within = key not in ("M1", "M2")
            ax.errorbar(r.percent, yy, xerr=[[r.percent - r.percent_low], [r.percent_high - r.percent]],
                        fmt="o" if within else "s", color="C0" if within else "C1", markersize=4.5, capsize=2.5)
        ax.axvline(0, color="0.35", linewidth=0.8, linestyle="--", zorder=0)
        ax.set_xlabel(term_label(m), fontsize=9)
        ax.set_yticks(y, PANEL_MODELS)
    fig.supxlabel("Percent difference in exports per one more (95% interval); across metros: squares, "
                  "within metros: circles", fontsize=8)
ctx.figure(fig, "percent_effects_by_model", cell="In percent",
           caption=f"Percent difference in exports per one more tie, post or network, by model ({ctx.data_label})")
fig

# %% [markdown]
# ## What the within-metro coefficients rest on
# A fixed-effects coefficient is identified only by metros whose measure changes during the
# sample years. For each measure, in the M3 estimation sample: how many metros change at least
# once, how many year-on-year changes there are, and the share of the measure's variance that is
# within metros (the rest is differences between metros, absorbed by the metro effects).

# %%
sample = ctx.panel.dropna(subset=["log_exports", *MEASURES, *CONTROLS]).sort_values(["cbsa_code", "year"])
variation = []
for m in [*MEASURES, "consulates_general"]:
    x = sample[m].astype(float)
    demeaned = x - sample.groupby("cbsa_code")[m].transform("mean")
    variation.append({"measure": term_label(m), "metros": sample.cbsa_code.nunique(),
                      "metros_with_any": int((sample.groupby("cbsa_code")[m].max() > 0).sum()),
                      "metros_that_change": int((sample.groupby("cbsa_code")[m].agg(lambda s: s.max() - s.min()) > 0).sum()),
                      "year_on_year_changes": int((sample.groupby("cbsa_code")[m].diff().fillna(0) != 0).sum()),
                      "within_share_of_variance": float(demeaned.var() / x.var()) if x.var() > 0 else np.nan})
variation = pd.DataFrame(variation)
ctx.table(variation.round(3), "identifying_variation", cell="What the within-metro coefficients rest on",
          caption=f"Within-metro variation of each diplomacy measure in the two-way fixed-effects sample "
                  f"({ctx.data_label})")
variation.round(3)

# %% [markdown]
# ## Inference: does the two-way FE verdict depend on the standard errors?
# The M3 estimates are the same in every row; only the inference changes: clustered by metro
# (the default), clustered by metro and year, a wild cluster bootstrap by metro (p-value from
# 9,999 Rademacher draws with the null imposed; its standard error is the clustered one), and
# Driscoll-Kraay (robust to correlation across metros within a year and serial correlation).

# %%
inference = []
for m in MEASURES:
    for label, model in INFERENCE.items():
        r = row.loc[(model, m)]
        inference.append({"measure": term_label(m), "inference": label, "estimate": r.estimate,
                          "std_error": r.std_error, "t": r.statistic, "p_value": r.p_value})
inference = pd.DataFrame(inference)
ctx.table(inference.round(4), "inference_robustness", cell="Inference",
          caption=f"Two-way fixed-effects estimates under four kinds of standard errors ({ctx.data_label})")
print(inference.pivot(index="measure", columns="inference", values="p_value").round(3).to_string())
print(f"Driscoll-Kraay: {sample.year.nunique()} years, Bartlett lag window {dk_bandwidth(sample.year.nunique())} "
      f"years; clusters: {sample.cbsa_code.nunique()} metros, {sample.year.nunique()} years")
for label in INFERENCE:
    significant = inference[(inference.inference == label) & (inference.p_value < 0.05)].measure.tolist()
    print(f"- {label}: p < 0.05 for {', '.join(significant) if significant else 'no measure'}")

# %%
fig = coefficient_plot(est, terms=list(MEASURES), models=[INFERENCE[k] for k in INFERENCE
                                                         if "wild" not in k])
ctx.figure(fig, "inference_intervals", cell="Inference",
           caption=f"Two-way fixed-effects estimates with 95% intervals under metro-clustered, two-way clustered "
                   f"and Driscoll-Kraay standard errors (the wild bootstrap gives p-values only) ({ctx.data_label})")
fig

# %% [markdown]
# ## Against the benchmarks
# Directions and rankings as the anchor paper reports them (the measure with the largest signed
# t statistic, the strongest positive association, ranks 1), the consular-post coefficient in percent against Rose's 6-10% per
# consulate, and what the metro effects do to the pooled association (Head & Ries).

# %%
bench = effects[effects.model.isin(["M1", "M2", "M3", "M4", "M6"])].assign(
    measure_key=lambda d: d.term.map(base_term))
bench["rank_by_t"] = bench.groupby("model").t.rank(ascending=False).astype(int)
bench["positive"] = bench.estimate > 0
bench["positive_p05"] = (bench.estimate > 0) & (bench.p_value < 0.05)
benchmarks = bench[["model", "measure", "estimate", "percent", "t", "p_value", "rank_by_t", "positive",
                    "positive_p05"]]
ctx.table(benchmarks.round(4), "benchmark_comparison", cell="Against the benchmarks",
          caption=f"Signs and t-statistic rankings of the three measures by model, for comparison with the anchor "
                  f"paper ({ctx.data_label})")
benchmarks.pivot(index="model", columns="measure", values="rank_by_t")

# %% [markdown]
# ## In short

# %%
b = bench.set_index(["model", "measure_key"])
cg = row.loc[(MODELS["M3-CG"], "consulates_general")]
for key in ["M1", "M2", "M3", "M4", "M6"]:
    part = b.loc[key]
    top = part.t.idxmax()
    print(f"- {key} ({MODELS[key]}): positive for {int(part.positive.sum())} of 3 measures "
          f"({int(part.positive_p05.sum())} positive with p < 0.05); largest t statistic: {term_label(top)}"
          f"{' (as in the anchor)' if top == 'consular_posts' else ' (the anchor ranks consulates first)'}.")
print(f"- Consulates have the largest t statistic in M3: {'yes' if b.loc['M3'].t.idxmax() == 'consular_posts' else 'no'}.")
for key in ["M1", "M2", "M3"]:
    r = b.loc[(key, "consular_posts")]
    low, high = (pct(row.loc[(MODELS[key], "consular_posts")][c]) for c in ("conf_low", "conf_high"))
    where = "inside" if 6 <= r.percent <= 10 else ("below" if r.percent < 6 else "above")
    print(f"- One more consular post, {key}: {r.percent:+.1f}% exports (95% interval {low:+.1f}% to {high:+.1f}%): "
          f"the estimate is {where} Rose's 6-10% range; the interval {'overlaps' if low <= 10 and high >= 6 else 'excludes'} it.")
print(f"- One more consulate general (M3-CG): {pct(cg.estimate):+.1f}% "
      f"(p {'< 0.001' if cg.p_value < 0.001 else f'= {cg.p_value:.3f}'}).")
for m in MEASURES:
    pooled, within = b.loc[("M2", m)], b.loc[("M3", m)]
    change = ("changes sign" if np.sign(pooled.estimate) != np.sign(within.estimate) else
              "shrinks" if abs(within.estimate) < abs(pooled.estimate) else "grows")
    print(f"- {term_label(m)}: pooled (M2) {pooled.percent:+.2f}% -> two-way FE (M3) {within.percent:+.2f}% per one "
          f"more: the association {change} once metro effects are added; "
          f"p < 0.05 in M3 under {sum(inference[(inference.measure == term_label(m))].p_value < 0.05)} of "
          f"{len(INFERENCE)} inference methods.")
print("- Metros whose measure changes during the sample (what the within-metro coefficients rest on): "
      + "; ".join(f"{r.measure} {r.metros_that_change} of {r.metros}" for r in variation.itertuples()) + ".")
if ctx.synthetic:
    truth = ctx.provenance["synthetic_truth"]
    true = {"sister_active": truth["beta_sister"], "consular_posts": truth["beta_consulate"],
            "networks_dated": truth["beta_network"]}
    print("- Synthetic check, true coefficient vs M3 estimate: " + "; ".join(
        f"{term_label(m)} {true[m]:.3f} vs {row.loc[(MODELS['M3'], m)].estimate:.3f}" for m in MEASURES))

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
