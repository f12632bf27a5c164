"""Assessment step 3 — Wave Planning: store the planner's waves and why dependencies still cross them.

The planning itself is pure (``tasks.assessment.wave_planner.plan_waves``); this step loads the
run's moving assets and their dependencies, passes the knobs from the run's parameters
(``max_wave_size``, ``max_wave_ram_gb``, ``max_wave_storage_gb``, ``pilot_size``, ``wave_pins``;
pins also come from the engagement's stored wave overrides and locks, ``tasks.assessment.editing``)
and writes waves and asset memberships back. Each wave's metrics keep its limits, its totals and
the cross-wave dependencies that start in it, so an export or a reviewer can see why they remain.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy.orm import Session

from db.repositories.assets import load_assets, load_dependency_edges, update_assets
from db.repositories.waves import replace_waves
from tasks.assessment.editing import planned_pins
from tasks.assessment.wave_planner import WaveLimits, WavePlan, plan_waves
from tasks.phases import ASSESSMENT, PhaseContext
from tasks.steps import step_task

MOVING = ("rehost", "replatform", "refactor", "rearchitect", "rewrite", "repurchase", "relocate")
DEFAULT_MAX_WAVE_SIZE = 25
COLUMNS = [
    "asset_name",
    "environment",
    "business_criticality",
    "application_name",
    "memory_gb",
    "storage_gb",
    "six_r_strategy",
]


def _optional_float(value: Any, name: str) -> float | None:
    if value is None or value == "":
        return None
    try:
        return float(value)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name} must be a number of GB, got {value!r}") from exc


def limits_from_params(params: Mapping[str, Any]) -> WaveLimits:
    """The wave limits a run asked for (servers always; RAM and storage only when given)."""
    return WaveLimits(
        max_servers=int(params.get("max_wave_size") or DEFAULT_MAX_WAVE_SIZE),
        max_ram_gb=_optional_float(params.get("max_wave_ram_gb"), "max_wave_ram_gb"),
        max_storage_gb=_optional_float(params.get("max_wave_storage_gb"), "max_wave_storage_gb"),
    )


def pins_from_params(params: Mapping[str, Any], moving: pd.DataFrame) -> tuple[dict[uuid.UUID, int], int]:
    """``wave_pins`` ({asset id or asset name: wave number}) restricted to moving assets.

    Users pin by name (what they see in exports and the UI); ids are accepted too. Returns the
    pins by asset id and how many named no moving asset of this run (those are ignored, counted).
    """
    raw: Mapping[str, Any] = params.get("wave_pins") or {}
    by_name = dict(zip(moving["asset_name"].astype(str), moving["id"], strict=True))
    known = set(moving["id"])
    pins: dict[uuid.UUID, int] = {}
    ignored = 0
    for key, wave in raw.items():
        try:
            number = int(wave)
        except (TypeError, ValueError) as exc:
            raise ValueError(f"wave_pins: {key!r} -> {wave!r} is not a wave number") from exc
        if number < 1:
            raise ValueError(f"wave_pins: {key!r} -> {number}: waves are numbered from 1")
        asset_id = by_name.get(str(key))
        if asset_id is None:
            try:
                asset_id = uuid.UUID(str(key))
            except ValueError:
                asset_id = None
        if asset_id in known:
            pins[asset_id] = number
        else:
            ignored += 1
    return pins, ignored


#: Crossing edges kept per wave as examples. At 100k assets a plan can leave ~250k crossings; every
#: later step rewrites wave metrics (and change capture copies them), so metrics keep counts by
#: reason plus a few examples, and the full list is a query over assets.wave_id and dependencies.
CROSSING_EXAMPLES = 25


def _wave_rows(plan: WavePlan) -> list[dict[str, Any]]:
    """One ``migration_waves`` row per planned wave, with its limits, totals and crossing edges."""
    crossing = plan.cross_wave_dependencies.assign(
        source_asset_id=lambda f: f["source_asset_id"].astype(str),
        target_asset_id=lambda f: f["target_asset_id"].astype(str),
        first_wave=lambda f: np.minimum(f["source_wave"], f["target_wave"]),
    )
    shown = ["source_asset_id", "target_asset_id", "source_wave", "target_wave", "reason"]
    by_wave = {
        int(k): {
            "count": len(group),
            "by_reason": {str(r): int(n) for r, n in group["reason"].value_counts().items()},
            "examples": group[shown].head(CROSSING_EXAMPLES).to_dict("records"),
        }
        for k, group in crossing.groupby("first_wave")
    }
    limits = plan.limits
    rows = []
    for wave in plan.waves.itertuples(index=False):  # one iteration per wave
        number = int(wave.number)
        rows.append(
            {
                "number": number,
                "name": f"Wave {number}" + (" (pilot)" if wave.pilot else ""),
                "status": "planned",
                "asset_count": int(wave.asset_count),
                "metrics": {
                    "max_size": limits.max_servers,
                    "max_ram_gb": limits.max_ram_gb,
                    "max_storage_gb": limits.max_storage_gb,
                    "memory_gb": round(float(wave.memory_gb), 3),
                    "storage_gb": round(float(wave.storage_gb), 3),
                    "pilot": bool(wave.pilot),
                    "pinned_assets": int(wave.pinned_assets),
                    "within_limits": bool(wave.within_limits),
                    "note": wave.note if isinstance(wave.note, str) else None,
                    "cross_wave_dependencies": by_wave.get(
                        number, {"count": 0, "by_reason": {}, "examples": []}
                    ),
                },
            }
        )
    return rows


def plan(session: Session, ctx: PhaseContext) -> dict[str, Any]:
    """Group the run's moving assets into bounded, dependency-aware waves and store them."""
    limits = limits_from_params(ctx.params)
    pilot_size = ctx.params.get("pilot_size")
    assets = load_assets(session=session, master_flow_id=ctx.assets_run_id, columns=COLUMNS)
    moving = assets[assets["six_r_strategy"].isin(MOVING)].reset_index(drop=True)
    edges = load_dependency_edges(session=session, master_flow_id=ctx.assets_run_id)
    pins, pins_ignored = pins_from_params({"wave_pins": planned_pins(session, ctx)}, moving)
    result = plan_waves(
        moving, edges, limits, pins=pins, pilot_size=None if pilot_size is None else int(pilot_size)
    )
    rows = replace_waves(
        session=session, tenant=ctx.tenant, master_flow_id=ctx.assets_run_id, waves=_wave_rows(result)
    )
    wave_ids = {w.number: w.id for w in rows}
    moving["wave_number"] = result.assets["wave"].to_numpy()
    moving["wave_id"] = moving["wave_number"].map(wave_ids)
    moving["wave"] = "Wave " + moving["wave_number"].astype(str)
    update_assets(session=session, frame=moving, columns=["wave_id", "wave"])
    crossing = result.cross_wave_dependencies
    order = result.environment_order
    return {
        "waves": len(rows),
        "assets_in_waves": len(moving),
        "max_wave_size": limits.max_servers,
        "max_wave_ram_gb": limits.max_ram_gb,
        "max_wave_storage_gb": limits.max_storage_gb,
        "pilot_wave_size": int(result.waves.loc[result.waves["pilot"], "asset_count"].sum()),
        "largest_wave": int(result.waves["asset_count"].max()) if len(rows) else 0,
        "waves_over_limits": int((~result.waves["within_limits"].astype(bool)).sum()),
        "cross_wave_dependencies": len(crossing),
        "cross_wave_by_reason": {str(k): int(v) for k, v in crossing["reason"].value_counts().items()},
        "environment_order_conflicts": int((~order["in_order"].astype(bool)).sum()),
        "pinned_assets": len(pins),
        "pins_ignored_not_moving": pins_ignored,
        "not_moving": int(len(assets) - len(moving)),
    }


wave_planning = step_task(ASSESSMENT, "wave_planning", plan)
