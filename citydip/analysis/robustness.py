"""Robustness to the data-construction choices (notebook 07).

Each robustness variant of the panel (:mod:`citydip.panel.variants`) is the default panel with
one contested construction choice switched. The functions here say how much each variant
changes the panel (:func:`variant_samples`, :func:`variant_measures`), refit the main models
on every panel (:func:`fit_variants`), compare each estimate with the default panel's
(:func:`compare_to_default`, :func:`survival_counts`, :func:`by_variant`,
:func:`unchanged_models`), give compact views (:func:`wide_view`, :func:`size_class_view`,
:func:`largest_class`), ask whether any panel produces the anchor paper's pattern
(:func:`anchor_pattern`), and check two estimation-side choices on the default panel
(:func:`estimation_side_checks`). :func:`findings` words the results for the "In short" cell.

CDP–ICLEI participation (:data:`CDP`, ``cdp_any``) is the fourth diplomacy measure. It exists
for 2016–2021 only, so it enters the catalogue's models nowhere (they use 2005–2022); here it
has its own model, M3-CDP (:data:`CDP_MODEL`: M3 with ``cdp_any`` beside the three measures,
hence fitted on 2016–2021), fitted on every panel with the others and compared like them
(:data:`COMPARED`); :func:`variant_measures` also shows how each variant changes
``cdp_any`` and ``cdp_cities_reporting`` (:data:`PANEL_MEASURES`).

Units: coefficients in log points of exports per one more tie, post or network (M4: of the
export level, PPML); ``shift_in_default_se`` is a difference from the default estimate divided
by the default estimate's standard error; counts are metro-years, metros or coefficients as
named.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from citydip.analysis.anchor import (
    CLAIMS,
    claims_from_estimates,
    count_verdict,
    largest_size_class,
)
from citydip.analysis.variation import within_variation
from citydip.estimation import fit
from citydip.estimation.catalogue import CONTROLS, MEASURES, MODEL_NAMES, catalogue
from citydip.estimation.fitting import SIZE_CLASSES
from citydip.estimation.spec import ModelSpec
from citydip.panel.cdp import MEASURE as CDP
from citydip.report.labels import base_term, term_label
from citydip.report.tables import significance_stars

#: Name of the default panel among the panels.
DEFAULT = "default"
#: M3 with CDP–ICLEI participation beside the three measures: two-way FE on the years the CDP
#: measure exists (2016–2021; rows where it is missing are left out), metro-clustered.
CDP_MODEL = ModelSpec("M3-CDP two-way FE, with CDP-ICLEI reporting (2016-2021)", "ols", "log_exports",
                      (*MEASURES, CDP, *CONTROLS), description="metro and year effects, 2016-2021")
#: The models refitted on every panel: key -> catalogue name (M3-CDP: :data:`CDP_MODEL`).
MODELS = {**{k: MODEL_NAMES[k] for k in ("M1", "M3", "M3-CG", "M4", "M5")}, "M3-CDP": CDP_MODEL.name}
#: Diplomacy measures of the catalogue's models (the panel's three and consulates general).
DIPLOMACY = (*MEASURES, "consulates_general")
#: Diplomacy measures whose coefficients are compared across panels: with CDP participation.
COMPARED = (*DIPLOMACY, CDP)
#: Measures whose change by each variant :func:`variant_measures` shows: with the CDP count.
PANEL_MEASURES = (*COMPARED, "cdp_cities_reporting")
KEY = ["cbsa_code", "year"]
#: Columns the two-way FE model M3 needs (its estimation sample drops rows missing any).
FE_COLUMNS = ["log_exports", *MEASURES, *CONTROLS]
#: A difference from the default estimate smaller than this counts as none (exactly unchanged).
UNCHANGED_TOL = 1e-10
LONG_COLUMNS = ["variant", "model_key", "model", "term", "measure", "estimate", "std_error", "p_value", "conf_low",
                "conf_high", "nobs", "default_estimate", "difference", "shift_in_default_se"]


# -- the panels -----------------------------------------------------------------------------------------
def with_default(panel: pd.DataFrame, index: Sequence[Mapping], variant_panels: Mapping[str, pd.DataFrame],
                 default: str = DEFAULT) -> tuple[dict[str, pd.DataFrame], dict[str, str]]:
    """The default panel and every variant (index entries of :func:`citydip.panel.variants.read_variants`),
    by name, default first; and their descriptions."""
    panels = {default: panel, **{v["name"]: variant_panels[v["name"]] for v in index}}
    descriptions = {default: "the panel as built with the default options",
                    **{v["name"]: v["description"] for v in index}}
    return panels, descriptions


def fe_sample(frame: pd.DataFrame) -> pd.DataFrame:
    """The metro-years M3 can use (all of :data:`FE_COLUMNS` present), sorted by metro and year."""
    return frame.dropna(subset=FE_COLUMNS).sort_values(KEY)


def variant_samples(panels: Mapping[str, pd.DataFrame], descriptions: Mapping[str, str],
                    default: str = DEFAULT) -> pd.DataFrame:
    """Per panel: metro-years, metros, metro-years with an export value, rows of the two-way FE
    sample, and metros whose size class differs from the default panel's."""
    default_classes = panels[default].groupby("cbsa_code").size_class.first()
    rows = []
    for name, frame in panels.items():
        classes = frame.groupby("cbsa_code").size_class.first().reindex(default_classes.index)
        rows.append({"variant": name, "description": descriptions[name], "metro_years": len(frame),
                     "metros": frame.cbsa_code.nunique(), "with_exports": int(frame.log_exports.notna().sum()),
                     "two_way_fe_sample": len(fe_sample(frame)),
                     "size_class_changed_metros": int((classes != default_classes).sum())})
    return pd.DataFrame(rows)


def variant_measures(panels: Mapping[str, pd.DataFrame], measures: Sequence[str] = PANEL_MEASURES,
                     default: str = DEFAULT) -> pd.DataFrame:
    """Per panel and measure: the mean over metro-years; the metro-years whose value differs
    from the default panel's, on the metro-years both panels have (a missing value where the
    other has one counts as a difference); and in the two-way FE sample the changes between a
    metro's consecutive years and the metros with any change (:func:`within_variation`)."""
    base = panels[default][KEY + list(measures)]
    rows = []
    for name, frame in panels.items():
        within = within_variation(fe_sample(frame), measures).set_index("measure")
        merged = base.merge(frame[KEY + list(measures)], on=KEY, how="inner", suffixes=("", "_v"))
        for m in measures:
            a, b = merged[m].astype(float), merged[f"{m}_v"].astype(float)
            same = (a == b) | (a.isna() & b.isna())
            rows.append({"variant": name, "measure": m, "mean": float(frame[m].mean()),
                         "metro_years_differing": int((~same).sum()),
                         "within_metro_changes": int(within.year_on_year_changes[m]),
                         "metros_that_change": int(within.metros_that_change[m])})
    return pd.DataFrame(rows)


# -- the models on every panel -----------------------------------------------------------------------------
@dataclass
class VariantFits:
    """The models fitted on every panel: ``fits`` by (panel, model key); ``estimates`` the
    diplomacy coefficients compared with the default panel's (:func:`compare_to_default`);
    ``notes`` what the library dropped (panel, model key, note)."""

    fits: dict[tuple[str, str], object]
    estimates: pd.DataFrame
    notes: pd.DataFrame


def model_specs() -> dict[str, ModelSpec]:
    """The catalogue's models and :data:`CDP_MODEL`, by name."""
    return {s.name: s for s in (*catalogue(), CDP_MODEL)}


def fit_variants(panels: Mapping[str, pd.DataFrame], models: Mapping[str, str] = MODELS,
                 measures: Sequence[str] = COMPARED, default: str = DEFAULT) -> VariantFits:
    """Fit each model of ``models`` (key -> name in :func:`citydip.estimation.catalogue.catalogue`,
    or :data:`CDP_MODEL`) unchanged on each panel (warnings silenced: the notes keep what was
    dropped, except missing-value and between-regression notes)."""
    specs = model_specs()
    fits, rows, notes = {}, [], []
    for name, frame in panels.items():
        for key, model in models.items():
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                result = fit(frame, specs[model])
            fits[(name, key)] = result
            rows.append(result.tidy().assign(variant=name, key=key))
            notes += [{"variant": name, "model": key, "note": n} for n in result.notes
                      if "dropped for missing values" not in n and "between regression" not in n]
    tidy = pd.concat(rows, ignore_index=True).rename(columns={"key": "model_key"})
    return VariantFits(fits, compare_to_default(tidy, measures, default),
                       pd.DataFrame(notes, columns=["variant", "model", "note"]))


def compare_to_default(tidy: pd.DataFrame, measures: Sequence[str] = COMPARED, default: str = DEFAULT
                       ) -> pd.DataFrame:
    """The diplomacy coefficients (terms whose base term is in ``measures``) of a tidy table with
    ``variant`` and ``model_key`` columns, with the default panel's estimate of the same model
    and term, the difference from it, and that difference in units of the default's standard
    error (:data:`LONG_COLUMNS`)."""
    out = tidy[tidy.term.map(base_term).isin(measures)].copy()
    out["measure"] = out.term.map(base_term)
    base = out[out.variant == default].set_index(["model_key", "term"])
    ref = base.reindex(pd.MultiIndex.from_frame(out[["model_key", "term"]]))
    out["default_estimate"] = ref.estimate.to_numpy()
    out["difference"] = out.estimate - out.default_estimate
    out["shift_in_default_se"] = out.difference / ref.std_error.to_numpy()
    return out[LONG_COLUMNS].reset_index(drop=True)


def matches_stored(estimates: pd.DataFrame, stored: pd.DataFrame, model_key: str = "M3",
                   default: str = DEFAULT) -> bool:
    """Whether the default panel's refitted ``model_key`` equals the stored estimates
    (``build/estimates.csv``: columns model, term, estimate) to rtol 1e-6."""
    refit = estimates[(estimates.variant == default) & (estimates.model_key == model_key)] \
        .set_index(["model", "term"]).estimate
    saved = stored.set_index(["model", "term"]).estimate.reindex(refit.index)
    return bool(len(refit)) and bool(np.allclose(refit, saved, rtol=1e-6, atol=1e-9))


# -- compact views ----------------------------------------------------------------------------------------------
def coefficient_text(estimate: float, std_error: float, p_value: float) -> str:
    """``0.0430** (0.0340)``: estimate with stars (*** p < 0.01, ** p < 0.05, * p < 0.10), standard error."""
    return f"{estimate:.4f}{'*' * significance_stars(p_value)} ({std_error:.4f})"


def _texts(frame: pd.DataFrame) -> pd.Series:
    return pd.Series([coefficient_text(r.estimate, r.std_error, r.p_value) for r in frame.itertuples()],
                     index=frame.index, dtype=object)


def wide_view(estimates: pd.DataFrame, order: Sequence[str],
              models: Sequence[str] = ("M1", "M3", "M3-CG", "M4", "M3-CDP"),
              default: str = DEFAULT) -> pd.DataFrame:
    """One row per panel (in ``order``), one column ``"<model key>: <measure label>"`` per
    coefficient of ``models`` (in the default panel's term order), cells
    :func:`coefficient_text`."""
    main = estimates[estimates.model_key.isin(models)]
    main = main.assign(text=_texts(main), column=main.model_key + ": " + main.measure.map(term_label))
    base = estimates[estimates.variant == default]
    columns = [f"{k}: {term_label(t)}" for k in models for t in base[base.model_key == k].term]
    return main.pivot(index="variant", columns="column", values="text").reindex(list(order))[columns].reset_index()


def size_class_view(estimates: pd.DataFrame, order: Sequence[str], model_key: str = "M5",
                    measures: Sequence[str] = MEASURES, classes: Sequence[str] = SIZE_CLASSES) -> pd.DataFrame:
    """One row per panel, one column per size-class term ``<measure>_x_<class>`` of
    ``model_key``: :func:`coefficient_text`, ``"dropped"`` where a panel's fit dropped it."""
    m5 = estimates[estimates.model_key == model_key]
    wide = m5.assign(text=_texts(m5)).pivot(index="variant", columns="term", values="text").reindex(list(order))
    wide = wide[[f"{m}_x_{c}" for m in measures for c in classes if f"{m}_x_{c}" in wide.columns]]
    return wide.reset_index().fillna("dropped")


def largest_class(estimates: pd.DataFrame, order: Sequence[str], model_key: str = "M5",
                  measures: Sequence[str] = MEASURES, classes: Sequence[str] = SIZE_CLASSES) -> pd.DataFrame:
    """Per panel and measure, the size class with the largest ``model_key`` coefficient
    (:func:`citydip.analysis.anchor.largest_size_class`)."""
    rows = []
    for name in order:
        part = estimates[(estimates.variant == name) & (estimates.model_key == model_key)]
        rows.append({"variant": name, **largest_size_class(part, measures, classes).largest.to_dict()})
    return pd.DataFrame(rows, columns=["variant", *measures])


def largest_class_counts(largest: pd.DataFrame, measures: Sequence[str] = MEASURES) -> pd.DataFrame:
    """Per measure and class (or ``"not all classes estimated"``): the panels in which it is the
    largest (most frequent first)."""
    rows = [{"measure": m, "largest": k, "panels": int(v)}
            for m in measures for k, v in largest[m].value_counts().items()]
    return pd.DataFrame(rows, columns=["measure", "largest", "panels"])


# -- do the default estimates survive? -------------------------------------------------------------------------------
def survival_counts(estimates: pd.DataFrame, alpha: float = 0.05, default: str = DEFAULT) -> pd.DataFrame:
    """Per default coefficient (model key, term): its estimate and p-value; among the variants
    that estimate it, how many keep its sign, its verdict at ``alpha``, are significant with the
    same sign, leave it exactly unchanged; the range of their estimates; the variant that moves
    it most (in default standard errors) and by how much. ``variants``: all variants."""
    base = estimates[estimates.variant == default]
    n_variants = estimates.variant[estimates.variant != default].nunique()
    rows = []
    for d in base.itertuples():
        alt = estimates[(estimates.model_key == d.model_key) & (estimates.term == d.term)
                        & (estimates.variant != default)].dropna(subset=["estimate"])
        significant, same_sign = d.p_value < alpha, np.sign(alt.estimate) == np.sign(d.estimate)
        moved = alt.loc[alt.shift_in_default_se.abs().idxmax()] if len(alt) else None
        rows.append({
            "model_key": d.model_key, "term": d.term, "default_estimate": d.estimate, "default_p": d.p_value,
            "default_significant": significant, "variants": n_variants, "estimated": len(alt),
            "same_sign": int(same_sign.sum()),
            "same_verdict_5pct": int(((alt.p_value < alpha) == significant).sum()),
            "significant_same_sign": int(((alt.p_value < alpha) & same_sign).sum()),
            "unchanged": int((alt.difference.abs() < UNCHANGED_TOL).sum()),
            "min_estimate": alt.estimate.min() if len(alt) else np.nan,
            "max_estimate": alt.estimate.max() if len(alt) else np.nan,
            "largest_shift_variant": moved.variant if moved is not None else "",
            "largest_shift_in_default_se": moved.shift_in_default_se if moved is not None else np.nan})
    return pd.DataFrame(rows)


def by_variant(estimates: pd.DataFrame, alpha: float = 0.05, default: str = DEFAULT) -> pd.DataFrame:
    """Per variant, over the diplomacy coefficients of all models: how many the variant has
    (``coefficients``) and estimates, how many change sign, change their verdict at ``alpha``,
    move by at least one default standard error; the median and largest absolute move (default
    standard errors); the models with any coefficient not exactly equal to the default's."""
    base_p = estimates[estimates.variant == default].set_index(["model_key", "term"]).p_value.rename("default_p")
    others = estimates[estimates.variant != default].join(base_p, on=["model_key", "term"])
    ok = others.estimate.notna()
    others = others.assign(
        estimated=ok, sign_changed=ok & (np.sign(others.estimate) != np.sign(others.default_estimate)),
        verdict_changed=ok & ((others.p_value < alpha) != (others.default_p < alpha)),
        moved_one_se=others.shift_in_default_se.abs() >= 1, abs_shift=others.shift_in_default_se.abs(),
        changed=~(others.difference.abs() < UNCHANGED_TOL))
    return others.groupby("variant", sort=False).agg(
        coefficients=("term", "size"), estimated=("estimated", "sum"), sign_changed=("sign_changed", "sum"),
        verdict_changed=("verdict_changed", "sum"), moved_one_se=("moved_one_se", "sum"),
        median_abs_shift_se=("abs_shift", "median"), max_abs_shift_se=("abs_shift", "max"),
        models_changed=("model_key", lambda k: k[others.loc[k.index, "changed"]].nunique())).reset_index()


def unchanged_models(estimates: pd.DataFrame, default: str = DEFAULT) -> pd.DataFrame:
    """Per variant and model key: whether every diplomacy coefficient equals the default
    panel's exactly (to :data:`UNCHANGED_TOL`; a coefficient the variant lacks counts as changed)."""
    others = estimates[estimates.variant != default]
    same = others.difference.abs() < UNCHANGED_TOL
    return same.groupby([others.variant, others.model_key], sort=False).all().rename("unchanged").reset_index()


def anchor_pattern(estimates: pd.DataFrame, models: Sequence[str] = ("M1", "M3", "M4"),
                   measures: Sequence[str] = MEASURES, alpha: float = 0.05) -> pd.DataFrame:
    """Per panel and model: the anchor's first claim (all three measures positive with
    p < ``alpha``) by :func:`citydip.analysis.anchor.claims_from_estimates`; ``pattern`` is True
    where it is supported in full, ``significant_positive`` counts the measures that are."""
    rows = []
    for (name, key), part in estimates[estimates.model_key.isin(models)].groupby(["variant", "model_key"],
                                                                                  sort=False):
        claim = claims_from_estimates(part, measures=measures, alpha=alpha).iloc[0]
        coef = part.set_index("term").reindex(list(measures))
        rows.append({"variant": name, "model_key": key,
                     "significant_positive": int(((coef.estimate > 0) & (coef.p_value < alpha)).sum()),
                     "supported": claim.supported, "pattern": claim.supported == "yes"})
    return pd.DataFrame(rows, columns=["variant", "model_key", "significant_positive", "supported", "pattern"])


# -- estimation-side choices ------------------------------------------------------------------------------------------
def deflator_spread(panel: pd.DataFrame) -> float:
    """Largest within-year spread across metros of log nominal minus log real exports (log
    points): zero when the deflator is common to all metros of a year."""
    with np.errstate(divide="ignore"):
        gap = panel.log_exports - np.log(panel.exports_real_usd)
    return float(gap.groupby(panel.year).agg(lambda s: s.max() - s.min()).max())


@dataclass
class SideChecks:
    """Estimation-side checks on the default panel. ``deflator_spread``: :func:`deflator_spread`;
    ``coef_gap``/``se_gap``: largest absolute difference of an M3 coefficient / standard error
    between real and nominal log exports; ``absorbed``: all three below 1e-8 (1e-9 for the
    spread); ``between_gap``: the same for M1's slopes (no year effects); ``table``: the
    diplomacy coefficients of M3 (nominal, real), M3-CG, M1 (nominal, real)."""

    deflator_spread: float
    coef_gap: float
    se_gap: float
    absorbed: bool
    between_gap: float
    table: pd.DataFrame


def estimation_side_checks(panel: pd.DataFrame, fits: Mapping[str, object] | None = None,
                           models: Mapping[str, str] = MODELS) -> SideChecks:
    """M3 and M1 with log real instead of log nominal exports, and M3-CG, on ``panel``.
    ``fits``: already fitted M3, M3-CG and M1 on ``panel`` by model key (fitted here if absent)."""
    specs = {s.name: s for s in catalogue()}
    with np.errstate(divide="ignore"):
        analysis = panel.assign(log_exports_real=np.log(panel.exports_real_usd))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fits = {k: (fits or {}).get(k) or fit(panel, specs[models[k]]) for k in ("M3", "M3-CG", "M1")}
        real = fit(analysis, replace(specs[models["M3"]], name="M3 two-way FE, log real exports",
                                     depvar="log_exports_real"))
        real_between = fit(analysis, replace(specs[models["M1"]], name="M1 between, log real exports",
                                             depvar="log_exports_real"))
    nominal, between = fits["M3"], fits["M1"]
    coef_gap = float((real.coef - nominal.coef.reindex(real.coef.index)).abs().max())
    se_gap = float((real.se - nominal.se.reindex(real.se.index)).abs().max())
    spread = deflator_spread(panel)
    between_gap = float((real_between.coef - between.coef).drop("const", errors="ignore").abs().max())
    side = pd.concat([nominal.tidy(), real.tidy(), fits["M3-CG"].tidy(), between.tidy(), real_between.tidy()],
                     ignore_index=True)
    side = side[side.term.map(base_term).isin(DIPLOMACY)][["model", "depvar", "term", "estimate", "std_error",
                                                           "p_value", "conf_low", "conf_high", "nobs"]]
    return SideChecks(spread, coef_gap, se_gap, bool(spread < 1e-9 and coef_gap < 1e-8 and se_gap < 1e-8),
                      between_gap, side)


# -- in short ---------------------------------------------------------------------------------------------------------
def fmt_p(p: float) -> str:
    """``< 0.001`` or ``= 0.123``."""
    return "< 0.001" if p < 0.001 else f"= {p:.3f}"


def findings(estimates: pd.DataFrame, side: SideChecks, models: Sequence[str] = tuple(MODELS),
             default: str = DEFAULT, alpha: float = 0.05) -> list[str]:
    """The notebook's conclusions as a bulleted list (one ``"- "`` line each), from
    :func:`survival_counts`, :func:`by_variant`, :func:`unchanged_models`, :func:`anchor_pattern`,
    :func:`largest_class` and the estimation-side checks (without variants: the default
    panel's M1, M3 and M4 estimates)."""
    order = list(dict.fromkeys([default, *estimates.variant]))
    variants = order[1:]
    base = estimates[estimates.variant == default].set_index(["model_key", "term"])
    lines = []
    if variants:
        counts = survival_counts(estimates, alpha, default)
        focus = counts.model_key.isin(["M1", "M3", "M3-CG", "M4"]) | ((counts.model_key == "M3-CDP")
                                                                     & (counts.term == CDP))
        for x in counts[focus].itertuples():
            lines.append(f"{x.model_key}, {term_label(x.term)}: default {x.default_estimate:+.4f} (p "
                         f"{fmt_p(x.default_p)}); across {x.estimated} variants {x.min_estimate:+.4f} to "
                         f"{x.max_estimate:+.4f}; sign kept in {x.same_sign}, 5% verdict kept in "
                         f"{x.same_verdict_5pct}; moved most by {x.largest_shift_variant} "
                         f"({x.largest_shift_in_default_se:+.2f} default standard errors).")
        lines.append(f"Of {len(counts)} diplomacy coefficients (M5 classes included), "
                     f"{int((counts.same_sign < counts.estimated).sum())} change sign in at least one variant and "
                     f"{int((counts.same_verdict_5pct < counts.estimated).sum())} change their 5% verdict in at "
                     f"least one.")
        for v in by_variant(estimates, alpha, default).sort_values("median_abs_shift_se", ascending=False) \
                .itertuples():
            lines.append(f"{v.variant}: {v.estimated} of {v.coefficients} coefficients estimated; {v.sign_changed} "
                         f"change sign, {v.verdict_changed} change their 5% verdict, {v.moved_one_se} move by one "
                         f"default standard error or more (median move {v.median_abs_shift_se:.2f}, largest "
                         f"{v.max_abs_shift_se:.2f}); estimates of {v.models_changed} of {len(models)} models "
                         f"differ from the default.")
        same = unchanged_models(estimates, default)
        every = same.groupby("variant", sort=False).unchanged.all()
        quiet = [v for v in variants if every.get(v, False)]
        partly = "; ".join(f"{v} ({', '.join(part.model_key)})" for v, part in
                           same[same.unchanged & ~same.variant.isin(quiet)].groupby("variant", sort=False))
        lines.append("Variants leaving every estimate exactly unchanged: " + (", ".join(quiet) or "none")
                     + "; leaving some models exactly unchanged: " + (partly or "none") + ".")
        pattern = anchor_pattern(estimates, alpha=alpha)
        for key, part in pattern.groupby("model_key", sort=False):
            hits = list(part.variant[part.pattern])
            lines.append(f"{key}: all three measures positive with p < {alpha:g} (the anchor's pattern) in "
                         f"{len(hits)} of {len(order)} panels" + (f" ({', '.join(hits)})" if hits else "") + ".")
        counts = largest_class_counts(largest_class(estimates, order))
        for m, part in counts.groupby("measure", sort=False):
            n = dict(zip(part.largest, part.panels))
            lines.append(f"M5, {term_label(m)}: the mid-size coefficient is the largest in {n.get('mid', 0)} of "
                         f"{len(order)} panels (" + ", ".join(f"{k}: {v}" for k, v in n.items()) + ").")
    else:
        lines.append("No robustness variants for this panel: how much the estimates depend on the data-construction "
                     "choices cannot be said here. Run `citydip replicate` with the data directory set to see it.")
        for key in ["M1", "M3", "M4"]:
            lines.append(f"{key} on this panel: " + "; ".join(
                f"{term_label(t)} {base.loc[(key, t)].estimate:+.4f} (p {fmt_p(base.loc[(key, t)].p_value)})"
                for t in MEASURES))
        if ("M3-CDP", CDP) in base.index:
            c = base.loc[("M3-CDP", CDP)]
            lines.append(f"M3-CDP on this panel (2016-2021, {int(c.nobs):,} metro-years): {term_label(CDP)} "
                         f"{c.estimate:+.4f} (p {fmt_p(c.p_value)}).")
    absorbed = "absorbed by the year effects" if side.absorbed else "NOT fully absorbed"
    lines.append(f"Real instead of nominal exports (M3): largest change in a coefficient {side.coef_gap:.1e}, in a "
                 f"standard error {side.se_gap:.1e}; the common deflator is {absorbed}. In M1, without year effects, "
                 f"the largest change in a slope is {side.between_gap:.1e}.")
    cg = side.table[side.table.model == MODELS["M3-CG"]].set_index("term").loc["consulates_general"]
    cp = side.table[side.table.model == MODELS["M3"]].set_index("term").loc["consular_posts"]
    lines.append(f"Consulates general instead of all consular posts (M3 on the default panel): {cg.estimate:+.4f} "
                 f"(p {fmt_p(cg.p_value)}) against {cp.estimate:+.4f} (p {fmt_p(cp.p_value)}) per one more.")
    return [line if line.startswith(" ") else f"- {line}" for line in lines]


def anchor_claims(estimates: pd.DataFrame, default: str = DEFAULT, alpha: float = 0.05) -> pd.DataFrame:
    """The anchor's three claims against the default panel's M3 (with consular posts) and M3-CG
    (with consulates general), the size-class claim against M5; then, per model M1, M3, M4,
    whether any data-construction variant produces its first claim in full (``yes`` in every
    panel, ``partly`` in some, ``no`` in none)."""
    base = estimates[estimates.variant == default]
    m5 = base[base.model_key == "M5"]
    parts = [claims_from_estimates(base[base.model_key == "M3"], measures=MEASURES, consulate="consular_posts",
                                   size_estimates=m5, alpha=alpha, scope="M3 and M5, default panel"),
             claims_from_estimates(base[base.model_key == "M3-CG"], alpha=alpha, scope="M3-CG, default panel")]
    pattern = anchor_pattern(estimates, alpha=alpha)
    for key, part in pattern.groupby("model_key", sort=False):
        hits = part.variant[part.pattern]
        parts.append(pd.DataFrame([{
            "claim": CLAIMS["all_positive"], "scope": f"{key}, every panel",
            "evidence": f"all three significantly positive in {len(hits)} of {len(part)} panels"
                        + (f" ({', '.join(hits)})" if len(hits) else ""),
            "supported": count_verdict(len(hits), len(part))}]))
    return pd.concat(parts, ignore_index=True)
