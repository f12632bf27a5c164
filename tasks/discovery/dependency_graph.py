"""Dependency groups and critical hubs of an edge list: pure numpy/scipy, linear in the edges.

A **dependency group** is a connected component of the undirected graph: assets that talk to
each other, directly or through others, and so are best moved together. A **hub** is an asset
that many others depend on or that it depends on: when it moves or fails, all of them notice.
The measure is plain and explainable (no betweenness, which is quadratic and says little more
here): the number of distinct assets linked to it in either direction, with the number of
distinct other applications among them. An asset is a hub from ``max(min_neighbours, the
99th percentile of neighbour counts)`` on, so a dense estate does not turn every asset into one.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from tasks.graph_components import component_labels

HUB_MIN_NEIGHBOURS = 10
HUB_PERCENTILE = 99.0
LISTED = 20  # rows of the hub and group tables kept in metrics and artifacts


@dataclass(frozen=True)
class GraphMeasures:
    """``assets[asset_id, group, neighbours, dependents, dependencies, applications]`` for every
    asset with an edge; ``groups[group, assets, edges, applications]`` largest first; ``hubs``: the
    rows of ``assets`` at or above ``hub_threshold`` neighbours, most connected first."""

    assets: pd.DataFrame
    groups: pd.DataFrame
    hubs: pd.DataFrame
    hub_threshold: int


def _index(edges: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Dense codes 0..n-1 for the ids of both ends (hash-based: no sorting of UUID objects)."""
    codes, ids = pd.factorize(np.concatenate([edges["source"].to_numpy(), edges["target"].to_numpy()]))
    n = len(edges)
    return np.asarray(ids), codes[:n], codes[n:]


def graph_measures(
    edges: pd.DataFrame,
    application: pd.Series | None = None,
    *,
    min_neighbours: int = HUB_MIN_NEIGHBOURS,
    percentile: float = HUB_PERCENTILE,
) -> GraphMeasures:
    """Groups and hubs of directed ``edges[source, target]`` (asset ids; self-edges ignored).

    ``application`` (asset id -> application name) counts the distinct other applications a
    hub reaches; assets without one count as their own.
    """
    edges = edges.loc[edges["source"] != edges["target"], ["source", "target"]].drop_duplicates()
    if edges.empty:
        empty = pd.DataFrame(
            columns=["asset_id", "group", "neighbours", "dependents", "dependencies", "applications"]
        )
        return GraphMeasures(
            empty, pd.DataFrame(columns=["group", "assets", "edges", "applications"]), empty, min_neighbours
        )
    ids, src, dst = _index(edges)
    n = len(ids)
    _, component = component_labels(n, src, dst)

    # Distinct neighbours in either direction: a pair linked both ways counts once.
    a, b = np.minimum(src, dst), np.maximum(src, dst)
    pairs = np.unique(a.astype(np.int64) * n + b)
    ends = np.concatenate([pairs // n, pairs % n])
    neighbours = np.bincount(ends, minlength=n)
    dependents = np.bincount(dst, minlength=n)  # who depends on it
    dependencies = np.bincount(src, minlength=n)  # what it depends on

    apps = (
        application.reindex(ids).to_numpy(dtype=object)
        if application is not None
        else np.full(n, None, dtype=object)
    )
    own = np.char.add("\x00asset ", np.arange(n).astype(str)).astype(object)  # no application: its own
    app_key = np.where(pd.isna(apps), own, apps.astype(str))
    # Distinct other applications reached by each asset (pairs both ways, own application excluded).
    other = pd.DataFrame({"asset": ends, "app": app_key[np.concatenate([pairs % n, pairs // n])]})
    other = other[other["app"].to_numpy() != app_key[other["asset"].to_numpy()]]
    reached = other.drop_duplicates().groupby("asset").size().reindex(range(n), fill_value=0).to_numpy()

    assets = pd.DataFrame(
        {
            "asset_id": ids,
            "group": component,
            "neighbours": neighbours,
            "dependents": dependents,
            "dependencies": dependencies,
            "applications": reached,
        }
    )
    # Number groups by size (largest = 1), ties by their first asset: stable for a given edge list.
    sizes = (
        assets.assign(code=np.arange(n)).groupby("group").agg(assets=("code", "size"), first=("code", "min"))
    )
    order = sizes.sort_values(["assets", "first"], ascending=[False, True]).index
    renumber = pd.Series(np.arange(1, len(order) + 1), index=order)
    assets["group"] = renumber.reindex(assets["group"]).to_numpy()
    group_of_edge = assets["group"].to_numpy()[src]
    app_groups = pd.DataFrame({"group": assets["group"], "app": apps})
    groups = (
        pd.DataFrame(
            {
                "assets": assets.groupby("group").size(),
                "edges": pd.Series(group_of_edge).value_counts(),
                "applications": app_groups.dropna().drop_duplicates().groupby("group").size(),
            }
        )
        .fillna(0)
        .astype(int)
        .rename_axis("group")
        .reset_index()
    )
    groups = groups.sort_values("group", kind="stable").reset_index(drop=True)

    threshold = max(int(min_neighbours), int(np.ceil(np.percentile(neighbours, percentile))))
    hubs = assets[assets["neighbours"] >= threshold].sort_values(
        ["neighbours", "applications"], ascending=[False, False], kind="stable"
    )
    return GraphMeasures(assets, groups, hubs.reset_index(drop=True), threshold)
