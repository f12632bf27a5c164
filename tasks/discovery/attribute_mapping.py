"""Attribute mapping: every source column -> a canonical asset field (or unmapped), with evidence.

The mapper (``tasks/discovery/mapping/``) weighs header text, its meaning (MiniLM
embeddings), a profile of the values, known export formats and what users of this tenant
confirmed before (learned patterns). A column with no canonical field maps to ``None`` and
stays in the raw record (and in ``custom_attributes``). Proposals below the review
threshold are stored with ``needs_review`` in their evidence.
"""

from __future__ import annotations

from typing import Any

import pandas as pd
from sqlalchemy.orm import Session

from db.repositories.imports import load_field_mappings, save_field_mappings
from tasks.discovery.asset_sheets import is_asset_sheet, sheet_sample
from tasks.discovery.dependency_columns import map_dependency_columns
from tasks.discovery.imports_of_run import DEPENDENCIES, INVENTORY, run_imports
from tasks.discovery.mapping.learning import find_learned, record_applied
from tasks.discovery.mapping.mapper import default_mapper
from tasks.discovery.mapping.proposal import ColumnMapping, SheetProposal
from tasks.phases import DISCOVERY, PhaseContext
from tasks.steps import step_task

__all__ = ["ColumnMapping", "map_columns", "map_frame", "propose_mappings", "stored_mappings"]


def map_frame(frame: pd.DataFrame, *, learned: dict[str, Any] | None = None) -> SheetProposal:
    """Propose a mapping for every column of ``frame`` (a sample of its rows is enough)."""
    return default_mapper().propose(frame, learned=learned)


def map_columns(headers: list[str]) -> list[ColumnMapping]:
    """Header-only proposals (no values to look at); each canonical field is taken at most once."""
    return list(map_frame(pd.DataFrame(columns=headers)).columns)


# --- the step --------------------------------------------------------------------------

#: Rows of a dependency list whose values may decide its columns (when headers do not).
DEPENDENCY_SAMPLE_ROWS = 200


def _stored(m: ColumnMapping, kind: str) -> dict[str, Any]:
    return {
        "source_column": m.source,
        "target_field": m.field,
        "confidence": m.confidence,
        "method": m.method,
        "evidence": {
            **m.evidence,
            "scale": m.scale,
            "unit": m.unit,
            "needs_review": m.needs_review,
            "kind": kind,
        },
    }


def _inventory_proposal(session: Session, data_import: Any, sheet: dict[str, Any]) -> SheetProposal:
    mapper = default_mapper()
    sample = sheet_sample(session, data_import, sheet, mapper.sample_rows)
    learned = find_learned(session, list(sheet["columns"]))
    proposal = mapper.propose(sample, learned=learned)
    decided = {m.source for m in proposal.columns if m.method == "learned"}
    record_applied(session, [h for c, h in learned.items() if c in decided])
    return proposal


def propose_mappings(session: Session, ctx: PhaseContext) -> dict[str, Any]:
    """Map every column of every asset and dependency sheet of this run's imports; store the proposals."""
    report: dict[str, Any] = {"mapped": 0, "unmapped": 0, "inventory_mapped": 0, "needs_review": 0}
    for kind in (INVENTORY, DEPENDENCIES):
        for data_import in run_imports(session, ctx, kind):
            for sheet in data_import.sheets:
                if kind == INVENTORY and not is_asset_sheet(sheet):
                    continue  # its columns are mapped as part of the asset sheet they enrich
                if kind == INVENTORY:
                    mappings = list(_inventory_proposal(session, data_import, sheet).columns)
                else:
                    sample = sheet_sample(session, data_import, sheet, DEPENDENCY_SAMPLE_ROWS)
                    mappings = map_dependency_columns(list(sheet["columns"]), sample)
                save_field_mappings(
                    session=session,
                    tenant=ctx.tenant,
                    data_import_id=data_import.id,
                    sheet_name=sheet["name"],
                    mappings=[_stored(m, kind) for m in mappings],
                )
                report["mapped"] += sum(m.field is not None for m in mappings)
                if kind == INVENTORY:
                    if not any(m.field for m in mappings):
                        where = data_import.source_name + (f" [{sheet['name']}]" if sheet["name"] else "")
                        columns = sheet["columns"][:12]
                        raise ValueError(f"{where}: no column matches a canonical asset field ({columns})")
                    report["inventory_mapped"] += sum(m.field is not None for m in mappings)
                    report["needs_review"] += sum(m.needs_review for m in mappings)
                report["unmapped"] += sum(m.field is None for m in mappings)
    return report


attribute_mapping = step_task(DISCOVERY, "attribute_mapping", propose_mappings)


def stored_mappings(session: Session, data_import_id: Any) -> dict[str, list[ColumnMapping]]:
    """The mappings saved for an import, per sheet, as ``ColumnMapping``s."""
    by_sheet: dict[str, list[ColumnMapping]] = {}
    for row in load_field_mappings(session=session, data_import_id=data_import_id):
        evidence = row.evidence or {}
        by_sheet.setdefault(row.sheet_name, []).append(
            ColumnMapping(
                source=row.source_column,
                field=row.target_field,
                confidence=row.confidence,
                method=row.method,
                scale=float(evidence.get("scale", 1.0)),
                unit=evidence.get("unit"),
                needs_review=bool(evidence.get("needs_review", False)),
                evidence=evidence,
            )
        )
    return by_sheet
