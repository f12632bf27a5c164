"""Shared helpers of the database integration tests: rows to insert, snapshots, error checks."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import psycopg
import pytest
from sqlalchemy import Connection, Engine, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from db.models import DataImport, RawImportRecord
from db.session import Tenant


def new_import(tenant: Tenant, name: str = "inventory.csv", **values: Any) -> DataImport:
    """A ``DataImport`` of ``tenant`` with a fresh id (not yet added to a session)."""
    return DataImport(
        id=values.pop("id", uuid.uuid4()),
        client_account_id=tenant.client_account_id,
        engagement_id=tenant.engagement_id,
        source_name=name,
        source_kind="inventory",
        source_format="csv",
        file_sha256=uuid.uuid4().hex,
        row_count=values.pop("row_count", 0),
        rejected_count=0,
        status=values.pop("status", "imported"),
        errors=[],
        **values,
    )


def open_raw_rows(session: Session, data_import_id: uuid.UUID) -> None:
    """Flush, then give the import its raw-records partition (empty, attached): rows can then be
    INSERTed one by one through ``raw_import_records``, under RLS and the foreign keys, as tests do.
    An import step COPYs into the partition before attaching it instead (migration 0013).
    """
    session.flush()
    session.execute(text("SELECT migration.open_raw_partition(:d)"), {"d": data_import_id})
    session.execute(text("SELECT migration.attach_raw_partition(:d, false)"), {"d": data_import_id})


def new_record(tenant: Tenant, data_import_id: uuid.UUID, row_number: int, **record: Any) -> RawImportRecord:
    """A ``RawImportRecord`` of ``tenant`` under ``data_import_id`` (not yet added to a session)."""
    return RawImportRecord(
        id=uuid.uuid4(),
        client_account_id=tenant.client_account_id,
        engagement_id=tenant.engagement_id,
        data_import_id=data_import_id,
        sheet_name="",
        row_number=row_number,
        record=record or {"hostname": f"host-{row_number:03d}"},
        is_valid=True,
        errors=None,
    )


def snapshot(admin_engine: Engine, table: str, tenant: Tenant) -> list[dict[str, Any]]:
    """Every row of ``migration.<table>`` of ``tenant`` as JSON, ordered by id (read as superuser)."""
    with admin_engine.connect() as conn:
        rows: list[dict[str, Any]] = conn.execute(
            text(
                f"SELECT coalesce(jsonb_agg(to_jsonb(t) ORDER BY t.id), '[]'::jsonb)"
                f" FROM migration.{table} t"
                " WHERE t.client_account_id = :c AND t.engagement_id = :e"
            ),
            {"c": tenant.client_account_id, "e": tenant.engagement_id},
        ).scalar_one()
    return rows


def change_log_rows(admin_engine: Engine, flow_run_id: uuid.UUID) -> list[dict[str, Any]]:
    """The change_log rows of one flow, oldest first (read as superuser)."""
    with admin_engine.connect() as conn:
        return [
            dict(row._mapping)
            for row in conn.execute(
                text(
                    "SELECT id, client_account_id, engagement_id, batch_id, table_name, operation,"
                    " row_id, row_ids, before_image, undone_at, undone_by"
                    " FROM migration.change_log WHERE flow_run_id = :f ORDER BY batch_id, id"
                ),
                {"f": flow_run_id},
            )
        ]


def sqlstate(exc: BaseException) -> str | None:
    """The SQLSTATE of a (wrapped) psycopg error, if any."""
    orig = exc.orig if isinstance(exc, DBAPIError) else exc
    return getattr(orig, "sqlstate", None)


@contextmanager
def raises_sqlstate(*codes: str) -> Iterator[None]:
    """Expect a database error whose SQLSTATE is one of ``codes`` (through SQLAlchemy or psycopg's own)."""
    with pytest.raises((DBAPIError, psycopg.Error)) as info:
        yield
    assert sqlstate(info.value) in codes, f"expected SQLSTATE {codes}, got {info.value!r}"


# SQLSTATEs used by the tests.
INSUFFICIENT_PRIVILEGE = "42501"  # also "new row violates row-level security policy"
FOREIGN_KEY_VIOLATION = "23503"
CHECK_VIOLATION = "23514"
FEATURE_NOT_SUPPORTED = "0A000"


def exec_as_superuser(conn: Connection, sql: str, **params: Any) -> None:
    """Run one statement on a superuser connection (RLS does not apply to it)."""
    conn.execute(text(sql), params)
