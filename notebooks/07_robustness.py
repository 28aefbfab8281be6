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
# file, what to do with export values on a different delineation, how to cut size classes,
# which years to use, and which CDP–ICLEI responses count as participation (every respondent or
# only disclosed inventories; regional bodies left out or counted for their metro). How much do
# the main estimates move when each choice is made the other way?
#
# Each *variant* is the default panel with exactly one of these choices switched, built from the
# same inputs (`citydip/panel/variants.py`), so a difference between a variant's estimate and the
# default's is due to that choice alone. On the default panel and on every variant the main
# models of notebooks 03 and 04 are fitted again with the library: M1 between, M3 two-way FE
# (standard errors clustered by metro), M3-CG (consulates general instead of all consular posts),
# M4 PPML and M5 by size class; and M3-CDP, M3 with the fourth diplomacy measure, CDP–ICLEI
# participation (`cdp_any`: a local government of the metro reports to CDP–ICLEI in the year),
# beside the three measures. CDP participation exists for 2016-2021 only, so M3-CDP is fitted
# on those years (2016-2019 in the 2005-2019 variant; 2016, 2017 and 2019 in the consulate
# snapshots-only one) and its sample differs from M3's. An estimate is read as robust to a
# choice when the variant keeps its sign and its significance at the 5% level; how far it moves
# is also given in units of the default estimate's standard error.
#
# A variant can only move an estimate through the data: the first table shows how much each
# variant changes the panel. At the end come two choices made at estimation rather than in the
# build: real instead of nominal exports, and consulates general instead of all consular posts.

# %%
from IPython.display import display

from citydip.analysis import robustness as rb
from citydip.estimation.catalogue import MEASURES
from citydip.report import notebook
from citydip.report.robustness_plots import variant_coefficients

ctx = notebook.start("07_robustness")
index, variant_panels = ctx.variants
panels, descriptions = rb.with_default(ctx.panel, index, variant_panels)
ORDER = list(panels)  # the default panel first, then every variant
VARIANTS = ORDER[1:]
print(f"{ctx.data_label}: default panel {len(ctx.panel):,} metro-years; {len(VARIANTS)} robustness variants")
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
# diplomacy measure (with CDP participation and the count of reporting local governments,
# `cdp_cities_reporting`, which only the CDP variants change): its mean over metro-years, the
# metro-years where it differs from the default
# panel on the metro-years both have (a missing value where the default has one counts as a
# difference; metro-years a variant leaves out are in the first table), and the changes
# between a metro's consecutive observations in the two-way FE sample (what a within-metro
# coefficient rests on). A variant that changes none of a model's data cannot change its estimate.

# %%
samples, measures = rb.variant_samples(panels, descriptions), rb.variant_measures(panels)
ctx.table(samples, "variant_samples", cell="How each variant changes the panel",
          caption=f"Metro-years, export values, two-way FE sample and size-class changes of each panel variant "
                  f"({ctx.data_label})")
ctx.table(measures.round(4), "variant_measures", cell="How each variant changes the panel",
          caption=f"Each diplomacy measure under each panel variant: mean, metro-years differing from the default "
                  f"panel, and changes within metros in the two-way FE sample ({ctx.data_label})")
display(samples.drop(columns="description"))
measures.pivot(index="variant", columns="measure", values=["metro_years_differing", "within_metro_changes"]) \
    .reindex(ORDER)

# %% [markdown]
# ## The main models on every variant
# The models are the catalogue's specifications and M3-CDP, fitted unchanged on each panel.
# Inputs that a model cannot use (singleton metros, a measure with no change left within
# metros) are dropped by the library and listed below. The long table has every diplomacy
# coefficient with its standard error, p-value and 95% interval, its difference from the
# default estimate, and that
# difference in units of the default's standard error.

# %%
variant_fits = rb.fit_variants(panels)
long = variant_fits.estimates
assert rb.matches_stored(long, ctx.estimates), "refitted M3 differs from estimates.csv"
ctx.table(long.round(5), "robustness_estimates", cell="The main models on every variant",
          caption=f"Diplomacy coefficients of M1, M3, M3-CG, M4, M5 and M3-CDP on the default panel and each "
                  f"variant, with the difference from the default estimate ({ctx.data_label})")
print(f"Refitted M3 on the default panel equals the stored estimates; {len(variant_fits.fits)} fits "
      f"({len(panels)} panels x {len(rb.MODELS)} models).")
for n in variant_fits.notes.itertuples():
    print(f"- {n.variant}, {n.model}: {n.note}")
long.drop_duplicates(["variant", "model_key"]).pivot(index="variant", columns="model_key", values="nobs") \
    .reindex(ORDER)[list(rb.MODELS)]

# %% [markdown]
# ## Compact view
# One row per panel, one column per model and measure: the coefficient with stars
# (\*\*\* p < 0.01, \*\* p < 0.05, \* p < 0.10) and its standard error in parentheses. M5's
# size-class coefficients follow in their own view below.

# %%
wide = rb.wide_view(long, ORDER)
ctx.table(wide, "robustness_wide", cell="Compact view",
          caption=f"Diplomacy coefficients (standard errors) by panel variant (stars: *** p < 0.01, ** p < 0.05, "
                  f"* p < 0.10) ({ctx.data_label})")
wide.set_index("variant")

# %%
sizes, largest = rb.size_class_view(long, ORDER), rb.largest_class(long, ORDER)
ctx.table(sizes, "robustness_size_classes", cell="Compact view",
          caption=f"M5 coefficients (standard errors) by size class and panel variant (stars: *** p < 0.01, "
                  f"** p < 0.05, * p < 0.10) ({ctx.data_label})")
ctx.table(largest, "robustness_largest_class", cell="Compact view",
          caption=f"The size class with the largest M5 coefficient, by measure and panel variant ({ctx.data_label})")
display(sizes.set_index("variant"))
largest.set_index("variant")

# %% [markdown]
# ## The estimates across variants
# One panel per measure and model: each variant's coefficient with its 95% interval; the default
# panel's estimate is the red square at the top and the dotted red line. Scales differ between
# panels (M1 compares metro means, M3 and M4 changes within metros).

# %%
if VARIANTS:
    fig = variant_coefficients(long, ORDER, {k: rb.MODELS[k] for k in ("M1", "M3", "M4")}, MEASURES)
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
counts = rb.survival_counts(long)
if VARIANTS:
    ctx.table(counts.round(4), "robustness_counts", cell="Do the default estimates survive?",
              caption=f"How many panel variants keep the sign and the 5% verdict of each default estimate, and "
                      f"which variant moves it most ({ctx.data_label})")
    display(counts.round(3))
else:
    print("No variants: nothing to count (see the first cell).")

# %% [markdown]
# The same comparison by variant: of the diplomacy coefficients of all six models, how many each
# variant estimates, how many change sign or 5% verdict, how many move by at least one default
# standard error, and the median and largest move (in default standard errors).

# %%
changes = rb.by_variant(long)
if VARIANTS:
    ctx.table(changes.round(4), "robustness_by_variant", cell="Do the default estimates survive?",
              caption=f"By panel variant: diplomacy coefficients (M1, M3, M3-CG, M4, M5, M3-CDP) that change sign, "
                      f"change their 5% verdict or move by one default standard error or more ({ctx.data_label})")
else:
    print("No variants: nothing to compare (see the first cell).")
changes.round(3)

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
side = rb.estimation_side_checks(ctx.panel, {k: variant_fits.fits[(rb.DEFAULT, k)] for k in ("M3", "M3-CG", "M1")})
ctx.table(side.table.round(5), "estimation_side_checks", cell="Estimation-side choices",
          caption=f"M3 and M1 with nominal and real log exports, and M3 with consulates general instead of all "
                  f"consular posts (default panel, {ctx.data_label})")
print(f"Largest within-year spread of log nominal minus log real exports across metros: {side.deflator_spread:.1e} "
      f"(a deflator common to all metros gives zero).")
print(f"M3, real vs nominal exports: largest difference in a coefficient {side.coef_gap:.1e}, in a standard error "
      f"{side.se_gap:.1e}: the deflator is {'absorbed by' if side.absorbed else 'NOT fully absorbed by'} the year "
      f"effects.")
print(f"M1 (no year effects), real vs nominal exports: largest difference in a slope coefficient "
      f"{side.between_gap:.1e} (metro means of the log deflator differ only where metros have export values in "
      f"different years).")
side.table.round(4)

# %% [markdown]
# ## In short
# The findings, then the anchor paper's claims against the default panel's M3 (consular posts),
# M3-CG (consulates general) and M5 (size classes), and whether any panel variant produces its
# pattern of three significantly positive measures in M1, M3 or M4
# (`citydip.analysis.robustness.anchor_claims`; `yes` / `partly` / `no`).

# %%
print("\n".join(rb.findings(long, side)))
rb.anchor_claims(long)

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
# * CDP–ICLEI participation is observed in 2016-2021 only, so M3-CDP compares six years (four in
#   the 2005-2019 variant) and its within-metro changes are metros starting or stopping to report
#   (counted in the first tables); a year without a report may be a lapse in reporting rather than
#   in diplomacy. The two CDP variants change only the CDP measures: counting the regional bodies
#   changes counts but no metro's participation, so it cannot move `cdp_any`'s estimate.
# * A common price deflator cannot matter in models with year fixed effects (checked above). In
#   the between regression it can matter only through metros whose export values cover
#   different years; the size of that difference is printed above.
