"""Flat renderings of a wave plan (pure): asset-move CSV and Jira import CSV."""

from __future__ import annotations

import csv
import io
from typing import Any

from mfactory.wave_export import JIRA_COLUMNS, MOVE_COLUMNS, jira_rows, move_rows, to_csv

PLAN: dict[str, Any] = {
    "max_wave_size": 2,
    "waves": [
        {
            "number": 1,
            "name": "Wave 1 (pilot)",
            "start": "2027-01-04",
            "end": "2027-01-20",
            "assets": [
                {"asset_name": "web01", "six_r_strategy": "rehost", "rationale": "lift and shift"},
                {"asset_name": '=HYPERLINK("x")', "six_r_strategy": "retire", "rationale": "idle 90 days"},
            ],
        },
        {
            "number": 2,
            "name": "Wave 2",
            "start": "2027-01-25",
            "end": "2027-02-10",
            "assets": [{"asset_name": "db01", "six_r_strategy": "replatform", "rationale": "EOS OS"}],
        },
    ],
    "cross_wave_dependencies": [{"source": "web01", "target": "db01", "source_wave": 1, "target_wave": 2}],
}


def _read(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def test_move_csv_has_one_row_per_asset_with_its_wave() -> None:
    rows = _read(to_csv(move_rows(PLAN), MOVE_COLUMNS))
    assert [(r["wave_number"], r["asset_name"]) for r in rows] == [
        ("1", "web01"),
        ("1", '\'=HYPERLINK("x")'),  # inert in a spreadsheet
        ("2", "db01"),
    ]
    assert rows[2]["start"] == "2027-01-25" and rows[2]["rationale"] == "EOS OS"


def test_jira_csv_has_an_epic_per_wave_and_a_task_per_move_linked_to_it() -> None:
    rows = _read(to_csv(jira_rows(PLAN), JIRA_COLUMNS))
    epics = [r for r in rows if r["Issue Type"] == "Epic"]
    tasks = [r for r in rows if r["Issue Type"] == "Task"]
    assert [e["Summary"] for e in epics] == [
        "Wave 1 (pilot): migrate 2 asset(s)",
        "Wave 2: migrate 1 asset(s)",
    ]
    assert len(tasks) == 3
    epic_of = {e["Issue Id"]: e for e in epics}
    assert all(t["Parent Id"] in epic_of for t in tasks)
    assert {t["Summary"]: epic_of[t["Parent Id"]]["Labels"] for t in tasks}[
        "replatform db01"
    ] == "migration-wave-2"
    assert "Dependencies to other waves: 1." in epics[0]["Description"]
    assert len({r["Issue Id"] for r in rows}) == len(rows)
