"""Read-only aggregates of one run's data for the reports people read in the Prefect UI.

Why a module of its own: every figure a phase summary shows is computed here, in SQL, scoped
to one master run, so the report costs a handful of grouped queries whatever the asset count
(nothing loads 100k rows into Python just to count them), and the numbers come from the same
tables the next phase reads.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import pandas as pd
from sqlalchemy import text
from sqlalchemy.orm import Session

# Server-like assets are expected to carry an operating system.
OS_BEARING_TYPES = ("server", "virtual_machine")
NOT_MOVING = ("retire", "retain")


def _frame(session: Session, sql: str, **params: Any) -> pd.DataFrame:
    result = session.execute(text(sql), params)
    return pd.DataFrame(result.fetchall(), columns=list(result.keys()))


def asset_breakdown(*, session: Session, master_flow_id: uuid.UUID) -> pd.DataFrame:
    """Asset counts by type, OS family and environment (``unknown`` where not recorded)."""
    return _frame(
        session,
        """
        SELECT asset_type, coalesce(os_family, 'unknown') AS os_family,
               coalesce(environment, 'unknown') AS environment, count(*) AS assets
          FROM migration.assets WHERE master_flow_id = :m
         GROUP BY 1, 2, 3 ORDER BY assets DESC, 1, 2, 3
        """,
        m=master_flow_id,
    )


def mapping_proposals(*, session: Session, master_flow_id: uuid.UUID) -> pd.DataFrame:
    """Every column of every imported sheet of the run with its proposed field, in file order."""
    return _frame(
        session,
        """
        SELECT d.source_kind AS kind, d.source_name AS file, m.sheet_name AS sheet,
               m.source_column, m.target_field, m.confidence, m.method, m.confirmed_by_user
          FROM migration.import_field_mappings m
          JOIN migration.data_imports d ON d.id = m.data_import_id
          LEFT JOIN LATERAL (
                SELECT c.ord FROM jsonb_array_elements(d.sheets) s,
                       jsonb_array_elements_text(s -> 'columns') WITH ORDINALITY AS c(name, ord)
                 WHERE s ->> 'name' = m.sheet_name AND c.name = m.source_column
                 LIMIT 1) position ON true
         WHERE d.master_flow_id = :m
         ORDER BY d.created_at, d.source_name, m.sheet_name, position.ord, m.source_column
        """,
        m=master_flow_id,
    )


def asset_attention(
    *, session: Session, master_flow_id: uuid.UUID, low_confidence: float, today: dt.date
) -> dict[str, int]:
    """Counts of assets in states someone should look at (one pass over the run's assets)."""
    row = (
        session.execute(
            text(
                """
                SELECT count(*) AS assets,
                       count(*) FILTER (WHERE six_r_strategy IS NULL) AS without_strategy,
                       count(*) FILTER (WHERE six_r_strategy IS NOT NULL AND NOT six_r_locked
                                          AND coalesce(six_r_confidence, 0) < :low) AS low_confidence,
                       count(*) FILTER (WHERE six_r_locked) AS locked,
                       count(*) FILTER (WHERE end_of_support_date IS NOT NULL) AS with_lifecycle,
                       count(*) FILTER (WHERE os_name IS NOT NULL AND end_of_support_date IS NULL)
                           AS os_lifecycle_unknown,
                       count(*) FILTER (WHERE os_name IS NULL AND asset_type = ANY(:os_types)) AS without_os,
                       count(*) FILTER (WHERE end_of_support_date < :today) AS end_of_support_past,
                       count(*) FILTER (WHERE end_of_support_date >= :today
                                          AND end_of_support_date < :today + interval '1 year')
                           AS end_of_support_within_a_year,
                       count(*) FILTER (WHERE six_r_strategy IS NOT NULL
                                          AND six_r_strategy <> ALL(:not_moving)) AS moving,
                       count(*) FILTER (WHERE six_r_strategy <> ALL(:not_moving)
                                          AND target_instance_type IS NULL) AS moving_without_target,
                       count(*) FILTER (WHERE six_r_strategy <> ALL(:not_moving)
                                          AND cpu_utilization_peak IS NULL) AS moving_without_utilisation,
                       count(*) FILTER (WHERE six_r_strategy <> ALL(:not_moving)
                                          AND wave_id IS NULL) AS moving_without_wave
                  FROM migration.assets WHERE master_flow_id = :m
                """
            ),
            {
                "m": master_flow_id,
                "low": low_confidence,
                "today": today,
                "os_types": list(OS_BEARING_TYPES),
                "not_moving": list(NOT_MOVING),
            },
        )
        .one()
        ._mapping
    )
    return {k: int(v) for k, v in row.items()}


def strategy_counts(*, session: Session, master_flow_id: uuid.UUID) -> pd.DataFrame:
    """Assets per 6R strategy and decider, with mean confidence and how many are locked."""
    return _frame(
        session,
        """
        SELECT coalesce(six_r_strategy, 'undecided') AS strategy,
               coalesce(six_r_decided_by, '-') AS decided_by, count(*) AS assets,
               round(avg(six_r_confidence)::numeric, 2)::float AS mean_confidence,
               count(*) FILTER (WHERE six_r_locked) AS locked
          FROM migration.assets WHERE master_flow_id = :m
         GROUP BY 1, 2 ORDER BY assets DESC, 1, 2
        """,
        m=master_flow_id,
    )


def six_r_decisions(*, session: Session, master_flow_id: uuid.UUID, limit: int) -> pd.DataFrame:
    """Per-asset 6R decisions, the least certain first (those are the ones to review)."""
    return _frame(
        session,
        """
        SELECT asset_name, asset_type, environment, six_r_strategy AS strategy,
               six_r_confidence AS confidence, six_r_decided_by AS decided_by, six_r_locked AS locked,
               wave, six_r_rationale AS rationale
          FROM migration.assets WHERE master_flow_id = :m
         ORDER BY six_r_strategy IS NOT NULL, six_r_confidence ASC NULLS FIRST, asset_name, id
         LIMIT :limit
        """,
        m=master_flow_id,
        limit=limit,
    )


def wave_summary(*, session: Session, master_flow_id: uuid.UUID) -> pd.DataFrame:
    """One row per wave: dates, size, strategy mix, effort, run-rate and milestones."""
    return _frame(
        session,
        """
        WITH mix AS (
            SELECT wave_id, six_r_strategy, count(*) AS n,
                   sum(estimated_migration_effort_hours) AS effort,
                   sum(estimated_monthly_cost) AS cost
              FROM migration.assets WHERE master_flow_id = :m AND wave_id IS NOT NULL
             GROUP BY 1, 2
        ), per_wave AS (
            SELECT wave_id,
                   string_agg(six_r_strategy || ' ' || n, ', ' ORDER BY n DESC, six_r_strategy) AS strategies,
                   sum(effort) AS effort_hours, sum(cost) AS monthly_cost
              FROM mix GROUP BY 1
        )
        SELECT w.number, w.name, w.status, w.planned_start, w.planned_end, w.asset_count AS assets,
               p.strategies, round(p.effort_hours::numeric, 1)::float AS effort_hours,
               (w.metrics ->> 'hours_per_week')::float AS hours_per_week,
               round(p.monthly_cost::numeric, 2)::float AS monthly_cost_usd,
               w.metrics -> 'timeline' AS timeline
          FROM migration.migration_waves w LEFT JOIN per_wave p ON p.wave_id = w.id
         WHERE w.master_flow_id = :m
         ORDER BY w.number
        """,
        m=master_flow_id,
    )


def cross_wave_links(*, session: Session, master_flow_id: uuid.UUID) -> pd.DataFrame:
    """Dependencies between assets of different waves, counted per (from wave, to wave)."""
    return _frame(
        session,
        """
        SELECT ws.number AS from_wave, wt.number AS to_wave, count(*) AS dependencies
          FROM migration.asset_dependencies d
          JOIN migration.assets s ON s.id = d.source_asset_id
          JOIN migration.assets t ON t.id = d.target_asset_id
          JOIN migration.migration_waves ws ON ws.id = s.wave_id
          JOIN migration.migration_waves wt ON wt.id = t.wave_id
         WHERE s.master_flow_id = :m AND s.wave_id <> t.wave_id
         GROUP BY 1, 2 ORDER BY dependencies DESC, 1, 2
        """,
        m=master_flow_id,
    )


# An asset's group in the dependency picture: its application, or "<type> without application".
_GROUP = "coalesce(nullif(btrim({a}.application_name), ''), {a}.asset_type || ' (no application)')"


def dependency_groups(*, session: Session, master_flow_id: uuid.UUID) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The dependency graph aggregated to groups: ``(nodes[group, assets], edges[source, target, n])``.

    Two grouped queries: the picture never needs the individual assets or edges.
    """
    nodes = _frame(
        session,
        f"SELECT {_GROUP.format(a='a')} AS grp, count(*) AS assets FROM migration.assets a"
        " WHERE a.master_flow_id = :m GROUP BY 1 ORDER BY 1",
        m=master_flow_id,
    )
    edges = _frame(
        session,
        f"""
        SELECT {_GROUP.format(a="s")} AS source, {_GROUP.format(a="t")} AS target, count(*) AS dependencies
          FROM migration.asset_dependencies d
          JOIN migration.assets s ON s.id = d.source_asset_id
          JOIN migration.assets t ON t.id = d.target_asset_id
         WHERE s.master_flow_id = :m
         GROUP BY 1, 2 ORDER BY 1, 2
        """,
        m=master_flow_id,
    )
    return nodes.rename(columns={"grp": "group"}), edges


def modernization_candidates(*, session: Session, master_flow_id: uuid.UUID, limit: int) -> pd.DataFrame:
    """Assets the modernization phase marked, with the step and the reason."""
    return _frame(
        session,
        """
        SELECT asset_name, asset_type, application_name, six_r_strategy AS strategy,
               custom_attributes -> 'modernization' ->> 'reason' AS reason, wave
          FROM migration.assets
         WHERE master_flow_id = :m AND custom_attributes ? 'modernization'
         ORDER BY six_r_strategy, asset_name, id
         LIMIT :limit
        """,
        m=master_flow_id,
        limit=limit,
    )


def count_modernization_candidates(*, session: Session, master_flow_id: uuid.UUID) -> dict[str, int]:
    rows = session.execute(
        text(
            "SELECT six_r_strategy, count(*) FROM migration.assets"
            " WHERE master_flow_id = :m AND custom_attributes ? 'modernization' GROUP BY 1 ORDER BY 1"
        ),
        {"m": master_flow_id},
    ).all()
    return {str(r[0]): int(r[1]) for r in rows}


def operating_systems_without_lifecycle(
    *, session: Session, master_flow_id: uuid.UUID, limit: int
) -> pd.DataFrame:
    """The OS names with no end-of-support date, most common first (reference data to extend)."""
    return _frame(
        session,
        """
        SELECT os_name, count(*) AS assets FROM migration.assets
         WHERE master_flow_id = :m AND os_name IS NOT NULL AND end_of_support_date IS NULL
         GROUP BY 1 ORDER BY assets DESC, 1 LIMIT :limit
        """,
        m=master_flow_id,
        limit=limit,
    )
