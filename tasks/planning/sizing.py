"""Right-sizing: each asset to the cheapest instance size and disk type of one provider/region that fit.

Pure (numpy/pandas over assets x catalogue, no loop over assets), so it is tested on hand-built frames.

CPU and memory: the inventory's canonical fields carry ``*_utilization_avg`` and ``*_utilization_peak``
(percent) and no separate p95; the peak column is read as the p95 (exports that have a p95 column
map it there; a true maximum only makes the size safer). Need = allocation x min(1, p95 x (1 + headroom)),
so a busy server keeps its allocation and an idle one shrinks; without a p95 the allocation is the need.
The average is not used: sizing on it would cut servers below their busy hours.

Storage: one disk type per asset for its provisioned GiB, the cheapest that delivers the IOPS it needs
(``iops_avg`` x peak factor x (1 + headroom), or a default by environment) at or above the lowest class
its environment allows (production never lands on HDD).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from tasks.planning.catalogue import IOPS_CLASSES, Offer

# Allocation assumed when the inventory has none (the smallest sensible server).
DEFAULT_CORES, DEFAULT_MEMORY_GB = 2, 4
PRODUCTION = "production"
BASIS_UTILISATION, BASIS_ALLOCATION = "p95_utilisation", "allocation"


def _number(frame: pd.DataFrame, column: str) -> pd.Series:
    if column not in frame:
        return pd.Series(np.nan, index=frame.index, dtype=float)
    return pd.to_numeric(frame[column], errors="coerce").astype(float)


def _scaled(allocated: pd.Series, p95_percent: pd.Series, headroom: float) -> pd.Series:
    share = (p95_percent.clip(lower=0, upper=100) / 100 * (1 + headroom)).clip(upper=1)
    return (allocated * share).fillna(allocated)


def compute_need(assets: pd.DataFrame, headroom: float) -> pd.DataFrame:
    """vCPUs and GiB each asset needs, and whether utilisation or allocation decided it."""
    if headroom < 0:
        raise ValueError(f"headroom must be >= 0 (0.2 = 20 %), got {headroom}")
    cores = _number(assets, "cpu_cores").where(lambda s: s > 0).fillna(DEFAULT_CORES)
    memory = _number(assets, "memory_gb").where(lambda s: s > 0).fillna(DEFAULT_MEMORY_GB)
    cpu_p95, mem_p95 = _number(assets, "cpu_utilization_peak"), _number(assets, "memory_utilization_peak")
    return pd.DataFrame(
        {
            "need_vcpu": np.ceil(_scaled(cores, cpu_p95, headroom).clip(lower=1) - 1e-9),
            "need_memory_gb": _scaled(memory, mem_p95, headroom).clip(lower=0.5),
            "sizing_basis": np.where(cpu_p95.notna() | mem_p95.notna(), BASIS_UTILISATION, BASIS_ALLOCATION),
        },
        index=assets.index,
    )


def pick_instances(need: pd.DataFrame, sizes: pd.DataFrame) -> tuple[pd.DataFrame, np.ndarray]:
    """Cheapest size with vcpu and memory >= need; the largest size where nothing fits (flagged)."""
    options = sizes.sort_values(["price_per_hour_usd", "vcpu", "memory_gb", "instance_type"]).reset_index(
        drop=True
    )
    fits = (options["vcpu"].to_numpy()[None, :] >= need["need_vcpu"].to_numpy()[:, None]) & (
        options["memory_gb"].to_numpy()[None, :] >= need["need_memory_gb"].to_numpy()[:, None] - 1e-9
    )
    price = np.where(fits, options["price_per_hour_usd"].to_numpy()[None, :], np.inf)
    largest = int(np.lexsort((options["memory_gb"].to_numpy(), options["vcpu"].to_numpy()))[-1])
    fitted = fits.any(axis=1)
    choice = np.where(fitted, price.argmin(axis=1), largest)
    return options.iloc[choice].reset_index(drop=True), ~fitted


def storage_need(assets: pd.DataFrame, headroom: float, sizing: dict[str, object]) -> pd.DataFrame:
    """GiB and IOPS each asset's storage needs, and the lowest disk class its environment allows."""
    size = (
        _number(assets, "storage_gb")
        .where(lambda s: s > 0)
        .fillna(_number(assets, "storage_used_gb").where(lambda s: s > 0))
        .fillna(float(sizing["default_storage_gb"]))  # type: ignore[arg-type]
    )
    production = assets.get("environment", pd.Series(None, index=assets.index)).eq(PRODUCTION).to_numpy()
    defaults: dict[str, float] = sizing["default_iops"]  # type: ignore[assignment]
    lowest: dict[str, str] = sizing["min_iops_class"]  # type: ignore[assignment]
    measured = _number(assets, "iops_avg") * float(sizing["iops_peak_factor"]) * (1 + headroom)  # type: ignore[arg-type]
    default = np.where(production, float(defaults[PRODUCTION]), float(defaults["other"]))
    rank = {name: i for i, name in enumerate(IOPS_CLASSES)}
    return pd.DataFrame(
        {
            "storage_gb": size.to_numpy(),
            "need_iops": measured.fillna(pd.Series(default, index=assets.index)).to_numpy(),
            "min_class": np.where(production, rank[lowest[PRODUCTION]], rank[lowest["other"]]),
        },
        index=assets.index,
    )


def pick_disks(need: pd.DataFrame, disks: pd.DataFrame) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    """Cheapest allowed disk type delivering the IOPS: ``(disk rows, monthly cost, no-fit flags)``."""
    rank = disks["iops_class"].map({name: i for i, name in enumerate(IOPS_CLASSES)}).to_numpy()
    gb = need["storage_gb"].to_numpy()[:, None]
    iops = need["need_iops"].to_numpy()[:, None]
    per_iops = disks["price_per_iops_month_usd"].to_numpy()[None, :]
    maximum = disks["max_iops"].to_numpy()[None, :]
    free = np.minimum(
        maximum, disks["included_iops"].to_numpy()[None, :] + disks["iops_per_gb"].to_numpy() * gb
    )
    capacity = np.where(per_iops > 0, maximum, free)
    allowed = rank[None, :] >= need["min_class"].to_numpy()[:, None]
    extra = np.clip(np.minimum(iops, capacity) - free, 0, None)
    cost = gb * disks["price_per_gb_month_usd"].to_numpy()[None, :] + extra * per_iops
    fits = allowed & (capacity >= iops)
    fitted = fits.any(axis=1)
    # Nothing delivers the IOPS: the allowed type that delivers most, at its most.
    best_effort = np.where(allowed, capacity, -1.0).argmax(axis=1)
    choice = np.where(fitted, np.where(fits, cost, np.inf).argmin(axis=1), best_effort)
    rows = np.arange(len(choice))
    return disks.iloc[choice].reset_index(drop=True), cost[rows, choice], ~fitted


def right_size(assets: pd.DataFrame, catalogue: Offer, headroom: float) -> pd.DataFrame:
    """Target size, disk type and monthly run-rate (compute + storage) of each asset, one row per asset."""
    need = compute_need(assets, headroom)
    sizes, no_size = pick_instances(need, catalogue.compute)
    disk_need = storage_need(assets, headroom, catalogue.sizing)
    disks, storage_cost, no_disk = pick_disks(disk_need, catalogue.storage)
    compute_cost = sizes["price_per_hour_usd"].to_numpy() * catalogue.hours_per_month
    return pd.DataFrame(
        {
            "id": assets["id"].to_numpy(),
            "target_provider": catalogue.provider,
            "target_region": catalogue.region,
            "target_instance_type": sizes["instance_type"].to_numpy(),
            "target_vcpu": sizes["vcpu"].to_numpy(),
            "target_memory_gb": sizes["memory_gb"].astype(float).to_numpy(),
            "target_storage_type": disks["disk_type"].to_numpy(),
            "compute_monthly_usd": compute_cost.round(2),
            "storage_monthly_usd": storage_cost.round(2),
            "estimated_monthly_cost": (compute_cost + storage_cost).round(2),
            "sizing_basis": need["sizing_basis"].to_numpy(),
            "undersized": no_size,
            "iops_short": no_disk,
        }
    )
