"""Planning step 4 — Target: right-size each moving asset to the cheapest instance that fits.

Need = allocation scaled by peak utilisation plus headroom where utilisation is known,
allocation otherwise; the cheapest catalogue entry with vcpu and memory >= need wins.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy.orm import Session

from db.repositories.assets import load_assets, update_assets
from mfactory.settings import PACKAGE_DATA
from tasks.phases import PLANNING, PhaseContext
from tasks.steps import step_task

HOURS_PER_MONTH = 730
NOT_MOVING = ("retire", "retain")


@lru_cache(maxsize=1)
def catalogue() -> pd.DataFrame:
    return pd.read_csv(PACKAGE_DATA / "instance_catalog.csv")


def required(assets: pd.DataFrame, headroom: float) -> pd.DataFrame:
    cores = pd.to_numeric(assets["cpu_cores"], errors="coerce").fillna(2)
    memory = pd.to_numeric(assets["memory_gb"], errors="coerce").fillna(4)
    cpu_peak = pd.to_numeric(assets["cpu_utilization_peak"], errors="coerce") / 100
    mem_peak = pd.to_numeric(assets["memory_utilization_peak"], errors="coerce") / 100
    need_cpu = (cores * (cpu_peak * (1 + headroom)).clip(upper=1)).fillna(cores)
    need_mem = (memory * (mem_peak * (1 + headroom)).clip(upper=1)).fillna(memory)
    return pd.DataFrame(
        {"need_vcpu": np.ceil(need_cpu.clip(lower=1)), "need_memory_gb": need_mem.clip(lower=1)}
    )


def right_size(assets: pd.DataFrame, provider: str, headroom: float) -> pd.DataFrame:
    """Cheapest fitting instance per asset (vectorised: assets x catalogue)."""
    options = catalogue()[catalogue()["provider"] == provider].sort_values("price_per_hour_usd")
    if options.empty:
        raise ValueError(f"no catalogue entries for provider {provider!r}")
    need = required(assets, headroom)
    fits = (options["vcpu"].to_numpy()[None, :] >= need["need_vcpu"].to_numpy()[:, None]) & (
        options["memory_gb"].to_numpy()[None, :] >= need["need_memory_gb"].to_numpy()[:, None]
    )
    largest = len(options) - 1 - int(np.argmax(options["vcpu"].to_numpy()[::-1]))
    choice = np.where(fits.any(axis=1), fits.argmax(axis=1), largest)
    chosen = options.iloc[choice].reset_index(drop=True)
    return pd.DataFrame(
        {
            "id": assets["id"].to_numpy(),
            "target_provider": provider,
            "target_region": chosen["region"],
            "target_instance_type": chosen["instance_type"],
            "target_vcpu": chosen["vcpu"],
            "target_memory_gb": chosen["memory_gb"].astype(float),
            "estimated_monthly_cost": (chosen["price_per_hour_usd"] * HOURS_PER_MONTH).round(2),
            "target_storage_type": "gp3"
            if provider == "aws"
            else ("Premium SSD" if provider == "azure" else "pd-balanced"),
        }
    )


def target(session: Session, ctx: PhaseContext) -> dict[str, Any]:
    """Pick instance types and monthly run-rate for every moving asset of the run."""
    provider = str(ctx.params.get("provider") or "aws")
    headroom = float(ctx.params.get("headroom") or 0.2)
    assets = load_assets(
        session=session,
        master_flow_id=ctx.assets_run_id,
        columns=[
            "cpu_cores",
            "memory_gb",
            "cpu_utilization_peak",
            "memory_utilization_peak",
            "six_r_strategy",
        ],
    )
    moving = assets[~assets["six_r_strategy"].isin(NOT_MOVING)].reset_index(drop=True)
    sized = right_size(moving, provider, headroom)
    sized["planning_flow_id"] = ctx.phase_flow_id
    update_assets(session=session, frame=sized, columns=[c for c in sized.columns if c != "id"])
    return {
        "sized": len(sized),
        "provider": provider,
        "headroom": headroom,
        "monthly_run_rate_usd": round(float(sized["estimated_monthly_cost"].sum()), 2),
        "by_instance_type": sized["target_instance_type"].value_counts().head(10).to_dict(),
    }


target_step = step_task(PLANNING, "target", target)
