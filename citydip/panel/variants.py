"""Robustness variants of the panel: one contested construction choice switched at a time.

Each variant is the default panel with one option changed (see :data:`VARIANTS`), built from
the same already-read inputs (:func:`citydip.panel.build.construct`), so that a difference
between a variant's estimates and the default's is due to that choice alone. ``citydip
build --variants`` and ``citydip replicate`` write them to ``build/variants/<name>.parquet``
with an index ``build/variants/index.json`` (name, what changed, rows); notebook 07 reads them.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import pandas as pd

from citydip.atomic import atomic_parquet, atomic_write_text
from citydip.panel.options import PanelOptions

#: name -> (what the variant changes, option overrides). Names are file stems.
VARIANTS: dict[str, tuple[str, dict]] = {
    "undated-predate": ("undated sister-city ties and network memberships assumed to predate the sample",
                        {"undated": "predate"}),
    "conflict-latest": ("the latest, not the earliest, year when sources disagree on a tie's or a network "
                        "membership's year",
                        {"conflict_rule": "latest"}),
    "networks-member-by-midpoint": (("network memberships known only as 'member by' a year (no stated join "
                                     "year) join at the middle year of [network launch year, member_by], the later "
                                     "one when two, instead of counting as undated"), {"member_by": "midpoint"}),
    "sister-strict": ("sister-city counts also leave out friendship cities and years taken from article dates",
                      {"exclude_sister_kinds": ("intent", "planned", "domestic", "friendship", "article_date")}),
    "consulates-snapshots-only": ("consular posts only in the Lowy snapshot years (2016, 2017, 2019); other "
                                  "years missing, so models with a consulate measure use those three years only",
                                  {"consulate_fill": "snapshots_only"}),
    "consulates-editions-only": ("consular posts not carried back before the first Lowy edition (2016): earlier "
                                 "years missing, so models with a consulate measure use 2016 on; later years as "
                                 "the default", {"consulate_fill": "editions_only"}),
    "consulates-all-countries": ("consular posts of every sending country in each Lowy vintage, not only the "
                                 "countries present in all three", {"consulate_countries": "all"}),
    "consulates-lowy-as-published": ("the Lowy 2016 file as published (documented omissions not filled)",
                                     {"consulate_lowy_omissions": "keep"}),
    "boundary-drop": ("export values of metro-years on a different delineation set missing",
                      {"boundary": "drop"}),
    "size-fixed-cutoffs": ("size classes by fixed population cut-offs instead of terciles",
                           {"size_classes": "fixed"}),
    "years-2005-2019": ("the anchor paper's years, 2005-2019", {"last_year": 2019}),
    "cdp-disclosed-only": ("CDP-ICLEI participation counts only cities that disclosed a city-wide emissions "
                           "inventory, not every respondent of the year (those 'in progress', 'intending', 'no' or "
                           "without an answer left out)", {"cdp_inventory": "disclosed"}),
    "cdp-regional-bodies": ("CDP-ICLEI participation also counts the four regional bodies (councils of governments, "
                            "a mayors' caucus) for the metro each represents", {"cdp_regional": "attribute"}),
}


def variant_options(base: PanelOptions | None = None) -> dict[str, PanelOptions]:
    """The options of every variant, each the ``base`` options with one choice changed.
    Variants that would equal ``base`` (the base already makes that choice) are left out."""
    base = base or PanelOptions()
    out = {}
    for name, (_what, overrides) in VARIANTS.items():
        options = replace(base, **overrides)
        if options != base and options.last_year >= options.first_year:
            out[name] = options
    return out


def write_variants(inputs, base: PanelOptions, out_dir: Path,
                   progress: Callable[[str], None] | None = None) -> Path:
    """Construct every variant from ``inputs`` (see :func:`citydip.panel.build.load_inputs`) and
    write ``out_dir/<name>.parquet`` and ``out_dir/index.json``; returns the index path."""
    from citydip.panel.build import construct

    say = progress or (lambda _m: None)
    out_dir = Path(out_dir)
    index = []
    for name, options in variant_options(base).items():
        say(f"variant {name}")
        panel = construct(inputs, options).panel
        atomic_parquet(panel, out_dir / f"{name}.parquet")
        changed = {k: v for k, v in options.as_dict().items() if base.as_dict()[k] != v}
        index.append({"name": name, "description": VARIANTS[name][0], "changed": changed, "rows": len(panel),
                      "metros": int(panel.cbsa_code.nunique())})
    return atomic_write_text(out_dir / "index.json", json.dumps(index, indent=1, sort_keys=True, default=str) + "\n")


def read_variants(folder: Path) -> tuple[list[dict], dict[str, pd.DataFrame]]:
    """The index and panels written by :func:`write_variants` (empty if there are none)."""
    index_path = Path(folder) / "index.json"
    if not index_path.is_file():
        return [], {}
    index = json.loads(index_path.read_text())
    return index, {v["name"]: pd.read_parquet(Path(folder) / f"{v['name']}.parquet") for v in index}
