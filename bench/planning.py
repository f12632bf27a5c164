"""Planning's pure computations at scale: right-sizing + cost, effort + weekly load, parallel roadmap.

Run with ``python -m bench.planning --assets 100000``. Builds a seeded canonical asset frame (no files,
no database), waves of ``--wave-size`` assets with a share of dependent waves, and times each part.
The database side of the planning phase (load, update with change capture) is in ``bench.master``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import time
import uuid
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from tasks.assessment.roadmap import predecessors, roadmap_frame, schedule_waves
from tasks.planning.effort import asset_effort, capacity, effort_model, over_capacity, weekly_load
from tasks.planning.target import cost_plan

STRATEGIES = np.array(["rehost", "replatform", "refactor", "repurchase", "retire", "retain"])
STRATEGY_SHARES = [0.55, 0.2, 0.08, 0.05, 0.07, 0.05]


def synthetic_assets(n: int, wave_size: int, seed: int = 42) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    measured = rng.random(n) < 0.6
    return pd.DataFrame(
        {
            "id": [uuid.UUID(int=i + 1) for i in range(n)],
            "six_r_strategy": rng.choice(STRATEGIES, n, p=STRATEGY_SHARES),
            "wave_id": np.arange(n) // wave_size + 1,
            "environment": rng.choice(["production", "development", "test"], n, p=[0.5, 0.3, 0.2]),
            "power_state": rng.choice(["on", "off"], n, p=[0.95, 0.05]),
            "cpu_cores": rng.choice([1, 2, 4, 8, 16, 32], n),
            "memory_gb": rng.choice([2, 4, 8, 16, 32, 64, 128], n),
            "storage_gb": rng.integers(20, 2000, n).astype(float),
            "storage_used_gb": np.nan,
            "cpu_utilization_peak": np.where(measured, rng.uniform(5, 100, n), np.nan),
            "memory_utilization_peak": np.where(measured, rng.uniform(10, 100, n), np.nan),
            "iops_avg": np.where(rng.random(n) < 0.5, rng.gamma(2, 400, n), np.nan),
            "current_monthly_cost": np.where(rng.random(n) < 0.3, rng.uniform(50, 900, n), np.nan),
            "migration_complexity": rng.choice(["low", "medium", "high", None], n),
            "database_engine": rng.choice(["oracle", None], n, p=[0.1, 0.9]),
            "asset_type": "server",
        }
    )


def timed(label: str, work: Callable[[], Any], results: dict[str, float]) -> Any:
    started = time.perf_counter()
    out = work()
    results[label] = time.perf_counter() - started
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--assets", type=int, default=100_000)
    parser.add_argument("--wave-size", type=int, default=50)
    parser.add_argument("--max-parallel-waves", type=int, default=20)
    parser.add_argument("--dependent-share", type=float, default=0.2, help="waves linked to the one before")
    args = parser.parse_args()
    assets = synthetic_assets(args.assets, args.wave_size)
    seconds: dict[str, float] = {}
    for provider in ("aws", "azure", "gcp"):
        plan = timed(
            f"right-size + cost ({provider})", lambda p=provider: cost_plan(assets, p, None, 0.2), seconds
        )
    model = effort_model()
    effort = timed("effort per asset and role", lambda: asset_effort(assets, model), seconds)
    waves = sorted(assets["wave_id"].unique())
    rng = np.random.default_rng(7)
    links = [(w, w - 1) for w in waves[1:] if rng.random() < args.dependent_share]
    mix = assets.groupby("wave_id")["six_r_strategy"].apply(list)
    start = dt.date(2027, 1, 4)
    frame = timed(
        "parallel roadmap",
        lambda: roadmap_frame(
            schedule_waves(
                [(w, mix[w]) for w in waves], start, (), args.max_parallel_waves, predecessors(links)
            )
        ),
        seconds,
    )
    roles = list(model["roles"])
    hours = effort.assign(wave_id=assets["wave_id"]).groupby("wave_id")[roles].sum()
    dated = frame.set_index("number")[["start", "end"]].join(hours)
    weekly = timed("weekly load + over capacity", lambda: weekly_load(dated, roles), seconds)
    over = over_capacity(weekly, capacity(model, None))
    print(f"{args.assets:,} assets, {len(waves):,} waves of {args.wave_size}, {len(links):,} dependent waves")
    for label, s in seconds.items():
        print(f"  {label}: {s:.2f} s")
    print(
        f"  sized {len(plan['sized']):,}; roadmap {start} to {frame['end'].max()} "
        f"at {args.max_parallel_waves} waves at once; {len(weekly):,} weeks, "
        f"{over['week'].nunique():,} over capacity with the default team"
    )


if __name__ == "__main__":
    main()
