"""The report replaces results/ whole (staging folder, two renames, stale leftovers cleaned), and
its HTML pages link one stylesheet and the saved figures instead of embedding them again."""

from __future__ import annotations

import base64
import os
import subprocess
import sys

import nbformat
import pytest

from citydip.report import execute, staging
from citydip.report.notebook import FIGURE_METADATA


def files(folder) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


@pytest.fixture
def previous(tmp_path):
    results = tmp_path / "results"
    (results / "tables").mkdir(parents=True)
    (results / "tables" / "old.csv").write_text("a\n1\n")
    (results / "benchmarks.md").write_text("# speed\n")
    return results


def test_swap_replaces_the_folder_whole_and_carries_kept_files(previous):
    new = staging.begin(previous)
    assert new.parent == previous.parent and new.name == f"results.partial-{os.getpid()}"
    (new / "tables").mkdir()
    (new / "tables" / "new.csv").write_text("b\n2\n")
    assert staging.carry(previous, new, ("benchmarks.md", "absent.md")) == ["benchmarks.md"]
    staging.swap(new, previous)
    assert files(previous) == {"tables/new.csv": b"b\n2\n", "benchmarks.md": b"# speed\n"}
    assert sorted(p.name for p in previous.parent.iterdir()) == ["results"]


def test_a_report_that_never_swaps_leaves_the_previous_folder(previous):
    before = files(previous)
    new = staging.begin(previous)
    (new / "tables").mkdir()
    (new / "tables" / "old.csv").write_text("half written")
    assert files(previous) == before


def test_leftovers_of_ended_runs_are_cleaned_and_live_ones_kept(previous):
    dead, alive = dead_pid(), os.getppid()
    for pid in (dead, alive):
        (staging.staging_dir(previous, pid) / "notebooks").mkdir(parents=True)
    (previous.parent / "results.notes").mkdir()  # not ours: no pid suffix
    removed = staging.clean_stale(previous)
    assert removed == [staging.staging_dir(previous, dead)]
    assert staging.staging_dir(previous, alive).is_dir() and (previous.parent / "results.notes").is_dir()


def test_a_run_killed_between_the_renames_gets_its_previous_folder_back(previous):
    before = files(previous)
    aside = previous.with_name(f"results.{staging.ASIDE}-{dead_pid()}")
    previous.rename(aside)
    staging.clean_stale(previous)
    assert files(previous) == before and not aside.exists()


def test_a_failing_report_removes_its_staging_folder_and_keeps_results(previous, tmp_path, monkeypatch):
    before = files(previous)
    (tmp_path / "build").mkdir()

    def fail(results, *_args):
        (results / "tables").mkdir()
        (results / "tables" / "half.csv").write_text("x")
        raise KeyboardInterrupt

    monkeypatch.setattr(execute, "_run_notebooks", fail)
    with pytest.raises(KeyboardInterrupt):
        execute.run_all(previous, tmp_path / "build", sources=[tmp_path / "01_x.py"])
    assert files(previous) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["build", "results"]


# -- the HTML pages --------------------------------------------------------------------------------------------
PNG_SAVED = b"\x89PNG saved figure bytes"
PNG_INLINE = b"\x89PNG inline render of the saved figure"
PNG_OTHER = b"\x89PNG an image with no file"


def image(data: bytes, metadata: dict | None = None):
    return nbformat.v4.new_output("display_data", data={"image/png": base64.b64encode(data).decode(),
                                                        "text/plain": "<Figure>"}, metadata=metadata or {})


@pytest.fixture
def page(tmp_path):
    results = tmp_path / "results"
    (results / "figures").mkdir(parents=True)
    (results / "figures" / "totals.png").write_bytes(PNG_SAVED)
    (results / "figures" / "curve.png").write_bytes(PNG_OTHER + b"!")
    cell = nbformat.v4.new_code_cell("fig", execution_count=1, outputs=[
        image(PNG_INLINE, {"image/png": {FIGURE_METADATA: {"file": "figures/totals.png", "caption": "Totals <by> year"}}}),
        image(PNG_SAVED),  # displayed from the file itself (IPython.display.Image)
        image(PNG_OTHER)])
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("# Title"), cell])
    return execute.to_html(nb, results, title="02_descriptives")


def test_html_links_the_shared_stylesheet_and_embeds_no_style(page):
    assert '<link rel="stylesheet" href="notebook.css">' in page and "<style" not in page.split("<body>")[0]
    assert "<title>02_descriptives</title>" in page and "<h1" in page


def test_html_shows_saved_figures_from_their_file(page):
    assert page.count('src="../figures/totals.png"') == 2
    assert 'alt="Totals &lt;by&gt; year"' in page
    encoded = [base64.b64encode(b).decode() for b in (PNG_SAVED, PNG_INLINE, PNG_OTHER)]
    assert encoded[0] not in page and encoded[1] not in page
    assert f"data:image/png;base64,{encoded[2]}" in page  # no file: stays embedded


def test_executed_notebook_stores_saved_figures_once(tmp_path):
    """The .ipynb written to results/ refers to the saved figures' files (as the HTML does)
    instead of embedding them again; an image with no file stays embedded."""
    results = tmp_path / "results"
    (results / "figures").mkdir(parents=True)
    (results / "figures" / "totals.png").write_bytes(PNG_SAVED)
    cell = nbformat.v4.new_code_cell("fig", execution_count=1, outputs=[
        image(PNG_INLINE, {"image/png": {FIGURE_METADATA: {"file": "figures/totals.png", "caption": "Totals"}}}),
        image(PNG_SAVED), image(PNG_OTHER)])
    nb = nbformat.v4.new_notebook(cells=[cell])
    linked = execute.link_figures(nb, results)
    outs = linked.cells[0].outputs
    assert [sorted(o.data) for o in outs] == [["text/html", "text/plain"], ["text/html", "text/plain"], ["image/png",
                                                                                                    "text/plain"]]
    assert outs[0].data["text/plain"] == "[figure: figures/totals.png] Totals"
    assert 'src="../figures/totals.png"' in outs[1].data["text/html"]
    assert "image/png" in nb.cells[0].outputs[0].data  # the executed notebook itself is not changed


def test_stylesheet_highlights_code_and_styles_tables():
    css = execute.stylesheet()
    assert ".highlight .k" in css and "table" in css and len(css) < 20_000
