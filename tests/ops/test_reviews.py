"""Human review through the API: a master run pauses for typed input and resumes with the answers.

The run is triggered on the deployed server and answered with the same REST call the Prefect
UI's resume form makes (POST /flow_runs/{id}/resume with run_input).
"""

from __future__ import annotations

import csv
import uuid
from collections.abc import Callable

from sqlalchemy import Engine

from tests.flows.test_master_discovery import SAMPLE_DEPENDENCIES, SAMPLE_INVENTORY, Engagement, rows
from tests.ops.conftest import TERMINAL, PrefectServer


def test_review_pauses_for_mappings_6r_and_cutover_and_applies_the_answers(
    deployed_server: PrefectServer, admin_engine: Engine, new_engagement: Callable[[], Engagement]
) -> None:
    engagement = new_engagement()
    names = [r["asset_name"] for r in csv.DictReader(SAMPLE_INVENTORY.open(encoding="utf-8"))]
    some_asset, kept_asset = names[0], names[1]
    master = deployed_server.trigger(
        "master",
        {
            "client": engagement.client,
            "engagement": engagement.name,
            "inventory": str(SAMPLE_INVENTORY),
            "dependencies": [str(SAMPLE_DEPENDENCIES)],
            "review": True,
        },
    )
    answers = [
        ("discovery", {"reviewer": "alice", "overrides": {"business_unit": "unmapped"}}),
        (
            "assessment",
            {
                "reviewer": "bob",
                "six_r_overrides": {some_asset: "retain"},
                "locks": [kept_asset],
                "wave_dates": {"1": {"start": "2027-02-01"}},
                "reason": "steering committee",
            },
        ),
        ("execution", {"approved": True, "approver": "carol", "note": "change CHG-1 approved"}),
    ]
    for phase, answer in answers:
        paused = deployed_server.wait_for_paused_child(master, phase)
        deployed_server.post(f"/flow_runs/{paused['id']}/resume", {"run_input": answer})
    run = deployed_server.wait_for_state(master, TERMINAL)
    assert run["state_type"] == "COMPLETED", run["state"]

    mappings = rows(
        admin_engine,
        "SELECT f.source_column, f.target_field, f.confirmed_by FROM migration.import_field_mappings f"
        " JOIN migration.data_imports d ON d.id = f.data_import_id"
        " WHERE d.master_flow_id = :m AND d.source_kind = 'inventory'",
        m=master,
    )
    by_column = {m["source_column"]: m for m in mappings}
    assert by_column["business_unit"]["target_field"] is None
    confirmed_by = {m["confirmed_by"] for m in mappings if m["target_field"]}
    assert "alice" in confirmed_by and confirmed_by <= {"alice", None}
    unmapped_values = rows(
        admin_engine,
        "SELECT count(*) AS n FROM migration.assets WHERE master_flow_id = :m AND business_unit IS NOT NULL",
        m=master,
    )
    assert unmapped_values[0]["n"] == 0
    decided = rows(
        admin_engine,
        "SELECT six_r_strategy, six_r_decided_by, six_r_locked FROM migration.assets"
        " WHERE master_flow_id = :m AND asset_name = :a",
        m=master,
        a=some_asset,
    )
    assert decided == [{"six_r_strategy": "retain", "six_r_decided_by": "user", "six_r_locked": True}]
    stored = rows(
        admin_engine,
        "SELECT kind, subject, created_by, source, reason FROM migration.planning_overrides"
        " WHERE engagement_id = :e AND revoked_at IS NULL ORDER BY kind",
        e=engagement.tenant.engagement_id,
    )
    assert [(o["kind"], o["subject"]) for o in stored] == [
        ("lock", kept_asset),
        ("six_r", some_asset),
        ("wave_dates", "1"),
    ]
    assert {(o["created_by"], o["source"], o["reason"]) for o in stored} == {
        ("bob", "review", "steering committee")
    }
    kept = rows(
        admin_engine,
        "SELECT six_r_decided_by, six_r_locked FROM migration.assets"
        " WHERE master_flow_id = :m AND asset_name = :a",
        m=master,
        a=kept_asset,
    )
    assert kept == [{"six_r_decided_by": "user", "six_r_locked": True}]
    first_wave = rows(
        admin_engine,
        "SELECT planned_start FROM migration.migration_waves WHERE master_flow_id = :m AND number = 1",
        m=master,
    )
    assert [str(w["planned_start"]) for w in first_wave] == ["2027-02-01"]
    approvals = rows(
        admin_engine,
        "SELECT DISTINCT metrics->'cutover_approval'->>'approver' AS approver FROM migration.migration_waves"
        " WHERE master_flow_id = :m",
        m=master,
    )
    assert approvals == [{"approver": "carol"}]
    audit = rows(
        admin_engine,
        "SELECT actor, action FROM migration.security_audit_logs WHERE engagement_id = :e",
        e=engagement.tenant.engagement_id,
    )
    assert {
        ("alice", "mapping_override"),
        ("alice", "mapping_confirmed"),
        ("bob", "override_set"),
        ("bob", "six_r_override"),
    } <= {(a["actor"], a["action"]) for a in audit}

    # A refused cutover rolls the execution phase back, and the master run says why.
    rerun = deployed_server.trigger(
        "execution",
        {"client": engagement.client, "engagement": engagement.name, "review": True},
    )
    paused = deployed_server.wait_for_paused_child(rerun, "execution")
    deployed_server.post(
        f"/flow_runs/{paused['id']}/resume",
        {"run_input": {"approved": False, "approver": "dave", "note": "freeze"}},
    )
    failed = deployed_server.wait_for_state(rerun, TERMINAL)
    assert failed["state_type"] == "FAILED"
    record = rows(
        admin_engine,
        "SELECT status, status_reason FROM migration.master_flows WHERE id = :m",
        m=uuid.UUID(rerun),
    )[0]
    assert record["status"] == "rolled_back"
    assert "cutover not approved by dave: freeze" in record["status_reason"]
    execution = rows(
        admin_engine, "SELECT id FROM migration.phase_flows WHERE master_flow_id = :m", m=uuid.UUID(rerun)
    )
    assert deployed_server.get(f"/flow_runs/{execution[0]['id']}")["state_name"] == "RolledBack"
