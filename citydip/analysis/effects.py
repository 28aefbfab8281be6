"""Coefficients as percent effects, benchmark comparisons and inference-robustness summaries
of the model catalogue (notebook 03).

All functions read the tidy estimates written by ``citydip estimate`` (``estimates.csv``:
model, term, estimate, std_error, statistic, p_value, conf_low, conf_high, nobs, ...). A
coefficient ``b`` of a log-outcome model (or PPML) is ``100 (exp(b) - 1)`` percent more exports
per one more tie, post or network; intervals are transformed the same way (the transform is
monotone, so a 95% interval in log points maps to one in percent).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from citydip.analysis.variation import within_variation
from citydip.errors import CitydipError
from citydip.estimation.catalogue import CONTROLS, MEASURES, MODEL_NAMES, inference_variant
from citydip.estimation.fitting import dk_bandwidth
from citydip.report.labels import base_term, term_label

#: Report keys of the models of notebook 03 and their names in the estimates.
MODELS: dict[str, str] = {k: MODEL_NAMES[k] for k in ("M1", "M2", "M3", "M3-CG", "M4", "M6")}
#: The inference variants of M3: label -> model name in the estimates.
INFERENCE: dict[str, str] = {"metro cluster": inference_variant("cluster"),
                             "two-way cluster (metro, year)": inference_variant("twoway"),
                             "wild cluster bootstrap (metro)": inference_variant("wild"),
                             "Driscoll-Kraay": inference_variant("driscoll_kraay")}
#: The models compared with the anchor (one coefficient per catalogue measure each).
BENCHMARK_MODELS = ("M1", "M2", "M3", "M4", "M6")
#: Rose (2007): percent more exports per foreign consulate in a gravity cross-section.
ROSE_RANGE = (6.0, 10.0)
#: The anchor's strongest measure.
ANCHOR_FIRST = "consular_posts"

EFFECT_COLUMNS = ["model", "measure", "term", "estimate", "percent", "percent_low", "percent_high", "t", "p_value",
                  "nobs"]
BENCHMARK_COLUMNS = ["model", "measure", "estimate", "percent", "t", "p_value", "rank_by_t", "positive",
                     "positive_p05"]


def percent(b):
    """Log points -> percent: ``100 (exp(b) - 1)`` (scalar or array)."""
    return 100 * np.expm1(b)


def format_p(p: float) -> str:
    """``"< 0.001"`` or ``"= 0.123"``."""
    return "< 0.001" if p < 0.001 else f"= {p:.3f}"


def measure_of(term: str) -> str:
    """The catalogue measure a term stands for (lags and size classes mapped to their measure,
    consulates general to consular posts)."""
    base = base_term(term)
    return "consular_posts" if base == "consulates_general" else base


def missing_models(estimates: pd.DataFrame, names: Sequence[str]) -> list[str]:
    """The model names among ``names`` that the estimates do not have."""
    return sorted(set(names) - set(estimates.model))


def _require(estimates: pd.DataFrame, names: Sequence[str]) -> None:
    absent = missing_models(estimates, names)
    if absent:
        raise CitydipError(f"models missing from the estimates: {absent}")


def percent_effects(estimates: pd.DataFrame, models: Mapping[str, str] = MODELS,
                    measures: Sequence[str] = (*MEASURES, "consulates_general")) -> pd.DataFrame:
    """Each diplomacy coefficient of each model (``models``: report key -> model name) in
    percent per one more unit, with its 95% interval in percent, t statistic, p-value and
    observations. A term counts as a diplomacy coefficient when its base term (lags removed)
    is one of ``measures``. Columns: :data:`EFFECT_COLUMNS` (``measure``: the label of
    :func:`measure_of`; ``estimate``: log points)."""
    _require(estimates, list(models.values()))
    rows = []
    for key, model in models.items():
        for r in estimates[estimates.model == model].itertuples():
            if base_term(r.term) not in measures:
                continue
            rows.append({"model": key, "measure": term_label(measure_of(r.term)), "term": r.term,
                         "estimate": r.estimate, "percent": percent(r.estimate), "percent_low": percent(r.conf_low),
                         "percent_high": percent(r.conf_high), "t": r.statistic, "p_value": r.p_value,
                         "nobs": int(r.nobs)})
    return pd.DataFrame(rows, columns=EFFECT_COLUMNS)


def estimation_sample(panel: pd.DataFrame, outcome: str = "log_exports", measures: Sequence[str] = MEASURES,
                      controls: Sequence[str] = CONTROLS) -> pd.DataFrame:
    """Metro-years with the outcome, every measure and every control present, sorted by metro
    and year (the sample of the two-way fixed-effects model before singletons are dropped)."""
    return panel.dropna(subset=[outcome, *measures, *controls]).sort_values(["cbsa_code", "year"])


def identifying_variation(sample: pd.DataFrame, measures: Sequence[str] = (*MEASURES, "consulates_general")
                          ) -> pd.DataFrame:
    """:func:`~citydip.analysis.variation.within_variation` of ``measures`` in ``sample``, with
    each measure's label in the ``measure`` column."""
    table = within_variation(sample, measures)
    return table.assign(measure=table.measure.map(term_label))


def inference_robustness(estimates: pd.DataFrame, inference: Mapping[str, str] = INFERENCE,
                         measures: Sequence[str] = MEASURES) -> pd.DataFrame:
    """The M3 coefficient of each measure under each kind of standard error (``inference``:
    label -> model name): measure (label), inference, estimate (log points), std_error, t,
    p_value."""
    _require(estimates, list(inference.values()))
    row = estimates.set_index(["model", "term"])
    return pd.DataFrame([{"measure": term_label(m), "inference": label, "estimate": r.estimate,
                          "std_error": r.std_error, "t": r.statistic, "p_value": r.p_value}
                         for m in measures for label, model in inference.items()
                         for r in [row.loc[(model, m)]]])


def inference_sentences(inference_table: pd.DataFrame, sample: pd.DataFrame, alpha: float = 0.05) -> list[str]:
    """The p-values of :func:`inference_robustness` as a measure x inference grid, the
    Driscoll-Kraay lag window and cluster counts of ``sample``, and for each kind of
    inference the measures with p < ``alpha``."""
    years, metros = sample.year.nunique(), sample.cbsa_code.nunique()
    grid = inference_table.pivot(index="measure", columns="inference", values="p_value").round(3).to_string()
    lines = [grid, f"Driscoll-Kraay: {years} years, Bartlett lag window {dk_bandwidth(years)} years; clusters: "
                   f"{metros} metros, {years} years"]
    for label in pd.unique(inference_table.inference):
        part = inference_table[(inference_table.inference == label) & (inference_table.p_value < alpha)]
        lines.append(f"- {label}: p < {alpha:g} for {', '.join(part.measure) if len(part) else 'no measure'}")
    return lines


def _benchmark(effects: pd.DataFrame, models: Sequence[str] = BENCHMARK_MODELS) -> pd.DataFrame:
    bench = effects[effects.model.isin(models)].assign(measure_key=lambda d: d.term.map(base_term))
    bench["rank_by_t"] = bench.groupby("model").t.rank(ascending=False).astype(int)
    bench["positive"] = bench.estimate > 0
    bench["positive_p05"] = (bench.estimate > 0) & (bench.p_value < 0.05)
    return bench


def benchmark_comparison(effects: pd.DataFrame, models: Sequence[str] = BENCHMARK_MODELS) -> pd.DataFrame:
    """Signs and t-statistic ranks (1 = largest signed t, the strongest positive association,
    as the anchor ranks) of the measures in each of ``models``, from :func:`percent_effects`.
    Columns: :data:`BENCHMARK_COLUMNS` (``positive_p05``: positive with p < 0.05)."""
    return _benchmark(effects, models)[BENCHMARK_COLUMNS]


@dataclass
class FixedEffectsSummary:
    """The findings of notebook 03, as tables (every number of :meth:`sentences`)."""

    signs: pd.DataFrame           #: per model: positive, positive_p05, measures, largest_t (measure key), as_anchor
    rose: pd.DataFrame            #: per model: consular-post percent and 95% interval vs Rose's range
    consulates_general: pd.Series  #: the M3-CG consulates-general row of the effects table
    pooled_within: pd.DataFrame   #: per measure: M2 vs M3 percent, change, M3 p < 0.05 under how many inferences
    variation: pd.DataFrame       #: the identifying-variation table
    models: dict                  #: report key -> model name
    synthetic: pd.DataFrame | None = None  #: measure, true coefficient, M3 estimate (synthetic panel only)

    def sentences(self) -> list[str]:
        lines = []
        for r in self.signs.itertuples():
            lines.append(f"- {r.model} ({self.models[r.model]}): positive for {r.positive} of {r.measures} measures "
                         f"({r.positive_p05} positive with p < 0.05); largest t statistic: {term_label(r.largest_t)}"
                         f"{' (as in the anchor)' if r.as_anchor else ' (the anchor ranks consulates first)'}.")
        m3 = self.signs.set_index("model").loc["M3"]
        lines.append(f"- Consulates have the largest t statistic in M3: {'yes' if m3.as_anchor else 'no'}.")
        low_r, high_r = ROSE_RANGE
        for r in self.rose.itertuples():
            lines.append(f"- One more consular post, {r.model}: {r.percent:+.1f}% exports (95% interval "
                         f"{r.percent_low:+.1f}% to {r.percent_high:+.1f}%): the estimate is {r.position} Rose's "
                         f"{low_r:g}-{high_r:g}% range; the interval {'overlaps' if r.overlaps else 'excludes'} it.")
        cg = self.consulates_general
        lines.append(f"- One more consulate general (M3-CG): {cg.percent:+.1f}% (p {format_p(cg.p_value)}).")
        for r in self.pooled_within.itertuples():
            lines.append(f"- {term_label(r.measure)}: pooled (M2) {r.pooled_percent:+.2f}% -> two-way FE (M3) "
                         f"{r.within_percent:+.2f}% per one more: the association {r.change} once metro effects are "
                         f"added; p < 0.05 in M3 under {r.significant_inferences} of {r.inferences} inference "
                         f"methods.")
        lines.append("- Metros whose measure changes during the sample (what the within-metro coefficients rest on): "
                     + "; ".join(f"{r.measure} {r.metros_that_change} of {r.metros}"
                                 for r in self.variation.itertuples()) + ".")
        if self.synthetic is not None:
            lines.append("- Synthetic check, true coefficient vs M3 estimate: " + "; ".join(
                f"{term_label(r.measure)} {r.true:.3f} vs {r.estimate:.3f}" for r in self.synthetic.itertuples()))
        return lines


#: Synthetic-panel provenance keys of the true coefficients of the catalogue measures.
SYNTHETIC_TRUTH = {"sister_active": "beta_sister", "consular_posts": "beta_consulate",
                   "networks_dated": "beta_network"}


def fixed_effects_summary(effects: pd.DataFrame, inference_table: pd.DataFrame, variation: pd.DataFrame, *,
                          models: Mapping[str, str] = MODELS, truth: Mapping[str, float] | None = None,
                          alpha: float = 0.05) -> FixedEffectsSummary:
    """The findings of notebook 03 from :func:`percent_effects`, :func:`inference_robustness`
    and :func:`identifying_variation`:

    - ``signs``: for each benchmark model, how many measures have a positive coefficient (and
      positive with p < ``alpha``) and which has the largest t (``as_anchor``: consular posts);
    - ``rose``: the consular-post coefficient of M1, M2 and M3 in percent against
      :data:`ROSE_RANGE` (``position``: inside, below or above; ``overlaps``: whether the 95%
      interval meets the range);
    - ``pooled_within``: M2 against M3 per measure (``change``: "changes sign", "shrinks" or
      "grows" in absolute value) and under how many kinds of inference M3 has p < ``alpha``;
    - ``synthetic``: given ``truth`` (synthetic provenance), true coefficient vs M3 estimate.
    """
    bench = _benchmark(effects)
    signs = []
    for key, part in bench.groupby("model", sort=False):
        part = part.set_index("measure_key")
        top = part.t.idxmax()
        signs.append({"model": key, "measures": len(part), "positive": int(part.positive.sum()),
                      "positive_p05": int((part.positive & (part.p_value < alpha)).sum()), "largest_t": top,
                      "as_anchor": top == ANCHOR_FIRST})
    signs = pd.DataFrame(signs)
    b = bench.set_index(["model", "measure_key"])
    low_r, high_r = ROSE_RANGE
    rose = pd.DataFrame([{"model": key, **b.loc[(key, ANCHOR_FIRST), ["percent", "percent_low",
                                                                       "percent_high"]].to_dict()}
                         for key in ("M1", "M2", "M3")])
    rose["position"] = np.where(rose.percent < low_r, "below", np.where(rose.percent > high_r, "above", "inside"))
    rose["overlaps"] = (rose.percent_low <= high_r) & (rose.percent_high >= low_r)
    cg = effects[(effects.model == "M3-CG") & (effects.term == "consulates_general")].iloc[0]
    rows = []
    for m in MEASURES:
        pooled, within = b.loc[("M2", m)], b.loc[("M3", m)]
        change = ("changes sign" if np.sign(pooled.estimate) != np.sign(within.estimate) else
                  "shrinks" if abs(within.estimate) < abs(pooled.estimate) else "grows")
        part = inference_table[inference_table.measure == term_label(m)]
        rows.append({"measure": m, "pooled_percent": pooled.percent, "within_percent": within.percent,
                     "change": change, "significant_inferences": int((part.p_value < alpha).sum()),
                     "inferences": part.inference.nunique()})
    synthetic = None
    if truth is not None:
        synthetic = pd.DataFrame([{"measure": m, "true": float(truth[key]), "estimate": b.loc[("M3", m)].estimate}
                                  for m, key in SYNTHETIC_TRUTH.items()])
    return FixedEffectsSummary(signs, rose, cg, pd.DataFrame(rows), variation, dict(models), synthetic)
