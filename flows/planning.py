"""Planning: Overview → Timeline → Resource → Target."""

from __future__ import annotations

import uuid
from typing import Any

from prefect import flow
from prefect.states import State

from tasks.phase_runner import run_phase
from tasks.phases import PLANNING
from tasks.planning.schedule import overview_step, resource_step, timeline_step
from tasks.planning.target import target_step

STEPS = (overview_step, timeline_step, resource_step, target_step)


@flow(name="planning", flow_run_name="planning")
def planning_flow(
    client_account_id: uuid.UUID,
    engagement_id: uuid.UUID,
    master_flow_id: uuid.UUID,
    input_handoff_id: uuid.UUID | None = None,
    params: dict[str, Any] | None = None,
) -> dict[str, Any] | State[Any]:
    """Schedule milestones, estimate effort and right-size every moving asset with its cost.

    Writes migration_waves metrics and assets (effort, target size, run-rate); undone on failure.
    """
    return run_phase(
        PLANNING,
        STEPS,
        client_account_id=client_account_id,
        engagement_id=engagement_id,
        master_flow_id=master_flow_id,
        input_handoff_id=input_handoff_id,
        params=params or {},
    )
