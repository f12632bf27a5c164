"""The cleansed-table gate in a real discovery run: an implausible value stops the phase at cleansing.

Real embedded PostgreSQL, real Prefect, real GX. 100,000 GiB of memory is a number, so cleansing
keeps it; the gate on the cleansed rows refuses it before any asset is written, and the phase
rolls back like any other failed step.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import Engine

from tests.flows.test_master_discovery import (
    DATA_TABLES,
    Engagement,
    edited_sample,
    handoffs_from,
    master_row,
    phase_row,
    run_master,
    steps_of,
    tenant_counts,
)

pytestmark = pytest.mark.usefixtures("database", "prefect_server")


def test_implausible_memory_fails_the_cleansed_gate_and_rolls_back(
    admin_engine: Engine, new_engagement: Callable[[], Engagement], tmp_path: Path
) -> None:
    def huge_memory(data: list[dict[str, str]]) -> None:
        data[3]["memory_gb"] = "100000"

    engagement = new_engagement()
    run = run_master(engagement, inventory=edited_sample(tmp_path, huge_memory))
    assert run.state.is_failed()
    assert "quality gate 'cleansed' failed" in (run.state.message or "")

    phase = phase_row(admin_engine, run.master_flow_id)
    assert phase["status"] == "rolled_back"
    assert master_row(admin_engine, run.master_flow_id)["status"] == "rolled_back"
    steps = steps_of(admin_engine, phase["id"])
    assert steps["data_cleansing"]["status"] == "failed"
    assert steps["data_cleansing"]["retry_count"] == 0  # bad data is not retried
    assert steps["data_cleansing"]["error"]["type"] == "QualityGateFailed"
    assert "memory_gb" in steps["data_cleansing"]["error"]["message"]
    assert "inventory" not in steps
    assert handoffs_from(admin_engine, phase["id"]) == []
    assert tenant_counts(admin_engine, engagement.tenant) == dict.fromkeys(DATA_TABLES, 0)
