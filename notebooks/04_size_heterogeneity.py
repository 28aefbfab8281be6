# ---
# jupyter:
#   jupytext:
#     text_representation:
#       extension: .py
#       format_name: percent
# ---

# %% [markdown]
# # 04 Size heterogeneity: do mid-sized metros benefit most?
#
# **Question.** Haddad, Rose & Bhagat (2025) suggest that mid-sized metros may gain most from city
# diplomacy. Is the association between diplomacy and exports larger in mid-sized metros than in
# small and large ones, and is the difference larger than the sampling noise?
#
# Model M5 is the two-way fixed-effects model of notebook 03 (log exports on the three measures,
# log population and log per-capita income, metro and year effects, standard errors clustered by
# metro) with one coefficient per size class for each measure: `consular_posts_x_mid` is the
# change in log exports with one more consular post in a mid-sized metro. The size classes are
# fixed per metro (population in the rank year), so each class coefficient is identified by the
# within-metro changes of the metros of that class only. The anchor paper's claim comes from
# interaction forests across metros, with no published effect sizes; what can be compared is
# whether the mid-size coefficient is the largest and whether it differs from the others.
#
# The tests use the fitted model's cluster-robust covariance matrix: for each measure, the
# differences mid - small and mid - large (t tests, two-sided and one-sided for "mid larger"),
# and the joint Wald test that the three class coefficients are equal, with the F distribution
# on (restrictions, metros - 1) degrees of freedom, the reference distribution of the model's own
# t tests.

# %%
import numpy as np
import pandas as pd
import matplotlib.style
from IPython.display import Markdown, display
from scipy import stats

from citydip.estimation import fit
from citydip.estimation.catalogue import CONTROLS, MEASURES, catalogue
from citydip.estimation.fitting import SIZE_CLASSES
from citydip.report import notebook, regression_table, size_class_plot, term_label
from citydip.report.figures import STYLE

ctx = notebook.start("04_size_heterogeneity")
est, panel = ctx.estimates, ctx.panel
M5, M3 = "M5 by size class", "M3 two-way FE"
cut = ctx.provenance["size_class_cutoffs_persons"]
rank_year = ctx.provenance["options"]["rank_year"]
print(f"{ctx.data_label}: size classes by population in {rank_year} "
      f"({ctx.provenance['options']['size_classes']}): small < {cut['small_below']:,.0f} persons <= mid < "
      f"{cut['large_from']:,.0f} persons <= large")

# %% [markdown]
# ## The size classes
# Metros per class, their population in the rank year, and how often each measure changes
# within the metros of the class (in the estimation sample). A class coefficient with few
# changing metros behind it rests on those few metros.

# %%
ref = panel[panel.year == rank_year]
sample = panel.dropna(subset=["log_exports", *MEASURES, *CONTROLS])
classes = pd.DataFrame([{
    "size_class": cls,
    "rule": {"small": f"< {cut['small_below']:,.0f}",
             "mid": f"{cut['small_below']:,.0f} to < {cut['large_from']:,.0f}",
             "large": f">= {cut['large_from']:,.0f}"}[cls],
    "metros": int((ref.size_class == cls).sum()),
    "population_min_k": ref.loc[ref.size_class == cls, "population_persons"].min() / 1e3,
    "population_median_k": ref.loc[ref.size_class == cls, "population_persons"].median() / 1e3,
    "population_max_k": ref.loc[ref.size_class == cls, "population_persons"].max() / 1e3,
} for cls in SIZE_CLASSES])
ctx.table(classes.round(1), "size_classes", cell="The size classes",
          caption=f"Size classes: cut-offs (persons, population in {rank_year}), metros and population in thousands "
                  f"({ctx.data_label})")

changes = []
for m in MEASURES:
    per_metro = sample.groupby("cbsa_code").agg(size_class=("size_class", "first"), low=(m, "min"), high=(m, "max"))
    for cls in SIZE_CLASSES:
        part = per_metro[per_metro.size_class == cls]
        changes.append({"measure": m, "size_class": cls, "metros_with_any": int((part.high > 0).sum()),
                        "metros_that_change": int((part.high > part.low).sum())})
changes = pd.DataFrame(changes)
implied = np.where(ref.population_persons < cut["small_below"], "small",
                   np.where(ref.population_persons < cut["large_from"], "mid", "large"))
agree = int((implied == ref.size_class.astype(str).to_numpy()).sum())
print(f"Check: {agree} of {len(ref)} metros are in the class their {rank_year} population and the stated cut-offs "
      f"imply{'' if agree == len(ref) else ' (the cut-offs recorded in provenance do not match the classes used)'}")
display(classes.round(1))
changes.pivot(index="measure", columns="size_class", values="metros_that_change")[list(SIZE_CLASSES)]

# %% [markdown]
# ## One coefficient per size class
# M3 (one coefficient per measure) beside M5 (one per measure and size class).

# %%
TERMS = [t for m in MEASURES for t in (m, *(f"{m}_x_{c}" for c in SIZE_CLASSES))] + list(CONTROLS)
table = regression_table(est, models=[M3, M5], terms=TERMS,
                         caption="SYNTHETIC DEMO DATA, NOT REAL." if ctx.synthetic else "")
ctx.table(table, "size_class_models", cell="One coefficient per size class",
          caption=f"Two-way fixed effects with one coefficient per measure (M3) and per measure and size class (M5) "
                  f"({ctx.data_label})")
Markdown(table.to_markdown())

# %% [markdown]
# The model is fitted again here for its covariance matrix; its coefficients must equal the
# stored ones.

# %%
spec = next(s for s in catalogue() if s.name == M5)
result = fit(panel, spec)
b, V = result.coef, result.vcov.loc[result.coef.index, result.coef.index]
stored = est[est.model == M5].set_index("term").estimate.reindex(b.index)
assert np.allclose(b, stored, rtol=1e-6, atol=1e-9), "refitted M5 differs from estimates.csv"
df_denominator = float(result.backend._df_t)  # metros - 1: the t distribution of the model's own p-values
print(f"Refitted {M5}: {result.nobs:,} metro-years, {len(b)} coefficients, largest difference from the stored "
      f"estimates {np.max(np.abs(b - stored)):.1e}; test degrees of freedom {df_denominator:.0f}")

# %% [markdown]
# ## In percent, by size class
# One more tie, post or network in a metro of each class, as a percent difference in exports
# (95% interval), with the number of metros of the class whose measure changes.

# %%
rows = []
for m in MEASURES:
    for cls in SIZE_CLASSES:
        r = est[(est.model == M5) & (est.term == f"{m}_x_{cls}")].iloc[0]
        n = changes[(changes.measure == m) & (changes.size_class == cls)].iloc[0]
        rows.append({"measure": term_label(m), "size_class": cls, "estimate": r.estimate,
                     "percent": 100 * np.expm1(r.estimate), "percent_low": 100 * np.expm1(r.conf_low),
                     "percent_high": 100 * np.expm1(r.conf_high), "p_value": r.p_value,
                     "metros_with_any": n.metros_with_any, "metros_that_change": n.metros_that_change})
by_class = pd.DataFrame(rows)
ctx.table(by_class.round(4), "size_class_effects", cell="In percent, by size class",
          caption=f"M5 coefficients by size class as percent differences in exports per one more, with the metros "
                  f"behind each ({ctx.data_label})")
by_class.round(3)

# %% [markdown]
# ## Tests: is the mid-size coefficient different, and larger?

# %%
def wald(R: np.ndarray) -> tuple[float, float, float]:
    """Wald statistic, F = W / q and its p-value for R b = 0 with the cluster-robust covariance."""
    Rb = R @ b.to_numpy()
    W = float(Rb @ np.linalg.solve(R @ V.to_numpy() @ R.T, Rb))
    F = W / R.shape[0]
    return W, F, float(stats.f.sf(F, R.shape[0], df_denominator))


def contrast(plus: str, minus: str) -> np.ndarray:
    r = np.zeros(len(b))
    r[b.index.get_loc(plus)], r[b.index.get_loc(minus)] = 1.0, -1.0
    return r


tests, joint_rows = [], []
for m in MEASURES:
    mid = f"{m}_x_mid"
    for other in ("small", "large"):
        r = contrast(mid, f"{m}_x_{other}")
        diff, se = float(r @ b), float(np.sqrt(r @ V.to_numpy() @ r))
        t = diff / se
        tests.append({"measure": term_label(m), "hypothesis": f"mid = {other}", "restrictions": 1, "difference": diff,
                      "std_error": se, "statistic": t, "p_value": 2 * stats.t.sf(abs(t), df_denominator),
                      "p_mid_larger": stats.t.sf(t, df_denominator)})
    R = np.vstack([contrast(mid, f"{m}_x_small"), contrast(mid, f"{m}_x_large")])
    joint_rows.append(R)
    W, F, p = wald(R)
    tests.append({"measure": term_label(m), "hypothesis": "small = mid = large", "restrictions": 2, "statistic": F,
                  "wald_chi2": W, "p_value": p})
W, F, p = wald(np.vstack(joint_rows))
tests.append({"measure": "all three", "hypothesis": "small = mid = large for every measure",
              "restrictions": 2 * len(MEASURES), "statistic": F, "wald_chi2": W, "p_value": p})
tests = pd.DataFrame(tests)
ctx.table(tests.round(4), "size_class_tests", cell="Tests",
          caption=f"Tests of equal size-class coefficients in M5 (cluster-robust covariance; t tests for one "
                  f"restriction, Wald F for several; one-sided p for the mid-size coefficient being larger) "
                  f"({ctx.data_label})")
tests.round(3)

# %% [markdown]
# ## The size-class comparison
# M5's coefficient for each class with its 95% interval; below each class, the number of its
# metros whose measure changes during the sample years.

# %%
figures = {}
for m in MEASURES:
    with matplotlib.style.context(["default", STYLE]):
        fig = size_class_plot(est, m, models=[M5])
        ax = fig.axes[0]
        counts = changes[changes.measure == m].set_index("size_class").metros_that_change
        ax.set_xticks(ax.get_xticks(), [f"{t.get_text()}\n({counts[c]} of {int((ref.size_class == c).sum())} "
                                        f"metros change)" for t, c in zip(ax.get_xticklabels(), SIZE_CLASSES)])
    ctx.figure(fig, f"size_class_{m}", cell="The size-class comparison",
               caption=f"M5 coefficient on {term_label(m).lower()} by metro size class, 95% intervals "
                       f"({ctx.data_label})")
    figures[m] = fig
    display(fig)

# %% [markdown]
# ## In short

# %%
def fmt_p(p: float) -> str:
    return "< 0.001" if p < 0.001 else f"= {p:.3f}"


verdicts = []
for m in MEASURES:
    coef = {c: b[f"{m}_x_{c}"] for c in SIZE_CLASSES}
    one = tests[(tests.measure == term_label(m)) & (tests.restrictions == 1)].set_index("hypothesis")
    joint = tests[(tests.measure == term_label(m)) & (tests.restrictions == 2)].iloc[0]
    largest = max(coef, key=coef.get)
    above_both = bool((one.p_mid_larger < 0.05).all())
    verdicts.append({"measure": m, "mid_largest": largest == "mid", "mid_above_both": above_both})
    print(f"- {term_label(m)}: " + ", ".join(f"{c} {100 * np.expm1(v):+.1f}%" for c, v in coef.items())
          + f" per one more; largest in {largest} metros. Mid vs small: one-sided p = "
          f"{one.loc['mid = small', 'p_mid_larger']:.3f}; mid vs large: one-sided p = "
          f"{one.loc['mid = large', 'p_mid_larger']:.3f}; equal across classes: p {fmt_p(joint.p_value)}"
          f"{' (rejected at 5%)' if joint.p_value < 0.05 else ' (not rejected at 5%)'}.")
verdicts = pd.DataFrame(verdicts)
n_largest, n_above = int(verdicts.mid_largest.sum()), int(verdicts.mid_above_both.sum())
overall = tests.iloc[-1]
print(f"- All measures jointly, equal coefficients across classes: F({int(overall.restrictions)}, "
      f"{df_denominator:.0f}) = {overall.statistic:.2f}, p {fmt_p(overall.p_value)}.")
print(f"- The mid-size coefficient is the largest for {n_largest} of {len(MEASURES)} measures and larger than both "
      f"other classes at the 5% level (one-sided) for {n_above}.")
answer = ("yes, for every measure" if n_above == len(MEASURES) else
          f"partly: for {n_above} of {len(MEASURES)} measures" if n_above else "no")
print(f"- Do the data support 'mid-sized metros benefit most'? {answer}.")
notable = by_class[by_class.p_value < 0.05]
print(f"- Class coefficients with p < 0.05: {len(notable)} of {len(by_class)}" + (":" if len(notable) else "."))
for r in notable.itertuples():
    print(f"  - {r.measure}, {r.size_class} metros: {r.percent:+.1f}% per one more (p {fmt_p(r.p_value)}), resting on "
          f"{r.metros_that_change} metro(s) whose measure changes.")
if ctx.synthetic:
    truth = ctx.provenance["synthetic_truth"]
    print(f"- Synthetic check: the data were generated with an extra mid-size effect of sister-city ties of "
          f"{truth['beta_sister_mid']:.3f} (none for the other measures); M5's mid minus small and mid minus large "
          f"for sister-city ties: {b['sister_active_x_mid'] - b['sister_active_x_small']:.3f} and "
          f"{b['sister_active_x_mid'] - b['sister_active_x_large']:.3f}.")

# %% [markdown]
# ## What the data can and cannot support
# * M5 compares changes within metros of each class. The anchor's claim comes from a
#   cross-section of metros (which metros export more), so a within-metro test that does not find
#   a mid-size advantage does not refute it, and one that finds it does not confirm a causal
#   benefit: both are associations.
# * Each class coefficient rests only on the metros of that class whose measure changes (counted
#   above). Where that is a handful of metros, a large or "significant" coefficient can come from
#   one or two metros, and cluster-robust standard errors understate the uncertainty.
# * Consular posts change within metros rarely (three snapshots and dated events), and small
#   metros have few posts at all; city-network joins are concentrated in large metros.
# * Nine class coefficients and their differences are many tests; an isolated p-value below 0.05
#   is to be expected by chance and is weak evidence on its own.
# * The classes are terciles (or fixed cut-offs) of population in one year; metros near a cut-off
#   are much alike, and a different split could move metros between classes. A linear count
#   effect per class is a coarse stand-in for the anchor's non-linear forests.
