"""Pure parts of the dependencies step: the endpoint grammar, column mapping, groups and hubs."""

from __future__ import annotations

import pandas as pd
import pytest

from mfactory.endpoints import parse_port, short_name, split_endpoint
from tasks.artifacts.charts import dependency_graph_figure, png_bytes
from tasks.artifacts.discovery import _dependencies
from tasks.artifacts.graph import group_graph
from tasks.artifacts.model import Report
from tasks.discovery.dependencies import observation_columns
from tasks.discovery.dependency_columns import looks_like_endpoint, map_dependency_columns
from tasks.discovery.dependency_graph import graph_measures

ENDPOINT_CASES = [
    ("10.0.0.5:443", ("10.0.0.5", 443)),
    (" Web01.Corp.Example.com:8080 ", ("web01.corp.example.com", 8080)),
    ("web01.corp.example.com.", ("web01.corp.example.com", None)),
    ("[fe80::1]:22", ("fe80::1", 22)),
    ("[2001:db8::7]", ("2001:db8::7", None)),
    ("fe80::1", ("fe80::1", None)),  # a bare IPv6 address keeps all its colons
    ("db-02", ("db-02", None)),
    ("10.0.0.9:*", ("10.0.0.9", None)),
    ("10.0.0.9:70000", ("10.0.0.9", None)),  # no such port
    ("*:*", (None, None)),
    ("0.0.0.0:0", (None, None)),
    ("127.0.0.1:5432", (None, 5432)),
    ("[::]:443", (None, 443)),
    ("", (None, None)),
    (None, (None, None)),
]


@pytest.mark.parametrize(("cell", "expected"), ENDPOINT_CASES)
def test_split_endpoint(cell: str | None, expected: tuple[str | None, int | None]) -> None:
    assert split_endpoint(cell) == expected


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        ("443", 443),
        (" 443/TCP ", 443),
        ("udp/53", 53),
        ("0", None),
        ("65536", None),
        ("https", None),
        ("", None),
    ],
)
def test_parse_port(cell: str, expected: int | None) -> None:
    assert parse_port(cell) == expected


@pytest.mark.parametrize(
    ("host", "expected"),
    [("web01.corp.example.com", "web01"), ("web01", None), ("10.0.0.5", None), ("fe80::1", None)],
)
def test_short_name_never_shortens_addresses(host: str, expected: str | None) -> None:
    assert short_name(host) == expected


def test_endpoint_values_recognised() -> None:
    assert all(map(looks_like_endpoint, ["10.0.0.5:443", "web01.corp", "db-02", "[fe80::1]:22", "*:*"]))
    assert not any(map(looks_like_endpoint, ["443", "", "hello world", "ESTABLISHED!"]))


def test_columns_by_header_aliases() -> None:
    headers = ["Proto", "Local Address", "Foreign Address", "State", "Timeslot", "Count"]
    fields = [m.field for m in map_dependency_columns(headers)]
    assert fields == ["protocol", "source", "target", None, "observed_at", "observations"]


def test_azure_export_keeps_name_and_ip_of_each_end() -> None:
    headers = [
        "Timeslot",
        "Source server name",
        "Source IP",
        "Destination server name",
        "Destination IP",
        "Destination port",
    ]
    mapped = {m.field: m.source for m in map_dependency_columns(headers) if m.field}
    columns = observation_columns("azure.csv", mapped)
    assert (columns.source, columns.source_ip) == ("Source server name", "Source IP")
    assert (columns.target, columns.target_ip) == ("Destination server name", "Destination IP")
    assert (columns.port, columns.observed_at) == ("Destination port", "Timeslot")


def test_ip_columns_stand_in_for_missing_name_columns() -> None:
    mapped = {m.field: m.source for m in map_dependency_columns(["src_ip", "dst_ip", "dst_port"]) if m.field}
    columns = observation_columns("flows.csv", mapped)
    assert (columns.source, columns.target, columns.port) == ("src_ip", "dst_ip", "dst_port")
    assert columns.source_ip is None and columns.target_ip is None


def test_values_decide_when_headers_do_not() -> None:
    sample = pd.DataFrame(
        {
            "A": ["10.0.0.5:51544", "10.0.0.6:50001", "web01:49999"],
            "B": ["10.0.1.9:443", "db01.corp:1433", "10.0.1.9:443"],
            "C": ["443", "1433", "443"],
            "D": ["ESTABLISHED", "TIME_WAIT", "ESTABLISHED"],
        }
    )
    mapped = map_dependency_columns(list(sample.columns), sample)
    assert [(m.field, m.method) for m in mapped] == [
        ("source", "signature"),
        ("target", "signature"),
        ("port", "signature"),
        (None, "unmapped"),
    ]


def test_a_list_without_two_ends_is_refused_with_its_name() -> None:
    with pytest.raises(ValueError, match=r"links\.csv: a dependency list needs a source and a target"):
        observation_columns("links.csv", {"source": "from", "port": "p"})


def _edges(pairs: list[tuple[str, str]]) -> pd.DataFrame:
    return pd.DataFrame(pairs, columns=["source", "target"])


def test_groups_are_connected_components_largest_first() -> None:
    edges = _edges([("a", "b"), ("b", "c"), ("c", "a"), ("d", "e"), ("f", "f"), ("a", "b")])
    measures = graph_measures(edges, min_neighbours=1)
    group = dict(zip(measures.assets["asset_id"], measures.assets["group"], strict=True))
    assert group == {"a": 1, "b": 1, "c": 1, "d": 2, "e": 2}  # the self-edge of f makes no group
    assert measures.groups.to_dict("records") == [
        {"group": 1, "assets": 3, "edges": 3, "applications": 0},
        {"group": 2, "assets": 2, "edges": 1, "applications": 0},
    ]


def test_hub_counts_distinct_neighbours_both_ways_and_other_applications() -> None:
    # "core" is called by five clients of three applications and calls one database; one client
    # is linked both ways (counted once). Leaves have one neighbour each.
    pairs = [(f"c{i}", "core") for i in range(5)] + [("core", "db"), ("core", "c0")]
    application = pd.Series(
        {"core": "erp", "db": "erp", "c0": "crm", "c1": "crm", "c2": "web", "c3": "web", "c4": None}
    )
    measures = graph_measures(_edges(pairs), application, min_neighbours=3)
    assert measures.hub_threshold >= 3
    hubs = measures.hubs.set_index("asset_id")
    assert list(hubs.index) == ["core"]
    core = hubs.loc["core"]
    assert (core["neighbours"], core["dependents"], core["dependencies"]) == (6, 5, 2)
    assert core["applications"] == 3  # crm, web and c4 (no application: itself); erp is its own


def test_hub_threshold_follows_the_percentile_in_dense_graphs() -> None:
    # A complete graph on 30 nodes: everyone has 29 neighbours, so everyone is at the threshold.
    nodes = [f"n{i}" for i in range(30)]
    pairs = [(a, b) for i, a in enumerate(nodes) for b in nodes[i + 1 :]]
    measures = graph_measures(_edges(pairs), min_neighbours=10)
    assert measures.hub_threshold == 29
    assert len(measures.hubs) == 30
    sparse = graph_measures(_edges([("x", "y")]), min_neighbours=10)
    assert sparse.hub_threshold == 10 and sparse.hubs.empty


def test_no_edges_no_groups() -> None:
    measures = graph_measures(_edges([("a", "a")]))
    assert measures.assets.empty and measures.groups.empty and measures.hubs.empty


def test_groups_holding_a_hub_are_ringed_in_the_picture() -> None:
    nodes = pd.DataFrame({"group": ["erp", "shop", "crm"], "assets": [4, 3, 2]})
    edges = pd.DataFrame({"source": ["shop", "crm"], "target": ["erp", "erp"], "dependencies": [5, 2]})
    graph = group_graph(nodes, edges)
    plain = dependency_graph_figure(graph, "deps")
    ringed = dependency_graph_figure(graph, "deps", frozenset({"erp", "not-shown"}))
    assert png_bytes(ringed).startswith(b"\x89PNG")
    extra = [c for c in ringed.axes[0].collections if c.get_label() == "holds a critical hub"]
    assert len(extra) == 1 and len(extra[0].get_offsets()) == 1
    assert not [c for c in plain.axes[0].collections if c.get_label() == "holds a critical hub"]


def test_report_names_groups_hubs_and_the_most_observed_unresolved_endpoints() -> None:
    nodes = pd.DataFrame({"group": ["erp", "shop"], "assets": [4, 3]})
    edges = pd.DataFrame({"source": ["shop", "erp"], "target": ["erp", "erp"], "dependencies": [5, 2]})
    step = {
        "dependencies": {
            "dependency_groups": 2,
            "largest_group": 4,
            "isolated_assets": 1,
            "hubs": 1,
            "hub_threshold": 10,
            "unresolved_rows": 3,
            "unresolved_endpoints": 2,
            "top_unresolved_endpoints": [
                {"endpoint": "52.95.110.1", "observations": 2},
                {"endpoint": "10.0.3.1", "observations": 1},
            ],
        }
    }
    report = Report(title="Discovery")
    _dependencies(report, edges, group_graph(nodes, edges), step)
    assert any("2 dependency groups" in line and "1 critical hub" in line for line in report.done)
    assert len(report.warnings) == 1
    assert "`52.95.110.1` (2), `10.0.3.1` (1)" in report.warnings[0]
    assert "2 distinct endpoints" in report.warnings[0]
