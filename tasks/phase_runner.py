"""The body every phase flow shares: record, run the steps in order, gate, hand off — or roll back.

With ``review`` on, a phase pauses before the steps that need a human (``tasks.reviews``) and
feeds the answer to that step as parameters.

Why compensation and not Prefect's ``on_rollback`` hooks: a step commits its work so later
steps (and retries) can read it, and the undo that reverses a whole phase is one database
transaction over ``change_log`` — one call, whatever the number of steps or rows, and the
same code the on-demand rollback flow uses for phases that already completed.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from prefect import Task
from prefect.artifacts import create_progress_artifact, update_progress_artifact
from prefect.runtime import flow_run
from prefect.states import Failed, State

from db.repositories.runs import (
    consume_handoff,
    create_phase_flow,
    get_handoff,
    update_master_flow,
    update_phase_flow,
)
from db.session import Tenant, tenant_session
from mfactory.errors import TenantContextError
from tasks.artifacts.keys import artifact_key
from tasks.artifacts.publish import publish_phase_artifacts
from tasks.handoff import gate_and_handoff
from tasks.phases import PHASES, STEPS, PhaseContext
from tasks.reviews.gates import REVIEWS
from tasks.rollback import rollback_phases

ROLLED_BACK = "RolledBack"


def _data_run_of_handoff(tenant: Tenant, handoff_id: uuid.UUID, phase: str) -> uuid.UUID:
    """Check the handoff is an accepted one into ``phase``; return the master run owning its data."""
    with tenant_session(tenant) as session:
        handoff = get_handoff(session=session, handoff_id=handoff_id)
        if handoff is None:
            raise TenantContextError(f"handoff {handoff_id} does not exist for this engagement")
        if handoff.target_phase != phase or handoff.status not in ("accepted", "consumed"):
            raise TenantContextError(
                f"handoff {handoff_id} is {handoff.status} for {handoff.target_phase}, "
                f"not accepted for {phase}"
            )
        return uuid.UUID(handoff.package["assets_run_id"])


def run_phase(
    phase: str,
    steps: Sequence[Task[[PhaseContext], dict[str, Any]]],
    *,
    client_account_id: uuid.UUID,
    engagement_id: uuid.UUID,
    master_flow_id: uuid.UUID,
    input_handoff_id: uuid.UUID | None,
    params: dict[str, Any],
) -> dict[str, Any] | State[Any]:
    """Run ``steps`` of ``phase`` inside the current (phase) flow run."""
    if [s.name for s in steps] != [f"{phase}.{n}" for n in STEPS[phase]]:
        raise ValueError(f"{phase} flow must run exactly its named steps in order")
    phase_flow_id = uuid.UUID(str(flow_run.id))
    tenant = Tenant(client_account_id=client_account_id, engagement_id=engagement_id)
    data_run_id = _data_run_of_handoff(tenant, input_handoff_id, phase) if input_handoff_id else None
    ctx = PhaseContext(
        client_account_id=client_account_id,
        engagement_id=engagement_id,
        master_flow_id=master_flow_id,
        phase_flow_id=phase_flow_id,
        phase=phase,
        input_handoff_id=input_handoff_id,
        data_run_id=data_run_id,
        params=params,
    )
    with tenant_session(tenant) as session:
        create_phase_flow(
            session=session,
            tenant=tenant,
            phase_flow_id=phase_flow_id,
            master_flow_id=master_flow_id,
            phase=phase,
            input_handoff_id=input_handoff_id,
        )
        if input_handoff_id is not None:
            consume_handoff(session=session, handoff_id=input_handoff_id, target_phase_flow_id=phase_flow_id)
        update_master_flow(session=session, master_flow_id=master_flow_id, current_phase=phase)
    progress = create_progress_artifact(
        progress=0.0,
        key=artifact_key(phase, "progress", engagement_id),
        description=f"{phase}: steps completed",
    )
    metrics: dict[str, Any] = {}
    try:
        for position, step in enumerate(steps, start=1):
            review = REVIEWS.get((phase, step.name.split(".", 1)[1])) if params.get("review") else None
            if review is not None:
                ctx = ctx.model_copy(update={"params": {**ctx.params, **review(ctx)}})
            metrics[step.name] = step(ctx)
            update_progress_artifact(artifact_id=progress, progress=100.0 * position / (len(steps) + 1))
        handoff_id = gate_and_handoff(ctx)
        update_progress_artifact(artifact_id=progress, progress=100.0)
    except Exception as exc:
        reason = f"{phase} failed: {type(exc).__name__}: {exc}"
        report = rollback_phases(
            tenant=tenant,
            master_flow_id=master_flow_id,
            phase_flows=[(phase_flow_id, phase)],
            scope="phase",
            reason=reason,
        )
        return Failed(
            name=ROLLED_BACK, message=f"{reason} — rolled back {report['rows_undone']} row(s)", data=exc
        )
    publish_phase_artifacts(ctx, metrics)
    with tenant_session(tenant) as session:
        update_phase_flow(
            session=session,
            phase_flow_id=phase_flow_id,
            status="completed",
            progress=1.0,
            summary={"steps": metrics, "handoff_id": str(handoff_id)},
        )
        update_master_flow(
            session=session, master_flow_id=master_flow_id, progress=(PHASES.index(phase) + 1) / len(PHASES)
        )
    return {
        "phase": phase,
        "phase_flow_id": str(phase_flow_id),
        "handoff_id": str(handoff_id),
        "steps": metrics,
    }
