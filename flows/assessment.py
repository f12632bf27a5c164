"""Assessment: Overview → Treatment (6R) → Wave Planning → Roadmap → Editor."""

from __future__ import annotations

import uuid
from typing import Any

from prefect import flow
from prefect.states import State

from tasks.assessment.editor import editor_step
from tasks.assessment.overview import overview_step
from tasks.assessment.roadmap import roadmap_step
from tasks.assessment.treatment import treatment
from tasks.assessment.wave_planning import wave_planning
from tasks.phase_runner import run_phase
from tasks.phases import ASSESSMENT

STEPS = (overview_step, treatment, wave_planning, roadmap_step, editor_step)


@flow(name="assessment", flow_run_name="assessment")
def assessment_flow(
    client_account_id: uuid.UUID,
    engagement_id: uuid.UUID,
    master_flow_id: uuid.UUID,
    input_handoff_id: uuid.UUID | None = None,
    params: dict[str, Any] | None = None,
) -> dict[str, Any] | State[Any]:
    """Decide each asset's 6R strategy and plan dated, dependency-aware waves.

    Writes assets (strategy, rationale, wave) and migration_waves; undone on failure.
    """
    return run_phase(
        ASSESSMENT,
        STEPS,
        client_account_id=client_account_id,
        engagement_id=engagement_id,
        master_flow_id=master_flow_id,
        input_handoff_id=input_handoff_id,
        params=params or {},
    )
