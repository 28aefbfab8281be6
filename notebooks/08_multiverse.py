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
import numpy as np
import pandas as pd
import matplotlib.style
from IPython.display import Image, display
from matplotlib.figure import Figure

from citydip.estimation.catalogue import MEASURES
from citydip.estimation.speccurve import CHOICES, NULL_SEED, size_class_samples, spec_curve, summarise
from citydip.estimation.speccurve_plot import plot_spec_curve
from citydip.report import notebook, term_label
from citydip.report.figures import STYLE

ctx = notebook.start("08_multiverse")
index, variant_panels = ctx.variants
DEFAULT = "default"


def prepare(frame: pd.DataFrame) -> pd.DataFrame:
    """The panel with log exports per capita (missing where exports are missing or zero)."""
    with np.errstate(divide="ignore"):
        return frame.assign(log_exports_per_capita=np.log(frame.exports_per_capita_usd))


panels = {DEFAULT: prepare(ctx.panel), **{v["name"]: prepare(variant_panels[v["name"]]) for v in index}}
panel = panels[DEFAULT]
gap = (panel.log_exports - np.log(panel.exports_real_usd)).groupby(panel.year).agg(lambda s: s.max() - s.min())
print(f"{ctx.data_label}: default panel {len(panel):,} metro-years, {panel.cbsa_code.nunique()} metros, "
      f"{panel.year.min()}-{panel.year.max()}; {len(index)} robustness variants of the panel")
if not index:
    print("No robustness variants for this panel (they are built from the published files by `citydip "
          "replicate`): the data-construction choice is left out of the curve.")
print(f"Log nominal minus log real exports varies across metros within a year by at most {gap.max():.1e}: "
      "real exports differ from nominal by a term common to all metros in a year.")

# %% [markdown]
# ## The choices
# Every combination of one option from each row is one specification:
#
# | choice | options | why |
# |---|---|---|
# | data | the default panel and each robustness variant of notebook 07 | construction choices (undated ties, conflicting years, consulate filling, delineation breaks, size cut-offs, years) |
# | outcome | log exports; log exports per capita (without controls only) | total exports, or exports scaled by population |
# | treatment | sister-city ties (active), consular posts, consulates general, city networks joined | the three measures of the panel, and the anchor paper's consulate measure |
# | controls | none; population; population + per-capita income; population + real GDP; population + per-capita income + the other diplomacy measures | size, income and output; the last is the joint model of notebook 03 (for consulates general the other measures are sister ties and networks, since consulates general are consular posts) |
# | fixed effects | metro + year; year; metro | within metros net of the year (notebook 03's M3); across metros within a year (closest to the anchor's comparisons); within metros without year effects (a contrast: the national cycle and inflation are left in) |
# | sample | all; small, mid-size, large metros; 2005-2019 (the anchor's years); no delineation break (metro-years whose export value follows a different delineation left out; only where the panel has such metro-years) | who and when |
# | inference | clustered by metro; heteroskedasticity-robust | the second as a contrast only: it changes the standard errors, never the estimate |
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
OUTCOMES = ["log_exports", "log_exports_per_capita"]
TREATMENTS = ["sister_active", "consular_posts", "consulates_general", "networks_dated"]
OTHER = "population + income + other diplomacy"
CONTROLS = {"none": [], "population": ["log_population"],
            "population + income": ["log_population", "log_per_capita_income"],
            "population + real GDP": ["log_population", "log_real_gdp"],
            OTHER: ["log_population", "log_per_capita_income", *MEASURES]}
FIXED_EFFECTS = {"metro + year": ["cbsa_code", "year"], "year": ["year"], "metro": ["cbsa_code"]}
SAMPLES = {"all": None, **size_class_samples(), "2005-2019": "year <= 2019",
           # only where the default panel has delineation breaks (otherwise it repeats "all")
           **({"no boundary break": "~exports_boundary_break"} if panel.exports_boundary_break.any() else {})}
VCOV = ["CRV1", "hetero"]

# The three measures in one call (each treatment is left out of the "other diplomacy" set), consulates general
# in a second (its "other diplomacy" set holds sister ties and networks, not consular posts). Log exports per
# capita is kept without controls only: with population controlled it repeats log exports exactly.
SHARED = dict(outcomes=OUTCOMES, fixed_effects=FIXED_EFFECTS, samples=SAMPLES, vcov=VCOV)
curves = [spec_curve(panels, treatments=list(MEASURES), controls=CONTROLS, **SHARED),
          spec_curve(panels, treatments="consulates_general", **SHARED,
                     controls={**CONTROLS, OTHER: ["log_population", "log_per_capita_income", "sister_active",
                                                   "networks_dated"]})]
options = {**curves[0].options, "treatment": TREATMENTS}
rank = {d: {o: i for i, o in enumerate(options[d])} for d in CHOICES}  # declaration order of each choice
tidy = pd.concat([c.tidy() for c in curves], ignore_index=True).query(
    "outcome == 'log_exports' or controls == 'none'")
tidy = (tidy.iloc[np.lexsort([tidy[d].map(rank[d]) for d in reversed(CHOICES)])].reset_index(drop=True)
        .assign(spec_id=lambda d: np.arange(len(d)), percent=lambda d: 100 * np.expm1(d.coefficient)))
key = [tidy.treatment, tidy.vcov, tidy.coefficient.round(9), tidy.std_error.round(9), tidy.nobs]
tidy["duplicate"] = tidy.coefficient.notna() & pd.concat(key, axis=1).duplicated()
# What each estimate rests on: metros whose treatment is nonzero (across-metro comparisons) or changes
# (within-metro comparisons), on the metro-years of the sample with an export value.
MIN_METROS = 5
support = []
for name, frame in panels.items():
    codes = pd.factorize(frame.cbsa_code)[0]
    order = np.argsort(codes, kind="stable")
    starts = np.flatnonzero(np.r_[True, np.diff(codes[order]) != 0])  # first row of each metro
    values = frame[TREATMENTS].to_numpy(dtype=float)[order]
    for label, rule in SAMPLES.items():
        rows = np.ones(len(frame), bool) if rule is None else np.asarray(
            frame.eval(rule) if isinstance(rule, str) else rule(frame), dtype=bool)
        kept = np.where((rows & frame.log_exports.notna().to_numpy())[order, None], values, np.nan)
        high, low = np.fmax.reduceat(kept, starts), np.fmin.reduceat(kept, starts)  # per metro (NaN: no rows)
        support += [{"data": name, "sample": label, "treatment": x, "nonzero": int((high[:, j] > 0).sum()),
                     "changing": int((high[:, j] > low[:, j]).sum())} for j, x in enumerate(TREATMENTS)]
tidy = tidy.merge(pd.DataFrame(support), on=["data", "sample", "treatment"], how="left", validate="m:1")
within = tidy.fixed_effects.map(lambda f: "cbsa_code" in FIXED_EFFECTS[f])
tidy["metros_identifying"] = np.where(within, tidy.changing, tidy.nonzero)
tidy = tidy.drop(columns=["nonzero", "changing"]).assign(thin=lambda d: d.metros_identifying < MIN_METROS)
clustered = tidy[tidy.vcov == "CRV1"]
REGRESSION = [d for d in CHOICES if d != "vcov"]
wide = (clustered.drop(columns=["vcov", "spec_id"])
        .merge(tidy.loc[tidy.vcov == "hetero", [*REGRESSION, "std_error", "p_value"]], on=REGRESSION,
               suffixes=("", "_hetero"), validate="1:1"))
ctx.table(wide, "multiverse_specifications", cell="The choices", markdown=False,
          caption=f"Every regression of the curve: choices, focal coefficient (and in percent), metro-clustered "
                  f"standard error, t, p-value and 95% interval, observations, clusters, notes, and the "
                  f"heteroskedasticity-robust standard error and p-value; duplicate = same estimate, standard error "
                  f"and N as an earlier regression of the same treatment; metros_identifying = metros whose treatment "
                  f"is nonzero (year effects only) or changes (metro effects); thin = fewer than {MIN_METROS} "
                  f"({ctx.data_label})")
estimated = clustered[clustered.coefficient.notna()]
n_models = len(clustered)
print(f"{n_models:,} regressions ({len(panels)} panel(s) x {len(TREATMENTS)} treatments x [log exports with "
      f"{len(CONTROLS)} control sets + log exports per capita without controls] x {len(FIXED_EFFECTS)} fixed-effect "
      f"structures x {len(SAMPLES)} samples), each with {len(VCOV)} kinds of standard errors: {len(tidy):,} "
      f"specifications")
print(f"Estimated: {len(estimated):,} of {n_models:,} regressions; of these, {int((~estimated.duplicate).sum()):,} "
      f"give distinct estimates (the others repeat an earlier one exactly)")
reasons = clustered.loc[clustered.coefficient.isna(), "note"].str.extract(r"([^;]*not estimated[^;]*)")[0].str.strip()
for note, n in reasons.value_counts().items():
    print(f"- not estimated ({n}): {note}")
thin = estimated[estimated.thin]
print(f"Resting on fewer than {MIN_METROS} metros (treatment nonzero, or changing, in so few): {len(thin):,} of "
      f"{len(estimated):,} estimated regressions, of which {int((thin.p_value < 0.05).sum()):,} significant at 5% "
      f"(clustered standard errors are unreliable with so few metros carrying the treatment)")

# %% [markdown]
# Three specifications checked against `pyfixest.feols` directly (default panel): two-way fixed
# effects with population, metro-clustered; log exports per capita with year effects and no
# controls, heteroskedasticity-robust; consulates general with the joint controls and year
# effects among mid-size metros, metro-clustered.

# %%
import pyfixest as pf

CHECKS = [("log_exports ~ consular_posts + log_population | cbsa_code + year", {"CRV1": "cbsa_code"}, "all",
           dict(outcome="log_exports", treatment="consular_posts", controls="population", fixed_effects="metro + year",
                vcov="CRV1")),
          ("log_exports_per_capita ~ sister_active | year", "hetero", "all",
           dict(outcome="log_exports_per_capita", treatment="sister_active", controls="none", fixed_effects="year",
                vcov="hetero")),
          ("log_exports ~ consulates_general + log_population + log_per_capita_income + sister_active + networks_dated"
           " | year", {"CRV1": "cbsa_code"}, "mid",
           dict(outcome="log_exports", treatment="consulates_general", controls=OTHER, fixed_effects="year",
                vcov="CRV1"))]
for formula, vcov, sample, choice in CHECKS:
    data = panel if sample == "all" else panel[panel.size_class == sample]
    ref = pf.feols(formula, data=data, vcov=vcov, demeaner=pf.MapDemeaner(fixef_tol=1e-12))
    mine = tidy[(tidy.data == DEFAULT) & (tidy["sample"] == sample)
                & np.logical_and.reduce([tidy[k] == v for k, v in choice.items()])]
    assert len(mine) == 1
    mine, x = mine.iloc[0], choice["treatment"]
    print(f"{formula} [{choice['vcov']}, {sample}]: curve {mine.coefficient:.6f} ({mine.std_error:.6f}), feols "
          f"{ref.coef()[x]:.6f} ({ref.se()[x]:.6f}); N {mine.nobs} vs {ref._N}")
    assert np.isclose(mine.coefficient, ref.coef()[x], rtol=1e-8) and np.isclose(mine.std_error, ref.se()[x], rtol=1e-6)

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
def with_percent(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.assign(median_percent=100 * np.expm1(frame.median_estimate))


by_treatment = pd.concat(
    {"clustered by metro": summarise(clustered, by="treatment"),
     "clustered, distinct estimates": summarise(clustered[~clustered.duplicate], by="treatment"),
     f"clustered, {MIN_METROS}+ metros": summarise(clustered[~clustered.thin], by="treatment"),
     "heteroskedasticity-robust": summarise(tidy[tidy.vcov == "hetero"], by="treatment")},
    names=["inference"]).pipe(with_percent).reset_index()
by_fe = summarise(clustered, by=["treatment", "fixed_effects"]).pipe(with_percent).reset_index()
ctx.table(by_treatment.round(4), "multiverse_summary_treatment", cell="The curve in numbers",
          caption=f"Specification curve by treatment: median coefficient, shares positive and significant at 5%, "
                  f"under metro-clustered standard errors (all estimates, distinct ones, those resting on "
                  f"{MIN_METROS} or more metros) and heteroskedasticity-robust ones ({ctx.data_label})")
ctx.table(by_fe.round(4), "multiverse_summary_fixed_effects", cell="The curve in numbers",
          caption=f"Specification curve by treatment and fixed-effect structure, metro-clustered standard errors "
                  f"({ctx.data_label})")
display(by_treatment.set_index(["inference", "treatment"]).round(3))
by_fe.set_index(["treatment", "fixed_effects"]).round(3)

# %% [markdown]
# ## The curves
# One figure per treatment (the units differ: per tie, per post, per network). On top, every
# specification's coefficient with its 95% interval (metro-clustered), sorted from smallest to
# largest; dark where p < 0.05. Beneath, one row per option of each choice, marked where a
# specification uses it: a choice that moves the estimate shows up as its marks bunching at one
# end. The vertical axis covers the estimates that rest on five or more metros and most of their
# intervals; estimates resting on fewer metros that fall outside it (a handful of metros carrying
# the treatment, such as the one small metro with a consulate general) are marked by red
# triangles at the edge.

# %%
dims = [d for d in ("data", "outcome", "controls", "fixed_effects", "sample") if len(options[d]) > 1]
for x in TREATMENTS:
    part = clustered[clustered.treatment == x]
    ok = part.coefficient.notna()
    share = (part.p_value[ok] < 0.05).mean()
    # vertical axis: the estimates resting on MIN_METROS+ metros and most of their intervals; estimates resting on
    # fewer that fall outside are marked at the edge (same order as the figure: by estimate, then spec_id)
    est = part[ok].sort_values(["coefficient", "spec_id"], kind="mergesort")
    core = est[~est.thin]
    lo = min(0.0, core.coefficient.min(), core.conf_low.quantile(0.05)) if len(core) else est.coefficient.min()
    hi = max(0.0, core.coefficient.max(), core.conf_high.quantile(0.95)) if len(core) else est.coefficient.max()
    lo, hi = lo - 0.05 * (hi - lo), hi + 0.05 * (hi - lo)
    above, below = (est.coefficient > hi).to_numpy(), (est.coefficient < lo).to_numpy()
    beyond = (f"\n{int(above.sum() + below.sum())} estimates (resting on fewer than {MIN_METROS} metros) beyond the "
              f"axis: red triangles" if (above | below).any() else "")
    fig = plot_spec_curve(part, options, dimensions=dims, ylabel="log points per one more",
                          title=f"{term_label(x)}: {ok.sum():,} specifications, {share:.0%} significant at 5% "
                                f"(dark){beyond}")
    top = fig.axes[0]
    top.set_ylim(lo, hi)
    position = np.arange(1, len(est) + 1)
    for mask, edge, marker in ((above, hi, "^"), (below, lo, "v")):
        top.scatter(position[mask], np.full(mask.sum(), edge), marker=marker, s=10, color="C3", clip_on=False,
                    zorder=4)
    path = ctx.figure(fig, f"multiverse_curve_{x}", cell="The curves",
                      caption=f"Specification curve of {term_label(x).lower()}: coefficients on log exports with 95% "
                              f"intervals (metro-clustered), sorted, with the choices beneath ({ctx.data_label})")
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
rows, importance = [], []
for x in TREATMENTS:
    part = estimated[estimated.treatment == x]
    total = part.coefficient.var(ddof=0)
    for d in dims:
        groups = part.groupby(d, sort=False).coefficient
        med = groups.median().reindex(options[d])
        for o in options[d]:
            g = part.coefficient[part[d] == o]
            rows.append({"treatment": x, "choice": d, "option": o, "specifications": len(g),
                         "median_estimate": g.median(), "q25": g.quantile(0.25), "q75": g.quantile(0.75),
                         "share_positive": (g > 0).mean(),
                         "share_significant_positive": ((g > 0) & (part.p_value[g.index] < 0.05)).mean()})
        between = (groups.transform("mean") - part.coefficient.mean()).pow(2).mean()
        importance.append({"treatment": x, "choice": d, "variance_share": between / total if total > 0 else np.nan,
                           "median_range": med.max() - med.min(), "lowest_option": med.idxmin(),
                           "highest_option": med.idxmax()})
by_option, importance = pd.DataFrame(rows), pd.DataFrame(importance)
ctx.table(by_option.round(5), "multiverse_by_option", cell="Which choices move the estimate",
          caption=f"Median coefficient, interquartile range and shares positive by option of each choice, per "
                  f"treatment ({ctx.data_label})")
ctx.table(importance.round(4), "multiverse_choice_importance", cell="Which choices move the estimate",
          caption=f"Share of the variance of the estimates explained by each choice and range of its options' "
                  f"medians, per treatment ({ctx.data_label})")
importance.pivot(index="choice", columns="treatment", values=["median_range", "variance_share"]) \
    .reindex(dims).round(3)

# %%
labels = [(d, o) for d in dims for o in options[d]]
names = {"fixed_effects": "fixed effects"}
with matplotlib.style.context(["default", STYLE]):
    fig = Figure(figsize=(8.4, 1.0 + 0.19 * len(labels)), layout="constrained")
    axes = fig.subplots(1, len(TREATMENTS), sharey=True)
    y = np.arange(len(labels))[::-1]
    for ax, x in zip(axes, TREATMENTS):
        part = by_option[by_option.treatment == x].set_index(["choice", "option"]).reindex(labels)
        colours = [f"C{dims.index(d)}" for d, _ in labels]
        ax.hlines(y, part.q25, part.q75, colors=colours, linewidth=1.2, alpha=0.6)
        ax.scatter(part.median_estimate, y, c=colours, s=14, zorder=3)
        ax.axvline(0, color="0.35", linewidth=0.8, linestyle="--", zorder=0)
        ax.axvline(estimated.coefficient[estimated.treatment == x].median(), color="0.2", linewidth=0.8,
                   linestyle=":", zorder=0)
        ax.set_title(term_label(x), fontsize=8)
        ax.tick_params(axis="x", labelsize=7)
        ax.set_yticks(y, [f"{names.get(d, d)}: {o}" for d, o in labels], fontsize=7)
    fig.supxlabel("Median coefficient of the specifications using the option (bar: interquartile range; dotted: "
                  "median of all)", fontsize=8)
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
# * **Consulates most strongly.** In every cell of the other choices (panel, outcome, controls,
#   fixed effects, sample), which of sister ties, consulates general and networks has the
#   largest t statistic (as in notebook 03, a unit-free ranking); the same with all consular
#   posts in place of consulates general. Only cells where all three rest on five or more metros.
# * **Mid-sized metros gain most.** In every cell of the other choices (panel, outcome,
#   treatment, controls, fixed effects) where all three size classes rest on five or more
#   metros, which class has the largest coefficient, and whether the mid-size coefficient is
#   also significantly positive. By chance alone each class would come first in about a third
#   of the cells.

# %%
solid = estimated[~estimated.thin]
SCOPES = {"all specifications": estimated, f"{MIN_METROS}+ metros": solid,
          f"{MIN_METROS}+ metros, year effects only": solid[solid.fixed_effects == "year"],
          f"{MIN_METROS}+ metros, metro + year effects": solid[solid.fixed_effects == "metro + year"]}
signs = pd.DataFrame([
    {"treatment": x, "scope": scope, "specifications": int((part.treatment == x).sum()),
     "share_positive": (part.coefficient[part.treatment == x] > 0).mean(),
     "share_significant_positive": ((part.coefficient > 0) & (part.p_value < 0.05))[part.treatment == x].mean(),
     "share_significant_negative": ((part.coefficient < 0) & (part.p_value < 0.05))[part.treatment == x].mean()}
    for x in TREATMENTS for scope, part in SCOPES.items()])

CELL = ["data", "outcome", "controls", "fixed_effects", "sample"]
rankings = []
for consulate in ("consulates_general", "consular_posts"):
    trio = ["sister_active", consulate, "networks_dated"]
    t = solid[solid.treatment.isin(trio)].pivot_table(index=CELL, columns="treatment", values="t").reindex(
        columns=trio).dropna()
    top = t.idxmax(axis=1).value_counts()
    rankings += [{"consulate_measure": consulate, "largest_t": m, "cells": int(top.get(m, 0)),
                  "share": top.get(m, 0) / len(t) if len(t) else np.nan} for m in trio]
rankings = pd.DataFrame(rankings)

CLASSES = list(size_class_samples())
by_class = (solid[solid["sample"].isin(CLASSES)]
            .pivot_table(index=["treatment", *(c for c in CELL if c != "sample")], columns="sample",
                         values=["coefficient", "p_value"]).reindex(columns=CLASSES, level=1).dropna())
largest = by_class["coefficient"].idxmax(axis=1)
mid_significant = (by_class[("coefficient", "mid")] > 0) & (by_class[("p_value", "mid")] < 0.05)
treatment_of = largest.index.get_level_values("treatment")
classes = pd.DataFrame([
    {"treatment": x, "cells": int((treatment_of == x).sum()),
     **{f"share_{c}_largest": (largest[treatment_of == x] == c).mean() for c in CLASSES},
     "share_mid_significant_positive": mid_significant[treatment_of == x].mean()} for x in TREATMENTS])
ctx.table(signs.round(4), "multiverse_anchor_signs", cell="Against the anchor's claims",
          caption=f"Shares of positive and significantly positive (negative) coefficients per treatment, over the "
                  f"curve, over the specifications resting on {MIN_METROS}+ metros, and by fixed-effect structure "
                  f"({ctx.data_label})")
ctx.table(rankings.round(4), "multiverse_anchor_ranking", cell="Against the anchor's claims",
          caption=f"Which measure has the largest t statistic, over the cells of the other choices in which all "
                  f"three rest on {MIN_METROS}+ metros ({ctx.data_label})")
ctx.table(classes.round(4), "multiverse_anchor_size_classes", cell="Against the anchor's claims",
          caption=f"Which size class has the largest coefficient, over the cells of the other choices in which all "
                  f"three classes rest on {MIN_METROS}+ metros, and how often the mid-size coefficient is "
                  f"significantly positive ({ctx.data_label})")
display(signs.set_index(["treatment", "scope"]).round(3))
display(rankings.round(3))
classes.round(3)

# %% [markdown]
# ## Is the curve distinguishable from no association?
# Specifications are not independent, so counting significant ones says little by itself: under
# no association at all, many near-identical specifications can be significant together. The
# curve-level test (Simonsohn et al.) imposes the null of no association in every specification
# and asks how often a curve as extreme as the observed one arises: metros are resampled with
# replacement (a metro drawn twice enters as two metros), each specification's estimated effect
# is removed from its outcome, and the curve is re-estimated. The statistics are the median
# coefficient and the share of specifications significant at 5% in the direction of that median;
# p-values are one-sided, (1 + draws at least as extreme) / (1 + draws).
#
# The test curve is the default panel with the three measures of the panel (consulates general
# are a subset of consular posts, so including both would count consulates twice), log exports
# with every control set, fixed-effect structure and sample, metro-clustered standard errors. The
# median pools coefficients in different units (per tie, per post, per network), so the share
# significant is the statistic to read. The number of draws is kept small so the notebook runs
# in seconds: a p-value cannot fall below 1 / (1 + draws).

# %%
DRAWS = 29
null_curve = spec_curve(panel, outcomes="log_exports", treatments=list(MEASURES), controls=CONTROLS,
                        fixed_effects=FIXED_EFFECTS, samples=SAMPLES, vcov="CRV1")
null = null_curve.null_test(draws=DRAWS, method="bootstrap", seed=NULL_SEED)
null_table = null.summary().rename_axis("statistic").reset_index().assign(
    draws=null.draws, seed=null.seed, direction=null.direction, specifications=len(null_curve.results))
ctx.table(null_table.round(4), "multiverse_null_test", cell="Is the curve distinguishable from no association?",
          caption=f"Curve-level bootstrap test under the null of no association ({null.draws} draws, seed "
                  f"{null.seed}; default panel, three diplomacy measures, metro-clustered) ({ctx.data_label})")
print(f"{len(null_curve.results):,} specifications, {null.draws} bootstrap draws (seed {null.seed}); direction of the "
      f"observed median: {'positive' if null.direction > 0 else 'negative'}")
null_table.set_index("statistic").round(4)

# %% [markdown]
# ## In short

# %%
def share_of(inference: str) -> pd.DataFrame:
    return by_treatment[by_treatment.inference == inference].set_index("treatment")


s, d, w, h = (share_of(k) for k in ("clustered by metro", "clustered, distinct estimates",
                                    f"clustered, {MIN_METROS}+ metros", "heteroskedasticity-robust"))
sg, imp = signs.set_index(["treatment", "scope"]), importance.set_index(["treatment", "choice"])
medians = by_option.set_index(["treatment", "choice", "option"]).median_estimate
print(f"- {len(estimated):,} of {n_models:,} regressions estimated on {len(panels)} panel(s); "
      f"{int((~estimated.duplicate).sum()):,} distinct estimates; {int(estimated.thin.sum()):,} rest on fewer than "
      f"{MIN_METROS} metros.")
for x in TREATMENTS:
    r = s.loc[x]
    print(f"- {term_label(x)}: median {r.median_estimate:+.4f} ({r.median_percent:+.2f}% exports per one more); "
          f"positive in {r.share_positive:.0%} of specifications, significantly positive in "
          f"{r.share_significant_positive:.0%}, significantly negative in {r.share_significant_negative:.0%}. "
          f"Distinct estimates only: {d.loc[x].share_significant_positive:.0%} significantly positive; resting on "
          f"{MIN_METROS}+ metros: {w.loc[x].share_significant_positive:.0%}. Heteroskedasticity-robust standard "
          f"errors would call {h.loc[x].share_significant:.0%} significant, against {r.share_significant:.0%} "
          f"clustered.")
    fe = by_fe[by_fe.treatment == x].set_index("fixed_effects")
    print("    By fixed effects: " + "; ".join(
        f"{k}: median {fe.loc[k].median_estimate:+.4f}, positive {fe.loc[k].share_positive:.0%}, significantly "
        f"positive {fe.loc[k].share_significant_positive:.0%}" for k in FIXED_EFFECTS) + ".")
    top = imp.loc[x].median_range.idxmax()
    q = imp.loc[(x, top)]
    print(f"    Moved most by the {names.get(top, top)} choice: option medians from "
          f"{medians[(x, top, q.lowest_option)]:+.4f} ({q.lowest_option}) to {medians[(x, top, q.highest_option)]:+.4f} "
          f"({q.highest_option}); it explains {q.variance_share:.0%} of the variance of the estimates.")

anchor = ["sister_active", "consulates_general", "networks_dated"]
for scope in ("all specifications", f"{MIN_METROS}+ metros", f"{MIN_METROS}+ metros, year effects only",
              f"{MIN_METROS}+ metros, metro + year effects"):
    part = sg.xs(scope, level="scope").loc[anchor]
    print(f"- Anchor claim 'all go with higher exports' ({scope}): positive in most specifications for "
          f"{int((part.share_positive > 0.5).sum())} of 3, significantly positive in most for "
          f"{int((part.share_significant_positive > 0.5).sum())} of 3 (significantly positive: " + ", ".join(
              f"{term_label(x)} {part.loc[x].share_significant_positive:.0%}" for x in anchor) + ").")
for consulate in ("consulates_general", "consular_posts"):
    rk = rankings[rankings.consulate_measure == consulate].set_index("largest_t")
    if rk.cells.sum() == 0:
        print(f"- Anchor claim 'consulates most strongly' ({term_label(consulate).lower()}): no cell in which all "
              f"three measures rest on {MIN_METROS}+ metros.")
        continue
    first = rk.share.idxmax()
    print(f"- Anchor claim 'consulates most strongly' ({term_label(consulate).lower()}): the consulate measure has "
          f"the largest t in {rk.loc[consulate].share:.0%} of {int(rk.cells.sum())} cells; most often first: "
          f"{term_label(first)} ({rk.loc[first].share:.0%}).")
for c in classes.itertuples():
    if c.cells == 0:
        print(f"- Anchor claim 'mid-sized metros gain most', {term_label(c.treatment)}: not testable here (no cell in "
              f"which all three size classes rest on {MIN_METROS}+ metros).")
        continue
    shares = {k: getattr(c, f"share_{k}_largest") for k in CLASSES}
    print(f"- Anchor claim 'mid-sized metros gain most', {term_label(c.treatment)}: the mid-size coefficient is the "
          f"largest in {shares['mid']:.0%} of {c.cells} cells (small {shares['small']:.0%}, large "
          f"{shares['large']:.0%}; most often first: {max(shares, key=shares.get)}); it is significantly positive "
          f"in {c.share_mid_significant_positive:.0%}.")
ns = null.summary()
mc = np.sqrt(ns.p_value * (1 - ns.p_value) / null.draws)
exceeded = (ns.p_value * (1 + null.draws) - 1).round().astype(int)  # null draws at least as extreme as observed
words = {"median_estimate": "the median", "share_significant": "the share significant"}
unsettled = [words[k] for k in ns.index if exceeded[k] > 0 and abs(ns.p_value[k] - 0.05) < 2 * mc[k]]
floor = [words[k] for k in ns.index if exceeded[k] == 0]
print(f"- Curve-level test ({null.draws} bootstrap draws, default panel, three measures): observed median "
      f"{ns.loc['median_estimate', 'observed']:+.4f} (null 95th percentile {ns.loc['median_estimate', 'null_p95']:+.4f}, "
      f"p = {ns.p_value['median_estimate']:.3f}); share significant in that direction "
      f"{ns.loc['share_significant', 'observed']:.0%} (null median {ns.loc['share_significant', 'null_median']:.0%}, "
      f"95th percentile {ns.loc['share_significant', 'null_p95']:.0%}, p = {ns.p_value['share_significant']:.3f}). "
      f"Null draws at least as extreme: {exceeded['median_estimate']} and {exceeded['share_significant']} of "
      f"{null.draws} (Monte Carlo standard errors of the p-values {mc['median_estimate']:.3f} and "
      f"{mc['share_significant']:.3f})"
      + (f"; no draw reached the observed {' and '.join(floor)} (p at its floor, 1 / (1 + draws))" if floor else "")
      + (f"; too few draws to tell on which side of 0.05 the p-value of {' and '.join(unsettled)} lies"
         if unsettled else "") + ".")
if ctx.synthetic:
    truth = ctx.provenance["synthetic_truth"]
    true = {"sister_active": truth["beta_sister"], "consular_posts": truth["beta_consulate"],
            "networks_dated": truth["beta_network"]}
    twfe = estimated[(estimated.fixed_effects == "metro + year") & (estimated["sample"] == "all")]
    print("- Synthetic check, true coefficient vs median of the metro + year specifications on all metro-years "
          "(share of their 95% intervals covering it): " + "; ".join(
              f"{term_label(m)} {true[m]:.3f} vs {twfe[twfe.treatment == m].coefficient.median():.3f} "
              f"({((twfe[twfe.treatment == m].conf_low <= true[m]) & (twfe[twfe.treatment == m].conf_high >= true[m])).mean():.0%})"
              for m in MEASURES))

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
# * Specifications resting on a handful of metros (fewer than five, a rule of thumb) are in the
#   curve like any other, and their clustered standard errors are too optimistic; the summaries
#   for five or more metros and the figures' axes set them apart. Heteroskedasticity-robust
#   standard errors ignore that a metro's years are correlated, which is why they are a contrast
#   only: the gap between their share of significant estimates and the clustered one above shows
#   how much that correlation matters.
# * The curve-level test uses a small number of bootstrap draws so that the notebook runs in
#   seconds; its p-values are coarse (none can be below 1 / (1 + draws); their Monte Carlo
#   standard errors are printed above) and it covers the default panel, log exports and the
#   three measures only. Raising `DRAWS` sharpens it at about a tenth of a second per draw.
