"""Migration waves of a run."""

from __future__ import annotations

import uuid
from typing import Any

from psycopg.types.json import Jsonb
from sqlalchemy import delete, select, text
from sqlalchemy.orm import Session

from db.models import MigrationWave
from db.repositories.bulk import refresh_statistics, update_from_rows
from db.session import Tenant

WAVE_JSON_COLUMNS = frozenset({"metrics"})
#: Waves are few next to assets; a plan of this many is big enough for stale statistics to mislead joins.
WAVE_STATISTICS_THRESHOLD = 200


def replace_waves(
    *, session: Session, tenant: Tenant, master_flow_id: uuid.UUID, waves: list[dict[str, Any]]
) -> list[MigrationWave]:
    """Insert the run's waves (any earlier plan of the same run is removed first)."""
    session.execute(
        text("UPDATE migration.assets SET wave_id = NULL WHERE master_flow_id = :m AND wave_id IS NOT NULL"),
        {"m": master_flow_id},
    )
    session.execute(delete(MigrationWave).where(MigrationWave.master_flow_id == master_flow_id))
    rows = [
        MigrationWave(
            id=uuid.uuid4(),
            client_account_id=tenant.client_account_id,
            engagement_id=tenant.engagement_id,
            master_flow_id=master_flow_id,
            **w,
        )
        for w in waves
    ]
    session.add_all(rows)
    session.flush()
    if len(rows) >= WAVE_STATISTICS_THRESHOLD:
        refresh_statistics(session=session, table="migration_waves")
    return rows


def load_waves(*, session: Session, master_flow_id: uuid.UUID) -> list[MigrationWave]:
    return list(
        session.scalars(
            select(MigrationWave)
            .where(MigrationWave.master_flow_id == master_flow_id)
            .order_by(MigrationWave.number)
        )
    )


def update_waves(*, session: Session, changes: list[dict[str, Any]]) -> int:
    """Set new values on many waves in one statement; each change has ``id`` and the same columns.

    Steps that touch every wave (thousands at 100k assets) must not issue one UPDATE per wave:
    each statement fires change capture, so this keeps them set-based like asset updates.
    """
    if not changes:
        return 0
    columns = [c for c in changes[0] if c != "id"]
    rows = (
        [change["id"], *(Jsonb(change[c]) if c in WAVE_JSON_COLUMNS else change[c] for c in columns)]
        for change in changes
    )
    updated = update_from_rows(session=session, table="migration_waves", columns=columns, rows=rows)
    session.expire_all()  # loaded MigrationWave objects are stale now
    return updated
