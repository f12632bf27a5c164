"""Phase name -> phase flow (composition root for the master and rollback flows)."""

from __future__ import annotations

from typing import Any

from flows.assessment import assessment_flow
from flows.discovery import discovery_flow
from flows.execution import execution_flow
from flows.modernization import modernization_flow
from flows.planning import planning_flow

PHASE_FLOWS: dict[str, Any] = {
    "discovery": discovery_flow,
    "assessment": assessment_flow,
    "planning": planning_flow,
    "execution": execution_flow,
    "modernization": modernization_flow,
}
