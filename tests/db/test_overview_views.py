"""The overview views (migration 0011) on a hand-built inventory: right counts, one tenant only."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
import pytest
from sqlalchemy import text

from db.models import Asset, AssetDependency, MasterFlow
from db.repositories.overview import application_dependency_rows, asset_breakdown_rows, overview_rollups
from db.session import Tenant, tenant_session
from tasks.assessment.overview import assessment_overview

pytestmark = pytest.mark.usefixtures("database")

# name: (application, type, OS family, environment, completeness, tech-debt severity)
INVENTORY: dict[str, tuple[Any, ...]] = {
    "s1": ("shop", "server", "linux", "production", 1.0, "critical"),
    "s2": ("shop", "database", None, "production", 0.5, "high"),
    "s3": ("shop", "virtual_machine", "linux", "development", None, "unknown"),
    "c1": ("crm", "server", "windows", "production", 0.8, "none"),
    "n1": (None, "server", "linux", None, 0.2, "medium"),
    "i1": ("lonely", "server", "linux", "production", None, None),
}
DEPENDENCIES = [("s1", "s2"), ("s1", "c1"), ("c1", "n1")]


def _load(tenant: Tenant, names: dict[str, tuple[Any, ...]], deps: list[tuple[str, str]]) -> uuid.UUID:
    run = uuid.uuid4()
    ids = {name: uuid.uuid4() for name in names}
    scope = {"client_account_id": tenant.client_account_id, "engagement_id": tenant.engagement_id}
    with tenant_session(tenant) as session:
        session.add(MasterFlow(id=run, status="running", **scope))
        session.flush()
        for name, (app, kind, os_family, env, completeness, severity) in names.items():
            session.add(
                Asset(
                    id=ids[name],
                    master_flow_id=run,
                    asset_name=name,
                    application_name=app,
                    asset_type=kind,
                    os_family=os_family,
                    environment=env,
                    completeness_score=completeness,
                    custom_attributes={"tech_debt": {"severity": severity}} if severity else {},
                    **scope,
                )
            )
        session.flush()
        session.add_all(
            AssetDependency(id=uuid.uuid4(), source_asset_id=ids[s], target_asset_id=ids[t], **scope)
            for s, t in deps
        )
    return run


def test_views_count_one_run_of_one_tenant(make_tenant: Callable[..., Tenant]) -> None:
    tenant, other = make_tenant(), make_tenant()
    run = _load(tenant, INVENTORY, DEPENDENCIES)
    _load(tenant, {"x1": ("shop", "server", "linux", "production", 1.0, "critical")}, [])  # another run
    _load(other, INVENTORY, DEPENDENCIES)

    with tenant_session(tenant) as session:
        apps, kinds = overview_rollups(session=session, master_flow_id=run)
        dependency_view = application_dependency_rows(session=session, master_flow_id=run)
        breakdown = asset_breakdown_rows(session=session, master_flow_id=run)
        overview = assessment_overview(session=session, master_flow_id=run)
        visible = session.execute(text("SELECT count(DISTINCT master_flow_id) FROM migration.asset_overview"))
        assert visible.scalar_one() == 2  # its two runs, never the other tenant's
    with tenant_session(None) as session:
        assert session.execute(text("SELECT count(*) FROM migration.asset_overview")).scalar_one() == 0
        assert (
            session.execute(
                text("SELECT count(*) FROM migration.application_dependency_overview")
            ).scalar_one()
            == 0
        )

    assert breakdown["assets"].sum() == 6 and len(breakdown) == 6
    by_app = {
        None if pd.isna(r["application_name"]) else r["application_name"]: r for r in apps.to_dict("records")
    }
    shop = by_app["shop"]
    assert (shop["assets"], shop["with_completeness"], shop["completeness_sum"]) == (3, 2, 1.5)
    assert (shop["end_of_support"], shop["nearing_end_of_support"], shop["lifecycle_unknown"]) == (1, 1, 1)
    assert by_app[None]["nearing_end_of_support"] == 1
    assert kinds["assets"].sum() == 6
    assert kinds[kinds["asset_type"] == "server"]["assets"].sum() == 4

    # The dependency view, by hand; the step computes the same figures from the graph.
    dependencies = ["internal_dependencies", "cross_app_dependencies", "connected_applications"]
    view = {
        None if pd.isna(r["application_name"]) else r["application_name"]: [r[k] for k in dependencies]
        for r in dependency_view.to_dict("records")
    }
    assert view == {"shop": [1, 1, 1], "crm": [0, 2, 1], None: [0, 1, 1]}
    computed = {
        None if pd.isna(r["application_name"]) else r["application_name"]: [r[k] for k in dependencies]
        for r in overview.applications.to_dict("records")
    }
    assert computed == {**view, "lonely": [0, 0, 0]}

    table = overview.applications
    assert table["application_name"].tolist()[0] == "shop"
    shop_row = table.iloc[0]
    assert (shop_row["completeness_avg"], shop_row["dependency_groups"], shop_row["group_assets"]) == (
        0.75,
        2,
        5,
    )
    assert np.isnan(table.loc[table["application_name"] == "lonely", "completeness_avg"].iloc[0])
    assert overview.engagement == {
        "assets": 6,
        "applications": 3,
        "assets_without_application": 1,
        "completeness_avg": 0.625,
        "end_of_support": 1,
        "nearing_end_of_support": 2,
        "lifecycle_unknown": 1,
        "dependency_groups": 3,
        "isolated_assets": 2,
        "largest_group": 4,
        "multi_application_groups": 1,
        "cross_app_dependencies": 2,
    }


def test_views_are_security_invoker() -> None:
    from db.engine import get_admin_engine

    with get_admin_engine().connect() as conn:
        options = dict(
            conn.execute(
                text(
                    "SELECT c.relname, c.reloptions FROM pg_class c"
                    " JOIN pg_namespace n ON n.oid = c.relnamespace"
                    " WHERE n.nspname = 'migration' AND c.relkind = 'v'"
                )
            ).all()
        )
    assert set(options) >= {"asset_overview", "application_dependency_overview"}
    assert all("security_invoker=true" in (options[v] or []) for v in options)
