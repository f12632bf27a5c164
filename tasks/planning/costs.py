"""As-is vs to-be monthly cost (TCO run-rate) per asset, per wave and for the engagement.

As-is is the inventory's ``current_monthly_cost`` where it was imported, else an estimate from the
shipped on-premises cost model (``mfactory/data/onprem_costs.yaml``: every rate an assumption, named
and versioned), so a report always says how much of the as-is figure is measured and how much guessed.
To-be: a moving asset costs its cloud run-rate, a retired one nothing, a retained one its as-is cost
(it stays where it is). Savings = as-is - to-be.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml

from mfactory.settings import PACKAGE_DATA
from tasks.planning.sizing import DEFAULT_CORES, DEFAULT_MEMORY_GB

ONPREM_COSTS_FILE = PACKAGE_DATA / "onprem_costs.yaml"
RATES = ("per_core", "per_gib_memory", "per_gib_storage", "per_server", "powered_off_share")
RETIRE, RETAIN = "retire", "retain"


@lru_cache(maxsize=2)
def onprem_rates(path: Path = ONPREM_COSTS_FILE) -> dict[str, Any]:
    rates = yaml.safe_load(path.read_text(encoding="utf-8"))
    missing = [r for r in RATES if not isinstance(rates.get(r), (int, float))]
    if missing:
        raise ValueError(f"{path.name}: missing or non-numeric rate(s) {missing}")
    return rates


def _number(frame: pd.DataFrame, column: str) -> pd.Series:
    return (
        pd.to_numeric(frame[column], errors="coerce").astype(float)
        if column in frame
        else (pd.Series(np.nan, index=frame.index, dtype=float))
    )


def as_is_cost(assets: pd.DataFrame, rates: dict[str, Any]) -> pd.DataFrame:
    """``as_is_monthly_usd`` and ``as_is_source`` (imported | estimated) per asset."""
    cores = _number(assets, "cpu_cores").where(lambda s: s > 0).fillna(DEFAULT_CORES)
    memory = _number(assets, "memory_gb").where(lambda s: s > 0).fillna(DEFAULT_MEMORY_GB)
    storage = _number(assets, "storage_gb").fillna(_number(assets, "storage_used_gb")).fillna(0)
    running = np.where(
        assets.get("power_state", pd.Series(None, index=assets.index)).eq("off"),
        float(rates["powered_off_share"]),
        1.0,
    )
    estimate = (
        rates["per_server"]
        + (cores * rates["per_core"] + memory * rates["per_gib_memory"]) * running
        + storage * rates["per_gib_storage"]
    )
    imported = _number(assets, "current_monthly_cost").where(lambda s: s >= 0)
    return pd.DataFrame(
        {
            "as_is_monthly_usd": imported.fillna(estimate).round(2),
            "as_is_source": np.where(imported.notna(), "imported", "estimated"),
        },
        index=assets.index,
    )


def to_be_cost(strategy: pd.Series, cloud_monthly: pd.Series, as_is: pd.Series) -> pd.Series:
    """Monthly cost after the move: cloud run-rate if moving, 0 if retired, as-is if retained."""
    return pd.Series(
        np.select([strategy.eq(RETIRE), strategy.eq(RETAIN)], [0.0, as_is], cloud_monthly.fillna(0.0)),
        index=strategy.index,
    ).round(2)


COST_COLUMNS = ("as_is_monthly_usd", "compute_monthly_usd", "storage_monthly_usd", "to_be_monthly_usd")


def rollup(costed: pd.DataFrame, by: str | None = None) -> pd.DataFrame:
    """Sum the cost columns (overall, or per ``by``); adds savings and the estimated share of as-is."""
    frame = costed.assign(
        estimated_as_is=np.where(costed["as_is_source"].eq("estimated"), costed["as_is_monthly_usd"], 0.0)
    )
    columns = [*COST_COLUMNS, "estimated_as_is"]
    totals = (
        frame.groupby(by)[columns].sum().assign(assets=frame.groupby(by).size())
        if by
        else frame[columns].sum().to_frame().T.assign(assets=len(frame))
    )
    totals["savings_monthly_usd"] = totals["as_is_monthly_usd"] - totals["to_be_monthly_usd"]
    return totals.round(2)
