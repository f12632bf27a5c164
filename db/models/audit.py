"""Security audit trail and user feedback."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import Index, Integer, Text
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.orm import Mapped, mapped_column

from db.models.base import Base, TenantMixin, created_at, tenant_ref, tenant_table_args, uuid_pk


class SecurityAuditLog(TenantMixin, Base):
    __tablename__ = "security_audit_logs"
    __table_args__ = tenant_table_args({"comment": "Who did what to which record, and when."})

    id: Mapped[uuid.UUID] = uuid_pk()
    actor: Mapped[str] = mapped_column(Text, nullable=False)
    action: Mapped[str] = mapped_column(Text, nullable=False)
    target_table: Mapped[str | None] = mapped_column(Text)
    target_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    details: Mapped[dict[str, Any]] = mapped_column(JSONB, nullable=False, default=dict)
    created_at: Mapped[datetime] = created_at()


class Feedback(TenantMixin, Base):
    __tablename__ = "feedback"
    __table_args__ = tenant_table_args(
        tenant_ref("assets", "asset_id"),
        Index("ix_feedback_asset", "asset_id"),  # for the FK check when assets are deleted (0014)
        {"comment": "User feedback on a decision or an asset."},
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    asset_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    subject: Mapped[str] = mapped_column(Text, nullable=False)
    rating: Mapped[int | None] = mapped_column(Integer)
    comment: Mapped[str | None] = mapped_column(Text)
    created_by: Mapped[str] = mapped_column(Text, nullable=False)
    created_at: Mapped[datetime] = created_at()
