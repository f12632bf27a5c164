"""Assessment step 1 — Overview: what the inventory holds, how complete, how much tech debt."""

from __future__ import annotations

from typing import Any

from prefect.artifacts import create_table_artifact
from sqlalchemy.orm import Session

from db.repositories.assets import load_assets
from tasks.artifacts.keys import artifact_key
from tasks.phases import ASSESSMENT, PhaseContext
from tasks.steps import step_task


def overview(session: Session, ctx: PhaseContext) -> dict[str, Any]:
    """Counts by type / OS family / environment, completeness and end-of-support exposure."""
    assets = load_assets(
        session=session,
        master_flow_id=ctx.assets_run_id,
        columns=["asset_type", "os_family", "environment", "completeness_score", "end_of_support_date"],
    )
    if assets.empty:
        raise ValueError("assessment found no assets for this run")
    table = (
        assets.fillna({"os_family": "unknown", "environment": "unknown"})
        .groupby(["asset_type", "os_family", "environment"])
        .size()
        .reset_index(name="assets")
    )
    create_table_artifact(
        key=artifact_key("assessment", "overview", ctx.engagement_id),
        table=table.to_dict("records"),
        description="Assets by type, OS family, environment",
    )
    return {
        "assets": len(assets),
        "by_type": assets["asset_type"].value_counts().to_dict(),
        "completeness_avg": round(float(assets["completeness_score"].astype(float).mean()), 3),
        "with_end_of_support": int(assets["end_of_support_date"].notna().sum()),
    }


overview_step = step_task(ASSESSMENT, "overview", overview)
