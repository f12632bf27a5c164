"""Step 1 — Data Import: every row of every source file into raw_import_records by COPY."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from db.repositories.imports import copy_raw_records, create_data_import
from tasks.discovery.imports_of_run import DEPENDENCIES, INVENTORY
from tasks.discovery.readers import read_source
from tasks.phases import DISCOVERY, PhaseContext
from tasks.steps import step_task


def sources(ctx: PhaseContext) -> list[tuple[str, Path]]:
    """(kind, path) of every file this discovery run imports."""
    listed = [(INVENTORY, Path(ctx.params["inventory"]))] if ctx.params.get("inventory") else []
    listed += [(DEPENDENCIES, Path(p)) for p in ctx.params.get("dependencies") or []]
    return listed


def import_sources(session: Session, ctx: PhaseContext) -> dict[str, Any]:
    """Read each source (format detected from content) and COPY its rows, row numbers kept."""
    files = []
    for kind, path in sources(ctx):
        source = read_source(path)
        record = create_data_import(
            session=session,
            tenant=ctx.tenant,
            master_flow_id=ctx.master_flow_id,
            phase_flow_id=ctx.phase_flow_id,
            source_name=str(path),
            source_kind=kind,
            source_format=source.format,
            file_sha256=source.sha256,
            status="pending",
            sheets=[
                {"name": s.name, "columns": list(s.frame.columns), "rows": len(s.frame)}
                for s in source.sheets
            ],
        )
        rows = 0
        for sheet in source.sheets:
            frame = sheet.frame
            frame.index = range(2, len(frame) + 2)  # file row numbers: row 1 is the header
            copy_raw_records(
                session=session,
                tenant=ctx.tenant,
                data_import_id=record.id,
                sheet_name=sheet.name,
                frame=frame,
            )
            rows += len(frame)
        record.row_count = rows
        files.append(
            {
                "kind": kind,
                "file": str(path),
                "format": source.format,
                "rows": rows,
                "data_import_id": str(record.id),
            }
        )
    if not any(f["kind"] == INVENTORY for f in files):
        raise ValueError("discovery needs an inventory file (parameter 'inventory')")
    return {"files": files, "rows": sum(f["rows"] for f in files)}


data_import = step_task(DISCOVERY, "data_import", import_sources)
