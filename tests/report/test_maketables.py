"""A citydip fit, a pyfixest model and a statsmodels OLS in one maketables table: the numbers
printed are the fits' own, the stars follow the p-values, the note states the inference rule."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest
from scipy import stats

import citydip
from citydip.config import PANEL_YEARS
from citydip.estimation.conventions import RULES
from citydip.report.maketables_adapter import rule_key
from citydip.report.tables import format_number, model_table, significance_stars

HEADS = ["citydip", "pyfixest", "statsmodels"]


@pytest.fixture(scope="module")
def fits():
    """Planted truth: y = 0.5 x + 0 z + metro effect + noise, 40 metros by 8 years."""
    import pyfixest as pf
    import statsmodels.api as sm

    rng = np.random.default_rng(11)
    metros, years = 40, 8
    frame = pd.DataFrame({"cbsa_code": np.repeat([f"{10000 + i}" for i in range(metros)], years),
                          "year": np.tile(np.array(PANEL_YEARS[:years]), metros)})
    frame["x"] = rng.normal(size=len(frame))
    frame["z"] = rng.normal(size=len(frame))
    frame["y"] = 0.5 * frame.x + rng.normal(size=metros).repeat(years) + rng.normal(size=len(frame))
    ours = citydip.fit("y ~ x + z | cbsa_code + year", frame)
    theirs = pf.feols("y ~ x + z | year", frame)
    ols = sm.OLS(frame.y, sm.add_constant(frame[["x", "z"]])).fit()
    return ours, theirs, ols


def _expected(fits) -> dict[str, dict[str, tuple[float, float, float]]]:
    """term -> column -> (estimate, std. error, p-value), straight from each package."""
    ours, theirs, ols = fits
    out: dict[str, dict] = {}
    for head, (b, se, p) in zip(HEADS, [(ours.coef, ours.se, ours.p_value),
                                        (theirs.coef(), theirs.se(), theirs.pvalue()),
                                        (ols.params, ols.bse, ols.pvalues)]):
        for term in b.index:
            out.setdefault("Constant" if term == "const" else term, {})[head] = (b[term], se[term], p[term])
    return out


def _cell(estimate: float, error: float, p: float) -> tuple[str, str]:
    return format_number(estimate) + "*" * significance_stars(p), f"({format_number(error)})"


def test_citydip_p_values_follow_the_inference_rule(fits):
    """An independent check of what the stars rest on: t(G - 1) for metro clusters."""
    ours = fits[0]
    t = ours.coef / ours.se
    expected = 2 * stats.t.sf(np.abs(t), ours.n_clusters - 1)
    np.testing.assert_allclose(ours.p_value.to_numpy(), expected, rtol=1e-6, atol=1e-12)
    assert ours.inference_rule() == "cluster" and RULES["cluster"].df == "G - 1"
    assert ours.p_value["x"] < 0.01 and ours.p_value["z"] > 0.10  # the planted effect, and none


def test_plain_maketables_reads_a_citydip_fit(fits):
    import maketables

    ours, theirs, _ = fits
    table = maketables.ETable([ours, theirs])
    text = table.make(type="tex")
    assert f"{ours.coef['x']:.3f}***" in text and f"({ours.se['x']:.3f})" in text
    assert f"{theirs.coef()['x']:.3f}" in text


def test_latex_has_every_fit_number_stars_fixed_effects_and_nobs(fits):
    table = model_table(list(fits), heads=HEADS)
    tex = table.to_latex()
    assert r"\toprule" in tex and r"\midrule" in tex and r"\bottomrule" in tex
    rows = {}
    for line in tex.splitlines():
        if " & " in line and line.endswith(r"\\"):
            label, *cells = [c.strip() for c in line[:-2].split(" & ")]
            rows[label] = cells
    for term, by_head in _expected(fits).items():
        for k, head in enumerate(HEADS):
            if head in by_head:
                estimate, error = _cell(*by_head[head])
                assert rows[term][k] == rf"\makecell{{{estimate} \\ {error}}}", (term, head)
            else:
                assert rows[term][k] == "", (term, head)
    assert rows["N"] == [f"{fits[0].nobs:,}", f"{fits[1]._N:,}", f"{int(fits[2].nobs):,}"]
    assert rows["Metro"] == ["x", "-", "-"] and rows["Year"] == ["x", "x", "-"]
    assert rows["p-values from"][0] == f"t({fits[0].n_clusters - 1})"


def test_html_has_every_fit_number(fits):
    html_text = model_table(list(fits), heads=HEADS).to_html()
    cells = re.findall(r'<th scope="row"[^>]*>([^<]*)</th>((?:\s*<td[^>]*>[^<]*(?:<br>[^<]*)?</td>)+)', html_text)
    rows = {label: [re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", td)).strip()
                    for td in re.findall(r"<td[^>]*>(.*?)</td>", tds)] for label, tds in cells}
    for term, by_head in _expected(fits).items():
        for k, head in enumerate(HEADS):
            want = " ".join(_cell(*by_head[head])) if head in by_head else ""
            assert rows[term][k] == want, (term, head)
    assert rows["Metro"] == ["x", "-", "-"]


def test_note_states_stars_and_the_rule_of_the_citydip_column_only(fits):
    note = model_table(list(fits), heads=HEADS).note()
    assert "* p < 0.10, ** p < 0.05, *** p < 0.01" in note
    assert f"t({RULES['cluster'].df}) for cluster(metro) (1)" in note
    assert "as computed by the model's package (2), (3)" in note


def test_word_and_typst_outputs(fits, tmp_path):
    import docx

    table = model_table(list(fits), heads=HEADS)
    path = table.write(tmp_path / "mixed.docx")
    text = " ".join(cell.text for t in docx.Document(str(path)).tables for row in t.rows for cell in row.cells)
    estimate, error = _cell(*_expected(fits)["x"]["citydip"])
    assert estimate in text and error in text
    typst = table.write(tmp_path / "mixed.typ").read_text()
    assert estimate.replace("*", r"\*") in typst and "#table(" in typst


@pytest.mark.parametrize(("vcov", "family"), [("cluster", "ols"), ("twoway", "ols"), ("hetero", "ols"),
                                              ("iid", "ols"), ("driscoll_kraay", "ols"), ("wild", "ols"),
                                              ("cluster", "poisson"), ("hetero", "between")])
def test_rule_key_of_a_tidy_row_is_the_rule_of_its_spec(vcov, family):
    from citydip.estimation import ModelSpec
    from citydip.estimation.conventions import rule

    spec = ModelSpec("m", family, "y", ("x",), vcov=vcov,
                     fixed_effects=() if family == "between" else ("cbsa_code", "year"))
    assert rule_key(spec.vcov_label, family) == rule(spec).vcov
