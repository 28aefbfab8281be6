# ---
# jupyter:
#   jupytext:
#     text_representation:
#       extension: .py
#       format_name: percent
# ---

# %% [markdown]
# # 00 Quickstart: citydip from Python
#
# **Question.** How does an analyst get from nothing to a two-way fixed-effects estimate on the
# metro-year panel, and on to tests, event studies and specification curves, in a notebook?
#
# In a fresh kernel:
#
# ```python
# import citydip
# panel = citydip.load_panel()   # built from the published files once, then reused from build/
# res = citydip.fit("log_exports ~ consular_posts + sister_active + networks_dated"
#                   " + log_population + log_per_capita_income | cbsa_code + year", panel)
# res.tidy()
# ```
#
# `load_panel()` uses the same cache as `citydip replicate`: a second call reads `build/` in about
# a second unless an input file, an option, the code or a package version changed. Without the
# published files it returns the synthetic demo panel and warns that it is synthetic. Below, the
# report passes the build folder and data mode it is running on.

# %%
import citydip
from citydip.report import notebook

ctx = notebook.start("00_quickstart")
panel = citydip.load_panel(synthetic=ctx.synthetic, cache=ctx.build)
panel

# %% [markdown]
# ## What is in the panel
# `panel` behaves like a DataFrame (`panel.shape`, `panel["log_exports"]`, `panel.query(...)`) and
# carries its documentation: `panel.codebook` (every column with its unit, source and rule),
# `panel.options` (the construction choices), `panel.provenance` (input checksums, versions) and
# `panel.dropped` (every input record not used, with its reason).

# %%
print(panel.options)
panel.codebook.query("column in ['exports_usd', 'consular_posts', 'networks_dated']")

# %% [markdown]
# ## A two-way fixed-effects model
# A pyfixest-style formula: outcome, regressors (panel columns), then the fixed effects after `|`.
# Standard errors are clustered by metro unless `vcov=` says otherwise (`"twoway"`, `"hetero"`,
# `"wild"`, `"driscoll_kraay"`, or `{"CRV1": column}`); `family="poisson"` gives PPML.

# %%
M3 = ("log_exports ~ consular_posts + sister_active + networks_dated + log_population + log_per_capita_income"
      " | cbsa_code + year")
res = citydip.fit(M3, panel)
res.tidy()[["term", "estimate", "std_error", "p_value", "conf_low", "conf_high", "nobs"]].round(4)

# %% [markdown]
# ## Tests with the model's own reference distribution
# `contrast` tests a linear combination (here: one more consular post against one more sister-city
# tie) and `wald` a set of restrictions, both with the model's covariance matrix and t(G - 1) / F(q, G - 1),
# as the model's own t tests.

# %%
print(res.contrast({"consular_posts": 1, "sister_active": -1}))
print(res.wald([{"consular_posts": 1}, {"sister_active": 1}, {"networks_dated": 1}]))

# %% [markdown]
# ## The report's models, event studies and specification curves
# `citydip.catalogue()` lists the report's models M1-M6 as `ModelSpec`s, which `fit` accepts too;
# `citydip.event_study` estimates event-time paths around a first network join or a new sister
# tie; `citydip.spec_curve` fits many specifications at once. `citydip.load_estimates()` returns
# the catalogue's estimates, fitted once per panel.

# %%
print([spec.name for spec in citydip.catalogue()])
study = citydip.event_study(panel.data, "network")
curve = citydip.spec_curve(panel.data, outcomes="log_exports", treatments=["consular_posts", "sister_active"],
                           controls={"none": [], "size": ["log_population"]},
                           fixed_effects={"metro + year": ["cbsa_code", "year"], "year": ["year"]})
curve.tidy()[["treatment", "controls", "fixed_effects", "coefficient", "p_value"]].round(4)
