"""``citydip report``: execute every notebook headlessly into ``results/`` and write the map.

Notebooks are kept as plain-text jupytext "percent" scripts (``notebooks/NN_name.py``).
Each is converted, executed with nbclient (independent notebooks run in parallel, one kernel
each), and written as ``results/notebooks/NN_name.ipynb`` and ``.html``. A failing cell
fails the run with the notebook, cell and error. ``results/README.md`` is then generated
from the manifests the notebooks wrote (see :mod:`citydip.report.notebook`).

The report is written into a staging folder and replaces ``results/`` whole at the end
(:mod:`citydip.report.staging`): an interrupted run leaves the previous report as it was,
and files of ``results/`` the report does not write are gone, except those in :data:`KEEP`.
The kernels' own output (warnings, log lines) goes to a log file, not to the console.

The HTML pages are light: nbconvert's ``basic`` template (cells only) in a page that links
one shared stylesheet (``notebooks/notebook.css``); a figure the notebook also saved with
``ctx.figure`` is shown from ``figures/`` instead of being embedded a second time.
"""

from __future__ import annotations

import base64
import hashlib
import html as html_lib
import json
import os
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from citydip.atomic import atomic_write_text
from citydip.config import BUILD_DIR_ENV, HASH_SEED, PROJECT_ROOT
from citydip.errors import CitydipError
from citydip.report import staging as stage
from citydip.report.notebook import FIGURE_METADATA, RESULTS_DIR_ENV

NOTEBOOKS_DIR = PROJECT_ROOT / "notebooks"
CELL_TIMEOUT_SECONDS = 600
#: Seconds each notebook took in the last run (in the build folder), to start the longest first.
TIMINGS_FILE = "notebook_seconds.json"
#: Files of results/ written by other programs, carried over when the report replaces results/.
KEEP = ("benchmarks.md",)  # benchmarks/speccurve.py and benchmarks/null_test.py
#: The stylesheet the HTML pages share, in results/notebooks/.
STYLESHEET = "notebook.css"


@dataclass
class NotebookRun:
    name: str
    seconds: float
    error: str = ""


def notebook_sources(folder: Path = NOTEBOOKS_DIR) -> list[Path]:
    """The report notebooks, in order (``NN_*.py``)."""
    return sorted(p for p in folder.glob("[0-9][0-9]_*.py"))


def execute(source: Path, results: Path, *, output=None) -> NotebookRun:
    """Execute one notebook; write its .ipynb and .html into ``results/notebooks``. The kernel
    finds its inputs through the environment (see :func:`run_all`); its own stdout and stderr
    go to the open file ``output`` (default: inherited)."""
    import jupytext
    import nbformat
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError

    start = time.perf_counter()
    nb = jupytext.read(source)
    for i, cell in enumerate(nb.cells):  # stable ids (jupytext draws random ones): identical reruns
        cell.id = f"cell-{i:03d}"
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    error = ""
    try:
        client = NotebookClient(nb, timeout=CELL_TIMEOUT_SECONDS, kernel_name="python3", record_timing=False,
                                resources={"metadata": {"path": str(PROJECT_ROOT)}})
        streams = {} if output is None else {"stdout": output, "stderr": output}
        client.execute(**streams)  # the kernel inherits CITYDIP_BUILD_DIR/CITYDIP_RESULTS_DIR (set by run_all)
    except CellExecutionError as exc:
        error = f"{source.name}: a cell failed:\n{exc}"
    for cell in nb.cells:
        cell.metadata.pop("execution", None)
        if cell.cell_type == "code":
            cell.outputs = _coalesce_streams(cell.outputs)
    out = results / "notebooks" / source.stem
    linked = link_figures(nb, results)  # each figure stored once, in results/figures/
    atomic_write_text(out.with_suffix(".ipynb"), nbformat.writes(linked) + "\n")
    atomic_write_text(out.with_suffix(".html"), to_html(linked, results, title=source.stem, linked=True))
    return NotebookRun(source.stem, time.perf_counter() - start, error)


PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<link rel="stylesheet" href="{stylesheet}">
</head>
<body>
<main class="notebook">
{body}
</main>
</body>
</html>
"""

#: The page style (classes of nbconvert's classic/basic cells); code colours are added from pygments.
STYLE = """body { margin: 0; color: #1f2328; background: #fff;
  font: 15px/1.55 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; }
main.notebook { max-width: 1180px; margin: 0 auto; padding: 1.5em 1.5em 4em; }
.cell { margin: 0.5em 0; }
.text_cell, .input, .output_area { display: flex; }
.prompt { flex: 0 0 5.5em; padding: 0.45em 0.6em 0 0; text-align: right; color: #8a8f98;
  font: 11px/1.4 ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; }
.inner_cell, .output_subarea { flex: 1 1 auto; min-width: 0; overflow-x: auto; }
.input_area { background: #f6f8fa; border: 1px solid #d8dee4; border-radius: 4px; padding: 0.35em 0.7em; }
pre, code { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: 12.5px; }
pre { margin: 0; line-height: 1.45; white-space: pre; }
.output_text pre { white-space: pre-wrap; padding: 0.35em 0; }
.output_stderr { background: #fff4f4; }
.output_error pre { color: #b42318; }
img { max-width: 100%; height: auto; }
.output_subarea img { display: block; margin: 0.4em 0; }
table { border-collapse: collapse; margin: 0.6em 0; font-size: 13px; font-variant-numeric: tabular-nums; }
th, td { border: 1px solid #d8dee4; padding: 0.25em 0.6em; text-align: right; vertical-align: top; }
thead th, tbody th { background: #f6f8fa; }
.text_cell_render th, .text_cell_render td { text-align: left; }
.text_cell_render h1 { font-size: 1.7em; border-bottom: 1px solid #d8dee4; padding-bottom: 0.2em; }
.text_cell_render h2 { font-size: 1.35em; margin-top: 1.4em; }
a.anchor-link { visibility: hidden; margin-left: 0.3em; text-decoration: none; color: #8a8f98; }
h1:hover > a.anchor-link, h2:hover > a.anchor-link, h3:hover > a.anchor-link { visibility: visible; }
@media print { .cell { page-break-inside: avoid; } }
"""


def stylesheet() -> str:
    """The shared stylesheet: :data:`STYLE` and pygments' colours for highlighted code."""
    from pygments.formatters import HtmlFormatter

    return STYLE + HtmlFormatter(style="default").get_style_defs(".highlight") + "\n"


def to_html(nb, results: Path, *, title: str, linked: bool = False) -> str:
    """The executed notebook as a light HTML page in ``results/notebooks/``: cells only, the
    shared stylesheet linked, figures shown from ``results/figures/`` (see :func:`link_figures`;
    ``linked``: ``nb`` already went through it)."""
    from nbconvert import HTMLExporter

    body, _ = HTMLExporter(template_name="basic").from_notebook_node(nb if linked else link_figures(nb, results))
    return PAGE.format(title=html_lib.escape(title), stylesheet=STYLESHEET, body=body.strip())


def link_figures(nb, results: Path):
    """A copy of the executed notebook in which every image that is also a file of
    ``results/figures/`` (recorded by ``ctx.figure`` or byte-identical) is shown from there
    (an ``<img>`` with the caption as alt text, and the caption as plain text) instead of
    embedded: the report stores each figure once."""
    import copy

    nb = copy.deepcopy(nb)
    by_digest = {hashlib.sha256(p.read_bytes()).hexdigest(): p for p in sorted((results / "figures").glob("*.png"))}
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            png = out.get("data", {}).get("image/png")
            if png is None:
                continue
            saved = out.get("metadata", {}).get("image/png", {}).get(FIGURE_METADATA) or {}
            path = results / saved["file"] if saved.get("file") else None
            if path is None or not path.is_file():
                path = by_digest.get(hashlib.sha256(base64.b64decode(png)).hexdigest())
            if path is None:
                continue
            caption = saved.get("caption") or path.stem.replace("_", " ")
            alt = html_lib.escape(caption, quote=True)
            src = html_lib.escape(path.relative_to(results).as_posix(), quote=True)
            out["data"] = {"text/html": f'<img src="../{src}" alt="{alt}" loading="lazy">',
                           "text/plain": f"[figure: {path.relative_to(results).as_posix()}] {caption}"}
            out["metadata"] = {}
    return nb


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
            progress: Callable[[str], None] | None = None, tick: Callable[[], None] | None = None,
            log: Path | None = None, keep: tuple[str, ...] = KEEP) -> list[NotebookRun]:
    """Execute the notebooks (``workers`` at a time) and write ``results/README.md``, all into a
    staging folder that then replaces ``results`` whole (files named in ``keep`` are carried
    over). ``progress`` gets a line as each notebook starts and ends, ``tick`` is called as
    each ends; the kernels' output is appended to ``log`` (default ``<build>/logs/report.log``).
    On any failure or interruption ``results`` is left as it was."""
    say = progress or (lambda _m: None)
    results, build = Path(results).resolve(), Path(build).resolve()  # kernels run in the project folder
    sources = sources if sources is not None else notebook_sources()
    if not sources:
        raise CitydipError(f"no notebooks found in {NOTEBOOKS_DIR}")
    log = Path(log) if log is not None else build / "logs" / "report.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    staging = stage.begin(results)
    try:
        with open(log, "a", encoding="utf-8") as output:
            runs = _run_notebooks(staging, build, sources, workers, say, tick or (lambda: None), output)
        stage.carry(results, staging, keep)
        atomic_write_text(staging / "notebooks" / STYLESHEET, stylesheet())
        write_build_atlas(build, staging / "atlas.html")
        write_results_readme(staging, build)
        failed = [r for r in runs if r.error]
        if failed:
            raise CitydipError("notebooks failed:\n" + "\n\n".join(r.error for r in failed)
                               + f"\n{results} is unchanged; kernel output in {log}")
    except BaseException:
        stage.discard(staging)
        raise
    stage.swap(staging, results)
    return runs


def write_build_atlas(build: Path, path: Path) -> Path:
    """The offline atlas (:mod:`citydip.report.atlas`) of the panel in ``build``, with its
    partner countries (``partners.csv``) when the build wrote them."""
    from citydip.estimation.outputs import is_synthetic
    from citydip.report.atlas import write_atlas

    panel_path = build / "panel.parquet"
    panel = pd.read_parquet(panel_path)
    partners_path = build / "partners.csv"
    partners = pd.read_csv(partners_path, dtype={"cbsa_code": str}) if partners_path.is_file() else None
    if partners is not None and partners.empty:
        partners = None
    return write_atlas(panel, path, synthetic=is_synthetic(panel_path, panel), partners=partners)


def _run_notebooks(results: Path, build: Path, sources: list[Path], workers: int, say: Callable[[str], None],
                   tick: Callable[[], None], output) -> list[NotebookRun]:
    """Execute ``sources`` into ``results``, the longest first; record their times in ``build``."""
    # Kernels inherit the environment when they start: the same build/results folders for all.
    os.environ.update({BUILD_DIR_ENV: str(build), RESULTS_DIR_ENV: str(results), "MPLBACKEND": "Agg",
                       "PYTHONHASHSEED": HASH_SEED})

    def one(src: Path) -> NotebookRun:
        say(f"executing {src.name}")
        run = execute(src, results, output=output)
        say(f"{src.name}: {'FAILED' if run.error else 'done'} in {run.seconds:.1f} s")
        tick()
        return run

    timings_path = build / TIMINGS_FILE
    previous = json.loads(timings_path.read_text()) if timings_path.is_file() else {}
    # Longest first (by the previous run; new notebooks first of all): the shortest total time.
    order = sorted(sources, key=lambda src: (-previous.get(src.stem, float("inf")), src.name))
    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        runs = sorted(pool.map(one, order), key=lambda r: r.name)
    atomic_write_text(timings_path, json.dumps({r.name: round(r.seconds, 1) for r in runs}, indent=1) + "\n")
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
        "`atlas.html` is an offline map of the panel (one self-contained file: open it in a browser; no "
        "network needed), written by `citydip report` from `build/panel.parquet` and `build/partners.csv` "
        "(`citydip/report/atlas.py`).",
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
