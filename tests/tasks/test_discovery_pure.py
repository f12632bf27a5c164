"""Pure unit tests of discovery's reader, column mapper and cleanser (no database, no Prefect)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest
from openpyxl import Workbook

from mfactory.errors import ImportFormatError
from mfactory.settings import PROJECT_ROOT
from tasks.discovery.attribute_mapping import ColumnMapping, map_columns
from tasks.discovery.data_cleansing import ROW_REJECTED, VALUE_DROPPED, cleanse, parse_tags
from tasks.discovery.readers import read_source

# The labelled vendor layouts live in shared/, beside the repository (as in CI).
MAPPING_DIR = PROJECT_ROOT.parent / "shared" / "data" / "mapping"
TEXT = "name,os,notes\nvm-1,Windows Server 2019,Zürich café\nvm-2,RHEL 8,plain\n"


def _only_frame(path: Path) -> pd.DataFrame:
    source = read_source(path)
    assert source.format == "csv"
    assert len(source.sheets) == 1
    return source.sheets[0].frame


def _assert_text_sample(frame: pd.DataFrame) -> None:
    assert list(frame.columns) == ["name", "os", "notes"]
    assert frame["name"].tolist() == ["vm-1", "vm-2"]
    assert frame.loc[2, "notes"] == "Zürich café"  # index = file row numbers


# --- readers.read_source -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("label", "encode"),
    [
        ("utf-8", lambda s: s.encode("utf-8")),
        ("utf-8-bom", lambda s: s.encode("utf-8-sig")),
        ("utf-16", lambda s: s.encode("utf-16")),
        ("utf-16-be", lambda s: b"\xfe\xff" + s.encode("utf-16-be")),
        ("cp1252", lambda s: s.encode("cp1252")),
    ],
)
def test_read_source_encodings(tmp_path: Path, label: str, encode: Callable[[str], bytes]) -> None:
    """Text files in UTF-8, UTF-8 with BOM, UTF-16 and cp1252 all decode to the same table."""
    path = tmp_path / f"{label}.csv"
    path.write_bytes(encode(TEXT))
    frame = _only_frame(path)
    _assert_text_sample(frame)
    assert not frame.columns[0].startswith("\ufeff")


@pytest.mark.parametrize("delimiter", [";", "\t"])
def test_read_source_delimiters(tmp_path: Path, delimiter: str) -> None:
    """Semicolon- and tab-separated files are detected from the content, whatever the file name."""
    path = tmp_path / "export.csv"
    path.write_text(TEXT.replace(",", delimiter), encoding="utf-8")
    _assert_text_sample(_only_frame(path))


def test_read_source_values_stay_strings(tmp_path: Path) -> None:
    """Every value stays a string (no numeric typing, no NaN for blanks)."""
    path = tmp_path / "numbers.csv"
    path.write_text("name,cpu,memory\nvm-1,04,\nvm-2,8,16.50\n", encoding="utf-8")
    frame = _only_frame(path)
    assert frame["cpu"].tolist() == ["04", "8"]
    assert frame["memory"].tolist() == ["", "16.50"]


def test_read_source_quoted_multiline_cell(tmp_path: Path) -> None:
    """A quoted cell spanning two lines stays one cell of one row."""
    path = tmp_path / "multiline.csv"
    path.write_text('name,description\nvm-1,"line one\nline two, with comma"\nvm-2,short\n', encoding="utf-8")
    frame = _only_frame(path)
    assert len(frame) == 2
    assert frame.loc[2, "description"] == "line one\nline two, with comma"
    assert frame.loc[3, "name"] == "vm-2"


def test_read_source_xlsx_two_sheets(tmp_path: Path) -> None:
    """A workbook (detected by content, even named .csv) gives one string frame per sheet."""
    book = Workbook()
    first = book.active
    first.title = "vInfo"
    first.append(["VM", "CPUs", "Memory"])
    first.append(["web01", 4, 8192])
    first.append(["db01", 8, 16384])
    second = book.create_sheet("vHost")
    second.append(["Host", "Cluster"])
    second.append(["esx01", "CL-A"])
    path = tmp_path / "rvtools-export.csv"  # misleading suffix on purpose
    book.save(path)

    source = read_source(path)
    assert source.format == "xlsx"
    assert [s.name for s in source.sheets] == ["vInfo", "vHost"]
    vinfo, vhost = (s.frame for s in source.sheets)
    assert list(vinfo.columns) == ["VM", "CPUs", "Memory"]
    assert vinfo["VM"].tolist() == ["web01", "db01"]
    assert vinfo["CPUs"].tolist() == ["4", "8"]
    assert vhost.to_dict("records") == [{"Host": "esx01", "Cluster": "CL-A"}]


def test_read_source_sha256_is_of_the_bytes(tmp_path: Path) -> None:
    """The recorded sha256 is the file's content hash (same bytes, same hash)."""
    a, b = tmp_path / "a.csv", tmp_path / "b.csv"
    a.write_text(TEXT, encoding="utf-8")
    b.write_text(TEXT, encoding="utf-8")
    assert read_source(a).sha256 == read_source(b).sha256
    assert len(read_source(a).sha256) == 64


def test_read_source_empty_file(tmp_path: Path) -> None:
    """An empty file is an ImportFormatError that names the file."""
    path = tmp_path / "empty.csv"
    path.write_bytes(b"")
    with pytest.raises(ImportFormatError) as info:
        read_source(path)
    assert info.value.file == str(path)
    assert str(path) in str(info.value)
    assert "empty" in str(info.value)


def test_read_source_missing_file(tmp_path: Path) -> None:
    """A path that does not exist is an ImportFormatError that names it."""
    path = tmp_path / "nope.csv"
    with pytest.raises(ImportFormatError) as info:
        read_source(path)
    assert str(path) in str(info.value)


def test_read_source_duplicate_header(tmp_path: Path) -> None:
    """A header naming one column twice is an ImportFormatError naming the file and the column."""
    path = tmp_path / "dup.csv"
    path.write_text("name,cpu,name\nvm-1,2,vm-1b\n", encoding="utf-8")
    with pytest.raises(ImportFormatError) as info:
        read_source(path)
    assert info.value.file == str(path)
    assert "duplicate" in str(info.value)
    assert "name" in str(info.value)


def test_read_source_blank_header(tmp_path: Path) -> None:
    """A header with an empty column name is an ImportFormatError at row 1."""
    path = tmp_path / "blank.csv"
    path.write_text("name,,cpu\nvm-1,x,2\n", encoding="utf-8")
    with pytest.raises(ImportFormatError) as info:
        read_source(path)
    assert info.value.row == 1
    assert str(path) in str(info.value)


# --- attribute_mapping.map_columns -------------------------------------------------------


def _truth() -> dict[str, dict[str, str | None]]:
    spec = json.loads((MAPPING_DIR / "truth.json").read_text(encoding="utf-8"))
    return {f["path"]: f["truth"] for f in spec["files"]}


def _score(path: str) -> tuple[list[tuple[str, str | None, str | None]], int, int]:
    """(wrong mappings as (column, got, expected), correct mapped count, truth-mapped count)."""
    truth = _truth()[path]
    headers = list(read_source(MAPPING_DIR / path).sheets[0].frame.columns)
    assert set(headers) == set(truth), f"{path}: truth.json does not list the file's columns"
    mappings = map_columns(headers)
    wrong = [(m.source, m.field, truth[m.source]) for m in mappings if m.field and m.field != truth[m.source]]
    correct = sum(1 for m in mappings if m.field and m.field == truth[m.source])
    expected = sum(1 for v in truth.values() if v)
    return wrong, correct, expected


def test_map_columns_one_mapping_per_header_and_field_taken_once() -> None:
    """Every header gets one mapping, in order; a canonical field is taken by at most one column."""
    headers = ["Name", "hostname", "Host", "Memory (MB)", "RAM", "whatever"]
    mappings = map_columns(headers)
    assert [m.source for m in mappings] == headers
    fields = [m.field for m in mappings if m.field]
    assert len(fields) == len(set(fields))
    by_source = {m.source: m for m in mappings}
    assert by_source["Name"].field == "asset_name"
    assert by_source["hostname"].field == "hostname"
    assert by_source["hostname"].method == "exact"
    assert by_source["hostname"].confidence >= 0.8
    assert by_source["Memory (MB)"].field == "memory_gb"
    assert by_source["Memory (MB)"].unit == "MB"
    assert by_source["Memory (MB)"].scale == pytest.approx(1 / 1024)
    assert by_source["RAM"].field is None  # memory_gb already taken ...
    assert by_source["RAM"].needs_review  # ... but RAM plausibly is memory: a person should look
    whatever = by_source["whatever"]
    assert (whatever.field, whatever.method, whatever.needs_review) == (None, "unmapped", False)
    assert isinstance(whatever, ColumnMapping)


def test_map_columns_rvtools_precision() -> None:
    """On RVTools vInfo every column the mapper maps is mapped to the right canonical field."""
    wrong, correct, expected = _score("rvtools_vinfo.csv")
    print(f"rvtools_vinfo.csv: recall {correct}/{expected}, wrong {wrong}")
    assert wrong == [], f"wrongly mapped columns (column, got, expected): {wrong}"


@pytest.mark.parametrize(
    "path", ["aws_migration_hub_template.csv", "azure_migrate_import.csv", "google_mc_vminfo.csv"]
)
def test_map_columns_vendor_templates_report(path: str) -> None:
    """The other vendor templates map at least one column; precision and recall are printed."""
    wrong, correct, expected = _score(path)
    print(f"{path}: recall {correct}/{expected}, wrong {wrong}")
    assert correct >= 1


# --- data_cleansing.cleanse --------------------------------------------------------------


def _frame(rows: list[dict[str, str]]) -> pd.DataFrame:
    """String frame indexed by file row numbers (row 1 is the header), as the import step builds it."""
    frame = pd.DataFrame(rows, dtype=str)
    frame.index = range(2, len(frame) + 2)
    return frame


def test_cleanse_scales_megabytes_to_gib() -> None:
    """A memory column in MB becomes memory_gb (MB / 1024); a GiB column stays as it is."""
    frame = _frame(
        [
            {"VM": "web01", "Memory MB": "16384", "Disk GB": "100"},
            {"VM": "web02", "Memory MB": "1536", "Disk GB": "40.5"},
        ]
    )
    out = cleanse(frame, map_columns(list(frame.columns))).assets
    assert out["memory_gb"].tolist() == pytest.approx([16.0, 1.5])
    assert out["storage_gb"].tolist() == pytest.approx([100.0, 40.5])


def test_cleanse_bad_numbers_reported_with_row_and_column() -> None:
    """A non-numeric or negative value is dropped to NULL and reported (row, column, value_dropped)."""
    frame = _frame(
        [
            {"name": "a", "cpu_cores": "4", "memory_gb": "8"},
            {"name": "b", "cpu_cores": "abc", "memory_gb": "8"},
            {"name": "c", "cpu_cores": "2", "memory_gb": "-1"},
            {"name": "d", "cpu_cores": "", "memory_gb": "12,5"},
        ]
    )
    result = cleanse(frame, map_columns(list(frame.columns)))
    assets = result.assets
    assert assets.loc[2, "cpu_cores"] == 4
    assert pd.isna(assets.loc[3, "cpu_cores"])
    assert pd.isna(assets.loc[4, "memory_gb"])
    assert pd.isna(assets.loc[5, "cpu_cores"])  # blank is missing, not an error
    assert assets.loc[5, "memory_gb"] == pytest.approx(12.5)  # decimal comma
    problems = result.problems.sort_values("row_number").to_dict("records")
    assert [(p["row_number"], p["column"], p["value"], p["severity"]) for p in problems] == [
        (3, "cpu_cores", "abc", VALUE_DROPPED),
        (4, "memory_gb", "-1", VALUE_DROPPED),
    ]
    assert all(p["reason"] for p in problems)
    assert len(assets) == 4  # bad values do not reject the row


def test_cleanse_nameless_row_rejected() -> None:
    """A row with no name, hostname, FQDN or id is rejected (row_rejected) and not an asset."""
    frame = _frame(
        [
            {"name": "a", "fqdn": "", "ip": "10.0.0.1"},
            {"name": "", "fqdn": "", "ip": "10.0.0.2"},
            {"name": "", "fqdn": "c.corp.example.com", "ip": "10.0.0.3"},
        ]
    )
    result = cleanse(frame, map_columns(list(frame.columns)))
    assert result.assets.index.tolist() == [2, 4]
    assert result.assets.loc[4, "asset_name"] == "c.corp.example.com"
    assert result.assets.loc[4, "hostname"] == "c"
    rejected = result.problems[result.problems["severity"] == ROW_REJECTED]
    assert rejected["row_number"].tolist() == [3]


def test_cleanse_vocabularies() -> None:
    """Environment, type, criticality and power words are normalised; unknown values fall back or report."""
    frame = _frame(
        [
            {"name": "a", "env": "prod", "type": "VM", "criticality": "Tier 1", "powerstate": "poweredOn"},
            {"name": "b", "env": "UAT", "type": "db", "criticality": "low", "powerstate": "poweredOff"},
            {"name": "c", "env": "Dev", "type": "", "criticality": "", "powerstate": ""},
            {"name": "d", "env": "moonbase", "type": "toaster", "criticality": "meh", "powerstate": "on"},
        ]
    )
    result = cleanse(frame, map_columns(list(frame.columns)))
    assets = result.assets
    assert assets["environment"].tolist() == ["production", "test", "development", "other"]
    assert assets["asset_type"].tolist() == ["virtual_machine", "database", "server", "other"]
    assert assets.loc[2, "business_criticality"] == "critical"
    assert assets.loc[3, "business_criticality"] == "low"
    assert assets["power_state"].tolist()[:2] == ["on", "off"]
    reported = result.problems[result.problems["severity"] == VALUE_DROPPED]
    assert reported[["row_number", "column"]].values.tolist() == [[5, "criticality"]]


def test_cleanse_tags_parsed() -> None:
    """A tags column becomes a dict; key:value and key=value pairs, bare words as true."""
    frame = _frame(
        [
            {"name": "a", "tags": "env:prod; owner=ops; legacy"},
            {"name": "b", "tags": ""},
        ]
    )
    assets = cleanse(frame, map_columns(list(frame.columns))).assets
    assert assets.loc[2, "tags"] == {"env": "prod", "owner": "ops", "legacy": "true"}
    assert assets.loc[3, "tags"] is None
    assert parse_tags("a=1|b:2,c") == {"a": "1", "b": "2", "c": "true"}
    assert parse_tags(" ; ") is None


def test_cleanse_os_family_derived_from_os_name() -> None:
    """os_family is derived from os_name when absent, and a given os_family wins."""
    frame = _frame(
        [
            {"name": "a", "os": "Microsoft Windows Server 2019 (64-bit)"},
            {"name": "b", "os": "Red Hat Enterprise Linux 7 (64-bit)"},
            {"name": "c", "os": "IBM AIX 7.2"},
            {"name": "d", "os": "Plan 9"},
            {"name": "e", "os": ""},
        ]
    )
    assets = cleanse(frame, map_columns(list(frame.columns))).assets
    assert assets["os_family"].tolist()[:3] == ["windows", "linux", "unix"]
    assert pd.isna(assets.loc[5, "os_family"])
    assert pd.isna(assets.loc[6, "os_family"])

    given = _frame([{"name": "a", "os": "Ubuntu 22.04", "os_family": "other"}])
    assert cleanse(given, map_columns(list(given.columns))).assets.loc[2, "os_family"] == "other"


def test_cleanse_unmapped_columns_kept_as_custom_attributes() -> None:
    """Columns with no canonical field are kept per row in custom_attributes; lineage columns are set."""
    frame = _frame([{"name": "a", "Cost Center": "CC-1"}, {"name": "b", "Cost Center": ""}])
    assets = cleanse(frame, map_columns(list(frame.columns)), sheet_name="vInfo").assets
    assert assets.loc[2, "custom_attributes"] == {"Cost Center": "CC-1"}
    assert assets.loc[3, "custom_attributes"] is None
    assert assets["row_number"].tolist() == [2, 3]
    assert set(assets["sheet_name"]) == {"vInfo"}
