"""Rolling phases back: undo their captured changes, newest phase first, in one transaction."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

from db.repositories.changes import undid_raw_records, undo_flow_changes
from db.repositories.imports import drop_emptied_raw_partitions, errors_files_of_phases
from db.repositories.runs import (
    mark_handoffs_from,
    mark_steps,
    record_rollback,
    update_master_flow,
    update_phase_flow,
)
from db.session import Tenant, tenant_session
from mfactory.errors import RollbackIntegrityError


def rollback_phases(
    *,
    tenant: Tenant,
    master_flow_id: uuid.UUID,
    phase_flows: list[tuple[uuid.UUID, str]],
    scope: str,
    reason: str,
    rollback_flow_run_id: uuid.UUID | None = None,
) -> dict[str, Any]:
    """Undo ``phase_flows`` ((id, phase), newest first) and record the rollback.

    All undos share one transaction: either every phase is restored and passes the
    integrity check, or nothing changes and a ``failed`` rollback row says why.
    """
    rollback_id = rollback_flow_run_id or uuid.uuid4()
    log: list[dict[str, Any]] = []
    try:
        with tenant_session(tenant) as session:
            errors_files = errors_files_of_phases(session=session, phase_flow_ids=[p for p, _ in phase_flows])
            for phase_flow_id, phase in phase_flows:
                report = undo_flow_changes(session=session, flow_run_id=phase_flow_id, undone_by=rollback_id)
                log.append({"phase": phase, "phase_flow_id": str(phase_flow_id), **report})
                update_phase_flow(
                    session=session, phase_flow_id=phase_flow_id, status="rolled_back", status_reason=reason
                )
                mark_steps(
                    session=session,
                    phase_flow_id=phase_flow_id,
                    from_status="completed",
                    to_status="rolled_back",
                )
                mark_handoffs_from(session=session, source_phase_flow_id=phase_flow_id, status="rolled_back")
            update_master_flow(
                session=session,
                master_flow_id=master_flow_id,
                status="rolled_back",
                status_reason=reason,
                current_phase=phase_flows[-1][1] if phase_flows else None,
            )
            integrity = {"passed": True, "rows_checked": sum(e["rows_checked"] for e in log), "mismatches": 0}
            rows = sum(e["rows_undone"] for e in log)
            record_rollback(
                session=session,
                tenant=tenant,
                master_flow_id=master_flow_id,
                phase_flow_ids=[p for p, _ in phase_flows],
                scope=scope,
                reason=reason,
                status="completed",
                rows_undone=rows,
                log=log,
                integrity_check=integrity,
                rollback_flow_run_id=rollback_flow_run_id,
            )
    except RollbackIntegrityError as exc:
        with tenant_session(tenant) as session:
            record_rollback(
                session=session,
                tenant=tenant,
                master_flow_id=master_flow_id,
                phase_flow_ids=[p for p, _ in phase_flows],
                scope=scope,
                reason=reason,
                status="failed",
                rows_undone=0,
                log=log,
                integrity_check={"passed": False, "error": str(exc)},
                rollback_flow_run_id=rollback_flow_run_id,
            )
        raise
    _remove_files(errors_files)
    # After the commit, in a transaction of its own: the undone imports' partitions are empty now.
    if any(undid_raw_records(entry) for entry in log):
        drop_emptied_raw_partitions(tenant)
    return {"scope": scope, "rows_undone": rows, "integrity_check": integrity, "log": log}


def _remove_files(paths: list[str]) -> None:
    """Errors files belong to imports that the rollback just removed: they go too (after the commit,
    so a failed rollback keeps them)."""
    for path in paths:
        Path(path).unlink(missing_ok=True)
