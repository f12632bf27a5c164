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
from db.repositories.bulk import copy_into, update_from_rows
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
