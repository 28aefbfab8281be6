"""Wikidata sister-city extracts (P190 "twinned administrative body"), snapshot 2021-22.

Folder ``wikidata_p190_ursino/`` (Wikidata content, CC0):

* ``query_bigcities_p190.csv``: raw Wikidata Query Service result for cities (P31 = Q515)
  with population above 50,000 and their P190 partners. Columns city / sister (entity
  URIs), cityLabel / sisterLabel (partly Italian labels: use the QIDs), populations and
  ``Point(lon lat)`` coordinates. A pair appears once per combination of population and
  coordinate statements, so (city, sister) repeats legitimately (15,229 rows, 10,802
  distinct ordered pairs); :func:`query_pairs` collapses them. An exactly repeated row
  is an error (a query result has no identical rows).
* ``sister_cities.gexf``: the NetworkX graph (GEXF 1.2, undirected) built with a
  population threshold of 10,000: nodes are Wikidata QIDs with attributes degree, lon,
  lat, pop and country; edges are pairs. Parsed with :mod:`xml.etree.ElementTree`.
  ``degree`` is the attribute as stored (it disagrees with the edge count of about a
  third of the nodes, so it was computed on another graph); count edges instead.
  ``source_row`` of a node or edge is the line of its start tag. A repeated pair (in
  either direction) or a self-loop is an error.

No start dates: cross-sectional ("ever") measures only.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pandas as pd

from citydip.errors import SourceFileError
from citydip.sources._io import RawTable, check_exists, read_delimited
from citydip.sources.registry import SourceFile, register
from citydip.sources.schema import SOURCE_ROW, Schema, col

FOLDER = "wikidata_p190_ursino"
QUERY_FILE = "query_bigcities_p190.csv"
GEXF_FILE = "sister_cities.gexf"
UNITED_STATES = "United States of America"
GEXF_NS = "{http://www.gexf.net/1.2draft}"
NODE_ATTRIBUTES = ("degree", "lon", "lat", "pop", "country")

_ENTITY = re.compile(r"^http://www\.wikidata\.org/entity/(Q\d+)$")
_POINT = re.compile(r"^Point\(\s*(\S+)\s+(\S+)\s*\)$")
_NUMBER = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$")
_QID = re.compile(r"^Q\d+$")

QUERY_COLUMNS = ("city", "cityLabel", "city_population", "city_coordinate_location", "sister", "sisterLabel",
                 "sister_population", "sister_coordinate_location")

QUERY_SCHEMA = Schema("wikidata_p190_query", (
    col("city_qid", "string", "Wikidata QID of the city (P31 = Q515, population > 50,000)"),
    col("city_label", "string", "label as returned (partly Italian)"),
    col("city_population", "float64", "one P1082 population statement of the city", "people"),
    col("city_lon", "float64", "longitude of one P625 statement", "decimal degrees"),
    col("city_lat", "float64", "latitude of one P625 statement", "decimal degrees"),
    col("sister_qid", "string", "Wikidata QID of the P190 partner"),
    col("sister_label", "string", "label as returned (partly Italian)"),
    col("sister_population", "float64", "one P1082 population statement of the partner", "people"),
    col("sister_lon", "float64", "longitude of one P625 statement of the partner", "decimal degrees"),
    col("sister_lat", "float64", "latitude of one P625 statement of the partner", "decimal degrees"),
    SOURCE_ROW,
))

NODE_SCHEMA = Schema("wikidata_p190_nodes", (
    col("qid", "string", "Wikidata QID (node id)"),
    col("label", "string", "English label"),
    col("country", "string", "country label ('United States of America')"),
    col("lon", "float64", "longitude", "decimal degrees"),
    col("lat", "float64", "latitude", "decimal degrees"),
    col("population", "float64", "population (P1082)", "people"),
    col("degree", "int64", "degree attribute as stored in the file (not recomputed)"),
    SOURCE_ROW,
))

EDGE_SCHEMA = Schema("wikidata_p190_edges", (
    col("edge_id", "string", "edge id in the file"),
    col("qid1", "string", "QID of the edge's source node (the graph is undirected)"),
    col("label1", "string", "label of node 1"),
    col("country1", "string", "country of node 1"),
    col("lat1", "float64", "latitude of node 1", "decimal degrees"),
    col("lon1", "float64", "longitude of node 1", "decimal degrees"),
    col("qid2", "string", "QID of the edge's target node"),
    col("label2", "string", "label of node 2"),
    col("country2", "string", "country of node 2"),
    col("lat2", "float64", "latitude of node 2", "decimal degrees"),
    col("lon2", "float64", "longitude of node 2", "decimal degrees"),
    col("involves_us", "bool", "either node's country is 'United States of America'"),
    SOURCE_ROW,
))


# -- query.csv -----------------------------------------------------------------------------------
def _qids(table: RawTable, column: str) -> pd.Series:
    values = table.text(column, required=True)
    parsed = values.str.extract(_ENTITY, expand=False)
    if parsed.isna().any():
        i = int(np.argmax(parsed.isna().to_numpy()))
        raise table.error(f"value {values.iloc[i]!r} is not a Wikidata entity URI", position=i, column=column)
    return parsed.astype("string")


def _points(table: RawTable, column: str) -> tuple[pd.Series, pd.Series]:
    values = table.text(column, required=True)
    lon = np.empty(len(values))
    lat = np.empty(len(values))
    for i, cell in enumerate(values.tolist()):
        match = _POINT.match(cell)
        if match is None or not (_NUMBER.match(match.group(1)) and _NUMBER.match(match.group(2))):
            raise table.error(f"value {cell!r} is not a 'Point(lon lat)' coordinate", position=i, column=column)
        lon[i], lat[i] = float(match.group(1)), float(match.group(2))
        if not (-180 <= lon[i] <= 180 and -90 <= lat[i] <= 90):
            raise table.error(f"coordinate {cell!r} is outside the range of longitude/latitude", position=i,
                              column=column)
    return pd.Series(lon, index=values.index), pd.Series(lat, index=values.index)


def read_query(path: str | Path) -> pd.DataFrame:
    """Read ``query_bigcities_p190.csv`` into :data:`QUERY_SCHEMA` (one row per query result)."""
    table = read_delimited(path)
    table.require_columns(QUERY_COLUMNS)
    table.require_rows()
    table.check_unique(list(QUERY_COLUMNS), "query result")
    city_lon, city_lat = _points(table, "city_coordinate_location")
    sister_lon, sister_lat = _points(table, "sister_coordinate_location")
    frame = pd.DataFrame({
        "city_qid": _qids(table, "city"),
        "city_label": table.text("cityLabel"),
        "city_population": table.numeric("city_population", minimum=0),
        "city_lon": city_lon, "city_lat": city_lat,
        "sister_qid": _qids(table, "sister"),
        "sister_label": table.text("sisterLabel"),
        "sister_population": table.numeric("sister_population", minimum=0),
        "sister_lon": sister_lon, "sister_lat": sister_lat,
        "source_row": table.rows,
    })
    return QUERY_SCHEMA.conform(frame)


def query_pairs(frame: pd.DataFrame) -> pd.DataFrame:
    """Distinct ordered (city_qid, sister_qid) pairs of :func:`read_query`, first row of each kept."""
    return frame.drop_duplicates(["city_qid", "sister_qid"], keep="first").reset_index(drop=True)


# -- GEXF ------------------------------------------------------------------------------------------
def _tag_lines(text: str, tag: str) -> list[int]:
    """Line numbers of the start tags ``<tag `` in document order."""
    starts = [m.start() for m in re.finditer(rf"<{tag}[\s/>]", text)]
    lines, line, last = [], 1, 0
    for pos in starts:
        line += text.count("\n", last, pos)
        last = pos
        lines.append(line)
    return lines


def _parse_gexf(path: str | Path) -> tuple[Path, pd.DataFrame, ET.Element, list[int]]:
    path = Path(path)
    data = check_exists(path)
    try:
        root = ET.fromstring(data)
    except ET.ParseError as exc:
        raise SourceFileError(path, f"is not well-formed GEXF/XML ({exc})", row=exc.position[0],
                              hint="the file looks truncated or damaged; re-download it") from None
    text = data.decode("utf-8", errors="replace")
    graph = root.find(f"{GEXF_NS}graph")
    if graph is None:
        raise SourceFileError(path, "has no <graph> element in the GEXF 1.2 namespace")
    declared = {}
    for attributes in graph.findall(f"{GEXF_NS}attributes"):
        if attributes.get("class") == "node":
            declared = {a.get("id"): a.get("title") for a in attributes.findall(f"{GEXF_NS}attribute")}
    missing = [t for t in NODE_ATTRIBUTES if t not in declared.values()]
    if missing:
        raise SourceFileError(path, f"node attribute(s) {missing} are not declared; declared: "
                                    f"{sorted(declared.values())}", column=missing[0])
    node_lines = _tag_lines(text, "node")
    elements = list(graph.iter(f"{GEXF_NS}node"))
    if len(elements) != len(node_lines):
        raise SourceFileError(path, "node start tags and parsed nodes disagree")
    if not elements:
        raise SourceFileError(path, "has no nodes", hint="the file looks empty or truncated")
    records = []
    for element, line in zip(elements, node_lines):
        values = {declared.get(v.get("for"), v.get("for")): v.get("value") for v in element.iter(f"{GEXF_NS}attvalue")}
        qid = element.get("id") or ""
        if not _QID.match(qid):
            raise SourceFileError(path, f"node id {qid!r} is not a Wikidata QID", row=line, column="id")
        record = {"qid": qid, "label": element.get("label") or "", "source_row": line}
        for title, low, high in (("lon", -180, 180), ("lat", -90, 90), ("pop", 0, None), ("degree", 0, None)):
            cell = values.get(title)
            if cell is None or not _NUMBER.match(cell.strip()):
                raise SourceFileError(path, f"node {qid}: value {cell!r} is not a number", row=line, column=title)
            number = float(cell)
            if number < low or (high is not None and number > high):
                raise SourceFileError(path, f"node {qid}: value {cell!r} is outside {low}..{high}", row=line,
                                      column=title)
            record[title] = number
        if not values.get("country"):
            raise SourceFileError(path, f"node {qid}: country is missing", row=line, column="country")
        record["country"] = values["country"]
        records.append(record)
    nodes = pd.DataFrame(records).rename(columns={"pop": "population"})
    dup = nodes["qid"].duplicated()
    if dup.any():
        i = int(np.argmax(dup.to_numpy()))
        raise SourceFileError(path, f"node {nodes['qid'].iloc[i]} appears twice", row=int(nodes["source_row"].iloc[i]),
                              column="id")
    return path, nodes, graph, _tag_lines(text, "edge")


def read_gexf_nodes(path: str | Path) -> pd.DataFrame:
    """Nodes of ``sister_cities.gexf`` with their attributes (:data:`NODE_SCHEMA`)."""
    _, nodes, _, _ = _parse_gexf(path)
    return NODE_SCHEMA.conform(nodes)


def read_gexf_edges(path: str | Path) -> pd.DataFrame:
    """Edges of ``sister_cities.gexf`` as a pair table with both ends' attributes (:data:`EDGE_SCHEMA`)."""
    path, nodes, graph, lines = _parse_gexf(path)
    elements = list(graph.iter(f"{GEXF_NS}edge"))
    if len(elements) != len(lines):
        raise SourceFileError(path, "edge start tags and parsed edges disagree")
    if not elements:
        raise SourceFileError(path, "has no edges", hint="the file looks truncated")
    known = set(nodes["qid"])
    seen: dict[frozenset, int] = {}
    records = []
    for element, line in zip(elements, lines):
        a, b = element.get("source"), element.get("target")
        for end, qid in (("source", a), ("target", b)):
            if qid not in known:
                raise SourceFileError(path, f"edge {end} {qid!r} is not a node", row=line, column=end)
        if a == b:
            raise SourceFileError(path, f"edge joins {a} to itself", row=line, column="target")
        key = frozenset((a, b))
        if key in seen:
            raise SourceFileError(path, f"pair {a}-{b} appears twice (also row {seen[key]})", row=line, column="source",
                                  hint="remove the duplicated edge; it would be counted twice")
        seen[key] = line
        records.append({"edge_id": element.get("id") or "", "qid1": a, "qid2": b, "source_row": line})
    edges = pd.DataFrame(records)
    attrs = nodes.set_index("qid")[["label", "country", "lat", "lon"]]
    for end in ("1", "2"):
        part = attrs.loc[edges[f"qid{end}"]].reset_index(drop=True)
        for name in part.columns:
            edges[f"{name}{end}"] = part[name].to_numpy()
    edges["involves_us"] = edges["country1"].eq(UNITED_STATES) | edges["country2"].eq(UNITED_STATES)
    return EDGE_SCHEMA.conform(edges)


register(
    SourceFile("wikidata_p190_query", FOLDER, QUERY_FILE, read_query, QUERY_SCHEMA,
               "Wikidata P190 sister cities of cities over 50,000 (raw query, snapshot 2021)", year_column=None,
               optional=True),
    SourceFile("wikidata_p190_gexf", FOLDER, GEXF_FILE, read_gexf_edges, EDGE_SCHEMA,
               "Wikidata P190 sister-city graph, cities over 10,000 (snapshot 2022)", year_column=None,
               optional=True),
)
