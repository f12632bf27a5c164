"""shared mapping patterns: an owner-defined, opt-in path to reuse other tenants' confirmed mappings

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23 13:30:00.000000

Row-level security keeps every tenant's learned patterns to itself. Reusing a mapping
that another tenant confirmed must not open that door, so the only way across is this:
- a pattern is offered only when its tenant marked it ``shareable`` (and it was confirmed:
  ``validated``); a new policy lets the *owner* role read exactly those rows, nothing else;
- ``migration.shared_mapping_patterns`` (SECURITY DEFINER, owned by the owner) answers a
  similarity query for the caller and returns only the pattern itself (header text, field,
  unit, distance, confidence): no ids, no tenant columns, no evidence, no tenant data;
- it needs a tenant context (none, no rows) and skips the caller's own patterns, which the
  caller already reaches under RLS; the threshold and LIMIT are applied in SQL and the
  ORDER BY distance uses the HNSW index.
The application role may execute it; PUBLIC may not.
"""

from collections.abc import Sequence

from alembic import op

from mfactory.settings import get_settings

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SIGNATURE = "migration.shared_mapping_patterns(public.vector[], double precision, integer)"

SHARED_FUNCTION = """
CREATE FUNCTION migration.shared_mapping_patterns(
    p_embeddings public.vector[], p_max_distance double precision, p_k integer)
RETURNS TABLE (query_index integer, pattern_key text, target_field text, unit text,
               distance double precision, confidence double precision)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
  SELECT q.ord::integer, m.pattern_key, m.pattern_value, m.evidence ->> 'unit', m.distance, m.confidence
    FROM unnest(p_embeddings) WITH ORDINALITY AS q(embedding, ord)
   CROSS JOIN LATERAL (
     SELECT p.pattern_key, p.pattern_value, p.evidence, p.confidence,
            p.embedding OPERATOR(public.<=>) q.embedding AS distance
       FROM migration.agent_learning_patterns p
      WHERE p.pattern_type = 'column_mapping' AND p.shareable AND p.validated
        AND NOT (p.client_account_id = migration.current_client_account_id()
                 AND p.engagement_id = migration.current_engagement_id())
        AND p.embedding OPERATOR(public.<=>) q.embedding <= p_max_distance
      ORDER BY p.embedding OPERATOR(public.<=>) q.embedding
      LIMIT p_k) m
   WHERE migration.current_client_account_id() IS NOT NULL
$$;
"""


def _settings():  # type: ignore[no-untyped-def]
    return op.get_context().config.attributes.get("settings") or get_settings()


def upgrade() -> None:
    settings = _settings()
    owner, app = settings.owner_role, settings.app_role
    op.execute(
        "CREATE POLICY shared_mapping_patterns ON migration.agent_learning_patterns "
        f"FOR SELECT TO {owner} USING (shareable AND validated AND pattern_type = 'column_mapping')"
    )
    op.execute(SHARED_FUNCTION)
    op.execute(f"REVOKE ALL ON FUNCTION {SIGNATURE} FROM PUBLIC")
    op.execute(f"GRANT EXECUTE ON FUNCTION {SIGNATURE} TO {app}")


def downgrade() -> None:
    op.execute(f"DROP FUNCTION IF EXISTS {SIGNATURE}")
    op.execute("DROP POLICY IF EXISTS shared_mapping_patterns ON migration.agent_learning_patterns")
