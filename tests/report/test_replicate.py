"""``citydip replicate``: every notebook executes without error into results/, every output is in
the generated map, synthetic results say so everywhere, and a rerun reuses the panel and
estimates and reproduces the same tables byte for byte.

The report's notebooks are executed once per session on the synthetic demo and once on the real
data (the session fixtures ``synthetic_report`` and ``real_report`` of tests/conftest.py); only
the rerun test executes the synthetic notebooks a second time, as that is what it checks. The
tests of the executor itself run tiny notebooks against a panel-only build (``demo_build``)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from citydip import pipeline
from citydip.panel.options import PanelOptions
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
def demo_build(tmp_path_factory) -> Path:
    """A build folder with only the synthetic panel and its provenance (no estimates): what the
    executor's own tests need, without executing the report."""
    build = tmp_path_factory.mktemp("demo") / "build"
    pipeline.write_panel(build.parent, build, PanelOptions(), synthetic=True)
    return build


def copy_build(source: Path, target: Path, names=("panel.parquet", "provenance.json")) -> Path:
    target.mkdir()
    for name in names:
        (target / name).write_bytes((source / name).read_bytes())
    return target


def test_synthetic_replicate_executes_every_notebook(synthetic_report):
    assert synthetic_report.times.reused == ()
    check_notebooks(synthetic_report.results)


def test_results_readme_maps_every_table_and_figure(synthetic_report):
    results = synthetic_report.results
    files = output_files(results)
    assert len(files) > 10
    assert mapped_files(results) == files
    readme = (results / "README.md").read_text()
    assert "SYNTHETIC" in readme.split("|")[0]


def test_synthetic_outputs_say_so(synthetic_report):
    results = synthetic_report.results
    for md in (results / "tables").glob("*.md"):
        assert "SYNTHETIC" in md.read_text(), md.name
    for src in execute.notebook_sources():
        text = "".join("".join(o.get("text", "")) for c in executed_cells(results, src.stem) for o in c["outputs"])
        assert SYNTHETIC_BANNER in text, src.name
    assert not (synthetic_report.build / "variants").exists()
    atlas = (results / "atlas.html").read_text()
    assert "SYNTHETIC" in atlas and "http://" not in atlas and "https://" not in atlas


def test_rerun_reuses_the_panel_and_the_estimates(synthetic_report, tmp_path, monkeypatch):
    """A second ``replicate`` on the same inputs rebuilds nothing; its report step (checked by
    the next test) is replaced here by a stub that records where it would write."""
    calls = []
    monkeypatch.setattr(execute, "run_all", lambda results, build, **_kw: calls.append((results, build)))
    times = pipeline.replicate(synthetic_report.data, synthetic_report.build, tmp_path / "results", say=quiet)
    assert times.reused == ("build", "estimate")
    assert calls == [(tmp_path / "results", synthetic_report.build)]


@pytest.mark.slow
def test_report_rerun_reproduces_every_table_and_never_writes_into_results(synthetic_report, tmp_path, monkeypatch,
                                                                          capsys):
    """`citydip report` on a copy of the synthetic build executes the notebooks again: it writes to
    build/synthetic-results, not to the committed results/ of the real data, and every table and
    figure is byte for byte the session's."""
    from citydip import cli

    monkeypatch.chdir(tmp_path)
    build = tmp_path / "build"
    build.mkdir()
    for p in synthetic_report.build.iterdir():
        if p.is_file():
            (build / p.name).write_bytes(p.read_bytes())
    assert cli.main(["report", "--build-dir", "build"]) == 0
    out = capsys.readouterr().out
    assert "build/synthetic-results/README.md" in out and "SYNTHETIC" in out
    assert (build / "synthetic-results" / "README.md").is_file() and not (tmp_path / "results").exists()
    for sub in ("tables", "figures"):
        first = {p.name: p.read_bytes() for p in sorted((synthetic_report.results / sub).glob("*"))}
        again = {p.name: p.read_bytes() for p in sorted((build / "synthetic-results" / sub).glob("*"))}
        assert first and again.keys() == first.keys(), sub
        assert [name for name in first if again[name] != first[name]] == [], sub


@pytest.mark.slow
@pytest.mark.notebooks
def test_a_failing_notebook_fails_the_report_naming_it(demo_build, tmp_path):
    build = copy_build(demo_build, tmp_path / "build")
    bad = tmp_path / "99_broken.py"
    bad.write_text("# %%\nfrom citydip.report import notebook\nctx = notebook.start('99_broken')\n"
                   "# %%\nraise ValueError('deliberate')\n")
    from citydip.errors import CitydipError

    with pytest.raises(CitydipError, match=r"(?s)99_broken\.py.*deliberate"):
        execute.run_all(tmp_path / "results", build, sources=[bad], workers=1)


def test_replicate_on_the_real_data(real_report):
    results = real_report.results
    check_notebooks(results)
    assert mapped_files(results) == output_files(results)
    readme = (results / "README.md").read_text()
    assert "SYNTHETIC" not in readme and "the real panel (100 metros, years 2005-2022)" in readme
    atlas = (results / "atlas.html").read_text()
    assert "SYNTHETIC" not in atlas and "Chicago" in atlas and "Mexico" in atlas  # partner countries embedded
    for md in (results / "tables").glob("*.md"):
        assert "SYNTHETIC" not in md.read_text(), md.name
    index = json.loads((real_report.build / "variants" / "index.json").read_text())
    assert len(index) >= 9 and all(v["metros"] == 100 for v in index)
    assert real_report.times.reused == ()


@pytest.mark.slow
@pytest.mark.notebooks
def test_the_longest_notebook_of_the_last_run_starts_first(demo_build, tmp_path):
    build = copy_build(demo_build, tmp_path / "build")
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
