"""`mfactory run` with answers given up front: mapping and 6R overrides applied, audited, printed."""

from __future__ import annotations

import csv
import uuid
from collections.abc import Callable

import pytest
from sqlalchemy import Engine
from typer.testing import CliRunner

from mfactory.cli import app
from tests.flows.test_master_discovery import SAMPLE_DEPENDENCIES, SAMPLE_INVENTORY, Engagement, rows

pytestmark = pytest.mark.usefixtures("database", "prefect_server")


def test_run_applies_mapping_and_six_r_answers_given_on_the_command_line(
    admin_engine: Engine, new_engagement: Callable[[], Engagement]
) -> None:
    engagement = new_engagement()
    names = [r["asset_name"] for r in csv.DictReader(SAMPLE_INVENTORY.open(encoding="utf-8"))]
    asset = names[0]
    pinned = next(n for n in names if n.startswith("app"))  # an application server: it moves
    result = CliRunner().invoke(
        app,
        [
            "run", "--client", engagement.client, "--engagement", engagement.name,
            "--inventory", str(SAMPLE_INVENTORY), "--dependencies", str(SAMPLE_DEPENDENCIES),
            "--phases", "discovery", "--phases", "assessment",
            "--map", "business_unit=unmapped", "--six-r", f"{asset}=retire", "--user", "erin",
            "--pin", f"{pinned}=3",
        ],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    master = uuid.UUID(result.output.split("master flow id: ")[1].split()[0])
    decided = rows(
        admin_engine,
        "SELECT six_r_strategy, six_r_decided_by FROM migration.assets WHERE master_flow_id = :m"
        " AND asset_name = :a",
        m=master,
        a=asset,
    )
    assert decided == [{"six_r_strategy": "retire", "six_r_decided_by": "user"}]
    mapping = rows(
        admin_engine,
        "SELECT f.target_field, f.confirmed_by FROM migration.import_field_mappings f"
        " JOIN migration.data_imports d ON d.id = f.data_import_id"
        " WHERE d.master_flow_id = :m AND f.source_column = 'business_unit'",
        m=master,
    )
    assert mapping == [{"target_field": None, "confirmed_by": "erin"}]
    wave = rows(
        admin_engine,
        "SELECT w.number FROM migration.assets a JOIN migration.migration_waves w ON w.id = a.wave_id"
        " WHERE a.master_flow_id = :m AND a.asset_name = :a",
        m=master,
        a=pinned,
    )
    assert wave == [{"number": 3}]
    learned = rows(
        admin_engine,
        "SELECT pattern_value, insight_type, evidence->>'confirmed_by' AS who"
        " FROM migration.agent_learning_patterns"
        " WHERE engagement_id = :e AND evidence->>'source_header' = 'business_unit'",
        e=engagement.tenant.engagement_id,
    )
    assert learned == [{"pattern_value": None, "insight_type": "corrected", "who": "erin"}]


@pytest.mark.parametrize("bad", [["--six-r", "no-equals-sign"], ["--map", "=field"], ["--pin", "web01=zero"]])
def test_run_refuses_malformed_answers_before_doing_anything(bad: list[str]) -> None:
    result = CliRunner().invoke(app, ["run", "--client", "c", "--engagement", "e", *bad])
    assert result.exit_code == 2
    assert "expected NAME=VALUE" in result.output or "wave number" in result.output
