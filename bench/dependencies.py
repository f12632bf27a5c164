"""Dependencies benchmark: the discovery dependencies step on 100,000 assets / 300,000 observations.

Run with ``python -m bench.dependencies [--assets 100000] [--observations 300000]``. One run

1. writes a seeded synthetic inventory (``mfactory.synthetic``; every fifth asset gets a second
   address, as a ``"10.x; 172.16.x"`` list) and a netstat-like list (``Proto, Local Address,
   Foreign Address, State``) of its dependencies, each connection observed twice on average, the
   ends written as address:port, FQDN:port (in upper case) or bare name, one in ten taken on the
   server (so it must be turned round) and one in a hundred to an external address (not timed);
2. runs the five discovery steps up to and including ``dependencies`` exactly as
   ``bench.ingest`` does (each step's work in its own captured tenant transaction, app role, RLS);
3. prints each step's seconds, the dependencies step's own split (resolution SQL vs graph
   measures), what it found, and the peak RSS of the process.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from bench.ingest import STEPS, peak_rss_mib, setup_run, stopwatch
from db.migrate import upgrade
from db.session import tenant_session
from mfactory.synthetic import generate_inventory
from tasks.discovery.dependencies import build_dependencies

DEFAULT_ASSETS = 100_000
DEFAULT_OBSERVATIONS = 300_000
SEED = 42


def write_inputs(directory: Path, assets: int, observations: int, seed: int) -> tuple[Path, Path]:
    """The inventory and a netstat-like list of ``observations`` rows (vectorised, seeded)."""
    rng = np.random.default_rng(seed)
    inventory, deps = generate_inventory(assets, seed=seed, dependencies_per_asset=observations / assets / 2)
    second = np.arange(len(inventory)) % 5 == 0
    extra = (
        "172.16."
        + pd.Series(np.arange(len(inventory)) // 254 % 256).astype(str)
        + "."
        + pd.Series(np.arange(len(inventory)) % 254 + 1).astype(str)
    )
    inventory["ip_address"] = inventory["ip_address"].where(~second, inventory["ip_address"] + "; " + extra)
    inventory_path = directory / "inventory.csv"
    inventory.to_csv(inventory_path, index=False)

    by_name = inventory.set_index("asset_name")
    pick = rng.integers(0, len(deps), observations)  # each connection about twice, some more, some never
    obs = deps.iloc[pick].reset_index(drop=True)
    n = len(obs)
    src = by_name.loc[obs["source_asset_name"]]
    dst = by_name.loc[obs["target_asset_name"]]
    src_ip = src["ip_address"].str.split(";").str[0].to_numpy()
    dst_ip = dst["ip_address"].str.split(";").str[0].to_numpy()
    ephemeral = rng.integers(32768, 61000, n).astype(str)
    port = obs["port"].astype(str).to_numpy()
    style = np.arange(n) % 3
    local = np.select(
        [style == 0, style == 1],
        [src_ip + ":" + ephemeral, src["fqdn"].to_numpy() + ":" + ephemeral],
        obs["source_asset_name"].to_numpy(),
    )
    foreign = np.select(
        [style == 0, style == 1],
        [dst_ip + ":" + port, np.char.upper(dst["fqdn"].to_numpy().astype(str)) + ":" + port],
        obs["target_asset_name"].to_numpy() + ":" + port,
    )
    external = rng.random(n) < 0.01
    foreign = np.where(external, "203.0.113." + rng.integers(1, 255, n).astype(str) + ":443", foreign)
    inbound = (rng.random(n) < 0.1) & ~external & (style == 0)  # the same socket, seen on the server
    local, foreign = (
        np.where(inbound, dst_ip + ":" + port, local),
        np.where(inbound, src_ip + ":" + ephemeral, foreign),
    )
    netstat = pd.DataFrame(
        {"Proto": obs["protocol"], "Local Address": local, "Foreign Address": foreign, "State": "ESTABLISHED"}
    )
    netstat_path = directory / "netstat.csv"
    netstat.to_csv(netstat_path, index=False)
    return inventory_path, netstat_path


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--assets", type=int, default=DEFAULT_ASSETS)
    parser.add_argument("--observations", type=int, default=DEFAULT_OBSERVATIONS)
    parser.add_argument("--seed", type=int, default=SEED)
    args = parser.parse_args(argv)
    upgrade()
    with tempfile.TemporaryDirectory(prefix="mfbench-deps-") as tmp:
        started = time.perf_counter()
        inventory, netstat = write_inputs(Path(tmp), args.assets, args.observations, args.seed)
        print(
            f"assets: {args.assets:,}  observations: {args.observations:,}  (inputs written in "
            f"{time.perf_counter() - started:.1f}s, not measured)"
        )
        ctx = setup_run().model_copy(
            update={"params": {"inventory": str(inventory), "dependencies": [str(netstat)]}}
        )
        for name, work in (*STEPS, ("dependencies", build_dependencies)):
            with (
                stopwatch() as elapsed,
                tenant_session(ctx.tenant, flow_run_id=ctx.phase_flow_id, step_name=name) as session,
            ):
                metrics = work(session, ctx)
            print(f"{name:>18}: {elapsed[0]:7.2f}s")
    print()
    shown = (
        "rows",
        "observations",
        "edges",
        "unresolved_rows",
        "unresolved_endpoints",
        "self_rows",
        "rows_matched_by_ip",
        "rows_matched_by_short_name",
        "dependency_groups",
        "largest_group",
        "isolated_assets",
        "hubs",
        "hub_threshold",
        "seconds",
        "link_seconds",
        "graph_seconds",
    )
    for key in shown:
        print(f"{key:>28}: {metrics.get(key)}")
    print(f"peak RSS: {peak_rss_mib():.0f} MiB")


if __name__ == "__main__":
    main()
