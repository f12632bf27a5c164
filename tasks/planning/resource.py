"""Planning step 3 - Resource: effort hours per asset and role, rolled up per wave and per calendar week.

Writes ``estimated_migration_effort_hours`` on every asset and each wave's hours (total, per role, per
week of its duration) into its metrics; the step's metrics carry the engagement's hours per role, the
weekly load of every role and the weeks where a role needs more hours than the team has. Run parameter
``team_capacity`` ({role: hours per week}) replaces the model's default team per role.
"""

from __future__ import annotations

from typing import Any

import pandas as pd
from sqlalchemy.orm import Session

from db.repositories.assets import load_assets, update_assets
from db.repositories.waves import load_waves, update_waves
from tasks.phases import PLANNING, PhaseContext
from tasks.planning.effort import asset_effort, capacity, effort_model, over_capacity, weekly_load
from tasks.steps import step_task

#: Weeks over capacity listed in the step's metrics (all of them are in the weekly table).
LISTED_WEEKS = 50


def resource(session: Session, ctx: PhaseContext) -> dict[str, Any]:
    """Effort per asset and role; hours per wave and per week; the weeks a role is over capacity."""
    model = effort_model()
    roles: list[str] = list(model["roles"])
    team = capacity(model, ctx.params.get("team_capacity"))
    assets = load_assets(
        session=session,
        master_flow_id=ctx.assets_run_id,
        columns=[
            "six_r_strategy",
            "migration_complexity",
            "cpu_cores",
            "database_engine",
            "asset_type",
            "wave_id",
        ],
    )
    effort = asset_effort(assets, model)
    assets["estimated_migration_effort_hours"] = effort["effort_hours"]
    update_assets(session=session, frame=assets, columns=["estimated_migration_effort_hours"])
    per_wave = effort.assign(wave_id=assets["wave_id"]).dropna(subset=["wave_id"]).groupby("wave_id")
    wave_hours = per_wave[[*roles, "effort_hours"]].sum()
    waves = load_waves(session=session, master_flow_id=ctx.assets_run_id)
    frame = pd.DataFrame(
        {
            "id": [w.id for w in waves],
            "start": [w.planned_start for w in waves],
            "end": [w.planned_end for w in waves],
        }
    ).join(wave_hours.reindex([w.id for w in waves]).fillna(0.0).reset_index(drop=True))
    weekly = weekly_load(frame, roles)
    over = over_capacity(weekly, team)
    changes = []
    for wave, row in zip(waves, frame.itertuples(index=False), strict=True):  # one per wave, not per asset
        weeks = (
            max(1.0, ((wave.planned_end - wave.planned_start).days + 1) / 7) if wave.planned_start else 1.0
        )
        metrics = {
            **wave.metrics,
            "effort_hours": round(float(row.effort_hours), 1),
            "hours_per_week": round(float(row.effort_hours) / weeks, 1),
            "effort_by_role": {r: round(float(getattr(row, r)), 1) for r in roles},
        }
        changes.append({"id": wave.id, "metrics": metrics})
    update_waves(session=session, changes=changes)
    return {
        "effort_hours": round(float(effort["effort_hours"].sum()), 1),
        "effort_by_role": {r: round(float(effort[r].sum()), 1) for r in roles},
        "effort_model": str(model["version"]),
        "complexity_unknown": int((~effort["complexity_known"]).sum()),
        "team_capacity": team,
        "team_hours_per_week": round(sum(team.values()), 1),
        "weeks": len(weekly),
        "peak_week_hours": {r: float(weekly[r].max()) if len(weekly) else 0.0 for r in roles},
        "weeks_over_capacity": int(over["week"].nunique()),
        "over_capacity": [
            {
                "week": r.week.isoformat(),
                "role": r.role,
                "hours": float(r.hours),
                "capacity": float(r.capacity),
            }
            for r in over.head(LISTED_WEEKS).itertuples(index=False)
        ],
        "weekly": [
            {"week": r["week"].isoformat(), **{role: float(r[role]) for role in roles}}
            for r in weekly.to_dict("records")
        ],
    }


resource_step = step_task(PLANNING, "resource", resource)
