"""The run record: master flows, phase flows, steps and handoffs."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from db.models import FlowHandoff, FlowRollback, MasterFlow, PhaseFlow, PhaseStep
from db.session import Tenant


def now() -> datetime:
    return datetime.now(UTC)


def _tenant_values(tenant: Tenant) -> dict[str, uuid.UUID]:
    return {"client_account_id": tenant.client_account_id, "engagement_id": tenant.engagement_id}


def create_master_flow(
    *, session: Session, tenant: Tenant, master_flow_id: uuid.UUID, parameters: dict[str, Any]
) -> None:
    """Insert (or, on a Prefect flow retry, reuse) the master record keyed by the flow-run id."""
    session.execute(
        insert(MasterFlow)
        .values(
            id=master_flow_id,
            **_tenant_values(tenant),
            status="running",
            parameters=parameters,
            started_at=now(),
            progress=0.0,
            summary={},
        )
        .on_conflict_do_update(index_elements=["id"], set_={"status": "running", "status_reason": None})
    )


def update_master_flow(*, session: Session, master_flow_id: uuid.UUID, **values: Any) -> None:
    if values.get("status") in ("completed", "failed", "rolled_back", "cancelled"):
        values.setdefault("finished_at", now())
    session.execute(update(MasterFlow).where(MasterFlow.id == master_flow_id).values(**values))


def create_phase_flow(
    *,
    session: Session,
    tenant: Tenant,
    phase_flow_id: uuid.UUID,
    master_flow_id: uuid.UUID,
    phase: str,
    input_handoff_id: uuid.UUID | None,
) -> None:
    session.execute(
        insert(PhaseFlow)
        .values(
            id=phase_flow_id,
            **_tenant_values(tenant),
            master_flow_id=master_flow_id,
            phase=phase,
            status="running",
            started_at=now(),
            input_handoff_id=input_handoff_id,
            summary={},
        )
        .on_conflict_do_update(index_elements=["id"], set_={"status": "running", "status_reason": None})
    )


def update_phase_flow(*, session: Session, phase_flow_id: uuid.UUID, **values: Any) -> None:
    if values.get("status") in ("completed", "failed", "rolled_back", "cancelled"):
        values.setdefault("finished_at", now())
    session.execute(update(PhaseFlow).where(PhaseFlow.id == phase_flow_id).values(**values))


def start_step(
    *,
    session: Session,
    tenant: Tenant,
    phase_flow_id: uuid.UUID,
    name: str,
    position: int,
    task_run_id: uuid.UUID | None,
    retry_count: int,
) -> None:
    """Mark a step running; a retry updates the same row (one row per step)."""
    values = {
        "status": "running",
        "task_run_id": task_run_id,
        "retry_count": retry_count,
        "started_at": now(),
        "finished_at": None,
        "error": None,
    }
    session.execute(
        insert(PhaseStep)
        .values(
            id=uuid.uuid4(),
            **_tenant_values(tenant),
            phase_flow_id=phase_flow_id,
            name=name,
            position=position,
            metrics={},
            **values,
        )
        .on_conflict_do_update(index_elements=["phase_flow_id", "name"], set_=values)
    )


def finish_step(
    *,
    session: Session,
    phase_flow_id: uuid.UUID,
    name: str,
    status: str,
    metrics: dict[str, Any] | None,
    error: dict[str, Any] | None,
) -> None:
    step = session.scalars(
        select(PhaseStep).where(PhaseStep.phase_flow_id == phase_flow_id, PhaseStep.name == name)
    ).one()
    finished = now()
    step.status = status
    step.finished_at = finished
    step.duration_ms = int((finished - step.started_at).total_seconds() * 1000) if step.started_at else None
    if metrics is not None:
        step.metrics = metrics
    step.error = error


def mark_steps(*, session: Session, phase_flow_id: uuid.UUID, from_status: str, to_status: str) -> None:
    session.execute(
        update(PhaseStep)
        .where(PhaseStep.phase_flow_id == phase_flow_id, PhaseStep.status == from_status)
        .values(status=to_status)
    )


def create_handoff(
    *,
    session: Session,
    tenant: Tenant,
    source_phase_flow_id: uuid.UUID,
    source_phase: str,
    target_phase: str | None,
    package: dict[str, Any],
    validation_results: dict[str, Any],
    status: str,
) -> uuid.UUID:
    handoff = FlowHandoff(
        id=uuid.uuid4(),
        **_tenant_values(tenant),
        source_phase_flow_id=source_phase_flow_id,
        source_phase=source_phase,
        target_phase=target_phase,
        package=package,
        validation_results=validation_results,
        status=status,
    )
    session.add(handoff)
    session.flush()
    return handoff.id


def get_handoff(*, session: Session, handoff_id: uuid.UUID) -> FlowHandoff | None:
    return session.get(FlowHandoff, handoff_id)


def consume_handoff(*, session: Session, handoff_id: uuid.UUID, target_phase_flow_id: uuid.UUID) -> None:
    session.execute(
        update(FlowHandoff)
        .where(FlowHandoff.id == handoff_id)
        .values(status="consumed", target_phase_flow_id=target_phase_flow_id)
    )


def latest_accepted_handoff(*, session: Session, target_phase: str) -> FlowHandoff | None:
    """The newest handoff into ``target_phase`` that passed its gate and was not rolled back."""
    return session.scalars(
        select(FlowHandoff)
        .where(FlowHandoff.target_phase == target_phase, FlowHandoff.status.in_(("accepted", "consumed")))
        .order_by(FlowHandoff.created_at.desc())
        .limit(1)
    ).first()


def master_flow(*, session: Session, master_flow_id: uuid.UUID) -> MasterFlow | None:
    return session.get(MasterFlow, master_flow_id)


def phase_flows(*, session: Session, master_flow_id: uuid.UUID) -> list[PhaseFlow]:
    return list(
        session.scalars(
            select(PhaseFlow).where(PhaseFlow.master_flow_id == master_flow_id).order_by(PhaseFlow.started_at)
        )
    )


def phase_steps(*, session: Session, phase_flow_ids: list[uuid.UUID]) -> list[PhaseStep]:
    return list(
        session.scalars(
            select(PhaseStep)
            .where(PhaseStep.phase_flow_id.in_(phase_flow_ids))
            .order_by(PhaseStep.phase_flow_id, PhaseStep.position)
        )
    )


def status_report(*, session: Session, master_flow_id: uuid.UUID) -> dict[str, Any] | None:
    """The ``mfactory status --json`` contract for one master run (three queries, no N+1)."""
    master = master_flow(session=session, master_flow_id=master_flow_id)
    if master is None:
        return None
    phases = phase_flows(session=session, master_flow_id=master_flow_id)
    steps = phase_steps(session=session, phase_flow_ids=[p.id for p in phases])
    by_phase: dict[uuid.UUID, list[PhaseStep]] = {}
    for step in steps:
        by_phase.setdefault(step.phase_flow_id, []).append(step)
    return {
        "master_flow_id": str(master.id),
        "status": master.status,
        "status_reason": master.status_reason,
        "current_phase": master.current_phase,
        "progress": master.progress,
        "phases": [
            {
                "phase": p.phase,
                "flow_run_id": str(p.id),
                "status": p.status,
                "steps": [
                    {"name": s.name, "status": s.status, "retry_count": s.retry_count, "metrics": s.metrics}
                    for s in by_phase.get(p.id, [])
                ],
            }
            for p in phases
        ],
    }


def mark_handoffs_from(*, session: Session, source_phase_flow_id: uuid.UUID, status: str) -> None:
    session.execute(
        update(FlowHandoff)
        .where(
            FlowHandoff.source_phase_flow_id == source_phase_flow_id,
            FlowHandoff.status.in_(("pending", "accepted", "consumed")),  # a rejected one stays rejected
        )
        .values(status=status)
    )


def record_rollback(
    *,
    session: Session,
    tenant: Tenant,
    master_flow_id: uuid.UUID,
    phase_flow_ids: list[uuid.UUID],
    scope: str,
    reason: str,
    status: str,
    rows_undone: int,
    log: list[Any],
    integrity_check: dict[str, Any],
    rollback_flow_run_id: uuid.UUID | None,
) -> uuid.UUID:
    row = FlowRollback(
        id=uuid.uuid4(),
        **_tenant_values(tenant),
        master_flow_id=master_flow_id,
        phase_flow_ids=[str(p) for p in phase_flow_ids],
        scope=scope,
        reason=reason,
        status=status,
        rows_undone=rows_undone,
        log=log,
        integrity_check=integrity_check,
        rollback_flow_run_id=rollback_flow_run_id,
        finished_at=now(),
    )
    session.add(row)
    session.flush()
    return row.id
