# ---
# jupyter:
#   jupytext:
#     text_representation:
#       extension: .py
#       format_name: percent
# ---

# %% [markdown]
# # 02 Descriptive statistics: where diplomacy and exports concentrate
#
# **Question.** How large are the diplomacy measures and exports, how have they moved over the
# sample years, which metros hold the consular posts, sister-city ties and network memberships,
# and do metros with more of them export more?
#
# Everything here compares metros of very different size: New York and a metro of 600,000
# people sit in the same table. An association across metros says that big, rich, outward-looking
# metros have more of everything; it does not say that diplomacy raises exports. The regressions
# that hold size and time-invariant differences fixed are in notebook 03.

# %%
from citydip.analysis import descriptives as d
from citydip.report import notebook, term_label
from citydip.report.figures import (
      concentration_plot,
      exports_vs_diplomacy_plot,
      top_metros_plot,
      totals_plot,
)

ctx = notebook.start("02_descriptives")
panel = ctx.panel
MEASURES = ["consular_posts", "sister_active", "networks_dated"]
years = sorted(panel.year.unique())
REF_YEAR = 2019 if 2019 in years else years[-1]
ref = panel[panel.year == REF_YEAR]  # one row per metro: the year of the rankings
print(f"{ctx.data_label}: {panel.cbsa_code.nunique()} metros, {years[0]}-{years[-1]}; "
      f"reference year for rankings: {REF_YEAR}")

# %% [markdown]
# ## Summary statistics by period
# Metro-year statistics of the main variables, for the whole sample and for three consecutive
# periods of (nearly) equal length. Exports are in current US dollars (missing metro-years are
# left out, never filled); population in millions and per-capita income in thousands of dollars.
# `networks_ever` is a time-invariant count (memberships on record, dated or not), shown for
# comparison with the dated count.

# %%
summary = d.summary_by_period(panel)
ctx.table(summary.round(3), "summary_by_period", cell="Summary statistics",
          caption=f"Metro-year summary statistics of the main variables, all years and by period ({ctx.data_label})")
summary.round(2)

# %% [markdown]
# The panel-wide totals by year show how much each measure moves over time (the within-metro
# variation the fixed-effects models of notebook 03 rest on).

# %%
print("\n".join(d.movement_sentences(d.measure_movement(panel, MEASURES))))
fig = totals_plot(d.totals_by_year(panel, MEASURES),
                  {"exports_bn": "Exports (US$ bn, current)", **{m: term_label(m) for m in MEASURES}})
ctx.figure(fig, "totals_by_year", cell="Totals by year",
           caption=f"Sum over the panel's metros of exports and each diplomacy measure, by year ({ctx.data_label})")
fig

# %% [markdown]
# ## Which metros hold the diplomacy?
# The ten metros with the most consular posts, active sister-city ties and dated network
# memberships in the reference year (ties broken by population rank).

# %%
top = d.top_metros(ref, MEASURES)
ctx.table(top, "top_metros", cell="Top metros",
          caption=f"Ten metros with the most consular posts, sister-city ties and network memberships, {REF_YEAR} "
                  f"({ctx.data_label})")
top.pivot(index="position", columns="measure", values="metro")

# %%
fig = top_metros_plot(top, f"Count in {REF_YEAR}", short_name=d.short_name)
ctx.figure(fig, "top_metros", cell="Top metros",
           caption=f"Ten metros with the most of each diplomacy measure, {REF_YEAR} ({ctx.data_label})")
fig

# %% [markdown]
# ## Concentration
# The share of each measure held by the five metros with the most of it, and the number of metros
# with none, in the reference year; exports and population for comparison. A measure far more
# concentrated than population is one that the largest metros have disproportionately.

# %%
concentration = d.concentration(ref)
ctx.table(concentration.round(3), "concentration", cell="Concentration",
          caption=f"Share of each measure held by the top 5 and top 10 metros, {REF_YEAR} ({ctx.data_label})")
print(d.concentration_sentence(concentration, REF_YEAR))
concentration.round(3)

# %%
fig = concentration_plot(d.concentration_curves(ref), f"Metros, ranked by the measure ({REF_YEAR})",
                         dashed=("exports_usd", "population_persons"))
ctx.figure(fig, "concentration_curves", cell="Concentration",
           caption=f"Cumulative share of each measure held by the metros ranked by it, {REF_YEAR} ({ctx.data_label})")
fig

# %% [markdown]
# ## Exports and diplomacy across metros
# Each point is a metro: the log of its mean exports over the sample years against the log of
# one plus its mean count of the measure (one plus, because many metros have none), coloured by
# size class. The line is a least-squares fit. The correlations are shown twice: as they are,
# and after removing log population from both sides (a partial correlation), a first look at how
# much of the association is metro size.

# %%
means = d.metro_means(panel, MEASURES)
correlations = d.cross_metro_correlations(means, MEASURES)
ctx.table(correlations.round(3), "cross_metro_correlations", cell="Exports vs diplomacy",
          caption="Correlation across metros of log mean exports with log(1 + mean measure), raw and net of log "
                  f"population ({ctx.data_label})")
correlations.round(3)

# %%
fig = exports_vs_diplomacy_plot(means, MEASURES, correlations, short_name=d.short_name)
ctx.figure(fig, "exports_vs_diplomacy", cell="Exports vs diplomacy",
           caption=f"Log mean exports against log(1 + mean measure) across metros, by size class ({ctx.data_label})")
fig

# %% [markdown]
# ## In short

# %%
print("\n".join(d.descriptive_sentences(correlations, concentration, REF_YEAR, len(ref))))

# %% [markdown]
# ## What the data can and cannot support
# * These are associations across metros of very different size. Large metros have more
#   consulates, more sister cities, more memberships and more exports; the raw correlations
#   mostly measure that. The partial correlations net of population are a first, crude
#   adjustment, not an estimate of an effect.
# * Consular posts are concentrated in a handful of gateway metros, and most metros have none,
#   so any consulate coefficient leans on a few metros.
# * How much each measure moves within a metro over time (printed above) bounds what the
#   fixed-effects models of notebook 03 can learn: a measure that rarely changes within metros
#   identifies its within-metro coefficient from a few metros only.
# * Exports are where the exporter of record is located, not where goods are produced; metro
#   means average over years with different delineations (notebook 01).
