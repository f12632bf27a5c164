"""Tenancy: client accounts own engagements; every other table belongs to one engagement."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from db.models.base import SCHEMA, Base, created_at, uuid_pk


class ClientAccount(Base):
    __tablename__ = "client_accounts"
    __table_args__ = {"comment": "A consulting client; the top of the tenant hierarchy."}

    id: Mapped[uuid.UUID] = uuid_pk()
    name: Mapped[str] = mapped_column(Text, nullable=False, unique=True)
    created_at: Mapped[datetime] = created_at()


class Engagement(Base):
    __tablename__ = "engagements"
    __table_args__ = (
        UniqueConstraint("client_account_id", "id"),
        UniqueConstraint("client_account_id", "name"),
        {"comment": "One migration engagement of a client; the unit of tenant isolation."},
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    client_account_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey(f"{SCHEMA}.client_accounts.id"), nullable=False
    )
    name: Mapped[str] = mapped_column(Text, nullable=False)
    created_at: Mapped[datetime] = created_at()
