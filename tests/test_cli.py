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
    assert status == cli.EXIT_MISSING and "citydip replicate" in err and "estimates.csv" in err


def test_estimate_without_a_panel_says_build_first(capsys, tmp_path):
    status, _, err = run(capsys, "estimate", "--panel", str(tmp_path / "none.parquet"))
    assert status == cli.EXIT_MISSING and "citydip build" in err


def test_build_synthetic_says_so_everywhere(capsys, tmp_path):
    status, out, _ = run(capsys, "build", "--synthetic", "--out", str(tmp_path), "--top", "30", "--years", "2010-2015")
    assert status == 0 and "SYNTHETIC" in out and "180 rows" in out
    assert "SYNTHETIC DEMO PANEL" in (tmp_path / "codebook.md").read_text()
    assert '"synthetic": true' in (tmp_path / "provenance.json").read_text()

    panel = pd.read_parquet(tmp_path / "panel.parquet")
    assert panel.cbsa_code.str.startswith("9").all() and panel.cbsa_code.nunique() == 30


def test_build_without_data_points_to_fetch_and_synthetic(capsys, data_dir, tmp_path):
    status, _, err = run(capsys, "--data-dir", str(data_dir), "build", "--out", str(tmp_path))
    assert status == cli.EXIT_MISSING and "citydip fetch" in err and "--synthetic" in err


def test_bad_build_options_are_clear_errors(capsys, tmp_path):
    status, _, err = run(capsys, "build", "--synthetic", "--top", "0", "--out", str(tmp_path))
    assert status == 1 and "top_n must be at least 1" in err
    status, _, err = run(capsys, "build", "--synthetic", "--years", "2010-2005", "--out", str(tmp_path))
    assert status == 1 and "is empty" in err


def data_dir_line(out: str) -> str:
    """The data directory validate read, from its summary line '... (data directory: PATH)'."""
    return "data directory: " + out.rsplit("(data directory: ", 1)[1].split(")")[0]


@pytest.mark.parametrize("order", ["before", "after"])
def test_global_options_go_before_or_after_the_command(capsys, data_dir, order):
    options = ["--data-dir", str(data_dir)]
    args = [*options, "validate", "--no-match"] if order == "before" else ["validate", *options, "--no-match"]
    status, out, _ = run(capsys, *args)
    assert status == 0 and data_dir_line(out) == f"data directory: {data_dir}"


def test_a_global_option_after_the_command_wins(capsys, data_dir, tmp_path, monkeypatch):
    monkeypatch.setenv("CITYDIP_DATA_DIR", str(tmp_path / "from-environment"))
    _, out, _ = run(capsys, "--data-dir", str(tmp_path / "before"), "validate", "--data-dir", str(data_dir),
                    "--no-match")
    assert data_dir_line(out) == f"data directory: {data_dir}"
    _, out, _ = run(capsys, "--data-dir", str(data_dir), "validate", "--no-match")  # not reset by the command
    assert data_dir_line(out) == f"data directory: {data_dir}"


def test_verbose_and_quiet_exclude_each_other(capsys):
    with pytest.raises(SystemExit) as exc:
        cli.main(["--verbose", "validate", "--quiet"])
    assert exc.value.code == cli.EXIT_USAGE and "exclude each other" in capsys.readouterr().err


def test_help_documents_every_exit_status(capsys):
    with pytest.raises(SystemExit):
        cli.main(["replicate", "--help"])
    text = capsys.readouterr().out
    statuses = {int(line.split()[0]) for line in text.split("exit status:")[1].splitlines()
                if line.strip()[:1].isdigit()}
    assert statuses == {cli.EXIT_OK, cli.EXIT_ERROR, cli.EXIT_USAGE, cli.EXIT_MISSING, cli.EXIT_INTERRUPTED}
    assert len(statuses) == 5  # distinct


def test_build_prints_one_line_per_step_and_logs_the_rest(capsys, tmp_path):
    status, out, err = run(capsys, "build", "--synthetic", "--out", str(tmp_path), "--top", "30")
    assert status == 0 and err.splitlines() == ["panel: building the SYNTHETIC demo panel"]
    assert "rows" in out
    log = (tmp_path / "logs" / "build.log").read_text()
    assert "panel: building the SYNTHETIC demo panel" in log


def test_quiet_prints_only_the_summary(capsys, tmp_path):
    status, out, err = run(capsys, "build", "--synthetic", "--out", str(tmp_path), "--top", "30", "--quiet")
    assert status == 0 and err == "" and "rows" in out


def test_an_error_names_the_log(capsys, tmp_path):
    status, _, err = run(capsys, "build", "--synthetic", "--top", "0", "--out", str(tmp_path))
    assert status == cli.EXIT_ERROR and f"details in {tmp_path / 'logs' / 'build.log'}" in err
