"""Registered inventory/dependency sources of an engagement."""

from __future__ import annotations

from sqlalchemy import func, select, text, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from db.models import EngagementSource
from db.models.sources import SOURCE_KINDS
from db.session import Tenant


def register_source(
    *,
    session: Session,
    tenant: Tenant,
    kind: str,
    location: str,
    registered_by: str | None = None,
    replace_inventory: bool = True,
) -> None:
    """Register (or re-activate) ``location`` as a ``kind`` source of the tenant's engagement.

    A new inventory export replaces the current ones (they stay on record, inactive) unless
    ``replace_inventory`` is false: an engagement may read several inventories at once (RVTools and
    a CMDB extract, say), which discovery imports together and de-duplicates. Dependency exports
    always add up.
    """
    if kind not in SOURCE_KINDS:
        raise ValueError(f"source kind must be one of {SOURCE_KINDS}, got {kind!r}")
    if kind == "inventory" and replace_inventory:
        session.execute(
            update(EngagementSource)
            .where(EngagementSource.kind == kind, EngagementSource.location != location)
            .values(active=False)
        )
    statement = insert(EngagementSource).values(
        client_account_id=tenant.client_account_id,
        engagement_id=tenant.engagement_id,
        kind=kind,
        location=location,
        active=True,
        registered_by=registered_by,
        # clock time, not the transaction's: sources given in one call keep their order (the order
        # in which discovery reads them, which breaks ties when duplicates merge)
        created_at=func.clock_timestamp(),
    )
    session.execute(
        statement.on_conflict_do_update(
            index_elements=["engagement_id", "kind", "location"], set_={"active": True}
        )
    )


def deactivate_source(*, session: Session, kind: str, location: str) -> int:
    found = session.scalars(
        select(EngagementSource).where(EngagementSource.kind == kind, EngagementSource.location == location)
    ).all()
    for source in found:
        source.active = False
    return len(found)


def active_sources(*, session: Session) -> dict[str, list[str]]:
    """The engagement's active locations by kind, in registration order."""
    found = session.scalars(
        select(EngagementSource)
        .where(EngagementSource.active)
        .order_by(EngagementSource.created_at, EngagementSource.location)
    ).all()
    by_kind: dict[str, list[str]] = {kind: [] for kind in SOURCE_KINDS}
    for source in found:
        by_kind[source.kind].append(source.location)
    return by_kind


def engagements_with_sources(*, session: Session) -> list[tuple[str, str]]:
    """(client, engagement) names of every engagement with an active inventory source."""
    rows = session.execute(
        text("SELECT client_name, engagement_name FROM migration.engagements_with_sources()")
    )
    return [(r[0], r[1]) for r in rows]
