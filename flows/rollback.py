"""The rollback flow: undo a completed phase of a master run on request, cascading to later ones."""

from __future__ import annotations

import uuid
from typing import Any

from prefect import flow
from prefect.runtime import flow_run

from db.repositories.runs import phase_flows
from db.repositories.tenants import locate_master_flow
from db.session import tenant_session
from tasks.phases import PHASES
from tasks.rollback import rollback_phases


@flow(name="rollback")
def rollback_flow(
    master_flow_id: uuid.UUID,
    phase: str = "discovery",
    cascade: bool = True,
    reason: str = "rollback requested",
) -> dict[str, Any]:
    """Undo ``phase`` of a master run — and, with ``cascade``, every later phase first.

    Without cascade, a phase whose later phases are still in place is refused: their data
    was derived from it. Everything happens in one database transaction and is recorded in
    ``flow_rollbacks`` with its log and integrity check.
    """
    if phase not in PHASES:
        raise ValueError(f"unknown phase {phase!r}; phases are {list(PHASES)}")
    with tenant_session(None) as session:
        located = locate_master_flow(session=session, master_flow_id=master_flow_id)
    if located is None or located[0] != master_flow_id:
        raise ValueError(f"no master run {master_flow_id}")
    tenant = located[1]
    with tenant_session(tenant) as session:
        done = [
            (p.id, p.phase)
            for p in phase_flows(session=session, master_flow_id=master_flow_id)
            if p.status == "completed"
        ]
    later = [(i, p) for i, p in done if PHASES.index(p) > PHASES.index(phase)]
    target = [(i, p) for i, p in done if p == phase]
    if not target:
        raise ValueError(f"{phase} of master run {master_flow_id} is not completed; nothing to roll back")
    if later and not cascade:
        raise ValueError(f"later phases {[p for _, p in later]} build on {phase}: roll back with cascade")
    ordered = sorted(later + target, key=lambda item: PHASES.index(item[1]), reverse=True)
    report = rollback_phases(
        tenant=tenant,
        master_flow_id=master_flow_id,
        phase_flows=ordered,
        scope="cascade" if later else "phase",
        reason=reason,
        rollback_flow_run_id=uuid.UUID(str(flow_run.id)),
    )
    return {
        "master_flow_id": str(master_flow_id),
        "phases": [p for _, p in ordered],
        "rows_undone": report["rows_undone"],
        "integrity_check": report["integrity_check"],
    }
