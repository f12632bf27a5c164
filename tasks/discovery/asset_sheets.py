"""The rows of an inventory's asset sheet, with the columns its enrichment sheets add.

Mapping (on a sample) and cleansing (on every row) must see the same columns: an RVTools
``vInfo`` sheet's own columns plus, per VM, what ``vCPU``, ``vMemory``, ``vDisk``... contribute.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd
from sqlalchemy.orm import Session

from db.models import DataImport
from db.repositories.imports import load_raw_frame
from db.repositories.samples import sample_raw_frame
from tasks.discovery.formats import ASSETS
from tasks.discovery.sheet_joins import enrich


def is_asset_sheet(sheet: Mapping[str, Any]) -> bool:
    """Enrichment and reference sheets are no asset lists: they reach assets only through joins."""
    return sheet.get("role", ASSETS) == ASSETS


def sheet_frame(session: Session, data_import: DataImport, sheet: Mapping[str, Any]) -> pd.DataFrame:
    """The valid rows of an asset sheet with the columns joined from its enrichment sheets."""
    frame = load_raw_frame(
        session=session, data_import_id=data_import.id, sheet_name=sheet["name"], valid_only=True
    )
    joins = sheet.get("joins") or []
    if not joins:
        return frame
    tables = {
        j["sheet"]: load_raw_frame(
            session=session, data_import_id=data_import.id, sheet_name=j["sheet"], valid_only=True
        )
        for j in joins
    }
    return enrich(frame, tables, joins)


def sheet_sample(
    session: Session, data_import: DataImport, sheet: Mapping[str, Any], rows: int
) -> pd.DataFrame:
    """The first ``rows`` rows of an asset sheet as strings, joined columns included."""
    columns = list(sheet["columns"])
    if not sheet.get("joins"):
        return sample_raw_frame(
            session=session,
            data_import_id=data_import.id,
            sheet_name=sheet["name"],
            columns=columns,
            rows=rows,
        )
    frame = sheet_frame(session, data_import, sheet).head(rows).reindex(columns=columns)
    return frame.astype(object).where(frame.notna(), "")


def source_asset_frames(source: Any) -> list[tuple[Any, pd.DataFrame]]:
    """A read (not imported) source's asset sheets with their joined columns, in metadata order.

    What ``mfactory map`` shows must be what discovery will map: the same sheets, the same columns.
    """
    tables = {sheet.name: sheet.frame for sheet in source.sheets}
    out = []
    for sheet in source.sheets:
        metadata = sheet.metadata()
        if not is_asset_sheet(metadata):
            continue
        joins = metadata.get("joins") or []
        frame = (
            enrich(sheet.frame, {j["sheet"]: tables[j["sheet"]] for j in joins}, joins)
            if joins
            else sheet.frame
        )
        frame = frame.reindex(columns=list(metadata["columns"]))
        out.append((sheet, frame.astype(object).where(frame.notna(), "")))
    return out
