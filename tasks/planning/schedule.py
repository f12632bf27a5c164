"""Planning steps 1-2 - Overview and Timeline (milestones); Resource is in resource.py."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from db.repositories.waves import load_waves, update_waves
from tasks.assessment.roadmap import MILESTONES, milestones
from tasks.phases import PLANNING, PhaseContext
from tasks.steps import step_task


def overview(session: Session, ctx: PhaseContext) -> dict[str, Any]:
    """Per-wave asset counts and strategy mix the plan starts from."""
    waves = load_waves(session=session, master_flow_id=ctx.assets_run_id)
    if not waves:
        raise ValueError("planning needs waves from assessment")
    undated = [w.number for w in waves if w.planned_start is None]
    if undated:
        raise ValueError(f"waves {undated} have no dates")
    return {
        "waves": len(waves),
        "assets": sum(w.asset_count for w in waves),
        "first_start": min(w.planned_start for w in waves).isoformat(),
        "last_end": max(w.planned_end for w in waves).isoformat(),
    }


def timeline(session: Session, ctx: PhaseContext) -> dict[str, Any]:
    """Store each wave's milestones in its metrics."""
    waves = load_waves(session=session, master_flow_id=ctx.assets_run_id)
    update_waves(
        session=session,
        changes=[
            {"id": w.id, "metrics": {**w.metrics, "timeline": milestones(w.planned_start, w.planned_end)}}
            for w in waves
        ],
    )
    return {"waves_scheduled": len(waves), "milestones": len(waves) * len(MILESTONES)}


overview_step = step_task(PLANNING, "overview", overview)
timeline_step = step_task(PLANNING, "timeline", timeline)
