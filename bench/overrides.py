"""Editor benchmark: applying an engagement's stored overrides to a run of 100,000 assets.

Run with ``python -m bench.overrides`` (``--assets``, ``--overrides``, ``--repeat``). It times the pure
part every assessment run adds (``tasks.assessment.overrides``): the effective strategies and pins of
the active overrides, the 6R changes against the run's assets, the released locks and the stale
report, on seeded frames shaped like the repositories' output. The database part is one load of
four asset columns and one set-based update of the changed rows, like any other step's.
"""

from __future__ import annotations

import argparse
import statistics
import time
import uuid
from typing import Any

import numpy as np
import pandas as pd

from tasks.assessment.overrides import (
    effective_pins,
    effective_six_r,
    released_locks,
    six_r_changes,
    stale_overrides,
)

STRATEGIES = ("rehost", "replatform", "refactor", "retire", "retain")


def frames(n_assets: int, n_overrides: int, seed: int = 42) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Assets of a run and the engagement's active overrides (6R, wave, lock; 2% naming no asset)."""
    rng = np.random.default_rng(seed)
    names = np.array([f"vm{i:07d}" for i in range(n_assets)], dtype=object)
    assets = pd.DataFrame(
        {
            "id": [uuid.UUID(int=int(i) + 1) for i in range(n_assets)],
            "asset_name": names,
            "six_r_strategy": rng.choice(STRATEGIES, n_assets),
            "six_r_decided_by": "rules",
            "six_r_locked": False,
        }
    )
    subjects = rng.choice(names, n_overrides, replace=False).astype(object)
    subjects[: n_overrides // 50] = [f"gone{i}" for i in range(n_overrides // 50)]
    kinds = rng.choice(["six_r", "wave", "lock"], n_overrides)
    values = [
        {"six_r_strategy": str(rng.choice(STRATEGIES))}
        if k == "six_r"
        else {"wave": int(rng.integers(1, 40))}
        if k == "wave"
        else {"six_r_strategy": "rehost", "wave": int(rng.integers(1, 40))}
        for k in kinds
    ]
    active = pd.DataFrame(
        {
            "id": [uuid.uuid4() for _ in range(n_overrides)],
            "kind": kinds,
            "subject": subjects,
            "value": values,
            "reason": None,
            "source": "cli",
            "created_by": "ann",
            "created_at": pd.Timestamp("2026-11-23", tz="UTC"),
        }
    )
    return assets, active


def apply_all(assets: pd.DataFrame, active: pd.DataFrame) -> dict[str, Any]:
    effective = effective_six_r(active)
    changed = six_r_changes(assets, effective)
    pins = effective_pins(active)
    released = released_locks(assets, effective, set())
    stale = stale_overrides(active, set(assets["asset_name"]))
    return {"changed": len(changed), "pins": len(pins), "released": len(released), "stale": len(stale)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--assets", type=int, default=100_000)
    parser.add_argument("--overrides", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    assets, active = frames(args.assets, args.overrides)
    times, result = [], {}
    for _ in range(args.repeat):
        start = time.perf_counter()
        result = apply_all(assets, active)
        times.append(time.perf_counter() - start)
    print(f"{args.assets} assets, {args.overrides} active overrides: {result}")
    print(f"apply (pure): best {min(times):.3f} s, median {statistics.median(times):.3f} s")


if __name__ == "__main__":
    main()
