"""The command line: help, validate's lines and exit status, and graceful absence of data."""

from __future__ import annotations

import pandas as pd
import pytest

from citydip import cli
from tests import damage as d
from tests.sources.test_ita import GRID as ITA_GRID


def run(capsys, *args):
    status = cli.main(list(args))
    out = capsys.readouterr()
    return status, out.out, out.err


def test_help_lists_every_command(capsys):
    with pytest.raises(SystemExit) as exc:
        cli.main(["--help"])
    assert exc.value.code == 0
    text = capsys.readouterr().out
    for command in ("validate", "fetch", "build", "estimate", "report", "replicate", "--data-dir"):
        assert command in text


@pytest.fixture
def data_dir(tmp_path):
    folder = tmp_path / "raw" / "ita_metro_exports"
    folder.mkdir(parents=True)
    d.write_csv(ITA_GRID, folder / "ita_msa_exports_2012_2021.csv", bom=True)
    return tmp_path / "raw"


def test_validate_prints_relative_paths_rows_and_years(capsys, data_dir):
    status, out, _ = run(capsys, "--data-dir", str(data_dir), "validate", "--no-match")
    assert status == 0
    line = next(x for x in out.splitlines() if "ita_msa_exports_2012_2021.csv" in x)
    assert line.startswith("OK") and "ita_metro_exports/ita_msa_exports_2012_2021.csv" in line
    assert str(data_dir) not in line and "rows=9" in line and "years=2005-2007" in line
    assert "1 empty cells in exports_usd" in line  # the sample's one suppressed cell
    missing = next(x for x in out.splitlines() if "ITA_MSA_Export_Series_2005_2023.xlsx" in x)
    assert missing.startswith("MISSING") and "citydip fetch" in missing
    assert "curated/sister_cities.csv" in out


def test_validate_fails_on_an_invalid_file(capsys, data_dir):
    path = data_dir / "ita_metro_exports" / "ita_msa_exports_2012_2021.csv"
    d.write_csv(d.set_cell(ITA_GRID, 0, 2, "2006", "12x"), path)
    status, out, _ = run(capsys, "--data-dir", str(data_dir), "validate", "--no-match")
    assert status == 1
    line = next(x for x in out.splitlines() if "ita_msa_exports_2012_2021.csv" in x)
    assert line.startswith("INVALID") and "row 3" in line and "column '2006'" in line


def test_validate_without_delineations_skips_matching(capsys, data_dir, tmp_path):
    status, out, _ = run(capsys, "--data-dir", str(data_dir), "validate", "--report-dir", str(tmp_path / "b"))
    assert status == 0 and "Place matching skipped" in out


def test_data_dir_from_environment(capsys, data_dir, monkeypatch):
    monkeypatch.setenv("CITYDIP_DATA_DIR", str(data_dir))
    status, out, _ = run(capsys, "validate", "--no-match")
    assert f"data directory: {data_dir}" in out


def test_report_without_estimates_says_what_to_run(capsys, tmp_path):
    status, _, err = run(capsys, "report", "--build-dir", str(tmp_path / "none"))
    assert status == 1 and "citydip replicate" in err and "estimates.csv" in err


def test_estimate_without_a_panel_says_build_first(capsys, tmp_path):
    status, _, err = run(capsys, "estimate", "--panel", str(tmp_path / "none.parquet"))
    assert status == 1 and "citydip build" in err


def test_build_synthetic_says_so_everywhere(capsys, tmp_path):
    status, out, _ = run(capsys, "build", "--synthetic", "--out", str(tmp_path), "--top", "30", "--years", "2010-2015")
    assert status == 0 and "SYNTHETIC" in out and "180 rows" in out
    assert "SYNTHETIC DEMO PANEL" in (tmp_path / "codebook.md").read_text()
    assert '"synthetic": true' in (tmp_path / "provenance.json").read_text()

    panel = pd.read_parquet(tmp_path / "panel.parquet")
    assert panel.cbsa_code.str.startswith("9").all() and panel.cbsa_code.nunique() == 30


def test_build_without_data_points_to_fetch_and_synthetic(capsys, data_dir, tmp_path):
    status, _, err = run(capsys, "--data-dir", str(data_dir), "build", "--out", str(tmp_path))
    assert status == 1 and "citydip fetch" in err and "--synthetic" in err


def test_bad_build_options_are_clear_errors(capsys, tmp_path):
    status, _, err = run(capsys, "build", "--synthetic", "--top", "0", "--out", str(tmp_path))
    assert status == 1 and "top_n must be at least 1" in err
    status, _, err = run(capsys, "build", "--synthetic", "--years", "2010-2005", "--out", str(tmp_path))
    assert status == 1 and "is empty" in err
