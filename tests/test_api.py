"""The Python API: load_panel (cache, synthetic, options), fit with a formula, load_estimates."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

import citydip
from citydip import pipeline
from citydip.api import parse_formula
from citydip.errors import MissingSourceError, OptionError
from citydip.estimation.catalogue import MEASURES, catalogue

M3_FORMULA = ("log_exports ~ consular_posts + sister_active + networks_dated + log_population + "
              "log_per_capita_income | cbsa_code + year")


@pytest.fixture
def no_data(tmp_path):
    empty = tmp_path / "raw"
    empty.mkdir()
    return empty


@pytest.fixture(scope="module")
def demo():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", citydip.SyntheticDataWarning)
        return citydip.load_panel(synthetic=True, cache=None)


def test_parse_formula():
    assert parse_formula("y ~ a + b | f + g") == ("y", ("a", "b"), ("f", "g"))
    assert parse_formula(" y~a ") == ("y", ("a",), ())
    for bad in ("y ~ log(a)", "y ~ a | f | g", "y a", "y ~ a:b", "y ~ 1"):
        with pytest.raises(OptionError):
            parse_formula(bad)


def test_synthetic_panel_warns_and_is_cached(tmp_path, no_data, monkeypatch):
    with pytest.warns(citydip.SyntheticDataWarning, match="SYNTHETIC"):
        first = citydip.load_panel(no_data, cache=tmp_path / "build")
    assert first.synthetic and first.path == tmp_path / "build" / "panel.parquet"
    assert first.shape == (len(first.data), first.data.shape[1])          # DataFrame attributes fall through
    assert list(first.codebook.column) == list(first.columns)             # every column documented, in order
    calls = []
    monkeypatch.setattr(pipeline, "write_panel", lambda *a, **k: calls.append(a))
    with pytest.warns(citydip.SyntheticDataWarning):
        again = citydip.load_panel(no_data, cache=tmp_path / "build")
    assert calls == []                                                     # reused, not rebuilt
    pd.testing.assert_frame_equal(again.data, first.data)
    with pytest.warns(citydip.SyntheticDataWarning):
        citydip.load_panel(no_data, cache=tmp_path / "build", force=True)
    assert len(calls) == 1


def test_options_change_the_panel_and_its_cache_folder(tmp_path, no_data):
    with pytest.warns(citydip.SyntheticDataWarning):
        default = citydip.load_panel(no_data, cache=tmp_path)
        short = citydip.load_panel(no_data, cache=tmp_path, years=(2008, 2015))
    assert default.path.parent == tmp_path
    assert short.path.parent.parent == tmp_path / "panels"
    assert (short.year.min(), short.year.max()) == (2008, 2015)
    assert short.options.first_year == 2008 and default.options == citydip.api.PanelOptions()
    with pytest.raises(OptionError, match="unknown panel option"):
        citydip.load_panel(no_data, cache=None, tpo_n=5)


def test_real_data_required_on_request(no_data):
    with pytest.raises(MissingSourceError, match="citydip fetch"):
        citydip.load_panel(no_data, synthetic=False, cache=None)


def test_formula_equals_spec_and_pyfixest(demo):
    import pyfixest as pf

    spec = next(s for s in catalogue() if s.name == "M3 two-way FE")
    by_formula = citydip.fit(M3_FORMULA, demo)
    by_spec = citydip.fit(spec, demo)
    old_order = citydip.estimation.fit(demo.data, spec)
    for other in (by_spec, old_order):
        terms = other.coef.index
        pd.testing.assert_series_equal(by_formula.coef[terms], other.coef, check_names=False, rtol=1e-12)
        pd.testing.assert_series_equal(by_formula.se[terms], other.se, check_names=False, rtol=1e-10)
    direct = pf.feols(M3_FORMULA, data=demo.data.astype({c: "float64" for c in MEASURES}),
                      vcov={"CRV1": "cbsa_code"})
    np.testing.assert_allclose(by_formula.coef.to_numpy(), direct.coef().to_numpy(), rtol=1e-10)
    np.testing.assert_allclose(by_formula.se.to_numpy(), direct.se().to_numpy(), rtol=1e-8)
    assert by_formula.nobs == len(by_formula.data)


def test_fit_options_and_vcov_spellings(demo):
    twoway = citydip.fit(M3_FORMULA, demo, vcov={"CRV1": "cbsa_code + year"})
    assert twoway.spec.vcov == "twoway"
    hetero = citydip.fit(M3_FORMULA, demo, vcov="hetero")
    assert not np.allclose(hetero.se, twoway.se)
    ppml = citydip.fit("exports_usd ~ consular_posts + log_population | cbsa_code + year", demo, family="poisson")
    assert ppml.spec.family == "poisson" and np.isinf(ppml.df_t)
    lagged = citydip.fit("log_exports ~ sister_active + log_population | cbsa_code + year", demo, lags=1,
                         lagged=("sister_active",))
    assert "sister_active_lag1" in lagged.coef.index
    with pytest.raises(OptionError, match="vcov"):
        citydip.fit(M3_FORMULA, demo, vcov="robust")


def test_fit_recovers_the_synthetic_truth(demo):
    truth = demo.provenance["synthetic_truth"]
    result = citydip.fit(M3_FORMULA, demo)
    for term, key in (("sister_active", "beta_sister"), ("consular_posts", "beta_consulate"),
                      ("networks_dated", "beta_network")):
        assert abs(result.coef[term] - truth[key]) < 4 * result.se[term], term


@pytest.mark.slow
def test_real_panel_from_the_api_is_the_built_panel(real_data, real_panel, tmp_path):
    panel = citydip.load_panel(real_data, cache=tmp_path)
    pd.testing.assert_frame_equal(panel.data, real_panel)
    assert not panel.synthetic and len(panel.dropped) > 0
    assert set(panel.dropped.columns) >= {"dataset", "reason"}
    mine = citydip.fit(M3_FORMULA, panel).tidy().set_index("term")
    spec = next(s for s in catalogue() if s.name == "M3 two-way FE")
    reference = citydip.estimation.fit(real_panel, spec).tidy().set_index("term")
    pd.testing.assert_series_equal(mine.estimate, reference.estimate.reindex(mine.index))


@pytest.mark.slow
def test_load_estimates_fits_once(tmp_path, no_data, monkeypatch):
    with pytest.warns(citydip.SyntheticDataWarning):
        estimates = citydip.load_estimates(no_data, cache=tmp_path)
    assert {"M1 between", "M3 two-way FE", "M4 PPML", "M5 by size class"} <= set(estimates.model)
    from citydip.estimation import outputs

    monkeypatch.setattr(outputs, "estimate_and_write", lambda *a, **k: pytest.fail("re-estimated"))
    with pytest.warns(citydip.SyntheticDataWarning):
        again = citydip.load_estimates(no_data, cache=tmp_path)
    pd.testing.assert_frame_equal(again, estimates)


def test_a_panel_without_variants_is_not_reused_where_variants_are_needed(tmp_path, monkeypatch):
    """load_panel builds without variants; replicate, which needs them, must then rebuild."""
    from citydip.panel.options import PanelOptions

    calls = []
    monkeypatch.setattr(pipeline, "panel_is_current", lambda *a: True)
    monkeypatch.setattr(pipeline, "write_panel", lambda *a, **k: calls.append(k["with_variants"]))
    assert pipeline.ensure_panel(tmp_path, tmp_path, PanelOptions(), synthetic=False, with_variants=False)
    assert not pipeline.ensure_panel(tmp_path, tmp_path, PanelOptions(), synthetic=False, with_variants=True)
    assert calls == [True]
    (tmp_path / "variants").mkdir()
    (tmp_path / "variants" / "index.json").write_text("[]")
    assert pipeline.ensure_panel(tmp_path, tmp_path, PanelOptions(), synthetic=False, with_variants=True)
    assert pipeline.ensure_panel(tmp_path, tmp_path, PanelOptions(), synthetic=True, with_variants=True)
    assert calls == [True]
