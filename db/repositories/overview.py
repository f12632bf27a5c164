"""Rows of the assessment overview views (migration 0011), scoped to one run.

The views do the counting in SQL under the caller's row-level security; these functions only
pick a run and the grain (engagement, application, or the full type/OS/environment breakdown),
so at 100k assets what reaches Python is one row per application at most.
"""

from __future__ import annotations

import uuid
from typing import Any

import pandas as pd
from sqlalchemy import text
from sqlalchemy.orm import Session

COUNTS = (
    "sum(assets)::bigint AS assets, sum(with_completeness)::bigint AS with_completeness, "
    "sum(completeness_sum)::float8 AS completeness_sum, sum(end_of_support)::bigint AS end_of_support, "
    "sum(nearing_end_of_support)::bigint AS nearing_end_of_support, "
    "sum(lifecycle_unknown)::bigint AS lifecycle_unknown"
)


def _frame(session: Session, sql: str, **params: Any) -> pd.DataFrame:
    result = session.execute(text(sql), params)
    return pd.DataFrame(result.fetchall(), columns=list(result.keys()))


def asset_breakdown_rows(*, session: Session, master_flow_id: uuid.UUID) -> pd.DataFrame:
    """The view's own grain: application x asset type x OS family x environment."""
    return _frame(
        session,
        """
        SELECT application_name, asset_type, os_family, environment, assets, with_completeness,
               completeness_sum, end_of_support, nearing_end_of_support, lifecycle_unknown
          FROM migration.asset_overview WHERE master_flow_id = :m
         ORDER BY application_name NULLS LAST, asset_type, os_family, environment
        """,
        m=master_flow_id,
    )


def application_rows(*, session: Session, master_flow_id: uuid.UUID) -> pd.DataFrame:
    """One row per application (``application_name`` NULL for assets without one): counts,
    completeness and tech debt from ``asset_overview``, dependencies from
    ``application_dependency_overview`` (zero when an application has none)."""
    counts = _frame(
        session,
        f"""
        SELECT application_name, {COUNTS}
          FROM migration.asset_overview WHERE master_flow_id = :m
         GROUP BY application_name
        """,
        m=master_flow_id,
    )
    dependencies = _frame(
        session,
        """
        SELECT application_name, internal_dependencies, cross_app_dependencies, connected_applications
          FROM migration.application_dependency_overview WHERE master_flow_id = :m
        """,
        m=master_flow_id,
    )
    # Merged here rather than joined in SQL: the key may be NULL (no application), and a NULL-safe
    # join condition would keep PostgreSQL from hashing it. pandas matches missing keys to each other.
    frame = counts.merge(dependencies, on="application_name", how="left")
    numbers = ["internal_dependencies", "cross_app_dependencies", "connected_applications"]
    frame[numbers] = frame[numbers].fillna(0).astype("int64")
    ordered = frame.sort_values(["assets", "application_name"], ascending=[False, True], na_position="last")
    return ordered.reset_index(drop=True)


POSITIONS = """
    WITH a AS (SELECT id, application_name, row_number() OVER (ORDER BY id) - 1 AS pos
                 FROM migration.assets WHERE master_flow_id = :m)
"""


def dependency_graph(*, session: Session, master_flow_id: uuid.UUID) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The run's assets as positions 0..n-1 (by id) with their application, and its dependencies
    as pairs of positions, both ends in the run.

    Ids become positions in SQL (hash joins) so that Python receives plain integers: looking
    300k UUID pairs up in Python costs seconds, the join a fraction of that.
    """
    assets = _frame(session, POSITIONS + "SELECT pos, application_name FROM a ORDER BY pos", m=master_flow_id)
    edges = _frame(
        session,
        POSITIONS
        + """SELECT s.pos AS source, t.pos AS target FROM migration.asset_dependencies d
               JOIN a s ON s.id = d.source_asset_id JOIN a t ON t.id = d.target_asset_id""",
        m=master_flow_id,
    )
    return assets, edges
