"""Wave-planning benchmark: ``plan_waves`` on 100,000 assets / 300,000 dependencies, with baselines.

Run with ``python -m bench.waves`` (``--assets``, ``--deps-per-asset``, ``--repeat``, ``--seed``). One run

1. builds a seeded synthetic inventory with ``mfactory.synthetic.generate_inventory`` (not timed), gives
   every asset a random UUID as the database would, a seeded 6R strategy mix, and turns the dependency
   names into UUID pairs: the same frames the ``wave_planning`` step passes to the planner;
2. times ``plan_waves`` end to end (UUID lookups, graphs, pins, pilot, precedence, packing and all the
   reports) for three knob sets: servers only; servers + RAM + storage; and the same with 200 pinned
   assets;
3. times two baselines on the same graph in the same process: scipy ``connected_components`` alone on
   a ready CSR matrix (the floor: what "dependency groups" costs and nothing else), and the same
   preceded by the id-to-position lookup and CSR build a planner cannot avoid.

Each figure is the best and the median of ``--repeat`` runs. The plan of the last run is checked
(every asset in one wave, waves within limits unless one asset alone is over) and summarised.
"""

from __future__ import annotations

import argparse
import statistics
import time
import uuid
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import connected_components

from mfactory.synthetic import generate_inventory
from tasks.assessment.wave_planner import WaveLimits, WavePlan, plan_waves

DEFAULT_ASSETS = 100_000
DEFAULT_DEPS_PER_ASSET = 3.0
SEED = 42
STRATEGY_MIX = {"rehost": 0.55, "replatform": 0.2, "repurchase": 0.05, "refactor": 0.12, "relocate": 0.08}
PINS = 200


def build_frames(n_assets: int, deps_per_asset: float, seed: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Assets (UUID ids) and dependencies (UUID pairs) shaped like the step's input."""
    assets, dependencies = generate_inventory(n_assets, seed=seed, dependencies_per_asset=deps_per_asset)
    rng = np.random.default_rng(seed)
    ids = np.array([uuid.UUID(bytes=rng.bytes(16), version=4) for _ in range(n_assets)], dtype=object)
    by_name = pd.Series(ids, index=assets["asset_name"].to_numpy())
    strategies = rng.choice(list(STRATEGY_MIX), size=n_assets, p=list(STRATEGY_MIX.values()))
    frame = assets.assign(id=ids, six_r_strategy=strategies)
    edges = pd.DataFrame(
        {
            "source_asset_id": by_name.reindex(dependencies["source_asset_name"]).to_numpy(),
            "target_asset_id": by_name.reindex(dependencies["target_asset_name"]).to_numpy(),
        }
    )
    return frame, edges


def timed(work: Callable[[], Any], repeat: int) -> tuple[list[float], Any]:
    seconds, result = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        result = work()
        seconds.append(time.perf_counter() - start)
    return seconds, result


def csr_of(assets: pd.DataFrame, edges: pd.DataFrame) -> csr_matrix:
    index = pd.Index(assets["id"].to_numpy())
    src = index.get_indexer(edges["source_asset_id"])
    dst = index.get_indexer(edges["target_asset_id"])
    n = len(assets)
    return csr_matrix((np.ones(len(src), dtype=np.int8), (src, dst)), shape=(n, n))


def check(plan: WavePlan, n_assets: int) -> dict[str, Any]:
    """Invariants of the plan, and the figures worth printing."""
    waves = plan.waves
    assert len(plan.assets) == n_assets and plan.assets["wave"].ge(1).all()
    assert int(waves["asset_count"].sum()) == n_assets
    over = waves[~waves["within_limits"].astype(bool)]
    assert (over["asset_count"] == 1).all() or (over["pinned_assets"] > 0).all(), over
    cross = plan.cross_wave_dependencies
    return {
        "waves": len(waves),
        "largest wave": int(waves["asset_count"].max()),
        "pilot assets": int(waves.loc[waves["pilot"], "asset_count"].sum()),
        "waves over a limit": len(over),
        "groups": int(plan.assets["group"].nunique()),
        "largest group": int(plan.assets["group"].value_counts().max()),
        "cross-wave deps": len(cross),
        **{f"  {reason}": int(k) for reason, k in cross["reason"].value_counts().items()},
        "apps with env order conflicts": int((~plan.environment_order["in_order"].astype(bool)).sum()),
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--assets", type=int, default=DEFAULT_ASSETS)
    parser.add_argument("--deps-per-asset", type=float, default=DEFAULT_DEPS_PER_ASSET)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--seed", type=int, default=SEED)
    args = parser.parse_args(argv)

    start = time.perf_counter()
    assets, edges = build_frames(args.assets, args.deps_per_asset, args.seed)
    print(
        f"inventory: {len(assets):,} assets, {len(edges):,} dependencies "
        f"(generated in {time.perf_counter() - start:.1f} s, not timed)"
    )
    rng = np.random.default_rng(args.seed + 1)
    picked = rng.choice(len(assets), size=min(PINS, len(assets)), replace=False)
    pins = {assets["id"].iat[int(i)]: int(rng.integers(1, 50)) for i in picked}
    cases: list[tuple[str, Callable[[], Any]]] = [
        ("plan_waves: 25 servers", lambda: plan_waves(assets, edges, WaveLimits(25))),
        (
            "plan_waves: 50 servers, 2 TB RAM, 50 TB storage",
            lambda: plan_waves(assets, edges, WaveLimits(50, max_ram_gb=2048, max_storage_gb=50_000)),
        ),
        (
            f"plan_waves: same + {len(pins)} pinned assets",
            lambda: plan_waves(
                assets, edges, WaveLimits(50, max_ram_gb=2048, max_storage_gb=50_000), pins=pins
            ),
        ),
    ]
    graph = csr_of(assets, edges)
    baselines: list[tuple[str, Callable[[], Any]]] = [
        (
            "baseline: connected_components on a ready CSR",
            lambda: connected_components(graph, directed=False),
        ),
        (
            "baseline: id lookup + CSR build + connected_components",
            lambda: connected_components(csr_of(assets, edges), directed=False),
        ),
    ]
    results: dict[str, list[float]] = {}
    plans: dict[str, WavePlan] = {}
    for name, work in [*cases, *baselines]:
        seconds, result = timed(work, args.repeat)
        results[name] = seconds
        if isinstance(result, WavePlan):
            plans[name] = result

    width = max(len(name) for name in results)
    print(f"\n{'run'.ljust(width)}  {'best s':>8}  {'median s':>8}  runs")
    for name, seconds in results.items():
        print(f"{name.ljust(width)}  {min(seconds):8.3f}  {statistics.median(seconds):8.3f}  {len(seconds)}")
    floor = min(results[baselines[0][0]])
    with_lookup = min(results[baselines[1][0]])
    for name, _ in cases:
        best = min(results[name])
        print(
            f"{name}: {best / floor:,.0f}x the bare components, "
            f"{best / with_lookup:.1f}x lookup+build+components"
        )

    for name, plan in plans.items():
        print(f"\n{name}")
        for key, value in check(plan, len(assets)).items():
            print(f"  {key}: {value:,}")


if __name__ == "__main__":
    main()
