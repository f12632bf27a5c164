"""Where an engagement's exports live, so scheduled re-discovery needs no typed parameters."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import Boolean, Index, Text
from sqlalchemy.orm import Mapped, mapped_column

from db.models.base import Base, TenantMixin, created_at, one_of, tenant_table_args, uuid_pk

SOURCE_KINDS = ("inventory", "dependencies")


class EngagementSource(TenantMixin, Base):
    __tablename__ = "engagement_sources"
    __table_args__ = tenant_table_args(
        one_of("kind", SOURCE_KINDS),
        Index("uq_engagement_sources_location", "engagement_id", "kind", "location", unique=True),
        {"comment": "A registered inventory or dependency export (path or URL) of an engagement."},
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    kind: Mapped[str] = mapped_column(Text, nullable=False)
    location: Mapped[str] = mapped_column(Text, nullable=False, comment="File path, file:// or http(s) URL")
    active: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    registered_by: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = created_at()
