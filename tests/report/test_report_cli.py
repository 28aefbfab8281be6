"""``citydip replicate`` as a user runs it (a separate process, synthetic demo): a quiet console,
results/ replaced whole, an interrupted run that loses nothing, and light HTML pages.

The build folder is a copy of the session's synthetic build (``synthetic_report``), so the
panel and estimates are reused and each run executes only the notebooks."""

from __future__ import annotations

import base64
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from types import SimpleNamespace

import pytest

from citydip.config import HASH_SEED, PROJECT_ROOT
from citydip.report import execute

pytestmark = [pytest.mark.slow, pytest.mark.notebooks]

#: What kernels, traitlets, nbclient, nbconvert and jupyter_client print when left alone.
NOISE = ("Kernel is running over TCP", "[IPKernelApp]", "traitlets", "INFO:", "WARNING:", "Alternative text",
         "Executing notebook with kernel", "nbconvert", "jupyter_client", "DeprecationWarning", "FutureWarning",
         "UserWarning", "RuntimeWarning")
STALE = "tables/stale_output_of_an_old_version.csv"
BENCHMARKS = "# Benchmarks\n\nwritten by benchmarks/speccurve.py\n"


def command(root: Path, *args: str) -> list[str]:
    return [sys.executable, "-m", "citydip.cli", "replicate", "--build-dir", str(root / "build"),
            "--results-dir", str(root / "results"), *args]


def environment(root: Path) -> dict[str, str]:
    return {**os.environ, "CITYDIP_DATA_DIR": str(root / "no-data"), "PYTHONHASHSEED": HASH_SEED}


def replicate(root: Path) -> subprocess.CompletedProcess:
    return subprocess.run(command(root), check=False, env=environment(root), cwd=PROJECT_ROOT, capture_output=True,
                          text=True, timeout=900)


def snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def leftovers(root: Path) -> list[str]:
    return sorted(p.name for p in root.iterdir() if p.name.startswith("results."))


@pytest.fixture(scope="module")
def cli_run(synthetic_report, tmp_path_factory) -> SimpleNamespace:
    """One ``citydip replicate`` over a previous complete report that also holds a stale output
    and the benchmarks' file."""
    root = tmp_path_factory.mktemp("cli-replicate")
    (root / "no-data").mkdir()
    (root / "build").mkdir()
    for p in synthetic_report.build.iterdir():
        if p.is_file():
            shutil.copy2(p, root / "build" / p.name)
    shutil.copytree(synthetic_report.results, root / "results")
    (root / "results" / STALE).write_text("old\n")
    (root / "results" / "benchmarks.md").write_text(BENCHMARKS)
    return SimpleNamespace(root=root, results=root / "results", build=root / "build", proc=replicate(root))


def test_the_console_shows_steps_not_kernel_or_library_noise(cli_run):
    proc = cli_run.proc
    assert proc.returncode == 0, proc.stderr
    console = proc.stdout + proc.stderr
    assert [pattern for pattern in NOISE if pattern in console] == []
    steps = [line for line in proc.stderr.splitlines() if line.startswith("[")]
    assert [s.split(":")[0] for s in steps] == ["[1/3] panel", "[2/3] estimates", "[3/3] report"]
    assert not any(line.startswith("      ") for line in proc.stderr.splitlines())  # sub-steps: in the log
    assert "replicate finished in" in proc.stdout
    log = (cli_run.build / "logs" / "replicate.log").read_text()
    assert "Executing notebook with kernel" in log  # routed to the log, not lost
    assert all(f"executing {src.name}" in log for src in execute.notebook_sources())


def test_results_are_replaced_whole_keeping_the_benchmarks(cli_run):
    results = cli_run.results
    assert not (results / STALE).exists()
    assert (results / "benchmarks.md").read_text() == BENCHMARKS
    assert "benchmarks.md" in (results / "README.md").read_text()
    assert leftovers(cli_run.root) == []


def displayed_figures(results: Path) -> set[str]:
    """Figures of results/figures/ an executed notebook displays: each refers to its file
    (``[figure: figures/x.png]`` with an ``<img>`` of it), and none is embedded a second time."""
    saved = {base64.b64encode(p.read_bytes()).decode() for p in (results / "figures").glob("*.png")}
    found = set()
    for path in (results / "notebooks").glob("*.ipynb"):
        for cell in json.loads(path.read_text())["cells"]:
            for out in cell.get("outputs", []):
                data = out.get("data", {})
                assert "".join(data.get("image/png", "")) not in saved, path.name
                text = "".join(data.get("text/plain", ""))
                if text.startswith("[figure: "):
                    file = text[len("[figure: "):text.index("]")]
                    assert f'src="../{file}"' in "".join(data.get("text/html", "")), (path.name, file)
                    found.add(file)
    return found


def test_html_pages_share_one_stylesheet_and_link_saved_figures(cli_run):
    results = cli_run.results
    pages = sorted((results / "notebooks").glob("*.html"))
    assert len(pages) == len(execute.notebook_sources())
    assert (results / "notebooks" / execute.STYLESHEET).is_file()
    linked = set()
    for page in pages:
        text = page.read_text()
        assert '<link rel="stylesheet" href="notebook.css">' in text and "<style type=\"text/css\">" not in text
        for src in re.findall(r'<img [^>]*src="\.\./(figures/[^"]+)"', text):
            assert (results / src).is_file(), (page.name, src)
            linked.add(src)
    assert len(linked) >= 5 and linked == displayed_figures(results)
    embedded = sum(len(m) for p in pages for m in re.findall(r"data:image/png;base64,[^\"']+", p.read_text()))
    assert embedded < 100_000  # figures are shown from figures/, not embedded a second time


def test_a_killed_report_leaves_the_previous_results_and_the_next_run_completes(cli_run):
    root, results = cli_run.root, cli_run.results
    before = snapshot(results)
    proc = subprocess.Popen(command(root), env=environment(root), cwd=PROJECT_ROOT, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, start_new_session=True)
    staging = root / f"results.partial-{proc.pid}"
    deadline = time.monotonic() + 300
    try:  # kill while the notebooks execute: once the first has written into the staging folder
        while not (staging / ".manifest").is_dir() and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.2)
        assert proc.poll() is None and (staging / ".manifest").is_dir(), "the report did not start staging"
    finally:
        os.killpg(proc.pid, signal.SIGKILL)  # the command and its kernels
        proc.wait()
    assert snapshot(results) == before
    assert leftovers(root) == [staging.name]

    again = replicate(root)
    assert again.returncode == 0, again.stderr
    assert leftovers(root) == []
    assert (results / "benchmarks.md").read_text() == BENCHMARKS
    assert set(snapshot(results)) == set(before)  # the same outputs, complete
