"""Each phase's artifacts, read back through the Prefect API after real master runs."""

from __future__ import annotations

import base64
import json
import uuid
from collections.abc import Callable
from typing import Any

import pytest
from prefect import get_client
from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterKey
from prefect.client.schemas.objects import Artifact
from prefect.client.schemas.sorting import ArtifactSort
from sqlalchemy import Engine

from flows.master import master_flow
from tasks.artifacts.keys import artifact_key
from tasks.artifacts.markdown import PNG_SIGNATURE
from tests.flows.test_master_discovery import SAMPLE_DEPENDENCIES, SAMPLE_INVENTORY, Engagement, rows

STRATEGIES = {"rehost", "replatform", "refactor", "repurchase", "retire", "retain", "relocate"}

pytestmark = pytest.mark.usefixtures("database", "prefect_server")

# (phase, what) -> artifact type, for everything the phases publish besides gate and handoff.
EXPECTED = {
    ("discovery", "summary"): "markdown",
    ("discovery", "assets"): "table",
    ("discovery", "mappings"): "table",
    ("discovery", "dependency-graph"): "markdown",
    ("discovery", "tech-debt"): "table",
    ("assessment", "summary"): "markdown",
    ("assessment", "overview"): "table",
    ("assessment", "overview-chart"): "markdown",
    ("assessment", "strategies"): "table",
    ("assessment", "decisions"): "table",
    ("assessment", "applications"): "table",
    ("assessment", "waves"): "table",
    ("assessment", "roadmap"): "markdown",
    ("planning", "summary"): "markdown",
    ("planning", "waves"): "table",
    ("planning", "timeline"): "markdown",
    ("planning", "costs"): "table",
    ("planning", "resource"): "table",
    ("execution", "summary"): "markdown",
    ("modernization", "summary"): "markdown",
    ("modernization", "candidates"): "table",
}


def _run(engagement: Engagement, **kwargs: Any) -> uuid.UUID:
    state = master_flow(
        client=engagement.client,
        engagement=engagement.name,
        as_of="2025-01-01",
        start_date="2026-01-05",
        return_state=True,
        **kwargs,
    )
    assert state.is_completed(), state.message
    return uuid.UUID(str(state.state_details.flow_run_id))


def _versions(keys: list[str]) -> dict[str, list[Artifact]]:
    """Every version of each key, newest first, through the Prefect API."""
    with get_client(sync_client=True) as client:
        found = client.read_artifacts(
            artifact_filter=ArtifactFilter(key=ArtifactFilterKey(any_=keys)), sort=ArtifactSort.CREATED_DESC
        )
    by_key: dict[str, list[Artifact]] = {k: [] for k in keys}
    for artifact in found:
        by_key[str(artifact.key)].append(artifact)
    return by_key


def _table(artifact: Artifact) -> list[dict[str, Any]]:
    assert artifact.type == "table"
    return json.loads(artifact.data) if isinstance(artifact.data, str) else artifact.data


def _png(artifact: Artifact) -> bytes:
    assert artifact.type == "markdown"
    encoded = str(artifact.data).split("](data:image/png;base64,", 1)[1].split(")", 1)[0]
    return base64.b64decode(encoded, validate=True)


def _phase_flows(admin_engine: Engine, master_id: uuid.UUID) -> dict[str, uuid.UUID]:
    found = rows(
        admin_engine, "SELECT phase, id FROM migration.phase_flows WHERE master_flow_id = :m", m=master_id
    )
    return {r["phase"]: r["id"] for r in found}


def test_every_phase_publishes_its_artifacts_under_stable_keys(
    admin_engine: Engine, new_engagement: Callable[[], Engagement]
) -> None:
    """A full run leaves every expected key, written by its phase run, with figures from the database."""
    engagement = new_engagement()
    first = _run(engagement, inventory=str(SAMPLE_INVENTORY), dependencies=[str(SAMPLE_DEPENDENCIES)])
    keys = {pw: artifact_key(pw[0], pw[1], engagement.tenant.engagement_id) for pw in EXPECTED}
    versions = _versions(list(keys.values()))
    phase_flows = _phase_flows(admin_engine, first)
    latest: dict[tuple[str, str], Artifact] = {}
    for (phase, what), key in keys.items():
        assert versions[key], f"{key} was not published"
        latest[phase, what] = versions[key][0]
        assert latest[phase, what].type == EXPECTED[phase, what], key
        assert latest[phase, what].flow_run_id == phase_flows[phase], f"{key} comes from another run"

    def count(sql: str) -> int:
        return int(rows(admin_engine, sql, m=first)[0]["n"])

    assets = count("SELECT count(*) AS n FROM migration.assets WHERE master_flow_id = :m")
    assert assets == 60
    summary = str(latest["discovery", "summary"].data)
    assert f"Inventory of {assets} assets" in summary
    tech_debt = _table(latest["discovery", "tech-debt"])
    assert tech_debt and tech_debt[0]["worst_severity"] == "critical"
    assert "Applications by their worst OS/database support status" in summary
    for section in ("## What was done", "## Warnings", "## Needs a human", "## Step metrics"):
        assert section in summary
    assert keys["discovery", "dependency-graph"] in summary, "the summary points at the other artifacts"

    breakdown = _table(latest["discovery", "assets"])
    assert sum(r["assets"] for r in breakdown) == assets
    by_type = rows(
        admin_engine,
        "SELECT asset_type, count(*) AS n FROM migration.assets WHERE master_flow_id = :m GROUP BY 1",
        m=first,
    )
    for row in by_type:
        assert sum(r["assets"] for r in breakdown if r["asset_type"] == row["asset_type"]) == row["n"]

    mappings = _table(latest["discovery", "mappings"])
    stored = rows(
        admin_engine,
        "SELECT m.source_column, m.target_field, m.confidence FROM migration.import_field_mappings m"
        " JOIN migration.data_imports d ON d.id = m.data_import_id WHERE d.master_flow_id = :m",
        m=first,
    )
    assert sorted((r["source_column"], r["target_field"], r["confidence"]) for r in mappings) == sorted(
        (r["source_column"], r["target_field"], r["confidence"]) for r in stored
    )

    overview = _table(latest["assessment", "overview"])
    assert sum(r["assets"] for r in overview) == assets and "dependency_groups" in overview[0]
    pictures = (("assessment", "overview-chart"), ("assessment", "roadmap"), ("planning", "timeline"))
    for picture in (("discovery", "dependency-graph"), *pictures):
        assert _png(latest[picture]).startswith(PNG_SIGNATURE), picture

    decisions = _table(latest["assessment", "decisions"])
    strategies = rows(
        admin_engine,
        "SELECT asset_name, six_r_strategy, custom_attributes ? 'modernization' AS modernized"
        " FROM migration.assets WHERE master_flow_id = :m",
        m=first,
    )
    assert len(decisions) == assets  # under the 500-row cap: every asset
    assessed = {r["asset_name"]: r["strategy"] for r in decisions}
    assert {r["asset_name"] for r in strategies} == set(assessed)
    # Modernization ran after assessment published and may have re-labelled its candidates.
    unchanged = [r for r in strategies if not r["modernized"]]
    assert unchanged and all(assessed[r["asset_name"]] == r["six_r_strategy"] for r in unchanged)
    confidences = [r["confidence"] for r in decisions]
    assert confidences == sorted(confidences), "least confident first"
    assert sum(r["assets"] for r in _table(latest["assessment", "strategies"])) == assets
    applications = _table(latest["assessment", "applications"])
    named = count(
        "SELECT count(DISTINCT application_name) AS n FROM migration.assets"
        " WHERE master_flow_id = :m AND application_name IS NOT NULL"
    )
    assert len(applications) == named > 0
    assert all(0 < r["confidence"] <= 1 and r["strategy"] in STRATEGIES for r in applications)

    waves = count("SELECT count(*) AS n FROM migration.migration_waves WHERE master_flow_id = :m")
    assert len(_table(latest["assessment", "waves"])) == waves == len(_table(latest["planning", "waves"]))
    assert f"One bar per wave ({waves} dated waves)" in str(latest["assessment", "roadmap"].data)
    costs = _table(latest["planning", "costs"])
    assert len(costs) == waves and all(r["to_be_monthly_usd"] >= 0 for r in costs)
    in_waves = rows(
        admin_engine,
        "SELECT sum(estimated_monthly_cost) AS usd FROM migration.assets"
        " WHERE master_flow_id = :m AND wave_id IS NOT NULL AND six_r_strategy NOT IN ('retire', 'retain')",
        m=first,
    )[0]["usd"]
    cloud = sum(r["compute_monthly_usd"] + r["storage_monthly_usd"] for r in costs)
    assert in_waves > 0 and abs(cloud - float(in_waves)) < 0.01 * len(costs) + 0.01
    weekly = _table(latest["planning", "resource"])
    assert weekly and {"week", "migration_engineer", "dba", "app_tester", "project_manager"} <= set(weekly[0])
    assert "TCO a month: as-is" in str(latest["planning", "summary"].data)
    candidates = count(
        "SELECT count(*) AS n FROM migration.assets WHERE master_flow_id = :m"
        " AND custom_attributes ? 'modernization'"
    )
    assert len(_table(latest["modernization", "candidates"])) == candidates > 0


def test_a_later_run_adds_a_new_version_under_the_same_keys(
    admin_engine: Engine, new_engagement: Callable[[], Engagement]
) -> None:
    """Re-running assessment alone: its keys get a newer version from the new run; discovery's stay."""
    engagement = new_engagement()
    first = _run(engagement, inventory=str(SAMPLE_INVENTORY), dependencies=[str(SAMPLE_DEPENDENCIES)])
    second = _run(engagement, phases=["assessment"], max_wave_size=5)
    eid = engagement.tenant.engagement_id
    summary, waves, discovery = (
        artifact_key("assessment", "summary", eid),
        artifact_key("assessment", "waves", eid),
        artifact_key("discovery", "summary", eid),
    )
    versions = _versions([summary, waves, discovery])
    first_flows, second_flows = _phase_flows(admin_engine, first), _phase_flows(admin_engine, second)
    assert [a.flow_run_id for a in versions[summary]] == [
        second_flows["assessment"],
        first_flows["assessment"],
    ]
    assert [a.flow_run_id for a in versions[discovery]] == [first_flows["discovery"]]
    replanned = rows(
        admin_engine, "SELECT count(*) AS n FROM migration.migration_waves WHERE master_flow_id = :m", m=first
    )[0]["n"]
    latest_waves = _table(versions[waves][0])
    assert len(latest_waves) == replanned and max(w["assets"] for w in latest_waves) <= 5
    assert "of at most 5 assets" in str(versions[summary][0].data)
