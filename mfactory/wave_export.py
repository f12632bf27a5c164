"""Flat renderings of a wave plan: one CSV row per asset move, and a Jira-importable CSV.

Teams track waves in their tracker: the Jira file has one Epic per wave and one Task per asset
move linked to it (``Issue Id`` / ``Parent Id``, which Jira's CSV importer maps to the hierarchy),
with the wave's dates as start and due dates.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from typing import Any

from mfactory.csv_safety import inert

MOVE_COLUMNS = ("wave_number", "wave_name", "start", "end", "asset_name", "six_r_strategy", "rationale")
JIRA_COLUMNS = (
    "Issue Id", "Parent Id", "Issue Type", "Summary", "Description", "Start date", "Due date", "Labels",
)  # fmt: skip


def move_rows(plan: dict[str, Any]) -> Iterator[dict[str, Any]]:
    for wave in plan["waves"]:
        for asset in wave["assets"]:
            yield {
                "wave_number": wave["number"],
                "wave_name": wave["name"],
                "start": wave["start"],
                "end": wave["end"],
                **asset,
            }


def jira_rows(plan: dict[str, Any]) -> Iterator[dict[str, Any]]:
    crossing_by_wave: dict[int, int] = {}
    for dep in plan["cross_wave_dependencies"]:
        crossing_by_wave[dep["source_wave"]] = crossing_by_wave.get(dep["source_wave"], 0) + 1
    issue = 0
    for wave in plan["waves"]:
        issue += 1
        epic = issue
        strategies = sorted({a["six_r_strategy"] for a in wave["assets"] if a["six_r_strategy"]})
        yield {
            "Issue Id": epic,
            "Parent Id": "",
            "Issue Type": "Epic",
            "Summary": f"{wave['name']}: migrate {len(wave['assets'])} asset(s)",
            "Description": (
                f"Wave {wave['number']} from {wave['start']} to {wave['end']}. "
                f"Strategies: {', '.join(strategies) or 'none'}. "
                f"Dependencies to other waves: {crossing_by_wave.get(wave['number'], 0)}."
            ),
            "Start date": wave["start"] or "",
            "Due date": wave["end"] or "",
            "Labels": f"migration-wave-{wave['number']}",
        }
        for asset in wave["assets"]:
            issue += 1
            yield {
                "Issue Id": issue,
                "Parent Id": epic,
                "Issue Type": "Task",
                "Summary": f"{asset['six_r_strategy'] or 'assess'} {asset['asset_name']}",
                "Description": asset["rationale"] or "",
                "Start date": wave["start"] or "",
                "Due date": wave["end"] or "",
                "Labels": f"migration-wave-{wave['number']} {asset['six_r_strategy'] or 'unassessed'}",
            }


def to_csv(rows: Iterator[dict[str, Any]], columns: tuple[str, ...]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(columns), lineterminator="\n")
    writer.writeheader()
    writer.writerows({k: inert(v) for k, v in row.items()} for row in rows)
    return out.getvalue()
