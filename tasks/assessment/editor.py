"""Assessment step 5 — Editor: apply human overrides of 6R decisions, locked and audited."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from db.models import SecurityAuditLog
from db.models.assets import SIX_R
from db.repositories.assets import load_assets, update_assets
from tasks.phases import ASSESSMENT, PhaseContext
from tasks.steps import step_task


def edit(session: Session, ctx: PhaseContext) -> dict[str, Any]:
    """Apply ``overrides`` ({asset_name: strategy}); each change is locked and audited."""
    overrides: dict[str, str] = ctx.params.get("overrides") or {}
    bad = {k: v for k, v in overrides.items() if v not in SIX_R}
    if bad:
        raise ValueError(f"unknown 6R strategy in overrides: {bad}")
    assets = load_assets(
        session=session,
        master_flow_id=ctx.assets_run_id,
        columns=["asset_name", "six_r_strategy", "six_r_locked"],
    )
    missing = sorted(set(overrides) - set(assets["asset_name"]))
    if missing:
        raise ValueError(f"overrides name unknown assets: {missing[:10]}")
    changed = assets[assets["asset_name"].isin(list(overrides))].copy()
    before = dict(zip(changed["asset_name"], changed["six_r_strategy"], strict=True))
    changed["six_r_strategy"] = changed["asset_name"].map(overrides)
    changed["six_r_rationale"] = "set by " + str(ctx.params.get("user") or "user") + " in the editor"
    changed["six_r_decided_by"] = "user"
    changed["six_r_confidence"] = 1.0
    changed["six_r_locked"] = True
    update_assets(
        session=session,
        frame=changed,
        columns=["six_r_strategy", "six_r_rationale", "six_r_decided_by", "six_r_confidence", "six_r_locked"],
    )
    session.add_all(
        SecurityAuditLog(
            client_account_id=ctx.client_account_id,
            engagement_id=ctx.engagement_id,
            actor=str(ctx.params.get("user") or "user"),
            action="six_r_override",
            target_table="assets",
            target_id=row.id,
            details={"before": before[row.asset_name], "after": row.six_r_strategy},
        )
        for row in changed.itertuples()
    )
    return {
        "overrides_applied": len(changed),
        "locked_total": int(assets["six_r_locked"].sum()) + int((~changed["six_r_locked"]).sum()),
    }


editor_step = step_task(ASSESSMENT, "editor", edit)
