"""Discovery benchmark: the discovery phase alone on an RVTools-like export, timed step by step.

Run with ``python -m bench.discovery --assets 100000 --observations 300000``. The run

1. builds a seeded synthetic inventory (``mfactory.synthetic``) and writes it as an RVTools vInfo CSV
   (RVTools headers; memory and disks in MiB, power state as ``poweredOn``; not timed), plus a
   dependency export of ``--observations`` rows in which each distinct edge is observed one or more
   times (as connection logs repeat), so the dependencies step has to aggregate;
2. runs ``flows.master.master_flow`` with ``phases=["discovery"]`` for a fresh tenant (ephemeral
   Prefect API unless ``PREFECT_API_URL`` is set, the configured PostgreSQL, app role under RLS,
   change capture on, the quality gate and the artifacts);
3. reads each step's wall time from ``phase_steps`` and the phase's from ``phase_flows``, and reports
   the process's peak RSS;
4. rolls the phase back (``tasks.rollback.rollback_phases``, what ``mfactory rollback`` runs: one
   transaction, integrity check included) and reports its time and the rows undone and checked.

The issue's target is the whole discovery phase under 2 minutes for 100k rows + 300k observations on
the 2-core machine. The baseline in the same run is a plain ``COPY`` of the same inventory rows into a
scratch table: the floor any import of this file can reach.
"""

from __future__ import annotations

import argparse
import resource
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import text

from db.engine import get_admin_engine
from db.migrate import upgrade
from db.session import Tenant
from flows.master import master_flow
from mfactory.synthetic import generate_inventory
from tasks.rollback import rollback_phases

# Canonical field -> RVTools vInfo header (the labelled layout in shared/data/mapping/rvtools_vinfo.csv).
RVTOOLS_VINFO = {
    "asset_name": "VM",
    "power_state": "Powerstate",
    "fqdn": "DNS Name",
    "cpu_cores": "CPUs",
    "memory_gb": "Memory",
    "nic_count": "NICs",
    "disk_count": "Disks",
    "ip_address": "Primary IP Address",
    "storage_gb": "Total disk capacity MiB",
    "storage_used_gb": "In Use MiB",
    "description": "Annotation",
    "datacenter": "Datacenter",
    "cluster": "Cluster",
    "hypervisor_host": "Host",
    "os_name": "OS according to the configuration file",
    "external_id": "VM ID",
    "vm_uuid": "VM UUID",
    "created_date": "Creation date",
}
MIB_FIELDS = ("memory_gb", "storage_gb", "storage_used_gb")


def rvtools_frame(assets: pd.DataFrame) -> pd.DataFrame:
    """The synthetic assets as RVTools would export them (vectorised)."""
    out = assets[list(RVTOOLS_VINFO)].copy()
    for field in MIB_FIELDS:
        out[field] = (pd.to_numeric(out[field], errors="coerce") * 1024).round().astype("Int64")
    out["power_state"] = out["power_state"].map({"on": "poweredOn", "off": "poweredOff"}).fillna("suspended")
    out["external_id"] = "vm-" + pd.Series(np.arange(len(out)) + 1000, index=out.index).astype(str)
    out["folder"] = "/" + assets["application_name"].fillna("unassigned")
    return out.rename(columns=RVTOOLS_VINFO | {"folder": "Folder"})


def observations(edges: pd.DataFrame, n_rows: int, seed: int) -> pd.DataFrame:
    """``n_rows`` observations of ``edges``: every edge at least once, the rest repeats drawn at random."""
    rng = np.random.default_rng(seed)
    extra = rng.integers(0, len(edges), size=max(n_rows - len(edges), 0))
    picked = np.concatenate([np.arange(len(edges)), extra])[:n_rows]
    return edges.iloc[rng.permutation(picked)].reset_index(drop=True)


def write_files(workdir: Path, n_assets: int, n_observations: int) -> tuple[Path, Path]:
    per_asset = n_observations / n_assets / 2  # each distinct edge is observed twice on average
    assets, edges = generate_inventory(n_assets, seed=42, dependencies_per_asset=per_asset)
    inventory = workdir / "RVTools_export_vInfo.csv"
    rvtools_frame(assets).to_csv(inventory, index=False)
    dependencies = workdir / "connections.csv"
    observations(edges, n_observations, seed=43).to_csv(dependencies, index=False)
    return inventory, dependencies


def copy_baseline(inventory: Path) -> float:
    """Seconds for a plain text COPY of the inventory file into an unlogged scratch table."""
    header = pd.read_csv(inventory, nrows=0).columns
    columns = ", ".join(f"c{i} text" for i in range(len(header)))
    engine = get_admin_engine()
    raw = engine.raw_connection()
    try:
        with raw.cursor() as cur:
            cur.execute(f"CREATE TEMP TABLE bench_copy ({columns})")
            started = time.perf_counter()
            with (
                cur.copy("COPY bench_copy FROM STDIN (FORMAT csv, HEADER true)") as copy,
                inventory.open("rb") as handle,
            ):
                while chunk := handle.read(1 << 20):
                    copy.write(chunk)
            elapsed = time.perf_counter() - started
        raw.rollback()
    finally:
        raw.close()
    return elapsed


def step_seconds(master_flow_id: uuid.UUID) -> tuple[float, dict[str, float]]:
    with get_admin_engine().connect() as conn:
        phase = conn.execute(
            text(
                "SELECT id, extract(epoch FROM finished_at - started_at) AS s FROM migration.phase_flows"
                " WHERE master_flow_id = :m AND phase = 'discovery'"
            ),
            {"m": master_flow_id},
        ).one()
        steps = conn.execute(
            text(
                "SELECT name, extract(epoch FROM finished_at - started_at) AS s FROM migration.phase_steps"
                " WHERE phase_flow_id = :p ORDER BY position"
            ),
            {"p": phase.id},
        )
        return float(phase.s), {row.name: float(row.s) for row in steps}


def rollback_seconds(master_flow_id: uuid.UUID) -> tuple[float, dict[str, Any]]:
    """Roll the discovery phase back as ``mfactory rollback`` does (one transaction, integrity
    check included, emptied raw partitions dropped after the commit); seconds and the report."""
    with get_admin_engine().connect() as conn:
        row = conn.execute(
            text(
                "SELECT p.id, p.client_account_id, p.engagement_id FROM migration.phase_flows p"
                " WHERE p.master_flow_id = :m AND p.phase = 'discovery'"
            ),
            {"m": master_flow_id},
        ).one()
    started = time.perf_counter()
    report = rollback_phases(
        tenant=Tenant(client_account_id=row.client_account_id, engagement_id=row.engagement_id),
        master_flow_id=master_flow_id,
        phase_flows=[(row.id, "discovery")],
        scope="phase",
        reason="bench.discovery: rollback timed",
    )
    return time.perf_counter() - started, report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--assets", type=int, default=100_000)
    parser.add_argument("--observations", type=int, default=300_000)
    args = parser.parse_args()
    upgrade()
    with tempfile.TemporaryDirectory(prefix="mfactory-bench-") as tmp:
        inventory, dependencies = write_files(Path(tmp), args.assets, args.observations)
        baseline = copy_baseline(inventory)
        started = time.perf_counter()
        state = master_flow(
            client=f"bench-{uuid.uuid4().hex[:8]}",
            engagement=f"discovery {args.assets}",
            inventory=str(inventory),
            dependencies=[str(dependencies)],
            phases=["discovery"],
            as_of="2026-11-01",
            return_state=True,
        )
        total = time.perf_counter() - started
    if not state.is_completed():
        raise SystemExit(f"discovery ended {state.name}: {state.message}")
    phase, steps = step_seconds(uuid.UUID(str(state.state_details.flow_run_id)))
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"{args.assets:,} RVTools rows, {args.observations:,} dependency observations")
    print("| step | seconds |\n|---|---|")
    for name, seconds in steps.items():
        print(f"| {name} | {seconds:.1f} |")
    print(f"| **discovery phase** | **{phase:.1f}** |")
    print(f"master flow call (with Prefect start-up): {total:.1f} s; peak RSS {peak:,.0f} MiB")
    print(f"baseline: plain COPY of the same inventory file: {baseline:.2f} s")
    print(f"target < 120 s: {'met' if phase < 120 else 'NOT met'}")
    seconds, report = rollback_seconds(uuid.UUID(str(state.state_details.flow_run_id)))
    print(
        f"rollback of the phase: {seconds:.1f} s, {report['rows_undone']:,} rows undone,"
        f" integrity check {'passed' if report['integrity_check']['passed'] else 'FAILED'}"
        f" ({report['integrity_check']['rows_checked']:,} rows checked)"
    )


if __name__ == "__main__":
    main()
