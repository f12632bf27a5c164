"""Human overrides of the assessment's decisions, kept per engagement so they outlive any one run.

A run's assets are re-created by every discovery, so an override cannot live on the asset row:
it names its subject (an asset by name, a wave by number) and every assessment run applies the
engagement's active overrides to whatever assets it plans. Revoking keeps the row (history);
at most one override per (kind, subject) is active.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import DateTime, Index, Text, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from db.models.base import Base, TenantMixin, created_at, one_of, tenant_table_args, uuid_pk

#: six_r: an asset's strategy; wave: an asset's wave number; wave_dates: a wave's start (and end);
#: lock: an asset's strategy and wave as they were when it was locked.
OVERRIDE_KINDS = ("six_r", "wave", "wave_dates", "lock")
#: Where an override was given: ``mfactory edit``, the review form of a paused run, a run's parameters.
OVERRIDE_SOURCES = ("cli", "review", "run")


class PlanningOverride(TenantMixin, Base):
    __tablename__ = "planning_overrides"
    __table_args__ = tenant_table_args(
        one_of("kind", OVERRIDE_KINDS),
        one_of("source", OVERRIDE_SOURCES),
        Index(
            "uq_planning_overrides_active",
            "engagement_id",
            "kind",
            "subject",
            unique=True,
            postgresql_where=text("revoked_at IS NULL"),
        ),
        {"comment": "A user's override of a 6R decision, wave membership, wave dates or a lock."},
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    kind: Mapped[str] = mapped_column(Text, nullable=False)
    subject: Mapped[str] = mapped_column(Text, nullable=False, comment="Asset name, or wave number")
    value: Mapped[dict[str, Any]] = mapped_column(JSONB, nullable=False)
    reason: Mapped[str | None] = mapped_column(Text)
    source: Mapped[str] = mapped_column(Text, nullable=False)
    created_by: Mapped[str] = mapped_column(Text, nullable=False)
    created_at: Mapped[datetime] = created_at()
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    revoked_by: Mapped[str | None] = mapped_column(Text)
