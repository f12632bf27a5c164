"""Rows of the assessment overview views (migration 0011), scoped to one run.

The views do the counting in SQL under the caller's row-level security; these functions pick a
run and a grain. The overview step reads the per-application and the type/OS/environment
roll-ups in one pass over the run's assets (grouping sets), and the dependency graph once, as
integer positions; the dependency view is for people and tools that query rows directly (and
for the test that holds the step's figures to it).
"""

from __future__ import annotations

import uuid
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
from sqlalchemy import text
from sqlalchemy.orm import Session

COUNTS = (
    "sum(assets)::bigint AS assets, sum(with_completeness)::bigint AS with_completeness, "
    "sum(completeness_sum)::float8 AS completeness_sum, sum(end_of_support)::bigint AS end_of_support, "
    "sum(nearing_end_of_support)::bigint AS nearing_end_of_support, "
    "sum(lifecycle_unknown)::bigint AS lifecycle_unknown"
)
BREAKDOWN = ["asset_type", "os_family", "environment"]


def _frame(session: Session, sql: str, **params: Any) -> pd.DataFrame:
    result = session.execute(text(sql), params)
    return pd.DataFrame(result.fetchall(), columns=list(result.keys()))


def asset_breakdown_rows(*, session: Session, master_flow_id: uuid.UUID) -> pd.DataFrame:
    """The view's own grain: application x asset type x OS family x environment (about one row per
    few assets at scale: for queries and exports, not for the step)."""
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


def overview_rollups(*, session: Session, master_flow_id: uuid.UUID) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(one row per application, one row per asset type x OS family x environment), both with the
    counts, completeness and tech debt, from one scan of the run's assets."""
    frame = _frame(
        session,
        f"""
        SELECT GROUPING(application_name) = 0 AS per_application, application_name, asset_type, os_family,
               environment, {COUNTS}
          FROM migration.asset_overview WHERE master_flow_id = :m
         GROUP BY GROUPING SETS ((application_name), (asset_type, os_family, environment))
        """,
        m=master_flow_id,
    )
    per_app = frame[frame["per_application"].astype(bool)].drop(columns=["per_application", *BREAKDOWN])
    kinds = frame[~frame["per_application"].astype(bool)].drop(
        columns=["per_application", "application_name"]
    )
    per_app = per_app.sort_values(["assets", "application_name"], ascending=[False, True], na_position="last")
    kinds = kinds.sort_values(["assets", *BREAKDOWN], ascending=[False, True, True, True])
    return per_app.reset_index(drop=True), kinds.reset_index(drop=True)


def application_dependency_rows(*, session: Session, master_flow_id: uuid.UUID) -> pd.DataFrame:
    """``application_dependency_overview`` for one run (applications with at least one dependency)."""
    return _frame(
        session,
        """
        SELECT application_name, internal_dependencies, cross_app_dependencies, connected_applications
          FROM migration.application_dependency_overview WHERE master_flow_id = :m
         ORDER BY application_name NULLS LAST
        """,
        m=master_flow_id,
    )


GRAPH = """
    WITH a AS (SELECT id, application_name, row_number() OVER (ORDER BY id) - 1 AS pos
                 FROM migration.assets WHERE master_flow_id = :m)
    SELECT (SELECT array_agg(application_name ORDER BY pos) FROM a) AS applications,
           array_agg(s.pos) AS sources, array_agg(t.pos) AS targets
      FROM migration.asset_dependencies d
      JOIN a s ON s.id = d.source_asset_id JOIN a t ON t.id = d.target_asset_id
"""


def dependency_graph(
    *, session: Session, master_flow_id: uuid.UUID
) -> tuple[pd.Series, npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """The run's graph as positions: the application of asset 0..n-1 (assets in id order), and
    each dependency (both ends in the run) as source and target positions.

    Ids become positions in SQL (hash joins) and come back as three arrays in one row: looking
    300k UUID pairs up in Python, or fetching them as 300k result rows, costs several times more
    (measured in bench/overview.py's development: 13-15 s as rows against 3-4 s as arrays, at 100k
    assets under a load of 11 on 2 cores).
    """
    row = session.execute(text(GRAPH), {"m": master_flow_id}).one()
    applications = pd.Series(row.applications or [], dtype=object, name="application_name")
    sources = np.asarray(row.sources or [], dtype=np.int64)
    targets = np.asarray(row.targets or [], dtype=np.int64)
    return applications, sources, targets
