"""The master flow running discovery on a real PostgreSQL and a real (test-harness) Prefect API."""

from __future__ import annotations

import csv
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from prefect import get_client
from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterParentFlowRunId
from prefect.states import State
from sqlalchemy import Engine, func, select, text

from db.models import Asset
from db.repositories.locks import engagement_lock
from db.session import Tenant, tenant_session
from flows.master import master_flow
from mfactory.settings import PACKAGE_DATA, get_settings
from tasks.phases import STEPS

# Widen when the other phase flows exist (every assertion below holds for any phase list that
# starts with discovery).
PHASES = ["discovery"]

SAMPLE_INVENTORY = PACKAGE_DATA / "samples" / "inventory.csv"
SAMPLE_DEPENDENCIES = PACKAGE_DATA / "samples" / "dependencies.csv"
SAMPLE_ROWS = 60
DATA_TABLES = ("data_imports", "raw_import_records", "import_field_mappings", "assets", "asset_dependencies")

pytestmark = pytest.mark.usefixtures("database", "prefect_server")


@dataclass(frozen=True)
class Engagement:
    client: str
    name: str
    tenant: Tenant


@dataclass(frozen=True)
class Run:
    state: State[Any]
    master_flow_id: uuid.UUID


@pytest.fixture
def new_engagement(make_tenant: Callable[..., Tenant]) -> Callable[[], Engagement]:
    """Factory of fresh (client, engagement) pairs, created in the database up front."""

    def _make() -> Engagement:
        client = f"client-{uuid.uuid4().hex[:8]}"
        tenant = make_tenant(client=client, engagement="DC exit")
        return Engagement(client=client, name="DC exit", tenant=tenant)

    return _make


def run_master(
    engagement: Engagement,
    inventory: Path = SAMPLE_INVENTORY,
    dependencies: list[Path] | None = None,
    **kwargs: Any,
) -> Run:
    deps = [SAMPLE_DEPENDENCIES] if dependencies is None else dependencies
    state = master_flow(
        client=engagement.client,
        engagement=engagement.name,
        inventory=str(inventory),
        dependencies=[str(d) for d in deps],
        phases=PHASES,
        as_of="2025-01-01",
        return_state=True,
        **kwargs,
    )
    return Run(state=state, master_flow_id=uuid.UUID(str(state.state_details.flow_run_id)))


def rows(admin_engine: Engine, sql: str, **params: Any) -> list[dict[str, Any]]:
    """Rows of a query run as superuser (no RLS), as dicts."""
    with admin_engine.connect() as conn:
        return [dict(r._mapping) for r in conn.execute(text(sql), params)]


def tenant_counts(admin_engine: Engine, tenant: Tenant) -> dict[str, int]:
    """Row count of every data table for ``tenant``."""
    params = {"c": tenant.client_account_id, "e": tenant.engagement_id}
    return {
        table: rows(
            admin_engine,
            f"SELECT count(*) AS n FROM migration.{table}"
            " WHERE client_account_id = :c AND engagement_id = :e",
            **params,
        )[0]["n"]
        for table in DATA_TABLES
    }


def tenant_checksums(admin_engine: Engine, tenant: Tenant) -> dict[str, tuple[int, str]]:
    """(row count, md5 of every row as JSON ordered by id) of every data table for ``tenant``."""
    params = {"c": tenant.client_account_id, "e": tenant.engagement_id}
    out = {}
    for table in DATA_TABLES:
        row = rows(
            admin_engine,
            "SELECT count(*) AS n, md5(coalesce(string_agg(to_jsonb(t)::text, ',' ORDER BY t.id), '')) AS md5"
            f" FROM migration.{table} t WHERE t.client_account_id = :c AND t.engagement_id = :e",
            **params,
        )[0]
        out[table] = (row["n"], row["md5"])
    return out


def phase_row(admin_engine: Engine, master_flow_id: uuid.UUID, phase: str = "discovery") -> dict[str, Any]:
    found = rows(
        admin_engine,
        "SELECT * FROM migration.phase_flows WHERE master_flow_id = :m AND phase = :p",
        m=master_flow_id,
        p=phase,
    )
    assert len(found) == 1, f"expected one {phase} phase_flows row for master {master_flow_id}, got {found}"
    return found[0]


def master_row(admin_engine: Engine, master_flow_id: uuid.UUID) -> dict[str, Any]:
    found = rows(admin_engine, "SELECT * FROM migration.master_flows WHERE id = :m", m=master_flow_id)
    assert len(found) == 1, f"no master_flows row with id {master_flow_id}"
    return found[0]


def steps_of(admin_engine: Engine, phase_flow_id: uuid.UUID) -> dict[str, dict[str, Any]]:
    found = rows(
        admin_engine,
        "SELECT * FROM migration.phase_steps WHERE phase_flow_id = :p ORDER BY position",
        p=phase_flow_id,
    )
    return {r["name"]: r for r in found}


def handoffs_from(admin_engine: Engine, phase_flow_id: uuid.UUID) -> list[dict[str, Any]]:
    return rows(
        admin_engine, "SELECT * FROM migration.flow_handoffs WHERE source_phase_flow_id = :p", p=phase_flow_id
    )


def assets_of_run(admin_engine: Engine, master_flow_id: uuid.UUID) -> int:
    return rows(
        admin_engine, "SELECT count(*) AS n FROM migration.assets WHERE master_flow_id = :m", m=master_flow_id
    )[0]["n"]


def edited_sample(tmp_path: Path, edit: Callable[[list[dict[str, str]]], None]) -> Path:
    """A copy of the sample inventory with ``edit`` applied to its rows."""
    with SAMPLE_INVENTORY.open(newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        fieldnames = list(reader.fieldnames or [])
        data = list(reader)
    edit(data)
    path = tmp_path / "inventory.csv"
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=fieldnames)
        writer.writeheader()
        writer.writerows(data)
    return path


# --- the happy path ----------------------------------------------------------------------


def test_master_on_sample_completes_with_full_record(
    admin_engine: Engine, new_engagement: Callable[[], Engagement]
) -> None:
    """The sample run completes; database ids are the Prefect run ids and every record is written."""
    engagement = new_engagement()
    run = run_master(engagement)
    assert run.state.is_completed(), run.state.message
    result = run.state.result()
    assert result["master_flow_id"] == str(run.master_flow_id)

    master = master_row(admin_engine, run.master_flow_id)
    assert master["status"] == "completed"
    assert master["client_account_id"] == engagement.tenant.client_account_id
    assert master["engagement_id"] == engagement.tenant.engagement_id

    phase = phase_row(admin_engine, run.master_flow_id)
    assert phase["status"] == "completed"
    assert phase["master_flow_id"] == run.master_flow_id
    assert str(phase["id"]) == result["phases"][0]["phase_flow_id"]

    with get_client(sync_client=True) as client:
        master_run = client.read_flow_run(run.master_flow_id)
        assert master_run.state is not None and master_run.state.is_completed()
        subflow = client.read_flow_run(phase["id"])
        assert subflow.parent_task_run_id is not None
        assert client.read_task_run(subflow.parent_task_run_id).flow_run_id == run.master_flow_id
        children = client.read_flow_runs(
            flow_run_filter=FlowRunFilter(
                parent_flow_run_id=FlowRunFilterParentFlowRunId(any_=[run.master_flow_id])
            )
        )
        assert phase["id"] in {c.id for c in children}

    steps = steps_of(admin_engine, phase["id"])
    assert list(steps) == list(STEPS["discovery"])
    assert {name: s["status"] for name, s in steps.items()} == dict.fromkeys(STEPS["discovery"], "completed")
    assert all(s["task_run_id"] is not None and s["retry_count"] == 0 for s in steps.values())

    counts = tenant_counts(admin_engine, engagement.tenant)
    assert counts["assets"] == SAMPLE_ROWS
    assert assets_of_run(admin_engine, run.master_flow_id) == SAMPLE_ROWS
    assert counts["asset_dependencies"] > 0
    assert counts["data_imports"] == 2
    assert counts["raw_import_records"] == SAMPLE_ROWS + 180

    handoffs = handoffs_from(admin_engine, phase["id"])
    assert len(handoffs) == 1
    expected = "accepted" if PHASES == ["discovery"] else "consumed"
    assert handoffs[0]["status"] == expected
    assert handoffs[0]["validation_results"]["success"] is True
    assert handoffs[0]["package"]["assets"] == SAMPLE_ROWS


# --- retries -----------------------------------------------------------------------------


def test_step_failing_once_succeeds_on_retry_without_duplicates(
    admin_engine: Engine, new_engagement: Callable[[], Engagement]
) -> None:
    """A step failing once after its work committed is undone and retried: no duplicate assets."""
    engagement = new_engagement()
    run = run_master(engagement, inject_failures={"discovery.inventory": 1})
    assert run.state.is_completed(), run.state.message

    phase = phase_row(admin_engine, run.master_flow_id)
    assert phase["status"] == "completed"
    steps = steps_of(admin_engine, phase["id"])
    assert steps["inventory"]["status"] == "completed"
    assert steps["inventory"]["retry_count"] == 1
    assert steps["inventory"]["metrics"].get("rows_undone_from_earlier_attempt", 0) >= SAMPLE_ROWS
    assert all(s["retry_count"] == 0 for name, s in steps.items() if name != "inventory")

    assert tenant_counts(admin_engine, engagement.tenant)["assets"] == SAMPLE_ROWS
    assert assets_of_run(admin_engine, run.master_flow_id) == SAMPLE_ROWS


def raw_partitions(admin_engine: Engine) -> set[str]:
    """Names of the partitions of raw_import_records (one per import, migration 0013)."""
    found = rows(
        admin_engine,
        "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid"
        " WHERE i.inhparent = 'migration.raw_import_records'::regclass",
    )
    return {r["relname"] for r in found}


def test_import_failing_once_is_retried_into_fresh_partitions(
    admin_engine: Engine, new_engagement: Callable[[], Engagement]
) -> None:
    """data_import fails after its COPY + attach committed: the retry undoes that attempt (its
    emptied partitions are dropped afterwards) and imports again into new partitions."""
    engagement = new_engagement()
    before = raw_partitions(admin_engine)
    run = run_master(engagement, inject_failures={"discovery.data_import": 1})
    assert run.state.is_completed(), run.state.message

    phase = phase_row(admin_engine, run.master_flow_id)
    step = steps_of(admin_engine, phase["id"])["data_import"]
    assert step["retry_count"] == 1
    assert step["metrics"]["rows_undone_from_earlier_attempt"] >= SAMPLE_ROWS
    imports = rows(
        admin_engine, "SELECT id FROM migration.data_imports WHERE phase_flow_id = :p", p=phase["id"]
    )
    assert raw_partitions(admin_engine) - before == {f"raw_import_records_{r['id'].hex}" for r in imports}
    assert tenant_counts(admin_engine, engagement.tenant)["assets"] == SAMPLE_ROWS


def test_step_failing_for_good_rolls_back_to_exact_prior_state(
    admin_engine: Engine, new_engagement: Callable[[], Engagement]
) -> None:
    """A step that keeps failing ends the run rolled back; the tenant's data is exactly as before."""
    engagement = new_engagement()
    earlier = run_master(engagement)
    assert earlier.state.is_completed(), earlier.state.message
    before = tenant_checksums(admin_engine, engagement.tenant)
    assert before["assets"][0] == SAMPLE_ROWS

    run = run_master(engagement, inject_failures={"discovery.inventory": 9})
    assert run.state.is_failed()
    assert "inventory" in (run.state.message or "")

    phase = phase_row(admin_engine, run.master_flow_id)
    assert phase["status"] == "rolled_back"
    assert phase["status_reason"]
    with get_client(sync_client=True) as client:
        subflow = client.read_flow_run(phase["id"])
        assert subflow.state is not None and subflow.state.is_failed()
        assert subflow.state.name == "RolledBack"

    master = master_row(admin_engine, run.master_flow_id)
    assert master["status"] == "rolled_back"
    assert master["status_reason"] and "inventory" in master["status_reason"]

    steps = steps_of(admin_engine, phase["id"])
    assert steps["inventory"]["status"] == "failed"
    assert steps["inventory"]["retry_count"] == get_settings().step_retries
    assert steps["inventory"]["error"]["type"] == "InjectedFault"
    earlier_steps = ("data_import", "attribute_mapping", "data_cleansing")
    assert {steps[n]["status"] for n in earlier_steps} == {"rolled_back"}
    assert "dependencies" not in steps

    rollbacks = rows(
        admin_engine, "SELECT * FROM migration.flow_rollbacks WHERE master_flow_id = :m", m=run.master_flow_id
    )
    assert len(rollbacks) == 1
    assert rollbacks[0]["status"] == "completed"
    assert rollbacks[0]["scope"] == "phase"
    assert rollbacks[0]["integrity_check"]["passed"] is True
    assert rollbacks[0]["phase_flow_ids"] == [str(phase["id"])]

    assert tenant_checksums(admin_engine, engagement.tenant) == before
    assert master_row(admin_engine, earlier.master_flow_id)["status"] == "completed"
    # The undone import's raw partition went with its rows; the earlier run's stays.
    undone = rows(
        admin_engine,
        "SELECT unnest(row_ids) AS id FROM migration.change_log"
        " WHERE flow_run_id = :p AND table_name = 'data_imports'",
        p=phase["id"],
    )
    kept = rows(
        admin_engine,
        "SELECT id FROM migration.data_imports WHERE master_flow_id = :m",
        m=earlier.master_flow_id,
    )
    assert undone and len(undone) == len(kept)  # the same files, imported twice
    names = raw_partitions(admin_engine)
    assert {f"raw_import_records_{r['id'].hex}" for r in kept} <= names
    assert not {f"raw_import_records_{r['id'].hex}" for r in undone} & names


# --- quality gate and bad input ----------------------------------------------------------


def test_failing_quality_gate_rejects_handoff_and_rolls_back(
    admin_engine: Engine, new_engagement: Callable[[], Engagement], tmp_path: Path
) -> None:
    """An asset with 5000 cores fails the gate: rejected handoff, phase rolled back, no assets."""

    def too_many_cores(data: list[dict[str, str]]) -> None:
        data[7]["cpu_cores"] = "5000"

    engagement = new_engagement()
    run = run_master(engagement, inventory=edited_sample(tmp_path, too_many_cores))
    assert run.state.is_failed()
    assert "quality gate" in (run.state.message or "")

    phase = phase_row(admin_engine, run.master_flow_id)
    assert phase["status"] == "rolled_back"
    assert master_row(admin_engine, run.master_flow_id)["status"] == "rolled_back"

    handoffs = handoffs_from(admin_engine, phase["id"])
    assert len(handoffs) == 1
    assert handoffs[0]["validation_results"]["success"] is False
    failed = [r for r in handoffs[0]["validation_results"]["results"] if not r["success"]]
    assert [(r["expectation"], r["column"]) for r in failed] == [
        ("expect_column_values_to_be_between", "cpu_cores")
    ]
    assert handoffs[0]["status"] == "rejected"

    assert tenant_counts(admin_engine, engagement.tenant)["assets"] == 0


@pytest.mark.parametrize("dependencies", [[], [SAMPLE_DEPENDENCIES]], ids=["alone", "with-dependencies"])
def test_unrecognisable_inventory_fails_clearly_and_leaves_nothing(
    admin_engine: Engine, new_engagement: Callable[[], Engagement], tmp_path: Path, dependencies: list[Path]
) -> None:
    """An inventory with no recognisable column fails at once with a clear message; nothing remains."""
    inventory = tmp_path / "mystery.csv"
    inventory.write_text("foo,bar\n1,2\n3,4\n", encoding="utf-8")
    engagement = new_engagement()
    run = run_master(engagement, inventory=inventory, dependencies=dependencies)
    assert run.state.is_failed()
    message = run.state.message or ""
    assert "mystery.csv: no column matches a canonical asset field" in message

    phase = phase_row(admin_engine, run.master_flow_id)
    assert phase["status"] == "rolled_back"
    steps = steps_of(admin_engine, phase["id"])
    assert steps["attribute_mapping"]["status"] == "failed"
    assert steps["attribute_mapping"]["retry_count"] == 0  # bad input is not retried
    assert "canonical asset field" in steps["attribute_mapping"]["error"]["message"]
    master = master_row(admin_engine, run.master_flow_id)
    assert master["status"] == "rolled_back"
    assert "canonical asset field" in master["status_reason"]

    assert tenant_counts(admin_engine, engagement.tenant) == dict.fromkeys(DATA_TABLES, 0)


# --- concurrency -------------------------------------------------------------------------


def test_two_engagements_in_parallel_stay_isolated(
    admin_engine: Engine, new_engagement: Callable[[], Engagement]
) -> None:
    """Two engagements run at the same time; both complete and each sees only its own assets."""
    first, second = new_engagement(), new_engagement()
    with ThreadPoolExecutor(max_workers=2) as pool:
        runs = list(pool.map(run_master, [first, second]))
    for run in runs:
        assert run.state.is_completed(), run.state.message
    assert runs[0].master_flow_id != runs[1].master_flow_id

    for engagement, run in zip((first, second), runs, strict=True):
        with tenant_session(engagement.tenant) as session:
            visible = session.execute(
                select(
                    Asset.client_account_id, Asset.engagement_id, Asset.master_flow_id, func.count()
                ).group_by(Asset.client_account_id, Asset.engagement_id, Asset.master_flow_id)
            ).all()
        assert visible == [
            (
                engagement.tenant.client_account_id,
                engagement.tenant.engagement_id,
                run.master_flow_id,
                SAMPLE_ROWS,
            )
        ]
        assert tenant_counts(admin_engine, engagement.tenant)["assets"] == SAMPLE_ROWS


def test_second_run_of_same_engagement_refused_while_locked(
    admin_engine: Engine, new_engagement: Callable[[], Engagement]
) -> None:
    """While the engagement's run lock is held, a master run for it is refused as in progress."""
    engagement = new_engagement()
    with engagement_lock(engagement.tenant.engagement_id) as acquired:
        assert acquired
        run = run_master(engagement)
    assert run.state.is_failed()
    assert "in progress" in (run.state.message or "")
    masters = rows(admin_engine, "SELECT id FROM migration.master_flows WHERE id = :m", m=run.master_flow_id)
    assert masters == []
    assert tenant_counts(admin_engine, engagement.tenant) == dict.fromkeys(DATA_TABLES, 0)
