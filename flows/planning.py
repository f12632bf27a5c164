"""Planning: Overview → Timeline → Resource → Target."""

from __future__ import annotations

from flows.phase_flow import phase_flow
from tasks.phases import PLANNING
from tasks.planning.resource import resource_step
from tasks.planning.schedule import overview_step, timeline_step
from tasks.planning.target import target_step

STEPS = (overview_step, timeline_step, resource_step, target_step)


planning_flow = phase_flow(
    PLANNING,
    STEPS,
    "Schedule milestones, estimate effort and right-size every moving asset with its cost. "
    "Writes migration_waves metrics and assets (effort, target size, run-rate); undone on failure.",
)
