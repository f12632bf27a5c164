"""The single asset table: ~70 enterprise columns in groups, lineage and per-phase flow ids.

Canonical field names (ARCHITECTURE.md, "Contracts") are column names here and must not
change; ``mfactory.canonical.CANONICAL_FIELDS`` lists them and a test checks they all exist.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

from pgvector.sqlalchemy import Vector
from sqlalchemy import Boolean, Date, DateTime, Float, ForeignKeyConstraint, Index, Integer, Text, func
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.orm import Mapped, mapped_column

from db.models.base import (
    SCHEMA,
    Base,
    TenantMixin,
    created_at,
    one_of,
    tenant_ref,
    tenant_table_args,
    uuid_pk,
)
from mfactory.settings import EMBEDDING_DIM

ASSET_TYPES = (
    "server",
    "virtual_machine",
    "database",
    "application",
    "network_device",
    "storage",
    "container",
    "load_balancer",
    "other",
)
SIX_R = (
    "rehost",
    "replatform",
    "refactor",
    "rearchitect",
    "rewrite",
    "repurchase",
    "retire",
    "retain",
    "relocate",
)
DECIDERS = ("rules", "agent", "user")
ENVIRONMENTS = ("production", "staging", "test", "development", "dr", "other")
CRITICALITY = ("low", "medium", "high", "critical")


def _num(comment: str) -> Mapped[float | None]:
    return mapped_column(Float, comment=comment)


def _int(comment: str) -> Mapped[int | None]:
    return mapped_column(Integer, comment=comment)


RAW_RECORD_KEY = ("client_account_id", "engagement_id", "id", "data_import_id")


class Asset(TenantMixin, Base):
    __tablename__ = "assets"
    __table_args__ = tenant_table_args(
        tenant_ref("data_imports", "data_import_id"),
        # raw_import_records is partitioned by import (0013): its key carries data_import_id, and
        # an asset's lineage names the raw row and its import together.
        ForeignKeyConstraint(
            ["client_account_id", "engagement_id", "raw_import_record_id", "data_import_id"],
            [f"{SCHEMA}.raw_import_records.{c}" for c in RAW_RECORD_KEY],
            name="fk_assets_raw_import_record",
        ),
        tenant_ref("master_flows", "master_flow_id"),
        tenant_ref("migration_waves", "wave_id"),
        one_of("asset_type", ASSET_TYPES),
        one_of("six_r_strategy", SIX_R),
        one_of("six_r_decided_by", DECIDERS),
        one_of("environment", ENVIRONMENTS),
        one_of("business_criticality", CRITICALITY),
        Index("ix_assets_engagement_hostname", "engagement_id", "hostname"),
        # Deleting raw rows (an undone import) checks that no asset still names each one (0014).
        Index("ix_assets_raw_import_record", "raw_import_record_id"),
        Index(
            "ix_assets_fingerprint_hnsw",
            "fingerprint",
            postgresql_using="hnsw",
            postgresql_ops={"fingerprint": "vector_cosine_ops"},
        ),
        Index("ix_assets_engagement_fingerprint_hash", "engagement_id", "fingerprint_hash"),
        {"comment": "Every discovered asset of an engagement (servers, VMs, databases, apps)."},
    )

    id: Mapped[uuid.UUID] = uuid_pk()

    # --- identification -------------------------------------------------------------
    asset_name: Mapped[str] = mapped_column(Text, nullable=False, comment="Display name")
    asset_type: Mapped[str] = mapped_column(Text, nullable=False, default="server")
    hostname: Mapped[str | None] = mapped_column(Text)
    fqdn: Mapped[str | None] = mapped_column(Text)
    ip_address: Mapped[str | None] = mapped_column(Text, comment="Primary IP (text: exports hold lists)")
    mac_address: Mapped[str | None] = mapped_column(Text)
    external_id: Mapped[str | None] = mapped_column(Text, comment="Id in the source tool")
    vm_uuid: Mapped[str | None] = mapped_column(Text)
    bios_uuid: Mapped[str | None] = mapped_column(Text)
    serial_number: Mapped[str | None] = mapped_column(Text)
    description: Mapped[str | None] = mapped_column(Text)
    tags: Mapped[dict[str, Any] | None] = mapped_column(JSONB, comment="Key/value tags")

    # --- infrastructure ---------------------------------------------------------------
    os_family: Mapped[str | None] = mapped_column(Text, comment="windows | linux | unix | other")
    os_name: Mapped[str | None] = mapped_column(Text)
    os_version: Mapped[str | None] = mapped_column(Text)
    cpu_cores: Mapped[int | None] = _int("Allocated cores / vCPUs")
    cpu_sockets: Mapped[int | None] = _int("Processor sockets")
    memory_gb: Mapped[float | None] = _num("Allocated memory, GiB")
    storage_gb: Mapped[float | None] = _num("Provisioned storage, GiB")
    storage_used_gb: Mapped[float | None] = _num("Used storage, GiB")
    disk_count: Mapped[int | None] = _int("Number of disks")
    nic_count: Mapped[int | None] = _int("Number of network adapters")
    power_state: Mapped[str | None] = mapped_column(Text, comment="on | off | suspended")
    virtualization_platform: Mapped[str | None] = mapped_column(Text)
    hypervisor_host: Mapped[str | None] = mapped_column(Text)
    cluster: Mapped[str | None] = mapped_column(Text)
    datacenter: Mapped[str | None] = mapped_column(Text)
    location: Mapped[str | None] = mapped_column(Text)
    network_zone: Mapped[str | None] = mapped_column(Text)
    database_engine: Mapped[str | None] = mapped_column(Text)
    database_version: Mapped[str | None] = mapped_column(Text)

    # --- business context -------------------------------------------------------------
    environment: Mapped[str | None] = mapped_column(Text)
    application_name: Mapped[str | None] = mapped_column(Text)
    business_unit: Mapped[str | None] = mapped_column(Text)
    owner: Mapped[str | None] = mapped_column(Text)
    business_criticality: Mapped[str | None] = mapped_column(Text)
    cost_center: Mapped[str | None] = mapped_column(Text)
    compliance_scope: Mapped[str | None] = mapped_column(Text, comment="e.g. PCI, HIPAA, GDPR")
    data_classification: Mapped[str | None] = mapped_column(Text)
    created_date: Mapped[date | None] = mapped_column(Date, comment="When the asset was created")
    end_of_support_date: Mapped[date | None] = mapped_column(Date)

    # --- migration planning -----------------------------------------------------------
    six_r_strategy: Mapped[str | None] = mapped_column(Text)
    six_r_rationale: Mapped[str | None] = mapped_column(Text)
    six_r_confidence: Mapped[float | None] = _num("0..1")
    six_r_decided_by: Mapped[str | None] = mapped_column(Text)
    six_r_locked: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    wave: Mapped[str | None] = mapped_column(Text, comment="Wave label (imported or planned)")
    wave_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    migration_complexity: Mapped[str | None] = mapped_column(Text)
    migration_priority: Mapped[int | None] = _int("1 = first")
    migration_status: Mapped[str | None] = mapped_column(Text)
    target_provider: Mapped[str | None] = mapped_column(Text)
    target_region: Mapped[str | None] = mapped_column(Text)
    target_instance_type: Mapped[str | None] = mapped_column(Text)
    target_vcpu: Mapped[int | None] = _int("vCPUs of the target size")
    target_memory_gb: Mapped[float | None] = _num("GiB of the target size")
    target_storage_type: Mapped[str | None] = mapped_column(Text)

    # --- performance ------------------------------------------------------------------
    cpu_utilization_avg: Mapped[float | None] = _num("Percent")
    cpu_utilization_peak: Mapped[float | None] = _num("Percent")
    memory_utilization_avg: Mapped[float | None] = _num("Percent")
    memory_utilization_peak: Mapped[float | None] = _num("Percent")
    iops_avg: Mapped[float | None] = _num("I/O operations per second")
    network_throughput_mbps: Mapped[float | None] = _num("Mbit/s")

    # --- cost -------------------------------------------------------------------------
    current_monthly_cost: Mapped[float | None] = _num("USD / month as-is")
    estimated_monthly_cost: Mapped[float | None] = _num("USD / month in the cloud")
    estimated_migration_effort_hours: Mapped[float | None] = _num("Hours")

    # --- quality, lineage, flows ------------------------------------------------------
    completeness_score: Mapped[float | None] = _num("Share of key fields present, 0..1")
    data_quality_score: Mapped[float | None] = _num("0..1")
    fingerprint: Mapped[list[float] | None] = mapped_column(
        Vector(EMBEDDING_DIM), comment="Embedding for duplicate detection"
    )
    fingerprint_hash: Mapped[str | None] = mapped_column(
        Text, comment="sha1 of the text the fingerprint embeds (reuse it instead of embedding again)"
    )
    custom_attributes: Mapped[dict[str, Any] | None] = mapped_column(
        JSONB, comment="Source columns with no canonical field"
    )
    provenance: Mapped[dict[str, Any] | None] = mapped_column(
        JSONB, comment="Merged duplicates: per field the import/sheet/row it came from, and every row merged"
    )
    data_import_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    raw_import_record_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    master_flow_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    discovery_flow_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    assessment_flow_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    planning_flow_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    execution_flow_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    modernization_flow_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    created_at: Mapped[datetime] = created_at()
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), nullable=False
    )
