"""Builders of realistic vendor exports for tests, from the labelled header layouts in shared/.

The header rows of ``shared/data/mapping/*.csv`` are real vendor layouts (values synthetic);
the builders here write small files in those layouts - RVTools workbooks with several tabs,
Google Migration Center table bundles, CMDB and dependency exports - into a test's tmp_path.
"""

from __future__ import annotations

import csv
import io
import zipfile
from pathlib import Path

from openpyxl import Workbook

from mfactory.settings import PROJECT_ROOT

# The labelled vendor layouts live in shared/, beside the repository (as in CI).
MAPPING_DIR = PROJECT_ROOT.parent / "shared" / "data" / "mapping"

VENDOR_FILES = {
    "rvtools": "rvtools_vinfo.csv",
    "aws_migration_hub": "aws_migration_hub_template.csv",
    "azure_migrate": "azure_migrate_import.csv",
    "google_migration_center": "google_mc_vminfo.csv",
}


def vendor_rows(fmt: str, rows: int = 5) -> list[list[str]]:
    """Header and the first ``rows`` data rows of a labelled vendor file."""
    with (MAPPING_DIR / VENDOR_FILES[fmt]).open(newline="", encoding="utf-8") as handle:
        return [r for _, r in zip(range(rows + 1), csv.reader(handle), strict=False)]


def csv_text(rows: list[list[str]], delimiter: str = ",") -> str:
    out = io.StringIO(newline="")
    csv.writer(out, delimiter=delimiter, lineterminator="\r\n").writerows(rows)
    return out.getvalue()


VM_TAIL = ["VM ID", "VM UUID"]


def _vm_keys(vinfo: list[list[str]]) -> list[tuple[str, str, str]]:
    """(VM, VM ID, VM UUID) of each vInfo row."""
    header = vinfo[0]
    at = [header.index(c) for c in ("VM", "VM ID", "VM UUID")]
    return [(r[at[0]], r[at[1]], r[at[2]]) for r in vinfo[1:]]


def rvtools_workbook(path: Path, vms: int = 4) -> dict[str, list[list[object]]]:
    """An RVTools-like workbook: vInfo (labelled layout) plus vCPU, vMemory, vDisk, vPartition,
    vNetwork, vHost, a reference tab (vSource) and a header-only tab (vUSB). Returns the sheets.

    The first VM has two disks, two partitions and two NICs; Memory is MiB as RVTools writes it.
    """
    vinfo: list[list[object]] = [list(r) for r in vendor_rows("rvtools", vms)]
    keys = _vm_keys(vinfo)  # type: ignore[arg-type]
    sheets: dict[str, list[list[object]]] = {"vInfo": vinfo}
    sheets["vCPU"] = [["VM", "Powerstate", "CPUs", "Sockets", "Cores p/s", "Shares", *VM_TAIL]] + [
        [vm, "poweredOn", 4, 2, 2, 4000, vid, uuid] for vm, vid, uuid in keys
    ]
    sheets["vMemory"] = [["VM", "Size MiB", "Consumed", "Ballooned", "Active", *VM_TAIL]] + [
        [vm, 16384, 8000, 0, 2048, vid, uuid] for vm, vid, uuid in keys
    ]
    sheets["vDisk"] = [["VM", "Disk", "Capacity MiB", "Disk Mode", "Thin", *VM_TAIL]]
    sheets["vPartition"] = [["VM", "Disk", "Capacity MiB", "Consumed MiB", "Free MiB", "Free %", *VM_TAIL]]
    sheets["vNetwork"] = [["VM", "NIC label", "Adapter", "Network", "Mac Address", "IPv4 Address", *VM_TAIL]]
    for n, (vm, vid, uuid) in enumerate(keys):
        disks = 2 if n == 0 else 1
        for d in range(disks):
            sheets["vDisk"].append([vm, f"Hard disk {d + 1}", 51200, "persistent", "True", vid, uuid])
            sheets["vPartition"].append([vm, f"/dev/sd{'ab'[d]}1", 51200, 10240.5, 40959.5, 80, vid, uuid])
            sheets["vNetwork"].append(
                [
                    vm,
                    f"Network adapter {d + 1}",
                    "Vmxnet3",
                    "VLAN10",
                    f"00:50:56:01:{n:02x}:{d:02x}",
                    f"10.9.{n}.{d + 1}",
                    vid,
                    uuid,
                ]
            )
    hosts = sorted({str(r[vinfo[0].index("Host")]) for r in vinfo[1:]})
    sheets["vHost"] = [
        ["Host", "Datacenter", "Cluster", "CPU Model", "# CPU", "# Cores", "# Memory", "ESX Version"]
    ] + [
        [h, "DC1", "CL-A", "Intel Xeon Gold 6230", 2, 40, 786432, "VMware ESXi 7.0.3 build-21930508"]
        for h in hosts
    ]
    sheets["vSource"] = [
        ["Name", "OS type", "API version", "Fullname"],
        ["vc01", "linux-x64", "7.0.3", "vCenter 7"],
    ]
    sheets["vUSB"] = [["VM", "Device Node", "Device Type", *VM_TAIL]]
    book = Workbook()
    book.remove(book.active)
    for name, rows in sheets.items():
        sheet = book.create_sheet(name)
        for row in rows:
            sheet.append([_typed(v) for v in row])
    book.save(path)
    return sheets


def _typed(value: object) -> object:
    """Numbers as numbers, as RVTools writes them (the reader must turn 16384.0 back into "16384")."""
    if isinstance(value, str) and value.isdigit():
        return int(value)
    return value


GOOGLE_TABLES = {
    "diskInfo.csv": [
        ["MachineId", "DiskLabel", "SizeInGib", "UsedInGib", "StorageTypeLabel"],
        ["m-00000", "disk0", "40", "10", "SSD"],
        ["m-00000", "disk1", "100", "25.5", "HDD"],
        ["m-00001", "disk0", "500", "50", "SSD"],
    ],
    "perfInfo.csv": [
        ["MachineId", "TimeStamp", "CpuUtilizationPercentage", "MemoryUtilizationPercentage"],
        ["m-00000", "2024-01-01 00:00:00", "10", "50"],
        ["m-00000", "2024-01-01 01:00:00", "30", "70"],
        ["m-00001", "2024-01-01 00:00:00", "5", "20"],
    ],
    "tagInfo.csv": [
        ["MachineId", "Key", "Value"],
        ["m-00000", "env", "prod"],
        ["m-00000", "owner", "crm-team"],
        ["m-00002", "env", "test"],
    ],
}


def google_bundle(target: Path, *, as_zip: bool, vms: int = 3) -> Path:
    """Migration Center tables (vmInfo in the labelled layout + disk, perf and tag tables)."""
    tables = {"vmInfo.csv": vendor_rows("google_migration_center", vms), **GOOGLE_TABLES}
    if as_zip:
        with zipfile.ZipFile(target, "w") as archive:
            for name, rows in tables.items():
                archive.writestr(name, csv_text(rows))
        return target
    target.mkdir()
    for name, rows in tables.items():
        (target / name).write_text(csv_text(rows), encoding="utf-8", newline="")
    return target
