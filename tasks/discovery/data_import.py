"""Step 1 — Data Import: every row of every source file into raw_import_records by COPY.

The format is detected from the content and recorded (``data_imports.source_format``), with
what each sheet is for, its header row and the units of its columns (``data_imports.sheets``),
so mapping and cleansing work from evidence rather than from the file name. Rows that cannot
be read as rows of their table are kept but marked invalid, listed in the import's errors file,
and the good rows go on.
"""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import pandas as pd
from sqlalchemy.orm import Session

from db.models import DataImport
from db.repositories.imports import (
    PROBLEM_COLUMNS,
    RawSheet,
    copy_raw_records,
    create_data_import,
    lock_for_raw_import,
)
from db.session import Tenant
from mfactory.errors import ImportFormatError
from tasks.discovery.errors_file import errors_file_path, write_errors_file
from tasks.discovery.formats import ASSETS, DEPENDENCIES, ENRICHMENT
from tasks.discovery.imports_of_run import DEPENDENCIES as DEPENDENCY_FILES
from tasks.discovery.imports_of_run import INVENTORY
from tasks.discovery.readers import SourceFile, SourceSheet, read_source
from tasks.phases import DISCOVERY, PhaseContext
from tasks.steps import step_task


def sources(ctx: PhaseContext) -> list[tuple[str, Path]]:
    """(kind, path) of every file this discovery run imports (``inventory``: one path or several)."""
    inventory = ctx.params.get("inventory") or []
    listed = [(INVENTORY, Path(p)) for p in ([inventory] if isinstance(inventory, str) else inventory)]
    listed += [(DEPENDENCY_FILES, Path(p)) for p in ctx.params.get("dependencies") or []]
    return listed


def sheet_roles(source: SourceFile, kind: str) -> list[str]:
    """The role of each sheet as this import uses it; refuses a file that cannot serve as ``kind``.

    A dependency file's tables are all connection lists, whatever they look like. An inventory
    needs an asset list: a dependency export, or enrichment tables without theirs (a vDisk tab
    alone), is refused with a message that says what the file is.
    """
    if kind == DEPENDENCY_FILES:
        return [DEPENDENCIES] * len(source.sheets)
    roles = [s.role for s in source.sheets]
    if ASSETS not in roles:
        found = ", ".join(f"{s.name or 'table'} ({s.role})" for s in source.sheets)
        hint = " pass it as a dependency file" if DEPENDENCIES in roles else " it holds no asset list"
        raise ImportFormatError(f"{source.label} with {found}:{hint}", file=str(source.path))
    return roles


def _sheet_rejects(sheet: SourceSheet) -> pd.DataFrame:
    problems = sheet.rejects.assign(sheet_name=sheet.name, severity="row_rejected")
    return problems[PROBLEM_COLUMNS]


def copy_source_rows(
    *, session: Session, tenant: Tenant, data_import_id: uuid.UUID, source: SourceFile
) -> int:
    """COPY every row of every sheet of ``source`` into raw_import_records; returns the rows written."""
    return copy_raw_records(
        session=session,
        tenant=tenant,
        data_import_id=data_import_id,
        sheets=[RawSheet(name=s.name, frame=s.frame, rejects=s.rejects) for s in source.sheets],
    )


def record_source(
    session: Session, ctx: PhaseContext, *, kind: str, path: Path, source: SourceFile, sheets: list[Any]
) -> DataImport:
    """The ``data_imports`` row of one source file of this run, pending until its rows are in."""
    return create_data_import(
        session=session,
        tenant=ctx.tenant,
        master_flow_id=ctx.master_flow_id,
        phase_flow_id=ctx.phase_flow_id,
        source_name=str(path),
        source_kind=kind,
        source_format=source.format,
        file_sha256=source.sha256,
        status="pending",
        sheets=sheets,
    )


def import_file(session: Session, ctx: PhaseContext, kind: str, path: Path) -> dict[str, Any]:
    """Read one file, record it in data_imports and COPY all its rows; returns the file's metrics."""
    source = read_source(path)
    roles = sheet_roles(source, kind)
    sheets = [{**s.metadata(), "role": role} for s, role in zip(source.sheets, roles, strict=True)]
    for entry in sheets:
        if entry["role"] != ASSETS:  # only an asset list gets columns joined from other sheets
            entry["columns"] = entry["columns"][: entry["source_columns"]]
            entry["joins"] = []
    record = record_source(session, ctx, kind=kind, path=path, source=source, sheets=sheets)
    record.row_count = copy_source_rows(
        session=session, tenant=ctx.tenant, data_import_id=record.id, source=source
    )
    rejects = [_sheet_rejects(s) for s in source.sheets if len(s.rejects)]
    rejected = sum(int(r["row_number"].nunique()) for r in rejects)
    record.status = "imported"
    record.rejected_count = rejected
    if rejects:
        errors_path = write_errors_file(
            path=errors_file_path(record.id), source_name=str(path), problems=pd.concat(rejects)
        )
        record.errors_file = str(errors_path)
    return {
        "kind": kind,
        "file": str(path),
        "format": source.format,
        "container": source.container,
        "rows": record.row_count,
        "rows_rejected": rejected,
        "errors_file": record.errors_file,
        "sheets": {s["name"] or "(table)": s["role"] for s in sheets},
        "enriched_from": sorted({j["sheet"] for s in sheets for j in s["joins"]}),
        "data_import_id": str(record.id),
    }


def import_sources(session: Session, ctx: PhaseContext) -> dict[str, Any]:
    """Import each source (format detected from content); rows COPYed with their row numbers."""
    listed = sources(ctx)
    if not any(kind == INVENTORY for kind, _ in listed):
        raise ValueError("discovery needs an inventory file (parameter 'inventory')")
    files = [import_file(session, ctx, kind, path) for kind, path in listed]
    return {
        "files": files,
        "rows": sum(f["rows"] for f in files),
        "rows_rejected": sum(f["rows_rejected"] for f in files),
        "enrichment_sheets": sum(role == ENRICHMENT for f in files for role in f["sheets"].values()),
    }


def _lock_for_raw_import(session: Session) -> None:
    lock_for_raw_import(session=session)


# The attach locks are taken before anything else of the step, the undo of an earlier attempt
# included (migration 0013: otherwise concurrent import steps can deadlock).
data_import = step_task(DISCOVERY, "data_import", import_sources, before=_lock_for_raw_import)
