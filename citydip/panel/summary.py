"""A notebook-free summary of a built panel: coverage by year (``citydip build --summary``)."""

from __future__ import annotations

import pandas as pd


def coverage_table(panel: pd.DataFrame) -> pd.DataFrame:
    """By year: metros, metros with exports, boundary breaks, and diplomacy totals."""
    g = panel.groupby("year")
    return pd.DataFrame({
        "metros": g.cbsa_code.nunique(),
        "with_exports": g.exports_missing.apply(lambda s: int((~s).sum())),
        "boundary_differs": g.exports_boundary_break.sum().astype(int),
        "exports_bn_usd": (g.exports_usd.sum() / 1e9).round(1),
        "sister_active": g.sister_active.sum().astype(int),
        "metros_with_sister": g.sister_any.sum().astype(int),
        "consular_posts": g.consular_posts.sum(min_count=1),
        "consulates_general": g.consulates_general.sum(min_count=1),
        "networks_dated": g.networks_dated.sum().astype(int),
    })


def coverage(build) -> str:
    """Coverage table plus the construction notes, as text."""
    panel = build.panel
    head = "SYNTHETIC DEMO PANEL (not real data)\n" if build.synthetic else ""
    lines = [head + f"Coverage: {panel.cbsa_code.nunique()} metros, {len(panel):,} metro-years, "
             f"{int((~panel.exports_missing).sum()):,} with exports",
             coverage_table(panel).to_string()]
    for topic, notes in build.notes.items():
        lines += [f"{topic}: {n}" for n in notes]
    return "\n".join(lines)
