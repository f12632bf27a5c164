"""Planning's report: effort and capacity per wave, right-sizing, and the milestone timeline."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from db.repositories.reports import asset_attention, wave_summary
from tasks.artifacts import keys
from tasks.artifacts.model import Report
from tasks.artifacts.review import plural, report_date, six_r_threshold
from tasks.artifacts.waves import PLANNING_COLUMNS, gantt_artifact, wave_table
from tasks.phases import PhaseContext


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
        f"{plural(int(target.get('sized', 0)), 'asset')} right-sized on {target.get('provider', '?')}: "
        f"run-rate {float(target.get('monthly_run_rate_usd', 0)):,.2f} USD a month"
    )
    over = list(resource.get("waves_over_capacity", []))
    if over:
        shown = ", ".join(str(w) for w in over[:20]) + (
            f" and {len(over) - 20:,} more" if len(over) > 20 else ""
        )
        report.warnings.append(
            f"{plural(len(over), 'wave')} need more hours a week than the team has: {shown}"
        )
        report.needs_human.append("Re-balance the waves over capacity, lengthen them or add people.")
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
    ]
    return report
