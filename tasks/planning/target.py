"""Planning step 4 - Target: right-size every moving asset on the chosen provider/region, and cost the plan.

Writes the ``target_*`` columns and ``estimated_monthly_cost`` (cloud run-rate, compute + storage) of
moving assets, clears them on retired/retained ones (a re-run after a 6R change must not leave a stale
target), stores each wave's as-is / to-be run-rate in its metrics, and returns the engagement's TCO.
Run parameters: ``provider`` (aws | azure | gcp), ``region`` (provider default when unset), ``headroom``.
"""

from __future__ import annotations

from typing import Any

import pandas as pd
from sqlalchemy.orm import Session

from db.repositories.assets import load_assets, update_assets
from db.repositories.waves import load_waves, update_waves
from tasks.phases import PLANNING, PhaseContext
from tasks.planning.catalogue import offer
from tasks.planning.costs import RETAIN, RETIRE, as_is_cost, onprem_rates, rollup, to_be_cost
from tasks.planning.sizing import BASIS_UTILISATION, right_size
from tasks.steps import step_task

NOT_MOVING = (RETIRE, RETAIN)
TARGET_COLUMNS = [
    "target_provider",
    "target_region",
    "target_instance_type",
    "target_vcpu",
    "target_memory_gb",
    "target_storage_type",
    "estimated_monthly_cost",
]
INPUT_COLUMNS = [
    "six_r_strategy",
    "wave_id",
    "environment",
    "power_state",
    "cpu_cores",
    "memory_gb",
    "storage_gb",
    "storage_used_gb",
    "cpu_utilization_peak",
    "memory_utilization_peak",
    "iops_avg",
    "current_monthly_cost",
]


def cost_plan(
    assets: pd.DataFrame, provider: str, region: str | None, headroom: float | None
) -> dict[str, Any]:
    """Sized moving assets, every asset's as-is/to-be cost, and the terms used (pure: no database)."""
    catalogue = offer(provider, region)
    room = float(catalogue.sizing["headroom"] if headroom is None else headroom)
    moving = assets[~assets["six_r_strategy"].isin(NOT_MOVING)].reset_index(drop=True)
    sized = right_size(moving, catalogue, room)
    costed = assets.reset_index(drop=True).join(as_is_cost(assets.reset_index(drop=True), onprem_rates()))
    costed = costed.merge(
        sized[["id", "compute_monthly_usd", "storage_monthly_usd", "estimated_monthly_cost"]],
        on="id",
        how="left",
    )
    costed[["compute_monthly_usd", "storage_monthly_usd"]] = costed[
        ["compute_monthly_usd", "storage_monthly_usd"]
    ].fillna(0.0)
    costed["to_be_monthly_usd"] = to_be_cost(
        costed["six_r_strategy"], costed["estimated_monthly_cost"], costed["as_is_monthly_usd"]
    )
    return {"catalogue": catalogue, "headroom": room, "sized": sized, "costed": costed}


def tco_metrics(costed: pd.DataFrame) -> dict[str, float]:
    """The engagement's monthly as-is, to-be (compute, storage) and savings, with the estimated share."""
    total = rollup(costed).iloc[0]
    return {
        "as_is_monthly_usd": float(total["as_is_monthly_usd"]),
        "as_is_estimated_monthly_usd": float(total["estimated_as_is"]),
        "to_be_monthly_usd": float(total["to_be_monthly_usd"]),
        "cloud_compute_monthly_usd": float(total["compute_monthly_usd"]),
        "cloud_storage_monthly_usd": float(total["storage_monthly_usd"]),
        "savings_monthly_usd": float(total["savings_monthly_usd"]),
        "savings_share": round(float(total["savings_monthly_usd"] / total["as_is_monthly_usd"]), 4)
        if total["as_is_monthly_usd"]
        else 0.0,
    }


def _plain(totals: pd.Series) -> dict[str, float]:
    """A wave's cost totals as JSON-safe floats (``assets`` as an int)."""
    out = {str(k): round(float(v), 2) for k, v in totals.drop("estimated_as_is").items()}
    out["assets"] = int(out["assets"])
    return out  # type: ignore[return-value]


def target(session: Session, ctx: PhaseContext) -> dict[str, Any]:
    """Size every moving asset and cost the plan per asset, wave and engagement."""
    plan = cost_plan(
        load_assets(session=session, master_flow_id=ctx.assets_run_id, columns=INPUT_COLUMNS),
        str(ctx.params.get("provider") or "aws"),
        ctx.params.get("region"),
        None if ctx.params.get("headroom") is None else float(ctx.params["headroom"]),
    )
    sized, costed = plan["sized"], plan["costed"]
    written = sized[["id", *TARGET_COLUMNS]].assign(planning_flow_id=ctx.phase_flow_id)
    staying = costed.loc[costed["six_r_strategy"].isin(NOT_MOVING), ["id"]].assign(
        **{c: None for c in TARGET_COLUMNS}, planning_flow_id=ctx.phase_flow_id
    )
    update_assets(
        session=session,
        frame=pd.concat([written, staying], ignore_index=True),
        columns=[*TARGET_COLUMNS, "planning_flow_id"],
    )
    per_wave = rollup(costed.dropna(subset=["wave_id"]), by="wave_id")
    waves = load_waves(session=session, master_flow_id=ctx.assets_run_id)
    update_waves(
        session=session,
        changes=[
            {
                "id": w.id,
                "metrics": {
                    **w.metrics,
                    "run_rate": _plain(per_wave.loc[w.id]) if w.id in per_wave.index else {},
                },
            }
            for w in waves
        ],
    )
    catalogue = plan["catalogue"]
    return {
        "sized": len(sized),
        "provider": catalogue.provider,
        "region": catalogue.region,
        "price_date": catalogue.price_date,
        "headroom": plan["headroom"],
        "sized_on_utilisation": int(sized["sizing_basis"].eq(BASIS_UTILISATION).sum()),
        "sized_on_allocation": int((~sized["sizing_basis"].eq(BASIS_UTILISATION)).sum()),
        "larger_than_catalogue": int(sized["undersized"].sum()),
        "iops_short": int(sized["iops_short"].sum()),
        "monthly_run_rate_usd": round(float(sized["estimated_monthly_cost"].sum()), 2),
        "as_is_imported": int(costed["as_is_source"].eq("imported").sum()),
        "as_is_estimated": int(costed["as_is_source"].eq("estimated").sum()),
        **tco_metrics(costed),
        "by_instance_type": sized["target_instance_type"].value_counts().head(10).to_dict(),
        "by_storage_type": sized["target_storage_type"].value_counts().to_dict(),
    }


target_step = step_task(PLANNING, "target", target)
