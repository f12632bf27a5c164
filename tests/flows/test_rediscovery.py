"""Scheduled re-discovery: registered sources re-imported, changes against the last discovery."""

from __future__ import annotations

import csv
import json
from collections.abc import Callable
from pathlib import Path

import pytest
from prefect import get_client
from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterKey
from prefect.client.schemas.sorting import ArtifactSort
from sqlalchemy import Engine
from typer.testing import CliRunner

from db.repositories.sources import active_sources, engagements_with_sources, register_source
from db.session import tenant_session
from flows.rediscovery import rediscovery_flow
from mfactory.cli import app
from mfactory.runners import task_runner
from mfactory.settings import Settings
from tests.flows.test_master_discovery import SAMPLE_DEPENDENCIES, SAMPLE_INVENTORY, Engagement, rows

pytestmark = pytest.mark.usefixtures("database", "prefect_server")


def _rewrite(source: Path, target: Path, *, drop: str, change: str, add_copy_of: str, new_name: str) -> None:
    """The sample with one asset removed, one asset's memory doubled and one asset added."""
    with source.open(newline="", encoding="utf-8") as f:
        records = list(csv.DictReader(f))
    kept = [r for r in records if r["asset_name"] != drop]
    for r in kept:
        if r["asset_name"] == change:
            r["memory_gb"] = str(float(r["memory_gb"]) * 2)
    added = dict(next(r for r in records if r["asset_name"] == add_copy_of), asset_name=new_name)
    # a new machine: its own identifiers too (a row sharing the VM UUID or MAC is the same machine)
    added.update(
        hostname=new_name,
        fqdn=f"{new_name}.corp.example.com",
        external_id="CI-NEW-1",
        vm_uuid="00000000-0000-4000-8000-000000009999",
        mac_address="00:50:56:99:99:99",
        ip_address="10.99.99.99",
    )
    with target.open("w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=list(records[0]))
        writer.writeheader()
        writer.writerows([*kept, added])


def test_rediscovery_reimports_registered_sources_and_reports_the_changes(
    tmp_path: Path, admin_engine: Engine, new_engagement: Callable[[], Engagement]
) -> None:
    engagement = new_engagement()
    export = tmp_path / "inventory.csv"
    export.write_bytes(SAMPLE_INVENTORY.read_bytes())
    with tenant_session(engagement.tenant) as session:
        register_source(session=session, tenant=engagement.tenant, kind="inventory", location=str(export))
        register_source(
            session=session,
            tenant=engagement.tenant,
            kind="dependencies",
            location=SAMPLE_DEPENDENCIES.as_uri(),
        )
    with tenant_session(None) as session:
        assert (engagement.client, engagement.name) in engagements_with_sources(session=session)

    first = rediscovery_flow(client=engagement.client, engagement=engagement.name)["engagements"]
    report = first[f"{engagement.client} / {engagement.name}"]
    assert report["status"] == "completed" and report["previous_run"] is None
    assert report["changes"] == {"new": 60, "changed": 0, "disappeared": 0}

    names = [r["asset_name"] for r in csv.DictReader(SAMPLE_INVENTORY.open(encoding="utf-8"))]
    _rewrite(
        SAMPLE_INVENTORY, export, drop=names[0], change=names[1], add_copy_of=names[2], new_name="vm9999-new"
    )
    second = rediscovery_flow(client=engagement.client, engagement=engagement.name)["engagements"]
    report = second[f"{engagement.client} / {engagement.name}"]
    assert report["previous_run"] == first[f"{engagement.client} / {engagement.name}"]["master_flow_id"]
    assert report["changes"] == {"new": 1, "changed": 1, "disappeared": 1}
    master = rows(
        admin_engine,
        "SELECT status, summary FROM migration.master_flows WHERE id = :m",
        m=report["master_flow_id"],
    )[0]
    assert master["status"] == "completed"
    assert master["summary"]["rediscovery"]["changes"] == report["changes"]

    key = f"rediscovery-changes-{str(engagement.tenant.engagement_id)[:8]}"
    with get_client(sync_client=True) as client:
        artifacts = client.read_artifacts(
            artifact_filter=ArtifactFilter(key=ArtifactFilterKey(any_=[key])), sort=ArtifactSort.CREATED_DESC
        )
    table = artifacts[0].data
    changes = json.loads(table) if isinstance(table, str) else table
    assert {(r["asset_name"], r["change"]) for r in changes} == {
        ("vm9999-new", "new"),
        (names[1], "changed"),
        (names[0], "disappeared"),
    }


def test_sources_are_tenant_isolated(new_engagement: Callable[[], Engagement]) -> None:
    a, b = new_engagement(), new_engagement()
    with tenant_session(a.tenant) as session:
        register_source(session=session, tenant=a.tenant, kind="inventory", location="/data/a.csv")
    with tenant_session(b.tenant) as session:
        assert active_sources(session=session) == {"inventory": [], "dependencies": []}
        with pytest.raises(Exception, match="row-level security"):
            register_source(session=session, tenant=a.tenant, kind="inventory", location="/data/x.csv")


def test_a_new_inventory_source_replaces_the_current_one(new_engagement: Callable[[], Engagement]) -> None:
    e = new_engagement()
    with tenant_session(e.tenant) as session:
        register_source(session=session, tenant=e.tenant, kind="inventory", location="/data/v1.csv")
        register_source(session=session, tenant=e.tenant, kind="inventory", location="/data/v2.csv")
        register_source(session=session, tenant=e.tenant, kind="dependencies", location="/data/d1.csv")
        register_source(session=session, tenant=e.tenant, kind="dependencies", location="/data/d2.csv")
        assert active_sources(session=session) == {
            "inventory": ["/data/v2.csv"],
            "dependencies": ["/data/d1.csv", "/data/d2.csv"],
        }


def test_rediscovery_runs_on_a_dask_cluster_when_settings_choose_dask(
    new_engagement: Callable[[], Engagement],
) -> None:
    """MFACTORY_TASK_RUNNER=dask: the engagement's work runs as a task on a (local) Dask cluster."""
    engagement = new_engagement()
    with tenant_session(engagement.tenant) as session:
        register_source(
            session=session, tenant=engagement.tenant, kind="inventory", location=str(SAMPLE_INVENTORY)
        )
    runner = task_runner(Settings(task_runner="dask"))
    assert type(runner).__name__ == "DaskTaskRunner"
    result = rediscovery_flow.with_options(task_runner=runner)(
        client=engagement.client, engagement=engagement.name
    )
    report = result["engagements"][f"{engagement.client} / {engagement.name}"]
    assert report["status"] == "completed"
    assert report["changes"] == {"new": 60, "changed": 0, "disappeared": 0}


def test_inventories_registered_together_are_all_current(new_engagement: Callable[[], Engagement]) -> None:
    e = new_engagement()
    with tenant_session(e.tenant) as session:
        register_source(session=session, tenant=e.tenant, kind="inventory", location="/data/old.csv")
        register_source(session=session, tenant=e.tenant, kind="inventory", location="/data/rvtools.xlsx")
        register_source(
            session=session,
            tenant=e.tenant,
            kind="inventory",
            location="/data/cmdb.csv",
            replace_inventory=False,
        )
        assert active_sources(session=session)["inventory"] == ["/data/rvtools.xlsx", "/data/cmdb.csv"]


def test_a_run_without_inventory_imports_every_registered_inventory_and_merges_duplicates(
    tmp_path: Path, admin_engine: Engine, new_engagement: Callable[[], Engagement]
) -> None:
    """`sources add --inventory A --inventory B`, then `run` with no --inventory: discovery imports both
    files and the machine that both describe becomes one asset."""
    engagement = new_engagement()
    records = list(csv.DictReader(SAMPLE_INVENTORY.open(encoding="utf-8")))
    cmdb = tmp_path / "cmdb.csv"
    with cmdb.open("w", newline="", encoding="utf-8") as f:  # another export naming one known machine
        writer = csv.DictWriter(f, fieldnames=["hostname", "fqdn", "owner"])
        writer.writeheader()
        known = records[0]
        writer.writerow({"hostname": known["hostname"].upper(), "fqdn": known["fqdn"], "owner": "ops"})
        writer.writerow({"hostname": "cmdb-only-01", "fqdn": "cmdb-only-01.corp.example.com", "owner": "ops"})
    names = ["--client", engagement.client, "--engagement", engagement.name]
    added = CliRunner().invoke(
        app, ["sources", "add", *names, "--inventory", str(SAMPLE_INVENTORY), "--inventory", str(cmdb)]
    )
    assert added.exit_code == 0, added.output
    result = CliRunner().invoke(app, ["run", *names, "--phases", "discovery"])
    assert result.exit_code == 0, result.output
    master = result.output.split("master flow id: ")[1].split()[0]

    imports = rows(
        admin_engine,
        "SELECT source_name FROM migration.data_imports"
        " WHERE master_flow_id = :m AND source_kind = 'inventory'",
        m=master,
    )
    assert sorted(Path(str(i["source_name"])).name for i in imports) == ["cmdb.csv", SAMPLE_INVENTORY.name]
    assets = rows(admin_engine, "SELECT asset_name FROM migration.assets WHERE master_flow_id = :m", m=master)
    assert len(assets) == len(records) + 1  # the known machine merged, the CMDB-only one added
