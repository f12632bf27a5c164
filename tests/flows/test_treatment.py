"""6R treatment in real runs: engagement rule overrides and a questionnaire change decisions; locks hold."""

from __future__ import annotations

import csv
import uuid
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import Engine

from flows.master import master_flow
from tests.flows.test_master_discovery import SAMPLE_DEPENDENCIES, SAMPLE_INVENTORY, Engagement, rows

pytestmark = pytest.mark.usefixtures("database", "prefect_server")

DECOMMISSIONED_APP = "payroll-0005"


def _run(engagement: Engagement, **params: Any) -> uuid.UUID:
    state = master_flow(
        client=engagement.client, engagement=engagement.name, as_of="2025-01-01", return_state=True, **params
    )
    assert state.is_completed(), state.message
    return uuid.UUID(str(state.state_details.flow_run_id))


def _assets(engine: Engine, master: uuid.UUID) -> dict[str, dict[str, Any]]:
    found = rows(
        engine,
        "SELECT asset_name, application_name, virtualization_platform, six_r_strategy, six_r_rationale,"
        " six_r_decided_by, six_r_locked FROM migration.assets WHERE master_flow_id = :m",
        m=master,
    )
    return {r["asset_name"]: r for r in found}


def test_overrides_and_questionnaire_decide_and_a_rerun_keeps_the_lock(
    admin_engine: Engine, new_engagement: Callable[[], Engagement]
) -> None:
    engagement = new_engagement()
    inventory = list(csv.DictReader(SAMPLE_INVENTORY.open(encoding="utf-8")))
    kept = next(r["asset_name"] for r in inventory if r["application_name"] == "auth-0001")
    master = _run(
        engagement,
        inventory=str(SAMPLE_INVENTORY),
        dependencies=[str(SAMPLE_DEPENDENCIES)],
        phases=["discovery", "assessment"],
        six_r_rules={"version": "acme", "rules": [{"id": "relocate-vmware", "enabled": True}]},
        questionnaire={"applications": {DECOMMISSIONED_APP: {"decommission_planned": True}}},
        six_r_overrides={kept: "retain"},
        user="ann",
    )
    assets = _assets(admin_engine, master)
    payroll = [a for a in assets.values() if a["application_name"] == DECOMMISSIONED_APP]
    assert payroll and {a["six_r_strategy"] for a in payroll} == {"retire"}
    assert all("decommission planned (questionnaire)" in a["six_r_rationale"] for a in payroll)
    assert all("rules v2+acme" in a["six_r_rationale"] for a in payroll)
    relocated = [a for a in assets.values() if a["six_r_strategy"] == "relocate"]
    assert relocated and all("vmware" in a["virtualization_platform"].lower() for a in relocated)
    assert assets[kept]["six_r_decided_by"] == "user" and assets[kept]["six_r_locked"]

    metrics = rows(
        admin_engine,
        "SELECT s.metrics FROM migration.phase_steps s JOIN migration.phase_flows p ON p.id = s.phase_flow_id"
        " WHERE p.master_flow_id = :m AND p.phase = 'assessment' AND s.name = 'treatment'",
        m=master,
    )[0]["metrics"]
    assert metrics["rules_version"] == "2+acme" and metrics["questionnaire_applications"] == 1
    assert metrics["applications"][DECOMMISSIONED_APP] == {
        "strategy": "retire",
        "confidence": 1.0,
        "assets": len(payroll),
    }
    assert sum(metrics["by_strategy"].values()) == metrics["decided"] == len(assets)  # locked after

    rerun = _run(engagement, phases=["assessment"])
    again = _assets(admin_engine, master)
    rerun_metrics = rows(
        admin_engine,
        "SELECT s.metrics FROM migration.phase_steps s JOIN migration.phase_flows p ON p.id = s.phase_flow_id"
        " WHERE p.master_flow_id = :m AND p.phase = 'assessment' AND s.name = 'treatment'",
        m=rerun,
    )[0]["metrics"]
    assert rerun_metrics["locked_kept"] == 1 and rerun_metrics["rules_version"] == "2"
    assert (again[kept]["six_r_strategy"], again[kept]["six_r_decided_by"]) == ("retain", "user")
    assert again[kept]["six_r_rationale"] == assets[kept]["six_r_rationale"]
    assert not any("questionnaire" in a["six_r_rationale"] for a in again.values())
    assert not any(a["six_r_strategy"] == "relocate" for a in again.values())
