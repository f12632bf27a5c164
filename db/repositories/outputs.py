"""What each phase produced, as frames for its quality gate and as handoff package summaries."""

from __future__ import annotations

import uuid
from typing import Any

import pandas as pd
from sqlalchemy import text
from sqlalchemy.orm import Session

# One query per phase: the rows its gate validates (all scoped to one master run).
GATE_QUERIES: dict[str, str] = {
    "discovery": """
        SELECT id, asset_name, lower(asset_name) AS asset_key, asset_type, cpu_cores, memory_gb,
               completeness_score
          FROM migration.assets WHERE master_flow_id = :m""",
    "assessment": """
        SELECT a.id, a.asset_name, a.six_r_strategy, a.six_r_rationale, a.six_r_confidence, a.wave_id,
               w.number AS wave_number, w.asset_count AS wave_size,
               (w.metrics ->> 'max_size')::int AS max_size
          FROM migration.assets a LEFT JOIN migration.migration_waves w ON w.id = a.wave_id
         WHERE a.master_flow_id = :m""",
    "planning": """
        SELECT id, asset_name, six_r_strategy, target_provider, target_region, target_instance_type,
               target_vcpu, target_memory_gb, target_storage_type, estimated_monthly_cost,
               estimated_migration_effort_hours
          FROM migration.assets WHERE master_flow_id = :m AND six_r_strategy NOT IN ('retire', 'retain')""",
    "execution": """
        SELECT w.number AS wave_number, w.status, jsonb_array_length(w.metrics -> 'runbook') AS runbook_steps,
               (w.metrics -> 'execution' ->> 'failed_steps')::int AS failed_steps
          FROM migration.migration_waves w WHERE w.master_flow_id = :m""",
    "modernization": """
        SELECT id, asset_name, six_r_strategy, custom_attributes -> 'modernization' ->> 'reason' AS reason
          FROM migration.assets
         WHERE master_flow_id = :m AND six_r_strategy IN ('refactor', 'rearchitect', 'rewrite')""",
}


def gate_frame(*, session: Session, master_flow_id: uuid.UUID, phase: str) -> pd.DataFrame:
    result = session.execute(text(GATE_QUERIES[phase]), {"m": master_flow_id})
    return pd.DataFrame(result.fetchall(), columns=list(result.keys()))


def package_summary(*, session: Session, master_flow_id: uuid.UUID) -> dict[str, Any]:
    """Counts and checksums of the run's data, so the next phase can tell what it was given."""
    row = session.execute(
        text(
            """
            SELECT (SELECT count(*) FROM migration.assets WHERE master_flow_id = :m) AS assets,
                   (SELECT md5(coalesce(string_agg(id::text || coalesce(six_r_strategy, '') ||
                                 coalesce(wave_id::text, '') || coalesce(target_instance_type, ''),
                                 ',' ORDER BY id), ''))
                      FROM migration.assets WHERE master_flow_id = :m) AS assets_checksum,
                   (SELECT count(*) FROM migration.asset_dependencies d
                      JOIN migration.assets a ON a.id = d.source_asset_id WHERE a.master_flow_id = :m)
                       AS dependencies,
                   (SELECT count(*) FROM migration.migration_waves WHERE master_flow_id = :m) AS waves,
                   (SELECT array_agg(id ORDER BY created_at) FROM migration.data_imports
                     WHERE master_flow_id = :m) AS data_import_ids
            """
        ),
        {"m": master_flow_id},
    ).one()
    return {
        "assets": int(row.assets),
        "assets_checksum": row.assets_checksum,
        "dependencies": int(row.dependencies),
        "waves": int(row.waves),
        "data_import_ids": [str(i) for i in row.data_import_ids or []],
    }
