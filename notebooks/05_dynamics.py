# ---
# jupyter:
#   jupytext:
#     text_representation:
#       extension: .py
#       format_name: percent
# ---

# %% [markdown]
# # 05 Dynamics: do exports rise after a metro joins a city network or adds a sister city?
#
# **Question.** Do a metro's exports rise after it first joins an international city network,
# or after it adds its first new sister-city tie within the sample years, and had they already
# risen before? The contemporaneous fixed-effects models of notebook 03 cannot tell a response
# from anticipation or from diplomacy following export growth; timing can say a little more.
#
# Two designs, both with metro and year fixed effects:
# * **M6, one-year lags**: the two-way fixed-effects model of notebook 03 with each diplomacy
#   measure lagged one year.
# * **M6, event studies**, with two estimators side by side. *did2s* (Gardner's two-stage
#   difference-in-differences): metro and year effects are estimated on untreated metro-years
#   only, and the residual log exports are regressed on event-time dummies. *Sun-Abraham*
#   (pyfixest's saturated event study): one coefficient per cohort and year relative to the
#   event, each relative to the year before the event (-1), averaged over cohorts with their
#   shares of the metros observed there; robust to effects that differ across cohorts.
#   Event time is **not binned**: every year relative to the event has its own coefficient,
#   and the number of treated metros behind it is shown. The comparison group is **clean**:
#   metros never treated within the panel, except those with memberships (or ties) on record
#   that are not dated within the panel years, whose timing is unknown; metros treated before
#   they have two untreated years are left out too. Standard errors are clustered by metro, so
#   under citydip's inference rule (`conventions.RULES`) every event-study p-value and 95%
#   interval refers to t(G-1), G the metros in the event-study sample.
# * The **pre-trend test** is the Wald test that the leads are all zero, over the leads from -2
#   back to the last with at least ten treated metros (cluster-robust standard errors of
#   coefficients resting on one to a few metros are far too small): W / q, with W the Wald
#   statistic of the q leads, against F(q, G-1). Its **power** against a
#   linear pre-trend (Roth 2022) says how large a trend it would miss, and a **sensitivity
#   analysis** (Rambachan & Roth 2023, relative magnitudes) says how large a violation of
#   parallel trends after the event would overturn a conclusion.
#
# Benchmarks from the literature (different treatments, for orientation only): Nitsch (2007)
# finds a state visit goes with roughly 8-10% higher exports, short-lived; Head & Ries (2010)
# find that the effects of trade missions vanish once pair fixed effects absorb which partners
# are chosen.

# %%
from IPython.display import Markdown, display

from citydip.analysis import dynamics as dyn
from citydip.report import notebook, regression_table
from citydip.report.figures import cohort_plot, event_paths_plot, honest_plot

ctx = notebook.start("05_dynamics")
panel, estimates, pretrend = ctx.panel, ctx.estimates, ctx.pretrend.set_index("treatment")
print(f"{ctx.data_label}: {panel.cbsa_code.nunique()} metros, {panel.year.min()}-{panel.year.max()}; "
      f"event studies: {', '.join(pretrend.index)}")

# %% [markdown]
# ## One-year lags (M6) beside the contemporaneous model (M3)
# If diplomacy works through trade with a delay, the lagged measure should carry at least the
# contemporaneous coefficient. Coefficients are log points per unit of the measure (one more
# tie, post or network); standard errors clustered by metro, p-values from t(G-1).

# %%
LAGS = [dyn.CONTEMPORANEOUS, dyn.LAG_MODEL]
tidy = estimates[estimates.model.isin(LAGS) & (estimates.term != "const")]
lag_table = regression_table(tidy, models=LAGS,
                             caption="SYNTHETIC DEMO DATA, NOT REAL." if ctx.synthetic else "")
ctx.table(lag_table, "dynamics_lags", cell="One-year lags",
          caption=f"Two-way fixed effects, contemporaneous (M3) and lagged one year (M6); metro-clustered, "
                  f"p-values from t(G-1) ({ctx.data_label})")
lags = dyn.lag_summary(estimates)
print("\n".join(dyn.lag_sentences(lags)))
Markdown(lag_table.to_markdown())

# %% [markdown]
# ## Who is treated, and when
# The event studies are refitted here (a few seconds) to recover the cohorts, the metros left
# out and the estimation sample; the refit must reproduce the stored estimates. A cohort counts
# as contributing only if some of its treated years remain in the estimation sample (years in
# which no metro is untreated cannot be used and are dropped).

# %%
studies = dyn.refit_event_studies(panel, estimates)  # raises if a refit differs from estimates.csv
cohorts, excluded, groups = dyn.event_samples(studies, panel)
ctx.table(cohorts, "event_cohorts", cell="Who is treated",
          caption=f"Metros first treated in each year, and how many contribute treated years ({ctx.data_label})")
ctx.table(excluded, "event_excluded", cell="Who is treated",
          caption=f"Metros left out of the event studies (treated too early; never-treated metros with undated "
                  f"memberships or ties, not a clean comparison), with the reason ({ctx.data_label})")
print("\n".join(dyn.group_sentences(groups)))

# %%
fig = cohort_plot(cohorts, excluded, (panel.year.min(), panel.year.max()), {t: dyn.event_name(t) for t in studies})
ctx.figure(fig, "event_cohorts", cell="Who is treated",
           caption=f"Metros by year of first treatment, in the event studies and left out ({ctx.data_label})")
fig

# %% [markdown]
# ## Event-study estimates and the pre-trend tests
# Each coefficient is the difference in log exports between treated and comparison metros,
# k years from the event. Sun-Abraham's are relative to the year before the event (-1); did2s's
# are relative to the metro's untreated years as a whole (the year -1 is not estimated but
# drawn at zero), so its leads are not differences from -1 and the two paths may sit at
# different levels. The leads (k <= -2) should be near zero if treated metros were not already
# on a different path. The table gives the treated metros and cohorts behind every event time;
# far leads and lags rest on a few early or late cohorts (pale in the plots, outside the
# tests).

# %%
paths = dyn.event_paths(studies)
ctx.table(paths.round(4), "event_study_estimates", cell="Event-study estimates",
          caption=f"Event-study coefficients (did2s and Sun-Abraham, event time not binned) with the treated "
                  f"metros and cohorts behind each event time; metro-clustered, p-values and 95% intervals from "
                  f"t(G-1), G = {', '.join(f'{s.n_clusters} ({t})' for t, s in studies.items())} metros "
                  f"({ctx.data_label})")
tests = dyn.pretrend_table(ctx.pretrend)
ctx.table(tests.round(4), "pretrend_tests", cell="Event-study estimates",
          caption=f"Wald tests that the lead coefficients are zero (wald_f = W / leads against F(leads, G-1): "
                  f"df_num, df_den), over the leads with at least {studies['network'].min_metros} treated metros "
                  f"and over every lead ({ctx.data_label})")
tests.round(3)

# %%
for t, test in pretrend.iterrows():
    fig = event_paths_plot(paths[paths.treatment == t], dyn.ESTIMATOR_NAMES, ylabel="Log exports (95% CI)",
                           xlabel=f"Years relative to the {dyn.event_name(t)} (pre-trend test, did2s, leads "
                                  f"{test.first_lead:.0f} to -2: p = {test.p_value:.3f})")
    ctx.figure(fig, f"event_study_{t}", cell="Event-study plots",
               caption=f"Event study around the {dyn.event_name(t)}: did2s and Sun-Abraham, 95% intervals clustered "
                       f"by metro (t(G-1)); pre-trend p-value from F(leads, G-1); treated metros behind each event "
                       f"time ({ctx.data_label})")
    display(fig)

# %% [markdown]
# ## What the intervals rule in and out
# After the event, the average of the coefficients 0 to +5 (with its standard error from the
# full covariance matrix) summarises the response; its 95% interval (t(G-1), as the
# coefficients') shows which effect sizes the data can and cannot rule out, set against an 8%
# benchmark (the lower end of Nitsch's state-visit estimate). The pre-trend p-values are the
# F(leads, G-1) tests above.

# %%
summary = dyn.event_study_summary(studies)
ctx.table(summary.round(4), "event_study_summary", cell="What the intervals rule in and out",
          caption=f"Pre-trend tests (F(leads, G-1)), lead bounds and the average post-event coefficient (0 to +5, "
                  f"95% interval from t(G-1)), did2s and Sun-Abraham ({ctx.data_label})")
summary.round(3)

# %% [markdown]
# ## How much would the pre-trend test miss?
# A pre-trend test that does not reject is not evidence of parallel trends when it has little
# power (Roth 2022). For a linear trend in the treated metros' exports of a given slope (log
# points a year), the leads' expected values follow from the estimator itself (each estimator
# applied to the trend alone), and the test's power from the noncentral F(leads, G-1)
# distribution of W / q (noncentrality: the Wald statistic of the trend itself). The table
# gives the slopes detected with 50% and 80% probability, the shift of the post-event average
# such a trend would cause if it continued, and the power against the trend that would fake an
# 8% effect.

# %%
power = dyn.power_table(studies)
ctx.table(power.round(4), "pretrend_power", cell="How much would the pre-trend test miss",
          caption=f"Power of the pre-trend tests (F(leads, G-1), 5% level) against a linear pre-trend (Roth 2022; "
                  f"noncentral F) ({ctx.data_label})")
power.round(3)

# %% [markdown]
# ## How robust are the post-event estimates? (Rambachan & Roth 2023)
# Relative magnitudes: after the event, the gap between treated and comparison metros' trends
# may change from year to year by up to Mbar times the largest change between consecutive lead
# years (Sun-Abraham's coefficients, relative to -1; tested leads). At Mbar = 0 the interval is
# the conventional one; it widens with Mbar. The breakdown value is the smallest Mbar at which
# the interval includes zero (0 when the conventional interval already does), and likewise
# for the 8% benchmark. Intervals are citydip's own conservative construction (see
# `citydip.estimation.events`), not Rambachan & Roth's conditional test, and a stated exception
# to the t(G-1) rule: they refer to the normal, with critical values from seeded normal draws
# (number and seed in the captions), so at Mbar = 0 they are a little narrower than the t(G-1)
# interval of the same average in the summary table.

# %%
honest, breakdown = dyn.honest_tables(studies)
ctx.table(honest.round(4), "honest_intervals", cell="How robust are the post-event estimates",
          caption=f"Honest 95% intervals (relative magnitudes, Sun-Abraham) over Mbar; normal reference, critical "
                  f"values from {dyn.HONEST_DRAWS:,} normal draws (seed {dyn.HONEST_SEED}) ({ctx.data_label})")
ctx.table(breakdown.round(4), "honest_breakdown", cell="How robust are the post-event estimates",
          caption=f"Breakdown values of Mbar for zero and for an 8% rise (Sun-Abraham; honest intervals, normal "
                  f"reference, {dyn.HONEST_DRAWS:,} normal draws, seed {dyn.HONEST_SEED}) ({ctx.data_label})")
fig = honest_plot(honest, breakdown, {t: dyn.event_name(t).capitalize() for t in studies}, benchmark=dyn.BENCHMARK)
ctx.figure(fig, "honest_intervals", cell="How robust are the post-event estimates",
           caption=f"Honest 95% intervals over Mbar (normal reference, {dyn.HONEST_DRAWS:,} normal draws, seed "
                   f"{dyn.HONEST_SEED}); dashed red: an 8% rise ({ctx.data_label})")
breakdown.round(3)

# %% [markdown]
# ## In short

# %%
print("\n".join(dyn.dynamics_sentences(summary, groups, lags, power, breakdown)))

# %% [markdown]
# ## What the data can and cannot support
# * The event studies compare metros that join a network (or add a tie) with clean comparison
#   metros. Never-treated metros with memberships or ties on record but undated are left out
#   (their event may fall in the panel years); treated metros may also hold undated
#   memberships besides the dated join, which the design cannot see.
# * A pre-trend test that does not reject, with the power shown above, cannot rule out that
#   treated metros were already on a different path: joining a network is a choice, and
#   metros may join when their outlook changes. Trends that the test misses a fifth of the time
#   would shift the post-event average by more than the effects at stake.
# * The pre-trend tests are themselves over-sized: on synthetic panels of this size with exactly
#   parallel trends, the cluster-robust F test over a dozen leads rejects at the 5% level in
#   about 40% of the panels (the covariance of many leads rests on a few dozen treated metros,
#   and Sun-Abraham's standard errors are 10-25% too small there). A rejection is weak evidence
#   of a pre-trend; a non-rejection, given the power above, is weaker evidence of none.
# * did2s and Sun-Abraham differ in their reference: did2s compares with all of a metro's
#   untreated years, Sun-Abraham with the year before the event. A dip or a rise in that year
#   moves the two paths apart.
# * The sensitivity analysis takes Sun-Abraham's leads as the measure of how far trends can
#   drift; its intervals are conservative (valid for every bias path in the class, not
#   optimised), so breakdown values are lower bounds on the robustness of a result.
# * The one-year lag model changes only the timing of M3. Diplomacy measures change rarely
#   within a metro, so lagged and current values are nearly the same series: the lag cannot
#   separate a delayed response from anticipation or from reverse timing.
# * Far event times rest on the earliest (lags) or latest (leads) cohorts only, a few metros;
#   their intervals are the widest and their standard errors the least reliable.
# * "First new sister-city tie in the panel" is an additional tie for most metros, not a first
#   tie; the sister event study measures the response to one more tie, not to having one.
# * Like the trade-mission studies in the literature, these are associations around events
#   chosen by the metros themselves; a coefficient path that is flat before and rises after is
#   consistent with an effect, but does not prove one.
