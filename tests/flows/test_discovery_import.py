"""Data Import through the real master flow: vendor workbooks, enrichment joins, bad rows, errors file.

Real embedded PostgreSQL, real Prefect runs (discovery phase only); the inputs are written into
tmp_path in real vendor layouts (tests/exports.py).
"""

from __future__ import annotations

import csv
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import Engine

from tasks.discovery.cleansing.rules import cleansing_rules
from tests.exports import rvtools_workbook
from tests.flows.test_master_discovery import Engagement, phase_row, rows, run_master, steps_of

pytestmark = pytest.mark.usefixtures("database", "prefect_server")


def _imports(admin_engine: Engine, master_flow_id: object) -> dict[str, dict[str, object]]:
    found = rows(
        admin_engine, "SELECT * FROM migration.data_imports WHERE master_flow_id = :m", m=master_flow_id
    )
    return {str(r["source_kind"]): r for r in found}


def _raw(admin_engine: Engine, data_import_id: object) -> list[dict[str, object]]:
    return rows(
        admin_engine,
        "SELECT sheet_name, row_number, record, is_valid, errors FROM migration.raw_import_records"
        " WHERE data_import_id = :d ORDER BY sheet_name, row_number",
        d=data_import_id,
    )


def _errors_file(path: object) -> list[dict[str, str]]:
    assert path, "no errors file was recorded"
    with Path(str(path)).open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def test_rvtools_workbook_and_dependency_csv_with_bad_rows(
    admin_engine: Engine, new_engagement: Callable[[], Engagement], tmp_path: Path
) -> None:
    """Every sheet's rows are kept with their row numbers; vInfo assets are enriched from the other tabs,
    Memory (MiB) lands as GiB; the dependency row with extra cells is rejected into the errors file
    and the other dependency rows become edges."""
    workbook = tmp_path / "export.csv"  # content decides, not the name
    sheets = rvtools_workbook(workbook)
    dependencies = tmp_path / "connections.txt"
    dependencies.write_text(
        "source,destination,port\n"
        "web000-prod,fs001-prod,443\n"
        "app002-test,web003-prod,1433,=cmd|' /C calc'!A0,more\n"
        "web003-prod,app002-test,22\n",
        encoding="utf-8",
    )
    engagement = new_engagement()
    run = run_master(engagement, inventory=workbook, dependencies=[dependencies])
    assert run.state.is_completed(), run.state.message

    imports = _imports(admin_engine, run.master_flow_id)
    inventory, deps = imports["inventory"], imports["dependencies"]

    # the inventory: format, sheets and every original row with its row number
    assert inventory["source_format"] == "rvtools"
    assert inventory["status"] == deps["status"] == "imported"
    roles = {s["name"]: s["role"] for s in inventory["sheets"]}  # type: ignore[attr-defined]
    assert roles["vInfo"] == "assets"
    assert roles["vCPU"] == roles["vNetwork"] == roles["vHost"] == "enrichment"
    assert roles["vSource"] == "reference"
    vinfo_meta = next(s for s in inventory["sheets"] if s["name"] == "vInfo")  # type: ignore[attr-defined]
    assert vinfo_meta["units"]["Memory"]["unit"] == "MiB"
    raw = _raw(admin_engine, inventory["id"])
    expected = {name: len(data) - 1 for name, data in sheets.items() if len(data) > 1}
    by_sheet: dict[str, list[int]] = {}
    for r in raw:
        by_sheet.setdefault(str(r["sheet_name"]), []).append(int(r["row_number"]))  # type: ignore[arg-type]
    assert {name: len(numbers) for name, numbers in by_sheet.items()} == expected
    assert all(numbers == list(range(2, len(numbers) + 2)) for numbers in by_sheet.values())
    assert inventory["row_count"] == sum(expected.values())
    first_disk = next(r for r in raw if r["sheet_name"] == "vDisk")
    assert first_disk["record"]["Capacity MiB"] == "51200"  # type: ignore[index]
    assert all(r["is_valid"] for r in raw)

    # the assets: only vInfo rows, enriched per VM, with lineage to their vInfo row
    assets = rows(
        admin_engine,
        "SELECT a.asset_name, a.memory_gb, a.cpu_sockets, a.mac_address, a.virtualization_platform,"
        " r.sheet_name, r.row_number FROM migration.assets a"
        " JOIN migration.raw_import_records r ON r.id = a.raw_import_record_id"
        " WHERE a.master_flow_id = :m ORDER BY r.row_number",
        m=run.master_flow_id,
    )
    vinfo = sheets["vInfo"]
    names = [str(r[0]) for r in vinfo[1:]]
    memory_mib = [float(str(r[vinfo[0].index("Memory")])) for r in vinfo[1:]]
    assert [a["asset_name"] for a in assets] == names
    assert [(a["sheet_name"], a["row_number"]) for a in assets] == [
        ("vInfo", n) for n in range(2, len(names) + 2)
    ]
    assert [a["memory_gb"] for a in assets] == pytest.approx([m / 1024 for m in memory_mib])
    assert {a["cpu_sockets"] for a in assets} == {2}
    assert [a["mac_address"] for a in assets] == [f"00:50:56:01:{n:02x}:00" for n in range(len(names))]
    assert {a["virtualization_platform"] for a in assets} == {"VMware ESXi 7.0.3 build-21930508"}

    # cleansing: names say the environment, OS strings are normalised (raw kept), each rule counted
    cleansed = rows(
        admin_engine,
        "SELECT asset_name, environment, os_name, os_family, custom_attributes ->> 'os_name_raw' AS os_raw"
        " FROM migration.assets WHERE master_flow_id = :m ORDER BY asset_name",
        m=run.master_flow_id,
    )
    os_column = vinfo[0].index("OS according to the configuration file")
    raw_os = {str(r[0]): str(r[os_column]) for r in vinfo[1:]}
    suffix = {"prod": "production", "test": "test"}
    expected_env = [suffix[str(c["asset_name"]).rsplit("-", 1)[1]] for c in cleansed]
    assert [c["environment"] for c in cleansed] == expected_env
    assert [c["os_raw"] for c in cleansed] == [raw_os[c["asset_name"]] for c in cleansed]
    normalised = {
        "Microsoft Windows Server 2012 R2 (64-bit)": ("Windows Server 2012 R2", "windows"),
        "Red Hat Enterprise Linux 7 (64-bit)": ("Red Hat Enterprise Linux 7", "linux"),
    }
    assert [(c["os_name"], c["os_family"]) for c in cleansed] == [normalised[c["os_raw"]] for c in cleansed]
    metrics = steps_of(admin_engine, phase_row(admin_engine, run.master_flow_id)["id"])["data_cleansing"][
        "metrics"
    ]
    assert metrics["rows"] == len(names) and metrics["rows_rejected"] == metrics["values_dropped"] == 0
    assert metrics["rules_version"] == cleansing_rules().version
    counted = metrics["rules"]
    assert counted["unit:memory_gb MiB->GiB"] == len(names)
    assert counted["os_normalise"] == len(names)
    assert counted["environment_inferred"] == counted["environment_inferred:asset_name"] == len(names)
    assert counted["ip_invalid"] == counted["mac_invalid"] == counted["fqdn_invalid"] == 0
    assert metrics["quality_gate"]["success"] is True
    assert metrics["quality_gate"]["failed"] == []

    # the dependency file: the bad row kept but invalid, listed in the errors file; the rest goes on
    assert deps["source_format"] == "connection_list"  # recognised from its headers
    assert deps["rejected_count"] == 1
    dep_raw = _raw(admin_engine, deps["id"])
    assert [(r["row_number"], r["is_valid"]) for r in dep_raw] == [(2, True), (3, False), (4, True)]
    assert dep_raw[1]["record"] == {"source": "app002-test", "destination": "web003-prod", "port": "1433"}
    assert dep_raw[1]["errors"][0]["value"] == "=cmd|' /C calc'!A0 | more"  # type: ignore[index]
    lines = _errors_file(deps["errors_file"])
    assert lines == [
        {
            "file": str(dependencies),
            "sheet": "",
            "row": "3",
            "column": "D",
            "value": "'=cmd|' /C calc'!A0 | more",
            "reason": "row has 5 cells, the header names 3 columns",
            "severity": "row_rejected",
        }
    ]
    edges = rows(
        admin_engine,
        "SELECT s.asset_name AS source, t.asset_name AS target, d.port FROM migration.asset_dependencies d"
        " JOIN migration.assets s ON s.id = d.source_asset_id"
        " JOIN migration.assets t ON t.id = d.target_asset_id"
        " WHERE d.data_import_id = :d ORDER BY d.port",
        d=deps["id"],
    )
    assert [(e["source"], e["target"], e["port"]) for e in edges] == [
        ("web003-prod", "app002-test", 22),
        ("web000-prod", "fs001-prod", 443),
    ]


def test_inventory_csv_bad_rows_go_to_errors_file_good_rows_go_on(
    admin_engine: Engine, new_engagement: Callable[[], Engagement], tmp_path: Path
) -> None:
    """Import rejects (extra cells) and cleansing problems (no name, bad number) share one errors file;
    every row stays in raw_import_records; only the good rows become assets."""
    inventory = tmp_path / "servers.csv"
    inventory.write_bytes(
        (
            "name;os;cpu_cores;memory_gb\r\n"
            "vm-a;RHEL 8;2;4\r\n"
            'vm-b;"Windows\r\nServer 2019";4;8;EXTRA\r\n'
            ";SLES 15;2;4\r\n"
            "vm-d;Ubuntu 22.04;abc;16\r\n"
            "vm-é;Debian 12;1;2\r\n"
        ).encode("cp1252")
    )
    engagement = new_engagement()
    run = run_master(engagement, inventory=inventory, dependencies=[])
    assert run.state.is_completed(), run.state.message

    record = _imports(admin_engine, run.master_flow_id)["inventory"]
    assert record["source_format"] == "csv"
    assert record["sheets"][0]["encoding"] == "cp1252"  # type: ignore[index]
    assert record["sheets"][0]["delimiter"] == ";"  # type: ignore[index]
    assert record["row_count"] == 5
    assert record["rejected_count"] == 2
    raw = _raw(admin_engine, record["id"])
    assert [(r["row_number"], r["is_valid"]) for r in raw] == [
        (2, True),
        (3, False),
        (4, False),
        (5, True),
        (6, True),
    ]
    assert raw[1]["record"]["os"] == "Windows\r\nServer 2019"  # type: ignore[index]

    assets = rows(
        admin_engine,
        "SELECT asset_name, cpu_cores FROM migration.assets WHERE master_flow_id = :m ORDER BY asset_name",
        m=run.master_flow_id,
    )
    assert [(a["asset_name"], a["cpu_cores"]) for a in assets] == [("vm-a", 2), ("vm-d", None), ("vm-é", 1)]

    lines = _errors_file(record["errors_file"])
    assert [(x["row"], x["column"], x["value"], x["severity"]) for x in lines] == [
        ("3", "E", "EXTRA", "row_rejected"),
        ("4", "", "", "row_rejected"),
        ("5", "cpu_cores", "abc", "value_dropped"),
    ]
    assert {x["file"] for x in lines} == {str(inventory)}
    assert all(x["reason"] for x in lines)


def test_rolled_back_discovery_removes_its_errors_file(
    admin_engine: Engine, new_engagement: Callable[[], Engagement], tmp_path: Path
) -> None:
    """The errors file describes rows of an import: when a rollback removes the import, the file goes
    too (it would otherwise describe rows that no longer exist)."""
    inventory = tmp_path / "servers.csv"
    inventory.write_text("name,cpu_cores\nvm-a,2\nvm-b,abc\n", encoding="utf-8")
    engagement = new_engagement()

    run = run_master(
        engagement, inventory=inventory, dependencies=[], inject_failures={"discovery.inventory": 9}
    )

    assert run.state.is_failed()
    cleansing = steps_of(admin_engine, phase_row(admin_engine, run.master_flow_id)["id"])["data_cleansing"]
    written = cleansing["metrics"]["errors_files"]
    assert len(written) == 1  # cleansing wrote it before the inventory step failed for good
    assert not Path(written[0]).exists()
    sql = "SELECT id FROM migration.data_imports WHERE master_flow_id = :m"
    assert rows(admin_engine, sql, m=run.master_flow_id) == []
