"""The match report on the real files: complete, with reasons, deterministic."""

from __future__ import annotations

import pandas as pd
import pytest

from citydip.geo import report

# Matching every real source takes about 12 s (the module's fixture), whichever test comes first.
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def results(real_data):
    return {r.dataset: r for r in report.match_all(real_data)}


def test_sister_city_rows_match_and_agree_with_stated_codes(results):
    sister = results["sister_cities (curated)"]
    assert sister.rate >= 0.95
    from citydip.sources import curated

    stated = curated.load_sister_cities()[["record_id", "cbsa_code"]].dropna()
    both = stated.merge(sister.records[["record_id", "cbsa_code"]], on="record_id", suffixes=("_stated", "_matched"))
    assert len(both) > 1000
    assert (both.cbsa_code_stated == both.cbsa_code_matched).all()


def test_every_unmatched_record_is_reported_with_a_reason(results, tmp_path):
    path = report.write_report(list(results.values()), tmp_path)
    frame = pd.read_csv(path, keep_default_na=False)
    assert len(frame) == sum(int((~r.matched).sum()) for r in results.values())
    assert (frame.reason != "").all()
    rates = pd.read_csv(tmp_path / "match_rates.csv")
    assert (rates.records == rates.matched + frame.groupby("dataset").size().reindex(rates.dataset).fillna(0)
            .to_numpy()).all()


def test_report_is_deterministic(results, tmp_path):
    a = report.write_report(list(results.values()), tmp_path / "a").read_bytes()
    b = report.write_report(list(results.values()), tmp_path / "b").read_bytes()
    assert a == b


def test_key_places_match(results):
    lowy = results["lowy_gdi U.S. posts 2019"].records
    codes = dict(zip(lowy.place, lowy.cbsa_code))
    assert codes["Washington DC"] == "47900" and codes["New York"] == "35620"
    assert codes["Houston"] == "26420" and codes["Honolulu"] == "46520" and codes["Portland"] == "38900"
    assert results["consulate_events (curated)"].rate == 1.0
