"""Effort per asset and role, per wave, and per calendar week against the team's capacity.

Pure pandas/numpy (no database, no Prefect). The rates are data (``mfactory/data/effort_model.yaml``).
A wave's hours are spread evenly over its calendar days (the crew works the whole wave), so waves running
in parallel add up in the weeks they share; a week is flagged for each role whose hours exceed its
capacity, which is where the plan needs more people, longer waves or fewer waves at once.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml

from mfactory.settings import PACKAGE_DATA

EFFORT_MODEL_FILE = PACKAGE_DATA / "effort_model.yaml"


@lru_cache(maxsize=2)
def effort_model(path: Path = EFFORT_MODEL_FILE) -> dict[str, Any]:
    model = yaml.safe_load(path.read_text(encoding="utf-8"))
    roles = model["roles"]
    for strategy, shares in {**model["role_shares"], "default": model["default_role_shares"]}.items():
        if set(shares) != set(roles) or abs(sum(shares.values()) - 1) > 1e-6:
            raise ValueError(f"{path.name}: role_shares of {strategy!r} must cover {roles} and add up to 1")
    return model


def capacity(model: Mapping[str, Any], overrides: Mapping[str, float] | None) -> dict[str, float]:
    """Hours a week per role: the model's team, with the run's ``team_capacity`` over it."""
    unknown = sorted(set(overrides or {}) - set(model["roles"]))
    if unknown:
        raise ValueError(f"team_capacity: unknown role(s) {unknown}; roles are {model['roles']}")
    merged = {**model["capacity_hours_per_week"], **(overrides or {})}
    bad = {r: h for r, h in merged.items() if not isinstance(h, (int, float)) or h <= 0}
    if bad:
        raise ValueError(f"team_capacity: hours per week must be positive numbers, got {bad}")
    return {role: float(merged[role]) for role in model["roles"]}


def asset_effort(assets: pd.DataFrame, model: Mapping[str, Any]) -> pd.DataFrame:
    """Hours per asset per role (one column per role) and ``effort_hours`` (their sum), with the inputs used.

    ``assets`` has ``six_r_strategy, migration_complexity, cpu_cores, database_engine, asset_type``.
    """
    roles: list[str] = list(model["roles"])
    strategy = assets["six_r_strategy"]
    base = strategy.map(model["base_hours"]).fillna(model["default_base_hours"]).astype(float)
    complexity = assets["migration_complexity"].fillna(model["default_complexity"]).str.strip().str.lower()
    factor = complexity.map(model["complexity"]).fillna(model["complexity"][model["default_complexity"]])
    size = model["size"]
    cores = pd.to_numeric(assets["cpu_cores"], errors="coerce").fillna(size["cores_per_unit"] / 2)
    scale = (cores / size["cores_per_unit"]).clip(lower=size["min"], upper=size["max"])
    hours = (base * factor * scale).to_numpy()
    shares_table = pd.DataFrame(model["role_shares"]).T.reindex(columns=roles)
    shares = (
        shares_table.reindex(strategy.to_numpy())
        .fillna(pd.Series(model["default_role_shares"]))
        .to_numpy(dtype=float)
        .copy()
    )
    has_db = (assets["database_engine"].notna() | assets["asset_type"].eq("database")).to_numpy()
    engineer, dba = roles.index("migration_engineer"), roles.index("dba")
    moved = np.where(has_db, np.minimum(shares[:, engineer], float(model["database_shift"])), 0.0)
    shares[:, engineer] -= moved
    shares[:, dba] += moved
    per_role = pd.DataFrame(shares * hours[:, None], columns=roles, index=assets.index).round(2)
    per_role["effort_hours"] = per_role[roles].sum(axis=1).round(1)
    per_role["complexity_known"] = assets["migration_complexity"].notna().to_numpy()
    return per_role


def weekly_load(waves: pd.DataFrame, roles: list[str]) -> pd.DataFrame:
    """Hours per role per calendar week (Monday), from each wave's role hours spread over its days.

    ``waves`` has ``start, end`` (dates) and one column per role (the wave's hours).
    """
    dated = waves.dropna(subset=["start", "end"])
    if dated.empty:
        return pd.DataFrame(columns=["week", *roles])
    start = pd.to_datetime(dated["start"]).to_numpy().astype("datetime64[D]")
    days = (pd.to_datetime(dated["end"]).to_numpy().astype("datetime64[D]") - start).astype(int) + 1
    wave_of_day = np.repeat(np.arange(len(dated)), days)
    first_row = np.repeat(np.cumsum(days) - days, days)
    day = start[wave_of_day] + (np.arange(len(wave_of_day)) - first_row).astype("timedelta64[D]")
    daily = dated[roles].to_numpy(dtype=float)[wave_of_day] / days[wave_of_day][:, None]
    weekday = (day.astype("datetime64[D]").view("int64") - 4) % 7  # 1970-01-01 was a Thursday
    monday = day - weekday.astype("timedelta64[D]")
    frame = pd.DataFrame(daily, columns=roles)
    frame["week"] = pd.to_datetime(monday).date
    return frame.groupby("week", as_index=False)[roles].sum().round(1)


def over_capacity(weekly: pd.DataFrame, hours: Mapping[str, float]) -> pd.DataFrame:
    """One row per (week, role) whose hours exceed the role's capacity: ``week, role, hours, capacity``."""
    if weekly.empty:
        return pd.DataFrame(columns=["week", "role", "hours", "capacity"])
    long = weekly.melt(id_vars="week", var_name="role", value_name="hours")
    long["capacity"] = long["role"].map(hours)
    over = long[long["hours"] > long["capacity"] + 1e-9]
    return over.sort_values(["week", "role"]).reset_index(drop=True)
