"""Step 4 — Inventory: one asset per valid, distinct row, with lineage to its raw record."""

from __future__ import annotations

from typing import Any

import pandas as pd
from sqlalchemy.orm import Session

from db.repositories.assets import copy_assets
from tasks.discovery.data_cleansing import cleansed_sheets
from tasks.phases import DISCOVERY, PhaseContext
from tasks.steps import step_task

KEY_FIELDS = (
    "asset_name",
    "asset_type",
    "hostname",
    "ip_address",
    "os_name",
    "cpu_cores",
    "memory_gb",
    "storage_gb",
    "environment",
    "application_name",
)


def completeness(frame: pd.DataFrame) -> pd.Series:
    """Share of the key fields that are present, per row."""
    present = pd.DataFrame({f: frame[f].notna() if f in frame else False for f in KEY_FIELDS})
    return present.mean(axis=1).round(3)


def deduplicate(frame: pd.DataFrame) -> tuple[pd.DataFrame, int]:
    """Keep the first row of each asset name (case-insensitive); exact duplicates come later."""
    key = frame["asset_name"].str.strip().str.lower()
    duplicated = key.duplicated(keep="first")
    return frame.loc[~duplicated], int(duplicated.sum())


def build_inventory(session: Session, ctx: PhaseContext) -> dict[str, Any]:
    """Create the assets of this run from the cleansed inventory rows (one COPY)."""
    frames = []
    for data_import, raw, result in cleansed_sheets(session, ctx):
        assets = result.assets.copy()
        assets["raw_import_record_id"] = raw.loc[assets.index, "raw_import_record_id"]
        assets["data_import_id"] = data_import.id
        frames.append(assets)
    if not frames:
        raise ValueError("no inventory rows to build assets from")
    inventory = pd.concat(frames, ignore_index=True)
    if inventory.empty:
        raise ValueError("every inventory row was rejected (no name, hostname, FQDN or id): see errors file")
    inventory, duplicates = deduplicate(inventory)
    inventory["completeness_score"] = completeness(inventory)
    inventory["master_flow_id"] = ctx.master_flow_id
    inventory["discovery_flow_id"] = ctx.phase_flow_id
    inventory["six_r_locked"] = False
    copy_assets(session=session, tenant=ctx.tenant, frame=inventory)
    by_type = inventory["asset_type"].value_counts().to_dict()
    return {
        "assets": len(inventory),
        "duplicates_skipped": duplicates,
        "by_type": by_type,
        "completeness_avg": round(float(inventory["completeness_score"].mean()), 3),
    }


inventory = step_task(DISCOVERY, "inventory", build_inventory)
