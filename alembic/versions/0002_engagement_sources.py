"""engagement sources

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23 12:40:00

Registered inventory/dependency exports per engagement (what scheduled re-discovery reads),
under the same tenancy as every tenant table: composite FK, RLS enabled and forced, the app
role's grants, and a SECURITY DEFINER directory function that lists, for the scheduler, which
engagements have sources, returning names only, never tenant data.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from mfactory.settings import get_settings

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TENANT_PREDICATE = (
    "client_account_id = migration.current_client_account_id() "
    "AND engagement_id = migration.current_engagement_id()"
)

DIRECTORY_FUNCTION = """
CREATE FUNCTION migration.engagements_with_sources()
RETURNS TABLE (client_name text, engagement_name text)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = migration, pg_temp AS $$
  SELECT DISTINCT c.name, e.name
    FROM migration.engagement_sources s
    JOIN migration.engagements e ON e.client_account_id = s.client_account_id AND e.id = s.engagement_id
    JOIN migration.client_accounts c ON c.id = e.client_account_id
   WHERE s.active AND s.kind = 'inventory'
   ORDER BY 1, 2
$$;
"""


def _settings():  # type: ignore[no-untyped-def]
    return op.get_context().config.attributes.get("settings") or get_settings()


def upgrade() -> None:
    op.create_table(
        "engagement_sources",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("kind", sa.Text(), nullable=False),
        sa.Column("location", sa.Text(), nullable=False, comment="File path, file:// or http(s) URL"),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("registered_by", sa.Text(), nullable=True),
        sa.Column("created_at", postgresql.TIMESTAMP(timezone=True), server_default=sa.text("now()"),
                  nullable=False),
        sa.Column("client_account_id", sa.UUID(), nullable=False),
        sa.Column("engagement_id", sa.UUID(), nullable=False),
        sa.CheckConstraint("kind IN ('inventory', 'dependencies')", name=op.f("ck_engagement_sources_kind_values")),
        sa.ForeignKeyConstraint(
            ["client_account_id", "engagement_id"],
            ["migration.engagements.client_account_id", "migration.engagements.id"],
            name=op.f("fk_engagement_sources_client_account_id_engagement_id"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_engagement_sources")),
        sa.UniqueConstraint(
            "client_account_id", "engagement_id", "id",
            name=op.f("uq_engagement_sources_client_account_id_engagement_id_id"),
        ),
        schema="migration",
        comment="A registered inventory or dependency export (path or URL) of an engagement.",
    )
    op.create_index(
        op.f("ix_engagement_sources_engagement_id"), "engagement_sources", ["engagement_id"],
        unique=False, schema="migration",
    )
    op.create_index(
        "uq_engagement_sources_location", "engagement_sources", ["engagement_id", "kind", "location"],
        unique=True, schema="migration",
    )
    settings = _settings()
    op.execute("ALTER TABLE migration.engagement_sources ENABLE ROW LEVEL SECURITY")
    op.execute("ALTER TABLE migration.engagement_sources FORCE ROW LEVEL SECURITY")
    op.execute(
        "CREATE POLICY tenant_isolation ON migration.engagement_sources "
        f"USING ({TENANT_PREDICATE}) WITH CHECK ({TENANT_PREDICATE})"
    )
    op.execute(
        f"CREATE POLICY directory ON migration.engagement_sources FOR SELECT TO {settings.owner_role} USING (true)"
    )
    op.execute(DIRECTORY_FUNCTION)
    op.execute(f"GRANT SELECT, INSERT, UPDATE, DELETE ON migration.engagement_sources TO {settings.app_role}")
    op.execute(f"GRANT EXECUTE ON FUNCTION migration.engagements_with_sources() TO {settings.app_role}")


def downgrade() -> None:
    op.execute("DROP FUNCTION IF EXISTS migration.engagements_with_sources()")
    op.drop_index("uq_engagement_sources_location", table_name="engagement_sources", schema="migration")
    op.drop_index(op.f("ix_engagement_sources_engagement_id"), table_name="engagement_sources", schema="migration")
    op.drop_table("engagement_sources", schema="migration")
