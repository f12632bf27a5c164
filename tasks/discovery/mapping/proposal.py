"""What the mapper proposes for one column, and what a learned pattern contributes to it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

# How a proposal was reached (stored in import_field_mappings.method).
METHODS = ("exact", "alias", "model", "signature", "learned", "shared", "user", "unmapped")


@dataclass(frozen=True)
class ColumnMapping:
    """One source column -> one canonical field (``None``: no canonical field, kept raw)."""

    source: str
    field: str | None
    confidence: float  # for an unmapped column: how sure we are that it has no canonical field
    method: str  # one of METHODS
    scale: float = 1.0  # multiply source values by this to get the field's unit
    unit: str | None = None  # the source column's unit (MiB, GB, %, ...), when it has one
    needs_review: bool = False  # below the review threshold, or a doubtful unit
    evidence: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)


@dataclass(frozen=True)
class LearnedHint:
    """A confirmed mapping found for a column by similarity (own tenant, or shared if opted in)."""

    field: str | None
    unit: str | None
    similarity: float  # 1 - cosine distance to the stored pattern
    confidence: float  # the stored pattern's confidence
    pattern_key: str  # the header the pattern was confirmed on
    shared: bool = False  # found through the cross-tenant path
    pattern_id: str | None = None  # this tenant's pattern (None for a shared one)


@dataclass(frozen=True)
class SheetProposal:
    columns: tuple[ColumnMapping, ...]
    format: str | None  # known format recognised from the header row, if any
