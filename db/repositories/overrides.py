"""Stored overrides of an engagement and their audit trail (every set and revoke is audited)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

import pandas as pd
from sqlalchemy import func, insert, select, text
from sqlalchemy.orm import Session

from db.models import PlanningOverride, SecurityAuditLog
from db.session import Tenant

COLUMNS = ["id", "kind", "subject", "value", "reason", "source", "created_by", "created_at"]


def active_overrides(*, session: Session) -> pd.DataFrame:
    """The engagement's active overrides (``COLUMNS``), oldest first."""
    found = session.execute(
        select(*(getattr(PlanningOverride, c) for c in COLUMNS))
        .where(PlanningOverride.revoked_at.is_(None))
        .order_by(PlanningOverride.created_at, PlanningOverride.id)
    ).all()
    return pd.DataFrame([tuple(r) for r in found], columns=COLUMNS)


def revoked_subjects(*, session: Session, kinds: Sequence[str]) -> set[str]:
    """Subjects that had an override of ``kinds`` revoked (they may have an active one too)."""
    return set(
        session.scalars(
            select(PlanningOverride.subject)
            .where(PlanningOverride.kind.in_(list(kinds)), PlanningOverride.revoked_at.is_not(None))
            .distinct()
        )
    )


def list_overrides(*, session: Session, include_revoked: bool = False) -> list[PlanningOverride]:
    query = select(PlanningOverride).order_by(PlanningOverride.created_at, PlanningOverride.id)
    if not include_revoked:
        query = query.where(PlanningOverride.revoked_at.is_(None))
    return list(session.scalars(query))


def audit(*, session: Session, tenant: Tenant, entries: Sequence[dict[str, Any]]) -> int:
    """Audit rows (``actor``, ``action``, ``target_table``, ``target_id``, ``details``), one insert."""
    if not entries:
        return 0
    session.execute(
        insert(SecurityAuditLog),
        [
            {
                "id": uuid.uuid4(),
                "client_account_id": tenant.client_account_id,
                "engagement_id": tenant.engagement_id,
                **entry,
            }
            for entry in entries
        ],
    )
    return len(entries)


def set_override(
    *,
    session: Session,
    tenant: Tenant,
    kind: str,
    subject: str,
    value: dict[str, Any],
    actor: str,
    source: str,
    reason: str | None,
    before: dict[str, Any] | None,
) -> tuple[PlanningOverride, bool]:
    """Make ``value`` the active override of (kind, subject); returns it and whether anything changed.

    The same value again changes nothing (a re-run with the same answers leaves no new rows); a
    different value replaces the active one, which stays on record as revoked. ``before`` is what
    the plan said until now; the audit row keeps it, the replaced override and the new value.
    """
    current = find_active(session=session, kind=kind, subject=subject)
    if current is not None and current.value == value and reason in (None, current.reason):
        return current, False
    if current is not None:
        current.revoked_at = func.now()
        current.revoked_by = actor
        session.flush()
    created = PlanningOverride(
        id=uuid.uuid4(),
        client_account_id=tenant.client_account_id,
        engagement_id=tenant.engagement_id,
        kind=kind,
        subject=subject,
        value=value,
        reason=reason,
        source=source,
        created_by=actor,
    )
    session.add(created)
    session.flush()
    audit(
        session=session,
        tenant=tenant,
        entries=[
            {
                "actor": actor,
                "action": "override_set",
                "target_table": "planning_overrides",
                "target_id": created.id,
                "details": {
                    "kind": kind,
                    "subject": subject,
                    "before": before,
                    "after": value,
                    "replaces": None if current is None else {"id": str(current.id), "value": current.value},
                    "reason": reason,
                    "source": source,
                },
            }
        ],
    )
    return created, True


def find_active(*, session: Session, kind: str, subject: str) -> PlanningOverride | None:
    return session.scalars(
        select(PlanningOverride).where(
            PlanningOverride.kind == kind,
            PlanningOverride.subject == subject,
            PlanningOverride.revoked_at.is_(None),
        )
    ).first()


def revoke_override(
    *, session: Session, tenant: Tenant, override_id: uuid.UUID, actor: str, reason: str | None = None
) -> PlanningOverride:
    """Revoke an active override (the row stays, with who and when); audited. ``LookupError`` if none."""
    found = session.get(PlanningOverride, override_id)
    if found is None or found.revoked_at is not None:
        state = "no override" if found is None else "an override already revoked"
        raise LookupError(f"{override_id} is {state} of this engagement (see `mfactory edit list`)")
    found.revoked_at = func.now()
    found.revoked_by = actor
    session.flush()
    audit(
        session=session,
        tenant=tenant,
        entries=[
            {
                "actor": actor,
                "action": "override_revoked",
                "target_table": "planning_overrides",
                "target_id": found.id,
                "details": {
                    "kind": found.kind,
                    "subject": found.subject,
                    "before": found.value,
                    "after": None,
                    "reason": reason,
                },
            }
        ],
    )
    session.refresh(found)
    return found


def locked_counts(*, session: Session, master_flow_id: uuid.UUID) -> tuple[int, int]:
    """(assets a user decided and locked, all locked assets) of a run."""
    row = session.execute(
        text(
            "SELECT count(*) FILTER (WHERE six_r_locked AND six_r_decided_by = 'user'),"
            " count(*) FILTER (WHERE six_r_locked) FROM migration.assets WHERE master_flow_id = :m"
        ),
        {"m": master_flow_id},
    ).one()
    return int(row[0]), int(row[1])
