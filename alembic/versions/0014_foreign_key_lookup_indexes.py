"""foreign-key lookup indexes for rollback at scale

Revision ID: 0014
Revises: 0013
Create Date: 2026-11-23 18:50:00

Why: deleting a referenced row makes PostgreSQL look for rows that still reference it, one query
per deleted row. ``assets.raw_import_record_id`` had no index, so undoing a 100,000-row import
after its inventory step (the assets already deleted, as the undo goes newest first) looked for
each raw row among all the tenant's assets through the tenant key: 100,000 scans of 100,000
index entries, more than ten minutes where the rest of the undo takes seconds. ``feedback.asset_id``
is the same case for deleted assets. ``asset_dependencies`` has its source/target indexes already.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_assets_raw_import_record", "assets", ["raw_import_record_id"], schema="migration")
    op.create_index("ix_feedback_asset", "feedback", ["asset_id"], schema="migration")


def downgrade() -> None:
    op.drop_index("ix_feedback_asset", table_name="feedback", schema="migration")
    op.drop_index("ix_assets_raw_import_record", table_name="assets", schema="migration")
