"""Connected components of an undirected graph given as position pairs, the one way the project
computes them (dedup's key groups, discovery's dependency groups, the assessment overview).

Nodes are positions ``0..n-1``; edges are pairs ``source[i] - target[i]`` (direction ignored, self
loops and repeats harmless). scipy's sparse routine does it in C: a Python union-find over 300,000
edges costs seconds.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components


def component_labels(
    n: int, source: npt.ArrayLike, target: npt.ArrayLike
) -> tuple[int, npt.NDArray[np.int32]]:
    """(number of components, component label of each of the ``n`` nodes)."""
    src, dst = np.asarray(source, dtype=np.int64), np.asarray(target, dtype=np.int64)
    graph = coo_matrix((np.ones(len(src), dtype=np.int8), (src, dst)), shape=(n, n))
    count, labels = connected_components(graph, directed=False)
    return int(count), labels
