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


@pytest.mark.parametrize(
    "bad",
    [["--six-r", "no-equals-sign"], ["--map", "=field"], ["--pin", "web01=zero"], ["--capacity", "dba=lots"]],
)
def test_run_refuses_malformed_answers_before_doing_anything(bad: list[str]) -> None:
    result = CliRunner().invoke(app, ["run", "--client", "c", "--engagement", "e", *bad])
    assert result.exit_code == 2
    assert any(m in result.output for m in ("expected NAME=VALUE", "wave number", "ROLE=HOURS"))


def test_run_plans_on_the_chosen_provider_region_headroom_team_and_parallel_waves(
    admin_engine: Engine, new_engagement: Callable[[], Engagement]
) -> None:
    engagement = new_engagement()
    result = CliRunner().invoke(
        app,
        [
            "run", "--client", engagement.client, "--engagement", engagement.name,
            "--inventory", str(SAMPLE_INVENTORY), "--dependencies", str(SAMPLE_DEPENDENCIES),
            "--phases", "discovery", "--phases", "assessment", "--phases", "planning",
            "--provider", "gcp", "--region", "europe-west1", "--headroom", "0.3",
            "--capacity", "dba=10", "--max-parallel-waves", "2",
        ],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    master = uuid.UUID(result.output.split("master flow id: ")[1].split()[0])
    targets = rows(
        admin_engine,
        "SELECT DISTINCT target_provider, target_region FROM migration.assets"
        " WHERE master_flow_id = :m AND target_instance_type IS NOT NULL",
        m=master,
    )
    assert targets == [{"target_provider": "gcp", "target_region": "europe-west1"}]
    metrics = {
        r["name"]: r["metrics"]
        for r in rows(
            admin_engine,
            "SELECT s.name, s.metrics FROM migration.phase_steps s JOIN migration.phase_flows p"
            " ON p.id = s.phase_flow_id WHERE p.master_flow_id = :m",
            m=master,
        )
    }
    assert metrics["target"]["headroom"] == 0.3 and metrics["target"]["region"] == "europe-west1"
    assert metrics["resource"]["team_capacity"]["dba"] == 10.0
    assert metrics["roadmap"]["max_parallel_waves"] == 2 and metrics["roadmap"]["most_waves_at_once"] <= 2


def test_run_with_an_unknown_target_region_fails_before_any_phase(
    admin_engine: Engine, new_engagement: Callable[[], Engagement]
) -> None:
    engagement = new_engagement()
    result = CliRunner().invoke(
        app,
        [
            "run", "--client", engagement.client, "--engagement", engagement.name,
            "--inventory", str(SAMPLE_INVENTORY), "--provider", "azure", "--region", "us-east-1",
        ],
    )  # fmt: skip
    assert result.exit_code == 1
    assert "no region 'us-east-1'" in result.output
    phases = rows(
        admin_engine,
        "SELECT count(*) AS n FROM migration.phase_flows p JOIN migration.master_flows m"
        " ON m.id = p.master_flow_id WHERE m.engagement_id = :e",
        e=engagement.tenant.engagement_id,
    )
    assert phases == [{"n": 0}]
