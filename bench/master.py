"""Master-flow benchmark: all five phases on synthetic engagements of growing size.

Run with ``python -m bench.master --assets 1000 10000 100000``. For each size the run

1. writes a seeded synthetic ``inventory.csv`` + ``dependencies.csv`` (``--deps-per-asset``, default 3)
   into a temporary folder (not timed);
2. runs ``flows.master.master_flow`` in this process against the Prefect API of the environment (an
   ephemeral server when ``PREFECT_API_URL`` is unset) and the configured PostgreSQL, for a fresh tenant;
3. reads back, from ``phase_flows``, the wall time of each phase; from the Prefect API, the number of
   task runs the master run and its subflows created; and the peak RSS of this process.

The baseline measured in the same run is the smallest size: the table shows how each figure grows
relative to it (task runs must stay constant; time should grow no faster than the asset count).
"""

from __future__ import annotations

import argparse
import resource
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

from prefect import get_client
from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId
from sqlalchemy import text

from db.engine import get_admin_engine
from db.migrate import upgrade
from flows.master import master_flow
from mfactory.synthetic import write_inventory
from tasks.phases import PHASES

DEFAULT_SIZES = (1_000, 10_000, 100_000)


@dataclass(frozen=True)
class RunFigures:
    assets: int
    dependencies: int
    total_seconds: float
    phase_seconds: dict[str, float]
    task_runs: int
    peak_rss_mib: float
    roadmap_end: str = ""


def peak_rss_mib() -> float:
    """Peak resident set size of this process so far (``ru_maxrss`` is in KiB on Linux)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _phase_seconds(master_flow_id: uuid.UUID) -> dict[str, float]:
    with get_admin_engine().connect() as conn:
        found = conn.execute(
            text(
                "SELECT phase, extract(epoch FROM finished_at - started_at) AS s"
                " FROM migration.phase_flows WHERE master_flow_id = :m"
            ),
            {"m": master_flow_id},
        )
        return {row.phase: float(row.s) for row in found}


def _task_runs(master_flow_id: uuid.UUID) -> int:
    """Task runs of the master flow run and of every flow run below it, counted by the Prefect API."""
    with get_admin_engine().connect() as conn:
        children = conn.scalars(
            text("SELECT id FROM migration.phase_flows WHERE master_flow_id = :m"), {"m": master_flow_id}
        ).all()
    with get_client(sync_client=True) as client:
        runs = FlowRunFilter(id=FlowRunFilterId(any_=[master_flow_id, *children]))
        total, page = 0, 200  # the API's largest page
        while True:
            found = client.read_task_runs(flow_run_filter=runs, limit=page, offset=total)
            total += len(found)
            if len(found) < page:
                return total


def run_once(n_assets: int, deps_per_asset: float, workdir: Path, max_parallel_waves: int = 20) -> RunFigures:
    inventory, dependencies = write_inventory(
        workdir / str(n_assets), n_assets, seed=42, dependencies_per_asset=deps_per_asset
    )
    n_deps = sum(1 for _ in dependencies.open(encoding="utf-8")) - 1
    started = time.perf_counter()
    state = master_flow(
        client=f"bench-{uuid.uuid4().hex[:8]}",
        engagement=f"{n_assets} assets",
        inventory=str(inventory),
        dependencies=[str(dependencies)],
        max_wave_size=50,
        max_parallel_waves=max_parallel_waves,
        start_date="2027-01-04",
        as_of="2026-11-01",
        return_state=True,
    )
    elapsed = time.perf_counter() - started
    if not state.is_completed():
        raise SystemExit(f"master flow for {n_assets} assets ended {state.name}: {state.message}")
    master_flow_id = uuid.UUID(str(state.state_details.flow_run_id))
    return RunFigures(
        assets=n_assets,
        dependencies=n_deps,
        total_seconds=elapsed,
        phase_seconds=_phase_seconds(master_flow_id),
        task_runs=_task_runs(master_flow_id),
        peak_rss_mib=peak_rss_mib(),
        roadmap_end=_roadmap_end(master_flow_id),
    )


def _roadmap_end(master_flow_id: uuid.UUID) -> str:
    """The last wave's end date: at 100k the roadmap must end within a few years of the start."""
    with get_admin_engine().connect() as conn:
        end = conn.scalar(
            text("SELECT max(planned_end) FROM migration.migration_waves WHERE master_flow_id = :m"),
            {"m": master_flow_id},
        )
    return str(end)


def report(figures: list[RunFigures]) -> str:
    base = figures[0]
    header = ["assets", "deps", *PHASES, "total s", "assets/s", "task runs", "peak RSS MiB", "time x"]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for f in figures:
        cells = [
            f"{f.assets:,}",
            f"{f.dependencies:,}",
            *(f"{f.phase_seconds.get(p, float('nan')):.1f}" for p in PHASES),
            f"{f.total_seconds:.1f}",
            f"{f.assets / f.total_seconds:,.0f}",
            str(f.task_runs),
            f"{f.peak_rss_mib:,.0f}",
            f"{f.total_seconds / base.total_seconds:.1f} (assets x{f.assets / base.assets:.0f})",
        ]
        lines.append("| " + " | ".join(cells) + " |")
    constant = len({f.task_runs for f in figures}) == 1
    lines.append("")
    lines.append(f"task runs constant across sizes: {'yes' if constant else 'NO'}")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--assets", type=int, nargs="+", default=list(DEFAULT_SIZES))
    parser.add_argument("--deps-per-asset", type=float, default=3.0)
    parser.add_argument("--max-parallel-waves", type=int, default=20)
    args = parser.parse_args()
    upgrade()
    figures: list[RunFigures] = []
    with tempfile.TemporaryDirectory(prefix="mfactory-bench-") as tmp:
        for n in sorted(args.assets):
            figures.append(run_once(n, args.deps_per_asset, Path(tmp), args.max_parallel_waves))
            last = figures[-1]
            print(
                f"{n:,} assets: {last.total_seconds:.1f} s, {last.task_runs} task runs, "
                f"roadmap ends {last.roadmap_end}",
                flush=True,
            )
    print(report(figures))


if __name__ == "__main__":
    main()
