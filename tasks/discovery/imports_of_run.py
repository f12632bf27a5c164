"""The imports one discovery run made (later steps find their input here)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from db.models import DataImport
from tasks.phases import PhaseContext

INVENTORY, DEPENDENCIES = "inventory", "dependencies"


def run_imports(session: Session, ctx: PhaseContext, kind: str) -> list[DataImport]:
    return list(
        session.scalars(
            select(DataImport)
            .where(DataImport.phase_flow_id == ctx.phase_flow_id, DataImport.source_kind == kind)
            .order_by(DataImport.created_at, DataImport.source_name)
        )
    )
