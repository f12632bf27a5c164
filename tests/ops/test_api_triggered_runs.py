"""Deployments on a real Prefect server: API-triggered master runs and the nightly schedule."""

from __future__ import annotations

import uuid
from collections.abc import Callable

from sqlalchemy import Engine

from tests.flows.test_master_discovery import SAMPLE_DEPENDENCIES, SAMPLE_INVENTORY, Engagement, rows
from tests.ops.conftest import TERMINAL, PrefectServer

DEPLOYMENTS = {
    "migration-master": {"master", "discovery", "assessment", "planning", "execution", "modernization"},
    "rollback": {"rollback"},
    "rediscovery": {"rediscovery-nightly"},
}


def test_prefect_deploy_all_creates_every_deployment(deployed_server: PrefectServer) -> None:
    found = deployed_server.post("/deployments/filter", {})
    by_flow: dict[str, set[str]] = {}
    flows = {f["id"]: f["name"] for f in deployed_server.post("/flows/filter", {})}
    for d in found:
        by_flow.setdefault(flows[d["flow_id"]], set()).add(d["name"])
    assert by_flow == DEPLOYMENTS


def test_master_run_created_through_the_rest_api_is_the_master_record_with_its_phases_as_children(
    deployed_server: PrefectServer, admin_engine: Engine, new_engagement: Callable[[], Engagement]
) -> None:
    engagement = new_engagement()
    created = deployed_server.trigger(
        "master",
        {
            "client": engagement.client,
            "engagement": engagement.name,
            "inventory": str(SAMPLE_INVENTORY),
            "dependencies": [str(SAMPLE_DEPENDENCIES)],
            "start_date": "2027-01-04",
        },
    )
    run = deployed_server.wait_for_state(created, TERMINAL)
    assert run["state_type"] == "COMPLETED", (
        run["state"],
        (deployed_server.logs / "worker.log").read_text()[-3000:],
    )
    master = rows(admin_engine, "SELECT id, status FROM migration.master_flows WHERE id = :m", m=created)
    assert master == [{"id": uuid.UUID(created), "status": "completed"}]
    phases = rows(
        admin_engine, "SELECT id, phase FROM migration.phase_flows WHERE master_flow_id = :m", m=created
    )
    assert len(phases) == 5
    children = deployed_server.post(
        "/flow_runs/filter", {"flow_runs": {"parent_flow_run_id": {"any_": [created]}}}
    )
    assert {uuid.UUID(c["id"]) for c in children} == {p["id"] for p in phases}


def test_the_nightly_rediscovery_deployment_gets_scheduled_runs_from_the_server(
    deployed_server: PrefectServer,
) -> None:
    deployment = deployed_server.get("/deployments/name/rediscovery/rediscovery-nightly")
    assert deployment["schedules"][0]["schedule"]["cron"] == "0 2 * * *"
    import time

    deadline = time.monotonic() + 60
    scheduled: list[dict[str, object]] = []
    while time.monotonic() < deadline and not scheduled:
        scheduled = deployed_server.post(
            "/flow_runs/filter",
            {
                "flow_runs": {
                    "deployment_id": {"any_": [deployment["id"]]},
                    "state": {"type": {"any_": ["SCHEDULED"]}},
                }
            },
        )
        time.sleep(1)
    assert scheduled, "the server's scheduler created no run for the cron deployment"
    starts = sorted(str(r["expected_start_time"]) for r in scheduled)
    assert all("T02:00:00" in s for s in starts), starts
