"""Step 5 — Dependencies: dependency lists become edges between this run's assets, then groups and hubs.

All the run's dependency tables (Azure Migrate exports, CMDB relationships, netstat-like lists)
go through one set-based resolution (``db.repositories.dependencies``), so the same connection
seen in two files is still one edge. Endpoints nobody matched are stored in
``unresolved_endpoints`` and counted here; the graph measures (groups, hubs) are computed on
the stored edges and kept, as short lists, in the step's metrics for the discovery report.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pandas as pd
from sqlalchemy.orm import Session

from db.repositories.assets import count_assets
from db.repositories.dependencies import (
    ObservationColumns,
    ObservationTable,
    asset_labels,
    link_dependencies,
    run_graph,
    unresolved_endpoints,
)
from tasks.discovery.attribute_mapping import stored_mappings
from tasks.discovery.dependency_graph import HUB_MIN_NEIGHBOURS, LISTED, GraphMeasures, graph_measures
from tasks.discovery.imports_of_run import DEPENDENCIES, run_imports
from tasks.phases import DISCOVERY, PhaseContext
from tasks.steps import step_task


def observation_columns(where: str, columns: dict[str, str]) -> ObservationColumns:
    """The columns of one table; an IP column stands in for a missing name column of its side."""
    source = columns.get("source") or columns.get("source_ip")
    target = columns.get("target") or columns.get("target_ip")
    if source is None or target is None:
        raise ValueError(
            f"{where}: a dependency list needs a source and a target column (names, FQDNs or "
            f"addresses, host:port allowed); found {sorted(columns)}"
        )
    return ObservationColumns(
        source=source,
        target=target,
        source_ip=columns.get("source_ip") if source != columns.get("source_ip") else None,
        target_ip=columns.get("target_ip") if target != columns.get("target_ip") else None,
        port=columns.get("port"),
        protocol=columns.get("protocol"),
        dependency_type=columns.get("dependency_type"),
        observed_at=columns.get("observed_at"),
        observations=columns.get("observations"),
    )


def _listed_hubs(measures: GraphMeasures, labels: pd.DataFrame) -> list[dict[str, Any]]:
    names = labels.set_index("number")
    return [
        {
            "asset_name": names.at[h.asset_id, "asset_name"],
            "application_name": names.at[h.asset_id, "application_name"],
            "group": int(h.group),
            "neighbours": int(h.neighbours),
            "dependents": int(h.dependents),
            "dependencies": int(h.dependencies),
            "other_applications": int(h.applications),
        }
        for h in measures.hubs.head(LISTED).itertuples()
    ]


def graph_metrics(
    edges: pd.DataFrame,
    application: pd.Series,
    assets: int,
    min_neighbours: int,
    labels: Callable[[list[int]], pd.DataFrame],
) -> dict[str, Any]:
    """Groups and hubs of ``edges[source, target]`` as metrics (counts plus the top ``LISTED`` of
    each); ``labels`` names the listed hubs."""
    measures = graph_measures(edges, application, min_neighbours=min_neighbours)
    groups = measures.groups
    listed = [int(a) for a in measures.hubs["asset_id"].head(LISTED)]
    return {
        "dependency_groups": len(groups),
        "largest_group": int(groups["assets"].max()) if len(groups) else 0,
        "connected_assets": len(measures.assets),
        "isolated_assets": assets - len(measures.assets),
        "hubs": len(measures.hubs),
        "hub_threshold": measures.hub_threshold,
        "top_hubs": _listed_hubs(measures, labels(listed)) if listed else [],
        "largest_groups": groups.head(LISTED).astype(int).to_dict("records"),
    }


def build_dependencies(session: Session, ctx: PhaseContext) -> dict[str, Any]:
    """Resolve every observation's two ends to assets, store edges and unresolved endpoints, measure."""
    tables = []
    files = 0
    for data_import in run_imports(session, ctx, DEPENDENCIES):
        files += 1
        for sheet, mappings in stored_mappings(session, data_import.id).items():
            where = data_import.source_name + (f" [{sheet}]" if sheet else "")
            columns = {m.field: m.source for m in mappings if m.field}
            tables.append(ObservationTable(data_import.id, sheet, observation_columns(where, columns)))
    metrics: dict[str, Any] = {"files": files, "edges": 0, "rows": 0, "unresolved_rows": 0}
    if not tables:
        return metrics
    started = time.perf_counter()
    metrics.update(
        link_dependencies(session=session, tenant=ctx.tenant, master_flow_id=ctx.assets_run_id, tables=tables)
    )
    metrics["link_seconds"] = round(time.perf_counter() - started, 3)
    unresolved = unresolved_endpoints(session=session, master_flow_id=ctx.assets_run_id, limit=LISTED)
    metrics["top_unresolved_endpoints"] = [
        {**row, "ports": list(row["ports"] or [])[:10]}
        for row in unresolved.drop(columns="file").to_dict("records")
    ]
    edges, application = run_graph(session=session, master_flow_id=ctx.assets_run_id)
    assets = count_assets(session=session, master_flow_id=ctx.assets_run_id)
    min_neighbours = int(ctx.params.get("hub_min_neighbours", HUB_MIN_NEIGHBOURS))

    def labels(numbers: list[int]) -> pd.DataFrame:
        return asset_labels(session=session, master_flow_id=ctx.assets_run_id, numbers=numbers)

    metrics.update(graph_metrics(edges, application, assets, min_neighbours, labels))
    metrics["graph_seconds"] = round(time.perf_counter() - started - metrics["link_seconds"], 3)
    return metrics


dependencies = step_task(DISCOVERY, "dependencies", build_dependencies)
