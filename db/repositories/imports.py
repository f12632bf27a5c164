"""Imports: the data_imports row, raw records by COPY, field mappings, rejects."""

from __future__ import annotations

import json
import logging
import secrets
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd
from psycopg.copy import QueuedLibpqWriter
from sqlalchemy import select, text, update
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from db.models import DataImport, ImportFieldMapping
from db.repositories.bulk import STATISTICS_THRESHOLD
from db.repositories.raw_copy_text import LINE_COLUMNS, RawRowsHeader, copy_lines
from db.session import Tenant, tenant_session

log = logging.getLogger(__name__)
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


def _raw_id_prefix() -> str:
    """The first 24 hex digits of this batch's record ids: a version-7 layout (48-bit milliseconds,
    then 42 random bits); each row completes its id with its row number as 8 hex digits.

    Ids that rise with the insert order land at the right edge of the primary-key and tenant-key
    B-trees instead of on random pages: on 100,000 rows that halves the cost of maintaining the
    indexes. Row numbers are unique within a sheet and the random bits keep batches apart; the
    primary key still refuses a collision rather than letting one through.
    """
    value = (
        (time.time_ns() // 1_000_000) << 80
        | 0x7 << 76
        | secrets.randbits(12) << 64
        | 0b10 << 62
        | secrets.randbits(30) << 32
    )
    return str(uuid.UUID(int=value))[:28]


def _import_problems(rejects: pd.DataFrame | None) -> dict[int, list[dict[str, Any]]]:
    """Problems of the rejected rows, keyed by row number."""
    if rejects is None or rejects.empty:
        return {}
    return {
        int(row): [
            {**problem, "severity": "row_rejected", "stage": "import"} for problem in group.to_dict("records")
        ]
        for row, group in rejects.set_index("row_number")[["column", "value", "reason"]].groupby(level=0)
    }


@dataclass(frozen=True)
class RawSheet:
    """One sheet of a source: its name, rows (index = file row number) and rejected rows' problems."""

    name: str
    frame: pd.DataFrame
    rejects: pd.DataFrame | None = None


def lock_for_raw_import(*, session: Session) -> None:
    """Take the locks an import's partition attach needs, before the step writes anything.

    Without them two concurrent import steps deadlock (migration 0013 says how); with them the
    second waits for the first to commit.
    """
    session.execute(text("SELECT migration.lock_for_raw_import()"))


def drop_emptied_raw_partitions(tenant: Tenant) -> int:
    """Drop the tenant's partitions whose import was undone, in a short transaction of their own.

    Best effort: detaching locks ``raw_import_records`` ACCESS EXCLUSIVE, so this waits at most
    ``lock_timeout`` (shorter than PostgreSQL's deadlock check) and otherwise leaves the empty
    tables for the next call; an empty partition is harmless.
    """
    try:
        with tenant_session(tenant) as session:
            session.execute(text("SET LOCAL lock_timeout = '500ms'"))
            return int(session.execute(text("SELECT migration.drop_orphan_raw_partitions()")).scalar_one())
    except OperationalError as exc:
        log.warning("empty raw partitions left for later: %s", exc.orig)
        return 0


def copy_raw_records(
    *, session: Session, tenant: Tenant, data_import_id: uuid.UUID, sheets: Sequence[RawSheet]
) -> int:
    """COPY every row of every sheet as a JSONB record into the import's own partition; returns the rows.

    ``open_raw_partition`` makes the import's empty partition table (this transaction's, pinned to
    the tenant and import by a CHECK, insert-only for the application), one plain COPY fills it,
    and ``attach_raw_partition`` attaches it under row-level security: indexes built and both
    tenant foreign keys validated in bulk, the insert captured for rollback, statistics gathered
    (migration 0013 says why). Rows listed in a sheet's ``rejects`` (row_number, column, value,
    reason) are kept too, as ``is_valid = false`` with their problems in ``errors``.
    """
    cursor = session.connection().connection.driver_connection.cursor()  # type: ignore[union-attr]
    cursor.execute("SELECT migration.open_raw_partition(%s)", (data_import_id,))
    partition = cursor.fetchone()[0]
    rows = sum(len(sheet.frame) for sheet in sheets)
    # A writer thread sends each chunk while the next is built (Arrow kernels release the GIL).
    copy_sql = f"COPY {partition} ({', '.join(LINE_COLUMNS)}) FROM STDIN"
    with cursor.copy(copy_sql, writer=QueuedLibpqWriter(cursor)) as copy:
        for sheet in sheets:
            header = RawRowsHeader(sheet_name=sheet.name, id_prefix=_raw_id_prefix())
            for chunk in copy_lines(sheet.frame, header, _import_problems(sheet.rejects)):
                copy.write(chunk)
    cursor.execute(
        "SELECT migration.attach_raw_partition(%s, %s)", (data_import_id, rows >= STATISTICS_THRESHOLD)
    )
    return int(cursor.fetchone()[0])


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


def field_mapping_of(
    *, session: Session, data_import_id: uuid.UUID, sheet_name: str, source_column: str
) -> ImportFieldMapping | None:
    """The stored proposal of one column of an import (None when the import has no such column)."""
    return session.scalars(
        select(ImportFieldMapping).where(
            ImportFieldMapping.data_import_id == data_import_id,
            ImportFieldMapping.sheet_name == sheet_name,
            ImportFieldMapping.source_column == source_column,
        )
    ).one_or_none()


def mark_mapping_confirmed(
    *,
    session: Session,
    mapping_id: uuid.UUID,
    field: str | None,
    confirmed_by: str | None,
    evidence: dict[str, Any],
) -> None:
    """A user's decision replaces the proposal: the field, full confidence, ``method='user'``."""
    session.execute(
        update(ImportFieldMapping)
        .where(ImportFieldMapping.id == mapping_id)
        .values(
            target_field=field,
            confidence=1.0,
            method="user",
            confirmed_by_user=True,
            confirmed_by=confirmed_by,
            evidence=evidence,
        )
    )
