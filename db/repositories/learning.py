"""Learned mapping patterns: store a confirmed column mapping, find the nearest ones by embedding.

Similarity search is one set-based query for all columns of a sheet: each column's
embedding is matched through a LATERAL subquery that orders by cosine distance with a
LIMIT (so the HNSW index serves it) and applies the distance threshold in SQL. The
caller's own patterns come through row-level security; other tenants' patterns only
through ``migration.shared_mapping_patterns`` (migration 0002), which returns the
pattern and nothing else, and only for patterns their tenant chose to share.

pgvector here is 0.6 (no iterative index scans): the HNSW scan yields ``hnsw.ef_search``
candidates and the tenant filter applies after it, so ``ef_search`` is raised for these
look-ups to keep a tenant's own patterns from being crowded out by other tenants' rows.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
from sqlalchemy import text
from sqlalchemy.orm import Session

from db.session import Tenant

COLUMN_MAPPING = "column_mapping"

# Per query embedding: the k nearest patterns within the distance threshold (RLS: this tenant's).
NEAREST_SQL = text(
    "SELECT q.ord, m.id, m.pattern_key, m.pattern_value, m.evidence ->> 'unit' AS unit,"
    "       m.distance, m.confidence"
    "  FROM unnest(CAST(:embeddings AS vector[])) WITH ORDINALITY AS q(embedding, ord)"
    " CROSS JOIN LATERAL ("
    "   SELECT p.id, p.pattern_key, p.pattern_value, p.evidence, p.confidence,"
    "          p.embedding <=> q.embedding AS distance"
    "     FROM migration.agent_learning_patterns p"
    "    WHERE p.pattern_type = :t AND p.validated"
    "      AND p.embedding <=> q.embedding <= :d"
    "    ORDER BY p.embedding <=> q.embedding"
    "    LIMIT :k) m"
    " ORDER BY q.ord, m.distance"
)


@dataclass(frozen=True)
class PatternMatch:
    query_index: int  # which of the query embeddings this answers (0-based)
    pattern_id: uuid.UUID | None  # None for another tenant's shared pattern
    pattern_key: str
    field: str | None
    unit: str | None
    distance: float
    confidence: float
    shared: bool


def vector_literal(vector: npt.NDArray[np.floating[Any]]) -> str:
    return "[" + ",".join(f"{x:.7g}" for x in vector.tolist()) + "]"


def _vector_array(embeddings: npt.NDArray[np.floating[Any]]) -> str:
    return "{" + ",".join(f'"{vector_literal(v)}"' for v in embeddings) + "}"


def _ef_search(session: Session, ef_search: int) -> None:
    session.execute(text("SELECT set_config('hnsw.ef_search', :v, true)"), {"v": str(int(ef_search))})


def save_mapping_pattern(
    *,
    session: Session,
    tenant: Tenant,
    pattern_key: str,
    field: str | None,
    embedding: npt.NDArray[np.floating[Any]],
    evidence: dict[str, Any],
    insight_type: str,
    shareable: bool,
    confidence: float = 1.0,
) -> uuid.UUID:
    """Store (or replace) this tenant's confirmed mapping for one header; returns the pattern id."""
    values = {
        "t": COLUMN_MAPPING,
        "k": pattern_key,
        "v": field,
        "e": vector_literal(embedding),
        "ev": _json(evidence),
        "i": insight_type,
        "s": shareable,
        "c": confidence,
    }
    updated = session.execute(
        text(
            "UPDATE migration.agent_learning_patterns SET pattern_value = :v, embedding = CAST(:e AS vector),"
            " evidence = CAST(:ev AS jsonb), insight_type = :i, shareable = :s, confidence = :c,"
            " validated = true"
            " WHERE pattern_type = :t AND pattern_key = :k RETURNING id"
        ),
        values,
    ).scalar_one_or_none()
    if updated is not None:
        return uuid.UUID(str(updated))
    new_id = uuid.uuid4()
    session.execute(
        text(
            "INSERT INTO migration.agent_learning_patterns (id, client_account_id, engagement_id,"
            " pattern_type, insight_type, pattern_key, pattern_value, embedding, evidence, confidence,"
            " validated, applied_count, shareable)"
            " VALUES (:id, :ca, :en, :t, :i, :k, :v, CAST(:e AS vector), CAST(:ev AS jsonb), :c, true, 0, :s)"
        ),
        {**values, "id": new_id, "ca": tenant.client_account_id, "en": tenant.engagement_id},
    )
    return new_id


def nearest_mapping_patterns(
    *,
    session: Session,
    embeddings: npt.NDArray[np.floating[Any]],
    max_distance: float,
    k: int,
    ef_search: int,
) -> list[PatternMatch]:
    """This tenant's confirmed patterns within ``max_distance`` of each embedding, nearest first."""
    if len(embeddings) == 0:
        return []
    _ef_search(session, ef_search)
    rows = session.execute(
        NEAREST_SQL,
        {"embeddings": _vector_array(embeddings), "t": COLUMN_MAPPING, "d": max_distance, "k": k},
    ).all()
    return [
        PatternMatch(
            int(r.ord) - 1,
            r.id,
            r.pattern_key,
            r.pattern_value,
            r.unit,
            float(r.distance),
            float(r.confidence),
            shared=False,
        )
        for r in rows
    ]


def shared_mapping_patterns(
    *,
    session: Session,
    embeddings: npt.NDArray[np.floating[Any]],
    max_distance: float,
    k: int,
    ef_search: int,
) -> list[PatternMatch]:
    """Other tenants' *shared* patterns near each embedding, through the owner-defined function only."""
    if len(embeddings) == 0:
        return []
    _ef_search(session, ef_search)
    rows = session.execute(
        text(
            "SELECT query_index, pattern_key, target_field, unit, distance, confidence"
            "  FROM migration.shared_mapping_patterns(CAST(:embeddings AS vector[]), :d, :k)"
            " ORDER BY query_index, distance"
        ),
        {"embeddings": _vector_array(embeddings), "d": max_distance, "k": k},
    ).all()
    return [
        PatternMatch(
            int(r.query_index) - 1,
            None,
            r.pattern_key,
            r.target_field,
            r.unit,
            float(r.distance),
            float(r.confidence),
            shared=True,
        )
        for r in rows
    ]


def mark_patterns_applied(*, session: Session, pattern_ids: Iterable[uuid.UUID]) -> None:
    """Count one more use of each (own) pattern that decided a proposal."""
    ids = [str(i) for i in pattern_ids]
    if ids:
        session.execute(
            text(
                "UPDATE migration.agent_learning_patterns SET applied_count = applied_count + 1"
                " WHERE id = ANY(CAST(:ids AS uuid[]))"
            ),
            {"ids": ids},
        )


def _json(value: dict[str, Any]) -> str:
    return json.dumps(value, default=str)
