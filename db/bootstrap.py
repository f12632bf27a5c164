"""Cluster-level setup the schema migration needs: roles, schema, pgvector.

Runs as the admin URL (the embedded superuser, or ``DATABASE_URL``). Idempotent.
Two roles, both created here:
- the *owner* role (NOLOGIN) owns schema ``migration`` and every object in it; migrations
  run under ``SET ROLE`` to it;
- the *app* role (LOGIN) is what the product connects as at run time: not superuser, not
  owner, NOBYPASSRLS, so row-level security binds it.
"""

from __future__ import annotations

from sqlalchemy import Connection, text

from mfactory.settings import Settings


def _literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def bootstrap_cluster(conn: Connection, settings: Settings) -> None:
    """Create roles, the schema and the vector extension if they are missing."""
    owner, app = settings.owner_role, settings.app_role
    for role, attrs in (
        (owner, "NOLOGIN"),
        (app, f"LOGIN PASSWORD {_literal(settings.app_password)}"),
    ):
        exists = conn.scalar(text("SELECT 1 FROM pg_roles WHERE rolname = :r"), {"r": role})
        if not exists:
            conn.exec_driver_sql(
                f"CREATE ROLE {role} {attrs} NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE"
            )
    conn.exec_driver_sql(
        f"ALTER ROLE {app} LOGIN NOSUPERUSER NOBYPASSRLS PASSWORD {_literal(settings.app_password)}"
    )
    is_super = conn.scalar(text("SELECT rolsuper FROM pg_roles WHERE rolname = current_user"))
    if not is_super:
        conn.exec_driver_sql(f"GRANT {owner} TO current_user")
    conn.exec_driver_sql("CREATE EXTENSION IF NOT EXISTS vector")
    conn.exec_driver_sql(f"CREATE SCHEMA IF NOT EXISTS migration AUTHORIZATION {owner}")
    database = conn.scalar(text("SELECT current_database()"))
    conn.exec_driver_sql(f'GRANT CONNECT ON DATABASE "{database}" TO {app}')
    conn.exec_driver_sql(f"GRANT USAGE ON SCHEMA migration TO {app}")
