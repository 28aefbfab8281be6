"""``citydip replicate``: every notebook executes without error into results/, every output is in
the generated map, synthetic results say so everywhere, and a rerun reuses the panel and
estimates and reproduces the same tables byte for byte."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from citydip import pipeline
from citydip.report import execute
from citydip.report.notebook import SYNTHETIC_BANNER


def quiet(_message: str) -> None:
    pass


def executed_cells(results: Path, stem: str) -> list[dict]:
    nb = json.loads((results / "notebooks" / f"{stem}.ipynb").read_text())
    return [c for c in nb["cells"] if c["cell_type"] == "code"]


def check_notebooks(results: Path) -> None:
    """Every notebook ran every code cell without an error output, and has its HTML."""
    sources = execute.notebook_sources()
    assert len(sources) >= 2
    for src in sources:
        cells = executed_cells(results, src.stem)
        assert cells, src.name
        errors = [o for c in cells for o in c.get("outputs", []) if o["output_type"] == "error"]
        assert not errors, f"{src.name}: {errors[:1]}"
        assert all(c.get("execution_count") for c in cells), f"{src.name}: a cell did not run"
        for c in cells:  # stdout split into messages by timing is merged back: identical reruns
            kinds = [(o["output_type"], o.get("name")) for o in c.get("outputs", [])]
            assert all(a != b or a[0] != "stream" for a, b in zip(kinds, kinds[1:])), src.name
        assert all(c["id"].startswith("cell-") for c in cells), src.name  # stable ids
        assert (results / "notebooks" / f"{src.stem}.html").stat().st_size > 10_000


def mapped_files(results: Path) -> set[str]:
    rows = [line for line in (results / "README.md").read_text().splitlines() if line.startswith("| `")]
    return {line.split("`")[1] for line in rows}


def output_files(results: Path) -> set[str]:
    return {str(p.relative_to(results)) for sub in ("tables", "figures") for p in (results / sub).glob("*")}


@pytest.fixture(scope="module")
def synthetic_run(tmp_path_factory):
    root = tmp_path_factory.mktemp("replicate")
    (root / "no-data").mkdir()
    times = pipeline.replicate(root / "no-data", root / "build", root / "results", say=quiet)
    return root, times


def test_synthetic_replicate_executes_every_notebook(synthetic_run):
    root, times = synthetic_run
    assert times.reused == ()
    check_notebooks(root / "results")


def test_results_readme_maps_every_table_and_figure(synthetic_run):
    results = synthetic_run[0] / "results"
    files = output_files(results)
    assert len(files) > 10
    assert mapped_files(results) == files
    readme = (results / "README.md").read_text()
    assert "SYNTHETIC" in readme.split("|")[0]


def test_synthetic_outputs_say_so(synthetic_run):
    results = synthetic_run[0] / "results"
    for md in (results / "tables").glob("*.md"):
        assert "SYNTHETIC" in md.read_text(), md.name
    for src in execute.notebook_sources():
        text = "".join("".join(o.get("text", "")) for c in executed_cells(results, src.stem) for o in c["outputs"])
        assert SYNTHETIC_BANNER in text, src.name
    assert not (synthetic_run[0] / "build" / "variants").exists()


def test_rerun_reuses_the_panel_and_reproduces_every_table(synthetic_run):
    root, _ = synthetic_run
    tables = {p.name: p.read_bytes() for p in sorted((root / "results" / "tables").glob("*"))}
    figures = {p.name: p.read_bytes() for p in sorted((root / "results" / "figures").glob("*"))}
    times = pipeline.replicate(root / "no-data", root / "build", root / "results", say=quiet)
    assert times.reused == ("build", "estimate")
    assert {p.name: p.read_bytes() for p in sorted((root / "results" / "tables").glob("*"))} == tables
    assert {p.name: p.read_bytes() for p in sorted((root / "results" / "figures").glob("*"))} == figures


def test_a_failing_notebook_fails_the_report_naming_it(synthetic_run, tmp_path):
    bad = tmp_path / "99_broken.py"
    bad.write_text("# %%\nfrom citydip.report import notebook\nctx = notebook.start('99_broken')\n"
                   "# %%\nraise ValueError('deliberate')\n")
    from citydip.errors import CitydipError

    with pytest.raises(CitydipError, match=r"(?s)99_broken\.py.*deliberate"):
        execute.run_all(tmp_path / "results", synthetic_run[0] / "build", sources=[bad], workers=1)


def test_replicate_on_the_real_data(real_data, tmp_path):
    times = pipeline.replicate(real_data, tmp_path / "build", tmp_path / "results", say=quiet)
    results = tmp_path / "results"
    check_notebooks(results)
    assert mapped_files(results) == output_files(results)
    readme = (results / "README.md").read_text()
    assert "SYNTHETIC" not in readme and "the real panel (100 metros, years 2005-2021)" in readme
    for md in (results / "tables").glob("*.md"):
        assert "SYNTHETIC" not in md.read_text(), md.name
    index = json.loads((tmp_path / "build" / "variants" / "index.json").read_text())
    assert len(index) >= 9 and all(v["metros"] == 100 for v in index)
    assert times.reused == ()


def test_the_longest_notebook_of_the_last_run_starts_first(synthetic_run, tmp_path):
    build = tmp_path / "build"
    build.mkdir()
    for name in ("panel.parquet", "provenance.json"):
        (build / name).write_bytes((synthetic_run[0] / "build" / name).read_bytes())
    sources = []
    for stem in ("91_short", "92_long"):
        src = tmp_path / f"{stem}.py"
        src.write_text(f"# %%\nfrom citydip.report import notebook\nctx = notebook.start('{stem}')\n")
        sources.append(src)
    (build / execute.TIMINGS_FILE).write_text(json.dumps({"91_short": 1.0, "92_long": 9.0}))
    said = []
    runs = execute.run_all(tmp_path / "results", build, sources=sources, workers=1, progress=said.append)
    started = [m.split()[1] for m in said if m.startswith("executing")]
    assert started == ["92_long.py", "91_short.py"]
    assert [r.name for r in runs] == ["91_short", "92_long"]
    recorded = json.loads((build / execute.TIMINGS_FILE).read_text())
    assert set(recorded) == {"91_short", "92_long"} and all(v > 0 for v in recorded.values())


def test_the_synthetic_demo_never_writes_into_results(synthetic_run, tmp_path, monkeypatch, capsys):
    """`citydip report` on the synthetic build writes to build/synthetic-results, not to the
    committed results/ of the real data."""
    from citydip import cli

    monkeypatch.chdir(tmp_path)
    build = tmp_path / "build"
    build.mkdir()
    for p in (synthetic_run[0] / "build").iterdir():
        if p.is_file():
            (build / p.name).write_bytes(p.read_bytes())
    assert cli.main(["report", "--build-dir", "build"]) == 0
    out = capsys.readouterr().out
    assert "build/synthetic-results/README.md" in out and "SYNTHETIC" in out
    assert (build / "synthetic-results" / "README.md").is_file() and not (tmp_path / "results").exists()
