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

import io
import os
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

import matplotlib
import matplotlib.style
import numpy as np
import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from citydip.atomic import atomic_write
from citydip.errors import CitydipError
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
#: Colours of the palette PNGs the report writes (:func:`palette_png`).
PNG_COLORS = 256
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
    if fmt == "png":
        buffer = io.BytesIO()
        fig.savefig(buffer, format="png", dpi=DPI, metadata=METADATA["png"])
        data = palette_png(buffer.getvalue())
        atomic_write(path, lambda fh: fh.write(data), binary=True)
        return
    atomic_write(path, lambda fh: fig.savefig(fh, format=fmt, dpi=DPI, metadata=METADATA.get(fmt)), binary=True)


def palette_png(data: bytes, colors: int = PNG_COLORS) -> bytes:
    """A PNG re-encoded with a palette of at most ``colors`` colours (median cut, no dithering;
    deterministic, no metadata): report figures use few colours, so this keeps them sharp at
    about a third of the size."""
    from PIL import Image

    with Image.open(io.BytesIO(data)) as image:
        quantized = image.convert("RGB").quantize(colors=colors, method=Image.Quantize.MEDIANCUT,
                                                  dither=Image.Dither.NONE)
    out = io.BytesIO()
    quantized.save(out, format="PNG", optimize=True)
    return out.getvalue()


# -- report figures (notebooks 02-06) -----------------------------------------------------------------
def _grid(figsize: tuple[float, float], nrows: int = 1, ncols: int = 1, **kwargs):
    """A constrained-layout figure of ``figsize`` inches with an ``nrows`` x ``ncols`` grid of axes
    (a flat array, or one axes for 1 x 1)."""
    fig = Figure(figsize=figsize, layout="constrained")
    FigureCanvasAgg(fig)
    if nrows == ncols == 1:
        return fig, fig.add_subplot()
    return fig, np.ravel(fig.subplots(nrows, ncols, **kwargs))


def _legend_patches(ax, colors: Mapping[str, str], **kwargs) -> None:
    from matplotlib.patches import Patch

    ax.legend(handles=[Patch(color=c, label=label) for label, c in colors.items()], **kwargs)


def totals_plot(totals: pd.DataFrame, columns: Mapping[str, str], path: str | os.PathLike | None = None) -> Figure:
    """One panel per column of ``totals`` (index: year; ``columns``: column -> label, up to
    four): the sum over all metros by year, from zero."""
    with _style():
        fig, axes = _grid((7.2, 4.4), 2, 2, sharex=True)
        for ax, (column, label) in zip(axes, columns.items()):
            ax.plot(totals.index, totals[column], marker="o", markersize=3)
            ax.set_title(f"{label}, all metros", fontsize=9)
            ax.set_ylim(bottom=0)
        fig.supxlabel("Year", fontsize=9)
        save_figure(fig, path)
    return fig


def top_metros_plot(top: pd.DataFrame, xlabel: str, path: str | os.PathLike | None = None, *,
                    short_name: Callable[[str], str] = str) -> Figure:
    """Horizontal bars of the metros with the most of each measure (``top``: columns measure,
    position, metro, value, as :func:`citydip.analysis.descriptives.top_metros`), one panel per
    measure, the first on top; metros named by ``short_name`` of their title."""
    measures = list(pd.unique(top["measure"]))
    with _style():
        fig, axes = _grid((8.0, 4.2), 1, len(measures))
        for ax, measure in zip(axes, measures):
            part = top[top["measure"] == measure].sort_values("position", ascending=False)
            ax.barh(part["metro"].map(short_name).tolist(), part["value"], color="C0")
            ax.set_title(measure, fontsize=9)
            ax.tick_params(axis="y", labelsize=7)
        fig.supxlabel(xlabel, fontsize=9)
        save_figure(fig, path)
    return fig


def concentration_plot(curves: pd.DataFrame, xlabel: str, dashed: Sequence[str] = (),
                       path: str | os.PathLike | None = None) -> Figure:
    """Cumulative-share curves (``curves``: columns column, label, metros, share, as
    :func:`citydip.analysis.descriptives.concentration_curves`); the columns in ``dashed``
    (comparison series) as dashed lines."""
    with _style():
        fig, ax = _grid((6.4, 4.0))
        for column, curve in curves.groupby("column", sort=False):
            ax.plot(curve["metros"], curve["share"], label=curve["label"].iloc[0],
                    linestyle="--" if column in dashed else "-")
        ax.set_xlabel(xlabel)
        ax.set_ylabel("Cumulative share of the total")
        ax.set_ylim(0, 1.02)
        ax.legend(fontsize="small", loc="lower right")
        save_figure(fig, path)
    return fig


#: Colours of the metro size classes in scatter plots.
SIZE_COLORS = {"small": "C2", "mid": "C1", "large": "C0"}


def exports_vs_diplomacy_plot(means: pd.DataFrame, measures: Sequence[str], correlations: pd.DataFrame,
                              path: str | os.PathLike | None = None, *, annotate: int = 3,
                              short_name: Callable[[str], str] = str) -> Figure:
    """Across metros (``means`` from :func:`citydip.analysis.descriptives.metro_means`), log mean
    exports against log(1 + mean measure), one panel per measure, points coloured by size
    class, with the least-squares line and the ``annotate`` metros with the most of the
    measure named (``short_name`` of their title); titled by the raw and partial correlations
    of ``correlations`` (rows in the order of ``measures``)."""
    with _style():
        fig, axes = _grid((8.4, 3.4), 1, len(measures), sharey=True)
        for ax, m, row in zip(axes, measures, correlations.itertuples()):
            frame = means.dropna(subset=[m])
            x = np.log1p(frame[m].to_numpy(dtype=float))
            for cls, color in SIZE_COLORS.items():
                part = (frame.size_class == cls).to_numpy()
                ax.scatter(x[part], frame.log_exports_mean[part], s=12, alpha=0.75, color=color, label=cls)
            slope, intercept = np.polyfit(x, frame.log_exports_mean, 1)
            grid = np.linspace(x.min(), x.max(), 50)
            ax.plot(grid, intercept + slope * grid, color="0.3", linewidth=1)
            for code in frame.assign(x=x).sort_values(["x", "exports"], ascending=False).head(annotate).index:
                ax.annotate(short_name(frame.at[code, "cbsa_title"]),
                            (np.log1p(frame.at[code, m]), frame.at[code, "log_exports_mean"]),
                            fontsize=6, xytext=(2, 2), textcoords="offset points")
            ax.set_xlabel(f"log(1 + {term_label(m).lower()})", fontsize=8)
            ax.set_title(f"r = {row.correlation:.2f} (net of size {row.partial_correlation_given_log_population:.2f})",
                         fontsize=8)
        axes[0].set_ylabel("Log mean exports (US$)")
        axes[0].legend(title="size class", fontsize=7, title_fontsize=7, loc="lower right")
        save_figure(fig, path)
    return fig


def percent_effects_plot(effects: pd.DataFrame, models: Sequence[str], measures: Sequence[str],
                         across: Sequence[str] = ("M1", "M2"), path: str | os.PathLike | None = None) -> Figure:
    """Percent effects with 95% intervals (``effects``: columns model, term, percent,
    percent_low, percent_high, as :func:`citydip.analysis.effects.percent_effects`), one panel
    per measure (terms whose base term is the measure) and one row per model; models in
    ``across`` (comparisons across metros) as squares, the others as circles."""
    with _style():
        fig, axes = _grid((8.4, 3.4), 1, len(measures), sharey=True)
        y = np.arange(len(models))[::-1]
        for ax, m in zip(axes, measures):
            part = effects[effects["term"].map(base_term) == m].set_index("model").reindex(list(models))
            for yy, (key, r) in zip(y, part.iterrows()):
                within = key not in across
                ax.errorbar(r.percent, yy, xerr=[[r.percent - r.percent_low], [r.percent_high - r.percent]],
                            fmt="o" if within else "s", color="C0" if within else "C1", markersize=4.5, capsize=2.5)
            ax.axvline(0, **_ZERO)
            ax.set_xlabel(term_label(m), fontsize=9)
            ax.set_yticks(y, list(models))
        fig.supxlabel("Percent difference in exports per one more (95% interval); across metros: squares, "
                      "within metros: circles", fontsize=8)
        save_figure(fig, path)
    return fig


def size_class_counts_plot(tidy: pd.DataFrame, measure: str, variation: pd.DataFrame, model: str,
                           path: str | os.PathLike | None = None) -> Figure:
    """:func:`size_class_plot` of ``measure`` in ``model`` with, under each class, how many of
    its metros' measure changes (``variation``: columns measure, size_class, metros,
    metros_that_change, as :func:`citydip.analysis.size.class_variation`)."""
    counts = variation[variation["measure"] == measure].set_index("size_class")
    with _style():
        fig = size_class_plot(tidy, measure, models=[model])
        ax = fig.axes[0]
        ax.set_xticks(ax.get_xticks(), [f"{t.get_text()}\n({counts.at[c, 'metros_that_change']} of "
                                        f"{counts.at[c, 'metros']} metros change)"
                                        for t, c in zip(ax.get_xticklabels(), SIZE_LABELS)])
        save_figure(fig, path)
    return fig


def cohort_plot(cohorts: pd.DataFrame, excluded: pd.DataFrame, years: tuple[int, int],
                names: Mapping[str, str], path: str | os.PathLike | None = None) -> Figure:
    """Metros by year of first treatment, one panel per treatment (``names``: treatment ->
    event name): in the event study (``cohorts``: treatment, first_year, metros) and left out
    (``excluded``: treatment, first_year); x axis over the panel's ``years`` (first, last)."""
    with _style():
        fig, axes = _grid((7.2, 3.2), 1, len(names), sharey=True)
        for ax, (t, name) in zip(axes, names.items()):
            part = cohorts[cohorts["treatment"] == t]
            left = excluded.loc[excluded["treatment"] == t, "first_year"]
            ax.bar(part["first_year"], part["metros"], color="C0", label="in the event study")
            if len(left):
                counts = left.value_counts().sort_index()
                ax.bar(counts.index, counts.to_numpy(), color="0.75", label="left out (treated too early)")
            ax.set_xlabel(f"Year of the {name}", fontsize=9)
            ax.set_xlim(years[0] - 0.7, years[1] + 0.7)
            ax.set_xticks(range(int(years[0]), int(years[1]) + 1, 4))
        axes[-1].legend(fontsize=7, loc="upper right")
        axes[0].set_ylabel("Metros first treated")
        save_figure(fig, path)
    return fig


def event_paths_plot(paths: pd.DataFrame, names: Mapping[str, str] | None = None, *, reference: int = -1,
                     ylabel: str = "Estimate (95% CI)", xlabel: str = "Years relative to the event",
                     path: str | os.PathLike | None = None) -> Figure:
    """Event-study paths of several estimators side by side, over the treated metros behind
    each event time.

    ``paths`` has one row per estimator and event time (columns estimator, event_time,
    estimate, conf_low, conf_high, treated_metros_observed, in_tests; as
    :func:`citydip.analysis.dynamics.event_paths` for one treatment); ``names``: estimator ->
    legend label. Top: estimates with 95% intervals, estimators offset; event times outside
    the tested range (``in_tests`` False) drawn with open markers and pale bars; the reference
    period as an open marker at zero. Bottom: the treated metros behind each event time.
    """
    missing = [c for c in ("estimator", "event_time", "estimate", "conf_low", "conf_high",
                           "treated_metros_observed", "in_tests") if c not in paths.columns]
    if missing:
        raise CitydipError(f"the event-study paths have no columns {missing}")
    if paths.empty:
        raise CitydipError("the event-study paths are empty")
    estimators = list(pd.unique(paths["estimator"]))
    names = dict(names or {})
    with _style():
        fig = Figure(figsize=(7.2, 4.8), dpi=DPI, layout="constrained")
        FigureCanvasAgg(fig)
        top, bottom = fig.subplots(2, 1, sharex=True, height_ratios=(3.2, 1))
        for j, (estimator, offset) in enumerate(zip(estimators, _offsets(len(estimators)))):
            part = paths[(paths["estimator"] == estimator) & (paths["event_time"] != reference)]
            part = part.sort_values("event_time", kind="stable")
            color = f"C{j}"
            for tested, alpha, face in ((True, 1.0, color), (False, 0.35, "white")):
                rows = part[part["in_tests"].astype(bool) == tested]
                if rows.empty:
                    continue
                est, low, high = (rows[c].to_numpy(dtype=float) for c in ("estimate", "conf_low", "conf_high"))
                top.errorbar(rows["event_time"].to_numpy(dtype=float) + offset, est,
                             yerr=_lengths(est, low, high), fmt=MARKERS[j % len(MARKERS)], markersize=4,
                             capsize=2, elinewidth=1, color=color, alpha=alpha, markerfacecolor=face,
                             label=names.get(estimator, estimator) if tested else None)
        top.scatter([reference], [0.0], s=30, facecolors="white", edgecolors="0.2", linewidths=1.1, zorder=3,
                    label=f"Reference period (t = {reference:g})")
        top.axhline(0.0, **_ZERO)
        for ax in (top, bottom):
            ax.axvline(-0.5, color="0.35", linewidth=0.8, linestyle=":", zorder=0)
        top.set_ylabel(ylabel)
        top.legend(loc="best", fontsize="small")
        support = paths.drop_duplicates("event_time").sort_values("event_time")
        bottom.bar(support["event_time"], support["treated_metros_observed"], width=0.7,
                   color=np.where(support["in_tests"].astype(bool), "0.45", "0.8"))
        bottom.set_ylabel("Treated\nmetros", fontsize=8)
        bottom.set_xlabel(xlabel)
        ticks = support["event_time"].to_numpy(dtype=float)
        bottom.set_xticks(ticks, [f"{t:g}".replace("-", "\N{MINUS SIGN}") for t in ticks], fontsize=7)
        save_figure(fig, path)
    return fig


def honest_plot(intervals: pd.DataFrame, breakdown: pd.DataFrame | None = None, names: Mapping[str, str] | None = None,
                *, benchmark: float | None = None, path: str | os.PathLike | None = None) -> Figure:
    """Honest confidence intervals over Mbar (``intervals``: treatment, target, mbar, conf_low,
    conf_high; as :func:`citydip.analysis.dynamics.honest_tables`), one panel per treatment
    (``names``: treatment -> title), one colour per target; the breakdown value of each target
    (``breakdown``: treatment, target, breakdown_zero) as a dotted vertical line where positive,
    ``benchmark`` as a dashed horizontal line."""
    missing = [c for c in ("treatment", "target", "mbar", "conf_low", "conf_high") if c not in intervals.columns]
    if missing:
        raise CitydipError(f"the honest intervals have no columns {missing}")
    treatments = list(pd.unique(intervals["treatment"]))
    targets = list(pd.unique(intervals["target"]))
    names = dict(names or {})
    with _style():
        fig, axes = _grid((7.2, 3.4), 1, len(treatments), sharey=True)
        axes = np.atleast_1d(axes)
        for ax, t in zip(axes, treatments):
            for j, (target, offset) in enumerate(zip(targets, _offsets(len(targets)))):
                part = intervals[(intervals["treatment"] == t) & (intervals["target"] == target)].sort_values("mbar")
                mbar = part["mbar"].to_numpy(dtype=float)
                low, high = part["conf_low"].to_numpy(dtype=float), part["conf_high"].to_numpy(dtype=float)
                step = np.min(np.diff(mbar)) if len(mbar) > 1 else 1.0
                ax.errorbar(mbar + offset * step, (low + high) / 2, yerr=(high - low) / 2, fmt="none", capsize=2.5,
                            elinewidth=1.4, color=f"C{j}", label=target)
                if breakdown is not None:
                    hit = breakdown[(breakdown["treatment"] == t) & (breakdown["target"] == target)]
                    for value in hit["breakdown_zero"]:
                        if value > 0:
                            ax.axvline(value, color=f"C{j}", linewidth=0.8, linestyle=":")
            ax.axhline(0.0, **_ZERO)
            if benchmark is not None:
                ax.axhline(benchmark, color="firebrick", linewidth=0.8, linestyle="--", zorder=0)
            ax.set_title(names.get(t, t), fontsize=9)
        fig.supxlabel("Mbar (largest post-event change in the trend gap / largest change between lead years)",
                      fontsize=8)
        axes[0].set_ylabel("Honest 95% interval (log points)")
        axes[-1].legend(fontsize=7, loc="upper left")
        save_figure(fig, path)
    return fig


def importance_plot(importance: pd.DataFrame, path: str | os.PathLike | None = None) -> Figure:
    """Permutation importance (mean ± 1 s.d.; ``importance``: columns label, mean, sd,
    diplomacy), diplomacy measures coloured, smallest at the bottom."""
    with _style():
        fig, ax = _grid((6.4, 3.4))
        order = importance.sort_values("mean")
        ax.barh(order["label"], order["mean"], xerr=order["sd"], color=["C0" if d else "0.6" for d in order.diplomacy],
                capsize=3, error_kw={"elinewidth": 1})
        ax.axvline(0, color="0.35", linewidth=0.8, linestyle="--")
        ax.set_xlabel("Drop in held-out R² when shuffled (mean ± 1 s.d.)")
        _legend_patches(ax, {"diplomacy measure": "C0", "control": "0.6"}, fontsize=7, loc="lower right")
        save_figure(fig, path)
    return fig


def pdp_plot(pdp: pd.DataFrame, data: pd.DataFrame, features: Sequence[str], is_diplomacy=lambda f: True,
             path: str | os.PathLike | None = None) -> Figure:
    """Partial dependence curves (``pdp``: feature, value, prediction), one panel per feature
    (grid of 2 x 3), with rug ticks at the metros' own values (``data``: one column per
    feature); diplomacy measures (``is_diplomacy``) in colour."""
    with _style():
        fig, axes = _grid((8.0, 4.8), 2, 3, sharey=True)
        for ax, feature in zip(axes, features):
            curve = pdp[pdp["feature"] == feature].sort_values("value")
            ax.plot(curve["value"], curve["prediction"], color="C0" if is_diplomacy(feature) else "0.4", marker="o",
                    markersize=2.5)
            ax.plot(data[feature], np.zeros(len(data)), "|", color="0.3", markersize=6,
                    transform=ax.get_xaxis_transform())
            ax.set_xlabel(f"{term_label(feature)} (metro mean)", fontsize=8)
        for ax in axes[len(features):]:
            ax.set_axis_off()
        for ax in axes[::3]:
            ax.set_ylabel("Predicted log exports")
        save_figure(fig, path)
    return fig


def interaction_plot(pairs: pd.DataFrame, path: str | os.PathLike | None = None) -> Figure:
    """Friedman's H² of every pair (``pairs``: pair, h2, with_size, both_diplomacy), pairs with
    metro size and pairs of two diplomacy measures coloured."""
    with _style():
        fig, ax = _grid((6.4, 3.8))
        order = pairs.sort_values("h2")
        ax.barh(order["pair"], order["h2"], color=["C1" if w else "C0" if d else "0.6"
                                                   for w, d in zip(order.with_size, order.both_diplomacy)])
        ax.set_xlabel("Friedman's H² (share of the joint effect that is interaction)")
        ax.tick_params(axis="y", labelsize=7)
        _legend_patches(ax, {"with log population (metro size)": "C1", "two diplomacy measures": "C0",
                             "other": "0.6"}, fontsize=7, loc="lower right")
        save_figure(fig, path)
    return fig


def eim_plot(effects: pd.DataFrame, per_seed: pd.DataFrame | None = None, path: str | os.PathLike | None = None, *,
             xlabel: str = "EIM (increase in out-of-bag MSE): mean ± 1 s.d.; dots: seeds") -> Figure:
    """Effect importance of one kind of effect of an interaction forest: a bar per effect at its
    mean over seeds with ± 1 s.d., and a dot per seed (``effects``: columns pair, label, mean, sd,
    diplomacy, with_size; ``per_seed``: columns kind, pair, value, of the same kind or all kinds).
    Effects involving a diplomacy measure are coloured, those with log population (metro size) in
    a second colour; the largest at the top."""
    with _style():
        order = effects.sort_values("mean").reset_index(drop=True)
        fig, ax = _grid((6.4, max(2.4, 0.32 * len(order) + 1.0)))
        colors = ["C1" if w and d else "C0" if d else "0.6" for w, d in zip(order.with_size, order.diplomacy)]
        ax.barh(order["label"], order["mean"], xerr=order["sd"], color=colors, capsize=3, error_kw={"elinewidth": 1})
        if per_seed is not None:
            kind = effects["kind"].iloc[0] if "kind" in effects and len(effects) else None
            seeds = per_seed if kind is None or "kind" not in per_seed else per_seed[per_seed.kind == kind]
            for y, pair in enumerate(order["pair"]):
                values = seeds.loc[seeds.pair == pair, "value"].to_numpy()
                ax.plot(values, np.full(len(values), y), "o", color="0.15", markersize=2.2, alpha=0.7, zorder=3)
        ax.axvline(0, color="0.35", linewidth=0.8, linestyle="--")
        ax.set_xlabel(xlabel)
        ax.tick_params(axis="y", labelsize=7)
        _legend_patches(ax, {"diplomacy × log population": "C1", "diplomacy measure": "C0", "other": "0.6"},
                        fontsize=7, loc="lower right")
        save_figure(fig, path)
    return fig
