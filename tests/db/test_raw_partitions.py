"""Trying to break the per-import partitions of raw_import_records (migration 0013) as the app role.

The import step COPYs into a partition table it may only INSERT into, then has it attached: each
test attempts what another tenant, a missing tenant context or a forged table could do there.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable
from typing import Any

import pandas as pd
import pytest
from sqlalchemy import Engine, select, text
from sqlalchemy.orm import Session

from db.models import RawImportRecord
from db.repositories.imports import RawSheet, copy_raw_records, lock_for_raw_import
from db.session import Tenant, tenant_session
from tests.db.helpers import CHECK_VIOLATION, INSUFFICIENT_PRIVILEGE, new_import, raises_sqlstate, sqlstate


@pytest.fixture
def tenant_a(make_tenant: Callable[..., Tenant]) -> Tenant:
    return make_tenant()


@pytest.fixture
def tenant_b(make_tenant: Callable[..., Tenant]) -> Tenant:
    return make_tenant()


def _partition(import_id: uuid.UUID) -> str:
    return f"migration.raw_import_records_{import_id.hex}"


def _cursor(session: Session) -> Any:
    return session.connection().connection.driver_connection.cursor()  # type: ignore[union-attr]


def _copy(
    session: Session, table: str, lines: str, columns: str = "id, sheet_name, row_number, record, is_valid"
) -> None:
    with _cursor(session).copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
        copy.write(lines)


def _exists(admin_engine: Engine, table: str) -> bool:
    with admin_engine.connect() as conn:
        return conn.scalar(text("SELECT to_regclass(:t) IS NOT NULL"), {"t": table}) is True


def _import_of(tenant: Tenant) -> uuid.UUID:
    data_import = new_import(tenant)
    with tenant_session(tenant) as session:
        session.add(data_import)
    return data_import.id


def test_copy_attach_and_read_back(tenant_a: Tenant, tenant_b: Tenant, admin_engine: Engine) -> None:
    """The real path: rows (one of them rejected) land in the import's partition, visible to A only."""
    import_id = _import_of(tenant_a)
    frame = pd.DataFrame(
        {"Host": ["web01", 'db "main"\\01', "x\ty\nz"], "RAM (MB)": ["4096", "", "é"]}, index=[2, 3, 5]
    )
    rejects = pd.DataFrame({"row_number": [5], "column": ["C"], "value": ["?"], "reason": ["spilled"]})
    with tenant_session(tenant_a, flow_run_id=uuid.uuid4(), step_name="data_import") as session:
        written = copy_raw_records(
            session=session,
            tenant=tenant_a,
            data_import_id=import_id,
            sheets=[RawSheet(name="vInfo", frame=frame, rejects=rejects)],
        )
    assert written == 3
    with tenant_session(tenant_a) as session:
        rows = session.scalars(select(RawImportRecord).order_by(RawImportRecord.row_number)).all()
    assert [(r.sheet_name, r.row_number, r.is_valid) for r in rows] == [
        ("vInfo", 2, True),
        ("vInfo", 3, True),
        ("vInfo", 5, False),
    ]
    assert [r.record for r in rows] == [
        {"Host": h, "RAM (MB)": m} for h, m in zip(frame["Host"], frame["RAM (MB)"], strict=True)
    ]
    assert rows[2].errors == [
        {"column": "C", "value": "?", "reason": "spilled", "severity": "row_rejected", "stage": "import"}
    ]
    assert {r.client_account_id for r in rows} == {tenant_a.client_account_id}
    with tenant_session(tenant_b) as session:
        assert (
            session.scalars(select(RawImportRecord).where(RawImportRecord.data_import_id == import_id)).all()
            == []
        )


def test_other_tenant_cannot_open_or_attach(tenant_a: Tenant, tenant_b: Tenant, admin_engine: Engine) -> None:
    import_id = _import_of(tenant_a)
    with raises_sqlstate(INSUFFICIENT_PRIVILEGE), tenant_session(tenant_b) as session:
        session.execute(text("SELECT migration.open_raw_partition(:d)"), {"d": import_id})
    with raises_sqlstate(INSUFFICIENT_PRIVILEGE), tenant_session(None) as session:
        session.execute(text("SELECT migration.open_raw_partition(:d)"), {"d": import_id})
    # A opens; in the same transaction the context switches to B, who tries to attach A's table.
    with raises_sqlstate(INSUFFICIENT_PRIVILEGE), tenant_session(tenant_a) as session:
        session.execute(text("SELECT migration.open_raw_partition(:d)"), {"d": import_id})
        session.execute(
            text(
                "SELECT set_config('app.client_account_id', :c, true),"
                " set_config('app.engagement_id', :e, true)"
            ),
            {"c": str(tenant_b.client_account_id), "e": str(tenant_b.engagement_id)},
        )
        session.execute(text("SELECT migration.attach_raw_partition(:d)"), {"d": import_id})
    assert not _exists(admin_engine, _partition(import_id))  # the failed transaction left no table


def test_open_partition_is_insert_only_and_pinned_to_its_tenant(tenant_a: Tenant, tenant_b: Tenant) -> None:
    import_id = _import_of(tenant_a)
    table = _partition(import_id)
    with raises_sqlstate(INSUFFICIENT_PRIVILEGE), tenant_session(tenant_a) as session:
        session.execute(text("SELECT migration.open_raw_partition(:d)"), {"d": import_id})
        session.execute(text(f"SELECT count(*) FROM {table}"))
    forged = f"{uuid.uuid4()}\t\t1\t{{}}\tt\t{tenant_b.client_account_id}\t{tenant_b.engagement_id}\n"
    with raises_sqlstate(CHECK_VIOLATION), tenant_session(tenant_a) as session:
        session.execute(text("SELECT migration.open_raw_partition(:d)"), {"d": import_id})
        columns = "id, sheet_name, row_number, record, is_valid, client_account_id, engagement_id"
        _copy(session, table, forged, columns)
    with raises_sqlstate(INSUFFICIENT_PRIVILEGE), tenant_session(tenant_a) as session:
        session.execute(text("SELECT migration.open_raw_partition(:d)"), {"d": import_id})
        session.execute(text(f"ALTER TABLE {table} NO FORCE ROW LEVEL SECURITY"))


def test_attached_partition_is_reachable_only_through_the_parent(
    tenant_a: Tenant, admin_engine: Engine
) -> None:
    import_id = _import_of(tenant_a)
    table = _partition(import_id)
    with tenant_session(tenant_a) as session:
        session.execute(text("SELECT migration.open_raw_partition(:d)"), {"d": import_id})
        _copy(session, table, f'{uuid.uuid4()}\t\t2\t{{"a": "1"}}\tt\n')
        assert session.scalar(text("SELECT migration.attach_raw_partition(:d)"), {"d": import_id}) == 1
    for statement in (
        f"SELECT count(*) FROM {table}",
        f"INSERT INTO {table} (id, sheet_name, row_number, record, is_valid)"
        " VALUES (gen_random_uuid(), '', 9, '{}', true)",
    ):
        with raises_sqlstate(INSUFFICIENT_PRIVILEGE), tenant_session(tenant_a) as session:
            session.execute(text(statement))
    with raises_sqlstate(INSUFFICIENT_PRIVILEGE), tenant_session(tenant_a) as session:
        session.execute(text("SELECT migration.seal_raw_partition(:d)"), {"d": import_id})
    with admin_engine.connect() as conn:
        forced = conn.execute(
            text("SELECT relrowsecurity, relforcerowsecurity FROM pg_class WHERE oid = to_regclass(:t)"),
            {"t": table},
        ).one()
    assert tuple(forced) == (True, True)


def test_open_twice_attach_unopened_and_forged_table_refused(tenant_a: Tenant) -> None:
    import_id = _import_of(tenant_a)
    with raises_sqlstate("55000"), tenant_session(tenant_a) as session:
        session.execute(text("SELECT migration.attach_raw_partition(:d)"), {"d": import_id})
    with raises_sqlstate("42P07"), tenant_session(tenant_a) as session:
        session.execute(text("SELECT migration.open_raw_partition(:d)"), {"d": import_id})
        session.execute(text("SELECT migration.open_raw_partition(:d)"), {"d": import_id})
    # The app role cannot make a look-alike table for attach to pick up: it has no CREATE there.
    with raises_sqlstate(INSUFFICIENT_PRIVILEGE), tenant_session(tenant_a) as session:
        session.execute(text(f"CREATE TABLE {_partition(import_id)} (LIKE migration.raw_import_records)"))


def test_orphan_partitions_dropped_for_own_tenant_only(
    tenant_a: Tenant, tenant_b: Tenant, admin_engine: Engine
) -> None:
    """An import that is gone leaves an empty partition; only its own tenant's call drops it."""
    import_id = _import_of(tenant_a)
    with tenant_session(tenant_a) as session:
        session.execute(text("SELECT migration.open_raw_partition(:d)"), {"d": import_id})
        session.execute(text("SELECT migration.attach_raw_partition(:d)"), {"d": import_id})
        session.execute(text("DELETE FROM migration.data_imports WHERE id = :d"), {"d": import_id})
    with tenant_session(tenant_b) as session:
        session.execute(text("SELECT migration.drop_orphan_raw_partitions()"))
    assert _exists(admin_engine, _partition(import_id))
    with tenant_session(tenant_a) as session:
        assert session.scalar(text("SELECT migration.drop_orphan_raw_partitions()")) >= 1
    assert not _exists(admin_engine, _partition(import_id))


def _import_in_thread(
    tenant: Tenant,
    both_inserted: threading.Barrier | None,
    lock_first: bool,
    results: dict[str, Any],
    key: str,
) -> None:
    """One import step's database work: (lock), data_imports row, then COPY + attach, commit."""
    frame = pd.DataFrame({"Host": [f"{key}-{i}" for i in range(200)], "OS": "RHEL 8"}, index=range(2, 202))
    try:
        with tenant_session(tenant, flow_run_id=uuid.uuid4(), step_name="data_import") as session:
            if lock_first:
                lock_for_raw_import(session=session)
            data_import = new_import(tenant)
            session.add(data_import)
            session.flush()
            if both_inserted is not None:
                both_inserted.wait(timeout=10)
            results[key] = copy_raw_records(
                session=session, tenant=tenant, data_import_id=data_import.id, sheets=[RawSheet("", frame)]
            )
    except Exception as exc:  # recorded for the assertions
        results[key] = exc


def _both_import(
    tenants: tuple[Tenant, Tenant], both_inserted: threading.Barrier | None, lock_first: bool
) -> dict[str, Any]:
    """Each tenant's import in its own thread at once; what each ended with (rows, or the error)."""
    results: dict[str, Any] = {}
    threads = [
        threading.Thread(target=_import_in_thread, args=(tenant, both_inserted, lock_first, results, key))
        for tenant, key in zip(tenants, ("a", "b"), strict=True)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results


def test_concurrent_imports_deadlock_without_the_step_lock_and_queue_with_it(
    tenant_a: Tenant, tenant_b: Tenant
) -> None:
    """Two tenants' imports, both data_imports rows written before either attaches.

    Without ``lock_for_raw_import`` each attach waits for the other's row lock: PostgreSQL aborts
    one as a deadlock. With it (what the data_import step runs first) the second waits, both land.
    """
    results = _both_import((tenant_a, tenant_b), threading.Barrier(2), lock_first=False)
    failed = [r for r in results.values() if not isinstance(r, int)]
    assert len(results) == 2 and len(failed) == 1
    assert sqlstate(failed[0]) == "40P01", failed[0]  # deadlock_detected
    assert _both_import((tenant_a, tenant_b), None, lock_first=True) == {"a": 200, "b": 200}
