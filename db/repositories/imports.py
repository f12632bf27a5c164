"""Imports: the data_imports row, raw records by COPY, field mappings, rejects."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pandas as pd
from sqlalchemy import select, text, update
from sqlalchemy.orm import Session

from db.models import DataImport, ImportFieldMapping
from db.repositories.bulk import copy_into
from db.session import Tenant

RAW_COLUMNS = (
    "id",
    "client_account_id",
    "engagement_id",
    "data_import_id",
    "sheet_name",
    "row_number",
    "record",
    "is_valid",
    "errors",
)
PROBLEM_COLUMNS = ["sheet_name", "row_number", "column", "value", "reason", "severity"]


def create_data_import(*, session: Session, tenant: Tenant, **values: Any) -> DataImport:
    row = DataImport(
        id=uuid.uuid4(),
        client_account_id=tenant.client_account_id,
        engagement_id=tenant.engagement_id,
        **values,
    )
    session.add(row)
    session.flush()
    return row


def copy_raw_records(
    *,
    session: Session,
    tenant: Tenant,
    data_import_id: uuid.UUID,
    sheet_name: str,
    frame: pd.DataFrame,
    rejects: pd.DataFrame | None = None,
) -> pd.Series:
    """COPY every row of ``frame`` (index = file row number) as JSONB; returns row -> raw id.

    Rows listed in ``rejects`` (row_number, column, value, reason) are kept too, as
    ``is_valid = false`` with their problems in ``errors``: nothing the client sent is lost.
    """
    ids = [uuid.uuid4() for _ in range(len(frame))]
    records = (
        frame.to_json(orient="records", lines=True, force_ascii=False).splitlines() if len(frame) else []
    )
    problems: dict[int, str] = {}
    if rejects is not None and len(rejects):
        problems = {
            int(row): json.dumps(
                [{**p, "severity": "row_rejected", "stage": "import"} for p in group.to_dict("records")]
            )
            for row, group in rejects.set_index("row_number")[["column", "value", "reason"]].groupby(level=0)
        }
    rows = (
        (
            raw_id,
            tenant.client_account_id,
            tenant.engagement_id,
            data_import_id,
            sheet_name,
            int(n),
            record,
            int(n) not in problems,
            problems.get(int(n)),
        )
        for raw_id, n, record in zip(ids, frame.index, records, strict=True)
    )
    copy_into(session=session, table="raw_import_records", columns=RAW_COLUMNS, rows=rows)
    return pd.Series(ids, index=frame.index, name="raw_import_record_id")


def save_field_mappings(
    *,
    session: Session,
    tenant: Tenant,
    data_import_id: uuid.UUID,
    sheet_name: str,
    mappings: list[dict[str, Any]],
) -> None:
    """Replace the mappings of one sheet of an import."""
    session.execute(
        ImportFieldMapping.__table__.delete().where(
            ImportFieldMapping.data_import_id == data_import_id,
            ImportFieldMapping.sheet_name == sheet_name,
        )
    )
    session.add_all(
        ImportFieldMapping(
            id=uuid.uuid4(),
            client_account_id=tenant.client_account_id,
            engagement_id=tenant.engagement_id,
            data_import_id=data_import_id,
            sheet_name=sheet_name,
            **m,
        )
        for m in mappings
    )
    session.flush()


def load_field_mappings(*, session: Session, data_import_id: uuid.UUID) -> list[ImportFieldMapping]:
    return list(
        session.scalars(
            select(ImportFieldMapping)
            .where(ImportFieldMapping.data_import_id == data_import_id)
            .order_by(ImportFieldMapping.sheet_name, ImportFieldMapping.id)
        )
    )


def load_raw_frame(
    *, session: Session, data_import_id: uuid.UUID, sheet_name: str = "", valid_only: bool = False
) -> pd.DataFrame:
    """The original rows of one sheet as strings (index = file row number) + ``raw_import_record_id``.

    ``valid_only`` leaves out rows rejected so far (at import, or by cleansing).
    """
    rows = session.execute(
        text(
            "SELECT id, row_number, record FROM migration.raw_import_records"
            " WHERE data_import_id = :d AND sheet_name = :s"
            + (" AND is_valid" if valid_only else "")
            + " ORDER BY row_number"
        ),
        {"d": data_import_id, "s": sheet_name},
    ).all()
    frame = pd.DataFrame.from_records([r.record for r in rows], index=[r.row_number for r in rows])
    frame = frame.fillna("").astype(str) if len(frame) else frame
    frame["raw_import_record_id"] = [r.id for r in rows]
    return frame


def mark_problems(*, session: Session, data_import_id: uuid.UUID, problems: pd.DataFrame) -> int:
    """Add each row's problems to its raw record; rejected rows become ``is_valid = false``.

    Problems found earlier (at import) stay: the new ones are appended, validity only drops.
    """
    if problems.empty:
        return 0
    grouped = [
        {
            "sheet_name": sheet,
            "row_number": int(row),
            "is_valid": not (group["severity"] == "row_rejected").any(),
            "errors": group[["column", "value", "reason", "severity"]].to_dict("records"),
        }
        for (sheet, row), group in problems.groupby(["sheet_name", "row_number"], sort=True)
    ]
    result = session.execute(
        text(
            "UPDATE migration.raw_import_records r SET is_valid = r.is_valid AND p.is_valid,"
            " errors = CASE WHEN jsonb_typeof(r.errors) = 'array' THEN r.errors || p.errors ELSE p.errors END"
            " FROM jsonb_to_recordset(CAST(:payload AS jsonb))"
            "   AS p(sheet_name text, row_number int, is_valid boolean, errors jsonb)"
            " WHERE r.data_import_id = :d AND r.sheet_name = p.sheet_name AND r.row_number = p.row_number"
        ),
        {"payload": json.dumps(grouped), "d": data_import_id},
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


def load_problems(*, session: Session, data_import_id: uuid.UUID) -> pd.DataFrame:
    """Every problem recorded on the raw rows of an import (import and cleansing), in row order."""
    rows = session.execute(
        text(
            "SELECT r.sheet_name, r.row_number, coalesce(e ->> 'column', '') AS column,"
            " coalesce(e ->> 'value', '') AS value, coalesce(e ->> 'reason', e #>> '{}') AS reason,"
            " coalesce(e ->> 'severity', 'row_rejected') AS severity"
            " FROM migration.raw_import_records r"
            " CROSS JOIN LATERAL jsonb_array_elements(r.errors) AS e"
            " WHERE r.data_import_id = :d AND jsonb_typeof(r.errors) = 'array'"
            " ORDER BY r.sheet_name, r.row_number"
        ),
        {"d": data_import_id},
    ).all()
    return pd.DataFrame([tuple(r) for r in rows], columns=PROBLEM_COLUMNS)


def finish_data_import(
    *, session: Session, data_import_id: uuid.UUID, row_count: int, rejected_count: int, errors: list[Any]
) -> None:
    session.execute(
        update(DataImport)
        .where(DataImport.id == data_import_id)
        .values(status="imported", row_count=row_count, rejected_count=rejected_count, errors=errors)
    )


def mappings_of_run(
    *, session: Session, phase_flow_id: uuid.UUID, source_kind: str
) -> list[tuple[ImportFieldMapping, str]]:
    """(mapping, file name) of every column a discovery run's imports of ``source_kind`` mapped."""
    found = session.execute(
        select(ImportFieldMapping, DataImport.source_name)
        .join(DataImport, DataImport.id == ImportFieldMapping.data_import_id)
        .where(DataImport.phase_flow_id == phase_flow_id, DataImport.source_kind == source_kind)
        .order_by(DataImport.source_name, ImportFieldMapping.sheet_name, ImportFieldMapping.source_column)
    )
    return [(row[0], row[1]) for row in found]


def errors_files_of_phases(*, session: Session, phase_flow_ids: list[uuid.UUID]) -> list[str]:
    """Errors files written for the imports of these phase runs (to remove them with the imports)."""
    rows = session.execute(
        select(DataImport.errors_file).where(
            DataImport.phase_flow_id.in_(phase_flow_ids), DataImport.errors_file.is_not(None)
        )
    )
    return [str(path) for path in rows.scalars()]
