"""``mfactory map FILE --json``: the contract of ARCHITECTURE.md, exactly, and nothing imported."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from openpyxl import Workbook
from typer.testing import CliRunner

from mfactory.canonical import CANONICAL_FIELDS
from mfactory.cli import app
from mfactory.settings import PROJECT_ROOT

MAPPING_DIR = PROJECT_ROOT.parent / "shared" / "data" / "mapping"
runner = CliRunner()


def _map(path: Path) -> dict[str, object]:
    result = runner.invoke(app, ["map", str(path), "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


@pytest.mark.parametrize(
    ("name", "detected"), [("rvtools_vinfo.csv", "rvtools"), ("azure_migrate_import.csv", "azure_migrate")]
)
def test_map_json_contract_on_a_csv(name: str, detected: str) -> None:
    path = MAPPING_DIR / name
    out = _map(path)
    assert set(out) == {"format", "columns"}
    assert out["format"] == detected  # the format is recognised by content
    columns = out["columns"]
    assert isinstance(columns, list)
    header = path.read_text(encoding="utf-8").splitlines()[0].split(",")
    assert [c["source"] for c in columns] == header  # every column, in file order
    for column in columns:
        assert set(column) == {"sheet", "source", "field", "confidence"}
        assert column["sheet"] is None
        assert column["field"] is None or column["field"] in CANONICAL_FIELDS
        assert isinstance(column["confidence"], float) and 0.0 <= column["confidence"] <= 1.0
    mapped = [c["field"] for c in columns if c["field"]]
    assert len(mapped) == len(set(mapped))


def test_map_json_names_the_sheet_of_a_workbook(tmp_path: Path) -> None:
    path = tmp_path / "book.xlsx"
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "vInfo"
    sheet.append(["VM", "CPUs", "Memory"])
    sheet.append(["web01", "4", "16384"])
    workbook.save(path)
    out = _map(path)
    assert out["format"] == "xlsx"
    assert [(c["sheet"], c["source"]) for c in out["columns"]] == [
        ("vInfo", "VM"),
        ("vInfo", "CPUs"),
        ("vInfo", "Memory"),
    ]
    assert {c["source"]: c["field"] for c in out["columns"]}["Memory"] == "memory_gb"


def test_map_of_an_unreadable_file_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "twice.csv"
    path.write_text("name,name\nvm-1,vm-2\n", encoding="utf-8")
    result = runner.invoke(app, ["map", str(path), "--json"])
    assert result.exit_code == 2
    assert "twice.csv" in result.output and "duplicate" in result.output
