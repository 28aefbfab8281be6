"""Size heterogeneity (notebook 04): do mid-sized metros benefit most?

Model M5 has one coefficient per metro size class for each measure (terms
``{measure}_x_{class}``, log points per one more tie, post or network in a metro of that
class). The tests use the fitted model's own covariance matrix and reference distribution
(:meth:`~citydip.estimation.results.FitResult.contrast`,
:meth:`~citydip.estimation.results.FitResult.wald`): for each measure the contrasts mid - small
and mid - large (two-sided, and one-sided for "mid larger") and the joint test that the three
class coefficients are equal; then the joint test over all measures.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from citydip.analysis.effects import format_p, percent
from citydip.analysis.variation import within_variation
from citydip.errors import CitydipError
from citydip.estimation.catalogue import MEASURES, MODEL_NAMES, catalogue
from citydip.estimation.fitting import SIZE_CLASSES, fit
from citydip.estimation.results import FitResult
from citydip.report.labels import term_label

M5 = MODEL_NAMES["M5"]
FOCUS = "mid"
TEST_COLUMNS = ["measure", "hypothesis", "restrictions", "difference", "std_error", "statistic", "p_value",
                "p_mid_larger", "wald_chi2"]


def term(measure: str, cls: str) -> str:
    """The M5 term of ``measure`` in size class ``cls``."""
    return f"{measure}_x_{cls}"


def class_rules(cutoffs: Mapping[str, float]) -> dict[str, str]:
    """The population rule of each class from the cut-offs (persons: ``small_below``, ``large_from``)."""
    lo, hi = cutoffs["small_below"], cutoffs["large_from"]
    return {"small": f"< {lo:,.0f}", "mid": f"{lo:,.0f} to < {hi:,.0f}", "large": f">= {hi:,.0f}"}


def size_class_table(panel: pd.DataFrame, rank_year: int, cutoffs: Mapping[str, float]) -> pd.DataFrame:
    """One row per size class: the population rule, metros, and the minimum, median and
    maximum population in ``rank_year`` (thousands of persons)."""
    ref = panel[panel.year == rank_year]
    rules = class_rules(cutoffs)
    rows = []
    for cls in SIZE_CLASSES:
        pop = ref.loc[ref.size_class == cls, "population_persons"]
        rows.append({"size_class": cls, "rule": rules[cls], "metros": int(len(pop)),
                     "population_min_k": pop.min() / 1e3, "population_median_k": pop.median() / 1e3,
                     "population_max_k": pop.max() / 1e3})
    return pd.DataFrame(rows)


def classes_from_cutoffs(population: pd.Series, cutoffs: Mapping[str, float]) -> pd.Series:
    """The size class that a population (persons) and the cut-offs imply."""
    values = np.where(population < cutoffs["small_below"], "small",
                      np.where(population < cutoffs["large_from"], "mid", "large"))
    return pd.Series(values, index=population.index)


def class_check_sentence(panel: pd.DataFrame, rank_year: int, cutoffs: Mapping[str, float]) -> str:
    """Whether every metro's size class is the one its ``rank_year`` population and the
    recorded cut-offs imply."""
    ref = panel[panel.year == rank_year]
    agree = int((classes_from_cutoffs(ref.population_persons, cutoffs) == ref.size_class.astype(str)).sum())
    mismatch = "" if agree == len(ref) else " (the cut-offs recorded in provenance do not match the classes used)"
    return (f"Check: {agree} of {len(ref)} metros are in the class their {rank_year} population and the stated "
            f"cut-offs imply{mismatch}")


def class_variation(sample: pd.DataFrame, measures: Sequence[str] = MEASURES) -> pd.DataFrame:
    """:func:`~citydip.analysis.variation.within_variation` of each measure within each size
    class of ``sample`` (the estimation sample), classes in the order small, mid, large."""
    table = within_variation(sample, measures, by="size_class")
    order = {**{m: i for i, m in enumerate(measures)}, **{c: i for i, c in enumerate(SIZE_CLASSES)}}
    return table.sort_values(["measure", "size_class"], key=lambda s: s.map(order), kind="stable",
                             ignore_index=True)


def refit(panel: pd.DataFrame, estimates: pd.DataFrame, name: str = M5, rtol: float = 1e-6,
          atol: float = 1e-9) -> tuple[FitResult, float]:
    """Fit the catalogue model ``name`` on ``panel`` again (for its covariance matrix) and check
    its coefficients against the stored ``estimates``; returns the fit and the largest absolute
    difference. Raises :class:`CitydipError` when they differ."""
    spec = next((s for s in catalogue() if s.name == name), None)
    if spec is None:
        raise CitydipError(f"no catalogue model {name!r}")
    result = fit(panel, spec)
    stored = estimates[estimates.model == name].set_index("term").estimate.reindex(result.coef.index)
    if not np.allclose(result.coef, stored, rtol=rtol, atol=atol):
        raise CitydipError(f"the refitted {name} differs from the stored estimates")
    return result, float(np.max(np.abs(result.coef - stored)))


def class_effects(estimates: pd.DataFrame, variation: pd.DataFrame, measures: Sequence[str] = MEASURES,
                  model: str = M5) -> pd.DataFrame:
    """The class coefficients of ``model`` in percent per one more (95% interval), with their
    p-value and the metros of the class with any and with changing values (from
    :func:`class_variation`). Columns: measure (label), size_class, estimate (log points),
    percent, percent_low, percent_high, p_value, metros_with_any, metros_that_change."""
    tidy = estimates[estimates.model == model].set_index("term")
    counts = variation.set_index(["measure", "size_class"])
    rows = []
    for m in measures:
        for cls in SIZE_CLASSES:
            r, n = tidy.loc[term(m, cls)], counts.loc[(m, cls)]
            rows.append({"measure": term_label(m), "size_class": cls, "estimate": r.estimate,
                         "percent": percent(r.estimate), "percent_low": percent(r.conf_low),
                         "percent_high": percent(r.conf_high), "p_value": r.p_value,
                         "metros_with_any": int(n.metros_with_any), "metros_that_change": int(n.metros_that_change)})
    return pd.DataFrame(rows)


def _equal_rows(measure: str, focus: str = FOCUS) -> list[dict[str, float]]:
    """Restrictions focus - other = 0 for each other class, as {term: weight} rows."""
    return [{term(measure, focus): 1.0, term(measure, other): -1.0} for other in SIZE_CLASSES if other != focus]


def size_class_tests(result: FitResult, measures: Sequence[str] = MEASURES, focus: str = FOCUS) -> pd.DataFrame:
    """Tests on the class coefficients of ``result`` (M5): for each measure, ``focus`` = other
    class (one restriction: difference in log points, its standard error, t statistic,
    two-sided p and one-sided ``p_mid_larger``, all from t(df_t)) and the joint test that all
    classes are equal (F = W / q and ``wald_chi2`` = W, p from F(q, df_t)); last, the joint
    test over all measures. Columns: :data:`TEST_COLUMNS`."""
    rows, joint = [], []
    for m in measures:
        for weights in _equal_rows(m, focus):
            other = next(t for t, w in weights.items() if w < 0).rsplit("_x_", 1)[1]
            c = result.contrast(weights)
            rows.append({"measure": term_label(m), "hypothesis": f"{focus} = {other}", "restrictions": 1,
                         "difference": c.estimate, "std_error": c.std_error, "statistic": c.statistic,
                         "p_value": c.p_value, "p_mid_larger": c.p_greater})
        w = result.wald(_equal_rows(m, focus))
        joint += _equal_rows(m, focus)
        rows.append({"measure": term_label(m), "hypothesis": "small = mid = large", "restrictions": w.df_num,
                     "statistic": w.statistic, "wald_chi2": w.wald_chi2, "p_value": w.p_value})
    w = result.wald(joint)
    rows.append({"measure": "all three", "hypothesis": "small = mid = large for every measure",
                 "restrictions": w.df_num, "statistic": w.statistic, "wald_chi2": w.wald_chi2, "p_value": w.p_value})
    return pd.DataFrame(rows, columns=TEST_COLUMNS)


@dataclass
class SizeVerdict:
    """Does the mid-size class benefit most? ``table``: one row per measure (the class
    coefficients in log points and percent, the largest class, one-sided p-values of mid >
    small and mid > large, p of equal classes); ``joint``: the test over all measures."""

    table: pd.DataFrame
    joint: pd.Series
    df_t: float
    notable: pd.DataFrame  #: class coefficients with p < alpha (from the class-effects table)
    alpha: float
    synthetic: dict | None = None  #: true extra mid effect of sister ties and M5's mid - small, mid - large
    n_class_coefficients: int = 0  #: rows of the class-effects table

    @property
    def mid_largest(self) -> int:
        return int(self.table.mid_largest.sum())

    @property
    def mid_above_both(self) -> int:
        return int(self.table.mid_above_both.sum())

    @property
    def answer(self) -> str:
        """"yes, for every measure", "partly: for k of n measures" or "no"."""
        n, k = len(self.table), self.mid_above_both
        return "yes, for every measure" if k == n else f"partly: for {k} of {n} measures" if k else "no"

    def sentences(self) -> list[str]:
        lines = []
        for r in self.table.itertuples():
            lines.append(f"- {term_label(r.measure)}: " + ", ".join(
                f"{c} {getattr(r, f'percent_{c}'):+.1f}%" for c in SIZE_CLASSES)
                + f" per one more; largest in {r.largest} metros. Mid vs small: one-sided p = "
                f"{r.p_mid_above_small:.3f}; mid vs large: one-sided p = {r.p_mid_above_large:.3f}; equal across "
                f"classes: p {format_p(r.p_equal)}"
                f"{' (rejected at 5%)' if r.p_equal < self.alpha else ' (not rejected at 5%)'}.")
        j = self.joint
        lines.append(f"- All measures jointly, equal coefficients across classes: F({int(j.restrictions)}, "
                     f"{self.df_t:.0f}) = {j.statistic:.2f}, p {format_p(j.p_value)}.")
        n = len(self.table)
        lines.append(f"- The mid-size coefficient is the largest for {self.mid_largest} of {n} measures and larger "
                     f"than both other classes at the 5% level (one-sided) for {self.mid_above_both}.")
        lines.append(f"- Do the data support 'mid-sized metros benefit most'? {self.answer}.")
        lines.append(f"- Class coefficients with p < 0.05: {len(self.notable)} of {self.n_class_coefficients}"
                     + (":" if len(self.notable) else "."))
        for r in self.notable.itertuples():
            lines.append(f"  - {r.measure}, {r.size_class} metros: {r.percent:+.1f}% per one more (p "
                         f"{format_p(r.p_value)}), resting on {r.metros_that_change} metro(s) whose measure changes.")
        if self.synthetic is not None:
            s = self.synthetic
            lines.append(f"- Synthetic check: the data were generated with an extra mid-size effect of sister-city "
                         f"ties of {s['beta_sister_mid']:.3f} (none for the other measures); M5's mid minus small and "
                         f"mid minus large for sister-city ties: {s['mid_minus_small']:.3f} and "
                         f"{s['mid_minus_large']:.3f}.")
        return lines


def size_verdict(result: FitResult, tests: pd.DataFrame, effects: pd.DataFrame, measures: Sequence[str] = MEASURES,
                 alpha: float = 0.05, truth: Mapping[str, float] | None = None) -> SizeVerdict:
    """The verdict on "mid-sized metros benefit most" from the M5 fit, its
    :func:`size_class_tests` and :func:`class_effects`: for each measure, whether the mid-size
    coefficient is the largest and whether it is larger than both other classes with one-sided
    p < ``alpha``. ``truth`` (synthetic provenance) adds the planted extra mid effect of
    sister-city ties beside M5's estimated differences."""
    b = result.coef
    rows = []
    for m in measures:
        coef = {c: float(b[term(m, c)]) for c in SIZE_CLASSES}
        part = tests[tests.measure == term_label(m)]
        one = part[part.restrictions == 1].set_index("hypothesis")
        joint = part[part.restrictions > 1].iloc[0]
        largest = max(coef, key=coef.get)
        rows.append({"measure": m, **{f"coef_{c}": v for c, v in coef.items()},
                     **{f"percent_{c}": percent(v) for c, v in coef.items()}, "largest": largest,
                     "mid_largest": largest == FOCUS, "p_mid_above_small": one.loc["mid = small", "p_mid_larger"],
                     "p_mid_above_large": one.loc["mid = large", "p_mid_larger"],
                     "mid_above_both": bool((one.p_mid_larger < alpha).all()), "p_equal": joint.p_value})
    synthetic = None
    if truth is not None:
        s = "sister_active"
        synthetic = {"beta_sister_mid": float(truth["beta_sister_mid"]),
                     "mid_minus_small": float(b[term(s, "mid")] - b[term(s, "small")]),
                     "mid_minus_large": float(b[term(s, "mid")] - b[term(s, "large")])}
    return SizeVerdict(pd.DataFrame(rows), tests.iloc[-1], float(result.df_t), effects[effects.p_value < alpha],
                       alpha, synthetic, n_class_coefficients=len(effects))
