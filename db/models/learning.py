"""What agents learned (confirmed mappings, corrections) and what LLM calls cost."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from pgvector.sqlalchemy import Vector
from sqlalchemy import Boolean, Float, Index, Integer, Text
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.orm import Mapped, mapped_column

from db.models.base import Base, TenantMixin, created_at, tenant_table_args, uuid_pk
from mfactory.settings import EMBEDDING_DIM


class AgentLearningPattern(TenantMixin, Base):
    __tablename__ = "agent_learning_patterns"
    __table_args__ = tenant_table_args(
        Index(
            "ix_agent_learning_patterns_embedding_hnsw",
            "embedding",
            postgresql_using="hnsw",
            postgresql_ops={"embedding": "vector_cosine_ops"},
        ),
        {"comment": "Learned patterns; similarity search with the threshold applied in SQL."},
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    pattern_type: Mapped[str] = mapped_column(Text, nullable=False)
    insight_type: Mapped[str | None] = mapped_column(Text)
    pattern_key: Mapped[str] = mapped_column(Text, nullable=False)
    pattern_value: Mapped[str | None] = mapped_column(Text)
    embedding: Mapped[list[float]] = mapped_column(Vector(EMBEDDING_DIM), nullable=False)
    evidence: Mapped[dict[str, Any]] = mapped_column(JSONB, nullable=False, default=dict)
    confidence: Mapped[float] = mapped_column(Float, nullable=False, default=0.5)
    validated: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    applied_count: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    shareable: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    created_at: Mapped[datetime] = created_at()


class LlmUsageLog(TenantMixin, Base):
    __tablename__ = "llm_usage_logs"
    __table_args__ = tenant_table_args({"comment": "Every LLM call: model, tokens, cost, latency."})

    id: Mapped[uuid.UUID] = uuid_pk()
    flow_run_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    agent: Mapped[str] = mapped_column(Text, nullable=False)
    model: Mapped[str] = mapped_column(Text, nullable=False)
    prompt_tokens: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    completion_tokens: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    cost_usd: Mapped[float | None] = mapped_column(Float)
    latency_ms: Mapped[int | None] = mapped_column(Integer)
    success: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = created_at()
