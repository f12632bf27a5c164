"""Learned patterns: remember what a user confirmed or corrected, and reuse it on later imports.

``confirm_mapping`` is the one entry point for a user's decision, whatever asks for it
(a CLI command, a Prefect pause-for-input): it stores the decision as a pattern of the
tenant (embedding of the header, field, unit) and, when it answers a stored proposal,
updates that proposal. ``find_learned`` looks the patterns up for a sheet's headers with
one similarity query. A tenant's patterns serve that tenant; another tenant reaches them
only if their tenant shared them and the asking tenant opted in, and then only the
pattern (header, field, unit) crosses, never the other tenant's data.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass

import pandas as pd
from sqlalchemy.orm import Session

from agents.embeddings import Embedder, get_embedder
from db.repositories.imports import field_mapping_of, mark_mapping_confirmed
from db.repositories.learning import (
    PatternMatch,
    mark_patterns_applied,
    nearest_mapping_patterns,
    save_mapping_pattern,
    shared_mapping_patterns,
)
from db.session import Tenant
from mfactory.canonical import canonical_fields
from mfactory.errors import MappingError
from mfactory.settings import Settings, get_settings
from tasks.discovery.mapping.headers import words
from tasks.discovery.mapping.knowledge import load_knowledge
from tasks.discovery.mapping.profile import profile_columns
from tasks.discovery.mapping.proposal import LearnedHint
from tasks.discovery.mapping.units import SIZE_TO_GIB


def pattern_text(header: str) -> str:
    """What is embedded for a header: its plain words (``RAM.TotalSizeInMB`` -> ``ram total size in mb``)."""
    return words(header) or header.strip().lower()


def _best(matches: list[PatternMatch], n: int) -> list[PatternMatch | None]:
    """Per query, the nearest match (ties: the more confident pattern)."""
    best: list[PatternMatch | None] = [None] * n
    for m in matches:
        current = best[m.query_index]
        if current is None or (m.distance, -m.confidence) < (current.distance, -current.confidence):
            best[m.query_index] = m
    return best


def find_learned(
    session: Session,
    columns: Sequence[str],
    *,
    include_shared: bool | None = None,
    embedder: Embedder | None = None,
    settings: Settings | None = None,
) -> dict[str, LearnedHint]:
    """Learned hints for the columns that have a confirmed pattern near enough (in this tenant's session).

    ``include_shared`` (default: the ``mapping_shared_patterns`` setting) opts in to patterns
    that other tenants shared, used only for columns this tenant has no pattern for.
    """
    settings = settings or get_settings()
    if not columns:
        return {}
    embedder = embedder or get_embedder()
    vectors = embedder.embed([pattern_text(c) for c in columns])
    query = {
        "session": session,
        "embeddings": vectors,
        "max_distance": settings.mapping_pattern_max_distance,
        "k": settings.mapping_pattern_neighbours,
        "ef_search": settings.mapping_hnsw_ef_search,
    }
    best = _best(nearest_mapping_patterns(**query), len(columns))
    shared = include_shared if include_shared is not None else settings.mapping_shared_patterns
    if shared and any(b is None for b in best):
        others = _best(shared_mapping_patterns(**query), len(columns))
        best = [own if own is not None else other for own, other in zip(best, others, strict=True)]
    return {
        column: LearnedHint(
            field=m.field,
            unit=m.unit,
            similarity=1.0 - m.distance,
            confidence=m.confidence,
            pattern_key=m.pattern_key,
            shared=m.shared,
            pattern_id=str(m.pattern_id) if m.pattern_id else None,
        )
        for column, m in zip(columns, best, strict=True)
        if m is not None
    }


def record_applied(session: Session, hints: Sequence[LearnedHint]) -> None:
    """Count the uses of this tenant's patterns that decided a proposal."""
    mark_patterns_applied(
        session=session, pattern_ids=[uuid.UUID(h.pattern_id) for h in hints if h.pattern_id]
    )


@dataclass(frozen=True)
class Confirmation:
    pattern_id: uuid.UUID
    insight_type: str  # confirmed | corrected
    field: str | None
    unit: str | None
    scale: float


def _scale(field: str | None, unit: str | None) -> float:
    if field is None or unit is None:
        return 1.0
    target = next(f for f in load_knowledge().fields if f.name == field)
    if target.dimension == "size" and unit in SIZE_TO_GIB:
        return SIZE_TO_GIB[unit] / SIZE_TO_GIB[target.unit or "GiB"]
    return 1.0


def _validate(field: str | None, unit: str | None) -> None:
    if field is not None and field not in canonical_fields():
        raise MappingError(f"{field!r} is not a canonical asset field")
    if unit is not None:
        target = next((f for f in load_knowledge().fields if f.name == field), None)
        if target is None or target.dimension != "size" or unit not in SIZE_TO_GIB:
            raise MappingError(
                f"unit {unit!r} does not apply to field {field!r} (sizes: {sorted(SIZE_TO_GIB)})"
            )


def confirm_mapping(
    session: Session,
    tenant: Tenant,
    *,
    source_column: str,
    field: str | None,
    unit: str | None = None,
    proposed_field: str | None = None,
    data_import_id: uuid.UUID | None = None,
    sheet_name: str = "",
    values: pd.Series | None = None,
    confirmed_by: str | None = None,
    share: bool = False,
    embedder: Embedder | None = None,
) -> Confirmation:
    """Record that ``source_column`` maps to ``field`` (``None``: no canonical field) for this tenant.

    With ``data_import_id`` the stored proposal of that column is updated too (field,
    ``method='user'``, confirmed) and what it had proposed decides whether this is a
    confirmation or a correction; otherwise ``proposed_field`` says it. ``share=True`` lets
    other tenants that opt in reuse the pattern (the header, field and unit only). ``values``
    (a sample of the column) only adds its value kind to the pattern's evidence.
    """
    _validate(field, unit)
    proposal = None
    if data_import_id is not None:
        proposal = field_mapping_of(
            session=session, data_import_id=data_import_id, sheet_name=sheet_name, source_column=source_column
        )
        if proposal is None:
            raise MappingError(
                f"import {data_import_id} has no column {source_column!r} in sheet {sheet_name!r}"
            )
        proposed_field = proposal.target_field
    insight = "confirmed" if proposed_field == field else "corrected"
    scale = _scale(field, unit)
    if unit is None and proposal is not None and proposal.target_field == field:
        # Confirming the proposed field without naming a unit keeps the proposed unit.
        unit = proposal.evidence.get("unit")
        scale = float(proposal.evidence.get("scale", 1.0))
    evidence: dict[str, object] = {"unit": unit, "scale": scale, "source_header": source_column}
    if proposed_field != field:
        evidence["corrected_from"] = proposed_field
    if confirmed_by:
        evidence["confirmed_by"] = confirmed_by
    if values is not None:
        kind, share_of_kind = profile_columns(pd.DataFrame({"v": values}))["v"].dominant()
        evidence.update(value_kind=kind, value_kind_share=round(share_of_kind, 3))
    vector = (embedder or get_embedder()).embed([pattern_text(source_column)])[0]
    pattern_id = save_mapping_pattern(
        session=session,
        tenant=tenant,
        pattern_key=pattern_text(source_column),
        field=field,
        embedding=vector,
        evidence=evidence,
        insight_type=insight,
        shareable=share,
    )
    if proposal is not None:
        mark_mapping_confirmed(
            session=session,
            mapping_id=proposal.id,
            field=field,
            confirmed_by=confirmed_by,
            evidence={
                **proposal.evidence,
                "scale": scale,
                "unit": unit,
                "needs_review": False,
                "pattern_id": str(pattern_id),
            },
        )
    return Confirmation(pattern_id=pattern_id, insight_type=insight, field=field, unit=unit, scale=scale)
