"""Catalog checks over the whole schema ``migration`` (pg_catalog, read as superuser)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import Connection, Engine, text

from db import migrate
from mfactory.settings import EMBEDDING_DIM

# ARCHITECTURE.md, "Contracts": canonical asset field names (columns of migration.assets).
CANONICAL_FIELDS = (
    "asset_name", "asset_type", "hostname", "fqdn", "ip_address", "mac_address", "external_id",
    "vm_uuid", "bios_uuid", "serial_number", "os_family", "os_name", "os_version", "cpu_cores",
    "cpu_sockets", "memory_gb", "storage_gb", "storage_used_gb", "disk_count", "nic_count",
    "power_state", "environment", "datacenter", "cluster", "hypervisor_host",
    "virtualization_platform", "application_name", "business_unit", "owner",
    "business_criticality", "description", "tags", "cpu_utilization_avg",
    "cpu_utilization_peak", "memory_utilization_avg", "memory_utilization_peak",
    "iops_avg", "network_throughput_mbps", "created_date", "six_r_strategy", "wave",
)  # fmt: skip

# Every FK of schema migration: its table, columns, target schema/table and target columns
# (column lists in constraint order).
FOREIGN_KEYS = """
SELECT c.conname AS name, c.conrelid::regclass::text AS table_name, c.confrelid AS target_oid,
       tn.nspname AS target_schema, t.relname AS target_table,
       ARRAY(SELECT a.attname FROM unnest(c.conkey) WITH ORDINALITY k(n, i)
               JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.n ORDER BY k.i)::text[]
         AS columns,
       ARRAY(SELECT a.attname FROM unnest(c.confkey) WITH ORDINALITY k(n, i)
               JOIN pg_attribute a ON a.attrelid = c.confrelid AND a.attnum = k.n ORDER BY k.i)::text[]
         AS target_columns
  FROM pg_constraint c
  JOIN pg_namespace n ON n.oid = c.connamespace
  JOIN pg_class t ON t.oid = c.confrelid
  JOIN pg_namespace tn ON tn.oid = t.relnamespace
 WHERE c.contype = 'f' AND n.nspname = 'migration'
 ORDER BY 1
"""

# Primary-key and unique constraints (not bare unique indexes) of one table, as column sets.
KEYS_OF = """
SELECT c.contype,
       ARRAY(SELECT a.attname FROM unnest(c.conkey) k(n)
               JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.n)::text[] AS columns
  FROM pg_constraint c WHERE c.conrelid = :oid AND c.contype IN ('p', 'u')
"""

TABLES = """
SELECT c.relname, c.relrowsecurity, c.relforcerowsecurity,
       (SELECT count(*) FROM pg_policy p WHERE p.polrelid = c.oid) AS policies
  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE n.nspname = 'migration' AND c.relkind IN ('r', 'p')
"""


@pytest.fixture(scope="module")
def conn(admin_engine: Engine) -> Iterator[Connection]:
    with admin_engine.connect() as connection:
        yield connection


def _foreign_keys(conn: Connection) -> list[Any]:
    fks = conn.execute(text(FOREIGN_KEYS)).all()
    assert len(fks) > 20, "schema migration should have its FKs"
    return fks


def _tenant_tables(conn: Connection) -> list[str]:
    tables = list(
        conn.scalars(
            text(
                "SELECT c.relname FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid"
                " JOIN pg_namespace n ON n.oid = c.relnamespace"
                " WHERE n.nspname = 'migration' AND c.relkind IN ('r', 'p') AND a.attname = 'engagement_id'"
                " AND NOT a.attisdropped AND c.relname <> 'engagements' ORDER BY 1"
            )
        )
    )
    assert len(tables) >= 16
    return tables


def test_every_fk_references_a_key_containing_the_primary_key(conn: Connection) -> None:
    """Every FK targets the PK, or a PK/UNIQUE constraint whose columns contain the target's PK."""
    problems = []
    for fk in _foreign_keys(conn):
        keys = conn.execute(text(KEYS_OF), {"oid": fk.target_oid}).all()
        pk = [set(k.columns) for k in keys if k.contype == "p"]
        assert len(pk) == 1, f"{fk.target_table} has no primary key"
        target = set(fk.target_columns)
        is_constraint = any(set(k.columns) == target for k in keys)
        if not (is_constraint and pk[0] <= target):
            problems.append(f"{fk.name}: {fk.table_name}{fk.columns} -> {fk.target_table}{fk.target_columns}")
    assert problems == []


def test_every_fk_stays_inside_schema_migration(conn: Connection) -> None:
    """Every FK of schema migration references a table of schema migration."""
    outside = [f"{fk.name} -> {fk.target_schema}.{fk.target_table}" for fk in _foreign_keys(conn)]
    assert [o for o in outside if " -> migration." not in o] == []


def test_tenant_tables_have_not_null_tenant_columns_and_composite_fk(conn: Connection) -> None:
    """Every table with engagement_id has NOT NULL tenant columns and the composite FK to engagements."""
    fks = _foreign_keys(conn)
    not_null = {
        (r.relname, r.attname): r.attnotnull
        for r in conn.execute(
            text(
                "SELECT c.relname, a.attname, a.attnotnull FROM pg_attribute a"
                " JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace"
                " WHERE n.nspname = 'migration' AND a.attname IN ('client_account_id', 'engagement_id')"
            )
        )
    }
    problems = []
    for table in _tenant_tables(conn):
        for column in ("client_account_id", "engagement_id"):
            if not not_null.get((table, column)):
                problems.append(f"{table}.{column} is nullable or missing")
        tenant_fks = [
            fk
            for fk in fks
            if fk.table_name == f"migration.{table}"
            and fk.columns == ["client_account_id", "engagement_id"]
            and fk.target_schema == "migration"
            and fk.target_table == "engagements"
            and fk.target_columns == ["client_account_id", "id"]
        ]
        if len(tenant_fks) != 1:
            problems.append(f"{table}: {len(tenant_fks)} composite tenant FKs to engagements")
    assert problems == []


def test_tenant_fks_between_tenant_tables_carry_the_tenant_columns(conn: Connection) -> None:
    """Every FK from one tenant table to another starts with (client_account_id, engagement_id)."""
    tenant_tables = {f"migration.{t}" for t in _tenant_tables(conn)}
    problems = [
        f"{fk.name}: {fk.columns} -> {fk.target_table}{fk.target_columns}"
        for fk in _foreign_keys(conn)
        if fk.table_name in tenant_tables
        and f"migration.{fk.target_table}" in tenant_tables
        and (
            fk.columns[:2] != ["client_account_id", "engagement_id"]
            or fk.target_columns[:2] != fk.columns[:2]
        )
    ]
    assert problems == []


def test_row_level_security_forced_everywhere(conn: Connection) -> None:
    """Tenant tables, client_accounts and engagements have RLS enabled and FORCEd, with a policy."""
    tables = {r.relname: r for r in conn.execute(text(TABLES))}
    expected = [*_tenant_tables(conn), "client_accounts", "engagements"]
    problems = [
        f"{t}: rls={r.relrowsecurity} force={r.relforcerowsecurity} policies={r.policies}"
        for t, r in ((t, tables[t]) for t in expected)
        if not (r.relrowsecurity and r.relforcerowsecurity and r.policies >= 1)
    ]
    assert problems == []
    # Only Alembic's bookkeeping table is outside RLS.
    assert {t for t, r in tables.items() if not r.relforcerowsecurity} == {"alembic_version"}


def test_tenant_policies_apply_to_all_commands_with_check(conn: Connection) -> None:
    """Each tenant table's tenant_isolation policy covers every command and has a WITH CHECK."""
    policies = {
        r.table: r
        for r in conn.execute(
            text(
                "SELECT tablename AS table, cmd, qual, with_check, permissive, roles::text[] AS roles"
                " FROM pg_policies WHERE schemaname = 'migration' AND policyname = 'tenant_isolation'"
            )
        )
    }
    problems = []
    for table in _tenant_tables(conn):
        p = policies.get(table)
        if p is None:
            problems.append(f"{table}: no tenant_isolation policy")
            continue
        if p.cmd != "ALL" or p.permissive != "PERMISSIVE" or p.roles != ["public"]:
            problems.append(f"{table}: cmd={p.cmd} permissive={p.permissive} roles={p.roles}")
        for clause in (p.qual, p.with_check):
            if (
                not clause
                or "current_client_account_id()" not in clause
                or "current_engagement_id()" not in clause
            ):
                problems.append(f"{table}: clause {clause!r}")
    assert problems == []


def test_no_enum_types(conn: Connection) -> None:
    """Schema migration defines no ENUM type (value sets are CHECK constraints)."""
    enums = conn.scalars(
        text(
            "SELECT t.typname FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace"
            " WHERE n.nspname = 'migration' AND t.typtype = 'e'"
        )
    ).all()
    assert enums == []
    enum_columns = conn.scalars(
        text(
            "SELECT c.relname || '.' || a.attname FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid"
            " JOIN pg_namespace n ON n.oid = c.relnamespace JOIN pg_type t ON t.oid = a.atttypid"
            " WHERE n.nspname = 'migration' AND t.typtype = 'e'"
        )
    ).all()
    assert enum_columns == []


def test_assets_has_canonical_fields_and_enough_columns(conn: Connection) -> None:
    """All canonical asset field names are columns of migration.assets, which has >= 70 columns."""
    columns = set(
        conn.scalars(
            text(
                "SELECT attname FROM pg_attribute WHERE attrelid = 'migration.assets'::regclass"
                " AND attnum > 0 AND NOT attisdropped"
            )
        )
    )
    assert [f for f in CANONICAL_FIELDS if f not in columns] == []
    assert len(columns) >= 70, len(columns)


def test_learning_patterns_hnsw_cosine_index(conn: Connection) -> None:
    """agent_learning_patterns.embedding has an HNSW index with vector_cosine_ops."""
    rows = conn.execute(
        text(
            "SELECT i.relname, am.amname, oc.opcname, a.attname"
            " FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid JOIN pg_am am ON am.oid = i.relam"
            " JOIN LATERAL unnest(x.indkey, x.indclass) k(attnum, opclass) ON true"
            " JOIN pg_opclass oc ON oc.oid = k.opclass"
            " JOIN pg_attribute a ON a.attrelid = x.indrelid AND a.attnum = k.attnum"
            " WHERE x.indrelid = 'migration.agent_learning_patterns'::regclass"
        )
    ).all()
    hnsw = [r for r in rows if r.amname == "hnsw"]
    assert [(r.attname, r.opcname) for r in hnsw] == [("embedding", "vector_cosine_ops")]


def test_vector_dimensions_match_settings(conn: Connection) -> None:
    """Every vector column of schema migration has EMBEDDING_DIM dimensions."""
    dims = {
        r.col: r.dim
        for r in conn.execute(
            text(
                "SELECT c.relname || '.' || a.attname AS col, a.atttypmod AS dim FROM pg_attribute a"
                " JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace"
                " JOIN pg_type t ON t.oid = a.atttypid"
                " WHERE n.nspname = 'migration' AND t.typname = 'vector' AND c.relkind = 'r'"
                " AND NOT a.attisdropped"
            )
        )
    }
    assert "agent_learning_patterns.embedding" in dims
    assert dims == dict.fromkeys(dims, EMBEDDING_DIM)


def test_models_match_migrations(database: None) -> None:
    """Alembic's autogenerate diff between the models and the migrated database is empty."""
    migrate.check()
