"""Figures of the robustness and multiverse notebooks (07, 08): coefficients across panel
variants, one treatment's specification curve focused on the estimates that rest on enough
metros, and the median coefficient by option of each specification-curve choice.

Drawn on a plain :class:`matplotlib.figure.Figure` (no :mod:`matplotlib.pyplot`) in citydip's
style (:data:`citydip.report.figures.STYLE`); the notebook saves them with ``ctx.figure``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import matplotlib.style
import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from citydip.report.figures import STYLE
from citydip.report.labels import term_label
from citydip.report.speccurve_plot import plot_spec_curve

_NAMES = {"fixed_effects": "fixed effects"}


def variant_coefficients(estimates: pd.DataFrame, order: Sequence[str], models: Mapping[str, str],
                         measures: Sequence[str], default: str = "default") -> Figure:
    """One panel per model (rows; ``models``: key -> title) and measure (columns): each panel's
    coefficient with its 95% interval, panels in ``order`` top to bottom; the ``default``
    panel's estimate as a red square and a dotted red line.

    ``estimates``: the long table of :func:`citydip.analysis.robustness.compare_to_default`
    (columns variant, model_key, term, estimate, conf_low, conf_high); coefficients in the
    model's units (log points per one more)."""
    order = list(order)
    with matplotlib.style.context(["default", STYLE]):
        fig = Figure(figsize=(8.4, 8.2), layout="constrained")
        axes = fig.subplots(len(models), len(measures), sharey=True, squeeze=False)
        y = np.arange(len(order))[::-1]
        for i, (key, title) in enumerate(models.items()):
            for j, m in enumerate(measures):
                ax = axes[i, j]
                part = estimates[(estimates.model_key == key) & (estimates.term == m)].set_index("variant") \
                    .reindex(order)
                for yy, (name, r) in zip(y, part.iterrows()):
                    if np.isnan(r.estimate):
                        continue
                    color = "C3" if name == default else "C0"
                    ax.errorbar(r.estimate, yy, xerr=[[r.estimate - r.conf_low], [r.conf_high - r.estimate]],
                                fmt="s" if name == default else "o", color=color, markersize=4, capsize=2,
                                elinewidth=1)
                ax.axvline(part.loc[default, "estimate"], color="C3", linewidth=0.8, linestyle=":", zorder=0)
                ax.axvline(0, color="0.35", linewidth=0.8, linestyle="--", zorder=0)
                ax.set_yticks(y, order, fontsize=7)
                ax.tick_params(axis="x", labelsize=7)
                ax.set_title(f"{title}: {term_label(m)}", fontsize=8)
        for ax in axes[:, 0]:
            for label in ax.get_yticklabels():
                if label.get_text() == default:
                    label.set_fontweight("bold")
        fig.supxlabel("Coefficient (95% interval); default panel in red", fontsize=8)
    return fig


def option_medians(by_option: pd.DataFrame, estimated: pd.DataFrame, options: Mapping[str, Sequence[str]],
                   dimensions: Sequence[str], treatments: Sequence[str]) -> Figure:
    """One panel per treatment: per option of each choice in ``dimensions``, the median
    coefficient of the specifications using it (dot) and its interquartile range (bar), coloured
    by choice; dashed at zero, dotted at the median of all of the treatment's ``estimated``
    specifications.

    ``by_option``: :func:`citydip.analysis.multiverse.by_option` (columns treatment, choice,
    option, median_estimate, q25, q75); coefficients in log points per one more."""
    dimensions = list(dimensions)
    labels = [(d, o) for d in dimensions for o in options[d]]
    with matplotlib.style.context(["default", STYLE]):
        fig = Figure(figsize=(8.4, 1.0 + 0.19 * len(labels)), layout="constrained")
        axes = fig.subplots(1, len(treatments), sharey=True, squeeze=False)[0]
        y = np.arange(len(labels))[::-1]
        for ax, x in zip(axes, treatments):
            part = by_option[by_option.treatment == x].set_index(["choice", "option"]).reindex(labels)
            colours = [f"C{dimensions.index(d)}" for d, _ in labels]
            ax.hlines(y, part.q25, part.q75, colors=colours, linewidth=1.2, alpha=0.6)
            ax.scatter(part.median_estimate, y, c=colours, s=14, zorder=3)
            ax.axvline(0, color="0.35", linewidth=0.8, linestyle="--", zorder=0)
            ax.axvline(estimated.coefficient[estimated.treatment == x].median(), color="0.2", linewidth=0.8,
                       linestyle=":", zorder=0)
            ax.set_title(term_label(x), fontsize=8)
            ax.tick_params(axis="x", labelsize=7)
            ax.set_yticks(y, [f"{_NAMES.get(d, d)}: {o}" for d, o in labels], fontsize=7)
        fig.supxlabel("Median coefficient of the specifications using the option (bar: interquartile range; dotted: "
                      "median of all)", fontsize=8)
    return fig


def focus_limits(results: pd.DataFrame, margin: float = 0.05) -> tuple[float, float]:
    """Vertical limits that cover zero, every estimate that is not ``thin`` and the 5th to 95th
    percentiles of their interval ends, widened by ``margin`` of the range on each side (all
    estimates when every one is thin). ``results``: rows with an estimate, columns
    ``coefficient``, ``conf_low``, ``conf_high``, ``thin``."""
    core = results[~results["thin"].astype(bool)]
    if len(core):
        lo = min(0.0, core["coefficient"].min(), core["conf_low"].quantile(0.05))
        hi = max(0.0, core["coefficient"].max(), core["conf_high"].quantile(0.95))
    else:
        lo, hi = results["coefficient"].min(), results["coefficient"].max()
    return lo - margin * (hi - lo), hi + margin * (hi - lo)


def plot_focused_curve(results: pd.DataFrame, options: Mapping[str, Sequence[str]] | None = None, *,
                       label: str, min_metros: int, alpha: float = 0.05, dimensions: Sequence[str] | None = None,
                       ylabel: str = "log points per one more") -> Figure:
    """:func:`plot_spec_curve` of one treatment's specifications with the vertical axis on the
    estimates that rest on ``min_metros`` or more metros (:func:`focus_limits`; ``results``
    needs a boolean ``thin`` column); estimates beyond the axis are marked by red triangles at
    its edge. The title gives ``label``, the number estimated and the share significant at
    ``alpha``."""
    ok = results["coefficient"].notna()
    share = (results["p_value"][ok] < alpha).mean()
    est = results[ok].sort_values(["coefficient", "spec_id"], kind="mergesort")  # the figure's order
    lo, hi = focus_limits(est)
    above, below = (est["coefficient"] > hi).to_numpy(), (est["coefficient"] < lo).to_numpy()
    beyond = (f"\n{int(above.sum() + below.sum())} estimates (resting on fewer than {min_metros} metros) beyond the "
              f"axis: red triangles" if (above | below).any() else "")
    fig = plot_spec_curve(results, options, alpha=alpha, dimensions=dimensions, ylabel=ylabel,
                          title=f"{label}: {ok.sum():,} specifications, {share:.0%} significant at {alpha:.0%} "
                                f"(dark){beyond}")
    top = fig.axes[0]
    top.set_ylim(lo, hi)
    position = np.arange(1, len(est) + 1)
    for mask, edge, marker in ((above, hi, "^"), (below, lo, "v")):
        top.scatter(position[mask], np.full(mask.sum(), edge), marker=marker, s=10, color="C3", clip_on=False,
                    zorder=4)
    return fig
