"""The shipped, dated cloud catalogue: compute sizes and disk types per provider and region.

Prices are data (``mfactory/data/cloud_catalogue/``), not code, so a new price list is a file change
with a new ``price_date``; the loader only checks the shape and resolves the user's provider/region.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from mfactory.settings import PACKAGE_DATA

CATALOGUE_DIR = PACKAGE_DATA / "cloud_catalogue"
COMPUTE_COLUMNS = ("provider", "region", "instance_type", "vcpu", "memory_gb", "price_per_hour_usd")
STORAGE_COLUMNS = (
    "provider",
    "disk_type",
    "iops_class",
    "price_per_gb_month_usd",
    "included_iops",
    "iops_per_gb",
    "max_iops",
    "price_per_iops_month_usd",
)
IOPS_CLASSES = ("standard", "balanced", "performance")


@dataclass(frozen=True)
class Offer:
    """What one provider/region offers: its instance sizes, its disk types (regional prices), the terms."""

    provider: str
    region: str
    price_date: str
    compute: pd.DataFrame
    storage: pd.DataFrame
    sizing: dict[str, Any]
    hours_per_month: float


def _read_csv(path: Path, columns: tuple[str, ...]) -> pd.DataFrame:
    frame = pd.read_csv(path, comment="#", skipinitialspace=True)
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise ValueError(f"{path.name}: missing column(s) {missing}")
    return frame[list(columns)]


@lru_cache(maxsize=4)
def load_catalogue(folder: Path = CATALOGUE_DIR) -> tuple[dict[str, Any], pd.DataFrame, pd.DataFrame]:
    """``(terms from catalogue.yaml, compute rows, storage rows)`` of a catalogue folder."""
    terms = yaml.safe_load((folder / "catalogue.yaml").read_text(encoding="utf-8"))
    compute = _read_csv(folder / "compute.csv", COMPUTE_COLUMNS)
    storage = _read_csv(folder / "storage.csv", STORAGE_COLUMNS)
    unknown = sorted(set(storage["iops_class"]) - set(IOPS_CLASSES))
    if unknown:
        raise ValueError(f"storage.csv: unknown iops_class {unknown}; classes are {list(IOPS_CLASSES)}")
    return terms, compute, storage


def offer(provider: str, region: str | None = None, folder: Path = CATALOGUE_DIR) -> Offer:
    """The catalogue of ``provider`` in ``region`` (its default region when None); clear error if unknown."""
    terms, compute, storage = load_catalogue(folder)
    providers = terms["providers"]
    if provider not in providers:
        raise ValueError(f"unknown target provider {provider!r}; the catalogue has {sorted(providers)}")
    regions = providers[provider]["regions"]
    chosen = region or providers[provider]["default_region"]
    if chosen not in regions:
        raise ValueError(
            f"provider {provider!r} has no region {chosen!r} in the catalogue; regions: {sorted(regions)}"
        )
    sizes = compute[(compute["provider"] == provider) & (compute["region"] == chosen)]
    disks = storage[storage["provider"] == provider].copy()
    if sizes.empty or disks.empty:
        raise ValueError(f"the catalogue has no instance sizes or no disk types for {provider} / {chosen}")
    factor = float(regions[chosen])
    disks["price_per_gb_month_usd"] = disks["price_per_gb_month_usd"] * factor
    disks["price_per_iops_month_usd"] = disks["price_per_iops_month_usd"] * factor
    return Offer(
        provider=provider,
        region=chosen,
        price_date=str(terms["price_date"]),
        compute=sizes.reset_index(drop=True),
        storage=disks.reset_index(drop=True),
        sizing=dict(terms["sizing"]),
        hours_per_month=float(terms["hours_per_month"]),
    )
