"""asset dedup: HNSW index on assets.fingerprint, fingerprint cache key, per-field provenance

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-23 15:40:00.000000

Inventory deduplication finds near-duplicate assets through their fingerprint vectors. The
similarity query orders by cosine distance with a LIMIT, so an HNSW index with
``vector_cosine_ops`` serves it (the tenant filter and the distance threshold are applied in
the same SQL statement; see db/repositories/dedup.py for ``hnsw.ef_search``).
``fingerprint_hash`` is the sha1 of the text a fingerprint embeds: a later run of the same
engagement reuses the stored vector instead of embedding the same text again (the index on
``(engagement_id, fingerprint_hash)`` serves that look-up). ``provenance`` records, for an
asset merged from several rows, which import/sheet/row each field came from and every row merged.
No new table: the tenancy rules (composite FKs, forced RLS, grants) of ``assets`` apply unchanged.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "assets",
        sa.Column(
            "fingerprint_hash",
            sa.Text(),
            nullable=True,
            comment="sha1 of the text the fingerprint embeds (reuse it instead of embedding again)",
        ),
        schema="migration",
    )
    op.add_column(
        "assets",
        sa.Column(
            "provenance",
            postgresql.JSONB(astext_type=sa.Text()),
            nullable=True,
            comment="Merged duplicates: per field the import/sheet/row it came from, and every row merged",
        ),
        schema="migration",
    )
    op.create_index(
        "ix_assets_fingerprint_hnsw",
        "assets",
        ["fingerprint"],
        unique=False,
        schema="migration",
        postgresql_using="hnsw",
        postgresql_ops={"fingerprint": "vector_cosine_ops"},
    )
    op.create_index(
        "ix_assets_engagement_fingerprint_hash",
        "assets",
        ["engagement_id", "fingerprint_hash"],
        unique=False,
        schema="migration",
    )


def downgrade() -> None:
    op.drop_index("ix_assets_engagement_fingerprint_hash", table_name="assets", schema="migration")
    op.drop_index("ix_assets_fingerprint_hnsw", table_name="assets", schema="migration")
    op.drop_column("assets", "provenance", schema="migration")
    op.drop_column("assets", "fingerprint_hash", schema="migration")
