"""Figures from the tidy estimates: coefficient plots, event-study paths, size-class effects.

Each function returns a :class:`matplotlib.figure.Figure` and, given ``path``, also saves it
atomically (temporary file in the same folder, then ``os.replace``) in the format of the
suffix (``.png``, ``.pdf``, ``.svg``, ...).

The figures are drawn on matplotlib's Agg canvas directly, without :mod:`matplotlib.pyplot`:
no display is needed, the process's backend is left as it is, and no figure is kept in a
global registry. They use matplotlib's default style with the overrides in :data:`STYLE`
(whatever the user's rcParams), a fixed size and resolution, and no time stamp or software
version in the file's metadata, so the same input gives a byte-identical PNG.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path

import matplotlib
import matplotlib.style
import numpy as np
import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from citydip.errors import CitydipError
from citydip.atomic import atomic_write
from citydip.report.labels import (
    CONTROLS,
    INTERCEPTS,
    SIZE_LABELS,
    base_term,
    term_label,
)

#: Figure size (inches) and resolution (dots per inch) of every figure.
FIGSIZE = (6.4, 4.0)
DPI = 200
#: Style overrides on top of matplotlib's defaults.
STYLE = {"font.size": 9, "axes.spines.top": False, "axes.spines.right": False, "legend.frameon": False,
         "svg.hashsalt": "citydip", "svg.fonttype": "path", "pdf.fonttype": 42}
#: Metadata entries blanked per format (time stamps, software versions).
METADATA = {"png": {"Software": None}, "pdf": {"Creator": None, "Producer": None, "CreationDate": None},
            "svg": {"Creator": None, "Date": None}, "ps": {"Creator": None}, "eps": {"Creator": None}}
#: Normal quantile for intervals computed from a standard error when the tidy table has none.
Z95 = 1.959963984540054
MARKERS = ("o", "s", "D", "^", "v", "P", "X", "<", ">")
_ZERO = {"color": "0.35", "linewidth": 0.8, "linestyle": "--", "zorder": 0}


def coefficient_plot(tidy: pd.DataFrame, terms: Sequence[str] | None = None, models: Sequence[str] | None = None,
                     path: str | os.PathLike | None = None, *, labels: Mapping[str, str] | None = None,
                     title: str | None = None) -> Figure:
    """Estimates with 95% confidence intervals, one row per term and one marker per model.

    Default ``terms``: every term but intercepts and the controls (log population, log
    per-capita income), in order of first appearance; if that leaves none, every term.
    Models (default: all, in order of appearance) are offset within a term's row, the first
    on top.
    """
    with _style():
        frame = _estimates(tidy)
        chosen = _models(frame, models)
        frame = frame[frame["model"].isin(chosen)]
        available = list(pd.unique(frame["term"]))
        if terms is None:
            rows = [t for t in available if t not in INTERCEPTS and base_term(t) not in CONTROLS] or \
                   [t for t in available if t not in INTERCEPTS] or available
        else:
            rows = list(terms)
            unknown = [t for t in rows if t not in available]
            if unknown:
                raise CitydipError(f"terms {unknown} are in none of the models {chosen}")
        fig, ax = _figure()
        height = np.arange(len(rows))[::-1].astype(float)
        for j, (model, offset) in enumerate(zip(chosen, _offsets(len(chosen)))):
            est, low, high = _interval(frame[frame["model"] == model].set_index("term").reindex(rows))
            ax.errorbar(est, height - offset, xerr=_lengths(est, low, high), fmt=MARKERS[j % len(MARKERS)],
                        markersize=4.5, capsize=2.5, elinewidth=1.1, label=model)
        ax.axvline(0.0, **_ZERO)
        ax.set_yticks(height, [term_label(t, labels) for t in rows])
        ax.set_ylim(-0.6, len(rows) - 0.4)
        ax.set_xlabel("Estimate (95% confidence interval)")
        _finish(fig, ax, title, legend=True)
        save_figure(fig, path)
    return fig


def event_study_plot(frame: pd.DataFrame, path: str | os.PathLike | None = None, *, reference: int | None = -1,
                     title: str | None = None, ylabel: str = "Estimate (95% confidence interval)") -> Figure:
    """An event-study path: estimates by event time with 95% intervals.

    ``frame`` has columns event_time, estimate, conf_low, conf_high (one row per event time,
    as :attr:`citydip.estimation.events.EventStudy.estimates`). The reference period
    (``reference``, default -1, normalised to zero) is drawn as an open marker at zero, in
    the legend; a dotted vertical line at -0.5 separates the leads from the treatment year,
    a dashed horizontal line marks zero.
    """
    missing = [c for c in ("event_time", "estimate", "conf_low", "conf_high") if c not in frame.columns]
    if missing:
        raise CitydipError(f"the event-study frame has no columns {missing}")
    if frame.empty:
        raise CitydipError("the event-study frame is empty")
    if frame["event_time"].duplicated().any():
        raise CitydipError("the event-study frame has more than one row for an event time")
    with _style():
        data = frame.sort_values("event_time", kind="stable")
        times = data["event_time"].to_numpy(dtype=float)
        est, low, high = (data[c].to_numpy(dtype=float) for c in ("estimate", "conf_low", "conf_high"))
        fig, ax = _figure()
        keep = times != reference if reference is not None else np.ones(len(times), dtype=bool)
        ax.errorbar(times[keep], est[keep], yerr=_lengths(est[keep], low[keep], high[keep]), fmt="o",
                    markersize=4.5, capsize=2.5, elinewidth=1.1, color="C0", label="Estimate (95% CI)")
        if reference is not None:
            ax.scatter([reference], [0.0], s=36, facecolors="white", edgecolors="C0", linewidths=1.2, zorder=3,
                       label=f"Reference period (t = {reference:g})", gid="reference-period")
        ax.axhline(0.0, **_ZERO)
        ax.axvline(-0.5, color="0.35", linewidth=0.8, linestyle=":", zorder=0)
        ticks = sorted(set(times.tolist()) | ({float(reference)} if reference is not None else set()))
        ax.set_xticks(ticks, [f"{t:g}".replace("-", "\N{MINUS SIGN}") for t in ticks])
        ax.set_xlabel("Years relative to the event")
        ax.set_ylabel(ylabel)
        _finish(fig, ax, title, legend=True)
        save_figure(fig, path)
    return fig


def size_class_plot(tidy: pd.DataFrame, measure: str = "sister_active", path: str | os.PathLike | None = None, *,
                    models: Sequence[str] | None = None, labels: Mapping[str, str] | None = None,
                    title: str | None = None) -> Figure:
    """The coefficients of ``measure`` by metro size class (terms ``{measure}_x_small``, ``_mid``,
    ``_large``) with 95% intervals, one marker per model (default: the models that have them)."""
    terms = [f"{measure}_x_{cls}" for cls in SIZE_LABELS]
    with _style():
        frame = _estimates(tidy)
        having = list(pd.unique(frame.loc[frame["term"].isin(terms), "model"]))
        if not having:
            raise CitydipError(f"no model in the tidy table has the size-class terms {terms}")
        chosen = having if models is None else _models(frame, models)
        fig, ax = _figure()
        x = np.arange(len(terms), dtype=float)
        for j, (model, offset) in enumerate(zip(chosen, _offsets(len(chosen)))):
            est, low, high = _interval(frame[frame["model"] == model].set_index("term").reindex(terms))
            ax.errorbar(x + offset, est, yerr=_lengths(est, low, high), fmt=MARKERS[j % len(MARKERS)],
                        markersize=4.5, capsize=2.5, elinewidth=1.1, label=model)
        ax.axhline(0.0, **_ZERO)
        ax.set_xticks(x, [label[0].upper() + label[1:] for label in SIZE_LABELS.values()])
        ax.set_xlim(-0.6, len(terms) - 0.4)
        ax.set_ylabel(f"Coefficient on {term_label(measure, labels)}\n(95% confidence interval)")
        _finish(fig, ax, title, legend=True)
        save_figure(fig, path)
    return fig


# -- helpers ----------------------------------------------------------------------------------------
def _style():
    return matplotlib.style.context(["default", STYLE])


def _figure():
    fig = Figure(figsize=FIGSIZE, dpi=DPI, layout="constrained")
    FigureCanvasAgg(fig)
    return fig, fig.add_subplot()


def _finish(fig: Figure, ax, title: str | None, legend: bool) -> None:
    if title:
        ax.set_title(title)
    if legend:
        ax.legend(loc="best", fontsize="small")


def _estimates(tidy: pd.DataFrame) -> pd.DataFrame:
    missing = [c for c in ("model", "term", "estimate") if c not in tidy.columns]
    if missing:
        raise CitydipError(f"the tidy table has no columns {missing}")
    if tidy.empty:
        raise CitydipError("the tidy table is empty")
    frame = tidy.assign(model=tidy["model"].astype(str), term=tidy["term"].astype(str))
    if frame.duplicated(["model", "term"]).any():
        raise CitydipError("the tidy table has more than one row for a model and term")
    return frame


def _models(frame: pd.DataFrame, models: Sequence[str] | None) -> list[str]:
    present = list(pd.unique(frame["model"]))
    if models is None:
        return present
    chosen = [str(m) for m in models]
    unknown = [m for m in chosen if m not in present]
    if unknown:
        raise CitydipError(f"models {unknown} are not in the tidy table (it has {present})")
    return chosen


def _offsets(n: int) -> np.ndarray:
    """Offsets of ``n`` models within a row or column of width 0.6, centred on zero."""
    step = min(0.25, 0.6 / max(n, 1))
    return (np.arange(n) - (n - 1) / 2) * step


def _interval(rows: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Estimates and 95% bounds; a bound the table lacks is estimate -/+ 1.96 standard errors,
    except for wild-bootstrap rows, whose standard error is not the one their p-value rests on
    (they get no interval rather than a wrong one)."""
    est = rows["estimate"].to_numpy(dtype=float)
    nan = np.full(len(rows), np.nan)
    low = rows["conf_low"].to_numpy(dtype=float) if "conf_low" in rows else nan
    high = rows["conf_high"].to_numpy(dtype=float) if "conf_high" in rows else nan
    if "std_error" in rows:
        se = rows["std_error"].to_numpy(dtype=float)
        if "vcov_type" in rows:
            se = np.where(rows["vcov_type"].astype(str).str.startswith("wild"), np.nan, se)
        low = np.where(np.isnan(low), est - Z95 * se, low)
        high = np.where(np.isnan(high), est + Z95 * se, high)
    return est, low, high


def _lengths(est: np.ndarray, low: np.ndarray, high: np.ndarray) -> np.ndarray:
    """Error-bar lengths below and above the estimate (2 x n, no negatives, NaN -> 0)."""
    lengths = np.vstack([est - low, high - est])
    return np.clip(np.nan_to_num(lengths, nan=0.0), 0.0, None)


def save_figure(fig: Figure, path: str | os.PathLike | None) -> None:
    """Save ``fig`` atomically with fixed dpi and no metadata (byte-stable files); no-op for None."""
    if path is None:
        return
    path = Path(path)
    fmt = path.suffix.lower().lstrip(".")
    if fmt not in fig.canvas.get_supported_filetypes():
        raise CitydipError(f"{path}: cannot save a figure as {path.suffix!r}; use .png, .pdf or .svg")
    atomic_write(path, lambda fh: fig.savefig(fh, format=fmt, dpi=DPI, metadata=METADATA.get(fmt)), binary=True)
