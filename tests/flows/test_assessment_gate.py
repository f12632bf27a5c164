"""The assessment gate in real runs: a broken wave state fails the phase and rolls it back.

The broken state is made by a trigger the test installs (as the database superuser) on
``migration_waves`` for this engagement only, so the product's own code runs unchanged and the
gate has to notice what the trigger did from the database alone.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import pytest
from sqlalchemy import Engine, text

from flows.master import master_flow
from tests.flows.test_master_discovery import (
    Engagement,
    Run,
    handoffs_from,
    master_row,
    phase_row,
    rows,
    run_master,
    tenant_checksums,
)

pytestmark = pytest.mark.usefixtures("database", "prefect_server")

WAVE_TABLES = ("assets", "migration_waves")

# What each trigger does to a wave as the planner writes it, and the rule that must catch it.
BREAKAGES = {
    "limit lowered under the members": (
        "IF NEW.asset_count > 1 THEN NEW.metrics := jsonb_set(NEW.metrics, '{max_size}', '1'); END IF;",
        ("waves", "expect_column_pair_values_a_to_be_greater_than_b", "max_servers, member_assets"),
    ),
    "a member counted that is not there": (
        "IF NEW.number = 1 THEN NEW.asset_count := NEW.asset_count + 1; END IF;",
        ("waves", "expect_column_pair_values_to_be_equal", "recorded_assets, member_assets"),
    ),
}


@contextmanager
def wave_trigger(admin_engine: Engine, engagement: Engagement, body: str) -> Iterator[None]:
    """A BEFORE INSERT trigger on migration_waves rows of ``engagement``, dropped afterwards."""
    eid = engagement.tenant.engagement_id
    with admin_engine.begin() as conn:
        conn.execute(
            text(
                "CREATE FUNCTION migration.test_break_wave() RETURNS trigger LANGUAGE plpgsql AS $$"
                f" BEGIN IF NEW.engagement_id = '{eid}' THEN {body} END IF; RETURN NEW; END $$"
            )
        )
        conn.execute(
            text(
                "CREATE TRIGGER test_break_wave BEFORE INSERT ON migration.migration_waves"
                " FOR EACH ROW EXECUTE FUNCTION migration.test_break_wave()"
            )
        )
    try:
        yield
    finally:
        with admin_engine.begin() as conn:
            conn.execute(text("DROP TRIGGER test_break_wave ON migration.migration_waves"))
            conn.execute(text("DROP FUNCTION migration.test_break_wave()"))


def assess(engagement: Engagement) -> Run:
    """An assessment-only run on the engagement's latest discovery."""
    state = master_flow(
        client=engagement.client, engagement=engagement.name, phases=["assessment"], return_state=True
    )
    return Run(state=state, master_flow_id=uuid.UUID(str(state.state_details.flow_run_id)))


def _checksums(admin_engine: Engine, engagement: Engagement) -> dict[str, tuple[int, str]]:
    sums = tenant_checksums(admin_engine, engagement.tenant)
    waves = rows(
        admin_engine,
        "SELECT count(*) AS n, md5(coalesce(string_agg(to_jsonb(t)::text, ',' ORDER BY t.id), '')) AS md5"
        " FROM migration.migration_waves t WHERE t.engagement_id = :e",
        e=engagement.tenant.engagement_id,
    )[0]
    return {"assets": sums["assets"], "migration_waves": (waves["n"], waves["md5"])}


def test_a_broken_wave_state_fails_the_assessment_gate_and_rolls_back(
    admin_engine: Engine, new_engagement: Callable[[], Engagement]
) -> None:
    engagement = new_engagement()
    discovery = run_master(engagement)
    assert discovery.state.is_completed(), discovery.state.message
    before = _checksums(admin_engine, engagement)
    assert before["migration_waves"][0] == 0

    for name, (body, rule) in BREAKAGES.items():
        with wave_trigger(admin_engine, engagement, body):
            run = assess(engagement)
        assert run.state.is_failed(), name
        assert "quality gate" in (run.state.message or ""), name

        phase = phase_row(admin_engine, run.master_flow_id, "assessment")
        assert phase["status"] == "rolled_back", name
        assert master_row(admin_engine, run.master_flow_id)["status"] == "rolled_back", name
        (handoff,) = handoffs_from(admin_engine, phase["id"])
        assert handoff["status"] == "rejected", name
        failed = {
            (r["frame"], r["expectation"], r["column"])
            for r in handoff["validation_results"]["results"]
            if not r["success"]
        }
        assert failed == {rule}, name
        assert _checksums(admin_engine, engagement) == before, name

    # The same engagement without the trigger passes the gate: the rules fail on the breakage only.
    run = assess(engagement)
    assert run.state.is_completed(), run.state.message
    (handoff,) = handoffs_from(admin_engine, phase_row(admin_engine, run.master_flow_id, "assessment")["id"])
    waves_checked = [r for r in handoff["validation_results"]["results"] if r["frame"] == "waves"]
    assert waves_checked and all(r["success"] for r in waves_checked)
    assert (
        rows(
            admin_engine,
            "SELECT count(*) AS n FROM migration.migration_waves WHERE master_flow_id = :m",
            m=discovery.master_flow_id,
        )[0]["n"]
        > 1
    )
