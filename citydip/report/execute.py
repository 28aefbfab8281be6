"""``citydip report``: execute every notebook headlessly into ``results/`` and write the map.

Notebooks are kept as plain-text jupytext "percent" scripts (``notebooks/NN_name.py``).
Each is converted, executed with nbclient (independent notebooks run in parallel, one kernel
each), and written as ``results/notebooks/NN_name.ipynb`` and ``.html``. A failing cell
fails the run with the notebook, cell and error. ``results/README.md`` is then generated
from the manifests the notebooks wrote (see :mod:`citydip.report.notebook`).
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from citydip.atomic import atomic_write_text
from citydip.config import BUILD_DIR_ENV, HASH_SEED, PROJECT_ROOT
from citydip.errors import CitydipError
from citydip.report.notebook import RESULTS_DIR_ENV

NOTEBOOKS_DIR = PROJECT_ROOT / "notebooks"
CELL_TIMEOUT_SECONDS = 600
#: Seconds each notebook took in the last run (in the build folder), to start the longest first.
TIMINGS_FILE = "notebook_seconds.json"


@dataclass
class NotebookRun:
    name: str
    seconds: float
    error: str = ""


def notebook_sources(folder: Path = NOTEBOOKS_DIR) -> list[Path]:
    """The report notebooks, in order (``NN_*.py``)."""
    return sorted(p for p in folder.glob("[0-9][0-9]_*.py"))


def execute(source: Path, results: Path) -> NotebookRun:
    """Execute one notebook; write its .ipynb and .html into ``results/notebooks``. The kernel
    finds its inputs through the environment (see :func:`run_all`)."""
    import jupytext
    import nbformat
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError
    from nbconvert import HTMLExporter

    start = time.perf_counter()
    nb = jupytext.read(source)
    for i, cell in enumerate(nb.cells):  # stable ids (jupytext draws random ones): identical reruns
        cell.id = f"cell-{i:03d}"
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    error = ""
    try:
        client = NotebookClient(nb, timeout=CELL_TIMEOUT_SECONDS, kernel_name="python3", record_timing=False,
                                resources={"metadata": {"path": str(PROJECT_ROOT)}})
        client.execute()  # the kernel inherits CITYDIP_BUILD_DIR/CITYDIP_RESULTS_DIR (set by run_all)
    except CellExecutionError as exc:
        error = f"{source.name}: a cell failed:\n{exc}"
    for cell in nb.cells:
        cell.metadata.pop("execution", None)
        if cell.cell_type == "code":
            cell.outputs = _coalesce_streams(cell.outputs)
    out = results / "notebooks" / source.stem
    atomic_write_text(out.with_suffix(".ipynb"), nbformat.writes(nb) + "\n")
    html, _ = HTMLExporter(template_name="classic").from_notebook_node(nb)
    atomic_write_text(out.with_suffix(".html"), html)
    return NotebookRun(source.stem, time.perf_counter() - start, error)


def _coalesce_streams(outputs: list) -> list:
    """Merge consecutive stdout (stderr) outputs into one: how the kernel split them into
    messages depends on timing, and must not change the executed notebook."""
    merged: list = []
    for out in outputs:
        if out.get("output_type") == "stream" and merged and merged[-1].get("output_type") == "stream" \
                and merged[-1].get("name") == out.get("name"):
            merged[-1]["text"] = "".join(merged[-1]["text"]) + "".join(out["text"])
        else:
            if out.get("output_type") == "stream":
                out["text"] = "".join(out["text"])
            merged.append(out)
    return merged


def run_all(results: Path, build: Path, *, sources: list[Path] | None = None, workers: int = 2,
            progress: Callable[[str], None] | None = None) -> list[NotebookRun]:
    """Execute the notebooks (``workers`` at a time) and write ``results/README.md``."""
    say = progress or (lambda _m: None)
    results, build = Path(results).resolve(), Path(build).resolve()  # kernels run in the project folder
    sources = sources if sources is not None else notebook_sources()
    if not sources:
        raise CitydipError(f"no notebooks found in {NOTEBOOKS_DIR}")
    # Kernels inherit the environment when they start: the same build/results folders for all.
    os.environ.update({BUILD_DIR_ENV: str(build), RESULTS_DIR_ENV: str(results), "MPLBACKEND": "Agg",
                       "PYTHONHASHSEED": HASH_SEED})

    def one(src: Path) -> NotebookRun:
        say(f"executing {src.name}")
        run = execute(src, results)
        say(f"{src.name}: {'FAILED' if run.error else 'done'} in {run.seconds:.1f} s")
        return run

    timings_path = build / TIMINGS_FILE
    previous = json.loads(timings_path.read_text()) if timings_path.is_file() else {}
    # Longest first (by the previous run; new notebooks first of all): the shortest total time.
    order = sorted(sources, key=lambda src: (-previous.get(src.stem, float("inf")), src.name))
    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        runs = sorted(pool.map(one, order), key=lambda r: r.name)
    atomic_write_text(timings_path, json.dumps({r.name: round(r.seconds, 1) for r in runs}, indent=1) + "\n")
    write_results_readme(results, build)
    failed = [r for r in runs if r.error]
    if failed:
        raise CitydipError("notebooks failed:\n" + "\n\n".join(r.error for r in failed))
    return runs


def write_results_readme(results: Path, build: Path) -> Path:
    """``results/README.md``: every table and figure, the notebook and cell that make it."""
    records = []
    for manifest in sorted((results / ".manifest").glob("*.json")):
        records += json.loads(manifest.read_text())
    provenance = json.loads((build / "provenance.json").read_text()) if (build / "provenance.json").is_file() else {}
    synthetic = provenance.get("synthetic", False)
    lines = [
        "# results/: tables and figures of the citydip report",
        "",
        "Generated by `citydip report` (run by `citydip replicate`); do not edit by hand.",
        "",
        ("**These results come from the SYNTHETIC demo panel, not from real data.**" if synthetic else
         f"Data: the real panel ({provenance.get('metros', '?')} metros, years "
         f"{'-'.join(str(y) for y in provenance.get('years', []))}), built from commit "
         f"`{provenance.get('git_commit', 'unknown')}`."),
        "",
        "Executed notebooks are in `notebooks/` (`.ipynb` and `.html`); their sources are the plain-text "
        "jupytext scripts in the project's `notebooks/` folder.",
        "",
        "| output | kind | notebook (cell) | program | content |",
        "|---|---|---|---|---|",
    ]
    for r in sorted(records, key=lambda r: (r["notebook"], r["file"])):
        lines.append(f"| `{r['file']}` | {r['kind']} | `{r['notebook']}` ({r['cell']}) | {r['program']} | "
                     f"{r['caption']} |")
    if (results / "benchmarks.md").is_file():
        lines += ["", "`benchmarks.md` (speed and accuracy of the specification-curve engine against pyfixest) is "
                      "written by `python benchmarks/speccurve.py`, not by `citydip replicate`."]
    return atomic_write_text(results / "README.md", "\n".join(lines) + "\n")
