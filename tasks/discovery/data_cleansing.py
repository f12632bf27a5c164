"""Step 3 - Data Cleansing: mapped string columns into typed, normalised canonical values, by rules.

The rules (trimming, null tokens, vocabularies, units, OS names, IP/MAC/FQDN validation,
environment inference) are data in ``mfactory/data/cleansing_rules.yaml``, applied to whole
columns (tasks/discovery/cleansing/); each counts the values it changed, and the counts are the
step's metrics. A bad cell (``"abc"`` as cores, ``999.1.1.1`` as IP) is dropped to NULL and
reported; a row that cannot be an asset at all (no name of any kind) is rejected and reported.
Both go to the errors file with file row, column, value and reason; every other row goes on.
The cleansed rows of the run then pass one Great Expectations gate (expectations/cleansed.json):
a failure fails the step, and with it the phase, before any asset is written.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import pandas as pd
from sqlalchemy.orm import Session

from db.models import DataImport
from db.repositories.imports import load_problems, mark_problems
from tasks.discovery import cleansed_memo
from tasks.discovery.asset_sheets import is_asset_sheet, sheet_frame
from tasks.discovery.attribute_mapping import stored_mappings
from tasks.discovery.cleansing.engine import (
    ROW_REJECTED,
    VALUE_DROPPED,
    Cleansed,
    cleanse,
    gate_columns,
    parse_tags,
    unit_factor,
)
from tasks.discovery.cleansing.rules import cleansing_rules
from tasks.discovery.errors_file import errors_file_path, write_errors_file
from tasks.discovery.imports_of_run import INVENTORY, run_imports
from tasks.discovery.mapping_review import apply_mapping_answers
from tasks.phases import DISCOVERY, PhaseContext
from tasks.quality import QualityGateFailed, validate_frame
from tasks.steps import step_task

__all__ = [
    "ROW_REJECTED",
    "VALUE_DROPPED",
    "Cleansed",
    "cleanse",
    "cleanse_imports",
    "cleansed_sheets",
    "data_cleansing",
    "parse_tags",
    "unit_factor",
]
GATE_SUITE = "cleansed"


# --- the step --------------------------------------------------------------------------


def cleansed_sheets(
    session: Session, ctx: PhaseContext, *, keep: bool = False
) -> list[tuple[DataImport, pd.DataFrame, Cleansed]]:
    """Cleanse every asset sheet of this run's inventory imports (shared by cleansing and inventory).

    Enrichment and reference sheets are no asset lists: their rows reach assets only through the
    columns joined onto the asset sheet. With ``keep`` (the cleansing step) the results are kept
    for the inventory step; without it (the inventory step) kept results are used where their key
    matches (tasks/discovery/cleansed_memo.py). Rows the cleansing step rejected are in the kept
    ``raw`` frame but, as in a fresh read of the valid rows, in none of the cleansed assets.
    """
    rules = cleansing_rules()
    out = []
    for data_import in run_imports(session, ctx, INVENTORY):
        mappings = stored_mappings(session, data_import.id)
        for sheet in data_import.sheets:
            if not is_asset_sheet(sheet):
                continue
            units = {column: u["unit"] for column, u in (sheet.get("units") or {}).items()}
            columns = mappings[sheet["name"]]
            key = (
                ctx.phase_flow_id,
                data_import.id,
                sheet["name"],
                (tuple(columns), tuple(sorted(units.items())), rules.version),
            )
            kept = None if keep else cleansed_memo.take(key)
            if kept is None:
                raw = sheet_frame(session, data_import, sheet)
                kept = raw, cleanse(raw, columns, sheet_name=sheet["name"], units=units, rules=rules)
            if keep:
                cleansed_memo.remember(key, *kept)
            out.append((data_import, *kept))
    if not keep:
        cleansed_memo.forget(ctx.phase_flow_id)
    return out


def gate_summary(validation: dict[str, Any]) -> dict[str, Any]:
    """The part of a validation result worth keeping in the step metrics."""
    return {
        "suite": validation["suite"],
        "success": validation["success"],
        "evaluated": validation["statistics"].get("evaluated_expectations"),
        "failed": [
            {k: r[k] for k in ("expectation", "column", "unexpected_count")}
            for r in validation["results"]
            if not r["success"]
        ],
    }


def cleanse_imports(session: Session, ctx: PhaseContext) -> dict[str, Any]:
    """Apply reviewed mappings, cleanse every inventory row by the rules; attach problems, rewrite the
    errors file; then gate the cleansed rows (a failed gate raises: the phase fails and rolls back)."""
    rules = cleansing_rules()
    metrics: dict[str, Any] = {
        **apply_mapping_answers(session, ctx),
        "rows": 0,
        "rows_rejected": 0,
        "values_dropped": 0,
        "errors_files": [],
        "rules_version": rules.version,
    }
    counts: Counter[str] = Counter()
    imports: dict[Any, DataImport] = {}
    gated: list[pd.DataFrame] = []
    for data_import, raw, result in cleansed_sheets(session, ctx, keep=True):
        problems = result.problems
        mark_problems(session=session, data_import_id=data_import.id, problems=problems)
        rejected = int((problems["severity"] == ROW_REJECTED).sum()) if len(problems) else 0
        metrics["rows"] += len(raw)
        metrics["rows_rejected"] += rejected
        metrics["values_dropped"] += len(problems) - rejected
        data_import.rejected_count = (data_import.rejected_count or 0) + rejected
        imports[data_import.id] = data_import
        counts.update(result.counts)
        gated.append(gate_columns(result.assets))
    metrics["rules"] = dict(sorted(counts.items()))
    for data_import in imports.values():
        problems = load_problems(session=session, data_import_id=data_import.id)
        if problems.empty:
            continue
        path = write_errors_file(
            path=errors_file_path(data_import.id), source_name=data_import.source_name, problems=problems
        )
        data_import.errors_file = str(path)
        metrics["errors_files"].append(str(path))
    if gated:
        validation = validate_frame(GATE_SUITE, pd.concat(gated, ignore_index=True))
        metrics["quality_gate"] = gate_summary(validation)
        if not validation["success"]:
            raise QualityGateFailed(GATE_SUITE, validation)
    return metrics


data_cleansing = step_task(DISCOVERY, "data_cleansing", cleanse_imports)
