"""narrow update images

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-04 18:20:00

An UPDATE's ``change_log`` before-image held the whole row (``to_jsonb(old)``). For a wide table
that is costly out of all proportion to the change: tech_debt stamps two columns on 100,000 assets
and the capture wrote 100,000 images of ~2.7 KB, each TOAST-compressed (11.8 s of the step's 18 s
statement). The image now holds what the undo needs: the columns the statement changed in at
least one of its rows, plus ``id`` and, where the table has it, ``data_import_id`` (the undo
prunes raw-record partitions by it). Which columns changed is found in one pass over the
statement's old and new rows; a statement that changed more than ``MAX_NARROW`` columns, or whose
rows cannot be paired by ``id``, keeps the whole row, as before. DELETE images stay whole (the
undo re-inserts the row).

The undo restores, per batch, only the columns its images hold (``CASE WHEN image ? column``), so
whole images of earlier revisions are restored as before. The integrity check compares each row
with its value before the flow, column by column: for every column, the earliest image of the
flow that holds it (``to_jsonb(t) || original = to_jsonb(t)``); with whole images that is the
former comparison.

Downgrade restores 0013's functions; it refuses while narrow images wait to be undone, because
0013's undo would set the columns they lack to NULL.
"""

from collections.abc import Sequence

from alembic import op

from db.migrate import revision_module

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

#: jsonb_build_object takes at most 100 arguments: 50 keys, of which id and data_import_id are two.
MAX_NARROW = 45


def _replaced(text: str, *pairs: tuple[str, str]) -> str:
    for old, new in pairs:
        assert text.count(old) == 1, f"expected exactly one {old!r}"
        text = text.replace(old, new)
    return text


def _span(text: str, start: str, end: str) -> str:
    """The one stretch of ``text`` from ``start`` to the end of ``end`` (a replacement's anchor)."""
    assert text.count(start) == 1 and text.count(end) == 1, (start, end)
    begin = text.index(start)
    return text[begin : text.index(end, begin) + len(end)]


def _undo_of_0013() -> str:
    """0013's undo_flow_changes alone (its text also creates change_partition_keys, which stays)."""
    text = str(revision_module("0013_raw_record_partitions").UNDO_FUNCTION)
    return text[text.index("CREATE OR REPLACE FUNCTION migration.undo_flow_changes") :]


CAPTURE_0012 = str(revision_module("0012_compact_insert_capture").CAPTURE_FUNCTION)

CAPTURE_FUNCTION = _replaced(
    CAPTURE_0012,
    (
        "  v_batch bigint;\n",
        "  v_batch bigint;\n  v_tests text; v_names text[]; v_flags boolean[]; v_pairs bigint;"
        " v_keep text; v_image text;\n",
    ),
    (
        "  ELSE\n",
        f"""  ELSIF TG_OP = 'UPDATE' THEN
    -- Which columns did this statement change in any row? One pass over old and new rows; a type
    -- without an equality operator is compared as text.
    SELECT string_agg(format('bool_or(o.%1$I%2$s IS DISTINCT FROM n.%1$I%2$s)', a.attname,
                             CASE WHEN t.typcategory = 'A' OR EXISTS (
                                    SELECT 1 FROM pg_operator q WHERE q.oprname = '='
                                       AND q.oprleft = a.atttypid AND q.oprright = a.atttypid)
                                  THEN '' ELSE '::text' END), ', ' ORDER BY a.attnum),
           array_agg(a.attname::text ORDER BY a.attnum),
           string_agg(format(', %1$L, o.%1$I', a.attname), '' ORDER BY a.attnum)
             FILTER (WHERE a.attname = 'data_import_id')
      INTO v_tests, v_names, v_keep
      FROM pg_attribute a JOIN pg_type t ON t.oid = a.atttypid
     WHERE a.attrelid = TG_RELID AND a.attnum > 0 AND NOT a.attisdropped AND a.attname <> 'id';
    EXECUTE format('SELECT ARRAY[%s], count(*) FROM old_rows o JOIN new_rows n ON n.id = o.id', v_tests)
      INTO v_flags, v_pairs;
    IF v_pairs = (SELECT count(*) FROM old_rows)
       AND (SELECT count(*) FROM unnest(v_flags) f WHERE f) <= {MAX_NARROW} THEN
      SELECT 'jsonb_build_object(''id'', o.id' || coalesce(v_keep, '')
             || coalesce(string_agg(format(', %1$L, o.%1$I', n.name), ''), '') || ')'
        INTO v_image
        FROM unnest(v_names, v_flags) AS n(name, changed)
       WHERE n.changed AND n.name <> 'data_import_id';
    ELSE
      v_image := 'to_jsonb(o)';
    END IF;
    EXECUTE format('INSERT INTO migration.change_log
                      (client_account_id, engagement_id, flow_run_id, step_name, batch_id, table_name,
                       operation, row_id, before_image)
                    SELECT o.client_account_id, o.engagement_id, $1, $2, $3, $4, ''U'', o.id, %s
                      FROM old_rows o', v_image)
      USING v_flow, v_step, v_batch, TG_TABLE_NAME;
  ELSE
""",
    ),
)

UNDO_0013 = _undo_of_0013()

UNDO_FUNCTION = _replaced(
    UNDO_0013,
    # Restore the columns the batch's images hold, each only where its image holds it.
    (
        "      SELECT string_agg(format('%I = r.%I', a.attname, a.attname), ', ') INTO v_cols\n"
        "        FROM pg_attribute a\n"
        "       WHERE a.attrelid = format('migration.%I', b.table_name)::regclass\n"
        "         AND a.attnum > 0 AND NOT a.attisdropped AND a.attname <> 'id';\n",
        "      SELECT string_agg(format('%1$I = CASE WHEN r.mf_undo_image ? %1$L THEN r.%1$I ELSE t.%1$I END',\n"
        "                               a.attname), ', ') INTO v_cols\n"
        "        FROM pg_attribute a\n"
        "       WHERE a.attrelid = format('migration.%I', b.table_name)::regclass\n"
        "         AND a.attnum > 0 AND NOT a.attisdropped AND a.attname <> 'id'\n"
        "         AND a.attname IN (SELECT DISTINCT k.k FROM migration.change_log c,\n"
        "                                  jsonb_object_keys(c.before_image) AS k(k)\n"
        "                            WHERE c.flow_run_id = p_flow AND c.batch_id = b.batch_id\n"
        "                              AND c.undone_at IS NULL);\n"
        "      v_cols := coalesce(v_cols, 'id = t.id');  -- an UPDATE that changed nothing\n",
    ),
    (
        "UPDATE migration.%1$I t SET %2$s FROM (SELECT (jsonb_populate_record(",
        "UPDATE migration.%1$I t SET %2$s FROM (SELECT c.before_image AS mf_undo_image, (jsonb_populate_record(",
    ),
    # The integrity check: each row against its value before the flow, column by column.
    (
        _span(
            UNDO_0013,
            "    EXECUTE format('WITH first_change AS (",
            "b.table_name, 'I', 'I', b.table_name) || v_prune",
        ),
        """    EXECUTE format('WITH changes AS (
                      SELECT u.row_id, c.operation, c.before_image, c.batch_id, c.id
                        FROM migration.change_log c
                       CROSS JOIN LATERAL unnest(coalesce(c.row_ids, ARRAY[c.row_id])) AS u(row_id)
                       WHERE c.flow_run_id = $1 AND c.table_name = %1$L AND c.undone_at IS NULL
                         AND ($2::text IS NULL OR c.step_name = $2)
                    ), first_change AS (
                      SELECT DISTINCT ON (row_id) row_id, operation FROM changes
                       ORDER BY row_id, batch_id, id
                    ), original AS (
                      -- column by column, the earliest image that holds it (the last pair wins)
                      SELECT ch.row_id,
                             jsonb_object_agg(e.key, e.value ORDER BY ch.batch_id DESC, ch.id DESC) AS image
                        FROM changes ch
                        JOIN first_change f ON f.row_id = ch.row_id AND f.operation <> %2$L
                       CROSS JOIN LATERAL jsonb_each(ch.before_image) e
                       WHERE ch.operation <> %2$L
                       GROUP BY ch.row_id)
                    SELECT count(*) FILTER (WHERE (f.operation = %2$L AND t.id IS NOT NULL)
                             OR (f.operation <> %2$L
                                 AND (t.id IS NULL OR to_jsonb(t) <> (to_jsonb(t) || o.image)))),
                           count(*)
                      FROM first_change f LEFT JOIN original o ON o.row_id = f.row_id
                      LEFT JOIN migration.%1$I t ON t.id = f.row_id',
                   b.table_name, 'I') || v_prune""",
    ),
)

PENDING_NARROW_IMAGES = """
DO $$
DECLARE v_pending bigint;
BEGIN
  SELECT count(*) INTO v_pending FROM migration.change_log c
   WHERE c.operation = 'U' AND c.undone_at IS NULL
     AND (SELECT count(*) FROM jsonb_object_keys(c.before_image))
         < (SELECT count(*) FROM pg_attribute a
             WHERE a.attrelid = format('migration.%I', c.table_name)::regclass
               AND a.attnum > 0 AND NOT a.attisdropped);
  IF v_pending > 0 THEN
    RAISE EXCEPTION '0015 downgrade: % change_log update entries hold narrow images that 0013''s undo '
                    'cannot restore; roll back or settle those flows first', v_pending;
  END IF;
END $$;
"""


def upgrade() -> None:
    op.execute(CAPTURE_FUNCTION)
    op.execute(UNDO_FUNCTION)


def downgrade() -> None:
    # change_log's RLS is forced and binds its owner too: lifted for this look only, inside this
    # transaction (as 0012's downgrade does), so every tenant's entries are counted.
    op.execute("ALTER TABLE migration.change_log NO FORCE ROW LEVEL SECURITY")
    op.execute(PENDING_NARROW_IMAGES)
    op.execute("ALTER TABLE migration.change_log FORCE ROW LEVEL SECURITY")
    op.execute(CAPTURE_0012)
    op.execute(UNDO_0013)
