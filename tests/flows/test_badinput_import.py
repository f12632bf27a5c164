"""A few files of the bad-input corpus through the real discovery phase (real PostgreSQL, real Prefect).

Refused files end the phase RolledBack with the file named in the message, and leave the tenant's
tables byte-identical to before; partially bad files import their good rows as assets, keep every
row in raw_import_records and list the rejected ones in the errors file; hostile values (formulas,
SQL) are stored verbatim and nothing else happens.
"""

from __future__ import annotations

import csv
from collections.abc import Callable
from pathlib import Path

import pytest
from prefect import get_client
from sqlalchemy import Engine

from tests.badinput_corpus import CASES, FORMULAS, SQL_STRINGS, Case
from tests.flows.test_master_discovery import (
    SAMPLE_ROWS,
    Engagement,
    phase_row,
    rows,
    run_master,
    steps_of,
    tenant_checksums,
)

pytestmark = pytest.mark.usefixtures("database", "prefect_server")

REFUSED = [
    "binary-without-nul",
    "mixed-utf8-and-cp1252",
    "nul-after-64k",
    "xlsx-nul-escape-in-cell",
    "truncated-xlsx",
    "header-only",
    "xlsx-zip-bomb",
]


def _case(name: str) -> Case:
    return next(c for c in CASES if c.name == name)


def _inventory_import(admin_engine: Engine, master_flow_id: object) -> dict[str, object]:
    found = rows(
        admin_engine,
        "SELECT * FROM migration.data_imports WHERE master_flow_id = :m AND source_kind = 'inventory'",
        m=master_flow_id,
    )
    assert len(found) == 1
    return found[0]


def test_refused_files_roll_back_and_leave_the_tenant_untouched(
    admin_engine: Engine, new_engagement: Callable[[], Engagement], tmp_path: Path
) -> None:
    """After a good import, each refused file fails discovery with its name in the message, is not
    retried, and the tenant's tables are byte-identical to before."""
    engagement = new_engagement()
    earlier = run_master(engagement, dependencies=[])
    assert earlier.state.is_completed(), earlier.state.message
    before = tenant_checksums(admin_engine, engagement.tenant)
    assert before["assets"][0] == SAMPLE_ROWS

    for name in REFUSED:
        folder = tmp_path / name
        folder.mkdir()
        path = _case(name).build(folder)
        run = run_master(engagement, inventory=path, dependencies=[])
        assert run.state.is_failed(), name
        assert str(path) in (run.state.message or ""), (name, run.state.message)

        phase = phase_row(admin_engine, run.master_flow_id)
        assert phase["status"] == "rolled_back", name
        with get_client(sync_client=True) as client:
            subflow = client.read_flow_run(phase["id"])
            assert subflow.state is not None and subflow.state.name == "RolledBack", name
        step = steps_of(admin_engine, phase["id"])["data_import"]
        assert step["status"] == "failed", name
        assert step["retry_count"] == 0, name  # bad input is not retried
        assert step["error"]["type"] == "ImportFormatError", (name, step["error"])

        assert tenant_checksums(admin_engine, engagement.tenant) == before, name

    # a refused dependency file next to a good inventory takes the good inventory down with it
    folder = tmp_path / "dependencies"
    folder.mkdir()
    garbage = _case("random-bytes").build(folder)
    run = run_master(engagement, dependencies=[garbage])
    assert run.state.is_failed()
    assert str(garbage) in (run.state.message or "")
    assert phase_row(admin_engine, run.master_flow_id)["status"] == "rolled_back"
    assert tenant_checksums(admin_engine, engagement.tenant) == before


def test_ten_megabyte_cell_rejects_its_row_and_the_rest_goes_on(
    admin_engine: Engine, new_engagement: Callable[[], Engagement], tmp_path: Path
) -> None:
    path = _case("ten-mb-single-cell").build(tmp_path)
    engagement = new_engagement()
    run = run_master(engagement, inventory=path, dependencies=[])
    assert run.state.is_completed(), run.state.message

    record = _inventory_import(admin_engine, run.master_flow_id)
    assert (record["row_count"], record["rejected_count"]) == (3, 1)
    raw = rows(
        admin_engine,
        "SELECT row_number, is_valid, length(record::text) AS size FROM migration.raw_import_records"
        " WHERE data_import_id = :d ORDER BY row_number",
        d=record["id"],
    )
    assert [(r["row_number"], r["is_valid"]) for r in raw] == [(2, True), (3, False), (4, True)]
    assets = rows(
        admin_engine,
        "SELECT asset_name FROM migration.assets WHERE master_flow_id = :m ORDER BY asset_name",
        m=run.master_flow_id,
    )
    assert [a["asset_name"] for a in assets] == ["vm-a", "vm-b"]
    with Path(str(record["errors_file"])).open(newline="", encoding="utf-8") as handle:
        lines = list(csv.DictReader(handle))
    assert [(x["row"], x["column"], x["severity"]) for x in lines] == [("3", "memory_gb", "row_rejected")]
    assert "10,485,760 characters" in lines[0]["reason"]
    assert lines[0]["file"] == str(path)


def test_formulas_and_sql_strings_are_stored_verbatim(
    admin_engine: Engine, new_engagement: Callable[[], Engagement], tmp_path: Path
) -> None:
    """Hostile names are data: every row becomes an asset named exactly as in the file, and the
    database is otherwise unharmed (the SQL strings would drop or empty the assets table)."""
    folder = tmp_path / "hostile"
    folder.mkdir()
    formulas = _case("formula-injection").build(folder)
    sql = folder / "sql.csv"
    sql.write_bytes(_case("sql-strings").build(tmp_path).read_bytes())
    engagement = new_engagement()
    for path, names in ((formulas, FORMULAS), (sql, SQL_STRINGS)):
        run = run_master(engagement, inventory=path, dependencies=[])
        assert run.state.is_completed(), run.state.message
        assets = rows(
            admin_engine,
            "SELECT asset_name FROM migration.assets WHERE master_flow_id = :m",
            m=run.master_flow_id,
        )
        assert sorted(a["asset_name"] for a in assets) == sorted(names)
    assert tenant_checksums(admin_engine, engagement.tenant)["assets"][0] == len(FORMULAS) + len(SQL_STRINGS)


def test_mixed_units_convert_per_value_and_unparseable_sizes_are_listed(
    admin_engine: Engine, new_engagement: Callable[[], Engagement], tmp_path: Path
) -> None:
    """Sizes pasted from several exports (GB, MB, MiB, TB in one column) land in GiB; what is not a
    size stays in the raw record and is listed in the errors file; every row becomes an asset."""
    path = tmp_path / "servers.csv"
    path.write_text(
        "name,os,memory_gb,storage_gb\n"
        "vm-a,RHEL 8,4 GB,100 GB\n"
        "vm-b,RHEL 8,4096 MB,102400 MiB\n"
        "vm-c,RHEL 8,8GiB,1 TB\n"
        "vm-d,RHEL 8,lots,-5\n",
        encoding="utf-8",
    )
    engagement = new_engagement()
    run = run_master(engagement, inventory=path, dependencies=[])
    assert run.state.is_completed(), run.state.message
    assets = rows(
        admin_engine,
        "SELECT asset_name, memory_gb, storage_gb FROM migration.assets WHERE master_flow_id = :m"
        " ORDER BY asset_name",
        m=run.master_flow_id,
    )
    assert [(a["asset_name"], a["memory_gb"], a["storage_gb"]) for a in assets] == [
        ("vm-a", 4.0, 100.0),
        ("vm-b", 4.0, 100.0),
        ("vm-c", 8.0, 1024.0),
        ("vm-d", None, None),
    ]
    record = _inventory_import(admin_engine, run.master_flow_id)
    with Path(str(record["errors_file"])).open(newline="", encoding="utf-8") as handle:
        lines = list(csv.DictReader(handle))
    assert sorted((x["row"], x["column"], x["value"], x["severity"]) for x in lines) == [
        ("5", "memory_gb", "lots", "value_dropped"),
        ("5", "storage_gb", "'-5", "value_dropped"),  # made inert for spreadsheets
    ]
