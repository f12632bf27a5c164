"""Dependencies step through the real master flow: netstat lists and Azure exports become edges.

Real embedded PostgreSQL, real Prefect runs (discovery only). The inventory names its assets by
name, FQDN and IP lists; the netstat list uses addresses and host:port cells, repeats its
connections, is taken on both ends of one of them and talks to an external address.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, text

from mfactory.endpoints import ENDPOINT, PORT_CELL
from tests.flows.test_master_discovery import Engagement, phase_row, rows, run_master, steps_of

pytestmark = pytest.mark.usefixtures("database", "prefect_server")

INVENTORY = (
    "asset_name,fqdn,ip_address,os_name,cpu_cores,memory_gb,application_name\n"
    'web01,web01.corp.example.com,"10.0.0.5; 192.168.1.5",Ubuntu 22.04,2,4,shop\n'
    "web02,web02.corp.example.com,10.0.0.6,Ubuntu 22.04,2,4,shop\n"
    "app01,app01.corp.example.com,10.0.1.7,Red Hat Enterprise Linux 8,4,8,shop\n"
    "db01,DB01.Corp.Example.com,10.0.2.9,Windows Server 2019,8,32,erp\n"
    "dupa,dupa.corp.example.com,10.0.3.1,Ubuntu 22.04,1,2,\n"
    "dupb,dupb.corp.example.com,10.0.3.1,Ubuntu 22.04,1,2,\n"
)
NETSTAT = (
    "Proto,Local Address,Foreign Address,State\n"
    "tcp,10.0.0.5:51544,10.0.1.7:8080,ESTABLISHED\n"  # web01 -> app01 by address
    "tcp,192.168.1.5:51600,10.0.1.7:8080,ESTABLISHED\n"  # web01's second address
    "tcp,10.0.0.5:51544,10.0.1.7:8080,TIME_WAIT\n"  # the same socket again
    "tcp,app01:49200,DB01.corp.example.com.:1433,ESTABLISHED\n"  # names, FQDN with a trailing dot
    "tcp,10.0.2.9:1433,10.0.1.7:49201,ESTABLISHED\n"  # taken on db01: turned round to app01 -> db01
    "tcp,10.0.1.7:49300,10.0.2.9:445,ESTABLISHED\n"
    "tcp,10.0.0.6:50000,web02:443,ESTABLISHED\n"  # to itself: dropped
    "tcp,10.0.0.6:50001,52.95.110.1:443,ESTABLISHED\n"  # an external service, twice
    "tcp,10.0.0.6:50002,52.95.110.1:443,CLOSE_WAIT\n"
    "tcp,10.0.0.6:50003,10.0.3.1:22,ESTABLISHED\n"  # two assets claim 10.0.3.1
    "tcp,0.0.0.0:22,*:*,LISTEN\n"  # a listening socket names no peer
    "udp,10.0.0.6:53001,app01.dc2.local:53,\n"  # short name of another domain
)
AZURE = (
    "Timeslot,Source server name,Source IP,Destination server name,Destination IP,Destination port\n"
    "2024-03-01T10:00:00Z,web01,10.0.0.5,,10.0.1.7,8080\n"  # no destination name: its IP decides
    "2024-03-02T11:30:00Z,WEB01,10.0.0.5,app01,10.0.1.7,8080\n"
)


def _edges(admin_engine: Engine, master_flow_id: object) -> dict[tuple[str, str], dict[str, Any]]:
    found = rows(
        admin_engine,
        "SELECT s.asset_name AS source, t.asset_name AS target, d.observation_count, d.ports, d.port,"
        "       d.protocols, d.confidence, d.first_seen, d.last_seen, d.evidence"
        "  FROM migration.asset_dependencies d"
        "  JOIN migration.assets s ON s.id = d.source_asset_id"
        "  JOIN migration.assets t ON t.id = d.target_asset_id WHERE s.master_flow_id = :m",
        m=master_flow_id,
    )
    return {(e["source"], e["target"]): e for e in found}


def test_netstat_list_and_azure_export_fold_into_edges_with_counts_ports_and_unresolved_endpoints(
    admin_engine: Engine, new_engagement: Callable[[], Engagement], tmp_path: Path
) -> None:
    """Repeated observations from two files are one edge with count, ports, protocols and time span;
    an external and an ambiguous address are listed as unresolved; a retried step leaves no duplicates."""
    inventory = tmp_path / "servers.csv"
    inventory.write_text(INVENTORY, encoding="utf-8")
    netstat = tmp_path / "netstat.csv"
    netstat.write_text(NETSTAT, encoding="utf-8")
    azure = tmp_path / "azure.csv"
    azure.write_text(AZURE, encoding="utf-8")

    # The step fails once after its work committed: the retry must first undo the edges and the
    # unresolved endpoints of the first attempt (both tables are captured in change_log).
    run = run_master(
        new_engagement(),
        inventory=inventory,
        dependencies=[netstat, azure],
        inject_failures={"discovery.dependencies": 1},
    )
    assert run.state.is_completed(), run.state.message

    formats = {
        Path(r["source_name"]).name: r["source_format"]
        for r in rows(
            admin_engine,
            "SELECT * FROM migration.data_imports WHERE master_flow_id = :m",
            m=run.master_flow_id,
        )
    }
    assert formats == {
        "servers.csv": "csv",
        "netstat.csv": "connection_list",
        "azure.csv": "azure_migrate_dependencies",
    }

    edges = _edges(admin_engine, run.master_flow_id)
    assert set(edges) == {("web01", "app01"), ("app01", "db01"), ("web02", "app01")}

    web = edges[("web01", "app01")]  # three netstat rows and two Azure timeslots: one edge
    assert (web["observation_count"], web["ports"], web["port"], web["protocols"]) == (
        5,
        [8080],
        8080,
        ["tcp"],
    )
    assert (web["first_seen"].isoformat(), web["last_seen"].isoformat()) == (
        "2024-03-01T10:00:00+00:00",
        "2024-03-02T11:30:00+00:00",
    )
    assert sorted(web["evidence"]["rows"].values()) == [[2, 3], [2, 3, 4]]  # rows of each file
    assert web["evidence"]["matched_by"] == ["ip", "name"]
    assert web["confidence"] == 1.0

    db = edges[("app01", "db01")]  # one row taken on db01, turned round; two ports
    assert (db["observation_count"], db["ports"], db["port"]) == (3, [445, 1433], 1433)

    short = edges[("web02", "app01")]  # matched through a short name: less certain
    assert (short["observation_count"], short["ports"], short["protocols"]) == (1, [53], ["udp"])
    assert short["confidence"] == pytest.approx(0.9)

    unresolved = rows(
        admin_engine,
        "SELECT u.endpoint, u.side, u.reason, u.observations, u.ports, u.peers"
        "  FROM migration.unresolved_endpoints u JOIN migration.data_imports d ON d.id = u.data_import_id"
        " WHERE d.master_flow_id = :m ORDER BY u.endpoint",
        m=run.master_flow_id,
    )
    assert unresolved == [
        {
            "endpoint": "10.0.3.1",
            "side": "target",
            "reason": "ambiguous",
            "observations": 1,
            "ports": [22],
            "peers": 1,
        },
        {
            "endpoint": "52.95.110.1",
            "side": "target",
            "reason": "unknown",
            "observations": 2,
            "ports": [443],
            "peers": 1,
        },
    ]

    steps = steps_of(admin_engine, phase_row(admin_engine, run.master_flow_id)["id"])
    metrics = steps["dependencies"]["metrics"]
    assert steps["dependencies"]["retry_count"] == 1
    assert metrics["rows_undone_from_earlier_attempt"] == 3 + 2  # edges + unresolved endpoints
    assert {
        k: metrics[k]
        for k in (
            "files",
            "rows",
            "edges",
            "unresolved_rows",
            "unresolved_endpoints",
            "self_rows",
            "rows_without_endpoint",
            "rows_matched_by_short_name",
        )
    } == {
        "files": 2,
        "rows": 14,
        "edges": 3,
        "unresolved_rows": 3,
        "unresolved_endpoints": 2,
        "self_rows": 1,
        "rows_without_endpoint": 1,
        "rows_matched_by_short_name": 1,
    }
    assert metrics["top_unresolved_endpoints"][0]["endpoint"] == "52.95.110.1"
    # web01, web02, app01 and db01 hang together; dupa and dupb have no resolved edge
    assert (metrics["dependency_groups"], metrics["largest_group"]) == (1, 4)
    assert (metrics["connected_assets"], metrics["isolated_assets"]) == (4, 2)
    assert metrics["largest_groups"] == [{"group": 1, "assets": 4, "edges": 3, "applications": 2}]
    assert metrics["hubs"] == 0 and metrics["hub_threshold"] == 10


@pytest.mark.parametrize(
    "cell",
    [
        "10.0.0.5:443",
        "web01.corp:8080",
        "[fe80::1]:22",
        "[2001:db8::7]",
        "fe80::1",
        "db-02",
        "*:*",
        "10.0.0.9:70000",
        "udp/53",
        "443/tcp",
        "",
        "[::]:443",
        "10.0.0.9:*",
    ],
)
def test_endpoint_grammar_means_the_same_in_postgresql(admin_engine: Engine, cell: str) -> None:
    """The patterns of mfactory.endpoints match the same groups in PostgreSQL as in Python."""
    with admin_engine.connect() as conn:
        found = conn.execute(
            text("SELECT regexp_match(:c, :e) AS e, regexp_match(:c, :p) AS p"),
            {"c": cell, "e": ENDPOINT, "p": PORT_CELL},
        ).one()
    for sql_groups, pattern in zip(found, (ENDPOINT, PORT_CELL), strict=True):
        python = re.match(pattern, cell)
        assert (None if python is None else list(python.groups())) == sql_groups, pattern
