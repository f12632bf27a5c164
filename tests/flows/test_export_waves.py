"""`mfactory export waves` on a real plan: the JSON contract, and the CSV agrees with it."""

from __future__ import annotations

import csv
import io
import json
import uuid
from collections.abc import Callable

import pytest
from sqlalchemy import Engine
from typer.testing import CliRunner

from flows.master import master_flow
from mfactory.cli import app
from tests.flows.test_master_discovery import SAMPLE_DEPENDENCIES, SAMPLE_INVENTORY, Engagement, rows

pytestmark = pytest.mark.usefixtures("database", "prefect_server")


def test_export_waves_json_contract_and_csv(
    admin_engine: Engine, new_engagement: Callable[[], Engagement]
) -> None:
    engagement = new_engagement()
    state = master_flow(
        client=engagement.client, engagement=engagement.name, inventory=str(SAMPLE_INVENTORY),
        dependencies=[str(SAMPLE_DEPENDENCIES)], phases=["discovery", "assessment"], max_wave_size=10,
        start_date="2027-01-04", return_state=True,
    )  # fmt: skip
    assert state.is_completed(), state.message
    master = str(state.state_details.flow_run_id)
    runner = CliRunner()
    exported = runner.invoke(app, ["export", "waves", "--master-flow", master, "--json"])
    assert exported.exit_code == 0, exported.output
    plan = json.loads(exported.output)
    assert set(plan) == {"max_wave_size", "waves", "cross_wave_dependencies"}
    assert plan["max_wave_size"] == 10
    assert [w["number"] for w in plan["waves"]] == list(range(1, len(plan["waves"]) + 1))
    for wave in plan["waves"]:
        assert set(wave) == {"number", "name", "start", "end", "assets"}
        assert 0 < len(wave["assets"]) <= 10 and wave["start"] <= wave["end"]
        assert all(
            set(a) == {"asset_name", "six_r_strategy", "rationale"} and a["rationale"] for a in wave["assets"]
        )
    names = [a["asset_name"] for w in plan["waves"] for a in w["assets"]]
    placed = rows(
        admin_engine,
        "SELECT asset_name FROM migration.assets WHERE master_flow_id = :m AND wave_id IS NOT NULL",
        m=uuid.UUID(master),
    )
    assert sorted(names) == sorted(r["asset_name"] for r in placed)
    wave_of = {a["asset_name"]: w["number"] for w in plan["waves"] for a in w["assets"]}
    for dep in plan["cross_wave_dependencies"]:
        assert wave_of[dep["source"]] == dep["source_wave"] != dep["target_wave"] == wave_of[dep["target"]]

    flat = runner.invoke(app, ["export", "waves", "--master-flow", master, "--csv"])
    moves = list(csv.DictReader(io.StringIO(flat.output)))
    assert {(m["asset_name"], int(m["wave_number"])) for m in moves} == set(wave_of.items())
    both = runner.invoke(app, ["export", "waves", "--csv", "--jira"])
    assert both.exit_code == 2
