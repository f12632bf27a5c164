"""The dependency picture's graph: groups of assets (applications), never individual assets.

At 100k assets a node per asset is a black disc; a node per application is still thousands.
So the picture shows the groups that carry the most cross-group dependencies and folds the
rest into one "other groups" node that keeps their links, so nothing silently disappears.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

MAX_NODES = 30


@dataclass(frozen=True)
class GroupGraph:
    """Nodes ``[group, assets, internal, links]``; undirected edges ``[a, b, dependencies]``."""

    nodes: pd.DataFrame
    edges: pd.DataFrame
    total_groups: int
    folded_groups: int

    @property
    def other_label(self) -> str:
        return _other_label(self.folded_groups)


def group_graph(nodes: pd.DataFrame, edges: pd.DataFrame, max_nodes: int = MAX_NODES) -> GroupGraph:
    """Keep the ``max_nodes`` most connected groups (``nodes[group, assets]``,
    ``edges[source, target, dependencies]``); fold the others into one node."""
    if max_nodes < 2:
        raise ValueError("max_nodes must be at least 2")
    between = edges[edges["source"] != edges["target"]]
    internal = edges[edges["source"] == edges["target"]].groupby("source")["dependencies"].sum()
    links = (
        pd.concat(
            [
                between.groupby("source")["dependencies"].sum(),
                between.groupby("target")["dependencies"].sum(),
            ]
        )
        .groupby(level=0)
        .sum()
    )
    ranked = nodes.assign(
        links=nodes["group"].map(links).fillna(0).astype(int),
        internal=nodes["group"].map(internal).fillna(0).astype(int),
    ).sort_values(["links", "assets", "group"], ascending=[False, False, True], kind="stable")
    # Over the limit, the last slot goes to the node that stands for all the folded groups.
    folded = len(ranked) - (max_nodes - 1) if len(ranked) > max_nodes else 0
    other_label = _other_label(folded)
    keep = ranked.head(len(ranked) - folded)
    kept = set(keep["group"])
    if folded:
        rest = ranked.iloc[len(keep) :]
        other = pd.DataFrame(
            [{"group": other_label, "assets": int(rest["assets"].sum()), "internal": 0, "links": 0}]
        )
        keep = pd.concat([keep, other], ignore_index=True)

    def rename(column: pd.Series) -> pd.Series:
        return column.where(column.isin(kept), other_label)

    a, b = rename(between["source"]), rename(between["target"])
    pairs = pd.DataFrame(
        {
            "a": np.where(a <= b, a, b),
            "b": np.where(a <= b, b, a),
            "dependencies": between["dependencies"].to_numpy(),
        }
    )
    pairs = pairs[pairs["a"] != pairs["b"]]
    undirected = pairs.groupby(["a", "b"], as_index=False)["dependencies"].sum()
    return GroupGraph(keep.reset_index(drop=True), undirected, len(ranked), folded)


def _other_label(folded: int) -> str:
    return f"other {folded:,} groups"


def spring_layout(n: int, edges: np.ndarray, weights: np.ndarray, seed: int = 7) -> np.ndarray:
    """Fruchterman-Reingold positions in [-1, 1]^2 for ``n`` nodes (deterministic for a seed).

    Small and dense (n <= a few dozen), so the all-pairs repulsion is one numpy expression.
    """
    rng = np.random.default_rng(seed)
    if n == 1:
        return np.zeros((1, 2))
    pos = rng.uniform(-1.0, 1.0, size=(n, 2))
    k = np.sqrt(4.0 / n)
    strength = np.log1p(weights) / max(np.log1p(weights).max(initial=0.0), 1.0) if len(weights) else weights
    temperature = 0.2
    for _ in range(300):
        delta = pos[:, None, :] - pos[None, :, :]
        dist = np.maximum(np.linalg.norm(delta, axis=-1), 1e-3)
        push = (delta / dist[..., None] * (k * k / dist)[..., None]).sum(axis=1)
        if len(edges):
            d = pos[edges[:, 0]] - pos[edges[:, 1]]
            length = np.maximum(np.linalg.norm(d, axis=1), 1e-3)
            pull = d / length[:, None] * (length * length / k * (0.5 + strength))[:, None]
            np.add.at(push, edges[:, 0], -pull)
            np.add.at(push, edges[:, 1], pull)
        push -= 0.1 * pos * np.linalg.norm(pos, axis=1, keepdims=True)  # gravity keeps islands near
        step = np.linalg.norm(push, axis=1, keepdims=True)
        pos += push / np.maximum(step, 1e-9) * np.minimum(step, temperature)
        temperature *= 0.985
    pos -= pos.mean(axis=0)
    return pos / max(np.abs(pos).max(), 1e-9)
