"""The synthetic inventory generator: deterministic, canonical, realistic, and in step with the sample.

Pure tests: no database, no Prefect. Downstream phases and benchmarks trust these properties, so a
change in the generator that breaks one of them should fail here first.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

import mfactory
from mfactory.synthetic import (
    ASSET_COLUMNS,
    DEPENDENCY_COLUMNS,
    SAMPLE_N_ASSETS,
    SAMPLE_SEED,
    generate_inventory,
    write_inventory,
)

CANONICAL_ASSET_COLUMNS = [
    "asset_name", "asset_type", "hostname", "fqdn", "ip_address", "mac_address", "external_id",
    "vm_uuid", "serial_number", "os_family", "os_name", "os_version", "cpu_cores", "cpu_sockets",
    "memory_gb", "storage_gb", "storage_used_gb", "disk_count", "nic_count", "power_state",
    "environment", "datacenter", "cluster", "hypervisor_host", "virtualization_platform",
    "application_name", "business_unit", "owner", "business_criticality", "description",
    "cpu_utilization_avg", "cpu_utilization_peak", "memory_utilization_avg", "memory_utilization_peak",
    "iops_avg", "network_throughput_mbps", "created_date",
]  # fmt: skip
SAMPLES = Path(mfactory.__file__).parent / "data" / "samples"


@pytest.fixture(scope="module")
def inventory() -> tuple[pd.DataFrame, pd.DataFrame]:
    """One mid-sized inventory shared by the property tests (generation is the slow part)."""
    return generate_inventory(2_000, seed=123)


def test_same_seed_gives_identical_frames() -> None:
    first = generate_inventory(300, seed=5)
    second = generate_inventory(300, seed=5)
    pd.testing.assert_frame_equal(first[0], second[0])
    pd.testing.assert_frame_equal(first[1], second[1])


def test_different_seeds_differ() -> None:
    assets_a, deps_a = generate_inventory(300, seed=1)
    assets_b, deps_b = generate_inventory(300, seed=2)
    assert not assets_a.equals(assets_b)
    assert not deps_a.equals(deps_b)


def test_columns_are_exactly_the_canonical_names(inventory: tuple[pd.DataFrame, pd.DataFrame]) -> None:
    assets, dependencies = inventory
    assert list(assets.columns) == CANONICAL_ASSET_COLUMNS
    assert list(ASSET_COLUMNS) == CANONICAL_ASSET_COLUMNS
    assert list(dependencies.columns) == list(DEPENDENCY_COLUMNS)
    assert list(dependencies.columns) == [
        "source_asset_name",
        "target_asset_name",
        "dependency_type",
        "port",
        "protocol",
    ]


def test_asset_names_and_ip_addresses_are_unique(inventory: tuple[pd.DataFrame, pd.DataFrame]) -> None:
    assets, _ = inventory
    assert assets["asset_name"].is_unique
    assert assets["ip_address"].is_unique
    assert assets["ip_address"].str.fullmatch(r"10\.\d{1,3}\.\d{1,3}\.\d{1,3}").all()
    assert (assets["fqdn"] == assets["hostname"] + ".corp.example.com").all()


def test_no_self_loops_or_duplicate_dependencies(inventory: tuple[pd.DataFrame, pd.DataFrame]) -> None:
    _, dependencies = inventory
    assert (dependencies["source_asset_name"] != dependencies["target_asset_name"]).all()
    assert not dependencies.duplicated(["source_asset_name", "target_asset_name"]).any()


def test_dependencies_refer_to_existing_assets(inventory: tuple[pd.DataFrame, pd.DataFrame]) -> None:
    assets, dependencies = inventory
    names = set(assets["asset_name"])
    assert set(dependencies["source_asset_name"]) <= names
    assert set(dependencies["target_asset_name"]) <= names
    assert set(dependencies["dependency_type"]) <= {"network", "database", "application"}
    assert set(dependencies["protocol"]) <= {"tcp", "udp"}
    assert pd.api.types.is_integer_dtype(dependencies["port"])


def test_mostly_intra_application_dependencies(inventory: tuple[pd.DataFrame, pd.DataFrame]) -> None:
    assets, dependencies = inventory
    app = dict(zip(assets["asset_name"], assets["application_name"], strict=True))
    same = dependencies["source_asset_name"].map(app) == dependencies["target_asset_name"].map(app)
    assert 0.7 <= same.mean() <= 0.9


def test_peak_utilisation_is_at_least_average(inventory: tuple[pd.DataFrame, pd.DataFrame]) -> None:
    assets, _ = inventory
    for kind in ("cpu", "memory"):
        avg, peak = assets[f"{kind}_utilization_avg"], assets[f"{kind}_utilization_peak"]
        assert (peak >= avg).all()
        assert avg.between(0, 100).all()
        assert peak.between(0, 100).all()


@pytest.mark.parametrize(("n_assets", "per_asset"), [(60, 3.0), (2_000, 3.0), (2_000, 1.5), (500, 5.0)])
def test_dependency_count_within_ten_percent(n_assets: int, per_asset: float) -> None:
    _, dependencies = generate_inventory(n_assets, seed=11, dependencies_per_asset=per_asset)
    target = n_assets * per_asset
    assert abs(len(dependencies) - target) <= 0.1 * target


def test_values_are_in_the_documented_vocabularies(inventory: tuple[pd.DataFrame, pd.DataFrame]) -> None:
    assets, _ = inventory
    assert set(assets["asset_type"]) == {"server", "virtual_machine", "database", "application"}
    assert set(assets["environment"]) <= {"production", "staging", "test", "development", "dr"}
    assert set(assets["business_criticality"]) <= {"low", "medium", "high", "critical"}
    assert set(assets["power_state"]) <= {"on", "off", "suspended"}
    assert set(assets["os_family"]) <= {"windows", "linux", "unix"}
    assert set(assets["cpu_cores"]) <= {1, 2, 4, 8, 16, 32}
    assert pd.to_datetime(assets["created_date"], format="%Y-%m-%d").between("2010-01-01", "2024-12-31").all()
    windows = assets["os_family"] == "windows"
    assert assets.loc[windows, "os_name"].str.startswith("Windows").all()
    assert not assets.loc[~windows, "os_name"].str.startswith("Windows").any()
    # Applications group ~8 assets and their members share business unit and owner.
    per_app = assets.groupby("application_name")
    assert per_app["business_unit"].nunique().max() == 1
    assert per_app["owner"].nunique().max() == 1
    assert abs(assets["application_name"].nunique() - len(assets) / 8) <= 1


def test_shipped_sample_matches_the_generator(tmp_path: Path) -> None:
    inventory_path, dependencies_path = write_inventory(tmp_path, SAMPLE_N_ASSETS, seed=SAMPLE_SEED)
    assert (SAMPLE_N_ASSETS, SAMPLE_SEED) == (60, 7)
    assert inventory_path.read_bytes() == (SAMPLES / "inventory.csv").read_bytes()
    assert dependencies_path.read_bytes() == (SAMPLES / "dependencies.csv").read_bytes()


def test_invalid_arguments_are_rejected() -> None:
    with pytest.raises(ValueError, match="n_assets"):
        generate_inventory(0)
    with pytest.raises(ValueError, match="dependencies_per_asset"):
        generate_inventory(10, dependencies_per_asset=-1.0)
