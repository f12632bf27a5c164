"""Execution: Overview → Rehost → Replatform → Cutover → Reports (dry-run executor)."""

from __future__ import annotations

import uuid
from typing import Any

from prefect import flow
from prefect.states import State

from tasks.execution.runbooks import cutover_step, overview_step, rehost_step, replatform_step, reports_step
from tasks.phase_runner import run_phase
from tasks.phases import EXECUTION

STEPS = (overview_step, rehost_step, replatform_step, cutover_step, reports_step)


@flow(name="execution", flow_run_name="execution")
def execution_flow(
    client_account_id: uuid.UUID,
    engagement_id: uuid.UUID,
    master_flow_id: uuid.UUID,
    input_handoff_id: uuid.UUID | None = None,
    params: dict[str, Any] | None = None,
) -> dict[str, Any] | State[Any]:
    """Build per-wave runbooks and run them in the dry-run executor; undone on failure."""
    return run_phase(
        EXECUTION,
        STEPS,
        client_account_id=client_account_id,
        engagement_id=engagement_id,
        master_flow_id=master_flow_id,
        input_handoff_id=input_handoff_id,
        params=params or {},
    )
