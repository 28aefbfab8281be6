"""An offline atlas of the panel: one self-contained HTML file with a map of the U.S. metros.

:func:`write_atlas` writes a single HTML file (inline CSS, JavaScript, SVG and data; no request
to any server, no address of one in the file) with

* the 50 states and DC (us-atlas 3.0.1, Albers USA) and one circle per panel metro, its area
  proportional to the metro's exports in the year chosen with a slider, its colour the chosen
  diplomacy measure (consular posts, sister-city ties, networks, CDP-ICLEI reporting: those of
  :data:`MEASURES` the panel has), with a legend;
* for the metro selected (click, keyboard or a list), its yearly series as small line charts and
  a table, and its partner countries when a ``partners`` table is given;
* a table of all metros in the chosen year (real HTML, for readers who prefer numbers);
* a SYNTHETIC banner when the panel is the synthetic demo.

Metro positions (:func:`metro_positions`): a real metro is placed at its first principal city,
the first city its March-2020 CBSA title names (OMB titles name the principal cities in the
order of Census List 2, largest first; a hyphenated name such as Winston-Salem is kept whole
when the gazetteer knows it), looked up in the offline gazetteer of ``citydip.geo.gazetteer``
(GeoNames city point, else the centroid of the city's ZIP codes) in the title's first state;
Census spellings that the gazetteer writes otherwise ('Urban Honolulu', 'Boise City') go through
the alias table ``citydip/geo/aliases.csv``. A synthetic metro (code 9xxxx, state 'XX') gets a
seeded random point inside the lower 48 states (seed: :data:`SYNTHETIC_POSITION_SEED` and its code).

The output is deterministic (same input, byte-identical file) and written atomically.
"""

from __future__ import annotations

import html
import json
import re
from importlib import resources
from pathlib import Path

import numpy as np
import pandas as pd

import citydip
from citydip.atomic import atomic_write_text
from citydip.errors import CitydipError
from citydip.geo.gazetteer import named_places_index
from citydip.geo.names import aliases, normalize
from citydip.report import albers
from citydip.report.labels import term_label

#: Diplomacy measures the colour can show (panel column -> label), in the order of the selector.
MEASURES: dict[str, str] = {
    "consular_posts": "Consular posts",
    "sister_active": "Sister-city ties (active)",
    "networks_dated": "City networks joined",
    "cdp_cities_reporting": "Local governments reporting to CDP-ICLEI",
}
#: The series charted for a selected metro (panel column -> label); exports first.
SERIES: dict[str, str] = {"exports_usd": "Exports (current US$)", **MEASURES}
#: Columns the atlas needs in every panel.
REQUIRED = ("cbsa_code", "cbsa_title", "year", "exports_usd")
#: Kinds of partner countries (``partners['kind']``) and their headings.
PARTNER_KINDS: dict[str, str] = {"sister": "Sister-city partner countries",
                                 "consulate": "Countries with a consular post"}
#: Seed of the positions of synthetic metros.
SYNTHETIC_POSITION_SEED = 20250101
#: FIPS codes of the states outside the lower 48 (Alaska, Hawaii), where no synthetic metro is put.
_NOT_LOWER48 = {"02", "15"}
#: Largest file size the atlas may have (bytes).
MAX_BYTES = 2_000_000


# -- positions ---------------------------------------------------------------------------------------------
def first_principal_city(title: str) -> tuple[list[str], str]:
    """Candidate names of the first principal city of a CBSA title (longest first) and its state:
    'Winston-Salem, NC' -> (['Winston-Salem', 'Winston'], 'NC'); 'Nashville-Davidson--Murfreesboro
    --Franklin, TN' -> (['Nashville-Davidson', 'Nashville'], 'TN')."""
    cities, _, states = str(title).rpartition(",")
    if not cities or not states.strip():
        raise CitydipError(f"CBSA title {title!r}: expected 'City-City, ST-ST'")
    first = cities.split("--")[0]
    ends = [m.start() for m in re.finditer(r"[-/]", first)] + [len(first)]
    return [first[:end].strip() for end in reversed(ends)], states.strip().split("-")[0]


def _gazetteer_point(names: list[str], state: str) -> tuple[str, float, float] | None:
    spelled = aliases()
    for name in names:
        key = normalize(name)
        keys = [key, *spelled.loc[(spelled["state"] == state) & (spelled["canonical"].map(normalize) == key), "key"]]
        for k in keys:
            hits = named_places_index().get(k)
            hit = None if hits is None else hits[hits["state"] == state]
            if hit is not None and len(hit):   # sorted by population within a name: the largest place first
                return name, float(hit["lat"].iloc[0]), float(hit["lng"].iloc[0])
    return None


def _synthetic_point(code: str) -> tuple[float, float]:
    """A seeded point (lon, lat) inside a lower-48 state, the same for the same code."""
    rng = np.random.default_rng([SYNTHETIC_POSITION_SEED, int(code)])
    states = [s for s in albers.state_outlines() if s.fips not in _NOT_LOWER48]
    for _ in range(1000):
        lon, lat = rng.uniform(-124.0, -67.0), rng.uniform(25.0, 49.0)
        point = albers.albers_usa(lon, lat)
        if point is not None and any(s.contains(*point) for s in states):
            return float(lon), float(lat)
    raise CitydipError(f"synthetic metro {code}: no point inside the lower 48 states in 1000 draws")


def metro_positions(metros: pd.DataFrame) -> pd.DataFrame:
    """``cbsa_code, cbsa_title, place, lon, lat, x, y``: one row per metro (``metros``: columns
    ``cbsa_code``, ``cbsa_title``), placed by the module's rule; degrees and screen units of the
    975 x 610 Albers USA frame. A real metro whose first principal city is not found, or falls
    outside the projection, is an error naming it."""
    rows = []
    for code, title in metros[["cbsa_code", "cbsa_title"]].drop_duplicates("cbsa_code").itertuples(index=False):
        code = str(code)
        if code.startswith("9"):
            lon, lat = _synthetic_point(code)
            place = "synthetic position"
        else:
            names, state = first_principal_city(title)
            found = _gazetteer_point(names, state)
            if found is None:
                raise CitydipError(f"metro {code} ({title}): first principal city {names[0]!r}, {state} not in the "
                                   "gazetteer (citydip.geo.gazetteer.named_places); add an alias to "
                                   "citydip/geo/aliases.csv")
            place, lat, lon = found
            place = f"{place}, {state}"
        point = albers.albers_usa(lon, lat)
        if point is None:
            raise CitydipError(f"metro {code} ({title}): position {lat:.4f} N, {lon:.4f} E is outside the Albers "
                               "USA projection")
        rows.append((code, str(title), place, lon, lat, point[0], point[1]))
    return pd.DataFrame(rows, columns=["cbsa_code", "cbsa_title", "place", "lon", "lat", "x", "y"])


# -- data ------------------------------------------------------------------------------------------------
def _check_panel(data: pd.DataFrame) -> None:
    missing = [c for c in REQUIRED if c not in data.columns]
    if missing:
        raise CitydipError(f"panel: missing column(s) {missing} (the atlas needs {list(REQUIRED)})")
    if data.empty:
        raise CitydipError("panel: no rows")
    dup = data.duplicated(["cbsa_code", "year"], keep=False)
    if dup.any():
        row = data[dup].iloc[0]
        raise CitydipError(f"panel: row {data.index[dup][0]!r}: metro {row['cbsa_code']} has more than one row for "
                           f"year {row['year']} (columns 'cbsa_code', 'year')")
    for column in [c for c in SERIES if c in data.columns]:
        values = pd.to_numeric(data[column], errors="coerce").astype("float64")
        bad = (values < 0) | np.isinf(values)
        if bad.any():
            raise CitydipError(f"panel: row {data.index[bad][0]!r}, column '{column}': negative or infinite value "
                               f"{values[bad].iloc[0]!r}")


def _check_partners(partners: pd.DataFrame) -> None:
    missing = [c for c in ("cbsa_code", "kind", "country") if c not in partners.columns]
    if missing:
        raise CitydipError(f"partners: missing column(s) {missing} (expected cbsa_code, kind, country)")
    bad = ~partners["kind"].isin(list(PARTNER_KINDS))
    if bad.any():
        raise CitydipError(f"partners: row {partners.index[bad][0]!r}, column 'kind': "
                           f"{partners.loc[bad, 'kind'].iloc[0]!r} is not one of {list(PARTNER_KINDS)}")
    blank = partners["country"].isna() | (partners["country"].astype("string").str.strip() == "")
    if blank.any():
        raise CitydipError(f"partners: row {partners.index[blank][0]!r}, column 'country': empty")


def _number(value: object, digits: int) -> float | int | None:
    if value is None or pd.isna(value):
        return None
    value = round(float(value), digits)
    return int(value) if value == int(value) else value


def atlas_data(panel: pd.DataFrame, *, synthetic: bool, partners: pd.DataFrame | None = None) -> dict:
    """The data the page embeds: years, measures, metros (sorted by code, with positions), one
    series per column (a list per metro, one value per year; exports in whole current dollars,
    counts to 4 decimals; None where missing) and partner countries (country, number of rows)."""
    data = getattr(panel, "data", panel)
    _check_panel(data)
    data = data.assign(cbsa_code=data["cbsa_code"].astype(str)).sort_values(["cbsa_code", "year"], kind="stable")
    years = sorted(int(y) for y in data["year"].unique())
    positions = metro_positions(data).sort_values("cbsa_code", kind="stable")
    codes = positions["cbsa_code"].tolist()
    grid = pd.MultiIndex.from_product([codes, years], names=["cbsa_code", "year"])
    indexed = data.set_index(["cbsa_code", "year"]).reindex(grid)
    series = {}
    for column in [c for c in SERIES if c in data.columns]:
        values = pd.to_numeric(indexed[column], errors="coerce").astype("float64").to_numpy().reshape(len(codes),
                                                                                                      len(years))
        digits = 0 if column == "exports_usd" else 4
        series[column] = [[_number(v, digits) for v in row] for row in values]
    exports = np.array([[np.nan if v is None else v for v in row] for row in series["exports_usd"]], dtype=float)
    with_exports = [y for j, y in enumerate(years) if np.isfinite(exports[:, j]).any()]
    partner_lists: dict[str, dict[str, list]] = {}
    if partners is not None:
        _check_partners(partners)
        table = partners.assign(cbsa_code=partners["cbsa_code"].astype(str),
                                country=partners["country"].astype(str).str.strip())
        table = table[table["cbsa_code"].isin(codes)]
        counts = table.groupby(["cbsa_code", "kind", "country"]).size().reset_index(name="n")
        counts = counts.sort_values(["cbsa_code", "kind", "n", "country"], ascending=[True, True, False, True],
                                    kind="stable")
        for (code, kind), rows in counts.groupby(["cbsa_code", "kind"], sort=True):
            partner_lists.setdefault(code, {})[kind] = [[c, int(n)] for c, n in zip(rows["country"], rows["n"])]
    return {
        "synthetic": bool(synthetic),
        "years": years,
        "initialYear": with_exports[-1] if with_exports else years[-1],
        "frame": list(albers.FRAME),
        "measures": [{"key": c, "label": term_label(c, MEASURES)} for c in MEASURES if c in series],
        "series": [{"key": c, "label": term_label(c, SERIES)} for c in series],
        "metros": [{"code": r.cbsa_code, "title": r.cbsa_title, "place": r.place, "x": round(r.x, 2),
                    "y": round(r.y, 2)} for r in positions.itertuples(index=False)],
        "values": series,
        "partners": partner_lists if partners is not None else None,
        "partnerKinds": PARTNER_KINDS,
    }


# -- page -----------------------------------------------------------------------------------------------
def _asset(name: str) -> str:
    return resources.files("citydip.report").joinpath("assets", name).read_text(encoding="utf-8")


def _script_json(payload: dict) -> str:
    """JSON safe inside a <script> element (no '<', '>' or '&' characters)."""
    text = json.dumps(payload, ensure_ascii=True, sort_keys=True, separators=(",", ":"), allow_nan=False)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def _states_svg() -> str:
    return "\n".join(f'<path class="state" d="{albers.svg_path(s.polygons)}">'
                     f'<title>{html.escape(s.name)}</title></path>' for s in albers.state_outlines())


def atlas_html(panel: pd.DataFrame, *, synthetic: bool, partners: pd.DataFrame | None = None) -> str:
    """The atlas page as text (see the module docstring)."""
    data = getattr(panel, "data", panel)
    if bool(getattr(data, "attrs", {}).get("synthetic")) and not synthetic:
        raise CitydipError("panel: the panel is the synthetic demo (attrs['synthetic']) but synthetic=False")
    payload = atlas_data(data, synthetic=synthetic, partners=partners)
    first, last = payload["years"][0], payload["years"][-1]
    n = len(payload["metros"])
    kind = "SYNTHETIC demo panel" if synthetic else "panel"
    banner = ('<div id="synthetic-banner" class="banner" role="note">SYNTHETIC DEMO PANEL: generated with known '
              'true effects. These are NOT REAL DATA and the metros are not real places.</div>\n'
              if synthetic else "")
    title = f"City diplomacy atlas of {n} U.S. metros, {first}\u2013{last}" + (" (SYNTHETIC)" if synthetic else "")
    width, height = (int(v) for v in albers.FRAME)
    notice = html.escape(_asset("LICENSE-us-atlas"))
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{html.escape(title)}</title>
<style>
{_asset("atlas.css")}
</style>
</head>
<body>
{banner}<header>
<h1>{html.escape(title)}</h1>
<p>Each circle is a metro of the citydip {kind}: its area is proportional to the metro's merchandise exports
(current US$) in the chosen year, its colour the chosen measure of city diplomacy. Select a metro (click, or
Tab to it and press Enter, or pick it from the list) for its yearly series.</p>
</header>
<main>
<section id="controls" aria-label="Map controls">
<label for="measure">Colour</label> <select id="measure"></select>
<label for="year">Year <output id="year-value" for="year"></output></label>
<input id="year" type="range" min="{first}" max="{last}" step="1" value="{payload["initialYear"]}">
<label for="metro-select">Metro</label> <select id="metro-select"><option value="">(none)</option></select>
</section>
<div id="layout">
<figure id="map-figure">
<svg id="map" viewBox="0 0 {width} {height}" role="img" aria-labelledby="map-title map-desc">
<title id="map-title">{html.escape(title)}</title>
<desc id="map-desc">Map of the United States (Albers USA projection; Alaska and Hawaii inset) with one circle per
metro at its first principal city, sized by exports and coloured by the chosen diplomacy measure. The same
numbers are in the table below the map.</desc>
<g id="states">
{_states_svg()}
</g>
<g id="marks"></g>
</svg>
<figcaption id="legend" aria-live="polite"></figcaption>
</figure>
<aside id="detail" aria-live="polite"><p>No metro selected.</p></aside>
</div>
<section id="table-view">
<h2 id="table-heading">All metros</h2>
<noscript><p>The map, charts and tables are drawn by the page's inline script; enable JavaScript to see
them.</p></noscript>
<div class="scroll"><table id="metro-table" aria-labelledby="table-heading"><thead></thead><tbody></tbody></table></div>
</section>
</main>
<footer>
<p>citydip {html.escape(citydip.__version__)}. Exports: U.S. International Trade Administration, Metropolitan
Export Series. Sister-city ties, network memberships and consulate events: citydip curated dataset; consular
posts: Lowy Institute Global Diplomacy Index; CDP-ICLEI reporting: CDP Open Data Portal (data collected in
partnership by CDP and ICLEI - Local Governments for Sustainability). Metro positions: first principal city
(GeoNames city point or ZIP-code centroid). Column definitions: the panel's codebook.md.</p>
<details><summary>State outlines: us-atlas 3.0.1 (U.S. Census Bureau cartographic boundaries), ISC licence</summary>
<pre>{notice}</pre></details>
</footer>
<script type="application/json" id="atlas-data">{_script_json(payload)}</script>
<script>
{_asset("atlas.js")}
</script>
</body>
</html>
"""


def write_atlas(panel: pd.DataFrame, path: Path, *, synthetic: bool, partners: pd.DataFrame | None = None) -> Path:
    """Write the atlas of ``panel`` (a metro-year panel, or a :class:`citydip.Panel`) to ``path``
    atomically and return the path. ``synthetic`` puts the SYNTHETIC banner on the page (and must
    be True for the synthetic demo panel). ``partners`` (optional): columns ``cbsa_code``,
    ``kind`` ('sister' or 'consulate') and ``country``, one row per tie or post; the page lists
    each metro's countries with their number of rows. A page over :data:`MAX_BYTES` is an error."""
    text = atlas_html(panel, synthetic=synthetic, partners=partners)
    size = len(text.encode("utf-8"))
    if size > MAX_BYTES:
        raise CitydipError(f"{path}: the atlas would be {size:,} bytes, over the limit of {MAX_BYTES:,}")
    if re.search(r"https?://", text):
        raise CitydipError(f"{path}: the atlas would contain a web address (it must work offline)")
    return atomic_write_text(path, text)
