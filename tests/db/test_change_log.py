"""Change capture into change_log and its undo (``db.repositories.changes.undo_flow_changes``)."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import date
from typing import Any

import pytest
from sqlalchemy import Engine, delete, func, text, update
from sqlalchemy.exc import IntegrityError

from db.models import Asset, DataImport, Feedback, RawImportRecord
from db.repositories.changes import pending_change_count, undo_flow_changes
from db.session import Tenant, tenant_session
from mfactory.settings import EMBEDDING_DIM
from tests.db.helpers import change_log_rows, new_import, new_record, snapshot

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
        session.flush()
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
        session.flush()
        session.add_all(records)

    log = change_log_rows(admin_engine, flow)
    assert sorted((r["table_name"], r["operation"], r["row_id"]) for r in log) == sorted(
        [("data_imports", "I", data_import.id)] + [("raw_import_records", "I", r.id) for r in records]
    )
    assert all(r["before_image"] is None and r["undone_at"] is None for r in log)
    assert {(r["client_account_id"], r["engagement_id"]) for r in log} == {
        (tenant.client_account_id, tenant.engagement_id)
    }
    # The import's batch precedes its records' batch.
    assert max(r["batch_id"] for r in log if r["table_name"] == "data_imports") < min(
        r["batch_id"] for r in log if r["table_name"] == "raw_import_records"
    )

    report = _undo(tenant, flow)
    assert report["passed"] and report["rows_undone"] == 3 and report["mismatches"] == 0
    assert _snapshots(admin_engine, tenant) == before
    _assert_all_undone(admin_engine, flow, 3)


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
    before_by_id = {row["id"]: row for rows in before.values() for row in rows}
    assert log[0]["before_image"] == before_by_id[str(import_id)]
    for r in log[1:3]:
        assert r["before_image"] == before_by_id[str(r["row_id"])]
    assert log[3]["before_image"]["record"] == {"hostname": "rewritten", "n": None}

    report = _undo(tenant, flow)
    assert report["passed"] and report["rows_undone"] == 4
    assert _snapshots(admin_engine, tenant) == before
    _assert_all_undone(admin_engine, flow, 4)


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
        session.flush()
        session.add_all([new_record(tenant, other.id, n) for n in (1, 2)])
    before = _snapshots(admin_engine, tenant)

    flow = uuid.uuid4()
    fresh = new_import(tenant, name="fresh.csv")
    with tenant_session(tenant, flow_run_id=flow) as session:
        session.add(fresh)
        session.flush()
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
        # Re-parent a pre-existing record onto the new import, then update the new import.
        session.execute(
            update(RawImportRecord)
            .where(RawImportRecord.id == record_ids[2])
            .values(data_import_id=fresh.id, row_number=7)
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
        session.flush()
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
        session.flush()
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
