"""Assessment step 4 — Roadmap: dated waves from a start date, longer for bigger, harder waves."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy.orm import Session

from db.repositories.assets import load_assets
from db.repositories.waves import load_waves, set_wave
from tasks.phases import ASSESSMENT, PhaseContext
from tasks.steps import step_task

# Working days per asset by strategy: rehost is quickest, refactoring slowest.
DAYS_PER_ASSET = {
    "rehost": 0.5,
    "relocate": 0.3,
    "replatform": 1.0,
    "repurchase": 1.0,
    "refactor": 2.0,
    "rearchitect": 3.0,
    "rewrite": 4.0,
}
MIN_WAVE_DAYS, GAP_DAYS = 5, 2


def wave_days(strategies: list[str]) -> int:
    return max(MIN_WAVE_DAYS, round(sum(DAYS_PER_ASSET.get(s, 1.0) for s in strategies)))


def roadmap(session: Session, ctx: PhaseContext) -> dict[str, Any]:
    """Give each wave a start and end date, back to back with a short gap."""
    start = (
        dt.date.fromisoformat(ctx.params["start_date"])
        if ctx.params.get("start_date")
        else (dt.date.today() + dt.timedelta(days=14))
    )
    assets = load_assets(
        session=session, master_flow_id=ctx.assets_run_id, columns=["wave_id", "six_r_strategy"]
    )
    by_wave = assets.dropna(subset=["wave_id"]).groupby("wave_id")["six_r_strategy"].apply(list)
    cursor = start
    for wave in load_waves(session=session, master_flow_id=ctx.assets_run_id):
        days = wave_days(by_wave.get(wave.id, []))
        end = cursor + dt.timedelta(days=days - 1)
        set_wave(session=session, wave_id=wave.id, planned_start=cursor, planned_end=end, status="scheduled")
        cursor = end + dt.timedelta(days=GAP_DAYS + 1)
    return {
        "start": start.isoformat(),
        "end": (cursor - dt.timedelta(days=GAP_DAYS + 1)).isoformat(),
        "waves": len(by_wave),
    }


roadmap_step = step_task(ASSESSMENT, "roadmap", roadmap)
