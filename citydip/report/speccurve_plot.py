"""The specification-curve figure (Simonsohn, Simmons & Nelson 2020, Fig. 2 style): estimates
sorted from smallest to largest with their confidence intervals on top, and beneath them one
row per option of each choice, marked where a specification uses it.

Drawn on matplotlib's Agg canvas without :mod:`matplotlib.pyplot` (no display needed, no
global figure registry), in citydip's figure style; the same input gives the same PNG.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence

import matplotlib.style
import numpy as np
import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from citydip.errors import CitydipError
from citydip.report.figures import DPI, STYLE, save_figure

#: Colours of significant (at ``alpha``) and other specifications.
SIGNIFICANT, OTHER = "#1f4e79", "0.65"
#: Choice columns shown beneath the curve, in this order (those with one option are left out).
DIMENSIONS = ("data", "outcome", "treatment", "controls", "fixed_effects", "sample", "vcov")
_NAMES = {"fixed_effects": "fixed effects", "vcov": "inference"}


def plot_spec_curve(results: pd.DataFrame, options: Mapping[str, Sequence[str]] | None = None,
                    path: str | os.PathLike | None = None, *, alpha: float = 0.05,
                    dimensions: Sequence[str] | None = None, title: str | None = None,
                    ylabel: str = "coefficient") -> Figure:
    """Specification curve of a results table (:attr:`SpecCurve.results`).

    ``options`` gives the order of each choice's options (default: order of appearance);
    ``dimensions`` the choices shown beneath (default: those with more than one option).
    Coefficients are in units of the outcome per unit of the treatment (``ylabel``).
    Specifications without an estimate are left out (the axis label counts them). Saved to
    ``path`` if given (format from the suffix).
    """
    need = {"spec_id", "coefficient", "conf_low", "conf_high", "p_value"}
    missing = sorted(need - set(results.columns))
    if missing:
        raise CitydipError(f"specification curve plot: the results have no columns {missing}")
    est = results[np.isfinite(results["coefficient"].to_numpy(dtype=float))]
    if est.empty:
        raise CitydipError("specification curve plot: no specification has an estimate")
    est = est.sort_values(["coefficient", "spec_id"], kind="mergesort")
    options = {d: list(options[d]) if options and d in options else list(dict.fromkeys(results[d]))
               for d in DIMENSIONS if d in results.columns}
    if dimensions is None:
        dimensions = [d for d, o in options.items() if len(o) > 1]
    unknown = [d for d in dimensions if d not in options]
    if unknown:
        raise CitydipError(f"specification curve plot: {unknown} are not choice columns of the results")
    x = np.arange(1, len(est) + 1)
    coef = est["coefficient"].to_numpy(dtype=float)
    low, high = est["conf_low"].to_numpy(dtype=float), est["conf_high"].to_numpy(dtype=float)
    colour = np.where(est["p_value"].to_numpy(dtype=float) < alpha, SIGNIFICANT, OTHER)
    labels = [(d, o) for d in dimensions for o in options[d]]
    with matplotlib.style.context(["default", STYLE]):
        fig = Figure(figsize=(7.5, 2.8 + 0.17 * len(labels)), dpi=DPI, layout="constrained")
        FigureCanvasAgg(fig)
        if labels:
            top, bottom = fig.subplots(2, 1, sharex=True, height_ratios=[2.6, 0.17 * len(labels) + 0.2])
        else:
            top, bottom = fig.add_subplot(), None
        size = max(1.0, min(12.0, 1500.0 / len(est)))
        top.vlines(x, low, high, colors=colour, linewidth=max(0.3, min(1.2, 300.0 / len(est))), alpha=0.6)
        top.scatter(x, coef, c=colour, s=size, zorder=3, linewidths=0)
        top.axhline(0.0, color="0.35", linewidth=0.8, linestyle="--", zorder=0)
        top.axhline(float(np.median(coef)), color=SIGNIFICANT, linewidth=0.8, linestyle=":", zorder=0,
                    label=f"median {np.median(coef):.3g}")
        top.set_ylabel(ylabel)
        top.legend(loc="upper left", fontsize="small")
        share = float(np.mean(colour == SIGNIFICANT))
        top.set_title(title or f"{len(est)} specifications; {share:.0%} significant at {alpha:g} (dark)",
                      fontsize="medium")
        axis = bottom if bottom is not None else top
        axis.set_xlim(0.5, len(est) + 0.5)
        axis.set_xlabel("specification, ranked by estimate" +
                        (f" ({len(results) - len(est)} not estimated)" if len(est) < len(results) else ""))
        if bottom is not None:
            _indicators(bottom, est, labels, x, colour)
    save_figure(fig, path)
    return fig


def _indicators(ax, est: pd.DataFrame, labels: list[tuple[str, str]], x: np.ndarray, colour: np.ndarray) -> None:
    """One row per (choice, option), top to bottom, marked where a specification uses it."""
    n = len(labels)
    for row, (dim, option) in enumerate(labels):
        uses = (est[dim] == option).to_numpy()
        ax.scatter(x[uses], np.full(uses.sum(), n - 1 - row), c=colour[uses], marker="|",
                   s=max(4.0, min(40.0, 4000.0 / len(est))), linewidths=0.8)
    ax.set_yticks(np.arange(n)[::-1], [f"{_NAMES.get(d, d)}: {o}" for d, o in labels], fontsize="x-small")
    ax.set_ylim(-0.7, n - 0.3)
    previous = None
    for row, (dim, _) in enumerate(labels):
        if previous is not None and dim != previous:
            ax.axhline(n - row - 0.5, color="0.85", linewidth=0.6)
        previous = dim
    ax.tick_params(axis="y", length=0)
    ax.spines["left"].set_visible(False)


def plot_curve(curve, path: str | os.PathLike | None = None, **kwargs) -> Figure:
    """The figure of a :class:`~citydip.estimation.speccurve.SpecCurve` (see :func:`plot_spec_curve`)."""
    return plot_spec_curve(curve.results, curve.options, path, alpha=curve.alpha, **kwargs)
