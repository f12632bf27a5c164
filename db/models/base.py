"""Declarative base, naming convention and the tenant-table building blocks.

Every tenant table gets, from ``tenant_table_args``:
- ``client_account_id`` / ``engagement_id`` NOT NULL with the composite FK
  ``(client_account_id, engagement_id) -> engagements (client_account_id, id)``;
- ``UNIQUE (client_account_id, engagement_id, id)`` so that other tenant tables can
  reference it *with* the tenant columns: a row can never point into another tenant,
  even though FK checks themselves bypass row-level security.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import (
    CheckConstraint,
    DateTime,
    ForeignKeyConstraint,
    MetaData,
    UniqueConstraint,
    func,
)
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

SCHEMA = "migration"

NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_N_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(schema=SCHEMA, naming_convention=NAMING)
    type_annotation_map = {dict[str, Any]: JSONB, uuid.UUID: UUID(as_uuid=True)}


def uuid_pk() -> Mapped[uuid.UUID]:
    return mapped_column(UUID(as_uuid=True), primary_key=True, default=uuid.uuid4)


def created_at() -> Mapped[datetime]:
    return mapped_column(DateTime(timezone=True), server_default=func.now(), nullable=False)


def one_of(column: str, values: tuple[str, ...], name: str | None = None) -> CheckConstraint:
    """A value set as a CHECK constraint (never an ENUM type)."""
    listed = ", ".join(f"'{v}'" for v in values)
    return CheckConstraint(f"{column} IN ({listed})", name=name or f"{column}_values")


def tenant_ref(table: str, *columns: str, ondelete: str | None = None) -> ForeignKeyConstraint:
    """A tenant-safe FK: ``(client_account_id, engagement_id, col) -> table (.., .., id)``."""
    return ForeignKeyConstraint(
        ["client_account_id", "engagement_id", *columns],
        [f"{SCHEMA}.{table}.client_account_id", f"{SCHEMA}.{table}.engagement_id", f"{SCHEMA}.{table}.id"],
        ondelete=ondelete,
    )


def tenant_table_args(*extra: Any, referenced: bool = True) -> tuple[Any, ...]:
    """``__table_args__`` for a tenant table; ``referenced`` adds the tenant+id unique key."""
    args: list[Any] = [
        ForeignKeyConstraint(
            ["client_account_id", "engagement_id"],
            [f"{SCHEMA}.engagements.client_account_id", f"{SCHEMA}.engagements.id"],
        )
    ]
    if referenced:
        args.append(UniqueConstraint("client_account_id", "engagement_id", "id"))
    args.extend(extra)
    return tuple(args)


class TenantMixin:
    """The two tenant columns every tenant table carries (NOT NULL)."""

    client_account_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), nullable=False)
    engagement_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), nullable=False, index=True)
