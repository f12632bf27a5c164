"""Alembic upgrade -> downgrade -> upgrade on an empty, separate database."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from sqlalchemy import Connection, Engine, create_engine, text
from sqlalchemy.engine import make_url

from db import migrate
from db.engine import admin_url
from db.models import Base
from mfactory.settings import Settings

OBJECTS = """
SELECT c.relkind::text AS kind, c.relname AS name FROM pg_class c
  JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'migration'
UNION ALL
SELECT 'function', p.proname FROM pg_proc p
  JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname = 'migration'
UNION ALL
SELECT 'type:' || t.typtype::text, t.typname FROM pg_type t
  JOIN pg_namespace n ON n.oid = t.typnamespace
 WHERE n.nspname = 'migration' AND t.typtype NOT IN ('c', 'b')  -- row types go with their tables
"""


def _tables(conn: Connection) -> set[str]:
    return set(
        conn.scalars(
            text(
                "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
                " WHERE n.nspname = 'migration' AND c.relkind IN ('r', 'p')"
            )
        )
    )


def _objects(engine: Engine) -> set[tuple[str, str]]:
    """Every relation, function and non-row type of schema migration, as (kind, name)."""
    with engine.connect() as conn:
        return {(r.kind, r.name) for r in conn.execute(text(OBJECTS))}


def _version(engine: Engine) -> list[str]:
    with engine.connect() as conn:
        return list(conn.scalars(text("SELECT version_num FROM migration.alembic_version")))


@pytest.fixture
def empty_database(database: None) -> Iterator[tuple[Settings, Engine]]:
    """A fresh, empty database on the embedded server (dropped afterwards) and settings naming it."""
    name = f"mf_roundtrip_{uuid.uuid4().hex[:12]}"
    url = make_url(admin_url())
    server = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with server.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    target_url = url.set(database=name).render_as_string(hide_password=False)
    engine = create_engine(target_url)
    try:
        yield Settings(database_url=target_url), engine
    finally:
        engine.dispose()
        with server.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            assert conn.scalar(text("SELECT count(*) FROM pg_database WHERE datname = :n"), {"n": name}) == 0
        server.dispose()


def test_upgrade_downgrade_upgrade_roundtrip(empty_database: tuple[Settings, Engine]) -> None:
    """Empty DB: upgrade builds all tables, downgrade leaves only alembic_version, re-upgrade matches."""
    settings, engine = empty_database
    with engine.connect() as conn:
        assert (
            conn.scalar(text("SELECT current_database()")) == make_url(settings.database_url or "").database
        )
        assert conn.scalar(text("SELECT count(*) FROM pg_namespace WHERE nspname = 'migration'")) == 0

    migrate.upgrade(settings=settings)
    expected_tables = {t.name for t in Base.metadata.sorted_tables} | {"alembic_version"}
    with engine.connect() as conn:
        assert _tables(conn) == expected_tables
        assert conn.scalar(text("SELECT count(*) FROM pg_extension WHERE extname = 'vector'")) == 1
    head = _version(engine)
    assert len(head) == 1
    first = _objects(engine)
    assert ("function", "undo_flow_changes") in first
    assert ("function", "capture_changes") in first

    migrate.downgrade("base", settings=settings)
    with engine.connect() as conn:
        assert _tables(conn) == {"alembic_version"}
    assert _version(engine) == []
    # No function, sequence, index or type outlives the tables (alembic_version keeps its PK index).
    assert _objects(engine) == {("r", "alembic_version"), ("i", "alembic_version_pkc")}

    migrate.upgrade(settings=settings)
    assert _version(engine) == head
    assert _objects(engine) == first
    migrate.check(settings=settings)


def test_upgrade_is_idempotent(empty_database: tuple[Settings, Engine]) -> None:
    """A second upgrade to head on an up-to-date database changes nothing and raises nothing."""
    settings, engine = empty_database
    migrate.upgrade(settings=settings)
    objects, version = _objects(engine), _version(engine)
    migrate.upgrade(settings=settings)
    assert _objects(engine) == objects
    assert _version(engine) == version
    migrate.check(settings=settings)


CAPTURED_INSERTS = """
INSERT INTO migration.data_imports (id, client_account_id, engagement_id, source_name, source_kind,
       source_format, file_sha256, row_count, rejected_count, status, errors, sheets)
VALUES (:d, :c, :e, 'x.csv', 'inventory', 'csv', 'x', 3, 0, 'imported', '[]', '[]');
INSERT INTO migration.raw_import_records (id, client_account_id, engagement_id, data_import_id,
       sheet_name, row_number, record, is_valid)
SELECT gen_random_uuid(), :c, :e, :d, '', n, jsonb_build_object('n', n), true FROM generate_series(1, 3) n;
"""


def test_downgrade_of_compact_capture_keeps_inserts_undoable(empty_database: tuple[Settings, Engine]) -> None:
    """0012 -> 0011 expands compact INSERT entries to per-row ones, which 0001's undo then deletes."""
    settings, engine = empty_database
    migrate.upgrade("0012", settings=settings)
    flow = uuid.uuid4()
    with engine.begin() as conn:  # superuser of this database: RLS does not apply
        client, engagement = conn.execute(text("SELECT * FROM migration.ensure_engagement('a', 'b')")).one()
        conn.execute(text("SELECT set_config('app.flow_run_id', :f, true)"), {"f": str(flow)})
        data_import = uuid.uuid4()
        for statement in CAPTURED_INSERTS.split(";")[:2]:
            conn.execute(text(statement), {"d": data_import, "c": client, "e": engagement})
        assert conn.scalar(text("SELECT count(*) FROM migration.change_log WHERE row_ids IS NOT NULL")) == 2

    migrate.downgrade("0011", settings=settings)
    with engine.begin() as conn:
        log = conn.execute(text("SELECT table_name, operation, row_id FROM migration.change_log")).all()
        assert (
            sorted((t, o) for t, o, _ in log) == [("data_imports", "I")] + [("raw_import_records", "I")] * 3
        )
        assert all(row_id is not None for _, _, row_id in log)
        assert (
            conn.scalar(
                text("SELECT prosrc LIKE '%row_ids%' FROM pg_proc WHERE proname = 'undo_flow_changes'")
            )
            is False
        )
        report = conn.scalar(
            text("SELECT migration.undo_flow_changes(:f, :b)"), {"f": flow, "b": uuid.uuid4()}
        )
        assert report["passed"] and report["rows_undone"] == 4 and report["rows_checked"] == 4
        assert conn.scalar(text("SELECT count(*) FROM migration.raw_import_records")) == 0
        assert (
            conn.scalar(
                text(
                    "SELECT count(*) FROM pg_indexes WHERE indexname = 'ix_raw_import_records_engagement_id'"
                )
            )
            == 1
        )

    migrate.upgrade(settings=settings)
    migrate.check(settings=settings)


def test_downgrade_of_narrow_images_waits_for_their_undo(empty_database: tuple[Settings, Engine]) -> None:
    """0015 -> 0014 refuses while a narrow update image waits (0013's undo would null the columns it
    lacks); once the flow is undone the downgrade goes through."""
    settings, engine = empty_database
    migrate.upgrade("0015", settings=settings)
    flow = uuid.uuid4()
    with engine.begin() as conn:
        client, engagement = conn.execute(text("SELECT * FROM migration.ensure_engagement('a', 'b')")).one()
        data_import = uuid.uuid4()
        conn.execute(text(CAPTURED_INSERTS.split(";")[0]), {"d": data_import, "c": client, "e": engagement})
        conn.execute(text("SELECT set_config('app.flow_run_id', :f, true)"), {"f": str(flow)})
        conn.execute(
            text("UPDATE migration.data_imports SET row_count = 7 WHERE id = :d"), {"d": data_import}
        )
        image = conn.scalar(text("SELECT before_image FROM migration.change_log WHERE operation = 'U'"))
        assert set(image) == {"id", "row_count"}

    with pytest.raises(Exception, match="narrow images"):
        migrate.downgrade("0014", settings=settings)
    assert _version(engine) == ["0015"]

    with engine.begin() as conn:
        report = conn.scalar(
            text("SELECT migration.undo_flow_changes(:f, :b)"), {"f": flow, "b": uuid.uuid4()}
        )
        assert report["passed"] and report["rows_undone"] == 1
    migrate.downgrade("0014", settings=settings)
    assert _version(engine) == ["0014"]
    migrate.upgrade(settings=settings)
