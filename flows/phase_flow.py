"""The one shape every phase flow has: its ids and parameters in, ``run_phase`` over its steps."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from prefect import Flow, Task, flow
from prefect.states import State

from tasks.phase_runner import run_phase
from tasks.phases import PhaseContext


def phase_flow(
    phase: str, steps: Sequence[Task[[PhaseContext], dict[str, Any]]], description: str
) -> Flow[..., dict[str, Any] | State[Any]]:
    """A Prefect flow named ``phase`` that runs ``steps`` in order (``description`` shows in the UI)."""

    def body(
        client_account_id: uuid.UUID,
        engagement_id: uuid.UUID,
        master_flow_id: uuid.UUID,
        input_handoff_id: uuid.UUID | None = None,
        params: dict[str, Any] | None = None,
    ) -> dict[str, Any] | State[Any]:
        return run_phase(
            phase,
            steps,
            client_account_id=client_account_id,
            engagement_id=engagement_id,
            master_flow_id=master_flow_id,
            input_handoff_id=input_handoff_id,
            params=params or {},
        )

    body.__name__ = body.__qualname__ = f"{phase}_flow"
    body.__doc__ = description
    return flow(name=phase, flow_run_name=phase, description=description)(body)
