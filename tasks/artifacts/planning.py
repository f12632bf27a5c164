"""Planning's report: effort and capacity per wave, right-sizing, and the milestone timeline."""

from __future__ import annotations

import uuid
from typing import Any

import pandas as pd
from sqlalchemy.orm import Session

from db.repositories.reports import asset_attention, wave_summary
from db.repositories.waves import load_waves
from tasks.artifacts import keys
from tasks.artifacts.model import Report, TableArtifact
from tasks.artifacts.review import plural, report_date, six_r_threshold
from tasks.artifacts.tables import capped_rows
from tasks.artifacts.waves import PLANNING_COLUMNS, gantt_artifact, wave_table
from tasks.phases import PhaseContext

COST_TABLE_COLUMNS = [
    "assets",
    "as_is_monthly_usd",
    "compute_monthly_usd",
    "storage_monthly_usd",
    "to_be_monthly_usd",
    "savings_monthly_usd",
]


def cost_table(session: Session, run: uuid.UUID) -> TableArtifact:
    """As-is vs to-be monthly cost per wave (stored on each wave by the target step)."""
    waves = load_waves(session=session, master_flow_id=run)
    frame = pd.DataFrame(
        [{"wave": w.number, "name": w.name, **(w.metrics.get("run_rate") or {})} for w in waves],
        columns=["wave", "name", *COST_TABLE_COLUMNS],
    )
    rows = capped_rows(frame)
    return TableArtifact(
        keys.COSTS, rows.rows, f"Monthly cost per wave, as-is vs to-be, USD ({rows.note('waves')})"
    )


def resource_table(resource: dict[str, Any]) -> TableArtifact:
    """Hours per role per calendar week, with the roles over capacity that week."""
    weekly = pd.DataFrame(resource.get("weekly", []))
    over = pd.DataFrame(resource.get("over_capacity", []), columns=["week", "role"])
    if not weekly.empty:
        flagged = over.groupby("week")["role"].apply(", ".join)
        weekly["over_capacity"] = weekly["week"].map(flagged).fillna("")
    rows = capped_rows(weekly)
    team = ", ".join(f"{r} {h:,.0f}" for r, h in (resource.get("team_capacity") or {}).items())
    return TableArtifact(
        keys.RESOURCE, rows.rows, f"Hours per role per week; capacity a week: {team} ({rows.note('weeks')})"
    )


def build(session: Session, ctx: PhaseContext, metrics: dict[str, Any]) -> Report:
    run = ctx.assets_run_id
    report = Report(title="Planning")
    step = {name.split(".")[-1]: values for name, values in metrics.items()}
    attention = asset_attention(
        session=session, master_flow_id=run, low_confidence=six_r_threshold(ctx), today=report_date(ctx)
    )
    waves = wave_summary(session=session, master_flow_id=run)
    timeline, resource, target = step.get("timeline", {}), step.get("resource", {}), step.get("target", {})
    report.done.append(
        f"{plural(len(waves), 'wave')} scheduled with "
        f"{plural(int(timeline.get('milestones', 0)), 'milestone')}"
        + (
            f", {waves['planned_start'].min().isoformat()} to {waves['planned_end'].max().isoformat()}"
            if waves["planned_start"].notna().any()
            else ""
        )
    )
    report.done.append(
        f"Effort {float(waves['effort_hours'].fillna(0).sum()):,.0f} hours in waves "
        f"({float(resource.get('effort_hours', 0)):,.0f} hours for all assets), "
        f"team capacity {float(resource.get('team_hours_per_week', 0)):,.0f} hours a week"
    )
    report.done.append(
        f"{plural(int(target.get('sized', 0)), 'asset')} right-sized on {target.get('provider', '?')} "
        f"{target.get('region', '')} (prices of {target.get('price_date', '?')}, headroom "
        f"{float(target.get('headroom', 0)):.0%}): run-rate "
        f"{float(target.get('monthly_run_rate_usd', 0)):,.2f} USD a month"
    )
    if "as_is_monthly_usd" in target:
        report.done.append(
            f"TCO a month: as-is {float(target['as_is_monthly_usd']):,.2f} USD "
            f"({float(target['as_is_estimated_monthly_usd']):,.2f} of it estimated), to-be "
            f"{float(target['to_be_monthly_usd']):,.2f} USD, "
            f"savings {float(target['savings_monthly_usd']):,.2f} USD"
        )
    if int(target.get("as_is_estimated", 0)):
        report.warnings.append(
            f"As-is cost of {plural(int(target['as_is_estimated']), 'asset')} is estimated from the shipped "
            "on-premises cost model (mfactory/data/onprem_costs.yaml): replace with the client's figures"
        )
    over = list(resource.get("over_capacity", []))
    if over:
        weeks = int(resource.get("weeks_over_capacity", 0))
        shown = ", ".join(
            f"{o['week']} {o['role']} {o['hours']:,.0f}/{o['capacity']:,.0f} h" for o in over[:10]
        )
        report.warnings.append(f"{plural(weeks, 'week')} need more hours than the team has: {shown}")
        report.needs_human.append(
            "Add people to the roles over capacity, lengthen waves or run fewer waves at once."
        )
    if attention["moving_without_target"]:
        report.needs_human.append(
            f"{plural(attention['moving_without_target'], 'moving asset')} have no target instance type"
        )
    if attention["moving_without_utilisation"]:
        report.needs_human.append(
            f"{plural(attention['moving_without_utilisation'], 'moving asset')} have no utilisation data and "
            "were sized on their allocation: confirm or collect performance data"
        )
    report.artifacts += [
        wave_table(keys.WAVES, waves, PLANNING_COLUMNS, "Waves with effort, load and run-rate"),
        gantt_artifact(keys.TIMELINE, waves, "Migration timeline", with_milestones=True),
        cost_table(session, run),
        resource_table(resource),
    ]
    return report
