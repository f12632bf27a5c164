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


MAIN_GATE_FRAME = "main"

# Further frames a phase's gate checks, by name (expectations with ``"frame": name``).
#
# assessment ``waves``: one row per wave of the run, with what its members really add up to (not
# what the planner wrote down), its limits in the planner's own integer milli-GB, and whether the
# planner declared and explained an overflow. The planner may only leave a wave over its limits
# when one asset alone is over them or users pinned more than fits (``metrics.note``, and then the
# wave has one member or pinned assets); any other overflow is a violation. ``recorded_assets`` vs
# ``member_assets`` and ``members_of_other_runs`` catch an asset counted in a wave it is not in.
GATE_FRAME_QUERIES: dict[str, dict[str, str]] = {
    "assessment": {
        "waves": """
        SELECT w.id, w.number, w.asset_count AS recorded_assets, count(a.id) AS member_assets,
               count(a.id) FILTER (WHERE a.master_flow_id IS DISTINCT FROM w.master_flow_id)
                   AS members_of_other_runs,
               (w.metrics ->> 'max_size')::int AS max_servers,
               round((w.metrics ->> 'max_ram_gb')::float8 * 1000)::bigint AS max_ram_milli_gb,
               round((w.metrics ->> 'max_storage_gb')::float8 * 1000)::bigint AS max_storage_milli_gb,
               coalesce(sum(round(greatest(coalesce(a.memory_gb, 0), 0) * 1000)), 0)::bigint AS ram_milli_gb,
               coalesce(sum(round(greatest(coalesce(a.storage_gb, 0), 0) * 1000)), 0)::bigint
                   AS storage_milli_gb,
               w.metrics ->> 'note' AS planner_note,
               coalesce(NOT (w.metrics ->> 'within_limits')::boolean
                        AND w.metrics ->> 'note' IS NOT NULL
                        AND (count(a.id) = 1 OR coalesce((w.metrics ->> 'pinned_assets')::int, 0) > 0),
                        false) AS overflow_explained
          FROM migration.migration_waves w LEFT JOIN migration.assets a ON a.wave_id = w.id
         WHERE w.master_flow_id = :m
         GROUP BY w.id ORDER BY w.number""",
    },
}


def gate_frame(*, session: Session, master_flow_id: uuid.UUID, phase: str) -> pd.DataFrame:
    """The phase's main gate frame (one row per asset for most phases)."""
    return _query_frame(session, GATE_QUERIES[phase], master_flow_id)


def gate_frames(*, session: Session, master_flow_id: uuid.UUID, phase: str) -> dict[str, pd.DataFrame]:
    """Every frame the phase's gate checks: the main one plus the phase's named frames."""
    frames = {MAIN_GATE_FRAME: gate_frame(session=session, master_flow_id=master_flow_id, phase=phase)}
    for name, sql in GATE_FRAME_QUERIES.get(phase, {}).items():
        frames[name] = _query_frame(session, sql, master_flow_id)
    return frames


def _query_frame(session: Session, sql: str, master_flow_id: uuid.UUID) -> pd.DataFrame:
    result = session.execute(text(sql), {"m": master_flow_id})
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
