"""Modernization: Refactor → Rearchitect → Rewrite."""

from __future__ import annotations

from flows.phase_flow import phase_flow
from tasks.modernization.candidates import rearchitect_step, refactor_step, rewrite_step
from tasks.phases import MODERNIZATION

STEPS = (refactor_step, rearchitect_step, rewrite_step)


modernization_flow = phase_flow(
    MODERNIZATION,
    STEPS,
    "List refactor / rearchitect / rewrite candidates, each with its reason; undone on failure.",
)
