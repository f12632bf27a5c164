"""Migration waves of a run."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import delete, select, text, update
from sqlalchemy.orm import Session

from db.models import MigrationWave
from db.session import Tenant


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
    return rows


def load_waves(*, session: Session, master_flow_id: uuid.UUID) -> list[MigrationWave]:
    return list(
        session.scalars(
            select(MigrationWave)
            .where(MigrationWave.master_flow_id == master_flow_id)
            .order_by(MigrationWave.number)
        )
    )


def set_wave(*, session: Session, wave_id: uuid.UUID, **values: Any) -> None:
    session.execute(update(MigrationWave).where(MigrationWave.id == wave_id).values(**values))
