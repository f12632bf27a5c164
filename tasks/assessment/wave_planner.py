"""Wave planner: pure logic that turns assets + dependencies into bounded, explainable waves.

No database and no Prefect here: the ``wave_planning`` step loads the frames, calls
:func:`plan_waves` and stores what it returns, and the tests call it on hand-built graphs.

Why it is built this way:

* **Dependency groups move together.** Connected components of the dependency graph
  (scipy, linear time) are the unit of planning; a group is only cut when it is bigger than a
  wave (servers, RAM or storage), and then breadth-first over its *cycles* (directed strongly
  connected components) so neighbours stay together and a cycle is cut only when the cycle
  alone is too big. Every dependency left between two waves is reported with the reason.
* **Order encodes risk.** A pilot wave of low-risk, low-criticality, few-dependency groups goes
  first; non-production of an application goes before its production, as a precedence between
  groups (levels of a small DAG, cycles collapsed), unless a dependency ties them together,
  in which case the dependency wins and the conflict is reported.
* **Users have the last word.** Pinned assets (asset id -> wave number) stay where they are put;
  their unpinned neighbours follow the nearest pin while the wave has room.
* **Scale and determinism.** Assets are put in a canonical order (by id) first, so the plan depends
  only on the data, not on row order or hashing; the work is numpy/scipy over arrays, with Python
  loops only per wave, per pinned wave and per pilot candidate.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import breadth_first_order, connected_components

IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

CRITICALITY_RANK = {"low": 0, "medium": 1, "high": 2, "critical": 3}
# How risky a move is by strategy: lift-and-shift is the safest thing to rehearse in a pilot.
STRATEGY_RISK = {
    "relocate": 0,
    "rehost": 0,
    "repurchase": 1,
    "replatform": 1,
    "refactor": 2,
    "rearchitect": 2,
    "rewrite": 2,
}
UNKNOWN_RANK = 1  # an unknown criticality or strategy counts as medium: never pilot-grade "low"
PRODUCTION = "production"
NON_PRODUCTION = ("development", "test", "staging")

PILOT_MAX_CRITICALITY = CRITICALITY_RANK["low"]
PILOT_MAX_RISK = 1
PILOT_MAX_DEPENDENCIES = 3
DEFAULT_PILOT_SIZE = 10

# Why a dependency crosses waves / why an asset sits where it does.
SPLIT_OVERSIZED_GROUP = "oversized_group_split"
SPLIT_OVERSIZED_CYCLE = "oversized_cycle_split"
PINNED_BY_USER = "pinned_by_user"
SAME_DEPENDENCY_GROUP = "same_dependency_group"
APPLICATION_CYCLE = "application_cycle"
PLACED_PINNED, PLACED_FOLLOWS_PIN, PLACED_PILOT, PLACED_GROUP, PLACED_SPLIT = (
    "pinned",
    "follows_pin",
    "pilot",
    "group",
    "split",
)

LOW_64 = (1 << 64) - 1
MILLI = 1000  # RAM/storage are summed as integer milli-GB, so limits are exact, not float-rounded
UNLIMITED = 2**60
PIN_DETAIL = "a user pinned one end (or the asset it follows) to its wave"


@dataclass(frozen=True)
class WaveLimits:
    """How much one wave may hold: a number of servers always, total RAM / storage (GB) when set."""

    max_servers: int
    max_ram_gb: float | None = None
    max_storage_gb: float | None = None

    def __post_init__(self) -> None:
        if int(self.max_servers) < 1:
            raise ValueError(f"max wave size must be at least 1 server, got {self.max_servers}")
        for name in ("max_ram_gb", "max_storage_gb"):
            value = getattr(self, name)
            if value is not None and not float(value) > 0:
                raise ValueError(f"{name} must be a positive number of GB, got {value}")

    def units(self) -> IntArray:
        """[servers, RAM milli-GB, storage milli-GB]; an unset limit is effectively unlimited.

        Rounded like the assets' sizes (``_milli_gb``), so an asset exactly at the limit fits: a
        floored limit against a rounded size once made a 1.1875 GB asset "over" a 1.1875 GB limit.
        """

        def milli(value: float | None) -> int:
            return UNLIMITED if value is None else int(np.rint(float(value) * MILLI))

        return np.array([int(self.max_servers), milli(self.max_ram_gb), milli(self.max_storage_gb)])


@dataclass(frozen=True)
class WavePlan:
    """The plan and its explanation.

    ``assets``: one row per input asset, same index and order (``id``, ``wave``, ``placement``,
    ``group``). ``waves``: one row per non-empty wave. ``cross_wave_dependencies``: every input
    dependency whose ends sit in different waves, with ``reason`` and ``detail``.
    ``environment_order``: per application with non-production and production assets, whether
    non-production goes first and, if not, why.
    """

    assets: pd.DataFrame
    waves: pd.DataFrame
    cross_wave_dependencies: pd.DataFrame
    environment_order: pd.DataFrame
    limits: WaveLimits
    pilot_wave: int | None

    @property
    def wave_by_id(self) -> pd.Series:
        return pd.Series(self.assets["wave"].to_numpy(), index=self.assets["id"].to_numpy(), name="wave")


# --- input preparation ----------------------------------------------------------------------------


def _column(assets: pd.DataFrame, name: str) -> pd.Series:
    if name in assets.columns:
        return assets[name]
    return pd.Series([None] * len(assets), index=assets.index, dtype=object)


def _milli_gb(values: pd.Series) -> IntArray:
    numbers = pd.to_numeric(values, errors="coerce").astype("float64").fillna(0.0).clip(lower=0.0)
    return np.rint(numbers.to_numpy() * MILLI).astype(np.int64)


def _labels(values: pd.Series, *, lower: bool) -> tuple[IntArray, list[str]]:
    """Codes of a text column after trimming (and lower-casing), -1 for blank or missing.

    Factorising first means the text clean-up runs once per distinct value, not once per asset;
    codes follow the sorted labels, so they do not depend on row order.
    """
    codes, uniques = pd.factorize(values.to_numpy(dtype=object), use_na_sentinel=True)
    cleaned = [str(u).strip() for u in uniques]
    cleaned = [c.lower() for c in cleaned] if lower else cleaned
    labels = sorted({c for c in cleaned if c})
    code_of = {label: k for k, label in enumerate(labels)}
    remap = np.array([code_of.get(c, -1) for c in cleaned] + [-1], dtype=np.int64)
    return remap[np.where(codes >= 0, codes, len(cleaned))], labels


def _rank(values: pd.Series, ranks: Mapping[str, int]) -> IntArray:
    codes, labels = _labels(values, lower=True)
    table = np.array([ranks.get(label, UNKNOWN_RANK) for label in labels] + [UNKNOWN_RANK], dtype=np.int64)
    return table[np.where(codes >= 0, codes, len(labels))]


def _uuid_halves(
    values: npt.NDArray[np.object_],
) -> tuple[npt.NDArray[np.uint64], npt.NDArray[np.uint64]] | None:
    """High and low 64 bits of each id when the ids are ``uuid.UUID`` objects, else None.

    Database ids arrive as UUID objects, whose hashing is Python code; reading their integer
    once and looking up plain uint64 values is several times faster than hashing the objects.
    """
    if len(values) == 0 or not isinstance(values[0], uuid.UUID):
        return None
    try:
        high = np.fromiter((v.int >> 64 for v in values), dtype=np.uint64, count=len(values))
        low = np.fromiter((v.int & LOW_64 for v in values), dtype=np.uint64, count=len(values))
    except (AttributeError, TypeError):
        return None
    return high, low


class _Ids:
    """The canonical order of the asset ids (by id text; for UUIDs the same as by value) and
    lookups of other ids (dependency ends, pins) into it."""

    def __init__(self, ids: pd.Series) -> None:
        values = ids.to_numpy(dtype=object)
        halves = _uuid_halves(values)
        self._low: pd.Index | None = None
        if halves is not None:
            order = np.lexsort((halves[1], halves[0]))
            high, low = halves[0][order], halves[1][order]
            repeated = (high[1:] == high[:-1]) & (low[1:] == low[:-1])
            if repeated.any():
                raise ValueError(f"duplicate asset ids: {[str(v) for v in values[order][1:][repeated][:5]]}")
            low_index = pd.Index(low)
            if low_index.is_unique:
                self._high, self._low = high, low_index
        else:
            if ids.isna().any():
                raise ValueError("every asset needs an id")
            if ids.duplicated().any():
                raise ValueError(f"duplicate asset ids: {ids[ids.duplicated()].astype(str).head(5).tolist()}")
            order = np.argsort(ids.astype(str).to_numpy(), kind="stable")
        self.order: IntArray = order.astype(np.int64)
        self._index = pd.Index(values[order], dtype=object)

    def positions(self, values: Any) -> IntArray:
        """Canonical position of each value, -1 when it is not an asset id."""
        objects = np.asarray(pd.Series(values, dtype=object).to_numpy(), dtype=object)
        halves = _uuid_halves(objects) if self._low is not None else None
        if halves is None or self._low is None:
            return self._index.get_indexer(pd.Index(objects, dtype=object)).astype(np.int64)
        found = self._low.get_indexer(halves[1]).astype(np.int64)
        hit = found >= 0
        hit[hit] = self._high[found[hit]] == halves[0][hit]
        return np.where(hit, found, -1)


@dataclass(frozen=True)
class _Assets:
    """Per-asset arrays in canonical order (sorted by id)."""

    ids: _Ids
    prod: BoolArray
    nonprod: BoolArray
    criticality: IntArray
    risk: IntArray
    app: IntArray  # application code, -1 when unknown
    app_names: npt.NDArray[np.object_]  # application name per code (sorted)
    size: IntArray  # shape (3, n): 1 per server, RAM milli-GB, storage milli-GB

    @property
    def order(self) -> IntArray:
        return self.ids.order


def _prepare_assets(assets: pd.DataFrame) -> _Assets:
    ids = _Ids(assets["id"])
    order = ids.order
    env, env_labels = _labels(_column(assets, "environment"), lower=True)
    env_text = np.array([*env_labels, ""], dtype=object)[np.where(env >= 0, env, len(env_labels))][order]
    app, app_names = _labels(_column(assets, "application_name"), lower=False)
    return _Assets(
        ids=ids,
        prod=env_text == PRODUCTION,
        nonprod=np.isin(env_text, NON_PRODUCTION),
        criticality=_rank(_column(assets, "business_criticality"), CRITICALITY_RANK)[order],
        risk=_rank(_column(assets, "six_r_strategy"), STRATEGY_RISK)[order],
        app=app[order],
        app_names=np.asarray(app_names, dtype=object),
        size=np.vstack(
            [
                np.ones(len(assets), dtype=np.int64),
                _milli_gb(_column(assets, "memory_gb"))[order],
                _milli_gb(_column(assets, "storage_gb"))[order],
            ]
        ),
    )


def _symmetric(u: IntArray, v: IntArray, n: int) -> csr_matrix:
    """Undirected adjacency with sorted neighbour lists (so breadth-first order is canonical)."""
    graph = csr_matrix(
        (np.ones(2 * len(u), dtype=np.int8), (np.concatenate([u, v]), np.concatenate([v, u]))), shape=(n, n)
    )
    graph.sum_duplicates()
    graph.sort_indices()
    return graph


def _with_super_source(graph: csr_matrix, sources: IntArray) -> csr_matrix:
    """``graph`` plus one extra node (the last) with an edge to each of ``sources``."""
    n = graph.shape[0]
    indptr = np.concatenate([graph.indptr, [graph.indptr[-1] + len(sources)]])
    indices = np.concatenate([graph.indices, np.sort(sources)])
    data = np.ones(len(indices), dtype=np.int8)
    extended = csr_matrix((data, indices, indptr), shape=(n + 1, n + 1))
    return extended


def _distinct(values: IntArray) -> tuple[IntArray, IntArray, IntArray]:
    """Sorted distinct values, the first position of each, and each value's index among them.

    Sort-based on purpose: numpy's hash-based ``unique`` measured several times slower here
    on a few hundred thousand int64 keys.
    """
    order = np.argsort(values, kind="stable")
    ordered = values[order]
    starts = np.ones(len(values), dtype=bool)
    starts[1:] = ordered[1:] != ordered[:-1]
    inverse = np.empty(len(values), dtype=np.int64)
    inverse[order] = np.cumsum(starts) - 1
    return ordered[starts], order[starts], inverse


def _by_group(values: npt.NDArray[Any], label: IntArray, fill: Any) -> npt.NDArray[Any]:
    """A per-group value for every asset (``fill`` for assets outside any free group)."""
    if len(values) == 0:
        return np.full(len(label), fill, dtype=values.dtype)
    return np.where(label >= 0, values[np.maximum(label, 0)], fill)


def _group_max(labels: IntArray, values: IntArray, n_groups: int) -> IntArray:
    out = np.full(n_groups, np.iinfo(np.int64).min, dtype=np.int64)
    np.maximum.at(out, labels, values)
    return out


def _group_min(labels: IntArray, values: IntArray, n_groups: int) -> IntArray:
    out = np.full(n_groups, np.iinfo(np.int64).max, dtype=np.int64)
    np.minimum.at(out, labels, values)
    return out


def _group_sum(labels: IntArray, values: IntArray, n_groups: int) -> IntArray:
    out = np.zeros(n_groups, dtype=np.int64)
    np.add.at(out, labels, values)
    return out


# --- pins -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Pinned:
    wave: IntArray  # wave per canonical position, 0 when the asset is planned freely
    explicit: BoolArray  # pinned by the user (as opposed to following a pin)
    claimed: BoolArray  # reached from a pin (placed with it, or left over when its wave was full)
    reserved: dict[int, IntArray]  # wave -> [servers, RAM, storage] used by pinned content


def _apply_pins(pins: Mapping[Any, int] | None, a: _Assets, graph: csr_matrix, limits: IntArray) -> _Pinned:
    """Pinned assets go to their wave; unpinned neighbours follow the nearest pin while it fits.

    One multi-source breadth-first search from all pins at once (a super source joined to every
    pinned asset) gives each reachable asset its nearest pin, in order of distance; each pinned
    wave then admits followers in that order while its limits allow. Followers that do not fit
    are planned like any other asset.
    """
    n = graph.shape[0]
    wave = np.zeros(n, dtype=np.int64)
    explicit = np.zeros(n, dtype=bool)
    if not pins:
        return _Pinned(wave=wave, explicit=explicit, claimed=explicit.copy(), reserved={})
    keys = list(pins.keys())
    positions = a.ids.positions(keys)
    unknown = [str(k) for k, p in zip(keys, positions, strict=True) if p < 0]
    if unknown:
        raise ValueError(f"pinned assets are not in the plan: {sorted(unknown)[:10]}")
    numbers = np.array([int(pins[k]) for k in keys], dtype=np.int64)
    if (numbers < 1).any():
        raise ValueError("pinned wave numbers start at 1")
    explicit[positions] = True
    pin_wave = np.zeros(n + 1, dtype=np.int64)
    pin_wave[positions] = numbers

    order, pred = breadth_first_order(
        _with_super_source(graph, positions), n, directed=True, return_predecessors=True
    )
    reached = order[1:]
    anchor = np.arange(n + 1)
    anchor[reached] = pred[reached]
    anchor[positions] = positions
    while True:  # pointer jumping: each reached asset ends at the pin its search tree grew from
        jumped = anchor[anchor]
        if np.array_equal(jumped, anchor):
            break
        anchor = jumped
    claim = pin_wave[anchor[reached]]
    # Per claimed wave, in breadth-first order (pins first): admit while the running total fits.
    by_wave = np.argsort(claim, kind="stable")
    seq, seq_wave = reached[by_wave], claim[by_wave]
    starts = np.flatnonzero(np.r_[True, seq_wave[1:] != seq_wave[:-1]])
    running = np.cumsum(a.size[:, seq], axis=1)
    offset = np.repeat(running[:, starts] - a.size[:, seq[starts]], np.diff(np.r_[starts, len(seq)]), axis=1)
    within = ((running - offset) <= limits[:, None]).all(axis=0)
    admitted = explicit[seq] | within
    wave[seq[admitted]] = seq_wave[admitted]
    numbers_used, _, which = _distinct(seq_wave[admitted])
    totals = np.zeros((3, len(numbers_used)), dtype=np.int64)
    for d in range(3):
        np.add.at(totals[d], which, a.size[d, seq[admitted]])
    reserved = {int(w): totals[:, i] for i, w in enumerate(numbers_used)}
    claimed = np.zeros(n, dtype=bool)
    claimed[reached] = True
    return _Pinned(wave=wave, explicit=explicit, claimed=claimed, reserved=reserved)


# --- groups, pilot and precedence -----------------------------------------------------------------


@dataclass(frozen=True)
class _Groups:
    label: IntArray  # free group per canonical position, -1 for pinned content
    count: int
    size: IntArray  # shape (3, count)
    root: IntArray  # smallest canonical position in the group
    oversized: BoolArray
    left_by_pin: BoolArray  # the rest of a pinned asset's group that did not fit in its wave
    has_prod: BoolArray
    all_nonprod: BoolArray
    criticality: IntArray
    risk: IntArray
    dependencies: IntArray
    app: IntArray  # smallest application code (groups of one application sort together)
    graph: csr_matrix  # undirected dependencies between free assets


def _free_groups(a: _Assets, u: IntArray, v: IntArray, pinned: _Pinned, limits: IntArray) -> _Groups:
    free = pinned.wave == 0
    n = len(free)
    keep = free[u] & free[v]
    graph = _symmetric(u[keep], v[keep], n)
    _, comp = connected_components(graph, directed=False)
    members = np.flatnonzero(free)
    _, first, label_free = _distinct(comp[members])
    label = np.full(n, -1, dtype=np.int64)
    label[members] = label_free
    count = len(first)
    size = np.vstack([_group_sum(label_free, a.size[d, members], count) for d in range(3)])
    return _Groups(
        label=label,
        count=count,
        size=size,
        root=members[first],
        oversized=(size > limits[:, None]).any(axis=0),
        left_by_pin=_group_sum(label_free, pinned.claimed[members].astype(np.int64), count) > 0,
        has_prod=_group_sum(label_free, a.prod[members].astype(np.int64), count) > 0,
        all_nonprod=_group_sum(label_free, a.nonprod[members].astype(np.int64), count) == size[0],
        criticality=_group_max(label_free, a.criticality[members], count),
        risk=_group_max(label_free, a.risk[members], count),
        dependencies=np.bincount(label[u[keep]], minlength=count).astype(np.int64),
        app=_group_min(label_free, np.where(a.app[members] >= 0, a.app[members], UNLIMITED), count),
        graph=graph,
    )


def _pilot(g: _Groups, pilot_size: int, limits: IntArray, reserved: IntArray | None) -> BoolArray:
    """Pick whole pilot-grade groups, safest and smallest first, while the pilot wave has room."""
    chosen = np.zeros(g.count, dtype=bool)
    room = np.array([min(pilot_size, int(limits[0])), limits[1], limits[2]], dtype=np.int64)
    if reserved is not None:
        room = room - reserved
    eligible = (
        ~g.left_by_pin
        & g.all_nonprod
        & (g.criticality <= PILOT_MAX_CRITICALITY)
        & (g.risk <= PILOT_MAX_RISK)
        & (g.dependencies <= PILOT_MAX_DEPENDENCIES)
        & (g.size <= room[:, None]).all(axis=0)
    )
    candidates = np.flatnonzero(eligible)
    ranking = np.lexsort(
        (
            g.root[candidates],
            g.size[0, candidates],
            g.dependencies[candidates],
            g.risk[candidates],
            g.criticality[candidates],
        )
    )
    for group in candidates[ranking]:  # loop over candidates that fit alone; stops once full
        if room[0] <= 0:
            break
        if (g.size[:, group] <= room).all():
            chosen[group] = True
            room = room - g.size[:, group]
    return chosen


def _precedence_levels(a: _Assets, g: _Groups) -> IntArray:
    """A level per group so that an application's non-production groups come before its production.

    Groups and applications form a small directed graph (non-production group -> application ->
    production group). Strongly connected parts (a group holding both environments of an app, or
    groups that require each other through two apps) are collapsed; the longest path from a source
    in what remains is the level. Relaxation runs once per level, not per group.
    """
    free = g.label >= 0
    has_app = free & (a.app >= 0)
    n_apps = int(a.app.max()) + 1 if len(a.app) else 0
    if n_apps == 0:
        return np.zeros(g.count, dtype=np.int64)

    def pairs(mask: BoolArray) -> tuple[IntArray, IntArray]:
        keys = _distinct(g.label[mask] * n_apps + a.app[mask])[0]
        return keys // n_apps, keys % n_apps

    ng, na = pairs(has_app & a.nonprod)
    pg, pa = pairs(has_app & a.prod)
    if len(ng) == 0 or len(pg) == 0:
        return np.zeros(g.count, dtype=np.int64)
    total = g.count + n_apps
    src = np.concatenate([ng, g.count + pa])
    dst = np.concatenate([g.count + na, pg])
    graph = csr_matrix((np.ones(len(src), dtype=np.int8), (src, dst)), shape=(total, total))
    n_parts, part = connected_components(graph, directed=True, connection="strong")
    cu, cv = part[src], part[dst]
    keep = cu != cv
    edges = _distinct(cu[keep] * n_parts + cv[keep])[0]
    cu, cv = edges // n_parts, edges % n_parts
    level = np.zeros(n_parts, dtype=np.int64)
    for _ in range(n_parts + 1):
        raised = level.copy()
        np.maximum.at(raised, cv, level[cu] + 1)
        if np.array_equal(raised, level):
            break
        level = raised
    return level[part[: g.count]]


# --- sequencing and packing -----------------------------------------------------------------------


def _sequence(
    a: _Assets, g: _Groups, planned: BoolArray, level: IntArray, directed: tuple[IntArray, IntArray]
) -> tuple[IntArray, IntArray, IntArray]:
    """Planned assets in wave order: groups by (level, production, criticality, app, root); inside an
    oversized group, its cycles in breadth-first order from the group's root, and inside a cycle its
    assets in breadth-first order, so neighbours stay together. Returns the sequence, the cycle
    (strong component) of every asset and the group ranks."""
    n = len(g.label)
    free = g.label >= 0
    src, dst = directed
    keep = free[src] & free[dst] & (g.label[src] == g.label[dst])
    directed_graph = csr_matrix(
        (np.ones(int(keep.sum()), dtype=np.int8), (src[keep], dst[keep])), shape=(n, n)
    )
    n_cycles, cycle = connected_components(directed_graph, directed=True, connection="strong")

    group_order = np.lexsort((g.root, g.app, g.criticality, g.has_prod.astype(np.int64), level))
    group_rank = np.empty(g.count, dtype=np.int64)
    group_rank[group_order] = np.arange(g.count)

    # Breadth-first order of cycles inside oversized groups (one search for all of them).
    unit_rank = cycle.astype(np.int64)
    asset_rank = np.arange(n, dtype=np.int64)
    if g.oversized.any():
        cu, cv = cycle[src[keep]], cycle[dst[keep]]
        between = cu != cv
        condensed = _symmetric(cu[between], cv[between], n_cycles)
        roots = _distinct(cycle[g.root[g.oversized]].astype(np.int64))[0]
        order = breadth_first_order(_with_super_source(condensed, roots), n_cycles, directed=True)[0][1:]
        bfs_rank = np.full(n_cycles, -1, dtype=np.int64)
        bfs_rank[order] = np.arange(len(order))
        in_oversized = _by_group(g.oversized, g.label, False)
        unit_rank = np.where(in_oversized, bfs_rank[cycle], unit_rank)
        starts = g.root[g.oversized]
        visit = breadth_first_order(_with_super_source(g.graph, starts), n, directed=True)[0][1:]
        asset_rank[visit] = np.arange(len(visit))

    members = np.flatnonzero(planned)
    seq = members[np.lexsort((asset_rank[members], unit_rank[members], group_rank[g.label[members]]))]
    return seq, cycle, group_rank


def _pack(
    a: _Assets,
    g: _Groups,
    seq: IntArray,
    cycle: IntArray,
    level: IntArray,
    limits: IntArray,
    reserved: Mapping[int, IntArray],
    first_wave: int,
) -> IntArray:
    """Cut the sequence into waves: whole groups while they fit; an oversized group at cycle
    boundaries; a cycle too big for a wave at asset level. One loop iteration per wave."""
    m = len(seq)
    waves = np.zeros(m, dtype=np.int64)
    if m == 0:
        return waves
    running = np.zeros((3, m + 1), dtype=np.int64)
    running[:, 1:] = np.cumsum(a.size[:, seq], axis=1)
    labels = g.label[seq]
    units = cycle[seq]
    levels = level[labels]

    def bounds(keys: IntArray) -> IntArray:
        return np.r_[np.flatnonzero(np.r_[True, keys[1:] != keys[:-1]]), m]

    group_bounds = bounds(labels)
    unit_bounds = np.union1d(bounds(units), group_bounds)
    level_bounds = bounds(levels)
    no_room = np.zeros(3, dtype=np.int64)
    pos, wave = 0, first_wave
    while pos < m:
        used = reserved.get(wave, no_room)
        room = limits - used
        end = int(level_bounds[np.searchsorted(level_bounds, pos, side="right")])
        for d in range(3):
            end = min(end, int(np.searchsorted(running[d], running[d, pos] + room[d], side="right")) - 1)
        end = max(end, pos)
        whole = int(group_bounds[np.searchsorted(group_bounds, end, side="right") - 1])
        if whole > pos:
            cut = whole
        elif used[0] == 0:  # a fresh wave and the group does not fit: split it
            unit = int(unit_bounds[np.searchsorted(unit_bounds, end, side="right") - 1])
            cut = unit if unit > pos else max(end, pos + 1)
        else:  # a pinned wave without room for the next group: try the next wave
            wave += 1
            continue
        waves[pos:cut] = wave
        pos = cut
        wave += 1
    return waves


# --- reports --------------------------------------------------------------------------------------


def _gb(milli: IntArray) -> npt.NDArray[np.float64]:
    return milli.astype(np.float64) / MILLI


def _limit_text(limits: WaveLimits) -> str:
    parts = [f"{limits.max_servers} servers"]
    if limits.max_ram_gb is not None:
        parts.append(f"{limits.max_ram_gb:g} GB RAM")
    if limits.max_storage_gb is not None:
        parts.append(f"{limits.max_storage_gb:g} GB storage")
    return ", ".join(parts)


def _cross_wave(
    edges: pd.DataFrame,
    src: IntArray,
    dst: IntArray,
    wave: IntArray,
    by_pin: BoolArray,
    g: _Groups,
    cycle: IntArray,
    limits: WaveLimits,
) -> pd.DataFrame:
    valid = (src >= 0) & (dst >= 0)
    s, t = np.where(valid, src, 0), np.where(valid, dst, 0)
    crossing = valid & (wave[s] != wave[t])
    rows = np.flatnonzero(crossing)
    s, t = s[rows], t[rows]
    pinned = by_pin[s] | by_pin[t]
    same_cycle = cycle[s] == cycle[t]
    reason = pd.Categorical.from_codes(
        np.where(pinned, 0, np.where(same_cycle, 1, 2)),
        categories=[PINNED_BY_USER, SPLIT_OVERSIZED_CYCLE, SPLIT_OVERSIZED_GROUP],
    )
    # One explanation per split group (a loop over split groups, not edges); labels are categorical.
    groups, _, which = _distinct(np.where(pinned, -1, g.label[s]))
    texts = np.array(
        [
            PIN_DETAIL
            if k < 0
            else f"group of {g.size[0, k]} assets, {g.size[1, k] / MILLI:.1f} GB RAM, "
            f"{g.size[2, k] / MILLI:.1f} GB storage is over the wave limit of {_limit_text(limits)}"
            for k in groups
        ],
        dtype=object,
    )
    text_code, distinct = pd.factorize(texts)
    detail = pd.Categorical.from_codes(text_code[which] if len(which) else which, categories=distinct)
    return pd.DataFrame(
        {
            "source_asset_id": edges["source_asset_id"].to_numpy()[rows],
            "target_asset_id": edges["target_asset_id"].to_numpy()[rows],
            "source_wave": wave[s],
            "target_wave": wave[t],
            "reason": reason,
            "detail": detail,
        }
    )


def _environment_order(a: _Assets, wave: IntArray, comp: IntArray, pinned: BoolArray) -> pd.DataFrame:
    """Per application with both environments: does non-production move strictly first, and if not, why."""
    mask = (a.app >= 0) & (a.nonprod | a.prod)
    frame = pd.DataFrame(
        {
            "app": a.app[mask],
            "nonprod": a.nonprod[mask],
            "wave": wave[mask],
            "comp": comp[mask],
            "pin": pinned[mask],
        }
    )
    columns = ["application_name", "last_non_production_wave", "first_production_wave", "in_order", "reason"]
    if frame.empty:
        return pd.DataFrame(columns=columns)
    last_np = frame[frame["nonprod"]].groupby("app")["wave"].max()
    first_p = frame[~frame["nonprod"]].groupby("app")["wave"].min()
    both = last_np.index.intersection(first_p.index)
    report = pd.DataFrame(
        {"last_non_production_wave": last_np[both], "first_production_wave": first_p[both]}, index=both
    )
    report["in_order"] = report["last_non_production_wave"] < report["first_production_wave"]
    nonprod_comps = frame[frame["nonprod"]][["app", "comp"]].drop_duplicates()
    prod_comps = frame[~frame["nonprod"]][["app", "comp"]].drop_duplicates()
    shared = nonprod_comps.merge(prod_comps, on=["app", "comp"])["app"].unique()
    pinned_apps = frame.loc[frame["pin"], "app"].unique()
    report["reason"] = np.select(
        [report["in_order"].to_numpy(), report.index.isin(shared), report.index.isin(pinned_apps)],
        [None, SAME_DEPENDENCY_GROUP, PINNED_BY_USER],
        APPLICATION_CYCLE,
    )
    report.insert(0, "application_name", a.app_names[report.index.to_numpy()])
    return report.reset_index(drop=True)[columns]


def _wave_table(
    a: _Assets, wave: IntArray, placement: npt.NDArray[np.object_], limits: WaveLimits, pilot_wave: int | None
) -> pd.DataFrame:
    frame = pd.DataFrame(
        {
            "number": wave,
            "servers": a.size[0],
            "ram": a.size[1],
            "storage": a.size[2],
            "pinned": placement == PLACED_PINNED,
        }
    )
    per = frame.groupby("number").agg(
        asset_count=("servers", "sum"),
        ram=("ram", "sum"),
        storage=("storage", "sum"),
        pinned=("pinned", "sum"),
    )
    bounds = limits.units()
    over = (per["asset_count"] > bounds[0]) | (per["ram"] > bounds[1]) | (per["storage"] > bounds[2])
    table = pd.DataFrame(
        {
            "number": per.index.to_numpy(dtype=np.int64),
            "asset_count": per["asset_count"].to_numpy(dtype=np.int64),
            "memory_gb": _gb(per["ram"].to_numpy()),
            "storage_gb": _gb(per["storage"].to_numpy()),
            "pilot": per.index.to_numpy() == (pilot_wave or 0),
            "pinned_assets": per["pinned"].to_numpy(dtype=np.int64),
            "within_limits": ~over.to_numpy(),
        }
    )
    table["note"] = np.where(
        table["within_limits"],
        None,
        np.where(
            table["asset_count"] == 1,
            "one asset alone is over the limit",
            "assets pinned by a user are over the limit",
        ),
    )
    return table


# --- entry point ----------------------------------------------------------------------------------


def plan_waves(
    assets: pd.DataFrame,
    edges: pd.DataFrame,
    limits: WaveLimits,
    *,
    pins: Mapping[Any, int] | None = None,
    pilot_size: int | None = None,
) -> WavePlan:
    """Plan waves for ``assets`` (column ``id``; optionally environment, business_criticality,
    application_name, memory_gb, storage_gb, six_r_strategy) linked by ``edges`` (columns
    ``source_asset_id``, ``target_asset_id``; edges to unknown assets are ignored).

    ``pins`` maps asset ids to the wave they must be in. ``pilot_size`` caps the pilot wave in
    servers (default ``min(10, max servers)``; 0 means no pilot).
    """
    n = len(assets)
    pilot_cap = DEFAULT_PILOT_SIZE if pilot_size is None else int(pilot_size)
    if pilot_cap < 0:
        raise ValueError(f"pilot size must be 0 or more, got {pilot_size}")
    if n == 0:
        return _empty_plan(limits)
    bounds = limits.units()
    a = _prepare_assets(assets)
    src = a.ids.positions(edges["source_asset_id"])
    dst = a.ids.positions(edges["target_asset_id"])
    valid = (src >= 0) & (dst >= 0) & (src != dst)
    directed = _distinct(src[valid] * n + dst[valid])[0]
    d_src, d_dst = directed // n, directed % n
    undirected = _distinct(np.minimum(d_src, d_dst) * n + np.maximum(d_src, d_dst))[0]
    u, v = undirected // n, undirected % n
    graph = _symmetric(u, v, n)
    _, comp = connected_components(graph, directed=False)

    pinned = _apply_pins(pins, a, graph, bounds)
    free = pinned.wave == 0
    g = _free_groups(a, u, v, pinned, bounds)
    level = _precedence_levels(a, g)
    pilot_groups = (
        _pilot(g, pilot_cap, bounds, pinned.reserved.get(1)) if pilot_cap > 0 else np.zeros(g.count, bool)
    )
    in_pilot = _by_group(pilot_groups, g.label, False)
    pilot_wave = 1 if in_pilot.any() else None
    planned = free & ~in_pilot
    seq, cycle, _ = _sequence(a, g, planned, level, (d_src, d_dst))
    packed = _pack(a, g, seq, cycle, level, bounds, pinned.reserved, first_wave=2 if pilot_wave else 1)

    wave = pinned.wave.copy()
    wave[in_pilot] = 1
    wave[seq] = packed
    placement = np.full(n, PLACED_GROUP, dtype=object)
    placement[_by_group(g.oversized, g.label, False)] = PLACED_SPLIT
    placement[in_pilot] = PLACED_PILOT
    placement[~free] = PLACED_FOLLOWS_PIN
    placement[pinned.explicit] = PLACED_PINNED

    # Back to input order.
    inverse = np.empty(n, dtype=np.int64)
    inverse[a.order] = np.arange(n)
    result = pd.DataFrame(
        {
            "id": assets["id"].to_numpy(),
            "wave": wave[inverse],
            "placement": placement[inverse],
            "group": comp[inverse],
        },
        index=assets.index,
    )
    return WavePlan(
        assets=result,
        waves=_wave_table(a, wave, placement, limits, pilot_wave),
        cross_wave_dependencies=_cross_wave(edges, src, dst, wave, ~free, g, cycle, limits),
        environment_order=_environment_order(a, wave, comp, ~free),
        limits=limits,
        pilot_wave=pilot_wave,
    )


def _empty_plan(limits: WaveLimits) -> WavePlan:
    return WavePlan(
        assets=pd.DataFrame({"id": [], "wave": pd.Series(dtype="int64"), "placement": [], "group": []}),
        waves=pd.DataFrame(
            columns=[
                "number",
                "asset_count",
                "memory_gb",
                "storage_gb",
                "pilot",
                "pinned_assets",
                "within_limits",
            ]
        ),
        cross_wave_dependencies=pd.DataFrame(
            columns=["source_asset_id", "target_asset_id", "source_wave", "target_wave", "reason", "detail"]
        ),
        environment_order=pd.DataFrame(
            columns=[
                "application_name",
                "last_non_production_wave",
                "first_production_wave",
                "in_order",
                "reason",
            ]
        ),
        limits=limits,
        pilot_wave=None,
    )
