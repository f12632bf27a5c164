"""All five phases on the shipped sample, and a cascade rollback of discovery afterwards."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable

import pytest
from prefect import get_client
from sqlalchemy import Engine

from flows.master import master_flow
from flows.rollback import rollback_flow
from tasks.phases import PHASES, STEPS
from tests.flows.test_master_discovery import (
    SAMPLE_DEPENDENCIES,
    SAMPLE_INVENTORY,
    Engagement,
    rows,
    tenant_checksums,
)


def _run_all(engagement: Engagement) -> uuid.UUID:
    state = master_flow(
        client=engagement.client,
        engagement=engagement.name,
        inventory=str(SAMPLE_INVENTORY),
        dependencies=[str(SAMPLE_DEPENDENCIES)],
        as_of="2025-01-01",
        start_date="2026-01-05",
        return_state=True,
    )
    assert state.is_completed(), state.message
    return uuid.UUID(str(state.state_details.flow_run_id))


def test_all_five_phases_are_children_of_the_master_with_every_step_completed(
    prefect_server: None, admin_engine: Engine, new_engagement: Callable[[], Engagement]
) -> None:
    """Every phase flow is a Prefect child of the master run and a phase_flows row of it; all steps done."""
    master_id = _run_all(new_engagement())
    phases = rows(
        admin_engine,
        "SELECT id, phase, status FROM migration.phase_flows WHERE master_flow_id = :m",
        m=master_id,
    )
    assert sorted(p["phase"] for p in phases) == sorted(PHASES)
    with get_client(sync_client=True) as client:
        for phase in phases:
            run = client.read_flow_run(phase["id"])
            parent_task = client.read_task_run(run.parent_task_run_id)
            assert parent_task.flow_run_id == master_id, phase["phase"]
            assert phase["status"] == "completed"
            steps = rows(
                admin_engine,
                "SELECT name, status FROM migration.phase_steps WHERE phase_flow_id = :p",
                p=phase["id"],
            )
            assert sorted(s["name"] for s in steps) == sorted(STEPS[phase["phase"]])
            assert {s["status"] for s in steps} == {"completed"}
    waves = rows(
        admin_engine,
        "SELECT number, asset_count, (metrics->>'max_size')::int AS max_size,"
        " planned_start FROM migration.migration_waves WHERE master_flow_id = :m",
        m=master_id,
    )
    assert waves and all(w["asset_count"] <= w["max_size"] and w["planned_start"] for w in waves)
    unassessed = rows(
        admin_engine,
        "SELECT count(*) AS n FROM migration.assets WHERE master_flow_id = :m"
        " AND (six_r_strategy IS NULL OR six_r_rationale IS NULL)",
        m=master_id,
    )
    assert unassessed[0]["n"] == 0
    _assert_planning(admin_engine, master_id)


def _assert_planning(admin_engine: Engine, master_id: uuid.UUID) -> None:
    """Every moving asset has a priced target; TCO, weekly load and the parallel roadmap are measured."""
    targets = rows(
        admin_engine,
        "SELECT six_r_strategy, target_provider, target_region, target_instance_type, target_storage_type,"
        " estimated_monthly_cost, estimated_migration_effort_hours"
        " FROM migration.assets WHERE master_flow_id = :m",
        m=master_id,
    )
    moving = [t for t in targets if t["six_r_strategy"] not in ("retire", "retain")]
    assert moving and all(
        t["target_provider"] == "aws"
        and t["target_region"] == "us-east-1"
        and t["target_instance_type"]
        and t["target_storage_type"]
        and t["estimated_monthly_cost"] > 0
        for t in moving
    )
    assert all(t["target_instance_type"] is None for t in targets if t not in moving)
    assert all(t["estimated_migration_effort_hours"] > 0 for t in targets)
    steps = {
        r["name"]: r["metrics"]
        for r in rows(
            admin_engine,
            "SELECT s.name, s.metrics FROM migration.phase_steps s JOIN migration.phase_flows p"
            " ON p.id = s.phase_flow_id WHERE p.master_flow_id = :m AND p.phase IN ('planning', 'assessment')"
            " AND s.name IN ('target', 'resource', 'roadmap')",
            m=master_id,
        )
    }
    target = steps["target"]
    assert target["price_date"] == "2026-11-01" and target["sized"] == len(moving)
    assert target["monthly_run_rate_usd"] == pytest.approx(
        sum(t["estimated_monthly_cost"] for t in moving), abs=0.05
    )
    assert target["as_is_monthly_usd"] > 0 and target["to_be_monthly_usd"] > 0
    assert target["savings_monthly_usd"] == pytest.approx(
        target["as_is_monthly_usd"] - target["to_be_monthly_usd"], abs=0.05
    )
    assert target["as_is_imported"] + target["as_is_estimated"] == len(targets)
    resource = steps["resource"]
    assert set(resource["effort_by_role"]) == {"migration_engineer", "dba", "app_tester", "project_manager"}
    assert sum(resource["effort_by_role"].values()) == pytest.approx(resource["effort_hours"], rel=0.01)
    roadmap = steps["roadmap"]
    assert roadmap["max_parallel_waves"] == 3 and 1 <= roadmap["most_waves_at_once"] <= 3
    waves = rows(
        admin_engine,
        "SELECT metrics -> 'run_rate' AS run_rate, metrics -> 'effort_by_role' AS by_role"
        " FROM migration.migration_waves WHERE master_flow_id = :m",
        m=master_id,
    )
    # The weekly load spreads exactly the hours of the assets in waves over the weeks.
    assert sum(w["migration_engineer"] for w in resource["weekly"]) == pytest.approx(
        sum(w["by_role"]["migration_engineer"] for w in waves), abs=1.0
    )
    in_waves = sum(w["run_rate"]["to_be_monthly_usd"] for w in waves if w["run_rate"])
    assert 0 < in_waves <= target["to_be_monthly_usd"] + 0.05


def test_cascade_rollback_of_discovery_restores_the_state_before_the_run(
    prefect_server: None,
    admin_engine: Engine,
    new_engagement: Callable[[], Engagement],
) -> None:
    """Rolling back discovery after a full run undoes all five phases, newest first, exactly."""
    engagement = new_engagement()
    _run_all(engagement)  # an earlier run whose data must survive
    before = tenant_checksums(admin_engine, engagement.tenant)
    master_id = _run_all(engagement)
    assert tenant_checksums(admin_engine, engagement.tenant) != before
    result = rollback_flow(master_flow_id=master_id, phase="discovery", cascade=True, reason="test")
    assert result["phases"] == list(reversed(PHASES))
    assert result["integrity_check"]["passed"]
    assert tenant_checksums(admin_engine, engagement.tenant) == before
    master = rows(admin_engine, "SELECT status FROM migration.master_flows WHERE id = :m", m=master_id)[0]
    assert master["status"] == "rolled_back"
    rollback = rows(
        admin_engine,
        "SELECT scope, status, integrity_check FROM migration.flow_rollbacks WHERE master_flow_id = :m",
        m=master_id,
    )
    assert [(r["scope"], r["status"]) for r in rollback] == [("cascade", "completed")]


def test_a_phase_started_on_its_own_reads_the_latest_accepted_handoff(
    prefect_server: None, admin_engine: Engine, new_engagement: Callable[[], Engagement]
) -> None:
    """Re-running assessment alone works on the assets of the earlier run that handed off to it."""
    engagement = new_engagement()
    first = _run_all(engagement)
    handoff = rows(
        admin_engine,
        "SELECT h.id FROM migration.flow_handoffs h"
        " JOIN migration.phase_flows p ON p.id = h.source_phase_flow_id"
        " WHERE p.master_flow_id = :m AND h.target_phase = 'assessment'",
        m=first,
    )[0]["id"]
    state = master_flow(
        client=engagement.client,
        engagement=engagement.name,
        phases=["assessment", "planning"],
        max_wave_size=5,
        max_wave_ram_gb=RAM_LIMIT,
        blackouts=[QUARTER_CLOSE],
        start_date="2026-03-02",
        return_state=True,
    )
    assert state.is_completed(), state.message
    second = uuid.UUID(str(state.state_details.flow_run_id))
    phases = rows(
        admin_engine,
        "SELECT phase, input_handoff_id FROM migration.phase_flows"
        " WHERE master_flow_id = :m ORDER BY started_at",
        m=second,
    )
    assert [p["phase"] for p in phases] == ["assessment", "planning"]
    assert phases[0]["input_handoff_id"] == handoff
    assert _wave_limit(admin_engine, first) == 5, "the re-run re-plans the first run's assets"
    _assert_ram_limit_and_blackout_honoured(admin_engine, first)
    copied = rows(
        admin_engine, "SELECT count(*) AS n FROM migration.assets WHERE master_flow_id = :m", m=second
    )
    assert copied[0]["n"] == 0, "a phase run alone works on the earlier run's assets, it does not copy them"
    rollback_flow(master_flow_id=second, phase="assessment", cascade=True, reason="test")
    assert _wave_limit(admin_engine, first) == 25, "rolling the re-run back restores the first plan"


RAM_LIMIT = 160.0
QUARTER_CLOSE = {"start": "2026-03-02", "end": "2026-03-20", "reason": "quarter close"}


def _assert_ram_limit_and_blackout_honoured(admin_engine: Engine, master_id: uuid.UUID) -> None:
    """The re-run's knobs reached the steps: RAM per wave bounded, no cutover in the blackout."""
    waves = rows(
        admin_engine,
        "SELECT w.number, w.asset_count, w.metrics, sum(a.memory_gb) AS ram"
        " FROM migration.migration_waves w JOIN migration.assets a ON a.wave_id = w.id"
        " WHERE w.master_flow_id = :m GROUP BY w.id ORDER BY w.number",
        m=master_id,
    )
    freeze_start, freeze_end = dt.date(2026, 3, 2), dt.date(2026, 3, 20)
    for wave in waves:
        metrics = wave["metrics"]
        assert metrics["max_ram_gb"] == RAM_LIMIT
        assert wave["ram"] <= RAM_LIMIT or wave["asset_count"] == 1, wave["number"]
        assert metrics["within_limits"] == (wave["ram"] <= RAM_LIMIT)
        cutover = metrics["cutover"]
        first, last = dt.date.fromisoformat(cutover["start"]), dt.date.fromisoformat(cutover["end"])
        assert last < freeze_start or first > freeze_end, (wave["number"], cutover)
        planned = next(m for m in metrics["timeline"] if m["milestone"] == "cutover")
        assert (planned["start"], planned["end"]) == (cutover["start"], cutover["end"])
    assert waves[0]["metrics"]["blackout_delay"] == {
        "days": waves[0]["metrics"]["blackout_delay"]["days"],
        "blackouts": ["quarter close"],
    }
    assert waves[0]["metrics"]["blackout_delay"]["days"] > 0


def _wave_limit(admin_engine: Engine, master_id: uuid.UUID) -> int:
    """The max wave size a run's plan was made with, after checking the plan keeps to it."""
    waves = rows(
        admin_engine,
        "SELECT asset_count, (metrics->>'max_size')::int AS max_size FROM migration.migration_waves"
        " WHERE master_flow_id = :m",
        m=master_id,
    )
    placed = rows(
        admin_engine,
        "SELECT count(*) AS n FROM migration.assets WHERE master_flow_id = :m AND wave_id IS NOT NULL",
        m=master_id,
    )
    assert waves and sum(w["asset_count"] for w in waves) == placed[0]["n"] > 0
    assert len({w["max_size"] for w in waves}) == 1
    assert max(w["asset_count"] for w in waves) <= waves[0]["max_size"]
    return waves[0]["max_size"]


def test_a_phase_started_on_its_own_without_an_accepted_handoff_is_refused(
    prefect_server: None, new_engagement: Callable[[], Engagement]
) -> None:
    engagement = new_engagement()
    state = master_flow(
        client=engagement.client, engagement=engagement.name, phases=["planning"], return_state=True
    )
    assert state.is_failed()
    assert "no accepted handoff into planning" in str(state.message)
