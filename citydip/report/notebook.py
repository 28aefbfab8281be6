"""What a report notebook uses: its inputs (the built panel and estimates) and the record
of every table and figure it writes into ``results/``.

A notebook starts with ``ctx = notebook.start("03_fixed_effects")``: ``ctx.panel``,
``ctx.estimates``, ... are the outputs of ``citydip build`` and ``citydip estimate`` (folder
``$CITYDIP_BUILD_DIR``, default ``build/``), and ``ctx.synthetic`` says whether they come from
the synthetic demo panel (a banner is printed if so). ``ctx.table(frame, "name", cell=...)``
and ``ctx.figure(fig, "name", cell=...)`` write ``results/tables/name.*`` and
``results/figures/name.png`` atomically and record (file, notebook, cell, caption) in
``results/.manifest/<notebook>.json``, from which ``citydip report`` writes the map in
``results/README.md``. A figure saved so and then displayed carries, in its output's metadata
(key :data:`FIGURE_METADATA`), the file and caption: the HTML pages show the file instead of
embedding the image a second time.
"""

from __future__ import annotations

import json
import os
import weakref
from dataclasses import dataclass, field, replace
from functools import cached_property
from pathlib import Path

import pandas as pd

from citydip.atomic import atomic_csv, atomic_csv_gz, atomic_write_text
from citydip.config import PROJECT_ROOT, build_dir

RESULTS_DIR_ENV = "CITYDIP_RESULTS_DIR"
SYNTHETIC_MARK = "SYNTHETIC DEMO DATA"
SYNTHETIC_BANNER = "SYNTHETIC DEMO DATA: every number below comes from the synthetic panel, NOT from real data."
#: Key of a displayed figure's PNG metadata naming its file in results/ and its caption.
FIGURE_METADATA = "citydip_figure"
#: Figures saved by ``Context.figure`` in this kernel -> {"file": "figures/name.png", "caption": ...}.
_SAVED_FIGURES: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def results_dir() -> Path:
    return Path(os.environ.get(RESULTS_DIR_ENV, PROJECT_ROOT / "results"))


@dataclass
class Context:
    """Inputs and outputs of one notebook."""

    notebook: str
    build: Path
    results: Path
    records: list[dict] = field(default_factory=list)

    # -- inputs ---------------------------------------------------------------------------------------
    @cached_property
    def provenance(self) -> dict:
        return json.loads((self.build / "provenance.json").read_text())

    @property
    def synthetic(self) -> bool:
        return bool(self.provenance.get("synthetic", False))

    @cached_property
    def panel(self) -> pd.DataFrame:
        return pd.read_parquet(self.build / "panel.parquet")

    @cached_property
    def estimates(self) -> pd.DataFrame:
        return pd.read_csv(self.build / "estimates.csv")

    @cached_property
    def pretrend(self) -> pd.DataFrame:
        return pd.read_csv(self.build / "pretrend.csv")

    @cached_property
    def match_report(self) -> pd.DataFrame:
        return pd.read_csv(self.build / "match_report.csv", keep_default_na=False)

    @cached_property
    def variants(self) -> tuple[list[dict], dict[str, pd.DataFrame]]:
        """The robustness variants of the panel (index, panels by name); empty for the synthetic
        demo or a build made without ``--variants`` (see :mod:`citydip.panel.variants`)."""
        from citydip.panel.variants import read_variants

        return read_variants(self.build / "variants")

    def read(self, name: str) -> pd.DataFrame:
        """Any CSV output of the build folder (e.g. 'forest_importance')."""
        return pd.read_csv(self.build / f"{name}.csv")

    @property
    def data_label(self) -> str:
        return "SYNTHETIC demo data" if self.synthetic else "real data"

    # -- outputs --------------------------------------------------------------------------------------
    def table(self, table, name: str, *, cell: str, caption: str = "", markdown: bool = True,
              compress: bool = False) -> list[Path]:
        """Write a DataFrame (``.csv``, ``.csv.gz`` if ``compress``, and ``.md`` unless
        ``markdown=False``, e.g. for a table of thousands of rows) or a regression table (``.md``,
        ``.tex``, ``.html``) to ``results/tables/`` and record it."""
        folder = self.results / "tables"
        paths = []
        if isinstance(table, pd.DataFrame):
            frame = table.assign(data=self.data_label) if self.synthetic else table
            write, suffix = (atomic_csv_gz, ".csv.gz") if compress else (atomic_csv, ".csv")
            paths.append(write(frame, folder / f"{name}{suffix}"))
            if markdown:
                paths.append(atomic_write_text(folder / f"{name}.md", _markdown(frame, caption, self.synthetic)))
            else:
                (folder / f"{name}.md").unlink(missing_ok=True)
        else:
            if self.synthetic and SYNTHETIC_MARK not in table.caption:
                table = replace(table, caption=f"{SYNTHETIC_MARK}, NOT REAL. {table.caption}".strip())
            for suffix in (".md", ".tex", ".html"):
                paths.append(table.write(folder / f"{name}{suffix}"))
        self._record(paths, "table", cell, caption)
        return paths

    def figure(self, fig, name: str, *, cell: str, caption: str = "") -> Path:
        """Save a matplotlib figure to ``results/figures/name.png`` (byte-stable) and record it."""
        from citydip.report.figures import save_figure

        if self.synthetic and fig.axes and not fig.get_suptitle().startswith(SYNTHETIC_MARK):
            title = fig.get_suptitle()  # placed by the layout engine (no fixed y), above any title
            fig.suptitle(SYNTHETIC_MARK + (f"\n{title}" if title else ""), color="firebrick", fontsize=9)
        path = self.results / "figures" / f"{name}.png"
        save_figure(fig, path)
        _SAVED_FIGURES[fig] = {"file": f"figures/{name}.png", "caption": caption or name}
        self._record([path], "figure", cell, caption)
        return path

    def _record(self, paths: list[Path], kind: str, cell: str, caption: str) -> None:
        for path in paths:
            self.records.append({"file": str(path.relative_to(self.results)), "kind": kind,
                                 "notebook": self.notebook, "cell": cell, "caption": caption,
                                 "program": "citydip report (notebooks/" + self.notebook + ".py)"})
        manifest = self.results / ".manifest" / f"{self.notebook}.json"
        atomic_write_text(manifest, json.dumps(self.records, indent=1, sort_keys=True) + "\n")


def start(notebook: str) -> Context:
    """The context of ``notebook``; prints the data label (loudly when synthetic)."""
    ctx = Context(notebook, build_dir(), results_dir())
    _inline_figures()
    (ctx.results / ".manifest" / f"{notebook}.json").unlink(missing_ok=True)
    if not (ctx.build / "panel.parquet").is_file():
        raise FileNotFoundError(f"{ctx.build / 'panel.parquet'} not found: run `citydip build` and "
                                "`citydip estimate` (or `citydip replicate`) first")
    if ctx.synthetic:
        print("*" * 80 + f"\n{SYNTHETIC_BANNER}\n" + "*" * 80)
    else:
        print(f"Data: real panel built {ctx.provenance.get('rows')} rows, commit {ctx.provenance.get('git_commit')}")
    return ctx


def _markdown(frame: pd.DataFrame, caption: str, synthetic: bool) -> str:
    head = f"**{SYNTHETIC_MARK}, NOT REAL.**\n\n" if synthetic else ""
    title = f"{caption}\n\n" if caption else ""
    return head + title + frame.to_markdown(index=False, floatfmt=".4g") + "\n"


def _inline_figures() -> None:
    """In a kernel, show matplotlib ``Figure`` objects as PNG images in the executed notebook."""
    try:
        from IPython import get_ipython
    except ImportError:
        return
    shell = get_ipython()
    if shell is not None and hasattr(shell, "kernel"):
        shell.run_line_magic("matplotlib", "inline")
        _mark_saved_figures(shell)


def _mark_saved_figures(shell) -> None:
    """Make the PNG of a displayed figure that ``Context.figure`` saved carry its file and
    caption in the output's metadata (the image itself is the inline backend's)."""
    from matplotlib.figure import Figure

    formatter = shell.display_formatter.formatters["image/png"]
    try:
        inline = formatter.lookup_by_type(Figure)
    except KeyError:
        return
    if getattr(inline, "marks_saved_figures", False):
        return

    def png(fig):
        from citydip.report.figures import palette_png

        data = inline(fig)
        data = palette_png(data) if isinstance(data, bytes) else data
        saved = _SAVED_FIGURES.get(fig)
        return (data, {FIGURE_METADATA: saved}) if data is not None and saved else data

    png.marks_saved_figures = True
    formatter.for_type(Figure, png)
