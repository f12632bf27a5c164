"""planning overrides

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-23 15:30:00

Users' overrides of assessment decisions (an asset's 6R, its wave, a wave's dates, a lock),
stored per engagement so that every later run re-applies them. A tenant table like every other:
composite tenant FK, RLS enabled and forced, the app role's grants. One active override per
(kind, subject): a partial unique index over rows not revoked.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from alembic import op
from mfactory.settings import get_settings

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TENANT_PREDICATE = (
    "client_account_id = migration.current_client_account_id() "
    "AND engagement_id = migration.current_engagement_id()"
)


def _settings():  # type: ignore[no-untyped-def]
    return op.get_context().config.attributes.get("settings") or get_settings()


def upgrade() -> None:
    op.create_table(
        "planning_overrides",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("kind", sa.Text(), nullable=False),
        sa.Column("subject", sa.Text(), nullable=False, comment="Asset name, or wave number"),
        sa.Column("value", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("created_by", sa.Text(), nullable=False),
        sa.Column("created_at", postgresql.TIMESTAMP(timezone=True), server_default=sa.text("now()"),
                  nullable=False),
        sa.Column("revoked_at", postgresql.TIMESTAMP(timezone=True), nullable=True),
        sa.Column("revoked_by", sa.Text(), nullable=True),
        sa.Column("client_account_id", sa.UUID(), nullable=False),
        sa.Column("engagement_id", sa.UUID(), nullable=False),
        sa.CheckConstraint(
            "kind IN ('six_r', 'wave', 'wave_dates', 'lock')", name=op.f("ck_planning_overrides_kind_values")
        ),
        sa.CheckConstraint(
            "source IN ('cli', 'review', 'run')", name=op.f("ck_planning_overrides_source_values")
        ),
        sa.ForeignKeyConstraint(
            ["client_account_id", "engagement_id"],
            ["migration.engagements.client_account_id", "migration.engagements.id"],
            name=op.f("fk_planning_overrides_client_account_id_engagement_id"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_planning_overrides")),
        sa.UniqueConstraint(
            "client_account_id", "engagement_id", "id",
            name=op.f("uq_planning_overrides_client_account_id_engagement_id_id"),
        ),
        schema="migration",
        comment="A user's override of a 6R decision, wave membership, wave dates or a lock.",
    )
    op.create_index(
        op.f("ix_planning_overrides_engagement_id"), "planning_overrides", ["engagement_id"],
        unique=False, schema="migration",
    )
    op.create_index(
        "uq_planning_overrides_active", "planning_overrides", ["engagement_id", "kind", "subject"],
        unique=True, schema="migration", postgresql_where=sa.text("revoked_at IS NULL"),
    )
    settings = _settings()
    op.execute("ALTER TABLE migration.planning_overrides ENABLE ROW LEVEL SECURITY")
    op.execute("ALTER TABLE migration.planning_overrides FORCE ROW LEVEL SECURITY")
    op.execute(
        "CREATE POLICY tenant_isolation ON migration.planning_overrides "
        f"USING ({TENANT_PREDICATE}) WITH CHECK ({TENANT_PREDICATE})"
    )
    op.execute(f"GRANT SELECT, INSERT, UPDATE, DELETE ON migration.planning_overrides TO {settings.app_role}")


def downgrade() -> None:
    op.drop_index("uq_planning_overrides_active", table_name="planning_overrides", schema="migration")
    op.drop_index(
        op.f("ix_planning_overrides_engagement_id"), table_name="planning_overrides", schema="migration"
    )
    op.drop_table("planning_overrides", schema="migration")
