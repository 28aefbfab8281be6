"""Wikidata P190 readers (query csv and GEXF): real facts, and the damaged-input contract."""

from __future__ import annotations

from pathlib import Path

import pytest

from citydip.errors import SourceFileError
from citydip.sources import wikidata_p190 as wp
from tests import damage as d

E = "http://www.wikidata.org/entity/"
QUERY = [list(wp.QUERY_COLUMNS),
         [E + "Q9001", "Springfield", "120000", "Point(-89.6 39.8)", E + "Q9002", "Szohod", "80000",
          "Point(20.3 45.1)"],
         [E + "Q9001", "Springfield", "125000", "Point(-89.6 39.8)", E + "Q9002", "Szohod", "80000",
          "Point(20.3 45.1)"],  # second population statement: same pair, legitimate
         [E + "Q9003", "Klow", "60000", "Point(21.0 52.2)", E + "Q9001", "Springfield", "120000",
          "Point(-89.6 39.8)"]]


def node(qid, label, lon, lat, pop, country, degree="1"):
    values = "".join(f'\n          <attvalue for="{k}" value="{v}" />' for k, v in
                     (("0", degree), ("1", lon), ("2", lat), ("3", pop), ("4", country)))
    return f'      <node id="{qid}" label="{label}">\n        <attvalues>{values}\n        </attvalues>\n      </node>\n'


def gexf(nodes: str, edges: str) -> str:
    attrs = "".join(f'\n      <attribute id="{i}" title="{t}" type="{k}" />' for i, (t, k) in
                    enumerate((("degree", "long"), ("lon", "double"), ("lat", "double"), ("pop", "long"),
                               ("country", "string"))))
    return ("<?xml version='1.0' encoding='utf-8'?>\n"
            '<gexf xmlns="http://www.gexf.net/1.2draft" version="1.2">\n'
            '  <graph defaultedgetype="undirected" mode="static" name="">\n'
            f'    <attributes mode="static" class="node">{attrs}\n    </attributes>\n'
            f"    <nodes>\n{nodes}    </nodes>\n    <edges>\n{edges}    </edges>\n  </graph>\n</gexf>\n")


NODES = (node("Q9001", "Springfield", "-89.6", "39.8", "120000", "United States of America", "2")
         + node("Q9002", "Szohod", "20.3", "45.1", "80000", "Borduria")
         + node("Q9003", "Klow", "21.0", "52.2", "60000", "Syldavia"))
EDGES = ('      <edge source="Q9001" target="Q9002" id="0" />\n'
         '      <edge source="Q9003" target="Q9001" id="1" />\n')


# -- real data -------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def query(real_data):
    return wp.read_query(real_data / wp.FOLDER / wp.QUERY_FILE)


@pytest.fixture(scope="module")
def nodes(real_data):
    return wp.read_gexf_nodes(real_data / wp.FOLDER / wp.GEXF_FILE)


@pytest.fixture(scope="module")
def edges(real_data):
    return wp.read_gexf_edges(real_data / wp.FOLDER / wp.GEXF_FILE)


def test_gexf_counts(nodes, edges):
    assert len(nodes) == 4566 and len(edges) == 8182
    us = set(nodes.qid[nodes.country.eq(wp.UNITED_STATES)])
    assert len(us) == 354
    assert edges.involves_us.sum() == 985
    assert (edges.qid1.isin(us) | edges.qid2.isin(us)).sum() == 985


def test_query_counts(query, nodes):
    assert len(query) == 15229
    assert len(wp.query_pairs(query)) == 10802
    us = set(nodes.qid[nodes.country.eq(wp.UNITED_STATES)])
    touching = query.city_qid.isin(us) | query.sister_qid.isin(us)
    assert touching.sum() == 1555
    assert len(us & (set(query.city_qid) | set(query.sister_qid))) == 348


def test_new_york_node(nodes):
    nyc = nodes.set_index("qid").loc["Q60"]
    assert nyc["label"] == "New York City" and nyc["country"] == wp.UNITED_STATES
    assert nyc["lat"] == pytest.approx(40.712728) and nyc["lon"] == pytest.approx(-74.006015)


# -- samples and damage ------------------------------------------------------------------------
@pytest.fixture
def good_query(tmp_path) -> Path:
    return d.write_csv(QUERY, tmp_path / "query.csv")


@pytest.fixture
def good_gexf(tmp_path) -> Path:
    path = tmp_path / "good.gexf"
    path.write_text(gexf(NODES, EDGES), encoding="utf-8")
    return path


def test_query_sample(good_query):
    frame = wp.read_query(good_query)
    assert frame.city_qid.tolist() == ["Q9001", "Q9001", "Q9003"]
    assert frame.city_lon.iloc[0] == -89.6 and frame.city_lat.iloc[0] == 39.8
    assert len(wp.query_pairs(frame)) == 2


@pytest.mark.parametrize("case", ["drop", "shuffle", "duplicate", "point", "range", "uri", "population"])
def test_damaged_query(tmp_path, good_query, case):
    damaged, must_fail, row, column = {
        "drop": (d.drop_column(QUERY, 0, "sister"), True, 1, "sister"),
        "shuffle": (d.shuffle_columns(QUERY, 0, 3), False, None, None),
        "duplicate": (d.duplicate_row(QUERY, 3), True, 5, "city"),
        "point": (d.set_cell(QUERY, 0, 2, "city_coordinate_location", "Point(-89.6 north)"), True, 3,
                  "city_coordinate_location"),
        "range": (d.set_cell(QUERY, 0, 3, "sister_coordinate_location", "Point(-289.6 39.8)"), True, 4,
                  "sister_coordinate_location"),
        "uri": (d.set_cell(QUERY, 0, 1, "sister", "Q9002"), True, 2, "sister"),
        "population": (d.set_cell(QUERY, 0, 1, "city_population", "-5"), True, 2, "city_population"),
    }[case]
    bad = d.write_csv(damaged, tmp_path / f"bad_{case}.csv")
    d.check_damage(wp.read_query, good_query, bad, must_fail=must_fail, row=row, column=column)


def test_query_truncated_and_empty(tmp_path, good_query):
    d.check_damage(wp.read_query, good_query, d.truncate(good_query, tmp_path / "cut.csv"), must_fail=True)
    d.check_damage(wp.read_query, good_query, d.empty(tmp_path / "empty.csv"), must_fail=True)


def test_gexf_sample(good_gexf):
    edges = wp.read_gexf_edges(good_gexf)
    assert edges.qid1.tolist() == ["Q9001", "Q9003"] and edges.country2.tolist() == ["Borduria", wp.UNITED_STATES]
    assert edges.involves_us.all() and edges.lat1.iloc[1] == 52.2
    assert edges.source_row.tolist() == [41, 42]
    nodes = wp.read_gexf_nodes(good_gexf)
    assert nodes.source_row.tolist() == [12, 21, 30] and nodes.degree.tolist() == [2, 1, 1]


@pytest.mark.parametrize("case", ["lon", "lat", "pop", "country", "duplicate_edge", "reverse_edge", "unknown_node"])
def test_damaged_gexf(tmp_path, good_gexf, case):
    nodes, edges = NODES, EDGES
    if case == "lon":
        nodes = NODES.replace('value="20.3"', 'value="20,3"')
    elif case == "lat":
        nodes = NODES.replace('value="52.2"', 'value="152.2"')
    elif case == "pop":
        nodes = NODES.replace('value="80000"', 'value="n/a"')
    elif case == "country":
        nodes = NODES.replace('<attvalue for="4" value="Syldavia" />', "")
    elif case == "duplicate_edge":
        edges = EDGES + '      <edge source="Q9001" target="Q9002" id="2" />\n'
    elif case == "reverse_edge":
        edges = EDGES + '      <edge source="Q9002" target="Q9001" id="2" />\n'
    else:
        edges = EDGES + '      <edge source="Q9001" target="Q9999" id="2" />\n'
    bad = tmp_path / f"bad_{case}.gexf"
    bad.write_text(gexf(nodes, edges), encoding="utf-8")
    row, column = {"lon": (21, "lon"), "lat": (30, "lat"), "pop": (21, "pop"), "country": (30, "country"),
                   "duplicate_edge": (43, "source"), "reverse_edge": (43, "source"),
                   "unknown_node": (43, "target")}[case]
    d.check_damage(wp.read_gexf_edges, good_gexf, bad, must_fail=True, row=row, column=column)


def test_gexf_truncated_and_empty(tmp_path, good_gexf):
    d.check_damage(wp.read_gexf_edges, good_gexf, d.truncate(good_gexf, tmp_path / "cut.gexf"), must_fail=True)
    d.check_damage(wp.read_gexf_edges, good_gexf, d.empty(tmp_path / "empty.gexf"), must_fail=True)
    with pytest.raises(SourceFileError, match="nope.gexf"):
        wp.read_gexf_nodes(tmp_path / "nope.gexf")
