"""The inventory diff of scheduled re-discovery: pure logic on small frames whose answer is known."""

from __future__ import annotations

import pandas as pd

from tasks.rediscovery.inventory_diff import diff_inventories, summarise


def _frame(**columns: list[object]) -> pd.DataFrame:
    return pd.DataFrame(columns)


PREVIOUS = _frame(
    asset_name=["web01", "db01", "app01", "old01"],
    os_name=["RHEL 8", "Windows Server 2016", None, "CentOS 6"],
    cpu_cores=[2, 8, 4, 1],
    memory_gb=[8.0, 64.0, 16.0, 2.0],
)


def test_new_changed_and_disappeared_assets_are_reported_with_the_fields_that_changed() -> None:
    current = _frame(
        asset_name=["WEB01 ", "db01", "app01", "new01"],  # name matched trimmed and case-folded
        os_name=["RHEL 8", "Windows Server 2019", None, "Ubuntu 22.04"],
        cpu_cores=[2, 8, 8, 2],
        memory_gb=[8.0, 64.0, 32.0, 4.0],
    )
    report = diff_inventories(PREVIOUS, current)
    assert report[["asset_name", "change"]].values.tolist() == [
        ["new01", "new"],
        ["app01", "changed"],
        ["db01", "changed"],
        ["old01", "disappeared"],
    ]
    fields = dict(zip(report["asset_name"], report["changed_fields"], strict=True))
    assert fields["db01"] == "os_name: Windows Server 2016 -> Windows Server 2019"
    assert fields["app01"] == "cpu_cores: 4 -> 8; memory_gb: 16.0 -> 32.0"
    assert summarise(report) == {"new": 1, "changed": 2, "disappeared": 1}


def test_identical_inventories_and_missing_values_on_both_sides_report_nothing() -> None:
    report = diff_inventories(PREVIOUS, PREVIOUS.sample(frac=1.0, random_state=3))
    assert report.empty
    assert summarise(report) == {"new": 0, "changed": 0, "disappeared": 0}


def test_a_value_that_appears_or_vanishes_is_a_change() -> None:
    current = PREVIOUS.assign(os_name=["RHEL 8", "Windows Server 2016", "RHEL 9", None])
    report = diff_inventories(PREVIOUS, current)
    assert report["changed_fields"].tolist() == ["os_name: - -> RHEL 9", "os_name: CentOS 6 -> -"]


def test_first_discovery_reports_every_asset_as_new() -> None:
    report = diff_inventories(PREVIOUS.iloc[:0], PREVIOUS)
    assert summarise(report) == {"new": 4, "changed": 0, "disappeared": 0}
