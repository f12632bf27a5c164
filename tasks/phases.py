"""Phase and step names (constants, in order) and the context every step receives."""

from __future__ import annotations

import uuid
from typing import Any

from pydantic import BaseModel, Field

from db.session import Tenant

DISCOVERY, ASSESSMENT, PLANNING, EXECUTION, MODERNIZATION = (
    "discovery",
    "assessment",
    "planning",
    "execution",
    "modernization",
)
PHASES: tuple[str, ...] = (DISCOVERY, ASSESSMENT, PLANNING, EXECUTION, MODERNIZATION)
STEPS: dict[str, tuple[str, ...]] = {
    DISCOVERY: (
        "data_import",
        "attribute_mapping",
        "data_cleansing",
        "inventory",
        "dependencies",
        "tech_debt",
    ),
    ASSESSMENT: ("overview", "treatment", "wave_planning", "roadmap", "editor"),
    PLANNING: ("overview", "timeline", "resource", "target"),
    EXECUTION: ("overview", "rehost", "replatform", "cutover", "reports"),
    MODERNIZATION: ("refactor", "rearchitect", "rewrite"),
}


def next_phase(phase: str) -> str | None:
    position = PHASES.index(phase)
    return PHASES[position + 1] if position + 1 < len(PHASES) else None


class PhaseContext(BaseModel):
    """Everything a step needs to find its input and label its output."""

    client_account_id: uuid.UUID
    engagement_id: uuid.UUID
    master_flow_id: uuid.UUID
    phase_flow_id: uuid.UUID
    phase: str
    input_handoff_id: uuid.UUID | None = None
    data_run_id: uuid.UUID | None = None
    params: dict[str, Any] = Field(default_factory=dict)

    @property
    def assets_run_id(self) -> uuid.UUID:
        """The master run whose assets this phase works on (an earlier one when re-run alone)."""
        return self.data_run_id or self.master_flow_id

    @property
    def tenant(self) -> Tenant:
        return Tenant(client_account_id=self.client_account_id, engagement_id=self.engagement_id)
