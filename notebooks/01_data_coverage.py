# ---
# jupyter:
#   jupytext:
#     text_representation:
#       extension: .py
#       format_name: percent
# ---

# %% [markdown]
# # 01 Data and coverage
#
# **Question.** What do the sources cover, how well do their records match metropolitan areas,
# and what is missing? Every later notebook rests on this panel, so its gaps come first.
#
# The panel has one row per metro-year (default: the 100 most populous metros in 2019 on
# March-2020 definitions, 2005-2021). Records that were not used are in `build/match_report.csv`
# with the reason for each; nothing is dropped silently.

# %%

from citydip.report import notebook

ctx = notebook.start("01_data_coverage")
panel, provenance = ctx.panel, ctx.provenance
print(f"{panel.cbsa_code.nunique()} metros x {panel.year.nunique()} years = {len(panel):,} metro-years")

# %% [markdown]
# ## Coverage by year
# Exports are never filled in: a metro-year without an ITA value stays missing. The boundary
# column counts metro-years whose export figure follows a different delineation than the panel's
# (ITA reports each year on the delineation then in force).

# %%
from citydip.panel.summary import coverage_table

coverage = coverage_table(panel).reset_index()
ctx.table(coverage, "coverage_by_year", cell="Coverage by year",
          caption="Metros, exports, boundary breaks and diplomacy totals by year")
coverage

# %% [markdown]
# ## Records not used, by source and reason

# %%
report = ctx.match_report
reasons = (report.groupby(["stage", "dataset", "reason"]).size().rename("records").reset_index()
           .sort_values(["stage", "dataset", "records"], ascending=[True, True, False]))
ctx.table(reasons, "records_not_used", cell="Records not used",
          caption="Input records not used in the panel, by stage, source and reason")
reasons.head(30)

# %% [markdown]
# ## Construction notes
# The choices behind each measure, as recorded when the panel was built.

# %%
for topic, notes in provenance.get("notes", {}).items():
    for note in notes:
        print(f"- {topic}: {note}")

# %% [markdown]
# ## What the data can and cannot support
# * Sister-city ties are counted over time only where a year is stated; undated ties enter the
#   "ever" counts. The share dated is in the notes above.
# * Consular posts come from three snapshots (2016, 2017, 2019) and dated events; years outside
#   the snapshots are filled by a stated rule, so within-metro changes are few.
# * Export values before 2013 follow delineations that cannot be checked here ("unverified").
