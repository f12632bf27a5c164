"""Execution's report: what the (dry-run) executor did per wave and what did not complete."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from db.repositories.reports import wave_summary
from tasks.artifacts.model import Report
from tasks.artifacts.review import plural
from tasks.phases import PhaseContext


def build(session: Session, ctx: PhaseContext, metrics: dict[str, Any]) -> Report:
    report = Report(title="Execution")
    step = {name.split(".")[-1]: values for name, values in metrics.items()}
    waves = wave_summary(session=session, master_flow_id=ctx.assets_run_id)
    cutover = step.get("cutover", {})
    completed = int(waves["status"].eq("completed").sum())
    report.done.append(
        f"Runbooks for {plural(int(step.get('rehost', {}).get('assets', 0)), 'rehost asset')} and "
        f"{plural(int(step.get('replatform', {}).get('assets', 0)), 'replatform asset')}; "
        f"{plural(int(cutover.get('steps_executed', 0)), 'runbook step')} executed"
    )
    report.done.append(f"{completed:,} of {plural(len(waves), 'wave')} completed")
    report.warnings.append("Dry run: the executor records each step; nothing was changed in any cloud.")
    if cutover.get("failed"):
        report.warnings.append(f"{plural(int(cutover['failed']), 'runbook step')} failed")
    open_waves = waves[~waves["status"].eq("completed")]
    if len(open_waves):
        report.needs_human.append(
            f"{plural(len(open_waves), 'wave')} not completed: "
            + ", ".join(str(n) for n in open_waves["number"].head(20))
        )
    return report
