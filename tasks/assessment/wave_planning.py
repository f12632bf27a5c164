"""Assessment step 3 — Wave Planning: dependency-connected assets move together, waves bounded.

Pure logic (``plan_waves``) over arrays: connected components of the dependency graph
(scipy, linear time), components ordered pilot-first (small, non-production, low
criticality), then non-production before production; a component larger than a wave is
cut in breadth-first order so neighbours stay together; pieces are packed first-fit.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import breadth_first_order, connected_components
from sqlalchemy.orm import Session

from db.repositories.assets import load_assets, load_dependency_edges, update_assets
from db.repositories.waves import replace_waves
from tasks.phases import ASSESSMENT, PhaseContext
from tasks.steps import step_task

MOVING = ("rehost", "replatform", "refactor", "rearchitect", "rewrite", "repurchase", "relocate")
CRITICALITY_RANK = {"low": 0, "medium": 1, "high": 2, "critical": 3}


def plan_waves(assets: pd.DataFrame, edges: pd.DataFrame, max_size: int) -> pd.Series:
    """Wave number (1-based) per asset row of ``assets`` (columns id, environment, criticality)."""
    if max_size < 1:
        raise ValueError("max wave size must be at least 1")
    n = len(assets)
    if n == 0:
        return pd.Series(dtype="int64")
    position = pd.Series(np.arange(n), index=assets["id"].to_numpy())
    src = position.reindex(edges["source_asset_id"]).to_numpy()
    dst = position.reindex(edges["target_asset_id"]).to_numpy()
    keep = ~(np.isnan(src) | np.isnan(dst))
    src, dst = src[keep].astype(int), dst[keep].astype(int)
    graph = coo_matrix((np.ones(len(src)), (src, dst)), shape=(n, n)).tocsr()
    graph = (graph + graph.T).tocsr()
    _, labels = connected_components(graph, directed=False)

    prod = assets["environment"].eq("production").to_numpy()
    rank = assets["business_criticality"].map(CRITICALITY_RANK).fillna(1).to_numpy()
    comp = pd.DataFrame({"label": labels, "prod": prod, "rank": rank})
    stats = comp.groupby("label").agg(size=("prod", "size"), prod=("prod", "max"), rank=("rank", "max"))
    stats["pilot"] = (~stats["prod"]) & (stats["rank"] <= 1) & (stats["size"] <= max(1, max_size // 2))
    stats = stats.sort_values(
        ["pilot", "prod", "rank", "size"], ascending=[False, True, True, True], kind="stable"
    )

    wave_of = np.zeros(n, dtype=np.int64)
    room: list[int] = []  # free slots per wave (index = wave - 1)
    members_by_label = pd.Series(np.arange(n)).groupby(labels).apply(np.asarray)
    for label in stats.index:
        members = members_by_label[label]
        if len(members) > max_size:
            order, _ = breadth_first_order(graph, members[0], directed=False)
            members = np.asarray(order)
        for start in range(0, len(members), max_size):
            piece = members[start : start + max_size]
            target = next((i for i, free in enumerate(room) if free >= len(piece)), None)
            if target is None:
                room.append(max_size)
                target = len(room) - 1
            room[target] -= len(piece)
            wave_of[piece] = target + 1
    return pd.Series(wave_of, index=assets.index)


def cross_wave_dependencies(edges: pd.DataFrame, wave_by_id: pd.Series) -> pd.DataFrame:
    """Dependencies whose two ends sit in different waves (each one a coordination point)."""
    frame = edges.assign(
        source_wave=edges["source_asset_id"].map(wave_by_id),
        target_wave=edges["target_asset_id"].map(wave_by_id),
    )
    frame = frame.dropna(subset=["source_wave", "target_wave"])
    return frame[frame["source_wave"] != frame["target_wave"]]


def plan(session: Session, ctx: PhaseContext) -> dict[str, Any]:
    """Group the run's moving assets into bounded, dependency-aware waves and store them."""
    max_size = int(ctx.params.get("max_wave_size") or 25)
    assets = load_assets(
        session=session,
        master_flow_id=ctx.assets_run_id,
        columns=["asset_name", "environment", "business_criticality", "six_r_strategy"],
    )
    moving = assets[assets["six_r_strategy"].isin(MOVING)].reset_index(drop=True)
    edges = load_dependency_edges(session=session, master_flow_id=ctx.assets_run_id)
    waves = plan_waves(moving, edges, max_size)
    moving["wave_number"] = waves.to_numpy()
    sizes = moving["wave_number"].value_counts().sort_index()
    rows = replace_waves(
        session=session,
        tenant=ctx.tenant,
        master_flow_id=ctx.assets_run_id,
        waves=[
            {
                "number": int(k),
                "name": f"Wave {int(k)}" + (" (pilot)" if k == 1 else ""),
                "status": "planned",
                "asset_count": int(v),
                "metrics": {"max_size": max_size},
            }
            for k, v in sizes.items()
        ],
    )
    wave_ids = {w.number: w.id for w in rows}
    moving["wave_id"] = moving["wave_number"].map(wave_ids)
    moving["wave"] = "Wave " + moving["wave_number"].astype(str)
    update_assets(session=session, frame=moving, columns=["wave_id", "wave"])
    crossing = cross_wave_dependencies(edges, moving.set_index("id")["wave_number"])
    return {
        "waves": len(rows),
        "assets_in_waves": len(moving),
        "max_wave_size": max_size,
        "largest_wave": int(sizes.max()) if len(sizes) else 0,
        "cross_wave_dependencies": len(crossing),
        "not_moving": int(len(assets) - len(moving)),
    }


wave_planning = step_task(ASSESSMENT, "wave_planning", plan)
