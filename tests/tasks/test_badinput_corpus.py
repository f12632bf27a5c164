"""Every file of the bad-input corpus gets a clear ImportFormatError or is read with nothing lost.

Pure: the readers only, no database or Prefect (the flow tests run a few of these end to end).
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from pathlib import Path

import pandas as pd
import pytest

from mfactory.errors import ImportFormatError
from tasks.discovery import readers
from tasks.discovery.attribute_mapping import ColumnMapping
from tasks.discovery.data_cleansing import cleanse
from tasks.discovery.errors_file import write_errors_file
from tasks.discovery.readers import MAX_CELL_CHARS, MAX_COLUMNS, read_source
from tests.badinput_corpus import BIG_CELL_CHARS, CASES, Case, _good_xlsx_bytes, _zip_bomb_xlsx


def test_corpus_is_large_and_names_are_unique() -> None:
    assert len(CASES) >= 30
    assert len({c.name for c in CASES}) == len(CASES)


@pytest.mark.parametrize("case", [c for c in CASES if c.error], ids=lambda c: c.name)
def test_refused_files_name_file_row_and_column(tmp_path: Path, case: Case) -> None:
    path = case.build(tmp_path)
    # pytest.raises lets any other exception type escape: that fails the test as a crash
    with pytest.raises(ImportFormatError) as info:
        read_source(path)
    error, message = info.value, str(info.value)
    assert re.search(case.error or "", message), message
    expected_file = str(path) if case.sheet_in_file is None else f"{path} [{case.sheet_in_file}]"
    assert error.file == expected_file
    assert message.startswith(expected_file)
    assert error.row == case.row
    assert error.column == case.column
    if case.row is not None:
        assert f"row {case.row}" in message
    if case.column is not None:
        assert f"column {case.column!r}" in message


@pytest.mark.parametrize("case", [c for c in CASES if not c.error], ids=lambda c: c.name)
def test_readable_files_keep_every_row_and_list_rejects(tmp_path: Path, case: Case) -> None:
    source = read_source(case.build(tmp_path))
    assert len(source.sheets) == 1
    sheet = source.sheets[0]
    assert tuple(sheet.frame.index) == case.rows  # every data row kept, with its file row number
    assert tuple(sorted(set(sheet.rejects["row_number"]))) == case.rejected
    assert all(sheet.rejects["reason"].astype(bool))
    for (row, column), value in case.values.items():
        assert sheet.frame.at[row, column] == value


def test_ten_megabyte_cell_is_rejected_with_its_column_and_size(tmp_path: Path) -> None:
    case = next(c for c in CASES if c.name == "ten-mb-single-cell")
    sheet = read_source(case.build(tmp_path)).sheets[0]
    reject = sheet.rejects.iloc[0]
    assert (reject["row_number"], reject["column"]) == (3, "memory_gb")
    assert f"{BIG_CELL_CHARS:,} characters" in reject["reason"]
    assert f"{MAX_CELL_CHARS:,}" in reject["reason"]
    assert len(reject["value"]) < 300  # the errors file gets a prefix, not 10 MB


def test_thousand_columns_all_kept(tmp_path: Path) -> None:
    case = next(c for c in CASES if c.name == "thousand-columns")
    sheet = read_source(case.build(tmp_path)).sheets[0]
    assert sheet.frame.shape == (5, 1000)
    assert sheet.metadata()["source_columns"] == 1000


def test_more_columns_than_the_stage_can_hold_is_refused_at_the_header(tmp_path: Path) -> None:
    path = tmp_path / "wide.csv"
    header = [f"c{i}" for i in range(MAX_COLUMNS + 1)]
    path.write_text(",".join(header) + "\n" + ",".join("x" for _ in header) + "\n", encoding="utf-8")
    with pytest.raises(ImportFormatError, match=f"{MAX_COLUMNS + 1:,} columns") as info:
        read_source(path)
    assert (info.value.row, info.value.column) == (1, readers._column_letter(MAX_COLUMNS + 1))


def test_a_workbook_over_the_unpacked_size_limit_is_refused_before_it_is_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "inventory.xlsx"
    path.write_bytes(_good_xlsx_bytes())
    assert len(read_source(path).sheets[0].frame) == 100  # within the limits: read as usual
    monkeypatch.setattr(readers, "MAX_UNPACKED_BYTES", 4096)
    with pytest.raises(ImportFormatError, match=r"unpacks to .* bytes \(limit 4,096\)") as info:
        read_source(path)
    assert info.value.file == str(path)


def test_a_zip_bomb_inside_a_bundle_is_refused_naming_the_member(tmp_path: Path) -> None:
    bomb = _zip_bomb_xlsx(tmp_path).read_bytes()
    bundle = tmp_path / "export.zip"
    with zipfile.ZipFile(bundle, "w") as archive:  # stored: the bundle itself looks harmless
        archive.writestr("vmInfo.csv", "MachineId,MachineName\nm-1,vm-1\n")
        archive.writestr("servers.xlsx", bomb)
    with pytest.raises(ImportFormatError, match="zip bomb") as info:
        read_source(bundle)
    assert info.value.file == f"{bundle} [servers.xlsx]"


def test_mixed_units_convert_per_value_and_the_rest_is_reported(tmp_path: Path) -> None:
    """A size column whose values carry their own units converts each by its unit; a bare number
    takes the column's unit; what is not a size is reported, not silently dropped."""
    case = next(c for c in CASES if c.name == "mixed-units")
    sheet = read_source(case.build(tmp_path)).sheets[0]
    mappings = [
        ColumnMapping("name", "asset_name", 1.0, "alias"),
        ColumnMapping("memory", "memory_gb", 0.9, "alias"),
        ColumnMapping("disk", "storage_gb", 0.9, "alias"),
    ]
    result = cleanse(sheet.frame, mappings, units={"memory": "MiB"})
    assert result.assets["memory_gb"].tolist()[:3] == pytest.approx([4.0, 4.0, 8.0])
    assert pd.isna(result.assets["memory_gb"].iloc[3])
    assert result.assets["storage_gb"].tolist()[:3] == pytest.approx([100.0, 100.0, 1024.0])
    problems = result.problems.sort_values(["row_number", "column"])
    assert list(zip(problems["row_number"], problems["column"], problems["value"], strict=True)) == [
        (5, "disk", "-5"),
        (5, "memory", "lots"),
    ]


def test_errors_file_makes_sheet_and_file_names_inert(tmp_path: Path) -> None:
    """Sheet and member names come from the client's file too: a name like ``=cmd|...`` is not run."""
    problems = pd.DataFrame(
        {
            "sheet_name": ["=cmd|' /C calc'!A0"],
            "row_number": [2],
            "column": ["+name"],
            "value": ["@SUM(1)"],
            "reason": ["not a date"],
            "severity": ["value_dropped"],
        }
    )
    path = write_errors_file(path=tmp_path / "e.csv", source_name="=evil.csv", problems=problems)
    line = next(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8"))))
    assert (line["file"], line["sheet"], line["column"], line["value"]) == (
        "'=evil.csv",
        "'=cmd|' /C calc'!A0",
        "'+name",
        "'@SUM(1)",
    )
