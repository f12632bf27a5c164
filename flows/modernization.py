"""Modernization: Refactor → Rearchitect → Rewrite."""

from __future__ import annotations

import uuid
from typing import Any

from prefect import flow
from prefect.states import State

from tasks.modernization.candidates import rearchitect_step, refactor_step, rewrite_step
from tasks.phase_runner import run_phase
from tasks.phases import MODERNIZATION

STEPS = (refactor_step, rearchitect_step, rewrite_step)


@flow(name="modernization", flow_run_name="modernization")
def modernization_flow(
    client_account_id: uuid.UUID,
    engagement_id: uuid.UUID,
    master_flow_id: uuid.UUID,
    input_handoff_id: uuid.UUID | None = None,
    params: dict[str, Any] | None = None,
) -> dict[str, Any] | State[Any]:
    """List refactor / rearchitect / rewrite candidates, each with its reason; undone on failure."""
    return run_phase(
        MODERNIZATION,
        STEPS,
        client_account_id=client_account_id,
        engagement_id=engagement_id,
        master_flow_id=master_flow_id,
        input_handoff_id=input_handoff_id,
        params=params or {},
    )
