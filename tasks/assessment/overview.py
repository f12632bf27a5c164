"""Assessment step 1 - Overview: what the inventory holds, per engagement and per application.

Counts by type / OS family / environment, data completeness and tech-debt exposure are rows of
the views of migration 0011 (queryable by anyone with the tenant's context); dependency groups
are connected components computed here over the run's dependency edges. The step publishes the
per-application table and a picture, and keeps the engagement figures in its metrics.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pandas as pd
from prefect.artifacts import create_markdown_artifact, create_table_artifact
from sqlalchemy.orm import Session

from db.repositories.overview import dependency_graph, overview_rollups
from tasks.artifacts.keys import artifact_key
from tasks.artifacts.model import MarkdownArtifact
from tasks.artifacts.overview import overview_artifacts
from tasks.assessment.overview_figures import (
    application_overview,
    breakdown,
    dependency_groups_of_positions,
    engagement_overview,
)
from tasks.phases import ASSESSMENT, PhaseContext
from tasks.steps import step_task


@dataclass(frozen=True)
class Overview:
    engagement: dict[str, Any]
    applications: pd.DataFrame  # one row per application (NaN name: assets without one)
    breakdown: pd.DataFrame  # asset type x OS family x environment


def assessment_overview(*, session: Session, master_flow_id: Any) -> Overview:
    """The run's overview as frames (what the artifacts show and what tests check)."""
    apps, kinds = overview_rollups(session=session, master_flow_id=master_flow_id)
    applications, sources, targets = dependency_graph(session=session, master_flow_id=master_flow_id)
    groups = dependency_groups_of_positions(applications, sources, targets)
    return Overview(
        engagement=engagement_overview(apps, groups),
        applications=application_overview(apps, groups),
        breakdown=kinds,
    )


def overview(session: Session, ctx: PhaseContext) -> dict[str, Any]:
    """Publish the overview (table + picture) and return the engagement figures as metrics."""
    result = assessment_overview(session=session, master_flow_id=ctx.assets_run_id)
    if result.engagement["assets"] == 0:
        raise ValueError("assessment found no assets for this run")
    rows = result.breakdown
    for artifact in overview_artifacts(
        result.engagement, result.applications, breakdown(rows, "asset_type"), breakdown(rows, "environment")
    ):
        key = artifact_key(ASSESSMENT, artifact.what, ctx.engagement_id)
        if isinstance(artifact, MarkdownArtifact):
            create_markdown_artifact(key=key, markdown=artifact.markdown, description=artifact.description)
        else:
            create_table_artifact(key=key, table=artifact.rows, description=artifact.description)
    return {
        **result.engagement,
        "by_type": {str(k): int(v) for k, v in breakdown(rows, "asset_type").itertuples(index=False)},
        "by_os_family": {str(k): int(v) for k, v in breakdown(rows, "os_family").itertuples(index=False)},
        "by_environment": {str(k): int(v) for k, v in breakdown(rows, "environment").itertuples(index=False)},
    }


overview_step = step_task(ASSESSMENT, "overview", overview)
