"""The current wave plan of an engagement, as the ``mfactory export waves`` contract needs it."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from db.models import FlowHandoff, PhaseFlow


def plan_run(*, session: Session, master_flow_id: uuid.UUID | None) -> uuid.UUID | None:
    """The run whose assets carry the plan: of the given master run's assessment, else the latest.

    Waves live with the assets they group (the discovery run's id); a later assessment re-run
    re-plans those same assets, so the handoff out of assessment says where the plan is.
    """
    query = (
        select(FlowHandoff.package)
        .join(PhaseFlow, PhaseFlow.id == FlowHandoff.source_phase_flow_id)
        .where(FlowHandoff.source_phase == "assessment", FlowHandoff.status.in_(("accepted", "consumed")))
        .order_by(FlowHandoff.created_at.desc())
        .limit(1)
    )
    if master_flow_id is not None:
        query = query.where(PhaseFlow.master_flow_id == master_flow_id)
    package = session.scalars(query).first()
    return uuid.UUID(package["assets_run_id"]) if package else None


def wave_plan(*, session: Session, run_id: uuid.UUID) -> dict[str, Any]:
    """``{"max_wave_size", "waves": [...], "cross_wave_dependencies": [...]}`` for one run (3 queries)."""
    waves = session.execute(
        text(
            "SELECT id, number, name, planned_start, planned_end, (metrics->>'max_size')::int AS max_size"
            " FROM migration.migration_waves WHERE master_flow_id = :m ORDER BY number"
        ),
        {"m": run_id},
    ).all()
    assets = session.execute(
        text(
            "SELECT wave_id, asset_name, six_r_strategy, six_r_rationale FROM migration.assets"
            " WHERE master_flow_id = :m AND wave_id IS NOT NULL ORDER BY asset_name, id"
        ),
        {"m": run_id},
    ).all()
    crossing = session.execute(
        text(
            "SELECT s.asset_name AS source, t.asset_name AS target, ws.number AS source_wave,"
            "       wt.number AS target_wave, d.dependency_type, d.port"
            "  FROM migration.asset_dependencies d"
            "  JOIN migration.assets s ON s.id = d.source_asset_id"
            "  JOIN migration.assets t ON t.id = d.target_asset_id"
            "  JOIN migration.migration_waves ws ON ws.id = s.wave_id"
            "  JOIN migration.migration_waves wt ON wt.id = t.wave_id"
            " WHERE s.master_flow_id = :m AND s.wave_id <> t.wave_id"
            " ORDER BY ws.number, wt.number, s.asset_name, t.asset_name"
        ),
        {"m": run_id},
    ).all()
    by_wave: dict[uuid.UUID, list[dict[str, Any]]] = {}
    for a in assets:
        by_wave.setdefault(a.wave_id, []).append(
            {"asset_name": a.asset_name, "six_r_strategy": a.six_r_strategy, "rationale": a.six_r_rationale}
        )
    return {
        "max_wave_size": max((w.max_size for w in waves if w.max_size is not None), default=None),
        "waves": [
            {
                "number": w.number,
                "name": w.name,
                "start": w.planned_start.isoformat() if w.planned_start else None,
                "end": w.planned_end.isoformat() if w.planned_end else None,
                "assets": by_wave.get(w.id, []),
            }
            for w in waves
        ],
        "cross_wave_dependencies": [dict(c._mapping) for c in crossing],
    }
