"""The ``stata`` convention against Stata 13 itself: every pooled OLS (``regress``) and one-way
fixed-effects (``xtreg, fe``) run in the reference file, for each ``vce`` (conventional,
robust, cluster by firm), unweighted and with ``[aweight=w]``, on complete data and with
missing values (``_light``, ``_heavy``: listwise deletion), must give Stata's coefficients,
t statistics, p-values and variance matrix to the digits Stata printed.

The reference files are read in place from ``STATA_DIR`` (see its PROVENANCE.md). Without
them these tests skip, except where ``CITYDIP_REQUIRE_DATA=1``, where they fail.

Tolerances. Stata printed estimates and t statistics in a 12-character field: at least 10
significant digits for every number compared here (checked by
``test_printed_precision_is_within_the_tolerance``), so printing alone leaves a relative error
below 1e-9. ``RTOL = 1e-9`` is therefore Stata's printed precision, with room for the
rounding differences between two least-squares solvers; it is far below what a wrong
small-sample convention moves (even (N-1)/N at N = 3000 shifts a t statistic by 2e-4).
p-values and variances are printed with fewer digits (as few as 5 significant digits in
``e-`` notation), so they are compared to half a unit in their last printed digit (plus
``RTOL`` relative).
"""

from __future__ import annotations

import itertools
import os
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from citydip.estimation import fit
from citydip.estimation.spec import ModelSpec
from tests.estimation import stata

STATA_DIR = Path(__file__).resolve().parents[3] / "shared" / "reference" / "stata_xtreg"

#: Relative tolerance for estimates and t statistics: Stata's printed precision (module docstring).
RTOL = 1e-9

ESTIMATORS = ("pooled", "fixed_effect")
VCES = ("conventional", "robust", "cluster")
WEIGHTS = ("", "weighted")
VARIANTS = ("", "_light", "_heavy")
SECTIONS = list(itertools.product(ESTIMATORS, VCES, WEIGHTS, VARIANTS))
VCOV = {"conventional": "iid", "robust": "hetero", "cluster": "cluster"}
REGRESSORS = ("x1", "x2", "x3", "x4", "x5")


@pytest.fixture(scope="module")
def stata_dir() -> Path:
    if not (STATA_DIR / stata.RESULTS_FILE).is_file() or not (STATA_DIR / stata.DATA_FILE).is_file():
        message = f"Stata reference results not found in {STATA_DIR}"
        if os.environ.get("CITYDIP_REQUIRE_DATA") == "1":
            pytest.fail(message)
        pytest.skip(message)
    return STATA_DIR


@pytest.fixture(scope="module")
def sections(stata_dir: Path) -> dict[tuple[str, str, str, str], stata.Section]:
    return stata.parse(stata_dir / stata.RESULTS_FILE)


@pytest.fixture(scope="module")
def panel(stata_dir: Path) -> pd.DataFrame:
    return pd.read_stata(stata_dir / stata.DATA_FILE)


def spec_for(key: tuple[str, str, str, str], convention: str = "stata") -> ModelSpec:
    estimator, vce, weights, variant = key
    return ModelSpec(
        name="-".join(key), family="ols", depvar=f"y{variant}",
        regressors=tuple(f"{x}{variant}" for x in REGRESSORS),
        fixed_effects=("firm",) if estimator == "fixed_effect" else (),
        vcov=VCOV[vce], cluster="firm", convention=convention, weights="w" if weights else None,
        unit="firm", time="time",
    )


def compared_terms(section: stata.Section) -> dict[str, str]:
    """Stata's term -> ours. ``regress`` reports ``_cons`` (pyfixest: ``Intercept``). The
    ``_cons`` of ``xtreg, fe`` is the weighted grand mean of y less that of the regressors
    times the slopes, not a parameter of the within model: pyfixest absorbs it into the unit
    effects, so only the slopes are compared."""
    terms = {name: name for name in section.coefficients if name != "_cons"}
    if section.estimator == "pooled":
        terms["_cons"] = "Intercept"
    return terms


def _close(ours: float, printed: stata.Number, *, resolution: bool) -> bool:
    tolerance = RTOL * abs(printed.value) + (printed.resolution if resolution else 0.0)
    return abs(ours - printed.value) <= tolerance


# -- the reference file --------------------------------------------------------------------------
def test_reference_file_holds_exactly_the_sections_tested(sections):
    tested = {key for key in sections if key[0] in ESTIMATORS}
    assert tested == set(SECTIONS)
    assert {key[0] for key in sections} == {"pooled", "fixed_effect", "between", "random_effect"}


def test_parser_reads_estimates_scalars_and_variance(sections):
    pooled = sections[("pooled", "cluster", "", "")]
    assert pooled.coefficients["x1"].estimate.value == 0.23022942233
    assert pooled.coefficients["x1"].t.value == 7.0473011908
    fe = sections[("fixed_effect", "cluster", "", "")]
    assert fe.coefficients["x1"].estimate.value == 0.28022361411
    assert fe.coefficients["x1"].t.value == 8.2791010289
    assert fe.scalar("N") == 3000 and fe.scalar("N_g") == 1000 and fe.scalar("df_r") == 999
    assert fe.scalars["F_f"] is None
    for key in SECTIONS:
        section = sections[key]
        names = [f"{x}{key[3]}" for x in REGRESSORS] + ["_cons"]
        assert list(section.coefficients) == names, key
        assert all(c.p is not None for c in section.coefficients.values()), key
        assert list(section.variance.index) == names and list(section.variance.columns) == names, key
        assert np.allclose(section.variance, section.variance.T, rtol=0, atol=1e-11), key
        diagonal = np.sqrt(np.diag(section.variance))
        estimate = np.array([c.estimate.value for c in section.coefficients.values()])
        t = np.array([c.t.value for c in section.coefficients.values()])
        # t = b / sqrt(V_jj): the blocks were read in matching order (variance to its ~9 digits).
        assert np.allclose(estimate / diagonal, t, rtol=1e-7), key


def test_printed_precision_is_within_the_tolerance(sections):
    for key in SECTIONS:
        section = sections[key]
        for name in compared_terms(section):
            c = section.coefficients[name]
            for printed in (c.estimate, c.t):
                assert printed.resolution <= RTOL * abs(printed.value), (key, name, printed.text)


# -- Stata's numbers, section by section ---------------------------------------------------------
@pytest.mark.parametrize("key", SECTIONS, ids=["-".join(key) for key in SECTIONS])
def test_stata_convention_reproduces_stata(key, sections, panel):
    section = sections[key]
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # nothing may be dropped or adjusted silently
        result = fit(panel, spec_for(key))
    assert result.nobs == section.scalar("N")
    terms = compared_terms(section)
    assert set(result.coef.index) == set(terms.values())
    mismatches = []
    for stata_name, ours in terms.items():
        c = section.coefficients[stata_name]
        if not _close(result.coef[ours], c.estimate, resolution=False):
            mismatches.append(f"{ours} estimate {result.coef[ours]!r} vs {c.estimate.text}")
        if not _close(result.statistic[ours], c.t, resolution=False):
            mismatches.append(f"{ours} t {result.statistic[ours]!r} vs {c.t.text}")
        if not _close(result.p_value[ours], c.p, resolution=True):
            mismatches.append(f"{ours} p {result.p_value[ours]!r} vs {c.p.text}")
    names = list(terms)
    stata_v = section.variance.loc[names, names].to_numpy()
    resolution = section.variance_resolution.loc[names, names].to_numpy()
    ours_v = result.vcov.loc[[terms[n] for n in names], [terms[n] for n in names]].to_numpy()
    bad = np.abs(ours_v - stata_v) > resolution + RTOL * np.abs(stata_v)
    mismatches += [f"V[{names[i]}, {names[j]}] {ours_v[i, j]!r} vs {stata_v[i, j]!r}" for i, j in zip(*np.nonzero(bad))]
    assert not mismatches, "\n".join(mismatches)


# -- the two conventions differ where Stata differs from fixest ----------------------------------
def test_fixest_convention_stays_pyfixest_default(sections, panel):
    import pyfixest as pf

    key = ("fixed_effect", "robust", "", "_heavy")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = fit(panel, spec_for(key, convention="fixest"))
        columns = ["y_heavy", *(f"{x}_heavy" for x in REGRESSORS)]
        data = panel.dropna(subset=columns)
        direct = pf.feols(f"y_heavy ~ {' + '.join(columns[1:])} | firm", data=data, vcov="hetero")
    tidy = direct.tidy()
    assert result.nobs == direct._N < sections[key].scalar("N")  # singletons dropped
    np.testing.assert_allclose(result.coef.to_numpy(), tidy["Estimate"].to_numpy(), rtol=1e-12)
    np.testing.assert_allclose(result.statistic.to_numpy(), tidy["t value"].to_numpy(), rtol=1e-12)
    np.testing.assert_allclose(result.p_value.to_numpy(), tidy["Pr(>|t|)"].to_numpy(), rtol=1e-12)
    # ... which is HC1, not Stata's xtreg, fe vce(robust) (clustered by firm).
    stata_t = sections[key].coefficients["x1_heavy"].t.value
    assert abs(result.statistic["x1_heavy"] / stata_t - 1) > 1e-3
