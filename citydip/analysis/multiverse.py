"""The specification curve of notebook 08: every defensible combination of panel variant,
outcome, diplomacy measure, controls, fixed effects, sample and inference.

:func:`build_curve` fits the curve with :func:`citydip.estimation.speccurve.spec_curve` and
adds, per specification, whether it repeats an earlier one exactly (``duplicate``), the metros
its treatment rests on (``metros_identifying``, :func:`identifying_support`) and whether they
are fewer than ``min_metros`` (``thin``). The summaries (:func:`summary_by_treatment`,
:func:`summary_by_fixed_effects`, :func:`by_option`, :func:`choice_importance`), the check
against ``pyfixest.feols`` (:func:`feols_checks`), the curve-level null test
(:func:`curve_null_test`) and :func:`findings` (the "In short" sentences) work on its result.

CDP–ICLEI participation (:data:`CDP_TREATMENT`, ``cdp_any``) is a fifth treatment with
``build_curve(..., cdp=True)`` (notebook 08): the metro has a local government reporting to
CDP–ICLEI in the year. It exists for 2016–2021 only, so its specifications rest on those years
(on 2016–2019 in the 2005–2019 sample), and its "other diplomacy" controls are the panel's
three measures. The anchor's claims concern the three measures of the anchor paper and leave
it out (:func:`anchor_tables`).

Units: ``coefficient`` in log points of exports per one more tie, post or network, or for
``cdp_any`` for a year with a reporting local government against one without (``percent``
= 100 (exp(b) - 1)); shares are fractions of the estimated specifications; counts are
specifications (regression x inference), regressions or metros as named.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from citydip.analysis import anchor
from citydip.analysis.variation import within_variation
from citydip.estimation.catalogue import MEASURES
from citydip.estimation.spec import METRO, YEAR
from citydip.estimation.speccurve import (
    CHOICES,
    NULL_DRAWS,
    NULL_SEED,
    NullTest,
    size_class_samples,
    spec_curve,
    summarise,
)
from citydip.panel.cdp import MEASURE as CDP_MEASURE
from citydip.report.labels import term_label

DEFAULT = "default"
OUTCOMES = ("log_exports", "log_exports_per_capita")
#: Treatments in reporting order: the panel's three measures and the anchor's consulate measure.
TREATMENTS = ("sister_active", "consular_posts", "consulates_general", "networks_dated")
#: CDP–ICLEI participation, the treatment ``build_curve(..., cdp=True)`` adds (2016–2021 only;
#: its "other diplomacy" controls, :data:`CONTROLS`, are the panel's three measures).
CDP_TREATMENT = CDP_MEASURE
OTHER = "population + income + other diplomacy"
CONTROLS = {"none": [], "population": ["log_population"],
            "population + income": ["log_population", "log_per_capita_income"],
            "population + real GDP": ["log_population", "log_real_gdp"],
            OTHER: ["log_population", "log_per_capita_income", *MEASURES]}
#: Controls of consulates general: its "other diplomacy" are sister ties and networks (consulates
#: general are consular posts).
CONSULATES_GENERAL_CONTROLS = {**CONTROLS, OTHER: ["log_population", "log_per_capita_income", "sister_active",
                                                   "networks_dated"]}
FIXED_EFFECTS = {"metro + year": ["cbsa_code", "year"], "year": ["year"], "metro": ["cbsa_code"]}
VCOV = ("CRV1", "hetero")
#: Specifications whose treatment is nonzero (or changes) in fewer metros are ``thin``.
MIN_METROS = 5
#: Choices of a regression (the inference choice excepted), and those shown beneath the curves.
REGRESSION = [d for d in CHOICES if d != "vcov"]
DIMENSIONS = ("data", "outcome", "controls", "fixed_effects", "sample")
#: Readable names of the choices.
CHOICE_NAMES = {"fixed_effects": "fixed effects"}


# -- the choices ------------------------------------------------------------------------------------------
def prepare(frame: pd.DataFrame) -> pd.DataFrame:
    """The panel with ``log_exports_per_capita`` (log US$ per person; missing where exports are
    missing or zero)."""
    with np.errstate(divide="ignore"):
        return frame.assign(log_exports_per_capita=np.log(frame.exports_per_capita_usd))


def samples(panel: pd.DataFrame) -> dict:
    """The sample choice: all metro-years, each size class, 2005-2019 (the anchor's years),
    and, only where ``panel`` has delineation breaks, the metro-years without one."""
    return {"all": None, **size_class_samples(), "2005-2019": "year <= 2019",
            **({"no boundary break": "~exports_boundary_break"} if panel.exports_boundary_break.any() else {})}


def sample_mask(frame: pd.DataFrame, rule) -> np.ndarray:
    """Rows of ``frame`` selected by a sample rule of :func:`spec_curve` (None, an ``eval``
    expression, a callable or booleans)."""
    if rule is None:
        return np.ones(len(frame), bool)
    result = frame.eval(rule) if isinstance(rule, str) else rule(frame) if callable(rule) else rule
    if isinstance(result, pd.Series):
        return result.to_numpy(dtype=bool, na_value=False)
    return np.asarray(result, dtype=bool)


def identifying_support(panels: Mapping[str, pd.DataFrame], samples: Mapping[str, object],
                        treatments: Sequence[str] = TREATMENTS, outcome: str = "log_exports") -> pd.DataFrame:
    """Per panel, sample and treatment, on the sample's metro-years with an ``outcome`` value:
    ``nonzero``, the metros whose treatment is positive in some year (what an across-metro
    comparison rests on), and ``changing``, the metros whose treatment changes (what a
    within-metro comparison rests on), from :func:`within_variation`."""
    rows = []
    for name, frame in panels.items():
        for label, rule in samples.items():
            kept = frame[sample_mask(frame, rule) & frame[outcome].notna().to_numpy()]
            within = within_variation(kept, treatments)
            rows += [{"data": name, "sample": label, "treatment": r.measure, "nonzero": r.metros_with_any,
                      "changing": r.metros_that_change} for r in within.itertuples()]
    return pd.DataFrame(rows, columns=["data", "sample", "treatment", "nonzero", "changing"])


@dataclass
class Multiverse:
    """A fitted specification curve with its support. ``specifications``: one row per
    specification (every inference), ordered by the declaration order of each choice, with
    ``spec_id``, the curve's results, ``percent``, ``duplicate``, ``metros_identifying`` and
    ``thin``; ``options``: each choice's options in declaration order; ``min_metros``: the
    threshold of ``thin``."""

    specifications: pd.DataFrame
    options: dict[str, list[str]]
    min_metros: int

    @property
    def clustered(self) -> pd.DataFrame:
        """The specifications with metro-clustered standard errors (one per regression)."""
        return self.specifications[self.specifications.vcov == "CRV1"]

    @property
    def estimated(self) -> pd.DataFrame:
        """The clustered specifications with an estimate."""
        clustered = self.clustered
        return clustered[clustered.coefficient.notna()]

    @property
    def dimensions(self) -> list[str]:
        """The choices of :data:`DIMENSIONS` with more than one option."""
        return [d for d in DIMENSIONS if len(self.options[d]) > 1]


def build_curve(panels: Mapping[str, pd.DataFrame], samples: Mapping[str, object], *,
                min_metros: int = MIN_METROS, fixed_effects: Mapping[str, Sequence[str]] = FIXED_EFFECTS,
                vcov: Sequence[str] = VCOV, cdp: bool = False) -> Multiverse:
    """Every specification of notebook 08 on ``panels`` (name -> :func:`prepare`-d panel).

    The three measures of the panel are fitted in one curve (each left out of the "other
    diplomacy" controls when it is the treatment), consulates general in a second with
    :data:`CONSULATES_GENERAL_CONTROLS`, and with ``cdp`` CDP participation
    (:data:`CDP_TREATMENT`) in a third with :data:`CONTROLS` (its specifications use the
    metro-years where it exists, 2016-2021); log exports per capita is kept without controls only
    (with population controlled it repeats log exports exactly). ``duplicate``: same
    treatment, inference, estimate and standard error (to 1e-9) and N as an earlier
    specification. ``metros_identifying``: :func:`identifying_support`'s ``changing`` under
    fixed effects that include the metro, else ``nonzero``; ``thin``: fewer than
    ``min_metros``."""
    shared = dict(outcomes=list(OUTCOMES), fixed_effects=dict(fixed_effects), samples=dict(samples), vcov=list(vcov))
    curves = [spec_curve(panels, treatments=list(MEASURES), controls=CONTROLS, **shared),
              spec_curve(panels, treatments="consulates_general", controls=CONSULATES_GENERAL_CONTROLS, **shared)]
    treatments = [*TREATMENTS, *([CDP_TREATMENT] if cdp else [])]
    if cdp:
        curves.append(spec_curve(panels, treatments=CDP_TREATMENT, controls=CONTROLS, **shared))
    options = {**curves[0].options, "treatment": treatments}
    rank = {d: {o: i for i, o in enumerate(options[d])} for d in CHOICES}
    tidy = pd.concat([c.tidy() for c in curves], ignore_index=True).query(
        "outcome == 'log_exports' or controls == 'none'")
    tidy = (tidy.iloc[np.lexsort([tidy[d].map(rank[d]) for d in reversed(CHOICES)])].reset_index(drop=True)
            .assign(spec_id=lambda d: np.arange(len(d)), percent=lambda d: 100 * np.expm1(d.coefficient)))
    key = [tidy.treatment, tidy.vcov, tidy.coefficient.round(9), tidy.std_error.round(9), tidy.nobs]
    tidy["duplicate"] = tidy.coefficient.notna() & pd.concat(key, axis=1).duplicated()
    support = identifying_support(panels, samples, treatments)
    tidy = tidy.merge(support, on=["data", "sample", "treatment"], how="left", validate="m:1")
    within = tidy.fixed_effects.map(lambda f: "cbsa_code" in fixed_effects[f])
    tidy["metros_identifying"] = np.where(within, tidy.changing, tidy.nonzero)
    tidy = tidy.drop(columns=["nonzero", "changing"]).assign(thin=lambda d: d.metros_identifying < min_metros)
    return Multiverse(tidy, options, min_metros)


def specifications_table(mv: Multiverse) -> pd.DataFrame:
    """One row per regression: the clustered specification (without ``vcov`` and ``spec_id``)
    with the heteroskedasticity-robust ``std_error_hetero`` and ``p_value_hetero``."""
    tidy = mv.specifications
    return (mv.clustered.drop(columns=["vcov", "spec_id"])
            .merge(tidy.loc[tidy.vcov == "hetero", [*REGRESSION, "std_error", "p_value"]], on=REGRESSION,
                   suffixes=("", "_hetero"), validate="1:1"))


@dataclass
class CurveCounts:
    """Regressions (clustered specifications), those estimated, the distinct estimates among
    them, the thin ones and the thin ones significant at 5%; why the others were not
    estimated (note -> regressions)."""

    panels: int
    regressions: int
    specifications: int
    estimated: int
    distinct: int
    thin: int
    thin_significant: int
    not_estimated: pd.Series


def curve_counts(mv: Multiverse, alpha: float = 0.05) -> CurveCounts:
    """See :class:`CurveCounts`."""
    clustered, estimated = mv.clustered, mv.estimated
    reasons = clustered.loc[clustered.coefficient.isna(), "note"].str.extract(
        r"([^;]*not estimated[^;]*)")[0].str.strip()
    thin = estimated[estimated.thin]
    return CurveCounts(len(mv.options["data"]), len(clustered), len(mv.specifications), len(estimated),
                       int((~estimated.duplicate).sum()), len(thin), int((thin.p_value < alpha).sum()),
                       reasons.value_counts())


def describe(mv: Multiverse, fixed_effects: Mapping = FIXED_EFFECTS, vcov: Sequence[str] = VCOV) -> list[str]:
    """The size of the curve, in words (:func:`curve_counts`)."""
    c, o = curve_counts(mv), mv.options
    lines = [f"{c.regressions:,} regressions ({c.panels} panel(s) x {len(o['treatment'])} treatments x [log exports "
             f"with {len(o['controls'])} control sets + log exports per capita without controls] x "
             f"{len(fixed_effects)} fixed-effect structures x {len(o['sample'])} samples), each with {len(vcov)} kinds "
             f"of standard errors: {c.specifications:,} specifications",
             f"Estimated: {c.estimated:,} of {c.regressions:,} regressions; of these, {c.distinct:,} give distinct "
             f"estimates (the others repeat an earlier one exactly)"]
    lines += [f"- not estimated ({n}): {note}" for note, n in c.not_estimated.items()]
    lines.append(f"Resting on fewer than {mv.min_metros} metros (treatment nonzero, or changing, in so few): "
                 f"{c.thin:,} of {c.estimated:,} estimated regressions, of which {c.thin_significant:,} significant "
                 f"at 5% (clustered standard errors are unreliable with so few metros carrying the treatment)")
    return lines


# -- a check against pyfixest ------------------------------------------------------------------------------------
#: (formula, pyfixest vcov, sample, the curve's choices) of the specifications checked against feols.
CHECKS = [("log_exports ~ consular_posts + log_population | cbsa_code + year", {"CRV1": "cbsa_code"}, "all",
           dict(outcome="log_exports", treatment="consular_posts", controls="population",
                fixed_effects="metro + year", vcov="CRV1")),
          ("log_exports_per_capita ~ sister_active | year", "hetero", "all",
           dict(outcome="log_exports_per_capita", treatment="sister_active", controls="none", fixed_effects="year",
                vcov="hetero")),
          ("log_exports ~ consulates_general + log_population + log_per_capita_income + sister_active + networks_dated"
           " | year", {"CRV1": "cbsa_code"}, "mid",
           dict(outcome="log_exports", treatment="consulates_general", controls=OTHER, fixed_effects="year",
                vcov="CRV1"))]


def feols_checks(panel: pd.DataFrame, specifications: pd.DataFrame, checks: Sequence = CHECKS,
                 data: str = DEFAULT) -> pd.DataFrame:
    """Each check's specification of panel ``data`` against ``pyfixest.feols`` on ``panel``
    (sample ``"all"`` or a size class): coefficient, standard error and N of both (N of feols
    from its public residuals), and ``matches`` (coefficient to rtol 1e-8, standard error to
    1e-6, same N)."""
    import pyfixest as pf

    rows = []
    for formula, vcov, sample, choice in checks:
        frame = panel if sample == "all" else panel[panel.size_class == sample]
        ref = pf.feols(formula, data=frame, vcov=vcov, demeaner=pf.MapDemeaner(fixef_tol=1e-12))
        mine = specifications[(specifications.data == data) & (specifications["sample"] == sample)
                              & np.logical_and.reduce([specifications[k] == v for k, v in choice.items()])]
        if len(mine) != 1:
            raise ValueError(f"{len(mine)} specifications match the check {formula!r} ({choice})")
        mine, x = mine.iloc[0], choice["treatment"]
        row = {"formula": formula, "vcov": choice["vcov"], "sample": sample,
               "curve_coefficient": mine.coefficient, "feols_coefficient": ref.coef()[x],
               "curve_std_error": mine.std_error, "feols_std_error": ref.se()[x],
               "curve_nobs": int(mine.nobs), "feols_nobs": len(ref.resid())}
        row["matches"] = bool(np.isclose(row["curve_coefficient"], row["feols_coefficient"], rtol=1e-8)
                              and np.isclose(row["curve_std_error"], row["feols_std_error"], rtol=1e-6)
                              and row["curve_nobs"] == row["feols_nobs"])
        rows.append(row)
    return pd.DataFrame(rows)


# -- the curve in numbers --------------------------------------------------------------------------------------------
def _with_percent(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.assign(median_percent=100 * np.expm1(frame.median_estimate))


def inference_labels(min_metros: int) -> dict[str, str]:
    """Key -> label of the rows of :func:`summary_by_treatment`."""
    return {"all": "clustered by metro", "distinct": "clustered, distinct estimates",
            "solid": f"clustered, {min_metros}+ metros", "hetero": "heteroskedasticity-robust"}


def summary_by_treatment(mv: Multiverse, alpha: float = 0.05) -> pd.DataFrame:
    """:func:`citydip.estimation.speccurve.summarise` by treatment (and ``median_percent``) over
    the clustered specifications, the distinct ones, those not ``thin``, and the
    heteroskedasticity-robust ones (column ``inference``)."""
    clustered, tidy = mv.clustered, mv.specifications
    label = inference_labels(mv.min_metros)
    return pd.concat(
        {label["all"]: summarise(clustered, alpha, by="treatment"),
         label["distinct"]: summarise(clustered[~clustered.duplicate], alpha, by="treatment"),
         label["solid"]: summarise(clustered[~clustered.thin], alpha, by="treatment"),
         label["hetero"]: summarise(tidy[tidy.vcov == "hetero"], alpha, by="treatment")},
        names=["inference"]).pipe(_with_percent).reset_index()


def summary_by_fixed_effects(mv: Multiverse, alpha: float = 0.05) -> pd.DataFrame:
    """:func:`summarise` by treatment and fixed effects (clustered), with ``median_percent``."""
    return summarise(mv.clustered, alpha, by=["treatment", "fixed_effects"]).pipe(_with_percent).reset_index()


def by_option(mv: Multiverse, alpha: float = 0.05) -> pd.DataFrame:
    """Per treatment, choice (:attr:`Multiverse.dimensions`) and option, over the estimated
    clustered specifications using it: their number, median, quartiles, share positive and
    share significantly positive at ``alpha``."""
    estimated, rows = mv.estimated, []
    for x in mv.options["treatment"]:
        part = estimated[estimated.treatment == x]
        for d in mv.dimensions:
            for o in mv.options[d]:
                g = part.coefficient[part[d] == o]
                rows.append({"treatment": x, "choice": d, "option": o, "specifications": len(g),
                             "median_estimate": g.median(), "q25": g.quantile(0.25), "q75": g.quantile(0.75),
                             "share_positive": (g > 0).mean(),
                             "share_significant_positive": ((g > 0) & (part.p_value[g.index] < alpha)).mean()})
    return pd.DataFrame(rows)


def choice_importance(mv: Multiverse) -> pd.DataFrame:
    """Per treatment and choice: the share of the variance of the estimates (estimated,
    clustered) explained by the choice (variance of the option means over the total variance,
    both over specifications, ddof 0), the range of its options' medians, and the options with
    the lowest and highest median."""
    estimated, rows = mv.estimated, []
    for x in mv.options["treatment"]:
        part = estimated[estimated.treatment == x]
        total = part.coefficient.var(ddof=0)
        for d in mv.dimensions:
            groups = part.groupby(d, sort=False).coefficient
            med = groups.median().reindex(mv.options[d])
            between = (groups.transform("mean") - part.coefficient.mean()).pow(2).mean()
            rows.append({"treatment": x, "choice": d, "variance_share": between / total if total > 0 else np.nan,
                         "median_range": med.max() - med.min(), "lowest_option": med.idxmin(),
                         "highest_option": med.idxmax()})
    return pd.DataFrame(rows)


# -- against the anchor ---------------------------------------------------------------------------------------------
@dataclass
class AnchorTables:
    """The anchor's claims against the curve: :func:`citydip.analysis.anchor.curve_signs`,
    :func:`~citydip.analysis.anchor.curve_ranking`, :func:`~citydip.analysis.anchor.curve_size_classes`
    and the verdicts of :func:`~citydip.analysis.anchor.claims_from_curve`."""

    signs: pd.DataFrame
    ranking: pd.DataFrame
    size_classes: pd.DataFrame
    claims: pd.DataFrame


def anchor_tables(mv: Multiverse, alpha: float = 0.05) -> AnchorTables:
    """See :class:`AnchorTables` (estimated clustered specifications; size classes as samples;
    the anchor paper's measures only: CDP participation, :data:`CDP_TREATMENT`, is left out)."""
    treatments = [x for x in mv.options["treatment"] if x != CDP_TREATMENT]
    estimated = mv.estimated[mv.estimated.treatment.isin(treatments)]
    signs = anchor.curve_signs(estimated, treatments, mv.min_metros, alpha)
    ranking = anchor.curve_ranking(estimated)
    classes = anchor.curve_size_classes(estimated, treatments, list(size_class_samples()), alpha)
    return AnchorTables(signs, ranking, classes, anchor.claims_from_curve(signs, ranking, classes))


# -- is the curve distinguishable from no association? --------------------------------------------------------------
@dataclass
class CurveTest:
    """The curve-level null test. ``groups``: the test of every group of specifications
    (:func:`null_groups`); ``test``: that of the first, the main test (the specifications
    with year effects pooled), which :func:`findings` reports; ``table``: per group and
    statistic (median estimate, share significant, Stouffer's z) the specifications, the
    direction of the median, the observed value, null median and 95th percentile, p-value,
    its Monte Carlo standard error, the draws at least as extreme, and the method, draws and
    seed; ``exceeded`` and ``monte_carlo_se``: of the main test's median and share (the
    statistics :func:`findings` words; Stouffer's z and the other groups are in ``table``)."""

    test: NullTest
    specifications: int
    table: pd.DataFrame
    exceeded: pd.Series
    monte_carlo_se: pd.Series
    groups: NullTest | None = None

    @property
    def at_floor(self) -> list[str]:
        """Statistics no draw reached (p-value at its floor, 1 / (1 + draws))."""
        return [k for k in self.exceeded.index if self.exceeded[k] == 0]

    @property
    def unsettled(self) -> list[str]:
        """Statistics whose p-value lies within two Monte Carlo standard errors of 0.05."""
        p = (1 + self.exceeded) / (1 + self.test.draws)
        return [k for k in p.index if self.exceeded[k] > 0 and abs(p[k] - 0.05) < 2 * self.monte_carlo_se[k]]


def null_groups(fixed_effects: Mapping[str, Sequence[str]] = FIXED_EFFECTS) -> dict[str, str]:
    """The groups of :func:`curve_null_test` (label -> selection of the curve's
    specifications): first the fixed-effect structures with year effects pooled, the main
    test; then each structure on its own, the metro-only one (which leaves the national trend
    and inflation in, against trending stocks of ties, posts and memberships) named as such
    and never pooled with the others."""
    with_year = [k for k, cols in fixed_effects.items() if YEAR in cols]
    groups = {f"pooled ({', '.join(with_year)})": f"fixed_effects in {with_year!r}"} if len(with_year) > 1 else {}
    for k, cols in fixed_effects.items():
        groups["metro only" if list(cols) == [METRO] else k] = f"fixed_effects == {k!r}"
    return groups


def curve_null_test(panel: pd.DataFrame, samples: Mapping[str, object], *, draws: int = NULL_DRAWS,
                    seed: int = NULL_SEED, method: str = "bootstrap", treatments: Sequence[str] = MEASURES,
                    controls: Mapping = CONTROLS, fixed_effects: Mapping = FIXED_EFFECTS,
                    groups: Mapping[str, object] | None = None) -> CurveTest:
    """:meth:`citydip.estimation.speccurve.SpecCurve.null_test` (``draws``, default 999;
    ``method``, default the wild cluster restricted bootstrap; ``seed``) of the curve of log
    exports on ``treatments`` on one panel with every control set, fixed-effect structure
    and sample, metro-clustered, by group (default :func:`null_groups`)."""
    curve = spec_curve(panel, outcomes="log_exports", treatments=list(treatments), controls=controls,
                       fixed_effects=fixed_effects, samples=samples, vcov="CRV1")
    null = curve.null_test(draws=draws, method=method, seed=seed,
                           groups=null_groups(fixed_effects) if groups is None else groups)
    summary = null.summary()
    table = summary.reset_index()[["group", "statistic", *summary.columns.drop("group")]].assign(
        method=null.method, draws=null.draws, seed=null.seed)
    main = null.group(null.groups.index[0])
    worded = main.summary().loc[["median_estimate", "share_significant"]]
    return CurveTest(main, len(curve.results), table, worded.exceeded, worded.monte_carlo_se, null)


def synthetic_check(mv: Multiverse, truth: Mapping[str, float], measures: Sequence[str] = MEASURES,
                    fixed_effects: str = "metro + year", sample: str = "all") -> pd.DataFrame:
    """On a synthetic panel (true effects in ``truth``: provenance's ``synthetic_truth``), per
    measure: the true coefficient, the median of the estimated clustered specifications with
    ``fixed_effects`` on ``sample``, and the share of their 95% intervals covering the truth.
    CDP participation (:data:`CDP_TREATMENT`) has true effect 0 when the synthetic panel's
    ``beta_cdp`` (per reporting local government) is 0, as by default, else none (NaN)."""
    true = {"sister_active": truth["beta_sister"], "consular_posts": truth["beta_consulate"],
            "networks_dated": truth["beta_network"],
            CDP_TREATMENT: 0.0 if truth.get("beta_cdp", 0.0) == 0 else np.nan}
    est = mv.estimated
    part = est[(est.fixed_effects == fixed_effects) & (est["sample"] == sample)]
    rows = []
    for m in measures:
        x = part[part.treatment == m]
        rows.append({"measure": m, "true": true[m], "median_estimate": x.coefficient.median(),
                     "coverage": ((x.conf_low <= true[m]) & (x.conf_high >= true[m])).mean(),
                     "specifications": len(x)})
    return pd.DataFrame(rows)


# -- in short ---------------------------------------------------------------------------------------------------------
def findings(mv: Multiverse, null: CurveTest, truth: Mapping[str, float] | None = None,
             alpha: float = 0.05) -> list[str]:
    """The notebook's conclusions as a bulleted list (one ``"- "`` line each, details indented):
    counts (:func:`curve_counts`); per treatment the summaries (:func:`summary_by_treatment`,
    :func:`summary_by_fixed_effects`) and the choice that moves it most
    (:func:`choice_importance`, :func:`by_option`); the anchor's claims (:func:`anchor_tables`);
    the null test; on synthetic data (``truth``) the recovery of the true effects
    (:func:`synthetic_check`)."""
    c, n = curve_counts(mv, alpha), mv.min_metros
    label = inference_labels(n)
    treatment = summary_by_treatment(mv, alpha)
    s, d, w, h = (treatment[treatment.inference == label[k]].set_index("treatment")
                  for k in ("all", "distinct", "solid", "hetero"))
    by_fe = summary_by_fixed_effects(mv, alpha)
    importance = choice_importance(mv).set_index(["treatment", "choice"])
    medians = by_option(mv, alpha).set_index(["treatment", "choice", "option"]).median_estimate
    lines = [f"{c.estimated:,} of {c.regressions:,} regressions estimated on {c.panels} panel(s); {c.distinct:,} "
             f"distinct estimates; {c.thin:,} rest on fewer than {n} metros."]
    for x in mv.options["treatment"]:
        r = s.loc[x]
        lines.append(
            f"{term_label(x)}: median {r.median_estimate:+.4f} ({r.median_percent:+.2f}% exports per one more); "
            f"positive in {r.share_positive:.0%} of specifications, significantly positive in "
            f"{r.share_significant_positive:.0%}, significantly negative in {r.share_significant_negative:.0%}. "
            f"Distinct estimates only: {d.loc[x].share_significant_positive:.0%} significantly positive; resting on "
            f"{n}+ metros: {w.loc[x].share_significant_positive:.0%}. Heteroskedasticity-robust standard errors "
            f"would call {h.loc[x].share_significant:.0%} significant, against {r.share_significant:.0%} clustered.")
        fe = by_fe[by_fe.treatment == x].set_index("fixed_effects")
        lines.append("    By fixed effects: " + "; ".join(
            f"{k}: median {fe.loc[k].median_estimate:+.4f}, positive {fe.loc[k].share_positive:.0%}, significantly "
            f"positive {fe.loc[k].share_significant_positive:.0%}" for k in fe.index) + ".")
        top = importance.loc[x].median_range.idxmax()
        q = importance.loc[(x, top)]
        lines.append(f"    Moved most by the {CHOICE_NAMES.get(top, top)} choice: option medians from "
                     f"{medians[(x, top, q.lowest_option)]:+.4f} ({q.lowest_option}) to "
                     f"{medians[(x, top, q.highest_option)]:+.4f} ({q.highest_option}); it explains "
                     f"{q.variance_share:.0%} of the variance of the estimates.")
    for claim in anchor_tables(mv, alpha).claims.itertuples():
        lines.append(f"Anchor claim '{claim.claim}' ({claim.scope}): {claim.evidence}. Supported: {claim.supported}.")
    ns, t = null.test.summary(), null.test
    words = {"median_estimate": "the median", "share_significant": "the share significant"}
    floor, unsettled = [words[k] for k in null.at_floor], [words[k] for k in null.unsettled]
    lines.append(
        f"Curve-level test ({t.draws} {t.method} draws, default panel, three measures): observed median "
        f"{ns.loc['median_estimate', 'observed']:+.4f} (null 95th percentile "
        f"{ns.loc['median_estimate', 'null_p95']:+.4f}, p = {ns.p_value['median_estimate']:.3f}); share significant "
        f"in that direction {ns.loc['share_significant', 'observed']:.0%} (null median "
        f"{ns.loc['share_significant', 'null_median']:.0%}, "
        f"95th percentile {ns.loc['share_significant', 'null_p95']:.0%}, p = {ns.p_value['share_significant']:.3f}). "
        f"Null draws at least as extreme: {null.exceeded['median_estimate']} and {null.exceeded['share_significant']} "
        f"of {t.draws} (Monte Carlo standard errors of the p-values {null.monte_carlo_se['median_estimate']:.3f} and "
        f"{null.monte_carlo_se['share_significant']:.3f})"
        + (f"; no draw reached the observed {' and '.join(floor)} (p at its floor, 1 / (1 + draws))" if floor else "")
        + (f"; too few draws to tell on which side of 0.05 the p-value of {' and '.join(unsettled)} lies"
           if unsettled else "") + ".")
    if truth is not None:
        check = synthetic_check(mv, truth, [m for m in (*MEASURES, CDP_TREATMENT) if m in mv.options["treatment"]])
        lines.append("Synthetic check, true coefficient vs median of the metro + year specifications on all "
                     "metro-years (share of their 95% intervals covering it): " + "; ".join(
                         f"{term_label(r.measure)} {r.true:.3f} vs {r.median_estimate:.3f} ({r.coverage:.0%})"
                         for r in check.itertuples()))
    return [line if line.startswith(" ") else f"- {line}" for line in lines]
