"""raw records in one partition per import

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-23 17:50:00

Why: PostgreSQL refuses ``COPY FROM`` into a table whose row-level security applies to the caller,
so the import step had to COPY into a temporary stage and then ``INSERT ... SELECT`` into
``raw_import_records``, paying per row what a bulk load does not need: the two composite foreign
keys checked row by row, three index insertions, RLS ``WITH CHECK``. The import ran at about 20 %
of a raw binary COPY of the same rows (issue 4 asks for 50 %).

Now ``raw_import_records`` is partitioned by ``data_import_id``, one partition per import, and an
import loads its partition the way PostgreSQL loads tables fastest:

1. ``open_raw_partition(import)`` (SECURITY DEFINER, owner) checks that the import is one of the
   caller's engagement, creates the empty table ``raw_import_records_<import hex>`` with a CHECK
   that pins every row to that tenant and import, and lets the application role INSERT into it
   (nothing else: it cannot read it). The table is created inside the caller's transaction, so no
   other session can see it before commit.
2. The application COPYs the rows into it (no RLS on a table nobody can read yet, no indexes, no
   foreign keys: a plain COPY).
3. ``attach_raw_partition(import)`` revokes the application's grant, turns on and forces the
   tenant policy on the table itself (defence in depth: only the parent is ever granted), and
   attaches it. ATTACH builds the three indexes in bulk and validates both composite foreign keys
   with one set-based query each; the CHECK makes the partition-bound scan unnecessary. It then
   writes the change-capture entry (one ``change_log`` row holding the ids) that the INSERT trigger
   would have written, so a rolled-back flow undoes these rows like any others, and ANALYZEs the
   new partition alone (not the whole parent).

Every guarantee holds: rows are bound to their tenant by the CHECK and by both foreign keys, the
application reads them only through the parent under forced RLS, and a failed step rolls back the
table with everything else. Rows may still be INSERTed through the parent into an attached
partition (row-level path, RLS and FKs per row); there is no DEFAULT partition, because attaching
a partition locks the default one ACCESS EXCLUSIVE until commit, which would serialise imports.

Keys: a partitioned table's unique keys must contain the partition key. The primary key is
``(id, data_import_id, client_account_id, engagement_id)``: id first for lookups by id (undo),
the tenant columns in it so that ``assets`` references the primary key itself, tenant-safely,
with its own ``data_import_id`` (an asset's lineage always names the raw row and the import it
came from together). The separate tenant+id unique key goes: one index fewer to build per import.
"""

from collections.abc import Sequence

from alembic import op

from mfactory.settings import get_settings

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLE = "migration.raw_import_records"
TENANT = (
    "client_account_id = migration.current_client_account_id() "
    "AND engagement_id = migration.current_engagement_id()"
)
COLUMNS = """
  id uuid NOT NULL,
  data_import_id uuid NOT NULL,
  sheet_name text NOT NULL,
  row_number integer NOT NULL,
  record jsonb NOT NULL,
  is_valid boolean NOT NULL,
  errors jsonb,
  client_account_id uuid NOT NULL,
  engagement_id uuid NOT NULL"""
COLUMN_NAMES = (
    "id, data_import_id, sheet_name, row_number, record, is_valid, errors, client_account_id, engagement_id"
)
OLD_ASSET_FK = "fk_assets_client_account_id_engagement_id_raw_import_record_id"
ASSET_FK = "fk_assets_raw_import_record"


def _functions(app: str) -> str:
    """The partition life cycle, as the owner. ``app`` is the application role's name."""
    return f"""
CREATE FUNCTION migration.raw_partition_name(p_import uuid) RETURNS text
LANGUAGE sql IMMUTABLE AS $$ SELECT 'raw_import_records_' || replace(p_import::text, '-', '') $$;

-- Policy, forced RLS and attachment of a filled partition table; not callable by the application.
CREATE FUNCTION migration.seal_raw_partition(p_import uuid) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = migration, pg_temp AS $$
DECLARE v_name text := migration.raw_partition_name(p_import);
BEGIN
  EXECUTE format('REVOKE ALL ON migration.%I FROM {app}', v_name);
  EXECUTE format('ALTER TABLE migration.%I ENABLE ROW LEVEL SECURITY', v_name);
  EXECUTE format('ALTER TABLE migration.%I FORCE ROW LEVEL SECURITY', v_name);
  EXECUTE format('CREATE POLICY tenant_isolation ON migration.%I USING ({TENANT}) WITH CHECK ({TENANT})',
                 v_name);
  EXECUTE format('ALTER TABLE {TABLE} ATTACH PARTITION migration.%I FOR VALUES IN (%L)', v_name, p_import);
END $$;

-- Attaching a partition takes SHARE ROW EXCLUSIVE on the tables its foreign keys reference
-- (data_imports, engagements) and SHARE UPDATE EXCLUSIVE on raw_import_records, until commit. Two
-- import steps that each INSERTed a data_imports row (ROW EXCLUSIVE) and then attach would wait on
-- each other: a deadlock. An import step takes these locks first, before it writes anything, so
-- concurrent imports queue instead (each is seconds long); readers are never blocked.
CREATE FUNCTION migration.lock_for_raw_import() RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = migration, pg_temp AS $$
BEGIN
  LOCK TABLE migration.engagements, migration.data_imports IN SHARE ROW EXCLUSIVE MODE;
  LOCK TABLE {TABLE} IN SHARE UPDATE EXCLUSIVE MODE;
END $$;

CREATE FUNCTION migration.open_raw_partition(p_import uuid) RETURNS text
LANGUAGE plpgsql SECURITY DEFINER SET search_path = migration, pg_temp AS $$
DECLARE
  v_client uuid := migration.current_client_account_id();
  v_engagement uuid := migration.current_engagement_id();
  v_name text := migration.raw_partition_name(p_import);
BEGIN
  IF v_client IS NULL OR v_engagement IS NULL THEN
    RAISE EXCEPTION 'open_raw_partition: no tenant context' USING ERRCODE = '42501';
  END IF;
  IF NOT EXISTS (SELECT 1 FROM migration.data_imports d WHERE d.id = p_import
                    AND d.client_account_id = v_client AND d.engagement_id = v_engagement) THEN
    RAISE EXCEPTION 'open_raw_partition: data import % is not one of this engagement''s', p_import
      USING ERRCODE = '42501';
  END IF;
  IF to_regclass(format('migration.%I', v_name)) IS NOT NULL THEN
    RAISE EXCEPTION 'open_raw_partition: data import % already has its raw records', p_import
      USING ERRCODE = '42P07';
  END IF;
  PERFORM migration.lock_for_raw_import();  -- a no-op when the step took the locks already
  -- The tenant and import as defaults too: a COPY need not send them on every row.
  EXECUTE format('CREATE TABLE migration.%I ({COLUMNS},
                    CONSTRAINT %I CHECK (client_account_id = %L AND engagement_id = %L AND data_import_id = %L))',
                 v_name, 'ck_' || v_name || '_tenant', v_client, v_engagement, p_import);
  EXECUTE format('ALTER TABLE migration.%I ALTER client_account_id SET DEFAULT %L,
                    ALTER engagement_id SET DEFAULT %L, ALTER data_import_id SET DEFAULT %L',
                 v_name, v_client, v_engagement, p_import);
  EXECUTE format('GRANT INSERT ON migration.%I TO {app}', v_name);
  RETURN format('migration.%I', v_name);
END $$;

CREATE FUNCTION migration.attach_raw_partition(p_import uuid, p_analyze boolean DEFAULT true)
RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = migration, pg_temp AS $$
DECLARE
  v_client uuid := migration.current_client_account_id();
  v_engagement uuid := migration.current_engagement_id();
  v_name text := migration.raw_partition_name(p_import);
  v_flow uuid := nullif(current_setting('app.flow_run_id', true), '')::uuid;
  v_step text := nullif(current_setting('app.step_name', true), '');
  v_rel regclass := to_regclass(format('migration.%I', v_name));
  v_ids uuid[];
BEGIN
  IF v_client IS NULL OR v_engagement IS NULL THEN
    RAISE EXCEPTION 'attach_raw_partition: no tenant context' USING ERRCODE = '42501';
  END IF;
  IF v_rel IS NULL OR EXISTS (SELECT 1 FROM pg_inherits WHERE inhrelid = v_rel) THEN
    RAISE EXCEPTION 'attach_raw_partition: no open partition for data import %', p_import
      USING ERRCODE = '55000';
  END IF;
  -- Only a table open_raw_partition made (owned by this function's owner) under this tenant.
  IF (SELECT c.relowner FROM pg_class c WHERE c.oid = v_rel)
     IS DISTINCT FROM (SELECT r.oid FROM pg_roles r WHERE r.rolname = current_user)
     OR NOT EXISTS (SELECT 1 FROM pg_constraint WHERE conrelid = v_rel AND contype = 'c'
                    AND conname = 'ck_' || v_name || '_tenant'
                    AND pg_get_constraintdef(oid) LIKE '%' || v_client || '%' || v_engagement || '%') THEN
    RAISE EXCEPTION 'attach_raw_partition: data import % is not one of this engagement''s', p_import
      USING ERRCODE = '42501';
  END IF;
  PERFORM migration.seal_raw_partition(p_import);
  EXECUTE format('SELECT array_agg(id) FROM migration.%I', v_name) INTO v_ids;
  IF v_flow IS NOT NULL AND v_ids IS NOT NULL THEN
    -- What the INSERT capture trigger writes for an INSERT: the inserted ids, in one entry.
    INSERT INTO migration.change_log
      (client_account_id, engagement_id, flow_run_id, step_name, batch_id, table_name, operation, row_ids)
    VALUES (v_client, v_engagement, v_flow, v_step, nextval('migration.change_batch_seq'),
            'raw_import_records', 'I', v_ids);
  END IF;
  IF p_analyze AND v_ids IS NOT NULL THEN
    -- The columns queries filter and join on; JSONB statistics serve no predicate and cost most.
    EXECUTE format('ANALYZE migration.%I (id, data_import_id, sheet_name, row_number, is_valid)', v_name);
  END IF;
  RETURN coalesce(cardinality(v_ids), 0);
END $$;

-- Partitions whose import is gone (undone or deleted), of the caller's engagement: their rows
-- were deleted with it, the empty table is dropped. DETACH locks raw_import_records ACCESS
-- EXCLUSIVE: callers run this in a short transaction of its own, with a lock timeout, never
-- inside a step or a rollback (db/repositories/imports.drop_emptied_raw_partitions).
CREATE FUNCTION migration.drop_orphan_raw_partitions() RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER SET search_path = migration, pg_temp AS $$
DECLARE v_part record; v_dropped integer := 0;
BEGIN
  FOR v_part IN
    SELECT c.relname, substr(c.relname, length('raw_import_records_') + 1)::uuid AS import_id
      FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
     WHERE i.inhparent = '{TABLE}'::regclass
  LOOP
    CONTINUE WHEN EXISTS (SELECT 1 FROM migration.data_imports d WHERE d.id = v_part.import_id);
    -- The import is invisible either because it is gone or because it is another tenant's:
    -- only an empty partition pinned to the caller's tenant is dropped.
    CONTINUE WHEN NOT EXISTS (
      SELECT 1 FROM pg_constraint k WHERE k.conrelid = format('migration.%I', v_part.relname)::regclass
         AND k.contype = 'c'
         AND pg_get_constraintdef(k.oid) LIKE '%' || migration.current_client_account_id() || '%'
                                              || migration.current_engagement_id() || '%');
    CONTINUE WHEN EXISTS (SELECT 1 FROM migration.raw_import_records r WHERE r.data_import_id = v_part.import_id);
    -- A partition of a table that foreign keys reference is detached before it can be dropped.
    EXECUTE format('ALTER TABLE {TABLE} DETACH PARTITION migration.%I', v_part.relname);
    EXECUTE format('DROP TABLE migration.%I', v_part.relname);
    v_dropped := v_dropped + 1;
  END LOOP;
  RETURN v_dropped;
END $$;

REVOKE EXECUTE ON FUNCTION migration.seal_raw_partition(uuid) FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION migration.lock_for_raw_import() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION migration.lock_for_raw_import() TO {app};
REVOKE EXECUTE ON FUNCTION migration.open_raw_partition(uuid) FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION migration.attach_raw_partition(uuid, boolean) FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION migration.drop_orphan_raw_partitions() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION migration.open_raw_partition(uuid) TO {app};
GRANT EXECUTE ON FUNCTION migration.attach_raw_partition(uuid, boolean) TO {app};
GRANT EXECUTE ON FUNCTION migration.drop_orphan_raw_partitions() TO {app};
"""


def _capture_triggers(table: str) -> list[str]:
    """0001's three statement-level capture triggers (transition tables) on ``table``."""
    return [
        f"CREATE TRIGGER capture_insert AFTER INSERT ON {table} "
        "REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION migration.capture_changes()",
        f"CREATE TRIGGER capture_update AFTER UPDATE ON {table} "
        "REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT "
        "EXECUTE FUNCTION migration.capture_changes()",
        f"CREATE TRIGGER capture_delete AFTER DELETE ON {table} "
        "REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION migration.capture_changes()",
    ]


def _tenancy(table: str, app: str) -> list[str]:
    return [
        f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY",
        f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY",
        f"CREATE POLICY tenant_isolation ON {table} USING ({TENANT}) WITH CHECK ({TENANT})",
        f"GRANT SELECT, INSERT, UPDATE, DELETE ON {table} TO {app}",
        *_capture_triggers(table),
    ]


def _set_aside_old_table() -> None:
    """Rename the table and the names of its index-backed keys (index names are schema-wide)."""
    op.execute(f"ALTER TABLE migration.assets DROP CONSTRAINT {OLD_ASSET_FK}")
    op.execute(f"ALTER TABLE {TABLE} RENAME TO raw_import_records_old")
    for index in (
        "pk_raw_import_records",
        "uq_raw_import_records_client_account_id_engagement_id_id",
        "uq_raw_import_records_row",
    ):
        op.execute(f"ALTER INDEX migration.{index} RENAME TO {index[:40]}_old")
    # The owner reads every tenant's rows to move them: RLS is lifted on the old table only.
    op.execute("ALTER TABLE migration.raw_import_records_old NO FORCE ROW LEVEL SECURITY")


def upgrade() -> None:
    app = (op.get_context().config.attributes.get("settings") or get_settings()).app_role
    _set_aside_old_table()
    op.execute(
        f"""CREATE TABLE {TABLE} ({COLUMNS},
          CONSTRAINT pk_raw_import_records PRIMARY KEY (id, data_import_id, client_account_id, engagement_id),
          CONSTRAINT fk_raw_import_records_client_account_id_engagement_id_data_import_id
            FOREIGN KEY (client_account_id, engagement_id, data_import_id)
            REFERENCES migration.data_imports (client_account_id, engagement_id, id),
          CONSTRAINT fk_raw_import_records_client_account_id_engagement_id
            FOREIGN KEY (client_account_id, engagement_id)
            REFERENCES migration.engagements (client_account_id, id)
        ) PARTITION BY LIST (data_import_id)"""
    )
    op.execute(
        f"CREATE UNIQUE INDEX uq_raw_import_records_row ON {TABLE} (data_import_id, sheet_name, row_number)"
    )
    op.execute(
        f"COMMENT ON TABLE {TABLE} IS 'Every original row (JSONB) with its sheet and 1-based data row number;"
        " one partition per data import.'"
    )
    for statement in _tenancy(TABLE, app):
        op.execute(statement)
    op.execute(_functions(app))
    # Existing rows move into one partition per import, sealed like a new import's.
    op.execute(
        f"""
        DO $$
        DECLARE v record; v_name text;
        BEGIN
          FOR v IN SELECT DISTINCT data_import_id, client_account_id, engagement_id
                     FROM migration.raw_import_records_old LOOP
            v_name := migration.raw_partition_name(v.data_import_id);
            EXECUTE format('CREATE TABLE migration.%I ({COLUMNS},
                              CONSTRAINT %I CHECK (client_account_id = %L AND engagement_id = %L
                                                   AND data_import_id = %L))',
                           v_name, 'ck_' || v_name || '_tenant', v.client_account_id, v.engagement_id,
                           v.data_import_id);
            EXECUTE format('INSERT INTO migration.%I ({COLUMN_NAMES}) SELECT {COLUMN_NAMES}
                              FROM migration.raw_import_records_old WHERE data_import_id = %L',
                           v_name, v.data_import_id);
            PERFORM migration.seal_raw_partition(v.data_import_id);
          END LOOP;
        END $$;
        """
    )
    op.execute("DROP TABLE migration.raw_import_records_old")
    op.execute(
        f"""ALTER TABLE migration.assets ADD CONSTRAINT {ASSET_FK}
            FOREIGN KEY (client_account_id, engagement_id, raw_import_record_id, data_import_id)
            REFERENCES {TABLE} (client_account_id, engagement_id, id, data_import_id)"""
    )


def downgrade() -> None:
    app = (op.get_context().config.attributes.get("settings") or get_settings()).app_role
    op.execute(f"ALTER TABLE migration.assets DROP CONSTRAINT {ASSET_FK}")
    op.execute(f"ALTER TABLE {TABLE} RENAME TO raw_import_records_parts")
    for index in ("pk_raw_import_records", "uq_raw_import_records_row"):
        op.execute(f"ALTER INDEX migration.{index} RENAME TO {index[:40]}_parts")
    op.execute("ALTER TABLE migration.raw_import_records_parts NO FORCE ROW LEVEL SECURITY")
    op.execute(
        f"""CREATE TABLE {TABLE} ({COLUMNS},
          CONSTRAINT pk_raw_import_records PRIMARY KEY (id),
          CONSTRAINT uq_raw_import_records_client_account_id_engagement_id_id
            UNIQUE (client_account_id, engagement_id, id),
          CONSTRAINT fk_raw_import_records_client_account_id_engagement_id_data_import_id
            FOREIGN KEY (client_account_id, engagement_id, data_import_id)
            REFERENCES migration.data_imports (client_account_id, engagement_id, id),
          CONSTRAINT fk_raw_import_records_client_account_id_engagement_id
            FOREIGN KEY (client_account_id, engagement_id)
            REFERENCES migration.engagements (client_account_id, id))"""
    )
    op.execute(
        f"CREATE UNIQUE INDEX uq_raw_import_records_row ON {TABLE} (data_import_id, sheet_name, row_number)"
    )
    op.execute(
        f"COMMENT ON TABLE {TABLE} IS 'Every original row (JSONB) with its sheet and 1-based data row number.'"
    )
    # Partitions carry forced RLS of their own; the owner reads them through the parent, where it
    # was lifted above.
    op.execute(
        f"INSERT INTO {TABLE} ({COLUMN_NAMES}) SELECT {COLUMN_NAMES} FROM migration.raw_import_records_parts"
    )
    op.execute("DROP TABLE migration.raw_import_records_parts")
    for statement in _tenancy(TABLE, app):
        op.execute(statement)
    for function in (
        "drop_orphan_raw_partitions()",
        "lock_for_raw_import()",
        "attach_raw_partition(uuid, boolean)",
        "open_raw_partition(uuid)",
        "seal_raw_partition(uuid)",
        "raw_partition_name(uuid)",
    ):
        op.execute(f"DROP FUNCTION migration.{function}")
    op.execute(
        f"""ALTER TABLE migration.assets ADD CONSTRAINT {OLD_ASSET_FK}
            FOREIGN KEY (client_account_id, engagement_id, raw_import_record_id)
            REFERENCES {TABLE} (client_account_id, engagement_id, id)"""
    )
