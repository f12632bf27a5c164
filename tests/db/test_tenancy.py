"""Attempts to break tenant isolation, as the application role (and, for FKs, as superuser)."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from dataclasses import astuple
from typing import Any

import pytest
from sqlalchemy import Engine, delete, func, insert, select, text, update
from sqlalchemy.exc import DBAPIError

from db.models import DataImport, MasterFlow, RawImportRecord
from db.session import Tenant, tenant_session
from mfactory.settings import get_settings
from tests.db.helpers import (
    CHECK_VIOLATION,
    FOREIGN_KEY_VIOLATION,
    INSUFFICIENT_PRIVILEGE,
    new_import,
    new_record,
    open_raw_rows,
    raises_sqlstate,
    sqlstate,
)

MakeTenant = Callable[..., Tenant]


@pytest.fixture
def tenant_a(make_tenant: MakeTenant) -> Tenant:
    return make_tenant()


@pytest.fixture
def tenant_b(make_tenant: MakeTenant) -> Tenant:
    return make_tenant()


@pytest.fixture
def import_of_a(tenant_a: Tenant) -> uuid.UUID:
    """A data import (with two raw records) and a master flow, written by tenant A."""
    data_import = new_import(tenant_a)
    with tenant_session(tenant_a) as session:
        session.add(
            MasterFlow(
                id=uuid.uuid4(),
                client_account_id=tenant_a.client_account_id,
                engagement_id=tenant_a.engagement_id,
                status="running",
            )
        )
        session.add(data_import)
        open_raw_rows(session, data_import.id)
        session.add_all([new_record(tenant_a, data_import.id, n) for n in (1, 2)])
    return data_import.id


def _visible_counts(tenant: Tenant | None, import_id: uuid.UUID) -> tuple[int, int, int, int]:
    """(this import, its raw records, all data imports, all master flows) visible in ``tenant``'s session."""
    with tenant_session(tenant) as session:
        return (
            session.scalar(select(func.count()).where(DataImport.id == import_id)) or 0,
            session.scalar(
                select(func.count())
                .select_from(RawImportRecord)
                .where(RawImportRecord.data_import_id == import_id)
            )
            or 0,
            session.scalar(select(func.count()).select_from(DataImport)) or 0,
            session.scalar(select(func.count()).select_from(MasterFlow)) or 0,
        )


def test_owner_tenant_sees_its_rows(tenant_a: Tenant, import_of_a: uuid.UUID) -> None:
    """Tenant A reads back what it wrote (the control case for the invisibility tests)."""
    assert _visible_counts(tenant_a, import_of_a) == (1, 2, 1, 1)


def test_rows_invisible_to_other_tenant(tenant_b: Tenant, import_of_a: uuid.UUID) -> None:
    """Tenant A's rows are invisible to tenant B's SELECTs, even by id."""
    assert _visible_counts(tenant_b, import_of_a) == (0, 0, 0, 0)


def test_rows_invisible_without_tenant_context(import_of_a: uuid.UUID) -> None:
    """With no tenant context (``tenant_session(None)``) the app role sees no tenant rows at all."""
    assert _visible_counts(None, import_of_a) == (0, 0, 0, 0)


def test_rows_invisible_to_raw_app_connection(
    app_engine: Engine, tenant_a: Tenant, import_of_a: uuid.UUID
) -> None:
    """A plain app-role connection that never set a context sees no tenant rows, nor tenants."""
    with tenant_session(tenant_a) as session:  # leave tenant A's context on a pooled connection, if it could
        session.execute(text("SELECT 1"))
    with app_engine.connect() as conn:
        assert conn.scalar(text("SELECT current_user")) == get_settings().app_role
        assert not conn.scalar(text("SELECT current_setting('app.client_account_id', true)"))
        assert not conn.scalar(text("SELECT current_setting('app.engagement_id', true)"))
        for table in ("data_imports", "raw_import_records", "master_flows", "client_accounts", "engagements"):
            assert conn.scalar(text(f"SELECT count(*) FROM migration.{table}")) == 0, table
        assert (
            conn.scalar(text("SELECT count(*) FROM migration.data_imports WHERE id = :i"), {"i": import_of_a})
            == 0
        )


def test_context_of_half_a_tenant_sees_nothing(
    tenant_a: Tenant, tenant_b: Tenant, import_of_a: uuid.UUID
) -> None:
    """A context mixing A's client account with B's engagement matches no row of either."""
    mixed = Tenant(client_account_id=tenant_a.client_account_id, engagement_id=tenant_b.engagement_id)
    assert _visible_counts(mixed, import_of_a) == (0, 0, 0, 0)


@pytest.mark.parametrize("which", ["other_tenant", "other_engagement_only", "other_client_only"])
def test_insert_with_foreign_tenant_ids_rejected(tenant_a: Tenant, tenant_b: Tenant, which: str) -> None:
    """INSERT in A's context of a row carrying (partly) B's tenant ids fails RLS WITH CHECK."""
    target = {
        "other_tenant": tenant_b,
        "other_engagement_only": Tenant(tenant_a.client_account_id, tenant_b.engagement_id),
        "other_client_only": Tenant(tenant_b.client_account_id, tenant_a.engagement_id),
    }[which]
    with raises_sqlstate(INSUFFICIENT_PRIVILEGE), tenant_session(tenant_a) as session:
        session.add(new_import(target))
        session.flush()
    assert _visible_counts(tenant_b, uuid.uuid4())[2] == 0


def test_insert_without_context_rejected(tenant_a: Tenant) -> None:
    """INSERT with no tenant context fails RLS WITH CHECK, whatever ids the row carries."""
    with raises_sqlstate(INSUFFICIENT_PRIVILEGE), tenant_session(None) as session:
        session.add(new_import(tenant_a))
        session.flush()


def test_update_cannot_move_row_to_other_tenant(
    tenant_a: Tenant, tenant_b: Tenant, import_of_a: uuid.UUID
) -> None:
    """Tenant A cannot UPDATE its own row's tenant columns to tenant B's (WITH CHECK)."""
    with raises_sqlstate(INSUFFICIENT_PRIVILEGE), tenant_session(tenant_a) as session:
        session.execute(
            update(MasterFlow)
            .where(MasterFlow.engagement_id == tenant_a.engagement_id)
            .values(client_account_id=tenant_b.client_account_id, engagement_id=tenant_b.engagement_id)
        )


def test_update_and_delete_from_other_tenant_affect_nothing(
    admin_engine: Engine, tenant_a: Tenant, tenant_b: Tenant, import_of_a: uuid.UUID
) -> None:
    """UPDATE/DELETE issued by tenant B (by id and unfiltered) affect 0 rows of tenant A."""
    with tenant_session(tenant_b) as session:
        by_id = session.execute(
            update(DataImport).where(DataImport.id == import_of_a).values(status="failed")
        )
        everything = session.execute(update(DataImport).values(source_name="pwned"))
        records = session.execute(
            delete(RawImportRecord).where(RawImportRecord.data_import_id == import_of_a)
        )
        flows = session.execute(delete(MasterFlow))
        raw = session.execute(text("DELETE FROM migration.data_imports WHERE id = :i"), {"i": import_of_a})
        counts = [r.rowcount for r in (by_id, everything, records, flows, raw)]  # type: ignore[attr-defined]
    assert counts == [0, 0, 0, 0, 0]
    with admin_engine.connect() as conn:
        row = conn.execute(
            text("SELECT status, source_name FROM migration.data_imports WHERE id = :i"), {"i": import_of_a}
        ).one()
        assert tuple(row) == ("imported", "inventory.csv")
        assert (
            conn.scalar(
                text("SELECT count(*) FROM migration.raw_import_records WHERE data_import_id = :i"),
                {"i": import_of_a},
            )
            == 2
        )
        assert (
            conn.scalar(
                text("SELECT count(*) FROM migration.master_flows WHERE engagement_id = :e"),
                {"e": tenant_a.engagement_id},
            )
            == 1
        )
    assert _visible_counts(tenant_a, import_of_a) == (1, 2, 1, 1)


def _import_values(client_account_id: uuid.UUID, engagement_id: uuid.UUID) -> dict[str, Any]:
    """Column values of a data import (the model's Python defaults fill the rest)."""
    return {
        "id": uuid.uuid4(),
        "client_account_id": client_account_id,
        "engagement_id": engagement_id,
        "source_name": "x.csv",
        "source_format": "csv",
        "file_sha256": "x",
    }


def test_composite_fk_rejects_engagement_of_other_client(
    admin_engine: Engine, tenant_a: Tenant, tenant_b: Tenant
) -> None:
    """As superuser (no RLS), A's client account paired with B's engagement violates the tenant FK."""
    with admin_engine.connect() as conn:
        # Control: the same insert with a consistent pair succeeds.
        with conn.begin() as tx:
            conn.execute(insert(DataImport.__table__).values(_import_values(*astuple(tenant_a))))
            tx.rollback()
        for client, engagement in (
            (tenant_a.client_account_id, tenant_b.engagement_id),
            (tenant_b.client_account_id, tenant_a.engagement_id),
        ):
            with raises_sqlstate(FOREIGN_KEY_VIOLATION), conn.begin():
                conn.execute(insert(DataImport.__table__).values(_import_values(client, engagement)))


def test_composite_fk_rejects_mismatched_pair_on_run_records(
    admin_engine: Engine, tenant_a: Tenant, tenant_b: Tenant
) -> None:
    """As superuser, a master flow with (B's client, A's engagement) violates the tenant FK too."""
    values = {
        "id": uuid.uuid4(),
        "client_account_id": tenant_b.client_account_id,
        "engagement_id": tenant_a.engagement_id,
    }
    with raises_sqlstate(FOREIGN_KEY_VIOLATION), admin_engine.begin() as conn:
        conn.execute(insert(MasterFlow.__table__).values(values))


def test_tenant_fk_rejects_reference_into_other_tenant(
    admin_engine: Engine, tenant_a: Tenant, tenant_b: Tenant
) -> None:
    """As superuser (no RLS), rows of A pointing at B's data import are refused by the database.

    A raw record lands in the partition of its import, whose CHECK pins B's tenant: refused
    there. A data import's master flow is checked by the tenant-composite FK itself.
    """
    import_of_b = new_import(tenant_b)
    with tenant_session(tenant_b) as session:
        session.add(import_of_b)
        open_raw_rows(session, import_of_b.id)
        flow_of_b = MasterFlow(id=uuid.uuid4(), **_ids(tenant_b), status="running")
        session.add(flow_of_b)
    values = {
        "id": uuid.uuid4(),
        "client_account_id": tenant_a.client_account_id,
        "engagement_id": tenant_a.engagement_id,
        "data_import_id": import_of_b.id,
        "row_number": 1,
        "record": {},
    }
    import_of_a = {
        c.name: getattr(new_import(tenant_a), c.name)
        for c in DataImport.__table__.columns
        if c.name != "created_at"
    }
    with admin_engine.connect() as conn:
        with raises_sqlstate(CHECK_VIOLATION), conn.begin():
            conn.execute(insert(RawImportRecord.__table__).values(values))
        with raises_sqlstate(FOREIGN_KEY_VIOLATION), conn.begin():
            conn.execute(insert(DataImport.__table__).values({**import_of_a, "master_flow_id": flow_of_b.id}))
        # Controls: B's own ids with B's import and B's flow are accepted.
        with conn.begin() as tx:
            conn.execute(insert(RawImportRecord.__table__).values({**values, **_ids(tenant_b)}))
            conn.execute(
                insert(DataImport.__table__).values(
                    {**import_of_a, **_ids(tenant_b), "master_flow_id": flow_of_b.id}
                )
            )
            tx.rollback()


def _ids(tenant: Tenant) -> dict[str, uuid.UUID]:
    return {"client_account_id": tenant.client_account_id, "engagement_id": tenant.engagement_id}


def test_row_security_off_does_not_reveal_rows(
    app_engine: Engine, tenant_b: Tenant, import_of_a: uuid.UUID
) -> None:
    """``SET row_security = off`` as the app role either errors or still hides A's rows."""
    for tenant in (tenant_b, None):
        with app_engine.connect() as conn:
            try:
                with conn.begin():
                    if tenant is not None:
                        conn.execute(
                            text(
                                "SELECT set_config('app.client_account_id', :c, true),"
                                " set_config('app.engagement_id', :e, true)"
                            ),
                            {"c": str(tenant.client_account_id), "e": str(tenant.engagement_id)},
                        )
                    conn.execute(text("SET LOCAL row_security = off"))
                    seen = conn.scalar(
                        text("SELECT count(*) FROM migration.data_imports WHERE id = :i"), {"i": import_of_a}
                    )
            except DBAPIError as exc:
                assert sqlstate(exc) == INSUFFICIENT_PRIVILEGE, exc
                assert "row-level security" in str(exc)
            else:
                assert seen == 0


@pytest.mark.parametrize(
    "statement",
    [
        "ALTER TABLE migration.assets DISABLE ROW LEVEL SECURITY",
        "ALTER TABLE migration.assets NO FORCE ROW LEVEL SECURITY",
        "ALTER TABLE migration.data_imports DISABLE ROW LEVEL SECURITY",
        "DROP POLICY tenant_isolation ON migration.assets",
        "ALTER POLICY tenant_isolation ON migration.assets USING (true)",
        "CREATE POLICY open_door ON migration.assets USING (true)",
        "ALTER TABLE migration.assets OWNER TO mfactory_app",
        "DELETE FROM migration.change_log",
        "TRUNCATE migration.change_log",
        "TRUNCATE migration.assets",
        "DROP TABLE migration.change_log",
        "DROP TRIGGER capture_insert ON migration.assets",
        "ALTER TABLE migration.assets DISABLE TRIGGER capture_insert",
        "CREATE TABLE migration.sneaky (id int)",
        "DELETE FROM migration.alembic_version",
        "SET ROLE mfactory_owner",
        "SET SESSION AUTHORIZATION mfactory_owner",
    ],
)
def test_app_role_cannot_escalate(app_engine: Engine, tenant_a: Tenant, statement: str) -> None:
    """The app role may not switch RLS off, touch policies/triggers, erase change_log or become owner."""
    with raises_sqlstate(INSUFFICIENT_PRIVILEGE), app_engine.connect() as conn, conn.begin():
        conn.execute(
            text(
                "SELECT set_config('app.client_account_id', :c, true),"
                " set_config('app.engagement_id', :e, true)"
            ),
            {"c": str(tenant_a.client_account_id), "e": str(tenant_a.engagement_id)},
        )
        conn.execute(text(statement))


def test_app_role_attributes(admin_engine: Engine) -> None:
    """The app role is not superuser, not BYPASSRLS, owns no table; the owner role owns them all."""
    settings = get_settings()
    owner, app = settings.owner_role, settings.app_role
    assert owner != app
    with admin_engine.connect() as conn:
        roles = {
            r.rolname: r
            for r in conn.execute(
                text(
                    "SELECT rolname, rolsuper, rolbypassrls, rolcanlogin FROM pg_roles"
                    " WHERE rolname IN (:o, :a)"
                ),
                {"o": owner, "a": app},
            )
        }
        assert set(roles) == {owner, app}
        for name in (owner, app):
            assert not roles[name].rolsuper, name
            assert not roles[name].rolbypassrls, name
        assert roles[app].rolcanlogin
        assert not roles[owner].rolcanlogin
        # The app role is not a member of the owner role (directly or not).
        assert not conn.scalar(text("SELECT pg_has_role(:a, :o, 'MEMBER')"), {"a": app, "o": owner})
        owners = dict(
            conn.execute(
                text(
                    "SELECT c.relname, pg_get_userbyid(c.relowner) FROM pg_class c"
                    " JOIN pg_namespace n ON n.oid = c.relnamespace"
                    " WHERE n.nspname = 'migration' AND c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f')"
                )
            ).all()
        )
        schema_owner = conn.scalar(
            text("SELECT pg_get_userbyid(nspowner) FROM pg_namespace WHERE nspname = 'migration'")
        )
        function_owners = set(
            conn.scalars(
                text(
                    "SELECT DISTINCT pg_get_userbyid(p.proowner) FROM pg_proc p"
                    " JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname = 'migration'"
                )
            )
        )
    assert "assets" in owners
    assert "alembic_version" in owners
    assert {t for t, o in owners.items() if o == app} == set()
    assert {t: o for t, o in owners.items() if o != owner} == {}
    assert schema_owner == owner
    assert function_owners == {owner}


def test_forged_change_log_cannot_reach_other_tenant(
    admin_engine: Engine, tenant_a: Tenant, tenant_b: Tenant, import_of_a: uuid.UUID
) -> None:
    """Tenant B forging change_log entries that name A's rows cannot make undo delete or rewrite them."""
    flow = uuid.uuid4()
    with admin_engine.connect() as conn:
        before = conn.scalar(
            text("SELECT to_jsonb(t) FROM migration.data_imports t WHERE id = :i"), {"i": import_of_a}
        )
    forged_image = {**before, "source_name": "forged"}
    with tenant_session(tenant_b) as session:
        for operation, image in (("I", None), ("U", forged_image)):
            session.execute(
                text(
                    "INSERT INTO migration.change_log (client_account_id, engagement_id, flow_run_id,"
                    " batch_id, table_name, operation, row_id, before_image)"
                    " VALUES (:c, :e, :f, nextval('migration.change_batch_seq'), 'data_imports', :o, :r,"
                    " CAST(:img AS jsonb))"
                ),
                {
                    "c": tenant_b.client_account_id,
                    "e": tenant_b.engagement_id,
                    "f": flow,
                    "o": operation,
                    "r": import_of_a,
                    "img": None if image is None else json.dumps(image),
                },
            )
    with tenant_session(tenant_b) as session:
        report = session.execute(
            text("SELECT migration.undo_flow_changes(:f, :b)"), {"f": flow, "b": uuid.uuid4()}
        ).scalar_one()
    assert report["rows_undone"] == 0
    with admin_engine.connect() as conn:
        after = conn.scalar(
            text("SELECT to_jsonb(t) FROM migration.data_imports t WHERE id = :i"), {"i": import_of_a}
        )
    assert after == before
    # Nor can B forge entries in A's name: the change_log policy checks the tenant columns.
    with raises_sqlstate(INSUFFICIENT_PRIVILEGE), tenant_session(tenant_b) as session:
        session.execute(
            text(
                "INSERT INTO migration.change_log (client_account_id, engagement_id, flow_run_id, batch_id,"
                " table_name, operation, row_id) VALUES (:c, :e, :f, 1, 'data_imports', 'I', :r)"
            ),
            {"c": tenant_a.client_account_id, "e": tenant_a.engagement_id, "f": flow, "r": import_of_a},
        )


@pytest.mark.parametrize("table", ["change_log", "flow_rollbacks", "client_accounts", "assets; DROP TABLE x"])
def test_refresh_statistics_analyzes_bulk_tables_only(app_engine: Engine, table: str) -> None:
    """The owner's ANALYZE helper is no general door: anything but a bulk-loaded table is refused."""
    with raises_sqlstate("P0001"), app_engine.connect() as conn, conn.begin():
        conn.execute(text("SELECT migration.refresh_statistics(:t)"), {"t": table})
    with app_engine.connect() as conn, conn.begin():
        conn.execute(text("SELECT migration.refresh_statistics('assets')"))


def test_engagement_directory_lists_names_of_engagements_with_sources_only(
    app_engine: Engine, tenant_a: Tenant
) -> None:
    """Without any tenant context the app may list which engagements have sources, and nothing else."""
    with app_engine.connect() as conn:
        listed = conn.execute(text("SELECT * FROM migration.engagements_with_sources()")).keys()
        assert list(listed) == ["client_name", "engagement_name"]
        assert conn.execute(text("SELECT count(*) FROM migration.engagement_sources")).scalar() == 0
