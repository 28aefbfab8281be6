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
import numpy as np
import pandas as pd
import matplotlib.style
from matplotlib.figure import Figure

from citydip.report import notebook, term_label
from citydip.report.figures import STYLE

ctx = notebook.start("02_descriptives")
panel = ctx.panel.copy()
MEASURES = ["consular_posts", "sister_active", "networks_dated"]
years = sorted(panel.year.unique())
REF_YEAR = 2019 if 2019 in years else years[-1]
short = panel.groupby("cbsa_code").cbsa_title.first().str.split(r"[-,]", n=1).str[0]
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
VARIABLES = {
    "exports_bn": ("exports_usd", 1e-9, "Exports (US$ bn, current)"),
    "log_exports": ("log_exports", 1.0, "Log exports"),
    "consular_posts": ("consular_posts", 1.0, term_label("consular_posts")),
    "consulates_general": ("consulates_general", 1.0, term_label("consulates_general")),
    "sister_active": ("sister_active", 1.0, term_label("sister_active")),
    "networks_dated": ("networks_dated", 1.0, term_label("networks_dated")),
    "networks_ever": ("networks_ever", 1.0, term_label("networks_ever")),
    "population_m": ("population_persons", 1e-6, "Population (millions)"),
    "income_k": ("per_capita_income_usd", 1e-3, "Per-capita income (US$ thousands)"),
}
periods = [(int(chunk[0]), int(chunk[-1])) for chunk in np.array_split(np.array(years), 3)]
windows = [(years[0], years[-1])] + periods

rows = []
for key, (column, scale, label) in VARIABLES.items():
    for lo, hi in windows:
        values = panel.loc[panel.year.between(lo, hi), column].astype(float).dropna() * scale
        rows.append({"variable": label, "years": f"{lo}-{hi}", "n": len(values), "mean": values.mean(),
                     "sd": values.std(), "min": values.min(), "max": values.max()})
summary = pd.DataFrame(rows)
ctx.table(summary.round(3), "summary_by_period", cell="Summary statistics",
          caption=f"Metro-year summary statistics of the main variables, all years and by period ({ctx.data_label})")
summary.round(2)

# %% [markdown]
# The panel-wide totals by year show how much each measure moves over time (the within-metro
# variation the fixed-effects models of notebook 03 rest on).

# %%
totals = panel.groupby("year").agg(
    exports_bn=("exports_usd", lambda s: s.sum(min_count=1) / 1e9),
    consular_posts=("consular_posts", lambda s: s.sum(min_count=1)),
    sister_active=("sister_active", "sum"), networks_dated=("networks_dated", "sum"))
changes = {m: int((panel.sort_values(["cbsa_code", "year"]).groupby("cbsa_code")[m].diff().fillna(0) != 0).sum())
           for m in MEASURES}
varying = {m: int((panel.groupby("cbsa_code")[m].agg(lambda s: s.max() - s.min()) > 0).sum()) for m in MEASURES}
for m in MEASURES:
    first, last = totals[m].iloc[0], totals[m].iloc[-1]
    print(f"{term_label(m)}: total {first:,.0f} in {years[0]} -> {last:,.0f} in {years[-1]}; "
          f"{varying[m]} of {panel.cbsa_code.nunique()} metros change at least once, "
          f"{changes[m]} year-on-year changes in all")

with matplotlib.style.context(["default", STYLE]):
    fig = Figure(figsize=(7.2, 4.4), layout="constrained")
    axes = fig.subplots(2, 2, sharex=True).ravel()
    for ax, column, label in zip(axes, ["exports_bn", *MEASURES],
                                 ["Exports (US$ bn, current)", *[term_label(m) for m in MEASURES]]):
        ax.plot(totals.index, totals[column], marker="o", markersize=3)
        ax.set_title(f"{label}, all metros", fontsize=9)
        ax.set_ylim(bottom=0)
    fig.supxlabel("Year", fontsize=9)
ctx.figure(fig, "totals_by_year", cell="Totals by year",
           caption=f"Sum over the panel's metros of exports and each diplomacy measure, by year ({ctx.data_label})")
fig

# %% [markdown]
# ## Which metros hold the diplomacy?
# The ten metros with the most consular posts, active sister-city ties and dated network
# memberships in the reference year (ties broken by population rank).

# %%
ref = panel[panel.year == REF_YEAR].set_index("cbsa_code")
top_rows, leaders = [], {}
for m in MEASURES:
    ranked = ref.sort_values([m, "rank"], ascending=[False, True]).head(10)
    leaders[m] = ranked
    for position, (code, row) in enumerate(ranked.iterrows(), start=1):
        top_rows.append({"measure": term_label(m), "position": position, "metro": row.cbsa_title,
                         "value": row[m], "population_rank": int(row["rank"]), "size_class": row.size_class})
top = pd.DataFrame(top_rows)
ctx.table(top, "top_metros", cell="Top metros",
          caption=f"Ten metros with the most consular posts, sister-city ties and network memberships, {REF_YEAR} "
                  f"({ctx.data_label})")
top.pivot(index="position", columns="measure", values="metro")

# %%
with matplotlib.style.context(["default", STYLE]):
    fig = Figure(figsize=(8.0, 4.2), layout="constrained")
    axes = fig.subplots(1, 3)
    for ax, m in zip(axes, MEASURES):
        part = leaders[m].iloc[::-1]
        ax.barh([short[c] for c in part.index], part[m], color="C0")
        ax.set_title(term_label(m), fontsize=9)
        ax.tick_params(axis="y", labelsize=7)
    fig.supxlabel(f"Count in {REF_YEAR}", fontsize=9)
ctx.figure(fig, "top_metros", cell="Top metros",
           caption=f"Ten metros with the most of each diplomacy measure, {REF_YEAR} ({ctx.data_label})")
fig

# %% [markdown]
# ## Concentration
# The share of each measure held by the five metros with the most of it, and the number of metros
# with none, in the reference year; exports and population for comparison. A measure far more
# concentrated than population is one that the largest metros have disproportionately.

# %%
CONC = {"consular_posts": term_label("consular_posts"), "consulates_general": term_label("consulates_general"),
        "sister_active": term_label("sister_active"), "networks_dated": term_label("networks_dated"),
        "exports_usd": "Exports", "population_persons": "Population"}


def top_share(values: pd.Series, k: int = 5) -> float:
    values = values.dropna().astype(float)
    return float(values.sort_values(ascending=False).head(k).sum() / values.sum()) if values.sum() > 0 else np.nan


concentration = pd.DataFrame([{
    "measure": label, "total": float(ref[col].sum()), "top5_share": top_share(ref[col]),
    "top10_share": top_share(ref[col], 10), "metros_with_none": int((ref[col] == 0).sum()),
    "top5_metros": ", ".join(short[c] for c in ref.sort_values([col, "rank"], ascending=[False, True]).head(5).index),
} for col, label in CONC.items()])
ctx.table(concentration.round(3), "concentration", cell="Concentration",
          caption=f"Share of each measure held by the top 5 and top 10 metros, {REF_YEAR} ({ctx.data_label})")
posts = concentration.set_index("measure").loc[term_label("consular_posts")]
pop = concentration.set_index("measure").loc["Population"]
print(f"In {REF_YEAR} the five metros with the most consular posts ({posts.top5_metros}) hold "
      f"{posts.top5_share:.0%} of the {posts.total:,.0f} posts; the five most populous metros hold "
      f"{pop.top5_share:.0%} of the population. {posts.metros_with_none} metros have no consular post.")
concentration.round(3)

# %%
with matplotlib.style.context(["default", STYLE]):
    fig = Figure(figsize=(6.4, 4.0), layout="constrained")
    ax = fig.add_subplot()
    for col, label in CONC.items():
        values = ref[col].dropna().astype(float).sort_values(ascending=False).to_numpy()
        if values.sum() <= 0:
            continue
        share = np.concatenate([[0.0], np.cumsum(values) / values.sum()])
        ax.plot(np.arange(len(share)), share, label=label, linestyle="--" if col in ("exports_usd",
                "population_persons") else "-")
    ax.set_xlabel(f"Metros, ranked by the measure ({REF_YEAR})")
    ax.set_ylabel("Cumulative share of the total")
    ax.set_ylim(0, 1.02)
    ax.legend(fontsize="small", loc="lower right")
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
means = panel.groupby("cbsa_code").agg(exports=("exports_usd", "mean"), log_population=("log_population", "mean"),
                                       size_class=("size_class", "first"),
                                       **{m: (m, "mean") for m in MEASURES}).dropna(subset=["exports"])
means["log_exports_mean"] = np.log(means.exports)


def residual(y: np.ndarray, x: np.ndarray) -> np.ndarray:
    design = np.column_stack([np.ones_like(x), x])
    return y - design @ np.linalg.lstsq(design, y, rcond=None)[0]


corr_rows = []
for m in MEASURES:
    frame = means.dropna(subset=[m])
    x, y, size = np.log1p(frame[m].to_numpy()), frame.log_exports_mean.to_numpy(), frame.log_population.to_numpy()
    corr_rows.append({"measure": term_label(m), "metros": len(frame), "correlation": np.corrcoef(x, y)[0, 1],
                      "partial_correlation_given_log_population":
                          np.corrcoef(residual(x, size), residual(y, size))[0, 1],
                      "correlation_with_log_population": np.corrcoef(x, size)[0, 1]})
correlations = pd.DataFrame(corr_rows)
ctx.table(correlations.round(3), "cross_metro_correlations", cell="Exports vs diplomacy",
          caption="Correlation across metros of log mean exports with log(1 + mean measure), raw and net of log "
                  f"population ({ctx.data_label})")
correlations.round(3)

# %%
COLORS = {"small": "C2", "mid": "C1", "large": "C0"}
with matplotlib.style.context(["default", STYLE]):
    fig = Figure(figsize=(8.4, 3.4), layout="constrained")
    axes = fig.subplots(1, 3, sharey=True)
    for ax, m, row in zip(axes, MEASURES, corr_rows):
        frame = means.dropna(subset=[m])
        x = np.log1p(frame[m].to_numpy())
        for cls, color in COLORS.items():
            part = frame.size_class == cls
            ax.scatter(x[part], frame.log_exports_mean[part], s=12, alpha=0.75, color=color, label=cls)
        slope, intercept = np.polyfit(x, frame.log_exports_mean, 1)
        grid = np.linspace(x.min(), x.max(), 50)
        ax.plot(grid, intercept + slope * grid, color="0.3", linewidth=1)
        for code in frame.assign(x=x).sort_values(["x", "exports"], ascending=False).head(3).index:
            ax.annotate(short[code], (np.log1p(frame.at[code, m]), frame.at[code, "log_exports_mean"]),
                        fontsize=6, xytext=(2, 2), textcoords="offset points")
        ax.set_xlabel(f"log(1 + {term_label(m).lower()})", fontsize=8)
        ax.set_title(f"r = {row['correlation']:.2f} (net of size {row['partial_correlation_given_log_population']:.2f})",
                     fontsize=8)
    axes[0].set_ylabel("Log mean exports (US$)")
    axes[0].legend(title="size class", fontsize=7, title_fontsize=7, loc="lower right")
ctx.figure(fig, "exports_vs_diplomacy", cell="Exports vs diplomacy",
           caption=f"Log mean exports against log(1 + mean measure) across metros, by size class ({ctx.data_label})")
fig

# %% [markdown]
# ## In short

# %%
strongest = correlations.sort_values("correlation", ascending=False).iloc[0]
for row in corr_rows:
    drop = row["correlation"] - row["partial_correlation_given_log_population"]
    print(f"- {row['measure']}: correlation with log exports {row['correlation']:.2f} across {row['metros']} metros; "
          f"{row['partial_correlation_given_log_population']:.2f} once log population is removed from both "
          f"(the measure's own correlation with log population is {row['correlation_with_log_population']:.2f}).")
print(f"- Strongest raw association: {strongest.measure}.")
print(f"- Concentration in {REF_YEAR}: top-5 share of consular posts {posts.top5_share:.0%} vs population "
      f"{pop.top5_share:.0%}; {posts.metros_with_none} of {len(ref)} metros have no consular post.")

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
