"""The two-way fixed-effects consulate estimate on the Lowy edition years only, beside the
carried-back one (notebook 03).

Under the default fill rule (``consulate_fill='carry'``, :mod:`citydip.panel.consulates`) a
consular post is carried back from the first Lowy edition (2016) to the first panel year
unless a dated event says otherwise, so an opening before 2016 that the curated events miss
counts as present throughout: an error that is not random (it removes within-metro changes
that happened), under the "consulates rank first" comparison with the anchor. The
``editions_only`` rule (variant ``consulates-editions-only``) does not carry back: the years
before the first edition are missing and, from 2016 on, the values equal the default's, so
its two-way FE sample is the default's from 2016 on (2016-2022 when the panel reaches 2022;
BEA controls end in 2022).

:func:`edition_years_estimate` fits M3 (metro and year effects, metro-clustered, the
catalogue's specification) on both panels and gives, for each, the consular-post coefficient
and how many metros' consular posts change within its estimation sample
(:func:`citydip.analysis.variation.within_variation`): the metros the coefficient rests on.

Units: ``estimate``, ``std_error``, ``conf_low``/``conf_high`` in log points of exports per one
more consular post; ``percent`` = 100 (exp(b) - 1), its interval transformed the same way.
"""

from __future__ import annotations

import pandas as pd

from citydip.analysis.effects import estimation_sample, percent
from citydip.analysis.variation import within_variation
from citydip.estimation import fit
from citydip.estimation.catalogue import MODEL_NAMES, catalogue
from citydip.estimation.spec import ModelSpec

#: The measure compared.
TERM = "consular_posts"
#: Sample labels: the default panel (carried back) and the ``editions_only`` panel.
CARRIED, EDITIONS = "carried back (default)", "edition years only"
#: The robustness variant whose panel is the ``editions_only`` one.
VARIANT = "consulates-editions-only"
#: The first Lowy edition (the ``editions_only`` rule leaves earlier years missing).
FIRST_EDITION = 2016
#: The panel's consulate measures.
CONSULATE_COLUMNS = ("consular_posts", "consulates_general")
COLUMNS = ["sample", "years", "estimate", "std_error", "percent", "percent_low", "percent_high",
           "t", "p_value", "nobs", "metros", "metros_that_change", "year_on_year_changes"]


def m3_spec() -> ModelSpec:
    """The catalogue's M3 (two-way fixed effects, clustered by metro)."""
    return next(s for s in catalogue() if s.name == MODEL_NAMES["M3"])


def without_carry_back(panel: pd.DataFrame, first_edition: int = FIRST_EDITION) -> pd.DataFrame:
    """The default panel with its consulate measures set missing before ``first_edition``
    (``consulate_fill`` 'none'): the ``editions_only`` panel, for a build without robustness
    variants (the synthetic demo). On the real data it equals the variant's panel, because
    ``editions_only`` equals ``carry`` from the first edition on."""
    out = panel.copy()
    before = out["year"] < first_edition
    out.loc[before, list(CONSULATE_COLUMNS)] = float("nan")
    out["consulate_fill"] = out["consulate_fill"].astype("string").mask(before, "none")
    return out


def edition_years_estimate(carried: pd.DataFrame, editions_only: pd.DataFrame, term: str = TERM) -> pd.DataFrame:
    """M3's ``term`` coefficient on the default panel (``carried``: posts carried back before
    2016) and on the ``editions_only`` panel (edition years only), one row each
    (:data:`COLUMNS`): the years of the estimation sample (``first-last``), the estimate, its
    metro-clustered standard error, percent effect with 95% interval, t statistic, p-value,
    observations, metros, and the metros whose ``term`` changes within the sample with the
    number of year-on-year changes."""
    spec = m3_spec()
    rows = []
    for label, panel in ((CARRIED, carried), (EDITIONS, editions_only)):
        result = fit(panel, spec)
        row = result.tidy().set_index("term").loc[term]
        sample = estimation_sample(panel)
        variation = within_variation(sample, [term]).iloc[0]
        rows.append({"sample": label, "years": f"{int(sample.year.min())}-{int(sample.year.max())}",
                     "estimate": row.estimate, "std_error": row.std_error, "percent": percent(row.estimate),
                     "percent_low": percent(row.conf_low), "percent_high": percent(row.conf_high),
                     "t": row.statistic, "p_value": row.p_value, "nobs": int(row.nobs),
                     "metros": int(variation.metros), "metros_that_change": int(variation.metros_that_change),
                     "year_on_year_changes": int(variation.year_on_year_changes)})
    return pd.DataFrame(rows, columns=COLUMNS)


def sentences(table: pd.DataFrame) -> list[str]:
    """The comparison in words (for the notebook)."""
    rows = table.set_index("sample")
    out = []
    for label in (CARRIED, EDITIONS):
        r = rows.loc[label]
        out.append(f"{label} ({r.years}, {r.nobs:,} metro-years): {r.percent:+.1f}% per consular post "
                   f"(95% interval {r.percent_low:+.1f}% to {r.percent_high:+.1f}%, t = {r.t:.2f}, p = {r.p_value:.3f}); "
                   f"{r.metros_that_change} of {r.metros} metros change their consular posts within the sample")
    return out
