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
# * **M6, event studies**: Gardner's two-stage difference-in-differences (`did2s`). Metro and
#   year effects are estimated on untreated metro-years only; the residual log exports are then
#   regressed on event-time dummies (years relative to the event, binned at -5 and +5;
#   reference year -1, so every coefficient is relative to the year before the event). Metros
#   never treated within the panel are the comparison group; metros treated before they have
#   two untreated years are left out. Standard errors are clustered by metro. The pre-trend test
#   is the Wald test that the four lead coefficients (-5 to -2) are all zero.
#
# Benchmarks from the literature (different treatments, for orientation only): Nitsch (2007)
# finds a state visit goes with roughly 8-10% higher exports, short-lived; Head & Ries (2010)
# find that the effects of trade missions vanish once pair fixed effects absorb which partners
# are chosen.

# %%
from IPython.display import Markdown, display

from citydip.analysis import dynamics as dyn
from citydip.report import event_study_plot, notebook, regression_table
from citydip.report.figures import cohort_plot

ctx = notebook.start("05_dynamics")
panel, estimates, pretrend = ctx.panel, ctx.estimates, ctx.pretrend.set_index("treatment")
print(f"{ctx.data_label}: {panel.cbsa_code.nunique()} metros, {panel.year.min()}-{panel.year.max()}; "
      f"event studies: {', '.join(pretrend.index)}")

# %% [markdown]
# ## One-year lags (M6) beside the contemporaneous model (M3)
# If diplomacy works through trade with a delay, the lagged measure should carry at least the
# contemporaneous coefficient. Coefficients are log points per unit of the measure (one more
# tie, post or network).

# %%
LAGS = [dyn.CONTEMPORANEOUS, dyn.LAG_MODEL]
tidy = estimates[estimates.model.isin(LAGS) & (estimates.term != "const")]
lag_table = regression_table(tidy, models=LAGS,
                             caption="SYNTHETIC DEMO DATA, NOT REAL." if ctx.synthetic else "")
ctx.table(lag_table, "dynamics_lags", cell="One-year lags",
          caption=f"Two-way fixed effects, contemporaneous (M3) and lagged one year (M6) ({ctx.data_label})")
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
          caption=f"Metros left out of the event studies, with the reason ({ctx.data_label})")
print("\n".join(dyn.group_sentences(groups)))
cohorts.pivot(index="first_year", columns="treatment", values="metros").fillna(0).astype(int)

# %%
fig = cohort_plot(cohorts, excluded, (panel.year.min(), panel.year.max()), {t: dyn.event_name(t) for t in studies})
ctx.figure(fig, "event_cohorts", cell="Who is treated",
           caption=f"Metros by year of first treatment, in the event studies and left out ({ctx.data_label})")
fig

# %% [markdown]
# ## Event-study estimates and the pre-trend tests
# Each coefficient is the difference in log exports between treated and comparison metros,
# k years from the event, relative to the year before it (-1). The leads (k <= -2) should be
# near zero if treated metros were not already on a different path; the bins at -5 and +5
# pool all earlier and later years. The table also shows how many treated metros are observed
# at each event time: the far lags rest on the early cohorts only.

# %%
paths = dyn.event_paths(studies, panel)
ctx.table(paths.round(4), "event_study_estimates", cell="Event-study estimates",
          caption=f"Event-study coefficients (did2s), relative to the year before the event ({ctx.data_label})")
tests = dyn.pretrend_table(ctx.pretrend)
ctx.table(tests.round(4), "pretrend_tests", cell="Event-study estimates",
          caption=f"Wald tests that all lead coefficients are zero (chi-squared, df = leads) ({ctx.data_label})")
tests.round(3)

# %%
paths.pivot(index="event_time", columns="treatment", values=["estimate", "conf_low", "conf_high"]).round(3)

# %% [markdown]
# The plots draw the same paths. The open marker is the reference year, fixed at zero.

# %%
for t, study in studies.items():
    test = pretrend.loc[t]
    fig = event_study_plot(study.estimates, ylabel="Log exports relative to t = \N{MINUS SIGN}1 (95% CI)")
    fig.axes[0].set_xlabel(f"Years relative to the {dyn.event_name(t)}\n(pre-trend Wald test of the "
                           f"{test.leads} leads: p = {test.p_value:.3f})")
    ctx.figure(fig, f"event_study_{t}", cell="Event-study plots",
               caption=f"Event study around the {dyn.event_name(t)}: did2s, 95% confidence intervals clustered by "
                       f"metro ({ctx.data_label})")
    display(fig)

# %% [markdown]
# ## What the intervals rule in and out
# A pre-trend test that does not reject is not evidence of parallel trends when the leads are
# imprecise: the width of the lead intervals says how large a pre-existing trend could go
# unnoticed. After the event, the average of the coefficients 0 to +5 (with its standard error
# from the full covariance matrix of the estimates) summarises the response; its interval shows
# which effect sizes the data can and cannot rule out, set against an 8% benchmark (the lower
# end of Nitsch's state-visit estimate).

# %%
summary = dyn.event_study_summary(studies, pretrend)
ctx.table(summary.round(4), "event_study_summary", cell="What the intervals rule in and out",
          caption=f"Pre-trend tests, lead bounds and the average post-event coefficient (0 to +5) ({ctx.data_label})")
summary.round(3)

# %% [markdown]
# ## In short

# %%
print("\n".join(dyn.dynamics_sentences(summary, groups, lags)))

# %% [markdown]
# ## What the data can and cannot support
# * The event studies compare metros that join a network (or add a tie) with metros that do
#   not, net of metro and year effects. They say nothing about metros whose event falls before
#   the panel or is undated; the counts above show how many of the comparison metros have
#   memberships or ties on record that the design must treat as untreated; if those had effects
#   during the panel, they pull the estimated difference towards zero.
# * A pre-trend test that does not reject, with lead intervals as wide as those printed above,
#   cannot rule out that treated metros were already on a different path: joining a network is
#   a choice, and metros may join when their outlook changes.
# * The one-year lag model changes only the timing of M3. Diplomacy measures change rarely
#   within a metro, so lagged and current values are nearly the same series: the lag cannot
#   separate a delayed response from anticipation or from reverse timing.
# * The far event times (+4, +5) rest on the earliest cohorts only, and the +5 bin pools all
#   later years; their intervals are the widest.
# * "First new sister-city tie in the panel" is an additional tie for most metros, not a first
#   tie; the sister event study measures the response to one more tie, not to having one.
# * Like the trade-mission studies in the literature, these are associations around events
#   chosen by the metros themselves; a coefficient path that is flat before and rises after is
#   consistent with an effect, but does not prove one.
