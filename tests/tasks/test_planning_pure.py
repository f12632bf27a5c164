"""Planning without a database or Prefect: right-sizing, disks, cost, effort and weekly capacity.

Expected instance types and prices are worked out by hand from the shipped catalogue rows named in
each test, so a change to the catalogue that moves them shows up here.
"""

from __future__ import annotations

import datetime as dt
import uuid

import pandas as pd
import pytest

from tasks.planning.catalogue import offer
from tasks.planning.costs import as_is_cost, onprem_rates, rollup
from tasks.planning.effort import asset_effort, capacity, effort_model, over_capacity, weekly_load
from tasks.planning.sizing import BASIS_ALLOCATION, BASIS_UTILISATION, compute_need, right_size
from tasks.planning.target import cost_plan, tco_metrics


def assets(**columns: list[object]) -> pd.DataFrame:
    n = len(next(iter(columns.values())))
    base: dict[str, list[object]] = {
        "id": [uuid.uuid4() for _ in range(n)],
        "six_r_strategy": ["rehost"] * n,
        "wave_id": [1] * n,
        "environment": ["production"] * n,
        "power_state": ["on"] * n,
        "cpu_cores": [None] * n,
        "memory_gb": [None] * n,
        "storage_gb": [None] * n,
        "storage_used_gb": [None] * n,
        "cpu_utilization_peak": [None] * n,
        "memory_utilization_peak": [None] * n,
        "iops_avg": [None] * n,
        "current_monthly_cost": [None] * n,
    }
    return pd.DataFrame({**base, **columns})


# --- right-sizing -----------------------------------------------------------------------------------


def test_p95_with_headroom_sizes_down_and_allocation_is_kept_without_utilisation() -> None:
    frame = assets(
        cpu_cores=[8, 8, 8],
        memory_gb=[32, 32, 32],
        cpu_utilization_peak=[40, None, 95],
        memory_utilization_peak=[50, None, 95],
    )
    need = compute_need(frame, headroom=0.2)
    # 8 x 0.40 x 1.2 = 3.84 -> 4 vCPU; 32 x 0.50 x 1.2 = 19.2 GiB. A busy server keeps its allocation.
    assert need["need_vcpu"].tolist() == [4, 8, 8]
    assert need["need_memory_gb"].round(2).tolist() == [19.2, 32, 32]
    assert need["sizing_basis"].tolist() == [BASIS_UTILISATION, BASIS_ALLOCATION, BASIS_UTILISATION]
    # More headroom, bigger need: 8 x 0.4 x 1.5 = 4.8 -> 5 vCPU.
    assert compute_need(frame, headroom=0.5)["need_vcpu"].iloc[0] == 5
    with pytest.raises(ValueError, match="headroom"):
        compute_need(frame, headroom=-0.1)


@pytest.mark.parametrize(
    ("provider", "region", "instance", "hourly"),
    [
        # need 4 vCPU / 19.2 GiB -> the cheapest 4 vCPU size with >= 19.2 GiB is the 32 GiB memory type.
        ("aws", "us-east-1", "r6i.xlarge", 0.252),
        ("azure", "eastus", "E4s_v5", 0.252),
        ("gcp", "us-central1", "n2-highmem-4", 0.262),
        # regional factor 1.115 on the base price
        ("aws", "eu-west-1", "r6i.xlarge", 0.281),
    ],
)
def test_the_cheapest_fitting_size_per_provider_and_region(
    provider: str, region: str, instance: str, hourly: float
) -> None:
    frame = assets(cpu_cores=[8], memory_gb=[32], cpu_utilization_peak=[40], memory_utilization_peak=[50])
    sized = right_size(frame, offer(provider, region), headroom=0.2).iloc[0]
    assert sized["target_instance_type"] == instance
    assert sized["target_region"] == region
    assert sized["compute_monthly_usd"] == pytest.approx(round(hourly * 730, 2), abs=0.01)


def test_a_server_larger_than_the_catalogue_gets_the_largest_size_and_is_flagged() -> None:
    sized = right_size(assets(cpu_cores=[512], memory_gb=[4096]), offer("aws"), 0.2).iloc[0]
    assert sized["target_instance_type"] == "r6i.32xlarge" and bool(sized["undersized"])


def test_unknown_provider_or_region_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="unknown target provider 'oracle'"):
        offer("oracle")
    with pytest.raises(ValueError, match="no region 'mars-1'"):
        offer("aws", "mars-1")
    assert offer("gcp").region == "us-central1" and offer("azure").price_date == "2026-11-01"


# --- storage ----------------------------------------------------------------------------------------


def test_disk_type_follows_iops_and_environment() -> None:
    frame = assets(
        environment=["production", "development", "production", "development"],
        storage_gb=[200, 100, 500, 100],
        iops_avg=[5000, None, None, 20],
        cpu_cores=[2] * 4,
        memory_gb=[4] * 4,
    )
    by = {p: right_size(frame, offer(p), 0.2) for p in ("aws", "azure", "gcp")}
    # AWS: 5000 x 2 x 1.2 = 12,000 IOPS: gp3 200 x 0.08 + 9,000 extra x 0.005 = 61 beats io2 (805).
    assert by["aws"]["target_storage_type"].tolist() == ["gp3"] * 4
    assert by["aws"]["storage_monthly_usd"].tolist() == [61.0, 8.0, 40.0, 8.0]
    # Azure: development may use HDD; production never does (Standard SSD is the lowest it gets);
    # 12,000 IOPS need Premium SSD v2: 200 x 0.082 + 9,000 x 0.0052 = 63.2.
    assert by["azure"]["target_storage_type"].tolist() == [
        "Premium SSD v2",
        "Standard HDD",
        "Standard SSD",
        "Standard HDD",
    ]
    assert by["azure"]["storage_monthly_usd"].iloc[0] == pytest.approx(63.2)
    # GCP: pd-ssd gives 6,000 + 30 x 200 = 12,000 for 34; pd-standard's 0.75 IOPS/GiB is 75 for 100 GiB,
    # short of the 100 IOPS a development server is assumed to need, so hyperdisk-balanced (6.0) wins.
    assert by["gcp"]["target_storage_type"].tolist()[0] == "pd-ssd"
    assert by["gcp"]["target_storage_type"].tolist()[1] == "hyperdisk-balanced"
    assert by["gcp"]["target_storage_type"].tolist()[3] == "pd-standard", "20 x 2.4 = 48 IOPS fit on HDD"


# --- cost -------------------------------------------------------------------------------------------


def test_as_is_is_imported_where_known_and_estimated_from_the_shipped_model_otherwise() -> None:
    rates = onprem_rates()
    frame = assets(
        cpu_cores=[4, 4], memory_gb=[16, 16], storage_gb=[100, 100], current_monthly_cost=[300.0, None]
    )
    cost = as_is_cost(frame, rates)
    estimate = (
        rates["per_server"]
        + 4 * rates["per_core"]
        + 16 * rates["per_gib_memory"]
        + 100 * rates["per_gib_storage"]
    )
    assert cost["as_is_monthly_usd"].tolist() == [300.0, round(estimate, 2)]
    assert cost["as_is_source"].tolist() == ["imported", "estimated"]


def test_tco_counts_retired_as_zero_and_retained_as_as_is() -> None:
    frame = assets(
        six_r_strategy=["rehost", "retire", "retain"],
        wave_id=[1, 1, 2],
        cpu_cores=[2, 2, 2],
        memory_gb=[8, 8, 8],
        storage_gb=[100, 100, 100],
        current_monthly_cost=[200.0, 150.0, 120.0],
    )
    plan = cost_plan(frame, "aws", "us-east-1", 0.2)
    assert len(plan["sized"]) == 1, "only moving assets are sized"
    # 2 vCPU / 8 GiB: t3.large 0.0832 x 730 = 60.74 (cheaper than m6i.large); gp3 100 x 0.08 = 8.
    assert plan["sized"]["target_instance_type"].iloc[0] == "t3.large"
    assert plan["sized"]["estimated_monthly_cost"].iloc[0] == pytest.approx(68.74)
    tco = tco_metrics(plan["costed"])
    assert tco["as_is_monthly_usd"] == 470.0
    assert tco["to_be_monthly_usd"] == pytest.approx(68.74 + 0 + 120.0)
    assert tco["savings_monthly_usd"] == pytest.approx(470.0 - 188.74)
    per_wave = rollup(plan["costed"], by="wave_id")
    assert per_wave.loc[1, "to_be_monthly_usd"] == pytest.approx(68.74)
    assert per_wave.loc[2, "savings_monthly_usd"] == 0.0


# --- effort and capacity ----------------------------------------------------------------------------


def test_effort_by_6r_complexity_size_and_role() -> None:
    model = effort_model()
    frame = pd.DataFrame(
        {
            "six_r_strategy": ["rehost", "rehost", "refactor", "replatform"],
            "migration_complexity": [None, "High", "low", None],
            "cpu_cores": [4, 4, 8, 4],
            "database_engine": [None, None, None, "oracle"],
            "asset_type": ["server", "server", "server", "server"],
        }
    )
    effort = asset_effort(frame, model)
    # rehost 6 h x medium 1.0 x 4/4 cores; High x 1.5; refactor 60 x 0.75 x 8/4 = 90.
    assert effort["effort_hours"].tolist() == [6.0, 9.0, 90.0, 16.0]
    assert effort.loc[0, "migration_engineer"] == pytest.approx(6 * 0.65)
    # A database moves 0.25 of the engineer's share (0.5) to the DBA (0.1): 16 x 0.35 = 5.6.
    assert effort.loc[3, "dba"] == pytest.approx(5.6) and effort.loc[3, "migration_engineer"] == 4.0
    assert effort["complexity_known"].tolist() == [False, True, True, False]


def test_parallel_waves_add_up_in_their_shared_weeks_and_overflow_is_flagged() -> None:
    model = effort_model()
    roles = list(model["roles"])
    monday = dt.date(2026, 1, 5)
    waves = pd.DataFrame(
        {
            "start": [monday, monday, monday + dt.timedelta(days=14)],
            "end": [
                monday + dt.timedelta(days=6),
                monday + dt.timedelta(days=13),
                monday + dt.timedelta(days=20),
            ],
            "migration_engineer": [140.0, 70.0, 35.0],
            "dba": [0.0, 0.0, 0.0],
            "app_tester": [0.0, 28.0, 0.0],
            "project_manager": [7.0, 14.0, 7.0],
        }
    )
    weekly = weekly_load(waves, roles).set_index("week")
    # Week 1: all of wave 1 (140) + half of wave 2 (35) = 175 engineer hours; week 2: 35; week 3: 35.
    assert weekly["migration_engineer"].to_dict() == {
        monday: 175.0,
        monday + dt.timedelta(days=7): 35.0,
        monday + dt.timedelta(days=14): 35.0,
    }
    team = capacity(model, {"migration_engineer": 160, "project_manager": 10})
    over = over_capacity(weekly.reset_index(), team)
    assert over[["week", "role"]].values.tolist() == [
        [monday, "migration_engineer"],
        [monday, "project_manager"],
    ]
    assert over_capacity(weekly.reset_index(), capacity(model, {"migration_engineer": 175})).empty, (
        "exactly at capacity is not over"
    )
    with pytest.raises(ValueError, match="unknown role"):
        capacity(model, {"architect": 40})
    with pytest.raises(ValueError, match="positive"):
        capacity(model, {"dba": 0})


def test_the_planning_gate_refuses_a_moving_asset_without_a_priced_target() -> None:
    """The GX suite expectations/planning.json on what the gate query returns for moving assets."""
    from tasks.quality import validate_frame

    plan = cost_plan(
        assets(
            cpu_cores=[2, 4], memory_gb=[8, 16], storage_gb=[50, 80], six_r_strategy=["rehost", "replatform"]
        ),
        "azure",
        None,
        None,
    )
    sized = plan["sized"].assign(
        asset_name=["a", "b"],
        six_r_strategy=["rehost", "replatform"],
        estimated_migration_effort_hours=[6.0, 16.0],
    )
    assert validate_frame("planning", sized)["success"]
    unpriced = sized.assign(estimated_monthly_cost=[78.0, None])
    result = validate_frame("planning", unpriced)
    assert not result["success"]
    failed = {(r["expectation"], r["column"]) for r in result["results"] if not r["success"]}
    assert failed == {("expect_column_values_to_not_be_null", "estimated_monthly_cost")}
    assert not validate_frame("planning", sized.assign(target_storage_type=[None, "Standard SSD"]))["success"]
