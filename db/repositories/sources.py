"""Registered inventory/dependency sources of an engagement."""

from __future__ import annotations

from sqlalchemy import select, text, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from db.models import EngagementSource
from db.models.sources import SOURCE_KINDS
from db.session import Tenant


def register_source(
    *, session: Session, tenant: Tenant, kind: str, location: str, registered_by: str | None = None
) -> None:
    """Register (or re-activate) ``location`` as a ``kind`` source of the tenant's engagement.

    An engagement has one current inventory export (a newer one replaces it, the older stays on
    record, inactive) and any number of dependency exports.
    """
    if kind not in SOURCE_KINDS:
        raise ValueError(f"source kind must be one of {SOURCE_KINDS}, got {kind!r}")
    if kind == "inventory":
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
