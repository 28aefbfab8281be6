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
import numpy as np
import pandas as pd
import matplotlib.style
from IPython.display import Markdown, display
from matplotlib.figure import Figure

from citydip.estimation.events import TREATMENTS, event_study, treatment_years
from citydip.report import event_study_plot, notebook, regression_table, term_label
from citydip.report.figures import STYLE

ctx = notebook.start("05_dynamics")
panel, estimates, pretrend = ctx.panel, ctx.estimates, ctx.pretrend.set_index("treatment")
titles = panel.groupby("cbsa_code").cbsa_title.first()
NAMES = {"network": "first dated city-network join", "sister": "first new sister-city tie in the panel"}
BENCHMARK = np.log(1.08)  # lower end of Nitsch's state-visit estimate, in log points
pct = lambda b: 100 * np.expm1(b)  # log points -> percent
print(f"{ctx.data_label}: {panel.cbsa_code.nunique()} metros, {panel.year.min()}-{panel.year.max()}; "
      f"event studies: {', '.join(pretrend.index)}")

# %% [markdown]
# ## One-year lags (M6) beside the contemporaneous model (M3)
# If diplomacy works through trade with a delay, the lagged measure should carry at least the
# contemporaneous coefficient. Coefficients are log points per unit of the measure (one more
# tie, post or network).

# %%
LAGS = ["M3 two-way FE", "M6 one-year lags"]
tidy = estimates[estimates.model.isin(LAGS) & (estimates.term != "const")]
lag_table = regression_table(tidy, models=LAGS,
                             caption="SYNTHETIC DEMO DATA, NOT REAL." if ctx.synthetic else "")
ctx.table(lag_table, "dynamics_lags", cell="One-year lags",
          caption=f"Two-way fixed effects, contemporaneous (M3) and lagged one year (M6) ({ctx.data_label})")
lagged = tidy[(tidy.model == "M6 one-year lags") & tidy.term.str.endswith("_lag1")].set_index("term")
for term, row in lagged.iterrows():
    print(f"{term_label(term)}: {row.estimate:+.3f} log points ({pct(row.estimate):+.1f}% per unit), 95% CI "
          f"[{row.conf_low:+.3f}, {row.conf_high:+.3f}], p = {row.p_value:.3f}, N = {row.nobs:,.0f}")
Markdown(lag_table.to_markdown())

# %% [markdown]
# ## Who is treated, and when
# The event studies are refitted here (a few seconds) to recover the cohorts, the metros left
# out and the estimation sample; the refit must reproduce the stored estimates. A cohort counts
# as contributing only if some of its treated years remain in the estimation sample (years in
# which no metro is untreated cannot be used and are dropped).

# %%
studies = {t: event_study(panel, t) for t in TREATMENTS}
stored = {t: estimates[estimates.model == f"M6 event study: {t}"]
          .assign(event_time=lambda f: f.term.str.split("=").str[1].astype(int)) for t in studies}
for t, study in studies.items():
    refit = study.estimates.set_index("event_time").estimate
    gap = (stored[t].set_index("event_time").estimate - refit.reindex(stored[t].event_time)).abs().max()
    assert gap < 1e-6, f"{t}: the refit differs from estimates.csv by {gap}"

cohort_rows, excluded_rows, groups = [], [], {}
for t, study in studies.items():
    sample = study.backend._data  # the estimation sample of the second stage
    first = treatment_years(panel, t)
    treated_years = sample[sample.treat == 1].groupby("cbsa_code").year.min()
    for row in study.cohorts.itertuples():
        cohort_rows.append({"treatment": t, "first_year": int(row.first_year), "metros": int(row.metros),
                            "contributing": int((treated_years == row.first_year).sum())})
    for row in study.excluded.itertuples():
        excluded_rows.append({"treatment": t, "cbsa_code": row.cbsa_code, "metro": titles[row.cbsa_code],
                              "first_year": int(first[row.cbsa_code]), "reason": row.reason})
    never = [c for c in sample.cbsa_code.unique() if pd.isna(first[c])]
    ever = "networks_ever" if t == "network" else "sister_ever"
    groups[t] = {"treated": int(study.cohorts.metros.sum()), "contributing": len(treated_years),
                 "excluded": len(study.excluded), "never_treated": len(never),
                 "never_with_undated": int((panel[panel.cbsa_code.isin(never)].groupby("cbsa_code")[ever].max()
                                            > 0).sum()),
                 "dropped": "; ".join(study.notes)}
cohorts = pd.DataFrame(cohort_rows)
excluded = pd.DataFrame(excluded_rows, columns=["treatment", "cbsa_code", "metro", "first_year", "reason"])
ctx.table(cohorts, "event_cohorts", cell="Who is treated",
          caption=f"Metros first treated in each year, and how many contribute treated years ({ctx.data_label})")
ctx.table(excluded, "event_excluded", cell="Who is treated",
          caption=f"Metros left out of the event studies, with the reason ({ctx.data_label})")
for t, g in groups.items():
    on_record = ("a membership on record that is undated or dated after the panel" if t == "network" else
                 "sister-city ties on record from before the panel or without a date")
    verb = "has" if g["never_with_undated"] == 1 else "have"
    print(f"{NAMES[t]}: {g['treated']} treated metros ({g['contributing']} with treated years in the sample), "
          f"{g['excluded']} left out as treated too early, {g['never_treated']} never treated; of these, "
          f"{g['never_with_undated']} {verb} {on_record}. {g['dropped']}")
cohorts.pivot(index="first_year", columns="treatment", values="metros").fillna(0).astype(int)

# %%
with matplotlib.style.context(["default", STYLE]):
    fig = Figure(figsize=(7.2, 3.2), layout="constrained")
    axes = fig.subplots(1, 2, sharey=True)
    for ax, t in zip(axes, studies):
        part = cohorts[cohorts.treatment == t]
        left = excluded.loc[excluded.treatment == t, "first_year"]
        ax.bar(part.first_year, part.metros, color="C0", label="in the event study")
        if len(left):
            counts = left.value_counts().sort_index()
            ax.bar(counts.index, counts.to_numpy(), color="0.75", label="left out (treated too early)")
        ax.set_xlabel(f"Year of the {NAMES[t]}", fontsize=9)
        ax.set_xlim(panel.year.min() - 0.7, panel.year.max() + 0.7)
        ax.set_xticks(range(int(panel.year.min()), int(panel.year.max()) + 1, 4))
    axes[1].legend(fontsize=7, loc="upper right")
    axes[0].set_ylabel("Metros first treated")
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
rows = []
for t, study in studies.items():
    sample = study.backend._data
    support = sample[sample.cbsa_code.map(treatment_years(panel, t)).notna()].groupby("rel").cbsa_code.nunique()
    est = study.estimates.assign(treatment=t, percent=lambda f: pct(f.estimate),
                                 treated_metros_observed=lambda f: f.event_time.map(support).fillna(0).astype(int))
    rows.append(est)
paths = pd.concat(rows, ignore_index=True)[["treatment", "event_time", "estimate", "std_error", "conf_low",
                                            "conf_high", "p_value", "percent", "treated_metros_observed"]]
ctx.table(paths.round(4), "event_study_estimates", cell="Event-study estimates",
          caption=f"Event-study coefficients (did2s), relative to the year before the event ({ctx.data_label})")
tests = pretrend.reset_index()[["model", "treatment", "wald_chi2", "leads", "p_value", "nobs", "treated_metros",
                                "excluded_metros", "notes"]]
tests["notes"] = tests.notes.astype(object).fillna("")
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
    fig.axes[0].set_xlabel(f"Years relative to the {NAMES[t]}\n(pre-trend Wald test of the "
                           f"{test.leads} leads: p = {test.p_value:.3f})")
    ctx.figure(fig, f"event_study_{t}", cell="Event-study plots",
               caption=f"Event study around the {NAMES[t]}: did2s, 95% confidence intervals clustered by "
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
summary = []
for t, study in studies.items():
    fit, est = study.backend, study.estimates[study.estimates.event_time != -1].reset_index(drop=True)
    post = (est.event_time >= 0).to_numpy()
    weights = post / post.sum()
    vcov = np.asarray(fit._vcov)  # covariance of the event-time coefficients (did2s-corrected)
    average, se = float(weights @ est.estimate), float(np.sqrt(weights @ vcov @ weights))
    leads = est[est.event_time <= -2]
    summary.append({"treatment": t, "pretrend_p": pretrend.loc[t, "p_value"], "mean_lead": leads.estimate.mean(),
                    "largest_lead_bound": float(np.max(np.abs(leads[["conf_low", "conf_high"]].to_numpy()))),
                    "average_post": average, "average_post_se": se, "average_post_low": average - 1.96 * se,
                    "average_post_high": average + 1.96 * se,
                    "post_significant_5pct": int((est.loc[post, "p_value"] < 0.05).sum()),
                    "post_coefficients": int(post.sum())})
summary = pd.DataFrame(summary)
ctx.table(summary.round(4), "event_study_summary", cell="What the intervals rule in and out",
          caption=f"Pre-trend tests, lead bounds and the average post-event coefficient (0 to +5) ({ctx.data_label})")
summary.round(3)

# %% [markdown]
# ## In short

# %%
for row in summary.itertuples():
    name = NAMES[row.treatment]
    verdict = "rejected" if row.pretrend_p < 0.05 else ("rejected at 10% only" if row.pretrend_p < 0.10 else
                                                       "not rejected")
    print(f"- {name.capitalize()} ({groups[row.treatment]['treated']} treated metros): the joint test of no "
          f"pre-trend is {verdict} (p = {row.pretrend_p:.3f}). Relative to comparison metros and to the year before "
          f"the event, the leads average {row.mean_lead:+.3f} log points (exports already rising into the event would "
          f"show as negative leads); the lead intervals cannot exclude gaps of up to {row.largest_lead_bound:.3f} "
          f"log points.")
    excludes_zero = row.average_post_low > 0 or row.average_post_high < 0
    covers_benchmark = row.average_post_low <= BENCHMARK <= row.average_post_high
    print(f"  After the event the average coefficient (0 to +5) is {row.average_post:+.3f} log points "
          f"({pct(row.average_post):+.1f}%), 95% CI [{row.average_post_low:+.3f}, {row.average_post_high:+.3f}]: "
          f"it {'excludes' if excludes_zero else 'includes'} zero and {'includes' if covers_benchmark else 'excludes'}"
          f" an 8% rise; effects outside {pct(row.average_post_low):+.0f}% to {pct(row.average_post_high):+.0f}% "
          f"are ruled out. {row.post_significant_5pct} of {row.post_coefficients} post-event coefficients differ "
          f"from zero at 5%.")
contemporaneous = tidy[tidy.model == "M3 two-way FE"].set_index("term")
for term, row in lagged.iterrows():
    now = contemporaneous.loc[term.removesuffix("_lag1")]
    print(f"- One-year lag (M6), {term_label(term.removesuffix('_lag1')).lower()}: {row.estimate:+.3f} log points, "
          f"95% CI [{row.conf_low:+.3f}, {row.conf_high:+.3f}], p = {row.p_value:.3f} "
          f"(contemporaneous M3: {now.estimate:+.3f}, p = {now.p_value:.3f}).")

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
