"""The handoff: gate the phase's output, then record what the next phase receives."""

from __future__ import annotations

import uuid
from typing import Any

from prefect import task
from prefect.artifacts import create_markdown_artifact, create_table_artifact

from db.repositories.outputs import gate_frames, package_summary
from db.repositories.runs import create_handoff
from db.session import tenant_session
from tasks.artifacts.keys import artifact_key
from tasks.phases import PhaseContext, next_phase
from tasks.quality import MAIN_FRAME, QualityGateFailed, validate_frames


@task(name="quality_gate_and_handoff", persist_result=False)
def gate_and_handoff(ctx: PhaseContext) -> uuid.UUID:
    """Validate the phase output with its GX suite, then write the handoff row.

    A failing gate still writes a ``rejected`` handoff (with the validation result) and a
    table artifact, then raises: the phase fails and nothing downstream starts.
    """
    with tenant_session(ctx.tenant) as session:
        frames = gate_frames(session=session, master_flow_id=ctx.assets_run_id, phase=ctx.phase)
        validation = validate_frames(ctx.phase, frames)
        package: dict[str, Any] = package_summary(session=session, master_flow_id=ctx.assets_run_id)
        package["gate_rows"] = len(frames[MAIN_FRAME])
        package["assets_run_id"] = str(ctx.assets_run_id)
        handoff_id = create_handoff(
            session=session,
            tenant=ctx.tenant,
            source_phase_flow_id=ctx.phase_flow_id,
            source_phase=ctx.phase,
            target_phase=next_phase(ctx.phase),
            package=package,
            validation_results=validation,
            status="accepted" if validation["success"] else "rejected",
        )
    create_table_artifact(
        key=artifact_key(ctx.phase, "quality-gate", ctx.engagement_id),
        table=[{k: v for k, v in r.items()} for r in validation["results"]],
        description=f"{ctx.phase} quality gate: {'passed' if validation['success'] else 'FAILED'}",
    )
    if not validation["success"]:
        raise QualityGateFailed(ctx.phase, validation)
    create_markdown_artifact(
        key=artifact_key(ctx.phase, "handoff", ctx.engagement_id),
        markdown=f"### {ctx.phase} handoff\n\n"
        + "\n".join(f"- **{k}**: {v}" for k, v in package.items() if k != "data_import_ids"),
        description=f"{ctx.phase} -> {next_phase(ctx.phase) or 'end'}",
    )
    return handoff_id
