"""What was imported, exactly as it arrived, and how its columns were mapped."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, Float, Index, Integer, PrimaryKeyConstraint, Text
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.orm import Mapped, mapped_column

from db.models.base import Base, TenantMixin, created_at, one_of, tenant_ref, tenant_table_args, uuid_pk


class DataImport(TenantMixin, Base):
    __tablename__ = "data_imports"
    __table_args__ = tenant_table_args(
        tenant_ref("master_flows", "master_flow_id"),
        one_of("status", ("pending", "imported", "failed", "rolled_back")),
        {"comment": "One inventory or dependency file brought into an engagement."},
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    master_flow_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    phase_flow_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    source_name: Mapped[str] = mapped_column(Text, nullable=False)
    source_kind: Mapped[str] = mapped_column(Text, nullable=False, default="inventory")
    source_format: Mapped[str] = mapped_column(Text, nullable=False)
    file_sha256: Mapped[str] = mapped_column(Text, nullable=False)
    row_count: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    rejected_count: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    status: Mapped[str] = mapped_column(Text, nullable=False, default="pending")
    sheets: Mapped[list[Any]] = mapped_column(
        JSONB, nullable=False, default=list, comment="[{name, columns (in file order), rows}]"
    )
    errors: Mapped[list[Any]] = mapped_column(JSONB, nullable=False, default=list)
    errors_file: Mapped[str | None] = mapped_column(Text, comment="Path of the per-row errors CSV")
    created_at: Mapped[datetime] = created_at()


class RawImportRecord(TenantMixin, Base):
    __tablename__ = "raw_import_records"
    # One partition per import (migration 0013): an import COPYs into its own table, which is then
    # attached. Every unique key of a partitioned table carries the partition key, so the primary
    # key is (id, data_import_id) plus the tenant columns: the one index assets' tenant-safe FK
    # references, id first for the lookups by id (undo), no second tenant+id index to build.
    __table_args__ = tenant_table_args(
        tenant_ref("data_imports", "data_import_id"),
        PrimaryKeyConstraint("id", "data_import_id", "client_account_id", "engagement_id"),
        Index("uq_raw_import_records_row", "data_import_id", "sheet_name", "row_number", unique=True),
        {
            "comment": "Every original row (JSONB) with its sheet and 1-based data row number;"
            " one partition per data import.",
            "postgresql_partition_by": "LIST (data_import_id)",
        },
        referenced=False,
    )

    # No single-column engagement index (migration 0012): each partition holds one import of one
    # tenant, which the queries name; a third index per row is waste.
    client_account_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    engagement_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True, default=uuid.uuid4)
    data_import_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    sheet_name: Mapped[str] = mapped_column(Text, nullable=False, default="")
    row_number: Mapped[int] = mapped_column(Integer, nullable=False)
    record: Mapped[dict[str, Any]] = mapped_column(JSONB, nullable=False)
    is_valid: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    errors: Mapped[list[Any] | None] = mapped_column(JSONB)


class ImportFieldMapping(TenantMixin, Base):
    __tablename__ = "import_field_mappings"
    __table_args__ = tenant_table_args(
        tenant_ref("data_imports", "data_import_id"),
        Index(
            "uq_import_field_mappings_column", "data_import_id", "sheet_name", "source_column", unique=True
        ),
        {"comment": "Source column -> canonical asset field (NULL = unmapped, kept raw)."},
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    data_import_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), nullable=False)
    sheet_name: Mapped[str] = mapped_column(Text, nullable=False, default="")
    source_column: Mapped[str] = mapped_column(Text, nullable=False)
    target_field: Mapped[str | None] = mapped_column(Text)
    confidence: Mapped[float] = mapped_column(Float, nullable=False)
    method: Mapped[str] = mapped_column(Text, nullable=False)
    evidence: Mapped[dict[str, Any]] = mapped_column(JSONB, nullable=False, default=dict)
    confirmed_by_user: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    confirmed_by: Mapped[str | None] = mapped_column(Text)
