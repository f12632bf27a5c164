"""Overrides through the CLI on a real database and real Prefect runs: stored, audited, re-applied.

``mfactory edit`` stores an engagement's overrides against its current plan; an assessment re-run
on the same assets and a new master run on fresh assets both apply them; revoking frees them.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import Engine
from typer.testing import CliRunner, Result

from mfactory.cli import app
from tests.flows.test_master_discovery import SAMPLE_DEPENDENCIES, SAMPLE_INVENTORY, Engagement, rows

pytestmark = pytest.mark.usefixtures("database", "prefect_server")

PLAN_KNOBS = ["--max-wave-size", "10", "--start-date", "2027-01-04"]


def cli(*args: str) -> Result:
    return CliRunner().invoke(app, list(args))


def run(engagement: Engagement, *phases: str) -> uuid.UUID:
    """``mfactory run`` of ``phases`` (inventory given only when discovery runs); the master run id."""
    sources = ["--inventory", str(SAMPLE_INVENTORY), "--dependencies", str(SAMPLE_DEPENDENCIES)]
    args = ["run", "--client", engagement.client, "--engagement", engagement.name, *PLAN_KNOBS]
    args += sources if "discovery" in phases else []
    for phase in phases:
        args += ["--phases", phase]
    result = cli(*args)
    assert result.exit_code == 0, result.output
    return uuid.UUID(result.output.split("master flow id: ")[1].split()[0])


def plan(admin_engine: Engine, run_id: uuid.UUID) -> dict[str, dict[str, Any]]:
    """Asset name -> strategy, decided_by, locked and wave number of one run's assets."""
    found = rows(
        admin_engine,
        "SELECT a.asset_name, a.six_r_strategy AS strategy, a.six_r_decided_by AS decided_by,"
        " a.six_r_locked AS locked, w.number AS wave FROM migration.assets a"
        " LEFT JOIN migration.migration_waves w ON w.id = a.wave_id WHERE a.master_flow_id = :m",
        m=run_id,
    )
    return {r.pop("asset_name"): r for r in found}


def wave_dates(admin_engine: Engine, run_id: uuid.UUID) -> dict[int, tuple[dt.date, dt.date]]:
    found = rows(
        admin_engine,
        "SELECT number, planned_start, planned_end FROM migration.migration_waves WHERE master_flow_id = :m",
        m=run_id,
    )
    return {r["number"]: (r["planned_start"], r["planned_end"]) for r in found}


def overrides(engagement: Engagement, *extra: str) -> list[dict[str, Any]]:
    result = cli(
        "edit", "list", "--client", engagement.client, "--engagement", engagement.name, "--json", *extra
    )
    assert result.exit_code == 0, result.output
    return list(json.loads(result.output)["overrides"])


def test_cli_overrides_are_stored_audited_reapplied_by_reruns_and_freed_by_revoke(
    admin_engine: Engine, new_engagement: Callable[[], Engagement]
) -> None:
    engagement = new_engagement()
    tenant = ["--client", engagement.client, "--engagement", engagement.name, "--user", "ann"]
    first = run(engagement, "discovery", "assessment")
    before = plan(admin_engine, first)
    moving = sorted(n for n, a in before.items() if a["wave"] is not None and a["strategy"] != "retire")
    assert len(moving) >= 3 and len(wave_dates(admin_engine, first)) >= 3, before
    assert not any(a["decided_by"] == "user" for a in before.values())
    retired, pinned, locked = moving[0], moving[1], moving[2]
    target = 1 if before[pinned]["wave"] != 1 else 2
    first_dates = wave_dates(admin_engine, first)

    given = [
        ("six-r", retired, "retire", "--reason", "decommissioned in Q1"),
        ("wave", pinned, str(target)),
        ("lock", locked),
        ("dates", "2", "2027-06-07"),
    ]
    for command in given:
        result = cli("edit", command[0], *command[1:], *tenant)
        assert result.exit_code == 0, result.output
        assert "recorded" in result.output
    again = cli("edit", "six-r", retired, "retire", *tenant)
    assert again.exit_code == 0 and "unchanged" in again.output
    for bad, message in [
        (("six-r", "no-such-asset", "retire"), "not in this engagement's current inventory"),
        (("six-r", retired, "lift-and-shift"), "is not one of rehost"),
        (("dates", "99", "2027-01-04"), "the current plan has waves 1 to"),
        (("wave", pinned, "0"), "waves are numbered from 1"),
    ]:
        result = cli("edit", *bad, *tenant)
        assert result.exit_code == 2 and message in result.output, result.output
    stored = {o["kind"]: o for o in overrides(engagement)}
    assert set(stored) == {"six_r", "wave", "lock", "wave_dates"}
    assert stored["lock"]["value"] == {
        "six_r_strategy": before[locked]["strategy"],
        "wave": before[locked]["wave"],
    }
    assert all(o["created_by"] == "ann" and o["source"] == "cli" for o in stored.values())

    def applied(run_id: uuid.UUID) -> None:
        after = plan(admin_engine, run_id)
        assert after[retired] == {"strategy": "retire", "decided_by": "user", "locked": True, "wave": None}
        assert after[pinned]["wave"] == target
        assert after[locked] == {
            "strategy": before[locked]["strategy"],
            "decided_by": "user",
            "locked": True,
            "wave": before[locked]["wave"],
        }
        dated = wave_dates(admin_engine, run_id)
        assert dated[2][0] == dt.date(2027, 6, 7)
        assert dated[3][0] == dated[2][1] + dt.timedelta(days=3)  # the next wave follows the fixed one

    rerun = run(engagement, "assessment")  # re-plans the first run's assets
    applied(first)
    fresh = run(engagement, "discovery", "assessment")  # new assets, same engagement
    applied(fresh)
    assert rerun != first

    audit = rows(
        admin_engine,
        "SELECT actor, action, details FROM migration.security_audit_logs WHERE engagement_id = :e"
        " ORDER BY created_at",
        e=engagement.tenant.engagement_id,
    )
    sets = [a for a in audit if a["action"] == "override_set"]
    assert len(sets) == 4 and {a["actor"] for a in sets} == {"ann"}
    six_r_set = next(a["details"] for a in sets if a["details"]["kind"] == "six_r")
    assert six_r_set["before"]["six_r_strategy"] == before[retired]["strategy"]
    assert (
        six_r_set["after"] == {"six_r_strategy": "retire"} and six_r_set["reason"] == "decommissioned in Q1"
    )
    dates_set = next(a["details"] for a in sets if a["details"]["kind"] == "wave_dates")
    assert dates_set["before"] == {
        "start": first_dates[2][0].isoformat(),
        "end": first_dates[2][1].isoformat(),
    }
    assert dates_set["after"] == {"start": "2027-06-07", "end": None}
    applied_rows = [a for a in audit if a["action"] == "six_r_override" and a["details"]["after"] == "retire"]
    assert len(applied_rows) == 2  # once per run whose rules decided the asset (re-run, fresh run)
    assert {a["details"]["before"] for a in applied_rows} == {before[retired]["strategy"]}

    # Revoke the 6R override and unlock: the next re-plan decides both freely again.
    six_r_id = stored["six_r"]["id"]
    assert cli("edit", "revoke", six_r_id, *tenant).exit_code == 0
    twice = cli("edit", "revoke", six_r_id, *tenant)
    assert twice.exit_code == 2 and "already revoked" in twice.output
    assert cli("edit", "unlock", locked, *tenant).exit_code == 0
    assert {o["kind"] for o in overrides(engagement)} == {"wave", "wave_dates"}
    assert len(overrides(engagement, "--all")) == 4
    run(engagement, "assessment")
    freed = plan(admin_engine, fresh)
    assert freed[retired]["decided_by"] != "user" and not freed[retired]["locked"]
    assert freed[retired]["strategy"] == before[retired]["strategy"]
    assert freed[locked]["decided_by"] != "user" and not freed[locked]["locked"]
    assert freed[pinned]["wave"] == target  # the wave override was not revoked
    actions = [
        a["action"]
        for a in rows(
            admin_engine,
            "SELECT action FROM migration.security_audit_logs WHERE engagement_id = :e",
            e=engagement.tenant.engagement_id,
        )
    ]
    assert actions.count("override_revoked") == 2 and actions.count("six_r_override_released") == 2


def test_edit_refuses_an_unknown_engagement_and_one_without_assets(
    new_engagement: Callable[[], Engagement],
) -> None:
    result = cli("edit", "lock", "web01", "--client", "nobody", "--engagement", "nothing")
    assert result.exit_code == 2 and "no engagement 'nothing'" in result.output
    engagement = new_engagement()
    result = cli("edit", "lock", "web01", "--client", engagement.client, "--engagement", engagement.name)
    assert result.exit_code == 2 and "no discovered assets yet" in result.output
