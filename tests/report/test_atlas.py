"""The offline atlas: Albers USA projection against d3-geo, TopoJSON decoding against
topojson-client, metro positions, the page's content, and the page in a headless browser."""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from citydip.config import PANEL_YEARS
from citydip.errors import CitydipError
from citydip.panel.synthetic import synthetic_panel
from citydip.report import albers
from citydip.report.atlas import (
    MAX_BYTES,
    atlas_data,
    first_principal_city,
    metro_positions,
    write_atlas,
)

# Recorded once with node 18: d3-geo 3.1.2, d3.geoAlbersUsa().scale(1300).translate([487.5, 305])
# applied to [lon, lat] (values printed with toPrecision(15)); None where d3 returns null.
D3_ALBERS_USA = [
    ("New York", -74.006, 40.7128, (869.718765019927, 215.740521873011)),
    ("Los Angeles", -118.2437, 34.0522, (86.812130822828, 363.1188798692)),
    ("Chicago", -87.6298, 41.8781, (638.219615565297, 226.11226483166)),
    ("Miami", -80.1918, 25.7617, (822.738315829763, 572.540779112829)),
    ("Seattle", -122.3321, 47.6062, (97.6249669465995, 46.3186592299774)),
    ("Anchorage", -149.9003, 61.2181, (112.277427569713, 544.277916220378)),
    ("Honolulu", -157.8583, 21.3069, (266.959946768632, 549.190372939586)),
    ("Juneau", -134.4197, 58.3019, (176.937022744026, 556.083786162969)),
    ("Key West", -81.78, 24.5551, (794.405886602971, 604.452493225546)),
    ("Bangor", -68.7778, 44.8016, (929.526139001244, 103.415649418697)),
    ("Unalaska", -166.5422, 53.8739, (38.2028203535892, 597.669564249265)),
    ("London", -0.1276, 51.5072, None),
    ("San Juan", -66.1057, 18.4655, None),
]

# Recorded once with node 18: topojson-client 3.1.0 feature(states-albers-10m.json, objects.states)
# (us-atlas 3.0.1): min/max of every coordinate of the state (toPrecision(12)), and for Colorado
# d3-geo 3.1.2's geoPath().area (planar, identity projection).
TOPOJSON_BBOX = {
    "Alaska": (-57.63445473, 465.031678862, 202.906120541, 604.123798355),
    "Colorado": (264.640348963, 237.160891772, 395.326868035, 340.696430702),
    "California": (18.4851382166, 159.951468836, 162.765166885, 407.096415707),
    "Hawaii": (216.205222536, 528.149061355, 332.090145647, 603.138424002),
}
COLORADO_AREA = 11216.115570


@pytest.mark.parametrize("name, lon, lat, expected", D3_ALBERS_USA, ids=[r[0] for r in D3_ALBERS_USA])
def test_albers_usa_matches_d3_geo(name, lon, lat, expected):
    got = albers.albers_usa(lon, lat)
    if expected is None:
        assert got is None
    else:
        assert got == pytest.approx(expected, abs=1e-6)


def test_states_decode_to_50_states_and_dc_with_topojson_client_bounds():
    states = albers.state_outlines()
    assert len(states) == 51
    assert {s.fips for s in states} == {f"{i:02d}" for i in range(1, 57)} - {"03", "07", "14", "43", "52"}
    by_name = {s.name: s for s in states}
    for name, bbox in TOPOJSON_BBOX.items():
        assert by_name[name].bbox == pytest.approx(bbox, abs=1e-6), name
    (colorado,) = by_name["Colorado"].polygons
    assert len(colorado) == 1 and albers.ring_area(colorado[0]) == pytest.approx(COLORADO_AREA, abs=1e-5)
    # every state lies in the 975 x 610 frame
    for s in states:
        x0, y0, x1, y1 = s.bbox
        assert -60 <= x0 and x1 <= albers.FRAME[0] and 0 <= y0 and y1 <= albers.FRAME[1], s.name


def test_decode_follows_reversed_arcs_and_the_quantization_transform():
    # two unit squares side by side sharing the arc (1,0)-(1,1); quantized with scale 0.5, offset (10, 20)
    topology = {"type": "Topology", "transform": {"scale": [0.5, 0.5], "translate": [10, 20]},
                "arcs": [[[2, 0], [0, 2]],                      # shared edge x=1 from y=0 to y=1
                         [[2, 2], [-2, 0], [0, -2], [2, 0]],    # left square's other three edges
                         [[2, 0], [2, 0], [0, 2], [-2, 0]]],    # right square's other three edges
                "objects": {"states": {"type": "GeometryCollection", "geometries": [
                    {"type": "Polygon", "id": "01", "properties": {"name": "Left"}, "arcs": [[1, 0]]},
                    {"type": "MultiPolygon", "id": "02", "properties": {"name": "Right"}, "arcs": [[[2, ~0]]]}]}}}
    left, right = albers.decode_states(topology)
    assert left.polygons == [[[(11.0, 21.0), (10.0, 21.0), (10.0, 20.0), (11.0, 20.0)]]]
    assert right.polygons == [[[(11.0, 20.0), (12.0, 20.0), (12.0, 21.0), (11.0, 21.0)]]]
    assert left.contains(10.5, 20.5) and not left.contains(11.5, 20.5) and right.contains(11.5, 20.5)
    assert albers.svg_path(left.polygons) == "M11,21L10,21L10,20L11,20Z"
    with pytest.raises(CitydipError, match="geometry 0: type 'Point'"):
        albers.decode_states({**topology, "objects": {"states": {"geometries": [{"type": "Point"}]}}})


@pytest.mark.parametrize("title, names, state", [
    ("Winston-Salem, NC", ["Winston-Salem", "Winston"], "NC"),
    ("Nashville-Davidson--Murfreesboro--Franklin, TN", ["Nashville-Davidson", "Nashville"], "TN"),
    ("Louisville/Jefferson County, KY-IN", ["Louisville/Jefferson County", "Louisville"], "KY"),
    ("Akron, OH", ["Akron"], "OH"),
])
def test_first_principal_city_of_a_title(title, names, state):
    assert first_principal_city(title) == (names, state)


def test_metros_fall_inside_the_state_of_their_first_principal_city():
    titles = {"35620": "New York-Newark-Jersey City, NY-NJ-PA", "49180": "Winston-Salem, NC",
              "46520": "Urban Honolulu, HI", "11260": "Anchorage, AK", "14260": "Boise City, ID",
              "34980": "Nashville-Davidson--Murfreesboro--Franklin, TN", "47900": "Washington-Arlington-Alexandria, "
              "DC-VA-MD-WV", "31140": "Louisville/Jefferson County, KY-IN", "33100": "Miami-Fort Lauderdale-Pompano "
              "Beach, FL", "42660": "Seattle-Tacoma-Bellevue, WA"}
    fips = {"NY": "36", "NC": "37", "HI": "15", "AK": "02", "ID": "16", "TN": "47", "DC": "11", "KY": "21", "FL": "12",
            "WA": "53"}
    positions = metro_positions(pd.DataFrame({"cbsa_code": list(titles), "cbsa_title": list(titles.values())}))
    states = {s.fips: s for s in albers.state_outlines()}
    for row in positions.itertuples():
        state = first_principal_city(row.cbsa_title)[1]
        # the point (projected here) lies in the state's outline (projected by us-atlas), or within 3 screen units
        near = [(row.x + dx, row.y + dy) for dx in (-3, 0, 3) for dy in (-3, 0, 3)]
        assert any(states[fips[state]].contains(*p) for p in near), row.cbsa_title
    assert positions.set_index("cbsa_code").loc["49180", "place"] == "Winston-Salem, NC"
    with pytest.raises(CitydipError, match="metro 10001 .*'Nowhere Such'"):
        metro_positions(pd.DataFrame({"cbsa_code": ["10001"], "cbsa_title": ["Nowhere Such, ZZ"]}))


@pytest.fixture(scope="module")
def demo() -> pd.DataFrame:
    panel, _ = synthetic_panel()
    return panel


def test_synthetic_positions_are_seeded_points_in_the_lower_48(demo):
    first = metro_positions(demo)
    again = metro_positions(demo.sample(frac=1, random_state=1))
    pd.testing.assert_frame_equal(first, again.sort_values("cbsa_code").reset_index(drop=True))
    lower48 = [s for s in albers.state_outlines() if s.fips not in {"02", "15"}]
    assert all(any(s.contains(x, y) for s in lower48) for x, y in zip(first.x, first.y))
    assert first[["x", "y"]].round(1).drop_duplicates().shape[0] == len(first) == demo.cbsa_code.nunique()


def _embedded(text: str) -> dict:
    match = re.search(r'<script type="application/json" id="atlas-data">(.*?)</script>', text, re.DOTALL)
    return json.loads(match.group(1))


def _check_page(text: str, panel: pd.DataFrame, *, synthetic: bool) -> dict:
    assert not re.search(r"https?://", text)
    assert len(text.encode("utf-8")) <= MAX_BYTES
    assert ('id="synthetic-banner"' in text) is synthetic
    assert ("SYNTHETIC" in text) is synthetic
    data = _embedded(text)
    codes = sorted(panel.cbsa_code.astype(str).unique())
    assert [m["code"] for m in data["metros"]] == codes
    assert data["years"] == sorted(int(y) for y in panel.year.unique())
    # the embedded numbers are the panel's (exports in whole dollars)
    want = panel.assign(cbsa_code=panel.cbsa_code.astype(str)).set_index(["cbsa_code", "year"])
    for key in ("exports_usd", "consular_posts", "sister_active", "networks_dated"):
        got = pd.Series([v for row in data["values"][key] for v in row], dtype="float64",
                        index=pd.MultiIndex.from_product([codes, data["years"]]))
        ref = want[key].astype("float64").reindex(got.index)
        assert np.allclose(got, ref, rtol=0, atol=0.5 if key == "exports_usd" else 1e-4, equal_nan=True), key
    return data


def test_synthetic_atlas_is_offline_deterministic_and_says_synthetic(demo, tmp_path):
    first = write_atlas(demo, tmp_path / "a" / "atlas.html", synthetic=True)
    second = write_atlas(demo.sample(frac=1, random_state=2), tmp_path / "b" / "atlas.html", synthetic=True)
    assert first.read_bytes() == second.read_bytes()
    assert sorted(p.name for p in first.parent.iterdir()) == ["atlas.html"]   # no temporary file left
    data = _check_page(first.read_text(encoding="utf-8"), demo, synthetic=True)
    assert data["years"] == list(PANEL_YEARS)
    assert {m["key"] for m in data["measures"]} == {"consular_posts", "sister_active", "networks_dated",
                                                   "cdp_cities_reporting"}


def test_the_banner_follows_the_flag_and_a_demo_panel_cannot_pass_as_real(demo, tmp_path):
    assert demo.attrs.get("synthetic") is True
    with pytest.raises(CitydipError, match="synthetic=False"):
        write_atlas(demo, tmp_path / "flagged.html", synthetic=False)
    assert not (tmp_path / "flagged.html").exists()
    unflagged = demo.copy()
    unflagged.attrs = {}
    text = write_atlas(unflagged, tmp_path / "atlas.html", synthetic=False).read_text(encoding="utf-8")
    assert "SYNTHETIC" not in text and 'id="synthetic-banner"' not in text


def test_partners_are_counted_per_metro_and_bad_rows_are_named(demo):
    code = str(demo.cbsa_code.iloc[0])
    partners = pd.DataFrame({"cbsa_code": [code, code, code, "99999"], "kind": ["sister", "sister", "consulate",
                                                                               "sister"],
                             "country": ["Japan", "Japan", "Mexico", "France"]})
    data = atlas_data(demo, synthetic=True, partners=partners)
    assert data["partners"] == {code: {"sister": [["Japan", 2]], "consulate": [["Mexico", 1]]}}
    with pytest.raises(CitydipError, match=r"partners: row 2, column 'kind': 'embassy'"):
        atlas_data(demo, synthetic=True, partners=partners.assign(kind=["sister", "sister", "embassy", "sister"]))
    with pytest.raises(CitydipError, match=r"more than one row for year"):
        atlas_data(pd.concat([demo, demo.iloc[:1]]), synthetic=True)
    with pytest.raises(CitydipError, match=r"column 'exports_usd': negative"):
        atlas_data(demo.assign(exports_usd=-demo.exports_usd), synthetic=True)


def test_real_atlas_has_one_mark_per_metro_and_fits(real_panel, tmp_path):
    path = write_atlas(real_panel, tmp_path / "atlas.html", synthetic=False)
    data = _check_page(path.read_text(encoding="utf-8"), real_panel, synthetic=False)
    assert len(data["metros"]) == real_panel.cbsa_code.nunique()


# -- in a browser ----------------------------------------------------------------------------------------
def _browse(chromium: str, page: Path, out: Path, fragment: str) -> tuple[str, str, list[str], np.ndarray]:
    """Open ``page`` in headless Chromium with the network disabled: the DOM after the scripts ran, the
    console lines, the addresses the page requested (from a NetLog) and a screenshot (RGB array)."""
    from matplotlib import image

    net_log, shot = out / "net.json", out / "shot.png"
    args = [chromium, "--headless", "--disable-gpu", "--no-first-run", "--disable-extensions",
            "--disable-background-networking", "--host-resolver-rules=MAP * ~NOTFOUND",
            "--proxy-server=127.0.0.1:9", "--enable-logging=stderr", "--v=0", f"--log-net-log={net_log}",
            "--window-size=1280,1000", f"--screenshot={shot}", "--virtual-time-budget=5000",
            f"--user-data-dir={out / 'profile'}", "--dump-dom", page.resolve().as_uri() + fragment]
    if os.geteuid() == 0:
        args.insert(1, "--no-sandbox")
    done = subprocess.run(args, capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    console = [line for line in done.stderr.splitlines() if ":CONSOLE" in line]
    events = json.loads(net_log.read_text(encoding="utf-8"))["events"]
    # requests the page made (the browser's own background requests have no file:// isolation key)
    requested = sorted({e["params"]["url"] for e in events if "url" in e.get("params", {})
                        and "file://" in str(e["params"].get("network_isolation_key", ""))
                        and not e["params"]["url"].startswith("file:")})
    return done.stdout, "\n".join(console), requested, image.imread(shot)[..., :3]


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["synthetic", "real"])
def test_atlas_in_a_browser_offline(kind, chromium, demo, request, tmp_path):
    panel = demo if kind == "synthetic" else request.getfixturevalue("real_panel")
    page = write_atlas(panel, tmp_path / "atlas.html", synthetic=kind == "synthetic")
    data = _embedded(page.read_text(encoding="utf-8"))
    code = data["metros"][0]["code"]
    dom, console, requested, pixels = _browse(chromium, page, tmp_path, f"#metro={code}&year={data['years'][-1]}")
    assert console == ""
    assert requested == []
    marks = re.findall(r'<circle[^>]*data-code="(\d+)"', dom)
    assert sorted(marks) == [m["code"] for m in data["metros"]]
    assert f'data-atlas-ready="{len(data["metros"])}"' in dom
    assert dom.count('class="chart"') == len(data["series"])            # the selected metro's charts
    assert dom.count("<tr>") >= len(data["metros"]) + len(data["years"])  # both tables filled
    colours = np.unique((pixels.reshape(-1, 3) * 255).round().astype(int), axis=0)
    assert len(colours) > 50


def test_browser_check_sees_console_errors_and_requests(chromium, tmp_path):
    page = tmp_path / "bad.html"
    page.write_text('<!DOCTYPE html><html><body><img src="http://example.invalid/x.png">'
                    '<script>console.error("planted error"); undefinedFunction();</script></body></html>',
                    encoding="utf-8")
    _, console, requested, _ = _browse(chromium, page, tmp_path, "")
    assert "planted error" in console and "undefinedFunction" in console
    assert requested == ["http://example.invalid/x.png"]
