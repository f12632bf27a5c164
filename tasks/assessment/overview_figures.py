"""The assessment overview's figures, pure: per engagement and per application.

Counts, completeness and tech debt arrive already aggregated from SQL (views of migration 0011,
one row per application); what SQL cannot do set-based is the dependency groups (connected
components of the dependency graph), which scipy does here in linear time over arrays, so the
whole overview stays a handful of vectorised passes at 100k assets and 300k dependencies.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from tasks.graph_components import component_labels

NO_APPLICATION = "(no application)"
GROUP_COLUMNS = [
    "application_name",
    "dependency_groups",
    "group_assets",
    "largest_group",
    "internal_dependencies",
    "cross_app_dependencies",
    "connected_applications",
]
APPLICATION_COLUMNS = [
    "application_name",
    "assets",
    "completeness_avg",
    "end_of_support",
    "nearing_end_of_support",
    "lifecycle_unknown",
    *GROUP_COLUMNS[1:],
]


@dataclass(frozen=True)
class DependencyGroups:
    """Per application: the groups its assets are in (``group_assets`` = all assets of those
    groups, the application's and others'), its dependencies inside it and across to other
    applications (or to assets without one), and how many other named applications it is tied to
    directly - the same figures as the view ``application_dependency_overview``; per engagement:
    the group structure as a whole."""

    per_application: pd.DataFrame
    groups: int
    isolated_assets: int
    largest_group: int
    multi_application_groups: int
    cross_app_dependencies: int


def dependency_groups(assets: pd.DataFrame, edges: pd.DataFrame) -> DependencyGroups:
    """Connected components of ``edges`` (``source_asset_id``, ``target_asset_id``) over ``assets``
    (``id``, ``application_name``). Edges naming unknown assets are ignored."""
    index = pd.Index(assets["id"].to_numpy(dtype=object))
    if not index.is_unique:
        raise ValueError("asset ids must be unique")
    src = index.get_indexer(pd.Index(edges["source_asset_id"].to_numpy(dtype=object)))
    dst = index.get_indexer(pd.Index(edges["target_asset_id"].to_numpy(dtype=object)))
    return dependency_groups_of_positions(assets["application_name"], src, dst)


def dependency_groups_of_positions(
    applications: pd.Series, source: npt.ArrayLike, target: npt.ArrayLike
) -> DependencyGroups:
    """The same over positions: asset ``k`` has application ``applications[k]``; a dependency is a
    pair of positions (negative = unknown asset, ignored). A self-loop makes no group but counts as
    an internal dependency, as in the view."""
    n = len(applications)
    if n == 0:
        return DependencyGroups(pd.DataFrame(columns=GROUP_COLUMNS), 0, 0, 0, 0, 0)
    src, dst = np.asarray(source, dtype=np.int64), np.asarray(target, dtype=np.int64)
    keep = (src >= 0) & (dst >= 0)
    src, dst = src[keep], dst[keep]
    count, component = component_labels(n, src, dst)
    size = np.bincount(component, minlength=count)

    # Applications as codes; assets without one share one code (NaN keeps its own code).
    app, names = pd.factorize(applications.to_numpy(dtype=object), use_na_sentinel=False)
    pairs = pd.DataFrame({"app": app, "group": component}).drop_duplicates()
    apps_per_group = np.bincount(pairs["group"].to_numpy(), minlength=count)
    pairs["size"] = size[pairs["group"].to_numpy()]
    per_app = pairs.groupby("app").agg(
        dependency_groups=("group", "size"), group_assets=("size", "sum"), largest_group=("size", "max")
    )
    # Dependencies by application, as the view counts them: an internal one once, a crossing one
    # for both of its applications; tied applications = distinct other named applications.
    k = len(names)
    a_src, a_dst = app[src], app[dst]
    cross = a_src != a_dst
    per_app["internal_dependencies"] = np.bincount(a_src[~cross], minlength=k)[per_app.index]
    per_app["cross_app_dependencies"] = (
        np.bincount(a_src[cross], minlength=k) + np.bincount(a_dst[cross], minlength=k)
    )[per_app.index]
    named = ~pd.isna(np.asarray(names, dtype=object))
    ends = np.concatenate([a_src[cross] * k + a_dst[cross], a_dst[cross] * k + a_src[cross]])
    ties = np.unique(ends)
    ties = ties[named[ties % k]]
    per_app["connected_applications"] = np.bincount(ties // k, minlength=k)[per_app.index]
    per_app.insert(0, "application_name", np.asarray(names, dtype=object)[per_app.index.to_numpy()])
    return DependencyGroups(
        per_application=per_app.reset_index(drop=True)[GROUP_COLUMNS],
        groups=int(count),
        isolated_assets=int((size == 1).sum()),
        largest_group=int(size.max()),
        multi_application_groups=int((apps_per_group > 1).sum()),
        cross_app_dependencies=int((app[src] != app[dst]).sum()),
    )


def application_overview(applications: pd.DataFrame, groups: DependencyGroups) -> pd.DataFrame:
    """One row per application: the SQL roll-up (``db.repositories.overview.overview_rollups``)
    joined with its dependency figures; mean completeness over the assets that have a score."""
    frame = applications.merge(groups.per_application, on="application_name", how="left")
    for column in GROUP_COLUMNS[1:]:
        frame[column] = frame[column].fillna(0).astype("int64")
    scored = frame["with_completeness"].astype("float64")
    frame["completeness_avg"] = (
        frame["completeness_sum"].astype("float64") / scored.where(scored > 0)
    ).round(3)
    return frame[APPLICATION_COLUMNS]


def engagement_overview(applications: pd.DataFrame, groups: DependencyGroups) -> dict[str, Any]:
    """The engagement's figures: sums over the application rows plus the group structure."""
    scored = int(applications["with_completeness"].sum())
    total = float(applications["completeness_sum"].sum())
    return {
        "assets": int(applications["assets"].sum()),
        "applications": int(applications["application_name"].notna().sum()),
        "assets_without_application": int(
            applications.loc[applications["application_name"].isna(), "assets"].sum()
        ),
        "completeness_avg": round(total / scored, 3) if scored else None,
        "end_of_support": int(applications["end_of_support"].sum()),
        "nearing_end_of_support": int(applications["nearing_end_of_support"].sum()),
        "lifecycle_unknown": int(applications["lifecycle_unknown"].sum()),
        "dependency_groups": groups.groups,
        "isolated_assets": groups.isolated_assets,
        "largest_group": groups.largest_group,
        "multi_application_groups": groups.multi_application_groups,
        "cross_app_dependencies": groups.cross_app_dependencies,
    }


def breakdown(rows: pd.DataFrame, by: str) -> pd.DataFrame:
    """Assets per value of ``by`` (asset_type, os_family or environment) over the view's rows."""
    return (
        rows.groupby(by, dropna=False)["assets"]
        .sum()
        .astype("int64")
        .sort_values(ascending=False)
        .reset_index()
    )
