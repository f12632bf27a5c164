"""Map source columns to canonical asset fields by alias (header text only).

This is the deterministic baseline; value profiles, embeddings and learned patterns
(later work) refine it. A column with no match maps to ``None`` and stays in the raw
record (and in ``custom_attributes``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from db.repositories.imports import load_field_mappings, save_field_mappings
from mfactory.canonical import canonical_fields, normalise_header
from tasks.discovery.imports_of_run import DEPENDENCIES, INVENTORY, run_imports
from tasks.phases import DISCOVERY, PhaseContext
from tasks.steps import step_task


@dataclass(frozen=True)
class ColumnMapping:
    source: str
    field: str | None
    confidence: float
    method: str  # exact | alias | scaled_alias | unmapped
    scale: float = 1.0


def _alias_index() -> dict[str, tuple[str, str, float]]:
    index: dict[str, tuple[str, str, float]] = {}
    for name, spec in canonical_fields().items():
        index.setdefault(name, (name, "exact", 1.0))
        for alias in spec.aliases:
            index.setdefault(normalise_header(alias), (name, "alias", 1.0))
        for alias, factor in spec.scaled.items():
            index.setdefault(normalise_header(alias), (name, "scaled_alias", factor))
    return index


def map_columns(headers: list[str]) -> list[ColumnMapping]:
    """One mapping per header; each canonical field is taken by at most one column."""
    index = _alias_index()
    taken: set[str] = set()
    result = []
    for header in headers:
        hit = index.get(normalise_header(header))
        if hit is None or hit[0] in taken:
            result.append(ColumnMapping(source=header, field=None, confidence=0.0, method="unmapped"))
            continue
        field, method, scale = hit
        taken.add(field)
        confidence = 1.0 if method == "exact" else 0.9
        result.append(ColumnMapping(header, field, confidence, method, scale))
    return result


# --- the step --------------------------------------------------------------------------

DEPENDENCY_FIELDS: dict[str, tuple[str, ...]] = {
    "source": (
        "source",
        "source_asset_name",
        "source_server_name",
        "source_server",
        "parent",
        "from",
        "src",
        "source_host",
        "client",
    ),
    "target": (
        "target",
        "target_asset_name",
        "destination_server_name",
        "destination_server",
        "child",
        "to",
        "dst",
        "destination",
        "target_host",
        "server",
    ),
    "dependency_type": ("dependency_type", "type", "relationship_type", "relation", "kind"),
    "port": ("port", "destination_port", "target_port", "dst_port"),
    "protocol": ("protocol", "transport"),
}


def map_dependency_columns(headers: list[str]) -> list[ColumnMapping]:
    """Map a dependency export's columns to source/target/type/port/protocol."""
    index = {normalise_header(a): f for f, aliases in DEPENDENCY_FIELDS.items() for a in aliases}
    taken: set[str] = set()
    result = []
    for header in headers:
        target = index.get(normalise_header(header))
        if target is None or target in taken:
            result.append(ColumnMapping(header, None, 0.0, "unmapped"))
        else:
            taken.add(target)
            result.append(ColumnMapping(header, target, 0.9, "alias"))
    return result


def propose_mappings(session: Session, ctx: PhaseContext) -> dict[str, Any]:
    """Map every column of every sheet of this run's imports and store the proposals."""
    report: dict[str, Any] = {"mapped": 0, "unmapped": 0, "inventory_mapped": 0}
    for kind, mapper in ((INVENTORY, map_columns), (DEPENDENCIES, map_dependency_columns)):
        for data_import in run_imports(session, ctx, kind):
            for sheet in data_import.sheets:
                mappings = mapper(sheet["columns"])
                save_field_mappings(
                    session=session,
                    tenant=ctx.tenant,
                    data_import_id=data_import.id,
                    sheet_name=sheet["name"],
                    mappings=[
                        {
                            "source_column": m.source,
                            "target_field": m.field,
                            "confidence": m.confidence,
                            "method": m.method,
                            "evidence": {"scale": m.scale, "kind": kind},
                        }
                        for m in mappings
                    ],
                )
                report["mapped"] += sum(m.field is not None for m in mappings)
                if kind == INVENTORY and not any(m.field for m in mappings):
                    where = data_import.source_name + (f" [{sheet['name']}]" if sheet["name"] else "")
                    columns = sheet["columns"][:12]
                    raise ValueError(f"{where}: no column matches a canonical asset field ({columns})")
                report["unmapped"] += sum(m.field is None for m in mappings)
    return report


attribute_mapping = step_task(DISCOVERY, "attribute_mapping", propose_mappings)


def stored_mappings(session: Session, data_import_id: Any) -> dict[str, list[ColumnMapping]]:
    """The mappings saved for an import, per sheet, as ``ColumnMapping``s."""
    by_sheet: dict[str, list[ColumnMapping]] = {}
    for row in load_field_mappings(session=session, data_import_id=data_import_id):
        by_sheet.setdefault(row.sheet_name, []).append(
            ColumnMapping(
                row.source_column,
                row.target_field,
                row.confidence,
                row.method,
                float(row.evidence.get("scale", 1.0)),
            )
        )
    return by_sheet
