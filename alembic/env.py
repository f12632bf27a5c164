"""Alembic environment: admin URL from settings, bootstrap, then DDL as the owner role."""

from __future__ import annotations

import re

from pgvector.sqlalchemy import Vector
from sqlalchemy import create_engine
from sqlalchemy.dialects.postgresql.base import ischema_names

from alembic import context
from db.bootstrap import bootstrap_cluster
from db.engine import admin_url, ensure_database
from db.models import SCHEMA, Base
from mfactory.settings import get_settings

# Let autogenerate reflect pgvector columns as Vector, not NullType.
ischema_names["vector"] = Vector
RAW_PARTITION = re.compile(r"raw_import_records_[0-9a-f]{32}")


def _is_raw_partition(name: str | None) -> bool:
    """A partition of raw_import_records (one per import, made at run time, not by a migration)."""
    return bool(name) and RAW_PARTITION.fullmatch(str(name)) is not None


def include_object(obj, name, type_, reflected, compare_to):  # type: ignore[no-untyped-def]
    """Compare only schema ``migration``; the extension's objects live in ``public``.

    Partitions of ``raw_import_records`` and what PostgreSQL derives from them (their indexes, the
    per-partition clones of foreign keys that reference the parent) are data, not schema.
    """
    if type_ == "table":
        return obj.schema == SCHEMA and not _is_raw_partition(name)
    if type_ == "index":
        return not _is_raw_partition(obj.table.name)
    if type_ == "foreign_key_constraint":
        return not _is_raw_partition(obj.referred_table.name)
    return True


def run_migrations_online() -> None:
    # Callers (tests, the CLI) may pass their own Settings, e.g. another database.
    settings = context.config.attributes.get("settings") or get_settings()
    ensure_database(settings)
    engine = create_engine(admin_url(settings))
    with engine.connect() as conn:
        bootstrap_cluster(conn, settings)
        conn.commit()
        conn.exec_driver_sql(f"SET ROLE {settings.owner_role}")
        conn.exec_driver_sql(f"SET search_path TO {SCHEMA}, public")
        context.configure(
            connection=conn,
            target_metadata=Base.metadata,
            version_table_schema=SCHEMA,
            include_schemas=True,
            include_object=include_object,
            compare_type=True,
        )
        with context.begin_transaction():
            context.run_migrations()
        conn.commit()
    engine.dispose()


if context.is_offline_mode():
    raise SystemExit("offline (--sql) mode is not supported: the schema needs a live server")
run_migrations_online()
