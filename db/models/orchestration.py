"""The run record: master flows, phase flows, their steps, handoffs, rollbacks, change log.

Primary keys of ``master_flows`` and ``phase_flows`` are the Prefect flow-run ids, so
the Prefect UI and the database name the same run with the same id.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, CheckConstraint, DateTime, Float, Identity, Index, Integer, Text
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, UUID
from sqlalchemy.orm import Mapped, mapped_column

from db.models.base import (
    Base,
    TenantMixin,
    created_at,
    one_of,
    tenant_ref,
    tenant_table_args,
    uuid_pk,
)

PHASES = ("discovery", "assessment", "planning", "execution", "modernization")
FLOW_STATUSES = ("pending", "running", "completed", "failed", "rolled_back", "cancelled")
STEP_STATUSES = ("pending", "running", "completed", "failed", "rolled_back", "skipped")


class MasterFlow(TenantMixin, Base):
    __tablename__ = "master_flows"
    __table_args__ = tenant_table_args(
        one_of("status", FLOW_STATUSES),
        one_of("current_phase", PHASES),
        {"comment": "One engagement run; id = Prefect flow-run id of the master flow."},
    )

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    status: Mapped[str] = mapped_column(Text, nullable=False, default="pending")
    status_reason: Mapped[str | None] = mapped_column(Text)
    current_phase: Mapped[str | None] = mapped_column(Text)
    progress: Mapped[float] = mapped_column(Float, nullable=False, default=0.0)
    parameters: Mapped[dict[str, Any]] = mapped_column(JSONB, nullable=False, default=dict)
    summary: Mapped[dict[str, Any]] = mapped_column(JSONB, nullable=False, default=dict)
    started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = created_at()


class PhaseFlow(TenantMixin, Base):
    __tablename__ = "phase_flows"
    __table_args__ = tenant_table_args(
        tenant_ref("master_flows", "master_flow_id"),
        one_of("phase", PHASES),
        one_of("status", FLOW_STATUSES),
        {"comment": "One phase subflow run; id = Prefect subflow-run id."},
    )

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    master_flow_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), nullable=False, index=True)
    phase: Mapped[str] = mapped_column(Text, nullable=False)
    status: Mapped[str] = mapped_column(Text, nullable=False, default="pending")
    status_reason: Mapped[str | None] = mapped_column(Text)
    progress: Mapped[float] = mapped_column(Float, nullable=False, default=0.0)
    input_handoff_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    summary: Mapped[dict[str, Any]] = mapped_column(JSONB, nullable=False, default=dict)
    started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = created_at()


class PhaseStep(TenantMixin, Base):
    __tablename__ = "phase_steps"
    __table_args__ = tenant_table_args(
        tenant_ref("phase_flows", "phase_flow_id"),
        one_of("status", STEP_STATUSES),
        Index("uq_phase_steps_flow_name", "phase_flow_id", "name", unique=True),
        {"comment": "One named step of a phase flow (data_import, attribute_mapping, ...)."},
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    phase_flow_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), nullable=False)
    name: Mapped[str] = mapped_column(Text, nullable=False)
    position: Mapped[int] = mapped_column(Integer, nullable=False)
    status: Mapped[str] = mapped_column(Text, nullable=False, default="pending")
    task_run_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    retry_count: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    metrics: Mapped[dict[str, Any]] = mapped_column(JSONB, nullable=False, default=dict)
    error: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    duration_ms: Mapped[int | None] = mapped_column(Integer)


class FlowHandoff(TenantMixin, Base):
    __tablename__ = "flow_handoffs"
    __table_args__ = tenant_table_args(
        tenant_ref("phase_flows", "source_phase_flow_id"),
        tenant_ref("phase_flows", "target_phase_flow_id"),
        one_of("source_phase", PHASES),
        one_of("target_phase", PHASES),
        one_of("status", ("pending", "accepted", "rejected", "consumed", "rolled_back")),
        {"comment": "A validated package one phase hands to the next."},
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    source_phase_flow_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), nullable=False)
    target_phase_flow_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    source_phase: Mapped[str] = mapped_column(Text, nullable=False)
    target_phase: Mapped[str | None] = mapped_column(Text)
    package: Mapped[dict[str, Any]] = mapped_column(JSONB, nullable=False, default=dict)
    validation_results: Mapped[dict[str, Any]] = mapped_column(JSONB, nullable=False, default=dict)
    status: Mapped[str] = mapped_column(Text, nullable=False, default="pending")
    created_at: Mapped[datetime] = created_at()


class FlowRollback(TenantMixin, Base):
    __tablename__ = "flow_rollbacks"
    __table_args__ = tenant_table_args(
        tenant_ref("master_flows", "master_flow_id"),
        one_of("scope", ("step", "phase", "cascade")),
        one_of("status", ("running", "completed", "failed")),
        {"comment": "One rollback request: scope, log and the integrity check after it."},
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    master_flow_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), nullable=False)
    phase_flow_ids: Mapped[list[str]] = mapped_column(JSONB, nullable=False, default=list)
    rollback_flow_run_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    scope: Mapped[str] = mapped_column(Text, nullable=False)
    reason: Mapped[str] = mapped_column(Text, nullable=False)
    status: Mapped[str] = mapped_column(Text, nullable=False, default="running")
    rows_undone: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    log: Mapped[list[Any]] = mapped_column(JSONB, nullable=False, default=list)
    integrity_check: Mapped[dict[str, Any]] = mapped_column(JSONB, nullable=False, default=dict)
    created_at: Mapped[datetime] = created_at()
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class ChangeLog(TenantMixin, Base):
    """Filled by statement-level triggers, never by application code.

    ``flow_run_id`` is the Prefect id set with ``SET LOCAL app.flow_run_id`` (and
    ``step_name`` the step, so a retried step can first undo its failed attempt); it has no
    FK because it may name a phase flow or a master flow. ``batch_id`` groups the rows
    one statement changed, which lets the undo run set-based, batch by batch.

    An INSERT statement is one row per tenant with the inserted ids in ``row_ids``: an
    inserted row needs no before-image, so a 100k-row import costs one log row, not 100k.
    An UPDATE or DELETE is one row per changed row (``row_id`` + ``before_image``). Per-row
    'I' entries written before migration 0012 carry ``row_id``; the undo reads both forms.
    """

    __tablename__ = "change_log"
    __table_args__ = tenant_table_args(
        one_of("operation", ("I", "U", "D")),
        Index("ix_change_log_flow_batch", "flow_run_id", "batch_id"),
        CheckConstraint(
            "CASE WHEN row_ids IS NULL THEN row_id IS NOT NULL ELSE row_id IS NULL AND operation = 'I' END",
            name="row_id_forms",
        ),
        referenced=False,
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    flow_run_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), nullable=False)
    step_name: Mapped[str | None] = mapped_column(Text)
    batch_id: Mapped[int] = mapped_column(BigInteger, nullable=False)
    table_name: Mapped[str] = mapped_column(Text, nullable=False)
    operation: Mapped[str] = mapped_column(Text, nullable=False)
    row_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    row_ids: Mapped[list[uuid.UUID] | None] = mapped_column(ARRAY(UUID(as_uuid=True)))
    before_image: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    partition_key: Mapped[uuid.UUID | None] = mapped_column(
        UUID(as_uuid=True),
        comment="Partition (data_import_id) of the rows an entry names, where the writer knew it",
    )
    changed_at: Mapped[datetime] = created_at()
    undone_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    undone_by: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
