# ---
# jupyter:
#   jupytext:
#     text_representation:
#       extension: .py
#       format_name: percent
# ---

# %% [markdown]
# # 07 Robustness: how much do the estimates depend on how the panel is built?
#
# **Question.** Several steps in building the panel are judgement calls: what to do with
# sister-city ties and network memberships that have no year, which year to take when sources
# disagree, which kinds of ties count, how to fill consular posts between the Lowy snapshots,
# which sending countries to count, whether to fill the documented omissions of the Lowy 2016
# file, what to do with export values on a different delineation, how to cut size classes, and
# which years to use. How much do the main estimates move when each choice is made the other way?
#
# Each *variant* is the default panel with exactly one of these choices switched, built from the
# same inputs (`citydip/panel/variants.py`), so a difference between a variant's estimate and the
# default's is due to that choice alone. On the default panel and on every variant the main
# models of notebooks 03 and 04 are fitted again with the library: M1 between, M3 two-way FE
# (standard errors clustered by metro), M3-CG (consulates general instead of all consular posts),
# M4 PPML and M5 by size class. An estimate is read as robust to a choice when the variant keeps
# its sign and its significance at the 5% level; how far it moves is also given in units of the
# default estimate's standard error.
#
# A variant can only move an estimate through the data: the first table shows how much each
# variant changes the panel. At the end come two choices made at estimation rather than in the
# build: real instead of nominal exports, and consulates general instead of all consular posts.

# %%
import warnings
from dataclasses import replace

import numpy as np
import pandas as pd
import matplotlib.style
from IPython.display import display
from matplotlib.figure import Figure

from citydip.estimation import fit
from citydip.estimation.catalogue import CONTROLS, MEASURES, catalogue
from citydip.estimation.fitting import SIZE_CLASSES
from citydip.report import notebook, term_label
from citydip.report.figures import STYLE
from citydip.report.labels import base_term
from citydip.report.tables import significance_stars

ctx = notebook.start("07_robustness")
panel = ctx.panel
index, variant_panels = ctx.variants
DEFAULT = "default"
panels = {DEFAULT: panel, **{v["name"]: variant_panels[v["name"]] for v in index}}
descriptions = {DEFAULT: "the panel as built with the default options", **{v["name"]: v["description"] for v in index}}
VARIANTS = [v["name"] for v in index]
print(f"{ctx.data_label}: default panel {len(panel):,} metro-years; {len(VARIANTS)} robustness variants")
if not VARIANTS:
    print("There are no robustness variants of this panel. Robustness to the data-construction choices needs "
          "the panel built from the published files: run `citydip replicate` with the data directory set "
          "(--data-dir or $CITYDIP_DATA_DIR), which writes the variants to build/variants/. Below, only the "
          "default panel is fitted, and the estimation-side checks are run on it.")
for v in index:
    print(f"- {v['name']}: {v['description']} (changed: {v['changed']}; {v['rows']:,} metro-years, "
          f"{v['metros']} metros)")

# %% [markdown]
# ## How each variant changes the panel
# For each variant: its metro-years, those with an export value, the size of the two-way FE
# estimation sample, and the metros whose size class differs from the default. Then, per
# diplomacy measure: its mean over metro-years, the metro-years where it differs from the default
# panel on the metro-years both have (a missing value where the default has one counts as a
# difference; metro-years a variant leaves out are in the first table), and the changes
# between a metro's consecutive observations in the two-way FE sample (what a within-metro
# coefficient rests on). A variant that changes none of a model's data cannot change its estimate.

# %%
DIPLOMACY = [*MEASURES, "consulates_general"]
KEY = ["cbsa_code", "year"]
M3_COLUMNS = ["log_exports", *MEASURES, *CONTROLS]


def fe_sample(frame: pd.DataFrame) -> pd.DataFrame:
    """The metro-years M3 can use, sorted by metro and year."""
    return frame.dropna(subset=M3_COLUMNS).sort_values(KEY)


default_classes = panel.groupby("cbsa_code").size_class.first()
sample_rows, measure_rows = [], []
for name, frame in panels.items():
    sample = fe_sample(frame)
    classes = frame.groupby("cbsa_code").size_class.first().reindex(default_classes.index)
    sample_rows.append({"variant": name, "description": descriptions[name], "metro_years": len(frame),
                        "metros": frame.cbsa_code.nunique(), "with_exports": int(frame.log_exports.notna().sum()),
                        "two_way_fe_sample": len(sample),
                        "size_class_changed_metros": int((classes != default_classes).sum())})
    merged = panel[KEY + DIPLOMACY].merge(frame[KEY + DIPLOMACY], on=KEY, how="inner", suffixes=("", "_v"))
    for m in DIPLOMACY:
        a, b = merged[m].astype(float), merged[f"{m}_v"].astype(float)
        same = (a == b) | (a.isna() & b.isna())
        changes = sample.groupby("cbsa_code")[m].diff().fillna(0) != 0
        measure_rows.append({"variant": name, "measure": m, "mean": float(frame[m].mean()),
                             "metro_years_differing": int((~same).sum()),
                             "within_metro_changes": int(changes.sum()),
                             "metros_that_change": int(sample.loc[changes, "cbsa_code"].nunique())})
samples, measures = pd.DataFrame(sample_rows), pd.DataFrame(measure_rows)
ctx.table(samples, "variant_samples", cell="How each variant changes the panel",
          caption=f"Metro-years, export values, two-way FE sample and size-class changes of each panel variant "
                  f"({ctx.data_label})")
ctx.table(measures.round(4), "variant_measures", cell="How each variant changes the panel",
          caption=f"Each diplomacy measure under each panel variant: mean, metro-years differing from the default "
                  f"panel, and changes within metros in the two-way FE sample ({ctx.data_label})")
display(samples.drop(columns="description"))
measures.pivot(index="variant", columns="measure", values=["metro_years_differing", "within_metro_changes"]) \
    .reindex(list(panels))

# %% [markdown]
# ## The main models on every variant
# The models are the catalogue's specifications, fitted unchanged on each panel. Inputs that a
# model cannot use (singleton metros, a measure with no change left within metros) are dropped
# by the library and listed below. The long table has every diplomacy coefficient with its
# standard error, p-value and 95% interval, its difference from the default estimate, and that
# difference in units of the default's standard error.

# %%
MODELS = {"M1": "M1 between", "M3": "M3 two-way FE", "M3-CG": "M3-CG two-way FE, consulates general",
          "M4": "M4 PPML", "M5": "M5 by size class"}
SPECS = {s.name: s for s in catalogue()}
fits, rows, notes = {}, [], []
for name, frame in panels.items():
    for key, model in MODELS.items():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            result = fit(frame, SPECS[model])
        fits[(name, key)] = result
        rows.append(result.tidy().assign(variant=name, key=key))
        notes += [{"variant": name, "model": key, "note": n} for n in result.notes
                  if "dropped for missing values" not in n and "between regression" not in n]
tidy = pd.concat(rows, ignore_index=True)
tidy = tidy[tidy.term.map(base_term).isin(DIPLOMACY)].copy()
tidy["measure"] = tidy.term.map(base_term)

stored = ctx.estimates.set_index(["model", "term"]).estimate
refit = tidy[(tidy.variant == DEFAULT) & (tidy.key == "M3")].set_index(["model", "term"]).estimate
assert np.allclose(refit, stored.reindex(refit.index), rtol=1e-6, atol=1e-9), "refitted M3 differs from estimates.csv"

base = tidy[tidy.variant == DEFAULT].set_index(["key", "term"])
ref = base.reindex(pd.MultiIndex.from_frame(tidy[["key", "term"]]))
tidy["default_estimate"] = ref.estimate.to_numpy()
tidy["difference"] = tidy.estimate - tidy.default_estimate
tidy["shift_in_default_se"] = tidy.difference / ref.std_error.to_numpy()
long = tidy[["variant", "key", "model", "term", "measure", "estimate", "std_error", "p_value", "conf_low",
             "conf_high", "nobs", "default_estimate", "difference", "shift_in_default_se"]].rename(
    columns={"key": "model_key"})
ctx.table(long.round(5), "robustness_estimates", cell="The main models on every variant",
          caption=f"Diplomacy coefficients of M1, M3, M3-CG, M4 and M5 on the default panel and each variant, with "
                  f"the difference from the default estimate ({ctx.data_label})")
print(f"Refitted M3 on the default panel equals the stored estimates; {len(fits)} fits "
      f"({len(panels)} panels x {len(MODELS)} models).")
for n in notes:
    print(f"- {n['variant']}, {n['model']}: {n['note']}")
nobs = long.drop_duplicates(["variant", "model_key"]).pivot(index="variant", columns="model_key", values="nobs")
nobs.reindex(list(panels))[list(MODELS)]

# %% [markdown]
# ## Compact view
# One row per panel, one column per model and measure: the coefficient with stars
# (\*\*\* p < 0.01, \*\* p < 0.05, \* p < 0.10) and its standard error in parentheses. M5's
# size-class coefficients follow in their own view below.

# %%
def cell(r) -> str:
    return f"{r.estimate:.4f}{'*' * significance_stars(r.p_value)} ({r.std_error:.4f})"


main = long[long.model_key != "M5"].assign(text=lambda d: d.apply(cell, axis=1),
                                           column=lambda d: d.model_key + ": " + d.measure.map(term_label))
columns = [f"{k}: {term_label(t)}" for k in MODELS if k != "M5" for t in base.loc[k].index]
wide = main.pivot(index="variant", columns="column", values="text").reindex(list(panels))[columns]
ctx.table(wide.reset_index(), "robustness_wide", cell="Compact view",
          caption=f"Diplomacy coefficients (standard errors) by panel variant (stars: *** p < 0.01, ** p < 0.05, "
                  f"* p < 0.10) ({ctx.data_label})")
wide

# %%
m5 = long[long.model_key == "M5"].assign(text=lambda d: d.apply(cell, axis=1))
m5_wide = m5.pivot(index="variant", columns="term", values="text").reindex(list(panels))
m5_wide = m5_wide[[f"{m}_x_{c}" for m in MEASURES for c in SIZE_CLASSES if f"{m}_x_{c}" in m5_wide.columns]]
largest = []
for name in panels:
    coef = m5[m5.variant == name].set_index("term").estimate
    row = {"variant": name}
    for m in MEASURES:
        have = {c: coef[f"{m}_x_{c}"] for c in SIZE_CLASSES if f"{m}_x_{c}" in coef.index}
        row[m] = max(have, key=have.get) if len(have) == len(SIZE_CLASSES) else "not all classes estimated"
    largest.append(row)
largest = pd.DataFrame(largest)
ctx.table(m5_wide.reset_index().fillna("dropped"), "robustness_size_classes", cell="Compact view",
          caption=f"M5 coefficients (standard errors) by size class and panel variant (stars: *** p < 0.01, "
                  f"** p < 0.05, * p < 0.10) ({ctx.data_label})")
ctx.table(largest, "robustness_largest_class", cell="Compact view",
          caption=f"The size class with the largest M5 coefficient, by measure and panel variant ({ctx.data_label})")
display(m5_wide.fillna("dropped"))
largest.set_index("variant")

# %% [markdown]
# ## The estimates across variants
# One panel per measure and model: each variant's coefficient with its 95% interval; the default
# panel's estimate is the red square at the top and the dotted red line. Scales differ between
# panels (M1 compares metro means, M3 and M4 changes within metros).

# %%
FIGURE_MODELS = ["M1", "M3", "M4"]
if VARIANTS:
    order = [DEFAULT, *VARIANTS]
    with matplotlib.style.context(["default", STYLE]):
        fig = Figure(figsize=(8.4, 8.2), layout="constrained")
        axes = fig.subplots(len(FIGURE_MODELS), len(MEASURES), sharey=True)
        y = np.arange(len(order))[::-1]
        for i, key in enumerate(FIGURE_MODELS):
            for j, m in enumerate(MEASURES):
                ax = axes[i, j]
                part = long[(long.model_key == key) & (long.term == m)].set_index("variant").reindex(order)
                for yy, (name, r) in zip(y, part.iterrows()):
                    if np.isnan(r.estimate):
                        continue
                    color = "C3" if name == DEFAULT else "C0"
                    ax.errorbar(r.estimate, yy, xerr=[[r.estimate - r.conf_low], [r.conf_high - r.estimate]],
                                fmt="s" if name == DEFAULT else "o", color=color, markersize=4, capsize=2,
                                elinewidth=1)
                ax.axvline(part.loc[DEFAULT, "estimate"], color="C3", linewidth=0.8, linestyle=":", zorder=0)
                ax.axvline(0, color="0.35", linewidth=0.8, linestyle="--", zorder=0)
                ax.set_yticks(y, order, fontsize=7)
                ax.tick_params(axis="x", labelsize=7)
                ax.set_title(f"{MODELS[key]}: {term_label(m)}", fontsize=8)
        for ax in axes[:, 0]:
            for label in ax.get_yticklabels():
                if label.get_text() == DEFAULT:
                    label.set_fontweight("bold")
        fig.supxlabel("Coefficient (95% interval); default panel in red", fontsize=8)
    ctx.figure(fig, "robustness_coefficients", cell="The estimates across variants",
               caption=f"Diplomacy coefficients of M1, M3 and M4 with 95% intervals on the default panel and each "
                       f"robustness variant ({ctx.data_label})")
    display(fig)
else:
    print("No variants: nothing to compare (see the first cell).")

# %% [markdown]
# ## Do the default estimates survive?
# For every diplomacy coefficient: the default estimate and p-value, and among the variants in
# which it is estimated, how many keep its sign, how many keep its verdict at the 5% level
# (significant or not), how many leave it exactly unchanged (their data do not differ for that
# model), the range of the variant estimates and the variant that moves it most.

# %%
robust_rows = []
for (key, term), d in base.iterrows():
    alt = long[(long.model_key == key) & (long.term == term) & (long.variant != DEFAULT)].dropna(subset=["estimate"])
    significant, same_sign = d.p_value < 0.05, np.sign(alt.estimate) == np.sign(d.estimate)
    moved = alt.loc[alt.shift_in_default_se.abs().idxmax()] if len(alt) else None
    robust_rows.append({
        "model_key": key, "term": term, "default_estimate": d.estimate, "default_p": d.p_value,
        "default_significant": significant, "variants": len(VARIANTS), "estimated": len(alt),
        "same_sign": int(same_sign.sum()),
        "same_verdict_5pct": int(((alt.p_value < 0.05) == significant).sum()),
        "significant_same_sign": int(((alt.p_value < 0.05) & same_sign).sum()),
        "unchanged": int((alt.difference.abs() < 1e-10).sum()),
        "min_estimate": alt.estimate.min() if len(alt) else np.nan,
        "max_estimate": alt.estimate.max() if len(alt) else np.nan,
        "largest_shift_variant": moved.variant if moved is not None else "",
        "largest_shift_in_default_se": moved.shift_in_default_se if moved is not None else np.nan})
robust = pd.DataFrame(robust_rows)
if VARIANTS:
    ctx.table(robust.round(4), "robustness_counts", cell="Do the default estimates survive?",
              caption=f"How many panel variants keep the sign and the 5% verdict of each default estimate, and "
                      f"which variant moves it most ({ctx.data_label})")
    display(robust.round(3))
else:
    print("No variants: nothing to count (see the first cell).")

# %% [markdown]
# The same comparison by variant: of the diplomacy coefficients of all five models, how many each
# variant estimates, how many change sign or 5% verdict, how many move by at least one default
# standard error, and the median and largest move (in default standard errors).

# %%
others = long[long.variant != DEFAULT].join(base.p_value.rename("default_p"), on=["model_key", "term"])
others = others.assign(
    estimated=others.estimate.notna(),
    sign_changed=others.estimate.notna() & (np.sign(others.estimate) != np.sign(others.default_estimate)),
    verdict_changed=others.estimate.notna() & ((others.p_value < 0.05) != (others.default_p < 0.05)),
    moved_one_se=others.shift_in_default_se.abs() >= 1, abs_shift=others.shift_in_default_se.abs(),
    changed=~(others.difference.abs() < 1e-10))
by_variant = others.groupby("variant", sort=False).agg(
    coefficients=("term", "size"), estimated=("estimated", "sum"), sign_changed=("sign_changed", "sum"),
    verdict_changed=("verdict_changed", "sum"), moved_one_se=("moved_one_se", "sum"),
    median_abs_shift_se=("abs_shift", "median"), max_abs_shift_se=("abs_shift", "max"),
    models_changed=("model_key", lambda k: k[others.loc[k.index, "changed"]].nunique())).reset_index()
if VARIANTS:
    ctx.table(by_variant.round(4), "robustness_by_variant", cell="Do the default estimates survive?",
              caption=f"By panel variant: diplomacy coefficients (M1, M3, M3-CG, M4, M5) that change sign, change "
                      f"their 5% verdict or move by one default standard error or more ({ctx.data_label})")
else:
    print("No variants: nothing to compare (see the first cell).")
by_variant.round(3)

# %% [markdown]
# ## Estimation-side choices
# Two choices made when fitting, not when building the panel, checked on the default panel:
# * **Real instead of nominal exports.** Real exports are nominal exports divided by the U.S. GDP
#   deflator of the year, the same for every metro. In logs that subtracts a number per year, which
#   the year fixed effects absorb, so M3's coefficients and standard errors should not change at
#   all. This is checked numerically, not assumed; the between regression M1, which has no year
#   effects, is refitted with real exports for comparison.
# * **Consulates general instead of all consular posts** (M3-CG, the anchor paper's measure).

# %%
analysis = panel.assign(log_exports_real=np.log(panel.exports_real_usd))
spread = (analysis.log_exports - analysis.log_exports_real).groupby(analysis.year).agg(lambda s: s.max() - s.min())
m3_real = replace(SPECS[MODELS["M3"]], name="M3 two-way FE, log real exports", depvar="log_exports_real")
m1_real = replace(SPECS[MODELS["M1"]], name="M1 between, log real exports", depvar="log_exports_real")
with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    real, real_between = fit(analysis, m3_real), fit(analysis, m1_real)
nominal, cg, between = fits[(DEFAULT, "M3")], fits[(DEFAULT, "M3-CG")], fits[(DEFAULT, "M1")]
coef_gap = float((real.coef - nominal.coef.reindex(real.coef.index)).abs().max())
se_gap = float((real.se - nominal.se.reindex(real.se.index)).abs().max())
absorbed = bool(spread.max() < 1e-9 and coef_gap < 1e-8 and se_gap < 1e-8)
between_gap = float((real_between.coef - between.coef).drop("const", errors="ignore").abs().max())
side = pd.concat([nominal.tidy(), real.tidy(), cg.tidy(), between.tidy(), real_between.tidy()], ignore_index=True)
side = side[side.term.map(base_term).isin(DIPLOMACY)][["model", "depvar", "term", "estimate", "std_error", "p_value",
                                                       "conf_low", "conf_high", "nobs"]]
ctx.table(side.round(5), "estimation_side_checks", cell="Estimation-side choices",
          caption=f"M3 and M1 with nominal and real log exports, and M3 with consulates general instead of all "
                  f"consular posts (default panel, {ctx.data_label})")
print(f"Largest within-year spread of log nominal minus log real exports across metros: {spread.max():.1e} "
      f"(a deflator common to all metros gives zero).")
print(f"M3, real vs nominal exports: largest difference in a coefficient {coef_gap:.1e}, in a standard error "
      f"{se_gap:.1e}: the deflator is {'absorbed by the year effects' if absorbed else 'NOT fully absorbed'}.")
print(f"M1 (no year effects), real vs nominal exports: largest difference in a slope coefficient {between_gap:.1e} "
      f"(metro means of the log deflator differ only where metros have export values in different years).")
side.round(4)

# %% [markdown]
# ## In short

# %%
def fmt_p(p: float) -> str:
    return "< 0.001" if p < 0.001 else f"= {p:.3f}"


r = robust.set_index(["model_key", "term"])
if VARIANTS:
    for key in ["M1", "M3", "M3-CG", "M4"]:
        for term in base.loc[key].index:
            x = r.loc[(key, term)]
            print(f"- {key}, {term_label(term)}: default {x.default_estimate:+.4f} (p {fmt_p(x.default_p)}); across "
                  f"{x.estimated} variants {x.min_estimate:+.4f} to {x.max_estimate:+.4f}; sign kept in "
                  f"{x.same_sign}, 5% verdict kept in {x.same_verdict_5pct}; moved most by {x.largest_shift_variant} "
                  f"({x.largest_shift_in_default_se:+.2f} default standard errors).")
    flips = robust[robust.same_sign < robust.estimated]
    verdicts = robust[robust.same_verdict_5pct < robust.estimated]
    print(f"- Of {len(robust)} diplomacy coefficients (M5 classes included), {len(flips)} change sign in at least "
          f"one variant and {len(verdicts)} change their 5% verdict in at least one.")
    for v in by_variant.sort_values("median_abs_shift_se", ascending=False).itertuples():
        print(f"- {v.variant}: {v.estimated} of {v.coefficients} coefficients estimated; {v.sign_changed} change sign, "
              f"{v.verdict_changed} change their 5% verdict, {v.moved_one_se} move by one default standard error or "
              f"more (median move {v.median_abs_shift_se:.2f}, largest {v.max_abs_shift_se:.2f}); estimates of "
              f"{v.models_changed} of {len(MODELS)} models differ from the default.")
    quiet = [v for v in VARIANTS if (long[long.variant == v].difference.abs() < 1e-10).all()]
    unchanged_models = {v: [k for k in MODELS if (long[(long.variant == v) & (long.model_key == k)].difference.abs()
                                                  < 1e-10).all()] for v in VARIANTS if v not in quiet}
    partly = "; ".join(f"{v} ({', '.join(k)})" for v, k in unchanged_models.items() if k)
    print("- Variants leaving every estimate exactly unchanged: " + (", ".join(quiet) if quiet else "none")
          + "; leaving some models exactly unchanged: " + (partly or "none") + ".")
    for key in ["M1", "M3", "M4"]:
        anchor = [name for name in panels
                  if ((part := long[(long.variant == name) & (long.model_key == key) & long.term.isin(MEASURES)])
                      .estimate.gt(0) & part.p_value.lt(0.05)).sum() == len(MEASURES)]
        print(f"- {key}: all three measures positive with p < 0.05 (the anchor's pattern) in {len(anchor)} of "
              f"{len(panels)} panels" + (f" ({', '.join(anchor)})" if anchor else "") + ".")
    for m in MEASURES:
        counts = largest[m].value_counts()
        print(f"- M5, {term_label(m)}: the mid-size coefficient is the largest in {int(counts.get('mid', 0))} of "
              f"{len(panels)} panels (" + ", ".join(f"{k}: {v}" for k, v in counts.items()) + ").")
else:
    print("- No robustness variants for this panel: how much the estimates depend on the data-construction "
          "choices cannot be said here. Run `citydip replicate` with the data directory set to see it.")
    for key in ["M1", "M3", "M4"]:
        print(f"- {key} on this panel: " + "; ".join(
            f"{term_label(t)} {base.loc[(key, t)].estimate:+.4f} (p {fmt_p(base.loc[(key, t)].p_value)})"
            for t in MEASURES))
print(f"- Real instead of nominal exports (M3): largest change in a coefficient {coef_gap:.1e}, in a standard error "
      f"{se_gap:.1e}; the common deflator is {'absorbed by the year effects' if absorbed else 'NOT fully absorbed'}. "
      f"In M1, without year effects, the largest change in a slope is {between_gap:.1e}.")
cg_row, cp_row = cg.tidy().set_index("term").loc["consulates_general"], nominal.tidy().set_index("term").loc[
    "consular_posts"]
print(f"- Consulates general instead of all consular posts (M3 on the default panel): {cg_row.estimate:+.4f} "
      f"(p {fmt_p(cg_row.p_value)}) against {cp_row.estimate:+.4f} (p {fmt_p(cp_row.p_value)}) per one more.")

# %% [markdown]
# ## What the data can and cannot support
# * Each variant switches one choice at a time. Choices that interact (for example, undated ties
#   together with a different conflict rule) are not combined, so the spread across variants is
#   not the full range of defensible panels.
# * A variant that adds about the same count to every year of a metro (assuming that undated ties
#   predate the sample does this, apart from ties with a recorded end) changes comparisons across
#   metros but hardly the changes within metros; the panel tables above show, for every variant,
#   whether the within-metro changes differ from the default's.
# * Where consular posts are kept only in the Lowy snapshot years, every model loses the other
#   years (a metro-year with a missing regressor is left out), so the two-way FE models rest on
#   three years, and M5 can lose class coefficients whose measure no longer changes within
#   metros (dropped terms are listed above). A difference from the default then mixes the
#   consulate choice with the loss of years and of the other measures' changes.
# * Keeping the sign and the 5% verdict in every variant shows that a result does not hinge on
#   these construction choices; it does not make an association causal, and it does not address
#   what all variants share (the same sources, the same metros, the same export measure).
# * A common price deflator cannot matter in models with year fixed effects (checked above). In
#   the between regression it can matter only through metros whose export values cover
#   different years; the size of that difference is printed above.
