"""Phase name -> phase flow (composition root for the master and rollback flows)."""

from __future__ import annotations

from typing import Any

from flows.discovery import discovery_flow

PHASE_FLOWS: dict[str, Any] = {
    "discovery": discovery_flow,
}
