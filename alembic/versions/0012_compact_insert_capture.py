"""compact insert capture

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-23 16:10:00

Change capture wrote one ``change_log`` row per inserted row: a 100,000-row import cost 100,000
log rows (about 1 s and 80 MB of temp space per 100k rows) although an inserted row needs no
before-image, only its id. An INSERT statement now writes one ``change_log`` row per tenant
holding the array of the ids it inserted (``row_ids``); UPDATE and DELETE keep one row per
changed row with its before-image, because the undo needs every image.

The undo reads both forms: a database upgraded from 0011 holds per-row 'I' entries (``row_id``),
new entries carry ``row_ids``. Both are expanded to one id per row (``unnest``) before the delete
and before the integrity check, so every inserted row is still verified gone and the report
counts rows exactly as before. A CHECK keeps the two forms apart: a row names its ids either by
``row_id`` or (inserts only) by ``row_ids``.

``ix_raw_import_records_engagement_id`` goes: the unique key ``(client_account_id,
engagement_id, id)`` that the composite foreign keys of ``assets`` reference starts with both
tenant columns, so it serves the RLS predicate and the engagement FK's lookups; the single-column
index only cost a fourth index update per imported row.
"""

from collections.abc import Sequence
from pathlib import Path

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from db.migrate import revision_module

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ROW_ID_FORMS = "CASE WHEN row_ids IS NULL THEN row_id IS NOT NULL ELSE row_id IS NULL AND operation = 'I' END"

CAPTURE_FUNCTION = """
CREATE OR REPLACE FUNCTION migration.capture_changes() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
  v_flow uuid := nullif(current_setting('app.flow_run_id', true), '')::uuid;
  v_step text := nullif(current_setting('app.step_name', true), '');
  v_batch bigint;
BEGIN
  IF v_flow IS NULL THEN RETURN NULL; END IF;
  v_batch := nextval('migration.change_batch_seq');
  IF TG_OP = 'INSERT' THEN
    -- One entry per tenant and statement: an inserted row has no before-image, only an id.
    INSERT INTO migration.change_log
      (client_account_id, engagement_id, flow_run_id, step_name, batch_id, table_name, operation, row_ids)
    SELECT n.client_account_id, n.engagement_id, v_flow, v_step, v_batch, TG_TABLE_NAME, 'I',
           array_agg(n.id)
      FROM new_rows n
     GROUP BY n.client_account_id, n.engagement_id;
  ELSE
    INSERT INTO migration.change_log
      (client_account_id, engagement_id, flow_run_id, step_name, batch_id, table_name, operation,
       row_id, before_image)
    SELECT o.client_account_id, o.engagement_id, v_flow, v_step, v_batch, TG_TABLE_NAME,
           left(TG_OP, 1), o.id, to_jsonb(o)
      FROM old_rows o;
  END IF;
  RETURN NULL;
END $$;
"""

# As 0001's, except that inserted ids are read from both forms (row_id, row_ids) through
# ``unnest(coalesce(row_ids, ARRAY[row_id]))``: one id per inserted row, old entries or new.
UNDO_FUNCTION = """
CREATE OR REPLACE FUNCTION migration.undo_flow_changes(p_flow uuid, p_undone_by uuid, p_step text DEFAULT NULL)
RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
  b record; v_cols text; v_rows bigint; v_total bigint := 0; v_batches int := 0;
  v_bad bigint; v_bad_total bigint := 0; v_checked bigint := 0; v_tables jsonb := '{}';
  v_prev_flow text := current_setting('app.flow_run_id', true);
BEGIN
  PERFORM set_config('app.flow_run_id', '', true);  -- the undo itself is not captured
  FOR b IN
    SELECT batch_id, table_name, operation FROM migration.change_log
     WHERE flow_run_id = p_flow AND undone_at IS NULL AND (p_step IS NULL OR step_name = p_step)
     GROUP BY batch_id, table_name, operation ORDER BY batch_id DESC
  LOOP
    IF b.operation = 'I' THEN
      EXECUTE format('DELETE FROM migration.%I t USING (
                        SELECT u.id FROM migration.change_log c
                         CROSS JOIN LATERAL unnest(coalesce(c.row_ids, ARRAY[c.row_id])) AS u(id)
                         WHERE c.flow_run_id = $1 AND c.batch_id = $2 AND c.undone_at IS NULL) i
                       WHERE t.id = i.id',
                     b.table_name) USING p_flow, b.batch_id;
    ELSIF b.operation = 'D' THEN
      EXECUTE format('INSERT INTO migration.%1$I SELECT (jsonb_populate_record(NULL::migration.%1$I,
                       c.before_image)).* FROM migration.change_log c
                       WHERE c.flow_run_id = $1 AND c.batch_id = $2 AND c.undone_at IS NULL
                       ORDER BY c.id',
                     b.table_name) USING p_flow, b.batch_id;
    ELSE
      SELECT string_agg(format('%I = r.%I', a.attname, a.attname), ', ') INTO v_cols
        FROM pg_attribute a
       WHERE a.attrelid = format('migration.%I', b.table_name)::regclass
         AND a.attnum > 0 AND NOT a.attisdropped AND a.attname <> 'id';
      EXECUTE format('UPDATE migration.%1$I t SET %2$s FROM (SELECT (jsonb_populate_record(
                       NULL::migration.%1$I, c.before_image)).* FROM migration.change_log c
                       WHERE c.flow_run_id = $1 AND c.batch_id = $2 AND c.undone_at IS NULL) r
                       WHERE t.id = r.id',
                     b.table_name, v_cols) USING p_flow, b.batch_id;
    END IF;
    GET DIAGNOSTICS v_rows = ROW_COUNT;
    v_total := v_total + v_rows; v_batches := v_batches + 1;
  END LOOP;

  FOR b IN SELECT DISTINCT table_name FROM migration.change_log
            WHERE flow_run_id = p_flow AND undone_at IS NULL AND (p_step IS NULL OR step_name = p_step)
  LOOP
    EXECUTE format('WITH first_change AS (
                      SELECT DISTINCT ON (u.row_id) u.row_id, c.operation, c.before_image
                        FROM migration.change_log c
                       CROSS JOIN LATERAL unnest(coalesce(c.row_ids, ARRAY[c.row_id])) AS u(row_id)
                       WHERE c.flow_run_id = $1 AND c.table_name = %L AND c.undone_at IS NULL
                         AND ($2::text IS NULL OR c.step_name = $2)
                       ORDER BY u.row_id, c.batch_id, c.id)
                    SELECT count(*) FILTER (WHERE (f.operation = %L AND t.id IS NOT NULL)
                             OR (f.operation <> %L AND (t.id IS NULL OR to_jsonb(t) <> f.before_image))),
                           count(*)
                      FROM first_change f LEFT JOIN migration.%I t ON t.id = f.row_id',
                   b.table_name, 'I', 'I', b.table_name)
      INTO v_bad, v_rows USING p_flow, p_step;
    v_bad_total := v_bad_total + v_bad; v_checked := v_checked + v_rows;
    v_tables := v_tables || jsonb_build_object(b.table_name, jsonb_build_object(
                  'rows_checked', v_rows, 'mismatches', v_bad));
  END LOOP;

  UPDATE migration.change_log SET undone_at = now(), undone_by = p_undone_by
   WHERE flow_run_id = p_flow AND undone_at IS NULL AND (p_step IS NULL OR step_name = p_step);
  PERFORM set_config('app.flow_run_id', coalesce(v_prev_flow, ''), true);
  RETURN jsonb_build_object('flow_run_id', p_flow, 'batches', v_batches, 'rows_undone', v_total,
                            'rows_checked', v_checked, 'mismatches', v_bad_total,
                            'passed', v_bad_total = 0, 'tables', v_tables);
END $$;
"""


def _restore_0001_sql() -> str:
    """0001's capture and undo functions, as CREATE OR REPLACE (read from 0001 itself, not copied).

    0001's text also creates the batch sequence, which exists already and is left out.
    """
    initial = revision_module("0001_initial_schema")
    capture = initial.CAPTURE_FUNCTION.replace("CREATE SEQUENCE migration.change_batch_seq;", "", 1)
    return "\n".join(
        text.replace("CREATE FUNCTION", "CREATE OR REPLACE FUNCTION", 1)
        for text in (capture, initial.UNDO_FUNCTION)
    )


def upgrade() -> None:
    op.add_column(
        "change_log",
        sa.Column("row_ids", postgresql.ARRAY(sa.UUID()), nullable=True),
        schema="migration",
    )
    op.alter_column("change_log", "row_id", existing_type=sa.UUID(), nullable=True, schema="migration")
    op.create_check_constraint(
        op.f("ck_change_log_row_id_forms"), "change_log", ROW_ID_FORMS, schema="migration"
    )
    op.execute(CAPTURE_FUNCTION)
    op.execute(UNDO_FUNCTION)
    op.drop_index(
        op.f("ix_raw_import_records_engagement_id"), table_name="raw_import_records", schema="migration"
    )


def downgrade() -> None:
    op.create_index(
        op.f("ix_raw_import_records_engagement_id"),
        "raw_import_records",
        ["engagement_id"],
        unique=False,
        schema="migration",
    )
    # Back to one entry per inserted row: expand the compact entries first, so nothing written
    # under 0012 is lost to the 0001 undo (which reads row_id only). change_log's RLS is forced
    # and binds its owner too; it is lifted for this rewrite only, inside this transaction.
    op.execute("ALTER TABLE migration.change_log NO FORCE ROW LEVEL SECURITY")
    op.execute(
        """
        INSERT INTO migration.change_log
          (client_account_id, engagement_id, flow_run_id, step_name, batch_id, table_name, operation,
           row_id, changed_at, undone_at, undone_by)
        SELECT c.client_account_id, c.engagement_id, c.flow_run_id, c.step_name, c.batch_id, c.table_name,
               c.operation, u.id, c.changed_at, c.undone_at, c.undone_by
          FROM migration.change_log c CROSS JOIN LATERAL unnest(c.row_ids) AS u(id)
         WHERE c.row_ids IS NOT NULL
        """
    )
    op.execute("DELETE FROM migration.change_log WHERE row_ids IS NOT NULL")
    op.execute("ALTER TABLE migration.change_log FORCE ROW LEVEL SECURITY")
    op.execute(_restore_0001_sql())
    op.drop_constraint(op.f("ck_change_log_row_id_forms"), "change_log", schema="migration", type_="check")
    op.alter_column("change_log", "row_id", existing_type=sa.UUID(), nullable=False, schema="migration")
    op.drop_column("change_log", "row_ids", schema="migration")
