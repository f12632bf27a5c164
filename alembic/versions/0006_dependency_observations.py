"""dependency observations: counts, ports and time span on edges; unresolved endpoints

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-23 15:20:00

Dependency exports and netstat-like lists repeat the same connection many times (one row per
Timeslot, per socket). The dependencies step folds them into one edge per (source, target) and
keeps what the repetition tells: how often it was seen, on which ports and protocols, and when
first and last. These are columns rather than keys of ``evidence`` because wave planning and
reports filter and sort on them.

An endpoint that matches no asset is not dropped silently: ``unresolved_endpoints`` lists it
per import and side, with its observations and ports, so a user can see which addresses were
not matched (often external services). It is a tenant table like every other (composite FK,
forced RLS, the app role's grants) and its rows are captured in ``change_log`` so a retried
or rolled back step removes them.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from mfactory.settings import get_settings

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TENANT_PREDICATE = (
    "client_account_id = migration.current_client_account_id() "
    "AND engagement_id = migration.current_engagement_id()"
)
TABLE = "unresolved_endpoints"


def _settings():  # type: ignore[no-untyped-def]
    return op.get_context().config.attributes.get("settings") or get_settings()


def upgrade() -> None:
    op.add_column(
        "asset_dependencies",
        sa.Column("observation_count", sa.Integer(), server_default="1", nullable=False,
                  comment="Observations (rows, or their count column) aggregated into this edge"),
        schema="migration",
    )
    op.add_column(
        "asset_dependencies",
        sa.Column("ports", postgresql.ARRAY(sa.Integer()), nullable=True, comment="Distinct ports seen, ascending"),
        schema="migration",
    )
    op.add_column(
        "asset_dependencies",
        sa.Column("protocols", postgresql.ARRAY(sa.Text()), nullable=True, comment="Distinct protocols seen"),
        schema="migration",
    )
    op.add_column(
        "asset_dependencies", sa.Column("first_seen", sa.DateTime(timezone=True), nullable=True), schema="migration"
    )
    op.add_column(
        "asset_dependencies", sa.Column("last_seen", sa.DateTime(timezone=True), nullable=True), schema="migration"
    )
    op.create_table(
        TABLE,
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("data_import_id", sa.UUID(), nullable=False),
        sa.Column("endpoint", sa.Text(), nullable=False, comment="Host, FQDN or IP as observed"),
        sa.Column("side", sa.Text(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("observations", sa.Integer(), nullable=False),
        sa.Column("ports", postgresql.ARRAY(sa.Integer()), nullable=True),
        sa.Column("peers", sa.Integer(), nullable=False, comment="Distinct resolved assets on the other end"),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("client_account_id", sa.UUID(), nullable=False),
        sa.Column("engagement_id", sa.UUID(), nullable=False),
        sa.CheckConstraint("side IN ('source', 'target')", name=op.f("ck_unresolved_endpoints_side_values")),
        sa.CheckConstraint(
            "reason IN ('unknown', 'ambiguous')", name=op.f("ck_unresolved_endpoints_reason_values")
        ),
        sa.ForeignKeyConstraint(
            ["client_account_id", "engagement_id", "data_import_id"],
            ["migration.data_imports.client_account_id", "migration.data_imports.engagement_id",
             "migration.data_imports.id"],
            name=op.f("fk_unresolved_endpoints_client_account_id_engagement_id_data_import_id"),
        ),
        sa.ForeignKeyConstraint(
            ["client_account_id", "engagement_id"],
            ["migration.engagements.client_account_id", "migration.engagements.id"],
            name=op.f("fk_unresolved_endpoints_client_account_id_engagement_id"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_unresolved_endpoints")),
        sa.UniqueConstraint(
            "client_account_id", "engagement_id", "id",
            name=op.f("uq_unresolved_endpoints_client_account_id_engagement_id_id"),
        ),
        schema="migration",
        comment="A dependency endpoint no asset of the run matched (often an external service).",
    )
    op.create_index(
        op.f("ix_unresolved_endpoints_engagement_id"), TABLE, ["engagement_id"], unique=False, schema="migration"
    )
    op.create_index("ix_unresolved_endpoints_import", TABLE, ["data_import_id"], unique=False, schema="migration")

    settings = _settings()
    op.execute(f"ALTER TABLE migration.{TABLE} ENABLE ROW LEVEL SECURITY")
    op.execute(f"ALTER TABLE migration.{TABLE} FORCE ROW LEVEL SECURITY")
    op.execute(
        f"CREATE POLICY tenant_isolation ON migration.{TABLE} "
        f"USING ({TENANT_PREDICATE}) WITH CHECK ({TENANT_PREDICATE})"
    )
    for trigger, spec in (
        ("capture_insert", "AFTER INSERT ON migration.{t} REFERENCING NEW TABLE AS new_rows"),
        ("capture_update", "AFTER UPDATE ON migration.{t} REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows"),
        ("capture_delete", "AFTER DELETE ON migration.{t} REFERENCING OLD TABLE AS old_rows"),
    ):
        op.execute(
            f"CREATE TRIGGER {trigger} {spec.format(t=TABLE)} FOR EACH STATEMENT "
            "EXECUTE FUNCTION migration.capture_changes()"
        )
    op.execute(f"GRANT SELECT, INSERT, UPDATE, DELETE ON migration.{TABLE} TO {settings.app_role}")


def downgrade() -> None:
    for trigger in ("capture_insert", "capture_update", "capture_delete"):
        op.execute(f"DROP TRIGGER IF EXISTS {trigger} ON migration.{TABLE}")
    op.drop_index("ix_unresolved_endpoints_import", table_name=TABLE, schema="migration")
    op.drop_index(op.f("ix_unresolved_endpoints_engagement_id"), table_name=TABLE, schema="migration")
    op.drop_table(TABLE, schema="migration")
    for column in ("last_seen", "first_seen", "protocols", "ports", "observation_count"):
        op.drop_column("asset_dependencies", column, schema="migration")
