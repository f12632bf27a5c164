"""Assessment step 5 — Editor: take the reviewer's overrides, store them, re-plan what they change.

Overrides live per engagement (``planning_overrides``), so earlier steps of this same run already
applied the ones given before it started (``mfactory edit``, ``--six-r``/``--pin``): treatment the
6R overrides and locks, wave planning the pins. This step stores what a reviewer answered in the
paused run (``editor_overrides``, from ``tasks.reviews.gates.review_six_r``) through the same code
path as the CLI, and when that changes a strategy or a wave it re-plans: 6R, waves, roadmap. Then
it fixes the waves users dated and reports every active override and the stale ones.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from db.repositories.assets import load_assets
from db.repositories.overrides import active_overrides, locked_counts
from db.repositories.waves import load_waves
from tasks.assessment.editing import STALE_SHOWN, apply_six_r, apply_wave_dates, record
from tasks.assessment.overrides import ASSET_KINDS, OverrideRequest, stale_overrides
from tasks.assessment.roadmap import roadmap
from tasks.assessment.wave_planning import plan
from tasks.phases import ASSESSMENT, PhaseContext
from tasks.steps import step_task


def edit(session: Session, ctx: PhaseContext) -> dict[str, Any]:
    """Store the reviewer's overrides (audited), re-plan if they change strategies or waves, fix dates."""
    requests = [OverrideRequest(**r) for r in ctx.params.get("editor_overrides") or []]
    stored = record(
        session=session,
        tenant=ctx.tenant,
        run_id=ctx.assets_run_id,
        requests=requests,
        actor=str(ctx.params.get("user") or "reviewer"),
        source="review",
    )
    metrics: dict[str, Any] = {"overrides_given": len(requests)}
    metrics["overrides_recorded"] = sum(s["changed"] for s in stored)
    replan = any(s["changed"] and s["kind"] in ASSET_KINDS for s in stored)
    if replan:
        metrics["six_r"] = apply_six_r(session, ctx)
        metrics["replanned_waves"] = plan(session, ctx)["waves"]
        roadmap(session, ctx)
    metrics["wave_dates"] = apply_wave_dates(session, ctx)
    active = active_overrides(session=session)
    by_user, locked = locked_counts(session=session, master_flow_id=ctx.assets_run_id)
    names = load_assets(session=session, master_flow_id=ctx.assets_run_id, columns=["asset_name"])
    waves = {w.number for w in load_waves(session=session, master_flow_id=ctx.assets_run_id)}
    stale = stale_overrides(active, set(names["asset_name"]), waves)
    return {
        **metrics,
        "replanned": replan,
        "overrides_active": len(active),
        "overrides_by_kind": {str(k): int(n) for k, n in active["kind"].value_counts().items()},
        "overrides_applied": by_user,
        "locked_total": locked,
        "stale_overrides": len(stale),
        "stale": stale[:STALE_SHOWN],
    }


editor_step = step_task(ASSESSMENT, "editor", edit)
