"""assessment overview views

Revision ID: 0011
Revises: 0007
Create Date: 2026-11-23 15:20:00

The assessment overview as queryable rows. Two views, both ``security_invoker`` so the caller's
row-level security applies (a view runs as its owner otherwise, and the owner's context is not
the tenant's): the application role sees its own engagement's rows and nothing else.

* ``asset_overview``: one row per run, application, asset type, OS family and environment, with
  the asset count, completeness as a sum and a count (so any roll-up can weigh the mean right)
  and tech-debt exposure from ``custom_attributes.tech_debt.severity`` (written by discovery's
  tech-debt step): past end of support, nearing it (within 12 months), release recognised but
  its date unknown.
* ``application_dependency_overview``: per run and application, its dependencies inside the
  application, those that cross to another application (or to assets without one) and how many
  other applications it is tied to.

Connected components (dependency groups) are not a set-based SQL question; the overview step
computes them with scipy (``tasks/assessment/overview_figures.py``).
"""

from collections.abc import Sequence

from alembic import op

from mfactory.settings import get_settings

revision: str = "0011"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SEVERITY = "a.custom_attributes #>> '{tech_debt,severity}'"

ASSET_OVERVIEW = f"""
CREATE VIEW migration.asset_overview WITH (security_invoker = true) AS
SELECT a.client_account_id, a.engagement_id, a.master_flow_id, a.application_name, a.asset_type,
       coalesce(a.os_family, 'unknown') AS os_family,
       coalesce(a.environment, 'unknown') AS environment,
       count(*) AS assets,
       count(a.completeness_score) AS with_completeness,
       coalesce(sum(a.completeness_score), 0) AS completeness_sum,
       count(*) FILTER (WHERE {SEVERITY} = 'critical') AS end_of_support,
       count(*) FILTER (WHERE {SEVERITY} IN ('high', 'medium')) AS nearing_end_of_support,
       count(*) FILTER (WHERE {SEVERITY} = 'unknown') AS lifecycle_unknown
  FROM migration.assets a
 GROUP BY a.client_account_id, a.engagement_id, a.master_flow_id, a.application_name, a.asset_type,
          coalesce(a.os_family, 'unknown'), coalesce(a.environment, 'unknown')
"""

APPLICATION_DEPENDENCY_OVERVIEW = """
CREATE VIEW migration.application_dependency_overview WITH (security_invoker = true) AS
WITH ends AS (
    SELECT s.client_account_id, s.engagement_id, s.master_flow_id,
           s.application_name AS app, t.application_name AS other, true AS outgoing
      FROM migration.asset_dependencies d
      JOIN migration.assets s ON s.id = d.source_asset_id
      JOIN migration.assets t ON t.id = d.target_asset_id
    UNION ALL
    SELECT t.client_account_id, t.engagement_id, t.master_flow_id,
           t.application_name, s.application_name, false
      FROM migration.asset_dependencies d
      JOIN migration.assets s ON s.id = d.source_asset_id
      JOIN migration.assets t ON t.id = d.target_asset_id
)
SELECT client_account_id, engagement_id, master_flow_id, app AS application_name,
       count(*) FILTER (WHERE outgoing AND app IS NOT DISTINCT FROM other) AS internal_dependencies,
       count(*) FILTER (WHERE app IS DISTINCT FROM other) AS cross_app_dependencies,
       count(DISTINCT other) FILTER (WHERE app IS DISTINCT FROM other) AS connected_applications
  FROM ends
 GROUP BY client_account_id, engagement_id, master_flow_id, app
"""

VIEWS = ("asset_overview", "application_dependency_overview")


def upgrade() -> None:
    settings = op.get_context().config.attributes.get("settings") or get_settings()
    op.execute(ASSET_OVERVIEW)
    op.execute(APPLICATION_DEPENDENCY_OVERVIEW)
    for view in VIEWS:
        op.execute(f"GRANT SELECT ON migration.{view} TO {settings.app_role}")


def downgrade() -> None:
    for view in reversed(VIEWS):
        op.execute(f"DROP VIEW IF EXISTS migration.{view}")
