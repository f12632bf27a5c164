"""Pure tests of format detection, table reading, sheet joins and unit evidence (no database, no Prefect).

Every fixture is written into tmp_path in a real vendor header layout (shared/data/mapping) and
under a misleading file name: the format must come from the content.
"""

from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest
from openpyxl import Workbook

from mfactory.errors import ImportFormatError
from tasks.discovery.attribute_mapping import ColumnMapping, map_columns
from tasks.discovery.data_cleansing import cleanse, unit_factor
from tasks.discovery.data_import import sheet_roles
from tasks.discovery.errors_file import write_errors_file
from tasks.discovery.formats import header_unit
from tasks.discovery.readers import read_source, sniff_delimiter
from tasks.discovery.sheet_joins import enrich
from tests.exports import VENDOR_FILES, csv_text, google_bundle, rvtools_workbook, vendor_rows

ENCODINGS: dict[str, Callable[[str], bytes]] = {
    "utf-8": lambda s: s.encode("utf-8"),
    "utf-8-bom": lambda s: s.encode("utf-8-sig"),
    "utf-16-le-bom": lambda s: s.encode("utf-16"),  # Python writes the BOM little-endian here
    "utf-16-be-bom": lambda s: b"\xfe\xff" + s.encode("utf-16-be"),
    "utf-16-le-no-bom": lambda s: s.encode("utf-16-le"),
    "cp1252": lambda s: s.encode("cp1252"),
}
DELIMITERS = {"comma": ",", "semicolon": ";", "tab": "\t"}


def _write(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


# --- format detection by content -----------------------------------------------------------


@pytest.mark.parametrize("encoding", list(ENCODINGS))
@pytest.mark.parametrize("delimiter", list(DELIMITERS))
@pytest.mark.parametrize("fmt", list(VENDOR_FILES))
def test_vendor_format_detected_in_every_encoding_and_delimiter(
    tmp_path: Path, fmt: str, delimiter: str, encoding: str
) -> None:
    """Each vendor layout is recognised from its header, whatever the encoding, delimiter or file name."""
    rows = vendor_rows(fmt, rows=4)
    rows[1][0] = rows[1][0] + " Zürich"  # one non-ASCII value, to make the encoding matter
    path = _write(tmp_path, "export (3).txt", ENCODINGS[encoding](csv_text(rows, DELIMITERS[delimiter])))
    source = read_source(path)
    assert source.format == fmt
    assert source.container == "csv"
    (sheet,) = source.sheets
    assert sheet.role == "assets"
    assert list(sheet.frame.columns) == rows[0]
    assert sheet.frame.index.tolist() == [2, 3, 4, 5]
    assert sheet.frame.iloc[0, 0] == rows[1][0]
    assert sheet.notes["delimiter"] == DELIMITERS[delimiter]
    expected_encoding = {
        "utf-8-bom": "utf-8-sig",
        "utf-16-le-bom": "utf-16-le",
        "utf-16-be-bom": "utf-16-be",
        "utf-16-le-no-bom": "utf-16-le",
    }.get(encoding, encoding)
    assert sheet.notes["encoding"] == expected_encoding


def test_generic_table_keeps_its_container_name(tmp_path: Path) -> None:
    """A table of no known layout is a plain csv table, every row an asset row."""
    path = _write(tmp_path, "servers.xlsx", b"name,os,ram\nvm-1,RHEL 8,4\n")  # misleading suffix
    source = read_source(path)
    assert (source.format, source.container, source.source_kind) == ("csv", "csv", None)
    assert source.sheets[0].role == "assets"


def test_rvtools_workbook_sheets_roles_and_joins(tmp_path: Path) -> None:
    """RVTools: vInfo is the asset list, vCPU, vMemory, vNetwork... enrich it, the rest is kept."""
    path = tmp_path / "inventory.csv"  # a workbook under a CSV name
    rvtools_workbook(path)
    source = read_source(path)
    assert (source.format, source.container, source.source_kind) == ("rvtools", "xlsx", "inventory")
    roles = {s.name: s.role for s in source.sheets}
    assert roles == {
        "vInfo": "assets",
        "vCPU": "enrichment",
        "vMemory": "enrichment",
        "vDisk": "enrichment",
        "vPartition": "enrichment",
        "vNetwork": "enrichment",
        "vHost": "enrichment",
        "vSource": "reference",
    }  # vUSB has a header only: nothing to import
    vinfo = source.sheet("vInfo")
    assert vinfo.frame["Memory"].tolist() == ["16384", "4096", "16384", "16384"]  # numbers back as text
    assert vinfo.frame.index.tolist() == [2, 3, 4, 5]
    meta = vinfo.metadata()
    assert meta["units"]["Memory"]["unit"] == "MiB"
    assert "implied" in meta["units"]["Memory"]["from"]
    joined = {j["sheet"]: j for j in meta["joins"]}
    assert joined["vCPU"]["on"] == ["VM UUID"]
    assert joined["vHost"]["on"] == ["Host"]
    assert "vDisk" not in joined  # vInfo already has Disks and Total disk capacity MiB: its own values win
    assert meta["columns"][: meta["source_columns"]] == list(vinfo.frame.columns)
    assert {"Sockets", "MAC Address", "ESX Version", "Partition consumed MiB"} <= set(meta["columns"])


def test_rvtools_enrichment_join_per_vm(tmp_path: Path) -> None:
    """Joined values are per VM: first MAC of two NICs, partitions summed, host version by host."""
    path = tmp_path / "rv.xlsx"
    sheets = rvtools_workbook(path)
    source = read_source(path)
    vinfo = source.sheet("vInfo")
    frame = enrich(vinfo.frame, {s.name: s.frame for s in source.sheets}, vinfo.plan.joins)  # type: ignore[union-attr]
    assert frame.index.tolist() == [2, 3, 4, 5]
    assert frame["Sockets"].tolist() == ["2"] * 4
    assert frame["MAC Address"].tolist() == [
        "00:50:56:01:00:00",
        "00:50:56:01:01:00",
        "00:50:56:01:02:00",
        "00:50:56:01:03:00",
    ]
    assert frame["Partition consumed MiB"].tolist() == ["20481", "10240.5", "10240.5", "10240.5"]
    assert set(frame["ESX Version"]) == {str(sheets["vHost"][1][-1])}
    assert frame["VM"].tolist() == vinfo.frame["VM"].tolist()  # the asset columns are untouched


def test_enrich_leaves_unmatched_assets_empty() -> None:
    """An asset with no row in the enrichment table gets "", and rows without a key join nothing."""
    assets = pd.DataFrame({"VM": ["a", "b", ""]}, index=[2, 3, 4])
    disks = pd.DataFrame({"VM": ["a", "a", ""], "Capacity MiB": ["10", "5", "99"]})
    joins = [
        {
            "sheet": "vDisk",
            "on": ["VM"],
            "sheet_on": ["VM"],
            "columns": [
                {"source": "Capacity MiB", "as": "Total", "how": "sum"},
                {"source": None, "as": "Disks", "how": "count"},
            ],
        }
    ]
    out = enrich(assets, {"vDisk": disks}, joins)
    assert out["Total"].tolist() == ["15", "", ""]
    assert out["Disks"].tolist() == ["2", "", ""]


@pytest.mark.parametrize("as_zip", [True, False], ids=["zip", "folder"])
def test_google_migration_center_tables_enrich_vminfo(tmp_path: Path, as_zip: bool) -> None:
    """Migration Center tables (zip or folder) are one import: vmInfo enriched by MachineId."""
    path = google_bundle(tmp_path / ("mc.zip" if as_zip else "mc"), as_zip=as_zip)
    source = read_source(path)
    assert (source.format, source.container) == ("google_migration_center", "bundle")
    assert {s.name: s.role for s in source.sheets} == {
        "vmInfo": "assets",
        "diskInfo": "enrichment",
        "perfInfo": "enrichment",
        "tagInfo": "enrichment",
    }
    vminfo = source.sheet("vmInfo")
    frame = enrich(vminfo.frame, {s.name: s.frame for s in source.sheets}, vminfo.plan.joins)  # type: ignore[union-attr]
    assert frame["MachineId"].tolist() == ["m-00000", "m-00001", "m-00002"]
    assert frame["Disk count"].tolist() == ["2", "1", ""]
    assert frame["CPU utilization percentage"].tolist() == ["20", "5", ""]
    assert frame["CPU peak"].tolist() == ["30", "5", ""]
    assert frame["Tags"].tolist() == ["env=prod; owner=crm-team", "", "env=test"]
    assert "TotalDiskUsedGiB" not in vminfo.plan.joined_columns  # type: ignore[union-attr]  # vmInfo has its own


@pytest.mark.parametrize(
    ("header", "rows", "fmt", "kind"),
    [
        (
            [
                "Timeslot",
                "Source server name",
                "Source application",
                "Source process",
                "Destination server name",
                "Destination IP",
                "Destination application",
                "Destination process",
                "Destination port",
            ],
            [
                [
                    "2024-01-01T00:00",
                    "web01",
                    "nginx",
                    "nginx.exe",
                    "db01",
                    "10.0.0.5",
                    "SQL",
                    "sqlservr.exe",
                    "1433",
                ]
            ],
            "azure_migrate_dependencies",
            "dependencies",
        ),
        (
            ["parent", "type", "child", "sys_id"],
            [["web01", "Depends on::Used by", "db01", "a1b2"]],
            "cmdb_relationships",
            "dependencies",
        ),
        (
            ["Parent", "Type", "Child"],
            [["app01", "Runs on::Runs", "esx01"]],
            "cmdb_relationships",
            "dependencies",
        ),
        (
            [
                "sys_id",
                "name",
                "sys_class_name",
                "ip_address",
                "os",
                "os_version",
                "cpu_count",
                "ram",
                "disk_space",
                "install_status",
                "fqdn",
            ],
            [
                [
                    "9d3f",
                    "web01",
                    "cmdb_ci_linux_server",
                    "10.0.0.1",
                    "Linux Red Hat",
                    "8.6",
                    "4",
                    "16384",
                    "120",
                    "1",
                    "web01.corp",
                ]
            ],
            "servicenow_cmdb",
            "inventory",
        ),
    ],
    ids=["azure-dependencies", "cmdb-relationships", "cmdb-relationships-labels", "servicenow-cmdb-ci"],
)
def test_dependency_and_cmdb_exports_detected(
    tmp_path: Path, header: list[str], rows: list[list[str]], fmt: str, kind: str
) -> None:
    """Azure dependency and CMDB relationship exports are dependency sources; a CMDB CI list is assets."""
    source = read_source(_write(tmp_path, "data.csv", csv_text([header, *rows]).encode()))
    assert (source.format, source.source_kind) == (fmt, kind)
    role = "dependencies" if kind == "dependencies" else "assets"
    assert source.sheets[0].role == role


@pytest.mark.parametrize("bundle", ["rvtools", "google"])
def test_every_asset_sheet_has_a_mappable_column(tmp_path: Path, bundle: str) -> None:
    """The mapping step refuses an asset sheet of which no column maps (enrichment sheets are not
    mapped on their own: their columns arrive joined onto the asset sheet)."""
    if bundle == "rvtools":
        rvtools_workbook(path := tmp_path / "rv.xlsx")
    else:
        path = google_bundle(tmp_path / "mc.zip", as_zip=True)
    asset_sheets = [s for s in read_source(path).sheets if s.role == "assets"]
    assert asset_sheets
    for sheet in asset_sheets:
        mapped = [m.field for m in map_columns(sheet.metadata()["columns"]) if m.field]
        assert mapped, f"{sheet.name}: no column maps"


def test_dependency_export_refused_as_inventory(tmp_path: Path) -> None:
    """An inventory that is a dependency export is refused with a message saying what to do."""
    path = _write(tmp_path, "inventory.csv", b"parent,child,type\nweb01,db01,Depends on\n")
    source = read_source(path)
    with pytest.raises(ImportFormatError, match="pass it as a dependency file") as info:
        sheet_roles(source, "inventory")
    assert info.value.file == str(path)
    assert sheet_roles(source, "dependencies") == ["dependencies"]


def test_rvtools_tab_without_vinfo_refused_as_inventory(tmp_path: Path) -> None:
    """A vDisk tab alone lists disks, not assets: refused, naming what was found."""
    text = "VM,Disk,Capacity MiB,Disk Mode,VM UUID\nweb01,Hard disk 1,51200,persistent,u-1\n"
    source = read_source(_write(tmp_path, "disks.csv", text.encode()))
    assert source.format == "rvtools"
    with pytest.raises(ImportFormatError, match=r"vDisk|enrichment"):
        sheet_roles(source, "inventory")


# --- units ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("header", "mb_means_mib", "unit"),
    [
        ("In Use MiB", False, "MiB"),
        ("Provisioned MB", True, "MiB"),
        ("Provisioned MB", False, "MB"),
        ("*Memory (In MB)", False, "MB"),
        ("RAM.TotalSizeInMB", False, "MB"),
        ("MemoryGiB", False, "GiB"),
        ("Disk 1 size (In GB)", False, "GB"),
        ("Disk 1 read throughput (MB per second)", False, "MB/s"),
        ("DiskReadsPerSecondInKB.Avg", False, "KB/s"),
        ("CPU.UsagePct.Avg", False, "%"),
        ("Free %", False, "%"),
        ("Memory", False, None),
        ("Mbps", False, None),
    ],
)
def test_header_unit(header: str, mb_means_mib: bool, unit: str | None) -> None:
    assert header_unit(header, mb_means_mib=mb_means_mib) == unit


def test_old_rvtools_mb_headers_carry_mib(tmp_path: Path) -> None:
    """Old RVTools writes MB for MiB: the evidence says MiB, and where it came from."""
    text = (
        "VM,Powerstate,CPUs,Memory,Provisioned MB,In Use MB,Total disk capacity MB\n"
        "web01,poweredOn,2,4096,61440,20480,51200\n"
    )
    source = read_source(_write(tmp_path, "old.csv", text.encode()))
    assert source.format == "rvtools"
    units = source.sheets[0].plan.units  # type: ignore[union-attr]
    assert units["Provisioned MB"]["unit"] == "MiB"
    assert "header says MB" in units["Provisioned MB"]["from"]
    assert units["Memory"]["unit"] == "MiB"


def test_cleanse_converts_rvtools_memory_from_implied_mib(tmp_path: Path) -> None:
    """RVTools Memory (MiB, unstated) and In Use MB become GiB; an MB alias is not converted twice."""
    text = "VM,Powerstate,CPUs,Memory,In Use MB,Total disk capacity MB\nweb01,poweredOn,2,16384,20480,51200\n"
    sheet = read_source(_write(tmp_path, "rv.csv", text.encode())).sheets[0]
    units = {c: u["unit"] for c, u in sheet.plan.units.items()}  # type: ignore[union-attr]
    mappings = map_columns(list(sheet.frame.columns))
    assets = cleanse(sheet.frame, mappings, units=units).assets
    assert assets.loc[2, "memory_gb"] == pytest.approx(16.0)
    assert assets.loc[2, "storage_used_gb"] == pytest.approx(20.0)
    assert assets.loc[2, "storage_gb"] == pytest.approx(50.0)
    without_evidence = cleanse(sheet.frame, mappings).assets
    assert without_evidence.loc[2, "memory_gb"] == pytest.approx(16384.0)  # what the evidence prevents


def test_unit_factor_prefers_the_mapping_scale() -> None:
    scaled = ColumnMapping("Memory MB", "memory_gb", 0.9, "scaled_alias", 1 / 1024)
    assert unit_factor(scaled, {"Memory MB": "MB"}) == pytest.approx(1 / 1024)
    plain = ColumnMapping("ram", "memory_gb", 0.9, "alias")
    assert unit_factor(plain, {"ram": "MB"}) == pytest.approx(1 / 1024)
    assert unit_factor(plain, {"ram": "GB"}) == 1.0
    assert unit_factor(plain, {}) == 1.0
    cores = ColumnMapping("cpus", "cpu_cores", 0.9, "alias")
    assert unit_factor(cores, {"cpus": "MB"}) == 1.0  # only size fields convert


def test_servicenow_ram_is_megabytes(tmp_path: Path) -> None:
    text = "sys_id,name,sys_class_name,os,cpu_count,ram,disk_space\n1,web01,cmdb_ci_server,Linux,4,8192,120\n"
    sheet = read_source(_write(tmp_path, "cmdb.csv", text.encode())).sheets[0]
    units = {c: u["unit"] for c, u in sheet.plan.units.items()}  # type: ignore[union-attr]
    assets = cleanse(sheet.frame, map_columns(list(sheet.frame.columns)), units=units).assets
    assert assets.loc[2, "memory_gb"] == pytest.approx(8.0)
    assert assets.loc[2, "storage_gb"] == pytest.approx(120.0)


# --- rows, row numbers and per-row rejects ---------------------------------------------------


def test_row_numbers_follow_the_file_with_multiline_cells_and_blank_rows(tmp_path: Path) -> None:
    """A multi-line cell is one row; blank rows count but are not imported."""
    text = 'name,notes\nvm-1,"line one\nline two"\n\nvm-2,x\n,\nvm-3,"a ""quoted"" word"\n'
    sheet = read_source(_write(tmp_path, "t.csv", text.encode())).sheets[0]
    assert sheet.frame.index.tolist() == [2, 4, 6]
    assert sheet.frame.loc[2, "notes"] == "line one\nline two"
    assert sheet.frame.loc[6, "notes"] == 'a "quoted" word'
    assert sheet.notes["blank_rows"] == 2


def test_title_rows_before_the_header(tmp_path: Path) -> None:
    """Report-style files with a title above the header: the header is found, row numbers stay the file's."""
    text = "Server inventory,,\nexported 2024-05-01,,\n,,\nname,os,cpu\nvm-1,RHEL,2\nvm-2,Win,4\n"
    sheet = read_source(_write(tmp_path, "t.csv", text.encode())).sheets[0]
    assert sheet.header_row == 4
    assert list(sheet.frame.columns) == ["name", "os", "cpu"]
    assert sheet.frame.index.tolist() == [5, 6]
    assert sheet.notes["preamble"] == ["Server inventory", "exported 2024-05-01"]


def test_rows_with_extra_cells_are_rejected_and_the_rest_goes_on(tmp_path: Path) -> None:
    """A row with more cells than the header is kept aside with its row, column and values."""
    text = "name;os;cpu\nvm-1;RHEL;2\nvm-2;Win;4;oops;more\nvm-3;SLES;8;\n"
    sheet = read_source(_write(tmp_path, "t.csv", text.encode())).sheets[0]
    assert sheet.frame.index.tolist() == [2, 3, 4]  # every row is kept
    assert sheet.frame.loc[3].tolist() == ["vm-2", "Win", "4"]
    rejects = sheet.rejects.to_dict("records")
    assert rejects == [
        {
            "row_number": 3,
            "column": "D",
            "value": "oops | more",
            "reason": "row has 5 cells, the header names 3 columns",
        }
    ]  # a trailing empty cell is fine


def test_short_rows_are_padded(tmp_path: Path) -> None:
    sheet = read_source(_write(tmp_path, "t.csv", b"name,os,cpu\nvm-1,RHEL\n")).sheets[0]
    assert sheet.frame.loc[2].tolist() == ["vm-1", "RHEL", ""]
    assert sheet.rejects.empty


def test_oversized_cell_rejects_its_row(tmp_path: Path) -> None:
    big = "x" * 100_000
    sheet = read_source(_write(tmp_path, "t.csv", f"name,notes\nvm-1,{big}\nvm-2,ok\n".encode())).sheets[0]
    assert sheet.frame.index.tolist() == [2, 3]
    (reject,) = sheet.rejects.to_dict("records")
    assert (reject["row_number"], reject["column"]) == (2, "notes")
    assert "100,000 characters" in reject["reason"]
    assert len(reject["value"]) < 300


def test_workbook_rows_keep_excel_row_numbers(tmp_path: Path) -> None:
    """Blank rows inside a sheet keep Excel's numbering; values right of the header reject their row."""
    book = Workbook()
    sheet = book.active
    sheet.title = "Servers"
    sheet.append(["Inventory export"])
    sheet.append(["name", "cpu", "memory_gb"])
    sheet.append(["vm-1", 2, 4.5])
    sheet.append([])
    sheet.append(["vm-2", 4, 8, "stray note"])
    path = tmp_path / "book.bin"
    book.save(path)
    (table,) = read_source(path).sheets
    assert table.header_row == 2
    assert table.frame.index.tolist() == [3, 5]
    assert table.frame.loc[3].tolist() == ["vm-1", "2", "4.5"]
    assert table.rejects[["row_number", "column", "value"]].values.tolist() == [[5, "D", "stray note"]]


def test_sniff_delimiter_prefers_consistent_splits() -> None:
    assert sniff_delimiter("a;b;c\n1,5;2;3\n4,5;6;7\n") == ";"
    assert sniff_delimiter("name\tnotes\nvm-1\tuses a, b and c\n") == "\t"
    assert sniff_delimiter("hostname\nvm-1\n") == ","


# --- malformed files ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "message", "row", "column"),
    [
        (b"", "empty", None, None),
        (b"  \r\n\r\n", "empty", None, None),
        (b"\xef\xbb\xbf", "empty", None, None),
        (b"name,os,cpu\r\n", "no data rows", 2, None),
        (b"vm-1,10.0.0.1,4\nvm-2,10.0.0.2,8\n", "no header row", 1, "B"),
        (bytes(range(256)) * 40, "binary", 1, None),
        (b'{"servers": [{"name": "vm-1"}]}', "JSON", 1, None),
        (b"<html><body><table></table></body></html>", "XML/HTML", 1, None),
        (b"%PDF-1.7 ...", "PDF", None, None),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100, ".xls", None, None),
        (b'name,notes\nvm-1,"never closed\nvm-2,x\n', "never closed", 2, None),
        (b"PK\x03\x04 not really a zip", "zip", None, None),
        (b"name,os\nvm-1,ok\nvm-2,\x81\x8d\n", "undecodable", 3, None),
        (b"name,,cpu\nvm-1,x,2\n", "empty column name", 1, "B"),
        (b"name,cpu,name\nvm-1,2,b\n", "duplicate", 1, None),
    ],
    ids=[
        "empty",
        "blank-lines",
        "bom-only",
        "header-only",
        "no-header",
        "binary",
        "json",
        "html",
        "pdf",
        "xls",
        "unclosed-quote",
        "broken-zip",
        "bad-bytes",
        "unnamed-column",
        "duplicate-columns",
    ],
)
def test_malformed_files_fail_with_file_row_column(
    tmp_path: Path, data: bytes, message: str, row: int | None, column: str | None
) -> None:
    path = _write(tmp_path, "inventory.csv", data)
    with pytest.raises(ImportFormatError, match=message) as info:
        read_source(path)
    assert info.value.file == str(path)
    assert info.value.row == row
    assert info.value.column == column


def test_zip_of_unreadable_members_names_the_member(tmp_path: Path) -> None:
    path = tmp_path / "bundle.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("vmInfo.csv", "MachineId,MachineName\nm-1,vm-1\n")
        archive.writestr("broken.csv", "")
    with pytest.raises(ImportFormatError, match="empty") as info:
        read_source(path)
    assert info.value.file == f"{path} [broken.csv]"


# --- errors file ----------------------------------------------------------------------------------


def test_errors_file_columns_and_formula_injection(tmp_path: Path) -> None:
    """The errors CSV says file, sheet, row, column, value, reason; formulas are made inert."""
    problems = pd.DataFrame(
        {
            "sheet_name": ["", ""],
            "row_number": [7, 3],
            "column": ["cpu", "D"],
            "value": ["=cmd|' /C calc'!A0", "4"],
            "reason": ["not a non-negative number", "row has 4 cells, the header names 3 columns"],
            "severity": ["value_dropped", "row_rejected"],
        }
    )
    path = write_errors_file(path=tmp_path / "e.csv", source_name="in.csv", problems=problems)
    rows = list(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8"))))
    assert list(rows[0]) == ["file", "sheet", "row", "column", "value", "reason", "severity"]
    assert [r["row"] for r in rows] == ["3", "7"]
    assert rows[1]["value"] == "'=cmd|' /C calc'!A0"
    assert rows[0]["file"] == "in.csv"
