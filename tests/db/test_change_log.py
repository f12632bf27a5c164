"""Change capture into change_log and its undo (``db.repositories.changes.undo_flow_changes``)."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import date
from typing import Any

import pytest
from sqlalchemy import Engine, delete, func, text, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from db.models import Asset, DataImport, Feedback, RawImportRecord
from db.repositories.changes import pending_change_count, undo_flow_changes
from db.session import Tenant, tenant_session
from mfactory.settings import EMBEDDING_DIM
from tests.db.helpers import (
    CHECK_VIOLATION,
    change_log_rows,
    new_import,
    new_record,
    open_raw_rows,
    raises_sqlstate,
    snapshot,
)

MakeTenant = Callable[..., Tenant]
TABLES = ("data_imports", "raw_import_records")
Seeded = tuple[uuid.UUID, list[uuid.UUID]]  # (data import id, its raw record ids sorted)


@pytest.fixture
def tenant(make_tenant: MakeTenant) -> Tenant:
    return make_tenant()


@pytest.fixture
def seeded(tenant: Tenant) -> Seeded:
    """Pre-existing data (written with no flow id): one import with three raw records."""
    data_import = new_import(tenant, name="seed.csv", row_count=3)
    records = [new_record(tenant, data_import.id, n) for n in (1, 2, 3)]
    with tenant_session(tenant) as session:
        session.add(data_import)
        open_raw_rows(session, data_import.id)
        session.add_all(records)
    return data_import.id, sorted(r.id for r in records)


def _snapshots(admin_engine: Engine, tenant: Tenant) -> dict[str, list[dict[str, Any]]]:
    return {t: snapshot(admin_engine, t, tenant) for t in TABLES}


def _undo(tenant: Tenant, flow: uuid.UUID) -> dict[str, Any]:
    """Undo ``flow`` in a new transaction of ``tenant`` (no flow context)."""
    with tenant_session(tenant) as session:
        report = undo_flow_changes(session=session, flow_run_id=flow, undone_by=uuid.uuid4())
        assert pending_change_count(session=session, flow_run_id=flow) == 0
    return report


def _assert_all_undone(admin_engine: Engine, flow: uuid.UUID, expected_rows: int) -> None:
    rows = change_log_rows(admin_engine, flow)
    assert len(rows) == expected_rows
    assert all(r["undone_at"] is not None and r["undone_by"] is not None for r in rows)
    assert len({r["undone_by"] for r in rows}) == 1


def test_insert_captured_and_undone(admin_engine: Engine, tenant: Tenant, seeded: Seeded) -> None:
    """Inserts under a flow are logged as 'I' without before-image, and undo deletes exactly them."""
    before = _snapshots(admin_engine, tenant)
    flow = uuid.uuid4()
    data_import = new_import(tenant, name="flow.csv")
    records = [new_record(tenant, data_import.id, n) for n in (1, 2)]
    with tenant_session(tenant, flow_run_id=flow) as session:
        session.add(data_import)
        open_raw_rows(session, data_import.id)
        session.add_all(records)

    log = change_log_rows(admin_engine, flow)
    # Compact form: an INSERT entry names its rows in row_ids, never one by one in row_id.
    assert all(r["operation"] == "I" and r["row_id"] is None for r in log)
    assert sorted((r["table_name"], i) for r in log for i in r["row_ids"]) == sorted(
        [("data_imports", data_import.id)] + [("raw_import_records", r.id) for r in records]
    )
    assert all(r["before_image"] is None and r["undone_at"] is None for r in log)
    assert {(r["client_account_id"], r["engagement_id"]) for r in log} == {
        (tenant.client_account_id, tenant.engagement_id)
    }
    # The import's batch precedes its records' batch.
    assert max(r["batch_id"] for r in log if r["table_name"] == "data_imports") < min(
        r["batch_id"] for r in log if r["table_name"] == "raw_import_records"
    )

    with tenant_session(tenant) as session:
        assert pending_change_count(session=session, flow_run_id=flow) == 3
    report = _undo(tenant, flow)
    assert report["passed"] and report["rows_undone"] == 3 and report["mismatches"] == 0
    assert report["rows_checked"] == 3
    assert _snapshots(admin_engine, tenant) == before
    _assert_all_undone(admin_engine, flow, len(log))


def _insert_records_in_one_statement(session: Session, import_id: uuid.UUID, rows: range) -> None:
    """``len(rows)`` raw records of the session's tenant, written by one INSERT ... SELECT."""
    session.execute(
        text(
            "INSERT INTO migration.raw_import_records (id, client_account_id, engagement_id,"
            " data_import_id, sheet_name, row_number, record, is_valid)"
            " SELECT gen_random_uuid(), migration.current_client_account_id(),"
            " migration.current_engagement_id(), :i, '', n, jsonb_build_object('n', n), true"
            " FROM generate_series(CAST(:a AS integer), CAST(:b AS integer)) AS n"
        ),
        {"i": import_id, "a": rows.start, "b": rows.stop - 1},
    )


def test_bulk_insert_is_one_entry(admin_engine: Engine, tenant: Tenant, seeded: Seeded) -> None:
    """One INSERT of 2,000 rows is one change_log entry holding 2,000 ids; undo deletes all of them."""
    import_id, _ = seeded
    before = _snapshots(admin_engine, tenant)
    flow = uuid.uuid4()
    with tenant_session(tenant, flow_run_id=flow) as session:
        _insert_records_in_one_statement(session, import_id, range(10, 2010))
        inserted = set(
            session.scalars(text("SELECT id FROM migration.raw_import_records WHERE row_number >= 10"))
        )
    log = change_log_rows(admin_engine, flow)
    assert len(log) == 1
    assert log[0]["operation"] == "I" and log[0]["row_id"] is None and log[0]["before_image"] is None
    assert len(log[0]["row_ids"]) == 2000 and set(log[0]["row_ids"]) == inserted
    with tenant_session(tenant) as session:
        assert pending_change_count(session=session, flow_run_id=flow) == 2000

    report = _undo(tenant, flow)
    assert report["passed"] and report["rows_undone"] == 2000 and report["rows_checked"] == 2000
    assert report["tables"] == {"raw_import_records": {"rows_checked": 2000, "mismatches": 0}}
    assert _snapshots(admin_engine, tenant) == before
    _assert_all_undone(admin_engine, flow, 1)


def _log_old_form_inserts(
    admin_engine: Engine, tenant: Tenant, flow: uuid.UUID, table: str, ids: list[uuid.UUID]
) -> None:
    """Per-row 'I' entries for ``ids`` in one batch, as capture wrote them before migration 0012."""
    with admin_engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO migration.change_log (client_account_id, engagement_id, flow_run_id,"
                " batch_id, table_name, operation, row_id)"
                " SELECT :c, :e, :f, b.id, :t, 'I', u.id FROM unnest(CAST(:ids AS uuid[])) AS u(id),"
                " (SELECT nextval('migration.change_batch_seq') AS id) AS b"
            ),
            {"c": tenant.client_account_id, "e": tenant.engagement_id, "f": flow, "t": table, "ids": ids},
        )


def test_old_and_new_insert_forms_both_undone(admin_engine: Engine, tenant: Tenant, seeded: Seeded) -> None:
    """A flow whose log mixes pre-0012 per-row 'I' entries and compact ones is undone and checked exactly."""
    _, record_ids = seeded
    before = _snapshots(admin_engine, tenant)
    flow = uuid.uuid4()
    # Old form: an import and its records written earlier in the flow, logged one row per row.
    old_import = new_import(tenant, name="old-form.csv")
    old_records = [new_record(tenant, old_import.id, n) for n in (1, 2, 3)]
    with tenant_session(tenant) as session:
        session.add(old_import)
        open_raw_rows(session, old_import.id)
        session.add_all(old_records)
    _log_old_form_inserts(admin_engine, tenant, flow, "data_imports", [old_import.id])
    _log_old_form_inserts(admin_engine, tenant, flow, "raw_import_records", [r.id for r in old_records])
    # New form, later in the same flow: inserts under the old import, and an update of an
    # old-form row and of a pre-existing one (the first change of each decides the check).
    with tenant_session(tenant, flow_run_id=flow) as session:
        _insert_records_in_one_statement(session, old_import.id, range(100, 150))
        session.execute(
            update(RawImportRecord)
            .where(RawImportRecord.id.in_([old_records[0].id, record_ids[0]]))
            .values(is_valid=False)
        )
    log = change_log_rows(admin_engine, flow)
    assert sorted((r["operation"], r["row_ids"] is None) for r in log) == sorted(
        [("I", True)] * 4 + [("I", False)] + [("U", True)] * 2
    )
    with tenant_session(tenant) as session:
        assert pending_change_count(session=session, flow_run_id=flow) == 4 + 50 + 2

    report = _undo(tenant, flow)
    assert report["passed"], report
    # The update of old_records[0] is not restored: that row was inserted earlier in the flow and
    # its insert's undo deletes it (restoring it first would be wasted work; the check still runs).
    assert report["rows_undone"] == 4 + 50 + 1
    # Each touched row checked once: 1 import, 3 old-form + 50 new-form records, 1 pre-existing record.
    assert report["tables"] == {
        "data_imports": {"rows_checked": 1, "mismatches": 0},
        "raw_import_records": {"rows_checked": 54, "mismatches": 0},
    }
    assert _snapshots(admin_engine, tenant) == before
    _assert_all_undone(admin_engine, flow, len(log))


def test_inserted_row_left_behind_is_a_mismatch(admin_engine: Engine, tenant: Tenant, seeded: Seeded) -> None:
    """The check expands row_ids: an inserted row that survives the undo's delete is reported."""
    import_id, _ = seeded
    flow = uuid.uuid4()
    with tenant_session(tenant, flow_run_id=flow) as session:
        _insert_records_in_one_statement(session, import_id, range(10, 15))
    # Make one row survive the delete (a trigger that skips it), in a transaction rolled back after.
    with admin_engine.connect() as conn, conn.begin() as transaction:
        conn.execute(
            text(
                "CREATE FUNCTION migration.test_keep_row() RETURNS trigger LANGUAGE plpgsql"
                " AS $$ BEGIN RETURN NULL; END $$"
            )
        )
        conn.execute(
            text(
                "CREATE TRIGGER test_keep_row BEFORE DELETE ON migration.raw_import_records FOR EACH ROW"
                " WHEN (OLD.row_number = 12) EXECUTE FUNCTION migration.test_keep_row()"
            )
        )
        report = conn.execute(
            text("SELECT migration.undo_flow_changes(:f, :b)"), {"f": flow, "b": uuid.uuid4()}
        ).scalar_one()
        transaction.rollback()
    assert not report["passed"]
    assert (report["rows_undone"], report["rows_checked"], report["mismatches"]) == (4, 5, 1)
    assert report["tables"] == {"raw_import_records": {"rows_checked": 5, "mismatches": 1}}
    # Nothing of that attempt remains: the flow is still pending and undoes cleanly.
    with tenant_session(tenant) as session:
        assert pending_change_count(session=session, flow_run_id=flow) == 5
    assert _undo(tenant, flow)["passed"]


def test_update_captured_and_undone(admin_engine: Engine, tenant: Tenant, seeded: Seeded) -> None:
    """Updates are logged as 'U' with the exact before-image, and undo restores every column."""
    import_id, record_ids = seeded
    before = _snapshots(admin_engine, tenant)
    flow = uuid.uuid4()
    with tenant_session(tenant, flow_run_id=flow) as session:
        session.execute(
            update(DataImport)
            .where(DataImport.id == import_id)
            .values(status="failed", row_count=99, errors=[{"boom": 1}], source_name="changed")
        )
        session.execute(
            update(RawImportRecord)
            .where(RawImportRecord.id.in_(record_ids[:2]))
            .values(record={"hostname": "rewritten", "n": None}, is_valid=False, errors=["bad"])
        )
        # The same row changed twice by the flow (two batches).
        session.execute(
            update(RawImportRecord).where(RawImportRecord.id == record_ids[0]).values(row_number=42)
        )
    assert _snapshots(admin_engine, tenant) != before

    log = change_log_rows(admin_engine, flow)
    assert [(r["table_name"], r["operation"]) for r in log] == [
        ("data_imports", "U"),
        ("raw_import_records", "U"),
        ("raw_import_records", "U"),
        ("raw_import_records", "U"),
    ]
    # Each image holds the before-values of what its statement changed, plus id (and the raw
    # row's data_import_id, by which the undo finds its partition): nothing else (0015).
    before_by_id = {row["id"]: row for rows in before.values() for row in rows}
    changed = [
        {"status", "row_count", "errors", "source_name"},
        {"record", "is_valid", "errors", "data_import_id"},
        {"record", "is_valid", "errors", "data_import_id"},
        {"row_number", "data_import_id"},
    ]
    for r, columns in zip(log, changed, strict=True):
        image, row = r["before_image"], before_by_id[str(r["row_id"])]
        assert set(image) - {"updated_at"} == columns | {"id"}, r["table_name"]
        if r is not log[3]:
            assert image == {k: row[k] for k in image}
    assert log[3]["before_image"]["row_number"] == before_by_id[str(record_ids[0])]["row_number"]

    report = _undo(tenant, flow)
    assert report["passed"] and report["rows_undone"] == 4
    assert _snapshots(admin_engine, tenant) == before
    _assert_all_undone(admin_engine, flow, 4)


def test_overlapping_narrow_images_restore_the_first_values(
    admin_engine: Engine, tenant: Tenant, seeded: Seeded
) -> None:
    """Two updates of one row with overlapping columns: the undo ends at the values before the
    first, and the integrity check takes each column from the earliest image that holds it (were
    the later image to win, row_count would be checked against 5 and the check would fail)."""
    import_id, _ = seeded
    before = _snapshots(admin_engine, tenant)
    flow = uuid.uuid4()
    with tenant_session(tenant, flow_run_id=flow) as session:
        session.execute(update(DataImport).where(DataImport.id == import_id).values(row_count=5))
        session.execute(
            update(DataImport).where(DataImport.id == import_id).values(row_count=6, status="failed")
        )
        session.execute(update(DataImport).where(DataImport.id == import_id).values(status="failed"))
    images = [r["before_image"] for r in change_log_rows(admin_engine, flow)]
    original = before["data_imports"][0]
    assert images[0] == {"id": str(import_id), "row_count": original["row_count"]}
    assert images[1] == {"id": str(import_id), "row_count": 5, "status": original["status"]}
    assert images[2] == {"id": str(import_id)}  # a statement that changed nothing

    report = _undo(tenant, flow)
    assert report["passed"] and report["rows_undone"] == 3, report
    assert _snapshots(admin_engine, tenant) == before


def test_delete_captured_and_undone(admin_engine: Engine, tenant: Tenant, seeded: Seeded) -> None:
    """Deletes (children, then parent) are logged as 'D' with before-images; undo re-inserts them."""
    import_id, _ = seeded
    before = _snapshots(admin_engine, tenant)
    flow = uuid.uuid4()
    with tenant_session(tenant, flow_run_id=flow) as session:
        session.execute(delete(RawImportRecord).where(RawImportRecord.data_import_id == import_id))
        session.execute(delete(DataImport).where(DataImport.id == import_id))
    assert _snapshots(admin_engine, tenant) == {"data_imports": [], "raw_import_records": []}

    log = change_log_rows(admin_engine, flow)
    assert [(r["table_name"], r["operation"]) for r in log] == [("raw_import_records", "D")] * 3 + [
        ("data_imports", "D")
    ]
    before_by_id = {row["id"]: row for rows in before.values() for row in rows}
    assert all(r["before_image"] == before_by_id[str(r["row_id"])] for r in log)

    report = _undo(tenant, flow)
    assert report["passed"] and report["rows_undone"] == 4
    assert _snapshots(admin_engine, tenant) == before
    _assert_all_undone(admin_engine, flow, 4)


def test_mixed_sequence_restored_exactly(admin_engine: Engine, tenant: Tenant, seeded: Seeded) -> None:
    """Insert, update and delete across data_imports + raw_import_records (FK-linked) undo exactly."""
    import_id, record_ids = seeded
    other = new_import(tenant, name="other.csv", row_count=2)
    with tenant_session(tenant) as session:  # more pre-existing data, not captured
        session.add(other)
        open_raw_rows(session, other.id)
        session.add_all([new_record(tenant, other.id, n) for n in (1, 2)])
    before = _snapshots(admin_engine, tenant)

    flow = uuid.uuid4()
    fresh = new_import(tenant, name="fresh.csv")
    with tenant_session(tenant, flow_run_id=flow) as session:
        session.add(fresh)
        open_raw_rows(session, fresh.id)
        fresh_records = [new_record(tenant, fresh.id, n) for n in (1, 2, 3)]
        session.add_all(fresh_records)
        session.flush()
        # Update new and pre-existing rows in one statement, and a parent row.
        session.execute(
            update(RawImportRecord)
            .where(RawImportRecord.id.in_([fresh_records[0].id, record_ids[0]]))
            .values(is_valid=False, record={"hostname": "edited"})
        )
        session.execute(update(DataImport).where(DataImport.id == import_id).values(row_count=1))
        # Delete a new row, a pre-existing row, then a whole pre-existing import with its records.
        session.execute(
            delete(RawImportRecord).where(RawImportRecord.id.in_([fresh_records[1].id, record_ids[1]]))
        )
        session.execute(delete(RawImportRecord).where(RawImportRecord.data_import_id == other.id))
        session.execute(delete(DataImport).where(DataImport.id == other.id))
        # Renumber a pre-existing record (raw rows never change import: 0013 refuses it), then
        # update the new import.
        session.execute(
            update(RawImportRecord).where(RawImportRecord.id == record_ids[2]).values(row_number=7)
        )
        session.execute(update(DataImport).where(DataImport.id == fresh.id).values(status="failed"))
    after = _snapshots(admin_engine, tenant)
    assert after != before
    assert {r["id"] for r in after["data_imports"]} == {str(import_id), str(fresh.id)}

    log = change_log_rows(admin_engine, flow)
    assert {r["operation"] for r in log} == {"I", "U", "D"}
    assert all((r["before_image"] is None) == (r["operation"] == "I") for r in log)

    report = _undo(tenant, flow)
    assert report["passed"], report
    assert _snapshots(admin_engine, tenant) == before
    _assert_all_undone(admin_engine, flow, len(log))


def test_changes_without_flow_not_captured(admin_engine: Engine, tenant: Tenant, seeded: Seeded) -> None:
    """Inserts, updates and deletes made with no flow id leave no change_log rows."""
    _, record_ids = seeded
    data_import = new_import(tenant)
    with tenant_session(tenant) as session:
        session.add(data_import)
        open_raw_rows(session, data_import.id)
        session.execute(
            update(RawImportRecord).where(RawImportRecord.id == record_ids[0]).values(row_number=50)
        )
        session.execute(delete(RawImportRecord).where(RawImportRecord.id == record_ids[1]))
    with admin_engine.connect() as conn:
        captured = conn.scalar(
            text("SELECT count(*) FROM migration.change_log WHERE engagement_id = :e"),
            {"e": tenant.engagement_id},
        )
    assert captured == 0


def test_undo_touches_only_the_given_flow(admin_engine: Engine, tenant: Tenant, seeded: Seeded) -> None:
    """Undoing one flow leaves another flow's rows and change_log entries alone."""
    import_id, record_ids = seeded
    before = _snapshots(admin_engine, tenant)
    flow_1, flow_2 = uuid.uuid4(), uuid.uuid4()
    first, second = new_import(tenant, name="one.csv"), new_import(tenant, name="two.csv")
    with tenant_session(tenant, flow_run_id=flow_1) as session:
        session.add(first)
        session.execute(
            update(RawImportRecord).where(RawImportRecord.id == record_ids[0]).values(row_number=11)
        )
    with tenant_session(tenant, flow_run_id=flow_2) as session:
        session.add(second)
        open_raw_rows(session, second.id)
        session.add(new_record(tenant, second.id, 1))
        session.execute(
            update(RawImportRecord).where(RawImportRecord.id == record_ids[1]).values(row_number=22)
        )
    after_both = _snapshots(admin_engine, tenant)

    _undo(tenant, flow_1)

    now = _snapshots(admin_engine, tenant)
    assert {r["id"] for r in now["data_imports"]} == {str(import_id), str(second.id)}
    # flow_2's insert and update stand; flow_1's update is reverted.
    expected_records = [
        next(b for b in before["raw_import_records"] if b["id"] == r["id"])
        if r["id"] == str(record_ids[0])
        else r
        for r in after_both["raw_import_records"]
    ]
    assert now["raw_import_records"] == expected_records
    assert all(r["undone_at"] is None for r in change_log_rows(admin_engine, flow_2))
    assert len(change_log_rows(admin_engine, flow_2)) == 3
    _assert_all_undone(admin_engine, flow_1, 2)

    _undo(tenant, flow_2)
    assert _snapshots(admin_engine, tenant) == before


def test_other_tenant_cannot_undo_a_flow(
    admin_engine: Engine, make_tenant: MakeTenant, tenant: Tenant, seeded: Seeded
) -> None:
    """Tenant B calling undo on tenant A's flow changes nothing of A's, and A can still undo it."""
    import_id, record_ids = seeded
    tenant_b = make_tenant()
    before = _snapshots(admin_engine, tenant)
    flow = uuid.uuid4()
    data_import = new_import(tenant)
    with tenant_session(tenant, flow_run_id=flow) as session:
        session.add(data_import)
        session.execute(delete(RawImportRecord).where(RawImportRecord.id == record_ids[0]))
        session.execute(update(DataImport).where(DataImport.id == import_id).values(status="failed"))
    after = _snapshots(admin_engine, tenant)
    log_before = change_log_rows(admin_engine, flow)

    with tenant_session(tenant_b) as session:
        report = undo_flow_changes(session=session, flow_run_id=flow, undone_by=uuid.uuid4())
        assert pending_change_count(session=session, flow_run_id=flow) == 0  # B sees none of them
    assert report["rows_undone"] == 0
    assert _snapshots(admin_engine, tenant) == after
    assert change_log_rows(admin_engine, flow) == log_before

    # Neither can a session with no tenant context.
    with tenant_session(None) as session:
        report = undo_flow_changes(session=session, flow_run_id=flow, undone_by=uuid.uuid4())
    assert report["rows_undone"] == 0
    assert change_log_rows(admin_engine, flow) == log_before

    _undo(tenant, flow)
    assert _snapshots(admin_engine, tenant) == before


def _asset(tenant: Tenant) -> Asset:
    """An asset whose columns exercise every type the undo must round-trip through JSONB."""
    return Asset(
        id=uuid.uuid4(),
        client_account_id=tenant.client_account_id,
        engagement_id=tenant.engagement_id,
        asset_name="web-01",
        asset_type="server",
        hostname="web-01.example.com",
        six_r_strategy="rehost",
        six_r_locked=True,
        six_r_confidence=0.1,
        cpu_cores=8,
        memory_gb=15.999999,
        storage_gb=1e-7,
        cpu_utilization_peak=99.99999999999,
        created_date=date(2019, 2, 28),
        fingerprint=[0.1, -2.5, 3.14159] + [0.0] * (EMBEDDING_DIM - 3),
        tags={"env": "prod", "nested": {"list": [1, "two", None]}, "unicode": "é ✓"},
        custom_attributes={"Notes": 'it\'s "quoted"'},
    )


def test_asset_row_of_every_type_restored(admin_engine: Engine, tenant: Tenant) -> None:
    """An asset (vector, floats, dates, JSONB, booleans) updated/deleted under a flow is restored exactly."""
    kept, dropped = _asset(tenant), _asset(tenant)
    with tenant_session(tenant) as session:
        session.add_all([kept, dropped])
    before = snapshot(admin_engine, "assets", tenant)

    flow = uuid.uuid4()
    with tenant_session(tenant, flow_run_id=flow) as session:
        session.execute(
            update(Asset)
            .where(Asset.id == kept.id)
            .values(
                six_r_strategy="retire",
                six_r_locked=False,
                memory_gb=None,
                fingerprint=[1.0] * EMBEDDING_DIM,
                tags=None,
                created_date=None,
                updated_at=func.now() + text("interval '1 day'"),
            )
        )
        session.execute(delete(Asset).where(Asset.id == dropped.id))
    assert snapshot(admin_engine, "assets", tenant) != before

    report = _undo(tenant, flow)
    assert report["passed"] and report["rows_undone"] == 2
    assert snapshot(admin_engine, "assets", tenant) == before


def test_dependent_delete_undone_parent_first(admin_engine: Engine, tenant: Tenant) -> None:
    """No FK cascades: deleting a referenced asset is refused; feedback-then-asset deletes undo in reverse."""
    asset = _asset(tenant)
    feedback = Feedback(
        id=uuid.uuid4(),
        client_account_id=tenant.client_account_id,
        engagement_id=tenant.engagement_id,
        asset_id=asset.id,
        subject="6R",
        rating=4,
        created_by="tester",
    )
    with tenant_session(tenant) as session:
        session.add(asset)
        session.flush()
        session.add(feedback)
    before = {t: snapshot(admin_engine, t, tenant) for t in ("assets", "feedback")}

    with pytest.raises(IntegrityError), tenant_session(tenant, flow_run_id=uuid.uuid4()) as session:
        session.execute(delete(Asset).where(Asset.id == asset.id))
    assert {t: snapshot(admin_engine, t, tenant) for t in ("assets", "feedback")} == before

    flow = uuid.uuid4()
    with tenant_session(tenant, flow_run_id=flow) as session:
        session.execute(delete(Feedback).where(Feedback.id == feedback.id))
        session.execute(delete(Asset).where(Asset.id == asset.id))
    assert [(r["table_name"], r["operation"]) for r in change_log_rows(admin_engine, flow)] == [
        ("feedback", "D"),
        ("assets", "D"),
    ]

    report = _undo(tenant, flow)
    assert report["passed"], report
    assert {t: snapshot(admin_engine, t, tenant) for t in ("assets", "feedback")} == before


def test_raw_rows_cannot_change_import(tenant: Tenant, seeded: Seeded) -> None:
    """A raw row stays in its import's partition: the undo looks for it only there (0013)."""
    _, record_ids = seeded
    other = new_import(tenant, name="elsewhere.csv")
    with tenant_session(tenant) as session:
        session.add(other)
        open_raw_rows(session, other.id)
    with raises_sqlstate(CHECK_VIOLATION), tenant_session(tenant, flow_run_id=uuid.uuid4()) as session:
        session.execute(
            update(RawImportRecord).where(RawImportRecord.id == record_ids[0]).values(data_import_id=other.id)
        )
