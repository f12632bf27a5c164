"""Resolving tenant names to ids through the owner's directory functions."""

from __future__ import annotations

import uuid

from sqlalchemy import text
from sqlalchemy.orm import Session

from db.session import Tenant
from mfactory.errors import TenantContextError


def ensure_tenant(*, session: Session, client: str, engagement: str, create: bool = True) -> Tenant:
    """Return the tenant named ``client`` / ``engagement``, creating it if asked."""
    if not client.strip() or not engagement.strip():
        raise TenantContextError("client and engagement names must not be empty")
    row = session.execute(
        text("SELECT client_account_id, engagement_id FROM migration.ensure_engagement(:c, :e, :k)"),
        {"c": client.strip(), "e": engagement.strip(), "k": create},
    ).one_or_none()
    if row is None:
        raise TenantContextError(f"no engagement {engagement!r} for client {client!r}")
    return Tenant(client_account_id=row[0], engagement_id=row[1])


def locate_master_flow(
    *, session: Session, master_flow_id: uuid.UUID | None
) -> tuple[uuid.UUID, Tenant] | None:
    """The tenant of a master run (or of the latest run when no id is given)."""
    row = session.execute(
        text("SELECT master_flow_id, client_account_id, engagement_id FROM migration.locate_master_flow(:m)"),
        {"m": master_flow_id},
    ).one_or_none()
    if row is None:
        return None
    return row[0], Tenant(client_account_id=row[1], engagement_id=row[2])
