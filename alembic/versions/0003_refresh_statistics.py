"""refresh statistics

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23 12:45:00

A bulk load makes a table's planner statistics stale at once (10k assets arrive in one
statement), and a plan built on "this table is nearly empty" turns a hash join into a nested
loop that runs for minutes. Only a table's owner may ANALYZE it, and the application role owns
nothing, so the owner offers this SECURITY DEFINER function: it analyzes one named table of
schema ``migration`` and nothing else. Statistics are not tenant data; ANALYZE counts the rows
the calling transaction inserted, so a step can refresh them before its next query.
"""

from collections.abc import Sequence

from alembic import op

from mfactory.settings import get_settings

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

FUNCTION = """
CREATE FUNCTION migration.refresh_statistics(p_table text) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = migration, pg_temp AS $$
BEGIN
  IF p_table NOT IN ('raw_import_records', 'import_field_mappings', 'assets', 'asset_dependencies',
                     'migration_waves', 'data_imports') THEN
    RAISE EXCEPTION 'refresh_statistics: % is not a bulk-loaded table', p_table;
  END IF;
  EXECUTE format('ANALYZE migration.%I', p_table);
END $$;
"""


def upgrade() -> None:
    settings = op.get_context().config.attributes.get("settings") or get_settings()
    op.execute(FUNCTION)
    op.execute("REVOKE EXECUTE ON FUNCTION migration.refresh_statistics(text) FROM PUBLIC")
    op.execute(f"GRANT EXECUTE ON FUNCTION migration.refresh_statistics(text) TO {settings.app_role}")


def downgrade() -> None:
    op.execute("DROP FUNCTION IF EXISTS migration.refresh_statistics(text)")
