"""Planning steps 1-3 — Overview, Timeline (milestones) and Resource (effort per asset and wave)."""

from __future__ import annotations

from typing import Any

import pandas as pd
from sqlalchemy.orm import Session

from db.repositories.assets import load_assets, update_assets
from db.repositories.waves import load_waves, update_waves
from tasks.assessment.roadmap import MILESTONES, milestones
from tasks.phases import PLANNING, PhaseContext
from tasks.steps import step_task

# Base effort hours per asset by strategy, scaled by size (cores).
EFFORT_HOURS = {
    "rehost": 6,
    "relocate": 4,
    "replatform": 16,
    "repurchase": 12,
    "refactor": 60,
    "rearchitect": 120,
    "rewrite": 200,
    "retire": 2,
    "retain": 1,
}


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


def resource(session: Session, ctx: PhaseContext) -> dict[str, Any]:
    """Effort hours per asset (6R and size), rolled up per wave; flags waves over capacity."""
    capacity = float(ctx.params.get("team_hours_per_week") or 400)
    assets = load_assets(
        session=session, master_flow_id=ctx.assets_run_id, columns=["six_r_strategy", "cpu_cores", "wave_id"]
    )
    size = (pd.to_numeric(assets["cpu_cores"], errors="coerce").fillna(2) / 4).clip(lower=0.5, upper=4)
    assets["estimated_migration_effort_hours"] = (
        assets["six_r_strategy"].map(EFFORT_HOURS).fillna(8) * size
    ).round(1)
    update_assets(session=session, frame=assets, columns=["estimated_migration_effort_hours"])
    per_wave = assets.dropna(subset=["wave_id"]).groupby("wave_id")["estimated_migration_effort_hours"].sum()
    over, changes = [], []
    for wave in load_waves(session=session, master_flow_id=ctx.assets_run_id):
        hours = float(per_wave.get(wave.id, 0.0))
        weeks = max(1.0, ((wave.planned_end - wave.planned_start).days + 1) / 7)
        load = hours / weeks
        if load > capacity:
            over.append(wave.number)
        metrics = {**wave.metrics, "effort_hours": round(hours, 1), "hours_per_week": round(load, 1)}
        changes.append({"id": wave.id, "metrics": metrics})
    update_waves(session=session, changes=changes)
    return {
        "effort_hours": round(float(assets["estimated_migration_effort_hours"].sum()), 1),
        "team_hours_per_week": capacity,
        "waves_over_capacity": over,
    }


overview_step = step_task(PLANNING, "overview", overview)
timeline_step = step_task(PLANNING, "timeline", timeline)
resource_step = step_task(PLANNING, "resource", resource)
