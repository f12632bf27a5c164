"""Assets and dependencies, written in bulk (COPY / set-based SQL)."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import pandas as pd
from psycopg.types.json import Jsonb
from sqlalchemy import text
from sqlalchemy.orm import Session

from db.models import Asset
from db.repositories.bulk import STATISTICS_THRESHOLD, copy_into, refresh_statistics, update_from_rows
from db.session import Tenant

ASSET_COLUMNS = frozenset(c.name for c in Asset.__table__.columns)
JSON_COLUMNS = frozenset({"tags", "custom_attributes", "provenance"})


def _python(value: Any) -> Any:
    """pandas/numpy scalars -> plain Python values psycopg can dump."""
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, float) and value != value:
        return None
    if hasattr(value, "item") and not isinstance(value, dt.date):
        return value.item()
    return value


def copy_assets(*, session: Session, tenant: Tenant, frame: pd.DataFrame) -> list[uuid.UUID]:
    """COPY ``frame`` (columns named like assets columns; others ignored) into assets."""
    columns = [
        c
        for c in frame.columns
        if c in ASSET_COLUMNS and c not in ("id", "client_account_id", "engagement_id")
    ]
    ids = [uuid.uuid4() for _ in range(len(frame))]
    values = frame[columns].astype(object).to_numpy()
    json_positions = [i for i, c in enumerate(columns) if c in JSON_COLUMNS]

    def rows() -> Any:
        for asset_id, row in zip(ids, values, strict=True):
            cells = [_python(v) for v in row]
            for i in json_positions:
                if cells[i] is not None:
                    cells[i] = Jsonb(cells[i])
            yield (asset_id, tenant.client_account_id, tenant.engagement_id, *cells)

    copy_into(
        session=session,
        table="assets",
        columns=["id", "client_account_id", "engagement_id", *columns],
        rows=rows(),
    )
    return ids


def count_assets(*, session: Session, master_flow_id: uuid.UUID) -> int:
    return int(
        session.execute(
            text("SELECT count(*) FROM migration.assets WHERE master_flow_id = :m"), {"m": master_flow_id}
        ).scalar_one()
    )


def link_dependencies(
    *,
    session: Session,
    tenant: Tenant,
    master_flow_id: uuid.UUID,
    data_import_id: uuid.UUID,
    source_column: str,
    target_column: str,
    type_column: str | None,
    port_column: str | None,
    protocol_column: str | None,
) -> dict[str, int]:
    """Create asset_dependencies from a dependency import by matching names (set-based).

    Names match an asset's asset_name, hostname or FQDN (case-insensitive); rows whose ends
    do not both match an asset of this run are counted as unresolved, not guessed.
    """

    def field(column: str | None) -> str:
        return "NULL" if column is None else f"NULLIF(btrim(r.record ->> {_quote(column)}), '')"

    sql = f"""
    WITH names AS (
        SELECT DISTINCT ON (key) key, id FROM (
            SELECT lower(asset_name) AS key, id, 1 AS pref FROM migration.assets WHERE master_flow_id = :m
            UNION ALL SELECT lower(hostname), id, 2 FROM migration.assets
             WHERE master_flow_id = :m AND hostname IS NOT NULL
            UNION ALL SELECT lower(fqdn), id, 3 FROM migration.assets
             WHERE master_flow_id = :m AND fqdn IS NOT NULL
        ) k ORDER BY key, pref
    ), edges AS (
        SELECT r.row_number, s.id AS source_id, t.id AS target_id,
               coalesce({field(type_column)}, 'network') AS dependency_type,
               CASE WHEN {field(port_column)} ~ '^[0-9]{{1,5}}$' THEN ({field(port_column)})::int END AS port,
               lower({field(protocol_column)}) AS protocol
          FROM migration.raw_import_records r
          LEFT JOIN names s ON s.key = lower(btrim(r.record ->> {_quote(source_column)}))
          LEFT JOIN names t ON t.key = lower(btrim(r.record ->> {_quote(target_column)}))
         WHERE r.data_import_id = :d AND r.is_valid
    ), inserted AS (
        INSERT INTO migration.asset_dependencies
            (id, client_account_id, engagement_id, source_asset_id, target_asset_id, dependency_type,
             port, protocol, evidence, confidence, data_import_id)
        SELECT gen_random_uuid(), :c, :e, source_id, target_id, min(dependency_type), min(port),
               min(protocol), jsonb_build_object('rows', array_agg(row_number ORDER BY row_number)),
               1.0, :d
          FROM edges
         WHERE source_id IS NOT NULL AND target_id IS NOT NULL AND source_id <> target_id
         GROUP BY source_id, target_id
        RETURNING 1
    )
    SELECT (SELECT count(*) FROM inserted) AS created,
           (SELECT count(*) FROM edges WHERE source_id IS NULL OR target_id IS NULL) AS unresolved,
           (SELECT count(*) FROM edges) AS rows
    """
    row = session.execute(
        text(sql),
        {"m": master_flow_id, "d": data_import_id, "c": tenant.client_account_id, "e": tenant.engagement_id},
    ).one()
    if row.created >= STATISTICS_THRESHOLD:
        refresh_statistics(session=session, table="asset_dependencies")
    return {"created": int(row.created), "unresolved": int(row.unresolved), "rows": int(row.rows)}


def _quote(literal: str) -> str:
    return "'" + literal.replace("'", "''") + "'"


def load_assets(*, session: Session, master_flow_id: uuid.UUID, columns: list[str]) -> pd.DataFrame:
    """The run's assets as a frame (``id`` + ``columns``), ordered by name for determinism."""
    unknown = set(columns) - ASSET_COLUMNS
    if unknown:
        raise ValueError(f"not asset columns: {sorted(unknown)}")
    names = ", ".join(["id", *columns])
    result = session.execute(
        text(f"SELECT {names} FROM migration.assets WHERE master_flow_id = :m ORDER BY asset_name, id"),
        {"m": master_flow_id},
    )
    return pd.DataFrame(result.fetchall(), columns=list(result.keys()))


def load_dependency_edges(*, session: Session, master_flow_id: uuid.UUID) -> pd.DataFrame:
    result = session.execute(
        text(
            "SELECT d.source_asset_id, d.target_asset_id FROM migration.asset_dependencies d"
            " JOIN migration.assets a ON a.id = d.source_asset_id WHERE a.master_flow_id = :m"
        ),
        {"m": master_flow_id},
    )
    return pd.DataFrame(result.fetchall(), columns=["source_asset_id", "target_asset_id"])


def update_assets(*, session: Session, frame: pd.DataFrame, columns: list[str]) -> int:
    """Write ``columns`` of ``frame`` (which has ``id``) back to assets, set-based."""
    values = frame[["id", *columns]].astype(object).to_numpy()
    json_positions = [i + 1 for i, c in enumerate(columns) if c in JSON_COLUMNS]

    def rows() -> Any:
        for row in values:
            cells = [_python(v) for v in row]
            for i in json_positions:
                if cells[i] is not None:
                    cells[i] = Jsonb(cells[i])
            yield cells

    return update_from_rows(session=session, table="assets", columns=columns, rows=rows())
