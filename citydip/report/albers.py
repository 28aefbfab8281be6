"""The Albers USA frame of the atlas: projection of longitude/latitude and the state outlines.

:func:`albers_usa` is d3-geo's ``geoAlbersUsa().scale(1300).translate([487.5, 305])`` (d3-geo
3.1.2, ``src/projection/albersUsa.js``, ``conicEqualArea.js``, ``albers.js``; ISC licence):
a conic equal-area projection of the lower 48 states (standard parallels 29.5 and 45.5 N,
rotated 96 W, centred at 0.6 W of the rotation, 38.7 N) with inset conic equal-area projections
of Alaska (parallels 55 and 65 N, rotated 154 W, centre 2 W of it, 58.5 N, scale x 0.35) and
Hawaii (parallels 8 and 18 N, rotated 157 W, centre 3 W of it, 19.9 N), each clipped to its
box. The state outlines of us-atlas 3.0.1 (``assets/states-albers-10m.json``, ISC licence)
were projected with exactly this projection, so both share one 975 x 610 frame of screen
units (pixels at scale 1, y downwards).

:func:`state_outlines` decodes that TopoJSON (quantized, delta-encoded arcs with a
``transform``) into rings of screen coordinates; :func:`svg_path` writes them as SVG path data.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

from citydip.errors import CitydipError

#: Width and height of the frame (screen units) of us-atlas's ``*-albers-10m.json`` files.
FRAME = (975.0, 610.0)
#: Scale and translation of us-atlas's Albers USA projection (d3 conventions).
SCALE = 1300.0
TRANSLATE = (487.5, 305.0)
#: The vendored TopoJSON file (in ``citydip/report/assets/``).
STATES_FILE = "states-albers-10m.json"
#: d3-geo's epsilon, by which the inset boxes of Alaska and Hawaii are shrunk.
_EPSILON = 1e-6

Point = tuple[float, float]
Ring = list[Point]


# -- projection ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ConicEqualArea:
    """d3's ``geoConicEqualArea().parallels(parallels).rotate([rotate, 0]).center(center)
    .scale(scale).translate(translate)`` with a clip box ``extent`` ((x0, y0), (x1, y1)) in screen
    units. Angles in degrees."""

    parallels: tuple[float, float]
    rotate: float
    center: tuple[float, float]
    scale: float
    translate: tuple[float, float]
    extent: tuple[Point, Point]

    def _raw(self, lam: float, phi: float) -> Point:
        """Unit-sphere conic equal-area projection of radians (x east, y north)."""
        sy0 = math.sin(math.radians(self.parallels[0]))
        n = (sy0 + math.sin(math.radians(self.parallels[1]))) / 2
        if abs(n) < _EPSILON:
            raise CitydipError(f"parallels {self.parallels} are symmetric about the equator (not conic)")
        c = 1 + sy0 * (2 * n - sy0)
        r0 = math.sqrt(c) / n
        r = math.sqrt(c - 2 * n * math.sin(phi)) / n
        return r * math.sin(lam * n), r0 - r * math.cos(lam * n)

    def project(self, lon: float, lat: float) -> Point | None:
        """Screen coordinates of (lon, lat) in degrees, or None outside the clip box."""
        k = self.scale
        cx, cy = self._raw(math.radians(math.fmod(self.center[0], 360)), math.radians(math.fmod(self.center[1], 360)))
        dx, dy = self.translate[0] - k * cx, self.translate[1] + k * cy
        lam = math.radians(lon) + math.radians(self.rotate)
        if abs(lam) > math.pi:  # d3's forwardRotationLambda (Math.round rounds halves up)
            lam -= math.floor(lam / math.tau + 0.5) * math.tau
        x, y = self._raw(lam, math.radians(lat))
        x, y = dx + k * x, dy - k * y
        (x0, y0), (x1, y1) = self.extent
        return (x, y) if x0 <= x <= x1 and y0 <= y <= y1 else None


@lru_cache(maxsize=4)
def _parts(scale: float, translate: tuple[float, float]) -> tuple[ConicEqualArea, ConicEqualArea, ConicEqualArea]:
    k, (x, y), e = scale, translate, _EPSILON
    lower48 = ConicEqualArea((29.5, 45.5), 96.0, (-0.6, 38.7), k, (x, y),
                             ((x - 0.455 * k, y - 0.238 * k), (x + 0.455 * k, y + 0.238 * k)))
    alaska = ConicEqualArea((55.0, 65.0), 154.0, (-2.0, 58.5), k * 0.35, (x - 0.307 * k, y + 0.201 * k),
                            ((x - 0.425 * k + e, y + 0.120 * k + e), (x - 0.214 * k - e, y + 0.234 * k - e)))
    hawaii = ConicEqualArea((8.0, 18.0), 157.0, (-3.0, 19.9), k, (x - 0.205 * k, y + 0.212 * k),
                            ((x - 0.214 * k + e, y + 0.166 * k + e), (x - 0.115 * k - e, y + 0.234 * k - e)))
    return lower48, alaska, hawaii


def albers_usa(lon: float, lat: float, *, scale: float = SCALE,
               translate: tuple[float, float] = TRANSLATE) -> Point | None:
    """Screen coordinates (x right, y down; screen units of the 975 x 610 frame) of a point given
    in degrees (longitude east, latitude north), as d3's ``geoAlbersUsa``: the lower-48
    projection if the point falls in its box, else Alaska's, else Hawaii's, else None (e.g.
    Puerto Rico or any point outside the three boxes)."""
    for part in _parts(float(scale), (float(translate[0]), float(translate[1]))):
        point = part.project(float(lon), float(lat))
        if point is not None:
            return point
    return None


# -- state outlines --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class State:
    """A state (or DC) of us-atlas: FIPS code, name, polygons (each a list of rings: the outer
    ring, then its holes) in screen units."""

    fips: str
    name: str
    polygons: list[list[Ring]]

    @property
    def bbox(self) -> tuple[float, float, float, float]:
        """(x_min, y_min, x_max, y_max) of all rings, screen units."""
        xs = [p[0] for poly in self.polygons for ring in poly for p in ring]
        ys = [p[1] for poly in self.polygons for ring in poly for p in ring]
        return min(xs), min(ys), max(xs), max(ys)

    def contains(self, x: float, y: float) -> bool:
        """Whether the point lies inside the state (even-odd rule over its rings)."""
        return any(sum(_in_ring(ring, x, y) for ring in poly) % 2 == 1 for poly in self.polygons)


def _in_ring(ring: Ring, x: float, y: float) -> bool:
    inside = False
    for (x1, y1), (x2, y2) in zip(ring, ring[1:] + ring[:1]):
        if (y1 > y) != (y2 > y) and x < x1 + (y - y1) * (x2 - x1) / (y2 - y1):
            inside = not inside
    return inside


def ring_area(ring: Ring) -> float:
    """Absolute planar area of a ring (shoelace), square screen units."""
    return abs(sum(x1 * y2 - x2 * y1 for (x1, y1), (x2, y2) in zip(ring, ring[1:] + ring[:1]))) / 2


def _decode_arcs(topology: dict, source: str) -> list[Ring]:
    """Absolute screen coordinates of every arc (quantized delta encoding undone, transform applied)."""
    transform = topology.get("transform")
    (sx, sy), (tx, ty) = (transform["scale"], transform["translate"]) if transform else ((1, 1), (0, 0))
    arcs = []
    for i, arc in enumerate(topology["arcs"]):
        x = y = 0
        points = []
        for j, position in enumerate(arc):
            if len(position) < 2:
                raise CitydipError(f"{source}: arc {i}, position {j}: expected two coordinates, got {position!r}")
            if transform:
                x, y = x + position[0], y + position[1]
                points.append((x * sx + tx, y * sy + ty))
            else:
                points.append((float(position[0]), float(position[1])))
        arcs.append(points)
    return arcs


def _ring(indices: list[int], arcs: list[Ring]) -> Ring:
    """A ring from arc indices (``~i`` = arc ``i`` reversed); shared end points kept once."""
    points: Ring = []
    for index in indices:
        arc = arcs[index] if index >= 0 else arcs[~index][::-1]
        points.extend(arc if not points else arc[1:])
    if len(points) > 1 and points[0] == points[-1]:
        points.pop()
    return points


def decode_states(topology: dict, *, source: str = STATES_FILE, layer: str = "states") -> list[State]:
    """The features of a TopoJSON layer as :class:`State` objects, sorted by FIPS code."""
    if layer not in topology.get("objects", {}):
        raise CitydipError(f"{source}: no object '{layer}' (objects: {sorted(topology.get('objects', {}))})")
    arcs = _decode_arcs(topology, source)
    states = []
    for i, geometry in enumerate(topology["objects"][layer]["geometries"]):
        kind = geometry.get("type")
        if kind == "Polygon":
            polygons = [geometry["arcs"]]
        elif kind == "MultiPolygon":
            polygons = geometry["arcs"]
        else:
            raise CitydipError(f"{source}: {layer} geometry {i}: type {kind!r}, expected Polygon or MultiPolygon")
        name = geometry.get("properties", {}).get("name", "")
        states.append(State(str(geometry.get("id", "")), name,
                            [[_ring(ring, arcs) for ring in polygon] for polygon in polygons]))
    return sorted(states, key=lambda s: s.fips)


@lru_cache(maxsize=1)
def state_outlines() -> tuple[State, ...]:
    """The 50 states and DC of the vendored us-atlas file, in screen units, by FIPS code."""
    text = resources.files("citydip.report").joinpath("assets", STATES_FILE).read_text(encoding="utf-8")
    return tuple(decode_states(json.loads(text)))


def svg_path(polygons: list[list[Ring]], digits: int = 1) -> str:
    """SVG path data (absolute ``M``/``L`` commands, each ring closed with ``Z``), coordinates
    rounded to ``digits`` decimals of a screen unit; repeated points after rounding dropped."""
    parts = []
    for polygon in polygons:
        for ring in polygon:
            points = []
            for x, y in ring:
                point = f"{round(x, digits):g},{round(y, digits):g}"
                if not points or points[-1] != point:
                    points.append(point)
            if len(points) >= 3:
                parts.append("M" + "L".join(points) + "Z")
    return "".join(parts)
