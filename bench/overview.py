"""Assessment-overview benchmark: the overview of 100,000 assets / 300,000 dependencies in the database.

Run with ``python -m bench.overview`` (``--assets``, ``--deps-per-asset``, ``--repeat``, ``--seed``).

1. Setup, not timed: a fresh tenant and master flow; ``mfactory.synthetic.generate_inventory`` gives the
   assets (random UUID ids, a seeded completeness score and tech-debt severity in
   ``custom_attributes.tech_debt``) and dependencies, loaded with ``db.repositories.bulk.copy_into``
   (the product's own staged COPY, under row-level security).
2. Timed, each in a tenant transaction as the application role (RLS on), best and median of
   ``--repeat``: the per-application and type/OS/environment roll-ups from the view in one scan
   (``overview_rollups``), the dependency view on its own (``application_dependency_rows``; the step
   computes the same figures from the graph instead), the dependency graph as positions
   (``dependency_graph``), the components (``dependency_groups_of_positions``), and the whole
   ``assessment_overview`` plus its artifacts (table rows and the PNG) as the step builds them.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
import uuid
from collections.abc import Callable
from typing import Any

import numpy as np

from db.migrate import upgrade
from db.repositories.bulk import copy_into
from db.repositories.overview import application_dependency_rows, dependency_graph, overview_rollups
from db.repositories.runs import create_master_flow
from db.repositories.tenants import ensure_tenant
from db.session import Tenant, tenant_session
from mfactory.synthetic import generate_inventory
from tasks.artifacts.overview import overview_artifacts
from tasks.assessment.overview import assessment_overview
from tasks.assessment.overview_figures import breakdown, dependency_groups_of_positions

SEVERITIES = ["critical", "high", "medium", "none", "unknown", None]
SEVERITY_P = [0.1, 0.05, 0.05, 0.6, 0.1, 0.1]


def load(n_assets: int, deps_per_asset: float, seed: int) -> tuple[Tenant, uuid.UUID]:
    """A fresh tenant and run holding the synthetic inventory (not timed)."""
    with tenant_session(None) as session:
        tenant = ensure_tenant(session=session, client="bench", engagement=f"overview-{uuid.uuid4()}")
    run = uuid.uuid4()
    assets, dependencies = generate_inventory(n_assets, seed=seed, dependencies_per_asset=deps_per_asset)
    rng = np.random.default_rng(seed)
    ids = [uuid.uuid4() for _ in range(n_assets)]  # fresh per run: an earlier run's rows stay in the database
    by_name = dict(zip(assets["asset_name"], ids, strict=True))
    severity = rng.choice(len(SEVERITIES), size=n_assets, p=SEVERITY_P)
    completeness = np.round(rng.uniform(0.3, 1.0, size=n_assets), 3)
    scope = (tenant.client_account_id, tenant.engagement_id)
    with tenant_session(tenant) as session:
        create_master_flow(
            session=session, tenant=tenant, master_flow_id=run, parameters={"benchmark": "overview"}
        )
        copy_into(
            session=session,
            table="assets",
            columns=[
                "id",
                "client_account_id",
                "engagement_id",
                "master_flow_id",
                "asset_name",
                "asset_type",
                "os_family",
                "environment",
                "application_name",
                "completeness_score",
                "custom_attributes",
                "six_r_locked",
            ],
            rows=(
                (
                    ids[k],
                    *scope,
                    run,
                    row.asset_name,
                    row.asset_type,
                    row.os_family or None,
                    row.environment or None,
                    row.application_name or None,
                    float(completeness[k]),
                    json.dumps(
                        {"tech_debt": {"severity": SEVERITIES[severity[k]]}}
                        if SEVERITIES[severity[k]]
                        else {}
                    ),
                    False,
                )
                for k, row in enumerate(assets.itertuples(index=False))
            ),
        )
        copy_into(
            session=session,
            table="asset_dependencies",
            columns=[
                "id",
                "client_account_id",
                "engagement_id",
                "source_asset_id",
                "target_asset_id",
                "dependency_type",
                "evidence",
                "confidence",
            ],
            rows=(
                (uuid.uuid4(), *scope, by_name[s], by_name[t], "network", "{}", 1.0)
                for s, t in zip(
                    dependencies["source_asset_name"], dependencies["target_asset_name"], strict=True
                )
            ),
        )
    return tenant, run


def timed(tenant: Tenant, work: Callable[[Any], Any], repeat: int) -> tuple[list[float], Any]:
    seconds, result = [], None
    for _ in range(repeat):
        with tenant_session(tenant) as session:
            start = time.perf_counter()
            result = work(session)
            seconds.append(time.perf_counter() - start)
    return seconds, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--assets", type=int, default=100_000)
    parser.add_argument("--deps-per-asset", type=float, default=3.0)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args()
    upgrade()
    start = time.perf_counter()
    tenant, run = load(args.assets, args.deps_per_asset, args.seed)
    print(f"setup (not timed): {args.assets:,} assets loaded in {time.perf_counter() - start:.1f} s")

    graph: dict[str, Any] = {}

    def graph_only(session: Any) -> Any:
        graph["frames"] = dependency_graph(session=session, master_flow_id=run)
        return graph["frames"]

    def overview_and_artifacts(session: Any) -> Any:
        result = assessment_overview(session=session, master_flow_id=run)
        rows = result.breakdown
        return result, overview_artifacts(
            result.engagement,
            result.applications,
            breakdown(rows, "asset_type"),
            breakdown(rows, "environment"),
        )

    cases: list[tuple[str, Callable[[Any], Any]]] = [
        (
            "overview_rollups (view: per application + by type/OS/env)",
            lambda s: overview_rollups(session=s, master_flow_id=run),
        ),
        (
            "application_dependency_rows (view, not used by the step)",
            lambda s: application_dependency_rows(session=s, master_flow_id=run),
        ),
        ("dependency_graph (ids -> positions in SQL)", graph_only),
        (
            "dependency_groups_of_positions (scipy)",
            lambda s: dependency_groups_of_positions(*graph["frames"]),
        ),
        ("assessment_overview + artifacts (the step)", overview_and_artifacts),
    ]
    print(f"{'part':<58} {'best':>7} {'median':>7}")
    last: Any = None
    for name, work in cases:
        seconds, last = timed(tenant, work, args.repeat)
        print(f"{name:<58} {min(seconds):7.3f} {statistics.median(seconds):7.3f}")
    result, artifacts = last
    print("engagement:", json.dumps(result.engagement))
    print(
        f"applications: {len(result.applications):,}; breakdown rows: {len(result.breakdown):,}; "
        f"table rows published: {len(artifacts[0].rows):,}; markdown {len(artifacts[1].markdown):,} chars"
    )


if __name__ == "__main__":
    main()
