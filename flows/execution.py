"""Execution: Overview → Rehost → Replatform → Cutover → Reports (dry-run executor)."""

from __future__ import annotations

from flows.phase_flow import phase_flow
from tasks.execution.runbooks import cutover_step, overview_step, rehost_step, replatform_step, reports_step
from tasks.phases import EXECUTION

STEPS = (overview_step, rehost_step, replatform_step, cutover_step, reports_step)


execution_flow = phase_flow(
    EXECUTION,
    STEPS,
    "Build per-wave runbooks and run them in the dry-run executor; undone on failure.",
)
