"""Inventory dedup through the real master flow: two overlapping inventory files in one discovery run.

Real embedded PostgreSQL (HNSW fingerprint search), real MiniLM embeddings, real Prefect run.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import Engine

from tests.flows.test_master_discovery import PHASES, Engagement, master_flow, phase_row, rows, steps_of

pytestmark = pytest.mark.usefixtures("database", "prefect_server")

VCENTER = """VM,DNS Name,Primary IP Address,MAC Address,VM UUID,OS,CPUs,Memory GB,Application
web01,web01.corp.example.com,10.0.0.1,00:50:56:00:00:01,4213ab00-0000-1111-2222-000000000001,\
Microsoft Windows Server 2019 (64-bit),4,16,payroll
db01,db01.corp.example.com,10.0.0.2,00:50:56:00:00:02,4213ab00-0000-1111-2222-000000000002,\
Red Hat Enterprise Linux 8 (64-bit),8,64,payroll
app01,,10.0.0.3,00:50:56:00:00:03,4213ab00-0000-1111-2222-000000000003,Ubuntu Linux 22.04 (64-bit),2,8,payroll
lone01,lone01.corp.example.com,10.0.0.4,00:50:56:00:00:04,4213ab00-0000-1111-2222-000000000004,\
Ubuntu Linux 22.04 (64-bit),2,4,billing
"""
CMDB = """hostname,ip_address,os_name,cpu_cores,memory_gb,owner,bios_uuid,environment
WEB01.corp.example.com,10.0.0.1,Microsoft Windows Server 2019 (64-bit),4,,alice@example.com,,production
srv-db01,10.0.0.2,Red Hat Enterprise Linux 8 (64-bit),8,64,bob@example.com,\
{4213AB00-0000-1111-2222-000000000002},production
payroll-app01,10.0.0.3,Ubuntu Linux 22.04 (64-bit),2,8,carol@example.com,,production
web02,10.0.0.5,Microsoft Windows Server 2019 (64-bit),4,16,dave@example.com,,production
"""


def test_two_overlapping_inventories_merge_with_provenance(
    admin_engine: Engine, new_engagement: Callable[[], Engagement], tmp_path: Path
) -> None:
    """web01 (short vs FQDN, other case) merges by name, db01 (renamed) by UUID, app01 (renamed, no
    key in common) by fingerprint; web02 (same size as web01) and lone01 stay separate. Each merged
    field says which file and row it came from."""
    vcenter, cmdb = tmp_path / "vcenter.csv", tmp_path / "cmdb.csv"
    vcenter.write_text(VCENTER, encoding="utf-8")
    cmdb.write_text(CMDB, encoding="utf-8")
    engagement = new_engagement()
    state = master_flow(
        client=engagement.client,
        engagement=engagement.name,
        inventory=[str(vcenter), str(cmdb)],
        dependencies=[],
        phases=PHASES,
        as_of="2025-01-01",
        return_state=True,
    )
    assert state.is_completed(), state.message
    master_flow_id = state.state_details.flow_run_id

    imports = {
        Path(str(r["source_name"])).name: str(r["id"])
        for r in rows(
            admin_engine,
            "SELECT id, source_name FROM migration.data_imports WHERE master_flow_id = :m",
            m=master_flow_id,
        )
    }
    assert set(imports) == {"vcenter.csv", "cmdb.csv"}
    assets = {
        str(a["asset_name"]).lower(): a
        for a in rows(
            admin_engine,
            "SELECT a.asset_name, a.memory_gb, a.owner, a.environment, a.vm_uuid, a.bios_uuid, a.provenance,"
            " a.fingerprint IS NOT NULL AS has_fingerprint, r.row_number, a.data_import_id"
            " FROM migration.assets a JOIN migration.raw_import_records r ON r.id = a.raw_import_record_id"
            " WHERE a.master_flow_id = :m",
            m=master_flow_id,
        )
    }
    # the most complete row gives the name: the CMDB row of app01 (8 of 10 key fields) beats vCenter's (7);
    # db01's two rows are equally complete, and vcenter.csv was given first
    assert sorted(assets) == ["db01", "lone01", "payroll-app01", "web01", "web02"], assets

    web01 = assets["web01"]
    assert (web01["memory_gb"], web01["owner"]) == (16, "alice@example.com")
    assert web01["environment"] == "production"
    fields = web01["provenance"]["fields"]
    assert (fields["memory_gb"]["import"], fields["memory_gb"]["row"]) == (imports["vcenter.csv"], 2)
    assert (fields["owner"]["import"], fields["owner"]["row"]) == (imports["cmdb.csv"], 2)
    merged_rows = {(r["import"], r["row"]) for r in web01["provenance"]["rows"]}
    assert merged_rows == {(imports["vcenter.csv"], 2), (imports["cmdb.csv"], 2)}

    db01 = assets["db01"]
    assert db01["vm_uuid"] and db01["bios_uuid"] and db01["owner"] == "bob@example.com"
    assert {(r["import"], r["row"]) for r in db01["provenance"]["rows"]} == {
        (imports["vcenter.csv"], 3),
        (imports["cmdb.csv"], 3),
    }
    app01 = assets["payroll-app01"]
    assert app01["owner"] == "carol@example.com" and app01["has_fingerprint"]
    assert app01["provenance"]["fields"]["application_name"]["import"] == imports["vcenter.csv"]
    assert app01["provenance"]["fields"]["asset_name"]["import"] == imports["cmdb.csv"]
    assert {(r["import"], r["row"]) for r in app01["provenance"]["rows"]} == {
        (imports["vcenter.csv"], 4),
        (imports["cmdb.csv"], 4),
    }
    assert assets["web02"]["provenance"] is None and assets["lone01"]["provenance"] is None

    metrics = steps_of(admin_engine, phase_row(admin_engine, master_flow_id)["id"])["inventory"]["metrics"]
    assert metrics["assets"] == 5 and metrics["duplicates_merged"] == 3
    assert metrics["merged_by_key"]["uuid"] == 1 and metrics["merged_by_key"]["name"] == 1
    assert metrics["merged_by_fingerprint"] == 1
