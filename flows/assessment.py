"""Assessment: Overview → Treatment (6R) → Wave Planning → Roadmap → Editor."""

from __future__ import annotations

from flows.phase_flow import phase_flow
from tasks.assessment.editor import editor_step
from tasks.assessment.overview import overview_step
from tasks.assessment.roadmap import roadmap_step
from tasks.assessment.treatment import treatment
from tasks.assessment.wave_planning import wave_planning
from tasks.phases import ASSESSMENT

STEPS = (overview_step, treatment, wave_planning, roadmap_step, editor_step)


assessment_flow = phase_flow(
    ASSESSMENT,
    STEPS,
    "Decide each asset's 6R strategy and plan dated, dependency-aware waves. "
    "Writes assets (strategy, rationale, wave) and migration_waves; undone on failure.",
)
