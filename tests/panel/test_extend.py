"""The documented path for extending the curated dataset: append rows to a copy of the curated
CSVs, check them with ``citydip validate``, and the next build counts them."""

from __future__ import annotations

import shutil

import pytest

from citydip import cli
from citydip.config import CURATED_DIR, CURATED_DIR_ENV
from citydip.panel.build import construct, load_inputs
from tests.sources.test_curated import append_row

OMAHA = "36540"
NEW_TIE = ["sc-d-0001", "d", "", "Omaha", "NE", "Ushuaia", "Argentina", "2012", "sister city", "",
           "https://example.org/omaha-ushuaia", "2012-06"]
NEW_JOIN = ["nm-d-0001", "d", "C40", "Omaha", "NE", "2016", "", "", "member", "https://example.org/c40-omaha", "2016", ""]


@pytest.fixture
def extended(tmp_path, monkeypatch):
    folder = tmp_path / "curated"
    shutil.copytree(CURATED_DIR, folder)
    monkeypatch.setenv(CURATED_DIR_ENV, str(folder))
    return folder


@pytest.mark.slow
def test_new_rows_pass_validate_and_change_the_panel(extended, real_data, real_build, capsys):
    append_row(extended / "sister_cities.csv", NEW_TIE)
    append_row(extended / "network_memberships.csv", NEW_JOIN)
    status = cli.main(["--data-dir", str(real_data), "validate", "--no-match"])
    out = capsys.readouterr().out
    assert status == 0
    assert "curated/sister_cities.csv  rows=1,100" in out and "curated/network_memberships.csv  rows=497" in out

    panel = construct(load_inputs(real_data)).panel.set_index(["cbsa_code", "year"]).sort_index()
    base = real_build.panel.set_index(["cbsa_code", "year"]).sort_index()
    diff = (panel.sister_active - base.sister_active)
    omaha = diff.xs(OMAHA, level="cbsa_code")
    assert (omaha[omaha.index < 2012] == 0).all() and (omaha[omaha.index >= 2012] == 1).all()
    assert (diff.drop(OMAHA, level="cbsa_code") == 0).all()
    assert panel.loc[(OMAHA, 2012), "sister_new"] == base.loc[(OMAHA, 2012), "sister_new"] + 1
    joined = (panel.networks_dated - base.networks_dated).xs(OMAHA, level="cbsa_code")
    assert (joined[joined.index < 2016] == 0).all() and (joined[joined.index >= 2016] == 1).all()
    assert panel.loc[(OMAHA, 2016), "net_c40"] and not base.loc[(OMAHA, 2016), "net_c40"]


@pytest.mark.slow
def test_a_bad_new_row_is_named_by_validate(extended, real_data, capsys):
    append_row(extended / "sister_cities.csv", [*NEW_TIE[:7], "20125", *NEW_TIE[8:]])
    status = cli.main(["--data-dir", str(real_data), "validate", "--no-match"])
    out = capsys.readouterr().out
    line = next(x for x in out.splitlines() if "curated/sister_cities.csv" in x)
    assert status == 1 and line.startswith("INVALID") and "row 1101" in line and "year_established" in line
