"""Descriptive statistics of the panel (notebook 02): summary statistics by period, totals by
year, the metros with the most diplomacy, concentration, and cross-metro correlations of
exports with the diplomacy measures, raw and net of log population.

Every function takes the metro-year panel (or one year of it) and returns a tidy DataFrame;
the ``*_sentences`` functions return the report's sentences built from those tables.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from citydip.analysis.variation import within_variation
from citydip.report.labels import term_label

#: The summary-statistics variables: key -> (panel column, scale factor, label).
VARIABLES: dict[str, tuple[str, float, str]] = {
    "exports_bn": ("exports_usd", 1e-9, "Exports (US$ bn, current)"),
    "log_exports": ("log_exports", 1.0, "Log exports"),
    **{m: (m, 1.0, term_label(m)) for m in ("consular_posts", "consulates_general", "sister_active",
                                             "networks_dated", "networks_ever")},
    "population_m": ("population_persons", 1e-6, "Population (millions)"),
    "income_k": ("per_capita_income_usd", 1e-3, "Per-capita income (US$ thousands)"),
}
#: The concentration table's columns and labels: the diplomacy measures, then exports and population.
CONCENTRATION: dict[str, str] = {
    **{m: term_label(m) for m in ("consular_posts", "consulates_general", "sister_active", "networks_dated")},
    "exports_usd": "Exports", "population_persons": "Population"}
UNIT = "cbsa_code"


def short_name(title: str) -> str:
    """The first principal city of a CBSA title ("New York-Newark-Jersey City, NY-NJ-PA" -> "New York")."""
    return str(title).replace(",", "-").split("-", 1)[0]


def periods(years: Sequence[int], n: int = 3) -> list[tuple[int, int]]:
    """``n`` consecutive periods of (nearly) equal length covering the sorted ``years`` (first
    and last year of each; earlier periods get the extra years, as :func:`numpy.array_split`)."""
    years = np.array(sorted(years))
    return [(int(chunk[0]), int(chunk[-1])) for chunk in np.array_split(years, n)]


def summary_by_period(panel: pd.DataFrame, variables: Mapping[str, tuple[str, float, str]] = VARIABLES,
                      n_periods: int = 3) -> pd.DataFrame:
    """Metro-year statistics of each variable over all years and over ``n_periods`` periods.

    Columns: variable (label), years ("first-last"), n (metro-years with a value), mean, sd
    (``ddof=1``), min, max, in the variable's scaled unit (the column times its scale: e.g.
    exports in US$ billions, population in millions). Missing values are left out.
    """
    years = sorted(panel.year.unique())
    windows = [(int(years[0]), int(years[-1]))] + periods(years, n_periods)
    rows = []
    for column, scale, label in variables.values():
        for lo, hi in windows:
            values = panel.loc[panel.year.between(lo, hi), column].astype(float).dropna() * scale
            rows.append({"variable": label, "years": f"{lo}-{hi}", "n": len(values), "mean": values.mean(),
                         "sd": values.std(), "min": values.min(), "max": values.max()})
    return pd.DataFrame(rows)


def totals_by_year(panel: pd.DataFrame, measures: Sequence[str]) -> pd.DataFrame:
    """Sum over the metros of exports (``exports_bn``, current US$ billions) and of each measure
    (counts), one row per year (index ``year``); a year whose values are all missing is NaN."""
    total = lambda s: s.sum(min_count=1)  # noqa: E731
    return panel.groupby("year").agg(exports_bn=("exports_usd", lambda s: total(s) / 1e9),
                                     **{m: (m, total) for m in measures})


def measure_movement(panel: pd.DataFrame, measures: Sequence[str]) -> pd.DataFrame:
    """How each measure moves over the sample: its panel total in the first and last year and
    the within-metro changes of :func:`~citydip.analysis.variation.within_variation` (metros,
    metros_that_change, year_on_year_changes) over the whole panel."""
    totals = totals_by_year(panel, measures)
    variation = within_variation(panel, measures).set_index("measure")
    return pd.DataFrame([{"measure": m, "first_year": int(totals.index[0]), "total_first": totals[m].iloc[0],
                          "last_year": int(totals.index[-1]), "total_last": totals[m].iloc[-1],
                          **variation.loc[m, ["metros", "metros_that_change", "year_on_year_changes"]].to_dict()}
                         for m in measures])


def movement_sentences(movement: pd.DataFrame) -> list[str]:
    """One sentence per row of :func:`measure_movement`."""
    return [f"{term_label(r.measure)}: total {r.total_first:,.0f} in {r.first_year} -> {r.total_last:,.0f} in "
            f"{r.last_year}; {r.metros_that_change} of {r.metros} metros change at least once, "
            f"{r.year_on_year_changes} year-on-year changes in all" for r in movement.itertuples()]


def _ranked(frame: pd.DataFrame, column: str) -> pd.DataFrame:
    """Rows by ``column``, largest first, ties broken by population rank (1 = most populous)."""
    return frame.sort_values([column, "rank"], ascending=[False, True])


def top_metros(year_frame: pd.DataFrame, measures: Sequence[str], k: int = 10) -> pd.DataFrame:
    """The ``k`` metros with the most of each measure in one year of the panel (``year_frame``:
    one row per metro), ties broken by population rank. Columns: measure (label), position
    (1 = most), metro (CBSA title), value (count), population_rank, size_class."""
    rows = []
    for m in measures:
        for position, row in enumerate(_ranked(year_frame, m).head(k).itertuples(), start=1):
            rows.append({"measure": term_label(m), "position": position, "metro": row.cbsa_title,
                         "value": getattr(row, m), "population_rank": int(row.rank), "size_class": row.size_class})
    return pd.DataFrame(rows)


def top_share(values: pd.Series, k: int = 5) -> float:
    """Share (0-1) of the total of ``values`` held by its ``k`` largest values (missing values
    left out); NaN when the total is not positive."""
    values = values.dropna().astype(float)
    total = values.sum()
    return float(values.sort_values(ascending=False).head(k).sum() / total) if total > 0 else np.nan


def concentration(year_frame: pd.DataFrame, columns: Mapping[str, str] = CONCENTRATION) -> pd.DataFrame:
    """Concentration of each column (``columns``: column -> label) across the metros of one
    year: total (in the column's unit), top5_share and top10_share (shares 0-1 of the total held
    by the 5 and 10 metros with the most), metros_with_none (value exactly 0) and top5_metros
    (their short names, ties broken by population rank).
    """
    names = year_frame.cbsa_title.map(short_name).set_axis(year_frame.index)
    return pd.DataFrame([{
        "measure": label, "total": float(year_frame[col].sum()), "top5_share": top_share(year_frame[col]),
        "top10_share": top_share(year_frame[col], 10),
        "metros_with_none": int((year_frame[col] == 0).sum()),
        "top5_metros": ", ".join(names[i] for i in _ranked(year_frame, col).head(5).index),
    } for col, label in columns.items()])


def concentration_curves(year_frame: pd.DataFrame, columns: Mapping[str, str] = CONCENTRATION) -> pd.DataFrame:
    """Cumulative share (0-1) of each column's total held by the ``metros`` largest metros, from
    0 metros (share 0) to all: columns column, label, metros, share. Columns whose total is not
    positive are left out."""
    frames = []
    for col, label in columns.items():
        values = year_frame[col].dropna().astype(float).sort_values(ascending=False).to_numpy()
        if values.sum() <= 0:
            continue
        share = np.concatenate([[0.0], np.cumsum(values) / values.sum()])
        frames.append(pd.DataFrame({"column": col, "label": label, "metros": np.arange(len(share)),
                                    "share": share}))
    return pd.concat(frames, ignore_index=True)


def concentration_sentence(table: pd.DataFrame, year: int, posts: str = CONCENTRATION["consular_posts"],
                           population: str = "Population") -> str:
    """The report's sentence on how concentrated consular posts are, from :func:`concentration`."""
    t = table.set_index("measure")
    p, q = t.loc[posts], t.loc[population]
    return (f"In {year} the five metros with the most consular posts ({p.top5_metros}) hold {p.top5_share:.0%} of "
            f"the {p.total:,.0f} posts; the five most populous metros hold {q.top5_share:.0%} of the population. "
            f"{int(p.metros_with_none)} metros have no consular post.")


def metro_means(panel: pd.DataFrame, measures: Sequence[str]) -> pd.DataFrame:
    """One row per metro with exports (index ``cbsa_code``): mean exports (current US$), mean
    log population, size class, the mean of each measure, and ``log_exports_mean`` = log of
    mean exports. Metros without any export value are left out."""
    means = panel.groupby(UNIT).agg(exports=("exports_usd", "mean"), log_population=("log_population", "mean"),
                                    size_class=("size_class", "first"), cbsa_title=("cbsa_title", "first"),
                                    **{m: (m, "mean") for m in measures}).dropna(subset=["exports"])
    means["log_exports_mean"] = np.log(means.exports)
    return means


def residualise(y: np.ndarray, z: np.ndarray) -> np.ndarray:
    """Residuals of the least-squares regression of ``y`` on a constant and ``z``."""
    y = np.asarray(y, dtype=float)
    design = np.column_stack([np.ones(len(y)), np.asarray(z, dtype=float)])
    return y - design @ np.linalg.lstsq(design, y, rcond=None)[0]


def partial_correlation(x: np.ndarray, y: np.ndarray, z: np.ndarray) -> float:
    """Correlation of ``x`` and ``y`` net of ``z`` (a constant and ``z`` removed from both by
    least squares; ``z`` may have several columns)."""
    return float(np.corrcoef(residualise(x, z), residualise(y, z))[0, 1])


def cross_metro_correlations(means: pd.DataFrame, measures: Sequence[str]) -> pd.DataFrame:
    """Across metros (``means`` from :func:`metro_means`), the correlation of log mean exports
    with log(1 + mean measure): raw (``correlation``), net of mean log population
    (``partial_correlation_given_log_population``), and the measure's own correlation with
    log population. Metros with a missing measure are left out of that measure's row."""
    rows = []
    for m in measures:
        frame = means.dropna(subset=[m])
        x, y, size = np.log1p(frame[m].to_numpy(float)), frame.log_exports_mean.to_numpy(), \
            frame.log_population.to_numpy()
        rows.append({"measure": term_label(m), "metros": len(frame), "correlation": np.corrcoef(x, y)[0, 1],
                     "partial_correlation_given_log_population": partial_correlation(x, y, size),
                     "correlation_with_log_population": np.corrcoef(x, size)[0, 1]})
    return pd.DataFrame(rows)


def descriptive_sentences(correlations: pd.DataFrame, concentration_table: pd.DataFrame, year: int,
                          metros: int) -> list[str]:
    """The "In short" findings of notebook 02 from :func:`cross_metro_correlations` and
    :func:`concentration` (``metros``: metros in the reference year)."""
    lines = [f"- {r.measure}: correlation with log exports {r.correlation:.2f} across {r.metros} metros; "
             f"{r.partial_correlation_given_log_population:.2f} once log population is removed from both "
             f"(the measure's own correlation with log population is {r.correlation_with_log_population:.2f})."
             for r in correlations.itertuples()]
    strongest = correlations.sort_values("correlation", ascending=False).iloc[0]
    t = concentration_table.set_index("measure")
    posts, pop = t.loc[CONCENTRATION["consular_posts"]], t.loc["Population"]
    return [*lines, f"- Strongest raw association: {strongest.measure}.",
            f"- Concentration in {year}: top-5 share of consular posts {posts.top5_share:.0%} vs population "
            f"{pop.top5_share:.0%}; {int(posts.metros_with_none)} of {metros} metros have no consular post."]
