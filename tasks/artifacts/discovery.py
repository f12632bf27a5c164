"""Discovery's report: what came in, how it was mapped, the inventory, and its dependency picture."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pandas as pd
from sqlalchemy.orm import Session

from db.repositories.reports import (
    asset_attention,
    asset_breakdown,
    dependency_groups,
    mapping_proposals,
    operating_systems_without_lifecycle,
)
from tasks.artifacts import keys
from tasks.artifacts.charts import dependency_graph_figure, png_bytes
from tasks.artifacts.graph import GroupGraph, group_graph
from tasks.artifacts.markdown import image_markdown, markdown_table
from tasks.artifacts.model import MarkdownArtifact, Report, TableArtifact
from tasks.artifacts.review import mapping_threshold, plural, report_date, six_r_threshold
from tasks.artifacts.tables import capped_rows
from tasks.phases import PhaseContext

SHOWN_COLUMNS = 10


def mapping_review(mappings: pd.DataFrame, below: float) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Inventory columns nobody confirmed: ``(unmapped, weakly mapped)``."""
    inventory = mappings[mappings["kind"].eq("inventory") & ~mappings["confirmed_by_user"].astype(bool)]
    unmapped = inventory[inventory["target_field"].isna()]
    weak = inventory[inventory["target_field"].notna() & (inventory["confidence"].astype(float) < below)]
    return unmapped, weak


def _columns(frame: pd.DataFrame) -> str:
    names = [f"`{c}`" for c in frame["source_column"].head(SHOWN_COLUMNS)]
    more = len(frame) - len(names)
    return ", ".join(names) + (f" and {more:,} more" if more > 0 else "")


def graph_markdown(graph: GroupGraph, png: bytes) -> str:
    """The picture plus the strongest links as text (for readers who search or copy)."""
    strongest = graph.edges.sort_values("dependencies", ascending=False).head(15)
    shown = (
        f"all {graph.total_groups:,} groups"
        if not graph.folded_groups
        else f"the {len(graph.nodes) - 1:,} most connected of {graph.total_groups:,} groups; "
        f"the other {graph.folded_groups:,} are one grey node"
    )
    return "\n".join(
        [
            "# Dependencies between application groups",
            f"One disc per application (assets without one are grouped by type); {shown}. "
            "Disc area grows with the number of assets, line width with the number of dependencies.",
            "",
            image_markdown("dependency graph of application groups", png),
            "",
            "## Strongest links",
            markdown_table(strongest.rename(columns={"a": "between", "b": "and"})),
        ]
    )


def _imports(report: Report, step: dict[str, Any]) -> None:
    imported = step.get("data_import", {})
    files = imported.get("files", [])
    listed = [f"`{Path(f['file']).name}` ({f['kind']}, {f['format']}, {f['rows']:,} rows)" for f in files]
    report.done.append(
        f"Imported {plural(len(files), 'file')}, {plural(int(imported.get('rows', 0)), 'row')}: "
        + ", ".join(listed)
    )
    cleansing = step.get("data_cleansing", {})
    if cleansing.get("rows_rejected"):
        errors_files = ", ".join(f"`{path}`" for path in cleansing.get("errors_files", []))
        report.warnings.append(
            f"{plural(int(cleansing['rows_rejected']), 'inventory row')} rejected "
            f"(no name, hostname, FQDN or id); details per row in {errors_files}"
        )
        report.needs_human.append("Fix the rejected rows at the source and re-import them.")
    if cleansing.get("values_dropped"):
        report.warnings.append(
            f"{plural(int(cleansing['values_dropped']), 'value')} dropped as invalid (the row was kept; "
            "see the errors file)"
        )


def _mappings(report: Report, mappings: pd.DataFrame, below: float) -> None:
    inventory_columns = mappings[mappings["kind"].eq("inventory")]
    report.done.append(
        f"Mapped {int(inventory_columns['target_field'].notna().sum()):,} of "
        f"{plural(len(inventory_columns), 'inventory column')} to canonical asset fields"
    )
    unmapped, weak = mapping_review(mappings, below)
    if len(unmapped):
        report.needs_human.append(
            f"{plural(len(unmapped), 'inventory column')} matched no canonical field and are kept raw "
            f"(`custom_attributes`): {_columns(unmapped)}. Map them if they matter."
        )
    if len(weak):
        report.needs_human.append(
            f"{plural(len(weak), 'mapping')} below confidence {below:g}: {_columns(weak)}. "
            "Confirm or correct them."
        )


def _inventory(
    report: Report, breakdown: pd.DataFrame, attention: dict[str, int], step: dict[str, Any]
) -> None:
    by_type = breakdown.groupby("asset_type")["assets"].sum().sort_values(ascending=False)
    report.done.append(
        f"Inventory of {plural(attention['assets'], 'asset')}: "
        + ", ".join(f"{t} {int(n):,}" for t, n in by_type.items())
    )
    duplicates = int(step.get("inventory", {}).get("duplicates_merged", 0))
    if duplicates:
        report.warnings.append(
            f"{plural(duplicates, 'duplicate row')} merged into other assets (same key or fingerprint)"
        )
    if attention["without_os"]:
        report.needs_human.append(
            f"{plural(attention['without_os'], 'server or VM', 'servers or VMs')} "
            "have no operating system recorded"
        )


def _dependencies(report: Report, edges: pd.DataFrame, graph: GroupGraph, step: dict[str, Any]) -> None:
    across = int(edges.loc[edges["source"] != edges["target"], "dependencies"].sum())
    report.done.append(
        f"{plural(int(edges['dependencies'].sum()), 'dependency', 'dependencies')} between assets; "
        f"{across:,} of them link different groups (of {plural(graph.total_groups, 'application group')})"
    )
    measured = step.get("dependencies", {})
    if measured.get("dependency_groups"):
        groups, largest = int(measured["dependency_groups"]), int(measured["largest_group"])
        isolated, hubs = int(measured.get("isolated_assets", 0)), int(measured.get("hubs", 0))
        report.done.append(
            f"{plural(groups, 'dependency group')} (connected assets; the largest has {largest:,}), "
            f"{plural(isolated, 'asset')} without a dependency, {plural(hubs, 'critical hub')} "
            f"(linked to at least {int(measured.get('hub_threshold', 0)):,} other assets)"
        )
    unresolved = int(measured.get("unresolved_rows", 0))
    if unresolved:
        endpoints = measured.get("top_unresolved_endpoints", [])[:5]
        listed = ", ".join(f"`{e['endpoint']}` ({int(e['observations']):,})" for e in endpoints)
        report.warnings.append(
            f"{plural(unresolved, 'dependency row')} name an endpoint that matches no asset of the inventory "
            f"({plural(int(measured.get('unresolved_endpoints', 0)), 'distinct endpoint')}, often external "
            f"services) and were not linked; most observed: {listed}. The full list is the "
            "`unresolved-endpoints` table and `migration.unresolved_endpoints`."
        )


def _lifecycle(
    report: Report, attention: dict[str, int], unknown: pd.DataFrame, today: dt.date, step: dict[str, Any]
) -> None:
    report.done.append(
        f"End-of-support date known for {plural(attention['with_lifecycle'], 'asset')}; "
        f"{attention['end_of_support_past']:,} past it on {today.isoformat()}, "
        f"{attention['end_of_support_within_a_year']:,} within a year"
    )
    apps = step.get("tech_debt", {}).get("applications_by_worst_severity")
    if apps:
        report.done.append(
            "Applications by their worst OS/database support status: "
            + ", ".join(f"{severity} {int(n):,}" for severity, n in apps.items())
        )
    if attention["end_of_support_past"]:
        report.warnings.append(
            f"{plural(attention['end_of_support_past'], 'asset')} past end of support on {today.isoformat()}"
        )
    if attention["os_lifecycle_unknown"]:
        report.needs_human.append(
            f"{plural(attention['os_lifecycle_unknown'], 'asset')} run an OS with no known "
            "end-of-support date (add it to `os_lifecycle.yaml` or confirm): "
            + ", ".join(f"{r.os_name} ({r.assets:,})" for r in unknown.itertuples())
        )


def build(session: Session, ctx: PhaseContext, metrics: dict[str, Any]) -> Report:
    """Read the run's aggregates, then write the summary lines and the three artifacts."""
    run, today = ctx.assets_run_id, report_date(ctx)
    step = {name.split(".")[-1]: values for name, values in metrics.items()}
    mappings = mapping_proposals(session=session, master_flow_id=run)
    breakdown = asset_breakdown(session=session, master_flow_id=run)
    attention = asset_attention(
        session=session, master_flow_id=run, low_confidence=six_r_threshold(ctx), today=today
    )
    unknown = operating_systems_without_lifecycle(session=session, master_flow_id=run, limit=5)
    nodes, edges = dependency_groups(session=session, master_flow_id=run)
    graph = group_graph(nodes, edges)

    report = Report(title="Discovery")
    _imports(report, step)
    _mappings(report, mappings, mapping_threshold(ctx))
    _inventory(report, breakdown, attention, step)
    _dependencies(report, edges, graph, step)
    _lifecycle(report, attention, unknown, today, step)

    assets_rows = capped_rows(breakdown)
    mapping_rows = capped_rows(mappings)
    measured = step.get("dependencies", {})
    hub_groups = frozenset(
        h["application_name"] for h in measured.get("top_hubs", []) if h.get("application_name")
    )
    picture = png_bytes(dependency_graph_figure(graph, "Dependencies between application groups", hub_groups))
    report.artifacts += [
        TableArtifact(
            keys.ASSETS,
            assets_rows.rows,
            f"Assets by type, OS family and environment ({assets_rows.note('rows')})",
        ),
        TableArtifact(
            keys.MAPPINGS,
            mapping_rows.rows,
            f"Proposed column mappings with confidence ({mapping_rows.note('columns')})",
        ),
        MarkdownArtifact(
            keys.DEPENDENCY_GRAPH, graph_markdown(graph, picture), "Dependency graph of application groups"
        ),
        TableArtifact(
            keys.DEPENDENCY_HUBS,
            measured.get("top_hubs", []),
            "Critical hubs: assets linked to the most other assets (distinct, either direction), with the "
            "other applications they reach; the most connected first",
        ),
        TableArtifact(
            keys.DEPENDENCY_GROUPS,
            measured.get("largest_groups", []),
            "Dependency groups (connected components of the dependency graph), the largest first",
        ),
        TableArtifact(
            keys.UNRESOLVED_ENDPOINTS,
            measured.get("top_unresolved_endpoints", []),
            "Dependency endpoints that match no asset (name, FQDN or IP), the most observed first",
        ),
        TableArtifact(
            keys.TECH_DEBT,
            step.get("tech_debt", {}).get("top_applications", []),
            "Applications with the most end-of-support debt (OS and databases; worst first, "
            "assets per severity, earliest end-of-support date)",
        ),
    ]
    return report
