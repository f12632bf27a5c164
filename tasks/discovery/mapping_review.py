"""Column mappings a human must look at, and applying their answer before cleansing uses them."""

from __future__ import annotations

from typing import Any

import pandas as pd
from sqlalchemy.orm import Session

from db.models import ImportFieldMapping, SecurityAuditLog
from db.repositories.imports import mappings_of_run
from mfactory.canonical import canonical_fields
from tasks.discovery.imports_of_run import INVENTORY
from tasks.discovery.mapping.learning import confirm_mapping
from tasks.phases import PhaseContext

UNMAPPED = "unmapped"


def _run_mappings(session: Session, ctx: PhaseContext) -> list[tuple[ImportFieldMapping, str]]:
    """The column mappings of this run's inventory files (dependency files map to edge fields,
    which are fixed roles, not canonical asset fields, and are not reviewed)."""
    return mappings_of_run(session=session, phase_flow_id=ctx.phase_flow_id, source_kind=INVENTORY)


def flagged_mappings(*, session: Session, ctx: PhaseContext, threshold: float) -> pd.DataFrame:
    """Proposed (not yet confirmed) mappings of this run's imports below ``threshold``."""
    rows = [
        {
            "file": name,
            "sheet": m.sheet_name,
            "source_column": m.source_column,
            "proposed": m.target_field,
            "confidence": round(m.confidence, 2),
        }
        for m, name in _run_mappings(session, ctx)
        if m.target_field is not None and m.confidence < threshold and not m.confirmed_by_user
    ]
    return pd.DataFrame(rows, columns=["file", "sheet", "source_column", "proposed", "confidence"])


def apply_mapping_answers(session: Session, ctx: PhaseContext) -> dict[str, Any]:
    """Apply ``mapping_overrides`` and ``mapping_confirmed`` from the step parameters.

    Overrides name a source column (in any of this run's files) and a canonical field or
    ``"unmapped"``; confirmations keep the proposal. Both mark the mapping as confirmed by the
    reviewer, are learned as patterns for the tenant's later imports, and are audited.
    """
    overrides: dict[str, str] = ctx.params.get("mapping_overrides") or {}
    confirmed = set(ctx.params.get("mapping_confirmed") or [])
    if not overrides and not confirmed:
        return {"mappings_overridden": 0, "mappings_confirmed": 0}
    fields = canonical_fields()
    unknown = {c: f for c, f in overrides.items() if f != UNMAPPED and f not in fields}
    if unknown:
        raise ValueError(f"mapping overrides name unknown canonical fields: {unknown}")
    user = str(ctx.params.get("user") or "reviewer")
    mappings = _run_mappings(session, ctx)
    missing = sorted(set(overrides) - {m.source_column for m, _ in mappings})
    if missing:
        raise ValueError(f"mapping overrides name columns not in this run's files: {missing}")
    changed = kept = 0
    for mapping, _ in mappings:
        column = mapping.source_column
        if column not in overrides and column not in confirmed:
            continue
        before = mapping.target_field
        if column in overrides:
            after = None if overrides[column] == UNMAPPED else overrides[column]
            changed += 1
        else:
            after = before
            kept += 1
        # Updates the stored proposal (field, unit scale, confirmed) and learns the pattern for
        # this tenant's next imports (agent_learning_patterns, pgvector).
        confirm_mapping(
            session,
            ctx.tenant,
            source_column=column,
            field=after,
            data_import_id=mapping.data_import_id,
            sheet_name=mapping.sheet_name,
            confirmed_by=user,
        )
        session.add(
            SecurityAuditLog(
                client_account_id=ctx.client_account_id,
                engagement_id=ctx.engagement_id,
                actor=user,
                action="mapping_override" if column in overrides else "mapping_confirmed",
                target_table="import_field_mappings",
                target_id=mapping.id,
                details={"column": column, "before": before, "after": after},
            )
        )
    session.flush()
    session.expire_all()
    return {"mappings_overridden": changed, "mappings_confirmed": kept}
