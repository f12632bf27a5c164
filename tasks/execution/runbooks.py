"""Execution steps: Overview → Rehost → Replatform → Cutover → Reports (dry run)."""

from __future__ import annotations

from typing import Any

from prefect.artifacts import create_table_artifact
from sqlalchemy.orm import Session

from db.repositories.assets import load_assets, update_assets
from db.repositories.waves import load_waves, update_waves
from tasks.artifacts.keys import artifact_key
from tasks.execution.executor import DryRunExecutor
from tasks.phases import EXECUTION, PhaseContext
from tasks.steps import step_task

STAGES = {
    "rehost": ("install replication agent", "initial replication", "delta sync", "boot test"),
    "replatform": (
        "provision managed target",
        "schema and data migration",
        "application re-point",
        "functional test",
    ),
}
GROUPS = {
    "rehost": ("rehost", "relocate"),
    "replatform": ("replatform", "repurchase", "refactor", "rearchitect", "rewrite"),
}
CUTOVER = ("freeze changes", "final sync", "switch DNS / endpoints", "smoke test", "release")


def overview(session: Session, ctx: PhaseContext) -> dict[str, Any]:
    """The waves to execute, in date order, with their sizes."""
    waves = load_waves(session=session, master_flow_id=ctx.assets_run_id)
    if not waves:
        raise ValueError("execution needs planned waves")
    update_waves(
        session=session, changes=[{"id": w.id, "metrics": {**w.metrics, "runbook": []}} for w in waves]
    )
    return {"waves": len(waves), "assets": sum(w.asset_count for w in waves)}


def _runbook(session: Session, ctx: PhaseContext, group: str) -> dict[str, Any]:
    assets = load_assets(
        session=session,
        master_flow_id=ctx.assets_run_id,
        columns=["six_r_strategy", "wave_id", "migration_status"],
    )
    chosen = assets[assets["six_r_strategy"].isin(GROUPS[group]) & assets["wave_id"].notna()].copy()
    counts = chosen.groupby("wave_id").size()
    changes = []
    for wave in load_waves(session=session, master_flow_id=ctx.assets_run_id):
        n = int(counts.get(wave.id, 0))
        if n:
            entries = [
                {"wave": wave.number, "stage": s, "strategy": group, "assets": n} for s in STAGES[group]
            ]
            runbook = [*wave.metrics.get("runbook", []), *entries]
            changes.append({"id": wave.id, "metrics": {**wave.metrics, "runbook": runbook}})
    update_waves(session=session, changes=changes)
    steps = len(changes) * len(STAGES[group])
    chosen["migration_status"] = f"{group}_planned"
    chosen["execution_flow_id"] = ctx.phase_flow_id
    update_assets(session=session, frame=chosen, columns=["migration_status", "execution_flow_id"])
    return {"assets": len(chosen), "runbook_steps": steps}


def rehost(session: Session, ctx: PhaseContext) -> dict[str, Any]:
    """Runbook entries for rehost/relocate assets, per wave."""
    return _runbook(session, ctx, "rehost")


def replatform(session: Session, ctx: PhaseContext) -> dict[str, Any]:
    """Runbook entries for assets whose platform changes, per wave."""
    return _runbook(session, ctx, "replatform")


def cutover(session: Session, ctx: PhaseContext) -> dict[str, Any]:
    """Run every wave's runbook plus its cutover steps in the dry-run executor (recording the approval)."""
    approval = ctx.params.get("cutover_approval")
    executor = DryRunExecutor()
    changes = []
    for wave in load_waves(session=session, master_flow_id=ctx.assets_run_id):
        cut = [
            {"wave": wave.number, "stage": s, "strategy": "cutover", "assets": wave.asset_count}
            for s in CUTOVER
        ]
        done = [executor.execute(step) for step in [*wave.metrics.get("runbook", []), *cut]]
        failed = sum(d["status"] != "done" for d in done)
        metrics = {
            **wave.metrics,
            "runbook": done,
            "execution": {"mode": "dry_run", "steps": len(done), "failed_steps": failed},
            **({"cutover_approval": approval} if approval else {}),
        }
        changes.append(
            {"id": wave.id, "status": "completed" if not failed else "in_progress", "metrics": metrics}
        )
    update_waves(session=session, changes=changes)
    return {
        "steps_executed": len(executor.executed),
        "failed": sum(e["status"] != "done" for e in executor.executed),
        "approved_by": approval["approver"] if approval else None,
    }


def reports(session: Session, ctx: PhaseContext) -> dict[str, Any]:
    """Per-wave execution report (Prefect table artifact)."""
    waves = load_waves(session=session, master_flow_id=ctx.assets_run_id)
    table = [
        {
            "wave": w.number,
            "status": w.status,
            "assets": w.asset_count,
            "steps": w.metrics.get("execution", {}).get("steps"),
            "failed_steps": w.metrics.get("execution", {}).get("failed_steps"),
        }
        for w in waves
    ]
    create_table_artifact(
        key=artifact_key("execution", "report", ctx.engagement_id),
        table=table,
        description="Execution (dry run) per wave",
    )
    return {"waves_completed": sum(w.status == "completed" for w in waves), "waves": len(waves)}


overview_step = step_task(EXECUTION, "overview", overview)
rehost_step = step_task(EXECUTION, "rehost", rehost)
replatform_step = step_task(EXECUTION, "replatform", replatform)
cutover_step = step_task(EXECUTION, "cutover", cutover)
reports_step = step_task(EXECUTION, "reports", reports)
