"""Regression tables (through maketables): cell placement, stars at their boundaries, the formats, writes."""

from __future__ import annotations

import math
import os
import re
from html.parser import HTMLParser

import pandas as pd
import pytest

from citydip import atomic as _io
from citydip.errors import CitydipError
from citydip.estimation.conventions import RULES
from citydip.report import regression_table, term_label
from citydip.report.tables import (
    format_number,
    latex_escape,
    model_table,
    significance_stars,
)


def _rows(model, terms, nobs=1700, fixed_effects="cbsa_code+year", vcov="cluster(cbsa_code)", family="ols",
          depvar="log_exports", df_t=99):
    return pd.DataFrame([{"model": model, "term": t, "estimate": b, "std_error": se, "statistic": b / se,
                          "p_value": p, "conf_low": b - 1.96 * se, "conf_high": b + 1.96 * se, "nobs": nobs,
                          "fixed_effects": fixed_effects, "vcov_type": vcov, "family": family, "depvar": depvar,
                          "convention": "fixest", "df_t": df_t, "reference": "t"} for t, b, se, p in terms])


@pytest.fixture
def tidy() -> pd.DataFrame:
    """Two models: 'FE' (sister_active, consular_posts) and 'Between' (sister_active, const)."""
    fe = _rows("FE", [("sister_active", 0.01234, 0.00411, 0.003), ("consular_posts", -0.5, 0.2, 0.03)])
    between = _rows("Between", [("sister_active", 0.02, 0.015, 0.2), ("const", 1.5, 0.8, 0.07)], nobs=100,
                    fixed_effects="none", vcov="HC1", family="between", df_t=97)
    return pd.concat([fe, between], ignore_index=True)


def parse_markdown(text: str) -> tuple[list[str], list[list[str]]]:
    """Header cells and body rows of the first pipe table in ``text`` (alignment row skipped)."""
    lines = [line for line in text.splitlines() if line.startswith("|")]
    split = [[cell.strip().replace("\\|", "|") for cell in re.split(r"(?<!\\)\|", line)[1:-1]] for line in lines]
    assert set(lines[1].replace("|", "")) <= set(":-"), lines[1]
    return split[0], split[2:]


class TableParser(HTMLParser):
    """Rows of each table section as lists of cell texts."""

    def __init__(self) -> None:
        super().__init__()
        self.sections: list[tuple[str, list[list[str]]]] = []
        self.cell: list[str] | None = None
        self.stack: list[str] = []

    VOID = ("br", "col", "hr", "img", "input", "link", "meta")

    def handle_starttag(self, tag, attrs):
        if tag in self.VOID:
            return
        self.stack.append(tag)
        if tag in ("thead", "tbody", "tfoot"):
            self.sections.append((tag, []))
        elif tag == "tr":
            self.sections[-1][1].append([])
        elif tag in ("td", "th"):
            self.cell = []

    def handle_endtag(self, tag):
        assert self.stack and self.stack.pop() == tag, f"unbalanced </{tag}>"
        if tag in ("td", "th"):
            self.sections[-1][1][-1].append("".join(self.cell))
            self.cell = None

    def handle_data(self, data):
        if self.cell is not None:
            self.cell.append(data)


def test_markdown_puts_estimates_errors_and_stars_in_the_right_cells(tidy):
    header, rows = parse_markdown(regression_table(tidy).to_markdown())
    assert header == ["", "FE", "Between"]
    assert rows[0] == ["Outcome", "Log exports", "Log exports"]
    body = {(label or prev, kind): cells for label, cells, prev, kind in _pairs(rows[1:])}
    assert body[("Sister-city ties (active)", "estimate")] == ["0.012***", "0.020"]
    assert body[("Sister-city ties (active)", "se")] == ["(0.004)", "(0.015)"]
    assert body[("Consular posts", "estimate")] == ["-0.500**", ""]
    assert body[("Consular posts", "se")] == ["(0.200)", ""]
    assert body[("Constant", "estimate")] == ["", "1.500*"]
    assert body[("Constant", "se")] == ["", "(0.800)"]
    labels = [row[0] for row in rows[1:] if row[0]]
    assert labels[:3] == ["Sister-city ties (active)", "Consular posts", "Constant"]  # first appearance


def _pairs(rows):
    """(label, cells, label of the estimate row, 'estimate' | 'se') for the coefficient rows."""
    out, prev = [], None
    for row in rows:
        if row[0] and row[1:] and not row[1].startswith("("):
            prev = row[0]
            out.append((row[0], row[1:], prev, "estimate"))
        elif not row[0]:
            out.append(("", row[1:], prev, "se"))
    return out


def test_fixed_effect_and_statistics_rows(tidy):
    _, rows = parse_markdown(regression_table(tidy).to_markdown())
    stats = {row[0]: row[1:] for row in rows if row[0]}
    assert stats["Metro"] == ["x", "-"] and stats["Year"] == ["x", "-"]
    assert stats["N"] == ["1,700", "100"]
    assert stats["Std. errors"] == ["cluster(metro)", "HC1"]
    assert stats["Estimator"] == ["OLS", "Between (metro means)"]
    assert stats["p-values from"] == ["t(99)", "t(97)"]
    assert stats["Outcome"] == ["Log exports", "Log exports"]
    assert "Caution" not in stats


def test_columns_follow_the_frame_order_and_rows_the_given_terms(tidy):
    flipped = pd.concat([tidy[tidy.model == "Between"], tidy[tidy.model == "FE"]], ignore_index=True)
    header, _ = parse_markdown(regression_table(flipped).to_markdown())
    assert header == ["", "Between", "FE"]
    table = regression_table(tidy, models=["Between", "FE"], terms=["const", "sister_active"],
                             labels={"const": "Intercept"})
    header, rows = parse_markdown(table.to_markdown())
    assert header == ["", "Between", "FE"]
    assert [r[0] for r in rows[1:] if r[0]][:2] == ["Intercept", "Sister-city ties (active)"]
    assert rows[1][1:] == ["1.500*", ""]
    assert "Consular posts" not in table.to_markdown()
    with pytest.raises(CitydipError, match="nope"):
        regression_table(tidy, terms=["nope"])
    with pytest.raises(CitydipError, match="Missing"):
        regression_table(tidy, models=["Missing"])


@pytest.mark.parametrize(("p", "stars"), [(0.0, 3), (0.0099, 3), (0.01, 2), (0.0499, 2), (0.05, 1), (0.0999, 1),
                                          (0.10, 0), (0.5, 0)])
def test_stars_use_strict_inequalities(p, stars):
    """p < 0.01 is ***, p < 0.05 is **, p < 0.10 is *: a p-value equal to a threshold misses it."""
    assert significance_stars(p) == stars
    frame = _rows("M", [("sister_active", 0.5, 0.1, p)])
    _, rows = parse_markdown(regression_table(frame).to_markdown())
    assert rows[1][1] == "0.500" + "*" * stars


def test_a_missing_p_value_gets_no_stars():
    assert significance_stars(math.nan) == 0


def test_custom_thresholds_and_digits():
    frame = _rows("M", [("sister_active", 0.123456, 0.0004, 0.03)])
    table = regression_table(frame, stars=(0.01, 0.05, 0.2), digits=2)
    _, rows = parse_markdown(table.to_markdown())
    assert rows[1][1:] == ["0.12**"] and rows[2][1:] == ["(0.00)"]
    assert "* p < 0.20, ** p < 0.05, *** p < 0.01" in table.to_markdown()
    _, rows = parse_markdown(regression_table(frame, stars=()).to_markdown())
    assert rows[1][1:] == ["0.123"]
    with pytest.raises(CitydipError):
        regression_table(frame, stars=(0.1, 1.5, 0.01))
    with pytest.raises(CitydipError, match="three"):
        regression_table(frame, stars=(0.01, 0.05))


def test_numbers_have_no_negative_zero():
    assert format_number(-0.0004, 3) == "0.000"
    assert format_number(-0.0006, 3) == "-0.001"
    assert format_number(math.nan) == ""


def test_note_states_the_stars_and_the_reference_distribution_of_each_model(tidy):
    text = regression_table(tidy).to_markdown()
    assert text.splitlines()[-1] == (
        "Standard errors in parentheses. * p < 0.10, ** p < 0.05, *** p < 0.01 (two-sided). p-values from "
        f"t({RULES['cluster'].df}) for cluster(metro) (1); t({RULES['between'].df}) for HC1 (2) "
        "(G clusters, K coefficients, N observations).")


def test_latex_is_a_booktabs_table_with_escaped_names_and_balanced_braces(tidy):
    frame = tidy.replace({"model": {"FE": "FE_two way & 100%"}, "term": {"const": "my_term"}})
    tex = regression_table(frame).to_latex()
    lines = tex.splitlines()
    assert lines[0] == r"\begin{threeparttable}" and lines[-1] == r"\end{threeparttable}"
    rules = [line for line in lines if line in (r"\toprule", r"\midrule", r"\bottomrule")]
    assert rules[0] == r"\toprule" and rules[-1] == r"\bottomrule" and r"\midrule" in rules
    assert r"FE\_two way \& 100\%" in tex and r"my\_term" in tex
    assert "FE_two" not in tex and "my_term" not in tex
    assert r"0.012*** \\ (0.004)" in tex and r"-0.500** \\ (0.200)" in tex
    unescaped = re.sub(r"\\[{}]", "", tex)
    depth = 0
    for char in unescaped:
        depth += {"{": 1, "}": -1}.get(char, 0)
        assert depth >= 0
    assert depth == 0
    assert "p $<$ 0.01" in tex


def test_latex_escape_covers_the_special_characters():
    assert latex_escape(r"a_b&c%d$e#f{g}h~i^j\k") == (r"a\_b\&c\%d\$e\#f\{g\}h\textasciitilde{}i"
                                                      r"\textasciicircum{}j\textbackslash{}k")


def test_html_parses_with_the_right_rows_and_columns(tidy):
    frame = tidy.replace({"model": {"Between": "Between <means>"}})
    html_text = regression_table(frame).to_html()
    parser = TableParser()
    parser.feed(html_text)
    parser.close()
    assert not parser.stack
    rows = {row[0]: row[1:] for name, section in parser.sections if name == "tbody" for row in section if row}
    assert rows["Sister-city ties (active)"] == ["0.012***  (0.004)", "0.020  (0.015)"]
    assert rows["Constant"] == ["", "1.500*  (0.800)"]
    assert rows["N"] == ["1,700", "100"] and rows["Metro"] == ["x", "-"]
    heads = [row for name, section in parser.sections if name == "thead" for row in section]
    assert ["FE", "Between <means>"] in [[c.strip() for c in row if c.strip()] for row in heads]
    assert "Between &lt;means&gt;" in html_text and "p &lt; 0.01" in html_text


def test_writes_are_deterministic_by_suffix_and_leave_no_temporary_files(tidy, tmp_path):
    table = regression_table(tidy)
    suffixes = (".md", ".tex", ".html", ".typ")
    for suffix in suffixes:
        first = table.write(tmp_path / f"a{suffix}").read_bytes()
        second = regression_table(tidy.copy()).write(tmp_path / f"b{suffix}").read_bytes()
        assert b"\r" not in first and first.endswith(b"\n")
        if suffix == ".html":  # the table id is the file name
            first, second = first.replace(b"citydip-a", b"x"), second.replace(b"citydip-b", b"x")
        assert first == second
        table.write(tmp_path / f"a{suffix}")
        assert (tmp_path / f"a{suffix}").read_bytes().replace(b"citydip-a", b"x") == first
    assert (tmp_path / "a.md").read_text() == table.to_markdown()
    assert (tmp_path / "a.tex").read_text() == table.to_latex()
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(f"{x}{s}" for x in "ab" for s in suffixes)
    with pytest.raises(CitydipError, match="suffix"):
        table.write(tmp_path / "table.xlsx")


def test_failed_write_keeps_the_old_file_and_removes_the_temporary_one(tidy, tmp_path, monkeypatch):
    target = tmp_path / "table.md"
    target.write_text("old\n")

    def broken(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr(_io.os, "replace", broken)
    with pytest.raises(OSError, match="disk full"):
        regression_table(tidy).write(target)
    assert target.read_text() == "old\n"
    assert os.listdir(tmp_path) == ["table.md"]


def test_degenerate_inputs_are_refused(tidy):
    with pytest.raises(CitydipError, match="more than one row"):
        regression_table(pd.concat([tidy, tidy.head(1)]))
    with pytest.raises(CitydipError, match="no columns"):
        regression_table(tidy.drop(columns="p_value"))
    with pytest.raises(CitydipError, match="empty"):
        regression_table(tidy.head(0))


def test_table_of_fitted_models():
    """End to end: two-way FE, size classes and the between regression on a synthetic panel."""
    import warnings

    from citydip.estimation import ModelSpec, fit
    from citydip.panel.synthetic import synthetic_panel

    panel, _ = synthetic_panel(seed=3, n_metros=40)
    x = ("sister_active", "consular_posts", "networks_dated", "log_population", "log_per_capita_income")
    specs = [ModelSpec("M3 two-way FE", "ols", "log_exports", x),
             ModelSpec("M3 by size", "ols", "log_exports", x, by_size=("sister_active",)),
             ModelSpec("M1 between", "between", "log_exports", x, fixed_effects=(), vcov="hetero")]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fits = [fit(panel, s) for s in specs]
    tidy = pd.concat([f.tidy() for f in fits], ignore_index=True)
    header, rows = parse_markdown(regression_table(tidy).to_markdown())
    assert header == ["", "M3 two-way FE", "M3 by size", "M1 between"]
    stats = {row[0]: row[1:] for row in rows if row[0]}
    assert stats["N"] == [f"{f.nobs:,}" for f in fits]
    assert stats["Metro"] == ["x", "x", "-"] and stats["Year"] == ["x", "x", "-"]
    assert stats["Sister-city ties (active), small metros"][1].startswith(
        format_number(fits[1].coef["sister_active_x_small"]))
    assert stats["Sister-city ties (active), small metros"][0] == ""
    # the FitResults themselves give the same table
    assert model_table(fits, heads=[s.name for s in specs]).to_markdown() == regression_table(tidy).to_markdown()


# -- the main table (one definition for build/tables/table_main.* and notebook 03) -----------------
def _catalogue_like_estimates() -> pd.DataFrame:
    """Tidy estimates shaped like estimates.csv: the main models with their terms (and const),
    plus models and terms that are not in the main table."""
    from citydip.estimation.catalogue import CONTROLS, MEASURES

    rng = __import__("numpy").random.default_rng(7)
    terms = {"M1 between": [*MEASURES, *CONTROLS, "const"], "M2 pooled + year FE": [*MEASURES, *CONTROLS],
             "M3 two-way FE": [*MEASURES, *CONTROLS],
             "M3-CG two-way FE, consulates general": ["sister_active", "consulates_general", "networks_dated",
                                                      *CONTROLS],
             "M3 two-way FE [wild bootstrap]": [*MEASURES, *CONTROLS], "M4 PPML": [*MEASURES, *CONTROLS],
             "M5 by size class": ["sister_active:small", "sister_active:mid", *CONTROLS],
             "M6 one-year lags": [*(f"{m}_lag1" for m in MEASURES), *CONTROLS]}
    parts = [_rows(model, [(t, *rng.normal(0, 0.1, 1), *rng.uniform(0.01, 0.05, 1), *rng.uniform(0, 1, 1))
                           for t in ts]) for model, ts in terms.items()]
    return pd.concat(parts, ignore_index=True).assign(data="real")


def test_main_table_has_the_main_models_and_terms_and_the_estimates():
    from citydip.report.outputs import MAIN_MODELS, main_table

    est = _catalogue_like_estimates()
    table = main_table(est)
    assert table.heads == ["M1 between", "M2 pooled + year FE", "M3 two-way FE",
                           "M3-CG two-way FE, consulates general", "M4 PPML", "M6 one-year lags"]
    assert tuple(table.heads) == MAIN_MODELS
    assert table.terms == ["sister_active", "consular_posts", "networks_dated", "consulates_general",
                           "sister_active_lag1", "consular_posts_lag1", "networks_dated_lag1", "log_population",
                           "log_per_capita_income"]
    expected = est.set_index(["model", "term"])
    _, rows = parse_markdown(table.to_markdown())
    cells = {(prev, kind): values for _, values, prev, kind in _pairs(rows[1:])}
    filled = 0
    for term in table.terms:
        estimates, errors = cells[(term_label(term), "estimate")], cells[(term_label(term), "se")]
        for model, estimate, error in zip(table.heads, estimates, errors):
            if (model, term) in expected.index:
                row = expected.loc[(model, term)]
                stars = "*" * significance_stars(row.p_value)
                assert (estimate, error) == (format_number(row.estimate) + stars, f"({format_number(row.std_error)})")
                filled += 1
            else:
                assert (estimate, error) == ("", "")
    assert filled == 4 * 3 + 3 + 3 + 6 * 2  # measures in M1-M4, M3-CG's three, M6's lags, controls in all six
    assert "SYNTHETIC" not in table.to_markdown()
    assert main_table(est, synthetic=True).to_markdown().count("SYNTHETIC DEMO DATA") == 1


def test_main_table_leaves_out_models_the_estimates_lack():
    from citydip.report.outputs import main_table

    est = _catalogue_like_estimates()
    table = main_table(est[~est.model.isin(["M6 one-year lags"])])
    assert "M6 one-year lags" not in table.heads and not any(t.endswith("_lag1") for t in table.terms)
