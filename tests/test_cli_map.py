"""``mfactory map FILE --json``: the contract of ARCHITECTURE.md, exactly, and nothing imported;
``mfactory map confirm``: answers learned for the tenant and used by the next ``map``."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import pytest
from openpyxl import Workbook
from sqlalchemy import Engine, text
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


# --- map confirm: answers become the tenant's learned patterns (real database) ----------------

ODD_HEADERS = "Moniker,Brains,Gizmo RAM,Notes\nweb01,4,16384,front end\ndb02,8,32768,orders db\n"


def _odd_file(tmp_path: Path) -> Path:
    """Headers the built-in evidence cannot place (or only doubtfully)."""
    path = tmp_path / "odd.csv"
    path.write_text(ODD_HEADERS, encoding="utf-8")
    return path


def _fields(path: Path, *tenant: str) -> dict[str, tuple[object, float]]:
    result = runner.invoke(app, ["map", str(path), "--json", *tenant])
    assert result.exit_code == 0, result.output
    return {c["source"]: (c["field"], c["confidence"]) for c in json.loads(result.stdout)["columns"]}


def _tenant_args(client: str, engagement: str = "DC exit") -> list[str]:
    return ["--client", client, "--engagement", engagement]


@pytest.mark.usefixtures("database")
def test_confirm_then_map_shows_the_confirmed_fields_from_learned_patterns(
    tmp_path: Path, admin_engine: Engine
) -> None:
    path = _odd_file(tmp_path)
    client = f"client-{uuid.uuid4().hex[:8]}"
    before = _fields(path, *_tenant_args(client))
    assert before["Moniker"][0] != "asset_name" and before["Brains"][0] != "cpu_cores"

    result = runner.invoke(
        app,
        [
            "map", "confirm", str(path), *_tenant_args(client),
            "--set", "Moniker=asset_name", "--set", "Brains=cpu_cores", "--set", "Gizmo RAM=memory_gb:MiB",
            "--user", "erin",
        ],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "3 mapping(s) learned" in result.output

    after = _fields(path, *_tenant_args(client))
    assert after["Moniker"][0] == "asset_name" and after["Moniker"][1] >= 0.9
    assert after["Brains"][0] == "cpu_cores" and after["Brains"][1] >= 0.9
    assert after["Gizmo RAM"][0] == "memory_gb" and after["Gizmo RAM"][1] >= 0.9
    assert after["Notes"] == before["Notes"]  # not answered: not learned
    # a similar file of the same tenant (header worded nearly the same) is mapped the same way
    similar = tmp_path / "similar.csv"
    similar.write_text("moniker,brains\nweb01,4\n", encoding="utf-8")
    assert _fields(similar, *_tenant_args(client))["moniker"][0] == "asset_name"
    # patterns belong to the tenant: no tenant, or another engagement, does not see them
    assert _fields(path)["Moniker"] == before["Moniker"]
    assert _fields(path, *_tenant_args(client, "other"))["Moniker"] == before["Moniker"]

    with admin_engine.connect() as conn:
        audit = conn.execute(
            text(
                "SELECT l.action, l.details ->> 'column', l.details ->> 'after', p.pattern_value"
                " FROM migration.security_audit_logs l"
                " JOIN migration.client_accounts c ON c.id = l.client_account_id"
                " JOIN migration.agent_learning_patterns p ON p.id = l.target_id"
                " WHERE c.name = :c AND l.actor = 'erin' ORDER BY 2"
            ),
            {"c": client},
        ).all()
    assert [tuple(r) for r in audit] == [
        ("mapping_override", "Brains", "cpu_cores", "cpu_cores"),
        ("mapping_confirmed", "Gizmo RAM", "memory_gb", "memory_gb"),
        ("mapping_override", "Moniker", "asset_name", "asset_name"),
    ]


@pytest.mark.usefixtures("database")
def test_confirm_accept_all_learns_the_mapped_proposals_only(tmp_path: Path, admin_engine: Engine) -> None:
    path = _odd_file(tmp_path)
    client = f"client-{uuid.uuid4().hex[:8]}"
    before = _fields(path)
    result = runner.invoke(app, ["map", "confirm", str(path), *_tenant_args(client), "--accept-all"])
    assert result.exit_code == 0, result.output
    learned = _patterns(admin_engine, client)
    assert learned == {(k.lower(), f) for k, (f, _) in before.items() if f is not None} != set()


@pytest.mark.usefixtures("database")
@pytest.mark.parametrize(
    ("answers", "message"),
    [
        (["--set", "Moniker=asset_name", "--set", "Nope=cpu_cores"], "no column ['Nope']"),
        (["--set", "Moniker=asset_nam"], "not canonical asset fields"),
        (["--set", "Gizmo RAM=memory_gb:parsecs"], "unit ['parsecs']"),
        (["--set", "Moniker"], "expected COLUMN=FIELD"),
        ([], "give --set"),
    ],
)
def test_confirm_refuses_a_wrong_answer_and_stores_nothing(
    tmp_path: Path, admin_engine: Engine, answers: list[str], message: str
) -> None:
    path = _odd_file(tmp_path)
    client = f"client-{uuid.uuid4().hex[:8]}"
    result = runner.invoke(app, ["map", "confirm", str(path), *_tenant_args(client), *answers])
    assert result.exit_code == 2
    assert message in result.output
    assert _patterns(admin_engine, client) == set()
    with admin_engine.connect() as conn:  # nor an empty client/engagement created for nothing
        created = conn.execute(
            text("SELECT count(*) FROM migration.client_accounts WHERE name = :c"), {"c": client}
        ).scalar_one()
    assert created == 0


def _patterns(admin_engine: Engine, client: str) -> set[tuple[str, str | None]]:
    with admin_engine.connect() as conn:
        found = conn.execute(
            text(
                "SELECT p.pattern_key, p.pattern_value FROM migration.agent_learning_patterns p"
                " JOIN migration.client_accounts c ON c.id = p.client_account_id WHERE c.name = :c"
            ),
            {"c": client},
        ).all()
    return {(r[0], r[1]) for r in found}
