"""Modernization steps: Refactor → Rearchitect → Rewrite candidates, each with a reason."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pandas as pd
from sqlalchemy.orm import Session

from db.repositories.assets import load_assets, load_dependency_edges, update_assets
from tasks.phases import MODERNIZATION, PhaseContext
from tasks.steps import step_task

HUB_DEGREE = 6
COLUMNS = ["asset_name", "asset_type", "six_r_strategy", "end_of_support_date", "custom_attributes"]


def _mark(session: Session, ctx: PhaseContext, chosen: pd.DataFrame, strategy: str, reason: pd.Series) -> int:
    chosen = chosen.copy()
    chosen["custom_attributes"] = [
        {**(attrs or {}), "modernization": {"step": strategy, "reason": why}}
        for attrs, why in zip(chosen["custom_attributes"], reason, strict=True)
    ]
    chosen["six_r_strategy"] = strategy
    chosen["modernization_flow_id"] = ctx.phase_flow_id
    return update_assets(
        session=session,
        frame=chosen,
        columns=["custom_attributes", "six_r_strategy", "modernization_flow_id"],
    )


def refactor(session: Session, ctx: PhaseContext) -> dict[str, Any]:
    """Applications assessed as refactor: containerise them."""
    assets = load_assets(session=session, master_flow_id=ctx.assets_run_id, columns=COLUMNS)
    chosen = assets[assets["six_r_strategy"].eq("refactor")]
    reason = pd.Series("application component assessed as refactor: containerise", index=chosen.index)
    return {"candidates": _mark(session, ctx, chosen, "refactor", reason)}


def rearchitect(session: Session, ctx: PhaseContext) -> dict[str, Any]:
    """Hubs (many dependants) among refactor candidates: split before moving."""
    assets = load_assets(session=session, master_flow_id=ctx.assets_run_id, columns=COLUMNS)
    edges = load_dependency_edges(session=session, master_flow_id=ctx.assets_run_id)
    degree = pd.concat([edges["source_asset_id"], edges["target_asset_id"]]).value_counts()
    assets["degree"] = assets["id"].map(degree).fillna(0).astype(int)
    chosen = assets[assets["six_r_strategy"].eq("refactor") & (assets["degree"] >= HUB_DEGREE)]
    reason = "hub with " + chosen["degree"].astype(str) + " dependencies: decompose into services"
    return {"candidates": _mark(session, ctx, chosen, "rearchitect", reason), "hub_degree": HUB_DEGREE}


def rewrite(session: Session, ctx: PhaseContext) -> dict[str, Any]:
    """Refactor candidates whose platform is past end of support: rewrite rather than port."""
    today = dt.date.fromisoformat(ctx.params["as_of"]) if ctx.params.get("as_of") else dt.date.today()
    assets = load_assets(session=session, master_flow_id=ctx.assets_run_id, columns=COLUMNS)
    eos = pd.to_datetime(assets["end_of_support_date"], errors="coerce")
    chosen = assets[assets["six_r_strategy"].eq("refactor") & (eos < pd.Timestamp(today))]
    reason = (
        "refactor candidate on a platform past end of support (" + eos[chosen.index].dt.date.astype(str) + ")"
    )
    return {"candidates": _mark(session, ctx, chosen, "rewrite", reason)}


refactor_step = step_task(MODERNIZATION, "refactor", refactor)
rearchitect_step = step_task(MODERNIZATION, "rearchitect", rearchitect)
rewrite_step = step_task(MODERNIZATION, "rewrite", rewrite)
