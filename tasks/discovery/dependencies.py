"""Step 5 — Dependencies: dependency exports become edges between this run's assets."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from db.repositories.assets import link_dependencies
from tasks.discovery.attribute_mapping import stored_mappings
from tasks.discovery.imports_of_run import DEPENDENCIES, run_imports
from tasks.phases import DISCOVERY, PhaseContext
from tasks.steps import step_task


def build_dependencies(session: Session, ctx: PhaseContext) -> dict[str, Any]:
    """Resolve each dependency row's two ends to assets by name (set-based SQL)."""
    metrics: dict[str, Any] = {"edges": 0, "unresolved_rows": 0, "rows": 0, "files": 0}
    for data_import in run_imports(session, ctx, DEPENDENCIES):
        for sheet, mappings in stored_mappings(session, data_import.id).items():
            columns = {m.field: m.source for m in mappings if m.field}
            if "source" not in columns or "target" not in columns:
                raise ValueError(
                    f"{data_import.source_name}{f' [{sheet}]' if sheet else ''}: a dependency file needs a "
                    f"source and a target column; found {sorted(columns)}"
                )
            counts = link_dependencies(
                session=session,
                tenant=ctx.tenant,
                master_flow_id=ctx.assets_run_id,
                data_import_id=data_import.id,
                source_column=columns["source"],
                target_column=columns["target"],
                type_column=columns.get("dependency_type"),
                port_column=columns.get("port"),
                protocol_column=columns.get("protocol"),
            )
            metrics["edges"] += counts["created"]
            metrics["unresolved_rows"] += counts["unresolved"]
            metrics["rows"] += counts["rows"]
            metrics["files"] += 1
    return metrics


dependencies = step_task(DISCOVERY, "dependencies", build_dependencies)
