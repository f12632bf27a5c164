"""Dependencies between assets and the waves they move in."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy import Date, DateTime, Float, Index, Integer, Text
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, UUID
from sqlalchemy.orm import Mapped, mapped_column

from db.models.base import Base, TenantMixin, created_at, one_of, tenant_ref, tenant_table_args, uuid_pk


class AssetDependency(TenantMixin, Base):
    __tablename__ = "asset_dependencies"
    __table_args__ = tenant_table_args(
        tenant_ref("assets", "source_asset_id"),
        tenant_ref("assets", "target_asset_id"),
        tenant_ref("data_imports", "data_import_id"),
        Index("ix_asset_dependencies_source", "source_asset_id"),
        Index("ix_asset_dependencies_target", "target_asset_id"),
        {"comment": "source asset depends on (talks to) target asset."},
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    source_asset_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), nullable=False)
    target_asset_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), nullable=False)
    dependency_type: Mapped[str] = mapped_column(Text, nullable=False, default="network")
    port: Mapped[int | None] = mapped_column(Integer)
    protocol: Mapped[str | None] = mapped_column(Text)
    evidence: Mapped[dict[str, Any]] = mapped_column(JSONB, nullable=False, default=dict)
    confidence: Mapped[float] = mapped_column(Float, nullable=False, default=1.0)
    data_import_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    observation_count: Mapped[int] = mapped_column(
        Integer,
        nullable=False,
        default=1,
        server_default="1",
        comment="Observations (rows, or their count column) aggregated into this edge",
    )
    ports: Mapped[list[int] | None] = mapped_column(ARRAY(Integer), comment="Distinct ports seen, ascending")
    protocols: Mapped[list[str] | None] = mapped_column(ARRAY(Text), comment="Distinct protocols seen")
    first_seen: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_seen: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = created_at()


class UnresolvedEndpoint(TenantMixin, Base):
    __tablename__ = "unresolved_endpoints"
    __table_args__ = tenant_table_args(
        tenant_ref("data_imports", "data_import_id"),
        one_of("side", ("source", "target")),
        one_of("reason", ("unknown", "ambiguous")),
        Index("ix_unresolved_endpoints_import", "data_import_id"),
        {"comment": "A dependency endpoint no asset of the run matched (often an external service)."},
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    data_import_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), nullable=False)
    endpoint: Mapped[str] = mapped_column(Text, nullable=False, comment="Host, FQDN or IP as observed")
    side: Mapped[str] = mapped_column(Text, nullable=False)
    reason: Mapped[str] = mapped_column(Text, nullable=False)
    observations: Mapped[int] = mapped_column(Integer, nullable=False)
    ports: Mapped[list[int] | None] = mapped_column(ARRAY(Integer))
    peers: Mapped[int] = mapped_column(
        Integer, nullable=False, default=0, comment="Distinct resolved assets on the other end"
    )
    created_at: Mapped[datetime] = created_at()


class MigrationWave(TenantMixin, Base):
    __tablename__ = "migration_waves"
    __table_args__ = tenant_table_args(
        tenant_ref("master_flows", "master_flow_id"),
        one_of("status", ("planned", "scheduled", "in_progress", "completed", "cancelled")),
        Index("uq_migration_waves_master_number", "master_flow_id", "number", unique=True),
        {"comment": "A group of assets that move together."},
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    master_flow_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), nullable=False)
    number: Mapped[int] = mapped_column(Integer, nullable=False)
    name: Mapped[str] = mapped_column(Text, nullable=False)
    status: Mapped[str] = mapped_column(Text, nullable=False, default="planned")
    planned_start: Mapped[date | None] = mapped_column(Date)
    planned_end: Mapped[date | None] = mapped_column(Date)
    asset_count: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    metrics: Mapped[dict[str, Any]] = mapped_column(JSONB, nullable=False, default=dict)
    created_at: Mapped[datetime] = created_at()
